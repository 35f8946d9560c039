#!/bin/bash
# `lyncmock lab` on director-pool grown to 64 hosts (3,648 paths, 3,520 of them
# TLS/MTLS handshakes) at the default timeout: every verdict true, however
# loaded the machine is: the lab's own CPU load must never become a verdict.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/lab_lib.sh"
lm_need_root "network namespaces"
lm_need_cmd python3
lm_need_cmd nft

python3 "$LM_SOURCE_DIR/bench/scale_scenario.py" 64 >"$LM_TMP/scale-64.yaml" || lm_fail "scale_scenario.py"
"$LYNCMOCK" scenario check "$LM_TMP/scale-64.yaml" | grep -q ': ok: 64 hosts, 17 rules, 3648 paths$' ||
	lm_fail "scenario check does not print the 3648 paths"
"$LYNCMOCK" firewall --scenario "$LM_TMP/scale-64.yaml" --format nft >"$LM_TMP/fw.nft" || lm_fail "firewall"
# a PKI cache of the test's own: the first run makes it, the second reuses it
export LYNCMOCK_CACHE_DIR=$LM_TMP/cache
lab_run "$LM_TMP/s64.json" --scenario "$LM_TMP/scale-64.yaml"
lab_check_json "$LM_TMP/s64.json" 3648 "$LM_TMP/fw.nft"
[ "$LAB_RC" -eq 0 ] || { cat "$LAB_ERR" >&2; lm_fail "lab exit $LAB_RC, expected 0"; }
grep -q 'PKI made in' "$LAB_ERR" || lm_fail "first run did not make the PKI"
lab_check_gone
first_ms=$LAB_MS
grep -E 'PKI|listeners ready|probes finished|not OK' "$LAB_ERR"

# the same hosts again: the PKI is reused, the verdicts are the same
lab_run "$LM_TMP/s64b.json" --scenario "$LM_TMP/scale-64.yaml"
lab_check_json "$LM_TMP/s64b.json" 3648 "$LM_TMP/fw.nft"
[ "$LAB_RC" -eq 0 ] || { cat "$LAB_ERR" >&2; lm_fail "second lab exit $LAB_RC, expected 0"; }
grep -q 'PKI reused (same hosts)' "$LAB_ERR" || { cat "$LAB_ERR" >&2; lm_fail "second run did not reuse the PKI"; }
[ "$(find "$LYNCMOCK_CACHE_DIR" -name '*.key' -perm /077 | wc -l)" -eq 0 ] || lm_fail "cached keys readable by others"
lab_check_gone
grep -E 'PKI|listeners ready|probes finished|not OK' "$LAB_ERR"
echo "64-host lab ok: $first_ms ms (PKI made), $LAB_MS ms (PKI reused)"
