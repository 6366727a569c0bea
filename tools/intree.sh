#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Usage: tools/intree.sh [build|run|all] [CHECK_ARGS...]
#   (default: all; CHECK_ARGS go to tools/vm/guest/check.sh, e.g. test
#   names TEST[:DRIVER|:PAIR] for only those runs; none: the whole suite)
#
# The in-tree build: the module as a driver of a kernel tree, built by the
# kernel's own build (CONFIG_VFIO_PCI_INTRS=m), then the guest test suite
# on that kernel with that module.
#
# build: makes (once) a copy of the $FLAVOUR kernel tree of
#   tools/kernel/build.sh, keyed like it, "<kernel_dir>-intree" in the cache;
#   adds drivers/vfio/pci/vfio_pci_intrs/ (Kbuild, Kconfig, src/, rust/),
#   include/linux/vfio_pci_intrs.h, the `source` line in
#   drivers/vfio/pci/Kconfig and the obj- line in drivers/vfio/pci/Makefile;
#   sets CONFIG_VFIO_PCI_INTRS=m; builds bzImage and modules. The copy is
#   already built, so the build is incremental: kbuild tracks config symbols
#   per file, so only the new driver is compiled. Later runs copy only the
#   module's changed sources into the tree, then rebuild.
# run: boots that kernel (tools/vm/run.sh with VM_KDIR, VM_MODULES_DIR) and
#   runs tools/vm/guest/check.sh with the in-tree vfio_pci_intrs.ko and the
#   selftests of build/selftests (VM_SELFTESTS). Output in VM_OUT, default
#   build/vm-intree; VM_TIMEOUT defaults to 2400 s, as in tools/check.sh.
#
# The selftests' modules (vpi_api_test.ko, vpi_vidxd.ko) are built against
# the out-of-tree module; `build` checks that the in-tree module exports the
# same symbols with the same CRCs (its Module.symvers against the
# repository's), so that they load with the in-tree module.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

mode=all
case ${1:-} in
build | run | all)
	mode=$1
	shift
	;;
esac

KDIR=$(kernel_dir)
TREE=$KDIR-intree
DRV=drivers/vfio/pci/vfio_pci_intrs
KO=$TREE/$DRV/vfio_pci_intrs.ko

# Copies file $1 to $2 when their contents differ. Unchanged files keep
# their times, so kbuild rebuilds only what changed.
sync_file() {
	cmp -s "$1" "$2" && return
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2"
}

# The module's sources, relative to the repository.
module_sources() {
	echo Kbuild
	echo Kconfig
	(cd "$TOP" && find src rust -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' \) \
		! -path rust/bindings_generated.rs | LC_ALL=C sort)
}

# Makes the copy of the built kernel tree, with the glue for the driver.
make_tree() {
	local src old tmp n
	src=$(realpath "$KDIR")
	[ -f "$src/.vpi-built" ] || die "no $FLAVOUR kernel in $KDIR: run tools/kernel/build.sh first"

	step "copying $src to $TREE (once)"
	tmp=$TREE.tmp
	rm -rf "$tmp"
	cp -a "$src" "$tmp"
	rm -f "$tmp/.vpi-built"
	# kbuild records the objtool and Rust command lines with the tree's
	# absolute path: point them at the copy, or the copy would rebuild
	# objtool, and so every object (each depends on objtool).
	old=$src
	(cd "$tmp" && grep -rlZF --include='.*.cmd' "$old" . |
		xargs -0r sed -i "s|$old|$TREE|g")
	echo "    $(cd "$tmp" && grep -rlF --include='.*.cmd' "$TREE" . | wc -l) command files relocated"

	# The driver's glue in drivers/vfio/pci/.
	grep -q vfio_pci_intrs/Kconfig "$tmp/drivers/vfio/pci/Kconfig" || {
		n=$(grep -n '^endmenu$' "$tmp/drivers/vfio/pci/Kconfig" | tail -1 | cut -d: -f1)
		[ -n "$n" ] || die "no endmenu in drivers/vfio/pci/Kconfig"
		sed -i "${n}i source \"$DRV/Kconfig\"\\n" "$tmp/drivers/vfio/pci/Kconfig"
	}
	# shellcheck disable=SC2016 # a make variable
	grep -q 'vfio_pci_intrs/' "$tmp/drivers/vfio/pci/Makefile" ||
		printf '\nobj-$(CONFIG_VFIO_PCI_INTRS) += vfio_pci_intrs/\n' \
			>>"$tmp/drivers/vfio/pci/Makefile"
	mv "$tmp" "$TREE"
	step_done
}

build() {
	local f stale log built files

	mkdir -p "$CACHE"
	# One kernel build at a time on this machine (as tools/kernel/build.sh).
	exec 9>"$CACHE/kernel-build.lock"
	flock 9

	[ -d "$TREE" ] || make_tree

	step "syncing the module into $TREE/$DRV"
	mapfile -t files < <(module_sources)
	for f in "${files[@]}"; do
		sync_file "$TOP/$f" "$TREE/$DRV/$f"
	done
	# Sources removed from the repository leave the tree too.
	while IFS= read -r f; do
		printf '%s\n' "${files[@]}" | grep -qxF "$f" || { echo "    removing $f"; rm -f "$TREE/$DRV/$f"; }
	done < <(cd "$TREE/$DRV" && find src rust -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' \) \
		! -path rust/bindings_generated.rs)
	sync_file "$TOP/include/linux/vfio_pci_intrs.h" "$TREE/include/linux/vfio_pci_intrs.h"
	step_done

	cd "$TREE"
	step "configuring CONFIG_VFIO_PCI_INTRS=m"
	# Only when needed: olddefconfig takes a while, and a rewritten .config
	# makes kbuild resync the configuration.
	if ! grep -qx 'CONFIG_VFIO_PCI_INTRS=m' .config || [ "$DRV/Kconfig" -nt include/config/auto.conf ]; then
		scripts/config --file .config -m VFIO_PCI_INTRS
		"${KMAKE[@]}" -s olddefconfig >/dev/null
	fi
	grep -qx 'CONFIG_VFIO_PCI_INTRS=m' .config ||
		die "CONFIG_VFIO_PCI_INTRS=m did not stick: $(grep -E '^(# )?CONFIG_VFIO_PCI_INTRS[= ]' .config || echo absent)"
	step_done

	step "building the kernel with the module in tree ($(nproc) jobs)"
	# Not silent: the log tells what was rebuilt. Only the rest is shown.
	log=$TREE/.vpi-intree-build.log
	"${KMAKE[@]}" -j"$(nproc)" bzImage modules >"$log" 2>&1 || {
		grep -Ev '^  [A-Z0-9_]+ ' "$log" | tail -n 100
		die "in-tree kernel build failed ($log)"
	}
	grep -Ev '^  [A-Z0-9_]+ ' "$log" || true
	built=$(grep -E '^  (CC|AS|RUSTC|BINDGEN)( \[M\])? ' "$log" || true)
	echo "    compiled $(grep -c . <<<"$built") files, $(grep -v " $DRV/" <<<"$built" | grep -c .) of them outside $DRV"
	[ -f "$KO" ] || die "$KO was not built"
	step_done

	# The selftests' modules link against the out-of-tree module's exports.
	step "checking the in-tree module's exports against $TOP/Module.symvers"
	[ -f "$TOP/Module.symvers" ] || die "$TOP/Module.symvers is missing: make module"
	exports() {
		awk -F '\t' '$3 ~ /(^|\/)vfio_pci_intrs$/ { print $1, $2, $4, $5 }' "$1" | LC_ALL=C sort
	}
	stale=$(diff <(exports "$TOP/Module.symvers") <(exports "$TREE/Module.symvers")) ||
		die "the in-tree module's exports differ from $TOP/Module.symvers (make module; make selftests):"$'\n'"$stale"
	echo "    $(exports "$TREE/Module.symvers" | wc -l) exports, same CRCs"
	step_done
	echo "==> in-tree module: $KO"
}

run() {
	local out mods

	[ -f "$KO" ] || die "no in-tree module ($KO): run $0 build first"
	out=${VM_OUT:-$TOP/build/vm-intree}
	mods=$out/modules-intree
	# A snapshot of the module, so that a rebuild cannot change it under the run.
	rm -rf "$mods"
	mkdir -p "$mods"
	cp "$KO" "$mods/"
	VM_OUT=$out VM_KDIR=$TREE VM_MODULES_DIR=$mods VM_TIMEOUT=${VM_TIMEOUT:-2400} \
		"$TOP/tools/vm/run.sh" "$TOP/tools/vm/guest/check.sh" "$@"
}

case $mode in
build) build ;;
run) run "$@" ;;
all)
	(build)
	run "$@"
	;;
esac
