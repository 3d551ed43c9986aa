package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
)

// listFlag collects a repeatable flag; each use may also hold a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// ConfigProposed is what `multisig propose-change` prints.
type ConfigProposed struct {
	Proposal string                      `json:"proposal"`
	Multisig string                      `json:"multisig"`
	Index    uint64                      `json:"index"`
	Actions  []governor.ConfigActionJSON `json:"actions"`
	// Stales says the change touches the members or threshold: once executed, every proposal
	// made before it can no longer be approved or executed.
	Stales     bool   `json:"stales_earlier_proposals"`
	Signature  string `json:"signature"`
	Via        string `json:"via"`
	WorkflowID string `json:"workflow_id,omitempty"`
	OnChain    bool   `json:"on_chain"`
}

func (r ConfigProposed) writeText(w io.Writer) {
	fmt.Fprintf(w, "proposal   %s (#%d, config)\nmultisig   %s\nchanges\n", r.Proposal, r.Index, r.Multisig)
	for _, a := range r.Actions {
		fmt.Fprintf(w, "  %s\n", a.Summary)
	}
	fmt.Fprintf(w, "signature  %s\n", r.Signature)
	if r.WorkflowID != "" {
		fmt.Fprintf(w, "workflow   %s\n", r.WorkflowID)
	}
	if r.Stales {
		fmt.Fprintln(w, "Once executed, every proposal made before this one is stale: it can no longer be approved or executed.")
	}
	if !r.OnChain {
		fmt.Fprintln(w, "(the workflow has not proposed on chain yet: check with ugov show)")
	}
}

// configErrorFlags names the flag behind each rule the program refuses a change with.
var configErrorFlags = map[uint32]string{
	governor.ErrDuplicateMember.Code:         "--add-member",
	governor.ErrTooManyMembers.Code:          "--add-member",
	governor.ErrMemberNotFound.Code:          "--remove-member",
	governor.ErrNoMembers.Code:               "--remove-member",
	governor.ErrInvalidThreshold.Code:        "--threshold",
	governor.ErrTimelockTooShort.Code:        "--timelock",
	governor.ErrTimelockTooLong.Code:         "--timelock",
	governor.ErrInvalidProposalLifetime.Code: "--proposal-lifetime",
	governor.ErrProposalLifetimeTooLong.Code: "--proposal-lifetime",
	governor.ErrInvalidGracePeriod.Code:      "--grace",
	governor.ErrNotAMember.Code:              "--keypair",
}

func runMultisigProposeChange(ctx context.Context, e *env, args []string) (result, error) {
	const usage = "multisig propose-change --multisig M [--add-member K]... [--remove-member K]... [--threshold N] " +
		"[--timelock D] [--proposal-lifetime D] [--grace D] [--guardian K] [--hand-off PROGRAM=AUTHORITY]... [--make-immutable PROGRAM]... [--description TEXT]"
	fs := e.flagSet("multisig propose-change")
	multisigFlag := fs.String("multisig", "", "multisig `address`")
	var add, remove, handOff, immutable listFlag
	fs.Var(&add, "add-member", "member `address` to add (repeatable, or comma-separated)")
	fs.Var(&remove, "remove-member", "member `address` to remove (repeatable, or comma-separated)")
	threshold := fs.Int("threshold", 0, "new approval threshold (1 to the members after the change)")
	timelock := fs.Duration("timelock", 0, "new timelock (at least 1h); applies to proposals approved after the change")
	lifetime := fs.Duration("proposal-lifetime", 0, "new proposal lifetime")
	grace := fs.Duration("grace", 0, "new grace after eta")
	guardian := fs.String("guardian", "", "new guardian `address` (the guardian cannot cancel this proposal)")
	fs.Var(&handOff, "hand-off", "hand a governed program's upgrade authority on: `PROGRAM=AUTHORITY` (repeatable)")
	fs.Var(&immutable, "make-immutable", "make a governed `PROGRAM` immutable: nobody can upgrade it again (repeatable)")
	description := fs.String("description", "", "why the multisig changes")
	wait := fs.Duration("wait", time.Minute, "through the API: wait this long for the workflow to propose on chain (0: do not wait)")
	if _, err := e.parseCommand(fs, usage, args); err != nil {
		return nil, err
	}
	multisig, err := parsePubkey("--multisig", *multisigFlag)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	actions, err := configActions(set, remove, add, *threshold, *timelock, *lifetime, *grace, *guardian, handOff, immutable)
	if err != nil {
		return nil, err
	}
	if len(*description) > governor.MaxDescriptionLen {
		return nil, usageError("--description", "%d bytes, at most %d", len(*description), governor.MaxDescriptionLen)
	}
	proposer, err := e.loadKeypair("--keypair", e.g.keypair)
	if err != nil {
		return nil, err
	}
	ms, err := e.chain.GetMultisig(ctx, multisig)
	if err != nil {
		return nil, atField("--multisig", err)
	}
	if !ms.IsMember(proposer.PublicKey()) {
		return nil, inputError("not_a_member", "--keypair", "%s is not a member of multisig %s", proposer.PublicKey(), multisig)
	}
	signed, err := member.ProposeConfig(ctx, e.chain, multisig, proposer, actions, *description)
	if err != nil {
		return nil, err
	}
	// Ask the program before anything is sent: it states the rules (a threshold above the
	// members after a removal, a duplicate member, ...); the error names the flag behind it.
	if err := e.chain.Simulate(ctx, signed.Tx); err != nil {
		var pe *chain.ProgramError
		if errors.As(err, &pe) && pe.Name != "" {
			field := configErrorFlags[pe.Code]
			if field == "" {
				field = "--multisig"
			}
			return nil, inputError("config_refused", field, "the program refuses the change: %s (%s); nothing was sent", pe.Msg, pe.Name)
		}
		return nil, fmt.Errorf("propose-change: check with the program: %w", err)
	}
	res := ConfigProposed{
		Proposal: signed.Proposal.String(), Multisig: multisig.String(), Index: ms.ProposalIndex + 1,
		Actions: governor.ConfigActionsJSON(actions), Stales: governor.ChangesMembership(actions),
	}
	sub, err := e.submitProposal(ctx, "propose-change", signed, apiclient.CreateProposalRequest{Description: description}, *wait)
	if err != nil {
		return nil, err
	}
	res.Signature, res.Via, res.WorkflowID, res.OnChain = sub.signature, sub.via, sub.workflowID, sub.onChain
	return res, nil
}

// configActions turns the flags into actions, in an order the program accepts whatever the
// flags' order: removals before additions (the member list is bounded), then the settings.
func configActions(set map[string]bool, remove, add []string, threshold int, timelock, lifetime, grace time.Duration,
	guardian string, handOff, immutable []string) ([]governor.ConfigAction, error) {
	var out []governor.ConfigAction
	for _, s := range remove {
		k, err := parsePubkey("--remove-member", s)
		if err != nil {
			return nil, err
		}
		out = append(out, governor.RemoveMember(k))
	}
	for _, s := range add {
		k, err := parsePubkey("--add-member", s)
		if err != nil {
			return nil, err
		}
		out = append(out, governor.AddMember(k))
	}
	if set["threshold"] {
		if threshold < 1 || threshold > governor.MaxMembers {
			return nil, usageError("--threshold", "want 1 to %d, got %d", governor.MaxMembers, threshold)
		}
		out = append(out, governor.SetThreshold(uint8(threshold)))
	}
	durations := []struct {
		flag   string
		d      time.Duration
		lo, hi int64
		action func(int64) governor.ConfigAction
	}{
		{"timelock", timelock, governor.MinTimelockSeconds, governor.MaxTimelockSeconds, governor.SetTimelock},
		{"proposal-lifetime", lifetime, 1, governor.MaxProposalLifetimeSeconds, governor.SetProposalLifetime},
		{"grace", grace, governor.MinGraceSeconds, governor.MaxGraceSeconds, governor.SetGrace},
	}
	for _, d := range durations {
		if !set[d.flag] {
			continue
		}
		if d.d%time.Second != 0 || d.d < time.Duration(d.lo)*time.Second || d.d > time.Duration(d.hi)*time.Second {
			return nil, usageError("--"+d.flag, "want whole seconds, from %s to %s, got %s",
				time.Duration(d.lo)*time.Second, time.Duration(d.hi)*time.Second, d.d)
		}
		out = append(out, d.action(int64(d.d/time.Second)))
	}
	if set["guardian"] {
		k, err := parsePubkey("--guardian", guardian)
		if err != nil {
			return nil, err
		}
		out = append(out, governor.SetGuardian(k))
	}
	for _, s := range handOff {
		program, authority, ok := strings.Cut(s, "=")
		if !ok {
			return nil, usageError("--hand-off", "want PROGRAM=AUTHORITY, got %q", s)
		}
		p, err := parsePubkey("--hand-off", program)
		if err != nil {
			return nil, err
		}
		a, err := parsePubkey("--hand-off", authority)
		if err != nil {
			return nil, err
		}
		out = append(out, governor.SetProgramAuthority(p, &a))
	}
	for _, s := range immutable {
		p, err := parsePubkey("--make-immutable", s)
		if err != nil {
			return nil, err
		}
		out = append(out, governor.SetProgramAuthority(p, nil))
	}
	if len(out) == 0 {
		return nil, usageError("", "nothing to change: give at least one of --add-member, --remove-member, --threshold, --timelock, --proposal-lifetime, --grace, --guardian, --hand-off, --make-immutable")
	}
	if len(out) > governor.MaxConfigActions {
		return nil, usageError("", "%d changes; at most %d in one proposal", len(out), governor.MaxConfigActions)
	}
	return out, nil
}
