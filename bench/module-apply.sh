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
insmod /kpatch/kpatch.ko || exit 1
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Centiseconds since boot: busybox has no sub-second clock, so cycles are timed together.
now() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }
# cycles LABEL: CYCLES insmod/rmmod of modtarget; prints the mean cycle and the median
# module_apply_ns of those loads.
cycles() {
  : >/tmp/apply
  start=$(now)
  i=0
  while [ $i -lt "$CYCLES" ]; do
    insmod /kpatch/modtarget.ko || exit 1
    cat $KP/module_apply_ns >>/tmp/apply
    grep -q "value=$2 " /proc/modtarget || { echo "modtarget not as expected: $(cat /proc/modtarget)"; exit 1; }
    rmmod modtarget || exit 1
    i=$((i + 1))
  done
  end=$(now)
  awk -v l="$1" -v c="$CYCLES" -v cs=$((end - start)) -v a="$(median </tmp/apply)" 'BEGIN {
    printf "%-26s insmod+rmmod %7.1f ms per cycle (%d cycles)   COMING notifier %8d ns (median)\n",
           l, cs * 10 / c, c, a }'
  echo $((end - start)) >"/tmp/total-$2"
}
insmod /kpatch/modtarget.ko && rmmod modtarget || exit 1   # warm the page cache
cycles "unpatched:" 1
insmod /kpatch/kpatch-modpatch.ko || exit 1
cycles "pending patch (4 funcs):" 2
awk -v u="$(cat /tmp/total-1)" -v p="$(cat /tmp/total-2)" 'BEGIN {
  printf "ratio patched/unpatched insmod+rmmod: %.2f\n", p / u }'
BODY
)
GUEST
"$VM_RUN" --timeout 900 --module "$target" --module "$SCENARIO_TMP/kpatch-modpatch.ko" \
  --file "$SCENARIO_TMP/bench.sh:bench.sh" -- sh /kpatch/bench.sh
