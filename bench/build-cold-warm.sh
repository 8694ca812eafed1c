#!/bin/bash
# kpatch-build on a one-line fs/proc patch: cold (empty cache: unpack, prepare, build,
# diff, link), warm (prepared cache, original object cached), warm without the cached
# original object, and in the same run the bare kbuild compile of the touched object twice
# with the same flags; ratios warm / bare; peak memory of each kpatch-build run.
# Targets on 2 cores (issue 5): warm <= 30 s, cold <= 3 min. Prints figures, asserts nothing.
# SPDX-License-Identifier: GPL-2.0-only
set -uo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build}
KVER=${KVER:-$("$REPO/scripts/target-kernel-release")}
KPATCH_BUILD=$BUILD_DIR/kpatch-build/driver/kpatch-build
PATCH=$REPO/examples/cmdline-banner.patch
OBJ=fs/proc/cmdline.o

[ -x "$KPATCH_BUILD" ] || { echo "bench: no $KPATCH_BUILD; run make"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing; run make deps"; exit 1; }
# A fresh cache on the same file system as the build directory, removed at the end.
cache=$(mktemp -d "$BUILD_DIR/bench-cache.XXXXXX")
out=$(mktemp -d)
trap 'rm -rf "$cache" "$out"' EXIT

declare -A secs rss
# run LABEL: one kpatch-build run; records wall seconds and peak RSS (kB) under LABEL
run() {
  local label=$1 start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$out/$label.time" env KPATCH_CACHE_DIR="$cache" \
    "$KPATCH_BUILD" -k "$KVER" -o "$out" "$PATCH" >"$out/$label.log" 2>&1 ||
    { echo "bench: kpatch-build ($label) failed:"; tail -5 "$out/$label.log"; exit 1; }
  end=$(date +%s.%N)
  rss[$label]=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/$label.time")
  secs[$label]=$(echo "$end - $start" | bc)
}

run cold
run warm
rm -rf "$cache"/trees/*.objects
run warm_uncached
echo "kpatch-build steps of the warm run (original object built):"
sed -n 's/^kpatch-build: /  /p' "$out/warm_uncached.log"

# Bare: the same make, in a hard-link copy of the prepared tree, twice (original and
# patched), with the flags kpatch-build uses.
stamp=$(find "$cache/trees" -maxdepth 2 -name .kpatch-prepared | head -1)
tree=$(dirname "$stamp")
cp -al "$tree" "$cache/bare"
start=$(date +%s.%N)
for _ in 1 2; do
  rm -f "$cache/bare/$OBJ"
  make -C "$cache/bare" -s -j2 KCFLAGS="-ffunction-sections -fdata-sections" "$OBJ" ||
    { echo "bench: bare compile failed"; exit 1; }
done
end=$(date +%s.%N)
bare_s=$(echo "$end - $start" | bc)

printf 'machine load when done: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'cold (unpack + prepare + build + diff + link): %6.1f s  peak RSS %d MB  (target <= 180 s)\n' \
  "${secs[cold]}" $((rss[cold] / 1024))
printf 'warm (prepared tree, original object cached):  %6.1f s  peak RSS %d MB  (target <= 30 s)\n' \
  "${secs[warm]}" $((rss[warm] / 1024))
printf 'warm (prepared tree, original object built):   %6.1f s  peak RSS %d MB\n' \
  "${secs[warm_uncached]}" $((rss[warm_uncached] / 1024))
printf 'bare: make %s twice, same flags:     %6.1f s\n' "$OBJ" "$bare_s"
printf 'ratio warm / bare: %.2f   warm (original built) / bare: %.2f\n' \
  "$(echo "${secs[warm]} / $bare_s" | bc -l)" "$(echo "${secs[warm_uncached]} / $bare_s" | bc -l)"
