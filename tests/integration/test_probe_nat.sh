#!/usr/bin/env bash
# NAT on the path, built for real: the probing namespace source-NATs one
# port's traffic to another address; the listener reports the source it saw
# and the probe reports nat-detected there (over plain HTTP and over MTLS),
# pass where no NAT applies.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_root "network namespaces and nftables"
lm_need_cmd nft
lm_need_cmd jq

NA=$(lm_netns a) # reverse proxy / edge: probes
NB=$(lm_netns b) # director: listens
# lm_netns runs in $(...), a subshell: register the names here too, or
# lib.sh's cleanup never sees them
LM_NETNS+=("$NA" "$NB")
VA=lm$$a VB=lm$$b
ip link add "$VA" type veth peer name "$VB" || lm_fail "veth"
ip link set "$VA" netns "$NA" && ip link set "$VB" netns "$NB" || lm_fail "veth into namespaces"
ip -n "$NA" addr add 198.18.6.1/24 dev "$VA"
ip -n "$NA" addr add 198.18.6.3/24 dev "$VA"
ip -n "$NB" addr add 198.18.6.2/24 dev "$VB"
for n in "$NA" "$NB"; do ip -n "$n" link set lo up; done
ip -n "$NA" link set "$VA" up
ip -n "$NB" link set "$VB" up

cat >"$LM_TMP/sc.yaml" <<YAML
name: probe-nat
domain: contoso.local
hosts:
  - {name: edge01, role: edge-internal, address: 198.18.6.1, fqdn: edge01-int.contoso.local}
  - {name: dir01, role: director, address: 198.18.6.2, fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
rules:
  - {id: natted-http, service: http,     port: 8080, from: edge-internal, to: director}
  - {id: direct-http, service: http,     port: 8081, from: edge-internal, to: director}
  - {id: natted-sip,  service: sip-mtls, port: 5061, from: edge-internal, to: director}
YAML
"$LYNCMOCK" certs init --scenario "$LM_TMP/sc.yaml" --out "$LM_TMP/certs" >"$LM_TMP/certs.log" 2>&1 ||
	lm_fail "certs init: $(cat "$LM_TMP/certs.log")"
ip netns exec "$NB" "$LYNCMOCK" listen --scenario "$LM_TMP/sc.yaml" --host dir01 --certs "$LM_TMP/certs" \
	>"$LM_TMP/listen.out" 2>"$LM_TMP/listen.log" &
lm_track $!
lm_wait_for "$LM_TMP/listen.out" "^ready host=dir01"

ip netns exec "$NA" nft -f - <<NFT || lm_fail "nft"
table ip lmnat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip daddr 198.18.6.2 tcp dport { 8080, 5061 } snat to 198.18.6.3
	}
}
NFT

rc=0
ip netns exec "$NA" "$LYNCMOCK" probe --scenario "$LM_TMP/sc.yaml" --host edge01 --certs "$LM_TMP/certs" \
	--timeout 3 --format json --output "$LM_TMP/a.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "exit $rc, expected 1"
get() { jq -r --arg r "$1" ".results[] | select(.rule == \$r) | $2" "$LM_TMP/a.json"; }
for r in natted-http:nat-detected direct-http:pass natted-sip:nat-detected; do
	o=$(get "${r%%:*}" .outcome)
	[ "$o" = "${r##*:}" ] || lm_fail "rule ${r%%:*}: $o, expected ${r##*:} ($(get "${r%%:*}" .detail))"
done
get natted-http .peer_seen | grep -q '^198\.18\.6\.3:' || lm_fail "peer_seen: $(get natted-http .peer_seen)"
[ "$(get natted-http .from.address)" = 198.18.6.1 ] || lm_fail "source: $(get natted-http .from.address)"
get natted-sip .fix | grep -q "Remove the NAT" || lm_fail "fix: $(get natted-sip .fix)"
echo "ok: NAT detected"
