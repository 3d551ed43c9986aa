use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::UpgradeCancelled;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelUpgrade<'info> {
    #[account(
        seeds = [MULTISIG_SEED, multisig.create_key.as_ref()],
        bump = multisig.bump,
    )]
    pub multisig: Account<'info, Multisig>,
    #[account(
        mut,
        has_one = multisig,
        seeds = [PROPOSAL_SEED, multisig.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
    )]
    pub proposal: Account<'info, Proposal>,
    #[account(
        constraint = multisig.is_member(&canceller.key()) || multisig.guardian == canceller.key()
            @ GovernorError::NotMemberOrGuardian
    )]
    pub canceller: Signer<'info>,
}

pub fn handler(ctx: Context<CancelUpgrade>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let canceller = ctx.accounts.canceller.key();
    let by_guardian = ctx.accounts.multisig.guardian == canceller;
    let proposal = &mut ctx.accounts.proposal;
    match proposal.status {
        ProposalStatus::Active | ProposalStatus::Approved => {}
        ProposalStatus::Executed => return err!(GovernorError::AlreadyExecuted),
        ProposalStatus::Cancelled => return err!(GovernorError::AlreadyCancelled),
    }
    proposal.status = ProposalStatus::Cancelled;
    proposal.cancelled_at = now;
    proposal.cancelled_by = canceller;

    emit_cpi!(UpgradeCancelled {
        multisig: proposal.multisig,
        proposal: proposal.key(),
        cancelled_by: canceller,
        by_guardian,
        cancelled_at: now,
    });
    Ok(())
}
