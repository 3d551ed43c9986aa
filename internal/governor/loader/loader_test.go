package loader

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
)

func key(s string) solana.PublicKey {
	sum := sha256.Sum256([]byte("test-key:" + s))
	return solana.PublicKeyFromBytes(sum[:])
}

func data(t *testing.T, ix Instruction) []byte {
	t.Helper()
	if err := ix.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	d, err := ix.Data()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func le32(v uint32) []byte       { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte       { return binary.LittleEndian.AppendUint64(nil, v) }
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Bincode layouts of UpgradeableLoaderInstruction, written out by hand.
func TestInstructionsEncodeAsBincode(t *testing.T) {
	cases := []struct {
		name string
		ix   Instruction
		want []byte
	}{
		{"InitializeBuffer", NewInitializeBufferInstruction(key("b"), key("a")), le32(0)},
		{"Write", NewWriteInstruction(key("b"), key("a"), 900, []byte{7, 8, 9}), cat(le32(1), le32(900), le64(3), []byte{7, 8, 9})},
		{"DeployWithMaxDataLen", NewDeployWithMaxDataLenInstruction(key("p"), key("prog"), key("b"), key("a"), 5000), cat(le32(2), le64(5000))},
		{"SetAuthority", NewSetBufferAuthorityInstruction(key("b"), key("a"), key("n")), le32(4)},
		{"ExtendProgram", NewExtendProgramInstruction(key("prog"), key("p"), 10240), cat(le32(6), le32(10240))},
	}
	for _, c := range cases {
		if got := data(t, c.ix); !bytes.Equal(got, c.want) {
			t.Errorf("%s: data %x, want %x", c.name, got, c.want)
		}
		if !c.ix.ProgramID().Equals(solana.BPFLoaderUpgradeableProgramID) {
			t.Errorf("%s: program %s", c.name, c.ix.ProgramID())
		}
	}
}

func TestAccountOrderFollowsTheLoader(t *testing.T) {
	type m = solana.AccountMeta
	prog := key("prog")
	pd := FindProgramDataAddress(prog)
	check := func(name string, got []*solana.AccountMeta, want []m) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d accounts, want %d", name, len(got), len(want))
		}
		for i := range want {
			if *got[i] != want[i] {
				t.Errorf("%s account %d: %+v, want %+v", name, i, *got[i], want[i])
			}
		}
	}
	check("Deploy", NewDeployWithMaxDataLenInstruction(key("payer"), prog, key("buf"), key("auth"), 1).Accounts(), []m{
		{PublicKey: key("payer"), IsWritable: true, IsSigner: true},
		{PublicKey: pd, IsWritable: true},
		{PublicKey: prog, IsWritable: true},
		{PublicKey: key("buf"), IsWritable: true},
		{PublicKey: solana.SysVarRentPubkey},
		{PublicKey: solana.SysVarClockPubkey},
		{PublicKey: solana.SystemProgramID},
		{PublicKey: key("auth"), IsSigner: true},
	})
	check("Extend", NewExtendProgramInstruction(prog, key("payer"), 1).Accounts(), []m{
		{PublicKey: pd, IsWritable: true},
		{PublicKey: prog, IsWritable: true},
		{PublicKey: solana.SystemProgramID},
		{PublicKey: key("payer"), IsWritable: true, IsSigner: true},
	})
	check("SetProgramAuthority", NewSetProgramAuthorityInstruction(prog, key("old"), key("new")).Accounts(), []m{
		{PublicKey: pd, IsWritable: true},
		{PublicKey: key("old"), IsSigner: true},
		{PublicKey: key("new")},
	})
	check("Write", NewWriteInstruction(key("buf"), key("auth"), 0, []byte{1}).Accounts(), []m{
		{PublicKey: key("buf"), IsWritable: true},
		{PublicKey: key("auth"), IsSigner: true},
	})
	check("InitializeBuffer", NewInitializeBufferInstruction(key("buf"), key("auth")).Accounts(), []m{
		{PublicKey: key("buf"), IsWritable: true},
		{PublicKey: key("auth")},
	})
}

func TestValidateNamesTheMissingAccount(t *testing.T) {
	err := NewWriteInstruction(key("b"), solana.PublicKey{}, 0, []byte{1}).Validate()
	if err == nil || !strings.Contains(err.Error(), "account authority is not set") {
		t.Errorf("Write without authority: %v", err)
	}
	err = NewExtendProgramInstruction(key("p"), solana.PublicKey{}, 1).Validate()
	if err == nil || !strings.Contains(err.Error(), "account payer is not set") {
		t.Errorf("Extend without payer: %v", err)
	}
	if err := NewExtendProgramInstruction(key("p"), key("x"), 0).Validate(); err == nil {
		t.Error("Extend by 0 bytes validated")
	}
}

func TestWriteChunksCoverTheELFAndFitATransaction(t *testing.T) {
	elf := make([]byte, 4240)
	for i := range elf {
		elf[i] = byte(i*7 + 1)
	}
	payer, authority, buffer := solana.NewWallet().PrivateKey, solana.NewWallet().PrivateKey, key("buf")
	writes := NewWriteInstructions(buffer, authority.PublicKey(), elf, 0)
	var rebuilt []byte
	for _, w := range writes {
		if int(w.Offset) != len(rebuilt) {
			t.Fatalf("offset %d after %d bytes", w.Offset, len(rebuilt))
		}
		rebuilt = append(rebuilt, w.Bytes...)
		tx, err := solana.NewTransaction([]solana.Instruction{w}, solana.Hash{}, solana.TransactionPayer(payer.PublicKey()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Sign(func(k solana.PublicKey) *solana.PrivateKey {
			for _, s := range []solana.PrivateKey{payer, authority} {
				if s.PublicKey().Equals(k) {
					return &s
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		raw, err := tx.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > 1232 {
			t.Fatalf("Write of %d bytes makes a %d-byte transaction", len(w.Bytes), len(raw))
		}
	}
	if !bytes.Equal(rebuilt, elf) || len(writes) != 5 {
		t.Fatalf("%d writes rebuild %d bytes", len(writes), len(rebuilt))
	}
}

func TestParseAccounts(t *testing.T) {
	auth := key("auth")
	elf := []byte{0x7f, 'E', 'L', 'F', 0, 1}
	buf := cat(le32(1), []byte{1}, auth[:], elf, make([]byte, 10))
	b, err := ParseBuffer(buf)
	if err != nil || b.Authority == nil || *b.Authority != auth || !bytes.Equal(TrimTrailingZeros(b.ELF), elf) {
		t.Fatalf("ParseBuffer: %+v, %v", b, err)
	}
	if b.Hash() != sha256.Sum256(elf) {
		t.Fatal("buffer hash is not sha256 of the trimmed ELF")
	}

	pd := cat(le32(3), le64(1234), []byte{0}, make([]byte, 32), elf, make([]byte, 100))
	p, err := ParseProgramData(pd)
	if err != nil || p.Slot != 1234 || p.UpgradeAuthority != nil || len(p.ELF) != len(elf)+100 {
		t.Fatalf("ParseProgramData: %+v, %v", p, err)
	}
	if p.Hash() != b.Hash() {
		t.Fatal("one ELF, two hashes")
	}

	prog := cat(le32(2), pd[:32])
	got, err := ParseProgram(prog)
	if err != nil || !bytes.Equal(got[:], pd[:32]) {
		t.Fatalf("ParseProgram: %v, %v", got, err)
	}

	if _, err := ParseBuffer(pd); !errors.Is(err, ErrWrongAccountKind) {
		t.Errorf("ProgramData as Buffer: %v", err)
	}
	if _, err := ParseProgramData(buf); !errors.Is(err, ErrWrongAccountKind) {
		t.Errorf("Buffer as ProgramData: %v", err)
	}
	if _, err := ParseProgram(buf); !errors.Is(err, ErrWrongAccountKind) {
		t.Errorf("Buffer as Program: %v", err)
	}
}

func TestELFHashIgnoresPaddingOnly(t *testing.T) {
	elf, err := os.ReadFile("../../../program/examples/governed-counter/elf/governed_counter_v1.so")
	if err != nil {
		t.Fatalf("the example ELF: %v", err)
	}
	padded := append(append([]byte{}, elf...), make([]byte, 4096)...)
	if ELFHash(padded) != ELFHash(elf) {
		t.Fatal("padding changed the hash")
	}
	if ELFHash(elf) != sha256.Sum256(TrimTrailingZeros(elf)) {
		t.Fatal("hash is not sha256 of the trimmed ELF")
	}
	if got := TrimTrailingZeros([]byte{1, 0, 2, 0, 0}); !bytes.Equal(got, []byte{1, 0, 2}) {
		t.Fatalf("inner zeros lost: %v", got)
	}
	if len(TrimTrailingZeros([]byte{0, 0})) != 0 || len(TrimTrailingZeros(nil)) != 0 {
		t.Fatal("all-zero input")
	}
}

func TestExtendBytesFor(t *testing.T) {
	pdLen := ProgramDataMetadataLen + 2568
	if n := ExtendBytesFor(pdLen, 2568); n != 0 {
		t.Errorf("fits: extend %d", n)
	}
	if n := ExtendBytesFor(pdLen, 4240); n != MinimumExtendProgramBytes {
		t.Errorf("small growth: extend %d, want the 10 KiB minimum", n)
	}
	if n := ExtendBytesFor(pdLen, 2568+50_000); n != 50_000 {
		t.Errorf("large growth: extend %d", n)
	}
	if n := ExtendBytesFor(MaxPermittedDataLength-100, MaxPermittedDataLength); n != 100 {
		t.Errorf("near the limit: extend %d, want the 100 bytes left", n)
	}
}
