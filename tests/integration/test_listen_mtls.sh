#!/usr/bin/env bash
# MTLS listeners (sip-mtls 5061, cls-mtls 50001-50003) against openssl
# s_client: no client certificate -> refused, a certificate from another CA
# -> refused, the right one -> the CLS line protocol answers JSON; a garbage
# line -> ERR and close; serverAuth-only client certificates accepted unless
# --strict-client-eku.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_cmd openssl
lm_need_cmd python3

lis_pki
# a second CA the listeners do not trust, with a client certificate
other=$LM_TMP/other
mkdir -p "$other"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$other/ca.key" -out "$other/ca.pem" -days 2 \
	-subj /CN=other-ca 2>/dev/null || lm_fail "other CA"
openssl req -newkey rsa:2048 -nodes -keyout "$other/c.key" -out "$other/c.csr" \
	-subj /CN=cl01.contoso.local 2>/dev/null || lm_fail "other CSR"
printf 'extendedKeyUsage=clientAuth\n' >"$other/ext"
openssl x509 -req -in "$other/c.csr" -CA "$other/ca.pem" -CAkey "$other/ca.key" -CAcreateserial \
	-days 2 -extfile "$other/ext" -out "$other/c.pem" 2>/dev/null || lm_fail "other cert"
# the same lab CA, server certificates without clientAuth (Lync accepts those for MTLS)
sonly=$LM_TMP/sonly
mkdir -p "$sonly"
cp "$LIS_PKI/ca.pem" "$LIS_PKI/ca.key" "$sonly/"
"$LYNCMOCK" certs init --scenario "$LIS_SCENARIO" --out "$sonly" --no-client-auth >/dev/null ||
	lm_fail "certs init --no-client-auth"

lis_start edge edge01 --idle-timeout 1500
edge=$LIS_PID
lis_start dir dir01 --idle-timeout 1500
dir=$LIS_PID

# sclient PORT HOST-ADDR [s_client options]: sends stdin, prints what came back
sclient() {
	local port=$1 addr=$2
	shift 2
	timeout 10 openssl s_client -connect "$addr:$port" -CAfile "$LIS_PKI/ca.pem" \
		-verify_return_error -quiet "$@" 2>&1
}

# 1. no client certificate: refused (TLS 1.3: the alert comes on the first read)
out=$(printf 'LYNCMOCK PROBE t1\r\n' | sclient 60001 127.0.3.3 -servername edge01-int.contoso.local)
echo "s_client cls without cert: $out"
grep -q 'alert certificate required\|alert handshake failure' <<<"$out" ||
	lm_fail "cls without client certificate not refused"
! grep -q '"service":"lyncmock"' <<<"$out" || lm_fail "cls answered without client certificate"
out=$(printf 'OPTIONS sip:x SIP/2.0\r\n\r\n' | sclient 15061 127.0.3.1)
echo "s_client sip without cert: $out"
grep -q 'alert certificate required\|alert handshake failure' <<<"$out" ||
	lm_fail "sip without client certificate not refused"

# 2. a certificate from another CA: refused
out=$(printf 'LYNCMOCK PROBE t2\r\n' | sclient 60002 127.0.3.3 -cert "$other/c.pem" -key "$other/c.key")
echo "s_client cls other CA: $out"
grep -q 'alert unknown ca' <<<"$out" || lm_fail "cls with another CA's certificate not refused"
out=$(printf 'x\r\n' | sclient 15061 127.0.3.1 -cert "$other/c.pem" -key "$other/c.key")
grep -q 'alert unknown ca' <<<"$out" || lm_fail "sip with another CA's certificate not refused"

# 3. the right certificate: one JSON line per probe line, then the idle timeout closes
out=$(printf 'LYNCMOCK PROBE t3\r\nLYNCMOCK PROBE t4\r\n' |
	sclient 60003 127.0.3.3 -cert "$LIS_PKI/cl01.pem" -key "$LIS_PKI/cl01.key" | grep '^{')
echo "s_client cls with cl01 cert: $out"
lis_expect "cls answers" "$(grep -c '"service":"lyncmock"' <<<"$out")" 2
head -n1 <<<"$out" | tr -d '\r' >"$LM_TMP/cls.json"
lis_expect "cls identity" "$(lis_json "$LM_TMP/cls.json" 'j["host"], j["role"], j["listener"], j["port"], j["token"], j["tls"]["client_cert"]')" \
	"('edge01', 'edge-internal', 'cls-mtls', 60003, 't3', 'CN=cl01.contoso.local')"

# 3b. one TLS 1.3 ticket (it tells a probe its certificate was accepted), and
# presenting it gets a full handshake with the client certificate asked again:
# no resumption ever skips the client-certificate check
sess() {
	{ printf 'LYNCMOCK PROBE %s\r\n' "$1"; sleep 1; } |
		timeout 10 openssl s_client -connect 127.0.3.3:60003 -CAfile "$LIS_PKI/ca.pem" \
			-cert "$LIS_PKI/cl01.pem" -key "$LIS_PKI/cl01.key" -msg "${@:2}" 2>&1
}
out=$(sess t8 -sess_out "$LM_TMP/sess.pem")
lis_expect "tickets sent" "$(grep -c '<<< TLS 1.3, Handshake.*NewSessionTicket' <<<"$out")" 1
grep -q '"token":"t8"' <<<"$out" || lm_fail "no answer on the ticket run: $out"
[ -s "$LM_TMP/sess.pem" ] || lm_fail "s_client saved no session"
out=$(sess t9 -sess_in "$LM_TMP/sess.pem")
grep -q '^New, TLSv1.3' <<<"$out" || lm_fail "the ticket resumed a session: $(grep -E '^(New|Reused)' <<<"$out")"
grep -q 'CertificateRequest' <<<"$out" || lm_fail "no client certificate asked on the second connection"
grep -q '"token":"t9".*"client_cert":"CN=cl01.contoso.local"' <<<"$out" ||
	lm_fail "second connection not answered with the client certificate seen"
echo "one ticket; presenting it: $(grep -E '^(New|Reused)' <<<"$out")"
# 3c. a port that asks for no client certificate sends no ticket: it would
# tell a probe nothing, and making one costs the listener CPU
out=$(printf 'GET /lyncmock/probe?token=t10 HTTP/1.1\r\nHost: dir01\r\nConnection: close\r\n\r\n' |
	sclient $((443 + LIS_OFF)) 127.0.3.1 -msg)
grep -q '"token":"t10"' <<<"$out" || lm_fail "https not answered: $out"
! grep -q 'CertificateRequest' <<<"$out" || lm_fail "https asked for a client certificate"
lis_expect "tickets on https" "$(grep -c 'NewSessionTicket' <<<"$out")" 0

# 4. garbage: ERR and close (s_client returns without waiting for the idle timeout)
start=$(date +%s%N)
out=$(printf 'HELLO THERE\r\nLYNCMOCK PROBE never\r\n' |
	sclient 60001 127.0.3.3 -cert "$LIS_PKI/cl01.pem" -key "$LIS_PKI/cl01.key" | tr -d '\r' | grep '^ERR\|^{')
elapsed=$((($(date +%s%N) - start) / 1000000))
echo "s_client cls garbage: $out (${elapsed} ms)"
lis_expect "cls garbage" "$out" "ERR unknown command"
[ "$elapsed" -lt 1400 ] || lm_fail "connection not closed after ERR (${elapsed} ms)"

# 5. serverAuth-only client certificate: accepted by default (as Lync does)
out=$(printf 'LYNCMOCK PROBE t5\r\n' |
	sclient 60001 127.0.3.3 -cert "$sonly/fe01.pem" -key "$sonly/fe01.key" | grep '^{')
grep -q '"token":"t5"' <<<"$out" || lm_fail "serverAuth-only client certificate refused by default"
lis_stop "$edge"
grep -q 'outcome="handshake failed: no client certificate sent (one is required)"' "$LM_TMP/edge.log" ||
	lm_fail "log does not say the client certificate was missing"
grep -q 'outcome="handshake failed: client certificate rejected: depth 0 (CN=cl01.contoso.local): unable to get local issuer certificate"' \
	"$LM_TMP/edge.log" || lm_fail "log does not say why the other CA was refused"
grep -q 'outcome="protocol error: unknown command"' "$LM_TMP/edge.log" || lm_fail "no protocol error logged"
grep -q 'outcome="timeout: idle for 1500 ms".*requests=2' "$LM_TMP/edge.log" || lm_fail "no idle timeout logged"
echo "edge01 log:"; cat "$LM_TMP/edge.log"

# ...and refused with --strict-client-eku
lis_start edge2 edge01 --idle-timeout 1500 --strict-client-eku
edge2=$LIS_PID
out=$(printf 'LYNCMOCK PROBE t6\r\n' |
	sclient 60001 127.0.3.3 -cert "$sonly/fe01.pem" -key "$sonly/fe01.key")
! grep -q '"token":"t6"' <<<"$out" || lm_fail "--strict-client-eku accepted a serverAuth-only certificate"
out=$(printf 'LYNCMOCK PROBE t7\r\n' |
	sclient 60001 127.0.3.3 -cert "$LIS_PKI/cl01.pem" -key "$LIS_PKI/cl01.key")
grep -q '"token":"t7"' <<<"$out" || lm_fail "--strict-client-eku refused a clientAuth certificate"
lis_stop "$edge2"
grep -q 'certificate purpose' "$LM_TMP/edge2.log" ||
	{ cat "$LM_TMP/edge2.log"; lm_fail "strict EKU refusal not explained"; }
lis_stop "$dir"
echo "PASS"
