#!/usr/bin/env bash
# Probes against real `lyncmock listen` endpoints on loopback (127.0.4.x):
# every service passes with its identity checked (token, host, role,
# listener, port, peer address); a listener of another host answering at the
# probed address is a wrong-responder; with --no-client-cert the MTLS
# listeners reject us.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/probe_pki.sh"
lm_need_cmd jq

B=$((22000 + ($$ % 50) * 20))
cat >"$LM_TMP/sc.yaml" <<YAML
name: probe-listen
domain: contoso.local
hosts:
  - {name: edge01, role: edge-internal, address: 127.0.4.11, fqdn: edge01-int.contoso.local}
  - {name: dir01, role: director, address: 127.0.4.12, fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
  - {name: fe01, role: front-end, address: 127.0.4.13, fqdn: fe01.contoso.local, pool: fepool.contoso.local}
  - {name: rp01, role: reverse-proxy, address: 127.0.4.14}
rules:
  - {id: rp-dir-http,   service: http,     port: $((B + 1)), from: reverse-proxy, to: director}
  - {id: rp-dir-https,  service: https,    port: $((B + 2)), from: reverse-proxy, to: director}
  - {id: edge-dir-sip,  service: sip-mtls, port: $((B + 3)), from: edge-internal, to: director}
  - {id: any-edge-cls1, service: cls-mtls, port: $((B + 4)), from: any,           to: edge-internal}
  - {id: rp-dir-tcp,    service: tcp,      port: $((B + 5)), from: reverse-proxy, to: director}
  - {id: rp-fe-http,    service: http,     port: $((B + 1)), from: reverse-proxy, to: front-end}
YAML
"$LYNCMOCK" certs init --scenario "$LM_TMP/sc.yaml" --out "$LM_TMP/certs" >"$LM_TMP/certs.log" 2>&1 ||
	lm_fail "certs init: $(cat "$LM_TMP/certs.log")"

listen() { # name host [args]
	local name=$1 host=$2
	shift 2
	"$LYNCMOCK" listen --scenario "$LM_TMP/sc.yaml" --host "$host" --certs "$LM_TMP/certs" "$@" \
		>"$LM_TMP/$name.out" 2>"$LM_TMP/$name.log" &
	lm_track $!
	lm_wait_for "$LM_TMP/$name.out" "^ready host=$host"
}
listen dir dir01
listen edge edge01
# dir01's listeners again, at fe01's address: the stray service a wrong DNS record or NAT reaches
listen stray dir01 --bind 127.0.4.13

probe() { # host out [args]
	local host=$1 out=$2
	shift 2
	"$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host "$host" --certs "$LM_TMP/certs" \
		--timeout 3 --format json --output "$out" "$@"
}
get() { jq -r --arg r "$2" ".results[] | select(.rule == \$r) | $3" "$1"; }
expect() { # file rule outcome
	local o
	o=$(get "$1" "$2" .outcome)
	[ "$o" = "$3" ] || lm_fail "rule $2: $o, expected $3 ($(get "$1" "$2" .detail))"
}

rc=0
probe rp01 "$LM_TMP/rp.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "rp01: exit $rc, expected 1 (rp-fe-http is wrong)"
expect "$LM_TMP/rp.json" rp-dir-http pass
expect "$LM_TMP/rp.json" rp-dir-https pass
expect "$LM_TMP/rp.json" rp-dir-tcp pass
expect "$LM_TMP/rp.json" any-edge-cls1 pass
expect "$LM_TMP/rp.json" rp-fe-http wrong-responder
get "$LM_TMP/rp.json" rp-fe-http .detail | grep -q "reached dir01 (director) instead of fe01 (front-end)" ||
	lm_fail "wrong-responder detail: $(get "$LM_TMP/rp.json" rp-fe-http .detail)"
[ "$(get "$LM_TMP/rp.json" rp-dir-https .tls.version)" != null ] || lm_fail "no TLS facts"
get "$LM_TMP/rp.json" rp-dir-https .peer_seen | grep -q '^127\.0\.4\.14:' ||
	lm_fail "peer_seen: $(get "$LM_TMP/rp.json" rp-dir-https .peer_seen)"
get "$LM_TMP/rp.json" any-edge-cls1 '.tls.client_cert_requested' | grep -q true ||
	lm_fail "cls-mtls: the client certificate request was not seen"

rc=0
probe edge01 "$LM_TMP/edge.json" || rc=$?
[ "$rc" -eq 0 ] || lm_fail "edge01: exit $rc ($(jq -c '.results[] | [.rule, .outcome, .detail]' "$LM_TMP/edge.json"))"
expect "$LM_TMP/edge.json" edge-dir-sip pass
get "$LM_TMP/edge.json" edge-dir-sip .identity | jq -e '.listener == "sip-mtls" and .host == "dir01"' >/dev/null ||
	lm_fail "sip identity not recorded"

rc=0
probe edge01 "$LM_TMP/nocert.json" --no-client-cert || rc=$?
[ "$rc" -eq 1 ] || lm_fail "no client cert: exit $rc"
expect "$LM_TMP/nocert.json" edge-dir-sip tls-client-rejected
rc=0
probe rp01 "$LM_TMP/nocert2.json" --no-client-cert --rule any-edge-cls1 || rc=$?
[ "$rc" -eq 1 ] || lm_fail "no client cert (cls): exit $rc"
expect "$LM_TMP/nocert2.json" any-edge-cls1 tls-client-rejected

# ad hoc against the mock: the token comes back, identity verified by address
rc=0
"$LYNCMOCK" probe --format json --ca "$LM_TMP/certs/ca.pem" --cert "$LM_TMP/certs/edge01.pem" \
	--key "$LM_TMP/certs/edge01.key" "http://127.0.4.12:$((B + 1))" "tcp://127.0.4.12:$((B + 5))" \
	>"$LM_TMP/adhoc.json" || rc=$?
[ "$rc" -eq 0 ] || lm_fail "ad hoc: exit $rc ($(jq -c '.results[] | [.outcome, .detail]' "$LM_TMP/adhoc.json"))"
[ "$(jq -r '[.results[] | .outcome] | unique | join(",")' "$LM_TMP/adhoc.json")" = pass ] ||
	lm_fail "ad hoc: $(jq -c '[.results[] | .outcome]' "$LM_TMP/adhoc.json")"
# the listener's own fault injection (what `lab --break` uses): plaintext on a
# TLS port, and a certificate from another CA
probe_pki "$LM_TMP/pki" || lm_fail "cannot make the test PKI"
sed 's/address: 127.0.4.12,/address: 127.0.4.16,/' "$LM_TMP/sc.yaml" >"$LM_TMP/faults.yaml"
"$LYNCMOCK" listen --scenario "$LM_TMP/faults.yaml" --host dir01 --certs "$LM_TMP/certs" \
	--plaintext $((B + 2)) --port-cert "$((B + 3)),$LM_TMP/pki/foreign.pem,$LM_TMP/pki/foreign.key" \
	>"$LM_TMP/faults.out" 2>"$LM_TMP/faults.log" &
lm_track $!
lm_wait_for "$LM_TMP/faults.out" "^ready host=dir01"
"$LYNCMOCK" probe --scenario "$LM_TMP/faults.yaml" --host rp01 --certs "$LM_TMP/certs" --rule rp-dir-https \
	--format json --output "$LM_TMP/f1.json" && lm_fail "plaintext: exit 0"
expect "$LM_TMP/f1.json" rp-dir-https tls-failed
"$LYNCMOCK" probe --scenario "$LM_TMP/faults.yaml" --host edge01 --certs "$LM_TMP/certs" \
	--format json --output "$LM_TMP/f2.json" && lm_fail "wrong CA: exit 0"
expect "$LM_TMP/f2.json" edge-dir-sip tls-untrusted
echo "ok: probes against lyncmock listen"
