package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/govflow"
	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
)

func init() {
	cases = append(cases, kase{name: "single-key-obstruction", whole: func(ctx context.Context, d *drill) ([]string, error) {
		return d.singleKeyObstruction(ctx)
	}})
}

// singleKeyObstruction: one member tries to block governance for ever, through the API as
// members act: it votes to cancel the proposal and pauses the multisig, again and again.
// Governance must still progress: its cancel is one vote of three, its pause lapses after the
// multisig's max pause, it cannot pause again during its cool-down, and the upgrade executes.
func (d *drill) singleKeyObstruction(ctx context.Context) ([]string, error) {
	f := d.flow
	hostile := f.Members[4]
	program, err := f.Deploy(ctx)
	if err != nil {
		return []string{"set-up failed"}, err
	}
	proposal, err := f.Propose(ctx, govflow.Upgrade{Program: program, ELF: f.V2, Description: "single-key drill"})
	if err != nil {
		return []string{"set-up failed"}, err
	}
	lines := []string{fmt.Sprintf("set-up: proposal %s of program %s; member 5 (%s) obstructs", proposal, program, hostile.PublicKey())}
	var failures []string
	expect := func(ok bool, format string, args ...any) {
		if !ok {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}

	// Its cancel is one vote of the three needed.
	cancel, err := member.Cancel(ctx, f.Chain, f.Multisig, proposal, hostile)
	if err != nil {
		return lines, err
	}
	cancelB64, _ := cancel.Base64()
	var cr apiclient.CancelResponse
	if err := f.Post(ctx, "/proposals/"+proposal.String()+"/cancel", map[string]any{"transaction": cancelB64, "reason": "obstruction"}, &cr); err != nil {
		return lines, fmt.Errorf("hostile cancel vote: %w", err)
	}
	expect(cr.Status == "cancel_voted" && cr.Votes == 1, "a single member's cancel: %+v", cr)
	lines = append(lines, fmt.Sprintf("its cancel: %s, %d of %d votes", cr.Status, cr.Votes, cr.Threshold))

	// Its pause lapses unless the threshold holds it.
	pause := func() (apiclient.SystemResponse, error) {
		signed, err := member.Pause(ctx, f.Chain, f.Multisig, hostile)
		if err != nil {
			return apiclient.SystemResponse{}, err
		}
		b64, _ := signed.Base64()
		var sr apiclient.SystemResponse
		return sr, f.Post(ctx, "/system/pause", map[string]any{"transaction": b64}, &sr)
	}
	sr, err := pause()
	if err != nil {
		return lines, fmt.Errorf("hostile pause: %w", err)
	}
	expect(sr.Paused && sr.PauseExpiresAt != nil, "its pause must lapse: %+v", sr)
	lines = append(lines, fmt.Sprintf("its pause: paused until %v", sr.PauseExpiresAt))

	// The others approve; the chain's clock moves past the eta and the pause's end.
	eta, err := f.Approve(ctx, proposal)
	if err != nil {
		return lines, err
	}
	until := eta
	if sr.PauseExpiresAt != nil && sr.PauseExpiresAt.After(until) {
		until = *sr.PauseExpiresAt
	}
	if err := f.PassTimelock(ctx, until.Add(time.Minute)); err != nil {
		return lines, err
	}
	ms, err := f.Chain.GetMultisig(ctx, f.Multisig)
	if err != nil {
		return lines, err
	}
	now, err := f.Chain.ChainTime(ctx)
	if err != nil {
		return lines, err
	}
	expect(!ms.IsPaused(now) && ms.PauseExpiresAt != math.MaxInt64, "the pause lapsed on chain")

	// It cannot pause again during its cool-down.
	_, err = pause()
	var apiErr *apiclient.Error
	expect(errors.As(err, &apiErr) && apiErr.Code == "invalid_state", "a second pause by the same key: %v", err)
	lines = append(lines, fmt.Sprintf("its second pause, after the lapse: %v", err))

	// The upgrade executes.
	if err := f.RequestExecute(ctx, proposal); err != nil {
		return lines, err
	}
	if _, err := f.WaitStatus(ctx, proposal, "executed", 3*time.Minute); err != nil {
		failures = append(failures, fmt.Sprintf("the upgrade did not execute: %v", err))
	} else {
		lines = append(lines, "checked: the upgrade executed despite the member's cancel vote and pauses")
	}
	if err := f.WaitDeployed(ctx, program, f.V2, time.Minute); err != nil {
		failures = append(failures, fmt.Sprintf("v2 not deployed: %v", err))
	}
	if len(failures) > 0 {
		return lines, fmt.Errorf("%d problem(s): %v", len(failures), failures)
	}
	return lines, nil
}
