use anchor_lang::prelude::*;

use crate::errors::GovernorError;

/// Seeds of the PDAs, fixed by the design: [`multisig`, create_key], [`proposal`, multisig,
/// index], [`authority`, multisig].
pub const MULTISIG_SEED: &[u8] = b"multisig";
pub const PROPOSAL_SEED: &[u8] = b"proposal";
pub const AUTHORITY_SEED: &[u8] = b"authority";

/// Bound on the member list, so the account size is fixed at creation.
pub const MAX_MEMBERS: usize = 16;
/// No multisig may let an approved upgrade execute in less than an hour: users need time to
/// see it coming and exit.
pub const MIN_TIMELOCK_SECONDS: i64 = 3600;
/// Upper bounds keep `approved_at + timelock` and `created_at + lifetime` far from overflow (a
/// value near i64::MAX would make every approval fail for good) and catch typos in units.
pub const MAX_TIMELOCK_SECONDS: i64 = 90 * 24 * 3600;
pub const MAX_PROPOSAL_LIFETIME_SECONDS: i64 = 365 * 24 * 3600;
/// How long after its eta an approved proposal stays executable (Compound's timelock uses 14
/// days). Without it an approval never goes stale: a later upgrade that restores exactly the
/// old bytes would make an ancient approval executable again.
pub const MIN_GRACE_SECONDS: i64 = 3600;
pub const MAX_GRACE_SECONDS: i64 = 365 * 24 * 3600;
pub const MAX_DESCRIPTION_LEN: usize = 256;
pub const MAX_MIGRATION_DATA_LEN: usize = 64;
/// Accounts one `migrate_account` instruction may carry.
pub const MAX_MIGRATE_ACCOUNTS: usize = 32;

#[account]
#[derive(InitSpace)]
pub struct Multisig {
    /// The key whose signature created this multisig; part of its seeds.
    pub create_key: Pubkey,
    #[max_len(MAX_MEMBERS)]
    pub members: Vec<Pubkey>,
    pub threshold: u8,
    pub timelock_seconds: i64,
    /// How long an Active proposal may collect approvals before it expires.
    pub proposal_lifetime_seconds: i64,
    /// May cancel proposals and pause the system; may not approve or resume.
    pub guardian: Pubkey,
    pub paused: bool,
    /// Index of the last proposal created; the next one uses `proposal_index + 1`.
    pub proposal_index: u64,
    pub bump: u8,
    pub authority_bump: u8,
    /// How long after its eta an approved proposal may still execute; then it expires.
    pub grace_seconds: i64,
}

impl Multisig {
    pub fn is_member(&self, key: &Pubkey) -> bool {
        self.members.contains(key)
    }

    pub fn authority_seeds<'a>(multisig: &'a Pubkey, bump: &'a [u8; 1]) -> [&'a [u8]; 3] {
        [AUTHORITY_SEED, multisig.as_ref(), bump]
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ProposalStatus {
    Active,
    Approved,
    Executed,
    Cancelled,
}

/// What to run after the upgrade: the governed program's migrate instruction, called once per
/// account with accounts [state (writable), authority PDA (signer), ProgramData].
#[derive(AnchorSerialize, AnchorDeserialize, Clone, PartialEq, Eq, Debug, InitSpace)]
pub struct MigrationPlan {
    /// Layout version the accounts have after migration (for indexers and operators).
    pub target_version: u8,
    /// Instruction data sent to the governed program's migrate instruction.
    #[max_len(MAX_MIGRATION_DATA_LEN)]
    pub instruction_data: Vec<u8>,
}

#[account]
#[derive(InitSpace)]
pub struct Proposal {
    pub multisig: Pubkey,
    pub index: u64,
    pub proposer: Pubkey,
    pub target_program: Pubkey,
    pub program_data: Pubkey,
    pub buffer: Pubkey,
    /// SHA-256 of the buffer's ELF, trailing zero bytes stripped (solana-verify's convention).
    pub buffer_hash: [u8; 32],
    /// ProgramData's last-deploy slot when proposed (for operators; `ExtendProgram`, which
    /// anyone may send, moves it too, so the check below uses the code's hash instead).
    pub target_last_deploy_slot: u64,
    /// Hash of the code deployed when proposed; execution refuses if it changed, so two
    /// approved proposals for one program cannot stack silently.
    pub target_program_hash: [u8; 32],
    #[max_len(MAX_DESCRIPTION_LEN)]
    pub description: String,
    pub migration: Option<MigrationPlan>,
    #[max_len(MAX_MEMBERS)]
    pub approvals: Vec<Pubkey>,
    pub status: ProposalStatus,
    pub created_at: i64,
    pub expires_at: i64,
    pub approved_at: i64,
    pub eta: i64,
    pub executed_at: i64,
    pub cancelled_at: i64,
    pub cancelled_by: Pubkey,
    pub bump: u8,
    /// Last moment (inclusive) an approved proposal may execute: `eta + grace_seconds`, set
    /// when the threshold is reached; 0 until then.
    pub execute_by: i64,
}

impl Proposal {
    /// An Active proposal past its lifetime can no longer collect approvals.
    pub fn check_open_for_approval(&self, now: i64) -> Result<()> {
        match self.status {
            ProposalStatus::Active => {}
            ProposalStatus::Executed => return err!(GovernorError::AlreadyExecuted),
            ProposalStatus::Cancelled => return err!(GovernorError::AlreadyCancelled),
            ProposalStatus::Approved => return err!(GovernorError::ProposalNotActive),
        }
        require!(now < self.expires_at, GovernorError::ProposalExpired);
        Ok(())
    }
}
