package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
)

// Acted is what approve, cancel and execute print: the transaction and the proposal after it.
type Acted struct {
	Action    string `json:"action"`
	Proposal  string `json:"proposal"`
	Signer    string `json:"signer"`
	Signature string `json:"signature,omitempty"`
	// Via is "api" or "rpc".
	Via       string `json:"via"`
	Status    string `json:"status"`
	Approvals int    `json:"approvals"`
	Threshold int    `json:"threshold"`
	// CancelVotes counts the members who voted to cancel (a member's cancel is a vote).
	CancelVotes int        `json:"cancel_votes"`
	Eta         *time.Time `json:"eta,omitempty"`
	// Workflow is the proposal's workflow after an execute request through the API.
	Workflow *apiclient.Workflow `json:"workflow,omitempty"`
}

func (r Acted) writeText(w io.Writer) {
	fmt.Fprintf(w, "%s %s by %s via %s\n", r.Action, r.Proposal, r.Signer, r.Via)
	if r.Signature != "" {
		fmt.Fprintf(w, "signature  %s\n", r.Signature)
	}
	fmt.Fprintf(w, "status     %s (%d/%d approvals)\n", r.Status, r.Approvals, r.Threshold)
	if r.CancelVotes > 0 {
		fmt.Fprintf(w, "cancel     %d/%d member votes\n", r.CancelVotes, r.Threshold)
	}
	if r.Eta != nil {
		fmt.Fprintf(w, "eta        %s (the timelock ends)\n", r.Eta.UTC().Format(time.RFC3339))
	}
	if wf := r.Workflow; wf != nil {
		fmt.Fprintf(w, "workflow   %s %s%s\n", wf.ID, wf.Status, stepOf(wf))
	}
}

// proposalAction parses `COMMAND PROPOSAL [flags]`, loads the member's key and reads the
// proposal and its multisig.
func proposalAction(ctx context.Context, e *env, name string, args []string, extra func(fs *flag.FlagSet)) (*chain.Keypair, solana.PublicKey, *governor.Proposal, *governor.Multisig, error) {
	fs := e.flagSet(name)
	if extra != nil {
		extra(fs)
	}
	pos, err := e.parseCommand(fs, name+" PROPOSAL", args, "PROPOSAL")
	if err != nil {
		return nil, solana.PublicKey{}, nil, nil, err
	}
	addr, err := parsePubkey("PROPOSAL", pos[0])
	if err != nil {
		return nil, addr, nil, nil, err
	}
	kp, err := e.loadKeypair("--keypair", e.g.keypair)
	if err != nil {
		return nil, addr, nil, nil, err
	}
	p, ms, err := proposalOf(ctx, e.chain, addr)
	if err != nil {
		return nil, addr, nil, nil, err
	}
	return kp, addr, p, ms, nil
}

// afterChain fills the proposal's state from the chain after a transaction sent by RPC.
func (e *env) afterChain(ctx context.Context, r *Acted, addr solana.PublicKey, ms *governor.Multisig) error {
	p, err := e.chain.GetProposal(ctx, addr)
	if err != nil {
		return fmt.Errorf("%s sent (%s); read the proposal back: %w", r.Action, r.Signature, err)
	}
	r.Status, r.Approvals, r.Threshold = chainStatus(p.Status), len(p.Approvals), int(ms.Threshold)
	r.CancelVotes = lifecycle.MemberVotes(ms.Members, p.CancelVotes)
	r.Eta = unixTime(p.Eta)
	return nil
}

func runApprove(ctx context.Context, e *env, args []string) (result, error) {
	kp, addr, p, ms, err := proposalAction(ctx, e, "approve", args, nil)
	if err != nil {
		return nil, err
	}
	if !ms.IsMember(kp.PublicKey()) {
		return nil, inputError("not_a_member", "--keypair", "%s is not a member of multisig %s", kp.PublicKey(), p.Multisig)
	}
	signed, err := member.Approve(ctx, e.chain, p.Multisig, addr, kp)
	if err != nil {
		return nil, err
	}
	r := Acted{Action: "approve", Proposal: addr.String(), Signer: kp.PublicKey().String()}
	if e.api == nil {
		sig, err := e.chain.SendSigned(ctx, signed.Tx)
		if err != nil {
			return nil, fmt.Errorf("approve: %w", err)
		}
		r.Signature, r.Via = sig.String(), "rpc"
		return r, e.afterChain(ctx, &r, addr, ms)
	}
	b64, err := signed.Base64()
	if err != nil {
		return nil, err
	}
	out, err := e.api.Approve(ctx, addr.String(), b64)
	if err != nil {
		return nil, fmt.Errorf("approve: %w", err)
	}
	r.Signature, r.Via, r.Status, r.Approvals, r.Threshold, r.Eta = out.Signature, "api", out.Status, out.Approvals, out.Threshold, out.Eta
	return r, nil
}

func runCancel(ctx context.Context, e *env, args []string) (result, error) {
	var reason *string
	kp, addr, p, ms, err := proposalAction(ctx, e, "cancel", args, func(fs *flag.FlagSet) {
		reason = fs.String("reason", "", "why (recorded in the audit trail; through the API only)")
	})
	if err != nil {
		return nil, err
	}
	if !ms.IsMember(kp.PublicKey()) && !ms.Guardian.Equals(kp.PublicKey()) {
		return nil, inputError("not_a_member", "--keypair", "%s is neither a member nor the guardian of multisig %s", kp.PublicKey(), p.Multisig)
	}
	signed, err := member.Cancel(ctx, e.chain, p.Multisig, addr, kp)
	if err != nil {
		return nil, err
	}
	r := Acted{Action: "cancel", Proposal: addr.String(), Signer: kp.PublicKey().String()}
	if e.api == nil {
		if *reason != "" {
			e.warn("--reason is recorded through the API only; without --api-url it is dropped")
		}
		sig, err := e.chain.SendSigned(ctx, signed.Tx)
		if err != nil {
			return nil, fmt.Errorf("cancel: %w", err)
		}
		r.Signature, r.Via = sig.String(), "rpc"
		return r, e.afterChain(ctx, &r, addr, ms)
	}
	b64, err := signed.Base64()
	if err != nil {
		return nil, err
	}
	out, err := e.api.Cancel(ctx, addr.String(), apiclient.CancelRequest{Transaction: b64, Reason: *reason})
	if err != nil {
		return nil, fmt.Errorf("cancel: %w", err)
	}
	r.Signature, r.Via = out.Signature, "api"
	return r, e.afterChain(ctx, &r, addr, ms)
}

func runExecute(ctx context.Context, e *env, args []string) (result, error) {
	kp, addr, p, ms, err := proposalAction(ctx, e, "execute", args, nil)
	if err != nil {
		return nil, err
	}
	r := Acted{Action: "execute", Proposal: addr.String(), Signer: kp.PublicKey().String()}
	if e.api != nil {
		// The signed transaction proves a member asks; the workflow executes with its own key
		// after re-checking the buffer, and extends ProgramData itself when needed.
		if !ms.IsMember(kp.PublicKey()) {
			return nil, inputError("not_a_member", "--keypair", "%s is not a member of multisig %s (through the API, a member asks the workflow to execute)", kp.PublicKey(), p.Multisig)
		}
		signed, err := member.Execute(ctx, e.chain, addr, kp)
		if err != nil {
			return nil, err
		}
		b64, err := signed.Base64()
		if err != nil {
			return nil, err
		}
		out, err := e.api.Execute(ctx, addr.String(), b64)
		if err != nil {
			return nil, fmt.Errorf("execute: %w", err)
		}
		r.Via, r.Workflow = "api", out.Workflow
		return r, e.afterChain(ctx, &r, addr, ms)
	}
	if p.IsConfig() {
		// A config proposal has no buffer: execute_config applies its changes at once.
		signed, err := member.Execute(ctx, e.chain, addr, kp)
		if err != nil {
			return nil, err
		}
		sig, err := e.chain.SendSigned(ctx, signed.Tx)
		if err != nil {
			return nil, fmt.Errorf("execute: %w", err)
		}
		r.Signature, r.Via = sig.String(), "rpc"
		return r, e.afterChain(ctx, &r, addr, ms)
	}
	// Anyone may execute by RPC. An ELF larger than ProgramData needs the loader's
	// ExtendProgram first, which a program may not call by CPI. It cannot share the execute
	// transaction either: the loader counts it as a deployment, and refuses an Upgrade of a
	// program "deployed in this block already". So it goes alone, and execute a slot later.
	buf, err := e.chain.GetBuffer(ctx, p.Buffer)
	if err != nil {
		return nil, fmt.Errorf("execute: read the proposal's buffer: %w", err)
	}
	// The loader's Upgrade needs room for the buffer's whole data, zero padding included.
	extend, err := e.chain.ExtendProgramInstruction(ctx, kp.PublicKey(), p.TargetProgram, len(buf.ELF))
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	if extend != nil {
		tx, err := member.Sign(ctx, e.chain, []solana.Instruction{extend}, kp)
		if err != nil {
			return nil, fmt.Errorf("execute: extend program data: %w", err)
		}
		if _, err := e.chain.SendSigned(ctx, tx); err != nil {
			return nil, fmt.Errorf("execute: extend program data by %d bytes: %w", extend.AdditionalBytes, err)
		}
		if err := e.chain.WaitNextSlot(ctx); err != nil {
			return nil, fmt.Errorf("execute: %w", err)
		}
	}
	tx, err := member.Sign(ctx, e.chain, []solana.Instruction{governor.NewExecuteUpgradeInstructionFor(p, kp.PublicKey())}, kp)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	sig, err := e.chain.SendSigned(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	r.Signature, r.Via = sig.String(), "rpc"
	return r, e.afterChain(ctx, &r, addr, ms)
}

// SystemChanged is what pause and resume print.
type SystemChanged struct {
	Action    string   `json:"action"`
	Multisig  string   `json:"multisig"`
	Signers   []string `json:"signers"`
	Signature string   `json:"signature"`
	Via       string   `json:"via"`
	// Paused is the effective pause after the transaction.
	Paused bool `json:"paused"`
	// Votes counts the members who voted for this action on this pause so far (holding it, or
	// resuming it), of Threshold.
	Votes     int `json:"votes"`
	Threshold int `json:"threshold"`
	// PauseExpiresAt is when the pause lapses unless threshold members hold it.
	PauseExpiresAt *time.Time `json:"pause_expires_at,omitempty"`
	// Signalled lists the workflows the API told that the system resumed.
	Signalled []string `json:"signalled,omitempty"`
}

func (r SystemChanged) writeText(w io.Writer) {
	fmt.Fprintf(w, "%s multisig %s via %s\nsignature  %s\npaused     %t\nvotes      %d of %d\n",
		r.Action, r.Multisig, r.Via, r.Signature, r.Paused, r.Votes, r.Threshold)
	if r.PauseExpiresAt != nil {
		fmt.Fprintf(w, "lapses     %s (unless %d members hold it)\n", r.PauseExpiresAt.Format(time.RFC3339), r.Threshold)
	}
	for _, s := range r.Signers {
		fmt.Fprintf(w, "signer     %s\n", s)
	}
}

// afterSystem reads the multisig again after a pause or resume vote landed: whether it is
// paused, until when, and how many members voted.
func (e *env) afterSystem(ctx context.Context, r *SystemChanged, multisig solana.PublicKey) error {
	ms, err := e.chain.GetMultisig(ctx, multisig)
	if err != nil {
		return fmt.Errorf("%s: read multisig after: %w", r.Action, err)
	}
	now, err := e.chain.ChainTime(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", r.Action, err)
	}
	r.Paused, r.Threshold = ms.IsPaused(now), int(ms.Threshold)
	switch {
	case r.Action == "pause":
		r.Votes = lifecycle.MemberVotes(ms.Members, ms.PauseVotes)
	case r.Paused:
		r.Votes = lifecycle.MemberVotes(ms.Members, ms.ResumeVotes)
	default:
		r.Votes = r.Threshold // resumed: the threshold voted
	}
	if r.Paused && ms.PauseExpiresAt != math.MaxInt64 {
		t := time.Unix(ms.PauseExpiresAt, 0).UTC()
		r.PauseExpiresAt = &t
	}
	return nil
}

func runPause(ctx context.Context, e *env, args []string) (result, error) {
	fs := e.flagSet("pause")
	multisigFlag := fs.String("multisig", "", "multisig `address`")
	if _, err := e.parseCommand(fs, "pause --multisig M", args); err != nil {
		return nil, err
	}
	multisig, err := parsePubkey("--multisig", *multisigFlag)
	if err != nil {
		return nil, err
	}
	kp, err := e.loadKeypair("--keypair", e.g.keypair)
	if err != nil {
		return nil, err
	}
	ms, err := e.chain.GetMultisig(ctx, multisig)
	if err != nil {
		return nil, atField("--multisig", err)
	}
	if !ms.IsMember(kp.PublicKey()) && !ms.Guardian.Equals(kp.PublicKey()) {
		return nil, inputError("not_a_member", "--keypair", "%s is neither a member nor the guardian of multisig %s", kp.PublicKey(), multisig)
	}
	now, err := e.chain.ChainTime(ctx)
	if err != nil {
		return nil, err
	}
	// A new pause, or, while paused, a member's vote to hold it (internal/lifecycle).
	if err := lifecycle.CanPause(ms, kp.PublicKey(), now); err != nil {
		return nil, inputError("invalid_state", "--keypair", "%v", err)
	}
	signed, err := member.Pause(ctx, e.chain, multisig, kp)
	if err != nil {
		return nil, err
	}
	r := SystemChanged{Action: "pause", Multisig: multisig.String(), Signers: []string{kp.PublicKey().String()}, Paused: true}
	if err := e.submitSystem(ctx, &r, signed.Tx); err != nil {
		return nil, err
	}
	return r, e.afterSystem(ctx, &r, multisig)
}

// submitSystem sends a pause or resume transaction through the API or RPC.
func (e *env) submitSystem(ctx context.Context, r *SystemChanged, tx *solana.Transaction) error {
	if e.api == nil {
		sig, err := e.chain.SendSigned(ctx, tx)
		if err != nil {
			return fmt.Errorf("%s: %w", r.Action, err)
		}
		r.Signature, r.Via = sig.String(), "rpc"
		return nil
	}
	b64, err := tx.ToBase64()
	if err != nil {
		return err
	}
	send := e.api.Pause
	if r.Action == "resume" {
		send = e.api.Resume
	}
	out, err := send(ctx, b64)
	if err != nil {
		return fmt.Errorf("%s: %w", r.Action, err)
	}
	r.Signature, r.Via, r.Paused, r.Signalled = out.Signature, "api", out.Paused, out.Signalled
	return nil
}

func chainStatus(s governor.ProposalStatus) string {
	switch s {
	case governor.ProposalActive:
		return "active"
	case governor.ProposalApproved:
		return "approved"
	case governor.ProposalExecuted:
		return "executed"
	case governor.ProposalCancelled:
		return "cancelled"
	}
	return s.String()
}

func unixTime(sec int64) *time.Time {
	if sec == 0 {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}

func stepOf(wf *apiclient.Workflow) string {
	if wf.State == nil {
		return ""
	}
	return ", step " + wf.State.Step
}
