#!/bin/bash
# `lyncmock lab --scenario front-end-pool`: a two-server Front End pool, SQL
# back end (1433/tcp, 1434/udp), Office Web Apps, Mediation, a PSTN gateway
# and internal clients (5061, 443, 3478/udp, a UDP media range sample);
# every path passes. Then --break reject on the UDP media range -> refused,
# drop on the SQL Browser (UDP 1434) -> filtered.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/lab_lib.sh"
lm_need_root "network namespaces"
lm_need_cmd python3
lm_need_cmd nft
lm_need_cmd jq
check() { python3 "$LM_SOURCE_DIR/tests/integration/lab_topo_check.py" "$@" ||
	{ cat "$LAB_ERR" >&2; lm_fail "report check failed: $*"; }; }

"$LYNCMOCK" firewall --scenario front-end-pool --format nft >"$LM_TMP/fw.nft" || lm_fail "firewall"
grep -q 'udp dport 49152-57500 accept' "$LM_TMP/fw.nft" || lm_fail "nft opens no media range"
lab_run "$LM_TMP/fe.json" --scenario front-end-pool --key ecdsa-p256 --timeout 4
[ "$LAB_RC" -eq 0 ] || { cat "$LAB_ERR" >&2; lm_fail "lab exit $LAB_RC, expected 0"; }
N=$(jq '.results | length' "$LM_TMP/fe.json")
check "$LM_TMP/fe.json" "$LM_TMP/fw.nft" "$N"
# 45 host pairs; ranges add their samples (5062-5073: 4, 8060-8061: 2, media: 4 per client path)
[ "$N" -eq 59 ] || lm_fail "$N results, expected 59"
o=$(jq -r '.results[] | select(.rule == "clients-fe-stun") | .outcome' "$LM_TMP/fe.json" | sort -u)
[ "$o" = pass ] || lm_fail "clients-fe-stun: $o"
lab_check_gone
FIRST_MS=$LAB_MS

lab_run "$LM_TMP/broken.json" --scenario front-end-pool --key ecdsa-p256 --timeout 4 \
	--break clients-fe-media=reject --break fe-sql-browser=drop
[ "$LAB_RC" -eq 1 ] || { cat "$LAB_ERR" >&2; lm_fail "broken lab: exit $LAB_RC, expected 1"; }
check "$LM_TMP/broken.json" "$LM_TMP/fw.nft" "$N" clients-fe-media=refused fe-sql-browser=filtered
lab_check_gone
echo "front-end-pool lab ok: $N probes over 45 paths in $FIRST_MS ms; broken run $LAB_MS ms"
