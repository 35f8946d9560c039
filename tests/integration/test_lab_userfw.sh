#!/bin/bash
# `lyncmock lab --firewall FILE`: the user's own rule sets (tests/fixtures/userfw: an nft
# ruleset, an iptables-save dump, a CSV flow table), each with realistic mistakes; every
# broken path names the user's rule (or chain policy) responsible, with its line, and
# --sweep lights up what a too-broad rule opens. Files that do not load: the loader's error.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/lab_lib.sh"
lm_need_root "network namespaces"
lm_need_cmd python3
lm_need_cmd nft
lm_need_cmd iptables-nft-restore
FX="$LM_SOURCE_DIR/tests/fixtures/userfw"

# expect FILE: lines "rule from to outcome|firewall_rule" for every failing result; all others ok
expect() {
	python3 - "$@" <<'EOF2' || { cat "$LAB_ERR" >&2; lm_fail "report check failed: $1"; }
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["partial"] is False
want = {}
for line in sys.argv[2].strip().splitlines():
    key, rule = line.split("|", 1)
    r, s, d, o = key.split()
    want[(r, s, d)] = (o, rule)
got = {}
sweep = [r for r in doc["results"] if r["rule"].startswith("sweep-")]
for r in doc["results"]:
    if r["rule"].startswith("sweep-"):
        continue
    k = (r["rule"], r["from"]["host"], r["to"]["host"])
    # every path of a --firewall lab says which rule decided it, passing ones too
    assert r.get("firewall_rule"), "%s: no firewall_rule" % (k,)
    if r["verdict"] != "ok":
        got[k] = (r["outcome"], r["firewall_rule"])
bad = ["%s: got %s, want %s" % (k, got.get(k), want.get(k)) for k in set(want) | set(got) if got.get(k) != want.get(k)]
assert not bad, "\n".join(sorted(bad))
print("report ok: %d results, %d failing as expected, %d sweep findings" % (len(doc["results"]), len(got), len(sweep)))
EOF2
}

# ---- nftables: wrong port, missing rule, reject before accept, any/any from the clients,
# a 3 s conntrack timeout on one SIP path (held 1, 2, 4 and 8 s)
lab_run "$LM_TMP/nft.json" --key ecdsa-p256 --firewall "$FX/corp.nft" \
	--iface dmz=reverse-proxy --iface lan=internal-client --sweep --hold 8
[ "$LAB_RC" -eq 1 ] || { cat "$LAB_ERR" >&2; lm_fail "corp.nft: exit $LAB_RC, expected 1"; }
grep -q "firewall: $FX/corp.nft (nftables ruleset, 12 rules) loaded" "$LAB_ERR" || lm_fail "corp.nft: not announced"
P='no rule matched: the chain policy drop (chain forward of table inet corp)'
R='rejected by `no CLS from the server VLAN` (chain forward, line 38 of corp.nft)'
expect "$LM_TMP/nft.json" "
rp-dir-https rp01 dir01 filtered|$P
edge-fe-sip edge01 fe01 filtered|$P
any-edge-cls1 dir01 edge01 refused|$R
any-edge-cls1 fe01 edge01 refused|$R
any-edge-cls2 dir01 edge01 refused|$R
any-edge-cls2 fe01 edge01 refused|$R
any-edge-cls3 dir01 edge01 refused|$R
any-edge-cls3 fe01 edge01 refused|$R
clients-edge-cls-blocked cl01 edge01 pass|allowed by \`clients to anything\` (chain forward, line 31 of corp.nft)
fe-dir-sip fe01 dir01 idle-cut|allowed, with an idle timeout of its own (ct timeout set), by \`pool to director\` (chain forward, line 35 of corp.nft)
"
python3 - "$LM_TMP/nft.json" <<'EOF2' || lm_fail "corp.nft: idle cut bracket"
import json, sys
res = json.load(open(sys.argv[1]))["results"]
cut = [r for r in res if r["outcome"] == "idle-cut"]
assert len(cut) == 1 and cut[0]["detail"].startswith("cut between 2 s and 4 s idle"), [r["detail"] for r in cut]
held = [r for r in res if r["service"] == "sip-mtls" and r["verdict"] == "ok"]
assert len(held) == 4 and all(r["detail"].startswith("held idle 1, 2, 4, 8 s: answered every time") for r in held), [r["detail"] for r in held]
print("hold ok:", cut[0]["detail"][:60])
EOF2
# the sweep: the any/any from the clients lights up to every host, TCP and UDP; the wrong
# port (443 instead of 4443) is an opening of its own; nothing else is open
python3 - "$LM_TMP/nft.json" <<'EOF2' || lm_fail "corp.nft: sweep findings"
import json, sys
res = [r for r in json.load(open(sys.argv[1]))["results"] if r["rule"].startswith("sweep-")]
assert all(r["outcome"] == "open-not-required" and r["verdict"] == "fail" for r in res)
broad = "allowed by `clients to anything` (chain forward, line 31 of corp.nft)"
cl = [r for r in res if r["from"]["host"] == "cl01"]
assert all(r["firewall_rule"] == broad for r in cl), set(r["firewall_rule"] for r in cl)
assert {r["to"]["host"] for r in cl} == {"rp01", "dir01", "fe01", "edge01"}
ids = {(r["to"]["host"], r["rule"]) for r in cl}
for want in [("dir01", "sweep-tcp-3389"), ("edge01", "sweep-udp-3478"), ("fe01", "sweep-tcp-1433"), ("rp01", "sweep-tcp-22")]:
    assert want in ids, want
# what the scenario needs from cl01 is not a finding
assert ("dir01", "sweep-tcp-443") not in ids and ("dir01", "sweep-tcp-80") not in ids
rest = {(r["from"]["host"], r["to"]["host"], r["rule"], r["firewall_rule"]) for r in res if r["from"]["host"] != "cl01"}
assert rest == {("rp01", "dir01", "sweep-tcp-443", "allowed by `rp to director https` (chain forward, line 27 of corp.nft)")}, rest
print("sweep ok: %d open from cl01, and rp01 -> dir01 tcp/443" % len(cl))
EOF2
lab_check_gone

# ---- iptables-save: reject before accept, wrong port, missing rule, a forgotten exception
lab_run "$LM_TMP/ipt.json" --key ecdsa-p256 --firewall "$FX/corp.rules" --iface dmz=rp01 --iface lan=cl01
[ "$LAB_RC" -eq 1 ] || { cat "$LAB_ERR" >&2; lm_fail "corp.rules: exit $LAB_RC, expected 1"; }
grep -q "(iptables-save dump, 12 rules)" "$LAB_ERR" || lm_fail "corp.rules: kind not detected"
P='no rule matched: the chain policy drop (chain FORWARD of table ip filter)'
R='rejected by `-A FORWARD -i dmz -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset` (chain FORWARD, line 7 of corp.rules)'
expect "$LM_TMP/ipt.json" "
rp-dir-http rp01 dir01 refused|$R
rp-fe-http rp01 fe01 refused|$R
rp-dir-https rp01 dir01 filtered|$P
dir-edge-sip dir01 edge01 filtered|$P
clients-edge-cls-blocked cl01 edge01 pass|allowed by \`CLS to edge\` (chain FORWARD, line 17 of corp.rules)
"
lab_check_gone

# ---- a CSV flow table (a firewall manager's export): wrong port, deny before allow, any/any
lab_run "$LM_TMP/csv.json" --key ecdsa-p256 --firewall "$FX/corp-flows.csv" --sweep
[ "$LAB_RC" -eq 1 ] || { cat "$LAB_ERR" >&2; lm_fail "corp-flows.csv: exit $LAB_RC, expected 1"; }
grep -q "(CSV flow table, 17 rules)" "$LAB_ERR" || lm_fail "corp-flows.csv: kind not detected"
D='dropped by `CR-2291-15: 198.18.1.0/24 -> edge01 tcp 50001-50003 deny` (chain forward, line 16 of corp-flows.csv)'
expect "$LM_TMP/csv.json" "
dir-edge-sip dir01 edge01 filtered|no rule matched: the chain policy drop (chain forward of table inet flows)
any-edge-cls1 dir01 edge01 filtered|$D
any-edge-cls1 fe01 edge01 filtered|$D
any-edge-cls2 dir01 edge01 filtered|$D
any-edge-cls2 fe01 edge01 filtered|$D
any-edge-cls3 dir01 edge01 filtered|$D
any-edge-cls3 fe01 edge01 filtered|$D
clients-edge-cls-blocked cl01 edge01 pass|allowed by \`CR-2291-14: 198.18.0.0/24 -> any any any port allow\` (chain forward, line 15 of corp-flows.csv)
"
python3 - "$LM_TMP/csv.json" <<'EOF2' || lm_fail "corp-flows.csv: sweep findings"
import json, sys
res = [r for r in json.load(open(sys.argv[1]))["results"] if r["rule"].startswith("sweep-")]
rules = {r["firewall_rule"] for r in res}
assert rules == {"allowed by `CR-2291-14: 198.18.0.0/24 -> any any any port allow` (chain forward, line 15 of corp-flows.csv)",
                 "allowed by `CR-2291-11: dir01 -> edge01 tcp 5060 allow` (chain forward, line 12 of corp-flows.csv)"}, rules
print("sweep ok: %d findings" % len(res))
EOF2
lab_check_gone

# ---- `firewall --format csv` read back as the firewall: the lab passes
"$LYNCMOCK" firewall --format csv --output "$LM_TMP/flows.csv" || lm_fail "firewall --format csv"
lab_run "$LM_TMP/back.json" --key ecdsa-p256 --firewall "$LM_TMP/flows.csv"
[ "$LAB_RC" -eq 0 ] || { cat "$LAB_ERR" >&2; lm_fail "generated flows.csv: exit $LAB_RC, expected 0"; }
lab_check_gone

# ---- --break RULE=idle-timeout:S on the generated firewall: that path alone is cut
lab_run "$LM_TMP/idle.json" --key ecdsa-p256 --break edge-dir-sip=idle-timeout:3 --hold 8
[ "$LAB_RC" -eq 1 ] || { cat "$LAB_ERR" >&2; lm_fail "idle-timeout: exit $LAB_RC, expected 1"; }
python3 - "$LM_TMP/idle.json" <<'EOF2' || lm_fail "idle-timeout: outcomes"
import json, sys
res = json.load(open(sys.argv[1]))["results"]
bad = [(r["rule"], r["outcome"], r["detail"][:50]) for r in res if r["verdict"] != "ok"]
assert len(bad) == 1 and bad[0][:2] == ("edge-dir-sip", "idle-cut") and bad[0][2].startswith("cut between 2 s and 4 s"), bad
EOF2
lab_check_gone

# ---- files that do not load: exit 2, the loader's own message with the line
bad() {
	local file=$1 want=$2
	shift 2
	"$LYNCMOCK" lab --key ecdsa-p256 --firewall "$file" "$@" >/dev/null 2>"$LM_TMP/bad.err"
	local rc=$?
	[ "$rc" -eq 2 ] || { cat "$LM_TMP/bad.err" >&2; lm_fail "$file: exit $rc, expected 2"; }
	grep -qF -- "$want" "$LM_TMP/bad.err" || { cat "$LM_TMP/bad.err" >&2; lm_fail "$file: no '$want'"; }
}
printf 'table inet corp {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy drop;\n\t\tip saddr 198.18.0.0/24 tcp dport 443 acept\n\t}\n}\n' >"$LM_TMP/typo.nft"
bad "$LM_TMP/typo.nft" "$LM_TMP/typo.nft:4:"
printf '*filter\n:FORWARD DROP [0:0]\n-A FORWARD -s 198.18.0.20 -p tcp --dport 443 -j ACCEPT\n-A FORWARD -p tcp --dport 80 -j ACCPT\nCOMMIT\n' >"$LM_TMP/typo.rules"
bad "$LM_TMP/typo.rules" "Error occurred at line: 5"
printf 'source,destination,port,action\n198.18.0.20,dir01,443,allow\ncl01,dir01,https,allow\n' >"$LM_TMP/typo.csv"
bad "$LM_TMP/typo.csv" "typo.csv:3: port 'https'"
bad "$LM_TMP/nosuch.nft" "nosuch.nft: No such file"
bad "$FX/corp.nft" "no host or role 'nosuch'" --iface dmz=nosuch
bad "$FX/corp.nft" "with --firewall the rules are yours" --break rp-dir-http=drop
bad "$FX/corp.nft" "add --hold SECONDS" --break edge-dir-sip=idle-timeout:3
bad "$FX/corp.nft" "is not SIP" --break rp-dir-http=idle-timeout:3 --hold 8
echo "lab --firewall ok"
