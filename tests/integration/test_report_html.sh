#!/usr/bin/env bash
# The HTML report in a real browser: a lab run with faults written as JSON and
# HTML at once, rendered by headless Chromium; its DOM (--dump-dom) must agree
# with the JSON (summary counts, one row per path, failing rows, SVG edges that
# link to their rows), #failed must leave exactly the failing rows, hostile
# strings must stay text, and tidy and xmllint must accept the page.
# LM_HTML_SCREENSHOT=FILE keeps the screenshot (docs/report-html.png is made so).
source "$LM_SOURCE_DIR/tests/integration/lib.sh"
lm_need_cmd chromium
lm_need_cmd tidy
lm_need_cmd xmllint
lm_need_cmd python3
CHECK=$LM_SOURCE_DIR/tests/integration/html_dom_check.py
FX=$LM_SOURCE_DIR/tests/fixtures/reports

# chromium FILE-URL ARGS...: headless, its profile in our temp dir, bounded in time
chrome() {
	local url=$1
	shift
	timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-extensions --user-data-dir="$LM_TMP/chrome" "$@" "$url" 2>>"$LM_TMP/chrome.log"
}
dom() { chrome "file://$1" --dump-dom >"$2" || lm_fail "chromium --dump-dom $1"; }

# tidy FILE: no errors and no warnings, except that tidy 5.6 does not know SVG 2's
# <a href> inside the picture (it calls it proprietary)
tidy_ok() {
	local rc=0
	tidy -q -e --mute-id yes "$1" 2>"$LM_TMP/tidy.txt" || rc=$?
	[ "$rc" -le 1 ] || { cat "$LM_TMP/tidy.txt" >&2; lm_fail "tidy: errors in $1"; }
	if grep -v '<a> proprietary attribute "href" (PROPRIETARY_ATTRIBUTE)$' "$LM_TMP/tidy.txt" | grep -q .; then
		cat "$LM_TMP/tidy.txt" >&2
		lm_fail "tidy: warnings in $1"
	fi
	xmllint --noout "$1" || lm_fail "$1 is not well-formed"
}

# --- hostile strings (no root needed): escaped, rendered as text, nothing runs
rc=0
"$LYNCMOCK" report --format html --output "$LM_TMP/hostile.html" "$FX/hostile-html.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "report --format html (hostile): exit $rc, want 1"
tidy_ok "$LM_TMP/hostile.html"
dom "$LM_TMP/hostile.html" "$LM_TMP/hostile.dom"
python3 "$CHECK" "$LM_TMP/hostile.dom" "$FX/hostile-html.json" hostile || lm_fail "hostile page"

# --- probe --format html (ad hoc, a closed loopback port)
rc=0
"$LYNCMOCK" probe tcp://127.0.0.1:9 --timeout 1 --format html --output "$LM_TMP/probe.html" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "probe --format html: exit $rc, want 1"
grep -q 'data-outcome="refused"' "$LM_TMP/probe.html" || lm_fail "probe --format html: no refused row"
tidy_ok "$LM_TMP/probe.html"

# --- a real lab run with three faults: two firewall ones, one certificate one
lm_need_root "network namespaces (lab)"
lm_need_cmd nft
source "$LM_SOURCE_DIR/tests/integration/lab_lib.sh"
lab_run "$LM_TMP/run.json" --key ecdsa-p256 --timeout 1 --html "$LM_TMP/run.html" \
	--break clients-dir-https=drop --break rp-dir-https=reject --break any-edge-cls2=no-client-cert
[ "$LAB_RC" -eq 1 ] || { cat "$LAB_ERR" >&2; lm_fail "lab: exit $LAB_RC, want 1"; }
lab_check_gone
grep -q "^lab: .*HTML report: $LM_TMP/run.html\$" "$LAB_ERR" || { cat "$LAB_ERR" >&2; lm_fail "lab did not say where the HTML report is"; }
[ "$(stat -c %a "$LM_TMP/run.html")" = 644 ] || lm_fail "run.html mode $(stat -c %a "$LM_TMP/run.html")"
ls "$LM_TMP"/.run.html.* >/dev/null 2>&1 && lm_fail "a temporary file was left beside run.html"
tidy_ok "$LM_TMP/run.html"
grep -Eiq '<(script|link|img|iframe)[^>]* (src|href)="(https?:)?//' "$LM_TMP/run.html" &&
	lm_fail "the page loads something from elsewhere"

dom "$LM_TMP/run.html" "$LM_TMP/run.dom"
python3 "$CHECK" "$LM_TMP/run.dom" "$LM_TMP/run.json" all || lm_fail "DOM and JSON disagree"
chrome "file://$LM_TMP/run.html#failed" --dump-dom >"$LM_TMP/failed.dom" || lm_fail "chromium #failed"
python3 "$CHECK" "$LM_TMP/failed.dom" "$LM_TMP/run.json" failed || lm_fail "#failed filter"

# `lyncmock report` turns the same JSON into the same matrix
rc=0
"$LYNCMOCK" report --format html --output "$LM_TMP/merged.html" "$LM_TMP/run.json" || rc=$?
[ "$rc" -eq 1 ] || lm_fail "report --format html: exit $rc, want 1"
dom "$LM_TMP/merged.html" "$LM_TMP/merged.dom"
python3 "$CHECK" "$LM_TMP/merged.dom" "$LM_TMP/run.json" all || lm_fail "report: DOM and JSON disagree"

# a screenshot (a PNG of the page as the firewall team sees it)
chrome "file://$LM_TMP/run.html" --hide-scrollbars --window-size=1400,2300 \
	--screenshot="$LM_TMP/report.png" >/dev/null || lm_fail "chromium --screenshot"
[ "$(head -c 4 "$LM_TMP/report.png" | od -An -c | tr -d ' ')" = '211PNG' ] ||
	lm_fail "the screenshot is not a PNG"
[ "$(stat -c %s "$LM_TMP/report.png")" -gt 50000 ] || lm_fail "the screenshot is nearly empty"
if [ -n "${LM_HTML_SCREENSHOT:-}" ]; then
	cp "$LM_TMP/report.png" "$LM_HTML_SCREENSHOT"
fi
echo "html report ok"
