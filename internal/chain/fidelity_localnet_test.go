package chain

import (
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/localnettest"
)

// A wrong harness makes every other test pass falsely: these check that the local chain
// refuses what a validator refuses, with the validator's errors, and that its clock is the one
// the program reads.

func transfer(t *testing.T, from, to solana.PublicKey, blockhash solana.Hash) *solana.Transaction {
	t.Helper()
	tx, err := solana.NewTransaction([]solana.Instruction{
		system.NewTransferInstruction(1000, from, to).Build(),
	}, blockhash, solana.TransactionPayer(from))
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func sendRaw(t *testing.T, c *Client, tx *solana.Transaction) error {
	t.Helper()
	_, err := c.RPC().SendTransactionWithOpts(testContext(t, 30*time.Second), tx, rpc.TransactionOpts{})
	return err
}

func TestLocalnetRefusesWhatAValidatorRefuses(t *testing.T) {
	ln := localnettest.Start(t)
	ctx := testContext(t, time.Minute)
	c := client(ln)
	payer := fundedKeypair(t, ctx, c, 10)
	to := solana.NewWallet().PublicKey()
	bh, err := c.RPC().GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := c.Balance(ctx, payer.PublicKey())

	t.Run("bad signature", func(t *testing.T) {
		tx := transfer(t, payer.PublicKey(), to, bh.Value.Blockhash)
		if err := SignTransaction(tx, payer); err != nil {
			t.Fatal(err)
		}
		tx.Signatures[0][10] ^= 0xff
		err := sendRaw(t, c, tx)
		// Agave answers -32003 "Transaction signature verification failure"; surfpool 1.6.1
		// answers -32002 "... did not pass signature verification" (a known difference of the
		// engine, see the README of program/localnet). Both refuse it before execution.
		if err == nil || !strings.Contains(err.Error(), "signature verification") {
			t.Fatalf("got %v; want a signature verification failure", err)
		}
	})
	t.Run("unknown blockhash", func(t *testing.T) {
		tx := transfer(t, payer.PublicKey(), to, solana.Hash(solana.NewWallet().PublicKey()))
		if err := SignTransaction(tx, payer); err != nil {
			t.Fatal(err)
		}
		err := sendRaw(t, c, tx)
		if err == nil || !strings.Contains(err.Error(), "BlockhashNotFound") && !strings.Contains(err.Error(), "Blockhash not found") {
			t.Fatalf("got %v; want BlockhashNotFound", err)
		}
	})
	t.Run("missing signer", func(t *testing.T) {
		// The instruction needs `from` to sign, but the message does not make it a signer.
		victim := fundedKeypair(t, ctx, c, 1)
		data, err := system.NewTransferInstruction(1000, victim.PublicKey(), to).Build().Data()
		if err != nil {
			t.Fatal(err)
		}
		ix := solana.NewInstruction(solana.SystemProgramID, solana.AccountMetaSlice{
			solana.Meta(victim.PublicKey()).WRITE(), solana.Meta(to).WRITE(),
		}, data)
		tx, err := solana.NewTransaction([]solana.Instruction{ix}, bh.Value.Blockhash, solana.TransactionPayer(payer.PublicKey()))
		if err != nil {
			t.Fatal(err)
		}
		if err := SignTransaction(tx, payer); err != nil {
			t.Fatal(err)
		}
		err = sendRaw(t, c, tx)
		if err == nil || !strings.Contains(err.Error(), "MissingRequiredSignature") && !strings.Contains(err.Error(), "missing required signature") {
			t.Fatalf("got %v; want MissingRequiredSignature", err)
		}
	})
	after, _ := c.Balance(ctx, payer.PublicKey())
	if after != before {
		t.Fatalf("refused transactions moved lamports: %d -> %d", before, after)
	}
}

func TestTimeTravelMovesTheProgramsClockOnlyForward(t *testing.T) {
	ln := localnettest.Start(t)
	ctx := testContext(t, time.Minute)
	c := client(ln)
	payer := fundedKeypair(t, ctx, c, 10)
	now, err := c.ChainTime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	target := now + 48*3600
	if err := c.TimeTravel(ctx, target); err != nil {
		t.Fatal(err)
	}
	// The program reads the clock: a multisig created now stamps nothing, but a pause event
	// carries `at` from Clock::get().
	createKey := mustKeypair(t)
	init := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), payer.PublicKey(), governor.InitializeMultisigArgs{
		Members: []solana.PublicKey{payer.PublicKey()}, Threshold: 1, TimelockSeconds: 3600,
		ProposalLifetimeSeconds: 3600, Guardian: payer.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	if _, err := c.Send(ctx, []solana.Instruction{init}, payer, createKey); err != nil {
		t.Fatal(err)
	}
	sig, err := c.Send(ctx, []solana.Instruction{governor.NewPauseSystemInstruction(init.Multisig, payer.PublicKey())}, payer)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := c.GetTransactionEvents(ctx, sig)
	if err != nil {
		t.Fatal(err)
	}
	paused, ok := evs.Events[0].Event.(*governor.SystemPaused)
	if !ok || paused.At < target {
		t.Fatalf("program saw time %v, want >= %d", evs.Events, target)
	}
	// Back in time is refused, and the clock does not move back.
	if err := c.TimeTravel(ctx, now); err == nil {
		t.Fatal("travel into the past was accepted")
	}
	if after, err := c.ChainTime(ctx); err != nil || after < target {
		t.Fatalf("clock after refused travel: %d (%v), want >= %d", after, err, target)
	}
}
