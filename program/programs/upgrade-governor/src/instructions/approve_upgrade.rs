use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::UpgradeApproved;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ApproveUpgrade<'info> {
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
    #[account(constraint = multisig.is_member(&member.key()) @ GovernorError::NotAMember)]
    pub member: Signer<'info>,
}

pub fn handler(ctx: Context<ApproveUpgrade>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let multisig = &ctx.accounts.multisig;
    let member = ctx.accounts.member.key();
    let proposal = &mut ctx.accounts.proposal;
    proposal.check_open_for_approval(now)?;
    // Created before the members or the threshold changed: its approvals so far were given
    // under another membership, so it takes no more.
    require!(
        !multisig.is_stale(proposal.index),
        GovernorError::ProposalStale
    );
    require!(
        !proposal.approvals.contains(&member),
        GovernorError::AlreadyApproved
    );
    proposal.approvals.push(member);

    // Approvals from members who have since left do not count toward the threshold.
    let approvals = proposal
        .approvals
        .iter()
        .filter(|a| multisig.is_member(a))
        .count() as u8;
    let mut eta = None;
    if approvals >= multisig.threshold {
        proposal.status = ProposalStatus::Approved;
        proposal.approved_at = now;
        proposal.eta = now
            .checked_add(multisig.timelock_seconds)
            .ok_or(GovernorError::Overflow)?;
        proposal.execute_by = proposal
            .eta
            .checked_add(multisig.grace_seconds)
            .ok_or(GovernorError::Overflow)?;
        eta = Some(proposal.eta);
    }

    emit_cpi!(UpgradeApproved {
        multisig: multisig.key(),
        proposal: proposal.key(),
        member,
        approvals,
        threshold: multisig.threshold,
        eta,
    });
    Ok(())
}
