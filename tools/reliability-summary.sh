#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Usage: tools/reliability-summary.sh RESULTS.tap...
#
# Adds up the "# summary:" lines the reliability tests print (vfio_stress.h:
# test=NAME run=LABEL then KEY=NUMBER fields), per test and in total, and
# prints them as a table. Exits non-zero when there is no summary line, or
# the totals show a mismatch, a splat, a fault not survived or no interrupt
# raised. (Each test checks its own counts: the exact ones that every
# interrupt raised is counted once, the differential ones that both twins
# counted the same; "counted" also holds loopback triggers.) tools/check.sh and tools/stress.sh print it.
set -uo pipefail

cat "$@" 2>/dev/null | tr -d '\r' | sed -n 's/^[# ]*summary: //p' | awk '
function add(t, k, v) { sum[t, k] += v; tot[k] += v }
{
	test = ""
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "test") { test = kv[2]; runs[test]++; nruns++ }
	}
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] != "test" && kv[1] != "run")
			add(test, kv[1], kv[2])
	}
}
END {
	n = split("seconds seqs ops bad_inputs faults_injected faults_survived " \
		  "irqs_raised irqs_counted mismatches splats", keys, " ")
	split("secs seqs ops bad_in faults faults_ok irqs_raised irqs_counted mismatch splats",
	      heads, " ")
	printf "%-22s %4s", "test", "runs"
	for (k = 1; k <= n; k++) printf " %12s", heads[k]
	printf "\n"
	for (t in runs) {
		printf "%-22s %4d", t, runs[t]
		for (k = 1; k <= n; k++) printf " %12d", sum[t, keys[k]]
		printf "\n"
	}
	printf "%-22s %4d", "total", nruns
	for (k = 1; k <= n; k++) printf " %12d", tot[keys[k]]
	printf "\n"
	if (!nruns) { print "no summary line: did the tests run?"; exit 1 }
	if (tot["mismatches"] || tot["splats"] || tot["faults_injected"] != tot["faults_survived"] ||
	    tot["irqs_raised"] < 1) {
		print "reliability: FAIL (a mismatch, a splat, a fault not survived or no interrupt)"
		exit 1
	}
}'
