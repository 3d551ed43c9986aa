//! The multisig governs itself (issue #17): config proposals go through the same propose,
//! approve, timelock and execute as upgrades. Each rule is tried and broken for real in the
//! Solana runtime; hand-offs change the loader's real ProgramData.
#![allow(clippy::result_large_err)]
use governor_tests::*;
use solana_instruction::AccountMeta;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;
use upgrade_governor::events::{
    ConfigActionExecuted, ConfigExecuted, ConfigProposed, UpgradeCancelled,
};
use upgrade_governor::state::{
    ConfigAction, ConfigActionKind, Multisig, Proposal, ProposalKind, MAX_CONFIG_ACTIONS,
    MAX_GRACE_SECONDS, MAX_MEMBERS, MAX_PROPOSAL_LIFETIME_SECONDS, MAX_TIMELOCK_SECONDS,
    MIN_GRACE_SECONDS, MIN_TIMELOCK_SECONDS,
};
use upgrade_governor::{GovernorError as E, ProposalStatus};

/// The upgrade authority recorded in a program's ProgramData (None: immutable).
fn upgrade_authority(f: &Fixture, program: &Pubkey) -> Option<Pubkey> {
    let data = f.chain.account(&program_data_pda(program)).unwrap().data;
    match data[12] {
        0 => None,
        _ => Some(Pubkey::new_from_array(data[13..45].try_into().unwrap())),
    }
}

/// Asserts two states of the multisig have the same configuration and stale index.
#[track_caller]
fn assert_same_config(expected: &Multisig, actual: &Multisig) {
    assert_eq!(expected.members, actual.members);
    assert_eq!(expected.threshold, actual.threshold);
    assert_eq!(expected.timelock_seconds, actual.timelock_seconds);
    assert_eq!(
        expected.proposal_lifetime_seconds,
        actual.proposal_lifetime_seconds
    );
    assert_eq!(expected.grace_seconds, actual.grace_seconds);
    assert_eq!(expected.guardian, actual.guardian);
    assert_eq!(expected.stale_proposal_index, actual.stale_proposal_index);
}

fn member(f: &Fixture, i: usize) -> Pubkey {
    f.members[i].pubkey()
}

#[test]
fn accounts_have_their_documented_sizes() {
    use anchor_lang::Space;
    let mut f = Fixture::new();
    // Multisig: the pause-vote layout (2,404 bytes) plus stale_proposal_index. Proposal: the
    // migration-plan layout (1,713 bytes) plus kind and up to 8 actions of 74 bytes
    // (kind 1, key 32, value 8, Option<Pubkey> 33). Clients filter accounts by these sizes.
    assert_eq!(ConfigAction::INIT_SPACE, 74);
    assert_eq!(8 + Multisig::INIT_SPACE, 2_404 + 8);
    assert_eq!(8 + Proposal::INIT_SPACE, 1_713 + 1 + 4 + 8 * 74);
    assert_eq!(
        f.chain.account(&f.multisig).unwrap().data.len(),
        8 + Multisig::INIT_SPACE
    );
    let p = f.propose_config(vec![action::set_grace(GRACE + 1)]);
    assert_eq!(
        f.chain.account(&p).unwrap().data.len(),
        8 + Proposal::INIT_SPACE
    );
    // Every bounded field at its bound still fits the account.
    let keys: Vec<Pubkey> = (0..MAX_CONFIG_ACTIONS)
        .map(|_| Pubkey::new_unique())
        .collect();
    let actions: Vec<ConfigAction> = keys
        .iter()
        .map(|k| action::set_program_authority(*k, Some(Pubkey::new_unique())))
        .collect();
    let full = Proposal {
        description: "d".repeat(upgrade_governor::state::MAX_DESCRIPTION_LEN),
        migration: Some(upgrade_governor::state::MigrationPlan {
            target_version: 2,
            instruction_data: vec![1; upgrade_governor::state::MAX_MIGRATION_DATA_LEN],
            from_version: 1,
            version_offset: 0,
            data_size: 0,
        }),
        approvals: vec![Pubkey::new_unique(); MAX_MEMBERS],
        cancel_votes: vec![Pubkey::new_unique(); MAX_MEMBERS],
        actions,
        ..f.proposal_state(&p)
    };
    let mut bytes = Vec::new();
    anchor_lang::AccountSerialize::try_serialize(&full, &mut bytes).unwrap();
    assert_eq!(bytes.len(), 8 + Proposal::INIT_SPACE);
}

#[test]
fn config_proposal_records_its_actions_and_shares_the_index_with_upgrades() {
    let mut f = Fixture::new();
    let upgrade = f.propose();
    let new_member = Pubkey::new_unique();
    let actions = vec![
        action::add_member(new_member),
        action::set_threshold(4),
        action::set_timelock(2 * TIMELOCK),
    ];
    let index = f.multisig_state().proposal_index + 1;
    assert_eq!(index, 2, "one index space for both kinds");
    let (p, res) = f.propose_config_with(actions.clone());
    let meta = assert_ok(res);
    assert_eq!(p, proposal_pda(&f.multisig, 2));
    assert_eq!(f.multisig_state().proposal_index, 2);
    let s = f.proposal_state(&p);
    assert_eq!(s.kind, ProposalKind::Config);
    assert_eq!(s.actions, actions);
    assert_eq!(s.index, 2);
    assert_eq!(s.status, ProposalStatus::Active);
    assert_eq!(s.proposer, member(&f, 0));
    assert_eq!(
        (s.target_program, s.program_data, s.buffer),
        (Pubkey::default(), Pubkey::default(), Pubkey::default())
    );
    assert_eq!((s.buffer_hash, s.target_program_hash), ([0; 32], [0; 32]));
    assert_eq!(s.migration, None);
    assert!(s.approvals.is_empty());
    assert_eq!(s.description, "change the multisig");
    assert_eq!(s.created_at, f.chain.now());
    assert_eq!(s.expires_at, s.created_at + LIFETIME);
    // Nothing changed yet.
    let m = f.multisig_state();
    assert_eq!((m.members.len(), m.threshold), (5, 3));
    // An upgrade proposal says what it is.
    let u = f.proposal_state(&upgrade);
    assert_eq!(u.kind, ProposalKind::Upgrade);
    assert!(u.actions.is_empty());

    let proposed = events::<ConfigProposed>(&meta);
    assert_eq!(proposed.len(), 1);
    let e = &proposed[0];
    assert_eq!((e.multisig, e.proposal, e.index), (f.multisig, p, 2));
    assert_eq!(e.proposer, member(&f, 0));
    assert_eq!(e.actions, actions);
    assert_eq!(e.expires_at, s.expires_at);
}

#[test]
fn every_action_kind_is_applied_when_executed() {
    let new_member = Pubkey::new_unique();
    let new_guardian = Pubkey::new_unique();
    let kinds = [
        ConfigActionKind::AddMember,
        ConfigActionKind::RemoveMember,
        ConfigActionKind::SetThreshold,
        ConfigActionKind::SetTimelock,
        ConfigActionKind::SetProposalLifetime,
        ConfigActionKind::SetGrace,
        ConfigActionKind::SetGuardian,
    ];
    for kind in kinds {
        let mut f = Fixture::new();
        let before = f.multisig_state();
        // The action, and the multisig as it must be afterwards: only what it names changes.
        let mut expected = before.clone();
        let a = match kind {
            ConfigActionKind::AddMember => {
                expected.members.push(new_member);
                action::add_member(new_member)
            }
            ConfigActionKind::RemoveMember => {
                expected.members.remove(1);
                action::remove_member(member(&f, 1))
            }
            ConfigActionKind::SetThreshold => {
                expected.threshold = 4;
                action::set_threshold(4)
            }
            ConfigActionKind::SetTimelock => {
                expected.timelock_seconds = MIN_TIMELOCK_SECONDS;
                action::set_timelock(MIN_TIMELOCK_SECONDS)
            }
            ConfigActionKind::SetProposalLifetime => {
                expected.proposal_lifetime_seconds = 1;
                action::set_proposal_lifetime(1)
            }
            ConfigActionKind::SetGrace => {
                expected.grace_seconds = MAX_GRACE_SECONDS;
                action::set_grace(MAX_GRACE_SECONDS)
            }
            ConfigActionKind::SetGuardian => {
                expected.guardian = new_guardian;
                action::set_guardian(new_guardian)
            }
            ConfigActionKind::SetProgramAuthority => unreachable!("tested with the loader below"),
        };
        // Members and threshold changes make the proposals made so far (this one) stale.
        if matches!(
            kind,
            ConfigActionKind::AddMember
                | ConfigActionKind::RemoveMember
                | ConfigActionKind::SetThreshold
        ) {
            expected.stale_proposal_index = 1;
        }
        let p = f.config_approved_and_due(vec![a]);
        let meta = assert_ok(f.execute_config(&p));
        let m = f.multisig_state();
        assert_same_config(&expected, &m);
        assert_eq!(m.proposal_index, 1, "{kind:?}");
        let s = f.proposal_state(&p);
        assert_eq!(s.status, ProposalStatus::Executed);
        assert_eq!(s.executed_at, f.chain.now());
        let executed = events::<ConfigActionExecuted>(&meta);
        assert_eq!(executed.len(), 1);
        assert_eq!(executed[0].action, a);
        let done = events::<ConfigExecuted>(&meta);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].members, expected.members);
        assert_eq!(done[0].stale_proposal_index, expected.stale_proposal_index);
        // Executed once only.
        f.chain.advance(1);
        assert_rule(f.execute_config(&p), E::AlreadyExecuted);
    }
}

#[test]
fn several_actions_apply_together_in_order_and_emit_one_event_each() {
    let mut f = Fixture::new();
    let (a, b) = (Keypair::new(), Pubkey::new_unique());
    let guardian = Pubkey::new_unique();
    // 3 of 5 -> remove 3 and 4, add a and b, then 2 of 5; new timings and guardian.
    let actions = vec![
        action::remove_member(member(&f, 3)),
        action::remove_member(member(&f, 4)),
        action::add_member(a.pubkey()),
        action::add_member(b),
        action::set_threshold(2),
        action::set_timelock(3 * HOUR),
        action::set_proposal_lifetime(2 * 24 * HOUR),
        action::set_guardian(guardian),
    ];
    assert_eq!(actions.len(), MAX_CONFIG_ACTIONS);
    let p = f.config_approved_and_due(actions.clone());
    let meta = assert_ok(f.execute_config(&p));
    let m = f.multisig_state();
    assert_eq!(
        m.members,
        vec![member(&f, 0), member(&f, 1), member(&f, 2), a.pubkey(), b]
    );
    assert_eq!(m.threshold, 2);
    assert_eq!(m.timelock_seconds, 3 * HOUR);
    assert_eq!(m.proposal_lifetime_seconds, 2 * 24 * HOUR);
    assert_eq!(m.grace_seconds, GRACE);
    assert_eq!(m.guardian, guardian);
    assert_eq!(m.stale_proposal_index, 1);

    // One ConfigActionExecuted per action, in order, then the configuration from now on.
    let executed = events::<ConfigActionExecuted>(&meta);
    assert_eq!(
        executed.iter().map(|e| e.action).collect::<Vec<_>>(),
        actions
    );
    assert!(executed
        .iter()
        .all(|e| e.multisig == f.multisig && e.proposal == p));
    let done = events::<ConfigExecuted>(&meta);
    assert_eq!(done.len(), 1);
    let e = &done[0];
    assert_eq!((e.multisig, e.proposal), (f.multisig, p));
    assert_eq!(e.executor, f.stranger.pubkey());
    assert_eq!(e.members, m.members);
    assert_eq!(e.threshold, 2);
    assert_eq!(e.timelock_seconds, 3 * HOUR);
    assert_eq!(e.proposal_lifetime_seconds, 2 * 24 * HOUR);
    assert_eq!(e.grace_seconds, GRACE);
    assert_eq!(e.guardian, guardian);
    assert_eq!(e.stale_proposal_index, 1);
    assert_eq!(e.executed_at, f.chain.now());
    // The events come in that order: each action's, then the summary.
    let order: Vec<bool> = meta
        .inner_instructions
        .iter()
        .flatten()
        .filter_map(|i| {
            let d = i
                .instruction
                .data
                .strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE)?;
            use anchor_lang::Discriminator;
            if d.starts_with(ConfigActionExecuted::DISCRIMINATOR) {
                Some(false)
            } else if d.starts_with(ConfigExecuted::DISCRIMINATOR) {
                Some(true)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(order.len(), actions.len() + 1);
    assert!(order[..actions.len()].iter().all(|last| !last) && order[actions.len()]);

    // The new membership governs: a new member and two approvals suffice, under the new
    // timelock.
    let q = f.propose();
    assert_ok(f.approve_as(&q, &a));
    assert_ok(f.approve(&q, 0));
    let s = f.proposal_state(&q);
    assert_eq!(s.status, ProposalStatus::Approved);
    assert_eq!(s.eta, f.chain.now() + 3 * HOUR);
    assert_eq!(s.expires_at, s.created_at + 2 * 24 * HOUR);
    // Removed members no longer approve.
    assert_rule(f.approve(&q, 3), E::NotAMember);
}

#[test]
fn the_result_must_keep_the_threshold_within_the_members() {
    // 3 of 5 with the threshold raised to 5: one removal leaves 4 members under 5.
    let mut f = Fixture::new();
    let (_, res) = f.propose_config_with(vec![
        action::set_threshold(5),
        action::remove_member(member(&f, 4)),
    ]);
    assert_rule(res, E::InvalidThreshold);
    // Removing members below the threshold: 3 of 5 down to 2 members.
    let (_, res) = f.propose_config_with(vec![
        action::remove_member(member(&f, 2)),
        action::remove_member(member(&f, 3)),
        action::remove_member(member(&f, 4)),
    ]);
    assert_rule(res, E::InvalidThreshold);
    // A threshold above the members.
    let (_, res) = f.propose_config_with(vec![action::set_threshold(6)]);
    assert_rule(res, E::InvalidThreshold);
    // Every member removed.
    let all: Vec<ConfigAction> = (0..5)
        .map(|i| action::remove_member(member(&f, i)))
        .collect();
    let (_, res) = f.propose_config_with(all);
    assert_rule(res, E::NoMembers);
    // Threshold 0, and values no u8 holds.
    for t in [0, -1, 256, i64::MAX] {
        let (_, res) = f.propose_config_with(vec![action::set_threshold(t)]);
        assert_rule(res, E::InvalidThreshold);
    }
    assert_eq!(f.multisig_state().proposal_index, 0);

    // Only the result counts: lowering the threshold after the removals is fine.
    let p = f.config_approved_and_due(vec![
        action::remove_member(member(&f, 2)),
        action::remove_member(member(&f, 3)),
        action::remove_member(member(&f, 4)),
        action::set_threshold(2),
    ]);
    assert_ok(f.execute_config(&p));
    let m = f.multisig_state();
    assert_eq!((m.members.len(), m.threshold), (2, 2));
}

#[test]
fn duplicate_and_excess_members_are_refused() {
    let mut f = Fixture::new();
    let (_, res) = f.propose_config_with(vec![action::add_member(member(&f, 1))]);
    assert_rule(res, E::DuplicateMember);
    let k = Pubkey::new_unique();
    let (_, res) = f.propose_config_with(vec![action::add_member(k), action::add_member(k)]);
    assert_rule(res, E::DuplicateMember);
    // Each action is checked where it stands, not only the result: adding a member twice
    // and removing one copy is refused.
    let (_, res) = f.propose_config_with(vec![
        action::add_member(member(&f, 1)),
        action::remove_member(member(&f, 1)),
    ]);
    assert_rule(res, E::DuplicateMember);
    assert_eq!(f.multisig_state().proposal_index, 0);

    // 15 members: one more fits, two do not.
    let mut f = Fixture::with_settings(MAX_MEMBERS - 1, 3, |_| {});
    let (_, res) = f.propose_config_with(vec![
        action::add_member(Pubkey::new_unique()),
        action::add_member(Pubkey::new_unique()),
    ]);
    assert_rule(res, E::TooManyMembers);
    // Never above the bound, even on the way: removing one after two additions is refused.
    let (_, res) = f.propose_config_with(vec![
        action::add_member(Pubkey::new_unique()),
        action::add_member(Pubkey::new_unique()),
        action::remove_member(member(&f, 14)),
    ]);
    assert_rule(res, E::TooManyMembers);
    // A removal first makes room for the second.
    let p = f.config_approved_and_due(vec![
        action::add_member(Pubkey::new_unique()),
        action::remove_member(member(&f, 14)),
        action::add_member(Pubkey::new_unique()),
    ]);
    assert_ok(f.execute_config(&p));
    assert_eq!(f.multisig_state().members.len(), MAX_MEMBERS);
    let (_, res) = f.propose_config_with(vec![action::add_member(Pubkey::new_unique())]);
    assert_rule(res, E::TooManyMembers);
}

#[test]
fn removing_a_non_member_is_refused() {
    let mut f = Fixture::new();
    let (_, res) = f.propose_config_with(vec![action::remove_member(f.guardian.pubkey())]);
    assert_rule(res, E::MemberNotFound);
    // Twice in one proposal: the second finds no member.
    let (_, res) = f.propose_config_with(vec![
        action::remove_member(member(&f, 4)),
        action::remove_member(member(&f, 4)),
    ]);
    assert_rule(res, E::MemberNotFound);
    assert_eq!(f.multisig_state().proposal_index, 0);
}

#[test]
fn timings_outside_their_bounds_are_refused() {
    let mut f = Fixture::new();
    let cases = [
        (
            action::set_timelock(MIN_TIMELOCK_SECONDS - 1),
            E::TimelockTooShort,
        ),
        (action::set_timelock(0), E::TimelockTooShort),
        (action::set_timelock(i64::MIN), E::TimelockTooShort),
        (
            action::set_timelock(MAX_TIMELOCK_SECONDS + 1),
            E::TimelockTooLong,
        ),
        (action::set_timelock(i64::MAX), E::TimelockTooLong),
        (action::set_proposal_lifetime(0), E::InvalidProposalLifetime),
        (
            action::set_proposal_lifetime(-1),
            E::InvalidProposalLifetime,
        ),
        (
            action::set_proposal_lifetime(MAX_PROPOSAL_LIFETIME_SECONDS + 1),
            E::ProposalLifetimeTooLong,
        ),
        (
            action::set_grace(MIN_GRACE_SECONDS - 1),
            E::InvalidGracePeriod,
        ),
        (
            action::set_grace(MAX_GRACE_SECONDS + 1),
            E::InvalidGracePeriod,
        ),
        (action::set_grace(i64::MAX), E::InvalidGracePeriod),
    ];
    for (a, e) in cases {
        let (_, res) = f.propose_config_with(vec![a]);
        assert_rule(res, e);
    }
    assert_eq!(f.multisig_state().proposal_index, 0);
    // The bounds themselves are fine.
    for a in [
        action::set_timelock(MIN_TIMELOCK_SECONDS),
        action::set_timelock(MAX_TIMELOCK_SECONDS),
        action::set_proposal_lifetime(1),
        action::set_proposal_lifetime(MAX_PROPOSAL_LIFETIME_SECONDS),
        action::set_grace(MIN_GRACE_SECONDS),
        action::set_grace(MAX_GRACE_SECONDS),
    ] {
        assert_ok(f.propose_config_with(vec![a]).1);
    }
}

#[test]
fn an_action_with_a_field_its_kind_does_not_use_is_refused() {
    let mut f = Fixture::new();
    let key = Pubkey::new_unique();
    let own = f.authority;
    let mut bad = Vec::new();
    for a in [
        action::add_member(key),
        action::remove_member(member(&f, 4)),
        action::set_guardian(key),
    ] {
        bad.push(ConfigAction { value: 1, ..a });
        bad.push(ConfigAction {
            new_authority: Some(key),
            ..a
        });
    }
    for a in [
        action::set_threshold(2),
        action::set_timelock(TIMELOCK),
        action::set_proposal_lifetime(LIFETIME),
        action::set_grace(GRACE),
    ] {
        bad.push(ConfigAction { key, ..a });
        bad.push(ConfigAction {
            new_authority: Some(key),
            ..a
        });
    }
    let hand_off = action::set_program_authority(f.program, Some(key));
    bad.push(ConfigAction {
        value: 1,
        ..hand_off
    });
    // A key where one is needed.
    bad.push(action::add_member(Pubkey::default()));
    bad.push(action::set_program_authority(Pubkey::default(), Some(key)));
    // Immutable is None, not the default key.
    bad.push(action::set_program_authority(
        f.program,
        Some(Pubkey::default()),
    ));
    // Handing a program to this multisig's own authority changes nothing.
    bad.push(action::set_program_authority(f.program, Some(own)));
    for a in bad {
        let (_, res) = f.propose_config_with(vec![a]);
        assert_rule(res, E::InvalidConfigAction);
    }
    // Two hand-offs of one program in a proposal.
    let (_, res) = f.propose_config_with(vec![
        action::set_program_authority(f.program, Some(key)),
        action::set_program_authority(f.program, None),
    ]);
    assert_rule(res, E::InvalidConfigAction);
    // One bad action spoils the proposal.
    let (_, res) = f.propose_config_with(vec![
        action::set_grace(GRACE + 1),
        ConfigAction {
            value: 7,
            ..action::set_guardian(key)
        },
    ]);
    assert_rule(res, E::InvalidConfigAction);
    assert_eq!(f.multisig_state().proposal_index, 0);
}

#[test]
fn empty_and_oversized_action_lists_are_refused() {
    let mut f = Fixture::new();
    let (_, res) = f.propose_config_with(vec![]);
    assert_rule(res, E::InvalidConfigActions);
    let nine: Vec<ConfigAction> = (0..=MAX_CONFIG_ACTIONS)
        .map(|i| action::set_grace(GRACE + i as i64))
        .collect();
    let (_, res) = f.propose_config_with(nine);
    assert_rule(res, E::InvalidConfigActions);
    let long = "x".repeat(upgrade_governor::state::MAX_DESCRIPTION_LEN + 1);
    let m = f.members[0].insecure_clone();
    let ix = propose_config_ix(
        &f.chain.payer.pubkey(),
        &f.multisig,
        1,
        &m.pubkey(),
        vec![action::set_grace(GRACE + 1)],
        &long,
    );
    assert_rule(f.chain.send(&[ix], &[&m]), E::DescriptionTooLong);
    assert_eq!(f.multisig_state().proposal_index, 0);
}

#[test]
fn only_members_propose_config_changes() {
    let mut f = Fixture::new();
    let stranger = f.stranger.insecure_clone();
    let guardian = f.guardian.insecure_clone();
    for outsider in [&stranger, &guardian] {
        let (_, res) = f.propose_config_as(outsider, vec![action::add_member(outsider.pubkey())]);
        assert_rule(res, E::NotAMember);
    }
    // The member must sign: naming a member without their signature is not a proposal.
    let m = member(&f, 1);
    let mut ix = propose_config_ix(
        &f.chain.payer.pubkey(),
        &f.multisig,
        1,
        &m,
        vec![action::add_member(stranger.pubkey())],
        "",
    );
    ix.accounts[2].is_signer = false;
    assert!(f.chain.send(&[ix], &[]).is_err());
    assert_eq!(f.multisig_state().proposal_index, 0);
}

#[test]
fn config_proposal_waits_for_approvals_and_the_timelock() {
    let mut f = Fixture::new();
    let p = f.propose_config(vec![action::set_grace(GRACE + 1)]);
    f.approve_by(&p, &[0, 1]);
    f.chain.advance(TIMELOCK);
    assert_rule(f.execute_config(&p), E::ProposalNotApproved);
    assert_ok(f.approve(&p, 2));
    let s = f.proposal_state(&p);
    assert_eq!(s.eta, f.chain.now() + TIMELOCK);
    assert_eq!(s.execute_by, s.eta + GRACE);
    f.chain.advance(TIMELOCK - 1);
    assert_rule(f.execute_config(&p), E::TimelockNotPassed);
    assert_eq!(f.multisig_state().grace_seconds, GRACE);
    f.chain.advance(1);
    assert_ok(f.execute_config(&p));
    assert_eq!(f.multisig_state().grace_seconds, GRACE + 1);
}

#[test]
fn config_proposal_expires_after_its_grace_period() {
    let mut f = Fixture::new();
    let p = f.propose_config(vec![action::set_timelock(TIMELOCK * 2)]);
    f.approve_by(&p, &[0, 1, 2]);
    let s = f.proposal_state(&p);
    let wait = s.execute_by + 1 - f.chain.now();
    f.chain.advance(wait);
    assert_rule(f.execute_config(&p), E::ApprovalExpired);
    assert_eq!(f.multisig_state().timelock_seconds, TIMELOCK);
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Approved);
    // A fresh one executes exactly at its deadline.
    let q = f.propose_config(vec![action::set_timelock(TIMELOCK * 2)]);
    f.approve_by(&q, &[0, 1, 2]);
    let wait = f.proposal_state(&q).execute_by - f.chain.now();
    f.chain.advance(wait);
    assert_ok(f.execute_config(&q));
    assert_eq!(f.multisig_state().timelock_seconds, TIMELOCK * 2);
}

#[test]
fn config_proposal_does_not_execute_while_paused() {
    let mut f = Fixture::new();
    let p = f.config_approved_and_due(vec![action::add_member(Pubkey::new_unique())]);
    let g = f.guardian.insecure_clone();
    assert_ok(f.pause(&g));
    let before = f.multisig_state();
    assert_rule(f.execute_config(&p), E::SystemPaused);
    assert_same_config(&before, &f.multisig_state());
    // Until the pause lapses.
    f.chain.advance(MAX_PAUSE);
    assert_ok(f.execute_config(&p));
    assert_eq!(f.multisig_state().members.len(), 6);
}

#[test]
fn each_execute_refuses_the_other_kind() {
    let mut f = Fixture::new();
    let config = f.propose_config(vec![action::add_member(Pubkey::new_unique())]);
    let upgrade = f.propose();
    f.approve_by(&config, &[0, 1, 2]);
    f.approve_by(&upgrade, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    f.extend_for(COUNTER_V2.len());

    // execute_upgrade of a config proposal, built from the proposal's own fields as a client
    // would (no program: its GovernedProgram record does not exist)...
    let s = f.proposal_state(&config);
    let stranger = f.stranger.insecure_clone();
    let ix = execute_ix(&f.multisig, &config, &s, &stranger.pubkey(), &s.proposer);
    assert_rule(f.chain.send(&[ix], &[&stranger]), E::NotAnUpgradeProposal);
    // ...or with a real governed program's accounts, record, buffer and spill.
    let u = f.proposal_state(&upgrade);
    let ix = execute_ix(&f.multisig, &config, &u, &stranger.pubkey(), &u.proposer);
    assert_rule(f.chain.send(&[ix], &[&stranger]), E::NotAnUpgradeProposal);
    assert_eq!(f.proposal_state(&config).status, ProposalStatus::Approved);
    assert_eq!(
        f.chain.account(&program_data_pda(&f.program)).unwrap().data[45..45 + COUNTER_V1.len()],
        *COUNTER_V1
    );

    // execute_config of an upgrade proposal.
    assert_rule(f.execute_config(&upgrade), E::NotAConfigProposal);
    assert_eq!(f.proposal_state(&upgrade).status, ProposalStatus::Approved);
    assert_eq!(f.multisig_state().members.len(), 5);

    // Each executes through its own instruction (the config one makes the upgrade stale, so
    // the upgrade goes first).
    assert_ok(f.execute_as_is(&upgrade));
    assert_ok(f.execute_config(&config));
    // And a config proposal has nothing to migrate: the record its program would need does
    // not exist.
    let states = f.create_counters(1);
    let failed = f.migrate(&config, &states).unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(
            0,
            InstructionError::Custom(anchor_lang::error::ErrorCode::AccountNotInitialized as u32)
        )
    );
}

#[test]
fn a_member_change_makes_earlier_proposals_stale_for_approval_and_execution() {
    let mut f = Fixture::new();
    f.extend_for(COUNTER_V2.len());
    // Before the change: an approved upgrade, an approved config proposal, and one of each
    // still collecting approvals.
    let approved_upgrade = f.propose();
    f.approve_by(&approved_upgrade, &[0, 1, 2]);
    let approved_config = f.propose_config(vec![action::set_grace(GRACE + 1)]);
    f.approve_by(&approved_config, &[0, 1, 2]);
    let active_upgrade = f.propose();
    assert_ok(f.approve(&active_upgrade, 0));
    let active_config = f.propose_config(vec![action::set_timelock(TIMELOCK + 1)]);
    assert_ok(f.approve(&active_config, 0));
    let change = f.propose_config(vec![action::add_member(Pubkey::new_unique())]);
    f.approve_by(&change, &[0, 1, 2]);
    // Created after the change was proposed but before it executed: stale too.
    let late = f.propose();
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute_config(&change));
    let m = f.multisig_state();
    assert_eq!(m.stale_proposal_index, 6);
    assert_eq!(m.proposal_index, 6);

    // Approvals refused...
    for p in [active_upgrade, active_config, late] {
        assert_rule(f.approve(&p, 1), E::ProposalStale);
    }
    // ...executions refused, although approved and due.
    assert_rule(f.execute_as_is(&approved_upgrade), E::ProposalStale);
    assert_rule(f.execute_config(&approved_config), E::ProposalStale);
    assert_eq!(
        f.chain.account(&program_data_pda(&f.program)).unwrap().data[45..45 + COUNTER_V1.len()],
        *COUNTER_V1
    );
    assert_eq!(f.multisig_state().grace_seconds, GRACE);
    // Stale proposals can still be cancelled, to clean up (the guardian alone, or members).
    let g = f.guardian.insecure_clone();
    assert_ok(f.cancel(&approved_upgrade, &g));
    assert_eq!(
        f.proposal_state(&approved_upgrade).status,
        ProposalStatus::Cancelled
    );
    for i in [0, 1, 2] {
        assert_ok(f.cancel_by(&approved_config, i));
    }
    assert_eq!(
        f.proposal_state(&approved_config).status,
        ProposalStatus::Cancelled
    );
    // A proposal made after the change goes through.
    let fresh = f.propose();
    f.approve_by(&fresh, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute_as_is(&fresh));
}

#[test]
fn timings_and_guardian_changes_do_not_make_proposals_stale() {
    let mut f = Fixture::new();
    f.extend_for(COUNTER_V2.len());
    let upgrade = f.propose();
    f.approve_by(&upgrade, &[0, 1]);
    let p = f.config_approved_and_due(vec![
        action::set_timelock(TIMELOCK / 2),
        action::set_proposal_lifetime(LIFETIME * 2),
        action::set_grace(GRACE * 2),
        action::set_guardian(Pubkey::new_unique()),
        // Removing and re-adding a member leaves the same members.
        action::remove_member(member(&f, 4)),
        action::add_member(member(&f, 4)),
    ]);
    let meta = assert_ok(f.execute_config(&p));
    assert_eq!(f.multisig_state().stale_proposal_index, 0);
    assert_eq!(events::<ConfigExecuted>(&meta)[0].stale_proposal_index, 0);
    // The upgrade proposal collects its last approval under the new timelock and grace.
    assert_ok(f.approve(&upgrade, 4));
    let s = f.proposal_state(&upgrade);
    assert_eq!(s.eta, f.chain.now() + TIMELOCK / 2);
    assert_eq!(s.execute_by, s.eta + GRACE * 2);
    f.chain.advance(TIMELOCK / 2);
    assert_ok(f.execute_as_is(&upgrade));
}

#[test]
fn a_new_timelock_applies_to_approvals_given_after_it_executed() {
    let mut f = Fixture::new();
    f.extend_for(COUNTER_V2.len());
    // Approved under the 48 h timelock, before the change to 96 h.
    let early = f.propose();
    f.approve_by(&early, &[0, 1, 2]);
    let early_eta = f.proposal_state(&early).eta;
    let change = f.propose_config(vec![action::set_timelock(2 * TIMELOCK)]);
    f.approve_by(&change, &[0, 1, 2]);
    // The config proposal itself waits the timelock in force when it was approved.
    assert_eq!(f.proposal_state(&change).eta, f.chain.now() + TIMELOCK);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute_config(&change));
    assert_eq!(f.proposal_state(&early).eta, early_eta);
    let late = f.propose();
    f.approve_by(&late, &[0, 1, 2]);
    assert_eq!(f.proposal_state(&late).eta, f.chain.now() + 2 * TIMELOCK);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute_as_is(&early));
}

#[test]
fn a_removed_members_approval_no_longer_counts_and_they_cannot_approve() {
    // 2 of 3: member 2 is removed.
    let mut f = Fixture::with_settings(3, 2, |_| {});
    let removed = f.members[2].insecure_clone();
    // The removed member approved an upgrade, and voted to extend and to resume a pause
    // (the guardian's) that then lapsed: votes that would count again were the key re-added.
    let p = f.propose();
    assert_ok(f.approve(&p, 2));
    let g = f.guardian.insecure_clone();
    assert_ok(f.pause(&g));
    assert_ok(f.pause_by(2));
    assert_ok(f.resume_by(2));
    f.chain.advance(MAX_PAUSE);
    assert!(!f.is_paused());
    let m = f.multisig_state();
    assert_eq!(m.pause_votes, vec![removed.pubkey()]);
    assert_eq!(m.resume_votes, vec![removed.pubkey()]);
    let change = f.config_approved_and_due(vec![action::remove_member(removed.pubkey())]);
    assert_ok(f.execute_config(&change));
    let m = f.multisig_state();
    assert_eq!(m.members, vec![member(&f, 0), member(&f, 1)]);
    assert!(
        m.pause_votes.is_empty(),
        "a removed member's votes are dropped"
    );
    assert!(m.resume_votes.is_empty());
    // The proposal it approved cannot gather the rest of its approvals.
    assert_rule(f.approve(&p, 0), E::ProposalStale);
    // A new proposal: the removed member cannot approve, propose, cancel, pause or resume.
    let q = f.propose();
    assert_rule(f.approve_as(&q, &removed), E::NotAMember);
    let (_, res) = f.propose_config_as(&removed, vec![action::add_member(removed.pubkey())]);
    assert_rule(res, E::NotAMember);
    assert_rule(f.cancel(&q, &removed), E::NotMemberOrGuardian);
    assert_rule(f.pause(&removed), E::NotMemberOrGuardian);
    assert_rule(f.resume(&removed), E::NotAMember);
    // One approval is not two: the remaining members approve.
    assert_ok(f.approve(&q, 0));
    assert_eq!(f.proposal_state(&q).status, ProposalStatus::Active);
    assert_ok(f.approve(&q, 1));
    assert_eq!(f.proposal_state(&q).status, ProposalStatus::Approved);
}

#[test]
fn the_guardian_cannot_cancel_its_replacement_but_members_can() {
    let mut f = Fixture::new();
    let g = f.guardian.insecure_clone();
    let replacement = f.propose_config(vec![
        action::set_grace(GRACE + 1),
        action::set_guardian(Pubkey::new_unique()),
    ]);
    f.approve_by(&replacement, &[0, 1, 2]);
    assert_rule(
        f.cancel(&replacement, &g),
        E::GuardianCannotCancelGuardianChange,
    );
    assert_eq!(
        f.proposal_state(&replacement).status,
        ProposalStatus::Approved
    );
    // Threshold members' votes cancel it.
    for i in [3, 4] {
        assert_ok(f.cancel_by(&replacement, i));
    }
    let meta = assert_ok(f.cancel_by(&replacement, 0));
    assert_eq!(
        f.proposal_state(&replacement).status,
        ProposalStatus::Cancelled
    );
    assert!(!events::<UpgradeCancelled>(&meta)[0].by_guardian);
    // The guardian still cancels other config proposals alone.
    let other = f.propose_config(vec![action::add_member(Pubkey::new_unique())]);
    let meta = assert_ok(f.cancel(&other, &g));
    assert_eq!(f.proposal_state(&other).status, ProposalStatus::Cancelled);
    assert!(events::<UpgradeCancelled>(&meta)[0].by_guardian);
}

#[test]
fn a_guardian_who_is_a_member_only_votes_on_its_replacement() {
    // 2 of 3, member 2 is also the guardian.
    let mut f = Fixture::with_settings(3, 2, |a| a.guardian = a.members[2]);
    let guardian_member = f.members[2].insecure_clone();
    let other = f.propose_config(vec![action::set_grace(GRACE + 1)]);
    let replace = f.propose_config(vec![action::set_guardian(Pubkey::new_unique())]);
    assert_ok(f.cancel(&replace, &guardian_member));
    let s = f.proposal_state(&replace);
    assert_eq!(
        s.status,
        ProposalStatus::Active,
        "a vote, not a cancellation"
    );
    assert_eq!(s.cancel_votes, vec![guardian_member.pubkey()]);
    // A second member's vote reaches the threshold.
    let meta = assert_ok(f.cancel_by(&replace, 0));
    assert_eq!(f.proposal_state(&replace).status, ProposalStatus::Cancelled);
    assert!(!events::<UpgradeCancelled>(&meta)[0].by_guardian);
    // Proposals that do not replace the guardian it cancels alone.
    assert_ok(f.cancel(&other, &guardian_member));
    assert_eq!(f.proposal_state(&other).status, ProposalStatus::Cancelled);
}

#[test]
fn the_new_guardian_cancels_and_pauses_and_the_old_one_no_longer_can() {
    let mut f = Fixture::new();
    let old = f.guardian.insecure_clone();
    let new = f.chain.funded();
    let p = f.config_approved_and_due(vec![action::set_guardian(new.pubkey())]);
    assert_ok(f.execute_config(&p));
    assert_eq!(f.multisig_state().guardian, new.pubkey());
    let upgrade = f.propose();
    assert_rule(f.cancel(&upgrade, &old), E::NotMemberOrGuardian);
    assert_rule(f.pause(&old), E::NotMemberOrGuardian);
    let meta = assert_ok(f.cancel(&upgrade, &new));
    assert!(events::<UpgradeCancelled>(&meta)[0].by_guardian);
    assert_eq!(f.proposal_state(&upgrade).status, ProposalStatus::Cancelled);
    assert_ok(f.pause(&new));
    assert!(f.is_paused());
    assert_eq!(f.multisig_state().paused_by, new.pubkey());
}

#[test]
fn a_change_that_became_invalid_since_it_was_proposed_is_refused_and_changes_nothing() {
    // 2 of 3: two proposals each remove a different member. Each is valid alone; after the
    // first, the second would leave one member under a threshold of two.
    let mut f = Fixture::with_settings(3, 2, |_| {});
    let first = f.propose_config(vec![action::remove_member(member(&f, 1))]);
    let second = f.propose_config(vec![
        action::set_grace(GRACE + 1),
        action::remove_member(member(&f, 2)),
    ]);
    f.approve_by(&first, &[0, 1]);
    f.approve_by(&second, &[0, 2]);
    f.chain.advance(TIMELOCK);
    assert_ok(f.execute_config(&first));
    let before = f.multisig_state();
    assert_eq!(before.members, vec![member(&f, 0), member(&f, 2)]);
    // The first changed the members: the second is refused, and none of its actions (not
    // even the grace change, which alone would be valid) takes effect.
    assert_rule(f.execute_config(&second), E::ProposalStale);
    assert_same_config(&before, &f.multisig_state());
    assert_eq!(f.proposal_state(&second).status, ProposalStatus::Approved);
    // Proposed again under the new membership, the removal is refused outright.
    let (_, res) = f.propose_config_with(vec![action::remove_member(member(&f, 2))]);
    assert_rule(res, E::InvalidThreshold);
}

/// Hands the counter to `new_authority` through a config proposal; returns the proposal.
fn hand_off(f: &mut Fixture, new_authority: Option<Pubkey>) -> Pubkey {
    let program = f.program;
    let p = f.config_approved_and_due(vec![action::set_program_authority(program, new_authority)]);
    let meta = assert_ok(f.execute_config(&p));
    let executed = events::<ConfigActionExecuted>(&meta);
    assert_eq!(
        executed[0].action,
        action::set_program_authority(program, new_authority)
    );
    // The loader's SetAuthority ran by CPI.
    assert!(meta
        .inner_instructions
        .iter()
        .flatten()
        .any(|i| { i.instruction.data.first() == Some(&4) && i.instruction.data.len() == 4 }));
    p
}

#[test]
fn a_handed_off_program_leaves_governance_and_its_new_authority_upgrades_it() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    // An upgrade approved before the hand-off.
    let approved = f.propose();
    f.approve_by(&approved, &[0, 1, 2]);
    let team = f.chain.funded();
    hand_off(&mut f, Some(team.pubkey()));
    assert_eq!(upgrade_authority(&f, &f.program), Some(team.pubkey()));
    // A hand-off changes no membership: the approved upgrade is not stale, but the program
    // is no longer ours to upgrade.
    assert_eq!(f.multisig_state().stale_proposal_index, 0);
    f.extend_for(COUNTER_V2.len());
    assert_rule(f.execute_as_is(&approved), E::ProgramNotGoverned);
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer, COUNTER_V2, Some(f.authority));
    let (_, res) = f.propose_with(buffer, elf_hash(COUNTER_V2), None);
    assert_rule(res, E::ProgramNotGoverned);

    // The new authority upgrades it directly, with the loader.
    let theirs = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, theirs, COUNTER_V2, Some(team.pubkey()));
    let ix = solana_loader_v3_interface::instruction::upgrade(
        &f.program,
        &theirs,
        &team.pubkey(),
        &team.pubkey(),
    );
    assert_ok(f.chain.send(&[ix], &[&team]));
    let pd = f.chain.account(&program_data_pda(&f.program)).unwrap();
    assert_eq!(pd.data[45..45 + COUNTER_V2.len()], *COUNTER_V2);
    // v2 runs, many slots later too (v2 asks a v1 account to migrate first: code 9).
    for wait in [1, 7 * 24 * 3600] {
        f.chain.advance(wait);
        let failed = f
            .chain
            .send(&[counter::touch_ix(&f.program, &states[0])], &[])
            .unwrap_err();
        assert_eq!(
            failed.err,
            TransactionError::InstructionError(0, InstructionError::Custom(9))
        );
    }
    // v2 accepts migrations from the governor's migration signer only, and the governor no
    // longer signs for a program it does not govern; the new authority's own signature is not
    // the migration signer (code 12). To migrate, it deploys code of its own that accepts it.
    let migrate = solana_instruction::Instruction {
        program_id: f.program,
        accounts: vec![
            AccountMeta::new(states[0], false),
            AccountMeta::new_readonly(team.pubkey(), true),
            AccountMeta::new_readonly(program_data_pda(&f.program), false),
        ],
        data: vec![counter::TAG_MIGRATE],
    };
    assert_eq!(
        f.chain.send(&[migrate], &[&team]).unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::Custom(12))
    );
    assert_eq!(f.chain.account(&states[0]).unwrap().data[0], 1);
}

#[test]
fn a_handed_off_program_receives_no_migration_signature() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    // The counter's last governed upgrade declared a migration.
    let p = f.approved_and_due();
    assert_ok(f.execute(&p));
    f.chain.advance(1);
    let team = f.chain.funded();
    hand_off(&mut f, Some(team.pubkey()));
    // From now on the program's code is whatever its new authority deploys: the governor
    // refuses to run the old plan on it, signed by its migration signer or otherwise.
    assert_rule(f.migrate(&p, &states), E::ProgramNotGoverned);
    assert_eq!(f.chain.account(&states[0]).unwrap().data[0], 1);
}

#[test]
fn a_program_handed_to_another_multisig_is_upgraded_through_that_multisig() {
    let mut f = Fixture::new();
    // A second multisig, 1 of 1, on the same chain.
    let other_member = f.chain.funded();
    let create_key = Keypair::new();
    let args = default_args(vec![other_member.pubkey()], 1, &Pubkey::new_unique());
    let ix = initialize_multisig_full_ix(&f.chain.payer.pubkey(), &create_key.pubkey(), args);
    assert_ok(f.chain.send(&[ix], &[&create_key]));
    let other = multisig_pda(&create_key.pubkey());
    let other_authority = authority_pda(&other);

    hand_off(&mut f, Some(other_authority));
    assert_eq!(upgrade_authority(&f, &f.program), Some(other_authority));

    // The other multisig's members upgrade it under their own rules.
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer, COUNTER_V2, Some(other_authority));
    let ix = propose_ix(
        &f.chain.payer.pubkey(),
        &other,
        1,
        &other_member.pubkey(),
        &f.program,
        &buffer,
        elf_hash(COUNTER_V2),
        None,
    );
    assert_ok(f.chain.send(&[ix], &[&other_member]));
    let proposal = proposal_pda(&other, 1);
    let ix = approve_ix(&other, &proposal, &other_member.pubkey());
    assert_ok(f.chain.send(&[ix], &[&other_member]));
    f.chain.advance(TIMELOCK);
    f.extend_for(COUNTER_V2.len());
    let s: Proposal = f.chain.anchor(&proposal);
    let ix = execute_ix(&other, &proposal, &s, &other_member.pubkey(), &s.proposer);
    assert_ok(f.chain.send(&[ix], &[&other_member]));
    let pd = f.chain.account(&program_data_pda(&f.program)).unwrap();
    assert_eq!(pd.data[45..45 + COUNTER_V2.len()], *COUNTER_V2);
}

#[test]
fn an_immutable_program_can_be_upgraded_by_nobody() {
    let mut f = Fixture::new();
    // Room for v2, made while the program is still upgradeable (the loader does not extend
    // an immutable program).
    f.extend_for(COUNTER_V2.len());
    let approved = f.propose();
    f.approve_by(&approved, &[0, 1, 2]);
    hand_off(&mut f, None);
    let pd = f.chain.account(&program_data_pda(&f.program)).unwrap();
    assert_eq!(pd.data[12], 0, "no upgrade authority");
    assert_eq!(pd.data[45..45 + COUNTER_V1.len()], *COUNTER_V1);
    assert_rule(f.execute_as_is(&approved), E::ProgramNotGoverned);
    let (_, res) = f.propose_with(f.buffer, elf_hash(COUNTER_V2), None);
    assert_rule(res, E::ProgramNotGoverned);
    // The loader itself refuses any key, former members included.
    let m = f.members[0].insecure_clone();
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer, COUNTER_V2, Some(m.pubkey()));
    let ix = solana_loader_v3_interface::instruction::upgrade(
        &f.program,
        &buffer,
        &m.pubkey(),
        &m.pubkey(),
    );
    let failed = f.chain.send(&[ix], &[&m]).unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::Immutable)
    );
    #[allow(deprecated)]
    let ix = solana_loader_v3_interface::instruction::set_upgrade_authority(
        &f.program,
        &m.pubkey(),
        Some(&m.pubkey()),
    );
    assert!(f.chain.send(&[ix], &[&m]).is_err());
    // And a second hand-off of it is refused by the governor.
    let program = f.program;
    let p = f.config_approved_and_due(vec![action::set_program_authority(
        program,
        Some(m.pubkey()),
    )]);
    assert_rule(f.execute_config(&p), E::ProgramNotGoverned);
    let pd = f.chain.account(&program_data_pda(&f.program)).unwrap();
    assert_eq!(pd.data[45..45 + COUNTER_V1.len()], *COUNTER_V1);
}

/// A second program governed by the fixture's multisig.
fn second_program(f: &mut Fixture) -> Pubkey {
    let program = Pubkey::new_unique();
    native_svm::deploy_upgradeable(&mut f.chain.svm, program, COUNTER_V1, Some(f.authority));
    program
}

#[test]
fn the_executor_cannot_hand_off_another_governed_program() {
    let mut f = Fixture::new();
    let sibling = second_program(&mut f);
    let team = Pubkey::new_unique();
    let program = f.program;
    let actions = vec![action::set_program_authority(program, Some(team))];
    let p = f.config_approved_and_due(actions.clone());
    // The approved program's account with the sibling's ProgramData.
    let mut remaining = hand_off_accounts(&actions);
    remaining[1] = AccountMeta::new(program_data_pda(&sibling), false);
    assert_rule(f.execute_config_with(&p, remaining), E::WrongProgramData);
    // The sibling's accounts in place of the approved program.
    let mut remaining = hand_off_accounts(&actions);
    remaining[0] = AccountMeta::new_readonly(sibling, false);
    remaining[1] = AccountMeta::new(program_data_pda(&sibling), false);
    assert_rule(f.execute_config_with(&p, remaining), E::WrongTargetProgram);
    // Another key as the new authority.
    let mut remaining = hand_off_accounts(&actions);
    remaining[2] = AccountMeta::new_readonly(Pubkey::new_unique(), false);
    assert_rule(f.execute_config_with(&p, remaining), E::WrongNewAuthority);
    assert_eq!(upgrade_authority(&f, &sibling), Some(f.authority));
    assert_eq!(upgrade_authority(&f, &program), Some(f.authority));
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Approved);
    // With the right accounts it goes through, and only the named program moves.
    assert_ok(f.execute_config(&p));
    assert_eq!(upgrade_authority(&f, &program), Some(team));
    assert_eq!(upgrade_authority(&f, &sibling), Some(f.authority));
}

#[test]
fn a_program_not_governed_by_this_multisig_cannot_be_handed_off() {
    let mut f = Fixture::new();
    let foreign = Pubkey::new_unique();
    let owner = f.chain.funded();
    native_svm::deploy_upgradeable(&mut f.chain.svm, foreign, COUNTER_V1, Some(owner.pubkey()));
    let p = f.config_approved_and_due(vec![action::set_program_authority(
        foreign,
        Some(f.members[0].pubkey()),
    )]);
    assert_rule(f.execute_config(&p), E::ProgramNotGoverned);
    assert_eq!(upgrade_authority(&f, &foreign), Some(owner.pubkey()));
}

#[test]
fn hand_off_accounts_must_be_exactly_those_the_actions_need_in_order() {
    let mut f = Fixture::new();
    let sibling = second_program(&mut f);
    let team = Pubkey::new_unique();
    let program = f.program;
    let actions = vec![
        action::set_grace(GRACE + 1),
        action::set_program_authority(program, Some(team)),
        action::set_program_authority(sibling, None),
    ];
    let p = f.config_approved_and_due(actions.clone());
    let good = hand_off_accounts(&actions);
    assert_eq!(good.len(), 5);
    let extra = AccountMeta::new_readonly(Pubkey::new_unique(), false);
    let mut cases: Vec<Vec<AccountMeta>> = vec![
        // Nothing, one missing, the new authority left out, one extra.
        vec![],
        good[..4].to_vec(),
        [&good[..2], &good[3..]].concat(),
        [good.clone(), vec![extra.clone()]].concat(),
        // The two hand-offs in the wrong order.
        [&good[3..], &good[..3]].concat(),
    ];
    // ProgramData passed read-only.
    let mut read_only = good.clone();
    read_only[1].is_writable = false;
    cases.push(read_only);
    for remaining in cases {
        assert_rule(
            f.execute_config_with(&p, remaining),
            E::MissingConfigAccounts,
        );
    }
    assert_eq!(upgrade_authority(&f, &program), Some(f.authority));
    assert_eq!(upgrade_authority(&f, &sibling), Some(f.authority));
    assert_eq!(f.multisig_state().grace_seconds, GRACE);

    // A proposal without hand-offs takes no remaining accounts.
    let q = f.config_approved_and_due(vec![action::set_grace(GRACE + 2)]);
    assert_rule(
        f.execute_config_with(&q, vec![extra]),
        E::MissingConfigAccounts,
    );

    // Both hand-offs and the grace change apply together.
    assert_ok(f.execute_config_with(&p, good));
    assert_eq!(upgrade_authority(&f, &program), Some(team));
    assert_eq!(upgrade_authority(&f, &sibling), None);
    assert_eq!(f.multisig_state().grace_seconds, GRACE + 1);
    f.chain.advance(1);
    assert_ok(f.execute_config(&q));
}

#[test]
fn a_failing_hand_off_undoes_every_other_action_of_its_proposal() {
    let mut f = Fixture::new();
    let sibling = second_program(&mut f);
    let program = f.program;
    let new_member = Pubkey::new_unique();
    // The second hand-off fails at execute (the program left governance in between).
    let p = f.config_approved_and_due(vec![
        action::add_member(new_member),
        action::set_program_authority(sibling, None),
        action::set_program_authority(program, None),
    ]);
    let owner = f.chain.funded();
    let earlier = f.config_approved_and_due(vec![action::set_program_authority(
        program,
        Some(owner.pubkey()),
    )]);
    assert_ok(f.execute_config(&earlier));
    let before = f.multisig_state();
    assert_rule(f.execute_config(&p), E::ProgramNotGoverned);
    // The sibling's SetAuthority, already done by CPI, was rolled back with the rest.
    assert_eq!(upgrade_authority(&f, &sibling), Some(f.authority));
    assert_eq!(upgrade_authority(&f, &program), Some(owner.pubkey()));
    assert_same_config(&before, &f.multisig_state());
    assert!(!f.multisig_state().members.contains(&new_member));
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Approved);
}
