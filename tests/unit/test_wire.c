/* The listener/probe wire format (wire/): what a listener builds, a probe
 * reads back field for field; the CLS line both sides speak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/wire.h"

static const struct wire_ident id_tls = {
    .scenario = "listen-lab",
    .host = "dir01",
    .role = "director",
    .listener = "sip-mtls",
    .port = 5061,
    .local = "127.0.3.1:5061",
    .peer = "127.0.3.3:40000",
    .tls = true,
    .tls_version = "TLSv1.3",
    .tls_cipher = "TLS_AES_256_GCM_SHA384",
    .client_cert = "CN=edge01-int.contoso.local",
    .server_cert = "CN=dirpool.contoso.local",
    .server_cert_sha256 = "aa11",
    .client_cert_sha256 = "bb22",
};

/* Builds, dumps and reads back with the probe's reader. */
static void
roundtrip(const struct wire_ident *id, const char *token, struct wire_record *r)
{
	json_t *o = wire_ident_json(id, token);
	char *s;

	assert_non_null(o);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_non_null(s);
	assert_int_equal(wire_record_parse(s, strlen(s), r), 0);
	free(s);
}

static void
test_ident_roundtrip(void **state)
{
	struct wire_record r;

	(void)state;
	roundtrip(&id_tls, "tok\"1", &r);
	assert_string_equal(r.service, WIRE_SERVICE);
	assert_string_equal(r.scenario, "listen-lab");
	assert_string_equal(r.host, "dir01");
	assert_string_equal(r.role, "director");
	assert_string_equal(r.listener, "sip-mtls");
	assert_int_equal(r.port, 5061);
	assert_string_equal(r.local, "127.0.3.1:5061");
	assert_string_equal(r.peer, "127.0.3.3:40000");
	assert_string_equal(r.token, "tok\"1");
	assert_string_equal(r.client_cert, "CN=edge01-int.contoso.local");
	assert_string_equal(r.server_cert_sha256, "aa11");
	assert_string_equal(r.client_cert_sha256, "bb22");
	assert_null(r.request_line);
	wire_record_clear(&r);
	assert_null(r.host);
	assert_int_equal(r.port, -1);
}

static void
test_ident_plain_and_hostile_text(void **state)
{
	struct wire_ident id = {.scenario = "s",
	                        .host = "h\xff\xfe",
	                        .role = "r",
	                        .listener = "http",
	                        .port = 80,
	                        .local = "l",
	                        .peer = "p"};
	struct wire_record r;
	json_t *o;

	(void)state;
	o = wire_ident_json(&id, NULL);
	assert_non_null(o);
	assert_true(json_is_null(json_object_get(o, WIRE_F_TLS)));
	assert_true(json_is_null(json_object_get(o, WIRE_F_TOKEN)));
	json_decref(o);
	/* bytes that are not UTF-8 become U+FFFD instead of failing */
	roundtrip(&id, NULL, &r);
	assert_string_equal(r.host, "h\xef\xbf\xbd\xef\xbf\xbd");
	assert_null(r.token);
	assert_null(r.client_cert);
	wire_record_clear(&r);
}

/* extra members as text (a wire_json_members) */
static void
write_text(struct wire_json *w, const void *arg)
{
	wire_json_raw(w, arg, strlen(arg));
}

static void
test_ident_dump(void **state)
{
	struct wire_cache cache = {0};
	struct wire_ident id = id_tls;
	json_t *o, *extra, *want;
	char small[64], big[4096], *s, *d, *et;
	size_t n;

	(void)state;
	/* the text is what jansson gives for the whole object, extra keys last */
	extra = json_pack("{s:{s:s}}", WIRE_F_REQUEST, WIRE_F_REQ_LINE, "GET / HTTP/1.1");
	o = wire_ident_json(&id, "t1");
	json_object_update(o, extra);
	want = o;
	s = json_dumps(want, JSON_COMPACT);
	et = json_dumps(extra, JSON_COMPACT | JSON_EMBED);
	d = wire_ident_dump(&id, "t1", write_text, et, big, sizeof big, &n);
	assert_ptr_equal(d, big);
	assert_int_equal(n, strlen(s));
	assert_memory_equal(d, s, n);
	/* too small a buffer: allocated, same text */
	d = wire_ident_dump(&id, "t1", write_text, et, small, sizeof small, &n);
	assert_non_null(d);
	assert_true(d != small);
	assert_memory_equal(d, s, n);
	free(d);
	free(s);
	free(et);
	json_decref(want);
	/* with a cache the facts are dumped once: a changed fact is not seen,
	 * the token is */
	id.cache = &cache;
	d = wire_ident_dump(&id, "one", NULL, NULL, big, sizeof big, &n);
	assert_non_null(cache.head);
	id.host = "changed";
	d = wire_ident_dump(&id, "two", NULL, NULL, big, sizeof big, &n);
	o = json_loadb(d, n, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, WIRE_F_TOKEN)), "two");
	assert_string_equal(json_string_value(json_object_get(o, WIRE_F_HOST)), "dir01");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(o, WIRE_F_TLS), WIRE_F_TLS_CIPHER)),
	    "TLS_AES_256_GCM_SHA384");
	json_decref(o);
	json_decref(extra);
	wire_cache_clear(&cache);
	assert_null(cache.head);
}

/* s through jansson alone, as the reference */
static char *
jansson_text(const char *s)
{
	char buf[2048];
	struct wire_json w = {buf, sizeof buf, 0, false};

	wire_json_str(&w, s);
	assert_false(w.failed);
	assert_true(w.len <= w.cap);
	return strndup(buf, w.len);
}

/* through memo m into a buffer of cap bytes: the text, or NULL when it
 * was only counted */
static char *
memo_text(const char *s, struct wire_memo *m, size_t cap)
{
	char buf[2048];
	struct wire_json w = {buf, cap, 0, false};

	wire_json_str_memo(&w, s, m);
	assert_false(w.failed);
	return w.len <= w.cap ? strndup(buf, w.len) : NULL;
}

static void
test_json_str_memo(void **state)
{
	static const char *const texts[] = {
	    "GET /lyncmock/probe?token=b HTTP/1.1",
	    "GET /lyncmock/probe?token=c HTTP/1.1",
	    "q\"uote\\ \x01 \xc3\xa9",
	    "bad \xff\xfe utf-8",
	    "",
	    "GET /lyncmock/probe?token=b",
	};
	struct wire_memo m = {0};
	char long_text[400], *want, *got;
	size_t i, round;

	(void)state;
	/* every string, twice and in turn: each time exactly jansson's text */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
			want = jansson_text(texts[i]);
			got = memo_text(texts[i], &m, 2048);
			assert_string_equal(got, want);
			assert_int_equal(m.src_len, strlen(texts[i]));
			got[0] = '\0';
			free(got);
			got = memo_text(texts[i], &m, 2048); /* the hit */
			assert_string_equal(got, want);
			free(got);
			free(want);
		}
	}
	/* a hit is the memo's copy: a planted entry shows it was used */
	free(memo_text("abc", &m, 2048));
	memcpy(m.enc, "\"ABC\"", 5);
	got = memo_text("abc", &m, 2048);
	assert_string_equal(got, "\"ABC\"");
	free(got);
	/* a prefix or a longer string is no hit */
	got = memo_text("ab", &m, 2048);
	assert_string_equal(got, "\"ab\"");
	free(got);
	/* only counted (no room): not kept, and the next call is right */
	assert_null(memo_text("counted only", &m, 4));
	assert_int_equal(m.src_len, 2);
	got = memo_text("counted only", &m, 2048);
	assert_string_equal(got, "\"counted only\"");
	free(got);
	/* longer than a memo holds: written, not kept */
	memset(long_text, 'x', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	want = jansson_text(long_text);
	got = memo_text(long_text, &m, 2048);
	assert_string_equal(got, want);
	assert_int_equal(m.src_len, strlen("counted only"));
	free(got);
	free(want);
	/* NULL is JSON null, memo or not */
	got = memo_text(NULL, &m, 2048);
	assert_string_equal(got, "null");
	free(got);
}

static void
test_record_refuses(void **state)
{
	struct wire_record r;
	static const char http[] =
	    "{\"service\":\"lyncmock\",\"host\":\"d\",\"request\":{\"line\":\"GET / HTTP/1.1\","
	    "\"forwarded\":{\"Via\":\"1.1 p\",\"X-Forwarded-For\":\"198.18.0.10\"}}}";

	(void)state;
	assert_int_equal(wire_record_parse("{\"service\":\"nginx\"}", 19, &r), 1);
	assert_int_equal(wire_record_parse("[]", 2, &r), 1);
	assert_int_equal(wire_record_parse("nope", 4, &r), -1);
	assert_int_equal(
	    wire_record_parse("{\"service\":\"lyncmock\",\"service\":\"lyncmock\"}", 44, &r), -1);
	assert_int_equal(wire_record_parse(http, strlen(http), &r), 0);
	assert_string_equal(r.request_line, "GET / HTTP/1.1");
	assert_string_equal(r.proxy_headers, "Via, X-Forwarded-For");
	assert_string_equal(r.forwarded_for, "198.18.0.10");
	wire_record_clear(&r);
}

static void
test_cls_line(void **state)
{
	char line[64];
	const char *tok;
	size_t toklen;
	struct evbuffer *out = evbuffer_new();
	char *got;
	size_t n;

	(void)state;
	/* what the probe sends, the listener accepts */
	n = (size_t)wire_cls_request(line, sizeof line, "t-42");
	assert_int_equal(n, strlen("LYNCMOCK PROBE t-42\r\n"));
	assert_memory_equal(line, "LYNCMOCK PROBE t-42\r\n", n);
	assert_null(wire_cls_check(line, n - 2, &tok, &toklen));
	assert_int_equal(toklen, 4);
	assert_memory_equal(tok, "t-42", 4);
	assert_string_equal(wire_cls_check("HELLO", 5, &tok, &toklen), "unknown command");
	assert_string_equal(wire_cls_check("LYNCMOCK PROBE ", 15, &tok, &toklen), "missing token");
	assert_string_equal(wire_cls_check("LYNCMOCK PROBE a b", 18, &tok, &toklen), "bad token");
	/* what the listener refuses with, the probe recognises */
	assert_int_equal(wire_cls_err(out, "unknown command"), 0);
	n = evbuffer_get_length(out);
	got = (char *)evbuffer_pullup(out, -1);
	assert_memory_equal(got, "ERR unknown command\r\n", n);
	assert_true(wire_cls_is_err(got, n - 2));
	assert_true(wire_cls_is_err("ERR", 3));
	assert_false(wire_cls_is_err("ERRATA", 6));
	assert_false(wire_cls_is_err("{\"service\":\"lyncmock\"}", 22));
	evbuffer_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ident_roundtrip),
	    cmocka_unit_test(test_ident_plain_and_hostile_text),
	    cmocka_unit_test(test_ident_dump),
	    cmocka_unit_test(test_json_str_memo),
	    cmocka_unit_test(test_record_refuses),
	    cmocka_unit_test(test_cls_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
