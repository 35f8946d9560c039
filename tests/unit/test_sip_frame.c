/* SIP stream framing (sip/sip_frame.c), shared by the listener and the probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip.h"

#define MAX 4096

static const char options_req[] = "OPTIONS sip:dir01.contoso.local SIP/2.0\r\n"
                                  "Via: SIP/2.0/TLS 127.0.3.3:5061;branch=z9hG4bKaaa\r\n"
                                  "From: <sip:edge01@contoso.local>;tag=f1\r\n"
                                  "To: <sip:dir01@contoso.local>\r\n"
                                  "Call-ID: call-1@edge01\r\n"
                                  "CSeq: 7 OPTIONS\r\n"
                                  "X-Lyncmock-Token: tok-42\r\n"
                                  "Content-Length: 0\r\n\r\n";

/* Frames an exact-size heap copy, so ASan sees any read past len. */
static enum sip_frame_kind
frame(const char *s, size_t len, size_t max, struct sip_frame *f)
{
	char *copy = malloc(len ? len : 1);
	enum sip_frame_kind k;

	assert_non_null(copy);
	memcpy(copy, s, len);
	k = sip_frame(copy, len, max, f);
	free(copy);
	assert_int_equal(k, f->kind);
	return k;
}

static enum sip_frame_kind
frame_str(const char *s, struct sip_frame *f)
{
	return frame(s, strlen(s), MAX, f);
}

static void
test_keepalive(void **state)
{
	struct sip_frame f;

	(void)state;
	assert_int_equal(frame("\r\n\r\n", 4, MAX, &f), SIP_FRAME_KEEPALIVE);
	assert_int_equal(f.len, 4);
	assert_int_equal(frame("\r\n", 2, MAX, &f), SIP_FRAME_NEED_MORE);
	assert_int_equal(frame("\r\n\r", 3, MAX, &f), SIP_FRAME_NEED_MORE);
	assert_int_equal(frame("\r\nOP", 4, MAX, &f), SIP_FRAME_SKIP);
	assert_int_equal(f.len, 2);
	assert_int_equal(frame("", 0, MAX, &f), SIP_FRAME_NEED_MORE);
	assert_int_equal(f.len, 0);
}

static void
test_split_head(void **state)
{
	struct sip_frame f;
	size_t len = strlen(options_req);

	(void)state;
	/* every proper prefix needs more; the whole message is one frame */
	for (size_t i = 1; i < len; i++) {
		assert_int_equal(frame(options_req, i, MAX, &f), SIP_FRAME_NEED_MORE);
		assert_int_equal(f.head_len, 0);
	}
	assert_int_equal(frame(options_req, len, MAX, &f), SIP_FRAME_MESSAGE);
	assert_int_equal(f.len, len);
	assert_int_equal(f.head_len, len);
	assert_int_equal(f.body_len, 0);
	assert_null(f.why);
}

static void
test_compact_l_and_two_messages(void **state)
{
	const char *m = "MESSAGE sip:a@b SIP/2.0\r\nl: 5\r\n\r\nhelloOPTIONS";
	const char *two = "MESSAGE sip:a@b SIP/2.0\r\nL:3\r\n\r\nabc"
	                  "MESSAGE sip:a@b SIP/2.0\r\nContent-Length:  2 \r\n\r\nde";
	struct sip_frame f;
	size_t n;

	(void)state;
	assert_int_equal(frame_str(m, &f), SIP_FRAME_MESSAGE);
	assert_int_equal(f.len, strlen(m) - strlen("OPTIONS"));
	assert_int_equal(f.body_len, 5);
	assert_int_equal(f.head_len, f.len - 5);
	/* body not complete yet: the head is known, the frame is not */
	n = f.len;
	assert_int_equal(frame(m, n - 1, MAX, &f), SIP_FRAME_NEED_MORE);
	assert_int_equal(f.head_len, n - 5);
	/* two messages in one buffer: the second starts where the first ends */
	assert_int_equal(frame_str(two, &f), SIP_FRAME_MESSAGE);
	assert_int_equal(f.body_len, 3);
	assert_memory_equal(two + f.len - 3, "abc", 3);
	n = f.len;
	assert_int_equal(frame(two + n, strlen(two) - n, MAX, &f), SIP_FRAME_MESSAGE);
	assert_int_equal(f.body_len, 2);
	assert_int_equal(n + f.len, strlen(two));
}

static void
test_content_length(void **state)
{
	struct sip_frame f;
	const char *bad = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 12x\r\n\r\n";
	const char *two = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab";
	const char *same = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 2\r\n\r\nab";
	const char *empty = "INVITE sip:a@b SIP/2.0\r\nContent-Length:\r\n\r\n";
	const char *ten = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 0000000001\r\n\r\nx";
	const char *neg = "INVITE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n";
	const char *missing = "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\nNEXT";
	/* a folded line is not a header of its own; X-Content-Length is not one */
	const char *folded = "OPTIONS sip:a@b SIP/2.0\r\nSubject: a\r\n l: 9\r\n"
	                     "X-Content-Length: 7\r\n\r\n";

	(void)state;
	assert_int_equal(frame_str(bad, &f), SIP_FRAME_BAD);
	assert_int_equal(f.len, strlen(bad)); /* the head, to answer from */
	assert_non_null(strstr(f.why, "Content-Length"));
	assert_int_equal(frame_str(two, &f), SIP_FRAME_BAD);
	assert_int_equal(frame_str(same, &f), SIP_FRAME_MESSAGE);
	assert_int_equal(f.len, strlen(same));
	assert_int_equal(frame_str(empty, &f), SIP_FRAME_BAD);
	assert_int_equal(frame_str(ten, &f), SIP_FRAME_BAD);
	assert_int_equal(frame_str(neg, &f), SIP_FRAME_BAD);
	/* no Content-Length: no body */
	assert_int_equal(frame_str(missing, &f), SIP_FRAME_MESSAGE);
	assert_int_equal(f.len, strlen(missing) - 4);
	assert_int_equal(frame_str(folded, &f), SIP_FRAME_MESSAGE);
	assert_int_equal(f.body_len, 0);
}

static void
test_too_large(void **state)
{
	char big[MAX + 10];
	struct sip_frame f;
	const char *huge = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 999999\r\n\r\n";
	const char *edge = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\n0123456789";

	(void)state;
	memset(big, 'A', sizeof big);
	assert_int_equal(frame(big, sizeof big, MAX, &f), SIP_FRAME_TOO_LARGE);
	assert_int_equal(f.len, 0);
	assert_non_null(strstr(f.why, "larger"));
	assert_int_equal(frame(big, MAX - 1, MAX, &f), SIP_FRAME_NEED_MORE);
	assert_int_equal(frame_str(huge, &f), SIP_FRAME_TOO_LARGE);
	assert_int_equal(f.len, strlen(huge)); /* the head, to answer from */
	assert_int_equal(f.head_len, strlen(huge));
	/* the cap is on head and body together, inclusive */
	assert_int_equal(frame(edge, strlen(edge), strlen(edge), &f), SIP_FRAME_MESSAGE);
	assert_int_equal(frame(edge, strlen(edge), strlen(edge) - 1, &f), SIP_FRAME_TOO_LARGE);
	/* known too large before the body arrives */
	assert_int_equal(frame(edge, strlen(edge) - 10, strlen(edge) - 1, &f), SIP_FRAME_TOO_LARGE);
}

static void
test_garbage(void **state)
{
	static const char bin[] = "\x00\xff\r\n\x01:\x02\r\n\r\n";
	struct sip_frame f;

	(void)state;
	/* framing does not judge the start line: libosip2 does, afterwards */
	assert_int_equal(frame(bin, sizeof bin - 1, MAX, &f), SIP_FRAME_MESSAGE);
	assert_int_equal(f.len, sizeof bin - 1);
	assert_int_equal(frame_str("this is not SIP", &f), SIP_FRAME_NEED_MORE);
	assert_int_equal(frame_str("\n\n\n\n", &f), SIP_FRAME_NEED_MORE);
	assert_int_equal(frame("no end in sight", 15, 15, &f), SIP_FRAME_TOO_LARGE);
	assert_int_equal(frame_str(":\r\n:\r\n\r\n", &f), SIP_FRAME_MESSAGE);
}

struct seen {
	unsigned n;
	char names[8][32], values[8][32];
};

static void
collect(const char *n, size_t nlen, const char *v, size_t vlen, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8 && nlen < 32 && vlen < 32);
	memcpy(s->names[s->n], n, nlen);
	memcpy(s->values[s->n], v, vlen);
	s->n++;
}

static void
test_head_foreach(void **state)
{
	const char *h = "SIP/2.0 200 OK\r\nVia : a \r\n\tfolded: no\r\nnocolon\r\nf:\t<x>\r\n\r\n";
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof s);
	sip_head_foreach(h, strlen(h), collect, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "Via");
	assert_string_equal(s.values[0], "a");
	assert_string_equal(s.names[1], "f");
	assert_string_equal(s.values[1], "<x>");
	assert_true(sip_header_is("F", 1, "from", "f"));
	assert_true(sip_header_is("FROM", 4, "from", "f"));
	assert_false(sip_header_is("fr", 2, "from", "f"));
	assert_false(sip_header_is("c", 1, "cseq", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_split_head),
	    cmocka_unit_test(test_compact_l_and_two_messages),
	    cmocka_unit_test(test_content_length),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_head_foreach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
