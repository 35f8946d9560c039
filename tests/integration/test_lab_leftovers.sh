#!/usr/bin/env bash
# What a lab killed with SIGKILL leaves is recorded, reported and removed (issue 11, item 3):
# - a running lab has a state file (0600, JSON) under LYNCMOCK_RUN_DIR/lab naming its
#   namespaces, its temp dir (0700 under a 0700 parent: the lab's keys) and its processes;
# - `lab --cleanup` while it runs names it and leaves it alone;
# - after `kill -9`, its namespaces and temp dir are still there (nothing else removes
#   them), the next `lab` warns (one line, with the hint), `lab --cleanup` removes them
#   and says so, a second `--cleanup` finds nothing;
# - a recorded process still alive is stopped only while its start time matches (a pid
#   reused by another process is left alone); an unreadable state file is reported;
# - a lab left up with --keep is recorded as kept, warned about, and --cleanup stops its
#   listeners and removes its namespaces.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_root "network namespaces"
lm_need_cmd python3

export LYNCMOCK_RUN_DIR=$LM_TMP/run # this test's own records, not the machine's
SD=$LYNCMOCK_RUN_DIR/lab
stjson() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
ns_of() { ip netns list | awk '{print $1}' | grep "^$1-" | sort; }

# --- 1. a lab, recorded while it runs
err=$LM_TMP/lab.err
t0=$(date +%s%N)
"$LYNCMOCK" lab --key ecdsa-p256 --timeout 5 --format json --output "$LM_TMP/lab.json" 2>"$err" &
pid=$!
lm_track "$pid"
lm_wait_for "$err" "probe processes started" 1200
state=$(ls "$SD"/lab-lm"$pid"-*.json 2>/dev/null | head -n 1)
[ -n "$state" ] || { ls -la "$SD" >&2; lm_fail "no state file for lab $pid in $SD"; }
prefix=$(stjson "$state" 'j["prefix"]')
tmpdir=$(stjson "$state" 'j["tmpdir"]')
nns=$(stjson "$state" 'len(j["netns"])')
nprocs=$(stjson "$state" 'len(j["processes"])')
[ "$prefix" = "lm$pid" ] || lm_fail "state prefix $prefix, expected lm$pid"
[ "$(stat -c %a "$state")" = 600 ] || lm_fail "state file mode $(stat -c %a "$state")"
[ "$(stat -c %a "$SD")" = 700 ] || lm_fail "$SD mode $(stat -c %a "$SD")"
[ -d "$tmpdir" ] && [ "$(stat -c %a "$tmpdir")" = 700 ] || lm_fail "temp dir $tmpdir missing or not 0700"
[ "$(dirname "$tmpdir")" = "$SD" ] || lm_fail "temp dir $tmpdir not under $SD"
[ "$nns" -eq "$(ns_of "$prefix" | wc -l)" ] || lm_fail "state names $nns namespaces, $(ns_of "$prefix" | wc -l) exist"
[ "$nprocs" -ge 3 ] || lm_fail "state records $nprocs processes (listeners and probes expected)"
echo "running lab $pid: state $state: $nns namespaces, $nprocs processes, temp dir $tmpdir"
"$LYNCMOCK" lab --cleanup >"$LM_TMP/c0.out" 2>&1 || { cat "$LM_TMP/c0.out"; lm_fail "--cleanup beside a running lab failed"; }
grep -q "lab $prefix (pid $pid, .*) is still running: left alone" "$LM_TMP/c0.out" ||
	{ cat "$LM_TMP/c0.out"; lm_fail "--cleanup did not name the running lab"; }
[ "$nns" -eq "$(ns_of "$prefix" | wc -l)" ] && [ -d "$tmpdir" ] || lm_fail "--cleanup touched a running lab"

# --- 2. SIGKILL: everything stays behind
kill -KILL "$pid"
wait "$pid" 2>/dev/null
echo "killed lab $pid after $((($(date +%s%N) - t0) / 1000000)) ms"
[ "$(ns_of "$prefix" | wc -l)" -eq "$nns" ] || lm_fail "namespaces went away by themselves"
[ -d "$tmpdir" ] || lm_fail "temp dir went away by themselves"
# a garbage record beside it, and a record of a dead lab whose child still runs
printf '{"lyncmock_lab_state":1,"pid":"x' >"$SD/lab-lm1-1.json"
sleep 120 &
live=$!
lm_track "$live"
sleep 120 &
reused=$!
lm_track "$reused"
true &
dead=$!
wait "$dead"
st_live=$(awk '{print $22}' "/proc/$live/stat")
st_reused=$(awk '{print $22}' "/proc/$reused/stat")
cat >"$SD/lab-lm$dead-1.json" <<JSON
{"lyncmock_lab_state":1,"boot_id":"","pid":$dead,"start_time":1,"started":0,"prefix":"lm$dead",
 "tmpdir":"","kept":false,"netns":["lm$dead-fw"],
 "processes":[{"pid":$live,"start_time":$st_live},{"pid":$reused,"start_time":$((st_reused + 1))}]}
JSON

# --- 3. the next lab warns (before it fails on a bad --break)
"$LYNCMOCK" lab --break no-such-rule=drop >/dev/null 2>"$LM_TMP/warn.err"
rc=$?
[ "$rc" -eq 2 ] || { cat "$LM_TMP/warn.err"; lm_fail "lab --break no-such-rule: exit $rc"; }
grep -q "warning: lab $prefix (pid $pid, .*) left $nns namespaces .*temp dir $tmpdir.*lyncmock lab --cleanup" "$LM_TMP/warn.err" ||
	{ cat "$LM_TMP/warn.err"; lm_fail "no warning about killed lab $prefix"; }
grep -q "warning: lab lm$dead .* left 1 process ($live)" "$LM_TMP/warn.err" ||
	{ cat "$LM_TMP/warn.err"; lm_fail "no warning about the live child $live"; }
grep -q "lab-lm1-1.json: unreadable lab state" "$LM_TMP/warn.err" || { cat "$LM_TMP/warn.err"; lm_fail "no warning about the garbage state"; }
[ "$(grep -c 'warning: lab ' "$LM_TMP/warn.err")" -eq 2 ] || { cat "$LM_TMP/warn.err"; lm_fail "expected one line per leftover lab"; }
echo "next lab warned:"
sed 's/^/  /' "$LM_TMP/warn.err"

# --- 4. --cleanup removes it all, by recorded pid and start time only
t1=$(date +%s%N)
"$LYNCMOCK" lab --cleanup >"$LM_TMP/c1.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t1) / 1000000))
cat "$LM_TMP/c1.out"
[ "$rc" -eq 0 ] || lm_fail "--cleanup: exit $rc"
left=$(ns_of "$prefix")
[ -z "$left" ] || lm_fail "--cleanup left namespaces: $left"
[ ! -e "$tmpdir" ] || lm_fail "--cleanup left the temp dir $tmpdir"
[ "$(grep -c "removed namespace $prefix-" "$LM_TMP/c1.out")" -eq "$nns" ] || lm_fail "--cleanup did not report $nns namespaces"
grep -q "removed temp dir $tmpdir" "$LM_TMP/c1.out" || lm_fail "--cleanup did not report the temp dir"
grep -q "stopped process $live (SIGTERM)" "$LM_TMP/c1.out" || lm_fail "--cleanup did not stop $live"
kill -0 "$live" 2>/dev/null && lm_fail "recorded child $live still runs"
kill -0 "$reused" 2>/dev/null || lm_fail "--cleanup killed $reused, whose start time is not the recorded one"
grep -q "removed unreadable state file .*lab-lm1-1.json" "$LM_TMP/c1.out" || lm_fail "garbage state not removed"
[ -z "$(ls "$SD")" ] || { ls -la "$SD"; lm_fail "state files left in $SD"; }
echo "--cleanup: exit 0 in $ms ms"

# --- 5. a second --cleanup finds nothing
"$LYNCMOCK" lab --cleanup >"$LM_TMP/c2.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q "nothing to clean up" "$LM_TMP/c2.out" || { cat "$LM_TMP/c2.out"; lm_fail "second --cleanup: exit $rc"; }
echo "second --cleanup: $(cat "$LM_TMP/c2.out")"

# --- 6. a --keep lab is recorded as kept; --cleanup stops its listeners and removes it
"$LYNCMOCK" lab --key ecdsa-p256 --keep >/dev/null 2>"$LM_TMP/keep.err" ||
	{ cat "$LM_TMP/keep.err"; lm_fail "lab --keep failed"; }
kprefix=$(sed -n 's/^lab: resources prefix=\([^ ]*\).*/\1/p' "$LM_TMP/keep.err")
kstate=$(ls "$SD"/lab-"$kprefix"-*.json 2>/dev/null | head -n 1)
[ -n "$kstate" ] || { eval "$(sed -n 's/^lab: tear down with: //p' "$LM_TMP/keep.err")"; lm_fail "--keep: no state file"; }
kpids=$(stjson "$kstate" '" ".join(str(p["pid"]) for p in j["processes"])')
[ "$(stjson "$kstate" 'j["kept"]')" = True ] && [ -n "$kpids" ] || lm_fail "--keep: state not kept or no listeners recorded"
grep -q "^lab: or remove it all with: lyncmock lab --cleanup" "$LM_TMP/keep.err" || lm_fail "--keep: no --cleanup hint"
"$LYNCMOCK" lab --break no-such-rule=drop >/dev/null 2>"$LM_TMP/kwarn.err"
grep -q "warning: lab $kprefix (.*kept with --keep) left .* processes" "$LM_TMP/kwarn.err" ||
	{ cat "$LM_TMP/kwarn.err"; lm_fail "no warning about the kept lab"; }
"$LYNCMOCK" lab --cleanup >"$LM_TMP/c3.out" 2>&1 || { cat "$LM_TMP/c3.out"; lm_fail "--cleanup of the kept lab"; }
for p in $kpids; do
	grep -q "stopped process $p (SIG" "$LM_TMP/c3.out" || { cat "$LM_TMP/c3.out"; lm_fail "listener $p not stopped"; }
	[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || echo gone)" != S ] || lm_fail "listener $p still runs"
done
[ -z "$(ns_of "$kprefix")" ] || lm_fail "--cleanup left namespaces of the kept lab"
[ -z "$(ls "$SD")" ] || { ls -la "$SD"; lm_fail "state files left after the kept lab"; }
echo "kept lab $kprefix: $(grep -c 'stopped process' "$LM_TMP/c3.out") listeners stopped, $(grep -c 'removed namespace' "$LM_TMP/c3.out") namespaces removed"
echo "lab leftovers ok"
