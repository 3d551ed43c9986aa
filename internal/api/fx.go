package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/fx"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Module provides the API server and serves it over HTTP for the app's lifetime: at start
// it applies the store's migrations, then listens; at stop it drains in-flight requests.
// It needs config.Config, *slog.Logger, *store.Store, client.Client and *chain.Client.
var Module = fx.Module("api",
	fx.Provide(newFromFx, newHTTPServer),
	fx.Invoke(migrateOnStart, watchIndexOnStart, serveOnStart),
)

// shutdownGrace bounds how long stopping waits for in-flight requests.
const shutdownGrace = 30 * time.Second

func newFromFx(cfg config.Config, st *store.Store, tc client.Client, cc *chain.Client, l *slog.Logger) (*Server, error) {
	return New(Deps{Config: cfg, Store: st, Temporal: tc, Chain: RPCChain{Client: cc}, Logger: l.With("component", "api")})
}

// NewHTTPServer wraps the handler with the connection-level timeouts; WriteTimeout leaves
// room for the longest governance request.
func NewHTTPServer(addr string, s *Server) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.limits.WriteTimeout + 15*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
}

func newHTTPServer(cfg config.Config, s *Server) *http.Server { return NewHTTPServer(cfg.HTTPAddr, s) }

// migrateOnStart applies pending migrations before the server listens; replicas migrating
// at once wait on the store's advisory lock.
func migrateOnStart(lc fx.Lifecycle, st *store.Store, l *slog.Logger) {
	lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
		if err := st.Migrate(ctx); err != nil {
			return fmt.Errorf("api: migrate store: %w", err)
		}
		current, _, err := st.SchemaVersion(ctx)
		if err == nil {
			l.Info("store schema ready", "version", current)
		}
		return nil
	}})
}

// watchIndexOnStart keeps the read cache in step with the index (LISTEN on its own
// connection) from start to stop; the cache is off whenever that connection is down.
func watchIndexOnStart(lc fx.Lifecycle, s *Server, l *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				if err := s.WatchIndex(ctx); err != nil && !errors.Is(err, context.Canceled) {
					l.Error("read cache: index watch stopped", "error", err)
				}
			}()
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			select {
			case <-done:
				return nil
			case <-stop.Done():
				return fmt.Errorf("api: index watch did not stop: %w", stop.Err())
			}
		},
	})
}

func serveOnStart(lc fx.Lifecycle, srv *http.Server, l *slog.Logger) {
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			// Listen here, so a taken port fails the start instead of a goroutine later.
			ln, err := net.Listen("tcp", srv.Addr)
			if err != nil {
				return fmt.Errorf("api: listen on %s: %w", srv.Addr, err)
			}
			l.Info("api listening", "addr", ln.Addr().String())
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					l.Error("api server stopped", "error", err)
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, shutdownGrace)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				return fmt.Errorf("api: shut down: %w", err)
			}
			l.Info("api stopped")
			return nil
		},
	})
}
