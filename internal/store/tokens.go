package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Role is what an API token may do.
type Role string

// Roles: operators start migrations; guardians may also cancel and pause.
const (
	RoleOperator Role = "operator"
	RoleGuardian Role = "guardian"
)

// tokenPrefix marks our bearer tokens, so a leaked one is recognisable in logs and scanners.
const tokenPrefix = "ugt_"

// APIToken is a stored bearer token; the token itself is never stored, only its SHA-256.
type APIToken struct {
	ID        int64
	Name      string
	Role      Role
	CreatedAt time.Time
	RevokedAt *time.Time
}

func hashToken(plaintext string) []byte {
	sum := sha256.Sum256([]byte(plaintext))
	return sum[:]
}

// CreateToken makes a bearer token and returns it in plaintext; this is the only time it is
// seen. The store keeps only its SHA-256, and appends token.created without it.
func (s *Store) CreateToken(ctx context.Context, name string, role Role, o Origin) (string, APIToken, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", APIToken{}, fmt.Errorf("create token %s: %w", name, err)
	}
	plaintext := tokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	t := APIToken{Name: name, Role: role}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO api_tokens (name, token_hash, role) VALUES ($1, $2, $3)
			RETURNING id, created_at`, name, hashToken(plaintext), string(role)).Scan(&t.ID, &t.CreatedAt)
		if err != nil {
			return err
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionTokenCreated,
			Details: map[string]any{"token_id": t.ID, "name": name, "role": role},
		})
		return err
	})
	if err != nil {
		return "", APIToken{}, fmt.Errorf("create token %s: %w", name, classify(err))
	}
	return plaintext, t, nil
}

const tokenColumns = `id, name, role, created_at, revoked_at`

func scanToken(row pgx.Row) (APIToken, error) {
	var t APIToken
	err := row.Scan(&t.ID, &t.Name, &t.Role, &t.CreatedAt, &t.RevokedAt)
	return t, err
}

// LookupToken finds the token a bearer presented: ErrNotFound when unknown, ErrRevoked (with
// the token) when revoked.
func (s *Store) LookupToken(ctx context.Context, plaintext string) (APIToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx,
		`SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = $1`, hashToken(plaintext)))
	if err != nil {
		// Never put the presented token into the error.
		return APIToken{}, fmt.Errorf("look up token: %w", classify(err))
	}
	if t.RevokedAt != nil {
		return t, fmt.Errorf("look up token %s: %w", t.Name, ErrRevoked)
	}
	return t, nil
}

// RevokeToken revokes a token for good and appends token.revoked; revoking it again changes
// nothing.
func (s *Store) RevokeToken(ctx context.Context, id int64, o Origin) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL
			RETURNING name`, id).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			// Already revoked is fine; unknown is not.
			return tx.QueryRow(ctx, `SELECT name FROM api_tokens WHERE id = $1`, id).Scan(&name)
		}
		if err != nil {
			return err
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionTokenRevoked,
			Details: map[string]any{"token_id": id, "name": name},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, classify(err))
	}
	return nil
}

// ListTokens returns every token, revoked ones included, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIToken, error) { return scanToken(row) })
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", classify(err))
	}
	return out, nil
}
