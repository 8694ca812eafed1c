# shellcheck shell=bash
# Helpers for scenario scripts (test/integration/scenarios/*.test): verdicts that say
# why, and building the small fixture modules under lib/fixtures/. GPL-2.0-only.
#
# Source it first thing:  . "$REPO/test/integration/lib/scenario.sh"
# It sets -u, makes a private $SCENARIO_TMP (removed on exit) and checks run-all's variables.

set -u
: "${REPO:?run scenarios through test/integration/run-all}" "${BUILD_DIR:?}" "${VM_RUN:?}" \
  "${VM_SYSTEMD:?}" "${KVER:?}"
SCENARIO=$(basename "$0" .test)
SCENARIO_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$SCENARIO.XXXXXX")
trap 'rm -rf "$SCENARIO_TMP"' EXIT

# fail MESSAGE: the scenario fails, for this reason.
fail() {
  echo "FAIL: $SCENARIO: $*" >&2
  exit 1
}

# skip MESSAGE: the scenario cannot run here (run-all prints the message).
skip() {
  echo "skipped: $*"
  exit 77
}

# expect_status WANT GOT WHAT
expect_status() {
  [ "$2" -eq "$1" ] || fail "$3: exit status $2, expected $1"
}

# expect_contains TEXT NEEDLE WHAT
expect_contains() {
  case $1 in
    *"$2"*) ;;
    *) fail "$3: '$2' not found in:"$'\n'"$1" ;;
  esac
}

# fixture_module NAME: builds lib/fixtures/NAME (a Kbuild directory) for $KVER into
# BUILD_DIR/vm/fixtures/NAME and prints the path of NAME.ko.
fixture_module() {
  local name=$1 src=$REPO/test/integration/lib/fixtures/$1 out=$BUILD_DIR/vm/fixtures/$1
  local kdir=/lib/modules/$KVER/build
  [ -d "$kdir" ] || skip "no kernel headers at $kdir (linux-headers-$KVER)"
  mkdir -p "$out" && cp -p "$src"/* "$out/" || fail "cannot copy fixture '$name'"
  make -s -C "$kdir" M="$out" modules >"$out/build.log" 2>&1 ||
    fail "fixture module '$name' does not build: $(tail -n 5 "$out/build.log")"
  echo "$out/$name.ko"
}
