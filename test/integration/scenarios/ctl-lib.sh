# shellcheck shell=bash
# Host-side helper for the ctl-*.test and daemon-once.test scenarios: boots vm-run with the
# core module, the example patch modules, kpatchd, a module built "for another kernel",
# the guest helpers (ctl-guest.sh) and a guest script read from stdin. GPL-2.0-only.
. "$REPO/test/integration/lib/scenario.sh"
CTL_KMOD=$BUILD_DIR/kmod

# ctl_vm TIMEOUT [VM-RUN OPTION]... <guest-script: exits with the guest's verdict.
ctl_vm() {
  local timeout=$1 m
  shift
  local args=()
  for m in kpatch kpatch-cmdline kpatch-cmdline2 kpatch-pipe kpatch-badname; do
    [ -f "$CTL_KMOD/$m.ko" ] || skip "$CTL_KMOD/$m.ko is not built (run 'make modules')"
    [ "$m" = kpatch ] || args+=(--module "$CTL_KMOD/$m.ko")
  done
  [ -x "$BUILD_DIR/loader/kpatchctl" ] || skip "$BUILD_DIR/loader/kpatchctl is not built"
  # The same module with a vermagic of another release (same length, so the ELF stays valid).
  local other=9${KVER#?}
  perl -0777 -pe "s/vermagic=\Q$KVER\E /vermagic=$other /" "$CTL_KMOD/kpatch-cmdline.ko" \
    >"$SCENARIO_TMP/kpatch-other.ko" || fail "cannot make the other-kernel module"
  cmp -s "$CTL_KMOD/kpatch-cmdline.ko" "$SCENARIO_TMP/kpatch-other.ko" && fail "vermagic not found in kpatch-cmdline.ko"
  [ -x "$BUILD_DIR/daemon/kpatchd" ] && args+=(--file "$BUILD_DIR/daemon/kpatchd:/bin/kpatchd")
  cat >"$SCENARIO_TMP/test.sh"
  KPATCH_BUILD_DIR=$BUILD_DIR KPATCH_CORE_MODULE=$CTL_KMOD/kpatch.ko "$VM_RUN" --timeout "$timeout" "${args[@]}" "$@" \
    --file "$SCENARIO_TMP/kpatch-other.ko:kpatch-other.ko" \
    --file "$REPO/test/integration/scenarios/ctl-guest.sh:ctl-guest.sh" --file "$SCENARIO_TMP/test.sh:test.sh" \
    -- "OTHER_KVER=$other sh /kpatch/test.sh"
}
