#!/usr/bin/env bash
# Issue 9 case 4, a PMTU black hole built for real: a router namespace drops
# every packet longer than 576 bytes on one port (`meta length > 576 drop`, no
# ICMP fragmentation-needed), offloads off on all four veth ends so GRO/GSO/TSO
# cannot merge or defer segments past the filter. The listener (lyncmock
# listen: concurrent, unlike openssl s_server, which serves one connection at a
# time and so kept the small-MSS connection waiting behind the stuck one) sends
# its certificate flight in full-size segments that never arrive; the probe's
# small-MSS retry (TCP_MAXSEG 536 in its SYN, started at half the timeout)
# gets it, so the outcome is mtu-blackhole inside one timeout. A port without
# the drop, on the same path with the same offloads, passes; a silent server
# behind the drop stays no-answer (the retry heard nothing either). Then the
# probe is stopped (SIGSTOP) across its first deadline, a real overload: the
# overload retry starts the probe again and the small-MSS retry of the second
# try still ends it mtu-blackhole (the two retries do not fight).
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_root "network namespaces and nftables"
lm_need_cmd nft
lm_need_cmd jq
lm_need_cmd ethtool
lm_need_cmd python3

lm_routed mt 198.18.40 198.18.41 1 "2 3"
# GRO/GSO/TSO would merge or defer segmentation past the filter (PITFALLS)
for pair in "$NP $VP" "$NR $VRP" "$NR $VRT" "$NT $VT"; do
	set -- $pair
	ip netns exec "$1" ethtool -K "$2" gro off gso off tso off >/dev/null 2>&1 ||
		lm_fail "ethtool -K $2 in $1"
	k=$(ip netns exec "$1" ethtool -k "$2")
	for f in generic-receive-offload generic-segmentation-offload tcp-segmentation-offload; do
		grep -Eq "^$f: off" <<<"$k" || lm_fail "$f still on for $2 in $1"
	done
done
ip netns exec "$NR" nft -f - <<'NFT' || lm_fail "nft on the router"
table ip lmmtu {
	chain lmfwd {
		type filter hook forward priority 0; policy accept;
		tcp dport { 31443, 31445 } meta length > 576 counter drop comment "big-in"
		tcp sport { 31443, 31445 } meta length > 576 counter drop comment "big-out"
	}
}
NFT
cat >"$LM_TMP/sc.yaml" <<'YAML'
name: diag-mtu
domain: contoso.local
hosts:
  - {name: cl01, role: internal-client, address: 198.18.40.1}
  - {name: dir01, role: director, address: 198.18.41.2, fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
  - {name: fe01, role: front-end, address: 198.18.41.3, fqdn: fe01.contoso.local, pool: fepool.contoso.local}
rules:
  - {id: blackhole, service: https, port: 31443, from: internal-client, to: director}
  - {id: clean,     service: https, port: 31444, from: internal-client, to: director}
  - {id: silent,    service: https, port: 31445, from: internal-client, to: front-end}
YAML
PKI=$LM_TMP/pki
"$LYNCMOCK" certs init --scenario "$LM_TMP/sc.yaml" --out "$PKI" >"$LM_TMP/certs.out" 2>&1 ||
	{ cat "$LM_TMP/certs.out"; lm_fail "certs init"; }
ip netns exec "$NT" "$LYNCMOCK" listen --scenario "$LM_TMP/sc.yaml" --host dir01 --certs "$PKI" \
	>"$LM_TMP/dir01.out" 2>"$LM_TMP/dir01.err" &
lm_track $!
lm_wait_for "$LM_TMP/dir01.out" "^ready host=dir01" 200
# fe01 accepts TCP and says nothing
ip netns exec "$NT" python3 "$LM_SOURCE_DIR/tests/integration/diag_peer.py" "$LM_TMP/peer.ready" \
	198.18.41.3 silent:31445 >"$LM_TMP/peer.log" 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/peer.ready" ready 200

dropped() { # the packets the router's size rules dropped so far
	ip netns exec "$NR" nft -j list chain ip lmmtu lmfwd |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add'
}
get() { jq -r --arg r "$1" ".results[] | select(.rule == \$r) | $2" "$3"; }

# 1. the black hole, a clean port and a silent server on one path
rc=0
ip netns exec "$NP" "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host cl01 --certs "$PKI" \
	--timeout 4 --format json --output "$LM_TMP/a.json" 2>"$LM_TMP/a.err" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "probe exit $rc, want 1 ($(cat "$LM_TMP/a.err"))"
A=$LM_TMP/a.json
o=$(get blackhole .outcome "$A") d=$(get blackhole .detail "$A") f=$(get blackhole .fix "$A")
echo "blackhole: $o: $d | $f"
[ "$o" = mtu-blackhole ] || lm_fail "blackhole: outcome $o ($d)"
grep -Eq 'a connection with MSS 536 got [0-9]+ bytes at once: packets larger than about 576 bytes are lost' <<<"$d" ||
	lm_fail "blackhole detail: $d"
grep -Eq '^Packets larger than about 576 bytes are lost between cl01 \(198\.18\.40\.1\) and dir01 \(198\.18\.41\.2\): fix PMTU discovery \(let ICMP fragmentation-needed through\) or the MTU/MSS clamping on the path\.$' <<<"$f" ||
	lm_fail "blackhole fix: $f"
[ "$(get blackhole .facts.mtu "$A")" = 576 ] || lm_fail "facts.mtu: $(get blackhole .facts "$A")"
[ "$(get blackhole .verdict "$A")" = fail ] || lm_fail "mtu-blackhole must fail its verdict"
t=$(get blackhole .timings.total_ms "$A")
jq -en --argjson t "$t" '$t >= 1900 and $t < 4000' >/dev/null ||
	lm_fail "blackhole took $t ms: the retry starts at half the 4 s timeout and ends inside it"
[ "$(get clean .outcome "$A")" = pass ] ||
	lm_fail "clean path: $(get clean .outcome "$A") ($(get clean .detail "$A"))"
o=$(get silent .outcome "$A") d=$(get silent .detail "$A")
[ "$o" = no-answer ] || lm_fail "silent server behind the drop: $o ($d), not no-answer"
grep -q 'the server sent nothing in' <<<"$d" || lm_fail "silent detail: $d"
n=$(dropped)
[ "$n" -gt 0 ] || lm_fail "the router dropped no packet: the black hole was not built"
echo "clean: pass; silent: no-answer ($d); router dropped $n packets; blackhole in $t ms"

# 2. overload across the first deadline: the probe process is stopped from its
# first ClientHello until past the 4 s timeout
ip netns exec "$NP" "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host cl01 --certs "$PKI" \
	--rule blackhole --rule silent --timeout 4 --debug-tls --format json \
	--output "$LM_TMP/b.json" 2>"$LM_TMP/b.err" &
pp=$!
lm_track $pp
lm_wait_for "$LM_TMP/b.err" "blackhole.*sent ClientHello" 200
kill -STOP "$pp"
sleep 5
kill -CONT "$pp"
rc=0
wait "$pp" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "stopped probe: exit $rc ($(tail -5 "$LM_TMP/b.err"))"
B=$LM_TMP/b.json
o=$(get blackhole .outcome "$B") d=$(get blackhole .detail "$B")
echo "blackhole after an overload: $o: $d"
[ "$o" = mtu-blackhole ] || { cat "$LM_TMP/b.err"; lm_fail "after an overload: $o ($d)"; }
grep -q 'second try: the first timed out while this machine was overloaded' <<<"$d" ||
	lm_fail "the overload retry did not run ($d): the check proves nothing"
grep -q 'a connection with MSS 536 got' <<<"$d" || lm_fail "detail after overload: $d"
o=$(get silent .outcome "$B") d=$(get silent .detail "$B")
[ "$o" = no-answer ] || lm_fail "silent after an overload: $o ($d)"
echo "silent after an overload: $o: $d"
echo "PASS"
