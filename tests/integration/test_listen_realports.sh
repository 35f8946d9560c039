#!/usr/bin/env bash
# The real Lync ports (root): dir01 binds 80, 443, 4443, 5061, 8080 and
# edge01 50001-50003 on their scenario addresses (127.0.3.x); curl and
# openssl s_client reach them there.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_root "ports below 1024"
lm_need_cmd curl
lm_need_cmd openssl
LIS_OFF=0

lis_pki
lis_start dir dir01
dir=$LIS_PID
lis_expect "dir01 ready" "$(cat "$LM_TMP/dir.out")" "ready host=dir01 ports=80,443,4443,5061,8080"
lis_start edge edge01 --idle-timeout 1000
edge=$LIS_PID
lis_expect "edge01 ready" "$(cat "$LM_TMP/edge.out")" "ready host=edge01 ports=50001,50002,50003"

out=$(curl -sS --max-time 5 --interface 127.0.3.11 'http://127.0.3.1/lyncmock/probe?token=r80') ||
	lm_fail "curl :80"
echo "curl :80: $out"
grep -q '"listener":"http","port":80,"local":"127.0.3.1:80","peer":"127.0.3.11:' <<<"$out" ||
	lm_fail "identity on port 80"
out=$(curl -sS --max-time 5 --interface 127.0.3.11 --cacert "$LIS_PKI/ca.pem" \
	--resolve dirpool.contoso.local:443:127.0.3.1 'https://dirpool.contoso.local/lyncmock/probe?token=r443') ||
	lm_fail "curl :443"
grep -q '"listener":"https","port":443,.*"token":"r443"' <<<"$out" || lm_fail "identity on port 443"
out=$(printf 'LYNCMOCK PROBE r50001\r\n' | timeout 10 openssl s_client -quiet -connect 127.0.3.3:50001 \
	-CAfile "$LIS_PKI/ca.pem" -cert "$LIS_PKI/rp01.pem" -key "$LIS_PKI/rp01.key" 2>/dev/null | head -n1)
echo "s_client :50001: $out"
grep -q '"listener":"cls-mtls","port":50001,.*"token":"r50001"' <<<"$out" || lm_fail "identity on port 50001"
lis_stop "$dir"
lis_stop "$edge"
echo "PASS"
