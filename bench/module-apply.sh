#!/bin/bash
# Prints how long the core takes on MODULE_STATE_COMING to make a loading module's
# patched functions live (module_apply_ns: relocations, resolving, verifying, ftrace
# handlers, switch), and what a pending patch adds to loading and unloading that module
# (insmod + rmmod cycles with and without the patch, same boot). Asserts nothing.
# SPDX-License-Identifier: GPL-2.0-only
# Usage: bench/module-apply.sh [CYCLES]  (KPATCH_BUILD_DIR as for the tests;
# KPATCH_KLP_CONVERT overrides build/kpatch-build/klp/kpatch-klp-convert)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BUILD_DIR=${KPATCH_BUILD_DIR:-${BUILD_DIR:-$REPO/build}}
KVER=${KVER:-$("$REPO/scripts/target-kernel-release")}
export REPO BUILD_DIR KVER VM_RUN=$REPO/test/integration/vm-run VM_SYSTEMD=$REPO/test/integration/vm-systemd
CYCLES=${1:-10}
. "$REPO/test/integration/lib/scenario.sh"
klp_convert=${KPATCH_KLP_CONVERT:-$BUILD_DIR/kpatch-build/klp/kpatch-klp-convert}
[ -x "$klp_convert" ] || skip "no $klp_convert (run 'make')"
target=$(fixture_module modtarget) || exit 1
"$klp_convert" "$(dirname "$target")/kpatch-modpatch.ko" "$SCENARIO_TMP/kpatch-modpatch.ko" ||
  fail "kpatch-klp-convert kpatch-modpatch.ko failed"

cat >"$SCENARIO_TMP/bench.sh" <<GUEST
CYCLES=$CYCLES
$(cat <<'BODY'
KP=/sys/kernel/kpatch
insmod /kpatch/kpatch.ko && insmod /kpatch/kpatch-bench.ko || exit 1
now() { cat /sys/kernel/kpatch_bench/now_ns; }
spread() { sort -n | awk -v d="$1" '{ v[NR] = $1 } END {
  printf "%.2f / %.2f / %.2f", v[1] / d, v[int((NR + 1) / 2)] / d, v[NR] / d }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# cycles LABEL VALUE: CYCLES insmod/rmmod of modtarget, each timed; prints min / median /
# max of a cycle and of the module_apply_ns of those loads.
cycles() {
  : >/tmp/apply; : >"/tmp/cycle-$2"
  i=0
  while [ $i -lt "$CYCLES" ]; do
    t0=$(now)
    insmod /kpatch/modtarget.ko || exit 1
    t1=$(now)
    cat $KP/module_apply_ns >>/tmp/apply
    grep -q "value=$2 " /proc/modtarget || { echo "modtarget not as expected: $(cat /proc/modtarget)"; exit 1; }
    t2=$(now)
    rmmod modtarget || exit 1
    t3=$(now)
    echo $((t1 - t0 + t3 - t2)) >>"/tmp/cycle-$2"
    i=$((i + 1))
  done
  echo "$1 ($CYCLES cycles; min / median / max)"
  echo "    insmod+rmmod      $(spread 1e6 <"/tmp/cycle-$2") ms"
  echo "    COMING notifier   $(spread 1e3 <"/tmp/apply") us"
}
insmod /kpatch/modtarget.ko && rmmod modtarget || exit 1   # warm the page cache
cycles "unpatched:" 1
insmod /kpatch/kpatch-modpatch.ko || exit 1
cycles "pending patch (4 funcs):" 2
awk -v u="$(median </tmp/cycle-1)" -v p="$(median </tmp/cycle-2)" 'BEGIN {
  printf "ratio of medians patched/unpatched insmod+rmmod: %.2f\n", p / u }'
BODY
)
GUEST
"$VM_RUN" --timeout 900 --module "$target" --module "$SCENARIO_TMP/kpatch-modpatch.ko" \
  --module "$BUILD_DIR/kmod/examples/kpatch-bench.ko" \
  --file "$SCENARIO_TMP/bench.sh:bench.sh" -- sh /kpatch/bench.sh
