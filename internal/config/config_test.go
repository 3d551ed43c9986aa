package config_test

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/config"
)

const dbURL = "postgres://ug:s3cret-pw@db.internal:5432/ug?sslmode=disable"

func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

func TestDefaults(t *testing.T) {
	c, err := config.Load("worker", nil, env(map[string]string{"UG_DATABASE_URL": dbURL}))
	require.NoError(t, err)
	assert.Equal(t, config.Config{
		TemporalAddress:   "127.0.0.1:7233",
		TemporalNamespace: "default",
		TaskQueue:         "upgrade-governor",
		RPCURL:            "http://127.0.0.1:8899",
		DatabaseURL:       dbURL,
		HTTPAddr:          "127.0.0.1:8080",
		ProgramID:         "EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5",
		LogLevel:          "info",
		// 1 SOL of ExtendProgram rent per proposal (about 143 KiB); 0.1 SOL floor.
		MaxExtendRentLamports: "1000000000",
		FeePayerMinLamports:   "100000000",
		// The median of recent fees on the transaction's accounts, as a busy cluster needs.
		PriorityFee: "p50",
		// Webhooks: strict (https, public addresses only) unless the operator says otherwise.
		PublicURL:           "http://127.0.0.1:8080",
		WebhookAllowHTTP:    "false",
		WebhookAllowPrivate: "false",
	}, c)
	assert.False(t, c.AllowWebhookHTTP())
	assert.False(t, c.AllowWebhookPrivate())
	assert.Equal(t, uint64(1_000_000_000), c.MaxExtendRent())
	assert.Equal(t, uint64(100_000_000), c.FeePayerMin())
	assert.Equal(t, "ws://127.0.0.1:8900", c.WebSocketURL(), "derived like the solana CLI: port + 1")
	assert.Equal(t, slog.LevelInfo, c.SlogLevel())
}

func TestEnvironmentThenFlags(t *testing.T) {
	c, err := config.Load("apiserver",
		[]string{"--http-addr", "0.0.0.0:9090", "--log-level=debug"},
		env(map[string]string{
			"UG_DATABASE_URL":     dbURL,
			"UG_HTTP_ADDR":        "127.0.0.1:1111",
			"UG_TEMPORAL_ADDRESS": "temporal:7233",
			"UG_WS_URL":           "wss://rpc.example/ws",
			"UG_KEYPAIR_PATH":     "/keys/guardian.json",
			"UG_LOG_LEVEL":        "warn",
		}))
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:9090", c.HTTPAddr, "a flag beats the environment")
	assert.Equal(t, "debug", c.LogLevel)
	assert.Equal(t, slog.LevelDebug, c.SlogLevel())
	assert.Equal(t, "temporal:7233", c.TemporalAddress, "the environment beats the default")
	assert.Equal(t, "wss://rpc.example/ws", c.WebSocketURL())
	assert.Equal(t, "/keys/guardian.json", c.KeypairPath)
}

func TestEveryFieldHasAnEnvironmentVariable(t *testing.T) {
	vars := config.EnvVars()
	assert.Len(t, vars, 17)
	for _, v := range vars {
		assert.True(t, strings.HasPrefix(v, "UG_"), v)
	}
	assert.Contains(t, vars, "UG_DATABASE_URL")
	assert.Contains(t, vars, "UG_KEYPAIR_PATH")
	assert.Contains(t, vars, "UG_FEE_PAYER_KEYPAIR_PATH")
}

func TestSubCommandFlagsMayFollowArguments(t *testing.T) {
	var label string
	c, rest, err := config.LoadCommand("apiserver multisig serve",
		[]string{"ADDR", "--label", "treasury", "--log-level", "debug", "EXTRA"},
		env(map[string]string{"UG_DATABASE_URL": dbURL}),
		func(fs *flag.FlagSet) { fs.StringVar(&label, "label", "", "") })
	require.NoError(t, err)
	assert.Equal(t, []string{"ADDR", "EXTRA"}, rest)
	assert.Equal(t, "treasury", label)
	assert.Equal(t, "debug", c.LogLevel)
	_, err = config.Load("worker", []string{"stray"}, env(map[string]string{"UG_DATABASE_URL": dbURL}))
	require.ErrorContains(t, err, `unexpected arguments ["stray"]`)
}

func TestValidateNamesTheBadField(t *testing.T) {
	ok := map[string]string{"UG_DATABASE_URL": dbURL}
	cases := []struct{ env, value, field string }{
		{"UG_DATABASE_URL", "", "database_url"},
		{"UG_DATABASE_URL", "postgres://ug:pw@host:notaport/db", "database_url"},
		{"UG_TEMPORAL_ADDRESS", "localhost", "temporal_address"},
		{"UG_TEMPORAL_NAMESPACE", " ", "temporal_namespace"},
		{"UG_TASK_QUEUE", "", "task_queue"},
		{"UG_RPC_URL", "127.0.0.1:8899", "rpc_url"},
		{"UG_RPC_URL", "ws://127.0.0.1:8899", "rpc_url"},
		{"UG_WS_URL", "http://127.0.0.1:8900", "ws_url"},
		{"UG_HTTP_ADDR", "8080", "http_addr"},
		{"UG_HTTP_ADDR", "127.0.0.1:99999", "http_addr"},
		{"UG_PROGRAM_ID", "not-a-pubkey", "program_id"},
		{"UG_PROGRAM_ID", "11111111", "program_id"},
		{"UG_LOG_LEVEL", "chatty", "log_level"},
		{"UG_MAX_EXTEND_RENT_LAMPORTS", "-1", "max_extend_rent_lamports"},
		{"UG_FEE_PAYER_MIN_LAMPORTS", "0.1 SOL", "fee_payer_min_lamports"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s=%q", tc.env, tc.value), func(t *testing.T) {
			e := map[string]string{}
			for k, v := range ok {
				e[k] = v
			}
			e[tc.env] = tc.value
			_, err := config.Load("worker", nil, env(e))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field)
			assert.Contains(t, err.Error(), tc.env)
			assert.NotContains(t, err.Error(), "pw", "no password in errors")
		})
	}
}

func TestBadFlagsAreErrors(t *testing.T) {
	_, err := config.Load("worker", []string{"--no-such-flag"}, env(map[string]string{"UG_DATABASE_URL": dbURL}))
	require.Error(t, err)
	_, err = config.Load("worker", []string{"stray"}, env(map[string]string{"UG_DATABASE_URL": dbURL}))
	require.Error(t, err)
}

func TestLoggingRedactsSecrets(t *testing.T) {
	c := config.Default()
	c.DatabaseURL = dbURL
	c.RPCURL = "https://mainnet.helius-rpc.com/?api-key=abcd-1234-secret"
	c.WSURL = "wss://user:wspass@rpc.example/ws?token=tok-secret&cluster=mainnet"

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c)
	for _, out := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%v", c), buf.String()} {
		for _, secret := range []string{"s3cret-pw", "abcd-1234-secret", "wspass", "tok-secret"} {
			assert.NotContains(t, out, secret)
		}
		assert.Contains(t, out, "db.internal:5432", "the rest stays readable")
		assert.Contains(t, out, "cluster=mainnet")
	}
	assert.Contains(t, c.String(), "ug:xxxxx@db.internal")

	// key=value connection strings too.
	c.DatabaseURL = "host=db user=ug password='it''s secret' dbname=ug"
	assert.NotContains(t, c.String(), "secret")
	c.DatabaseURL = "host=db password=plain dbname=ug"
	assert.NotContains(t, c.String(), "plain")
	assert.Contains(t, c.String(), "dbname=ug")
}

func TestGoSyntaxFormatRedactsToo(t *testing.T) {
	c := config.Default()
	c.DatabaseURL = dbURL
	assert.NotContains(t, fmt.Sprintf("%#v", c), "s3cret-pw")
}

func TestPriorityFeeIsParsedAndBadValuesNameTheVariable(t *testing.T) {
	c, err := config.Load("worker", nil, env(map[string]string{"UG_DATABASE_URL": dbURL, "UG_PRIORITY_FEE": "p75:1000"}))
	require.NoError(t, err)
	assert.Equal(t, 75, c.Fee().Percentile)
	assert.EqualValues(t, 1000, c.Fee().MicroLamports)
	for _, bad := range []string{"p0", "p101", "fast", "-5", "p50:x"} {
		_, err := config.Load("worker", nil, env(map[string]string{"UG_DATABASE_URL": dbURL, "UG_PRIORITY_FEE": bad}))
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "UG_PRIORITY_FEE", bad)
	}
}

func TestAProgramIDOtherThanTheBuildsIsRefused(t *testing.T) {
	other := "11111111111111111111111111111112"
	_, err := config.Load("worker", nil, env(map[string]string{"UG_DATABASE_URL": dbURL, "UG_PROGRAM_ID": other}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "UG_PROGRAM_ID")
	assert.Contains(t, err.Error(), "-ldflags")
	c, err := config.Load("worker", nil, env(map[string]string{"UG_DATABASE_URL": dbURL, "UG_PROGRAM_ID": config.DefaultProgramID}))
	require.NoError(t, err)
	assert.Equal(t, config.DefaultProgramID, c.ProgramID)
}
