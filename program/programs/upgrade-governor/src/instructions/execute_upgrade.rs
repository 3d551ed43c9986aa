use anchor_lang::prelude::*;
use anchor_lang::solana_program::{bpf_loader_upgradeable, program::invoke_signed};

use crate::errors::GovernorError;
use crate::events::UpgradeExecuted;
use crate::loader;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ExecuteUpgrade<'info> {
    #[account(
        seeds = [MULTISIG_SEED, multisig.create_key.as_ref()],
        bump = multisig.bump,
    )]
    pub multisig: Account<'info, Multisig>,
    /// The kind is the first rule checked after the proposal's own address: a config
    /// proposal must fail as `NotAnUpgradeProposal`, whatever accounts come with it. So the
    /// accounts below compare themselves with the proposal (`address`, after this check)
    /// rather than the proposal with them (`has_one`, which Anchor checks before any
    /// `constraint`).
    #[account(
        mut,
        has_one = multisig,
        constraint = proposal.kind == ProposalKind::Upgrade @ GovernorError::NotAnUpgradeProposal,
        seeds = [PROPOSAL_SEED, multisig.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
    )]
    pub proposal: Account<'info, Proposal>,
    /// CHECK: the program's `GovernedProgram` record, at its seeds; this proposal becomes its
    /// latest executed one. Read and written by the handler: as an `Account` it would be
    /// decoded before any rule is checked, and a config proposal (no program, no record)
    /// would fail as `AccountNotInitialized` instead of `NotAnUpgradeProposal`.
    #[account(
        mut,
        seeds = [GOVERNED_PROGRAM_SEED, multisig.key().as_ref(), proposal.target_program.as_ref()],
        bump,
    )]
    pub governed_program: UncheckedAccount<'info>,
    /// Anyone may execute once the timelock has passed.
    pub executor: Signer<'info>,
    /// CHECK: the governor's authority PDA; signs the loader's Upgrade.
    #[account(seeds = [AUTHORITY_SEED, multisig.key().as_ref()], bump = multisig.authority_bump)]
    pub authority: UncheckedAccount<'info>,
    /// CHECK: the proposal's target program; the loader checks it.
    #[account(mut, address = proposal.target_program @ GovernorError::WrongTargetProgram)]
    pub target_program: UncheckedAccount<'info>,
    /// CHECK: the proposal's ProgramData; parsed by `loader`.
    #[account(mut, address = proposal.program_data @ GovernorError::WrongProgramData)]
    pub program_data: UncheckedAccount<'info>,
    /// CHECK: the proposal's buffer; parsed by `loader`.
    #[account(mut, address = proposal.buffer @ GovernorError::WrongBuffer)]
    pub buffer: UncheckedAccount<'info>,
    /// CHECK: receives the buffer's lamports; must be the proposer, who paid for it.
    #[account(mut, address = proposal.proposer @ GovernorError::WrongSpill)]
    pub spill: UncheckedAccount<'info>,
    pub rent: Sysvar<'info, Rent>,
    pub clock: Sysvar<'info, Clock>,
    /// CHECK: the BPF Upgradeable Loader, invoked by CPI.
    #[account(address = bpf_loader_upgradeable::ID)]
    pub bpf_loader_upgradeable: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<ExecuteUpgrade>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    // The effective pause: a pause that lapsed no longer holds executions back.
    require!(
        !ctx.accounts.multisig.is_paused(now),
        GovernorError::SystemPaused
    );
    let proposal = &ctx.accounts.proposal;
    proposal.check_executable(&ctx.accounts.multisig, now)?;

    let authority = ctx.accounts.authority.key();
    let buffer = loader::read_buffer(&ctx.accounts.buffer)?;
    require!(
        buffer.authority == Some(authority),
        GovernorError::BufferAuthorityMismatch
    );
    require!(
        buffer.hash == proposal.buffer_hash,
        GovernorError::BufferHashMismatch
    );
    let program_data = loader::read_program_data(&ctx.accounts.program_data)?;
    require!(
        program_data.upgrade_authority == Some(authority),
        GovernorError::ProgramNotGoverned
    );
    // Two approved proposals for one program must not stack silently. The deployed code's
    // hash, not the last-deploy slot: a permissionless ExtendProgram moves the slot without
    // changing the code, and must not be able to block an approved upgrade.
    require!(
        program_data.hash == proposal.target_program_hash,
        GovernorError::ProgramChangedSinceProposal
    );
    // The loader would fail with a bare "account data too small"; say what to do instead. The
    // loader compares the buffer's whole data, zero padding included (`write-buffer --max-len`),
    // not the trimmed ELF, with ProgramData's capacity.
    require!(
        buffer.data_len <= program_data.capacity,
        GovernorError::ProgramDataTooSmall
    );

    let multisig_key = ctx.accounts.multisig.key();
    let bump = [ctx.accounts.multisig.authority_bump];
    let seeds = Multisig::authority_seeds(&multisig_key, &bump);
    let ix = bpf_loader_upgradeable::upgrade(
        &proposal.target_program,
        &proposal.buffer,
        &authority,
        &ctx.accounts.spill.key(),
    );
    invoke_signed(
        &ix,
        &[
            ctx.accounts.program_data.to_account_info(),
            ctx.accounts.target_program.to_account_info(),
            ctx.accounts.buffer.to_account_info(),
            ctx.accounts.spill.to_account_info(),
            ctx.accounts.rent.to_account_info(),
            ctx.accounts.clock.to_account_info(),
            ctx.accounts.authority.to_account_info(),
            ctx.accounts.bpf_loader_upgradeable.to_account_info(),
        ],
        &[&seeds],
    )?;

    let proposal = &mut ctx.accounts.proposal;
    proposal.status = ProposalStatus::Executed;
    proposal.executed_at = now;
    // From now on only this proposal's migration plan applies to the program: older plans
    // were written for code that is no longer deployed.
    let record = &ctx.accounts.governed_program;
    require_keys_eq!(
        *record.owner,
        crate::ID,
        anchor_lang::error::ErrorCode::AccountNotInitialized
    );
    let mut governed = GovernedProgram::try_deserialize(&mut &record.try_borrow_data()?[..])?;
    governed.last_executed_proposal = proposal.key();
    governed.deployments = governed
        .deployments
        .checked_add(1)
        .ok_or(GovernorError::Overflow)?;
    governed.try_serialize(&mut &mut record.try_borrow_mut_data()?[..])?;
    emit_cpi!(UpgradeExecuted {
        multisig: multisig_key,
        proposal: proposal.key(),
        executor: ctx.accounts.executor.key(),
        target_program: proposal.target_program,
        buffer_hash: proposal.buffer_hash,
        executed_at: now,
    });
    Ok(())
}
