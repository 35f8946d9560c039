#!/usr/bin/env bash
# probe --hold under overload: a firewall that forgets idle connections after 3 s
# (nft ct timeout on loopback inside a namespace, loose pickup off, invalid dropped)
# cuts the 4 s hold. The probe is stopped (SIGSTOP) across the deadline of the
# question it asks after that hold, so the engine sees its own overload and tries
# the probe again: the second try must hold again and be cut again. A retry that
# skipped the hold read the cut path as open ("answered again"), a false pass.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_root "network namespaces and nftables"
lm_need_cmd nft
lm_need_cmd jq

NS=$(lm_netns hov)
ip -n "$NS" link set lo up
ip -n "$NS" addr add 198.18.52.1/32 dev lo
ip -n "$NS" addr add 198.18.52.2/32 dev lo
ip netns exec "$NS" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 2>/dev/null ||
	{ modprobe nf_conntrack 2>/dev/null; true; }
ip netns exec "$NS" nft -f - <<'NFT' || lm_fail "nft"
table inet lmhov {
	ct timeout idle3 {
		protocol tcp; l3proto ip;
		policy = { established: 3, close_wait: 3 };
	}
	chain out {
		type filter hook output priority -150; policy accept;
		ip daddr 198.18.52.2 tcp dport 31561 ct timeout set "idle3"
		ct state invalid counter drop
	}
}
NFT
# the sysctl exists once conntrack is loaded (the ruleset above loads it)
ip netns exec "$NS" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 || lm_fail "tcp_loose"

cat >"$LM_TMP/sc.yaml" <<'YAML'
name: hold-overload
domain: contoso.local
hosts:
  - {name: cl01, role: internal-client, address: 198.18.52.1}
  - {name: dir01, role: director, address: 198.18.52.2, fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
rules:
  - {id: held-sip, service: sip-tls, port: 31561, from: internal-client, to: director}
YAML
PKI=$LM_TMP/pki
"$LYNCMOCK" certs init --scenario "$LM_TMP/sc.yaml" --out "$PKI" >"$LM_TMP/certs.out" 2>&1 ||
	{ cat "$LM_TMP/certs.out"; lm_fail "certs init"; }
ip netns exec "$NS" "$LYNCMOCK" listen --scenario "$LM_TMP/sc.yaml" --host dir01 --certs "$PKI" \
	>"$LM_TMP/dir01.out" 2>"$LM_TMP/dir01.err" &
lm_track $!
lm_wait_for "$LM_TMP/dir01.out" "^ready host=dir01" 200

# holds of 0.5, 1, 2 and 4 s in parallel; each question after a hold waits 2 s
ip netns exec "$NS" "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host cl01 --certs "$PKI" \
	--hold 4 --timeout 2 --debug-tls --format json --output "$LM_TMP/r.json" \
	2>"$LM_TMP/r.err" &
pp=$!
lm_track $pp
lm_wait_for "$LM_TMP/r.err" "held idle 4000 ms: asking again" 200
kill -STOP "$pp"
sleep 3
kill -CONT "$pp"
rc=0
timeout 30 tail --pid="$pp" -f /dev/null
wait "$pp" || rc=$?
[ "$rc" -eq 1 ] || { tail -20 "$LM_TMP/r.err"; lm_fail "probe exit $rc, want 1 (a cut path)"; }
grep -q 'held-sip.*overloaded: trying again' "$LM_TMP/r.err" ||
	{ tail -20 "$LM_TMP/r.err"; lm_fail "no overload retry ran: the check proves nothing"; }
n=$(jq '[.results[] | select(.rule == "held-sip")] | length' "$LM_TMP/r.json")
o=$(jq -r '.results[] | select(.rule == "held-sip") | .outcome' "$LM_TMP/r.json")
d=$(jq -r '.results[] | select(.rule == "held-sip") | .detail' "$LM_TMP/r.json")
echo "held-sip: $o: $d"
[ "$n" = 1 ] || lm_fail "$n results for one held path (the series is merged into one)"
[ "$o" = idle-cut ] || lm_fail "after an overload retry: $o ($d), want idle-cut"
grep -q '^cut between 2 s and 4 s idle' <<<"$d" || lm_fail "bracket: $d"
echo "PASS"
