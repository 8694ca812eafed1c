# shellcheck shell=bash
# Helpers of the build-*.test scenarios: kpatch-build on the patches under
# test/integration/patches and the headers of their .check files (licence: GPL-2.0-only).
# A .check file starts with comment headers read on the host:
#   # proves: ONE SENTENCE
#   # replaces: NAME[,POS]...   functions the module must replace (exactly these)
#   # replaces-include: NAME... functions it must replace, others allowed
#   # new: NAME...              new functions it must carry
#   # patches: A.patch B.patch  build these into one module instead of NAME.patch
#   # options: OPT...           more kpatch-build options (e.g. --replace)
#   # over: A.patch B.patch     (build-patches) also build these into kpatch-NAME-over.ko,
#                               which the guest loads first and checks with `over`: the
#                               module NAME then loads on top of it (a cumulative patch)
#   # expect-exit: N            kpatch-build must exit N (no VM part when N != 0)
#   # expect-message: TEXT      ... and say TEXT on stderr (repeatable)
#   # modules: MOD...           the patch changes module code; the modules the check needs,
#                               in load order (build-module-patches.test copies them in)
#   # objects: OBJ...           the objects (vmlinux, module names) it must replace in
#   # files: PATH...            host programs the module check runs (copied to PATH)
#   # extra: WHAT               (module checks) the script has an `extra` mode, run once
#                               the standard flow passed (patch unloaded, modules out),
#                               with PATCH_KO, PATCH (sysfs name) and MODS (load order) set;
#                               the kernel log has a "kpatch-step: NAME STEP" line before
#                               each step of the flow; it prints why when it fails
# and the rest is a busybox sh script run in the guest as `sh NAME.check original|patched`,
# exiting 0 when the kernel shows that behaviour.

PATCHES=${KPATCH_TEST_PATCHES:-$REPO/test/integration/patches}  # a subset, to try one check
KPATCH_BUILD=${KPATCH_BUILD:-$BUILD_DIR/kpatch-build/driver/kpatch-build}

# header FILE KEY -> the values of every "# KEY: ..." line, space-joined
header() {
  sed -n "s/^# $2: *//p" "$1" | tr '\n' ' ' | sed 's/ *$//'
}

# The target's /proc/kallsyms, taken from the VM once and kept (its order does not change
# between boots; KASLR only moves addresses).
target_kallsyms() {
  local f=$BUILD_DIR/vm/kallsyms-$KVER
  # A private temporary name: two scenarios may fetch at once.
  local tmp=$f.tmp.$$
  if [ ! -s "$f" ]; then
    mkdir -p "$BUILD_DIR/vm"
    if ! "$VM_RUN" -- 'cat /proc/kallsyms' >"$tmp" || ! grep -q ' T _stext$' "$tmp"; then
      rm -f "$tmp"
      return 1
    fi
    mv "$tmp" "$f"
  fi
  echo "$f"
}

# patch_files CHECK -> the patch files a .check builds
patch_files() {
  local check=$1 list p
  list=$(header "$check" patches)
  if [ -z "$list" ]; then
    echo "${check%.check}.patch"
    return
  fi
  for p in $list; do echo "$PATCHES/$p"; done
}

# build_check CHECK OUTDIR KALLSYMS -> runs kpatch-build, leaves OUTDIR/NAME.{json,err}
# and the module as OUTDIR/kpatch-NAME.ko; returns kpatch-build's exit status.
# A check with `options:` passes them to kpatch-build (e.g. --replace); one with `over:`
# also builds those patches, as OUTDIR/kpatch-NAME-over.ko, for the guest to load first.
build_check() {
  local check=$1 out=$2 kallsyms=$3 name p over=()
  name=$(basename "$check" .check)
  for p in $(header "$check" over); do over+=("$PATCHES/$p"); done
  if [ ${#over[@]} -gt 0 ]; then
    "$KPATCH_BUILD" -q -k "$KVER" --kallsyms "$kallsyms" -n "kpatch-$name-over" -o "$out" \
      "${over[@]}" >/dev/null 2>"$out/$name.err" || return
  fi
  # shellcheck disable=SC2046
  "$KPATCH_BUILD" -q --json -k "$KVER" --kallsyms "$kallsyms" -n "kpatch-$name" -o "$out" \
    $(header "$check" options) $(patch_files "$check") >"$out/$name.json" 2>"$out/$name.err"
}

# check_functions CHECK JSON -> "" when the module replaces exactly the `replaces:`
# functions and carries the `new:` ones, else what differs
check_functions() {
  local check=$1 json=$2
  python3 - "$json" "$(header "$check" replaces)" "$(header "$check" new)" \
    "$(header "$check" replaces-include)" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
want = sys.argv[2].split()
at_least = sys.argv[4].split()
got = [f"{r['name']},{r['sympos']}" for r in summary.get("replaced", [])]
names = sorted(g.split(",")[0] for g in got)
problems = []
if at_least:
    missing = [w for w in at_least if w not in names]
    if missing:
        problems.append(f"does not replace {missing} (replaces {got})")
elif sorted(w.split(",")[0] for w in want) != names:
    problems.append(f"replaces {got}, expected {want}")
for w in want:
    if "," in w and w not in got:
        problems.append(f"expected {w} (name,position), got {got}")
new = {n["name"] for n in summary.get("new", [])}
for n in sys.argv[3].split():
    if n not in new:
        problems.append(f"new function {n} missing (new: {sorted(new)})")
print("; ".join(problems))
PY
}
