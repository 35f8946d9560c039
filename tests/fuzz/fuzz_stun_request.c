/* libFuzzer: what the stun and turn-tcp listeners do with a client's bytes:
 * stunmsg_parse_request + stunmsg_answer on the whole input (a datagram),
 * then the input as a TCP stream through stunmsg_frame. Every answer must
 * read back as a STUN answer to the request's transaction. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stunmsg/stunmsg.h"

static void
answer(const uint8_t *buf, size_t len)
{
	struct sockaddr_in6 peer = {.sin6_family = AF_INET6, .sin6_port = htons(40112)};
	struct stunmsg_server srv = {
	    .software = "lyncmock fuzz edge01 (edge-internal)",
	    .identity = "{\"service\":\"lyncmock\"}",
	    .realm = "contoso.local",
	    .peer = (const struct sockaddr *)&peer,
	    .peerlen = sizeof peer,
	};
	uint8_t out[STUNMSG_MAX];
	struct stunmsg_request req;
	struct stunmsg_answer a;
	const char *what;
	size_t n;

	inet_pton(AF_INET6, "2001:db8::20", &peer.sin6_addr);
	/* an exact-size copy: ASan sees a read past len */
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return;
	memcpy(copy, buf, len);
	if (stunmsg_parse_request(copy, len, &req) == 1) {
		n = stunmsg_answer(&req, &srv, out, sizeof out, &what);
		/* libnice reads type 0x0115 (a Connect error) as a data indication */
		if (n > 0 && stunmsg_parse_answer(out, n, req.txid, &a) != STUNMSG_OK &&
		    req.method != 0x005)
			abort();
		if (n > 0)
			stunmsg_answer_clear(&a);
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stunmsg_frame f;
	size_t off = 0;

	answer(data, size);
	while (off < size) {
		enum stunmsg_frame_kind k = stunmsg_frame(data + off, size - off, &f);
		if (k == STUNMSG_FRAME_MORE || k == STUNMSG_FRAME_BAD)
			break;
		if (f.len == 0 || f.len > size - off)
			abort(); /* a frame must make progress inside the input */
		if (k == STUNMSG_FRAME_MESSAGE) {
			if (f.off + f.msglen > f.len)
				abort();
			answer(data + off + f.off, f.msglen);
		}
		off += f.len;
	}
	return 0;
}
