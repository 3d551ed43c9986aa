use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::SystemResumed;
use crate::state::*;

/// The signing members are passed as remaining accounts; `threshold` distinct members must
/// have signed this transaction.
#[event_cpi]
#[derive(Accounts)]
pub struct ResumeSystem<'info> {
    #[account(
        mut,
        seeds = [MULTISIG_SEED, multisig.create_key.as_ref()],
        bump = multisig.bump,
        constraint = multisig.paused @ GovernorError::SystemNotPaused,
    )]
    pub multisig: Account<'info, Multisig>,
}

pub fn handler<'info>(ctx: Context<'info, ResumeSystem<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let multisig = &mut ctx.accounts.multisig;
    let mut signers: Vec<Pubkey> = Vec::with_capacity(ctx.remaining_accounts.len());
    for account in ctx.remaining_accounts {
        if account.is_signer && multisig.is_member(account.key) && !signers.contains(account.key) {
            signers.push(*account.key);
        }
    }
    require!(
        signers.len() >= usize::from(multisig.threshold),
        GovernorError::NotEnoughSignatures
    );
    multisig.paused = false;
    emit_cpi!(SystemResumed {
        multisig: multisig.key(),
        signers,
        at: now,
    });
    Ok(())
}
