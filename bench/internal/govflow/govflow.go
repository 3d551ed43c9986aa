// Package govflow drives governed upgrades of the example counter program on a running stack:
// through the API as members would (the worker proposes, executes and migrates), or straight
// on chain with no worker involved (the benchmarks' control group).
package govflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Governance settings of the flow's multisig: 3 of 5, the default 48-hour timelock.
const (
	Threshold = 3
	Timelock  = 48 * time.Hour
	Lifetime  = 7 * 24 * time.Hour
)

// Flow is a 3-of-5 multisig with a guardian (the worker's key) on a running stack.
type Flow struct {
	Stack     *devstack.Stack
	Chain     *chain.Client
	Payer     *chain.Keypair
	Members   []*chain.Keypair
	Multisig  solana.PublicKey
	Authority solana.PublicKey
	// V1 and V2 are the governed counter's ELFs.
	V1, V2 []byte

	api *apiclient.Client
}

// New funds a payer and five members and creates the multisig on chain.
func New(ctx context.Context, st *devstack.Stack, elfDir string) (*Flow, error) {
	api, err := apiclient.New(st.APIURL, &http.Client{Timeout: 60 * time.Second})
	if err != nil {
		return nil, err
	}
	f := &Flow{Stack: st, Chain: st.Chain, api: api}
	if f.V1, err = os.ReadFile(filepath.Join(elfDir, "governed_counter_v1.so")); err != nil {
		return nil, fmt.Errorf("read v1 ELF: %w", err)
	}
	if f.V2, err = os.ReadFile(filepath.Join(elfDir, "governed_counter_v2.so")); err != nil {
		return nil, fmt.Errorf("read v2 ELF: %w", err)
	}
	if f.Payer, err = f.NewFunded(ctx, 1_000*solana.LAMPORTS_PER_SOL); err != nil {
		return nil, err
	}
	keys := make([]solana.PublicKey, 5)
	for i := range keys {
		m, err := f.NewFunded(ctx, 10*solana.LAMPORTS_PER_SOL)
		if err != nil {
			return nil, err
		}
		f.Members = append(f.Members, m)
		keys[i] = m.PublicKey()
	}
	createKey, err := chain.NewKeypair()
	if err != nil {
		return nil, err
	}
	ix := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), f.Payer.PublicKey(), governor.InitializeMultisigArgs{
		Members: keys, Threshold: Threshold, TimelockSeconds: int64(Timelock / time.Second),
		ProposalLifetimeSeconds: int64(Lifetime / time.Second), Guardian: st.Guardian.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	if _, err := f.Chain.Send(ctx, []solana.Instruction{ix}, f.Payer, createKey); err != nil {
		return nil, fmt.Errorf("initialize multisig: %w", err)
	}
	f.Multisig = ix.Multisig
	f.Authority, _ = governor.FindAuthorityAddress(f.Multisig)
	if err := st.ServeMultisig(ctx, f.Multisig, "bench"); err != nil {
		return nil, err
	}
	return f, nil
}

// NewFunded returns a fresh key holding lamports (airdropped in steps of 1,000 SOL).
func (f *Flow) NewFunded(ctx context.Context, lamports uint64) (*chain.Keypair, error) {
	k, err := chain.NewKeypair()
	if err != nil {
		return nil, err
	}
	return k, f.Fund(ctx, k.PublicKey(), lamports)
}

// Fund airdrops lamports to key.
func (f *Flow) Fund(ctx context.Context, key solana.PublicKey, lamports uint64) error {
	const step = 1_000 * solana.LAMPORTS_PER_SOL
	for lamports > 0 {
		n := min(lamports, step)
		if _, err := f.Chain.Airdrop(ctx, key, n); err != nil {
			return fmt.Errorf("fund %s: %w", key, err)
		}
		lamports -= n
	}
	return nil
}

// Deploy deploys the counter's v1 and hands its upgrade authority to the multisig's PDA.
func (f *Flow) Deploy(ctx context.Context) (solana.PublicKey, error) {
	programKP, err := chain.NewKeypair()
	if err != nil {
		return solana.PublicKey{}, err
	}
	if err := f.Chain.DeployProgram(ctx, f.Payer, f.Payer, programKP, f.V1, len(f.V1)); err != nil {
		return solana.PublicKey{}, fmt.Errorf("deploy v1: %w", err)
	}
	if _, err := f.Chain.Send(ctx, []solana.Instruction{
		loader.NewSetProgramAuthorityInstruction(programKP.PublicKey(), f.Payer.PublicKey(), f.Authority),
	}, f.Payer); err != nil {
		return solana.PublicKey{}, fmt.Errorf("hand upgrade authority to the PDA: %w", err)
	}
	return programKP.PublicKey(), nil
}

// Upgrade is an upgrade to propose.
type Upgrade struct {
	Program solana.PublicKey
	ELF     []byte
	// Migrate declares the v1 -> v2 migration of every 64-byte state account.
	Migrate     bool
	Description string
}

// migrationBody is POST /proposals' migration field (openapi.yaml: MigrationPlan).
type migrationBody struct {
	TargetVersion int   `json:"target_version"`
	FromVersion   int   `json:"from_version"`
	DataSize      int64 `json:"data_size"`
	VersionOffset int64 `json:"version_offset"`
}

func (u Upgrade) plans() (*migrationBody, *governor.MigrationPlan) {
	if !u.Migrate {
		return nil, nil
	}
	return &migrationBody{TargetVersion: 2, FromVersion: 1, DataSize: 64, VersionOffset: 0},
		&governor.MigrationPlan{TargetVersion: 2, InstructionData: []byte{2}, FromVersion: 1, DataSize: 64, VersionOffset: 0}
}

// Detail is the part of GET /proposals/:id the flow reads.
type Detail struct {
	Proposal struct {
		Status string     `json:"status"`
		Eta    *time.Time `json:"eta"`
	} `json:"proposal"`
	Workflow *struct {
		State *struct {
			Step      string `json:"step"`
			LastError string `json:"last_error"`
		} `json:"state"`
	} `json:"workflow"`
}

// buffer writes elf to a new buffer and hands it to the PDA.
func (f *Flow) buffer(ctx context.Context, elf []byte) (solana.PublicKey, error) {
	kp, err := chain.NewKeypair()
	if err != nil {
		return solana.PublicKey{}, err
	}
	if err := f.Chain.WriteBuffer(ctx, f.Payer, f.Payer, kp, elf); err != nil {
		return solana.PublicKey{}, fmt.Errorf("write buffer: %w", err)
	}
	if _, err := f.Chain.Send(ctx, []solana.Instruction{
		loader.NewSetBufferAuthorityInstruction(kp.PublicKey(), f.Payer.PublicKey(), f.Authority),
	}, f.Payer); err != nil {
		return solana.PublicKey{}, fmt.Errorf("hand buffer to the PDA: %w", err)
	}
	return kp.PublicKey(), nil
}

func (f *Flow) signPropose(ctx context.Context, u Upgrade) (member.Signed, error) {
	buffer, err := f.buffer(ctx, u.ELF)
	if err != nil {
		return member.Signed{}, err
	}
	_, onchain := u.plans()
	if u.Description == "" {
		u.Description = "benchmark upgrade"
	}
	return member.Propose(ctx, f.Chain, f.Multisig, f.Members[0], u.Program, buffer, loader.ELFHash(u.ELF), u.Description, onchain)
}

// Propose writes the buffer and has member 1 propose through the API; it returns once the
// worker's proposal is on chain.
func (f *Flow) Propose(ctx context.Context, u Upgrade) (solana.PublicKey, error) {
	signed, err := f.signPropose(ctx, u)
	if err != nil {
		return solana.PublicKey{}, err
	}
	b64, err := signed.Base64()
	if err != nil {
		return solana.PublicKey{}, err
	}
	body := map[string]any{"transaction": b64, "description": u.Description}
	if plan, _ := u.plans(); plan != nil {
		body["migration"] = plan
	}
	if err := f.Post(ctx, "/proposals", body, nil); err != nil {
		return solana.PublicKey{}, fmt.Errorf("POST /proposals: %w", err)
	}
	if _, err := f.WaitStatus(ctx, signed.Proposal, "active", 2*time.Minute); err != nil {
		return solana.PublicKey{}, err
	}
	return signed.Proposal, nil
}

// Approve has members 1-3 approve through the API and returns the end of the timelock.
func (f *Flow) Approve(ctx context.Context, proposal solana.PublicKey) (time.Time, error) {
	for i := range Threshold {
		signed, err := member.Approve(ctx, f.Chain, f.Multisig, proposal, f.Members[i])
		if err != nil {
			return time.Time{}, err
		}
		b64, err := signed.Base64()
		if err != nil {
			return time.Time{}, err
		}
		if err := f.Post(ctx, "/proposals/"+proposal.String()+"/approve", map[string]any{"transaction": b64}, nil); err != nil {
			return time.Time{}, fmt.Errorf("approve by member %d: %w", i+1, err)
		}
	}
	d, err := f.WaitStatus(ctx, proposal, "approved", 2*time.Minute)
	if err != nil {
		return time.Time{}, err
	}
	if d.Proposal.Eta == nil {
		return time.Time{}, errors.New("approved proposal has no eta")
	}
	return *d.Proposal.Eta, nil
}

// PassTimelock moves the local chain's clock past eta.
func (f *Flow) PassTimelock(ctx context.Context, eta time.Time) error {
	now, err := f.Chain.ChainTime(ctx)
	if err != nil {
		return err
	}
	if now > eta.Unix() {
		return nil
	}
	return f.Chain.TimeTravel(ctx, eta.Unix()+1)
}

// RequestExecute asks the worker to execute, with member 1's signed execute transaction.
func (f *Flow) RequestExecute(ctx context.Context, proposal solana.PublicKey) error {
	tx, err := member.Execute(ctx, f.Chain, proposal, f.Members[0])
	if err != nil {
		return err
	}
	b64, err := tx.Base64()
	if err != nil {
		return err
	}
	if err := f.Post(ctx, "/proposals/"+proposal.String()+"/execute", map[string]any{"transaction": b64}, nil); err != nil {
		return fmt.Errorf("ask to execute: %w", err)
	}
	return nil
}

// ProposeOnChain proposes straight through RPC: no workflow runs for it (the indexer still
// records it).
func (f *Flow) ProposeOnChain(ctx context.Context, u Upgrade) (solana.PublicKey, error) {
	signed, err := f.signPropose(ctx, u)
	if err != nil {
		return solana.PublicKey{}, err
	}
	if _, err := f.Chain.SendSigned(ctx, signed.Tx); err != nil {
		return solana.PublicKey{}, fmt.Errorf("propose on chain: %w", err)
	}
	return signed.Proposal, nil
}

// ApproveOnChain has members 1-3 approve through RPC and returns the end of the timelock.
func (f *Flow) ApproveOnChain(ctx context.Context, proposal solana.PublicKey) (time.Time, error) {
	for i := range Threshold {
		signed, err := member.Approve(ctx, f.Chain, f.Multisig, proposal, f.Members[i])
		if err != nil {
			return time.Time{}, err
		}
		if _, err := f.Chain.SendSigned(ctx, signed.Tx); err != nil {
			return time.Time{}, fmt.Errorf("approve on chain by member %d: %w", i+1, err)
		}
	}
	p, err := f.Chain.GetProposal(ctx, proposal)
	if err != nil {
		return time.Time{}, err
	}
	if p.Eta == 0 {
		return time.Time{}, errors.New("approved proposal has no eta")
	}
	return time.Unix(p.Eta, 0), nil
}

// ExecuteOnChain extends ProgramData if the new ELF needs it, then has member 1 execute.
// The loader refuses an upgrade in the slot of an extension: it tries again a few slots on.
func (f *Flow) ExecuteOnChain(ctx context.Context, proposal solana.PublicKey, program solana.PublicKey, elfLen int) error {
	if _, err := f.Chain.ExtendProgramIfNeeded(ctx, f.Payer, program, elfLen); err != nil {
		return err
	}
	var last error
	for attempt := 0; attempt < 10; attempt++ {
		signed, err := member.Execute(ctx, f.Chain, proposal, f.Members[0])
		if err != nil {
			return err
		}
		if _, last = f.Chain.SendSigned(ctx, signed.Tx); last == nil {
			return nil
		}
		time.Sleep(400 * time.Millisecond)
	}
	return fmt.Errorf("execute on chain: %w", last)
}

// WaitDeployed polls ProgramData until it holds elf.
func (f *Flow) WaitDeployed(ctx context.Context, program solana.PublicKey, elf []byte, limit time.Duration) error {
	want := loader.ELFHash(elf)
	deadline := time.Now().Add(limit)
	for {
		pd, err := f.Chain.GetProgramData(ctx, program)
		if err == nil && pd.Hash() == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("program %s does not hold the new ELF after %s (%v)", program, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// WaitStatus polls GET /proposals/:id until the proposal has status want.
func (f *Flow) WaitStatus(ctx context.Context, proposal solana.PublicKey, want string, limit time.Duration) (Detail, error) {
	deadline := time.Now().Add(limit)
	var last Detail
	for {
		err := f.Get(ctx, "/proposals/"+proposal.String(), &last)
		if err == nil && last.Proposal.Status == want {
			return last, nil
		}
		if time.Now().After(deadline) {
			lastErr := ""
			if last.Workflow != nil && last.Workflow.State != nil {
				lastErr = last.Workflow.State.LastError
			}
			return last, fmt.Errorf("proposal %s is %q after %s, want %q (request: %v, workflow: %s)",
				proposal, last.Proposal.Status, limit, want, err, lastErr)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Post sends a JSON body to the API.
func (f *Flow) Post(ctx context.Context, path string, body, out any) error {
	return f.api.Post(ctx, path, body, out)
}

// Get reads a JSON answer of the API.
func (f *Flow) Get(ctx context.Context, path string, out any) error {
	return f.api.Get(ctx, path, out)
}

// WaitJob polls the migration job's row until it is completed, failed or cancelled. onProgress,
// if set, sees every poll (the job may not exist yet: then it is not called). A job whose
// counters do not move for stall fails the wait.
func WaitJob(ctx context.Context, st *store.Store, id string, limit, stall time.Duration, onProgress func(store.MigrationJob)) (store.MigrationJob, error) {
	deadline := time.Now().Add(limit)
	var last store.MigrationJob
	lastMove := time.Now()
	for {
		j, err := st.GetMigrationJob(ctx, id)
		switch {
		case err == nil:
			if j.Migrated != last.Migrated || j.Failed != last.Failed || j.Status != last.Status || j.Total != last.Total {
				lastMove = time.Now()
			}
			last = j
			if onProgress != nil {
				onProgress(j)
			}
			switch j.Status {
			case store.JobCompleted:
				return j, nil
			case store.JobFailed, store.JobCancelled:
				return j, fmt.Errorf("migration %s %s: %d of %d migrated, %d failed: %s", id, j.Status, j.Migrated, j.Total, j.Failed, j.LastError)
			}
		case !errors.Is(err, store.ErrNotFound):
			// PostgreSQL may be restarting under a fault drill: keep polling until the limit.
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("migration %s not done after %s: %d of %d migrated (%v)", id, limit, last.Migrated, last.Total, err)
		}
		if time.Since(lastMove) > stall {
			return last, fmt.Errorf("migration %s made no progress for %s: %d of %d migrated, status %q", id, stall, last.Migrated, last.Total, last.Status)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
