package clitools

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

func hexHash(elf []byte) string {
	h := loader.ELFHash(elf)
	return hex.EncodeToString(h[:])
}

// TestOnboardingUpgradesThroughGovernance is the README's path, step by step, with the real
// tools: a team deploys with `solana program deploy`, puts the program under governance and
// stages v2 with scripts/onboard.sh, members propose, approve and execute through the API,
// and the CLI then shows the new deploy slot with the PDA still the authority, and dumps v2.
func TestOnboardingUpgradesThroughGovernance(t *testing.T) {
	v1, v2 := readELF(t, 1), readELF(t, 2)
	for _, tc := range []struct {
		name string
		// maxLen is the deploy's --max-len; 0 deploys with room for v1 only.
		maxLen int
	}{
		// The team deployed with room for growth: ProgramData holds v2 exactly.
		{name: "RoomForTheNewVersion", maxLen: len(v2)},
		// v2 does not fit: the worker extends ProgramData first (by at least 10 KiB, the
		// loader's minimum), so the account ends in zero padding after the ELF.
		{name: "NewVersionNeedsExtendProgram"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			g := e.newGovernance()
			team := e.wallet("team")

			program := e.deploy(team, elfPath(1), tc.maxLen)
			before := e.show(team.Path, program)
			require.Equal(t, team.PublicKey().String(), before.Authority)
			require.Equal(t, hexHash(v1), e.verifyHash("get-program-hash", program.String()))

			// Onboarding: the upgrade authority goes to the multisig's PDA.
			pda := strings.TrimSpace(e.onboard(team.Path, g.Multisig, "authority"))
			require.Equal(t, g.Authority.String(), pda, "find-program-derived-address gives the PDA the program derives")
			out := e.onboardResults(team.Path, g.Multisig, "govern", program.String())
			require.Equal(t, g.Authority.String(), out["authority"])
			pd, err := e.stack.Chain.GetProgramData(e.ctx, program)
			require.NoError(t, err)
			require.Equal(t, g.Authority, *pd.UpgradeAuthority)

			// A release: v2 to a buffer, the buffer to the PDA, its hash by solana-verify.
			out = e.onboardResults(team.Path, g.Multisig, "buffer", elfPath(2))
			buffer := solana.MustPublicKeyFromBase58(out["buffer"])
			require.Equal(t, hexHash(v2), out["hash"])
			buf, err := e.stack.Chain.GetBuffer(e.ctx, buffer)
			require.NoError(t, err)
			require.Equal(t, g.Authority, *buf.Authority)

			// Members: propose (the API's buffer hash is solana-verify's), approve, execute.
			proposal, apiHash := e.propose(g, g.Members[0], program, buffer, "counter v2")
			require.Equal(t, out["hash"], apiHash, "the proposal's buffer hash is solana-verify get-buffer-hash")
			p, err := e.stack.Chain.GetProposal(e.ctx, proposal)
			require.NoError(t, err)
			require.Equal(t, out["hash"], hex.EncodeToString(p.BufferHash[:]), "the hash recorded on chain")
			eta := e.approve(proposal, g.Members[0], g.Members[1])
			unchanged := e.show(team.Path, program)
			require.Equal(t, before.LastDeploySlot, unchanged.LastDeploySlot, "nothing changes before the timelock ends")
			e.execute(proposal, eta, g.Members[1])

			// The CLI's view: a new deploy slot, the PDA still the authority, v2's bytes.
			after := e.show(team.Path, program)
			require.Greater(t, after.LastDeploySlot, before.LastDeploySlot)
			require.Equal(t, g.Authority.String(), after.Authority)
			require.Equal(t, len(pdAfter(t, e, program).ELF), after.DataLen)
			dump := filepath.Join(e.dir, "dump.so")
			e.mustSolana(team.Path, "program", "dump", program.String(), dump)
			dumped, err := os.ReadFile(dump)
			require.NoError(t, err)
			if tc.maxLen == len(v2) {
				require.True(t, bytes.Equal(v2, dumped), "solana program dump is byte-identical to v2 (%d vs %d bytes)", len(dumped), len(v2))
			} else {
				// `program dump` writes the whole ProgramData after its header: v1's room plus
				// the extension.
				require.Len(t, dumped, len(v1)+loader.MinimumExtendProgramBytes)
				require.True(t, bytes.Equal(v2, dumped[:len(v2)]), "the dump starts with v2's bytes")
				require.Empty(t, strings.Trim(string(dumped[len(v2):]), "\x00"), "and only zero padding follows")
			}
			require.Equal(t, hexHash(v2), e.verifyHash("get-program-hash", program.String()))
			require.Equal(t, hexHash(v2), e.verifyHash("get-executable-hash", dump))
			require.Equal(t, hexHash(v2), e.onboardResults(team.Path, g.Multisig, "show", program.String())["hash"])
			require.Equal(t, byte(2), e.initCounter(team, program), "the SBPF v0 upgrade runs: init writes v2's layout")
		})
	}
}

// initCounter creates a governed-counter state account and runs the program's init on it; it
// returns the layout version the running code wrote (1 for v1, 2 for v2).
func (e *env) initCounter(payer wallet, program solana.PublicKey) byte {
	e.t.Helper()
	const stateLen = 64
	rent, err := e.stack.Chain.MinimumBalanceForRentExemption(e.ctx, stateLen)
	require.NoError(e.t, err)
	seed := "onboarding-check"
	state, err := solana.CreateWithSeed(payer.PublicKey(), seed, program)
	require.NoError(e.t, err)
	ixs := []solana.Instruction{
		system.NewCreateAccountWithSeedInstruction(payer.PublicKey(), seed, rent, stateLen, program,
			payer.PublicKey(), state, payer.PublicKey()).Build(),
		solana.NewInstruction(program, solana.AccountMetaSlice{
			solana.Meta(state).WRITE(), solana.Meta(payer.PublicKey()).SIGNER(),
		}, binary.LittleEndian.AppendUint64([]byte{0}, 7)),
	}
	// An upgraded program cannot be invoked in the slot of its upgrade: retry for a few slots.
	var sendErr error
	for i := 0; i < 20; i++ {
		if _, sendErr = e.stack.Chain.Send(e.ctx, ixs, payer.Keypair); sendErr == nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	require.NoError(e.t, sendErr, "create and init a counter")
	acc, err := e.stack.Chain.GetAccount(e.ctx, state)
	require.NoError(e.t, err)
	return acc.Data.GetBinary()[0]
}

func pdAfter(t *testing.T, e *env, program solana.PublicKey) *loader.ProgramData {
	t.Helper()
	pd, err := e.stack.Chain.GetProgramData(e.ctx, program)
	require.NoError(t, err)
	return pd
}

// TestHashesEqualSolanaVerify: the hashes our program, API and worker compute are
// solana-verify's for the same accounts and files, padded or not.
func TestHashesEqualSolanaVerify(t *testing.T) {
	e := newEnv(t)
	team := e.wallet("team")
	v1, v2 := readELF(t, 1), readELF(t, 2)

	for _, v := range []int{1, 2} {
		require.Equal(t, hexHash(readELF(t, v)), e.verifyHash("get-executable-hash", elfPath(v)), "v%d", v)
	}
	padded := filepath.Join(e.dir, "v2-padded.so")
	require.NoError(t, os.WriteFile(padded, append(append([]byte{}, v2...), make([]byte, 4096)...), 0o644))
	require.Equal(t, hexHash(v2), e.verifyHash("get-executable-hash", padded), "trailing zero bytes do not count")

	// A program deployed with room to spare: ProgramData is padded.
	program := e.deploy(team, elfPath(1), len(v1)+5000)
	pd := pdAfter(t, e, program)
	require.Len(t, pd.ELF, len(v1)+5000)
	require.Equal(t, hex.EncodeToString(sliceOf(pd.Hash())), e.verifyHash("get-program-hash", program.String()))
	require.Equal(t, hexHash(v1), hex.EncodeToString(sliceOf(pd.Hash())))

	// Buffers written by the CLI (padded with --max-len) and by our Go client (the demo's path).
	out := e.mustSolana(team.Path, "program", "write-buffer", elfPath(2), "--use-rpc", "--max-len", "8000", "--output", "json")
	var res struct {
		Buffer string `json:"buffer"`
	}
	require.NoError(t, json.Unmarshal([]byte(lastJSON(out)), &res), out)
	cliBuffer := solana.MustPublicKeyFromBase58(res.Buffer)
	goBuffer, _ := e.keyFile("buffer")
	require.NoError(t, e.stack.Chain.WriteBuffer(e.ctx, team.Keypair, team.Keypair, goBuffer, v2))
	for name, b := range map[string]solana.PublicKey{"solana program write-buffer": cliBuffer, "chain.WriteBuffer": goBuffer.PublicKey()} {
		buf, err := e.stack.Chain.GetBuffer(e.ctx, b)
		require.NoError(t, err)
		require.Equal(t, hexHash(v2), hex.EncodeToString(sliceOf(buf.Hash())), name)
		require.Equal(t, hexHash(v2), e.verifyHash("get-buffer-hash", b.String()), name)
	}
}

func sliceOf(h [32]byte) []byte { return h[:] }
