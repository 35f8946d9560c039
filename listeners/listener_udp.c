/* udp: a UDP port (SQL Browser 1434…): any datagram is answered with one
 * identity line, its token the datagram's first line when it is a CLS-style
 * "LYNCMOCK PROBE <token>" request. */
#include <stdio.h>
#include <string.h>

#include "listeners/listener_priv.h"

static size_t
udp_datagram(struct listener *l, const uint8_t *in, size_t len, const struct sockaddr *peer,
             socklen_t peerlen, const struct wire_ident *id, uint8_t *out, size_t cap, char *what,
             size_t whatlen)
{
	struct evbuffer *ans;
	unsigned requests = 0;
	bool close = false;
	char why[128] = "";
	size_t n;

	(void)l;
	(void)peer;
	(void)peerlen;
	if ((ans = evbuffer_new()) == NULL) {
		snprintf(what, whatlen, "out of memory");
		return 0;
	}
	/* the CLS line protocol answers a probe's line; anything else gets the
	 * identity without a token (a plain client proves the path too) */
	if (len == 0 || memchr(in, '\n', len) == NULL ||
	    (cls_process((const char *)in, len, id, ans, &requests, &close, why, sizeof why),
	     close)) {
		evbuffer_drain(ans, evbuffer_get_length(ans));
		wire_ident_line(id, NULL, ans);
	}
	n = evbuffer_get_length(ans);
	if (n > cap)
		n = 0;
	else
		evbuffer_remove(ans, out, n);
	evbuffer_free(ans);
	snprintf(what, whatlen, "%s", requests > 0 ? "ok" : "answered without a token");
	return n;
}

const struct listener_kind listener_kind_udp = {
    .name = "udp",
    .datagram = udp_datagram,
};
