#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A short demonstration for `make run`: loads vfio_pci_intrs.ko, binds an edu
# and an igb to its vfio-pci-intrs driver (with driver_override, as one binds
# vfio-pci) and has them raise INTx, MSI and MSI-X interrupts through VFIO,
# showing /proc/interrupts and the module's debugfs view of the vectors.
# Then loads the IDXD-style test variant driver (vpi_vidxd.ko, tools/vidxd),
# binds a third edu to it, creates a virtual device (a mediated device) and
# has its IMS-backed and emulated MSI-X vectors fire through VFIO.
# Exits non-zero if a step fails or an interrupt does not arrive.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

EDU=0000:00:04.0
IGB=0000:00:09.0
IMS_PF=0000:00:08.0
MDEV_TYPES=/sys/class/mdev_bus/$IMS_PF/mdev_supported_types
status=0

echo "== loading vfio_pci_intrs.ko"
if insmod "$VPI_MODULES/vfio_pci_intrs.ko"; then
	grep '^vfio_pci_intrs ' /proc/modules || status=1
	dmesg | grep 'vfio_pci_intrs: loaded' || true
else
	echo "vfio_pci_intrs.ko did not load (build it with 'make module')"
	exit 1
fi

for dev in "$EDU" "$IGB"; do
	echo "== binding $dev to vfio-pci-intrs (IOMMU group $(vpi_iommu_group "$dev"))"
	vpi_bind "$dev" vfio-pci-intrs || status=1
done

echo "== edu $EDU: MSI and INTx"
"$VPI_SELFTESTS/vfio_edu_demo" "$EDU" 3 || status=1
echo "== igb $IGB: MSI-X, every vector"
"$VPI_SELFTESTS/vfio_igb_demo" "$IGB" 2 || status=1

for dev in "$EDU" "$IGB"; do
	vpi_release "$dev" || status=1
done

echo "== IMS: vpi_vidxd.ko on edu $IMS_PF, one virtual device"
if insmod "$VPI_SELFTESTS/vpi_vidxd.ko" && vpi_bind "$IMS_PF" vpi-vidxd; then
	dmesg | grep -E 'vpi-vidxd.*IMS' || true
	uuid=$(cat /proc/sys/kernel/random/uuid)
	if echo "$uuid" >"$MDEV_TYPES/vpi-vidxd-vdev/create"; then
		echo "mdev $uuid: IOMMU group $(basename "$(readlink "/sys/bus/mdev/devices/$uuid/iommu_group")")"
		"$VPI_SELFTESTS/vfio_ims_demo" "$uuid" 2 || status=1
		echo 1 >"/sys/bus/mdev/devices/$uuid/remove" || status=1
	else
		status=1
	fi
	vpi_release "$IMS_PF" || status=1
else
	status=1
fi
if grep -q '^vpi_vidxd ' /proc/modules; then
	rmmod vpi_vidxd || status=1
fi
rmmod vfio_pci_intrs || status=1

if [ "$status" = 0 ]; then
	echo "== demo: all interrupts arrived"
else
	echo "== demo: FAILED"
fi
exit "$status"
