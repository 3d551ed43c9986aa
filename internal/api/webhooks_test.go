package api_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// syncBuffer is a log sink tests read after the server wrote to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rebuild replaces the env's server with one built over the same parts with changed
// settings, logging (at debug) into the returned buffer.
func (e *env) rebuild(change func(*api.Deps)) *syncBuffer {
	e.t.Helper()
	logs := &syncBuffer{}
	cfg := config.Default()
	cfg.TaskQueue = e.queue
	deps := api.Deps{Config: cfg, Store: e.store, Temporal: e.temporal, Chain: e.chain,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	change(&deps)
	srv, err := api.New(deps)
	require.NoError(e.t, err)
	e.srv = srv
	return logs
}

func (e *env) subscriptionsCreated() int {
	e.t.Helper()
	page, err := e.store.ListAudit(ctxT(e.t), store.AuditFilter{Action: store.ActionNotificationSubCreated})
	require.NoError(e.t, err)
	return len(page.Entries)
}

// Webhook subscriptions are operator routes; a URL the policy refuses, or any bad field, is a
// 400 naming the field and creates nothing; the secret is shown once and never again, in no
// answer, audit row or log line.
func testWebhooks(t *testing.T, e *env) {
	hook := map[string]any{"name": "team-chat", "url": "https://127.0.0.1/hooks/T000/B000/XXXX", "multisig": e.multisig.String()}
	requireError(t, e.do("POST", "/webhooks", hook), http.StatusUnauthorized, api.CodeMissingToken, "Authorization")
	requireError(t, e.do("GET", "/webhooks", nil), http.StatusUnauthorized, api.CodeMissingToken, "Authorization")

	// The deployment's default policy: https to public addresses only.
	for _, tc := range []struct{ url, why string }{
		{"https://127.0.0.1/hook", "loopback"},
		{"https://[::1]/hook", "IPv6 loopback"},
		{"https://10.1.2.3/hook", "private"},
		{"https://169.254.169.254/latest/meta-data", "link-local (cloud metadata)"},
		{"https://100.64.0.1/hook", "carrier-grade NAT"},
		{"https://[::ffff:127.0.0.1]/hook", "IPv4-mapped loopback"},
		{"https://localhost/hook", "localhost"},
		{"https://api.localhost/hook", "a .localhost name"},
		{"http://203.0.114.1/hook", "plain http"},
		{"ftp://example.org/hook", "not http"},
		{"https://user:pw@example.org/hook", "credentials in the URL"},
		{"not a url", "not a URL"},
	} {
		body := map[string]any{"name": "x", "url": tc.url, "multisig": e.multisig.String()}
		requireError(t, e.do("POST", "/webhooks", body, bearer(e.operator)...), http.StatusBadRequest, api.CodeInvalidField, "url")
	}
	for _, tc := range []struct {
		body        map[string]any
		code, field string
		status      int
	}{
		{map[string]any{"url": "https://203.0.114.1/h", "multisig": e.multisig.String()}, api.CodeMissingField, "name", 400},
		{map[string]any{"name": "bad name!", "url": "https://203.0.114.1/h", "multisig": e.multisig.String()}, api.CodeInvalidField, "name", 400},
		{map[string]any{"name": "x", "multisig": e.multisig.String()}, api.CodeMissingField, "url", 400},
		{map[string]any{"name": "x", "url": "https://203.0.114.1/h"}, api.CodeMissingField, "multisig", 400},
		{map[string]any{"name": "x", "url": "https://203.0.114.1/h", "multisig": e.multisig.String(), "program": e.program.String()}, api.CodeInvalidField, "program", 400},
		{map[string]any{"name": "x", "url": "https://203.0.114.1/h", "program": "nope"}, api.CodeInvalidField, "program", 400},
		{map[string]any{"name": "x", "url": "https://203.0.114.1/h", "multisig": e.multisig.String(), "events": []string{"proposal.executed", "proposal.exploded"}}, api.CodeInvalidField, "events[1]", 400},
		{map[string]any{"name": "x", "url": "https://203.0.114.1/h", "multisig": e.multisig.String(), "format": "teams"}, api.CodeInvalidField, "format", 400},
		{map[string]any{"name": "x", "url": "https://203.0.114.1/h", "multisig": e.multisig.String(), "eta_reminder_hours": -1}, api.CodeInvalidField, "eta_reminder_hours", 400},
		{map[string]any{"name": "x", "url": "https://203.0.114.1/h", "multisig": e.multisig.String(), "max_attempts": 101}, api.CodeInvalidField, "max_attempts", 400},
		{map[string]any{"name": "x", "url": "https://203.0.114.1/h", "multisig": e.multisig.String(), "secret": "mine"}, api.CodeUnknownField, "secret", 400},
		{map[string]any{"name": "x", "url": "https://203.0.114.1/h", "multisig": newKey(t).PublicKey().String()}, api.CodeMultisigNotServed, "multisig", 403},
	} {
		requireError(t, e.do("POST", "/webhooks", tc.body, bearer(e.operator)...), tc.status, tc.code, tc.field)
	}
	require.Zero(t, e.subscriptionsCreated(), "refused requests create nothing")

	// The operator allows a receiver on a private network over http (as tests must).
	logs := e.rebuild(func(d *api.Deps) {
		d.Config.WebhookAllowHTTP, d.Config.WebhookAllowPrivate = "true", "true"
		d.Config.PublicURL = "https://governor.example.org"
	})
	hook["url"] = "http://127.0.0.1:9/hooks/T000/B000/XXXX"
	hook["format"], hook["events"], hook["eta_reminder_hours"] = "slack", []string{"proposal.proposed", "proposal.eta_reminder"}, 24
	r := e.do("POST", "/webhooks", hook, bearer(e.operator)...)
	require.Equal(t, http.StatusCreated, r.Code, "body: %s", r.Body)
	var created api.CreateWebhookResponse
	r.decode(t, &created)
	assert.Regexp(t, `^ugwh_[0-9a-f]{64}$`, created.Secret)
	assert.Equal(t, "X-Governor-Signature", created.SignatureHeader)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assert.Equal(t, "http://127.0.0.1:9/…", created.Webhook.URL, "the URL's path may be its key: redacted")
	assert.Equal(t, 24, created.Webhook.EtaReminderHours)
	assert.Equal(t, 25, created.Webhook.MaxAttempts)
	id := created.Webhook.ID
	path := "/webhooks/" + strconv.FormatInt(id, 10)

	secretSeen := func(what string, body []byte) {
		t.Helper()
		assert.NotContains(t, string(body), created.Secret, "%s shows the secret", what)
		assert.NotContains(t, string(body), "B000/XXXX", "%s shows the URL's path", what)
	}
	r = e.do("GET", "/webhooks", nil, bearer(e.guardianT)...)
	require.Equal(t, http.StatusOK, r.Code)
	secretSeen("the list", r.Body)
	var list api.WebhooksResponse
	r.decode(t, &list)
	require.Len(t, list.Webhooks, 1)
	r = e.do("GET", path, nil, bearer(e.operator)...)
	require.Equal(t, http.StatusOK, r.Code)
	secretSeen("the detail", r.Body)
	r = e.do("GET", "/audit?limit=1000", nil)
	secretSeen("the audit trail", r.Body)

	r = e.do("PATCH", path, map[string]any{"status": "paused"}, bearer(e.operator)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	assert.Equal(t, "paused", r.json(t)["status"])
	requireError(t, e.do("PATCH", path, map[string]any{"status": "deleted"}, bearer(e.operator)...), 400, api.CodeInvalidField, "status")
	requireError(t, e.do("PATCH", path, map[string]any{}, bearer(e.operator)...), 400, api.CodeMissingField, "status")
	r = e.do("PATCH", path, map[string]any{"status": "active"}, bearer(e.operator)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r = e.do("GET", path+"/deliveries?status=pending", nil, bearer(e.operator)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	requireError(t, e.do("GET", path+"/deliveries?status=lost", nil, bearer(e.operator)...), 400, api.CodeInvalidField, "status")
	r = e.do("POST", path+"/redeliver", map[string]any{}, bearer(e.operator)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	requireError(t, e.do("GET", "/webhooks/abc", nil, bearer(e.operator)...), 400, api.CodeInvalidField, "id")
	requireError(t, e.do("GET", "/webhooks/999", nil, bearer(e.operator)...), 404, api.CodeNotFound, "id")

	r = e.do("DELETE", path, nil, bearer(e.operator)...)
	require.Equal(t, http.StatusNoContent, r.Code, "body: %s", r.Body)
	requireError(t, e.do("GET", path, nil, bearer(e.operator)...), 404, api.CodeNotFound, "id")
	requireError(t, e.do("PATCH", path, map[string]any{"status": "active"}, bearer(e.operator)...), 404, api.CodeNotFound, "id")

	for _, action := range []string{store.ActionNotificationSubCreated, store.ActionNotificationSubPaused,
		store.ActionNotificationSubResumed, store.ActionNotificationSubDeleted} {
		page, err := e.store.ListAudit(ctxT(t), store.AuditFilter{Action: action})
		require.NoError(t, err)
		assert.Len(t, page.Entries, 1, action)
	}
	assert.NotContains(t, logs.String(), created.Secret, "the secret never reaches the logs")
	assert.NotContains(t, logs.String(), "B000/XXXX", "nor does the URL's path")
}

// The feeds are public and cacheable, show served multisigs only, and carry what users need
// to decide whether to leave: the buffer hash, the eta, who approved, and the proposal's page.
func testFeeds(t *testing.T, e *env) {
	ctx := ctxT(t)
	e.rebuild(func(d *api.Deps) { d.Config.PublicURL = "https://governor.example.org/" })
	addr := newKey(t).PublicKey().String()
	hash := strings.Repeat("5e", 32)
	_, err := e.store.UpsertProposal(ctx, store.Proposal{Address: addr, Multisig: e.multisig.String(), Index: 1,
		TargetProgram: e.program.String(), Buffer: e.buffer.String(), BufferHash: hash, Proposer: e.members[0].PublicKey().String(),
		Description: "v2: <faster> & safer", Threshold: 2}, store.Origin{Actor: "test", Source: store.SourceAPI})
	require.NoError(t, err)
	for i, m := range e.members[:2] {
		_, err := e.store.RecordApproval(ctx, store.Approval{Proposal: addr, Member: m.PublicKey().String(),
			Signature: randomSignature().String(), Slot: uint64(10 + i), Approvals: i + 1}, store.Origin{Actor: "test", Source: store.SourceAPI})
		require.NoError(t, err)
	}
	eta := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	_, err = e.store.SetProposalStatus(ctx, addr, store.ProposalApproved, store.StatusChange{ETA: eta}, store.Origin{Actor: "test", Source: store.SourceAPI})
	require.NoError(t, err)

	r := e.do("GET", "/feeds/multisigs/"+e.multisig.String()+".json", nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	assert.Equal(t, "public, max-age=60", r.Header.Get("Cache-Control"))
	etag := r.Header.Get("ETag")
	require.NotEmpty(t, etag)
	var feed api.FeedResponse
	r.decode(t, &feed)
	require.Len(t, feed.Upgrades, 1)
	u := feed.Upgrades[0]
	assert.Equal(t, hash, u.BufferHash)
	assert.Equal(t, "approved", u.Status)
	require.NotNil(t, u.Eta)
	assert.True(t, eta.Equal(*u.Eta))
	assert.Equal(t, []string{e.members[0].PublicKey().String(), e.members[1].PublicKey().String()}, u.ApprovedBy)
	assert.Equal(t, "https://governor.example.org/ui/#/proposals/"+addr, u.URL)
	assert.Equal(t, "https://governor.example.org/feeds/multisigs/"+e.multisig.String()+".atom", feed.AtomURL)

	r = e.do("GET", "/feeds/multisigs/"+e.multisig.String()+".json", nil, "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, r.Code)
	assert.Empty(t, r.Body)

	r = e.do("GET", "/feeds/multisigs/"+e.multisig.String()+".atom", nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	assert.Equal(t, "application/atom+xml; charset=utf-8", r.Header.Get("Content-Type"))
	var atom struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Summary string `xml:"summary"`
			Content string `xml:"content"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	require.NoError(t, xml.Unmarshal(r.Body, &atom), "the Atom feed is XML: %s", r.Body)
	require.Len(t, atom.Entries, 1)
	assert.Equal(t, "https://governor.example.org/ui/#/proposals/"+addr, atom.Entries[0].Link.Href)
	assert.Contains(t, atom.Entries[0].Summary, hash)
	assert.Contains(t, atom.Entries[0].Summary, eta.Format(time.RFC3339))
	assert.Contains(t, atom.Entries[0].Summary, "v2: <faster> & safer", "escaped, and read back")
	var inner api.FeedUpgrade
	require.NoError(t, json.Unmarshal([]byte(atom.Entries[0].Content), &inner))
	assert.Equal(t, addr, inner.Proposal)

	r = e.do("GET", "/feeds/programs/"+e.program.String()+".json", nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &feed)
	require.Len(t, feed.Upgrades, 1)

	requireError(t, e.do("GET", "/feeds/multisigs/"+newKey(t).PublicKey().String()+".atom", nil), 403, api.CodeMultisigNotServed, "feed")
	requireError(t, e.do("GET", "/feeds/programs/"+newKey(t).PublicKey().String()+".json", nil), 404, api.CodeNotFound, "feed")
	requireError(t, e.do("GET", "/feeds/multisigs/"+e.multisig.String()+".rss", nil), 400, api.CodeInvalidField, "feed")
	requireError(t, e.do("GET", "/feeds/multisigs/nope.json", nil), 400, api.CodeInvalidField, "feed")
}
