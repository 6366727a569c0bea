# SPDX-License-Identifier: GPL-2.0
#
# The project's commands. The module itself is built by kbuild from Kbuild
# (`make -C $KDIR M=$PWD`); `make module` does that against the project's
# own kernel. See README.md.

SHELL := /bin/bash
LIB := . tools/lib.sh
FLAVOUR ?= debug
export FLAVOUR

.PHONY: all install kernel module selftests run check check-nested intree bench stress fmt lint doc clean

all: module

install:
	@tools/install.sh

kernel: install
	@tools/kernel/build.sh

module: kernel
	@$(LIB) && modlock "$${KMAKE[@]}" -s -C "$$(kernel_dir)" M=$(CURDIR) modules

selftests: module
	@$(LIB) && modlock "$${KMAKE[@]}" -s -C tools/testing/selftests/vfio_pci_intrs \
		KDIR="$$(kernel_dir)" OUTPUT=$(CURDIR)/build/selftests

# The main job: boot a guest, load the module, show interrupts arriving.
run: module selftests
	@VM_APPEND="loglevel=4 $${VM_APPEND:-}" tools/vm/run.sh tools/vm/guest/demo.sh

# Everything: build, host-side checks, guest tests, one summary.
check: module selftests
	@tools/check.sh

# QEMU as the VMM, alone: vfio_nested_qemu_test.sh in its own guest boot,
# where QEMU runs a nested guest with devices assigned through vfio-pci and
# vfio-pci-intrs (build/vm-nested; tools/check.sh runs it as its own stage).
# The nested guest boots the release kernel, built first if missing.
check-nested: module
	@FLAVOUR=release tools/kernel/build.sh
	@$(LIB) && modlock "$${KMAKE[@]}" -s -C tools/testing/selftests/vfio_pci_intrs \
		KDIR="$$(kernel_dir)" OUTPUT=$(CURDIR)/build/selftests
	@VM_OUT=$${VM_OUT:-$(CURDIR)/build/vm-nested} VM_TIMEOUT=$${VM_TIMEOUT:-4000} \
		tools/vm/run.sh tools/vm/guest/check.sh vfio_nested_qemu_test.sh

# The reliability tests (random differential sequences, concurrency, fault
# injection, teardown under load) with a long budget, VPI_STRESS_SECONDS per
# run (default 300), and their summary: tools/stress.sh.
stress: module selftests
	@tools/stress.sh

# The module built in a kernel tree (CONFIG_VFIO_PCI_INTRS=m), then the guest
# tests on that kernel: tools/intree.sh.
intree: module selftests
	@tools/intree.sh

# Upstream vfio-pci against vfio-pci-intrs on the release kernel, side by
# side in one guest boot: tools/bench/bench.sh builds its own copy of the
# module in build/bench/ (not next to the sources) and writes
# build/bench/{bench.csv,bench.png,table.rst}. Documentation/benchmarks.rst.
bench: install
	@tools/bench/bench.sh

fmt: kernel
	@$(LIB) && /usr/bin/rustfmt --config-path "$$(kernel_dir)/.rustfmt.toml" \
		$$(git ls-files '*.rs')

lint: module
	@tools/lint.sh

doc: module
	@$(LIB) && modlock "$${KMAKE[@]}" -s -C "$$(kernel_dir)" M=$(CURDIR) VPI_RUSTDOC=1 && \
		echo "rustdoc: $(CURDIR)/Documentation/output/rustdoc/vfio_pci_intrs_main/index.html"

clean:
	@$(LIB) && [ ! -d "$$(kernel_dir)" ] || \
		"$${KMAKE[@]}" -s -C "$$(kernel_dir)" M=$(CURDIR) clean
	rm -rf build Documentation/output
