#!/usr/bin/env bash
# Certificate faults on a running listener: its certificate and key files
# removed or replaced by garbage change nothing (the loaded ones serve);
# SIGHUP with bad files keeps the old ones and logs why; SIGHUP with a new
# valid certificate serves it (fingerprint seen by openssl s_client, probes
# pass); a group/world-readable key is refused at start (listen and probe)
# and at SIGHUP, with a message naming the mode and the fix.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_cmd openssl

SC=$LM_SOURCE_DIR/tests/hostile/hostile-lab.yaml
PKI=$LM_TMP/pki
PKI2=$LM_TMP/pki2
LIVE=$LM_TMP/live
OFF=10000
"$LYNCMOCK" certs init --scenario "$SC" --out "$PKI" >"$LM_TMP/certs.out" 2>&1 ||
	{ cat "$LM_TMP/certs.out"; lm_fail "certs init"; }
# a second set of certificates from the same CA (certs init reuses it)
mkdir -m 700 "$PKI2"
cp -p "$PKI/ca.pem" "$PKI/ca.key" "$PKI2/"
"$LYNCMOCK" certs init --scenario "$SC" --out "$PKI2" >"$LM_TMP/certs2.out" 2>&1 ||
	{ cat "$LM_TMP/certs2.out"; lm_fail "certs init (second)"; }
mkdir -m 700 "$LIVE"
cp -p "$PKI/dir01.pem" "$PKI/dir01.key" "$LIVE/"

fp() { # the SHA-256 fingerprint of the certificate PORT serves
	openssl s_client -connect "127.0.5.1:$1" -servername dirpool.contoso.local </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}
fp_file() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
probe_ok() {
	"$LYNCMOCK" probe --scenario "$SC" --host edge01 --certs "$PKI" --port-offset "$OFF" \
		>"$LM_TMP/probe.out" 2>&1 || { cat "$LM_TMP/probe.out"; lm_fail "probe failed: $1"; }
}
hup() { # sends SIGHUP, waits for the Nth reload log line
	local want=$(($(grep -c 'SIGHUP:' "$LM_TMP/dir.log") + 1)) n=0
	kill -HUP "$LPID"
	while [ "$(grep -c 'SIGHUP:' "$LM_TMP/dir.log")" -lt "$want" ] && [ "$n" -lt 100 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	[ "$n" -lt 100 ] || lm_fail "no log line after SIGHUP"
	grep 'SIGHUP:' "$LM_TMP/dir.log" | tail -1
}

# --- a group-readable key is refused at start, clearly
chmod 640 "$LIVE/dir01.key"
rc=0
"$LYNCMOCK" listen --scenario "$SC" --host dir01 --ca "$PKI/ca.pem" --cert "$LIVE/dir01.pem" \
	--key "$LIVE/dir01.key" --port-offset "$OFF" >"$LM_TMP/perm.out" 2>"$LM_TMP/perm.err" || rc=$?
[ "$rc" -eq 2 ] || lm_fail "listen with a 0640 key: exit $rc, want 2"
grep -q 'private key is accessible to group/others (mode 0640); refusing it (run: chmod 600' \
	"$LM_TMP/perm.err" || lm_fail "listen 0640 key: $(cat "$LM_TMP/perm.err")"
echo "listen, key 0640: $(cat "$LM_TMP/perm.err")"
cp -p "$PKI/edge01.key" "$LM_TMP/edge01.key" && chmod 604 "$LM_TMP/edge01.key"
rc=0
"$LYNCMOCK" probe --scenario "$SC" --host edge01 --certs "$PKI" --key "$LM_TMP/edge01.key" \
	--cert "$PKI/edge01.pem" --port-offset "$OFF" >"$LM_TMP/perm.out" 2>"$LM_TMP/perm.err" || rc=$?
[ "$rc" -eq 2 ] || lm_fail "probe with a 0604 key: exit $rc, want 2 ($(cat "$LM_TMP/perm.err"))"
grep -q 'private key is accessible to group/others (mode 0604)' "$LM_TMP/perm.err" ||
	lm_fail "probe 0604 key: $(cat "$LM_TMP/perm.err")"
echo "probe, key 0604: $(cat "$LM_TMP/perm.err")"
chmod 600 "$LIVE/dir01.key"

"$LYNCMOCK" listen --scenario "$SC" --host dir01 --ca "$PKI/ca.pem" --cert "$LIVE/dir01.pem" \
	--key "$LIVE/dir01.key" --port-offset "$OFF" --log "$LM_TMP/dir.log" \
	>"$LM_TMP/dir.out" 2>"$LM_TMP/dir.err" &
LPID=$!
lm_track "$LPID"
lm_wait_for "$LM_TMP/dir.out" '^ready ' 200
old=$(fp_file "$PKI/dir01.pem")
new=$(fp_file "$PKI2/dir01.pem")
[ "$old" != "$new" ] || lm_fail "the second certificate is not a new one"
[ "$(fp 14443)" = "$old" ] || lm_fail "the listener does not serve its certificate"
probe_ok "at start"

# --- files removed while running: nothing changes
rm -f "$LIVE/dir01.pem" "$LIVE/dir01.key"
[ "$(fp 14443)" = "$old" ] || lm_fail "files removed: another certificate served"
probe_ok "files removed"
# --- replaced by garbage: nothing changes until SIGHUP, then the old ones stay
echo garbage >"$LIVE/dir01.pem"
echo garbage >"$LIVE/dir01.key"
chmod 600 "$LIVE/dir01.key"
probe_ok "files replaced by garbage"
line=$(hup)
echo "SIGHUP with garbage: $line"
echo "$line" | grep -q 'certificates not reloaded (keeping the old ones): .*cannot load the chain' ||
	lm_fail "SIGHUP with garbage: $line"
[ "$(fp 14443)" = "$old" ] && [ "$(fp 15061)" = "$old" ] || lm_fail "SIGHUP with garbage: the old certificate is gone"
probe_ok "after SIGHUP with garbage"
# --- removed, then SIGHUP: the old ones stay
rm -f "$LIVE/dir01.pem" "$LIVE/dir01.key"
line=$(hup)
echo "SIGHUP with no files: $line"
echo "$line" | grep -q 'not reloaded (keeping the old ones): .*No such file or directory' ||
	lm_fail "SIGHUP with no files: $line"
probe_ok "after SIGHUP with no files"
# --- a new valid certificate, but its key world-readable: refused
cp "$PKI2/dir01.pem" "$LIVE/dir01.pem"
cp "$PKI2/dir01.key" "$LIVE/dir01.key"
chmod 644 "$LIVE/dir01.key"
line=$(hup)
echo "SIGHUP with a 0644 key: $line"
echo "$line" | grep -q 'not reloaded (keeping the old ones): .*mode 0644); refusing it' ||
	lm_fail "SIGHUP with a 0644 key: $line"
[ "$(fp 14443)" = "$old" ] || lm_fail "SIGHUP 0644 key: certificate changed"
# --- the same, key 0600: reloaded, served on every TLS port, probes pass
chmod 600 "$LIVE/dir01.key"
line=$(hup)
echo "SIGHUP with a new valid certificate: $line"
echo "$line" | grep -q 'SIGHUP: certificates reloaded' || lm_fail "SIGHUP valid: $line"
for port in 14443 10443 15061 60001; do
	got=$(fp "$port")
	[ "$got" = "$new" ] || lm_fail "port $port serves $got after the reload, want $new"
done
probe_ok "after the reload"
echo "served fingerprint: before ${old:0:23}..., after SIGHUP ${new:0:23}..."
kill -TERM "$LPID"
wait "$LPID" || lm_fail "listener exit status $?"
echo "PASS"
