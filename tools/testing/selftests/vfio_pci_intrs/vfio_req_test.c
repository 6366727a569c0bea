// SPDX-License-Identifier: GPL-2.0
/*
 * The device request interrupt (REQ) through a VFIO PCI driver: while the
 * device is open, unbinding its driver blocks and signals the REQ eventfd;
 * closing the device lets the unbind finish. Without a REQ eventfd the
 * unbind still finishes once the device is closed. Each test binds the
 * device to its driver again at the end.
 *
 * Usage: vfio_req_test [BDF] [harness options]; the BDF may also come from
 * $VPI_BDF, the driver's name from $VPI_DRIVER (else it is read from
 * sysfs). The device must be bound to the VFIO driver under test, with its
 * driver_override set to that driver (as tools/vm/guest/lib.sh binds).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vfio_util.h"
#include "vfio_test.h"

/* The REQ signal must come within this time after the unbind starts... */
#define REQ_WAIT_MS	10000
/* ...and the unbind must finish within this time after the close. */
#define UNBIND_WAIT_MS	10000
/* How long an unbind must stay blocked while the device is open. */
#define BLOCKED_MS	1000

#define REQ		VFIO_PCI_REQ_IRQ_INDEX
#define TRIGGER		VFIO_IRQ_SET_ACTION_TRIGGER

static const char *req_bdf;

/*
 * Waits up to timeout_ms for child pid to exit: 1 with its wait status in
 * *status when it did, 0 when it still runs, -errno on error.
 */
static int wait_child(pid_t pid, int timeout_ms, int *status)
{
	int waited = 0;
	pid_t ret;

	for (;;) {
		ret = waitpid(pid, status, WNOHANG);
		if (ret == pid)
			return 1;
		if (ret < 0)
			return -errno;
		if (waited >= timeout_ms)
			return 0;
		usleep(10 * 1000);
		waited += 10;
	}
}

FIXTURE(req) {
	struct vfio_dev dev;
	int efd[2];
	pid_t child;		/* the unbinding process, 0 if none */
	char driver[64];
};

FIXTURE_SETUP(req)
{
	const char *env = getenv("VPI_DRIVER");
	struct vfio_irq_info info;
	int i;

	self->child = 0;
	self->efd[0] = -1;
	self->efd[1] = -1;
	self->dev.device_fd = -1;
	self->dev.group_fd = -1;
	self->dev.container_fd = -1;
	ASSERT_EQ(0, vfio_driver_of(req_bdf, self->driver, sizeof(self->driver)))
		TH_LOG("%s is bound to no driver", req_bdf);
	if (env && *env)
		ASSERT_STREQ(env, self->driver);
	ASSERT_OK(vfio_dev_open(&self->dev, req_bdf));
	ASSERT_OK(vfio_irq_info(&self->dev, REQ, &info));
	ASSERT_EQ(1, info.count);
	ASSERT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
	for (i = 0; i < 2; i++) {
		self->efd[i] = vfio_eventfd();
		ASSERT_LE(0, self->efd[i]);
	}
}

/*
 * Binds the device to its driver again, whatever the test left behind (when
 * the harness runs it: not after a failed ASSERT).
 */
FIXTURE_TEARDOWN(req)
{
	char path[PATH_MAX], now[64];
	int status;

	vfio_dev_close(&self->dev);
	if (self->child > 0)
		waitpid(self->child, &status, 0);
	if (vfio_driver_of(req_bdf, now, sizeof(now)) == -ENOENT) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind",
			 self->driver);
		if (vfio_sysfs_write(path, req_bdf))
			TH_LOG("could not bind %s to %s again", req_bdf,
			       self->driver);
	}
	if (self->efd[0] >= 0)
		close(self->efd[0]);
	if (self->efd[1] >= 0)
		close(self->efd[1]);
}

/*
 * Starts unbinding the device in a child process, which first closes its
 * copies of the device's files and of the eventfds efd[0..1] (the close
 * that ends the unbind must be the test's alone). The child exits with 0 or
 * with the errno of the failed write. Returns its pid, or -1.
 */
static pid_t start_unbind(struct vfio_dev *dev, const int *efd)
{
	char path[PATH_MAX];
	pid_t pid;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 req_bdf);
	pid = fork();
	if (pid == 0) {
		vfio_dev_close(dev);
		close(efd[0]);
		close(efd[1]);
		ret = vfio_sysfs_write(path, req_bdf);
		_exit(ret ? -ret : 0);
	}
	return pid;
}

/*
 * Checks that the unbind is still blocked, closes the device, checks that
 * the unbind finishes and leaves the device without driver, then binds it
 * again. Up to the bind, a failed check does not stop the test: the device
 * must get its driver back for the tests that follow, and the 6.12 harness
 * does not run FIXTURE_TEARDOWN after a failed ASSERT.
 */
static void close_and_finish_unbind(struct __test_metadata *_metadata,
				    struct vfio_dev *dev, pid_t child,
				    const char *driver)
{
	char path[PATH_MAX], now[64];
	int status = 0, done;

	EXPECT_EQ(0, wait_child(child, 0, &status))
		TH_LOG("the unbind finished while the device was open");
	vfio_dev_close(dev);
	done = wait_child(child, UNBIND_WAIT_MS, &status);
	EXPECT_EQ(1, done)
		TH_LOG("the unbind did not finish within %d ms of the close",
		       UNBIND_WAIT_MS);
	if (done != 1)
		done = waitpid(child, &status, 0) == child;
	EXPECT_TRUE(done && WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("unbind: status 0x%x", status);
	EXPECT_EQ(-ENOENT, vfio_driver_of(req_bdf, now, sizeof(now)))
		TH_LOG("%s is still bound to %s", req_bdf, now);

	if (vfio_driver_of(req_bdf, now, sizeof(now)) == -ENOENT) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind",
			 driver);
		ASSERT_EQ(0, vfio_sysfs_write(path, req_bdf))
			TH_LOG("bind %s to %s", req_bdf, driver);
	}
	ASSERT_EQ(0, vfio_driver_of(req_bdf, now, sizeof(now)));
	ASSERT_STREQ(driver, now);
	/* Usable again. */
	ASSERT_EQ(0, vfio_dev_open(dev, req_bdf)) TH_LOG("%s", dev->err);
	vfio_dev_close(dev);
}

/* The REQ eventfd (the second one registered) is signalled on unbind. */
TEST_F_TIMEOUT(req, signalled_on_unbind, 180)
{
	uint64_t count;

	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, REQ, 0, 1, &self->efd[0]));
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, REQ, 0, 1, &self->efd[1]));
	/* Loopback: only the eventfd registered last. */
	ASSERT_OK(vfio_irq_set_none(&self->dev, REQ, TRIGGER, 0, 1));
	ASSERT_EQ(1, vfio_eventfd_wait(self->efd[1], QUIET_MS, &count));
	ASSERT_EQ(1, count);
	ASSERT_EQ(0, vfio_eventfd_read(self->efd[0], &count));
	ASSERT_EQ(0, count);

	self->child = start_unbind(&self->dev, self->efd);
	ASSERT_LT(0, self->child);
	EXPECT_EQ(1, vfio_eventfd_wait(self->efd[1], REQ_WAIT_MS, &count))
		TH_LOG("no REQ signal within %d ms of the unbind", REQ_WAIT_MS);
	EXPECT_LE(1, count);
	EXPECT_EQ(0, vfio_eventfd_read(self->efd[0], &count));
	EXPECT_EQ(0, count) TH_LOG("the replaced REQ eventfd was signalled");
	close_and_finish_unbind(_metadata, &self->dev, self->child,
				self->driver);
	self->child = 0;
}

/* No REQ eventfd ever: the unbind waits for the close, then finishes. */
TEST_F_TIMEOUT(req, unregistered_unbind_completes, 180)
{
	uint64_t count;

	ASSERT_EQ(-EINVAL, vfio_irq_set_none(&self->dev, REQ, TRIGGER, 0, 1));
	self->child = start_unbind(&self->dev, self->efd);
	ASSERT_LT(0, self->child);
	usleep(BLOCKED_MS * 1000);
	EXPECT_EQ(0, vfio_eventfd_read(self->efd[0], &count));
	EXPECT_EQ(0, count);
	close_and_finish_unbind(_metadata, &self->dev, self->child,
				self->driver);
	self->child = 0;
}

/* A REQ eventfd registered, then released (-1): the same, no signal. */
TEST_F_TIMEOUT(req, released_unbind_completes, 180)
{
	uint64_t count;
	int none = -1;

	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, REQ, 0, 1, &self->efd[0]));
	ASSERT_OK(vfio_irq_set_eventfds(&self->dev, REQ, 0, 1, &none));
	ASSERT_EQ(-EINVAL, vfio_irq_set_none(&self->dev, REQ, TRIGGER, 0, 1));
	self->child = start_unbind(&self->dev, self->efd);
	ASSERT_LT(0, self->child);
	usleep(BLOCKED_MS * 1000);
	EXPECT_EQ(0, vfio_eventfd_read(self->efd[0], &count));
	EXPECT_EQ(0, count) TH_LOG("a released REQ eventfd was signalled");
	close_and_finish_unbind(_metadata, &self->dev, self->child,
				self->driver);
	self->child = 0;
}

int main(int argc, char **argv)
{
	return vfio_test_main(argc, argv, &req_bdf, "a");
}
