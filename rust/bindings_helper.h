/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of bindgen for the module's own bindings (rust/bindings.rs): the
 * kernel headers whose functions and types the safe layer in rust/ wraps,
 * and the module's C helpers. The allowlists are in Kbuild.
 */
#include <linux/eventfd.h>
#include <linux/vfio_pci_intrs.h>
#include "helpers.h"
