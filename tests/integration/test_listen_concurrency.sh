#!/usr/bin/env bash
# (each client uses its own source address: dir01 runs with a per-source cap of 2)
# Several clients at once on several listeners of one event loop: clients
# that open TCP to a TLS port and send nothing are closed at the handshake
# timeout while the others are served meanwhile; the per-source cap closes
# the excess connection of one source without hurting another source; at
# the per-listener cap, accepting pauses until a connection ends. (python3
# drives the raw sockets: it can hold idle connections and time them.)
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_cmd python3
lm_need_cmd curl

lis_pki
lis_start dir dir01 --handshake-timeout 800 --max-conns-per-source 2
dir=$LIS_PID
lis_start edge edge01 --handshake-timeout 5000 --max-conns 2
edge=$LIS_PID

python3 - "$LIS_PKI" <<'PY' || lm_fail "concurrency"
import socket, ssl, sys, threading, time
pki = sys.argv[1]
def ctx(cert):
    c = ssl.create_default_context(cafile=pki + "/ca.pem")
    c.load_cert_chain(pki + "/%s.pem" % cert, pki + "/%s.key" % cert)
    return c
def conn(port, src, host="127.0.3.1"):
    return socket.create_connection((host, port), timeout=10, source_address=(src, 0))
def closed_after(s, limit):
    """seconds until the peer closes s (EOF or reset), or None after limit"""
    t0 = time.time()
    s.settimeout(limit)
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        return None
    except OSError:
        pass
    return time.time() - t0

# --- idle TLS clients vs. served clients (dir01: handshake timeout 800 ms)
t0 = time.time()
idle = [conn(10443, "127.0.3.20"), conn(15061, "127.0.3.20", ), conn(14443, "127.0.3.24")]
idle_closed = [None] * len(idle)
def watch(k):
    c = closed_after(idle[k], 5)
    idle_closed[k] = None if c is None else time.time() - t0
watchers = [threading.Thread(target=watch, args=(k,)) for k in range(len(idle))]
for t in watchers: t.start()
results, errors = [], []
def https_probe(i):
    try:
        s = ctx("rp01").wrap_socket(conn(14443, "127.0.3.%d" % (40 + i)), server_hostname="dirpool.contoso.local")
        s.sendall(b"GET /lyncmock/probe?token=c%d HTTP/1.1\r\nHost: dirpool.contoso.local\r\nConnection: close\r\n\r\n" % i)
        data = b""
        while True:
            d = s.recv(65536)
            if not d: break
            data += d
        assert b'"token":"c%d"' % i in data, data
        results.append(("https", time.time() - t0))
    except Exception as e:
        errors.append(repr(e))
def http_probe(i):
    try:
        s = conn(18080, "127.0.3.%d" % (50 + i))
        s.sendall(b"GET /lyncmock/probe?token=h%d HTTP/1.0\r\n\r\n" % i)
        data = b""
        while True:
            d = s.recv(65536)
            if not d: break
            data += d
        assert b'"token":"h%d"' % i in data, data
        results.append(("http", time.time() - t0))
    except Exception as e:
        errors.append(repr(e))
def sip_probe(i):
    try:
        s = ctx("edge01").wrap_socket(conn(15061, "127.0.3.%d" % (60 + i % 30)), server_hostname="dirpool.contoso.local")
        s.sendall(("OPTIONS sip:dir01.contoso.local SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.3.3;branch=z9hG4bK%d\r\n"
                   "From: <sip:e@contoso.local>;tag=%d\r\nTo: <sip:d@contoso.local>\r\nCall-ID: cc%d\r\n"
                   "CSeq: 1 OPTIONS\r\nX-Lyncmock-Token: s%d\r\nContent-Length: 0\r\n\r\n" % (i, i, i, i)).encode())
        data = b""
        while b"}}" not in data:
            d = s.recv(65536)
            assert d, data
            data += d
        assert data.startswith(b"SIP/2.0 200 OK") and b'"token":"s%d"' % i in data, data
        results.append(("sip", time.time() - t0))
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=f, args=(i,)) for i in range(4) for f in (https_probe, http_probe, sip_probe)]
for t in threads: t.start()
for t in threads: t.join(10)
assert not errors, errors
assert len(results) == 12, results
served_by = max(r[1] for r in results)
for t in watchers: t.join(10)
print("12 clients on 3 listeners served within %.0f ms; idle TLS clients closed after %s ms"
      % (served_by * 1000, [None if c is None else round(c * 1000) for c in idle_closed]))
assert served_by < 0.7, "served only after %.3f s" % served_by
for c in idle_closed:
    assert c is not None and 0.7 < c < 3.0, idle_closed

# --- per-source cap (2 per source on dir01): a third idle connection from
# the same source is dropped at once; another source is still served
a = [conn(15061, "127.0.3.21"), conn(15061, "127.0.3.21")]
time.sleep(0.05)  # let the loop account for them (bounded, not a readiness wait)
third = conn(15061, "127.0.3.21")
t = closed_after(third, 0.5)
assert t is not None and t < 0.5, "third connection from one source not dropped (%r)" % t
sip_probe(99)
assert not errors, errors
print("per-source cap: third connection from 127.0.3.21 dropped after %.0f ms; 127.0.3.3 served" % (t * 1000))
for s in a: s.close()
# the same on an http listener: answered 503 "listener full", then closed
a = [conn(18080, "127.0.3.22"), conn(18080, "127.0.3.22")]
time.sleep(0.05)
third = conn(18080, "127.0.3.22")
t = closed_after(third, 0.5)
assert t is not None and t < 0.5, "third http connection from one source not dropped (%r)" % t
http_probe(98)
assert not errors, errors
print("per-source cap on http: third connection dropped after %.0f ms; others served" % (t * 1000))
for s in a: s.close()

# --- per-listener cap (2 on edge01, handshake timeout 5 s): the third client
# is accepted and closed at once with a logged reason (never left in the
# backlog, where a probe could not tell it from a DROP); once a slot frees,
# the next one is served
h1, h2 = conn(60002, "127.0.3.30", "127.0.3.3"), conn(60002, "127.0.3.31", "127.0.3.3")
time.sleep(0.05)
cls = ctx("cl01")
raw = conn(60002, "127.0.3.11", "127.0.3.3")
raw.settimeout(3)
t0 = time.time()
try:
    s = cls.wrap_socket(raw, server_hostname="edge01-int.contoso.local")
    raise AssertionError("third connection served above the cap")
except (ssl.SSLError, ConnectionError, OSError) as e:
    assert not isinstance(e, (socket.timeout, TimeoutError)), "third client left hanging"
    full_after = time.time() - t0
assert full_after < 1.0, "third client closed only after %.3f s" % full_after
raw.close()
t1 = time.time()
h1.close()
# the slot is free once the listener has read h1's FIN: a connect that races
# ahead of it is still above the cap, so retry (bounded: 2 s)
for attempt in range(40):
    raw = conn(60002, "127.0.3.11", "127.0.3.3")
    try:
        s = cls.wrap_socket(raw, server_hostname="edge01-int.contoso.local")
        break
    except (ssl.SSLError, ConnectionError) as e:
        raw.close()
        if attempt == 39 or time.time() - t1 > 2.0:
            raise
        time.sleep(0.05)
s.sendall(b"LYNCMOCK PROBE capped\r\n")
data = b""
while b"\r\n" not in data:
    d = s.recv(4096)
    assert d, data
    data += d
assert b'"token":"capped"' in data, data
print("listener cap: third client closed after %.0f ms while 2 were open; served %.0f ms after one closed" % (full_after * 1000, (time.time() - t1) * 1000))
s.close(); h2.close()
PY
lis_stop "$dir"
lis_stop "$edge"
# every connection of dir01 ended before SIGTERM: none left to the shutdown
! grep -q 'outcome="listener shut down"' "$LM_TMP/dir.log" ||
	{ cat "$LM_TMP/dir.log"; lm_fail "connections still counted at shutdown"; }
grep -c 'outcome="timeout: no TLS handshake within 800 ms"' "$LM_TMP/dir.log" | grep -q '^[3-9]' ||
	{ cat "$LM_TMP/dir.log"; lm_fail "handshake timeouts not logged"; }
grep -q 'peer=127.0.3.21:[0-9]* .*outcome="listener full: cap reached: 2 connections from this source"' "$LM_TMP/dir.log" ||
	{ cat "$LM_TMP/dir.log"; lm_fail "per-source cap not logged"; }
grep -q 'peer=127.0.3.11:[0-9]* .*outcome="listener full: cap reached: 2 connections on this listener"' "$LM_TMP/edge.log" ||
	{ cat "$LM_TMP/edge.log"; lm_fail "listener cap not logged"; }
echo "PASS"
