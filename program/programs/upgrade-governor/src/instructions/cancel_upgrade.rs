use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::{UpgradeCancelVoted, UpgradeCancelled};
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

/// The guardian cancels at once (an emergency stop), except a config proposal that replaces
/// the guardian; a member casts a vote, and `threshold` current members' votes cancel. One
/// member alone cannot cancel every proposal. Stale proposals can be cancelled, to clean up.
pub fn handler(ctx: Context<CancelUpgrade>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let multisig = &ctx.accounts.multisig;
    let canceller = ctx.accounts.canceller.key();
    let proposal = &mut ctx.accounts.proposal;
    match proposal.status {
        ProposalStatus::Active | ProposalStatus::Approved => {}
        ProposalStatus::Executed => return err!(GovernorError::AlreadyExecuted),
        ProposalStatus::Cancelled => return err!(GovernorError::AlreadyCancelled),
    }
    // The guardian cannot stop its own replacement. A guardian who is also a member casts a
    // member's vote on it instead, like any other member.
    let mut by_guardian = multisig.guardian == canceller;
    if by_guardian && proposal.replaces_guardian() {
        require!(
            multisig.is_member(&canceller),
            GovernorError::GuardianCannotCancelGuardianChange
        );
        by_guardian = false;
    }

    if !by_guardian {
        require!(
            !proposal.cancel_votes.contains(&canceller),
            GovernorError::AlreadyVoted
        );
        proposal.cancel_votes.push(canceller);
        // Votes of members who have since left do not count toward the threshold.
        let votes = multisig.count_member_votes(&proposal.cancel_votes);
        emit_cpi!(UpgradeCancelVoted {
            multisig: multisig.key(),
            proposal: proposal.key(),
            member: canceller,
            votes,
            threshold: multisig.threshold,
        });
        if votes < multisig.threshold {
            return Ok(());
        }
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
