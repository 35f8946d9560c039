/* tcp: a plain port; on connect it writes one identity line and closes. */
#include "listeners/listener_priv.h"

static int
tcp_on_connected(struct lm_conn *c)
{
	struct evbuffer *out;
	struct lm_ident id;

	if ((out = evbuffer_new()) == NULL)
		goto fail;
	conn_ident(c, &id);
	if (identity_line(&id, NULL, out) == -1)
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

static int
tcp_on_read(struct lm_conn *c)
{
	/* whatever the client sends is not read: the answer is already on its way */
	struct evbuffer *in = bufferevent_get_input(c->bev);

	evbuffer_drain(in, evbuffer_get_length(in));
	return 0;
}

const struct listener_kind listener_kind_tcp = {
    .name = "tcp",
    .read_limit = 4096,
    .on_connected = tcp_on_connected,
    .on_read = tcp_on_read,
};
