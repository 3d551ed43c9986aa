package api

import (
	"context"
	"fmt"
	"sync"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// KeyBalance is one of the worker's keys with its balance on chain.
type KeyBalance struct {
	Address  string        `json:"address"`
	Role     store.KeyRole `json:"role"`
	Lamports uint64        `json:"lamports"`
	// Low is set on a fee payer under the configured floor (UG_FEE_PAYER_MIN_LAMPORTS).
	Low bool `json:"low"`
}

// workerBalances reads the balance of every key a running worker registered.
func (s *Server) workerBalances(ctx context.Context) ([]KeyBalance, error) {
	keys, err := s.store.WorkerKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]KeyBalance, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		out[i] = KeyBalance{Address: k.Address, Role: k.Role}
		wg.Go(func() {
			addr, err := solana.PublicKeyFromBase58(k.Address)
			if err != nil {
				errs[i] = fmt.Errorf("worker key %q: %w", k.Address, err)
				return
			}
			if out[i].Lamports, errs[i] = s.chain.Balance(ctx, addr); errs[i] != nil {
				errs[i] = fmt.Errorf("balance of %s %s: %w", k.Role, k.Address, errs[i])
				return
			}
			out[i].Low = k.Role == store.KeyFeePayer && out[i].Lamports < s.cfg.FeePayerMin()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// balanceCollector reports the worker's keys' balances on every scrape of /metrics, so what
// the worker may still spend is visible next to what it spent.
type balanceCollector struct {
	s               *Server
	balance, floor  *prometheus.Desc
	scrapeFailed    *prometheus.Desc
	feePayerMinimum float64
}

func newBalanceCollector(s *Server) *balanceCollector {
	return &balanceCollector{
		s: s,
		balance: prometheus.NewDesc("upgrade_governor_worker_key_balance_lamports",
			"Balance of each key a running worker holds (role fee_payer pays execute, ExtendProgram rent and migrations; role guardian only its emergency cancels).",
			[]string{"address", "role"}, nil),
		floor: prometheus.NewDesc("upgrade_governor_fee_payer_min_lamports",
			"Fee-payer balance under which /readyz reports the fee payer low (UG_FEE_PAYER_MIN_LAMPORTS).", nil, nil),
		scrapeFailed: prometheus.NewDesc("upgrade_governor_worker_key_balance_scrape_failed",
			"1 when the worker keys' balances could not be read for this scrape.", nil, nil),
		feePayerMinimum: float64(s.cfg.FeePayerMin()),
	}
}

func (b *balanceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.balance
	ch <- b.floor
	ch <- b.scrapeFailed
}

func (b *balanceCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(b.floor, prometheus.GaugeValue, b.feePayerMinimum)
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	keys, err := b.s.workerBalances(ctx)
	failed := 0.0
	if err != nil {
		b.s.log.Warn("metrics: read worker key balances", "error", err)
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(b.scrapeFailed, prometheus.GaugeValue, failed)
	for _, k := range keys {
		ch <- prometheus.MustNewConstMetric(b.balance, prometheus.GaugeValue, float64(k.Lamports), k.Address, string(k.Role))
	}
}
