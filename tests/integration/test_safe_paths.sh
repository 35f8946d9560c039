#!/usr/bin/env bash
# Paths the lab and the listener open are opened safely (issue 11, item 5):
# - `lab --firewall FIFO` fails at once (exit 2, "not a regular file"), never
#   waiting for a writer; a directory too;
# - `listen --log`: a planted symbolic link is refused (its target untouched),
#   a FIFO with or without a reader is refused at once, a new log is created
#   0640 (or stricter), an existing one is appended to.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_cmd timeout

# --- lab --firewall (root: lab checks root first)
if [ "$(id -u)" -eq 0 ]; then
	mkfifo "$LM_TMP/fw.fifo"
	t0=$(date +%s%N)
	timeout 20 "$LYNCMOCK" lab --firewall "$LM_TMP/fw.fifo" >/dev/null 2>"$LM_TMP/fw.err"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" -ne 124 ] || lm_fail "lab --firewall FIFO hung (killed by timeout after 20 s)"
	[ "$rc" -eq 2 ] || { cat "$LM_TMP/fw.err" >&2; lm_fail "lab --firewall FIFO: exit $rc, expected 2"; }
	grep -q "fw.fifo: not a regular file" "$LM_TMP/fw.err" ||
		{ cat "$LM_TMP/fw.err" >&2; lm_fail "lab --firewall FIFO: no 'not a regular file'"; }
	! grep -q "^lab: resources" "$LM_TMP/fw.err" || lm_fail "lab --firewall FIFO made resources"
	echo "lab --firewall FIFO: exit 2 in $ms ms: $(cat "$LM_TMP/fw.err")"
	timeout 20 "$LYNCMOCK" lab --firewall "$LM_TMP" >/dev/null 2>"$LM_TMP/fwd.err"
	rc=$?
	[ "$rc" -eq 2 ] && grep -q "not a regular file" "$LM_TMP/fwd.err" ||
		{ cat "$LM_TMP/fwd.err" >&2; lm_fail "lab --firewall DIR: exit $rc"; }
else
	echo "SKIP part: lab --firewall checks need root"
fi

# --- listen --log
lis_pki
listen_log() { # listen_log PATH: runs listen with --log PATH; sets RC (bounded)
	timeout 20 "$LYNCMOCK" listen --scenario "$LIS_SCENARIO" --host dir01 --certs "$LIS_PKI" \
		--port-offset "$LIS_OFF" --log "$1" >"$LM_TMP/ll.out" 2>"$LM_TMP/ll.err"
	RC=$?
	[ "$RC" -ne 124 ] || lm_fail "listen --log $1 hung"
}
# a planted symlink to a file the attacker wants overwritten or made readable
echo "precious" >"$LM_TMP/target"
chmod 600 "$LM_TMP/target"
ln -s "$LM_TMP/target" "$LM_TMP/planted.log"
listen_log "$LM_TMP/planted.log"
[ "$RC" -eq 2 ] || { cat "$LM_TMP/ll.err" >&2; lm_fail "listen --log SYMLINK: exit $RC, expected 2"; }
grep -q "symbolic link" "$LM_TMP/ll.err" || { cat "$LM_TMP/ll.err" >&2; lm_fail "listen --log SYMLINK: no reason"; }
[ "$(cat "$LM_TMP/target")" = precious ] || lm_fail "listen --log wrote through a symlink"
[ "$(stat -c %a "$LM_TMP/target")" = 600 ] || lm_fail "listen --log changed the symlink target's mode"
echo "listen --log SYMLINK: exit 2: $(cat "$LM_TMP/ll.err")"
# a FIFO nobody reads, then one with a reader: both refused at once
mkfifo "$LM_TMP/log.fifo"
listen_log "$LM_TMP/log.fifo"
[ "$RC" -eq 2 ] && grep -q "not a regular file" "$LM_TMP/ll.err" ||
	{ cat "$LM_TMP/ll.err" >&2; lm_fail "listen --log FIFO: exit $RC"; }
sleep 30 <>"$LM_TMP/log.fifo" &
reader=$!
lm_track "$reader"
listen_log "$LM_TMP/log.fifo"
[ "$RC" -eq 2 ] && grep -q "not a regular file" "$LM_TMP/ll.err" ||
	{ cat "$LM_TMP/ll.err" >&2; lm_fail "listen --log FIFO with a reader: exit $RC"; }
kill "$reader"
echo "listen --log FIFO: exit 2 (with and without a reader)"
# a new log: created 0640 or stricter; an old one: appended
lis_start new dir01
lis_stop "$LIS_PID"
mode=$(stat -c %a "$LM_TMP/new.log")
case "$mode" in 640 | 600) ;; *) lm_fail "new log has mode $mode, expected 0640 or 0600" ;; esac
echo "old line" >"$LM_TMP/old.log"
lis_start old dir01
curl -s -m 5 "http://127.0.3.1:10080/" >/dev/null || true
lis_stop "$LIS_PID"
[ "$(head -n 1 "$LM_TMP/old.log")" = "old line" ] || lm_fail "listen --log truncated an existing log"
[ "$(wc -l <"$LM_TMP/old.log")" -ge 2 ] || lm_fail "listen --log appended nothing"
echo "listen --log: new log mode $mode, existing log appended ($(wc -l <"$LM_TMP/old.log") lines)"
echo "safe paths ok"
