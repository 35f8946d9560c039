/* The cls-mtls probe: "LYNCMOCK PROBE T" over MTLS, one JSON line back. */
#include <stdlib.h>
#include <string.h>

#include "probes/probe_int.h"

static int
cls_request(struct probe *p, struct evbuffer *out)
{
	char line[WIRE_CLS_MAX_LINE + 2];
	int n = wire_cls_request(line, sizeof line, p->token);

	return n > 0 && (size_t)n < sizeof line ? evbuffer_add(out, line, (size_t)n) : -1;
}

const struct probe_proto probe_proto_cls = {
    .service = LM_SVC_CLS_MTLS,
    .label = "CLS",
    .sent = "our CLS probe line",
    .identity_only = true,
    .token_echo = true,
    .request = cls_request,
    .parse = probe_cls_parse,
};

/* Copies at most n bytes of s into out, printable ASCII only. */
static void
printable(char *out, size_t outlen, const char *s, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < outlen; i++)
		out[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[j] = '\0';
}

enum probe_parse
probe_cls_parse(const char *buf, size_t len, bool eof, struct probe_answer *a)
{
	/* memchr(NULL, …, 0) is undefined: an empty buffer has no line yet */
	const char *nl = len ? memchr(buf, '\n', len) : NULL;
	size_t n;

	if (nl == NULL) {
		if (len > PROBE_MAX_ANSWER) {
			strcpy(a->why, "answer line too long");
			return PROBE_PARSE_ERROR;
		}
		if (eof) {
			strcpy(a->why, len ? "connection closed inside the answer line"
			                   : "connection closed without an answer");
			return PROBE_PARSE_ERROR;
		}
		return PROBE_PARSE_MORE;
	}
	n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (wire_cls_is_err(buf, n)) {
		char msg[120];
		printable(msg, sizeof msg, buf, n);
		snprintf(a->why, sizeof a->why, "the listener answered \"%s\"", msg);
		return PROBE_PARSE_ERROR;
	}
	if ((a->body = malloc(n + 1)) == NULL) {
		strcpy(a->why, "out of memory");
		return PROBE_PARSE_ERROR;
	}
	memcpy(a->body, buf, n);
	a->body[n] = '\0';
	a->body_len = n;
	return PROBE_PARSE_DONE;
}
