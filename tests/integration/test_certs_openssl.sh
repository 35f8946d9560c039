#!/bin/bash
# lyncmock certs against the real openssl binary: the lab PKI verifies, carries
# Lync's names and EKUs, keys are 0600, the CA is reused, and `certs inspect`
# / `certs check` explain certificates made by openssl and a live s_server.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_cmd openssl

L=$LYNCMOCK
D=$LM_TMP/pki
ADDR=127.0.2.1 # this test's loopback range: 127.0.2.0/24

x509() { openssl x509 -in "$1" -noout "${@:2}"; }
fpr() { x509 "$1" -fingerprint -sha256; }

# ---- certs init on the built-in scenario ---------------------------------
$L certs init --out "$D" >"$LM_TMP/init1.out" 2>&1 || { cat "$LM_TMP/init1.out"; lm_fail "certs init"; }
grep -q "CA created" "$LM_TMP/init1.out" || lm_fail "first init did not create the CA"
grep -q "5 host certificates written" "$LM_TMP/init1.out" || lm_fail "init summary: $(cat "$LM_TMP/init1.out")"
[ "$(stat -c %a "$D")" = 700 ] || lm_fail "PKI directory mode $(stat -c %a "$D"), want 700"

for h in ca rp01 cl01 dir01 fe01 edge01; do
	[ "$(stat -c %a "$D/$h.key")" = 600 ] || lm_fail "$h.key mode $(stat -c %a "$D/$h.key"), want 600"
	[ -f "$D/$h.pem" ] || lm_fail "$h.pem missing"
done
for h in rp01 cl01 dir01 fe01 edge01; do
	out=$(openssl verify -CAfile "$D/ca.pem" "$D/$h.pem" 2>&1) || lm_fail "openssl verify $h: $out"
	# the key belongs to the certificate
	[ "$(openssl pkey -in "$D/$h.key" -pubout)" = "$(x509 "$D/$h.pem" -pubkey)" ] ||
		lm_fail "$h.key does not match $h.pem"
	# the chain file carries leaf + CA
	[ "$(grep -c 'BEGIN CERTIFICATE' "$D/$h.pem")" = 2 ] || lm_fail "$h.pem is not leaf + CA"
	t=$(x509 "$D/$h.pem" -text)
	grep -q "Signature Algorithm: sha256WithRSAEncryption" <<<"$t" || lm_fail "$h: not sha256WithRSAEncryption"
	grep -q "Public-Key: (2048 bit)" <<<"$t" || lm_fail "$h: not RSA 2048"
	grep -q "URI:http://pki.contoso.local/lyncmock-lab-ca.crl" <<<"$t" || lm_fail "$h: no CRL distribution point"
	grep -q "CA:FALSE" <<<"$t" || lm_fail "$h: not CA:FALSE"
done
# servers verify for TLS server use, sources for TLS client use
for h in dir01 fe01 edge01; do
	openssl verify -purpose sslserver -CAfile "$D/ca.pem" "$D/$h.pem" >/dev/null 2>&1 || lm_fail "$h: not valid for sslserver"
	openssl verify -purpose sslclient -CAfile "$D/ca.pem" "$D/$h.pem" >/dev/null 2>&1 || lm_fail "$h: not valid for sslclient (clientAuth by default)"
done
for h in rp01 cl01; do
	openssl verify -purpose sslclient -CAfile "$D/ca.pem" "$D/$h.pem" >/dev/null 2>&1 || lm_fail "$h: not valid for sslclient"
	openssl verify -purpose sslserver -CAfile "$D/ca.pem" "$D/$h.pem" >/dev/null 2>&1 && lm_fail "$h: a source certificate must not be a server certificate"
done

t=$(x509 "$D/dir01.pem" -text)
grep -q "Subject: CN = dirpool.contoso.local" <<<"$t" || lm_fail "dir01 subject: $(x509 "$D/dir01.pem" -subject)"
san=$(x509 "$D/dir01.pem" -ext subjectAltName)
for n in dirpool.contoso.local dir01.contoso.local meet.contoso.local dialin.contoso.local \
	lyncdiscover.contoso.local lyncdiscoverinternal.contoso.local; do
	grep -q "DNS:$n\b" <<<"$san" || lm_fail "dir01 SANs lack $n: $san"
done
grep -q "TLS Web Server Authentication, TLS Web Client Authentication" <<<"$t" || lm_fail "dir01 EKU"
grep -q "Digital Signature, Key Encipherment" <<<"$t" || lm_fail "dir01 key usage"
grep -q "Authority Key Identifier" <<<"$t" || lm_fail "dir01 has no AKI"
grep -q "DNS:fepool.contoso.local" <<<"$(x509 "$D/fe01.pem" -ext subjectAltName)" || lm_fail "fe01 SANs lack its pool"
[ "$(x509 "$D/edge01.pem" -ext subjectAltName | grep -o 'DNS:[^,]*' | tr -d ' ')" = "DNS:edge01-int.contoso.local" ] ||
	lm_fail "edge01 SANs: $(x509 "$D/edge01.pem" -ext subjectAltName)"
t=$(x509 "$D/rp01.pem" -text)
grep -q "Subject: CN = rp01.contoso.local" <<<"$t" || lm_fail "rp01 subject"
grep -A1 "Extended Key Usage" <<<"$t" | grep -q "^ *TLS Web Client Authentication$" || lm_fail "rp01 EKU must be clientAuth only"
t=$(x509 "$D/ca.pem" -text)
grep -q "CA:TRUE" <<<"$t" || lm_fail "CA is not CA:TRUE"
grep -A1 "Basic Constraints: critical" <<<"$t" | grep -q "CA:TRUE" || lm_fail "CA basicConstraints not critical"
grep -q "Certificate Sign, CRL Sign" <<<"$t" || lm_fail "CA key usage"
grep -q "Subject: OU = lab [0-9a-f]*, CN = lyncmock lab CA (single-director)" <<<"$t" || lm_fail "CA subject: $(x509 "$D/ca.pem" -subject)"

# ---- re-running init reuses the CA ----------------------------------------
before=$(fpr "$D/ca.pem")
old_dir01=$(fpr "$D/dir01.pem")
$L certs init --out "$D" --no-client-auth >"$LM_TMP/init2.out" 2>&1 || lm_fail "second init: $(cat "$LM_TMP/init2.out")"
grep -q "CA reused" "$LM_TMP/init2.out" || lm_fail "second init did not reuse the CA"
[ "$(fpr "$D/ca.pem")" = "$before" ] || lm_fail "CA changed on re-run"
[ "$(fpr "$D/dir01.pem")" != "$old_dir01" ] || lm_fail "host certificates were not reissued"
openssl verify -CAfile "$D/ca.pem" "$D/dir01.pem" >/dev/null || lm_fail "reissued dir01 does not verify"
x509 "$D/dir01.pem" -text | grep -A1 "Extended Key Usage" | grep -q "^ *TLS Web Server Authentication$" ||
	lm_fail "--no-client-auth: dir01 EKU should be serverAuth only"
ls "$D" | grep -q '\.tmp\.' && lm_fail "temporary files left in $D"

# half a CA, or a mismatched pair: refused, nothing overwritten
H=$LM_TMP/half
mkdir -p "$H"
cp "$D/ca.pem" "$H/"
$L certs init --out "$H" >"$LM_TMP/half.out" 2>&1 && lm_fail "init with half a CA succeeded"
grep -q "refusing to overwrite" "$LM_TMP/half.out" || lm_fail "half CA message: $(cat "$LM_TMP/half.out")"
[ "$(fpr "$H/ca.pem")" = "$before" ] || lm_fail "half CA: ca.pem was overwritten"
[ -e "$H/ca.key" ] && lm_fail "half CA: a key was written"

# ---- ecdsa-p256 -----------------------------------------------------------
E=$LM_TMP/pki-ec
$L certs init --out "$E" --key ecdsa-p256 --days 30 >/dev/null 2>&1 || lm_fail "init --key ecdsa-p256"
t=$(x509 "$E/dir01.pem" -text)
grep -q "ASN1 OID: prime256v1" <<<"$t" || lm_fail "ecdsa-p256: dir01 key is not P-256"
grep -q "Signature Algorithm: ecdsa-with-SHA256" <<<"$t" || lm_fail "ecdsa-p256: not ecdsa-with-SHA256"
openssl verify -CAfile "$E/ca.pem" "$E/dir01.pem" >/dev/null || lm_fail "ecdsa dir01 does not verify"
[ "$(stat -c %a "$E/dir01.key")" = 600 ] || lm_fail "ecdsa key mode"
$L certs init --out "$LM_TMP/bad" --key rsa1234 >/dev/null 2>&1; [ $? = 2 ] || lm_fail "--key rsa1234 should be a usage error"
$L certs init --out "$LM_TMP/bad" --days 0 >/dev/null 2>&1; [ $? = 2 ] || lm_fail "--days 0 should be a usage error"
$L certs init >/dev/null 2>&1; [ $? = 2 ] || lm_fail "init without --out should be a usage error"

# ---- certs check on certificates openssl makes ----------------------------
# serverAuth only, signed by the lab CA with the openssl binary: passes with the clientAuth warning
openssl req -new -newkey rsa:2048 -nodes -keyout "$LM_TMP/so.key" -subj "/CN=dirpool.contoso.local" \
	-out "$LM_TMP/so.csr" 2>/dev/null || lm_fail "openssl req"
chmod 600 "$LM_TMP/so.key"
names="DNS:dirpool.contoso.local,DNS:dir01.contoso.local,DNS:meet.contoso.local,DNS:dialin.contoso.local"
names="$names,DNS:lyncdiscover.contoso.local,DNS:lyncdiscoverinternal.contoso.local"
names="$names,DNS:webext-dir.contoso.com,DNS:webint-dir.contoso.local"
cat >"$LM_TMP/so.ext" <<EOF
subjectAltName = $names
extendedKeyUsage = serverAuth
keyUsage = critical, digitalSignature, keyEncipherment
crlDistributionPoints = URI:http://pki.contoso.local/x.crl
EOF
openssl x509 -req -in "$LM_TMP/so.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
	-days 100 -sha256 -extfile "$LM_TMP/so.ext" -out "$LM_TMP/so.pem" 2>/dev/null || lm_fail "openssl x509 -req"
$L certs check --host dir01 --cert "$LM_TMP/so.pem" --key "$LM_TMP/so.key" --ca "$D/ca.pem" >"$LM_TMP/c1.out" 2>&1
rc=$?
[ $rc = 0 ] || { cat "$LM_TMP/c1.out"; lm_fail "serverAuth-only check exited $rc, want 0"; }
grep -q "^WARN .*no Client Authentication EKU: Lync accepts it, strict MTLS peers may not" "$LM_TMP/c1.out" ||
	lm_fail "no clientAuth warning: $(cat "$LM_TMP/c1.out")"
grep -q "will do for dir01 (1 warning)" "$LM_TMP/c1.out" || lm_fail "verdict: $(tail -1 "$LM_TMP/c1.out")"

# the same request signed with RSASSA-PSS: refused for that reason
openssl x509 -req -in "$LM_TMP/so.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
	-days 100 -sha256 -sigopt rsa_padding_mode:pss -extfile "$LM_TMP/so.ext" \
	-out "$LM_TMP/pss.pem" 2>/dev/null || lm_fail "openssl x509 -req (pss)"
x509 "$LM_TMP/pss.pem" -text | grep -q "rsassaPss" || lm_fail "openssl did not make a PSS certificate"
$L certs check --host dir01 --cert "$LM_TMP/pss.pem" --key "$LM_TMP/so.key" --ca "$D/ca.pem" >"$LM_TMP/c2.out" 2>&1
[ $? = 1 ] || lm_fail "PSS check should exit 1: $(cat "$LM_TMP/c2.out")"
grep -q "^ERROR .*RSASSA-PSS" "$LM_TMP/c2.out" || lm_fail "PSS reason: $(cat "$LM_TMP/c2.out")"

# a self-signed certificate from openssl req -x509, and a wrong host
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$LM_TMP/ss.key" -subj "/CN=fepool.contoso.local" \
	-addext "subjectAltName=DNS:fepool.contoso.local" -addext "extendedKeyUsage=serverAuth" \
	-days 10 -out "$LM_TMP/ss.pem" 2>/dev/null || lm_fail "openssl req -x509"
chmod 600 "$LM_TMP/ss.key"
$L certs check --host fe01 --cert "$LM_TMP/ss.pem" --key "$LM_TMP/ss.key" --ca "$D/ca.pem" >"$LM_TMP/c3.out" 2>&1
[ $? = 1 ] || lm_fail "self-signed check should exit 1"
for want in "self-signed" "no chain to the CA" "required name fe01.contoso.local (the server FQDN)" \
	"required name meet.contoso.local" "it is a CA certificate" "expires in "; do
	grep -q -- "$want" "$LM_TMP/c3.out" || lm_fail "self-signed check lacks '$want': $(cat "$LM_TMP/c3.out")"
done
# key mismatch and a world-readable key
cp "$LM_TMP/so.key" "$LM_TMP/open.key"
chmod 644 "$LM_TMP/open.key"
$L certs check --host dir01 --cert "$D/dir01.pem" --key "$LM_TMP/open.key" --ca "$D/ca.pem" >"$LM_TMP/c4.out" 2>&1
[ $? = 1 ] || lm_fail "mismatched key should exit 1"
grep -q "^ERROR .*does not match the certificate" "$LM_TMP/c4.out" || lm_fail "mismatch reason: $(cat "$LM_TMP/c4.out")"
grep -q "^ERROR .*mode 0644" "$LM_TMP/c4.out" || lm_fail "open key reason: $(cat "$LM_TMP/c4.out")"
$L certs check --host dir01 --cert "$LM_TMP/nope.pem" >/dev/null 2>&1; [ $? = 2 ] || lm_fail "unreadable cert should exit 2"
$L certs check --host nohost --cert "$D/dir01.pem" >/dev/null 2>&1; [ $? = 2 ] || lm_fail "unknown host should exit 2"

# ---- certs inspect against a live openssl s_server ------------------------
# Starts s_server on $ADDR with the given args; sets SS_PORT. Retries a few
# ports in case another test holds one; waits for its ACCEPT line.
start_server() {
	local tries=0 port out pid
	while [ $tries -lt 5 ]; do
		port=$((20000 + (RANDOM % 20000)))
		out=$LM_TMP/s_server.$port.out
		openssl s_server -accept "$ADDR:$port" -www "$@" </dev/null >"$out" 2>&1 &
		pid=$!
		lm_track "$pid"
		for _ in $(seq 100); do
			grep -q ACCEPT "$out" 2>/dev/null && { SS_PORT=$port; SS_PID=$pid; return 0; }
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$pid" 2>/dev/null
		tries=$((tries + 1))
	done
	cat "$out" >&2
	lm_fail "openssl s_server did not start"
}
stop_server() { kill "$SS_PID" 2>/dev/null; wait "$SS_PID" 2>/dev/null; }

start_server -cert "$D/dir01.pem" -key "$D/dir01.key" -cert_chain "$D/ca.pem"
$L certs inspect "$ADDR:$SS_PORT" --sni dirpool.contoso.local --ca "$D/ca.pem" >"$LM_TMP/i1.out" 2>&1
rc=$?
[ $rc = 0 ] || { cat "$LM_TMP/i1.out"; lm_fail "inspect of a good endpoint exited $rc"; }
for want in "TLS handshake: TLSv1.3" "certificate 1 of 2 (leaf): CN=dirpool.contoso.local" \
	"names (SAN): dirpool.contoso.local, dir01.contoso.local, meet.contoso.local" \
	"OK     dirpool.contoso.local is named in the SANs" "OK     verifies against" \
	"the server did not ask for a client certificate" "CRL distribution point: http://pki.contoso.local"; do
	grep -qF -- "$want" "$LM_TMP/i1.out" || lm_fail "inspect lacks '$want': $(cat "$LM_TMP/i1.out")"
done
# a name the certificate lacks, and a CA that did not issue it
$L certs inspect "$ADDR:$SS_PORT" --sni fepool.contoso.local --ca "$E/ca.pem" >"$LM_TMP/i2.out" 2>&1
[ $? = 1 ] || lm_fail "inspect with a wrong name / CA should exit 1: $(cat "$LM_TMP/i2.out")"
grep -q "ERROR  fepool.contoso.local is not named in the SANs" "$LM_TMP/i2.out" || lm_fail "name mismatch not reported"
grep -q "ERROR  does not verify against $E/ca.pem" "$LM_TMP/i2.out" || lm_fail "wrong CA not reported: $(cat "$LM_TMP/i2.out")"
stop_server

# an MTLS endpoint (client certificate required, verified): inspect names the
# acceptable CA, and reports whether the server takes the client certificate
for v in -tls1_2 -tls1_3; do
	start_server -cert "$D/edge01.pem" -key "$D/edge01.key" -Verify 1 -verify_return_error \
		-CAfile "$D/ca.pem" $v
	$L certs inspect "$ADDR:$SS_PORT" --sni edge01-int.contoso.local --ca "$D/ca.pem" >"$LM_TMP/i3.out" 2>&1
	# issue 9: a healthy MTLS endpoint is not an error without --cert (exit 0, INFO)
	[ $? = 0 ] || lm_fail "$v: inspect without a client certificate should exit 0: $(cat "$LM_TMP/i3.out")"
	grep -q "asks for a client certificate (MTLS); acceptable CAs: CN=lyncmock lab CA (single-director)" "$LM_TMP/i3.out" ||
		lm_fail "$v: MTLS request not reported: $(cat "$LM_TMP/i3.out")"
	if [ $v = -tls1_2 ]; then
		grep -q "INFO   the server requires a client certificate (MTLS): the handshake stops without one" "$LM_TMP/i3.out" ||
			lm_fail "MTLS refusal not explained: $(cat "$LM_TMP/i3.out")"
		grep -q "certificate 1 of 2 (leaf): CN=edge01-int.contoso.local" "$LM_TMP/i3.out" ||
			lm_fail "TLS 1.2 MTLS refusal should still show the server chain: $(cat "$LM_TMP/i3.out")"
	else
		grep -q "INFO   the server requires a client certificate (MTLS): it refused to go on without one.*certificate required" "$LM_TMP/i3.out" ||
			lm_fail "TLS 1.3 late refusal not seen: $(cat "$LM_TMP/i3.out")"
	fi
	# the lab's own client certificate is accepted
	$L certs inspect "$ADDR:$SS_PORT" --sni edge01-int.contoso.local --ca "$D/ca.pem" \
		--cert "$D/cl01.pem" --key "$D/cl01.key" >"$LM_TMP/i3.out" 2>&1
	[ $? = 0 ] || lm_fail "$v: inspect with the lab client certificate: $(cat "$LM_TMP/i3.out")"
	grep -q "OK     client certificate accepted" "$LM_TMP/i3.out" || lm_fail "$v: acceptance not reported: $(cat "$LM_TMP/i3.out")"
	# another lab's is refused as an unknown CA
	$L certs inspect "$ADDR:$SS_PORT" --sni edge01-int.contoso.local \
		--cert "$E/cl01.pem" --key "$E/cl01.key" >"$LM_TMP/i3.out" 2>&1
	[ $? = 1 ] || lm_fail "$v: inspect with a foreign client certificate should exit 1"
	grep -q "ERROR .*refused our client certificate.*unknown ca" "$LM_TMP/i3.out" ||
		lm_fail "$v: foreign client certificate refusal not reported: $(cat "$LM_TMP/i3.out")"
	stop_server
done

# nothing listening: a clear message, exit 2
$L certs inspect "$ADDR:$SS_PORT" >"$LM_TMP/i4.out" 2>&1
[ $? = 2 ] || lm_fail "inspect of a closed port should exit 2"
grep -q "Connection refused" "$LM_TMP/i4.out" || lm_fail "closed port message: $(cat "$LM_TMP/i4.out")"

# a file inspected: the CA is explained as a root
$L certs inspect "$D/ca.pem" >"$LM_TMP/i5.out" 2>&1 || lm_fail "inspect ca.pem: $(cat "$LM_TMP/i5.out")"
grep -q "self-signed root CA" "$LM_TMP/i5.out" || lm_fail "CA not explained as a root"
# a `san:` on a client host passes `scenario check` and its certificate carries
# it (it used to be dropped silently by certs init); clientAuth only
"$LYNCMOCK" scenario dump single-director |
	sed 's/^  - {name: cl01, *role: internal-client, *address: 198.18.0.20}$/  - {name: cl01, role: internal-client, address: 198.18.0.20, san: [cl01-alias.contoso.local]}/' \
	>"$LM_TMP/clsan.yaml"
grep -q "cl01-alias" "$LM_TMP/clsan.yaml" || lm_fail "fixture edit failed: $(grep cl01 "$LM_TMP/clsan.yaml")"
$L scenario check "$LM_TMP/clsan.yaml" >/dev/null || lm_fail "client san: scenario check failed"
$L certs init --scenario "$LM_TMP/clsan.yaml" --out "$LM_TMP/clsan" >/dev/null ||
	lm_fail "client san: certs init failed"
t=$(x509 "$LM_TMP/clsan/cl01.pem" -ext subjectAltName,extendedKeyUsage)
echo "$t" | grep -q "DNS:cl01.contoso.local, DNS:cl01-alias.contoso.local" ||
	lm_fail "client san not in the certificate: $t"
echo "$t" | grep -q "TLS Web Client Authentication" || lm_fail "client cert lacks clientAuth: $t"
echo "$t" | grep -q "TLS Web Server Authentication" && lm_fail "client cert has serverAuth: $t"
$L certs check --scenario "$LM_TMP/clsan.yaml" --host cl01 --cert "$LM_TMP/clsan/cl01.pem" \
	--key "$LM_TMP/clsan/cl01.key" --ca "$LM_TMP/clsan/ca.pem" >"$LM_TMP/clsan.out" ||
	lm_fail "client san: certs check: $(cat "$LM_TMP/clsan.out")"
grep -q "cl01-alias.contoso.local" "$LM_TMP/clsan.out" || lm_fail "certs check does not name the client san"
echo "PASS: certs init/check/inspect agree with openssl"
