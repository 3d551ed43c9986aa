package api_test

import (
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// chainOnlyServer is a server whose routes under test read only the (fake) chain; its Temporal
// client never connects.
func chainOnlyServer(t *testing.T) (*api.Server, *fakeChain, *store.Store) {
	t.Helper()
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	fc := newFakeChain()
	st := pgtest.NewStore(t)
	srv, err := api.New(api.Deps{Config: config.Default(), Store: st, Temporal: tc, Chain: fc,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	return srv, fc, st
}

func get(t *testing.T, srv *api.Server, path string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func TestGetMultisigReadsTheChain(t *testing.T) {
	srv, fc, st := chainOnlyServer(t)
	members := []solana.PublicKey{newKey(t).PublicKey(), newKey(t).PublicKey(), newKey(t).PublicKey()}
	guardian := newKey(t).PublicKey()
	addr, _ := governor.FindMultisigAddress(newKey(t).PublicKey())
	fc.multisigs[addr] = &governor.Multisig{
		Members: members, Threshold: 2, TimelockSeconds: 48 * 3600, ProposalLifetimeSeconds: 7 * 24 * 3600,
		Guardian: guardian, Paused: true, ProposalIndex: 4,
		// Held by the threshold: it does not lapse.
		PauseExpiresAt: math.MaxInt64, PausedBy: guardian, PauseVotes: members[:2],
	}
	operator := store.Origin{Actor: "ops", Source: store.SourceCLI}

	r := get(t, srv, "/multisig/"+addr.String())
	requireError(t, r, http.StatusForbidden, api.CodeMultisigNotServed, "address")
	_, _, err := st.ServeMultisig(t.Context(), store.ServedMultisig{Address: addr.String()}, operator)
	require.NoError(t, err)
	r = get(t, srv, "/multisig/"+addr.String())
	checkResponse(t, "GET", "/multisig/"+addr.String(), r)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var got api.MultisigView
	r.decode(t, &got)
	authority, _ := governor.FindAuthorityAddress(addr)
	require.Equal(t, api.MultisigView{
		Address: addr.String(), Authority: authority.String(),
		Members:   []string{members[0].String(), members[1].String(), members[2].String()},
		Threshold: 2, TimelockSeconds: 48 * 3600, ProposalLifetimeSeconds: 7 * 24 * 3600,
		Guardian: guardian.String(), Paused: true, ProposalIndex: 4,
		PausedBy: guardian.String(), PauseVotes: []string{members[0].String(), members[1].String()}, ResumeVotes: []string{},
		History: []api.MultisigConfigView{}, // nothing indexed for it yet
	}, got)

	// Served, but not (or no longer) on chain.
	missing := newKey(t).PublicKey().String()
	_, _, err = st.ServeMultisig(t.Context(), store.ServedMultisig{Address: missing}, operator)
	require.NoError(t, err)
	r = get(t, srv, "/multisig/"+missing)
	checkResponse(t, "GET", "/multisig/"+missing, r)
	requireError(t, r, http.StatusNotFound, api.CodeAccountNotFound, "address")

	r = get(t, srv, "/multisig/not-an-address")
	checkResponse(t, "GET", "/multisig/not-an-address", r)
	requireError(t, r, http.StatusBadRequest, api.CodeInvalidField, "address")
}
