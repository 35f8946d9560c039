#!/usr/bin/env bash
# Hostile and broken clients never stop the others being served: a flood of
# idle connections beyond the descriptor limit (accept pauses and resumes),
# random bytes, a truncated ClientHello and plaintext HTTP on TLS ports, an
# oversized SIP message, a CLS line without end; afterwards the listener
# still answers, logs why each one ended, and exits cleanly (ASan builds:
# no leaks). python3 plays the clients.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_cmd python3

lis_pki
# 48 descriptors: the flood below runs the listener out of them
(ulimit -n 48 && exec "$LYNCMOCK" listen --scenario "$LIS_SCENARIO" --host dir01 --certs "$LIS_PKI" \
	--port-offset "$LIS_OFF" --log "$LM_TMP/dir.log" --max-message 4096 \
	>"$LM_TMP/dir.out" 2>"$LM_TMP/dir.err") &
dir=$!
lm_track "$dir"
lm_wait_for "$LM_TMP/dir.out" '^ready ' 200

python3 - "$LIS_PKI" <<'PY' || lm_fail "hostile clients"
import os, socket, ssl, sys, time
pki = sys.argv[1]
def conn(port):
    return socket.create_connection(("127.0.3.1", port), timeout=5, source_address=("127.0.3.%d" % (100 + port % 50), 0))
def drain(s, limit=3):
    s.settimeout(limit)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            data += d
    except (ConnectionResetError, socket.timeout):
        pass
    return data
# 1. more idle connections than the process has descriptors
flood = [socket.create_connection(("127.0.3.1", 15061), timeout=5) for _ in range(80)]
time.sleep(0.3)
# 2. random bytes, a truncated ClientHello, plaintext HTTP to TLS ports
for f in flood: f.close()
s = conn(15061); s.sendall(os.urandom(5000)); drain(s)
s = conn(10443); s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"A" * 40); s.close()
s = conn(14443); s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); drain(s)
# 3. plain HTTP garbage and an oversized header block
s = conn(18080); s.sendall(b"\x00\xff garbage\r\n\r\n"); r = drain(s); assert not r or r.startswith(b"HTTP/1.1 400"), r
s = conn(10080); s.sendall(b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n"); r = drain(s)
assert r.startswith(b"HTTP/1.1 4"), r[:100]
# 4. SIP over MTLS: an oversized message -> 513 and close
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.load_cert_chain(pki + "/edge01.pem", pki + "/edge01.key")
t = ctx.wrap_socket(conn(15061), server_hostname="dirpool.contoso.local")
t.sendall(b"INVITE sip:a@b.c SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.3.3;branch=z9hG4bKbig\r\nContent-Length: 100000\r\n\r\n" + b"x" * 3000)
# the client goes on sending after the listener gave up: the listener reads
# and discards it (lingering close), so no reset destroys the 513 unread
time.sleep(0.2)
t.sendall(b"y" * 20000)
r = drain(t)
assert r.startswith(b"SIP/2.0 513 Message Too Large\r\n") and b"branch=z9hG4bKbig" in r, r
# 5. after all that: every listener still answers
s = conn(18080); s.sendall(b"GET /lyncmock/probe?token=alive HTTP/1.0\r\n\r\n"); r = drain(s)
assert b'"token":"alive"' in r, r
t = ctx.wrap_socket(conn(15061), server_hostname="dirpool.contoso.local")
t.sendall(b"\r\n\r\n")
t.settimeout(5)
assert t.recv(10) == b"\r\n"
print("listener survived: flood, garbage, truncated TLS, plaintext on TLS, oversized messages")
PY
lis_stop "$dir"
grep -q 'accept: Too many open files; pausing 100 ms' "$LM_TMP/dir.log" ||
	lm_fail "the descriptor flood did not pause accepting"
for why in 'SSL routines::http request' 'client closed during the handshake' \
	'protocol error: message larger than the limit'; do
	grep -q "outcome=\"[^\"]*$why" "$LM_TMP/dir.log" || { cat "$LM_TMP/dir.log"; lm_fail "no log line for: $why"; }
done
echo "PASS"
