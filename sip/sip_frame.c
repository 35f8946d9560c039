/* SIP stream framing: the one place that finds where a message ends. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "sip/sip.h"

void
sip_head_foreach(const char *head, size_t len,
                 void (*fn)(const char *, size_t, const char *, size_t, void *), void *arg)
{
	const char *p = head, *end = head + len, *eol, *colon, *n, *ne, *v, *ve;

	eol = memchr(p, '\n', (size_t)(end - p));
	if (eol == NULL)
		return;
	for (p = eol + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		ve = eol;
		if (ve > p && ve[-1] == '\r')
			ve--;
		if (ve == p || *p == ' ' || *p == '\t')
			continue; /* blank or folded line */
		colon = memchr(p, ':', (size_t)(ve - p));
		if (colon == NULL)
			continue;
		n = p;
		ne = colon;
		while (ne > n && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		v = colon + 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		fn(n, (size_t)(ne - n), v, (size_t)(ve - v), arg);
		if (eol == end)
			break;
	}
}

bool
sip_header_is(const char *n, size_t nlen, const char *full, const char *compact)
{
	if (nlen == strlen(full) && strncasecmp(n, full, nlen) == 0)
		return true;
	return compact != NULL && nlen == 1 && tolower((unsigned char)*n) == *compact;
}

struct cl_scan {
	int state; /* 0 absent, 1 found, -1 invalid */
	size_t value;
};

static void
cl_header(const char *n, size_t nlen, const char *v, size_t vlen, void *arg)
{
	struct cl_scan *s = arg;
	size_t x = 0, i;

	if (!sip_header_is(n, nlen, "content-length", "l") || s->state == -1)
		return;
	if (vlen == 0 || vlen > 9) {
		s->state = -1;
		return;
	}
	for (i = 0; i < vlen; i++) {
		if (!isdigit((unsigned char)v[i])) {
			s->state = -1;
			return;
		}
		x = x * 10 + (size_t)(v[i] - '0');
	}
	if (s->state == 1 && s->value != x) {
		s->state = -1; /* two different lengths: no safe framing */
		return;
	}
	s->state = 1;
	s->value = x;
}

static enum sip_frame_kind
frame_set(struct sip_frame *f, enum sip_frame_kind kind, size_t len, const char *why)
{
	f->kind = kind;
	f->len = len;
	f->why = why;
	return kind;
}

enum sip_frame_kind
sip_frame(const char *buf, size_t len, size_t max_message, struct sip_frame *f)
{
	const char *hend;
	size_t scan;
	struct cl_scan cl = {0, 0};

	memset(f, 0, sizeof *f);
	if (len >= 2 && buf[0] == '\r' && buf[1] == '\n') {
		if (len < 4)
			return frame_set(f, SIP_FRAME_NEED_MORE, 0, NULL); /* maybe a ping */
		if (buf[2] == '\r' && buf[3] == '\n')
			return frame_set(f, SIP_FRAME_KEEPALIVE, 4, NULL);
		return frame_set(f, SIP_FRAME_SKIP, 2, NULL);
	}
	scan = len < max_message ? len : max_message;
	hend = memmem(buf, scan, "\r\n\r\n", 4);
	if (hend == NULL)
		return len >= max_message
		           ? frame_set(f, SIP_FRAME_TOO_LARGE, 0, "message larger than the limit")
		           : frame_set(f, SIP_FRAME_NEED_MORE, 0, NULL);
	f->head_len = (size_t)(hend - buf) + 4;
	sip_head_foreach(buf, f->head_len, cl_header, &cl);
	if (cl.state == -1)
		return frame_set(f, SIP_FRAME_BAD, f->head_len, "bad Content-Length");
	if (cl.value > max_message || f->head_len + cl.value > max_message)
		return frame_set(f, SIP_FRAME_TOO_LARGE, f->head_len,
		                 "message larger than the limit");
	f->body_len = cl.value;
	f->has_length = cl.state == 1;
	if (len < f->head_len + cl.value)
		return frame_set(f, SIP_FRAME_NEED_MORE, 0, NULL);
	return frame_set(f, SIP_FRAME_MESSAGE, f->head_len + cl.value, NULL);
}
