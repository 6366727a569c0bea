#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Usage: tools/vm/run.sh GUEST_SCRIPT [ARGS...]
#
# Boots the project's kernel (FLAVOUR=debug|release) in QEMU with a fixed set
# of PCI devices and runs GUEST_SCRIPT in it from an initramfs:
#
#   00:03.0 edu     00:04.0 edu      twins (INTx + one MSI vector)
#   00:05.0 igb     00:09.0 igb      twins (10 MSI-X vectors)
#   00:07.0 virtio-net-pci, 64 MSI-X vectors
#   00:08.0 edu     spare, for the IMS fixture
#
# (QEMU reserves devfn+0x80..+0x8e on the root bus for each igb's SR-IOV VFs,
# so two igbs must be at least two slots apart: 05.0 and 06.0 clash.)
#
# all behind an Intel IOMMU with interrupt remapping. The initramfs holds
# static busybox, tools/vm/init, tools/vm/guest/*, GUEST_SCRIPT,
# build/selftests/ (as /selftests) and the project's *.ko (as /modules).
#
# The kernel console goes to the terminal and to build/vm/console.log; the
# guest's results (TAP) come back through the kernel log, as lines prefixed
# "vpi-result: ", into build/vm/results.tap, whose last line is
# "exit=<guest script status>". (The kernel console is written by polling;
# a second serial port lost its interrupts in a starved TCG guest and
# stalled. ttyS1 still exists, logged to build/vm/ttyS1.log.)
#
# Fails when the guest script fails, when the guest does not finish (crash,
# panic or VM_TIMEOUT seconds, default 900), or when the kernel log shows a
# splat (BUG, WARNING, KASAN, lockdep, kmemleak, RCU stall, hung task...).
#
# Environment: VM_TIMEOUT (seconds), VM_ACCEL (kvm|tcg, default: probed),
# VM_APPEND (extra kernel command line), VM_OUT (instead of build/vm, so
# that several runs can go on at once), VM_SELFTESTS (instead of
# build/selftests), VM_KDIR (a built kernel tree to boot, its
# arch/x86/boot/bzImage and .config, instead of the $FLAVOUR one of
# tools/kernel/build.sh), VM_MODULES_DIR (the directory whose *.ko go to
# /modules, instead of the repository's top), FLAVOUR. tools/intree.sh sets
# VM_KDIR and VM_MODULES_DIR for the in-tree build.
#
# VM_BENCH=1 (make bench, tools/bench/bench.sh) adds a twin of the
# many-vector device, another virtio-net-pci with 64 MSI-X vectors at
# 00:0a.0, and boots VM_BENCH_SMP vCPUs (default 24) of which only two come
# up (maxcpus=2): the benchmark's IMS phase brings the others online for
# their interrupt vectors. Without it the topology above is unchanged.
#
# VM_MEM (default 1G) and VM_SMP (default 2) size the guest.
#
# QEMU as the VMM (vfio_nested_qemu_test.sh, in build/selftests/nested):
# this host's qemu-system-x86_64 with its shared libraries (ldd), the
# firmware a q35 -kernel boot needs and the nested guest's kernel (the
# bzImage of the tree named in build/selftests/nested/kernel) go to /nested
# in the initramfs, only when that test is in the set: GUEST_SCRIPT is
# check.sh and names it, or names no test at all. VM_NESTED=1 packs it
# always, VM_NESTED=0 never.
# The whole script is one block, which bash reads before running any of
# it: editing this file while a guest runs cannot break that run.
{
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/..
# shellcheck source=lib.sh
. "$(dirname "$0")/../lib.sh"

[ $# -ge 1 ] || die "usage: $0 GUEST_SCRIPT [ARGS...]"
script=$1
shift
[ -f "$script" ] || die "guest script $script not found"

VM_TIMEOUT=${VM_TIMEOUT:-900}
KDIR=${VM_KDIR:-$(kernel_dir)}
bzimage=$KDIR/arch/x86/boot/bzImage
if [ -n "${VM_KDIR:-}" ]; then
	[ -f "$bzimage" ] || die "no kernel in VM_KDIR: $bzimage is missing"
elif ! [ -f "$KDIR/.vpi-built" ] || ! [ -f "$bzimage" ]; then
	die "no $FLAVOUR kernel in $KDIR: run tools/kernel/build.sh first"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing: run tools/install.sh"

out=${VM_OUT:-$TOP/build/vm}
selftests=${VM_SELFTESTS:-$TOP/build/selftests}
modules=${VM_MODULES_DIR:-$TOP}
mkdir -p "$out"
exec 8>"$out/.lock"
flock -n 8 || die "another run is using $out"

console=$out/console.log
results=$out/results.tap
initrd=$out/initramfs.cpio.gz

# Packs a directory tree into a newc cpio archive, gzip-compressed.
pack() {
	(cd "$1" && find . -print0 | LC_ALL=C sort -z |
		cpio --quiet -o -0 -H newc -R 0:0) | gzip -1 >"$2"
}

# Copies a kernel module, without its debug information.
copy_module() {
	local strip=llvm-strip$LLVM_SUFFIX
	if command -v "$strip" >/dev/null; then
		"$strip" --strip-debug -o "$2" "$1"
	else
		cp "$1" "$2"
	fi
}

build_initramfs() {
	local root=$out/root f
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,guest,modules,selftests}
	cp /bin/busybox "$root/bin/busybox"
	install -m 0755 "$TOP/tools/vm/init" "$root/init"
	cp "$TOP"/tools/vm/guest/* "$root/guest/"
	cp "$script" "$root/guest/"
	printf '%s\n' "$(basename "$script")" "$@" >"$root/guest/cmdline"
	if [ -d "$selftests" ]; then
		cp -a "$selftests/." "$root/selftests/"
	else
		echo "warning: $selftests does not exist: no tests in the guest" >&2
	fi
	for f in "$modules"/*.ko; do
		[ -e "$f" ] || continue
		copy_module "$f" "$root/modules/$(basename "$f")"
	done
	for f in "$root"/selftests/*.ko; do
		[ -e "$f" ] || continue
		copy_module "$f" "$f.tmp" && mv "$f.tmp" "$f"
	done
	if nested_wanted "$@"; then
		pack_nested "$root"
	fi
	pack "$root" "$initrd"
}

# Whether the nested QEMU bundle goes in (see VM_NESTED above); "$@" are
# the guest script's arguments.
nested_wanted() {
	local a named=0

	case ${VM_NESTED:-auto} in
	0) return 1 ;;
	1) return 0 ;;
	esac
	[ "$(basename "$script")" = check.sh ] || return 1
	for a in "$@"; do
		case $a in
		vfio_nested_qemu_test.sh | vfio_nested_qemu_test.sh:*) return 0 ;;
		-*) ;;
		*) named=1 ;;
		esac
	done
	[ "$named" = 0 ]
}

# Packs QEMU, its libraries, its firmware and the nested guest's kernel into
# $1/nested (bin/, lib/, share/, bzImage, kernel). QEMU runs there through
# its own loader: lib/ld-linux-x86-64.so.2 --library-path lib bin/... -L share.
pack_nested() {
	local dir=$1/nested qemu tree lib
	local fw=(/usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot_dma.bin
		/usr/share/qemu/kvmvapic.bin)

	tree=$(cat "$selftests/nested/kernel" 2>/dev/null) || true
	if [ -z "$tree" ] || ! [ -f "$tree/arch/x86/boot/bzImage" ]; then
		echo "warning: no nested guest kernel (build/selftests/nested/kernel): no QEMU bundle, vfio_nested_qemu_test.sh will skip" >&2
		return 0
	fi
	qemu=$(command -v qemu-system-x86_64)
	mkdir -p "$dir/bin" "$dir/lib" "$dir/share"
	cp "$qemu" "$dir/bin/"
	for lib in $(ldd "$qemu" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		cp -L "$lib" "$dir/lib/"
	done
	cp "${fw[@]}" "$dir/share/"
	cp "$tree/arch/x86/boot/bzImage" "$dir/bzImage"
	basename "$tree" >"$dir/kernel"
	echo "    /nested: $(du -sk "$dir" | cut -f1) KiB (QEMU, libraries, firmware, kernel of $(basename "$tree"))"
}

# Prints "kvm" when a KVM guest really boots on this machine, else "tcg".
# The answer is cached per host kernel and QEMU version: the probe boots our
# kernel with an initramfs that only prints a marker, for at most 30 s.
probe_accel() {
	local qver key dir marker=vpi-kvm-probe-ok
	qver=$(qemu-system-x86_64 --version | head -1 | awk '{print $4}')
	key="$(uname -r)-qemu-$qver"
	dir=$CACHE/kvm-probe
	if [ -f "$dir/$key" ]; then
		cat "$dir/$key"
		return
	fi
	mkdir -p "$dir"
	local answer=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		local tmp
		echo "==> probing whether a KVM guest boots here (once; cached in $dir/$key)" >&2
		tmp=$(mktemp -d)
		mkdir -p "$tmp/root/bin"
		cp /bin/busybox "$tmp/root/bin/"
		printf '#!/bin/busybox sh\n/bin/busybox echo %s\n/bin/busybox poweroff -f\n' \
			"$marker" >"$tmp/root/init"
		chmod 0755 "$tmp/root/init"
		pack "$tmp/root" "$tmp/initrd"
		timeout -k 5 30 qemu-system-x86_64 -accel kvm -M q35,kernel-irqchip=split \
			-cpu max -smp 2 -m 512 -nodefaults -no-reboot -display none \
			-device intel-iommu,intremap=on -serial "file:$tmp/log" \
			-kernel "$bzimage" -initrd "$tmp/initrd" \
			-append "console=ttyS0 intel_iommu=on panic=-1" \
			</dev/null >/dev/null 2>&1 || true
		grep -q "^$marker" "$tmp/log" 2>/dev/null && answer=kvm
		rm -rf "$tmp"
	fi
	echo "$answer" >"$dir/$key"
	echo "$answer"
}

step "building the initramfs"
build_initramfs "$@"
echo "    $initrd: $(du -k "$initrd" | cut -f1) KiB"
echo "    kernel $bzimage, modules from $modules"
step_done

accel=${VM_ACCEL:-$(probe_accel)}
case $accel in
kvm) machine=q35,kernel-irqchip=split ;;
tcg) machine=q35 ;;
*) die "VM_ACCEL must be kvm or tcg" ;;
esac

# panic=-1 with -no-reboot: a panic ends the run at once. oops=panic: an oops
# ends it too, rather than leaving a half-dead guest until the timeout. WARNs do
# not panic; they fail the run through the console log check below.
# no_timer_check: a starved TCG guest can miss the boot-time check that
# the timer interrupt arrives through the remapped IO-APIC, and panics.
# A soft lockup or an RCU stall (an interrupt storm, say) fails the run
# anyway; panicking on it ends the boot at once with the stacks, instead of
# a guest too busy to finish its script before VM_TIMEOUT.
append="console=ttyS0 intel_iommu=on panic=-1 oops=panic printk.devkmsg=on no_timer_check"
append+=" softlockup_panic=1 sysctl.kernel.panic_on_rcu_stall=1"
if grep -q '^CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF=y' "$KDIR/.config"; then
	append+=" kmemleak=on"
fi
append+=${VM_APPEND:+ $VM_APPEND}

smp=${VM_SMP:-2}
bench=()
if [ "${VM_BENCH:-0}" = 1 ]; then
	smp=${VM_BENCH_SMP:-24}
	bench=(-netdev "user,id=vnet1,restrict=on"
		-device "virtio-net-pci,vectors=64,netdev=vnet1,addr=0a.0")
	append+=" maxcpus=2"
fi

edu="edu,dma_mask=0xffffffffffffffff"
qemu=(qemu-system-x86_64 -accel "$accel" -M "$machine" -cpu max -smp "$smp" -m "${VM_MEM:-1G}"
	-nodefaults -no-reboot -display none
	-device "intel-iommu,intremap=on"
	-device "$edu,addr=03.0"
	-device "$edu,addr=04.0"
	-netdev "user,id=igb0,restrict=on" -device "igb,netdev=igb0,addr=05.0"
	-netdev "user,id=igb1,restrict=on" -device "igb,netdev=igb1,addr=09.0"
	-netdev "user,id=vnet0,restrict=on"
	-device "virtio-net-pci,vectors=64,netdev=vnet0,addr=07.0"
	-device "$edu,addr=08.0"
	"${bench[@]}"
	-chardev "stdio,id=con,logfile=$console,logappend=off" -serial "chardev:con"
	-chardev "file,id=res,path=$out/ttyS1.log" -serial "chardev:res"
	-kernel "$bzimage" -initrd "$initrd" -append "$append")

step "booting $FLAVOUR kernel ($accel, timeout ${VM_TIMEOUT} s): $(basename "$script") $*"
rm -f "$console" "$results"
rc=0
timeout --foreground -k 10 "$VM_TIMEOUT" "${qemu[@]}" </dev/null || rc=$?
step_done

fail=0
[ -f "$console" ] || : >"$console"
tr -d '\000' <"$console" | sed -n 's/^\[ *[0-9]*\.[0-9]*\] vpi-result: //p' | tr -d '\r' >"$results"

echo "==> results ($results)"
tr -d '\r' <"$results"

if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "FAIL: the guest did not finish within $VM_TIMEOUT s (VM_TIMEOUT)"
	fail=1
elif [ "$rc" != 0 ]; then
	echo "FAIL: QEMU exited with status $rc"
	fail=1
fi

status=$(tr -d '\r' <"$results" | sed -n 's/^exit=\([0-9]*\)$/\1/p' | tail -1)
if [ -z "$status" ]; then
	echo "FAIL: the guest script reported no exit status (crash, panic or timeout)"
	fail=1
elif [ "$status" != 0 ]; then
	echo "FAIL: the guest script exited with status $status"
	fail=1
fi

# Kernel splats. Only kernel log lines (they carry a printk timestamp) count, so
# that test output on the console cannot match by accident.
splat='BUG:|WARNING:|KASAN|UBSAN|Oops|general protection|Kernel panic|kernel BUG at'
splat+='|possible circular locking|possible recursive locking|inconsistent lock state'
splat+='|suspicious RCU usage|INFO: possible|INFO: trying to register non-static key'
splat+='|unreferenced object|suspected memory leak'
splat+='|rcu: INFO:|detected stall|blocked for more than|soft lockup|hard LOCKUP'
splat+='|sleeping function called from invalid context|scheduling while atomic'
splat+='|Call Trace:'
pattern="\\[ *[0-9]+\\.[0-9]+\\] .*($splat)"
# Test output travels in the kernel log too: it is not a splat.
# (NUL bytes, which a killed guest can leave, would make grep call the log
# binary and print no line: strip them.)
if tr -d '\000' <"$console" | grep -av 'vpi-result: ' | grep -Eq "$pattern"; then
	echo "FAIL: kernel splat in the console log ($console):"
	tr -d '\000\r' <"$console" | grep -av 'vpi-result: ' |
		grep -E -n -B 3 -A 25 "$pattern" | head -n 300
	fail=1
fi

if [ "$fail" = 0 ]; then
	echo "==> PASS: $(basename "$script") $*"
else
	echo "==> FAIL: $(basename "$script") $* (console log: $console)"
fi
exit "$fail"
}
