#!/bin/bash
# kpatch-build on a one-line fs/proc patch: cold (empty cache: unpack, prepare, build,
# diff, link; one run, it takes minutes), warm (prepared cache, original object and its
# proven command cached), warm with the original object not cached (built by make, its
# command proven), and in the same run the bare kbuild compile of the touched object twice
# with the same flags (what kpatch-build cannot avoid). Per step and in total: min /
# median / max over ROUNDS runs (default 5); ratios of the medians warm / bare; peak memory.
# Targets on 2 cores (issue 5): warm <= 30 s, cold <= 3 min. Prints figures, asserts nothing.
# SPDX-License-Identifier: GPL-2.0-only
set -uo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build}
KVER=${KVER:-$("$REPO/scripts/target-kernel-release")}
KPATCH_BUILD=$BUILD_DIR/kpatch-build/driver/kpatch-build
PATCH=$REPO/examples/cmdline-banner.patch
OBJ=fs/proc/cmdline.o
ROUNDS=${ROUNDS:-5}

[ -x "$KPATCH_BUILD" ] || { echo "bench: no $KPATCH_BUILD; run make"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing; run make deps"; exit 1; }
# A fresh cache on the same file system as the build directory, removed at the end.
cache=$(mktemp -d "$BUILD_DIR/bench-cache.XXXXXX")
out=$(mktemp -d)
trap 'rm -rf "$cache" "$out"' EXIT

# spread: "min / median / max" of the numbers on stdin
spread() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    printf "%.2f / %.2f / %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }

# run KIND N: one kpatch-build run; its wall seconds go to KIND.total, each step's seconds
# to KIND.step.<name>, its peak RSS (kB) to KIND.rss
run() {
  local kind=$1 n=$2 start end log=$out/$1.$2.log step secs
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$out/$kind.$n.time" env KPATCH_CACHE_DIR="$cache" \
    "$KPATCH_BUILD" -k "$KVER" -o "$out" "$PATCH" >"$log" 2>&1 ||
    { echo "bench: kpatch-build ($kind) failed:"; tail -5 "$log"; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc >>"$out/$kind.total"
  awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/$kind.$n.time" >>"$out/$kind.rss"
  sed -n 's/^kpatch-build: \([a-z][a-z ]*[a-z]\) \+\([0-9.]\+\)s .*/\1\t\2/p' "$log" |
    while IFS=$'\t' read -r step secs; do echo "$secs" >>"$out/$kind.step.${step// /_}"; done
}

# report KIND TITLE ROUNDS
report() {
  local kind=$1 f
  printf '%s (%d run(s)): total %s s, peak RSS %d MB (median)\n' "$2" "$3" \
    "$(spread <"$out/$kind.total")" $(( $(median <"$out/$kind.rss") / 1024 ))
  for f in "$out/$kind".step.*; do
    [ -e "$f" ] || continue
    printf '    %-16s %s s\n' "$(basename "$f" | sed "s/^$kind.step.//; s/_/ /g")" "$(spread <"$f")"
  done
}

run cold 1
for n in $(seq "$ROUNDS"); do run warm "$n"; done
for n in $(seq "$ROUNDS"); do
  # the object and its proven command only (the tree's measured entry sizes stay)
  find "$cache"/trees/*.objects \( -name '*.o' -o -name '*.o.command' \) -delete
  run uncached "$n"
done

# Bare: the same make, in a hard-link copy of the prepared tree, twice (original and
# patched), with the flags kpatch-build uses.
stamp=$(find "$cache/trees" -maxdepth 2 -name .kpatch-prepared | head -1)
tree=$(dirname "$stamp")
cp -al "$tree" "$cache/bare"
for _ in $(seq "$ROUNDS"); do
  start=$(date +%s.%N)
  for _ in 1 2; do
    rm -f "$cache/bare/$OBJ"
    make -C "$cache/bare" -s -j2 KCFLAGS="-ffunction-sections -fdata-sections" "$OBJ" ||
      { echo "bench: bare compile failed"; exit 1; }
  done
  end=$(date +%s.%N)
  echo "$end - $start" | bc >>"$out/bare.total"
done

printf 'machine load when done: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "figures: min / median / max seconds"
report cold "cold (unpack + prepare + core + build + diff + link)" 1
report warm "warm (prepared tree, original object and command cached)" "$ROUNDS"
report uncached "warm, original object not cached (make builds it once)" "$ROUNDS"
printf 'bare: make %s twice, same flags (%d runs): %s s\n' "$OBJ" "$ROUNDS" "$(spread <"$out/bare.total")"
printf 'ratio of medians: warm / bare %.2f   warm (original built) / bare %.2f   (targets: warm <= 30 s, cold <= 180 s)\n' \
  "$(echo "$(median <"$out/warm.total") / $(median <"$out/bare.total")" | bc -l)" \
  "$(echo "$(median <"$out/uncached.total") / $(median <"$out/bare.total")" | bc -l)"
