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
    .label = "TCP",
    .connect_is_pass = true,
    .request = tcp_request,
    .parse = tcp_parse,
};

static const struct probe_proto *const protos[LM_SVC__COUNT] = {
    [LM_SVC_HTTP] = &probe_proto_http,
    [LM_SVC_HTTPS] = &probe_proto_http,
    [LM_SVC_SIP_MTLS] = &probe_proto_sip,
    [LM_SVC_CLS_MTLS] = &probe_proto_cls,
    [LM_SVC_TCP] = &probe_proto_tcp,
    [LM_SVC_STUN] = &probe_proto_stun,
    [LM_SVC_TURN_TCP] = &probe_proto_turn_tcp,
    /* TLS and the client certificate come from the service table */
    [LM_SVC_SIP_TLS] = &probe_proto_sip,
    [LM_SVC_TLS] = &probe_proto_cls,
    [LM_SVC_MTLS] = &probe_proto_cls,
    [LM_SVC_UDP] = &probe_proto_udp,
};

/* The one table of which proto probes each service. */
const struct probe_proto *
probe_proto_of(enum lm_service svc)
{
	return (unsigned)svc < LM_SVC__COUNT ? protos[svc] : NULL;
}
