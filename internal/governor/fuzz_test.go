package governor

import (
	"testing"

	"github.com/gagliardetto/solana-go"
)

// The API server feeds DecodeInstruction bytes from strangers: whatever they send must give
// an instruction or an error, never a panic or a huge allocation. `go test` runs the seeds;
// `go test -fuzz FuzzDecode` explores further.

func FuzzDecodeInstruction(f *testing.F) {
	for _, ix := range sampleInstructions() {
		data, _ := ix.Data()
		f.Add(data, len(ix.Accounts()))
		f.Add(data[:len(data)-1], len(ix.Accounts()))
	}
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, data []byte, nAccounts int) {
		nAccounts = max(0, min(nAccounts, 64))
		metas := make([]*solana.AccountMeta, nAccounts)
		for i := range metas {
			k := key(string(rune('a' + i)))
			if i == 3 {
				k = EventAuthority()
			}
			metas[i] = solana.NewAccountMeta(k, true, true)
		}
		ix, err := DecodeInstruction(ProgramID, metas, data)
		if err == nil {
			if _, err := ix.Data(); err != nil {
				t.Fatalf("decoded %s does not re-encode: %v", ix.Name(), err)
			}
		}
	})
}

func FuzzDecodeAccountsAndEvents(f *testing.F) {
	for _, ev := range sampleEvents() {
		data, _ := EncodeEvent(ev)
		f.Add(data)
	}
	p, _ := encodeAccount(ProposalDiscriminator, sampleProposal())
	f.Add(p)
	m, _ := encodeAccount(MultisigDiscriminator, &Multisig{Members: keys("m", 3)})
	f.Add(m)
	// A Vec length far beyond the data.
	f.Add(append(MultisigDiscriminator.bytes(), make([]byte, 32)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeEvent(data)
		_, _ = DecodeProposal(data)
		_, _ = DecodeMultisig(data)
	})
}
