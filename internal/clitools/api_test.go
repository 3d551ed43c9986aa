package clitools

import (
	"net/http"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
)

// The API as a member's wallet uses it: ask a /tx route for the transaction, check its
// summary, sign the message locally, post the signed transaction to the route it names.

// signVia asks route for an unsigned transaction, signs it as m and returns it with the
// summary the member reviewed.
func (e *env) signVia(route string, body map[string]any, m wallet) (string, api.TxSummary) {
	e.t.Helper()
	var unsigned api.UnsignedTxResponse
	e.post(route, body, &unsigned)
	tx, err := solana.TransactionFromBase64(unsigned.Transaction)
	require.NoError(e.t, err)
	require.NoError(e.t, chain.SignTransaction(tx, m.Keypair))
	signed, err := tx.ToBase64()
	require.NoError(e.t, err)
	return signed, unsigned.Summary
}

// propose proposes buffer for program as m and returns the proposal and the buffer hash the
// API computed from the chain (what members check against solana-verify).
func (e *env) propose(g governance, m wallet, program, buffer solana.PublicKey, description string) (solana.PublicKey, string) {
	e.t.Helper()
	signed, sum := e.signVia("/tx/propose", map[string]any{
		"multisig": g.Multisig.String(), "proposer": m.PublicKey().String(),
		"target_program": program.String(), "buffer": buffer.String(), "description": description,
	}, m)
	require.Equal(e.t, "POST /proposals", sum.Then)
	var res api.CreateProposalResponse
	e.post("/proposals", map[string]any{"transaction": signed, "description": description}, &res)
	require.Equal(e.t, sum.Proposal, res.Proposal)
	e.waitStatus(solana.MustPublicKeyFromBase58(res.Proposal), "active", time.Minute)
	return solana.MustPublicKeyFromBase58(res.Proposal), sum.BufferHash
}

// approve has each member approve and returns the eta once the threshold is reached.
func (e *env) approve(proposal solana.PublicKey, members ...wallet) time.Time {
	e.t.Helper()
	for _, m := range members {
		signed, sum := e.signVia("/tx/approve", map[string]any{"proposal": proposal.String(), "member": m.PublicKey().String()}, m)
		e.post("/"+strings.TrimPrefix(sum.Then, "POST /"), map[string]any{"transaction": signed}, nil)
	}
	p := e.waitStatus(proposal, "approved", time.Minute)
	require.NotNil(e.t, p.Eta, "an approved proposal has an eta")
	return *p.Eta
}

// execute crosses the timelock by time travel and has m ask for execution.
func (e *env) execute(proposal solana.PublicKey, eta time.Time, m wallet) {
	e.t.Helper()
	require.NoError(e.t, e.stack.Chain.TimeTravel(e.ctx, eta.Unix()+1))
	signed, _ := e.signVia("/tx/execute", map[string]any{"proposal": proposal.String(), "member": m.PublicKey().String()}, m)
	e.post("/proposals/"+proposal.String()+"/execute", map[string]any{"transaction": signed}, nil)
	e.waitStatus(proposal, "executed", 2*time.Minute)
}

func (e *env) waitStatus(proposal solana.PublicKey, want string, limit time.Duration) api.ProposalView {
	e.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var d api.ProposalDetailResponse
		err := e.get("/proposals/"+proposal.String(), &d)
		if err == nil && d.Proposal.Status == want {
			return d.Proposal
		}
		if err == nil && d.Workflow != nil && d.Workflow.State != nil && d.Workflow.State.LastError != "" {
			e.t.Fatalf("proposal %s: %s", proposal, d.Workflow.State.LastError)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("proposal %s is %q after %s, want %q (last error %v)", proposal, d.Proposal.Status, limit, want, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (e *env) api() *apiclient.Client {
	e.t.Helper()
	c, err := apiclient.New(e.stack.APIURL, http.DefaultClient)
	require.NoError(e.t, err)
	return c
}

func (e *env) post(path string, body, out any) {
	e.t.Helper()
	require.NoError(e.t, e.api().Post(e.ctx, path, body, out))
}

func (e *env) get(path string, out any) error {
	return e.api().Get(e.ctx, path, out)
}
