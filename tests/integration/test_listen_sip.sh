#!/usr/bin/env bash
# sip-mtls against real peers: sipp (Debian's build has no TLS, so stunnel4
# in client mode, with edge01's client certificate and verifying the
# Director's pool name, carries its TCP into TLS) sends OPTIONS and gets
# 200 OK with the identity body and the token echoed. Then a python3 ssl
# client checks, on ONE connection: a malformed request -> 400, a CRLF
# keep-alive -> CRLF, then a valid OPTIONS -> 200, then INVITE -> 405.
# Conformance (issue 11 item 13), again through sipp + stunnel and then raw
# over `openssl s_client`: rport/received (RFC 3581), 420 + Unsupported,
# CANCEL -> 481, SIP/3.0 -> 505, no Content-Length on the stream -> 400.
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
# sipp again, one call: rport/received, 420 + Unsupported, 481, 505
rc=0
(cd "$LM_TMP" && timeout 60 sipp 127.0.3.3:25061 -sf "$LM_SOURCE_DIR/tests/fixtures/sipp/conformance.xml" \
	-t t1 -i 127.0.3.3 -p 25071 -m 1 -nostdin -timeout 30 -timeout_error \
	-trace_msg -message_file "$LM_TMP/sipp2.msg" -trace_err -error_file "$LM_TMP/sipp2.err" \
	>"$LM_TMP/sipp2.out" 2>&1) || rc=$?
[ "$rc" -eq 0 ] || { tail -n 40 "$LM_TMP/sipp2.out" "$LM_TMP/sipp2.err" "$LM_TMP/sipp2.msg" 2>/dev/null; lm_fail "sipp conformance scenario exited $rc"; }
for want in 'SIP/2.0 200 OK' 'SIP/2.0 420 Bad Extension' 'SIP/2.0 481 Call/Transaction Does Not Exist' \
	'SIP/2.0 505 Version Not Supported'; do
	grep -qxF "$want" <(tr -d '\r' <"$LM_TMP/sipp2.msg") || lm_fail "sipp did not receive '$want'"
	echo "sipp received: $want"
done
grep -E '^Via: .*;rport=[0-9]+;received=127\.0\.3\.3' "$LM_TMP/sipp2.msg" | head -n 1

# raw requests over openssl s_client, one connection; the last one has a
# bad Content-Length, so the listener answers 400 and closes, ending s_client
sreq() { # METHOD CSEQ VERSION EXTRA-HEADER-LINES [no-cl]
	printf '%s sip:dir01.contoso.local %s\r\nVia: %s/TLS 127.0.3.3:5061;branch=z9hG4bK-s%s;rport\r\n' "$1" "$3" "$3" "$2"
	printf 'From: <sip:edge01@contoso.local>;tag=s%s\r\nTo: <sip:dir01@contoso.local>\r\n' "$2"
	printf 'Call-ID: sc-%s@edge01\r\nCSeq: %s %s\r\n%s' "$2" "$2" "$1" "$4"
	[ "${5:-}" = no-cl ] && printf '\r\n' || printf 'Content-Length: 0\r\n\r\n'
}
{
	sreq OPTIONS 1 SIP/3.0 ''
	sreq OPTIONS 2 SIP/2.0 $'Require: lyncmock-nonesuch, 100rel\r\n'
	sreq CANCEL 3 SIP/2.0 ''
	sreq OPTIONS 4 SIP/2.0 '' no-cl
	sreq OPTIONS 5 SIP/2.0 $'X-Lyncmock-Token: sc-5\r\n'
	sreq OPTIONS 6 SIP/2.0 $'Content-Length: x\r\n' no-cl
} >"$LM_TMP/sreq.txt"
timeout 30 openssl s_client -connect 127.0.3.1:15061 -servername dirpool.contoso.local \
	-CAfile "$LIS_PKI/ca.pem" -cert "$LIS_PKI/edge01.pem" -key "$LIS_PKI/edge01.key" \
	-verify_return_error -quiet <"$LM_TMP/sreq.txt" >"$LM_TMP/sresp.txt" 2>"$LM_TMP/sclient.err" ||
	{ cat "$LM_TMP/sclient.err"; lm_fail "openssl s_client (SIP conformance) failed"; }
# a JSON body ends without CRLF: the next status line follows its '}}'
tr -d '\r' <"$LM_TMP/sresp.txt" | sed 's/}}SIP\/2.0 /}}\nSIP\/2.0 /g' >"$LM_TMP/sresp.lf"
got=$(grep '^SIP/2.0 ' "$LM_TMP/sresp.lf" | tr '\n' '|')
echo "s_client status lines: $got"
lis_expect "s_client status lines" "$got" \
	'SIP/2.0 505 Version Not Supported|SIP/2.0 420 Bad Extension|SIP/2.0 481 Call/Transaction Does Not Exist|SIP/2.0 400 Bad Request|SIP/2.0 200 OK|SIP/2.0 400 Bad Request|'
# the 420 lists both option tags, one Unsupported each (libosip2 splits Require at commas)
lis_expect "Unsupported of the 420" "$(awk '/^SIP\/2.0 420/{p=1} p&&/^Unsupported:/{print} /^$/{p=0}' "$LM_TMP/sresp.lf" | tr '\n' '|')" \
	'Unsupported: lyncmock-nonesuch|Unsupported: 100rel|'
lis_expect "the 505 answers the SIP/3.0 request" "$(awk '/^SIP\/2.0 505/{p=1} p&&/^Call-ID:/{print; exit}' "$LM_TMP/sresp.lf")" 'Call-ID: sc-1@edge01'
lis_expect "the 400 answers the request without Content-Length" "$(awk '/^SIP\/2.0 400/{p=1} p&&/^CSeq:/{print; exit}' "$LM_TMP/sresp.lf")" 'CSeq: 4 OPTIONS'
# every answer's top Via: rport filled with s_client's source port, received= its address
vias=$(grep '^Via: ' "$LM_TMP/sresp.lf" | sort -u)
echo "$vias" | head -n 2
lis_stop "$dir"
sport=$(grep -o 'sip-mtls port=15061 peer=127\.0\.0\.1:[0-9]*' "$LM_TMP/dir.log" | tail -n 1 | sed 's/.*://')
[ -n "$sport" ] || { cat "$LM_TMP/dir.log"; lm_fail "no log line for the s_client connection"; }
lis_expect "Via of the 200" "$(awk '/^SIP\/2.0 200/{p=1} p&&/^Via:/{print; exit}' "$LM_TMP/sresp.lf")" \
	"Via: SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bK-s5;rport=$sport;received=127.0.0.1"
lis_expect "Vias differing only by branch" "$(echo "$vias" | sed 's/branch=z9hG4bK-s[0-9]*;//' | sort -u | sed 's/Via: SIP\/[23].0\//Via: /' | sort -u)" \
	"Via: TLS 127.0.3.3:5061;rport=$sport;received=127.0.0.1"
grep -q "sip-mtls port=15061 peer=127.0.0.1:$sport .*outcome=\"protocol error: bad Content-Length\" .*requests=5" "$LM_TMP/dir.log" ||
	{ grep "peer=127.0.0.1:$sport" "$LM_TMP/dir.log"; lm_fail "s_client connection's log line"; }
grep -q 'sip-mtls port=15061 peer=127.0.3.3:[0-9]* tls=TLSv1.[23] .*client_cert="CN=edge01-int.contoso.local" outcome="ok" .*requests=3' \
	"$LM_TMP/dir.log" || { cat "$LM_TMP/dir.log"; lm_fail "no log line for the python SIP connection"; }
echo "PASS"
