#!/usr/bin/env bash
# lyncmock report renders a merged matrix in every format, and real tools accept
# each one: Graphviz `dot` (SVG and PNG), `xmllint` for JUnit, and lyncmock
# itself for JSON (re-reading its own merged output is a fixed point).
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_cmd dot
lm_need_cmd xmllint

FX=$LM_SOURCE_DIR/tests/fixtures/reports
ALL=("$FX/rp01.json" "$FX/cl01.json" "$FX/edge01.json" "$FX/dir01.json" "$FX/fe01-ok.json")
RULES=(rp-dir-http rp-dir-https rp-fe-http clients-dir-http clients-dir-https
	clients-edge-cls-blocked edge-dir-sip edge-fe-sip dir-fe-https any-edge-cls1
	any-edge-cls2 any-edge-cls3 fe-edge-sip)

# report FORMAT OUT: renders every fixture; 4 paths fail, so exit 1
report() {
	local rc=0
	"$LYNCMOCK" report --format "$1" --output "$2" "${ALL[@]}" 2>"$LM_TMP/err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$LM_TMP/err" >&2; lm_fail "report --format $1 exited $rc, want 1"; }
	[ -s "$2" ] || lm_fail "report --format $1 wrote nothing"
	[ "$(stat -c %a "$2")" = 644 ] || lm_fail "$2 has mode $(stat -c %a "$2"), want 644"
}

# --- table
report table "$LM_TMP/m.txt"
for r in "${RULES[@]}"; do
	grep -q "^$r " "$LM_TMP/m.txt" || lm_fail "table lacks rule $r"
done
grep -qx '14 paths: 10 ok, 4 failed (partial run)' "$LM_TMP/m.txt" ||
	lm_fail "table summary wrong: $(tail -n 1 "$LM_TMP/m.txt")"
[ "$(grep -c '^    fix: ' "$LM_TMP/m.txt")" -eq 4 ] || lm_fail "table: want 4 fix lines"
grep -q $'\033' "$LM_TMP/m.txt" && lm_fail "table written to a file has colour codes"
# table on stdout (a pipe here): the same text
"$LYNCMOCK" report "${ALL[@]}" >"$LM_TMP/stdout.txt" && lm_fail "stdout table: want exit 1"
cmp -s "$LM_TMP/m.txt" "$LM_TMP/stdout.txt" || lm_fail "table on stdout differs from --output"
# on a terminal (script(1) gives a pty): coloured verdicts, unless NO_COLOR is set
if command -v script >/dev/null 2>&1; then
	script -qec "'$LYNCMOCK' report '$FX/rp01.json'" /dev/null >"$LM_TMP/tty.txt" </dev/null
	grep -q $'\033\[1;31mFAIL\033\[0m' "$LM_TMP/tty.txt" || lm_fail "tty table: FAIL not red"
	grep -q $'\033\[32mOK\033\[0m' "$LM_TMP/tty.txt" || lm_fail "tty table: OK not green"
	NO_COLOR=1 script -qec "'$LYNCMOCK' report '$FX/rp01.json'" /dev/null >"$LM_TMP/tty.txt" </dev/null
	grep -q $'\033' "$LM_TMP/tty.txt" && lm_fail "tty table coloured despite NO_COLOR"
	grep -q 'rp-dir-https' "$LM_TMP/tty.txt" || lm_fail "tty table without NO_COLOR lost its rows"
fi

# --- JSON: the merged document re-read is written back identically
report json "$LM_TMP/m.json"
"$LYNCMOCK" report --format json "$LM_TMP/m.json" >"$LM_TMP/m2.json" && lm_fail "json: want exit 1"
cmp "$LM_TMP/m.json" "$LM_TMP/m2.json" || lm_fail "merged JSON is not a fixed point of report"
grep -q '"schema": "lyncmock-report/2"' "$LM_TMP/m.json" || lm_fail "json: no schema"
grep -q '"source_host": null' "$LM_TMP/m.json" || lm_fail "json: merged source_host not null"
grep -q '"partial": true' "$LM_TMP/m.json" || lm_fail "json: merge of a partial input not partial"
[ "$(grep -c '"rule": ' "$LM_TMP/m.json")" -eq 14 ] || lm_fail "json: want 14 results"

# --- JUnit: valid XML with the right counts
report junit "$LM_TMP/m.xml"
xmllint --noout "$LM_TMP/m.xml" || lm_fail "junit is not well-formed XML"
x() { xmllint --xpath "$1" "$LM_TMP/m.xml"; }
[ "$(x 'count(//testsuite)')" = 5 ] || lm_fail "junit: want 5 testsuites (one per source)"
[ "$(x 'count(//testcase)')" = 14 ] || lm_fail "junit: want 14 testcases"
[ "$(x 'count(//testcase/failure)')" = 4 ] || lm_fail "junit: want 4 failures"
[ "$(x 'string(//testsuite[@name="dir01"]/@failures)')" = 2 ] || lm_fail "junit: dir01 failures"
[ "$(x 'string(//testcase[@name="rp-dir-https rp01->dir01:4443"]/failure/@type)')" = \
	tls-name-mismatch ] || lm_fail "junit: failure type of rp-dir-https"
x 'string(//testcase[@name="rp-dir-https rp01->dir01:4443"]/failure/@message)' |
	grep -q "subject alternative names" || lm_fail "junit: failure message is not the fix"
[ "$(x 'string(//testsuite[@name="edge01"]/properties/property[@name="partial"]/@value)')" = \
	true ] || lm_fail "junit: partial property"

# --- DOT: dot accepts it, and it renders
report dot "$LM_TMP/m.dot"
dot -Tsvg "$LM_TMP/m.dot" -o "$LM_TMP/m.svg" 2>"$LM_TMP/dot.err" || lm_fail "dot -Tsvg: $(cat "$LM_TMP/dot.err")"
[ -s "$LM_TMP/dot.err" ] && lm_fail "dot warned: $(cat "$LM_TMP/dot.err")"
[ "$(grep -c 'class="node"' "$LM_TMP/m.svg")" -eq 5 ] || lm_fail "dot: want 5 host nodes"
[ "$(grep -c 'class="edge"' "$LM_TMP/m.svg")" -eq 14 ] || lm_fail "dot: want 14 edges"
[ "$(grep -c 'class="cluster"' "$LM_TMP/m.svg")" -eq 5 ] || lm_fail "dot: want 5 role clusters"
[ "$(grep -c 'stroke="#c62828"' "$LM_TMP/m.svg")" -ge 4 ] || lm_fail "dot: failures not red"
dot -Tpng "$LM_TMP/m.dot" -o "$LM_TMP/m.png" || lm_fail "dot -Tpng failed"
[ "$(head -c 8 "$LM_TMP/m.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	lm_fail "dot -Tpng did not write a PNG"
[ "$(stat -c %s "$LM_TMP/m.png")" -gt 10000 ] || lm_fail "PNG suspiciously small"

# --- hostile names: quotes, backslashes, newlines, braces, controls, markup
for f in dot junit json table; do
	rc=0
	"$LYNCMOCK" report --format "$f" -o "$LM_TMP/h.$f" "$FX/hostile.json" || rc=$?
	[ "$rc" -eq 1 ] || lm_fail "hostile $f: exit $rc, want 1"
done
dot -Tsvg "$LM_TMP/h.dot" -o "$LM_TMP/h.svg" 2>"$LM_TMP/dot.err" || lm_fail "dot rejects escaped hostile names"
[ "$(grep -c 'class="node"' "$LM_TMP/h.svg")" -eq 4 ] || lm_fail "hostile dot: node injected"
[ "$(grep -c 'class="edge"' "$LM_TMP/h.svg")" -eq 2 ] || lm_fail "hostile dot: edge injected"
grep -q 'pwned\]; \\N\\G' "$LM_TMP/h.svg" || lm_fail "hostile dot: label text not kept literally"
xmllint --noout "$LM_TMP/h.junit" || lm_fail "hostile junit is not well-formed"
[ "$(xmllint --xpath 'count(//x)' "$LM_TMP/h.junit")" = 0 ] || lm_fail "hostile junit: markup injected"
grep -q $'\033' "$LM_TMP/h.table" && lm_fail "hostile table: escape sequence passed through"
"$LYNCMOCK" report "$LM_TMP/h.json" >/dev/null
[ $? -eq 1 ] || lm_fail "hostile json does not read back"
echo "report formats: ok"
