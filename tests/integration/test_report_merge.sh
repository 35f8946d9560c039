#!/usr/bin/env bash
# lyncmock report merges JSON reports of several source hosts; its exit status
# says whether every path is OK (0), any failed (1), or the input is bad (2,
# with a message naming the file and the JSON path).
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_cmd xmllint
FX=$LM_SOURCE_DIR/tests/fixtures/reports

run() { # run WANT_RC ARGS...: runs lyncmock report, checks the exit status
	local want=$1 rc=0
	shift
	"$LYNCMOCK" report "$@" >"$LM_TMP/out" 2>"$LM_TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || {
		cat "$LM_TMP/err" >&2
		lm_fail "report $*: exit $rc, want $want"
	}
}

# two sources, options after the files, JUnit: a failure in either means exit 1
run 1 "$FX/rp01.json" "$FX/cl01.json" --format junit
xmllint --noout "$LM_TMP/out" || lm_fail "merged junit is not XML"
[ "$(xmllint --xpath 'count(//testsuite)' "$LM_TMP/out")" = 2 ] || lm_fail "want 2 testsuites"
[ "$(xmllint --xpath 'count(//testcase)' "$LM_TMP/out")" = 6 ] || lm_fail "want 6 testcases"
[ "$(xmllint --xpath 'count(//failure)' "$LM_TMP/out")" = 1 ] || lm_fail "want 1 failure"
[ "$(xmllint --xpath 'string(//testsuite[@name="cl01"]/@tests)' "$LM_TMP/out")" = 3 ] ||
	lm_fail "cl01 suite should hold 3 tests"

# every verdict OK → 0 (a blocked rule that is filtered is OK)
run 0 "$FX/fe01-ok.json"
grep -qx '2 paths: 2 ok, 0 failed' "$LM_TMP/out" || lm_fail "fe01 summary: $(cat "$LM_TMP/out")"
run 0 --format json "$FX/fe01-ok.json"
run 1 "$FX/cl01.json" "$FX/edge01.json"
grep -q '(partial run)' "$LM_TMP/out" || lm_fail "a partial input must mark the merge partial"

# stdin as an input
"$LYNCMOCK" report - <"$FX/fe01-ok.json" >"$LM_TMP/out" || lm_fail "report - (stdin) failed"
grep -q 'fe-edge-sip' "$LM_TMP/out" || lm_fail "stdin report lacks its rule"

# merge of merges: the JSON of a merge merges again
run 1 --format json -o "$LM_TMP/ab.json" "$FX/rp01.json" "$FX/cl01.json"
run 1 --format json "$LM_TMP/ab.json" "$FX/dir01.json"
[ "$(grep -c '"rule": ' "$LM_TMP/out")" -eq 10 ] || lm_fail "merge of a merge: want 10 results"

# the same report twice counts once, and stderr says how many were dropped
run 1 "$FX/rp01.json" "$FX/rp01.json"
grep -qx '3 paths: 2 ok, 1 failed' "$LM_TMP/out" || lm_fail "rp01 twice: $(tail -1 "$LM_TMP/out")"
[ "$(cat "$LM_TMP/err")" = "lyncmock report: note: dropped 3 duplicate results (the same measurement given more than once)" ] ||
	lm_fail "rp01 twice, stderr: $(cat "$LM_TMP/err")"
# a merge merged again with one of its inputs: the input's results are in it already
run 1 --format json "$LM_TMP/ab.json" "$FX/rp01.json" "$FX/dir01.json"
[ "$(grep -c '"rule": ' "$LM_TMP/out")" -eq 10 ] || lm_fail "merge + its input: want 10 results"
grep -qF "dropped 3 duplicate results" "$LM_TMP/err" || lm_fail "merge + input: $(cat "$LM_TMP/err")"
# the same paths measured in another run (other timings) are kept, with a note
sed 's/"connect_ms": 1.2,/"connect_ms": 1.7,/' "$FX/rp01.json" >"$LM_TMP/rp01-again.json"
run 1 "$FX/rp01.json" "$LM_TMP/rp01-again.json"
grep -qF "note: 2 paths were measured in more than one run; each result is kept" "$LM_TMP/err" ||
	lm_fail "re-measured: $(cat "$LM_TMP/err")"
grep -qF "dropped 1 duplicate result " "$LM_TMP/err" || lm_fail "re-measured dup: $(cat "$LM_TMP/err")"
grep -qx '5 paths: 4 ok, 1 failed' "$LM_TMP/out" || lm_fail "re-measured: $(tail -1 "$LM_TMP/out")"

# reports of different scenarios are two matrices: refused, both named, exit 2
sed 's/^  "scenario": "single-director"/  "scenario": "director-pool"/' "$FX/cl01.json" >"$LM_TMP/cl01-dp.json"
grep -q '^  "scenario": "director-pool"' "$LM_TMP/cl01-dp.json" || lm_fail "fixture edit failed"
run 2 "$FX/rp01.json" "$LM_TMP/cl01-dp.json"
[ "$(cat "$LM_TMP/err")" = "lyncmock report: $LM_TMP/cl01-dp.json is a report of scenario 'director-pool', but $FX/rp01.json is of scenario 'single-director': give --allow-mixed to merge reports of different scenarios" ] ||
	lm_fail "mixed scenarios, stderr: $(cat "$LM_TMP/err")"
[ -s "$LM_TMP/out" ] && lm_fail "mixed scenarios must not print a report"
# --allow-mixed merges them, and the output and stderr say so
run 1 --allow-mixed "$FX/rp01.json" "$LM_TMP/cl01-dp.json"
grep -qF "note: merging reports of scenarios single-director+director-pool (--allow-mixed)" "$LM_TMP/err" ||
	lm_fail "allow-mixed stderr: $(cat "$LM_TMP/err")"
grep -q "^scenario single-director+director-pool," "$LM_TMP/out" || lm_fail "allow-mixed header: $(head -2 "$LM_TMP/out")"
grep -qF "merged from reports of different scenarios: single-director+director-pool" "$LM_TMP/out" ||
	lm_fail "allow-mixed note in the report"
run 1 --allow-mixed --format json "$FX/rp01.json" "$LM_TMP/cl01-dp.json"
grep -q '"scenario": "single-director+director-pool"' "$LM_TMP/out" || lm_fail "allow-mixed json scenario"

# bad input: exit 2, message names the file and the JSON path
sed 's/"outcome": "refused"/"outcome": "kaput"/' "$FX/dir01.json" >"$LM_TMP/bad-outcome.json"
run 2 "$FX/rp01.json" "$LM_TMP/bad-outcome.json"
grep -qF "$LM_TMP/bad-outcome.json: results[3].outcome: unknown outcome 'kaput'" "$LM_TMP/err" ||
	lm_fail "bad outcome message: $(cat "$LM_TMP/err")"
[ -s "$LM_TMP/out" ] && lm_fail "bad input must not print a report"
sed 's/"port": 8080/"port": "8080"/' "$FX/rp01.json" >"$LM_TMP/bad-type.json"
run 2 "$LM_TMP/bad-type.json"
grep -qF "bad-type.json: results[0].port: expected an integer, got a string" "$LM_TMP/err" ||
	lm_fail "bad type message: $(cat "$LM_TMP/err")"
sed 's#lyncmock-report/1#lyncmock-report/9#' "$FX/rp01.json" >"$LM_TMP/bad-schema.json"
run 2 "$LM_TMP/bad-schema.json"
grep -qF "bad-schema.json: schema: unsupported schema 'lyncmock-report/9'" "$LM_TMP/err" ||
	lm_fail "bad schema message: $(cat "$LM_TMP/err")"
head -c 700 "$FX/rp01.json" >"$LM_TMP/truncated.json"
run 2 "$LM_TMP/truncated.json"
grep -qE "truncated.json:[0-9]+:[0-9]+: " "$LM_TMP/err" || lm_fail "truncated: $(cat "$LM_TMP/err")"
run 2 "$LM_TMP/does-not-exist.json"
grep -qF "does-not-exist.json: No such file or directory" "$LM_TMP/err" || lm_fail "missing file message"
run 2 --format pdf "$FX/rp01.json"
grep -qF "unknown format 'pdf'" "$LM_TMP/err" || lm_fail "bad format message"
run 2
run 2 --output

# --output is atomic: no temp file left behind, an unwritable place is a clean error
run 1 -o "$LM_TMP/x.txt" "$FX/rp01.json"
[ "$(ls "$LM_TMP" | grep -c '\.tmp\.')" -eq 0 ] || lm_fail "temp file left behind"
run 2 -o "$LM_TMP/no/such/dir/x.txt" "$FX/rp01.json"
grep -q "No such file or directory" "$LM_TMP/err" || lm_fail "unwritable output message"
echo "report merge: ok"
