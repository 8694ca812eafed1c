# shellcheck shell=bash
# Shared by vm-run and vm-systemd: paths, staging host files into a guest tree, and running
# QEMU while watching the kernel log for oopses, the timeout and the exit-status marker.
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest conventions (both harnesses):
#   ttyS0  kernel console (and systemd's status lines) -> $VM_LOG, never mixed with output
#   ttyS1  COMMAND's stdout+stderr, raw, straight to the caller's stdout
#   "KPATCH-VM-READY" / "KPATCH-VM-EXIT=<status>" on ttyS0 mark the command's start and end;
#   "KPATCH-VM-TAINTED=<n>" before the latter is /proc/sys/kernel/tainted after the command.

VM_EXIT_TIMEOUT=124   # like timeout(1)
VM_EXIT_HARNESS=125   # kernel problem (oops, panic, BUG, WARNING) or harness failure

# Kernel log lines that fail a run. FATAL ones also stop the guest after a grace period,
# because the kernel may be wedged; the others let the command finish first.
VM_FATAL_RE='Kernel panic|Oops|kernel BUG at|general protection fault[,:]|BUG: unable to handle|BUG: kernel NULL pointer|invalid opcode:|stack segment:|double fault'
VM_PROBLEM_RE="$VM_FATAL_RE|BUG:|WARNING:|detected stalls?|blocked for more than|UBSAN:|KASAN:|list_add corruption|list_del corruption"
VM_FATAL_GRACE=${VM_FATAL_GRACE:-10}

vm_die() {
  echo "$VM_PROG: $*" >&2
  exit "$VM_EXIT_HARNESS"
}

vm_note() {
  [ -n "${VM_RUN_VERBOSE:-}" ] && echo "$VM_PROG: $*" >&2
  return 0
}

# Sets REPO, BUILD_DIR, VM_DIR, VM_LOG_DIR, VM_TMP_DIR from the environment's overrides.
vm_init_paths() {
  REPO=$(cd "$VM_LIB_DIR/../../.." && pwd)
  BUILD_DIR=${KPATCH_BUILD_DIR:-$REPO/build}
  VM_DIR=$BUILD_DIR/vm
  VM_LOG_DIR=$VM_DIR/logs
  VM_TMP_DIR=$VM_DIR/tmp
  mkdir -p "$VM_LOG_DIR" "$VM_TMP_DIR" || vm_die "cannot create '$VM_DIR'"
  # Scratch directories of runs that were killed outright (SIGKILL skips the EXIT trap).
  find "$VM_TMP_DIR" -mindepth 1 -maxdepth 1 -mmin +1440 -exec rm -rf {} + 2>/dev/null
}

vm_default_kver() {
  "$REPO/scripts/target-kernel-release" || vm_die "cannot find the target kernel release"
}

# The core module for kernel $1, printed: $KPATCH_CORE_MODULE when set; the build tree's
# (BUILD/kmod/kpatch.ko) when it was built for that kernel (its vermagic); else the one
# `kpatch-build --core-only -k $1` builds and caches for that kernel's ABI (its export
# CRCs differ between ABIs, and another ABI's core is "invalid module format" there).
# Prints nothing when there is none to be had: the guest then runs without it. Needs
# VM_SCRATCH.
vm_core_module() {
  local kver=$1 built=$BUILD_DIR/kmod/kpatch.ko out
  local kb=${KPATCH_BUILD:-$BUILD_DIR/kpatch-build/driver/kpatch-build}
  if [ -n "${KPATCH_CORE_MODULE:-}" ]; then
    echo "$KPATCH_CORE_MODULE"
    return 0
  fi
  if [ -f "$built" ] && [ "$(modinfo -F vermagic "$built" 2>/dev/null | cut -d' ' -f1)" = "$kver" ]; then
    echo "$built"
    return 0
  fi
  if [ ! -x "$kb" ]; then
    vm_note "no core module for $kver: BUILD/kmod/kpatch.ko is for another kernel and there is no '$kb'"
    return 0
  fi
  # Cached after the first time; the first time prepares that kernel's tree (a minute or two).
  echo "$VM_PROG: the core module for $kver: kpatch-build --core-only -k $kver" >&2
  out=$("$kb" --core-only -q -k "$kver" 2>"$VM_SCRATCH/core-only.err") ||
    vm_die "kpatch-build --core-only -k $kver failed: $(tail -n 5 "$VM_SCRATCH/core-only.err")"
  echo "$out"
}

# A private scratch directory removed on exit (the EXIT trap also stops our qemu).
vm_make_scratch() {
  VM_SCRATCH=$(mktemp -d "$VM_TMP_DIR/$VM_PROG.XXXXXX") || vm_die "mktemp failed"
  VM_QEMU_PID=
  trap vm_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

vm_cleanup() {
  if [ -n "${VM_QEMU_PID:-}" ] && kill -0 "$VM_QEMU_PID" 2>/dev/null; then
    kill -KILL "$VM_QEMU_PID" 2>/dev/null
    wait "$VM_QEMU_PID" 2>/dev/null
  fi
  [ -n "${VM_SCRATCH:-}" ] && rm -rf "$VM_SCRATCH"
}

# Keep the newest $2 entries matching glob $1 (a directory listing sorted by time).
vm_prune() {
  local keep=$2
  # shellcheck disable=SC2012,SC2086
  ls -1td $1 2>/dev/null | tail -n +"$((keep + 1))" | while read -r old; do rm -rf "$old"; done
}

# A fresh log path under build/vm/logs/.
vm_new_log() {
  vm_prune "$VM_LOG_DIR/*.log" 100
  VM_LOG=$VM_LOG_DIR/$(date +%Y%m%d-%H%M%S)-$VM_PROG-$$.log
  : >"$VM_LOG"
}

# vm_copy_binary SRC ROOT DEST [LIBROOT]: copies a host file to ROOT/DEST and, when it is
# a dynamically linked executable, every shared library ldd lists plus the dynamic loader,
# at the same absolute paths under LIBROOT (default ROOT), so it runs in the guest.
vm_copy_binary() {
  local src=$1 root=$2 dest=$3 libroot=${4:-$2} lib
  mkdir -p "$root/$(dirname "$dest")" && cp -L "$src" "$root/$dest" ||
    vm_die "cannot copy '$src' into the guest"
  [ -x "$src" ] && [ -f "$src" ] || return 0
  for lib in $(vm_shared_libs "$src"); do
    [ -e "$libroot$lib" ] && continue
    mkdir -p "$libroot$(dirname "$lib")" && cp -L "$lib" "$libroot$lib" ||
      vm_die "cannot copy '$lib' (needed by '$src') into the guest"
  done
}

# Absolute paths of the libraries and loader a dynamic executable needs; nothing for
# static binaries, scripts and data files.
vm_shared_libs() {
  head -c 4 "$1" 2>/dev/null | grep -q 'ELF' || return 0
  LC_ALL=C ldd "$1" 2>/dev/null | awk '
    $2 == "=>" && $3 ~ /^\// { print $3; next }
    $1 ~ /^\// { print $1 }'
}

# vm_stage_file SPEC ROOT [LIBROOT]: SPEC is SRC:DEST (or just SRC); DEST is relative to
# /kpatch unless absolute; a DEST ending in / names a directory to put SRC into.
vm_stage_file() {
  local spec=$1 root=$2 libroot=${3:-$2} src dest
  src=${spec%%:*}
  if [ "$src" = "$spec" ]; then dest=$(basename "$src"); else dest=${spec#*:}; fi
  [ -e "$src" ] || vm_die "--file: '$src' does not exist"
  case $dest in
    /*) ;;
    *) dest=/kpatch/$dest ;;
  esac
  case $dest in */) dest=$dest$(basename "$src") ;; esac
  if [ -d "$src" ]; then
    mkdir -p "$root$(dirname "$dest")" && cp -a "$src" "$root$dest" ||
      vm_die "cannot copy directory '$src' into the guest"
  else
    vm_copy_binary "$src" "$root" "$dest" "$libroot"
  fi
}

# Prints COMMAND's exit status from the marker on the console log, or nothing.
vm_exit_marker() {
  grep -a -o 'KPATCH-VM-EXIT=[0-9]*' "$1" | tail -n 1 | cut -d= -f2
}

# vm_qemu TIMEOUT QEMU-ARGS...: runs QEMU with the console on $VM_LOG and ttyS1 on our
# stdout; returns COMMAND's exit status, or reports the kernel problem / timeout.
# VM_QEMU_ARGS (split on spaces) adds QEMU options, e.g. "-s" for a gdb stub on :1234.
vm_qemu() {
  local timeout=$1 start fatal_at='' problem_at='' qemu_rc status problems taint
  shift
  start=$SECONDS
  # One host thread for both vCPUs (thread=single): with QEMU 7.2's multi-threaded TCG a
  # vCPU could keep running a stale translation of a patched ftrace site (int3 at
  # cmdline_proc_show+1, or a spin at +0 under preempt=full) after the kernel's
  # text_poke_bp sync; kmod/repro/ reproduces it with ftrace alone. Single-threaded TCG
  # did not show it. VM_TCG_THREAD=multi restores the faster mode to investigate.
  # VM_PIN_CPU=N runs the VM on host CPU N only (benchmarks: no migration between host
  # CPUs in the middle of a measurement).
  local pin=()
  [ -n "${VM_PIN_CPU:-}" ] && pin=(taskset -c "$VM_PIN_CPU")
  # shellcheck disable=SC2086 # VM_QEMU_ARGS is a list of options
  "${pin[@]}" qemu-system-x86_64 -accel tcg,thread="${VM_TCG_THREAD:-single}" -cpu max -m "${VM_MEMORY:-1024}" -smp 2 \
    -nodefaults -display none -no-reboot \
    -chardev file,id=con,path="$VM_LOG" -serial chardev:con \
    -chardev stdio,id=out,signal=off -serial chardev:out \
    "$@" ${VM_QEMU_ARGS:-} </dev/null 2>"$VM_SCRATCH/qemu.err" &
  VM_QEMU_PID=$!
  while kill -0 "$VM_QEMU_PID" 2>/dev/null; do
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      kill -KILL "$VM_QEMU_PID" 2>/dev/null
      wait "$VM_QEMU_PID" 2>/dev/null
      VM_QEMU_PID=
      echo "$VM_PROG: timed out after $timeout s; killed the VM; kernel log: $VM_LOG" >&2
      vm_report_problems
      return "$VM_EXIT_TIMEOUT"
    fi
    if [ -z "$fatal_at" ] && grep -a -q -E "$VM_FATAL_RE" "$VM_LOG"; then
      fatal_at=$SECONDS
    fi
    if [ -n "$fatal_at" ] && [ $((SECONDS - fatal_at)) -ge "$VM_FATAL_GRACE" ]; then
      kill -KILL "$VM_QEMU_PID" 2>/dev/null
      break
    fi
    # A WARNING lets the command finish, but a guest that reported a problem (a soft
    # lockup, an RCU stall) and then hangs must not hold the run until the timeout.
    if [ -z "$problem_at" ] && grep -a -q -E "$VM_PROBLEM_RE" "$VM_LOG"; then
      problem_at=$SECONDS
    fi
    if [ -n "$problem_at" ] && [ $((SECONDS - problem_at)) -ge "${VM_PROBLEM_GRACE:-90}" ]; then
      echo "$VM_PROG: the guest reported a problem and did not finish within" \
        "${VM_PROBLEM_GRACE:-90} s; killed the VM" >&2
      kill -KILL "$VM_QEMU_PID" 2>/dev/null
      break
    fi
    sleep 0.2
  done
  wait "$VM_QEMU_PID" 2>/dev/null
  qemu_rc=$?
  VM_QEMU_PID=
  VM_ELAPSED=$((SECONDS - start))
  vm_note "guest ran $VM_ELAPSED s; kernel log: $VM_LOG"

  if vm_report_problems; then
    echo "$VM_PROG: the guest kernel reported a problem (above); kernel log: $VM_LOG" >&2
    return "$VM_EXIT_HARNESS"
  fi
  # Taint flags D (oops, 128) and W (warning, 512) catch what a lowered console log level
  # kept off the console.
  taint=$(grep -a -o 'KPATCH-VM-TAINTED=[0-9]*' "$VM_LOG" | tail -n 1 | cut -d= -f2)
  if [ $(( ${taint:-0} & 640 )) -ne 0 ]; then
    echo "$VM_PROG: the guest kernel is tainted $taint (an oops or a WARNING happened," \
      "off the console); kernel log: $VM_LOG" >&2
    return "$VM_EXIT_HARNESS"
  fi
  status=$(vm_exit_marker "$VM_LOG")
  if [ -z "$status" ]; then
    echo "$VM_PROG: the guest stopped without reporting the command's exit status" \
      "(qemu exit status $qemu_rc); kernel log: $VM_LOG" >&2
    problems=$(tail -n 5 "$VM_SCRATCH/qemu.err" 2>/dev/null)
    [ -n "$problems" ] && printf '%s\n' "$problems" | sed "s/^/$VM_PROG: qemu: /" >&2
    return "$VM_EXIT_HARNESS"
  fi
  return "$status"
}

# Prints the kernel log's problem lines (at most 6, with the RIP line that says where)
# and succeeds if there were any.
vm_report_problems() {
  local lines
  grep -a -q -E "$VM_PROBLEM_RE" "$VM_LOG" || return 1
  lines=$(grep -a -E "$VM_PROBLEM_RE|RIP: 0010:" "$VM_LOG" | tr -d '\r' | head -n 6)
  printf '%s\n' "$lines" | sed "s/^/$VM_PROG: guest kernel: /" >&2
  return 0
}
