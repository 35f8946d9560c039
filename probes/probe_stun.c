/*
 * The stun (UDP) and turn-tcp probes: a STUN Binding request built with
 * libnice (stunmsg/), its transaction ID the token the listener's identity
 * echoes; the answer's XOR-MAPPED-ADDRESS is a NAT check of its own, so a
 * STUN server that is not lyncmock (coturn, a real Edge) still tells us the
 * source it saw.
 */
#include <stdlib.h>
#include <string.h>

#include <stun/stunmessage.h>

#include "probes/probe_int.h"
#include "stunmsg/stunmsg.h"

enum probe_parse
probe_stun_parse(const uint8_t *buf, size_t len, const char *txid, struct probe_answer *a)
{
	struct stunmsg_answer sa;

	switch (stunmsg_parse_answer(buf, len, txid, &sa)) {
	case STUNMSG_OTHER:
		return PROBE_PARSE_MORE;
	case STUNMSG_INVALID:
		stunmsg_answer_clear(&sa);
		return probe_answer_fail(a, sa.why);
	case STUNMSG_OK:
		break;
	}
	a->stun = true;
	/* success is 0 like a line protocol; an error response carries its code */
	a->status = sa.success ? 0 : (sa.error_code != 0 ? sa.error_code : 500);
	snprintf(a->mapped, sizeof a->mapped, "%s", sa.xor_mapped[0] ? sa.xor_mapped : sa.mapped);
	snprintf(a->software, sizeof a->software, "%s", sa.software);
	a->body = sa.identity; /* ownership moves */
	a->body_len = sa.identity_len;
	return PROBE_PARSE_DONE;
}

/* ---- stun: one datagram, retransmitted by probe_dgram.c --------------------- */

static size_t
stun_dgram_request(struct probe *p, uint8_t *out, size_t cap)
{
	char txid[STUNMSG_TXID_HEX];
	size_t n = stunmsg_request(STUN_BINDING, out, cap, txid);

	if (n > 0)
		snprintf(p->token, sizeof p->token, "%s", txid);
	return n;
}

static enum probe_parse
stun_dgram_parse(struct probe *p, const uint8_t *buf, size_t len, struct probe_answer *a)
{
	return probe_stun_parse(buf, len, p->token, a);
}

/* A STUN server that is not lyncmock: what it says of itself and of us. */
static enum lm_outcome
stun_foreign(const struct probe_answer *a, char *why, size_t whylen)
{
	snprintf(why, whylen, "reached a non-mock STUN server (%s%s%s, %s %d)%s%s",
	         a->software[0] ? "SOFTWARE \"" : "no SOFTWARE", a->software,
	         a->software[0] ? "\"" : "", a->status == 0 ? "success" : "error", a->status,
	         a->mapped[0] ? ", mapped us to " : "", a->mapped);
	return LM_OUT_FOREIGN_PEER;
}

const struct probe_proto probe_proto_stun = {
    .service = LM_SVC_STUN,
    .label = "STUN",
    .sent = "our STUN Binding request",
    .token_echo = true,
    .foreign = stun_foreign,
    .dgram_request = stun_dgram_request,
    .dgram_parse = stun_dgram_parse,
};

/* ---- turn-tcp: the same over a TCP stream ------------------------------------ */

static int
turn_tcp_request(struct probe *p, struct evbuffer *out)
{
	uint8_t buf[STUNMSG_MAX];
	size_t n = stun_dgram_request(p, buf, sizeof buf);

	return n > 0 ? evbuffer_add(out, buf, n) : -1;
}

enum probe_parse
probe_turn_tcp_parse(const char *buf, size_t len, bool eof, struct probe_answer *a)
{
	const uint8_t *b = (const uint8_t *)buf;
	struct stunmsg_frame f;
	size_t off = 0;

	for (;;) {
		switch (stunmsg_frame(b + off, len - off, &f)) {
		case STUNMSG_FRAME_MORE:
			if (!eof)
				return PROBE_PARSE_MORE;
			return probe_answer_fail(
			    a, len == 0 ? "connection closed without an answer"
			                : "connection closed inside a STUN message");
		case STUNMSG_FRAME_BAD:
			return probe_answer_fail(a, f.why);
		case STUNMSG_FRAME_DATA:
			off += f.len; /* end-to-end data is not an answer */
			continue;
		case STUNMSG_FRAME_MESSAGE:
			/* the token check (the identity's) catches another transaction */
			return probe_stun_parse(b + off + f.off, f.msglen, NULL, a);
		}
	}
}

const struct probe_proto probe_proto_turn_tcp = {
    .service = LM_SVC_TURN_TCP,
    .label = "STUN",
    .sent = "our TURN Allocate request",
    .token_echo = true,
    .foreign = stun_foreign,
    .request = turn_tcp_request,
    .parse = probe_turn_tcp_parse,
};
