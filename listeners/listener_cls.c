/*
 * cls-mtls: the Centralized Logging Service stand-in. The real CLS protocol
 * is proprietary, so the mock speaks one line: "LYNCMOCK PROBE <token>"
 * answered by one line of identity JSON; anything else gets "ERR <reason>".
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "listeners/listener_priv.h"

#define CLS_PREFIX "LYNCMOCK PROBE "
#define CLS_MAX_TOKEN 256

/* Checks one line (without its end of line); on success sets the token span. */
static const char *
cls_check(const char *line, size_t len, const char **tok, size_t *toklen)
{
	size_t plen = strlen(CLS_PREFIX);

	if (len < plen || memcmp(line, CLS_PREFIX, plen) != 0)
		return "unknown command";
	*tok = line + plen;
	*toklen = len - plen;
	if (*toklen == 0)
		return "missing token";
	if (*toklen > CLS_MAX_TOKEN)
		return "token too long";
	for (size_t i = 0; i < *toklen; i++) {
		if (!isgraph((unsigned char)(*tok)[i]))
			return "bad token";
	}
	return NULL;
}

size_t
cls_process(const char *buf, size_t len, const struct lm_ident *id, struct evbuffer *out,
            unsigned *requests, bool *close, char *why, size_t whylen)
{
	size_t off = 0, llen, toklen;
	const char *eol, *err, *tok;
	char token[CLS_MAX_TOKEN + 1];

	*close = false;
	while (off < len) {
		eol = memchr(buf + off, '\n', len - off);
		if (eol == NULL) {
			if (len - off >= CLS_MAX_LINE) {
				err = "line too long";
				goto error;
			}
			return off;
		}
		llen = (size_t)(eol - (buf + off));
		if (llen >= CLS_MAX_LINE) {
			err = "line too long";
			goto error;
		}
		/* CRLF is the protocol; a bare LF is tolerated */
		if (llen > 0 && buf[off + llen - 1] == '\r')
			llen--;
		if ((err = cls_check(buf + off, llen, &tok, &toklen)) != NULL)
			goto error;
		memcpy(token, tok, toklen);
		token[toklen] = '\0';
		if (identity_line(id, token, out) == -1) {
			err = "internal error";
			goto error;
		}
		(*requests)++;
		off = (size_t)(eol - buf) + 1;
	}
	return off;
error:
	evbuffer_add_printf(out, "ERR %s\r\n", err);
	*close = true;
	snprintf(why, whylen, "protocol error: %s", err);
	return len;
}

static size_t
cls_conn_process(struct lm_conn *c, const char *buf, size_t len, const struct lm_ident *id,
                 struct evbuffer *out, bool *close, char *why, size_t whylen)
{
	return cls_process(buf, len, id, out, &c->requests, close, why, whylen);
}

const struct listener_kind listener_kind_cls = {
    .name = "cls-mtls",
    .read_limit = CLS_MAX_LINE + 2,
    .on_connected = NULL,
    .process = cls_conn_process,
};
