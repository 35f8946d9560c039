#!/usr/bin/env bash
# Issue 9, faults of the connection itself, built for real: a router namespace
# whose nftables REJECT with ICMP port-unreachable, ICMP admin-prohibited and
# TCP reset, a target whose own firewall rejects, a closed port; peers that
# accept then close (FIN), accept then reset (RST, SO_LINGER 0) and accept
# and stay silent. Asserts the exact outcome, who answered, the fix sentence
# (right host, right thing to change), that no run dies of SIGPIPE (probe and
# certs inspect), the TIME really spent, and that old and new reports merge.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/probe_pki.sh"
lm_need_root "network namespaces and nftables"
lm_need_cmd nft
lm_need_cmd jq
lm_need_cmd python3

lm_routed dc 198.18.20 198.18.21
ip netns exec "$NR" nft -f - <<'NFT' || lm_fail "nft on the router"
table ip lmdiag {
	chain lmfwd {
		type filter hook forward priority 0; policy accept;
		tcp dport 31001 reject with icmp type port-unreachable
		tcp dport 31002 reject with icmp type admin-prohibited
		tcp dport 31003 reject with tcp reset
		udp dport 31101 reject with icmp type port-unreachable
		udp dport 31102 reject with icmp type admin-prohibited
	}
}
NFT
ip netns exec "$NT" nft -f - <<'NFT' || lm_fail "nft on the target"
table inet lmdiagt {
	chain lmin {
		type filter hook input priority 0; policy accept;
		tcp dport 31005 reject
	}
}
NFT
# 31016-31018 hang up at once on accept, and the target drops our data to them
# (IP length > 60: everything but SYN, ACK, FIN), so they hang up before one
# byte of ours reaches them whatever the timing (without the drop, a ClientHello
# that arrives before the close makes the kernel answer the close with a RST)
ip netns exec "$NT" nft -f - <<'NFT' || lm_fail "nft data drop on the target"
table inet lmdiagd {
	chain lmin {
		type filter hook input priority -10; policy accept;
		tcp dport { 31016, 31017, 31018 } meta length > 60 drop
	}
}
NFT
ip netns exec "$NT" python3 "$LM_SOURCE_DIR/tests/integration/diag_peer.py" "$LM_TMP/peer.ready" \
	198.18.21.2 close:31010 reset:31011 silent:31012 silent:31013 resetnow:31014 close:31015 \
	closenow:31016 resetnow:31017 closenow:31018 \
	>"$LM_TMP/peer.log" 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/peer.ready" ready
probe_pki "$LM_TMP/pki" || lm_fail "test PKI"

cat >"$LM_TMP/sc.yaml" <<'YAML'
name: diag-connect
domain: contoso.local
hosts:
  - {name: cl01, role: internal-client, address: 198.18.20.1}
  - {name: dir01, role: director, address: 198.18.21.2, fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
rules:
  - {id: icmp-port,   service: tcp,      port: 31001, from: internal-client, to: director}
  - {id: icmp-admin,  service: tcp,      port: 31002, from: internal-client, to: director}
  - {id: fw-reset,    service: tcp,      port: 31003, from: internal-client, to: director}
  - {id: closed,      service: tcp,      port: 31004, from: internal-client, to: director}
  - {id: host-reject, service: tcp,      port: 31005, from: internal-client, to: director}
  - {id: tls-fin,     service: https,    port: 31010, from: internal-client, to: director}
  - {id: tls-rst,     service: https,    port: 31011, from: internal-client, to: director}
  - {id: tls-silent,  service: sip-mtls, port: 31012, from: internal-client, to: director}
  - {id: http-silent, service: http,     port: 31013, from: internal-client, to: director}
  - {id: http-fin,    service: http,     port: 31015, from: internal-client, to: director}
  - {id: tls-fin-now, service: https,    port: 31016, from: internal-client, to: director}
  - {id: tls-rst-now, service: https,    port: 31017, from: internal-client, to: director}
  - {id: http-fin-now, service: http,    port: 31018, from: internal-client, to: director}
  - {id: udp-icmp-port,  service: udp,  port: 31101, from: internal-client, to: director}
  - {id: udp-icmp-admin, service: udp,  port: 31102, from: internal-client, to: director}
  - {id: stun-closed,    service: stun, port: 31104, from: internal-client, to: director}
YAML
rc=0
t0=$(date +%s%N)
ip netns exec "$NP" "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host cl01 --timeout 2 \
	--ca "$LM_TMP/pki/ca.pem" --format json --output "$LM_TMP/a.json" 2>"$LM_TMP/a.err" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 1 ] || lm_fail "probe exit $rc, want 1 ($(cat "$LM_TMP/a.err"))"
[ "$(jq '.results | length' "$LM_TMP/a.json")" -eq 16 ] || lm_fail "want 16 results"
get() { lm_result "$LM_TMP/a.json" "$@"; }
expect() { lm_expect_result "$LM_TMP/a.json" "$@"; } # rule outcome detail-regex fix-regex
# case 11: who rejected
expect icmp-port refused 'ICMP port-unreachable from 198\.18\.20\.254 \(a firewall.s REJECT\)' \
	'^Remove the REJECT rule on the firewall at 198\.18\.20\.254: it answers TCP 31001 from cl01 to dir01 \(198\.18\.21\.2\) with ICMP port-unreachable'
[ "$(get icmp-port .facts.answer)" = icmp-port-unreachable ] || lm_fail "icmp-port: facts.answer"
expect icmp-admin unreachable 'ICMP admin-prohibited from 198\.18\.20\.254' \
	'^Open TCP 31002 from cl01 to dir01 \(198\.18\.21\.2\) on the firewall at 198\.18\.20\.254: it rejects the path with ICMP admin-prohibited'
expect fw-reset refused 'TCP reset from 198\.18\.21\.2' 'remove the REJECT rule that resets connections from cl01 \(TCP reset from 198\.18\.21\.2\)'
expect closed refused 'TCP reset from 198\.18\.21\.2' '^Start the tcp listener on dir01 \(198\.18\.21\.2\) port 31004'
expect host-reject refused 'ICMP port-unreachable from 198\.18\.21\.2 \(a firewall.s REJECT on the destination itself\)' \
	"^Remove the REJECT rule in dir01's own firewall"
# UDP paths: ICMP, never a "TCP reset", in the detail and the fix
expect udp-icmp-port refused 'UDP 31101 to 198\.18\.21\.2: ICMP port-unreachable from 198\.18\.20\.254 \(a firewall rejects the path\)' \
	'^Remove the REJECT rule on the firewall at 198\.18\.20\.254: it answers UDP 31101 from cl01 to dir01 \(198\.18\.21\.2\) with ICMP port-unreachable\.$'
expect udp-icmp-admin unreachable 'ICMP admin-prohibited type 3 code 13 from 198\.18\.20\.254' \
	'^Open UDP 31102 from cl01 to dir01 \(198\.18\.21\.2\) on the firewall at 198\.18\.20\.254: it rejects the path with ICMP admin-prohibited\.$'
expect stun-closed refused 'ICMP port-unreachable from 198\.18\.21\.2 \(nothing listens there\)' \
	'^Start the stun listener on dir01 \(198\.18\.21\.2\) UDP port 31104: 198\.18\.21\.2 answers UDP 31104 from cl01 with ICMP port-unreachable'
[ "$(get stun-closed .facts.answered_by)" = 198.18.21.2 ] || lm_fail "stun-closed: facts.answered_by"
for r in udp-icmp-port udp-icmp-admin stun-closed; do
	! get $r '.detail, .fix' | grep -q TCP || lm_fail "$r: a UDP path said TCP: $(get $r '.detail, .fix')"
done
# case 2: accept, then close or reset
expect tls-fin cut-after-connect 'closed \(FIN\) after our ClientHello' \
	'accepts TCP from cl01 and then closes it after our first bytes'
[ "$(get tls-fin .facts.answer)" = fin ] || lm_fail "tls-fin: facts.answer $(get tls-fin .facts.answer)"
expect tls-rst cut-after-connect 'reset \(RST\) after our ClientHello: an IPS or application-aware firewall on the path\?' \
	'^Something at dir01 \(198\.18\.21\.2\) port 31011 accepts TCP from cl01 and then resets it after our first bytes: look for an IPS'
expect http-fin cut-after-connect 'closed \(FIN\) after our HTTP request' 'port 31015 accepts TCP from cl01 and then closes it'
# case 2, before our first bytes: the peer hangs up and never acknowledges any
# byte of ours (FIN from the service, then nothing an IPS could have read)
expect tls-fin-now cut-after-connect '^TCP connected, then closed \(FIN\) before our first bytes( \(it acknowledged none of our ClientHello\))?: TCP wrappers, a connection limit or a service refusing this source at once\?$' \
	'^Something at dir01 \(198\.18\.21\.2\) port 31016 accepts TCP from cl01 and then closes it before our first bytes: look for TCP wrappers \(hosts\.allow/hosts\.deny\), a connection limit or a service on dir01 that refuses cl01 at once\.$'
jq -e '.results[] | select(.rule == "tls-fin-now") | .facts.answer == "fin" and .facts.sent == null' "$LM_TMP/a.json" >/dev/null ||
	lm_fail "tls-fin-now facts: $(get tls-fin-now .facts)"
expect tls-rst-now cut-after-connect '^TCP connected, then reset \(RST\) before our first bytes' \
	'port 31017 accepts TCP from cl01 and then resets it before our first bytes: look for TCP wrappers'
[ "$(get tls-rst-now .facts.answer)" = rst ] || lm_fail "tls-rst-now: facts.answer $(get tls-rst-now .facts.answer)"
expect http-fin-now cut-after-connect '^TCP connected, then closed \(FIN\) before our first bytes( \(it acknowledged none of our HTTP request\))?:' \
	'port 31018 accepts TCP from cl01 and then closes it before our first bytes'
# case 3: connected, sent, nothing back (and the TIME is the time really waited)
expect tls-silent no-answer 'TCP connected; the server sent nothing in (1[89][0-9][0-9]|2[0-9]{3}) ms \(after our ClientHello\)' \
	'^Check the sip-mtls service on dir01 \(198\.18\.21\.2\) port 31012: it accepts TCP from cl01 but sent nothing in [0-9]+ ms'
expect http-silent no-answer 'the server sent nothing in [0-9]+ ms \(after our HTTP request\)' 'Check the http service on dir01'
# case 13: timings show the time spent
tot=$(get tls-silent .timings.total_ms)
python3 -c "import sys; t=float(sys.argv[1]); sys.exit(0 if 1800 <= t <= 4000 else 1)" "$tot" ||
	lm_fail "tls-silent total_ms $tot, want about 2000"
ip netns exec "$NP" "$LYNCMOCK" report "$LM_TMP/a.json" >"$LM_TMP/table.txt" || true
grep -E 'tls-silent .* (1\.9|2\.[0-9]) s|tls-silent .* (19[0-9][0-9]|2[0-9]{3}) ms' "$LM_TMP/table.txt" >/dev/null ||
	{ cat "$LM_TMP/table.txt"; lm_fail "the TIME column does not show the 2 s really waited"; }
[ "$ms" -lt 5000 ] || lm_fail "the run took $ms ms (one 2 s timeout expected)"

# case 1: no SIGPIPE death (probe and certs inspect) on a port that accepts and resets at once
for i in 1 2 3; do
	rc=0
	ip netns exec "$NP" "$LYNCMOCK" probe --ca "$LM_TMP/pki/ca.pem" --timeout 1 --format json \
		--output "$LM_TMP/rn$i.json" https://198.18.21.2:31014 2>"$LM_TMP/rn.err" || rc=$?
	[ "$rc" -eq 1 ] || lm_fail "probe against accept-and-reset: exit $rc, want 1 ($(cat "$LM_TMP/rn.err"))"
	jq -e '.results[0].outcome == "cut-after-connect"' "$LM_TMP/rn$i.json" >/dev/null ||
		lm_fail "accept-and-reset: $(jq -c '.results[0] | [.outcome, .detail]' "$LM_TMP/rn$i.json")"
	rc=0
	ip netns exec "$NP" "$LYNCMOCK" certs inspect 198.18.21.2:31014 --ca "$LM_TMP/pki/ca.pem" \
		>"$LM_TMP/ci.out" 2>&1 || rc=$?
	[ "$rc" -ne 141 ] && [ "$rc" -lt 128 ] || lm_fail "certs inspect died of a signal (exit $rc)"
done
echo "accept-and-reset: probe exit 1 with a report (cut-after-connect), certs inspect exit $rc"

# old (schema 1) and new (schema 2) reports merge into one matrix (two scenarios: --allow-mixed)
rc=0
"$LYNCMOCK" report --allow-mixed --format json -o "$LM_TMP/m.json" "$LM_SOURCE_DIR/tests/fixtures/reports/rp01.json" \
	"$LM_TMP/a.json" 2>"$LM_TMP/m.err" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "report merge exit $rc ($(cat "$LM_TMP/m.err"))"
jq -e '.schema == "lyncmock-report/2" and (.results | length) > 10 and
	([.results[] | select(.outcome == "no-answer")] | length) == 2 and
	([.results[] | select(.rule == "tls-rst")][0].fix | test("resets it after our first bytes"))' \
	"$LM_TMP/m.json" >/dev/null || lm_fail "merged report"
"$LYNCMOCK" report --format junit "$LM_TMP/a.json" >"$LM_TMP/a.xml" || true
grep -q 'cut-after-connect' "$LM_TMP/a.xml" && grep -q 'no-answer' "$LM_TMP/a.xml" || lm_fail "junit lacks the new outcomes"
"$LYNCMOCK" report --format dot "$LM_TMP/a.json" >"$LM_TMP/a.dot" || true
grep -q 'cut-after-connect' "$LM_TMP/a.dot" || lm_fail "dot lacks the new outcomes"
echo "PASS"
