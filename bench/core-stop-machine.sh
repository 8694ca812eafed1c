#!/bin/bash
# Prints how long the machine stays stopped for a patch enable with 1,000 extra sleeping
# tasks, next to an empty stop_machine measured in the same boot; min / median / max over
# 7 rounds. Asserts nothing.
# SPDX-License-Identifier: GPL-2.0-only
# Usage: bench/core-stop-machine.sh [EXTRA_TASKS]  (KPATCH_BUILD_DIR as for the tests)
. "$(dirname "$0")/../test/integration/scenarios/core-lib.sh"
EXTRA=${1:-1000}
core_vm 900 kpatch-bench kpatch-cmdline <<GUEST
EXTRA=$EXTRA
$(cat <<'BODY'
KP=/sys/kernel/kpatch
insmod /kpatch/kpatch.ko && insmod /kpatch/kpatch-bench.ko && insmod /kpatch/kpatch-cmdline.ko || exit 1
spread() { sort -n | awk '{ v[NR] = $1 } END { printf "%d / %d / %d", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# measure LABEL: 7 disable/enable cycles, each followed by an empty stop_machine; prints
# min / median / max (ns) of the enables' hold, their stack check and the empty ones.
measure() {
  : >/tmp/sm; : >/tmp/ck; : >/tmp/empty
  for i in 1 2 3 4 5 6 7; do
    echo 0 >$KP/kpatch_cmdline/enabled && echo 1 >$KP/kpatch_cmdline/enabled || exit 1
    cat $KP/stop_machine_ns >>/tmp/sm
    cat $KP/check_ns >>/tmp/ck
    cat /sys/kernel/kpatch_bench/empty_stop_machine_ns >>/tmp/empty
  done
  echo "$1 stacks walked $(cat $KP/tasks_checked) (+$(cat $KP/tasks_skipped) stoppers skipped); ns, min / median / max of 7:"
  echo "    enable stop_machine  $(spread </tmp/sm)"
  echo "      of which the stack check  $(spread </tmp/ck)"
  echo "    empty stop_machine   $(spread </tmp/empty)"
  awk -v sm="$(median </tmp/sm)" -v e="$(median </tmp/empty)" 'BEGIN {
    printf "    ratio of medians enable / empty: %.2f\n", sm / e }'
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
