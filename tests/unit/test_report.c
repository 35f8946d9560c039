/* Unit tests for report/: table, JSON round trip and merge, JUnit read back, DOT escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "report/report.h"
#include "test_report_fixture.h"

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void
test_format_names(void **state)
{
	enum report_format f;
	(void)state;
	assert_int_equal(report_format_from_name("table", &f), 0);
	assert_int_equal(f, REPORT_TABLE);
	assert_int_equal(report_format_from_name("json", &f), 0);
	assert_int_equal(f, REPORT_JSON);
	assert_int_equal(report_format_from_name("junit", &f), 0);
	assert_int_equal(f, REPORT_JUNIT);
	assert_int_equal(report_format_from_name("dot", &f), 0);
	assert_int_equal(f, REPORT_DOT);
	assert_int_equal(report_format_from_name("xml", &f), -1);
	assert_int_equal(report_format_from_name(NULL, &f), -1);
	assert_string_equal(report_format_name(REPORT_JUNIT), "junit");
}

static void
test_clean_text(void **state)
{
	char *s;
	(void)state;
	s = report_clean_text("ok \xc3\xa9t\xc3\xa9", true, false);
	assert_string_equal(s, "ok \xc3\xa9t\xc3\xa9");
	free(s);
	/* bad UTF-8: a lone continuation byte, a truncated sequence, an overlong '/' */
	s = report_clean_text("a\x80"
	                      "b\xc3"
	                      "c\xc0\xaf",
	                      false, false);
	assert_string_equal(s, "a\xef\xbf\xbd"
	                       "b\xef\xbf\xbd"
	                       "c\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = report_clean_text("x\033[31my\nz\t", true, false);
	assert_string_equal(s, "x\xef\xbf\xbd[31my\xef\xbf\xbdz\xef\xbf\xbd");
	free(s);
	s = report_clean_text("x\033y\nz\t", true, true);
	assert_string_equal(s, "x\xef\xbf\xbdy\nz\t");
	free(s);
	s = report_clean_text(NULL, true, true);
	assert_string_equal(s, "");
	free(s);
}

static void
test_sorted_index(void **state)
{
	struct probe_run *run = fx_run();
	size_t *idx = report_sorted_index(run);
	(void)state;
	assert_non_null(idx);
	for (size_t i = 1; i < run->n; i++)
		assert_true(strcmp(run->results[idx[i - 1]].rule_id, run->results[idx[i]].rule_id) <
		            0);
	free(idx);
	probe_run_free(run);
}

static void
test_table(void **state)
{
	struct probe_run *run = fx_run();
	char *out, line[128];
	size_t len, failed = probe_run_failures(run);
	(void)state;

	assert_int_equal(report_render(run, REPORT_TABLE, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[i];
		assert_non_null(strstr(out, r->rule_id));
		if (!r->ok)
			assert_non_null(strstr(out, report_fix_sentence(r)));
	}
	assert_true(failed > 0 && failed < run->n);
	snprintf(line, sizeof line, "%zu paths: %zu ok, %zu failed\n", run->n, run->n - failed,
	         failed);
	assert_non_null(strstr(out, line));
	assert_int_equal(count_of(out, "    fix: "), failed);
	assert_int_equal(count_of(out, " FAIL "), failed);
	assert_non_null(strstr(out, "RULE"));
	assert_non_null(strstr(out, "VERDICT"));
	/* sorted: rule-01 before rule-16 */
	assert_true(strstr(out, "rule-01-") < strstr(out, "rule-10-"));
	assert_null(strchr(out, '\033'));
	free(out);

	run->partial = true;
	assert_int_equal(report_table_render(run, true, &out, &len), 0);
	assert_non_null(strstr(out, "failed (partial run)"));
	assert_non_null(strstr(out, "\033[1;31mFAIL"));
	assert_non_null(strstr(out, "\033[32mOK"));
	free(out);
	probe_run_free(run);
}

static void
test_table_hostile(void **state)
{
	struct probe_run *run = probe_run_new(NULL, NULL);
	struct probe_result *r = probe_run_add(run);
	char *out;
	size_t len;
	(void)state;

	r->rule_id = strdup("evil\033]0;pwned\007rule");
	r->src_host = strdup("a-very-long-host-name-that-goes-on-and-on-and-on-forever.example");
	r->dst_addr = strdup("127.0.0.1");
	r->outcome = LM_OUT_PROTOCOL_ERROR;
	r->detail = strdup("peer said \033[2J\r\nHTTP/1.0 200");
	assert_int_equal(report_render(run, REPORT_TABLE, &out, &len), 0);
	assert_null(strchr(out, '\033'));
	assert_null(strchr(out, '\r'));
	assert_null(strchr(out, '\007'));
	assert_non_null(strstr(out, "\xe2\x80\xa6")); /* the long name was cut */
	assert_non_null(strstr(out, "127.0.0.1"));
	assert_non_null(strstr(out, "1 path: 0 ok, 1 failed\n"));
	free(out);
	probe_run_free(run);
}

static void
assert_str_eq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void
assert_identity_equal(const char *a, const char *b)
{
	json_t *ja, *jb;
	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	ja = json_loads(a, 0, NULL);
	jb = json_loads(b, 0, NULL);
	if (ja == NULL || jb == NULL)
		assert_string_equal(a, b); /* kept as text */
	else
		assert_true(json_equal(ja, jb));
	json_decref(ja);
	json_decref(jb);
}

static void
assert_result_equal(const struct probe_result *a, const struct probe_result *b)
{
	assert_str_eq_null(a->rule_id, b->rule_id);
	assert_int_equal(a->service, b->service);
	assert_int_equal(a->port, b->port);
	assert_str_eq_null(a->src_host, b->src_host);
	assert_str_eq_null(a->src_addr, b->src_addr);
	assert_str_eq_null(a->src_role, b->src_role);
	assert_str_eq_null(a->dst_host, b->dst_host);
	assert_str_eq_null(a->dst_addr, b->dst_addr);
	assert_str_eq_null(a->dst_role, b->dst_role);
	assert_str_eq_null(a->target, b->target);
	assert_int_equal(a->expect_blocked, b->expect_blocked);
	assert_int_equal(a->outcome, b->outcome);
	assert_int_equal(a->ok, b->ok);
	assert_str_eq_null(a->detail, b->detail);
	assert_string_equal(report_fix_sentence(a), report_fix_sentence(b));
	assert_true(a->t_connect_ms == b->t_connect_ms);
	assert_true(a->t_handshake_ms == b->t_handshake_ms);
	assert_true(a->t_first_ms == b->t_first_ms);
	assert_str_eq_null(a->tls.version, b->tls.version);
	assert_str_eq_null(a->tls.cipher, b->tls.cipher);
	assert_int_equal(a->tls.client_cert_requested, b->tls.client_cert_requested);
	assert_int_equal(a->tls.client_cert_sent, b->tls.client_cert_sent);
	assert_int_equal(a->tls.nca_names, b->tls.nca_names);
	for (size_t i = 0; i < a->tls.nca_names; i++)
		assert_string_equal(a->tls.ca_names[i], b->tls.ca_names[i]);
	assert_int_equal(a->tls.verify_result, b->tls.verify_result);
	assert_str_eq_null(a->tls.verify_error, b->tls.verify_error);
	assert_int_equal(a->tls.nchain, b->tls.nchain);
	for (size_t i = 0; i < a->tls.nchain; i++) {
		const struct probe_cert *x = &a->tls.chain[i], *y = &b->tls.chain[i];
		assert_str_eq_null(x->subject, y->subject);
		assert_str_eq_null(x->issuer, y->issuer);
		assert_str_eq_null(x->not_after, y->not_after);
		assert_int_equal(x->nsans, y->nsans);
		for (size_t j = 0; j < x->nsans; j++)
			assert_string_equal(x->sans[j], y->sans[j]);
		assert_int_equal(x->nekus, y->nekus);
		for (size_t j = 0; j < x->nekus; j++)
			assert_string_equal(x->ekus[j], y->ekus[j]);
	}
	assert_str_eq_null(a->peer_seen, b->peer_seen);
	assert_identity_equal(a->identity, b->identity);
}

static void
test_json_round_trip(void **state)
{
	struct probe_run *run = fx_run(), *back = probe_run_new(NULL, NULL);
	char *out, err[512];
	size_t len, *ia, *ib;
	json_t *doc, *sum;
	(void)state;

	run->partial = true;
	assert_int_equal(report_render(run, REPORT_JSON, &out, &len), 0);
	assert_int_equal(report_read_json_buffer(out, len, "rt.json", back, err, sizeof err), 0);
	assert_int_equal(back->n, run->n);
	assert_string_equal(back->scenario, "single-director");
	assert_string_equal(back->source_host, "rp01");
	assert_string_equal(back->started, "2026-11-25T07:00:00Z");
	assert_true(back->duration_ms == 3012.5);
	assert_true(back->partial);
	ia = report_sorted_index(run);
	ib = report_sorted_index(back);
	for (size_t i = 0; i < run->n; i++)
		assert_result_equal(&run->results[ia[i]], &back->results[ib[i]]);
	free(ia);
	free(ib);

	/* the document itself: schema, tool, summary and typed members */
	doc = json_loadb(out, len, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "schema")), "lyncmock-report/2");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(doc, "tool"), "version")),
	    LM_VERSION);
	sum = json_object_get(doc, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "total")), run->n);
	assert_int_equal(json_integer_value(json_object_get(sum, "failed")),
	                 probe_run_failures(run));
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(sum, "by_outcome"), "filtered")), 2);
	assert_int_equal(json_object_size(json_object_get(sum, "by_outcome")), LM_OUT__COUNT);
	{
		json_t *r0 = json_array_get(json_object_get(doc, "results"), 0);
		/* the pass result (outcome 0) is last once sorted: rule-NN-pass, NN = LM_OUT__COUNT
		 * + 2 */
		json_t *r15 = json_array_get(json_object_get(doc, "results"), LM_OUT__COUNT + 1);
		assert_string_equal(json_string_value(json_object_get(r0, "rule")),
		                    "rule-01-blocked");
		assert_true(json_is_object(json_object_get(r0, "identity")));
		assert_true(json_is_null(json_object_get(r0, "tls")));
		assert_true(
		    json_is_null(json_object_get(json_object_get(r0, "timings"), "handshake_ms")));
		assert_string_equal(json_string_value(json_object_get(r0, "expect")), "blocked");
		assert_string_equal(json_string_value(json_object_get(r0, "verdict")), "fail");
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(r0, "to"), "role")),
		    "director");
		/* the pass result: ok, and an empty fix */
		assert_string_equal(json_string_value(json_object_get(r15, "verdict")), "ok");
		assert_string_equal(json_string_value(json_object_get(r15, "fix")), "");
	}
	json_decref(doc);
	free(out);
	probe_run_free(back);
	probe_run_free(run);
}

static void
test_json_merge(void **state)
{
	struct probe_run *a = fx_run(), *b = fx_run(), *m = probe_run_new(NULL, NULL);
	char *ja, *jb, err[512];
	size_t la, lb;
	(void)state;

	free(b->source_host);
	b->source_host = strdup("edge01");
	free(b->started);
	b->started = strdup("2026-11-25T06:59:00Z");
	b->duration_ms = 5000;
	b->partial = true;
	a->note = strdup("source address 198.18.0.10 not bound");
	b->note = strdup("edge note");
	assert_int_equal(report_render(a, REPORT_JSON, &ja, &la), 0);
	assert_int_equal(report_render(b, REPORT_JSON, &jb, &lb), 0);

	assert_int_equal(report_read_json_buffer(ja, la, "a.json", m, err, sizeof err), 0);
	assert_string_equal(m->source_host, "rp01");
	assert_false(m->partial);
	assert_int_equal(report_read_json_buffer(jb, lb, "b.json", m, err, sizeof err), 0);
	assert_null(m->source_host);
	assert_true(m->partial);
	assert_int_equal(m->n, a->n + b->n);
	assert_string_equal(m->started, "2026-11-25T06:59:00Z");
	assert_true(m->duration_ms == 5000);
	assert_string_equal(m->scenario, "single-director");
	assert_string_equal(m->note, "source address 198.18.0.10 not bound; edge note");
	assert_int_equal(probe_run_failures(m), probe_run_failures(a) * 2);
	/* same source twice stays that source */
	{
		struct probe_run *s = probe_run_new(NULL, NULL);
		assert_int_equal(report_read_json_buffer(ja, la, "a.json", s, err, sizeof err), 0);
		assert_int_equal(report_read_json_buffer(ja, la, "a.json", s, err, sizeof err), 0);
		assert_string_equal(s->source_host, "rp01");
		assert_string_equal(s->note, "source address 198.18.0.10 not bound");
		assert_int_equal(s->n, 2 * a->n);
		probe_run_free(s);
	}
	free(ja);
	free(jb);
	probe_run_free(a);
	probe_run_free(b);
	probe_run_free(m);
}

/* Each bad input must give exactly this message (or contain it) and leave the run alone. */
static void
test_json_malformed(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
	} cases[] = {
	    {"", "bad.json:1:0: "},
	    {"{\"schema\": \"lyncmock-report/1\", \"results\": [", "bad.json:1:"},
	    {"[1,2]", "bad.json: not a lyncmock report (the top level is an array, not an object)"},
	    {"{}",
	     "bad.json: schema: not a lyncmock report (no \"schema\": \"lyncmock-report/2\")"},
	    {"{\"schema\":\"lyncmock-report/3\",\"results\":[]}",
	     "bad.json: schema: unsupported schema 'lyncmock-report/3' (this lyncmock reads "
	     "lyncmock-report/2 and lyncmock-report/1)"},
	    {"{\"schema\":\"lyncmock-report/1\"}",
	     "bad.json: results: expected an array, got nothing"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":{}}",
	     "bad.json: results: expected an array, got an object"},
	    {"{\"schema\":\"lyncmock-report/1\",\"partial\":\"yes\",\"results\":[]}",
	     "bad.json: partial: expected true or false, got a string"},
	    {"{\"schema\":\"lyncmock-report/1\",\"scenario\":7,\"results\":[]}",
	     "bad.json: scenario: expected a string, got an integer"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[7]}",
	     "bad.json: results[0]: expected an object, got an integer"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{}]}",
	     "bad.json: results[0].service: missing (a string is required)"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{\"service\":\"gopher\"}]}",
	     "bad.json: results[0].service: unknown service 'gopher'"},
	    {"{\"schema\":\"lyncmock-report/"
	     "1\",\"results\":[{\"service\":\"http\",\"port\":\"80\"}]}",
	     "bad.json: results[0].port: expected an integer, got a string"},
	    {"{\"schema\":\"lyncmock-report/"
	     "1\",\"results\":[{\"service\":\"http\",\"port\":70000}]}",
	     "bad.json: results[0].port: 70000 is not a port (0-65535)"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{\"service\":\"http\",\"port\":80}]}",
	     "bad.json: results[0].from: missing (an object is required)"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{\"service\":\"http\",\"port\":80,"
	     "\"from\":{\"host\":1},\"to\":{}}]}",
	     "bad.json: results[0].from.host: expected a string, got an integer"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{\"service\":\"http\",\"port\":80,"
	     "\"from\":{},\"to\":{},\"expect\":\"maybe\"}]}",
	     "bad.json: results[0].expect: unknown expectation 'maybe' (open or blocked)"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{\"service\":\"http\",\"port\":80,"
	     "\"from\":{},\"to\":{},\"expect\":\"open\",\"outcome\":\"x\"}]}",
	     "bad.json: results[0].outcome: unknown outcome 'x'"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{\"service\":\"http\",\"port\":80,"
	     "\"from\":{},\"to\":{},\"expect\":\"open\",\"outcome\":\"pass\",\"verdict\":true}]}",
	     "bad.json: results[0].verdict: expected a string, got a boolean"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{\"service\":\"http\",\"port\":80,"
	     "\"from\":{},\"to\":{},\"expect\":\"open\",\"outcome\":\"pass\",\"verdict\":\"ok\","
	     "\"timings\":{\"connect_ms\":\"1\"}}]}",
	     "bad.json: results[0].timings.connect_ms: expected a number of milliseconds or "
	     "null, got a string"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{\"service\":\"http\",\"port\":80,"
	     "\"from\":{},\"to\":{},\"expect\":\"open\",\"outcome\":\"pass\",\"verdict\":\"ok\","
	     "\"tls\":{\"chain\":[{\"sans\":[\"DNS:a\",3]}]}}]}",
	     "bad.json: results[0].tls.chain[0].sans[1]: expected a string, got an integer"},
	    {"{\"schema\":\"lyncmock-report/1\",\"results\":[{\"service\":\"http\",\"port\":80,"
	     "\"from\":{},\"to\":{},\"expect\":\"open\",\"outcome\":\"pass\",\"verdict\":\"ok\","
	     "\"detail\":\"a\\u0000b\"}]}",
	     "bad.json:1:154: \\u0000 is not allowed"},
	    {"{\"schema\":\"lyncmock-report/1\",\"schema\":\"lyncmock-report/1\",\"results\":[]}",
	     "bad.json:1:"},
	};
	struct probe_run *run = fx_run();
	size_t n0 = run->n;
	char err[512];
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		assert_int_equal(report_read_json_buffer(cases[i].in, strlen(cases[i].in),
		                                         "bad.json", run, err, sizeof err),
		                 -1);
		if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].msg);
		assert_int_equal(run->n, n0);
		assert_string_equal(run->source_host, "rp01");
		assert_false(run->partial);
	}
	/* a valid minimal report is accepted */
	{
		const char *ok =
		    "{\"schema\":\"lyncmock-report/1\",\"partial\":true,\"results\":["
		    "{\"service\":\"cls-mtls\",\"port\":50001,\"from\":{},\"to\":{},"
		    "\"expect\":\"blocked\",\"outcome\":\"filtered\",\"verdict\":\"ok\"}]}";
		assert_int_equal(
		    report_read_json_buffer(ok, strlen(ok), "ok.json", run, err, sizeof err), 0);
		assert_int_equal(run->n, n0 + 1);
		assert_true(run->partial);
		assert_true(run->results[n0].t_connect_ms < 0);
		assert_true(run->results[n0].expect_blocked && run->results[n0].ok);
	}
	assert_int_equal(report_read_json("/nonexistent/x.json", run, err, sizeof err), -1);
	assert_string_equal(err, "/nonexistent/x.json: No such file or directory");
	probe_run_free(run);
}

static int
xpath_count(xmlXPathContextPtr ctx, const char *expr)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	int n;
	assert_non_null(o);
	n = o->nodesetval ? o->nodesetval->nodeNr : 0;
	xmlXPathFreeObject(o);
	return n;
}

static char *
xpath_string(xmlXPathContextPtr ctx, const char *expr)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlChar *s;
	char *r;
	assert_non_null(o);
	s = xmlXPathCastToString(o);
	r = strdup((char *)s);
	xmlFree(s);
	xmlXPathFreeObject(o);
	return r;
}

static void
test_junit(void **state)
{
	struct probe_run *run = fx_run();
	char *out, expr[256], *s;
	size_t len;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
	(void)state;

	run->partial = true;
	assert_int_equal(report_render(run, REPORT_JUNIT, &out, &len), 0);
	doc = xmlReadMemory(out, (int)len, "junit.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	ctx = xmlXPathNewContext(doc);
	assert_int_equal(xpath_count(ctx, "/testsuites/testsuite"), 2);
	assert_int_equal(xpath_count(ctx, "//testcase"), run->n);
	assert_int_equal(xpath_count(ctx, "//testcase/failure"), probe_run_failures(run));
	s = xpath_string(ctx, "/testsuites/@failures");
	assert_int_equal(atoi(s), probe_run_failures(run));
	free(s);
	s = xpath_string(ctx, "string(/testsuites/testsuite[@name='rp01']/properties/"
	                      "property[@name='partial']/@value)");
	assert_string_equal(s, "true");
	free(s);
	s = xpath_string(ctx, "string(/testsuites/testsuite[@name='edge01']/properties/"
	                      "property[@name='scenario']/@value)");
	assert_string_equal(s, "single-director");
	free(s);
	/* per suite counts add up */
	s = xpath_string(ctx, "sum(/testsuites/testsuite/@tests)");
	assert_int_equal(atoi(s), run->n);
	free(s);
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[i];
		snprintf(expr, sizeof expr, "//testcase[@name='%s %s->dir01:%u']", r->rule_id,
		         r->src_host, (unsigned)r->port);
		assert_int_equal(xpath_count(ctx, expr), 1);
		snprintf(expr, sizeof expr,
		         "string(//testcase[@name='%s %s->dir01:%u']/@classname)", r->rule_id,
		         r->src_host, (unsigned)r->port);
		s = xpath_string(ctx, expr);
		assert_true(strncmp(s, "lyncmock.", 9) == 0 && strcmp(s + 9, r->src_host) == 0);
		free(s);
		if (r->ok)
			continue;
		snprintf(expr, sizeof expr,
		         "string(//testcase[@name='%s %s->dir01:%u']/failure/@message)", r->rule_id,
		         r->src_host, (unsigned)r->port);
		s = xpath_string(ctx, expr);
		assert_string_equal(s, report_fix_sentence(r));
		free(s);
		snprintf(expr, sizeof expr,
		         "string(//testcase[@name='%s %s->dir01:%u']/failure/@type)", r->rule_id,
		         r->src_host, (unsigned)r->port);
		s = xpath_string(ctx, expr);
		assert_string_equal(s, lm_outcome_name(r->outcome));
		free(s);
	}
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	free(out);
	probe_run_free(run);
}

static void
test_junit_hostile(void **state)
{
	struct probe_run *run = probe_run_new("s<c>&\"n", NULL);
	struct probe_result *r = probe_run_add(run);
	char *out, *s;
	size_t len;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
	(void)state;

	r->rule_id = strdup("r]]>&<x/>\x01\xff");
	r->src_host = strdup("h\"o'st");
	r->outcome = LM_OUT_WRONG_RESPONDER;
	r->detail = strdup("]]></failure><x>\x1b\x02 \xed\xa0\x80");
	r->fix = strdup("fix & <this>");
	assert_int_equal(report_render(run, REPORT_JUNIT, &out, &len), 0);
	doc = xmlReadMemory(out, (int)len, "junit.xml", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	ctx = xmlXPathNewContext(doc);
	assert_int_equal(xpath_count(ctx, "//testcase"), 1);
	assert_int_equal(xpath_count(ctx, "//x"), 0);
	s = xpath_string(ctx, "string(//failure/@message)");
	assert_string_equal(s, "fix & <this>");
	free(s);
	s = xpath_string(ctx, "string(//testsuite/@name)");
	assert_string_equal(s, "h\"o'st");
	free(s);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	free(out);
	probe_run_free(run);
}

static char *
quoted(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	report_dot_quote(f, s);
	fclose(f);
	return buf;
}

static void
test_dot_quote(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"dir01", "\"dir01\""},
	    {"", "\"\""},
	    {"a\"b", "\"a\\\"b\""},
	    {"a\\", "\"a\\\\\""},
	    {"\\N\\G", "\"\\\\N\\\\G\""},
	    {"x\ny", "\"x\\ny\""},
	    {"\"; evil -> x [label=1]; \"", "\"\\\"; evil -> x [label=1]; \\\"\""},
	    {"a\\\nb", "\"a\\\\\\nb\""},
	    {"t\tz\r\x01", "\"t z\xef\xbf\xbd\xef\xbf\xbd\""},
	    {"\xff", "\"\xef\xbf\xbd\""},
	    {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *q = quoted(cases[i].in);
		if (strcmp(q, cases[i].out) != 0)
			fail_msg("case %zu: got %s want %s", i, q, cases[i].out);
		free(q);
	}
}

static void
test_dot(void **state)
{
	struct probe_run *run = fx_run();
	char *out;
	size_t len;
	(void)state;

	assert_int_equal(report_render(run, REPORT_DOT, &out, &len), 0);
	assert_true(strncmp(out, "digraph lyncmock {", 18) == 0);
	assert_int_equal(count_of(out, "subgraph \"cluster_"), 3);
	assert_non_null(strstr(out, "subgraph \"cluster_director\""));
	assert_non_null(strstr(out, "\"dir01\" [label=\"dir01\\ndirector\\n198.18.1.10\"]"));
	assert_int_equal(count_of(out, " -> "), run->n);
	assert_int_equal(count_of(out, ", color=\"#c62828\""), probe_run_failures(run));
	/* the one blocked rule that held is dashed grey */
	assert_int_equal(count_of(out, "style=dashed"), 1);
	{
		char want[96];
		snprintf(want, sizeof want,
		         "\"rp01\" -> \"dir01\" [label=\"rule-%02d-pass\\nhttp/8080\"",
		         LM_OUT__COUNT + 2);
		assert_non_null(strstr(out, want));
	}
	assert_non_null(strstr(out, "tooltip=\"refused: connect: Connection refused\""));
	free(out);
	probe_run_free(run);
}

/* A whole file from the source tree, NUL-terminated (NULL when unreadable). */
static char *
source_file(const char *rel)
{
	char path[1024], *buf = NULL;
	const char *dir = getenv("LM_SOURCE_DIR");
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", rel);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Every outcome of the one table is documented (README's table, the JSON
 * schema's list) and carried by JUnit (failure type) and DOT (tooltip). */
static void
test_outcomes_everywhere(void **state)
{
	struct probe_run *run = fx_run();
	char *readme = source_file("README.md"), *schema = source_file("docs/report-json.md");
	char *junit, *dot, want[128];
	size_t len;
	(void)state;

	assert_non_null(readme);
	assert_non_null(schema);
	assert_int_equal(report_render(run, REPORT_JUNIT, &junit, &len), 0);
	assert_int_equal(report_render(run, REPORT_DOT, &dot, &len), 0);
	for (int o = 0; o < LM_OUT__COUNT; o++) {
		const char *n = lm_outcome_name((enum lm_outcome)o);
		/* local-error is the probe's own trouble, not a network outcome (not in SPEC §3) */
		if (o != LM_OUT_LOCAL_ERROR) {
			snprintf(want, sizeof want, "\n| %s | ", n);
			if (strstr(readme, want) == NULL)
				fail_msg("README.md's outcome table lacks %s", n);
		}
		snprintf(want, sizeof want, "`%s`", n);
		if (strstr(schema, want) == NULL)
			fail_msg("docs/report-json.md lacks %s", n);
		snprintf(want, sizeof want, "tooltip=\"%s", n);
		if (strstr(dot, want) == NULL)
			fail_msg("DOT lacks %s", n);
		snprintf(want, sizeof want, "type=\"%s\"", n);
		if (o != LM_OUT_PASS && o != LM_OUT_FOREIGN_PEER && strstr(junit, want) == NULL)
			fail_msg("JUnit lacks %s", n);
	}
	free(junit);
	free(dot);
	free(readme);
	free(schema);
	probe_run_free(run);
}

/* The fix sentences of UDP paths say UDP and ICMP, never "TCP" (with facts or without). */
static void
test_fix_udp(void **state)
{
	static const enum lm_outcome outs[] = {LM_OUT_REFUSED, LM_OUT_UNREACHABLE, LM_OUT_FILTERED};
	static const char *answers[] = {NULL, "icmp-port-unreachable", "icmp-admin-prohibited",
	                                "icmp-host-unreachable"};
	static const char *by[] = {"198.18.1.30", "198.18.10.1"};

	(void)state;
	for (size_t o = 0; o < sizeof outs / sizeof *outs; o++)
		for (size_t a = 0; a < sizeof answers / sizeof *answers; a++)
			for (size_t b = 0; b < 2; b++) {
				struct probe_result r = {
				    .service = LM_SVC_STUN, .port = 3478, .outcome = outs[o]};
				char *fix;
				r.src_host = "cl01";
				r.dst_host = "edge01";
				r.dst_addr = "198.18.1.30";
				r.facts.answer = (char *)answers[a];
				r.facts.answered_by = answers[a] ? (char *)by[b] : NULL;
				fix = report_fix_build(&r);
				assert_non_null(fix);
				if (strstr(fix, "TCP") != NULL || strstr(fix, "UDP") == NULL ||
				    strstr(fix, "3478") == NULL)
					fail_msg("%s/%s/%s: %s", lm_outcome_name(outs[o]),
					         answers[a] ? answers[a] : "-", by[b], fix);
				free(fix);
			}
	/* a closed UDP port answers port-unreachable itself: start the listener */
	{
		struct probe_result r = {
		    .service = LM_SVC_STUN, .port = 3478, .outcome = LM_OUT_REFUSED};
		char *fix;
		r.src_host = "cl01";
		r.dst_host = "edge01";
		r.dst_addr = "198.18.1.30";
		r.facts.answer = "icmp-port-unreachable";
		r.facts.answered_by = "198.18.1.30";
		fix = report_fix_build(&r);
		assert_string_equal(
		    fix, "Start the stun listener on edge01 (198.18.1.30) UDP port 3478: "
		         "198.18.1.30 answers UDP 3478 from cl01 with ICMP "
		         "port-unreachable (nothing listens there, or its own firewall "
		         "rejects the port).");
		free(fix);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_names),  cmocka_unit_test(test_clean_text),
	    cmocka_unit_test(test_sorted_index),  cmocka_unit_test(test_table),
	    cmocka_unit_test(test_table_hostile), cmocka_unit_test(test_json_round_trip),
	    cmocka_unit_test(test_json_merge),    cmocka_unit_test(test_json_malformed),
	    cmocka_unit_test(test_junit),         cmocka_unit_test(test_junit_hostile),
	    cmocka_unit_test(test_dot_quote),     cmocka_unit_test(test_dot),
	    cmocka_unit_test(test_fix_udp),       cmocka_unit_test(test_outcomes_everywhere),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
