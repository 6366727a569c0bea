/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of vfio_pci_intrs.ko: non-inline wrappers around the kernel's
 * `static inline` functions and macros, which bindgen cannot bind. Each
 * helper has the name of the wrapped function with a `vpi_helper_` prefix.
 */
#ifndef _VPI_HELPERS_H
#define _VPI_HELPERS_H

#include <linux/eventfd.h>

void vpi_helper_eventfd_signal(struct eventfd_ctx *ctx);

#endif /* _VPI_HELPERS_H */
