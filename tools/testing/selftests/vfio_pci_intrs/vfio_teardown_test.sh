#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Teardown under load: devices unbound, virtual devices removed and both
# modules (vpi_vidxd, vfio_pci_intrs) unloaded while user space holds the
# devices open with their interrupts active and keeps raising and
# triggering them (vfio_load_helper, one process per device: the edu twin
# with INTx and an unmask eventfd, the igb twin with every MSI-X vector and
# ERR, two tools/vidxd virtual devices with their IMS-backed vectors, a
# third virtual device idle).
#
# - rmmod of either module is refused while the devices are open, and the
#   users carry on undisturbed;
# - a virtual device removed, the igb unbound, the vidxd PF unbound (which
#   removes its virtual devices): each user is told by REQ, keeps going for
#   a moment, closes; the removal or unbind completes, and only after that
#   close;
# - with nothing open, vpi_vidxd and vfio_pci_intrs unload (the latter
#   with the edu still bound: its unbind is part of the unload);
# - every interrupt each user raised was counted once; no splat in the
#   kernel log. (The runner's final kmemleak scan checks for leaks.)
#
# Runs in the guest of tools/vm (devices: $VPI_TEARDOWN_EDU, default
# 0000:00:04.0; $VPI_TEARDOWN_IGB, 0000:00:09.0; $VPI_VIDXD_BDF, the PF,
# 0000:00:08.0), as root; puts vfio_pci_intrs back as it found it. With
# VPI_STRESS=1 the whole cycle repeats for VPI_STRESS_SECONDS (default
# 300). Ends with a "# summary:" line (vfio_stress.h).
set -u

here=$(cd "$(dirname "$0")" && pwd)
helper=$here/vfio_load_helper
vidxd_ko=$here/vpi_vidxd.ko
intrs=vfio_pci_intrs
intrs_drv=vfio-pci-intrs
vidxd=vpi_vidxd
vidxd_drv=vpi-vidxd
edu=${VPI_TEARDOWN_EDU:-0000:00:04.0}
igb=${VPI_TEARDOWN_IGB:-0000:00:09.0}
pf=${VPI_VIDXD_BDF:-0000:00:08.0}
mdev_type=vpi-vidxd-vdev
tmp=$(mktemp -d)

intrs_ko=
for dir in "${VPI_MODULES:-/modules}" "$here"; do
	if [ -f "$dir/$intrs.ko" ]; then
		intrs_ko=$dir/$intrs.ko
		break
	fi
done

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"
skip_all() {
	echo "1..0 # SKIP $*"
	exit 4
}
# check DESCRIPTION COMMAND...: a test point from COMMAND's status.
check() {
	local what="$1"

	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
diag() {
	sed 's/^/# /' "$@"
}
loaded() {
	grep -q "^$1 " /proc/modules
}
driver_of() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] || return 0
	basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
}
# The seconds since boot, as CLOCK_BOOTTIME (the helpers' clock).
now() {
	cut -d' ' -f1 /proc/uptime
}
# a >= b for decimal numbers
ge() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'
}
bind() {
	[ "$(driver_of "$1")" = "$2" ] && return 0
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind" || return 1
	fi
	echo "$2" >"/sys/bus/pci/devices/$1/driver_override" || return 1
	echo "$1" >"/sys/bus/pci/drivers/$2/bind" 2>/dev/null ||
		echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(driver_of "$1")" = "$2" ]
}
# refused MODULE: rmmod fails and the module stays.
refused() {
	! rmmod "$1" 2>/dev/null && loaded "$1"
}
mdev_create() {
	u=$(cat /proc/sys/kernel/random/uuid)
	echo "$u" >"/sys/class/mdev_bus/$pf/mdev_supported_types/$mdev_type/create" || return 1
	echo "$u"
}

[ "$(id -u)" = 0 ] || skip_all "needs root"
[ -x "$helper" ] || skip_all "no $helper"
[ -f "$vidxd_ko" ] || skip_all "no $vidxd_ko"
[ -n "$intrs_ko" ] || skip_all "no $intrs.ko in ${VPI_MODULES:-/modules} or $here"
for d in "$edu" "$igb" "$pf"; do
	[ -d "/sys/bus/pci/devices/$d" ] || skip_all "no PCI device $d"
done
if loaded "$vidxd" || [ -n "$(driver_of "$pf")" ]; then
	skip_all "$pf or $vidxd is in use"
fi

# What to put back at the end.
was_loaded=0
loaded "$intrs" && was_loaded=1
was_bound=
for d in "$edu" "$igb"; do
	[ "$(driver_of "$d")" = "$intrs_drv" ] && was_bound="$was_bound $d"
done

marker="vpi-teardown-test-$$-$(now)"
echo "$marker" >/dev/kmsg
start=$(now)

budget=0
if [ "${VPI_STRESS:-0}" != 0 ]; then
	budget=${VPI_TEARDOWN_SECONDS:-${VPI_STRESS_SECONDS:-300}}
fi

echo "TAP version 13"
raised=0
counted=0
helpers=0
pids=
pid_edu='' pid_igb='' pid_m1='' pid_m2=''

# start NAME DEVICE: a helper on DEVICE, its output in $tmp/NAME; waits for
# "ready".
start_helper() {
	"$helper" "$2" >"$tmp/$1" 2>&1 &
	eval "pid_$1=$!"
	pids="$pids $!"
	i=0
	while ! grep -q '^ready' "$tmp/$1" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 600 ] || ! kill -0 "$!" 2>/dev/null; then
			diag "$tmp/$1"
			return 1
		fi
		sleep 0.1
	done
}

# finish NAME: waits for helper NAME (60 s at most); its result, counts.
finish_helper() {
	eval "p=\$pid_$1"
	i=0
	while kill -0 "$p" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 600 ]; then
			kill -9 "$p" 2>/dev/null
			echo "# helper $1 did not finish" >>"$tmp/$1"
			break
		fi
		sleep 0.1
	done
	rc=0
	wait "$p" || rc=$?
	diag "$tmp/$1"
	r=$(sed -n 's/.*raised \([0-9]*\), counted \([0-9]*\).*/\1 \2/p' "$tmp/$1")
	raised=$((raised + ${r% *}))
	counted=$((counted + ${r#* }))
	helpers=$((helpers + 1))
	return "$rc"
}

# told_by_req STATUS NAME: helper NAME exited with STATUS 0 after REQ.
told_by_req() {
	[ "$1" = 0 ] && grep -q 'told by REQ' "$tmp/$2"
}

# gone UUID...: no such mediated device.
gone() {
	for u in "$@"; do
		[ ! -e "/sys/bus/mdev/devices/$u" ] || return 1
	done
}

closed_at() {
	sed -n 's/.*closed at \([0-9.]*\)$/\1/p' "$tmp/$1"
}

# detach NAME DESC COMMAND...: runs COMMAND (an unbind, a removal) in the
# background while helper NAME holds its device; checks that the helper
# was told by REQ and exited cleanly, and that COMMAND ended after the
# helper had closed the device.
detach() {
	local name="$1" desc="$2" bg hrc i done_at c

	shift 2
	(
		"$@"
		echo "$?" >"$tmp/$name.rc"
		now >"$tmp/$name.done"
	) &
	bg=$!
	finish_helper "$name"
	hrc=$?
	i=0
	while kill -0 "$bg" 2>/dev/null && [ "$i" -lt 300 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	wait "$bg" 2>/dev/null
	check "$desc: completes" [ "$(cat "$tmp/$name.rc" 2>/dev/null)" = 0 ]
	check "$desc: the user was told by REQ and counted every interrupt once" \
		told_by_req "$hrc" "$name"
	done_at=$(cat "$tmp/$name.done" 2>/dev/null || echo 0)
	c=$(closed_at "$name")
	if [ -n "$c" ] && ge "$done_at" "$c"; then
		ok "$desc: completes after the user closed (closed $c, done $done_at)"
	else
		not_ok "$desc: completes after the user closed (closed ${c:-never}, done $done_at)"
	fi
}

cycle() {
	cyc=$1
	# Set up: the module, the twins bound to it, vidxd, three virtual devices.
	if ! loaded "$intrs"; then
		check "cycle $cyc: insmod $intrs" insmod "$intrs_ko"
	fi
	check "cycle $cyc: $edu bound to $intrs_drv" bind "$edu" "$intrs_drv"
	check "cycle $cyc: $igb bound to $intrs_drv" bind "$igb" "$intrs_drv"
	check "cycle $cyc: insmod $vidxd" insmod "$vidxd_ko"
	check "cycle $cyc: $pf bound to $vidxd_drv" bind "$pf" "$vidxd_drv"
	m1=$(mdev_create) && m2=$(mdev_create) && m3=$(mdev_create)
	check "cycle $cyc: three virtual devices created" [ -n "${m3:-}" ]

	check "cycle $cyc: a user of $edu (INTx) ready" start_helper edu "$edu"
	check "cycle $cyc: a user of $igb (MSI-X, ERR) ready" start_helper igb "$igb"
	check "cycle $cyc: a user of virtual device $m1 (IMS) ready" start_helper m1 "$m1"
	check "cycle $cyc: a user of virtual device $m2 (IMS) ready" start_helper m2 "$m2"
	sleep 1

	# Nothing unloads under open devices; the users go on.
	check "cycle $cyc: rmmod $intrs refused while its devices are open" refused "$intrs"
	check "cycle $cyc: rmmod $vidxd refused while its devices are open" refused "$vidxd"
	sleep 0.5
	alive=1
	for p in $pid_edu $pid_igb $pid_m1 $pid_m2; do
		kill -0 "$p" 2>/dev/null || alive=0
	done
	check "cycle $cyc: every user still running" [ "$alive" = 1 ]

	# Each user told by REQ; the removal waits for its close.
	detach m1 "cycle $cyc: virtual device $m1 removed while open" \
		sh -c "echo 1 >/sys/bus/mdev/devices/$m1/remove"
	detach igb "cycle $cyc: $igb unbound from $intrs_drv while open" \
		sh -c "echo $igb >/sys/bus/pci/drivers/$intrs_drv/unbind"
	detach m2 "cycle $cyc: $pf unbound from $vidxd_drv with $m2 open (and $m3 idle)" \
		sh -c "echo $pf >/sys/bus/pci/drivers/$vidxd_drv/unbind"
	check "cycle $cyc: the virtual devices are gone" gone "$m1" "$m2" "$m3"
	check "cycle $cyc: rmmod $vidxd" rmmod "$vidxd"

	# vfio_pci_intrs: refused while the edu is open; once its user got
	# SIGTERM and closed, unloaded with the edu still bound.
	check "cycle $cyc: rmmod $intrs refused while $edu is open" refused "$intrs"
	kill -TERM "$pid_edu"
	finish_helper edu
	check "cycle $cyc: the user of $edu closed on SIGTERM, every interrupt counted once" [ $? = 0 ]
	check "cycle $cyc: rmmod $intrs with $edu bound, not open" rmmod "$intrs"
	check "cycle $cyc: $edu is unbound" [ -z "$(driver_of "$edu")" ]
	for d in "$edu" "$igb" "$pf"; do
		echo >"/sys/bus/pci/devices/$d/driver_override"
	done
}

cyc=0
while :; do
	cyc=$((cyc + 1))
	cycle "$cyc"
	[ "$failed" = 0 ] || break
	[ "$budget" != 0 ] || break
	ge "$(now)" "$(awk -v s="$start" -v b="$budget" 'BEGIN { print s + b }')" && break
done

# Whatever is left running or loaded goes.
for p in $pids; do
	kill -9 "$p" 2>/dev/null
done
wait 2>/dev/null
loaded "$vidxd" && rmmod "$vidxd"
[ "$(driver_of "$pf")" = "$vidxd_drv" ] && echo "$pf" >"/sys/bus/pci/drivers/$vidxd_drv/unbind"
echo >"/sys/bus/pci/devices/$pf/driver_override"

# Splats since the start (the patterns of tools/vm/run.sh).
splat='BUG:|WARNING:|KASAN|UBSAN|Oops|general protection|Kernel panic|kernel BUG at'
splat="$splat|possible circular locking|possible recursive locking|inconsistent lock state"
splat="$splat|suspicious RCU usage|INFO: possible|INFO: trying to register non-static key"
splat="$splat|unreferenced object|suspected memory leak|rcu: INFO:|detected stall"
splat="$splat|blocked for more than|soft lockup|hard LOCKUP"
splat="$splat|sleeping function called from invalid context|scheduling while atomic|Call Trace:"
dmesg | sed -n "/$marker/,\$p" | grep -v 'vpi-result:' | grep -E "$splat" >"$tmp/splats"
splats=$(grep -c . "$tmp/splats")
diag "$tmp/splats"
check "no kernel splat" [ "$splats" = 0 ]
check "every interrupt raised by the users counted once ($raised raised, $counted counted)" \
	[ "$raised" = "$counted" ]

# Back as found: the module loaded and the twins bound if they were.
if [ "$was_loaded" = 1 ]; then
	loaded "$intrs" || insmod "$intrs_ko"
	for d in $was_bound; do
		bind "$d" "$intrs_drv" || echo "# could not bind $d to $intrs_drv again"
	done
fi

echo "1..$n"
echo "# summary: test=vfio_teardown_test run=all seconds=$(awk -v s="$start" -v e="$(now)" \
	'BEGIN { printf "%.0f", e - s }') seqs=$cyc ops=$n bad_inputs=$((cyc * 3))" \
	"faults_injected=0 faults_survived=0 irqs_raised=$raised irqs_counted=$counted" \
	"mismatches=$failed splats=$splats"
echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
rm -rf "$tmp"
[ "$failed" = 0 ]
