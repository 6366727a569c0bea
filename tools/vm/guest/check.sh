#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every test under $VPI_SELFTESTS, the kselftest way: one TAP plan over
# the whole set, "ok N name" / "not ok N name" per test, each test's own
# output nested below it as "# " lines, a per-test timeout (from the
# "settings" file next to the test, "timeout=<seconds>", default 45, 0 for
# none). A test is an executable named *_test or *_test.sh; exit status 4
# (KSFT_SKIP) counts as a skip.
#
# The TAP goes to $VPI_RESULTS (the results serial port in the test VM); a
# one-line summary per test goes to the console. /init adds "exit=<status>".
# Exits non-zero when a test fails or times out, or when there is no test.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# Device the VFIO tests use: edu 00:03.0 on upstream vfio-pci.
EDU_VFIO_PCI=0000:00:03.0

# Per-test preparation; runs in the test's subshell before the test. (set -e
# does not apply there: check every step.)
prepare() {
	case $1 in
	vfio_edu_test)
		vpi_bind "$EDU_VFIO_PCI" vfio-pci || return 1
		export VPI_BDF=$EDU_VFIO_PCI
		;;
	esac
}

test_timeout() {
	local t

	t=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$1/settings" 2>/dev/null | tail -1)
	echo "${VPI_TEST_TIMEOUT:-${t:-45}}"
}

exec 3>"$VPI_RESULTS"

tests=$(find "$VPI_SELFTESTS" -type f -perm -u+x \
	\( -name '*_test' -o -name '*_test.sh' \) | sort)
total=$(echo "$tests" | grep -c . || true)

echo "TAP version 13" >&3
if [ "$total" = 0 ]; then
	echo "1..0" >&3
	echo "Bail out! no test found in $VPI_SELFTESTS" >&3
	echo "check: no test found in $VPI_SELFTESTS"
	exit 1
fi
echo "1..$total" >&3

n=0 pass=0 fail=0 skip=0
for test in $tests; do
	n=$((n + 1))
	name=${test#"$VPI_SELFTESTS"/}
	dir=$(dirname "$test")
	t=$(test_timeout "$dir")
	echo "# selftests: vfio_pci_intrs: $name" >&3
	start=$(date +%s)
	rc=0
	(
		prepare "$(basename "$test")" || exit 1
		cd "$dir" || exit 1
		if [ "$t" = 0 ]; then
			exec "$test"
		fi
		exec timeout "$t" "$test"
	) </dev/null 2>&1 | while IFS= read -r line; do
		echo "# $line"
	done >&3 || rc=$?
	secs=$(($(date +%s) - start))

	if [ "$rc" = 0 ]; then
		line="ok $n $name"
		pass=$((pass + 1))
	elif [ "$rc" = 4 ]; then
		line="ok $n $name # SKIP"
		skip=$((skip + 1))
	elif [ "$rc" = 143 ] && [ "$t" != 0 ] && [ "$secs" -ge "$t" ]; then
		line="not ok $n $name # TIMEOUT $t seconds"
		fail=$((fail + 1))
	else
		line="not ok $n $name # exit=$rc"
		fail=$((fail + 1))
	fi
	echo "$line" >&3
	echo "check: $line (${secs} s)"
done

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0" >&3
echo "check: $pass passed, $fail failed, $skip skipped"
exec 3>&-
[ "$fail" = 0 ]
