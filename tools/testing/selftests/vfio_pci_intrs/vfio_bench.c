// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, not a test: upstream vfio-pci against vfio-pci-intrs on twin
 * devices, in one process, in interleaved rounds (the driver that goes first
 * alternates every round), so that both see the same guest and the same
 * noise. Run by tools/vm/guest/bench.sh (`make bench`); see
 * Documentation/benchmarks.rst.
 *
 * Usage:
 *   vfio_bench edu  UPSTREAM_BDF OURS_BDF [-r ROUNDS] [-k ITERS] [-c CPU]
 *   vfio_bench igb  UPSTREAM_BDF OURS_BDF [-r ROUNDS] [-k ITERS] [-c CPU]
 *   vfio_bench msix UPSTREAM_BDF OURS_BDF [-r ROUNDS] [-n N] [-s SUFFIX]
 *   vfio_bench ims  PARENT_BDF [-m VECTORS]
 *
 * Each BDF must already be bound to its driver; the "driver" column of the
 * output is read from sysfs. Results are CSV rows on stdout, one per case,
 * size and driver:
 *
 *   case,n,unit,driver,device,samples,median,p99,min,mean
 *
 * (unit "us": microseconds per operation, "us/vector": microseconds per
 * vector, "B/vector": bytes per vector), and for each case of the twins a
 * row of driver "paired": the ratio ours/upstream of the samples taken in
 * the same round, pair by pair. Progress and diagnostics go to stderr.
 * Cases:
 *
 *   edu:  edu_get_info       VFIO_DEVICE_GET_INFO (vfio-pci-core for both)
 *         edu_msi_irq_info   VFIO_DEVICE_GET_IRQ_INFO(MSI)
 *         edu_msi_loopback   SET_IRQS(MSI, DATA_NONE|ACTION_TRIGGER) and the
 *                            eventfd read that sees it
 *         edu_msi_device     edu raises MSI (BAR0 0x60) until the eventfd
 *                            wakes a poll()er
 *   igb:  igb_msix_irq_info  VFIO_DEVICE_GET_IRQ_INFO(MSI-X)
 *         igb_msix_loopback  as edu_msi_loopback, MSI-X vector 0
 *         igb_msix_device    EICS bit 0 until the eventfd wakes a poll()er
 *   msix: msix_mem_first     kernel slab bytes per vector of the first
 *                            MSI-X enable of all N vectors on a fresh device
 *         msix_mem_disabled  slab bytes per vector still held after that
 *                            first disable (persistent vector contexts)
 *         msix_mem_again     slab bytes per vector of later enables
 *         msix_one_call      enable N vectors in one SET_IRQS call
 *         msix_disable       disable those N vectors (DATA_NONE, count 0)
 *         msix_qemu          QEMU's way: enable with vector 0's fd -1, then
 *                            one vector per call (dynamic MSI-X allocation)
 *         msix_qemu_per_vec  the same, per vector
 *         msix_qemu_enable   its first call alone (MSI-X on, vector 0 fd -1)
 *         msix_qemu_vec_call each of its N one-vector calls
 *   ims:  ims_alloc          enable one IMS-backed vector (QEMU's way), per
 *                            vector, first time (new vector context)
 *         ims_alloc_first    the same, the first 256 vectors (few live)
 *         ims_alloc_last     the same, the last 256 (M - 256 live)
 *         ims_realloc        the same, contexts already there
 *         ims_free           clear one vector's trigger (fd -1), per vector
 *         ims_mem_live       slab bytes per live IMS vector
 *         ims_mem_ctx        slab bytes per vector once every vector is
 *                            cleared (the persistent vector contexts)
 *
 * Latency cases pin the process and the devices' interrupts to one CPU, so
 * that both drivers get the same (local) wake-up path. Memory is measured
 * with every slab cache shrunk first (so that per-CPU slabs do not hide
 * objects), as the sum of active objects times object size in
 * /proc/slabinfo.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "edu.h"
#include "igb.h"
#include "vfio_util.h"

#define IRQ_WAIT_MS	2000
#define MAX_ERRORS	10
#define MAX_EFD		2048	/* eventfds per twin: the MSI-X maximum */

#define UPSTREAM	0
#define OURS		1

static int rounds = 30;
static int iters = 100;
static int bench_cpu = 1;
static unsigned int ims_m = 4096;
static unsigned int only_n;		/* msix: this size only, no memory */
static const char *suffix = "";		/* appended to case names */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vfio_bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Samples of one case, size and driver. */
struct samples {
	double *v;
	size_t n, cap;
};

static void add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (in percent) of sorted samples. */
static double pct(const struct samples *s, unsigned int p)
{
	size_t i = (p * s->n + 99) / 100;

	return s->v[i ? i - 1 : 0];
}

static double median(const struct samples *s)
{
	size_t n = s->n;

	return n % 2 ? s->v[n / 2] : (s->v[n / 2 - 1] + s->v[n / 2]) / 2;
}

/* Prints one CSV row and forgets the samples. */
static void report(const char *name, unsigned int n, const char *unit,
		   const char *driver, const char *device, struct samples *s)
{
	double sum = 0;
	size_t i;

	if (!s->n) {
		fprintf(stderr, "vfio_bench: %s n=%u %s: no samples\n", name, n,
			driver);
		return;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	printf("%s%s,%u,%s,%s,%s,%zu,%.2f,%.2f,%.2f,%.2f\n", name, suffix, n, unit,
	       driver, device, s->n, median(s), pct(s, 99), s->v[0], sum / s->n);
	fflush(stdout);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* The driver BDF is bound to, from sysfs ("none" if unbound). */
static void driver_of(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX], *name;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(buf, len, "none");
		return;
	}
	link[n] = '\0';
	name = strrchr(link, '/');
	snprintf(buf, len, "%.63s", name ? name + 1 : link);
}

static int write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "vfio_bench: cannot pin to CPU %d: %s\n", cpu,
			strerror(errno));
}

/*
 * Sends every VFIO interrupt of BDF ("vfio-msi...(BDF)" in
 * /proc/interrupts) to CPU cpu. Returns how many it moved.
 */
static int irqs_to_cpu(const char *bdf, int cpu)
{
	char line[1024], key[64], path[64], val[16];
	int moved = 0, irq;
	FILE *f;

	snprintf(key, sizeof(key), "(%s)", bdf);
	snprintf(val, sizeof(val), "%d", cpu);
	f = fopen("/proc/interrupts", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, key) || !strstr(line, "vfio-msi"))
			continue;
		if (sscanf(line, " %d:", &irq) != 1)
			continue;
		snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", irq);
		if (write_file(path, val))
			fprintf(stderr, "vfio_bench: %s: cannot move IRQ %d to CPU %d\n",
				bdf, irq, cpu);
		else
			moved++;
	}
	fclose(f);
	return moved;
}

/* Memory */

/* Shrinks every slab cache: per-CPU slabs go back to the node lists. */
static void shrink_slabs(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir("/sys/kernel/slab");
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", de->d_name);
		write_file(path, "1");
	}
	closedir(d);
}

/* Active objects of each slab cache. */
#define MAX_CACHES	512
struct slab_snap {
	int n;
	struct {
		char name[64];
		long long active, size;
	} c[MAX_CACHES];
};

/*
 * Bytes in active slab objects, from /proc/slabinfo, and the caches in
 * snap (if not NULL); -1 without /proc/slabinfo.
 *
 * Shrinking opens a sysfs file per cache, whose kernfs objects are freed
 * after an RCU grace period: shrink, let the previous round's objects go,
 * shrink again and read, so that every reading holds the same number of
 * them (those of the last shrink).
 */
static long long slab_bytes_now(struct slab_snap *snap)
{
	char line[512], name[64];
	long long total = 0, active, num, size;
	FILE *f;

	shrink_slabs();
	usleep(200 * 1000);
	shrink_slabs();
	f = fopen("/proc/slabinfo", "re");
	if (!f)
		return -1;
	if (snap)
		snap->n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %lld %lld %lld", name, &active, &num, &size) != 4)
			continue;
		total += active * size;
		if (snap && snap->n < MAX_CACHES) {
			snprintf(snap->c[snap->n].name, sizeof(snap->c[0].name), "%s", name);
			snap->c[snap->n].active = active;
			snap->c[snap->n].size = size;
			snap->n++;
		}
	}
	fclose(f);
	return total;
}

/*
 * Prints the caches whose use changed most from a to b, per vector of
 * nvec, to stderr ("vfio_bench: slab WHAT: ...").
 */
static void slab_diff(const char *what, const struct slab_snap *a,
		      const struct slab_snap *b, unsigned int nvec)
{
	long long best_bytes;
	bool shown[MAX_CACHES] = {};
	int i, j, k, best;

	for (k = 0; k < 12; k++) {
		best = -1;
		best_bytes = 0;
		for (i = 0; i < b->n; i++) {
			long long before = 0, bytes;

			for (j = 0; j < a->n; j++)
				if (!strcmp(a->c[j].name, b->c[i].name))
					before = a->c[j].active;
			bytes = (b->c[i].active - before) * b->c[i].size;
			if (!shown[i] && llabs(bytes) > llabs(best_bytes)) {
				best = i;
				best_bytes = bytes;
			}
		}
		if (best < 0 || llabs(best_bytes) < (long long)nvec * 8)
			break;
		shown[best] = true;
		fprintf(stderr, "vfio_bench: slab %s: %s %+.1f objects, %+.0f B per vector\n",
			what, b->c[best].name,
			(double)best_bytes / b->c[best].size / nvec,
			(double)best_bytes / nvec);
	}
}

/*
 * Slab bytes once they settle: some frees wait for an RCU grace period (a
 * freed interrupt descriptor does), so read until two readings agree within
 * 1 KiB (at most 20 readings).
 */
static long long slab_bytes(struct slab_snap *snap)
{
	long long prev = slab_bytes_now(snap), now;
	int i;

	for (i = 0; i < 20 && prev >= 0; i++) {
		now = slab_bytes_now(snap);
		if (llabs(now - prev) < 1024)
			return now;
		prev = now;
	}
	return prev;
}

/* Events */

static int eventfds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = vfio_eventfd();
		if (fds[i] < 0)
			return fds[i];
	}
	return 0;
}

/* Waits for an eventfd to fire; dies after too many misses. */
static bool wait_fire(int efd, const char *what)
{
	static int errors;
	uint64_t c;

	if (vfio_eventfd_wait(efd, IRQ_WAIT_MS, &c) == 1 && c >= 1)
		return true;
	fprintf(stderr, "vfio_bench: %s: no interrupt within %d ms\n", what,
		IRQ_WAIT_MS);
	if (++errors >= MAX_ERRORS)
		die("too many lost interrupts");
	return false;
}

/* A prepared SET_IRQS request with room for count eventfds. */
static struct vfio_irq_set *irq_set_new(uint32_t flags, uint32_t index,
					uint32_t start, uint32_t count,
					const int *fds)
{
	size_t size = sizeof(struct vfio_irq_set) +
		      (flags & VFIO_IRQ_SET_DATA_EVENTFD ? count * sizeof(int) : 0);
	struct vfio_irq_set *set = calloc(1, size);

	if (!set)
		die("out of memory");
	set->argsz = size;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (fds)
		memcpy(set->data, fds, count * sizeof(int));
	return set;
}

static void set_irqs(struct vfio_dev *dev, struct vfio_irq_set *set)
{
	if (ioctl(dev->device_fd, VFIO_DEVICE_SET_IRQS, set))
		die("%s: SET_IRQS(flags 0x%x, index %u, start %u, count %u): %s",
		    dev->bdf, set->flags, set->index, set->start, set->count,
		    strerror(errno));
}

/* The twins */

struct twin {
	struct vfio_dev dev;
	char driver[64];
	int efd[MAX_EFD];
	int nefd;
};

static struct twin twins[2];

static void twin_open(struct twin *t, const char *bdf, int nefd)
{
	int ret;

	driver_of(bdf, t->driver, sizeof(t->driver));
	ret = vfio_dev_open(&t->dev, bdf);
	if (!ret)
		ret = vfio_command_set(&t->dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (ret)
		die("%s: %s: %s", bdf, t->dev.err, strerror(-ret));
	if (nefd > MAX_EFD)
		die("too many eventfds");
	t->nefd = nefd;
	if (eventfds(t->efd, nefd))
		die("eventfd: %s", strerror(errno));
	fprintf(stderr, "vfio_bench: %s bound to %s\n", bdf, t->driver);
}

static void twin_close(struct twin *t)
{
	int i;

	vfio_dev_close(&t->dev);
	for (i = 0; i < t->nefd; i++)
		close(t->efd[i]);
}

/* Which driver goes first in round r: they alternate. */
static int order(int r, int i)
{
	return (r + i) % 2;
}

/*
 * Prints both drivers' rows, then a row of driver "paired" whose figures
 * are those of ours/upstream for each pair of samples taken in the same
 * round (both drivers take their samples in the same order): drift of the
 * host's load between rounds cancels in each pair.
 */
static void report_pair(const char *name, unsigned int n, const char *unit,
			struct samples s[2])
{
	struct samples ratio = {};
	size_t i;
	int d;

	for (i = 0; i < s[UPSTREAM].n && i < s[OURS].n; i++)
		if (s[UPSTREAM].v[i] > 0)
			add(&ratio, s[OURS].v[i] / s[UPSTREAM].v[i]);
	for (d = 0; d < 2; d++)
		report(name, n, unit, twins[d].driver, twins[d].dev.bdf, &s[d]);
	if (s[UPSTREAM].n == s[OURS].n)
		report(name, n, "ratio", "paired", "ours/upstream", &ratio);
	else
		free(ratio.v);
}

/* Loopback: SET_IRQS(DATA_NONE|ACTION_TRIGGER) on vector 0, read it back. */
static void loopback(const char *name, uint32_t index)
{
	struct vfio_irq_set *set[2];
	struct samples s[2] = {};
	int r, i, k, d;
	uint64_t c;

	for (d = 0; d < 2; d++)
		set[d] = irq_set_new(VFIO_IRQ_SET_DATA_NONE |
				     VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, 1, NULL);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < 2; i++) {
			struct twin *t = &twins[order(r, i)];

			d = order(r, i);

			for (k = 0; k < iters; k++) {
				double t0 = now_us();

				set_irqs(&t->dev, set[d]);
				if (vfio_eventfd_read(t->efd[0], &c) || c != 1)
					die("%s: %s: eventfd counted %llu", name,
					    t->dev.bdf, (unsigned long long)c);
				add(&s[d], now_us() - t0);
			}
		}
	}
	report_pair(name, 1, "us", s);
	free(set[0]);
	free(set[1]);
}

/*
 * Control cases for the loopback: VFIO_DEVICE_GET_INFO (vfio-pci-core's
 * code for both drivers, behind our dispatch) and VFIO_DEVICE_GET_IRQ_INFO
 * on index (our frontend and backend against upstream's).
 */
static void ioctl_only(const char *name, unsigned long req, uint32_t index)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = index };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct samples s[2] = {};
	void *arg = req == VFIO_DEVICE_GET_INFO ? (void *)&info : (void *)&irq;
	int r, i, k, d;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < 2; i++) {
			struct twin *t = &twins[order(r, i)];

			d = order(r, i);
			for (k = 0; k < iters; k++) {
				double t0 = now_us();

				if (ioctl(t->dev.device_fd, req, arg))
					die("%s: %s: %s", name, t->dev.bdf, strerror(errno));
				add(&s[d], now_us() - t0);
			}
		}
	}
	report_pair(name, 1, "us", s);
}

/* Device-raised: raise(t) makes the device send vector 0. */
static void device_raised(const char *name, int (*raise)(struct twin *),
			  int (*ack)(struct twin *))
{
	struct samples s[2] = {};
	int r, i, k, d, ret;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < 2; i++) {
			struct twin *t = &twins[order(r, i)];

			d = order(r, i);

			for (k = 0; k < iters; k++) {
				double t0 = now_us();

				ret = raise(t);
				if (ret)
					die("%s: %s: %s", t->dev.bdf, t->dev.err,
					    strerror(-ret));
				if (wait_fire(t->efd[0], name))
					add(&s[d], now_us() - t0);
				if (ack && ack(t))
					die("%s: ack: %s", t->dev.bdf, t->dev.err);
			}
		}
	}
	report_pair(name, 1, "us", s);
}

static int edu_raise(struct twin *t)
{
	return vfio_edu_raise(&t->dev, 1);
}

static int edu_ack(struct twin *t)
{
	return vfio_edu_ack(&t->dev);
}

static int igb_raise(struct twin *t)
{
	return vfio_bar_write32(&t->dev, IGB_BAR, IGB_EICS, 1);
}

static void bench_edu(void)
{
	uint32_t ident;
	int d, ret;

	for (d = 0; d < 2; d++) {
		struct twin *t = &twins[d];

		ret = vfio_bar_read32(&t->dev, EDU_BAR, EDU_IDENT, &ident);
		if (ret || ident != EDU_IDENT_VALUE)
			die("%s is not an edu", t->dev.bdf);
		vfio_edu_ack(&t->dev);
		ret = vfio_irq_set_eventfds(&t->dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
					    t->efd);
		if (ret)
			die("%s: %s: %s", t->dev.bdf, t->dev.err, strerror(-ret));
		irqs_to_cpu(t->dev.bdf, bench_cpu);
	}
	pin_cpu(bench_cpu);
	ioctl_only("edu_get_info", VFIO_DEVICE_GET_INFO, 0);
	ioctl_only("edu_msi_irq_info", VFIO_DEVICE_GET_IRQ_INFO, VFIO_PCI_MSI_IRQ_INDEX);
	loopback("edu_msi_loopback", VFIO_PCI_MSI_IRQ_INDEX);
	device_raised("edu_msi_device", edu_raise, edu_ack);
	for (d = 0; d < 2; d++) {
		vfio_irq_disable(&twins[d].dev, VFIO_PCI_MSI_IRQ_INDEX);
		vfio_edu_ack(&twins[d].dev);
	}
}

static void bench_igb(void)
{
	int d, ret;

	for (d = 0; d < 2; d++) {
		struct twin *t = &twins[d];

		/* QEMU's way in: MSI-X on with no live vector, then vector 0. */
		ret = vfio_irq_set_eventfds(&t->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
					    (int[]){ -1 });
		if (!ret)
			ret = vfio_irq_set_eventfds(&t->dev, VFIO_PCI_MSIX_IRQ_INDEX,
						    0, 1, t->efd);
		if (!ret)
			ret = vfio_bar_write32(&t->dev, IGB_BAR, IGB_GPIE,
					       IGB_GPIE_MULTIPLE_MSIX);
		if (!ret)
			ret = vfio_bar_write32(&t->dev, IGB_BAR, IGB_EIAC, 1);
		if (!ret)
			ret = vfio_bar_write32(&t->dev, IGB_BAR, IGB_EIMS, 1);
		if (ret)
			die("%s: %s: %s", t->dev.bdf, t->dev.err, strerror(-ret));
		irqs_to_cpu(t->dev.bdf, bench_cpu);
	}
	pin_cpu(bench_cpu);
	ioctl_only("igb_msix_irq_info", VFIO_DEVICE_GET_IRQ_INFO, VFIO_PCI_MSIX_IRQ_INDEX);
	loopback("igb_msix_loopback", VFIO_PCI_MSIX_IRQ_INDEX);
	device_raised("igb_msix_device", igb_raise, NULL);
	for (d = 0; d < 2; d++) {
		vfio_bar_write32(&twins[d].dev, IGB_BAR, IGB_EIMC, ~0u);
		vfio_irq_disable(&twins[d].dev, VFIO_PCI_MSIX_IRQ_INDEX);
	}
}

/* MSI-X enable on the many-vector twins */

static void msix_disable(struct twin *t)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
	};

	set_irqs(&t->dev, &set);
}

/* Slab bytes per vector of the first enable of all n vectors, and after. */
static void msix_memory(unsigned int n)
{
	struct samples first[2] = {}, disabled[2] = {}, again[2] = {};
	static struct slab_snap snap[3];
	struct vfio_irq_set *set[2];
	int r, i, d;

	if (slab_bytes(NULL) < 0) {
		fprintf(stderr, "vfio_bench: no /proc/slabinfo: no memory figures\n");
		return;
	}
	for (d = 0; d < 2; d++)
		set[d] = irq_set_new(VFIO_IRQ_SET_DATA_EVENTFD |
				     VFIO_IRQ_SET_ACTION_TRIGGER,
				     VFIO_PCI_MSIX_IRQ_INDEX, 0, n, twins[d].efd);
	for (r = 0; r < 1 + rounds / 2; r++) {
		for (i = 0; i < 2; i++) {
			struct twin *t = &twins[order(r, i)];
			long long m0, m1, m2;

			d = order(r, i);

			m0 = slab_bytes(&snap[0]);
			set_irqs(&t->dev, set[d]);
			m1 = slab_bytes(&snap[1]);
			msix_disable(t);
			m2 = slab_bytes(&snap[2]);
			if (r == 0) {
				char what[64];

				snprintf(what, sizeof(what), "%s MSI-X live", t->driver);
				slab_diff(what, &snap[0], &snap[1], n);
				snprintf(what, sizeof(what), "%s MSI-X disabled", t->driver);
				slab_diff(what, &snap[0], &snap[2], n);
				add(&first[d], (double)(m1 - m0) / n);
				add(&disabled[d], (double)(m2 - m0) / n);
			} else {
				add(&again[d], (double)(m1 - m0) / n);
			}
		}
	}
	report_pair("msix_mem_first", n, "B/vector", first);
	report_pair("msix_mem_disabled", n, "B/vector", disabled);
	report_pair("msix_mem_again", n, "B/vector", again);
	free(set[0]);
	free(set[1]);
}

static void msix_sizes(unsigned int n)
{
	struct samples one[2] = {}, dis[2] = {}, qemu[2] = {}, per[2] = {};
	struct samples qen[2] = {}, qvec[2] = {};
	struct vfio_irq_set *set[2], *none[2], *vec[2][MAX_EFD];
	int reps = n >= 8 ? 1 : 8 / n;
	unsigned int v;
	int r, i, k, d;

	for (d = 0; d < 2; d++) {
		set[d] = irq_set_new(VFIO_IRQ_SET_DATA_EVENTFD |
				     VFIO_IRQ_SET_ACTION_TRIGGER,
				     VFIO_PCI_MSIX_IRQ_INDEX, 0, n, twins[d].efd);
		none[d] = irq_set_new(VFIO_IRQ_SET_DATA_EVENTFD |
				      VFIO_IRQ_SET_ACTION_TRIGGER,
				      VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, (int[]){ -1 });
		for (v = 0; v < n; v++)
			vec[d][v] = irq_set_new(VFIO_IRQ_SET_DATA_EVENTFD |
						VFIO_IRQ_SET_ACTION_TRIGGER,
						VFIO_PCI_MSIX_IRQ_INDEX, v, 1,
						&twins[d].efd[v]);
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < 2; i++) {
			struct twin *t = &twins[order(r, i)];

			d = order(r, i);

			for (k = 0; k < reps; k++) {
				double t0 = now_us(), t1;

				set_irqs(&t->dev, set[d]);
				t1 = now_us();
				add(&one[d], t1 - t0);
				msix_disable(t);
				add(&dis[d], now_us() - t1);

				t0 = now_us();
				set_irqs(&t->dev, none[d]);
				t1 = now_us();
				add(&qen[d], t1 - t0);
				for (v = 0; v < n; v++) {
					double tv = now_us();

					set_irqs(&t->dev, vec[d][v]);
					add(&qvec[d], now_us() - tv);
				}
				t1 = now_us();
				add(&qemu[d], t1 - t0);
				add(&per[d], (t1 - t0) / n);
				msix_disable(t);
			}
		}
	}
	report_pair("msix_one_call", n, "us", one);
	report_pair("msix_disable", n, "us", dis);
	report_pair("msix_qemu", n, "us", qemu);
	report_pair("msix_qemu_per_vec", n, "us/vector", per);
	report_pair("msix_qemu_enable", n, "us", qen);
	report_pair("msix_qemu_vec_call", n, "us", qvec);
	for (d = 0; d < 2; d++) {
		free(set[d]);
		free(none[d]);
		for (v = 0; v < n; v++)
			free(vec[d][v]);
	}
}

static void bench_msix(void)
{
	struct vfio_irq_info info[2];
	unsigned int n, table;
	int d, ret;

	for (d = 0; d < 2; d++) {
		ret = vfio_irq_info(&twins[d].dev, VFIO_PCI_MSIX_IRQ_INDEX, &info[d]);
		if (ret)
			die("%s: %s", twins[d].dev.bdf, twins[d].dev.err);
	}
	if (info[0].count != info[1].count || !info[0].count)
		die("the twins have %u and %u MSI-X vectors", info[0].count,
		    info[1].count);
	table = info[0].count;
	fprintf(stderr, "vfio_bench: MSI-X table of %u vectors; flags 0x%x and 0x%x\n",
		table, info[0].flags, info[1].flags);
	if (table > (unsigned int)twins[0].nefd)
		die("%u vectors: more than the %d eventfds", table, twins[0].nefd);
	if (only_n) {
		msix_sizes(only_n < table ? only_n : table);
		return;
	}
	/* First, on devices that never had a vector: memory. */
	msix_memory(table);
	for (n = 1; n < table; n *= 2)
		msix_sizes(n);
	msix_sizes(table);
}

/* IMS through vpi-vidxd */

#define VIDXD_DRIVER	"vpi-vidxd"
#define IMS_EDGE	256	/* ims_alloc_first, ims_alloc_last: vectors */
#define VIDXD_TYPES	"/sys/class/mdev_bus/%s/mdev_supported_types/vpi-vidxd-vdev"

struct vdev {
	char uuid[40];
	struct vfio_dev dev;
	unsigned int nvec;	/* IMS vectors used: 1..nvec */
};

static int mdev_create(const char *parent, char *uuid, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	f = fopen("/proc/sys/kernel/random/uuid", "re");
	if (!f || !fgets(uuid, len, f))
		die("no uuid");
	fclose(f);
	uuid[strcspn(uuid, "\n")] = '\0';
	snprintf(path, sizeof(path), VIDXD_TYPES "/create", parent);
	return write_file(path, uuid);
}

static int mdev_remove(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	return write_file(path, "1");
}

/* Enables (fds) or clears (fds NULL) IMS vectors 1..nvec of each device. */
static void ims_pass(struct vdev *vd, int ndev, const int *fds,
		     struct samples *s)
{
	struct vfio_irq_set *set;
	int i, fd = -1;
	unsigned int v, k = 0;

	set = irq_set_new(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			  VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &fd);
	for (i = 0; i < ndev; i++) {
		for (v = 1; v <= vd[i].nvec; v++, k++) {
			double t0;

			set->start = v;
			memcpy(set->data, fds ? &fds[k] : &fd, sizeof(int));
			t0 = now_us();
			if (ioctl(vd[i].dev.device_fd, VFIO_DEVICE_SET_IRQS, set))
				die("%s vector %u (IMS vector %u of %u): %s",
				    vd[i].uuid, v, k + 1, ims_m, strerror(errno));
			add(s, now_us() - t0);
		}
	}
	free(set);
}

static void bench_ims(const char *parent)
{
	struct samples alloc = {}, realloc_ = {}, freed = {}, live = {}, ctx = {};
	struct samples first = {}, last = {};
	static struct slab_snap snap[3];
	unsigned int per_dev, left, avail;
	struct vfio_irq_info info;
	long long m0, m1, m2;
	char path[PATH_MAX], buf[32], driver[64];
	struct vdev *vd;
	int ndev, i, ret, *fds;
	FILE *f;

	driver_of(parent, driver, sizeof(driver));
	if (strcmp(driver, VIDXD_DRIVER))
		die("%s is bound to %s, not " VIDXD_DRIVER, parent, driver);
	snprintf(path, sizeof(path), VIDXD_TYPES "/available_instances", parent);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		die("%s: %s", path, strerror(errno));
	fclose(f);
	avail = strtoul(buf, NULL, 10);

	/* The first device tells how many vectors each has. */
	vd = calloc(avail ? avail : 1, sizeof(*vd));
	fds = calloc(ims_m, sizeof(*fds));
	if (!vd || !fds)
		die("out of memory");
	if (eventfds(fds, ims_m))
		die("eventfd: %s (RLIMIT_NOFILE?)", strerror(errno));
	ndev = 0;
	per_dev = 0;
	for (left = ims_m; left; ndev++) {
		struct vdev *d = &vd[ndev];

		if ((unsigned int)ndev >= avail)
			die("%u IMS vectors need more than the %u devices " VIDXD_DRIVER
			    " allows (max_vdevs, vectors module parameters)", ims_m, avail);
		ret = mdev_create(parent, d->uuid, sizeof(d->uuid));
		if (ret)
			die("creating a virtual device: %s", strerror(-ret));
		ret = vfio_dev_open(&d->dev, d->uuid);
		if (ret)
			die("%s: %s: %s", d->uuid, d->dev.err, strerror(-ret));
		if (!per_dev) {
			ret = vfio_irq_info(&d->dev, VFIO_PCI_MSIX_IRQ_INDEX, &info);
			if (ret || info.count < 2)
				die("%s: no IMS vectors", d->uuid);
			/* Vector 0 is emulated. */
			per_dev = info.count - 1;
		}
		d->nvec = left < per_dev ? left : per_dev;
		left -= d->nvec;
		/* QEMU's way in: MSI-X "enabled" with vector 0's fd -1. */
		ret = vfio_irq_set_eventfds(&d->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
					    (int[]){ -1 });
		if (ret)
			die("%s: %s: %s", d->uuid, d->dev.err, strerror(-ret));
	}
	fprintf(stderr, "vfio_bench: %u IMS vectors over %d virtual devices of %s (%u each)\n",
		ims_m, ndev, parent, per_dev);

	m0 = slab_bytes(&snap[0]);
	ims_pass(vd, ndev, fds, &alloc);
	/* Does enabling get slower with more vectors live? */
	for (i = 0; i < IMS_EDGE && (unsigned int)i < alloc.n; i++) {
		add(&first, alloc.v[i]);
		add(&last, alloc.v[alloc.n - 1 - i]);
	}
	m1 = slab_bytes(&snap[1]);
	ims_pass(vd, ndev, NULL, &freed);
	m2 = slab_bytes(&snap[2]);
	slab_diff("IMS live", &snap[0], &snap[1], ims_m);
	slab_diff("IMS cleared", &snap[0], &snap[2], ims_m);
	fprintf(stderr, "vfio_bench: slab bytes %lld, %lld with %u IMS vectors live, %lld after\n",
		m0, m1, ims_m, m2);
	if (m0 >= 0) {
		add(&live, (double)(m1 - m0) / ims_m);
		add(&ctx, (double)(m2 - m0) / ims_m);
	}
	/* Again, with the contexts there. */
	ims_pass(vd, ndev, fds, &realloc_);
	ims_pass(vd, ndev, NULL, &freed);
	report("ims_alloc", ims_m, "us/vector", "vfio-pci-intrs", parent, &alloc);
	report("ims_alloc_first", IMS_EDGE, "us/vector", "vfio-pci-intrs", parent, &first);
	report("ims_alloc_last", IMS_EDGE, "us/vector", "vfio-pci-intrs", parent, &last);
	report("ims_realloc", ims_m, "us/vector", "vfio-pci-intrs", parent, &realloc_);
	report("ims_free", ims_m, "us/vector", "vfio-pci-intrs", parent, &freed);
	report("ims_mem_live", ims_m, "B/vector", "vfio-pci-intrs", parent, &live);
	report("ims_mem_ctx", ims_m, "B/vector", "vfio-pci-intrs", parent, &ctx);

	for (i = 0; i < ndev; i++) {
		vfio_dev_close(&vd[i].dev);
		ret = mdev_remove(vd[i].uuid);
		if (ret)
			fprintf(stderr, "vfio_bench: removing %s: %s\n", vd[i].uuid,
				strerror(-ret));
	}
	for (left = 0; left < ims_m; left++)
		close(fds[left]);
	free(fds);
	free(vd);
}

static void bad_usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s edu|igb|msix UPSTREAM_BDF OURS_BDF [-r ROUNDS] [-k ITERS] [-c CPU]\n"
		"       (msix: [-n N: only N vectors, no memory] [-s SUFFIX of case names])\n"
		"       %s ims PARENT_BDF [-m VECTORS]\n",
		argv0, argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	struct rlimit rl = { .rlim_cur = 65536, .rlim_max = 65536 };
	const char *what;
	int opt, nargs;

	if (argc < 3)
		bad_usage(argv[0]);
	what = argv[1];
	nargs = strcmp(what, "ims") ? 2 : 1;
	if (argc < 2 + nargs)
		bad_usage(argv[0]);
	optind = 2 + nargs;
	while ((opt = getopt(argc, argv, "r:k:c:m:n:s:")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'k':
			iters = atoi(optarg);
			break;
		case 'c':
			bench_cpu = atoi(optarg);
			break;
		case 'm':
			ims_m = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			only_n = strtoul(optarg, NULL, 0);
			break;
		case 's':
			suffix = optarg;
			break;
		default:
			bad_usage(argv[0]);
		}
	}
	if (rounds < 1 || iters < 1 || !ims_m)
		bad_usage(argv[0]);
	/* Thousands of eventfds for IMS. */
	if (setrlimit(RLIMIT_NOFILE, &rl))
		fprintf(stderr, "vfio_bench: setrlimit: %s\n", strerror(errno));

	if (!strcmp(what, "ims")) {
		bench_ims(argv[2]);
		return 0;
	}
	twin_open(&twins[UPSTREAM], argv[2], !strcmp(what, "msix") ? MAX_EFD : 1);
	twin_open(&twins[OURS], argv[3], !strcmp(what, "msix") ? MAX_EFD : 1);
	if (!strcmp(what, "edu"))
		bench_edu();
	else if (!strcmp(what, "igb"))
		bench_igb();
	else if (!strcmp(what, "msix"))
		bench_msix();
	else
		bad_usage(argv[0]);
	twin_close(&twins[UPSTREAM]);
	twin_close(&twins[OURS]);
	return 0;
}
