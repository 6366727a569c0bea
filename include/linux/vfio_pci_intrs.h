/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO PCI interrupt management: the C API of vfio_pci_intrs.ko.
 *
 * A variant driver hands the interrupts of a VFIO device to the module: it
 * creates an interrupt context for a passthrough PCI device or for an
 * IMS-backed virtual device, routes VFIO_DEVICE_GET_IRQ_INFO and
 * VFIO_DEVICE_SET_IRQS to it, may mark vectors emulated and signal them,
 * set per-vector IMS cookies, and releases the context when done. All
 * functions are exported with EXPORT_SYMBOL_GPL. Documentation/ims.rst
 * walks through a variant driver.
 */
#ifndef _LINUX_VFIO_PCI_INTRS_H
#define _LINUX_VFIO_PCI_INTRS_H

#include <linux/types.h>

struct pci_dev;
struct vfio_device;
struct vfio_pci_core_device;
union msi_instance_cookie;

/*
 * The version of this API. It changes whenever a function's meaning changes,
 * so a variant driver built against one header can refuse another module.
 */
#define VFIO_PCI_INTRS_API_VERSION 2

/**
 * struct vfio_pci_intr_ctx - An interrupt context (opaque).
 *
 * The interrupt state of one VFIO device and the backend behind it: PCI
 * passthrough or IMS. Created by vfio_pci_intrs_init_intr_ctx() or
 * vfio_pci_ims_init_intr_ctx(), freed by vfio_pci_intrs_release_intr_ctx().
 */
struct vfio_pci_intr_ctx;

/**
 * vfio_pci_intrs_api_version() - Version of the loaded module's C API.
 *
 * Context: Any context.
 * Return: The VFIO_PCI_INTRS_API_VERSION the module was built with.
 */
int vfio_pci_intrs_api_version(void);

/**
 * vfio_pci_intrs_init_intr_ctx() - Create a context for a passthrough device.
 * @vdev: The core device, initialised by vfio_pci_core_init_dev(). It must
 *        outlive the context.
 *
 * INTx, MSI and MSI-X of the PCI device, ERR and REQ, as vfio-pci does. The
 * context's vectors are shown in debugfs, vfio-pci-intrs/<BDF>/vectors.
 *
 * Context: Process context; may sleep.
 * Return: The context, or an ERR_PTR(): -EINVAL, -ENOMEM.
 */
struct vfio_pci_intr_ctx *
vfio_pci_intrs_init_intr_ctx(struct vfio_pci_core_device *vdev);

/**
 * vfio_pci_ims_init_intr_ctx() - Create a context for an IMS-backed device.
 * @vdev: The virtual VFIO device. Its parent device's name (vdev->dev, an
 *        mdev's UUID) names the interrupts ("vfio-ims[N](name)") and the
 *        debugfs view (vfio-pci-intrs/<name>/vectors).
 * @pdev: The PCI device that owns the IMS domain (pci_create_ims_domain()).
 *        The context holds a reference to it.
 * @num_vectors: Number of guest MSI-X vectors.
 * @default_cookie: Cookie each new vector starts with (for example the
 *        device's PASID), or NULL for 0.
 *
 * MSI-X (always enabled, vectors allocated one at a time, no NORESIZE) and
 * REQ. Each vector that gets a trigger gets a host IMS interrupt,
 * allocated with the vector's cookie, freed when the trigger is cleared.
 * Enabling a vector fails with -ENODEV while @pdev has no IMS domain, and
 * with -EBUSY when the domain has no free slot.
 *
 * Context: Process context; may sleep.
 * Return: The context, or an ERR_PTR(): -EINVAL, -ENOMEM; -EOPNOTSUPP on a
 * kernel without PCI/IMS.
 */
struct vfio_pci_intr_ctx *
vfio_pci_ims_init_intr_ctx(struct vfio_device *vdev, struct pci_dev *pdev,
			   unsigned int num_vectors,
			   const union msi_instance_cookie *default_cookie);

/**
 * vfio_pci_intrs_release_intr_ctx() - Release an interrupt context.
 * @ctx: The context; NULL is ignored.
 *
 * Disables whatever is enabled (as closing the device does), drops the ERR
 * and REQ triggers and frees every per-vector context.
 *
 * Context: Process context; may sleep.
 */
void vfio_pci_intrs_release_intr_ctx(struct vfio_pci_intr_ctx *ctx);

/**
 * vfio_pci_intrs_ioctl() - Handle GET_IRQ_INFO and SET_IRQS whole.
 * @ctx: The context.
 * @cmd: The ioctl command.
 * @arg: Its user-space argument.
 *
 * Copies and validates the argument exactly as vfio-pci does, then
 * dispatches. A variant driver's .ioctl can hand both commands over in one
 * call and handle the rest itself.
 *
 * Context: Process context; may sleep. Takes the context's lock.
 * Return: The result of the command (a positive count when MSI or MSI-X
 * got fewer vectors than asked for), or -ENOTTY for other commands.
 */
long vfio_pci_intrs_ioctl(struct vfio_pci_intr_ctx *ctx, unsigned int cmd,
			  unsigned long arg);

/**
 * vfio_pci_intrs_set_irqs_ioctl() - Dispatch a validated SET_IRQS request.
 * @ctx: The context.
 * @flags: VFIO_IRQ_SET_* flags.
 * @index: Interrupt index.
 * @start: First vector.
 * @count: Number of vectors.
 * @data: @count elements of the data type in @flags (kernel memory).
 *
 * The caller has validated the request (vfio_set_irqs_validate_and_prepare())
 * and copied its data.
 *
 * Context: Process context; may sleep. Takes the context's lock.
 * Return: 0, a positive vector count (MSI/MSI-X enable got fewer), or -errno
 * as vfio-pci returns it.
 */
int vfio_pci_intrs_set_irqs_ioctl(struct vfio_pci_intr_ctx *ctx, u32 flags,
				  unsigned int index, unsigned int start,
				  unsigned int count, void *data);

/**
 * vfio_pci_intrs_request() - Ask user space to release the device.
 * @ctx: The context.
 *
 * Signals the REQ trigger, if user space set one, as vfio-pci does when its
 * device is being unbound while open. For a variant driver's
 * vfio_device_ops.request.
 *
 * Context: Process context; may sleep. Takes the context's lock.
 * Return: 1 if a REQ trigger was signalled, 0 if user space has none.
 */
int vfio_pci_intrs_request(struct vfio_pci_intr_ctx *ctx);

/**
 * vfio_pci_set_emulated() - Mark vectors emulated.
 * @ctx: The context.
 * @start: First vector.
 * @count: Number of vectors.
 *
 * Emulated vectors are signalled by the driver with vfio_pci_send_signal()
 * and never backed by a host interrupt. Call before the vectors are used.
 *
 * Context: Process context; may sleep.
 * Return: 0; -EBUSY if a vector of the range is already in use (nothing is
 * changed); -EINVAL if the range goes past the device's MSI/MSI-X vector
 * count; -ENOMEM.
 */
int vfio_pci_set_emulated(struct vfio_pci_intr_ctx *ctx, unsigned int start,
			  unsigned int count);

/**
 * vfio_pci_send_signal() - Signal an emulated vector.
 * @ctx: The context.
 * @vector: The vector.
 *
 * Signals the vector's trigger if user space set one.
 *
 * Context: Process context; may sleep (takes the context's lock).
 * Return: 0; -EINVAL if @vector is not emulated.
 */
int vfio_pci_send_signal(struct vfio_pci_intr_ctx *ctx, unsigned int vector);

/**
 * vfio_pci_ims_set_cookie() - Set the cookie of a vector's next allocation.
 * @ctx: An IMS context.
 * @vector: The vector.
 * @cookie: The cookie (for example a per-vector PASID).
 *
 * The vector's next IMS interrupt is allocated with @cookie; a live
 * interrupt keeps the cookie it was allocated with.
 *
 * Context: Process context; may sleep.
 * Return: 0; -EINVAL if @ctx is not IMS-backed, @vector is emulated or not
 * below the context's vector count; -ENOMEM.
 */
int vfio_pci_ims_set_cookie(struct vfio_pci_intr_ctx *ctx, unsigned int vector,
			    const union msi_instance_cookie *cookie);

/**
 * vfio_pci_ims_hwirq() - IMS index of a vector's live interrupt.
 * @ctx: An IMS context.
 * @vector: The vector.
 *
 * Context: Process context; may sleep.
 * Return: The index in the device's IMS (>= 0); -EINVAL if @ctx is not
 * IMS-backed, or @vector has no live IMS interrupt (no trigger, emulated).
 */
int vfio_pci_ims_hwirq(struct vfio_pci_intr_ctx *ctx, unsigned int vector);

#endif /* _LINUX_VFIO_PCI_INTRS_H */
