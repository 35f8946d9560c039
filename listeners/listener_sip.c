/* sip-mtls / sip-tls: SIP over (mutual) TLS; the stream is framed and answered by sip_stream.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "listeners/listener_priv.h"

/* The source of c as the Via stamps want it (RFC 3581). */
static void
sip_source_of(const struct lm_conn *c, struct sip_source *src)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c->peer_ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c->peer_ss;

	src->ip[0] = '\0';
	src->port = 0;
	if (c->peer_ss.ss_family == AF_INET &&
	    inet_ntop(AF_INET, &s4->sin_addr, src->ip, sizeof src->ip) != NULL)
		src->port = ntohs(s4->sin_port);
	else if (c->peer_ss.ss_family == AF_INET6 &&
	         inet_ntop(AF_INET6, &s6->sin6_addr, src->ip, sizeof src->ip) != NULL)
		src->port = ntohs(s6->sin6_port);
	else
		src->ip[0] = '\0';
}

static size_t
sip_conn_process(struct lm_conn *c, const char *buf, size_t len, const struct wire_ident *id,
                 struct evbuffer *out, bool *close, char *why, size_t whylen)
{
	struct sip_source src;
	size_t used;

	sip_source_of(c, &src);
	used = sip_stream_process(buf, len, c->l->set->lim.max_message, &src, id, out, &c->sip,
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
