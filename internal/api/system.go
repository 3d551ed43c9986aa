package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gagliardetto/solana-go"
	"github.com/gin-gonic/gin"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// SystemResponse answers pause and resume.
type SystemResponse struct {
	Multisig  string `json:"multisig"`
	Signature string `json:"signature"`
	Paused    bool   `json:"paused"`
	// Signalled lists the proposal workflows told that the system resumed.
	Signalled []string `json:"signalled,omitempty"`
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
	ms, err := s.governedMultisig(ctx, ix.Multisig, "transaction")
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
	if ms.Paused {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "", "multisig %s is already paused", ix.Multisig))
		return
	}
	sig, err := s.chain.SendSigned(ctx, tx.tx)
	if err != nil {
		respond(c, fmt.Errorf("submit pause of %s: %w", ix.Multisig, err))
		return
	}
	if err := s.audit(c, store.AuditEntry{
		Actor: ix.Pauser.String(), Action: ActionSystemPaused, Signature: sig.String(),
		Details: map[string]any{"multisig": ix.Multisig.String()},
	}); err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, SystemResponse{Multisig: ix.Multisig.String(), Signature: sig.String(), Paused: true})
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
	ms, err := s.governedMultisig(ctx, ix.Multisig, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	// The program's quorum: distinct current members among the signers; another signer (a
	// fee payer) neither counts nor is refused.
	if n := lifecycle.ResumeSigners(ms.Members, ix.Signers); n < int(ms.Threshold) {
		respond(c, newError(http.StatusForbidden, CodeBelowThreshold, "transaction",
			"%d distinct members signed; resuming needs the threshold of %d (other signers do not count)", n, ms.Threshold))
		return
	}
	if err := s.checkNotReplayed(ctx, tx, "transaction"); err != nil {
		respond(c, err)
		return
	}
	if !ms.Paused {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "", "multisig %s is not paused", ix.Multisig))
		return
	}
	sig, err := s.chain.SendSigned(ctx, tx.tx)
	if err != nil {
		respond(c, fmt.Errorf("submit resume of %s: %w", ix.Multisig, err))
		return
	}
	if err := s.audit(c, store.AuditEntry{
		Actor: firstMember(ms, ix.Signers).String(), Action: ActionSystemResumed, Signature: sig.String(),
		Details: map[string]any{"multisig": ix.Multisig.String(), "signers": keys(ix.Signers)},
	}); err != nil {
		respond(c, err)
		return
	}
	// The resume is on chain whatever happens next; waiting workflows also poll, so a
	// signal that fails only delays them.
	signalled, err := s.signalResumed(ctx, ix.Multisig)
	if err != nil {
		logger(c).Warn("signal workflows after resume", "multisig", ix.Multisig, "error", err)
	}
	c.JSON(http.StatusOK, SystemResponse{Multisig: ix.Multisig.String(), Signature: sig.String(), Paused: false, Signalled: signalled})
}

// firstMember is the first signer who is a member (the quorum guarantees one).
func firstMember(ms *governor.Multisig, signers []solana.PublicKey) solana.PublicKey {
	for _, k := range signers {
		if ms.IsMember(k) {
			return k
		}
	}
	return signers[0]
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
