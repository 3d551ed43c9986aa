package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/report"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// temporalHistoryLimit is the Temporal server's default limit.historyCount.error: a workflow
// whose history reaches it is terminated.
const temporalHistoryLimit = 51_200

// table lays the results out as one table.
func (r *Results) table(t *report.Table) {
	if m := r.Migration; m != nil {
		const s = "migration (localnet, governed counter v1 -> v2)"
		t.Add(s, "create accounts (create_with_seed + init)", rate(m.Create.PerSecond, "accounts/s"),
			fmt.Sprintf("%d accounts, %d per tx, %d txs, %.1f s, pipelined", m.Create.Accounts, m.Create.PerTx, m.Create.Transactions, m.Create.Seconds))
		t.Add(s, "(a) raw engine: bare pipelined sender", rate(m.Raw.PerSecond, "accounts/s"),
			fmt.Sprintf("%d accounts, %d per tx, %d txs, up to %d in flight, %.1f s; no Temporal, no PostgreSQL", m.Raw.Accounts, m.Raw.AccountsPerTx, m.Raw.Transactions, m.Raw.Window, m.Raw.Seconds))
		o := m.Ours
		t.Add(s, "(b) ours: MigrationWorkflow, end to end", rate(o.EndToEndPerSecond, "accounts/s"),
			fmt.Sprintf("%d accounts in %.1f s from the upgrade confirmed to the job completed", o.Accounts, o.EndToEndSeconds))
		t.Add(s, "    ours: migrate phase only", rate(o.MigratePerSecond, "accounts/s"),
			fmt.Sprintf("%.1f s after %.1f s of listing and recording rows", o.MigrateSeconds, o.ListingSeconds))
		t.Add(s, "(c) naive: 1 account/tx, send-and-confirm", rate(m.Naive.PerSecond, "accounts/s"),
			fmt.Sprintf("%d-account sample, %.1f s", m.Naive.Accounts, m.Naive.Seconds))
		t.Add(s, "ours / raw", fmt.Sprintf("%.2f", o.RatioRaw), "end to end")
		t.Add(s, "ours / naive", fmt.Sprintf("%.1f", o.RatioNaive), "end to end")
		t.Add(s, "transactions used (ours)", fmt.Sprint(o.Transactions),
			fmt.Sprintf("migrate_account txs landed on chain; the workflow counted %d sends; %d workflow run(s)", o.WorkflowTxs, o.Runs))
		t.Add(s, "compute units per account", fmt.Sprintf("%.0f", o.CUPerAccount),
			fmt.Sprintf("meta.computeUnitsConsumed of every migrate tx / its accounts (per tx: %.0f-%.0f); SBF migrate CPI only, native governor unmetered", o.CUPerAccountMin, o.CUPerAccountMax))
		t.Add(s, "worker peak RSS (VmHWM)", report.MiB(o.WorkerPeakRSS),
			fmt.Sprintf("before %s, listing peak %s, migrating peak %s", report.MiB(o.WorkerRSSBefore), report.MiB(o.WorkerRSSListing), report.MiB(o.WorkerRSSMigrating)))
		t.Add(s, "exactly once (ours)", yesNo(o.ExactlyOnce), "chain: "+o.Chain)
		t.Add(s, "", "", "rows: "+o.Rows)
		t.Add(s, "exactly once (raw + naive)", yesNo(m.RawExactlyOnce), m.RawChecked)
		t.Add(s, "indexer catch-up before ours", fmt.Sprintf("%.1f s", m.IndexerCatchUpSeconds),
			fmt.Sprintf("waited for the worker's indexer to read the control group's txs (%d were unread when the wait began)", m.IndexerTransactions))
		t.Add(s, "tuning (ours)", "", o.Tuning)
		t.Add(s, "memory for 1,000,000 accounts", "", o.MemoryBound)
	}
	if l := r.Lifecycle; l != nil && len(l.Runs) > 0 {
		const s = "proposal lifecycle (eta passes -> upgrade confirmed on chain)"
		for i, run := range l.Runs {
			t.Add(s, fmt.Sprintf("run %d", i+1), fmt.Sprintf("%.2f s", run.UpgradeSeconds),
				fmt.Sprintf("time travel %.3f s, execute request answered %.2f s, API shows executed %.2f s",
					run.TimeTravelSeconds, run.RequestSeconds, run.ExecutedSeconds))
		}
		t.Add(s, "median", fmt.Sprintf("%.2f s", l.MedianSeconds), "no migration declared; includes ExtendProgram when v2 is larger")
	}
	if c := r.Cost; c != nil {
		const s = "cost per proposal"
		t.Add(s, "history events, proposal with migration", fmt.Sprint(c.ProposalEvents),
			fmt.Sprintf("%d bytes; the migration's own events are in its child; by type: %s", c.ProposalHistoryBytes, topTypes(c.ProposalEventTypes, 4)))
		if r.Lifecycle != nil {
			t.Add(s, "history events, proposal without migration", fmt.Sprint(r.Lifecycle.HistoryEvents), "propose, 3 approvals, timelock, execute")
			if m := r.Migration; m != nil && m.Ours.Transactions > 0 && c.ProposalEvents > r.Lifecycle.HistoryEvents {
				perTx := float64(c.ProposalEvents-r.Lifecycle.HistoryEvents) / float64(m.Ours.Transactions)
				limitTxs := float64(temporalHistoryLimit-r.Lifecycle.HistoryEvents) / perTx
				t.Add(s, "    proposal history per migrate tx", fmt.Sprintf("%.2f", perTx), fmt.Sprintf(
					"proposal history that grows with the migration (should stay near 0: the indexer does not signal "+
						"AccountsMigrated); at Temporal's %d-event limit that is about %.0f migrate txs (%.0f accounts at %d/tx)",
					temporalHistoryLimit, limitTxs, limitTxs*workflows.DefaultAccountsPerTx, workflows.DefaultAccountsPerTx))
			}
		}
		t.Add(s, "history events, migration (last run)", fmt.Sprint(c.MigrationLastRunEvents),
			fmt.Sprintf("%d bytes; %d run(s), continue-as-new every 100 rounds", c.MigrationLastRunBytes, c.MigrationRuns))
		for _, tx := range c.Transactions {
			t.Add(s, tx.Instruction, fmt.Sprintf("%d B", tx.Bytes), fmt.Sprintf("%d accounts, %d signer(s); limit 1232 B", tx.Accounts, tx.Signers))
		}
	}
	if a := r.API; a != nil {
		const s = "API under load (separate process, loopback)"
		t.Add(s, "index rows inserted with the store", fmt.Sprint(a.Proposals), fmt.Sprintf("%.0f rows/s (with their audit rows)", a.InsertPerSecond))
		for _, x := range []struct {
			name string
			r    LoadRun
		}{{"GET /proposals (first page)", a.List}, {"GET /proposals (random page of 50)", a.ListDeep},
			{"GET /proposals/:id (1,000 ids)", a.Detail}, {"GET /proposals/:id (each id once)", a.DetailCold}} {
			t.Add(s, x.name, rate(x.r.PerSecond, "req/s"),
				fmt.Sprintf("p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d requests, %d errors, status %v, %d concurrent; cache %d hits, %d misses, %d bypassed",
					x.r.P50Ms, x.r.P99Ms, x.r.MaxMs, x.r.Requests, x.r.Errors, x.r.Status, x.r.Concurrency, x.r.CacheHits, x.r.CacheMisses, x.r.CacheBypass))
		}
	}
}

// topTypes lists the n most frequent event types.
func topTypes(counts map[string]int, n int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range counts {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || (all[i].v == all[j].v && all[i].k < all[j].k) })
	var parts []string
	for i, e := range all {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", strings.ToLower(e.k), e.v))
	}
	return strings.Join(parts, ", ")
}

func rate(v float64, unit string) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}
