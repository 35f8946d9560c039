#!/usr/bin/env bash
# Installs what lyncmock builds with and what its tests use as real peers
# (Debian 12 packages only). Run as root, or through sudo.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: run this as root" >&2; exit 1; }
	exec sudo -E bash "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential cmake pkg-config ca-certificates \
	libevent-dev libssl-dev libosip2-dev libyaml-dev libjansson-dev libxml2-dev libcmocka-dev \
	libhttp-parser-dev libcsv-dev \
	libgraphviz-dev chromium tidy \
	libnice-dev \
	libsystemd-dev systemd debhelper lintian scdoc ansible-core ansible-lint openssh-client \
	openssl curl sip-tester stunnel4 nmap nftables iptables iproute2 ethtool nginx-light \
	clang clang-format libclang-rt-14-dev valgrind strace graphviz libxml2-utils procps psmisc python3 >/dev/null
# coturn (a real STUN/TURN peer for the tests) ships a turnserver daemon: it must
# not start and sit on the machine's port 3478 (nor openssh-server's sshd on 22:
# the deploy tests start their own, inside namespaces). policy-rc.d 101 tells
# invoke-rc.d / deb-systemd-invoke not to start it; we add one only if none is there.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
rc=0
apt-get install -y -qq --no-install-recommends coturn openssh-server >/dev/null || rc=$?
[ "$made_policy" -eq 1 ] && rm -f "$policy"
[ "$rc" -eq 0 ] || exit "$rc"
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	systemctl disable --now coturn >/dev/null 2>&1 || true
fi
# started all the same (another init): stop that daemon by its own pid file
for pf in /run/turnserver/turnserver.pid /var/run/turnserver.pid; do
	if [ -s "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null; then
		echo "install-deps: stopping the turnserver coturn started (pid $(cat "$pf"))" >&2
		kill "$(cat "$pf")" || true
	fi
done
