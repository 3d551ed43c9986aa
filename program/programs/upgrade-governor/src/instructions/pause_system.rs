use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::SystemPaused;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct PauseSystem<'info> {
    #[account(
        mut,
        seeds = [MULTISIG_SEED, multisig.create_key.as_ref()],
        bump = multisig.bump,
        constraint = !multisig.paused @ GovernorError::SystemPaused,
    )]
    pub multisig: Account<'info, Multisig>,
    #[account(
        constraint = multisig.is_member(&pauser.key()) || multisig.guardian == pauser.key()
            @ GovernorError::NotMemberOrGuardian
    )]
    pub pauser: Signer<'info>,
}

pub fn handler(ctx: Context<PauseSystem>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let multisig = &mut ctx.accounts.multisig;
    multisig.paused = true;
    emit_cpi!(SystemPaused {
        multisig: multisig.key(),
        paused_by: ctx.accounts.pauser.key(),
        at: now,
    });
    Ok(())
}
