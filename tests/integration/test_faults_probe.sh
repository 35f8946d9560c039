#!/usr/bin/env bash
# Probe faults: an output directory that cannot be written fails before any
# probing (exit 2, fast, no connection reaches the listener); SIGINT and
# SIGTERM in the middle of a run (fe01's ports accept and then stall) leave a
# complete JSON report marked "partial": true holding the finished probes,
# the process ends at once (exit 1) and leaves no child behind.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_cmd python3
lm_need_cmd unshare

SC=$LM_SOURCE_DIR/tests/hostile/faults-lab.yaml
PKI=$LM_TMP/pki
OFF=10000
"$LYNCMOCK" certs init --scenario "$SC" --out "$PKI" >"$LM_TMP/certs.out" 2>&1 ||
	{ cat "$LM_TMP/certs.out"; lm_fail "certs init"; }
"$LYNCMOCK" listen --scenario "$SC" --host dir01 --certs "$PKI" --port-offset "$OFF" \
	--log "$LM_TMP/dir.log" >"$LM_TMP/dir.out" 2>"$LM_TMP/dir.err" &
LPID=$!
lm_track "$LPID"
lm_wait_for "$LM_TMP/dir.out" '^ready ' 200

# fe01: accepts TCP (kernel backlog) on its ports and never says a word
python3 - "$LM_TMP/stall.ready" <<'PY' &
import socket, sys, time
socks = []
for port in (15061, 14443):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.5.22", port)); s.listen(64); socks.append(s)
open(sys.argv[1], "w").write("ready\n")
time.sleep(60)  # bounded: the test kills it long before
PY
lm_track $!
lm_wait_for "$LM_TMP/stall.ready" ready

probe() { # probe OUTPUT [extra...]
	local out=$1
	shift
	"$LYNCMOCK" probe --scenario "$SC" --host edge01 --certs "$PKI" --port-offset "$OFF" \
		--format json --output "$out" "$@"
}

# --- 1. unwritable output: read-only mount (root writes through modes), missing dir
lm_need_root
lines0=$(wc -l <"$LM_TMP/dir.log")
mkdir "$LM_TMP/ro"
t0=$(date +%s%N)
rc=0
unshare -m sh -c 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"' sh "$LM_TMP/ro" \
	"$LYNCMOCK" probe --scenario "$SC" --host edge01 --certs "$PKI" --port-offset "$OFF" \
	--format json --output "$LM_TMP/ro/report.json" 2>"$LM_TMP/ro.err" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 2 ] || lm_fail "read-only output dir: exit $rc, want 2 ($(cat "$LM_TMP/ro.err"))"
grep -q 'cannot write the report .*Read-only file system' "$LM_TMP/ro.err" ||
	lm_fail "read-only output dir: unclear message: $(cat "$LM_TMP/ro.err")"
rc=0
probe "$LM_TMP/no/such/dir/report.json" 2>"$LM_TMP/nodir.err" || rc=$?
[ "$rc" -eq 2 ] || lm_fail "missing output dir: exit $rc, want 2"
grep -q 'No such file or directory' "$LM_TMP/nodir.err" || lm_fail "missing dir: $(cat "$LM_TMP/nodir.err")"
[ "$ms" -lt 1000 ] || lm_fail "unwritable output detected only after $ms ms"
[ "$(wc -l <"$LM_TMP/dir.log")" -eq "$lines0" ] ||
	lm_fail "the listener saw connections from a probe that should not have probed"
echo "unwritable output: exit 2 in $ms ms, no probe traffic: $(head -1 "$LM_TMP/ro.err")"

# --- 2. SIGINT / SIGTERM mid-run: the 3 dir01 probes finish at once, the 2
# fe01 probes stall until their 20 s timeout; the signal comes in between
for sig in INT TERM; do
	before=$(grep -c . "$LM_TMP/dir.log")
	# (not through the shell function: the signal must reach lyncmock itself)
	"$LYNCMOCK" probe --scenario "$SC" --host edge01 --certs "$PKI" --port-offset "$OFF" \
		--format json --output "$LM_TMP/partial-$sig.json" --timeout 20 \
		2>"$LM_TMP/partial-$sig.err" &
	ppid=$!
	lm_track "$ppid"
	# the listener logs each finished connection: wait for dir01's three
	n=0
	while [ $(($(grep -c . "$LM_TMP/dir.log") - before)) -lt 3 ] && [ "$n" -lt 200 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	[ "$n" -lt 200 ] || lm_fail "SIG$sig: dir01's probes never finished"
	kids=$(ps -o pid= --ppid "$ppid" | wc -l)
	t0=$(date +%s%N)
	kill -"$sig" "$ppid"
	rc=0
	wait "$ppid" || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" -eq 1 ] || lm_fail "SIG$sig: probe exit $rc, want 1 ($(cat "$LM_TMP/partial-$sig.err"))"
	[ "$ms" -lt 2000 ] || lm_fail "SIG$sig: probe took $ms ms to stop"
	[ "$kids" -eq 0 ] || lm_fail "SIG$sig: the probe had $kids child processes"
	kill -0 "$ppid" 2>/dev/null && lm_fail "SIG$sig: the probe is still running"
	grep -q 'interrupted: reporting the 3 finished probes' "$LM_TMP/partial-$sig.err" ||
		lm_fail "SIG$sig: $(cat "$LM_TMP/partial-$sig.err")"
	python3 - "$LM_TMP/partial-$sig.json" <<'PY' || lm_fail "SIG$sig: partial report"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["partial"] is True, j.get("partial")
res = j["results"]
ids = sorted(r.get("rule") or r.get("rule_id") or r.get("id") for r in res)
assert ids == ["edge-dir-http", "edge-dir-https", "edge-dir-sip"], ids
assert all(r["outcome"] == "pass" for r in res), [r["outcome"] for r in res]
print("partial report: %d finished probes %s, partial=true" % (len(res), ids))
PY
	ls "$LM_TMP"/.lyncmock* "$LM_TMP"/partial-"$sig".json.* 2>/dev/null | grep -q . &&
		lm_fail "SIG$sig: temporary files left behind"
	echo "SIG$sig: probe stopped $ms ms after the signal, exit 1, no child processes"
done

kill -TERM "$LPID"
wait "$LPID" || lm_fail "listener exit status $?"
echo "PASS"
