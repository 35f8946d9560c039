#!/bin/bash
# `lyncmock lab --scenario edge-consolidated`: the Edge's internal and
# external interfaces, the Internet as namespaces (remote user, federated
# partner), UDP 3478 and a sampled 50000-59999 range through the firewall
# namespace; every path passes and every must-not-exist path is filtered.
# Then --break on UDP rules: drop -> filtered, reject -> refused (ICMP
# port-unreachable from the firewall), and reject on a TCP range -> refused.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/lab_lib.sh"
lm_need_root "network namespaces"
lm_need_cmd python3
lm_need_cmd nft
lm_need_cmd jq
check() { python3 "$LM_SOURCE_DIR/tests/integration/lab_topo_check.py" "$@" ||
	{ cat "$LAB_ERR" >&2; lm_fail "report check failed: $*"; }; }

# 34 host pairs; the 50000-59999 rule probes 8 ports and the CLS range 3: 43 probes
"$LYNCMOCK" firewall --scenario edge-consolidated --format nft >"$LM_TMP/fw.nft" || lm_fail "firewall"
grep -q 'udp dport 3478 accept' "$LM_TMP/fw.nft" || lm_fail "nft opens no UDP 3478"
grep -q 'tcp dport 50000-59999 accept' "$LM_TMP/fw.nft" || lm_fail "nft opens no 50000-59999"
lab_run "$LM_TMP/edge.json" --scenario edge-consolidated --key ecdsa-p256 --timeout 4
[ "$LAB_RC" -eq 0 ] || { cat "$LAB_ERR" >&2; lm_fail "lab exit $LAB_RC, expected 0"; }
check "$LM_TMP/edge.json" "$LM_TMP/fw.nft" 43
for r in clients-edge-stun remote-av-stun partner-av-stun av-partner-stun; do
	o=$(jq -r --arg r $r '.results[] | select(.rule == $r) | .outcome' "$LM_TMP/edge.json")
	[ "$o" = pass ] || lm_fail "$r: $o"
done
lab_check_gone
FIRST_MS=$LAB_MS

lab_run "$LM_TMP/broken.json" --scenario edge-consolidated --key ecdsa-p256 --timeout 4 \
	--break clients-edge-stun=drop --break remote-av-stun=reject --break av-partner-media=reject
[ "$LAB_RC" -eq 1 ] || { cat "$LAB_ERR" >&2; lm_fail "broken lab: exit $LAB_RC, expected 1"; }
"$LYNCMOCK" firewall --scenario edge-consolidated --format nft >"$LM_TMP/fw2.nft"
check "$LM_TMP/broken.json" "$LM_TMP/fw2.nft" 43 clients-edge-stun=filtered \
	remote-av-stun=refused av-partner-media=refused
jq -r '.results[] | select(.rule == "remote-av-stun") | .detail' "$LM_TMP/broken.json" |
	grep -q 'ICMP port-unreachable from 198.19' ||
	lm_fail "reject on UDP: $(jq -r '.results[] | select(.rule == "remote-av-stun") | .detail' "$LM_TMP/broken.json")"
lab_check_gone
echo "edge-consolidated lab ok: 43 probes over 34 paths in $FIRST_MS ms; broken run $LAB_MS ms"
