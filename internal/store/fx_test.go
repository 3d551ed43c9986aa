package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func TestModuleProvidesAStoreThatAnswers(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	var s *store.Store
	app := fxtest.New(t, fx.Supply(cfg), store.Module, fx.Populate(&s))
	app.RequireStart()
	require.NoError(t, s.Migrate(ctxT(t)))
	_, err := s.ListAudit(ctxT(t), store.AuditFilter{})
	require.NoError(t, err)
	app.RequireStop()
	require.Error(t, s.Ping(ctxT(t)), "the pool is closed at stop")
}

func TestModuleFailsToStartWithoutDatabase(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.DatabaseURL = "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"
	app := fx.New(fx.Supply(cfg), store.Module, fx.Invoke(func(*store.Store) {}), fx.NopLogger)
	require.Error(t, app.Start(ctxT(t)))
}
