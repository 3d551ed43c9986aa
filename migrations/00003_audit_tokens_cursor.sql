-- The append-only audit trail, operator API tokens, and the indexer's position per stream.

-- +goose Up

CREATE TABLE audit_log (
    id        bigserial   PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text        NOT NULL CHECK (actor <> ''),
    action    text        NOT NULL CHECK (action ~ '^[a-z][a-z_]*\.[a-z][a-z_]*$'),
    -- No foreign key: the trail must accept an event about a proposal the index has not caught
    -- up with yet.
    proposal  solana_pubkey,
    signature solana_signature,
    slot      bigint CHECK (slot >= 0),
    source    text        NOT NULL CHECK (source IN ('api', 'worker', 'indexer', 'cli')),
    details   jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object')
);

-- One row per (transaction, action): re-indexing an event, or an activity retried after its
-- commit, appends nothing.
CREATE UNIQUE INDEX audit_log_signature_action_key ON audit_log (signature, action)
    WHERE signature IS NOT NULL;
CREATE INDEX audit_log_proposal_idx ON audit_log (proposal, id) WHERE proposal IS NOT NULL;
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'UG003';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE api_tokens (
    id         bigserial   PRIMARY KEY,
    name       text        NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    -- SHA-256 of the bearer token; the token itself is shown once and never stored.
    token_hash bytea       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    role       text        NOT NULL CHECK (role IN ('operator', 'guardian')),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz CHECK (revoked_at >= created_at)
);

-- A name points at one live token; revoked ones keep their name for the audit trail.
CREATE UNIQUE INDEX api_tokens_live_name_key ON api_tokens (name) WHERE revoked_at IS NULL;

-- +goose StatementBegin
-- Only revocation changes a token, and only once.
CREATE FUNCTION api_tokens_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.name, NEW.token_hash, NEW.role, NEW.created_at) IS DISTINCT FROM
       (OLD.id, OLD.name, OLD.token_hash, OLD.role, OLD.created_at)
       OR (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at) THEN
        RAISE EXCEPTION 'api token %: only an unrevoked token can change, and only by revocation', OLD.id
            USING ERRCODE = 'UG002';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER api_tokens_guard BEFORE UPDATE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION api_tokens_guard();

CREATE TABLE indexer_cursor (
    program        solana_pubkey    NOT NULL,
    -- e.g. 'events' or 'transactions': one position per thing the indexer follows.
    stream         text             NOT NULL CHECK (stream ~ '^[a-z][a-z0-9_]*$'),
    last_signature solana_signature NOT NULL,
    last_slot      bigint           NOT NULL CHECK (last_slot >= 0),
    updated_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (program, stream)
);

-- +goose Down
DROP TABLE indexer_cursor;
DROP TABLE api_tokens;
DROP FUNCTION api_tokens_guard();
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
