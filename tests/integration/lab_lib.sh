# Helpers for the `lyncmock lab` integration tests (sourced after lib.sh).
# lab_run OUT ARGS...: runs the lab with --format json (ARGS may override it) --output OUT; sets LAB_RC,
# LAB_MS (wall time), LAB_PREFIX, LAB_PIDS, LAB_TMPDIR from its resources line.
lab_run() {
	local out=$1 t0 t1 line
	shift
	LAB_ERR="$LM_TMP/lab-$(basename "$out").err"
	t0=$(date +%s%N)
	"$LYNCMOCK" lab --format json --output "$out" "$@" 2>"$LAB_ERR"
	LAB_RC=$?
	t1=$(date +%s%N)
	LAB_MS=$(((t1 - t0) / 1000000))
	line=$(grep '^lab: resources ' "$LAB_ERR" | tail -n 1)
	[ -n "$line" ] || { cat "$LAB_ERR" >&2; lm_fail "lab printed no resources line"; }
	LAB_PREFIX=$(sed -n 's/.* prefix=\([^ ]*\).*/\1/p' <<<"$line")
	LAB_PIDS=$(sed -n 's/.* pids=\([^ ]*\).*/\1/p' <<<"$line" | tr ',' ' ')
	LAB_TMPDIR=$(sed -n 's/.* tmpdir=\([^ ]*\).*/\1/p' <<<"$line")
	[[ "$LAB_PREFIX" == lm* ]] || lm_fail "bad prefix in: $line"
	echo "lab $* -> exit $LAB_RC in $LAB_MS ms (prefix $LAB_PREFIX)"
}

# Nothing of the last lab run is left: namespaces, processes, temp dir.
lab_check_gone() {
	local p left
	left=$(ip netns list | awk '{print $1}' | grep "^$LAB_PREFIX-")
	[ -z "$left" ] || { for p in $left; do ip netns del "$p"; done; lm_fail "namespaces left behind: $left"; }
	for p in $LAB_PIDS; do
		if kill -0 "$p" 2>/dev/null && grep -q lyncmock "/proc/$p/cmdline" 2>/dev/null; then
			kill "$p"
			lm_fail "process $p left behind"
		fi
	done
	[ "$LAB_TMPDIR" = "-" ] || [ ! -e "$LAB_TMPDIR" ] || lm_fail "temp dir left behind: $LAB_TMPDIR"
}

# lab_check_json FILE TOTAL NFT [RULE OUTCOME]: TOTAL results; every open path of
# the nft file (the firewall the lab loaded) probed; all verdicts ok, or exactly
# RULE's results failing, all with OUTCOME.
lab_check_json() {
	python3 - "$@" <<'EOF' || { cat "$LAB_ERR" >&2; lm_fail "report check failed: $*"; }
import json, re, sys
path, total, nft = sys.argv[1], int(sys.argv[2]), sys.argv[3]
broken = sys.argv[4] if len(sys.argv) > 4 else None
want = sys.argv[5] if len(sys.argv) > 5 else None
doc = json.load(open(path))
assert doc["schema"] == "lyncmock-report/2", doc.get("schema")
assert doc["partial"] is False, "partial report"
res = doc["results"]
assert len(res) == total, "%d results, expected %d" % (len(res), total)
keys = [(r["rule"], r["from"]["host"], r["to"]["host"]) for r in res]
assert len(set(keys)) == len(keys), "duplicate results"
opened = set(re.findall(r'ip6? saddr (\S+) ip6? daddr (\S+) tcp dport (\d+) accept comment "([^"]+)"',
                        open(nft).read()))
probed = set((r["from"]["address"], r["to"]["address"], str(r["port"]), r["rule"])
             for r in res if r["expect"] == "open")
assert opened == probed, "firewall and probes disagree: %s" % sorted(opened ^ probed)[:5]
bad = []
for r in res:
    name = "%s %s->%s" % (r["rule"], r["from"]["host"], r["to"]["host"])
    if broken is not None and r["rule"] == broken:
        if r["verdict"] != "fail" or r["outcome"] != want:
            bad.append("%s: %s/%s, expected fail/%s (%s)" % (name, r["verdict"], r["outcome"], want, r["detail"]))
    elif r["verdict"] != "ok":
        bad.append("%s: %s/%s (%s)" % (name, r["verdict"], r["outcome"], r["detail"]))
    elif r["expect"] == "blocked" and r["outcome"] != "filtered":
        bad.append("%s: blocked path shows %s, the lab's firewall drops it" % (name, r["outcome"]))
if broken is not None and not any(r["rule"] == broken for r in res):
    bad.append("no result for the broken rule %s" % broken)
assert not bad, "\n".join(bad)
print("report ok: %d results%s" % (len(res), "" if broken is None else ", %s -> %s" % (broken, want)))
EOF
}
