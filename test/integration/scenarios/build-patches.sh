# SPDX-License-Identifier: GPL-2.0-only
# The body of build-patches-N.test: every patch under test/integration/patches with a guest
# check (and no module) in shard SHARD ("I/N": the I-th of every N, in name order) builds
# with kpatch-build, loads in one VM, shows its new behaviour and unloads back to the
# original. The shards exist so that run-all --jobs can build two halves side by side.
. "$REPO/test/integration/lib/scenario.sh"
. "$REPO/test/integration/scenarios/build-lib.sh"

[ -x "$KPATCH_BUILD" ] || skip "no kpatch-build at $KPATCH_BUILD"
[ -r "$BUILD_DIR/kmod/kpatch.ko" ] || skip "no core module at $BUILD_DIR/kmod/kpatch.ko"
kallsyms=$(target_kallsyms) || fail "could not read /proc/kallsyms in the VM"

out=$SCENARIO_TMP/modules
mkdir -p "$out"
guest=$SCENARIO_TMP/guest.sh
modules=() files=() failures=0 names=()
cat >"$guest" <<'SH'
# Runs in the guest: for each NAME, original -> load -> patched -> unload -> original.
insmod /kpatch/kpatch.ko || { echo "FAIL (all): kpatch.ko does not load"; exit 1; }
load() {
  if command -v kpatchctl >/dev/null; then kpatchctl -q load "/kpatch/$1.ko"
  else insmod "/kpatch/$1.ko"; fi
}
unload() {
  mod=$(echo "$1" | tr - _)
  if command -v kpatchctl >/dev/null; then kpatchctl -q unload "$mod"
  else echo 0 >"/sys/kernel/kpatch/$mod/enabled" && rmmod "$mod"; fi
}
run_one() {
  name=$1 check=/kpatch/checks/$1.check
  sh "$check" original || { echo "FAIL $name: the original behaviour is not there before loading"; return; }
  if [ -e "/kpatch/kpatch-$name-over.ko" ]; then   # a cumulative patch: what it replaces first
    load "kpatch-$name-over" || { echo "FAIL $name: loading the patch it replaces failed"; return; }
    sh "$check" over || { echo "FAIL $name: the replaced patch's behaviour is not there"; return; }
  fi
  load "kpatch-$name" || { echo "FAIL $name: loading failed: $(cat /sys/kernel/kpatch/last_error 2>/dev/null)"; return; }
  sh "$check" patched || { echo "FAIL $name: the patched behaviour is not there after loading"; unload "kpatch-$name"; return; }
  unload "kpatch-$name" || { echo "FAIL $name: unloading failed"; return; }
  sh "$check" original || { echo "FAIL $name: the original behaviour is not back after unloading"; return; }
  echo "PASS $name"
}
for name in $NAMES; do run_one "$name"; done
SH

shard_index=${SHARD%/*} shard_count=${SHARD#*/} index=0
for check in "$PATCHES"/*.check; do
  name=$(basename "$check" .check)
  [ "$(header "$check" expect-exit)" = "" ] || continue
  [ "$(header "$check" modules)" = "" ] || continue   # build-module-patches.test
  index=$((index + 1))
  [ $(((index - 1) % shard_count + 1)) -eq "$shard_index" ] || continue
  start=$(date +%s)
  if ! build_check "$check" "$out" "$kallsyms"; then
    echo "FAIL $name: kpatch-build exited $?: $(tail -5 "$out/$name.err")"
    failures=$((failures + 1))
    continue
  fi
  problem=$(check_functions "$check" "$out/$name.json")
  if [ -n "$problem" ]; then
    echo "FAIL $name: $problem"
    failures=$((failures + 1))
    continue
  fi
  echo "built $name in $(( $(date +%s) - start )) s"
  modules+=(--module "$out/kpatch-$name.ko")
  [ ! -e "$out/kpatch-$name-over.ko" ] || modules+=(--module "$out/kpatch-$name-over.ko")
  files+=(--file "$check:checks/$name.check")
  names+=("$name")
done
[ ${#names[@]} -gt 0 ] || fail "no module was built"

result=$("$VM_RUN" "${modules[@]}" "${files[@]}" --file "$guest:guest.sh" -- \
  "NAMES='${names[*]}' sh /kpatch/guest.sh")
status=$?
echo "$result"
[ $status -eq 0 ] || fail "the VM run failed (status $status)"
passed=$(echo "$result" | grep -c '^PASS ')
vm_failures=$(echo "$result" | grep -c '^FAIL ')
echo "build-patches $SHARD: ${#names[@]} built, $passed passed in the VM, $((failures + vm_failures)) failed"
[ $((failures + vm_failures)) -eq 0 ] || fail "$((failures + vm_failures)) patch(es) failed"
[ "$passed" -eq ${#names[@]} ] || fail "only $passed of ${#names[@]} modules reported PASS"
