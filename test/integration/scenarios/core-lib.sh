# shellcheck shell=bash
# Host-side helper for the core-*.test scenarios: boots vm-run with the core module, the
# named example patch modules, the guest helpers (core-guest.sh) and a guest script read
# from stdin. GPL-2.0-only.
CORE_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CORE_REPO=$(cd "$CORE_TEST_DIR/../../.." && pwd)
# KPATCH_BUILD_DIR as vm-run takes it; BUILD_DIR as scripts/bench exports it.
CORE_BUILD_DIR=${KPATCH_BUILD_DIR:-${BUILD_DIR:-$CORE_REPO/build}}
CORE_KMOD_DIR=$CORE_BUILD_DIR/kmod
CORE_VM_RUN=${VM_RUN:-$CORE_TEST_DIR/../vm-run}

# core_vm TIMEOUT [MODULE]... <guest-script: exits with the guest's verdict.
# MODULE is an example's name (kpatch-cmdline); each lands at /kpatch/MODULE.ko.
# CORE_VM_FILES: more files for the guest, space-separated SRC:DEST as vm-run's --file.
core_vm() {
  local timeout=$1 m script rc
  local args=()
  shift
  for m in kpatch "$@"; do
    if [ ! -f "$CORE_KMOD_DIR/$m.ko" ]; then
      echo "SKIP: $CORE_KMOD_DIR/$m.ko is not built (run 'make modules')"
      exit 77
    fi
    [ "$m" = kpatch ] || args+=(--module "$CORE_KMOD_DIR/$m.ko")
  done
  for m in ${CORE_VM_FILES:-}; do args+=(--file "$m"); done
  script=$(mktemp) || exit 1
  cat >"$script"
  KPATCH_BUILD_DIR=$CORE_BUILD_DIR KPATCH_CORE_MODULE=$CORE_KMOD_DIR/kpatch.ko "$CORE_VM_RUN" \
    --timeout "$timeout" "${args[@]}" \
    --file "$CORE_TEST_DIR/core-guest.sh:core-guest.sh" --file "$script:test.sh" \
    -- sh /kpatch/test.sh
  rc=$?
  rm -f "$script"
  return $rc
}

# core_target_functions: prints the name of a file listing unique traceable vmlinux
# functions that no task of a fresh guest sleeps in, taken from the guest once and kept
# (the list does not change between boots of one kernel).
core_target_functions() {
  local f=$CORE_BUILD_DIR/vm/traceable-$KVER tmp
  if [ ! -s "$f" ]; then
    tmp=$f.tmp.$$
    "$CORE_VM_RUN" --timeout 300 -- '
      awk "NF == 3 { n[\$3]++; t[\$3] = \$2 } END { for (s in n) if (n[s] == 1 && t[s] ~ /^[tT]$/) print s }" /proc/kallsyms | sort >/tmp/k
      grep -v " " /sys/kernel/tracing/available_filter_functions | sort | uniq -u >/tmp/f
      cat /proc/[0-9]*/stack 2>/dev/null | sed -n "s/^\[<[0-9a-f]*>\] \([^+]*\)+.*/\1/p" | sort -u >/tmp/s
      awk "FILENAME == \"/tmp/s\" { s[\$0] = 1; next } FILENAME == \"/tmp/k\" { k[\$0] = 1; next } (\$0 in k) && !(\$0 in s)" /tmp/s /tmp/k /tmp/f | sort | grep -v -E "^_|idle|cstate|mwait|halt|stop_machine|ftrace|kpatch" | head -n 5000' \
      >"$tmp" || { rm -f "$tmp"; return 1; }
    [ "$(wc -l <"$tmp")" -ge 1000 ] || { rm -f "$tmp"; return 1; }
    mv "$tmp" "$f"
  fi
  echo "$f"
}

# core_many_module COUNT DIR MODNAME: builds in DIR a patch module replacing COUNT
# functions of core_target_functions with trampolines (lib/gen-many-patch) and prints
# its path; messages on stderr and a non-zero status when something is missing or fails.
core_many_module() {
  local count=$1 dir=$2 mod=$3 names
  local convert=$CORE_BUILD_DIR/kpatch-build/klp/kpatch-klp-convert
  [ -x "$convert" ] || { echo "kpatch-klp-convert is not built" >&2; return 1; }
  [ -f "$CORE_KMOD_DIR/core/Module.symvers" ] || { echo "the core module is not built" >&2; return 1; }
  names=$(core_target_functions) || { echo "cannot read the guest's traceable functions" >&2; return 1; }
  "$CORE_REPO/test/integration/lib/gen-many-patch" "$names" "$count" "$dir" "$mod" || return 1
  make -s -C "/lib/modules/$KVER/build" M="$dir" KBUILD_MODPOST_WARN=1 \
    KBUILD_EXTRA_SYMBOLS="$CORE_KMOD_DIR/core/Module.symvers" ccflags-y="-I$CORE_REPO/kmod/include" modules \
    >"$dir/build.log" 2>&1 || { echo "the generated module does not build: $(grep -v 'undefined!' "$dir/build.log" | tail -5)" >&2; return 1; }
  "$convert" "$dir/$mod.ko" "$dir/$mod.ko" || { echo "kpatch-klp-convert failed on $dir/$mod.ko" >&2; return 1; }
  echo "$dir/$mod.ko"
}
