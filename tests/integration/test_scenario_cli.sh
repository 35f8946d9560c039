#!/usr/bin/env bash
# `lyncmock scenario`: exit codes, FILE:LINE errors on stderr, the table, list and dump.
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
fx=$LM_SOURCE_DIR/tests/fixtures/scenarios

# check: the default and every built-in are valid
out=$("$LYNCMOCK" scenario check) || lm_fail "check of the default scenario exited $?"
[ "$out" = "scenarios/single-director.yaml: ok: 5 hosts, 17 rules, 25 paths" ] ||
	lm_fail "unexpected check output: $out"
"$LYNCMOCK" scenario check director-pool >"$LM_TMP/out" || lm_fail "director-pool check failed"
grep -q "ok: 8 hosts, 17 rules, 76 paths" "$LM_TMP/out" || lm_fail "director-pool: $(cat "$LM_TMP/out")"
"$LYNCMOCK" scenario check "$LM_SOURCE_DIR/scenarios/single-director.yaml" >/dev/null ||
	lm_fail "check of the shipped file failed"

# check: a bad file exits 2 with FILE:LINE: message on stderr, nothing on stdout
set +e
"$LYNCMOCK" scenario check "$fx/unknown-key.yaml" >"$LM_TMP/out" 2>"$LM_TMP/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || lm_fail "bad fixture: exit $rc, expected 2"
grep -qF "$fx/unknown-key.yaml:8: unknown key 'prot' in rule (did you mean 'port'?)" "$LM_TMP/err" ||
	lm_fail "stderr lacks file:line: $(cat "$LM_TMP/err")"
[ ! -s "$LM_TMP/out" ] || lm_fail "stdout not empty on error"
# all problems of a file, not only the first
set +e
"$LYNCMOCK" scenario check "$fx/many-errors.yaml" 2>"$LM_TMP/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || lm_fail "many-errors: exit $rc"
[ "$(grep -c "^$fx/many-errors.yaml:[0-9]*: " "$LM_TMP/err")" -eq 3 ] ||
	lm_fail "expected 3 errors: $(cat "$LM_TMP/err")"
# a missing file
set +e
"$LYNCMOCK" scenario check "$LM_TMP/nope.yaml" 2>"$LM_TMP/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || lm_fail "missing file: exit $rc"
grep -q "nope.yaml: cannot read scenario: No such file" "$LM_TMP/err" || lm_fail "$(cat "$LM_TMP/err")"

# show: every rule id of the scenario appears, with expanded `any` sources
"$LYNCMOCK" scenario show >"$LM_TMP/show" || lm_fail "show exited $?"
for id in rp-dir-http rp-dir-https dir-fe-https clients-dir-http clients-dir-https edge-dir-sip \
	any-edge-cls1 any-edge-cls2 any-edge-cls3 dir-fe-sip fe-dir-sip dir-edge-sip fe-edge-sip \
	edge-fe-sip rp-fe-http rp-fe-https clients-edge-cls-blocked; do
	grep -q "^$id " "$LM_TMP/show" || lm_fail "show lacks rule $id"
done
grep -Eq "^any-edge-cls1 +cls-mtls +50001 +rp01,dir01,fe01 +edge01 +open$" "$LM_TMP/show" ||
	lm_fail "any-edge-cls1 row wrong: $(grep any-edge-cls1 "$LM_TMP/show")"
grep -Eq "^clients-edge-cls-blocked +cls-mtls +50001 +cl01 +edge01 +blocked$" "$LM_TMP/show" ||
	lm_fail "blocked row wrong"
set +e
"$LYNCMOCK" scenario show "$fx/dup-host.yaml" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || lm_fail "show of a bad file: exit $rc"

# list and dump: dump gives back a file that checks the same
"$LYNCMOCK" scenario list >"$LM_TMP/list" || lm_fail "list exited $?"
grep -q "^single-director (default)$" "$LM_TMP/list" || lm_fail "list: $(cat "$LM_TMP/list")"
grep -q "^director-pool$" "$LM_TMP/list" || lm_fail "list lacks director-pool"
for n in edge-consolidated front-end-pool standard-edition; do
	grep -q "^$n$" "$LM_TMP/list" || lm_fail "list lacks $n"
done
# what each covers: a title line and hosts, rules, paths and services
grep -A2 '^edge-consolidated$' "$LM_TMP/list" | grep -q 'single consolidated Edge' ||
	lm_fail "list: no title for edge-consolidated: $(cat "$LM_TMP/list")"
grep -A2 '^edge-consolidated$' "$LM_TMP/list" | grep -q '11 hosts, 34 rules, 34 paths; services:.* stun/udp turn-tcp' ||
	lm_fail "list: no coverage for edge-consolidated: $(cat "$LM_TMP/list")"
"$LYNCMOCK" scenario dump single-director >"$LM_TMP/copy.yaml" || lm_fail "dump exited $?"
cmp -s "$LM_TMP/copy.yaml" "$LM_SOURCE_DIR/scenarios/single-director.yaml" ||
	lm_fail "dump differs from the shipped file"
"$LYNCMOCK" scenario check "$LM_TMP/copy.yaml" | grep -q "ok: 5 hosts, 17 rules" ||
	lm_fail "dumped copy does not check"

# usage errors exit 2; --help exits 0 and documents every action
for args in "" "frob" "dump" "dump nosuch" "list extra" "check a b" "check --bogus"; do
	set +e
	# shellcheck disable=SC2086
	"$LYNCMOCK" scenario $args >/dev/null 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || lm_fail "'scenario $args' exited $rc, expected 2"
done
"$LYNCMOCK" scenario --help >"$LM_TMP/help" || lm_fail "--help exited $?"
for w in check show list dump; do
	grep -q "lyncmock scenario $w" "$LM_TMP/help" || lm_fail "--help lacks $w"
done
# scale (issue 10): 100,548 paths (director-pool grown to 336 hosts) and a
# per-host-rules scenario past the old caps: checked and turned into firewall
# rules in bounded time (linear checks; generous bounds for a loaded machine)
python3 "$LM_SOURCE_DIR/bench/scale_scenario.py" 336 >"$LM_TMP/s100k.yaml"
python3 "$LM_SOURCE_DIR/bench/scale_rules.py" 1200 40 >"$LM_TMP/rules.yaml"
for f in s100k rules; do
	t0=$(date +%s%N)
	"$LYNCMOCK" scenario check "$LM_TMP/$f.yaml" >"$LM_TMP/out" 2>"$LM_TMP/err" ||
		lm_fail "$f: check exited $?: $(cat "$LM_TMP/err")"
	"$LYNCMOCK" firewall --scenario "$LM_TMP/$f.yaml" --format nft >"$LM_TMP/$f.nft" ||
		lm_fail "$f: firewall exited $?"
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "$f: $(cat "$LM_TMP/out"); check + firewall ${ms} ms"
	[ "$ms" -lt 20000 ] || lm_fail "$f: check + firewall took $ms ms"
done
grep -q ": ok: 1240 hosts, 1851 rules, 144000 paths$" "$LM_TMP/out" ||
	lm_fail "rules: $(cat "$LM_TMP/out")"
# the s100k check prints the count and warns above what the lab can run here
"$LYNCMOCK" scenario check "$LM_TMP/s100k.yaml" >"$LM_TMP/out" 2>"$LM_TMP/err"
grep -q ": ok: 336 hosts, 17 rules, 100548 paths$" "$LM_TMP/out" || lm_fail "s100k: $(cat "$LM_TMP/out")"
# one nft accept per open path, no more (a path is one source, one destination, one port)
n=$(grep -c "accept" "$LM_TMP/s100k.nft")
[ "$n" -ge 90000 ] || lm_fail "s100k: only $n accept lines"
echo "ok"
