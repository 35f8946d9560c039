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
"$LYNCMOCK" listen --scenario "$scenario" --host dir01 --certs "$tmp/pki" --port-offset 20000 \
	--log "$tmp/lyncmock.log" >"$tmp/ready" 2>"$tmp/lyncmock.err" &
pids+=($!)
for _ in $(seq 200); do grep -q '^ready' "$tmp/ready" && break; sleep 0.05; done
grep -q '^ready' "$tmp/ready" || { cat "$tmp/lyncmock.err"; exit 1; }

# nginx on 127.0.3.5, one worker, the same certificate and key
mkdir -p "$tmp/nginx/logs"
body='{"service":"nginx","host":"dir01","role":"director","listener":"https","token":"b"}'
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
	server {
		listen 127.0.3.5:21080;
		listen 127.0.3.5:21443 ssl;
		ssl_certificate $tmp/pki/dir01.pem;
		ssl_certificate_key $tmp/pki/dir01.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache off;
		ssl_session_tickets off;
		default_type application/json;
		location / { return 200 '$body'; }
	}
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx.err" &
pids+=($!)
# nginx prints no ready line: poll it, bounded
for _ in $(seq 200); do
	curl -s -o /dev/null --max-time 1 http://127.0.3.5:21080/ && break
	sleep 0.05
done
curl -s -o /dev/null --max-time 2 http://127.0.3.5:21080/ || { cat "$tmp/nginx.err"; exit 1; }

handshakes() { # HOST:PORT -> handshakes per second (new session each time)
	openssl s_time -connect "$1" -new -time "$SECS" 2>/dev/null |
		awk '/connections in .* real seconds/ {printf "%.0f", $1 / $4; exit}'
}
requests() { # URL -> requests per second (ab, keep-alive, 16 concurrent)
	ab -q -k -c 16 -n "$REQS" "$1" 2>/dev/null | awk '/^Requests per second/ {printf "%.0f", $4}'
}
failed() { # URL -> failed requests reported by ab (must be 0)
	ab -q -k -c 16 -n 2000 "$1" 2>/dev/null | awk '/^Failed requests/ {print $3}'
}

echo "bench: lyncmock $("$LYNCMOCK" --version | head -n1); $(nginx -v 2>&1); $(openssl version)"
echo "bench: $SECS s per handshake run, $REQS requests per ab run, $(nproc) CPUs"
lm_url=http://127.0.3.1:28080/lyncmock/probe?token=b
lms_url=https://127.0.3.1:20443/lyncmock/probe?token=b
[ "$(failed "$lm_url")" = 0 ] || { echo "bench: lyncmock http failures" >&2; exit 1; }

rows=()
lm=$(handshakes 127.0.3.1:20443); ng=$(handshakes 127.0.3.5:21443)
rows+=("TLS handshakes/s (s_time -new)|$lm|$ng")
lm=$(requests "$lm_url"); ng=$(requests http://127.0.3.5:21080/)
rows+=("HTTP requests/s (ab -k -c16)|$lm|$ng")
lm=$(requests "$lms_url"); ng=$(requests https://127.0.3.5:21443/)
rows+=("HTTPS requests/s (ab -k -c16)|$lm|$ng")

printf '\n%-32s %12s %12s %8s\n' metric lyncmock nginx ratio
for r in "${rows[@]}"; do
	IFS='|' read -r name a b <<<"$r"
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	printf '%-32s %12s %12s %8s\n' "$name" "$a" "$b" "$ratio"
done
echo
echo "(ratio = lyncmock / nginx; lyncmock's answers carry the identity JSON, ~400 bytes)"
