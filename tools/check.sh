#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the host-side checks (tools/lint.sh), then the guest test
# suite (tools/vm/guest/check.sh in the debug kernel), then the tests of
# exclusive INTx in a second boot (vfio_pci.nointxmask=1), then one
# summary. Every top-level TAP line counts (the second boot's named
# "nointxmask: ..."), plus, per guest run, two checks of the run itself: it
# finished, and its kernel log has no splat. The last line is
# "N passed, N failed"; the exit status is non-zero when anything failed.
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit
out=$TOP/build/check
mkdir -p "$out"

# The whole suite takes about 10 min on an idle 2-core machine; a loaded one
# can take several times that. A hung guest still ends here.
export VM_TIMEOUT=${VM_TIMEOUT:-2400}

# guest_run NAME VM_OUT [VM_APPEND] -- GUEST_ARGS...: one boot running
# tools/vm/guest/check.sh, its log in $out/NAME.log.
guest_run() {
	local name=$1 vm_out=$2 append=$3

	shift 4
	rm -f "$vm_out/results.tap"
	VM_OUT=$vm_out VM_APPEND=$append \
		tools/vm/run.sh tools/vm/guest/check.sh "$@" 2>&1 | tee "$out/$name.log"
}

# guest_summary NAME VM_OUT PREFIX: the TAP lines of that boot, then its two
# checks, each named with PREFIX.
guest_summary() {
	local name=$1 results=$2/results.tap prefix=$3

	tr -d '\r' <"$results" 2>/dev/null | grep -E '^(not )?ok ' |
		sed -E "s/^((not )?ok [0-9]+) /\\1 $prefix/"
	if grep -q '^exit=' "$results" 2>/dev/null; then
		echo "ok ${prefix}guest: the guest ran to the end"
	else
		echo "not ok ${prefix}guest: the guest ran to the end (crash, panic or timeout)"
	fi
	if grep -q 'FAIL: kernel splat' "$out/$name.log"; then
		echo "not ok ${prefix}guest: no kernel splat (BUG, WARNING, KASAN, lockdep, kmemleak...)"
	else
		echo "ok ${prefix}guest: no kernel splat (BUG, WARNING, KASAN, lockdep, kmemleak...)"
	fi
}

step "host-side checks"
tools/lint.sh | tee "$out/lint.tap"
step_done

step "guest tests"
guest_run vm "$TOP/build/vm" "" --
step_done

# Exclusive INTx (CVE-2024-27437's path) on the edu twins: the igb twins
# share one INTx line, which an exclusive owner cannot share.
step "guest tests, exclusive INTx (vfio_pci.nointxmask=1)"
guest_run vm-nointxmask "$TOP/build/vm-nointxmask" vfio_pci.nointxmask=1 -- \
	--nointxmask vfio_edu_test vfio_intx_test vfio_lifecycle_test \
	vfio_irq_diff_test:edu
step_done

{
	grep -E '^(not )?ok ' "$out/lint.tap"
	guest_summary vm "$TOP/build/vm" ""
	guest_summary vm-nointxmask "$TOP/build/vm-nointxmask" "nointxmask: "
} >"$out/summary.tap"

echo
echo "==> summary"
cat "$out/summary.tap"
# A skipped test is not a pass: it is counted, and shown, on its own.
skipped=$(grep -Ec '^ok .*# SKIP' "$out/summary.tap")
passed=$(grep -E '^ok ' "$out/summary.tap" | grep -vc '# SKIP')
failed=$(grep -c '^not ok ' "$out/summary.tap")
[ "$skipped" = 0 ] || echo "$skipped skipped (not counted as passed)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
