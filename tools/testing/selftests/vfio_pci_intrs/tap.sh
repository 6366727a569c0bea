# SPDX-License-Identifier: GPL-2.0
#
# Test points of the shell tests, in TAP, sourced by them: "ok N ..." and
# "not ok N ...", numbered in order, with $failed counting the failures
# (the test prints its plan, and exits non-zero when $failed is not 0).
# shellcheck shell=sh

n=0
failed=0

# ok DESCRIPTION: a passed test point.
ok() {
	n=$((n + 1))
	echo "ok $n $*"
}

# not_ok DESCRIPTION: a failed test point.
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $*"
}
