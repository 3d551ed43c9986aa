package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/govflow"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// Lifecycle is the time from the eta passing to the upgrade confirmed on chain, for proposals
// without a migration (v1 -> v2 -> v1 ... of one program).
type Lifecycle struct {
	Runs []LifecycleRun `json:"runs"`
	// Median of UpgradeSeconds.
	MedianSeconds float64 `json:"median_seconds"`
	// HistoryEvents of the last run's proposal workflow (no migration).
	HistoryEvents int64 `json:"history_events"`
	proposal      solana.PublicKey
}

// LifecycleRun is one proposal: the clock moved past eta at 0.
type LifecycleRun struct {
	TimeTravelSeconds float64 `json:"time_travel_seconds"`
	RequestSeconds    float64 `json:"request_seconds"`  // POST /proposals/:id/execute answered
	UpgradeSeconds    float64 `json:"upgrade_seconds"`  // ProgramData holds the new ELF
	ExecutedSeconds   float64 `json:"executed_seconds"` // GET /proposals/:id says executed
}

func (b *bench) lifecycle(ctx context.Context) (*Lifecycle, error) {
	f := b.flow
	l := &Lifecycle{}
	if b.cfg.LifecycleRuns == 0 {
		return l, nil
	}
	program, err := f.Deploy(ctx)
	if err != nil {
		return l, err
	}
	for i := range b.cfg.LifecycleRuns {
		elf := f.V2
		if i%2 == 1 {
			elf = f.V1
		}
		proposal, err := f.Propose(ctx, govflow.Upgrade{Program: program, ELF: elf, Description: fmt.Sprintf("lifecycle run %d", i+1)})
		if err != nil {
			return l, err
		}
		eta, err := f.Approve(ctx, proposal)
		if err != nil {
			return l, err
		}
		t0 := time.Now()
		if err := f.PassTimelock(ctx, eta); err != nil {
			return l, err
		}
		var r LifecycleRun
		r.TimeTravelSeconds = time.Since(t0).Seconds()
		if err := f.RequestExecute(ctx, proposal); err != nil {
			return l, err
		}
		r.RequestSeconds = time.Since(t0).Seconds()
		if err := f.WaitDeployed(ctx, program, elf, 2*time.Minute); err != nil {
			return l, err
		}
		r.UpgradeSeconds = time.Since(t0).Seconds()
		if _, err := f.WaitStatus(ctx, proposal, "executed", time.Minute); err != nil {
			return l, err
		}
		r.ExecutedSeconds = time.Since(t0).Seconds()
		logf("  run %d: upgrade confirmed %.2f s after eta", i+1, r.UpgradeSeconds)
		l.Runs = append(l.Runs, r)
		l.proposal = proposal
		time.Sleep(time.Second) // the next upgrade of this program must land in a later slot
	}
	secs := make([]float64, len(l.Runs))
	for i, r := range l.Runs {
		secs[i] = r.UpgradeSeconds
	}
	sort.Float64s(secs)
	l.MedianSeconds = secs[len(secs)/2]
	// The workflow completes a moment after the chain changed.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		d, err := b.temporal.DescribeWorkflowExecution(ctx, workflows.ProposalWorkflowID(l.proposal.String()), "")
		if err == nil && d.WorkflowExecutionInfo.CloseTime != nil {
			l.HistoryEvents = d.WorkflowExecutionInfo.HistoryLength
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return l, nil
}
