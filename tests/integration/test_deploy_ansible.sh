#!/usr/bin/env bash
# The Ansible playbook (deploy/ansible/site.yml) for real over SSH: builds the
# .deb, brings up one network namespace per director-pool host (8, each with its
# own sshd on its scenario address, behind a firewall namespace with the
# scenario's nft rules), and runs the playbook from a controller namespace.
# single-director and director-pool must pass on every path, a DROP added in
# the firewall must show up in the merged report as that path filtered (and
# fail the run), --check must change nothing, and --tags teardown must leave no
# listener, file, package or user behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy_lib.sh"
lm_need_root "namespaces, dpkg -i"
for c in ansible-playbook /usr/sbin/sshd dpkg-buildpackage lintian nft xmllint; do lm_need_cmd "$c"; done
/usr/bin/python3 -c 'import yaml' 2>/dev/null || lm_fail "python3-yaml is not installed (ansible-core brings it)"
grep -qs '^LM_SANITIZE:BOOL=ON' "${LM_BUILD_DIR:-}/CMakeCache.txt" &&
	lm_skip "sanitizer build: the package and playbook are tested in the normal build"
dpkg -s lyncmock >/dev/null 2>&1 && lm_skip "a lyncmock package is installed on this machine: not touching it"

deploy_cleanup() {
	local pid
	# listeners a failed run left in our namespaces, then the package we installed
	for pid in $(lm_ssh_lab_lyncmock_pids 2>/dev/null | cut -d: -f2); do kill "$pid" 2>/dev/null; done
	dpkg -s lyncmock >/dev/null 2>&1 && dpkg --purge lyncmock >/dev/null 2>&1
	lm_cleanup
}
trap deploy_cleanup EXIT

t0=$(date +%s)
lm_deb_build
echo "package: $LM_DEB ($(($(date +%s) - t0)) s)"
pool="$LM_SOURCE_DIR/scenarios/director-pool.yaml"
single="$LM_SOURCE_DIR/scenarios/single-director.yaml"
lm_ssh_lab_up "$pool"
[ "$(wc -l <"$LM_TMP/hosts.map")" -ge 8 ] || lm_fail "fewer than 8 namespace hosts"

# paths: the count `scenario check` prints, which the merged report must match
paths_of() { "$LYNCMOCK" scenario check "$1" | sed -n 's/.* \([0-9]*\) paths$/\1/p'; }
# "verdict-ok-count total" of a merged JSON report
summary() {
	/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
res = r["results"]
ok = [x for x in res if x["verdict"] == "ok"]
print(len(ok), len(res))' "$1"
}
common=(-e "lyncmock_deb=$LM_DEB" -e "lyncmock_controller_bin=$LYNCMOCK")

REPORT=single
run() { # NAME SCENARIO EXTRA-ARGS...: one playbook run into report-$REPORT, timed
	local name=$1 sc=$2 t
	shift 2
	t=$(date +%s)
	lm_playbook "$LM_TMP/$name.log" -i "$LM_TMP/inv-$(basename "$sc" .yaml).ini" \
		"${common[@]}" -e "lyncmock_scenario=$sc" -e "lyncmock_report_dir=$LM_TMP/report-$REPORT" "$@"
	local rc=$?
	echo "$name: ansible-playbook exit $rc in $(($(date +%s) - t)) s"
	return $rc
}

lm_ssh_inventory "$single" "$LM_TMP/inv-single-director.ini"
lm_ssh_inventory "$pool" "$LM_TMP/inv-director-pool.ini"

# --check on a clean machine: a preview that installs and starts nothing
lm_ssh_lab_firewall "$single"
REPORT=check
run check "$single" --check || { tail -40 "$LM_TMP/check.log"; lm_fail "--check run failed"; }
dpkg -s lyncmock >/dev/null 2>&1 && lm_fail "--check installed the package"
[ -z "$(lm_ssh_lab_lyncmock_pids)" ] || lm_fail "--check started listeners"

# single-director: install, PKI, listen, probe, merge, stop
REPORT=single
run single "$single" || { tail -60 "$LM_TMP/single.log"; lm_fail "single-director run failed"; }
rep="$LM_TMP/report-single"
for f in report.json report.xml report.dot report.txt; do [ -s "$rep/$f" ] || lm_fail "no $f"; done
read -r ok total < <(summary "$rep/report.json")
want=$(paths_of "$single")
echo "single-director: $ok of $total paths ok (scenario has $want)"
[ "$total" -eq "$want" ] && [ "$ok" -eq "$total" ] || { cat "$rep/report.txt"; lm_fail "single-director: not every path passed"; }
xmllint --noout "$rep/report.xml" || lm_fail "JUnit XML does not parse"
grep -q 'failures="0"' "$rep/report.xml" || lm_fail "JUnit report has failures"
grep -q '^digraph' "$rep/report.dot" || lm_fail "DOT report is not a digraph"
[ -z "$(lm_ssh_lab_lyncmock_pids)" ] || lm_fail "listeners still running after the run: $(lm_ssh_lab_lyncmock_pids)"
[ "$(stat -c '%a %U' /etc/lyncmock/pki/dir01.key)" = "600 lyncmock" ] || lm_fail "dir01.key is not 0600 lyncmock"
getent passwd lyncmock | grep -q nologin || lm_fail "no lyncmock system user"

# director-pool, listeners kept up for the fault run
REPORT=pool
lm_ssh_lab_firewall "$pool"
run pool "$pool" -e lyncmock_stop_listeners=false || { tail -60 "$LM_TMP/pool.log"; lm_fail "director-pool run failed"; }
read -r ok total < <(summary "$LM_TMP/report-pool/report.json")
want=$(paths_of "$pool")
echo "director-pool: $ok of $total paths ok (scenario has $want)"
[ "$total" -eq "$want" ] && [ "$ok" -eq "$total" ] || { cat "$LM_TMP/report-pool/report.txt"; lm_fail "director-pool: not every path passed"; }
nlisten=$(lm_ssh_lab_lyncmock_pids | wc -l)
[ "$nlisten" -ge 6 ] || lm_fail "expected the 6 destination hosts' listeners up, found $nlisten"

# --check with everything up changes nothing (same listener pids); two hosts suffice
before=$(lm_ssh_lab_lyncmock_pids | sort)
run recheck "$pool" --check --limit dir01,edge01 || { tail -40 "$LM_TMP/recheck.log"; lm_fail "--check run failed"; }
[ "$(lm_ssh_lab_lyncmock_pids | sort)" = "$before" ] || lm_fail "--check touched the listeners"

# the fault: edge01 -> dir01 SIP/MTLS 5061 dropped in the firewall
ip netns exec "$LM_NS_FW" nft insert rule inet lyncmock forward \
	ip saddr 198.18.1.30 ip daddr 198.18.1.10 tcp dport 5061 drop comment '"test fault"'
if run fault "$pool" --tags probe; then
	lm_fail "the playbook passed with a DROP on edge01 -> dir01:5061"
fi
grep -q 'some paths failed' "$LM_TMP/fault.log" || { tail -30 "$LM_TMP/fault.log"; lm_fail "no failure verdict message"; }
/usr/bin/python3 - "$LM_TMP/report-pool/report.json" <<'PY' || lm_fail "the fault is not (only) edge-dir-sip edge01->dir01 filtered"
import json, sys
res = json.load(open(sys.argv[1]))["results"]
bad = [r for r in res if r["verdict"] != "ok"]
got = [(r["rule"], r["from"]["host"], r["to"]["host"], r["outcome"]) for r in bad]
print("failed:", got)
assert got == [("edge-dir-sip", "edge01", "dir01", "filtered")], got
PY

# teardown: nothing left behind
run teardown "$pool" --tags teardown || { tail -40 "$LM_TMP/teardown.log"; lm_fail "teardown failed"; }
left=$(lm_ssh_lab_lyncmock_pids)
[ -z "$left" ] || lm_fail "listeners left after teardown: $left"
dpkg -s lyncmock >/dev/null 2>&1 && lm_fail "package still installed after teardown"
for p in /etc/lyncmock /var/lib/lyncmock /var/log/lyncmock /run/lyncmock/listen-dir01.pid \
	"$LM_TMP/report-pool/pki" /var/tmp/lyncmock-dir01.deb; do
	[ -e "$p" ] && lm_fail "$p left after teardown"
done
getent passwd lyncmock >/dev/null && lm_fail "lyncmock user left after teardown"
echo "PASS: playbook over SSH into $(wc -l <"$LM_TMP/hosts.map") namespaces in $(($(date +%s) - t0)) s"
