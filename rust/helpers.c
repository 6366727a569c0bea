// SPDX-License-Identifier: GPL-2.0
/*
 * Non-inline wrappers around `static inline` kernel functions, for Rust.
 * See helpers.h.
 */
#include "helpers.h"

void vpi_helper_eventfd_signal(struct eventfd_ctx *ctx)
{
	eventfd_signal(ctx);
}
