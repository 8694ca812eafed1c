#!/bin/bash
# create-diff-object over real kernel objects: time and peak RSS per object for an identical
# pair and for a one-line change (a comment added at the top, which moves every line below
# it), next to the object's compile time, after the start-up figures on a tiny object pair
# (licence: GPL-2.0-only). The real objects need a prepared 6.1 tree:
# KPATCH_TEST_KERNEL_TREE (doc/interfaces.md); that part is skipped without it.
# Env: BUILD_DIR (meson build dir), DIFF_BENCH_OBJECTS (override the object list),
# DIFF_BENCH_WORK (cache of built pairs; default $BUILD_DIR/bench-diff).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
tree=${KPATCH_TEST_KERNEL_TREE:-}
cdo=$BUILD_DIR/kpatch-build/diff/create-diff-object
[ -x "$cdo" ] || { echo "no $cdo: build first"; exit 1; }
work=${DIFF_BENCH_WORK:-$BUILD_DIR/bench-diff}
mkdir -p "$work"

# Start-up: the program runs once per object of a patch, so on small objects its start is
# most of its cost. Whole-process times (wall and CPU, min/median/max over RUNS runs taken
# in turns) of create-diff-object on a two-function object pair, next to `true` (the
# floor: fork+exec+exit), a libelf program that only reads both objects (the floor of any
# libelf differ) and kpatch's create-diff-object where installed. Env: DIFF_BENCH_RUNS.
startup() {
    local s=$work/startup runs=${DIFF_BENCH_RUNS:-200} cc=${CC:-cc}
    mkdir -p "$s/orig" "$s/patched"
    printf 'int tiny_value(int x) { return x + 1; }\nint tiny_other(int x) { return x * 2; }\n' >"$s/orig/tiny.c"
    sed 's/x + 1/x + 2/' "$s/orig/tiny.c" >"$s/patched/tiny.c"
    for side in orig patched; do # same file name on both sides, as kpatch-build's pairs
        (cd "$s/$side" && $cc -O2 -g -ffunction-sections -fdata-sections -fno-pic \
            -mcmodel=kernel -mno-red-zone -c tiny.c -o tiny.o) || { echo "start-up: cannot compile"; return; }
    done
    $cc -O2 -o "$s/spawn-times" "$ROOT/bench/lib/spawn-times.c" &&
        $cc -O2 -o "$s/elf-floor" "$ROOT/bench/lib/elf-floor.c" -lelf ||
        { echo "start-up: cannot build the timing helpers"; return; }
    local o=$s/orig/tiny.o p=$s/patched/tiny.o
    local rows=(true /bin/true "libelf floor" "$s/elf-floor $o $p")
    local kpatch_cdo=${KPATCH_CDO:-}
    for c in /usr/libexec/kpatch/create-diff-object /usr/lib/kpatch/create-diff-object; do
        [ -z "$kpatch_cdo" ] && [ -x "$c" ] && kpatch_cdo=$c
    done
    if [ -n "$kpatch_cdo" ]; then # its positional form: ORIG PATCHED PARENT SYMTAB SYMVERS NAME OUT
        readelf -s --wide "$o" >"$s/symtab"
        : >"$s/Module.symvers"
        rows+=("kpatch create-diff-object" "$kpatch_cdo $o $p vmlinux $s/symtab $s/Module.symvers tiny $s/kpatch-out.o")
    fi
    rows+=("ours --version" "$cdo --version" "ours identical pair" "$cdo $o $o -o $s/out-ident.o"
           "ours changed pair" "$cdo $o $p -o $s/out.o")
    echo "start-up on a two-function object ($runs runs each, in turns; x = median over the first row's)"
    "$s/spawn-times" "$runs" "${rows[@]}"
    [ -n "$kpatch_cdo" ] || echo "(kpatch's create-diff-object not installed: bookworm has no kpatch package; KPATCH_CDO=PATH adds it)"
    # As kpatch-build runs it: with the target's symbols (kallsyms, Module.symvers) loaded.
    local kallsyms=${DIFF_BENCH_KALLSYMS:-$(ls "${XDG_CACHE_HOME:-$HOME/.cache}"/kpatch/symbols/*.kallsyms 2>/dev/null | head -n 1)}
    if [ -n "$kallsyms" ] && [ -n "$tree" ] && [ -f "$tree/Module.symvers" ]; then
        echo "the same with the target's symbols ($(wc -l <"$kallsyms") kallsyms lines, Module.symvers)"
        "$s/spawn-times" $(( runs / 10 > 5 ? runs / 10 : 5 )) true /bin/true "ours changed pair + symbols" \
            "$cdo --kallsyms $kallsyms --symvers $tree/Module.symvers $o $p -o $s/out-sym.o"
    fi
}
startup

if [ -z "$tree" ] || [ ! -d "$tree" ]; then
    echo "SKIPPED real objects: set KPATCH_TEST_KERNEL_TREE to a prepared 6.1 kernel tree"
    exit 0
fi
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
