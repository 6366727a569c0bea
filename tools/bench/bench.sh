#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: upstream vfio-pci against vfio-pci-intrs, side by side in one
# guest boot, on the release kernel. See Documentation/benchmarks.rst.
#
#   1. builds the release kernel (tools/kernel/build.sh, cached);
#   2. builds, in build/bench/ and not in the checkout (so that it does not
#      fight the debug build next to the sources), a copy of the module with
#      debug information (for the sizes of its types; the guest gets it
#      stripped), vpi_vidxd.ko with its IMS size parameters, and the static
#      vfio_bench program;
#   3. reads the size of a vector context, ours (Rust, from the module's
#      DWARF) and upstream's (struct vfio_pci_irq_ctx, from DWARF of the
#      kernel's drivers/vfio/pci/vfio_pci_intrs.c compiled again with -g
#      and the kernel's own flags);
#   4. boots the guest with VM_BENCH=1 (tools/vm/run.sh) to run
#      tools/vm/guest/bench.sh, and takes its CSV rows from results.tap;
#   5. writes build/bench/bench.csv (one row per case: both drivers and the
#      ratio), build/bench/bench.png and build/bench/table.rst
#      (tools/bench/report.py).
#
# Environment: BENCH_ROUNDS (default 50; the MSI-X cases run a third),
# BENCH_ITERS (iterations per round of the latency cases, default 200), BENCH_IMS (IMS vectors, default 4096),
# BENCH_SWAP=1 (bind each twin pair the other way round), BENCH_OUT
# (default build/bench), VM_OUT (default $BENCH_OUT/vm),
# VM_TIMEOUT (default 3600), VM_BENCH_SMP (tools/vm/run.sh).
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/../lib.sh"

export FLAVOUR=release
ROUNDS=${BENCH_ROUNDS:-50}
ITERS=${BENCH_ITERS:-200}
IMS_M=${BENCH_IMS:-4096}
out=${BENCH_OUT:-$TOP/build/bench}
src=$out/src
mkdir -p "$out"
exec 7>"$out/.lock"
flock -n 7 || die "another make bench is using $out"
start=$(date +%s)

"$TOP/tools/kernel/build.sh"
KDIR=$(kernel_dir)

# The module's and vpi_vidxd's sources (tracked and new files, no build
# outputs), in the repository's layout: tools/vidxd/Kbuild finds the C API
# header at ../../include.
step "copying the module's sources to $src"
mkdir -p "$src"
(cd "$TOP" && git ls-files -co --exclude-standard Kbuild src rust include tools/vidxd |
	cpio -pdmu --quiet "$src")
step_done

step "building vfio_pci_intrs.ko (release, with debug information)"
"${KMAKE[@]}" -s -C "$KDIR" M="$src" KRUSTFLAGS=-g modules
step_done

step "building vpi_vidxd.ko and vfio_bench"
"${KMAKE[@]}" -s -C "$KDIR" M="$src/tools/vidxd" \
	KBUILD_EXTRA_SYMBOLS="$src/Module.symvers" modules
mkdir -p "$out/guest" "$out/modules"
cp "$src/vfio_pci_intrs.ko" "$out/modules/"
cp "$src/tools/vidxd/vpi_vidxd.ko" "$out/guest/"
make -s -C "$TOP/tools/testing/selftests/vfio_pci_intrs" KDIR="$KDIR" \
	OUTPUT="$out/guest" "$out/guest/vfio_bench"
step_done

step "sizes of a vector context (DWARF)"
"$TOP/tools/bench/sizes.sh" "$KDIR" "$src/vfio_pci_intrs.ko" "$out" >"$out/sizes.csv"
cat "$out/sizes.csv"
step_done

vm_out=${VM_OUT:-$out/vm}
rc=0
VM_OUT=$vm_out VM_BENCH=1 VM_TIMEOUT=${VM_TIMEOUT:-3600} \
	VM_SELFTESTS="$out/guest" VM_MODULES_DIR="$out/modules" \
	"$TOP/tools/vm/run.sh" "$TOP/tools/vm/guest/bench.sh" "$ROUNDS" "$ITERS" "$IMS_M" \
	"${BENCH_SWAP:-0}" \
	>"$out/vm.log" 2>&1 || rc=$?
grep -E '^==>|^FAIL|^bench:|^vfio_bench:' "$out/vm.log" | tr -d '\r' || true
[ "$rc" = 0 ] || die "the benchmark guest failed (rc $rc): see $out/vm.log and $vm_out/console.log"

sed -n 's/^csv: //p' "$vm_out/results.tap" >"$out/raw.csv"
sed -n 's/^info: //p' "$vm_out/results.tap" >"$out/info.txt"
# Which slab caches grew, per vector (vfio_bench's diagnostics).
tr -d '\r' <"$vm_out/console.log" | sed -n 's/^vfio_bench: slab //p' >"$out/slab.txt"
/usr/bin/python3 "$TOP/tools/bench/report.py" "$out"
echo "==> make bench took $(($(date +%s) - start)) s; results in $out"
