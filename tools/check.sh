#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the host-side checks (tools/lint.sh), then the guest test
# suite (tools/vm/guest/check.sh in the debug kernel), then the tests of
# exclusive INTx in a second boot (vfio_pci.nointxmask=1), then the in-tree
# build (tools/intree.sh: the module built by the kernel's own build, and
# part of the suite in a third boot with that kernel and module), then QEMU
# as the VMM (vfio_nested_qemu_test.sh, a nested guest with devices assigned
# through both drivers) in a boot of its own, then one summary. Every
# top-level TAP line counts (the later boots' named "nointxmask: ...",
# "intree: ...", "nested: ..."), plus, per guest run, two checks of the run
# itself: it finished, and its kernel log has no splat. The last line is
# "N passed, N failed"; the exit status is non-zero when anything failed.
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit
out=$TOP/build/check
mkdir -p "$out"
rm -f "$out/retried"

# The whole suite takes about 10 min on an idle 2-core machine; a loaded one
# can take several times that. A hung guest still ends here.
export VM_TIMEOUT=${VM_TIMEOUT:-2400}

# guest_run NAME VM_OUT [VM_APPEND] -- GUEST_ARGS...: one boot running
# tools/vm/guest/check.sh, its log in $out/NAME.log.
guest_run() {
	local name=$1 vm_out=$2 append=$3

	shift 4
	boot_once "$name" "$vm_out" "$append" "$@"
	if grep -q '^==> FAIL' "$out/$name.log" && platform_stall "$vm_out/console.log"; then
		mv "$vm_out/console.log" "$vm_out/console.stalled.log"
		mv "$out/$name.log" "$out/$name.stalled.log"
		echo "# $name: retried once after a stall of the emulated platform" \
			"(first attempt: $out/$name.stalled.log, $vm_out/console.stalled.log)" \
			| tee -a "$out/retried"
		boot_once "$name" "$vm_out" "$append" "$@"
	fi
}

boot_once() {
	local name=$1 vm_out=$2 append=$3

	shift 3
	rm -f "$vm_out/results.tap"
	VM_OUT=$vm_out VM_APPEND=$append \
		tools/vm/run.sh tools/vm/guest/check.sh "$@" 2>&1 | tee "$out/$name.log"
}

# Stalls of QEMU's emulated platform that no driver causes, seen on this
# kind of machine with vfio-pci as with vfio-pci-intrs: a vCPU whose timer
# stops firing (an RCU stall saying the timer wake-up did not happen; or,
# when it is the CPU that keeps the jiffies, no warning at all until the
# guest's own watchdog finds a test hung and that CPU without local timer
# interrupts, see tick_check in tools/vm/guest/check.sh), and
# an IO-APIC pin whose Remote IRR stays set, so that free_irq() waits in
# __synchronize_hardirq() for the interrupt to end, forever (a soft lockup).
# A boot that fails with one of them runs again, once; the summary says so
# and the first attempt's logs stay.
platform_stall() {
	tr -d '\000\r' <"$1" 2>/dev/null |
		grep -aqE "timer wakeup didn't happen|\] +__synchronize_hardirq\+|: tick stopped \(no local timer"
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

# tap_line STATUS DESCRIPTION: "ok DESCRIPTION" when STATUS is 0, else
# "not ok DESCRIPTION".
tap_line() {
	if [ "$1" = 0 ]; then
		echo "ok $2"
	else
		echo "not ok $2"
	fi
}

# guest_digest NAME VM_OUT: for a boot with a failure, its failed tests,
# hung tasks and splat lines, so that the end of the output says what
# happened (the whole story is in the console log).
guest_digest() {
	local name=$1 console=$2/console.log

	grep -Eq '^(FAIL|==> FAIL)' "$out/$name.log" 2>/dev/null || return 0
	echo
	echo "==> $name: what failed ($console)"
	tr -d '\000\r' <"$console" 2>/dev/null |
		grep -aE 'check: (not ok|blocked|  )|blocked for more than|BUG:|WARNING:|Oops' |
		head -n 60
}

step "host-side checks"
tools/lint.sh | tee "$out/lint.tap"
step_done

step "guest tests"
# Without QEMU as the VMM: it has its own boot below.
VM_NESTED=0 guest_run vm "$TOP/build/vm" "" --
step_done

# Exclusive INTx (CVE-2024-27437's path) on the edu twins: the igb twins
# share one INTx line, which an exclusive owner cannot share.
step "guest tests, exclusive INTx (vfio_pci.nointxmask=1)"
guest_run vm-nointxmask "$TOP/build/vm-nointxmask" vfio_pci.nointxmask=1 -- \
	--nointxmask vfio_edu_test vfio_intx_test vfio_lifecycle_test \
	vfio_irq_diff_test:edu
step_done

# The in-tree build: incremental on a copy of the cached kernel tree (about a
# minute), then a boot of that kernel with the in-tree module. The same
# sources were just tested out of tree: this run covers what the kernel's
# build of them could break, loading and unloading, the C API for variant
# drivers, each backend on the vfio-pci-intrs twin and IMS. (`make intree`
# runs the whole suite.)
step "in-tree build"
tools/intree.sh build 2>&1 | tee "$out/intree-build.log"
intree_built=${PIPESTATUS[0]}
step_done
rm -f "$TOP/build/vm-intree/results.tap"
: >"$out/vm-intree.log"
if [ "$intree_built" = 0 ]; then
	step "guest tests, in-tree module"
	VM_OUT=$TOP/build/vm-intree tools/intree.sh run module_test.sh \
		vfio_edu_test:vfio-pci-intrs vfio_igb_test:vfio-pci-intrs \
		vfio_intx_test:vfio-pci-intrs vfio_req_test:vfio-pci-intrs \
		vfio_ims_test 2>&1 | tee "$out/vm-intree.log"
	step_done
fi

# QEMU as the VMM: QEMU in the guest boots a nested guest (TCG inside TCG)
# with the edu and igb twins assigned, one of each through vfio-pci, one
# through vfio-pci-intrs, and vpi-vidxd's IMS-backed mdev; every interrupt
# the nested guest's driver counts must be exact. The nested guest boots the
# release kernel (the debug one would need hours), built here if missing
# (about 12 min on an idle machine). The boot takes about 8 min on a lightly
# loaded 2-core machine (the nested guest at its /init after 4 min), 20 min
# with three other guests on the same cores (15 min to its /init).
# VPI_CHECK_NESTED=0 leaves it out (a skip in the summary).
: >"$out/vm-nested.log"
rm -f "$TOP/build/vm-nested/results.tap"
nested_built=0
if [ "${VPI_CHECK_NESTED:-1}" != 0 ]; then
	step "nested guest kernel (release) and driver"
	{
		FLAVOUR=release tools/kernel/build.sh &&
			modlock "${KMAKE[@]}" -s -C tools/testing/selftests/vfio_pci_intrs \
				KDIR="$(kernel_dir)" OUTPUT="$TOP/build/selftests" nested
	} 2>&1 | tee "$out/nested-build.log"
	nested_built=${PIPESTATUS[0]}
	step_done
	if [ "$nested_built" = 0 ]; then
		step "guest tests, QEMU as the VMM (nested guest)"
		VM_TIMEOUT=${VPI_NESTED_VM_TIMEOUT:-4800} VM_NESTED=1 \
			guest_run vm-nested "$TOP/build/vm-nested" "" -- vfio_nested_qemu_test.sh
		step_done
	fi
fi

echo
echo "==> reliability summary (the \"# summary:\" lines of the first boot)"
tools/reliability-summary.sh "$TOP/build/vm/results.tap"
reliable=$?

{
	grep -E '^(not )?ok ' "$out/lint.tap"
	# (The first boot's skip of vfio_nested_qemu_test.sh: it has its own.)
	guest_summary vm "$TOP/build/vm" "" | grep -v 'nested/vfio_nested_qemu_test.sh # SKIP'
	guest_summary vm-nointxmask "$TOP/build/vm-nointxmask" "nointxmask: "
	tap_line "$intree_built" \
		"intree: the kernel builds the module in tree (CONFIG_VFIO_PCI_INTRS=m)"
	guest_summary vm-intree "$TOP/build/vm-intree" "intree: "
	if [ "${VPI_CHECK_NESTED:-1}" = 0 ]; then
		echo "ok nested: QEMU as the VMM # SKIP VPI_CHECK_NESTED=0"
	elif [ "$nested_built" = 0 ]; then
		guest_summary vm-nested "$TOP/build/vm-nested" "nested: "
	else
		echo "not ok nested: the nested guest's kernel (release) and driver build"
	fi
	tap_line "$reliable" \
		"reliability: summary (no mismatch, no splat, every injected fault survived)"
} >"$out/summary.tap"

for boot in vm vm-nointxmask vm-intree vm-nested; do
	guest_digest "$boot" "$TOP/build/$boot"
done
echo
echo "==> summary"
cat "$out/retried" 2>/dev/null
cat "$out/summary.tap"
# A skipped test is not a pass: it is counted, and shown, on its own.
skipped=$(grep -Ec '^ok .*# SKIP' "$out/summary.tap")
passed=$(grep -E '^ok ' "$out/summary.tap" | grep -vc '# SKIP')
failed=$(grep -c '^not ok ' "$out/summary.tap")
[ "$skipped" = 0 ] || echo "$skipped skipped (not counted as passed)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
