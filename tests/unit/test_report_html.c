/* The HTML report: read back with libxml2 (the page is well-formed XML too) and
 * checked with XPath: rows, summary, picture, change request, escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "report/report.h"
#include "test_report_fixture.h"

struct page {
	char *html;
	size_t len;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

static void
page_open(struct page *p, const struct probe_run *run)
{
	assert_int_equal(report_render(run, REPORT_HTML, &p->html, &p->len), 0);
	assert_true(p->len > 0);
	assert_int_equal(strncmp(p->html, "<!DOCTYPE html>", 15), 0);
	p->doc = xmlReadMemory(p->html, (int)p->len, "report.html", "UTF-8", XML_PARSE_NONET);
	assert_non_null(p->doc);
	p->ctx = xmlXPathNewContext(p->doc);
	assert_non_null(p->ctx);
}

static void
page_close(struct page *p)
{
	xmlXPathFreeContext(p->ctx);
	xmlFreeDoc(p->doc);
	free(p->html);
}

static double
num(struct page *p, const char *fmt, ...)
{
	char expr[512];
	va_list ap;
	xmlXPathObjectPtr o;
	double v;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof expr, fmt, ap);
	va_end(ap);
	o = xmlXPathEvalExpression(BAD_CAST expr, p->ctx);
	assert_non_null(o);
	v = xmlXPathCastToNumber(o);
	xmlXPathFreeObject(o);
	return v;
}

static char *
str(struct page *p, const char *expr)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, p->ctx);
	xmlChar *s;
	char *r;

	assert_non_null(o);
	s = xmlXPathCastToString(o);
	r = strdup((const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(o);
	return r;
}

static void
test_format_name(void **state)
{
	enum report_format f;
	(void)state;
	assert_int_equal(report_format_from_name("html", &f), 0);
	assert_int_equal(f, REPORT_HTML);
	assert_string_equal(report_format_name(REPORT_HTML), "html");
}

static void
test_html_fixture(void **state)
{
	struct probe_run *run = fx_run();
	struct page p;
	size_t failed, change = 0, blocked = 0;
	char *s;
	(void)state;

	assert_non_null(run);
	failed = probe_run_failures(run);
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[i];
		if (r->ok && r->expect_blocked)
			blocked++;
		if (!r->ok &&
		    (r->expect_blocked || lm_outcome_info(r->outcome)->blocked ||
		     r->outcome == LM_OUT_IDLE_CUT || r->outcome == LM_OUT_OPEN_NOT_REQUIRED))
			change++;
	}
	assert_true(failed > 0 && change > 0 && change < failed);
	run->results[1].firewall_rule =
	    strdup("dropped by `drop all` (chain forward, line 4 of x.nft)");
	run->results[2].facts.answer = strdup("tcp-reset");
	run->results[2].facts.answered_by = strdup("198.18.1.10");
	page_open(&p, run);

	/* who answered, when the probe learnt it */
	assert_int_equal(num(&p, "count(//tr[@id='path-2']//dt[.='Who answered']"
	                         "/following-sibling::dd[1][.='tcp-reset from 198.18.1.10'])"),
	                 1);

	/* one row per result with its data-*, in the matrix table */
	assert_int_equal(num(&p, "count(//table[@id='paths']/tbody/tr[@data-rule])"), run->n);
	assert_int_equal(num(&p, "count(//table[@id='paths']/tbody/tr[@data-verdict='fail'])"),
	                 failed);
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[i];
		assert_int_equal(num(&p,
		                     "count(//tr[@id='path-%zu'][@data-rule='%s'][@data-from='%s']"
		                     "[@data-to='dir01'][@data-outcome='%s'][@data-verdict='%s'])",
		                     i, r->rule_id, r->src_host, lm_outcome_name(r->outcome),
		                     r->ok ? "ok" : "fail"),
		                 1);
		/* the fix sentence, unfolded under the row */
		if (!r->ok)
			assert_int_equal(
			    num(&p, "count(//tr[@id='path-%zu']//details/summary[.=\"%s\"])", i,
			        report_fix_sentence(r)),
			    1);
	}
	/* summary */
	assert_int_equal(num(&p, "number(//p[@id='summary']/@data-paths)"), run->n);
	assert_int_equal(num(&p, "number(//p[@id='summary']/@data-failed)"), failed);
	assert_int_equal(num(&p, "number(//p[@id='summary']/@data-ok)"), run->n - failed);
	assert_int_equal(num(&p, "number(//p[@id='summary']/@data-blocked)"), blocked);
	s = str(&p, "string(//p[@id='summary']/@data-partial)");
	assert_string_equal(s, "false");
	free(s);

	/* the picture: one SVG edge per result, linking to its row */
	assert_int_equal(num(&p, "count(//*[local-name()='svg'])"), 1);
	assert_int_equal(num(&p, "count(//*[local-name()='g'][@class='edge'])"), run->n);
	for (size_t i = 0; i < run->n; i++)
		assert_int_equal(num(&p,
		                     "count(//*[local-name()='g'][@id='edge-%zu']"
		                     "//*[local-name()='a'][@href='#path-%zu'])",
		                     i, i),
		                 2); /* the line and its label */
	/* no comments or DOCTYPE of Graphviz's left */
	assert_null(strstr(p.html, "<!--"));
	assert_null(strstr(p.html, "svg11.dtd"));

	/* the change request: exactly the firewall's paths */
	assert_int_equal(num(&p, "count(//table[@id='change-table']/tbody/tr)"), change);
	assert_int_equal(
	    num(&p, "count(//table[@id='change-table']/tbody/tr[@data-action='block'])"),
	    num(&p,
	        "count(//table[@id='paths']//tr[@data-verdict='fail'][@data-expect='blocked' or "
	        "@data-outcome='open-not-required'])"));

	/* and as plain text lines for a ticket */
	assert_int_equal(num(&p, "count(//section[@id='change']//details/pre)"), 1);
	s = str(&p, "string(//section[@id='change']//details/pre)");
	{
		size_t lines = 0;
		for (const char *c = s; *c != '\0'; c++)
			lines += *c == '\n';
		assert_int_equal(lines, change);
		assert_non_null(strstr(s, "ALLOW "));
		assert_non_null(strstr(s, "-> dir01 (198.18.1.10) port 8080"));
	}
	free(s);

	/* TLS facts and identity in the details */
	assert_true(num(&p, "count(//dd//b[.='CN=dirpool.contoso.local'])") >= 1);
	assert_true(num(&p, "count(//dd//code[.='DNS:dir01.contoso.local'])") >= 1);
	assert_true(num(&p, "count(//dt[.='Acceptable CA names']/following-sibling::dd[1]"
	                    "//li[.='CN=lyncmock lab CA'])") >= 1);
	assert_true(num(&p, "count(//dt[.='Identity returned']/following-sibling::dd[1]/pre)") >=
	            1);
	assert_true(num(&p, "count(//dd[contains(.,'unable to get local issuer')])") >= 1);
	assert_int_equal(num(&p,
	                     "count(//tr[@id='path-1']//dt[.='Firewall rule responsible']"
	                     "/following-sibling::dd[1][starts-with(.,'dropped by `drop all`')])"),
	                 1);

	/* self-contained: one inline script, no external resource */
	assert_int_equal(num(&p, "count(//script)"), 1);
	assert_int_equal(num(&p, "count(//script[@src] | //link | //img | //iframe)"), 0);
	page_close(&p);
	probe_run_free(run);
}

static void
test_html_hostile(void **state)
{
	static const char evil[] = "<script>alert(1)</script>";
	struct probe_run *run = probe_run_new("s<c>&\"n", NULL);
	struct probe_result *r = probe_run_add(run);
	struct page p;
	char *s;
	(void)state;

	r->rule_id = strdup("r\"><img src=x onerror=alert(1)>");
	r->src_host = strdup("h'o\"st\x01\xff");
	r->dst_host = strdup(evil);
	r->src_role = strdup("role</td></tr>");
	r->outcome = LM_OUT_FILTERED;
	r->detail = strdup("]]></details>--><!-- \x1b[2J");
	r->identity = strdup("{\"host_header\":\"<script>alert(2)</script>\","
	                     "\"token\":\"\\\"><svg onload=alert(3)>\"}");
	r->t_connect_ms = r->t_handshake_ms = r->t_first_ms = -1;
	page_open(&p, run);
	assert_int_equal(num(&p, "count(//script)"), 1);
	assert_int_equal(num(&p, "count(//img)"), 0);
	assert_int_equal(num(&p, "count(//*[local-name()='svg'])"), 1);
	assert_int_equal(num(&p, "count(//@*[starts-with(name(),'on')])"), 0);
	s = str(&p, "string(//tr[@id='path-0']/@data-rule)");
	assert_string_equal(s, "r\"><img src=x onerror=alert(1)>");
	free(s);
	/* bad UTF-8 and controls become U+FFFD, the rest is kept as text */
	s = str(&p, "string(//tr[@id='path-0']/@data-from)");
	assert_string_equal(s, "h'o\"st\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = str(&p, "string(//tr[@id='path-0']/td[3])");
	assert_string_equal(s, evil);
	free(s);
	assert_int_equal(num(&p, "count(//pre[contains(.,'<script>alert(2)</script>')])"), 1);
	assert_int_equal(num(&p, "count(//title[contains(.,'s<c>&\"n')])"), 1);
	page_close(&p);
	probe_run_free(run);
}

static void
test_html_empty_partial(void **state)
{
	struct probe_run *run = probe_run_new(NULL, NULL);
	struct page p;
	char *s;
	(void)state;

	run->partial = true;
	page_open(&p, run);
	assert_int_equal(num(&p, "count(//table[@id='paths']/tbody/tr)"), 0);
	assert_int_equal(num(&p, "count(//*[local-name()='svg'])"), 0);
	s = str(&p, "string(//span[@id='completeness'])");
	assert_non_null(strstr(s, "PARTIAL"));
	free(s);
	s = str(&p, "string(//p[@id='summary']/@data-partial)");
	assert_string_equal(s, "true");
	free(s);
	page_close(&p);
	probe_run_free(run);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_name),
	    cmocka_unit_test(test_html_fixture),
	    cmocka_unit_test(test_html_hostile),
	    cmocka_unit_test(test_html_empty_partial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
