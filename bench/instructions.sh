#!/bin/sh
# Instructions and simulated cache misses per request, for one client on one workload, counted
# by valgrind's cachegrind: deterministic where timings on a shared machine are not. I1 misses
# (a 32 KiB instruction cache) tell how much of the client's code a request runs through beyond
# what stays cached between requests: a client whose request path fits the cache has none.
#
# The suite's probe (the child process that strace runs) makes FEW and then MANY requests after
# its warm-up; the difference over MANY - FEW requests is the per-request figure, free of start
# up and setup. Only the client's process is counted, not the server's. Concurrent workloads
# (W2/16, W2/64, W6) make that many requests per step, one per worker.
#
#   bench/instructions.sh CLIENT WORKLOAD BASE [FEW MANY]
#   bench/instructions.sh wayfarer-tokio W1/13B http://127.0.0.1:8080
#   CA=/tmp/wayfarer-bench-ca-XXXX/ca.pem bench/instructions.sh wayfarer-tokio T5/full https://localhost:8443
#
# BASE is a running nginx serving the suite's documents: `wayfarer-bench internal serve`
# starts the suite's own (plain, TLS, the upload sink for W4) and prints their bases and the
# CA's PEM file, which CA must name for an HTTPS base. Build the suite first (`cargo build
# --release --manifest-path bench/Cargo.toml`); needs valgrind. Counts of `rep`-prefixed copies
# (large `memcpy` and `memset`) are per byte moved, so they overstate what those copies cost.
# BIN names another build of the suite to count instead (say, a copy kept from before a change).
# RUNS=N measures N times and prints the median and range (the async runtimes' counts spread).
set -eu
client=$1 workload=$2 base=$3 few=${4:-100} many=${5:-600}
bin=${BIN:-$(dirname "$0")/target/release/wayfarer-bench}
count() {
    valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null \
        "$bin" internal probe --client "$client" --workload "$workload" --base "$base" \
        ${CA:+--ca "$CA"} --per-worker "$1" 2>&1 |
        awk '/ I +refs:/ {gsub(",", "", $4); i = $4}
             / I1 +misses:/ {gsub(",", "", $4); c = $4}
             / D1 +misses:/ {gsub(",", "", $4); d = $4}
             END {print i, d, c}'
}
case $workload in
    W2/16) workers=16 ;;
    W2/64 | W6) workers=64 ;;
    *) workers=1 ;;
esac
n=$(((many - few) * workers))
# One measurement: "instructions D1-misses I1-misses" per request.
measure() {
    set -- $(count "$few") $(count "$many")
    echo "$((($4 - $1) / n)) $((($5 - $2) / n)) $((($6 - $3) / n))"
}
runs=${RUNS:-1}
if [ "$runs" -le 1 ]; then
    set -- $(measure)
    echo "$client $workload: $1 instructions, $2 D1 misses, $3 I1 misses per request"
    exit
fi
# Several measurements, for the async runtimes: whether a read finds its bytes there or parks
# on the reactor is timing, even under valgrind, and moves their counts by up to 2,000.
i=0
while [ "$i" -lt "$runs" ]; do
    measure
    i=$((i + 1))
done | sort -n | awk -v name="$client $workload" '
    {v[NR] = $1; d[NR] = $2; c[NR] = $3}
    END {m = int((NR + 1) / 2)
         printf "%s: %d instructions (median of %d runs, %d to %d), %d D1 misses, %d I1 misses per request\n",
             name, v[m], NR, v[1], v[NR], d[m], c[m]}'
