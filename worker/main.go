// Command worker runs the upgrade workflows and their activities (Temporal task queue
// `upgrade-governor`) and the chain indexer. It holds two keys: the guardian (its own emergency
// cancels only) and a fee payer (execute, ExtendProgram rent and migrations).
//
//	worker                      run
//	worker healthcheck          exit 0 when Temporal and PostgreSQL answer (for docker-compose)
//	worker reconcile MULTISIG   compare every proposal on chain with the audit index; exit 1
//	                            when they disagree (after indexing what is new)
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gagliardetto/solana-go"

	"go.uber.org/fx"

	"github.com/upgrade-governor/upgrade-governor/internal/app"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/indexer"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

const usage = `worker: runs the upgrade workflows, their activities and the chain indexer.

usage:
  worker [flags]                      run
  worker healthcheck [flags]          exit 0 when Temporal and PostgreSQL answer
  worker reconcile MULTISIG [flags]   compare every proposal on chain with the audit index

flags (each also read from its environment variable):
`

func main() {
	args := os.Args[1:]
	if config.WantsHelp(args) {
		fmt.Print(usage)
		config.PrintFlags(os.Stdout)
		os.Exit(0)
	}
	if len(args) > 0 && args[0] == "healthcheck" {
		os.Exit(healthcheck(args[1:]))
	}
	if len(args) > 0 && args[0] == "reconcile" {
		os.Exit(reconcile(args[1:]))
	}
	fx.New(
		app.Config("worker", args),
		app.Logging,
		app.Clients,
		store.Module,
		Module,
	).Run()
}

func healthcheck(args []string) int {
	cfg, err := config.Load("worker", args, os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := store.New(ctx, cfg.DatabaseURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck: database:", err)
		return 1
	}
	s.Close()
	if err := app.CheckTemporal(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck: temporal:", err)
		return 1
	}
	return 0
}

func reconcile(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: worker reconcile MULTISIG [flags]")
		return 2
	}
	multisig, err := solana.PublicKeyFromBase58(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "reconcile: MULTISIG %q: %v\n", args[0], err)
		return 2
	}
	cfg, err := config.Load("worker", args[1:], os.LookupEnv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconcile:", err)
		return 2
	}
	program, err := solana.PublicKeyFromBase58(cfg.ProgramID)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconcile: program id:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := store.New(ctx, cfg.DatabaseURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconcile: database:", err)
		return 1
	}
	defer s.Close()
	ix := &indexer.Indexer{Chain: chain.New(cfg.RPCURL), Store: s, Program: program, Log: slog.Default()}
	if _, err := ix.Poll(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "reconcile: index new transactions:", err)
		return 1
	}
	mismatches, err := ix.Reconcile(ctx, multisig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconcile:", err)
		return 1
	}
	for _, m := range mismatches {
		fmt.Printf("%s %s: chain %s, index %s\n", m.Proposal, m.Field, m.Chain, m.Index)
	}
	if len(mismatches) > 0 {
		return 1
	}
	fmt.Println("audit index agrees with the chain")
	return 0
}
