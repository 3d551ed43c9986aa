//! The solana-sysvar 3.x syscall stubs, served from the invoke context of the native program
//! running on this thread. Outside a native invocation they behave like the defaults
//! (print logs, report sysvars as unsupported), except CPI, which panics: a CPI that
//! silently does nothing is the trap this crate exists to avoid.

use {
    crate::{
        adapter::Abort,
        frame::{self, Current},
    },
    solana_account_info::AccountInfo,
    solana_instruction::{error::InstructionError, AccountMeta, Instruction},
    solana_program_error::ProgramResult,
    solana_program_runtime::{
        cpi::CpiError, invoke_context::InvokeContext, solana_sbpf::vm::ContextObject, stable_log,
    },
    solana_pubkey::{Pubkey, PubkeyError, MAX_SEEDS},
    solana_sdk_ids::{bpf_loader, bpf_loader_deprecated, bpf_loader_upgradeable, native_loader},
    solana_svm_log_collector::ic_msg,
    solana_svm_timings::ExecuteTimings,
    solana_sysvar::program_stubs::SyscallStubs,
    solana_transaction_context::{
        IndexOfAccount, MAX_ACCOUNTS_PER_INSTRUCTION, MAX_INSTRUCTION_DATA_LEN,
    },
    std::{error::Error, fmt},
};

const SUCCESS: u64 = 0;
const UNSUPPORTED_SYSVAR: u64 = solana_instruction::error::UNSUPPORTED_SYSVAR;
/// `sol_get_sysvar`: offset + length beyond the sysvar's data.
const OFFSET_LENGTH_EXCEEDS_SYSVAR: u64 = 1;
/// `sol_get_sysvar`: the sysvar is not in the cache.
const SYSVAR_NOT_FOUND: u64 = 2;
/// Most PDA signers one CPI may carry.
const MAX_SIGNERS: usize = 16;
/// Most account infos one CPI may pass.
const MAX_CPI_ACCOUNT_INFOS: usize = 255;
/// Largest return data.
const MAX_RETURN_DATA: usize = 1024;

pub(crate) struct NativeSyscallStubs;

/// Syscall errors that are not `InstructionError`s (the runtime fails the instruction with
/// `ProgramFailedToComplete` and logs this message, as for an SBF program).
#[derive(Debug)]
enum SyscallError {
    ReturnDataTooLarge(u64, u64),
}

impl fmt::Display for SyscallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyscallError::ReturnDataTooLarge(len, max) => {
                write!(f, "Return data too large ({len} > {max})")
            }
        }
    }
}

impl Error for SyscallError {}

/// Runs `f` with the invoke context of the native program running on this thread.
fn with_context<R>(
    f: impl FnOnce(&mut InvokeContext<'static, 'static>, &Current) -> R,
) -> Option<R> {
    let current = frame::current()?;
    // SAFETY: the pointer was taken from the builtin's `&mut InvokeContext`, which does not
    // use it while the native entry (and so this stub) runs.
    let invoke_context = unsafe { &mut *current.invoke_context };
    Some(f(invoke_context, &current))
}

/// Aborts the running native program, as a failing syscall aborts an SBF program: the
/// builtin catches the unwind and fails the instruction with `error`.
fn abort(error: Box<dyn Error>) -> ! {
    frame::set_abort(error);
    std::panic::resume_unwind(Box::new(Abort))
}

/// Writes a sysvar object for a typed `sol_get_*_sysvar` call.
fn write_sysvar<T>(var_addr: *mut u8, sysvar: Result<T, InstructionError>) -> u64 {
    match sysvar {
        Ok(value) => {
            // SAFETY: the caller passes a pointer to a `T` (solana-sysvar's `impl_sysvar_get`).
            unsafe { var_addr.cast::<T>().write(value) };
            SUCCESS
        }
        Err(_) => UNSUPPORTED_SYSVAR,
    }
}

impl SyscallStubs for NativeSyscallStubs {
    fn sol_log(&self, message: &str) {
        if with_context(|ic, _| stable_log::program_log(&ic.get_log_collector(), message)).is_none()
        {
            println!("{message}");
        }
    }

    fn sol_log_compute_units(&self) {
        with_context(|ic, _| {
            ic_msg!(
                ic,
                "Program consumption: {} units remaining",
                ic.get_remaining()
            );
        });
    }

    fn sol_remaining_compute_units(&self) -> u64 {
        with_context(|ic, _| ic.get_remaining()).unwrap_or(0)
    }

    fn sol_invoke_signed(
        &self,
        instruction: &Instruction,
        account_infos: &[AccountInfo],
        signers_seeds: &[&[&[u8]]],
    ) -> ProgramResult {
        let result = with_context(|ic, current| {
            invoke(ic, current, instruction, account_infos, signers_seeds)
        })
        .unwrap_or_else(|| {
            panic!(
                "native-svm: CPI into {} outside of a native program invocation",
                instruction.program_id
            )
        });
        match result {
            Ok(()) => Ok(()),
            Err(error) => abort(error),
        }
    }

    fn sol_get_sysvar(
        &self,
        sysvar_id_addr: *const u8,
        var_addr: *mut u8,
        offset: u64,
        length: u64,
    ) -> u64 {
        with_context(|ic, _| {
            // SAFETY: solana-sysvar passes a pointer to the sysvar id.
            let sysvar_id = unsafe { &*sysvar_id_addr.cast::<Pubkey>() };
            let Some(end) = offset.checked_add(length) else {
                abort(Box::new(InstructionError::ArithmeticOverflow))
            };
            let cache = ic.environment_config.sysvar_cache();
            let Some(buffer) = cache.sysvar_id_to_buffer(sysvar_id) else {
                return SYSVAR_NOT_FOUND;
            };
            let Some(bytes) = buffer.get(offset as usize..end as usize) else {
                return OFFSET_LENGTH_EXCEEDS_SYSVAR;
            };
            // SAFETY: solana-sysvar checked the destination holds `length` bytes.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), var_addr, bytes.len()) };
            SUCCESS
        })
        .unwrap_or(UNSUPPORTED_SYSVAR)
    }

    fn sol_get_clock_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic, _| {
            let clock = ic.environment_config.sysvar_cache().get_clock();
            write_sysvar(var_addr, clock.map(|clock| (*clock).clone()))
        })
        .unwrap_or(UNSUPPORTED_SYSVAR)
    }

    fn sol_get_epoch_schedule_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic, _| {
            let schedule = ic.environment_config.sysvar_cache().get_epoch_schedule();
            write_sysvar(var_addr, schedule.map(|schedule| (*schedule).clone()))
        })
        .unwrap_or(UNSUPPORTED_SYSVAR)
    }

    fn sol_get_rent_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic, _| {
            // The runtime keeps solana-rent 4.x; solana-sysvar 3.x asks for a solana-rent 3.x
            // Rent. Same fields, renamed: convert field by field.
            let rent = ic.environment_config.sysvar_cache().get_rent();
            #[allow(deprecated)]
            let rent = rent.map(|rent| solana_rent_v3::Rent {
                lamports_per_byte_year: rent.lamports_per_byte,
                exemption_threshold: f64::from_le_bytes(rent.exemption_threshold),
                burn_percent: rent.burn_percent,
            });
            write_sysvar(var_addr, rent)
        })
        .unwrap_or(UNSUPPORTED_SYSVAR)
    }

    fn sol_get_epoch_rewards_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic, _| {
            let rewards = ic.environment_config.sysvar_cache().get_epoch_rewards();
            write_sysvar(var_addr, rewards.map(|rewards| (*rewards).clone()))
        })
        .unwrap_or(UNSUPPORTED_SYSVAR)
    }

    fn sol_get_last_restart_slot(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic, _| {
            let slot = ic.environment_config.sysvar_cache().get_last_restart_slot();
            write_sysvar(var_addr, slot.map(|slot| (*slot).clone()))
        })
        .unwrap_or(UNSUPPORTED_SYSVAR)
    }

    fn sol_get_epoch_stake(&self, vote_address: *const u8) -> u64 {
        with_context(|ic, _| {
            if vote_address.is_null() {
                ic.get_epoch_stake()
            } else {
                // SAFETY: a pointer to a vote address; the callee does not keep it.
                let vote: &'static Pubkey = unsafe { &*vote_address.cast::<Pubkey>() };
                ic.get_epoch_stake_for_vote_account(vote)
            }
        })
        .unwrap_or(0)
    }

    fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
        with_context(|ic, _| {
            let (program_id, data) = ic.transaction_context.get_return_data();
            (!data.is_empty()).then(|| (*program_id, data.to_vec()))
        })
        .flatten()
    }

    fn sol_set_return_data(&self, data: &[u8]) {
        with_context(|ic, current| {
            if data.len() > MAX_RETURN_DATA {
                abort(Box::new(SyscallError::ReturnDataTooLarge(
                    data.len() as u64,
                    MAX_RETURN_DATA as u64,
                )));
            }
            if let Err(error) = ic
                .transaction_context
                .set_return_data(current.program_id, data.to_vec())
            {
                abort(Box::new(error));
            }
        });
    }

    fn sol_log_data(&self, fields: &[&[u8]]) {
        if with_context(|ic, _| stable_log::program_data(&ic.get_log_collector(), fields)).is_none()
        {
            use base64::{prelude::BASE64_STANDARD, Engine};
            let fields: Vec<String> = fields.iter().map(|f| BASE64_STANDARD.encode(f)).collect();
            println!("Program data: {}", fields.join(" "));
        }
    }

    fn sol_get_processed_sibling_instruction(&self, index: usize) -> Option<Instruction> {
        with_context(|ic, _| processed_sibling_instruction(ic, index)).flatten()
    }

    fn sol_get_stack_height(&self) -> u64 {
        with_context(|ic, _| ic.get_stack_height() as u64).unwrap_or(0)
    }
}

/// `sol_get_processed_sibling_instruction`, as the runtime's syscall computes it.
fn processed_sibling_instruction(ic: &InvokeContext, index: usize) -> Option<Instruction> {
    let transaction_context = &ic.transaction_context;
    let stack_height = ic.get_stack_height();
    let current_caller = transaction_context
        .get_current_instruction_context()
        .ok()?
        .get_index_of_caller();
    let range = if stack_height == 1 {
        0..transaction_context.next_top_level_instruction_index()
    } else {
        let end = transaction_context.get_instruction_trace_length();
        end.saturating_sub(transaction_context.number_of_cpis_in_trace())..end
    };
    let mut reverse_index = 0usize;
    for index_in_trace in range.rev() {
        let context = transaction_context
            .get_instruction_context_at_index_in_trace(index_in_trace)
            .ok()?;
        if context.get_index_of_caller() != current_caller {
            continue;
        }
        if context.get_stack_height() < stack_height {
            break;
        }
        if context.get_stack_height() == stack_height {
            if index.saturating_add(1) == reverse_index {
                let accounts = (0..context.get_number_of_instruction_accounts())
                    .map(|i| {
                        Some(AccountMeta {
                            pubkey: *context.get_key_of_instruction_account(i).ok()?,
                            is_signer: context.is_instruction_account_signer(i).ok()?,
                            is_writable: context.is_instruction_account_writable(i).ok()?,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                return Some(Instruction {
                    program_id: *context.get_program_key().ok()?,
                    accounts,
                    data: context.get_instruction_data().to_vec(),
                });
            }
            reverse_index = reverse_index.saturating_add(1);
        }
    }
    None
}

/// The runtime's rule on which programs and loader instructions a program may call by CPI.
fn check_authorized_program(
    program_id: &Pubkey,
    instruction_data: &[u8],
    ic: &InvokeContext,
) -> Result<(), Box<dyn Error>> {
    use solana_loader_v3_interface::instruction as loader_v3;
    if native_loader::check_id(program_id)
        || bpf_loader::check_id(program_id)
        || bpf_loader_deprecated::check_id(program_id)
        || (bpf_loader_upgradeable::check_id(program_id)
            && !(loader_v3::is_upgrade_instruction(instruction_data)
                || loader_v3::is_set_authority_instruction(instruction_data)
                || (ic
                    .get_feature_set()
                    .enable_bpf_loader_set_authority_checked_ix
                    && loader_v3::is_set_authority_checked_instruction(instruction_data))
                || loader_v3::is_close_instruction(instruction_data)))
        || ic.is_precompile(program_id)
    {
        return Err(Box::new(CpiError::ProgramNotSupported(*program_id)));
    }
    Ok(())
}

/// An account the callee will see, with where the caller keeps it.
struct Translated {
    index_in_caller: IndexOfAccount,
    account_info: usize,
    writable_in_callee: bool,
}

fn check_pointer(
    ic: &InvokeContext,
    field: &str,
    actual: *const u8,
    expected: *const u8,
) -> Result<(), Box<dyn Error>> {
    if actual != expected {
        ic_msg!(
            ic,
            "Invalid account info pointer `{}': {:#x} != {:#x}",
            field,
            actual as usize,
            expected as usize
        );
        return Err(Box::new(CpiError::InvalidPointer));
    }
    Ok(())
}

/// A cross-program invocation from the native program, step by step as the runtime's
/// `cpi_common` does it for an SBF caller.
fn invoke(
    ic: &mut InvokeContext<'static, 'static>,
    current: &Current,
    instruction: &Instruction,
    account_infos: &[AccountInfo],
    signers_seeds: &[&[&[u8]]],
) -> Result<(), Box<dyn Error>> {
    if instruction.accounts.len() > MAX_ACCOUNTS_PER_INSTRUCTION {
        return Err(Box::new(CpiError::MaxInstructionAccountsExceeded {
            num_accounts: instruction.accounts.len() as u64,
            max_accounts: MAX_ACCOUNTS_PER_INSTRUCTION as u64,
        }));
    }
    if instruction.data.len() > MAX_INSTRUCTION_DATA_LEN {
        return Err(Box::new(CpiError::MaxInstructionDataLenExceeded {
            data_len: instruction.data.len() as u64,
            max_data_len: MAX_INSTRUCTION_DATA_LEN as u64,
        }));
    }

    // PDA signers, derived from the caller's program id.
    if signers_seeds.len() > MAX_SIGNERS {
        return Err(Box::new(CpiError::TooManySigners));
    }
    let mut signers = Vec::with_capacity(signers_seeds.len());
    for seeds in signers_seeds {
        if seeds.len() > MAX_SEEDS {
            return Err(Box::new(InstructionError::MaxSeedLengthExceeded));
        }
        let signer = Pubkey::create_program_address(seeds, &current.program_id)
            .map_err(|err: PubkeyError| Box::new(CpiError::BadSeeds(err)))?;
        signers.push(signer);
    }

    check_authorized_program(&instruction.program_id, &instruction.data, ic)?;
    ic.prepare_next_cpi_instruction(instruction.clone(), &signers)?;

    if account_infos.len() > MAX_CPI_ACCOUNT_INFOS {
        return Err(Box::new(CpiError::MaxInstructionAccountInfosExceeded {
            num_account_infos: account_infos.len() as u64,
            max_account_infos: MAX_CPI_ACCOUNT_INFOS as u64,
        }));
    }

    // Translate the callee's accounts and sync the caller's changes into the runtime, so
    // the callee sees them (and the runtime checks them).
    let mut translated = Vec::new();
    {
        let transaction_context = &ic.transaction_context;
        let callee = transaction_context.get_next_instruction_context()?;
        let caller = transaction_context.get_current_instruction_context()?;
        for (index_in_callee, instruction_account) in
            callee.instruction_accounts().iter().enumerate()
        {
            if callee
                .is_instruction_account_duplicate(index_in_callee as IndexOfAccount)?
                .is_some()
            {
                continue;
            }
            let index_in_caller = caller
                .get_index_of_account_in_instruction(instruction_account.index_in_transaction)?;
            let mut account = caller.try_borrow_instruction_account(index_in_caller)?;
            #[allow(deprecated)]
            if account.is_executable() {
                continue;
            }
            let key = *account.get_key();
            let Some(position) = account_infos.iter().position(|info| *info.key == key) else {
                ic_msg!(ic, "Instruction references an unknown account {}", key);
                return Err(Box::new(InstructionError::MissingAccount));
            };
            let info = &account_infos[position];
            let buffer = current.accounts[index_in_caller as usize];

            check_pointer(ic, "key", info.key.as_ref().as_ptr(), buffer.key_ptr())?;
            check_pointer(
                ic,
                "owner",
                info.owner.as_ref().as_ptr(),
                buffer.owner_ptr(),
            )?;
            // SAFETY: reading the pointers stored in the caller's RefCells, not the values.
            let (lamports_ptr, data_ptr, data_len) = unsafe {
                let data = &*info.data.as_ptr();
                (
                    (*info.lamports.as_ptr()) as *const u64 as *const u8,
                    data.as_ptr(),
                    data.len(),
                )
            };
            check_pointer(ic, "lamports", lamports_ptr, buffer.lamports_ptr())?;
            check_pointer(ic, "data", data_ptr, buffer.data_ptr())?;
            if data_len > buffer.capacity() {
                return Err(Box::new(InstructionError::InvalidRealloc));
            }

            // update_callee_account: lamports, data, then the owner.
            let lamports = buffer.lamports();
            if account.get_lamports() != lamports {
                account.set_lamports(lamports)?;
            }
            let data = buffer.data(data_len);
            match account.can_data_be_resized(data.len()) {
                Ok(()) => account.set_data_from_slice(data)?,
                Err(err) if account.get_data() != data => return Err(Box::new(err)),
                Err(_) => {}
            }
            let owner = buffer.owner();
            if *account.get_owner() != owner {
                account.set_owner(owner.as_ref())?;
            }

            translated.push(Translated {
                index_in_caller,
                account_info: position,
                writable_in_callee: instruction_account.is_writable(),
            });
        }
    }

    let mut compute_units_consumed = 0;
    ic.process_instruction(&mut compute_units_consumed, &mut ExecuteTimings::default())?;

    // update_caller_account: copy what the callee changed back into the caller's view.
    let transaction_context = &ic.transaction_context;
    let caller = transaction_context.get_current_instruction_context()?;
    for entry in translated.iter().filter(|entry| entry.writable_in_callee) {
        let account = caller.try_borrow_instruction_account(entry.index_in_caller)?;
        let info = &account_infos[entry.account_info];
        let buffer = current.accounts[entry.index_in_caller as usize];

        buffer.set_lamports(account.get_lamports());
        buffer.set_owner(account.get_owner());

        // SAFETY: the data RefCell of this AccountInfo points into `buffer` (checked above).
        let prev_len = unsafe { (&*info.data.as_ptr()).len() };
        let post_len = account.get_data().len();
        if post_len > buffer.capacity() {
            ic_msg!(
                ic,
                "Account data size realloc limited to {} in inner instructions",
                buffer.capacity() - buffer.original_len
            );
            return Err(Box::new(InstructionError::InvalidRealloc));
        }
        // SAFETY: `buffer` has room for `capacity()` bytes of data; the new slice replaces
        // the one in the caller's RefCell (as the runtime rewrites the length in the VM).
        unsafe {
            let data_ptr = buffer.data_ptr();
            if post_len < prev_len {
                std::ptr::write_bytes(data_ptr.add(post_len), 0, prev_len - post_len);
            }
            std::ptr::copy_nonoverlapping(account.get_data().as_ptr(), data_ptr, post_len);
            if prev_len != post_len {
                *info.data.as_ptr() = std::slice::from_raw_parts_mut(data_ptr, post_len);
                buffer.set_data_len(post_len);
            }
        }
    }
    Ok(())
}
