#!/usr/bin/env bash
# The stun, turn-tcp and udp services against real peers on loopback
# (127.0.9.x): coturn's turnutils_stunclient and nmap's stun-info and
# stun-version scripts read lyncmock's stun listener; lyncmock's probe gets
# pass from its own listeners (identity, token = transaction ID, source
# seen), foreign-peer from coturn's turnserver, refused from a closed port
# (ICMP port-unreachable) and filtered, after RFC 5389's 7 transmissions,
# from a UDP socket that never answers.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_cmd jq
lm_need_cmd turnutils_stunclient
lm_need_cmd turnserver
lm_need_cmd nmap
lm_need_cmd python3

B=$((26000 + ($$ % 50) * 20))
cat >"$LM_TMP/sc.yaml" <<YAML
name: stun-peers
domain: contoso.local
hosts:
  - {name: edge01, role: edge-internal, address: 127.0.9.11, fqdn: edge01-int.contoso.local}
  - {name: cl01, role: internal-client, address: 127.0.9.12}
  - {name: turn01, role: edge-internal, address: 127.0.9.13, fqdn: turn01.contoso.local}
rules:
  - {id: cl-edge-stun, service: stun, port: $((B + 1)), from: internal-client, to: edge01}
  - {id: cl-edge-turn, service: turn-tcp, port: $((B + 2)), from: internal-client, to: edge01}
  - {id: cl-edge-udp, service: udp, port: $((B + 3)), from: internal-client, to: edge01}
  - {id: cl-edge-closed, service: stun, port: $((B + 4)), from: internal-client, to: turn01}
  - {id: cl-coturn, service: stun, port: $((B + 5)), from: internal-client, to: turn01}
YAML
"$LYNCMOCK" certs init --scenario "$LM_TMP/sc.yaml" --out "$LM_TMP/certs" >"$LM_TMP/certs.log" 2>&1 ||
	lm_fail "certs init: $(cat "$LM_TMP/certs.log")"
"$LYNCMOCK" listen --scenario "$LM_TMP/sc.yaml" --host edge01 --certs "$LM_TMP/certs" \
	>"$LM_TMP/edge.out" 2>"$LM_TMP/edge.log" &
lm_track $!
lm_wait_for "$LM_TMP/edge.out" "^ready host=edge01"

# --- real clients against the stun listener
out=$(timeout 20 turnutils_stunclient -p $((B + 1)) 127.0.9.11 2>&1) ||
	lm_fail "turnutils_stunclient: $out"
grep -q 'UDP reflexive addr: 127\.0\.0\.1:' <<<"$out" ||
	lm_fail "turnutils_stunclient got no reflexive address: $out"
grep -q 'stun port='$((B + 1))' peer=127.0.0.1:[0-9]* .*outcome="binding"' "$LM_TMP/edge.log" ||
	lm_fail "listener did not log the binding: $(cat "$LM_TMP/edge.log")"
# stun-info's portrule wants 3478: "+" runs it on our port anyway
out=$(timeout 60 nmap -n -Pn -sU -p $((B + 1)) --script +stun-info 127.0.9.11 2>&1) ||
	lm_fail "nmap: $out"
grep -q 'External IP: 127\.0\.0\.1' <<<"$out" || lm_fail "nmap stun-info: no External IP: $out"
# stun-version is a version script: it fills the VERSION column from SOFTWARE
out=$(timeout 60 nmap -n -Pn -sU -sV --version-intensity 0 -p $((B + 1)) --script +stun-version \
	127.0.9.11 2>&1) || lm_fail "nmap: $out"
grep -q "$((B + 1))/udp *open *stun *lyncmock .* edge01 (edge-internal)" <<<"$out" ||
	lm_fail "nmap stun-version: no lyncmock SOFTWARE: $out"
echo "nmap: $(grep -E "External IP|^$((B + 1))/udp" <<<"$out" | tr -s ' ' | tr '\n' ';')"

# --- coturn as the foreign STUN server; a silent UDP socket
turnserver -n --listening-ip=127.0.9.13 --listening-port=$((B + 5)) --no-tls --no-dtls \
	--no-cli --simple-log --log-file=stdout >"$LM_TMP/turn.log" 2>&1 &
lm_track $!
python3 - "$LM_TMP/silent.count" $((B + 6)) <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.9.13", int(sys.argv[2])))
s.settimeout(0.2)
n, end = 0, time.time() + 8
open(sys.argv[1] + ".ready", "w").close()
while time.time() < end:
    try:
        s.recv(4096)
        n += 1
    except socket.timeout:
        pass
open(sys.argv[1], "w").write(str(n))
PY
lm_track $!
for _ in $(seq 100); do
	grep -qi 'listener opened\|Total General servers' "$LM_TMP/turn.log" 2>/dev/null &&
		[ -e "$LM_TMP/silent.count.ready" ] && break
	sleep 0.1
done

probe() { # out [args]
	local out=$1
	shift
	"$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host cl01 --certs "$LM_TMP/certs" \
		--timeout 2 --format json --output "$out" "$@"
}
get() { jq -r --arg r "$2" ".results[] | select(.rule == \$r) | $3" "$1"; }
expect() { # file rule outcome
	local o
	o=$(get "$1" "$2" .outcome)
	[ "$o" = "$3" ] || lm_fail "rule $2: $o, expected $3 ($(get "$1" "$2" .detail))"
}
rc=0
probe "$LM_TMP/cl.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "probe: exit $rc, expected 1 (closed port, coturn)"
expect "$LM_TMP/cl.json" cl-edge-stun pass
expect "$LM_TMP/cl.json" cl-edge-turn pass
expect "$LM_TMP/cl.json" cl-edge-udp pass
expect "$LM_TMP/cl.json" cl-edge-closed refused
expect "$LM_TMP/cl.json" cl-coturn wrong-responder
for r in cl-edge-stun cl-edge-turn; do
	[ "$(get "$LM_TMP/cl.json" $r .identity.host)" = edge01 ] || lm_fail "$r: identity host"
	[[ "$(get "$LM_TMP/cl.json" $r .peer_seen)" == 127.0.9.12:* ]] ||
		lm_fail "$r: the listener saw $(get "$LM_TMP/cl.json" $r .peer_seen)"
done
get "$LM_TMP/cl.json" cl-edge-closed .detail | grep -q 'ICMP port-unreachable from 127.0.9.13' ||
	lm_fail "refused detail: $(get "$LM_TMP/cl.json" cl-edge-closed .detail)"
# with --allow-foreign coturn is a foreign peer, and OK
probe "$LM_TMP/cl2.json" --rule cl-coturn --allow-foreign ||
	lm_fail "coturn with --allow-foreign: $(get "$LM_TMP/cl2.json" cl-coturn .detail)"
expect "$LM_TMP/cl2.json" cl-coturn foreign-peer
get "$LM_TMP/cl2.json" cl-coturn .detail | grep -qi 'coturn' ||
	lm_fail "no coturn SOFTWARE in: $(get "$LM_TMP/cl2.json" cl-coturn .detail)"
# ad hoc, coturn over UDP and TCP
"$LYNCMOCK" probe stun://127.0.9.13:$((B + 5)) turn-tcp://127.0.9.13:$((B + 5)) --timeout 2 \
	--format json --output "$LM_TMP/adhoc.json" || lm_fail "ad-hoc probe of coturn failed"
[ "$(jq -r '[.results[].outcome] | unique | join(",")' "$LM_TMP/adhoc.json")" = foreign-peer ] ||
	lm_fail "ad hoc coturn: $(jq -c '[.results[] | {outcome, detail}]' "$LM_TMP/adhoc.json")"
echo "coturn: $(jq -r '.results[] | "\(.service) \(.outcome): \(.detail)"' "$LM_TMP/adhoc.json" | tr '\n' ';')"

# silence: filtered after 7 transmissions (RFC 5389 Rc) within the timeout
t0=$(date +%s%N)
rc=0
"$LYNCMOCK" probe stun://127.0.9.13:$((B + 6)) --timeout 2 --format json \
	--output "$LM_TMP/silent.json" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 1 ] || lm_fail "silent port: exit $rc"
[ "$(jq -r '.results[0].outcome' "$LM_TMP/silent.json")" = filtered ] ||
	lm_fail "silent port: $(jq -c '.results[0]' "$LM_TMP/silent.json")"
[ "$ms" -lt 6000 ] || lm_fail "filtered took $ms ms with --timeout 2"
for _ in $(seq 100); do [ -s "$LM_TMP/silent.count" ] && break; sleep 0.1; done
[ "$(cat "$LM_TMP/silent.count")" = 7 ] ||
	lm_fail "the silent socket got $(cat "$LM_TMP/silent.count") datagrams, expected 7"
echo "ok: stun peers (filtered in $ms ms after 7 transmissions)"
