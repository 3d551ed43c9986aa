package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gagliardetto/solana-go"
	"go.temporal.io/sdk/temporal"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// A member's second approval is refused the same way whichever way it loses: 409
// update_rejected, as when the workflow's validator already knows the member approved. Two
// distinct approve transactions of one member racing each other (or one sent straight to RPC
// before the workflow heard of it) pass the validator together; then the later one either
// finds the approval on chain and is not sent, or is sent and refused by the program.

// alreadyApproved is the answer to a member's approval the chain already holds from another
// transaction.
func alreadyApproved(member, proposal solana.PublicKey) error {
	return newError(http.StatusConflict, CodeUpdateRejected, "",
		"member %s has already approved proposal %s with another transaction; this one was not applied", member, proposal)
}

// checkOwnApproval accepts an approve update's result only when this transaction approved:
// the activity answers without a signature when the chain already had the member's approval,
// which is this very transaction only if the cluster knows its signature (sent before a
// worker crash and retried).
func (s *Server) checkOwnApproval(ctx context.Context, tx *signedTx, proposal, member solana.PublicKey, res workflows.ApproveResult) error {
	if res.Signature == tx.SignatureString() {
		return nil
	}
	landed, err := s.chain.SignatureKnown(ctx, tx.signature)
	if err != nil {
		return fmt.Errorf("check approve %s of %s landed: %w", tx.signature, member, err)
	}
	if !landed {
		return alreadyApproved(member, proposal)
	}
	return nil
}

// approveFailed sorts a failed approve update. A transaction the program refused because
// the member's approval is already on chain gets the answer of any other second approval. An
// update cancelled with its workflow (the emergency stop) may have sent the transaction
// already: once the chain has settled it (the member's approval is there, or the proposal is
// closed so it can no longer land) the API answers what the chain says, so a member is never
// told an approval was refused that counted. Any other failure is updateError's.
func (s *Server) approveFailed(ctx context.Context, err error, tx *signedTx, proposal, member solana.PublicKey) (workflows.ApproveResult, error) {
	out := updateError(err)
	if toError(out).Code == CodeProgramError {
		p, rerr := s.chain.GetProposal(ctx, proposal)
		if rerr == nil && slices.Contains(p.Approvals, member) {
			return workflows.ApproveResult{}, alreadyApproved(member, proposal)
		}
		return workflows.ApproveResult{}, out
	}
	if !temporal.IsCanceledError(err) {
		return workflows.ApproveResult{}, out
	}
	p, err := s.settledApproval(ctx, proposal, member)
	if err != nil {
		return workflows.ApproveResult{}, err
	}
	if !slices.Contains(p.Approvals, member) {
		return workflows.ApproveResult{}, out
	}
	landed, err := s.signatureLanded(ctx, tx)
	if err != nil {
		return workflows.ApproveResult{}, fmt.Errorf("check approve %s of %s landed: %w", tx.signature, member, err)
	}
	if !landed {
		return workflows.ApproveResult{}, alreadyApproved(member, proposal)
	}
	ms, err := s.chain.GetMultisig(ctx, p.Multisig)
	if err != nil {
		return workflows.ApproveResult{}, chainReadError(err, "transaction", "multisig %s", p.Multisig)
	}
	res := workflows.ApproveResult{
		Signature: tx.SignatureString(), Approvals: len(p.Approvals), Threshold: int(ms.Threshold), Status: chainStatus(p.Status),
	}
	if p.Eta != 0 {
		eta := time.Unix(p.Eta, 0).UTC()
		res.Eta = &eta
	}
	return res, nil
}

// statusLag bounds how long the node may report a transaction's effect before its status:
// localnet shows the approval in the account a moment before getSignatureStatuses knows the
// transaction that made it.
const statusLag = 10 * time.Second

// signatureLanded asks the node for the transaction's status until it knows it or statusLag
// has passed: used only once the member's approval is on chain, to tell whose it is.
func (s *Server) signatureLanded(ctx context.Context, tx *signedTx) (bool, error) {
	deadline := time.Now().Add(statusLag)
	for {
		known, err := s.chain.SignatureKnown(ctx, tx.signature)
		if err != nil || known || time.Now().After(deadline) {
			return known, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// settleWait bounds how long an approve whose workflow was cancelled waits for the chain to
// settle it: the guardian's cancel is sent by the workflow's compensation right away.
const settleWait = 60 * time.Second

// settledApproval reads the proposal until the member's approval is on it or it is closed
// (cancelled or executed), after which no approval can land.
func (s *Server) settledApproval(ctx context.Context, proposal, member solana.PublicKey) (*governor.Proposal, error) {
	ctx, cancel := context.WithTimeout(ctx, settleWait)
	defer cancel()
	for {
		p, err := s.chain.GetProposal(ctx, proposal)
		if err != nil {
			return nil, chainReadError(err, "id", "proposal %s", proposal)
		}
		if slices.Contains(p.Approvals, member) || (p.Status != governor.ProposalActive && p.Status != governor.ProposalApproved) {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("proposal %s still open %s after its workflow was cancelled: %w", proposal, settleWait, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
