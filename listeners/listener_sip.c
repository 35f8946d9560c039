/* sip-mtls: SIP over mutual TLS; the stream is framed and answered by sip_stream.c. */
#include <stdio.h>

#include "listeners/listener_priv.h"

static size_t
sip_conn_process(struct lm_conn *c, const char *buf, size_t len, const struct lm_ident *id,
                 struct evbuffer *out, bool *close, char *why, size_t whylen)
{
	size_t used = sip_stream_process(buf, len, c->l->set->lim.max_message, id, out, &c->sip,
	                                 close, why, whylen);
	c->requests = c->sip.requests;
	return used;
}

const struct listener_kind listener_kind_sip = {
    .name = "sip-mtls",
    .read_limit = 0, /* max_message */
    .on_connected = NULL,
    .process = sip_conn_process,
};
