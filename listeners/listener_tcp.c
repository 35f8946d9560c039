/* tcp: a plain port; on connect it writes one identity line and closes. */
#include "listeners/listener_priv.h"

static int
tcp_on_connected(struct lm_conn *c)
{
	struct evbuffer *out;
	struct wire_ident id;

	if ((out = evbuffer_new()) == NULL)
		goto fail;
	conn_ident(c, &id);
	if (wire_ident_line(&id, NULL, out) == -1)
		goto fail;
	conn_write(c, out);
	evbuffer_free(out);
	c->requests++;
	conn_close_after_write(c);
	return 0;
fail:
	if (out != NULL)
		evbuffer_free(out);
	conn_outcome(c, "out of memory");
	return -1;
}

static size_t
tcp_conn_process(struct lm_conn *c, const char *buf, size_t len, const struct wire_ident *id,
                 struct evbuffer *out, bool *close, char *why, size_t whylen)
{
	/* whatever the client sends is not read: the answer is already on its way */
	(void)c, (void)buf, (void)id, (void)out, (void)close, (void)why, (void)whylen;
	return len;
}

const struct listener_kind listener_kind_tcp = {
    .name = "tcp",
    .read_limit = 4096,
    .on_connected = tcp_on_connected,
    .process = tcp_conn_process,
};
