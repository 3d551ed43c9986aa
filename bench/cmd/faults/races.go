package main

// Race drills: requests that race each other, fired truly at once against the real API (the
// goroutines wait on one channel that is closed once all of them are ready), then checked
// against the chain, the index and audit trail in PostgreSQL, and Temporal.
//
//	race-double-approval       the same signed approve posted twice at once, and two distinct
//	                           approve transactions of one member posted at once
//	race-approve-cancel        the threshold approval and a cancel at once (a member's signed
//	                           cancel, or the guardian's emergency stop)
//	race-two-replicas-propose  the same signed propose posted at once to two API server
//	                           processes on the same PostgreSQL, Temporal and chain
//
// FAULTS_RACE_ROUNDS (3) says how many times each drill races (race-approve-cancel races that
// many times with each kind of cancel).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/govflow"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

func init() {
	cases = append(cases,
		kase{name: "race-double-approval", whole: raceDoubleApproval},
		kase{name: "race-approve-cancel", whole: raceApproveCancel},
		kase{name: "race-two-replicas-propose", whole: raceTwoReplicasPropose},
	)
}

// Audit actions the indexer writes for the program's events ("chain." + the event in snake case).
const (
	actionChainProposed  = "chain.upgrade_proposed"
	actionChainApproved  = "chain.upgrade_approved"
	actionChainCancelled = "chain.upgrade_cancelled"
)

// reply is one racing request's answer.
type reply struct {
	status int
	body   []byte
	err    error // the request did not get an answer
}

// apiError is the API's JSON error answer.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (r reply) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// clientError returns the JSON error of a 4xx answer, or why the answer is not a clear one.
func (r reply) clientError() (apiError, error) {
	var e apiError
	if r.err != nil {
		return e, fmt.Errorf("no answer: %w", r.err)
	}
	if r.status < 400 || r.status > 499 {
		return e, fmt.Errorf("status %d, want a 4xx error: %s", r.status, clip(r.body))
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == "" || e.Message == "" {
		return e, fmt.Errorf("status %d without a JSON error naming its code and message: %s", r.status, clip(r.body))
	}
	return e, nil
}

func (r reply) String() string {
	if r.err != nil {
		return "no answer (" + r.err.Error() + ")"
	}
	if e, err := r.clientError(); err == nil {
		field := ""
		if e.Field != "" {
			field = " (" + e.Field + ")"
		}
		return fmt.Sprintf("%d %s%s", r.status, e.Code, field)
	}
	return fmt.Sprintf("%d", r.status)
}

func (r reply) decode(out any) error {
	if err := json.Unmarshal(r.body, out); err != nil {
		return fmt.Errorf("decode answer %d %s: %w", r.status, clip(r.body), err)
	}
	return nil
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// request is one request of a race, its body encoded before the race starts.
type request struct {
	base, path, token string
	body              []byte
}

func newRequest(base, path string, body any) (request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return request{}, fmt.Errorf("encode body of %s: %w", path, err)
	}
	return request{base: base, path: path, body: b}, nil
}

var raceHTTP = &http.Client{Timeout: 3 * time.Minute}

func (q request) send(ctx context.Context) reply {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.base+q.path, bytes.NewReader(q.body))
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if q.token != "" {
		req.Header.Set("Authorization", "Bearer "+q.token)
	}
	resp, err := raceHTTP.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: body, err: err}
}

// race sends the requests at once: every goroutine waits on one channel, closed when all of
// them are ready.
func race(ctx context.Context, reqs ...request) []reply {
	out := make([]reply, len(reqs))
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(len(reqs))
	done.Add(len(reqs))
	for i, q := range reqs {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = q.send(ctx)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

// findings collects what a drill checked and what it found wrong.
type findings struct {
	lines    []string
	problems []string
}

func (f *findings) checked(format string, args ...any) {
	f.lines = append(f.lines, fmt.Sprintf(format, args...))
}

func (f *findings) problem(format string, args ...any) {
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
}

// expect records a violated property when ok is false.
func (f *findings) expect(ok bool, format string, args ...any) {
	if !ok {
		f.problem(format, args...)
	}
}

func (f *findings) result() ([]string, error) {
	if len(f.problems) > 0 {
		return f.lines, fmt.Errorf("%s", strings.Join(f.problems, "; "))
	}
	return f.lines, nil
}

func raceRounds() int { return envInt("FAULTS_RACE_ROUNDS", 3) }

// raceProposal proposes v2 of program (no migration) through the API and waits until it is
// active on chain and in its workflow.
func (d *drill) raceProposal(ctx context.Context, program solana.PublicKey, what string) (solana.PublicKey, error) {
	p, err := d.flow.Propose(ctx, govflow.Upgrade{Program: program, ELF: d.flow.V2, Description: what})
	if err != nil {
		return p, fmt.Errorf("propose for %s: %w", what, err)
	}
	if err := d.waitStep(ctx, p, workflows.StepApprovals); err != nil {
		return p, err
	}
	return p, nil
}

// waitStep polls the proposal workflow's status query until it is at step.
func (d *drill) waitStep(ctx context.Context, proposal solana.PublicKey, step string) error {
	id := workflows.ProposalWorkflowID(proposal.String())
	deadline := time.Now().Add(time.Minute)
	var last workflows.ProposalState
	var err error
	for {
		if last, err = d.workflowState(ctx, id); err == nil && last.Step == step {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("workflow %s at step %q after a minute, want %q (%v)", id, last.Step, step, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *drill) workflowState(ctx context.Context, id string) (workflows.ProposalState, error) {
	var st workflows.ProposalState
	v, err := d.temporal.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
	if err != nil {
		return st, fmt.Errorf("query %s: %w", id, err)
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("decode status of %s: %w", id, err)
	}
	return st, nil
}

// signedB64 signs ixs by m and returns the transaction's wire form and signature.
func (d *drill) signedB64(ctx context.Context, m *chain.Keypair, ixs ...solana.Instruction) (string, solana.Signature, error) {
	tx, err := member.Sign(ctx, d.flow.Chain, ixs, m)
	if err != nil {
		return "", solana.Signature{}, err
	}
	b64, err := tx.ToBase64()
	if err != nil {
		return "", solana.Signature{}, fmt.Errorf("encode transaction: %w", err)
	}
	return b64, tx.Signatures[0], nil
}

// approveTx is m's approve of proposal; a non-zero price adds a compute unit price (a
// wallet's priority fee), which makes a distinct transaction with the same effect.
func (d *drill) approveTx(ctx context.Context, proposal solana.PublicKey, m *chain.Keypair, price uint64) (string, solana.Signature, error) {
	ixs := []solana.Instruction{governor.NewApproveUpgradeInstruction(d.flow.Multisig, proposal, m.PublicKey())}
	if price > 0 {
		ixs = append([]solana.Instruction{computebudget.NewSetComputeUnitPriceInstruction(price).Build()}, ixs...)
	}
	b64, sig, err := d.signedB64(ctx, m, ixs...)
	if err != nil {
		return "", sig, fmt.Errorf("sign approve of %s: %w", m.PublicKey(), err)
	}
	return b64, sig, nil
}

// audits returns the proposal's audit rows with action.
func (d *drill) audits(ctx context.Context, proposal solana.PublicKey, action string) ([]store.AuditEntry, error) {
	page, err := d.store.ListAudit(ctx, store.AuditFilter{Proposal: proposal.String(), Action: action, Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("audit %s of %s: %w", action, proposal, err)
	}
	return page.Entries, nil
}

// waitAudits waits until the proposal has at least n audit rows with action (the indexer
// writes its rows a poll after the transaction) and returns them.
func (d *drill) waitAudits(ctx context.Context, proposal solana.PublicKey, action string, n int) ([]store.AuditEntry, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		rows, err := d.audits(ctx, proposal, action)
		if err != nil || len(rows) >= n || time.Now().After(deadline) {
			return rows, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func byActor(rows []store.AuditEntry) map[string][]string {
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Actor] = append(out[r.Actor], r.Signature)
	}
	return out
}

func countKey(keys []solana.PublicKey, k solana.PublicKey) int {
	n := 0
	for _, x := range keys {
		if x.Equals(k) {
			n++
		}
	}
	return n
}

// signatureLanded reports whether the chain executed the transaction without error.
func (d *drill) signatureLanded(ctx context.Context, sig solana.Signature) (bool, error) {
	res, err := d.flow.Chain.RPC().GetSignatureStatuses(ctx, true, sig)
	if err != nil {
		return false, fmt.Errorf("status of %s: %w", sig, err)
	}
	if res == nil || len(res.Value) == 0 || res.Value[0] == nil {
		return false, nil
	}
	return res.Value[0].Err == nil, nil
}

// raceDoubleApproval: per round a new proposal; member 1's one signed approve posted twice at
// once, then two distinct approve transactions of member 2 posted at once.
func raceDoubleApproval(ctx context.Context, d *drill) ([]string, error) {
	f := &findings{}
	program, err := d.flow.Deploy(ctx)
	if err != nil {
		return []string{"race: none (set-up failed)"}, err
	}
	m1, m2 := d.flow.Members[0], d.flow.Members[1]
	rounds := raceRounds()
	sameOutcomes, distinctOutcomes := map[string]int{}, map[string]int{}
	for round := 1; round <= rounds; round++ {
		proposal, err := d.raceProposal(ctx, program, fmt.Sprintf("race-double-approval round %d", round))
		if err != nil {
			return f.lines, err
		}
		path := "/proposals/" + proposal.String() + "/approve"
		tag := fmt.Sprintf("round %d", round)

		// The same signed transaction twice.
		b64, sig1, err := d.approveTx(ctx, proposal, m1, 0)
		if err != nil {
			return f.lines, err
		}
		q, err := newRequest(d.st.APIURL, path, map[string]string{"transaction": b64})
		if err != nil {
			return f.lines, err
		}
		same := race(ctx, q, q)
		sameOutcomes[same[0].String()+" + "+same[1].String()]++
		d.checkSameApproval(f, tag, same, sig1)

		// Two distinct transactions of the same member.
		var reqs []request
		sigs := map[string]bool{}
		for i := range 2 {
			b64, sig, err := d.approveTx(ctx, proposal, m2, uint64(i+1))
			if err != nil {
				return f.lines, err
			}
			sigs[sig.String()] = true
			q, err := newRequest(d.st.APIURL, path, map[string]string{"transaction": b64})
			if err != nil {
				return f.lines, err
			}
			reqs = append(reqs, q)
		}
		if len(sigs) != 2 {
			return f.lines, errors.New("the two approve transactions of member 2 have the same signature")
		}
		distinct := race(ctx, reqs...)
		distinctOutcomes[distinct[0].String()+" + "+distinct[1].String()]++
		sig2 := d.checkDistinctApprovals(f, tag, distinct)

		d.checkApprovalsEverywhere(ctx, f, tag, proposal, map[solana.PublicKey]string{
			m1.PublicKey(): sig1.String(), m2.PublicKey(): sig2,
		})
	}
	f.lines = append([]string{
		fmt.Sprintf("race: %d round(s), each on a new proposal: member 1's one signed approve posted twice at once (%s); "+
			"two distinct approve transactions of member 2 (compute unit price 1 and 2) posted at once (%s)",
			rounds, outcomes(sameOutcomes), outcomes(distinctOutcomes)),
	}, f.lines...)
	return f.result()
}

func outcomes(m map[string]int) string {
	var parts []string
	for k, n := range m {
		parts = append(parts, fmt.Sprintf("%dx %s", n, k))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// checkSameApproval: the one transaction posted twice is accepted once. The other copy either
// joined the same approval (the signature names the workflow update, so it answers the same
// result) or is refused as a replay with a clear 409.
func (d *drill) checkSameApproval(f *findings, tag string, rs []reply, sig solana.Signature) {
	var oks []ApproveAnswer
	for _, r := range rs {
		if r.ok() {
			var a ApproveAnswer
			if err := r.decode(&a); err != nil {
				f.problem("%s same approve: %v", tag, err)
				continue
			}
			oks = append(oks, a)
			continue
		}
		e, err := r.clientError()
		if err != nil {
			f.problem("%s same approve posted twice: a copy got no clear error: %v", tag, err)
			continue
		}
		f.expect(r.status == http.StatusConflict && e.Code == "replayed_transaction",
			"%s same approve posted twice: the refused copy answered %s, want 409 replayed_transaction", tag, r)
	}
	f.expect(len(oks) >= 1, "%s same approve posted twice: no copy was accepted (%s, %s)", tag, rs[0], rs[1])
	for _, a := range oks {
		f.expect(a.Signature == sig.String() && a.Approvals == 1,
			"%s same approve: an accepted copy answered signature %s with %d approval(s), want %s with 1", tag, a.Signature, a.Approvals, sig)
	}
}

// ApproveAnswer is the part of POST /proposals/:id/approve's answer the drills read.
type ApproveAnswer struct {
	Member    string `json:"member"`
	Signature string `json:"signature"`
	Approvals int    `json:"approvals"`
	Status    string `json:"status"`
}

// checkDistinctApprovals: of two distinct approve transactions of one member exactly one is
// accepted, the other refused with a clear 409; it returns the accepted one's signature.
func (d *drill) checkDistinctApprovals(f *findings, tag string, rs []reply) string {
	winner := ""
	accepted := 0
	for _, r := range rs {
		if r.ok() {
			accepted++
			var a ApproveAnswer
			if err := r.decode(&a); err != nil {
				f.problem("%s distinct approves: %v", tag, err)
				continue
			}
			f.expect(a.Approvals == 2, "%s distinct approves: the accepted one answered %d approvals, want 2", tag, a.Approvals)
			winner = a.Signature
			continue
		}
		e, err := r.clientError()
		if err != nil {
			f.problem("%s distinct approves of one member: the loser got no clear error: %v", tag, err)
			continue
		}
		f.expect(r.status == http.StatusConflict && e.Code == "update_rejected",
			"%s distinct approves of one member: the loser answered %d %s (%s), want 409 update_rejected", tag, r.status, e.Code, e.Message)
	}
	f.expect(accepted == 1, "%s two distinct approves of one member: %d accepted (%s, %s), want exactly 1", tag, accepted, rs[0], rs[1])
	return winner
}

// checkApprovalsEverywhere waits for the indexer and checks that the chain, approval_history,
// the audit trail, the index row and the workflow each hold exactly the approvals in want
// (member -> the signature that approved).
func (d *drill) checkApprovalsEverywhere(ctx context.Context, f *findings, tag string, proposal solana.PublicKey, want map[solana.PublicKey]string) {
	chained, err := d.waitAudits(ctx, proposal, actionChainApproved, len(want))
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	// One more indexer poll, so a late extra row would show.
	time.Sleep(1500 * time.Millisecond)
	p, err := d.flow.Chain.GetProposal(ctx, proposal)
	if err != nil {
		f.problem("%s: read proposal: %v", tag, err)
		return
	}
	hist, err := d.store.ListApprovals(ctx, proposal.String())
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	recorded, err := d.audits(ctx, proposal, store.ActionApprovalRecorded)
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	if chained, err = d.audits(ctx, proposal, actionChainApproved); err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	row, err := d.store.GetProposal(ctx, proposal.String())
	if err != nil {
		f.problem("%s: index row: %v", tag, err)
		return
	}
	st, err := d.workflowState(ctx, workflows.ProposalWorkflowID(proposal.String()))
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	histBy := map[string][]string{}
	for _, h := range hist {
		histBy[h.Member] = append(histBy[h.Member], h.Signature)
	}
	recBy, chainBy := byActor(recorded), byActor(chained)
	f.expect(len(p.Approvals) == len(want), "%s chain: %d approvals, want %d", tag, len(p.Approvals), len(want))
	f.expect(len(hist) == len(want), "%s approval_history: %d rows, want %d", tag, len(hist), len(want))
	f.expect(len(recorded) == len(want), "%s audit: %d approval.recorded rows, want %d", tag, len(recorded), len(want))
	f.expect(len(chained) == len(want), "%s audit: %d %s rows, want %d", tag, len(chained), actionChainApproved, len(want))
	f.expect(row.Approvals == len(want), "%s upgrade_proposals: approvals %d, want %d", tag, row.Approvals, len(want))
	f.expect(len(st.Approvals) == len(want), "%s workflow: %d approvals %v, want %d", tag, len(st.Approvals), st.Approvals, len(want))
	for m, sig := range want {
		k := m.String()
		f.expect(countKey(p.Approvals, m) == 1, "%s chain: member %s approves %d times, want once", tag, k, countKey(p.Approvals, m))
		f.expect(slices.Equal(histBy[k], []string{sig}), "%s approval_history of %s: %v, want [%s]", tag, k, histBy[k], sig)
		f.expect(slices.Equal(recBy[k], []string{sig}), "%s audit approval.recorded of %s: %v, want [%s]", tag, k, recBy[k], sig)
		f.expect(slices.Equal(chainBy[k], []string{sig}), "%s audit %s of %s: %v, want [%s]", tag, actionChainApproved, k, chainBy[k], sig)
		f.expect(slices.Contains(st.Approvals, k), "%s workflow: approvals %v miss %s", tag, st.Approvals, k)
	}
	f.checked("%s checked: chain %d approval(s) (each member once), approval_history %d row(s), audit %d approval.recorded + %d %s, "+
		"index approvals %d (%s), workflow approvals %d at %s",
		tag, len(p.Approvals), len(hist), len(recorded), len(chained), actionChainApproved, row.Approvals, row.Status, len(st.Approvals), st.Step)
}

// raceApproveCancel: per round a new proposal with two approvals; the third (threshold)
// approval and a cancel race. Odd rounds cancel with the threshold's member vote (members 4
// and 5 voted before; member 1's signed vote races), even rounds with the guardian's emergency
// stop (a guardian bearer token).
func raceApproveCancel(ctx context.Context, d *drill) ([]string, error) {
	f := &findings{}
	program, err := d.flow.Deploy(ctx)
	if err != nil {
		return []string{"race: none (set-up failed)"}, err
	}
	token, _, err := d.store.CreateToken(ctx, fmt.Sprintf("race-guardian-%d", time.Now().UnixNano()), store.RoleGuardian,
		store.Origin{Actor: "faults", Source: store.SourceCLI})
	if err != nil {
		return f.lines, fmt.Errorf("create guardian token: %w", err)
	}
	rounds := 2 * raceRounds()
	approveOutcomes := map[string]int{}
	for round := 1; round <= rounds; round++ {
		emergency := round%2 == 0
		mode := "member cancel"
		if emergency {
			mode = "emergency stop"
		}
		tag := fmt.Sprintf("round %d (%s)", round, mode)
		proposal, err := d.raceProposal(ctx, program, fmt.Sprintf("race-approve-cancel round %d", round))
		if err != nil {
			return f.lines, err
		}
		for i := range govflow.Threshold - 1 {
			b64, _, err := d.approveTx(ctx, proposal, d.flow.Members[i], 0)
			if err != nil {
				return f.lines, err
			}
			if err := d.flow.Post(ctx, "/proposals/"+proposal.String()+"/approve", map[string]string{"transaction": b64}, nil); err != nil {
				return f.lines, fmt.Errorf("%s: approve by member %d: %w", tag, i+1, err)
			}
		}
		approver := d.flow.Members[govflow.Threshold-1]
		b64, _, err := d.approveTx(ctx, proposal, approver, 0)
		if err != nil {
			return f.lines, err
		}
		approve, err := newRequest(d.st.APIURL, "/proposals/"+proposal.String()+"/approve", map[string]string{"transaction": b64})
		if err != nil {
			return f.lines, err
		}
		cancelBody := map[string]string{"reason": "race drill " + tag}
		if !emergency {
			// A member's cancel is a vote: members 4 and 5 vote first, and member 1's vote (the
			// threshold's) races the threshold approval.
			for _, m := range []*chain.Keypair{d.flow.Members[3], d.flow.Members[4]} {
				vb64, _, err := d.signedB64(ctx, m, governor.NewCancelUpgradeInstruction(d.flow.Multisig, proposal, m.PublicKey()))
				if err != nil {
					return f.lines, fmt.Errorf("sign cancel vote: %w", err)
				}
				if err := d.flow.Post(ctx, "/proposals/"+proposal.String()+"/cancel", map[string]string{"transaction": vb64}, nil); err != nil {
					return f.lines, fmt.Errorf("%s: cancel vote of %s: %w", tag, m.PublicKey(), err)
				}
			}
			cb64, _, err := d.signedB64(ctx, d.flow.Members[0],
				governor.NewCancelUpgradeInstruction(d.flow.Multisig, proposal, d.flow.Members[0].PublicKey()))
			if err != nil {
				return f.lines, fmt.Errorf("sign cancel: %w", err)
			}
			cancelBody["transaction"] = cb64
		}
		cancel, err := newRequest(d.st.APIURL, "/proposals/"+proposal.String()+"/cancel", cancelBody)
		if err != nil {
			return f.lines, err
		}
		if emergency {
			cancel.token = token
		}
		rs := race(ctx, approve, cancel)
		approveOutcomes[mode+": approve "+rs[0].String()+", cancel "+rs[1].String()]++
		d.checkApproveCancel(ctx, f, tag, proposal, approver.PublicKey(), emergency, rs[0], rs[1])
	}
	f.lines = append([]string{
		fmt.Sprintf("race: %d round(s), each on a new proposal with 2 of 3 approvals: the threshold approval by member 3 "+
			"and a cancel posted at once (%s)", rounds, outcomes(approveOutcomes)),
	}, f.lines...)
	return f.result()
}

func (d *drill) checkApproveCancel(ctx context.Context, f *findings, tag string, proposal, approver solana.PublicKey,
	emergency bool, approve, cancel reply) {
	wantCancel := http.StatusOK
	if emergency {
		wantCancel = http.StatusAccepted
	}
	f.expect(cancel.err == nil && cancel.status == wantCancel, "%s: cancel answered %s %s, want %d", tag, cancel, clip(cancel.body), wantCancel)
	approveErr := ""
	if !approve.ok() {
		e, err := approve.clientError()
		if err != nil {
			f.problem("%s: the refused approve got no clear error: %v", tag, err)
		} else {
			approveErr = fmt.Sprintf("%d %s: %s", approve.status, e.Code, e.Message)
		}
	}

	// The workflow ends on its own once it sees the cancel (or, on the emergency stop, after
	// its compensation cancelled on chain).
	wid := workflows.ProposalWorkflowID(proposal.String())
	var status enums.WorkflowExecutionStatus
	deadline := time.Now().Add(2 * time.Minute)
	for {
		desc, err := d.temporal.DescribeWorkflowExecution(ctx, wid, "")
		if err == nil {
			status = desc.GetWorkflowExecutionInfo().GetStatus()
			if status != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
				break
			}
		}
		if time.Now().After(deadline) {
			f.problem("%s: workflow %s still %s 2 minutes after the cancel (%v)", tag, wid, status, err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	var row store.Proposal
	deadline = time.Now().Add(time.Minute)
	for {
		var err error
		row, err = d.store.GetProposal(ctx, proposal.String())
		if err == nil && row.Status == store.ProposalCancelled {
			break
		}
		if time.Now().After(deadline) {
			f.problem("%s: index says %q a minute after the cancel (%v), want cancelled", tag, row.Status, err)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The indexer applies the program's transactions oldest first: once it has the cancel, it
	// has every approval that landed before it. One more poll, so a late row would show.
	if _, err := d.waitAudits(ctx, proposal, actionChainCancelled, 1); err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	time.Sleep(1500 * time.Millisecond)
	p, err := d.flow.Chain.GetProposal(ctx, proposal)
	if err != nil {
		f.problem("%s: read proposal: %v", tag, err)
		return
	}
	hist, err := d.store.ListApprovals(ctx, proposal.String())
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	recorded, err := d.audits(ctx, proposal, store.ActionApprovalRecorded)
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	approvedRows, err := d.audits(ctx, proposal, "proposal."+string(store.ProposalApproved))
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	executedRows, err := d.audits(ctx, proposal, "proposal."+string(store.ProposalExecuted))
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	rollbacks, err := d.store.ListRollbacks(ctx, proposal.String())
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}

	landed := countKey(p.Approvals, approver) == 1
	f.expect(p.Status == governor.ProposalCancelled, "%s chain: proposal %s, want cancelled", tag, p.Status)
	f.expect(p.ExecutedAt == 0, "%s chain: executed at %d", tag, p.ExecutedAt)
	f.expect(landed == approve.ok(), "%s: the approve answered %s but the chain %s member 3's approval",
		tag, approve, map[bool]string{true: "has", false: "does not have"}[landed])
	if landed {
		f.expect(p.ApprovedAt != 0 && p.ApprovedAt <= p.CancelledAt, "%s chain: approved at %d, cancelled at %d: the approval must come first",
			tag, p.ApprovedAt, p.CancelledAt)
	}
	f.expect(row.Status == store.ProposalCancelled && row.ClosedAt != nil, "%s upgrade_proposals: %s (closed_at set: %t), want cancelled",
		tag, row.Status, row.ClosedAt != nil)
	f.expect(row.ExecuteSignature == "" && row.ExecutedAt == nil, "%s upgrade_proposals: execute signature %q", tag, row.ExecuteSignature)
	f.expect(row.Approvals == len(p.Approvals), "%s upgrade_proposals: approvals %d, chain %d", tag, row.Approvals, len(p.Approvals))
	f.expect(len(hist) == len(p.Approvals), "%s approval_history: %d rows, chain %d approvals", tag, len(hist), len(p.Approvals))
	f.expect(len(recorded) == len(p.Approvals), "%s audit: %d approval.recorded rows, chain %d approvals", tag, len(recorded), len(p.Approvals))
	histHas := slices.ContainsFunc(hist, func(a store.Approval) bool { return a.Member == approver.String() })
	f.expect(histHas == landed, "%s approval_history: member 3's row present %t, on chain %t", tag, histHas, landed)
	// The index only moves forward: when the cancel is indexed before the threshold approval,
	// the approved status is never recorded (the chain's event row still is). An approved
	// row the chain does not back, or two, would be wrong.
	f.expect(len(approvedRows) <= 1 && (len(approvedRows) == 0 || p.ApprovedAt != 0),
		"%s audit: %d proposal.approved rows, chain approved at %d", tag, len(approvedRows), p.ApprovedAt)
	if landed {
		chainRows, err := d.audits(ctx, proposal, actionChainApproved)
		if err != nil {
			f.problem("%s: %v", tag, err)
			return
		}
		f.expect(len(byActor(chainRows)[approver.String()]) == 1, "%s audit: member 3's approval has %d %s rows, want 1",
			tag, len(byActor(chainRows)[approver.String()]), actionChainApproved)
	}
	f.expect(len(executedRows) == 0, "%s audit: %d proposal.executed rows", tag, len(executedRows))

	wf := ""
	if emergency {
		f.expect(status == enums.WORKFLOW_EXECUTION_STATUS_CANCELED, "%s workflow: %s, want canceled (emergency stop)", tag, status)
		f.expect(len(rollbacks) == 1, "%s rollback_events: %d rows, want 1", tag, len(rollbacks))
		if len(rollbacks) == 1 {
			r := rollbacks[0]
			wf = fmt.Sprintf("rollback at stage %s, cancel signature set: %t", r.Stage, r.CancelSignature != "")
			f.expect(r.CancelSignature != "", "%s rollback_events: no cancel signature", tag)
		}
	} else {
		f.expect(status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, "%s workflow: %s, want completed", tag, status)
		var st workflows.ProposalState
		if err := d.temporal.GetWorkflow(ctx, wid, "").Get(ctx, &st); err != nil {
			f.problem("%s workflow result: %v", tag, err)
		} else {
			f.expect(st.Step == workflows.StepCancelled && st.ExecuteSignature == "",
				"%s workflow ended at step %q (execute signature %q), want %q", tag, st.Step, st.ExecuteSignature, workflows.StepCancelled)
			wf = "ended at step " + st.Step
		}
		f.expect(len(rollbacks) == 0, "%s rollback_events: %d rows for a member's cancel", tag, len(rollbacks))
	}
	approveWhat := "accepted, before the cancel"
	if approveErr != "" {
		approveWhat = "refused: " + approveErr
	}
	f.checked("%s checked: approve %s; chain %s with %d approval(s), never executed; index %s, approval_history %d, "+
		"audit %d approval.recorded, %d proposal.approved, 0 proposal.executed; workflow %s, %s",
		tag, approveWhat, p.Status, len(p.Approvals), row.Status, len(hist), len(recorded), len(approvedRows),
		strings.ToLower(strings.TrimPrefix(status.String(), "WORKFLOW_EXECUTION_STATUS_")), wf)
}

// CreateAnswer is the part of POST /proposals' answer the drills read.
type CreateAnswer struct {
	Proposal   string `json:"proposal"`
	Signature  string `json:"signature"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Created    bool   `json:"created"`
}

// raceTwoReplicasPropose: a second API server on the same PostgreSQL, Temporal and chain;
// per round the same signed propose posted to both at once, then once more to the replica
// (a late retry), then member 1's one signed approve posted to both at once.
func raceTwoReplicasPropose(ctx context.Context, d *drill) ([]string, error) {
	f := &findings{}
	program, err := d.flow.Deploy(ctx)
	if err != nil {
		return []string{"race: none (set-up failed)"}, err
	}
	const replica = "apiserver-2"
	replicaURL, err := d.st.StartAPIReplica(ctx, replica)
	if err != nil {
		return []string{"race: none (set-up failed)"}, err
	}
	defer func() {
		if err := d.st.StopAPIReplica(replica); err != nil {
			fmt.Printf("     stop %s: %v\n", replica, err)
		}
	}()
	rounds := raceRounds()
	proposeOutcomes, approveOutcomes := map[string]int{}, map[string]int{}
	for round := 1; round <= rounds; round++ {
		tag := fmt.Sprintf("round %d", round)
		description := "race-two-replicas-propose " + tag
		ms, err := d.flow.Chain.GetMultisig(ctx, d.flow.Multisig)
		if err != nil {
			return f.lines, err
		}
		signed, err := d.signPropose(ctx, program, description)
		if err != nil {
			return f.lines, err
		}
		b64, err := signed.Base64()
		if err != nil {
			return f.lines, fmt.Errorf("encode propose: %w", err)
		}
		body := map[string]string{"transaction": b64, "description": description}
		a, err := newRequest(d.st.APIURL, "/proposals", body)
		if err != nil {
			return f.lines, err
		}
		b := a
		b.base = replicaURL
		rs := race(ctx, a, b)
		proposeOutcomes[rs[0].String()+" + "+rs[1].String()]++
		if _, err := d.flow.WaitStatus(ctx, signed.Proposal, "active", 2*time.Minute); err != nil {
			f.problem("%s: %v", tag, err)
			continue
		}
		late := b.send(ctx)
		d.checkOnePropose(ctx, f, tag, signed, ms.ProposalIndex, rs, late)

		if err := d.waitStep(ctx, signed.Proposal, workflows.StepApprovals); err != nil {
			f.problem("%s: %v", tag, err)
			continue
		}
		ab64, sig, err := d.approveTx(ctx, signed.Proposal, d.flow.Members[0], 0)
		if err != nil {
			return f.lines, err
		}
		aa, err := newRequest(d.st.APIURL, "/proposals/"+signed.Proposal.String()+"/approve", map[string]string{"transaction": ab64})
		if err != nil {
			return f.lines, err
		}
		ab := aa
		ab.base = replicaURL
		ars := race(ctx, aa, ab)
		approveOutcomes[ars[0].String()+" + "+ars[1].String()]++
		d.checkSameApproval(f, tag+" (two replicas)", ars, sig)
		d.checkApprovalsEverywhere(ctx, f, tag+" (two replicas)", signed.Proposal, map[solana.PublicKey]string{
			d.flow.Members[0].PublicKey(): sig.String(),
		})
	}
	f.lines = append([]string{
		fmt.Sprintf("race: API replica %s at %s beside %s; %d round(s): one signed propose posted to both at once (%s), "+
			"then again to the replica; member 1's one signed approve posted to both at once (%s)",
			replica, replicaURL, d.st.APIURL, rounds, outcomes(proposeOutcomes), outcomes(approveOutcomes)),
	}, f.lines...)
	return f.result()
}

// signPropose writes v2 to a new buffer handed to the multisig's PDA and has member 1 sign
// the propose of the multisig's next proposal.
func (d *drill) signPropose(ctx context.Context, program solana.PublicKey, description string) (member.Signed, error) {
	fl := d.flow
	kp, err := chain.NewKeypair()
	if err != nil {
		return member.Signed{}, err
	}
	if err := fl.Chain.WriteBuffer(ctx, fl.Payer, fl.Payer, kp, fl.V2); err != nil {
		return member.Signed{}, fmt.Errorf("write buffer: %w", err)
	}
	if _, err := fl.Chain.Send(ctx, []solana.Instruction{
		loader.NewSetBufferAuthorityInstruction(kp.PublicKey(), fl.Payer.PublicKey(), fl.Authority),
	}, fl.Payer); err != nil {
		return member.Signed{}, fmt.Errorf("hand buffer to the PDA: %w", err)
	}
	return member.Propose(ctx, fl.Chain, fl.Multisig, fl.Members[0], program, kp.PublicKey(), loader.ELFHash(fl.V2), description, nil)
}

// checkOnePropose: the proposal exists once on chain, once in the index, with one workflow
// run and one audit row of each kind; of the two racing posts one created it and the other
// answered the same proposal and run without creating anything, as the late retry does.
func (d *drill) checkOnePropose(ctx context.Context, f *findings, tag string, signed member.Signed, indexBefore uint64, rs []reply, late reply) {
	proposal := signed.Proposal
	wid := workflows.ProposalWorkflowID(proposal.String())
	created := 0
	runs := map[string]bool{}
	for i, r := range append(slices.Clone(rs), late) {
		what := []string{"racing post to the API server", "racing post to the replica", "late post to the replica"}[i]
		if !r.ok() {
			if e, err := r.clientError(); err != nil {
				f.problem("%s %s: %v", tag, what, err)
			} else {
				f.problem("%s %s: refused %d %s: %s; want the proposal named (created, or already created)", tag, what, r.status, e.Code, e.Message)
			}
			continue
		}
		var a CreateAnswer
		if err := r.decode(&a); err != nil {
			f.problem("%s %s: %v", tag, what, err)
			continue
		}
		if a.Created {
			created++
			f.expect(r.status == http.StatusCreated, "%s %s: created with status %d, want 201", tag, what, r.status)
		} else {
			f.expect(r.status == http.StatusOK, "%s %s: not created, status %d, want 200", tag, what, r.status)
		}
		f.expect(a.Proposal == proposal.String() && a.WorkflowID == wid && a.Signature == signed.Tx.Signatures[0].String(),
			"%s %s: answered proposal %s workflow %s signature %s, want %s %s %s", tag, what, a.Proposal, a.WorkflowID, a.Signature,
			proposal, wid, signed.Tx.Signatures[0])
		runs[a.RunID] = true
	}
	f.expect(created == 1, "%s: %d posts created the proposal, want exactly 1", tag, created)
	f.expect(len(runs) == 1, "%s: the answers name %d workflow runs, want 1", tag, len(runs))

	ms, err := d.flow.Chain.GetMultisig(ctx, d.flow.Multisig)
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	f.expect(ms.ProposalIndex == indexBefore+1, "%s chain: proposal index %d -> %d, want one proposal", tag, indexBefore, ms.ProposalIndex)
	p, err := d.flow.Chain.GetProposal(ctx, proposal)
	if err != nil {
		f.problem("%s chain: %v", tag, err)
		return
	}
	f.expect(p.Index == indexBefore+1 && p.Proposer.Equals(d.flow.Members[0].PublicKey()),
		"%s chain: proposal index %d by %s", tag, p.Index, p.Proposer)
	next, _ := governor.FindProposalAddress(d.flow.Multisig, indexBefore+2)
	_, err = d.flow.Chain.GetProposal(ctx, next)
	f.expect(errors.Is(err, chain.ErrAccountNotFound), "%s chain: a second proposal %s exists (%v)", tag, next, err)

	desc, err := d.temporal.DescribeWorkflowExecution(ctx, wid, "")
	if err != nil {
		f.problem("%s: describe %s: %v", tag, wid, err)
		return
	}
	runID := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	f.expect(runs[runID] && len(runs) == 1, "%s workflow: run %s, the answers name %v", tag, runID, keys(runs))
	var listed int
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := d.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = '%s'", wid),
		})
		if err != nil {
			f.problem("%s: list workflows %s: %v", tag, wid, err)
			return
		}
		listed = len(resp.GetExecutions())
		if listed > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	f.expect(listed == 1, "%s Temporal: %d runs of %s, want 1", tag, listed, wid)

	// The worker indexes the proposal once it is on chain: wait for the row.
	var row store.Proposal
	deadline = time.Now().Add(30 * time.Second)
	for {
		row, err = d.store.GetProposal(ctx, proposal.String())
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		f.problem("%s: index row 30 s after the proposal was on chain: %v", tag, err)
		return
	}
	f.expect(row.WorkflowID == wid && row.ProposeSignature == signed.Tx.Signatures[0].String(),
		"%s upgrade_proposals: workflow %q propose signature %q", tag, row.WorkflowID, row.ProposeSignature)
	page, err := d.store.ListProposals(ctx, store.ProposalFilter{Multisig: d.flow.Multisig.String(), Limit: 500})
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	sameIndex := 0
	for _, q := range page.Proposals {
		if q.Index == p.Index {
			sameIndex++
		}
	}
	f.expect(sameIndex == 1, "%s upgrade_proposals: %d rows for proposal index %d, want 1", tag, sameIndex, p.Index)

	chained, err := d.waitAudits(ctx, proposal, actionChainProposed, 1)
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	submitted, err := d.audits(ctx, proposal, "proposal.submitted")
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	createdRows, err := d.audits(ctx, proposal, store.ActionProposalCreated)
	if err != nil {
		f.problem("%s: %v", tag, err)
		return
	}
	f.expect(len(submitted) == 1, "%s audit: %d proposal.submitted rows, want 1", tag, len(submitted))
	f.expect(len(createdRows) == 1, "%s audit: %d proposal.created rows, want 1", tag, len(createdRows))
	f.expect(len(chained) == 1, "%s audit: %d %s rows, want 1", tag, len(chained), actionChainProposed)
	f.checked("%s checked: %d of 3 posts created it, all name run %s; chain proposal index %d -> %d, one account; "+
		"Temporal %d run of %s; upgrade_proposals 1 row (%s); audit %d proposal.submitted, %d proposal.created, %d %s",
		tag, created, runID, indexBefore, ms.ProposalIndex, listed, wid, row.Status, len(submitted), len(createdRows), len(chained), actionChainProposed)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
