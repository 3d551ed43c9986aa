package chain

import (
	"errors"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/localnettest"
)

func TestLandedFailureIsAProgramErrorWithSignatureAndLogs(t *testing.T) {
	ln := localnettest.Start(t)
	ctx := testContext(t, time.Minute)
	c := client(ln, WithSkipPreflight())
	payer := fundedKeypair(t, ctx, c, 10)
	createKey := mustKeypair(t)
	// Threshold 0 breaks a rule: without preflight the transaction lands and fails.
	ix := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), payer.PublicKey(), governor.InitializeMultisigArgs{
		Members: []solana.PublicKey{payer.PublicKey()}, Threshold: 0, TimelockSeconds: 3600, ProposalLifetimeSeconds: 3600, Guardian: payer.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	_, err := c.Send(ctx, []solana.Instruction{ix}, payer, createKey)
	pe := wantProgramError(t, err, governor.ProgramID, governor.ErrInvalidThreshold.Code)
	if pe.Signature.IsZero() || len(pe.Logs) == 0 || !errors.Is(err, governor.ErrInvalidThreshold) {
		t.Fatalf("landed failure: signature %s, %d log lines", pe.Signature, len(pe.Logs))
	}
	te, err := c.GetTransactionEvents(ctx, pe.Signature)
	if err != nil {
		t.Fatal(err)
	}
	if !te.Failed || len(te.Events) != 0 {
		t.Fatalf("failed transaction: failed=%v, %d events", te.Failed, len(te.Events))
	}
	if _, err := c.GetMultisig(ctx, ix.Multisig); !errors.Is(err, ErrAccountNotFound) {
		t.Fatalf("multisig of a failed initialize: %v", err)
	}

	// A runtime error that is not a custom code: the loader refuses a buffer hand-over signed
	// by someone who is not its authority.
	authority, stranger, buffer := mustKeypair(t), mustKeypair(t), mustKeypair(t)
	if err := c.WriteBuffer(ctx, payer, authority, buffer, []byte{0x7f, 'E', 'L', 'F', 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(ctx, []solana.Instruction{loader.NewSetBufferAuthorityInstruction(buffer.PublicKey(), stranger.PublicKey(), stranger.PublicKey())},
		payer, stranger)
	var txErr *TransactionError
	if !errors.As(err, &txErr) || txErr.Kind != "IncorrectAuthority" || txErr.Instruction != 0 || !txErr.Program.Equals(loader.ID) || IsRetryable(err) {
		t.Fatalf("got %T %v; want the loader's IncorrectAuthority", err, err)
	}
	t.Logf("refused as expected: %v", err)
}

func TestSendSignedCannotResignAnExpiredTransaction(t *testing.T) {
	// Short slots, so a blockhash (150 blocks) expires in a few seconds.
	ln := localnettest.Start(t, "--slot-time-ms", "20")
	ctx := testContext(t, time.Minute)
	c := client(ln)
	payer := fundedKeypair(t, ctx, c, 10)
	bh, err := c.RPC().GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := solana.NewTransaction(transferIx(payer.PublicKey(), solana.NewWallet().PublicKey(), 1_000_000), bh.Value.Blockhash,
		solana.TransactionPayer(payer.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	if err := SignTransaction(tx, payer); err != nil {
		t.Fatal(err)
	}
	for {
		h, err := c.RPC().GetBlockHeight(ctx, rpc.CommitmentConfirmed)
		if err != nil {
			t.Fatal(err)
		}
		if h > bh.Value.LastValidBlockHeight+5 {
			break
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.SendSigned(ctx, tx)
	if !errors.Is(err, ErrBlockhashExpired) || !IsRetryable(err) {
		t.Fatalf("got %v; want ErrBlockhashExpired", err)
	}
	// A transaction whose signature does not verify never reaches the node.
	tx.Signatures[0][0] ^= 1
	if _, err := c.SendSigned(ctx, tx); err == nil {
		t.Fatal("a forged signature was sent")
	}
}

func TestReadsOfMissingThingsAreTypedErrors(t *testing.T) {
	ln := localnettest.Start(t)
	ctx := testContext(t, time.Minute)
	c := client(ln)
	nobody := solana.NewWallet().PublicKey()
	if _, err := c.GetAccount(ctx, nobody); !errors.Is(err, ErrAccountNotFound) {
		t.Errorf("GetAccount: %v", err)
	}
	if _, err := c.GetProposal(ctx, nobody); !errors.Is(err, ErrAccountNotFound) {
		t.Errorf("GetProposal: %v", err)
	}
	if _, err := c.GetTransactionEvents(ctx, solana.Signature{1}); !errors.Is(err, ErrTransactionNotFound) {
		t.Errorf("GetTransactionEvents: %v", err)
	}
	// An account that exists but is not the governor's.
	payer := fundedKeypair(t, ctx, c, 1)
	if _, err := c.GetMultisig(ctx, payer.PublicKey()); !errors.Is(err, governor.ErrWrongAccount) {
		t.Errorf("GetMultisig of a wallet: %v", err)
	}
	if list, err := c.ListProposals(ctx, nobody); err != nil || len(list) != 0 {
		t.Errorf("ListProposals of no multisig: %v, %v", list, err)
	}
	if now, err := c.ChainTime(ctx); err != nil || now < 1_600_000_000 {
		t.Errorf("ChainTime: %d, %v", now, err)
	}
}
