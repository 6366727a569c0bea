// SPDX-License-Identifier: GPL-2.0
/*
 * Test module for the C API of vfio_pci_intrs: calls
 * vfio_pci_intrs_api_version() at load time and refuses to load (-EINVAL)
 * unless it returns the expected version. Loading it therefore proves that
 * the symbol resolves against the loaded vfio_pci_intrs module and works.
 *
 * The expected_version parameter (default VFIO_PCI_INTRS_API_VERSION) lets a
 * test check that a mismatch does make the load fail.
 *
 * With bdf=<PCI device bound to vfio-pci>, the load also makes a
 * passthrough context for that device's vfio_pci_core_device (vfio-pci's
 * drvdata) and checks the IMS-only calls on it: vfio_pci_ims_hwirq() and
 * vfio_pci_ims_set_cookie() must return -EINVAL (not IMS), for a vector the
 * device has and for one it does not. The device must not be open: the
 * context is made and released while the device lock is held, and with
 * nothing enabled the release touches no hardware. Any mismatch fails the
 * load (-ENODEV when the device is not bound to vfio-pci).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/msi_api.h>
#include <linux/pci.h>
#include <linux/vfio_pci_core.h>
#include <linux/vfio_pci_intrs.h>

static int expected_version = VFIO_PCI_INTRS_API_VERSION;
module_param(expected_version, int, 0444);
MODULE_PARM_DESC(expected_version, "API version vfio_pci_intrs must report");

static char *bdf;
module_param(bdf, charp, 0444);
MODULE_PARM_DESC(bdf, "PCI device bound to vfio-pci: check the IMS-only calls on its passthrough context");

/* One expectation: @what returned @ret, which must be @want. */
static bool expect(const char *what, int ret, int want)
{
	if (ret == want) {
		pr_info("%s: %d as expected\n", what, ret);
		return true;
	}
	pr_err("%s: %d, expected %d\n", what, ret, want);
	return false;
}

static int check_passthrough(struct vfio_pci_core_device *vdev)
{
	union msi_instance_cookie cookie = { .value = 0x1234 };
	struct vfio_pci_intr_ctx *ctx;
	bool ok = true;

	ctx = vfio_pci_intrs_init_intr_ctx(vdev);
	if (IS_ERR(ctx)) {
		pr_err("vfio_pci_intrs_init_intr_ctx: %ld\n", PTR_ERR(ctx));
		return PTR_ERR(ctx);
	}
	ok &= expect("passthrough: vfio_pci_ims_hwirq(0)",
		     vfio_pci_ims_hwirq(ctx, 0), -EINVAL);
	ok &= expect("passthrough: vfio_pci_ims_set_cookie(0)",
		     vfio_pci_ims_set_cookie(ctx, 0, &cookie), -EINVAL);
	ok &= expect("passthrough: vfio_pci_ims_hwirq(4096)",
		     vfio_pci_ims_hwirq(ctx, 4096), -EINVAL);
	ok &= expect("passthrough: vfio_pci_ims_set_cookie(4096)",
		     vfio_pci_ims_set_cookie(ctx, 4096, &cookie), -EINVAL);
	vfio_pci_intrs_release_intr_ctx(ctx);
	return ok ? 0 : -EINVAL;
}

static int check_device(const char *name)
{
	struct device *dev;
	int ret;

	dev = bus_find_device_by_name(&pci_bus_type, NULL, name);
	if (!dev) {
		pr_err("%s: no such PCI device\n", name);
		return -ENODEV;
	}
	device_lock(dev);
	if (dev->driver && !strcmp(dev->driver->name, "vfio-pci")) {
		ret = check_passthrough(dev_get_drvdata(dev));
	} else {
		pr_err("%s: not bound to vfio-pci\n", name);
		ret = -ENODEV;
	}
	device_unlock(dev);
	put_device(dev);
	return ret;
}

static int __init vpi_api_test_init(void)
{
	int version = vfio_pci_intrs_api_version();

	if (version != expected_version) {
		pr_info("API version %d, expected %d\n", version, expected_version);
		return -EINVAL;
	}
	pr_info("API version %d\n", version);
	return bdf ? check_device(bdf) : 0;
}

static void __exit vpi_api_test_exit(void)
{
}

module_init(vpi_api_test_init);
module_exit(vpi_api_test_exit);

MODULE_DESCRIPTION("Load-time test of the vfio_pci_intrs C API");
MODULE_LICENSE("GPL");
