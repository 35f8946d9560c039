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
REQS=${BENCH_REQUESTS:-20000}
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

handshakes() { # HOST:PORT -> handshakes per second (new session each time)
	"${cli[@]}" openssl s_time -connect "$1" -new -time "$SECS" 2>/dev/null |
		awk '/connections in .* real seconds/ {printf "%.0f", $1 / $4; exit}'
}
requests() { # URL -> requests per second (ab, keep-alive, 16 concurrent)
	"${cli[@]}" ab -q -k -c 16 -n "$REQS" "$1" 2>/dev/null | awk '/^Requests per second/ {printf "%.0f", $4}'
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
	got[hs_lm_$r]=$(handshakes 127.0.3.1:20443); got[hs_ng_$r]=$(handshakes 127.0.3.5:21443)
	got[http_lm_$r]=$(requests "$lm_url"); got[http_ng_$r]=$(requests http://127.0.3.5:21080/)
	got[https_lm_$r]=$(requests "$lms_url"); got[https_ng_$r]=$(requests https://127.0.3.5:21443/)
done
row() { # NAME KEY
	local lm ng ratios
	lm=$(for r in $(seq "$RUNS"); do echo "${got[${2}_lm_$r]}"; done | median)
	ng=$(for r in $(seq "$RUNS"); do echo "${got[${2}_ng_$r]}"; done | median)
	ratios=$(for r in $(seq "$RUNS"); do
		awk -v a="${got[${2}_lm_$r]}" -v b="${got[${2}_ng_$r]}" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print 0 }'
	done)
	printf '%-32s %12s %12s %8s   %s\n' "$1" "$lm" "$ng" "$(echo "$ratios" | median)" "$(echo $ratios)"
}
printf '\n%-32s %12s %12s %8s   %s\n' metric lyncmock nginx ratio "per round"
row "TLS handshakes/s (s_time -new)" hs
row "HTTP requests/s (ab -k -c16)" http
row "HTTPS requests/s (ab -k -c16)" https
echo
echo "(medians of $RUNS rounds; ratio = lyncmock / nginx; ${srv[*]:-no pinning} for the servers, ${cli[*]:-} for the clients;"
echo " lyncmock's answers carry the identity JSON, nginx's a body of the same length and the same headers)"
