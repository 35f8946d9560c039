/*
 * The CLS line protocol both sides speak: the real CLS protocol is
 * proprietary, so a probe sends "LYNCMOCK PROBE <token>\r\n" and a listener
 * answers one identity line, or "ERR <reason>\r\n" and closes.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "wire/wire.h"

#define CLS_PREFIX "LYNCMOCK PROBE "
#define CLS_ERR "ERR"

int
wire_cls_request(char *buf, size_t cap, const char *token)
{
	return snprintf(buf, cap, CLS_PREFIX "%s\r\n", token);
}

const char *
wire_cls_check(const char *line, size_t len, const char **tok, size_t *toklen)
{
	size_t plen = strlen(CLS_PREFIX);

	if (len < plen || memcmp(line, CLS_PREFIX, plen) != 0)
		return "unknown command";
	*tok = line + plen;
	*toklen = len - plen;
	if (*toklen == 0)
		return "missing token";
	if (*toklen > WIRE_CLS_MAX_TOKEN)
		return "token too long";
	for (size_t i = 0; i < *toklen; i++) {
		if (!isgraph((unsigned char)(*tok)[i]))
			return "bad token";
	}
	return NULL;
}

int
wire_cls_err(struct evbuffer *out, const char *reason)
{
	return evbuffer_add_printf(out, CLS_ERR " %s\r\n", reason) < 0 ? -1 : 0;
}

bool
wire_cls_is_err(const char *line, size_t len)
{
	size_t n = strlen(CLS_ERR);

	return len >= n && memcmp(line, CLS_ERR, n) == 0 && (len == n || line[n] == ' ');
}
