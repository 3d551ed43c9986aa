package governor

import (
	"crypto/sha256"
	"errors"
	"math"
	"reflect"
	"testing"
)

func sampleEvents() []Event {
	v2 := uint8(2)
	eta := int64(1_780_172_900)
	return []Event{
		&MultisigInitialized{Multisig: key("m"), Authority: key("a"), Members: keys("m", 5), Threshold: 3,
			TimelockSeconds: 172800, ProposalLifetimeSeconds: 604800, Guardian: key("g")},
		&UpgradeProposed{Multisig: key("m"), Proposal: key("p"), Index: 1, Proposer: key("x"), TargetProgram: key("t"),
			Buffer: key("b"), BufferHash: sha256.Sum256([]byte("elf")), TargetLastDeploySlot: 77, TargetProgramHash: sha256.Sum256([]byte("v1")), ExpiresAt: 5,
			MigrationTargetVersion: &v2},
		&UpgradeApproved{Multisig: key("m"), Proposal: key("p"), Member: key("x"), Approvals: 3, Threshold: 3, Eta: &eta},
		&UpgradeApproved{Multisig: key("m"), Proposal: key("p"), Member: key("y"), Approvals: 1, Threshold: 3},
		&UpgradeExecuted{Multisig: key("m"), Proposal: key("p"), Executor: key("e"), TargetProgram: key("t"),
			BufferHash: sha256.Sum256([]byte("elf")), ExecutedAt: 9},
		&UpgradeCancelled{Multisig: key("m"), Proposal: key("p"), CancelledBy: key("g"), ByGuardian: true, CancelledAt: 10},
		&AccountsMigrated{Multisig: key("m"), Proposal: key("p"), TargetProgram: key("t"), Accounts: keys("s", 4)},
		&SystemPaused{Multisig: key("m"), PausedBy: key("g"), At: 11, ExpiresAt: 11 + 72*3600},
		&SystemResumed{Multisig: key("m"), Signers: keys("m", 3), At: 12},
		&UpgradeCancelVoted{Multisig: key("m"), Proposal: key("p"), Member: key("x"), Votes: 1, Threshold: 3},
		&PauseExtendVoted{Multisig: key("m"), Member: key("x"), Votes: 3, Threshold: 3, ExpiresAt: math.MaxInt64},
		&ResumeVoted{Multisig: key("m"), Member: key("y"), Votes: 2, Threshold: 3},
		&ConfigProposed{Multisig: key("m"), Proposal: key("p"), Index: 4, Proposer: key("x"),
			Actions: []ConfigAction{AddMember(key("n")), SetProgramAuthority(key("t"), nil)}, ExpiresAt: 13},
		&ConfigActionExecuted{Multisig: key("m"), Proposal: key("p"), Action: RemoveMember(key("y"))},
		&ConfigExecuted{Multisig: key("m"), Proposal: key("p"), Executor: key("e"), Members: keys("m", 4), Threshold: 2,
			TimelockSeconds: 7200, ProposalLifetimeSeconds: 604800, GraceSeconds: 3600, Guardian: key("g2"), StaleProposalIndex: 4, ExecutedAt: 14},
	}
}

func TestEveryEventRoundTrips(t *testing.T) {
	seen := map[string]bool{}
	for _, ev := range sampleEvents() {
		seen[ev.EventName()] = true
		data, err := EncodeEvent(ev)
		if err != nil {
			t.Fatalf("%s: %v", ev.EventName(), err)
		}
		if !IsEventInstruction(data) {
			t.Fatalf("%s: data does not start with EVENT_IX_TAG", ev.EventName())
		}
		got, err := DecodeEvent(data)
		if err != nil {
			t.Fatalf("%s: %v", ev.EventName(), err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Fatalf("decoded %#v\nwant    %#v", got, ev)
		}
	}
	if len(seen) != len(eventTypes) {
		t.Fatalf("samples cover %d of %d events", len(seen), len(eventTypes))
	}
}

func TestSystemPausedEventBytes(t *testing.T) {
	// emit_cpi! data: EVENT_IX_TAG, sha256("event:SystemPaused")[:8], Borsh fields.
	ev := &SystemPaused{Multisig: key("m"), PausedBy: key("g"), At: 0x0102}
	data, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("event:SystemPaused"))
	want := append([]byte{0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d}, sum[:8]...)
	m, g := key("m"), key("g")
	want = append(append(append(want, m[:]...), g[:]...), 0x02, 0x01, 0, 0, 0, 0, 0, 0)
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 0) // expires_at
	if string(data) != string(want) {
		t.Fatalf("got  %x\nwant %x", data, want)
	}
}

func TestDecodeEventRefusesOtherData(t *testing.T) {
	if _, err := DecodeEvent(InstructionDiscriminator("approve_upgrade").bytes()); !errors.Is(err, ErrNotAnEvent) {
		t.Errorf("instruction data: %v", err)
	}
	unknown := append(EventIxTag[:], 1, 2, 3, 4, 5, 6, 7, 8)
	if _, err := DecodeEvent(unknown); !errors.Is(err, ErrUnknownEvent) {
		t.Errorf("unknown discriminator: %v", err)
	}
	data, _ := EncodeEvent(&SystemPaused{})
	if _, err := DecodeEvent(data[:len(data)-1]); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated: %v", err)
	}
	if _, err := DecodeEvent(append(data, 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
}

func (d Discriminator) bytes() []byte { return d[:] }
