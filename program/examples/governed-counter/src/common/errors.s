# governed-counter: one exit per error; r0 = the custom error code (constants.s).
err_invalid_instruction:
    mov64 r0, ERR_INVALID_INSTRUCTION
    exit
err_not_enough_accounts:
    mov64 r0, ERR_NOT_ENOUGH_ACCOUNTS
    exit
err_already_initialized:
    mov64 r0, ERR_ALREADY_INITIALIZED
    exit
err_not_owned_by_program:
    mov64 r0, ERR_NOT_OWNED_BY_PROGRAM
    exit
err_wrong_size:
    mov64 r0, ERR_WRONG_SIZE
    exit
err_not_writable:
    mov64 r0, ERR_NOT_WRITABLE
    exit
err_missing_signer:
    mov64 r0, ERR_MISSING_SIGNER
    exit
err_wrong_owner:
    mov64 r0, ERR_WRONG_OWNER
    exit
err_wrong_layout_version:
    mov64 r0, ERR_WRONG_LAYOUT_VERSION
    exit
err_overflow:
    mov64 r0, ERR_OVERFLOW
    exit
err_wrong_migration_signer:
    mov64 r0, ERR_WRONG_MIGRATION_SIGNER
    exit
err_instruction_data_too_short:
    mov64 r0, ERR_INSTRUCTION_DATA_TOO_SHORT
    exit
