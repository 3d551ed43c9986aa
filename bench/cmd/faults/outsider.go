package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
)

func init() {
	cases = append(cases, kase{name: "outsider-multisig", whole: func(ctx context.Context, d *drill) ([]string, error) {
		return d.outsiderMultisig(ctx)
	}})
}

// outsiderRounds is how many copies of each request the outsider fires at once.
const outsiderRounds = 10

// outsiderMultisig: someone the operator never listed creates a 1-of-1 multisig with a
// one-hour timelock, hands it a program and a buffer, and tries to make this deployment drive
// it (and pay its rent and fees): proposals posted many times at once, the proposal landed
// straight through RPC, approved, its timelock crossed, and execution asked for. Every request
// must be refused with 403 multisig_not_served, and the worker's keys, the index, the audit trail
// and Temporal must be unchanged.
func (d *drill) outsiderMultisig(ctx context.Context) ([]string, error) {
	f := d.flow
	c := f.Chain
	attacker, err := f.NewFunded(ctx, 100*solana.LAMPORTS_PER_SOL)
	if err != nil {
		return []string{"set-up failed"}, err
	}
	createKey, err := chain.NewKeypair()
	if err != nil {
		return nil, err
	}
	initIx := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), attacker.PublicKey(), governor.InitializeMultisigArgs{
		Members: []solana.PublicKey{attacker.PublicKey()}, Threshold: 1, TimelockSeconds: governor.MinTimelockSeconds,
		ProposalLifetimeSeconds: 3600, Guardian: attacker.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	if _, err := c.Send(ctx, []solana.Instruction{initIx}, attacker, createKey); err != nil {
		return []string{"set-up failed"}, fmt.Errorf("outsider's multisig: %w", err)
	}
	own := initIx.Multisig
	program, err := chain.NewKeypair()
	if err != nil {
		return nil, err
	}
	if err := c.DeployProgram(ctx, attacker, attacker, program, f.V1, len(f.V1)); err != nil {
		return []string{"set-up failed"}, fmt.Errorf("outsider's program: %w", err)
	}
	buffer, err := chain.NewKeypair()
	if err != nil {
		return nil, err
	}
	if err := c.WriteBuffer(ctx, attacker, attacker, buffer, f.V2); err != nil {
		return []string{"set-up failed"}, fmt.Errorf("outsider's buffer: %w", err)
	}
	if _, err := c.Send(ctx, []solana.Instruction{
		loader.NewSetProgramAuthorityInstruction(program.PublicKey(), attacker.PublicKey(), initIx.Authority),
		loader.NewSetBufferAuthorityInstruction(buffer.PublicKey(), attacker.PublicKey(), initIx.Authority),
	}, attacker); err != nil {
		return []string{"set-up failed"}, fmt.Errorf("hand the outsider's program to its PDA: %w", err)
	}
	signed, err := member.Propose(ctx, c, own, attacker, program.PublicKey(), buffer.PublicKey(), loader.ELFHash(f.V2), "not served", nil)
	if err != nil {
		return nil, err
	}
	proposeB64, err := signed.Base64()
	if err != nil {
		return nil, err
	}

	watch := watchIDs(signed.Proposal)
	keys := []solana.PublicKey{d.st.FeePayer.PublicKey(), d.st.Guardian.PublicKey()}
	before, err := d.settledSnapshot(ctx, watch, keys)
	if err != nil {
		return nil, err
	}
	lines := []string{
		fmt.Sprintf("set-up: outsider's 1-of-1 multisig %s (timelock 1 h), program %s, buffer %s with its PDA", own, program.PublicKey(), buffer.PublicKey()),
		"before: " + before.summary(),
	}
	var failures []string
	fire := func(what string, r hostileRequest) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{}
		hc := &http.Client{Timeout: 2 * time.Minute}
		for range outsiderRounds {
			wg.Go(func() {
				answer, err := send(ctx, hc, d.st.APIURL, r)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failures = append(failures, fmt.Sprintf("%s: %s: %v", what, answer, err))
				}
				got[answer]++
			})
		}
		wg.Wait()
		for answer, n := range got {
			lines = append(lines, fmt.Sprintf("  %s ×%d at once: %s", what, n, answer))
		}
	}
	notServed := func(method, path string, body []byte) hostileRequest {
		return hostileRequest{method: method, path: path, body: body, status: http.StatusForbidden, code: "multisig_not_served", field: "transaction"}
	}
	fire("POST /proposals", notServed("POST", "/proposals", jsonBody(map[string]any{"transaction": proposeB64})))

	// The outsider lands it through RPC, approves, crosses the timelock, and asks us to execute.
	if _, err := c.SendSigned(ctx, signed.Tx); err != nil {
		return lines, fmt.Errorf("outsider's propose through RPC: %w", err)
	}
	approve, err := member.Approve(ctx, c, own, signed.Proposal, attacker)
	if err != nil {
		return lines, err
	}
	if _, err := c.SendSigned(ctx, approve.Tx); err != nil {
		return lines, fmt.Errorf("outsider's approve through RPC: %w", err)
	}
	p, err := c.GetProposal(ctx, signed.Proposal)
	if err != nil {
		return lines, err
	}
	if err := c.TimeTravel(ctx, p.Eta+1); err != nil {
		return lines, err
	}
	execute, err := member.Execute(ctx, c, signed.Proposal, attacker)
	if err != nil {
		return lines, err
	}
	executeB64, err := execute.Base64()
	if err != nil {
		return lines, err
	}
	fire("POST /proposals/:id/execute", notServed("POST", "/proposals/"+signed.Proposal.String()+"/execute",
		jsonBody(map[string]any{"transaction": executeB64})))
	fire("POST /tx/approve", hostileRequest{method: "POST", path: "/tx/approve", status: http.StatusForbidden, code: "multisig_not_served", field: "proposal",
		body: jsonBody(map[string]any{"proposal": signed.Proposal.String(), "member": attacker.PublicKey().String()})})

	// Let the indexer see the outsider's transactions before comparing.
	time.Sleep(5 * time.Second)
	after, err := d.snapshot(ctx, watch, keys)
	if err != nil {
		return lines, err
	}
	// The chain changed (the outsider's own accounts and transactions); ours must not have.
	var changes []string
	for _, ch := range before.diff(after) {
		if !strings.HasPrefix(ch, "governor accounts") && !strings.HasPrefix(ch, "governor signatures") {
			changes = append(changes, ch)
		}
	}
	if len(changes) > 0 {
		failures = append(failures, "changed: "+strings.Join(changes, "; "))
		lines = append(lines, "CHANGED: "+strings.Join(changes, "; "))
	} else {
		lines = append(lines, "checked unchanged: every table of the index and audit trail, every workflow, the fee payer's and the guardian's balances")
	}
	if pd, err := c.GetProgramData(ctx, program.PublicKey()); err == nil && pd.Hash() == loader.ELFHash(f.V2) {
		failures = append(failures, "the outsider's program was upgraded")
	}
	if len(failures) > 0 {
		return lines, fmt.Errorf("%d problem(s): %s", len(failures), strings.Join(failures, " | "))
	}
	return lines, nil
}
