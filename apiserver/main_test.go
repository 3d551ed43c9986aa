package main

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMigrateAppliesTheSchemaAndExits(t *testing.T) {
	url := pgtest.NewDatabase(t)
	require.Equal(t, 0, migrate([]string{"--database-url", url, "--log-level", "error"}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.New(ctx, url)
	require.NoError(t, err)
	defer s.Close()
	current, latest, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, latest, current)
	assert.Equal(t, 0, migrate([]string{"--database-url", url, "--log-level", "error"}), "twice is fine")

	assert.Equal(t, 1, migrate([]string{"--database-url", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"}))
	assert.Equal(t, 1, migrate([]string{"--no-such-flag"}))
}

func TestHealthcheckExitsZeroOnlyWhenHealthzAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	status := http.StatusOK
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	})}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	args := []string{"--database-url", "postgres://u@db/x", "--http-addr", "0.0.0.0:" + port}
	assert.Equal(t, 0, healthcheck(args), "a wildcard listen address is dialled on loopback")
	status = http.StatusServiceUnavailable
	assert.Equal(t, 1, healthcheck(args))
	srv.Close()
	assert.Equal(t, 1, healthcheck(args))
	assert.Equal(t, 1, healthcheck([]string{"--http-addr", "nonsense"}))
}

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:8080": "127.0.0.1:8080", ":8080": "127.0.0.1:8080", "[::]:80": "127.0.0.1:80",
		"10.1.2.3:9": "10.1.2.3:9", "localhost:1": "localhost:1",
	} {
		assert.Equal(t, want, dialAddr(in), in)
	}
}
