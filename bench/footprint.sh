#!/bin/sh
# The code a request runs through: the distinct 64-byte lines of machine code holding an
# instruction that runs on every request, counted by valgrind's callgrind per instruction
# (in the suite's binary and every library it loads).
#
# Why count them: on one core, nginx and the kernel run between two requests of a sequential
# loop and push the client's code out of the first-level instruction cache, so each request
# fetches every line of its path again from further away. That, more than the instructions
# executed, is what a keep-alive GET's time over the floor's follows (FINDINGS.md, "The
# instruction cache, client by client"; FINDINGS-3.md). A cut that removes lines from the path
# shows here; one that removes instructions from a loop the path already runs through does not.
#
#   bench/footprint.sh CLIENT WORKLOAD BASE [FEW MANY]
#   bench/footprint.sh wayfarer-blocking W1/13B http://127.0.0.1:8080
#
# As in instructions.sh: BASE is a running server (`wayfarer-bench internal serve`), CA names
# the CA's PEM file for an HTTPS base, BIN another build of the suite. Prints the lines, the
# distinct instructions on them that run on every request, and (with SITES=N) the N functions
# whose code takes the most lines (a line shared by several functions is split among them;
# code inlined into a function counts as its own). A line counts when one of its instructions
# runs at least 0.9 times per request on average between FEW and MANY requests. Needs valgrind.
set -eu
. "$(dirname "$0")/callgrind-common.sh"

run "$few"
run "$many"
counts "$tmp/$few.out" > "$tmp/few"
counts "$tmp/$many.out" > "$tmp/many"

awk -v n="$n" -v sites="${SITES:-0}" -v label="$client $workload" -F '\t' '
    {
        split($1, w, " "); key = w[1] " " w[2]
        if (FILENAME == ARGV[1]) { c[key] -= w[3]; next }
        c[key] += w[3]; fn[key] = $2
    }
    END {
        for (key in c) {
            if (c[key] / n < 0.9) continue
            split(key, w, " ")
            line = w[1] " " int(w[2] / 64)
            instrs++
            if (!((line, fn[key]) in seen)) { seen[line, fn[key]] = 1; fns[line]++; of[line, fns[line]] = fn[key] }
        }
        for (line in fns) {
            lines++
            for (i = 1; i <= fns[line]; i++) by[of[line, i]] += 1 / fns[line]
        }
        printf "%s: %d lines of code (%d instructions) run on every request\n", label, lines, instrs
        if (sites) for (f in by) printf "%6.1f  %s\n", by[f], f | "sort -rn | head -" sites
    }
' "$tmp/few" "$tmp/many"
