#!/usr/bin/env bash
# Assembles governed-counter v1 and v2 (sBPF v0) into elf/ and prints each ELF's SHA-256 in
# solana-verify's convention (ELF bytes with trailing zero bytes stripped). It also assembles
# the program tests' hostile governed program (../../tests/fixtures/migrate_thief.s, which
# includes this example's constants), so one script keeps every checked-in ELF current.
#
#   ./build.sh           rebuild elf/governed_counter_v{1,2}.so and the test fixture
#   ./build.sh --check   rebuild into a temp dir; exit 1 if a checked-in ELF differs
#
# Needs sbpf 0.3.3:
#   cargo install sbpf --version 0.3.3 --locked --root $HOME/.cache/upgrade-governor/tools
# (or point SBPF at the binary).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

SBPF="${SBPF:-$HOME/.cache/upgrade-governor/tools/bin/sbpf}"
SBPF_VERSION="0.3.3"
# v0: the solana CLI 3.1.12 uploads only SBPF v0 ELFs, and Agave 3.1 loads only v0.
ARCH="v0"
# name:source:directory of the checked-in ELF
PROGRAMS=(
  governed_counter_v1:src/v1/governed_counter_v1.s:elf
  governed_counter_v2:src/v2/governed_counter_v2.s:elf
  migrate_thief:../../tests/fixtures/migrate_thief.s:../../tests/fixtures
)

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if [[ ! -x "$SBPF" ]]; then
  echo "sbpf not found at $SBPF; install it with:" >&2
  echo "  cargo install sbpf --version $SBPF_VERSION --locked --root \$HOME/.cache/upgrade-governor/tools" >&2
  exit 1
fi
found="$("$SBPF" --version)"
if [[ "$found" != "sbpf $SBPF_VERSION" ]]; then
  echo "need sbpf $SBPF_VERSION, found '$found' at $SBPF (other versions emit other bytes)" >&2
  exit 1
fi

# SHA-256 of the ELF with trailing zero bytes stripped (solana-verify get-executable-hash).
elf_hash() {
  perl -0777 -ne 's/\0+\z//; print' "$1" | sha256sum | cut -d' ' -f1
}

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

for entry in "${PROGRAMS[@]}"; do
  name="${entry%%:*}"
  rest="${entry#*:}"
  src="${rest%%:*}"
  if ! log="$("$SBPF" build -a "$ARCH" -i "$src" -d "$out" 2>&1)"; then
    echo "$log" >&2
    exit 1
  fi
done

status=0
for entry in "${PROGRAMS[@]}"; do
  name="${entry%%:*}"
  dir="${entry##*:}"
  built="$out/$name.so"
  committed="$dir/$name.so"
  if (( check )); then
    if ! cmp -s "$built" "$committed"; then
      echo "STALE $committed: rebuilt ELF differs (sha256 $(elf_hash "$built")); run $0" >&2
      status=1
      continue
    fi
  else
    mkdir -p "$dir"
    cp "$built" "$committed"
  fi
  echo "$(elf_hash "$committed")  $committed  ($(wc -c <"$committed") bytes)"
done
exit "$status"
