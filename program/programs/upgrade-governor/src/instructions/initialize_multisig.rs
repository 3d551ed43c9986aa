use anchor_lang::prelude::*;

use crate::errors::GovernorError;
use crate::events::MultisigInitialized;
use crate::state::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeMultisigArgs {
    pub members: Vec<Pubkey>,
    pub threshold: u8,
    pub timelock_seconds: i64,
    pub proposal_lifetime_seconds: i64,
    pub guardian: Pubkey,
    /// How long after its eta an approved proposal may still execute.
    pub grace_seconds: i64,
    /// A pause by fewer than `threshold` members lapses after this long
    /// ([`MIN_MAX_PAUSE_SECONDS`], [`MAX_MAX_PAUSE_SECONDS`]).
    pub max_pause_seconds: i64,
    /// A key whose pause lapsed or was overruled cannot pause again for this long
    /// (0 to [`MAX_PAUSE_COOLDOWN_SECONDS`]).
    pub pause_cooldown_seconds: i64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitializeMultisig<'info> {
    /// A fresh key that only seeds the multisig address; its signature stops anyone from
    /// front-running the creation with other settings.
    pub create_key: Signer<'info>,
    #[account(
        init,
        payer = payer,
        space = 8 + Multisig::INIT_SPACE,
        seeds = [MULTISIG_SEED, create_key.key().as_ref()],
        bump,
    )]
    pub multisig: Account<'info, Multisig>,
    /// CHECK: only its address is used; it becomes the upgrade authority of governed programs.
    #[account(seeds = [AUTHORITY_SEED, multisig.key().as_ref()], bump)]
    pub authority: UncheckedAccount<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<InitializeMultisig>, args: InitializeMultisigArgs) -> Result<()> {
    // The same bounds a config proposal must keep (`MultisigConfig::validate`).
    let config = MultisigConfig {
        members: args.members.clone(),
        threshold: args.threshold,
        timelock_seconds: args.timelock_seconds,
        proposal_lifetime_seconds: args.proposal_lifetime_seconds,
        grace_seconds: args.grace_seconds,
        guardian: args.guardian,
    };
    config.validate()?;
    require!(
        (MIN_MAX_PAUSE_SECONDS..=MAX_MAX_PAUSE_SECONDS).contains(&args.max_pause_seconds),
        GovernorError::InvalidMaxPause
    );
    require!(
        (0..=MAX_PAUSE_COOLDOWN_SECONDS).contains(&args.pause_cooldown_seconds),
        GovernorError::InvalidPauseCooldown
    );

    let multisig = &mut ctx.accounts.multisig;
    multisig.create_key = ctx.accounts.create_key.key();
    multisig.store_config(config);
    multisig.paused = false;
    multisig.proposal_index = 0;
    multisig.bump = ctx.bumps.multisig;
    multisig.authority_bump = ctx.bumps.authority;
    multisig.max_pause_seconds = args.max_pause_seconds;
    multisig.pause_cooldown_seconds = args.pause_cooldown_seconds;
    multisig.paused_at = 0;
    multisig.pause_expires_at = 0;
    multisig.paused_by = Pubkey::default();
    multisig.pause_votes = Vec::new();
    multisig.resume_votes = Vec::new();
    multisig.pause_cooldowns = Vec::new();
    multisig.stale_proposal_index = 0;

    emit_cpi!(MultisigInitialized {
        multisig: multisig.key(),
        authority: ctx.accounts.authority.key(),
        members: args.members,
        threshold: args.threshold,
        timelock_seconds: args.timelock_seconds,
        proposal_lifetime_seconds: args.proposal_lifetime_seconds,
        guardian: args.guardian,
    });
    Ok(())
}
