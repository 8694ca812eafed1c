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
