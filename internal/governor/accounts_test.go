package governor

import (
	"crypto/sha256"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func sampleProposal() *Proposal {
	multisig, _ := FindMultisigAddress(key("create"))
	return &Proposal{
		Multisig:             multisig,
		Index:                3,
		Proposer:             key("proposer"),
		TargetProgram:        key("target"),
		ProgramData:          key("pd"),
		Buffer:               key("buffer"),
		BufferHash:           sha256.Sum256([]byte("elf")),
		TargetLastDeploySlot: 42,
		TargetProgramHash:    sha256.Sum256([]byte("v1")),
		Description:          "v2",
		Migration:            &MigrationPlan{TargetVersion: 2, InstructionData: []byte{2}, FromVersion: 1, VersionOffset: 8, DataSize: 64},
		Approvals:            keys("member", 3),
		Status:               ProposalApproved,
		CreatedAt:            1_780_000_000,
		ExpiresAt:            1_780_604_800,
		ApprovedAt:           1_780_000_100,
		Eta:                  1_780_172_900,
		CancelledBy:          key("nobody"),
		Bump:                 254,
		CancelVotes:          keys("voter", 1),
		Actions:              []ConfigAction{},
	}
}

// padded returns the account as the chain holds it: allocated at its maximum size.
func padded(t *testing.T, d Discriminator, v any, size int) []byte {
	t.Helper()
	data, err := encodeAccount(d, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > size {
		t.Fatalf("encoded %d bytes, more than the account size %d", len(data), size)
	}
	return append(data, make([]byte, size-len(data))...)
}

func TestAccountsRoundTripFromPaddedData(t *testing.T) {
	m := &Multisig{
		CreateKey: key("create"), Members: keys("member", 5), Threshold: 3, TimelockSeconds: 172800,
		ProposalLifetimeSeconds: 604800, Guardian: key("guardian"), Paused: true, ProposalIndex: 9,
		Bump: 255, AuthorityBump: 253, GraceSeconds: 1209600, MaxPauseSeconds: 259200, PauseCooldownSeconds: 604800,
		PausedAt: 100, PauseExpiresAt: 259300, PausedBy: key("membera"), PauseVotes: keys("member", 1),
		ResumeVotes: keys("member", 2), PauseCooldowns: []PauseCooldown{{Key: key("guardian"), Until: 7}},
	}
	gotM, err := DecodeMultisig(padded(t, MultisigDiscriminator, m, MultisigAccountSize))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotM, m) {
		t.Fatalf("multisig %+v, want %+v", gotM, m)
	}
	if !gotM.IsMember(key("membera")) || gotM.IsMember(key("guardian")) {
		t.Fatal("IsMember")
	}

	p := sampleProposal()
	gotP, err := DecodeProposal(padded(t, ProposalDiscriminator, p, ProposalAccountSize))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotP, p) {
		t.Fatalf("proposal %+v, want %+v", gotP, p)
	}
}

// The account sizes are 8 + INIT_SPACE; an account with every bounded field at its bound
// fills the space exactly.
func TestAccountSizesMatchTheProgramsSpace(t *testing.T) {
	m := &Multisig{Members: keys("m", MaxMembers), PauseVotes: keys("p", MaxMembers), ResumeVotes: keys("r", MaxMembers),
		PauseCooldowns: make([]PauseCooldown, MaxMembers+1)}
	data, _ := encodeAccount(MultisigDiscriminator, m)
	if len(data) != MultisigAccountSize || MultisigAccountSize != 2412 {
		t.Errorf("full Multisig encodes to %d bytes; size constant %d; want 2412", len(data), MultisigAccountSize)
	}
	p := sampleProposal()
	p.Description = strings.Repeat("d", MaxDescriptionLen)
	p.Migration.InstructionData = make([]byte, MaxMigrationDataLen)
	p.Approvals = keys("m", MaxMembers)
	p.CancelVotes = keys("c", MaxMembers)
	nk := key("new-authority")
	p.Actions = make([]ConfigAction, MaxConfigActions)
	for i := range p.Actions {
		p.Actions[i] = ConfigAction{Kind: ConfigSetProgramAuthority, Key: nk, NewAuthority: &nk}
	}
	data, _ = encodeAccount(ProposalDiscriminator, p)
	if len(data) != ProposalAccountSize || ProposalAccountSize != 2310 {
		t.Errorf("full Proposal encodes to %d bytes; size constant %d; want 2310", len(data), ProposalAccountSize)
	}
	if off := ProposalMultisigOffset; string(data[off:off+32]) != string(p.Multisig[:]) {
		t.Error("Proposal.Multisig is not at ProposalMultisigOffset")
	}
}

func TestAccountDecodersRefuseOtherData(t *testing.T) {
	p := padded(t, ProposalDiscriminator, sampleProposal(), ProposalAccountSize)
	if _, err := DecodeMultisig(p); !errors.Is(err, ErrWrongAccount) {
		t.Errorf("proposal as multisig: %v", err)
	}
	if _, err := DecodeProposal(p[:100]); err == nil {
		t.Error("truncated proposal decoded")
	}
	bad := sampleProposal()
	bad.Status = 4
	if _, err := DecodeProposal(padded(t, ProposalDiscriminator, bad, ProposalAccountSize)); err == nil || !strings.Contains(err.Error(), "ProposalStatus") {
		t.Errorf("status 4 decoded: %v", err)
	}
}

func TestProposalStatusNames(t *testing.T) {
	for s, want := range map[ProposalStatus]string{
		ProposalActive: "Active", ProposalApproved: "Approved", ProposalExecuted: "Executed",
		ProposalCancelled: "Cancelled", 9: "ProposalStatus(9)",
	} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", uint8(s), s.String(), want)
		}
		if back, err := ParseProposalStatus(want); s.Valid() && (err != nil || back != s) {
			t.Errorf("ParseProposalStatus(%q) = %v, %v", want, back, err)
		}
	}
}
