use anchor_lang::prelude::*;

use crate::errors::GovernorError;

/// Seeds of the PDAs, fixed by the design: [`multisig`, create_key], [`proposal`, multisig,
/// index], [`authority`, multisig], [`program`, multisig, governed program], [`migration`,
/// governed program].
pub const MULTISIG_SEED: &[u8] = b"multisig";
pub const PROPOSAL_SEED: &[u8] = b"proposal";
/// The upgrade authority of every governed program and buffer of a multisig; it signs loader
/// instructions only, inside `execute_upgrade` and `execute_config`.
pub const AUTHORITY_SEED: &[u8] = b"authority";
pub const GOVERNED_PROGRAM_SEED: &[u8] = b"program";
/// The migration signer of a governed program: the only signer governed code ever receives
/// from the governor (its migrate instruction, inside `migrate_account`). It is the authority of
/// nothing; a governed program checks it with `governed-auth`.
pub const MIGRATION_SEED: &[u8] = b"migration";

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
/// A pause by fewer than `threshold` members lapses after `max_pause_seconds`, which lies in
/// [`MIN_MAX_PAUSE_SECONDS`, `MAX_MAX_PAUSE_SECONDS`]: no single key (a member or the guardian)
/// can hold governance still for longer than that.
pub const MIN_MAX_PAUSE_SECONDS: i64 = 3600;
pub const MAX_MAX_PAUSE_SECONDS: i64 = 30 * 24 * 3600;
/// A key whose pause lapsed or was overruled by a resume cannot pause again for
/// `pause_cooldown_seconds`, in [0, `MAX_PAUSE_COOLDOWN_SECONDS`].
pub const MAX_PAUSE_COOLDOWN_SECONDS: i64 = 90 * 24 * 3600;
/// Bound on the cool-down list: every member and the guardian (`MAX_MEMBERS + 1`; Anchor's
/// `max_len` takes a name, not an expression).
pub const MAX_PAUSE_COOLDOWNS: usize = MAX_MEMBERS + 1;
pub const MAX_DESCRIPTION_LEN: usize = 256;
pub const MAX_MIGRATION_DATA_LEN: usize = 64;
/// Accounts one `migrate_account` instruction may carry.
pub const MAX_MIGRATE_ACCOUNTS: usize = 32;
/// Changes one config proposal may make.
pub const MAX_CONFIG_ACTIONS: usize = 8;

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
    /// A pause by fewer than `threshold` members lapses after this long.
    pub max_pause_seconds: i64,
    /// A key whose pause lapsed or was overruled cannot pause again for this long.
    pub pause_cooldown_seconds: i64,
    /// When the current (or last) pause started.
    pub paused_at: i64,
    /// When the current pause lapses: 0 when not paused; `i64::MAX` once `threshold` members
    /// voted to extend it (then only a resume ends it).
    pub pause_expires_at: i64,
    /// Who started the current (or last) pause.
    pub paused_by: Pubkey,
    /// Members who voted to extend the current pause; the pauser counts when a member.
    #[max_len(MAX_MEMBERS)]
    pub pause_votes: Vec<Pubkey>,
    /// Members who voted to resume the current pause.
    #[max_len(MAX_MEMBERS)]
    pub resume_votes: Vec<Pubkey>,
    /// Keys that may not start a pause before `until`.
    #[max_len(MAX_PAUSE_COOLDOWNS)]
    pub pause_cooldowns: Vec<PauseCooldown>,
    /// Proposals with `index <= stale_proposal_index` were created before the last executed
    /// config change of the members or the threshold: they take no more approvals and never
    /// execute (Squads v4's stale transaction index). They can still be cancelled.
    pub stale_proposal_index: u64,
}

/// A key whose pause lapsed or was overruled, and until when it may not pause again.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct PauseCooldown {
    pub key: Pubkey,
    pub until: i64,
}

impl Multisig {
    pub fn is_member(&self, key: &Pubkey) -> bool {
        self.members.contains(key)
    }

    /// The effective pause: the flag is set and the pause has not lapsed. A lapsed pause is
    /// not a pause (its flag is cleared by the next `pause_system`).
    pub fn is_paused(&self, now: i64) -> bool {
        self.paused && now < self.pause_expires_at
    }

    /// How many of `votes` are current members: votes of members who left do not count.
    pub fn count_member_votes(&self, votes: &[Pubkey]) -> u8 {
        votes.iter().filter(|k| self.is_member(k)).count() as u8
    }

    /// `key` may not start a pause before `until`. Expired entries are dropped first; a full
    /// list gives up the entry that ends first. A cool-down that has already ended is not
    /// recorded.
    pub fn record_pause_cooldown(&mut self, key: Pubkey, until: i64, now: i64) {
        self.pause_cooldowns.retain(|c| c.until > now);
        if until <= now {
            return;
        }
        if let Some(c) = self.pause_cooldowns.iter_mut().find(|c| c.key == key) {
            c.until = c.until.max(until);
        } else if self.pause_cooldowns.len() < MAX_PAUSE_COOLDOWNS {
            self.pause_cooldowns.push(PauseCooldown { key, until });
        } else if let Some(c) = self.pause_cooldowns.iter_mut().min_by_key(|c| c.until) {
            *c = PauseCooldown { key, until };
        }
    }

    /// Whether `key` is in a cool-down at `now`.
    pub fn pause_cooling_down(&self, key: &Pubkey, now: i64) -> bool {
        self.pause_cooldowns
            .iter()
            .any(|c| c.key == *key && now < c.until)
    }

    /// Whether the proposal with this index was created before the last config change of the
    /// members or the threshold.
    pub fn is_stale(&self, index: u64) -> bool {
        index <= self.stale_proposal_index
    }

    pub fn authority_seeds<'a>(multisig: &'a Pubkey, bump: &'a [u8; 1]) -> [&'a [u8]; 3] {
        [AUTHORITY_SEED, multisig.as_ref(), bump]
    }

    /// This multisig's authority PDA, from its stored bump (found at creation, so valid).
    pub fn authority_address(&self, multisig: &Pubkey) -> Result<Pubkey> {
        let bump = [self.authority_bump];
        Pubkey::create_program_address(&Self::authority_seeds(multisig, &bump), &crate::ID)
            .map_err(|_| ProgramError::InvalidSeeds.into())
    }

    /// The settings a config proposal may change.
    pub fn config(&self) -> MultisigConfig {
        MultisigConfig {
            members: self.members.clone(),
            threshold: self.threshold,
            timelock_seconds: self.timelock_seconds,
            proposal_lifetime_seconds: self.proposal_lifetime_seconds,
            grace_seconds: self.grace_seconds,
            guardian: self.guardian,
        }
    }

    /// Stores `config` (validated by the caller).
    pub fn store_config(&mut self, config: MultisigConfig) {
        let MultisigConfig {
            members,
            threshold,
            timelock_seconds,
            proposal_lifetime_seconds,
            grace_seconds,
            guardian,
        } = config;
        self.members = members;
        self.threshold = threshold;
        self.timelock_seconds = timelock_seconds;
        self.proposal_lifetime_seconds = proposal_lifetime_seconds;
        self.grace_seconds = grace_seconds;
        self.guardian = guardian;
    }

    /// After a change of the members or the threshold: every proposal created so far becomes
    /// stale (its approvals were given by, and counted against, another membership), and the
    /// pause and resume votes of keys that are no longer members are dropped.
    pub fn mark_proposals_stale(&mut self) {
        self.stale_proposal_index = self.proposal_index;
        let members = &self.members;
        self.pause_votes.retain(|k| members.contains(k));
        self.resume_votes.retain(|k| members.contains(k));
    }
}

/// A multisig's governance settings, as a value: `initialize_multisig` validates the settings
/// it is given, and a config proposal applies its actions to a copy, so every bound is written
/// once (here) and a proposal changes all or nothing.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MultisigConfig {
    pub members: Vec<Pubkey>,
    pub threshold: u8,
    pub timelock_seconds: i64,
    pub proposal_lifetime_seconds: i64,
    pub grace_seconds: i64,
    pub guardian: Pubkey,
}

pub fn check_timelock(seconds: i64) -> Result<()> {
    require!(
        seconds >= MIN_TIMELOCK_SECONDS,
        GovernorError::TimelockTooShort
    );
    require!(
        seconds <= MAX_TIMELOCK_SECONDS,
        GovernorError::TimelockTooLong
    );
    Ok(())
}

pub fn check_proposal_lifetime(seconds: i64) -> Result<()> {
    require!(seconds > 0, GovernorError::InvalidProposalLifetime);
    require!(
        seconds <= MAX_PROPOSAL_LIFETIME_SECONDS,
        GovernorError::ProposalLifetimeTooLong
    );
    Ok(())
}

pub fn check_grace(seconds: i64) -> Result<()> {
    require!(
        (MIN_GRACE_SECONDS..=MAX_GRACE_SECONDS).contains(&seconds),
        GovernorError::InvalidGracePeriod
    );
    Ok(())
}

impl MultisigConfig {
    /// Every bound a multisig's settings must satisfy, at creation and after each config
    /// change.
    pub fn validate(&self) -> Result<()> {
        let n = self.members.len();
        require!(n > 0, GovernorError::NoMembers);
        require!(n <= MAX_MEMBERS, GovernorError::TooManyMembers);
        for (i, m) in self.members.iter().enumerate() {
            require!(
                !self.members[..i].contains(m),
                GovernorError::DuplicateMember
            );
        }
        require!(
            self.threshold >= 1 && usize::from(self.threshold) <= n,
            GovernorError::InvalidThreshold
        );
        check_timelock(self.timelock_seconds)?;
        check_proposal_lifetime(self.proposal_lifetime_seconds)?;
        check_grace(self.grace_seconds)
    }

    /// Applies `actions` in order and validates the result. `own_authority` is this
    /// multisig's authority PDA: handing a program to it would be a no-op that looks like a
    /// hand-off. On error `self` is left part-way; callers apply to a copy.
    pub fn apply(&mut self, actions: &[ConfigAction], own_authority: &Pubkey) -> Result<()> {
        require!(
            (1..=MAX_CONFIG_ACTIONS).contains(&actions.len()),
            GovernorError::InvalidConfigActions
        );
        for (i, action) in actions.iter().enumerate() {
            action.check_fields()?;
            match action.kind {
                ConfigActionKind::AddMember => {
                    require!(
                        !self.members.contains(&action.key),
                        GovernorError::DuplicateMember
                    );
                    require!(
                        self.members.len() < MAX_MEMBERS,
                        GovernorError::TooManyMembers
                    );
                    self.members.push(action.key);
                }
                ConfigActionKind::RemoveMember => {
                    let at = self
                        .members
                        .iter()
                        .position(|m| *m == action.key)
                        .ok_or(GovernorError::MemberNotFound)?;
                    self.members.remove(at);
                }
                ConfigActionKind::SetThreshold => {
                    self.threshold = u8::try_from(action.value)
                        .ok()
                        .filter(|t| *t >= 1)
                        .ok_or(GovernorError::InvalidThreshold)?;
                }
                ConfigActionKind::SetTimelock => {
                    check_timelock(action.value)?;
                    self.timelock_seconds = action.value;
                }
                ConfigActionKind::SetProposalLifetime => {
                    check_proposal_lifetime(action.value)?;
                    self.proposal_lifetime_seconds = action.value;
                }
                ConfigActionKind::SetGrace => {
                    check_grace(action.value)?;
                    self.grace_seconds = action.value;
                }
                ConfigActionKind::SetGuardian => self.guardian = action.key,
                ConfigActionKind::SetProgramAuthority => {
                    require!(
                        action.new_authority != Some(*own_authority),
                        GovernorError::InvalidConfigAction
                    );
                    // One hand-off per program: a second would act on the first's result.
                    require!(
                        !actions[..i].iter().any(|earlier| {
                            earlier.kind == ConfigActionKind::SetProgramAuthority
                                && earlier.key == action.key
                        }),
                        GovernorError::InvalidConfigAction
                    );
                }
            }
        }
        // After all actions: a removal may have left fewer members than the threshold.
        self.validate()
    }

    /// The same members (in any order) and the same threshold: approvals given so far were
    /// counted against this membership.
    pub fn same_membership(&self, other: &MultisigConfig) -> bool {
        self.threshold == other.threshold
            && self.members.len() == other.members.len()
            && self.members.iter().all(|m| other.members.contains(m))
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ProposalStatus {
    Active,
    Approved,
    Executed,
    Cancelled,
}

/// What a proposal does: upgrade a governed program (`propose_upgrade`) or change the
/// multisig itself (`propose_config`). Both share the index space, approvals and timelock.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ProposalKind {
    Upgrade,
    Config,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ConfigActionKind {
    AddMember,
    RemoveMember,
    SetThreshold,
    SetTimelock,
    SetProposalLifetime,
    SetGrace,
    SetGuardian,
    SetProgramAuthority,
}

/// One change a config proposal makes (a flat struct, so every client decodes it without
/// enum-with-data support).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct ConfigAction {
    pub kind: ConfigActionKind,
    /// AddMember / RemoveMember: the member; SetGuardian: the new guardian;
    /// SetProgramAuthority: the governed program (its Program account address). Otherwise
    /// `Pubkey::default()`.
    pub key: Pubkey,
    /// SetThreshold: the new threshold; SetTimelock / SetProposalLifetime / SetGrace: seconds.
    /// Otherwise 0.
    pub value: i64,
    /// SetProgramAuthority only: `Some(new upgrade authority)` (another multisig's PDA, a
    /// key), or `None` = make the program immutable. Otherwise `None`.
    pub new_authority: Option<Pubkey>,
}

impl ConfigAction {
    /// Fields the kind does not use are zero, default or None, so the signed bytes have one
    /// meaning; keys the kind needs are not the default key.
    pub fn check_fields(&self) -> Result<()> {
        use ConfigActionKind::*;
        let uses_key = !matches!(
            self.kind,
            SetThreshold | SetTimelock | SetProposalLifetime | SetGrace
        );
        let uses_value = matches!(
            self.kind,
            SetThreshold | SetTimelock | SetProposalLifetime | SetGrace
        );
        let uses_new_authority = self.kind == SetProgramAuthority;
        // RemoveMember may name the default key: initialize_multisig accepts it as a member
        // (a seat nobody can sign for), and governance must be able to remove it. SetGuardian
        // accepts any key, as initialize_multisig does.
        let needs_key = matches!(self.kind, AddMember | SetProgramAuthority);
        require!(
            (uses_key || self.key == Pubkey::default())
                && (uses_value || self.value == 0)
                && (uses_new_authority || self.new_authority.is_none())
                && (!needs_key || self.key != Pubkey::default())
                // To make a program immutable say None: the default key as its authority
                // would be a program nobody can upgrade that still looks upgradeable.
                && self.new_authority != Some(Pubkey::default()),
            GovernorError::InvalidConfigAction
        );
        Ok(())
    }
}

/// What to run after the upgrade: the governed program's migrate instruction, called once per
/// account with accounts [state (writable), authority PDA (signer), ProgramData].
///
/// Every field is part of the signed `propose_upgrade` instruction and stored on chain, so the
/// members approve the whole plan. A plan applies only to the code its proposal deployed:
/// `migrate_account` refuses it once a later upgrade of the program executed (see
/// [`GovernedProgram`]).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, PartialEq, Eq, Debug, InitSpace)]
pub struct MigrationPlan {
    /// Layout version the accounts have after migration (for indexers and operators).
    pub target_version: u8,
    /// Instruction data sent to the governed program's migrate instruction.
    #[max_len(MAX_MIGRATION_DATA_LEN)]
    pub instruction_data: Vec<u8>,
    /// Layout version byte of the accounts still to migrate; differs from `target_version`.
    pub from_version: u8,
    /// Where the layout version byte sits in the account data.
    pub version_offset: u32,
    /// The data size of the accounts to migrate; 0 means any size. When set,
    /// `version_offset` lies inside it.
    pub data_size: u64,
}

impl MigrationPlan {
    /// The plan describes a real layout change: the version changes, and the version byte lies
    /// inside accounts of the declared size.
    pub fn is_consistent(&self) -> bool {
        self.from_version != self.target_version
            && (self.data_size == 0 || u64::from(self.version_offset) < self.data_size)
    }
}

/// One governed program under one multisig ([`program`, multisig, program]): created by the
/// program's first proposal, updated by every executed upgrade. Only the latest executed
/// proposal's migration plan may run: it was written for the code deployed now, while an
/// older plan's instruction data would be sent into whatever code replaced it.
#[account]
#[derive(InitSpace)]
pub struct GovernedProgram {
    pub multisig: Pubkey,
    pub program: Pubkey,
    /// The proposal whose upgrade executed last; `Pubkey::default()` before the first one.
    pub last_executed_proposal: Pubkey,
    /// Upgrades of this program executed through this multisig.
    pub deployments: u64,
    pub bump: u8,
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
    /// Members who voted to cancel; `threshold` current members cancel the proposal (the
    /// guardian cancels alone without voting).
    #[max_len(MAX_MEMBERS)]
    pub cancel_votes: Vec<Pubkey>,
    pub kind: ProposalKind,
    /// A config proposal's changes, applied in order, all or nothing; empty for an upgrade.
    #[max_len(MAX_CONFIG_ACTIONS)]
    pub actions: Vec<ConfigAction>,
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

    /// Whether an approved proposal of either kind may execute at `now`: approved, not stale,
    /// its timelock passed, its grace period not. The kind and the pause are checked by the
    /// caller first.
    pub fn check_executable(&self, multisig: &Multisig, now: i64) -> Result<()> {
        match self.status {
            ProposalStatus::Approved => {}
            ProposalStatus::Executed => return err!(GovernorError::AlreadyExecuted),
            ProposalStatus::Cancelled => return err!(GovernorError::AlreadyCancelled),
            ProposalStatus::Active => return err!(GovernorError::ProposalNotApproved),
        }
        // Approved by, and counted against, a membership that has since changed.
        require!(!multisig.is_stale(self.index), GovernorError::ProposalStale);
        require!(now >= self.eta, GovernorError::TimelockNotPassed);
        // An approval does not last forever: a later upgrade restoring exactly the code this
        // proposal was made against would otherwise make an ancient approval executable again.
        require!(now <= self.execute_by, GovernorError::ApprovalExpired);
        Ok(())
    }

    /// A config proposal that replaces the guardian: the guardian alone cannot cancel it.
    pub fn replaces_guardian(&self) -> bool {
        self.kind == ProposalKind::Config
            && self
                .actions
                .iter()
                .any(|a| a.kind == ConfigActionKind::SetGuardian)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multisig() -> Multisig {
        Multisig {
            create_key: Pubkey::default(),
            members: Vec::new(),
            threshold: 1,
            timelock_seconds: MIN_TIMELOCK_SECONDS,
            proposal_lifetime_seconds: 1,
            guardian: Pubkey::default(),
            paused: false,
            proposal_index: 0,
            bump: 0,
            authority_bump: 0,
            grace_seconds: MIN_GRACE_SECONDS,
            max_pause_seconds: MIN_MAX_PAUSE_SECONDS,
            pause_cooldown_seconds: 0,
            paused_at: 0,
            pause_expires_at: 0,
            paused_by: Pubkey::default(),
            pause_votes: Vec::new(),
            resume_votes: Vec::new(),
            pause_cooldowns: Vec::new(),
            stale_proposal_index: 0,
        }
    }

    fn key(i: u8) -> Pubkey {
        Pubkey::new_from_array([i; 32])
    }

    #[test]
    fn cool_down_list_drops_ended_entries_updates_a_key_and_replaces_the_earliest_when_full() {
        let mut m = multisig();
        let now = 1_000;
        // An ended cool-down is not recorded.
        m.record_pause_cooldown(key(1), now, now);
        assert!(m.pause_cooldowns.is_empty());
        // The list fills up to every member and the guardian.
        for i in 0..MAX_PAUSE_COOLDOWNS as u8 {
            m.record_pause_cooldown(key(i), now + 100 + i64::from(i), now);
        }
        assert_eq!(m.pause_cooldowns.len(), MAX_PAUSE_COOLDOWNS);
        assert!(m.pause_cooling_down(&key(0), now));
        assert!(!m.pause_cooling_down(&key(0), now + 100));
        // A key already listed is updated in place, not listed twice.
        m.record_pause_cooldown(key(3), now + 500, now);
        assert_eq!(m.pause_cooldowns.len(), MAX_PAUSE_COOLDOWNS);
        assert_eq!(
            m.pause_cooldowns.iter().filter(|c| c.key == key(3)).count(),
            1
        );
        assert!(m.pause_cooling_down(&key(3), now + 499));
        // Full: a new key replaces the entry that ends first (key 0's).
        m.record_pause_cooldown(key(200), now + 50, now);
        assert_eq!(m.pause_cooldowns.len(), MAX_PAUSE_COOLDOWNS);
        assert!(!m.pause_cooling_down(&key(0), now));
        assert!(m.pause_cooling_down(&key(200), now));
        // Later, ended entries are dropped before the new one goes in.
        m.record_pause_cooldown(key(201), now + 1_000, now + 105);
        let keys: Vec<Pubkey> = m.pause_cooldowns.iter().map(|c| c.key).collect();
        assert!(!keys.contains(&key(200)) && !keys.contains(&key(5)));
        assert!(keys.contains(&key(6)) && keys.contains(&key(3)) && keys.contains(&key(201)));
        assert!(m.pause_cooldowns.iter().all(|c| c.until > now + 105));
    }

    #[test]
    fn a_lapsed_pause_is_not_a_pause() {
        let mut m = multisig();
        assert!(!m.is_paused(0));
        m.paused = true;
        m.pause_expires_at = 100;
        assert!(m.is_paused(99));
        assert!(!m.is_paused(100));
        m.pause_expires_at = i64::MAX;
        assert!(m.is_paused(i64::MAX - 1));
        m.paused = false;
        assert!(!m.is_paused(0));
    }
}
