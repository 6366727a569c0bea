#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs what the project needs on Debian 12, and nothing when all of it is
# already there: Debian's linux-source-6.12, rustc-web 1.85 with its sources,
# cargo, clippy and rustfmt, LLVM 19, the kernel's build dependencies, QEMU 10
# from bookworm-backports (for the igb device), and bindgen-cli from crates.io
# (the crates of tools/vfio-ioctls-client come from there too, at build time).
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

APT_PKGS=(
	"linux-source-6.12=$KPKG_VERSION"
	"rustc-web=$RUST_VERSION" "rust-web-src=$RUST_VERSION"
	"libstd-rust-web-dev=$RUST_VERSION" "libstd-rust-web-1.85=$RUST_VERSION"
	"rust-web-clippy=$RUST_VERSION" "rustfmt-web=$RUST_VERSION"
	"cargo-web=$RUST_VERSION"
	clang-19 lld-19 llvm-19 libclang-19-dev
	flex bison bc libelf-dev libssl-dev cpio kmod xz-utils make gcc
	libc6-dev python3 perl busybox-static pciutils shellcheck
	python3-matplotlib
)
QEMU_MIN=10

# Every package at the pinned version (or any version where none is pinned)?
apt_missing() {
	local p name want have
	for p in "${APT_PKGS[@]}"; do
		name=${p%%=*}
		want=${p#*=}
		[ "$want" = "$p" ] && want=
		have=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$name" 2>/dev/null || true)
		case "$have" in
		"installed $want"*) [ -z "$want" ] || [ "$have" = "installed $want" ] || echo "$p" ;;
		*) echo "$p" ;;
		esac
	done
}

qemu_ok() {
	local v
	command -v qemu-system-x86_64 >/dev/null || return 1
	v=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p')
	[ "${v:-0}" -ge "$QEMU_MIN" ]
}

need_root() {
	[ "$(id -u)" = 0 ] || die "installing packages needs root; run: sudo $0"
}

missing=$(apt_missing)
if [ -n "$missing" ] || ! qemu_ok; then
	need_root
	step "apt: installing ${missing//$'\n'/ } (and QEMU >= $QEMU_MIN)"
	export DEBIAN_FRONTEND=noninteractive
	src=/etc/apt/sources.list.d/bookworm-backports.sources
	if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
		cat >"$src" <<-EOF
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	fi
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	qemu_ok || apt-get install -y -qq --no-install-recommends -t bookworm-backports \
		qemu-system-x86 >/dev/null
	qemu_ok || die "QEMU >= $QEMU_MIN is not available"
	step_done
fi

if ! [ -x "$BINDGEN" ] || ! "$BINDGEN" --version | grep -q "$BINDGEN_VERSION"; then
	step "cargo: installing bindgen-cli $BINDGEN_VERSION into $BINDGEN_ROOT"
	mkdir -p "$CACHE"
	/usr/bin/cargo install -q bindgen-cli --locked --version "$BINDGEN_VERSION" \
		--root "$BINDGEN_ROOT"
	step_done
fi
