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
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/scenario"
	"github.com/upgrade-governor/upgrade-governor/workflows"
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

// portFree reports whether nothing listens on the loopback port.
func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
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
	// Temporal on its default port when it is free, so the temporal CLI's defaults (and the
	// README's commands) reach it; the commands printed below name the address anyway.
	temporalPort := 0
	if portFree(7233) {
		temporalPort = 7233
	}
	st, err := devstack.Start(ctx, devstack.Options{
		Dir: dir, DatabaseURL: dbURL, TemporalAddress: temporalAddr, TemporalPort: temporalPort, TemporalUIPort: uiPort,
		HTTPPort: httpPort, BinDir: binDir, TemporalBin: temporalBin, Log: out,
	})
	if err != nil {
		return err
	}
	defer func() {
		scenario.Step(out, "Stopping everything")
		st.Stop()
	}()
	res, err := scenario.Run(ctx, st, scenario.Options{
		Accounts: accounts, TemporalBin: temporalBin, ELFDir: elfDir, Out: out,
	})
	if err != nil {
		fmt.Fprintf(out, "\nlogs: %s\n", dir)
		return err
	}
	fmt.Fprintf(out, "\nTemporal Web UI: %s/namespaces/default/workflows\n", st.TemporalUI)
	fmt.Fprintf(out, "Members' page:   %s/ui/\n", st.APIURL)
	fmt.Fprintf(out, "API:             %s/proposals\n", st.APIURL)
	fmt.Fprintf(out, "\nTry it (each line pastes as it is):\n")
	t := fmt.Sprintf("%s workflow", temporalBin)
	for _, line := range []string{
		fmt.Sprintf("%s list --address %s --query \"UpgradeProgram='%s'\"", t, st.TemporalAddress, res.Program),
		fmt.Sprintf("%s query --address %s --workflow-id %s --type status", t, st.TemporalAddress, workflows.ProposalWorkflowID(res.Executed.String())),
		fmt.Sprintf("%s query --address %s --workflow-id %s --type progress", t, st.TemporalAddress, workflows.MigrationWorkflowID(res.Executed.String())),
		fmt.Sprintf("curl -s %s/proposals/%s", st.APIURL, res.Executed),
		fmt.Sprintf("curl -s '%s/audit?proposal=%s'", st.APIURL, res.Executed),
		fmt.Sprintf("curl -s %s/multisigs", st.APIURL),
	} {
		fmt.Fprintln(out, "  "+line)
	}
	if exitAtEnd {
		return nil
	}
	fmt.Fprintln(out, "\nEverything keeps running; press Ctrl-C to stop.")
	<-ctx.Done()
	return nil
}
