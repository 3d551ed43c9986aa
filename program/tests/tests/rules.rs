//! Every rule of the governance program (DESIGN.md section 3), each tried and broken for real
//! in the Solana runtime.
#![allow(clippy::result_large_err)]
use governor_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upgrade_governor::events::{
    PauseExtendVoted, ResumeVoted, SystemPaused, SystemResumed, UpgradeCancelVoted,
    UpgradeCancelled,
};
use upgrade_governor::{GovernorError as E, ProposalStatus};

fn init_with(members: Vec<Pubkey>, threshold: u8, timelock: i64) -> TxResult {
    init_with_lifetime(members, threshold, timelock, LIFETIME).1
}

/// Creates a multisig; returns the chain and the multisig address with the result, so a test
/// can read back what was stored.
fn init_with_lifetime(
    members: Vec<Pubkey>,
    threshold: u8,
    timelock: i64,
    lifetime: i64,
) -> ((Chain, Pubkey), TxResult) {
    init_with_grace(members, threshold, timelock, lifetime, GRACE)
}

fn init_with_grace(
    members: Vec<Pubkey>,
    threshold: u8,
    timelock: i64,
    lifetime: i64,
    grace: i64,
) -> ((Chain, Pubkey), TxResult) {
    let mut chain = Chain::new();
    let create_key = Keypair::new();
    let guardian = Pubkey::new_unique();
    let ix = initialize_multisig_with_grace_ix(
        &chain.payer.pubkey(),
        &create_key.pubkey(),
        members,
        threshold,
        timelock,
        lifetime,
        &guardian,
        grace,
    );
    let res = chain.send(&[ix], &[&create_key]);
    ((chain, multisig_pda(&create_key.pubkey())), res)
}

fn keys(n: usize) -> Vec<Pubkey> {
    (0..n).map(|_| Pubkey::new_unique()).collect()
}

#[test]
fn multisig_is_created_with_its_settings() {
    let f = Fixture::new();
    let m = f.multisig_state();
    assert_eq!(m.members.len(), 5);
    assert_eq!(m.threshold, 3);
    assert_eq!(m.timelock_seconds, TIMELOCK);
    assert_eq!(m.guardian, f.guardian.pubkey());
    assert!(!m.paused);
    assert_eq!(m.proposal_index, 0);
    assert_eq!(m.grace_seconds, GRACE);
}

#[test]
fn threshold_zero_is_rejected() {
    assert_rule(init_with(keys(3), 0, TIMELOCK), E::InvalidThreshold);
}

#[test]
fn threshold_above_member_count_is_rejected() {
    assert_rule(init_with(keys(3), 4, TIMELOCK), E::InvalidThreshold);
}

#[test]
fn duplicate_members_are_rejected() {
    let k = Pubkey::new_unique();
    assert_rule(
        init_with(vec![k, Pubkey::new_unique(), k], 2, TIMELOCK),
        E::DuplicateMember,
    );
}

#[test]
fn empty_member_list_is_rejected() {
    assert_rule(init_with(vec![], 1, TIMELOCK), E::NoMembers);
}

#[test]
fn timelock_shorter_than_minimum_is_rejected() {
    assert_rule(
        init_with(
            keys(3),
            2,
            upgrade_governor::state::MIN_TIMELOCK_SECONDS - 1,
        ),
        E::TimelockTooShort,
    );
    assert_ok(init_with(
        keys(3),
        2,
        upgrade_governor::state::MIN_TIMELOCK_SECONDS,
    ));
}

#[test]
fn timelock_longer_than_maximum_is_rejected() {
    use upgrade_governor::state::MAX_TIMELOCK_SECONDS;
    assert_eq!(MAX_TIMELOCK_SECONDS, 90 * 24 * HOUR);
    assert_rule(
        init_with(keys(3), 2, MAX_TIMELOCK_SECONDS + 1),
        E::TimelockTooLong,
    );
    // A value near i64::MAX would make every approval overflow `approved_at + timelock`.
    assert_rule(init_with(keys(3), 2, i64::MAX), E::TimelockTooLong);
    let ((chain, multisig), res) = init_with_lifetime(keys(3), 2, MAX_TIMELOCK_SECONDS, LIFETIME);
    assert_ok(res);
    let m: upgrade_governor::state::Multisig = chain.anchor(&multisig);
    assert_eq!(m.timelock_seconds, MAX_TIMELOCK_SECONDS);
}

#[test]
fn proposal_lifetime_longer_than_maximum_is_rejected() {
    use upgrade_governor::state::MAX_PROPOSAL_LIFETIME_SECONDS;
    assert_eq!(MAX_PROPOSAL_LIFETIME_SECONDS, 365 * 24 * HOUR);
    let (_, res) = init_with_lifetime(keys(3), 2, TIMELOCK, MAX_PROPOSAL_LIFETIME_SECONDS + 1);
    assert_rule(res, E::ProposalLifetimeTooLong);
    // A value near i64::MAX would make every proposal overflow `created_at + lifetime`.
    let (_, res) = init_with_lifetime(keys(3), 2, TIMELOCK, i64::MAX);
    assert_rule(res, E::ProposalLifetimeTooLong);
    // The lower bound still holds.
    let (_, res) = init_with_lifetime(keys(3), 2, TIMELOCK, 0);
    assert_rule(res, E::InvalidProposalLifetime);
    let ((chain, multisig), res) =
        init_with_lifetime(keys(3), 2, TIMELOCK, MAX_PROPOSAL_LIFETIME_SECONDS);
    assert_ok(res);
    let m: upgrade_governor::state::Multisig = chain.anchor(&multisig);
    assert_eq!(m.proposal_lifetime_seconds, MAX_PROPOSAL_LIFETIME_SECONDS);
}

#[test]
fn grace_period_outside_bounds_is_rejected() {
    use upgrade_governor::state::{MAX_GRACE_SECONDS, MIN_GRACE_SECONDS};
    assert_eq!(MIN_GRACE_SECONDS, HOUR);
    assert_eq!(MAX_GRACE_SECONDS, 365 * 24 * HOUR);
    for grace in [
        MIN_GRACE_SECONDS - 1,
        MAX_GRACE_SECONDS + 1,
        0,
        -1,
        i64::MIN,
        // Would make every approval overflow `eta + grace`.
        i64::MAX,
    ] {
        let (_, res) = init_with_grace(keys(3), 2, TIMELOCK, LIFETIME, grace);
        assert_rule(res, E::InvalidGracePeriod);
    }
    for grace in [MIN_GRACE_SECONDS, MAX_GRACE_SECONDS] {
        let ((chain, multisig), res) = init_with_grace(keys(3), 2, TIMELOCK, LIFETIME, grace);
        assert_ok(res);
        let m: upgrade_governor::state::Multisig = chain.anchor(&multisig);
        assert_eq!(m.grace_seconds, grace);
    }
}

#[test]
fn non_member_cannot_propose() {
    let mut f = Fixture::new();
    let stranger = f.stranger.insecure_clone();
    let ix = propose_ix(
        &f.chain.payer.pubkey(),
        &f.multisig,
        1,
        &stranger.pubkey(),
        &f.program,
        &f.buffer,
        elf_hash(COUNTER_V2),
        None,
    );
    assert_rule(f.chain.send(&[ix], &[&stranger]), E::NotAMember);
    assert_eq!(f.multisig_state().proposal_index, 0);
}

#[test]
fn proposal_records_hash_slot_and_expiry() {
    let mut f = Fixture::new();
    let p = f.propose();
    let s = f.proposal_state(&p);
    assert_eq!(s.status, ProposalStatus::Active);
    assert_eq!(s.buffer_hash, elf_hash(COUNTER_V2));
    assert_eq!(s.index, 1);
    assert_eq!(s.program_data, program_data_pda(&f.program));
    assert_eq!(s.expires_at, s.created_at + LIFETIME);
    assert_eq!(s.migration, Some(counter::plan()));
    assert_eq!(f.multisig_state().proposal_index, 1);
}

#[test]
fn buffer_whose_authority_is_not_the_pda_is_rejected() {
    let mut f = Fixture::new();
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(
        &mut f.chain.svm,
        buffer,
        COUNTER_V2,
        Some(f.members[0].pubkey()),
    );
    let (_, res) = f.propose_with(buffer, elf_hash(COUNTER_V2), None);
    assert_rule(res, E::BufferAuthorityMismatch);
}

#[test]
fn buffer_whose_hash_does_not_match_is_rejected() {
    let mut f = Fixture::new();
    let (_, res) = f.propose_with(f.buffer, elf_hash(COUNTER_V1), None);
    assert_rule(res, E::BufferHashMismatch);
}

#[test]
fn program_not_under_governance_cannot_be_proposed() {
    let mut f = Fixture::new();
    f.program = Pubkey::new_unique();
    let other = f.members[1].pubkey();
    native_svm::deploy_upgradeable(&mut f.chain.svm, f.program, COUNTER_V1, Some(other));
    let (_, res) = f.propose_with(f.buffer, elf_hash(COUNTER_V2), None);
    assert_rule(res, E::ProgramNotGoverned);
}

#[test]
fn non_member_cannot_approve() {
    let mut f = Fixture::new();
    let p = f.propose();
    let stranger = f.stranger.insecure_clone();
    let ix = approve_ix(&f.multisig, &p, &stranger.pubkey());
    assert_rule(f.chain.send(&[ix], &[&stranger]), E::NotAMember);
    // The guardian may cancel and pause but not approve.
    let guardian = f.guardian.insecure_clone();
    let ix = approve_ix(&f.multisig, &p, &guardian.pubkey());
    assert_rule(f.chain.send(&[ix], &[&guardian]), E::NotAMember);
    assert!(f.proposal_state(&p).approvals.is_empty());
}

#[test]
fn member_cannot_approve_twice() {
    let mut f = Fixture::new();
    let p = f.propose();
    assert_ok(f.approve(&p, 1));
    assert_rule(f.approve(&p, 1), E::AlreadyApproved);
    assert_eq!(f.proposal_state(&p).approvals.len(), 1);
}

#[test]
fn reaching_threshold_starts_the_timelock() {
    let mut f = Fixture::new();
    let p = f.propose();
    f.approve_by(&p, &[0, 1]);
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Active);
    assert_ok(f.approve(&p, 2));
    let s = f.proposal_state(&p);
    assert_eq!(s.status, ProposalStatus::Approved);
    assert_eq!(s.eta, s.approved_at + TIMELOCK);
    assert_eq!(s.approved_at, f.chain.now());
}

#[test]
fn reaching_threshold_sets_the_execution_deadline_from_the_multisig_grace() {
    let grace = 3 * 24 * HOUR;
    let mut f = Fixture::with_grace(grace);
    assert_eq!(f.multisig_state().grace_seconds, grace);
    let p = f.propose();
    assert_eq!(f.proposal_state(&p).execute_by, 0);
    f.approve_by(&p, &[0, 1]);
    assert_eq!(
        f.proposal_state(&p).execute_by,
        0,
        "no deadline before approval"
    );
    f.chain.advance(HOUR);
    assert_ok(f.approve(&p, 2));
    let s = f.proposal_state(&p);
    assert_eq!(s.status, ProposalStatus::Approved);
    assert_eq!(s.eta, f.chain.now() + TIMELOCK);
    assert_eq!(s.execute_by, s.eta + grace);
}

#[test]
fn approved_proposal_expires_after_its_grace_period() {
    let mut f = Fixture::new();
    let p = f.propose();
    f.approve_by(&p, &[0, 1, 2]);
    let s = f.proposal_state(&p);
    assert_eq!(s.execute_by, s.eta + GRACE);
    f.extend_for(COUNTER_V2.len());
    // One second past the last moment it could execute.
    let wait = s.execute_by + 1 - f.chain.now();
    f.chain.advance(wait);
    assert_rule(f.execute_as_is(&p), E::ApprovalExpired);
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Approved);
    assert_eq!(
        f.chain.account(&program_data_pda(&f.program)).unwrap().data[45..45 + COUNTER_V1.len()],
        *COUNTER_V1
    );

    // A fresh proposal for the same buffer executes exactly at its deadline.
    let q = f.propose();
    f.approve_by(&q, &[0, 1, 2]);
    let s = f.proposal_state(&q);
    let wait = s.execute_by - f.chain.now();
    f.chain.advance(wait);
    assert_eq!(f.chain.now(), s.execute_by);
    assert_ok(f.execute_as_is(&q));
    assert_eq!(f.proposal_state(&q).status, ProposalStatus::Executed);
    let after = f.chain.account(&program_data_pda(&f.program)).unwrap();
    assert_eq!(after.data[45..45 + COUNTER_V2.len()], *COUNTER_V2);
    // The expired one stays dead.
    f.chain.advance(1);
    assert_rule(f.execute_as_is(&p), E::ApprovalExpired);
}

#[test]
fn ancient_approval_is_not_revived_by_an_upgrade_that_restores_the_old_code() {
    let mut f = Fixture::new();
    f.extend_for(COUNTER_V2.len());
    // An approved v1 -> v2 upgrade that nobody executes.
    let ancient = f.propose();
    f.approve_by(&ancient, &[0, 1, 2]);
    // Meanwhile the program goes to v2 through another proposal, then back to v1 exactly.
    let to_v2 = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, to_v2, COUNTER_V2, Some(f.authority));
    let (p, res) = f.propose_with(to_v2, elf_hash(COUNTER_V2), None);
    assert_ok(res);
    f.approve_by(&p, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute_as_is(&p));
    f.chain.advance(1);
    assert_rule(f.execute_as_is(&ancient), E::ProgramChangedSinceProposal);
    let to_v1 = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, to_v1, COUNTER_V1, Some(f.authority));
    let (p, res) = f.propose_with(to_v1, elf_hash(COUNTER_V1), None);
    assert_ok(res);
    f.approve_by(&p, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute_as_is(&p));
    // The deployed code is v1 again, the code the ancient proposal was made against; once
    // its grace period has passed, its approval no longer executes.
    let s = f.proposal_state(&ancient);
    let wait = s.execute_by + 1 - f.chain.now();
    f.chain.advance(wait.max(1));
    assert_rule(f.execute_as_is(&ancient), E::ApprovalExpired);
    let pd = f.chain.account(&program_data_pda(&f.program)).unwrap();
    assert_eq!(pd.data[45..45 + COUNTER_V1.len()], *COUNTER_V1);
    assert!(pd.data[45 + COUNTER_V1.len()..].iter().all(|b| *b == 0));
}

#[test]
fn expired_proposal_cannot_be_approved() {
    let mut f = Fixture::new();
    let p = f.propose();
    assert_ok(f.approve(&p, 0));
    f.chain.advance(LIFETIME);
    assert_rule(f.approve(&p, 1), E::ProposalExpired);
}

#[test]
fn execute_below_threshold_is_rejected() {
    let mut f = Fixture::new();
    let p = f.propose();
    f.approve_by(&p, &[0, 1]);
    f.chain.advance(TIMELOCK);
    assert_rule(f.execute(&p), E::ProposalNotApproved);
}

#[test]
fn execute_before_eta_is_rejected() {
    let mut f = Fixture::new();
    let p = f.propose();
    f.approve_by(&p, &[0, 1, 2]);
    f.extend_for(COUNTER_V2.len()); // one second passes
    f.chain.advance(TIMELOCK - 2);
    assert_rule(f.execute_as_is(&p), E::TimelockNotPassed);
    assert_eq!(
        f.chain.account(&program_data_pda(&f.program)).unwrap().data[45..45 + COUNTER_V1.len()],
        *COUNTER_V1
    );
}

#[test]
fn execute_while_paused_is_rejected() {
    let mut f = Fixture::new();
    let p = f.approved_and_due();
    let guardian = f.guardian.insecure_clone();
    assert_ok(
        f.chain
            .send(&[pause_ix(&f.multisig, &guardian.pubkey())], &[&guardian]),
    );
    assert!(f.multisig_state().paused);
    assert_rule(f.execute(&p), E::SystemPaused);
}

#[test]
fn execute_of_cancelled_proposal_is_rejected() {
    let mut f = Fixture::new();
    let p = f.approved_and_due();
    for m in [3, 4, 0] {
        assert_ok(f.cancel_by(&p, m));
    }
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Cancelled);
    assert_rule(f.execute(&p), E::AlreadyCancelled);
}

#[test]
fn a_single_members_cancel_is_only_a_vote() {
    let mut f = Fixture::new();
    let p = f.approved_and_due();
    let meta = assert_ok(f.cancel_by(&p, 3));
    let s = f.proposal_state(&p);
    assert_eq!(s.status, ProposalStatus::Approved);
    assert_eq!(s.cancel_votes, vec![f.members[3].pubkey()]);
    assert_eq!(s.cancelled_at, 0);
    let voted = events::<UpgradeCancelVoted>(&meta);
    assert_eq!(voted.len(), 1);
    assert_eq!(voted[0].member, f.members[3].pubkey());
    assert_eq!(voted[0].proposal, p);
    assert_eq!((voted[0].votes, voted[0].threshold), (1, 3));
    assert!(events::<UpgradeCancelled>(&meta).is_empty());
    // Two votes of three are not enough either; the proposal still executes.
    assert_ok(f.cancel_by(&p, 4));
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Approved);
    assert_ok(f.execute(&p));
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Executed);
}

#[test]
fn threshold_members_cancel_votes_cancel_the_proposal() {
    let mut f = Fixture::new();
    let p = f.propose();
    f.approve_by(&p, &[0, 1]);
    assert_ok(f.cancel_by(&p, 2));
    f.chain.advance(5 * HOUR);
    assert_ok(f.cancel_by(&p, 3));
    f.chain.advance(HOUR);
    let meta = assert_ok(f.cancel_by(&p, 4));
    let s = f.proposal_state(&p);
    assert_eq!(s.status, ProposalStatus::Cancelled);
    assert_eq!(s.cancelled_by, f.members[4].pubkey());
    assert_eq!(s.cancelled_at, f.chain.now());
    let voted = events::<UpgradeCancelVoted>(&meta);
    assert_eq!((voted[0].votes, voted[0].threshold), (3, 3));
    let cancelled = events::<UpgradeCancelled>(&meta);
    assert_eq!(cancelled.len(), 1);
    assert!(!cancelled[0].by_guardian);
    assert_eq!(cancelled[0].cancelled_by, f.members[4].pubkey());
    // A cancelled proposal takes no more votes and no approvals.
    assert_rule(f.cancel_by(&p, 0), E::AlreadyCancelled);
    assert_rule(f.approve(&p, 2), E::AlreadyCancelled);
}

#[test]
fn member_cannot_vote_to_cancel_twice() {
    let mut f = Fixture::new();
    let p = f.propose();
    assert_ok(f.cancel_by(&p, 1));
    assert_rule(f.cancel_by(&p, 1), E::AlreadyVoted);
    f.chain.advance(HOUR);
    assert_rule(f.cancel_by(&p, 1), E::AlreadyVoted);
    assert_ok(f.cancel_by(&p, 2));
    let s = f.proposal_state(&p);
    assert_eq!(s.status, ProposalStatus::Active);
    assert_eq!(s.cancel_votes.len(), 2);
}

#[test]
fn guardian_who_is_also_a_member_cancels_alone() {
    let mut chain = Chain::new();
    let members: Vec<Keypair> = (0..3).map(|_| chain.funded()).collect();
    let guardian = members[2].insecure_clone();
    let create_key = Keypair::new();
    let args = default_args(
        members.iter().map(|m| m.pubkey()).collect(),
        2,
        &guardian.pubkey(),
    );
    let ix = initialize_multisig_full_ix(&chain.payer.pubkey(), &create_key.pubkey(), args);
    assert_ok(chain.send(&[ix], &[&create_key]));
    let multisig = multisig_pda(&create_key.pubkey());
    let authority = authority_pda(&multisig);
    let program = Pubkey::new_unique();
    native_svm::deploy_upgradeable(&mut chain.svm, program, COUNTER_V1, Some(authority));
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut chain.svm, buffer, COUNTER_V2, Some(authority));
    chain.advance(1);
    let proposal = proposal_pda(&multisig, 1);
    let ix = propose_ix(
        &chain.payer.pubkey(),
        &multisig,
        1,
        &members[0].pubkey(),
        &program,
        &buffer,
        elf_hash(COUNTER_V2),
        None,
    );
    assert_ok(chain.send(&[ix], &[&members[0]]));
    let ix = cancel_ix(&multisig, &proposal, &guardian.pubkey());
    let meta = assert_ok(chain.send(&[ix], &[&guardian]));
    let s: upgrade_governor::state::Proposal = chain.anchor(&proposal);
    assert_eq!(s.status, ProposalStatus::Cancelled);
    assert!(s.cancel_votes.is_empty(), "the guardian path is not a vote");
    assert!(events::<UpgradeCancelVoted>(&meta).is_empty());
    assert!(events::<UpgradeCancelled>(&meta)[0].by_guardian);
}

#[test]
fn a_member_who_cancels_and_re_pauses_cannot_block_governance() {
    // 2 of 3: member A (0) wants nothing to happen; B (1) and C (2) approve an upgrade.
    let mut f = Fixture::with_settings(3, 2, |_| {});
    let p = f.propose();
    f.approve_by(&p, &[1, 2]);
    let eta = f.proposal_state(&p).eta;
    // A votes to cancel: one vote, not a cancellation.
    assert_ok(f.cancel_by(&p, 0));
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Approved);
    // A pauses: the pause holds for at most MAX_PAUSE.
    let meta = assert_ok(f.pause_by(0));
    let paused = &events::<SystemPaused>(&meta)[0];
    assert_eq!(paused.paused_by, f.members[0].pubkey());
    assert_eq!(paused.expires_at, f.chain.now() + MAX_PAUSE);
    let lapse = paused.expires_at;
    assert!(lapse > eta);
    f.extend_for(COUNTER_V2.len());
    let wait = eta - f.chain.now();
    f.chain.advance(wait);
    assert_rule(f.execute_as_is(&p), E::SystemPaused);
    // A tries to renew the pause: while paused, a second call of A's is a repeated vote.
    assert_rule(f.pause_by(0), E::AlreadyVoted);
    // The pause lapses; A cannot start another one during the cool-down.
    let wait = lapse - f.chain.now();
    f.chain.advance(wait);
    assert!(!f.is_paused());
    assert_rule(f.pause_by(0), E::PauseCoolingDown);
    // Governance progresses: the approved upgrade executes.
    assert_ok(f.execute_as_is(&p));
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Executed);
    // Still cooling down later on; B, who never paused, can pause.
    f.chain.advance(PAUSE_COOLDOWN - HOUR);
    assert_rule(f.pause_by(0), E::PauseCoolingDown);
    assert_ok(f.pause_by(1));
    let m = f.multisig_state();
    assert!(m.is_paused(f.chain.now()));
    assert_eq!(m.paused_by, f.members[1].pubkey());
    assert_eq!(
        m.pause_cooldowns,
        vec![upgrade_governor::state::PauseCooldown {
            key: f.members[0].pubkey(),
            until: lapse + PAUSE_COOLDOWN,
        }]
    );
}

#[test]
fn a_pause_lapses_after_max_pause_seconds() {
    let mut f = Fixture::new();
    let p = f.propose();
    f.approve_by(&p, &[0, 1, 2]);
    f.extend_for(COUNTER_V2.len());
    let g = f.guardian.insecure_clone();
    let meta = assert_ok(f.pause(&g));
    let m = f.multisig_state();
    assert!(m.paused);
    assert_eq!(m.paused_at, f.chain.now());
    assert_eq!(m.paused_by, g.pubkey());
    assert_eq!(m.pause_expires_at, m.paused_at + MAX_PAUSE);
    assert!(m.pause_votes.is_empty(), "the guardian is not a member");
    assert_eq!(
        events::<SystemPaused>(&meta)[0].expires_at,
        m.pause_expires_at
    );
    let lapse = m.pause_expires_at;
    // A member's resume vote on this pause...
    assert_ok(f.resume_by(1));

    // Due, but paused up to the last second of the pause.
    let wait = f.proposal_state(&p).eta - f.chain.now();
    f.chain.advance(wait);
    assert_rule(f.execute_as_is(&p), E::SystemPaused);
    let wait = lapse - 1 - f.chain.now();
    f.chain.advance(wait);
    assert!(f.is_paused());
    assert_rule(f.execute_as_is(&p), E::SystemPaused);
    f.chain.advance(1);
    assert!(!f.is_paused());
    assert!(
        f.multisig_state().paused,
        "the flag stays until the next pause"
    );
    // A lapsed pause cannot be resumed: it is not a pause.
    assert_rule(f.resume_by(2), E::SystemNotPaused);
    assert_ok(f.execute_as_is(&p));

    // The guardian's pause lapsed: it cools down; a member pauses afresh.
    assert_rule(f.pause(&g), E::PauseCoolingDown);
    assert_ok(f.pause_by(2));
    let m = f.multisig_state();
    assert_eq!(m.paused_by, f.members[2].pubkey());
    assert_eq!(m.pause_votes, vec![f.members[2].pubkey()]);
    assert!(
        m.resume_votes.is_empty(),
        "votes on the lapsed pause are gone"
    );
    assert_eq!(
        m.pause_cooldowns,
        vec![upgrade_governor::state::PauseCooldown {
            key: g.pubkey(),
            until: lapse + PAUSE_COOLDOWN,
        }],
        "the guardian cools down from the lapse"
    );
    // ...so member 1 votes on the new pause again.
    assert_ok(f.resume_by(1));
}

#[test]
fn threshold_members_extend_a_pause_so_it_no_longer_lapses() {
    let mut f = Fixture::new();
    let p = f.approved_and_due();
    f.extend_for(COUNTER_V2.len());
    assert_ok(f.pause_by(0));
    let expires = f.multisig_state().pause_expires_at;
    let meta = assert_ok(f.pause_by(1));
    let voted = &events::<PauseExtendVoted>(&meta)[0];
    assert_eq!(
        (voted.votes, voted.threshold, voted.expires_at),
        (2, 3, expires)
    );
    assert_rule(f.pause_by(1), E::AlreadyVoted);
    // The guardian may start a pause, not vote on one.
    let g = f.guardian.insecure_clone();
    assert_rule(f.pause(&g), E::SystemPaused);
    let s = f.stranger.insecure_clone();
    assert_rule(f.pause(&s), E::NotMemberOrGuardian);
    f.chain.advance(10 * HOUR);
    let meta = assert_ok(f.pause_by(3));
    let voted = &events::<PauseExtendVoted>(&meta)[0];
    assert_eq!((voted.votes, voted.expires_at), (3, i64::MAX));
    let m = f.multisig_state();
    assert_eq!(m.pause_expires_at, i64::MAX);
    assert_eq!(m.pause_votes.len(), 3);
    // Long past the maximum pause, still paused.
    f.chain.advance(MAX_PAUSE * 3);
    assert!(f.is_paused());
    assert_rule(f.execute_as_is(&p), E::SystemPaused);
    // Threshold members resume; the pauser was not overruled, so it has no cool-down.
    for m in [2, 3, 4] {
        assert_ok(f.resume_by(m));
    }
    let m = f.multisig_state();
    assert!(!m.paused);
    assert!(m.pause_cooldowns.is_empty());
    assert_ok(f.pause_by(0));
}

#[test]
fn a_pause_by_a_threshold_one_member_does_not_lapse() {
    let mut f = Fixture::with_settings(2, 1, |_| {});
    let meta = assert_ok(f.pause_by(0));
    assert_eq!(events::<SystemPaused>(&meta)[0].expires_at, i64::MAX);
    f.chain.advance(MAX_PAUSE + 1);
    assert!(f.is_paused());
    // The guardian's pause, though, lapses: it is not a member's vote.
    assert_ok(f.resume_by(1));
    let g = f.guardian.insecure_clone();
    let meta = assert_ok(f.pause(&g));
    assert_eq!(
        events::<SystemPaused>(&meta)[0].expires_at,
        f.chain.now() + MAX_PAUSE
    );
}

#[test]
fn resume_takes_threshold_separate_member_votes_far_apart_in_time() {
    let mut f = Fixture::new();
    assert_rule(f.resume_by(1), E::SystemNotPaused);
    assert_ok(f.pause_by(0));
    let meta = assert_ok(f.resume_by(1));
    let voted = &events::<ResumeVoted>(&meta)[0];
    assert_eq!(voted.member, f.members[1].pubkey());
    assert_eq!((voted.votes, voted.threshold), (1, 3));
    assert!(events::<SystemResumed>(&meta).is_empty());
    f.chain.advance(5 * HOUR);
    assert_rule(f.resume_by(1), E::AlreadyVoted);
    let s = f.stranger.insecure_clone();
    assert_rule(f.resume(&s), E::NotAMember);
    // The guardian may pause but not resume.
    let g = f.guardian.insecure_clone();
    assert_rule(f.resume(&g), E::NotAMember);
    f.chain.advance(8 * HOUR);
    assert_ok(f.resume_by(2));
    assert!(f.is_paused());
    assert_eq!(f.multisig_state().resume_votes.len(), 2);
    f.chain.advance(9 * HOUR);
    let meta = assert_ok(f.resume_by(3));
    let resumed = &events::<SystemResumed>(&meta)[0];
    let voters: Vec<Pubkey> = [1, 2, 3].iter().map(|&i| f.members[i].pubkey()).collect();
    assert_eq!(resumed.signers, voters);
    assert_eq!(resumed.at, f.chain.now());
    let m = f.multisig_state();
    assert!(!m.paused);
    assert!(!f.is_paused());
    assert_eq!(m.pause_expires_at, 0);
    assert!(m.pause_votes.is_empty() && m.resume_votes.is_empty());
    // Overruled: the pauser cools down from the resume.
    let resumed_at = f.chain.now();
    assert_rule(f.pause_by(0), E::PauseCoolingDown);
    assert_rule(f.resume_by(4), E::SystemNotPaused);
    assert_ok(f.pause_by(4));
    // After the cool-down A pauses again (member 4's pause has lapsed by then).
    let wait = resumed_at + PAUSE_COOLDOWN - f.chain.now();
    f.chain.advance(wait - 1);
    assert_rule(f.pause_by(0), E::PauseCoolingDown);
    f.chain.advance(1);
    assert_ok(f.pause_by(0));
    let m = f.multisig_state();
    assert_eq!(m.paused_by, f.members[0].pubkey());
    assert_eq!(
        m.pause_cooldowns.len(),
        1,
        "A's ended cool-down was dropped"
    );
    assert_eq!(m.pause_cooldowns[0].key, f.members[4].pubkey());
}

#[test]
fn max_pause_and_pause_cooldown_outside_bounds_are_rejected() {
    use upgrade_governor::state::{
        MAX_MAX_PAUSE_SECONDS, MAX_PAUSE_COOLDOWN_SECONDS, MIN_MAX_PAUSE_SECONDS,
    };
    assert_eq!(MIN_MAX_PAUSE_SECONDS, HOUR);
    assert_eq!(MAX_MAX_PAUSE_SECONDS, 30 * 24 * HOUR);
    assert_eq!(MAX_PAUSE_COOLDOWN_SECONDS, 90 * 24 * HOUR);
    let init = |max_pause: i64, cooldown: i64| {
        let mut chain = Chain::new();
        let create_key = Keypair::new();
        let mut args = default_args(keys(3), 2, &Pubkey::new_unique());
        args.max_pause_seconds = max_pause;
        args.pause_cooldown_seconds = cooldown;
        let ix = initialize_multisig_full_ix(&chain.payer.pubkey(), &create_key.pubkey(), args);
        let res = chain.send(&[ix], &[&create_key]);
        ((chain, multisig_pda(&create_key.pubkey())), res)
    };
    for max_pause in [
        MIN_MAX_PAUSE_SECONDS - 1,
        MAX_MAX_PAUSE_SECONDS + 1,
        0,
        -1,
        i64::MIN,
        // Would make every pause overflow `now + max_pause`.
        i64::MAX,
    ] {
        assert_rule(init(max_pause, PAUSE_COOLDOWN).1, E::InvalidMaxPause);
    }
    for cooldown in [-1, MAX_PAUSE_COOLDOWN_SECONDS + 1, i64::MIN, i64::MAX] {
        assert_rule(init(MAX_PAUSE, cooldown).1, E::InvalidPauseCooldown);
    }
    for (max_pause, cooldown) in [
        (MIN_MAX_PAUSE_SECONDS, 0),
        (MAX_MAX_PAUSE_SECONDS, MAX_PAUSE_COOLDOWN_SECONDS),
    ] {
        let ((chain, multisig), res) = init(max_pause, cooldown);
        assert_ok(res);
        let m: upgrade_governor::state::Multisig = chain.anchor(&multisig);
        assert_eq!(m.max_pause_seconds, max_pause);
        assert_eq!(m.pause_cooldown_seconds, cooldown);
        assert!(!m.paused);
        assert_eq!(m.pause_expires_at, 0);
        assert!(m.pause_votes.is_empty() && m.resume_votes.is_empty());
        assert!(m.pause_cooldowns.is_empty());
    }
}

#[test]
fn without_a_cool_down_a_lapsed_pauser_may_pause_again() {
    let mut f = Fixture::with_settings(5, 3, |a| a.pause_cooldown_seconds = 0);
    assert_ok(f.pause_by(0));
    f.chain.advance(MAX_PAUSE);
    assert!(!f.is_paused());
    assert_ok(f.pause_by(0));
    assert!(f.multisig_state().pause_cooldowns.is_empty());
}

#[test]
fn cancel_after_execution_is_rejected() {
    let mut f = Fixture::new();
    let p = f.approved_and_due();
    assert_ok(f.execute(&p));
    let guardian = f.guardian.insecure_clone();
    assert_rule(f.cancel(&p, &guardian), E::AlreadyExecuted);
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Executed);
}

#[test]
fn cancel_by_stranger_is_rejected() {
    let mut f = Fixture::new();
    let p = f.propose();
    let stranger = f.stranger.insecure_clone();
    assert_rule(f.cancel(&p, &stranger), E::NotMemberOrGuardian);
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Active);
}

#[test]
fn guardian_cancels_an_approved_proposal() {
    let mut f = Fixture::new();
    let p = f.propose();
    f.approve_by(&p, &[0, 1, 2]);
    let guardian = f.guardian.insecure_clone();
    assert_ok(f.cancel(&p, &guardian));
    let s = f.proposal_state(&p);
    assert_eq!(s.status, ProposalStatus::Cancelled);
    assert_eq!(s.cancelled_by, guardian.pubkey());
    assert_rule(f.cancel(&p, &guardian), E::AlreadyCancelled);
}

#[test]
fn upgrade_replaces_the_program_bytes_and_new_code_runs() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    // v1 does not know `touch`.
    let touch = counter::touch_ix(&f.program, &states[0]);
    assert!(f.chain.send(std::slice::from_ref(&touch), &[]).is_err());

    let p = f.approved_and_due();
    let before = f.chain.account(&program_data_pda(&f.program)).unwrap();
    assert_eq!(before.data[45..45 + COUNTER_V1.len()], *COUNTER_V1);
    let meta = assert_ok(f.execute(&p));

    let after = f.chain.account(&program_data_pda(&f.program)).unwrap();
    assert_eq!(after.data[45..45 + COUNTER_V2.len()], *COUNTER_V2);
    assert!(after.data[45 + COUNTER_V2.len()..].iter().all(|b| *b == 0));
    // The upgrade authority stays the PDA; the buffer is closed into the proposer's account.
    assert_eq!(after.data[12], 1);
    assert_eq!(after.data[13..45], *f.authority.as_ref());
    assert!(f.chain.account(&f.buffer).is_none_or(|a| a.lamports == 0));
    let s = f.proposal_state(&p);
    assert_eq!(s.status, ProposalStatus::Executed);
    assert_eq!(s.executed_at, f.chain.now());
    // The upgrade went through the loader by CPI, with the event emitted by self-CPI.
    let inner: Vec<_> = meta.inner_instructions.iter().flatten().collect();
    assert!(
        inner.len() >= 2,
        "expected the loader CPI and the event CPI"
    );

    // The new code runs in later slots, and keeps running many slots later: v1 refused the
    // unknown `touch` with InvalidInstruction (1); v2 knows it and asks for a migration first
    // (WrongLayoutVersion, 9), logging as v2.
    for wait in [1, 3600, 7 * 24 * 3600] {
        f.chain.advance(wait);
        let res = f
            .chain
            .send(&[counter::touch_ix(&f.program, &states[0])], &[]);
        let failed = res.expect_err("a v1-layout account must be migrated before v2 touches it");
        assert_eq!(
            failed.err,
            solana_transaction_error::TransactionError::InstructionError(
                0,
                InstructionError::Custom(9)
            )
        );
        assert!(
            failed
                .meta
                .logs
                .iter()
                .any(|l| l.contains("governed-counter v2")),
            "{:?}",
            failed.meta.logs
        );
    }
}

#[test]
fn program_upgraded_since_proposal_is_not_upgraded_again() {
    let mut f = Fixture::new();
    let first = f.propose();
    let buffer2 = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer2, COUNTER_V2, Some(f.authority));
    let (second, res) = f.propose_with(buffer2, elf_hash(COUNTER_V2), None);
    assert_ok(res);
    f.approve_by(&first, &[0, 1, 2]);
    f.approve_by(&second, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute(&first));
    f.chain.advance(1);
    assert_rule(f.execute(&second), E::ProgramChangedSinceProposal);
}

#[test]
fn spill_must_be_the_proposer() {
    let mut f = Fixture::new();
    let p = f.approved_and_due();
    let s = f.proposal_state(&p);
    let executor = f.stranger.insecure_clone();
    let ix = execute_ix(&f.multisig, &p, &s, &executor.pubkey(), &executor.pubkey());
    assert_rule(f.chain.send(&[ix], &[&executor]), E::WrongSpill);
}

#[test]
fn stranger_cannot_pause() {
    let mut f = Fixture::new();
    let s = f.stranger.insecure_clone();
    assert_rule(
        f.chain.send(&[pause_ix(&f.multisig, &s.pubkey())], &[&s]),
        E::NotMemberOrGuardian,
    );
    assert!(!f.multisig_state().paused);
}

#[test]
fn migrate_before_execution_is_rejected() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    let p = f.propose();
    f.approve_by(&p, &[0, 1, 2]);
    assert_rule(f.migrate(&p, &states), E::MigrationBeforeExecution);
    assert_eq!(f.chain.account(&states[0]).unwrap().data[0], 1);
}

#[test]
fn migrate_while_paused_is_rejected_until_the_pause_lapses() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    let p = f.approved_and_due();
    assert_ok(f.execute(&p));
    f.chain.advance(1);
    let g = f.guardian.insecure_clone();
    assert_ok(f.chain.send(&[pause_ix(&f.multisig, &g.pubkey())], &[&g]));
    assert_rule(f.migrate(&p, &states), E::SystemPaused);
    f.chain.advance(MAX_PAUSE - 1);
    assert_rule(f.migrate(&p, &states), E::SystemPaused);
    assert_eq!(f.chain.account(&states[0]).unwrap().data[0], 1);
    f.chain.advance(1);
    assert_ok(f.migrate(&p, &states));
    assert_eq!(f.chain.account(&states[0]).unwrap().data[0], 2);
}

#[test]
fn migration_rewrites_layout_and_a_second_run_is_a_no_op() {
    let mut f = Fixture::new();
    let states = f.create_counters(3);
    let v1 = f.chain.account(&states[1]).unwrap().data;
    assert_eq!(v1[0], 1);
    let owner = v1[8..40].to_vec();
    let balance = v1[40..48].to_vec();

    let p = f.approved_and_due();
    assert_ok(f.execute(&p));
    f.chain.advance(1);
    assert_ok(f.migrate(&p, &states));
    let v2 = f.chain.account(&states[1]).unwrap().data;
    assert_eq!(v2[0], 2, "version byte");
    assert_eq!(v2[8..16], *balance, "balance moved to offset 8");
    assert_eq!(v2[16..48], *owner, "owner moved to offset 16");

    // Again: the governed program sees version 2 and leaves the bytes alone.
    assert_ok(f.migrate(&p, &states));
    assert_eq!(f.chain.account(&states[1]).unwrap().data, v2);

    // And the v2-only instruction now works on the migrated account.
    assert_ok(
        f.chain
            .send(&[counter::touch_ix(&f.program, &states[1])], &[]),
    );
    assert_eq!(f.chain.account(&states[1]).unwrap().data[48], 1);
}

#[test]
fn proposal_without_migration_cannot_migrate() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    let (p, res) = f.propose_with(f.buffer, elf_hash(COUNTER_V2), None);
    assert_ok(res);
    f.approve_by(&p, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute(&p));
    f.chain.advance(1);
    assert_rule(f.migrate(&p, &states), E::NoMigrationDeclared);
}

#[test]
fn migration_signed_by_anyone_but_the_migration_signer_is_refused_by_the_governed_program() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    let p = f.approved_and_due();
    assert_ok(f.execute(&p));
    f.chain.advance(1);
    // A member calls the governed program's migrate directly, signing as the migration signer
    // would: v2 refuses every signer but its migration signer (WrongMigrationSigner, 12).
    let m = f.members[0].insecure_clone();
    let ix = solana_instruction::Instruction {
        program_id: f.program,
        accounts: vec![
            solana_instruction::AccountMeta::new(states[0], false),
            solana_instruction::AccountMeta::new_readonly(m.pubkey(), true),
            solana_instruction::AccountMeta::new_readonly(program_data_pda(&f.program), false),
        ],
        data: vec![counter::TAG_MIGRATE],
    };
    assert_eq!(
        f.chain.send(&[ix], &[&m]).unwrap_err().err,
        solana_transaction_error::TransactionError::InstructionError(
            0,
            InstructionError::Custom(12)
        )
    );
    assert_eq!(f.chain.account(&states[0]).unwrap().data[0], 1);
}

#[test]
fn program_data_too_small_is_reported_and_a_permissionless_extension_does_not_block_execution() {
    let mut f = Fixture::new();
    let p = f.approved_and_due();
    // v2 is larger than the ProgramData v1 was deployed into.
    assert!(COUNTER_V2.len() > COUNTER_V1.len());
    assert_rule(f.execute_as_is(&p), E::ProgramDataTooSmall);
    // Anyone may extend a program; that moves the last-deploy slot but not the code, so the
    // approved upgrade still executes.
    let slot_before = u64::from_le_bytes(
        f.chain.account(&program_data_pda(&f.program)).unwrap().data[4..12]
            .try_into()
            .unwrap(),
    );
    f.extend_for(COUNTER_V2.len());
    let slot_after = u64::from_le_bytes(
        f.chain.account(&program_data_pda(&f.program)).unwrap().data[4..12]
            .try_into()
            .unwrap(),
    );
    assert_ne!(slot_before, slot_after, "ExtendProgram moved the slot");
    assert_ok(f.execute_as_is(&p));
}

#[test]
fn buffer_whose_whole_length_exceeds_program_data_is_refused_until_program_data_is_extended() {
    let mut f = Fixture::new();
    // Room for the trimmed v2 ELF (the loader extends by at least 10 KiB)...
    f.extend_for(COUNTER_V2.len());
    let capacity = f
        .chain
        .account(&program_data_pda(&f.program))
        .unwrap()
        .data
        .len()
        - 45;
    assert!(COUNTER_V2.len() <= capacity);
    // ...but not for a buffer that carries it with zero padding, as `solana program
    // write-buffer --max-len` leaves one: the loader's Upgrade compares the buffer's whole
    // data length, padding included, with ProgramData's capacity.
    let mut padded = COUNTER_V2.to_vec();
    padded.resize(capacity + 1, 0);
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer, &padded, Some(f.authority));
    // The hash ignores the padding: it is v2's.
    let (p, res) = f.propose_with(buffer, elf_hash(COUNTER_V2), None);
    assert_ok(res);
    f.approve_by(&p, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    assert_rule(f.execute_as_is(&p), E::ProgramDataTooSmall);
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Approved);
    assert_eq!(
        f.chain.account(&program_data_pda(&f.program)).unwrap().data[45..45 + COUNTER_V1.len()],
        *COUNTER_V1
    );
    // Extending ProgramData to the buffer's whole length lets the same proposal execute.
    f.extend_for(padded.len());
    assert_ok(f.execute_as_is(&p));
    let after = f.chain.account(&program_data_pda(&f.program)).unwrap();
    assert_eq!(after.data[45..45 + COUNTER_V2.len()], *COUNTER_V2);
    assert!(after.data[45 + COUNTER_V2.len()..].iter().all(|b| *b == 0));
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Executed);
}

/// Proposes, approves and executes an upgrade of the counter to `elf` with `migration`, as
/// three members and a stranger would; returns the proposal.
fn upgrade_to(
    f: &mut Fixture,
    elf: &[u8],
    migration: Option<upgrade_governor::state::MigrationPlan>,
) -> Pubkey {
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer, elf, Some(f.authority));
    let (p, res) = f.propose_with(buffer, elf_hash(elf), migration);
    assert_ok(res);
    f.approve_by(&p, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute(&p));
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Executed);
    // The loader runs new code only from the next slot on.
    f.chain.advance(1);
    p
}

#[test]
fn migration_plan_of_a_superseded_proposal_is_refused() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    // A: v1 -> v2 with a migration; it executes and migrates an account.
    let a = upgrade_to(&mut f, COUNTER_V2, Some(counter::plan()));
    assert_ok(f.migrate(&a, &states));
    assert_eq!(f.chain.account(&states[0]).unwrap().data[0], 2);
    // A's plan still applies while A is the latest upgrade (migrating again is a no-op).
    assert_ok(f.migrate(&a, &states));

    // B: v2 -> v1, no migration. A's plan was written for v2, which is no longer deployed.
    let b = upgrade_to(&mut f, COUNTER_V1, None);
    assert_eq!(f.governed_program_state().last_executed_proposal, b);
    let under_v1 = f.create_counters(1);
    assert_eq!(f.chain.account(&under_v1[0]).unwrap().data[0], 1);
    assert_rule(f.migrate(&a, &under_v1), E::MigrationPlanSuperseded);

    // C: v1 -> v2 again, without a migration. The deployed code is again the code A's plan
    // was written for, but A is not the latest executed proposal: its instruction data, signed
    // by the governor, must not reach accounts created since (or any other account).
    let c = upgrade_to(&mut f, COUNTER_V2, None);
    assert_rule(f.migrate(&a, &under_v1), E::MigrationPlanSuperseded);
    assert_rule(f.migrate(&a, &states), E::MigrationPlanSuperseded);
    assert_eq!(f.chain.account(&under_v1[0]).unwrap().data[0], 1);
    // C declared no migration, and B's plan is gone with B.
    assert_rule(f.migrate(&c, &under_v1), E::NoMigrationDeclared);
    assert_rule(f.migrate(&b, &under_v1), E::MigrationPlanSuperseded);
    let g = f.governed_program_state();
    assert_eq!((g.last_executed_proposal, g.deployments), (c, 3));
}

#[test]
fn inconsistent_migration_plan_is_rejected() {
    use upgrade_governor::state::MigrationPlan;
    let mut f = Fixture::new();
    let plan = |from_version: u8, version_offset: u32, data_size: u64| MigrationPlan {
        target_version: 2,
        instruction_data: vec![counter::TAG_MIGRATE],
        from_version,
        version_offset,
        data_size,
    };
    for bad in [
        // The version does not change.
        plan(2, 0, 64),
        plan(2, 0, 0),
        // The version byte lies outside accounts of the declared size.
        plan(1, 64, 64),
        plan(1, 100, 64),
        plan(1, u32::MAX, 64),
    ] {
        let (_, res) = f.propose_with(f.buffer, elf_hash(COUNTER_V2), Some(bad));
        assert_rule(res, E::InvalidMigrationPlan);
    }
    assert_eq!(f.multisig_state().proposal_index, 0);

    // Consistent: the last byte of a 64-byte account, or any size; stored as signed.
    for good in [plan(1, 63, 64), plan(0, 4096, 0), plan(1, 0, 64)] {
        let (p, res) = f.propose_with(f.buffer, elf_hash(COUNTER_V2), Some(good.clone()));
        assert_ok(res);
        let stored = f.proposal_state(&p).migration.expect("the plan is stored");
        assert_eq!(stored, good);
        assert_eq!(
            (
                stored.from_version,
                stored.version_offset,
                stored.data_size,
                stored.target_version
            ),
            (good.from_version, good.version_offset, good.data_size, 2)
        );
    }
    assert_eq!(f.multisig_state().proposal_index, 3);
}

#[test]
fn governed_program_records_the_latest_executed_proposal() {
    let mut f = Fixture::new();
    let record = governed_program_pda(&f.multisig, &f.program);
    assert!(f.chain.account(&record).is_none());
    // The first proposal creates the record; nothing executed yet.
    let p = f.approved_and_due();
    let g = f.governed_program_state();
    assert_eq!((g.multisig, g.program), (f.multisig, f.program));
    assert_eq!(g.last_executed_proposal, Pubkey::default());
    assert_eq!(g.deployments, 0);
    assert_eq!(
        g.bump,
        Pubkey::find_program_address(
            &[
                upgrade_governor::state::GOVERNED_PROGRAM_SEED,
                f.multisig.as_ref(),
                f.program.as_ref()
            ],
            &upgrade_governor::ID
        )
        .1
    );
    assert_eq!(
        f.chain.account(&record).unwrap().owner,
        upgrade_governor::ID
    );

    assert_ok(f.execute(&p));
    let g = f.governed_program_state();
    assert_eq!((g.last_executed_proposal, g.deployments), (p, 1));
    f.chain.advance(1);

    // A later proposal for the same program keeps the record as it is...
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer, COUNTER_V1, Some(f.authority));
    let (q, res) = f.propose_with(buffer, elf_hash(COUNTER_V1), None);
    assert_ok(res);
    let g = f.governed_program_state();
    assert_eq!((g.multisig, g.program), (f.multisig, f.program));
    assert_eq!((g.last_executed_proposal, g.deployments), (p, 1));
    // ...until it executes.
    f.approve_by(&q, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute(&q));
    let g = f.governed_program_state();
    assert_eq!((g.last_executed_proposal, g.deployments), (q, 2));

    // Execute updates the target program's own record: another governed program's record
    // under the same multisig is refused.
    let counter = f.program;
    let other = Pubkey::new_unique();
    native_svm::deploy_upgradeable(&mut f.chain.svm, other, COUNTER_V1, Some(f.authority));
    f.program = other;
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer, COUNTER_V2, Some(f.authority));
    assert_ok(f.propose_with(buffer, elf_hash(COUNTER_V2), None).1);
    let o = f.governed_program_state();
    assert_eq!((o.program, o.deployments), (other, 0));
    f.program = counter;
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer, COUNTER_V2, Some(f.authority));
    let (r, res) = f.propose_with(buffer, elf_hash(COUNTER_V2), None);
    assert_ok(res);
    f.approve_by(&r, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    let s = f.proposal_state(&r);
    let stranger = f.stranger.insecure_clone();
    let mut ix = execute_ix(&f.multisig, &r, &s, &stranger.pubkey(), &s.proposer);
    assert_eq!(ix.accounts[2].pubkey, record);
    ix.accounts[2].pubkey = governed_program_pda(&f.multisig, &other);
    let failed = f.chain.send(&[ix], &[&stranger]).unwrap_err();
    assert_eq!(
        failed.err,
        solana_transaction_error::TransactionError::InstructionError(
            0,
            InstructionError::Custom(anchor_lang::error::ErrorCode::ConstraintSeeds as u32)
        )
    );
    assert_eq!(f.proposal_state(&r).status, ProposalStatus::Approved);
    assert_ok(f.execute_as_is(&r));
    let g = f.governed_program_state();
    assert_eq!((g.last_executed_proposal, g.deployments), (r, 3));
}
