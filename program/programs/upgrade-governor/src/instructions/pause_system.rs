use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::{PauseExtendVoted, SystemPaused};
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct PauseSystem<'info> {
    #[account(
        mut,
        seeds = [MULTISIG_SEED, multisig.create_key.as_ref()],
        bump = multisig.bump,
    )]
    pub multisig: Account<'info, Multisig>,
    #[account(
        constraint = multisig.is_member(&pauser.key()) || multisig.guardian == pauser.key()
            @ GovernorError::NotMemberOrGuardian
    )]
    pub pauser: Signer<'info>,
}

/// Not paused: the pauser starts a pause that lapses after `max_pause_seconds` unless
/// `threshold` members vote to extend it. Paused: a member votes to extend it. A key whose
/// pause lapsed or was overruled cannot start another before its cool-down ends, so no single
/// key keeps governance paused for good.
pub fn handler(ctx: Context<PauseSystem>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let pauser = ctx.accounts.pauser.key();
    let multisig = &mut ctx.accounts.multisig;
    let is_member = multisig.is_member(&pauser);

    if multisig.is_paused(now) {
        // Only a member's vote extends a pause; the guardian may start one, nothing more.
        require!(is_member, GovernorError::SystemPaused);
        require!(
            !multisig.pause_votes.contains(&pauser),
            GovernorError::AlreadyVoted
        );
        multisig.pause_votes.push(pauser);
        let votes = multisig.count_member_votes(&multisig.pause_votes);
        if votes >= multisig.threshold {
            multisig.pause_expires_at = i64::MAX;
        }
        emit_cpi!(PauseExtendVoted {
            multisig: multisig.key(),
            member: pauser,
            votes,
            threshold: multisig.threshold,
            expires_at: multisig.pause_expires_at,
        });
        return Ok(());
    }

    if multisig.paused {
        // The previous pause lapsed: its pauser cools down from the moment it lapsed.
        let until = multisig
            .pause_expires_at
            .saturating_add(multisig.pause_cooldown_seconds);
        let paused_by = multisig.paused_by;
        multisig.record_pause_cooldown(paused_by, until, now);
        multisig.paused = false;
        multisig.pause_expires_at = 0;
        multisig.pause_votes.clear();
        multisig.resume_votes.clear();
    }
    require!(
        !multisig.pause_cooling_down(&pauser, now),
        GovernorError::PauseCoolingDown
    );

    multisig.paused = true;
    multisig.paused_at = now;
    multisig.paused_by = pauser;
    multisig.pause_votes = if is_member { vec![pauser] } else { Vec::new() };
    multisig.resume_votes = Vec::new();
    multisig.pause_expires_at =
        if multisig.count_member_votes(&multisig.pause_votes) >= multisig.threshold {
            i64::MAX
        } else {
            now.checked_add(multisig.max_pause_seconds)
                .ok_or(GovernorError::Overflow)?
        };
    emit_cpi!(SystemPaused {
        multisig: multisig.key(),
        paused_by: pauser,
        at: now,
        expires_at: multisig.pause_expires_at,
    });
    Ok(())
}
