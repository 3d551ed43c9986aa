-- Upgrade proposals and the approvals that moved them. The chain is the source of truth; these
-- rows are its index, written by idempotent activities and by the indexer.

-- +goose Up

-- Solana addresses and transaction signatures are base58 text; anything else is a bug upstream.
CREATE DOMAIN solana_pubkey AS text
    CHECK (VALUE ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$');
CREATE DOMAIN solana_signature AS text
    CHECK (VALUE ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$');

CREATE TABLE upgrade_proposals (
    address                  solana_pubkey PRIMARY KEY,
    multisig                 solana_pubkey NOT NULL,
    proposal_index           bigint        NOT NULL CHECK (proposal_index >= 0),
    target_program           solana_pubkey NOT NULL,
    buffer                   solana_pubkey NOT NULL,
    -- solana-verify's convention: SHA-256 of the ELF, trailing zero bytes stripped, lower-case hex.
    buffer_hash              text          NOT NULL CHECK (buffer_hash ~ '^[0-9a-f]{64}$'),
    proposer                 solana_pubkey NOT NULL,
    description              text          NOT NULL DEFAULT '',
    status                   text          NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'approved', 'executed', 'cancelled', 'expired')),
    approvals                integer       NOT NULL DEFAULT 0 CHECK (approvals >= 0),
    threshold                integer       NOT NULL CHECK (threshold >= 1),
    eta                      timestamptz,
    -- Layout version the governed program's accounts migrate to; NULL when no migration is declared.
    migration_target_version integer CHECK (migration_target_version >= 1),
    workflow_id              text UNIQUE CHECK (workflow_id <> ''),
    propose_signature        solana_signature UNIQUE,
    execute_signature        solana_signature UNIQUE,
    created_at               timestamptz   NOT NULL DEFAULT now(),
    approved_at              timestamptz,
    executed_at              timestamptz,
    closed_at                timestamptz,
    updated_at               timestamptz   NOT NULL DEFAULT now(),

    UNIQUE (multisig, proposal_index),
    -- Reaching the threshold is what approves a proposal, and approval is what starts the timelock.
    CONSTRAINT approved_has_quorum CHECK (
        status NOT IN ('approved', 'executed')
        OR (approvals >= threshold AND eta IS NOT NULL AND approved_at IS NOT NULL)),
    -- An execution is a transaction on chain: no signature, no execution.
    CONSTRAINT executed_has_signature CHECK (
        (status = 'executed') = (execute_signature IS NOT NULL AND executed_at IS NOT NULL)),
    CONSTRAINT closed_when_cancelled_or_expired CHECK (
        (status IN ('cancelled', 'expired')) = (closed_at IS NOT NULL))
);

CREATE INDEX upgrade_proposals_target_program_idx ON upgrade_proposals (target_program, created_at DESC);
CREATE INDEX upgrade_proposals_status_idx ON upgrade_proposals (status, created_at DESC);

-- +goose StatementBegin
-- What a proposal is (who proposed which buffer for which program) never changes once indexed;
-- its status only moves forward, the way the on-chain program moves it; approvals never drop.
CREATE FUNCTION upgrade_proposals_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.address, NEW.multisig, NEW.proposal_index, NEW.target_program, NEW.buffer,
        NEW.buffer_hash, NEW.proposer)
       IS DISTINCT FROM
       (OLD.address, OLD.multisig, OLD.proposal_index, OLD.target_program, OLD.buffer,
        OLD.buffer_hash, OLD.proposer) THEN
        RAISE EXCEPTION 'proposal %: identity (multisig, index, program, buffer, hash, proposer) is immutable',
            OLD.address USING ERRCODE = 'UG002';
    END IF;
    IF NEW.status <> OLD.status AND NOT (
           OLD.status = 'active'
        OR (OLD.status = 'approved' AND NEW.status IN ('executed', 'cancelled', 'expired'))) THEN
        RAISE EXCEPTION 'proposal %: status % cannot become %', OLD.address, OLD.status, NEW.status
            USING ERRCODE = 'UG001';
    END IF;
    IF NEW.approvals < OLD.approvals THEN
        RAISE EXCEPTION 'proposal %: approvals cannot drop from % to %', OLD.address, OLD.approvals,
            NEW.approvals USING ERRCODE = 'UG001';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER upgrade_proposals_guard BEFORE UPDATE ON upgrade_proposals
    FOR EACH ROW EXECUTE FUNCTION upgrade_proposals_guard();

CREATE TABLE approval_history (
    id          bigserial PRIMARY KEY,
    proposal    solana_pubkey    NOT NULL REFERENCES upgrade_proposals (address),
    member      solana_pubkey    NOT NULL,
    signature   solana_signature NOT NULL,
    slot        bigint           NOT NULL CHECK (slot >= 0),
    approved_at timestamptz      NOT NULL DEFAULT now(),
    recorded_at timestamptz      NOT NULL DEFAULT now(),
    -- The program lets a member approve once; a second row would be a replayed event.
    UNIQUE (proposal, member)
);

CREATE INDEX approval_history_signature_idx ON approval_history (signature);

-- +goose Down
DROP TABLE approval_history;
DROP TABLE upgrade_proposals;
DROP FUNCTION upgrade_proposals_guard();
DROP DOMAIN solana_signature;
DROP DOMAIN solana_pubkey;
