//! Account buffers laid out like the SBF input region, and the per-thread stack of running
//! native invocations.

use {
    solana_account_info::AccountInfo,
    solana_program_runtime::invoke_context::InvokeContext,
    solana_pubkey::Pubkey,
    std::{cell::RefCell, error::Error, mem::size_of},
};

/// How far an account may grow in one instruction (the runtime's realloc padding).
pub(crate) const MAX_PERMITTED_DATA_INCREASE: usize = 10 * 1024;
/// The largest account the runtime allows.
pub(crate) const MAX_PERMITTED_DATA_LENGTH: usize = 10 * 1024 * 1024;

// Offsets inside one serialized account, as in the aligned SBF input region:
// [dup marker, is_signer, is_writable, executable][original_data_len u32][key][owner]
// [lamports u64][data_len u64][data .. + MAX_PERMITTED_DATA_INCREASE]
// `AccountInfo::resize` reads `original_data_len` at `key - 4` and writes the new length
// at `data - 8`; `AccountInfo::assign` writes through the `owner` reference.
const ORIGINAL_LEN_OFFSET: usize = 4;
const KEY_OFFSET: usize = 8;
const OWNER_OFFSET: usize = KEY_OFFSET + 32;
const LAMPORTS_OFFSET: usize = OWNER_OFFSET + 32;
const DATA_LEN_OFFSET: usize = LAMPORTS_OFFSET + 8;
const DATA_OFFSET: usize = DATA_LEN_OFFSET + 8;

/// One account, serialized for a native program.
///
/// The memory is only ever accessed through `base` (derived once from the allocation), so
/// the `AccountInfo` references handed to the program and the reads after it returned do
/// not invalidate each other.
pub(crate) struct AccountBuffer {
    _mem: Box<[u128]>,
    base: *mut u8,
    original_len: usize,
}

impl AccountBuffer {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        key: &Pubkey,
        owner: &Pubkey,
        lamports: u64,
        data: &[u8],
        is_signer: bool,
        is_writable: bool,
        executable: bool,
    ) -> Self {
        let size = DATA_OFFSET + data.len() + MAX_PERMITTED_DATA_INCREASE;
        // u128 elements: 16-byte aligned base, so the data (at 88) is 8-aligned like on SBF
        // and an Anchor account body after its 8-byte discriminator is 16-aligned.
        let mut mem = vec![0u128; size.div_ceil(size_of::<u128>())].into_boxed_slice();
        let base = mem.as_mut_ptr().cast::<u8>();
        // SAFETY: every write below is inside the allocation of `size` bytes.
        unsafe {
            *base = u8::MAX; // not a duplicate
            *base.add(1) = is_signer as u8;
            *base.add(2) = is_writable as u8;
            *base.add(3) = executable as u8;
            base.add(ORIGINAL_LEN_OFFSET)
                .cast::<u32>()
                .write(data.len() as u32);
            std::ptr::copy_nonoverlapping(key.as_ref().as_ptr(), base.add(KEY_OFFSET), 32);
            std::ptr::copy_nonoverlapping(owner.as_ref().as_ptr(), base.add(OWNER_OFFSET), 32);
            base.add(LAMPORTS_OFFSET).cast::<u64>().write(lamports);
            base.add(DATA_LEN_OFFSET)
                .cast::<u64>()
                .write(data.len() as u64);
            std::ptr::copy_nonoverlapping(data.as_ptr(), base.add(DATA_OFFSET), data.len());
        }
        Self {
            _mem: mem,
            base,
            original_len: data.len(),
        }
    }

    pub(crate) fn frame_account(&self) -> FrameAccount {
        FrameAccount {
            base: self.base,
            original_len: self.original_len,
        }
    }
}

/// A raw view of an [`AccountBuffer`], valid while the invocation that owns the buffer runs.
#[derive(Clone, Copy)]
pub(crate) struct FrameAccount {
    base: *mut u8,
    pub(crate) original_len: usize,
}

impl FrameAccount {
    /// An `AccountInfo` over this buffer, with the flags serialized into it.
    ///
    /// # Safety
    /// The buffer must outlive `'a`, and nothing else may hold references into it.
    pub(crate) unsafe fn account_info<'a>(&self) -> AccountInfo<'a> {
        unsafe {
            let base = self.base;
            AccountInfo::new(
                &*base.add(KEY_OFFSET).cast::<Pubkey>(),
                *base.add(1) != 0,
                *base.add(2) != 0,
                &mut *base.add(LAMPORTS_OFFSET).cast::<u64>(),
                std::slice::from_raw_parts_mut(base.add(DATA_OFFSET), self.data_len()),
                &*base.add(OWNER_OFFSET).cast::<Pubkey>(),
                *base.add(3) != 0,
            )
        }
    }

    pub(crate) fn lamports(&self) -> u64 {
        unsafe { self.base.add(LAMPORTS_OFFSET).cast::<u64>().read() }
    }

    pub(crate) fn set_lamports(&self, lamports: u64) {
        unsafe { self.base.add(LAMPORTS_OFFSET).cast::<u64>().write(lamports) }
    }

    pub(crate) fn owner(&self) -> Pubkey {
        let mut bytes = [0u8; 32];
        unsafe {
            std::ptr::copy_nonoverlapping(self.base.add(OWNER_OFFSET), bytes.as_mut_ptr(), 32)
        };
        Pubkey::new_from_array(bytes)
    }

    pub(crate) fn set_owner(&self, owner: &Pubkey) {
        unsafe {
            std::ptr::copy_nonoverlapping(owner.as_ref().as_ptr(), self.base.add(OWNER_OFFSET), 32)
        }
    }

    /// The length in the serialized length field (what the loader reads at the end).
    pub(crate) fn data_len(&self) -> usize {
        unsafe { self.base.add(DATA_LEN_OFFSET).cast::<u64>().read() as usize }
    }

    pub(crate) fn set_data_len(&self, len: usize) {
        unsafe {
            self.base
                .add(DATA_LEN_OFFSET)
                .cast::<u64>()
                .write(len as u64)
        }
    }

    /// The most the data may grow to during this invocation.
    pub(crate) fn capacity(&self) -> usize {
        self.original_len + MAX_PERMITTED_DATA_INCREASE
    }

    /// `len` bytes of data; `len` must not exceed [`Self::capacity`].
    pub(crate) fn data(&self, len: usize) -> &[u8] {
        assert!(len <= self.capacity());
        unsafe { std::slice::from_raw_parts(self.base.add(DATA_OFFSET), len) }
    }

    pub(crate) fn key_ptr(&self) -> *const u8 {
        unsafe { self.base.add(KEY_OFFSET) }
    }

    pub(crate) fn owner_ptr(&self) -> *const u8 {
        unsafe { self.base.add(OWNER_OFFSET) }
    }

    pub(crate) fn lamports_ptr(&self) -> *const u8 {
        unsafe { self.base.add(LAMPORTS_OFFSET) }
    }

    pub(crate) fn data_ptr(&self) -> *mut u8 {
        unsafe { self.base.add(DATA_OFFSET) }
    }
}

/// A running native invocation.
pub(crate) struct Frame {
    pub(crate) invoke_context: *mut InvokeContext<'static, 'static>,
    pub(crate) program_id: Pubkey,
    /// Indexed by instruction account index; duplicates share the first occurrence's buffer.
    pub(crate) accounts: Vec<FrameAccount>,
    /// Set when a syscall aborted the program; the builtin returns it.
    pub(crate) abort: Option<Box<dyn Error>>,
}

/// What a syscall stub needs from the running invocation (copied out, so the stack is not
/// borrowed while the stub re-enters the runtime).
pub(crate) struct Current {
    pub(crate) invoke_context: *mut InvokeContext<'static, 'static>,
    pub(crate) program_id: Pubkey,
    pub(crate) accounts: Vec<FrameAccount>,
}

thread_local! {
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// Pushes a frame; the guard pops it (also when unwinding).
pub(crate) fn push(frame: Frame) -> FrameGuard {
    FRAMES.with(|frames| frames.borrow_mut().push(frame));
    FrameGuard { popped: false }
}

pub(crate) struct FrameGuard {
    popped: bool,
}

impl FrameGuard {
    pub(crate) fn pop(mut self) -> Frame {
        self.popped = true;
        FRAMES
            .with(|frames| frames.borrow_mut().pop())
            .expect("native-svm frame stack underflow")
    }
}

impl Drop for FrameGuard {
    fn drop(&mut self) {
        if !self.popped {
            FRAMES.with(|frames| frames.borrow_mut().pop());
        }
    }
}

/// The innermost running invocation on this thread, if any.
pub(crate) fn current() -> Option<Current> {
    FRAMES.with(|frames| {
        frames.borrow().last().map(|frame| Current {
            invoke_context: frame.invoke_context,
            program_id: frame.program_id,
            accounts: frame.accounts.clone(),
        })
    })
}

/// Records why the innermost invocation is being aborted.
pub(crate) fn set_abort(error: Box<dyn Error>) {
    FRAMES.with(|frames| {
        if let Some(frame) = frames.borrow_mut().last_mut() {
            frame.abort = Some(error);
        }
    });
}
