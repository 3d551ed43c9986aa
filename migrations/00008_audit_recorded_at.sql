-- An audit row's `at` is when the action happened: the chain's clock for what the chain did
-- (block time, or the program's clock read by the worker) and the server's otherwise, and test
-- chains move the chain's clock by time travel. `recorded_at` is when the row was written (the
-- trail's order, with id), and `at_clock` says which clock `at` is. Rows written before this
-- migration say 'server'.

-- +goose Up
ALTER TABLE audit_log
    ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN at_clock    text        NOT NULL DEFAULT 'server' CHECK (at_clock IN ('chain', 'server'));

-- +goose Down
ALTER TABLE audit_log DROP COLUMN at_clock, DROP COLUMN recorded_at;
