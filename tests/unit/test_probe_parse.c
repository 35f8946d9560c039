/* The probe's answer parsers (HTTP, SIP, CLS line) and the identity record reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <osipparser2/osip_parser.h>

#include "probes/probe_int.h"
#include "sip/sip.h"

static enum probe_parse
parse_str(enum probe_parse (*fn)(const char *, size_t, bool, struct probe_answer *), const char *s,
          bool eof, struct probe_answer *a)
{
	memset(a, 0, sizeof *a);
	return fn(s, strlen(s), eof, a);
}

static void
test_http_content_length(void **state)
{
	struct probe_answer a;
	const char *ok =
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
	    "{\"service\":1}";
	char partial[128];

	(void)state;
	assert_int_equal(parse_str(probe_http_parse, ok, false, &a), PROBE_PARSE_DONE);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{\"service\":1}");
	probe_answer_clear(&a);
	/* every prefix is "more", or an error at EOF */
	for (size_t n = 0; n < strlen(ok); n++) {
		memcpy(partial, ok, n);
		memset(&a, 0, sizeof a);
		assert_int_equal(probe_http_parse(partial, n, false, &a), PROBE_PARSE_MORE);
		assert_int_equal(probe_http_parse(partial, n, true, &a), PROBE_PARSE_ERROR);
		probe_answer_clear(&a);
	}
}

static void
test_http_chunked_and_close(void **state)
{
	struct probe_answer a;

	(void)state;
	assert_int_equal(parse_str(probe_http_parse,
	                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                           "4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n",
	                           false, &a),
	                 PROBE_PARSE_DONE);
	assert_string_equal(a.body, "{\"a\":1}");
	probe_answer_clear(&a);
	/* no length: the body runs to the close */
	assert_int_equal(
	    parse_str(probe_http_parse, "HTTP/1.0 404 Not Found\r\n\r\nnope", false, &a),
	    PROBE_PARSE_MORE);
	probe_answer_clear(&a);
	assert_int_equal(
	    parse_str(probe_http_parse, "HTTP/1.0 404 Not Found\r\n\r\nnope", true, &a),
	    PROBE_PARSE_DONE);
	assert_int_equal(a.status, 404);
	assert_string_equal(a.body, "nope");
	probe_answer_clear(&a);
	/* 100 Continue is skipped */
	assert_int_equal(parse_str(probe_http_parse,
	                           "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
	                           false, &a),
	                 PROBE_PARSE_DONE);
	assert_int_equal(a.status, 204);
	probe_answer_clear(&a);
}

static void
test_http_errors(void **state)
{
	static const char *bad[] = {
	    "SSH-2.0-OpenSSH_9.2\r\n",
	    "HTTP/2 200\r\n\r\n",
	    "HTTP/1.1 2x0 OK\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	    "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n",
	};
	struct probe_answer a;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse_str(probe_http_parse, bad[i], false, &a), PROBE_PARSE_ERROR);
		assert_true(a.why[0] != '\0');
		probe_answer_clear(&a);
	}
}

static void
test_sip(void **state)
{
	const char *ok = "\r\n\r\nSIP/2.0 200 OK\r\n"
	                 "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKabc\r\n"
	                 "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x@y\r\n"
	                 "CSeq: 1 OPTIONS\r\nX-Lyncmock-Token: tok\r\n"
	                 "Content-Type: application/json\r\nl: 7\r\n\r\n{\"a\":1}";
	struct probe_answer a;
	char partial[512];
	size_t n = strlen(ok);

	(void)state;
	assert_int_equal(parse_str(probe_sip_parse, ok, false, &a), PROBE_PARSE_DONE);
	assert_int_equal(a.status, 200);
	assert_true(a.token_header);
	assert_string_equal(a.token_value, "tok");
	assert_string_equal(a.body, "{\"a\":1}");
	probe_answer_clear(&a);
	memcpy(partial, ok, n - 1); /* one body byte short */
	memset(&a, 0, sizeof a);
	assert_int_equal(probe_sip_parse(partial, n - 1, false, &a), PROBE_PARSE_MORE);
	assert_int_equal(probe_sip_parse(partial, n - 1, true, &a), PROBE_PARSE_ERROR);
	probe_answer_clear(&a);

	assert_int_equal(
	    parse_str(probe_sip_parse,
	              "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bK1\r\n"
	              "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n"
	              "Content-Length: 0\r\n\r\n",
	              false, &a),
	    PROBE_PARSE_ERROR);
	assert_non_null(strstr(a.why, "request"));
	probe_answer_clear(&a);
	assert_int_equal(parse_str(probe_sip_parse, "HTTP/1.0 200 ok\r\n\r\n", false, &a),
	                 PROBE_PARSE_ERROR);
	probe_answer_clear(&a);
	assert_int_equal(
	    parse_str(probe_sip_parse, "SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n", false, &a),
	    PROBE_PARSE_ERROR);
	probe_answer_clear(&a);
}

static void
test_cls(void **state)
{
	struct probe_answer a;

	(void)state;
	assert_int_equal(parse_str(probe_cls_parse, "{\"service\":\"lyncmock\"}\r\n", false, &a),
	                 PROBE_PARSE_DONE);
	assert_string_equal(a.body, "{\"service\":\"lyncmock\"}");
	probe_answer_clear(&a);
	assert_int_equal(parse_str(probe_cls_parse, "ERR unknown command\r\n", false, &a),
	                 PROBE_PARSE_ERROR);
	assert_non_null(strstr(a.why, "ERR unknown command"));
	probe_answer_clear(&a);
	assert_int_equal(parse_str(probe_cls_parse, "{\"partial", false, &a), PROBE_PARSE_MORE);
	probe_answer_clear(&a);
	assert_int_equal(parse_str(probe_cls_parse, "", true, &a), PROBE_PARSE_ERROR);
	probe_answer_clear(&a);
}

static void
test_identity(void **state)
{
	struct wire_record id;
	const char *j =
	    "{\"service\":\"lyncmock\",\"version\":\"0.1.0\",\"scenario\":\"s\","
	    "\"host\":\"dir01\",\"role\":\"director\",\"listener\":\"sip-mtls\","
	    "\"port\":5061,\"local\":\"198.18.1.10:5061\",\"peer\":\"198.18.1.30:40000\","
	    "\"token\":\"abc\",\"tls\":{\"version\":\"TLSv1.3\"}}";

	(void)state;
	assert_int_equal(wire_record_parse(j, strlen(j), &id), 0);
	assert_string_equal(id.host, "dir01");
	assert_string_equal(id.role, "director");
	assert_string_equal(id.listener, "sip-mtls");
	assert_int_equal(id.port, 5061);
	assert_string_equal(id.peer, "198.18.1.30:40000");
	assert_string_equal(id.token, "abc");
	wire_record_clear(&id);
	assert_int_equal(wire_record_parse("{\"service\":\"nginx\"}", 19, &id), 1);
	assert_int_equal(wire_record_parse("[1,2]", 5, &id), 1);
	assert_int_equal(wire_record_parse("<html>", 6, &id), -1);
	assert_int_equal(wire_record_parse("{\"service\":\"lyncmock\",\"service\":\"x\"}", 37, &id),
	                 -1); /* duplicate keys are refused */
	wire_record_clear(&id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_content_length),
	    cmocka_unit_test(test_http_chunked_and_close),
	    cmocka_unit_test(test_http_errors),
	    cmocka_unit_test(test_sip),
	    cmocka_unit_test(test_cls),
	    cmocka_unit_test(test_identity),
	};

	parser_init();
	sip_quiet();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
