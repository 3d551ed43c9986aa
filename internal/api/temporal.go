package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// workflowStatus is Temporal's execution status in lower case ("running", "completed", ...).
func workflowStatus(s enums.WorkflowExecutionStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "WORKFLOW_EXECUTION_STATUS_"))
}

// describe returns the workflow's latest run, or nil when there is none.
func (s *Server) describe(ctx context.Context, id string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	d, err := s.temporal.DescribeWorkflowExecution(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe workflow %s: %w", id, err)
	}
	return d, nil
}

func isRunning(d *workflowservice.DescribeWorkflowExecutionResponse) bool {
	return d != nil && d.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// proposalWorkflow describes a proposal's workflow and asks for its live state; a query that
// does not answer in time leaves State nil and says why. nil means there is no workflow.
func (s *Server) proposalWorkflow(ctx context.Context, id string) (*WorkflowView, error) {
	d, err := s.describe(ctx, id)
	if err != nil || d == nil {
		return nil, err
	}
	info := d.GetWorkflowExecutionInfo()
	v := &WorkflowView{ID: id, RunID: info.GetExecution().GetRunId(), Status: workflowStatus(info.GetStatus())}
	qctx, cancel := context.WithTimeout(ctx, s.limits.QueryTimeout)
	defer cancel()
	var st workflows.ProposalState
	if err := s.query(qctx, id, workflows.QueryStatus, &st); err != nil {
		v.QueryError = err.Error()
	} else {
		v.State = stateView(st)
	}
	return v, nil
}

func (s *Server) query(ctx context.Context, id, name string, out any) error {
	val, err := s.temporal.QueryWorkflow(ctx, id, "", name)
	if err != nil {
		var deadline *serviceerror.DeadlineExceeded
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &deadline) {
			return errors.New("the workflow did not answer its query in time (is a worker running?)")
		}
		return fmt.Errorf("query %s: %w", name, err)
	}
	if err := val.Get(out); err != nil {
		return fmt.Errorf("decode %s query: %w", name, err)
	}
	return nil
}

// proposalInput reads the input a proposal workflow was started with (its first event).
func (s *Server) proposalInput(ctx context.Context, id string) (workflows.ProposalInput, error) {
	var in workflows.ProposalInput
	it := s.temporal.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return in, fmt.Errorf("history of %s is empty", id)
	}
	ev, err := it.Next()
	if err != nil {
		return in, fmt.Errorf("history of %s: %w", id, err)
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil {
		return in, fmt.Errorf("history of %s does not start with its start event", id)
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(attrs.GetInput(), &in); err != nil {
		return in, fmt.Errorf("input of %s: %w", id, err)
	}
	return in, nil
}

// start starts a workflow unless one with the ID exists (running, or closed and not to be
// repeated): then it returns that one's run and started=false. A retried request is so
// idempotent.
func (s *Server) start(ctx context.Context, opts client.StartWorkflowOptions, wf any, arg any) (runID string, started bool, err error) {
	opts.WorkflowExecutionErrorWhenAlreadyStarted = true
	run, err := s.temporal.ExecuteWorkflow(ctx, opts, wf, arg)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return already.RunId, false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("start workflow %s: %w", opts.ID, err)
	}
	return run.GetRunID(), true, nil
}

// updateError sorts an approve update's failure: a rejection by the workflow's validator (or
// a workflow not collecting approvals) is the caller's conflict; a failed send of the
// transaction is the chain refusing it.
func updateError(err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return newError(http.StatusNotFound, CodeWorkflowNotFound, "",
			"no running workflow for this proposal (start it with POST /proposals)")
	}
	var actErr *temporal.ActivityError
	if errors.As(err, &actErr) {
		var appErr *temporal.ApplicationError
		if errors.As(actErr, &appErr) {
			switch appErr.Type() {
			case activities.ErrTypeProgram:
				return newError(http.StatusUnprocessableEntity, CodeProgramError, "transaction", "%s", appErr.Message())
			case activities.ErrTypeInvalidTransaction:
				return newError(http.StatusUnprocessableEntity, CodeTransactionFailed, "transaction", "%s", appErr.Message())
			case activities.ErrTypePaused:
				return newError(http.StatusConflict, CodeInvalidState, "", "the system is paused")
			}
		}
		return newError(http.StatusBadGateway, CodeRPCUnavailable, "", "sending the approval failed: %v", actErr)
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return newError(http.StatusConflict, CodeUpdateRejected, "", "%s", appErr.Message())
	}
	return err
}
