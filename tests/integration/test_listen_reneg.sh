#!/usr/bin/env bash
# A TLS 1.2 client that completes its handshake and then asks to renegotiate
# (openssl s_client's R command) is refused; the connection's log line must
# keep the finished handshake's facts (version, cipher, client certificate)
# and say "renegotiation refused", in the plain log and in --json-log.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_cmd openssl
lm_need_cmd python3

lis_pki
# reneg PORT [client cert args...]: s_client -tls1_2, then R; its output in $LM_TMP/sc.PORT
reneg() {
	local port=$1
	shift
	printf 'R\n' | timeout 20 openssl s_client -tls1_2 -connect "127.0.3.1:$port" \
		-servername dirpool.contoso.local -CAfile "$LIS_PKI/ca.pem" "$@" \
		>"$LM_TMP/sc.$port" 2>&1 || true
	grep -q '^RENEGOTIATING' "$LM_TMP/sc.$port" || { cat "$LM_TMP/sc.$port"; lm_fail "s_client did not renegotiate on $port"; }
	grep -q 'Protocol *: TLSv1.2' "$LM_TMP/sc.$port" || { cat "$LM_TMP/sc.$port"; lm_fail "no TLS 1.2 handshake on $port"; }
	echo "s_client on $port: $(grep -m1 -o 'no renegotiation' "$LM_TMP/sc.$port" || echo '?')"
}
REASON='renegotiation refused: the client asked to renegotiate TLSv1.2 after the handshake; listeners do not renegotiate'

lis_start plain dir01
pid=$LIS_PID
reneg 10443
reneg 15061 -cert "$LIS_PKI/edge01.pem" -key "$LIS_PKI/edge01.key"
lis_stop "$pid"
cat "$LM_TMP/plain.log"
grep -qF "https port=10443 peer=127.0.0.1:" "$LM_TMP/plain.log" || lm_fail "no https log line"
grep -E "^[^ ]+ https port=10443 peer=127\.0\.0\.1:[0-9]+ tls=TLSv1\.2 cipher=ECDHE-[A-Z0-9-]+ client_cert=\"\" outcome=\"$REASON\" " \
	"$LM_TMP/plain.log" >/dev/null || lm_fail "https: the log line lacks the handshake's facts or the reason"
grep -E "^[^ ]+ sip-mtls port=15061 peer=127\.0\.0\.1:[0-9]+ tls=TLSv1\.2 cipher=ECDHE-[A-Z0-9-]+ client_cert=\"CN=edge01-int\.contoso\.local\" outcome=\"$REASON\" " \
	"$LM_TMP/plain.log" >/dev/null || lm_fail "sip-mtls: the log line lacks the handshake's facts or the reason"
grep -q 'handshake failed' "$LM_TMP/plain.log" && lm_fail "a refused renegotiation logged as a failed handshake"

lis_start json dir01 --json-log
pid=$LIS_PID
reneg 15061 -cert "$LIS_PKI/edge01.pem" -key "$LIS_PKI/edge01.key"
lis_stop "$pid"
cat "$LM_TMP/json.log"
python3 - "$LM_TMP/json.log" "$REASON" <<'PY' || lm_fail "--json-log line of the refused renegotiation"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
conns = [l for l in lines if l.get("listener") == "sip-mtls"]
assert len(conns) == 1, conns
c = conns[0]
assert c["outcome"] == sys.argv[2], c
assert c["tls"]["version"] == "TLSv1.2", c
assert c["tls"]["cipher"].startswith("ECDHE-"), c
assert c["tls"]["client_cert"] == "CN=edge01-int.contoso.local", c
print("json:", c["outcome"], c["tls"])
PY
echo "PASS"
