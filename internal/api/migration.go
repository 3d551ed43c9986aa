package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

type startMigrationBody struct {
	Proposal string             `json:"proposal"`
	Plan     *MigrationPlanBody `json:"plan"`
}

// StartMigrationResponse answers POST /migration/start.
type StartMigrationResponse struct {
	ID       string `json:"id"`
	Proposal string `json:"proposal"`
	RunID    string `json:"run_id"`
	// Created is false when the migration workflow already existed (started by the
	// proposal's workflow, or by an earlier request); a failed one is started again.
	Created bool `json:"created"`
}

func (s *Server) startMigration(c *gin.Context) {
	ctx := c.Request.Context()
	tok, err := s.authenticate(ctx, c, operatorRoles)
	if err != nil {
		respond(c, err)
		return
	}
	var body startMigrationBody
	if err := bindJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	addr, err := pubkeyField("proposal", body.Proposal)
	if err != nil {
		respond(c, err)
		return
	}
	var given *activities.MigrationPlan
	if body.Plan != nil {
		// A malformed plan is refused before the chain is read.
		p, err := body.Plan.plan("plan")
		if err != nil {
			respond(c, err)
			return
		}
		given = &p
	}
	p, err := s.chain.GetProposal(ctx, addr)
	if errors.Is(err, chain.ErrAccountNotFound) {
		respond(c, newError(http.StatusNotFound, CodeProposalNotFound, "proposal", "proposal %s does not exist on chain", addr))
		return
	}
	if err != nil {
		respond(c, chainReadError(err, "proposal", "proposal %s", addr))
		return
	}
	if err := s.requireServed(ctx, p.Multisig, "proposal"); err != nil {
		respond(c, err)
		return
	}
	if p.Status != governor.ProposalExecuted {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "proposal", "proposal %s is %s; migrations run after execution", addr, chainStatus(p.Status)))
		return
	}
	if p.Migration == nil {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "proposal", "proposal %s declares no migration", addr))
		return
	}
	// A plan runs only on the code its proposal deployed: once a later upgrade of the program
	// executed, the program refuses it (MigrationPlanSuperseded), so no workflow is started.
	gp, err := s.chain.GetGovernedProgram(ctx, p.Multisig, p.TargetProgram)
	if err != nil {
		respond(c, chainReadError(err, "proposal", "governed program record of %s", p.TargetProgram))
		return
	}
	if !gp.LastExecutedProposal.Equals(addr) {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "proposal",
			"proposal %s's migration plan is superseded: proposal %s upgraded %s since, and the plan was written for the code it replaced",
			addr, gp.LastExecutedProposal, p.TargetProgram))
		return
	}
	// The plan is the one the members signed with the proposal; a plan in the body, when
	// given, must say the same (it cannot select other accounts).
	plan := *activities.PlanOf(p.Migration)
	if given != nil {
		if err := planMismatch("plan", *given, plan); err != nil {
			respond(c, err)
			return
		}
	}
	id := workflows.MigrationWorkflowID(addr.String())
	runID, created, err := s.start(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: s.cfg.TaskQueue,
		// A failed migration may run again (accounts already migrated are skipped); a
		// completed or running one is not started twice.
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		StaticSummary:         fmt.Sprintf("Migrate accounts of %s after %s", p.TargetProgram, addr),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SAProgram.ValueSet(p.TargetProgram.String()),
			workflows.SAMultisig.ValueSet(p.Multisig.String()),
		),
	}, workflows.MigrationWorkflow, workflows.MigrationInput{
		JobID: id, Proposal: addr.String(), Multisig: p.Multisig.String(),
		TargetProgram: p.TargetProgram.String(), Plan: plan,
	})
	if err != nil {
		respond(c, err)
		return
	}
	if created {
		if err := s.audit(c, store.AuditEntry{
			Actor: tok.Name, Action: ActionMigrationRequested, Proposal: addr.String(),
			Details: map[string]any{"workflow_id": id, "run_id": runID, "target_version": plan.TargetVersion},
		}); err != nil {
			respond(c, err)
			return
		}
	}
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	c.JSON(status, StartMigrationResponse{ID: id, Proposal: addr.String(), RunID: runID, Created: created})
}

// MigrationResponse is a migration's progress, live and indexed.
type MigrationResponse struct {
	ID string `json:"id"`
	// Workflow status (running, completed, ...); empty when Temporal has no such workflow.
	WorkflowStatus string              `json:"workflow_status,omitempty"`
	RunID          string              `json:"run_id,omitempty"`
	State          *MigrationStateView `json:"state"`
	QueryError     string              `json:"query_error,omitempty"`
	// Job is the index's count of the job's accounts; null before the accounts are listed.
	Job *JobProgressView `json:"job"`
}

// Job IDs are workflow IDs ("migration-<proposal>") or UUIDs.
var jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,255}$`)

func (s *Server) getMigration(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	if !jobIDPattern.MatchString(id) {
		respond(c, invalidField("id", "not a migration job id"))
		return
	}
	out := MigrationResponse{ID: id}
	d, err := s.describe(ctx, id)
	if err != nil {
		respond(c, err)
		return
	}
	if d != nil {
		info := d.GetWorkflowExecutionInfo()
		out.WorkflowStatus, out.RunID = workflowStatus(info.GetStatus()), info.GetExecution().GetRunId()
		qctx, cancel := context.WithTimeout(ctx, s.limits.QueryTimeout)
		var st workflows.MigrationState
		if err := s.query(qctx, id, workflows.QueryProgress, &st); err != nil {
			out.QueryError = err.Error()
		} else {
			out.State = migrationStateView(st)
		}
		cancel()
	}
	p, err := s.store.JobProgress(ctx, id)
	switch {
	case err == nil:
		out.Job = &JobProgressView{Status: string(p.Status), StoppedAt: p.StoppedAt, Total: p.Total,
			Pending: p.Pending, Migrated: p.Migrated, Failed: p.Failed, Skipped: p.Skipped}
	case !errors.Is(err, store.ErrNotFound):
		respond(c, err)
		return
	}
	if d == nil && out.Job == nil {
		respond(c, newError(http.StatusNotFound, CodeNotFound, "id", "no migration %s", id))
		return
	}
	c.JSON(http.StatusOK, out)
}
