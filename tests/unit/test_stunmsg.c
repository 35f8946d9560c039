/* STUN answers and TCP framing (stunmsg/), and the probe's STUN parsers:
 * requests built and answers read back with libnice, both ways. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stun/stunmessage.h>

#include "probes/probe_int.h"
#include "stunmsg/stunmsg.h"

static struct sockaddr_in peer4;

static void
server(struct stunmsg_server *srv, const char *identity)
{
	memset(&peer4, 0, sizeof peer4);
	peer4.sin_family = AF_INET;
	peer4.sin_port = htons(40112);
	inet_pton(AF_INET, "198.18.0.20", &peer4.sin_addr);
	memset(srv, 0, sizeof *srv);
	srv->software = "lyncmock test edge01 (edge-internal)";
	srv->identity = identity;
	srv->realm = "contoso.local";
	srv->peer = (const struct sockaddr *)&peer4;
	srv->peerlen = sizeof peer4;
}

/* Request → answer → the probe's parse, on exact-size heap copies. */
static size_t
round_trip(int method, struct stunmsg_answer *a, const char **what, char *txid)
{
	uint8_t req[STUNMSG_MAX], ans[STUNMSG_MAX], *copy;
	struct stunmsg_request r;
	struct stunmsg_server srv;
	size_t n, m;

	n = stunmsg_request(method, req, sizeof req, txid);
	assert_true(n >= 20);
	assert_int_equal(strlen(txid), 32);
	copy = malloc(n);
	memcpy(copy, req, n);
	assert_int_equal(stunmsg_parse_request(copy, n, &r), 1);
	assert_string_equal(r.txid, txid);
	assert_true(r.request);
	assert_true(r.cookie);
	assert_int_equal(r.method, method);
	server(&srv, "{\"service\":\"lyncmock\"}");
	m = stunmsg_answer(&r, &srv, ans, sizeof ans, what);
	free(copy);
	assert_true(m > 20);
	copy = malloc(m);
	memcpy(copy, ans, m);
	assert_int_equal(stunmsg_parse_answer(copy, m, txid, a), STUNMSG_OK);
	free(copy);
	return m;
}

static void
test_binding(void **state)
{
	struct stunmsg_answer a;
	const char *what;
	char txid[STUNMSG_TXID_HEX];

	(void)state;
	round_trip(STUN_BINDING, &a, &what, txid);
	assert_string_equal(what, "binding");
	assert_true(a.success);
	assert_string_equal(a.xor_mapped, "198.18.0.20:40112");
	assert_string_equal(a.mapped, "198.18.0.20:40112");
	assert_string_equal(a.software, "lyncmock test edge01 (edge-internal)");
	assert_non_null(a.identity);
	assert_string_equal(a.identity, "{\"service\":\"lyncmock\"}");
	assert_false(a.realm);
	stunmsg_answer_clear(&a);
}

static void
test_allocate_401(void **state)
{
	struct stunmsg_answer a;
	const char *what;
	char txid[STUNMSG_TXID_HEX];

	(void)state;
	round_trip(STUN_ALLOCATE, &a, &what, txid);
	assert_string_equal(what, "allocate 401");
	assert_false(a.success);
	assert_int_equal(a.error_code, 401);
	assert_true(a.realm);
	assert_true(a.nonce);
	assert_non_null(a.identity);
	stunmsg_answer_clear(&a);
}

/* Another transaction's answer is a stray; a request echoed back is not an answer. */
static void
test_other_and_echo(void **state)
{
	uint8_t req[STUNMSG_MAX];
	struct stunmsg_answer a;
	const char *what;
	char txid[STUNMSG_TXID_HEX], other[STUNMSG_TXID_HEX];
	uint8_t ans[STUNMSG_MAX];
	struct stunmsg_request r;
	struct stunmsg_server srv;
	size_t n, m;

	(void)state;
	n = stunmsg_request(STUN_BINDING, req, sizeof req, txid);
	stunmsg_request(STUN_BINDING, ans, sizeof ans, other);
	assert_string_not_equal(txid, other);
	assert_int_equal(stunmsg_parse_answer(req, n, other, &a), STUNMSG_OTHER);
	assert_int_equal(stunmsg_parse_answer(req, n, txid, &a), STUNMSG_INVALID);
	assert_non_null(strstr(a.why, "echo"));
	/* the probe's view: a stray is "more", garbage an error */
	struct probe_answer pa = {0};
	assert_int_equal(probe_stun_parse(req, n, other, &pa), PROBE_PARSE_MORE);
	assert_int_equal(probe_stun_parse((const uint8_t *)"hello world, not stun", 21, txid, &pa),
	                 PROBE_PARSE_ERROR);
	probe_answer_clear(&pa);
	/* indications are not answered */
	assert_int_equal(stunmsg_parse_request(req, n, &r), 1);
	r.request = false;
	server(&srv, NULL);
	assert_int_equal(stunmsg_answer(&r, &srv, ans, sizeof ans, &what), 0);
	/* not STUN at all */
	assert_int_equal(stunmsg_parse_request((const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18, &r),
	                 0);
	m = 0;
	(void)m;
}

/* An unknown comprehension-required attribute earns a 420; an unknown method a 400. */
static void
test_unknown(void **state)
{
	uint8_t req[STUNMSG_MAX], ans[STUNMSG_MAX];
	struct stunmsg_request r;
	struct stunmsg_server srv;
	struct stunmsg_answer a;
	const char *what;
	char txid[STUNMSG_TXID_HEX];
	size_t n, m;

	(void)state;
	n = stunmsg_request(STUN_BINDING, req, sizeof req, txid);
	/* append attribute 0x7777 (required range) by hand in front of SOFTWARE:
	 * rebuild the message with libnice instead */
	StunMessage msg = {.buffer = req, .buffer_len = sizeof req};
	StunTransactionId id;
	memset(id, 0x42, sizeof id);
	memcpy(id, "\x21\x12\xa4\x42", 4);
	assert_true(stun_message_init(&msg, STUN_REQUEST, STUN_BINDING, id));
	assert_int_equal(stun_message_append32(&msg, 0x7777, 1), STUN_MESSAGE_RETURN_SUCCESS);
	n = stun_message_length(&msg);
	assert_int_equal(stunmsg_parse_request(req, n, &r), 1);
	server(&srv, NULL);
	m = stunmsg_answer(&r, &srv, ans, sizeof ans, &what);
	assert_true(m > 0);
	assert_string_equal(what, "420 unknown attribute");
	assert_int_equal(stunmsg_parse_answer(ans, m, r.txid, &a), STUNMSG_OK);
	assert_int_equal(a.error_code, 420);
	stunmsg_answer_clear(&a);
	/* Shared Secret (0x002, RFC 3489; [MS-TURN] forbids it) is not ours: 400 */
	assert_true(stun_message_init(&msg, STUN_REQUEST, STUN_SHARED_SECRET, id));
	n = stun_message_length(&msg);
	assert_int_equal(stunmsg_parse_request(req, n, &r), 1);
	m = stunmsg_answer(&r, &srv, ans, sizeof ans, &what);
	assert_string_equal(what, "400 bad request");
	if (stunmsg_parse_answer(ans, m, r.txid, &a) != STUNMSG_OK)
		fail_msg("400 unreadable: %s (%zu bytes, type %02x%02x)", a.why, m, ans[0], ans[1]);
	assert_int_equal(a.error_code, 400);
	assert_string_equal(a.software, "lyncmock test edge01 (edge-internal)");
	stunmsg_answer_clear(&a);
}

/* RFC 5389 messages back to back, MS-TURN frames, data frames, garbage. */
static void
test_framing(void **state)
{
	uint8_t req[STUNMSG_MAX], stream[3 * STUNMSG_MAX];
	struct stunmsg_frame f;
	char txid[STUNMSG_TXID_HEX];
	size_t n, hl, off = 0;
	uint8_t hdr[4];

	(void)state;
	n = stunmsg_request(STUN_BINDING, req, sizeof req, txid);
	memcpy(stream, req, n);
	memcpy(stream + n, req, n);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(stunmsg_frame(stream, cut, &f), STUNMSG_FRAME_MORE);
	assert_int_equal(stunmsg_frame(stream, 2 * n, &f), STUNMSG_FRAME_MESSAGE);
	assert_int_equal(f.framing, STUNMSG_FRAME_RFC5389);
	assert_int_equal(f.len, n);
	assert_int_equal(f.msglen, n);
	assert_int_equal(stunmsg_frame(stream + f.len, n, &f), STUNMSG_FRAME_MESSAGE);
	/* MS-TURN: a data frame, then a control frame around the request */
	stream[0] = 0x03, stream[1] = 0, stream[2] = 0, stream[3] = 3;
	memcpy(stream + 4, "abc", 3);
	off = 7;
	hl = stunmsg_frame_header(STUNMSG_FRAME_MSTURN, n, hdr);
	assert_int_equal(hl, 4);
	memcpy(stream + off, hdr, 4);
	memcpy(stream + off + 4, req, n);
	assert_int_equal(stunmsg_frame(stream, 3, &f), STUNMSG_FRAME_MORE);
	assert_int_equal(stunmsg_frame(stream, off + 4 + n, &f), STUNMSG_FRAME_DATA);
	assert_int_equal(f.len, 7);
	assert_int_equal(stunmsg_frame(stream + off, 4 + n - 1, &f), STUNMSG_FRAME_MORE);
	assert_int_equal(stunmsg_frame(stream + off, 4 + n, &f), STUNMSG_FRAME_MESSAGE);
	assert_int_equal(f.framing, STUNMSG_FRAME_MSTURN);
	assert_int_equal(f.off, 4);
	assert_int_equal(f.msglen, n);
	assert_int_equal(stunmsg_frame_header(STUNMSG_FRAME_RFC5389, n, hdr), 0);
	/* a TLS ClientHello and a reserved byte set are the end of the stream */
	assert_int_equal(stunmsg_frame((const uint8_t *)"\x16\x03\x01\x00\x10", 5, &f),
	                 STUNMSG_FRAME_BAD);
	assert_non_null(strstr(f.why, "TLS"));
	assert_int_equal(stunmsg_frame((const uint8_t *)"\x02\x01\x00\x10", 4, &f),
	                 STUNMSG_FRAME_BAD);
	/* the probe's turn-tcp parser over the same stream */
	struct probe_answer pa = {0};
	assert_int_equal(probe_turn_tcp_parse((const char *)stream, 2, false, &pa),
	                 PROBE_PARSE_MORE);
	assert_int_equal(probe_turn_tcp_parse((const char *)stream, 2, true, &pa),
	                 PROBE_PARSE_ERROR);
	probe_answer_clear(&pa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_binding),        cmocka_unit_test(test_allocate_401),
	    cmocka_unit_test(test_other_and_echo), cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
