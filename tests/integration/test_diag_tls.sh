#!/usr/bin/env bash
# Issue 9, certificate faults served by openssl s_server (a server lyncmock
# did not write) on loopback: a server certificate with only the clientAuth
# EKU (tls-wrong-purpose, "reissue it with serverAuth"), a leaf whose
# intermediate is not sent (the incomplete-chain sentence, not the foreign-CA
# one), and the ad-hoc URL options --resolve, --sni, --source and --tls-max.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/probe_pki.sh"
lm_need_cmd openssl
lm_need_cmd jq
P=$LM_TMP/pki
probe_pki "$P" || lm_fail "test PKI"
good="DNS:dirpool.contoso.local,DNS:dir01.contoso.local"
d=$P # _leaf (probe_pki.sh) writes into $d
_leaf clientonly ca dirpool.contoso.local "$good" clientAuth || lm_fail "clientAuth-only leaf"
# an intermediate CA under the lab CA, and a leaf it issued
openssl req -newkey rsa:2048 -nodes -keyout "$P/inter.key" -out "$P/inter.csr" \
	-subj "/O=lyncmock tests/CN=lab issuing CA 2" 2>/dev/null || lm_fail "intermediate csr"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$P/inter.ext"
openssl x509 -req -in "$P/inter.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 30 \
	-extfile "$P/inter.ext" -out "$P/inter.pem" 2>/dev/null || lm_fail "intermediate"
_leaf viainter inter dirpool.contoso.local "$good" serverAuth,clientAuth || lm_fail "leaf via intermediate"

BASE=$((21000 + $$ % 2000))
ADDR=127.0.9.41
serve() { # port cert [extra s_server args]
	local port=$1 cert=$2
	shift 2
	openssl s_server -accept "$ADDR:$port" -cert "$P/$cert.pem" -key "$P/$cert.key" -www -quiet \
		-naccept 20 "$@" >"$LM_TMP/s$port.log" 2>&1 &
	lm_track $!
}
serve $((BASE + 1)) clientonly
serve $((BASE + 2)) viainter
serve $((BASE + 3)) viainter -cert_chain "$P/inter.pem"
serve $((BASE + 4)) good
for port in $((BASE + 1)) $((BASE + 2)) $((BASE + 3)) $((BASE + 4)); do
	n=0
	until (exec 3<>"/dev/tcp/$ADDR/$port") 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -lt 100 ] || lm_fail "s_server on $port never listened"
		sleep 0.05
	done
done

cat >"$LM_TMP/sc.yaml" <<YAML
name: diag-tls
domain: contoso.local
hosts:
  - {name: cl01, role: internal-client, address: 127.0.0.1}
  - {name: dir01, role: director, address: $ADDR, fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
rules:
  - {id: purpose,    service: https, port: $((BASE + 1)), from: internal-client, to: director}
  - {id: chain,      service: https, port: $((BASE + 2)), from: internal-client, to: director}
  - {id: full-chain, service: https, port: $((BASE + 3)), from: internal-client, to: director}
YAML
rc=0
"$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host cl01 --ca "$P/ca.pem" --timeout 3 \
	--allow-foreign --format json --output "$LM_TMP/a.json" 2>"$LM_TMP/a.err" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "probe exit $rc, want 1 ($(cat "$LM_TMP/a.err"))"
get() { lm_result "$LM_TMP/a.json" "$@"; }
expect() { lm_expect_result "$LM_TMP/a.json" "$@"; } # rule outcome detail-regex fix-regex
# case 8
expect purpose tls-wrong-purpose 'not for server authentication: unsuitable certificate purpose \(depth 0' \
	"^dir01's certificate lacks Server Authentication \(EKU has only clientAuth\): reissue it with serverAuth\.$"
# case 9
expect chain tls-untrusted 'unable to get local issuer certificate \(depth 0' \
	'^dir01 sent 1 certificate; its issuer CN=lab issuing CA 2,O=lyncmock tests was not sent and cl01 does not have it: install the intermediate on dir01'
# the same leaf with its intermediate sent: trusted (a real server: foreign-peer, OK)
expect full-chain foreign-peer 'reached a non-mock peer \(HTTP 200' '^$'
[ "$(get full-chain .verdict)" = ok ] || lm_fail "full-chain: verdict"

# case 13: URL mode like curl/ncat: the pool name resolved by hand, SNI, source, TLS max
rc=0
"$LYNCMOCK" probe "https://dirpool.contoso.local:$((BASE + 4))" --resolve "dirpool.contoso.local:$ADDR" \
	--source 127.0.0.77 --tls-max 1.2 --ca "$P/ca.pem" --format json --output "$LM_TMP/u.json" \
	2>"$LM_TMP/u.err" || rc=$?
[ "$rc" -eq 0 ] || lm_fail "URL probe with --resolve exit $rc ($(cat "$LM_TMP/u.err"); $(jq -c '.results[0] | [.outcome,.detail]' "$LM_TMP/u.json" 2>/dev/null))"
jq -e '.results[0] | .outcome == "foreign-peer" and .to.address == "'$ADDR'" and .from.address == "127.0.0.77" and .tls.version == "TLSv1.2"' \
	"$LM_TMP/u.json" >/dev/null || lm_fail "--resolve/--source/--tls-max: $(jq -c '.results[0] | [.outcome, .to, .from.address, .tls.version]' "$LM_TMP/u.json")"
rc=0
"$LYNCMOCK" probe "https://$ADDR:$((BASE + 4))" --sni dir01.contoso.local --ca "$P/ca.pem" \
	--format json --output "$LM_TMP/s.json" 2>/dev/null || rc=$?
jq -e '.results[0].outcome == "foreign-peer"' "$LM_TMP/s.json" >/dev/null ||
	lm_fail "--sni: $(jq -c '.results[0] | [.outcome, .detail]' "$LM_TMP/s.json")"
rc=0
"$LYNCMOCK" probe "https://$ADDR:$((BASE + 4))" --ca "$P/ca.pem" --format json --output "$LM_TMP/n.json" 2>/dev/null || rc=$?
jq -e '.results[0].outcome == "tls-name-mismatch"' "$LM_TMP/n.json" >/dev/null ||
	lm_fail "without --sni the IP does not match: $(jq -c '.results[0].outcome' "$LM_TMP/n.json")"
rc=0
"$LYNCMOCK" probe "https://x:1" --resolve "nonsense" 2>"$LM_TMP/bad.err" || rc=$?
[ "$rc" -eq 2 ] || lm_fail "--resolve nonsense: exit $rc, want 2"
echo "URL options: --resolve, --source, --tls-max, --sni work; bad --resolve exits 2"

# case 9 in certs inspect, and case 12: an MTLS endpoint without --cert, a silent
# port and a plaintext port
serve $((BASE + 5)) good -Verify 1 -CAfile "$P/ca.pem"
python3 "$LM_SOURCE_DIR/tests/integration/diag_peer.py" "$LM_TMP/peer.ready" $ADDR silent:$((BASE + 6)) \
	>"$LM_TMP/peer.log" 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/peer.ready" ready
python3 -m http.server --bind $ADDR $((BASE + 7)) >"$LM_TMP/http.log" 2>&1 &
lm_track $!
lm_wait_for "$LM_TMP/http.log" "Serving HTTP"
until (exec 3<>"/dev/tcp/$ADDR/$((BASE + 5))") 2>/dev/null; do sleep 0.05; done
inspect() { # port expected-exit file [args]
	local port=$1 want=$2 out=$3 rc=0
	shift 3
	timeout 20 "$LYNCMOCK" certs inspect "$ADDR:$port" --sni dirpool.contoso.local --ca "$P/ca.pem" "$@" \
		>"$out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || { cat "$out"; lm_fail "certs inspect $port: exit $rc, want $want"; }
}
inspect $((BASE + 2)) 1 "$LM_TMP/ci-chain.txt"
grep -q 'ERROR  the server sent 1 certificate; its issuer CN=lab issuing CA 2,O=lyncmock tests was not sent (and is not in .*): install the intermediate on the server' \
	"$LM_TMP/ci-chain.txt" || { cat "$LM_TMP/ci-chain.txt"; lm_fail "certs inspect: no incomplete-chain sentence"; }
inspect $((BASE + 5)) 0 "$LM_TMP/ci-mtls.txt"
grep -q 'INFO   the server requires a client certificate (MTLS)' "$LM_TMP/ci-mtls.txt" &&
	grep -q 'acceptable CAs: CN=ca,O=lyncmock tests' "$LM_TMP/ci-mtls.txt" &&
	grep -q 'OK     verifies against' "$LM_TMP/ci-mtls.txt" && ! grep -q '^  ERROR' "$LM_TMP/ci-mtls.txt" ||
	{ cat "$LM_TMP/ci-mtls.txt"; lm_fail "certs inspect on MTLS without --cert"; }
inspect $((BASE + 6)) 2 "$LM_TMP/ci-silent.txt"
grep -q 'the port sent nothing back to our ClientHello' "$LM_TMP/ci-silent.txt" && ! grep -q verdict "$LM_TMP/ci-silent.txt" ||
	{ cat "$LM_TMP/ci-silent.txt"; lm_fail "certs inspect on a silent port"; }
inspect $((BASE + 7)) 2 "$LM_TMP/ci-plain.txt"
grep -q 'the port answered without TLS (first bytes "[^"]*"): not a TLS port' "$LM_TMP/ci-plain.txt" && ! grep -q verdict "$LM_TMP/ci-plain.txt" ||
	{ cat "$LM_TMP/ci-plain.txt"; lm_fail "certs inspect on a plaintext port"; }
echo "certs inspect: incomplete chain named; MTLS without --cert is INFO (exit 0); silent and plaintext ports exit 2"

# case 10: a real nginx: a refused client certificate at HTTP level, a 5xx, a 404
if command -v nginx >/dev/null 2>&1; then
	lm_nginx_head >"$LM_TMP/nginx.conf"
	cat >>"$LM_TMP/nginx.conf" <<CONF
	ssl_certificate $P/good.pem; ssl_certificate_key $P/good.key;
	server { listen $ADDR:$((BASE + 8)) ssl; ssl_verify_client on; ssl_client_certificate $P/ca.pem; location / { return 200 "hi"; } }
	server { listen $ADDR:$((BASE + 9)) ssl; location / { return 503; } }
	server { listen $ADDR:$((BASE + 10)) ssl; location / { return 404; } }
}
CONF
	nginx -c "$LM_TMP/nginx.conf" -p "$LM_TMP/ngx" >"$LM_TMP/nginx.out" 2>&1 &
	lm_track $!
	until (exec 3<>"/dev/tcp/$ADDR/$((BASE + 10))") 2>/dev/null; do sleep 0.05; done
	rc=0
	"$LYNCMOCK" probe "https://dirpool.contoso.local:$((BASE + 8))" "https://dirpool.contoso.local:$((BASE + 9))" \
		"https://dirpool.contoso.local:$((BASE + 10))" --resolve "dirpool.contoso.local:$ADDR" --ca "$P/ca.pem" \
		--format json --output "$LM_TMP/f.json" 2>/dev/null || rc=$?
	[ "$rc" -eq 1 ] || lm_fail "nginx probes: exit $rc"
	fget() { jq -r --argjson p "$1" ".results[] | select(.port == \$p) | $2" "$LM_TMP/f.json"; }
	[ "$(fget $((BASE + 8)) .outcome)" = tls-client-rejected ] || lm_fail "nginx 400 no cert: $(fget $((BASE + 8)) '[.outcome,.detail]')"
	fget $((BASE + 8)) .detail | grep -q 'HTTP 400 from a non-mock server (nginx' || lm_fail "400 detail"
	fget $((BASE + 8)) .fix | grep -q '^Give this host a client certificate from a CA that dirpool.contoso.local trusts' ||
		lm_fail "400 fix: $(fget $((BASE + 8)) .fix)"
	[ "$(fget $((BASE + 9)) .outcome)" = protocol-error ] || lm_fail "nginx 503: $(fget $((BASE + 9)) .outcome)"
	fget $((BASE + 9)) .fix | grep -q "^Fix the server behind dirpool.contoso.local ($ADDR) port $((BASE + 9)): it answered HTTP status 503 (nginx" ||
		lm_fail "503 fix: $(fget $((BASE + 9)) .fix)"
	[ "$(fget $((BASE + 10)) .outcome)/$(fget $((BASE + 10)) .verdict)" = foreign-peer/ok ] ||
		lm_fail "nginx 404: $(fget $((BASE + 10)) '[.outcome,.verdict]')"
	echo "nginx: 400 no client cert -> tls-client-rejected, 503 -> protocol-error, 404 -> foreign-peer ok"
fi
echo "PASS"
