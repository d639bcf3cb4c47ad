#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# ratelimit-bench.sh - rate decisions per second and latency per recipient,
# embedded store and Redis (a redis-server of its own on a free loopback port).
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

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d /tmp/rl-bench-XXXXXX)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --daemonize no --loglevel warning >"$dir/redis.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; wait $rpid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do
    redis-cli -p "$port" PING >/dev/null 2>&1 && break
    sleep 0.1
done

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
