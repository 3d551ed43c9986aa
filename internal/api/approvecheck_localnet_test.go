package api_test

import (
	"net/http"
	"testing"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// TestSecondApprovalOfAMemberOnLocalnet: a member's approval sent straight to RPC, which the
// workflow has not heard of (no indexer runs here), then a distinct approve transaction of the
// same member through the API. The workflow's validator lets it through and the activity finds
// the approval on chain and sends nothing; the API must refuse it like any second approval of
// a member, and write no audit row naming a transaction that never landed. (Two distinct
// approve transactions of one member racing through the API, which `make faults` runs as
// race-double-approval, end the same way.)
func TestSecondApprovalOfAMemberOnLocalnet(t *testing.T) {
	ce := newChainEnv(t)
	ctx := ctxT(t)
	m1 := ce.members[1]
	p := ce.proposeThroughAPI("a member approves twice")
	path := "/proposals/" + p.String() + "/approve"

	direct := ce.send([]solana.Instruction{governor.NewApproveUpgradeInstruction(ce.multisig, p, m1.PublicKey())}, m1)

	bh, err := api.RPCChain{Client: ce.c}.LatestBlockhash(ctx)
	require.NoError(t, err)
	again, err := solana.NewTransaction([]solana.Instruction{
		computebudget.NewSetComputeUnitPriceInstruction(7).Build(),
		governor.NewApproveUpgradeInstruction(ce.multisig, p, m1.PublicKey()),
	}, bh, solana.TransactionPayer(m1.PublicKey()))
	require.NoError(t, err)
	require.NoError(t, chain.SignTransaction(again, m1))
	require.NotEqual(t, direct, again.Signatures[0])

	audit := ce.auditCount()
	requireError(t, ce.do("POST", path, map[string]any{"transaction": b64(t, again)}), http.StatusConflict, api.CodeUpdateRejected, "")
	assert.Equal(t, audit, ce.auditCount(), "a refused approval writes nothing")
	actions, err := ce.store.SignatureActions(ctx, again.Signatures[0].String())
	require.NoError(t, err)
	assert.Empty(t, actions, "no audit row names the transaction that was not sent")
	known, err := api.RPCChain{Client: ce.c}.SignatureKnown(ctx, again.Signatures[0])
	require.NoError(t, err)
	assert.False(t, known, "the second transaction was not sent")

	got, err := ce.c.GetProposal(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, []solana.PublicKey{m1.PublicKey()}, got.Approvals)
	rows, err := ce.store.ListAudit(ctx, store.AuditFilter{Proposal: p.String(), Action: store.ActionApprovalRecorded})
	require.NoError(t, err)
	assert.Empty(t, rows.Entries, "the direct approval is the indexer's to record; none runs here")
}
