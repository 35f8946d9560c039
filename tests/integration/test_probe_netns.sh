#!/usr/bin/env bash
# Network faults built for real in namespaces this test creates: nftables
# DROP (filtered), REJECT with tcp reset (refused), REJECT with ICMP host
# unreachable and a missing route (unreachable), an open port (pass), a
# blocked-by-design rule; nmap cross-checks the same ports; 1,000 dropped
# paths must finish in about one timeout; SIGINT writes a partial report.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_root "network namespaces and nftables"
lm_need_cmd nft
lm_need_cmd jq
lm_need_cmd python3

NP=$(lm_netns p) # the probing host
NT=$(lm_netns t) # the target, with the firewall
# lm_netns runs in $(...), a subshell: register the names here too, or
# lib.sh's cleanup never sees them
LM_NETNS+=("$NP" "$NT")
VA=lm$$a VB=lm$$b
ip link add "$VA" type veth peer name "$VB" || lm_fail "veth"
ip link set "$VA" netns "$NP" && ip link set "$VB" netns "$NT" || lm_fail "veth into namespaces"
ip -n "$NP" addr add 198.18.4.1/24 dev "$VA"
ip -n "$NT" addr add 198.18.4.2/24 dev "$VB"
for n in "$NP" "$NT"; do ip -n "$n" link set lo up; done
ip -n "$NP" link set "$VA" up
ip -n "$NT" link set "$VB" up

ip netns exec "$NT" nft -f - <<NFT || lm_fail "nft in $NT"
table inet lmprobe {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 30001 drop
		tcp dport 30002 reject with tcp reset
		tcp dport 30003 reject with icmpx type host-unreachable
		tcp dport 30006 drop
		tcp dport 40000-40999 drop
	}
}
NFT
ip netns exec "$NT" python3 -u -m http.server --bind 198.18.4.2 30004 >"$LM_TMP/py.log" 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/py.log" "Serving HTTP"

cat >"$LM_TMP/sc.yaml" <<YAML
name: probe-netns
domain: contoso.local
hosts:
  - {name: cl01, role: internal-client, address: 198.18.4.1}
  - {name: dir01, role: director, address: 198.18.4.2, fqdn: dir01.contoso.local}
  - {name: ghost, role: edge-internal, address: 198.18.9.9, fqdn: ghost.contoso.local}
rules:
  - {id: drop,    service: tcp, port: 30001, from: internal-client, to: director}
  - {id: reset,   service: tcp, port: 30002, from: internal-client, to: director}
  - {id: icmp,    service: tcp, port: 30003, from: internal-client, to: director}
  - {id: open,    service: tcp, port: 30004, from: internal-client, to: director}
  - {id: noroute, service: tcp, port: 30005, from: internal-client, to: edge-internal}
  - {id: closed-by-design, service: tcp, port: 30006, from: internal-client, to: director, expect: blocked}
YAML
rc=0
ip netns exec "$NP" "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host cl01 --timeout 1 \
	--format json --output "$LM_TMP/a.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "exit $rc, expected 1"
get() { jq -r --arg r "$1" ".results[] | select(.rule == \$r) | $2" "$LM_TMP/a.json"; }
expect() {
	local o v
	o=$(get "$1" .outcome)
	v=$(get "$1" .verdict)
	[ "$o" = "$2" ] && [ "$v" = "$3" ] || lm_fail "rule $1: $o/$v, expected $2/$3 ($(get "$1" .detail))"
}
expect drop filtered fail
expect reset refused fail
expect icmp unreachable fail
expect open pass ok
expect noroute unreachable fail
expect closed-by-design filtered ok
[ "$(get open .from.address)" = 198.18.4.1 ] || lm_fail "the source address was not bound: $(get open .from.address)"

# a source address this machine does not have: probed from the default one, with a note
sed 's/address: 198.18.4.1}/address: 198.18.4.77}/' "$LM_TMP/sc.yaml" >"$LM_TMP/sc2.yaml"
rc=0
ip netns exec "$NP" "$LYNCMOCK" probe --scenario "$LM_TMP/sc2.yaml" --host cl01 --timeout 1 --rule open \
	--format json --output "$LM_TMP/b.json" 2>"$LM_TMP/b.err" || rc=$?
[ "$rc" -eq 0 ] || lm_fail "unbound source: exit $rc"
grep -q "198.18.4.77 is not configured on this machine" "$LM_TMP/b.err" || lm_fail "no note: $(cat "$LM_TMP/b.err")"
[ "$(jq -r '.results[0].from.address' "$LM_TMP/b.json")" = 198.18.4.1 ] || lm_fail "unbound source address"
ip netns exec "$NP" "$LYNCMOCK" probe --scenario "$LM_TMP/sc2.yaml" --host cl01 --timeout 1 --rule open \
	--no-bind --format json --output "$LM_TMP/b.json" 2>"$LM_TMP/b.err" || lm_fail "--no-bind"
[ ! -s "$LM_TMP/b.err" ] || lm_fail "--no-bind still notes: $(cat "$LM_TMP/b.err")"

# nmap's view of the same ports agrees: filtered ↔ filtered|unreachable, closed ↔ refused, open ↔ pass
if command -v nmap >/dev/null 2>&1; then
	ip netns exec "$NP" nmap -Pn -sT -n --max-retries 1 --host-timeout 20s -p 30001-30004 198.18.4.2 -oG - \
		>"$LM_TMP/nmap.txt" 2>&1 || lm_fail "nmap failed: $(cat "$LM_TMP/nmap.txt")"
	for pr in 30001:drop 30002:reset 30003:icmp 30004:open; do
		port=${pr%%:*} rule=${pr##*:}
		state=$(grep -o "$port/[a-z|]*/tcp" "$LM_TMP/nmap.txt" | cut -d/ -f2)
		ours=$(get "$rule" .outcome)
		case "$state:$ours" in
		filtered:filtered | filtered:unreachable | closed:refused | open:pass) ;;
		*) lm_fail "port $port: nmap says '$state', lyncmock says '$ours'" ;;
		esac
		echo "port $port: nmap $state, lyncmock $ours"
	done
fi

# 1,000 dropped paths finish in about one timeout (1 s), not a thousand
{
	cat <<YAML
name: probe-many
domain: contoso.local
hosts:
  - {name: cl01, role: internal-client, address: 198.18.4.1}
  - {name: dir01, role: director, address: 198.18.4.2, fqdn: dir01.contoso.local}
rules:
YAML
	for i in $(seq 0 999); do
		echo "  - {id: f$i, service: tcp, port: $((40000 + i)), from: internal-client, to: director}"
	done
} >"$LM_TMP/many.yaml"
t0=$(date +%s%N)
rc=0
ip netns exec "$NP" "$LYNCMOCK" probe --scenario "$LM_TMP/many.yaml" --host cl01 --timeout 1 \
	--format json --output "$LM_TMP/many.json" || rc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
[ "$rc" -eq 1 ] || lm_fail "1000 paths: exit $rc"
n=$(jq '[.results[] | select(.outcome == "filtered")] | length' "$LM_TMP/many.json")
[ "$n" -eq 1000 ] || lm_fail "1000 paths: only $n filtered"
# the timeout is the user's for every path, the last started too (libevent's
# cached loop time once armed the late ones' timers early; 10 ms: its coarse clock)
short=$(jq '[.results[] | select(.timings.total_ms < 990)] | length' "$LM_TMP/many.json")
[ "$short" -eq 0 ] || lm_fail "1000 paths: $short reported filtered after less than the 1 s timeout"
echo "1000 filtered paths, --timeout 1: ${ms} ms wall, shortest wait $(jq '[.results[].timings.total_ms] | min' "$LM_TMP/many.json") ms"
[ "$ms" -lt 3000 ] || lm_fail "1000 filtered paths took ${ms} ms (timeout 1 s)"

# SIGINT: the finished probes are written, marked partial; exit 1
ip netns exec "$NP" "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host cl01 --timeout 20 \
	--format json --output "$LM_TMP/int.json" &
pid=$!
lm_track "$pid"
sleep 0.5 # not readiness: let the fast probes (refused, unreachable, pass) finish
t0=$(date +%s%N)
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
t1=$(date +%s%N)
[ "$rc" -eq 1 ] || lm_fail "SIGINT: exit $rc, expected 1"
[ "$(jq -r .partial "$LM_TMP/int.json")" = true ] || lm_fail "SIGINT: report not marked partial"
n=$(jq '.results | length' "$LM_TMP/int.json")
[ "$n" -ge 3 ] && [ "$n" -lt 6 ] || lm_fail "SIGINT: $n results, expected the finished ones only"
[ $(((t1 - t0) / 1000000)) -lt 1000 ] || lm_fail "SIGINT: took too long to stop"
jq -e '[.results[] | .outcome] | index("filtered") == null' "$LM_TMP/int.json" >/dev/null ||
	lm_fail "SIGINT: an unfinished probe was reported"
echo "ok: network faults classified, nmap agrees"
