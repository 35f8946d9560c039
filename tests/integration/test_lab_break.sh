#!/bin/bash
# `lyncmock lab --break RULE=KIND`: each fault shows as its matching outcome on that
# rule only, every other rule unchanged, nothing left behind; bad --break is exit 2.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/lab_lib.sh"
lm_need_root "network namespaces"
lm_need_cmd python3
lm_need_cmd nft

"$LYNCMOCK" firewall --scenario single-director --format nft >"$LM_TMP/fw.nft" || lm_fail "firewall"

# clients-dir-https is the only rule on dir01:443, any-edge-cls2 the only one on
# edge01:50002 (and runs from four sources): a fault there touches nothing else.
while read -r rule kind outcome; do
	lab_run "$LM_TMP/$kind.json" --break "$rule=$kind"
	[ "$LAB_RC" -eq 1 ] || { cat "$LAB_ERR" >&2; lm_fail "--break $rule=$kind: exit $LAB_RC, expected 1"; }
	grep -q "fault: $kind on rule $rule (expected outcome: $outcome)" "$LAB_ERR" ||
		lm_fail "--break $rule=$kind: not announced"
	lab_check_json "$LM_TMP/$kind.json" 25 "$LM_TMP/fw.nft" "$rule" "$outcome"
	lab_check_gone
done <<'LIST'
clients-dir-https drop filtered
clients-dir-https reject refused
clients-dir-https nat nat-detected
clients-dir-https wrong-ca tls-untrusted
clients-dir-https plaintext tls-failed
any-edge-cls2 no-client-cert tls-client-rejected
LIST

# two faults at once, on different rules
lab_run "$LM_TMP/two.json" --break rp-dir-https=reject --break clients-dir-http=drop
[ "$LAB_RC" -eq 1 ] || lm_fail "two faults: exit $LAB_RC"
python3 - "$LM_TMP/two.json" <<'PY' || lm_fail "two faults: wrong outcomes"
import json, sys
res = json.load(open(sys.argv[1]))["results"]
got = {r["rule"]: (r["verdict"], r["outcome"]) for r in res if r["verdict"] != "ok"}
assert got == {"rp-dir-https": ("fail", "refused"), "clients-dir-http": ("fail", "filtered")}, got
PY
lab_check_gone

# faults that make no sense: exit 2 with a message, and nothing created
bad() {
	local want=$1
	shift
	"$LYNCMOCK" lab "$@" >/dev/null 2>"$LM_TMP/bad.err"
	local rc=$?
	[ "$rc" -eq 2 ] || { cat "$LM_TMP/bad.err" >&2; lm_fail "lab $*: exit $rc, expected 2"; }
	grep -q -- "$want" "$LM_TMP/bad.err" || { cat "$LM_TMP/bad.err" >&2; lm_fail "lab $*: no '$want'"; }
	! grep -q '^lab: resources' "$LM_TMP/bad.err" || lm_fail "lab $*: made resources before validating"
}
bad "no rule 'nosuch'" --break nosuch=drop
bad "expected RULE=KIND" --break clients-dir-https=explode
bad "expected RULE=KIND" --break clients-dir-https
bad "does not use TLS" --break clients-dir-http=wrong-ca
bad "does not use TLS" --break rp-dir-http=plaintext
bad "does not require a client" --break clients-dir-https=no-client-cert
bad "expects the path blocked" --break clients-edge-cls-blocked=drop
bad "broken twice" --break clients-dir-https=drop --break clients-dir-https=nat
bad "both change the listener dir01:5061" --break edge-dir-sip=wrong-ca --break fe-dir-sip=plaintext
bad "timeout" --timeout 0
bad "unknown format" --format pdf
bad "unexpected argument" extra
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$LYNCMOCK" lab >/dev/null 2>"$LM_TMP/user.err"
	rc=$?
	[ "$rc" -eq 2 ] && grep -q "lab needs root (network namespaces)" "$LM_TMP/user.err" ||
		{ cat "$LM_TMP/user.err" >&2; lm_fail "non-root: exit $rc"; }
fi
echo "lab --break ok"
