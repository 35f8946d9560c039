/* HTTP on the stream path (listeners/http_stream.c): RFC 9112 framing with
 * http-parser, one answer per request, 400 and close on what cannot be framed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "listeners/listener_priv.h"

#define MAX 4096

static const struct wire_ident id = {
    .scenario = "t",
    .host = "dir01",
    .role = "director",
    .listener = "http",
    .port = 8080,
    .local = "127.0.3.1:8080",
    .peer = "127.0.3.10:4000",
};

struct run {
	char out[65536];
	size_t used;
	bool close;
	char why[160];
	struct http_stats st;
};

/* Runs an exact-size heap copy (ASan sees reads past len) through the parser. */
static void
run(const char *s, struct run *r)
{
	size_t len = strlen(s);
	char *copy = malloc(len ? len : 1);
	struct evbuffer *out = evbuffer_new();
	size_t n;

	assert_non_null(copy);
	memcpy(copy, s, len);
	memset(r, 0, sizeof *r);
	r->used =
	    http_stream_process(copy, len, MAX, &id, out, &r->st, &r->close, r->why, sizeof r->why);
	n = evbuffer_get_length(out);
	assert_true(n < sizeof r->out);
	evbuffer_remove(out, r->out, n);
	r->out[n] = '\0';
	evbuffer_free(out);
	free(copy);
}

static unsigned
count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void
test_probe_answer(void **state)
{
	struct run r;
	(void)state;
	run("GET /lyncmock/probe?token=abc HTTP/1.1\r\nHost: dir01\r\n"
	    "X-Forwarded-For: 203.0.113.7\r\n\r\n",
	    &r);
	assert_false(r.close);
	assert_int_equal(r.st.requests, 1);
	assert_non_null(strstr(r.out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r.out, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(r.out, "\"token\":\"abc\""));
	assert_non_null(strstr(r.out, "\"X-Forwarded-For\":\"203.0.113.7\""));
	assert_non_null(strstr(r.out, "\"line\":\"GET /lyncmock/probe?token=abc HTTP/1.1\""));
}

/* RFC 9112 §6.3: two Content-Length values are unrecoverable: 400 and close;
 * the bytes after the head are never served as a second request. */
static void
test_conflicting_content_length(void **state)
{
	struct run r;
	(void)state;
	run("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 38\r\n\r\n"
	    "GET /lyncmock/probe?token=smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
	    &r);
	assert_true(r.close);
	assert_int_equal(count(r.out, "HTTP/1.1 "), 1);
	assert_non_null(strstr(r.out, "HTTP/1.1 400 Bad Request\r\n"));
	assert_non_null(strstr(r.out, "Connection: close\r\n"));
	assert_null(strstr(r.out, "smuggled"));
	assert_non_null(strstr(r.why, "rejected: 400"));
	assert_non_null(strstr(r.why, "Content-Length"));
	/* Content-Length with chunked: refused too */
	run("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n",
	    &r);
	assert_true(r.close);
	assert_non_null(strstr(r.out, "HTTP/1.1 400 "));
}

static void
test_head_has_no_body(void **state)
{
	struct run r;
	const char *body;
	(void)state;
	run("HEAD /lyncmock/probe?token=h HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "HTTP/1.1 200 OK\r\n"));
	body = strstr(r.out, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4, "");
	/* Content-Length still says what a GET would carry */
	assert_null(strstr(r.out, "Content-Length: 0\r\n"));
}

static void
test_http11_without_host(void **state)
{
	struct run r;
	(void)state;
	run("GET /lyncmock/probe?token=a HTTP/1.1\r\n\r\n", &r);
	assert_true(r.close);
	assert_non_null(strstr(r.out, "HTTP/1.1 400 Bad Request\r\n"));
	assert_null(strstr(r.out, "\"token\""));
	/* two Host headers: 400 as well */
	run("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r);
	assert_true(r.close);
	assert_non_null(strstr(r.out, "HTTP/1.1 400 "));
	/* HTTP/1.0 needs none, and closes after its answer */
	run("GET /lyncmock/probe?token=a HTTP/1.0\r\n\r\n", &r);
	assert_non_null(strstr(r.out, "HTTP/1.1 200 OK\r\n"));
	assert_true(r.close);
	assert_string_equal(r.why, "");
}

static void
test_pipelined(void **state)
{
	struct run r;
	(void)state;
	run("GET /lyncmock/probe?token=1 HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /lyncmock/probe?token=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
	    "GET /lyncmock/probe?token=3 HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /lyncmock/probe?token=4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	    "GET /lyncmock/probe?token=5 HTTP/1.1\r\nHost: x\r\n\r\n",
	    &r);
	assert_int_equal(r.st.requests, 4);
	assert_int_equal(count(r.out, "HTTP/1.1 200 OK"), 4);
	for (int i = 1; i <= 4; i++) {
		char t[32];
		snprintf(t, sizeof t, "\"token\":\"%d\"", i);
		assert_non_null(strstr(r.out, t));
	}
	assert_null(strstr(r.out, "\"token\":\"5\""));
	assert_true(r.close);
	assert_string_equal(r.why, "");
}

static void
test_partial_and_limits(void **state)
{
	struct run r;
	char big[MAX + 200];
	(void)state;
	/* half a request: nothing consumed, nothing answered */
	run("GET /lyncmock/probe HTTP/1.1\r\nHost: x\r\n", &r);
	assert_int_equal(r.used, 0);
	assert_false(r.close);
	assert_string_equal(r.out, "");
	/* a whole request and half the next: the first only */
	run("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HT", &r);
	assert_int_equal(r.used, strlen("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
	/* body still coming with Expect: 100-continue */
	run("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\nab",
	    &r);
	assert_int_equal(r.used, 0);
	assert_string_equal(r.out, "HTTP/1.1 100 Continue\r\n\r\n");
	/* a head over the limit */
	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	big[sizeof big - 1] = '\0';
	run(big, &r);
	assert_true(r.close);
	assert_non_null(strstr(r.out, "HTTP/1.1 431 "));
	/* a body over the limit */
	run("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n", &r);
	assert_int_equal(r.used, 0);
	snprintf(big, sizeof big, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n%*s",
	         MAX, "");
	run(big, &r);
	assert_true(r.close);
	assert_non_null(strstr(r.out, "HTTP/1.1 413 "));
	/* not HTTP at all (a TLS ClientHello on a plain port) */
	run("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", &r);
	assert_true(r.close);
	assert_non_null(strstr(r.out, "HTTP/1.1 400 "));
	assert_non_null(strstr(r.why, "rejected: 400"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe_answer),
	    cmocka_unit_test(test_conflicting_content_length),
	    cmocka_unit_test(test_head_has_no_body),
	    cmocka_unit_test(test_http11_without_host),
	    cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_partial_and_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
