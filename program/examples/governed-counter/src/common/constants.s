# governed-counter: constants shared by v1 and v2 (input layout, state layouts, tags, errors).
# Only .equ lines here: including this file emits no code.

# ---------------------------------------------------------------------------------------------
# Program input, as the upgradeable loader serializes it (aligned ABI). r1 points at byte 0.
#
#   0x0000  u64        num_accounts
#   0x0008  account 0  (state; never a duplicate, being first)
#   ...     account 1..n-1, each either a full entry or an 8-byte duplicate entry
#   ...     u64        instruction data length
#   ...     [len]      instruction data (byte 0 = tag, then little-endian args)
#   ...     [32]       program id
#
# One account entry, offsets from its first byte (account 0 starts at 0x0008, so its data is
# at 0x0060):
#   +0   u8    0xff = full entry; anything else = duplicate of the account with that index
#   +1   u8    is_signer            (full entry only)
#   +2   u8    is_writable
#   +3   u8    executable
#   +4   u32   original data length (unused here)
#   +8   [32]  key
#   +40  [32]  owner
#   +72  u64   lamports
#   +80  u64   data_len
#   +88  [data_len] data, then 10240 bytes of realloc room, then padding to 8 bytes
#   ...  u64   rent_epoch
# A duplicate entry is 8 bytes: the index byte and 7 bytes of padding.
# ---------------------------------------------------------------------------------------------
.equ NUM_ACCOUNTS, 0
.equ FIRST_ACCOUNT, 8

.equ ACC_DUP_MARKER, 0
.equ ACC_IS_SIGNER, 1
.equ ACC_IS_WRITABLE, 2
.equ ACC_KEY, 8
.equ ACC_OWNER, 40
.equ ACC_DATA_LEN, 80
.equ ACC_DATA, 88
.equ NON_DUP_MARKER, 0xff
.equ DUP_ENTRY_SIZE, 8
.equ MAX_PERMITTED_DATA_INCREASE, 10240
.equ RENT_EPOCH_SIZE, 8
.equ ALIGN_MASK, -8

# Key word offsets: keys are compared as four u64 words.
.equ KEY_W0, 0
.equ KEY_W1, 8
.equ KEY_W2, 16
.equ KEY_W3, 24

# Instruction data: [tag u8][arg u64 LE]
.equ IX_TAG, 0
.equ IX_ARG, 1
.equ IX_LEN_WITH_ARG, 9

.equ TAG_INIT, 0
.equ TAG_DEPOSIT, 1
.equ TAG_MIGRATE, 2
.equ TAG_TOUCH, 3

# ---------------------------------------------------------------------------------------------
# Stack frame of the entrypoint: slots live across syscalls, addressed as [r10 - SLOT_x].
#   r10-8    account 0 entry pointer (0 = not passed)
#   r10-16   account 1 entry pointer
#   r10-24   account 2 entry pointer
#   r10-32   instruction data length
#   r10-40   program id pointer
#   r10-72   seeds array for the migration signer PDA: two { addr u64, len u64 }  (v2 migrate)
#   r10-104  derived migration signer address [32]                              (v2 migrate)
#   r10-112  bump seed u8                                                       (v2 migrate)
# ---------------------------------------------------------------------------------------------
.equ MAX_TRACKED_ACCOUNTS, 3
.equ SLOT_ACCOUNT0, 8
.equ SLOT_ACCOUNT1, 16
.equ SLOT_ACCOUNT2, 24
.equ SLOT_IX_LEN, 32
.equ SLOT_PROGRAM_ID, 40
.equ SLOT_SEED0_ADDR, 72
.equ SLOT_SEED0_LEN, 64
.equ SLOT_SEED1_ADDR, 56
.equ SLOT_SEED1_LEN, 48
.equ SLOT_PDA, 104
.equ SLOT_BUMP, 112
.equ PUBKEY_LEN, 32

# ---------------------------------------------------------------------------------------------
# State account: exactly 64 bytes, owned by the program. Byte 0 is the layout version.
#
#   v1:  0 version=1 | 1..8 zero | 8..40 owner | 40..48 balance u64 | 48..64 zero
#   v2:  0 version=2 | 1..8 zero | 8..16 balance u64 | 16..48 owner | 48..56 touch_count u64
#        | 56..64 zero
# The version is written as a u64 at offset 0 so bytes 1..8 stay zero.
# ---------------------------------------------------------------------------------------------
.equ STATE_SIZE, 64
.equ STATE_VERSION, 0
.equ STATE_UNINITIALIZED, 0
.equ LAYOUT_V1, 1
.equ LAYOUT_V2, 2

.equ V1_OWNER, 8
.equ V1_BALANCE, 40
.equ V1_RESERVED0, 48
.equ V1_RESERVED1, 56

.equ V2_BALANCE, 8
.equ V2_OWNER, 16
.equ V2_TOUCH_COUNT, 48
.equ V2_RESERVED, 56

# ---------------------------------------------------------------------------------------------
# The migration signer (v2 migrate): PDA of ["migration", program_id] under upgrade-governor's
# program id (its bytes are in v2's .rodata). The governor signs with it only inside
# migrate_account; it is the authority of nothing.
# ---------------------------------------------------------------------------------------------
.equ MIGRATION_SEED_LEN, 9
.equ NUM_MIGRATION_SEEDS, 2

# ---------------------------------------------------------------------------------------------
# Custom error codes (returned in r0; the runtime reports InstructionError::Custom(code)).
# ---------------------------------------------------------------------------------------------
.equ ERR_INVALID_INSTRUCTION, 1
.equ ERR_NOT_ENOUGH_ACCOUNTS, 2
.equ ERR_ALREADY_INITIALIZED, 3
.equ ERR_NOT_OWNED_BY_PROGRAM, 4
.equ ERR_WRONG_SIZE, 5
.equ ERR_NOT_WRITABLE, 6
.equ ERR_MISSING_SIGNER, 7
.equ ERR_WRONG_OWNER, 8
.equ ERR_WRONG_LAYOUT_VERSION, 9
.equ ERR_OVERFLOW, 10
# 11 (WrongProgramData) was v2's ProgramData check before issue #16; retired, not reused.
.equ ERR_WRONG_MIGRATION_SIGNER, 12
.equ ERR_INSTRUCTION_DATA_TOO_SHORT, 13
