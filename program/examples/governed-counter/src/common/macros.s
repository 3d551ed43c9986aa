# governed-counter: macros shared by v1 and v2. Every check jumps to an error exit in errors.s.

# Fails with `fail` unless the 32-byte keys at pointers `key_a` and `key_b` are equal.
# Clobbers r4, r5.
.macro REQUIRE_KEY_EQ key_a, key_b, fail
    ldxdw r4, [\key_a + KEY_W0]
    ldxdw r5, [\key_b + KEY_W0]
    jne r4, r5, \fail
    ldxdw r4, [\key_a + KEY_W1]
    ldxdw r5, [\key_b + KEY_W1]
    jne r4, r5, \fail
    ldxdw r4, [\key_a + KEY_W2]
    ldxdw r5, [\key_b + KEY_W2]
    jne r4, r5, \fail
    ldxdw r4, [\key_a + KEY_W3]
    ldxdw r5, [\key_b + KEY_W3]
    jne r4, r5, \fail
.endm

# The rules every state account meets, in this order: owned by this program, exactly
# STATE_SIZE bytes, writable. `acc` is the register holding the account's entry pointer.
# Clobbers r2-r5.
.macro REQUIRE_STATE_ACCOUNT acc
    mov64 r2, \acc
    add64 r2, ACC_OWNER
    ldxdw r3, [r10 - SLOT_PROGRAM_ID]
    REQUIRE_KEY_EQ r2, r3, err_not_owned_by_program
    ldxdw r2, [\acc + ACC_DATA_LEN]
    jne r2, STATE_SIZE, err_wrong_size
    ldxb r2, [\acc + ACC_IS_WRITABLE]
    jeq r2, 0, err_not_writable
.endm

# Fails with MissingSigner unless the account at entry pointer `acc` signed. Clobbers r2.
.macro REQUIRE_SIGNER acc
    ldxb r2, [\acc + ACC_IS_SIGNER]
    jeq r2, 0, err_missing_signer
.endm

# Fails with InstructionDataTooShort unless the instruction data has at least `len` bytes.
# Clobbers r2.
.macro REQUIRE_IX_LEN len
    ldxdw r2, [r10 - SLOT_IX_LEN]
    jlt r2, \len, err_instruction_data_too_short
.endm

# Fails with NotEnoughAccounts unless the account register `acc` was filled by the input walk.
.macro REQUIRE_ACCOUNT acc
    jeq \acc, 0, err_not_enough_accounts
.endm

# sol_log_ of a .rodata string. Clobbers r0-r5.
.macro LOG msg, len
    lddw r1, \msg
    mov64 r2, \len
    call sol_log_
.endm
