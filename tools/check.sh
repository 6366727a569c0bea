#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the host-side checks (tools/lint.sh), then the guest test
# suite (tools/vm/guest/check.sh in the debug kernel), then one summary.
# Every top-level TAP line of both counts, plus two checks of the guest run
# itself: it finished, and its kernel log has no splat. The last line is
# "N passed, N failed"; the exit status is non-zero when anything failed.
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit
out=$TOP/build/check
mkdir -p "$out"

step "host-side checks"
tools/lint.sh | tee "$out/lint.tap"
step_done

step "guest tests"
tools/vm/run.sh tools/vm/guest/check.sh 2>&1 | tee "$out/vm.log"
step_done

results=$TOP/build/vm/results.tap
{
	grep -E '^(not )?ok ' "$out/lint.tap"
	tr -d '\r' <"$results" 2>/dev/null | grep -E '^(not )?ok '
	if grep -q '^exit=' "$results" 2>/dev/null; then
		echo "ok guest: the guest ran to the end"
	else
		echo "not ok guest: the guest ran to the end (crash, panic or timeout)"
	fi
	if grep -q 'FAIL: kernel splat' "$out/vm.log"; then
		echo "not ok guest: no kernel splat (BUG, WARNING, KASAN, lockdep, kmemleak...)"
	else
		echo "ok guest: no kernel splat (BUG, WARNING, KASAN, lockdep, kmemleak...)"
	fi
} >"$out/summary.tap"

echo
echo "==> summary"
cat "$out/summary.tap"
# A skipped test is not a pass: it is counted, and shown, on its own.
skipped=$(grep -Ec '^ok .*# SKIP' "$out/summary.tap")
passed=$(grep -E '^ok ' "$out/summary.tap" | grep -vc '# SKIP')
failed=$(grep -c '^not ok ' "$out/summary.tap")
[ "$skipped" = 0 ] || echo "$skipped skipped (not counted as passed)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
