-- The status moves the index accepts are internal/lifecycle's, and the store's test checks every
-- pair of statuses against lifecycle.CanMove. An unknown status is left to the status CHECK;
-- an approved proposal expires when it was not executed by eta + grace (execute_by).

-- +goose Up

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION upgrade_proposals_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.address, NEW.multisig, NEW.proposal_index, NEW.target_program, NEW.buffer,
        NEW.buffer_hash, NEW.proposer)
       IS DISTINCT FROM
       (OLD.address, OLD.multisig, OLD.proposal_index, OLD.target_program, OLD.buffer,
        OLD.buffer_hash, OLD.proposer) THEN
        RAISE EXCEPTION 'proposal %: identity (multisig, index, program, buffer, hash, proposer) is immutable',
            OLD.address USING ERRCODE = 'UG002';
    END IF;
    -- An unknown status is left to the status CHECK (invalid value, not a move).
    IF NEW.status <> OLD.status
       AND NEW.status IN ('active', 'approved', 'executed', 'cancelled', 'expired') AND NOT (
           (OLD.status = 'active' AND NEW.status IN ('approved', 'executed', 'cancelled', 'expired'))
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

-- +goose Down

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION upgrade_proposals_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
