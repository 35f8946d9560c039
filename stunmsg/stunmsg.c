/* STUN answers, requests and TCP framing over libnice's stun/ API. */
#include "stunmsg/stunmsg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <stun/stunagent.h>
#include <stun/stunmessage.h>

/* Comprehension-required attributes a client may send us: known, so they
 * do not earn a 420 (RFC 5389, TURN RFC 5766/8656, RFC 5780, ICE). */
static const uint16_t known_attrs[] = {
    STUN_ATTRIBUTE_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_CHANGE_REQUEST,
    STUN_ATTRIBUTE_USERNAME,
    STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_ERROR_CODE,
    STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES,
    STUN_ATTRIBUTE_CHANNEL_NUMBER,
    STUN_ATTRIBUTE_LIFETIME,
    STUN_ATTRIBUTE_MAGIC_COOKIE,
    STUN_ATTRIBUTE_BANDWIDTH,
    STUN_ATTRIBUTE_DESTINATION_ADDRESS,
    STUN_ATTRIBUTE_XOR_PEER_ADDRESS,
    STUN_ATTRIBUTE_DATA,
    STUN_ATTRIBUTE_REALM,
    STUN_ATTRIBUTE_NONCE,
    STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS,
    STUN_ATTRIBUTE_REQUESTED_ADDRESS_TYPE,
    STUN_ATTRIBUTE_EVEN_PORT,
    STUN_ATTRIBUTE_REQUESTED_TRANSPORT,
    STUN_ATTRIBUTE_DONT_FRAGMENT,
    STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
    STUN_ATTRIBUTE_RESERVATION_TOKEN,
    STUN_ATTRIBUTE_PRIORITY,
    STUN_ATTRIBUTE_USE_CANDIDATE,
    0x0026, /* PADDING (RFC 5780) */
    0x0027, /* RESPONSE-PORT (RFC 5780) */
    0,
};

static void
txid_hex(const StunMessage *msg, char out[STUNMSG_TXID_HEX])
{
	StunTransactionId id;

	stun_message_id(msg, id);
	for (size_t i = 0; i < sizeof id; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

static void
agent_init(StunAgent *ag, bool fingerprint)
{
	stun_agent_init(ag, known_attrs, STUN_COMPATIBILITY_RFC5389,
	                STUN_AGENT_USAGE_IGNORE_CREDENTIALS |
	                    (fingerprint ? STUN_AGENT_USAGE_USE_FINGERPRINT : 0));
}

int
stunmsg_parse_request(const uint8_t *buf, size_t len, struct stunmsg_request *req)
{
	StunAgent ag;
	StunMessage msg;
	int n;

	memset(req, 0, sizeof *req);
	if (buf == NULL || len > STUNMSG_MAX)
		return 0;
	n = stun_message_validate_buffer_length(buf, len, true);
	if (n <= 0 || (size_t)n != len)
		return 0;
	agent_init(&ag, false);
	req->validation = stun_agent_validate(&ag, &msg, buf, len, NULL, NULL);
	if (req->validation == STUN_VALIDATION_NOT_STUN ||
	    req->validation == STUN_VALIDATION_INCOMPLETE_STUN)
		return 0;
	req->buf = buf;
	req->len = len;
	req->method = stun_message_get_method(&msg);
	req->request = stun_message_get_class(&msg) == STUN_REQUEST;
	req->cookie = stun_message_has_cookie(&msg);
	txid_hex(&msg, req->txid);
	return 1;
}

/* SOFTWARE, then our identity: the attributes every answer carries. */
static bool
append_ours(StunMessage *msg, const struct stunmsg_server *srv)
{
	char sw[128];

	/* RFC 5389 §15.10: fewer than 128 characters */
	snprintf(sw, sizeof sw, "%s", srv->software != NULL ? srv->software : "lyncmock");
	if (stun_message_append_string(msg, STUN_ATTRIBUTE_SOFTWARE, sw) !=
	    STUN_MESSAGE_RETURN_SUCCESS)
		return false;
	if (srv->identity != NULL &&
	    stun_message_append_bytes(msg, STUNMSG_ATTR_IDENTITY, srv->identity,
	                              strlen(srv->identity)) != STUN_MESSAGE_RETURN_SUCCESS)
		return false;
	return true;
}

size_t
stunmsg_answer(const struct stunmsg_request *req, const struct stunmsg_server *srv, uint8_t *out,
               size_t cap, const char **what)
{
	StunAgent ag;
	StunMessage rq, msg;
	unsigned char rnd[12];
	char nonce[2 * sizeof rnd + 1];
	size_t n;

	*what = "ignored";
	if (!req->request)
		return 0; /* indications and responses are not answered */
	agent_init(&ag, true);
	/* validate again into rq: libnice's answers are built from the request */
	(void)stun_agent_validate(&ag, &rq, req->buf, req->len, NULL, NULL);
	if (req->validation == STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE) {
		*what = "420 unknown attribute";
		return stun_agent_build_unknown_attributes_error(&ag, &msg, out, cap, &rq);
	}
	if (req->validation == STUN_VALIDATION_SUCCESS && req->method == STUN_BINDING) {
		*what = "binding";
		if (!stun_agent_init_response(&ag, &msg, out, cap, &rq))
			return 0;
		if (srv->peer != NULL &&
		    (stun_message_append_xor_addr(&msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
		                                  (const struct sockaddr_storage *)srv->peer,
		                                  srv->peerlen) != STUN_MESSAGE_RETURN_SUCCESS ||
		     stun_message_append_addr(&msg, STUN_ATTRIBUTE_MAPPED_ADDRESS, srv->peer,
		                              srv->peerlen) != STUN_MESSAGE_RETURN_SUCCESS))
			return 0;
		if (!append_ours(&msg, srv))
			return 0;
		return stun_agent_finish_message(&ag, &msg, NULL, 0);
	}
	if (req->validation == STUN_VALIDATION_SUCCESS && req->method == STUN_ALLOCATE) {
		/* a TURN server's first answer: authenticate with this realm and nonce */
		*what = "allocate 401";
		if (!stun_agent_init_error(&ag, &msg, out, cap, &rq, STUN_ERROR_UNAUTHORIZED))
			return 0;
		if (RAND_bytes(rnd, sizeof rnd) != 1)
			return 0;
		for (size_t i = 0; i < sizeof rnd; i++)
			snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
		if (stun_message_append_string(&msg, STUN_ATTRIBUTE_REALM,
		                               srv->realm != NULL ? srv->realm : "lyncmock") !=
		        STUN_MESSAGE_RETURN_SUCCESS ||
		    stun_message_append_string(&msg, STUN_ATTRIBUTE_NONCE, nonce) !=
		        STUN_MESSAGE_RETURN_SUCCESS ||
		    !append_ours(&msg, srv))
			return 0;
		return stun_agent_finish_message(&ag, &msg, NULL, 0);
	}
	*what = "400 bad request";
	if (!stun_agent_init_error(&ag, &msg, out, cap, &rq, STUN_ERROR_BAD_REQUEST) ||
	    !append_ours(&msg, srv))
		return 0;
	n = stun_agent_finish_message(&ag, &msg, NULL, 0);
	return n;
}

/* ---- client side ------------------------------------------------------------ */

size_t
stunmsg_request(int method, uint8_t *out, size_t cap, char txid[STUNMSG_TXID_HEX])
{
	StunAgent ag;
	StunMessage msg;
	size_t n;

	agent_init(&ag, true);
	if (!stun_agent_init_request(&ag, &msg, out, cap, (StunMethod)method))
		return 0;
	/* TURN: a UDP relay is what an A/V client asks for (protocol 17) */
	if (method == STUN_ALLOCATE &&
	    stun_message_append32(&msg, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, 17u << 24) !=
	        STUN_MESSAGE_RETURN_SUCCESS)
		return 0;
	if (stun_message_append_string(&msg, STUN_ATTRIBUTE_SOFTWARE, "lyncmock probe") !=
	    STUN_MESSAGE_RETURN_SUCCESS)
		return 0;
	n = stun_agent_finish_message(&ag, &msg, NULL, 0);
	if (n > 0)
		txid_hex(&msg, txid);
	return n;
}

static void
addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	if (ss->ss_family == AF_INET &&
	    inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof a))
		snprintf(buf, len, "%s:%u", a, ntohs(((const struct sockaddr_in *)ss)->sin_port));
	else if (ss->ss_family == AF_INET6 &&
	         inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof a))
		snprintf(buf, len, "[%s]:%u", a,
		         ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
}

enum stunmsg_verdict
stunmsg_parse_answer(const uint8_t *buf, size_t len, const char *txid, struct stunmsg_answer *a)
{
	StunAgent ag;
	StunMessage msg;
	struct sockaddr_storage ss;
	socklen_t sl;
	char id[STUNMSG_TXID_HEX];
	const void *attr;
	uint16_t alen;
	int n, cls;

	memset(a, 0, sizeof *a);
	n = buf != NULL ? stun_message_validate_buffer_length(buf, len, true) : -1;
	if (n <= 0 || (size_t)n != len) {
		snprintf(a->why, sizeof a->why, "%s",
		         n == 0 ? "a truncated STUN message" : "not a STUN message");
		return STUNMSG_INVALID;
	}
	agent_init(&ag, false);
	memset(&msg, 0, sizeof msg);
	msg.agent = &ag;
	msg.buffer = (uint8_t *)buf; /* only read: libnice's find functions take it so */
	msg.buffer_len = len;
	txid_hex(&msg, id);
	if (txid != NULL && strcmp(id, txid) != 0)
		return STUNMSG_OTHER;
	cls = stun_message_get_class(&msg);
	a->method = stun_message_get_method(&msg);
	if (cls == STUN_REQUEST || cls == STUN_INDICATION) {
		snprintf(a->why, sizeof a->why,
		         "a STUN %s came back instead of an answer (an echo service?)",
		         cls == STUN_REQUEST ? "request" : "indication");
		return STUNMSG_INVALID;
	}
	a->success = cls == STUN_RESPONSE;
	if (!a->success &&
	    stun_message_find_error(&msg, &a->error_code) != STUN_MESSAGE_RETURN_SUCCESS)
		a->error_code = 0;
	sl = sizeof ss;
	if (stun_message_find_xor_addr(&msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &ss, &sl) ==
	    STUN_MESSAGE_RETURN_SUCCESS)
		addr_text(&ss, a->xor_mapped, sizeof a->xor_mapped);
	sl = sizeof ss;
	if (stun_message_find_addr(&msg, STUN_ATTRIBUTE_MAPPED_ADDRESS, &ss, &sl) ==
	    STUN_MESSAGE_RETURN_SUCCESS)
		addr_text(&ss, a->mapped, sizeof a->mapped);
	if (stun_message_find_string(&msg, STUN_ATTRIBUTE_SOFTWARE, a->software,
	                             sizeof a->software) != STUN_MESSAGE_RETURN_SUCCESS)
		a->software[0] = '\0';
	a->realm = stun_message_has_attribute(&msg, STUN_ATTRIBUTE_REALM);
	a->nonce = stun_message_has_attribute(&msg, STUN_ATTRIBUTE_NONCE);
	if ((attr = stun_message_find(&msg, STUNMSG_ATTR_IDENTITY, &alen)) != NULL) {
		if ((a->identity = malloc((size_t)alen + 1)) == NULL) {
			snprintf(a->why, sizeof a->why, "out of memory");
			return STUNMSG_INVALID;
		}
		memcpy(a->identity, attr, alen);
		a->identity[alen] = '\0';
		a->identity_len = alen;
	}
	return STUNMSG_OK;
}

void
stunmsg_answer_clear(struct stunmsg_answer *a)
{
	free(a->identity);
	a->identity = NULL;
	a->identity_len = 0;
}

/* ---- TCP framing ------------------------------------------------------------- */

enum stunmsg_frame_kind
stunmsg_frame(const uint8_t *buf, size_t len, struct stunmsg_frame *f)
{
	size_t flen;
	int n;

	memset(f, 0, sizeof *f);
	f->kind = STUNMSG_FRAME_MORE;
	if (len == 0)
		return f->kind;
	if (buf[0] == 0x02 || buf[0] == 0x03) {
		f->framing = STUNMSG_FRAME_MSTURN;
		if (len < 4)
			return f->kind;
		flen = ((size_t)buf[2] << 8) | buf[3];
		if (buf[1] != 0 || (buf[0] == 0x02 && flen > STUNMSG_MAX)) {
			f->kind = STUNMSG_FRAME_BAD;
			f->why = buf[1] != 0 ? "MS-TURN frame with a nonzero reserved byte"
			                     : "MS-TURN frame larger than the cap";
			return f->kind;
		}
		if (len < 4 + flen)
			return f->kind;
		f->len = 4 + flen;
		if (buf[0] == 0x03) {
			f->kind = STUNMSG_FRAME_DATA;
			return f->kind;
		}
		n = stun_message_validate_buffer_length(buf + 4, flen, true);
		if (n <= 0 || (size_t)n != flen) {
			f->kind = STUNMSG_FRAME_BAD;
			f->why = "MS-TURN control frame without one whole STUN message";
			return f->kind;
		}
		f->kind = STUNMSG_FRAME_MESSAGE;
		f->off = 4;
		f->msglen = flen;
		return f->kind;
	}
	/* STUN's first byte: methods below 0x100 in any class give 0x00 or 0x01 */
	if (buf[0] <= 0x01) {
		f->framing = STUNMSG_FRAME_RFC5389;
		n = stun_message_validate_buffer_length(buf, len < STUNMSG_MAX ? len : STUNMSG_MAX,
		                                        true);
		if (n == STUN_MESSAGE_BUFFER_INCOMPLETE && len < STUNMSG_MAX)
			return f->kind;
		if (n <= 0) {
			f->kind = STUNMSG_FRAME_BAD;
			f->why = n == 0 ? "STUN message larger than the cap" : "not a STUN message";
			return f->kind;
		}
		f->kind = STUNMSG_FRAME_MESSAGE;
		f->off = 0;
		f->msglen = f->len = (size_t)n;
		return f->kind;
	}
	f->kind = STUNMSG_FRAME_BAD;
	f->why = buf[0] == 0x16 ? "a TLS record: turn-tcp serves STUN framing, not (pseudo-)TLS"
	                        : "neither STUN (RFC 5389) nor MS-TURN framing";
	return f->kind;
}

size_t
stunmsg_frame_header(enum stunmsg_framing framing, size_t msglen, uint8_t hdr[4])
{
	if (framing != STUNMSG_FRAME_MSTURN)
		return 0;
	hdr[0] = 0x02;
	hdr[1] = 0;
	hdr[2] = (uint8_t)(msglen >> 8);
	hdr[3] = (uint8_t)msglen;
	return 4;
}
