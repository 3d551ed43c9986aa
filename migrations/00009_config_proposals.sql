-- Config proposals (issue #17): a proposal either upgrades a program or changes its multisig
-- (members, threshold, timelock, lifetime, grace, guardian, a program's upgrade authority). A
-- config proposal's row carries the system program's address as target_program and buffer and
-- a zero hash (what the Proposal account holds), and its actions as JSON.
-- multisig_configs keeps each served multisig's configuration history: who was a member when.

-- +goose Up
ALTER TABLE upgrade_proposals
    ADD COLUMN kind           text  NOT NULL DEFAULT 'upgrade' CHECK (kind IN ('upgrade', 'config')),
    ADD COLUMN config_actions jsonb,
    ADD CONSTRAINT config_proposal_has_actions CHECK (
        (kind = 'config') = (config_actions IS NOT NULL AND jsonb_typeof(config_actions) = 'array'));

-- +goose StatementBegin
-- What a proposal does never changes once indexed (as the columns upgrade_proposals_guard holds).
CREATE FUNCTION upgrade_proposals_kind_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.kind, NEW.config_actions) IS DISTINCT FROM (OLD.kind, OLD.config_actions) THEN
        RAISE EXCEPTION 'proposal %: kind and config actions never change', OLD.address
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER upgrade_proposals_kind_guard BEFORE UPDATE ON upgrade_proposals
    FOR EACH ROW EXECUTE FUNCTION upgrade_proposals_kind_guard();

CREATE TABLE multisig_configs (
    multisig                  solana_pubkey    NOT NULL,
    -- The transaction that set this configuration: the creation, or an executed config proposal.
    signature                 solana_signature NOT NULL,
    slot                      bigint           NOT NULL CHECK (slot >= 0),
    -- The config proposal that set it; NULL for the creation.
    proposal                  solana_pubkey,
    effective_at              timestamptz      NOT NULL,
    members                   text[]           NOT NULL CHECK (cardinality(members) >= 1),
    threshold                 integer          NOT NULL CHECK (threshold >= 1 AND threshold <= cardinality(members)),
    timelock_seconds          bigint           NOT NULL CHECK (timelock_seconds > 0),
    proposal_lifetime_seconds bigint           NOT NULL CHECK (proposal_lifetime_seconds > 0),
    -- NULL for the creation: MultisigInitialized does not carry it.
    grace_seconds             bigint           CHECK (grace_seconds > 0),
    guardian                  solana_pubkey    NOT NULL,
    -- Proposals with an index up to this one were made stale by this change.
    stale_proposal_index      bigint           NOT NULL DEFAULT 0 CHECK (stale_proposal_index >= 0),
    recorded_at               timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (multisig, signature)
);

CREATE INDEX multisig_configs_history_idx ON multisig_configs (multisig, slot DESC);

-- +goose Down
DROP TABLE multisig_configs;
DROP TRIGGER upgrade_proposals_kind_guard ON upgrade_proposals;
DROP FUNCTION upgrade_proposals_kind_guard();
ALTER TABLE upgrade_proposals DROP CONSTRAINT config_proposal_has_actions,
    DROP COLUMN config_actions, DROP COLUMN kind;
