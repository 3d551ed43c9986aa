# governed-counter v1: a counter account with an owner and a balance.
#   tag 0 init     [state w][owner s]  data [0][balance u64]
#   tag 1 deposit  [state w][owner s]  data [1][amount u64]
# State layout v1 and the error codes: ../common/constants.s. Any other tag: InvalidInstruction.
#
# Registers after the input walk (../common/parse_input.s), kept across syscalls:
#   r6 = state account entry, r7 = owner account entry, r8 = account 2 entry (unused in v1),
#   r9 = instruction data. r1-r5 and r0 are scratch.
.include "../common/constants.s"
.include "../common/macros.s"

.equ MSG_INIT_LEN, 25
.equ MSG_DEPOSIT_LEN, 28

.globl entrypoint
entrypoint:
.include "../common/parse_input.s"
    REQUIRE_IX_LEN 1
    ldxb r2, [r9 + IX_TAG]
    jeq r2, TAG_INIT, instruction_init
    jeq r2, TAG_DEPOSIT, instruction_deposit
    ja err_invalid_instruction

# init: writes a fresh v1 account. Checks: data length, accounts, state account, uninitialized,
# owner signed.
instruction_init:
    LOG msg_init, MSG_INIT_LEN
    REQUIRE_IX_LEN IX_LEN_WITH_ARG
    REQUIRE_ACCOUNT r6
    REQUIRE_ACCOUNT r7
    REQUIRE_STATE_ACCOUNT r6
    ldxb r2, [r6 + ACC_DATA + STATE_VERSION]
    jne r2, STATE_UNINITIALIZED, err_already_initialized
    REQUIRE_SIGNER r7
    stdw [r6 + ACC_DATA + STATE_VERSION], LAYOUT_V1
    ldxdw r2, [r7 + ACC_KEY + KEY_W0]
    stxdw [r6 + ACC_DATA + V1_OWNER + KEY_W0], r2
    ldxdw r2, [r7 + ACC_KEY + KEY_W1]
    stxdw [r6 + ACC_DATA + V1_OWNER + KEY_W1], r2
    ldxdw r2, [r7 + ACC_KEY + KEY_W2]
    stxdw [r6 + ACC_DATA + V1_OWNER + KEY_W2], r2
    ldxdw r2, [r7 + ACC_KEY + KEY_W3]
    stxdw [r6 + ACC_DATA + V1_OWNER + KEY_W3], r2
    ldxdw r2, [r9 + IX_ARG]
    stxdw [r6 + ACC_DATA + V1_BALANCE], r2
    stdw [r6 + ACC_DATA + V1_RESERVED0], 0
    stdw [r6 + ACC_DATA + V1_RESERVED1], 0
    mov64 r0, 0
    exit

# deposit: balance += amount, checked. Checks: data length, accounts, state account, v1 layout,
# owner signed, owner is the stored owner.
instruction_deposit:
    LOG msg_deposit, MSG_DEPOSIT_LEN
    REQUIRE_IX_LEN IX_LEN_WITH_ARG
    REQUIRE_ACCOUNT r6
    REQUIRE_ACCOUNT r7
    REQUIRE_STATE_ACCOUNT r6
    ldxb r2, [r6 + ACC_DATA + STATE_VERSION]
    jne r2, LAYOUT_V1, err_wrong_layout_version
    REQUIRE_SIGNER r7
    mov64 r2, r6
    add64 r2, ACC_DATA + V1_OWNER
    mov64 r3, r7
    add64 r3, ACC_KEY
    REQUIRE_KEY_EQ r2, r3, err_wrong_owner
    ldxdw r2, [r6 + ACC_DATA + V1_BALANCE]
    ldxdw r3, [r9 + IX_ARG]
    add64 r3, r2
    jlt r3, r2, err_overflow
    stxdw [r6 + ACC_DATA + V1_BALANCE], r3
    mov64 r0, 0
    exit

.include "../common/errors.s"

.rodata
msg_init: .ascii "governed-counter v1: init"
msg_deposit: .ascii "governed-counter v1: deposit"
