// Package lifecycle is the one statement of a proposal's lifecycle off chain: its statuses
// (with "expired", which the program derives from the clock instead of storing), the moves the
// index may record between them, which actions are open in each and to whom, and the resume
// quorum. The workflow, the activities, the API, the CLI and the database trigger's test ask it
// instead of restating the rules.
package lifecycle

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// Status is where a proposal is.
type Status string

// The statuses. Pending is a proposal only its workflow knows yet (its transaction has not
// landed); Expired is an Active proposal whose lifetime ended (the program keeps it Active and
// refuses approvals).
const (
	Pending   Status = "pending"
	Active    Status = "active"
	Approved  Status = "approved"
	Executed  Status = "executed"
	Cancelled Status = "cancelled"
	Expired   Status = "expired"
)

// Indexed are the statuses the index stores (every status but Pending).
var Indexed = []Status{Active, Approved, Executed, Cancelled, Expired}

// FromChain is the status of a proposal the program holds with status s, lifetime end
// expiresAt and (once approved) execution deadline executeBy (unix seconds), at chain time now.
func FromChain(s governor.ProposalStatus, expiresAt, executeBy, now int64) Status {
	switch s {
	case governor.ProposalActive:
		if IsExpired(expiresAt, now) {
			return Expired
		}
		return Active
	case governor.ProposalApproved:
		if ApprovalExpired(executeBy, now) {
			return Expired
		}
		return Approved
	case governor.ProposalExecuted:
		return Executed
	case governor.ProposalCancelled:
		return Cancelled
	}
	return Status("unknown")
}

// IsExpired is the program's rule (Proposal::check_open_for_approval): an Active proposal
// takes approvals while now < expires_at.
func IsExpired(expiresAt, now int64) bool { return now >= expiresAt }

// ApprovalExpired is the program's rule (execute_upgrade): an approved proposal executes
// until executeBy (eta + the multisig's grace) inclusive. A zero executeBy (an account from
// before the grace existed) never expires.
func ApprovalExpired(executeBy, now int64) bool { return executeBy != 0 && now > executeBy }

// ExpiredAt is IsExpired on times, for the workflow's clock.
func ExpiredAt(expiresAt, now time.Time) bool { return IsExpired(expiresAt.Unix(), now.Unix()) }

// Settled says nothing can change a proposal in status s any more.
func Settled(s Status) bool {
	return s == Executed || s == Cancelled || s == Expired
}

// moves are the status changes the index may record, as the program makes them. Active may
// jump to executed or cancelled: the index can learn of the approval late. An approved
// proposal expires when it was not executed by eta + grace.
var moves = map[Status][]Status{
	Active:   {Approved, Executed, Cancelled, Expired},
	Approved: {Executed, Cancelled, Expired},
}

// CanMove says whether the index may record a change from one status to another.
func CanMove(from, to Status) bool { return slices.Contains(moves[from], to) }

// Action is something a person or the operator can do with a proposal.
type Action string

// The actions. Execute is asking the worker to execute now (anyone may send the transaction
// itself once due); EmergencyStop is the guardian's token cancelling the workflow.
const (
	Approve       Action = "approve"
	Execute       Action = "execute"
	Cancel        Action = "cancel"
	EmergencyStop Action = "emergency_stop"
	Migrate       Action = "migrate"
)

// Who can do an action.
const (
	ByMember   = "member"
	ByGuardian = "guardian"
	ByOperator = "operator"
)

// Allowed is an action open now, who may take it, and when a wait applies, why.
type Allowed struct {
	Action Action   `json:"action"`
	By     []string `json:"by"`
	// Note says what to expect, for example that execution waits for the timelock.
	Note string `json:"note,omitempty"`
}

// State is what the actions depend on.
type State struct {
	Status Status
	// Paused is the multisig's pause flag: nothing executes or migrates while it is set.
	Paused bool
	// Eta is the end of the timelock (zero before approval); Now is the chain's clock.
	Eta, Now time.Time
	// HasMigration: the proposal declares a migration.
	HasMigration bool
	// Superseded: a later executed proposal upgraded the program since, so the program refuses
	// this proposal's migration plan (MigrationPlanSuperseded).
	Superseded bool
	// WorkflowRunning: the proposal's workflow runs (the emergency stop cancels it).
	WorkflowRunning bool
	// Stale: a config change of the members or threshold executed after the proposal was
	// created; the program refuses its approval and execution (ProposalStale). It can still be
	// cancelled, to close it.
	Stale bool
	// ReplacesGuardian: a config proposal replacing the guardian; the guardian cannot cancel it
	// (GuardianCannotCancelGuardianChange), so neither can the guardian's emergency stop.
	ReplacesGuardian bool
}

// StaleReason says why a stale proposal takes no approval and no execution.
const StaleReason = "a config change of the members or threshold executed after this proposal was created: it can no longer be approved or executed; propose it again"

// Actions lists what may be done now, in the order a page shows them.
func Actions(s State) []Allowed {
	var out []Allowed
	open := s.Status == Active || s.Status == Approved
	if s.Status == Active && !s.Stale {
		out = append(out, Allowed{Action: Approve, By: []string{ByMember}})
	}
	if s.Status == Approved && s.WorkflowRunning && !s.Stale {
		a := Allowed{Action: Execute, By: []string{ByMember, ByOperator}}
		switch {
		case s.Paused:
			a.Note = "the multisig is paused: it executes after the members resume it"
		case s.Now.Before(s.Eta):
			a.Note = "the timelock has not ended: the worker executes on its own at the eta"
		}
		out = append(out, a)
	}
	if open {
		by := []string{ByMember, ByGuardian}
		if s.ReplacesGuardian {
			by = []string{ByMember}
		}
		out = append(out, Allowed{Action: Cancel, By: by})
	}
	if (open || s.Status == Pending) && s.WorkflowRunning && !s.ReplacesGuardian {
		out = append(out, Allowed{Action: EmergencyStop, By: []string{ByGuardian}})
	}
	if s.Status == Executed && s.HasMigration && !s.Superseded {
		a := Allowed{Action: Migrate, By: []string{ByOperator}}
		if s.Paused {
			a.Note = "the multisig is paused: migration waits for the members to resume it"
		}
		out = append(out, a)
	}
	return out
}

// MemberVotes counts the distinct current members among voters, as the program counts cancel,
// pause and resume votes: a vote of a key that is no longer a member does not count.
func MemberVotes(members, voters []solana.PublicKey) int {
	var seen []solana.PublicKey
	for _, v := range voters {
		if slices.Contains(members, v) && !slices.Contains(seen, v) {
			seen = append(seen, v)
		}
	}
	return len(seen)
}

// CanPause says whether key's pause_system would be accepted at chain time now (the program's
// rules): a new pause by a member or the guardian unless the key is cooling down, or, while
// paused, a member's vote to hold the pause (once).
func CanPause(ms *governor.Multisig, key solana.PublicKey, now int64) error {
	member := ms.IsMember(key)
	if !member && !key.Equals(ms.Guardian) {
		return fmt.Errorf("%s is neither a member nor the guardian", key)
	}
	if ms.IsPaused(now) {
		if !member {
			return errors.New("the multisig is already paused (members may vote to hold the pause)")
		}
		if slices.Contains(ms.PauseVotes, key) {
			return fmt.Errorf("%s already holds this pause", key)
		}
		return nil
	}
	until := cooldownUntil(ms, key, now)
	if until > now {
		return fmt.Errorf("%s paused before and its pause lapsed or was overruled: it cannot pause again before %s",
			key, time.Unix(until, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// cooldownUntil is when key may pause again: its recorded cool-down, or the one a lapsed pause
// of its own starts when the next pause comes.
func cooldownUntil(ms *governor.Multisig, key solana.PublicKey, now int64) int64 {
	var until int64
	for _, c := range ms.PauseCooldowns {
		if c.Key.Equals(key) && c.Until > now {
			until = c.Until
		}
	}
	if ms.Paused && !ms.IsPaused(now) && ms.PausedBy.Equals(key) {
		lapsed := ms.PauseExpiresAt + ms.PauseCooldownSeconds
		if lapsed < ms.PauseExpiresAt { // overflow
			lapsed = math.MaxInt64
		}
		until = max(until, lapsed)
	}
	return until
}

// CanVoteResume says whether member's resume vote would be accepted: the multisig is paused
// (not lapsed) and the member has not voted on this pause yet.
func CanVoteResume(ms *governor.Multisig, member solana.PublicKey, now int64) error {
	if !ms.IsMember(member) {
		return fmt.Errorf("%s is not a member", member)
	}
	if !ms.IsPaused(now) {
		return errors.New("the multisig is not paused")
	}
	if slices.Contains(ms.ResumeVotes, member) {
		return fmt.Errorf("%s has already voted to resume", member)
	}
	return nil
}

// CanVoteCancel says whether member's cancel vote on p would be accepted: the proposal is not
// over and the member has not voted yet. The guardian cancels alone.
func CanVoteCancel(p *governor.Proposal, member solana.PublicKey) error {
	if p.Status != governor.ProposalActive && p.Status != governor.ProposalApproved {
		return fmt.Errorf("the proposal is %s", strings.ToLower(p.Status.String()))
	}
	if slices.Contains(p.CancelVotes, member) {
		return fmt.Errorf("%s has already voted to cancel", member)
	}
	return nil
}
