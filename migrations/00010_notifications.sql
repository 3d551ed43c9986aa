-- Notifications (issue #21): webhook subscriptions of a multisig or a program, the events the
-- audit trail gives rise to, and one delivery row per (subscription, event), which the worker's
-- delivery workflow sends in order and marks delivered or failed.
--
-- notification_outbox holds the audit rows not yet turned into events: the store adds a row in
-- the same transaction as each audit row of a notified action, so nothing is skipped by a
-- reader that polls while older transactions are still committing.

-- +goose Up
CREATE TABLE notification_subscriptions (
    id                 bigserial   PRIMARY KEY,
    name               text        NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    url                text        NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
    -- The scope: a multisig's every event, or a program's (its proposals and the multisig-wide
    -- events of the multisigs that propose its upgrades).
    multisig           solana_pubkey,
    program            solana_pubkey,
    -- Event types to send; empty means every type.
    events             text[]      NOT NULL DEFAULT '{}',
    format             text        NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack', 'discord')),
    -- proposal.eta_reminder is sent this many hours before eta (NULL: no reminder).
    eta_reminder_hours integer     CHECK (eta_reminder_hours BETWEEN 1 AND 2160),
    max_attempts       integer     NOT NULL DEFAULT 25 CHECK (max_attempts BETWEEN 1 AND 100),
    -- The HMAC-SHA256 key. It is shown once at creation and read only to sign a delivery.
    secret             text        NOT NULL CHECK (length(secret) >= 32),
    status             text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'deleted')),
    created_by         text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((multisig IS NULL) <> (program IS NULL))
);

CREATE INDEX notification_subscriptions_multisig_idx ON notification_subscriptions (multisig) WHERE status <> 'deleted';
CREATE INDEX notification_subscriptions_program_idx ON notification_subscriptions (program) WHERE status <> 'deleted';

-- No foreign keys to audit_log: its rows are never deleted, and a reference would make
-- TRUNCATE fail before the trail's own append-only trigger says why.
CREATE TABLE notification_outbox (
    audit_id bigint PRIMARY KEY
);

CREATE TABLE notification_events (
    id          bigserial     PRIMARY KEY,
    -- What happened, once: "proposal.approval:<proposal>:<member>", ...; an event seen twice
    -- (through the API and through the indexer) is one event.
    event_key   text          NOT NULL UNIQUE,
    type        text          NOT NULL CHECK (type ~ '^[a-z][a-z_]*\.[a-z][a-z_]*$'),
    multisig    solana_pubkey NOT NULL,
    -- NULL for events of the whole multisig (pause, resume, config change).
    program     solana_pubkey,
    proposal    solana_pubkey,
    audit_id    bigint,
    occurred_at timestamptz   NOT NULL,
    payload     jsonb         NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    created_at  timestamptz   NOT NULL DEFAULT now()
);

CREATE INDEX notification_events_proposal_idx ON notification_events (proposal, id) WHERE proposal IS NOT NULL;

CREATE TABLE notification_deliveries (
    id              bigserial   PRIMARY KEY,
    subscription_id bigint      NOT NULL REFERENCES notification_subscriptions (id),
    event_id        bigint      NOT NULL REFERENCES notification_events (id),
    status          text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed', 'dropped')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (subscription_id, event_id)
);

CREATE INDEX notification_deliveries_pending_idx ON notification_deliveries (subscription_id, event_id)
    WHERE status = 'pending';
CREATE INDEX notification_deliveries_subscription_idx ON notification_deliveries (subscription_id, id);

-- +goose Down
DROP TABLE notification_deliveries;
DROP TABLE notification_events;
DROP TABLE notification_outbox;
DROP TABLE notification_subscriptions;
