#!/bin/bash
# `lyncmock lab` on the built-in single-director scenario: every rule passes, the
# probed paths are exactly the firewall's open paths, and nothing is left behind.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/lab_lib.sh"
lm_need_root "network namespaces"
lm_need_cmd python3
lm_need_cmd nft

"$LYNCMOCK" firewall --scenario single-director --format nft >"$LM_TMP/fw.nft" || lm_fail "firewall"
lab_run "$LM_TMP/sd.json" --scenario single-director
# 24 open paths + the blocked cl01 -> edge01:50001
lab_check_json "$LM_TMP/sd.json" 25 "$LM_TMP/fw.nft"
[ "$LAB_RC" -eq 0 ] || { cat "$LAB_ERR" >&2; lm_fail "lab exit $LAB_RC, expected 0"; }
lab_check_gone
# the target is < 10 s on an idle 2-core machine; a loaded CI box only gets a note
[ "$LAB_MS" -lt 10000 ] || echo "NOTE: lab took $LAB_MS ms (target < 10 s when the machine is idle)"
[ "$LAB_MS" -lt 60000 ] || lm_fail "lab took $LAB_MS ms"

# the default table on stdout, and the same verdicts
"$LYNCMOCK" lab >"$LM_TMP/table.txt" 2>"$LM_TMP/table.err" || { cat "$LM_TMP/table.err" >&2; lm_fail "lab (table) failed"; }
grep -q '^clients-edge-cls-blocked .* blocked .* filtered .* OK' "$LM_TMP/table.txt" ||
	{ cat "$LM_TMP/table.txt" >&2; lm_fail "table misses the blocked rule's row"; }
LAB_ERR="$LM_TMP/table.err"
line=$(grep '^lab: resources ' "$LAB_ERR")
LAB_PREFIX=$(sed -n 's/.* prefix=\([^ ]*\).*/\1/p' <<<"$line")
LAB_PIDS=$(sed -n 's/.* pids=\([^ ]*\).*/\1/p' <<<"$line" | tr ',' ' ')
LAB_TMPDIR=$(sed -n 's/.* tmpdir=\([^ ]*\).*/\1/p' <<<"$line")
lab_check_gone
echo "single-director lab ok ($LAB_MS ms)"
