/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the reliability tests share (vfio_irq_diff_test's random sequences,
 * vfio_concurrency_test, vfio_fault_test, vfio_load_helper): run length
 * from the environment, the kernel log watched for splats, and the one
 * summary line each prints, which `make stress` (tools/stress.sh) adds up.
 *
 * Environment:
 *   VPI_STRESS=1          the long runs of `make stress` (default: the
 *                         bounded runs of `make check`);
 *   VPI_STRESS_SECONDS=N  the time budget of each stress run (default 300).
 *
 * Header only: each test is one C file plus vfio_util.c.
 */
#ifndef VFIO_STRESS_H
#define VFIO_STRESS_H

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline unsigned long stress_env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

/* Whether this is a `make stress` run (VPI_STRESS=1). */
static inline bool stress_mode(void)
{
	return stress_env_ul("VPI_STRESS", 0) != 0;
}

/*
 * The time budget of a run: $name if set, else VPI_STRESS_SECONDS (default
 * 300) in stress mode, else check_default.
 */
static inline unsigned long stress_budget(const char *name, unsigned long check_default)
{
	const char *v = getenv(name);

	if (v && *v)
		return strtoul(v, NULL, 0);
	if (stress_mode())
		return stress_env_ul("VPI_STRESS_SECONDS", 300);
	return check_default;
}

static inline double stress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What a run did, for its summary line. */
struct stress_counts {
	unsigned long seqs;		/* sequences (seeds, rounds, sweeps) */
	unsigned long ops;		/* operations (ioctls, writes, opens) */
	unsigned long bad_inputs;	/* operations meant to be refused */
	unsigned long faults;		/* failures injected */
	unsigned long survived;		/* ...after which all checks passed */
	unsigned long raised;		/* interrupts raised (device, loopback) */
	unsigned long counted;		/* eventfd counts seen */
	unsigned long mismatches;	/* differences or failed checks */
	unsigned long splats;		/* kernel splats in the log */
};

/*
 * The kernel log from the moment stress_kmsg_open() was called: the
 * splats the runner (tools/vm/run.sh) fails a run for.
 */
#define STRESS_SPLAT "BUG:|WARNING:|KASAN|UBSAN|Oops|general protection|Kernel panic" \
	"|kernel BUG at|possible circular locking|possible recursive locking" \
	"|inconsistent lock state|suspicious RCU usage|INFO: possible" \
	"|INFO: trying to register non-static key|unreferenced object" \
	"|suspected memory leak|rcu: INFO:|detected stall|blocked for more than" \
	"|soft lockup|hard LOCKUP|sleeping function called from invalid context" \
	"|scheduling while atomic|Call Trace:|nobody cared"

static inline int stress_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Reads the kernel log written since stress_kmsg_open(); prints and counts
 * the lines that are splats. Returns the count (0 when fd < 0: no log).
 */
static inline unsigned long stress_kmsg_splats(int fd)
{
	unsigned long n = 0;
	char rec[8192];
	regex_t re;
	ssize_t len;

	if (fd < 0)
		return 0;
	if (regcomp(&re, STRESS_SPLAT, REG_EXTENDED | REG_NOSUB))
		return 0;
	for (;;) {
		char *msg;

		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (len <= 0)
			break;
		rec[len] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		/* Guest scripts' results travel in the log too. */
		if (strstr(msg, "vpi-result:") || strstr(msg, "vpi-init:"))
			continue;
		if (!regexec(&re, msg, 0, NULL, 0)) {
			if (n < 20)
				printf("# kernel: %s\n", msg);
			n++;
		}
	}
	regfree(&re);
	return n;
}

/* The summary line (tools/stress.sh adds these up). */
static inline void stress_summary(const char *test, const char *label,
				  const struct stress_counts *c, double secs)
{
	printf("# summary: test=%s run=%s seconds=%.0f", test, label, secs);
	printf(" seqs=%lu ops=%lu bad_inputs=%lu", c->seqs, c->ops, c->bad_inputs);
	printf(" faults_injected=%lu faults_survived=%lu", c->faults, c->survived);
	printf(" irqs_raised=%lu irqs_counted=%lu", c->raised, c->counted);
	printf(" mismatches=%lu splats=%lu\n", c->mismatches, c->splats);
	fflush(stdout);
}

#endif /* VFIO_STRESS_H */
