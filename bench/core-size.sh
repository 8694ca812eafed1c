#!/bin/bash
# Prints what the size of a patch costs: generated patches of 1, 100 and 1,000 functions
# (trampolines back into the originals, lib/gen-many-patch), each loaded and unloaded
# ROUNDS times (default 2) with 10,000 extra sleeping threads: insmod to active, the
# stop_machine hold and its stack check, disable, and the memory the patch takes
# (MemAvailable before and after, which includes the patch module itself). The hold
# with 1,000 functions is printed as a ratio to the 1-function hold (issue 14's goal:
# at most 3). Asserts nothing.
# SPDX-License-Identifier: GPL-2.0-only
# Usage: bench/core-size.sh [COUNT...]  (KPATCH_BUILD_DIR as for the tests; ROUNDS, TASKS)
. "$(dirname "$0")/../test/integration/scenarios/core-lib.sh"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 100 1000)
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
gcc -static -O2 -pthread -o "$work/sleepers" "$(dirname "$0")/lib/sleepers.c" || exit 1
files="$work/sleepers:sleepers"
for n in "${counts[@]}"; do
  ko=$(core_many_module "$n" "$work/m$n" "kpatch-size$n") || exit 1
  files="$files $ko:kpatch-size$n.ko"
done
export CORE_VM_FILES=$files
{
  echo "ROUNDS=${ROUNDS:-2} TASKS=${TASKS:-10000} COUNTS='${counts[*]}'"
  cat <<'GUEST'
KP=/sys/kernel/kpatch
insmod /kpatch/kpatch.ko && insmod /kpatch/kpatch-bench.ko || exit 1
now() { cat /sys/kernel/kpatch_bench/now_ns; }
avail() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }
stats() { sort -n "$1" | awk -v d="$2" '{ v[NR] = $1 } END { printf "%10.2f %10.2f %10.2f", v[1] / d, v[int((NR + 1) / 2)] / d, v[NR] / d }'; }
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
/kpatch/sleepers "$TASKS" >/tmp/s &
n=0
until grep -q ready /tmp/s; do
  sleep 1; n=$((n + 1))
  [ $n -lt 900 ] || { echo "$TASKS sleeping threads did not start: $(cat /tmp/s)"; exit 1; }
done
echo "$TASKS extra sleeping threads; figures in ms (memory in KiB): min median max over $ROUNDS rounds"
for c in $COUNTS; do
  m=kpatch_size$c
  : >/tmp/load; : >/tmp/reg; : >/tmp/loader; : >/tmp/hold; : >/tmp/check; : >/tmp/off; : >/tmp/offhold; : >/tmp/mem
  r=0
  while [ $r -lt $ROUNDS ]; do
    a0=$(avail); t0=$(now)
    insmod /kpatch/kpatch-size$c.ko || { echo "insmod of $c functions failed: $(cat $KP/last_error)"; exit 1; }
    t1=$(now); a1=$(avail)
    echo $((t1 - t0)) >>/tmp/load; echo $((a0 - a1)) >>/tmp/mem
    reg=$(cat $KP/register_ns); echo "$reg" >>/tmp/reg; echo $((t1 - t0 - reg)) >>/tmp/loader
    cat $KP/stop_machine_ns >>/tmp/hold; cat $KP/check_ns >>/tmp/check
    t0=$(now)
    echo 0 >$KP/$m/enabled || { echo "disable of $c functions failed: $(cat $KP/last_error)"; exit 1; }
    t1=$(now)
    echo $((t1 - t0)) >>/tmp/off; cat $KP/stop_machine_ns >>/tmp/offhold
    rmmod $m || exit 1
    r=$((r + 1))
  done
  echo "$c functions"
  echo "  insmod to active        $(stats /tmp/load 1e6)"
  echo "    in the core (register) $(stats /tmp/reg 1e6)"
  echo "    module loader and rest $(stats /tmp/loader 1e6)"
  echo "  enable stop_machine     $(stats /tmp/hold 1e6)"
  echo "    of which stack check  $(stats /tmp/check 1e6)"
  echo "  disable                 $(stats /tmp/off 1e6)"
  echo "  disable stop_machine    $(stats /tmp/offhold 1e6)"
  echo "  MemAvailable drop (KiB) $(stats /tmp/mem 1)"
  echo "$c $(med /tmp/hold)" >>/tmp/holds
done
awk 'NR == 1 { first = $2; fn = $1 } { last = $2; ln = $1 } END {
  if (NR > 1) printf "ratio hold %d functions / %d function: %.2f (goal: at most 3)\n", ln, fn, last / first }' /tmp/holds
GUEST
} | VM_MEMORY=${VM_MEMORY:-1536} core_vm 3600 kpatch-bench
