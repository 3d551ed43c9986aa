package store_test

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

var admin = store.Origin{Actor: "root@ops-laptop", Source: store.SourceCLI}

func TestCreateTokenStoresOnlyItsHash(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	plaintext, tok, err := s.CreateToken(ctx, "deploy-bot", store.RoleOperator, admin)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(plaintext, "ugt_"))
	assert.GreaterOrEqual(t, len(plaintext), 40)
	assert.Equal(t, "deploy-bot", tok.Name)
	assert.Equal(t, store.RoleOperator, tok.Role)

	var stored []byte
	require.NoError(t, s.QueryRowRaw(ctx, `SELECT token_hash FROM api_tokens WHERE id = $1`, tok.ID).Scan(&stored))
	sum := sha256.Sum256([]byte(plaintext))
	assert.Equal(t, sum[:], stored)

	// The plaintext is nowhere in the database: not in the token row, not in the audit trail.
	var leaks int
	require.NoError(t, s.QueryRowRaw(ctx, `
		SELECT (SELECT count(*) FROM api_tokens t WHERE strpos(row_to_json(t)::text, $1) > 0
		            OR strpos(encode(t.token_hash, 'escape'), $1) > 0)
		     + (SELECT count(*) FROM audit_log a WHERE strpos(row_to_json(a)::text, $1) > 0)`,
		plaintext[4:]).Scan(&leaks))
	assert.Zero(t, leaks)

	got, err := s.LookupToken(ctx, plaintext)
	require.NoError(t, err)
	assert.Equal(t, tok.ID, got.ID)
	assert.Equal(t, store.RoleOperator, got.Role)

	page, err := s.ListAudit(ctx, store.AuditFilter{Action: store.ActionTokenCreated})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	assert.Equal(t, admin.Actor, page.Entries[0].Actor)
	assert.Equal(t, "deploy-bot", page.Entries[0].Details["name"])
}

func TestEveryTokenIsDifferent(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	a, _, err := s.CreateToken(ctx, "a", store.RoleGuardian, admin)
	require.NoError(t, err)
	b, _, err := s.CreateToken(ctx, "b", store.RoleGuardian, admin)
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

func TestLookupTokenRefusesUnknownAndRevoked(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	plaintext, tok, err := s.CreateToken(ctx, "guardian-1", store.RoleGuardian, admin)
	require.NoError(t, err)

	_, err = s.LookupToken(ctx, plaintext+"x")
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.NotContains(t, err.Error(), plaintext, "the presented token never reaches an error message")

	require.NoError(t, s.RevokeToken(ctx, tok.ID, admin))
	require.NoError(t, s.RevokeToken(ctx, tok.ID, admin), "revoking twice is fine")
	got, err := s.LookupToken(ctx, plaintext)
	require.ErrorIs(t, err, store.ErrRevoked)
	assert.NotNil(t, got.RevokedAt)
	require.ErrorIs(t, s.RevokeToken(ctx, 424242, admin), store.ErrNotFound)

	// Revocation is for good, and the row never changes otherwise.
	err = s.ExecRaw(ctx, `UPDATE api_tokens SET revoked_at = NULL WHERE id = $1`, tok.ID)
	assert.Equal(t, "UG002", pgCode(err), "un-revoking must raise: %v", err)

	// The name is free again once its token is revoked.
	_, again, err := s.CreateToken(ctx, "guardian-1", store.RoleGuardian, admin)
	require.NoError(t, err)
	err = s.ExecRaw(ctx, `UPDATE api_tokens SET role = 'operator' WHERE id = $1`, again.ID)
	assert.Equal(t, "UG002", pgCode(err), "a live token's role is fixed: %v", err)

	tokens, err := s.ListTokens(ctx)
	require.NoError(t, err)
	require.Len(t, tokens, 2)
	assert.NotNil(t, tokens[0].RevokedAt)
	assert.Nil(t, tokens[1].RevokedAt)
	assert.Equal(t, []string{store.ActionTokenCreated, store.ActionTokenRevoked, store.ActionTokenCreated},
		auditActions(t, s, store.AuditFilter{Actor: admin.Actor}))
}

func TestTokenRulesAreEnforced(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	_, _, err := s.CreateToken(ctx, "ops", store.RoleOperator, admin)
	require.NoError(t, err)

	_, _, err = s.CreateToken(ctx, "ops", store.RoleGuardian, admin)
	require.ErrorIs(t, err, store.ErrConflict, "one live token per name")
	_, _, err = s.CreateToken(ctx, "root", "admin", admin)
	require.ErrorIs(t, err, store.ErrInvalid, "unknown role")
	_, _, err = s.CreateToken(ctx, "has spaces", store.RoleOperator, admin)
	require.ErrorIs(t, err, store.ErrInvalid, "bad name")

	err = s.ExecRaw(ctx, `INSERT INTO api_tokens (name, token_hash, role) VALUES ('short', '\x0102', 'operator')`)
	assert.Equal(t, "23514", pgCode(err), "a hash is 32 bytes: %v", err)
}
