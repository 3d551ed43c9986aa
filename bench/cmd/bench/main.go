// Command bench starts the whole stack (PostgreSQL, Temporal dev server, localnet, worker, API
// server) and prints one table of figures, also written as JSON:
//
//   - migration: N counter accounts migrated v1 -> v2 by the real MigrationWorkflow, beside the
//     raw engine rate (the same migrate_account transactions from a bare pipelined sender, on a
//     second deployment) and a naive baseline (one account per transaction, send-and-confirm);
//     accounts lost or migrated twice are counted from the chain's events and logs;
//   - the proposal lifecycle: eta passes -> upgrade confirmed on chain;
//   - cost per proposal: Temporal history events, transaction bytes and accounts;
//   - the API under load from a separate process (bench/cmd/loadgen) with 10,000 proposals.
//
// Figures are printed, never asserted. Settings come from the environment:
//
//	BENCH_ACCOUNTS=100000 BENCH_RAW_ACCOUNTS=<accounts> BENCH_NAIVE_ACCOUNTS=1000
//	BENCH_RAW_WINDOW=256 BENCH_LIFECYCLE_RUNS=3 BENCH_PROPOSALS=10000
//	BENCH_API_CONCURRENCY=16 BENCH_API_REQUESTS=20000 BENCH_API_SECONDS=15
//	BENCH_OUT=bench/results.json BENCH_BIN_DIR=bin BENCH_ELF_DIR=program/examples/governed-counter/elf
//	BENCH_KEEP=1 (keep the data and logs directory)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/report"
	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// Config is what a run measures, from BENCH_* variables.
type Config struct {
	Accounts       int    `json:"accounts"`
	RawAccounts    int    `json:"raw_accounts"`
	NaiveAccounts  int    `json:"naive_accounts"`
	RawWindow      int    `json:"raw_window"`
	AccountsPerTx  int    `json:"accounts_per_tx"`
	LifecycleRuns  int    `json:"lifecycle_runs"`
	Proposals      int    `json:"proposals"`
	APIConcurrency int    `json:"api_concurrency"`
	APIRequests    int    `json:"api_requests"`
	APISeconds     int    `json:"api_seconds"`
	Out            string `json:"-"`
	BinDir         string `json:"-"`
	ELFDir         string `json:"-"`
	Keep           bool   `json:"-"`
	// Parts picks the benchmarks to run (BENCH_PARTS, a comma list); empty runs them all.
	Parts []string `json:"parts,omitempty"`
}

func config() Config {
	c := Config{
		Accounts:       envInt("BENCH_ACCOUNTS", 100_000),
		NaiveAccounts:  envInt("BENCH_NAIVE_ACCOUNTS", 1_000),
		RawWindow:      envInt("BENCH_RAW_WINDOW", 256),
		AccountsPerTx:  workflows.DefaultAccountsPerTx,
		LifecycleRuns:  envInt("BENCH_LIFECYCLE_RUNS", 3),
		Proposals:      envInt("BENCH_PROPOSALS", 10_000),
		APIConcurrency: envInt("BENCH_API_CONCURRENCY", 16),
		APIRequests:    envInt("BENCH_API_REQUESTS", 1_000_000),
		APISeconds:     envInt("BENCH_API_SECONDS", 15),
		Out:            envString("BENCH_OUT", filepath.Join("bench", "results.json")),
		BinDir:         envString("BENCH_BIN_DIR", "bin"),
		ELFDir:         envString("BENCH_ELF_DIR", filepath.Join("program", "examples", "governed-counter", "elf")),
		Keep:           os.Getenv("BENCH_KEEP") == "1",
	}
	c.RawAccounts = envInt("BENCH_RAW_ACCOUNTS", c.Accounts)
	for _, p := range strings.Split(os.Getenv("BENCH_PARTS"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.Parts = append(c.Parts, p)
		}
	}
	return c
}

// Results is bench/results.json.
type Results struct {
	Config     Config         `json:"config"`
	LoadBefore report.Load    `json:"load_before"`
	LoadAfter  report.Load    `json:"load_after"`
	Migration  *Migration     `json:"migration,omitempty"`
	Lifecycle  *Lifecycle     `json:"lifecycle,omitempty"`
	Cost       *Cost          `json:"cost,omitempty"`
	API        *APIResults    `json:"api,omitempty"`
	Errors     []string       `json:"errors,omitempty"`
	Seconds    float64        `json:"seconds"`
	Logs       string         `json:"logs,omitempty"`
	Notes      map[string]any `json:"notes,omitempty"`
}

func main() {
	// `bench -print results.json` prints the table of an earlier run.
	if len(os.Args) == 3 && os.Args[1] == "-print" {
		if err := printFile(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	cfg := config()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg Config) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Hour)
	defer cancel()
	res := &Results{Config: cfg, LoadBefore: report.ReadLoad()}
	logf("%s; %d accounts (raw %d, naive %d)", res.LoadBefore.String(), cfg.Accounts, cfg.RawAccounts, cfg.NaiveAccounts)

	// PostgreSQL runs as the postgres user when we are root: its directory must be reachable.
	dir, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	} else {
		res.Logs = dir
	}
	st, err := devstack.Start(ctx, devstack.Options{Dir: dir, BinDir: cfg.BinDir, Log: os.Stderr})
	if err != nil {
		return fmt.Errorf("start the stack (logs in %s): %w", dir, err)
	}
	defer st.Stop()

	b, err := newBench(ctx, cfg, st)
	if err != nil {
		return fmt.Errorf("%w (logs in %s)", err, dir)
	}
	defer b.close()

	step := func(name string, fn func() error) {
		if ctx.Err() != nil || (len(cfg.Parts) > 0 && !slices.Contains(cfg.Parts, name)) {
			return
		}
		logf("== %s", name)
		if err := fn(); err != nil {
			logf("%s: %v", name, err)
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", name, err))
		}
	}
	step("migration", func() error { var err error; res.Migration, err = b.migration(ctx); return err })
	step("lifecycle", func() error { var err error; res.Lifecycle, err = b.lifecycle(ctx); return err })
	step("cost", func() error { var err error; res.Cost, err = b.cost(ctx, res.Migration); return err })
	step("api", func() error { var err error; res.API, err = b.api(ctx); return err })

	res.LoadAfter = report.ReadLoad()
	res.Seconds = time.Since(start).Seconds()
	fmt.Println()
	res.print()
	if err := report.WriteJSON(cfg.Out, res); err != nil {
		return fmt.Errorf("write %s: %w", cfg.Out, err)
	}
	fmt.Printf("\nwritten to %s (%.0f s in all)\n", cfg.Out, res.Seconds)
	if len(res.Errors) > 0 {
		return fmt.Errorf("%d benchmark(s) failed (logs in %s)", len(res.Errors), dir)
	}
	return nil
}

func (r *Results) print() {
	t := &report.Table{}
	r.table(t)
	fmt.Printf("upgrade-governor benchmarks (%s, %d accounts)\n", r.LoadAfter.At.Format(time.RFC3339), r.Config.Accounts)
	fmt.Printf("load before: %s\nload after:  %s\n", r.LoadBefore.Uptime, r.LoadAfter.Uptime)
	t.Print(os.Stdout)
	if len(r.Errors) > 0 {
		fmt.Println("\nERRORS")
		for _, e := range r.Errors {
			fmt.Println("  " + e)
		}
	}
}

func printFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r Results
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r.print()
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return n
		}
		fmt.Fprintf(os.Stderr, "bench: %s=%q is not a count; using %d\n", name, v, def)
	}
	return def
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
