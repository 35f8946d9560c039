#!/usr/bin/env bash
# A full file system, as root in a private mount namespace (a 64 KiB tmpfs):
# `certs init` takes back what it wrote and the next run goes on; `probe`
# whose verdicts all pass but whose report cannot be written exits 2, not 1;
# `lab --output` into a missing directory or a read-only file system is
# refused before the run starts.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
source "$LM_SOURCE_DIR/tests/integration/listen_common.sh"
lm_need_root "a tmpfs in a private mount namespace"
lm_need_cmd unshare
LIS_OFF=22000

lis_pki
lis_start dir dir01
dir=$LIS_PID

cat >"$LM_TMP/inner.sh" <<'SH'
set -u
fs=$1 LYNCMOCK=$2 SCEN=$3 PKI=$4 OFF=$5
mount -t tmpfs -o size=64k,mode=0700 lmfull "$fs" || exit 10
# fill it up: writes now fail with ENOSPC, creating an empty file still works
head -c 1M /dev/zero >"$fs/fill" 2>/dev/null
rc=0; "$LYNCMOCK" certs init --scenario "$SCEN" --key ecdsa-p256 --out "$fs/pki" 2>"$fs/../certs.err" || rc=$?
echo "certs-rc=$rc"
echo "certs-left=$(ls "$fs/pki" 2>/dev/null | tr '\n' ' ')"
rm -f "$fs/fill"
rc=0; "$LYNCMOCK" certs init --scenario "$SCEN" --key ecdsa-p256 --out "$fs/pki" >/dev/null 2>&1 || rc=$?
echo "certs-again-rc=$rc"
rm -rf "$fs/pki"
head -c 1M /dev/zero >"$fs/fill" 2>/dev/null
rc=0; "$LYNCMOCK" probe --scenario "$SCEN" --host rp01 --certs "$PKI" --port-offset "$OFF" \
	--rule rp-dir-http --format json --output "$fs/report.json" 2>"$fs/../probe.err" || rc=$?
echo "probe-rc=$rc"
rm -f "$fs/fill"
mount -o remount,ro "$fs"
rc=0; timeout 20 "$LYNCMOCK" lab --output "$fs/lab.txt" 2>"$fs/../lab-ro.err" || rc=$?
echo "lab-ro-rc=$rc"
umount "$fs"
SH
mkdir -p "$LM_TMP/fs"
unshare -m --propagation private bash "$LM_TMP/inner.sh" "$LM_TMP/fs" "$LYNCMOCK" "$LIS_SCENARIO" \
	"$LIS_PKI" "$LIS_OFF" >"$LM_TMP/inner.out" 2>&1
cat "$LM_TMP/inner.out"
get() { sed -n "s/^$1=//p" "$LM_TMP/inner.out"; }
[ "$(get certs-rc)" = 1 ] || [ "$(get certs-rc)" = 2 ] || lm_fail "certs init on a full disk: rc $(get certs-rc)"
grep -q 'No space left' "$LM_TMP/certs.err" || { cat "$LM_TMP/certs.err"; lm_fail "certs init: no ENOSPC message"; }
echo "certs init on a full disk: $(head -n1 "$LM_TMP/certs.err")"
# nothing of the failed run is left: no ca.key without ca.pem, no temp files
[ -z "$(get certs-left | tr -d ' ')" ] || lm_fail "certs init left: $(get certs-left)"
[ "$(get certs-again-rc)" = 0 ] || lm_fail "certs init after freeing space: rc $(get certs-again-rc)"
echo "probe with every verdict OK but no room for its report: rc $(get probe-rc): $(tail -n1 "$LM_TMP/probe.err")"
[ "$(get probe-rc)" = 2 ] || lm_fail "probe that cannot write its report: want exit 2"
grep -q 'No space left' "$LM_TMP/probe.err" || lm_fail "probe: no ENOSPC message"
echo "lab --output on a read-only fs: rc $(get lab-ro-rc): $(cat "$LM_TMP/lab-ro.err")"
[ "$(get lab-ro-rc)" = 2 ] || lm_fail "lab --output on a read-only fs: want exit 2 at once"
grep -q 'Read-only file system' "$LM_TMP/lab-ro.err" || lm_fail "lab: no EROFS message"
grep -q 'lab: resources' "$LM_TMP/lab-ro.err" && lm_fail "lab started before checking --output"
# a missing directory, without root's namespaces even starting
rc=0; "$LYNCMOCK" lab --output "$LM_TMP/no/such/dir/r.txt" 2>"$LM_TMP/lab-missing.err" || rc=$?
echo "lab --output into a missing directory: rc $rc: $(cat "$LM_TMP/lab-missing.err")"
[ "$rc" = 2 ] && grep -q 'No such file or directory' "$LM_TMP/lab-missing.err" || lm_fail "lab --output missing dir"
lis_stop "$dir"
echo PASS
