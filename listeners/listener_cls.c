/*
 * cls-mtls (and tls/mtls): the Centralized Logging Service stand-in,
 * speaking the CLS line protocol of wire/wire.h.
 */
#include <stdio.h>
#include <string.h>

#include "listeners/listener_priv.h"

size_t
cls_process(const char *buf, size_t len, const struct wire_ident *id, struct evbuffer *out,
            unsigned *requests, bool *close, char *why, size_t whylen)
{
	size_t off = 0, llen, toklen;
	const char *eol, *err, *tok;
	char token[WIRE_CLS_MAX_TOKEN + 1];

	*close = false;
	while (off < len) {
		eol = memchr(buf + off, '\n', len - off);
		if (eol == NULL) {
			if (len - off >= WIRE_CLS_MAX_LINE) {
				err = "line too long";
				goto error;
			}
			return off;
		}
		llen = (size_t)(eol - (buf + off));
		if (llen >= WIRE_CLS_MAX_LINE) {
			err = "line too long";
			goto error;
		}
		/* CRLF is the protocol; a bare LF is tolerated */
		if (llen > 0 && buf[off + llen - 1] == '\r')
			llen--;
		if ((err = wire_cls_check(buf + off, llen, &tok, &toklen)) != NULL)
			goto error;
		memcpy(token, tok, toklen);
		token[toklen] = '\0';
		if (wire_ident_line(id, token, out) == -1) {
			err = "internal error";
			goto error;
		}
		(*requests)++;
		off = (size_t)(eol - buf) + 1;
	}
	return off;
error:
	(void)wire_cls_err(out, err);
	*close = true;
	snprintf(why, whylen, "protocol error: %s", err);
	return len;
}

static size_t
cls_conn_process(struct lm_conn *c, const char *buf, size_t len, const struct wire_ident *id,
                 struct evbuffer *out, bool *close, char *why, size_t whylen)
{
	return cls_process(buf, len, id, out, &c->requests, close, why, whylen);
}

const struct listener_kind listener_kind_cls = {
    .name = "cls-mtls",
    .read_limit = WIRE_CLS_MAX_LINE + 2,
    .on_connected = NULL,
    .process = cls_conn_process,
};
