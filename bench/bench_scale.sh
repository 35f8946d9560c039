#!/bin/bash
# Scale benchmark: `lyncmock lab` on director-pool grown to 16/32/64/128 hosts
# (same rules, more hosts per role: bench/scale_scenario.py), against the
# crypto bound measured in the same run, and 10,000 dropped paths probed beside
# nmap. Needs root (namespaces), python3, nft, nmap, openssl.
#
# usage: bench/bench_scale.sh [LYNCMOCK] [HOSTS...]      (default 16 32 64 128)
# Traffic stays in namespaces this script (or the lab) creates.
set -u
here=$(cd "$(dirname "$0")" && pwd)
lm=${1:-$here/../build/lyncmock}
shift || true
sizes=${*:-16 32 64 128}
[ "$(id -u)" -eq 0 ] || { echo "bench_scale: needs root (network namespaces)" >&2; exit 77; }
for c in python3 nft nmap openssl ip; do
	command -v $c >/dev/null || { echo "bench_scale: needs $c" >&2; exit 77; }
done
tmp=$(mktemp -d /tmp/lm-bench-scale.XXXXXX)
ns=lmbs$$-drop
cleanup() {
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
cpus=$(nproc)

# The crypto bound: a full MTLS path costs two RSA-2048 signatures (server and
# client); `openssl speed -multi` gives the machine's signatures per second.
signs=$(openssl speed -multi "$cpus" -seconds 3 rsa2048 2>/dev/null |
	awk '/^rsa 2048 bits/ {print $(NF-1)}' | tail -n 1)
bound=$(python3 -c "print(round(float('$signs') / 2))")
echo "machine: $cpus CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), openssl speed rsa2048: $signs signs/s -> crypto bound $bound MTLS paths/s"
echo

# ms between two "lab: [ N ms]" lines of a lab's stderr
at() { sed -n "s/^lab: \[ *\([0-9]*\) ms\] .*$1.*/\1/p" "$2" | head -n 1; }

printf "%6s %7s %7s %9s %8s %8s %8s %7s %6s\n" hosts paths "PKI s" "PKI(re) s" "probe s" "wall s" "paths/s" ratio false
for n in $sizes; do
	[ "$n" = 0 ] && continue # "0": only the dropped-paths run
	sc=$tmp/scale-$n.yaml
	python3 "$here/scale_scenario.py" "$n" >"$sc" || exit 1
	paths=$("$lm" scenario check "$sc" | sed -n 's/.*, \([0-9]*\) paths$/\1/p')
	# a cold PKI cache: the run makes its PKI (BENCH_REUSE=1: and runs again on it)
	export LYNCMOCK_CACHE_DIR=$tmp/cache-$n
	"$lm" lab --scenario "$sc" --format json --output "$tmp/lab-$n.json" 2>"$tmp/lab-$n.err"
	rc=$?
	pki=$(sed -n 's/^lab: .* PKI made in \([0-9]*\) ms/\1/p' "$tmp/lab-$n.err")
	cp "$tmp/lab-$n.err" "$tmp/cold-$n.err"
	if [ "${BENCH_REUSE:-0}" = 1 ]; then
		"$lm" lab --scenario "$sc" --format json --output "$tmp/lab-$n.json" 2>"$tmp/lab-$n.err"
		rc=$?
	fi
	unset LYNCMOCK_CACHE_DIR
	pkire=$(sed -n 's/^lab: .* PKI reused .* in \([0-9]*\) ms/\1/p' "$tmp/lab-$n.err")
	wall=$(sed -n 's/^lab: total \([0-9]*\) ms/\1/p' "$tmp/lab-$n.err")
	echo "$n $(grep -v 'resources' "$tmp/lab-$n.err" | tr '\n' '|')" >>"${BENCH_LOG:-/dev/null}"
	t0=$(at "listeners ready" "$tmp/lab-$n.err")
	t1=$(at "probes finished" "$tmp/lab-$n.err")
	python3 - "$tmp/lab-$n.json" "$n" "$paths" "${pki:-0}" "${pkire:--1}" "${t0:-0}" "${t1:-0}" "$bound" "$rc" "${wall:-0}" <<'EOF'
import json, sys
path, n, paths, pki, pkire, t0, t1, bound, rc, wall = sys.argv[1:]
try:
    res = json.load(open(path))["results"]
except Exception as e:
    print("%6s %7s  lab failed (exit %s): %s" % (n, paths, rc, e)); sys.exit(0)
# every path of these scenarios is open and served (or, blocked, dropped by the
# lab's firewall): any verdict that is not OK is a false failure
false = sum(1 for r in res if r["verdict"] != "ok")
probe = (int(t1) - int(t0)) / 1000.0
rate = len(res) / probe if probe > 0 else 0
reuse = "-" if int(pkire) < 0 else "%.1f" % (int(pkire) / 1000.0)
print("%6s %7d %7.1f %9s %8.1f %8.1f %8.0f %7.2f %6d" % (n, len(res), int(pki) / 1000.0,
      reuse, probe, int(wall) / 1000.0, rate, rate / float(bound), false))
EOF
done

# 10,000 dropped paths: 2,500 ports x 4 addresses in a namespace whose input
# chain drops them; lyncmock probe with default options, then nmap.
echo
ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up
for i in 1 2 3 4; do ip -n "$ns" addr add 198.18.200.$i/32 dev lo; done
ip netns exec "$ns" nft -f - <<'EOF'
table inet lmbench {
	chain input { type filter hook input priority filter; policy accept;
		tcp dport 20001-22500 drop
	}
}
EOF
python3 -c "
print(' '.join('tcp://198.18.200.%d:%d' % (h, p) for h in range(1, 5) for p in range(20001, 22501)))" >"$tmp/urls"
t0=$(date +%s%N)
ip netns exec "$ns" "$lm" probe --timeout 2 --format json --output "$tmp/drop.json" $(cat "$tmp/urls") 2>"$tmp/drop.err"
t1=$(date +%s%N)
filtered=$(python3 -c "import json; print(sum(r['outcome'] == 'filtered' for r in json.load(open('$tmp/drop.json'))['results']))")
t2=$(date +%s%N)
ip netns exec "$ns" nmap -n -Pn -sT -T5 --min-parallelism 1000 --max-retries 0 -p 20001-22500 \
	198.18.200.1-4 -oG "$tmp/nmap.txt" >/dev/null 2>&1
t3=$(date +%s%N)
nmfilt=$(python3 -c "
import re; t = open('$tmp/nmap.txt').read()
print(sum(map(int, re.findall(r'Ignored State: filtered \((\d+)\)', t))) + len(re.findall(r'/filtered/', t)))")
echo "10,000 dropped paths (timeout 2 s, default options):"
printf "  lyncmock probe  %6.2f s  %5d filtered  (1.5 x timeout = 3.00 s)\n" "$(((t1 - t0) / 1000000))e-3" "$filtered"
printf "  nmap -sT -T5    %6.2f s  %5d filtered  (--min-parallelism 1000 --max-retries 0)\n" "$(((t3 - t2) / 1000000))e-3" "$nmfilt"
