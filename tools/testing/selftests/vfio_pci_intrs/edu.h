/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's "edu" educational PCI device (docs/specs/edu.rst in QEMU): the
 * registers of BAR0 the interrupt tests use.
 */
#ifndef EDU_H
#define EDU_H

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8

#define EDU_BAR			0
#define EDU_IDENT		0x00	/* read: 0x010000ed (version 1.0) */
#define EDU_IDENT_VALUE		0x010000ed
#define EDU_LIVENESS		0x04	/* reads back the bitwise NOT of a write */
#define EDU_IRQ_STATUS		0x24	/* read: pending interrupt status bits */
#define EDU_IRQ_RAISE		0x60	/* write: OR bits into status, raise */
#define EDU_IRQ_ACK		0x64	/* write: clear status bits, lower if 0 */

#endif /* EDU_H */
