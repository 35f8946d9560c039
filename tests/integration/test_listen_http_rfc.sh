#!/usr/bin/env bash
# http/https on the one stream path, held to RFC 9112 against curl and raw
# sockets: conflicting Content-Length refused (400, close, nothing smuggled),
# HEAD without a body, HTTP/1.1 without Host refused, pipelined requests with
# a half-close all answered, plaintext never served on a TLS port, a listener
# at --max-conns answering 503 instead of hanging, rejections logged as such.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_cmd curl
lm_need_cmd python3
LIS_OFF=21000 # 80 -> 21080, 443 -> 21443, 8080 -> 29080

lis_pki
lis_start dir dir01 --max-conns 3 --json-log
dir=$LIS_PID

python3 - "$LIS_PKI" <<'PY' || lm_fail "raw HTTP checks"
import socket, ssl, sys, time
pki = sys.argv[1]
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
def conn(port, tls=False):
    s = socket.create_connection(("127.0.3.1", port), timeout=5, source_address=("127.0.3.10", 0))
    return ctx.wrap_socket(s, server_hostname="dirpool.contoso.local") if tls else s
def read_all(s):
    data = b""
    while True:
        try:
            d = s.recv(65536)
        except (ssl.SSLError, ConnectionError):
            break
        if not d: break
        data += d
    return data
for port, tls in ((21080, False), (21443, True)):
    name = "https" if tls else "http"
    # 1. request smuggling: two Content-Length headers -> one 400, close
    s = conn(port, tls)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 47\r\n\r\n"
              b"GET /lyncmock/probe?token=smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    t0 = time.time()
    got = read_all(s)
    assert got.startswith(b"HTTP/1.1 400 "), (name, got)
    assert got.count(b"HTTP/1.1 ") == 1 and b"smuggled" not in got, (name, got)
    assert b"Connection: close" in got and time.time() - t0 < 3, (name, got)
    s.close()
    # 2. HTTP/1.1 without Host -> 400
    s = conn(port, tls)
    s.sendall(b"GET /lyncmock/probe?token=nohost HTTP/1.1\r\n\r\n")
    got = read_all(s)
    assert got.startswith(b"HTTP/1.1 400 ") and b'"token"' not in got, (name, got)
    s.close()
    # 3. pipelined requests; the last closes
    s = conn(port, tls)
    s.sendall(b"".join(b"GET /lyncmock/probe?token=p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(1, 4))
              + b"GET /lyncmock/probe?token=p4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = read_all(s)
    assert got.count(b"HTTP/1.1 200 OK") == 4, (name, got)
    assert all(b'"token":"p%d"' % i in got for i in range(1, 5)), (name, got)
    s.close()
    print("%s: conflicting Content-Length -> one 400 + close; no Host -> 400; 4 pipelined answered" % name)
# 4. pipelined, then a half-close (plain TCP): every answer still comes
s = conn(21080)
s.sendall(b"".join(b"GET /lyncmock/probe?token=h%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(1, 6)))
s.shutdown(socket.SHUT_WR)
got = read_all(s)
assert got.count(b"HTTP/1.1 200 OK") == 5, got
assert all(b'"token":"h%d"' % i in got for i in range(1, 6)), got
print("http: 5 pipelined requests then a half-close: 5 answers")
# 5. plaintext on a TLS port: no HTTP answer, ever
s = conn(21443)
s.sendall(b"GET /lyncmock/probe?token=plain HTTP/1.1\r\nHost: x\r\n\r\n")
got = read_all(s)
assert b"HTTP/1." not in got and b"plain" not in got, got
print("https: a plaintext request gets no plaintext answer (%d bytes, TLS alert or close)" % len(got))
PY

# HEAD with curl: headers (Content-Length of the GET), no body
curl -sS --max-time 5 -I -o "$LM_TMP/head.out" -w '%{http_code} %{size_download}\n' \
	'http://127.0.3.1:21080/lyncmock/probe?token=head' >"$LM_TMP/head.meta" || lm_fail "curl -I"
lis_expect "HEAD answer" "$(cat "$LM_TMP/head.meta")" "200 0"
grep -qi '^Content-Length: [1-9]' "$LM_TMP/head.out" || lm_fail "HEAD: no Content-Length"
curl -sS --max-time 5 -I --cacert "$LIS_PKI/ca.pem" --resolve dirpool.contoso.local:21443:127.0.3.1 \
	-w '%{http_code} %{size_download}\n' -o /dev/null \
	'https://dirpool.contoso.local:21443/lyncmock/probe?token=head' >"$LM_TMP/head2.meta" || lm_fail "curl -I https"
lis_expect "HEAD answer https" "$(cat "$LM_TMP/head2.meta")" "200 0"
# keep-alive with curl: two URLs, one connection
curl -sS --max-time 5 -o /dev/null -o /dev/null -w '%{num_connects}\n' \
	'http://127.0.3.1:21080/lyncmock/probe?token=k1' 'http://127.0.3.1:21080/lyncmock/probe?token=k2' \
	>"$LM_TMP/ka.meta" || lm_fail "curl keep-alive"
lis_expect "keep-alive (new connections for the 2nd URL)" "$(tail -n1 "$LM_TMP/ka.meta")" 0
# POST with a body curl sends after Expect: 100-continue
head -c 5000 /dev/zero | curl -sS --max-time 5 -H 'Expect: 100-continue' --data-binary @- \
	-o "$LM_TMP/post.json" -w '%{http_code} %{time_total}\n' \
	'http://127.0.3.1:21080/lyncmock/probe?token=post' >"$LM_TMP/post.meta" || lm_fail "curl POST"
echo "POST 5000 bytes with Expect: $(cat "$LM_TMP/post.meta")"
awk '{exit !($1 == 200 && $2 < 0.9)}' "$LM_TMP/post.meta" || lm_fail "POST: 100 Continue not sent in time"

# --max-conns 3: three idle clients hold the http listener; the fourth gets a
# 503 "listener full" at once instead of waiting in the backlog
python3 - <<'PY' || lm_fail "listener full"
import socket, time
idle = [socket.create_connection(("127.0.3.1", 21080), timeout=5, source_address=("127.0.3.%d" % (20 + i), 0)) for i in range(3)]
time.sleep(0.2)  # let the loop accept them (bounded, not a readiness wait)
t0 = time.time()
s = socket.create_connection(("127.0.3.1", 21080), timeout=5, source_address=("127.0.3.30", 0))
s.sendall(b"GET /lyncmock/probe?token=full HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
while True:
    try:
        d = s.recv(4096)
    except ConnectionError:
        break
    if not d: break
    data += d
took = time.time() - t0
assert data.startswith(b"HTTP/1.1 503 ") and b"listener full" in data, data
assert took < 2, took
for c in idle: c.close()
print("at --max-conns: 503 listener full after %.0f ms" % (took * 1000))
PY
# --json-log: the SIGHUP and SIGTERM lines are JSON objects too
kill -HUP "$dir"
lm_wait_for "$LM_TMP/dir.log" 'certificates reloaded' 100
lis_stop "$dir"

python3 - "$LM_TMP/dir.log" <<'PY' || { cat "$LM_TMP/dir.log"; lm_fail "log"; }
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]  # every line: JSON
events = [r["message"] for r in rows if r.get("event") == "message"]
assert any("SIGHUP: certificates reloaded" in m for m in events), events
assert any("shutting down" in m for m in events), events
rows = [r for r in rows if "outcome" in r]
out = [r["outcome"] for r in rows]
assert any(o.startswith("rejected: 400 Bad Request: more than one Content-Length") for o in out), out
assert any("HTTP/1.1 request without a Host header" in o for o in out), out
assert any(o.startswith("listener full: cap reached: 3 connections on this listener") for o in out), out
assert all(isinstance(r["bytes_in"], int) for r in rows), rows
print("log: %d JSON lines; rejections logged as rejected, the full listener as listener full" % len(rows))
PY
echo PASS
