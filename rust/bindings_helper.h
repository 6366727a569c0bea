/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of bindgen for the module's own bindings (rust/bindings.rs): the
 * kernel headers whose functions and types the safe layer in rust/ wraps,
 * and the module's C helpers. The allowlists are in Kbuild.
 */
#include <linux/debugfs.h>
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqbypass.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>
#include <linux/vfio_pci_intrs.h>
#include "helpers.h"
