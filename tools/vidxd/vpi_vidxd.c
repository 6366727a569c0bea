// SPDX-License-Identifier: GPL-2.0
/*
 * vpi-vidxd: an IDXD-style test variant driver for vfio_pci_intrs.ko.
 *
 * It stands in for Intel's IDXD driver: one physical function, many virtual
 * devices, each virtual device's guest MSI-X vectors backed by host IMS
 * interrupts of the physical function, through the C API of
 * <linux/vfio_pci_intrs.h> only.
 *
 * The physical function is QEMU's edu device (1234:11e8), which must have
 * dma_mask=0xffffffffffffffff. Bind it like vfio-pci:
 *
 *   echo vpi-vidxd > /sys/bus/pci/devices/0000:00:08.0/driver_override
 *   echo 0000:00:08.0 > /sys/bus/pci/drivers/vpi-vidxd/bind
 *
 * At probe the driver creates an IMS domain on edu (if the kernel has
 * PCI/IMS, the device's MSI parent supports it and the module parameter
 * ims_domain is set, as it is by default) whose irq_chip keeps each slot's
 * message, mask bit and instance cookie in a table of VIDXD_IMS_SLOTS slots
 * in driver memory. "Firing" a slot programs edu's DMA engine to write the
 * slot's data to the slot's address, so the interrupt comes from the
 * device, through interrupt remapping, as on IMS hardware; a masked slot is
 * marked pending instead and fired when it is unmasked.
 *
 * Without an IMS domain (ims_domain=0, or an MSI parent that cannot create
 * one: no interrupt remapping, a caching-mode vIOMMU) the virtual devices
 * open as usual and their emulated vector works, but the module fails every
 * IMS vector with -ENODEV. On a kernel without PCI/IMS the module refuses
 * the IMS context itself, so opening a virtual device fails with
 * -EOPNOTSUPP.
 *
 * Virtual devices are mediated devices of one type:
 *
 *   echo $UUID > /sys/class/mdev_bus/0000:00:08.0/mdev_supported_types/vpi-vidxd-vdev/create
 *   echo 1 > /sys/bus/mdev/devices/$UUID/remove
 *
 * Each is a VFIO PCI device (emulated IOMMU: its own IOMMU group, or the
 * iommufd cdev) with an emulated config space (1234:11e9, class 0x088000,
 * an MSI-X capability of VIDXD_NUM_VECTORS vectors, table and PBA in a
 * 4 KiB memory BAR0 that is plain memory), a config space and a BAR0
 * region, and interrupts handed whole to vfio_pci_intrs.ko: MSI-X (vector 0
 * emulated, as IDXD's command completion vector; the others IMS-backed)
 * and REQ (signalled through vfio_pci_intrs_request() when the device is
 * removed while open). The default cookie of a device's vectors is its "PASID", a
 * small number unique among the driver's devices.
 *
 * Control interface, in debugfs (/sys/kernel/debug/vpi-vidxd/):
 *
 *   <uuid>/fire    write "N": fire vector N of the (open) device. An
 *                  emulated vector is signalled with vfio_pci_send_signal();
 *                  an IMS vector's slot (vfio_pci_ims_hwirq()) is fired by
 *                  edu DMA (about 100 ms per DMA, two when the slot's data
 *                  is not staged in edu's buffer yet), or marked pending if
 *                  masked. Errors: -ENODEV (device not open), -EINVAL (no
 *                  such vector, or no live IMS interrupt), -ENXIO (slot not
 *                  programmed), -ETIMEDOUT/-EBUSY (edu DMA).
 *   <uuid>/cookie  write "N VALUE": vfio_pci_ims_set_cookie(N, VALUE), the
 *                  cookie of vector N's next IMS interrupt. N is passed to
 *                  the module as written: the module refuses an emulated
 *                  vector or one past the vector count (-EINVAL).
 *                  -ENODEV: device not open.
 *   <uuid>/mask    write "N 0|1": set or clear the device-side mask bit of
 *                  vector N's slot, as a guest programming the IMS entry's
 *                  mask would (IDXD mirrored guest mask bits that way).
 *                  Clearing it fires a pending message before returning.
 *   <uuid>/slots   read: one line per vector, "vector=N hwirq=H" with H
 *                  the vfio_pci_ims_hwirq() result (an errno when
 *                  negative), followed for a live IMS vector by its slot as
 *                  in the PF's table. The first line, starting with '#',
 *                  gives uuid, pasid, open, ims and vector counts.
 *   <bdf>/slots    read: the whole slot table, one line per slot:
 *                  "slot=N in_use= masked= pending= addr= data= cookie=
 *                  virq= fired=", masked being the chip's mask bit or the
 *                  device-side one, cookie the instance cookie the domain
 *                  saw at allocation, fired the number of messages written
 *                  since the slot was allocated.
 *
 * Module parameter: ims_domain (bool, default 1, read-only): whether probe
 * creates the IMS domain; 0 tests the module's handling of an IMS context
 * on a device without one. Sizes (read-only; make bench raises them):
 * ims_slots (IMS slots of the PF, default 64), vectors (MSI-X vectors of a
 * virtual device, 2-128, default 8), max_vdevs (virtual devices of the PF,
 * default 16).
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/msi.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_intrs.h>
#include <linux/workqueue.h>

#define VIDXD_NAME		"vpi-vidxd"

/* The physical function: QEMU's edu device. */
#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_DMA_RUN		BIT_ULL(0)
#define EDU_DMA_TO_RAM		BIT_ULL(1)	/* else RAM to edu's buffer */
/* edu's DMA buffer, at this device address, is not reachable by MMIO. */
#define EDU_DMA_BUF		0x40000
#define EDU_DMA_POLL_US		(10 * USEC_PER_MSEC)
#define EDU_DMA_TIMEOUT_US	(5 * USEC_PER_SEC)

/*
 * The IMS slot table has ims_slots entries; slot N's data word is staged in
 * edu's 4 KiB DMA buffer, at EDU_DMA_BUF + 4 * (N % VIDXD_STAGE_WORDS).
 */
#define VIDXD_IMS_SLOTS		ims_slots
#define VIDXD_STAGE_SIZE	SZ_4K
#define VIDXD_STAGE_WORDS	(VIDXD_STAGE_SIZE / sizeof(u32))

/* The virtual devices. */
#define VIDXD_MAX_VDEVS		max_vdevs
#define VIDXD_NUM_VECTORS	vdev_vectors
#define VIDXD_NUM_EMULATED	1	/* vector 0 */
#define VIDXD_VENDOR_ID		0x1234
#define VIDXD_DEVICE_ID		0x11e9
#define VIDXD_CLASS		0x088000	/* system peripheral, other */
#define VIDXD_BAR0_SIZE		SZ_4K
#define VIDXD_MSIX_CAP		0x40
#define VIDXD_MSIX_TABLE	0x000
#define VIDXD_MSIX_PBA		0x800
#define VIDXD_OFFSET_SHIFT	40
#define VIDXD_OFFSET_MASK	((1ULL << VIDXD_OFFSET_SHIFT) - 1)

struct vidxd_pf;

/**
 * struct vidxd_slot - One entry of the IMS slot table.
 * @pf: The physical function.
 * @in_use: Allocated in the IMS domain (from prepare_desc to msi_free).
 * @masked: The mask bit, as the irq_chip set it.
 * @dev_masked: The mask bit set through the control interface.
 * @pending: Fired while masked; written when both mask bits are clear.
 * @addr_lo: Message address, low 32 bits.
 * @addr_hi: Message address, high 32 bits.
 * @data: Message data.
 * @cookie: The instance cookie of the interrupt's msi_desc.
 * @virq: The Linux interrupt, once its message was written.
 * @fired: Messages written by edu DMA since the slot was allocated.
 *
 * Protected by the PF's slot_lock.
 */
struct vidxd_slot {
	struct vidxd_pf *pf;
	bool in_use;
	bool masked;
	bool dev_masked;
	bool pending;
	u32 addr_lo;
	u32 addr_hi;
	u32 data;
	u64 cookie;
	unsigned int virq;
	unsigned long fired;
};

/**
 * struct vidxd_pf - The physical function.
 * @pdev: The edu device.
 * @bar: Its BAR0.
 * @ims: Whether the IMS domain exists.
 * @parent: The mdev parent.
 * @type: The one mdev type.
 * @types: The mdev type list.
 * @dma_lock: Serializes edu DMA and protects @staged and @stage.
 * @stage: DMA buffer from which slots' data words are copied to edu.
 * @stage_dma: Its device address.
 * @staged: Which data words are in edu's buffer (by staging word), and their
 *          value.
 * @slot_lock: Protects @slots; taken in irq_chip callbacks.
 * @slots: The IMS slot table.
 * @pending_work: Writes pending messages of unmasked slots.
 * @dbg: Debugfs directory.
 */
struct vidxd_pf {
	struct pci_dev *pdev;
	void __iomem *bar;
	bool ims;
	struct mdev_parent parent;
	struct mdev_type type;
	struct mdev_type *types[1];
	struct mutex dma_lock;		/* edu DMA, @stage, @staged */
	__le32 *stage;
	dma_addr_t stage_dma;
	struct {
		bool valid;
		u32 data;
	} staged[VIDXD_STAGE_WORDS];
	raw_spinlock_t slot_lock;
	struct vidxd_slot *slots;
	struct work_struct pending_work;
	struct dentry *dbg;
};

/**
 * struct vidxd_vdev - A virtual device.
 * @vdev: The VFIO device.
 * @pf: The physical function (outlives the device).
 * @id: Number among the driver's devices, from 1.
 * @pasid: Default cookie of the device's vectors (here: @id).
 * @lock: Protects @ctx against open, close and the control interface.
 * @ctx: The interrupt context while the device is open, else NULL.
 * @regs_lock: Protects @cfg and @bar0.
 * @cfg: Emulated config space.
 * @bar0: Emulated BAR0 (MSI-X table and PBA, plain memory).
 * @dbg: Debugfs directory.
 */
struct vidxd_vdev {
	struct vfio_device vdev;
	struct vidxd_pf *pf;
	int id;
	u64 pasid;
	struct mutex lock;		/* @ctx */
	struct vfio_pci_intr_ctx *ctx;
	struct mutex regs_lock;		/* @cfg, @bar0 */
	u8 cfg[PCI_CFG_SPACE_SIZE];
	u8 bar0[VIDXD_BAR0_SIZE];
	struct dentry *dbg;
};

static struct dentry *vidxd_dbg_root;
static DEFINE_IDA(vidxd_ida);

static bool ims_domain = true;
module_param(ims_domain, bool, 0444);
MODULE_PARM_DESC(ims_domain,
		 "Create the IMS domain at probe (default: 1; 0: IMS vectors fail with -ENODEV)");

/* Sizes, bigger for make bench (thousands of IMS vectors). */
static unsigned int ims_slots = 64;
module_param(ims_slots, uint, 0444);
MODULE_PARM_DESC(ims_slots, "IMS slots of the PF (default: 64)");
static unsigned int vdev_vectors = 8;
module_param_named(vectors, vdev_vectors, uint, 0444);
MODULE_PARM_DESC(vectors, "MSI-X vectors of a virtual device, 2-128 (default: 8)");
static unsigned int max_vdevs = 16;
module_param(max_vdevs, uint, 0444);
MODULE_PARM_DESC(max_vdevs, "Virtual devices of the PF (default: 16)");

/* edu DMA */

/* Runs one edu DMA and waits for it; ~100 ms. Caller holds dma_lock. */
static int vidxd_edu_dma(struct vidxd_pf *pf, u64 src, u64 dst, u32 cnt,
			 u64 dir)
{
	u64 cmd;
	int ret;

	lockdep_assert_held(&pf->dma_lock);
	if (readq(pf->bar + EDU_DMA_CMD) & EDU_DMA_RUN)
		return -EBUSY;
	writeq(src, pf->bar + EDU_DMA_SRC);
	writeq(dst, pf->bar + EDU_DMA_DST);
	writeq(cnt, pf->bar + EDU_DMA_CNT);
	writeq(EDU_DMA_RUN | dir, pf->bar + EDU_DMA_CMD);
	ret = readq_poll_timeout(pf->bar + EDU_DMA_CMD, cmd,
				 !(cmd & EDU_DMA_RUN), EDU_DMA_POLL_US,
				 EDU_DMA_TIMEOUT_US);
	if (ret)
		pci_err(pf->pdev, "edu DMA 0x%llx -> 0x%llx did not finish\n",
			src, dst);
	return ret;
}

/*
 * Writes slot @slot's message (@data to @addr) by edu DMA: the data word is
 * staged in edu's buffer first unless it is there already. Caller holds
 * dma_lock.
 */
static int vidxd_edu_send(struct vidxd_pf *pf, unsigned int slot, u64 addr,
			  u32 data)
{
	unsigned int word = slot % VIDXD_STAGE_WORDS;
	u32 off = word * sizeof(u32);
	unsigned long flags;
	int ret;

	lockdep_assert_held(&pf->dma_lock);
	if (!pf->staged[word].valid || pf->staged[word].data != data) {
		pf->staged[word].valid = false;
		pf->stage[word] = cpu_to_le32(data);
		ret = vidxd_edu_dma(pf, pf->stage_dma + off, EDU_DMA_BUF + off,
				    sizeof(u32), 0);
		if (ret)
			return ret;
		pf->staged[word].valid = true;
		pf->staged[word].data = data;
	}
	ret = vidxd_edu_dma(pf, EDU_DMA_BUF + off, addr, sizeof(u32),
			    EDU_DMA_TO_RAM);
	if (ret)
		return ret;
	raw_spin_lock_irqsave(&pf->slot_lock, flags);
	pf->slots[slot].fired++;
	raw_spin_unlock_irqrestore(&pf->slot_lock, flags);
	return 0;
}

static bool vidxd_slot_masked(const struct vidxd_slot *s)
{
	return s->masked || s->dev_masked;
}

/*
 * Takes a slot's message for sending if it is in use, programmed and
 * unmasked; a masked slot is marked pending instead. Caller holds
 * slot_lock. Returns 1 with the message, 0 when marked pending, -ENXIO.
 */
static int vidxd_slot_take(struct vidxd_slot *s, u64 *addr, u32 *data)
{
	if (!s->in_use || !(s->addr_lo | s->addr_hi))
		return -ENXIO;
	if (vidxd_slot_masked(s)) {
		s->pending = true;
		return 0;
	}
	*addr = (u64)s->addr_hi << 32 | s->addr_lo;
	*data = s->data;
	return 1;
}

/* Fires IMS slot @slot: 0 when written or left pending, or -errno. */
static int vidxd_slot_fire(struct vidxd_pf *pf, unsigned int slot)
{
	unsigned long flags;
	u64 addr = 0;
	u32 data = 0;
	int ret;

	if (slot >= VIDXD_IMS_SLOTS)
		return -ENXIO;
	mutex_lock(&pf->dma_lock);
	raw_spin_lock_irqsave(&pf->slot_lock, flags);
	ret = vidxd_slot_take(&pf->slots[slot], &addr, &data);
	raw_spin_unlock_irqrestore(&pf->slot_lock, flags);
	if (ret > 0)
		ret = vidxd_edu_send(pf, slot, addr, data);
	mutex_unlock(&pf->dma_lock);
	return ret;
}

/* Writes the pending messages of slots that are no longer masked. */
static void vidxd_pending_work(struct work_struct *work)
{
	struct vidxd_pf *pf = container_of(work, struct vidxd_pf, pending_work);
	unsigned long flags;
	unsigned int i;

	mutex_lock(&pf->dma_lock);
	for (i = 0; i < VIDXD_IMS_SLOTS; i++) {
		struct vidxd_slot *s = &pf->slots[i];
		bool send = false;
		u64 addr = 0;
		u32 data = 0;

		raw_spin_lock_irqsave(&pf->slot_lock, flags);
		if (s->pending && !vidxd_slot_masked(s)) {
			s->pending = false;
			send = vidxd_slot_take(s, &addr, &data) > 0;
		}
		raw_spin_unlock_irqrestore(&pf->slot_lock, flags);
		if (send && vidxd_edu_send(pf, i, addr, data))
			pci_warn(pf->pdev, "pending message of slot %u lost\n", i);
	}
	mutex_unlock(&pf->dma_lock);
}

/* Sets the device-side mask bit of @slot; unmasking fires a pending message. */
static int vidxd_slot_dev_mask(struct vidxd_pf *pf, unsigned int slot,
			       bool mask)
{
	struct vidxd_slot *s;
	unsigned long flags;
	bool kick;

	if (slot >= VIDXD_IMS_SLOTS)
		return -ENXIO;
	s = &pf->slots[slot];
	raw_spin_lock_irqsave(&pf->slot_lock, flags);
	if (!s->in_use) {
		raw_spin_unlock_irqrestore(&pf->slot_lock, flags);
		return -ENXIO;
	}
	s->dev_masked = mask;
	kick = s->pending && !vidxd_slot_masked(s);
	raw_spin_unlock_irqrestore(&pf->slot_lock, flags);
	if (kick) {
		schedule_work(&pf->pending_work);
		flush_work(&pf->pending_work);
	}
	return 0;
}

/* The IMS domain */

#ifdef VPI_HAVE_IMS
static struct vidxd_slot *vidxd_irq_slot(struct irq_data *d)
{
	return irq_data_get_msi_desc(d)->data.dcookie.ptr;
}

static void vidxd_ims_mask(struct irq_data *d)
{
	struct vidxd_slot *s = vidxd_irq_slot(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&s->pf->slot_lock, flags);
	s->masked = true;
	raw_spin_unlock_irqrestore(&s->pf->slot_lock, flags);
}

static void vidxd_ims_unmask(struct irq_data *d)
{
	struct vidxd_slot *s = vidxd_irq_slot(d);
	unsigned long flags;
	bool kick;

	raw_spin_lock_irqsave(&s->pf->slot_lock, flags);
	s->masked = false;
	kick = s->pending && !vidxd_slot_masked(s);
	raw_spin_unlock_irqrestore(&s->pf->slot_lock, flags);
	/* A device sends a pending message when unmasked; DMA may sleep. */
	if (kick)
		schedule_work(&s->pf->pending_work);
}

static void vidxd_ims_write_msg(struct irq_data *d, struct msi_msg *msg)
{
	struct msi_desc *desc = irq_data_get_msi_desc(d);
	struct vidxd_slot *s = desc->data.dcookie.ptr;
	unsigned long flags;

	raw_spin_lock_irqsave(&s->pf->slot_lock, flags);
	s->addr_lo = msg->address_lo;
	s->addr_hi = msg->address_hi;
	s->data = msg->data;
	s->cookie = desc->data.icookie.value;
	s->virq = d->irq;
	raw_spin_unlock_irqrestore(&s->pf->slot_lock, flags);
}

/* Binds a new interrupt's descriptor to its slot, hwirq = IMS index. */
static void vidxd_ims_prepare_desc(struct irq_domain *domain,
				   msi_alloc_info_t *arg, struct msi_desc *desc)
{
	struct msi_domain_info *info = domain->host_data;
	struct vidxd_pf *pf = info->data;
	struct vidxd_slot *s;
	unsigned long flags;

	/* The domain's hwsize keeps the index below VIDXD_IMS_SLOTS. */
	if (WARN_ON_ONCE(desc->msi_index >= VIDXD_IMS_SLOTS))
		return;
	s = &pf->slots[desc->msi_index];
	raw_spin_lock_irqsave(&pf->slot_lock, flags);
	s->in_use = true;
	s->masked = true;
	s->dev_masked = false;
	s->pending = false;
	s->addr_lo = 0;
	s->addr_hi = 0;
	s->data = 0;
	s->cookie = desc->data.icookie.value;
	s->virq = 0;
	s->fired = 0;
	raw_spin_unlock_irqrestore(&pf->slot_lock, flags);
	desc->data.dcookie.ptr = s;
	arg->hwirq = desc->msi_index;
}

static void vidxd_ims_msi_free(struct irq_domain *domain,
			       struct msi_domain_info *info, unsigned int virq)
{
	struct irq_data *d = irq_domain_get_irq_data(domain, virq);
	struct vidxd_pf *pf = info->data;
	struct vidxd_slot *s;
	unsigned long flags;

	if (!d || d->hwirq >= VIDXD_IMS_SLOTS)
		return;
	s = &pf->slots[d->hwirq];
	raw_spin_lock_irqsave(&pf->slot_lock, flags);
	s->in_use = false;
	s->masked = true;
	s->dev_masked = false;
	s->pending = false;
	s->addr_lo = 0;
	s->addr_hi = 0;
	s->data = 0;
	s->cookie = 0;
	s->virq = 0;
	raw_spin_unlock_irqrestore(&pf->slot_lock, flags);
}

static const struct msi_domain_template vidxd_ims_template = {
	.chip = {
		.name			= "vidxd-ims",
		.irq_mask		= vidxd_ims_mask,
		.irq_unmask		= vidxd_ims_unmask,
		.irq_write_msi_msg	= vidxd_ims_write_msg,
	},
	.ops = {
		.prepare_desc		= vidxd_ims_prepare_desc,
		.msi_free		= vidxd_ims_msi_free,
	},
	.info = {
		.flags			= MSI_FLAG_USE_DEF_DOM_OPS |
					  MSI_FLAG_USE_DEF_CHIP_OPS |
					  MSI_FLAG_ALLOC_SIMPLE_MSI_DESCS |
					  MSI_FLAG_FREE_MSI_DESCS,
		.bus_token		= DOMAIN_BUS_PCI_DEVICE_IMS,
	},
};

/* The domain goes away with the device's MSI data when the driver unbinds. */
static bool vidxd_create_ims(struct vidxd_pf *pf)
{
	return pci_create_ims_domain(pf->pdev, &vidxd_ims_template,
				     VIDXD_IMS_SLOTS, pf);
}
#else
static bool vidxd_create_ims(struct vidxd_pf *pf)
{
	return false;
}
#endif /* VPI_HAVE_IMS */

/* The virtual device's registers */

/* Which bits of config space byte @off the guest may write. */
static u8 vidxd_cfg_wmask(unsigned int off)
{
	switch (off) {
	case PCI_COMMAND:
		return PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		       PCI_COMMAND_PARITY;
	case PCI_COMMAND + 1:
		return (PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE) >> 8;
	case PCI_CACHE_LINE_SIZE:
	case PCI_LATENCY_TIMER:
	case PCI_INTERRUPT_LINE:
		return 0xff;
	/* BAR0: 32-bit memory, VIDXD_BAR0_SIZE */
	case PCI_BASE_ADDRESS_0 ... PCI_BASE_ADDRESS_0 + 3:
		return (u32)~(VIDXD_BAR0_SIZE - 1) >> (8 * (off - PCI_BASE_ADDRESS_0));
	case VIDXD_MSIX_CAP + PCI_MSIX_FLAGS + 1:
		return (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	default:
		return 0;
	}
}

static void vidxd_reset_regs(struct vidxd_vdev *v)
{
	u8 *cfg = v->cfg;

	mutex_lock(&v->regs_lock);
	memset(v->cfg, 0, sizeof(v->cfg));
	memset(v->bar0, 0, sizeof(v->bar0));
	put_unaligned_le16(VIDXD_VENDOR_ID, &cfg[PCI_VENDOR_ID]);
	put_unaligned_le16(VIDXD_DEVICE_ID, &cfg[PCI_DEVICE_ID]);
	put_unaligned_le16(PCI_STATUS_CAP_LIST, &cfg[PCI_STATUS]);
	put_unaligned_le32(VIDXD_CLASS << 8 | 1, &cfg[PCI_CLASS_REVISION]);
	cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	put_unaligned_le32(PCI_BASE_ADDRESS_SPACE_MEMORY |
			   PCI_BASE_ADDRESS_MEM_TYPE_32,
			   &cfg[PCI_BASE_ADDRESS_0]);
	put_unaligned_le16(VIDXD_VENDOR_ID, &cfg[PCI_SUBSYSTEM_VENDOR_ID]);
	put_unaligned_le16(VIDXD_DEVICE_ID, &cfg[PCI_SUBSYSTEM_ID]);
	cfg[PCI_CAPABILITY_LIST] = VIDXD_MSIX_CAP;
	cfg[VIDXD_MSIX_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSIX;
	cfg[VIDXD_MSIX_CAP + PCI_CAP_LIST_NEXT] = 0;
	put_unaligned_le16(VIDXD_NUM_VECTORS - 1,
			   &cfg[VIDXD_MSIX_CAP + PCI_MSIX_FLAGS]);
	put_unaligned_le32(VIDXD_MSIX_TABLE | 0,
			   &cfg[VIDXD_MSIX_CAP + PCI_MSIX_TABLE]);
	put_unaligned_le32(VIDXD_MSIX_PBA | 0,
			   &cfg[VIDXD_MSIX_CAP + PCI_MSIX_PBA]);
	mutex_unlock(&v->regs_lock);
}

/* Reads or writes @len bytes of region @index at @off, through @buf. */
static void vidxd_regs_access(struct vidxd_vdev *v, unsigned int index,
			      unsigned int off, u8 *buf, size_t len, bool write)
{
	size_t i;

	mutex_lock(&v->regs_lock);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		for (i = 0; i < len; i++) {
			u8 wmask = vidxd_cfg_wmask(off + i);

			if (write)
				v->cfg[off + i] = (v->cfg[off + i] & ~wmask) |
						  (buf[i] & wmask);
			else
				buf[i] = v->cfg[off + i];
		}
	} else if (write) {
		memcpy(&v->bar0[off], buf, len);
	} else {
		memcpy(buf, &v->bar0[off], len);
	}
	mutex_unlock(&v->regs_lock);
}

static size_t vidxd_region_size(unsigned int index)
{
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return PCI_CFG_SPACE_SIZE;
	case VFIO_PCI_BAR0_REGION_INDEX:
		return VIDXD_BAR0_SIZE;
	default:
		return 0;
	}
}

static ssize_t vidxd_rw(struct vidxd_vdev *v, char __user *ubuf, size_t count,
			loff_t *ppos, bool write)
{
	unsigned int index = *ppos >> VIDXD_OFFSET_SHIFT;
	u64 off = *ppos & VIDXD_OFFSET_MASK;
	size_t size = vidxd_region_size(index), done = 0;
	u8 buf[64];

	if (!size || off >= size || count > size - off)
		return -EINVAL;
	while (done < count) {
		size_t len = min(count - done, sizeof(buf));

		if (write) {
			if (copy_from_user(buf, ubuf + done, len))
				return -EFAULT;
			vidxd_regs_access(v, index, off + done, buf, len, true);
		} else {
			vidxd_regs_access(v, index, off + done, buf, len, false);
			if (copy_to_user(ubuf + done, buf, len))
				return -EFAULT;
		}
		done += len;
	}
	*ppos += count;
	return count;
}

/* VFIO device ops */

static struct vidxd_vdev *to_vidxd(struct vfio_device *vdev)
{
	return container_of(vdev, struct vidxd_vdev, vdev);
}

static ssize_t vidxd_read(struct vfio_device *vdev, char __user *buf,
			  size_t count, loff_t *ppos)
{
	return vidxd_rw(to_vidxd(vdev), buf, count, ppos, false);
}

static ssize_t vidxd_write(struct vfio_device *vdev, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	return vidxd_rw(to_vidxd(vdev), (char __user *)buf, count, ppos, true);
}

static long vidxd_get_device_info(unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static long vidxd_get_region_info(unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info.cap_offset = 0;
	info.offset = (u64)info.index << VIDXD_OFFSET_SHIFT;
	info.size = vidxd_region_size(info.index);
	info.flags = info.size ? VFIO_REGION_INFO_FLAG_READ |
				 VFIO_REGION_INFO_FLAG_WRITE : 0;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static long vidxd_ioctl(struct vfio_device *vdev, unsigned int cmd,
			unsigned long arg)
{
	struct vidxd_vdev *v = to_vidxd(vdev);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vidxd_get_device_info(arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vidxd_get_region_info(arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
	case VFIO_DEVICE_SET_IRQS:
		/*
		 * ioctls come only between open_device and close_device,
		 * which set and clear the context.
		 */
		return vfio_pci_intrs_ioctl(v->ctx, cmd, arg);
	default:
		return -ENOTTY;
	}
}

static int vidxd_open_device(struct vfio_device *vdev)
{
	struct vidxd_vdev *v = to_vidxd(vdev);
	union msi_instance_cookie cookie = { .value = v->pasid };
	struct vfio_pci_intr_ctx *ctx;
	int ret;

	/*
	 * -EOPNOTSUPP on a kernel without PCI/IMS. Without an IMS domain on
	 * the PF the context is created, and each IMS vector fails to enable
	 * with -ENODEV.
	 */
	ctx = vfio_pci_ims_init_intr_ctx(vdev, v->pf->pdev, VIDXD_NUM_VECTORS,
					 &cookie);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	/* Vector 0 is the command completion vector: emulated. */
	ret = vfio_pci_set_emulated(ctx, 0, VIDXD_NUM_EMULATED);
	if (ret) {
		vfio_pci_intrs_release_intr_ctx(ctx);
		return ret;
	}
	vidxd_reset_regs(v);
	mutex_lock(&v->lock);
	v->ctx = ctx;
	mutex_unlock(&v->lock);
	return 0;
}

static void vidxd_close_device(struct vfio_device *vdev)
{
	struct vidxd_vdev *v = to_vidxd(vdev);
	struct vfio_pci_intr_ctx *ctx;

	mutex_lock(&v->lock);
	ctx = v->ctx;
	v->ctx = NULL;
	mutex_unlock(&v->lock);
	/* Tears down every live vector, then frees the context. */
	vfio_pci_intrs_release_intr_ctx(ctx);
}

/*
 * The device is being removed while open: ask user space to let it go, as
 * vfio_pci_core_request() does. The VFIO core calls this every 10 s, with
 * @count counting from 0, until the device is closed.
 */
static void vidxd_request(struct vfio_device *vdev, unsigned int count)
{
	struct vidxd_vdev *v = to_vidxd(vdev);
	int signalled = 0;

	mutex_lock(&v->lock);
	if (v->ctx)
		signalled = vfio_pci_intrs_request(v->ctx);
	mutex_unlock(&v->lock);
	if (signalled) {
		if (!(count % 10))
			dev_notice_ratelimited(vdev->dev,
					       "Relaying device request to user (#%u)\n",
					       count);
	} else if (!count) {
		dev_warn(vdev->dev,
			 "No device request channel registered, blocked until released by user\n");
	}
}

static int vidxd_init_dev(struct vfio_device *vdev)
{
	struct vidxd_vdev *v = to_vidxd(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);

	v->pf = container_of(mdev->type->parent, struct vidxd_pf, parent);
	v->id = ida_alloc_range(&vidxd_ida, 1, INT_MAX, GFP_KERNEL);
	if (v->id < 0)
		return v->id;
	v->pasid = v->id;
	mutex_init(&v->lock);
	mutex_init(&v->regs_lock);
	vidxd_reset_regs(v);
	return 0;
}

static void vidxd_release_dev(struct vfio_device *vdev)
{
	struct vidxd_vdev *v = to_vidxd(vdev);

	mutex_destroy(&v->regs_lock);
	mutex_destroy(&v->lock);
	ida_free(&vidxd_ida, v->id);
}

static const struct vfio_device_ops vidxd_dev_ops = {
	.name		= "vpi-vidxd",
	.init		= vidxd_init_dev,
	.release	= vidxd_release_dev,
	.open_device	= vidxd_open_device,
	.close_device	= vidxd_close_device,
	.read		= vidxd_read,
	.write		= vidxd_write,
	.ioctl		= vidxd_ioctl,
	.request	= vidxd_request,
	.bind_iommufd	= vfio_iommufd_emulated_bind,
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,
	.detach_ioas	= vfio_iommufd_emulated_detach_ioas,
};

/* Control interface (debugfs) */

/* Parses "N" or "N VALUE" written by user space. */
static int vidxd_parse(const char __user *ubuf, size_t len, unsigned int *n,
		       u64 *val)
{
	char buf[64], *p, *tok;
	int ret;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	p = strim(buf);
	tok = strsep(&p, " \t");
	ret = kstrtouint(tok, 0, n);
	if (ret)
		return ret;
	if (!val)
		return p ? -EINVAL : 0;
	if (!p)
		return -EINVAL;
	return kstrtou64(skip_spaces(p), 0, val);
}

static bool vidxd_emulated(unsigned int vector)
{
	return vector < VIDXD_NUM_EMULATED;
}

static int vidxd_fire(struct vidxd_vdev *v, unsigned int vector)
{
	int ret;

	if (vector >= VIDXD_NUM_VECTORS)
		return -EINVAL;
	mutex_lock(&v->lock);
	if (!v->ctx) {
		ret = -ENODEV;
	} else if (vidxd_emulated(vector)) {
		ret = vfio_pci_send_signal(v->ctx, vector);
	} else {
		ret = vfio_pci_ims_hwirq(v->ctx, vector);
		if (ret >= 0)
			ret = vidxd_slot_fire(v->pf, ret);
	}
	mutex_unlock(&v->lock);
	return ret;
}

static ssize_t vidxd_fire_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct vidxd_vdev *v = file->private_data;
	unsigned int vector;
	int ret;

	ret = vidxd_parse(ubuf, len, &vector, NULL);
	if (!ret)
		ret = vidxd_fire(v, vector);
	return ret ? ret : len;
}

static ssize_t vidxd_cookie_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	struct vidxd_vdev *v = file->private_data;
	union msi_instance_cookie cookie;
	unsigned int vector;
	int ret;

	ret = vidxd_parse(ubuf, len, &vector, &cookie.value);
	if (ret)
		return ret;
	/* The module checks @vector. */
	mutex_lock(&v->lock);
	ret = v->ctx ? vfio_pci_ims_set_cookie(v->ctx, vector, &cookie) :
		       -ENODEV;
	mutex_unlock(&v->lock);
	return ret ? ret : len;
}

static ssize_t vidxd_mask_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct vidxd_vdev *v = file->private_data;
	unsigned int vector;
	u64 mask;
	int ret;

	ret = vidxd_parse(ubuf, len, &vector, &mask);
	if (ret)
		return ret;
	if (vector >= VIDXD_NUM_VECTORS || mask > 1)
		return -EINVAL;
	mutex_lock(&v->lock);
	ret = v->ctx ? vfio_pci_ims_hwirq(v->ctx, vector) : -ENODEV;
	if (ret >= 0)
		ret = vidxd_slot_dev_mask(v->pf, ret, mask);
	mutex_unlock(&v->lock);
	return ret ? ret : len;
}

static const struct file_operations vidxd_fire_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= vidxd_fire_write,
};

static const struct file_operations vidxd_cookie_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= vidxd_cookie_write,
};

static const struct file_operations vidxd_mask_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= vidxd_mask_write,
};

static void vidxd_show_slot(struct seq_file *m, struct vidxd_pf *pf,
			    unsigned int i)
{
	struct vidxd_slot s;
	unsigned long flags;

	raw_spin_lock_irqsave(&pf->slot_lock, flags);
	s = pf->slots[i];
	raw_spin_unlock_irqrestore(&pf->slot_lock, flags);
	seq_printf(m, " in_use=%d masked=%d pending=%d addr=0x%016llx data=0x%08x cookie=0x%016llx virq=%u fired=%lu",
		   s.in_use, vidxd_slot_masked(&s), s.pending,
		   (u64)s.addr_hi << 32 | s.addr_lo, s.data, s.cookie, s.virq,
		   s.fired);
}

static int vidxd_pf_slots_show(struct seq_file *m, void *unused)
{
	struct vidxd_pf *pf = m->private;
	unsigned int i;

	seq_printf(m, "# pf=%s ims=%d slots=%u\n", pci_name(pf->pdev), pf->ims,
		   VIDXD_IMS_SLOTS);
	for (i = 0; i < VIDXD_IMS_SLOTS; i++) {
		seq_printf(m, "slot=%u", i);
		vidxd_show_slot(m, pf, i);
		seq_putc(m, '\n');
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vidxd_pf_slots);

static int vidxd_vdev_slots_show(struct seq_file *m, void *unused)
{
	struct vidxd_vdev *v = m->private;
	unsigned int i;

	mutex_lock(&v->lock);
	seq_printf(m, "# uuid=%s pasid=0x%llx open=%d ims=%d vectors=%u emulated=%u\n",
		   dev_name(v->vdev.dev), v->pasid, !!v->ctx, v->pf->ims,
		   VIDXD_NUM_VECTORS, VIDXD_NUM_EMULATED);
	for (i = 0; v->ctx && i < VIDXD_NUM_VECTORS; i++) {
		int hwirq = vfio_pci_ims_hwirq(v->ctx, i);

		seq_printf(m, "vector=%u hwirq=%d", i, hwirq);
		if (hwirq >= 0 && hwirq < VIDXD_IMS_SLOTS)
			vidxd_show_slot(m, v->pf, hwirq);
		seq_putc(m, '\n');
	}
	mutex_unlock(&v->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vidxd_vdev_slots);

/* mdev driver */

static int vidxd_mdev_probe(struct mdev_device *mdev)
{
	struct vidxd_vdev *v;
	int ret;

	v = vfio_alloc_device(vidxd_vdev, vdev, &mdev->dev, &vidxd_dev_ops);
	if (IS_ERR(v))
		return PTR_ERR(v);
	ret = vfio_register_emulated_iommu_dev(&v->vdev);
	if (ret) {
		vfio_put_device(&v->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, v);

	v->dbg = debugfs_create_dir(dev_name(&mdev->dev), vidxd_dbg_root);
	debugfs_create_file("fire", 0200, v->dbg, v, &vidxd_fire_fops);
	debugfs_create_file("cookie", 0200, v->dbg, v, &vidxd_cookie_fops);
	debugfs_create_file("mask", 0200, v->dbg, v, &vidxd_mask_fops);
	debugfs_create_file("slots", 0400, v->dbg, v, &vidxd_vdev_slots_fops);
	return 0;
}

static void vidxd_mdev_remove(struct mdev_device *mdev)
{
	struct vidxd_vdev *v = dev_get_drvdata(&mdev->dev);

	/* Waits for control operations in progress. */
	debugfs_remove_recursive(v->dbg);
	/* Signals REQ and waits while the device is open. */
	vfio_unregister_group_dev(&v->vdev);
	vfio_put_device(&v->vdev);
}

static struct mdev_driver vidxd_mdev_driver = {
	.device_api	= VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name		= VIDXD_NAME,
		.owner		= THIS_MODULE,
		.mod_name	= KBUILD_MODNAME,
	},
	.probe		= vidxd_mdev_probe,
	.remove		= vidxd_mdev_remove,
};

/* PCI driver */

static int vidxd_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vidxd_pf *pf;
	unsigned int i;
	int ret;

	/* Any device can be bound by driver_override; only edu will do. */
	if (pdev->vendor != EDU_VENDOR_ID || pdev->device != EDU_DEVICE_ID)
		return -ENODEV;

	pf = devm_kzalloc(&pdev->dev, sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	pf->pdev = pdev;
	ret = devm_mutex_init(&pdev->dev, &pf->dma_lock);
	if (ret)
		return ret;
	pf->slots = devm_kcalloc(&pdev->dev, VIDXD_IMS_SLOTS, sizeof(*pf->slots),
				 GFP_KERNEL);
	if (!pf->slots)
		return -ENOMEM;
	raw_spin_lock_init(&pf->slot_lock);
	INIT_WORK(&pf->pending_work, vidxd_pending_work);
	for (i = 0; i < VIDXD_IMS_SLOTS; i++) {
		pf->slots[i].pf = pf;
		pf->slots[i].masked = true;
	}

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pf->bar = pcim_iomap_region(pdev, 0, VIDXD_NAME);
	if (IS_ERR(pf->bar))
		return PTR_ERR(pf->bar);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pf->stage = dmam_alloc_coherent(&pdev->dev, VIDXD_STAGE_SIZE,
					&pf->stage_dma, GFP_KERNEL);
	if (!pf->stage)
		return -ENOMEM;
	pci_set_master(pdev);

	if (ims_domain) {
		pf->ims = vidxd_create_ims(pf);
		pci_info(pdev, "IMS %s (%u slots)\n",
			 pf->ims ? "domain created" : "unavailable",
			 VIDXD_IMS_SLOTS);
	} else {
		pci_info(pdev, "IMS domain not created (ims_domain=0)\n");
	}

	pci_set_drvdata(pdev, pf);
	pf->type.sysfs_name = "vdev";
	pf->type.pretty_name = "vpi-vidxd virtual device";
	pf->types[0] = &pf->type;
	ret = mdev_register_parent(&pf->parent, &pdev->dev, &vidxd_mdev_driver,
				   pf->types, ARRAY_SIZE(pf->types));
	if (ret) {
		pci_clear_master(pdev);
		return ret;
	}

	pf->dbg = debugfs_create_dir(pci_name(pdev), vidxd_dbg_root);
	debugfs_create_file("slots", 0400, pf->dbg, pf, &vidxd_pf_slots_fops);
	return 0;
}

static void vidxd_remove(struct pci_dev *pdev)
{
	struct vidxd_pf *pf = pci_get_drvdata(pdev);

	debugfs_remove_recursive(pf->dbg);
	/* Removes every virtual device, each once it is closed. */
	mdev_unregister_parent(&pf->parent);
	cancel_work_sync(&pf->pending_work);
	pci_clear_master(pdev);
	/* devres then removes the IMS domain, the DMA buffer and BAR0. */
}

static const struct pci_device_id vidxd_ids[] = {
	/* Bound only through driver_override, like vfio-pci. */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vidxd_ids);

static struct pci_driver vidxd_pci_driver = {
	.name			= VIDXD_NAME,
	.id_table		= vidxd_ids,
	.probe			= vidxd_probe,
	.remove			= vidxd_remove,
};

static int __init vidxd_init(void)
{
	int ret;

	if (vfio_pci_intrs_api_version() != VFIO_PCI_INTRS_API_VERSION) {
		pr_err(VIDXD_NAME ": vfio_pci_intrs C API version %d, built for %d\n",
		       vfio_pci_intrs_api_version(), VFIO_PCI_INTRS_API_VERSION);
		return -EINVAL;
	}
	if (!ims_slots || vdev_vectors < 2 ||
	    vdev_vectors * PCI_MSIX_ENTRY_SIZE > VIDXD_MSIX_PBA || !max_vdevs)
		return -EINVAL;
	vidxd_mdev_driver.max_instances = VIDXD_MAX_VDEVS;
	vidxd_dbg_root = debugfs_create_dir(VIDXD_NAME, NULL);
	ret = mdev_register_driver(&vidxd_mdev_driver);
	if (ret)
		goto err_dbg;
	ret = pci_register_driver(&vidxd_pci_driver);
	if (ret)
		goto err_mdev;
	return 0;

err_mdev:
	mdev_unregister_driver(&vidxd_mdev_driver);
err_dbg:
	debugfs_remove_recursive(vidxd_dbg_root);
	return ret;
}

static void __exit vidxd_exit(void)
{
	pci_unregister_driver(&vidxd_pci_driver);
	mdev_unregister_driver(&vidxd_mdev_driver);
	debugfs_remove_recursive(vidxd_dbg_root);
	ida_destroy(&vidxd_ida);
}

module_init(vidxd_init);
module_exit(vidxd_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("IDXD-style test variant driver for vfio_pci_intrs (edu + IMS + mdev)");
