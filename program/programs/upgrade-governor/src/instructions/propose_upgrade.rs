use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::UpgradeProposed;
use crate::loader;
use crate::state::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ProposeUpgradeArgs {
    /// SHA-256 of the buffer's ELF as `solana-verify get-buffer-hash` prints it; the program
    /// recomputes it and refuses a mismatch, so members approve exactly these bytes.
    pub buffer_hash: [u8; 32],
    pub description: String,
    pub migration: Option<MigrationPlan>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ProposeUpgrade<'info> {
    #[account(
        mut,
        seeds = [MULTISIG_SEED, multisig.create_key.as_ref()],
        bump = multisig.bump,
    )]
    pub multisig: Account<'info, Multisig>,
    #[account(
        init,
        payer = payer,
        space = 8 + Proposal::INIT_SPACE,
        seeds = [
            PROPOSAL_SEED,
            multisig.key().as_ref(),
            &multisig.proposal_index.checked_add(1).ok_or(GovernorError::Overflow)?.to_le_bytes(),
        ],
        bump,
    )]
    pub proposal: Account<'info, Proposal>,
    #[account(constraint = multisig.is_member(&proposer.key()) @ GovernorError::NotAMember)]
    pub proposer: Signer<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    /// CHECK: parsed as an upgradeable Program account by `loader::program_data_address`.
    pub target_program: UncheckedAccount<'info>,
    /// CHECK: must be the ProgramData named by `target_program`; parsed by `loader`.
    pub program_data: UncheckedAccount<'info>,
    /// CHECK: parsed as a loader Buffer by `loader::read_buffer`.
    pub buffer: UncheckedAccount<'info>,
    /// CHECK: the governor's authority PDA; only its address is compared.
    #[account(seeds = [AUTHORITY_SEED, multisig.key().as_ref()], bump = multisig.authority_bump)]
    pub authority: UncheckedAccount<'info>,
    /// The program's record under this multisig, created by its first proposal: execute
    /// records the latest executed proposal in it, migrate_account reads it.
    #[account(
        init_if_needed,
        payer = payer,
        space = 8 + GovernedProgram::INIT_SPACE,
        seeds = [GOVERNED_PROGRAM_SEED, multisig.key().as_ref(), target_program.key().as_ref()],
        bump,
    )]
    pub governed_program: Account<'info, GovernedProgram>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<ProposeUpgrade>, args: ProposeUpgradeArgs) -> Result<()> {
    require!(
        args.description.len() <= MAX_DESCRIPTION_LEN,
        GovernorError::DescriptionTooLong
    );
    if let Some(plan) = &args.migration {
        require!(
            plan.instruction_data.len() <= MAX_MIGRATION_DATA_LEN,
            GovernorError::MigrationDataTooLong
        );
        require!(plan.is_consistent(), GovernorError::InvalidMigrationPlan);
    }

    let authority = ctx.accounts.authority.key();
    let program_data_key = loader::program_data_address(&ctx.accounts.target_program)?;
    require_keys_eq!(
        program_data_key,
        ctx.accounts.program_data.key(),
        GovernorError::WrongProgramData
    );
    let program_data = loader::read_program_data(&ctx.accounts.program_data)?;
    require!(
        program_data.upgrade_authority == Some(authority),
        GovernorError::ProgramNotGoverned
    );
    let buffer = loader::read_buffer(&ctx.accounts.buffer)?;
    require!(
        buffer.authority == Some(authority),
        GovernorError::BufferAuthorityMismatch
    );
    require!(
        buffer.hash == args.buffer_hash,
        GovernorError::BufferHashMismatch
    );

    // A new record (init_if_needed left it zeroed); an existing one was checked against its
    // seeds and keeps its history.
    let governed = &mut ctx.accounts.governed_program;
    if governed.program == Pubkey::default() {
        governed.multisig = ctx.accounts.multisig.key();
        governed.program = ctx.accounts.target_program.key();
        governed.bump = ctx.bumps.governed_program;
    }

    let now = Clock::get()?.unix_timestamp;
    let multisig = &mut ctx.accounts.multisig;
    let index = multisig
        .proposal_index
        .checked_add(1)
        .ok_or(GovernorError::Overflow)?;
    multisig.proposal_index = index;
    let expires_at = now
        .checked_add(multisig.proposal_lifetime_seconds)
        .ok_or(GovernorError::Overflow)?;

    let proposal = &mut ctx.accounts.proposal;
    proposal.multisig = multisig.key();
    proposal.index = index;
    proposal.proposer = ctx.accounts.proposer.key();
    proposal.target_program = ctx.accounts.target_program.key();
    proposal.program_data = program_data_key;
    proposal.buffer = ctx.accounts.buffer.key();
    proposal.buffer_hash = buffer.hash;
    proposal.target_last_deploy_slot = program_data.slot;
    proposal.target_program_hash = program_data.hash;
    proposal.description = args.description;
    proposal.migration = args.migration;
    proposal.approvals = Vec::new();
    proposal.status = ProposalStatus::Active;
    proposal.created_at = now;
    proposal.expires_at = expires_at;
    proposal.bump = ctx.bumps.proposal;
    proposal.kind = ProposalKind::Upgrade;
    proposal.actions = Vec::new();

    emit_cpi!(UpgradeProposed {
        multisig: proposal.multisig,
        proposal: proposal.key(),
        index,
        proposer: proposal.proposer,
        target_program: proposal.target_program,
        buffer: proposal.buffer,
        buffer_hash: proposal.buffer_hash,
        target_last_deploy_slot: proposal.target_last_deploy_slot,
        target_program_hash: proposal.target_program_hash,
        expires_at,
        migration_target_version: proposal.migration.as_ref().map(|m| m.target_version),
    });
    Ok(())
}
