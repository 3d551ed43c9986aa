//! The native adapter against LiteSVM 0.16: each test checks an effect the real runtime
//! would have (or the error it would give), not just that a call returned.

mod common;

use {
    common::*, solana_account::Account, solana_clock::Clock, solana_instruction::AccountMeta,
    solana_instruction_error::InstructionError, solana_keypair::Keypair, solana_pubkey::Pubkey,
    solana_sdk_ids::system_program, solana_signer::Signer,
    solana_transaction_error::TransactionError,
};

fn transfer_data(seed: &[u8], bump: u8, amount: u64) -> Vec<u8> {
    let mut data = vec![TRANSFER_FROM_PDA, seed.len() as u8];
    data.extend_from_slice(seed);
    data.push(bump);
    data.extend_from_slice(&amount.to_le_bytes());
    data
}

fn fund_vault(svm: &mut litesvm::LiteSVM) -> (Pubkey, u8) {
    let (vault, bump) = Pubkey::find_program_address(&[b"vault"], &PROGRAM_ID);
    svm.airdrop(&vault, 5_000_000_000).unwrap();
    (vault, bump)
}

#[test]
fn pda_signed_cpi_transfer_changes_balances() {
    let (mut svm, payer) = svm_with_program();
    let (vault, bump) = fund_vault(&mut svm);
    let destination = Pubkey::new_unique();
    let before = svm.get_balance(&vault).unwrap();

    let result = send(
        &mut svm,
        &payer,
        &[ix(
            &transfer_data(b"vault", bump, 1_234_567),
            vec![
                AccountMeta::new(vault, false),
                AccountMeta::new(destination, false),
                AccountMeta::new_readonly(system_program::id(), false),
            ],
        )],
    );
    let meta = result.expect("the PDA-signed transfer succeeds");

    assert_eq!(svm.get_balance(&destination), Some(1_234_567));
    assert_eq!(svm.get_balance(&vault), Some(before - 1_234_567));
    // The CPI ran in the runtime: it is logged at depth 2 and is an inner instruction.
    assert!(meta
        .logs
        .contains(&"Program 11111111111111111111111111111111 invoke [2]".to_string()));
    assert_eq!(meta.inner_instructions.len(), 1);
    assert_eq!(meta.inner_instructions[0].len(), 1);
    assert_eq!(meta.inner_instructions[0][0].stack_height, 2);
}

#[test]
fn wrong_pda_seed_is_a_real_privilege_escalation() {
    let (mut svm, payer) = svm_with_program();
    let (vault, _) = fund_vault(&mut svm);
    // Valid seeds, but for another address: the vault is not signed for.
    let (_, wrong_bump) = Pubkey::find_program_address(&[b"wrong"], &PROGRAM_ID);
    let destination = Pubkey::new_unique();
    let before = svm.get_balance(&vault).unwrap();

    let result = send(
        &mut svm,
        &payer,
        &[ix(
            &transfer_data(b"wrong", wrong_bump, 1),
            vec![
                AccountMeta::new(vault, false),
                AccountMeta::new(destination, false),
                AccountMeta::new_readonly(system_program::id(), false),
            ],
        )],
    );
    let failed = result.expect_err("signing for someone else's PDA fails");
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::PrivilegeEscalation)
    );
    assert!(failed
        .meta
        .logs
        .iter()
        .any(|l| l == &format!("{vault}'s signer privilege escalated")));
    assert_eq!(svm.get_balance(&vault), Some(before));
    assert_eq!(svm.get_balance(&destination), None);
}

#[test]
fn invalid_seeds_fail_like_the_syscall() {
    let (mut svm, payer) = svm_with_program();
    let (vault, bump) = fund_vault(&mut svm);
    // Find a bump that puts [b"vault", bump] on the curve: create_program_address fails.
    let on_curve_bump = (0..=255u8)
        .rev()
        .find(|b| Pubkey::create_program_address(&[b"vault", &[*b]], &PROGRAM_ID).is_err())
        .unwrap();
    assert_ne!(on_curve_bump, bump);
    let result = send(
        &mut svm,
        &payer,
        &[ix(
            &transfer_data(b"vault", on_curve_bump, 1),
            vec![
                AccountMeta::new(vault, false),
                AccountMeta::new(Pubkey::new_unique(), false),
                AccountMeta::new_readonly(system_program::id(), false),
            ],
        )],
    );
    let failed = result.unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::ProgramFailedToComplete)
    );
    assert!(failed
        .meta
        .logs
        .iter()
        .any(|l| l.contains("Could not create program address with signer seeds")));
}

#[test]
fn sysvars_follow_warp_and_set_sysvar() {
    let (mut svm, payer) = svm_with_program();
    let state = put_account(&mut svm, &PROGRAM_ID, 64);
    let read = |svm: &litesvm::LiteSVM| {
        let data = svm.get_account(&state).unwrap().data;
        let word = |i: usize| u64::from_le_bytes(data[i * 8..i * 8 + 8].try_into().unwrap());
        (word(0), word(1) as i64, word(2), word(3), word(4), word(5))
    };

    svm.warp_to_slot(5_000);
    let mut clock = svm.get_sysvar::<Clock>();
    clock.unix_timestamp = 1_900_000_000;
    clock.epoch = 11;
    svm.set_sysvar(&clock);
    send(
        &mut svm,
        &payer,
        &[ix(&[RECORD_SYSVARS], vec![AccountMeta::new(state, false)])],
    )
    .unwrap();
    let (slot, time, epoch, rent_100, slots_per_epoch, stack_height) = read(&svm);
    assert_eq!(slot, 5_000);
    assert_eq!(time, 1_900_000_000);
    assert_eq!(epoch, 11);
    assert_eq!(rent_100, svm.minimum_balance_for_rent_exemption(100));
    assert_eq!(
        slots_per_epoch,
        svm.get_sysvar::<solana_epoch_schedule::EpochSchedule>()
            .slots_per_epoch
    );
    assert_eq!(stack_height, 1);

    svm.warp_to_slot(9_999);
    send(
        &mut svm,
        &payer,
        &[ix(&[RECORD_SYSVARS], vec![AccountMeta::new(state, false)])],
    )
    .unwrap();
    assert_eq!(read(&svm).0, 9_999);
}

#[test]
fn writing_an_account_it_does_not_own_fails_the_transaction() {
    let (mut svm, payer) = svm_with_program();
    let victim = put_account(&mut svm, &system_program::id(), 8);
    let before = svm.get_account(&victim).unwrap();

    let result = send(
        &mut svm,
        &payer,
        &[ix(&[SCRIBBLE], vec![AccountMeta::new(victim, false)])],
    );
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::ExternalAccountDataModified)
    );
    assert_eq!(svm.get_account(&victim).unwrap(), before);
}

#[test]
fn writing_a_readonly_account_fails_even_when_owned() {
    let (mut svm, payer) = svm_with_program();
    let state = put_account(&mut svm, &PROGRAM_ID, 8);
    let result = send(
        &mut svm,
        &payer,
        &[ix(
            &[SCRIBBLE],
            vec![AccountMeta::new_readonly(state, false)],
        )],
    );
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::ReadonlyDataModified)
    );
    assert_eq!(svm.get_account(&state).unwrap().data, vec![0; 8]);
}

#[test]
fn spending_lamports_of_a_foreign_account_fails() {
    let (mut svm, payer) = svm_with_program();
    let victim = put_account(&mut svm, &system_program::id(), 0);
    let thief = put_account(&mut svm, &PROGRAM_ID, 0);
    let result = send(
        &mut svm,
        &payer,
        &[ix(
            &[STEAL_LAMPORTS],
            vec![
                AccountMeta::new(victim, false),
                AccountMeta::new(thief, false),
            ],
        )],
    );
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::ExternalAccountLamportSpend)
    );
}

#[test]
fn resizes_its_own_account_within_the_realloc_limit() {
    let (mut svm, payer) = svm_with_program();
    let state = put_account(&mut svm, &PROGRAM_ID, 16);
    svm.airdrop(&state, 1_000_000_000).unwrap();

    let resize = |len: u32| {
        let mut data = vec![RESIZE];
        data.extend_from_slice(&len.to_le_bytes());
        ix(&data, vec![AccountMeta::new(state, false)])
    };
    send(&mut svm, &payer, &[resize(16 + 10_240)]).unwrap();
    let data = svm.get_account(&state).unwrap().data;
    assert_eq!(data.len(), 16 + 10_240);
    assert!(data[..16].iter().all(|b| *b == 0));
    assert!(data[16..].iter().all(|b| *b == 0xab));

    send(&mut svm, &payer, &[resize(100)]).unwrap();
    assert_eq!(svm.get_account(&state).unwrap().data.len(), 100);

    // More than 10 KiB over the length at the start of the instruction.
    let result = send(&mut svm, &payer, &[resize(100 + 10_241)]);
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::InvalidRealloc)
    );
    assert_eq!(svm.get_account(&state).unwrap().data.len(), 100);
}

#[test]
fn callee_resize_and_caller_changes_cross_a_cpi_both_ways() {
    let (mut svm, payer) = svm_with_program();
    let state = put_account(&mut svm, &PROGRAM_ID, 8);
    svm.airdrop(&state, 1_000_000_000).unwrap();
    let mut data = vec![CPI_RESIZE];
    data.extend_from_slice(&300u32.to_le_bytes());
    let meta = send(
        &mut svm,
        &payer,
        &[ix(
            &data,
            vec![
                AccountMeta::new(state, false),
                AccountMeta::new_readonly(PROGRAM_ID, false),
            ],
        )],
    )
    .expect("caller sees the callee's resize, callee sees the caller's write");
    let data = svm.get_account(&state).unwrap().data;
    assert_eq!(data.len(), 300);
    assert_eq!(&data[..2], &[7, 9]);
    assert!(data[8..].iter().all(|b| *b == 0xab));
    assert_eq!(meta.inner_instructions[0].len(), 1);
}

#[test]
fn owner_changes_follow_the_runtime_rules() {
    let (mut svm, payer) = svm_with_program();
    let assign = |account: Pubkey, owner: Pubkey| {
        let mut data = vec![ASSIGN];
        data.extend_from_slice(owner.as_ref());
        ix(&data, vec![AccountMeta::new(account, false)])
    };

    // Owned, writable, empty: the owner may hand it over.
    let empty = put_account(&mut svm, &PROGRAM_ID, 0);
    send(&mut svm, &payer, &[assign(empty, system_program::id())]).unwrap();
    assert_eq!(svm.get_account(&empty).unwrap().owner, system_program::id());

    // Not owned any more: taking it back is ModifiedProgramId.
    let result = send(&mut svm, &payer, &[assign(empty, PROGRAM_ID)]);
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::ModifiedProgramId)
    );

    // Owned but holding non-zero data: ModifiedProgramId too.
    let full = put_account(&mut svm, &PROGRAM_ID, 8);
    let mut account = svm.get_account(&full).unwrap();
    account.data[3] = 1;
    svm.set_account(full, account).unwrap();
    let result = send(&mut svm, &payer, &[assign(full, system_program::id())]);
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::ModifiedProgramId)
    );
    assert_eq!(svm.get_account(&full).unwrap().owner, PROGRAM_ID);
}

#[test]
fn return_data_reaches_the_transaction() {
    let (mut svm, payer) = svm_with_program();
    let meta = send(&mut svm, &payer, &[ix(&[RETURN_DATA], vec![])]).unwrap();
    assert_eq!(meta.return_data.program_id, PROGRAM_ID);
    assert_eq!(meta.return_data.data, b"native return".to_vec());
    assert!(meta.logs.contains(&format!(
        "Program return: {PROGRAM_ID} bmF0aXZlIHJldHVybg=="
    )));
}

#[test]
fn sibling_instructions_and_remaining_compute_units() {
    let (mut svm, payer) = svm_with_program();
    let memo = solana_instruction::Instruction::new_with_bytes(
        Pubkey::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"),
        b"first",
        vec![],
    );
    let meta = send(&mut svm, &payer, &[memo.clone(), ix(&[INTROSPECT], vec![])]).unwrap();
    let data = meta.return_data.data;
    assert_eq!(&data[..32], memo.program_id.as_ref());
    assert_eq!(u64::from_le_bytes(data[32..40].try_into().unwrap()), 5);
    let remaining = u64::from_le_bytes(data[40..48].try_into().unwrap());
    assert!(remaining > 0 && remaining < 400_000, "{remaining}");
}

#[test]
fn logs_land_in_the_transaction_logs() {
    let (mut svm, payer) = svm_with_program();
    let meta = send(&mut svm, &payer, &[ix(&[LOG], vec![])]).unwrap();
    assert_eq!(
        meta.logs,
        vec![
            format!("Program {PROGRAM_ID} invoke [1]"),
            "Program log: hello from native".to_string(),
            "Program data: YWJj ZGU=".to_string(),
            format!("Program {PROGRAM_ID} consumed 1 of 200000 compute units"),
            format!("Program {PROGRAM_ID} success"),
        ]
    );
}

#[test]
fn nested_self_cpi_keeps_one_frame_per_level() {
    let (mut svm, payer) = svm_with_program();
    let meta = send(
        &mut svm,
        &payer,
        &[ix(
            &[SELF_CPI, 3],
            vec![AccountMeta::new_readonly(PROGRAM_ID, false)],
        )],
    )
    .unwrap();
    for (depth, height) in [(3, 1), (2, 2), (1, 3), (0, 4)] {
        let line = format!("Program log: depth {depth} at stack height {height}");
        assert!(meta.logs.contains(&line), "missing {line}: {:?}", meta.logs);
    }
    assert_eq!(meta.return_data.data, vec![3]);
    assert_eq!(meta.inner_instructions[0].len(), 3);
}

#[test]
fn loader_instructions_outside_the_cpi_allow_list_are_refused() {
    let (mut svm, payer) = svm_with_program();
    let target = Pubkey::new_unique();
    let elf = svm
        .get_account(&Pubkey::from_str_const(
            "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
        ))
        .unwrap()
        .data;
    let programdata = native_svm::deploy_upgradeable(&mut svm, target, &elf, None);
    let result = send(
        &mut svm,
        &payer,
        &[ix(
            &[EXTEND_BY_CPI],
            vec![
                AccountMeta::new(programdata, false),
                AccountMeta::new(target, false),
                AccountMeta::new_readonly(solana_sdk_ids::bpf_loader_upgradeable::id(), false),
            ],
        )],
    );
    let failed = result.unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::ProgramFailedToComplete)
    );
    assert!(failed.meta.logs.iter().any(|l| l.contains(
        "Program BPFLoaderUpgradeab1e11111111111111111111111 not supported by inner instructions"
    )));
}

#[test]
fn cpi_failure_is_the_callee_error_and_aborts_the_caller() {
    let (mut svm, payer) = svm_with_program();
    // The native program calls the system program; the callee's own failure is the
    // transaction error.
    let from = Keypair::new();
    svm.airdrop(&from.pubkey(), 1_000_000_000).unwrap();
    let transfer =
        solana_system_interface::instruction::transfer(&from.pubkey(), &Pubkey::new_unique(), 10);
    let mut data = vec![CALL];
    data.extend_from_slice(&transfer.data);
    let result = send(
        &mut svm,
        &payer,
        &[ix(
            &data,
            vec![
                AccountMeta::new_readonly(system_program::id(), false),
                AccountMeta::new(from.pubkey(), false),
                AccountMeta::new(transfer.accounts[1].pubkey, false),
            ],
        )],
    );
    // `from` did not sign: the system program's own error.
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::MissingRequiredSignature)
    );

    // Signed, but too poor: the system program's custom error (ResultWithNegativeLamports
    // is 1), from inside the CPI.
    let transfer = solana_system_interface::instruction::transfer(
        &from.pubkey(),
        &Pubkey::new_unique(),
        5_000_000_000,
    );
    let mut data = vec![CALL];
    data.extend_from_slice(&transfer.data);
    let result = send_signed(
        &mut svm,
        &payer,
        &[ix(
            &data,
            vec![
                AccountMeta::new_readonly(system_program::id(), false),
                AccountMeta::new(from.pubkey(), true),
                AccountMeta::new(transfer.accounts[1].pubkey, false),
            ],
        )],
        &[&from],
    );
    let failed = result.unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::Custom(1))
    );
    assert!(failed.meta.logs.contains(&format!(
        "Program {PROGRAM_ID} failed: custom program error: 0x1"
    )));
}

#[test]
fn program_errors_and_panics_fail_the_instruction() {
    let (mut svm, payer) = svm_with_program();
    let result = send(&mut svm, &payer, &[ix(&[CUSTOM_ERROR], vec![])]);
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::Custom(42))
    );
    let result = send(&mut svm, &payer, &[ix(&[PANIC], vec![])]);
    let failed = result.unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::ProgramFailedToComplete)
    );
    assert!(failed
        .meta
        .logs
        .iter()
        .any(|l| l.contains("the test program panics on purpose")));
    // The harness is still usable afterwards.
    send(&mut svm, &payer, &[ix(&[LOG], vec![])]).unwrap();
}

#[test]
fn the_program_account_is_a_builtin_of_the_native_loader() {
    let (svm, _) = svm_with_program();
    let account: Account = svm.get_account(&PROGRAM_ID).unwrap();
    assert!(account.executable);
    assert_eq!(account.owner, solana_sdk_ids::native_loader::id());
}
