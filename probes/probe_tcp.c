/* The tcp probe: connecting is enough; a listener's identity line, when one
 * comes within a short grace, is checked too. */
#include <string.h>

#include "probes/probe_int.h"

static int
tcp_request(struct probe *p, struct evbuffer *out)
{
	(void)p;
	(void)out;
	return 0;
}

/* The identity line if one arrives; anything else is an open port. */
static enum probe_parse
tcp_parse(const char *buf, size_t len, bool eof, struct probe_answer *a)
{
	enum probe_parse r = probe_cls_parse(buf, len, eof, a);

	if (r == PROBE_PARSE_ERROR) {
		/* not a line we understand: the port is open all the same */
		a->why[0] = '\0';
		return PROBE_PARSE_DONE;
	}
	return r;
}

const struct probe_proto probe_proto_tcp = {
    .service = LM_SVC_TCP,
    .request = tcp_request,
    .parse = tcp_parse,
};

const struct probe_proto *
probe_proto_of(enum lm_service svc)
{
	switch (svc) {
	case LM_SVC_HTTP:
	case LM_SVC_HTTPS:
		return &probe_proto_http;
	case LM_SVC_SIP_MTLS:
		return &probe_proto_sip;
	case LM_SVC_CLS_MTLS:
		return &probe_proto_cls;
	case LM_SVC_TCP:
		return &probe_proto_tcp;
	default:
		return NULL;
	}
}
