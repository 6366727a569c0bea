#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make stress`: the reliability tests of `make check` with a long budget,
# in one boot of the debug kernel (tools/vm/run.sh):
#
#   vfio_irq_diff_test      random differential sequences, both twin pairs
#   vfio_concurrency_test   both drivers, edu and igb
#   vfio_fault_test         failslab over every allocation of each call,
#                           fail_function, random failslab; both pairs, IMS
#   vfio_teardown_test.sh   unbind, removal and unload under load, cycled
#
# VPI_STRESS=1 and VPI_STRESS_SECONDS reach the tests through the kernel
# command line: parameters the kernel does not know, NAME=VALUE without a
# dot, become the environment of /init and so of every test. Each run of a
# test takes about VPI_STRESS_SECONDS (default 300). Then the "# summary:"
# lines the tests print are added up, per test and in total
# (tools/reliability-summary.sh); the last line is "stress: PASS" or
# "stress: FAIL".
#
# Environment: VPI_STRESS_SECONDS, VPI_SEED (a fixed seed for every test),
# VM_OUT (default build/vm-stress), VM_TIMEOUT (default: from the budget),
# VM_SELFTESTS (default build/selftests).
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit

secs=${VPI_STRESS_SECONDS:-300}
out=${VM_OUT:-$TOP/build/vm-stress}
tests=(vfio_irq_diff_test vfio_concurrency_test vfio_fault_test vfio_teardown_test.sh)
# 2 diff runs, 4 concurrency runs, 2 fault runs (random part, plus full
# sweeps), the teardown cycles: about 9 budgets, plus boot and sweeps.
timeout=${VM_TIMEOUT:-$((9 * secs + 2400))}
append="VPI_STRESS=1 VPI_STRESS_SECONDS=$secs VPI_TEST_TIMEOUT=$((4 * secs + 1800))"
if [ -n "${VPI_SEED:-}" ]; then
	append+=" VPI_SEED=$VPI_SEED"
fi

step "stress: ${tests[*]}, ${secs} s per run (guest timeout ${timeout} s)"
VM_OUT=$out VM_TIMEOUT=$timeout VM_APPEND="$append ${VM_APPEND:-}" \
	tools/vm/run.sh tools/vm/guest/check.sh "${tests[@]}" 2>&1 | tee "$out.log"
rc=${PIPESTATUS[0]}
step_done

results=$out/results.tap
echo
echo "==> stress summary (from the \"# summary:\" lines of $results)"
tools/reliability-summary.sh "$results"
sums=$?
failed=$(tr -d '\r' <"$results" 2>/dev/null | grep -c '^not ok ')
echo "$failed tests failed; runner status $rc"
if [ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "$sums" = 0 ]; then
	echo "stress: PASS"
else
	echo "stress: FAIL"
	exit 1
fi
