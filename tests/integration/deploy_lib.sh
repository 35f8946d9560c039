# Helpers for the Debian-package and Ansible tests (sourced after lib.sh): build
# the .deb once per tree state, and a lab of network namespaces that look like
# real hosts to Ansible: one namespace per scenario host with its scenario
# address and its own sshd, all routed through one firewall namespace loaded
# with `lyncmock firewall --format nft`, and a controller namespace that may
# reach every host's port 22. Only 198.18.0.0/15 is used, inside namespaces.

# Builds (or reuses) the package; sets LM_DEB to the .deb.
lm_deb_build() {
	local out="${LM_BUILD_DIR:-$LM_SOURCE_DIR/build}/deb" stamp
	stamp=$(cd "$LM_SOURCE_DIR" && { git rev-parse HEAD; git status --porcelain -uall | grep -v ' build' ; git diff; } | sha256sum | cut -c1-16)
	if [ "$(cat "$out/.stamp" 2>/dev/null)" != "$stamp" ] || ! ls "$out"/lyncmock_*_*.deb >/dev/null 2>&1; then
		DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" bash "$LM_SOURCE_DIR/scripts/build-deb.sh" "$out" >"$LM_TMP/build-deb.out" 2>&1 ||
			{ cat "$LM_TMP/build-deb.out" >&2; lm_fail "scripts/build-deb.sh failed"; }
		echo "$stamp" >"$out/.stamp"
	fi
	LM_DEB=$(ls "$out"/lyncmock_*_*.deb | grep -v dbgsym | head -1)
	LM_DEB_DIR=$out
}

# "name role address" per host of scenario $1 (a file).
lm_scenario_hosts() {
	/usr/bin/python3 -c 'import sys, yaml
for h in yaml.safe_load(open(sys.argv[1]))["hosts"]:
    print(h["name"], h["role"], h["address"])' "$1"
}

LM_FW_MGMT=198.19.254.1   # the controller's address
LM_FW_GW=198.19.255.254   # the firewall's address on every host link

# Brings up the namespaces for every host of scenario file $1, with sshd.
# Sets LM_NS_FW, LM_NS_CTL, LM_SSH_KEY; host H lives in namespace LM_NS_<n>
# (see lm_host_ns).
lm_ssh_lab_up() {
	local sc=$1 name role addr i=0 ns
	LM_NS_FW=$(lm_netns fw)
	LM_NS_CTL=$(lm_netns ctl)
	ip netns exec "$LM_NS_FW" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$LM_NS_FW" link set lo up
	ip -n "$LM_NS_CTL" link set lo up
	ip link add c0 netns "$LM_NS_CTL" type veth peer name c0 netns "$LM_NS_FW"
	ip -n "$LM_NS_CTL" addr add "$LM_FW_MGMT/30" dev c0
	ip -n "$LM_NS_FW" addr add 198.19.254.2/30 dev c0
	ip -n "$LM_NS_CTL" link set c0 up
	ip -n "$LM_NS_FW" link set c0 up
	ip -n "$LM_NS_CTL" route add default via 198.19.254.2

	ssh-keygen -q -t ed25519 -N '' -f "$LM_TMP/id" -C lyncmock-test
	ssh-keygen -q -t ed25519 -N '' -f "$LM_TMP/hostkey"
	cp "$LM_TMP/id.pub" "$LM_TMP/authorized_keys"
	mkdir -p /run/sshd
	LM_SSH_KEY=$LM_TMP/id
	: >"$LM_TMP/hosts.map"
	while read -r name role addr; do
		i=$((i + 1))
		ns=$(lm_netns "h$i")
		echo "$name $role $addr $ns" >>"$LM_TMP/hosts.map"
		ip -n "$ns" link set lo up
		ip link add eth0 netns "$ns" type veth peer name "v$i" netns "$LM_NS_FW"
		ip -n "$ns" addr add "$addr/32" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$LM_NS_FW" addr add "$LM_FW_GW/32" dev "v$i"
		ip -n "$LM_NS_FW" link set "v$i" up
		ip -n "$ns" route add "$LM_FW_GW" dev eth0
		ip -n "$ns" route add default via "$LM_FW_GW" dev eth0
		ip -n "$LM_NS_FW" route add "$addr/32" dev "v$i"
		ip netns exec "$ns" /usr/sbin/sshd -D -e -f /dev/null \
			-o ListenAddress="$addr" -o HostKey="$LM_TMP/hostkey" \
			-o AuthorizedKeysFile="$LM_TMP/authorized_keys" -o StrictModes=no \
			-o PermitRootLogin=prohibit-password -o PasswordAuthentication=no \
			-o KbdInteractiveAuthentication=no -o UsePAM=no -o PidFile=none \
			-o MaxStartups=200 -o MaxSessions=100 -o LogLevel=ERROR \
			-o "Subsystem=sftp internal-sftp" 2>>"$LM_TMP/sshd.log" &
		lm_track $!
	done < <(lm_scenario_hosts "$sc")
	# sshd is up when each address answers on port 22
	while read -r name role addr ns; do
		local tries=100
		until ip netns exec "$LM_NS_CTL" bash -c "exec 3<>/dev/tcp/$addr/22" 2>/dev/null; do
			tries=$((tries - 1))
			[ "$tries" -gt 0 ] || { cat "$LM_TMP/sshd.log" >&2; lm_fail "sshd of $name ($addr) not reachable"; }
			sleep 0.1
		done
	done <"$LM_TMP/hosts.map"
}

# The firewall namespace gets scenario $1's rules, plus SSH from the controller.
lm_ssh_lab_firewall() {
	"$LYNCMOCK" firewall --scenario "$1" --format nft >"$LM_TMP/fw.nft" || lm_fail "lyncmock firewall"
	ip netns exec "$LM_NS_FW" nft -f "$LM_TMP/fw.nft" || lm_fail "nft -f"
	ip netns exec "$LM_NS_FW" nft insert rule inet lyncmock forward \
		ip saddr "$LM_FW_MGMT" tcp dport 22 accept comment '"controller ssh"' || lm_fail "nft insert"
}

lm_host_ns() { awk -v h="$1" '$1 == h { print $4 }' "$LM_TMP/hosts.map"; }

# An inventory for scenario $1's hosts (a group per role), over SSH as root,
# for namespaces: no systemd, and one dpkg at a time (they share /var/lib/dpkg).
lm_ssh_inventory() {
	local sc=$1 out=$2
	/usr/bin/python3 - "$sc" "$LM_TMP/hosts.map" "$LM_SSH_KEY" >"$out" <<'PY'
import sys, yaml
sc = yaml.safe_load(open(sys.argv[1]))
addr = {l.split()[0]: l.split()[2] for l in open(sys.argv[2])}
groups = {}
for h in sc["hosts"]:
    groups.setdefault(h["role"].replace("-", "_"), []).append(h["name"])
for g, names in groups.items():
    print(f"[{g}]")
    for n in names:
        print(f"{n} ansible_host={addr[n]}")
    print()
print("[lync:children]")
print("\n".join(groups))
print()
print("[lync:vars]")
print("ansible_user=root")
print(f"ansible_ssh_private_key_file={sys.argv[3]}")
print("ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'")
print("ansible_python_interpreter=/usr/bin/python3")
print("lyncmock_become=false")
print("lyncmock_use_systemd=false")
print("lyncmock_install_throttle=1")
PY
}

# ansible-playbook from the controller namespace: lm_playbook LOG ARGS...
lm_playbook() {
	local log=$1
	shift
	ip netns exec "$LM_NS_CTL" env ANSIBLE_CONFIG="$LM_SOURCE_DIR/deploy/ansible/ansible.cfg" \
		ANSIBLE_SSH_CONTROL_PATH_DIR="$LM_TMP/cp" ANSIBLE_LOCAL_TEMP="$LM_TMP/ansible-local" \
		ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
		ansible-playbook "$LM_SOURCE_DIR/deploy/ansible/site.yml" "$@" >"$log" 2>&1
}

# lyncmock processes left in any host namespace (there must be none after a stop)
lm_ssh_lab_lyncmock_pids() {
	local name role addr ns p
	while read -r name role addr ns; do
		for p in $(ip netns pids "$ns"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = lyncmock ] && echo "$name:$p"
		done
	done <"$LM_TMP/hosts.map"
	return 0
}
