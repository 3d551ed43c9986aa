package api

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

// Chain is what the API reads from and sends to the Solana cluster. *chain.Client provides
// most of it; RPCChain adds the rest.
type Chain interface {
	GetMultisig(ctx context.Context, multisig solana.PublicKey) (*governor.Multisig, error)
	GetProposal(ctx context.Context, proposal solana.PublicKey) (*governor.Proposal, error)
	GetBuffer(ctx context.Context, buffer solana.PublicKey) (*loader.Buffer, error)
	// GetGovernedProgram is the record of which executed proposal deployed a program's code.
	GetGovernedProgram(ctx context.Context, multisig, program solana.PublicKey) (*governor.GovernedProgram, error)
	// LatestBlockhash is the blockhash unsigned transactions are built on.
	LatestBlockhash(ctx context.Context) (solana.Hash, error)
	// SendSigned submits a transaction others signed, as it is, and waits for confirmation.
	SendSigned(ctx context.Context, tx *solana.Transaction) (solana.Signature, error)
	// SignatureKnown reports whether the cluster has already seen a transaction with sig.
	SignatureKnown(ctx context.Context, sig solana.Signature) (bool, error)
	// BlockhashValid reports whether a transaction built on hash can still land: false for a
	// blockhash that expired or that the cluster never issued.
	BlockhashValid(ctx context.Context, hash solana.Hash) (bool, error)
	// Health fails when the node is unreachable or says it is unhealthy.
	Health(ctx context.Context) error
	// Balance is an account's lamports (0 for an account that does not exist).
	Balance(ctx context.Context, key solana.PublicKey) (uint64, error)
	// ChainTime is the cluster's clock (the Clock sysvar's unix timestamp): the program's
	// expiry and timelock follow it, not the server's clock.
	ChainTime(ctx context.Context) (int64, error)
	// Simulate runs a signed (or unsigned) transaction against the current state without
	// landing it: nil, or the program or transaction error it would fail with.
	Simulate(ctx context.Context, tx *solana.Transaction) error
	// Budgeted is ixs behind a compute-unit limit from simulation and the priority fee.
	Budgeted(ctx context.Context, ixs []solana.Instruction, payer solana.PublicKey) []solana.Instruction
}

// RPCChain is Chain over the project's chain client.
type RPCChain struct {
	*chain.Client
}

var _ Chain = RPCChain{}

// LatestBlockhash reads the newest blockhash at the client's commitment.
func (c RPCChain) LatestBlockhash(ctx context.Context) (solana.Hash, error) {
	res, err := c.RPC().GetLatestBlockhash(ctx, c.Commitment())
	if err != nil {
		return solana.Hash{}, fmt.Errorf("latest blockhash: %w", &chain.RPCError{Method: "getLatestBlockhash", Message: err.Error()})
	}
	return res.Value.Blockhash, nil
}

// SignatureKnown asks the node, searching its whole history, whether sig was processed.
func (c RPCChain) SignatureKnown(ctx context.Context, sig solana.Signature) (bool, error) {
	res, err := c.RPC().GetSignatureStatuses(ctx, true, sig)
	if err != nil {
		return false, fmt.Errorf("signature status of %s: %w", sig, &chain.RPCError{Method: "getSignatureStatuses", Message: err.Error()})
	}
	return res != nil && len(res.Value) == 1 && res.Value[0] != nil, nil
}

// BlockhashValid asks the node whether hash is still a recent blockhash, at processed
// commitment: members sign on a confirmed one, which the node knows at processed too.
func (c RPCChain) BlockhashValid(ctx context.Context, hash solana.Hash) (bool, error) {
	res, err := c.RPC().IsBlockhashValid(ctx, hash, rpc.CommitmentProcessed)
	if err != nil {
		return false, fmt.Errorf("blockhash %s: %w", hash, &chain.RPCError{Method: "isBlockhashValid", Message: err.Error()})
	}
	return res != nil && res.Value, nil
}

// Health is the node's getHealth.
func (c RPCChain) Health(ctx context.Context) error {
	out, err := c.RPC().GetHealth(ctx)
	if err != nil {
		return fmt.Errorf("rpc health: %w", err)
	}
	if out != rpc.HealthOk {
		return fmt.Errorf("rpc health: node says %q", out)
	}
	return nil
}
