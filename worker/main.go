// Command worker runs the upgrade workflows and their activities (Temporal task queue
// `upgrade-governor`) and the chain indexer. It holds one key: the guardian / fee payer.
//
//	worker            run
//	worker healthcheck  exit 0 when Temporal and PostgreSQL answer (for docker-compose)
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/upgrade-governor/upgrade-governor/internal/app"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "healthcheck" {
		os.Exit(healthcheck(args[1:]))
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
