#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of `make bench` (tools/bench/bench.sh boots it with
# VM_BENCH=1): upstream vfio-pci on one twin, vfio-pci-intrs on the other,
# both driven by one vfio_bench process per device pair in interleaved
# rounds; then IMS through vpi_vidxd.ko, with every vCPU online.
#
# Usage: bench.sh [ROUNDS [ITERS [IMS_VECTORS [SWAP]]]]
#
# SWAP=1 binds each pair the other way round (upstream on the second twin),
# to tell a difference between the drivers from one between the twins.
#
# Results go to $VPI_RESULTS (and so to the host's results.tap) as lines
# "csv: <row>" (the CSV of vfio_bench, with its header first) and
# "info: <text>" (the conditions of the run). Exits non-zero when a step
# fails.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${1:-50}
ITERS=${2:-200}
IMS_M=${3:-4096}
BENCH=$VPI_SELFTESTS/vfio_bench
VIDXD=$VPI_SELFTESTS/vpi_vidxd.ko

EDU_UP=0000:00:03.0 EDU_OURS=0000:00:04.0
IGB_UP=0000:00:05.0 IGB_OURS=0000:00:09.0
VNET_UP=0000:00:07.0 VNET_OURS=0000:00:0a.0
IMS_PF=0000:00:08.0
if [ "${4:-0}" = 1 ]; then
	t=$EDU_UP EDU_UP=$EDU_OURS EDU_OURS=$t
	t=$IGB_UP IGB_UP=$IGB_OURS IGB_OURS=$t
	t=$VNET_UP VNET_UP=$VNET_OURS VNET_OURS=$t
fi

# vpi_vidxd parameters: IMS_M vectors over virtual devices of 128 vectors
# (vector 0 emulated, 127 IMS-backed each).
VIDXD_VECTORS=128
VIDXD_VDEVS=$(((IMS_M + VIDXD_VECTORS - 2) / (VIDXD_VECTORS - 1)))
VIDXD_SLOTS=$((IMS_M + 64))

info() {
	echo "info: $*" >>"$VPI_RESULTS"
	echo "bench: $*"
}

# Runs vfio_bench, its CSV rows into the results.
run_bench() {
	"$BENCH" "$@" | sed 's/^/csv: /' >>"$VPI_RESULTS"
}

# Runs a phase and says how long it took.
phase() {
	local name="$1" start
	shift
	start=$(date +%s)
	echo "bench: == $name"
	"$@"
	info "$name took $(($(date +%s) - start)) s"
}

online_cpus() {
	grep -c '^processor' /proc/cpuinfo
}

info "kernel $(uname -r), $(online_cpus) CPUs online, possible $(cat /sys/devices/system/cpu/possible)"
info "$(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
info "rounds $ROUNDS, iterations per round $ITERS, IMS vectors $IMS_M"
info "vfio-pci on $EDU_UP $IGB_UP $VNET_UP, vfio-pci-intrs on $EDU_OURS $IGB_OURS $VNET_OURS"
echo "csv: case,n,unit,driver,device,samples,median,p99,min,mean" >>"$VPI_RESULTS"

insmod "$VPI_MODULES/vfio_pci_intrs.ko"
for dev in $EDU_UP $IGB_UP $VNET_UP; do
	vpi_bind "$dev" vfio-pci
done
for dev in $EDU_OURS $IGB_OURS $VNET_OURS; do
	vpi_bind "$dev" vfio-pci-intrs
done

phase "edu MSI" run_bench edu $EDU_UP $EDU_OURS -r "$ROUNDS" -k "$ITERS"
phase "igb MSI-X" run_bench igb $IGB_UP $IGB_OURS -r "$ROUNDS" -k "$ITERS"
# Enabling vectors takes up to milliseconds each under TCG: half the rounds.
phase "MSI-X enable" run_bench msix $VNET_UP $VNET_OURS -r $(((ROUNDS + 1) / 2))

for dev in $EDU_UP $EDU_OURS $IGB_UP $IGB_OURS; do
	vpi_release "$dev"
done

# IMS: each live IMS interrupt holds an x86 vector (about 200 per CPU), so
# bring every vCPU online first.
for cpu in /sys/devices/system/cpu/cpu[0-9]*; do
	[ -w "$cpu/online" ] || continue
	[ "$(cat "$cpu/online")" = 1 ] || echo 1 >"$cpu/online"
done
info "IMS phase: $(online_cpus) CPUs online; vpi_vidxd ims_slots=$VIDXD_SLOTS vectors=$VIDXD_VECTORS max_vdevs=$VIDXD_VDEVS"
matrix=/sys/kernel/debug/irq/domains/VECTOR
if [ -r "$matrix" ]; then
	info "x86 vector matrix: $(grep -E 'Global available|Global reserved|Total allocated' "$matrix" |
		tr -s ' \t' ' ' | tr '\n' ';')"
fi
insmod "$VIDXD" ims_slots="$VIDXD_SLOTS" vectors="$VIDXD_VECTORS" max_vdevs="$VIDXD_VDEVS"
echo vpi-vidxd >/sys/bus/pci/devices/$IMS_PF/driver_override
echo $IMS_PF >/sys/bus/pci/drivers/vpi-vidxd/bind
phase "IMS" run_bench ims $IMS_PF -m "$IMS_M"
echo $IMS_PF >/sys/bus/pci/drivers/vpi-vidxd/unbind
rmmod vpi_vidxd
# The same conditions for MSI-X: QEMU's way, N = 64, with every vCPU online
# (case names *_allcpus), to compare with IMS per vector.
phase "MSI-X enable, all CPUs" run_bench msix $VNET_UP $VNET_OURS \
	-r $(((ROUNDS + 1) / 2)) -n 64 -s _allcpus
for dev in $VNET_UP $VNET_OURS; do
	vpi_release "$dev"
done
rmmod vfio_pci_intrs
info "done"
