// Package member builds and signs the governance transactions a member sends: what the CLI and
// a wallet do on the member's machine. The key never leaves it; only the signed transaction
// goes to the API server or to RPC.
package member

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// Signed is a signed transaction ready to send.
type Signed struct {
	Tx *solana.Transaction
	// Proposal is the proposal the transaction creates or acts on, if any.
	Proposal solana.PublicKey
}

// Base64 is the wire form the API takes.
func (s Signed) Base64() (string, error) {
	return s.Tx.ToBase64()
}

// Sign builds a transaction of ixs with a fresh blockhash and a compute budget, paid by
// signers[0].
func Sign(ctx context.Context, c *chain.Client, ixs []solana.Instruction, signers ...*chain.Keypair) (*solana.Transaction, error) {
	if len(signers) == 0 {
		return nil, fmt.Errorf("sign: no signer")
	}
	for i, ix := range ixs {
		if v, ok := ix.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return nil, fmt.Errorf("sign: instruction %d: %w", i, err)
			}
		}
	}
	// A unit limit from simulation and the client's priority fee, as the worker's own sends.
	ixs = c.Budgeted(ctx, ixs, signers[0].PublicKey())
	bh, err := c.RPC().GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		return nil, fmt.Errorf("sign: latest blockhash: %w", err)
	}
	tx, err := solana.NewTransaction(ixs, bh.Value.Blockhash, solana.TransactionPayer(signers[0].PublicKey()))
	if err != nil {
		return nil, fmt.Errorf("sign: build transaction: %w", err)
	}
	if err := chain.SignTransaction(tx, signers...); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return tx, nil
}

// Propose signs propose_upgrade for the multisig's next proposal index.
func Propose(ctx context.Context, c *chain.Client, multisig solana.PublicKey, proposer *chain.Keypair,
	program, buffer solana.PublicKey, hash [32]byte, description string, migration *governor.MigrationPlan) (Signed, error) {
	ms, err := c.GetMultisig(ctx, multisig)
	if err != nil {
		return Signed{}, fmt.Errorf("propose: %w", err)
	}
	ix := governor.NewProposeUpgradeInstruction(multisig, ms.ProposalIndex+1, proposer.PublicKey(), proposer.PublicKey(),
		program, buffer, governor.ProposeUpgradeArgs{BufferHash: hash, Description: description, Migration: migration})
	tx, err := Sign(ctx, c, []solana.Instruction{ix}, proposer)
	if err != nil {
		return Signed{}, fmt.Errorf("propose: %w", err)
	}
	return Signed{Tx: tx, Proposal: ix.Proposal}, nil
}

// Approve signs approve_upgrade.
func Approve(ctx context.Context, c *chain.Client, multisig, proposal solana.PublicKey, m *chain.Keypair) (Signed, error) {
	tx, err := Sign(ctx, c, []solana.Instruction{governor.NewApproveUpgradeInstruction(multisig, proposal, m.PublicKey())}, m)
	if err != nil {
		return Signed{}, fmt.Errorf("approve: %w", err)
	}
	return Signed{Tx: tx, Proposal: proposal}, nil
}

// Cancel signs cancel_upgrade (a member or the guardian).
func Cancel(ctx context.Context, c *chain.Client, multisig, proposal solana.PublicKey, m *chain.Keypair) (Signed, error) {
	tx, err := Sign(ctx, c, []solana.Instruction{governor.NewCancelUpgradeInstruction(multisig, proposal, m.PublicKey())}, m)
	if err != nil {
		return Signed{}, fmt.Errorf("cancel: %w", err)
	}
	return Signed{Tx: tx, Proposal: proposal}, nil
}

// Pause signs pause_system (a member or the guardian).
func Pause(ctx context.Context, c *chain.Client, multisig solana.PublicKey, m *chain.Keypair) (Signed, error) {
	tx, err := Sign(ctx, c, []solana.Instruction{governor.NewPauseSystemInstruction(multisig, m.PublicKey())}, m)
	if err != nil {
		return Signed{}, fmt.Errorf("pause: %w", err)
	}
	return Signed{Tx: tx}, nil
}

// Resume signs resume_system with every given member; the first pays.
func Resume(ctx context.Context, c *chain.Client, multisig solana.PublicKey, m *chain.Keypair) (Signed, error) {
	tx, err := Sign(ctx, c, []solana.Instruction{governor.NewResumeSystemInstruction(multisig, m.PublicKey())}, m)
	if err != nil {
		return Signed{}, fmt.Errorf("resume: %w", err)
	}
	return Signed{Tx: tx}, nil
}

// ProposeConfig signs propose_config: the proposer proposes changes to the multisig (and pays).
func ProposeConfig(ctx context.Context, c *chain.Client, multisig solana.PublicKey, proposer *chain.Keypair,
	actions []governor.ConfigAction, description string) (Signed, error) {
	ms, err := c.GetMultisig(ctx, multisig)
	if err != nil {
		return Signed{}, fmt.Errorf("propose config: %w", err)
	}
	ix := governor.NewProposeConfigInstruction(multisig, ms.ProposalIndex+1, proposer.PublicKey(), proposer.PublicKey(),
		governor.ProposeConfigArgs{Actions: actions, Description: description})
	tx, err := Sign(ctx, c, []solana.Instruction{ix}, proposer)
	if err != nil {
		return Signed{}, fmt.Errorf("propose config: %w", err)
	}
	return Signed{Tx: tx, Proposal: ix.Proposal}, nil
}

// Execute signs execute_upgrade (execute_config for a config proposal) for an approved
// proposal. Anyone may execute once the
// timelock has passed; through the API a member's signed request asks the worker to do it.
func Execute(ctx context.Context, c *chain.Client, proposal solana.PublicKey, m *chain.Keypair) (Signed, error) {
	p, err := c.GetProposal(ctx, proposal)
	if err != nil {
		return Signed{}, fmt.Errorf("execute: %w", err)
	}
	var ix solana.Instruction = governor.NewExecuteUpgradeInstructionFor(p, m.PublicKey())
	if p.IsConfig() {
		ix = governor.NewExecuteConfigInstructionFor(p, m.PublicKey())
	}
	tx, err := Sign(ctx, c, []solana.Instruction{ix}, m)
	if err != nil {
		return Signed{}, fmt.Errorf("execute: %w", err)
	}
	return Signed{Tx: tx, Proposal: proposal}, nil
}
