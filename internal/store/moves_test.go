package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// The database's trigger accepts exactly the status moves internal/lifecycle names: every pair
// of indexed statuses is tried on a fresh row.
func TestProposalStatusTriggerFollowsTheLifecycle(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	full := func() store.StatusChange {
		return store.StatusChange{Approvals: 2, ETA: time.Now().Add(time.Hour), Signature: signature(), At: time.Now()}
	}
	for _, from := range lifecycle.Indexed {
		for _, to := range lifecycle.Indexed {
			if from == to {
				continue
			}
			t.Run(fmt.Sprintf("%s->%s", from, to), func(t *testing.T) {
				p := newProposal(t, s)
				if from != lifecycle.Active {
					_, err := s.SetProposalStatus(ctx, p.Address, store.ProposalStatus(from), full(), worker)
					require.NoError(t, err, "reach %s", from)
				}
				_, err := s.SetProposalStatus(ctx, p.Address, store.ProposalStatus(to), full(), worker)
				if lifecycle.CanMove(from, to) {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, store.ErrInvalidTransition)
				}
			})
		}
	}
}
