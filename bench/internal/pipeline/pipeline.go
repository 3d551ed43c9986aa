// Package pipeline is a bare pipelined transaction sender: one blockhash shared by every
// transaction, many transactions in flight, statuses polled in batches of 256. No Temporal, no
// PostgreSQL, no per-transaction retry: it measures what the node itself can take.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
)

// Sender sends transactions paid and signed by Payer.
type Sender struct {
	Chain *chain.Client
	Payer *chain.Keypair
	// Window bounds the transactions sent and not yet confirmed (default 256). Within it the
	// sender keeps about Backlog of the node's work queued: enough that the node never waits
	// for us, little enough that a queued transaction's blockhash does not expire.
	Window int
	// Backlog is the time of node work kept in flight (default 2 s); at least MinWindow
	// transactions (default 16) are in flight.
	Backlog   time.Duration
	MinWindow int
	// Senders is how many sendTransaction calls run at once (default 16).
	Senders int
	// SkipPreflight sends without the node's simulation. Off by default: the worker simulates
	// too, so the two rates compare the same node work.
	SkipPreflight bool
	// Timeout fails a transaction not confirmed this long after it was sent (default 2 min).
	Timeout time.Duration
	// Progress, if set, is called with the number of confirmed transactions so far.
	Progress func(confirmed int)
}

// Result is what a run did. Signatures[i] is batch i's transaction.
type Result struct {
	Transactions int
	Failed       int
	FirstError   error
	Elapsed      time.Duration
	Signatures   []solana.Signature
	// MaxWindow is the largest number of transactions in flight at once.
	MaxWindow int
}

// statusBatch is the most signatures getSignatureStatuses takes at once.
const statusBatch = 256

type pending struct {
	index  int
	sig    solana.Signature
	sentAt time.Time
}

// Run sends one transaction per batch of instructions and waits until each is confirmed or
// failed. A context error ends it early.
func (s *Sender) Run(ctx context.Context, batches [][]solana.Instruction) (Result, error) {
	s.defaults()
	res := Result{Signatures: make([]solana.Signature, len(batches))}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	bh := &blockhash{c: s.Chain}
	if err := bh.refresh(ctx); err != nil {
		return res, err
	}
	go bh.keepFresh(ctx, 2*time.Second)

	var (
		mu       sync.Mutex
		inFlight []pending
		done     int
	)
	fail := func(err error) {
		res.Failed++
		if res.FirstError == nil {
			res.FirstError = err
		}
	}
	g := newGate(s.MinWindow)
	jobs := make(chan int)
	start := time.Now()

	var sendWG sync.WaitGroup
	for w := 0; w < s.Senders; w++ {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			for i := range jobs {
				sig, err := s.send(ctx, bh.get(), batches[i])
				mu.Lock()
				if err != nil {
					fail(fmt.Errorf("batch %d: %w", i, err))
					done++
					g.release(1)
				} else {
					res.Signatures[i] = sig
					inFlight = append(inFlight, pending{index: i, sig: sig, sentAt: time.Now()})
				}
				mu.Unlock()
			}
		}()
	}

	// The confirmer polls every in-flight signature, 256 per call, frees their places, and
	// sizes the window from the confirmation rate.
	confirmDone := make(chan error, 1)
	go func() {
		defer g.close()
		rate := newRate(2 * time.Second)
		for {
			mu.Lock()
			finished := done == len(batches)
			batch := append([]pending(nil), inFlight...)
			mu.Unlock()
			if finished {
				confirmDone <- nil
				return
			}
			settled := map[solana.Signature]bool{}
			for off := 0; off < len(batch); off += statusBatch {
				part := batch[off:min(off+statusBatch, len(batch))]
				sigs := make([]solana.Signature, len(part))
				for i, p := range part {
					sigs[i] = p.sig
				}
				st, err := s.Chain.RPC().GetSignatureStatuses(ctx, false, sigs...)
				if err != nil {
					if ctx.Err() != nil {
						confirmDone <- ctx.Err()
						return
					}
					continue // transient: the next round asks again
				}
				mu.Lock()
				for i, p := range part {
					var v *rpc.SignatureStatusesResult
					if i < len(st.Value) {
						v = st.Value[i]
					}
					switch {
					case v != nil && v.Err != nil:
						fail(fmt.Errorf("batch %d (%s): %v", p.index, p.sig, v.Err))
					case v != nil && (v.ConfirmationStatus == rpc.ConfirmationStatusConfirmed || v.ConfirmationStatus == rpc.ConfirmationStatusFinalized):
						res.Transactions++
					case time.Since(p.sentAt) > s.Timeout:
						fail(fmt.Errorf("batch %d (%s): not confirmed after %s", p.index, p.sig, s.Timeout))
					default:
						continue
					}
					settled[p.sig] = true
					done++
				}
				mu.Unlock()
			}
			rate.add(len(settled))
			g.resize(min(max(int(rate.perSecond()*s.Backlog.Seconds()), s.MinWindow), s.Window))
			if len(settled) > 0 {
				mu.Lock()
				kept := inFlight[:0]
				for _, p := range inFlight {
					if !settled[p.sig] {
						kept = append(kept, p)
					}
				}
				inFlight = kept
				n := res.Transactions
				mu.Unlock()
				g.release(len(settled))
				if s.Progress != nil {
					s.Progress(n)
				}
			}
			select {
			case <-ctx.Done():
				confirmDone <- ctx.Err()
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	for i := range batches {
		if !g.acquire() || ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	sendWG.Wait()
	err := <-confirmDone
	res.Elapsed = time.Since(start)
	res.MaxWindow = g.maxInFlight()
	if err != nil {
		return res, fmt.Errorf("pipeline: %w", err)
	}
	return res, nil
}

func (s *Sender) defaults() {
	if s.Window <= 0 {
		s.Window = 256
	}
	if s.MinWindow <= 0 {
		s.MinWindow = 16
	}
	s.MinWindow = min(s.MinWindow, s.Window)
	if s.Backlog <= 0 {
		s.Backlog = 2 * time.Second
	}
	if s.Senders <= 0 {
		s.Senders = 16
	}
	if s.Timeout <= 0 {
		s.Timeout = 2 * time.Minute
	}
}

func (s *Sender) send(ctx context.Context, hash solana.Hash, ixs []solana.Instruction) (solana.Signature, error) {
	tx, err := solana.NewTransaction(ixs, hash, solana.TransactionPayer(s.Payer.PublicKey()))
	if err != nil {
		return solana.Signature{}, fmt.Errorf("build transaction: %w", err)
	}
	if err := chain.SignTransaction(tx, s.Payer); err != nil {
		return solana.Signature{}, err
	}
	// One retry on a transport error; a node error (preflight failure) is final.
	var sig solana.Signature
	for attempt := 0; attempt < 2; attempt++ {
		sig, err = s.Chain.RPC().SendTransactionWithOpts(ctx, tx, rpc.TransactionOpts{
			SkipPreflight: s.SkipPreflight, PreflightCommitment: rpc.CommitmentConfirmed,
		})
		var rpcErr *jsonrpc.RPCError
		if err == nil || errors.As(err, &rpcErr) {
			break
		}
	}
	if err != nil {
		return tx.Signatures[0], fmt.Errorf("send: %w", err)
	}
	return sig, nil
}

// gate bounds the transactions in flight to a window the confirmer resizes.
type gate struct {
	mu       sync.Mutex
	cond     *sync.Cond
	inFlight int
	window   int
	peak     int
	closed   bool
}

func newGate(window int) *gate {
	g := &gate{window: window}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// acquire waits for a place; false once the gate is closed.
func (g *gate) acquire() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.inFlight >= g.window && !g.closed {
		g.cond.Wait()
	}
	if g.closed {
		return false
	}
	g.inFlight++
	g.peak = max(g.peak, g.inFlight)
	return true
}

func (g *gate) release(n int) {
	g.mu.Lock()
	g.inFlight -= n
	g.mu.Unlock()
	g.cond.Broadcast()
}

func (g *gate) resize(window int) {
	g.mu.Lock()
	g.window = window
	g.mu.Unlock()
	g.cond.Broadcast()
}

func (g *gate) maxInFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cond.Broadcast()
}

// rate is events per second over a sliding span.
type rate struct {
	span   time.Duration
	events []struct {
		at time.Time
		n  int
	}
}

func newRate(span time.Duration) *rate { return &rate{span: span} }

func (r *rate) add(n int) {
	now := time.Now()
	r.events = append(r.events, struct {
		at time.Time
		n  int
	}{now, n})
	for len(r.events) > 0 && now.Sub(r.events[0].at) > r.span {
		r.events = r.events[1:]
	}
}

func (r *rate) perSecond() float64 {
	if len(r.events) < 2 {
		return 0
	}
	total := 0
	for _, e := range r.events[1:] {
		total += e.n
	}
	d := r.events[len(r.events)-1].at.Sub(r.events[0].at)
	if d <= 0 {
		return 0
	}
	return float64(total) / d.Seconds()
}

// blockhash is the shared recent blockhash, refreshed in the background.
type blockhash struct {
	c    *chain.Client
	mu   sync.Mutex
	hash solana.Hash
}

func (b *blockhash) get() solana.Hash { b.mu.Lock(); defer b.mu.Unlock(); return b.hash }

func (b *blockhash) refresh(ctx context.Context) error {
	out, err := b.c.RPC().GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		return fmt.Errorf("pipeline: latest blockhash: %w", err)
	}
	b.mu.Lock()
	b.hash = out.Value.Blockhash
	b.mu.Unlock()
	return nil
}

func (b *blockhash) keepFresh(ctx context.Context, every time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
			_ = b.refresh(ctx)
		}
	}
}
