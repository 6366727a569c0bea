#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Differential test with a second real VFIO client: vfio_ioctls_client
# (tools/vfio-ioctls-client, built on rust-vmm's vfio-ioctls crate) drives
# the oracle ($VPI_ORACLE_BDF, bound to vfio-pci), then its twin ($VPI_BDF,
# bound to vfio-pci-intrs), an edu or an igb, and prints a transcript of
# each: every call's result, the IRQ info, the eventfd counts after the
# device raised interrupts. Fails when a run does not end with every result
# as expected (each interrupt counted exactly as often as raised, each call
# as upstream returns it) or when the two transcripts differ.
set -eu

client=$(cd "$(dirname "$0")" && pwd)/vfio_ioctls_client
if [ -z "${VPI_ORACLE_BDF:-}" ] || [ -z "${VPI_BDF:-}" ]; then
	echo "SKIP: no twin pair (VPI_ORACLE_BDF on vfio-pci, VPI_BDF on vfio-pci-intrs)"
	exit 4
fi
if ! [ -x "$client" ]; then
	echo "FAIL: $client is missing"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME BDF: the transcript into $tmp/NAME; prints the exit status.
run() {
	rc=0
	"$client" "$2" >"$tmp/$1" 2>&1 || rc=$?
	echo "$rc"
}

orc=$(run oracle "$VPI_ORACLE_BDF")
src=$(run subject "$VPI_BDF")
fail=0

echo "transcript of $VPI_BDF (vfio-pci-intrs), exit status $src:"
sed 's/^/  /' "$tmp/subject"
if [ "$orc" != 0 ]; then
	echo "transcript of $VPI_ORACLE_BDF (vfio-pci), exit status $orc:"
	sed 's/^/  /' "$tmp/oracle"
	echo "FAIL: on the oracle $VPI_ORACLE_BDF (vfio-pci), vfio_ioctls_client exited with $orc"
	fail=1
fi
if [ "$src" != 0 ]; then
	echo "FAIL: on $VPI_BDF (vfio-pci-intrs), vfio_ioctls_client exited with $src"
	fail=1
fi
if ! grep -qx 'mismatches: 0' "$tmp/oracle" || ! grep -qx 'mismatches: 0' "$tmp/subject"; then
	echo "FAIL: a transcript does not end with 'mismatches: 0'"
	fail=1
fi
if ! diff -u "$tmp/oracle" "$tmp/subject" >"$tmp/diff"; then
	echo "FAIL: the transcripts differ (- vfio-pci $VPI_ORACLE_BDF, + vfio-pci-intrs $VPI_BDF):"
	cat "$tmp/diff"
	fail=1
else
	echo "transcripts identical: $(wc -l <"$tmp/subject") lines"
fi
exit "$fail"
