package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/counters"
	"github.com/upgrade-governor/upgrade-governor/bench/internal/govflow"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// Cost is what one proposal costs: Temporal history and transaction bytes.
type Cost struct {
	// ProposalEvents is the history length of the proposal workflow with a migration (the
	// migration's own events are in its child), MigrationEvents that of the child's last run.
	ProposalEvents       int64 `json:"proposal_history_events"`
	ProposalHistoryBytes int64 `json:"proposal_history_bytes"`
	// ProposalEventTypes counts the proposal workflow's events by type.
	ProposalEventTypes     map[string]int `json:"proposal_event_types"`
	PlainProposalEvents    int64          `json:"plain_proposal_history_events"`
	MigrationRuns          int            `json:"migration_runs"`
	MigrationLastRunEvents int64          `json:"migration_last_run_events"`
	MigrationLastRunBytes  int64          `json:"migration_last_run_bytes"`
	// Transactions: one per governance instruction, as the member or worker sends it.
	Transactions []TxCost `json:"transactions"`
	// MaxMigrateAccounts is the most accounts one migrate_account transaction holds in 1,232 bytes.
	MaxMigrateAccounts int `json:"max_migrate_accounts_per_tx"`
}

// TxCost is the size of a transaction holding one instruction.
type TxCost struct {
	Instruction string `json:"instruction"`
	Bytes       int    `json:"bytes"`
	Accounts    int    `json:"accounts"`
	Signers     int    `json:"signers"`
}

func (b *bench) cost(ctx context.Context, m *Migration) (*Cost, error) {
	f := b.flow
	c := &Cost{}
	if !b.oursProposal.IsZero() {
		id := workflows.ProposalWorkflowID(b.oursProposal.String())
		if d, err := b.temporal.DescribeWorkflowExecution(ctx, id, ""); err == nil {
			c.ProposalEvents = d.WorkflowExecutionInfo.HistoryLength
			c.ProposalHistoryBytes = d.WorkflowExecutionInfo.HistorySizeBytes
		}
		c.ProposalEventTypes = map[string]int{}
		it := b.temporal.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return c, fmt.Errorf("history of %s: %w", id, err)
			}
			c.ProposalEventTypes[strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")]++
		}
		mid := workflows.MigrationWorkflowID(b.oursProposal.String())
		if d, err := b.temporal.DescribeWorkflowExecution(ctx, mid, ""); err == nil {
			c.MigrationLastRunEvents = d.WorkflowExecutionInfo.HistoryLength
			c.MigrationLastRunBytes = d.WorkflowExecutionInfo.HistorySizeBytes
		}
		if m != nil {
			c.MigrationRuns = m.Ours.Runs
		}
	}

	// Every instruction with the keys of this run; sizes depend only on account and signer
	// counts and the data, so any keys of the right shape give the same bytes.
	members := make([]solana.PublicKey, len(f.Members))
	for i, k := range f.Members {
		members[i] = k.PublicKey()
	}
	payer, guardian := f.Payer.PublicKey(), b.st.Guardian.PublicKey()
	proposal, _ := governor.FindProposalAddress(f.Multisig, 1)
	program, buffer := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	createKey := solana.NewWallet().PublicKey()
	accounts := func(n int) []solana.PublicKey {
		out := make([]solana.PublicKey, n)
		for i := range out {
			out[i] = solana.NewWallet().PublicKey()
		}
		return out
	}
	type named struct {
		name  string
		ix    solana.Instruction
		payer solana.PublicKey
	}
	ixs := []named{
		{"initialize_multisig (5 members)", governor.NewInitializeMultisigInstruction(createKey, payer, governor.InitializeMultisigArgs{
			Members: members, Threshold: govflow.Threshold, TimelockSeconds: 1, ProposalLifetimeSeconds: 1, Guardian: guardian,
			GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
		}), payer},
		{"propose_upgrade (migration, 27-byte description)", governor.NewProposeUpgradeInstruction(f.Multisig, 1, members[0], members[0], program, buffer,
			governor.ProposeUpgradeArgs{Description: "benchmark: migrate counters", Migration: &governor.MigrationPlan{TargetVersion: 2, InstructionData: []byte{2}, FromVersion: 1, DataSize: 64}}), members[0]},
		{"propose_upgrade (256-byte description)", governor.NewProposeUpgradeInstruction(f.Multisig, 1, members[0], members[0], program, buffer,
			governor.ProposeUpgradeArgs{Description: strings.Repeat("d", governor.MaxDescriptionLen)}), members[0]},
		{"approve_upgrade", governor.NewApproveUpgradeInstruction(f.Multisig, proposal, members[1]), members[1]},
		{"execute_upgrade", governor.NewExecuteUpgradeInstruction(f.Multisig, proposal, guardian, program, buffer, members[0]), guardian},
		{"cancel_upgrade", governor.NewCancelUpgradeInstruction(f.Multisig, proposal, guardian), guardian},
		{"pause_system", governor.NewPauseSystemInstruction(f.Multisig, guardian), guardian},
		{"resume_system (one member's vote)", governor.NewResumeSystemInstruction(f.Multisig, members[0]), members[0]},
		{"migrate_account (1 account)", governor.NewMigrateAccountInstruction(f.Multisig, proposal, program, guardian, accounts(1)), guardian},
		{fmt.Sprintf("migrate_account (%d accounts)", workflows.DefaultAccountsPerTx), governor.NewMigrateAccountInstruction(f.Multisig, proposal, program, guardian, accounts(workflows.DefaultAccountsPerTx)), guardian},
	}
	for n := 1; n <= governor.MaxMigrateAccounts; n++ {
		ix := governor.NewMigrateAccountInstruction(f.Multisig, proposal, program, guardian, accounts(n))
		if counters.TxSize([]solana.Instruction{ix}, guardian) > counters.MaxTxSize {
			break
		}
		c.MaxMigrateAccounts = n
	}
	if c.MaxMigrateAccounts > 0 {
		n := c.MaxMigrateAccounts
		ixs = append(ixs, named{fmt.Sprintf("migrate_account (%d accounts, the most that fit)", n),
			governor.NewMigrateAccountInstruction(f.Multisig, proposal, program, guardian, accounts(n)), guardian})
	}
	for _, n := range ixs {
		tx := []solana.Instruction{n.ix}
		accs, signers := counters.TxAccounts(tx, n.payer)
		c.Transactions = append(c.Transactions, TxCost{
			Instruction: n.name, Bytes: counters.TxSize(tx, n.payer), Accounts: accs, Signers: signers,
		})
	}
	return c, nil
}
