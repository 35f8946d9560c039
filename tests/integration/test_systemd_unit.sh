#!/usr/bin/env bash
# lyncmock-listen@.service: `systemd-analyze verify` and `security` (offline)
# on the unit as shipped, then its ExecStart run the way the unit runs it:
# as an unprivileged user holding only CAP_NET_BIND_SERVICE (ambient, bounding
# set, no_new_privs), with $NOTIFY_SOCKET set, in a namespace that has dir01's
# address. READY=1 must come once every port (80, 443, 444 ... below 1024
# included) is bound; SIGHUP (ExecReload) must give RELOADING=1 then READY=1
# and reload the certificates; SIGTERM STOPPING=1 and exit 0.
. "$(dirname "$0")/lib.sh"
lm_need_root "namespaces, setpriv"
for c in systemd-analyze setpriv curl ss; do lm_need_cmd "$c"; done
unit="$LM_SOURCE_DIR/deploy/systemd/lyncmock-listen@.service"

# verify needs the ExecStart binary: a copy of the unit pointing at this build
mkdir -p "$LM_TMP/units"
sed "s|/usr/bin/lyncmock|$LYNCMOCK|" "$unit" >"$LM_TMP/units/lyncmock-listen@dir01.service"
systemd-analyze verify --man=no "$LM_TMP/units/lyncmock-listen@dir01.service" >"$LM_TMP/verify" 2>&1 ||
	{ cat "$LM_TMP/verify"; lm_fail "systemd-analyze verify"; }
[ -s "$LM_TMP/verify" ] && { cat "$LM_TMP/verify"; lm_fail "systemd-analyze verify printed warnings"; }
# exposure 0.0 (locked down) .. 10.0 (none); the unit must stay at 2.0 or below
systemd-analyze security --offline=yes --threshold=20 "$LM_TMP/units/lyncmock-listen@dir01.service" \
	>"$LM_TMP/security" 2>&1 || { cat "$LM_TMP/security"; lm_fail "systemd-analyze security: exposure above 2.0"; }
grep 'Overall exposure level' "$LM_TMP/security"

key() { sed -n "s/^$1=//p" "$unit"; }
[ "$(key Type)" = notify ] || lm_fail "unit is not Type=notify"
[ "$(key AmbientCapabilities)" = CAP_NET_BIND_SERVICE ] || lm_fail "AmbientCapabilities"
[ "$(key CapabilityBoundingSet)" = CAP_NET_BIND_SERVICE ] || lm_fail "CapabilityBoundingSet"
[ "$(key NoNewPrivileges)" = yes ] || lm_fail "NoNewPrivileges"
[ "$(key ProtectSystem)" = strict ] || lm_fail "ProtectSystem"
[ "$(key User)" = lyncmock ] || lm_fail "User"
[ "$(key ExecReload)" = '/bin/kill -HUP $MAINPID' ] || lm_fail "ExecReload"
key SystemCallFilter | grep -qx '@system-service' || lm_fail "SystemCallFilter=@system-service"

if [ -d /run/systemd/system ]; then
	echo "note: systemd is PID 1 here, but this test does not start units on the host;" \
		"the ExecStart check below stands in for it"
else
	echo "SKIP (part): PID 1 is $(cat /proc/1/comm), not systemd: the unit is not started by" \
		"systemd; its ExecStart runs below with the unit's user, capabilities and notify socket"
fi

# the unit's user is the package's static lyncmock user; without the package, nobody
user=lyncmock
getent passwd lyncmock >/dev/null || user=nobody
group=$(id -gn "$user")
chmod 711 "$LM_TMP"
"$LYNCMOCK" scenario dump single-director >"$LM_TMP/scenario.yaml"
"$LYNCMOCK" certs init --scenario "$LM_TMP/scenario.yaml" --out "$LM_TMP/pki" --key ecdsa-p256 >/dev/null ||
	lm_fail "certs init"
chown -R "$user:$group" "$LM_TMP/pki"
chmod 700 "$LM_TMP/pki"

ns=$(lm_netns unit)
ip -n "$ns" link set lo up
ip -n "$ns" addr add 198.18.1.10/32 dev lo

# a notify socket like systemd's: one line per datagram into a file
/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".bound", "w").close()
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        f.flush()' "$LM_TMP/notify" "$LM_TMP/notify.log" &
lm_track $!
for _ in $(seq 100); do [ -e "$LM_TMP/notify.bound" ] && break; sleep 0.05; done
[ -e "$LM_TMP/notify.bound" ] || lm_fail "the notify socket did not come up"
chmod 666 "$LM_TMP/notify"

# the unit's ExecStart with this test's paths and %i = dir01
cmdline=$(key ExecStart | sed -e "s|%i|dir01|g" -e "s|/usr/bin/lyncmock|$LYNCMOCK|" \
	-e "s|/etc/lyncmock/scenario.yaml|$LM_TMP/scenario.yaml|" -e "s|/etc/lyncmock/pki|$LM_TMP/pki|")
echo "ExecStart: $cmdline"
# shellcheck disable=SC2086
ip netns exec "$ns" env NOTIFY_SOCKET="$LM_TMP/notify" \
	setpriv --reuid "$user" --regid "$group" --clear-groups \
	--inh-caps -all,+net_bind_service --ambient-caps +net_bind_service \
	--bounding-set -all,+net_bind_service --no-new-privs -- \
	$cmdline >"$LM_TMP/out" 2>"$LM_TMP/err" &
pid=$!
lm_track "$pid"
lm_wait_for "$LM_TMP/notify.log" "READY=1" 200
# every port the ready line names is bound by the time READY=1 arrived
ports=$(sed -n 's/^ready host=dir01 ports=//p' "$LM_TMP/out")
[ -n "$ports" ] || { cat "$LM_TMP/out" "$LM_TMP/err"; lm_fail "no ready line"; }
bound=$(ip netns exec "$ns" ss -Hltn | awk '{ n = split($4, a, ":"); print a[n] }' | sort -n | paste -sd,)
for p in ${ports//,/ }; do
	echo ",$bound," | grep -q ",$p," || lm_fail "port $p not bound at READY=1 (bound: $bound)"
done
echo "READY=1 with ports $ports bound"
grep -q 'STATUS=ready host=dir01' "$LM_TMP/notify.log" || lm_fail "no STATUS= with the ready line"
echo ",$ports," | grep -q ',80,' && echo ",$ports," | grep -q ',443,' || lm_fail "dir01 should listen on 80 and 443"

# the process: the unit's user, CAP_NET_BIND_SERVICE (bit 10) only, no_new_privs
st=/proc/$pid/status
[ "$(awk '/^Uid:/ { print $2 }' "$st")" = "$(id -u "$user")" ] || lm_fail "not running as $user"
[ "$(awk '/^CapEff:/ { print $2 }' "$st")" = 0000000000000400 ] || lm_fail "CapEff is $(awk '/^CapEff:/ { print $2 }' "$st")"
[ "$(awk '/^NoNewPrivs:/ { print $2 }' "$st")" = 1 ] || lm_fail "no_new_privs not set"
ip netns exec "$ns" curl -sS --max-time 5 "http://198.18.1.10:80/lyncmock/probe?token=unit-t1" >"$LM_TMP/id.json" ||
	lm_fail "curl port 80"
grep -q '"host":"dir01"' "$LM_TMP/id.json" && grep -q 'unit-t1' "$LM_TMP/id.json" ||
	{ cat "$LM_TMP/id.json"; lm_fail "port 80 identity"; }

# ExecReload: SIGHUP -> RELOADING=1, certificates reloaded, READY=1 again
kill -HUP "$pid"
lm_wait_for "$LM_TMP/err" "certificates reloaded" 200
lm_wait_for "$LM_TMP/notify.log" "RELOADING=1" 100
for _ in $(seq 100); do [ "$(tail -n 1 "$LM_TMP/notify.log")" = "READY=1" ] && break; sleep 0.05; done
[ "$(tail -n 1 "$LM_TMP/notify.log")" = "READY=1" ] || { cat "$LM_TMP/notify.log"; lm_fail "no READY=1 after RELOADING=1"; }

# stop: STOPPING=1, exit 0
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] || { cat "$LM_TMP/err"; lm_fail "listen exited $rc on SIGTERM"; }
grep -q "STOPPING=1" "$LM_TMP/notify.log" || lm_fail "no STOPPING=1"
echo "notify messages:"; sed 's/^/  /' "$LM_TMP/notify.log"
echo "PASS: unit verified, exposure $(sed -n 's/.*Overall exposure level[^:]*: \([0-9.]*\).*/\1/p' "$LM_TMP/security"), ExecStart serves as $user with CAP_NET_BIND_SERVICE only"
