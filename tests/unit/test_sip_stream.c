/* libosip2-built answers to a SIP stream (listeners/sip_stream.c); the
 * framing itself is tested in test_sip_frame.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <osipparser2/osip_parser.h>

#include "listeners/listener_priv.h"

#define MAX 4096

static const struct wire_ident test_id = {
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
};

static const struct sip_source test_src = {"127.0.3.3", 40000};

static const char options_req[] = "OPTIONS sip:dir01.contoso.local SIP/2.0\r\n"
                                  "Via: SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bKaaa\r\n"
                                  "Via: SIP/2.0/TLS 127.0.3.9:5061;branch=z9hG4bKbbb\r\n"
                                  "From: <sip:edge01@contoso.local>;tag=f1\r\n"
                                  "To: <sip:dir01@contoso.local>\r\n"
                                  "Call-ID: call-1@edge01\r\n"
                                  "CSeq: 7 OPTIONS\r\n"
                                  "X-Lyncmock-Token: tok-42\r\n"
                                  "Content-Length: 0\r\n\r\n";

static int
setup(void **state)
{
	(void)state;
	parser_init();
	sip_quiet();
	return 0;
}

/* Parses a response we built back with libosip2. */
static osip_message_t *
parse_back(const char *s, size_t len)
{
	osip_message_t *m;

	assert_int_equal(osip_message_init(&m), 0);
	assert_int_equal(osip_message_parse(m, s, len), 0);
	return m;
}

static void
test_options_answer(void **state)
{
	char *resp;
	size_t len;
	osip_message_t *m;
	osip_via_t *via;
	osip_generic_param_t *tag = NULL;
	osip_header_t *h = NULL;
	osip_body_t *body;
	osip_content_type_t *ct;
	json_t *j;

	(void)state;
	assert_int_equal(sip_handle_message(options_req, strlen(options_req), true, &test_src,
	                                    &test_id, &resp, &len),
	                 200);
	m = parse_back(resp, len);
	assert_int_equal(m->status_code, 200);
	assert_int_equal(osip_list_size(&m->vias), 2);
	via = osip_list_get(&m->vias, 1);
	assert_string_equal(via->host, "127.0.3.9");
	assert_string_equal(m->call_id->number, "call-1");
	assert_string_equal(m->cseq->number, "7");
	assert_string_equal(m->cseq->method, "OPTIONS");
	osip_to_get_tag(m->to, &tag);
	assert_non_null(tag);
	assert_true(strlen(tag->gvalue) >= 8);
	osip_from_get_tag(m->from, &tag);
	assert_string_equal(tag->gvalue, "f1");
	assert_true(osip_message_header_get_byname(m, "x-lyncmock-token", 0, &h) >= 0);
	assert_string_equal(h->hvalue, "tok-42");
	ct = osip_message_get_content_type(m);
	assert_string_equal(ct->type, "application");
	assert_string_equal(ct->subtype, "json");
	assert_int_equal(osip_message_get_body(m, 0, &body), 0);
	j = json_loadb(body->body, body->length, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "token")), "tok-42");
	assert_string_equal(json_string_value(json_object_get(j, "listener")), "sip-mtls");
	assert_string_equal(json_string_value(json_object_get(j, "peer")), "127.0.3.3:40000");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "tls"), "client_cert")),
	    "CN=edge01-int.contoso.local");
	json_decref(j);
	osip_message_free(m);
	osip_free(resp);
}

static char *
request(const char *method, const char *cseq_method)
{
	char *s;

	assert_true(asprintf(&s,
	                     "%s sip:dir01@contoso.local SIP/2.0\r\n"
	                     "Via: SIP/2.0/TLS 127.0.3.3;branch=z9hG4bKx\r\n"
	                     "From: <sip:e@contoso.local>;tag=9\r\nTo: <sip:d@contoso.local>\r\n"
	                     "Call-ID: q\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n",
	                     method, cseq_method) > 0);
	return s;
}

static void
test_other_methods(void **state)
{
	static const struct {
		const char *method, *cseq;
		int code;
	} cases[] = {{"INVITE", "INVITE", 405},         {"REGISTER", "REGISTER", 405},
	             {"FROBNICATE", "FROBNICATE", 501}, {"ACK", "ACK", 0},
	             {"CANCEL", "CANCEL", 481},         {"OPTIONS", "INVITE", 400}};
	char *req, *resp;
	size_t len;
	osip_message_t *m;
	osip_allow_t *allow = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		req = request(cases[i].method, cases[i].cseq);
		assert_int_equal(
		    sip_handle_message(req, strlen(req), true, &test_src, &test_id, &resp, &len),
		    cases[i].code);
		if (cases[i].code == 0) {
			assert_null(resp);
		} else {
			m = parse_back(resp, len);
			assert_int_equal(m->status_code, cases[i].code);
			assert_string_equal(m->call_id->number, "q");
			if (cases[i].code == 481)
				assert_non_null(strstr(
				    resp, "SIP/2.0 481 Call/Transaction Does Not Exist\r\n"));
			if (cases[i].code == 405) {
				assert_true(osip_message_get_allow(m, 0, &allow) >= 0);
				assert_string_equal(allow->value, "OPTIONS");
			}
			osip_message_free(m);
			osip_free(resp);
		}
		free(req);
	}
}

static void
test_garbage_then_options(void **state)
{
	struct evbuffer *out = evbuffer_new();
	struct sip_stats st = {0};
	char why[128] = "", *in, *text;
	bool close;
	size_t len, used;

	(void)state;
	assert_true(asprintf(&in,
	                     "this is not SIP\r\n\r\n\r\n\r\nSIP/2.0 200 OK\r\nVia: x\r\n\r\n%s",
	                     options_req) > 0);
	len = strlen(in);
	/* a valid OPTIONS after garbage on the same stream still gets its 200 */
	used = sip_stream_process(in, len, MAX, &test_src, &test_id, out, &st, &close, why,
	                          sizeof why);
	assert_int_equal(used, len);
	assert_false(close);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.keepalives, 1);
	assert_int_equal(st.responses_ignored, 1);
	assert_int_equal(st.errors, 1);
	text = strndup((const char *)evbuffer_pullup(out, -1), evbuffer_get_length(out));
	assert_non_null(strstr(text, "SIP/2.0 400 Bad Request\r\n"));
	assert_non_null(strstr(text, "\r\n\r\n\r\nSIP/2.0 200 OK\r\n"));
	assert_true(strstr(text, "400") < strstr(text, "200 OK"));
	free(text);
	free(in);
	evbuffer_free(out);
}

static void
test_too_large_closes(void **state)
{
	const char *in = "INVITE sip:a@b.c SIP/2.0\r\nVia: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bK1\r\n"
	                 "Call-ID: big\r\nContent-Length: 100000\r\n\r\nxx";
	struct evbuffer *out = evbuffer_new();
	struct sip_stats st = {0};
	char why[128] = "";
	bool close;
	osip_message_t *m;

	(void)state;
	sip_stream_process(in, strlen(in), MAX, &test_src, &test_id, out, &st, &close, why,
	                   sizeof why);
	assert_true(close);
	assert_non_null(strstr(why, "larger"));
	m = parse_back((const char *)evbuffer_pullup(out, -1), evbuffer_get_length(out));
	assert_int_equal(m->status_code, 513);
	/* the salvaged Via and Call-ID made it into the answer */
	assert_int_equal(osip_list_size(&m->vias), 1);
	assert_string_equal(m->call_id->number, "big");
	osip_message_free(m);
	evbuffer_free(out);
}

/* One answer as text, for exact header assertions. */
static char *
answer_to(const char *req, bool has_length, int want_code)
{
	char *resp, *text;
	size_t len;

	assert_int_equal(
	    sip_handle_message(req, strlen(req), has_length, &test_src, &test_id, &resp, &len),
	    want_code);
	assert_non_null(resp);
	text = strndup(resp, len);
	osip_free(resp);
	return text;
}

static void
test_version_505(void **state)
{
	char *r;

	(void)state;
	r = answer_to("OPTIONS sip:dir01.contoso.local SIP/3.0\r\n"
	              "Via: SIP/3.0/TLS 127.0.3.3:5061;branch=z9hG4bK3\r\n"
	              "From: <sip:e@contoso.local>;tag=1\r\nTo: <sip:d@contoso.local>\r\n"
	              "Call-ID: v3\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	              true, 505);
	assert_true(strncmp(r, "SIP/2.0 505 Version Not Supported\r\n", 35) == 0);
	assert_non_null(strstr(r, "\r\nCall-ID: v3\r\n"));
	free(r);
}

static void
test_require_420(void **state)
{
	char *r;

	(void)state;
	r = answer_to("OPTIONS sip:dir01.contoso.local SIP/2.0\r\n"
	              "Via: SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bK4\r\n"
	              "From: <sip:e@contoso.local>;tag=1\r\nTo: <sip:d@contoso.local>\r\n"
	              "Call-ID: r4\r\nCSeq: 1 OPTIONS\r\nRequire: 100rel, foo\r\n"
	              "Require: ms-benotify\r\nContent-Length: 0\r\n\r\n",
	              true, 420);
	assert_true(strncmp(r, "SIP/2.0 420 Bad Extension\r\n", 27) == 0);
	assert_non_null(strstr(
	    r, "\r\nUnsupported: 100rel\r\nUnsupported: foo\r\nUnsupported: ms-benotify\r\n"));
	free(r);
	/* no Require: the 200 carries no Unsupported */
	r = answer_to(options_req, true, 200);
	assert_null(strstr(r, "Unsupported"));
	free(r);
}

static void
test_no_content_length(void **state)
{
	static const char head[] = "OPTIONS sip:dir01.contoso.local SIP/2.0\r\n"
	                           "Via: SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bK5\r\n"
	                           "From: <sip:e@contoso.local>;tag=1\r\n"
	                           "To: <sip:d@contoso.local>\r\n"
	                           "Call-ID: n5\r\nCSeq: 1 OPTIONS\r\n\r\n";
	struct evbuffer *out = evbuffer_new();
	struct sip_stats st = {0};
	char why[128] = "", *text, *in, *resp;
	size_t len;
	bool close;

	(void)state;
	/* through the framer: the 400, then the next (framed) request is served */
	assert_true(asprintf(&in, "%s%s", head, options_req) > 0);
	len = strlen(in);
	assert_int_equal(sip_stream_process(in, len, MAX, &test_src, &test_id, out, &st, &close,
	                                    why, sizeof why),
	                 len);
	assert_false(close);
	text = strndup((const char *)evbuffer_pullup(out, -1), evbuffer_get_length(out));
	assert_true(strncmp(text, "SIP/2.0 400 Bad Request\r\n", 25) == 0);
	assert_non_null(strstr(text, "Call-ID: n5\r\n"));
	assert_non_null(strstr(text, "\r\nSIP/2.0 200 OK\r\n"));
	assert_int_equal(st.errors, 1);
	free(text);
	free(in);
	evbuffer_free(out);
	/* an ACK without one is still absorbed silently */
	{
		static const char ack[] = "ACK sip:d@contoso.local SIP/2.0\r\n"
		                          "Via: SIP/2.0/TLS 127.0.3.3;branch=z9hG4bK6\r\n"
		                          "From: <sip:e@contoso.local>;tag=1\r\n"
		                          "To: <sip:d@contoso.local>;tag=2\r\n"
		                          "Call-ID: a6\r\nCSeq: 1 ACK\r\n\r\n";
		assert_int_equal(
		    sip_handle_message(ack, strlen(ack), false, &test_src, &test_id, &resp, &len),
		    0);
		assert_null(resp);
	}
}

static void
test_via_received_rport(void **state)
{
	static const struct {
		const char *via, *want;
	} cases[] = {
	    /* empty rport: its value and received, even when sent-by is the source */
	    {"SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bK7;rport",
	     "Via: SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bK7;rport=40000;received=127.0.3.3\r\n"},
	    /* a name as sent-by: received */
	    {"SIP/2.0/TLS edge01.contoso.local;branch=z9hG4bK8",
	     "Via: SIP/2.0/TLS edge01.contoso.local;branch=z9hG4bK8;received=127.0.3.3\r\n"},
	    /* another address: received */
	    {"SIP/2.0/TLS 198.18.9.9:5061;branch=z9hG4bK9",
	     "Via: SIP/2.0/TLS 198.18.9.9:5061;branch=z9hG4bK9;received=127.0.3.3\r\n"},
	    /* the source itself, no rport: untouched */
	    {"SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bKa",
	     "Via: SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bKa\r\n"},
	    /* rport with a value is left; a wrong received is replaced */
	    {"SIP/2.0/TLS 127.0.3.3;rport=9;received=10.0.0.1;branch=z9hG4bKb",
	     "Via: SIP/2.0/TLS 127.0.3.3;rport=9;received=127.0.3.3;branch=z9hG4bKb\r\n"},
	};
	char *req, *r;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_true(asprintf(&req,
		                     "OPTIONS sip:dir01.contoso.local SIP/2.0\r\nVia: %s\r\n"
		                     "Via: SIP/2.0/TLS 198.18.0.1;branch=z9hG4bKlow;rport\r\n"
		                     "From: <sip:e@contoso.local>;tag=1\r\n"
		                     "To: <sip:d@contoso.local>\r\nCall-ID: via%zu\r\n"
		                     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		                     cases[i].via, i) > 0);
		r = answer_to(req, true, 200);
		if (strstr(r, cases[i].want) == NULL)
			fail_msg("case %zu: want %s in\n%s", i, cases[i].want, r);
		/* only the top Via is ours to stamp */
		assert_non_null(
		    strstr(r, "Via: SIP/2.0/TLS 198.18.0.1;branch=z9hG4bKlow;rport\r\n"));
		free(r);
		free(req);
	}
	/* a salvaged error answer is stamped too */
	{
		char *resp;
		size_t len;
		static const char bad[] =
		    "GARBAGE\r\nVia: SIP/2.0/TLS 127.0.3.3;branch=z9hG4bKc;rport\r\n\r\n";
		assert_int_equal(
		    sip_handle_message(bad, strlen(bad), false, &test_src, &test_id, &resp, &len),
		    400);
		assert_non_null(strstr(resp, ";rport=40000;received=127.0.3.3\r\n"));
		osip_free(resp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_answer),       cmocka_unit_test(test_other_methods),
	    cmocka_unit_test(test_garbage_then_options), cmocka_unit_test(test_too_large_closes),
	    cmocka_unit_test(test_version_505),          cmocka_unit_test(test_require_420),
	    cmocka_unit_test(test_no_content_length),    cmocka_unit_test(test_via_received_rport),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
