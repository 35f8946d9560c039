/* The listeners' pure protocol pieces: identity record, CLS lines, HTTP probe answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/keyvalq_struct.h>

#include <event2/http.h>

#include "listeners/listener_priv.h"

static const struct wire_ident id_tls = {
    .scenario = "listen-lab",
    .host = "edge01",
    .role = "edge-internal",
    .listener = "cls-mtls",
    .port = 50001,
    .local = "127.0.3.3:50001",
    .peer = "127.0.3.11:4242",
    .tls = true,
    .tls_version = "TLSv1.2",
    .tls_cipher = "ECDHE-RSA-AES256-GCM-SHA384",
    .client_cert = NULL,
};

static const struct wire_ident id_http = {
    .scenario = "listen-lab",
    .host = "dir<01>",
    .role = "director",
    .listener = "http",
    .port = 8080,
    .local = "127.0.3.1:8080",
    .peer = "127.0.3.10:5555",
    .tls = false,
};

static void
test_identity_fields(void **state)
{
	json_t *o, *tls;

	(void)state;
	o = wire_ident_json(&id_tls, "t\"1");
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "service")), "lyncmock");
	assert_string_equal(json_string_value(json_object_get(o, "version")), LM_VERSION);
	assert_string_equal(json_string_value(json_object_get(o, "token")), "t\"1");
	assert_int_equal(json_integer_value(json_object_get(o, "port")), 50001);
	assert_string_equal(json_string_value(json_object_get(o, "role")), "edge-internal");
	tls = json_object_get(o, "tls");
	assert_true(json_is_object(tls));
	assert_true(json_is_null(json_object_get(tls, "client_cert")));
	assert_int_equal(json_object_size(o), 11);
	json_decref(o);
	o = wire_ident_json(&id_http, NULL);
	assert_true(json_is_null(json_object_get(o, "tls")));
	assert_true(json_is_null(json_object_get(o, "token")));
	json_decref(o);
}

static char *
out_text(struct evbuffer *out)
{
	return strndup((const char *)evbuffer_pullup(out, -1), evbuffer_get_length(out));
}

static void
test_cls_lines(void **state)
{
	struct evbuffer *out = evbuffer_new();
	const char *in = "LYNCMOCK PROBE abc\r\nLYNCMOCK PROBE def\nLYNCMOCK PRO";
	unsigned req = 0;
	bool close;
	char why[64], *text, *nl;
	size_t used;
	json_t *j;

	(void)state;
	used = cls_process(in, strlen(in), &id_tls, out, &req, &close, why, sizeof why);
	assert_false(close);
	assert_int_equal(req, 2);
	assert_int_equal(used, strlen(in) - strlen("LYNCMOCK PRO"));
	text = out_text(out);
	nl = strstr(text, "\r\n");
	assert_non_null(nl);
	j = json_loadb(text, (size_t)(nl - text), 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "token")), "abc");
	json_decref(j);
	free(text);
	evbuffer_free(out);
}

static void
test_cls_errors(void **state)
{
	static const struct {
		const char *in, *answer;
	} cases[] = {
	    {"HELLO\r\n", "ERR unknown command\r\n"},
	    {"LYNCMOCK PROBE \r\n", "ERR missing token\r\n"},
	    {"LYNCMOCK PROBE a b\r\n", "ERR bad token\r\n"},
	    {"\r\n", "ERR unknown command\r\n"},
	};
	char line[WIRE_CLS_MAX_LINE + 10], why[64], *text;
	unsigned req;
	bool close;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct evbuffer *out = evbuffer_new();
		req = 0;
		cls_process(cases[i].in, strlen(cases[i].in), &id_tls, out, &req, &close, why,
		            sizeof why);
		assert_true(close);
		assert_int_equal(req, 0);
		text = out_text(out);
		assert_string_equal(text, cases[i].answer);
		free(text);
		evbuffer_free(out);
	}
	/* no end of line within the limit: refused without waiting for more */
	memset(line, 'L', sizeof line);
	struct evbuffer *out = evbuffer_new();
	cls_process(line, sizeof line, &id_tls, out, &req, &close, why, sizeof why);
	assert_true(close);
	text = out_text(out);
	assert_string_equal(text, "ERR line too long\r\n");
	free(text);
	evbuffer_free(out);
}

static void
test_http_probe(void **state)
{
	static const struct http_header h[] = {
	    {"Host", "webext-dir.contoso.com"},
	    {"X-Forwarded-For", "203.0.113.9"},
	    {"X-Forwarded-For", "198.18.0.10"},
	    {"x-forwarded-proto", "https"},
	    {"User-Agent", "curl"},
	};
	struct http_answer ans;
	json_t *j, *r, *fwd;

	(void)state;
	assert_int_equal(
	    http_answer_build("GET", "/lyncmock/probe?x=1&token=a%20b", 1, 1, h, 5, &id_http, &ans),
	    0);
	assert_int_equal(ans.code, 200);
	assert_true(ans.probe);
	assert_string_equal(ans.content_type, "application/json");
	j = json_loadb(ans.body, ans.len, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "token")), "a b");
	r = json_object_get(j, "request");
	assert_string_equal(json_string_value(json_object_get(r, "line")),
	                    "GET /lyncmock/probe?x=1&token=a%20b HTTP/1.1");
	assert_string_equal(json_string_value(json_object_get(r, "host")),
	                    "webext-dir.contoso.com");
	fwd = json_object_get(r, "forwarded");
	assert_int_equal(json_object_size(fwd), 2);
	assert_string_equal(json_string_value(json_object_get(fwd, "X-Forwarded-For")),
	                    "203.0.113.9, 198.18.0.10");
	assert_string_equal(json_string_value(json_object_get(fwd, "x-forwarded-proto")), "https");
	json_decref(j);
	http_answer_clear(&ans);
	/* no proxy header: an empty object; an escaped probe path is the probe's */
	assert_int_equal(
	    http_answer_build("GET", "/lyncmock/%70robe?token=t", 1, 1, h + 4, 1, &id_http, &ans),
	    0);
	assert_true(ans.probe);
	j = json_loadb(ans.body, ans.len, 0, NULL);
	assert_non_null(j);
	r = json_object_get(j, "request");
	assert_true(json_is_null(json_object_get(r, "host")));
	assert_int_equal(json_object_size(json_object_get(r, "forwarded")), 0);
	assert_true(json_is_object(json_object_get(r, "forwarded")));
	json_decref(j);
	http_answer_clear(&ans);
}

static void
test_http_page_reflects_nothing(void **state)
{
	struct http_answer ans;

	(void)state;
	assert_int_equal(http_answer_build("GET", "/<script>alert(1)</script>?token=<b>", 1, 0,
	                                   NULL, 0, &id_http, &ans),
	                 0);
	assert_int_equal(ans.code, 200);
	assert_false(ans.probe);
	assert_null(strstr(ans.body, "<script>"));
	assert_null(strstr(ans.body, "<b>x"));
	/* the host name is escaped, not reflected raw */
	assert_non_null(strstr(ans.body, "dir&lt;01&gt;"));
	assert_non_null(strstr(ans.body, "director"));
	http_answer_clear(&ans);
	/* no path at all */
	assert_int_equal(http_answer_build("GET", "http://[::1", 1, 0, NULL, 0, &id_http, &ans), 0);
	assert_int_equal(ans.code, 400);
	http_answer_clear(&ans);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity_fields),
	    cmocka_unit_test(test_cls_lines),
	    cmocka_unit_test(test_cls_errors),
	    cmocka_unit_test(test_http_probe),
	    cmocka_unit_test(test_http_page_reflects_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
