#!/usr/bin/env bash
# The listener's system calls per keep-alive request, counted by strace: a
# plaintext request is one read and one write (no ioctl(FIONREAD) first, as
# libevent's evbuffer_read does), and no connection watches the socket for
# writability while it has nothing to send.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_cmd curl
lm_need_cmd strace
if ! strace -f -o /dev/null true 2>/dev/null; then
	echo "SKIP: strace cannot trace here (ptrace refused)"
	exit 77
fi
LIS_OFF=24000 # 8080 -> 32080, 443 -> 24443

lis_pki
lis_start dir dir01
N=40
urls=()
for i in $(seq "$N"); do urls+=("http://127.0.3.1:32080/lyncmock/probe?token=k$i"); done

# count_calls PID CMD...: runs CMD with strace -c attached to PID; prints the
# summary file's path
count_calls() {
	local pid=$1 out="$LM_TMP/strace.$RANDOM"
	shift
	strace -c -f -p "$pid" -o "$out" &
	local st=$!
	# strace prints nothing when attached: give it a moment, bounded
	sleep 0.5
	"$@" >/dev/null || lm_fail "client failed: $*"
	sleep 0.3
	kill -INT "$st"
	wait "$st" || true
	echo "$out"
}
calls() { # FILE SYSCALL -> its call count (0 when absent)
	awk -v s="$2" '$NF == s && !f {print $4; f = 1} END {if (!f) print 0}' "$1"
}

# what a process does once (jansson's hash seed, the time zone file, the
# log file's first write) is done before counting
curl -sS --max-time 5 -o /dev/null 'http://127.0.3.1:32080/lyncmock/probe?token=warm' ||
	lm_fail "warm-up request"
curl -sS -k --max-time 5 -o /dev/null 'https://127.0.3.1:24443/lyncmock/probe?token=warm' ||
	lm_fail "warm-up https request"

# one connection, N requests (curl reuses it)
f=$(count_calls "$LIS_PID" curl -sS --max-time 20 "${urls[@]}")
cat "$f"
ioctl=$(calls "$f" ioctl)
reads=$(($(calls "$f" read) + $(calls "$f" readv)))
writes=$(($(calls "$f" write) + $(calls "$f" writev)))
ctl=$(calls "$f" epoll_ctl)
echo "plaintext, $N requests on one connection: ioctl=$ioctl reads=$reads writes=$writes epoll_ctl=$ctl"
[ "$ioctl" -eq 0 ] || lm_fail "ioctl called $ioctl times for $N requests (want 0)"
# a read per request, the EOF's read and one EAGAIN at most; a write per
# request and the connection's log line
[ "$reads" -ge "$N" ] && [ "$reads" -le $((N + 2)) ] || lm_fail "$reads reads for $N requests"
[ "$writes" -ge "$N" ] && [ "$writes" -le $((N + 2)) ] || lm_fail "$writes writes for $N requests"
# the connection's read event on and off: no write watch
[ "$ctl" -le 3 ] || lm_fail "$ctl epoll_ctl calls for one plaintext connection (want <= 3)"

# https: the same, through OpenSSL (a request: one read, one write)
surls=()
for i in $(seq "$N"); do surls+=("https://127.0.3.1:24443/lyncmock/probe?token=s$i"); done
f=$(count_calls "$LIS_PID" curl -sS -k --max-time 20 "${surls[@]}")
ioctl=$(calls "$f" ioctl)
ctl=$(calls "$f" epoll_ctl)
writes=$(($(calls "$f" write) + $(calls "$f" writev)))
echo "https, $N requests on one connection: ioctl=$ioctl writes=$writes epoll_ctl=$ctl"
[ "$ioctl" -eq 0 ] || lm_fail "ioctl on https"
# the handshake's flight, N answers, close_notify at most, the log line
[ "$writes" -le $((N + 4)) ] || lm_fail "$writes writes for $N https requests"
# read watch on, re-armed after the handshake, off: never a write watch
[ "$ctl" -le 4 ] || lm_fail "$ctl epoll_ctl calls for one TLS connection (want <= 4)"
lis_stop "$LIS_PID"
echo "PASS"
