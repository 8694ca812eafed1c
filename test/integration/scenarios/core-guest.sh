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

# vm-run pipes the command's output through a cat that sleeps in pipe_read whenever the
# command is quiet, so a patch of pipe_read could never be applied under it. Write to
# that cat's serial port directly instead, wait until it has drained the pipe, and stop
# it. It is found by what it is, not by name alone: our parent's sibling reading a pipe
# into /dev/ttyS1.
detach_harness_reader() {
  for _p in $(pidof cat); do
    [ "$(readlink /proc/"$_p"/fd/1)" = /dev/ttyS1 ] || continue
    case $(readlink /proc/"$_p"/fd/0) in pipe:*) ;; *) continue ;; esac
    exec >/dev/ttyS1 2>&1
    _drained() { grep -q pipe_read /proc/"$_p"/stack; }
    wait_for 60 _drained || fail "the harness's cat $_p never drained its pipe"
    kill "$_p"
  done
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

# active PATCH FUNC[,SYMPOS]: prints PATCH's `active` for the vmlinux function FUNC.
active() {
  case "$2" in *,*) _f=$2 ;; *) _f=$2,0 ;; esac
  cat $KP/"$1"/vmlinux/"$_f"/active 2>/dev/null
}

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
