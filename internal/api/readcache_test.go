package api_test

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
)

// cacheLookups reads the read cache's lookup counters of a route from /metrics.
func cacheLookups(t *testing.T, e *env, route string) map[string]int {
	t.Helper()
	r := e.do("GET", "/metrics", nil)
	require.Equal(t, http.StatusOK, r.Code)
	out, err := api.CacheLookups(bytes.NewReader(r.Body), route)
	require.NoError(t, err)
	return out
}

func indexRow(t *testing.T, e *env, status store.ProposalStatus) store.Proposal {
	t.Helper()
	created := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	p := store.Proposal{
		Address: newKey(t).PublicKey().String(), Multisig: e.multisig.String(), Index: uint64(time.Now().UnixNano()),
		TargetProgram: e.program.String(), Buffer: e.buffer.String(), BufferHash: hex.EncodeToString(e.elfHash[:]),
		Proposer: e.members[0].PublicKey().String(), Description: "cache test", Threshold: 2, CreatedAt: created,
		Status: status,
	}
	if status == store.ProposalCancelled {
		p.ClosedAt = &created
	}
	_, err := e.store.UpsertProposal(ctxT(t), p, store.Origin{Actor: "test", Source: store.SourceCLI})
	require.NoError(t, err)
	return p
}

// TestReadCacheFollowsTheIndex keeps answers for an hour, so only the index's change
// notifications can make a change written behind the server's back show up.
func TestReadCacheFollowsTheIndex(t *testing.T) {
	ts := temporaltest.Start(t)
	e := newEnv(t, ts, func(d *api.Deps) {
		d.Limits = api.DefaultLimits
		d.Limits.Cache = api.CacheLimits{Live: time.Hour, Settled: time.Hour, Bytes: 1 << 20}
	})
	a := indexRow(t, e, store.ProposalCancelled)

	// The cache comes on once the watch listens; the insert's notification may come after.
	var list api.ProposalListResponse
	require.Eventually(t, func() bool {
		before := cacheLookups(t, e, "/proposals")["hit"]
		e.do("GET", "/proposals", nil).decode(t, &list)
		return cacheLookups(t, e, "/proposals")["hit"] > before
	}, 10*time.Second, 20*time.Millisecond, "the cache never came on")
	require.Equal(t, 1, list.Total)
	before := cacheLookups(t, e, "/proposals")
	first := e.do("GET", "/proposals", nil)
	again := e.do("GET", "/proposals", nil)
	require.Equal(t, first.Body, again.Body)
	after := cacheLookups(t, e, "/proposals")
	require.Equal(t, before["hit"]+2, after["hit"], "an unchanged index is answered from the cache")
	require.Equal(t, before["miss"], after["miss"])

	// A row written by someone else (the worker's indexer, another replica) shows up.
	b := indexRow(t, e, store.ProposalActive)
	require.Eventually(t, func() bool {
		e.do("GET", "/proposals", nil).decode(t, &list)
		return list.Total == 2
	}, 5*time.Second, 10*time.Millisecond, "a new index row stayed hidden behind the cache")
	require.Equal(t, b.Address, list.Proposals[0].Address)

	// The detail follows an approval recorded behind the server's back.
	var d api.ProposalDetailResponse
	e.do("GET", "/proposals/"+a.Address, nil).decode(t, &d)
	require.Empty(t, d.ApprovalHistory)
	e.do("GET", "/proposals/"+a.Address, nil)
	require.Positive(t, cacheLookups(t, e, "/proposals/:id")["hit"])
	_, err := e.store.RecordApproval(ctxT(t), store.Approval{
		Proposal: a.Address, Member: e.members[1].PublicKey().String(),
		Signature: solana.SignatureFromBytes(bytes.Repeat([]byte{7}, 64)).String(), Slot: 9,
	}, store.Origin{Actor: "test", Source: store.SourceIndexer})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		e.do("GET", "/proposals/"+a.Address, nil).decode(t, &d)
		return len(d.ApprovalHistory) == 1
	}, 5*time.Second, 10*time.Millisecond, "a recorded approval stayed hidden behind the cache")
}

// TestReadCacheIsOffWithoutTheIndexWatch: a server that does not listen for index changes
// (its connection lost, or never started) reads through on every request.
func TestReadCacheIsOffWithoutTheIndexWatch(t *testing.T) {
	ts := temporaltest.Start(t)
	e := newEnv(t, ts)
	cfg := config.Default()
	cfg.TaskQueue = e.queue
	// A second server over the same parts, with no watch running.
	srv, err := api.New(api.Deps{Config: cfg, Store: e.store, Temporal: e.temporal, Chain: e.chain})
	require.NoError(t, err)
	other := &env{t: t, srv: srv, store: e.store}
	indexRow(t, e, store.ProposalActive)
	var list api.ProposalListResponse
	for range 3 {
		other.do("GET", "/proposals", nil).decode(t, &list)
		require.Equal(t, 1, list.Total)
	}
	indexRow(t, e, store.ProposalActive)
	other.do("GET", "/proposals", nil).decode(t, &list)
	require.Equal(t, 2, list.Total)
	got := cacheLookups(t, other, "/proposals")
	require.Equal(t, 4, got["bypass"])
	require.Zero(t, got["hit"]+got["miss"])
}
