#!/bin/bash
# Prints how long a fix takes to become active everywhere: kpatch's enable (insmod of the
# patch module until it returns: registration, stack check and switch under one
# stop_machine) against the kernel's livepatch (insmod until /sys/kernel/livepatch/*/
# transition reads 0), with 0, 1,000 and 10,000 extra sleeping threads and with one
# CPU-bound loop per vCPU; and kpatch's stop_machine hold next to an empty stop_machine.
# Same patch (jiffies_to_msecs), same boot. ROUNDS (default 3) per setting: min / median /
# max. Asserts nothing.
# SPDX-License-Identifier: GPL-2.0-only
# Usage: bench/enable-vs-livepatch.sh  (KPATCH_BUILD_DIR as for the tests; ROUNDS)
. "$(dirname "$0")/../test/integration/scenarios/core-lib.sh"
sleepers=$(mktemp) || exit 1
trap 'rm -f "$sleepers"' EXIT
gcc -static -O2 -pthread -o "$sleepers" "$(dirname "$0")/lib/sleepers.c" || exit 1
export CORE_VM_FILES="$sleepers:sleepers"
sed "s/@ROUNDS@/${ROUNDS:-3}/" <<'GUEST' | VM_MEMORY=${VM_MEMORY:-1536} core_vm 1800 kpatch-bench kpatch-bench-patch klp-bench-patch
ROUNDS=@ROUNDS@
KP=/sys/kernel/kpatch
KLP=/sys/kernel/livepatch/klp_bench_patch
insmod /kpatch/kpatch.ko && insmod /kpatch/kpatch-bench.ko || exit 1
now() { cat /sys/kernel/kpatch_bench/now_ns; }
wait_until() { # SECONDS COMMAND...: polls COMMAND every 10 ms
  _n=$(($1 * 100)); shift
  while [ $_n -gt 0 ]; do "$@" && return 0; sleep 0.01; _n=$((_n - 1)); done
  return 1
}
klp_settled() { [ "$(cat $KLP/transition 2>/dev/null)" = 0 ]; }
klp_gone() { [ ! -d $KLP ]; }
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%9.2f %9.2f %9.2f", v[1] / 1e6, v[int((NR + 1) / 2)] / 1e6, v[NR] / 1e6 }'; }
# measure LABEL: ROUNDS of each, then one line per figure (ms).
measure() {
  : >/tmp/ours; : >/tmp/hold; : >/tmp/klp; : >/tmp/empty
  r=0
  while [ $r -lt $ROUNDS ]; do
    t0=$(now); insmod /kpatch/kpatch-bench-patch.ko || exit 1; t1=$(now)
    echo $((t1 - t0)) >>/tmp/ours
    cat $KP/stop_machine_ns >>/tmp/hold
    echo 0 >$KP/kpatch_bench_patch/enabled && rmmod kpatch_bench_patch || exit 1
    cat /sys/kernel/kpatch_bench/empty_stop_machine_ns >>/tmp/empty
    t0=$(now); insmod /kpatch/klp-bench-patch.ko || exit 1
    wait_until 300 klp_settled || { echo "livepatch transition did not finish"; exit 1; }
    t1=$(now)
    echo $((t1 - t0)) >>/tmp/klp
    echo 0 >$KLP/enabled && wait_until 300 klp_gone && rmmod klp_bench_patch || exit 1
    r=$((r + 1))
  done
  echo "$1 (ms: min median max over $ROUNDS rounds)"
  echo "  kpatch insmod to active          $(stats /tmp/ours)"
  echo "  livepatch insmod to transition 0 $(stats /tmp/klp)"
  echo "  kpatch stop_machine hold         $(stats /tmp/hold)"
  echo "  empty stop_machine               $(stats /tmp/empty)"
  o=$(sort -n /tmp/ours | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  k=$(sort -n /tmp/klp | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  awk -v o="$o" -v k="$k" 'BEGIN { printf "  ratio kpatch/livepatch (medians) %9.2f\n", o / k }'
}
measure "idle, $(ls /proc | grep -c '^[0-9]') tasks"
/kpatch/sleepers 1000 >/tmp/s1 &
s1=$!
wait_until 300 grep -q ready /tmp/s1 || { echo "1,000 sleeping threads did not start"; exit 1; }
measure "+1,000 sleeping threads"
/kpatch/sleepers 9000 >/tmp/s2 &
s2=$!
wait_until 600 grep -q ready /tmp/s2 || { echo "10,000 sleeping threads did not start: $(cat /tmp/s2)"; exit 1; }
measure "+10,000 sleeping threads"
kill $s1 $s2
c=0
while [ $c -lt "$(nproc)" ]; do sh -c 'while :; do :; done' & c=$((c + 1)); done
measure "one CPU-bound shell loop per vCPU"
GUEST
