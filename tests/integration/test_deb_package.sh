#!/usr/bin/env bash
# The Debian package: built with dpkg-buildpackage (scripts/build-deb.sh), no
# lintian error, hardened binary, then installed and purged for real: binary,
# a man page per subcommand, built-in scenarios as files, the systemd unit
# (systemd-analyze verify against the installed files), the lyncmock system
# user and /etc/lyncmock/pki from postinst; purge removes them again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy_lib.sh"
lm_need_root "dpkg -i"
for c in dpkg-buildpackage lintian readelf systemd-analyze man; do lm_need_cmd "$c"; done
grep -qs '^LM_SANITIZE:BOOL=ON' "${LM_BUILD_DIR:-}/CMakeCache.txt" &&
	lm_skip "sanitizer build: the package is tested in the normal build"
dpkg -s lyncmock >/dev/null 2>&1 && lm_skip "a lyncmock package is installed on this machine: not touching it"
trap 'dpkg -s lyncmock >/dev/null 2>&1 && dpkg --purge lyncmock >/dev/null 2>&1; lm_cleanup' EXIT

lm_deb_build
lint="$LM_DEB_DIR/lintian.txt"
[ -f "$lint" ] || lm_fail "no lintian output"
grep -q '^E:' "$lint" && { cat "$lint"; lm_fail "lintian errors"; }
echo "lintian: $(grep -c '^E:' "$lint") errors, $(grep -c '^W:' "$lint") warnings, $(grep -c '^I:' "$lint") info, $(grep -c '^O:' "$lint") overridden"
grep '^[EWIO]:' "$lint" | sed 's/^/  /'

# hardening=+all: PIE, full RELRO + BIND_NOW, stack protector, fortified calls
dpkg-deb -x "$LM_DEB" "$LM_TMP/x"
bin="$LM_TMP/x/usr/bin/lyncmock"
readelf -h "$bin" | grep -q 'Type:.*DYN' || lm_fail "binary is not PIE"
readelf -d "$bin" | grep -q 'BIND_NOW' || lm_fail "no BIND_NOW"
readelf -lW "$bin" | grep -q GNU_RELRO || lm_fail "no RELRO"
readelf -sW --dyn-syms "$bin" | grep -q '__stack_chk_fail' || lm_fail "no stack protector"
readelf -sW --dyn-syms "$bin" | grep -q '__[a-z]*_chk@' || lm_fail "no _FORTIFY_SOURCE calls"

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$LM_DEB" >"$LM_TMP/apt.log" 2>&1 ||
	{ cat "$LM_TMP/apt.log"; lm_fail "apt-get install of the .deb"; }
/usr/bin/lyncmock --version | grep -q "^lyncmock " || lm_fail "installed binary does not run"
# a man page for lyncmock and for each subcommand `lyncmock --help` lists
for cmd in $(/usr/bin/lyncmock --help 2>&1 | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
	man -w "lyncmock-$cmd" >/dev/null 2>&1 || lm_fail "no man page lyncmock-$cmd(1)"
	n=$((${n:-0} + 1))
done
[ "${n:-0}" -ge 7 ] || lm_fail "found only ${n:-0} subcommands in lyncmock --help"
MANWIDTH=80 man --warnings lyncmock-listen 2>"$LM_TMP/manwarn" | grep -q 'SIGHUP' || lm_fail "lyncmock-listen(1) does not render"
[ -s "$LM_TMP/manwarn" ] && { cat "$LM_TMP/manwarn"; lm_fail "man warnings"; }
man -w lyncmock >/dev/null || lm_fail "no lyncmock(1)"
for f in "$LM_SOURCE_DIR"/scenarios/*.yaml; do
	inst=/usr/share/lyncmock/scenarios/$(basename "$f")
	cmp -s "$f" "$inst" || lm_fail "$inst missing or not the shipped scenario"
	/usr/bin/lyncmock scenario check "$inst" >/dev/null || lm_fail "$inst does not check"
done
# postinst: a system user without a login shell, the PKI directory, no key readable by others
ent=$(getent passwd lyncmock) || lm_fail "no lyncmock user"
uid=$(echo "$ent" | cut -d: -f3)
[ "$uid" -lt 1000 ] || lm_fail "lyncmock is not a system user (uid $uid)"
echo "$ent" | grep -q ':/usr/sbin/nologin$' || lm_fail "lyncmock has a login shell: $ent"
[ "$(stat -c '%a %U %G' /etc/lyncmock/pki)" = "750 root lyncmock" ] || lm_fail "/etc/lyncmock/pki: $(stat -c '%a %U %G' /etc/lyncmock/pki)"
[ "$(stat -c '%U' /var/lib/lyncmock)" = lyncmock ] || lm_fail "/var/lib/lyncmock not owned by lyncmock"
unit=/lib/systemd/system/lyncmock-listen@.service
[ -f "$unit" ] || lm_fail "no $unit"
cp "$unit" "$LM_TMP/lyncmock-listen@dir01.service"
systemd-analyze verify "$LM_TMP/lyncmock-listen@dir01.service" >"$LM_TMP/verify" 2>&1 ||
	{ cat "$LM_TMP/verify"; lm_fail "systemd-analyze verify of the installed unit"; }
[ -s "$LM_TMP/verify" ] && { cat "$LM_TMP/verify"; lm_fail "systemd-analyze verify warnings (man pages, binary)"; }

dpkg --purge lyncmock >"$LM_TMP/purge.log" 2>&1 || { cat "$LM_TMP/purge.log"; lm_fail "purge"; }
getent passwd lyncmock >/dev/null && lm_fail "purge left the lyncmock user"
for p in /etc/lyncmock /var/lib/lyncmock /var/log/lyncmock /usr/bin/lyncmock "$unit"; do
	[ -e "$p" ] && lm_fail "purge left $p"
done
echo "PASS: $(basename "$LM_DEB"): lintian clean, hardened, installs ($n subcommand man pages) and purges"
