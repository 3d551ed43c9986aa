package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
)

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// ResumePartial is what resume prints while member signatures are missing (or with
// --sign-only): the transaction to hand to the next member.
type ResumePartial struct {
	Action   string `json:"action"`
	Multisig string `json:"multisig"`
	// Transaction is the wire transaction, base64, with the signatures so far.
	Transaction string   `json:"transaction"`
	Signers     []string `json:"signers"`
	Signed      []string `json:"signed"`
	Missing     []string `json:"missing"`
	Blockhash   string   `json:"blockhash"`
}

func (r ResumePartial) writeText(w io.Writer) {
	fmt.Fprintf(w, "resume of multisig %s: %d of %d signatures\n", r.Multisig, len(r.Signed), len(r.Signers))
	for _, m := range r.Missing {
		fmt.Fprintf(w, "missing    %s\n", m)
	}
	if len(r.Missing) > 0 {
		fmt.Fprintln(w, "Each missing member runs, within about a minute (the blockhash expires):\n  ugov resume --keypair THEIR_KEYPAIR --add-signature TRANSACTION")
	} else {
		fmt.Fprintln(w, "Complete: submit it with\n  ugov resume --add-signature TRANSACTION")
	}
	fmt.Fprintf(w, "transaction:\n%s\n", r.Transaction)
}

func runResume(ctx context.Context, e *env, args []string) (result, error) {
	const usage = "resume --multisig M [--signer FILE]... [--member KEY]... [--sign-only] | resume --add-signature TX [--signer FILE]... [--sign-only]"
	fs := e.flagSet("resume")
	multisigFlag := fs.String("multisig", "", "multisig `address`")
	var signerFiles, remote repeated
	fs.Var(&signerFiles, "signer", "keypair `file` of another member signing here (repeat)")
	fs.Var(&remote, "member", "`address` of a member who signs on another machine (repeat); prints the partially signed transaction")
	signOnly := fs.Bool("sign-only", false, "print the signed transaction instead of submitting it")
	addTo := fs.String("add-signature", "", "base64 resume `transaction` from another member: add this machine's signatures")
	if _, err := e.parseCommand(fs, usage, args); err != nil {
		return nil, err
	}
	if *addTo == "" && *multisigFlag == "" {
		return nil, usageError("--multisig", "missing (required unless --add-signature)")
	}
	var multisig solana.PublicKey
	if *multisigFlag != "" {
		var err error
		if multisig, err = parsePubkey("--multisig", *multisigFlag); err != nil {
			return nil, err
		}
	}
	var remoteKeys []solana.PublicKey
	for _, v := range remote {
		k, err := parsePubkey("--member", v)
		if err != nil {
			return nil, err
		}
		remoteKeys = append(remoteKeys, k)
	}
	if *addTo != "" && len(remoteKeys) > 0 {
		return nil, usageError("--member", "names signers when building the transaction; --add-signature signs one already built")
	}
	var tx *solana.Transaction
	if *addTo != "" {
		var err error
		if tx, multisig, err = decodeResume(*addTo, multisig); err != nil {
			return nil, err
		}
	}
	// The local keys: --keypair (the fee payer when building), then every --signer.
	kp, err := e.loadKeypair("--keypair", e.g.keypair)
	if err != nil {
		return nil, err
	}
	locals := []*chain.Keypair{kp}
	flagOf := map[solana.PublicKey]string{kp.PublicKey(): "--keypair"}
	for _, path := range signerFiles {
		s, err := e.loadKeypair("--signer", path)
		if err != nil {
			return nil, err
		}
		if _, dup := flagOf[s.PublicKey()]; !dup {
			locals = append(locals, s)
			flagOf[s.PublicKey()] = "--signer"
		}
	}

	if tx == nil {
		if tx, err = buildResume(ctx, e, multisig, locals, remoteKeys, flagOf); err != nil {
			return nil, err
		}
	} else {
		required := tx.Message.AccountKeys[:tx.Message.Header.NumRequiredSignatures]
		for _, l := range locals {
			if !containsKey(required, l.PublicKey()) {
				return nil, inputError("not_a_signer", flagOf[l.PublicKey()], "%s is not a signer of this transaction (signers: %s)",
					l.PublicKey(), strings.Join(keyStrings(required), ", "))
			}
		}
		if err := chain.SignTransaction(tx, locals...); err != nil {
			return nil, err
		}
	}

	partial, err := resumeState(tx, multisig)
	if err != nil {
		return nil, err
	}
	if len(partial.Missing) > 0 || *signOnly {
		return partial, nil
	}
	r := SystemChanged{Action: "resume", Multisig: multisig.String(), Signers: partial.Signers}
	return r, e.submitSystem(ctx, &r, tx)
}

// buildResume checks the signers against the multisig and signs resume_system with the
// local keys; remote members sign later with --add-signature.
func buildResume(ctx context.Context, e *env, multisig solana.PublicKey, locals []*chain.Keypair, remote []solana.PublicKey, flagOf map[solana.PublicKey]string) (*solana.Transaction, error) {
	ms, err := e.chain.GetMultisig(ctx, multisig)
	if err != nil {
		return nil, atField("--multisig", err)
	}
	if !ms.Paused {
		return nil, inputError("not_paused", "--multisig", "multisig %s is not paused", multisig)
	}
	keys := []solana.PublicKey{}
	for _, l := range locals {
		keys = append(keys, l.PublicKey())
	}
	for _, k := range remote {
		if _, dup := flagOf[k]; !dup {
			keys = append(keys, k)
			flagOf[k] = "--member"
		}
	}
	// The program's quorum (internal/lifecycle): distinct current members among the signers;
	// another signer (a fee payer of the team's) neither counts nor is refused.
	if n := lifecycle.ResumeSigners(ms.Members, keys); n < int(ms.Threshold) {
		return nil, inputError("below_threshold", "--signer",
			"%d members sign; resuming multisig %s needs its threshold of %d (add --signer FILE, or --member KEY for a member signing elsewhere; other signers do not count)",
			n, multisig, ms.Threshold)
	}
	if len(remote) == 0 {
		signed, err := member.Resume(ctx, e.chain, multisig, locals...)
		if err != nil {
			return nil, err
		}
		return signed.Tx, nil
	}
	tx, err := member.Sign(ctx, e.chain, []solana.Instruction{governor.NewResumeSystemInstruction(multisig, keys)}, locals...)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	return tx, nil
}

// decodeResume reads a transaction another member built and checks that it holds exactly
// one resume_system (of want, when given) and that its signatures so far are valid: a
// member signs nothing else this way.
func decodeResume(b64 string, want solana.PublicKey) (*solana.Transaction, solana.PublicKey, error) {
	const field = "--add-signature"
	tx, err := solana.TransactionFromBase64(strings.TrimSpace(b64))
	if err != nil {
		return nil, want, usageError(field, "not a base64 transaction: %v", err)
	}
	if len(tx.Message.Instructions) != 1 {
		return nil, want, inputError("wrong_instruction", field, "the transaction holds %d instructions, want one resume_system", len(tx.Message.Instructions))
	}
	ixs, err := governor.DecodeTransaction(tx)
	if err != nil {
		return nil, want, inputError("wrong_instruction", field, "%v", err)
	}
	var resume *governor.ResumeSystem
	if len(ixs) == 1 {
		resume, _ = ixs[0].Instruction.(*governor.ResumeSystem)
	}
	if resume == nil {
		return nil, want, inputError("wrong_instruction", field, "the transaction is not a resume_system of the governor %s", governor.ProgramID)
	}
	if !want.IsZero() && !resume.Multisig.Equals(want) {
		return nil, want, inputError("wrong_multisig", field, "the transaction resumes multisig %s, not --multisig %s", resume.Multisig, want)
	}
	msg, err := tx.Message.MarshalBinary()
	if err != nil {
		return nil, want, err
	}
	required := tx.Message.AccountKeys[:tx.Message.Header.NumRequiredSignatures]
	if len(tx.Signatures) != len(required) {
		return nil, want, inputError("malformed_transaction", field, "%d signatures for %d signers", len(tx.Signatures), len(required))
	}
	for i, sig := range tx.Signatures {
		if !sig.IsZero() && !sig.Verify(required[i], msg) {
			return nil, want, inputError("invalid_signature", field, "the signature of %s does not verify", required[i])
		}
	}
	return tx, resume.Multisig, nil
}

func resumeState(tx *solana.Transaction, multisig solana.PublicKey) (ResumePartial, error) {
	b64, err := tx.ToBase64()
	if err != nil {
		return ResumePartial{}, err
	}
	r := ResumePartial{Action: "resume", Multisig: multisig.String(), Transaction: b64,
		Blockhash: tx.Message.RecentBlockhash.String(), Signed: []string{}, Missing: []string{}}
	required := tx.Message.AccountKeys[:tx.Message.Header.NumRequiredSignatures]
	r.Signers = keyStrings(required)
	for i, k := range required {
		if i < len(tx.Signatures) && !tx.Signatures[i].IsZero() {
			r.Signed = append(r.Signed, k.String())
		} else {
			r.Missing = append(r.Missing, k.String())
		}
	}
	return r, nil
}

func containsKey(ks []solana.PublicKey, k solana.PublicKey) bool {
	for _, x := range ks {
		if x.Equals(k) {
			return true
		}
	}
	return false
}
