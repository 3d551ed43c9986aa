use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program::invoke_signed;

use crate::errors::GovernorError;
use crate::events::AccountsMigrated;
use crate::loader;
use crate::state::*;

/// Accounts to migrate come as writable remaining accounts, up to `MAX_MIGRATE_ACCOUNTS`.
/// Each is passed to the governed program's migrate instruction as
/// [state (writable), migration signer (signer), ProgramData]; the governed program checks that
/// the signer is its migration signer, PDA [`migration`, program] of this program (see
/// `governed-auth`), and treats an already-migrated account as a no-op.
///
/// The migration signer is the authority of nothing, so whatever the governed code does with
/// its signature, it cannot upgrade, hand off or close a program or buffer of the multisig. The
/// authority PDA is not an account of this instruction: it never signs for governed code.
#[event_cpi]
#[derive(Accounts)]
pub struct MigrateAccount<'info> {
    #[account(
        seeds = [MULTISIG_SEED, multisig.create_key.as_ref()],
        bump = multisig.bump,
    )]
    pub multisig: Account<'info, Multisig>,
    #[account(
        has_one = multisig,
        has_one = target_program @ GovernorError::WrongTargetProgram,
        has_one = program_data @ GovernorError::WrongProgramData,
        seeds = [PROPOSAL_SEED, multisig.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
    )]
    pub proposal: Account<'info, Proposal>,
    /// A plan runs only while its proposal is the program's latest executed one, so only
    /// against the code it was written for: once a later upgrade executed, the old plan's
    /// instruction data would go to whatever code is deployed now. (A proposal that has not
    /// executed is refused by the handler with `MigrationBeforeExecution`.)
    #[account(
        seeds = [GOVERNED_PROGRAM_SEED, multisig.key().as_ref(), proposal.target_program.as_ref()],
        bump = governed_program.bump,
        constraint = proposal.status != ProposalStatus::Executed
            || governed_program.last_executed_proposal == proposal.key()
            @ GovernorError::MigrationPlanSuperseded,
    )]
    pub governed_program: Account<'info, GovernedProgram>,
    /// The program's migration signer, PDA [`migration`, target program]: signs the governed
    /// program's migrate instruction and nothing else; the authority of nothing.
    /// CHECK: derived from its seeds; no account is stored there, only its signature is used.
    #[account(seeds = [MIGRATION_SEED, proposal.target_program.as_ref()], bump)]
    pub migration_signer: UncheckedAccount<'info>,
    /// CHECK: equal to `proposal.target_program`; invoked by CPI.
    #[account(executable)]
    pub target_program: UncheckedAccount<'info>,
    /// CHECK: equal to `proposal.program_data`; passed through to the governed program.
    pub program_data: UncheckedAccount<'info>,
    /// Whoever sends the batch (the worker); pays the fee.
    pub cranker: Signer<'info>,
}

pub fn handler<'info>(ctx: Context<'info, MigrateAccount<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    // The effective pause: a pause that lapsed no longer holds migrations back.
    require!(
        !ctx.accounts.multisig.is_paused(now),
        GovernorError::SystemPaused
    );
    let proposal = &ctx.accounts.proposal;
    let plan = proposal
        .migration
        .as_ref()
        .ok_or(GovernorError::NoMigrationDeclared)?;
    require!(
        proposal.status == ProposalStatus::Executed,
        GovernorError::MigrationBeforeExecution
    );
    // The migration signer's signature says "the multisig that governs this program now runs
    // the plan of its executed upgrade". Once a config proposal handed the program out of
    // governance, another authority decides what it runs: no signature for it.
    let multisig_key = ctx.accounts.multisig.key();
    require!(
        loader::program_data_upgrade_authority(&ctx.accounts.program_data)?
            == Some(ctx.accounts.multisig.authority_address(&multisig_key)?),
        GovernorError::ProgramNotGoverned
    );
    let accounts = ctx.remaining_accounts;
    require!(!accounts.is_empty(), GovernorError::NothingToMigrate);
    require!(
        accounts.len() <= MAX_MIGRATE_ACCOUNTS,
        GovernorError::TooManyAccounts
    );

    let target_key = proposal.target_program;
    let bump = [ctx.bumps.migration_signer];
    let seeds: [&[u8]; 3] = [MIGRATION_SEED, target_key.as_ref(), &bump];
    let signer = ctx.accounts.migration_signer.to_account_info();
    let program_data = ctx.accounts.program_data.to_account_info();
    let target = ctx.accounts.target_program.to_account_info();

    let mut migrated = Vec::with_capacity(accounts.len());
    for account in accounts {
        require_keys_eq!(
            *account.owner,
            proposal.target_program,
            GovernorError::AccountNotOwnedByTarget
        );
        let ix = Instruction {
            program_id: proposal.target_program,
            accounts: vec![
                AccountMeta::new(*account.key, false),
                AccountMeta::new_readonly(*signer.key, true),
                AccountMeta::new_readonly(*program_data.key, false),
            ],
            data: plan.instruction_data.clone(),
        };
        invoke_signed(
            &ix,
            &[
                account.clone(),
                signer.clone(),
                program_data.clone(),
                target.clone(),
            ],
            &[&seeds],
        )?;
        migrated.push(*account.key);
    }

    emit_cpi!(AccountsMigrated {
        multisig: multisig_key,
        proposal: proposal.key(),
        target_program: proposal.target_program,
        accounts: migrated,
    });
    Ok(())
}
