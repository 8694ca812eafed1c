#!/bin/bash
# Checks kpatchctl's bash completion: verbs, installed names, loaded names (licence: GPL-2.0-only).
set -u
. "$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/store/9.9.9-test" "$tmp/sys/kpatch_loaded"
printf 'kpatch_a\nkpatch_b\n' >"$tmp/store/9.9.9-test/order"
export KPATCH_INSTALL_ROOT=$tmp/store KPATCH_SYSFS_ROOT=$tmp/sys
uname() { echo 9.9.9-test; }
status=0
expect() {
  local want=$1
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _kpatchctl
  if [ "${COMPREPLY[*]}" != "$want" ]; then
    echo "completing '$*': got '${COMPREPLY[*]}', want '$want'"
    status=1
  fi
}
cd "$tmp" || exit 1
expect "load unload list install uninstall info verify status" kpatchctl ""
expect "unload uninstall" kpatchctl un
expect "kpatch_a kpatch_b" kpatchctl uninstall ""
expect "kpatch_a kpatch_b" kpatchctl -q load kp
expect "kpatch_loaded --all" kpatchctl unload ""
expect "--all" kpatchctl unload --a
expect "--kernel-release" kpatchctl install --ker
[ $status -eq 0 ] && echo "completion: ok"
exit $status
