package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Who may do what with a bearer token: operators start migrations and ask for execution;
// guardians may do that too, and are the only ones who may stop an upgrade without a
// transaction (the emergency stop).
var (
	operatorRoles = []store.Role{store.RoleOperator, store.RoleGuardian}
	guardianRoles = []store.Role{store.RoleGuardian}
)

// bearer returns the request's bearer token, or "" when there is no Authorization header.
func bearer(c *gin.Context) (string, error) {
	h := c.GetHeader("Authorization")
	if h == "" {
		return "", nil
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", newError(http.StatusUnauthorized, CodeInvalidToken, "Authorization",
			"use the header `Authorization: Bearer <token>`")
	}
	return strings.TrimSpace(token), nil
}

// authenticate looks the presented token up and checks its role. It never puts the token
// in an error or a log.
func (s *Server) authenticate(ctx context.Context, c *gin.Context, roles []store.Role) (store.APIToken, error) {
	token, err := bearer(c)
	if err != nil {
		return store.APIToken{}, err
	}
	if token == "" {
		return store.APIToken{}, newError(http.StatusUnauthorized, CodeMissingToken, "Authorization",
			"this route needs a bearer token with role %s", rolesText(roles))
	}
	t, err := s.store.LookupToken(ctx, token)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.APIToken{}, newError(http.StatusUnauthorized, CodeInvalidToken, "Authorization", "unknown bearer token")
	case errors.Is(err, store.ErrRevoked):
		return store.APIToken{}, newError(http.StatusUnauthorized, CodeTokenRevoked, "Authorization", "the bearer token was revoked")
	case err != nil:
		return store.APIToken{}, err
	}
	if !slices.Contains(roles, t.Role) {
		return store.APIToken{}, newError(http.StatusForbidden, CodeForbidden, "Authorization",
			"token %s has role %s; this needs %s", t.Name, t.Role, rolesText(roles))
	}
	c.Set(ctxToken, t.Name)
	return t, nil
}

func rolesText(roles []store.Role) string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return strings.Join(out, " or ")
}
