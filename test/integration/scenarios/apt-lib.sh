# shellcheck shell=bash
# Host side of apt-repo.test: the packages of a local apt repository (licence: GPL-2.0-only).
#
# kpatch itself is packaged here from the binaries already built, not with `make deb`:
# dpkg-buildpackage rebuilds everything from a clean copy (and needs debhelper), minutes
# the suite does not have. The package has the real one's trigger and postinst
# (debian/kpatch.triggers, debian/kpatch.postinst), with the debhelper part that enables
# kpatchd written out; its shared libraries are not declared (the guest gets them from the
# harness, which copies a host program's libraries where the image lacks them).

# apt_kpatch_deb OUT KPATCHCTL KPATCHD: writes OUT/kpatch_<version>_amd64.deb.
apt_kpatch_deb() {
  local out=$1 ctl=$2 daemon=$3 stage=$SCENARIO_TMP/kpatch-stage version
  version=$(sed -n "s/^ *version : '\(.*\)',$/\1/p" "$REPO/meson.build" | head -n 1)
  rm -rf "$stage" && mkdir -p "$stage/DEBIAN" "$stage/usr/sbin" "$stage/lib/systemd/system" ||
    fail "cannot make $stage"
  # Stripped, as dh_strip does (the .deb is then a tenth of the size).
  install -s -m 755 "$ctl" "$stage/usr/sbin/kpatchctl" && install -s -m 755 "$daemon" "$stage/usr/sbin/kpatchd" ||
    fail "cannot stage kpatchctl and kpatchd"
  sed 's|@sbindir@|/usr/sbin|' "$REPO/daemon/kpatchd.service.in" >"$stage/lib/systemd/system/kpatchd.service"
  install -m 644 "$REPO/debian/kpatch.triggers" "$stage/DEBIAN/triggers"
  # dh_installsystemd's part of the postinst: enable the unit.
  sed 's|^#DEBHELPER#$|if [ "$1" = configure ]; then systemctl enable kpatchd.service; fi|' \
    "$REPO/debian/kpatch.postinst" >"$stage/DEBIAN/postinst" && chmod 755 "$stage/DEBIAN/postinst"
  cat >"$stage/DEBIAN/control" <<EOF
Package: kpatch
Version: $version
Architecture: amd64
Maintainer: kpatch tests <root@localhost>
Depends: kmod
Description: live kernel patching (test build from the binaries of build/)
 kpatchctl and kpatchd as debian/ packages them, for the apt scenario.
EOF
  dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/kpatch_${version}_amd64.deb" >/dev/null ||
    fail "dpkg-deb could not build the kpatch package"
}

# apt_kernel_standin OUT: linux-image-$KVER at the host's version, with no files. The guest
# boots the host's kernel directly, so its dpkg database does not know the package the
# patch packages depend on; this stand-in has that exact name and version.
apt_kernel_standin() {
  local out=$1 stage=$SCENARIO_TMP/image-stage version
  version=$(dpkg-query -W -f='${Version}' "linux-image-$KVER" 2>/dev/null) ||
    skip "linux-image-$KVER is not installed on the host"
  rm -rf "$stage" && mkdir -p "$stage/DEBIAN" || fail "cannot make $stage"
  cat >"$stage/DEBIAN/control" <<EOF
Package: linux-image-$KVER
Version: $version
Architecture: amd64
Maintainer: kpatch tests <root@localhost>
Description: stand-in for the kernel the guest boots (no files)
EOF
  dpkg-deb --root-owner-group --build "$stage" "$out/linux-image-${KVER}_${version}_amd64.deb" >/dev/null ||
    fail "dpkg-deb could not build the kernel stand-in"
}

# apt_repo DIR: the index apt reads from a flat repository ("deb [trusted=yes] file:DIR ./").
apt_repo() {
  (cd "$1" && apt-ftparchive packages . >Packages) || fail "apt-ftparchive packages failed in $1"
}
