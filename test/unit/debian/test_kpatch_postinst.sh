#!/bin/bash
# kpatch's trigger kpatch-unload (debian/kpatch.postinst "triggered") on a scratch system:
# what patch packages left pending is unloaded when loaded, uninstalled, left alone when a
# package owns it again, and kept pending (the postinst fails) when it cannot unload.
# Runs itself again in a private mount namespace with tmpfs over /var/lib and /sys/kernel
# and a kpatchctl stub that logs its calls (licence: GPL-2.0-only).
set -u
postinst=$(readlink -f "$1")
if [ -z "${KPATCH_TEST_IN_NS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "skipped: needs root for a private mount namespace"; exit 77; }
  exec env KPATCH_TEST_IN_NS=1 unshare --mount --propagation private bash "$0" "$@"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mount -t tmpfs none /var/lib && mount -t tmpfs none /sys/kernel ||
  { echo "skipped: cannot mount tmpfs in a private namespace"; exit 77; }
mkdir -p /var/lib/kpatch/packages "$tmp/bin"
cat >"$tmp/bin/kpatchctl" <<'STUB'
#!/bin/sh
echo "$*" >>"$CALLS"
[ "$1" = -q ] && shift
case $1 in
unload) [ "$2" = kpatch_d_v1 ] && { echo "busy" >&2; exit 5; }; rmdir "/sys/kernel/kpatch/$2" ;;
uninstall) [ "$4" = kpatch-b-v1 ] && exit 3; exit 0 ;;  # b: the cumulative's install dropped it
esac
STUB
chmod 755 "$tmp/bin/kpatchctl"
export PATH="$tmp/bin:$PATH" CALLS=$tmp/calls

K=6.1.0-57-amd64
# a: loaded; b: replaced already (not loaded, not in the store); c: reinstalled in the same
# run (its package's record names it again); d: busy.
mkdir -p /sys/kernel/kpatch/kpatch_a_v1 /sys/kernel/kpatch/kpatch_c_v1 /sys/kernel/kpatch/kpatch_d_v1
echo kpatch-c-v1 >"/var/lib/kpatch/packages/kpatch-patch-c-$K"
printf '%s kpatch-%s-v1\n' "$K" a "$K" b "$K" c "$K" d >/var/lib/kpatch/packages/unload-pending

sh "$postinst" triggered "other-trigger" >"$tmp/out" 2>&1 || fail "another trigger: exit $?"
[ ! -e "$CALLS" ] || fail "another trigger ran kpatchctl: $(cat "$CALLS")"

sh "$postinst" triggered "kpatch-unload" >"$tmp/out" 2>&1
status=$?
[ "$status" -eq 1 ] || fail "a patch that cannot unload must fail the postinst (exit $status)"
grep -q "kpatch-d-v1 stays loaded" "$tmp/out" || fail "no message names the busy patch: $(cat "$tmp/out")"
want="unload kpatch_a_v1
-q uninstall -k $K kpatch-a-v1
-q uninstall -k $K kpatch-b-v1
unload kpatch_d_v1"
[ "$(cat "$CALLS")" = "$want" ] || fail "kpatchctl calls:"$'\n'"$(cat "$CALLS")"$'\n'"expected:"$'\n'"$want"
[ -d /sys/kernel/kpatch/kpatch_c_v1 ] || fail "the reinstalled patch was unloaded"
[ "$(cat /var/lib/kpatch/packages/unload-pending)" = "$K kpatch-d-v1" ] ||
  fail "pending after the run: '$(cat /var/lib/kpatch/packages/unload-pending)', expected only d"
[ ! -e /var/lib/kpatch/packages/unload-pending.run ] || fail "the work list was left behind"

# dpkg --configure -a, once d is no longer busy, finishes the job.
sed -i 's/kpatch_d_v1/none/' "$tmp/bin/kpatchctl"
: >"$CALLS"
sh "$postinst" triggered "kpatch-unload" >"$tmp/out" 2>&1 || fail "second run: exit $?: $(cat "$tmp/out")"
[ "$(cat "$CALLS")" = "unload kpatch_d_v1
-q uninstall -k $K kpatch-d-v1" ] || fail "second run's calls: $(cat "$CALLS")"
[ ! -s /var/lib/kpatch/packages/unload-pending ] || fail "still pending: $(cat /var/lib/kpatch/packages/unload-pending)"

[ "$failures" -eq 0 ] && echo "kpatch.postinst trigger: all checks passed"
exit $((failures > 0))
