package chain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// TransactionEvents are the governor events of one landed transaction.
type TransactionEvents struct {
	Signature solana.Signature
	Slot      uint64
	// BlockTime is zero when the node does not know it.
	BlockTime time.Time
	// Failed is set when the transaction landed with an error (it then emitted nothing).
	Failed bool
	Events []Event
}

// Event is a governor event and the transaction instruction that emitted it.
type Event struct {
	// Instruction is the index of the top-level instruction whose execution emitted it.
	Instruction int
	governor.Event
}

func (c *Client) getTransaction(ctx context.Context, sig solana.Signature) (*rpc.GetTransactionResult, error) {
	version := uint64(0)
	commitment := c.commitment
	if commitment == rpc.CommitmentProcessed {
		commitment = rpc.CommitmentConfirmed // getTransaction refuses "processed"
	}
	var out *rpc.GetTransactionResult
	err := c.call(ctx, "getTransaction", func(ctx context.Context) (err error) {
		out, err = c.rpc.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{
			Encoding:                       solana.EncodingBase64,
			Commitment:                     commitment,
			MaxSupportedTransactionVersion: &version,
		})
		return err
	})
	if errors.Is(err, rpc.ErrNotFound) {
		err = ErrTransactionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get transaction %s: %w", sig, err)
	}
	return out, nil
}

// ErrTransactionNotFound means the node knows no such transaction at the client's
// commitment (yet: a just-sent one may appear a moment later).
var ErrTransactionNotFound = errors.New("transaction not found")

// GetTransactionEvents reads a landed transaction and decodes the governor events in its
// inner instructions: emit_cpi! makes each event a self-invocation of the governor whose data
// starts with governor.EventIxTag (this survives log truncation, unlike program logs).
func (c *Client) GetTransactionEvents(ctx context.Context, sig solana.Signature) (*TransactionEvents, error) {
	res, err := c.getTransaction(ctx, sig)
	if err != nil {
		return nil, err
	}
	if res.Transaction == nil || res.Meta == nil {
		return nil, fmt.Errorf("get transaction %s: node returned no transaction or meta", sig)
	}
	tx, err := res.Transaction.GetTransaction()
	if err != nil {
		return nil, fmt.Errorf("get transaction %s: decode: %w", sig, err)
	}
	// Inner instructions index the static keys, then the loaded writable, then readonly ones.
	keys := append(solana.PublicKeySlice{}, tx.Message.AccountKeys...)
	keys = append(keys, res.Meta.LoadedAddresses.Writable...)
	keys = append(keys, res.Meta.LoadedAddresses.ReadOnly...)

	out := &TransactionEvents{Signature: sig, Slot: res.Slot, Failed: res.Meta.Err != nil}
	if res.BlockTime != nil {
		out.BlockTime = res.BlockTime.Time()
	}
	for _, inner := range res.Meta.InnerInstructions {
		for _, ci := range inner.Instructions {
			if int(ci.ProgramIDIndex) >= len(keys) {
				return nil, fmt.Errorf("transaction %s: inner instruction program index %d out of %d keys", sig, ci.ProgramIDIndex, len(keys))
			}
			if !keys[ci.ProgramIDIndex].Equals(governor.ProgramID) || !governor.IsEventInstruction(ci.Data) {
				continue
			}
			ev, err := governor.DecodeEvent(ci.Data)
			if err != nil {
				return nil, fmt.Errorf("transaction %s, instruction %d: %w", sig, inner.Index, err)
			}
			out.Events = append(out.Events, Event{Instruction: int(inner.Index), Event: ev})
		}
	}
	return out, nil
}

// ComputeUnits is what a landed transaction consumed, as the node reports it
// (meta.computeUnitsConsumed); 0 when the node does not report it.
func (c *Client) ComputeUnits(ctx context.Context, sig solana.Signature) (uint64, error) {
	res, err := c.getTransaction(ctx, sig)
	if err != nil {
		return 0, err
	}
	if res.Meta == nil || res.Meta.ComputeUnitsConsumed == nil {
		return 0, nil
	}
	return *res.Meta.ComputeUnitsConsumed, nil
}
