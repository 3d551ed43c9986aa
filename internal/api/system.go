package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gin-gonic/gin"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// SystemResponse answers pause and resume. Pausing, holding a pause and resuming are votes of
// single members, each in a transaction of its own (internal/lifecycle).
type SystemResponse struct {
	Multisig  string `json:"multisig"`
	Signature string `json:"signature"`
	// Paused is the effective pause after the transaction (a lapsed pause is no pause).
	Paused bool `json:"paused"`
	// PauseExpiresAt is when the pause lapses unless threshold members hold it; null when not
	// paused or held until resumed.
	PauseExpiresAt *time.Time `json:"pause_expires_at"`
	// Votes counts the current members who voted for this action so far (pause holders or
	// resume votes), of Threshold.
	Votes     int `json:"votes"`
	Threshold int `json:"threshold"`
	// Signalled lists the workflows told that the system resumed.
	Signalled []string `json:"signalled,omitempty"`
}

// systemState reads a multisig and the chain's clock: its pause is effective only until it
// lapses.
func (s *Server) systemState(ctx context.Context, multisig solana.PublicKey, field string) (*governor.Multisig, int64, error) {
	ms, err := s.governedMultisig(ctx, multisig, field)
	if err != nil {
		return nil, 0, err
	}
	now, err := s.chain.ChainTime(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("read the chain's clock: %w", err)
	}
	return ms, now, nil
}

func systemResponse(multisig solana.PublicKey, sig string, ms *governor.Multisig, now int64, voters []solana.PublicKey) SystemResponse {
	out := SystemResponse{Multisig: multisig.String(), Signature: sig, Paused: ms.IsPaused(now),
		Votes: lifecycle.MemberVotes(ms.Members, voters), Threshold: int(ms.Threshold)}
	if out.Paused && ms.PauseExpiresAt != math.MaxInt64 {
		t := time.Unix(ms.PauseExpiresAt, 0).UTC()
		out.PauseExpiresAt = &t
	}
	return out
}

func (s *Server) pauseSystem(c *gin.Context) {
	ctx := c.Request.Context()
	var body transactionBody
	if err := bindJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	tx, err := parseSignedTx(body.Transaction, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	ix, err := expectInstruction[*governor.PauseSystem](tx, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	ms, now, err := s.systemState(ctx, ix.Multisig, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	if err := requireMember(ms, ix.Pauser, true, "transaction"); err != nil {
		respond(c, err)
		return
	}
	if err := s.checkNotReplayed(ctx, tx, "transaction"); err != nil {
		respond(c, err)
		return
	}
	if err := lifecycle.CanPause(ms, ix.Pauser, now); err != nil {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "transaction", "%v", err))
		return
	}
	sig, err := s.chain.SendSigned(ctx, tx.tx)
	if err != nil {
		respond(c, fmt.Errorf("submit pause of %s: %w", ix.Multisig, err))
		return
	}
	after, now, err := s.systemState(ctx, ix.Multisig, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	out := systemResponse(ix.Multisig, sig.String(), after, now, after.PauseVotes)
	if err := s.audit(c, store.AuditEntry{
		Actor: ix.Pauser.String(), Action: ActionSystemPaused, Signature: sig.String(),
		Details: map[string]any{"multisig": ix.Multisig.String(), "votes": out.Votes, "threshold": out.Threshold,
			"held": after.PauseExpiresAt == math.MaxInt64},
	}); err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) resumeSystem(c *gin.Context) {
	ctx := c.Request.Context()
	var body transactionBody
	if err := bindJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	tx, err := parseSignedTx(body.Transaction, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	ix, err := expectInstruction[*governor.ResumeSystem](tx, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	ms, now, err := s.systemState(ctx, ix.Multisig, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	if err := requireMember(ms, ix.Member, false, "transaction"); err != nil {
		respond(c, err)
		return
	}
	if err := s.checkNotReplayed(ctx, tx, "transaction"); err != nil {
		respond(c, err)
		return
	}
	if err := lifecycle.CanVoteResume(ms, ix.Member, now); err != nil {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "transaction", "%v", err))
		return
	}
	votesBefore := ms.ResumeVotes
	sig, err := s.chain.SendSigned(ctx, tx.tx)
	if err != nil {
		respond(c, fmt.Errorf("submit resume vote on %s: %w", ix.Multisig, err))
		return
	}
	after, now, err := s.systemState(ctx, ix.Multisig, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	voters := append(votesBefore, ix.Member)
	if after.IsPaused(now) {
		voters = after.ResumeVotes
	}
	out := systemResponse(ix.Multisig, sig.String(), after, now, voters)
	action := ActionResumeVoted
	if !out.Paused {
		action = ActionSystemResumed
	}
	if err := s.audit(c, store.AuditEntry{
		Actor: ix.Member.String(), Action: action, Signature: sig.String(),
		Details: map[string]any{"multisig": ix.Multisig.String(), "votes": out.Votes, "threshold": out.Threshold},
	}); err != nil {
		respond(c, err)
		return
	}
	if !out.Paused {
		// The resume is on chain whatever happens next; waiting workflows also poll, so a
		// signal that fails only delays them.
		signalled, err := s.signalResumed(ctx, ix.Multisig)
		if err != nil {
			logger(c).Warn("signal workflows after resume", "multisig", ix.Multisig, "error", err)
		}
		out.Signalled = signalled
	}
	c.JSON(http.StatusOK, out)
}

// signalResumed tells every running proposal and migration workflow of the multisig that it
// resumed.
func (s *Server) signalResumed(ctx context.Context, multisig solana.PublicKey) ([]string, error) {
	// Proposal workflows wait out a pause, and so do migrations (which carry the multisig's
	// search attribute since they are started with it): both stop waiting on the signal.
	query := fmt.Sprintf("(WorkflowType = 'UpgradeProposalWorkflow' OR WorkflowType = 'MigrationWorkflow') AND ExecutionStatus = 'Running' AND %s = '%s'",
		workflows.SAMultisig.GetName(), multisig)
	signalled := []string{}
	var token []byte
	for {
		resp, err := s.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: query, NextPageToken: token, PageSize: 100,
		})
		if err != nil {
			return signalled, fmt.Errorf("list workflows of %s: %w", multisig, err)
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			if err := s.temporal.SignalWorkflow(ctx, id, "", workflows.SignalResumed, nil); err != nil {
				if isNotFound(err) {
					continue // finished since the listing
				}
				return signalled, fmt.Errorf("signal %s: %w", id, err)
			}
			signalled = append(signalled, id)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return signalled, nil
		}
	}
}
