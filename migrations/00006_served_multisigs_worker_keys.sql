-- What this deployment serves and what it spends. The operator lists the multisigs whose
-- proposals the API accepts and whose transactions the worker pays for; anything else is refused
-- before a workflow starts, and the indexer ignores its events. The worker records the public
-- keys it holds (the fee payer that pays execute, ExtendProgram rent and migrations, and the
-- guardian that signs only its own emergency cancels), so the API can report their balances.

-- +goose Up

CREATE TABLE served_multisigs (
    address   solana_pubkey PRIMARY KEY,
    -- A name the operator recognises ("treasury-programs"); shown in listings, never trusted.
    label     text          NOT NULL DEFAULT '' CHECK (length(label) <= 64),
    served_at timestamptz   NOT NULL DEFAULT now(),
    served_by text          NOT NULL CHECK (served_by <> '')
);

CREATE TABLE worker_keys (
    address       solana_pubkey PRIMARY KEY,
    role          text          NOT NULL CHECK (role IN ('fee_payer', 'guardian')),
    registered_at timestamptz   NOT NULL DEFAULT now(),
    -- Refreshed by a running worker; keys not seen for a day are no longer reported.
    last_seen_at  timestamptz   NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE worker_keys;
DROP TABLE served_multisigs;
