#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for guest scripts (busybox sh). Source it: . /guest/lib.sh

: "${VPI_RESULTS:=/dev/stdout}"
: "${VPI_MODULES:=/modules}"
: "${VPI_SELFTESTS:=/selftests}"

vpi_err() {
	echo "error: $*" >&2
}

# Prints the name of the driver BDF is bound to, or nothing.
vpi_driver() {
	local link="/sys/bus/pci/devices/$1/driver"

	[ -e "$link" ] || return 0
	basename "$(readlink "$link")"
}

# Prints the IOMMU group number of BDF.
vpi_iommu_group() {
	basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"
}

# Unbinds BDF from its driver, if it has one.
vpi_unbind() {
	local dev="/sys/bus/pci/devices/$1"

	[ -e "$dev/driver" ] || return 0
	echo "$1" >"$dev/driver/unbind"
}

# Binds BDF to driver DRV the way one binds vfio-pci: unbind it from its
# current driver, set driver_override, then ask DRV to bind it (or let the
# PCI core probe it). Returns non-zero, with a message, when BDF does not end
# up bound to DRV.
vpi_bind() {
	local bdf="$1" drv="$2" dev="/sys/bus/pci/devices/$1"

	if ! [ -d "$dev" ]; then
		vpi_err "no PCI device $bdf"
		return 1
	fi
	if ! [ -d "/sys/bus/pci/drivers/$drv" ]; then
		vpi_err "no PCI driver $drv (module not loaded?)"
		return 1
	fi
	[ "$(vpi_driver "$bdf")" = "$drv" ] && return 0
	vpi_unbind "$bdf" || return 1
	echo "$drv" >"$dev/driver_override" || return 1
	if ! echo "$bdf" >"/sys/bus/pci/drivers/$drv/bind" 2>/dev/null; then
		echo "$bdf" >/sys/bus/pci/drivers_probe || true
	fi
	if [ "$(vpi_driver "$bdf")" != "$drv" ]; then
		vpi_err "$bdf did not bind to $drv"
		return 1
	fi
}

# Undoes vpi_bind: unbinds BDF and clears driver_override.
vpi_release() {
	vpi_unbind "$1" || return 1
	echo >"/sys/bus/pci/devices/$1/driver_override"
}
