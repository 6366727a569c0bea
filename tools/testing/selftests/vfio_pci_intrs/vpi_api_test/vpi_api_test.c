// SPDX-License-Identifier: GPL-2.0
/*
 * Test module for the C API of vfio_pci_intrs: calls
 * vfio_pci_intrs_api_version() at load time and refuses to load (-EINVAL)
 * unless it returns the expected version. Loading it therefore proves that
 * the symbol resolves against the loaded vfio_pci_intrs module and works.
 *
 * The expected_version parameter (default VFIO_PCI_INTRS_API_VERSION) lets a
 * test check that a mismatch does make the load fail.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/vfio_pci_intrs.h>

static int expected_version = VFIO_PCI_INTRS_API_VERSION;
module_param(expected_version, int, 0444);
MODULE_PARM_DESC(expected_version, "API version vfio_pci_intrs must report");

static int __init vpi_api_test_init(void)
{
	int version = vfio_pci_intrs_api_version();

	if (version != expected_version) {
		pr_info("API version %d, expected %d\n", version, expected_version);
		return -EINVAL;
	}
	pr_info("API version %d\n", version);
	return 0;
}

static void __exit vpi_api_test_exit(void)
{
}

module_init(vpi_api_test_init);
module_exit(vpi_api_test_exit);

MODULE_DESCRIPTION("Load-time test of the vfio_pci_intrs C API");
MODULE_LICENSE("GPL");
