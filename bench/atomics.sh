#!/bin/sh
# Atomic read-modify-write instructions per request, for one client on one workload: every
# executed x86-64 instruction with a `lock` prefix, and every `xchg` with memory (implicitly
# locked), counted by valgrind's callgrind per instruction and matched against the
# disassembly of the suite's binary and of libc.
#
# Why count them: an uncontended atomic increment costs about 6 ns on this machine class
# (some 20 cycles, and it drains the store buffer) where an ordinary one costs 1, and an
# instruction count weighs it as one instruction. Each `Arc` clone and drop, each `Mutex`
# lock and unlock, each waker clone is one. The std::net floor makes 4 per keep-alive GET.
#
#   bench/atomics.sh CLIENT WORKLOAD BASE [FEW MANY]
#   bench/atomics.sh wayfarer-blocking W1/13B http://127.0.0.1:8080
#
# As in instructions.sh: BASE is a running server (`wayfarer-bench internal serve`), CA names
# the CA's PEM file for an HTTPS base, BIN another build of the suite. Prints the total per
# request and, with SITES=1, the ten functions that make the most (atomics inlined into a
# function count as its own). Needs valgrind and objdump (binutils).
set -eu
. "$(dirname "$0")/callgrind-common.sh"

# The offsets (in decimal) of locked instructions in an object, as "object offset" lines.
locked() {
    objdump -d --no-show-raw-insn "$1" |
        awk -v obj="$1" "$awk_hex"'
            $2 ~ /^(lock|xchg)$/ && !($2 == "xchg" && $3 !~ /\(/) {
                sub(":", "", $1); printf "%s %d\n", obj, hex($1)
            }'
}

# One measurement: the count per request (and, with SITES=1, where they are made).
measure() {
    run "$few"
    run "$many"
    if [ ! -e "$tmp/locked" ]; then
        libc=$(awk '/^c?ob=\([0-9]+\) .*libc\.so/ {print $2; exit}' "$tmp/$many.out")
        {
            locked "$bin"
            [ -n "$libc" ] && locked "$libc"
        } > "$tmp/locked"
    fi
    counts "$tmp/$few.out" > "$tmp/few"
    counts "$tmp/$many.out" > "$tmp/many"

    awk -v n="$n" -v sites="${SITES:-0}" -F '\t' '
        FILENAME == ARGV[1] { split($0, w, " "); locked[w[1] " " w[2]] = 1; next }
        {
            split($1, w, " "); key = w[1] " " w[2]
            if (!(key in locked)) next
            sign = (FILENAME == ARGV[2]) ? -1 : 1
            total += sign * w[3]; by[$2] += sign * w[3]
        }
        END {
            printf "%.1f\n", total / n
            if (sites) for (f in by) if (by[f] / n >= 0.5) printf "%6.1f  %s\n", by[f] / n, f | "sort -rn | head -10"
        }
    ' "$tmp/locked" "$tmp/few" "$tmp/many"
}

# Async runtimes' counts move between identical runs (whether a read finds its bytes or parks
# decides how many wakers are registered and cloned): RUNS=N prints the median and range.
runs=${RUNS:-1}
i=0
while [ "$i" -lt "$runs" ]; do
    measure
    i=$((i + 1))
done | awk -v name="$client $workload" -v runs="$runs" '
    /^[0-9.]+$/ {v[++k] = $1; next}
    {sites[++s] = $0}
    END {
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) {t = v[i]; v[i] = v[j]; v[j] = t}
        if (k == 1) printf "%s: %.1f atomic read-modify-writes per request\n", name, v[1]
        else printf "%s: %.1f atomic read-modify-writes per request (median of %d runs, %.1f to %.1f)\n", name, v[int((k + 1) / 2)], k, v[1], v[k]
        for (i = 1; i <= s; i++) print sites[i]
    }'
