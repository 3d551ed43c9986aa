package chain

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"github.com/gagliardetto/solana-go/rpc"
)

// MaxComputeUnits is the most a transaction may ask for (the runtime's
// MAX_COMPUTE_UNIT_LIMIT); without a limit instruction it gets 200,000 per instruction.
const MaxComputeUnits = 1_400_000

// PriorityFee is what the client bids per compute unit, in micro-lamports, so that its
// transactions land on a busy cluster.
type PriorityFee struct {
	// MicroLamports is the bid, or the floor under Percentile.
	MicroLamports uint64
	// Percentile (1 to 100), when set, bids that percentile of the fees the cluster's recent
	// blocks paid (getRecentPrioritizationFees), at least MicroLamports.
	Percentile int
}

// ParsePriorityFee reads "0" (no bid), "5000" (micro-lamports), "p75" (the 75th percentile
// of recent fees) or "p75:5000" (that percentile, at least 5000).
func ParsePriorityFee(s string) (PriorityFee, error) {
	var p PriorityFee
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "p"); ok {
		pct, floor, hasFloor := strings.Cut(rest, ":")
		n, err := strconv.Atoi(pct)
		if err != nil || n < 1 || n > 100 {
			return p, fmt.Errorf("priority fee %q: want a percentile p1 to p100", s)
		}
		p.Percentile = n
		if !hasFloor {
			return p, nil
		}
		s = floor
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return p, fmt.Errorf("priority fee %q: want micro-lamports per compute unit, pNN or pNN:FLOOR", s)
	}
	p.MicroLamports = n
	return p, nil
}

// WithPriorityFee sets what Send, and the transactions built with ComputeBudget, bid.
func WithPriorityFee(p PriorityFee) Option { return func(c *Client) { c.priorityFee = p } }

// ComputeBudget returns the compute-budget instructions to put in front of ixs (paid by
// payer): a unit limit from a simulation plus a margin, and the priority fee when it is not
// zero. A simulation that fails leaves the limit out (the transaction then fails the same way
// in preflight, with the error the caller handles today); a node that cannot tell recent fees
// leaves the bid at its floor. Both are logged, neither is an error: the budget is an
// optimisation, never a reason not to send.
func (c *Client) ComputeBudget(ctx context.Context, ixs []solana.Instruction, payer solana.PublicKey) []solana.Instruction {
	var out []solana.Instruction
	if limit, ok := c.unitLimit(ctx, ixs, payer); ok {
		out = append(out, computebudget.NewSetComputeUnitLimitInstruction(limit).Build())
	}
	if price := c.priceFor(ctx, ixs); price > 0 {
		out = append(out, computebudget.NewSetComputeUnitPriceInstruction(price).Build())
	}
	return out
}

// Budgeted is ixs behind their compute budget (ComputeBudget), unless they already set one:
// what Send sends, and what members sign.
func (c *Client) Budgeted(ctx context.Context, ixs []solana.Instruction, payer solana.PublicKey) []solana.Instruction {
	if slices.ContainsFunc(ixs, func(ix solana.Instruction) bool { return ix.ProgramID().Equals(solana.ComputeBudget) }) {
		return ixs
	}
	return append(c.ComputeBudget(ctx, ixs, payer), ixs...)
}

// unitLimit simulates ixs under the largest limit and returns what they consumed plus a
// fifth and 5,000 units (state can move between the simulation and the landing), at most
// MaxComputeUnits.
func (c *Client) unitLimit(ctx context.Context, ixs []solana.Instruction, payer solana.PublicKey) (uint32, bool) {
	probe := append([]solana.Instruction{computebudget.NewSetComputeUnitLimitInstruction(MaxComputeUnits).Build()}, ixs...)
	tx, err := solana.NewTransaction(probe, solana.Hash{}, solana.TransactionPayer(payer))
	if err != nil {
		c.log.Warn("chain: compute budget: build the simulation", "error", err)
		return 0, false
	}
	tx.Signatures = make([]solana.Signature, tx.Message.Header.NumRequiredSignatures)
	var res *rpc.SimulateTransactionResponse
	err = c.call(ctx, "simulateTransaction", func(ctx context.Context) (err error) {
		res, err = c.rpc.SimulateTransactionWithOpts(ctx, tx, &rpc.SimulateTransactionOpts{
			Commitment: c.commitment, ReplaceRecentBlockhash: true,
		})
		return err
	})
	switch {
	case err != nil:
		c.log.Warn("chain: compute budget: simulation failed; sending without a unit limit", "error", err)
		return 0, false
	case res == nil || res.Value == nil || res.Value.Err != nil || res.Value.UnitsConsumed == nil:
		// A transaction that fails in simulation fails in preflight too, with its error.
		return 0, false
	}
	used := *res.Value.UnitsConsumed
	return uint32(min(used+used/5+5_000, MaxComputeUnits)), true
}

// priceFor is the bid: the floor, or the configured percentile of the fees the cluster's
// recent blocks paid (getRecentPrioritizationFees without accounts), asked at most every
// feeCacheFor. Asking per transaction with its own accounts would cost a call for every
// migrate transaction (each locks other accounts) and load the node for nothing.
func (c *Client) priceFor(ctx context.Context, _ []solana.Instruction) uint64 {
	p := c.priorityFee
	if p.Percentile == 0 {
		return p.MicroLamports
	}
	c.feeMu.Lock()
	if !c.feeAt.IsZero() && time.Since(c.feeAt) < feeCacheFor {
		fee := c.fee
		c.feeMu.Unlock()
		return max(fee, p.MicroLamports)
	}
	c.feeMu.Unlock()
	var recent []rpc.PriorizationFeeResult
	err := c.call(ctx, "getRecentPrioritizationFees", func(ctx context.Context) (err error) {
		recent, err = c.rpc.GetRecentPrioritizationFees(ctx, nil)
		return err
	})
	if err != nil {
		c.log.Warn("chain: recent prioritization fees unknown; bidding the floor", "floor", p.MicroLamports, "error", err)
		return p.MicroLamports
	}
	fee := percentile(recent, p.Percentile)
	c.feeMu.Lock()
	c.fee, c.feeAt = fee, time.Now()
	c.feeMu.Unlock()
	return max(fee, p.MicroLamports)
}

// feeCacheFor is how long a percentile of recent fees is reused (a slot is 400 ms; the node
// reports the last 150 slots, a minute).
const feeCacheFor = 5 * time.Second

// percentile is the pct-th percentile (nearest rank) of the fees; 0 for none.
func percentile(recent []rpc.PriorizationFeeResult, pct int) uint64 {
	if len(recent) == 0 {
		return 0
	}
	fees := make([]uint64, len(recent))
	for i, r := range recent {
		fees[i] = r.PrioritizationFee
	}
	slices.Sort(fees)
	rank := (pct*len(fees) + 99) / 100 // ceil(pct/100 * n), 1-based
	return fees[max(rank, 1)-1]
}
