// Package deploytest checks the deployment files that cannot run here (no Docker engine):
// docker-compose.yml is loaded with compose-go, the loader `docker compose` itself uses.
package deploytest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/config"
)

func loadProject(t *testing.T) *types.Project {
	t.Helper()
	path, err := filepath.Abs("../../docker-compose.yml")
	require.NoError(t, err)
	opts, err := cli.NewProjectOptions([]string{path},
		cli.WithWorkingDirectory(filepath.Dir(path)),
		// The guardian keypair secret must name a file; any existing one will do here.
		cli.WithEnv([]string{"UG_KEYPAIR_FILE=" + path, "UG_FEE_PAYER_KEYPAIR_FILE=" + path}),
		cli.WithName("upgrade-governor"),
	)
	require.NoError(t, err)
	p, err := opts.LoadProject(context.Background())
	require.NoError(t, err, "docker-compose.yml must load as `docker compose config` would")
	return p
}

func env(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

func TestComposeHasEveryServiceWithAHealthCheck(t *testing.T) {
	p := loadProject(t)
	for _, name := range []string{"postgres", "temporal-db", "temporal", "temporal-ui", "worker", "apiserver"} {
		s, ok := p.Services[name]
		require.True(t, ok, "service %s", name)
		require.NotNil(t, s.HealthCheck, "service %s needs a health check", name)
		require.NotEmpty(t, s.HealthCheck.Test, "service %s health check", name)
	}
	// Temporal persists to its own PostgreSQL, separate from the audit trail.
	require.Equal(t, "temporal-db", env(p.Services["temporal"], "POSTGRES_SEEDS"))
	require.Contains(t, p.Services["temporal"].DependsOn, "temporal-db")
	// Both databases keep their data in named volumes.
	for _, name := range []string{"postgres", "temporal-db"} {
		require.NotEmpty(t, p.Services[name].Volumes, "%s needs a volume", name)
		require.Equal(t, "volume", p.Services[name].Volumes[0].Type)
	}
}

func TestComposePublishesTheDocumentedPorts(t *testing.T) {
	p := loadProject(t)
	published := func(svc string) []string {
		var out []string
		for _, port := range p.Services[svc].Ports {
			out = append(out, fmt.Sprintf("%s->%d", port.Published, port.Target))
		}
		return out
	}
	require.Contains(t, published("apiserver"), "8080->8080")
	require.Contains(t, published("temporal"), "7233->7233")
	require.Contains(t, published("temporal-ui"), "8233->8080")
}

// The services set exactly the variables the binaries read, so a typo in the compose file does
// not silently fall back to a default (like a local RPC URL in production).
func TestComposeEnvironmentMatchesWhatTheBinariesRead(t *testing.T) {
	p := loadProject(t)
	known := map[string]bool{}
	for _, v := range config.EnvVars() {
		known[v] = true
	}
	for _, svc := range []string{"worker", "apiserver"} {
		s := p.Services[svc]
		for key := range s.Environment {
			require.True(t, known[key], "%s sets %s, which no binary reads", svc, key)
		}
		for _, key := range []string{"UG_DATABASE_URL", "UG_TEMPORAL_ADDRESS", "UG_RPC_URL"} {
			require.NotEmpty(t, env(s, key), "%s must set %s", svc, key)
		}
		cfg, err := config.Load(svc, nil, func(k string) (string, bool) {
			v, ok := s.Environment[k]
			if !ok || v == nil {
				return "", false
			}
			return *v, true
		})
		require.NoError(t, err, "%s's environment must pass the config's validation", svc)
		require.NoError(t, cfg.Validate())
	}
	require.Equal(t, "0.0.0.0:8080", env(p.Services["apiserver"], "UG_HTTP_ADDR"))
	require.NotEmpty(t, env(p.Services["worker"], "UG_KEYPAIR_PATH"), "the worker signs as guardian")
	require.NotEmpty(t, env(p.Services["worker"], "UG_FEE_PAYER_KEYPAIR_PATH"), "the worker pays with a key of its own")
	require.NotEqual(t, env(p.Services["worker"], "UG_KEYPAIR_PATH"), env(p.Services["worker"], "UG_FEE_PAYER_KEYPAIR_PATH"),
		"the fee payer is not the guardian's key")
	require.Empty(t, env(p.Services["apiserver"], "UG_KEYPAIR_PATH"), "the API server holds no key")
	require.Empty(t, env(p.Services["apiserver"], "UG_FEE_PAYER_KEYPAIR_PATH"), "the API server holds no key")
}

func TestDockerfilesBuildTheirBinary(t *testing.T) {
	for _, b := range []string{"worker", "apiserver"} {
		data, err := os.ReadFile(filepath.Join("..", "..", b, "Dockerfile"))
		require.NoError(t, err)
		require.Contains(t, string(data), "go build -trimpath -o /out/"+b+" ./"+b)
		require.Contains(t, string(data), `ENTRYPOINT ["/app/`+b+`"]`)
	}
}
