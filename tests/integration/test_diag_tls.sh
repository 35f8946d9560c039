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
get() { jq -r --arg r "$1" ".results[] | select(.rule == \$r) | $2" "$LM_TMP/a.json"; }
expect() { # rule outcome detail-regex fix-regex
	local o d f
	o=$(get "$1" .outcome) d=$(get "$1" .detail) f=$(get "$1" .fix)
	[ "$o" = "$2" ] || lm_fail "$1: outcome $o, want $2 ($d)"
	grep -Eq -- "$3" <<<"$d" || lm_fail "$1: detail '$d' does not match /$3/"
	grep -Eq -- "$4" <<<"$f" || lm_fail "$1: fix '$f' does not match /$4/"
	echo "$1: $o: $d | $f"
}
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
echo "PASS"
