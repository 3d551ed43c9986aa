// Command apiserver serves the upgrade-governor HTTP API. It holds no key: governance
// requests carry transactions that members signed.
//
//	apiserver [flags]              migrate the store, then serve (UG_HTTP_ADDR)
//	apiserver migrate [flags]      apply the store's migrations and exit
//	apiserver healthcheck [flags]  GET /healthz on the configured address; exit 0 or 1
//	apiserver multisig serve|unserve|list ...   the multisigs this deployment serves
//	apiserver token create|list|revoke ...      operator and guardian bearer tokens
//	apiserver webhook create|list|pause|resume|delete ...   webhook subscriptions (notifications)
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/app"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

const usage = `apiserver: the upgrade-governor HTTP API. It holds no key.

usage:
  apiserver [flags]              migrate the store, then serve (UG_HTTP_ADDR)
  apiserver migrate [flags]      apply the store's migrations and exit
  apiserver healthcheck [flags]  GET /healthz on the configured address; exit 0 or 1
`

func main() {
	args := os.Args[1:]
	if config.WantsHelp(args) && args[0] != "multisig" && args[0] != "token" && args[0] != "webhook" {
		printHelp(os.Stdout)
		os.Exit(0)
	}
	if len(args) > 0 {
		switch args[0] {
		case "migrate":
			os.Exit(migrate(args[1:]))
		case "healthcheck":
			os.Exit(healthcheck(args[1:]))
		case "multisig", "token", "webhook":
			os.Exit(admin(args[0], args[1:], os.Stdout, os.Stderr, os.LookupEnv))
		}
	}
	fx.New(
		app.Config("apiserver", args),
		app.Logging,
		app.Clients,
		store.Module,
		api.Module,
	).Run()
}

// printHelp is what --help prints: the commands, then every flag with its environment variable.
func printHelp(w io.Writer) {
	fmt.Fprint(w, usage+adminCommands)
	fmt.Fprintln(w, "\nflags (each also read from its environment variable):")
	config.PrintFlags(w)
}

// migrate starts only the store and applies its migrations.
func migrate(args []string) int {
	a := fx.New(
		app.Config("apiserver migrate", args),
		app.Logging,
		store.Module,
		fx.Invoke(func(lc fx.Lifecycle, s *store.Store) {
			lc.Append(fx.StartHook(s.Migrate))
		}),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		return 1
	}
	if err := a.Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		return 1
	}
	return 0
}

// healthcheck is what docker-compose runs (the image has no curl).
func healthcheck(args []string) int {
	cfg, err := config.Load("apiserver healthcheck", args, os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	url := "http://" + dialAddr(cfg.HTTPAddr) + "/healthz"
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "healthcheck: %s answered %s\n", url, resp.Status)
		return 1
	}
	return 0
}

// dialAddr turns a listen address (0.0.0.0:8080, :8080) into one to dial.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
