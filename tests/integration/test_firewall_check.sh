#!/bin/bash
# `lyncmock firewall`: nft and iptables output accepted by the real tools (inside a
# namespace this test owns), and PowerShell with one rule per inbound path.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_root "nft and iptables-restore need root"
lm_need_cmd nft
lm_need_cmd iptables-restore
lm_need_cmd python3

lm_netns fwchk >/dev/null
NS="lm$$-fwchk"

for sc in single-director director-pool; do
	"$LYNCMOCK" firewall --scenario "$sc" --format nft --output "$LM_TMP/$sc.nft" ||
		lm_fail "$sc: firewall --format nft"
	"$LYNCMOCK" firewall --scenario "$sc" --format iptables >"$LM_TMP/$sc.ipt" ||
		lm_fail "$sc: firewall --format iptables"
	"$LYNCMOCK" firewall --scenario "$sc" --format powershell >"$LM_TMP/$sc.ps1" ||
		lm_fail "$sc: firewall --format powershell"
	"$LYNCMOCK" firewall --scenario "$sc" --format nft --chain input --host edge01 \
		>"$LM_TMP/$sc-input.nft" || lm_fail "$sc: firewall --chain input"

	ip netns exec "$NS" nft -c -f "$LM_TMP/$sc.nft" || lm_fail "$sc: nft -c rejects the output"
	ip netns exec "$NS" nft -c -f "$LM_TMP/$sc-input.nft" ||
		lm_fail "$sc: nft -c rejects the input-chain output"
	# loaded for real, twice (the file replaces its table): the kernel holds every accept
	ip netns exec "$NS" nft -f "$LM_TMP/$sc.nft" || lm_fail "$sc: nft -f"
	ip netns exec "$NS" nft -f "$LM_TMP/$sc.nft" || lm_fail "$sc: nft -f a second time"
	want=$(grep -c ' accept comment "' "$LM_TMP/$sc.nft")
	got=$(ip netns exec "$NS" nft list chain inet lyncmock forward | grep -c ' accept comment "')
	[ "$want" -gt 0 ] && [ "$want" = "$got" ] ||
		lm_fail "$sc: $want accepts generated, $got in the kernel"
	ip netns exec "$NS" nft list chain inet lyncmock forward | grep -q 'policy drop' ||
		lm_fail "$sc: forward chain has no drop policy"
	ip netns exec "$NS" nft delete table inet lyncmock || lm_fail "$sc: nft delete table"

	ip netns exec "$NS" iptables-restore --test "$LM_TMP/$sc.ipt" ||
		lm_fail "$sc: iptables-restore --test rejects the output"
	ipt=$(grep -c '^-A FORWARD -s .* -j ACCEPT$' "$LM_TMP/$sc.ipt")
	[ "$ipt" = "$want" ] || lm_fail "$sc: iptables has $ipt accepts, nft $want"

	# The three formats agree path by path; PowerShell has exactly one rule per
	# (rule, destination host) with the right port, name and sources.
	python3 - "$LM_TMP/$sc.nft" "$LM_TMP/$sc.ipt" "$LM_TMP/$sc.ps1" <<'EOF' || lm_fail "$sc: formats disagree"
import re, sys
nft = open(sys.argv[1]).read()
ipt = open(sys.argv[2]).read()
ps = open(sys.argv[3]).read()
paths = set(re.findall(r'ip saddr (\S+) ip daddr (\S+) tcp dport (\d+) accept comment "([^"]+)"', nft))
ipaths = set((s, d, p, c) for s, d, p, c in re.findall(
    r'-A FORWARD -s (\S+)/32 -d (\S+)/32 -p tcp -m tcp --dport (\d+) -m comment --comment "([^"]+)" -j ACCEPT', ipt))
assert paths and paths == ipaths, (len(paths), len(ipaths))
assert not any(c.endswith("-blocked") for _, _, _, c in paths), "a blocked rule got an accept"
want = {}
for s, d, p, c in paths:
    want.setdefault((c, d), (p, set()))[1].add(s)
got = {}
host = None
for line in ps.splitlines():
    m = re.match(r'# ---- host (\S+) \((\S+), (\S+)\) ----', line)
    if m:
        host = m.group(3)
        continue
    if not line.startswith("New-NetFirewallRule"):
        continue
    m = re.search(r'-DisplayName "lyncmock (\S+) \((\d+)\)" .*-Direction Inbound -Protocol TCP '
                  r'-LocalPort (\d+) -RemoteAddress (\S+) -Action Allow -Profile Domain$', line)
    assert m, line
    rid, dport, lport, remote = m.groups()
    assert dport == lport, line
    assert (rid, host) not in got, "two rules for %s on %s" % (rid, host)
    got[(rid, host)] = (lport, set(remote.split(",")))
assert got == want, (sorted(set(got) ^ set(want)))
print("%d paths, %d PowerShell rules" % (len(paths), len(got)))
EOF
done

# dual stack: IPv4 paths in iptables, IPv6 paths in ip6tables, all in one nft table
lm_need_cmd ip6tables-restore
cat >"$LM_TMP/ds.yaml" <<'YAML'
name: dual-stack
domain: contoso.local
hosts:
  - {name: cl01,   role: internal-client, address: "2001:db8::20"}
  - {name: rp01,   role: reverse-proxy,   address: 198.18.0.10}
  - {name: dir01,  role: director, address: "2001:db8:1::10", fqdn: dir01.contoso.local, pool: dirpool.contoso.local}
  - {name: dir02,  role: director, address: 198.18.1.10, fqdn: dir02.contoso.local, pool: dirpool.contoso.local}
rules:
  - {id: clients-dir-https, service: https, port: 443,  from: internal-client, to: dir01}
  - {id: rp-dir-https,      service: https, port: 4443, from: reverse-proxy,   to: dir02}
YAML
for f in nft iptables ip6tables; do
	"$LYNCMOCK" firewall --scenario "$LM_TMP/ds.yaml" --format $f >"$LM_TMP/ds.$f" || lm_fail "dual stack: --format $f"
done
ip netns exec "$NS" nft -c -f "$LM_TMP/ds.nft" || lm_fail "dual stack: nft -c"
ip netns exec "$NS" iptables-restore --test "$LM_TMP/ds.iptables" || lm_fail "dual stack: iptables-restore --test"
ip netns exec "$NS" ip6tables-restore --test "$LM_TMP/ds.ip6tables" || lm_fail "dual stack: ip6tables-restore --test"
grep -q 'ip6 saddr 2001:db8::20 ip6 daddr 2001:db8:1::10 tcp dport 443 accept' "$LM_TMP/ds.nft" || lm_fail "dual stack: no ip6 nft rule"
[ "$(grep -c '^-A FORWARD -s .* -j ACCEPT$' "$LM_TMP/ds.iptables")" = 1 ] || lm_fail "dual stack: iptables accepts"
[ "$(grep -c '^-A FORWARD -s .* -j ACCEPT$' "$LM_TMP/ds.ip6tables")" = 1 ] || lm_fail "dual stack: ip6tables accepts"
grep -q -- '-A FORWARD -s 198.18.0.10/32 -d 198.18.1.10/32 -p tcp -m tcp --dport 4443 ' "$LM_TMP/ds.iptables" || lm_fail "dual stack: iptables rule"
grep -q -- '-A FORWARD -s 2001:db8::20/128 -d 2001:db8:1::10/128 -p tcp -m tcp --dport 443 ' "$LM_TMP/ds.ip6tables" || lm_fail "dual stack: ip6tables rule"
grep -q -- 'rp01 -> dir02 is not IPv6' "$LM_TMP/ds.ip6tables" || lm_fail "dual stack: ip6tables does not name the IPv4 path"

# bad input: clear message, exit 2
"$LYNCMOCK" firewall --format pf >/dev/null 2>"$LM_TMP/err" && lm_fail "--format pf accepted"
[ $? -eq 2 ] || lm_fail "--format pf: exit code not 2"
grep -q "unknown format" "$LM_TMP/err" || lm_fail "--format pf: no message"
"$LYNCMOCK" firewall --scenario /nonexistent.yaml --format nft >/dev/null 2>&1
[ $? -eq 2 ] || lm_fail "missing scenario: exit code not 2"
"$LYNCMOCK" firewall --format nft --chain input --host nosuch >/dev/null 2>&1
[ $? -eq 2 ] || lm_fail "unknown --host: exit code not 2"
echo "firewall check ok"
