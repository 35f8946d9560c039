#!/usr/bin/env bash
# Probe outcomes against real TLS peers on loopback (127.0.4.x): openssl
# s_server with certificates from another CA, with a wrong name, expired,
# requiring a client certificate from another CA (TLS 1.2 and 1.3), a
# plaintext server on a TLS port, a TLS server speaking something else, and
# non-mock web servers (s_server -www, nginx). Each rule asserts its outcome.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/probe_pki.sh"
lm_need_cmd openssl
lm_need_cmd jq
lm_need_cmd python3

P=$LM_TMP/pki
probe_pki "$P" || lm_fail "cannot make the test PKI"
SRC=127.0.4.1 DST=127.0.4.2
BASE=$((21000 + ($$ % 50) * 40)) # distinct ports per run

cat >"$LM_TMP/sc.yaml" <<YAML
name: probe-tls
domain: contoso.local
hosts:
  - {name: edge01, role: edge-internal, address: $SRC, fqdn: edge01-int.contoso.local}
  - {name: dir01, role: director, address: $DST, fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
rules:
  - {id: refused,     service: https,    port: $((BASE + 1)),  from: edge-internal, to: director}
  - {id: untrusted,   service: https,    port: $((BASE + 2)),  from: edge-internal, to: director}
  - {id: name,        service: https,    port: $((BASE + 3)),  from: edge-internal, to: director}
  - {id: expired,     service: https,    port: $((BASE + 4)),  from: edge-internal, to: director}
  - {id: reject12,    service: sip-mtls, port: $((BASE + 5)),  from: edge-internal, to: director}
  - {id: reject13,    service: sip-mtls, port: $((BASE + 6)),  from: edge-internal, to: director}
  - {id: plaintext,   service: https,    port: $((BASE + 7)),  from: edge-internal, to: director}
  - {id: cls-garbage, service: cls-mtls, port: $((BASE + 8)),  from: edge-internal, to: director}
  - {id: sip-garbage, service: sip-mtls, port: $((BASE + 9)),  from: edge-internal, to: director}
  - {id: foreign-tls, service: https,    port: $((BASE + 10)), from: edge-internal, to: director}
  - {id: foreign-web, service: http,     port: $((BASE + 11)), from: edge-internal, to: director}
  - {id: blocked-ok,  service: https,    port: $((BASE + 12)), from: edge-internal, to: director, expect: blocked}
  - {id: blocked-bad, service: https,    port: $((BASE + 13)), from: edge-internal, to: director, expect: blocked}
  - {id: silent,      service: https,    port: $((BASE + 14)), from: edge-internal, to: director}
  - {id: oldtls,      service: https,    port: $((BASE + 15)), from: edge-internal, to: director}
YAML

# s_server PORT ARGS...: starts one and waits for its ACCEPT line.
s_server() {
	local port=$1
	shift
	openssl s_server -accept "$DST:$port" -naccept 1000 "$@" >"$LM_TMP/s$port.log" 2>&1 &
	lm_track $!
	lm_wait_for "$LM_TMP/s$port.log" ACCEPT
}
s_server $((BASE + 2)) -cert "$P/foreign.pem" -key "$P/foreign.key" -www
s_server $((BASE + 3)) -cert "$P/wrongname.pem" -key "$P/wrongname.key" -www
s_server $((BASE + 4)) -cert "$P/expired.pem" -key "$P/expired.key" -www
s_server $((BASE + 5)) -cert "$P/good.pem" -key "$P/good.key" -tls1_2 -www \
	-Verify 1 -verify_return_error -CAfile "$P/other-ca.pem"
s_server $((BASE + 6)) -cert "$P/good.pem" -key "$P/good.key" -tls1_3 -www \
	-Verify 1 -verify_return_error -CAfile "$P/other-ca.pem"
s_server $((BASE + 8)) -cert "$P/good.pem" -key "$P/good.key" -rev \
	-Verify 1 -verify_return_error -CAfile "$P/ca.pem"
s_server $((BASE + 9)) -cert "$P/good.pem" -key "$P/good.key" -rev \
	-Verify 1 -verify_return_error -CAfile "$P/ca.pem"
s_server $((BASE + 10)) -cert "$P/good.pem" -key "$P/good.key" -www
s_server $((BASE + 13)) -cert "$P/good.pem" -key "$P/good.key" -www
s_server $((BASE + 15)) -cert "$P/good.pem" -key "$P/good.key" -www -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
# a TCP server that accepts and never says a word
python3 -u -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64); print("ready", flush=True); time.sleep(600)' \
	"$DST" $((BASE + 14)) >"$LM_TMP/silent.log" 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/silent.log" ready
python3 -u -m http.server --bind "$DST" $((BASE + 7)) >"$LM_TMP/py.log" 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/py.log" "Serving HTTP"
if command -v nginx >/dev/null 2>&1; then
	mkdir -p "$LM_TMP/nginx"
	cat >"$LM_TMP/nginx.conf" <<NGX
daemon off;
pid $LM_TMP/nginx/pid;
error_log $LM_TMP/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $LM_TMP/nginx;
	proxy_temp_path $LM_TMP/nginx;
	fastcgi_temp_path $LM_TMP/nginx;
	uwsgi_temp_path $LM_TMP/nginx;
	scgi_temp_path $LM_TMP/nginx;
	server { listen $DST:$((BASE + 11)); location / { return 200 "hello from nginx\n"; } }
}
NGX
	nginx -c "$LM_TMP/nginx.conf" -e "$LM_TMP/nginx/error.log" >/dev/null 2>&1 &
	lm_track $!
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/$DST/$((BASE + 11))) 2>/dev/null && break
		sleep 0.05
	done
else
	# the same role: a non-mock web server
	mkdir -p "$LM_TMP/www"
	python3 -u -m http.server --bind "$DST" --directory "$LM_TMP/www" $((BASE + 11)) \
		>"$LM_TMP/py2.log" 2>&1 &
	lm_track $!
	lm_wait_for "$LM_TMP/py2.log" "Serving HTTP"
fi

run() { # out-file extra-args...
	local out=$1
	shift
	"$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host edge01 --ca "$P/ca.pem" \
		--timeout 2 --format json --output "$out" "$@"
}
outcome() { jq -r --arg r "$2" '.results[] | select(.rule == $r) | .outcome' "$1"; }
verdict() { jq -r --arg r "$2" '.results[] | select(.rule == $r) | .verdict' "$1"; }
expect() { # file rule outcome [verdict]
	local got
	got=$(outcome "$1" "$2")
	[ "$got" = "$3" ] || lm_fail "rule $2: outcome '$got', expected '$3' ($(jq -c --arg r "$2" '.results[] | select(.rule == $r) | .detail' "$1"))"
	if [ $# -gt 3 ]; then
		got=$(verdict "$1" "$2")
		[ "$got" = "$4" ] || lm_fail "rule $2: verdict '$got', expected '$4'"
	fi
}

# 1. with the lab client certificate
rc=0
run "$LM_TMP/a.json" --cert "$P/client.pem" --key "$P/client.key" --debug-tls 2>"$LM_TMP/a.debug" || rc=$?
[ "$rc" -eq 1 ] || cat "$LM_TMP/a.debug" | tail -5 >&2
[ "$rc" -eq 1 ] || lm_fail "exit $rc, expected 1 (failed verdicts)"
A=$LM_TMP/a.json
expect "$A" refused refused fail
expect "$A" untrusted tls-untrusted fail
expect "$A" name tls-name-mismatch fail
expect "$A" expired tls-expired fail
expect "$A" reject12 tls-client-rejected fail
expect "$A" reject13 tls-client-rejected fail
expect "$A" plaintext tls-failed fail
expect "$A" cls-garbage protocol-error fail
expect "$A" sip-garbage protocol-error fail
expect "$A" foreign-tls wrong-responder fail
expect "$A" foreign-web wrong-responder fail
expect "$A" blocked-ok refused ok
expect "$A" blocked-bad wrong-responder fail
expect "$A" silent no-answer fail
expect "$A" oldtls tls-failed fail
jq -e '.results[] | select(.rule == "silent") | .detail | test("the server sent nothing in [0-9]+ ms .after our ClientHello")' "$A" >/dev/null ||
	lm_fail "silent: $(jq -c '.results[] | select(.rule == "silent") | .detail' "$A")"
jq -e '.results[] | select(.rule == "oldtls") | .detail | test("protocol version")' "$A" >/dev/null ||
	lm_fail "oldtls: $(jq -c '.results[] | select(.rule == "oldtls") | .detail' "$A")"
[ "$(jq '.results | length' "$A")" -eq 15 ] || lm_fail "expected 15 results"

# the facts behind the outcomes
jq -e '.results[] | select(.rule == "reject13") | .detail | test("first read after the handshake")' "$A" >/dev/null ||
	lm_fail "TLS 1.3 rejection not seen on the first read"
jq -e '.results[] | select(.rule == "reject12") | .tls.client_cert_requested == true and .tls.client_cert_sent == true' "$A" >/dev/null ||
	lm_fail "reject12: client certificate request/sent not recorded: $(jq -c '.results[] | select(.rule == "reject12") | .tls' "$A")"
jq -e '.results[] | select(.rule == "reject12") | .tls | tostring | test("other-ca")' "$A" >/dev/null ||
	lm_fail "reject12: acceptable CA names not recorded"
jq -e '.results[] | select(.rule == "name") | .fix | test("dirpool.contoso.local")' "$A" >/dev/null ||
	lm_fail "name: the fix does not name the missing FQDN"
jq -e '.results[] | select(.rule == "name") | .tls | tostring | test("DNS:wrong.contoso.local")' "$A" >/dev/null ||
	lm_fail "name: the chain's SANs are not recorded"
jq -e '.results[] | select(.rule == "expired") | .tls | tostring | test("2021-01-01T00:00:00Z")' "$A" >/dev/null ||
	lm_fail "expired: notAfter not recorded in ISO 8601"
jq -e '.results[] | select(.rule == "untrusted") | .tls | tostring | test("serverAuth")' "$A" >/dev/null ||
	lm_fail "untrusted: EKUs not recorded"
grep -q "received CertificateRequest" "$LM_TMP/a.debug" || lm_fail "--debug-tls: no CertificateRequest line"
grep -q "acceptable CA: CN=other-ca" "$LM_TMP/a.debug" || lm_fail "--debug-tls: no CA names"
grep -q "received alert fatal unknown CA" "$LM_TMP/a.debug" || lm_fail "--debug-tls: no alert line"
grep -q "verify error: certificate has expired (depth 0, CN=dirpool.contoso.local)" "$LM_TMP/a.debug" ||
	lm_fail "--debug-tls: no verification error with depth and subject"

# 2. no client certificate: the MTLS servers reject us (TLS 1.2 handshake_failure, TLS 1.3 certificate_required)
rc=0
run "$LM_TMP/b.json" --no-client-cert --rule reject12 --rule reject13 || rc=$?
[ "$rc" -eq 1 ] || lm_fail "no-client-cert: exit $rc"
expect "$LM_TMP/b.json" reject12 tls-client-rejected
expect "$LM_TMP/b.json" reject13 tls-client-rejected
jq -e '[.results[] | .tls.client_cert_sent == false] | all' "$LM_TMP/b.json" >/dev/null ||
	lm_fail "no-client-cert: a certificate was sent"

# 3. a client certificate from another CA
run "$LM_TMP/c.json" --cert "$P/otherclient.pem" --key "$P/otherclient.key" --rule cls-garbage || true
expect "$LM_TMP/c.json" cls-garbage tls-client-rejected

# 4. --allow-foreign: a non-mock web server is OK (foreign-peer); exit 0 when all OK
rc=0
run "$LM_TMP/d.json" --allow-foreign --rule foreign-tls --rule foreign-web || rc=$?
[ "$rc" -eq 0 ] || lm_fail "--allow-foreign: exit $rc, expected 0"
expect "$LM_TMP/d.json" foreign-tls foreign-peer ok
expect "$LM_TMP/d.json" foreign-web foreign-peer ok

# 5. ad hoc URLs (IP literal: the certificate must name the IP → mismatch)
rc=0
"$LYNCMOCK" probe --format json --ca "$P/ca.pem" "https://$DST:$((BASE + 10))" "tcp://$DST:$((BASE + 10))" \
	"tcp://$DST:$((BASE + 1))" >"$LM_TMP/e.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "ad hoc: exit $rc"
adhoc() { jq -r --arg s "$1" --argjson p "$2" '.results[] | select(.service == $s and .port == $p) | .outcome' "$LM_TMP/e.json"; }
[ "$(adhoc https $((BASE + 10)))" = tls-name-mismatch ] || lm_fail "ad hoc https: $(adhoc https $((BASE + 10)))"
[ "$(adhoc tcp $((BASE + 10)))" = pass ] || lm_fail "ad hoc tcp open: $(adhoc tcp $((BASE + 10)))"
[ "$(adhoc tcp $((BASE + 1)))" = refused ] || lm_fail "ad hoc tcp closed: $(adhoc tcp $((BASE + 1)))"

# 6. usage and configuration errors exit 2, before any probing
rc=0; "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host nosuch >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || lm_fail "unknown host: exit $rc"
rc=0; "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host edge01 --ca "$P/ca.pem" \
	--output /nonexistent-dir/r.json >/dev/null 2>"$LM_TMP/err" || rc=$?
[ "$rc" -eq 2 ] || lm_fail "unwritable output: exit $rc"
grep -q "nonexistent-dir" "$LM_TMP/err" || lm_fail "unwritable output: no message"
rc=0; "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host edge01 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || lm_fail "TLS rules without a CA: exit $rc"
rc=0; "$LYNCMOCK" probe --timeout 0 tcp://$DST:1 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || lm_fail "bad timeout: exit $rc"
rc=0; "$LYNCMOCK" probe gopher://$DST:1 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || lm_fail "bad scheme: exit $rc"
rc=0; "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host edge01 --ca "$P/ca.pem" --rule nosuch >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || lm_fail "unknown --rule: exit $rc"
echo "ok: every TLS fault classified"
