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
set -- $(count "$few") $(count "$many")
case $workload in
    W2/16) workers=16 ;;
    W2/64 | W6) workers=64 ;;
    *) workers=1 ;;
esac
n=$(((many - few) * workers))
echo "$client $workload: $((($4 - $1) / n)) instructions, $((($5 - $2) / n)) D1 misses," \
    "$((($6 - $3) / n)) I1 misses per request"
