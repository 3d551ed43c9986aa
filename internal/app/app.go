// Package app holds the fx modules both binaries (worker, apiserver) compose: configuration,
// structured logging, the Temporal client and the chain client.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
)

// Config loads and validates the configuration of the binary `name` from its flags and the
// UG_* environment.
func Config(name string, args []string) fx.Option {
	return fx.Provide(func() (config.Config, error) {
		cfg, err := config.Load(name, args, os.LookupEnv)
		if err != nil {
			return config.Config{}, err
		}
		if err := cfg.Validate(); err != nil {
			return config.Config{}, err
		}
		return cfg, nil
	})
}

// NewLogger is the JSON logger of both binaries; the config's LogValue hides secrets.
func NewLogger(cfg config.Config) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
}

// Logging provides *slog.Logger and routes fx's own events through it.
var Logging = fx.Options(
	fx.Provide(NewLogger),
	fx.WithLogger(func(l *slog.Logger) fxevent.Logger {
		return &fxevent.SlogLogger{Logger: l.With("component", "fx")}
	}),
)

// NewTemporalClient dials the Temporal frontend lazily, so a binary starts even while Temporal
// is still coming up; calls fail until it answers.
func NewTemporalClient(lc fx.Lifecycle, cfg config.Config, l *slog.Logger) (client.Client, error) {
	c, err := client.NewLazyClient(client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    tlog.NewStructuredLogger(l.With("component", "temporal")),
	})
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", cfg.TemporalAddress, err)
	}
	lc.Append(fx.StopHook(c.Close))
	return c, nil
}

// NewChainClient is the Solana JSON-RPC client.
func NewChainClient(lc fx.Lifecycle, cfg config.Config, l *slog.Logger) *chain.Client {
	c := chain.New(cfg.RPCURL, chain.WithLogger(l.With("component", "chain")), chain.WithPriorityFee(cfg.Fee()))
	lc.Append(fx.StopHook(func(context.Context) error { return c.Close() }))
	return c
}

// Clients provides the Temporal and chain clients.
var Clients = fx.Provide(NewTemporalClient, NewChainClient)

// CheckTemporal dials Temporal and asks for the system info, for health checks.
func CheckTemporal(ctx context.Context, cfg config.Config) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace})
	if err != nil {
		return fmt.Errorf("dial %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("health of %s: %w", cfg.TemporalAddress, err)
	}
	return nil
}
