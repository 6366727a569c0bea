// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency of the interrupt paths of one VFIO PCI device: several
 * threads enable, disable, replace and trigger vectors while the device
 * raises interrupts and another thread closes and reopens the device. Run
 * once per driver on its twin (vfio-pci is the oracle: both must pass), on
 * igb (MSI-X, 10 vectors) and on edu (MSI and INTx, one vector).
 *
 * - exact: every change of a vector's trigger, every raise and every
 *   loopback trigger of a vector holds that vector's lock (a userspace
 *   mutex); enabling or disabling the interrupt type, closing and reopening
 *   the device hold all of them (a rwlock, taken for writing). So it is
 *   known which eventfd is the vector's trigger at each raise, and a raise
 *   waits for its interrupt before the lock is dropped: every interrupt
 *   raised while its vector had a trigger must be counted exactly once on
 *   that trigger, and nothing else may be counted anywhere (checked at each
 *   raise and loopback, and by a final read of every eventfd). Each vector
 *   has its own eventfds. Threads: two workers (set, replace, clear,
 *   recycle unused eventfds, raise, loopback; for igb blocks of vectors in
 *   one call; for edu's INTx also the INTx-disable bit and unmask by
 *   ioctl or by the unmask eventfd), a raiser, a thread switching the
 *   interrupt type on and off (edu: MSI, INTx), a thread closing and
 *   reopening the device, a thread of harmless calls (GET_IRQ_INFO,
 *   malformed SET_IRQS, config reads).
 * - chaos: the same without any userspace lock: random SET_IRQS on shared
 *   eventfds that other threads close and replace, the device raising all
 *   the time, the device closed and reopened under the other threads' feet.
 *   Calls may fail only with the errnos such races explain; afterwards the
 *   device must work as new (every vector once on its eventfd).
 *
 * Both end with a "# summary:" line (vfio_stress.h); any kernel splat in
 * the log fails them. Run length: VPI_CONC_SECONDS per test (default 5
 * for exact, 3 for chaos), or VPI_STRESS_SECONDS / 2 with VPI_STRESS=1. The random choices come
 * from VPI_SEED (printed) but thread timing does not replay.
 *
 * Usage: vfio_concurrency_test [BDF] [harness options]; the BDF may also
 * come from $VPI_BDF: an edu or an igb bound to the VFIO driver under test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "edu.h"
#include "igb.h"
#include "vfio_stress.h"
#include "vfio_util.h"
#include "vfio_test.h"

#define INTX		VFIO_PCI_INTX_IRQ_INDEX
#define MSI		VFIO_PCI_MSI_IRQ_INDEX
#define MSIX		VFIO_PCI_MSIX_IRQ_INDEX
#define NONE		(-1)

#define MAXVEC		IGB_MSIX_VECTORS
#define NEFD		3	/* eventfds per vector (exact) */
#define POOL		16	/* shared eventfds (chaos) */
#define WAIT_MS		3000	/* a raised interrupt must arrive within this */
#define MAX_ERRORS	20

static const char *conc_bdf;

struct vec {
	pthread_mutex_t lock;
	int cur;		/* index of the trigger in efd[], -1: none */
	int efd[NEFD];
};

struct conc {
	bool igb;
	int nvec;
	char driver[64];
	struct vfio_dev dev;
	/* exact: read for any use of the device, write to change type or fd */
	pthread_rwlock_t devlock;
	int type;		/* NONE, INTX, MSI, MSIX */
	int unmask_efd;		/* edu INTx: an unmask eventfd, -1 without */
	bool unmask_on;		/* ...registered (device lock) */
	bool disintx;		/* edu: the user's INTx-disable bit (vector 0 lock) */
	struct vec v[MAXVEC];
	/* chaos */
	atomic_int fd;		/* the device fd, -1 while reopening */
	atomic_int pool[POOL];
	atomic_int stop;
	unsigned long long seed;
	double deadline;
	/* counts */
	atomic_ulong ops, bad, raised, counted, reopens, type_changes, errors;
	atomic_ulong errnos[160];
	pthread_mutex_t msg_lock;
};

FIXTURE(conc) {
	struct conc *c;
	int kmsg;
	double t0;
};

/* Records a failed check (printed; the test fails at its end). */
static void __printf(2, 3) fail(struct conc *c, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&c->errors, 1) >= MAX_ERRORS)
		return;
	pthread_mutex_lock(&c->msg_lock);
	printf("# FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	pthread_mutex_unlock(&c->msg_lock);
}

static unsigned int rnd(unsigned int *seed, unsigned int n)
{
	return n ? rand_r(seed) % n : 0;
}

/* SET_IRQS of one vector's eventfd (-1: none) on fd; 0 or -errno. */
static int set_fd(int fd, uint32_t index, uint32_t start, uint32_t count, const int *fds)
{
	char buf[sizeof(struct vfio_irq_set) + 4 * MAXVEC];
	struct vfio_irq_set *set = (void *)buf;

	set->argsz = sizeof(*set) + 4 * count;
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = start;
	set->count = count;
	memcpy(set->data, fds, 4 * count);
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

static int set_none(int fd, uint32_t index, uint32_t action, uint32_t start, uint32_t count)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | action,
		.index = index,
		.start = start,
		.count = count,
	};

	return ioctl(fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

/* BAR0 by pwrite/pread on fd (no mapping: the device is reopened). */
static int bar_write(struct conc *c, int fd, uint32_t off, uint32_t val)
{
	ssize_t n = pwrite(fd, &val, 4, c->dev.bar[0].offset + off);

	return n == 4 ? 0 : n < 0 ? -errno : -EIO;
}

static int bar_read(struct conc *c, int fd, uint32_t off, uint32_t *val)
{
	ssize_t n = pread(fd, val, 4, c->dev.bar[0].offset + off);

	return n == 4 ? 0 : n < 0 ? -errno : -EIO;
}

/* Memory and bus master on; igb sends MSI-X vector n for EICS bit n. */
static int device_ready(struct conc *c, int fd)
{
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	int ret, v;

	if (pwrite(fd, &cmd, 2, c->dev.config.offset + PCI_COMMAND) != 2)
		return -errno;
	if (!c->igb)
		return 0;
	ret = bar_write(c, fd, IGB_GPIE, IGB_GPIE_MULTIPLE_MSIX);
	for (v = 0; !ret && v < IGB_MSIX_VECTORS; v++)
		ret = bar_write(c, fd, IGB_EITR(v), 0);
	if (!ret)
		ret = bar_write(c, fd, IGB_EIAC, IGB_MSIX_ALL);
	if (!ret)
		ret = bar_write(c, fd, IGB_EIMS, IGB_MSIX_ALL);
	return ret;
}

static int raise_vec(struct conc *c, int fd, int v)
{
	if (c->igb)
		return bar_write(c, fd, IGB_EICS, 1u << v);
	return bar_write(c, fd, EDU_IRQ_RAISE, 1);
}

/* Lowers edu's interrupt (no-op on igb: EIAC clears the cause). */
static int ack(struct conc *c, int fd)
{
	uint32_t status;
	int ret;

	if (c->igb)
		return 0;
	ret = bar_read(c, fd, EDU_IRQ_STATUS, &status);
	if (!ret && status)
		ret = bar_write(c, fd, EDU_IRQ_ACK, status);
	return ret;
}

static void count_errno(struct conc *c, int ret)
{
	if (ret < 0 && -ret < (int)ARRAY_SIZE(c->errnos))
		atomic_fetch_add(&c->errnos[-ret], 1);
}

static void print_errnos(struct conc *c)
{
	char s[512];
	size_t o = 0;
	unsigned int i;

	s[0] = '\0';
	for (i = 1; i < ARRAY_SIZE(c->errnos); i++)
		if (c->errnos[i] && o < sizeof(s))
			o += snprintf(s + o, sizeof(s) - o, " %s:%lu", strerrorname_np(i) ?: "?",
				      c->errnos[i]);
	printf("# errnos returned:%s\n", o ? s : " none");
}

/* Fails unless ret is 0 (an operation that must succeed in exact). */
static bool must(struct conc *c, int ret, const char *what, int v)
{
	atomic_fetch_add(&c->ops, 1);
	if (!ret)
		return true;
	count_errno(c, ret);
	fail(c, "%s (vector %d): %s", what, v, strerror(-ret));
	return false;
}

/* exact: the index of the interrupt type's vectors. */
static const char *type_name(int type)
{
	switch (type) {
	case INTX:
		return "INTx";
	case MSI:
		return "MSI";
	case MSIX:
		return "MSI-X";
	}
	return "none";
}

/*
 * exact, with vector v's lock held and the device lock read: raises v and
 * waits for its interrupt on the current trigger: exactly one count.
 */
static void exact_raise(struct conc *c, int v)
{
	struct vec *vec = &c->v[v];
	int fd = c->dev.device_fd;
	uint64_t cnt;
	int ret;

	if (vec->cur < 0 || (c->type == INTX && c->disintx))
		return;
	if (!must(c, raise_vec(c, fd, v), "raise", v))
		return;
	atomic_fetch_add(&c->raised, 1);
	ret = vfio_eventfd_wait(vec->efd[vec->cur], WAIT_MS, &cnt);
	atomic_fetch_add(&c->counted, cnt);
	if (ret != 1)
		fail(c, "%s vector %d raised: no interrupt on its trigger (e%d) within %d ms",
		     type_name(c->type), v, vec->cur, WAIT_MS);
	else if (cnt != 1)
		fail(c, "%s vector %d raised once, counted %llu times on its trigger (e%d)",
		     type_name(c->type), v, (unsigned long long)cnt, vec->cur);
	if (c->igb)
		return;
	must(c, ack(c, fd), "edu ack", v);
	if (c->type != INTX)
		return;
	/* Automasked: unmask by ioctl or by the unmask eventfd (KVM's way). */
	if (c->unmask_on && (rand() & 1))
		must(c, vfio_eventfd_signal(c->unmask_efd), "unmask eventfd", v);
	else
		must(c, set_none(fd, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1), "unmask", v);
}

/* exact: a loopback trigger of v signals its trigger at once, once. */
static void exact_loopback(struct conc *c, int v)
{
	struct vec *vec = &c->v[v];
	/* The INTx-disable bit holds INTx loopbacks too (as upstream does). */
	int cur = c->type == INTX && c->disintx ? -1 : vec->cur;
	uint64_t cnt, want;
	int i;

	if (vec->cur == -2 ||
	    !must(c, set_none(c->dev.device_fd, c->type, VFIO_IRQ_SET_ACTION_TRIGGER, v, 1),
		  "loopback", v))
		return;
	if (cur >= 0)
		atomic_fetch_add(&c->raised, 1);
	for (i = 0; i < NEFD; i++) {
		vfio_eventfd_read(vec->efd[i], &cnt);
		atomic_fetch_add(&c->counted, cnt);
		want = i == cur;
		if (cnt != want)
			fail(c, "%s vector %d loopback: e%d counted %llu (trigger e%d)",
			     type_name(c->type), v, i, (unsigned long long)cnt, vec->cur);
	}
}

/* exact: sets vector v's trigger to its eventfd k (-1: none). */
static void exact_set(struct conc *c, int v, int k)
{
	struct vec *vec = &c->v[v];
	int fd = k < 0 ? -1 : vec->efd[k];
	int ret;

	if (c->type == INTX)
		ret = set_fd(c->dev.device_fd, INTX, 0, 1, &fd);
	else
		ret = set_fd(c->dev.device_fd, c->type, v, 1, &fd);
	if (must(c, ret, k < 0 ? "clear trigger" : "set trigger", v))
		vec->cur = k;
	else
		vec->cur = -2;	/* unknown: no more raises until reset */
}

/* exact, igb: vectors a..b in one call, with the locks of a..b held. */
static void exact_block(struct conc *c, unsigned int *seed, int a, int b)
{
	int fds[MAXVEC], ks[MAXVEC], v, ret;

	for (v = a; v <= b; v++) {
		ks[v] = (int)rnd(seed, NEFD + 1) - 1;
		fds[v - a] = ks[v] < 0 ? -1 : c->v[v].efd[ks[v]];
	}
	ret = set_fd(c->dev.device_fd, MSIX, a, b - a + 1, fds);
	for (v = a; v <= b; v++)
		c->v[v].cur = ret ? -2 : ks[v];
	must(c, ret, "set block", a);
}

/* exact: replaces eventfd k of v, which must not be its trigger. */
static void exact_recycle(struct conc *c, int v, int k)
{
	struct vec *vec = &c->v[v];
	uint64_t cnt;

	if (k == vec->cur)
		return;
	vfio_eventfd_read(vec->efd[k], &cnt);
	if (cnt)
		fail(c, "vector %d: e%d, not its trigger, counted %llu", v, k,
		     (unsigned long long)cnt);
	close(vec->efd[k]);
	vec->efd[k] = vfio_eventfd();
	if (vec->efd[k] < 0)
		fail(c, "eventfd: %s", strerror(-vec->efd[k]));
}

static void lock_range(struct conc *c, int a, int b)
{
	int v;

	for (v = a; v <= b; v++)
		pthread_mutex_lock(&c->v[v].lock);
}

static void unlock_range(struct conc *c, int a, int b)
{
	int v;

	for (v = b; v >= a; v--)
		pthread_mutex_unlock(&c->v[v].lock);
}

static bool running(struct conc *c)
{
	return !atomic_load(&c->stop) && !(c->errors >= MAX_ERRORS) &&
	       stress_now() < c->deadline;
}

/* exact: a worker; arg is the conc, its seed from the thread's number. */
struct thread_arg {
	struct conc *c;
	unsigned int seed;
	int role;
};

static void *exact_worker(void *p)
{
	struct thread_arg *ta = p;
	struct conc *c = ta->c;
	unsigned int seed = ta->seed;

	while (running(c)) {
		unsigned int op = rnd(&seed, 100);
		int v = rnd(&seed, c->nvec), b;

		pthread_rwlock_rdlock(&c->devlock);
		if (c->type == NONE) {
			pthread_rwlock_unlock(&c->devlock);
			usleep(2000);
			continue;
		}
		if (c->igb && op >= 92) {
			b = v + rnd(&seed, c->nvec - v);
			lock_range(c, v, b);
			exact_block(c, &seed, v, b);
			unlock_range(c, v, b);
			pthread_rwlock_unlock(&c->devlock);
			continue;
		}
		pthread_mutex_lock(&c->v[v].lock);
		if (op < 30) {
			exact_set(c, v, rnd(&seed, NEFD));
		} else if (op < 40) {
			exact_set(c, v, -1);
		} else if (op < 65) {
			exact_raise(c, v);
		} else if (op < 85) {
			exact_loopback(c, v);
		} else if (op < 92) {
			exact_recycle(c, v, rnd(&seed, NEFD));
		} else if (!c->igb && c->type == INTX) {
			/* The INTx-disable bit: while set, no raise. */
			c->disintx = !c->disintx;
			must(c, vfio_command_intx_disable(&c->dev, PCI_COMMAND, 2, c->disintx),
			     "INTx-disable bit", v);
		}
		pthread_mutex_unlock(&c->v[v].lock);
		pthread_rwlock_unlock(&c->devlock);
	}
	return NULL;
}

/* exact: only raises. */
static void *exact_raiser(void *p)
{
	struct thread_arg *ta = p;
	struct conc *c = ta->c;
	unsigned int seed = ta->seed;

	while (running(c)) {
		int v = rnd(&seed, c->nvec);

		pthread_rwlock_rdlock(&c->devlock);
		if (c->type != NONE) {
			pthread_mutex_lock(&c->v[v].lock);
			exact_raise(c, v);
			pthread_mutex_unlock(&c->v[v].lock);
		}
		pthread_rwlock_unlock(&c->devlock);
		if (c->type == NONE)
			usleep(2000);
	}
	return NULL;
}

/* exact, device lock held for writing: every trigger gone. */
static void exact_all_cleared(struct conc *c)
{
	int v;

	for (v = 0; v < c->nvec; v++)
		c->v[v].cur = -1;
}

/* exact, device lock held for writing: enables type with triggers. */
static void exact_enable(struct conc *c, unsigned int *seed, int type)
{
	int fds[MAXVEC], ks[MAXVEC], v, n = type == MSIX ? c->nvec : 1, ret;

	/* QEMU's ways: some vectors only, maybe none (-1), in one call. */
	n = type == MSIX ? 1 + rnd(seed, n) : 1;
	for (v = 0; v < n; v++) {
		ks[v] = (int)rnd(seed, NEFD + 1) - 1;
		fds[v] = ks[v] < 0 ? -1 : c->v[v].efd[ks[v]];
	}
	ret = set_fd(c->dev.device_fd, type, 0, n, fds);
	if (!must(c, ret, "enable", -1))
		return;
	c->type = type;
	for (v = 0; v < n; v++)
		c->v[v].cur = ks[v];
	if (type == INTX && c->unmask_efd >= 0 && rnd(seed, 2)) {
		int ufd = c->unmask_efd;

		ret = vfio_irq_set_eventfds_action(&c->dev, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
						   &ufd);
		c->unmask_on = must(c, ret, "unmask eventfd", 0);
	}
}

static void exact_disable(struct conc *c)
{
	if (c->type == NONE)
		return;
	must(c, set_none(c->dev.device_fd, c->type, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0),
	     "disable", -1);
	c->type = NONE;
	c->unmask_on = false;
	exact_all_cleared(c);
}

/* exact: switches the interrupt type on and off. */
static void *exact_typer(void *p)
{
	struct thread_arg *ta = p;
	struct conc *c = ta->c;
	unsigned int seed = ta->seed;

	while (running(c)) {
		usleep(100000 + rnd(&seed, 300000));
		pthread_rwlock_wrlock(&c->devlock);
		if (c->type != NONE && rnd(&seed, 3))
			exact_disable(c);
		else if (c->type == NONE)
			exact_enable(c, &seed, c->igb ? MSIX : rnd(&seed, 2) ? MSI : INTX);
		atomic_fetch_add(&c->type_changes, 1);
		pthread_rwlock_unlock(&c->devlock);
	}
	return NULL;
}

/* Closes the device fd and opens it again: nothing enabled after. */
static int reopen_fd(struct conc *c, int old)
{
	int fd;

	if (old >= 0)
		close(old);
	fd = ioctl(c->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, c->dev.bdf);
	if (fd < 0)
		return -errno;
	return fd;
}

static void *exact_reopener(void *p)
{
	struct thread_arg *ta = p;
	struct conc *c = ta->c;
	unsigned int seed = ta->seed;
	int fd;

	while (running(c)) {
		usleep(1000000 + rnd(&seed, 2000000));
		if (!running(c))
			break;
		pthread_rwlock_wrlock(&c->devlock);
		fd = reopen_fd(c, c->dev.device_fd);
		c->dev.device_fd = fd;
		if (must(c, fd < 0 ? fd : 0, "reopen", -1))
			must(c, device_ready(c, fd), "device setup after reopen", -1);
		c->type = NONE;
		c->unmask_on = false;
		c->disintx = false;
		exact_all_cleared(c);
		atomic_fetch_add(&c->reopens, 1);
		pthread_rwlock_unlock(&c->devlock);
	}
	return NULL;
}

/* Calls that change nothing: GET_IRQ_INFO, refused SET_IRQS, config reads. */
static void harmless(struct conc *c, int fd, unsigned int *seed)
{
	struct vfio_irq_info info = { .argsz = sizeof(info) };
	uint32_t idx = rnd(seed, VFIO_PCI_NUM_IRQS);
	uint8_t zero = 0;
	uint16_t cmd;
	int ret;

	info.index = idx;
	ret = ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &info) ? -errno : 0;
	count_errno(c, ret);
	if (ret && !(ret == -EINVAL && idx == VFIO_PCI_ERR_IRQ_INDEX && !c->igb) &&
	    ret != -EBADF && ret != -ENOTTY)
		fail(c, "GET_IRQ_INFO(%u): %s", idx, strerror(-ret));
	/* Bad index, bad start: EINVAL. */
	ret = set_none(fd, VFIO_PCI_NUM_IRQS + rnd(seed, 3), VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1);
	count_errno(c, ret);
	if (ret != -EINVAL && ret != -EBADF && ret != -ENOTTY)
		fail(c, "SET_IRQS with a bad index: %s", ret ? strerror(-ret) : "success");
	ret = set_none(fd, MSIX, VFIO_IRQ_SET_ACTION_TRIGGER, UINT32_MAX, 1);
	count_errno(c, ret);
	if (ret != -EINVAL && ret != -EBADF && ret != -ENOTTY)
		fail(c, "SET_IRQS start U32_MAX: %s", ret ? strerror(-ret) : "success");
	/* A DATA_BOOL false loopback: no signal, whatever is enabled. */
	{
		char buf[sizeof(struct vfio_irq_set) + 1];
		struct vfio_irq_set *set = (void *)buf;

		set->argsz = sizeof(buf);
		set->flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->index = rnd(seed, 3);
		set->start = 0;
		set->count = 1;
		memcpy(set->data, &zero, 1);
		ret = ioctl(fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
		count_errno(c, ret);
	}
	if (pread(fd, &cmd, 2, c->dev.config.offset + PCI_COMMAND) != 2)
		count_errno(c, -errno);
	atomic_fetch_add(&c->ops, 5);
	atomic_fetch_add(&c->bad, 2);
}

static void *exact_harmless(void *p)
{
	struct thread_arg *ta = p;
	struct conc *c = ta->c;
	unsigned int seed = ta->seed;

	while (running(c)) {
		pthread_rwlock_rdlock(&c->devlock);
		harmless(c, c->dev.device_fd, &seed);
		pthread_rwlock_unlock(&c->devlock);
		usleep(1000);
	}
	return NULL;
}

FIXTURE_SETUP(conc)
{
	struct conc *c;
	pthread_rwlockattr_t attr;
	uint16_t id[2];
	const char *env;
	int v, k, i;

	self->kmsg = stress_kmsg_open();
	self->t0 = stress_now();
	c = calloc(1, sizeof(*c));
	ASSERT_NE(NULL, c);
	self->c = c;
	c->dev.device_fd = -1;
	c->dev.group_fd = -1;
	c->dev.container_fd = -1;
	c->unmask_efd = -1;
	for (i = 0; i < POOL; i++)
		c->pool[i] = -1;
	pthread_mutex_init(&c->msg_lock, NULL);
	pthread_rwlockattr_init(&attr);
	/* The device lock's writers must get their turn. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&c->devlock, &attr);
	vfio_driver_of(conc_bdf, c->driver, sizeof(c->driver));

	ASSERT_DEV_OK(&c->dev, vfio_dev_open(&c->dev, conc_bdf) ?:
		      vfio_config_read(&c->dev, PCI_VENDOR_ID, id, sizeof(id)));
	c->igb = id[0] == IGB_VENDOR_ID && id[1] == IGB_DEVICE_ID;
	if (!c->igb && !(id[0] == EDU_VENDOR_ID && id[1] == EDU_DEVICE_ID))
		SKIP(return, "%s is %04x:%04x, neither an edu nor an igb", conc_bdf, id[0], id[1]);
	c->nvec = c->igb ? IGB_MSIX_VECTORS : 1;
	/* No BAR mappings: they would keep the device open across a close. */
	for (i = 0; i < VFIO_PCI_ROM_REGION_INDEX; i++) {
		if (c->dev.bar_map[i])
			munmap(c->dev.bar_map[i], c->dev.bar[i].size);
		c->dev.bar_map[i] = NULL;
	}
	ASSERT_EQ(0, device_ready(c, c->dev.device_fd));
	for (v = 0; v < MAXVEC; v++) {
		pthread_mutex_init(&c->v[v].lock, NULL);
		c->v[v].cur = -1;
		for (k = 0; k < NEFD; k++) {
			c->v[v].efd[k] = vfio_eventfd();
			ASSERT_LE(0, c->v[v].efd[k]);
		}
	}
	if (!c->igb) {
		c->unmask_efd = vfio_eventfd();
		ASSERT_LE(0, c->unmask_efd);
	}
	for (i = 0; i < POOL; i++) {
		c->pool[i] = vfio_eventfd();
		ASSERT_LE(0, c->pool[i]);
	}
	c->type = NONE;
	env = getenv("VPI_SEED");
	c->seed = env && *env ? strtoull(env, NULL, 0) : (unsigned long long)time(NULL);
	printf("# %s (%s) bound to %s, seed %llu\n", conc_bdf, c->igb ? "igb" : "edu", c->driver,
	       c->seed);
}

FIXTURE_TEARDOWN(conc)
{
	struct conc *c = self->c;
	int v, k, i;

	if (!c)
		return;
	if (c->dev.device_fd >= 0) {
		set_none(c->dev.device_fd, MSIX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
		set_none(c->dev.device_fd, MSI, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
		set_none(c->dev.device_fd, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
		ack(c, c->dev.device_fd);
	}
	vfio_dev_close(&c->dev);
	for (v = 0; v < MAXVEC; v++)
		for (k = 0; k < NEFD; k++)
			if (c->v[v].efd[k] >= 0)
				close(c->v[v].efd[k]);
	for (i = 0; i < POOL; i++)
		if (c->pool[i] >= 0)
			close(c->pool[i]);
	if (c->unmask_efd >= 0)
		close(c->unmask_efd);
	free(c);
}

/* The run length: check_default s, VPI_CONC_SECONDS, or half the budget. */
static unsigned long run_seconds(unsigned long check_default)
{
	unsigned long s = stress_budget("VPI_CONC_SECONDS", check_default);

	return stress_mode() && !getenv("VPI_CONC_SECONDS") ? s / 2 : s;
}

/* Ends a test: errnos, splats, the summary; fails on any error. */
static void finish(struct __test_metadata *_metadata, struct _test_data_conc *self,
		   const char *what)
{
	struct conc *c = self->c;
	struct stress_counts sc = {
		.seqs = 1, .ops = c->ops, .bad_inputs = c->bad, .raised = c->raised,
		.counted = c->counted, .mismatches = c->errors,
	};
	char label[128];

	print_errnos(c);
	/*
	 * Races in chaos may lose or add counts (the "# chaos:" line has
	 * them): only exact claims every interrupt counted once.
	 */
	if (!strcmp(what, "chaos")) {
		sc.raised = 0;
		sc.counted = 0;
	}
	sc.splats = stress_kmsg_splats(self->kmsg);
	snprintf(label, sizeof(label), "%s-%s-%s", c->igb ? "igb" : "edu", c->driver, what);
	printf("# %s: %lu reopens, %lu type changes\n", what, (unsigned long)c->reopens,
	       (unsigned long)c->type_changes);
	stress_summary("vfio_concurrency_test", label, &sc, stress_now() - self->t0);
	ASSERT_EQ(0, c->errors);
	ASSERT_EQ(0, sc.splats) TH_LOG("kernel splats");
}

#define NTHREADS	6

TEST_F_TIMEOUT(conc, exact, 3600)
{
	static void *(*const fn[NTHREADS])(void *) = {
		exact_worker, exact_worker, exact_raiser, exact_typer, exact_reopener,
		exact_harmless,
	};
	struct conc *c = self->c;
	struct thread_arg ta[NTHREADS];
	pthread_t th[NTHREADS];
	unsigned long secs = run_seconds(5);
	uint64_t cnt;
	int i, v, k;

	c->deadline = stress_now() + secs;
	printf("# exact: %d threads for %lu s\n", NTHREADS, secs);
	for (i = 0; i < NTHREADS; i++) {
		ta[i] = (struct thread_arg){ c, (unsigned int)(c->seed * 31 + i), i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fn[i], &ta[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);

	/* Anything more than what was counted at each raise is too much. */
	usleep(300000);
	for (v = 0; v < c->nvec; v++) {
		for (k = 0; k < NEFD; k++) {
			vfio_eventfd_read(c->v[v].efd[k], &cnt);
			if (cnt)
				fail(c, "vector %d: e%d counted %llu more after the end", v, k,
				     (unsigned long long)cnt);
		}
	}
	if (c->raised != c->counted)
		fail(c, "%lu interrupts raised on a trigger, %lu counted",
		     (unsigned long)c->raised, (unsigned long)c->counted);
	finish(_metadata, self, "exact");
}

/* chaos: the device fd, or -1 while it is being reopened. */
static int chaos_fd(struct conc *c)
{
	return atomic_load(&c->fd);
}

/* chaos: what a racing call may fail with. */
static bool chaos_errno_ok(int ret)
{
	switch (-ret) {
	case 0:
	case EINVAL:	/* not enabled, other type enabled, not an eventfd */
	case EBADF:	/* device or eventfd closed by another thread */
	case ENOTTY:	/* the fd number reused by an eventfd */
	case EBUSY:	/* INTx unmask eventfd already set */
	case ERANGE:	/* enabling with no vector */
	case EIO:	/* BAR access with memory decoding off after reopen */
	case ESPIPE:	/* pwrite on an eventfd that reused the number */
		return true;
	}
	return ret > 0;	/* fewer vectors than asked for */
}

static void chaos_check(struct conc *c, int ret, const char *what)
{
	atomic_fetch_add(&c->ops, 1);
	count_errno(c, ret);
	if (!chaos_errno_ok(ret))
		fail(c, "chaos: %s: %s", what, strerror(-ret));
}

static int chaos_pool_fd(struct conc *c, unsigned int *seed)
{
	unsigned int p = rnd(seed, 100);

	if (p < 15)
		return -1;
	return atomic_load(&c->pool[rnd(seed, POOL)]);
}

static void *chaos_worker(void *p)
{
	struct thread_arg *ta = p;
	struct conc *c = ta->c;
	unsigned int seed = ta->seed;
	int fds[MAXVEC];

	while (running(c)) {
		int fd = chaos_fd(c), type, start, count, i, ret, old;
		unsigned int op = rnd(&seed, 100);

		if (fd < 0) {
			usleep(1000);
			continue;
		}
		type = c->igb ? (rnd(&seed, 10) ? MSIX : rnd(&seed, 2) ? MSI : INTX) :
		       (rnd(&seed, 2) ? MSI : INTX);
		if (op < 45) {
			start = type == MSIX ? rnd(&seed, c->nvec) : 0;
			count = type == MSIX ? 1 + rnd(&seed, c->nvec - start) : 1;
			for (i = 0; i < count; i++)
				fds[i] = chaos_pool_fd(c, &seed);
			chaos_check(c, set_fd(fd, type, start, count, fds), "set triggers");
		} else if (op < 60) {
			chaos_check(c, set_none(fd, type, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0),
				    "disable");
		} else if (op < 75) {
			start = type == MSIX ? rnd(&seed, c->nvec) : 0;
			ret = set_none(fd, type, VFIO_IRQ_SET_ACTION_TRIGGER, start, 1);
			chaos_check(c, ret, "loopback");
			if (!ret)
				atomic_fetch_add(&c->raised, 1);
		} else if (op < 85) {
			/* An eventfd closed and replaced, maybe while it is a trigger. */
			i = rnd(&seed, POOL);
			ret = vfio_eventfd();
			if (ret < 0) {
				fail(c, "eventfd: %s", strerror(-ret));
				continue;
			}
			old = atomic_exchange(&c->pool[i], ret);
			close(old);
		} else if (op < 92 && !c->igb) {
			int ufd = chaos_pool_fd(c, &seed);

			ret = vfio_irq_set_eventfds_action(&(struct vfio_dev){ .device_fd = fd },
							   INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
							   &ufd);
			chaos_check(c, ret, "unmask eventfd");
			ret = set_none(fd, INTX, rnd(&seed, 2) ? VFIO_IRQ_SET_ACTION_UNMASK :
				       VFIO_IRQ_SET_ACTION_MASK, 0, 1);
			chaos_check(c, ret, "mask or unmask");
		} else if (op < 96) {
			uint16_t cmd;

			if (pread(fd, &cmd, 2, c->dev.config.offset + PCI_COMMAND) == 2) {
				cmd ^= PCI_COMMAND_INTX_DISABLE;
				cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
				ret = pwrite(fd, &cmd, 2, c->dev.config.offset + PCI_COMMAND);
				chaos_check(c, ret == 2 ? 0 : -errno, "INTx-disable bit");
			}
		} else {
			harmless(c, fd, &seed);
		}
	}
	return NULL;
}

static void *chaos_raiser(void *p)
{
	struct thread_arg *ta = p;
	struct conc *c = ta->c;
	unsigned int seed = ta->seed;

	while (running(c)) {
		int fd = chaos_fd(c), ret;

		if (fd < 0) {
			usleep(1000);
			continue;
		}
		if (c->igb) {
			ret = device_ready(c, fd);
			if (!ret)
				ret = bar_write(c, fd, IGB_EICS, rand_r(&seed) & IGB_MSIX_ALL);
		} else {
			ret = bar_write(c, fd, EDU_IRQ_RAISE, 1);
			if (!ret && rnd(&seed, 2))
				ret = ack(c, fd);
			if (!ret && rnd(&seed, 2))
				ret = set_none(fd, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1);
		}
		chaos_check(c, ret, "raise");
		if (!ret)
			atomic_fetch_add(&c->raised, 1);
		usleep(rnd(&seed, 2000));
	}
	return NULL;
}

static void *chaos_reopener(void *p)
{
	struct thread_arg *ta = p;
	struct conc *c = ta->c;
	unsigned int seed = ta->seed;

	while (running(c)) {
		int old, fd;

		usleep(300000 + rnd(&seed, 1200000));
		old = atomic_exchange(&c->fd, -1);
		fd = reopen_fd(c, old);
		if (fd < 0) {
			fail(c, "chaos: reopen: %s", strerror(-fd));
			break;
		}
		/* Memory and bus master may be off until this. */
		device_ready(c, fd);
		atomic_store(&c->fd, fd);
		atomic_fetch_add(&c->reopens, 1);
	}
	return NULL;
}

static void *chaos_drainer(void *p)
{
	struct thread_arg *ta = p;
	struct conc *c = ta->c;

	while (running(c)) {
		struct pollfd pfd[POOL];
		uint64_t cnt;
		int i;

		for (i = 0; i < POOL; i++) {
			pfd[i].fd = atomic_load(&c->pool[i]);
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, POOL, 50) <= 0)
			continue;
		for (i = 0; i < POOL; i++)
			if ((pfd[i].revents & POLLIN) &&
			    read(pfd[i].fd, &cnt, sizeof(cnt)) == sizeof(cnt))
				atomic_fetch_add(&c->counted, cnt);
	}
	return NULL;
}

/*
 * After chaos: the device closed and opened again must work as new, every
 * vector once on its own eventfd (edu: MSI, then INTx).
 */
static void verify_fresh(struct conc *c)
{
	int types[2] = { c->igb ? MSIX : MSI, INTX };
	int fd, t, v, ntypes = c->igb ? 1 : 2;
	uint64_t cnt;

	fd = reopen_fd(c, atomic_exchange(&c->fd, -1));
	c->dev.device_fd = fd;
	if (fd < 0) {
		fail(c, "verify: reopen: %s", strerror(-fd));
		return;
	}
	if (device_ready(c, fd)) {
		fail(c, "verify: device setup failed");
		return;
	}
	ack(c, fd);
	for (t = 0; t < ntypes; t++) {
		int fds[MAXVEC];

		for (v = 0; v < c->nvec; v++) {
			fds[v] = c->v[v].efd[0];
			vfio_eventfd_read(fds[v], &cnt);
		}
		if (!must(c, set_fd(fd, types[t], 0, c->nvec, fds), "verify: enable", -1))
			return;
		for (v = 0; v < c->nvec; v++) {
			if (!must(c, raise_vec(c, fd, v), "verify: raise", v))
				return;
			if (vfio_eventfd_wait(fds[v], WAIT_MS, &cnt) != 1 || cnt != 1)
				fail(c, "verify: %s vector %d: counted %llu, not 1",
				     type_name(types[t]), v, (unsigned long long)cnt);
			ack(c, fd);
			if (types[t] == INTX)
				set_none(fd, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1);
		}
		usleep(200000);
		for (v = 0; v < c->nvec; v++) {
			vfio_eventfd_read(fds[v], &cnt);
			if (cnt)
				fail(c, "verify: %s vector %d: %llu more", type_name(types[t]), v,
				     (unsigned long long)cnt);
		}
		must(c, set_none(fd, types[t], VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0),
		     "verify: disable", -1);
	}
}

TEST_F_TIMEOUT(conc, chaos, 3600)
{
	static void *(*const fn[NTHREADS])(void *) = {
		chaos_worker, chaos_worker, chaos_worker, chaos_raiser, chaos_reopener,
		chaos_drainer,
	};
	struct conc *c = self->c;
	struct thread_arg ta[NTHREADS];
	pthread_t th[NTHREADS];
	unsigned long secs = run_seconds(3);
	int i;

	atomic_store(&c->fd, c->dev.device_fd);
	c->deadline = stress_now() + secs;
	printf("# chaos: %d threads for %lu s\n", NTHREADS, secs);
	for (i = 0; i < NTHREADS; i++) {
		ta[i] = (struct thread_arg){ c, (unsigned int)(c->seed * 37 + i), i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fn[i], &ta[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	printf("# chaos: %lu interrupts raised (device and loopback), %lu counted\n",
	       (unsigned long)c->raised, (unsigned long)c->counted);
	verify_fresh(c);
	finish(_metadata, self, "chaos");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return vfio_test_main(argc, argv, &conc_bdf, "an edu or an igb");
}
