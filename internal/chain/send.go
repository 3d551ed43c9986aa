package chain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// Send builds a transaction of ixs paid by signers[0], signs it with every signer, sends it
// and waits until it reaches the client's commitment. When its blockhash is unknown to the
// node or expires before the transaction lands, Send fetches a new one and signs again (up
// to the client's re-sign bound): the old transaction can no longer land, so this never
// executes twice. Transient RPC failures are retried; a resend the node answers with
// "already processed" means these exact bytes landed, and Send reports their outcome. A
// failed transaction returns a
// *ProgramError or *TransactionError; a node that stays unreachable a *NetworkError.
// Instructions with a Validate method are validated first.
func (c *Client) Send(ctx context.Context, ixs []solana.Instruction, signers ...*Keypair) (solana.Signature, error) {
	if len(signers) == 0 {
		return solana.Signature{}, errors.New("send: no signers (the first one pays the fee)")
	}
	for i, ix := range ixs {
		if v, ok := ix.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return solana.Signature{}, fmt.Errorf("send: instruction %d: %w", i, err)
			}
		}
	}
	// Every transaction carries a unit limit from simulation and the configured priority fee.
	ixs = c.Budgeted(ctx, ixs, signers[0].PublicKey())
	for resign := 0; ; resign++ {
		// A re-sign asks the node again: the blockhash it had may be the one that expired.
		bh, err := c.latestBlockhash(ctx, resign > 0)
		if err != nil {
			return solana.Signature{}, fmt.Errorf("send: %w", err)
		}
		tx, err := solana.NewTransaction(ixs, bh.Value.Blockhash, solana.TransactionPayer(signers[0].PublicKey()))
		if err != nil {
			return solana.Signature{}, fmt.Errorf("send: build transaction: %w", err)
		}
		if _, err := tx.Sign(func(pub solana.PublicKey) *solana.PrivateKey {
			for _, s := range signers {
				if s.PublicKey().Equals(pub) {
					return &s.key
				}
			}
			return nil
		}); err != nil {
			return solana.Signature{}, fmt.Errorf("send: %w", err)
		}
		lastValid := bh.Value.LastValidBlockHeight
		sig, err := c.submit(ctx, tx, func(ctx context.Context) (bool, error) {
			var height uint64
			err := c.call(ctx, "getBlockHeight", func(ctx context.Context) (err error) {
				height, err = c.rpc.GetBlockHeight(ctx, c.commitment)
				return err
			})
			return height > lastValid, err
		})
		if errors.Is(err, ErrBlockhashExpired) && resign < c.maxResigns {
			c.log.Warn("chain: blockhash unknown to the node or expired before the transaction landed; signing again",
				"signature", sig, "resign", resign+1)
			continue
		}
		return sig, err
	}
}

// latestBlockhash returns the node's latest blockhash, reusing one fetched within
// blockhashReuse unless fresh: many transactions sent at once (a migration's) then cost one
// call, not one each. Reuse stays within about a slot, as long as the node keeps one blockhash.
func (c *Client) latestBlockhash(ctx context.Context, fresh bool) (*rpc.GetLatestBlockhashResult, error) {
	c.bhMu.Lock()
	if !fresh && c.bh != nil && time.Since(c.bhAt) < c.blockhashReuse {
		bh := c.bh
		c.bhMu.Unlock()
		return bh, nil
	}
	c.bhMu.Unlock()
	var bh *rpc.GetLatestBlockhashResult
	err := c.call(ctx, "getLatestBlockhash", func(ctx context.Context) (err error) {
		bh, err = c.rpc.GetLatestBlockhash(ctx, c.commitment)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.bhMu.Lock()
	c.bh, c.bhAt = bh, time.Now()
	c.bhMu.Unlock()
	return bh, nil
}

// SendSigned sends a transaction others signed (a member's approval) and waits for the
// client's commitment. It cannot sign again: when the blockhash expires first it returns
// ErrBlockhashExpired, and the signers must sign a new one.
func (c *Client) SendSigned(ctx context.Context, tx *solana.Transaction) (solana.Signature, error) {
	if len(tx.Signatures) == 0 {
		return solana.Signature{}, errors.New("send signed: transaction has no signatures")
	}
	if err := tx.VerifySignatures(); err != nil {
		return solana.Signature{}, fmt.Errorf("send signed: %w", err)
	}
	blockhash := tx.Message.RecentBlockhash
	return c.submit(ctx, tx, func(ctx context.Context) (bool, error) {
		var valid *rpc.IsValidBlockhashResult
		err := c.call(ctx, "isBlockhashValid", func(ctx context.Context) (err error) {
			valid, err = c.rpc.IsBlockhashValid(ctx, blockhash, c.commitment)
			return err
		})
		return err == nil && !valid.Value, err
	})
}

// expiryCheckEvery is how often confirm asks whether a pending transaction's blockhash expired.
const expiryCheckEvery = time.Second

// errSendUnanswered is a sendTransaction the node did not answer within the call timeout: it
// may have taken the transaction, so submit follows the signature's status instead of failing.
var errSendUnanswered = errors.New("sendTransaction not answered in time")

// submit sends tx with preflight and polls its status until it reaches the commitment,
// fails, or expired reports that its blockhash can no longer land.
func (c *Client) submit(ctx context.Context, tx *solana.Transaction, expired func(context.Context) (bool, error)) (solana.Signature, error) {
	sig := tx.Signatures[0]
	err := c.call(ctx, "sendTransaction", func(callCtx context.Context) error {
		// Resending the same signed bytes after a transient failure is safe: one signature
		// lands at most once.
		_, err := c.rpc.SendTransactionWithOpts(callCtx, tx, rpc.TransactionOpts{SkipPreflight: c.skipPreflight, PreflightCommitment: c.commitment})
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			// The node may have taken it and be slow to say so: sending again would wait
			// as long again. Its status tells instead.
			return errSendUnanswered
		}
		return err
	})
	switch pf, isPreflight := asPreflightFailure(err); {
	case err == nil:
	case alreadyProcessed(err):
		// This very transaction landed already: a retried send whose first answer was lost
		// (or an identical transaction sent within the blockhash's life). Its status tells.
	case errors.Is(err, errSendUnanswered):
		c.log.Warn("chain: sendTransaction not answered in time; following the signature's status", "signature", sig)
	case !isPreflight:
		return sig, fmt.Errorf("send transaction %s: %w", sig, err)
	case txErrKind(pf.Err) == "BlockhashNotFound":
		return sig, fmt.Errorf("send transaction %s: %w", sig, ErrBlockhashExpired)
	default:
		return sig, transactionFailure(pf.Err, pf.Logs, tx, solana.Signature{})
	}
	if err := c.confirm(ctx, sig, tx, expired); err != nil {
		return sig, err
	}
	return sig, nil
}

// confirm polls the signature status with a growing interval, re-broadcasting tx (when
// given) now and then, until it is confirmed, failed, or expired reports it can no longer
// land (ErrBlockhashExpired).
func (c *Client) confirm(ctx context.Context, sig solana.Signature, tx *solana.Transaction, expired func(context.Context) (bool, error)) error {
	wait := c.pollInterval
	lastSent, lastExpiry := time.Now(), time.Now()
	for {
		// Expiry is asked about now and then, not on every poll: it takes a minute or more.
		// When asked, before the status: a transaction that landed in time is then visible.
		checkExpiry := time.Since(lastExpiry) >= expiryCheckEvery
		gone := false
		if checkExpiry {
			lastExpiry = time.Now()
			var err error
			if gone, err = expired(ctx); err != nil {
				return fmt.Errorf("confirm %s: %w", sig, err)
			}
		}
		st, err := c.signatureStatus(ctx, sig)
		if err != nil {
			return fmt.Errorf("confirm %s: %w", sig, err)
		}
		if st != nil {
			if raw := jsonOf(st.Err); raw != nil {
				return transactionFailure(raw, c.failedLogs(ctx, sig), tx, sig)
			}
			if reached(st.ConfirmationStatus, c.commitment) {
				return nil
			}
		} else if gone {
			return fmt.Errorf("confirm %s: %w", sig, ErrBlockhashExpired)
		}
		if tx != nil && time.Since(lastSent) >= c.rebroadcastEvery {
			lastSent = time.Now()
			// Bounded like any call: a node that hangs must not hold up the status polls.
			sendCtx, cancel := context.WithTimeout(ctx, c.callTimeout)
			if _, err := c.rpc.SendTransactionWithOpts(sendCtx, tx, rpc.TransactionOpts{SkipPreflight: true}); err != nil {
				c.log.Debug("chain: rebroadcast failed", "signature", sig, "err", err)
			}
			cancel()
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("confirm %s: %w", sig, err)
		}
		wait = min(wait*3/2, c.maxPoll)
	}
}

// signatureStatus asks the node for a signature's status. Every caller waiting at the same time
// shares one getSignatureStatuses call (up to statusBatch signatures): a migration with hundreds
// of transactions in flight then polls with one call at a time, not one per transaction.
func (c *Client) signatureStatus(ctx context.Context, sig solana.Signature) (*rpc.SignatureStatusesResult, error) {
	req := statusRequest{sig: sig, out: make(chan statusAnswer, 1)}
	c.statusMu.Lock()
	c.statusQueue = append(c.statusQueue, req)
	c.statusAsked++
	if !c.statusRunning {
		c.statusRunning = true
		go c.runStatusCalls()
	}
	c.statusMu.Unlock()
	select {
	case a := <-req.out:
		return a.status, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// statusBatch is the most signatures one getSignatureStatuses call asks about (the node's limit).
const statusBatch = 256

type statusRequest struct {
	sig solana.Signature
	out chan statusAnswer // buffered: the asker may have gone
}

type statusAnswer struct {
	status *rpc.SignatureStatusesResult
	err    error
}

// runStatusCalls answers the queued status requests, a call at a time, until none is left.
func (c *Client) runStatusCalls() {
	for {
		c.statusMu.Lock()
		if len(c.statusQueue) == 0 {
			c.statusRunning = false
			c.statusMu.Unlock()
			return
		}
		n := min(len(c.statusQueue), statusBatch)
		batch := make([]statusRequest, n)
		copy(batch, c.statusQueue)
		c.statusQueue = append(c.statusQueue[:0], c.statusQueue[n:]...)
		c.statusMu.Unlock()

		sigs := make([]solana.Signature, n)
		for i, r := range batch {
			sigs[i] = r.sig
		}
		var out *rpc.GetSignatureStatusesResult
		// Not bound to one asker's context: an asker who leaves does not fail the others.
		err := c.call(context.Background(), "getSignatureStatuses", func(ctx context.Context) (err error) {
			out, err = c.rpc.GetSignatureStatuses(ctx, false, sigs...)
			return err
		})
		for i, r := range batch {
			a := statusAnswer{err: err}
			if err == nil && out != nil && i < len(out.Value) {
				a.status = out.Value[i]
			}
			r.out <- a
		}
	}
}

// failedLogs fetches the logs of a transaction that landed and failed; the status carries
// none. The transaction may not be readable yet at the client's commitment, so it tries a
// few times and settles for no logs.
func (c *Client) failedLogs(ctx context.Context, sig solana.Signature) []string {
	for attempt := 0; attempt < 5; attempt++ {
		res, err := c.getTransaction(ctx, sig)
		if err == nil && res.Meta != nil {
			return res.Meta.LogMessages
		}
		if sleep(ctx, c.pollInterval) != nil {
			return nil
		}
	}
	return nil
}

func reached(got rpc.ConfirmationStatusType, want rpc.CommitmentType) bool {
	rank := map[string]int{"processed": 1, "confirmed": 2, "finalized": 3}
	w := rank[string(want)]
	if w == 0 {
		w = rank["confirmed"]
	}
	return rank[string(got)] >= w
}

// Simulate runs a signed transaction against the node's current state without landing it
// (signatures are not checked, the blockhash is kept): nil when it would succeed, else the
// *ProgramError or *TransactionError it would fail with (ErrBlockhashExpired when its blockhash
// can no longer land). The API uses it to refuse, before anything is written or started, a
// member's transaction the program would refuse: the program's rules are stated once, there.
func (c *Client) Simulate(ctx context.Context, tx *solana.Transaction) error {
	var res *rpc.SimulateTransactionResponse
	err := c.call(ctx, "simulateTransaction", func(ctx context.Context) (err error) {
		res, err = c.rpc.SimulateTransactionWithOpts(ctx, tx, &rpc.SimulateTransactionOpts{Commitment: c.commitment})
		return err
	})
	if err != nil {
		return fmt.Errorf("simulate transaction: %w", err)
	}
	if res == nil || res.Value == nil {
		return errors.New("simulate transaction: the node returned no result")
	}
	raw := jsonOf(res.Value.Err)
	if raw == nil {
		return nil
	}
	if txErrKind(raw) == "BlockhashNotFound" {
		return fmt.Errorf("simulate transaction: %w", ErrBlockhashExpired)
	}
	return transactionFailure(raw, res.Value.Logs, tx, solana.Signature{})
}
