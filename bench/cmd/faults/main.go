// Command faults runs fault drills against the whole stack started from its real parts. Each
// drill proposes an upgrade of the example counter with a migration of FAULTS_ACCOUNTS accounts,
// breaks something at a chosen moment, lets it recover, and checks from the chain's events and
// logs, the migration rows and the index that the upgrade executed exactly once and every
// account migrated exactly once. Each prints PASS or FAIL and what it checked.
//
//	worker-kill-timelock   kill -9 of the worker while the proposal waits out its timelock
//	worker-kill-execution  kill -9 of the worker while it executes the upgrade
//	worker-kill-migration  kill -9 of the worker in the middle of the migration
//	postgres-restart       PostgreSQL shut down and started again mid-migration
//	temporal-restart       the Temporal dev server stopped and started again mid-migration
//	                       (its --db-filename keeps the workflows)
//	rpc-stall              localnet frozen (SIGSTOP) for FAULTS_STALL_SECONDS mid-migration
//	rpc-slow               the worker's RPC through devstack.RPCFaultProxy: sendTransaction
//	                       answers held FAULTS_SLOW_SECONDS (past the client's timeout) during
//	                       execution and mid-migration (rpcfaults.go)
//	rpc-expired-blockhash  the same proxy serves a blockhash localnet has expired from
//	                       getLatestBlockhash during execution and the migration (rpcfaults.go)
//
// Race drills (races.go) fire racing requests at the real API at once and check the chain,
// the index and audit trail, and Temporal agree (FAULTS_RACE_ROUNDS, 3, rounds each):
//
//	race-double-approval       one signed approve posted twice at once, and two distinct
//	                           approve transactions of one member at once
//	race-approve-cancel        the threshold approval and a cancel at once (a member's signed
//	                           cancel, or the guardian's emergency stop)
//	race-two-replicas-propose  one signed propose posted at once to two API server processes
//	                           (devstack.StartAPIReplica) on the same database, Temporal, chain
//
// Hostile-input drills (hostile.go) must leave PostgreSQL, Temporal and the chain exactly as
// they were:
//
//	bad-input  92 malformed or hostile requests to every route with real ids, each refused
//	           with the expected 4xx JSON error naming the field
//	fuzz       go test -fuzz of internal/api's targets, FAULTS_FUZZ_EXECS (10000) inputs each
//	           within FAULTS_FUZZ_SECONDS (180),
//	           FuzzLiveAPI against the stack's API server
//	single-key-obstruction  (singlekey.go) one member votes to cancel and pauses, again after
//	           its pause lapsed: one vote of three, the pause lapses, its second pause is refused
//	           (cool-down), and the upgrade executes
//	outsider-multisig  (outsider.go) a 1-of-1 multisig the operator never served, with a
//	           program and buffer of its own: proposals and execution asked for many times at
//	           once, the proposal landed, approved and due through RPC; every request 403
//	           multisig_not_served, the worker's keys' balances and our state unchanged
//
// FAULTS_ACCOUNTS=3000 FAULTS_STALL_SECONDS=30 FAULTS_CASES=<comma list, default all>
// FAULTS_SLOW_SECONDS=35 FAULTS_RPC_FAULT_SECONDS=45 (rpc-slow, rpc-expired-blockhash)
// FAULTS_BIN_DIR=bin FAULTS_KEEP=1 (keep data and logs)
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"go.temporal.io/sdk/client"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/counters"
	"github.com/upgrade-governor/upgrade-governor/bench/internal/govflow"
	"github.com/upgrade-governor/upgrade-governor/bench/internal/report"
	"github.com/upgrade-governor/upgrade-governor/bench/internal/temporalclient"
	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

type drill struct {
	st       *devstack.Stack
	flow     *govflow.Flow
	store    *store.Store
	temporal client.Client
	accounts int
	stall    time.Duration
}

// kase is one fault drill. A drill with run breaks the stack during an approved upgrade with a
// migration (set up by runCase) and says what it did; runCase then checks the upgrade and the
// migration happened exactly once. A drill with whole does its own set-up and checks and returns
// what it did and checked, a line each. Drills in other files add themselves in init.
type kase struct {
	name  string
	run   func(ctx context.Context, d *drill, u *upgrade) (string, error)
	whole func(ctx context.Context, d *drill) ([]string, error)
}

var cases = []kase{
	{name: "worker-kill-timelock", run: func(ctx context.Context, d *drill, u *upgrade) (string, error) {
		return d.killDuringTimelock(ctx, u)
	}},
	{name: "worker-kill-execution", run: func(ctx context.Context, d *drill, u *upgrade) (string, error) {
		return d.killDuringExecution(ctx, u)
	}},
	{name: "worker-kill-migration", run: func(ctx context.Context, d *drill, u *upgrade) (string, error) {
		return d.midMigration(ctx, u, "kill -9 of the worker, restarted 2 s later", func() error {
			if err := d.st.Kill("worker"); err != nil {
				return err
			}
			time.Sleep(2 * time.Second)
			return d.st.StartWorker(ctx)
		})
	}},
	{name: "postgres-restart", run: func(ctx context.Context, d *drill, u *upgrade) (string, error) {
		return d.midMigration(ctx, u, "PostgreSQL fast shutdown and start on the same data", func() error {
			return d.st.RestartPostgres(ctx)
		})
	}},
	{name: "temporal-restart", run: func(ctx context.Context, d *drill, u *upgrade) (string, error) {
		return d.midMigration(ctx, u, "Temporal dev server SIGTERM and start on the same --db-filename", func() error {
			return d.st.Restart(ctx, "temporal")
		})
	}},
	{name: "rpc-stall", run: func(ctx context.Context, d *drill, u *upgrade) (string, error) {
		return d.midMigration(ctx, u, fmt.Sprintf("localnet SIGSTOP for %s, then SIGCONT", d.stall), func() error {
			if err := d.st.Pause("localnet"); err != nil {
				return err
			}
			time.Sleep(d.stall)
			return d.st.Resume("localnet")
		})
	}},
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
}

func run() error {
	accounts := envInt("FAULTS_ACCOUNTS", 3000)
	stall := time.Duration(envInt("FAULTS_STALL_SECONDS", 30)) * time.Second
	selected := map[string]bool{}
	for _, c := range strings.Split(os.Getenv("FAULTS_CASES"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			selected[c] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	load := report.ReadLoad()
	fmt.Printf("fault drills: %d accounts per drill; %s\n", accounts, load.Uptime)

	dir, err := os.MkdirTemp("", "faults-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if os.Getenv("FAULTS_KEEP") == "1" {
		fmt.Printf("data and logs in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	st, err := devstack.Start(ctx, devstack.Options{Dir: dir, BinDir: envString("FAULTS_BIN_DIR", "bin"), Log: os.Stderr})
	if err != nil {
		return fmt.Errorf("start the stack (logs in %s): %w", dir, err)
	}
	defer st.Stop()
	d := &drill{st: st, accounts: accounts, stall: stall}
	if d.flow, err = govflow.New(ctx, st, envString("FAULTS_ELF_DIR", filepath.Join("program", "examples", "governed-counter", "elf"))); err != nil {
		return err
	}
	if d.store, err = store.New(ctx, st.DatabaseURL); err != nil {
		return err
	}
	defer d.store.Close()
	if d.temporal, err = temporalclient.Dial(st.TemporalAddress); err != nil {
		return err
	}
	defer d.temporal.Close()

	failed := 0
	for _, c := range cases {
		if len(selected) > 0 && !selected[c.name] {
			continue
		}
		start := time.Now()
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Minute)
		what, err := d.runCase(cctx, c)
		ccancel()
		verdict := "PASS"
		if err != nil {
			failed++
			verdict = "FAIL"
		}
		fmt.Printf("%s %s (%.0f s)\n", verdict, c.name, time.Since(start).Seconds())
		for _, line := range what {
			fmt.Printf("     %s\n", line)
		}
		if err != nil {
			fmt.Printf("     error: %v\n", err)
		}
	}
	fmt.Printf("load after: %s\n", report.ReadLoad().Uptime)
	if failed > 0 {
		return fmt.Errorf("%d drill(s) failed; logs in %s (FAULTS_KEEP=1 keeps them)", failed, dir)
	}
	return nil
}

// upgrade is a drill's proposal: approved, its timelock not yet passed.
type upgrade struct {
	program, proposal solana.PublicKey
	set               *counters.Set
	eta               time.Time
}

// runCase returns what the drill did and what it checked, a line each.
func (d *drill) runCase(ctx context.Context, c kase) ([]string, error) {
	if c.whole != nil {
		return c.whole(ctx, d)
	}
	f := d.flow
	program, err := f.Deploy(ctx)
	if err != nil {
		return []string{"fault: none (set-up failed)"}, err
	}
	set, err := counters.NewSet(program, f.Payer.PublicKey(), 0, d.accounts)
	if err != nil {
		return []string{"fault: none (set-up failed)"}, err
	}
	rent, err := f.Chain.MinimumBalanceForRentExemption(ctx, counters.StateLen)
	if err != nil {
		return []string{"fault: none (set-up failed)"}, err
	}
	if err := f.Fund(ctx, f.Payer.PublicKey(), uint64(len(set.Keys))*rent*11/10); err != nil {
		return []string{"fault: none (set-up failed)"}, err
	}
	if _, err := set.Create(ctx, f.Chain, f.Payer, nil); err != nil {
		return []string{"fault: none (set-up failed)"}, err
	}
	proposal, err := f.Propose(ctx, govflow.Upgrade{Program: program, ELF: f.V2, Migrate: true, Description: "fault drill " + c.name})
	if err != nil {
		return []string{"fault: none (set-up failed)"}, err
	}
	eta, err := f.Approve(ctx, proposal)
	if err != nil {
		return []string{"fault: none (set-up failed)"}, err
	}
	u := &upgrade{program: program, proposal: proposal, set: set, eta: eta}
	what, err := c.run(ctx, d, u)
	lines := []string{"fault: " + what}
	if err != nil {
		return lines, err
	}
	checked, err := d.check(ctx, u)
	return append(lines, checked...), err
}

func (d *drill) killDuringTimelock(ctx context.Context, u *upgrade) (string, error) {
	if err := d.st.Kill("worker"); err != nil {
		return "", err
	}
	if err := d.flow.PassTimelock(ctx, u.eta); err != nil {
		return "", err
	}
	// The API signals the workflow; the signal waits in Temporal until a worker runs again.
	if err := d.flow.RequestExecute(ctx, u.proposal); err != nil {
		return "", err
	}
	time.Sleep(2 * time.Second)
	if err := d.st.StartWorker(ctx); err != nil {
		return "", err
	}
	return "worker killed in the timelock, eta passed and execute requested while it was down, restarted", nil
}

func (d *drill) killDuringExecution(ctx context.Context, u *upgrade) (string, error) {
	if err := d.flow.PassTimelock(ctx, u.eta); err != nil {
		return "", err
	}
	if err := d.flow.RequestExecute(ctx, u.proposal); err != nil {
		return "", err
	}
	id := workflows.ProposalWorkflowID(u.proposal.String())
	deadline := time.Now().Add(30 * time.Second)
	step := ""
	for time.Now().Before(deadline) {
		v, err := d.temporal.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
		var st workflows.ProposalState
		if err == nil && v.Get(&st) == nil {
			step = st.Step
			if step == workflows.StepExecuting || step == workflows.StepMigrating || step == workflows.StepDone {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.st.Kill("worker"); err != nil {
		return "", err
	}
	upgraded := "not yet upgraded"
	if pd, err := d.flow.Chain.GetProgramData(ctx, u.program); err == nil && pd.Hash() == loader.ELFHash(d.flow.V2) {
		upgraded = "already upgraded"
	}
	time.Sleep(2 * time.Second)
	if err := d.st.StartWorker(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("worker killed at step %q (%s on chain), restarted 2 s later", step, upgraded), nil
}

// midMigration executes the upgrade, breaks the stack once about a third of the accounts are
// migrated, and lets it recover.
func (d *drill) midMigration(ctx context.Context, u *upgrade, fault string, breakIt func() error) (string, error) {
	if err := d.flow.PassTimelock(ctx, u.eta); err != nil {
		return "", err
	}
	if err := d.flow.RequestExecute(ctx, u.proposal); err != nil {
		return "", err
	}
	job := workflows.MigrationWorkflowID(u.proposal.String())
	var at store.MigrationJob
	deadline := time.Now().Add(5 * time.Minute)
	for {
		j, err := d.store.GetMigrationJob(ctx, job)
		if err == nil && (j.Migrated*3 >= len(u.set.Keys) || j.Status == store.JobCompleted) {
			at = j
			break
		}
		if time.Now().After(deadline) {
			return fault, fmt.Errorf("migration %s did not reach a third in 5 minutes (%v)", job, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if at.Status == store.JobCompleted {
		return fault, fmt.Errorf("the migration completed before the fault could land; raise FAULTS_ACCOUNTS")
	}
	t0 := time.Now()
	if err := breakIt(); err != nil {
		return fault, err
	}
	return fmt.Sprintf("%s at %d/%d migrated (%.1f s)", fault, at.Migrated, len(u.set.Keys), time.Since(t0).Seconds()), nil
}

// check waits for the upgrade and its migration to finish and checks both happened exactly
// once; it returns what it checked, a line each.
func (d *drill) check(ctx context.Context, u *upgrade) ([]string, error) {
	f := d.flow
	if err := f.WaitDeployed(ctx, u.program, f.V2, 3*time.Minute); err != nil {
		return nil, err
	}
	job := workflows.MigrationWorkflowID(u.proposal.String())
	j, err := govflow.WaitJob(ctx, d.store, job, 10*time.Minute, 4*time.Minute, nil)
	if err != nil {
		return nil, err
	}
	tally, err := counters.Audit(ctx, f.Chain, u.set, u.proposal)
	if err != nil {
		return nil, err
	}
	rows, err := counters.CheckRows(ctx, d.store, job, u.set, tally)
	if err != nil {
		return nil, err
	}
	p, err := d.store.GetProposal(ctx, u.proposal.String())
	if err != nil {
		return nil, err
	}
	var problems []string
	if tally.Executions != 1 {
		problems = append(problems, fmt.Sprintf("%d UpgradeExecuted events, want 1", tally.Executions))
	}
	if p.Status != store.ProposalExecuted || p.ExecuteSignature == "" {
		problems = append(problems, fmt.Sprintf("index says %s (execute signature %q)", p.Status, p.ExecuteSignature))
	}
	if !tally.ExactlyOnce() {
		problems = append(problems, "chain: "+tally.String())
	}
	if !rows.ExactlyOnce(u.set) {
		problems = append(problems, "rows: "+rows.String())
	}
	summary := []string{
		fmt.Sprintf("checked upgrade: %d UpgradeExecuted event(s) on chain, ProgramData holds v2, index says %s", tally.Executions, p.Status),
		fmt.Sprintf("checked job: %s, %d/%d migrated", j.Status, j.Migrated, j.Total),
		"checked chain: " + tally.String(),
		"checked rows: " + rows.String(),
	}
	if len(problems) > 0 {
		return summary, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return summary, nil
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return def
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
