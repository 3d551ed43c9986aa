package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/gagliardetto/solana-go"

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

// approveUpdateError is updateError, but a transaction the program refused because the
// member's approval is already on chain gets the answer of any other second approval.
func (s *Server) approveUpdateError(ctx context.Context, err error, proposal, member solana.PublicKey) error {
	out := updateError(err)
	if toError(out).Code != CodeProgramError {
		return out
	}
	p, rerr := s.chain.GetProposal(ctx, proposal)
	if rerr == nil && slices.Contains(p.Approvals, member) {
		return alreadyApproved(member, proposal)
	}
	return out
}
