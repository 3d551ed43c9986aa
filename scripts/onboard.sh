#!/usr/bin/env bash
# Put an existing upgradeable Solana program under upgrade-governor, and stage its upgrades,
# with the tools a team already uses: the `solana` CLI (3.1.12) and `solana-verify` (0.5.2).
# internal/clitools/onboarding_test.go runs exactly these commands against localnet.
#
#   scripts/onboard.sh authority              print the multisig's authority PDA
#   scripts/onboard.sh govern PROGRAM_ID      hand PROGRAM_ID's upgrade authority to that PDA
#   scripts/onboard.sh buffer NEW_PROGRAM.so  write the new version to a buffer, hand the buffer
#                                             to the PDA, and print the hash members approve
#   scripts/onboard.sh show PROGRAM_ID        authority, last deploy slot and hash of a program
#
# Environment:
#   RPC_URL    JSON-RPC URL of the cluster (required)
#   KEYPAIR    keypair file: fee payer, and the current authority of the program or buffer
#              (required except for `authority`)
#   MULTISIG   address of the governing multisig (required for authority, govern, buffer)
#   WS_URL     WebSocket URL (optional; the CLI guesses the RPC port + 1)
#   GOVERNOR_PROGRAM_ID  the upgrade-governor program (default: its declared id)
#   SOLANA, SOLANA_VERIFY  the binaries (default: `solana`, `solana-verify` on PATH)
#
# After `buffer`, a member proposes the printed buffer through the API (POST /tx/propose, sign
# the returned message in a wallet, POST /proposals); members compare the proposal's
# buffer_hash with the hash printed here and with their own verified build.
set -euo pipefail

GOVERNOR_PROGRAM_ID="${GOVERNOR_PROGRAM_ID:-EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5}"
SOLANA="${SOLANA:-solana}"
SOLANA_VERIFY="${SOLANA_VERIFY:-solana-verify}"

die() { echo "onboard: $*" >&2; exit 1; }
need() { [ -n "${!1:-}" ] || die "set $1 (see the header of $0)"; }

# run prints a command, then runs it: the output shows what a user types.
run() {
  echo "\$ $*" >&2
  "$@"
}

# sol runs the solana CLI with every connection setting explicit, so a CLI config file on the
# machine does not change where it goes or who signs.
sol() {
  local ws=()
  [ -z "${WS_URL:-}" ] || ws=(--ws "$WS_URL")
  run "$SOLANA" --url "$RPC_URL" "${ws[@]}" --keypair "$KEYPAIR" --commitment confirmed "$@"
}

# json_field reads one string or number field from the CLI's --output json-compact.
json_field() {
  sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}

authority_pda() {
  need MULTISIG
  # The PDA [b"authority", multisig] of the governor program (governor.FindAuthorityAddress).
  run "$SOLANA" find-program-derived-address "$GOVERNOR_PROGRAM_ID" string:authority "pubkey:$MULTISIG"
}

program_authority() {
  sol program show "$1" --output json-compact | json_field authority
}

cmd_govern() {
  local program="$1" pda current me
  need RPC_URL; need KEYPAIR
  pda="$(authority_pda)"
  me="$(run "$SOLANA" address --keypair "$KEYPAIR")"
  current="$(program_authority "$program")"
  [ "$current" = "$me" ] || die "the upgrade authority of $program is $current, not $me (KEYPAIR)"
  # A PDA cannot sign, so the CLI's check that the new authority signs is skipped: the address
  # comes from find-program-derived-address above, not from a hand-typed string.
  sol program set-upgrade-authority "$program" --upgrade-authority "$KEYPAIR" \
    --new-upgrade-authority "$pda" --skip-new-upgrade-authority-signer-check >&2
  current="$(program_authority "$program")"
  [ "$current" = "$pda" ] || die "the upgrade authority of $program is $current after the hand-over, want $pda"
  echo "program $program"
  echo "authority $pda"
}

cmd_buffer() {
  local elf="$1" pda buffer hash elf_hash
  need RPC_URL; need KEYPAIR
  [ -f "$elf" ] || die "no ELF at $elf"
  pda="$(authority_pda)"
  buffer="$(sol program write-buffer "$elf" --use-rpc --output json-compact | json_field buffer)"
  [ -n "$buffer" ] || die "write-buffer printed no buffer address"
  sol program set-buffer-authority "$buffer" --buffer-authority "$KEYPAIR" --new-buffer-authority "$pda" >&2
  hash="$(run "$SOLANA_VERIFY" --url "$RPC_URL" get-buffer-hash "$buffer" | tail -n 1)"
  elf_hash="$(run "$SOLANA_VERIFY" get-executable-hash "$elf" | tail -n 1)"
  [ "$hash" = "$elf_hash" ] || die "buffer $buffer hashes to $hash, the ELF $elf to $elf_hash"
  echo "buffer $buffer"
  echo "hash $hash"
}

cmd_show() {
  local program="$1"
  need RPC_URL; need KEYPAIR
  sol program show "$program" >&2
  echo "hash $(run "$SOLANA_VERIFY" --url "$RPC_URL" get-program-hash "$program" | tail -n 1)"
}

case "${1:-}" in
  authority) authority_pda ;;
  govern) [ $# -eq 2 ] || die "usage: $0 govern PROGRAM_ID"; cmd_govern "$2" ;;
  buffer) [ $# -eq 2 ] || die "usage: $0 buffer NEW_PROGRAM.so"; cmd_buffer "$2" ;;
  show) [ $# -eq 2 ] || die "usage: $0 show PROGRAM_ID"; cmd_show "$2" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
