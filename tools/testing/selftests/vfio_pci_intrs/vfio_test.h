/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the device tests share on top of the kselftest harness: assertions
 * on vfio_util calls and on eventfds, and main(). Include it after
 * kselftest_harness.h and vfio_util.h.
 *
 * ASSERT_OK() logs the error text of the fixture's device, so it needs a
 * fixture with a "struct vfio_dev dev" member; ASSERT_DEV_OK() names the
 * device. A test may define IRQ_WAIT_MS and QUIET_MS before the include.
 */
#ifndef VFIO_TEST_H
#define VFIO_TEST_H

#include <stdint.h>
#include <string.h>

/*
 * The harness gives each test 30 s unless told otherwise. The tests run in
 * a TCG guest, which a loaded host slows down several times: allow more.
 * (TEST_F() expands the macro where the test is defined, after this.)
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	120

/* A raised interrupt must reach its eventfd within this time... */
#ifndef IRQ_WAIT_MS
#define IRQ_WAIT_MS	2000
#endif
/* ...and nothing more may arrive within this time afterwards. */
#ifndef QUIET_MS
#define QUIET_MS	200
#endif

/* Asserts that a vfio_util call on dev returned 0, else logs what failed. */
#define ASSERT_DEV_OK(dev, expr) do { \
	int __ret = (expr); \
	ASSERT_EQ(0, __ret) \
		TH_LOG("%s: %s", (dev)->err, strerror(-__ret)); \
} while (0)

#define ASSERT_OK(expr) ASSERT_DEV_OK(&self->dev, expr)

/* Asserts that a vfio_util call failed with -err. */
#define ASSERT_ERR(err, expr) do { \
	int __err = (err), __ret = (expr); \
	ASSERT_EQ(-__err, __ret) \
		TH_LOG("expected %s, got %s", strerror(__err), \
		       __ret ? strerror(-__ret) : "success"); \
} while (0)

/* Asserts that the eventfd gets signalled once, with a count of exactly 1. */
#define ASSERT_FIRES_ONCE(efd) do { \
	uint64_t __count; \
	ASSERT_EQ(1, vfio_eventfd_wait(efd, IRQ_WAIT_MS, &__count)) \
		TH_LOG("%s: no interrupt within %d ms", #efd, IRQ_WAIT_MS); \
	ASSERT_EQ(1, __count) TH_LOG("%s", #efd); \
} while (0)

/* Asserts that the eventfd stays quiet for QUIET_MS. */
#define ASSERT_QUIET(efd) do { \
	uint64_t __count; \
	ASSERT_EQ(0, vfio_eventfd_wait(efd, QUIET_MS, &__count)) \
		TH_LOG("%s: unexpected interrupt, count %llu", #efd, \
		       (unsigned long long)__count); \
} while (0)

/*
 * main() of a test of one device: sets *bdf from the first argument or
 * $VPI_BDF (vfio_test_bdf()), skips the whole test without one, and runs
 * the harness on the remaining arguments.
 */
static inline int vfio_test_main(int argc, char **argv, const char **bdf,
				 const char *what)
{
	*bdf = vfio_test_bdf(argc, argv);
	if (!*bdf) {
		ksft_print_header();
		ksft_exit_skip("no device: pass %s BDF as the first argument or in VPI_BDF\n",
			       what);
	}
	/* The harness parses the remaining options. */
	if (argc > 1 && argv[1] == *bdf) {
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	return test_harness_run(argc, argv);
}

#endif /* VFIO_TEST_H */
