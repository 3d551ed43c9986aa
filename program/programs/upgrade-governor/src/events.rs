//! Events, emitted with `emit_cpi!` so they survive log truncation and reach indexers as
//! inner instructions of the transaction.
use anchor_lang::prelude::*;

use crate::state::ConfigAction;

#[event]
pub struct MultisigInitialized {
    pub multisig: Pubkey,
    pub authority: Pubkey,
    pub members: Vec<Pubkey>,
    pub threshold: u8,
    pub timelock_seconds: i64,
    pub proposal_lifetime_seconds: i64,
    pub guardian: Pubkey,
}

#[event]
pub struct UpgradeProposed {
    pub multisig: Pubkey,
    pub proposal: Pubkey,
    pub index: u64,
    pub proposer: Pubkey,
    pub target_program: Pubkey,
    pub buffer: Pubkey,
    pub buffer_hash: [u8; 32],
    pub target_last_deploy_slot: u64,
    pub target_program_hash: [u8; 32],
    pub expires_at: i64,
    pub migration_target_version: Option<u8>,
}

#[event]
pub struct UpgradeApproved {
    pub multisig: Pubkey,
    pub proposal: Pubkey,
    pub member: Pubkey,
    pub approvals: u8,
    pub threshold: u8,
    /// Set when this approval reached the threshold and started the timelock.
    pub eta: Option<i64>,
}

#[event]
pub struct UpgradeExecuted {
    pub multisig: Pubkey,
    pub proposal: Pubkey,
    pub executor: Pubkey,
    pub target_program: Pubkey,
    pub buffer_hash: [u8; 32],
    pub executed_at: i64,
}

#[event]
pub struct UpgradeCancelled {
    pub multisig: Pubkey,
    pub proposal: Pubkey,
    pub cancelled_by: Pubkey,
    pub by_guardian: bool,
    pub cancelled_at: i64,
}

#[event]
pub struct AccountsMigrated {
    pub multisig: Pubkey,
    pub proposal: Pubkey,
    pub target_program: Pubkey,
    pub accounts: Vec<Pubkey>,
}

#[event]
pub struct SystemPaused {
    pub multisig: Pubkey,
    pub paused_by: Pubkey,
    pub at: i64,
    /// When the pause lapses unless `threshold` members extend it; `i64::MAX` when the
    /// pauser's own vote already reached the threshold.
    pub expires_at: i64,
}

#[event]
pub struct SystemResumed {
    pub multisig: Pubkey,
    pub signers: Vec<Pubkey>,
    pub at: i64,
}

/// A member voted to cancel; `votes` counts current members only. The proposal is cancelled
/// (`UpgradeCancelled` follows) when `votes >= threshold`.
#[event]
pub struct UpgradeCancelVoted {
    pub multisig: Pubkey,
    pub proposal: Pubkey,
    pub member: Pubkey,
    pub votes: u8,
    pub threshold: u8,
}

/// A member voted to extend the current pause; at `threshold` votes it no longer lapses
/// (`expires_at == i64::MAX`).
#[event]
pub struct PauseExtendVoted {
    pub multisig: Pubkey,
    pub member: Pubkey,
    pub votes: u8,
    pub threshold: u8,
    pub expires_at: i64,
}

/// A member voted to resume; at `threshold` votes the pause ends (`SystemResumed` follows).
#[event]
pub struct ResumeVoted {
    pub multisig: Pubkey,
    pub member: Pubkey,
    pub votes: u8,
    pub threshold: u8,
}

/// A member proposed changes to the multisig (`propose_config`).
#[event]
pub struct ConfigProposed {
    pub multisig: Pubkey,
    pub proposal: Pubkey,
    pub index: u64,
    pub proposer: Pubkey,
    pub actions: Vec<ConfigAction>,
    pub expires_at: i64,
}

/// One action of an executed config proposal; one event per action, in order.
#[event]
pub struct ConfigActionExecuted {
    pub multisig: Pubkey,
    pub proposal: Pubkey,
    pub action: ConfigAction,
}

/// A config proposal executed, after its `ConfigActionExecuted` events: the multisig's
/// configuration from now on.
#[event]
pub struct ConfigExecuted {
    pub multisig: Pubkey,
    pub proposal: Pubkey,
    pub executor: Pubkey,
    pub members: Vec<Pubkey>,
    pub threshold: u8,
    pub timelock_seconds: i64,
    pub proposal_lifetime_seconds: i64,
    pub grace_seconds: i64,
    pub guardian: Pubkey,
    pub stale_proposal_index: u64,
    pub executed_at: i64,
}
