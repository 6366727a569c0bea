// SPDX-License-Identifier: GPL-2.0
/*
 * vpi_nested_l2: the device driver of the nested guest of
 * vfio_nested_qemu_test.sh. That test runs QEMU inside the test guest and
 * assigns it edu and igb devices bound to vfio-pci and to vfio-pci-intrs
 * (and, if QEMU takes it, a virtual device of vpi_vidxd.ko); this module
 * runs in the nested guest, binds them as an ordinary PCI driver, makes
 * each device raise its interrupts and counts what its handlers see:
 *
 *   edu (1234:11e8)    INTx, then MSI: a write of the raise register
 *   igb (8086:10c9)    MSI-X, every vector (EICS), then MSI (ICS)
 *   vidxd (1234:11e9)  MSI-X, every vector: nothing in the device raises
 *                      them; the test guest fires them (vpi_vidxd's debugfs)
 *                      once this module prints "vidxd ... ready", one at a
 *                      time, each after the line "vidxd ... got" of the one
 *                      before
 *
 * Each interrupt is raised once, then waited for, @rounds times. One line
 * per device, interrupt type (and MSI-X vector) reports the counts:
 *
 *   vpi-l2: count <kind> <bdf> <type>[<vector>] raised=<n> handled=<n> spurious=<n>
 *
 * raised: interrupts the device was asked for; handled: handler calls that
 * found the device's cause (for MSI and MSI-X every call counts);
 * spurious: calls that found nothing (INTx is shared: not an error there;
 * for MSI and MSI-X any is). The counts are taken a second after the last
 * wait, so that late duplicates count too. "vpi-l2: done" ends the report.
 *
 * Module parameters: rounds (default 3), wait_ms (how long to wait for
 * each interrupt, default 60000: TCG inside TCG is slow), vidxd_wait_ms
 * (how long to wait for each vidxd vector the test guest fires, default
 * 180000).
 */
#define pr_fmt(fmt) "vpi-l2: " fmt

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/slab.h>

static unsigned int rounds = 3;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Interrupts raised per device, type and vector");

static unsigned int wait_ms = 60000;
module_param(wait_ms, uint, 0444);
MODULE_PARM_DESC(wait_ms, "How long to wait for each interrupt (ms)");

static unsigned int vidxd_wait_ms = 180000;
module_param(vidxd_wait_ms, uint, 0444);
MODULE_PARM_DESC(vidxd_wait_ms, "How long to wait for each fired vidxd vector (ms)");

/* edu: QEMU docs/specs/edu.rst */
#define EDU_DEVICE_ID		0x11e8
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64

/* igb: see ../igb.h */
#define IGB_DEVICE_ID		0x10c9
#define IGB_ICR			0x00c0
#define IGB_ICS			0x00c8
#define IGB_IMS			0x00d0
#define IGB_IMC			0x00d8
#define IGB_GPIE		0x1514
#define IGB_EICS		0x1520
#define IGB_EIMS		0x1524
#define IGB_EIMC		0x1528
#define IGB_EIAC		0x152c
#define IGB_EICR		0x1580
#define IGB_EITR(n)		(0x1680 + 4 * (n))
#define IGB_GPIE_MULTIPLE_MSIX	0x00000010
#define IGB_ICR_MDAC		0x00000200
#define IGB_MSIX_VECTORS	10
#define IGB_MSIX_ALL		((1u << IGB_MSIX_VECTORS) - 1)

/* vpi_vidxd's virtual device */
#define VIDXD_DEVICE_ID		0x11e9
#define VIDXD_VECTORS		8

#define MAX_VECTORS		IGB_MSIX_VECTORS

struct l2_dev;

struct l2_vec {
	struct l2_dev *d;
	unsigned int nr;
	atomic_t handled;
	atomic_t spurious;
	struct completion done;
};

struct l2_dev {
	struct pci_dev *pdev;
	void __iomem *bar;
	const char *kind;
	struct l2_vec vec[MAX_VECTORS];
};

static void vec_reset(struct l2_dev *d, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		d->vec[i].d = d;
		d->vec[i].nr = i;
		atomic_set(&d->vec[i].handled, 0);
		atomic_set(&d->vec[i].spurious, 0);
		init_completion(&d->vec[i].done);
	}
}

static void report(struct l2_dev *d, const char *type, int nr, unsigned int raised)
{
	struct l2_vec *v = &d->vec[nr < 0 ? 0 : nr];
	char name[16];

	if (nr < 0)
		snprintf(name, sizeof(name), "%s", type);
	else
		snprintf(name, sizeof(name), "%s[%d]", type, nr);
	pr_info("count %s %s %s raised=%u handled=%d spurious=%d\n", d->kind,
		pci_name(d->pdev), name, raised, atomic_read(&v->handled),
		atomic_read(&v->spurious));
}

/* Waits for vector @v to have been handled @n times; false on timeout. */
static bool wait_handled(struct l2_vec *v, int n)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(wait_ms);

	while (atomic_read(&v->handled) < n) {
		long left = (long)(deadline - jiffies);

		if (left <= 0)
			return false;
		wait_for_completion_timeout(&v->done, left);
	}
	return true;
}

/* edu */

static irqreturn_t edu_irq(int irq, void *arg)
{
	struct l2_vec *v = arg;
	u32 status = ioread32(v->d->bar + EDU_IRQ_STATUS);

	if (!status) {
		atomic_inc(&v->spurious);
		return IRQ_NONE;
	}
	iowrite32(status, v->d->bar + EDU_IRQ_ACK);
	atomic_inc(&v->handled);
	complete(&v->done);
	return IRQ_HANDLED;
}

/* Raises edu's interrupt @rounds times, on whatever pdev->irq is now. */
static int edu_run(struct l2_dev *d, const char *type, unsigned long flags)
{
	unsigned int i;
	int ret;

	vec_reset(d, 1);
	ret = request_irq(pci_irq_vector(d->pdev, 0), edu_irq, flags,
			  "vpi-l2-edu", &d->vec[0]);
	if (ret)
		return ret;
	for (i = 0; i < rounds; i++) {
		iowrite32(1, d->bar + EDU_IRQ_RAISE);
		if (!wait_handled(&d->vec[0], i + 1)) {
			pr_err("%s %s: %s interrupt %u did not arrive\n",
			       d->kind, pci_name(d->pdev), type, i);
			break;
		}
	}
	msleep(1000);
	free_irq(pci_irq_vector(d->pdev, 0), &d->vec[0]);
	report(d, type, -1, rounds);
	return 0;
}

static int edu_test(struct l2_dev *d)
{
	int ret;

	/* INTx (pin A: the line may be shared) */
	ret = pci_alloc_irq_vectors(d->pdev, 1, 1, PCI_IRQ_INTX);
	if (ret < 0)
		return ret;
	ret = edu_run(d, "intx", IRQF_SHARED);
	pci_free_irq_vectors(d->pdev);
	if (ret)
		return ret;

	/* MSI: edu sends MSI instead of INTx while MSI is on */
	ret = pci_alloc_irq_vectors(d->pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		return ret;
	ret = edu_run(d, "msi", 0);
	pci_free_irq_vectors(d->pdev);
	return ret;
}

/* igb */

static irqreturn_t igb_msix_irq(int irq, void *arg)
{
	struct l2_vec *v = arg;

	/* EIAC auto-clears the cause: every call is one message. */
	atomic_inc(&v->handled);
	complete(&v->done);
	return IRQ_HANDLED;
}

static irqreturn_t igb_msi_irq(int irq, void *arg)
{
	struct l2_vec *v = arg;
	u32 icr = ioread32(v->d->bar + IGB_ICR);

	iowrite32(icr, v->d->bar + IGB_ICR);
	if (!(icr & IGB_ICR_MDAC))
		atomic_inc(&v->spurious);
	atomic_inc(&v->handled);
	complete(&v->done);
	return IRQ_HANDLED;
}

static void igb_quiesce(struct l2_dev *d)
{
	iowrite32(~0u, d->bar + IGB_EIMC);
	iowrite32(~0u, d->bar + IGB_IMC);
	iowrite32(~0u, d->bar + IGB_EICR);
	iowrite32(~0u, d->bar + IGB_ICR);
	iowrite32(0, d->bar + IGB_GPIE);
}

static int igb_test(struct l2_dev *d)
{
	struct pci_dev *pdev = d->pdev;
	unsigned int i, r;
	int ret, n;

	igb_quiesce(d);

	/* MSI-X: every vector, one EICS bit each */
	n = pci_alloc_irq_vectors(pdev, IGB_MSIX_VECTORS, IGB_MSIX_VECTORS,
				  PCI_IRQ_MSIX);
	if (n < 0)
		return n;
	vec_reset(d, IGB_MSIX_VECTORS);
	for (i = 0; i < IGB_MSIX_VECTORS; i++) {
		ret = request_irq(pci_irq_vector(pdev, i), igb_msix_irq, 0,
				  "vpi-l2-igb", &d->vec[i]);
		if (ret) {
			while (i--)
				free_irq(pci_irq_vector(pdev, i), &d->vec[i]);
			pci_free_irq_vectors(pdev);
			return ret;
		}
	}
	iowrite32(IGB_GPIE_MULTIPLE_MSIX, d->bar + IGB_GPIE);
	for (i = 0; i < IGB_MSIX_VECTORS; i++)
		iowrite32(0, d->bar + IGB_EITR(i));
	iowrite32(IGB_MSIX_ALL, d->bar + IGB_EIAC);
	iowrite32(IGB_MSIX_ALL, d->bar + IGB_EIMS);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < IGB_MSIX_VECTORS; i++) {
			iowrite32(1u << i, d->bar + IGB_EICS);
			if (!wait_handled(&d->vec[i], r + 1)) {
				pr_err("%s %s: MSI-X vector %u, round %u: no interrupt\n",
				       d->kind, pci_name(pdev), i, r);
				goto msix_done;
			}
		}
	}
msix_done:
	msleep(1000);
	igb_quiesce(d);
	for (i = 0; i < IGB_MSIX_VECTORS; i++)
		free_irq(pci_irq_vector(pdev, i), &d->vec[i]);
	pci_free_irq_vectors(pdev);
	for (i = 0; i < IGB_MSIX_VECTORS; i++)
		report(d, "msix", i, rounds);

	/* MSI: one cause (MDAC) through ICS, cleared in the handler */
	n = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (n < 0)
		return n;
	vec_reset(d, 1);
	ret = request_irq(pci_irq_vector(pdev, 0), igb_msi_irq, 0,
			  "vpi-l2-igb", &d->vec[0]);
	if (ret) {
		pci_free_irq_vectors(pdev);
		return ret;
	}
	iowrite32(IGB_ICR_MDAC, d->bar + IGB_IMS);
	for (r = 0; r < rounds; r++) {
		iowrite32(IGB_ICR_MDAC, d->bar + IGB_ICS);
		if (!wait_handled(&d->vec[0], r + 1)) {
			pr_err("%s %s: MSI, round %u: no interrupt\n", d->kind,
			       pci_name(pdev), r);
			break;
		}
	}
	msleep(1000);
	igb_quiesce(d);
	free_irq(pci_irq_vector(pdev, 0), &d->vec[0]);
	pci_free_irq_vectors(pdev);
	report(d, "msi", -1, rounds);
	return 0;
}

/* vidxd: the test guest fires the vectors; count them as they come. */

static irqreturn_t vidxd_irq(int irq, void *arg)
{
	struct l2_vec *v = arg;

	atomic_inc(&v->handled);
	complete(&v->done);
	return IRQ_HANDLED;
}

static int vidxd_test(struct l2_dev *d)
{
	struct pci_dev *pdev = d->pdev;
	unsigned long deadline;
	unsigned int i, r;
	int ret, n;

	n = pci_alloc_irq_vectors(pdev, VIDXD_VECTORS, VIDXD_VECTORS,
				  PCI_IRQ_MSIX);
	if (n < 0)
		return n;
	vec_reset(d, VIDXD_VECTORS);
	for (i = 0; i < VIDXD_VECTORS; i++) {
		ret = request_irq(pci_irq_vector(pdev, i), vidxd_irq, 0,
				  "vpi-l2-vidxd", &d->vec[i]);
		if (ret) {
			while (i--)
				free_irq(pci_irq_vector(pdev, i), &d->vec[i]);
			pci_free_irq_vectors(pdev);
			return ret;
		}
	}
	/*
	 * The test guest fires one vector at a time and waits for the line
	 * that says it arrived before it fires the next: two fires of one
	 * vector before the handler ran would be one interrupt here (an
	 * eventfd counts, QEMU injects once per read).
	 */
	pr_info("vidxd %s ready: fire each of %u vectors %u times, in order\n",
		pci_name(pdev), VIDXD_VECTORS, rounds);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < VIDXD_VECTORS; i++) {
			struct l2_vec *v = &d->vec[i];

			deadline = jiffies + msecs_to_jiffies(vidxd_wait_ms);
			while (atomic_read(&v->handled) < r + 1 &&
			       time_before(jiffies, deadline))
				wait_for_completion_timeout(&v->done,
							    max_t(long, 1, deadline - jiffies));
			if (atomic_read(&v->handled) < r + 1) {
				pr_err("vidxd %s: msix[%u] #%u did not arrive\n",
				       pci_name(pdev), i, r + 1);
				goto out;
			}
			pr_info("vidxd %s got msix[%u] #%u\n", pci_name(pdev),
				i, r + 1);
		}
	}
out:
	msleep(1000);
	for (i = 0; i < VIDXD_VECTORS; i++)
		free_irq(pci_irq_vector(pdev, i), &d->vec[i]);
	pci_free_irq_vectors(pdev);
	for (i = 0; i < VIDXD_VECTORS; i++)
		report(d, "msix", i, rounds);
	return 0;
}

static int l2_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct l2_dev *d;
	int ret;

	d = devm_kzalloc(&pdev->dev, sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->pdev = pdev;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	d->bar = pcim_iomap_region(pdev, 0, "vpi-l2");
	if (IS_ERR(d->bar))
		return PTR_ERR(d->bar);

	switch (pdev->device) {
	case EDU_DEVICE_ID:
		d->kind = "edu";
		ret = edu_test(d);
		break;
	case IGB_DEVICE_ID:
		d->kind = "igb";
		ret = igb_test(d);
		break;
	default:
		d->kind = "vidxd";
		ret = vidxd_test(d);
		break;
	}
	if (ret)
		pr_err("%s %s: test failed: %d\n", d->kind, pci_name(pdev), ret);
	pr_info("tested %s %s: %d\n", d->kind, pci_name(pdev), ret);
	return 0;
}

static const struct pci_device_id l2_ids[] = {
	{ PCI_DEVICE(0x1234, EDU_DEVICE_ID) },
	{ PCI_DEVICE(0x8086, IGB_DEVICE_ID) },
	{ PCI_DEVICE(0x1234, VIDXD_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, l2_ids);

static struct pci_driver l2_driver = {
	.name		= "vpi-nested-l2",
	.id_table	= l2_ids,
	.probe		= l2_probe,
};

static int __init l2_init(void)
{
	int ret = pci_register_driver(&l2_driver);

	pr_info("done\n");
	return ret;
}

static void __exit l2_exit(void)
{
	pci_unregister_driver(&l2_driver);
}

module_init(l2_init);
module_exit(l2_exit);

MODULE_DESCRIPTION("Nested guest driver of vfio_nested_qemu_test.sh: counts device interrupts");
MODULE_LICENSE("GPL");
