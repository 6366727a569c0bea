/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's "igb" device (Intel 82576 physical function): the BAR0 registers
 * the interrupt tests use to make the device send MSI-X and MSI messages.
 *
 * With GPIE.Multiple_MSIX set, writing a bit mask to EICS raises the
 * extended causes of that mask; a cause that is enabled in EIMS and was not
 * already pending sends MSI-X vector <bit number>, once. Causes set in EIAC
 * are cleared again right after the message, so the next EICS write of the
 * same bit sends again. Without Multiple_MSIX, a cause written to ICS that is
 * enabled in IMS sends MSI vector 0 (when MSI is on); writing ICR clears the
 * written causes (write 1 to clear).
 */
#ifndef IGB_H
#define IGB_H

#define IGB_VENDOR_ID		0x8086
#define IGB_DEVICE_ID		0x10c9

#define IGB_BAR			0
#define IGB_ICR			0x00c0	/* interrupt cause read, W1C */
#define IGB_ICS			0x00c8	/* interrupt cause set */
#define IGB_IMS			0x00d0	/* interrupt mask set */
#define IGB_IMC			0x00d8	/* interrupt mask clear */
#define IGB_GPIE		0x1514	/* general purpose interrupt enable */
#define IGB_EICS		0x1520	/* extended interrupt cause set */
#define IGB_EIMS		0x1524	/* extended interrupt mask set */
#define IGB_EIMC		0x1528	/* extended interrupt mask clear */
#define IGB_EIAC		0x152c	/* extended interrupt auto clear */
#define IGB_EICR		0x1580	/* extended interrupt cause read */
#define IGB_EITR(n)		(0x1680 + 4 * (n)) /* throttling, per vector */

#define IGB_GPIE_MULTIPLE_MSIX	0x00000010
/* MDI access done: a cause only a driver's MDIC access raises. */
#define IGB_ICR_MDAC		0x00000200

#define IGB_MSIX_VECTORS	10
#define IGB_MSIX_ALL		((1u << IGB_MSIX_VECTORS) - 1)

#endif /* IGB_H */
