# Checks a `lyncmock lab --format json` report against the nft rules the lab
# loaded, for scenarios with UDP services and port ranges:
#   lab_topo_check.py REPORT NFT TOTAL [RULE=OUTCOME ...]
# TOTAL results; every open nft rule (tcp or udp, one port or a range) probed
# at least once from its source to its destination, and every open result
# inside an open nft rule; unique (rule, from, to, port); every verdict ok
# except the RULE=OUTCOME ones, which must all fail with OUTCOME; blocked
# paths filtered (the lab's firewall drops them).
import json
import re
import sys

path, nft, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
broken = dict(a.split("=", 1) for a in sys.argv[4:])
doc = json.load(open(path))
assert doc["partial"] is False, "partial report"
res = doc["results"]
assert len(res) == total, "%d results, expected %d" % (len(res), total)
keys = [(r["rule"], r["from"]["host"], r["to"]["host"], r["port"]) for r in res]
assert len(set(keys)) == len(keys), "duplicate results"
rules = re.findall(
    r'ip6? saddr (\S+) ip6? daddr (\S+) (tcp|udp) dport (\d+)(?:-(\d+))? (?:accept|drop|reject with \S+ \S+) comment "([^" ]+)',
    open(nft).read())
opened = {}
for s, d, l4, lo, hi, rule in rules:
    opened[(s, d, rule)] = (l4, int(lo), int(hi or lo))
seen = set()
bad = []
for r in res:
    name = "%s %s->%s:%s" % (r["rule"], r["from"]["host"], r["to"]["host"], r["port"])
    if r["expect"] == "open":
        k = (r["from"]["address"], r["to"]["address"], r["rule"])
        if k not in opened:
            bad.append("%s: probed, but no firewall rule opens it" % name)
        else:
            l4, lo, hi = opened[k]
            if not lo <= r["port"] <= hi:
                bad.append("%s: port outside the opened %s %d-%d" % (name, l4, lo, hi))
            seen.add(k)
    if r["rule"] in broken:
        if r["verdict"] != "fail" or r["outcome"] != broken[r["rule"]]:
            bad.append("%s: %s/%s, expected fail/%s (%s)" % (name, r["verdict"], r["outcome"],
                                                            broken[r["rule"]], r["detail"]))
    elif r["verdict"] != "ok":
        bad.append("%s: %s/%s (%s)" % (name, r["verdict"], r["outcome"], r["detail"]))
    elif r["expect"] == "blocked" and r["outcome"] != "filtered":
        bad.append("%s: blocked path shows %s" % (name, r["outcome"]))
for k in set(opened) - seen:
    bad.append("opened but never probed: %s -> %s (%s)" % k)
assert not bad, "\n".join(bad)
udp = sum(1 for r in res if r["service"] in ("stun", "udp"))
print("report ok: %d results (%d over UDP)%s" % (len(res), udp,
      "".join(", %s -> %s" % kv for kv in broken.items())))
