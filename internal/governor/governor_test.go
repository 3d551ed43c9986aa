package governor

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
)

// key returns a deterministic test key named by s.
func key(s string) solana.PublicKey {
	sum := sha256.Sum256([]byte("test-key:" + s))
	return solana.PublicKeyFromBytes(sum[:])
}

func keys(prefix string, n int) []solana.PublicKey {
	out := make([]solana.PublicKey, n)
	for i := range out {
		out[i] = key(prefix + string(rune('a'+i)))
	}
	return out
}

// sampleInstructions returns one instance of every instruction, with every argument set to
// something other than its zero value.
func sampleInstructions() []Instruction {
	multisig, _ := FindMultisigAddress(key("create"))
	proposal, _ := FindProposalAddress(multisig, 7)
	return []Instruction{
		NewInitializeMultisigInstruction(key("create"), key("payer"), InitializeMultisigArgs{
			Members:                 keys("member", 5),
			Threshold:               3,
			TimelockSeconds:         48 * 3600,
			ProposalLifetimeSeconds: 7 * 24 * 3600,
			Guardian:                key("guardian"),
			GraceSeconds:            DefaultGraceSeconds,
		}),
		NewProposeUpgradeInstruction(multisig, 7, key("proposer"), key("payer"), key("target"), key("buffer"), ProposeUpgradeArgs{
			BufferHash:  sha256.Sum256([]byte("elf")),
			Description: "upgrade the counter to v2 ✓",
			Migration:   &MigrationPlan{TargetVersion: 2, InstructionData: []byte{2}},
		}),
		NewProposeUpgradeInstruction(multisig, 8, key("proposer"), key("payer"), key("target"), key("buffer"), ProposeUpgradeArgs{
			BufferHash:  sha256.Sum256([]byte("elf2")),
			Description: "no migration",
		}),
		NewApproveUpgradeInstruction(multisig, proposal, key("member")),
		NewExecuteUpgradeInstruction(multisig, proposal, key("executor"), key("target"), key("buffer"), key("proposer")),
		NewCancelUpgradeInstruction(multisig, proposal, key("guardian")),
		NewMigrateAccountInstruction(multisig, proposal, key("target"), key("cranker"), keys("state", 4)),
		NewPauseSystemInstruction(multisig, key("guardian")),
		NewResumeSystemInstruction(multisig, key("member")),
		NewProposeConfigInstruction(multisig, 9, key("proposer"), key("payer"), ProposeConfigArgs{
			Actions:     []ConfigAction{AddMember(key("new")), RemoveMember(key("lost")), SetThreshold(3), SetTimelock(7200)},
			Description: "rotate a lost key",
		}),
		NewExecuteConfigInstructionFor(&Proposal{Multisig: multisig, Index: 9, Actions: []ConfigAction{
			SetGuardian(key("guardian2")), SetProgramAuthority(key("target"), ptr(key("next"))), SetProgramAuthority(key("frozen"), nil),
		}}, key("executor")),
	}
}

func ptr[T any](v T) *T { return &v }

func TestEveryInstructionRoundTrips(t *testing.T) {
	seen := map[string]bool{}
	for _, ix := range sampleInstructions() {
		t.Run(ix.Name(), func(t *testing.T) {
			seen[ix.Name()] = true
			if err := ix.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			data, err := ix.Data()
			if err != nil {
				t.Fatalf("Data: %v", err)
			}
			got, err := DecodeInstruction(ix.ProgramID(), ix.Accounts(), data)
			if err != nil {
				t.Fatalf("DecodeInstruction: %v", err)
			}
			if !reflect.DeepEqual(got, ix) {
				t.Fatalf("decoded %#v\nwant    %#v", got, ix)
			}
			if !sameInstruction(got, ix) {
				t.Fatal("re-encoded instruction differs")
			}
		})
	}
	if len(seen) != len(instructionTypes) {
		t.Fatalf("samples cover %d of %d instructions", len(seen), len(instructionTypes))
	}
}

func TestDiscriminatorsAreSha256OfAnchorNames(t *testing.T) {
	want := func(s string) [8]byte {
		sum := sha256.Sum256([]byte(s))
		var d [8]byte
		copy(d[:], sum[:8])
		return d
	}
	names := []string{"initialize_multisig", "propose_upgrade", "approve_upgrade", "execute_upgrade",
		"cancel_upgrade", "migrate_account", "pause_system", "resume_system", "propose_config", "execute_config"}
	for i, newIx := range instructionTypes {
		ix := newIx()
		if ix.Name() != names[i] {
			t.Errorf("instruction %d is %q, want %q", i, ix.Name(), names[i])
		}
		data, err := ix.Data()
		if err != nil {
			t.Fatal(err)
		}
		if [8]byte(data[:8]) != want("global:"+names[i]) {
			t.Errorf("%s: discriminator %x, want sha256(global:%s)[:8]", names[i], data[:8], names[i])
		}
	}
	if [8]byte(MultisigDiscriminator) != want("account:Multisig") || [8]byte(ProposalDiscriminator) != want("account:Proposal") {
		t.Error("account discriminators are not sha256(account:<Name>)[:8]")
	}
	for _, newEv := range eventTypes {
		name := newEv().EventName()
		if [8]byte(EventDiscriminator(name)) != want("event:"+name) {
			t.Errorf("%s: event discriminator is not sha256(event:%s)[:8]", name, name)
		}
	}
	// anchor_lang::event::EVENT_IX_TAG is the u64 0x1d9acb512ea545e4, written little-endian.
	if EventIxTag != [8]byte{0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d} {
		t.Errorf("EventIxTag %x", EventIxTag)
	}
}

func TestArgsEncodeAsBorsh(t *testing.T) {
	// Hand-assembled bytes for propose_upgrade, field by field.
	hash := [32]byte{1, 2, 3}
	ix := NewProposeUpgradeInstruction(key("m"), 1, key("p"), key("p"), key("t"), key("b"), ProposeUpgradeArgs{
		BufferHash:  hash,
		Description: "hi",
		Migration:   &MigrationPlan{TargetVersion: 2, InstructionData: []byte{9, 8}, FromVersion: 1, VersionOffset: 3, DataSize: 64},
	})
	disc := InstructionDiscriminator("propose_upgrade")
	want := append([]byte{}, disc[:]...)
	want = append(want, hash[:]...)
	want = append(want, 2, 0, 0, 0, 'h', 'i')    // String: u32 length + UTF-8
	want = append(want, 1)                       // Option: Some
	want = append(want, 2)                       // target_version u8
	want = append(want, 2, 0, 0, 0, 9, 8)        // Vec<u8>: u32 length + bytes
	want = append(want, 1)                       // from_version u8
	want = append(want, 3, 0, 0, 0)              // version_offset u32
	want = append(want, 64, 0, 0, 0, 0, 0, 0, 0) // data_size u64
	got, err := ix.Data()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("propose_upgrade data\n got %x\nwant %x", got, want)
	}

	ix.Args.Migration = nil
	got, _ = ix.Data()
	if len(got) != 8+32+6+1 || got[len(got)-1] != 0 {
		t.Fatalf("None migration: %x", got)
	}

	init := NewInitializeMultisigInstruction(key("c"), key("p"), InitializeMultisigArgs{
		Members: keys("m", 2), Threshold: 2, TimelockSeconds: 3600, ProposalLifetimeSeconds: -1, Guardian: key("g"),
		GraceSeconds: 7200, MaxPauseSeconds: 3600, PauseCooldownSeconds: 0,
	})
	got, _ = init.Data()
	body := got[8:]
	if len(body) != 4+64+1+8+8+32+8+8+8 || body[0] != 2 || body[68] != 2 {
		t.Fatalf("initialize_multisig args %x", body)
	}
	if string(body[len(body)-24:len(body)-16]) != string([]byte{0x20, 0x1c, 0, 0, 0, 0, 0, 0}) {
		t.Fatalf("grace 7200 as i64 LE: %x", body[len(body)-24:len(body)-16])
	}
	if string(body[69:77]) != string([]byte{0x10, 0x0e, 0, 0, 0, 0, 0, 0}) {
		t.Fatalf("timelock 3600 as i64 LE: %x", body[69:77])
	}
	if string(body[77:85]) != string([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) {
		t.Fatalf("-1 as i64 LE: %x", body[77:85])
	}
}

func TestValidateNamesTheMissingAccount(t *testing.T) {
	multisig, _ := FindMultisigAddress(key("create"))
	cases := []struct {
		ix   Instruction
		want string
	}{
		{NewApproveUpgradeInstruction(multisig, key("proposal"), solana.PublicKey{}), "account member is not set"},
		{NewApproveUpgradeInstruction(multisig, solana.PublicKey{}, key("m")), "account proposal is not set"},
		{NewExecuteUpgradeInstruction(multisig, key("p"), key("e"), key("t"), key("b"), solana.PublicKey{}), "account spill is not set"},
		{NewCancelUpgradeInstruction(solana.PublicKey{}, key("p"), key("c")), "account multisig is not set"},
		{NewMigrateAccountInstruction(multisig, key("p"), key("t"), key("c"), nil), "0 accounts, want 1 to 32"},
		{NewMigrateAccountInstruction(multisig, key("p"), key("t"), key("c"), keys("s", 33)), "33 accounts, want 1 to 32"},
		{NewMigrateAccountInstruction(multisig, key("p"), key("t"), key("c"), []solana.PublicKey{key("a"), {}}), "accounts[1] is not set"},
		{NewResumeSystemInstruction(multisig, solana.PublicKey{}), "account member is not set"},
		{NewPauseSystemInstruction(multisig, solana.PublicKey{}), "account pauser is not set"},
		{NewInitializeMultisigInstruction(key("c"), solana.PublicKey{}, InitializeMultisigArgs{Members: keys("m", 1), GraceSeconds: DefaultGraceSeconds}), "account payer is not set"},
	}
	for _, c := range cases {
		err := c.ix.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.ix.Name()) {
			t.Errorf("%s: Validate() = %v, want an error naming %q", c.ix.Name(), err, c.want)
		}
	}
}

func TestDecodeInstructionRejectsWhatTheServerMustNotAccept(t *testing.T) {
	multisig, _ := FindMultisigAddress(key("create"))
	approve := NewApproveUpgradeInstruction(multisig, key("proposal"), key("member"))
	data, _ := approve.Data()

	metas := func() []*solana.AccountMeta { return approve.Accounts() }
	cases := []struct {
		name    string
		program solana.PublicKey
		metas   []*solana.AccountMeta
		data    []byte
		want    error
		detail  string
	}{
		{"other program", solana.SystemProgramID, metas(), data, ErrNotGovernorProgram, ""},
		{"unknown discriminator", ProgramID, metas(), []byte{1, 2, 3, 4, 5, 6, 7, 8}, ErrUnknownInstruction, ""},
		{"short data", ProgramID, metas(), data[:5], ErrMalformed, "no discriminator"},
		{"trailing data", ProgramID, metas(), append(append([]byte{}, data...), 0), ErrMalformed, "takes no arguments"},
		{"member did not sign", ProgramID, func() []*solana.AccountMeta { m := metas(); m[2].IsSigner = false; return m }(), data, ErrMalformed, "member must sign"},
		{"proposal read-only", ProgramID, func() []*solana.AccountMeta { m := metas(); m[1].IsWritable = false; return m }(), data, ErrMalformed, "proposal must be writable"},
		{"wrong event authority", ProgramID, func() []*solana.AccountMeta { m := metas(); m[3].PublicKey = key("x"); return m }(), data, ErrMalformed, "event_authority"},
		{"missing accounts", ProgramID, metas()[:4], data, ErrMalformed, "needs 5"},
		{"extra account", ProgramID, append(metas(), solana.Meta(key("x"))), data, ErrMalformed, "takes 5 accounts, got 6"},
	}
	for _, c := range cases {
		_, err := DecodeInstruction(c.program, c.metas, c.data)
		if !errors.Is(err, c.want) || !strings.Contains(fmt.Sprint(err), c.detail) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.want, c.detail)
		}
	}

	// A propose_upgrade whose args are cut short.
	propose := sampleInstructions()[1]
	pdata, _ := propose.Data()
	if _, err := DecodeInstruction(ProgramID, propose.Accounts(), pdata[:len(pdata)-1]); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated args: err = %v", err)
	}
	// The resume voter must sign: an unsigned vote counts for nothing on-chain.
	resume := NewResumeSystemInstruction(multisig, key("m"))
	rdata, _ := resume.Data()
	rm := resume.Accounts()
	rm[1].IsSigner = false
	if _, err := DecodeInstruction(ProgramID, rm, rdata); err == nil || !strings.Contains(err.Error(), "member must sign") {
		t.Errorf("unsigned resume vote: err = %v", err)
	}
}

func TestDecodeTransactionFindsGovernorInstructions(t *testing.T) {
	multisig, _ := FindMultisigAddress(key("create"))
	proposal, _ := FindProposalAddress(multisig, 1)
	member := solana.NewWallet().PrivateKey
	approve := NewApproveUpgradeInstruction(multisig, proposal, member.PublicKey())
	tx, err := solana.NewTransaction([]solana.Instruction{
		computebudget.NewSetComputeUnitPriceInstruction(1).Build(),
		approve,
	}, solana.Hash{1}, solana.TransactionPayer(member.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	// Through the wire format, as the API server receives it.
	raw, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := solana.TransactionFromBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeTransaction(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Index != 1 {
		t.Fatalf("got %+v, want one governor instruction at index 1", got)
	}
	a, ok := got[0].Instruction.(*ApproveUpgrade)
	if !ok || *a != *approve {
		t.Fatalf("decoded %#v, want %#v", got[0].Instruction, approve)
	}
}

// sameInstruction reports whether two instructions have the same program, accounts (with
// flags) and data; tests use it for round trips.
func sameInstruction(a, b solana.Instruction) bool {
	if !a.ProgramID().Equals(b.ProgramID()) {
		return false
	}
	am, bm := a.Accounts(), b.Accounts()
	if len(am) != len(bm) {
		return false
	}
	for i := range am {
		if *am[i] != *bm[i] {
			return false
		}
	}
	ad, errA := a.Data()
	bd, errB := b.Data()
	return errA == nil && errB == nil && bytes.Equal(ad, bd)
}

// encodeAccount is the inverse of decodeAccount without the padding.
func encodeAccount(d Discriminator, v any) ([]byte, error) {
	return borshMarshal(append([]byte{}, d[:]...), v)
}

// Governed code receives the program's migration signer [migration, program], read-only and
// signed by the governor through CPI; the multisig's authority PDA, the upgrade authority of
// every program and buffer it governs, is not an account of migrate_account at all.
func TestMigrateAccountPassesTheMigrationSignerNotTheAuthorityPDA(t *testing.T) {
	multisig, _ := FindMultisigAddress(key("create"))
	target := key("target")
	ix := NewMigrateAccountInstruction(multisig, key("p"), target, key("cranker"), keys("state", 2))
	signer, _ := FindMigrationSignerAddress(target)
	if want, _, _ := solana.FindProgramAddress([][]byte{[]byte("migration"), target[:]}, ProgramID); !signer.Equals(want) {
		t.Fatalf("migration signer %s, want the PDA [migration, program] %s", signer, want)
	}
	authority, _ := FindAuthorityAddress(multisig)
	metas := ix.Accounts()
	if got := metas[3]; !got.PublicKey.Equals(signer) || got.IsSigner || got.IsWritable {
		t.Errorf("account 3 = %+v, want the migration signer %s, read-only, not a transaction signer", got, signer)
	}
	for i, m := range metas {
		if m.PublicKey.Equals(authority) {
			t.Errorf("account %d is the authority PDA", i)
		}
	}
	if other, _ := FindMigrationSignerAddress(key("sibling")); other.Equals(signer) {
		t.Error("two programs share a migration signer")
	}
}
