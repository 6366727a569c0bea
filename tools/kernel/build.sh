#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the guest kernel of one flavour (FLAVOUR=debug|release) in the cache
# outside the repository: unpack Debian's linux-source-6.12, apply
# tools/kernel/patches/*.patch, configure from tinyconfig plus the committed
# fragments, check that every requested option stuck, build. The tree is keyed
# by version, toolchain, fragments and patches, so a second run does nothing.
# The tree's path is `kernel_dir` of tools/lib.sh.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/../lib.sh"

KDIR=$(kernel_dir)
mkdir -p "$CACHE"

up_to_date() {
	if [ -f "$KDIR/.vpi-built" ]; then
		echo "==> kernel $KVER ($FLAVOUR) is up to date in $KDIR"
		exit 0
	fi
}

# A built tree is never touched again: no need to wait for a build of
# another flavour to see that.
up_to_date
# One kernel build at a time on this machine, whoever starts it.
exec 9>"$CACHE/kernel-build.lock"
flock 9
up_to_date

if ! [ -f "$KDIR/Makefile" ]; then
	step "unpacking linux-source-$KVER into $KDIR"
	tarball=/usr/src/linux-source-6.12.tar.xz
	[ -f "$tarball" ] || die "$tarball is missing: run tools/install.sh"
	rm -rf "$KDIR.tmp"
	mkdir -p "$KDIR.tmp"
	tar xf "$tarball" -C "$KDIR.tmp" --strip-components=1
	grep -q "^SUBLEVEL = ${KVER##*.}$" "$KDIR.tmp/Makefile" ||
		die "$tarball is not $KVER"
	for p in "$TOP"/tools/kernel/patches/*.patch; do
		[ -e "$p" ] || continue
		echo "    applying $(basename "$p")"
		patch -d "$KDIR.tmp" -p1 --quiet --forward <"$p"
	done
	mv "$KDIR.tmp" "$KDIR"
	step_done
fi

cd "$KDIR"
step "configuring ($FLAVOUR)"
"${KMAKE[@]}" -s ARCH=x86_64 tinyconfig >/dev/null
frags=("$TOP/tools/kernel/base.config" "$TOP/tools/kernel/$FLAVOUR.config")
scripts/kconfig/merge_config.sh -m -O . .config "${frags[@]}" >/dev/null
"${KMAKE[@]}" -s ARCH=x86_64 olddefconfig >/dev/null
"${KMAKE[@]}" -s rustavailable >/dev/null || die "Rust is not available to the kernel build"

# Every option the fragments ask for must be in the final .config, as asked:
# Kconfig silently drops options whose dependencies are not met. A later
# fragment overrides an earlier one (as merge_config.sh does): the last
# value of each option counts.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		opt=${line%%=*}
		if grep -Eq "^$opt=" .config; then
			echo "    $opt is set, but the fragment asks for n" >&2
			bad=1
		fi
		;;
	CONFIG_*=*)
		if ! grep -qxF "$line" .config; then
			echo "    $line did not stick: $(grep -E "^(# )?${line%%=*}[= ]" .config || echo absent)" >&2
			bad=1
		fi
		;;
	esac
done < <(cat "${frags[@]}" | tac | awk -F= '!seen[$1]++')
[ "$bad" = 0 ] || die "kernel configuration does not match the fragments"
step_done

step "building kernel $KVER ($FLAVOUR) with $(nproc) jobs"
"${KMAKE[@]}" -s -j"$(nproc)" bzImage modules headers || die "kernel build failed"
step_done

touch .vpi-built
echo "==> kernel $KVER ($FLAVOUR) built in $KDIR"
