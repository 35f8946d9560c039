#!/usr/bin/env bash
# Security defaults of the listener and probe, on 127.0.5.0/24:
# - TLS 1.2 minimum: openssl s_client -tls1_1 refused; nmap ssl-enum-ciphers
#   lists only strong suites (grade A, no CBC-SHA1-only weak ones below A);
#   `--tls-min 1.0` lowers it (listen: s_client -tls1 accepted; probe: reaches
#   a TLS 1.0-only server the default refuses);
# - nothing reflected raw: hostile Host / X-Forwarded-* / token values
#   (quotes, <script>, control characters, invalid UTF-8) come back as valid
#   JSON (python3 json, strict UTF-8), the HTML page reflects nothing, SIP
#   and CLS answers with hostile tokens stay valid JSON;
# - `listen --user nobody` binds ports < 1024 as root, then serves as nobody.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_cmd openssl
lm_need_cmd curl
lm_need_cmd nmap
lm_need_cmd python3

SC=$LM_SOURCE_DIR/tests/hostile/hostile-lab.yaml
PKI=$LM_TMP/pki
OFF=10000
"$LYNCMOCK" certs init --scenario "$SC" --out "$PKI" >"$LM_TMP/certs.out" 2>&1 ||
	{ cat "$LM_TMP/certs.out"; lm_fail "certs init"; }
start() { # start NAME [listen options...]: sets LPID
	local name=$1
	shift
	"$LYNCMOCK" listen --scenario "$SC" --host dir01 --certs "$PKI" --log "$LM_TMP/$name.log" "$@" \
		>"$LM_TMP/$name.out" 2>"$LM_TMP/$name.err" &
	LPID=$!
	lm_track "$LPID"
	lm_wait_for "$LM_TMP/$name.out" '^ready ' 200
}
sclient() { # sclient ADDR:PORT VERSION-FLAG [more]: prints the negotiated protocol or "refused"
	local target=$1
	shift
	openssl s_client -connect "$target" -servername dirpool.contoso.local "$@" </dev/null \
		>"$LM_TMP/sc.out" 2>&1
	if grep -q '^ *Protocol *: TLS' "$LM_TMP/sc.out" && grep -q 'Cipher is [A-Z]' "$LM_TMP/sc.out" &&
		! grep -q 'Cipher is (NONE)' "$LM_TMP/sc.out"; then
		sed -n 's/^ *Protocol *: //p' "$LM_TMP/sc.out" | head -1
	else
		echo refused
	fi
}

# --- 1. TLS defaults
start def --port-offset "$OFF"
for port in 14443 15061 60001; do
	got=$(sclient "127.0.5.1:$port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
	[ "$got" = refused ] || lm_fail "port $port accepted TLS 1.1 by default ($got)"
	got=$(sclient "127.0.5.1:$port" -tls1)
	[ "$got" = refused ] || lm_fail "port $port accepted TLS 1.0 by default ($got)"
	got=$(sclient "127.0.5.1:$port" -tls1_2)
	[ "$got" = TLSv1.2 ] || lm_fail "port $port refused TLS 1.2 ($got)"
done
echo "default: TLS 1.0 and 1.1 refused, TLS 1.2 accepted on 14443, 15061, 60001"
timeout 120 nmap -Pn -n --script ssl-enum-ciphers -p 14443,15061 127.0.5.1 >"$LM_TMP/nmap.out" 2>&1 ||
	{ cat "$LM_TMP/nmap.out"; lm_fail "nmap"; }
echo "nmap ssl-enum-ciphers (127.0.5.1:14443 https, :15061 sip-mtls):"
grep -E '^[0-9]+/tcp|TLSv1\.[0-3]:|least strength|warnings' "$LM_TMP/nmap.out" | sed 's/^/  /'
echo "  suites graded: $(grep -Ec ' - [A-F]$' "$LM_TMP/nmap.out"), of which A: $(grep -Ec ' - A$' "$LM_TMP/nmap.out")"
[ "$(grep -c 'least strength: A' "$LM_TMP/nmap.out")" -eq 2 ] ||
	{ cat "$LM_TMP/nmap.out"; lm_fail "nmap: a port's least strength is not A"; }
grep -Eq 'TLSv1\.[01]:|SSLv|RC4|3DES|_DES_|_NULL_|EXPORT|anon|MD5' "$LM_TMP/nmap.out" &&
	{ cat "$LM_TMP/nmap.out"; lm_fail "nmap lists an old protocol or a weak suite"; }
grep -Eq ' - [B-F]$' "$LM_TMP/nmap.out" && lm_fail "nmap grades a suite below A"

# --- 2. hostile input is never reflected raw
python3 - "$PKI" <<'PY' || lm_fail "hostile input reflected"
import json, socket, ssl, sys
pki = sys.argv[1]
EVIL = [b'"quoted"', b"<script>alert(1)</script>", b"ctl\x01\x1b[31m\x7f", b"bad\xff\xfe\xc3\x28utf8",
        b"\xed\xa0\x80surrogate", b"\xc0\xafoverlong", b"\\u0000x"]
def http(path, headers):
    s = socket.create_connection(("127.0.5.1", 18080), timeout=5, source_address=("127.0.5.3", 0))
    s.sendall(b"GET " + path + b" HTTP/1.1\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers)
              + b"Connection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body
def pct(b):
    return b"".join(b"%%%02X" % c for c in b)
def strict(body):
    return json.loads(body.decode("utf-8"))  # raises on invalid UTF-8 or JSON
raw_leaks = [e for e in EVIL if any(c >= 0x80 or c < 0x20 for c in e)]
TCHAR = set(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
def valid(headers):
    # RFC 9110 §5.1, §5.5: a field name is a token; a value has no CTL but HTAB
    return all(all(c in TCHAR for c in k) and all(c == 9 or 0x20 <= c != 0x7f for c in v)
               for k, v in headers)
for e in EVIL:
    hdrs = [(b"Host", e), (b"X-Forwarded-For", e), (b"X-Forwarded-Host", b"a" + e),
            (b"X-Forwarded-" + e.replace(b":", b"").replace(b" ", b""), b"v")]
    head, body = http(b"/lyncmock/probe?token=" + pct(e), hdrs)
    if not valid(hdrs):
        # not HTTP: refused whole (RFC 9112 §5), and nothing of it comes back
        assert head.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in head, (e, head)
        assert e not in body and e not in head, (e, head, body)
        continue
    assert head.startswith(b"HTTP/1.1 200 "), (e, head)
    assert b"Content-Type: application/json" in head and b"X-Content-Type-Options: nosniff" in head, head
    j = strict(body)
    # what is valid text comes back exactly; what is not is replaced, never raw
    try:
        text = e.decode("utf-8")
        assert j["token"] == text and j["request"]["forwarded"]["X-Forwarded-For"] == text, (e, j)
    except UnicodeDecodeError:
        assert "\ufffd" in j["token"], (e, j["token"])
    for c in body:
        assert c >= 0x20, ("raw control byte in the JSON answer", e, body)
    if e in raw_leaks:
        assert e not in body, ("raw bytes leaked", e, body)
# the page for other paths reflects nothing (path, Host, headers)
for e in EVIL:
    hdrs = [(b"Host", e), (b"X-Forwarded-For", e)]
    head, body = http(b"/" + pct(e) + b"?q=" + pct(e), hdrs)
    assert head.startswith(b"HTTP/1.1 200 " if valid(hdrs) else b"HTTP/1.1 400 "), (e, head)
    for needle in (b"script", b"alert", b"quoted", b"ctl", b"bad", b"\xff", b"surrogate", b"overlong"):
        assert needle not in body, (needle, body)
print("http: %d hostile values: JSON valid (strict UTF-8), escaped; HTML page reflects nothing" % len(EVIL))
# SIP and CLS with hostile tokens (over MTLS)
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.load_cert_chain(pki + "/edge01.pem", pki + "/edge01.key")
def tls(port):
    raw = socket.create_connection(("127.0.5.1", port), timeout=5, source_address=("127.0.5.3", 0))
    return ctx.wrap_socket(raw, server_hostname="dirpool.contoso.local")
for e in EVIL:
    tok = e.replace(b"\r", b"").replace(b"\n", b"")
    t = tls(60001)
    t.sendall(b"LYNCMOCK PROBE " + tok + b"\r\n")
    data = b""
    while b"\n" not in data:
        d = t.recv(65536)
        if not d: break
        data += d
    line = data.split(b"\r\n")[0]
    if line.startswith(b"ERR "):
        assert all(0x20 <= c < 0x7f for c in line), ("raw bytes in ERR", line)
    else:
        j = strict(line)
        assert isinstance(j["token"], str), j
    t.close()
    t = tls(15061)
    body = b""
    req = (b"OPTIONS sip:dirpool.contoso.local SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.5.3;branch=z9hG4bKsec\r\n"
           b"Max-Forwards: 70\r\nFrom: <sip:e@contoso.local>;tag=1\r\nTo: <sip:dirpool.contoso.local>\r\n"
           b"Call-ID: sec@contoso.local\r\nCSeq: 1 OPTIONS\r\nX-Lyncmock-Token: " + tok + b"\r\nContent-Length: 0\r\n\r\n")
    t.sendall(req)
    data = b""
    while True:
        d = t.recv(65536)
        data += d
        if not d or (b"\r\n\r\n" in data and len(data.partition(b"\r\n\r\n")[2]) >=
                     int((data.split(b"Content-Length: ")[1].split(b"\r\n")[0]) if b"Content-Length: " in data else 0)):
            break
    head, _, body = data.partition(b"\r\n\r\n")
    if head.startswith(b"SIP/2.0 200 "):
        strict(body)
    else:
        assert head.startswith(b"SIP/2.0 4"), head[:80]
    t.close()
print("sip, cls: hostile tokens answered with valid JSON or a clean error")
PY

# --- 3. --tls-min 1.0 lowers the floor (listener), for old peers
kill -TERM "$LPID"
wait "$LPID" || lm_fail "listener exit status $?"
start old --port-offset "$OFF" --tls-min 1.0
got=$(sclient 127.0.5.1:14443 -tls1 -cipher 'DEFAULT:@SECLEVEL=0')
[ "$got" = TLSv1 ] || { cat "$LM_TMP/sc.out"; lm_fail "--tls-min 1.0: TLS 1.0 refused ($got)"; }
echo "listen --tls-min 1.0: s_client -tls1 negotiated $got"
kill -TERM "$LPID"
wait "$LPID" || lm_fail "listener exit status $?"
# probe side: a TLS 1.0-only server; the default refuses, --tls-min 1.0 reaches it
openssl s_server -accept 127.0.5.5:14443 -cert "$PKI/dir01.pem" -key "$PKI/dir01.key" -tls1 \
	-cipher 'DEFAULT:@SECLEVEL=0' -www >"$LM_TMP/s_server.out" 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/s_server.out" ACCEPT
pr() {
	"$LYNCMOCK" probe "https://127.0.5.5:14443" --ca "$PKI/ca.pem" --format json "$@" \
		--output "$LM_TMP/old.json" 2>/dev/null
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["outcome"], (r.get("tls") or {}).get("version"))' "$LM_TMP/old.json"
}
def=$(pr || true)
low=$(pr --tls-min 1.0 || true)
case "$def" in tls-failed*) ;; *) lm_fail "probe to a TLS 1.0 server by default: $def (want tls-failed)" ;; esac
case "$low" in *TLSv1) ;; *) lm_fail "probe --tls-min 1.0: $low (want a TLSv1 handshake)" ;; esac
echo "probe to a TLS 1.0-only server: default '$def', --tls-min 1.0 '$low'"

# --- 4. --user nobody: real ports < 1024 bound as root, then served as nobody
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	start priv --user nobody
	uid=$(awk '/^Uid:/{print $2,$3,$4,$5}' /proc/$LPID/status)
	gid=$(awk '/^Gid:/{print $2,$3,$4,$5}' /proc/$LPID/status)
	nu=$(id -u nobody)
	[ "$uid" = "$nu $nu $nu $nu" ] || lm_fail "--user nobody: Uid line '$uid'"
	[ "$(awk '/^CapEff:/{print $2}' /proc/$LPID/status)" = 0000000000000000 ] || lm_fail "capabilities kept"
	grep -q 'ports=80,443,4443,5061,8080,50001' "$LM_TMP/priv.out" || lm_fail "ports: $(cat "$LM_TMP/priv.out")"
	for h in edge01 rp01; do
		"$LYNCMOCK" probe --scenario "$SC" --host "$h" --certs "$PKI" >"$LM_TMP/p.out" 2>&1 ||
			{ cat "$LM_TMP/p.out"; lm_fail "probe of the listener running as nobody"; }
	done
	grep -q 'serving as user nobody' "$LM_TMP/priv.log" || lm_fail "no log line for the drop"
	# its keys are root's 0600 files: a reload as nobody cannot read them, keeps the old ones
	kill -HUP "$LPID"
	n=0
	until grep -q 'SIGHUP' "$LM_TMP/priv.log" || [ "$n" -ge 100 ]; do sleep 0.05; n=$((n + 1)); done
	grep -q 'not reloaded (keeping the old ones).*Permission denied' "$LM_TMP/priv.log" ||
		lm_fail "SIGHUP as nobody: $(grep SIGHUP "$LM_TMP/priv.log")"
	"$LYNCMOCK" probe --scenario "$SC" --host rp01 --certs "$PKI" >/dev/null 2>&1 || lm_fail "probe after SIGHUP"
	echo "listen --user nobody: ports 80,443,... bound, Uid: $uid Gid: $gid, CapEff 0; probes pass"
	kill -TERM "$LPID"
	wait "$LPID" || lm_fail "listener exit status $?"
	rc=0
	"$LYNCMOCK" listen --scenario "$SC" --host dir01 --certs "$PKI" --user no-such-user-lm \
		>/dev/null 2>"$LM_TMP/nouser.err" || rc=$?
	[ "$rc" -eq 2 ] && grep -q "no user 'no-such-user-lm'" "$LM_TMP/nouser.err" ||
		lm_fail "--user with an unknown user: exit $rc $(cat "$LM_TMP/nouser.err")"
else
	echo "SKIP part 4: not root or no user nobody"
fi
echo "PASS"
