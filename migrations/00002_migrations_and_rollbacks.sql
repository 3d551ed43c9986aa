-- Account migration jobs, one row per affected account, and the rollbacks (emergency stops)
-- of upgrade workflows.

-- +goose Up

CREATE TABLE migration_jobs (
    -- The MigrationWorkflow's ID, or a UUID when started by an operator.
    id                text          PRIMARY KEY CHECK (id <> '' AND length(id) <= 255),
    proposal          solana_pubkey NOT NULL REFERENCES upgrade_proposals (address),
    target_program    solana_pubkey NOT NULL,
    status            text          NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    -- Kept by triggers on account_migrations, never by hand; JobProgress recounts from the rows.
    total_accounts    integer       NOT NULL DEFAULT 0 CHECK (total_accounts >= 0),
    migrated_accounts integer       NOT NULL DEFAULT 0 CHECK (migrated_accounts >= 0),
    failed_accounts   integer       NOT NULL DEFAULT 0 CHECK (failed_accounts >= 0),
    skipped_accounts  integer       NOT NULL DEFAULT 0 CHECK (skipped_accounts >= 0),
    -- Where the last run stopped (the last account of the last finished batch): a resumed run
    -- continues after it.
    stopped_at        text,
    last_error        text,
    created_at        timestamptz   NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    updated_at        timestamptz   NOT NULL DEFAULT now(),

    CHECK (migrated_accounts + failed_accounts + skipped_accounts <= total_accounts),
    -- A job is complete only when every account it recorded is migrated or skipped.
    CONSTRAINT completed_means_all_done CHECK (
        status <> 'completed' OR migrated_accounts + skipped_accounts = total_accounts),
    CONSTRAINT failed_has_error CHECK (status <> 'failed' OR last_error IS NOT NULL),
    CONSTRAINT finished_when_terminal CHECK (
        (status IN ('completed', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    CONSTRAINT started_when_running CHECK (
        status NOT IN ('running', 'completed') OR started_at IS NOT NULL)
);

CREATE INDEX migration_jobs_proposal_idx ON migration_jobs (proposal);

-- +goose StatementBegin
-- A completed job stays completed; a failed or cancelled one may run again (jobs are resumable);
-- nothing goes back to pending.
CREATE FUNCTION migration_jobs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.proposal, NEW.target_program) IS DISTINCT FROM
       (OLD.id, OLD.proposal, OLD.target_program) THEN
        RAISE EXCEPTION 'migration job %: id, proposal and program are immutable', OLD.id
            USING ERRCODE = 'UG002';
    END IF;
    IF NEW.status <> OLD.status AND NOT (
           (OLD.status = 'pending' AND NEW.status IN ('running', 'failed', 'cancelled'))
        OR (OLD.status = 'running' AND NEW.status IN ('completed', 'failed', 'cancelled'))
        OR (OLD.status IN ('failed', 'cancelled') AND NEW.status = 'running')) THEN
        RAISE EXCEPTION 'migration job %: status % cannot become %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'UG001';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER migration_jobs_guard BEFORE UPDATE ON migration_jobs
    FOR EACH ROW EXECUTE FUNCTION migration_jobs_guard();

CREATE TABLE account_migrations (
    job_id      text          NOT NULL REFERENCES migration_jobs (id),
    account     solana_pubkey NOT NULL,
    status      text          NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'migrated', 'failed', 'skipped')),
    signature   solana_signature,
    attempts    integer       NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error  text,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, account),
    CONSTRAINT migrated_has_signature CHECK (status <> 'migrated' OR signature IS NOT NULL),
    CONSTRAINT failed_has_error CHECK (status <> 'failed' OR last_error IS NOT NULL)
);

-- Batches are read in account order per status: resumable by keyset.
CREATE INDEX account_migrations_job_status_idx ON account_migrations (job_id, status, account);

-- +goose StatementBegin
-- A migrated or skipped account is done: re-running it is a no-op on chain, so the row never
-- changes back.
CREATE FUNCTION account_migrations_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.job_id, NEW.account) IS DISTINCT FROM (OLD.job_id, OLD.account) THEN
        RAISE EXCEPTION 'account migration %/%: key is immutable', OLD.job_id, OLD.account
            USING ERRCODE = 'UG002';
    END IF;
    IF OLD.status IN ('migrated', 'skipped') AND NEW.status <> OLD.status THEN
        RAISE EXCEPTION 'account migration %/%: status % cannot become %', OLD.job_id, OLD.account,
            OLD.status, NEW.status USING ERRCODE = 'UG001';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER account_migrations_guard BEFORE UPDATE ON account_migrations
    FOR EACH ROW EXECUTE FUNCTION account_migrations_guard();

-- +goose StatementBegin
-- Keeps migration_jobs' counters equal to the rows, once per statement (a batch of thousands of
-- accounts updates the job row once).
CREATE FUNCTION account_migrations_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH d AS (
            SELECT job_id,
                   count(*) AS total,
                   count(*) FILTER (WHERE status = 'migrated') AS migrated,
                   count(*) FILTER (WHERE status = 'failed') AS failed,
                   count(*) FILTER (WHERE status = 'skipped') AS skipped
              FROM new_rows GROUP BY job_id)
        UPDATE migration_jobs j
           SET total_accounts = j.total_accounts + d.total,
               migrated_accounts = j.migrated_accounts + d.migrated,
               failed_accounts = j.failed_accounts + d.failed,
               skipped_accounts = j.skipped_accounts + d.skipped
          FROM d WHERE j.id = d.job_id;
    ELSIF TG_OP = 'UPDATE' THEN
        WITH rows AS (
            SELECT job_id, status, 1 AS sign FROM new_rows
            UNION ALL
            SELECT job_id, status, -1 FROM old_rows),
        d AS (
            SELECT job_id,
                   coalesce(sum(sign) FILTER (WHERE status = 'migrated'), 0) AS migrated,
                   coalesce(sum(sign) FILTER (WHERE status = 'failed'), 0) AS failed,
                   coalesce(sum(sign) FILTER (WHERE status = 'skipped'), 0) AS skipped
              FROM rows GROUP BY job_id)
        UPDATE migration_jobs j
           SET migrated_accounts = j.migrated_accounts + d.migrated,
               failed_accounts = j.failed_accounts + d.failed,
               skipped_accounts = j.skipped_accounts + d.skipped
          FROM d WHERE j.id = d.job_id
           AND (d.migrated <> 0 OR d.failed <> 0 OR d.skipped <> 0);
    ELSE
        WITH d AS (
            SELECT job_id,
                   count(*) AS total,
                   count(*) FILTER (WHERE status = 'migrated') AS migrated,
                   count(*) FILTER (WHERE status = 'failed') AS failed,
                   count(*) FILTER (WHERE status = 'skipped') AS skipped
              FROM old_rows GROUP BY job_id)
        UPDATE migration_jobs j
           SET total_accounts = j.total_accounts - d.total,
               migrated_accounts = j.migrated_accounts - d.migrated,
               failed_accounts = j.failed_accounts - d.failed,
               skipped_accounts = j.skipped_accounts - d.skipped
          FROM d WHERE j.id = d.job_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER account_migrations_count_insert AFTER INSERT ON account_migrations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION account_migrations_count();
CREATE TRIGGER account_migrations_count_update AFTER UPDATE ON account_migrations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION account_migrations_count();
CREATE TRIGGER account_migrations_count_delete AFTER DELETE ON account_migrations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION account_migrations_count();

CREATE TABLE rollback_events (
    id               bigserial     PRIMARY KEY,
    proposal         solana_pubkey NOT NULL REFERENCES upgrade_proposals (address),
    -- The workflow step that was running when the stop came.
    stage            text          NOT NULL
        CHECK (stage IN ('verify', 'propose', 'approvals', 'timelock', 'reverify', 'execute', 'migration')),
    reason           text          NOT NULL CHECK (reason <> ''),
    actor            text          NOT NULL CHECK (actor <> ''),
    cancel_signature solana_signature UNIQUE,
    workflow_id      text CHECK (workflow_id <> ''),
    migration_job_id text REFERENCES migration_jobs (id),
    created_at       timestamptz   NOT NULL DEFAULT now(),
    -- Once executed, the upgrade is on chain: there is nothing to cancel there, only a migration
    -- to stop.
    CONSTRAINT migration_stage_has_no_cancel CHECK (stage <> 'migration' OR cancel_signature IS NULL),
    CONSTRAINT job_only_in_migration_stage CHECK (migration_job_id IS NULL OR stage = 'migration'),
    -- A retried compensation records its rollback once.
    UNIQUE (workflow_id, stage)
);

CREATE INDEX rollback_events_proposal_idx ON rollback_events (proposal, created_at);

-- +goose Down
DROP TABLE rollback_events;
DROP TABLE account_migrations;
DROP FUNCTION account_migrations_count();
DROP FUNCTION account_migrations_guard();
DROP TABLE migration_jobs;
DROP FUNCTION migration_jobs_guard();
