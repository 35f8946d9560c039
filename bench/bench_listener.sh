#!/usr/bin/env bash
# Micro benchmark of the listener: TLS handshakes/s (openssl s_time -new) and
# HTTP/HTTPS requests/s (ab, keep-alive, 16 concurrent) of `lyncmock listen`
# (dir01's http 8080 and https 443 listeners) side by side with nginx (one
# worker, like lyncmock's one event loop; same certificate, same loopback
# range 127.0.3.0/24, ports > 1024). Not run by CI.
#   usage: bench/bench_listener.sh [LYNCMOCK] [SECONDS]
# Needs: openssl, ab (apache2-utils), nginx (nginx-light), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
LYNCMOCK=${1:-${LYNCMOCK:-build/lyncmock}}
SECS=${2:-5}
REQS=${BENCH_REQUESTS:-100000}
RUNS=${BENCH_RUNS:-3}
# With 2+ CPUs the servers run on the last CPU and the clients on the others,
# so a server never waits for its own client's CPU (BENCH_PIN=0: no pinning).
ncpu=$(nproc)
srv=() cli=()
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	srv=(taskset -c $((ncpu - 1)))
	cli=(taskset -c 0-$((ncpu - 2)))
fi
for c in openssl ab nginx curl; do
	command -v "$c" >/dev/null || { echo "bench: $c is not installed" >&2; exit 2; }
done
[ -x "$LYNCMOCK" ] || { echo "bench: $LYNCMOCK is not built" >&2; exit 2; }

tmp=$(mktemp -d /tmp/lmbench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

scenario=tests/fixtures/listen-lab.yaml
"$LYNCMOCK" certs init --scenario "$scenario" --out "$tmp/pki" >/dev/null

# lyncmock: dir01 on 127.0.3.1, ports + 20000 (8080 -> 28080, 443 -> 20443)
"${srv[@]}" "$LYNCMOCK" listen --scenario "$scenario" --host dir01 --certs "$tmp/pki" --port-offset 20000 \
	--log "$tmp/lyncmock.log" >"$tmp/ready" 2>"$tmp/lyncmock.err" &
pids+=($!)
lm_pid=$! # taskset execs the command
for _ in $(seq 200); do grep -q '^ready' "$tmp/ready" && break; sleep 0.05; done
grep -q '^ready' "$tmp/ready" || { cat "$tmp/lyncmock.err"; exit 1; }

# nginx on 127.0.3.5, one worker, the same certificate and key, and an
# answer as long as lyncmock's with the same headers (the identity JSON is
# ~300 bytes over http, ~500 over https: each port gets its own length)
mkdir -p "$tmp/nginx/logs"
pad() { # BYTES -> a JSON body of that length
	python3 -c "import sys; n = int(sys.argv[1]) - 30; print('{\"service\":\"nginx\",\"pad\":\"' + 'x' * max(n, 0) + '\"}', end='')" "$1"
}
lm_len() { curl -sk -o /dev/null -w '%{size_download}' "$1"; }
body_http=$(pad "$(lm_len 'http://127.0.3.1:28080/lyncmock/probe?token=b')")
body_https=$(pad "$(lm_len 'https://127.0.3.1:20443/lyncmock/probe?token=b')")
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	keepalive_requests 100000;
	add_header Cache-Control no-store;
	add_header X-Content-Type-Options nosniff;
	default_type application/json;
	server {
		listen 127.0.3.5:21080;
		location / { return 200 '$body_http'; }
	}
	server {
		listen 127.0.3.5:21443 ssl;
		ssl_certificate $tmp/pki/dir01.pem;
		ssl_certificate_key $tmp/pki/dir01.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache off;
		ssl_session_tickets off;
		location / { return 200 '$body_https'; }
	}
}
CONF
"${srv[@]}" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx.err" &
pids+=($!)
# nginx prints no ready line: poll it, bounded
for _ in $(seq 200); do
	curl -s -o /dev/null --max-time 1 http://127.0.3.5:21080/ && break
	sleep 0.05
done
curl -s -o /dev/null --max-time 2 http://127.0.3.5:21080/ || { cat "$tmp/nginx.err"; exit 1; }
ng_pid=$(pgrep -P "${pids[-1]}" | head -n 1) # the one worker serves
[ -n "$ng_pid" ] || { echo "bench: no nginx worker" >&2; exit 1; }

# Each run also reads the server's CPU time (/proc/PID/schedstat, ns):
# throughput depends on the client and the machine's other load, CPU time
# per request is the server's own cost.
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
# s_time's own "real seconds" is whole seconds of time(2) and its loop ends
# at the first whole second past -time, so a run lasts SECS to SECS+1 s and
# its rate was off by up to 1/SECS: the wall time is measured here instead.
handshakes() { # PID HOST:PORT -> "handshakes/s server-CPU-us/handshake" (new session each time)
	local t0 t1 w0 w1
	t0=$(cpu_ns "$1")
	w0=$(date +%s%N)
	"${cli[@]}" openssl s_time -connect "$2" -new -time "$SECS" 2>/dev/null >"$tmp/stime"
	w1=$(date +%s%N)
	t1=$(cpu_ns "$1")
	awk -v d=$((t1 - t0)) -v w=$((w1 - w0)) '/connections in .* real seconds/ {printf "%.0f %.0f", $1 / (w / 1e9), ($1 > 0 ? d / 1000 / $1 : 0); exit}' "$tmp/stime"
}
requests() { # PID URL -> "requests/s server-CPU-us/request" (ab, keep-alive, 16 concurrent)
	local t0 t1
	t0=$(cpu_ns "$1")
	"${cli[@]}" ab -q -k -c 16 -n "$REQS" "$2" 2>/dev/null >"$tmp/ab"
	t1=$(cpu_ns "$1")
	awk -v d=$((t1 - t0)) -v n="$REQS" '/^Requests per second/ {printf "%.0f %.2f", $4, d / 1000 / n}' "$tmp/ab"
}
failed() { # URL -> failed requests reported by ab (must be 0)
	ab -q -k -c 16 -n 2000 "$1" 2>/dev/null | awk '/^Failed requests/ {print $3}'
}

echo "bench: lyncmock $("$LYNCMOCK" --version | head -n1); $(nginx -v 2>&1); $(openssl version)"
echo "bench: $SECS s per handshake run, $REQS requests per ab run, $(nproc) CPUs"
lm_url=http://127.0.3.1:28080/lyncmock/probe?token=b
lms_url=https://127.0.3.1:20443/lyncmock/probe?token=b
[ "$(failed "$lm_url")" = 0 ] || { echo "bench: lyncmock http failures" >&2; exit 1; }

# RUNS rounds, lyncmock and nginx alternately; each row gives the medians
# and the median of the per-round ratios
median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
declare -A got
for r in $(seq "$RUNS"); do
	got[hs_lm_$r]=$(handshakes "$lm_pid" 127.0.3.1:20443); got[hs_ng_$r]=$(handshakes "$ng_pid" 127.0.3.5:21443)
	got[http_lm_$r]=$(requests "$lm_pid" "$lm_url"); got[http_ng_$r]=$(requests "$ng_pid" http://127.0.3.5:21080/)
	got[https_lm_$r]=$(requests "$lm_pid" "$lms_url"); got[https_ng_$r]=$(requests "$ng_pid" https://127.0.3.5:21443/)
done
field() { # KEY SIDE N -> field N of every round
	for r in $(seq "$RUNS"); do echo "${got[${1}_${2}_$r]}" | cut -d' ' -f"$3"; done
}
ratios() { # KEY N INVERT -> per-round ratios lyncmock/nginx of field N (INVERT=1: nginx/lyncmock)
	for r in $(seq "$RUNS"); do
		awk -v a="$(echo "${got[${1}_lm_$r]}" | cut -d' ' -f"$2")" -v b="$(echo "${got[${1}_ng_$r]}" | cut -d' ' -f"$2")" -v inv="$3" \
			'BEGIN { if (inv) { t = a; a = b; b = t }; if (b > 0) printf "%.2f\n", a / b; else print 0 }'
	done
}
row() { # NAME KEY
	local rate cpu
	rate=$(ratios "$2" 1 0)
	cpu=$(ratios "$2" 2 1)
	printf '%-30s %9s %9s %6s   %-15s | %8s %8s %6s   %s\n' "$1" \
		"$(field "$2" lm 1 | median)" "$(field "$2" ng 1 | median)" "$(echo "$rate" | median)" "$(echo $rate)" \
		"$(field "$2" lm 2 | median)" "$(field "$2" ng 2 | median)" "$(echo "$cpu" | median)" "$(echo $cpu)"
}
printf '\n%-30s %9s %9s %6s   %-15s | %8s %8s %6s   %s\n' "rate (per second)" lyncmock nginx ratio "per round" "CPU us:lm" nginx ratio "per round"
row "TLS handshakes (s_time -new)" hs
row "HTTP requests (ab -k -c16)" http
row "HTTPS requests (ab -k -c16)" https
echo
echo "(medians of $RUNS rounds, lyncmock and nginx alternately; rate ratio = lyncmock / nginx; CPU: the"
echo " server's CPU time per handshake or request, ratio = nginx / lyncmock, so above 1 lyncmock costs less;"
echo " ${srv[*]:-no pinning} for the servers, ${cli[*]:-} for the clients; lyncmock's answers carry the"
echo " identity JSON, nginx's a body of the same length and the same headers)"
