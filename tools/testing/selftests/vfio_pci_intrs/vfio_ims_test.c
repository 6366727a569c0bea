// SPDX-License-Identifier: GPL-2.0
/*
 * IMS-backed virtual devices through the IDXD-style test variant driver
 * (tools/vidxd/vpi_vidxd.c): mediated devices whose guest MSI-X vectors
 * are host IMS interrupts of a QEMU edu device, fired by edu DMA writes of
 * each slot's message, plus an emulated vector 0.
 *
 * Usage: vfio_ims_test [harness options]
 *
 * Needs vfio_pci_intrs.ko loaded. If no PCI device is bound to vpi-vidxd
 * yet, the test loads vpi_vidxd.ko from its own directory (unless loaded),
 * binds the edu at $VPI_VIDXD_BDF (default 0000:00:08.0, which must have no
 * driver) and undoes both at the end. Each test creates its own mediated
 * devices and removes them. The driver's debugfs control files
 * (/sys/kernel/debug/vpi-vidxd/) fire vectors, set cookies and show the
 * IMS slots.
 *
 * The no_ims_domain tests reload vpi_vidxd.ko (from the test's directory)
 * with ims_domain=0, so that the PF has no IMS domain, and then restore the
 * driver with its defaults and the PF bound to it; they skip when the
 * module file is not there or when other mediated devices exist.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vfio_util.h"

#define DRIVER		"vpi-vidxd"
#define MODULE_NAME	"vpi_vidxd"
#define MDEV_TYPE	"vpi-vidxd-vdev"
#define DBG		"/sys/kernel/debug/vpi-vidxd"
#define EDU_ID		"0x1234 0x11e8"

/* What the driver's virtual devices look like. */
#define NVEC		8
#define VENDOR_ID	0x1234
#define DEVICE_ID	0x11e9
#define MSIX_CAP	0x40
#define BAR0_SIZE	4096

#define NDEV		3	/* mediated devices per test */
#define FIRE_WAIT_MS	5000	/* an edu DMA takes ~100 ms, two per fire */
#define QUIET_MS	200	/* how long an eventfd must stay quiet */

#define MSIX		VFIO_PCI_MSIX_IRQ_INDEX
#define REQ		VFIO_PCI_REQ_IRQ_INDEX

/* Set up by main() before the harness runs. */
static char parent_bdf[32];
static char env_skip[512];	/* why the tests skip, if they do */
static char env_error[512];	/* why the tests fail, if they must */
static bool env_loaded, env_bound;

/* Asserts that a vfio_util call on device i returned 0. */
#define ASSERT_OK(i, expr) do { \
	int __ret = (expr); \
	ASSERT_EQ(0, __ret) \
		TH_LOG("%s: %s", self->dev[i].err, strerror(-__ret)); \
} while (0)

/* Writes a control file of a virtual device; 0 or -errno. */
static int ctl(const char *uuid, const char *file, const char *fmt, ...)
{
	char path[PATH_MAX], val[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), DBG "/%s/%s", uuid, file);
	return vfio_sysfs_write(path, val);
}

/* One line of a virtual device's "slots" file. */
struct slot_view {
	int hwirq;		/* vfio_pci_ims_hwirq(), -errno when negative */
	int in_use, masked, pending;
	unsigned long long addr, cookie;
	unsigned int data, virq;
	unsigned long fired;
};

/* Reads a whole debugfs file (up to len - 1 bytes). */
static int read_all(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return 0;
}

/* Parses vector @vector of device @uuid's "slots" view; 0 or -errno. */
static int slot_view(const char *uuid, unsigned int vector,
		     struct slot_view *sv)
{
	char path[PATH_MAX], buf[4096], key[32], *line;

	snprintf(path, sizeof(path), DBG "/%s/slots", uuid);
	if (read_all(path, buf, sizeof(buf)))
		return -errno;
	snprintf(key, sizeof(key), "vector=%u ", vector);
	memset(sv, 0, sizeof(*sv));
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, key, strlen(key)))
			continue;
		if (sscanf(line + strlen(key), "hwirq=%d", &sv->hwirq) != 1)
			return -EPROTO;
		if (sv->hwirq < 0)
			return 0;
		if (sscanf(line + strlen(key),
			   "hwirq=%*d in_use=%d masked=%d pending=%d addr=%llx data=%x cookie=%llx virq=%u fired=%lu",
			   &sv->in_use, &sv->masked, &sv->pending, &sv->addr,
			   &sv->data, &sv->cookie, &sv->virq, &sv->fired) != 8)
			return -EPROTO;
		return 0;
	}
	return -ENOENT;
}

/* The number after "name=" in the first line of a debugfs file, or -1. */
static long long header_value(const char *path, const char *name)
{
	char buf[4096], key[32], *p;

	if (read_all(path, buf, sizeof(buf)))
		return -1;
	p = strchr(buf, '\n');
	if (p)
		*p = '\0';
	snprintf(key, sizeof(key), " %s=", name);
	p = strstr(buf, key);
	return p ? strtoll(p + strlen(key), NULL, 0) : -1;
}

static bool ims_available(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DBG "/%s/slots", parent_bdf);
	return header_value(path, "ims") == 1;
}

static unsigned long long pasid_of(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DBG "/%s/slots", uuid);
	return header_value(path, "pasid");
}

/* Whether any slot of the PF's table shows @cookie. */
static bool pf_has_cookie(unsigned long long cookie)
{
	char path[PATH_MAX], buf[16384], key[64];

	snprintf(path, sizeof(path), DBG "/%s/slots", parent_bdf);
	if (read_all(path, buf, sizeof(buf)))
		return false;
	snprintf(key, sizeof(key), "cookie=0x%016llx", cookie);
	return strstr(buf, key);
}

/* A line of /proc/interrupts. */
struct irq_line {
	int irq;
	unsigned long long count;	/* summed over CPUs */
	bool vidxd_chip;	/* on the IMS chip, "[IR-]vidxd-ims-<PF>" */
};

/*
 * Finds the interrupt whose handler is called @name in /proc/interrupts
 * (the name ends the line, or is followed by another handler's). Returns
 * how many interrupts have a handler of that name, and the last one in @il.
 * A name that merely starts with @name does not count.
 */
static int irq_lines(const char *name, struct irq_line *il)
{
	char line[1024], *p, *end;
	size_t len = strlen(name);
	int ncpu = 0, found = 0, i;
	FILE *f;

	memset(il, 0, sizeof(*il));
	il->irq = -1;
	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f))
		for (p = strstr(line, "CPU"); p; p = strstr(p + 3, "CPU"))
			ncpu++;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		for (p = strstr(line, name); p; p = strstr(p + 1, name)) {
			if (p[-1] == ' ' && (p[len] == '\0' || p[len] == ','))
				break;
		}
		if (!p)
			continue;
		found++;
		il->irq = strtol(line, &end, 10);
		if (*end != ':') {
			il->irq = -1;
			continue;
		}
		p = end + 1;
		il->count = 0;
		for (i = 0; i < ncpu; i++)
			il->count += strtoull(p, &p, 10);
		il->vidxd_chip = strstr(p, "vidxd-ims-");
	}
	fclose(f);
	return found;
}

/* How many lines of /proc/interrupts mention @str. */
static int irq_mentions(const char *str)
{
	char line[1024];
	int found = 0;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		found += !!strstr(line, str);
	fclose(f);
	return found;
}

static int mdev_create(char *uuid, size_t len)
{
	char path[PATH_MAX];
	int ret;

	ret = vfio_sysfs_read("/proc/sys/kernel/random/uuid", uuid, len);
	if (ret)
		return ret;
	uuid[strcspn(uuid, "\n")] = '\0';
	snprintf(path, sizeof(path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/" MDEV_TYPE "/create",
		 parent_bdf);
	return vfio_sysfs_write(path, uuid);
}

static int mdev_remove(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	return vfio_sysfs_write(path, "1");
}

static bool mdev_exists(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	return !access(path, F_OK);
}

FIXTURE(vidxd) {
	char uuid[NDEV][40];
	bool created[NDEV];
	struct vfio_dev dev[NDEV];
	int efd[NDEV][NVEC];
	int req;		/* an eventfd for REQ */
	pid_t holder;		/* a child holding a device open, or 0 */
	pid_t remover;		/* a child removing a device, or 0 */
};

FIXTURE_SETUP(vidxd)
{
	int i, v, ret = 0;

	self->req = -1;
	for (i = 0; i < NDEV; i++) {
		self->dev[i].device_fd = -1;
		self->dev[i].group_fd = -1;
		self->dev[i].container_fd = -1;
		for (v = 0; v < NVEC; v++)
			self->efd[i][v] = -1;
	}
	if (env_skip[0])
		SKIP(return, "%s", env_skip);
	ASSERT_EQ('\0', env_error[0]) TH_LOG("%s", env_error);
	for (i = 0; i < NDEV; i++) {
		for (v = 0; v < NVEC; v++) {
			self->efd[i][v] = vfio_eventfd();
			ASSERT_LE(0, self->efd[i][v]);
		}
	}
	self->req = vfio_eventfd();
	ASSERT_LE(0, self->req);
	for (i = 0; i < NDEV && !ret; i++) {
		ret = mdev_create(self->uuid[i], sizeof(self->uuid[i]));
		self->created[i] = !ret;
	}
	if (ret) {
		for (i = 0; i < NDEV; i++)
			if (self->created[i])
				mdev_remove(self->uuid[i]);
	}
	ASSERT_EQ(0, ret) TH_LOG("creating a " MDEV_TYPE " device: %s",
				 strerror(-ret));
	if (!ims_available()) {
		/*
		 * On a kernel without PCI/IMS the module refuses IMS contexts,
		 * so the devices do not open. Without an IMS domain on a
		 * kernel with PCI/IMS they open, and the module refuses IMS
		 * vectors (-ENODEV).
		 */
		ret = vfio_dev_open(&self->dev[0], self->uuid[0]);
		vfio_dev_close(&self->dev[0]);
		if (ret == -EOPNOTSUPP) {
			/* No teardown after a skip in setup. */
			for (i = 0; i < NDEV; i++)
				mdev_remove(self->uuid[i]);
			SKIP(return, "kernel without PCI/IMS: the module refuses IMS contexts");
		}
	}
}

FIXTURE_TEARDOWN(vidxd)
{
	int i, v;

	/* A device held open would block its removal for ever. */
	if (self->holder > 0) {
		kill(self->holder, SIGKILL);
		waitpid(self->holder, NULL, 0);
	}
	for (i = 0; i < NDEV; i++) {
		vfio_dev_close(&self->dev[i]);
		for (v = 0; v < NVEC; v++)
			if (self->efd[i][v] >= 0)
				close(self->efd[i][v]);
	}
	if (self->req >= 0)
		close(self->req);
	/* A removal waiting for a device to close ends once it is closed. */
	if (self->remover > 0)
		waitpid(self->remover, NULL, 0);
	for (i = 0; i < NDEV; i++)
		if (self->created[i] && mdev_exists(self->uuid[i]))
			EXPECT_EQ(0, mdev_remove(self->uuid[i]));
}

/*
 * Parameters of helpers that assert: the harness's _metadata and the
 * fixture's data (FIXTURE_DATA(vidxd), spelt out for checkpatch).
 */
#define T struct __test_metadata *_metadata, struct _test_data_vidxd *self

/* Opens virtual device i through VFIO (its own group, a type1 container). */
static void open_dev(T, int i)
{
	ASSERT_OK(i, vfio_dev_open(&self->dev[i], self->uuid[i]));
}

/* Sets (fd >= 0) or clears (fd -1) the trigger of vector v of device i. */
static void set_vector(T, int i, int v, int fd)
{
	ASSERT_OK(i, vfio_irq_set_eventfds(&self->dev[i], MSIX, v, 1, &fd));
}

/*
 * The QEMU sequence: MSI-X "enabled" with no vector (fd -1 on vector 0),
 * then one vector per call.
 */
static void enable_all(T, int i)
{
	int v;

	set_vector(_metadata, self, i, 0, -1);
	for (v = 0; v < NVEC; v++)
		set_vector(_metadata, self, i, v, self->efd[i][v]);
}

/* Every eventfd but that of (i, v) has count 0 (i = -1: every eventfd). */
static void assert_quiet_except(T, int i, int v)
{
	int j, w;
	uint64_t c;

	for (j = 0; j < NDEV; j++) {
		for (w = 0; w < NVEC; w++) {
			if (j == i && w == v)
				continue;
			ASSERT_EQ(0, vfio_eventfd_read(self->efd[j][w], &c));
			ASSERT_EQ(0, c)
				TH_LOG("device %d vector %d counted %llu (fired: %d %d)",
				       j, w, (unsigned long long)c, i, v);
		}
	}
}

/* Fires vector v of device i: one count on its eventfd, none elsewhere. */
static void fire_one(T, int i, int v)
{
	int ret = ctl(self->uuid[i], "fire", "%d", v);
	uint64_t c;

	ASSERT_EQ(0, ret)
		TH_LOG("fire device %d vector %d: %s", i, v, strerror(-ret));
	ASSERT_EQ(1, vfio_eventfd_wait(self->efd[i][v], FIRE_WAIT_MS, &c))
		TH_LOG("device %d vector %d: no interrupt", i, v);
	ASSERT_EQ(1, c);
	usleep(QUIET_MS * 1000);
	ASSERT_EQ(0, vfio_eventfd_read(self->efd[i][v], &c));
	ASSERT_EQ(0, c) TH_LOG("device %d vector %d fired twice", i, v);
	assert_quiet_except(_metadata, self, i, v);
}

#define OPEN(i)				open_dev(_metadata, self, i)
#define SET_VECTOR(i, v, fd)		set_vector(_metadata, self, i, v, fd)
#define ENABLE_ALL(i)			enable_all(_metadata, self, i)
#define ASSERT_QUIET_EXCEPT(i, v)	assert_quiet_except(_metadata, self, i, v)
#define FIRE_ONE(i, v)			fire_one(_metadata, self, i, v)

#define NO_IMS "no IMS domain on %s (ims_domain=0, no interrupt remapping?)"

/* What the virtual device reports: info, regions, interrupts, config space. */
TEST_F(vidxd, device_info)
{
	struct vfio_irq_info irq;
	uint32_t table, pba;
	uint16_t val16;
	uint8_t val8;

	OPEN(0);
	ASSERT_TRUE(self->dev[0].info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_EQ(VFIO_PCI_NUM_REGIONS, self->dev[0].info.num_regions);
	ASSERT_EQ(VFIO_PCI_NUM_IRQS, self->dev[0].info.num_irqs);
	ASSERT_EQ(256, self->dev[0].config.size);
	ASSERT_EQ(BAR0_SIZE, self->dev[0].bar[0].size);
	ASSERT_EQ(0, self->dev[0].bar[1].size);

	ASSERT_OK(0, vfio_irq_info(&self->dev[0], MSIX, &irq));
	ASSERT_EQ(NVEC, irq.count);
	/* IMS allocates vectors one by one: no NORESIZE. */
	ASSERT_EQ(VFIO_IRQ_INFO_EVENTFD, irq.flags);
	ASSERT_OK(0, vfio_irq_info(&self->dev[0], REQ, &irq));
	ASSERT_EQ(1, irq.count);
	ASSERT_EQ(-EINVAL, vfio_irq_info(&self->dev[0], VFIO_PCI_INTX_IRQ_INDEX, &irq));
	ASSERT_EQ(-EINVAL, vfio_irq_info(&self->dev[0], VFIO_PCI_MSI_IRQ_INDEX, &irq));
	ASSERT_EQ(-EINVAL, vfio_irq_info(&self->dev[0], VFIO_PCI_ERR_IRQ_INDEX, &irq));

	ASSERT_OK(0, vfio_config_read16(&self->dev[0], PCI_VENDOR_ID, &val16));
	ASSERT_EQ(VENDOR_ID, val16);
	ASSERT_OK(0, vfio_config_read16(&self->dev[0], PCI_DEVICE_ID, &val16));
	ASSERT_EQ(DEVICE_ID, val16);
	ASSERT_OK(0, vfio_config_read16(&self->dev[0], PCI_STATUS, &val16));
	ASSERT_TRUE(val16 & PCI_STATUS_CAP_LIST);
	ASSERT_OK(0, vfio_config_read(&self->dev[0], PCI_CAPABILITY_LIST, &val8, 1));
	ASSERT_EQ(MSIX_CAP, val8);
	ASSERT_OK(0, vfio_config_read(&self->dev[0], MSIX_CAP, &val8, 1));
	ASSERT_EQ(PCI_CAP_ID_MSIX, val8);
	ASSERT_OK(0, vfio_config_read16(&self->dev[0], MSIX_CAP + PCI_MSIX_FLAGS, &val16));
	ASSERT_EQ(NVEC, (val16 & PCI_MSIX_FLAGS_QSIZE) + 1);
	ASSERT_OK(0, vfio_config_read(&self->dev[0], MSIX_CAP + PCI_MSIX_TABLE, &table, 4));
	ASSERT_OK(0, vfio_config_read(&self->dev[0], MSIX_CAP + PCI_MSIX_PBA, &pba, 4));
	/* Table and PBA in BAR0, inside it. */
	ASSERT_EQ(0, table & PCI_MSIX_TABLE_BIR);
	ASSERT_EQ(0, pba & PCI_MSIX_PBA_BIR);
	ASSERT_GE(BAR0_SIZE, (table & PCI_MSIX_TABLE_OFFSET) + 16 * NVEC);
	ASSERT_GE(BAR0_SIZE, (pba & PCI_MSIX_PBA_OFFSET) + 8);
}

/* Config space writes are emulated: BAR sizing, writable and read-only bits. */
TEST_F(vidxd, config_space)
{
	uint32_t bar, ones = 0xffffffff;
	uint16_t val16;

	OPEN(0);
	ASSERT_OK(0, vfio_config_write(&self->dev[0], PCI_BASE_ADDRESS_0, &ones, 4));
	ASSERT_OK(0, vfio_config_read(&self->dev[0], PCI_BASE_ADDRESS_0, &bar, 4));
	ASSERT_EQ((uint32_t)~(BAR0_SIZE - 1), bar);
	ASSERT_OK(0, vfio_config_write16(&self->dev[0], PCI_VENDOR_ID, 0xabcd));
	ASSERT_OK(0, vfio_config_read16(&self->dev[0], PCI_VENDOR_ID, &val16));
	ASSERT_EQ(VENDOR_ID, val16);
	ASSERT_OK(0, vfio_command_set(&self->dev[0], PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	ASSERT_OK(0, vfio_config_write16(&self->dev[0], MSIX_CAP + PCI_MSIX_FLAGS,
					 PCI_MSIX_FLAGS_ENABLE | 0x7ff));
	ASSERT_OK(0, vfio_config_read16(&self->dev[0], MSIX_CAP + PCI_MSIX_FLAGS, &val16));
	ASSERT_EQ(PCI_MSIX_FLAGS_ENABLE | (NVEC - 1), val16);
}

/*
 * Every vector enabled the QEMU way; each IMS vector fired by edu DMA, and
 * the emulated vector 0, counts exactly once on its own eventfd.
 */
TEST_F_TIMEOUT(vidxd, fire_each_vector, 120)
{
	unsigned long long pasid;
	struct slot_view sv;
	int v, w, hw[NVEC];

	OPEN(0);
	if (!ims_available()) {
		int fd = self->efd[0][1], ret;

		/* Without an IMS domain the module refuses IMS vectors... */
		ret = vfio_irq_set_eventfds(&self->dev[0], MSIX, 1, 1, &fd);
		ASSERT_EQ(-ENODEV, ret)
			TH_LOG("enabling an IMS vector without IMS: %s", strerror(-ret));
		/* ...but the emulated vector works. */
		SET_VECTOR(0, 0, self->efd[0][0]);
		FIRE_ONE(0, 0);
		SKIP(return, "no IMS domain on %s: only the emulated vector was tested",
		     parent_bdf);
	}
	ENABLE_ALL(0);
	pasid = pasid_of(self->uuid[0]);
	ASSERT_LT(0, (long long)pasid);
	for (v = 1; v < NVEC; v++) {
		ASSERT_EQ(0, slot_view(self->uuid[0], v, &sv));
		ASSERT_LE(0, sv.hwirq) TH_LOG("vector %d: hwirq %d", v, sv.hwirq);
		ASSERT_EQ(1, sv.in_use);
		ASSERT_EQ(0, sv.masked);
		ASSERT_NE(0, sv.addr);
		/* The default cookie reached the chip. */
		ASSERT_EQ(pasid, sv.cookie);
		hw[v] = sv.hwirq;
		for (w = 1; w < v; w++)
			ASSERT_NE(hw[w], hw[v]);
	}
	ASSERT_QUIET_EXCEPT(-1, -1);
	for (v = 1; v < NVEC; v++)
		FIRE_ONE(0, v);
	FIRE_ONE(0, 0);
	/* And again, with the data words already staged in edu. */
	for (v = NVEC - 1; v >= 0; v--)
		FIRE_ONE(0, v);
}

/*
 * Each live IMS vector has its own line in /proc/interrupts, on the
 * driver's IMS chip, named "vfio-ims[N](<uuid>)" after the mediated device;
 * the emulated vector has none. A cleared vector's line goes, and its
 * interrupts are counted on the line of the Linux interrupt in the slot.
 */
TEST_F_TIMEOUT(vidxd, interrupt_names, 60)
{
	struct irq_line il;
	struct slot_view sv;
	char name[NVEC][96];
	unsigned long long before;
	int v;

	for (v = 0; v < NVEC; v++)
		snprintf(name[v], sizeof(name[v]), "vfio-ims[%d](%s)", v,
			 self->uuid[0]);
	OPEN(0);
	if (!ims_available())
		SKIP(return, NO_IMS, parent_bdf);
	ASSERT_EQ(0, irq_mentions(self->uuid[0]));
	ENABLE_ALL(0);
	ASSERT_EQ(0, irq_lines(name[0], &il)) TH_LOG("%s has an interrupt", name[0]);
	for (v = 1; v < NVEC; v++) {
		ASSERT_EQ(1, irq_lines(name[v], &il))
			TH_LOG("%s: not once in /proc/interrupts", name[v]);
		ASSERT_EQ(0, slot_view(self->uuid[0], v, &sv));
		ASSERT_LT(0, il.irq);
		ASSERT_EQ(sv.virq, il.irq);
		ASSERT_TRUE(il.vidxd_chip) TH_LOG("%s: not on the IMS chip", name[v]);
	}
	ASSERT_EQ(NVEC - 1, irq_mentions(self->uuid[0]));
	/* Other devices are not open: no interrupts. */
	ASSERT_EQ(0, irq_mentions(self->uuid[1]));

	/* An interrupt counts on its own line. */
	ASSERT_EQ(1, irq_lines(name[5], &il));
	before = il.count;
	FIRE_ONE(0, 5);
	ASSERT_EQ(1, irq_lines(name[5], &il));
	ASSERT_EQ(before + 1, il.count);

	/* Cleared, the line goes; enabled again, it comes back. */
	SET_VECTOR(0, 3, -1);
	ASSERT_EQ(0, irq_lines(name[3], &il));
	ASSERT_EQ(NVEC - 2, irq_mentions(self->uuid[0]));
	SET_VECTOR(0, 3, self->efd[0][3]);
	ASSERT_EQ(1, irq_lines(name[3], &il));
	ASSERT_EQ(0, slot_view(self->uuid[0], 3, &sv));
	ASSERT_EQ(sv.virq, il.irq);

	/* Closing frees them all. */
	vfio_dev_close(&self->dev[0]);
	ASSERT_EQ(0, irq_mentions(self->uuid[0]));
}

/* A vector without a trigger has no interrupt: firing it counts nothing. */
TEST_F_TIMEOUT(vidxd, untriggered_vectors, 60)
{
	struct slot_view sv;

	OPEN(0);
	if (!ims_available())
		SKIP(return, NO_IMS, parent_bdf);
	SET_VECTOR(0, 0, -1);
	SET_VECTOR(0, 2, self->efd[0][2]);
	/* Never enabled: no IMS interrupt to fire. */
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "fire", "3"));
	/* Emulated vector without a trigger: signalled into the void. */
	ASSERT_EQ(0, ctl(self->uuid[0], "fire", "0"));
	/* Enabled, then cleared: the interrupt is gone. */
	SET_VECTOR(0, 3, self->efd[0][3]);
	ASSERT_EQ(0, slot_view(self->uuid[0], 3, &sv));
	ASSERT_LE(0, sv.hwirq);
	SET_VECTOR(0, 3, -1);
	ASSERT_EQ(0, slot_view(self->uuid[0], 3, &sv));
	ASSERT_EQ(-EINVAL, sv.hwirq);
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "fire", "3"));
	usleep(QUIET_MS * 1000);
	ASSERT_QUIET_EXCEPT(-1, -1);
	/* Vector 2 still works. */
	FIRE_ONE(0, 2);
}

/* The emulated vector has no IMS interrupt; vectors out of range are refused. */
TEST_F(vidxd, emulated_vector_hwirq)
{
	struct slot_view sv;

	OPEN(0);
	SET_VECTOR(0, 0, self->efd[0][0]);
	ASSERT_EQ(0, slot_view(self->uuid[0], 0, &sv));
	ASSERT_EQ(-EINVAL, sv.hwirq);
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "cookie", "0 0x42"));
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "fire", "%d", NVEC));
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "cookie", "%d 0x42", NVEC));
	FIRE_ONE(0, 0);
}

/*
 * The driver passes the vector of a cookie to the module as written: the
 * module refuses vectors past the vector count and the emulated vector.
 */
TEST_F_TIMEOUT(vidxd, cookie_vector_range, 60)
{
	const unsigned long long c = 0x4242;
	struct slot_view sv;

	/* Not open: the driver has no context to ask. */
	ASSERT_EQ(-ENODEV, ctl(self->uuid[0], "cookie", "1 0x%llx", c));
	OPEN(0);
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "cookie", "%d 0x%llx", NVEC, c));
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "cookie", "%d 0x%llx", NVEC + 1, c));
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "cookie", "%d 0x%llx", 4096, c));
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "cookie", "%u 0x%llx", UINT_MAX, c));
	ASSERT_EQ(-EINVAL, ctl(self->uuid[0], "cookie", "0 0x%llx", c));
	/* The last vector is in range. */
	ASSERT_EQ(0, ctl(self->uuid[0], "cookie", "%d 0x%llx", NVEC - 1, c));
	if (!ims_available())
		SKIP(return, NO_IMS, parent_bdf);
	ASSERT_FALSE(pf_has_cookie(c));
	SET_VECTOR(0, 0, -1);
	SET_VECTOR(0, NVEC - 1, self->efd[0][NVEC - 1]);
	ASSERT_EQ(0, slot_view(self->uuid[0], NVEC - 1, &sv));
	ASSERT_LE(0, sv.hwirq);
	ASSERT_EQ(c, sv.cookie);
	FIRE_ONE(0, NVEC - 1);
}

/*
 * A cookie set before a vector is enabled reaches the chip with its
 * allocation, and not before; one set while the vector is live does not
 * change the live interrupt, only the next one.
 */
TEST_F_TIMEOUT(vidxd, cookies, 60)
{
	const unsigned long long c1 = 0x1234abcd5678ef01ULL, c2 = 0x5a5a;
	unsigned long long pasid;
	struct slot_view sv;
	int hw;

	OPEN(0);
	if (!ims_available())
		SKIP(return, NO_IMS, parent_bdf);
	pasid = pasid_of(self->uuid[0]);
	SET_VECTOR(0, 0, -1);
	ASSERT_EQ(0, ctl(self->uuid[0], "cookie", "3 0x%llx", c1));
	ASSERT_FALSE(pf_has_cookie(c1));
	SET_VECTOR(0, 2, self->efd[0][2]);
	SET_VECTOR(0, 3, self->efd[0][3]);
	ASSERT_EQ(0, slot_view(self->uuid[0], 2, &sv));
	ASSERT_EQ(pasid, sv.cookie);
	ASSERT_EQ(0, slot_view(self->uuid[0], 3, &sv));
	ASSERT_LE(0, sv.hwirq);
	ASSERT_EQ(c1, sv.cookie);
	hw = sv.hwirq;

	/* Live: the chip keeps the old cookie. */
	ASSERT_EQ(0, ctl(self->uuid[0], "cookie", "3 0x%llx", c2));
	ASSERT_EQ(0, slot_view(self->uuid[0], 3, &sv));
	ASSERT_EQ(hw, sv.hwirq);
	ASSERT_EQ(c1, sv.cookie);
	ASSERT_FALSE(pf_has_cookie(c2));
	FIRE_ONE(0, 3);

	/* Re-enabled: a new interrupt, with the new cookie. */
	SET_VECTOR(0, 3, -1);
	ASSERT_FALSE(pf_has_cookie(c2));
	SET_VECTOR(0, 3, self->efd[0][3]);
	ASSERT_EQ(0, slot_view(self->uuid[0], 3, &sv));
	ASSERT_LE(0, sv.hwirq);
	ASSERT_EQ(c2, sv.cookie);
	FIRE_ONE(0, 3);
	FIRE_ONE(0, 2);
}

/* A masked slot keeps a fired message pending until it is unmasked. */
TEST_F_TIMEOUT(vidxd, masked_slot_pending, 60)
{
	struct slot_view sv;
	uint64_t c;

	OPEN(0);
	if (!ims_available())
		SKIP(return, NO_IMS, parent_bdf);
	SET_VECTOR(0, 0, -1);
	SET_VECTOR(0, 1, self->efd[0][1]);
	ASSERT_EQ(0, ctl(self->uuid[0], "mask", "1 1"));
	ASSERT_EQ(0, ctl(self->uuid[0], "fire", "1"));
	ASSERT_EQ(0, vfio_eventfd_wait(self->efd[0][1], 500, &c));
	ASSERT_EQ(0, slot_view(self->uuid[0], 1, &sv));
	ASSERT_EQ(1, sv.masked);
	ASSERT_EQ(1, sv.pending);
	ASSERT_EQ(0, sv.fired);
	/* Unmasking sends it, once. */
	ASSERT_EQ(0, ctl(self->uuid[0], "mask", "1 0"));
	ASSERT_EQ(1, vfio_eventfd_wait(self->efd[0][1], FIRE_WAIT_MS, &c));
	ASSERT_EQ(1, c);
	ASSERT_EQ(0, slot_view(self->uuid[0], 1, &sv));
	ASSERT_EQ(0, sv.masked);
	ASSERT_EQ(0, sv.pending);
	ASSERT_EQ(1, sv.fired);
	usleep(QUIET_MS * 1000);
	ASSERT_QUIET_EXCEPT(-1, -1);
	FIRE_ONE(0, 1);
}

/* Several devices, all vectors: each interrupt reaches only its eventfd. */
TEST_F_TIMEOUT(vidxd, many_devices, 300)
{
	struct slot_view sv;
	int i, v, j, w, hw[NDEV][NVEC];

	if (!ims_available())
		SKIP(return, NO_IMS, parent_bdf);
	for (i = 0; i < NDEV; i++) {
		OPEN(i);
		ENABLE_ALL(i);
	}
	/* Every IMS vector of every device has its own slot. */
	for (i = 0; i < NDEV; i++) {
		for (v = 1; v < NVEC; v++) {
			ASSERT_EQ(0, slot_view(self->uuid[i], v, &sv));
			ASSERT_LE(0, sv.hwirq);
			ASSERT_EQ(pasid_of(self->uuid[i]), sv.cookie);
			hw[i][v] = sv.hwirq;
			for (j = 0; j <= i; j++)
				for (w = 1; w < (j == i ? v : NVEC); w++)
					ASSERT_NE(hw[j][w], hw[i][v]);
		}
	}
	for (i = 0; i < NDEV; i++)
		for (v = 0; v < NVEC; v++)
			FIRE_ONE(i, v);
}

/* Closing with live vectors frees them; the next open starts afresh. */
TEST_F_TIMEOUT(vidxd, close_with_live_vectors, 60)
{
	struct slot_view sv;
	int v;

	OPEN(0);
	if (!ims_available())
		SKIP(return, NO_IMS, parent_bdf);
	ENABLE_ALL(0);
	ASSERT_EQ(0, ctl(self->uuid[0], "cookie", "4 0x77"));
	vfio_dev_close(&self->dev[0]);
	ASSERT_EQ(-ENODEV, ctl(self->uuid[0], "fire", "0"));
	OPEN(0);
	for (v = 0; v < NVEC; v++) {
		ASSERT_EQ(0, slot_view(self->uuid[0], v, &sv));
		ASSERT_EQ(-EINVAL, sv.hwirq);
	}
	ENABLE_ALL(0);
	/* A new context: vector 4 is back to the default cookie. */
	ASSERT_EQ(0, slot_view(self->uuid[0], 4, &sv));
	ASSERT_EQ(pasid_of(self->uuid[0]), sv.cookie);
	FIRE_ONE(0, 4);
	FIRE_ONE(0, 0);
}

/* A child that opens device i, enables every vector and REQ, then waits. */
static void hold_device(const char *uuid, int ready_fd, bool honour_req)
{
	struct vfio_dev dev;
	int fd = -1, req, v, ret;
	uint64_t c;

	ret = vfio_dev_open(&dev, uuid);
	if (ret) {
		fprintf(stderr, "child: %s: %s\n", dev.err, strerror(-ret));
		_exit(2);
	}
	ret = vfio_irq_set_eventfds(&dev, MSIX, 0, 1, &fd);
	for (v = 0; v < NVEC && !ret; v++) {
		fd = vfio_eventfd();
		ret = vfio_irq_set_eventfds(&dev, MSIX, v, 1, &fd);
	}
	req = vfio_eventfd();
	if (!ret && honour_req)
		ret = vfio_irq_set_eventfds(&dev, REQ, 0, 1, &req);
	if (ret) {
		fprintf(stderr, "child: %s: %s\n", dev.err, strerror(-ret));
		_exit(3);
	}
	if (write(ready_fd, "r", 1) != 1)
		_exit(4);
	if (!honour_req) {
		for (;;)
			pause();
	}
	/* Exit (closing everything) when asked to release the device. */
	ret = vfio_eventfd_wait(req, 60000, &c);
	_exit(ret == 1 ? 0 : 5);
}

static pid_t spawn_holder(const char *uuid, bool honour_req)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		hold_device(uuid, p[1], honour_req);
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/*
 * Removing a device that another process holds open with live vectors
 * signals its REQ eventfd and waits until the process lets go.
 */
TEST_F_TIMEOUT(vidxd, remove_while_open, 120)
{
	int status;
	pid_t pid;

	if (!ims_available())
		SKIP(return, NO_IMS, parent_bdf);
	pid = spawn_holder(self->uuid[1], true);
	ASSERT_LT(0, pid);
	self->holder = pid;
	ASSERT_EQ(0, mdev_remove(self->uuid[1]));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->holder = 0;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("the holder got no REQ");
	ASSERT_FALSE(mdev_exists(self->uuid[1]));
}

/*
 * Without a REQ eventfd the removal waits until the holder dies, with its
 * vectors live; the device is then torn down.
 */
TEST_F_TIMEOUT(vidxd, remove_while_open_killed, 120)
{
	pid_t holder, remover;
	int status;

	if (!ims_available())
		SKIP(return, NO_IMS, parent_bdf);
	holder = spawn_holder(self->uuid[2], false);
	ASSERT_LT(0, holder);
	self->holder = holder;
	remover = fork();
	ASSERT_LE(0, remover);
	if (remover == 0)
		_exit(mdev_remove(self->uuid[2]) ? 1 : 0);
	sleep(2);
	/* (The device leaves /sys/bus/mdev/devices before it is released.) */
	ASSERT_EQ(0, waitpid(remover, &status, WNOHANG))
		TH_LOG("removal did not wait for the open device");
	kill(holder, SIGKILL);
	ASSERT_EQ(holder, waitpid(holder, &status, 0));
	self->holder = 0;
	ASSERT_EQ(remover, waitpid(remover, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_FALSE(mdev_exists(self->uuid[2]));
}

/*
 * Removing a device while it is open signals its REQ eventfd (the driver's
 * .request calls vfio_pci_intrs_request()); the removal waits until the
 * device is closed, then completes, freeing the device's IMS interrupts.
 */
TEST_F_TIMEOUT(vidxd, req_on_remove, 90)
{
	struct vfio_irq_info irq;
	int status;
	uint64_t c;
	pid_t pid;

	OPEN(1);
	SET_VECTOR(1, 0, -1);
	SET_VECTOR(1, 0, self->efd[1][0]);
	if (ims_available())
		SET_VECTOR(1, 2, self->efd[1][2]);
	ASSERT_OK(1, vfio_irq_set_eventfds(&self->dev[1], REQ, 0, 1, &self->req));
	ASSERT_EQ(0, vfio_eventfd_read(self->req, &c));
	ASSERT_EQ(0, c);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int i;

		/* The device's fds and mappings: the removal would wait on them. */
		for (i = 0; i < NDEV; i++)
			vfio_dev_close(&self->dev[i]);
		_exit(mdev_remove(self->uuid[1]) ? 1 : 0);
	}
	self->remover = pid;
	ASSERT_EQ(1, vfio_eventfd_wait(self->req, 10000, &c))
		TH_LOG("no REQ within 10 s of the removal");
	ASSERT_LE(1, c);

	/* Still open, still usable; the removal waits. */
	usleep(500 * 1000);
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG))
		TH_LOG("the removal did not wait for the open device");
	ASSERT_OK(1, vfio_irq_info(&self->dev[1], MSIX, &irq));
	ASSERT_EQ(NVEC, irq.count);
	if (ims_available())
		ASSERT_EQ(1, irq_mentions(self->uuid[1]));

	/* Let go: the removal completes. */
	vfio_dev_close(&self->dev[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->remover = 0;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("the removal failed");
	ASSERT_FALSE(mdev_exists(self->uuid[1]));
	ASSERT_EQ(0, irq_mentions(self->uuid[1]));
	/* The other devices are untouched. */
	ASSERT_TRUE(mdev_exists(self->uuid[0]));
	OPEN(0);
	SET_VECTOR(0, 0, self->efd[0][0]);
	FIRE_ONE(0, 0);
}

/* Environment: the driver loaded and an edu bound to it. */

static bool module_loaded(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	bool found = false;
	FILE *f;

	f = fopen("/proc/modules", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, len) && line[len] == ' ';
	fclose(f);
	return found;
}

static bool find_bound(void)
{
	struct dirent *de;
	DIR *d;

	d = opendir("/sys/bus/pci/drivers/" DRIVER);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "0000:", 5)) {
			snprintf(parent_bdf, sizeof(parent_bdf), "%.31s", de->d_name);
			break;
		}
	}
	closedir(d);
	return parent_bdf[0];
}

/* The driver's module file, next to the test: 0 or -errno. */
static int driver_path(char *path, size_t len)
{
	char *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", path, len - 32);
	if (n < 0)
		return -errno;
	path[n] = '\0';
	slash = strrchr(path, '/');
	slash = slash ? slash + 1 : path;
	snprintf(slash, len - (slash - path), "%s", MODULE_NAME ".ko");
	return 0;
}

/* Loads the driver from @path with module parameters @params: 0 or -errno. */
static int driver_load(const char *path, const char *params)
{
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		ret = -errno;
	close(fd);
	return ret;
}

/* Unloads the driver, which may be busy for a moment after the last close. */
static int driver_unload(void)
{
	int i, err = 0;

	for (i = 0; i < 50; i++) {
		if (!syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK))
			return 0;
		err = errno;
		if (err != EAGAIN && err != EBUSY)
			break;
		usleep(100 * 1000);
	}
	return -err;
}

static void load_driver(void)
{
	char path[PATH_MAX];
	int ret;

	ret = driver_path(path, sizeof(path));
	if (ret) {
		snprintf(env_error, sizeof(env_error), "readlink /proc/self/exe: %s",
			 strerror(-ret));
		return;
	}
	if (access(path, R_OK)) {
		snprintf(env_skip, sizeof(env_skip), "%.400s: %s", path,
			 strerror(errno));
		return;
	}
	ret = driver_load(path, "");
	if (ret)
		snprintf(env_error, sizeof(env_error), "loading %.400s: %s", path,
			 strerror(-ret));
	else
		env_loaded = true;
}

static void bind_edu(void)
{
	const char *bdf = getenv("VPI_VIDXD_BDF");
	char path[PATH_MAX], id[64], vendor[16], device[16];
	int ret;

	if (!bdf || !*bdf)
		bdf = "0000:00:08.0";
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	if (vfio_sysfs_read(path, vendor, sizeof(vendor))) {
		snprintf(env_skip, sizeof(env_skip), "no PCI device %s", bdf);
		return;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", bdf);
	if (vfio_sysfs_read(path, device, sizeof(device)))
		device[0] = '\0';
	snprintf(id, sizeof(id), "%.*s %.*s", (int)strcspn(vendor, "\n"), vendor,
		 (int)strcspn(device, "\n"), device);
	if (strcmp(id, EDU_ID)) {
		snprintf(env_skip, sizeof(env_skip), "%s is %s, not an edu (%s)",
			 bdf, id, EDU_ID);
		return;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	if (!access(path, F_OK)) {
		snprintf(env_skip, sizeof(env_skip),
			 "%s is bound to another driver", bdf);
		return;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	ret = vfio_sysfs_write(path, DRIVER);
	if (!ret)
		ret = vfio_sysfs_write("/sys/bus/pci/drivers/" DRIVER "/bind", bdf);
	if (ret) {
		snprintf(env_error, sizeof(env_error), "binding %s to " DRIVER ": %s",
			 bdf, strerror(-ret));
		vfio_sysfs_write(path, "\n");
		return;
	}
	snprintf(parent_bdf, sizeof(parent_bdf), "%s", bdf);
	env_bound = true;
}

static void env_setup(void)
{
	if (access(DBG, F_OK) && access("/sys/bus/pci/drivers/" DRIVER, F_OK)) {
		if (!module_loaded("vfio_pci_intrs")) {
			snprintf(env_skip, sizeof(env_skip),
				 "vfio_pci_intrs is not loaded");
			return;
		}
		load_driver();
		if (env_skip[0] || env_error[0])
			return;
	}
	if (!find_bound())
		bind_edu();
	if (parent_bdf[0] && access(DBG, F_OK))
		snprintf(env_skip, sizeof(env_skip), "no %s (debugfs not mounted?)",
			 DBG);
}

static pid_t env_pid;

/* At exit of the main process: the harness exits from test_harness_run(). */
static void env_cleanup(void)
{
	char path[PATH_MAX];

	if (getpid() != env_pid)
		return;
	if (env_bound) {
		vfio_sysfs_write("/sys/bus/pci/drivers/" DRIVER "/unbind", parent_bdf);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
			 parent_bdf);
		vfio_sysfs_write(path, "\n");
	}
	if (env_loaded)
		driver_unload();
}

/* A PF without an IMS domain: the driver reloaded with ims_domain=0. */

/* Taint flags of a bad page (bit 5), an oops (7) and a WARN (9). */
#define TAINT_SPLAT	0x2a0UL

static unsigned long taint_flags(void)
{
	char buf[32];

	if (vfio_sysfs_read("/proc/sys/kernel/tainted", buf, sizeof(buf)))
		return 0;
	return strtoul(buf, NULL, 10);
}

static bool mdevs_exist(void)
{
	struct dirent *de;
	bool found = false;
	DIR *d;

	d = opendir("/sys/bus/mdev/devices");
	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = de->d_name[0] != '.';
	closedir(d);
	return found;
}

/*
 * Reloads the driver from @ko with module parameters @params and binds the
 * PF to it again (the PCI core does that itself while the PF's
 * driver_override names the driver). 0 or -errno, with what failed in @err.
 */
static int driver_reload(const char *ko, const char *params, char *err,
			 size_t len)
{
	char path[PATH_MAX];
	int ret;

	if (module_loaded(MODULE_NAME)) {
		ret = driver_unload();
		if (ret) {
			snprintf(err, len, "unloading " MODULE_NAME ": %s",
				 strerror(-ret));
			return ret;
		}
	}
	ret = driver_load(ko, params);
	if (ret) {
		snprintf(err, len, "loading %.300s %s: %s", ko, params,
			 strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/" DRIVER "/%s",
		 parent_bdf);
	if (!access(path, F_OK))
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 parent_bdf);
	ret = vfio_sysfs_write(path, DRIVER);
	if (!ret)
		ret = vfio_sysfs_write("/sys/bus/pci/drivers/" DRIVER "/bind", parent_bdf);
	if (ret)
		snprintf(err, len, "binding %s to " DRIVER ": %s", parent_bdf,
			 strerror(-ret));
	return ret;
}

FIXTURE(no_ims) {
	char ko[PATH_MAX];
	char uuid[40];
	bool created;
	struct vfio_dev dev;
	int efd[NVEC];
	bool had_ims;		/* the PF had an IMS domain before */
	unsigned long tainted;
	char err[512];
};

FIXTURE_SETUP(no_ims)
{
	int v, ret;

	self->dev.device_fd = -1;
	self->dev.group_fd = -1;
	self->dev.container_fd = -1;
	for (v = 0; v < NVEC; v++)
		self->efd[v] = -1;
	if (env_skip[0])
		SKIP(return, "%s", env_skip);
	ASSERT_EQ('\0', env_error[0]) TH_LOG("%s", env_error);
	if (driver_path(self->ko, sizeof(self->ko)) || access(self->ko, R_OK))
		SKIP(return, "no %.400s to reload", self->ko);
	if (mdevs_exist())
		SKIP(return, "other mediated devices exist: not reloading " DRIVER);
	for (v = 0; v < NVEC; v++) {
		self->efd[v] = vfio_eventfd();
		ASSERT_LE(0, self->efd[v]);
	}
	self->had_ims = ims_available();
	self->tainted = taint_flags();
	ret = driver_reload(self->ko, "ims_domain=0", self->err, sizeof(self->err));
	if (!ret && ims_available())
		ret = -EEXIST;
	if (ret) {
		/* No teardown after a failed setup: restore now. */
		TH_LOG("%s", ret == -EEXIST ?
		       "ims_domain=0 still created the IMS domain" : self->err);
		ASSERT_EQ(0, driver_reload(self->ko, "", self->err,
					   sizeof(self->err)))
			TH_LOG("restoring " DRIVER ": %s", self->err);
		ASSERT_EQ(0, ret);
	}
}

FIXTURE_TEARDOWN(no_ims)
{
	int v;

	vfio_dev_close(&self->dev);
	for (v = 0; v < NVEC; v++)
		if (self->efd[v] >= 0)
			close(self->efd[v]);
	if (self->created && mdev_exists(self->uuid))
		EXPECT_EQ(0, mdev_remove(self->uuid));
	/* Back to normal: the driver with its defaults, the PF bound. */
	EXPECT_EQ(0, driver_reload(self->ko, "", self->err, sizeof(self->err)))
		TH_LOG("restoring " DRIVER ": %s", self->err);
	EXPECT_EQ(self->had_ims, ims_available());
}

/*
 * Without an IMS domain on the PF the device opens, the module refuses
 * every IMS vector with -ENODEV (it used to oops in msi_lock_descs()), and
 * the emulated vector works.
 */
TEST_F_TIMEOUT(no_ims, enable_fails, 120)
{
	char path[PATH_MAX];
	struct slot_view sv;
	int v, fd = -1, ret;
	uint64_t c;

	ASSERT_EQ(0, mdev_create(self->uuid, sizeof(self->uuid)));
	self->created = true;
	ret = vfio_dev_open(&self->dev, self->uuid);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "kernel without PCI/IMS: the module refuses IMS contexts");
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", self->dev.err, strerror(-ret));
	snprintf(path, sizeof(path), DBG "/%s/slots", self->uuid);
	ASSERT_EQ(0, header_value(path, "ims"));

	/* The QEMU way: MSI-X on with no vector, then one vector per call. */
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->dev, MSIX, 0, 1, &fd));
	for (v = 1; v < NVEC; v++) {
		ret = vfio_irq_set_eventfds(&self->dev, MSIX, v, 1, &self->efd[v]);
		ASSERT_EQ(-ENODEV, ret)
			TH_LOG("vector %d: %s", v, strerror(-ret));
		ASSERT_EQ(0, slot_view(self->uuid, v, &sv));
		ASSERT_EQ(-EINVAL, sv.hwirq);
		ASSERT_EQ(-EINVAL, ctl(self->uuid, "fire", "%d", v));
	}
	ASSERT_EQ(0, irq_mentions(self->uuid));

	/* The emulated vector works. */
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->dev, MSIX, 0, 1, &self->efd[0]));
	ASSERT_EQ(0, ctl(self->uuid, "fire", "0"));
	ASSERT_EQ(1, vfio_eventfd_wait(self->efd[0], FIRE_WAIT_MS, &c));
	ASSERT_EQ(1, c);
	/* With it live, IMS vectors still fail, alone or in a block. */
	ret = vfio_irq_set_eventfds(&self->dev, MSIX, 3, 1, &self->efd[3]);
	ASSERT_EQ(-ENODEV, ret) TH_LOG("vector 3: %s", strerror(-ret));
	ret = vfio_irq_set_eventfds(&self->dev, MSIX, 0, NVEC, self->efd);
	ASSERT_EQ(-ENODEV, ret) TH_LOG("vectors 0-%d: %s", NVEC - 1, strerror(-ret));
	ASSERT_EQ(0, irq_mentions(self->uuid));
	/* The failed block cleared the vectors it touched, vector 0 too. */
	ASSERT_EQ(0, ctl(self->uuid, "fire", "0"));
	usleep(QUIET_MS * 1000);
	ASSERT_EQ(0, vfio_eventfd_read(self->efd[0], &c));
	ASSERT_EQ(0, c);
	/* Cookies need no domain. */
	ASSERT_EQ(0, ctl(self->uuid, "cookie", "1 0x99"));
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->dev, MSIX, 0, 1, &self->efd[0]));
	ASSERT_EQ(0, ctl(self->uuid, "fire", "0"));
	ASSERT_EQ(1, vfio_eventfd_wait(self->efd[0], FIRE_WAIT_MS, &c));
	ASSERT_EQ(1, c);
	for (v = 1; v < NVEC; v++) {
		ASSERT_EQ(0, vfio_eventfd_read(self->efd[v], &c));
		ASSERT_EQ(0, c) TH_LOG("vector %d counted %llu", v,
				       (unsigned long long)c);
	}

	/* Closed with vector 0 live and opened again: the same. */
	vfio_dev_close(&self->dev);
	ret = vfio_dev_open(&self->dev, self->uuid);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", self->dev.err, strerror(-ret));
	ASSERT_EQ(-ENODEV, vfio_irq_set_eventfds(&self->dev, MSIX, 1, 1, &self->efd[1]));
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->dev, MSIX, 0, 1, &self->efd[0]));
	ASSERT_EQ(0, ctl(self->uuid, "fire", "0"));
	ASSERT_EQ(1, vfio_eventfd_wait(self->efd[0], FIRE_WAIT_MS, &c));
	ASSERT_EQ(1, c);

	/* No WARN, oops or bad page on the way. */
	ASSERT_EQ(0UL, taint_flags() & ~self->tainted & TAINT_SPLAT)
		TH_LOG("the kernel got tainted: %lu -> %lu", self->tainted,
		       taint_flags());
}

int main(int argc, char **argv)
{
	env_pid = getpid();
	env_setup();
	atexit(env_cleanup);
	return test_harness_run(argc, argv);
}
