/*
 * stun and turn-tcp: the A/V Edge's STUN/MS-TURN service as a first packet
 * sees it. Binding → success with the source seen and the identity;
 * Allocate → 401 with REALM and NONCE (stunmsg/ decides and encodes, with
 * libnice). turn-tcp takes RFC 5389 §7.2.2 framing (messages back to back)
 * and [MS-TURN] §2.1.4 framing, and answers each message in the framing it
 * came in; TLS and MS-TURN's pseudo-TLS are not served.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listeners/listener_priv.h"
#include "stunmsg/stunmsg.h"

/* Answers one STUN message; 0 when none is due or it is not STUN. */
static size_t
stun_answer_one(const struct listener *l, const uint8_t *in, size_t len,
                const struct sockaddr *peer, socklen_t peerlen, const struct wire_ident *id,
                uint8_t *out, size_t cap, char *what, size_t whatlen)
{
	struct stunmsg_request req;
	struct stunmsg_server srv;
	json_t *j;
	char software[128], *identity = NULL;
	const char *word;
	size_t n;

	if (!stunmsg_parse_request(in, len, &req)) {
		snprintf(what, whatlen, "protocol error: not a STUN message (%zu bytes)", len);
		return 0;
	}
	listener_software(l, software, sizeof software);
	/* the token a STUN client cannot know: its own transaction ID */
	if ((j = wire_ident_json(id, req.txid)) != NULL) {
		identity = json_dumps(j, JSON_COMPACT);
		json_decref(j);
	}
	memset(&srv, 0, sizeof srv);
	srv.software = software;
	srv.identity = identity;
	srv.realm = l->set->cfg.sc->domain != NULL ? l->set->cfg.sc->domain : "lyncmock";
	srv.peer = peer;
	srv.peerlen = peerlen;
	n = stunmsg_answer(&req, &srv, out, cap, &word);
	free(identity);
	snprintf(what, whatlen, "%s%s", word, req.cookie ? "" : " (no RFC 5389 cookie)");
	return n;
}

static size_t
stun_datagram(struct listener *l, const uint8_t *in, size_t len, const struct sockaddr *peer,
              socklen_t peerlen, const struct wire_ident *id, uint8_t *out, size_t cap, char *what,
              size_t whatlen)
{
	return stun_answer_one(l, in, len, peer, peerlen, id, out,
	                       cap < STUNMSG_MAX ? cap : STUNMSG_MAX, what, whatlen);
}

const struct listener_kind listener_kind_stun = {
    .name = "stun",
    .datagram = stun_datagram,
};

static size_t
turn_tcp_process(struct lm_conn *c, const char *buf, size_t len, const struct wire_ident *id,
                 struct evbuffer *out, bool *close, char *why, size_t whylen)
{
	const uint8_t *b = (const uint8_t *)buf;
	uint8_t ans[STUNMSG_MAX], hdr[4];
	struct stunmsg_frame f;
	char what[160];
	size_t off = 0, n, h;

	*close = false;
	while (off < len) {
		switch (stunmsg_frame(b + off, len - off, &f)) {
		case STUNMSG_FRAME_MORE:
			return off;
		case STUNMSG_FRAME_BAD:
			*close = true;
			snprintf(why, whylen, "protocol error: %s", f.why);
			return len;
		case STUNMSG_FRAME_DATA:
			break; /* end-to-end data: there is no relay to carry it */
		case STUNMSG_FRAME_MESSAGE:
			n = stun_answer_one(
			    c->l, b + off + f.off, f.msglen, (const struct sockaddr *)&c->peer_ss,
			    c->peer_ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
			                                     : sizeof(struct sockaddr_in),
			    id, ans, sizeof ans, what, sizeof what);
			if (n > 0) {
				h = stunmsg_frame_header(f.framing, n, hdr);
				evbuffer_add(out, hdr, h);
				evbuffer_add(out, ans, n);
				c->requests++;
			}
			break;
		}
		off += f.len;
	}
	return off;
}

const struct listener_kind listener_kind_turn_tcp = {
    .name = "turn-tcp",
    .read_limit = STUNMSG_MAX + 4,
    .process = turn_tcp_process,
};
