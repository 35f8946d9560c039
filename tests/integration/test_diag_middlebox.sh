#!/usr/bin/env bash
# Issue 9, middleboxes built for real between a probe namespace and lyncmock
# listeners, through a router namespace: a DNAT that sends dir01's 4443 to
# fe01 (wrong-responder naming fe01, not "add dirpool to the certificate"), a
# stunnel that terminates sip-mtls with a certificate the probe trusts and
# re-originates it with its own client certificate (tls-intercepted, "exempt
# the path from TLS decryption"), and an nginx reverse proxy on the HTTP paths
# (proxied; OK on the rule that says `via: proxy`).
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_root "network namespaces, nftables NAT, stunnel and nginx"
lm_need_cmd nft
lm_need_cmd jq
lm_need_cmd nginx
STUNNEL=$(command -v stunnel4 || command -v stunnel) || lm_fail "stunnel4 is not installed"

lm_routed mb 198.18.32 198.18.33 "10 30" "10 20"

cat >"$LM_TMP/sc.yaml" <<'YAML'
name: diag-middlebox
domain: contoso.local
hosts:
  - {name: rp01, role: reverse-proxy, address: 198.18.32.10}
  - {name: edge01, role: edge-internal, address: 198.18.32.30, fqdn: edge01-int.contoso.local}
  - {name: dir01, role: director, address: 198.18.33.10, fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
  - {name: fe01, role: front-end, address: 198.18.33.20, fqdn: fe01.contoso.local, pool: fepool.contoso.local}
  - {name: box01, role: front-end, address: 198.18.33.99, fqdn: box01.contoso.local, pool: dirpool.contoso.local}
rules:
  - {id: rp-dir-https, service: https,    port: 4443, from: rp01,   to: dir01}
  - {id: rp-fe-https,  service: https,    port: 4443, from: rp01,   to: fe01}
  - {id: edge-dir-sip, service: sip-mtls, port: 5061, from: edge01, to: dir01}
  - {id: rp-dir-http,  service: http,     port: 8080, from: rp01,   to: dir01}
  - {id: rp-dir-web,   service: http,     port: 80,   from: rp01,   to: dir01, via: proxy}
YAML
PKI=$LM_TMP/pki
"$LYNCMOCK" certs init --scenario "$LM_TMP/sc.yaml" --out "$PKI" >"$LM_TMP/certs.out" 2>&1 ||
	{ cat "$LM_TMP/certs.out"; lm_fail "certs init"; }
for h in dir01 fe01; do
	ip netns exec "$NT" "$LYNCMOCK" listen --scenario "$LM_TMP/sc.yaml" --host $h --certs "$PKI" \
		>"$LM_TMP/$h.out" 2>"$LM_TMP/$h.err" &
	lm_track $!
	lm_wait_for "$LM_TMP/$h.out" "^ready host=$h" 200
done

# the router: DNAT dir01:4443 to fe01; 5061 into stunnel; 80/8080 into nginx
ip netns exec "$NR" nft -f - <<'NFT' || lm_fail "nft on the router"
table ip lmmb {
	chain lmpre {
		type nat hook prerouting priority -100; policy accept;
		ip daddr 198.18.33.10 tcp dport 4443 dnat to 198.18.33.20
		ip daddr 198.18.33.10 tcp dport 5061 redirect to :15061
		ip daddr 198.18.33.10 tcp dport 8080 redirect to :18080
		ip daddr 198.18.33.10 tcp dport 80 redirect to :18081
	}
}
NFT
# stunnel: terminates TLS with box01's certificate (the lab CA, names dirpool),
# re-originates it to dir01 with box01's certificate as the client's
cat >"$LM_TMP/stunnel.conf" <<CONF
foreground = yes
pid =
output = $LM_TMP/stunnel.log
[in]
accept = 15061
cert = $PKI/box01.pem
key = $PKI/box01.key
connect = 127.0.0.1:16061
[out]
client = yes
accept = 127.0.0.1:16061
connect = 198.18.33.10:5061
cert = $PKI/box01.pem
key = $PKI/box01.key
CONF
ip netns exec "$NR" "$STUNNEL" "$LM_TMP/stunnel.conf" >"$LM_TMP/stunnel.out" 2>&1 &
lm_track $!
lm_nginx_head >"$LM_TMP/nginx.conf"
cat >>"$LM_TMP/nginx.conf" <<CONF
	server {
		listen 18080;
		location / { proxy_pass http://198.18.33.10:8080; proxy_set_header X-Forwarded-For \$remote_addr; proxy_set_header Via "1.1 lmproxy"; }
	}
	server {
		listen 18081;
		location / { proxy_pass http://198.18.33.10:80; proxy_set_header X-Forwarded-For \$remote_addr; }
	}
}
CONF
ip netns exec "$NR" nginx -c "$LM_TMP/nginx.conf" -p "$LM_TMP/ngx" >"$LM_TMP/nginx.out" 2>&1 &
lm_track $!
for port in 15061 18080 18081; do
	n=0
	until ip netns exec "$NR" bash -c "exec 3<>/dev/tcp/198.18.32.254/$port" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -lt 100 ] || { cat "$LM_TMP/stunnel.log" "$LM_TMP/nginx.err" 2>/dev/null; lm_fail "port $port on the router never listened"; }
		sleep 0.05
	done
done

probe() { # host output
	ip netns exec "$NP" "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host "$1" --certs "$PKI" \
		--timeout 3 --format json --output "$2" 2>"$2.err"
}
rc=0; probe rp01 "$LM_TMP/rp.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "rp01 probe exit $rc ($(cat "$LM_TMP/rp.json.err"))"
rc=0; probe edge01 "$LM_TMP/edge.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "edge01 probe exit $rc ($(cat "$LM_TMP/edge.json.err"))"
get() { jq -r --arg r "$2" ".results[] | select(.rule == \$r) | $3" "$1"; }
expect() { # file rule outcome verdict detail-regex fix-regex
	local o v d f
	o=$(get "$1" "$2" .outcome) v=$(get "$1" "$2" .verdict) d=$(get "$1" "$2" .detail) f=$(get "$1" "$2" .fix)
	[ "$o" = "$3" ] && [ "$v" = "$4" ] || lm_fail "$2: $o/$v, want $3/$4 ($d)"
	grep -Eq -- "$5" <<<"$d" || lm_fail "$2: detail '$d' does not match /$5/"
	grep -Eq -- "$6" <<<"$f" || lm_fail "$2: fix '$f' does not match /$6/"
	echo "$2: $o ($v): $d | $f"
}
# case 7: the DNAT'd path names fe01, and does not ask to change the certificate
expect "$LM_TMP/rp.json" rp-dir-https wrong-responder fail \
	'reached fe01 \(its certificate names fepool\.contoso\.local\) instead of dir01' \
	"^Fix the DNAT/port-forward, address or DNS record that sends 198\.18\.33\.10:4443 to fe01 instead of dir01: rp01 reached fe01 \(its certificate names fepool\.contoso\.local\) \(leave fe01's certificate as it is\)"
[ "$(get "$LM_TMP/rp.json" rp-dir-https .facts.reached_host)" = fe01 ] || lm_fail "reached_host"
expect "$LM_TMP/rp.json" rp-fe-https pass ok 'reached fe01' '^$'
# case 6: a reverse proxy on the path
expect "$LM_TMP/rp.json" rp-dir-http proxied fail \
	'through an HTTP proxy at 198\.18\.33\.254 \(it added (Via, X-Forwarded-For|X-Forwarded-For, Via); X-Forwarded-For: 198\.18\.32\.10, our address\)' \
	'^An HTTP proxy at 198\.18\.33\.254 sits between rp01 and dir01 port 8080 .*say `via: proxy` on rule rp-dir-http'
expect "$LM_TMP/rp.json" rp-dir-web proxied ok 'through an HTTP proxy at 198\.18\.33\.254' '^$'
# case 5: TLS interception on the MTLS path
expect "$LM_TMP/edge.json" edge-dir-sip tls-intercepted fail \
	'the listener served another certificate than the one we got; the listener saw the client certificate CN=dirpool\.contoso\.local.* instead of ours' \
	'^Exempt TCP 5061 from edge01 to dir01 \(198\.18\.33\.10\) from TLS decryption on the inspecting middlebox \(we got the certificate CN=dirpool.*Lync MTLS does not survive TLS inspection\.$'
jq -e '.results[] | select(.rule == "edge-dir-sip") | .facts.server_cert_swapped and .facts.client_cert_swapped' \
	"$LM_TMP/edge.json" >/dev/null || lm_fail "edge-dir-sip facts"
# the table shows them too
ip netns exec "$NP" "$LYNCMOCK" report "$LM_TMP/rp.json" "$LM_TMP/edge.json" >"$LM_TMP/t.txt" || true
grep -q 'tls-intercepted' "$LM_TMP/t.txt" && grep -q 'proxied' "$LM_TMP/t.txt" || lm_fail "table lacks the new outcomes"
echo "PASS"
