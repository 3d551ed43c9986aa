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
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// Module wires the worker: the guardian key, the activities, the Temporal worker.
var Module = fx.Module("worker",
	fx.Provide(loadGuardian, newActivities, newWorker, newIndexer),
	fx.Invoke(migrateSchema, func(worker.Worker) {}, runIndexer),
)

func loadGuardian(cfg config.Config) (*chain.Keypair, error) {
	if cfg.KeypairPath == "" {
		return nil, fmt.Errorf("config: keypair (UG_KEYPAIR_PATH / --keypair): the worker needs the guardian / fee-payer keypair")
	}
	k, err := chain.LoadKeypair(cfg.KeypairPath)
	if err != nil {
		return nil, fmt.Errorf("load guardian keypair: %w", err)
	}
	return k, nil
}

func newActivities(c *chain.Client, s *store.Store, guardian *chain.Keypair, l *slog.Logger) *activities.Activities {
	return &activities.Activities{Chain: c, Store: s, Guardian: guardian, Log: l.With("component", "activities")}
}

// migrateSchema brings the database to the latest schema before the worker takes tasks.
func migrateSchema(lc fx.Lifecycle, s *store.Store) {
	lc.Append(fx.StartHook(func(ctx context.Context) error { return s.Migrate(ctx) }))
}

func newWorker(lc fx.Lifecycle, c client.Client, cfg config.Config, a *activities.Activities, l *slog.Logger) worker.Worker {
	w := worker.New(c, cfg.TaskQueue, worker.Options{
		// Stop taking new tasks, then give running activities time to finish their batch.
		WorkerStopTimeout: 30 * time.Second,
	})
	w.RegisterWorkflow(workflows.UpgradeProposalWorkflow)
	w.RegisterWorkflow(workflows.MigrationWorkflow)
	w.RegisterActivity(a)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			l.Info("worker starting", "task_queue", cfg.TaskQueue, "guardian", a.Guardian.PublicKey().String())
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() { defer close(done); ix.Run(ctx, indexInterval) }()
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
