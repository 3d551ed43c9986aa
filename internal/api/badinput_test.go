package api_test

import (
	"net/http"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
)

// Found by the bad-input drill of bench/cmd/faults: bad input that reached a workflow, and
// bad input answered as if it were good.
func TestBadInputChangesNothing(t *testing.T) {
	ts := temporaltest.Start(t)

	// A member-signed transaction on a blockhash the cluster never issued can never land. The
	// approve update used to be accepted, run its activity and fail: 11 events in the
	// proposal's history for nothing. Cancel and pause used to send it.
	t.Run("TransactionOnUnknownBlockhash", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, ts)
		p := e.propose()
		stale := func(ix solana.Instruction, signer solana.PrivateKey) string {
			tx := buildTx(t, []solana.Instruction{ix}, signer.PublicKey())
			e.chain.mu.Lock()
			e.chain.expired[tx.Message.RecentBlockhash] = true
			e.chain.mu.Unlock()
			sig, err := signer.Sign(mustMessage(t, tx))
			require.NoError(t, err)
			tx.Signatures = []solana.Signature{sig}
			return b64(t, tx)
		}
		for _, tc := range []struct{ name, path, tx string }{
			{"approve", "/proposals/" + p.String() + "/approve",
				stale(governor.NewApproveUpgradeInstruction(e.multisig, p, e.members[1].PublicKey()), e.members[1])},
			{"cancel", "/proposals/" + p.String() + "/cancel",
				stale(governor.NewCancelUpgradeInstruction(e.multisig, p, e.members[1].PublicKey()), e.members[1])},
			{"pause", "/system/pause", stale(governor.NewPauseSystemInstruction(e.multisig, e.members[2].PublicKey()), e.members[2])},
		} {
			before := e.snap(p)
			requireError(t, e.do("POST", tc.path, map[string]any{"transaction": tc.tx}), http.StatusUnprocessableEntity,
				api.CodeBlockhashExpired, "transaction")
			e.requireUnchanged(before, tc.name+" on an unknown blockhash")
		}
		// A fresh one still goes through.
		r := e.do("POST", "/proposals/"+p.String()+"/approve", map[string]any{"transaction": approveTx(t, e, p, e.members[1])})
		require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	})

	// Go's query parser drops a part separated by ';' (or badly escaped): the filter was
	// silently ignored and the whole audit trail answered 200.
	t.Run("QueryThatDoesNotParse", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, ts)
		for path, field := range map[string]string{
			"/audit?action=proposal.submitted;":          "action",
			"/audit?limit=5&actor=a%zz":                  "actor",
			"/proposals?status=active;DROP+TABLE+x":      "status",
			"/proposals?a;b=1":                           "query",
			"/multisig/" + e.multisig.String() + "?x=1;": "x",
		} {
			requireError(t, e.do("GET", path, nil), http.StatusBadRequest, api.CodeInvalidField, field)
		}
		r := e.do("GET", "/audit?action=proposal.submitted&limit=5", nil)
		require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	})
}
