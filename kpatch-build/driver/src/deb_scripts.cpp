// The maintainer scripts of the packages kpatch-build writes; the order they run in is
// in deb_scripts.hpp (licence: GPL-2.0-only).
#include "deb_scripts.hpp"

namespace kpatch::driver::deb {

namespace {

std::string replace_all(std::string text, const std::string &from, const std::string &to)
{
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// The running kernel's GNU build id (type 3, name "GNU") from its ELF notes, in lowercase
// hex as kpatch-build records it. $KPATCH_KERNEL_NOTES overrides the file, as for kpatchctl.
const char kBuildIdFunction[] = R"SH(running_build_id() {
	od -An -v -tx1 "${KPATCH_KERNEL_NOTES:-/sys/kernel/notes}" 2>/dev/null | awk '
	function h(x) { return (index("0123456789abcdef", substr(x, 1, 1)) - 1) * 16 + index("0123456789abcdef", substr(x, 2, 1)) - 1 }
	function le32(o) { return h(b[o]) + 256 * h(b[o + 1]) + 65536 * h(b[o + 2]) + 16777216 * h(b[o + 3]) }
	{ for (i = 1; i <= NF; i++) b[n++] = $i }
	END {
		o = 0
		while (o + 12 <= n) {
			namesz = le32(o); descsz = le32(o + 4); type = le32(o + 8)
			d = o + 12 + int((namesz + 3) / 4) * 4
			if (type == 3 && namesz == 4 && b[o + 12] b[o + 13] b[o + 14] == "474e55") {
				id = ""
				for (i = 0; i < descsz; i++) id = id b[d + i]
				print id
				exit
			}
			o = d + int((descsz + 3) / 4) * 4
		}
	}'
}
)SH";

const char kPostinst[] = R"SH(#!/bin/sh
# postinst of @PACKAGE@, written by kpatch-build: installs the live patch @MODULE@ for
# @KABI@ and loads it when the running kernel is that exact build (release and build id:
# Debian keeps the release string across uploads of one ABI).
set -e
KABI=@KABI@
MODULE=@MODULE@
FILE=@FILE@
BUILD_ID=@BUILD_ID@
STATE=/var/lib/kpatch/packages/@PACKAGE@

@BUILD_ID_FUNCTION@
loaded() {
	[ -d "/sys/kernel/kpatch/$(echo "$1" | tr - _)" ]
}

case "$1" in
configure)
	previous=$(cat "$STATE" 2>/dev/null || true)
	kpatchctl -q install -k "$KABI" "$FILE"
	running=$(running_build_id)
	if [ "$(uname -r)" != "$KABI" ]; then
		echo "@PACKAGE@: installed for $KABI; not loaded: the running kernel is $(uname -r)"
	elif [ "$running" != "$BUILD_ID" ]; then
		echo "@PACKAGE@: installed; not loaded: the running $KABI has build id ${running:-unknown}, the patch was built for $BUILD_ID"
	elif ! loaded "$MODULE"; then
		# A cumulative patch replaces, in the same switch, every patch loaded before it.
		kpatchctl load "$FILE" || {
			echo "@PACKAGE@: $MODULE is installed (kpatchd loads it at boot) but did not load now; 'dpkg --configure -a' tries again" >&2
			exit 1
		}
	fi
	# An upgrade of this package: the previous version's module goes now that the new
	# one is live (a cumulative one has replaced it already).
	if [ -n "$previous" ] && [ "$previous" != "$MODULE" ]; then
		if loaded "$previous"; then kpatchctl unload "$(echo "$previous" | tr - _)"; fi
		kpatchctl -q uninstall -k "$KABI" "$previous" 2>/dev/null || true
	fi
	mkdir -p "$(dirname "$STATE")"
	echo "$MODULE" >"$STATE"
	;;
esac
exit 0
)SH";

// The unload is deferred to kpatch's trigger (see deb_scripts.hpp): apt removes a package
// that a cumulative one conflicts with before it unpacks the new one, and nothing tells
// this script which case it is in.
const char kPrerm[] = R"SH(#!/bin/sh
# prerm of @PACKAGE@, written by kpatch-build: on removal the live patch @MODULE@ stays
# loaded until the end of the dpkg run, when kpatch's trigger unloads and uninstalls it
# unless a cumulative patch installed in the same run has replaced it already: apt
# removes a package that a newer cumulative one conflicts with before unpacking that one.
set -e
case "$1" in
remove|deconfigure)
	mkdir -p /var/lib/kpatch/packages
	echo "@KABI@ @MODULE@" >>/var/lib/kpatch/packages/unload-pending
	dpkg-trigger --no-await kpatch-unload
	;;
esac
exit 0
)SH";

const char kPostrm[] = R"SH(#!/bin/sh
# postrm of @PACKAGE@, written by kpatch-build.
set -e
case "$1" in
remove|purge|abort-install)
	rm -f /var/lib/kpatch/packages/@PACKAGE@
	;;
esac
exit 0
)SH";

const char kCorePostinst[] = R"SH(#!/bin/sh
# postinst of kpatch-modules-@KABI@, written by kpatch-build: modprobe finds the new module.
set -e
if [ "$1" = configure ] && [ -e /lib/modules/@KABI@/modules.dep ]; then
	depmod -a @KABI@
fi
exit 0
)SH";

const char kCorePostrm[] = R"SH(#!/bin/sh
# postrm of kpatch-modules-@KABI@, written by kpatch-build.
set -e
if [ "$1" = remove ] && [ -e /lib/modules/@KABI@/modules.dep ]; then
	depmod -a @KABI@
fi
exit 0
)SH";

} // namespace

PatchScripts patch_scripts(const std::string &package, const std::string &kernel_release,
                           const std::string &module, const std::string &file,
                           const std::string &build_id)
{
    auto fill = [&](std::string text) {
        text = replace_all(std::move(text), "@BUILD_ID_FUNCTION@", kBuildIdFunction);
        text = replace_all(std::move(text), "@PACKAGE@", package);
        text = replace_all(std::move(text), "@KABI@", kernel_release);
        text = replace_all(std::move(text), "@MODULE@", module);
        text = replace_all(std::move(text), "@FILE@", file);
        return replace_all(std::move(text), "@BUILD_ID@", build_id);
    };
    return {fill(kPostinst), fill(kPrerm), fill(kPostrm)};
}

CoreScripts core_scripts(const std::string &kernel_release)
{
    return {replace_all(kCorePostinst, "@KABI@", kernel_release),
            replace_all(kCorePostrm, "@KABI@", kernel_release)};
}

} // namespace kpatch::driver::deb
