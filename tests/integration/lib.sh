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
