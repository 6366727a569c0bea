#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every test under $VPI_SELFTESTS, the kselftest way: one TAP plan over
# the whole set, "ok N name" / "not ok N name" per test, each test's own
# output nested below it as "# " lines, a per-test timeout (from the
# "settings" file next to the test, "timeout=<seconds>", default 45, 0 for
# none). A test is an executable named *_test or *_test.sh; exit status 4
# (KSFT_SKIP) counts as a skip.
#
# The TAP goes to $VPI_RESULTS (a file that /init sends back at the end); a
# one-line summary per test goes to the console. /init adds "exit=<status>".
# Exits non-zero when a test fails or times out, or when there is no test.
#
# Usage: check.sh [--nointxmask] [TEST[:DRIVER|:PAIR]...]: only the named
# runs (then the teardown), every run without names. --nointxmask first
# checks that the kernel was booted with vfio_pci.nointxmask=1 (every INTx
# line exclusive, masked at the interrupt controller, for vfio-pci and
# vfio-pci-intrs alike: vfio_pci_core holds the setting).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# Device tests run once per VFIO driver, each on its own twin device:
# upstream vfio-pci is the oracle, vfio-pci-intrs must behave the same.
# Prints "DRIVER BDF" lines for test $1, nothing for other tests.
twins() {
	case $1 in
	module_test.sh)
		# Loads the module itself; the device (upstream's) is for the
		# C API's passthrough-context checks.
		echo "vfio-pci 0000:00:03.0"
		;;
	vfio_edu_test)
		echo "vfio-pci 0000:00:03.0"
		echo "vfio-pci-intrs 0000:00:04.0"
		;;
	vfio_intx_test | vfio_lifecycle_test | vfio_req_test)
		echo "vfio-pci 0000:00:03.0"
		echo "vfio-pci-intrs 0000:00:04.0"
		;;
	vfio_igb_test)
		echo "vfio-pci 0000:00:05.0"
		echo "vfio-pci-intrs 0000:00:09.0"
		;;
	vfio_concurrency_test)
		# MSI and INTx on edu, MSI-X on igb.
		echo "vfio-pci 0000:00:03.0"
		echo "vfio-pci-intrs 0000:00:04.0"
		echo "vfio-pci 0000:00:05.0"
		echo "vfio-pci-intrs 0000:00:09.0"
		;;
	vfio_ims_test)
		# The test loads vpi_vidxd.ko and binds the edu itself.
		echo "vpi-vidxd 0000:00:08.0"
		;;
	esac
}

# Differential tests run once per twin pair, with both twins at once: the
# oracle bound to vfio-pci, the subject to vfio-pci-intrs. Prints
# "pair:LABEL ORACLE,SUBJECT" lines for test $1, nothing for other tests.
pairs() {
	case $1 in
	vfio_irq_diff_test | vfio_ioctls_client_test.sh | vfio_fault_test)
		echo "pair:edu 0000:00:03.0,0000:00:04.0"
		echo "pair:igb 0000:00:05.0,0000:00:09.0"
		;;
	esac
}

# Releases every device bound to vfio-pci-intrs and unloads the module (and
# the IMS test's variant driver, if a test left it loaded).
teardown() {
	local dev

	if grep -q '^vpi_vidxd ' /proc/modules; then
		rmmod vpi_vidxd || return 1
	fi
	for dev in /sys/bus/pci/drivers/vfio-pci-intrs/0000:*; do
		[ -e "$dev" ] || continue
		vpi_release "$(basename "$dev")" || return 1
	done
	if grep -q '^vfio_pci_intrs ' /proc/modules; then
		rmmod vfio_pci_intrs || return 1
	fi
	! grep -q '^vfio_pci_intrs ' /proc/modules
}

# Loads vfio_pci_intrs.ko unless it is loaded.
load_intrs() {
	grep -q '^vfio_pci_intrs ' /proc/modules ||
		insmod "${VPI_MODULES:-/modules}/vfio_pci_intrs.ko"
}

# Per-run preparation, in the run's subshell before the test ($1 driver,
# $2 device, or "-" for tests without a device). (set -e does not apply
# there: check every step.)
prepare() {
	[ "$1" = - ] && return 0
	case $1 in
	pair:*)
		prepare_pair "${2%,*}" "${2#*,}"
		return
		;;
	vpi-vidxd)
		load_intrs || return 1
		export VPI_VIDXD_BDF="$2"
		return
		;;
	esac
	if [ "$1" = vfio-pci-intrs ]; then
		load_intrs || return 1
	fi
	vpi_bind "$2" "$1" || return 1
	export VPI_BDF="$2"
}

# Per-run preparation of a twin pair ($1 oracle, $2 subject).
prepare_pair() {
	load_intrs || return 1
	vpi_bind "$1" vfio-pci || return 1
	vpi_bind "$2" vfio-pci-intrs || return 1
	export VPI_ORACLE_BDF="$1" VPI_BDF="$2"
}

test_timeout() {
	local t

	t=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$1/settings" 2>/dev/null | tail -1)
	echo "${VPI_TEST_TIMEOUT:-${t:-45}}"
}

# Seconds a test may run past its timeout before it counts as hung.
HANG_GRACE=${VPI_HANG_GRACE:-120}

# Prints each task in uninterruptible sleep with its kernel stack.
# Whether every CPU still ticks: the kernel is built with a periodic tick,
# so each CPU takes HZ local timer interrupts (the LOC line of
# /proc/interrupts) a second, idle or not. A CPU that took none in 2 s has
# a timer QEMU stopped firing; if it keeps the jiffies, every jiffies
# timeout stops with it (RCU grace periods, the hung-task detector,
# schedule_timeout()), silently. The 2 s are measured by reading
# /proc/uptime (the clocksource), not by sleeping: a sleep could be one of
# the timers that no longer fire.
tick_check() {
	awk '
	function loc(c,   line, f, i, n) {
		n = 0
		while ((getline line < "/proc/interrupts") > 0) {
			if (line !~ /^ *LOC:/)
				continue
			split(line, f)
			for (i = 2; (i in f) && f[i] ~ /^[0-9]+$/; i++)
				c[n++] = f[i]
		}
		close("/proc/interrupts")
		return n
	}
	function uptime(   u, f) {
		getline u < "/proc/uptime"
		close("/proc/uptime")
		split(u, f, " ")
		return f[1] + 0
	}
	BEGIN {
		n = loc(before)
		t = uptime()
		while (uptime() < t + 2)
			;
		loc(after)
		s = ""
		for (i = 0; i < n; i++)
			s = s " " before[i] "->" after[i]
		print "check: local timer interrupts per CPU in 2 s:" s
		for (i = 0; i < n; i++)
			if (before[i] == after[i])
				print "check: CPU " i ": tick stopped (no local timer interrupt in 2 s)"
	}'
}

blocked_tasks() {
	local d

	for d in /proc/[0-9]*; do
		grep -q '^State:.*D' "$d/status" 2>/dev/null || continue
		echo "check: blocked: ${d#/proc/} $(cat "$d/comm" 2>/dev/null)"
		sed 's/^/check:   /' "$d/stack" 2>/dev/null
	done
}

exec 3>"$VPI_RESULTS"

if [ "${1:-}" = --nointxmask ]; then
	shift
	if [ "$(cat /sys/module/vfio_pci/parameters/nointxmask)" != Y ]; then
		echo "Bail out! --nointxmask: vfio_pci.nointxmask=1 is not in effect" >&3
		echo "check: vfio_pci.nointxmask=1 is not in effect"
		exit 1
	fi
fi

# Whether the run of test $1 with driver (or pair:LABEL) $2 was asked for
# by the names in $3...: "TEST" asks for every run of TEST, "TEST:DRIVER"
# or "TEST:LABEL" for one driver's or one pair's. No names: everything.
wanted() {
	local name="$1" drv="$2" t

	shift 2
	[ $# -gt 0 ] || return 0
	for t in "$@"; do
		case $t in
		"$name" | "$name:$drv" | "$name:${drv#pair:}") return 0 ;;
		esac
	done
	return 1
}

tests=$(find "$VPI_SELFTESTS" -type f -perm -u+x \
	\( -name '*_test' -o -name '*_test.sh' \) | sort)
# One run per line: "TEST DRIVER BDF" ("- -" for tests without a device,
# "pair:LABEL ORACLE,SUBJECT" for a twin pair).
runs=$(for test in $tests; do
	pairs=$(twins "$(basename "$test")")
	[ -n "$pairs" ] || pairs=$(pairs "$(basename "$test")")
	[ -n "$pairs" ] || pairs="- -"
	echo "$pairs" | while read -r drv bdf; do
		if wanted "$(basename "$test")" "$drv" "$@"; then
			echo "$test $drv $bdf"
		fi
	done
done)
# Last, the module must let go of every device and unload cleanly.
runs="$runs
teardown - -"
total=$(echo "$runs" | grep -c . || true)

echo "TAP version 13" >&3
if [ "$total" = 0 ]; then
	echo "1..0" >&3
	echo "Bail out! no test found in $VPI_SELFTESTS" >&3
	echo "check: no test found in $VPI_SELFTESTS"
	exit 1
fi
echo "1..$total" >&3

n=0 pass=0 fail=0 skip=0
while read -r test drv bdf; do
	n=$((n + 1))
	name=${test#"$VPI_SELFTESTS"/}
	[ "$drv" = - ] || name="$name ($drv $bdf)"
	case $drv in
	pair:*)
		o=${bdf%,*} s=${bdf#*,}
		name="${test#"$VPI_SELFTESTS"/} (${drv#pair:} ${o#0000:} vs ${s#0000:})"
		;;
	esac
	dir=$(dirname "$test")
	t=$(test_timeout "$dir")
	echo "# selftests: vfio_pci_intrs: $name" >&3
	start=$(date +%s)
	rc=0
	# A test stuck in the kernel (unkillable: say, a release that never
	# returns) would keep the run until the runner's timeout and say
	# nothing. After its timeout and a grace period the test is reported
	# hung, the kernel stacks of blocked tasks go to the console, and the
	# run ends.
	watchdog=
	if [ "$t" != 0 ]; then
		(
			sleep $((t + HANG_GRACE))
			echo "not ok $n $name # HUNG: running $((t + HANG_GRACE)) s" >&3
			echo "check: not ok $n $name # HUNG (blocked tasks follow)"
			tick_check
			blocked_tasks
			kill -TERM $$
		) &
		watchdog=$!
	fi
	(
		if [ "$test" = teardown ]; then
			teardown
			exit
		fi
		prepare "$drv" "$bdf" || exit 1
		cd "$dir" || exit 1
		if [ "$t" = 0 ]; then
			exec "$test"
		fi
		exec timeout "$t" "$test"
	) </dev/null 2>&1 | while IFS= read -r line; do
		echo "# $line"
	done >&3 || rc=$?
	secs=$(($(date +%s) - start))
	[ -z "$watchdog" ] || kill "$watchdog" 2>/dev/null || true

	if [ "$rc" = 0 ]; then
		line="ok $n $name"
		pass=$((pass + 1))
	elif [ "$rc" = 4 ]; then
		line="ok $n $name # SKIP"
		skip=$((skip + 1))
	elif [ "$rc" = 143 ] && [ "$t" != 0 ] && [ "$secs" -ge "$t" ]; then
		line="not ok $n $name # TIMEOUT $t seconds"
		fail=$((fail + 1))
	else
		line="not ok $n $name # exit=$rc"
		fail=$((fail + 1))
	fi
	echo "$line" >&3
	echo "check: $line (${secs} s)"
done <<EOF
$runs
EOF

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0" >&3
echo "check: $pass passed, $fail failed, $skip skipped"
exec 3>&-
[ "$fail" = 0 ]
