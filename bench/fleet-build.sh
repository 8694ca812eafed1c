#!/bin/bash
# A fleet-sized kpatch-build run (issue 13): one patch for three Debian kernel ABIs in one
# run with --deb, from an empty cache (cold: downloads, tree preparation, core module,
# objects) and again with that cache (warm). Prints the wall time of each run, kpatch-build's
# per-kernel table, the bytes of the cache and of each package, and warm / cold.
# Kernels: FLEET_KERNELS (default: the target kernel and 6.1.0-56 and 6.1.0-54, two older
# ABIs whose exact sources Debian's archive keeps). Prints figures, asserts nothing.
# SPDX-License-Identifier: GPL-2.0-only
set -uo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build}
KVER=${KVER:-$("$REPO/scripts/target-kernel-release")}
KPATCH_BUILD=$BUILD_DIR/kpatch-build/driver/kpatch-build
PATCH=$REPO/examples/cmdline-banner.patch
read -r -a kernels <<<"${FLEET_KERNELS:-$KVER 6.1.0-56-amd64 6.1.0-54-amd64}"

[ -x "$KPATCH_BUILD" ] || { echo "bench: no $KPATCH_BUILD; run make"; exit 1; }
cache=$(mktemp -d "$BUILD_DIR/bench-fleet-cache.XXXXXX")
out=$(mktemp -d "$BUILD_DIR/bench-fleet-out.XXXXXX")
trap 'rm -rf "$cache" "$out"' EXIT
kargs=()
for k in "${kernels[@]}"; do kargs+=(-k "$k"); done

declare -A secs
# run LABEL: one multi-kernel kpatch-build run into $out/LABEL, timed
run() {
  local label=$1 start end
  mkdir -p "$out/$label"
  start=$(date +%s.%N)
  KPATCH_CACHE_DIR="$cache" "$KPATCH_BUILD" "${kargs[@]}" --deb -n fleet-bench \
    -o "$out/$label" "$PATCH" >"$out/$label.log" 2>&1
  local rc=$?
  end=$(date +%s.%N)
  secs[$label]=$(echo "$end - $start" | bc)
  echo "--- $label run: exit $rc, $(printf '%.1f' "${secs[$label]}") s; kpatch-build's table:"
  # The table is the run's last lines, after the per-step progress.
  sed -n '/^KERNEL /,$p' "$out/$label.log" | sed 's/^/  /'
  [ "$rc" -eq 0 ] || { echo "bench: the $label run failed; its log:"; tail -n 20 "$out/$label.log"; exit 1; }
}

run cold
cold_cache=$(du -sb "$cache" | cut -f1)
run warm
printf 'machine load when done: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'kernels: %s\n' "${kernels[*]}"
printf 'cold: %7.1f s   warm: %7.1f s   warm / cold: %.3f   warm per kernel: %.1f s\n' \
  "${secs[cold]}" "${secs[warm]}" "$(echo "${secs[warm]} / ${secs[cold]}" | bc -l)" \
  "$(echo "${secs[warm]} / ${#kernels[@]}" | bc -l)"
printf 'cache after the cold run: %d MB (downloads, prepared trees, cores, objects)\n' $((cold_cache / 1048576))
echo "packages of the warm run (bytes):"
find "$out/warm" -name '*.deb' -printf '  %s  %P\n' | sort -k2
echo "modules of the warm run (bytes):"
find "$out/warm" -name '*.ko' -printf '  %s  %P\n' | sort -k2
