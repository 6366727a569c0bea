#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A short demonstration for `make run`: loads vfio_pci_intrs.ko, shows it and
# its exported symbol, binds edu 00:03.0 to vfio-pci and has it raise MSI and
# INTx interrupts through VFIO. Exits non-zero if a step fails or an
# interrupt does not arrive.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

EDU=0000:00:03.0
status=0

echo "== loading vfio_pci_intrs.ko"
if [ -f "$VPI_MODULES/vfio_pci_intrs.ko" ]; then
	if insmod "$VPI_MODULES/vfio_pci_intrs.ko"; then
		grep '^vfio_pci_intrs ' /proc/modules || status=1
		grep -w 'vfio_pci_intrs_api_version' /proc/kallsyms || status=1
	else
		status=1
	fi
else
	echo "vfio_pci_intrs.ko is missing: build it with 'make module'"
	status=1
fi

echo "== binding edu $EDU to vfio-pci (IOMMU group $(vpi_iommu_group "$EDU"))"
if vpi_bind "$EDU" vfio-pci; then
	echo "== raising interrupts"
	"$VPI_SELFTESTS/vfio_edu_demo" "$EDU" 3 || status=1
else
	status=1
fi

if [ "$status" = 0 ]; then
	echo "== demo: all interrupts arrived"
else
	echo "== demo: FAILED"
fi
exit "$status"
