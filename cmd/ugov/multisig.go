package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
)

func runMultisig(ctx context.Context, e *env, args []string) (result, error) {
	const usage = "multisig create|show|propose-change ..."
	if len(args) == 0 {
		return nil, usageError("", "missing subcommand (usage: ugov %s)", usage)
	}
	switch args[0] {
	case "create":
		return runMultisigCreate(ctx, e, args[1:])
	case "show":
		return runMultisigShow(ctx, e, args[1:])
	case "propose-change":
		return runMultisigProposeChange(ctx, e, args[1:])
	case "-h", "--help", "-help", "help":
		fmt.Fprintln(e.stdout, "usage: ugov multisig create --members K1,K2,... --threshold N --timelock 48h --guardian KEY [--proposal-lifetime 168h] [--grace 336h] [--max-pause 72h] [--pause-cooldown 168h]\n       ugov multisig show MULTISIG\n       ugov multisig propose-change --multisig M [--add-member K]... [--remove-member K]... [--threshold N] [--timelock D] [--proposal-lifetime D] [--grace D] [--guardian K] [--hand-off PROGRAM=AUTHORITY]... [--make-immutable PROGRAM]... [--description TEXT]")
		return nil, nil
	}
	return nil, &cliError{Code: "unknown_command", Field: "multisig " + args[0], usage: true,
		Message: "unknown subcommand (create, show or propose-change)"}
}

// MultisigCreated is what `multisig create` prints.
type MultisigCreated struct {
	Multisig string `json:"multisig"`
	// Authority is the PDA to hand governed programs' and buffers' upgrade authority to.
	Authority string `json:"authority"`
	// CreateKey is the one-time key that seeded the multisig address (discarded).
	CreateKey string `json:"create_key"`
	Signature string `json:"signature"`
}

func (r MultisigCreated) writeText(w io.Writer) {
	fmt.Fprintf(w, "multisig   %s\nauthority  %s\nsignature  %s\n", r.Multisig, r.Authority, r.Signature)
	fmt.Fprintf(w, "\nHand a program's upgrade authority to the authority PDA:\n  solana program set-upgrade-authority PROGRAM --new-upgrade-authority %s --skip-new-upgrade-authority-signer-check\n", r.Authority)
}

func runMultisigCreate(ctx context.Context, e *env, args []string) (result, error) {
	const usage = "multisig create --members K1,K2,... --threshold N --timelock 48h --guardian KEY [--proposal-lifetime 168h] [--grace 336h] [--max-pause 72h] [--pause-cooldown 168h]"
	fs := e.flagSet("multisig create")
	membersFlag := fs.String("members", "", "comma-separated member `addresses`")
	threshold := fs.Int("threshold", 0, "approvals needed to pass a proposal or resume")
	timelock := fs.Duration("timelock", 48*time.Hour, "wait between approval and execution (at least 1h)")
	guardian := fs.String("guardian", "", "guardian `address` (may cancel and pause)")
	lifetime := fs.Duration("proposal-lifetime", 7*24*time.Hour, "how long a proposal may collect approvals")
	grace := fs.Duration("grace", governor.DefaultGraceSeconds*time.Second, "how long after its eta an approved proposal may still execute, then it expires")
	maxPause := fs.Duration("max-pause", governor.DefaultMaxPauseSeconds*time.Second, "a pause held by fewer than threshold members lapses after this")
	cooldown := fs.Duration("pause-cooldown", governor.DefaultPauseCooldownSeconds*time.Second, "a key whose pause lapsed or was overruled cannot pause again for this long")
	if _, err := e.parseCommand(fs, usage, args); err != nil {
		return nil, err
	}
	if *membersFlag == "" {
		return nil, usageError("--members", "missing (required)")
	}
	var members []solana.PublicKey
	seen := map[solana.PublicKey]bool{}
	for i, s := range strings.Split(*membersFlag, ",") {
		k, err := parsePubkey("--members", strings.TrimSpace(s))
		if err != nil {
			return nil, usageError("--members", "member %d: not a public key (base58): %q", i+1, strings.TrimSpace(s))
		}
		if seen[k] {
			return nil, usageError("--members", "%s is listed twice", k)
		}
		seen[k] = true
		members = append(members, k)
	}
	if len(members) > governor.MaxMembers {
		return nil, usageError("--members", "%d members, at most %d", len(members), governor.MaxMembers)
	}
	if *threshold < 1 || *threshold > len(members) {
		return nil, usageError("--threshold", "want 1 to %d (the number of members), got %d", len(members), *threshold)
	}
	if *timelock < governor.MinTimelockSeconds*time.Second || *timelock > governor.MaxTimelockSeconds*time.Second || *timelock%time.Second != 0 {
		return nil, usageError("--timelock", "want whole seconds, from %s to %s, got %s",
			governor.MinTimelockSeconds*time.Second, governor.MaxTimelockSeconds*time.Second, *timelock)
	}
	if *lifetime < time.Second || *lifetime > governor.MaxProposalLifetimeSeconds*time.Second || *lifetime%time.Second != 0 {
		return nil, usageError("--proposal-lifetime", "want whole seconds, from 1s to %s, got %s",
			governor.MaxProposalLifetimeSeconds*time.Second, *lifetime)
	}
	if *maxPause < governor.MinMaxPauseSeconds*time.Second || *maxPause > governor.MaxMaxPauseSeconds*time.Second || *maxPause%time.Second != 0 {
		return nil, usageError("--max-pause", "want whole seconds, from %s to %s, got %s",
			governor.MinMaxPauseSeconds*time.Second, governor.MaxMaxPauseSeconds*time.Second, *maxPause)
	}
	if *cooldown < 0 || *cooldown > governor.MaxPauseCooldownSeconds*time.Second || *cooldown%time.Second != 0 {
		return nil, usageError("--pause-cooldown", "want whole seconds, from 0s to %s, got %s",
			governor.MaxPauseCooldownSeconds*time.Second, *cooldown)
	}
	if *grace < governor.MinGraceSeconds*time.Second || *grace > governor.MaxGraceSeconds*time.Second || *grace%time.Second != 0 {
		return nil, usageError("--grace", "want whole seconds, from %s to %s, got %s",
			governor.MinGraceSeconds*time.Second, governor.MaxGraceSeconds*time.Second, *grace)
	}
	guardianKey, err := parsePubkey("--guardian", *guardian)
	if err != nil {
		return nil, err
	}
	payer, err := e.loadKeypair("--keypair", e.g.keypair)
	if err != nil {
		return nil, err
	}

	createKey, err := chain.NewKeypair()
	if err != nil {
		return nil, err
	}
	ix := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), payer.PublicKey(), governor.InitializeMultisigArgs{
		Members: members, Threshold: uint8(*threshold), TimelockSeconds: int64(*timelock / time.Second),
		ProposalLifetimeSeconds: int64(*lifetime / time.Second), Guardian: guardianKey,
		GraceSeconds: int64(*grace / time.Second), MaxPauseSeconds: int64(*maxPause / time.Second),
		PauseCooldownSeconds: int64(*cooldown / time.Second),
	})
	tx, err := member.Sign(ctx, e.chain, []solana.Instruction{ix}, payer, createKey)
	if err != nil {
		return nil, fmt.Errorf("multisig create: %w", err)
	}
	sig, err := e.chain.SendSigned(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("multisig create: %w", err)
	}
	return MultisigCreated{Multisig: ix.Multisig.String(), Authority: ix.Authority.String(),
		CreateKey: createKey.PublicKey().String(), Signature: sig.String()}, nil
}

// MultisigView is what `multisig show` prints.
type MultisigView struct {
	Address                 string   `json:"address"`
	Authority               string   `json:"authority"`
	Members                 []string `json:"members"`
	Threshold               int      `json:"threshold"`
	TimelockSeconds         int64    `json:"timelock_seconds"`
	ProposalLifetimeSeconds int64    `json:"proposal_lifetime_seconds"`
	GraceSeconds            int64    `json:"grace_seconds"`
	MaxPauseSeconds         int64    `json:"max_pause_seconds"`
	PauseCooldownSeconds    int64    `json:"pause_cooldown_seconds"`
	// PauseExpiresAt is when the current pause lapses (null when not paused or held by the threshold).
	PauseExpiresAt *time.Time `json:"pause_expires_at"`
	Guardian       string     `json:"guardian"`
	Paused         bool       `json:"paused"`
	// ProposalIndex is the last proposal's index; the next proposal is ProposalIndex+1.
	ProposalIndex uint64 `json:"proposal_index"`
}

func (v MultisigView) writeText(w io.Writer) {
	fmt.Fprintf(w, "multisig    %s\nauthority   %s\nthreshold   %d of %d\n", v.Address, v.Authority, v.Threshold, len(v.Members))
	fmt.Fprintf(w, "timelock    %s\nlifetime    %s\ngrace       %s\nguardian    %s\npaused      %t\nproposals   %d\nmembers\n",
		time.Duration(v.TimelockSeconds)*time.Second, time.Duration(v.ProposalLifetimeSeconds)*time.Second,
		time.Duration(v.GraceSeconds)*time.Second, v.Guardian, v.Paused, v.ProposalIndex)
	for _, m := range v.Members {
		fmt.Fprintf(w, "  %s\n", m)
	}
}

func runMultisigShow(ctx context.Context, e *env, args []string) (result, error) {
	fs := e.flagSet("multisig show")
	pos, err := e.parseCommand(fs, "multisig show MULTISIG", args, "MULTISIG")
	if err != nil {
		return nil, err
	}
	addr, err := parsePubkey("MULTISIG", pos[0])
	if err != nil {
		return nil, err
	}
	ms, err := e.chain.GetMultisig(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("multisig show: %w", err)
	}
	return multisigView(addr, ms), nil
}

func multisigView(addr solana.PublicKey, ms *governor.Multisig) MultisigView {
	authority, _ := governor.FindAuthorityAddress(addr)
	v := MultisigView{
		Address: addr.String(), Authority: authority.String(), Members: keyStrings(ms.Members),
		Threshold: int(ms.Threshold), TimelockSeconds: ms.TimelockSeconds, ProposalLifetimeSeconds: ms.ProposalLifetimeSeconds,
		GraceSeconds: ms.GraceSeconds, MaxPauseSeconds: ms.MaxPauseSeconds, PauseCooldownSeconds: ms.PauseCooldownSeconds,
		Guardian: ms.Guardian.String(), Paused: ms.Paused, ProposalIndex: ms.ProposalIndex,
	}
	if ms.Paused && ms.PauseExpiresAt != 0 && ms.PauseExpiresAt != math.MaxInt64 {
		t := time.Unix(ms.PauseExpiresAt, 0).UTC()
		v.PauseExpiresAt = &t
	}
	return v
}

func keyStrings(ks []solana.PublicKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.String()
	}
	return out
}
