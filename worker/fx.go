package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gagliardetto/solana-go"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/fx"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/indexer"
	"github.com/upgrade-governor/upgrade-governor/internal/notify"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// Module wires the worker: its two keys, the activities, the Temporal worker, the indexer.
var Module = fx.Module("worker",
	fx.Provide(loadKeys, newActivities, newWorker, newIndexer, newDispatcher),
	fx.Invoke(migrateSchema, registerKeys, func(worker.Worker) {}, runIndexer, runDispatcher),
)

// Keys are the two keys the worker holds: the guardian signs and pays only its own emergency
// cancels; the fee payer pays everything else the worker sends.
type Keys struct {
	Guardian, FeePayer *chain.Keypair
}

func loadKeys(cfg config.Config) (Keys, error) {
	if cfg.KeypairPath == "" {
		return Keys{}, fmt.Errorf("config: keypair (UG_KEYPAIR_PATH / --keypair): the worker needs the guardian keypair")
	}
	if cfg.FeePayerKeypairPath == "" {
		return Keys{}, fmt.Errorf("config: fee_payer_keypair_path (UG_FEE_PAYER_KEYPAIR_PATH / --fee-payer-keypair): the worker needs a fee-payer keypair of its own, not the guardian's")
	}
	g, err := chain.LoadKeypair(cfg.KeypairPath)
	if err != nil {
		return Keys{}, fmt.Errorf("load guardian keypair: %w", err)
	}
	p, err := chain.LoadKeypair(cfg.FeePayerKeypairPath)
	if err != nil {
		return Keys{}, fmt.Errorf("load fee-payer keypair: %w", err)
	}
	if g.PublicKey().Equals(p.PublicKey()) {
		return Keys{}, fmt.Errorf("config: fee_payer_keypair_path (UG_FEE_PAYER_KEYPAIR_PATH / --fee-payer-keypair): the fee payer %s is the guardian key; give the worker a fee payer of its own, so draining it cannot disable the emergency stop", p.PublicKey())
	}
	return Keys{Guardian: g, FeePayer: p}, nil
}

func newActivities(cfg config.Config, c *chain.Client, s *store.Store, keys Keys, l *slog.Logger) *activities.Activities {
	return &activities.Activities{
		Chain: c, Store: s, Guardian: keys.Guardian, FeePayer: keys.FeePayer,
		MaxExtendRent: cfg.MaxExtendRent(), Log: l.With("component", "activities"),
		Webhooks:     notify.NewSender(webhookPolicy(cfg), notify.DefaultLimits),
		WebhookRetry: activities.DefaultWebhookRetry,
	}
}

// migrateSchema brings the database to the latest schema before the worker takes tasks.
func migrateSchema(lc fx.Lifecycle, s *store.Store) {
	lc.Append(fx.StartHook(func(ctx context.Context) error { return s.Migrate(ctx) }))
}

// keySeenEvery is how often a running worker tells the store it still holds its keys, so the
// API reports their balances (keys unseen for a day are dropped from the report).
const keySeenEvery = time.Hour

// registerKeys records the worker's public keys at start and keeps them fresh.
func registerKeys(lc fx.Lifecycle, s *store.Store, keys Keys, l *slog.Logger) {
	origin := store.Origin{Actor: "worker", Source: store.SourceWorker}
	register := func(ctx context.Context) error {
		if err := s.RegisterWorkerKey(ctx, keys.FeePayer.PublicKey().String(), store.KeyFeePayer, origin); err != nil {
			return err
		}
		return s.RegisterWorkerKey(ctx, keys.Guardian.PublicKey().String(), store.KeyGuardian, origin)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lc.Append(fx.Hook{
		OnStart: func(start context.Context) error {
			if err := register(start); err != nil {
				return err
			}
			go func() {
				t := time.NewTicker(keySeenEvery)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						if err := register(ctx); err != nil && ctx.Err() == nil {
							l.Warn("refresh worker keys", "error", err)
						}
					}
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error { cancel(); return nil },
	})
}

func newWorker(lc fx.Lifecycle, c client.Client, cfg config.Config, a *activities.Activities, l *slog.Logger) worker.Worker {
	w := worker.New(c, cfg.TaskQueue, worker.Options{
		// Stop taking new tasks, then give running activities time to finish their batch.
		WorkerStopTimeout: 30 * time.Second,
	})
	w.RegisterWorkflow(workflows.UpgradeProposalWorkflow)
	w.RegisterWorkflow(workflows.MigrationWorkflow)
	w.RegisterWorkflow(workflows.DeliverNotificationsWorkflow)
	w.RegisterActivity(a)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			l.Info("worker starting", "task_queue", cfg.TaskQueue, "guardian", a.Guardian.PublicKey().String(),
				"fee_payer", a.FeePayer.PublicKey().String(), "max_extend_rent_lamports", a.MaxExtendRent)
			return w.Start()
		},
		OnStop: func(context.Context) error { w.Stop(); return nil },
	})
	return w
}

func newIndexer(cfg config.Config, c *chain.Client, s *store.Store, tc client.Client, l *slog.Logger) (*indexer.Indexer, error) {
	program, err := solana.PublicKeyFromBase58(cfg.ProgramID)
	if err != nil {
		return nil, fmt.Errorf("program id: %w", err)
	}
	return &indexer.Indexer{
		Chain: c, Store: s, Program: program, Log: l.With("component", "indexer"),
		// A member who approved straight through RPC: the workflow re-reads the chain.
		Notify: func(ctx context.Context, proposal string) error {
			return tc.SignalWorkflow(ctx, workflows.ProposalWorkflowID(proposal), "", workflows.SignalApprovalObserved, nil)
		},
	}, nil
}

// indexInterval is how often the indexer asks the node for new transactions of the program.
const indexInterval = 2 * time.Second

func runIndexer(lc fx.Lifecycle, ix *indexer.Indexer) {
	runLoop(lc, func(ctx context.Context) { ix.Run(ctx, indexInterval) })
}

// runLoop runs loop in the background from the worker's start until its stop, which cancels
// it and waits for it to return (or for the stop's deadline).
func runLoop(lc fx.Lifecycle, loop func(context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() { defer close(done); loop(ctx) }()
			return nil
		},
		OnStop: func(stopCtx context.Context) error {
			cancel()
			select {
			case <-done:
			case <-stopCtx.Done():
			}
			return nil
		},
	})
}

// webhookPolicy is what the operator lets webhook URLs reach.
func webhookPolicy(cfg config.Config) notify.Policy {
	return notify.Policy{AllowHTTP: cfg.AllowWebhookHTTP(), AllowPrivate: cfg.AllowWebhookPrivate()}
}

func newDispatcher(cfg config.Config, s *store.Store, tc client.Client, l *slog.Logger) *notify.Dispatcher {
	return &notify.Dispatcher{
		Store: s, Builder: &notify.Builder{Store: s, PublicURL: cfg.PublicURL},
		Log: l.With("component", "notifier"),
		Kick: func(ctx context.Context, subscription int64) error {
			return workflows.KickNotifications(ctx, tc, cfg.TaskQueue, subscription)
		},
	}
}

// dispatchInterval is how often the notifier looks for new audit rows and due eta reminders.
const dispatchInterval = 2 * time.Second

// runDispatcher turns the audit trail into notifications while the worker runs (every replica
// runs it; they take turns through a lock in PostgreSQL).
func runDispatcher(lc fx.Lifecycle, d *notify.Dispatcher) {
	runLoop(lc, func(ctx context.Context) { d.Run(ctx, dispatchInterval) })
}
