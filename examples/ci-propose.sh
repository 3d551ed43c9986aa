#!/usr/bin/env bash
# What a team's CI job runs after building a release: stage the new ELF in a loader buffer owned
# by the multisig's authority PDA and propose it through the upgrade-governor API. Members then
# approve (ugov approve PROPOSAL) after checking the proposal's buffer_hash against their own
# verified build; nothing changes on chain before the threshold and the timelock.
# internal/clitools/example_script_test.go runs this script against localnet.
#
#   1. solana program write-buffer ELF --use-rpc           (KEYPAIR pays and owns the buffer)
#   2. solana program set-buffer-authority BUFFER --new-buffer-authority PDA
#   3. solana-verify get-buffer-hash BUFFER                (must equal the ELF's own hash)
#   4. ugov --output json propose ... --hash HASH --description "$DESCRIPTION"
#
# On success the proposal's address is the only line on stdout; progress goes to stderr. Any
# failure exits non-zero with a message on stderr.
#
# Environment:
#   RPC_URL      JSON-RPC URL of the cluster (required)
#   WS_URL       WebSocket URL (optional; the solana CLI guesses the RPC port + 1)
#   API_URL      the upgrade-governor API (required)
#   KEYPAIR      the CI deployer's keypair file: pays, is the buffer's first authority, and must
#                be a member of MULTISIG to propose (required)
#   MULTISIG     address of the governing multisig (required)
#   PROGRAM_ID   the governed program (required; its upgrade authority is the multisig's PDA)
#   ELF          the built program, e.g. target/deploy/my_program.so (required)
#   DESCRIPTION  what the release changes, e.g. "v1.4.0 (commit abc123)" (required)
#   GOVERNOR_PROGRAM_ID  the upgrade-governor program (default: its declared id)
#   SOLANA, SOLANA_VERIFY, UGOV  the binaries (default: `solana`, `solana-verify`, `ugov` on PATH)
set -euo pipefail

GOVERNOR_PROGRAM_ID="${GOVERNOR_PROGRAM_ID:-EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5}"
SOLANA="${SOLANA:-solana}"
SOLANA_VERIFY="${SOLANA_VERIFY:-solana-verify}"
UGOV="${UGOV:-ugov}"

die() { echo "ci-propose: $*" >&2; exit 1; }
need() { [ -n "${!1:-}" ] || die "set $1 (see the header of $0)"; }
# address NAME checks that $NAME looks like a base58 address (the solana CLI panics on others).
address() {
  [[ "${!1}" =~ ^[1-9A-HJ-NP-Za-km-z]{32,44}$ ]] || die "$1=${!1} is not a valid address (base58); nothing was written or proposed"
}

# run prints a command to stderr, then runs it.
run() {
  echo "\$ $*" >&2
  "$@"
}

# sol runs the solana CLI with every connection setting explicit, so a CLI config file on the
# runner does not change where it goes or who signs.
sol() {
  local ws=()
  [ -z "${WS_URL:-}" ] || ws=(--ws "$WS_URL")
  run "$SOLANA" --url "$RPC_URL" "${ws[@]}" --keypair "$KEYPAIR" --commitment confirmed "$@"
}

# json_get FIELD prints a string field of the last JSON object on stdin (CLIs may print progress
# lines before it); `json_get error` prints ugov's error message, or nothing.
json_get() {
  python3 -c '
import json, sys
field = sys.argv[1]
text = sys.stdin.read()
i = text.rfind("\n{")
try:
    obj = json.loads(text[i + 1:] if i >= 0 else text)
except ValueError:
    sys.exit(0)
v = obj.get(field)
if field == "error" and isinstance(v, dict):
    v = "%s: %s" % (v.get("code", "error"), v.get("message", v))
if v is not None and v != "":
    print(v if isinstance(v, str) else json.dumps(v))
' "$1"
}

for v in RPC_URL API_URL KEYPAIR MULTISIG PROGRAM_ID ELF DESCRIPTION; do need "$v"; done
for b in "$SOLANA" "$SOLANA_VERIFY" "$UGOV" python3; do
  command -v "$b" >/dev/null || die "$b is not installed (or not on PATH)"
done
address MULTISIG; address PROGRAM_ID; address GOVERNOR_PROGRAM_ID
[ -f "$KEYPAIR" ] || die "no keypair file at $KEYPAIR"
[ -f "$ELF" ] || die "no ELF at $ELF (build the program first)"

# The multisig's authority PDA [b"authority", multisig].
pda="$(run "$SOLANA" find-program-derived-address "$GOVERNOR_PROGRAM_ID" string:authority "pubkey:$MULTISIG" | tail -n 1)" ||
  die "MULTISIG=$MULTISIG is not a valid address (the solana CLI's error is above); nothing was written or proposed"
elf_hash="$(run "$SOLANA_VERIFY" get-executable-hash "$ELF" | tail -n 1)" || die "solana-verify could not hash $ELF"

# 1. The new ELF to a buffer.
out="$(sol program write-buffer "$ELF" --use-rpc --output json-compact)" || die "solana program write-buffer $ELF failed"
buffer="$(printf '%s\n' "$out" | json_get buffer)"
[ -n "$buffer" ] || die "write-buffer printed no buffer address: $out"
echo "buffer $buffer" >&2

# 2. The buffer to the PDA: from here only an executed proposal can use (or close) it.
sol program set-buffer-authority "$buffer" --buffer-authority "$KEYPAIR" --new-buffer-authority "$pda" >&2 ||
  die "set-buffer-authority failed; buffer $buffer still belongs to KEYPAIR (solana program close $buffer reclaims its rent)"

# 3. The hash members approve: the buffer's, which must be the ELF we built.
hash="$(run "$SOLANA_VERIFY" --url "$RPC_URL" get-buffer-hash "$buffer" | tail -n 1)" ||
  die "solana-verify get-buffer-hash $buffer failed"
[ "$hash" = "$elf_hash" ] || die "buffer $buffer hashes to $hash, the ELF $ELF to $elf_hash"
echo "hash $hash" >&2

# 4. Propose through the API. ugov re-reads the buffer and refuses if its hash is not $hash.
status=0
res="$(run "$UGOV" --api-url "$API_URL" --rpc-url "$RPC_URL" --keypair "$KEYPAIR" --program-id "$GOVERNOR_PROGRAM_ID" \
  --output json propose --multisig "$MULTISIG" --program "$PROGRAM_ID" \
  --buffer "$buffer" --hash "$hash" --description "$DESCRIPTION")" || status=$?
if [ "$status" -ne 0 ]; then
  msg="$(printf '%s\n' "$res" | json_get error)"
  die "ugov propose failed (exit $status): ${msg:-$res}"
fi
proposal="$(printf '%s\n' "$res" | json_get proposal)"
[ -n "$proposal" ] || die "ugov printed no proposal address: $res"
if [ "$(printf '%s\n' "$res" | json_get on_chain)" != "true" ]; then
  echo "ci-propose: warning: the proposal's workflow has not proposed on chain yet (ugov show $proposal)" >&2
fi
echo "proposal $proposal (buffer $buffer, hash $hash)" >&2
echo "$proposal"
