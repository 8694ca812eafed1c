#!/bin/bash
# Prints the cost of a call to jiffies_to_msecs unpatched, redirected by kpatch's ftrace
# handler to an equivalent, and redirected by the kernel's own livepatch to the same
# equivalent (klp-bench-patch.ko), all measured by an in-kernel loop in the same boot.
# ROUNDS rounds (default 7) alternate the order of the three; each figure is the best of
# 3 reads of 1,000,000 calls; printed as min / median / max over the rounds, with the
# ratios of the medians. Asserts nothing.
# SPDX-License-Identifier: GPL-2.0-only
# Usage: bench/core-call-cost.sh  (KPATCH_BUILD_DIR as for the tests; ROUNDS)
. "$(dirname "$0")/../test/integration/scenarios/core-lib.sh"
sed "s/@ROUNDS@/${ROUNDS:-7}/" <<'GUEST' | core_vm 1200 kpatch-bench kpatch-bench-patch klp-bench-patch
ROUNDS=@ROUNDS@
KLP=/sys/kernel/livepatch/klp_bench_patch
insmod /kpatch/kpatch.ko && insmod /kpatch/kpatch-bench.ko || exit 1
# best of 3 reads of 1,000,000 calls: the least disturbed by the host
best() {
  for i in 1 2 3; do
    sed 's/.*ns_per_call=\([0-9.]*\).*/\1/' /sys/kernel/kpatch_bench/call_ns
  done | sort -n | head -n 1
}
wait_until() { # SECONDS COMMAND...: polls COMMAND every 0.1 s
  _n=$(($1 * 10)); shift
  while [ $_n -gt 0 ]; do "$@" && return 0; sleep 0.1; _n=$((_n - 1)); done
  return 1
}
klp_settled() { [ "$(cat $KLP/transition 2>/dev/null)" = 0 ]; }
klp_gone() { [ ! -d $KLP ]; }
plain() { best >>/tmp/plain; }
ours() {
  insmod /kpatch/kpatch-bench-patch.ko || exit 1
  best >>/tmp/ours
  echo 0 >/sys/kernel/kpatch/kpatch_bench_patch/enabled && rmmod kpatch_bench_patch || exit 1
}
theirs() {
  insmod /kpatch/klp-bench-patch.ko || { echo "livepatch refused the module: $(dmesg | tail -3)"; exit 1; }
  wait_until 120 klp_settled || { echo "livepatch transition did not finish"; exit 1; }
  best >>/tmp/klp
  echo 0 >$KLP/enabled && wait_until 120 klp_gone && rmmod klp_bench_patch || exit 1
}
cat /sys/kernel/kpatch_bench/call_ns /sys/kernel/kpatch_bench/call_ns >/dev/null  # warm up TCG
: >/tmp/plain; : >/tmp/ours; : >/tmp/klp
r=0
while [ $r -lt $ROUNDS ]; do
  case $((r % 3)) in
  0) plain; ours; theirs ;;
  1) ours; theirs; plain ;;
  2) theirs; plain; ours ;;
  esac
  r=$((r + 1))
done
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%s %s %s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
set -- $(stats /tmp/plain) $(stats /tmp/ours) $(stats /tmp/klp)
awk -v r="$ROUNDS" -v p1="$1" -v p2="$2" -v p3="$3" -v o1="$4" -v o2="$5" -v o3="$6" \
    -v k1="$7" -v k2="$8" -v k3="$9" 'BEGIN {
  printf "jiffies_to_msecs ns/call over %d rounds    min    median      max\n", r
  printf "  unpatched                         %8.2f %8.2f %8.2f\n", p1, p2, p3
  printf "  patched by kpatch                 %8.2f %8.2f %8.2f\n", o1, o2, o3
  printf "  patched by livepatch              %8.2f %8.2f %8.2f\n", k1, k2, k3
  printf "ratio kpatch/unpatched     %6.2f\n", o2 / p2
  printf "ratio livepatch/unpatched  %6.2f\n", k2 / p2
  printf "ratio kpatch/livepatch     %6.2f  (medians)\n", o2 / k2 }'
GUEST
