// Package scenario is the upgrade story the demo tells and the end-to-end test checks: a
// 3-of-5 multisig that rotates a lost member's key through its own config proposal, a proposal
// with its buffer hash, three approvals through the API (one by the new member), the
// timelock crossed by time travel, execution (the program's bytes change), the migration of
// the governed program's accounts, and an emergency cancel with the temporal CLI.
package scenario

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/member"
	"github.com/upgrade-governor/upgrade-governor/internal/notify"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

const (
	timelock = 48 * time.Hour
	lifetime = 7 * 24 * time.Hour
	// The governed counter's state accounts: 64 bytes, version byte first.
	counterStateLen = 64
)

// Options tune a run.
type Options struct {
	// Accounts is how many counter accounts to create and migrate.
	Accounts int
	// TemporalBin is the temporal CLI used for the emergency stop.
	TemporalBin string
	// ELFDir holds governed_counter_v1.so and governed_counter_v2.so.
	ELFDir string
	// Out receives the story, step by step.
	Out io.Writer
}

// Result is what a run did.
type Result struct {
	Multisig, Program   solana.PublicKey
	Executed, Cancelled solana.PublicKey
	// Rotation is the config proposal that replaced member 5's lost key (Removed) with a new
	// one (Added).
	Rotation, Removed, Added solana.PublicKey
	// Notified are the notification types the demo's webhook receiver got, signatures
	// verified, each event once (by its idempotency key), in the order they arrived.
	Notified     []string
	Migrated     int
	AuditEntries int
}

// Run tells the story against a running stack.
func Run(ctx context.Context, st *devstack.Stack, o Options) (Result, error) {
	api, err := apiclient.New(st.APIURL, &http.Client{Timeout: 60 * time.Second})
	if err != nil {
		return Result{}, err
	}
	d := &demo{stack: st, c: st.Chain, api: api, out: o.Out}
	if d.out == nil {
		d.out = io.Discard
	}
	if d.v1, err = os.ReadFile(filepath.Join(o.ELFDir, "governed_counter_v1.so")); err != nil {
		return Result{}, fmt.Errorf("read v1 ELF: %w", err)
	}
	if d.v2, err = os.ReadFile(filepath.Join(o.ELFDir, "governed_counter_v2.so")); err != nil {
		return Result{}, fmt.Errorf("read v2 ELF: %w", err)
	}
	err = d.scenario(ctx, o.Accounts, o.TemporalBin)
	return d.res, err
}

// shellJoin prints a command so a shell runs it as is.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " '\"$`\\|&;<>()*?!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// Step prints a step of the story.
func Step(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "==> "+format+"\n", args...)
}

type demo struct {
	stack    *devstack.Stack
	c        *chain.Client
	api      *apiclient.Client
	payer    *chain.Keypair
	members  []*chain.Keypair
	multisig solana.PublicKey
	program  solana.PublicKey
	v1, v2   []byte
	out      io.Writer
	res      Result
	hook     *receiver
}

func (d *demo) scenario(ctx context.Context, accounts int, temporalBin string) error {
	var err error
	if d.payer, err = d.fund(ctx); err != nil {
		return err
	}
	Step(d.out, "Creating a 3-of-5 multisig with a 48-hour timelock and a guardian")
	for i := 0; i < 5; i++ {
		m, err := d.fund(ctx)
		if err != nil {
			return err
		}
		d.members = append(d.members, m)
	}
	createKey, _ := chain.NewKeypair()
	keys := make([]solana.PublicKey, 5)
	for i, m := range d.members {
		keys[i] = m.PublicKey()
	}
	ix := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), d.payer.PublicKey(), governor.InitializeMultisigArgs{
		Members: keys, Threshold: 3, TimelockSeconds: int64(timelock / time.Second),
		ProposalLifetimeSeconds: int64(lifetime / time.Second), Guardian: d.stack.Guardian.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	if _, err := d.c.Send(ctx, []solana.Instruction{ix}, d.payer, createKey); err != nil {
		return fmt.Errorf("initialize multisig: %w", err)
	}
	d.multisig = ix.Multisig
	d.res.Multisig = d.multisig
	authority, _ := governor.FindAuthorityAddress(d.multisig)
	fmt.Fprintf(d.out, "    multisig %s, authority PDA %s\n", d.multisig, authority)
	// The deployment serves only the multisigs its operator lists: nobody else's proposals
	// start workflows or spend the worker's fee payer.
	fmt.Fprintf(d.out, "    the operator serves it: apiserver multisig serve %s --label demo\n", d.multisig)
	if err := d.stack.ServeMultisig(ctx, d.multisig, "demo"); err != nil {
		return err
	}
	if err := d.subscribe(ctx); err != nil {
		return err
	}

	Step(d.out, "Deploying the governed counter v1 (a real SBF ELF) and handing its upgrade authority to the PDA")
	programKP, _ := chain.NewKeypair()
	d.program = programKP.PublicKey()
	d.res.Program = d.program
	if err := d.c.DeployProgram(ctx, d.payer, d.payer, programKP, d.v1, len(d.v1)); err != nil {
		return fmt.Errorf("deploy v1: %w", err)
	}
	if _, err := d.c.Send(ctx, []solana.Instruction{
		loader.NewSetProgramAuthorityInstruction(d.program, d.payer.PublicKey(), authority),
	}, d.payer); err != nil {
		return fmt.Errorf("hand upgrade authority to the PDA: %w", err)
	}
	fmt.Fprintf(d.out, "    program %s (v1 hash %s)\n", d.program, hexHash(d.v1))

	Step(d.out, "Creating %d counter accounts under v1", accounts)
	if err := d.createCounters(ctx, accounts); err != nil {
		return err
	}

	if err := d.rotateMember(ctx); err != nil {
		return err
	}

	Step(d.out, "Writing v2 to a buffer and handing the buffer to the PDA")
	buffer, err := d.writeBuffer(ctx, d.v2, authority)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "    buffer %s, hash %s (solana-verify get-buffer-hash)\n", buffer, hexHash(d.v2))

	Step(d.out, "Member 1 proposes the upgrade through the API")
	proposal, err := d.propose(ctx, buffer, "Upgrade the counter to v2 (moves fields; migrates accounts)",
		&api.MigrationPlanBody{TargetVersion: intp(2), FromVersion: intp(1), DataSize: int64p(counterStateLen), VersionOffset: int64p(0)},
		&governor.MigrationPlan{TargetVersion: 2, InstructionData: []byte{2}, FromVersion: 1, DataSize: counterStateLen})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "    proposal %s, workflow %s\n", proposal, workflows.ProposalWorkflowID(proposal.String()))
	d.res.Executed = proposal

	Step(d.out, "Three members approve, the new member among them")
	eta, err := d.approve(ctx, proposal, 1, 2, 4)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "    approved: the timelock ends at %s\n", eta.UTC().Format(time.RFC3339))

	Step(d.out, "Crossing the 48-hour timelock by time travel on the local chain")
	if err := d.c.TimeTravel(ctx, eta.Unix()+1); err != nil {
		return fmt.Errorf("time travel: %w", err)
	}
	// Anyone may execute after the timelock; a member's signed request asks the worker now.
	if err := d.askExecute(ctx, proposal); err != nil {
		return err
	}
	if _, err := d.waitStatus(ctx, proposal, "executed", 2*time.Minute); err != nil {
		return err
	}
	pd, err := d.c.GetProgramData(ctx, d.program)
	if err != nil {
		return fmt.Errorf("read program data: %w", err)
	}
	if !bytes.Equal(loader.TrimTrailingZeros(pd.ELF), loader.TrimTrailingZeros(d.v2)) {
		return errors.New("program data does not hold the v2 ELF after execution")
	}
	fmt.Fprintf(d.out, "    executed: ProgramData now holds v2 (hash %x)\n", pd.Hash())

	Step(d.out, "Migrating every counter account to the v2 layout")
	migrated, err := d.waitMigration(ctx, proposal, accounts)
	if err != nil {
		return err
	}
	// The chain, not the index, has the last word: every counter now has the v2 layout.
	left, err := d.c.ListProgramAccounts(ctx, d.program, counterStateLen, chain.Memcmp{Offset: 0, Bytes: []byte{1}})
	if err != nil {
		return fmt.Errorf("list v1 accounts: %w", err)
	}
	d.res.Migrated = migrated
	if len(left) != 0 {
		return fmt.Errorf("%d accounts still have the v1 layout after the migration", len(left))
	}
	fmt.Fprintf(d.out, "    migrated %d accounts (none left at the v1 layout on chain)\n", migrated)

	Step(d.out, "A second proposal, approved, then stopped in an emergency with the temporal CLI")
	buffer2, err := d.writeBuffer(ctx, d.v2, authority)
	if err != nil {
		return err
	}
	p2, err := d.propose(ctx, buffer2, "A change we will regret", nil, nil)
	if err != nil {
		return err
	}
	d.res.Cancelled = p2
	if _, err := d.approve(ctx, p2, 2, 3, 4); err != nil {
		return err
	}
	wf := workflows.ProposalWorkflowID(p2.String())
	cmd := exec.CommandContext(ctx, temporalBin, "workflow", "cancel", "--address", d.stack.TemporalAddress,
		"--workflow-id", wf)
	// Printed as it runs, so it can be pasted (the dev server may not be on the default port).
	fmt.Fprintf(d.out, "    $ %s\n", shellJoin(cmd.Args))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("temporal workflow cancel: %w: %s", err, out)
	}
	if _, err := d.waitStatus(ctx, p2, "cancelled", 2*time.Minute); err != nil {
		return err
	}
	fmt.Fprintln(d.out, "    cancelled on chain by the guardian; rollback recorded")

	if err := d.printNotifications(ctx); err != nil {
		return err
	}
	Step(d.out, "The audit trail")
	return d.printAudit(ctx)
}

// receiver is the demo's webhook endpoint: it checks each delivery's signature and keeps each
// event once (a redelivery carries the same idempotency key).
type receiver struct {
	secret string
	mu     sync.Mutex
	seen   map[string]bool
	got    []notice
	bad    int
}

type notice struct {
	Type    string `json:"type"`
	Summary string `json:"summary"`
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := notify.Verify(r.secret, req.Header.Get(notify.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var n notice
	if err := json.Unmarshal(body, &n); err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	if key := req.Header.Get("Idempotency-Key"); !r.seen[key] {
		r.seen[key] = true
		r.got = append(r.got, n)
	}
	w.WriteHeader(http.StatusNoContent)
}

// subscribe starts the receiver and subscribes it to the multisig as an operator does.
func (d *demo) subscribe(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("webhook receiver: %w", err)
	}
	d.hook = &receiver{seen: map[string]bool{}}
	srv := &http.Server{Handler: d.hook, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(d.out, "    the webhook receiver stopped: %v\n", err)
		}
	}()
	url := "http://" + ln.Addr().String() + "/hook"
	secret, err := d.stack.SubscribeWebhook(ctx, "demo-receiver", url, d.multisig)
	if err != nil {
		return err
	}
	d.hook.mu.Lock()
	d.hook.secret = secret
	d.hook.mu.Unlock()
	fmt.Fprintf(d.out, "    a webhook receiver listens at %s: apiserver webhook create --name demo-receiver --url %s --multisig %s\n",
		url, url, short(d.multisig.String()))
	return nil
}

// printNotifications waits for the story's last notification (the emergency stop's cancel)
// and prints what the receiver got.
func (d *demo) printNotifications(ctx context.Context) error {
	Step(d.out, "What the webhook receiver was told (signatures verified, each event once)")
	deadline := time.Now().Add(30 * time.Second)
	for {
		d.hook.mu.Lock()
		done := slices.ContainsFunc(d.hook.got, func(n notice) bool { return n.Type == "proposal.cancelled" })
		got, bad := slices.Clone(d.hook.got), d.hook.bad
		d.hook.mu.Unlock()
		if done || time.Now().After(deadline) || ctx.Err() != nil {
			for _, n := range got {
				fmt.Fprintf(d.out, "    %-28s %s\n", n.Type, n.Summary)
				d.res.Notified = append(d.res.Notified, n.Type)
			}
			if bad > 0 {
				return fmt.Errorf("the webhook receiver refused %d deliveries whose signature did not verify", bad)
			}
			if !done {
				return fmt.Errorf("the webhook receiver got %d notifications, not the emergency stop's cancel, within 30 s", len(got))
			}
			return nil
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// rotateMember: member 5 lost their key. The multisig replaces it through its own governance:
// a config proposal (remove the lost key, add a new one), three approvals, the timelock, then
// execution. From then on the new key counts, the lost one does not.
func (d *demo) rotateMember(ctx context.Context) error {
	Step(d.out, "Member 5 lost their key: a config proposal replaces it (the multisig governs itself)")
	lost := d.members[4]
	fresh, err := d.fund(ctx)
	if err != nil {
		return err
	}
	actions := []governor.ConfigAction{governor.RemoveMember(lost.PublicKey()), governor.AddMember(fresh.PublicKey())}
	signed, err := member.ProposeConfig(ctx, d.c, d.multisig, d.members[0], actions, "Rotate member 5's lost key")
	if err != nil {
		return err
	}
	b64, err := signed.Base64()
	if err != nil {
		return err
	}
	if err := d.post(ctx, "/proposals", map[string]any{"transaction": b64}, nil); err != nil {
		return fmt.Errorf("POST /proposals (config): %w", err)
	}
	rotation := signed.Proposal
	d.res.Rotation, d.res.Removed, d.res.Added = rotation, lost.PublicKey(), fresh.PublicKey()
	fmt.Fprintf(d.out, "    proposal %s: remove %s, add %s\n", rotation, short(lost.PublicKey().String()), short(fresh.PublicKey().String()))
	eta, err := d.approve(ctx, rotation, 0, 1, 2)
	if err != nil {
		return err
	}
	if err := d.c.TimeTravel(ctx, eta.Unix()+1); err != nil {
		return fmt.Errorf("time travel: %w", err)
	}
	if err := d.askExecute(ctx, rotation); err != nil {
		return err
	}
	if _, err := d.waitStatus(ctx, rotation, "executed", 2*time.Minute); err != nil {
		return err
	}
	ms, err := d.c.GetMultisig(ctx, d.multisig)
	if err != nil {
		return fmt.Errorf("read multisig: %w", err)
	}
	if ms.IsMember(lost.PublicKey()) || !ms.IsMember(fresh.PublicKey()) {
		return fmt.Errorf("after the rotation the members are %v", ms.Members)
	}
	d.members[4] = fresh
	fmt.Fprintf(d.out, "    executed: members are now %d, threshold %d; proposals made before it are stale\n", len(ms.Members), ms.Threshold)
	return nil
}

// askExecute posts a member's signed execute transaction: the worker executes now.
func (d *demo) askExecute(ctx context.Context, proposal solana.PublicKey) error {
	execTx, err := member.Execute(ctx, d.c, proposal, d.members[0])
	if err != nil {
		return err
	}
	execB64, err := execTx.Base64()
	if err != nil {
		return err
	}
	if err := d.post(ctx, "/proposals/"+proposal.String()+"/execute", map[string]any{"transaction": execB64}, nil); err != nil {
		return fmt.Errorf("ask to execute: %w", err)
	}
	return nil
}

func (d *demo) fund(ctx context.Context) (*chain.Keypair, error) {
	k, err := chain.NewKeypair()
	if err != nil {
		return nil, err
	}
	if _, err := d.c.Airdrop(ctx, k.PublicKey(), 100*solana.LAMPORTS_PER_SOL); err != nil {
		return nil, fmt.Errorf("airdrop: %w", err)
	}
	return k, nil
}

func (d *demo) writeBuffer(ctx context.Context, elf []byte, authority solana.PublicKey) (solana.PublicKey, error) {
	kp, _ := chain.NewKeypair()
	if err := d.c.WriteBuffer(ctx, d.payer, d.payer, kp, elf); err != nil {
		return solana.PublicKey{}, fmt.Errorf("write buffer: %w", err)
	}
	if _, err := d.c.Send(ctx, []solana.Instruction{
		loader.NewSetBufferAuthorityInstruction(kp.PublicKey(), d.payer.PublicKey(), authority),
	}, d.payer); err != nil {
		return solana.PublicKey{}, fmt.Errorf("hand buffer to the PDA: %w", err)
	}
	return kp.PublicKey(), nil
}

// createCounters creates state accounts with seeds (one signature per transaction) and
// initializes them with v1's init, several per transaction, many transactions in flight.
func (d *demo) createCounters(ctx context.Context, n int) error {
	rent, err := d.c.MinimumBalanceForRentExemption(ctx, counterStateLen)
	if err != nil {
		return err
	}
	const perTx = 5
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	sem := make(chan struct{}, 16)
	bar := newBar(d.out, n)
	for start := 0; start < n; start += perTx {
		var ixs []solana.Instruction
		for i := start; i < min(start+perTx, n); i++ {
			seed := fmt.Sprintf("counter-%d", i)
			addr, err := solana.CreateWithSeed(d.payer.PublicKey(), seed, d.program)
			if err != nil {
				return err
			}
			ixs = append(ixs, system.NewCreateAccountWithSeedInstruction(d.payer.PublicKey(), seed, rent, counterStateLen,
				d.program, d.payer.PublicKey(), addr, d.payer.PublicKey()).Build())
			data := make([]byte, 9)
			data[0] = 0 // init
			data[1] = byte(100 + i%100)
			ixs = append(ixs, solana.NewInstruction(d.program, solana.AccountMetaSlice{
				solana.Meta(addr).WRITE(), solana.Meta(d.payer.PublicKey()).SIGNER(),
			}, data))
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(count int) {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := d.c.Send(ctx, ixs, d.payer); err != nil {
				select {
				case errs <- fmt.Errorf("create counters: %w", err):
				default:
				}
				return
			}
			bar.add(count)
		}(len(ixs) / 2)
	}
	wg.Wait()
	bar.done()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func (d *demo) propose(ctx context.Context, buffer solana.PublicKey, description string, plan *api.MigrationPlanBody, onchain *governor.MigrationPlan) (solana.PublicKey, error) {
	signed, err := member.Propose(ctx, d.c, d.multisig, d.members[0], d.program, buffer, loader.ELFHash(d.v2), description, onchain)
	if err != nil {
		return solana.PublicKey{}, err
	}
	b64, err := signed.Base64()
	if err != nil {
		return solana.PublicKey{}, err
	}
	body := map[string]any{"transaction": b64, "description": description}
	if plan != nil {
		body["migration"] = plan
	}
	if err := d.post(ctx, "/proposals", body, nil); err != nil {
		return solana.PublicKey{}, fmt.Errorf("POST /proposals: %w", err)
	}
	return signed.Proposal, nil
}

func (d *demo) approve(ctx context.Context, proposal solana.PublicKey, who ...int) (time.Time, error) {
	// The proposal workflow must have proposed on chain before approvals can land.
	if _, err := d.waitStatus(ctx, proposal, "active", time.Minute); err != nil {
		return time.Time{}, err
	}
	for n, i := range who {
		signed, err := member.Approve(ctx, d.c, d.multisig, proposal, d.members[i])
		if err != nil {
			return time.Time{}, err
		}
		b64, err := signed.Base64()
		if err != nil {
			return time.Time{}, err
		}
		var res map[string]any
		if err := d.post(ctx, "/proposals/"+proposal.String()+"/approve", map[string]any{"transaction": b64}, &res); err != nil {
			return time.Time{}, fmt.Errorf("approve by member %d: %w", i+1, err)
		}
		fmt.Fprintf(d.out, "    member %d approved (%d/3)\n", i+1, n+1)
	}
	p, err := d.waitStatus(ctx, proposal, "approved", time.Minute)
	if err != nil {
		return time.Time{}, err
	}
	if p.Eta == nil {
		return time.Time{}, errors.New("approved proposal has no eta")
	}
	return *p.Eta, nil
}

func (d *demo) waitStatus(ctx context.Context, proposal solana.PublicKey, want string, limit time.Duration) (api.ProposalView, error) {
	deadline := time.Now().Add(limit)
	var last api.ProposalDetailResponse
	for {
		err := d.get(ctx, "/proposals/"+proposal.String(), &last)
		if err == nil && last.Proposal.Status == want {
			return last.Proposal, nil
		}
		if err == nil && last.Workflow != nil && last.Workflow.State != nil && last.Workflow.State.LastError != "" {
			return api.ProposalView{}, fmt.Errorf("proposal %s: %s", proposal, last.Workflow.State.LastError)
		}
		if time.Now().After(deadline) {
			return api.ProposalView{}, fmt.Errorf("proposal %s is %q after %s, want %q (last error: %v)", proposal, last.Proposal.Status, limit, want, err)
		}
		select {
		case <-ctx.Done():
			return api.ProposalView{}, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func (d *demo) waitMigration(ctx context.Context, proposal solana.PublicKey, total int) (int, error) {
	id := workflows.MigrationWorkflowID(proposal.String())
	bar := newBar(d.out, total)
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var m map[string]json.RawMessage
		err := d.get(ctx, "/migration/"+id, &m)
		if err == nil {
			var job struct {
				Status   string `json:"status"`
				Total    int    `json:"total"`
				Migrated int    `json:"migrated"`
				Failed   int    `json:"failed"`
			}
			if raw, ok := m["job"]; ok && json.Unmarshal(raw, &job) == nil {
				bar.set(job.Migrated)
				switch job.Status {
				case "completed":
					bar.done()
					return job.Migrated, nil
				case "failed", "cancelled":
					bar.done()
					return job.Migrated, fmt.Errorf("migration %s %s: %d failed", id, job.Status, job.Failed)
				}
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("migration %s not done after 10 minutes (%v)", id, err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (d *demo) printAudit(ctx context.Context) error {
	var page struct {
		Entries []struct {
			RecordedAt time.Time `json:"recorded_at"`
			Actor      string    `json:"actor"`
			Action     string    `json:"action"`
			Proposal   string    `json:"proposal"`
			Signature  string    `json:"signature"`
			Source     string    `json:"source"`
		} `json:"entries"`
	}
	// The rollback row and the indexer's rows land a moment after the chain changed.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := d.get(ctx, "/audit?limit=200", &page); err != nil {
			return fmt.Errorf("GET /audit: %w", err)
		}
		rollback, indexed := false, false
		for _, e := range page.Entries {
			rollback = rollback || e.Action == "rollback.recorded"
			indexed = indexed || e.Action == "chain.upgrade_cancelled"
		}
		if (rollback && indexed) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Oldest first; a run of the same action (one row per migrated batch) is one line.
	for i := len(page.Entries) - 1; i >= 0; i-- {
		e := page.Entries[i]
		n := 1
		for i > 0 && page.Entries[i-1].Action == e.Action && page.Entries[i-1].Source == e.Source &&
			page.Entries[i-1].Proposal == e.Proposal && strings.HasSuffix(e.Action, "accounts_migrated") {
			i--
			n++
		}
		action := e.Action
		if n > 1 {
			action = fmt.Sprintf("%s x%d", action, n)
		}
		fmt.Fprintf(d.out, "    %s  %-8s %-32s %-12s %s\n", e.RecordedAt.Local().Format("15:04:05"), e.Source, action, short(e.Actor), short(e.Proposal))
	}
	// Each entry also has `at`, when it happened by the clock `at_clock` names: the local
	// chain's clock was moved 48 hours by time travel, so the time printed is when it was recorded.
	fmt.Fprintf(d.out, "    (%d entries, in the order they were recorded; the times are when)\n", len(page.Entries))
	d.res.AuditEntries = len(page.Entries)
	return nil
}

func (d *demo) post(ctx context.Context, path string, body any, out any) error {
	return d.api.Post(ctx, path, body, out)
}

func (d *demo) get(ctx context.Context, path string, out any) error {
	return d.api.Get(ctx, path, out)
}

// bar is a one-line progress bar.
type bar struct {
	mu     sync.Mutex
	w      io.Writer
	total  int
	n      int
	drawn  int // filled cells last drawn, so a log file gets one line per step, not per update
	closed bool
}

func newBar(w io.Writer, total int) *bar { return &bar{w: w, total: max(total, 1)} }

func (b *bar) add(n int) { b.mu.Lock(); b.n += n; b.draw(false); b.mu.Unlock() }
func (b *bar) set(n int) { b.mu.Lock(); b.n = n; b.draw(false); b.mu.Unlock() }

func (b *bar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.draw(true)
		fmt.Fprintln(b.w)
		b.closed = true
	}
}

const barWidth = 40

func (b *bar) draw(force bool) {
	filled := min(barWidth*b.n/b.total, barWidth)
	if filled == b.drawn && !force {
		return
	}
	b.drawn = filled
	fmt.Fprintf(b.w, "\r    [%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), b.n, b.total)
}

func hexHash(elf []byte) string {
	h := loader.ELFHash(elf)
	return hex.EncodeToString(h[:])
}

func short(s string) string {
	if len(s) > 12 {
		return s[:5] + "…" + s[len(s)-4:]
	}
	return s
}

func intp(v int) *int       { return &v }
func int64p(v int64) *int64 { return &v }
