# Shared helpers for integration tests (sourced). Tests talk only to loopback or
# to namespaces they create, clean up what they start (by PID), and exit 77 to
# report a skip (CTest SKIP_RETURN_CODE), never a fake pass.
set -u
: "${LYNCMOCK:?LYNCMOCK must point at the lyncmock binary}"
: "${LM_SOURCE_DIR:?LM_SOURCE_DIR must point at the source tree}"

LM_TMP=$(mktemp -d /tmp/lmtest.XXXXXX)
LM_PIDS=()
LM_NETNS=()
lm_cleanup() {
	local p n
	for p in "${LM_PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null
	done
	for p in "${LM_PIDS[@]:-}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null
	done
	# lm_netns runs in $(...) subshells: its names are kept in a file, not only the array
	for n in "${LM_NETNS[@]:-}" $(cat "$LM_TMP/.netns" 2>/dev/null); do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	rm -rf "$LM_TMP"
}
trap lm_cleanup EXIT

lm_fail() { echo "FAIL: $*" >&2; exit 1; }
lm_skip() { echo "SKIP: $*" >&2; exit 77; }
lm_need_root() { [ "$(id -u)" -eq 0 ] || lm_skip "needs root (${1:-namespaces or ports < 1024})"; }
lm_need_cmd() { command -v "$1" >/dev/null 2>&1 || lm_fail "$1 is not installed (.ci/run installs it)"; }
# Remembers a background PID for cleanup: lm_track $!
lm_track() { LM_PIDS+=("$1"); }
# Creates a namespace this test owns (removed on exit); name gets a unique suffix.
lm_netns() {
	local n="lm$$-$1"
	ip netns add "$n" || lm_fail "ip netns add $n"
	LM_NETNS+=("$n")
	echo "$n" >>"$LM_TMP/.netns"
	echo "$n"
}
# Waits (bounded) until FILE contains PATTERN: readiness lines, never sleep-and-hope.
lm_wait_for() {
	local file=$1 pattern=$2 tries=${3:-100}
	while [ "$tries" -gt 0 ]; do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.05
		tries=$((tries - 1))
	done
	echo "--- $file ---" >&2; cat "$file" >&2 2>/dev/null
	lm_fail "timed out waiting for '$pattern' in $file"
}
# A client namespace and a target namespace behind a forwarding router namespace:
#   lm_routed TAG NET_P NET_T [P_HOSTS] [T_HOSTS]
# NET_* are /24 prefixes ("198.18.20"); the router is .254 on both; P_HOSTS/T_HOSTS
# are space-separated host numbers (default "1" and "2"). Sets NP NR NT (namespaces)
# and VP VRP VRT VT (veth names: client, router's client side, router's target side,
# target).
lm_routed() {
	local tag=$1 np=$2 nt=$3 hp=${4:-1} ht=${5:-2} h
	NP=$(lm_netns "${tag}p") NR=$(lm_netns "${tag}r") NT=$(lm_netns "${tag}t")
	LM_NETNS+=("$NP" "$NR" "$NT")
	VP=lm$$p VRP=lm$$rp VRT=lm$$rt VT=lm$$t
	ip link add "$VP" type veth peer name "$VRP" || lm_fail veth
	ip link add "$VT" type veth peer name "$VRT" || lm_fail veth
	ip link set "$VP" netns "$NP" && ip link set "$VRP" netns "$NR" || lm_fail "veth into $NP/$NR"
	ip link set "$VT" netns "$NT" && ip link set "$VRT" netns "$NR" || lm_fail "veth into $NT/$NR"
	for h in "$NP" "$NR" "$NT"; do ip -n "$h" link set lo up; done
	for h in $hp; do ip -n "$NP" addr add "$np.$h/24" dev "$VP" || lm_fail "addr $np.$h"; done
	for h in $ht; do ip -n "$NT" addr add "$nt.$h/24" dev "$VT" || lm_fail "addr $nt.$h"; done
	ip -n "$NR" addr add "$np.254/24" dev "$VRP" && ip -n "$NR" addr add "$nt.254/24" dev "$VRT" ||
		lm_fail "router addresses"
	for h in "$NP $VP" "$NR $VRP" "$NR $VRT" "$NT $VT"; do
		set -- $h
		ip -n "$1" link set "$2" up || lm_fail "link $2 up"
	done
	ip -n "$NP" route add default via "$np.254" || lm_fail "route in $NP"
	ip -n "$NT" route add default via "$nt.254" || lm_fail "route in $NT"
	ip netns exec "$NR" sysctl -qw net.ipv4.ip_forward=1 || lm_fail "ip_forward in $NR"
}
# One field of the result of RULE in report FILE: lm_result FILE RULE JQ-PATH
lm_result() { jq -r --arg r "$2" ".results[] | select(.rule == \$r) | $3" "$1"; }
# The result of RULE in FILE has OUTCOME, a detail matching DETAIL-RE and a fix matching FIX-RE:
#   lm_expect_result FILE RULE OUTCOME DETAIL-RE FIX-RE
lm_expect_result() {
	local o d f
	o=$(lm_result "$1" "$2" .outcome) d=$(lm_result "$1" "$2" .detail) f=$(lm_result "$1" "$2" .fix)
	[ "$o" = "$3" ] || lm_fail "$2: outcome $o, want $3 ($d)"
	grep -Eq -- "$4" <<<"$d" || lm_fail "$2: detail '$d' does not match /$4/"
	grep -Eq -- "$5" <<<"$f" || lm_fail "$2: fix '$f' does not match /$5/"
	echo "$2: $o: $d | $f"
}
# The head of a foreground nginx config whose pid, logs and temp files stay in $LM_TMP
# (run with -p "$LM_TMP/ngx"); the caller appends its server blocks and the closing brace.
lm_nginx_head() {
	mkdir -p "$LM_TMP/ngx" || lm_fail "mkdir $LM_TMP/ngx"
	cat <<CONF
daemon off;
master_process off;
pid $LM_TMP/nginx.pid;
error_log $LM_TMP/nginx.err;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $LM_TMP/ngx/b; proxy_temp_path $LM_TMP/ngx/p;
	fastcgi_temp_path $LM_TMP/ngx/f; uwsgi_temp_path $LM_TMP/ngx/u; scgi_temp_path $LM_TMP/ngx/s;
CONF
}
