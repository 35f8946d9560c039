#!/bin/bash
# `lyncmock lab` cleans up on every path: Ctrl-C (partial report), a listener that
# cannot start, and --keep leaves a working lab whose printed teardown removes it.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/lab_lib.sh"
lm_need_root "network namespaces"
lm_need_cmd python3
lm_need_cmd curl

resources() {
	local line
	line=$(grep '^lab: resources ' "$1" | tail -n 1)
	[ -n "$line" ] || { cat "$1" >&2; lm_fail "no resources line in $1"; }
	LAB_PREFIX=$(sed -n 's/.* prefix=\([^ ]*\).*/\1/p' <<<"$line")
	LAB_PIDS=$(sed -n 's/.* pids=\([^ ]*\).*/\1/p' <<<"$line" | tr ',' ' ')
	LAB_TMPDIR=$(sed -n 's/.* tmpdir=\([^ ]*\).*/\1/p' <<<"$line")
	LAB_ERR=$1
}

# 1. SIGINT while the probes run (a 5 s timeout keeps the blocked probe busy)
err="$LM_TMP/int.err"
"$LYNCMOCK" lab --timeout 5 --format json --output "$LM_TMP/int.json" 2>"$err" &
pid=$!
lm_track "$pid"
lm_wait_for "$err" "probe processes started" 600
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 1 ] || { cat "$err" >&2; lm_fail "SIGINT: exit $rc, expected 1"; }
grep -q "interrupted: the report is partial" "$err" || lm_fail "SIGINT: no partial-report message"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["partial"] is True, d["partial"]' \
	"$LM_TMP/int.json" || lm_fail "SIGINT: report not marked partial"
resources "$err"
lab_check_gone

# 1b. SIGTERM during setup (right after the PKI): torn down, exit 1
err="$LM_TMP/term.err"
"$LYNCMOCK" lab --key ecdsa-p256 --format json --output "$LM_TMP/term.json" 2>"$err" &
pid=$!
lm_track "$pid"
lm_wait_for "$err" "PKI ready" 600
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 1 ] || { cat "$err" >&2; lm_fail "SIGTERM: exit $rc, expected 1"; }
grep -q "lyncmock lab: interrupted" "$err" || { cat "$err" >&2; lm_fail "SIGTERM: no 'interrupted'"; }
resources "$err"
lab_check_gone

# 2. a setup failure (listeners cannot load an empty PKI): exit 2, nothing left
mkdir -p "$LM_TMP/empty-pki"
"$LYNCMOCK" lab --certs "$LM_TMP/empty-pki" >/dev/null 2>"$LM_TMP/fail.err"
rc=$?
[ "$rc" -eq 2 ] || { cat "$LM_TMP/fail.err" >&2; lm_fail "empty PKI: exit $rc, expected 2"; }
grep -q "stopped before it was ready" "$LM_TMP/fail.err" || { cat "$LM_TMP/fail.err" >&2; lm_fail "empty PKI: no listener error"; }
resources "$LM_TMP/fail.err"
lab_check_gone

# 3. --keep: the lab stays up and works; the printed teardown removes it all
"$LYNCMOCK" lab --keep >/dev/null 2>"$LM_TMP/keep.err"
resources "$LM_TMP/keep.err"
teardown=$(sed -n 's/^lab: tear down with: //p' "$LM_TMP/keep.err")
[ -n "$teardown" ] || lm_fail "--keep printed no teardown line"
cl="$LAB_PREFIX-cl01"
ip netns list | awk '{print $1}' | grep -qx "$cl" || { eval "$teardown"; lm_fail "--keep: $cl is gone"; }
grep -q "ip netns exec $cl " "$LM_TMP/keep.err" || { eval "$teardown"; lm_fail "--keep: no enter line for cl01"; }
# an open path answers (clients-dir-http), a path no rule opens does not
ip netns exec "$cl" curl -s -m 5 http://198.18.1.10/ | grep -q 'lyncmock dir01' ||
	{ eval "$teardown"; lm_fail "--keep: cl01 cannot reach dir01:80"; }
ip netns exec "$cl" curl -s -m 1 http://198.18.1.20:8080/ >/dev/null
rc=$?
[ "$rc" -eq 28 ] || { eval "$teardown"; lm_fail "--keep: cl01 -> fe01:8080 is not dropped (curl $rc)"; }
eval "$teardown" 2>/dev/null
for p in $LAB_PIDS; do
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
lab_check_gone
echo "lab teardown ok"
