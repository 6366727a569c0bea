// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of VFIO_DEVICE_SET_IRQS and VFIO_DEVICE_GET_IRQ_INFO:
 * two twin devices of the same model are opened in one process, the oracle
 * ($VPI_ORACLE_BDF, bound to upstream vfio-pci) and the subject ($VPI_BDF,
 * bound to vfio-pci-intrs). Every call goes to both, from the same state,
 * and everything user space can observe must be identical: return values
 * and errnos, GET_IRQ_INFO contents, and which eventfd a loopback trigger
 * signals, vector by vector.
 *
 * - table: from each state (none, INTx enabled with and without an unmask
 *   eventfd, MSI enabled, MSI-X enabled, ERR and REQ triggers set),
 *   GET_IRQ_INFO of every index with bad argsz, bad indexes and faulting
 *   buffers, then a table of SET_IRQS requests: every index x action x
 *   data type of upstream's dispatch, and the checks of
 *   vfio_set_irqs_validate_and_prepare(). Each result must also be the one
 *   the spec gives (upstream 6.12's behaviour, written down here). After
 *   each request both devices are compared, then disabled, and must both
 *   be clean again (see run_row()).
 * - random_sequence: seeded random sequences of valid and malformed
 *   requests (argsz, flags, start/count overflow, closed and non-eventfd
 *   fds, huge counts, faulting buffers), GET_IRQ_INFO, config-space writes
 *   (command register with INTx-disable, memory and bus master; MSI and
 *   MSI-X flags), interrupts raised by the devices (edu IRQ_RAISE, igb EICS
 *   and ICS) and acknowledged, eventfd recycling, device reset, close and
 *   reopen; compared after each one (eventfd counts once both twins have
 *   settled) and checked by loopback every few operations. One seed per
 *   sequence, each starting from freshly opened devices, printed as
 *   "# seed: N"; sequences run until a time budget is used up (30 s, or
 *   VPI_STRESS_SECONDS with VPI_STRESS=1, or VPI_DIFF_BUDGET). A mismatch
 *   names the seed and the operation, and VPI_SEED=N replays that one
 *   sequence (without the table; VPI_DIFF_SEQS=n: n sequences from seed
 *   N on); VPI_VERBOSE=1 (2) traces it (with the
 *   physical registers), VPI_DIFF_SKIP=a-b,c leaves operations out. The
 *   test ends with a "# summary:" line (vfio_stress.h).
 *
 * Each twin has its own pool of eventfds; a request names pool entries,
 * which map to each twin's own eventfd with the same index.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

#define POOL		8	/* eventfds per twin */
/*
 * Random sequences use pool entries 0 to TRIG_POOL - 1 for triggers and
 * the others for INTx unmask eventfds, and signal the latter themselves
 * (OP_SIGNAL), as a VMM's resampler would. An unmask eventfd that is also
 * the trigger feeds itself: upstream's INTx handler signals it, which
 * unmasks the still asserted line at once. On an exclusive line
 * (nointxmask) upstream does so from the handler: an interrupt storm that
 * locks the CPUs up (vfio-pci-intrs defers it, see vfio_intx_test); with
 * DisINTx masking, and in vfio-pci-intrs, a kworker loop whose counts race
 * with the eventfd's reader and so cannot be compared.
 */
#define TRIG_POOL	6
#define MAX_VEC		64	/* vectors a snapshot loops back */
#define MAX_ELEMS	64	/* data elements of a request */
#define MAX_PAYLOAD	4096	/* data elements actually written */

#define HDR_SZ		((uint32_t)offsetof(struct vfio_irq_set, data))
#define INFO_SZ		((uint32_t)sizeof(struct vfio_irq_info))

#define DATA_NONE	VFIO_IRQ_SET_DATA_NONE
#define DATA_BOOL	VFIO_IRQ_SET_DATA_BOOL
#define DATA_EFD	VFIO_IRQ_SET_DATA_EVENTFD
#define MASK		VFIO_IRQ_SET_ACTION_MASK
#define UNMASK		VFIO_IRQ_SET_ACTION_UNMASK
#define TRIG		VFIO_IRQ_SET_ACTION_TRIGGER

#define INTX		VFIO_PCI_INTX_IRQ_INDEX
#define MSI		VFIO_PCI_MSI_IRQ_INDEX
#define MSIX		VFIO_PCI_MSIX_IRQ_INDEX
#define ERR		VFIO_PCI_ERR_IRQ_INDEX
#define REQ		VFIO_PCI_REQ_IRQ_INDEX

/*
 * Symbolic file descriptors in requests: a pool entry, a descriptor that
 * is not open, the read end of a pipe (open, but no eventfd), one beyond
 * any descriptor table. Other values (-1, -5, INT_MIN) are used as is.
 */
#define FD_POOL(i)	(1000 + (i))
#define FD_CLOSED	2000
#define FD_PIPE		2001
#define FD_HUGE		2002
#define CLOSED_FD_NUM	900
#define HUGE_FD_NUM	0x1000000

/* Where a request's argument is, when it is not a normal buffer. */
enum fault {
	FAULT_NONE,
	FAULT_DATA,	/* header readable, data in an unmapped page */
	FAULT_HDR,	/* header crosses into an unmapped page */
	FAULT_NULL,	/* NULL argument */
	FAULT_RO,	/* GET_IRQ_INFO: read-only buffer */
};

/* A SET_IRQS request, with symbolic file descriptors. */
struct req {
	uint32_t flags;
	uint32_t index;
	uint32_t start;
	uint32_t count;
	bool has_argsz;		/* else argsz = header + count elements */
	uint32_t argsz;
	int ndata;		/* elements given; the rest are -1 or 0 */
	int32_t fd[MAX_ELEMS];
	uint8_t b[MAX_ELEMS];
	enum fault fault;
};

/* A GET_IRQ_INFO request. */
struct info_req {
	uint32_t index;
	uint32_t argsz;
	enum fault fault;
};

/* The result of GET_IRQ_INFO: return value and the whole buffer after. */
#define INFO_BUF	32
#define INFO_PATTERN	0xa5
struct info_res {
	int ret;
	uint8_t buf[INFO_BUF];
};

struct twin {
	const char *role;
	struct vfio_dev dev;
	int pool[POOL];
	unsigned int irq;	/* Linux interrupt of its INTx line, 0 if unknown */
};

/*
 * What loopback triggers and harmless probes show of a device's interrupt
 * state: which of INTx, MSI and MSI-X accepts a DATA_BOOL false trigger
 * (only the enabled type does), then for the enabled type which pool
 * eventfd each vector signals, and whether ERR and REQ have a trigger.
 */
struct snap {
	int probe[3];
	int vret[3][MAX_VEC];
	uint8_t vcnt[3][MAX_VEC][POOL];
	int sret[2];
	uint8_t scnt[2][POOL];
};

/* Device models the GET_IRQ_INFO expectations know. */
struct model {
	uint16_t vendor;
	uint16_t device;
	const char *name;
	uint32_t msi;		/* MSI vectors */
	uint32_t msix;		/* MSI-X table size, 0 without MSI-X */
	bool pcie;
};

static const struct model models[] = {
	/* QEMU edu: INTx pin A, one MSI vector, conventional PCI. */
	{ 0x1234, 0x11e8, "edu", 1, 0, false },
	/* QEMU igb (82576): one MSI vector, 10 MSI-X vectors, PCIe. */
	{ 0x8086, 0x10c9, "igb", 1, 10, true },
};

/* The states a table runs its requests from. */
enum state {
	S_NONE,
	S_INTX,
	S_MSI,
	S_MSIX,
	S_INTX_RS,	/* INTx with an unmask (resample) eventfd */
	S_SINGLE,	/* ERR and REQ triggers set, nothing else enabled */
};

static const char * const state_names[] = {
	"none", "intx", "msi", "msix", "intx+resample", "err+req",
};

/*
 * A table row: a request and its expected result per state. 0 in exp[]
 * means "not given"; success is OK. rs (INTx with unmask eventfd) falls
 * back to exp[S_INTX], single (ERR/REQ set) to exp[S_NONE].
 */
#define OK	INT_MAX
#define DYN	(INT_MAX - 1)	/* success with dynamic MSI-X, else -EINVAL */
#define NREL_BASE	0x10000000000LL
#define NREL(k)		(NREL_BASE + (k))	/* the index's count + k */
#define FILL		(-1)			/* count elements, see fill */

struct row {
	const char *name;
	uint32_t flags;
	uint32_t index;
	int64_t start;
	int64_t count;
	bool has_argsz;
	uint32_t argsz;
	int ndata;
	int32_t fd[8];
	uint8_t b[8];
	enum fault fault;
	int exp[4];
	int rs;
	int single;
};

#define NARGS32(...)	((int)(sizeof((int32_t[]){ __VA_ARGS__ }) / sizeof(int32_t)))
#define NARGS8(...)	((int)(sizeof((uint8_t[]){ __VA_ARGS__ }) / sizeof(uint8_t)))
#define FDS(...)	.ndata = NARGS32(__VA_ARGS__), .fd = { __VA_ARGS__ }
#define BOOLS(...)	.ndata = NARGS8(__VA_ARGS__), .b = { __VA_ARGS__ }
#define ARGSZ(v)	.has_argsz = true, .argsz = (v)
#define RQ(fl, idx, st, cnt) \
	.flags = (fl), .index = (idx), .start = (st), .count = (cnt)
/* Expected per state: none, INTx, MSI, MSI-X. */
#define X(none, intx, msi, msix)	.exp = { none, intx, msi, msix }
#define ALL(v)				.exp = { [0 ... 3] = (v) }
/* ERR and REQ: without a trigger (any interrupt type), with one. */
#define ES(unset, set)			ALL(unset), .single = (set)

#define EI	(-EINVAL)
#define NT	(-ENOTTY)
#define EB	(-EBADF)
#define EBSY	(-EBUSY)
#define ERNG	(-ERANGE)
#define EFLT	(-EFAULT)

#define E0	FD_POOL(0)
#define E1	FD_POOL(1)
#define E5	FD_POOL(5)
#define E6	FD_POOL(6)

/*
 * Upstream 6.12 (spec-notes §2.2-2.7). Validation failures are computed
 * from the index counts (expect_validate()); exp[] is what the dispatcher
 * returns once validation passed.
 */
static const struct row rows[] = {
	/* INTx: MASK and UNMASK need INTx enabled, start 0, count 1. */
	{ "intx mask none", RQ(DATA_NONE | MASK, INTX, 0, 1), X(EI, OK, EI, EI) },
	{ "intx mask bool 1", RQ(DATA_BOOL | MASK, INTX, 0, 1), BOOLS(1), X(EI, OK, EI, EI) },
	{ "intx mask bool 0", RQ(DATA_BOOL | MASK, INTX, 0, 1), BOOLS(0), X(EI, OK, EI, EI) },
	{ "intx mask eventfd", RQ(DATA_EFD | MASK, INTX, 0, 1), FDS(E1), X(EI, NT, EI, EI) },
	{ "intx mask eventfd -1", RQ(DATA_EFD | MASK, INTX, 0, 1), FDS(-1), X(EI, NT, EI, EI) },
	{ "intx mask eventfd pipe", RQ(DATA_EFD | MASK, INTX, 0, 1), FDS(FD_PIPE),
	  X(EI, NT, EI, EI) },
	{ "intx mask none count 0", RQ(DATA_NONE | MASK, INTX, 0, 0), ALL(EI) },
	{ "intx mask bool count 0", RQ(DATA_BOOL | MASK, INTX, 0, 0), ALL(EI) },
	{ "intx unmask none", RQ(DATA_NONE | UNMASK, INTX, 0, 1), X(EI, OK, EI, EI) },
	{ "intx unmask bool 1", RQ(DATA_BOOL | UNMASK, INTX, 0, 1), BOOLS(1), X(EI, OK, EI, EI) },
	{ "intx unmask bool 0", RQ(DATA_BOOL | UNMASK, INTX, 0, 1), BOOLS(0), X(EI, OK, EI, EI) },
	{ "intx unmask none count 0", RQ(DATA_NONE | UNMASK, INTX, 0, 0), ALL(EI) },
	/* The unmask eventfd: EBUSY only once the fd is known good. */
	{ "intx unmask eventfd", RQ(DATA_EFD | UNMASK, INTX, 0, 1), FDS(E1),
	  X(EI, OK, EI, EI), .rs = EBSY },
	{ "intx unmask eventfd = resample fd", RQ(DATA_EFD | UNMASK, INTX, 0, 1), FDS(E5),
	  X(EI, OK, EI, EI), .rs = EBSY },
	{ "intx unmask eventfd = trigger fd", RQ(DATA_EFD | UNMASK, INTX, 0, 1), FDS(E0),
	  X(EI, OK, EI, EI), .rs = EBSY },
	{ "intx unmask eventfd -1", RQ(DATA_EFD | UNMASK, INTX, 0, 1), FDS(-1),
	  X(EI, OK, EI, EI) },
	{ "intx unmask eventfd -5", RQ(DATA_EFD | UNMASK, INTX, 0, 1), FDS(-5),
	  X(EI, OK, EI, EI) },
	{ "intx unmask eventfd INT_MIN", RQ(DATA_EFD | UNMASK, INTX, 0, 1), FDS(INT_MIN),
	  X(EI, OK, EI, EI) },
	{ "intx unmask eventfd closed fd", RQ(DATA_EFD | UNMASK, INTX, 0, 1), FDS(FD_CLOSED),
	  X(EI, EB, EI, EI) },
	{ "intx unmask eventfd huge fd", RQ(DATA_EFD | UNMASK, INTX, 0, 1), FDS(FD_HUGE),
	  X(EI, EB, EI, EI) },
	{ "intx unmask eventfd pipe", RQ(DATA_EFD | UNMASK, INTX, 0, 1), FDS(FD_PIPE),
	  X(EI, EI, EI, EI) },
	{ "intx unmask eventfd count 0", RQ(DATA_EFD | UNMASK, INTX, 0, 0), ALL(EI) },
	/* INTx TRIGGER. */
	{ "intx disable", RQ(DATA_NONE | TRIG, INTX, 0, 0), X(EI, OK, EI, EI) },
	{ "intx loopback none", RQ(DATA_NONE | TRIG, INTX, 0, 1), X(EI, OK, EI, EI) },
	{ "intx loopback bool 1", RQ(DATA_BOOL | TRIG, INTX, 0, 1), BOOLS(1), X(EI, OK, EI, EI) },
	{ "intx loopback bool 0", RQ(DATA_BOOL | TRIG, INTX, 0, 1), BOOLS(0), X(EI, OK, EI, EI) },
	{ "intx loopback bool 0xff", RQ(DATA_BOOL | TRIG, INTX, 0, 1), BOOLS(0xff),
	  X(EI, OK, EI, EI) },
	{ "intx trigger bool count 0", RQ(DATA_BOOL | TRIG, INTX, 0, 0), ALL(EI) },
	{ "intx trigger eventfd", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(E1), X(OK, OK, EI, EI) },
	{ "intx trigger same eventfd", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(E0),
	  X(OK, OK, EI, EI) },
	{ "intx trigger eventfd -1", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(-1),
	  X(OK, OK, EI, EI) },
	{ "intx trigger eventfd -5", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(-5),
	  X(OK, OK, EI, EI) },
	{ "intx trigger closed fd", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(FD_CLOSED),
	  X(EB, EB, EI, EI) },
	{ "intx trigger huge fd", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(FD_HUGE),
	  X(EB, EB, EI, EI) },
	{ "intx trigger pipe", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(FD_PIPE), ALL(EI) },
	{ "intx trigger eventfd count 0", RQ(DATA_EFD | TRIG, INTX, 0, 0), ALL(EI) },

	/* MSI: no masking; TRIGGER enables, loops back, disables. */
	{ "msi mask none", RQ(DATA_NONE | MASK, MSI, 0, 1), ALL(NT) },
	{ "msi mask bool", RQ(DATA_BOOL | MASK, MSI, 0, 1), BOOLS(1), ALL(NT) },
	{ "msi mask eventfd", RQ(DATA_EFD | MASK, MSI, 0, 1), FDS(E1), ALL(NT) },
	{ "msi mask none count 0", RQ(DATA_NONE | MASK, MSI, 0, 0), ALL(NT) },
	{ "msi unmask none", RQ(DATA_NONE | UNMASK, MSI, 0, 1), ALL(NT) },
	{ "msi unmask bool", RQ(DATA_BOOL | UNMASK, MSI, 0, 1), BOOLS(1), ALL(NT) },
	{ "msi unmask eventfd", RQ(DATA_EFD | UNMASK, MSI, 0, 1), FDS(FD_CLOSED), ALL(NT) },
	{ "msi disable", RQ(DATA_NONE | TRIG, MSI, 0, 0), X(EI, EI, OK, EI) },
	{ "msi loopback none", RQ(DATA_NONE | TRIG, MSI, 0, 1), X(EI, EI, OK, EI) },
	{ "msi loopback none all", RQ(DATA_NONE | TRIG, MSI, 0, NREL(0)), X(EI, EI, OK, EI) },
	{ "msi loopback bool 1", RQ(DATA_BOOL | TRIG, MSI, 0, 1), BOOLS(1), X(EI, EI, OK, EI) },
	{ "msi loopback bool 0", RQ(DATA_BOOL | TRIG, MSI, 0, 1), BOOLS(0), X(EI, EI, OK, EI) },
	{ "msi trigger bool count 0", RQ(DATA_BOOL | TRIG, MSI, 0, 0), X(EI, EI, OK, EI) },
	{ "msi trigger eventfd", RQ(DATA_EFD | TRIG, MSI, 0, 1), FDS(E1), X(OK, EI, OK, EI) },
	{ "msi trigger same eventfd", RQ(DATA_EFD | TRIG, MSI, 0, 1), FDS(E0),
	  X(OK, EI, OK, EI) },
	{ "msi trigger eventfd all", RQ(DATA_EFD | TRIG, MSI, 0, NREL(0)), .ndata = FILL,
	  X(OK, EI, OK, EI) },
	{ "msi trigger eventfd -1", RQ(DATA_EFD | TRIG, MSI, 0, 1), FDS(-1), X(OK, EI, OK, EI) },
	{ "msi trigger eventfd -5", RQ(DATA_EFD | TRIG, MSI, 0, 1), FDS(-5), X(OK, EI, OK, EI) },
	{ "msi trigger closed fd", RQ(DATA_EFD | TRIG, MSI, 0, 1), FDS(FD_CLOSED),
	  X(EB, EI, EB, EI) },
	{ "msi trigger pipe", RQ(DATA_EFD | TRIG, MSI, 0, 1), FDS(FD_PIPE), ALL(EI) },
	/* Enabling with nvec 0: pci_alloc_irq_vectors(1, 0) is -ERANGE. */
	{ "msi trigger eventfd count 0", RQ(DATA_EFD | TRIG, MSI, 0, 0), X(ERNG, EI, OK, EI) },

	/* MSI-X; the MSI-X state has vectors 0-3: E0, E1, none, pool 3. */
	{ "msix mask none", RQ(DATA_NONE | MASK, MSIX, 0, 1), ALL(NT) },
	{ "msix mask bool", RQ(DATA_BOOL | MASK, MSIX, 0, 1), BOOLS(1), ALL(NT) },
	{ "msix mask eventfd", RQ(DATA_EFD | MASK, MSIX, 0, 1), FDS(E1), ALL(NT) },
	{ "msix unmask none", RQ(DATA_NONE | UNMASK, MSIX, 0, 1), ALL(NT) },
	{ "msix unmask bool", RQ(DATA_BOOL | UNMASK, MSIX, 0, 1), BOOLS(0), ALL(NT) },
	{ "msix unmask eventfd", RQ(DATA_EFD | UNMASK, MSIX, 0, 1), FDS(-1), ALL(NT) },
	{ "msix unmask none count 0", RQ(DATA_NONE | UNMASK, MSIX, 0, 0), ALL(NT) },
	{ "msix disable", RQ(DATA_NONE | TRIG, MSIX, 0, 0), X(EI, EI, EI, OK) },
	{ "msix disable start 3", RQ(DATA_NONE | TRIG, MSIX, 3, 0), X(EI, EI, EI, OK) },
	{ "msix loopback none all", RQ(DATA_NONE | TRIG, MSIX, 0, NREL(0)), X(EI, EI, EI, OK) },
	{ "msix loopback none 1-2", RQ(DATA_NONE | TRIG, MSIX, 1, 2), X(EI, EI, EI, OK) },
	{ "msix loopback none last", RQ(DATA_NONE | TRIG, MSIX, NREL(-1), 1), X(EI, EI, EI, OK) },
	{ "msix loopback bool", RQ(DATA_BOOL | TRIG, MSIX, 0, 4), BOOLS(1, 0, 1, 2),
	  X(EI, EI, EI, OK) },
	{ "msix trigger bool count 0", RQ(DATA_BOOL | TRIG, MSIX, 0, 0), X(EI, EI, EI, OK) },
	{ "msix trigger eventfd 0", RQ(DATA_EFD | TRIG, MSIX, 0, 1), FDS(E5), X(OK, EI, EI, OK) },
	{ "msix trigger eventfd 2-3", RQ(DATA_EFD | TRIG, MSIX, 2, 2), FDS(E5, E6),
	  X(OK, EI, EI, OK) },
	{ "msix enable without vector", RQ(DATA_EFD | TRIG, MSIX, 0, 1), FDS(-1),
	  X(OK, EI, EI, OK) },
	{ "msix trigger -5 and eventfd", RQ(DATA_EFD | TRIG, MSIX, 0, 2), FDS(-5, E5),
	  X(OK, EI, EI, OK) },
	{ "msix trigger same eventfd twice", RQ(DATA_EFD | TRIG, MSIX, 0, 2), FDS(E5, E5),
	  X(OK, EI, EI, OK) },
	/* Vectors past the enabled ones need dynamic allocation. */
	{ "msix trigger eventfd last", RQ(DATA_EFD | TRIG, MSIX, NREL(-1), 1), FDS(E5),
	  X(OK, EI, EI, DYN) },
	{ "msix trigger eventfd all", RQ(DATA_EFD | TRIG, MSIX, 0, NREL(0)), .ndata = FILL,
	  X(OK, EI, EI, DYN) },
	/* A failing vector undoes what the call set (and disables on enable). */
	{ "msix trigger closed fd second", RQ(DATA_EFD | TRIG, MSIX, 0, 2), FDS(E5, FD_CLOSED),
	  X(EB, EI, EI, EB) },
	{ "msix trigger pipe first", RQ(DATA_EFD | TRIG, MSIX, 0, 2), FDS(FD_PIPE, E5),
	  ALL(EI) },
	{ "msix trigger huge fd third", RQ(DATA_EFD | TRIG, MSIX, 1, 3), FDS(E5, -1, FD_HUGE),
	  X(EB, EI, EI, EB) },
	{ "msix trigger eventfd count 0", RQ(DATA_EFD | TRIG, MSIX, 0, 0), X(ERNG, EI, EI, OK) },
	/* nvec = start + count = 3: enabled, no vector set. */
	{ "msix trigger eventfd start 3 count 0", RQ(DATA_EFD | TRIG, MSIX, 3, 0),
	  X(OK, EI, EI, OK) },

	/* ERR (PCIe only) and REQ: one trigger, independent of irq_type. */
	{ "err mask none", RQ(DATA_NONE | MASK, ERR, 0, 1), ES(NT, NT) },
	{ "err mask bool", RQ(DATA_BOOL | MASK, ERR, 0, 1), BOOLS(1), ES(NT, NT) },
	{ "err mask eventfd", RQ(DATA_EFD | MASK, ERR, 0, 1), FDS(E1), ES(NT, NT) },
	{ "err unmask none", RQ(DATA_NONE | UNMASK, ERR, 0, 1), ES(NT, NT) },
	{ "err unmask bool", RQ(DATA_BOOL | UNMASK, ERR, 0, 1), BOOLS(1), ES(NT, NT) },
	{ "err unmask eventfd", RQ(DATA_EFD | UNMASK, ERR, 0, 1), FDS(E1), ES(NT, NT) },
	{ "err mask none count 0", RQ(DATA_NONE | MASK, ERR, 0, 0), ES(NT, NT) },
	{ "err loopback none", RQ(DATA_NONE | TRIG, ERR, 0, 1), ES(EI, OK) },
	{ "err release none", RQ(DATA_NONE | TRIG, ERR, 0, 0), ES(EI, OK) },
	{ "err loopback bool 1", RQ(DATA_BOOL | TRIG, ERR, 0, 1), BOOLS(1), ES(OK, OK) },
	{ "err loopback bool 0", RQ(DATA_BOOL | TRIG, ERR, 0, 1), BOOLS(0), ES(OK, OK) },
	{ "err trigger bool count 0", RQ(DATA_BOOL | TRIG, ERR, 0, 0), ES(EI, EI) },
	{ "err trigger eventfd", RQ(DATA_EFD | TRIG, ERR, 0, 1), FDS(E1), ES(OK, OK) },
	{ "err trigger eventfd -1", RQ(DATA_EFD | TRIG, ERR, 0, 1), FDS(-1), ES(OK, OK) },
	{ "err trigger eventfd -5", RQ(DATA_EFD | TRIG, ERR, 0, 1), FDS(-5), ES(EI, EI) },
	{ "err trigger closed fd", RQ(DATA_EFD | TRIG, ERR, 0, 1), FDS(FD_CLOSED), ES(EB, EB) },
	{ "err trigger pipe", RQ(DATA_EFD | TRIG, ERR, 0, 1), FDS(FD_PIPE), ES(EI, EI) },
	{ "err trigger eventfd count 0", RQ(DATA_EFD | TRIG, ERR, 0, 0), ES(EI, EI) },
	{ "req mask none", RQ(DATA_NONE | MASK, REQ, 0, 1), ES(NT, NT) },
	{ "req mask bool", RQ(DATA_BOOL | MASK, REQ, 0, 1), BOOLS(0), ES(NT, NT) },
	{ "req mask eventfd", RQ(DATA_EFD | MASK, REQ, 0, 1), FDS(FD_CLOSED), ES(NT, NT) },
	{ "req unmask none", RQ(DATA_NONE | UNMASK, REQ, 0, 1), ES(NT, NT) },
	{ "req unmask bool", RQ(DATA_BOOL | UNMASK, REQ, 0, 1), BOOLS(1), ES(NT, NT) },
	{ "req unmask eventfd", RQ(DATA_EFD | UNMASK, REQ, 0, 1), FDS(E1), ES(NT, NT) },
	{ "req loopback none", RQ(DATA_NONE | TRIG, REQ, 0, 1), ES(EI, OK) },
	{ "req release none", RQ(DATA_NONE | TRIG, REQ, 0, 0), ES(EI, OK) },
	{ "req loopback bool 1", RQ(DATA_BOOL | TRIG, REQ, 0, 1), BOOLS(1), ES(OK, OK) },
	{ "req loopback bool 0", RQ(DATA_BOOL | TRIG, REQ, 0, 1), BOOLS(0), ES(OK, OK) },
	{ "req trigger bool count 0", RQ(DATA_BOOL | TRIG, REQ, 0, 0), ES(EI, EI) },
	{ "req trigger eventfd", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(E1), ES(OK, OK) },
	{ "req trigger same eventfd", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(FD_POOL(7)),
	  ES(OK, OK) },
	{ "req trigger eventfd -1", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(-1), ES(OK, OK) },
	{ "req trigger eventfd -5", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(-5), ES(EI, EI) },
	{ "req trigger eventfd INT_MIN", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(INT_MIN),
	  ES(EI, EI) },
	{ "req trigger closed fd", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(FD_CLOSED), ES(EB, EB) },
	{ "req trigger huge fd", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(FD_HUGE), ES(EB, EB) },
	{ "req trigger pipe", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(FD_PIPE), ES(EI, EI) },
	{ "req trigger eventfd count 0", RQ(DATA_EFD | TRIG, REQ, 0, 0), ES(EI, EI) },

	/* No action bit or several: the dispatcher has no handler. */
	{ "intx no action", RQ(DATA_NONE, INTX, 0, 1), ALL(NT) },
	{ "intx mask|unmask", RQ(DATA_NONE | MASK | UNMASK, INTX, 0, 1), ALL(NT) },
	{ "intx all actions", RQ(DATA_NONE | MASK | UNMASK | TRIG, INTX, 0, 1), ALL(NT) },
	{ "msi no action eventfd", RQ(DATA_EFD, MSI, 0, 1), FDS(E1), ALL(NT) },
	{ "msi mask|trigger eventfd", RQ(DATA_EFD | MASK | TRIG, MSI, 0, 1), FDS(E1), ALL(NT) },
	{ "msix unmask|trigger", RQ(DATA_NONE | UNMASK | TRIG, MSIX, 0, 1), ALL(NT) },
	{ "msix no action bool", RQ(DATA_BOOL, MSIX, 0, 1), BOOLS(1), ALL(NT) },
	{ "err mask|unmask", RQ(DATA_NONE | MASK | UNMASK, ERR, 0, 1), ALL(NT) },
	{ "req no action", RQ(DATA_BOOL, REQ, 0, 1), BOOLS(1), ALL(NT) },
	{ "req mask|trigger", RQ(DATA_NONE | MASK | TRIG, REQ, 0, 0), ALL(NT) },

	/* vfio_set_irqs_validate_and_prepare(): all -EINVAL. */
	{ "argsz 0", RQ(DATA_NONE | TRIG, REQ, 0, 1), ARGSZ(0), ALL(EI) },
	{ "argsz 19", RQ(DATA_NONE | TRIG, REQ, 0, 1), ARGSZ(19), ALL(EI) },
	{ "argsz 19 intx loopback", RQ(DATA_NONE | TRIG, INTX, 0, 1), ARGSZ(19), ALL(EI) },
	{ "argsz 16 eventfd", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(E1), ARGSZ(16), ALL(EI) },
	{ "index 5", RQ(DATA_NONE | TRIG, NUM_IRQS, 0, 0), ALL(EI) },
	{ "index 6 eventfd", RQ(DATA_EFD | TRIG, 6, 0, 1), FDS(E1), ALL(EI) },
	{ "index U32_MAX", RQ(DATA_NONE | TRIG, UINT32_MAX, 0, 1), ALL(EI) },
	{ "count U32_MAX", RQ(DATA_NONE | TRIG, MSIX, 0, UINT32_MAX), ALL(EI) },
	{ "count U32_MAX - 1, start 1", RQ(DATA_NONE | TRIG, MSIX, 1, UINT32_MAX - 1), ALL(EI) },
	{ "start U32_MAX, count 0", RQ(DATA_NONE | TRIG, REQ, UINT32_MAX, 0), ALL(EI) },
	{ "start 2, count U32_MAX - 3", RQ(DATA_NONE | TRIG, MSIX, 2, UINT32_MAX - 3), ALL(EI) },
	{ "start + count wraps, eventfd", RQ(DATA_EFD | TRIG, MSIX, 0x80000000, 0x80000000),
	  FDS(E1), ALL(EI) },
	{ "flag bit 6", RQ(DATA_NONE | TRIG | 0x40, REQ, 0, 1), ALL(EI) },
	{ "flag bit 31", RQ(DATA_EFD | TRIG | 0x80000000, INTX, 0, 1), FDS(E1), ALL(EI) },
	{ "no data type", RQ(TRIG, INTX, 0, 1), ALL(EI) },
	{ "no data type, no action", RQ(0, REQ, 0, 1), ALL(EI) },
	{ "none|bool", RQ(DATA_NONE | DATA_BOOL | TRIG, INTX, 0, 1), BOOLS(1), ALL(EI) },
	{ "bool|eventfd", RQ(DATA_BOOL | DATA_EFD | TRIG, REQ, 0, 1), FDS(E1), ALL(EI) },
	{ "none|eventfd", RQ(DATA_NONE | DATA_EFD | TRIG, MSIX, 0, 1), FDS(E1), ALL(EI) },
	{ "all data types", RQ(0x07 | TRIG, MSI, 0, 1), FDS(E1), ALL(EI) },
	{ "intx start 1 count 0", RQ(DATA_NONE | TRIG, INTX, 1, 0), ALL(EI) },
	{ "intx start 1 count 1", RQ(DATA_NONE | MASK, INTX, 1, 1), ALL(EI) },
	{ "intx count 2", RQ(DATA_EFD | TRIG, INTX, 0, 2), FDS(E1, E5), ALL(EI) },
	{ "msi start N count 0", RQ(DATA_NONE | TRIG, MSI, NREL(0), 0), ALL(EI) },
	{ "msi count N + 1", RQ(DATA_EFD | TRIG, MSI, 0, NREL(1)), .ndata = FILL, ALL(EI) },
	{ "msix start N count 0", RQ(DATA_NONE | TRIG, MSIX, NREL(0), 0), ALL(EI) },
	{ "msix start N - 1 count 2", RQ(DATA_EFD | TRIG, MSIX, NREL(-1), 2), FDS(E1, E5),
	  ALL(EI) },
	{ "msix count N + 1", RQ(DATA_EFD | TRIG, MSIX, 0, NREL(1)), .ndata = FILL, ALL(EI) },
	{ "err start 1 count 0", RQ(DATA_NONE | TRIG, ERR, 1, 0), ALL(EI) },
	{ "err count 2", RQ(DATA_EFD | TRIG, ERR, 0, 2), FDS(E1, E5), ALL(EI) },
	{ "req start 1 count 0", RQ(DATA_NONE | TRIG, REQ, 1, 0), ALL(EI) },
	{ "req count 2", RQ(DATA_BOOL | TRIG, REQ, 0, 2), BOOLS(1, 1), ALL(EI) },
	/* Data shorter than count elements. */
	{ "eventfd data 3 of 4 bytes", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(E1),
	  ARGSZ(HDR_SZ + 3), ALL(EI) },
	{ "eventfd data 1 of 2 fds", RQ(DATA_EFD | TRIG, MSIX, 0, 2), FDS(E1, E5),
	  ARGSZ(HDR_SZ + 4), ALL(EI) },
	{ "eventfd no data", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(E1), ARGSZ(HDR_SZ), ALL(EI) },
	{ "bool no data", RQ(DATA_BOOL | TRIG, INTX, 0, 1), BOOLS(1), ARGSZ(HDR_SZ), ALL(EI) },
	{ "bool data 1 of 4", RQ(DATA_BOOL | TRIG, MSIX, 0, 4), BOOLS(1, 1, 1, 1),
	  ARGSZ(HDR_SZ + 1), ALL(EI) },

	/* Trailing bytes after the data are allowed. */
	{ "eventfd trailing bytes", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(E1),
	  ARGSZ(HDR_SZ + 4 + 100), ES(OK, OK) },
	{ "none trailing bytes", RQ(DATA_NONE | TRIG, REQ, 0, 1), ARGSZ(HDR_SZ + 64),
	  ES(EI, OK) },
	{ "bool trailing bytes", RQ(DATA_BOOL | TRIG, INTX, 0, 1), BOOLS(1), ARGSZ(HDR_SZ + 7),
	  X(EI, OK, EI, EI) },
	{ "intx eventfd argsz U32_MAX", RQ(DATA_EFD | TRIG, INTX, 0, 1), FDS(E1),
	  ARGSZ(UINT32_MAX), X(OK, OK, EI, EI) },
	{ "msi eventfd trailing bytes", RQ(DATA_EFD | TRIG, MSI, 0, 1), FDS(E1),
	  ARGSZ(HDR_SZ + 8), X(OK, EI, OK, EI) },

	/* Faulting arguments: the header is read first, data after checks. */
	{ "null argument", RQ(DATA_NONE | TRIG, REQ, 0, 1), .fault = FAULT_NULL, ALL(EFLT) },
	{ "header unreadable", RQ(DATA_NONE | TRIG, REQ, 0, 1), .fault = FAULT_HDR, ALL(EFLT) },
	{ "eventfd data unreadable", RQ(DATA_EFD | TRIG, REQ, 0, 1), FDS(E1),
	  .fault = FAULT_DATA, ALL(EFLT) },
	{ "msix eventfd data unreadable", RQ(DATA_EFD | TRIG, MSIX, 0, 2), FDS(E1, E5),
	  .fault = FAULT_DATA, ALL(EFLT) },
	{ "bool data unreadable", RQ(DATA_BOOL | TRIG, INTX, 0, 1), BOOLS(1),
	  .fault = FAULT_DATA, ALL(EFLT) },
	{ "data unreadable, bad index", RQ(DATA_EFD | TRIG, NUM_IRQS, 0, 1), FDS(E1),
	  .fault = FAULT_DATA, ALL(EI) },
	{ "data unreadable, count 0", RQ(DATA_EFD | TRIG, MSI, 0, 0), .fault = FAULT_DATA,
	  X(ERNG, EI, OK, EI) },
	{ "none, nothing after the header", RQ(DATA_NONE | TRIG, REQ, 0, 1),
	  .fault = FAULT_DATA, ES(EI, OK) },
};

FIXTURE(diff) {
	struct twin tw[2];
	const struct model *model;
	uint32_t n[NUM_IRQS];	/* vectors per index, from GET_IRQ_INFO */
	bool dyn_msix;		/* MSI-X without NORESIZE */
	bool cmd_touched;	/* the user's DisINTx bit may be set */
	bool dev_touched;	/* the devices may have raised interrupts */
	bool exclusive;		/* vfio_pci.nointxmask=1: INTx masked at the IOAPIC */
	bool latch_resync;	/* a stale IOAPIC latch was excused: resync */
	long irqs_before[2];	/* each twin's INTx interrupts before an op */
	unsigned long latched;	/* interrupts excused as stale latches */
	uint8_t msi_cap;	/* capability offsets, 0 without */
	uint8_t msix_cap;
	struct stress_counts sc;	/* for the summary line */
	int pipe[2];
	long page;
	uint8_t *arena;		/* two pages, then an unmapped one */
	uint8_t *buf;		/* request buffer */
	size_t buf_len;
	const char *what;	/* the test, for messages */
	int cases;
	int mismatches;
};

#define SELF	FIXTURE_DATA(diff)

static double elapsed(const struct timespec *t0, const struct timespec *t1)
{
	return (t1->tv_sec - t0->tv_sec) + (t1->tv_nsec - t0->tv_nsec) / 1e9;
}

static const char *errname(int ret)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EINVAL, "-EINVAL" }, { ENOTTY, "-ENOTTY" }, { EBADF, "-EBADF" },
		{ EBUSY, "-EBUSY" }, { EFAULT, "-EFAULT" }, { ERANGE, "-ERANGE" },
		{ ENODEV, "-ENODEV" }, { ENOMEM, "-ENOMEM" }, { ENOSPC, "-ENOSPC" },
	};
	static char buf[8][16];
	static int slot;
	char *s = buf[slot++ % 8];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (ret == -names[i].err)
			return names[i].name;
	snprintf(s, sizeof(buf[0]), "%d", ret);
	return s;
}

static int resolve_fd(const SELF *self, const struct twin *tw, int32_t sym)
{
	if (sym >= FD_POOL(0) && sym < FD_POOL(POOL))
		return tw->pool[sym - FD_POOL(0)];
	switch (sym) {
	case FD_CLOSED:
		return CLOSED_FD_NUM;
	case FD_PIPE:
		return self->pipe[0];
	case FD_HUGE:
		return HUGE_FD_NUM;
	}
	return sym;
}

/* Records a mismatch: prints it and fails the test at its end. */
static void __printf(2, 3) mismatch(SELF *self, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	self->mismatches++;
	vfio_note("MISMATCH %s: %s", self->what, msg);
}

static void fd_name(int32_t sym, char *s, size_t len)
{
	if (sym >= FD_POOL(0) && sym < FD_POOL(POOL))
		snprintf(s, len, "e%d", sym - FD_POOL(0));
	else if (sym == FD_CLOSED)
		snprintf(s, len, "closed");
	else if (sym == FD_PIPE)
		snprintf(s, len, "pipe");
	else if (sym == FD_HUGE)
		snprintf(s, len, "huge");
	else
		snprintf(s, len, "%d", sym);
}

/* Element size of a data type; 0 for NONE and for invalid combinations. */
static uint32_t elem_size(uint32_t flags)
{
	switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case DATA_BOOL:
		return 1;
	case DATA_EFD:
		return 4;
	}
	return 0;
}

/* Element size written into the buffer, even for invalid data types. */
static uint32_t payload_size(uint32_t flags)
{
	if (flags & DATA_EFD)
		return 4;
	return flags & DATA_BOOL ? 1 : 0;
}

static uint32_t req_argsz(const struct req *r)
{
	if (r->has_argsz)
		return r->argsz;
	return (uint32_t)(HDR_SZ + (uint64_t)r->count * payload_size(r->flags));
}

static void describe_req(const struct req *r, char *s, size_t len)
{
	static const char * const idx[] = { "INTx", "MSI", "MSI-X", "ERR", "REQ" };
	static const char * const fault[] = { "", " [data unreadable]",
		" [header unreadable]", " [NULL]", " [read-only]" };
	uint32_t n = r->count < MAX_ELEMS ? r->count : MAX_ELEMS;
	char flags[96] = "", name[32];
	size_t o;
	uint32_t i;

	snprintf(flags, sizeof(flags), "%s%s%s%s%s%s%s",
		 r->flags & DATA_NONE ? "|NONE" : "", r->flags & DATA_BOOL ? "|BOOL" : "",
		 r->flags & DATA_EFD ? "|EVENTFD" : "", r->flags & MASK ? "|MASK" : "",
		 r->flags & UNMASK ? "|UNMASK" : "", r->flags & TRIG ? "|TRIGGER" : "",
		 r->flags & ~0x3fu ? "|UNKNOWN" : "");
	o = snprintf(s, len, "SET_IRQS{argsz %u flags 0x%x(%s) index %u%s%s%s start %u count %u",
		     req_argsz(r), r->flags, flags[0] ? flags + 1 : "-", r->index,
		     r->index < NUM_IRQS ? "(" : "", r->index < NUM_IRQS ? idx[r->index] : "",
		     r->index < NUM_IRQS ? ")" : "", r->start, r->count);
	if (o < len && payload_size(r->flags) && n) {
		o += snprintf(s + o, len - o, " data [");
		for (i = 0; i < n && o < len; i++) {
			if (r->flags & DATA_EFD)
				fd_name(i < (uint32_t)r->ndata ? r->fd[i] : -1, name,
					sizeof(name));
			else
				snprintf(name, sizeof(name), "%u",
					 i < (uint32_t)r->ndata ? r->b[i] : 0);
			o += snprintf(s + o, len - o, "%s%s", i ? " " : "", name);
		}
		if (o < len)
			o += snprintf(s + o, len - o, "%s]", n < r->count ? " ..." : "");
	}
	if (o < len)
		snprintf(s + o, len - o, "}%s", fault[r->fault]);
}

/* Issues the request on one twin; returns ioctl()'s value or -errno. */
static int do_set(SELF *self, struct twin *tw, const struct req *r)
{
	uint32_t size = payload_size(r->flags);
	uint32_t n = r->count < MAX_PAYLOAD ? r->count : MAX_PAYLOAD;
	struct vfio_irq_set hdr = {
		.argsz = req_argsz(r),
		.flags = r->flags,
		.index = r->index,
		.start = r->start,
		.count = r->count,
	};
	uint8_t *p;
	uint32_t i;
	int ret;

	if ((uint32_t)r->ndata > n)
		n = r->ndata;
	switch (r->fault) {
	case FAULT_NULL:
		p = NULL;
		break;
	case FAULT_HDR:
		p = self->arena + 2 * self->page - HDR_SZ / 2;
		memcpy(p, &hdr, HDR_SZ / 2);
		break;
	case FAULT_DATA:
		p = self->arena + 2 * self->page - HDR_SZ;
		memcpy(p, &hdr, HDR_SZ);
		break;
	default:
		p = self->buf;
		memset(p, 0, HDR_SZ + (size_t)n * size + 64);
		memcpy(p, &hdr, HDR_SZ);
		for (i = 0; i < n; i++) {
			if (size == 4) {
				int32_t fd = i < (uint32_t)r->ndata ? r->fd[i] : -1;

				fd = resolve_fd(self, tw, fd);
				memcpy(p + HDR_SZ + 4 * i, &fd, 4);
			} else if (size == 1) {
				p[HDR_SZ + i] = i < (uint32_t)r->ndata ? r->b[i] : 0;
			}
		}
		break;
	}
	ret = ioctl(tw->dev.device_fd, VFIO_DEVICE_SET_IRQS, p);
	return ret < 0 ? -errno : ret;
}

static void describe_info(const struct info_req *q, char *s, size_t len)
{
	snprintf(s, len, "GET_IRQ_INFO{argsz %u index %u}%s", q->argsz, q->index,
		 q->fault == FAULT_NULL ? " [NULL]" : q->fault == FAULT_RO ? " [read-only]" : "");
}

static void do_info(SELF *self, struct twin *tw, const struct info_req *q,
		    struct info_res *res)
{
	struct vfio_irq_info info = { .argsz = q->argsz, .index = q->index };
	uint8_t *p = self->arena;
	int ret;

	memset(p, INFO_PATTERN, INFO_BUF);
	memcpy(p, &info, INFO_SZ);
	if (q->fault == FAULT_RO)
		mprotect(p, self->page, PROT_READ);
	ret = ioctl(tw->dev.device_fd, VFIO_DEVICE_GET_IRQ_INFO,
		    q->fault == FAULT_NULL ? NULL : p);
	res->ret = ret < 0 ? -errno : ret;
	if (q->fault == FAULT_RO)
		mprotect(p, self->page, PROT_READ | PROT_WRITE);
	memcpy(res->buf, p, INFO_BUF);
}

/* Reads (and so resets) every signalled pool eventfd of a twin. */
static void drain(struct twin *tw, uint64_t cnt[POOL])
{
	struct pollfd pfd[POOL];
	int i;

	for (i = 0; i < POOL; i++) {
		cnt[i] = 0;
		pfd[i].fd = tw->pool[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, POOL, 0) <= 0)
		return;
	for (i = 0; i < POOL; i++)
		if ((pfd[i].revents & POLLIN) &&
		    read(tw->pool[i], &cnt[i], sizeof(cnt[i])) != sizeof(cnt[i]))
			cnt[i] = 0;
}

static void describe_counts(const uint64_t cnt[POOL], char *s, size_t len)
{
	size_t o = 0;
	int i;

	s[0] = '\0';
	for (i = 0; i < POOL && o < len; i++)
		if (cnt[i])
			o += snprintf(s + o, len - o, "%se%d:%llu", o ? " " : "", i,
				      (unsigned long long)cnt[i]);
	if (!o)
		snprintf(s, len, "none");
}

/* Drains both pools; their counts must be equal. */
static bool compare_counts(SELF *self, const char *after)
{
	uint64_t c[2][POOL];
	char a[160], b[160];

	drain(&self->tw[ORACLE], c[ORACLE]);
	drain(&self->tw[SUBJECT], c[SUBJECT]);
	if (!memcmp(c[ORACLE], c[SUBJECT], sizeof(c[ORACLE])))
		return true;
	describe_counts(c[ORACLE], a, sizeof(a));
	describe_counts(c[SUBJECT], b, sizeof(b));
	mismatch(self, "%s: eventfd counts differ: oracle %s, subject %s", after, a, b);
	return false;
}

static int set_simple(SELF *self, struct twin *tw, uint32_t flags, uint32_t index,
		      uint32_t start, uint32_t count, int32_t fd, uint8_t b)
{
	struct req r = {
		.flags = flags, .index = index, .start = start, .count = count,
		.ndata = 1, .fd = { fd }, .b = { b },
	};

	return do_set(self, tw, &r);
}

static void take_snap(SELF *self, struct twin *tw, struct snap *s)
{
	uint64_t cnt[POOL];
	uint32_t idx, v, nv;
	int i;

	memset(s, 0, sizeof(*s));
	drain(tw, cnt);
	for (idx = INTX; idx <= MSIX; idx++)
		s->probe[idx] = set_simple(self, tw, DATA_BOOL | TRIG, idx, 0, 1, 0, 0);
	for (idx = INTX; idx <= MSIX; idx++) {
		if (s->probe[idx])
			continue;
		nv = self->n[idx] < MAX_VEC ? self->n[idx] : MAX_VEC;
		for (v = 0; v < nv; v++) {
			s->vret[idx][v] = set_simple(self, tw, DATA_NONE | TRIG, idx, v, 1, 0, 0);
			drain(tw, cnt);
			for (i = 0; i < POOL; i++)
				s->vcnt[idx][v][i] = cnt[i] > 255 ? 255 : cnt[i];
		}
	}
	for (i = 0; i < 2; i++) {
		s->sret[i] = set_simple(self, tw, DATA_NONE | TRIG, ERR + i, 0, 1, 0, 0);
		drain(tw, cnt);
		for (v = 0; v < POOL; v++)
			s->scnt[i][v] = cnt[v] > 255 ? 255 : cnt[v];
	}
}

static void describe_sig(const uint8_t cnt[POOL], char *s, size_t len)
{
	size_t o = 0;
	int i;

	for (i = 0; i < POOL && o < len; i++) {
		if (!cnt[i])
			continue;
		o += snprintf(s + o, len - o, "%se%d", o ? "+" : "", i);
		if (cnt[i] > 1 && o < len)
			o += snprintf(s + o, len - o, "x%u", cnt[i]);
	}
	if (!o)
		snprintf(s, len, "-");
}

static void describe_snap(const SELF *self, const struct snap *s, char *out, size_t len)
{
	static const char * const names[] = { "intx", "msi", "msix", "err", "req" };
	char sig[64];
	uint32_t idx, v, nv;
	size_t o = 0;
	int i;

	for (idx = INTX; idx <= MSIX && o < len; idx++)
		o += snprintf(out + o, len - o, "%s%s=%s", idx ? " " : "", names[idx],
			      errname(s->probe[idx]));
	for (idx = INTX; idx <= MSIX && o < len; idx++) {
		if (s->probe[idx])
			continue;
		nv = self->n[idx] < MAX_VEC ? self->n[idx] : MAX_VEC;
		o += snprintf(out + o, len - o, " |");
		for (v = 0; v < nv && o < len; v++) {
			describe_sig(s->vcnt[idx][v], sig, sizeof(sig));
			o += snprintf(out + o, len - o, " %u:%s", v, sig);
			if (s->vret[idx][v] && o < len)
				o += snprintf(out + o, len - o, "(%s)", errname(s->vret[idx][v]));
		}
	}
	for (i = 0; i < 2 && o < len; i++) {
		describe_sig(s->scnt[i], sig, sizeof(sig));
		o += snprintf(out + o, len - o, " | %s=%s:%s", names[ERR + i],
			      errname(s->sret[i]), sig);
	}
}

/* Snapshots both twins into s[]; they must be equal. */
static bool snap_both(SELF *self, struct snap s[2], const char *after)
{
	char a[1024], b[1024];

	take_snap(self, &self->tw[ORACLE], &s[ORACLE]);
	take_snap(self, &self->tw[SUBJECT], &s[SUBJECT]);
	if (!memcmp(&s[ORACLE], &s[SUBJECT], sizeof(s[0])))
		return true;
	describe_snap(self, &s[ORACLE], a, sizeof(a));
	describe_snap(self, &s[SUBJECT], b, sizeof(b));
	mismatch(self, "%s: interrupt state differs:\n#   oracle:  %s\n#   subject: %s",
		 after, a, b);
	return false;
}

static bool compare_snaps(SELF *self, const char *after)
{
	struct snap s[2];

	return snap_both(self, s, after);
}

/* Both twins must be clean: nothing enabled, no ERR or REQ trigger. */
static bool check_clean(SELF *self, const char *after)
{
	struct snap clean, s;
	char a[1024];
	int t;
	bool ok = true;

	memset(&clean, 0, sizeof(clean));
	for (t = INTX; t <= MSIX; t++)
		clean.probe[t] = -EINVAL;
	for (t = 0; t < 2; t++)
		clean.sret[t] = -EINVAL;
	for (t = ORACLE; t <= SUBJECT; t++) {
		take_snap(self, &self->tw[t], &s);
		if (!memcmp(&s, &clean, sizeof(s)))
			continue;
		describe_snap(self, &s, a, sizeof(a));
		mismatch(self, "%s: %s is not clean: %s", after, self->tw[t].role, a);
		ok = false;
	}
	return ok;
}

#define CMD_INTX_DISABLE	PCI_COMMAND_INTX_DISABLE

static int ack_twin(SELF *self, struct twin *tw);

/*
 * Disables everything on one twin; fills the six results. What the device
 * raised is acknowledged too (not compared).
 */
static void reset_twin(SELF *self, struct twin *tw, int res[6])
{
	uint16_t cmd = 0;

	res[0] = set_simple(self, tw, DATA_NONE | TRIG, INTX, 0, 0, 0, 0);
	res[1] = set_simple(self, tw, DATA_NONE | TRIG, MSI, 0, 0, 0, 0);
	res[2] = set_simple(self, tw, DATA_NONE | TRIG, MSIX, 0, 0, 0, 0);
	res[3] = set_simple(self, tw, DATA_EFD | TRIG, ERR, 0, 1, -1, 0);
	res[4] = set_simple(self, tw, DATA_EFD | TRIG, REQ, 0, 1, -1, 0);
	res[5] = 0;
	if (self->dev_touched)
		ack_twin(self, tw);
	if (!self->cmd_touched)
		return;
	res[5] = vfio_config_read16(&tw->dev, PCI_COMMAND, &cmd);
	if (!res[5] && (cmd & CMD_INTX_DISABLE))
		res[5] = vfio_config_write16(&tw->dev, PCI_COMMAND, cmd & ~CMD_INTX_DISABLE);
}

/* Disables everything on both twins; both must answer alike and be clean. */
static bool reset_both(SELF *self, const char *after)
{
	static const char * const what[] = { "INTx disable", "MSI disable",
		"MSI-X disable", "ERR release", "REQ release", "DisINTx clear" };
	int res[2][6], i;
	bool ok = true;

	reset_twin(self, &self->tw[ORACLE], res[ORACLE]);
	reset_twin(self, &self->tw[SUBJECT], res[SUBJECT]);
	for (i = 0; i < 6; i++) {
		if (res[ORACLE][i] == res[SUBJECT][i])
			continue;
		mismatch(self, "%s: reset step \"%s\": oracle %s, subject %s", after, what[i],
			 errname(res[ORACLE][i]), errname(res[SUBJECT][i]));
		ok = false;
	}
	return check_clean(self, after) && ok;
}

/*
 * Expected result of the argument checks of upstream's SET_IRQS
 * (vfio_pci_ioctl_set_irqs() with vfio_set_irqs_validate_and_prepare(),
 * spec-notes §2.2): -EFAULT for an unreadable header, -EINVAL for a request
 * they reject, -EFAULT for unreadable data, else 0 (the dispatcher
 * decides).
 */
static int expect_validate(const SELF *self, const struct req *r)
{
	uint32_t argsz = req_argsz(r), size, num;

	if (r->fault == FAULT_NULL || r->fault == FAULT_HDR)
		return -EFAULT;
	if (argsz < HDR_SZ || r->index >= NUM_IRQS || r->count >= UINT32_MAX - r->start ||
	    (r->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)))
		return -EINVAL;
	num = self->n[r->index];
	if (r->start >= num || r->start + r->count > num)
		return -EINVAL;
	switch (r->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case DATA_NONE:
	case DATA_BOOL:
	case DATA_EFD:
		break;
	default:
		return -EINVAL;
	}
	size = elem_size(r->flags);
	if (size && (uint64_t)argsz - HDR_SZ < (uint64_t)r->count * size)
		return -EINVAL;
	if (size && r->count && r->fault == FAULT_DATA)
		return -EFAULT;
	return 0;
}

static int row_expect(const SELF *self, const struct row *row, enum state st)
{
	int v;

	switch (st) {
	case S_INTX_RS:
		v = row->rs ? row->rs : row->exp[S_INTX];
		break;
	case S_SINGLE:
		v = row->single ? row->single : row->exp[S_NONE];
		break;
	default:
		v = row->exp[st];
	}
	if (v == OK)
		return 0;
	if (v == DYN)
		return self->dyn_msix ? 0 : -EINVAL;
	return v;
}

static uint32_t sym_u32(int64_t v, uint32_t n)
{
	if (v >= NREL_BASE / 2)
		return (uint32_t)(n + (v - NREL_BASE));
	return (uint32_t)v;
}

static void row_req(const SELF *self, const struct row *row, struct req *r)
{
	uint32_t n = row->index < NUM_IRQS ? self->n[row->index] : 0;
	uint32_t i;

	memset(r, 0, sizeof(*r));
	r->flags = row->flags;
	r->index = row->index;
	r->start = sym_u32(row->start, n);
	r->count = sym_u32(row->count, n);
	r->has_argsz = row->has_argsz;
	r->argsz = row->argsz;
	r->fault = row->fault;
	if (row->ndata == FILL) {
		r->ndata = r->count < MAX_ELEMS ? r->count : MAX_ELEMS;
		for (i = 0; i < (uint32_t)r->ndata; i++) {
			r->fd[i] = FD_POOL((i + 1) % POOL);
			r->b[i] = 1;
		}
		return;
	}
	r->ndata = row->ndata;
	memcpy(r->fd, row->fd, sizeof(row->fd));
	memcpy(r->b, row->b, sizeof(row->b));
}

static bool state_applies(const SELF *self, enum state st)
{
	switch (st) {
	case S_INTX:
	case S_INTX_RS:
		return self->n[INTX] > 0;
	case S_MSI:
		return self->n[MSI] > 0;
	case S_MSIX:
		return self->n[MSIX] >= 4;
	default:
		return true;
	}
}

/* Puts both twins into a state; every step must succeed on both. */
static bool enter_state(SELF *self, enum state st)
{
	struct req steps[3];
	int nsteps = 0, i, t, ret[2];
	char d[512];
	uint32_t v;

	memset(steps, 0, sizeof(steps));
	switch (st) {
	case S_NONE:
		break;
	case S_INTX:
	case S_INTX_RS:
		steps[0] = (struct req){ .flags = DATA_EFD | TRIG, .index = INTX, .count = 1,
					 .ndata = 1, .fd = { E0 } };
		nsteps = 1;
		if (st == S_INTX)
			break;
		steps[1] = (struct req){ .flags = DATA_EFD | UNMASK, .index = INTX, .count = 1,
					 .ndata = 1, .fd = { E5 } };
		nsteps = 2;
		break;
	case S_MSI:
		steps[0] = (struct req){ .flags = DATA_EFD | TRIG, .index = MSI,
					 .count = self->n[MSI] };
		steps[0].ndata = self->n[MSI] < MAX_ELEMS ? self->n[MSI] : MAX_ELEMS;
		for (v = 0; v < (uint32_t)steps[0].ndata; v++)
			steps[0].fd[v] = FD_POOL(v % POOL);
		nsteps = 1;
		break;
	case S_MSIX:
		steps[0] = (struct req){ .flags = DATA_EFD | TRIG, .index = MSIX, .count = 4,
					 .ndata = 4, .fd = { E0, E1, -1, FD_POOL(3) } };
		nsteps = 1;
		break;
	case S_SINGLE:
		steps[0] = (struct req){ .flags = DATA_EFD | TRIG, .index = REQ, .count = 1,
					 .ndata = 1, .fd = { FD_POOL(7) } };
		nsteps = 1;
		if (self->n[ERR]) {
			steps[1] = (struct req){ .flags = DATA_EFD | TRIG, .index = ERR,
						 .count = 1, .ndata = 1, .fd = { E6 } };
			nsteps = 2;
		}
		break;
	}
	for (i = 0; i < nsteps; i++) {
		for (t = ORACLE; t <= SUBJECT; t++)
			ret[t] = do_set(self, &self->tw[t], &steps[i]);
		if (ret[ORACLE] || ret[SUBJECT]) {
			describe_req(&steps[i], d, sizeof(d));
			mismatch(self, "entering state %s: %s: oracle %s, subject %s",
				 state_names[st], d, errname(ret[ORACLE]), errname(ret[SUBJECT]));
			return false;
		}
	}
	snprintf(d, sizeof(d), "entering state %s", state_names[st]);
	return compare_counts(self, d);
}

/* Sets ERR and REQ on both twins as state st has them; both must agree. */
static bool set_single(SELF *self, enum state st, const char *ctx)
{
	static const int32_t fds[2] = { E6, FD_POOL(7) };
	int i, t, ret[2];
	bool ok = true;

	for (i = 0; i < 2; i++) {
		if (!self->n[ERR + i])
			continue;
		for (t = ORACLE; t <= SUBJECT; t++)
			ret[t] = set_simple(self, &self->tw[t], DATA_EFD | TRIG, ERR + i, 0, 1,
					    st == S_SINGLE ? fds[i] : -1, 0);
		if (ret[ORACLE] || ret[SUBJECT]) {
			mismatch(self, "%s: setting %s back: oracle %s, subject %s", ctx,
				 i ? "REQ" : "ERR", errname(ret[ORACLE]), errname(ret[SUBJECT]));
			ok = false;
		}
	}
	return ok;
}

/* A loopback trigger: signals, changes nothing. */
static bool is_loopback(const struct req *r)
{
	uint32_t data = r->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

	return (r->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) == TRIG && r->count &&
	       (data == DATA_NONE || data == DATA_BOOL);
}

/*
 * Runs one table row from one state, which enter_state() entered unless
 * *entered: then the twins are still in it, as entered[] shows. The
 * request goes to both twins, results and loopbacks are compared, then
 * both are disabled (reset_both()) and must be clean, except when both
 * failed alike or the request was a loopback, and neither changed in what
 * a snapshot shows: then they are still in the entered state, and the
 * next row starts from it (this saves re-enabling MSI and MSI-X for every
 * row, which a TCG guest cannot afford).
 */
static bool run_row(SELF *self, enum state st, const struct row *row, bool *entered,
		    struct snap entered_snap[2])
{
	char d[512], ctx[768];
	struct snap after[2];
	struct req r;
	int ret[2], exp;
	bool same;

	row_req(self, row, &r);
	describe_req(&r, d, sizeof(d));
	snprintf(ctx, sizeof(ctx), "state %s, \"%s\" %s", state_names[st], row->name, d);
	if (!*entered) {
		snprintf(d, sizeof(d), "entering state %s", state_names[st]);
		if (!enter_state(self, st) || !snap_both(self, entered_snap, d)) {
			reset_both(self, ctx);
			return false;
		}
		*entered = true;
	}
	self->cases++;
	exp = expect_validate(self, &r);
	if (!exp)
		exp = row_expect(self, row, st);
	ret[ORACLE] = do_set(self, &self->tw[ORACLE], &r);
	ret[SUBJECT] = do_set(self, &self->tw[SUBJECT], &r);
	if (getenv("VPI_VERBOSE"))
		vfio_note("%s -> %s / %s", ctx, errname(ret[ORACLE]), errname(ret[SUBJECT]));
	if (ret[ORACLE] != ret[SUBJECT])
		mismatch(self, "%s: oracle %s, subject %s (table: %s)", ctx,
			 errname(ret[ORACLE]), errname(ret[SUBJECT]), errname(exp));
	else if (ret[ORACLE] != exp)
		mismatch(self, "%s: oracle and subject %s, table says %s", ctx,
			 errname(ret[ORACLE]), errname(exp));
	compare_counts(self, ctx);
	same = snap_both(self, after, ctx);
	if (same && ret[ORACLE] == ret[SUBJECT] && (ret[ORACLE] < 0 || is_loopback(&r)) &&
	    !memcmp(after, entered_snap, sizeof(after)))
		return true;
	/* Only ERR or REQ changed: set them back as entered. */
	if (same && (r.index == ERR || r.index == REQ) &&
	    !memcmp(&after[ORACLE], &entered_snap[ORACLE], offsetof(struct snap, sret)) &&
	    set_single(self, st, ctx) && snap_both(self, after, ctx) &&
	    !memcmp(after, entered_snap, sizeof(after)))
		return true;
	*entered = false;
	reset_both(self, ctx);
	return true;
}

static const struct model *find_model(uint16_t vendor, uint16_t device)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(models); i++)
		if (models[i].vendor == vendor && models[i].device == device)
			return &models[i];
	return NULL;
}

/* Reopens a twin's device fd (closing it disables everything). */
static int reopen(struct twin *tw)
{
	int i;

	for (i = 0; i < VFIO_PCI_ROM_REGION_INDEX; i++) {
		if (tw->dev.bar_map[i])
			munmap(tw->dev.bar_map[i], tw->dev.bar[i].size);
		tw->dev.bar_map[i] = NULL;
	}
	close(tw->dev.device_fd);
	tw->dev.device_fd = ioctl(tw->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, tw->dev.bdf);
	return tw->dev.device_fd < 0 ? -errno : 0;
}

/* Finds the MSI and MSI-X capabilities in the oracle's config space. */
static void find_caps(SELF *self)
{
	struct vfio_dev *dev = &self->tw[ORACLE].dev;
	uint8_t pos = 0, id = 0, hops;
	uint16_t status = 0;

	if (vfio_config_read16(dev, PCI_STATUS, &status) || !(status & PCI_STATUS_CAP_LIST) ||
	    vfio_config_read(dev, PCI_CAPABILITY_LIST, &pos, 1))
		return;
	for (hops = 0; pos >= 0x40 && hops < 48; hops++) {
		if (vfio_config_read(dev, pos, &id, 1))
			return;
		if (id == PCI_CAP_ID_MSI)
			self->msi_cap = pos;
		else if (id == PCI_CAP_ID_MSIX)
			self->msix_cap = pos;
		if (vfio_config_read(dev, pos + PCI_CAP_LIST_NEXT, &pos, 1))
			return;
		pos &= ~3;
	}
}

/* A PCI device's Linux INTx interrupt (sysfs), 0 if unknown. */
static unsigned int pci_irq(const char *bdf)
{
	char path[PATH_MAX];
	unsigned int irq = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/irq", bdf);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%u", &irq) != 1)
		irq = 0;
	fclose(f);
	return irq;
}

FIXTURE_SETUP(diff)
{
	const char *bdf[2] = { getenv("VPI_ORACLE_BDF"), getenv("VPI_BDF") };
	uint16_t id[2][2];
	int t, i;

	self->what = _metadata->name;
	self->pipe[0] = -1;
	self->pipe[1] = -1;
	for (t = ORACLE; t <= SUBJECT; t++) {
		struct twin *tw = &self->tw[t];
		int ret;

		tw->role = t == ORACLE ? "oracle" : "subject";
		tw->dev.device_fd = -1;
		tw->dev.group_fd = -1;
		tw->dev.container_fd = -1;
		for (i = 0; i < POOL; i++)
			tw->pool[i] = -1;
		/* A test killed at its timeout may still be letting go of it. */
		for (i = 0; i < 50; i++) {
			ret = vfio_dev_open(&tw->dev, bdf[t]);
			if (ret != -EBUSY)
				break;
			vfio_dev_close(&tw->dev);
			usleep(100000);
		}
		ASSERT_EQ(0, ret)
			TH_LOG("%s %s: %s: %s", tw->role, bdf[t], tw->dev.err, strerror(-ret));
		ASSERT_EQ(0, vfio_config_read16(&tw->dev, PCI_VENDOR_ID, &id[t][0]));
		ASSERT_EQ(0, vfio_config_read16(&tw->dev, PCI_DEVICE_ID, &id[t][1]));
		for (i = 0; i < POOL; i++) {
			tw->pool[i] = vfio_eventfd();
			ASSERT_LE(0, tw->pool[i]);
		}
		tw->irq = pci_irq(bdf[t]);
	}
	ASSERT_EQ(id[ORACLE][0], id[SUBJECT][0]) TH_LOG("the twins are different devices");
	ASSERT_EQ(id[ORACLE][1], id[SUBJECT][1]) TH_LOG("the twins are different devices");
	self->model = find_model(id[ORACLE][0], id[ORACLE][1]);
	find_caps(self);
	{
		char yn[8] = "";

		vfio_sysfs_read("/sys/module/vfio_pci/parameters/nointxmask", yn, sizeof(yn));
		self->exclusive = yn[0] == 'Y';
	}

	ASSERT_EQ(0, pipe2(self->pipe, O_CLOEXEC | O_NONBLOCK));
	close(CLOSED_FD_NUM);
	ASSERT_EQ(-1, fcntl(CLOSED_FD_NUM, F_GETFD));

	self->page = sysconf(_SC_PAGESIZE);
	self->arena = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->arena);
	ASSERT_EQ(0, mprotect(self->arena + 2 * self->page, self->page, PROT_NONE));
	self->buf_len = HDR_SZ + 4 * MAX_PAYLOAD + 128;
	self->buf = calloc(1, self->buf_len);
	ASSERT_NE(NULL, self->buf);

	/* Vectors per index, as the oracle reports (the subject is compared). */
	for (i = 0; i < NUM_IRQS; i++) {
		struct info_req q = { .index = i, .argsz = INFO_SZ };
		struct info_res res[2];
		struct vfio_irq_info info;

		do_info(self, &self->tw[ORACLE], &q, &res[ORACLE]);
		do_info(self, &self->tw[SUBJECT], &q, &res[SUBJECT]);
		ASSERT_EQ(res[ORACLE].ret, res[SUBJECT].ret)
			TH_LOG("GET_IRQ_INFO(%d): oracle %s, subject %s", i,
			       errname(res[ORACLE].ret), errname(res[SUBJECT].ret));
		ASSERT_EQ(0, memcmp(res[ORACLE].buf, res[SUBJECT].buf, INFO_BUF))
			TH_LOG("GET_IRQ_INFO(%d) contents differ", i);
		memcpy(&info, res[ORACLE].buf, INFO_SZ);
		self->n[i] = res[ORACLE].ret ? 0 : info.count;
		if (i == MSIX)
			self->dyn_msix = !res[ORACLE].ret && info.count &&
					 !(info.flags & VFIO_IRQ_INFO_NORESIZE);
	}
	ASSERT_TRUE(reset_both(self, "setup")) TH_LOG("the twins do not start clean");
}

FIXTURE_TEARDOWN(diff)
{
	int t, i;

	for (t = ORACLE; t <= SUBJECT; t++) {
		for (i = 0; i < POOL; i++)
			if (self->tw[t].pool[i] >= 0)
				close(self->tw[t].pool[i]);
		vfio_dev_close(&self->tw[t].dev);
	}
	for (i = 0; i < 2; i++)
		if (self->pipe[i] >= 0)
			close(self->pipe[i]);
	free(self->buf);
	if (self->arena && self->arena != MAP_FAILED)
		munmap(self->arena, 3 * self->page);
}

/* Upstream's GET_IRQ_INFO for a known model (spec-notes §2.3). */
static int expect_info(const struct model *m, const struct info_req *q, bool dyn,
		       struct vfio_irq_info *info)
{
	if (q->fault == FAULT_NULL)
		return -EFAULT;
	if (q->argsz < INFO_SZ || q->index >= NUM_IRQS || (q->index == ERR && !m->pcie))
		return -EINVAL;
	if (q->fault == FAULT_RO)
		return -EFAULT;
	info->argsz = q->argsz;
	info->index = q->index;
	info->flags = VFIO_IRQ_INFO_EVENTFD;
	switch (q->index) {
	case INTX:
		info->flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
		info->count = 1;
		break;
	case MSI:
		info->flags |= VFIO_IRQ_INFO_NORESIZE;
		info->count = m->msi;
		break;
	case MSIX:
		info->flags |= dyn ? 0 : VFIO_IRQ_INFO_NORESIZE;
		info->count = m->msix;
		break;
	default:
		info->flags |= VFIO_IRQ_INFO_NORESIZE;
		info->count = 1;
	}
	return 0;
}

static void describe_info_buf(const uint8_t *buf, char *s, size_t len)
{
	struct vfio_irq_info info;
	bool tail = false;
	int i;

	memcpy(&info, buf, INFO_SZ);
	for (i = INFO_SZ; i < INFO_BUF; i++)
		tail |= buf[i] != INFO_PATTERN;
	snprintf(s, len, "{argsz %u flags 0x%x index %u count %u}%s", info.argsz, info.flags,
		 info.index, info.count, tail ? " and the bytes after it changed" : "");
}

static void run_info(SELF *self, const struct info_req *q, enum state st)
{
	uint8_t want[INFO_BUF];
	struct vfio_irq_info info;
	struct info_res res[2];
	char d[128], ctx[256], a[128], b[128];
	int exp;

	describe_info(q, d, sizeof(d));
	snprintf(ctx, sizeof(ctx), "state %s, %s", state_names[st], d);
	self->cases++;
	do_info(self, &self->tw[ORACLE], q, &res[ORACLE]);
	do_info(self, &self->tw[SUBJECT], q, &res[SUBJECT]);
	if (res[ORACLE].ret != res[SUBJECT].ret) {
		mismatch(self, "%s: oracle %s, subject %s", ctx, errname(res[ORACLE].ret),
			 errname(res[SUBJECT].ret));
		return;
	}
	if (memcmp(res[ORACLE].buf, res[SUBJECT].buf, INFO_BUF)) {
		describe_info_buf(res[ORACLE].buf, a, sizeof(a));
		describe_info_buf(res[SUBJECT].buf, b, sizeof(b));
		mismatch(self, "%s: buffers differ: oracle %s, subject %s", ctx, a, b);
		return;
	}
	if (!self->model)
		return;
	/* The NORESIZE bit of MSI-X depends on the platform: the oracle's. */
	exp = expect_info(self->model, q, self->dyn_msix, &info);
	if (res[ORACLE].ret != exp) {
		mismatch(self, "%s: oracle and subject %s, spec says %s", ctx,
			 errname(res[ORACLE].ret), errname(exp));
		return;
	}
	memset(want, INFO_PATTERN, INFO_BUF);
	memcpy(want, exp ? res[ORACLE].buf : (uint8_t *)&info, INFO_SZ);
	if (memcmp(want, res[ORACLE].buf, INFO_BUF)) {
		describe_info_buf(res[ORACLE].buf, a, sizeof(a));
		describe_info_buf(want, b, sizeof(b));
		mismatch(self, "%s: both return %s, spec for %s: %s", ctx, a, self->model->name, b);
	}
}

/* GET_IRQ_INFO: every index with good and bad argsz, bad indexes, faults. */
static void run_info_cases(SELF *self, enum state st)
{
	static const uint32_t argszs[] = { 16, 0, 15, 32, UINT32_MAX };
	static const uint32_t bad_index[] = { NUM_IRQS, 6, 0x80000000, UINT32_MAX };
	uint32_t i, a;

	for (i = 0; i < NUM_IRQS; i++) {
		for (a = 0; a < ARRAY_SIZE(argszs); a++)
			run_info(self, &(struct info_req){ i, argszs[a] }, st);
		run_info(self, &(struct info_req){ i, INFO_SZ, FAULT_NULL }, st);
		run_info(self, &(struct info_req){ i, INFO_SZ, FAULT_RO }, st);
		run_info(self, &(struct info_req){ i, 8, FAULT_RO }, st);
	}
	for (i = 0; i < ARRAY_SIZE(bad_index); i++) {
		run_info(self, &(struct info_req){ bad_index[i], INFO_SZ }, st);
		run_info(self, &(struct info_req){ bad_index[i], INFO_SZ, FAULT_RO }, st);
	}
}

/* Enters state st, runs the GET_IRQ_INFO cases, then every table row. */
static void run_table(SELF *self, enum state st)
{
	struct snap entered_snap[2], after[2];
	int cases = self->cases, mismatches = self->mismatches;
	struct timespec t0, t1;
	char ctx[64];
	bool entered;
	size_t i;

	if (!state_applies(self, st)) {
		vfio_note("state %s: not on %s", state_names[st],
			  self->model ? self->model->name : "this device");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(ctx, sizeof(ctx), "entering state %s", state_names[st]);
	if (!enter_state(self, st) || !snap_both(self, entered_snap, ctx)) {
		reset_both(self, ctx);
		vfio_note("state %s: the twins cannot enter it alike, skipped", state_names[st]);
		return;
	}
	run_info_cases(self, st);
	snprintf(ctx, sizeof(ctx), "state %s, after GET_IRQ_INFO", state_names[st]);
	entered = snap_both(self, after, ctx) && !memcmp(after, entered_snap, sizeof(after));
	if (!entered) {
		mismatch(self, "%s: the state changed", ctx);
		reset_both(self, ctx);
	}
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		/* With ERR and REQ set, INTx, MSI and MSI-X are as in "none". */
		if (st == S_SINGLE && rows[i].index <= MSIX)
			continue;
		if (!run_row(self, st, &rows[i], &entered, entered_snap)) {
			vfio_note("state %s: the twins cannot enter it alike, skipped",
				  state_names[st]);
			break;
		}
	}
	if (entered)
		reset_both(self, "end of table");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vfio_note("state %s: %d cases in %.1f s, %d mismatches", state_names[st],
		  self->cases - cases, elapsed(&t0, &t1), self->mismatches - mismatches);
}

/*
 * From each state: GET_IRQ_INFO cases, then the table of SET_IRQS
 * requests (one TAP test: setting up the twins is slow in a TCG guest).
 */
TEST_F_TIMEOUT(diff, table, 400)
{
	enum state st;

	if (getenv("VPI_SEED") && *getenv("VPI_SEED"))
		SKIP(return, "VPI_SEED replays a random sequence: no table");
	vfio_note("%s: vectors INTx %u, MSI %u, MSI-X %u%s, ERR %u, REQ %u",
		  self->model ? self->model->name : "unknown model", self->n[INTX], self->n[MSI],
		  self->n[MSIX], self->dyn_msix ? " (dynamic)" : "", self->n[ERR], self->n[REQ]);
	if (!self->model)
		vfio_note("unknown device model: GET_IRQ_INFO only compared between the twins");
	for (st = S_NONE; st <= S_SINGLE; st++)
		run_table(self, st);
	ASSERT_EQ(0, self->mismatches);
}

/* Random sequences: splitmix64, so that a seed replays anywhere. */
static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static uint32_t pick(const uint32_t *v, size_t n)
{
	return v[below(n)];
}

#define PICK(...) pick((const uint32_t[]){ __VA_ARGS__ }, \
		       sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))

enum op_kind {
	OP_SET, OP_INFO, OP_DISINTX, OP_RECYCLE, OP_REOPEN, OP_RESET, OP_CHECK,
	OP_RAISE, OP_ACK, OP_CFG, OP_SIGNAL,
};

/* What a config-space write (OP_CFG) writes. */
enum cfg_kind { CFG_CMD, CFG_MSI, CFG_MSIX };

struct op {
	enum op_kind kind;
	struct req r;
	struct info_req q;
	uint32_t arg;		/* INTx-disable on, pool entry, edu bits, EICS mask */
	uint32_t sub;		/* OP_RAISE: igb legacy cause; OP_CFG: cfg_kind */
	bool prep;		/* OP_RAISE: memory and bus master on first */
	uint32_t off, len, val;	/* OP_CFG: len bytes at off, value */
};

static void gen_set(const SELF *self, struct req *r)
{
	uint32_t p = below(100), n, i, exact;

	memset(r, 0, sizeof(*r));
	if (p < 25)
		r->index = INTX;
	else if (p < 40)
		r->index = MSI;
	else if (p < 65)
		r->index = MSIX;
	else if (p < 80)
		r->index = ERR;
	else if (p < 96)
		r->index = REQ;
	else
		r->index = PICK(NUM_IRQS, 6, 0x80000000, UINT32_MAX);

	/* Masking matters for INTx; elsewhere it is only refused. */
	p = below(100);
	if (p < (r->index == INTX ? 20 : 5))
		r->flags = MASK;
	else if (p < (r->index == INTX ? 45 : 10))
		r->flags = UNMASK;
	else if (p < 95)
		r->flags = TRIG;
	else
		r->flags = PICK(0, MASK | UNMASK, MASK | TRIG, UNMASK | TRIG, MASK | UNMASK | TRIG);

	p = below(100);
	if (p < 35)
		r->flags |= DATA_NONE;
	else if (p < 55)
		r->flags |= DATA_BOOL;
	else if (p < 94)
		r->flags |= DATA_EFD;
	else if (p < 97)
		r->flags |= PICK(0, DATA_NONE | DATA_BOOL, DATA_BOOL | DATA_EFD,
				 DATA_NONE | DATA_EFD, 0x7);
	else
		r->flags |= DATA_EFD | (1u << (6 + below(26)));

	n = r->index < NUM_IRQS ? self->n[r->index] : 4;
	if (!n)
		n = 1;
	p = below(100);
	if (p < 58) {
		r->start = below(n);
		r->count = 1 + below(n - r->start);
	} else if (p < 78) {
		r->start = below(4) ? 0 : below(n);
		r->count = 0;
	} else if (p < 86) {
		r->count = n;
	} else if (p < 96) {
		if (below(2)) {
			r->start = n + below(3);
			r->count = below(3);
		} else {
			r->start = below(n);
			r->count = n - r->start + 1 + below(2);
		}
	} else {
		static const uint32_t huge[][2] = {
			{ 0, UINT32_MAX }, { 1, UINT32_MAX - 1 }, { UINT32_MAX, 0 },
			{ 0x80000000, 0x80000000 }, { 2, UINT32_MAX - 3 },
		};

		i = below(5);
		r->start = huge[i][0];
		r->count = huge[i][1];
	}

	r->ndata = r->count < MAX_ELEMS ? r->count : MAX_ELEMS;
	for (i = 0; i < (uint32_t)r->ndata; i++) {
		p = below(100);
		if (p < 55)
			r->fd[i] = r->flags & UNMASK ?
				   FD_POOL(TRIG_POOL + below(POOL - TRIG_POOL)) :
				   FD_POOL(below(TRIG_POOL));
		else if (p < 72)
			r->fd[i] = -1;
		else if (p < 78)
			r->fd[i] = PICK(-5, -2, INT_MIN);
		else if (p < 86)
			r->fd[i] = FD_CLOSED;
		else if (p < 94)
			r->fd[i] = FD_PIPE;
		else
			r->fd[i] = FD_HUGE;
		p = below(100);
		r->b[i] = p < 45 ? 0 : p < 90 ? 1 : PICK(2, 0x80, 0xff);
	}

	exact = req_argsz(r);
	p = below(100);
	if (p < 85) {
		/* exact */
	} else if (p < 90) {
		r->has_argsz = true;
		r->argsz = exact > HDR_SZ ? exact - 1 - below(exact - HDR_SZ) : HDR_SZ - 1;
	} else if (p < 95) {
		r->has_argsz = true;
		r->argsz = exact + 1 + below(64);
	} else {
		r->has_argsz = true;
		r->argsz = below(HDR_SZ);
	}

	p = below(100);
	if (p < 2)
		r->fault = FAULT_DATA;
	else if (p < 3)
		r->fault = PICK(FAULT_HDR, FAULT_NULL);
}

/* The command register bits the random configuration writes set or clear. */
#define CMD_BITS	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
			 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

static bool is_igb(const SELF *self)
{
	return self->model && self->model->vendor == IGB_VENDOR_ID;
}

static void gen_cfg(const SELF *self, struct op *op)
{
	/* The command register alone, a byte of it, with status, its low byte. */
	static const uint8_t cmd_writes[][2] = {
		{ PCI_COMMAND, 2 }, { PCI_COMMAND + 1, 1 }, { PCI_COMMAND, 4 }, { PCI_COMMAND, 1 },
	};
	uint32_t p = below(100), i;

	if (p < 50 || (!self->msi_cap && !self->msix_cap)) {
		op->sub = CFG_CMD;
		i = below(ARRAY_SIZE(cmd_writes));
		op->off = cmd_writes[i][0];
		op->len = cmd_writes[i][1];
		op->val = (below(100) < 85 ? PCI_COMMAND_MEMORY : 0) |
			  (below(100) < 85 ? PCI_COMMAND_MASTER : 0) |
			  (below(100) < 25 ? PCI_COMMAND_INTX_DISABLE : 0) |
			  (below(100) < 5 ? PCI_COMMAND_IO | PCI_COMMAND_PARITY |
					    PCI_COMMAND_SERR : 0);
	} else if (self->msi_cap && (p < 80 || !self->msix_cap)) {
		op->sub = CFG_MSI;
		op->off = self->msi_cap + PCI_MSI_FLAGS;
		op->len = 2;
		op->val = (below(2) ? PCI_MSI_FLAGS_ENABLE : 0) | below(8) << 4 |
			  (below(10) ? 0 : (uint32_t)rnd() & 0xff00);
	} else {
		op->sub = CFG_MSIX;
		op->off = self->msix_cap + PCI_MSIX_FLAGS;
		op->len = 2;
		op->val = (below(2) ? PCI_MSIX_FLAGS_ENABLE : 0) |
			  (below(2) ? PCI_MSIX_FLAGS_MASKALL : 0);
	}
}

static void gen_raise(const SELF *self, struct op *op)
{
	uint32_t nvec = self->model && self->model->msix ? self->model->msix : 1;

	op->prep = below(10) != 0;
	if (is_igb(self)) {
		op->sub = below(100) < 70 ? 0 : 1;
		op->arg = below(4) ? 1u << below(nvec) : (uint32_t)rnd() & ((1u << nvec) - 1);
	} else {
		op->arg = 1u << below(8);
	}
}

/*
 * A request that enables (or, when enabled, changes) INTx, MSI or MSI-X
 * with pool eventfds: random requests rarely do, and device-raised
 * interrupts need something enabled.
 */
static void gen_enable(const SELF *self, struct req *r)
{
	uint32_t i, n;

	memset(r, 0, sizeof(*r));
	/* MSI-X, where there is one: most vectors, most device interrupts. */
	do
		r->index = self->n[MSIX] && below(2) ? MSIX : below(3);
	while (!self->n[r->index] && (self->n[INTX] || self->n[MSI] || self->n[MSIX]));
	n = self->n[r->index] ? self->n[r->index] : 1;
	r->flags = DATA_EFD | TRIG;
	r->start = r->index == MSIX && below(3) ? below(n) : 0;
	r->count = 1 + below(n - r->start);
	r->ndata = r->count < MAX_ELEMS ? r->count : MAX_ELEMS;
	for (i = 0; i < (uint32_t)r->ndata; i++)
		r->fd[i] = below(8) ? FD_POOL(below(TRIG_POOL)) : -1;
}

static void gen_op(const SELF *self, struct op *op)
{
	uint32_t p = below(1000);
	bool dev = self->model;

	memset(op, 0, sizeof(*op));
	if (p < 600) {
		op->kind = OP_SET;
		gen_set(self, &op->r);
	} else if (p < 660) {
		op->kind = OP_SET;
		gen_enable(self, &op->r);
	} else if (p < 730) {
		op->kind = OP_INFO;
		op->q.index = below(10) ? below(NUM_IRQS) : PICK(NUM_IRQS, UINT32_MAX);
		p = below(100);
		op->q.argsz = p < 80 ? INFO_SZ : p < 88 ? below(INFO_SZ) : PICK(32, UINT32_MAX);
		p = below(100);
		op->q.fault = p < 3 ? FAULT_NULL : p < 6 ? FAULT_RO : FAULT_NONE;
	} else if (p < 760) {
		op->kind = OP_DISINTX;
		op->arg = below(2);
	} else if (p < 800) {
		op->kind = OP_CFG;
		gen_cfg(self, op);
	} else if (p < 890) {
		/* Device-raised interrupts need a known device model. */
		op->kind = dev ? OP_RAISE : OP_CHECK;
		gen_raise(self, op);
	} else if (p < 915) {
		op->kind = dev ? OP_ACK : OP_CHECK;
	} else if (p < 940) {
		op->kind = OP_RECYCLE;
		op->arg = below(POOL);
	} else if (p < 950) {
		/* An unmask eventfd signalled, as by a VMM's resampler. */
		op->kind = OP_SIGNAL;
		op->arg = TRIG_POOL + below(POOL - TRIG_POOL);
	} else if (p < 955) {
		/* Rare: releasing a device resets it, which takes seconds. */
		op->kind = OP_REOPEN;
	} else if (p < 965) {
		op->kind = OP_RESET;
	} else {
		op->kind = OP_CHECK;
	}
}

static void describe_op(const SELF *self, const struct op *op, char *s, size_t len)
{
	static const char * const cfg[] = { "PCI_COMMAND", "MSI flags", "MSI-X flags" };

	switch (op->kind) {
	case OP_SET:
		describe_req(&op->r, s, len);
		break;
	case OP_INFO:
		describe_info(&op->q, s, len);
		break;
	case OP_DISINTX:
		snprintf(s, len, "config write: PCI_COMMAND INTx-disable %u", op->arg);
		break;
	case OP_RECYCLE:
		snprintf(s, len, "close pool eventfd e%u, open a new one", op->arg);
		break;
	case OP_SIGNAL:
		snprintf(s, len, "signal pool eventfd e%u (unmask)", op->arg);
		break;
	case OP_REOPEN:
		snprintf(s, len, "close and reopen the device fd");
		break;
	case OP_RESET:
		snprintf(s, len, "VFIO_DEVICE_RESET");
		break;
	case OP_CHECK:
		snprintf(s, len, "loopback check");
		break;
	case OP_RAISE:
		if (!is_igb(self))
			snprintf(s, len, "device raise: edu IRQ_RAISE 0x%x%s", op->arg,
				 op->prep ? " (memory and bus master on first)" : "");
		else if (op->sub)
			snprintf(s, len, "device raise: igb ICS MDAC (legacy cause)%s",
				 op->prep ? " (memory and bus master on first)" : "");
		else
			snprintf(s, len, "device raise: igb EICS 0x%x%s", op->arg,
				 op->prep ? " (memory and bus master on first)" : "");
		break;
	case OP_ACK:
		snprintf(s, len, "device ack: %s", is_igb(self) ? "igb causes cleared and masked" :
			 "edu IRQ_ACK of IRQ_STATUS");
		break;
	case OP_CFG:
		snprintf(s, len, "config write: %s, %u bytes at 0x%x, value 0x%x", cfg[op->sub],
			 op->len, op->off, op->val);
		break;
	}
}

/* BAR0 by pread/pwrite: a mapping faults while memory decoding is off. */
static int bar0_rw(struct twin *tw, bool write, uint32_t off, uint32_t *val)
{
	uint64_t at = tw->dev.bar[0].offset + off;
	ssize_t n;

	n = write ? pwrite(tw->dev.device_fd, val, 4, at) : pread(tw->dev.device_fd, val, 4, at);
	if (n == 4)
		return 0;
	return n < 0 ? -errno : -EIO;
}

static int bar0_write(struct twin *tw, uint32_t off, uint32_t val)
{
	return bar0_rw(tw, true, off, &val);
}

/* Whether index idx is enabled: a DATA_BOOL false loopback passes only then. */
static bool type_enabled(SELF *self, struct twin *tw, uint32_t idx)
{
	return !set_simple(self, tw, DATA_BOOL | TRIG, idx, 0, 1, 0, 0);
}

/*
 * Makes a twin's device raise an interrupt; returns what is compared (0,
 * 1 when skipped, -errno). igb causes are raised only with the interrupt
 * type that delivers them enabled: the igb twins share their INTx line, so
 * an unhandled level interrupt of one would storm the other's handler.
 */
static int raise_twin(SELF *self, struct twin *tw, const struct op *op)
{
	const uint16_t on = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	uint16_t cmd;
	int ret = 0, v;

	if (op->prep) {
		ret = vfio_config_read16(&tw->dev, PCI_COMMAND, &cmd);
		if (!ret && (cmd & on) != on)
			ret = vfio_config_write16(&tw->dev, PCI_COMMAND, cmd | on);
		if (ret)
			return ret;
	}
	if (!is_igb(self))
		return bar0_write(tw, EDU_IRQ_RAISE, op->arg);
	if (op->sub) {
		if (!type_enabled(self, tw, MSI) && !type_enabled(self, tw, INTX))
			return 1;
		ret = bar0_write(tw, IGB_GPIE, 0);
		if (!ret)
			ret = bar0_write(tw, IGB_IMS, IGB_ICR_MDAC);
		if (!ret)
			ret = bar0_write(tw, IGB_ICS, IGB_ICR_MDAC);
		return ret;
	}
	if (!type_enabled(self, tw, MSIX))
		return 1;
	ret = bar0_write(tw, IGB_GPIE, IGB_GPIE_MULTIPLE_MSIX);
	for (v = 0; !ret && v < IGB_MSIX_VECTORS; v++)
		ret = bar0_write(tw, IGB_EITR(v), 0);
	if (!ret)
		ret = bar0_write(tw, IGB_EIAC, IGB_MSIX_ALL);
	if (!ret)
		ret = bar0_write(tw, IGB_EIMS, IGB_MSIX_ALL);
	if (!ret)
		ret = bar0_write(tw, IGB_EICS, op->arg);
	return ret;
}

/*
 * Lowers what a twin's device raised: edu's status acknowledged (returns
 * the status), igb's causes masked and cleared (returns 0), or -errno.
 */
static int ack_twin(SELF *self, struct twin *tw)
{
	uint32_t status = 0;
	int ret;

	if (is_igb(self)) {
		ret = bar0_write(tw, IGB_EIMC, ~0u);
		if (!ret)
			ret = bar0_write(tw, IGB_IMC, ~0u);
		if (!ret)
			ret = bar0_write(tw, IGB_EICR, ~0u);
		if (!ret)
			ret = bar0_write(tw, IGB_ICR, ~0u);
		return ret;
	}
	ret = bar0_rw(tw, false, EDU_IRQ_STATUS, &status);
	if (!ret && status)
		ret = bar0_write(tw, EDU_IRQ_ACK, status);
	return ret ? ret : (int)(status & 0x7fffffff);
}

/* A config-space write; returns the register read back, or -errno. */
static int cfg_twin(SELF *self, struct twin *tw, const struct op *op)
{
	uint8_t buf[4];
	uint16_t val;
	int ret;

	if (op->sub == CFG_CMD) {
		ret = vfio_config_read(&tw->dev, PCI_COMMAND, buf, sizeof(buf));
		if (ret)
			return ret;
		val = (buf[0] | buf[1] << 8) & ~CMD_BITS;
		val |= op->val;
		buf[0] = val;
		buf[1] = val >> 8;
		ret = vfio_config_write(&tw->dev, op->off, buf + op->off - PCI_COMMAND, op->len);
		if (ret)
			return ret;
		ret = vfio_config_read16(&tw->dev, PCI_COMMAND, &val);
		return ret ? ret : val & CMD_BITS;
	}
	buf[0] = op->val;
	buf[1] = op->val >> 8;
	ret = vfio_config_write(&tw->dev, op->off, buf, op->len);
	if (ret)
		return ret;
	ret = vfio_config_read16(&tw->dev, op->off, &val);
	return ret ? ret : val;
}

/* Runs one op on one twin; returns what is compared. */
static int twin_op(SELF *self, struct twin *tw, const struct op *op, struct info_res *info)
{
	uint16_t cmd;
	int ret;

	switch (op->kind) {
	case OP_SET:
		return do_set(self, tw, &op->r);
	case OP_INFO:
		do_info(self, tw, &op->q, info);
		return info->ret;
	case OP_DISINTX:
		self->cmd_touched = true;
		ret = vfio_config_read16(&tw->dev, PCI_COMMAND, &cmd);
		if (ret)
			return ret;
		cmd = op->arg ? cmd | CMD_INTX_DISABLE : cmd & ~CMD_INTX_DISABLE;
		ret = vfio_config_write16(&tw->dev, PCI_COMMAND, cmd);
		if (ret)
			return ret;
		ret = vfio_config_read16(&tw->dev, PCI_COMMAND, &cmd);
		return ret ? ret : cmd;
	case OP_RECYCLE:
		close(tw->pool[op->arg]);
		tw->pool[op->arg] = vfio_eventfd();
		return tw->pool[op->arg] < 0 ? tw->pool[op->arg] : 0;
	case OP_SIGNAL:
		return eventfd_write(tw->pool[op->arg], 1) ? -errno : 0;
	case OP_REOPEN:
		return reopen(tw);
	case OP_RESET:
		ret = ioctl(tw->dev.device_fd, VFIO_DEVICE_RESET);
		return ret < 0 ? -errno : ret;
	case OP_CHECK:
		break;
	case OP_RAISE:
		self->dev_touched = true;
		self->cmd_touched |= op->prep;
		return raise_twin(self, tw, op);
	case OP_ACK:
		self->dev_touched = true;
		return ack_twin(self, tw);
	case OP_CFG:
		self->cmd_touched |= op->sub == CFG_CMD;
		return cfg_twin(self, tw, op);
	}
	return 0;
}

/*
 * Turns memory space on for BAR accesses (they fail with it off; the
 * device's line does not care) and saves the command register in *cmd.
 */
static int memory_on(struct twin *tw, uint16_t *cmd)
{
	int ret = vfio_config_read16(&tw->dev, PCI_COMMAND, cmd);

	if (!ret && !(*cmd & PCI_COMMAND_MEMORY))
		ret = vfio_config_write16(&tw->dev, PCI_COMMAND, *cmd | PCI_COMMAND_MEMORY);
	return ret;
}

static void memory_restore(struct twin *tw, uint16_t cmd)
{
	if (!(cmd & PCI_COMMAND_MEMORY))
		vfio_config_write16(&tw->dev, PCI_COMMAND, cmd);
}

/*
 * Lets the platform see an edu's INTx line again after INTx was enabled:
 * the status bits it raised are acknowledged and raised again, on both
 * twins alike. On hardware this changes nothing (a level line that stays
 * asserted is seen when its pin is unmasked). QEMU's IOAPIC, though,
 * ignores a line that rises while its pin is masked in edge mode, which
 * is how the kernel leaves a pin without handler (ioapic_mask_entry() on
 * deactivation); a line asserted before request_irq() (the DisINTx bit
 * cleared by INTx enable, or raised while INTx was off) is then never
 * delivered, whatever the driver: vfio-pci on both twins shows it too.
 * Lowering and raising the line again gives the IOAPIC the level it
 * missed; a twin whose interrupt did arrive has the line masked by then,
 * or takes its interrupt either way, exactly once. Memory space is turned
 * on for the two BAR accesses if the sequence had turned it off, and back
 * off after.
 */
static void resample_line(SELF *self, struct twin *tw)
{
	uint16_t cmd;
	int status;

	if (is_igb(self) || memory_on(tw, &cmd))
		return;
	status = ack_twin(self, tw);
	if (status > 0)
		bar0_write(tw, EDU_IRQ_RAISE, status);
	memory_restore(tw, cmd);
}

/*
 * Collects what arrives on both twins' pools until their totals are equal
 * and nothing came for quiet_ms, or SETTLE_MAX_MS passed, then compares:
 * an interrupt a device raised (or a line that was still asserted when a
 * handler came) arrives a little later on one twin than on the other.
 */
#define SETTLE_MAX_MS	3000

static void dump_phys(SELF *self, bool irq_state);

/*
 * The twin's INTx interrupts so far, or -1: the per-CPU counts of its
 * Linux interrupt (/sys/kernel/irq/N/per_cpu_count, which is cheaper to
 * read before every operation than /proc/interrupts).
 */
static long intx_irqs(struct twin *tw)
{
	char path[PATH_MAX], line[1024], *p, *end;
	unsigned int irq = tw->irq;
	long sum = 0;
	FILE *f;

	if (!irq)
		return -1;
	snprintf(path, sizeof(path), "/sys/kernel/irq/%u/per_cpu_count", irq);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f))
		sum = -1;
	fclose(f);
	for (p = line; sum >= 0; p = *end == ',' ? end + 1 : end) {
		long n = strtol(p, &end, 10);

		if (end == p)
			break;
		sum += n;
	}
	return sum;
}

/* Whether a twin's edu asserts INTx (the status register's bit), or -1. */
static int line_high(struct twin *tw)
{
	char path[PATH_MAX];
	uint16_t sts;
	int fd, ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", tw->dev.bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = pread(fd, &sts, sizeof(sts), PCI_STATUS) == sizeof(sts) ?
	      !!(sts & PCI_STATUS_INTERRUPT) : -1;
	close(fd);
	return ret;
}

/*
 * QEMU's IOAPIC latches a rising line in its IRR, and a pin in edge mode
 * (how the kernel leaves a pin without handler) neither drops the latch
 * when the line falls nor delivers it while masked. A line that was high
 * when the twin's INTx handler was freed and fell after keeps the latch,
 * and the next request_irq() (or unmask) of the pin delivers one
 * interrupt with the line low: on an exclusive line (nointxmask) the
 * INTx handler cannot check the device and signals it. Real IOAPICs
 * sample the line instead. Such an interrupt is told apart by all of:
 * exclusive INTx on edu; one twin got exactly one more count, on one
 * eventfd; its Linux INTx interrupt did fire during the operation; and
 * neither device asserts its line. Then the latch is cleared (the line
 * raised and lowered while the pin is in level mode, with the handler's
 * automask keeping the count) and both twins are set back to the same
 * state (resync). Anything else is a mismatch.
 */
static bool stale_latch(SELF *self, uint64_t acc[2][POOL])
{
	int t, extra = -1, i, diffs = 0;
	uint16_t cmd;

	if (!self->exclusive || !self->model || is_igb(self))
		return false;
	for (i = 0; i < POOL; i++) {
		if (acc[ORACLE][i] == acc[SUBJECT][i])
			continue;
		t = acc[ORACLE][i] > acc[SUBJECT][i] ? ORACLE : SUBJECT;
		if (++diffs > 1 || acc[t][i] - acc[!t][i] != 1)
			return false;
		extra = t;
	}
	if (extra < 0 || self->irqs_before[extra] < 0 ||
	    intx_irqs(&self->tw[extra]) <= self->irqs_before[extra])
		return false;
	if (line_high(&self->tw[ORACLE]) != 0 || line_high(&self->tw[SUBJECT]) != 0)
		return false;
	if (!memory_on(&self->tw[extra], &cmd)) {
		bar0_write(&self->tw[extra], EDU_IRQ_RAISE, 1);
		ack_twin(self, &self->tw[extra]);
		memory_restore(&self->tw[extra], cmd);
	}
	self->latched++;
	self->latch_resync = true;
	return true;
}

static bool settle_counts(SELF *self, const char *after, int quiet_ms)
{
	uint64_t acc[2][POOL], c[POOL];
	double t0 = stress_now(), last = t0, now;
	char a[160], b[160];
	bool changed;
	int t, i;

	memset(acc, 0, sizeof(acc));
	for (;;) {
		changed = false;
		for (t = ORACLE; t <= SUBJECT; t++) {
			drain(&self->tw[t], c);
			for (i = 0; i < POOL; i++) {
				acc[t][i] += c[i];
				changed |= c[i] != 0;
			}
		}
		now = stress_now();
		if (changed)
			last = now;
		if (!memcmp(acc[ORACLE], acc[SUBJECT], sizeof(acc[0])) &&
		    now - last >= quiet_ms / 1e3)
			break;
		if (now - t0 >= SETTLE_MAX_MS / 1e3)
			break;
		usleep(5000);
	}
	for (i = 0; i < POOL; i++)
		self->sc.counted += acc[SUBJECT][i];
	if (!memcmp(acc[ORACLE], acc[SUBJECT], sizeof(acc[0])))
		return true;
	describe_counts(acc[ORACLE], a, sizeof(a));
	describe_counts(acc[SUBJECT], b, sizeof(b));
	if (stale_latch(self, acc)) {
		vfio_note("%s: oracle %s, subject %s: a stale IOAPIC latch, not compared",
			  after, a, b);
		return true;
	}
	mismatch(self, "%s: eventfd counts differ (after %.1f s): oracle %s, subject %s", after,
		 now - t0, a, b);
	dump_phys(self, true);
	return false;
}

/* After a mismatch: back to a clean, equal state (reopening if need be). */
static void resync(SELF *self)
{
	int res[6], t;

	for (t = ORACLE; t <= SUBJECT; t++)
		reset_twin(self, &self->tw[t], res);
	if (self->dev_touched)
		settle_counts(self, "resync", 100);
	if (compare_snaps(self, "resync"))
		return;
	for (t = ORACLE; t <= SUBJECT; t++)
		reopen(&self->tw[t]);
}

#define CHECK_EVERY	10
#define MAX_REPORTED	20

/* How often each SET_IRQS result came up, to judge a sequence. */
struct tally {
	int ret[16];
	unsigned int n[16];
	int used;
};

static void tally_add(struct tally *t, int ret)
{
	int i;

	for (i = 0; i < t->used; i++)
		if (t->ret[i] == ret)
			break;
	if (i == t->used) {
		if (t->used == ARRAY_SIZE(t->ret))
			return;
		t->ret[t->used++] = ret;
	}
	t->n[i]++;
}

static void tally_print(const struct tally *t)
{
	char s[512];
	size_t o = 0;
	int i;

	s[0] = '\0';
	for (i = 0; i < t->used && o < sizeof(s); i++)
		o += snprintf(s + o, sizeof(s) - o, " %s:%u", errname(t->ret[i]), t->n[i]);
	vfio_note("SET_IRQS results:%s", s);
}

/*
 * Clears a stale IOAPIC latch a previous sequence may have left on the
 * twin's pin (see stale_latch()), so that a sequence only depends on its
 * seed: with a handler on the pin (INTx enabled, pin in level mode) the
 * line is raised and lowered, then INTx is disabled again. What the
 * handler signalled meanwhile is dropped. Exclusive INTx on edu only.
 */
static void scrub_latch(SELF *self, struct twin *tw)
{
	uint64_t c[POOL];

	if (!self->exclusive || !self->model || is_igb(self))
		return;
	if (set_simple(self, tw, DATA_EFD | TRIG, INTX, 0, 1, E0, 0))
		return;
	bar0_write(tw, EDU_IRQ_RAISE, 1);
	ack_twin(self, tw);
	set_simple(self, tw, DATA_NONE | TRIG, INTX, 0, 0, 0, 0);
	drain(tw, c);
}

/*
 * A sequence starts from freshly opened devices, quiesced, with memory
 * decoding and bus mastering on and nothing enabled, so that its seed
 * replays it alone (VPI_SEED).
 */
static bool sequence_start(SELF *self, unsigned long long seed)
{
	char ctx[96];
	int t;

	snprintf(ctx, sizeof(ctx), "seed %llu, start", seed);
	for (t = ORACLE; t <= SUBJECT; t++) {
		struct twin *tw = &self->tw[t];
		int ret = reopen(tw);

		if (!ret)
			ret = vfio_config_write16(&tw->dev, PCI_COMMAND,
						  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		if (ret) {
			mismatch(self, "%s: %s: reopen: %s", ctx, tw->role, errname(ret));
			return false;
		}
		if (self->model)
			ack_twin(self, tw);
		scrub_latch(self, tw);
	}
	self->cmd_touched = false;
	self->dev_touched = false;
	settle_counts(self, ctx, 0);
	return reset_both(self, ctx);
}

/*
 * Appends the state the kernel keeps of the Linux interrupt of a twin's
 * INTx line (generic IRQ debugfs): disable depth, and the IRQD_ flags
 * that say whether it is masked, disabled or in progress.
 */
static void irq_state(unsigned int irq, char *out, size_t size)
{
	char path[PATH_MAX], line[256], word[64];
	size_t used = strlen(out);
	FILE *f;

	if (!irq)
		return;
	snprintf(path, sizeof(path), "/sys/kernel/debug/irq/irqs/%u", irq);
	f = fopen(path, "re");
	if (!f)
		return;
	used += snprintf(out + used, size > used ? size - used : 0, " {irq %u", irq);
	while (used < size && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " ddepth: %63s", word) == 1 ||
		    (sscanf(line, " %63s", word) == 1 && !strncmp(word, "IRQD_", 5) &&
		     !strchr(line, ':')))
			used += snprintf(out + used, size - used, " %s", word);
	}
	fclose(f);
	if (used < size)
		snprintf(out + used, size - used, "}");
}

/*
 * With VPI_VERBOSE=2: each twin's command and status registers as the
 * device has them (sysfs, not VFIO's virtual ones) and its interrupt
 * count in /proc/interrupts, after each operation; after a mismatch of
 * the counts, with the state of the INTx interrupt too (irq_state).
 */
static void dump_phys(SELF *self, bool with_irq_state)
{
	char path[PATH_MAX], line[512], out[2][400];
	uint16_t reg[2];
	FILE *f;
	int t, fd;

	for (t = ORACLE; t <= SUBJECT; t++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", self->tw[t].dev.bdf);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		memset(reg, 0, sizeof(reg));
		if (fd >= 0) {
			if (pread(fd, reg, sizeof(reg), PCI_COMMAND) != sizeof(reg))
				memset(reg, 0xff, sizeof(reg));
			close(fd);
		}
		snprintf(out[t], sizeof(out[t]), "cmd 0x%04x sts 0x%04x", reg[0], reg[1]);
		f = fopen("/proc/interrupts", "re");
		while (f && fgets(line, sizeof(line), f)) {
			if (!strstr(line, self->tw[t].dev.bdf))
				continue;
			size_t used = strlen(out[t]);

			line[strcspn(line, "\n")] = '\0';
			snprintf(out[t] + used, sizeof(out[t]) - used, " [%.100s]", line);
		}
		if (f)
			fclose(f);
		if (with_irq_state)
			irq_state(self->tw[t].irq, out[t], sizeof(out[t]));
	}
	vfio_note("  physical: oracle %s; subject %s", out[ORACLE], out[SUBJECT]);
}

/*
 * Whether operation i is to be left out ($VPI_DIFF_SKIP, e.g. "1-40,52"):
 * it is still generated, so the others stay the same. For narrowing a
 * mismatch down to the operations it needs.
 */
static bool skipped(uint32_t i)
{
	const char *p = getenv("VPI_DIFF_SKIP");
	unsigned long a, b;
	char *end;

	while (p && *p) {
		a = strtoul(p, &end, 10);
		b = *end == '-' ? strtoul(end + 1, &end, 10) : a;
		if (end == p)
			return false;
		if (i >= a && i <= b)
			return true;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return false;
}

/*
 * One random sequence of up to ops operations from seed, until the
 * deadline (0: none). Returns the number of operations done.
 */
static uint32_t run_sequence(SELF *self, unsigned long long seed, uint32_t ops, double deadline,
			     struct tally *tally)
{
	char d[1024], ctx[1200];
	uint32_t i;

	rng = seed;
	for (i = 1; i <= ops && self->mismatches < MAX_REPORTED; i++) {
		struct info_res info[2];
		int before = self->mismatches;
		struct op op;
		int ret[2];

		if (deadline && stress_now() > deadline)
			break;
		gen_op(self, &op);
		describe_op(self, &op, d, sizeof(d));
		snprintf(ctx, sizeof(ctx), "seed %llu op %u: %s", seed, i, d);
		if (skipped(i))
			continue;
		memset(info, 0, sizeof(info));
		if (self->exclusive && self->model && !is_igb(self)) {
			self->irqs_before[ORACLE] = intx_irqs(&self->tw[ORACLE]);
			self->irqs_before[SUBJECT] = intx_irqs(&self->tw[SUBJECT]);
		}
		ret[ORACLE] = twin_op(self, &self->tw[ORACLE], &op, &info[ORACLE]);
		ret[SUBJECT] = twin_op(self, &self->tw[SUBJECT], &op, &info[SUBJECT]);
		if (getenv("VPI_VERBOSE"))
			vfio_note("%s -> %s / %s", ctx, errname(ret[ORACLE]),
				  errname(ret[SUBJECT]));
		if (stress_env_ul("VPI_VERBOSE", 0) > 1 && i >= stress_env_ul("VPI_DUMP_FROM", 0))
			dump_phys(self, false);
		self->cases++;
		self->sc.ops++;
		if (op.kind == OP_SET)
			tally_add(tally, ret[ORACLE]);
		if ((op.kind == OP_SET || op.kind == OP_INFO) && ret[ORACLE] < 0)
			self->sc.bad_inputs++;
		if (op.kind == OP_RAISE && !ret[SUBJECT])
			self->sc.raised++;
		if (ret[ORACLE] != ret[SUBJECT])
			mismatch(self, "%s: oracle %s, subject %s", ctx, errname(ret[ORACLE]),
				 errname(ret[SUBJECT]));
		else if (op.kind == OP_INFO &&
			 memcmp(info[ORACLE].buf, info[SUBJECT].buf, INFO_BUF))
			mismatch(self, "%s: GET_IRQ_INFO buffers differ", ctx);
		if (op.kind == OP_SET && op.r.index == INTX && (op.r.flags & TRIG) &&
		    !ret[ORACLE] && !ret[SUBJECT] && self->dev_touched) {
			resample_line(self, &self->tw[ORACLE]);
			resample_line(self, &self->tw[SUBJECT]);
		}
		settle_counts(self, ctx, op.kind == OP_RAISE || op.kind == OP_SIGNAL ? 100 : 0);
		if (stress_env_ul("VPI_VERBOSE", 0) > 1 && i >= stress_env_ul("VPI_DUMP_FROM", 0))
			dump_phys(self, false);
		/* igb: raised causes are cleared at once (see raise_twin()). */
		if (op.kind == OP_RAISE && is_igb(self)) {
			ack_twin(self, &self->tw[ORACLE]);
			ack_twin(self, &self->tw[SUBJECT]);
		}
		if (op.kind == OP_CHECK || op.kind == OP_REOPEN || i % CHECK_EVERY == 0) {
			if (self->dev_touched)
				settle_counts(self, ctx, 50);
			compare_snaps(self, ctx);
		}
		if (self->mismatches != before || self->latch_resync) {
			self->latch_resync = false;
			resync(self);
		}
	}
	i--;
	snprintf(ctx, sizeof(ctx), "seed %llu, after op %u", seed, i);
	if (self->dev_touched)
		settle_counts(self, ctx, 100);
	compare_snaps(self, ctx);
	reset_both(self, ctx);
	return i;
}

/* The time budget of random_sequence (0: none), see below. */
static unsigned long random_budget(void)
{
	const char *seed = getenv("VPI_SEED"), *budget = getenv("VPI_DIFF_BUDGET");

	if (seed && *seed && !(budget && *budget))
		return 0;
	return stress_budget("VPI_DIFF_BUDGET", 30);
}

/*
 * Random sequences of $VPI_DIFF_OPS operations (default 300) each, one
 * seed per sequence, until the time budget is used up: $VPI_DIFF_BUDGET
 * seconds, else 30 (`make check`) or $VPI_STRESS_SECONDS (VPI_STRESS=1,
 * `make stress`). VPI_SEED=N runs the one sequence of seed N, to the end
 * unless VPI_DIFF_BUDGET is set too: a sequence only depends on its seed.
 * Operations: SET_IRQS valid and malformed, GET_IRQ_INFO, config-space
 * writes (command register, MSI and MSI-X flags), interrupts raised by
 * the device (edu IRQ_RAISE, igb EICS and ICS) and acknowledged, eventfds
 * closed and replaced, device reset, close and reopen.
 */
TEST_F_TIMEOUT(diff, random_sequence, 400)
{
	const char *env = getenv("VPI_SEED");
	uint32_t ops = stress_env_ul("VPI_DIFF_OPS", 300), done;
	unsigned long budget = random_budget();
	unsigned long long seed, base;
	double t0 = stress_now(), deadline = budget ? t0 + budget : 0, s0;
	int kmsg = stress_kmsg_open(), seqs = 0, before;
	struct tally tally = { 0 };
	struct timespec ts;

	if (env && *env) {
		base = strtoull(env, NULL, 0);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		base = (unsigned long long)ts.tv_sec * 1000000007ull + ts.tv_nsec;
	}
	vfio_note("%s, %u operations per sequence, budget %lu s%s",
		  self->model ? self->model->name : "unknown model", ops, budget,
		  budget ? "" : " (none)");
	do {
		seed = base + seqs;
		vfio_note("seed: %llu", seed);
		before = self->mismatches;
		s0 = stress_now();
		if (!sequence_start(self, seed))
			break;
		done = run_sequence(self, seed, ops, deadline, &tally);
		seqs++;
		vfio_note("sequence %d: seed %llu, %u operations in %.1f s, %d mismatches",
			  seqs, seed, done, stress_now() - s0, self->mismatches - before);
		if (self->mismatches != before)
			vfio_note("replay: VPI_SEED=%llu VPI_DIFF_OPS=%u", seed, done);
	} while ((!(env && *env) || seqs < stress_env_ul("VPI_DIFF_SEQS", 1)) &&
		 (!deadline || stress_now() < deadline) && self->mismatches < MAX_REPORTED);
	tally_print(&tally);
	if (self->latched)
		vfio_note("stale IOAPIC latches excused: %lu", self->latched);
	self->sc.seqs = seqs;
	self->sc.mismatches = self->mismatches;
	self->sc.splats = stress_kmsg_splats(kmsg);
	stress_summary("vfio_irq_diff_test", self->model ? self->model->name : "unknown",
		       &self->sc, stress_now() - t0);
	ASSERT_EQ(0, self->mismatches);
	ASSERT_EQ(0, self->sc.splats) TH_LOG("kernel splats during the random sequences");
}

int main(int argc, char **argv)
{
	const char *oracle = getenv("VPI_ORACLE_BDF"), *subject = getenv("VPI_BDF");
	unsigned long budget = random_budget();

	/* Test children end with _exit(): keep no output in stdio buffers. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!oracle || !*oracle || !subject || !*subject) {
		ksft_print_header();
		ksft_exit_skip("set VPI_ORACLE_BDF (vfio-pci) and VPI_BDF (vfio-pci-intrs)\n");
	}
	/* The harness's timeout of random_sequence follows its budget. */
	_diff_random_sequence_object->timeout = budget ? budget + 340 : 3600;
	vfio_note("oracle %s, subject %s", oracle, subject);
	return test_harness_run(argc, argv);
}
