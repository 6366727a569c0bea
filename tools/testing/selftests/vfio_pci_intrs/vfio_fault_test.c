// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection into SET_IRQS, differential: the oracle ($VPI_ORACLE_BDF,
 * upstream vfio-pci) and the subject ($VPI_BDF, vfio-pci-intrs) are twins.
 * Each scenario is a setup (INTx, MSI or MSI-X enabled with some triggers,
 * ERR or REQ set) and one call (enable, add a block of vectors, add a
 * vector, replace a trigger, set an unmask eventfd). A call that fails must
 * return a clean errno and leave the state as upstream's roll-back leaves
 * it: what the same call leaves on the oracle when one of its eventfds is
 * bad (vfio_msi_set_block() clears the vectors the call touched, a failed
 * enable disables again, a failed trigger change keeps the old trigger).
 * The next call must succeed, and the devices must still work (interrupts
 * raised by the device land once on their eventfds).
 *
 * - failslab: the Nth slab allocation of the call fails
 *   (/proc/thread-self/fail-nth, failslab with ignore-gfp-wait=N), N swept
 *   over every allocation the call makes (VPI_STRESS=1) or a sample of
 *   them (`make check`), on both twins; the errnos each driver returned are
 *   listed.
 * - fail_function (VPI_FAIL_FUNCTION=1 only, see the test): the Nth call of
 *   each injection point of the module (vpi_helper_request_irq,
 *   vpi_helper_eventfd_ctx_fdget, vpi_helper_pci_alloc_irq_vectors,
 *   vpi_helper_pci_msix_alloc_irq_at), swept, on the subject: the call
 *   returns the injected errno and the state equals the oracle's after the
 *   same call with a bad eventfd at the failing vector (the equivalent
 *   failure upstream can be given).
 * - random: random calls with failslab failing allocations at random
 *   (probability, task filter /proc/thread-self/make-it-fail), on the
 *   subject, each call followed by a reset and a working-device check.
 * - ims (edu pair run only): the same sweeps on an IMS-backed virtual
 *   device of tools/vidxd (vpi_helper_pci_ims_alloc_irq too); the
 *   reference states come from the same device with bad eventfds.
 * - kmemleak (VPI_STRESS=1; `make check` has the runner's final scan): a
 *   scan at the end; nothing may be reported.
 *
 * Each test ends with a "# summary:" line (vfio_stress.h); a kernel splat
 * fails it. The injection settings are restored at the end.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "edu.h"
#include "igb.h"
#include "vfio_stress.h"
#include "vfio_util.h"

#define NUM_IRQS	VFIO_PCI_NUM_IRQS
#define ORACLE		0
#define SUBJECT		1
#define POOL		8
#define MAXV		16	/* vectors a snapshot looks at */
#define MAXD		12	/* data elements of a call */

#define INTX		VFIO_PCI_INTX_IRQ_INDEX
#define MSI		VFIO_PCI_MSI_IRQ_INDEX
#define MSIX		VFIO_PCI_MSIX_IRQ_INDEX
#define ERR		VFIO_PCI_ERR_IRQ_INDEX
#define REQ		VFIO_PCI_REQ_IRQ_INDEX
#define TRIG		VFIO_IRQ_SET_ACTION_TRIGGER
#define UNMASK		VFIO_IRQ_SET_ACTION_UNMASK

/* Symbolic eventfds of a call: pool entries 0-7, none, a closed fd. */
#define NOFD		(-1)
#define BADFD		100
#define CLOSED_FD_NUM	900

#define DBG		"/sys/kernel/debug"
#define FAILSLAB	DBG "/failslab"
#define FAILFN		DBG "/fail_function"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define MAKE_IT_FAIL	"/proc/thread-self/make-it-fail"
#define KMEMLEAK	DBG "/kmemleak"

#define WAIT_MS		3000

#define NO_FAIL_FUNCTION	"fail_function trips lockdep on Linux 6.12 (VPI_FAIL_FUNCTION=1)"
#define NO_KMEMLEAK_HERE	"kmemleak is scanned here with VPI_STRESS=1, else by the runner"

struct twin {
	const char *role;
	struct vfio_dev dev;
	int pool[POOL];
	int probe;		/* an eventfd for the unmask probe */
	uint32_t n[NUM_IRQS];
	bool ims;		/* an IMS-backed virtual device (MSI-X always on) */
};

/* A SET_IRQS call with DATA_EVENTFD. */
struct call {
	uint32_t index, action, start, count;
	int32_t fd[MAXD];	/* pool entry, NOFD or BADFD */
};

/* What loopbacks and probes show of a twin's interrupt state. */
struct snap {
	int type;		/* enabled index, -1 none */
	int8_t vec[MAXV];	/* pool entry each vector signals, -1 none, -2 several */
	int8_t single[2];	/* ERR and REQ: pool entry, -1 none */
	int8_t unmask;		/* INTx: an unmask eventfd is set */
};

struct scenario {
	const char *name;
	uint32_t need;		/* an index the device must have */
	uint32_t need_n;	/* ...with at least this many vectors */
	int nsetup;
	struct call setup[2];
	struct call call;
	/* fail_function points this call reaches, with the errno injected */
	const char *fn[4];
	int fn_err[4];
};

#define C(idx, act, st, ...) { .index = (idx), .action = (act), .start = (st), \
	.count = sizeof((int32_t[]){ __VA_ARGS__ }) / sizeof(int32_t), .fd = { __VA_ARGS__ } }

#define REQUEST_IRQ	"vpi_helper_request_irq"
#define FDGET		"vpi_helper_eventfd_ctx_fdget"
#define ALLOC_VECTORS	"vpi_helper_pci_alloc_irq_vectors"
#define MSIX_ALLOC_AT	"vpi_helper_pci_msix_alloc_irq_at"
#define IMS_ALLOC	"vpi_helper_pci_ims_alloc_irq"

static const struct scenario scenarios[] = {
	{ "MSI-X enable, vectors 0-3 (one without eventfd)", MSIX, 4, 0, {},
	  C(MSIX, TRIG, 0, 0, 1, NOFD, 3),
	  { ALLOC_VECTORS, REQUEST_IRQ, FDGET }, { -ENOSPC, -ENOMEM, -ENOMEM } },
	{ "MSI-X on: vectors 1-3 set in one call (1 replaced, 2-3 added)", MSIX, 4, 1,
	  { C(MSIX, TRIG, 0, 0, 1) }, C(MSIX, TRIG, 1, 5, 6, 7),
	  { REQUEST_IRQ, FDGET, MSIX_ALLOC_AT }, { -EBUSY, -ENOMEM, -ENOSPC } },
	{ "MSI-X on: the last vector added", MSIX, 10, 1,
	  { C(MSIX, TRIG, 0, 0) }, C(MSIX, TRIG, 9, 4),
	  { REQUEST_IRQ, FDGET, MSIX_ALLOC_AT }, { -ENOMEM, -EBADF, -ENOMEM } },
	{ "MSI enable", MSI, 1, 0, {}, C(MSI, TRIG, 0, 2),
	  { ALLOC_VECTORS, REQUEST_IRQ, FDGET }, { -ENOMEM, -EINVAL, -ENOMEM } },
	{ "MSI on: trigger replaced", MSI, 1, 1, { C(MSI, TRIG, 0, 0) }, C(MSI, TRIG, 0, 3),
	  { REQUEST_IRQ, FDGET }, { -ENOMEM, -ENOMEM } },
	{ "INTx enable", INTX, 1, 0, {}, C(INTX, TRIG, 0, 1),
	  { REQUEST_IRQ, FDGET }, { -EBUSY, -ENOMEM } },
	{ "INTx on: trigger replaced", INTX, 1, 1, { C(INTX, TRIG, 0, 1) }, C(INTX, TRIG, 0, 2),
	  { FDGET }, { -ENOMEM } },
	{ "INTx on: unmask eventfd set", INTX, 1, 1, { C(INTX, TRIG, 0, 1) },
	  C(INTX, UNMASK, 0, 5), {}, {} },
	{ "ERR trigger replaced", ERR, 1, 1, { C(ERR, TRIG, 0, 6) }, C(ERR, TRIG, 0, 5),
	  { FDGET }, { -ENOMEM } },
	{ "REQ trigger replaced", REQ, 1, 1, { C(REQ, TRIG, 0, 7) }, C(REQ, TRIG, 0, 6),
	  { FDGET }, { -EBADF } },
};

/* IMS: MSI-X is always on; vector 0 of vidxd is emulated. */
static const struct scenario ims_scenarios[] = {
	{ "IMS: vectors 1-3 set in one call", MSIX, 4, 1, { C(MSIX, TRIG, 0, 0) },
	  C(MSIX, TRIG, 1, 1, NOFD, 3),
	  { IMS_ALLOC, REQUEST_IRQ, FDGET }, { -ENOSPC, -ENOMEM, -ENOMEM } },
	{ "IMS: vectors 0-7 (0 emulated) in one call", MSIX, 8, 0, {},
	  C(MSIX, TRIG, 0, 0, 1, 2, 3, 4, 5, 6, 7),
	  { IMS_ALLOC, REQUEST_IRQ, FDGET }, { -ENODEV, -EBUSY, -ENOMEM } },
	{ "IMS: trigger of vector 5 replaced", MSIX, 8, 1, { C(MSIX, TRIG, 5, 0) },
	  C(MSIX, TRIG, 5, 6),
	  { IMS_ALLOC, REQUEST_IRQ, FDGET }, { -ENOMEM, -ENOMEM, -EBADF } },
};

/* --- small helpers ------------------------------------------------- */

/* Progress in the kernel log, so that a hang shows where it happened. */
static void __printf(1, 2) progress(const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	int fd, len;

	va_start(ap, fmt);
	len = snprintf(msg, sizeof(msg), "<6>vfio_fault_test: ");
	vsnprintf(msg + len, sizeof(msg) - len, fmt, ap);
	va_end(ap);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, msg, strlen(msg)) < 0)
		fd = -fd;
	close(fd < 0 ? -fd : fd);
}

/* Writes a formatted value to a sysfs or debugfs file: 0 or -errno. */
static int wfile(const char *path, const char *fmt, ...)
{
	char val[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return vfio_sysfs_write(path, val);
}

/* Reads a sysfs or debugfs file's first line: 0 or -errno. */
static int rfile(const char *path, char *buf, size_t len)
{
	int ret = vfio_sysfs_read(path, buf, len);

	if (!ret)
		buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

static const char *errname(int ret)
{
	static char buf[4][32];
	static int slot;
	char *s = buf[slot++ % 4];

	if (ret >= 0)
		snprintf(s, sizeof(buf[0]), "%d", ret);
	else
		snprintf(s, sizeof(buf[0]), "-%s", strerrorname_np(-ret) ?: "?");
	return s;
}

/* Debugfs knobs changed by a test, restored at its end. */
struct knob {
	char path[128];
	char val[64];
};

#define MAX_KNOBS	160
static struct knob saved[MAX_KNOBS];
static int nsaved;

/* Sets a knob, remembering its value the first time. */
static int knob_set(const char *path, const char *val)
{
	int i;

	for (i = 0; i < nsaved; i++)
		if (!strcmp(saved[i].path, path))
			break;
	if (i == nsaved && nsaved < MAX_KNOBS) {
		if (!rfile(path, saved[i].val, sizeof(saved[i].val))) {
			snprintf(saved[i].path, sizeof(saved[i].path), "%s", path);
			nsaved++;
		}
	}
	return wfile(path, "%s", val);
}

static void knobs_restore(void)
{
	int i;

	for (i = nsaved - 1; i >= 0; i--)
		wfile(saved[i].path, "%s", saved[i].val);
	nsaved = 0;
	wfile(FAIL_NTH, "0");
	wfile(MAKE_IT_FAIL, "0");
	wfile(FAILFN "/inject", "\n");
}

/* --- twins: requests and snapshots -------------------------------- */

static int resolve(const struct twin *tw, int32_t sym)
{
	if (sym >= 0 && sym < POOL)
		return tw->pool[sym];
	if (sym == BADFD)
		return CLOSED_FD_NUM;
	return sym;
}

/*
 * The buffer of a call, built before fault injection is armed (so that
 * the call makes no allocation of user space's, e.g. a page fault's).
 */
static union {
	struct vfio_irq_set set;
	char buf[sizeof(struct vfio_irq_set) + 4 * MAXD];
} req_buf;

static void build(const struct twin *tw, const struct call *c)
{
	uint32_t i;

	memset(&req_buf, 0, sizeof(req_buf));
	req_buf.set.argsz = sizeof(struct vfio_irq_set) + 4 * c->count;
	req_buf.set.flags = VFIO_IRQ_SET_DATA_EVENTFD | c->action;
	req_buf.set.index = c->index;
	req_buf.set.start = c->start;
	req_buf.set.count = c->count;
	for (i = 0; i < c->count; i++) {
		int32_t fd = resolve(tw, c->fd[i]);

		memcpy(req_buf.set.data + 4 * i, &fd, 4);
	}
}

static int issue(const struct twin *tw)
{
	return ioctl(tw->dev.device_fd, VFIO_DEVICE_SET_IRQS, &req_buf.set) ? -errno : 0;
}

static int do_call(const struct twin *tw, const struct call *c)
{
	build(tw, c);
	return issue(tw);
}

static int set_none(const struct twin *tw, uint32_t index, uint32_t start, uint32_t count)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set), .flags = VFIO_IRQ_SET_DATA_NONE | TRIG,
		.index = index, .start = start, .count = count,
	};

	return ioctl(tw->dev.device_fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

static int set_bool0(const struct twin *tw, uint32_t index)
{
	char buf[sizeof(struct vfio_irq_set) + 1] = { 0 };
	struct vfio_irq_set *set = (void *)buf;

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_BOOL | TRIG;
	set->index = index;
	set->count = 1;
	return ioctl(tw->dev.device_fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

static int set_one(const struct twin *tw, uint32_t index, uint32_t action, int fd)
{
	struct call c = { .index = index, .action = action, .count = 1, .fd = { fd } };

	return do_call(tw, &c);
}

/* Reads every pool eventfd; returns the entry signalled, -1, -2 (several). */
static int signalled(const struct twin *tw)
{
	uint64_t cnt;
	int i, which = -1;

	for (i = 0; i < POOL; i++) {
		vfio_eventfd_read(tw->pool[i], &cnt);
		if (cnt)
			which = which == -1 && cnt == 1 ? i : -2;
	}
	return which;
}

static void take_snap(const struct twin *tw, struct snap *s)
{
	uint32_t idx, v, nv;
	int ret;

	memset(s, 0, sizeof(*s));
	s->type = -1;
	memset(s->vec, -1, sizeof(s->vec));
	signalled(tw);
	for (idx = INTX; idx <= MSIX; idx++)
		if (tw->n[idx] && !set_bool0(tw, idx))
			s->type = idx;
	if (s->type >= 0) {
		nv = tw->n[s->type] < MAXV ? tw->n[s->type] : MAXV;
		for (v = 0; v < nv; v++) {
			if (set_none(tw, s->type, v, 1))
				s->vec[v] = -3;
			else
				s->vec[v] = signalled(tw);
		}
	}
	for (idx = ERR; idx <= REQ; idx++) {
		ret = tw->n[idx] ? set_none(tw, idx, 0, 1) : -EINVAL;
		s->single[idx - ERR] = ret ? -1 : signalled(tw);
	}
	if (s->type == INTX) {
		/* Another unmask eventfd is refused while one is set. */
		ret = set_one(tw, INTX, UNMASK, tw->probe);
		s->unmask = ret == -EBUSY;
		if (!ret)
			set_one(tw, INTX, UNMASK, -1);
	}
}

static void describe_snap(const struct snap *s, char *out, size_t len)
{
	static const char * const names[] = { "INTx", "MSI", "MSI-X" };
	size_t o;
	int v;

	o = snprintf(out, len, "%s", s->type >= 0 ? names[s->type] : "nothing enabled");
	for (v = 0; s->type >= 0 && v < MAXV && o < len; v++) {
		if (s->vec[v] == -1)
			continue;
		if (s->vec[v] >= 0)
			o += snprintf(out + o, len - o, " %d:e%d", v, s->vec[v]);
		else
			o += snprintf(out + o, len - o, " %d:%s", v,
				      s->vec[v] == -2 ? "several" : "refused");
	}
	if (s->type == INTX && o < len)
		o += snprintf(out + o, len - o, "%s", s->unmask ? " +unmask eventfd" : "");
	if (o < len && s->single[0] >= 0)
		o += snprintf(out + o, len - o, " ERR:e%d", s->single[0]);
	if (o < len && s->single[1] >= 0)
		snprintf(out + o, len - o, " REQ:e%d", s->single[1]);
}

/* Disables everything; IMS keeps MSI-X on with no vector. */
static void reset_twin(const struct twin *tw)
{
	set_none(tw, MSIX, 0, 0);
	if (!tw->ims) {
		set_none(tw, INTX, 0, 0);
		set_none(tw, MSI, 0, 0);
		set_one(tw, ERR, TRIG, -1);
	}
	set_one(tw, REQ, TRIG, -1);
	signalled(tw);
}

static bool applies(const struct twin *tw, const struct scenario *sc)
{
	return tw->n[sc->need] >= sc->need_n;
}

/* Reset, then the scenario's setup: 0 or the first error. */
static int setup_twin(const struct twin *tw, const struct scenario *sc)
{
	int i, ret;

	reset_twin(tw);
	for (i = 0; i < sc->nsetup; i++) {
		ret = do_call(tw, &sc->setup[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* The call with the eventfd of data element j made bad (a closed fd). */
static struct call bad_at(const struct call *c, int j)
{
	struct call b = *c;

	b.fd[j] = BADFD;
	return b;
}

/* --- fault injection ---------------------------------------------- */

static int nth_fd = -1;

/*
 * failslab fails kmalloc() allocations only (the kmalloc-* caches, with
 * cache-filter): the allocations of the drivers' own code, of
 * request_irq() and of the MSI and interrupt-remapping domains. Other
 * caches' objects are left alone, notably /proc entries: the kernel's
 * interrupt code ignores a failure to create /proc/irq/N/<file> and WARNs
 * when it removes the file it does not have (remove_proc_entry()), which
 * would fail any run, whatever the driver. Returns how many caches.
 */
static int failslab_caches(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int n = 0;
	DIR *d;

	d = opendir("/sys/kernel/slab");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "kmalloc-", 8))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s", de->d_name);
		/* An alias of a merged cache is a symlink: leave it. */
		if (lstat(path, &st) || !S_ISDIR(st.st_mode))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/failslab", de->d_name);
		if (!knob_set(path, "1"))
			n++;
	}
	closedir(d);
	return n;
}

/* failslab for fail-nth: every allocation counts, nothing printed. */
static int failslab_arm(void)
{
	static bool told;
	int ret, n;

	ret = knob_set(FAILSLAB "/ignore-gfp-wait", "N");
	if (!ret)
		ret = knob_set(FAILSLAB "/verbose", "0");
	if (!ret)
		ret = knob_set(FAILSLAB "/probability", "0");
	if (!ret)
		ret = knob_set(FAILSLAB "/cache-filter", "Y");
	if (!ret) {
		n = failslab_caches();
		if (n <= 0)
			ret = n ?: -ENOENT;
		else if (!told)
			vfio_note("failslab on %d kmalloc caches", n);
		told = true;
	}
	if (!ret && nth_fd < 0) {
		nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
		if (nth_fd < 0)
			ret = -errno;
	}
	return ret;
}

static void nth_set(unsigned int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", n);

	if (pwrite(nth_fd, s, len, 0) != len)
		vfio_note("fail-nth write: %s", strerror(errno));
}

static unsigned int nth_get(void)
{
	char s[16] = "";

	if (pread(nth_fd, s, sizeof(s) - 1, 0) <= 0)
		return UINT_MAX;
	return strtoul(s, NULL, 0);
}

/* The call with its Nth fault site failing (0: none); *hit when it did. */
static int call_nth(const struct twin *tw, const struct call *c, unsigned int n, bool *hit)
{
	unsigned int left;
	int ret;

	build(tw, c);
	nth_set(n);
	ret = issue(tw);
	left = nth_get();
	nth_set(0);
	*hit = n && !left;
	return ret;
}

/* How many fault sites (allocations) the call passes: from fail-nth. */
static unsigned int count_sites(const struct twin *tw, const struct call *c, int *ret)
{
	const unsigned int big = 1000000;
	unsigned int left;

	build(tw, c);
	nth_set(big);
	*ret = issue(tw);
	left = nth_get();
	nth_set(0);
	return left <= big ? big - left : 0;
}

/* Whether fail_function can target fn (the module exports the point). */
static bool ff_available(const char *fn)
{
	char line[256];
	bool found = false;
	FILE *f;

	if (access(FAILFN "/inject", W_OK))
		return false;
	f = fopen(DBG "/error_injection/list", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, fn, strlen(fn)) && (line[strlen(fn)] == '\t' ||
							   line[strlen(fn)] == ' ');
	fclose(f);
	return found;
}

/*
 * fail_function on fn, failing with err, disarmed. No task filter: the
 * kprobe's handler runs in the int3 trap, as an NMI, where no task is
 * current for fault injection; the devices are this test's alone.
 */
static int ff_attach(const char *fn, int err)
{
	char path[PATH_MAX];
	int ret;

	wfile(FAILFN "/inject", "\n");
	ret = wfile(FAILFN "/inject", "%s", fn);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), FAILFN "/%s/retval", fn);
	ret = wfile(path, "%#llx", (unsigned long long)(long long)err);
	if (!ret)
		ret = knob_set(FAILFN "/verbose", "0");
	if (!ret)
		ret = knob_set(FAILFN "/task-filter", "N");
	if (!ret)
		ret = knob_set(FAILFN "/probability", "100");
	if (!ret)
		ret = knob_set(FAILFN "/interval", "1");
	if (!ret)
		ret = knob_set(FAILFN "/times", "0");
	return ret;
}

static void ff_detach(void)
{
	wfile(FAILFN "/times", "0");
	wfile(FAILFN "/inject", "\n");
}

/* The call with the Nth call of the attached point failing. */
static int call_ff(const struct twin *tw, const struct call *c, unsigned int n, bool *hit)
{
	char times[32] = "";
	int ret;

	build(tw, c);
	wfile(FAILFN "/space", "%u", n - 1);
	wfile(FAILFN "/times", "1");
	ret = issue(tw);
	rfile(FAILFN "/times", times, sizeof(times));
	wfile(FAILFN "/times", "0");
	*hit = !strcmp(times, "0");
	return ret;
}

/* --- the fixture --------------------------------------------------- */

FIXTURE(fault) {
	struct twin tw[2];
	const char *model;	/* "edu", "igb" or NULL */
	int kmsg;
	double t0;
	struct stress_counts sc;
	/* errnos seen per twin under failslab: errno -> count */
	unsigned long errs[2][160];
	unsigned long zero_with_fault[2];
	int failures;
};

/* FIXTURE_DATA(fault), spelt out for checkpatch. */
#define SELF	struct _test_data_fault

static void __printf(2, 3) failure(struct _test_data_fault *self, const char *fmt, ...)
{
	va_list ap;

	self->failures++;
	self->sc.mismatches++;
	if (self->failures > 40)
		return;
	printf("# FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int twin_open(struct twin *tw, const char *bdf)
{
	int i, ret;

	for (i = 0; i < 50; i++) {
		ret = vfio_dev_open(&tw->dev, bdf);
		if (ret != -EBUSY)
			break;
		vfio_dev_close(&tw->dev);
		usleep(100000);
	}
	if (ret)
		return ret;
	for (i = 0; i < NUM_IRQS; i++) {
		struct vfio_irq_info info;

		tw->n[i] = vfio_irq_info(&tw->dev, i, &info) ? 0 : info.count;
	}
	for (i = 0; i < POOL; i++) {
		tw->pool[i] = vfio_eventfd();
		if (tw->pool[i] < 0)
			return tw->pool[i];
	}
	tw->probe = vfio_eventfd();
	return tw->probe < 0 ? tw->probe : 0;
}

static void twin_close(struct twin *tw)
{
	int i;

	if (tw->dev.device_fd >= 0)
		reset_twin(tw);
	vfio_dev_close(&tw->dev);
	for (i = 0; i < POOL; i++)
		if (tw->pool[i] >= 0)
			close(tw->pool[i]);
	if (tw->probe >= 0)
		close(tw->probe);
}

static void twin_init(struct twin *tw, const char *role)
{
	int i;

	memset(tw, 0, sizeof(*tw));
	tw->role = role;
	tw->dev.device_fd = -1;
	tw->dev.group_fd = -1;
	tw->dev.container_fd = -1;
	tw->probe = -1;
	for (i = 0; i < POOL; i++)
		tw->pool[i] = -1;
}

FIXTURE_SETUP(fault)
{
	const char *bdf[2] = { getenv("VPI_ORACLE_BDF"), getenv("VPI_BDF") };
	uint16_t id[2];
	int t, ret;

	self->kmsg = stress_kmsg_open();
	self->t0 = stress_now();
	twin_init(&self->tw[ORACLE], "oracle");
	twin_init(&self->tw[SUBJECT], "subject");
	for (t = ORACLE; t <= SUBJECT; t++) {
		ret = twin_open(&self->tw[t], bdf[t]);
		ASSERT_EQ(0, ret) TH_LOG("%s %s: %s: %s", self->tw[t].role, bdf[t],
					 self->tw[t].dev.err, strerror(-ret));
	}
	ASSERT_EQ(0, vfio_config_read(&self->tw[ORACLE].dev, PCI_VENDOR_ID, id, sizeof(id)));
	if (id[0] == EDU_VENDOR_ID && id[1] == EDU_DEVICE_ID)
		self->model = "edu";
	else if (id[0] == IGB_VENDOR_ID && id[1] == IGB_DEVICE_ID)
		self->model = "igb";
	ASSERT_EQ(0, memcmp(self->tw[ORACLE].n, self->tw[SUBJECT].n, sizeof(self->tw[0].n)))
		TH_LOG("the twins report different vector counts");
	close(CLOSED_FD_NUM);
	if (access(FAILSLAB, F_OK))
		SKIP(return, "no " FAILSLAB " (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)");
	ASSERT_EQ(0, failslab_arm()) TH_LOG("arming failslab: %s", strerror(errno));
}

FIXTURE_TEARDOWN(fault)
{
	knobs_restore();
	twin_close(&self->tw[ORACLE]);
	twin_close(&self->tw[SUBJECT]);
}

/* Ends a test: errnos, splats, the summary; fails on any failure. */
static void finish(struct __test_metadata *_metadata, SELF *self, const char *what)
{
	char label[64];

	progress("%s: done", what);
	knobs_restore();
	self->sc.splats = stress_kmsg_splats(self->kmsg);
	snprintf(label, sizeof(label), "%s-%s", self->model ?: "unknown", what);
	stress_summary("vfio_fault_test", label, &self->sc, stress_now() - self->t0);
	ASSERT_EQ(0, self->failures);
	ASSERT_EQ(0, self->sc.splats) TH_LOG("kernel splats");
}

/*
 * The states a scenario can end in, computed without injection: after
 * the setup (a call that fails before changing anything), after the call,
 * and after the call with a bad eventfd at element j (fails at vector
 * start + j: upstream's roll-back), with that call's result.
 */
struct refs {
	struct snap setup, ok;
	struct snap bad[MAXD];
	int bad_ret[MAXD];
	bool bad_valid[MAXD];
};

static bool compute_refs(SELF *self, int t, const struct scenario *sc, struct refs *r)
{
	struct twin *tw = &self->tw[t];
	uint32_t j;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = setup_twin(tw, sc);
	if (ret) {
		failure(self, "%s: %s: setup: %s", sc->name, tw->role, errname(ret));
		return false;
	}
	take_snap(tw, &r->setup);
	ret = do_call(tw, &sc->call);
	if (ret) {
		failure(self, "%s: %s: the call fails without injection: %s", sc->name, tw->role,
			errname(ret));
		return false;
	}
	take_snap(tw, &r->ok);
	for (j = 0; j < sc->call.count; j++) {
		struct call b;

		if (sc->call.fd[j] < 0)
			continue;
		if (setup_twin(tw, sc))
			return false;
		b = bad_at(&sc->call, j);
		r->bad_ret[j] = do_call(tw, &b);
		take_snap(tw, &r->bad[j]);
		r->bad_valid[j] = true;
	}
	return true;
}

/* Both twins' reference states must be equal: the differential part. */
static bool compare_refs(SELF *self, const struct scenario *sc, const struct refs r[2])
{
	char a[256], b[256];
	uint32_t j;
	bool ok = true;

	if (memcmp(&r[0].setup, &r[1].setup, sizeof(struct snap)) ||
	    memcmp(&r[0].ok, &r[1].ok, sizeof(struct snap))) {
		describe_snap(&r[0].ok, a, sizeof(a));
		describe_snap(&r[1].ok, b, sizeof(b));
		failure(self, "%s: states differ without injection: oracle %s, subject %s",
			sc->name, a, b);
		ok = false;
	}
	for (j = 0; j < sc->call.count; j++) {
		if (!r[0].bad_valid[j])
			continue;
		if (r[0].bad_ret[j] != r[1].bad_ret[j] ||
		    memcmp(&r[0].bad[j], &r[1].bad[j], sizeof(struct snap))) {
			describe_snap(&r[0].bad[j], a, sizeof(a));
			describe_snap(&r[1].bad[j], b, sizeof(b));
			failure(self, "%s, bad eventfd at %u: oracle %s [%s], subject %s [%s]",
				sc->name, j, errname(r[0].bad_ret[j]), a,
				errname(r[1].bad_ret[j]), b);
			ok = false;
		}
	}
	return ok;
}

/* Whether s is a state a failed call may leave (see struct refs). */
static int failed_state_match(const struct refs *r, const struct snap *s)
{
	uint32_t j;

	if (!memcmp(s, &r->setup, sizeof(*s)))
		return -1;
	for (j = 0; j < MAXD; j++)
		if (r->bad_valid[j] && !memcmp(s, &r->bad[j], sizeof(*s)))
			return j;
	return -2;
}

/*
 * The errnos a failed allocation may come back as: those the drivers and
 * the kernel's MSI and interrupt-remapping code return for it (some
 * failures of the MSI-X enable come back as -EAGAIN from the kernel, for
 * both drivers at the same allocations), and whatever the oracle returned
 * in the same scenario.
 */
static bool oracle_errs[160];

static bool clean_errno(int ret)
{
	if (-ret < (int)ARRAY_SIZE(oracle_errs) && oracle_errs[-ret])
		return true;
	switch (-ret) {
	case ENOMEM:
	case ENOSPC:
	case EBUSY:
	case EINVAL:
	case ENODEV:
	case EBADF:
	case EAGAIN:
		return true;
	}
	return false;
}

/*
 * After an injected failure of the call (result ret): the state is one
 * upstream's roll-back gives, the call then succeeds, with the state of
 * an undisturbed call. Returns whether all held.
 */
static bool check_after(SELF *self, int t, const struct scenario *sc, const struct refs *r,
			int ret, const char *ctx)
{
	struct twin *tw = &self->tw[t];
	struct snap s;
	char a[256], b[256];
	int m;

	take_snap(tw, &s);
	if (ret == 0) {
		if (memcmp(&s, &r->ok, sizeof(s))) {
			describe_snap(&s, a, sizeof(a));
			describe_snap(&r->ok, b, sizeof(b));
			failure(self, "%s: succeeded, state %s, expected %s", ctx, a, b);
			return false;
		}
		return true;
	}
	if (ret < 0 && t == ORACLE && -ret < (int)ARRAY_SIZE(oracle_errs))
		oracle_errs[-ret] = true;
	else if (ret < 0 && !clean_errno(ret))
		failure(self, "%s: unexpected errno %s (not returned by vfio-pci in this scenario)",
			ctx, errname(ret));
	m = failed_state_match(r, &s);
	if (m == -2 || (ret > 0 && m != -1)) {
		describe_snap(&s, a, sizeof(a));
		describe_snap(&r->setup, b, sizeof(b));
		failure(self, "%s: returned %s, state %s: not as before (%s), nor a roll-back",
			ctx, errname(ret), a, b);
		return false;
	}
	/* The next call succeeds and does what it should. */
	ret = do_call(tw, &sc->call);
	take_snap(tw, &s);
	if (ret || memcmp(&s, &r->ok, sizeof(s))) {
		describe_snap(&s, a, sizeof(a));
		describe_snap(&r->ok, b, sizeof(b));
		failure(self, "%s: the next call returned %s, state %s, expected 0, %s", ctx,
			errname(ret), a, b);
		return false;
	}
	return true;
}

/* The N to sweep: all of 1..total, or about max of them. */
static bool sweep_next(unsigned int *n, unsigned int total, unsigned int max)
{
	unsigned int step = !max || total <= max ? 1 : (total + max - 1) / max;

	if (*n == 0) {
		*n = 1;
		return total > 0;
	}
	/* The first few sites one by one: setup work of the call. */
	*n += *n < 4 ? 1 : step;
	return *n <= total;
}

static void failslab_sweep(SELF *self, int t, const struct scenario *sc, const struct refs *r,
			   unsigned int max)
{
	struct twin *tw = &self->tw[t];
	unsigned int total, n = 0, hits = 0;
	char ctx[256];
	int ret;
	bool hit;

	if (setup_twin(tw, sc))
		return;
	total = count_sites(tw, &sc->call, &ret);
	if (ret) {
		failure(self, "%s: %s: the call fails while counting: %s", sc->name, tw->role,
			errname(ret));
		return;
	}
	progress("failslab: %s: %s: %u allocations", sc->name, tw->role, total);
	while (sweep_next(&n, total, max)) {
		if (getenv("VPI_KMSG"))
			progress("failslab: %s: %s: allocation %u", sc->name, tw->role, n);
		ret = setup_twin(tw, sc);
		if (ret) {
			failure(self, "%s: %s: setup: %s", sc->name, tw->role, errname(ret));
			return;
		}
		ret = call_nth(tw, &sc->call, n, &hit);
		self->sc.ops++;
		if (!hit)
			continue;
		hits++;
		self->sc.faults++;
		if (ret < 0 && -ret < 160)
			self->errs[t][-ret]++;
		else if (!ret)
			self->zero_with_fault[t]++;
		snprintf(ctx, sizeof(ctx), "%s: %s: failslab, allocation %u of %u", sc->name,
			 tw->role, n, total);
		if (getenv("VPI_VERBOSE"))
			vfio_note("%s -> %s", ctx, errname(ret));
		if (check_after(self, t, sc, r, ret, ctx))
			self->sc.survived++;
	}
	vfio_note("%s: %s: %u allocations, %u failed in turn", sc->name, tw->role, total, hits);
}

static void ff_sweep(SELF *self, const struct scenario *sc, const struct refs ref[2], int k)
{
	struct twin *tw = &self->tw[SUBJECT];
	const char *fn = sc->fn[k];
	int err = sc->fn_err[k], ret, j;
	unsigned int n, hits = 0;
	char ctx[256], a[256], b[256];
	struct snap s;
	bool hit;

	if (!ff_available(fn)) {
		failure(self, "%s: fail_function cannot target %s (not in error_injection/list)",
			sc->name, fn);
		return;
	}
	ret = ff_attach(fn, err);
	if (ret) {
		failure(self, "fail_function on %s: %s", fn, strerror(-ret));
		ff_detach();
		return;
	}
	progress("fail_function: %s: %s", sc->name, fn);
	for (n = 1; n <= 64; n++) {
		if (getenv("VPI_KMSG"))
			progress("fail_function: %s: %s call %u", sc->name, fn, n);
		ret = setup_twin(tw, sc);
		if (ret) {
			failure(self, "%s: setup: %s", sc->name, errname(ret));
			break;
		}
		ret = call_ff(tw, &sc->call, n, &hit);
		self->sc.ops++;
		if (!hit)
			break;
		hits++;
		self->sc.faults++;
		snprintf(ctx, sizeof(ctx), "%s: %s fails (%s) at its call %u", sc->name, fn,
			 errname(err), n);
		if (ret != err) {
			failure(self, "%s: the call returned %s, not the injected %s", ctx,
				errname(ret), errname(err));
			continue;
		}
		/*
		 * Where upstream would fail the same way: the eventfd and the
		 * request of the nth vector with an eventfd; elsewhere any
		 * vector's failure state (or none changed) is upstream's.
		 */
		take_snap(tw, &s);
		j = failed_state_match(&ref[ORACLE], &s);
		if (!strcmp(fn, FDGET) || (!strcmp(fn, REQUEST_IRQ) && !tw->ims)) {
			int want = -1, seen = 0, i;

			for (i = 0; i < (int)sc->call.count; i++)
				if (sc->call.fd[i] >= 0 && ++seen == (int)n)
					want = i;
			if (want >= 0 && memcmp(&s, &ref[ORACLE].bad[want], sizeof(s))) {
				describe_snap(&s, a, sizeof(a));
				describe_snap(&ref[ORACLE].bad[want], b, sizeof(b));
				failure(self,
					"%s: state %s; vfio-pci with a bad eventfd at element %d: %s",
					ctx, a, want, b);
				continue;
			}
		} else if (j == -2) {
			describe_snap(&s, a, sizeof(a));
			failure(self, "%s: state %s is no state upstream's roll-back leaves",
				ctx, a);
			continue;
		}
		if (check_after(self, SUBJECT, sc, &ref[SUBJECT], ret, ctx))
			self->sc.survived++;
	}
	ff_detach();
	vfio_note("%s: %s: %u calls failed in turn", sc->name, fn, hits);
}

/* The twin's device raises interrupts; each lands once (edu, igb). */
static void device_check(SELF *self, int t)
{
	struct twin *tw = &self->tw[t];
	int fds[IGB_MSIX_VECTORS], v, nv, ret;
	uint64_t cnt;

	if (!self->model)
		return;
	progress("device check: %s", tw->role);
	reset_twin(tw);
	ret = vfio_command_set(&tw->dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (!strcmp(self->model, "igb")) {
		nv = IGB_MSIX_VECTORS;
		for (v = 0; v < nv; v++)
			fds[v] = tw->pool[v % POOL];
		ret = ret ?: vfio_bar_write32(&tw->dev, IGB_BAR, IGB_GPIE, IGB_GPIE_MULTIPLE_MSIX);
		for (v = 0; !ret && v < nv; v++)
			ret = vfio_bar_write32(&tw->dev, IGB_BAR, IGB_EITR(v), 0);
		ret = ret ?: vfio_bar_write32(&tw->dev, IGB_BAR, IGB_EIAC, IGB_MSIX_ALL);
		ret = ret ?: vfio_bar_write32(&tw->dev, IGB_BAR, IGB_EIMS, IGB_MSIX_ALL);
		ret = ret ?: vfio_irq_set_eventfds(&tw->dev, MSIX, 0, POOL, fds);
		for (v = 0; !ret && v < POOL; v++) {
			ret = vfio_bar_write32(&tw->dev, IGB_BAR, IGB_EICS, 1u << v);
			self->sc.raised++;
			if (!ret && (vfio_eventfd_wait(fds[v], WAIT_MS, &cnt) != 1 || cnt != 1))
				failure(self, "%s: MSI-X vector %d raised: counted %llu",
					tw->role, v, (unsigned long long)cnt);
			self->sc.counted += cnt;
		}
	} else {
		ret = ret ?: vfio_irq_set_eventfds(&tw->dev, MSI, 0, 1, &tw->pool[0]);
		ret = ret ?: vfio_edu_raise(&tw->dev, 1);
		self->sc.raised++;
		if (!ret && (vfio_eventfd_wait(tw->pool[0], WAIT_MS, &cnt) != 1 || cnt != 1))
			failure(self, "%s: MSI raised by the device: counted %llu", tw->role,
				(unsigned long long)cnt);
		self->sc.counted += cnt;
		vfio_edu_ack(&tw->dev);
	}
	if (ret)
		failure(self, "%s: device check: %s (%s)", tw->role, strerror(-ret), tw->dev.err);
	usleep(100000);
	if (signalled(tw) != -1)
		failure(self, "%s: device check: more counts than interrupts raised", tw->role);
	reset_twin(tw);
}

static unsigned int sweep_max(void)
{
	return stress_mode() ? 0 : stress_env_ul("VPI_FAULT_SAMPLES", 6);
}

static void print_errnos(SELF *self)
{
	char s[2][256];
	int t, e;

	for (t = ORACLE; t <= SUBJECT; t++) {
		size_t o = 0;

		s[t][0] = '\0';
		for (e = 1; e < 160; e++)
			if (self->errs[t][e] && o < sizeof(s[t]))
				o += snprintf(s[t] + o, sizeof(s[t]) - o, " -%s:%lu",
					      strerrorname_np(e) ?: "?", self->errs[t][e]);
		if (o < sizeof(s[t]))
			snprintf(s[t] + o, sizeof(s[t]) - o, " success:%lu",
				 self->zero_with_fault[t]);
	}
	vfio_note("failslab results: oracle%s; subject%s", s[ORACLE], s[SUBJECT]);
}

/* failslab on both twins, every scenario. */
TEST_F_TIMEOUT(fault, failslab, 3600)
{
	unsigned int max = sweep_max();
	size_t i;
	int t;

	progress("failslab: start");
	vfio_note("%s: failslab sweeps, %s", self->model ?: "unknown model",
		  max ? "sampled" : "every allocation");
	for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct refs r[2];

		if (!applies(&self->tw[ORACLE], sc))
			continue;
		self->sc.seqs++;
		if (!compute_refs(self, ORACLE, sc, &r[ORACLE]) ||
		    !compute_refs(self, SUBJECT, sc, &r[SUBJECT]) ||
		    !compare_refs(self, sc, r))
			continue;
		memset(oracle_errs, 0, sizeof(oracle_errs));
		for (t = ORACLE; t <= SUBJECT; t++)
			failslab_sweep(self, t, sc, &r[t], max);
	}
	print_errnos(self);
	for (t = ORACLE; t <= SUBJECT; t++)
		device_check(self, t);
	finish(_metadata, self, "failslab");
}

/*
 * fail_function on the module's injection points, on the subject. Only
 * with VPI_FAIL_FUNCTION=1: on Linux 6.12 an injection makes lockdep report
 * "inconsistent {INITIAL USE} -> {IN-NMI} usage" of crngs.lock, in the
 * fault injection code itself (should_fail_ex() calls get_random_u32_below()
 * from the kprobe's int3 handler, an NMI-like context), which fails the run
 * whatever the driver does and turns lockdep off for the rest of it. The
 * failslab sweeps make the same helpers fail (their allocations) in task
 * context, without it.
 */
TEST_F_TIMEOUT(fault, fail_function, 3600)
{
	size_t i;
	int k;

	progress("fail_function: start");
	if (access(FAILFN, F_OK))
		SKIP(return, "no " FAILFN " (CONFIG_FAIL_FUNCTION)");
	if (!stress_env_ul("VPI_FAIL_FUNCTION", 0))
		SKIP(return, "%s", NO_FAIL_FUNCTION);
	for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct refs r[2];

		if (!applies(&self->tw[ORACLE], sc) || !sc->fn[0])
			continue;
		self->sc.seqs++;
		if (!compute_refs(self, ORACLE, sc, &r[ORACLE]) ||
		    !compute_refs(self, SUBJECT, sc, &r[SUBJECT]) ||
		    !compare_refs(self, sc, r))
			continue;
		for (k = 0; k < 4 && sc->fn[k]; k++) {
			/* Only a dynamic MSI-X allocates vectors one at a time. */
			if (!strcmp(sc->fn[k], MSIX_ALLOC_AT) &&
			    !ff_available(MSIX_ALLOC_AT))
				continue;
			ff_sweep(self, sc, r, k);
		}
	}
	device_check(self, SUBJECT);
	finish(_metadata, self, "fail_function");
}

/*
 * Random calls on the subject with failslab failing its allocations at
 * random (probability 5%, this task only); after each: a reset, and every
 * few calls a working-device check.
 */
TEST_F_TIMEOUT(fault, random, 3600)
{
	unsigned long secs = stress_budget("VPI_FAULT_SECONDS", 3);
	struct twin *tw = &self->tw[SUBJECT];
	const char *env = getenv("VPI_SEED");
	unsigned int seed = env && *env ? strtoul(env, NULL, 0) : (unsigned int)time(NULL);
	double end = stress_now() + secs;
	int ret, prob, i;

	progress("random: start");
	vfio_note("random failslab (3%%) on the subject for %lu s, seed %u", secs, seed);
	ASSERT_EQ(0, knob_set(FAILSLAB "/task-filter", "Y"));
	ASSERT_EQ(0, knob_set(FAILSLAB "/interval", "1"));
	ASSERT_EQ(0, knob_set(FAILSLAB "/times", "-1"));
	ASSERT_EQ(0, knob_set(FAILSLAB "/space", "0"));
	/* Opened once: opening a file allocates, and would fail too. */
	prob = open(FAILSLAB "/probability", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, prob);
	ASSERT_EQ(0, wfile(MAKE_IT_FAIL, "1"));
	while (stress_now() < end && self->failures < 20) {
		const struct scenario *sc = &scenarios[rand_r(&seed) % ARRAY_SIZE(scenarios)];
		struct refs r;

		if (!applies(tw, sc))
			continue;
		if (!self->sc.seqs++ || !(self->sc.seqs % 8))
			device_check(self, SUBJECT);
		if (!compute_refs(self, SUBJECT, sc, &r) || setup_twin(tw, sc))
			continue;
		if (getenv("VPI_KMSG"))
			progress("random: %s", sc->name);
		/* Only the call runs with failures on. */
		build(tw, &sc->call);
		/* (debugfs files do not seek: write(), not pwrite()) */
		if (write(prob, "3", 1) != 1)
			failure(self, "failslab probability: %s", strerror(errno));
		ret = issue(tw);
		/* A write that fails leaves failures on: try hard. */
		for (i = 0; write(prob, "0", 1) != 1; i++) {
			if (i == 1000) {
				failure(self, "failslab probability stays on: %s",
					strerror(errno));
				break;
			}
		}
		self->sc.ops++;
		if (ret) {
			char ctx[256];

			self->sc.faults++;
			snprintf(ctx, sizeof(ctx), "%s: random failslab", sc->name);
			if (check_after(self, SUBJECT, sc, &r, ret, ctx))
				self->sc.survived++;
		}
	}
	wfile(MAKE_IT_FAIL, "0");
	close(prob);
	device_check(self, SUBJECT);
	finish(_metadata, self, "random");
}

/* --- IMS (edu pair run only) ---------------------------------------- */

#define VIDXD		"vpi-vidxd"
#define VIDXD_MOD	"vpi_vidxd"
#define VIDXD_DBG	DBG "/vpi-vidxd"
#define VIDXD_TYPE	"vpi-vidxd-vdev"

static bool module_loaded(const char *name)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, strlen(name)) && line[strlen(name)] == ' ';
	fclose(f);
	return found;
}

/*
 * The IMS environment, set up by main() in the edu pair's run only (once
 * per suite): vpi_vidxd.ko loaded from the test's directory unless it is
 * loaded, the PF ($VPI_VIDXD_BDF, default 0000:00:08.0) bound to it unless
 * it is; undone at exit. ims_skip says why the IMS test skips.
 */
static char ims_pf[32], ims_skip[256];
static bool ims_loaded, ims_bound;
static pid_t main_pid;

static void ims_env_cleanup(void)
{
	char path[PATH_MAX];

	if (getpid() != main_pid)
		return;
	if (ims_bound) {
		wfile("/sys/bus/pci/drivers/" VIDXD "/unbind", "%s", ims_pf);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", ims_pf);
		wfile(path, "\n");
	}
	if (ims_loaded)
		syscall(SYS_delete_module, VIDXD_MOD, O_NONBLOCK);
}

static void ims_env_setup(void)
{
	const char *pf = getenv("VPI_VIDXD_BDF"), *oracle = getenv("VPI_ORACLE_BDF");
	char path[PATH_MAX], exe[PATH_MAX], dev[32] = "", *slash;
	ssize_t n;
	int fd, ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", oracle);
	rfile(path, dev, sizeof(dev));
	if (strcmp(dev, "0x11e8") && !getenv("VPI_FAULT_IMS")) {
		snprintf(ims_skip, sizeof(ims_skip), "the IMS sweeps run in the edu pair's run");
		return;
	}
	snprintf(ims_pf, sizeof(ims_pf), "%s", pf && *pf ? pf : "0000:00:08.0");
	if (!module_loaded(VIDXD_MOD)) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 32);
		if (n <= 0) {
			snprintf(ims_skip, sizeof(ims_skip), "readlink /proc/self/exe failed");
			return;
		}
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		snprintf(slash + 1, sizeof(exe) - (slash + 1 - exe), VIDXD_MOD ".ko");
		fd = open(exe, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(ims_skip, sizeof(ims_skip), "no %.200s", exe);
			return;
		}
		ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
		close(fd);
		if (ret) {
			snprintf(ims_skip, sizeof(ims_skip), "loading %.200s: %s", exe,
				 strerror(-ret));
			return;
		}
		ims_loaded = true;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/" VIDXD "/%s", ims_pf);
	if (!access(path, F_OK))
		return;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", ims_pf);
	if (!access(path, F_OK)) {
		snprintf(ims_skip, sizeof(ims_skip), "%s is bound to another driver", ims_pf);
		return;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", ims_pf);
	ret = wfile(path, VIDXD);
	if (!ret)
		ret = wfile("/sys/bus/pci/drivers/" VIDXD "/bind", "%s", ims_pf);
	if (ret) {
		snprintf(ims_skip, sizeof(ims_skip), "binding %s to " VIDXD ": %s", ims_pf,
			 strerror(-ret));
		wfile(path, "\n");
		return;
	}
	ims_bound = true;
}

FIXTURE(ims) {
	struct twin tw;
	char uuid[40];
	bool created;
	int kmsg;
	double t0;
};

static void ims_remove(struct _test_data_ims *self)
{
	char path[PATH_MAX];

	twin_close(&self->tw);
	twin_init(&self->tw, "vidxd");
	if (self->created) {
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", self->uuid);
		wfile(path, "1");
	}
	self->created = false;
}

FIXTURE_SETUP(ims)
{
	char path[PATH_MAX], buf[256];
	int i, ret;

	self->kmsg = stress_kmsg_open();
	self->t0 = stress_now();
	twin_init(&self->tw, "vidxd");
	if (ims_skip[0])
		SKIP(return, "%s", ims_skip);
	ASSERT_EQ(0, rfile("/proc/sys/kernel/random/uuid", self->uuid, sizeof(self->uuid)));
	snprintf(path, sizeof(path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/" VIDXD_TYPE "/create", ims_pf);
	ASSERT_EQ(0, wfile(path, "%s", self->uuid));
	self->created = true;
	snprintf(path, sizeof(path), VIDXD_DBG "/%s/slots", ims_pf);
	if (rfile(path, buf, sizeof(buf)) || !strstr(buf, "ims=1")) {
		ims_remove(self);
		SKIP(return, "no IMS domain on %s", ims_pf);
	}
	ret = twin_open(&self->tw, self->uuid);
	if (ret) {
		ims_remove(self);
		if (ret == -EOPNOTSUPP)
			SKIP(return, "kernel without PCI/IMS");
		ASSERT_EQ(0, ret) TH_LOG("opening %s: %s", self->uuid, strerror(-ret));
	}
	self->tw.ims = true;
	for (i = 0; i < NUM_IRQS; i++)
		if (i != MSIX && i != REQ)
			self->tw.n[i] = 0;
	ret = failslab_arm();
	if (ret)
		ims_remove(self);
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(ims)
{
	knobs_restore();
	ims_remove(self);
}

/* The IMS twin as a fault fixture's subject, for the shared helpers. */
static void ims_as_fault(struct _test_data_ims *self, SELF *f)
{
	memset(f, 0, sizeof(*f));
	f->tw[SUBJECT] = self->tw;
	f->tw[ORACLE] = self->tw;
	f->model = NULL;
}

/* Fires vector v of the virtual device: lands once on its eventfd. */
static void ims_fire_check(struct _test_data_ims *self, SELF *f, int v, int e)
{
	char path[PATH_MAX];
	uint64_t cnt = 0;
	int ret;

	snprintf(path, sizeof(path), VIDXD_DBG "/%s/fire", self->uuid);
	ret = wfile(path, "%d", v);
	f->sc.raised++;
	if (ret || vfio_eventfd_wait(self->tw.pool[e], 5000, &cnt) != 1 || cnt != 1)
		failure(f, "IMS vector %d fired (%s): counted %llu on e%d", v,
			ret ? strerror(-ret) : "ok", (unsigned long long)cnt, e);
	f->sc.counted += cnt;
}

TEST_F_TIMEOUT(ims, sweeps, 3600)
{
	bool ff = stress_env_ul("VPI_FAIL_FUNCTION", 0) && !access(FAILFN, F_OK);
	unsigned int max = sweep_max();
	SELF *f = calloc(1, sizeof(*f));
	size_t i;
	int k;

	ASSERT_NE(NULL, f);
	ims_as_fault(self, f);
	for (i = 0; i < ARRAY_SIZE(ims_scenarios); i++) {
		const struct scenario *sc = &ims_scenarios[i];
		struct refs r[2];

		f->sc.seqs++;
		if (!compute_refs(f, SUBJECT, sc, &r[SUBJECT]))
			continue;
		r[ORACLE] = r[SUBJECT];
		memset(oracle_errs, 0, sizeof(oracle_errs));
		failslab_sweep(f, SUBJECT, sc, &r[SUBJECT], max);
		/* fail_function: see the fault fixture's test. */
		for (k = 0; ff && k < 4 && sc->fn[k]; k++)
			ff_sweep(f, sc, r, k);
	}
	/* Still working: vectors 1 and 4 fired by edu DMA, once each. */
	reset_twin(&self->tw);
	ASSERT_EQ(0, do_call(&self->tw, &(struct call)C(MSIX, TRIG, 0, 0, 1, 2, 3, 4)));
	ims_fire_check(self, f, 1, 1);
	ims_fire_check(self, f, 4, 4);
	reset_twin(&self->tw);
	knobs_restore();
	f->sc.splats = stress_kmsg_splats(self->kmsg);
	stress_summary("vfio_fault_test", "ims", &f->sc, stress_now() - self->t0);
	ASSERT_EQ(0, f->failures);
	ASSERT_EQ(0, f->sc.splats);
	free(f);
}

/* --- kmemleak --------------------------------------------------------- */

/*
 * What the injected failures may have leaked: a kmemleak scan (objects
 * must be 5 s old to count). The runner scans again at the end of the
 * whole run.
 */
TEST_F_TIMEOUT(fault, kmemleak, 120)
{
	char buf[4096];
	ssize_t n;
	int fd, leaks = 0;

	progress("kmemleak: start");
	if (access(KMEMLEAK, W_OK))
		SKIP(return, "no " KMEMLEAK);
	/* A scan takes a minute: the runner scans at the end of make check. */
	if (!stress_mode())
		SKIP(return, "%s", NO_KMEMLEAK_HERE);
	sleep(6);
	ASSERT_EQ(0, wfile(KMEMLEAK, "scan"));
	fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		char *line;

		buf[n] = '\0';
		for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			leaks += !!strstr(line, "unreferenced object");
			if (leaks && leaks < 10)
				vfio_note("kmemleak: %s", line);
		}
	}
	close(fd);
	self->sc.seqs = 1;
	self->sc.mismatches = leaks;
	finish(_metadata, self, "kmemleak");
	ASSERT_EQ(0, leaks) TH_LOG("kmemleak reports %d unreferenced objects", leaks);
}

int main(int argc, char **argv)
{
	const char *oracle = getenv("VPI_ORACLE_BDF"), *subject = getenv("VPI_BDF");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!oracle || !*oracle || !subject || !*subject) {
		ksft_print_header();
		ksft_exit_skip("set VPI_ORACLE_BDF (vfio-pci) and VPI_BDF (vfio-pci-intrs)\n");
	}
	vfio_note("oracle %s, subject %s", oracle, subject);
	main_pid = getpid();
	ims_env_setup();
	atexit(ims_env_cleanup);
	return test_harness_run(argc, argv);
}
