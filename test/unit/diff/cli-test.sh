#!/bin/sh
# create-diff-object's command-line contract: exit codes 0/1/2/3, both argument forms, --json (licence: GPL-2.0-only).
# Usage: cli-test.sh PATH-TO-create-diff-object   (fixture locations come from the environment)
set -u
cdo=$1
fail=0
check() { # expected-code description command...
    want=$1 what=$2
    shift 2
    "$@" >/dev/null 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit $got, want $want: $(cat "$tmp/err")"
        fail=1
    else
        echo "ok: $what (exit $got)"
    fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check 1 "no arguments" "$cdo"
check 1 "unknown option" "$cdo" --frobnicate a b -o c
check 0 "--help" "$cdo" --help
check 1 "missing input" "$cdo" /nonexistent.o /nonexistent.o -o "$tmp/out.o"
printf 'not an object' >"$tmp/junk.o"
check 1 "not ELF" "$cdo" "$tmp/junk.o" "$tmp/junk.o" -o "$tmp/out.o"

sh "$KPATCH_FIXTURE_SCRIPT" "$KPATCH_FIXTURE_SRC" "$KPATCH_FIXTURE_OUT"
rc=$?
# 77: meson counts the run as skipped (the checks above ran, those below could not).
if [ $rc -eq 77 ]; then echo "SKIPPED: fixtures need kernel headers"; [ $fail -eq 0 ] || exit 1; exit 77; fi
[ $rc -eq 0 ] || { echo "FAIL: building fixtures"; exit 1; }
f=$KPATCH_FIXTURE_OUT
check 0 "changed" "$cdo" --object-path fixtures/changed.o "$f/orig/changed.o" "$f/patched/changed.o" -o "$tmp/changed.o" --json "$tmp/changed.json"
grep -q '"fixture_show"' "$tmp/changed.json" || { echo "FAIL: manifest lacks fixture_show"; fail=1; }
nm "$tmp/changed.o" | grep -q ' T fixture_show$' || { echo "FAIL: fixture_show is not a T symbol"; fail=1; }
check 3 "unchanged" "$cdo" "$f/orig/unchanged.o" "$f/patched/unchanged.o" -o "$tmp/u.o"
[ ! -e "$tmp/u.o" ] || { echo "FAIL: output written for an unchanged pair"; fail=1; }
check 3 "line shift only" "$cdo" "$f/orig/lineshift.o" "$f/patched/lineshift.o" -o "$tmp/l.o"
check 2 "data initializer" "$cdo" "$f/orig/data_init.o" "$f/patched/data_init.o" -o "$tmp/d.o" --json "$tmp/d.json"
grep -q 'fixture_limit' "$tmp/err" || { echo "FAIL: refusal does not name fixture_limit"; fail=1; }
grep -q '"refused"' "$tmp/d.json" || { echo "FAIL: manifest of a refusal"; fail=1; }
check 2 "__init change" "$cdo" "$f/orig/init_change.o" "$f/patched/init_change.o" -o "$tmp/i.o"
check 2 "struct layout under a changed function" "$cdo" "$f/orig/layout_struct.o" "$f/patched/layout_struct.o" -o "$tmp/ls.o"
grep -q 'struct `fixture_conf`.*member `b` moved.*fixture_conf_get' "$tmp/err" || { echo "FAIL: layout refusal: $(cat "$tmp/err")"; fail=1; }
check 0 "layout refusal waived by KPATCH_REVIEWED" "$cdo" "$f/orig/layout_reviewed.o" "$f/patched/layout_reviewed.o" -o "$tmp/lr.o" --json "$tmp/lr.json"
grep -q '"reason": "every fixture_conf is made after the patch loads"' "$tmp/lr.json" || { echo "FAIL: manifest lacks the review"; fail=1; }
check 2 "enumerator renumbered, used only as a constant" "$cdo" "$f/orig/enum_const.o" "$f/patched/enum_const.o" -o "$tmp/ec.o"
grep -q 'enum `fixture_mode`.*enumerator `FIXTURE_MODE_ON` changed value from 1 to 2.*`fixture_enable`' "$tmp/err" || { echo "FAIL: enum refusal: $(cat "$tmp/err")"; fail=1; }
[ ! -e "$tmp/ec.o" ] || { echo "FAIL: output written for a refused enum change"; fail=1; }
check 0 "enumerator appended" "$cdo" "$f/orig/enum_append.o" "$f/patched/enum_append.o" -o "$tmp/ea.o"
check 0 "enum refusal waived by KPATCH_REVIEWED" "$cdo" "$f/orig/enum_reviewed.o" "$f/patched/enum_reviewed.o" -o "$tmp/er.o" --json "$tmp/er.json"
grep -q '"reason": "fixture_mode_set is patched to the new numbering too"' "$tmp/er.json" || { echo "FAIL: manifest lacks the enum review"; fail=1; }
check 1 "malformed .kpatch.reviewed" "$cdo" "$f/orig/reviewed_bad.o" "$f/patched/reviewed_bad.o" -o "$tmp/rb.o"
grep -q 'reviewed_bad.o.*\.kpatch\.reviewed' "$tmp/err" || { echo "FAIL: malformed review error does not name the file"; fail=1; }
check 1 "different objects" "$cdo" "$f/orig/changed.o" "$f/patched/newfunc.o" -o "$tmp/x.o"
head -c 1000 "$f/orig/changed.o" >"$tmp/trunc.o"
check 1 "truncated" "$cdo" "$tmp/trunc.o" "$f/patched/changed.o" -o "$tmp/t.o"
# kpatch's positional form: ORIG PATCHED PARENT SYMTAB SYMVERS PATCH-NAME OUT, sizes from the environment.
readelf -s --wide "$f/orig/newfunc.o" >"$tmp/symtab.txt"
check 0 "kpatch positional form" env BUG_STRUCT_SIZE=12 JUMP_STRUCT_SIZE=16 "$cdo" "$f/orig/newfunc.o" "$f/patched/newfunc.o" vmlinux "$tmp/symtab.txt" /dev/null kpatch-test "$tmp/pos.o"
nm "$tmp/pos.o" | grep -q ' t fixture_new_helper$' || { echo "FAIL: positional form output"; fail=1; }
# A table only BUG_STRUCT_SIZE can cut (10-byte entries aligned to 16, no stride, no DWARF).
check 2 "entry size needed" "$cdo" "$f/orig/esize_env.o" "$f/patched/esize_env.o" -o "$tmp/e.o"
grep -q 'section __bug_table has entries for function `esize_env_a` that cannot be delimited.*(BUG_STRUCT_SIZE)' "$tmp/err" || { echo "FAIL: entry size refusal: $(cat "$tmp/err")"; fail=1; }
check 0 "entry size from the environment" env BUG_STRUCT_SIZE=16 "$cdo" "$f/orig/esize_env.o" "$f/patched/esize_env.o" -o "$tmp/e.o"
[ "$(readelf -SW "$tmp/e.o" | awk '{for (i = 1; i < NF; i++) if ($i == "__bug_table") print $(i + 4)}')" = 000010 ] || { echo "FAIL: __bug_table of the output: $(readelf -SW "$tmp/e.o" | grep bug)"; fail=1; }
# The same size measured in the kernel tree (kpatch-build's --entry-sizes file).
printf '{"__bug_table": 16}\n' >"$tmp/sizes.json"
check 0 "entry size from the kernel tree" "$cdo" --entry-sizes "$tmp/sizes.json" "$f/orig/esize_env.o" "$f/patched/esize_env.o" -o "$tmp/e.o"
printf '{"__bug_table": "16"}\n' >"$tmp/bad-sizes.json"
rm -f "$tmp/e.o"
check 1 "entry-size file of the wrong type" "$cdo" --entry-sizes "$tmp/bad-sizes.json" "$f/orig/esize_env.o" "$f/patched/esize_env.o" -o "$tmp/e.o"
grep -q "$tmp/bad-sizes.json: the entry size of \"__bug_table\" is \"16\"" "$tmp/err" || { echo "FAIL: entry-size file error: $(cat "$tmp/err")"; fail=1; }
[ ! -e "$tmp/e.o" ] || { echo "FAIL: an output was written despite the bad entry-size file"; fail=1; }
# A wrong size in the environment stops a patch whose changed function has entries there.
check 2 "wrong entry size" env BUG_STRUCT_SIZE=7 "$cdo" "$f/orig/once.o" "$f/patched/once.o" -o "$tmp/w.o"
grep -q '__bug_table has entries for function `fixture_once`.*correct BUG_STRUCT_SIZE' "$tmp/err" || { echo "FAIL: entry size refusal: $(cat "$tmp/err")"; fail=1; }
# Positions from a kallsyms file: the second of two `count.N` copies sits among the
# object's own symbols, so the klp placeholder carries position 2.
cnt=$(readelf -s --wide "$f/orig/static_local.o" | awk '$4 == "OBJECT" && $8 ~ /^count\./ {print $8}' | sort | head -n 2)
{
    echo "ffffffff81000000 T other_function"
    for c in $cnt; do echo "ffffffff81000100 b $c"; echo "ffffffff81000180 b other_data_$c"; done
    echo "ffffffff81100000 T fixture_count_a"
    for c in $cnt; do echo "ffffffff81100100 b $c"; done
    echo "ffffffff81100200 T fixture_count_b"
} >"$tmp/kallsyms"
check 0 "positions from --kallsyms" "$cdo" --kallsyms "$tmp/kallsyms" --object-path fixtures/static_local.o "$f/orig/static_local.o" "$f/patched/static_local.o" -o "$tmp/s.o" --json "$tmp/s.json"
nm "$tmp/s.o" | grep -q '\.klp\.sym\.vmlinux\.count\.[0-9]*,2$' || { echo "FAIL: no position-2 placeholder: $(nm "$tmp/s.o" | grep klp)"; fail=1; }
exit $fail
