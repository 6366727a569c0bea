#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loading and unloading vfio_pci_intrs.ko, and its C API seen from another
# module (vpi_api_test.ko, next to this script). With VPI_BDF (a device
# bound to vfio-pci, not open), also the IMS-only calls of the C API on that
# device's passthrough context: -EINVAL (not IMS).
#
# vfio_pci_intrs.ko is taken from $VPI_MODULE, else $VPI_MODULES (default
# /modules), else this script's directory. A missing module is a failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
module=vfio_pci_intrs
api_test=vpi_api_test
api_symbol=vfio_pci_intrs_api_version

ko=${VPI_MODULE:-}
if [ -z "$ko" ]; then
	for dir in "${VPI_MODULES:-/modules}" "$here"; do
		if [ -f "$dir/$module.ko" ]; then
			ko=$dir/$module.ko
			break
		fi
	done
fi
api_ko=$here/$api_test.ko

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"
planned=14
[ -z "${VPI_BDF:-}" ] || planned=18
echo "TAP version 13"
echo "1..$planned"

# Prints text as TAP diagnostic lines.
diag() {
	printf '%s\n' "$1" | while IFS= read -r line; do
		echo "# $line"
	done
}

# check DESCRIPTION COMMAND...: one test point from a command's status.
check() {
	local desc="$1" out rc=0

	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		ok "$desc"
	else
		not_ok "$desc"
		[ -z "$out" ] || diag "$out"
		echo "# command: $* (exit $rc)"
	fi
}

# check_fails DESCRIPTION COMMAND...: a test point that passes if COMMAND fails.
check_fails() {
	local desc="$1" out rc=0

	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" != 0 ]; then
		ok "$desc"
		[ -z "$out" ] || diag "$out"
	else
		not_ok "$desc"
		echo "# command succeeded but must fail: $*"
	fi
}

loaded() {
	grep -q "^$1 " /proc/modules
}

# The text symbol $2 is in kallsyms, attributed to module $1.
symbol_in() {
	awk -v m="[$1]" -v s="$2" \
		'$3 == s && ($2 == "T" || $2 == "t") && $4 == m { found = 1 }
		END { exit !found }' /proc/kallsyms
}

# No symbol $1 in kallsyms at all.
no_symbol() {
	awk -v s="$1" '$3 == s { found = 1 } END { exit found }' /proc/kallsyms
}

not_loaded() {
	! loaded "$1"
}

# The module's "used by" column lists the other module.
used_by() {
	grep "^$1 " /proc/modules | awk '{print $4}' | tr ',' '\n' | grep -qx "$2"
}

# Nothing may be left from an earlier run.
for m in "$api_test" "$module"; do
	if loaded "$m"; then
		echo "Bail out! $m is already loaded"
		exit 1
	fi
done

if [ -z "$ko" ] || ! [ -f "$ko" ]; then
	echo "# $module.ko not found (looked in ${VPI_MODULES:-/modules} and $here): build it with 'make module'"
	not_ok "$module.ko exists"
	echo "Bail out! nothing to test without $module.ko"
	exit 1
fi
ok "$module.ko exists ($ko)"

if ! [ -f "$api_ko" ]; then
	echo "# $api_ko not found: build the selftests"
	not_ok "$api_test.ko exists"
	echo "Bail out! nothing to test without $api_test.ko"
	exit 1
fi
ok "$api_test.ko exists"

check_fails "$api_test does not load without $module (unresolved symbol)" insmod "$api_ko"
check "insmod $module" insmod "$ko"
check "$module is in /proc/modules" loaded "$module"
check "$api_symbol is in /proc/kallsyms, in [$module]" symbol_in "$module" "$api_symbol"
check_fails "$api_test refuses to load when the API version does not match" \
	insmod "$api_ko" expected_version=-1
check "insmod $api_test (calls $api_symbol, checks the version)" insmod "$api_ko"
check "$module is used by $api_test" used_by "$module" "$api_test"
check_fails "rmmod $module fails while $api_test uses it" rmmod "$module"
check "rmmod $api_test" rmmod "$api_test"
if [ -n "${VPI_BDF:-}" ]; then
	# The module's own checks fail its load; a device that is not
	# vfio-pci's must fail it too (the check can fail).
	check "$api_test on vfio-pci's $VPI_BDF: vfio_pci_ims_hwirq/set_cookie on a passthrough context return -EINVAL" \
		insmod "$api_ko" bdf="$VPI_BDF"
	dmesg | grep "$api_test: passthrough:" | tail -4 | while IFS= read -r line; do
		echo "# $line"
	done
	check "rmmod $api_test" rmmod "$api_test"
	check_fails "$api_test refuses a device not bound to vfio-pci (0000:00:00.0)" \
		insmod "$api_ko" bdf=0000:00:00.0
	check_fails "$api_test refuses a device that does not exist" \
		insmod "$api_ko" bdf=0000:ff:1f.7
fi
check "rmmod $module" rmmod "$module"
check "$module is gone from /proc/modules" not_loaded "$module"
check "$api_symbol is gone from /proc/kallsyms" no_symbol "$api_symbol"

if [ "$n" != "$planned" ]; then
	echo "# ran $n tests, planned $planned"
	failed=$((failed + 1))
fi
echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
[ "$failed" = 0 ]
