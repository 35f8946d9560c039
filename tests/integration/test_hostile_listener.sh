#!/usr/bin/env bash
# Hostile clients (tests/hostile/lm_hostile) against one `lyncmock listen`
# with a listener of every kind, on 127.0.5.0/24. For each attack, running in
# the background: a normal `lyncmock probe` of every listener of the host
# still passes, within PROBE_MAX_MS; the listener's resident memory stays
# under RSS_MAX_KB; afterwards it serves normally. Prints a table: case,
# probe latency during the attack (baseline first), listener peak RSS,
# connections the listener held (its descriptors beyond the idle count).
source "$LM_SOURCE_DIR/tests/integration/lib.sh"

HOSTILE=${LM_BUILD_DIR:?LM_BUILD_DIR must point at the build directory}/tests/hostile/lm_hostile
[ -x "$HOSTILE" ] || lm_fail "$HOSTILE is not built"
SC=$LM_SOURCE_DIR/tests/hostile/hostile-lab.yaml
PKI=$LM_TMP/pki
OFF=10000
DIR=127.0.5.1
SRC=127.0.5.100 # the attacker's source address (probes come from .3 and .10)
PROBE_MAX_MS=2500
# the stated bound: 64 MiB resident. ASan builds: shadow memory and the
# freed-memory quarantine add to it; a 32 MiB quarantine keeps the figure
# about the listener (bound 512 MiB there)
RSS_MAX_KB=$((64 * 1024))
if ldd "$LYNCMOCK" 2>/dev/null | grep -q libasan; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=32"
	RSS_MAX_KB=$((512 * 1024))
	PROBE_MAX_MS=5000
fi

# the defaults this test relies on (and documents) are what --help states
"$LYNCMOCK" listen --help >"$LM_TMP/help.txt" 2>&1
for d in 'connections per listener (1024)' 'per source address per listener (256)' \
	'largest request or SIP message (65536)' 'TLS handshake deadline (10000)' \
	'before a connection is closed (60000)' 'lowest TLS version accepted (1.2)'; do
	grep -qF "$d" "$LM_TMP/help.txt" || lm_fail "listen --help does not state: $d"
done
"$LYNCMOCK" certs init --scenario "$SC" --out "$PKI" >"$LM_TMP/certs.out" 2>&1 ||
	{ cat "$LM_TMP/certs.out"; lm_fail "certs init"; }
# short handshake/idle timeouts keep the test short; caps and sizes are the defaults
"$LYNCMOCK" listen --scenario "$SC" --host dir01 --certs "$PKI" --port-offset "$OFF" \
	--handshake-timeout 2000 --idle-timeout 3000 --log "$LM_TMP/dir.log" \
	>"$LM_TMP/dir.out" 2>"$LM_TMP/dir.err" &
LPID=$!
lm_track "$LPID"
lm_wait_for "$LM_TMP/dir.out" '^ready ' 200
FD_IDLE=$(ls /proc/$LPID/fd | wc -l)

# Probes every listener of dir01 (4 from edge01, 2 from rp01); prints the wall ms.
probe_all() {
	local t0 t1 rc=0
	t0=$(date +%s%N)
	"$LYNCMOCK" probe --scenario "$SC" --host edge01 --certs "$PKI" --port-offset "$OFF" \
		--format json --output "$LM_TMP/p1.json" 2>"$LM_TMP/p1.err" || rc=1
	"$LYNCMOCK" probe --scenario "$SC" --host rp01 --certs "$PKI" --port-offset "$OFF" \
		--format json --output "$LM_TMP/p2.json" 2>"$LM_TMP/p2.err" || rc=1
	t1=$(date +%s%N)
	if [ "$rc" -ne 0 ]; then
		python3 -c 'import json,sys
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        print(r["rule"] if "rule" in r else r.get("rule_id"), r["outcome"], r.get("detail"))' \
			"$LM_TMP/p1.json" "$LM_TMP/p2.json" >&2 2>/dev/null
		cat "$LM_TMP/p1.err" "$LM_TMP/p2.err" >&2
		return 1
	fi
	echo $(((t1 - t0) / 1000000))
}

# Samples the listener's VmRSS and descriptors until $1 exists (bounded: 60 s).
sampler() {
	local stop=$1 out=$2 peak=0 fdpeak=0 n=0 rss fds
	while [ ! -e "$stop" ] && [ "$n" -lt 1200 ]; do
		rss=$(awk '/^VmRSS:/{print $2}' /proc/$LPID/status 2>/dev/null)
		fds=$(ls /proc/$LPID/fd 2>/dev/null | wc -l)
		[ "${rss:-0}" -gt "$peak" ] && peak=$rss
		[ "$fds" -gt "$fdpeak" ] && fdpeak=$fds
		n=$((n + 1))
		sleep 0.05
	done
	echo "$peak $fdpeak" >"$out"
}

base_ms=$(probe_all) || lm_fail "baseline probe failed"
base2=$(probe_all) || lm_fail "baseline probe failed"
[ "$base2" -lt "$base_ms" ] && base_ms=$base2
ROWS=("$(printf '%-22s %10s %12s %10s  %s' CASE PROBE_MS PEAK_RSS_KB HELD ATTACK)")
ROWS+=("$(printf '%-22s %10s %12s %10s  %s' baseline "$base_ms" \
	"$(awk '/^VmRSS:/{print $2}' /proc/$LPID/status)" 0 "-")")

MTLS=(--cert "$PKI/edge01.pem" --key "$PKI/edge01.key" --sni dirpool.contoso.local)
# run_case NAME CHECK -- lm_hostile args...: CHECK is a python expression on
# the tool's result line (dict r, numbers as int) that must hold
run_case() {
	local name=$1 check=$2 ms peak fdpeak held res
	shift 3
	rm -f "$LM_TMP/stop" "$LM_TMP/sample"
	sampler "$LM_TMP/stop" "$LM_TMP/sample" &
	local spid=$!
	lm_track "$spid"
	"$HOSTILE" "$@" >"$LM_TMP/$name.hostile" 2>&1 &
	local hpid=$!
	lm_track "$hpid"
	lm_wait_for "$LM_TMP/$name.hostile" '^attacking ' 400
	ms=$(probe_all) || lm_fail "$name: the probe failed during the attack"
	wait "$hpid" || lm_fail "$name: lm_hostile failed: $(cat "$LM_TMP/$name.hostile")"
	touch "$LM_TMP/stop"
	wait "$spid"
	read -r peak fdpeak <"$LM_TMP/sample"
	kill -0 "$LPID" 2>/dev/null || lm_fail "$name: the listener died"
	res=$(grep '^result ' "$LM_TMP/$name.hostile")
	held=$((fdpeak - FD_IDLE))
	[ "$held" -lt 0 ] && held=0
	[ "$ms" -le "$PROBE_MAX_MS" ] || lm_fail "$name: probe took $ms ms during the attack (max $PROBE_MAX_MS)"
	[ "$peak" -le "$RSS_MAX_KB" ] || lm_fail "$name: listener RSS peaked at $peak kB (max $RSS_MAX_KB)"
	python3 - "$res" "$check" <<'PY' || lm_fail "$name: check failed: $check ($res)"
import re, sys
r = {k: (int(v) if v.isdigit() else v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', sys.argv[1])}
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
	ROWS+=("$(printf '%-22s %10s %12s %10s  %s' "$name" "$ms" "$peak" "$held" \
		"$(echo "$res" | sed 's/^result //; s/ first_reply.*//; s/ elapsed_ms=[0-9]*//')")")
}

# garbage on a TLS port: every connection is closed by the listener
run_case random-bytes 'r["opened"] > 100 and r["closed_by_peer"] >= r["opened"] - 10' -- \
	random-bytes --addr $DIR --port 15061 --src $SRC --count 20000 --seconds 3
# half a ClientHello, then silence: cut at the 2 s handshake timeout
run_case half-clienthello 'r["opened"] == 500 and r["closed_by_peer"] == 500' -- \
	half-clienthello --addr $DIR --port 14443 --src $SRC --count 500 --seconds 3.5
# one byte a second of a SIP header: cut when the message is not complete
# within the 3 s idle timeout (the per-read idle timer never fires)
run_case slowloris-sip 'r["max_open"] == 50 and r["closed_by_peer"] == 50 and r["open_at_end"] == 0' -- \
	slowloris-sip --addr $DIR --port 15061 --src $SRC --conns 50 --interval-ms 1000 --seconds 6 "${MTLS[@]}"
# the same on http: a request head must be complete within the idle timeout
run_case slowloris-http 'r["max_open"] == 50 and r["closed_by_peer"] == 50 and r["open_at_end"] == 0' -- \
	slowloris-http --addr $DIR --port 18080 --src $SRC --conns 50 --interval-ms 1000 --seconds 6
# pipelined requests, answers never read: reading stops, memory stays flat
run_case never-read-sip 'r["sent"] > 1000000' -- \
	never-read --addr $DIR --port 15061 --src $SRC --conns 16 --seconds 3 "${MTLS[@]}"
run_case never-read-http 'r["sent"] > 1000000' -- \
	never-read --http --addr $DIR --port 18080 --src $SRC --conns 16 --seconds 3
# Content-Length: 2147483648: refused (400/513) and closed, never buffered
run_case sip-huge-cl 'r["replies"] == r["opened"] == 20 and re.match(r"SIP/2.0 (400|513) ", r["first_reply"])' -- \
	sip-huge-cl --addr $DIR --port 15061 --src $SRC --count 20 --seconds 5 "${MTLS[@]}"
# 10,000 idle connections from one source: the default per-source cap (256)
# holds the listener's share; the rest are closed at once
run_case idle-flood-10000 'r["opened"] + r["failed"] == 10000 and r["opened"] > 5000' -- \
	idle-flood --addr $DIR --port 15061 --src $SRC --count 10000 --seconds 4
held_flood=$(echo "${ROWS[-1]}" | awk '{print $4}')
# 256 from the flood, plus the probes' and the previous cases' lingering ones;
# without the per-source cap it would be max-conns (1024). The 256 cut at the
# 2 s handshake timeout leave the cap at once, but libevent closes their
# sockets a loop turn later (a freed bufferevent is finalized then), so for a
# moment the next 256 and the last ones are both descriptors: up to twice the
# cap (the ASan build has shown 353-425, the normal one 257)
[ "$held_flood" -le 600 ] || lm_fail "idle flood: listener held $held_flood connections (per-source cap 256)"
grep -q 'outcome="listener full: cap reached: 256 connections from this source"' "$LM_TMP/dir.log" ||
	lm_fail "idle flood: the default per-source cap did not act"
# new TLS handshakes as fast as two processes can make them
run_case tls-burst 'r["replies"] > 200' -- \
	tls-burst --addr $DIR --port 14443 --src 127.0.5.100-139 --count 20000 --parallel 2 --seconds 3

after=$(probe_all) || lm_fail "the probe failed after the attacks"
ROWS+=("$(printf '%-22s %10s %12s %10s  %s' after "$after" \
	"$(awk '/^VmRSS:/{print $2}' /proc/$LPID/status)" 0 "-")")
hwm=$(awk '/^VmHWM:/{print $2}' /proc/$LPID/status)
kill -TERM "$LPID"
wait "$LPID" || lm_fail "listener exit status $? after SIGTERM"

# http slowloris ends on the same stream path as SIP: one message, one timeout
grep -q 'http port=18080 .*outcome="timeout: message incomplete after 3000 ms' "$LM_TMP/dir.log" ||
	lm_fail "no log line for the http slowloris"
for why in 'timeout: no TLS handshake within 2000 ms' 'timeout: message incomplete after 3000 ms'; do
	grep -q "outcome=\"$why" "$LM_TMP/dir.log" || lm_fail "no log line for: $why"
done
echo
printf '%s\n' "${ROWS[@]}"
echo "listener VmHWM over the whole run: $hwm kB (bound $RSS_MAX_KB kB); probe bound $PROBE_MAX_MS ms"
echo "PASS"
