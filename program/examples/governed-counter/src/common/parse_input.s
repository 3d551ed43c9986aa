# governed-counter: walks the serialized input once (see constants.s for the byte map).
# Included right after `entrypoint:`; falls through with:
#   r6 = entry of account 0 (state), 0 if not passed
#   r7 = entry of account 1 (owner / authority), 0 if not passed
#   r8 = entry of account 2 (ProgramData), 0 if not passed
#   r9 = first byte of the instruction data
#   [r10 - SLOT_IX_LEN] = instruction data length, [r10 - SLOT_PROGRAM_ID] = program id pointer
# A duplicate entry resolves to the entry of the account it duplicates, so a checked
# account is always a full entry. Entries after MAX_TRACKED_ACCOUNTS are skipped, using their
# own data_len (ProgramData carries the whole ELF, so nothing after it sits at a fixed offset).
# Walk registers: r2 = num_accounts, r3 = cursor, r4 = index, r0 = entry to record, r1/r5 scratch.
    stdw [r10 - SLOT_ACCOUNT0], 0
    stdw [r10 - SLOT_ACCOUNT1], 0
    stdw [r10 - SLOT_ACCOUNT2], 0
    ldxdw r2, [r1 + NUM_ACCOUNTS]
    mov64 r3, r1
    add64 r3, FIRST_ACCOUNT
    mov64 r4, 0
parse_next_account:
    jge r4, r2, parse_accounts_done
    ldxb r5, [r3 + ACC_DUP_MARKER]
    jne r5, NON_DUP_MARKER, parse_duplicate
    mov64 r0, r3
    ldxdw r5, [r3 + ACC_DATA_LEN]
    add64 r3, r5
    add64 r3, ACC_DATA + MAX_PERMITTED_DATA_INCREASE + 7
    and64 r3, ALIGN_MASK
    add64 r3, RENT_EPOCH_SIZE
    ja parse_record
parse_duplicate:
    # r5 = index of the original; the runtime guarantees it is below r4.
    add64 r3, DUP_ENTRY_SIZE
    jge r4, MAX_TRACKED_ACCOUNTS, parse_advance
    lsh64 r5, 3
    mov64 r0, r10
    sub64 r0, r5
    ldxdw r0, [r0 - 8]
parse_record:
    # Slot of account i is r10 - 8 * (i + 1).
    jge r4, MAX_TRACKED_ACCOUNTS, parse_advance
    mov64 r5, r4
    lsh64 r5, 3
    mov64 r1, r10
    sub64 r1, r5
    stxdw [r1 - 8], r0
parse_advance:
    add64 r4, 1
    ja parse_next_account
parse_accounts_done:
    ldxdw r5, [r3 + 0]
    stxdw [r10 - SLOT_IX_LEN], r5
    mov64 r9, r3
    add64 r9, 8
    add64 r5, r9
    stxdw [r10 - SLOT_PROGRAM_ID], r5
    ldxdw r6, [r10 - SLOT_ACCOUNT0]
    ldxdw r7, [r10 - SLOT_ACCOUNT1]
    ldxdw r8, [r10 - SLOT_ACCOUNT2]
