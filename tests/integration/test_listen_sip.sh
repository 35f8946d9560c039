#!/usr/bin/env bash
# sip-mtls against real peers: sipp (Debian's build has no TLS, so stunnel4
# in client mode, with edge01's client certificate and verifying the
# Director's pool name, carries its TCP into TLS) sends OPTIONS and gets
# 200 OK with the identity body and the token echoed. Then a python3 ssl
# client checks, on ONE connection: a malformed request -> 400, a CRLF
# keep-alive -> CRLF, then a valid OPTIONS -> 200, then INVITE -> 405.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_cmd sipp
lm_need_cmd stunnel4
lm_need_cmd python3

lis_pki
lis_start dir dir01
dir=$LIS_PID

cat >"$LM_TMP/stunnel.conf" <<CONF
foreground = yes
pid =
output = $LM_TMP/stunnel.log
debug = 5
[sip]
client = yes
accept = 127.0.3.3:25061
connect = 127.0.3.1:15061
local = 127.0.3.3
cert = $LIS_PKI/edge01.pem
key = $LIS_PKI/edge01.key
CAfile = $LIS_PKI/ca.pem
verifyChain = yes
checkHost = dirpool.contoso.local
sni = dirpool.contoso.local
CONF
stunnel4 "$LM_TMP/stunnel.conf" >/dev/null 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/stunnel.log" 'Configuration successful' 200

rc=0
(cd "$LM_TMP" && timeout 60 sipp 127.0.3.3:25061 -sf "$LM_SOURCE_DIR/tests/fixtures/sipp/options.xml" \
	-t t1 -i 127.0.3.3 -p 25070 -m 5 -r 50 -nostdin -timeout 30 -timeout_error \
	-trace_msg -message_file "$LM_TMP/sipp.msg" -trace_err -error_file "$LM_TMP/sipp.err" \
	>"$LM_TMP/sipp.out" 2>&1) || rc=$?
echo "sipp exit $rc"
[ "$rc" -eq 0 ] || { tail -n 30 "$LM_TMP/sipp.out" "$LM_TMP/sipp.err" "$LM_TMP/stunnel.log" 2>/dev/null; lm_fail "sipp exited $rc"; }
lis_expect "200 OK received by sipp" "$(grep -c '^SIP/2.0 200 OK' "$LM_TMP/sipp.msg")" 5
echo "first 200 OK sipp received:"
awk '/^SIP\/2.0 200 OK/{p=1} p{print} /^\{/{if(p) exit}' "$LM_TMP/sipp.msg"
grep -q '"peer":"127.0.3.3:' "$LM_TMP/sipp.msg" || lm_fail "identity does not show stunnel's source 127.0.3.3"
grep -q '"client_cert":"CN=edge01-int.contoso.local"' "$LM_TMP/sipp.msg" || lm_fail "client certificate not in the identity"

# one connection: malformed, keep-alive, OPTIONS, INVITE (python3 ssl)
python3 - "$LIS_PKI" <<'PY' || lm_fail "same-connection SIP exchange"
import socket, ssl, sys, time
pki = sys.argv[1]
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.load_cert_chain(pki + "/edge01.pem", pki + "/edge01.key")
raw = socket.create_connection(("127.0.3.1", 15061), timeout=5, source_address=("127.0.3.3", 0))
s = ctx.wrap_socket(raw, server_hostname="dirpool.contoso.local")
buf = b""
def expect(marker):
    global buf
    deadline = time.time() + 5
    while marker not in buf:
        assert time.time() < deadline, "timed out waiting for %r in %r" % (marker, buf)
        d = s.recv(65536)
        assert d, "connection closed; got %r" % buf
        buf += d
    i = buf.index(marker) + len(marker)
    got, buf = buf[:i], buf[i:]
    return got
def req(method, cseq, token):
    return ("%s sip:dir01.contoso.local SIP/2.0\r\n"
            "Via: SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bK-%d\r\n"
            "From: <sip:edge01@contoso.local>;tag=e%d\r\nTo: <sip:dir01@contoso.local>\r\n"
            "Call-ID: py-%d@edge01\r\nCSeq: %d %s\r\nX-Lyncmock-Token: %s\r\n"
            "Content-Length: 0\r\n\r\n" % (method, cseq, cseq, cseq, cseq, method, token)).encode()
s.sendall(b"GARBAGE /// not sip\r\nVia: SIP/2.0/TLS 127.0.3.3;branch=z9hG4bK-g\r\n\r\n")
r = expect(b"Content-Length: 0\r\n\r\n")
assert r.startswith(b"SIP/2.0 400 Bad Request\r\n"), r
assert b"branch=z9hG4bK-g" in r, r
print("malformed ->", r.split(b"\r\n")[0].decode())
s.sendall(b"\r\n\r\n")
r = expect(b"\r\n")
assert r == b"\r\n", r
print("keep-alive -> CRLF")
s.sendall(req("OPTIONS", 2, "py-token"))
r = expect(b"}}")  # the identity ends with its tls object
assert r.startswith(b"SIP/2.0 200 OK\r\n"), r
assert b"X-Lyncmock-Token: py-token\r\n" in r and b'"token":"py-token"' in r, r
assert b"CSeq: 2 OPTIONS\r\n" in r and b"Call-ID: py-2@edge01\r\n" in r, r
print("OPTIONS ->", r.split(b"\r\n")[0].decode())
s.sendall(req("INVITE", 3, "x"))
r = expect(b"Content-Length: 0\r\n\r\n")
assert r.startswith(b"SIP/2.0 405 Method Not Allowed\r\n") and b"Allow: OPTIONS\r\n" in r, r
print("INVITE ->", r.split(b"\r\n")[0].decode())
s.close()
PY
lis_stop "$dir"
grep -q 'sip-mtls port=15061 peer=127.0.3.3:[0-9]* tls=TLSv1.[23] .*client_cert="CN=edge01-int.contoso.local" outcome="ok" .*requests=3' \
	"$LM_TMP/dir.log" || { cat "$LM_TMP/dir.log"; lm_fail "no log line for the python SIP connection"; }
echo "PASS"
