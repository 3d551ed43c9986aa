package chain

import (
	"testing"

	"github.com/gagliardetto/solana-go/rpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePriorityFee(t *testing.T) {
	for in, want := range map[string]PriorityFee{
		"0": {}, "5000": {MicroLamports: 5000}, "p75": {Percentile: 75}, "p100:20": {Percentile: 100, MicroLamports: 20},
	} {
		got, err := ParsePriorityFee(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "p", "p0", "p101", "p50:", "fast", "-1", "1.5"} {
		_, err := ParsePriorityFee(bad)
		assert.Error(t, err, bad)
	}
}

func TestPercentileIsTheNearestRank(t *testing.T) {
	fees := func(v ...uint64) []rpc.PriorizationFeeResult {
		out := make([]rpc.PriorizationFeeResult, len(v))
		for i, f := range v {
			out[i] = rpc.PriorizationFeeResult{Slot: uint64(i), PrioritizationFee: f}
		}
		return out
	}
	assert.Zero(t, percentile(nil, 50), "no recent fees: no bid above the floor")
	recent := fees(40, 10, 30, 20, 0)
	assert.EqualValues(t, 20, percentile(recent, 50))
	assert.EqualValues(t, 0, percentile(recent, 1))
	assert.EqualValues(t, 40, percentile(recent, 100))
	assert.EqualValues(t, 40, percentile(recent, 81))
}
