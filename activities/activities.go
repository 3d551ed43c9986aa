package activities

import (
	"context"
	"errors"
)

var errNotWired = errors.New("activities: not wired yet")

// Activities holds the clients every activity uses; the worker registers one value of it.
type Activities struct{}

// VerifyBuffer checks that the buffer's authority is the multisig's PDA and its ELF hash is the
// proposed one.
func (a *Activities) VerifyBuffer(ctx context.Context, in VerifyBufferInput) (VerifyBufferResult, error) {
	return VerifyBufferResult{}, errNotWired
}

// SubmitProposal sends the member-signed propose transaction unless the proposal exists.
func (a *Activities) SubmitProposal(ctx context.Context, in SubmitInput) (SubmitResult, error) {
	return SubmitResult{}, errNotWired
}

// SubmitApproval sends a member-signed approve transaction unless the member already approved.
func (a *Activities) SubmitApproval(ctx context.Context, in SubmitInput) (SubmitResult, error) {
	return SubmitResult{}, errNotWired
}

// GetProposalState reads the proposal, its multisig and the chain's clock.
func (a *Activities) GetProposalState(ctx context.Context, ref ProposalRef) (ChainProposal, error) {
	return ChainProposal{}, errNotWired
}

// ExecuteUpgrade executes an approved, due proposal unless it is already executed.
func (a *Activities) ExecuteUpgrade(ctx context.Context, ref ProposalRef) (ExecuteResult, error) {
	return ExecuteResult{}, errNotWired
}

// CancelOnChain cancels the proposal with the guardian key and records the rollback.
func (a *Activities) CancelOnChain(ctx context.Context, in CancelInput) (CancelResult, error) {
	return CancelResult{}, errNotWired
}

// MarkExpired records a proposal whose lifetime ended before it was approved.
func (a *Activities) MarkExpired(ctx context.Context, ref ProposalRef) error {
	return errNotWired
}

// ListAffectedAccounts records every account to migrate as pending and returns their count.
func (a *Activities) ListAffectedAccounts(ctx context.Context, in ListAccountsInput) (int, error) {
	return 0, errNotWired
}

// ChunkBounds returns the last account of each of up to Chunks ranges of pending accounts.
func (a *Activities) ChunkBounds(ctx context.Context, in ChunkBoundsInput) ([]string, error) {
	return nil, errNotWired
}

// MigrateChunk migrates the pending accounts of one range.
func (a *Activities) MigrateChunk(ctx context.Context, in MigrateChunkInput) (ChunkResult, error) {
	return ChunkResult{}, errNotWired
}

// FinishJob records the end of a migration job.
func (a *Activities) FinishJob(ctx context.Context, in FinishJobInput) error {
	return errNotWired
}
