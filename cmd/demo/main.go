// Command demo runs the whole system on embedded defaults and drives a real upgrade through
// the API (see internal/scenario): a 3-of-5 multisig, a proposal with its buffer hash, three
// approvals, the 48-hour timelock crossed by time travel on the local chain, execution (the
// program's bytes change), the migration of its accounts with a progress bar, and an
// emergency cancel of a second proposal with the `temporal` CLI. `make demo` builds what it
// needs and runs it.
//
// Any part can be an existing instance instead: --database-url, --temporal-address (the
// temporal CLI must reach it too). DEMO_EXIT=1 (or --exit) stops everything at the end instead
// of waiting for Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/scenario"
)

func main() {
	var (
		dir         = flag.String("dir", "", "directory for data and logs (default: a new temporary one)")
		dbURL       = flag.String("database-url", os.Getenv("UG_DATABASE_URL"), "use this PostgreSQL database instead of a private cluster")
		temporal    = flag.String("temporal-address", os.Getenv("UG_TEMPORAL_ADDRESS"), "use this Temporal frontend instead of the dev server")
		accounts    = flag.Int("accounts", 2000, "counter accounts to create and migrate")
		exitAtEnd   = flag.Bool("exit", os.Getenv("DEMO_EXIT") == "1", "stop everything when the scenario ends (DEMO_EXIT=1)")
		binDir      = flag.String("bin", "bin", "directory of the worker and apiserver binaries")
		elfDir      = flag.String("elf", "program/examples/governed-counter/elf", "directory of the governed counter's ELFs")
		uiPort      = flag.Int("ui-port", 8233, "Temporal Web UI port")
		httpPort    = flag.Int("http-port", 8080, "API server port")
		temporalBin = flag.String("temporal-bin", os.Getenv("TEMPORAL_BIN"), "temporal CLI")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *temporalBin == "" {
		home, _ := os.UserHomeDir()
		*temporalBin = filepath.Join(home, ".cache", "upgrade-governor", "bin", "temporal")
	}
	if err := run(ctx, *dir, *dbURL, *temporal, *accounts, *exitAtEnd, *binDir, *elfDir, *uiPort, *httpPort, *temporalBin); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, dbURL, temporalAddr string, accounts int, exitAtEnd bool, binDir, elfDir string, uiPort, httpPort int, temporalBin string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "upgrade-governor-demo-")
		if err != nil {
			return fmt.Errorf("temp dir: %w", err)
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo dir: %w", err)
	}
	out := os.Stdout
	fmt.Fprintf(out, "upgrade-governor demo (data and logs in %s)\n\n", dir)
	scenario.Step(out, "Starting PostgreSQL, Temporal (with its Web UI), localnet, the worker and the API server")
	st, err := devstack.Start(ctx, devstack.Options{
		Dir: dir, DatabaseURL: dbURL, TemporalAddress: temporalAddr, TemporalUIPort: uiPort,
		HTTPPort: httpPort, BinDir: binDir, TemporalBin: temporalBin, Log: out,
	})
	if err != nil {
		return err
	}
	defer func() {
		scenario.Step(out, "Stopping everything")
		st.Stop()
	}()
	if _, err := scenario.Run(ctx, st, scenario.Options{
		Accounts: accounts, TemporalBin: temporalBin, ELFDir: elfDir, Out: out,
	}); err != nil {
		fmt.Fprintf(out, "\nlogs: %s\n", dir)
		return err
	}
	fmt.Fprintf(out, "\nTemporal Web UI: %s/namespaces/default/workflows\n", st.TemporalUI)
	fmt.Fprintf(out, "Members' page:   %s/ui/\n", st.APIURL)
	fmt.Fprintf(out, "API:             %s/proposals\n", st.APIURL)
	if exitAtEnd {
		return nil
	}
	fmt.Fprintln(out, "\nEverything keeps running; press Ctrl-C to stop.")
	<-ctx.Done()
	return nil
}
