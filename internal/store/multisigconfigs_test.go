package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

const systemProgram = "11111111111111111111111111111111"

func TestConfigProposalKeepsItsActionsAndTheyNeverChange(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	actions := json.RawMessage(`[{"kind":"add_member","member":"` + pubkey() + `"}]`)
	p := store.Proposal{
		Address: pubkey(), Multisig: pubkey(), Index: 3, TargetProgram: systemProgram, Buffer: systemProgram,
		BufferHash: "0000000000000000000000000000000000000000000000000000000000000000", Proposer: pubkey(),
		Threshold: 2, Kind: store.KindConfig, ConfigActions: actions,
	}
	_, err := s.UpsertProposal(ctx, p, worker)
	require.NoError(t, err)
	got, err := s.GetProposal(ctx, p.Address)
	require.NoError(t, err)
	assert.Equal(t, store.KindConfig, got.Kind)
	assert.JSONEq(t, string(actions), string(got.ConfigActions))

	// A config proposal without actions, or an upgrade with some, is refused.
	bad := p
	bad.Address, bad.Index, bad.ConfigActions = pubkey(), 4, nil
	_, err = s.UpsertProposal(ctx, bad, worker)
	require.ErrorIs(t, err, store.ErrInvalid)
	bad.Kind, bad.ConfigActions = store.KindUpgrade, actions
	_, err = s.UpsertProposal(ctx, bad, worker)
	require.ErrorIs(t, err, store.ErrInvalid)

	// What a proposal does never changes once indexed.
	err = s.ExecRaw(ctx, `UPDATE upgrade_proposals SET config_actions = '[]' WHERE address = $1`, p.Address)
	require.Error(t, err)
	err = s.ExecRaw(ctx, `UPDATE upgrade_proposals SET kind = 'upgrade', config_actions = NULL WHERE address = $1`, p.Address)
	require.Error(t, err)
}

func TestMultisigConfigHistoryIsNewestFirstAndIdempotent(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	ms, a, b, c := pubkey(), pubkey(), pubkey(), pubkey()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	first := store.MultisigConfig{Multisig: ms, Signature: signature(), Slot: 10, EffectiveAt: at,
		Members: []string{a, b}, Threshold: 2, TimelockSeconds: 3600, ProposalLifetimeSeconds: 86400, Guardian: c}
	grace := int64(7200)
	second := store.MultisigConfig{Multisig: ms, Signature: signature(), Slot: 20, Proposal: pubkey(), EffectiveAt: at.Add(time.Hour),
		Members: []string{a, c}, Threshold: 1, TimelockSeconds: 7200, ProposalLifetimeSeconds: 86400, GraceSeconds: &grace,
		Guardian: b, StaleProposalIndex: 4}
	for _, cfg := range []store.MultisigConfig{first, second} {
		ok, err := s.RecordMultisigConfig(ctx, cfg)
		require.NoError(t, err)
		assert.True(t, ok)
	}
	ok, err := s.RecordMultisigConfig(ctx, second)
	require.NoError(t, err)
	assert.False(t, ok, "the same transaction twice is one configuration")

	got, err := s.ListMultisigConfigs(ctx, ms, 0)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, second, got[0])
	assert.Equal(t, first, got[1])

	// A threshold above the member count is not a configuration the program allows.
	bad := first
	bad.Signature, bad.Threshold = signature(), 3
	_, err = s.RecordMultisigConfig(ctx, bad)
	require.ErrorIs(t, err, store.ErrInvalid)
}
