#!/usr/bin/env bash
# Prepares the patched surfpool-core that program/localnet builds against (why and what:
# the header of patches/surfpool-core-1.6.1-owner-index.patch). Nothing fetched goes into the
# clone: the pristine crate comes from the cargo registry cache, or else from static.crates.io,
# its sha256 is checked, it is extracted and patched under $CACHE, and the gitignored symlink
# program/localnet/.patched/surfpool-core (the [patch.crates-io] path of Cargo.toml) points at
# the result. Idempotent; a changed patch file gets a directory of its own.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
name=surfpool-core
version=1.6.1
# The checksum crates.io records for surfpool-core 1.6.1: the `checksum` of its entry in
# program/Cargo.lock when localnet was still a member of that workspace. (localnet's own
# Cargo.lock lists the patched path crate, which has none.)
sha256=1eea4a5055ba58154a879a6377fb617af19ea3fead280f4722cceb7125e82365
patch_file="$here/patches/$name-$version-owner-index.patch"
cache="${CACHE:-$HOME/.cache/upgrade-governor}/patched-crates"
link="$here/.patched/$name"

patch_id="$(sha256sum "$patch_file" | cut -c1-16)"
dest="$cache/$name-$version-$patch_id"

if [ ! -f "$dest/.patched-ok" ]; then
  mkdir -p "$cache"
  crate=""
  for c in "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$name-$version.crate"; do
    if [ -f "$c" ] && echo "$sha256  $c" | sha256sum --check --status; then
      crate="$c"
      break
    fi
  done
  tmp="$(mktemp -d "$cache/.tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  if [ -z "$crate" ]; then
    url="https://static.crates.io/crates/$name/$name-$version.crate"
    echo "patch-surfpool: downloading $url"
    curl -fsSL --retry 3 -o "$tmp/$name-$version.crate" "$url"
    crate="$tmp/$name-$version.crate"
  fi
  if ! echo "$sha256  $crate" | sha256sum --check --status; then
    echo "patch-surfpool: $crate: sha256 $(sha256sum "$crate" | cut -d' ' -f1), want $sha256" >&2
    exit 1
  fi
  tar -xzf "$crate" -C "$tmp"
  patch --quiet --batch --forward -p1 -d "$tmp/$name-$version" <"$patch_file"
  touch "$tmp/$name-$version/.patched-ok"
  # Another build may have finished the same directory meanwhile: keep whichever came first.
  if ! mv -T "$tmp/$name-$version" "$dest" 2>/dev/null && [ ! -f "$dest/.patched-ok" ]; then
    echo "patch-surfpool: cannot move the patched crate to $dest" >&2
    exit 1
  fi
  echo "patch-surfpool: $name $version patched in $dest"
fi

mkdir -p "$(dirname "$link")"
if [ "$(readlink "$link" 2>/dev/null)" != "$dest" ]; then
  ln -sfn "$dest" "$link"
fi
