#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side checks, one TAP line each: rustfmt, clippy (warnings fail; also
# of the cargo crate tools/vfio-ioctls-client),
# rustdoc (warnings fail), checkpatch on the C sources and kernel patches,
# and a shell script check. Exits non-zero when any check fails.
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit
KDIR=$(kernel_dir)
n=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# check NAME COMMAND...: runs COMMAND; fails when it fails or prints a
# compiler warning; shows its output on failure.
check() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >"$out" 2>&1 && ! grep -qE '^(warning|error)(\[|:)' "$out"; then
		echo "ok $n lint: $name"
	else
		echo "not ok $n lint: $name"
		sed 's/^/# /' "$out" | head -60
		failed=$((failed + 1))
	fi
}

kbuild() {
	modlock "${KMAKE[@]}" -s -C "$KDIR" M="$TOP" "$@"
}

# Rebuilds the crate with the given extra make variables (a changed command
# line makes kbuild rebuild the crate), then restores the normal build.
crate_with() {
	touch src/vfio_pci_intrs_main.rs
	kbuild "$@" modules
	local rc=$?
	kbuild modules >/dev/null 2>&1
	return $rc
}

mapfile -t rs < <(git ls-files '*.rs')
mapfile -t csrc < <(git ls-files '*.c' '*.h' | grep -vx rust/exports.c)
mapfile -t patches < <(git ls-files 'tools/kernel/patches/*.patch')
mapfile -t shs < <(git ls-files '*.sh' .ci/run)

check rustfmt /usr/bin/rustfmt --check --config-path "$KDIR/.rustfmt.toml" "${rs[@]}"
check clippy crate_with CLIPPY=1 W=1
# The vfio-ioctls client (tools/vfio-ioctls-client) is a cargo crate: its
# sources are among the rustfmt files above; clippy runs through cargo.
check "clippy (vfio-ioctls-client)" tools/vfio-ioctls-client/cargo.sh clippy -q \
	--release --locked --target x86_64-unknown-linux-gnu -- -D warnings
check rustdoc kbuild VPI_RUSTDOC=1
checkpatch() {
	"$KDIR/scripts/checkpatch.pl" --no-tree --quiet --strict --show-types "$@"
}
# rust/exports.c exports functions defined in Rust, so no export can follow
# its definition.
check "checkpatch (C sources)" checkpatch -f "${csrc[@]}"
check "checkpatch (Rust exports)" checkpatch --ignore EXPORT_SYMBOL -f rust/exports.c
# A patch file that git tracks is read by checkpatch as a file added by a
# patch, not as a patch: check copies.
checkpatch_patches() {
	local tmp rc
	tmp=$(mktemp -d)
	cp "$@" "$tmp/"
	(cd "$tmp" && "$KDIR/scripts/checkpatch.pl" --no-tree --quiet --show-types ./*.patch)
	rc=$?
	rm -rf "$tmp"
	return $rc
}
if [ ${#patches[@]} -gt 0 ]; then
	check "checkpatch (kernel patches)" checkpatch_patches "${patches[@]}"
fi
# The guest scripts run under busybox ash, which has `local` and
# `set -o pipefail` (SC3043, SC3040 flag them for POSIX sh).
check shellcheck shellcheck -x -e SC3040,SC3043 "${shs[@]}"

echo "# lint: $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
