# governed-counter v2: moves the fields (layout v2), counts touches, and migrates v1 accounts.
#   tag 0 init     [state w][owner s]                         data [0][balance u64]
#   tag 1 deposit  [state w][owner s]                         data [1][amount u64]
#   tag 2 migrate  [state w][migration signer s][ProgramData] data [2]
#   tag 3 touch    [state w]                                  data [3]
# State layouts v1/v2 and the error codes: ../common/constants.s. Any other tag:
# InvalidInstruction.
#
# Registers after the input walk (../common/parse_input.s), kept across syscalls:
#   r6 = state account entry, r7 = owner/migration signer entry, r8 = account 2 entry (unused),
#   r9 = instruction data. r1-r5 and r0 are scratch.
.include "../common/constants.s"
.include "../common/macros.s"

.equ MSG_INIT_LEN, 25
.equ MSG_DEPOSIT_LEN, 28
.equ MSG_MIGRATE_LEN, 28
.equ MSG_MIGRATED_LEN, 38
.equ MSG_ALREADY_V2_LEN, 51
.equ MSG_TOUCH_LEN, 26

.globl entrypoint
entrypoint:
.include "../common/parse_input.s"
    REQUIRE_IX_LEN 1
    ldxb r2, [r9 + IX_TAG]
    jeq r2, TAG_INIT, instruction_init
    jeq r2, TAG_DEPOSIT, instruction_deposit
    jeq r2, TAG_MIGRATE, instruction_migrate
    jeq r2, TAG_TOUCH, instruction_touch
    ja err_invalid_instruction

# init: writes a fresh v2 account (touch_count 0). Checks: data length, accounts, state
# account, uninitialized, owner signed.
instruction_init:
    LOG msg_init, MSG_INIT_LEN
    REQUIRE_IX_LEN IX_LEN_WITH_ARG
    REQUIRE_ACCOUNT r6
    REQUIRE_ACCOUNT r7
    REQUIRE_STATE_ACCOUNT r6
    ldxb r2, [r6 + ACC_DATA + STATE_VERSION]
    jne r2, STATE_UNINITIALIZED, err_already_initialized
    REQUIRE_SIGNER r7
    stdw [r6 + ACC_DATA + STATE_VERSION], LAYOUT_V2
    ldxdw r2, [r9 + IX_ARG]
    stxdw [r6 + ACC_DATA + V2_BALANCE], r2
    ldxdw r2, [r7 + ACC_KEY + KEY_W0]
    stxdw [r6 + ACC_DATA + V2_OWNER + KEY_W0], r2
    ldxdw r2, [r7 + ACC_KEY + KEY_W1]
    stxdw [r6 + ACC_DATA + V2_OWNER + KEY_W1], r2
    ldxdw r2, [r7 + ACC_KEY + KEY_W2]
    stxdw [r6 + ACC_DATA + V2_OWNER + KEY_W2], r2
    ldxdw r2, [r7 + ACC_KEY + KEY_W3]
    stxdw [r6 + ACC_DATA + V2_OWNER + KEY_W3], r2
    stdw [r6 + ACC_DATA + V2_TOUCH_COUNT], 0
    stdw [r6 + ACC_DATA + V2_RESERVED], 0
    mov64 r0, 0
    exit

# deposit: balance += amount, checked. Checks: data length, accounts, state account, v2 layout
# (a v1 account must be migrated first), owner signed, owner is the stored owner.
instruction_deposit:
    LOG msg_deposit, MSG_DEPOSIT_LEN
    REQUIRE_IX_LEN IX_LEN_WITH_ARG
    REQUIRE_ACCOUNT r6
    REQUIRE_ACCOUNT r7
    REQUIRE_STATE_ACCOUNT r6
    ldxb r2, [r6 + ACC_DATA + STATE_VERSION]
    jne r2, LAYOUT_V2, err_wrong_layout_version
    REQUIRE_SIGNER r7
    mov64 r2, r6
    add64 r2, ACC_DATA + V2_OWNER
    mov64 r3, r7
    add64 r3, ACC_KEY
    REQUIRE_KEY_EQ r2, r3, err_wrong_owner
    ldxdw r2, [r6 + ACC_DATA + V2_BALANCE]
    ldxdw r3, [r9 + IX_ARG]
    add64 r3, r2
    jlt r3, r2, err_overflow
    stxdw [r6 + ACC_DATA + V2_BALANCE], r3
    mov64 r0, 0
    exit

# migrate: rewrites a v1 account in the v2 layout; a v2 account is left as it is, so running a
# migration twice is harmless. Only upgrade-governor's migrate_account may migrate: [1] must be
# this program's migration signer, the PDA of ["migration", program_id] under the governor's
# program id, and must have signed. The governor signs with it only for the multisig that
# governs this program now, after the upgrade that declared this migration executed; it is the
# authority of nothing. [2] (ProgramData) is passed by the governor and not read. Checks, in
# order: accounts, state account, [1] is the migration signer, [1] signed, layout is v1 or v2.
instruction_migrate:
    LOG msg_migrate, MSG_MIGRATE_LEN
    REQUIRE_ACCOUNT r6
    REQUIRE_ACCOUNT r7
    REQUIRE_STATE_ACCOUNT r6
    # migration signer = find_program_address(["migration", program_id], upgrade-governor)
    lddw r2, migration_seed
    stxdw [r10 - SLOT_SEED0_ADDR], r2
    stdw [r10 - SLOT_SEED0_LEN], MIGRATION_SEED_LEN
    ldxdw r2, [r10 - SLOT_PROGRAM_ID]
    stxdw [r10 - SLOT_SEED1_ADDR], r2
    stdw [r10 - SLOT_SEED1_LEN], PUBKEY_LEN
    mov64 r1, r10
    sub64 r1, SLOT_SEED0_ADDR
    mov64 r2, NUM_MIGRATION_SEEDS
    lddw r3, upgrade_governor_id
    mov64 r4, r10
    sub64 r4, SLOT_PDA
    mov64 r5, r10
    sub64 r5, SLOT_BUMP
    call sol_try_find_program_address
    jne r0, 0, err_wrong_migration_signer
    mov64 r2, r10
    sub64 r2, SLOT_PDA
    mov64 r3, r7
    add64 r3, ACC_KEY
    REQUIRE_KEY_EQ r2, r3, err_wrong_migration_signer
    REQUIRE_SIGNER r7
    ldxb r2, [r6 + ACC_DATA + STATE_VERSION]
    jeq r2, LAYOUT_V2, migrate_already_v2
    jne r2, LAYOUT_V1, err_wrong_layout_version
    # v1 owner (8..40) and v2 owner (16..48) overlap: read every field before writing any.
    ldxdw r1, [r6 + ACC_DATA + V1_OWNER + KEY_W0]
    ldxdw r2, [r6 + ACC_DATA + V1_OWNER + KEY_W1]
    ldxdw r3, [r6 + ACC_DATA + V1_OWNER + KEY_W2]
    ldxdw r4, [r6 + ACC_DATA + V1_OWNER + KEY_W3]
    ldxdw r5, [r6 + ACC_DATA + V1_BALANCE]
    stdw [r6 + ACC_DATA + STATE_VERSION], LAYOUT_V2
    stxdw [r6 + ACC_DATA + V2_BALANCE], r5
    stxdw [r6 + ACC_DATA + V2_OWNER + KEY_W0], r1
    stxdw [r6 + ACC_DATA + V2_OWNER + KEY_W1], r2
    stxdw [r6 + ACC_DATA + V2_OWNER + KEY_W2], r3
    stxdw [r6 + ACC_DATA + V2_OWNER + KEY_W3], r4
    stdw [r6 + ACC_DATA + V2_TOUCH_COUNT], 0
    stdw [r6 + ACC_DATA + V2_RESERVED], 0
    LOG msg_migrated, MSG_MIGRATED_LEN
    mov64 r0, 0
    exit
migrate_already_v2:
    LOG msg_already_v2, MSG_ALREADY_V2_LEN
    mov64 r0, 0
    exit

# touch: touch_count += 1, checked; the v2-only instruction that proves the upgraded code
# runs. Checks: accounts, state account, v2 layout. No signer needed.
instruction_touch:
    LOG msg_touch, MSG_TOUCH_LEN
    REQUIRE_ACCOUNT r6
    REQUIRE_STATE_ACCOUNT r6
    ldxb r2, [r6 + ACC_DATA + STATE_VERSION]
    jne r2, LAYOUT_V2, err_wrong_layout_version
    ldxdw r2, [r6 + ACC_DATA + V2_TOUCH_COUNT]
    add64 r2, 1
    jeq r2, 0, err_overflow
    stxdw [r6 + ACC_DATA + V2_TOUCH_COUNT], r2
    mov64 r0, 0
    exit

.include "../common/errors.s"

.rodata
msg_init: .ascii "governed-counter v2: init"
msg_deposit: .ascii "governed-counter v2: deposit"
msg_migrate: .ascii "governed-counter v2: migrate"
msg_migrated: .ascii "governed-counter v2: migrated v1 -> v2"
msg_already_v2: .ascii "governed-counter v2: already v2, nothing to migrate"
msg_touch: .ascii "governed-counter v2: touch"
migration_seed: .ascii "migration"
# upgrade-governor's program id, EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5 (governed-auth's
# UPGRADE_GOVERNOR_ID). A deployment under another id reassembles with its bytes.
upgrade_governor_id: .byte 0xc3, 0xc6, 0x5d, 0xc9, 0xdf, 0x1d, 0x95, 0x7a, 0x81, 0x93, 0x75, 0x3f, 0xa4, 0xb1, 0xb6, 0x2f, 0x11, 0x9d, 0x61, 0x40, 0xe7, 0x04, 0x52, 0x23, 0x9c, 0x89, 0x3f, 0x30, 0x39, 0x1b, 0xc0, 0xe2
