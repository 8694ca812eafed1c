# shellcheck shell=sh
# Guest-side helpers for the ctl-*.test scenarios (busybox sh): run kpatchctl and check its
# exit status and output. Output goes to files, never through a pipe: a shell reading a
# pipe sleeps in pipe_read, which a patch of pipe_read must not find. GPL-2.0-only.
KP=/sys/kernel/kpatch
KVER=$(uname -r)
MARK1='kpatch_cmdline: this /proc/cmdline comes from a live patch'
MARK2='kpatch_cmdline2: this /proc/cmdline comes from the second live patch'
ORIG=$(cat /proc/cmdline)

fail() {
  {
    echo "FAIL: $*"
    echo "--- last command: $LAST"
    echo "--- stdout:"; cat /tmp/ctl.out 2>/dev/null
    echo "--- stderr:"; cat /tmp/ctl.err 2>/dev/null
    echo "--- last_error: $(cat $KP/last_error 2>/dev/null)"
  } >&2
  exit 1
}

ok() { echo "ok: $*"; }

# ctl WANT ARGS...: runs kpatchctl ARGS, expects exit status WANT.
ctl() {
  _want=$1
  shift
  LAST="kpatchctl $*"
  kpatchctl "$@" >/tmp/ctl.out 2>/tmp/ctl.err
  _rc=$?
  [ "$_rc" -eq "$_want" ] || fail "exit status $_rc, expected $_want"
}

out_has() { grep -qF -- "$1" /tmp/ctl.out || fail "stdout lacks '$1'"; }
err_has() { grep -qF -- "$1" /tmp/ctl.err || fail "stderr lacks '$1'"; }
out_lacks() { grep -qF -- "$1" /tmp/ctl.out && fail "stdout has '$1'"; true; }

expect_cmdline() {
  _got=$(cat /proc/cmdline)
  [ "$_got" = "$1" ] || fail "$2: /proc/cmdline reads '$_got', expected '$1'"
}

# no_patches WHAT: nothing of ours is loaded (the core may be).
no_patches() {
  grep -q '^kpatch_' /proc/modules && fail "$1: a patch module is loaded: $(grep '^kpatch_' /proc/modules)"
  for _d in $KP/*/; do [ -d "$_d" ] && fail "$1: $_d left in sysfs"; done
  expect_cmdline "$ORIG" "$1"
}
