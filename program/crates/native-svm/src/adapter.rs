//! The builtin function: serialize the instruction's accounts, run the native entry, copy
//! the accounts back through the runtime's setters.

use {
    crate::frame::{
        self, AccountBuffer, Frame, FrameAccount, MAX_PERMITTED_DATA_INCREASE,
        MAX_PERMITTED_DATA_LENGTH,
    },
    solana_account_info::AccountInfo,
    solana_instruction::error::InstructionError,
    solana_program_runtime::{
        invoke_context::{BuiltinFunctionRegisterer, InvokeContext},
        solana_sbpf::{declare_builtin_function, program::BuiltinFunctionDefinition},
        stable_log,
    },
    solana_pubkey::Pubkey,
    solana_svm_log_collector::ic_msg,
    solana_transaction_context::IndexOfAccount,
    std::{
        error::Error,
        fmt,
        panic::{catch_unwind, AssertUnwindSafe},
    },
};

/// What one native invocation costs (native code is not metered; the runtime requires a
/// builtin to consume something).
const NATIVE_INVOCATION_COMPUTE_UNITS: u64 = 1;

declare_builtin_function!(
    /// Dispatches to the registered native entry of the running program id.
    NativeProgram,
    fn rust(
        invoke_context: &mut InvokeContext<'static, 'static>,
        _arg0: u64,
        _arg1: u64,
        _arg2: u64,
        _arg3: u64,
        _arg4: u64,
    ) -> Result<u64, Box<dyn std::error::Error>> {
        process(invoke_context).map(|()| 0)
    }
);

impl NativeProgram {
    pub(crate) fn register_fn() -> BuiltinFunctionRegisterer {
        <Self as BuiltinFunctionDefinition<InvokeContext<'static, 'static>>>::register
    }
}

/// Thrown through the native program's frames when a syscall aborts it; never escapes
/// the builtin.
pub(crate) struct Abort;

/// A native program panicked (the SBF equivalent is "SBF program panicked").
#[derive(Debug)]
struct NativeProgramPanicked(String);

impl fmt::Display for NativeProgramPanicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "native program panicked: {}", self.0)
    }
}

impl Error for NativeProgramPanicked {}

enum Slot {
    /// Index into the buffers.
    Account(usize),
    /// A repeated account: index of its first occurrence in the instruction.
    Duplicate(usize),
}

fn process(ic: &mut InvokeContext<'static, 'static>) -> Result<(), Box<dyn Error>> {
    use solana_program_runtime::solana_sbpf::vm::ContextObject;

    let pre_remaining = ic.get_remaining();
    ic.compute_meter
        .consume_checked(NATIVE_INVOCATION_COMPUTE_UNITS)?;

    let (program_id, instruction_data, slots, buffers) = serialize(ic)?;
    let Some(entry) = crate::lookup_native_entry(&program_id) else {
        ic_msg!(ic, "No native entry registered for {}", program_id);
        return Err(Box::new(InstructionError::UnsupportedProgramId));
    };

    let accounts = frame_accounts(&slots, &buffers);

    let guard = frame::push(Frame {
        invoke_context: ic as *mut InvokeContext<'static, 'static>,
        program_id,
        accounts: accounts.clone(),
        abort: None,
    });
    let outcome = {
        // SAFETY: the buffers outlive the infos (dropped at the end of this block), and
        // only the program and the syscall stubs touch them meanwhile.
        let mut infos: Vec<AccountInfo> = Vec::with_capacity(slots.len());
        for (index, slot) in slots.iter().enumerate() {
            let info = match slot {
                Slot::Account(_) => unsafe { accounts[index].account_info() },
                Slot::Duplicate(first) => infos[*first].clone(),
            };
            infos.push(info);
        }
        catch_unwind(AssertUnwindSafe(|| {
            entry(&program_id, &infos, &instruction_data)
        }))
    };
    let frame = guard.pop();

    let post_remaining = ic.get_remaining();
    ic_msg!(
        ic,
        "Program {} consumed {} of {} compute units",
        program_id,
        pre_remaining.saturating_sub(post_remaining),
        pre_remaining
    );
    let (_, return_data) = ic.transaction_context.get_return_data();
    if !return_data.is_empty() {
        stable_log::program_return(&ic.get_log_collector(), &program_id, return_data);
    }

    match outcome {
        Ok(Ok(())) => {
            deserialize(ic, &slots, &buffers)?;
            Ok(())
        }
        // As the SBF loader does with the entrypoint's return value.
        Ok(Err(program_error)) => Err(Box::new(InstructionError::from(u64::from(program_error)))),
        Err(payload) => match frame.abort {
            Some(error) => Err(error),
            None => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "Box<dyn Any>".to_string());
                stable_log::program_log(&ic.get_log_collector(), &format!("panicked: {message}"));
                Err(Box::new(NativeProgramPanicked(message)))
            }
        },
    }
}

fn frame_accounts(slots: &[Slot], buffers: &[AccountBuffer]) -> Vec<FrameAccount> {
    let mut accounts: Vec<FrameAccount> = Vec::with_capacity(slots.len());
    for slot in slots {
        let account = match slot {
            Slot::Account(b) => buffers[*b].frame_account(),
            Slot::Duplicate(first) => accounts[*first],
        };
        accounts.push(account);
    }
    accounts
}

type Serialized = (Pubkey, Vec<u8>, Vec<Slot>, Vec<AccountBuffer>);

/// Copies the instruction's accounts out of the runtime, like the SBF loader's serializer.
fn serialize(ic: &InvokeContext) -> Result<Serialized, InstructionError> {
    let instruction_context = ic.transaction_context.get_current_instruction_context()?;
    let program_id = *instruction_context.get_program_key()?;
    let instruction_data = instruction_context.get_instruction_data().to_vec();
    let count = instruction_context.get_number_of_instruction_accounts();
    let mut slots = Vec::with_capacity(count as usize);
    let mut buffers = Vec::with_capacity(count as usize);
    for index in 0..count {
        if let Some(first) = instruction_context.is_instruction_account_duplicate(index)? {
            slots.push(Slot::Duplicate(first as usize));
            continue;
        }
        let account = instruction_context.try_borrow_instruction_account(index)?;
        #[allow(deprecated)]
        let executable = account.is_executable();
        buffers.push(AccountBuffer::new(
            account.get_key(),
            account.get_owner(),
            account.get_lamports(),
            account.get_data(),
            account.is_signer(),
            account.is_writable(),
            executable,
        ));
        slots.push(Slot::Account(buffers.len() - 1));
    }
    Ok((program_id, instruction_data, slots, buffers))
}

/// Copies the program's account changes into the runtime, like the SBF loader's
/// deserializer: every change goes through the runtime's setters, which reject what the
/// program may not change (the instruction then fails with that error).
fn deserialize(
    ic: &InvokeContext,
    slots: &[Slot],
    buffers: &[AccountBuffer],
) -> Result<(), InstructionError> {
    let instruction_context = ic.transaction_context.get_current_instruction_context()?;
    for (index, slot) in slots.iter().enumerate() {
        let Slot::Account(b) = slot else {
            continue;
        };
        let buffer = buffers[*b].frame_account();
        let mut account =
            instruction_context.try_borrow_instruction_account(index as IndexOfAccount)?;

        let lamports = buffer.lamports();
        if account.get_lamports() != lamports {
            account.set_lamports(lamports)?;
        }

        let post_len = buffer.data_len();
        if post_len.saturating_sub(buffer.original_len) > MAX_PERMITTED_DATA_INCREASE
            || post_len > MAX_PERMITTED_DATA_LENGTH
        {
            return Err(InstructionError::InvalidRealloc);
        }
        let data = buffer.data(post_len);
        match account.can_data_be_resized(post_len) {
            Ok(()) => account.set_data_from_slice(data)?,
            Err(err) if account.get_data() != data => return Err(err),
            Err(_) => {}
        }

        // The owner last, so lamports and data could still be changed before.
        let owner = buffer.owner();
        if *account.get_owner() != owner {
            account.set_owner(owner.as_ref())?;
        }
    }
    Ok(())
}
