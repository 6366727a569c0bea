# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
# Shared settings for the project's scripts: pinned versions, cache paths and
# the make variables every kernel and module build uses. Source it, don't run it.

# Pinned toolchain (see Documentation/building.rst for why these versions).
KVER=6.12.117
KPKG_VERSION=6.12.117-1~deb12u1
RUST_VERSION=1.85.0+dfsg3-1~deb12u3
LLVM_SUFFIX=-19
BINDGEN_VERSION=0.69.5

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VPI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-pci-intrs}
BINDGEN_ROOT=$CACHE/bindgen-$BINDGEN_VERSION
BINDGEN=$BINDGEN_ROOT/bin/bindgen
LIBCLANG_PATH=/usr/lib/llvm${LLVM_SUFFIX}/lib
export LIBCLANG_PATH

# Every make of the kernel or of the module uses exactly these variables:
# Debian's rustc-web (the `kernel` crate metadata is specific to one rustc),
# clang/lld from LLVM 19 and our pinned bindgen.
KMAKE=(make "LLVM=$LLVM_SUFFIX" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
       RUSTFMT=/usr/bin/rustfmt CLIPPY_DRIVER=/usr/bin/clippy-driver
       "BINDGEN=$BINDGEN")

# Runs "$@" holding the checkout's build lock: the module's builds (make
# module, its tests, clippy, rustdoc) write the same objects, so two at once
# (two terminals, or a test run beside a lint) would corrupt each other.
modlock() {
	mkdir -p "$TOP/build"
	flock "$TOP/build/.kbuild.lock" "$@"
}

# The kernel flavour: "debug" (tests) or "release" (benchmarks).
FLAVOUR=${FLAVOUR:-debug}

# Prints a step header and remembers when it started.
step() {
	STEP_NAME=$*
	STEP_START=$(date +%s)
	echo "==> $STEP_NAME"
}

# Prints how long the current step took.
step_done() {
	echo "==> $STEP_NAME: done in $(($(date +%s) - STEP_START)) s"
}

die() {
	echo "error: $*" >&2
	exit 1
}

# The key of a kernel build: source version, toolchain, config fragments and
# patches. Anything that changes the kernel binary must be part of it.
kernel_key() {
	(
		echo "$KVER $RUST_VERSION $LLVM_SUFFIX $BINDGEN_VERSION $FLAVOUR"
		cat "$TOP"/tools/kernel/base.config "$TOP/tools/kernel/$FLAVOUR.config"
		cat "$TOP"/tools/kernel/patches/*.patch 2>/dev/null
	) | sha256sum | cut -c1-16
}

# The kernel tree of the current flavour (source and objects together).
kernel_dir() {
	echo "$CACHE/linux-$KVER-$FLAVOUR-$(kernel_key)"
}
