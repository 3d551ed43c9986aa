use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::{ResumeVoted, SystemResumed};
use crate::state::*;

/// One member's vote to resume, in a transaction of its own; `threshold` current members'
/// votes lift the pause. Votes may come far apart in time: each member signs when they can.
#[event_cpi]
#[derive(Accounts)]
pub struct ResumeSystem<'info> {
    #[account(
        mut,
        seeds = [MULTISIG_SEED, multisig.create_key.as_ref()],
        bump = multisig.bump,
    )]
    pub multisig: Account<'info, Multisig>,
    #[account(constraint = multisig.is_member(&member.key()) @ GovernorError::NotAMember)]
    pub member: Signer<'info>,
}

pub fn handler(ctx: Context<ResumeSystem>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let member = ctx.accounts.member.key();
    let multisig = &mut ctx.accounts.multisig;
    require!(multisig.is_paused(now), GovernorError::SystemNotPaused);
    require!(
        !multisig.resume_votes.contains(&member),
        GovernorError::AlreadyVoted
    );
    multisig.resume_votes.push(member);
    // Votes of members who have since left do not count toward the threshold.
    let votes = multisig.count_member_votes(&multisig.resume_votes);
    emit_cpi!(ResumeVoted {
        multisig: multisig.key(),
        member,
        votes,
        threshold: multisig.threshold,
    });
    if votes < multisig.threshold {
        return Ok(());
    }

    if multisig.pause_expires_at != i64::MAX {
        // Overruled: the pause had not been extended by `threshold` members, and `threshold`
        // members lifted it. Its pauser cools down from now.
        let until = now.saturating_add(multisig.pause_cooldown_seconds);
        let paused_by = multisig.paused_by;
        multisig.record_pause_cooldown(paused_by, until, now);
    }
    multisig.paused = false;
    multisig.pause_expires_at = 0;
    multisig.pause_votes.clear();
    let signers = std::mem::take(&mut multisig.resume_votes);
    emit_cpi!(SystemResumed {
        multisig: multisig.key(),
        signers,
        at: now,
    });
    Ok(())
}
