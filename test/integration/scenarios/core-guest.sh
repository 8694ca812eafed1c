# shellcheck shell=sh
# Guest-side helpers for the core-*.test scenarios (busybox sh): verdicts, waiting for
# conditions, and the kpatch sysfs and /proc/cmdline facts the scenarios check.
# GPL-2.0-only.
KP=/sys/kernel/kpatch
MARK1='kpatch_cmdline: this /proc/cmdline comes from a live patch'
MARK2='kpatch_cmdline2: this /proc/cmdline comes from the second live patch'

# fail MESSAGE: the verdict, on stderr so that it shows even from inside $(...).
fail() {
  {
    echo "FAIL: $*"
    echo "--- last_error: $(cat $KP/last_error 2>/dev/null)"
    dmesg | grep -i kpatch | tail -n 15
  } >&2
  exit 1
}

ok() { echo "ok: $*"; }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
  _ticks=$(($1 * 10))
  shift
  until "$@"; do
    _ticks=$((_ticks - 1))
    [ "$_ticks" -gt 0 ] || return 1
    sleep 0.1
  done
}

# pid_of NAME: waits (60 s at most) for a process called NAME and prints its pid.
pid_of() {
  _has() { pidof "$1" >/dev/null; }
  wait_for 60 _has "$1" || fail "no process '$1' appeared"
  pidof "$1"
}

load_core() {
  insmod /kpatch/kpatch.ko || fail "cannot load the core module"
  [ -d $KP ] || fail "no $KP after loading the core"
  ORIG=$(cat /proc/cmdline)
}

expect_cmdline() {
  _got=$(cat /proc/cmdline)
  [ "$_got" = "$1" ] || fail "$2: /proc/cmdline reads '$_got', expected '$1'"
}

# active PATCH FUNC: prints the active column of PATCH's functions line for FUNC.
active() { awk -v f="$2" '$1 == f { print $5 }' $KP/"$1"/functions; }

expect_active() {
  _a=$(active "$1" "$2")
  [ "$_a" = "$3" ] || fail "$1: $2 active is '$_a', expected '$3'"
}

# Whether ftrace has any handler on FUNC (kpatch's handlers show up there).
ftrace_on() { grep -q "^$1 " /sys/kernel/tracing/enabled_functions; }

is_loaded() { grep -q "^$1 " /proc/modules; }

set_enabled() {
  echo "$2" >$KP/"$1"/enabled || fail "writing $2 to $1/enabled failed: $(cat $KP/"$1"/last_error)"
}
