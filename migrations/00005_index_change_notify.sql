-- Readers that cache what they read from the index (the API server's read cache) learn of every
-- change by LISTEN on channel 'ug_index_changed': one notification per transaction that touched
-- the proposals or their approvals (PostgreSQL folds equal notifications of one transaction),
-- sent at commit, so a reader never sees the notification before the change is visible.

-- +goose Up

-- +goose StatementBegin
CREATE FUNCTION ug_notify_index_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ug_index_changed', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER upgrade_proposals_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON upgrade_proposals
    FOR EACH STATEMENT EXECUTE FUNCTION ug_notify_index_changed();
CREATE TRIGGER approval_history_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON approval_history
    FOR EACH STATEMENT EXECUTE FUNCTION ug_notify_index_changed();

-- +goose Down
DROP TRIGGER approval_history_notify ON approval_history;
DROP TRIGGER upgrade_proposals_notify ON upgrade_proposals;
DROP FUNCTION ug_notify_index_changed();
