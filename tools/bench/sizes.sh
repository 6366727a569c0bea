#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Usage: tools/bench/sizes.sh KDIR MODULE.ko WORKDIR
#
# Prints, as CSV rows of vfio_bench's format (case,n,unit,driver,device,
# samples,median,p99,min,mean; one sample), the size in bytes of a
# per-vector context and of the slab object that holds it:
#
# - upstream: struct vfio_pci_irq_ctx of the kernel tree KDIR
#   (drivers/vfio/pci/vfio_pci_intrs.c), read from the DWARF of that file
#   compiled again, into WORKDIR, with the kernel's own command line plus -g;
#   one kzalloc() per active vector, freed when the vector is cleared;
# - ours: VectorCtx and the red-black tree node that holds it,
#   Node<u32, VectorCtx> (one KBox per vector context, kept until the device
#   is unbound), from the DWARF of MODULE.ko built with KRUSTFLAGS=-g.
#
# The slab object is the kmalloc size class the allocation lands in.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/../lib.sh"

[ $# = 3 ] || die "usage: $0 KDIR MODULE.ko WORKDIR"
# The longest interrupt name of the benchmark, with its NUL.
VFIO_NAME_EXAMPLE="vfio-msix[63](0000:00:0a.0)."
KDIR=$1 ko=$2 work=$3
dwarfdump=llvm-dwarfdump$LLVM_SUFFIX

# The byte size of the first DWARF structure named (regex) $2 in object $1.
type_size() {
	"$dwarfdump" --debug-info --regex --name="$2" "$1" 2>/dev/null |
		awk '/DW_TAG/ { s = ($2 == "DW_TAG_structure_type") }
		     s && /DW_AT_byte_size/ { gsub(/[()]/, "", $2); print $2; exit }' |
		{ read -r hex && echo $((hex)); }
}

# The kmalloc size class of an allocation of $1 bytes (SLUB, x86-64).
kmalloc_class() {
	local n=$1 c
	for c in 8 16 32 64 96 128 192 256 512 1024 2048 4096 8192; do
		if [ "$n" -le "$c" ]; then
			echo "$c"
			return
		fi
	done
	echo "$n"
}

row() {
	printf '%s,1,B,%s,%s,1,%s,%s,%s,%s\n' "$1" "$2" "$3" "$4" "$4" "$4" "$4"
}

# Upstream: the kernel's own compile command for the file, plus -g.
cmdfile=$KDIR/drivers/vfio/pci/.vfio_pci_intrs.o.cmd
[ -f "$cmdfile" ] || die "$cmdfile is missing: is $KDIR a built kernel with VFIO_PCI?"
# (The saved command goes on with objtool after a ";".)
cmd=$(sed -n 's/^savedcmd_[^ ]* := //p' "$cmdfile")
cmd=${cmd%%;*}
mkdir -p "$work"
obj=$work/upstream_vfio_pci_intrs.o
cmd=${cmd/-o drivers\/vfio\/pci\/vfio_pci_intrs.o/-o $obj}
cmd=${cmd/-Wp,-MMD,drivers\/vfio\/pci\/.vfio_pci_intrs.o.d/}
(cd "$KDIR" && eval "$cmd -g -gdwarf-5") || die "compiling $KDIR's vfio_pci_intrs.c with -g failed"
up=$(type_size "$obj" '^vfio_pci_irq_ctx$') || die "no struct vfio_pci_irq_ctx in $obj"
producer=$(type_size "$obj" '^irq_bypass_producer$') || producer=0

ctx=$(type_size "$ko" '^VectorCtx$') || die "no VectorCtx in $ko's debug information"
node=$(type_size "$ko" '^Node<u32, .*VectorCtx>$') || die "no Node<u32, VectorCtx> in $ko"
# What else an active MSI/MSI-X/IMS vector allocates, ours: the trigger
# (Arc<Trigger>), the handler's registration (KBox<Registration<MsiHandler>>)
# and the irq-bypass producer (KBox<irq_bypass_producer>); both drivers
# allocate the interrupt's name, "vfio-msix[63](0000:00:0a.0)" at most here.
trig=$(type_size "$ko" '^ArcInner<.*::Trigger>$') || die "no ArcInner<Trigger> in $ko"
reg=$(type_size "$ko" '^Registration<.*::MsiHandler>$') || die "no Registration<MsiHandler> in $ko"
name=$(kmalloc_class ${#VFIO_NAME_EXAMPLE})
up_active=$(($(kmalloc_class "$up") + name))
ours_active=$(($(kmalloc_class "$node") + $(kmalloc_class "$trig") + \
	$(kmalloc_class "$reg") + $(kmalloc_class "$producer") + name))

echo "case,n,unit,driver,device,samples,median,p99,min,mean"
row ctx_struct vfio-pci "struct vfio_pci_irq_ctx" "$up"
row ctx_struct vfio-pci-intrs "VectorCtx" "$ctx"
row ctx_alloc vfio-pci "kzalloc(vfio_pci_irq_ctx)" "$up"
row ctx_alloc vfio-pci-intrs "KBox<Node<u32 VectorCtx>>" "$node"
row ctx_slab vfio-pci "kmalloc-$(kmalloc_class "$up")" "$(kmalloc_class "$up")"
row ctx_slab vfio-pci-intrs "kmalloc-$(kmalloc_class "$node")" "$(kmalloc_class "$node")"
row ctx_active_slab vfio-pci "ctx+name" "$up_active"
row ctx_active_slab vfio-pci-intrs "node+trigger+registration+producer+name" "$ours_active"
echo "# irq_bypass_producer: $producer bytes (embedded in vfio_pci_irq_ctx; a KBox of ours)" >&2
