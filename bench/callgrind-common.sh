# Shared by atomics.sh and footprint.sh (sourced, not run): the arguments, one callgrind run
# of the probe with per-instruction counts, and the per-instruction counts read back.
#
# Expects CLIENT WORKLOAD BASE [FEW MANY] as the caller's arguments; sets client, workload,
# base, few, many, bin (BIN or the suite's release build), n (the requests between FEW and
# MANY, over every worker) and tmp (a directory removed on exit unless KEEP is set).
client=$1 workload=$2 base=$3 few=${4:-100} many=${5:-600}
bin=$(realpath "${BIN:-$(dirname "$0")/target/release/wayfarer-bench}")
case $workload in
    W2/16) workers=16 ;;
    W2/64 | W6) workers=64 ;;
    *) workers=1 ;;
esac
n=$(((many - few) * workers))
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
[ -n "${KEEP:-}" ] && echo "$tmp" >&2

# A hexadecimal number ("0x..." or bare digits) as a number, for awk programs.
awk_hex='
    function hex(s,   i, c, v) {
        v = 0; s = tolower(s); sub(/^0x/, "", s)
        for (i = 1; i <= length(s); i++) {
            c = index("0123456789abcdef", substr(s, i, 1)) - 1
            v = v * 16 + c
        }
        return v
    }'

# Runs the probe for $1 requests per worker under callgrind into $tmp/$1.out.
run() {
    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$tmp/$1.out" \
        "$bin" internal probe --client "$client" --workload "$workload" --base "$base" \
        ${CA:+--ca "$CA"} --per-worker "$1" > /dev/null 2>&1
}

# "object offset count<TAB>function" for every instruction in a callgrind file written with
# --dump-instr=yes, the offset in decimal: positions are "instr line", absolute (0x...) or
# relative (+N, -N, *), and the line after a calls= line is the call's inclusive cost, not an
# instruction's. Names are compressed to "(id)" after their first use, which may be in a cob=
# or cfn= line. Offsets are within each object, as objdump gives them.
counts() {
    awk "$awk_hex"'
        /^c?ob=/ {
            id = $1; sub(/^c?ob=/, "", id)
            if (NF > 1) name[id] = $2
            if ($0 ~ /^ob=/) obj = id
            next
        }
        /^c?fn=/ {
            id = $1; sub(/^c?fn=/, "", id)
            if (NF > 1) { f = $0; sub(/^c?fn=\([0-9]+\) /, "", f); fname[id] = f }
            if ($0 ~ /^fn=/) fn = fname[id]
            next
        }
        /^calls=/ { skip = 1; next }
        /^[0-9+*-]/ {
            p = $1
            if (p ~ /^0x/) pos = hex(p)
            else if (p ~ /^\+/) pos += substr(p, 2) + 0
            else if (p ~ /^-/) pos -= substr(p, 2) + 0
            if (skip) { skip = 0; next }
            printf "%s %d %s\t%s\n", name[obj], pos, $NF, fn
        }
    ' "$1"
}
