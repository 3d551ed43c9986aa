use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::ConfigProposed;
use crate::state::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ProposeConfigArgs {
    /// Applied in order, all or nothing, when the proposal executes.
    pub actions: Vec<ConfigAction>,
    pub description: String,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ProposeConfig<'info> {
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
    /// CHECK: the governor's authority PDA; only its address is used, to refuse a hand-off to
    /// itself.
    #[account(seeds = [AUTHORITY_SEED, multisig.key().as_ref()], bump = multisig.authority_bump)]
    pub authority: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

/// A member proposes changes to the multisig. They are checked now against the current
/// configuration, so members approve something that can execute, and again at execute.
pub fn handler(ctx: Context<ProposeConfig>, args: ProposeConfigArgs) -> Result<()> {
    require!(
        args.description.len() <= MAX_DESCRIPTION_LEN,
        GovernorError::DescriptionTooLong
    );
    let multisig = &mut ctx.accounts.multisig;
    multisig
        .config()
        .apply(&args.actions, &ctx.accounts.authority.key())?;

    let now = Clock::get()?.unix_timestamp;
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
    // No program and no buffer: a config proposal upgrades nothing.
    proposal.target_program = Pubkey::default();
    proposal.program_data = Pubkey::default();
    proposal.buffer = Pubkey::default();
    proposal.buffer_hash = [0; 32];
    proposal.target_last_deploy_slot = 0;
    proposal.target_program_hash = [0; 32];
    proposal.description = args.description;
    proposal.migration = None;
    proposal.approvals = Vec::new();
    proposal.status = ProposalStatus::Active;
    proposal.created_at = now;
    proposal.expires_at = expires_at;
    proposal.bump = ctx.bumps.proposal;
    proposal.kind = ProposalKind::Config;
    proposal.actions = args.actions;

    emit_cpi!(ConfigProposed {
        multisig: proposal.multisig,
        proposal: proposal.key(),
        index,
        proposer: proposal.proposer,
        actions: proposal.actions.clone(),
        expires_at,
    });
    Ok(())
}
