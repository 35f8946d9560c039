/*
 * STUN/MS-TURN messages, shared by the stun and turn-tcp listeners, their
 * probes and the fuzzers. Every message is encoded and parsed with libnice's
 * stun/ API; what is ours is which answer a request gets, the identity
 * attribute, and the TCP framings (RFC 5389 §7.2.2 and [MS-TURN] §2.1.4).
 */
#ifndef LM_STUNMSG_H
#define LM_STUNMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * LYNCMOCK-IDENTITY: lyncmock's identity record (SPEC §2, JSON text) in a
 * comprehension-optional attribute (0x8000-0xFFFF: a STUN agent that does
 * not know it ignores it, RFC 5389 §15). Its token is the request's
 * transaction ID in hex: every STUN client sends one, so a real client's
 * first packet is answered with a checkable identity too.
 */
#define STUNMSG_ATTR_IDENTITY 0xFF4C
#define STUNMSG_TXID_HEX 33 /* libnice counts the cookie in: 16 bytes, 32 hex digits */
/* The largest message we build or accept (an answer with the identity fits). */
#define STUNMSG_MAX 4096

/* A request as the listener parsed it. */
struct stunmsg_request {
	int method;                  /* StunMethod: 0x001 Binding, 0x003 Allocate… */
	bool request;                /* class request (else indication/response: no answer) */
	bool cookie;                 /* RFC 5389 magic cookie present */
	char txid[STUNMSG_TXID_HEX]; /* hex of the cookie and transaction ID */
	const uint8_t *buf;          /* the message (borrowed) */
	size_t len;
	int validation; /* StunValidationStatus */
};

/* What a request is: 1 a STUN message (req filled), 0 not STUN. */
int stunmsg_parse_request(const uint8_t *buf, size_t len, struct stunmsg_request *req);

/* The facts an answer carries. */
struct stunmsg_server {
	const char *software;        /* SOFTWARE: "lyncmock 0.1.0 edge01 (edge-internal)" */
	const char *identity;        /* LYNCMOCK-IDENTITY JSON, or NULL */
	const char *realm;           /* REALM of the 401 to an Allocate */
	const struct sockaddr *peer; /* the source seen: (XOR-)MAPPED-ADDRESS */
	socklen_t peerlen;
};

/*
 * Answers req into out: Binding → success with XOR-MAPPED-ADDRESS,
 * MAPPED-ADDRESS, SOFTWARE and the identity; Allocate without credentials
 * (or with, since the mock relays nothing) → 401 with REALM and NONCE, as a
 * TURN server's first answer; an unknown comprehension-required attribute →
 * 420; any other request → 400. Returns the answer's length, 0 when none is
 * due (indications, responses), and sets *what to a word for the log.
 */
size_t stunmsg_answer(const struct stunmsg_request *req, const struct stunmsg_server *srv,
                      uint8_t *out, size_t cap, const char **what);

/* ---- the client side ----------------------------------------------------- */

/* Builds a request (Binding 0x001 or Allocate 0x003) with a fresh transaction
 * ID (hex in txid); returns its length, or 0. */
size_t stunmsg_request(int method, uint8_t *out, size_t cap, char txid[STUNMSG_TXID_HEX]);

/* An answer as the probe parsed it. */
struct stunmsg_answer {
	bool success; /* class success response (else error response) */
	int method;
	int error_code;      /* error responses: ERROR-CODE (0: none) */
	char xor_mapped[64]; /* "addr:port" or "" */
	char mapped[64];
	char software[256];
	bool realm, nonce;
	char *identity; /* LYNCMOCK-IDENTITY (malloc'd, NUL-terminated) or NULL */
	size_t identity_len;
	char why[160]; /* not usable: what was wrong */
};
enum stunmsg_verdict {
	STUNMSG_OK,     /* an answer to our transaction */
	STUNMSG_OTHER,  /* STUN, but not an answer to txid (stray, late): ignore it */
	STUNMSG_INVALID /* not a STUN message, or a broken one */
};
/* Parses one whole message (a datagram or a framed one); txid is the hex
 * transaction ID we sent. */
enum stunmsg_verdict stunmsg_parse_answer(const uint8_t *buf, size_t len, const char *txid,
                                          struct stunmsg_answer *a);
void stunmsg_answer_clear(struct stunmsg_answer *a);

/* ---- TCP framing ------------------------------------------------------- */
enum stunmsg_framing {
	STUNMSG_FRAME_RFC5389, /* messages back to back, each sized by its header */
	STUNMSG_FRAME_MSTURN   /* [MS-TURN] 2.1.4: type 0x02/0x03, reserved, 16-bit length */
};
enum stunmsg_frame_kind {
	STUNMSG_FRAME_MORE,    /* incomplete */
	STUNMSG_FRAME_MESSAGE, /* a STUN message at buf+off, msglen bytes */
	STUNMSG_FRAME_DATA,    /* an MS-TURN end-to-end data frame: skip it */
	STUNMSG_FRAME_BAD      /* neither framing: the stream cannot go on */
};
struct stunmsg_frame {
	enum stunmsg_frame_kind kind;
	enum stunmsg_framing framing;
	size_t off, msglen; /* MESSAGE: where the STUN message is */
	size_t len;         /* bytes the frame spans (MESSAGE, DATA) */
	const char *why;    /* BAD: a static reason */
};
/* Frames the start of a TCP stream: the first byte tells the framings apart
 * (an MS-TURN frame begins with 0x02 or 0x03; a STUN header of any method
 * below 0x100 with 0x00 or 0x01, since its class bits sit in bits 4 and 8).
 * Reads at most len bytes. */
enum stunmsg_frame_kind stunmsg_frame(const uint8_t *buf, size_t len, struct stunmsg_frame *f);
/* The bytes to send before a message of msglen in this framing (0 or 4). */
size_t stunmsg_frame_header(enum stunmsg_framing framing, size_t msglen, uint8_t hdr[4]);

#endif
