package main

// The bad-input and fuzz drills: hostile requests against the live API server, each of which
// must be refused with a 4xx JSON error naming the field at fault, and after which PostgreSQL,
// Temporal and the chain must hold exactly what they held before.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/govflow"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

func init() {
	cases = append(cases,
		kase{name: "bad-input", whole: func(ctx context.Context, d *drill) ([]string, error) { return d.badInput(ctx) }},
		kase{name: "fuzz", whole: func(ctx context.Context, d *drill) ([]string, error) { return d.fuzz(ctx) }},
	)
}

// hostileSetup is a real proposal state for hostile requests to aim at: a proposal of a
// deployed program, proposed through the API and approved by 2 of the 3 members needed, and
// bearer tokens of each kind.
type hostileSetup struct {
	program, proposal solana.PublicKey
	// approved0 is member 1's approval as the API accepted it (for replays).
	approved0 string
	operator  string
	guardian  string
	revoked   string
	outsider  *chain.Keypair
}

func (d *drill) setUpHostile(ctx context.Context, label string) (*hostileSetup, error) {
	f := d.flow
	h := &hostileSetup{}
	var err error
	if h.program, err = f.Deploy(ctx); err != nil {
		return nil, err
	}
	if h.proposal, err = f.Propose(ctx, govflow.Upgrade{Program: h.program, ELF: f.V2, Migrate: true, Description: label + " drill"}); err != nil {
		return nil, err
	}
	for i := range govflow.Threshold - 1 {
		signed, err := member.Approve(ctx, f.Chain, f.Multisig, h.proposal, f.Members[i])
		if err != nil {
			return nil, err
		}
		b64, err := signed.Base64()
		if err != nil {
			return nil, err
		}
		if err := f.Post(ctx, "/proposals/"+h.proposal.String()+"/approve", map[string]any{"transaction": b64}, nil); err != nil {
			return nil, fmt.Errorf("approve by member %d: %w", i+1, err)
		}
		if i == 0 {
			h.approved0 = b64
		}
	}
	origin := store.Origin{Actor: "faults", Source: store.SourceCLI}
	suffix := fmt.Sprintf("%s-%d", label, time.Now().UnixNano())
	if h.operator, _, err = d.store.CreateToken(ctx, "operator-"+suffix, store.RoleOperator, origin); err != nil {
		return nil, err
	}
	if h.guardian, _, err = d.store.CreateToken(ctx, "guardian-"+suffix, store.RoleGuardian, origin); err != nil {
		return nil, err
	}
	revoked, tok, err := d.store.CreateToken(ctx, "revoked-"+suffix, store.RoleGuardian, origin)
	if err != nil {
		return nil, err
	}
	if err := d.store.RevokeToken(ctx, tok.ID, origin); err != nil {
		return nil, err
	}
	h.revoked = revoked
	if h.outsider, err = chain.NewKeypair(); err != nil {
		return nil, err
	}
	return h, nil
}

// stateSnapshot is everything a request could change.
type stateSnapshot struct {
	// tables: name -> "rows=N md5=..." over every row's text.
	tables map[string]string
	// workflows: workflow ID -> "run status history-length", for every workflow Temporal lists
	// and every ID a hostile request could have created ("absent" then).
	workflows map[string]string
	// accounts: digest of every account the governor program owns (key, lamports, data).
	accounts       string
	nAccounts      int
	signatures     int
	lastSignatures []string
	// balances of the members, the guardian and the outsider (fee payers of hostile txs).
	balances map[string]uint64
}

// apiTables are the tables the API and the workflows write.
var apiTables = []string{"upgrade_proposals", "approval_history", "migration_jobs", "rollback_events",
	"account_migrations", "audit_log", "api_tokens", "served_multisigs"}

func (d *drill) snapshot(ctx context.Context, watch []string, keys []solana.PublicKey) (*stateSnapshot, error) {
	s := &stateSnapshot{tables: map[string]string{}, workflows: map[string]string{}, balances: map[string]uint64{}}
	conn, err := pgx.Connect(ctx, d.st.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("snapshot: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	for _, t := range apiTables {
		var n int64
		var digest string
		q := `SELECT count(*), coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '') FROM ` + t + ` AS t`
		if err := conn.QueryRow(ctx, q).Scan(&n, &digest); err != nil {
			return nil, fmt.Errorf("snapshot: table %s: %w", t, err)
		}
		s.tables[t] = fmt.Sprintf("rows=%d md5=%s", n, digest)
	}

	ids := slices.Clone(watch)
	var token []byte
	for {
		resp, err := d.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("snapshot: list workflows: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		desc, err := d.temporal.DescribeWorkflowExecution(ctx, id, "")
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			s.workflows[id] = "absent"
		case err != nil:
			return nil, fmt.Errorf("snapshot: describe %s: %w", id, err)
		default:
			info := desc.GetWorkflowExecutionInfo()
			s.workflows[id] = fmt.Sprintf("run=%s status=%s history=%d pending-activities=%d",
				info.GetExecution().GetRunId(), info.GetStatus(), info.GetHistoryLength(), len(desc.GetPendingActivities()))
		}
	}

	c := d.flow.Chain
	accounts, err := c.ListProgramAccounts(ctx, governor.ProgramID, 0)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	sort.Slice(accounts, func(i, j int) bool { return bytes.Compare(accounts[i].Pubkey[:], accounts[j].Pubkey[:]) < 0 })
	h := sha256.New()
	for _, a := range accounts {
		fmt.Fprintf(h, "%s %d %s %x\n", a.Pubkey, a.Account.Lamports, a.Account.Owner, a.Account.Data.GetBinary())
	}
	s.accounts, s.nAccounts = hex.EncodeToString(h.Sum(nil)), len(accounts)
	limit := 1000
	sigs, err := c.RPC().GetSignaturesForAddressWithOpts(ctx, governor.ProgramID, &rpc.GetSignaturesForAddressOpts{
		Limit: &limit, Commitment: rpc.CommitmentConfirmed,
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot: signatures of the governor: %w", err)
	}
	s.signatures = len(sigs)
	for _, sig := range sigs[:min(3, len(sigs))] {
		s.lastSignatures = append(s.lastSignatures, sig.Signature.String())
	}
	for _, k := range keys {
		b, err := c.Balance(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		s.balances[k.String()] = b
	}
	return s, nil
}

// diff lists what changed from a to b.
func (a *stateSnapshot) diff(b *stateSnapshot) []string {
	var out []string
	for _, t := range apiTables {
		if a.tables[t] != b.tables[t] {
			out = append(out, fmt.Sprintf("table %s: %s -> %s", t, a.tables[t], b.tables[t]))
		}
	}
	ids := map[string]bool{}
	for id := range a.workflows {
		ids[id] = true
	}
	for id := range b.workflows {
		ids[id] = true
	}
	for _, id := range sortedKeys(ids) {
		if a.workflows[id] != b.workflows[id] {
			out = append(out, fmt.Sprintf("workflow %s: %q -> %q", id, a.workflows[id], b.workflows[id]))
		}
	}
	if a.accounts != b.accounts || a.nAccounts != b.nAccounts {
		out = append(out, fmt.Sprintf("governor accounts: %d %s -> %d %s", a.nAccounts, a.accounts[:12], b.nAccounts, b.accounts[:12]))
	}
	if a.signatures != b.signatures || !slices.Equal(a.lastSignatures, b.lastSignatures) {
		out = append(out, fmt.Sprintf("governor signatures: %d %v -> %d %v", a.signatures, a.lastSignatures, b.signatures, b.lastSignatures))
	}
	for k, v := range a.balances {
		if b.balances[k] != v {
			out = append(out, fmt.Sprintf("balance of %s: %d -> %d", k, v, b.balances[k]))
		}
	}
	return out
}

func (a *stateSnapshot) summary() string {
	rows := []string{}
	for _, t := range apiTables {
		rows = append(rows, t+" "+strings.Fields(a.tables[t])[0])
	}
	history := 0
	present := 0
	for _, v := range a.workflows {
		var n int
		if i := strings.Index(v, "history="); i >= 0 {
			fmt.Sscanf(v[i:], "history=%d", &n)
			present++
		}
		history += n
	}
	return fmt.Sprintf("PostgreSQL %s; Temporal %d workflows, %d history events; chain %d governor accounts %s…, %d governor signatures",
		strings.Join(rows, ", "), present, history, a.nAccounts, a.accounts[:12], a.signatures)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// settledSnapshot waits until two snapshots 2 s apart agree (the indexer and the workflows
// may still be absorbing the set-up), and returns the second.
func (d *drill) settledSnapshot(ctx context.Context, watch []string, keys []solana.PublicKey) (*stateSnapshot, error) {
	prev, err := d.snapshot(ctx, watch, keys)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		time.Sleep(2 * time.Second)
		cur, err := d.snapshot(ctx, watch, keys)
		if err != nil {
			return nil, err
		}
		changes := prev.diff(cur)
		if len(changes) == 0 {
			return cur, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the stack did not settle before the drill: %s", strings.Join(changes, "; "))
		}
		prev = cur
	}
}

// hostileRequest is one request that must be refused.
type hostileRequest struct {
	class, name  string
	method, path string
	body         []byte
	// stream sends the body without a Content-Length.
	stream bool
	// contentType: "" means application/json when there is a body; "none" sends none.
	contentType string
	auth        string
	// What the API must answer. field "" means the error names no field: the body as a whole
	// (not JSON, too large, wrong media type), the route, or a conflict with the proposal's
	// state rather than with a field.
	status      int
	code, field string
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and numbers are marshalled here
	}
	return b
}

func txBody(b64 string) []byte { return jsonBody(map[string]any{"transaction": b64}) }

// signed builds a transaction of ixs on blockhash, paid by payer, with the signatures of
// signers (others stay empty), in base64.
func signed(bh solana.Hash, payer solana.PublicKey, ixs []solana.Instruction, signers ...*chain.Keypair) (*solana.Transaction, string, error) {
	tx, err := solana.NewTransaction(ixs, bh, solana.TransactionPayer(payer))
	if err != nil {
		return nil, "", err
	}
	tx.Signatures = make([]solana.Signature, tx.Message.Header.NumRequiredSignatures)
	if err := chain.SignTransaction(tx, signers...); err != nil {
		return nil, "", err
	}
	b64, err := tx.ToBase64()
	return tx, b64, err
}

// hostileRequests builds the requests of the bad-input drill.
func (d *drill) hostileRequests(ctx context.Context, h *hostileSetup) ([]hostileRequest, error) {
	f := d.flow
	m := f.Members
	P := h.proposal.String()
	bhRes, err := f.Chain.RPC().GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		return nil, fmt.Errorf("latest blockhash: %w", err)
	}
	bh := bhRes.Value.Blockhash
	ms, err := f.Chain.GetMultisig(ctx, f.Multisig)
	if err != nil {
		return nil, err
	}
	nextProposal, _ := governor.FindProposalAddress(f.Multisig, ms.ProposalIndex+1)
	otherMultisig := solana.NewWallet().PublicKey()
	approveBy := func(k *chain.Keypair) solana.Instruction {
		return governor.NewApproveUpgradeInstruction(f.Multisig, h.proposal, k.PublicKey())
	}
	var errs []error
	tx := func(payer solana.PublicKey, ixs []solana.Instruction, signers ...*chain.Keypair) string {
		_, b64, err := signed(bh, payer, ixs, signers...)
		errs = append(errs, err)
		return b64
	}
	raw := func(b64 string) []byte {
		b, err := base64.StdEncoding.DecodeString(b64)
		errs = append(errs, err)
		return b
	}
	b64 := base64.StdEncoding.EncodeToString

	// Transactions that must not get through.
	validApprove2 := tx(m[2].PublicKey(), []solana.Instruction{approveBy(m[2])}, m[2])
	unsigned := tx(m[2].PublicKey(), []solana.Instruction{approveBy(m[2])})
	outsiderApproves := tx(h.outsider.PublicKey(), []solana.Instruction{
		governor.NewApproveUpgradeInstruction(f.Multisig, h.proposal, h.outsider.PublicKey())}, h.outsider)
	// The instruction names member 3, member 4 pays and signs, and member 4's signature is put
	// in member 3's place.
	wrongMemberTx, _, err := signed(bh, m[3].PublicKey(), []solana.Instruction{approveBy(m[2])}, m[3])
	if err != nil {
		return nil, err
	}
	wrongMemberTx.Signatures[1] = wrongMemberTx.Signatures[0]
	wrongMember, err := wrongMemberTx.ToBase64()
	if err != nil {
		return nil, err
	}
	againByMember1 := tx(m[0].PublicKey(), []solana.Instruction{approveBy(m[0])}, m[0])
	otherProposal := tx(m[2].PublicKey(), []solana.Instruction{
		governor.NewApproveUpgradeInstruction(f.Multisig, nextProposal, m[2].PublicKey())}, m[2])
	otherMultisigTx := tx(m[2].PublicKey(), []solana.Instruction{
		governor.NewApproveUpgradeInstruction(otherMultisig, h.proposal, m[2].PublicKey())}, m[2])
	foreign := tx(m[2].PublicKey(), []solana.Instruction{approveBy(m[2]),
		system.NewTransferInstruction(1_000_000, m[2].PublicKey(), h.outsider.PublicKey()).Build()}, m[2])
	twoApprovals := tx(m[2].PublicKey(), []solana.Instruction{approveBy(m[2]), approveBy(m[3])}, m[2], m[3])
	cancelByMember := tx(m[4].PublicKey(), []solana.Instruction{
		governor.NewCancelUpgradeInstruction(f.Multisig, h.proposal, m[4].PublicKey())}, m[4])
	// The approve instruction's data and accounts, sent to the governed program instead.
	wrongProgramIx := approveBy(m[2]).(*governor.ApproveUpgrade)
	data, err := wrongProgramIx.Data()
	if err != nil {
		return nil, err
	}
	wrongProgram := tx(m[2].PublicKey(), []solana.Instruction{
		solana.NewInstruction(h.program, wrongProgramIx.Accounts(), data)}, m[2])
	// Member 3's approval whose fee payer was swapped for the outsider after signing.
	swappedTx, _, err := signed(bh, m[2].PublicKey(), []solana.Instruction{approveBy(m[2])}, m[2])
	if err != nil {
		return nil, err
	}
	swappedTx.Message.AccountKeys[0] = h.outsider.PublicKey()
	swappedPayer, err := swappedTx.ToBase64()
	if err != nil {
		return nil, err
	}
	// Signed by member 3 on a blockhash the chain never issued: it can never land.
	var fakeHash solana.Hash
	copy(fakeHash[:], bytes.Repeat([]byte{0x42}, 32))
	_, staleApprove, err := signed(fakeHash, m[2].PublicKey(), []solana.Instruction{approveBy(m[2])}, m[2])
	if err != nil {
		return nil, err
	}
	_, staleCancel, err := signed(fakeHash, m[4].PublicKey(), []solana.Instruction{
		governor.NewCancelUpgradeInstruction(f.Multisig, h.proposal, m[4].PublicKey())}, m[4])
	if err != nil {
		return nil, err
	}
	_, stalePause, err := signed(fakeHash, m[4].PublicKey(), []solana.Instruction{
		governor.NewPauseSystemInstruction(f.Multisig, m[4].PublicKey())}, m[4])
	if err != nil {
		return nil, err
	}
	outsiderPause := tx(h.outsider.PublicKey(), []solana.Instruction{
		governor.NewPauseSystemInstruction(f.Multisig, h.outsider.PublicKey())}, h.outsider)
	resumeByOne := tx(m[0].PublicKey(), []solana.Instruction{
		governor.NewResumeSystemInstruction(f.Multisig, m[0].PublicKey())}, m[0])
	outsiderCancel := tx(h.outsider.PublicKey(), []solana.Instruction{
		governor.NewCancelUpgradeInstruction(f.Multisig, h.proposal, h.outsider.PublicKey())}, h.outsider)
	executeTx, err := member.Execute(ctx, f.Chain, h.proposal, m[0])
	if err != nil {
		return nil, err
	}
	executeOtherPath, err := executeTx.Base64()
	if err != nil {
		return nil, err
	}
	buffer := solana.NewWallet().PublicKey()
	proposeIx := func(proposer *chain.Keypair, description string, migration *governor.MigrationPlan) solana.Instruction {
		return governor.NewProposeUpgradeInstruction(f.Multisig, ms.ProposalIndex+1, proposer.PublicKey(), proposer.PublicKey(),
			h.program, buffer, governor.ProposeUpgradeArgs{Description: description, Migration: migration})
	}
	proposeByMember := tx(m[3].PublicKey(), []solana.Instruction{proposeIx(m[3], "what the members signed", nil)}, m[3])
	proposeByOutsider := tx(h.outsider.PublicKey(), []solana.Instruction{proposeIx(h.outsider, "hostile", nil)}, h.outsider)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("build hostile transactions: %w", err)
	}
	good := raw(validApprove2)

	approve := "/proposals/" + P + "/approve"
	bearer := func(t string) string { return "Bearer " + t }
	plan := map[string]any{"target_version": 2, "from_version": 1}
	nested := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	huge := append(append([]byte(`{"transaction":"`), bytes.Repeat([]byte("A"), 100<<10)...), '"', '}')
	notUTF8 := append(append([]byte(`{"transaction":"`), 0xff, 0xfe, 0xfd), '"', '}')
	randomKey := solana.NewWallet().PublicKey().String()
	B, U, F, NF, C, T := http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnsupportedMediaType

	reqs := []hostileRequest{
		// Bodies that are not the JSON object asked for.
		{class: "json", name: "truncated JSON", method: "POST", path: approve, body: []byte(`{"transaction":"` + validApprove2[:40]), status: B, code: "malformed_json"},
		{class: "json", name: "not JSON", method: "POST", path: approve, body: []byte(`transaction=` + validApprove2), status: B, code: "malformed_json"},
		{class: "json", name: "array instead of object", method: "POST", path: approve, body: []byte(`["` + validApprove2 + `"]`), status: B, code: "malformed_json"},
		{class: "json", name: "number where a string goes", method: "POST", path: approve, body: []byte(`{"transaction":42}`), status: B, code: "invalid_field", field: "transaction"},
		{class: "json", name: "unknown field beside a valid tx", method: "POST", path: approve, body: []byte(`{"transaction":"` + validApprove2 + `","admin":true}`), status: B, code: "unknown_field", field: "admin"},
		{class: "json", name: "two JSON values", method: "POST", path: approve, body: []byte(`{"transaction":"x"}{"transaction":"` + validApprove2 + `"}`), status: B, code: "malformed_json"},
		{class: "json", name: "empty body", method: "POST", path: approve, body: []byte{}, status: B, code: "malformed_json"},
		{class: "json", name: "null transaction", method: "POST", path: approve, body: []byte(`{"transaction":null}`), status: B, code: "missing_field", field: "transaction"},
		{class: "json", name: "20,000-deep nesting", method: "POST", path: "/proposals", body: []byte(`{"migration":` + nested + `}`), status: B, code: "malformed_json"},
		{class: "json", name: "invalid UTF-8 in a string", method: "POST", path: approve, body: notUTF8, status: B, code: "malformed_transaction", field: "transaction"},
		{class: "json", name: "string where an object goes", method: "POST", path: "/migration/start", auth: bearer(h.operator), body: jsonBody(map[string]any{"proposal": P, "plan": "all"}), status: B, code: "invalid_field", field: "plan"},
		{class: "size", name: "100 KiB body with Content-Length", method: "POST", path: approve, body: huge, status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
		{class: "size", name: "100 KiB body chunked", method: "POST", path: approve, body: huge, stream: true, status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
		{class: "size", name: "1,300-byte transaction", method: "POST", path: approve, body: txBody(b64(bytes.Repeat([]byte{1}, 1300))), status: B, code: "malformed_transaction", field: "transaction"},
		{class: "media", name: "text/plain", method: "POST", path: approve, body: txBody(validApprove2), contentType: "text/plain", status: T, code: "unsupported_media_type"},
		{class: "media", name: "form-urlencoded", method: "POST", path: "/proposals", body: []byte("transaction=" + validApprove2), contentType: "application/x-www-form-urlencoded", status: T, code: "unsupported_media_type"},
		{class: "media", name: "no Content-Type", method: "POST", path: "/system/pause", body: txBody(outsiderPause), contentType: "none", status: T, code: "unsupported_media_type"},

		// Transactions.
		{class: "tx", name: "not base64", method: "POST", path: approve, body: txBody("!!!" + validApprove2[3:]), status: B, code: "malformed_transaction", field: "transaction"},
		{class: "tx", name: "base58 instead of base64", method: "POST", path: approve, body: txBody(solana.Base58(good).String()), status: B, code: "malformed_transaction", field: "transaction"},
		{class: "tx", name: "garbage bytes", method: "POST", path: approve, body: txBody(b64(bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 50))), status: B, code: "malformed_transaction", field: "transaction"},
		{class: "tx", name: "truncated transaction", method: "POST", path: approve, body: txBody(b64(good[:len(good)-10])), status: B, code: "malformed_transaction", field: "transaction"},
		{class: "tx", name: "trailing byte", method: "POST", path: approve, body: txBody(b64(append(slices.Clone(good), 0))), status: B, code: "malformed_transaction", field: "transaction"},
		{class: "tx", name: "unsigned", method: "POST", path: approve, body: txBody(unsigned), status: U, code: "missing_signature", field: "transaction"},
		{class: "tx", name: "signed by a non-member", method: "POST", path: approve, body: txBody(outsiderApproves), status: F, code: "not_a_member", field: "transaction"},
		{class: "tx", name: "another member's signature in the member's place", method: "POST", path: approve, body: txBody(wrongMember), status: U, code: "invalid_signature", field: "transaction"},
		{class: "tx", name: "fee payer swapped after signing", method: "POST", path: approve, body: txBody(swappedPayer), status: U, code: "invalid_signature", field: "transaction"},
		{class: "tx", name: "for another proposal than the path", method: "POST", path: approve, body: txBody(otherProposal), status: B, code: "wrong_proposal", field: "transaction"},
		{class: "tx", name: "for another multisig", method: "POST", path: approve, body: txBody(otherMultisigTx), status: B, code: "wrong_multisig", field: "transaction"},
		{class: "tx", name: "extra system transfer", method: "POST", path: approve, body: txBody(foreign), status: B, code: "wrong_program", field: "transaction"},
		{class: "tx", name: "two governor instructions", method: "POST", path: approve, body: txBody(twoApprovals), status: B, code: "wrong_instruction", field: "transaction"},
		{class: "tx", name: "cancel sent to approve", method: "POST", path: approve, body: txBody(cancelByMember), status: B, code: "wrong_instruction", field: "transaction"},
		{class: "tx", name: "wrong program id", method: "POST", path: approve, body: txBody(wrongProgram), status: B, code: "wrong_program", field: "transaction"},
		{class: "tx", name: "replayed approval", method: "POST", path: approve, body: txBody(h.approved0), status: C, code: "replayed_transaction", field: "transaction"},
		{class: "tx", name: "replayed approval sent to execute", method: "POST", path: "/proposals/" + P + "/execute", body: txBody(h.approved0), status: B, code: "wrong_instruction", field: "transaction"},
		{class: "tx", name: "member 1 approves twice", method: "POST", path: approve, body: txBody(againByMember1), status: C, code: "update_rejected"},
		{class: "tx", name: "approval on a blockhash never issued", method: "POST", path: approve, body: txBody(staleApprove), status: http.StatusUnprocessableEntity, code: "blockhash_expired", field: "transaction"},
		{class: "tx", name: "cancel on a blockhash never issued", method: "POST", path: "/proposals/" + P + "/cancel", body: txBody(staleCancel), status: http.StatusUnprocessableEntity, code: "blockhash_expired", field: "transaction"},
		{class: "tx", name: "pause on a blockhash never issued", method: "POST", path: "/system/pause", body: txBody(stalePause), status: http.StatusUnprocessableEntity, code: "blockhash_expired", field: "transaction"},
		{class: "tx", name: "execute for another proposal than the path", method: "POST", path: "/proposals/" + nextProposal.String() + "/execute", body: txBody(executeOtherPath), status: B, code: "wrong_proposal", field: "transaction"},
		{class: "tx", name: "propose by a non-member", method: "POST", path: "/proposals", body: txBody(proposeByOutsider), status: F, code: "not_a_member", field: "transaction"},
		{class: "tx", name: "propose with another description", method: "POST", path: "/proposals", body: jsonBody(map[string]any{"transaction": proposeByMember, "description": "something else"}), status: B, code: "invalid_field", field: "description"},
		{class: "tx", name: "propose with a migration the tx lacks", method: "POST", path: "/proposals", body: jsonBody(map[string]any{"transaction": proposeByMember, "migration": plan}), status: B, code: "migration_mismatch", field: "migration"},
		{class: "tx", name: "approve sent to propose", method: "POST", path: "/proposals", body: txBody(validApprove2), status: B, code: "wrong_instruction", field: "transaction"},
		{class: "tx", name: "pause by a non-member", method: "POST", path: "/system/pause", body: txBody(outsiderPause), status: F, code: "not_a_member", field: "transaction"},
		{class: "tx", name: "resume vote while not paused", method: "POST", path: "/system/resume", body: txBody(resumeByOne), status: C, code: "invalid_state", field: "transaction"},
		{class: "tx", name: "resume tx sent to pause", method: "POST", path: "/system/pause", body: txBody(resumeByOne), status: B, code: "wrong_instruction", field: "transaction"},
		{class: "tx", name: "cancel by a non-member", method: "POST", path: "/proposals/" + P + "/cancel", body: txBody(outsiderCancel), status: F, code: "not_a_member", field: "transaction"},
		{class: "tx", name: "cancel reason of 600 bytes", method: "POST", path: "/proposals/" + P + "/cancel", body: jsonBody(map[string]any{"transaction": cancelByMember, "reason": strings.Repeat("r", 600)}), status: B, code: "invalid_field", field: "reason"},

		// Path ids.
		{class: "path", name: "GET proposal id not a pubkey", method: "GET", path: "/proposals/not-a-pubkey", status: B, code: "invalid_field", field: "id"},
		{class: "path", name: "approve with id not a pubkey", method: "POST", path: "/proposals/0OIl/approve", body: txBody(validApprove2), status: B, code: "invalid_field", field: "id"},
		{class: "path", name: "proposal id with SQL", method: "GET", path: "/proposals/1'%20OR%20'1'='1", status: B, code: "invalid_field", field: "id"},
		{class: "path", name: "proposal id that is dots", method: "GET", path: "/proposals/..%2F..%2Fetc%2Fpasswd", status: NF, code: "route_not_found"},
		{class: "path", name: "unknown proposal", method: "GET", path: "/proposals/" + randomKey, status: NF, code: "proposal_not_found", field: "id"},
		{class: "path", name: "multisig address not base58", method: "GET", path: "/multisig/0OIl", status: B, code: "invalid_field", field: "address"},
		{class: "path", name: "a proposal read as a multisig", method: "GET", path: "/multisig/" + P, status: F, code: "multisig_not_served", field: "address"},
		{class: "path", name: "migration id with SQL", method: "GET", path: "/migration/x';%20DROP%20TABLE%20migration_jobs;--", status: B, code: "invalid_field", field: "id"},
		{class: "path", name: "migration id of 300 characters", method: "GET", path: "/migration/" + strings.Repeat("m", 300), status: B, code: "invalid_field", field: "id"},
		{class: "path", name: "execute of an unknown proposal", method: "POST", path: "/proposals/" + randomKey + "/execute", auth: bearer(h.operator), status: NF, code: "workflow_not_found", field: "id"},

		// Query parameters.
		{class: "query", name: "limit=-1", method: "GET", path: "/proposals?limit=-1", status: B, code: "invalid_field", field: "limit"},
		{class: "query", name: "limit of 20 digits", method: "GET", path: "/proposals?limit=99999999999999999999", status: B, code: "invalid_field", field: "limit"},
		{class: "query", name: "offset=-5", method: "GET", path: "/proposals?offset=-5", status: B, code: "invalid_field", field: "offset"},
		{class: "query", name: "offset past 2^30", method: "GET", path: "/proposals?offset=2000000000", status: B, code: "invalid_field", field: "offset"},
		{class: "query", name: "status with SQL", method: "GET", path: "/proposals?status=active'%20OR%20'1'='1", status: B, code: "invalid_field", field: "status"},
		{class: "query", name: "program with SQL", method: "GET", path: "/proposals?program=1%27%20OR%201%3D1--", status: B, code: "invalid_field", field: "program"},
		{class: "query", name: "multisig with a NUL", method: "GET", path: "/proposals?multisig=%00", status: B, code: "invalid_field", field: "multisig"},
		{class: "query", name: "audit actor with SQL", method: "GET", path: "/audit?actor=x'%20OR%20'a'='a", status: B, code: "invalid_field", field: "actor"},
		{class: "query", name: "audit action DROP TABLE", method: "GET", path: "/audit?action=DROP%20TABLE%20audit_log;", status: B, code: "invalid_field", field: "action"},
		{class: "query", name: "audit since=yesterday", method: "GET", path: "/audit?since=yesterday", status: B, code: "invalid_field", field: "since"},
		{class: "query", name: "audit before=0", method: "GET", path: "/audit?before=0", status: B, code: "invalid_field", field: "before"},
		{class: "query", name: "audit limit=1e9", method: "GET", path: "/audit?limit=1e9", status: B, code: "invalid_field", field: "limit"},
		{class: "query", name: "audit proposal with SQL", method: "GET", path: "/audit?proposal=%27%3B%20DELETE%20FROM%20audit_log%3B--", status: B, code: "invalid_field", field: "proposal"},

		// Tokens.
		{class: "auth", name: "migration start without a token", method: "POST", path: "/migration/start", body: jsonBody(map[string]any{"proposal": P, "plan": plan}), status: U, code: "missing_token", field: "Authorization"},
		{class: "auth", name: "unknown token", method: "POST", path: "/migration/start", auth: bearer("ugt_" + strings.Repeat("x", 43)), body: jsonBody(map[string]any{"proposal": P, "plan": plan}), status: U, code: "invalid_token", field: "Authorization"},
		{class: "auth", name: "revoked token", method: "POST", path: "/migration/start", auth: bearer(h.revoked), body: jsonBody(map[string]any{"proposal": P, "plan": plan}), status: U, code: "token_revoked", field: "Authorization"},
		{class: "auth", name: "Basic scheme", method: "POST", path: "/migration/start", auth: "Basic dXNlcjpwYXNz", body: jsonBody(map[string]any{"proposal": P, "plan": plan}), status: U, code: "invalid_token", field: "Authorization"},
		{class: "auth", name: "empty bearer", method: "POST", path: "/proposals/" + P + "/execute", auth: "Bearer ", status: U, code: "invalid_token", field: "Authorization"},
		{class: "auth", name: "emergency stop without a token", method: "POST", path: "/proposals/" + P + "/cancel", status: U, code: "missing_token", field: "Authorization"},
		{class: "auth", name: "emergency stop with an operator token", method: "POST", path: "/proposals/" + P + "/cancel", auth: bearer(h.operator), status: F, code: "forbidden", field: "Authorization"},
		{class: "auth", name: "emergency stop with a revoked guardian token", method: "POST", path: "/proposals/" + P + "/cancel", auth: bearer(h.revoked), status: U, code: "token_revoked", field: "Authorization"},
		{class: "auth", name: "execute without a token or tx", method: "POST", path: "/proposals/" + P + "/execute", status: U, code: "missing_token", field: "Authorization"},
		{class: "auth", name: "migration of a proposal not executed", method: "POST", path: "/migration/start", auth: bearer(h.guardian), body: jsonBody(map[string]any{"proposal": P, "plan": plan}), status: C, code: "invalid_state", field: "proposal"},
		{class: "auth", name: "migration plan target_version 0", method: "POST", path: "/migration/start", auth: bearer(h.operator), body: jsonBody(map[string]any{"proposal": P, "plan": map[string]any{"target_version": 0, "from_version": 1}}), status: B, code: "invalid_field", field: "plan.target_version"},
		{class: "auth", name: "migration proposal not base58", method: "POST", path: "/migration/start", auth: bearer(h.operator), body: jsonBody(map[string]any{"proposal": "0OIl", "plan": plan}), status: B, code: "invalid_field", field: "proposal"},
		// The plan is optional (the signed one runs); a malformed one is refused before the chain is read.
		{class: "auth", name: "migration without a plan, not executed", method: "POST", path: "/migration/start", auth: bearer(h.operator), body: jsonBody(map[string]any{"proposal": P}), status: C, code: "invalid_state", field: "proposal"},
		{class: "auth", name: "migration plan without from_version", method: "POST", path: "/migration/start", auth: bearer(h.operator), body: jsonBody(map[string]any{"proposal": P, "plan": map[string]any{"target_version": 2}}), status: B, code: "missing_field", field: "plan.from_version"},

		// Transaction builders (they write nothing, but must refuse cleanly too).
		{class: "build", name: "approve by a non-member", method: "POST", path: "/tx/approve", body: jsonBody(map[string]any{"proposal": P, "member": h.outsider.PublicKey().String()}), status: F, code: "not_a_member", field: "member"},
		{class: "build", name: "propose with a buffer not base58", method: "POST", path: "/tx/propose", body: jsonBody(map[string]any{"multisig": f.Multisig.String(), "proposer": m[0].PublicKey().String(), "target_program": h.program.String(), "buffer": "not/base58"}), status: B, code: "invalid_field", field: "buffer"},
		{class: "build", name: "propose with instruction data not base64", method: "POST", path: "/tx/propose", body: jsonBody(map[string]any{"multisig": f.Multisig.String(), "proposer": m[0].PublicKey().String(), "target_program": h.program.String(), "buffer": buffer.String(), "migration": map[string]any{"target_version": 2, "instruction_data": "%%%"}}), status: B, code: "invalid_field", field: "migration.instruction_data"},
		{class: "build", name: "resume with co-signers (a vote is one member's)", method: "POST", path: "/tx/resume", body: jsonBody(map[string]any{"multisig": f.Multisig.String(), "signers": []string{m[0].PublicKey().String(), m[0].PublicKey().String()}}), status: B, code: "unknown_field", field: "signers"},
		{class: "build", name: "resume vote with a bad member", method: "POST", path: "/tx/resume", body: jsonBody(map[string]any{"multisig": f.Multisig.String(), "member": "not/base58"}), status: B, code: "invalid_field", field: "member"},
		{class: "build", name: "pause with signers", method: "POST", path: "/tx/pause", body: jsonBody(map[string]any{"multisig": f.Multisig.String(), "pauser": m[0].PublicKey().String(), "signers": []string{m[1].PublicKey().String()}}), status: B, code: "unknown_field", field: "signers"},
		{class: "build", name: "execute with a fee payer not base58", method: "POST", path: "/tx/execute", body: jsonBody(map[string]any{"proposal": P, "member": m[0].PublicKey().String(), "fee_payer": "0OIl"}), status: B, code: "invalid_field", field: "fee_payer"},

		// Routes and methods.
		{class: "route", name: "DELETE a proposal", method: "DELETE", path: "/proposals/" + P, status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
		{class: "route", name: "unknown route", method: "POST", path: "/admin/drop", body: []byte(`{}`), status: NF, code: "route_not_found"},
	}
	return reqs, nil
}

// send sends one hostile request and checks the answer; it returns what it got.
func send(ctx context.Context, hc *http.Client, base string, r hostileRequest) (string, error) {
	var body io.Reader
	if r.body != nil {
		if r.stream {
			body = io.MultiReader(bytes.NewReader(r.body)) // hides the length: sent chunked
		} else {
			body = bytes.NewReader(r.body)
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, body)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	switch {
	case r.contentType == "none":
	case r.contentType != "":
		req.Header.Set("Content-Type", r.contentType)
	case r.body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("send: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read answer: %w", err)
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	}
	got := fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(data)))
	if len(got) > 300 {
		got = got[:300] + "…"
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" {
		return got, fmt.Errorf("answer is %q, not JSON", resp.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return got, fmt.Errorf("answer is not the JSON error: %w", err)
	}
	got = fmt.Sprintf("%d %s field=%q", resp.StatusCode, e.Code, e.Field)
	var problems []string
	if resp.StatusCode < 400 || resp.StatusCode > 499 {
		problems = append(problems, "not a 4xx")
	}
	if resp.StatusCode != r.status {
		problems = append(problems, fmt.Sprintf("status %d, want %d", resp.StatusCode, r.status))
	}
	if e.Code != r.code {
		problems = append(problems, fmt.Sprintf("code %q, want %q", e.Code, r.code))
	}
	if e.Field != r.field {
		problems = append(problems, fmt.Sprintf("field %q, want %q", e.Field, r.field))
	}
	if e.Message == "" {
		problems = append(problems, "no message")
	}
	if len(problems) > 0 {
		return got, fmt.Errorf("%s (message: %s)", strings.Join(problems, "; "), e.Message)
	}
	return got, nil
}

// watchIDs are the workflow IDs a request about these keys could start.
func watchIDs(keys ...solana.PublicKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, workflows.ProposalWorkflowID(k.String()), workflows.MigrationWorkflowID(k.String()))
	}
	return out
}

func (d *drill) balanceKeys(h *hostileSetup) []solana.PublicKey {
	keys := []solana.PublicKey{h.outsider.PublicKey(), d.st.Guardian.PublicKey(), d.st.FeePayer.PublicKey()}
	for _, m := range d.flow.Members {
		keys = append(keys, m.PublicKey())
	}
	return keys
}

func (d *drill) badInput(ctx context.Context) ([]string, error) {
	h, err := d.setUpHostile(ctx, "bad-input")
	if err != nil {
		return []string{"set-up failed"}, err
	}
	reqs, err := d.hostileRequests(ctx, h)
	if err != nil {
		return []string{"set-up failed"}, err
	}
	ms, err := d.flow.Chain.GetMultisig(ctx, d.flow.Multisig)
	if err != nil {
		return nil, err
	}
	next, _ := governor.FindProposalAddress(d.flow.Multisig, ms.ProposalIndex+1)
	watch := watchIDs(h.proposal, next)
	keys := d.balanceKeys(h)
	before, err := d.settledSnapshot(ctx, watch, keys)
	if err != nil {
		return nil, err
	}
	lines := []string{
		fmt.Sprintf("set-up: proposal %s of program %s, 2 of 3 approvals through the API; operator, guardian and revoked tokens", h.proposal, h.program),
		"before: " + before.summary(),
	}

	hc := &http.Client{Timeout: 3 * time.Minute}
	type tally struct{ n, failed int }
	classes := map[string]*tally{}
	var order []string
	var failures []string
	statuses := map[int]int{}
	for _, r := range reqs {
		t := classes[r.class]
		if t == nil {
			t = &tally{}
			classes[r.class] = t
			order = append(order, r.class)
		}
		t.n++
		got, err := send(ctx, hc, d.st.APIURL, r)
		if code, _, ok := strings.Cut(got, " "); ok {
			var n int
			fmt.Sscanf(code, "%d", &n)
			statuses[n]++
		}
		if err != nil {
			t.failed++
			failures = append(failures, fmt.Sprintf("%s %s [%s]: got %s: %v", r.method, r.path, r.name, got, err))
			lines = append(lines, fmt.Sprintf("  FAIL %-6s %-52s %s: %v", r.class, r.name, got, err))
			continue
		}
		lines = append(lines, fmt.Sprintf("  ok   %-6s %-52s %s", r.class, r.name, got))
	}
	var classLine []string
	for _, c := range order {
		classLine = append(classLine, fmt.Sprintf("%s %d/%d", c, classes[c].n-classes[c].failed, classes[c].n))
	}
	var statusLine []string
	for _, s := range sortedInts(statuses) {
		statusLine = append(statusLine, fmt.Sprintf("%d×%d", statuses[s], s))
	}
	lines = append(lines, fmt.Sprintf("checked %d hostile requests, refused as expected: %s; statuses %s",
		len(reqs), strings.Join(classLine, ", "), strings.Join(statusLine, " ")))

	// Let anything a request set off show up (visibility, the indexer) before comparing.
	time.Sleep(3 * time.Second)
	after, err := d.snapshot(ctx, watch, keys)
	if err != nil {
		return lines, err
	}
	changes := before.diff(after)
	if len(changes) == 0 {
		lines = append(lines, "checked unchanged: "+after.summary())
	} else {
		lines = append(lines, "CHANGED: "+strings.Join(changes, "; "))
	}
	if len(reqs) < 40 {
		failures = append(failures, fmt.Sprintf("only %d hostile requests, want at least 40", len(reqs)))
	}
	if len(changes) > 0 {
		failures = append(failures, fmt.Sprintf("state changed: %s", strings.Join(changes, "; ")))
	}
	if len(failures) > 0 {
		return lines, fmt.Errorf("%d problem(s): %s", len(failures), strings.Join(failures, " | "))
	}
	return lines, nil
}

func sortedInts(m map[int]int) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// fuzzTargets are internal/api's fuzz targets the fuzz drill runs, one `go test -fuzz` each.
var fuzzTargets = []string{"FuzzBindJSON", "FuzzParseSignedTx", "FuzzLiveAPI"}

var execsPattern = regexp.MustCompile(`execs: (\d+)`)

// fuzz runs each fuzz target of internal/api for FAULTS_FUZZ_EXECS inputs, at most
// FAULTS_FUZZ_SECONDS each, FuzzLiveAPI against the stack, and checks the stack's state is
// unchanged afterwards. The bound is a count (-fuzztime=Nx) because Go 1.26's fuzz coordinator
// can fail a run that ends on a time bound with "context deadline exceeded" and no failing
// input (go.dev/issue/75804, fixed in Go 1.27); the wall-clock bound is the command's context.
func (d *drill) fuzz(ctx context.Context) ([]string, error) {
	execLimit := envInt("FAULTS_FUZZ_EXECS", 10000)
	seconds := envInt("FAULTS_FUZZ_SECONDS", 180)
	h, err := d.setUpHostile(ctx, "fuzz")
	if err != nil {
		return []string{"set-up failed"}, err
	}
	watch := watchIDs(h.proposal)
	keys := d.balanceKeys(h)
	before, err := d.settledSnapshot(ctx, watch, keys)
	if err != nil {
		return nil, err
	}
	lines := []string{
		fmt.Sprintf("set-up: proposal %s, 2 of 3 approvals; FuzzLiveAPI posts to %s", h.proposal, d.st.APIURL),
		"before: " + before.summary(),
	}
	var failures []string
	for _, target := range fuzzTargets {
		tctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second)
		cmd := exec.CommandContext(tctx, "go", "test", "-run=^$", "-fuzz=^"+target+"$",
			fmt.Sprintf("-fuzztime=%dx", execLimit), "-fuzzminimizetime=0", "-parallel=1", "./internal/api")
		cmd.Env = append(os.Environ(),
			"UG_FUZZ_API_URL="+d.st.APIURL, "UG_FUZZ_PROPOSAL="+h.proposal.String(), "UG_FUZZ_API_TOKEN="+h.operator)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if tctx.Err() != nil {
			err = fmt.Errorf("%d inputs not done in %d s (FAULTS_FUZZ_SECONDS): %w", execLimit, seconds, tctx.Err())
		}
		cancel()
		execs := "?"
		if m := execsPattern.FindAllSubmatch(out, -1); len(m) > 0 {
			execs = string(m[len(m)-1][1])
		}
		verdict := "PASS"
		if err != nil {
			verdict = "FAIL"
			tail := strings.TrimSpace(string(out))
			if len(tail) > 2000 {
				tail = "…" + tail[len(tail)-2000:]
			}
			failures = append(failures, fmt.Sprintf("%s: %v\n%s", target, err, tail))
		}
		lines = append(lines, fmt.Sprintf("  %s %-18s %s execs in %.0f s (go test -fuzz, -fuzztime=%dx, 1 worker)",
			verdict, target, execs, time.Since(start).Seconds(), execLimit))
	}
	time.Sleep(3 * time.Second)
	after, err := d.snapshot(ctx, watch, keys)
	if err != nil {
		return lines, err
	}
	if changes := before.diff(after); len(changes) > 0 {
		lines = append(lines, "CHANGED: "+strings.Join(changes, "; "))
		failures = append(failures, "state changed: "+strings.Join(changes, "; "))
	} else {
		lines = append(lines, "checked unchanged: "+after.summary())
	}
	if len(failures) > 0 {
		return lines, fmt.Errorf("%s", strings.Join(failures, " | "))
	}
	return lines, nil
}
