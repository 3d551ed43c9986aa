package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func runAdmin(t *testing.T, url string, group string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := func(k string) (string, bool) {
		if k == "UG_DATABASE_URL" {
			return url, true
		}
		return "", false
	}
	code := admin(group, args, &out, &errOut, env)
	return code, out.String(), errOut.String()
}

func TestTokenCommandsCreateListAndRevokeWithAudit(t *testing.T) {
	url := pgtest.NewDatabase(t)
	code, out, stderr := runAdmin(t, url, "token", "create", "--role", "guardian", "--name", "on-call")
	require.Equal(t, 0, code, stderr)
	token := strings.TrimSpace(out)
	assert.True(t, strings.HasPrefix(token, "ugt_"), "stdout is the token alone: %q", out)
	assert.NotContains(t, stderr, token, "the token is printed once, to stdout")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.New(ctx, url)
	require.NoError(t, err)
	defer s.Close()
	tok, err := s.LookupToken(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, store.RoleGuardian, tok.Role)

	code, _, stderr = runAdmin(t, url, "token", "create", "--role", "guardian", "--name", "on-call")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `already named "on-call"`)
	code, _, stderr = runAdmin(t, url, "token", "create", "--role", "admin", "--name", "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--role")
	code, _, stderr = runAdmin(t, url, "token", "create", "--role", "operator")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--name")

	code, out, _ = runAdmin(t, url, "token", "list")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "on-call")
	assert.NotContains(t, out, token)

	code, out, stderr = runAdmin(t, url, "token", "revoke", "on-call")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "revoked token")
	_, err = s.LookupToken(ctx, token)
	require.ErrorIs(t, err, store.ErrRevoked)
	code, _, _ = runAdmin(t, url, "token", "revoke", "on-call")
	assert.Equal(t, 1, code, "no live token of that name is left")

	page, err := s.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	var actions []string
	for _, e := range page.Entries {
		actions = append(actions, e.Action)
		assert.Equal(t, store.SourceCLI, e.Source)
	}
	assert.ElementsMatch(t, []string{store.ActionTokenCreated, store.ActionTokenRevoked}, actions)
}

func TestMultisigCommandsRefuseBadInputAndWriteNothing(t *testing.T) {
	url := pgtest.NewDatabase(t)
	addr := solana.NewWallet().PublicKey().String()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve"}, 2, "want ADDRESS"},
		{[]string{"serve", "nope"}, 2, `ADDRESS "nope" is not a public key`},
		{[]string{"serve", addr, "--label", strings.Repeat("x", 65)}, 2, "--label"},
		// Nothing answers on this RPC URL: the multisig cannot be checked, so it is not served.
		{[]string{"serve", addr, "--rpc-url", "http://127.0.0.1:1"}, 1, "read multisig"},
		{[]string{"unserve", addr}, 1, "is not served"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	} {
		code, _, stderr := runAdmin(t, url, "multisig", tc.args...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.msg, "%v", tc.args)
	}
	code, out, stderr := runAdmin(t, url, "multisig", "list")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 1, strings.Count(out, "\n"), "only the header: %q", out)
}

func TestHelpIsCleanAndExitsZero(t *testing.T) {
	var out bytes.Buffer
	printHelp(&out)
	for _, want := range []string{"apiserver migrate", "apiserver multisig serve ADDRESS", "apiserver token create",
		"--database-url (env UG_DATABASE_URL)", "--fee-payer-min-balance (env UG_FEE_PAYER_MIN_LAMPORTS, default 100000000)"} {
		assert.Contains(t, out.String(), want)
	}
	code, stdout, stderr := runAdmin(t, "", "token", "create", "--help")
	assert.Equal(t, 0, code, "help needs no database")
	assert.Contains(t, stdout, "apiserver token revoke")
	assert.Empty(t, stderr)
}

func TestWebhookCommandsCreateListPauseAndDelete(t *testing.T) {
	url := pgtest.NewDatabase(t)
	multisig := solana.NewWallet().PublicKey().String()
	run := func(allowPrivate bool, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		env := map[string]string{"UG_DATABASE_URL": url}
		if allowPrivate {
			env["UG_WEBHOOK_ALLOW_HTTP"], env["UG_WEBHOOK_ALLOW_PRIVATE"] = "true", "true"
		}
		code := admin("webhook", args, &out, &errOut, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		return code, out.String(), errOut.String()
	}
	hook := []string{"create", "--name", "chat", "--url", "http://127.0.0.1:9/services/T0/B0/SECRETPATH", "--multisig", multisig,
		"--events", "proposal.proposed,proposal.eta_reminder", "--eta-hours", "24", "--format", "slack"}

	code, _, stderr := run(false, hook...)
	assert.Equal(t, 2, code, "the strict policy refuses http to loopback")
	assert.Contains(t, stderr, "--url")
	code, _, stderr = run(true, hook...)
	assert.Equal(t, 2, code, "an unserved multisig is refused")
	assert.Contains(t, stderr, "--multisig")
	code, _, stderr = run(true, append(hook[:len(hook):len(hook)], "--events", "proposal.nope")...)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--events")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.New(ctx, url)
	require.NoError(t, err)
	defer s.Close()
	_, _, err = s.ServeMultisig(ctx, store.ServedMultisig{Address: multisig}, store.Origin{Actor: "t", Source: store.SourceCLI})
	require.NoError(t, err)
	list, err := s.ListSubscriptions(ctx)
	require.NoError(t, err)
	require.Empty(t, list, "refused commands create nothing")

	code, out, stderr := run(true, hook...)
	require.Equal(t, 0, code, stderr)
	secret := strings.TrimSpace(out)
	assert.Regexp(t, `^ugwh_[0-9a-f]{64}$`, secret, "stdout is the secret alone")
	assert.NotContains(t, stderr, secret)
	assert.NotContains(t, stderr, "SECRETPATH")

	code, out, _ = run(true, "list")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "chat")
	assert.Contains(t, out, "http://127.0.0.1:9/…")
	assert.NotContains(t, out, "SECRETPATH")
	assert.NotContains(t, out, secret)

	code, out, _ = run(true, "pause", "1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "paused")
	code, out, _ = run(true, "resume", "1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "active")
	code, _, _ = run(true, "delete", "1")
	require.Equal(t, 0, code)
	code, out, _ = run(true, "list")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "chat")
	code, _, stderr = run(true, "pause", "x")
	assert.Equal(t, 2, code, stderr)
}
