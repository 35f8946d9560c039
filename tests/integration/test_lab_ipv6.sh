#!/bin/bash
# `lyncmock lab` with IPv6 hosts beside IPv4 ones: /128 links, the firewall's ip6
# rules, and the firewall faults (nat, reject, drop) on IPv6 paths.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/lab_lib.sh"
lm_need_root "network namespaces"
lm_need_cmd python3
[ -d /proc/sys/net/ipv6 ] || lm_skip "IPv6 is disabled in this kernel"

# documentation prefixes only exist inside the lab's namespaces
cat >"$LM_TMP/v6.yaml" <<'YAML'
name: dual-stack
domain: contoso.local
hosts:
  - {name: cl01,   role: internal-client, address: "2001:db8::20"}
  - {name: rp01,   role: reverse-proxy,   address: 198.18.0.10}
  - {name: dir01,  role: director, address: "2001:db8:1::10", fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
  - {name: dir02,  role: director, address: 198.18.1.10, fqdn: dir02.contoso.local, pool: dirpool.contoso.local}
  - {name: edge01, role: edge-internal,   address: "2001:db8:1::30", fqdn: edge01-int.contoso.local}
rules:
  - {id: clients-dir-https, service: https,    port: 443,   from: internal-client, to: dir01}
  - {id: clients-dir-http,  service: http,     port: 80,    from: internal-client, to: dir01}
  - {id: rp-dir-https,      service: https,    port: 4443,  from: reverse-proxy,   to: dir02}
  - {id: edge-dir-sip,      service: sip-mtls, port: 5061,  from: edge-internal,   to: dir01}
  - {id: dir-edge-cls,      service: cls-mtls, port: 50001, from: dir01,           to: edge-internal}
  - {id: clients-edge-cls-blocked, service: cls-mtls, port: 50001, from: internal-client, to: edge-internal, expect: blocked}
YAML
"$LYNCMOCK" firewall --scenario "$LM_TMP/v6.yaml" --format nft >"$LM_TMP/fw.nft" || lm_fail "firewall"
grep -q 'ip6 saddr 2001:db8::20 ip6 daddr 2001:db8:1::10 tcp dport 443 accept' "$LM_TMP/fw.nft" ||
	lm_fail "no ip6 rule for clients-dir-https"

lab_run "$LM_TMP/ok.json" --scenario "$LM_TMP/v6.yaml" --key ecdsa-p256
[ "$LAB_RC" -eq 0 ] || { cat "$LAB_ERR" >&2; lm_fail "dual-stack lab: exit $LAB_RC"; }
lab_check_json "$LM_TMP/ok.json" 6 "$LM_TMP/fw.nft"
lab_check_gone

while read -r rule kind outcome; do
	lab_run "$LM_TMP/$kind.json" --scenario "$LM_TMP/v6.yaml" --key ecdsa-p256 --break "$rule=$kind"
	[ "$LAB_RC" -eq 1 ] || { cat "$LAB_ERR" >&2; lm_fail "--break $rule=$kind: exit $LAB_RC"; }
	lab_check_json "$LM_TMP/$kind.json" 6 "$LM_TMP/fw.nft" "$rule" "$outcome"
	lab_check_gone
done <<'LIST'
clients-dir-https nat nat-detected
clients-dir-http reject refused
dir-edge-cls drop filtered
LIST
echo "dual-stack lab ok"
