#!/usr/bin/env bash
# http/https listeners against curl: identity record, X-Forwarded-* reflected,
# server name verified, client certificate required on 444, ready line,
# SIGHUP reload, bind errors, clean SIGTERM.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_cmd curl
lm_need_cmd python3

lis_pki
lis_start dir dir01
dir=$LIS_PID
lis_expect "ready line" "$(cat "$LM_TMP/dir.out")" "ready host=dir01 ports=10080,10443,14443,15061,18080"
lis_start fe fe01 --json-log
fe=$LIS_PID

# http 8080 from the reverse proxy's address, with proxy headers
curl -sS --max-time 5 --interface 127.0.3.10 -H 'X-Forwarded-For: 203.0.113.7' \
	-H 'X-Forwarded-Host: webext-dir.contoso.com' -H 'X-Other: no' \
	-o "$LM_TMP/p1.json" -w '%{http_code} %{content_type}\n' \
	'http://127.0.3.1:18080/lyncmock/probe?token=abc' >"$LM_TMP/p1.meta" || lm_fail "curl http"
echo "curl http: $(cat "$LM_TMP/p1.meta"): $(cat "$LM_TMP/p1.json")"
lis_expect "http status" "$(cat "$LM_TMP/p1.meta")" "200 application/json"
lis_expect token "$(lis_json "$LM_TMP/p1.json" 'j["token"]')" abc
lis_expect host "$(lis_json "$LM_TMP/p1.json" 'j["host"], j["role"], j["listener"], j["port"], j["scenario"]')" \
	"('dir01', 'director', 'http', 18080, 'listen-lab')"
lis_expect peer "$(lis_json "$LM_TMP/p1.json" 'j["peer"].split(":")[0]')" 127.0.3.10
lis_expect local "$(lis_json "$LM_TMP/p1.json" 'j["local"]')" 127.0.3.1:18080
lis_expect tls "$(lis_json "$LM_TMP/p1.json" 'j["tls"]')" None
lis_expect "request line" "$(lis_json "$LM_TMP/p1.json" 'j["request"]["line"]')" \
	"GET /lyncmock/probe?token=abc HTTP/1.1"
lis_expect "Host header" "$(lis_json "$LM_TMP/p1.json" 'j["request"]["host"]')" 127.0.3.1:18080
lis_expect forwarded "$(lis_json "$LM_TMP/p1.json" 'sorted(j["request"]["forwarded"].items())')" \
	"[('X-Forwarded-For', '203.0.113.7'), ('X-Forwarded-Host', 'webext-dir.contoso.com')]"

# other paths: a small page naming host and role, reflecting nothing
curl -sS --max-time 5 -o "$LM_TMP/page.html" 'http://127.0.3.1:10080/<script>?token=<i>x' ||
	lm_fail "curl page"
grep -q 'dir01' "$LM_TMP/page.html" && grep -q 'director' "$LM_TMP/page.html" ||
	lm_fail "page does not name host and role"
! grep -q '<script>\|<i>x' "$LM_TMP/page.html" || lm_fail "page reflects the request"

# https 4443: curl verifies the chain and the pool name
curl -sS --max-time 5 --interface 127.0.3.10 --cacert "$LIS_PKI/ca.pem" \
	--resolve dirpool.contoso.local:14443:127.0.3.1 -o "$LM_TMP/p2.json" \
	'https://dirpool.contoso.local:14443/lyncmock/probe?token=t2' || lm_fail "curl https 4443"
echo "curl https: $(cat "$LM_TMP/p2.json")"
lis_expect "https identity" "$(lis_json "$LM_TMP/p2.json" 'j["listener"], j["token"], j["tls"]["client_cert"]')" \
	"('https', 't2', None)"
lis_expect "https version" "$(lis_json "$LM_TMP/p2.json" 'j["tls"]["version"] in ("TLSv1.2", "TLSv1.3")')" True
# ...and a name the certificate does not carry fails verification (curl 60)
rc=0
curl -sS --max-time 5 --cacert "$LIS_PKI/ca.pem" --resolve wrong.contoso.local:14443:127.0.3.1 \
	-o /dev/null https://wrong.contoso.local:14443/ 2>"$LM_TMP/wrong.err" || rc=$?
echo "curl wrong name: rc=$rc $(cat "$LM_TMP/wrong.err")"
lis_expect "curl wrong name" "$rc" 60

# Records that arrive together are all answered: listeners read TLS ahead, so
# OpenSSL holds what the socket will not announce again. TCP_CORK makes one
# segment of the client's Finished and its first request, and of three
# requests; each is answered within 3 s (the idle timeout is far longer).
held=$(python3 - 127.0.3.1 14443 <<'PY'
import socket, ssl, sys, time
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_3
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
t = ctx.wrap_socket(s, do_handshake_on_connect=False)
t.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)  # the kernel flushes after 200 ms
t.do_handshake()  # our Finished stays corked...
t.send(b"GET /lyncmock/probe?token=h0 HTTP/1.1\r\nHost: x\r\n\r\n")  # ...with this
t.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
def answers(want):
    got, end = b"", time.time() + 3
    t.settimeout(0.2)
    while got.count(b'"token":"h') < want and time.time() < end:
        try:
            d = t.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        if not d:
            break
        got += d
    return got.count(b'"token":"h')
first = answers(1)
t.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
for i in (1, 2, 3):
    t.send(b"GET /lyncmock/probe?token=h%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
t.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
print(first, answers(3))
PY
) || lm_fail "held records: python failed"
lis_expect "records held by read-ahead answered" "$held" "1 3"

# 444 requires a client certificate (rule client_cert: required)
rc=0
curl -sS --max-time 5 --cacert "$LIS_PKI/ca.pem" --resolve fepool.contoso.local:10444:127.0.3.2 \
	-o /dev/null 'https://fepool.contoso.local:10444/lyncmock/probe?token=x' 2>"$LM_TMP/nocert.err" || rc=$?
echo "curl 444 without client cert: rc=$rc $(cat "$LM_TMP/nocert.err")"
[ "$rc" -ne 0 ] || lm_fail "444 served a client without a certificate"
curl -sS --max-time 5 --interface 127.0.3.1 --cacert "$LIS_PKI/ca.pem" \
	--cert "$LIS_PKI/dir01.pem" --key "$LIS_PKI/dir01.key" \
	--resolve fepool.contoso.local:10444:127.0.3.2 -o "$LM_TMP/p3.json" \
	'https://fepool.contoso.local:10444/lyncmock/probe?token=t3' || lm_fail "curl 444 with client cert"
echo "curl 444 with client cert: $(cat "$LM_TMP/p3.json")"
lis_expect "444 identity" "$(lis_json "$LM_TMP/p3.json" 'j["host"], j["port"], j["token"], j["tls"]["client_cert"], j["peer"].split(":")[0]')" \
	"('fe01', 10444, 't3', 'CN=dirpool.contoso.local', '127.0.3.1')"

# tcp listener: one identity line on connect, then close
python3 - >"$LM_TMP/tcp.json" <<'PY' || lm_fail "tcp listener"
import socket
s = socket.create_connection(("127.0.3.2", 15069), timeout=5, source_address=("127.0.3.1", 0))
data = b""
while True:
    d = s.recv(4096)
    if not d: break
    data += d
assert data.endswith(b"\r\n") and data.count(b"\n") == 1, data
print(data.decode().strip())
PY
echo "tcp 5069: $(cat "$LM_TMP/tcp.json")"
lis_expect "tcp identity" "$(lis_json "$LM_TMP/tcp.json" 'j["host"], j["listener"], j["port"], j["peer"].split(":")[0], j["tls"]')" \
	"('fe01', 'tcp', 15069, '127.0.3.1', None)"

# --ready-fd: the ready line goes to that descriptor, nothing to stdout
"$LYNCMOCK" listen --scenario "$LIS_SCENARIO" --host edge01 --certs "$LIS_PKI" \
	--port-offset "$LIS_OFF" --log "$LM_TMP/edge.log" --ready-fd 3 3>"$LM_TMP/readyfd" \
	>"$LM_TMP/edge.out" 2>&1 &
edge=$!
lm_track "$edge"
lm_wait_for "$LM_TMP/readyfd" '^ready '
lis_expect "ready on fd 3" "$(cat "$LM_TMP/readyfd")" "ready host=edge01 ports=60001,60002,60003"
[ ! -s "$LM_TMP/edge.out" ] || lm_fail "stdout not empty with --ready-fd: $(cat "$LM_TMP/edge.out")"
lis_stop "$edge"

# SIGHUP with a broken certificate keeps the old one and says why
cp "$LIS_PKI/dir01.pem" "$LM_TMP/dir01.pem.good"
echo garbage >"$LIS_PKI/dir01.pem"
kill -HUP "$dir"
lm_wait_for "$LM_TMP/dir.log" 'not reloaded'
curl -sS --max-time 5 --cacert "$LIS_PKI/ca.pem" --resolve dirpool.contoso.local:10443:127.0.3.1 \
	-o /dev/null https://dirpool.contoso.local:10443/ || lm_fail "https after a failed reload"
cp "$LM_TMP/dir01.pem.good" "$LIS_PKI/dir01.pem"
kill -HUP "$dir"
lm_wait_for "$LM_TMP/dir.log" 'certificates reloaded'
# a new certificate (same CA) after SIGHUP: the identity names the one now
# served (listeners note their certificate once per context), then the old again
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
served_fp() {
	curl -sS --max-time 5 --cacert "$LIS_PKI/ca.pem" --resolve dirpool.contoso.local:10443:127.0.3.1 \
		'https://dirpool.contoso.local:10443/lyncmock/probe?token=fp' | lis_json /dev/stdin 'j["tls"]["server_cert_sha256"]'
}
mkdir -p "$LM_TMP/pki2"
cp "$LIS_PKI/ca.pem" "$LIS_PKI/ca.key" "$LM_TMP/pki2/"
"$LYNCMOCK" certs init --scenario "$LIS_SCENARIO" --out "$LM_TMP/pki2" >/dev/null || lm_fail "second certs init"
old_fp=$(fp "$LIS_PKI/dir01.pem")
new_fp=$(fp "$LM_TMP/pki2/dir01.pem")
[ "$old_fp" != "$new_fp" ] || lm_fail "the second certificate is the first"
lis_expect "served before the reload" "$(served_fp)" "$old_fp"
cp "$LIS_PKI/dir01.key" "$LM_TMP/dir01.key.good"
cp "$LM_TMP/pki2/dir01.pem" "$LM_TMP/pki2/dir01.key" "$LIS_PKI/"
kill -HUP "$dir"
lm_wait_for_count() { # FILE PATTERN N: wait (bounded) until PATTERN is in FILE N times
	for _ in $(seq 100); do [ "$(grep -c "$2" "$1")" -ge "$3" ] && return 0; sleep 0.05; done
	lm_fail "$2 not seen $3 times in $1"
}
lm_wait_for_count "$LM_TMP/dir.log" 'certificates reloaded' 2
lis_expect "served after the reload" "$(served_fp)" "$new_fp"
cp "$LM_TMP/dir01.pem.good" "$LIS_PKI/dir01.pem"
cp "$LM_TMP/dir01.key.good" "$LIS_PKI/dir01.key"
kill -HUP "$dir"
lm_wait_for_count "$LM_TMP/dir.log" 'certificates reloaded' 3
lis_expect "served after reloading the first" "$(served_fp)" "$old_fp"

# a port already bound: error naming address:port and the reason, exit 2
rc=0
"$LYNCMOCK" listen --scenario "$LIS_SCENARIO" --host dir01 --certs "$LIS_PKI" \
	--port-offset "$LIS_OFF" >"$LM_TMP/busy.out" 2>"$LM_TMP/busy.err" || rc=$?
echo "second listener: rc=$rc $(cat "$LM_TMP/busy.err")"
lis_expect "bind error exit" "$rc" 2
grep -q 'cannot listen on 127.0.3.1:10080: Address already in use' "$LM_TMP/busy.err" ||
	lm_fail "bind error does not name the port and the reason"
[ ! -s "$LM_TMP/busy.out" ] || lm_fail "a ready line despite the bind error"
# unknown host, bad scenario: exit 2
rc=0; "$LYNCMOCK" listen --scenario "$LIS_SCENARIO" --host nosuch >/dev/null 2>&1 || rc=$?
lis_expect "unknown host exit" "$rc" 2
rc=0; "$LYNCMOCK" listen --scenario /nonexistent.yaml --host dir01 >/dev/null 2>&1 || rc=$?
lis_expect "missing scenario exit" "$rc" 2

# lab faults: --plaintext serves a TLS port without TLS, --port-cert puts
# another CA's certificate on one port (a second dir01, ports + 11000)
other=$LM_TMP/other
mkdir -p "$other"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$other/dir.key" -out "$other/dir.pem" -days 2 \
	-subj /CN=dirpool.contoso.local -addext subjectAltName=DNS:dirpool.contoso.local 2>/dev/null ||
	lm_fail "self-signed certificate"
chmod 600 "$other/dir.key"
LIS_OFF=11000 lis_start faults dir01 --plaintext 4443 --port-cert "443,$other/dir.pem,$other/dir.key"
faults=$LIS_PID
curl -sS --max-time 5 -o "$LM_TMP/p4.json" 'http://127.0.3.1:15443/lyncmock/probe?token=plain' ||
	lm_fail "--plaintext 4443 does not answer plain HTTP"
lis_expect "plaintext identity" "$(lis_json "$LM_TMP/p4.json" 'j["listener"], j["port"], j["tls"]')" \
	"('https', 15443, None)"
rc=0
curl -sS --max-time 5 --cacert "$LIS_PKI/ca.pem" --resolve dirpool.contoso.local:11443:127.0.3.1 \
	-o /dev/null https://dirpool.contoso.local:11443/ 2>"$LM_TMP/wrongca.err" || rc=$?
echo "curl --port-cert 443 (another CA): rc=$rc $(head -n1 "$LM_TMP/wrongca.err")"
lis_expect "wrong CA on 443" "$rc" 60
curl -sS --max-time 5 --cacert "$other/dir.pem" --resolve dirpool.contoso.local:11443:127.0.3.1 \
	-o /dev/null https://dirpool.contoso.local:11443/ || lm_fail "--port-cert certificate not served"
lis_stop "$faults"

lis_stop "$dir"
lis_stop "$fe"
# bound to the wildcard address, "local" is the address the client dialled
# (a listener bound to one address reports that one without asking)
lis_start any dir01 --bind 0.0.0.0
curl -sS --max-time 5 -o "$LM_TMP/any.json" 'http://127.0.3.77:18080/lyncmock/probe?token=any' ||
	lm_fail "curl to the wildcard listener"
lis_expect "local on 0.0.0.0" "$(lis_json "$LM_TMP/any.json" 'j["local"]')" 127.0.3.77:18080
lis_stop "$LIS_PID"
# one log line per connection; the JSON log parses
grep -q 'http port=18080 peer=127.0.3.10:[0-9]* tls=none outcome="ok" in=[0-9]* out=[0-9]* requests=1' "$LM_TMP/dir.log" ||
	{ cat "$LM_TMP/dir.log"; lm_fail "no log line for the http probe"; }
python3 - "$LM_TMP/fe.log" <<'PY' || lm_fail "fe01 JSON log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
lines = [l for l in lines if "outcome" in l]  # event lines (SIGTERM) carry "event"
ok = [l for l in lines if l["port"] == 10444 and l["outcome"] == "ok" and l["requests"] == 1]
bad = [l for l in lines if l["port"] == 10444 and l["outcome"].startswith("handshake failed")]
assert ok and ok[0]["tls"]["client_cert"] == "CN=dirpool.contoso.local", lines
assert bad, lines
print("fe01 log:", bad[0]["outcome"])
PY
echo "PASS"
