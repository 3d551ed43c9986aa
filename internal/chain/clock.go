package chain

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// clockUnixTimestampOffset is where the Clock sysvar keeps unix_timestamp: after slot u64,
// epoch_start_timestamp i64, epoch u64 and leader_schedule_epoch u64.
const clockUnixTimestampOffset = 32

// ChainTime returns the chain's clock (the Clock sysvar's unix_timestamp): what the program
// compares eta and expiry with, which on a test chain need not be wall time.
func (c *Client) ChainTime(ctx context.Context) (int64, error) {
	acc, err := c.GetAccount(ctx, solana.SysVarClockPubkey)
	if err != nil {
		return 0, fmt.Errorf("chain time: %w", err)
	}
	data := acc.Data.GetBinary()
	if len(data) < clockUnixTimestampOffset+8 {
		return 0, fmt.Errorf("chain time: Clock sysvar has %d bytes", len(data))
	}
	return int64(binary.LittleEndian.Uint64(data[clockUnixTimestampOffset:])), nil
}

// TimeTravel moves a local surfpool test chain's clock to unixSeconds (the RPC
// surfnet_timeTravel, which exists on no real cluster), and waits until the Clock sysvar
// shows it. Tests use it to pass a 48-hour timelock in a second.
func (c *Client) TimeTravel(ctx context.Context, unixSeconds int64) error {
	params := []any{map[string]any{"absoluteTimestamp": unixSeconds * 1000}}
	err := c.call(ctx, "surfnet_timeTravel", func(ctx context.Context) error {
		var ignored any
		return c.rpc.RPCCallForInto(ctx, &ignored, "surfnet_timeTravel", params)
	})
	if err != nil {
		return fmt.Errorf("time travel to %d (a surfpool localnet RPC): %w", unixSeconds, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		now, err := c.ChainTime(ctx)
		if err != nil {
			return fmt.Errorf("time travel: %w", err)
		}
		if now >= unixSeconds {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("time travel to %d: the clock still shows %d", unixSeconds, now)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return fmt.Errorf("time travel: %w", err)
		}
	}
}

// Airdrop requests lamports for to (test chains and devnet) and waits for the commitment.
func (c *Client) Airdrop(ctx context.Context, to solana.PublicKey, lamports uint64) (solana.Signature, error) {
	var sig solana.Signature
	err := c.call(ctx, "requestAirdrop", func(ctx context.Context) (err error) {
		sig, err = c.rpc.RequestAirdrop(ctx, to, lamports, c.commitment)
		return err
	})
	if err != nil {
		return sig, fmt.Errorf("airdrop %d lamports to %s: %w", lamports, to, err)
	}
	// The airdrop's blockhash is the node's: give it the life of one (about a minute).
	start := time.Now()
	err = c.confirm(ctx, sig, nil, func(context.Context) (bool, error) {
		return time.Since(start) > 90*time.Second, nil
	})
	if errors.Is(err, ErrBlockhashExpired) {
		err = ErrNotConfirmed
	}
	if err != nil {
		return sig, fmt.Errorf("airdrop %d lamports to %s: %w", lamports, to, err)
	}
	return sig, nil
}

// Balance returns the lamports of an account (0 if it does not exist).
func (c *Client) Balance(ctx context.Context, key solana.PublicKey) (uint64, error) {
	var out *rpc.GetBalanceResult
	err := c.call(ctx, "getBalance", func(ctx context.Context) (err error) {
		out, err = c.rpc.GetBalance(ctx, key, c.commitment)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("balance of %s: %w", key, err)
	}
	return out.Value, nil
}
