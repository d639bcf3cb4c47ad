#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# ratelimit-bench.sh - rate decisions per second and latency per recipient,
# embedded store and Redis (a redis-server of its own on a free loopback port,
# started by tests/redis-launch).
#
# Usage: tests/bench/ratelimit-bench.sh BUILDDIR [DECISIONS]
#   BUILDDIR: a configured build tree; `make bench` is run there first.
#   DECISIONS: per run (default 200000 embedded, 20000 Redis; bounded).
#
# Prints one line per run (key=value, see bench_ratelimit.c) and Redis's
# INFO commandstats after the Redis runs. Nothing but loopback is used.
set -euo pipefail

build=${1:?usage: $0 BUILDDIR [DECISIONS]}
n=${2:-200000}
nr=$(( n / 10 ))
make -s -C "$build" bench >/dev/null
bench=$build/tests/bench/bench_ratelimit

# the one Redis launcher of the tests (tests/redis-launch): it prints
# "ready PORT PID SOCK" and kills the server when its stdin closes
dir=$(mktemp -d /tmp/rl-bench-XXXXXX)
coproc LAUNCH { exec "$(dirname "$0")/../redis-launch" "$dir/redis"; }
launch_in=${LAUNCH[1]}
launch_pid=$LAUNCH_PID
trap 'exec {launch_in}>&-; wait "$launch_pid" 2>/dev/null; rm -rf "$dir"' EXIT
read -r status port _ _ <&"${LAUNCH[0]}" || status=none
[ "$status" = ready ] || { echo "ratelimit-bench: redis-launch: $status $port" >&2; exit 1; }

echo "# $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
for t in 1 2; do
    "$bench" --store embedded --threads "$t" --decisions "$n"
done
# each recipient 10 times against 3/10m: 70% refused (each refusal logged, here to /dev/null)
"$bench" --store embedded --threads 1 --decisions "$n" --recipients $(( n / 10 )) 2>/dev/null
url="redis://127.0.0.1:$port/0"
for t in 1 2 8; do
    redis-cli -p "$port" FLUSHALL >/dev/null
    redis-cli -p "$port" CONFIG RESETSTAT >/dev/null
    "$bench" --store "$url" --threads "$t" --decisions "$nr"
    redis-cli -p "$port" INFO commandstats | grep -E '^cmdstat_(evalsha|eval|script)' | sed 's/^/#   /'
done
# Redis's own cost of one script call, per state layout: exact (N <= 256: one
# stamp per charge) and bucket (N > 256: 256 slot counts), one rule per call,
# one recipient (the state at its largest) and 100 recipients.
printf 'exact  rcpt  20/1h      tempfail\n' > "$dir/exact.policy"
printf 'bucket rcpt  100000/1h  tempfail\n' > "$dir/bucket.policy"
for pol in exact bucket; do
    for rc in 1 100; do
        redis-cli -p "$port" FLUSHALL >/dev/null
        redis-cli -p "$port" CONFIG RESETSTAT >/dev/null
        "$bench" --store "$url" --threads 1 --decisions "$nr" --recipients "$rc" \
            --policy "$dir/$pol.policy" 2>/dev/null
        redis-cli -p "$port" INFO commandstats | grep -E '^cmdstat_evalsha' | sed "s/^/#   $pol recipients=$rc: /"
    done
done
