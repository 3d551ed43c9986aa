package main

import (
	"context"

	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
)

// runResume casts this member's vote to lift the pause: threshold votes, each sent on its own
// and at any time (no co-signing within a blockhash's minute), resume the multisig.
func runResume(ctx context.Context, e *env, args []string) (result, error) {
	fs := e.flagSet("resume")
	multisigFlag := fs.String("multisig", "", "multisig `address`")
	if _, err := e.parseCommand(fs, "resume --multisig M", args); err != nil {
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
	now, err := e.chain.ChainTime(ctx)
	if err != nil {
		return nil, err
	}
	if !ms.IsMember(kp.PublicKey()) {
		return nil, inputError("not_a_member", "--keypair", "%s is not a member of multisig %s (resuming takes member votes)", kp.PublicKey(), multisig)
	}
	if err := lifecycle.CanVoteResume(ms, kp.PublicKey(), now); err != nil {
		return nil, inputError("invalid_state", "--multisig", "%v", err)
	}
	signed, err := member.Resume(ctx, e.chain, multisig, kp)
	if err != nil {
		return nil, err
	}
	r := SystemChanged{Action: "resume", Multisig: multisig.String(), Signers: []string{kp.PublicKey().String()},
		Paused: true, Threshold: int(ms.Threshold)}
	if err := e.submitSystem(ctx, &r, signed.Tx); err != nil {
		return nil, err
	}
	return r, e.afterSystem(ctx, &r, multisig)
}
