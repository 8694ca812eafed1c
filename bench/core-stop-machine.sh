#!/bin/bash
# Prints how long the machine stays stopped for a patch enable with 1,000 extra sleeping
# tasks, next to an empty stop_machine measured in the same boot. Asserts nothing.
# SPDX-License-Identifier: GPL-2.0-only
# Usage: bench/core-stop-machine.sh [EXTRA_TASKS]  (KPATCH_BUILD_DIR as for the tests)
. "$(dirname "$0")/../test/integration/scenarios/core-lib.sh"
EXTRA=${1:-1000}
core_vm 900 kpatch-bench kpatch-cmdline <<GUEST
EXTRA=$EXTRA
$(cat <<'BODY'
KP=/sys/kernel/kpatch
insmod /kpatch/kpatch.ko && insmod /kpatch/kpatch-bench.ko && insmod /kpatch/kpatch-cmdline.ko || exit 1
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# measure LABEL: 7 disable/enable cycles, median figures of the enables, then 7 empty ones.
measure() {
  : >/tmp/sm; : >/tmp/ck; : >/tmp/empty
  for i in 1 2 3 4 5 6 7; do
    echo 0 >$KP/kpatch_cmdline/enabled && echo 1 >$KP/kpatch_cmdline/enabled || exit 1
    cat $KP/stop_machine_ns >>/tmp/sm
    cat $KP/check_ns >>/tmp/ck
    cat /sys/kernel/kpatch_bench/empty_stop_machine_ns >>/tmp/empty
  done
  sm=$(median </tmp/sm) ck=$(median </tmp/ck) empty=$(median </tmp/empty)
  awk -v l="$1" -v t="$(cat $KP/tasks_checked)" -v s="$(cat $KP/tasks_skipped)" \
      -v sm="$sm" -v ck="$ck" -v e="$empty" 'BEGIN {
    printf "%-22s stacks walked %5d (+%d stoppers skipped)  enable stop_machine %9d ns" \
           "  (stack check %9d ns)  empty stop_machine %9d ns  ratio %.2f\n",
           l, t, s, sm, ck, e, sm / e }'
}
measure "baseline tasks:"
i=0
while [ $i -lt "$EXTRA" ]; do sleep 100000 & i=$((i + 1)); done
sleeping() { [ "$(pidof sleep | wc -w)" -ge "$EXTRA" ]; }
until sleeping; do sleep 0.5; done
measure "+$EXTRA sleeping tasks:"
BODY
)
GUEST
