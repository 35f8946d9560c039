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
	openssl curl sip-tester stunnel4 nmap nftables iptables iproute2 nginx-light \
	clang libclang-rt-14-dev valgrind graphviz libxml2-utils procps psmisc python3 >/dev/null
