//! upgrade-governor: a multisig with a timelock that owns the upgrade authority of Solana
//! programs, upgrades them through the BPF Upgradeable Loader, and drives account migrations.
//!
//! `lib.rs` is only the dispatch table; each instruction lives in `instructions/<name>.rs`
//! with its accounts and checks.
#![allow(unexpected_cfgs)]
// Anchor's macros expand to code that trips these lints; the handlers themselves are clean.
#![allow(clippy::result_large_err)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod loader;
pub mod state;

pub use errors::GovernorError;
pub use instructions::*;
pub use state::*;

declare_id!("EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5");

#[program]
pub mod upgrade_governor {
    use super::*;

    /// Create a multisig: members, approval threshold, timelock, guardian, grace period, the
    /// longest pause fewer than `threshold` members can hold and the pause cool-down.
    pub fn initialize_multisig(
        ctx: Context<InitializeMultisig>,
        args: InitializeMultisigArgs,
    ) -> Result<()> {
        instructions::initialize_multisig::handler(ctx, args)
    }

    /// A member proposes to upgrade `target_program` with the ELF held in `buffer`.
    pub fn propose_upgrade(ctx: Context<ProposeUpgrade>, args: ProposeUpgradeArgs) -> Result<()> {
        instructions::propose_upgrade::handler(ctx, args)
    }

    /// A member approves a proposal of either kind; reaching the threshold starts the
    /// timelock. Stale proposals take no approvals.
    pub fn approve_upgrade(ctx: Context<ApproveUpgrade>) -> Result<()> {
        instructions::approve_upgrade::handler(ctx)
    }

    /// Anyone executes an approved upgrade proposal once its timelock has passed.
    pub fn execute_upgrade(ctx: Context<ExecuteUpgrade>) -> Result<()> {
        instructions::execute_upgrade::handler(ctx)
    }

    /// Before a proposal executes: the guardian cancels it at once; a member casts a vote to
    /// cancel, and `threshold` current members' votes cancel it.
    pub fn cancel_upgrade(ctx: Context<CancelUpgrade>) -> Result<()> {
        instructions::cancel_upgrade::handler(ctx)
    }

    /// Migrate the accounts passed as remaining accounts through the governed program's
    /// migrate instruction, signed by the program's migration signer (a PDA that is the
    /// authority of nothing); only while the proposal is the program's latest executed upgrade
    /// and the multisig still governs the program.
    pub fn migrate_account<'info>(ctx: Context<'info, MigrateAccount<'info>>) -> Result<()> {
        instructions::migrate_account::handler(ctx)
    }

    /// The guardian or a member stops every execution and migration for at most
    /// `max_pause_seconds`; while paused, each member's call is a vote to extend the pause,
    /// and `threshold` votes make it last until resumed. A key whose pause lapsed or was
    /// overruled cannot pause again during `pause_cooldown_seconds`.
    pub fn pause_system(ctx: Context<PauseSystem>) -> Result<()> {
        instructions::pause_system::handler(ctx)
    }

    /// One member's vote to lift the pause, one transaction each, at any time; `threshold`
    /// current members' votes resume the system.
    pub fn resume_system(ctx: Context<ResumeSystem>) -> Result<()> {
        instructions::resume_system::handler(ctx)
    }

    /// A member proposes changes to the multisig itself (members, threshold, timelock,
    /// lifetime, grace, guardian) or hands a governed program out of governance; approved and
    /// timelocked like an upgrade.
    pub fn propose_config(ctx: Context<ProposeConfig>, args: ProposeConfigArgs) -> Result<()> {
        instructions::propose_config::handler(ctx, args)
    }

    /// Anyone executes an approved config proposal once its timelock has passed: all its
    /// actions or none. A change of the members or the threshold makes every earlier
    /// proposal stale.
    pub fn execute_config<'info>(ctx: Context<'info, ExecuteConfig<'info>>) -> Result<()> {
        instructions::execute_config::handler(ctx)
    }
}
