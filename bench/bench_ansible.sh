#!/usr/bin/env bash
# The Ansible playbook against N namespace hosts (default 50) over SSH, like
# tests/integration/test_deploy_ansible.sh but bigger: a generated scenario
# with N/5 hosts of each role (the director-pool rules), one namespace with its
# own sshd per host, the scenario's nft rules in a firewall namespace, the
# playbook from a controller namespace. Runs the playbook phase by phase and
# prints the wall time of each: install, PKI (certs init + distribution),
# listeners, probes (+ fetch), merge, stop, teardown. As root; not run by CI.
#   usage: bench/bench_ansible.sh [HOSTS]       (HOSTS a multiple of 5, <= 200)
# BENCH_PROBE_TIMEOUT (default 3, the playbook's) sets lyncmock_probe_timeout;
# the merged report and the playbook logs are kept in BENCH_OUT
# (default /tmp/lyncmock-bench-ansible-HOSTS).
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
[ $((N % 5)) -eq 0 ] && [ "$N" -ge 5 ] && [ "$N" -le 200 ] || { echo "bench: HOSTS: a multiple of 5 in 5..200" >&2; exit 2; }
export LM_SOURCE_DIR=$PWD
export LYNCMOCK=${LYNCMOCK:-$PWD/build/lyncmock}
export LM_BUILD_DIR=${LM_BUILD_DIR:-$PWD/build}
[ -x "$LYNCMOCK" ] || { echo "bench: $LYNCMOCK is not built" >&2; exit 2; }
. tests/integration/lib.sh
. tests/integration/deploy_lib.sh
lm_need_root "namespaces, dpkg -i"
dpkg -s lyncmock >/dev/null 2>&1 && { echo "bench: a lyncmock package is installed here: not touching it" >&2; exit 2; }
bench_cleanup() {
	local pid
	for pid in $(lm_ssh_lab_lyncmock_pids 2>/dev/null | cut -d: -f2); do kill "$pid" 2>/dev/null; done
	dpkg -s lyncmock >/dev/null 2>&1 && dpkg --purge lyncmock >/dev/null 2>&1
	lm_cleanup
}
trap bench_cleanup EXIT

# N/5 reverse proxies, clients, Directors, Front Ends and Edges; rules of director-pool
sc=$LM_TMP/bench-$N.yaml
/usr/bin/python3 - "$LM_SOURCE_DIR/scenarios/director-pool.yaml" "$N" >"$sc" <<'PY'
import sys, yaml
base = yaml.safe_load(open(sys.argv[1]))
k = int(sys.argv[2]) // 5
proto = {}
for h in base["hosts"]:
    proto.setdefault(h["role"], h)
hosts = []
# role, name prefix, third octet, first fourth octet
for role, pre, net, first in [("reverse-proxy", "rp", 0, 10), ("internal-client", "cl", 2, 10),
                              ("director", "dir", 1, 10), ("front-end", "fe", 3, 10),
                              ("edge-internal", "edge", 4, 10)]:
    for i in range(k):
        h = dict(proto[role])
        h["name"] = "%s%02d" % (pre, i + 1)
        h["address"] = "198.18.%d.%d" % (net, first + i)
        if "fqdn" in h:
            h["fqdn"] = "%s%02d%s.contoso.local" % (pre, i + 1, "-int" if role == "edge-internal" else "")
        hosts.append(h)
base["name"] = "bench-%d" % int(sys.argv[2])
base["hosts"] = hosts
print(yaml.safe_dump(base, sort_keys=False))
PY
"$LYNCMOCK" scenario check "$sc" || exit 2
paths=$("$LYNCMOCK" scenario check "$sc" | sed -n 's/.* \([0-9]*\) paths$/\1/p')

t=$(date +%s.%N)
lm_deb_build
t_deb=$(echo "$(date +%s.%N) - $t" | bc)
t=$(date +%s.%N)
lm_ssh_lab_up "$sc"
lm_ssh_lab_firewall "$sc"
t_lab=$(echo "$(date +%s.%N) - $t" | bc)
lm_ssh_inventory "$sc" "$LM_TMP/inv.ini"

total=0
declare -A took
phase() { # NAME ARGS...
	local name=$1 t0 t1 rc
	shift
	t0=$(date +%s.%N)
	lm_playbook "$LM_TMP/$name.log" -i "$LM_TMP/inv.ini" -e "lyncmock_deb=$LM_DEB" \
		-e "lyncmock_controller_bin=$LYNCMOCK" -e "lyncmock_scenario=$sc" \
		-e "lyncmock_report_dir=$LM_TMP/report" -e lyncmock_stop_listeners=false \
		-e "lyncmock_probe_timeout=${BENCH_PROBE_TIMEOUT:-3}" "$@"
	rc=$?
	t1=$(date +%s.%N)
	took[$name]=$(echo "$t1 - $t0" | bc)
	total=$(echo "$total + ${took[$name]}" | bc)
	printf '%-10s %7.1f s  (ansible-playbook exit %d)\n' "$name" "${took[$name]}" "$rc" >&2
	return $rc
}
phase install --tags install || { tail -30 "$LM_TMP/install.log"; exit 1; }
phase pki --tags pki || { tail -30 "$LM_TMP/pki.log"; exit 1; }
phase listeners --tags listen || { tail -30 "$LM_TMP/listeners.log"; exit 1; }
phase probes --tags probe --skip-tags report || { tail -30 "$LM_TMP/probes.log"; exit 1; }
phase merge --tags report
merge_rc=$?
read -r ok all < <(/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(sum(x["verdict"] == "ok" for x in r), len(r))' "$LM_TMP/report/report.json")
phase stop --tags stop -e lyncmock_stop_listeners=true || { tail -30 "$LM_TMP/stop.log"; exit 1; }
phase teardown --tags teardown || { tail -30 "$LM_TMP/teardown.log"; exit 1; }
left=$(lm_ssh_lab_lyncmock_pids | wc -l)
out=${BENCH_OUT:-/tmp/lyncmock-bench-ansible-$N}
mkdir -p "$out" && cp "$LM_TMP"/*.log "$LM_TMP/report"/report.* "$sc" "$out"/ 2>/dev/null

cat <<EOT

bench_ansible: $N namespace hosts over SSH, scenario bench-$N ($paths paths), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)
  (not timed: .deb build $(printf '%.0f' "$t_deb") s, namespaces + sshd $(printf '%.1f' "$t_lab") s)
phase        wall s
install    $(printf '%7.1f' "${took[install]}")   copy the .deb, apt-get install (one host at a time: shared dpkg)
pki        $(printf '%7.1f' "${took[pki]}")   certs init for $N hosts + scenario/CA/cert/key to each
listeners  $(printf '%7.1f' "${took[listeners]}")   start and wait for ready on destination hosts
probes     $(printf '%7.1f' "${took[probes]}")   every source host at once (async) + fetch
merge      $(printf '%7.1f' "${took[merge]}")   lyncmock report: table, JSON, JUnit, DOT
stop       $(printf '%7.1f' "${took[stop]}")
teardown   $(printf '%7.1f' "${took[teardown]}")
total      $(printf '%7.1f' "$total")   (each phase also pays the scenario/classify plays)
verdicts: $ok of $all paths ok (merge exit $merge_rc, probe timeout ${BENCH_PROBE_TIMEOUT:-3} s); lyncmock processes left: $left
report and logs: $out
EOT
[ "$ok" -eq "$all" ] && [ "$all" -eq "$paths" ] && [ "$left" -eq 0 ]
