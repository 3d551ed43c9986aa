package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
)

// Proposed is what `propose` prints.
type Proposed struct {
	Proposal   string `json:"proposal"`
	Multisig   string `json:"multisig"`
	Index      uint64 `json:"index"`
	Program    string `json:"program"`
	Buffer     string `json:"buffer"`
	BufferHash string `json:"buffer_hash"`
	Signature  string `json:"signature"`
	// Via is "api" (the proposal's workflow submitted it) or "rpc".
	Via        string `json:"via"`
	WorkflowID string `json:"workflow_id,omitempty"`
	// OnChain is false when --wait ended before the workflow proposed on chain.
	OnChain bool `json:"on_chain"`
}

func (r Proposed) writeText(w io.Writer) {
	fmt.Fprintf(w, "proposal   %s (#%d)\nmultisig   %s\nprogram    %s\nbuffer     %s\nhash       %s\nsignature  %s\n",
		r.Proposal, r.Index, r.Multisig, r.Program, r.Buffer, r.BufferHash, r.Signature)
	if r.WorkflowID != "" {
		fmt.Fprintf(w, "workflow   %s\n", r.WorkflowID)
	}
	if !r.OnChain {
		fmt.Fprintln(w, "(the workflow has not proposed on chain yet: check with ugov show)")
	}
}

// maxAccountSize is the largest Solana account (10 MiB): a migration's data size bound.
const maxAccountSize = 10 << 20

func runPropose(ctx context.Context, e *env, args []string) (result, error) {
	const usage = "propose --multisig M --program P --buffer B [--hash HEX] [--description TEXT] " +
		"[--migration-version V --migration-data HEX --migration-from V0 [--migration-size N] [--migration-offset N]]"
	fs := e.flagSet("propose")
	multisigFlag := fs.String("multisig", "", "multisig `address`")
	programFlag := fs.String("program", "", "governed program `address`")
	bufferFlag := fs.String("buffer", "", "loader buffer `address` holding the new ELF (authority: the multisig's authority PDA)")
	hashFlag := fs.String("hash", "", "expected solana-verify `hash` of the buffer (hex); refuse when the buffer differs")
	description := fs.String("description", "", "what the upgrade changes")
	migVersion := fs.Int("migration-version", 0, "layout `version` accounts have after the migration (1-255)")
	migData := fs.String("migration-data", "", "`hex` data for the governed program's migrate instruction")
	migFrom := fs.Int("migration-from", -1, "layout `version` of the accounts to migrate (required with --migration-version; signed with the proposal)")
	migSize := fs.Int64("migration-size", 0, "data size of the accounts to migrate in `bytes` (0: any)")
	migOffset := fs.Int64("migration-offset", 0, "`offset` of the version byte in the accounts' data")
	wait := fs.Duration("wait", time.Minute, "through the API: wait this long for the workflow to propose on chain (0: do not wait)")
	if _, err := e.parseCommand(fs, usage, args); err != nil {
		return nil, err
	}
	multisig, err := parsePubkey("--multisig", *multisigFlag)
	if err != nil {
		return nil, err
	}
	program, err := parsePubkey("--program", *programFlag)
	if err != nil {
		return nil, err
	}
	buffer, err := parsePubkey("--buffer", *bufferFlag)
	if err != nil {
		return nil, err
	}
	var want *[32]byte
	if *hashFlag != "" {
		h, err := parseHash(*hashFlag)
		if err != nil {
			return nil, err
		}
		want = &h
	}
	if len(*description) > governor.MaxDescriptionLen {
		return nil, usageError("--description", "%d bytes, at most %d", len(*description), governor.MaxDescriptionLen)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	onchain, plan, err := migrationFlags(e, set, *migVersion, *migData, *migFrom, *migSize, *migOffset)
	if err != nil {
		return nil, err
	}
	proposer, err := e.loadKeypair("--keypair", e.g.keypair)
	if err != nil {
		return nil, err
	}

	// Check what the program would refuse, so the member learns which input is wrong
	// before signing anything.
	ms, err := e.chain.GetMultisig(ctx, multisig)
	if err != nil {
		return nil, atField("--multisig", err)
	}
	if !ms.IsMember(proposer.PublicKey()) {
		return nil, inputError("not_a_member", "--keypair", "%s is not a member of multisig %s", proposer.PublicKey(), multisig)
	}
	authority, _ := governor.FindAuthorityAddress(multisig)
	pd, err := e.chain.GetProgramData(ctx, program)
	if err != nil {
		return nil, atField("--program", err)
	}
	if pd.UpgradeAuthority == nil || !pd.UpgradeAuthority.Equals(authority) {
		return nil, inputError("program_not_governed", "--program",
			"its upgrade authority is %s, not the multisig's authority PDA %s (solana program set-upgrade-authority %s --new-upgrade-authority %s --skip-new-upgrade-authority-signer-check)",
			keyOrNone(pd.UpgradeAuthority), authority, program, authority)
	}
	buf, err := e.chain.GetBuffer(ctx, buffer)
	if err != nil {
		return nil, atField("--buffer", err)
	}
	if buf.Authority == nil || !buf.Authority.Equals(authority) {
		return nil, inputError("buffer_authority_mismatch", "--buffer",
			"its authority is %s, not the multisig's authority PDA %s (solana program set-buffer-authority %s --new-buffer-authority %s)",
			keyOrNone(buf.Authority), authority, buffer, authority)
	}
	hash := buf.Hash()
	if want != nil && *want != hash {
		return nil, inputError("hash_mismatch", "--hash", "the buffer's ELF hashes to %x, not %x: nothing was signed or sent", hash, *want)
	}

	signed, err := member.Propose(ctx, e.chain, multisig, proposer, program, buffer, hash, *description, onchain)
	if err != nil {
		return nil, err
	}
	res := Proposed{
		Proposal: signed.Proposal.String(), Multisig: multisig.String(), Index: ms.ProposalIndex + 1,
		Program: program.String(), Buffer: buffer.String(), BufferHash: hex.EncodeToString(hash[:]),
	}
	sub, err := e.submitProposal(ctx, "propose", signed, apiclient.CreateProposalRequest{Description: description, Migration: plan}, *wait)
	if err != nil {
		return nil, err
	}
	res.Signature, res.Via, res.WorkflowID, res.OnChain = sub.signature, sub.via, sub.workflowID, sub.onChain
	return res, nil
}

// submitted is how a signed propose transaction went out.
type submitted struct {
	signature, via, workflowID string
	onChain                    bool
}

// submitProposal sends a member-signed propose transaction: straight to RPC without an API,
// else through POST /proposals (req's other fields), waiting up to wait for the workflow to
// land it on chain.
func (e *env) submitProposal(ctx context.Context, cmd string, signed member.Signed, req apiclient.CreateProposalRequest, wait time.Duration) (submitted, error) {
	if e.api == nil {
		sig, err := e.chain.SendSigned(ctx, signed.Tx)
		if err != nil {
			return submitted{}, fmt.Errorf("%s: %w", cmd, err)
		}
		return submitted{signature: sig.String(), via: "rpc", onChain: true}, nil
	}
	b64, err := signed.Base64()
	if err != nil {
		return submitted{}, err
	}
	req.Transaction = b64
	out, err := e.api.CreateProposal(ctx, req)
	if err != nil {
		return submitted{}, fmt.Errorf("%s: %w", cmd, err)
	}
	sub := submitted{signature: out.Signature, via: "api", workflowID: out.WorkflowID}
	if wait > 0 {
		if sub.onChain, err = waitProposed(ctx, e.api, out.Proposal, wait); err != nil {
			return submitted{}, err
		}
	}
	return sub, nil
}

// parseHash reads a solana-verify hash: 64 hex digits.
func parseHash(v string) ([32]byte, error) {
	var h [32]byte
	raw, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(v), "0x"))
	if err != nil || len(raw) != len(h) {
		return h, usageError("--hash", "want the 64 hex digits of a solana-verify hash, got %q", v)
	}
	copy(h[:], raw)
	return h, nil
}

// migrationFlags turns the --migration-* flags into the plan the proposal signs: what the
// governed program's migrate instruction receives and which accounts the migration walks. The
// API's copy of it must say the same.
func migrationFlags(e *env, set map[string]bool, version int, data string, from int, size, offset int64) (*governor.MigrationPlan, *apiclient.MigrationPlan, error) {
	if !set["migration-version"] {
		for _, f := range []string{"migration-data", "migration-from", "migration-size", "migration-offset"} {
			if set[f] {
				return nil, nil, usageError("--migration-version", "required with --%s", f)
			}
		}
		return nil, nil, nil
	}
	if version < 1 || version > 255 {
		return nil, nil, usageError("--migration-version", "want 1 to 255, got %d", version)
	}
	ixData, err := hex.DecodeString(strings.TrimPrefix(data, "0x"))
	if err != nil {
		return nil, nil, usageError("--migration-data", "not hex: %q", data)
	}
	if len(ixData) > governor.MaxMigrationDataLen {
		return nil, nil, usageError("--migration-data", "%d bytes, at most %d", len(ixData), governor.MaxMigrationDataLen)
	}
	// Which accounts migrate is part of the signed plan: the worker migrates exactly those.
	if !set["migration-from"] {
		return nil, nil, usageError("--migration-from", "required with --migration-version (the plan selects accounts by their version byte)")
	}
	if from < 0 || from > 255 || from == version {
		return nil, nil, usageError("--migration-from", "want 0 to 255, other than --migration-version, got %d", from)
	}
	if size < 0 || size > maxAccountSize {
		return nil, nil, usageError("--migration-size", "want 0 (any size) to %d bytes, got %d", maxAccountSize, size)
	}
	if offset < 0 || offset >= maxAccountSize || (size > 0 && offset >= size) {
		return nil, nil, usageError("--migration-offset", "want an offset inside the accounts' data, got %d", offset)
	}
	onchain := &governor.MigrationPlan{TargetVersion: uint8(version), InstructionData: ixData,
		FromVersion: uint8(from), VersionOffset: uint32(offset), DataSize: uint64(size)}
	if e.api == nil {
		return onchain, nil, nil
	}
	return onchain, &apiclient.MigrationPlan{TargetVersion: &version, FromVersion: &from, DataSize: &size, VersionOffset: &offset}, nil
}

// waitProposed polls the API until the proposal's workflow has proposed on chain. It
// reports false when limit passed first, and an error when the workflow failed.
func waitProposed(ctx context.Context, api *apiclient.Client, proposal string, limit time.Duration) (bool, error) {
	deadline := time.Now().Add(limit)
	for {
		d, err := api.GetProposal(ctx, proposal)
		if err != nil && !apiclient.IsCode(err, "proposal_not_found") {
			return false, fmt.Errorf("propose: read proposal back: %w", err)
		}
		if err == nil {
			if d.Source == "chain" {
				return true, nil
			}
			if wf := d.Workflow; wf != nil {
				if wf.State != nil && wf.State.LastError != "" {
					return false, inputError("workflow_failed", "", "propose: the proposal's workflow %s: %s", wf.ID, wf.State.LastError)
				}
				if wf.Status != "running" {
					return false, inputError("workflow_failed", "", "propose: the proposal's workflow %s is %s before proposing on chain", wf.ID, wf.Status)
				}
			}
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func keyOrNone(k *solana.PublicKey) string {
	if k == nil {
		return "none (immutable)"
	}
	return k.String()
}

// proposalOf reads a proposal and its multisig, blaming the PROPOSAL argument.
func proposalOf(ctx context.Context, c *chain.Client, addr solana.PublicKey) (*governor.Proposal, *governor.Multisig, error) {
	p, err := c.GetProposal(ctx, addr)
	if errors.Is(err, chain.ErrAccountNotFound) {
		return nil, nil, inputError("proposal_not_found", "PROPOSAL",
			"proposal %s does not exist on chain (a proposal made through the API appears once its workflow proposed it: ugov show)", addr)
	}
	if err != nil {
		return nil, nil, atField("PROPOSAL", err)
	}
	ms, err := c.GetMultisig(ctx, p.Multisig)
	if err != nil {
		return nil, nil, fmt.Errorf("read multisig %s of proposal %s: %w", p.Multisig, addr, err)
	}
	return p, ms, nil
}
