package api_test

import (
	"encoding/binary"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
)

// unitLimit is the SetComputeUnitLimit a transaction carries (0 when none).
func unitLimit(t *testing.T, tx *solana.Transaction) uint32 {
	t.Helper()
	for _, ci := range tx.Message.Instructions {
		p, err := tx.Message.Program(ci.ProgramIDIndex)
		require.NoError(t, err)
		// SetComputeUnitLimit: tag 2, then u32 units.
		if p.Equals(solana.ComputeBudget) && len(ci.Data) == 5 && ci.Data[0] == 2 {
			return binary.LittleEndian.Uint32(ci.Data[1:])
		}
	}
	return 0
}

// TestBuiltTransactionsCarryAComputeBudgetOnLocalnet: what members sign (the API's builders)
// and what the worker sends carry a compute-unit limit from simulation, above what they
// consume and far under the 1.4M maximum, so a cluster schedules them by their real cost.
func TestBuiltTransactionsCarryAComputeBudgetOnLocalnet(t *testing.T) {
	ce := newChainEnv(t)
	ctx := ctxT(t)
	m0 := ce.members[0]

	// The builder's propose transaction: a limit, and the simulation of the signed bytes
	// consumes no more than it.
	_, out := ce.build("/tx/propose", map[string]any{
		"multisig": ce.multisig.String(), "proposer": m0.PublicKey().String(), "target_program": ce.program.String(),
		"buffer": ce.buffer.String(),
	}, m0)
	tx, err := solana.TransactionFromBase64(out.Transaction)
	require.NoError(t, err)
	limit := unitLimit(t, tx)
	require.NotZero(t, limit, "the propose transaction sets a unit limit")
	require.Less(t, limit, uint32(chain.MaxComputeUnits))
	sim, err := ce.c.RPC().SimulateTransactionWithOpts(ctx, tx, &rpc.SimulateTransactionOpts{ReplaceRecentBlockhash: true})
	require.NoError(t, err)
	require.Nil(t, sim.Value.Err, "logs: %v", sim.Value.Logs)
	require.NotNil(t, sim.Value.UnitsConsumed)
	t.Logf("propose_upgrade: limit %d, consumed %d", limit, *sim.Value.UnitsConsumed)
	assert.LessOrEqual(t, *sim.Value.UnitsConsumed, uint64(limit))

	// The same transaction posted: the API accepts a compute budget beside the governor's
	// instruction, and the worker sends the member's bytes as signed.
	p := ce.proposeThroughAPI("budgeted")
	d := ce.proposal(p)
	require.NotNil(t, d.Indexed)
	require.NotEmpty(t, d.Indexed.ProposeSignature)
	landed, err := ce.c.RPC().GetTransaction(ctx, solana.MustSignatureFromBase58(d.Indexed.ProposeSignature), &rpc.GetTransactionOpts{
		Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentConfirmed,
	})
	require.NoError(t, err)
	ltx, err := landed.Transaction.GetTransaction()
	require.NoError(t, err)
	assert.NotZero(t, unitLimit(t, ltx), "the landed propose transaction kept its limit")
	require.NotNil(t, landed.Meta.ComputeUnitsConsumed)
	assert.LessOrEqual(t, *landed.Meta.ComputeUnitsConsumed, uint64(unitLimit(t, ltx)))

	// What the worker sends on its own (Send) carries one too.
	sig, err := ce.c.Send(ctx, []solana.Instruction{
		system.NewTransferInstruction(1_000_000, ce.payer.PublicKey(), ce.outsider.PublicKey()).Build(),
	}, ce.payer)
	require.NoError(t, err)
	landed, err = ce.c.RPC().GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentConfirmed})
	require.NoError(t, err)
	ltx, err = landed.Transaction.GetTransaction()
	require.NoError(t, err)
	assert.NotZero(t, unitLimit(t, ltx), "Send sets a unit limit")
}
