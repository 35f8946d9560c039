#!/usr/bin/env bash
# `lyncmock listen` under valgrind (memcheck): every listener kind served
# (probes of http, https, sip-mtls, cls-mtls from two sources), a few broken
# clients (garbage, half a handshake, an oversized SIP message), SIGHUP,
# then SIGTERM; valgrind must report no error and no definite leak.
# Skipped on sanitizer builds (valgrind cannot run them): $LM_SANITIZE=1 or
# a binary linked to libasan.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_cmd valgrind
if [ "${LM_SANITIZE:-0}" = 1 ] || ldd "$LYNCMOCK" 2>/dev/null | grep -q 'libasan\|libubsan' ||
	nm "$LYNCMOCK" 2>/dev/null | grep -q ' __asan_init'; then
	lm_skip "sanitizer build: valgrind runs on the normal build only"
fi
HOSTILE=${LM_BUILD_DIR:?}/tests/hostile/lm_hostile
SC=$LM_SOURCE_DIR/tests/hostile/hostile-lab.yaml
PKI=$LM_TMP/pki
OFF=10000
"$LYNCMOCK" certs init --scenario "$SC" --out "$PKI" >"$LM_TMP/certs.out" 2>&1 ||
	{ cat "$LM_TMP/certs.out"; lm_fail "certs init"; }

# the handshake timeout is generous: everything is ~30x slower under memcheck
valgrind --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --log-file="$LM_TMP/vg.log" \
	"$LYNCMOCK" listen --scenario "$SC" --host dir01 --certs "$PKI" --port-offset "$OFF" \
	--handshake-timeout 30000 --idle-timeout 30000 --log "$LM_TMP/dir.log" \
	>"$LM_TMP/dir.out" 2>"$LM_TMP/dir.err" &
VPID=$!
lm_track "$VPID"
lm_wait_for "$LM_TMP/dir.out" "^ready " 1200 || { cat "$LM_TMP/dir.err" "$LM_TMP/vg.log"; exit 1; } # 60 s: valgrind starts slowly

probe() {
	"$LYNCMOCK" probe --scenario "$SC" --host "$1" --certs "$PKI" --port-offset "$OFF" \
		--timeout 15 >"$LM_TMP/probe-$1.out" 2>&1 ||
		{ cat "$LM_TMP/probe-$1.out"; cat "$LM_TMP/dir.log" "$LM_TMP/vg.log"; lm_fail "probe from $1 under valgrind"; }
}
probe edge01
probe rp01
if [ -x "$HOSTILE" ]; then
	MTLS=(--cert "$PKI/edge01.pem" --key "$PKI/edge01.key" --sni dirpool.contoso.local)
	"$HOSTILE" random-bytes --addr 127.0.5.1 --port 15061 --count 5 --seconds 5 >/dev/null
	"$HOSTILE" random-bytes --addr 127.0.5.1 --port 18080 --count 5 --seconds 5 >/dev/null
	"$HOSTILE" half-clienthello --addr 127.0.5.1 --port 14443 --count 5 --seconds 2 >/dev/null
	"$HOSTILE" half-clienthello --addr 127.0.5.1 --port 60001 --count 5 --seconds 2 >/dev/null
	"$HOSTILE" sip-huge-cl --addr 127.0.5.1 --port 15061 --count 2 --seconds 10 "${MTLS[@]}" >/dev/null
fi
kill -HUP "$VPID"
lm_wait_for "$LM_TMP/dir.log" 'SIGHUP: certificates reloaded' 400
probe edge01
kill -TERM "$VPID"
rc=0
wait "$VPID" || rc=$?
grep -E 'ERROR SUMMARY|in use at exit|All heap blocks|definitely lost|indirectly lost|possibly lost' "$LM_TMP/vg.log" |
	sed 's/^==[0-9]*== */valgrind: /'
[ "$rc" -eq 0 ] || { cat "$LM_TMP/vg.log"; lm_fail "listener under valgrind exited $rc (99: valgrind found errors)"; }
grep -q 'ERROR SUMMARY: 0 errors' "$LM_TMP/vg.log" || { cat "$LM_TMP/vg.log"; lm_fail "valgrind errors"; }
grep -q 'definitely lost: [1-9]' "$LM_TMP/vg.log" && { cat "$LM_TMP/vg.log"; lm_fail "definite leaks"; }
echo "served under valgrind: $(grep -c . "$LM_TMP/dir.log") log lines"
echo "PASS"
