/* sip-mtls: SIP over mutual TLS; the stream is framed and answered by sip_stream.c. */
#include <stdio.h>

#include "listeners/listener_priv.h"

static int
sip_on_read(struct lm_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev), *out;
	size_t len = evbuffer_get_length(in), used;
	struct lm_ident id;
	bool close;
	char why[128];
	const char *buf;

	if (((buf = (const char *)evbuffer_pullup(in, -1)) == NULL && len > 0) ||
	    (out = evbuffer_new()) == NULL) {
		conn_outcome(c, "out of memory");
		return -1;
	}
	conn_ident(c, &id);
	used = sip_stream_process(buf, len, c->l->set->lim.max_message, &id, out, &c->sip, &close,
	                          why, sizeof why);
	evbuffer_drain(in, used);
	c->requests = c->sip.requests;
	conn_write(c, out);
	evbuffer_free(out);
	if (close) {
		conn_outcome(c, "%s", why);
		conn_close_after_write(c);
	}
	return 0;
}

const struct listener_kind listener_kind_sip = {
    .name = "sip-mtls",
    .read_limit = 0, /* max_message */
    .on_connected = NULL,
    .on_read = sip_on_read,
};
