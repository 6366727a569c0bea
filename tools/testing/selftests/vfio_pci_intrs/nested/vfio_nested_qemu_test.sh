#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# QEMU as the VMM: QEMU (the host's, packed into the test guest by
# tools/vm/run.sh under $VPI_NESTED, default /nested) boots a nested guest
# (TCG, the project's release-flavour kernel, a tiny initramfs) with four
# devices assigned by `-device vfio-pci,host=...`, at the same addresses in
# the nested guest:
#
#   00:03.0 edu, 00:05.0 igb   bound to upstream vfio-pci (the oracle)
#   00:04.0 edu, 00:09.0 igb   bound to vfio-pci-intrs
#
# In the nested guest vpi_nested_l2.ko (next to this script) binds them as
# an ordinary driver and has each raise its interrupts ROUNDS times: edu
# INTx and MSI, igb every MSI-X vector and MSI. It prints what its handlers
# counted on the nested console, which QEMU writes into a file; every count
# must be exactly ROUNDS, for both drivers.
#
# Then the IMS-backed virtual device of vpi_vidxd.ko (an mdev on the edu at
# 00:08.0, vfio-pci-intrs' IMS backend behind it): QEMU must take it with
# `-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/UUID` (checked first with
# a guest that does not run, then it goes into the same nested boot at
# 00:0a.0). Nothing in it raises interrupts by itself: once the nested
# driver says it is ready, this script fires each of its MSI-X vectors
# ROUNDS times through vpi_vidxd's debugfs (vector 0 emulated, the others
# IMS), one at a time, each after the nested driver reported the one
# before; each must arrive exactly ROUNDS times.
#
# Exits 4 (skip) when the QEMU bundle is not there (run.sh packs it only
# when this test is in the set), 1 on any failure.
#
# Environment: VPI_NESTED (the bundle), VPI_NESTED_ROUNDS (default 3),
# VPI_NESTED_TIMEOUT (seconds for the nested boot, default 3000).
set -u

here=$(cd "$(dirname "$0")" && pwd)
nested=${VPI_NESTED:-/nested}
rounds=${VPI_NESTED_ROUNDS:-3}
limit=${VPI_NESTED_TIMEOUT:-3000}
modules=${VPI_MODULES:-/modules}
l2_ko=$here/vpi_nested_l2.ko
vidxd_ko=$here/vpi_vidxd.ko
[ -f "$vidxd_ko" ] || vidxd_ko=$here/../vpi_vidxd.ko

ORACLE_EDU=0000:00:03.0
SUBJECT_EDU=0000:00:04.0
ORACLE_IGB=0000:00:05.0
SUBJECT_IGB=0000:00:09.0
IMS_PF=0000:00:08.0
VIDXD_ADDR=0a.0
VIDXD_VECTORS=8

qemu_bin=$nested/bin/qemu-system-x86_64
if ! [ -x "$qemu_bin" ] || ! [ -f "$nested/bzImage" ]; then
	echo "SKIP: no QEMU bundle in $nested (tools/vm/run.sh packs it when this test is in the set, or with VM_NESTED=1)"
	exit 4
fi
if ! [ -f "$l2_ko" ]; then
	echo "FAIL: $l2_ko is missing"
	exit 1
fi

work=$(mktemp -d)
qpid=
uuid=
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null
	if [ -n "$uuid" ] && [ -e "/sys/bus/mdev/devices/$uuid" ]; then
		echo 1 >"/sys/bus/mdev/devices/$uuid/remove"
	fi
	for dev in $ORACLE_EDU $SUBJECT_EDU $ORACLE_IGB $SUBJECT_IGB $IMS_PF; do
		vpi_release "$dev" 2>/dev/null
	done
	if grep -q '^vpi_vidxd ' /proc/modules; then
		rmmod vpi_vidxd
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# vpi_bind and vpi_release, as check.sh has them.
# shellcheck source-path=SCRIPTDIR source=../../../../vm/guest/lib.sh
. "${VPI_GUEST:-/guest}/lib.sh"

# ok and not_ok, from the collection this one is installed under.
# shellcheck source-path=SCRIPTDIR source=../tap.sh
. "$here/../tap.sh"

# QEMU from the bundle: its own loader and libraries, its own firmware.
qemu() {
	"$nested/lib/ld-linux-x86-64.so.2" --library-path "$nested/lib" \
		"$qemu_bin" -L "$nested/share" "$@"
}

echo "# $(qemu --version | head -1), nested kernel $(cat "$nested/kernel" 2>/dev/null)"

# Both drivers, each with its twins.
grep -q '^vfio_pci_intrs ' /proc/modules || insmod "$modules/vfio_pci_intrs.ko" || exit 1
bind() {
	if vpi_bind "$1" "$2"; then
		ok "bind $1 to $2"
	else
		not_ok "bind $1 to $2"
		exit 1
	fi
}
bind "$ORACLE_EDU" vfio-pci
bind "$ORACLE_IGB" vfio-pci
bind "$SUBJECT_EDU" vfio-pci-intrs
bind "$SUBJECT_IGB" vfio-pci-intrs

# The IMS-backed virtual device.
mdev_dev=
if insmod "$vidxd_ko" && vpi_bind "$IMS_PF" vpi-vidxd; then
	uuid=$(cat /proc/sys/kernel/random/uuid)
	if echo "$uuid" >"/sys/class/mdev_bus/$IMS_PF/mdev_supported_types/vpi-vidxd-vdev/create"; then
		ok "vidxd: mdev $uuid created on $IMS_PF"
		mdev_dev=/sys/bus/mdev/devices/$uuid
	else
		not_ok "vidxd: mdev created on $IMS_PF"
		uuid=
	fi
else
	not_ok "vidxd: vpi_vidxd.ko loaded and bound to $IMS_PF"
fi

# Does QEMU take the mdev? Realize it, with no guest: the monitor answers
# only once every device is realized; a device QEMU refuses ends it at once.
mdev_in_l2=0
if [ -n "$mdev_dev" ]; then
	start=$(date +%s)
	printf 'info pci\nquit\n' | qemu -accel tcg -M q35 -m 256M -nodefaults \
		-display none -S -monitor stdio \
		-device "vfio-pci,sysfsdev=$mdev_dev,addr=$VIDXD_ADDR" \
		>"$work/mdev-probe.log" 2>&1
	rc=$?
	echo "# QEMU with the mdev alone: exit status $rc after $(($(date +%s) - start)) s:"
	sed 's/^/#   /' "$work/mdev-probe.log" | tr -d '\r' | grep -v '^#   (qemu)' | head -40
	if grep -q 'PCI device 1234:11e9' "$work/mdev-probe.log"; then
		ok "vidxd: QEMU takes the IMS-backed mdev (-device vfio-pci,sysfsdev=...)"
		mdev_in_l2=1
	else
		not_ok "vidxd: QEMU takes the IMS-backed mdev (-device vfio-pci,sysfsdev=...)"
	fi
fi

# The nested guest's initramfs: busybox, an init, the driver.
root=$work/l2root
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
cp /bin/busybox "$root/bin/busybox"
cp "$l2_ko" "$root/vpi_nested_l2.ko"
cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox mount -t proc none /proc
/bin/busybox mount -t sysfs none /sys
/bin/busybox mount -t devtmpfs none /dev
/bin/busybox echo "vpi-l2-init: up \$(/bin/busybox cut -d' ' -f1 /proc/uptime) s"
/bin/busybox insmod /vpi_nested_l2.ko rounds=$rounds
/bin/busybox echo "vpi-l2-init: finished \$(/bin/busybox cut -d' ' -f1 /proc/uptime) s"
/bin/busybox poweroff -f
EOF
chmod 0755 "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null) >"$work/l2.cpio"

devices="-device vfio-pci,host=$ORACLE_EDU,addr=03.0"
devices="$devices -device vfio-pci,host=$SUBJECT_EDU,addr=04.0"
devices="$devices -device vfio-pci,host=$ORACLE_IGB,addr=05.0"
devices="$devices -device vfio-pci,host=$SUBJECT_IGB,addr=09.0"
[ "$mdev_in_l2" = 0 ] ||
	devices="$devices -device vfio-pci,sysfsdev=$mdev_dev,addr=$VIDXD_ADDR"

console=$work/l2-console.log
: >"$console"
start=$(date +%s)
echo "# nested guest: starting QEMU ($(date))"
# shellcheck disable=SC2086
qemu -accel tcg -M q35,i8042=off,sata=off,smbus=off -cpu max -m 256M \
	-nodefaults -no-reboot -display none -serial "file:$console" $devices \
	-kernel "$nested/bzImage" -initrd "$work/l2.cpio" \
	-append "console=ttyS0 panic=-1 oops=panic" \
	</dev/null >"$work/qemu.log" 2>&1 &
qpid=$!

# Fires vidxd vector $1 for the $2nd time, then waits (at most 150 s) for
# the nested driver's line saying that it arrived.
fire() {
	local t=0

	if ! echo "$1" >"/sys/kernel/debug/vpi-vidxd/$uuid/fire"; then
		echo "# firing vidxd vector $1 (#$2) failed"
		return 1
	fi
	while ! grep -qF "vpi-l2: vidxd 0000:00:$VIDXD_ADDR got msix[$1] #$2" "$console"; do
		kill -0 "$qpid" 2>/dev/null || return 1
		[ "$t" -lt 150 ] || return 1
		sleep 1
		t=$((t + 1))
	done
}

# What the test guest's side of the vidxd device looks like.
vidxd_state() {
	echo "# vpi-vidxd's view of the mdev ($1):"
	sed 's/^/#   /' "/sys/kernel/debug/vpi-vidxd/$uuid/slots"
	grep 'vfio-ims' /proc/interrupts | sed 's/^/#   /'
}

# Wait for the nested guest to power off; fire the vidxd vectors when its
# driver says it is ready; show progress now and then.
booted=
kernel_at=
last=$start
while kill -0 "$qpid" 2>/dev/null; do
	sleep 5
	now=$(date +%s)
	if [ -z "$kernel_at" ] && [ -s "$console" ]; then
		kernel_at=$((now - start))
		echo "# nested guest: its kernel prints after about $kernel_at s"
	fi
	if [ -z "$booted" ] && grep -q 'vpi-l2-init: up' "$console"; then
		booted=$((now - start))
		echo "# nested guest: at /init after about $booted s"
	fi
	if [ "$mdev_in_l2" = 1 ] && grep -q 'vpi-l2: vidxd .* ready' "$console"; then
		mdev_in_l2=2
		echo "# nested guest: vidxd ready after $((now - start)) s: firing each vector $rounds times"
		vidxd_state ready
		r=1
		while [ "$r" -le "$rounds" ]; do
			v=0
			while [ "$v" -lt "$VIDXD_VECTORS" ]; do
				if ! fire "$v" "$r"; then
					echo "# vidxd vector $v (#$r): no arrival reported: no more firing"
					vidxd_state "vector $v, #$r"
					r=$rounds
					break
				fi
				v=$((v + 1))
			done
			r=$((r + 1))
		done
		echo "# nested guest: vidxd vectors fired by $(($(date +%s) - start)) s"
	fi
	if [ $((now - last)) -ge 120 ]; then
		last=$now
		echo "# nested guest: $((now - start)) s: $(tail -n 1 "$console" | tr -d '\r')"
		# Live progress on the test guest's console (check.sh hands the
		# test's output back only at the end).
		echo "vfio_nested_qemu_test: nested guest running for $((now - start)) s, $(wc -l <"$console") console lines" >/dev/kmsg 2>/dev/null
	fi
	if [ $((now - start)) -ge "$limit" ]; then
		echo "# nested guest: no power-off within $limit s: stopping QEMU"
		kill "$qpid"
		break
	fi
done
wait "$qpid"
qrc=$?
qpid=
secs=$(($(date +%s) - start))
tr -d '\r' <"$console" >"$work/console"
init_at=$(grep -m1 'vpi-l2-init: up' "$work/console" | sed 's/.*up \([0-9.]*\).*/\1/')
echo "# nested guest: QEMU exited with status $qrc after $secs s (at /init after about ${booted:-?} s, its uptime then $init_at s)"
if [ -s "$work/qemu.log" ]; then
	echo "# QEMU said:"
	sed 's/^/#   /' "$work/qemu.log"
fi
echo "# nested console, the driver's lines:"
grep -E 'vpi-l2|Run /init' "$work/console" | sed 's/^/#   /'

if grep -q 'vpi-l2-init: finished' "$work/console"; then
	ok "nested guest booted, ran its driver and powered off ($secs s)"
else
	not_ok "nested guest booted, ran its driver and powered off ($secs s)"
	echo "# last lines of the nested console:"
	tail -n 40 "$work/console" | sed 's/^/#   /'
fi
if grep -Eq 'BUG:|WARNING:|Oops|Kernel panic|Call Trace:' "$work/console"; then
	not_ok "nested guest: no kernel splat"
	grep -E -A 20 'BUG:|WARNING:|Oops|Kernel panic' "$work/console" | head -n 60 | sed 's/^/#   /'
else
	ok "nested guest: no kernel splat"
fi

# count KIND BDF TYPE DRIVER: one test point, the count line of the driver.
count() {
	line=$(grep -F "vpi-l2: count $1 $2 $3 " "$work/console" | tail -n 1)
	handled=$(echo "$line" | sed -n 's/.* handled=\([0-9]*\).*/\1/p')
	spurious=$(echo "$line" | sed -n 's/.* spurious=\([0-9]*\).*/\1/p')
	desc="$1 $2 ($4) $3: $rounds raised, ${handled:-none} handled"
	case $3 in
	intx) desc="$desc (and ${spurious:-?} calls with nothing pending: no error for INTx)" ;;
	*) desc="$desc, ${spurious:-?} spurious" ;;
	esac
	if [ "$handled" = "$rounds" ] && { [ "$3" = intx ] || [ "$spurious" = 0 ]; }; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}

# counts DRIVER EDU IGB: the test points of one driver's twins.
counts() {
	count edu "$2" intx "$1"
	count edu "$2" msi "$1"
	v=0
	while [ "$v" -lt 10 ]; do
		count igb "$3" "msix[$v]" "$1"
		v=$((v + 1))
	done
	count igb "$3" msi "$1"
}
counts vfio-pci "$ORACLE_EDU" "$ORACLE_IGB"
counts vfio-pci-intrs "$SUBJECT_EDU" "$SUBJECT_IGB"
if [ "$mdev_in_l2" != 0 ]; then
	v=0
	while [ "$v" -lt "$VIDXD_VECTORS" ]; do
		count vidxd "0000:00:$VIDXD_ADDR" "msix[$v]" "vpi-vidxd mdev, IMS"
		v=$((v + 1))
	done
fi

# The two drivers' reports, device for device, are the same. (Not INTx's
# calls that found nothing: without KVM, QEMU ends an INTx when the nested
# handler touches the BAR, before it acknowledges the device, and the host
# line may fire once more; how often depends on timing.)
report() {
	grep -F "vpi-l2: count $1 $2 " "$work/console" |
		sed -e 's/.*vpi-l2: count [^ ]* [^ ]* //' -e 's/^\(intx .*\) spurious=.*/\1/'
}
for kind in edu igb; do
	case $kind in
	edu) o=$ORACLE_EDU s=$SUBJECT_EDU ;;
	igb) o=$ORACLE_IGB s=$SUBJECT_IGB ;;
	esac
	report "$kind" "$o" >"$work/o"
	report "$kind" "$s" >"$work/s"
	if [ -s "$work/o" ] && cmp -s "$work/o" "$work/s"; then
		ok "$kind: vfio-pci-intrs ($s) counted as vfio-pci ($o)"
	else
		not_ok "$kind: vfio-pci-intrs ($s) counted as vfio-pci ($o)"
	fi
done

echo "# $n checks, $failed failed"
[ "$failed" = 0 ]
