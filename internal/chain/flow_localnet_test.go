package chain

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/localnettest"
)

// The example governed program (program/examples/governed-counter): sBPF v0 ELFs.
const counterELFDir = "../../program/examples/governed-counter/elf/"

// Its instructions and its 64-byte state layouts (src/common/constants.s).
const (
	counterTagInit    = 0
	counterTagMigrate = 2
	counterTagTouch   = 3
	counterStateLen   = 64
	// counterErrInvalidInstruction is v1's answer to a tag it does not know (touch).
	counterErrInvalidInstruction = 1
)

type counterState struct {
	Version    byte
	Owner      solana.PublicKey
	Balance    uint64
	TouchCount uint64
}

func parseCounter(t *testing.T, data []byte) counterState {
	t.Helper()
	if len(data) != counterStateLen {
		t.Fatalf("counter state has %d bytes", len(data))
	}
	switch data[0] {
	case 1: // v1: owner 8..40, balance 40..48
		return counterState{Version: 1, Owner: solana.PublicKeyFromBytes(data[8:40]), Balance: binary.LittleEndian.Uint64(data[40:48])}
	case 2: // v2: balance 8..16, owner 16..48, touch_count 48..56
		return counterState{Version: 2, Balance: binary.LittleEndian.Uint64(data[8:16]), Owner: solana.PublicKeyFromBytes(data[16:48]),
			TouchCount: binary.LittleEndian.Uint64(data[48:56])}
	}
	t.Fatalf("counter layout version %d", data[0])
	return counterState{}
}

func readELF(t *testing.T, name string) []byte {
	t.Helper()
	elf, err := os.ReadFile(counterELFDir + name)
	if err != nil {
		t.Fatalf("example ELF: %v", err)
	}
	return elf
}

func counterInitIx(program, state, owner solana.PublicKey, balance uint64) solana.Instruction {
	data := binary.LittleEndian.AppendUint64([]byte{counterTagInit}, balance)
	return solana.NewInstruction(program, solana.AccountMetaSlice{solana.Meta(state).WRITE(), solana.Meta(owner).SIGNER()}, data)
}

func counterTouchIx(program, state solana.PublicKey) solana.Instruction {
	return solana.NewInstruction(program, solana.AccountMetaSlice{solana.Meta(state).WRITE()}, []byte{counterTagTouch})
}

func send(t *testing.T, ctx context.Context, c *Client, ixs []solana.Instruction, signers ...*Keypair) solana.Signature {
	t.Helper()
	sig, err := c.Send(ctx, ixs, signers...)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return sig
}

// wantProgramError asserts err is a ProgramError of program with code.
func wantProgramError(t *testing.T, err error, program solana.PublicKey, code uint32) *ProgramError {
	t.Helper()
	var pe *ProgramError
	if !errors.As(err, &pe) || pe.Code != code || !pe.Program.Equals(program) {
		t.Fatalf("got %T %v; want custom error %d of %s", err, err, code, program)
	}
	if IsRetryable(err) {
		t.Fatalf("program error %v is marked retryable", err)
	}
	t.Logf("refused as expected: %v (signature %s, %d log lines)", err, pe.Signature, len(pe.Logs))
	return pe
}

// wantGovernorError asserts err is the governor's rule want.
func wantGovernorError(t *testing.T, err error, want *governor.Error) {
	t.Helper()
	pe := wantProgramError(t, err, governor.ProgramID, want.Code)
	if pe.Name != want.Name || !errors.Is(err, want) {
		t.Fatalf("got %v; want %s", err, want.Name)
	}
}

// eventsOf returns the governor events the transaction emitted.
func eventsOf(t *testing.T, ctx context.Context, c *Client, sig solana.Signature) []governor.Event {
	t.Helper()
	te, err := c.GetTransactionEvents(ctx, sig)
	if err != nil {
		t.Fatalf("events of %s: %v", sig, err)
	}
	if te.Failed || te.Slot == 0 {
		t.Fatalf("transaction %s: failed=%v slot=%d", sig, te.Failed, te.Slot)
	}
	out := make([]governor.Event, len(te.Events))
	for i, e := range te.Events {
		out[i] = e.Event
	}
	return out
}

// oneEvent asserts the transaction emitted exactly one event, of type T.
func oneEvent[T governor.Event](t *testing.T, ctx context.Context, c *Client, sig solana.Signature) T {
	t.Helper()
	evs := eventsOf(t, ctx, c, sig)
	if len(evs) != 1 {
		t.Fatalf("transaction %s emitted %d events, want 1: %#v", sig, len(evs), evs)
	}
	ev, ok := evs[0].(T)
	if !ok {
		t.Fatalf("transaction %s emitted %T, want %T", sig, evs[0], ev)
	}
	return ev
}

// eventOf returns the transaction's event of type T (a transaction may emit several, as the
// vote that resumes: ResumeVoted, then SystemResumed).
func eventOf[T governor.Event](t *testing.T, ctx context.Context, c *Client, sig solana.Signature) T {
	t.Helper()
	evs := eventsOf(t, ctx, c, sig)
	for _, e := range evs {
		if ev, ok := e.(T); ok {
			return ev
		}
	}
	var zero T
	t.Fatalf("transaction %s emitted no %T: %#v", sig, zero, evs)
	return zero
}

func pubkeys(kps []*Keypair) []solana.PublicKey {
	out := make([]solana.PublicKey, len(kps))
	for i, k := range kps {
		out[i] = k.PublicKey()
	}
	return out
}

// TestGovernanceFlowOnLocalnet drives the whole life of a governed upgrade through the real
// program on the real runtime: a 3-of-5 multisig takes over a deployed program; a proposal is
// approved (one approval member-signed, as the API server receives it) and, 48 hours of time
// travel later, refused for lack of room; a second proposal is cancelled by the guardian; a
// pause holds the execution while the ProgramData is extended, until three members resume;
// the upgrade executes; the counters are migrated in batches and run v2-only code. Every
// step's events are read back from getTransaction.
func TestGovernanceFlowOnLocalnet(t *testing.T) {
	ln := localnettest.Start(t)
	ctx := testContext(t, 5*time.Minute)
	c := client(ln)
	payer := fundedKeypair(t, ctx, c, 100)
	var members []*Keypair
	for range 5 {
		members = append(members, mustKeypair(t))
	}
	// Member 2 sends its own approval and pays for it.
	if _, err := c.Airdrop(ctx, members[2].PublicKey(), solana.LAMPORTS_PER_SOL); err != nil {
		t.Fatal(err)
	}
	guardian, createKey, dev := mustKeypair(t), mustKeypair(t), mustKeypair(t)
	v1, v2 := readELF(t, "governed_counter_v1.so"), readELF(t, "governed_counter_v2.so")
	if len(v2) <= len(v1) {
		t.Fatalf("the flow needs v2 (%d bytes) larger than v1 (%d) to exercise ExtendProgram", len(v2), len(v1))
	}

	// --- A 3-of-5 multisig with a 48-hour timelock.
	const timelock, lifetime = 48 * 3600, 7 * 24 * 3600
	initIx := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), payer.PublicKey(), governor.InitializeMultisigArgs{
		Members: pubkeys(members), Threshold: 3, TimelockSeconds: timelock, ProposalLifetimeSeconds: lifetime, Guardian: guardian.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	multisig, authority := initIx.Multisig, initIx.Authority
	sig := send(t, ctx, c, []solana.Instruction{initIx}, payer, createKey)
	initEv := oneEvent[*governor.MultisigInitialized](t, ctx, c, sig)
	if initEv.Multisig != multisig || initEv.Authority != authority || !slices.Equal(initEv.Members, pubkeys(members)) ||
		initEv.Threshold != 3 || initEv.TimelockSeconds != timelock || initEv.Guardian != guardian.PublicKey() {
		t.Fatalf("MultisigInitialized %+v", initEv)
	}
	ms, err := c.GetMultisig(ctx, multisig)
	if err != nil {
		t.Fatal(err)
	}
	if ms.Threshold != 3 || len(ms.Members) != 5 || ms.Paused || ms.ProposalIndex != 0 || ms.CreateKey != createKey.PublicKey() {
		t.Fatalf("multisig %+v", ms)
	}

	// --- The governed counter, v1, deployed with real loader instructions, room for v1 only;
	// its upgrade authority handed to the governor's PDA.
	progKp := mustKeypair(t)
	program := progKp.PublicKey()
	if err := c.DeployProgram(ctx, payer, dev, progKp, v1, len(v1)); err != nil {
		t.Fatal(err)
	}
	send(t, ctx, c, []solana.Instruction{loader.NewSetProgramAuthorityInstruction(program, dev.PublicKey(), authority)}, payer, dev)
	pd, err := c.GetProgramData(ctx, program)
	if err != nil {
		t.Fatal(err)
	}
	if pd.UpgradeAuthority == nil || *pd.UpgradeAuthority != authority || !bytes.Equal(pd.ELF, v1) || pd.Hash() != loader.ELFHash(v1) {
		t.Fatalf("ProgramData after deploy: authority %v, %d ELF bytes", pd.UpgradeAuthority, len(pd.ELF))
	}
	waitNextSlot(t, ctx, c)

	// Counters in the v1 layout, to migrate after the upgrade.
	rent, err := c.MinimumBalanceForRentExemption(ctx, counterStateLen)
	if err != nil {
		t.Fatal(err)
	}
	var states []solana.PublicKey
	for i := range 5 {
		st := mustKeypair(t)
		send(t, ctx, c, []solana.Instruction{
			system.NewCreateAccountInstruction(rent, counterStateLen, program, payer.PublicKey(), st.PublicKey()).Build(),
			counterInitIx(program, st.PublicKey(), payer.PublicKey(), 100+uint64(i)),
		}, payer, st)
		states = append(states, st.PublicKey())
	}
	for i, s := range states {
		acc, err := c.GetAccount(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if st := parseCounter(t, acc.Data.GetBinary()); st.Version != 1 || st.Balance != 100+uint64(i) || st.Owner != payer.PublicKey() {
			t.Fatalf("counter %d: %+v", i, st)
		}
	}
	// v1 has no touch instruction.
	_, err = c.Send(ctx, []solana.Instruction{counterTouchIx(program, states[0])}, payer)
	wantProgramError(t, err, program, counterErrInvalidInstruction)

	// --- v2 written into a buffer, handed to the PDA.
	bufKp := mustKeypair(t)
	buffer := bufKp.PublicKey()
	if err := c.WriteBuffer(ctx, payer, dev, bufKp, v2); err != nil {
		t.Fatal(err)
	}
	send(t, ctx, c, []solana.Instruction{loader.NewSetBufferAuthorityInstruction(buffer, dev.PublicKey(), authority)}, payer, dev)
	buf, err := c.GetBuffer(ctx, buffer)
	if err != nil {
		t.Fatal(err)
	}
	hash := buf.Hash()
	if buf.Authority == nil || *buf.Authority != authority || hash != loader.ELFHash(v2) {
		t.Fatalf("buffer authority %v, hash %x", buf.Authority, hash)
	}

	plan := &governor.MigrationPlan{TargetVersion: 2, InstructionData: []byte{counterTagMigrate}, FromVersion: 1, DataSize: 64}
	propose := func(index uint64, hash [32]byte, proposer *Keypair) (solana.PublicKey, solana.Signature, error) {
		ix := governor.NewProposeUpgradeInstruction(multisig, index, proposer.PublicKey(), payer.PublicKey(), program, buffer,
			governor.ProposeUpgradeArgs{BufferHash: hash, Description: "governed-counter v2", Migration: plan})
		sig, err := c.Send(ctx, []solana.Instruction{ix}, payer, proposer)
		return ix.Proposal, sig, err
	}
	approve := func(proposal solana.PublicKey, m *Keypair) (solana.Signature, error) {
		return c.Send(ctx, []solana.Instruction{governor.NewApproveUpgradeInstruction(multisig, proposal, m.PublicKey())}, payer, m)
	}
	execute := func(proposal solana.PublicKey) (solana.Signature, error) {
		p, err := c.GetProposal(ctx, proposal)
		if err != nil {
			t.Fatal(err)
		}
		return c.Send(ctx, []solana.Instruction{governor.NewExecuteUpgradeInstructionFor(p, payer.PublicKey())}, payer)
	}

	// --- Proposal 1. A wrong hash is refused in preflight, with the governor's error.
	_, _, err = propose(1, [32]byte{1}, members[0])
	wantGovernorError(t, err, governor.ErrBufferHashMismatch)
	var pe *ProgramError
	if errors.As(err, &pe); !pe.Signature.IsZero() || pe.Instruction != 0 || len(pe.Logs) == 0 {
		t.Fatalf("preflight failure: signature %s, instruction %d, %d log lines", pe.Signature, pe.Instruction, len(pe.Logs))
	}
	// A stranger may not propose.
	_, _, err = propose(1, hash, guardian)
	wantGovernorError(t, err, governor.ErrNotAMember)

	p1, sig, err := propose(1, hash, members[0])
	if err != nil {
		t.Fatal(err)
	}
	proposed := oneEvent[*governor.UpgradeProposed](t, ctx, c, sig)
	if proposed.Proposal != p1 || proposed.Index != 1 || proposed.BufferHash != hash || proposed.Buffer != buffer ||
		proposed.TargetProgram != program || proposed.TargetLastDeploySlot != pd.Slot || proposed.TargetProgramHash != loader.ELFHash(v1) ||
		proposed.MigrationTargetVersion == nil || *proposed.MigrationTargetVersion != 2 {
		t.Fatalf("UpgradeProposed %+v", proposed)
	}
	prop, err := c.GetProposal(ctx, p1)
	if err != nil {
		t.Fatal(err)
	}
	if prop.Status != governor.ProposalActive || prop.Proposer != members[0].PublicKey() || prop.Migration == nil ||
		!bytes.Equal(prop.Migration.InstructionData, plan.InstructionData) || prop.ExpiresAt != prop.CreatedAt+lifetime {
		t.Fatalf("proposal 1 %+v", prop)
	}

	// Two approvals sent by the client...
	for i, m := range members[:2] {
		sig, err := approve(p1, m)
		if err != nil {
			t.Fatal(err)
		}
		ev := oneEvent[*governor.UpgradeApproved](t, ctx, c, sig)
		if ev.Member != m.PublicKey() || ev.Approvals != uint8(i+1) || ev.Threshold != 3 || ev.Eta != nil {
			t.Fatalf("UpgradeApproved %+v", ev)
		}
	}
	// ...and the third signed by the member alone, as the API server receives it: it checks
	// program, instruction, proposal and signer, then submits the transaction as it is.
	bh, err := c.RPC().GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	memberTx, err := solana.NewTransaction([]solana.Instruction{governor.NewApproveUpgradeInstruction(multisig, p1, members[2].PublicKey())},
		bh.Value.Blockhash, solana.TransactionPayer(members[2].PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	if err := SignTransaction(memberTx, members[2]); err != nil {
		t.Fatal(err)
	}
	raw, _ := memberTx.MarshalBinary()
	received, err := solana.TransactionFromBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := governor.DecodeTransaction(received)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := decoded[0].Instruction.(*governor.ApproveUpgrade); len(decoded) != 1 || !ok || a.Proposal != p1 || a.Multisig != multisig ||
		a.Member != members[2].PublicKey() {
		t.Fatalf("server-side decode: %+v", decoded)
	}
	sig, err = c.SendSigned(ctx, received)
	if err != nil {
		t.Fatal(err)
	}
	third := oneEvent[*governor.UpgradeApproved](t, ctx, c, sig)
	prop, _ = c.GetProposal(ctx, p1)
	if third.Approvals != 3 || third.Eta == nil || prop.Status != governor.ProposalApproved || *third.Eta != prop.Eta ||
		prop.Eta != prop.ApprovedAt+timelock || len(prop.Approvals) != 3 {
		t.Fatalf("threshold approval: event %+v, proposal status %s eta %d approved_at %d", third, prop.Status, prop.Eta, prop.ApprovedAt)
	}
	_, err = approve(p1, members[3])
	wantGovernorError(t, err, governor.ErrProposalNotActive)
	_, err = execute(p1)
	wantGovernorError(t, err, governor.ErrTimelockNotPassed)

	// 48 hours later the timelock has passed, but v2 does not fit v1's ProgramData.
	if err := c.TimeTravel(ctx, prop.Eta+1); err != nil {
		t.Fatal(err)
	}
	if now, err := c.ChainTime(ctx); err != nil || now < prop.Eta {
		t.Fatalf("chain time %d (%v), eta %d", now, err, prop.Eta)
	}
	_, err = execute(p1)
	wantGovernorError(t, err, governor.ErrProgramDataTooSmall)

	// --- Proposal 2, for the same buffer, is cancelled by the guardian.
	p2, _, err := propose(2, hash, members[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := approve(p2, members[3]); err != nil {
		t.Fatal(err)
	}
	sig = send(t, ctx, c, []solana.Instruction{governor.NewCancelUpgradeInstruction(multisig, p2, guardian.PublicKey())}, payer, guardian)
	cancelled := oneEvent[*governor.UpgradeCancelled](t, ctx, c, sig)
	if cancelled.Proposal != p2 || !cancelled.ByGuardian || cancelled.CancelledBy != guardian.PublicKey() || cancelled.Multisig != multisig {
		t.Fatalf("UpgradeCancelled %+v", cancelled)
	}
	_, err = execute(p2)
	wantGovernorError(t, err, governor.ErrAlreadyCancelled)

	// --- The guardian pauses: nothing executes. Two members cannot resume; three can.
	sig = send(t, ctx, c, []solana.Instruction{governor.NewPauseSystemInstruction(multisig, guardian.PublicKey())}, payer, guardian)
	if ev := oneEvent[*governor.SystemPaused](t, ctx, c, sig); ev.PausedBy != guardian.PublicKey() || ev.Multisig != multisig {
		t.Fatalf("SystemPaused %+v", ev)
	}
	if ms, _ := c.GetMultisig(ctx, multisig); !ms.Paused {
		t.Fatal("not paused")
	}
	// ProgramData is grown before the execution; anyone may, after the proposal (the program
	// compares the deployed code's hash, which zero padding does not change), even while
	// paused. The governor still refuses to execute while paused.
	added, err := c.ExtendProgramIfNeeded(ctx, payer, program, len(v2))
	if err != nil {
		t.Fatal(err)
	}
	pd, err = c.GetProgramData(ctx, program)
	if err != nil {
		t.Fatal(err)
	}
	if added < loader.MinimumExtendProgramBytes || len(pd.ELF) < len(v2) || pd.Hash() != loader.ELFHash(v1) {
		t.Fatalf("extended by %d: %d ELF bytes, hash %x", added, len(pd.ELF), pd.Hash())
	}
	t.Logf("ProgramData extended by %d bytes to %d ELF bytes; deploy slot now %d", added, len(pd.ELF), pd.Slot)
	if again, err := c.ExtendProgramIfNeeded(ctx, payer, program, len(v2)); err != nil || again != 0 {
		t.Fatalf("second extension: %d, %v", again, err)
	}
	_, err = execute(p1)
	wantGovernorError(t, err, governor.ErrSystemPaused)
	// Resuming takes threshold (3) members' votes, each in a transaction of its own.
	resumers := members[2:]
	for i, m := range resumers {
		sig = send(t, ctx, c, []solana.Instruction{governor.NewResumeSystemInstruction(multisig, m.PublicKey())}, payer, m)
		if v := eventOf[*governor.ResumeVoted](t, ctx, c, sig); int(v.Votes) != i+1 || v.Member != m.PublicKey() {
			t.Fatalf("ResumeVoted %+v", v)
		}
		if i == 0 {
			// A second vote of the same member (a different transaction: a priority fee).
			_, err = c.Send(ctx, []solana.Instruction{computebudget.NewSetComputeUnitPriceInstruction(1).Build(),
				governor.NewResumeSystemInstruction(multisig, m.PublicKey())}, payer, m)
			wantGovernorError(t, err, governor.ErrAlreadyVoted)
		}
	}
	if ev := eventOf[*governor.SystemResumed](t, ctx, c, sig); !slices.Equal(ev.Signers, pubkeys(resumers)) || ev.Multisig != multisig {
		t.Fatalf("SystemResumed %+v", ev)
	}
	if ms, _ := c.GetMultisig(ctx, multisig); ms.Paused {
		t.Fatal("still paused")
	}

	// Extension and upgrade cannot share a slot: ExtendProgram records the slot as the
	// program's deploy slot, and the loader's Upgrade refuses a program deployed in the
	// current block. So the worker extends in an earlier transaction, as above.
	prop, err = c.GetProposal(ctx, p1)
	if err != nil {
		t.Fatal(err)
	}
	executeIx := governor.NewExecuteUpgradeInstructionFor(prop, payer.PublicKey())
	_, err = c.Send(ctx, []solana.Instruction{loader.NewExtendProgramInstruction(program, payer.PublicKey(), loader.MinimumExtendProgramBytes), executeIx}, payer)
	var txErr *TransactionError
	if !errors.As(err, &txErr) || txErr.Instruction != 1 || !txErr.Program.Equals(loader.ID) || txErr.Kind != "InvalidArgument" ||
		!slices.Contains(txErr.Logs, "Program was deployed in this block already") {
		t.Fatalf("extend+execute in one transaction: got %v", err)
	}

	// --- Execute: ProgramData then holds exactly v2.
	sig, err = c.Send(ctx, []solana.Instruction{executeIx}, payer)
	if err != nil {
		t.Fatal(err)
	}
	te, err := c.GetTransactionEvents(ctx, sig)
	if err != nil {
		t.Fatal(err)
	}
	// Send puts the compute budget first: the governor's instruction is the second.
	if len(te.Events) != 1 || te.Events[0].Instruction != 1 {
		t.Fatalf("execute transaction events: %+v", te.Events)
	}
	executed, ok := te.Events[0].Event.(*governor.UpgradeExecuted)
	if !ok || executed.Proposal != p1 || executed.TargetProgram != program || executed.BufferHash != hash ||
		executed.Executor != payer.PublicKey() || executed.Multisig != multisig {
		t.Fatalf("UpgradeExecuted %+v", te.Events[0].Event)
	}
	pd, err = c.GetProgramData(ctx, program)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pd.ELF[:len(v2)], v2) || len(loader.TrimTrailingZeros(pd.ELF[len(v2):])) != 0 || pd.Hash() != hash {
		t.Fatal("ProgramData does not hold the v2 ELF")
	}
	t.Logf("upgraded: ProgramData holds v2 (%d bytes) in %d bytes of room", len(v2), len(pd.ELF))
	if prop, _ = c.GetProposal(ctx, p1); prop.Status != governor.ProposalExecuted || prop.ExecutedAt != executed.ExecutedAt {
		t.Fatalf("proposal 1 after execute: %s at %d", prop.Status, prop.ExecutedAt)
	}
	// A new slot first: in the same slot the repeated execute is the very same transaction (same
	// blockhash, same signature), which Send reports as landed.
	waitNextSlot(t, ctx, c)
	_, err = execute(p1)
	wantGovernorError(t, err, governor.ErrAlreadyExecuted)
	if _, err := c.GetAccount(ctx, buffer); !errors.Is(err, ErrAccountNotFound) {
		t.Fatalf("the buffer should be closed into the spill account: %v", err)
	}
	waitNextSlot(t, ctx, c)

	// --- Migrate the v1 counters, found as the worker finds them, several per instruction.
	v1Filter := Memcmp{Offset: 0, Bytes: []byte{1}}
	found, err := c.ListProgramAccounts(ctx, program, counterStateLen, v1Filter)
	if err != nil {
		t.Fatal(err)
	}
	var toMigrate []solana.PublicKey
	for _, a := range found {
		toMigrate = append(toMigrate, a.Pubkey)
	}
	slices.SortFunc(toMigrate, func(a, b solana.PublicKey) int { return bytes.Compare(a[:], b[:]) })
	want := slices.Clone(states)
	slices.SortFunc(want, func(a, b solana.PublicKey) int { return bytes.Compare(a[:], b[:]) })
	if !slices.Equal(toMigrate, want) {
		t.Fatalf("found %d v1 counters, created %d", len(toMigrate), len(states))
	}
	for batch := range slices.Chunk(toMigrate, 3) {
		ix := governor.NewMigrateAccountInstruction(multisig, p1, program, payer.PublicKey(), batch)
		sig := send(t, ctx, c, []solana.Instruction{ix}, payer)
		ev := oneEvent[*governor.AccountsMigrated](t, ctx, c, sig)
		if !slices.Equal(ev.Accounts, batch) || ev.TargetProgram != program || ev.Proposal != p1 {
			t.Fatalf("AccountsMigrated %+v", ev)
		}
	}
	for i, s := range states {
		acc, err := c.GetAccount(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if st := parseCounter(t, acc.Data.GetBinary()); st.Version != 2 || st.Balance != 100+uint64(i) || st.Owner != payer.PublicKey() || st.TouchCount != 0 {
			t.Fatalf("counter %d after migration: %+v", i, st)
		}
	}
	if left, err := c.ListProgramAccounts(ctx, program, counterStateLen, v1Filter); err != nil || len(left) != 0 {
		t.Fatalf("%d v1 counters left (%v)", len(left), err)
	}
	// Migrating again is a no-op.
	send(t, ctx, c, []solana.Instruction{governor.NewMigrateAccountInstruction(multisig, p1, program, payer.PublicKey(), states[:2])}, payer)

	// v2-only code runs: touch counts.
	send(t, ctx, c, []solana.Instruction{counterTouchIx(program, states[0])}, payer)
	acc, err := c.GetAccount(ctx, states[0])
	if err != nil {
		t.Fatal(err)
	}
	if st := parseCounter(t, acc.Data.GetBinary()); st.TouchCount != 1 || st.Balance != 100 {
		t.Fatalf("after touch: %+v", st)
	}
	// And many slots later: a time travel of a day moves the slot far ahead; the engine must
	// not fall back to the old code (program-test was seen doing that after a warp).
	slotBefore, err := c.RPC().GetSlot(ctx, c.Commitment())
	if err != nil {
		t.Fatal(err)
	}
	now, err := c.ChainTime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.TimeTravel(ctx, now+24*3600); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitNextSlot(ctx); err != nil {
		t.Fatal(err)
	}
	slotAfter, err := c.RPC().GetSlot(ctx, c.Commitment())
	if err != nil {
		t.Fatal(err)
	}
	if slotAfter < slotBefore+1000 {
		t.Fatalf("time travel moved the slot from %d only to %d", slotBefore, slotAfter)
	}
	send(t, ctx, c, []solana.Instruction{counterTouchIx(program, states[0])}, payer)
	if acc, err = c.GetAccount(ctx, states[0]); err != nil {
		t.Fatal(err)
	}
	if st := parseCounter(t, acc.Data.GetBinary()); st.TouchCount != 2 {
		t.Fatalf("touch %d slots after the upgrade: %+v", slotAfter-slotBefore, st)
	}

	// The index of proposals.
	list, err := c.ListProposals(ctx, multisig)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Address != p1 || list[0].Status != governor.ProposalExecuted ||
		list[1].Address != p2 || list[1].Status != governor.ProposalCancelled {
		t.Fatalf("ListProposals: %+v", list)
	}
}
