package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is one test's API: its own database, its own task queue on the shared Temporal dev
// server with a worker running the real workflows over fake activities, and a fake chain
// holding one multisig of three members (threshold 2) and a guardian.
type env struct {
	t        *testing.T
	srv      *api.Server
	store    *store.Store
	temporal client.Client
	chain    *fakeChain
	queue    string

	multisig  solana.PublicKey
	members   []solana.PrivateKey
	guardian  solana.PrivateKey
	outsider  solana.PrivateKey
	program   solana.PublicKey
	buffer    solana.PublicKey
	elfHash   [32]byte
	operator  string // bearer tokens
	guardianT string
	revoked   string
}

func newKey(t *testing.T) solana.PrivateKey {
	t.Helper()
	k, err := solana.NewRandomPrivateKey()
	require.NoError(t, err)
	return k
}

// newEnv builds the API over its parts with the read cache following the index, as a deployed
// server runs; opts may change the dependencies before the server is built.
func newEnv(t *testing.T, ts *temporaltest.Server, opts ...func(*api.Deps)) *env {
	t.Helper()
	e := &env{t: t, store: pgtest.NewStore(t), temporal: ts.Client(t), chain: newFakeChain()}
	var b [6]byte
	_, _ = rand.Read(b[:])
	e.queue = "api-test-" + hex.EncodeToString(b[:])

	e.members = []solana.PrivateKey{newKey(t), newKey(t), newKey(t)}
	e.guardian, e.outsider = newKey(t), newKey(t)
	e.multisig, _ = governor.FindMultisigAddress(newKey(t).PublicKey())
	e.chain.multisigs[e.multisig] = &governor.Multisig{
		Members:   []solana.PublicKey{e.members[0].PublicKey(), e.members[1].PublicKey(), e.members[2].PublicKey()},
		Threshold: 2, TimelockSeconds: 48 * 3600, ProposalLifetimeSeconds: 7 * 24 * 3600,
		Guardian: e.guardian.PublicKey(), MaxPauseSeconds: 72 * 3600, PauseCooldownSeconds: 7 * 24 * 3600,
	}
	e.program, e.buffer = newKey(t).PublicKey(), newKey(t).PublicKey()
	authority, _ := governor.FindAuthorityAddress(e.multisig)
	elf := []byte("\x7fELF new version of the governed program")
	e.chain.buffers[e.buffer] = &loader.Buffer{Authority: &authority, ELF: append(elf, 0, 0, 0)}
	e.elfHash = loader.ELFHash(elf)

	w := worker.New(e.temporal, e.queue, worker.Options{})
	w.RegisterWorkflow(workflows.UpgradeProposalWorkflow)
	w.RegisterWorkflow(workflows.MigrationWorkflow)
	w.RegisterActivity(&fakeActivities{chain: e.chain})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	cfg := config.Default()
	cfg.TaskQueue = e.queue
	deps := api.Deps{
		Config: cfg, Store: e.store, Temporal: e.temporal, Chain: e.chain,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&deps)
	}
	srv, err := api.New(deps)
	require.NoError(t, err)
	e.srv = srv
	watch, stopWatch := context.WithCancel(context.Background())
	watched := make(chan error, 1)
	go func() { watched <- srv.WatchIndex(watch) }()
	t.Cleanup(func() {
		stopWatch()
		require.ErrorIs(t, <-watched, context.Canceled)
	})

	ctx := ctxT(t)
	admin := store.Origin{Actor: "test-admin", Source: store.SourceCLI}
	e.operator, _, err = e.store.CreateToken(ctx, "deploy-bot", store.RoleOperator, admin)
	require.NoError(t, err)
	e.guardianT, _, err = e.store.CreateToken(ctx, "guardian-1", store.RoleGuardian, admin)
	require.NoError(t, err)
	var tok store.APIToken
	e.revoked, tok, err = e.store.CreateToken(ctx, "old-guardian", store.RoleGuardian, admin)
	require.NoError(t, err)
	require.NoError(t, e.store.RevokeToken(ctx, tok.ID, admin))
	_, _, err = e.store.ServeMultisig(ctx, store.ServedMultisig{Address: e.multisig.String(), Label: "test"}, admin)
	require.NoError(t, err)
	return e
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// response is a recorded answer with its JSON decoded.
type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// do sends a request through the real gin engine. body is marshalled unless it is a string
// or []byte; headers are name, value pairs.
func (e *env) do(method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd).WithContext(ctxT(e.t))
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	r := response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	checkResponse(e.t, method, path, r)
	return r
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// requireError checks an error answer's status, code and (when given) field.
func requireError(t *testing.T, r response, status int, code, field string) {
	t.Helper()
	require.Equal(t, status, r.Code, "body: %s", r.Body)
	var e struct{ Code, Message, Field string }
	require.NoError(t, json.Unmarshal(r.Body, &e), "body: %s", r.Body)
	require.Equal(t, code, e.Code, "body: %s", r.Body)
	require.NotEmpty(t, e.Message)
	if field != "" {
		require.Equal(t, field, e.Field, "body: %s", r.Body)
	}
}

// signTx builds a transaction of ixs on a random blockhash, paid by the first signer, signed
// by every signer; it returns the base64 wire form.
func signTx(t *testing.T, ixs []solana.Instruction, signers ...solana.PrivateKey) string {
	t.Helper()
	tx := buildTx(t, ixs, signers[0].PublicKey())
	_, err := tx.Sign(func(k solana.PublicKey) *solana.PrivateKey {
		for _, s := range signers {
			if s.PublicKey().Equals(k) {
				return &s
			}
		}
		return nil
	})
	require.NoError(t, err)
	return b64(t, tx)
}

func buildTx(t *testing.T, ixs []solana.Instruction, payer solana.PublicKey) *solana.Transaction {
	t.Helper()
	var bh solana.Hash
	_, _ = rand.Read(bh[:])
	tx, err := solana.NewTransaction(ixs, bh, solana.TransactionPayer(payer))
	require.NoError(t, err)
	return tx
}

func b64(t *testing.T, tx *solana.Transaction) string {
	t.Helper()
	raw, err := tx.MarshalBinary()
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(raw)
}

// proposeIx is the multisig's next propose instruction by proposer.
func (e *env) proposeIx(proposer solana.PrivateKey, migration *governor.MigrationPlan) *governor.ProposeUpgrade {
	m := e.chain.multisigs[e.multisig]
	return governor.NewProposeUpgradeInstruction(e.multisig, m.ProposalIndex+1, proposer.PublicKey(), proposer.PublicKey(),
		e.program, e.buffer, governor.ProposeUpgradeArgs{BufferHash: e.elfHash, Description: "v2: faster counter", Migration: migration})
}

// propose starts a proposal through the API and waits until its workflow collects approvals.
func (e *env) propose() solana.PublicKey {
	e.t.Helper()
	ix := e.proposeIx(e.members[0], nil)
	r := e.do("POST", "/proposals", map[string]any{"transaction": signTx(e.t, []solana.Instruction{ix}, e.members[0])})
	require.Equal(e.t, http.StatusCreated, r.Code, "body: %s", r.Body)
	e.waitStep(ix.Proposal, workflows.StepApprovals)
	return ix.Proposal
}

// waitStep polls the workflow's status query until it reports step.
func (e *env) waitStep(proposal solana.PublicKey, step string) workflows.ProposalState {
	e.t.Helper()
	var st workflows.ProposalState
	require.Eventually(e.t, func() bool {
		v, err := e.temporal.QueryWorkflow(ctxT(e.t), workflows.ProposalWorkflowID(proposal.String()), "", workflows.QueryStatus)
		if err != nil {
			return false
		}
		return v.Get(&st) == nil && st.Step == step
	}, 30*time.Second, 50*time.Millisecond, "workflow of %s never reached %s (last %+v)", proposal, step, st)
	return st
}

// auditCount is the number of rows in the audit trail.
func (e *env) auditCount() int {
	e.t.Helper()
	page, err := e.store.ListAudit(ctxT(e.t), store.AuditFilter{Limit: 1000})
	require.NoError(e.t, err)
	return len(page.Entries)
}

// workflowExists reports whether Temporal knows the workflow.
func (e *env) workflowExists(id string) bool {
	e.t.Helper()
	_, err := e.temporal.DescribeWorkflowExecution(ctxT(e.t), id, "")
	return err == nil
}

// messages counts the signals and accepted updates in a workflow's history.
func (e *env) messages(id string) (signals, updates int) {
	e.t.Helper()
	it := e.temporal.GetWorkflowHistory(ctxT(e.t), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(e.t, err)
		switch ev.GetEventType() {
		case enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			signals++
		case enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			updates++
		}
	}
	return signals, updates
}

// unchanged asserts that a request wrote no audit row, sent nothing to the chain, and
// signalled or updated no workflow of the given proposal.
type snapshot struct {
	audit, sent, signals, updates int
	wid                           string
}

func (e *env) snap(proposal solana.PublicKey) snapshot {
	s := snapshot{audit: e.auditCount(), sent: e.chain.sentCount(), wid: workflows.ProposalWorkflowID(proposal.String())}
	if e.workflowExists(s.wid) {
		s.signals, s.updates = e.messages(s.wid)
	}
	return s
}

func (e *env) requireUnchanged(before snapshot, what string) {
	e.t.Helper()
	after := e.snap(solana.MustPublicKeyFromBase58(strings.TrimPrefix(before.wid, "proposal-")))
	after.wid = before.wid
	require.Equal(e.t, before, after, "%s must write, send, signal and update nothing", what)
}

// listRequest lists the running proposal workflows of a multisig, as resume does.
func listRequest(multisig solana.PublicKey) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf(
		"WorkflowType = 'UpgradeProposalWorkflow' AND ExecutionStatus = 'Running' AND UpgradeMultisig = '%s'", multisig)}
}
