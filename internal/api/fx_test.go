package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/app"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// The module migrates a fresh database, serves HTTP, and drains a slow request at stop.
func TestModuleMigratesServesAndStopsGracefully(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t) // empty: the module must migrate it
	cfg.HTTPAddr = freeAddr(t)
	cfg.RPCURL = "http://127.0.0.1:1" // nothing answers: readiness says so, liveness does not care
	cfg.TemporalAddress = "127.0.0.1:1"
	var st *store.Store
	a := fxtest.New(t,
		fx.Supply(cfg),
		fx.Provide(func() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }),
		app.Clients,
		store.Module,
		api.Module,
		fx.Populate(&st),
	)
	a.RequireStart()
	current, latest, err := st.SchemaVersion(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, latest, current, "migrated at start")

	resp, err := http.Get("http://" + cfg.HTTPAddr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Get("http://" + cfg.HTTPAddr + "/readyz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Contains(t, string(body), "not ready: rpc, temporal down")

	// A request in flight when the app stops still gets its answer.
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + cfg.HTTPAddr + "/readyz")
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	time.Sleep(50 * time.Millisecond)
	a.RequireStop()
	assert.Equal(t, http.StatusServiceUnavailable, <-done)
	_, err = http.Get("http://" + cfg.HTTPAddr + "/healthz")
	require.Error(t, err, "stopped servers do not answer")
}

func TestModuleFailsToStartOnATakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.HTTPAddr = l.Addr().String()
	a := fx.New(fx.Supply(cfg), fx.NopLogger,
		fx.Provide(func() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }),
		app.Clients, store.Module, api.Module)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.Start(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listen on "+cfg.HTTPAddr)
}
