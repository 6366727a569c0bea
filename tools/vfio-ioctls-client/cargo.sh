#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Usage: tools/vfio-ioctls-client/cargo.sh CARGO_ARGS...
#
# Runs Debian's cargo (cargo-web, with rustc-web 1.85) on this crate, with
# crates.io's crates and the build outputs in the project's cache, outside
# the repository: $CACHE/cargo (CARGO_HOME) and $CACHE/vfio-ioctls-client
# (CARGO_TARGET_DIR). The binary is static (crt-static), for the guest's
# busybox initramfs; with --target x86_64-unknown-linux-gnu, the flag applies
# to it alone and not to the proc macros of its dependencies. The Debian
# tools come first in PATH, so that `cargo clippy` and `cargo fmt` find
# Debian's cargo-clippy and cargo-fmt rather than any other toolchain's.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/../lib.sh"

export CARGO_HOME=$CACHE/cargo
export CARGO_TARGET_DIR=$CACHE/vfio-ioctls-client
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
export PATH=/usr/bin:$PATH
unset RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER RUSTFLAGS CARGO_BUILD_RUSTFLAGS
[ -x /usr/bin/cargo ] || die "/usr/bin/cargo is missing: run tools/install.sh"
mkdir -p "$CACHE"
cd "$TOP/tools/vfio-ioctls-client"
exec /usr/bin/cargo "$@"
