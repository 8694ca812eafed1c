# shellcheck shell=bash
# Host-side helper for the ctl-*.test and daemon-once.test scenarios: boots vm-run with the
# core module, the example patch modules, kpatchd, a module built "for another kernel",
# the guest helpers (ctl-guest.sh) and a guest script read from stdin. GPL-2.0-only.
. "$REPO/test/integration/lib/scenario.sh"
# The modules and kpatchd default to the build directory; KPATCH_KMOD_DIR and KPATCH_KPATCHD
# (like vm-run's KPATCH_KPATCHCTL) point elsewhere.
CTL_KMOD=${KPATCH_KMOD_DIR:-$BUILD_DIR/kmod}
CTL_KPATCHD=${KPATCH_KPATCHD:-$BUILD_DIR/daemon/kpatchd}
CTL_KPATCHCTL=${KPATCH_KPATCHCTL:-$BUILD_DIR/loader/kpatchctl}

# ctl_other_kernel_module OUT: kpatch-cmdline.ko with the vermagic of another release (same
# length, so the ELF stays valid); prints that release.
ctl_other_kernel_module() {
  local other=9${KVER#?}
  perl -0777 -pe "s/vermagic=\Q$KVER\E /vermagic=$other /" "$CTL_KMOD/kpatch-cmdline.ko" >"$1" ||
    fail "cannot make the other-kernel module"
  cmp -s "$CTL_KMOD/kpatch-cmdline.ko" "$1" && fail "vermagic not found in kpatch-cmdline.ko"
  echo "$other"
}

# ctl_with_manifest OUT JSON: kpatch-cmdline.ko with JSON as its .kpatch.manifest section, as
# kpatch-build records it (doc/interfaces.md).
ctl_with_manifest() {
  printf '%s' "$2" >"$SCENARIO_TMP/manifest.json"
  objcopy --add-section .kpatch.manifest="$SCENARIO_TMP/manifest.json" "$CTL_KMOD/kpatch-cmdline.ko" "$1" ||
    fail "objcopy could not add a manifest"
}

# ctl_vm TIMEOUT [VM-RUN OPTION]... <guest-script: exits with the guest's verdict.
ctl_vm() {
  local timeout=$1 m
  shift
  local args=()
  for m in kpatch kpatch-cmdline kpatch-cmdline2 kpatch-pipe kpatch-badname; do
    [ -f "$CTL_KMOD/$m.ko" ] || skip "$CTL_KMOD/$m.ko is not built (run 'make modules')"
    [ "$m" = kpatch ] || args+=(--module "$CTL_KMOD/$m.ko")
  done
  [ -x "$CTL_KPATCHCTL" ] || skip "$CTL_KPATCHCTL is not built"
  local other
  other=$(ctl_other_kernel_module "$SCENARIO_TMP/kpatch-other.ko") || exit 1
  [ -x "$CTL_KPATCHD" ] && args+=(--file "$CTL_KPATCHD:/bin/kpatchd")
  cat >"$SCENARIO_TMP/test.sh"
  KPATCH_BUILD_DIR=$BUILD_DIR KPATCH_CORE_MODULE=$CTL_KMOD/kpatch.ko KPATCH_KPATCHCTL=$CTL_KPATCHCTL \
    "$VM_RUN" --timeout "$timeout" "${args[@]}" "$@" \
    --file "$SCENARIO_TMP/kpatch-other.ko:kpatch-other.ko" \
    --file "$REPO/test/integration/scenarios/ctl-guest.sh:ctl-guest.sh" --file "$SCENARIO_TMP/test.sh:test.sh" \
    -- "OTHER_KVER=$other sh /kpatch/test.sh"
}
