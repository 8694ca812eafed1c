#!/bin/sh
# Bounded libFuzzer run of the ELF reader and the differ under ASan and UBSan (licence: GPL-2.0-only).
# Usage: fuzz.sh SOURCE-ROOT BUILD-DIR [SECONDS]. Builds the target with clang when its
# sources changed, seeds the corpus with the C fixtures' objects and past crashers, and runs
# 30,000 inputs from seed 1 (deterministic on a fresh corpus), at most 3 x SECONDS.
set -eu
root=$1 build=$2 secs=${3:-20}
# Exit 77 when it cannot run: meson counts that as a skip, not a pass (make deps installs clang).
command -v clang++ >/dev/null || { echo "SKIPPED: no clang++"; exit 77; }
out=$build/fuzz-diff
mkdir -p "$out/corpus"
srcs="$root/kpatch-build/elf/object.cpp $root/kpatch-build/elf/reader.cpp $root/kpatch-build/elf/writer.cpp
      $root/kpatch-build/arch/x86_64.cpp $(ls "$root"/kpatch-build/diff/*.cpp | grep -v -e /main.cpp -e /kernel_resolver.cpp)
      $root/test/unit/diff/fuzz_diff.cpp"
# Each source compiles on its own, all cores at once (one clang++ over every file took about
# 2 minutes on one core); the link follows when any object is newer than the target.
mkdir -p "$out/obj"
newest_header=$(ls -t "$root"/kpatch-build/diff/*.hpp "$root"/kpatch-build/elf/*.hpp "$root"/kpatch-build/arch/*.hpp \
    "$root"/common/include/kpatch/*.hpp "$root"/kmod/include/*.h | head -n 1)
stale=
for s in $srcs; do
    o=$out/obj/$(echo "$s" | sed "s|^$root/||; s|/|_|g").o
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$newest_header" -nt "$o" ]; then stale="$stale $s"; fi
done
if [ -n "$stale" ]; then
    echo "building the fuzz target (clang, ASan+UBSan): $(echo $stale | wc -w) sources..."
    printf '%s\n' $stale | xargs -P "$(nproc)" -I{} sh -c '
        s=$1 root=$2 out=$3
        o=$out/obj/$(echo "$s" | sed "s|^$root/||; s|/|_|g").o
        clang++ -std=c++20 -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
            -fno-sanitize-recover=undefined -I"$root/kpatch-build" -I"$root/common/include" \
            -I"$root/kmod/include" -c "$s" -o "$o.tmp" && mv "$o.tmp" "$o"' _ {} "$root" "$out"
fi
objs=$(for s in $srcs; do echo "$out/obj/$(echo "$s" | sed "s|^$root/||; s|/|_|g").o"; done)
link=0
[ -x "$out/fuzz_diff" ] || link=1
for o in $objs; do
    [ -f "$o" ] || { echo "FAIL: the fuzz target's object $o was not built"; exit 1; }
    [ "$o" -nt "$out/fuzz_diff" ] && link=1
done
if [ $link -eq 1 ]; then
    clang++ -fsanitize=fuzzer,address,undefined $objs -o "$out/fuzz_diff.tmp" -lelf -ldw -lcapstone
    mv "$out/fuzz_diff.tmp" "$out/fuzz_diff"
fi
rc=0
sh "$KPATCH_FIXTURE_SCRIPT" "$KPATCH_FIXTURE_SRC" "$KPATCH_FIXTURE_OUT" || rc=$?
if [ $rc -eq 77 ]; then echo "SKIPPED: the C fixtures need kernel headers"; exit 77; fi
[ $rc -eq 0 ] || { echo "FAIL: building the C fixtures (exit $rc)"; exit 1; }
cp "$KPATCH_FIXTURE_OUT"/patched/*.o "$out/corpus/" 2>/dev/null || true
# Inputs that once crashed it: run first, as part of the corpus, so a regression fails.
cp "$root"/test/fixtures/diff/fuzz-regressions/* "$out/corpus/" 2>/dev/null || true
export KPATCH_FUZZ_ORIG_DIR="$KPATCH_FIXTURE_OUT/orig"
cd "$out"
exec ./fuzz_diff -runs=30000 -max_total_time="$((secs * 3))" -max_len=200000 -rss_limit_mb=1024 -print_final_stats=1 -seed=1 corpus/
