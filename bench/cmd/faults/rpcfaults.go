package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/govflow"
	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// RPC faults a node cannot be made to show on demand: slow answers and an expired blockhash.
// devstack.RPCFaultProxy (a fault injector, not a node) sits between the worker and the real
// localnet for these drills; the bench's own checks read the node directly. Each fault is on
// while the upgrade executes and again in the middle of the migration; then runCase's check
// must still find one UpgradeExecuted and every account migrated exactly once.
//
// FAULTS_SLOW_SECONDS (35): how long rpc-slow holds a delayed answer; longer than the chain
// client's 30 s per-call timeout, so the worker gives up on transactions the node has taken.
// FAULTS_RPC_FAULT_SECONDS (45): how long rpc-slow's faults stay on at least, and both drills'
// mid-migration faults unless the migration finishes first. A fault stays on until it was hit;
// one never hit fails the drill.

func init() {
	cases = append(cases,
		kase{name: "rpc-slow", run: func(ctx context.Context, d *drill, u *upgrade) (string, error) {
			return d.rpcSlow(ctx, u)
		}},
		kase{name: "rpc-expired-blockhash", run: func(ctx context.Context, d *drill, u *upgrade) (string, error) {
			return d.rpcExpiredBlockhash(ctx, u)
		}},
	)
}

// slowReads delays one in three answers of every other method by 2 s: a slow node, not a dead one.
var slowReads = devstack.SlowRule{Every: 3, Delay: 2 * time.Second}

func (d *drill) rpcSlow(ctx context.Context, u *upgrade) (string, error) {
	delay := time.Duration(envInt("FAULTS_SLOW_SECONDS", 35)) * time.Second
	hold := time.Duration(envInt("FAULTS_RPC_FAULT_SECONDS", 45)) * time.Second
	return d.throughProxy(ctx, u, func(p *devstack.RPCFaultProxy) ([]string, error) {
		var did []string
		abandonedSends := func(s devstack.RPCFaultStats) bool { return s.Abandoned["sendTransaction"] > 0 }

		// Execution: every sendTransaction answer late, so the execute transaction lands while
		// the worker has stopped waiting for it.
		if err := d.flow.PassTimelock(ctx, u.eta); err != nil {
			return did, err
		}
		p.SetSlow(devstack.SlowRule{Methods: []string{"sendTransaction"}, Every: 1, Delay: delay}, slowReads)
		if err := d.flow.RequestExecute(ctx, u.proposal); err != nil {
			return did, err
		}
		line, err := d.rpcPhase(ctx, u, p, "execution", fmt.Sprintf("every sendTransaction answer held %s, 1 in 3 other answers 2 s", delay),
			hold, abandonedSends, d.upgraded)
		did = append(did, line)
		if err != nil {
			return did, err
		}

		// Mid-migration: one migrate transaction's answer in three late.
		at, err := d.waitThird(ctx, u)
		if err != nil {
			return did, err
		}
		p.SetSlow(devstack.SlowRule{Methods: []string{"sendTransaction"}, Every: 3, Delay: delay}, slowReads)
		line, err = d.rpcPhase(ctx, u, p, fmt.Sprintf("mid-migration at %d/%d migrated", at, len(u.set.Keys)),
			fmt.Sprintf("1 in 3 sendTransaction answers held %s, 1 in 3 other answers 2 s", delay), hold, abandonedSends, nil)
		return append(did, line), err
	})
}

func (d *drill) rpcExpiredBlockhash(ctx context.Context, u *upgrade) (string, error) {
	hold := time.Duration(envInt("FAULTS_RPC_FAULT_SECONDS", 45)) * time.Second
	// A blockhash of the node itself, waited on until the node no longer takes it (150 blocks:
	// about 40 s of localnet's 250 ms slots; time travel moves the clock, not the block height).
	node := d.flow.Chain.RPC()
	bh, err := node.GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		return "", fmt.Errorf("capture a blockhash: %w", err)
	}
	captured := time.Now()
	return d.throughProxy(ctx, u, func(p *devstack.RPCFaultProxy) ([]string, error) {
		var did []string
		for {
			valid, err := node.IsBlockhashValid(ctx, bh.Value.Blockhash, rpc.CommitmentConfirmed)
			if err != nil {
				return did, fmt.Errorf("is the captured blockhash still valid: %w", err)
			}
			height, err := node.GetBlockHeight(ctx, rpc.CommitmentConfirmed)
			if err != nil {
				return did, fmt.Errorf("block height: %w", err)
			}
			if !valid.Value && height > bh.Value.LastValidBlockHeight {
				did = append(did, fmt.Sprintf("stale blockhash %s (last valid height %d) expired on the node %.0f s after capture (height %d)",
					bh.Value.Blockhash, bh.Value.LastValidBlockHeight, time.Since(captured).Seconds(), height))
				break
			}
			if time.Since(captured) > 3*time.Minute {
				return did, fmt.Errorf("blockhash %s still valid on the node 3 minutes after capture (height %d, last valid %d)",
					bh.Value.Blockhash, height, bh.Value.LastValidBlockHeight)
			}
			if err := sleepCtx(ctx, time.Second); err != nil {
				return did, err
			}
		}
		stale := &devstack.StaleBlockhash{Blockhash: bh.Value.Blockhash.String(), LastValidBlockHeight: bh.Value.LastValidBlockHeight, Every: 2}
		refused := func(s devstack.RPCFaultStats) bool { return s.StaleServed > 0 && s.Refused > 0 }
		resignsBefore, err := countLines(d.st.Logs("worker"), "signing again")
		if err != nil {
			return did, err
		}

		// Execution: the first blockhash the worker gets is the stale one.
		if err := d.flow.PassTimelock(ctx, u.eta); err != nil {
			return did, err
		}
		p.SetStaleBlockhash(stale)
		if err := d.flow.RequestExecute(ctx, u.proposal); err != nil {
			return did, err
		}
		line, err := d.rpcPhase(ctx, u, p, "execution", "1 in 2 getLatestBlockhash answers stale", 0, refused, d.upgraded)
		did = append(did, line)
		if err != nil {
			return did, err
		}

		// The migration: from its first transaction on. The worker reuses a blockhash for
		// 300 ms and migrates a few thousand accounts a second, so a fault switched on once a
		// third is migrated saw the migration end before it was asked for a blockhash at all.
		at := 0
		if j, err := d.store.GetMigrationJob(ctx, workflows.MigrationWorkflowID(u.proposal.String())); err == nil {
			at = j.Migrated
		}
		p.SetStaleBlockhash(stale)
		line, err = d.rpcPhase(ctx, u, p, fmt.Sprintf("migration, from %d/%d migrated", at, len(u.set.Keys)),
			"1 in 2 getLatestBlockhash answers stale", hold, refused, nil)
		did = append(did, line)
		if err != nil {
			return did, err
		}
		resigns, err := countLines(d.st.Logs("worker"), "signing again")
		if err != nil {
			return did, err
		}
		did = append(did, fmt.Sprintf("worker log: %d re-signs after a refused or expired blockhash", resigns-resignsBefore))
		if resigns == resignsBefore {
			return did, errors.New("the worker never signed again with a new blockhash")
		}
		return did, nil
	})
}

// throughProxy routes the worker's RPC through a new fault proxy, runs fault, switches the
// faults off, waits for the migration to finish, and routes the worker straight to the node
// again (also when fault fails), so later drills are unaffected.
func (d *drill) throughProxy(ctx context.Context, u *upgrade, fault func(*devstack.RPCFaultProxy) ([]string, error)) (what string, err error) {
	p, err := devstack.NewRPCFaultProxy(d.st.RPCURL)
	if err != nil {
		return "none", err
	}
	defer func() {
		if cerr := p.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	if err := d.st.RouteWorkerRPC(ctx, p.URL); err != nil {
		return "none", err
	}
	defer func() {
		// Also when the drill's time ran out: later drills need the worker on the node.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		rerr := d.st.RouteWorkerRPC(rctx, "")
		if rerr == nil {
			rerr = d.workerRPCIs(d.st.RPCURL)
		}
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("route the worker to the node again: %w", rerr))
		}
	}()
	if err := d.workerRPCIs(p.URL); err != nil {
		return "none", err
	}
	did, err := fault(p)
	p.Clear()
	what = "worker's RPC through devstack.RPCFaultProxy (the bench reads the node directly)"
	for _, line := range did {
		what += "\n     " + line
	}
	if err != nil {
		return what, err
	}
	// Faults off: the migration must finish before the worker is restarted on the node.
	job := workflows.MigrationWorkflowID(u.proposal.String())
	if _, err := govflow.WaitJob(ctx, d.store, job, 10*time.Minute, 4*time.Minute, nil); err != nil {
		return what, fmt.Errorf("migration after the fault: %w", err)
	}
	what += fmt.Sprintf("\n     proxy in all, faults on and off, until the migration finished: %s", p.Stats())
	return what, nil
}

// workerRPCIs checks the running worker process was started with UG_RPC_URL=url. It reads
// again for up to 5 s: read right after a restart, /proc/<pid>/environ once held no
// UG_RPC_URL at all (a full make faults run; the same drill alone passed).
func (d *drill) workerRPCIs(url string) error {
	var last error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if last = d.workerRPCIsOnce(url); last == nil || time.Now().After(deadline) {
			return last
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *drill) workerRPCIsOnce(url string) error {
	pid, err := d.st.PID("worker")
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return fmt.Errorf("worker's environment: %w", err)
	}
	got := ""
	for _, kv := range strings.Split(string(raw), "\x00") {
		if v, ok := strings.CutPrefix(kv, "UG_RPC_URL="); ok {
			got = v // the last one wins, as in exec
		}
	}
	if got != url {
		return fmt.Errorf("the worker (pid %d) runs with UG_RPC_URL=%q, want %q", pid, got, url)
	}
	return nil
}

// rpcPhase keeps the proxy's fault on for at least hold and until hit says the fault was
// hit (and, when given, until ready), at most 5 minutes, then switches it off. Without ready
// (mid-migration) it also ends when the migration has completed. It returns what
// the proxy did meanwhile; a fault never hit is an error.
func (d *drill) rpcPhase(ctx context.Context, u *upgrade, p *devstack.RPCFaultProxy, phase, fault string, hold time.Duration,
	hit func(devstack.RPCFaultStats) bool, ready func(context.Context, *upgrade) bool) (string, error) {
	before := p.Stats()
	start := time.Now()
	job := workflows.MigrationWorkflowID(u.proposal.String())
	var err error
	var readySince time.Time
	for {
		s := p.Stats().Sub(before)
		isReady := ready == nil || ready(ctx, u)
		if hit(s) && isReady && time.Since(start) >= hold {
			break
		}
		if ready != nil && isReady && !hit(s) {
			// The step the fault was for is over: a fault not hit a minute later never will be.
			if readySince.IsZero() {
				readySince = time.Now()
			} else if time.Since(readySince) > time.Minute {
				err = fmt.Errorf("%s: done a minute ago, and the fault was not hit", phase)
				break
			}
		}
		if ready == nil {
			// Nothing more to fault once the migration is over.
			if j, jerr := d.store.GetMigrationJob(ctx, job); jerr == nil && j.Status == store.JobCompleted {
				if !hit(s) {
					err = fmt.Errorf("%s: the migration completed before the fault was hit; raise FAULTS_ACCOUNTS", phase)
				}
				break
			}
		}
		if time.Since(start) > 5*time.Minute {
			err = fmt.Errorf("%s: after 5 minutes the fault was hit: %t, ready: %t", phase, hit(s), ready == nil || ready(ctx, u))
			break
		}
		if serr := sleepCtx(ctx, 250*time.Millisecond); serr != nil {
			err = serr
			break
		}
	}
	p.Clear()
	s := p.Stats().Sub(before)
	line := fmt.Sprintf("%s: %s for %.0f s: %s", phase, fault, time.Since(start).Seconds(), s)
	if err == nil && !hit(s) {
		err = fmt.Errorf("%s: the fault was never hit: %s", phase, s)
	}
	return line, err
}

// upgraded says whether the node's ProgramData holds v2.
func (d *drill) upgraded(ctx context.Context, u *upgrade) bool {
	pd, err := d.flow.Chain.GetProgramData(ctx, u.program)
	return err == nil && pd.Hash() == loader.ELFHash(d.flow.V2)
}

// waitThird waits until a third of the accounts are migrated and returns how many are; a
// migration that completed first is an error (the fault could not land mid-migration).
func (d *drill) waitThird(ctx context.Context, u *upgrade) (int, error) {
	job := workflows.MigrationWorkflowID(u.proposal.String())
	deadline := time.Now().Add(5 * time.Minute)
	for {
		j, err := d.store.GetMigrationJob(ctx, job)
		if err == nil && j.Status == store.JobCompleted {
			return j.Migrated, fmt.Errorf("the migration completed before the fault could land; raise FAULTS_ACCOUNTS")
		}
		if err == nil && j.Migrated*3 >= len(u.set.Keys) {
			return j.Migrated, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("migration %s did not reach a third in 5 minutes (%v)", job, err)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return 0, err
		}
	}
}

func countLines(path, substr string) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return strings.Count(string(raw), substr), nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
