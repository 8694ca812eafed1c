#!/bin/bash
# create-diff-object over real kernel objects: time and peak RSS per object for an identical
# pair and for a one-line change (a comment added at the top, which moves every line below
# it), next to the object's compile time (licence: GPL-2.0-only).
# Needs a prepared 6.1 tree: KPATCH_TEST_KERNEL_TREE (doc/interfaces.md); skips without it.
# Env: BUILD_DIR (meson build dir), DIFF_BENCH_OBJECTS (override the object list),
# DIFF_BENCH_WORK (cache of built pairs; default $BUILD_DIR/bench-diff).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
tree=${KPATCH_TEST_KERNEL_TREE:-}
cdo=$BUILD_DIR/kpatch-build/diff/create-diff-object
if [ -z "$tree" ] || [ ! -d "$tree" ]; then
    echo "SKIPPED: set KPATCH_TEST_KERNEL_TREE to a prepared 6.1 kernel tree"
    exit 0
fi
[ -x "$cdo" ] || { echo "no $cdo: build first"; exit 1; }
work=${DIFF_BENCH_WORK:-$BUILD_DIR/bench-diff}
mkdir -p "$work"
objects=${DIFF_BENCH_OBJECTS:-"kernel/sched/core.o kernel/sched/fair.o kernel/fork.o kernel/signal.o
 kernel/kthread.o kernel/panic.o kernel/workqueue.o mm/page_alloc.o mm/memory.o mm/slub.o
 mm/vmscan.o mm/util.o mm/usercopy.o fs/ext4/super.o fs/ext4/inode.o fs/namei.o fs/open.o
 fs/proc/base.o fs/proc/cmdline.o net/ipv4/tcp.o net/ipv4/tcp_input.o net/ipv4/route.o
 net/core/dev.o"}

measure() { # prints "seconds maxrss_kb exit" for create-diff-object ARGS...
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$cdo" "$@" >/dev/null 2>"$work/err.txt"
    local rc=$?
    echo "$(cat "$work/time.txt" | tail -n 1) $rc"
}

printf '%-24s %9s %8s | %8s %8s %4s | %8s %8s %4s\n' object compile_s size_kb \
    ident_s rss_mb exit shift_s rss_mb exit
tot_c=0 tot_i=0 tot_s=0 max_rss=0 n=0
for obj in $objects; do
    src=${obj%.o}.c
    [ -f "$tree/$src" ] || { echo "$obj: no source, skipped"; continue; }
    name=$(echo "$obj" | tr / _)
    patch=$work/$name.patch
    if [ ! -f "$patch" ]; then
        { echo "--- a/$src"; echo "+++ b/$src"; echo "@@ -1,1 +1,2 @@"; head -n 1 "$tree/$src" | sed 's/^/ /'
          echo "+/* one added line: every line below moves */"; } >"$patch"
    fi
    # The pair script replays the object's compile command for the patched side: time it
    # (pairs are cached in $work: delete it for fresh compile times).
    mkdir -p "$work/$name"
    make -s -C "$tree" "KCFLAGS=-ffunction-sections -fdata-sections" "$obj" >/dev/null 2>&1
    start=$(date +%s.%N)
    if ! sh "$ROOT/test/fixtures/diff/kernel-pair.sh" "$tree" "$work/$name.work" "$obj" "$patch" "$work/$name" 2>"$work/$name.log"; then
        echo "$obj: build failed (see $work/$name.log)"
        continue
    fi
    compile=$(echo "$(date +%s.%N) - $start" | bc)
    size=$(( $(stat -c %s "$work/$name/orig.o") / 1024 ))
    read -r ti ri ei <<<"$(measure "$work/$name/orig.o" "$work/$name/orig.o" -o "$work/$name/out-ident.o")"
    read -r ts rs es <<<"$(measure "$work/$name/orig.o" "$work/$name/patched.o" -o "$work/$name/out-shift.o" --json "$work/$name/shift.json")"
    printf '%-24s %9.2f %8d | %8.3f %8.1f %4s | %8.3f %8.1f %4s\n' "$obj" "$compile" "$size" \
        "$ti" "$(echo "$ri / 1024" | bc -l)" "$ei" "$ts" "$(echo "$rs / 1024" | bc -l)" "$es"
    tot_c=$(echo "$tot_c + $compile" | bc); tot_i=$(echo "$tot_i + $ti" | bc); tot_s=$(echo "$tot_s + $ts" | bc)
    for r in $ri $rs; do [ "$r" -gt "$max_rss" ] && max_rss=$r; done
    n=$((n + 1))
done
printf '%-24s %9.2f %8s | %8.3f %8s %4s | %8.3f\n' "TOTAL ($n objects)" "$tot_c" "" "$tot_i" "" "" "$tot_s"
echo "peak RSS over all runs: $((max_rss / 1024)) MB"
# Start-up: the program runs once per object.
perf_out=$( (perf stat -r 50 "$cdo" --version >/dev/null) 2>&1 | grep -E 'task-clock|elapsed' | tr -s ' ')
echo "start-up (--version, 50 runs):$(echo "$perf_out" | sed 's/^/ /' | tr '\n' ';')"
