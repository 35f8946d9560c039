#!/usr/bin/env bash
# Every subcommand reads options the same way (getopt_long + cmd_getopt_error):
# a missing value, an unknown option, a value given to a flag each print exactly
# one message and the --help hint on stderr, nothing on stdout, and exit 2.
# Needs no root: every case fails before anything is bound or created.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"

# expect "ARGS" "MESSAGE": stderr must be exactly "MESSAGE\n(see `lyncmock CMD --help`)"
# where CMD is the part of MESSAGE between "lyncmock " and ":".
expect() {
	local args=$1 msg=$2 cmd rc
	cmd=${msg#lyncmock }
	cmd=${cmd%%:*}
	set +e
	# shellcheck disable=SC2086
	"$LYNCMOCK" $args >"$LM_TMP/out" 2>"$LM_TMP/err" </dev/null
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || lm_fail "'lyncmock $args': exit $rc, expected 2 ($(cat "$LM_TMP/err"))"
	printf '%s\n(see `lyncmock %s --help`)\n' "$msg" "$cmd" >"$LM_TMP/want"
	cmp -s "$LM_TMP/want" "$LM_TMP/err" ||
		lm_fail "'lyncmock $args': stderr was:
$(cat "$LM_TMP/err")
expected:
$(cat "$LM_TMP/want")"
	[ ! -s "$LM_TMP/out" ] || lm_fail "'lyncmock $args': stdout not empty: $(cat "$LM_TMP/out")"
}

# subcommand, an option that takes a value, a flag (or "" when it has none)
while IFS='|' read -r sub valopt flag; do
	expect "$sub --$valopt" "lyncmock $sub: option '--$valopt' needs a value"
	expect "$sub --bogus" "lyncmock $sub: unknown option '--bogus'"
	expect "$sub --bogus=1" "lyncmock $sub: unknown option '--bogus'"
	expect "$sub -Q" "lyncmock $sub: unknown option '-Q'"
	if [ "$flag" != "-" ]; then
		expect "$sub --$flag=yes" "lyncmock $sub: option '--$flag' takes no value"
	fi
done <<'EOF'
probe|timeout|debug-tls
listen|host|json-log
lab|timeout|keep
certs init|out|no-client-auth
certs inspect|ca|-
certs check|host|-
firewall|format|-
report|format|-
EOF

# an abbreviation that fits several options
expect "probe --t" "lyncmock probe: option '--t' is ambiguous"
# an abbreviation that fits one is that option (getopt_long's rule)
expect "probe --time" "lyncmock probe: option '--timeout' needs a value"
# the value check after the option
expect "probe --timeout x --host h" "lyncmock probe: --timeout: seconds between 0.05 and 3600, not 'x'"
# scenario takes no options at all
expect "scenario --bogus" "lyncmock scenario: unknown option '--bogus'"
expect "scenario check --bogus" "lyncmock scenario: unknown option '--bogus'"
expect "scenario check -x" "lyncmock scenario: unknown option '-x'"
# operands where none belong
expect "firewall --format nft extra" "lyncmock firewall: unexpected argument 'extra'"
expect "certs init --out /nonexistent extra" "lyncmock certs init: unexpected argument 'extra'"
expect "certs init --out=" "lyncmock certs init: option '--out' is empty"

# --help of every subcommand ends with a newline and exits 0
for sub in probe listen lab certs firewall report scenario; do
	"$LYNCMOCK" "$sub" --help >"$LM_TMP/help" || lm_fail "$sub --help exited $?"
	[ "$(tail -c 1 "$LM_TMP/help" | od -An -c | tr -d ' ')" = '\n' ] ||
		lm_fail "$sub --help does not end with a newline"
done
# scenario limits: the message says the limit and ends with a newline, exit 2
python3 - "$LM_TMP/hosts.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("name: big\ndomain: d.test\nhosts:\n")
    for i in range(16385):
        f.write("  - {name: h%d, role: internal-client, address: 10.%d.%d.%d}\n"
                % (i, i // 65536, (i // 256) % 256, i % 256))
    f.write("rules:\n  - {id: r, service: tcp, port: 1, from: any, to: h0}\n")
PY
set +e
"$LYNCMOCK" scenario check "$LM_TMP/hosts.yaml" >"$LM_TMP/out" 2>"$LM_TMP/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || lm_fail "16385 hosts: exit $rc"
[ "$(cat "$LM_TMP/err")" = "$LM_TMP/hosts.yaml:3: too many hosts: 16385 (at most 16384)" ] ||
	lm_fail "16385 hosts: $(cat "$LM_TMP/err")"
[ "$(tail -c 1 "$LM_TMP/err" | od -An -c | tr -d ' ')" = '\n' ] ||
	lm_fail "the limit message does not end with a newline"
echo "PASS: one option-error message per case for every subcommand"
