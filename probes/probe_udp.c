/* The udp probe: "LYNCMOCK PROBE <token>" in one datagram, one identity line
 * back. A UDP port that is open but not lyncmock rarely answers at all, so
 * without an answer it reads as filtered: UDP cannot tell them apart. */
#include <stdio.h>
#include <string.h>

#include "probes/probe_int.h"

static size_t
udp_dgram_request(struct probe *p, uint8_t *out, size_t cap)
{
	int n = wire_cls_request((char *)out, cap, p->token);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static enum probe_parse
udp_dgram_parse(struct probe *p, const uint8_t *buf, size_t len, struct probe_answer *a)
{
	(void)p;
	/* a datagram is whole: a line cut short is an error, not "more" */
	return probe_cls_parse((const char *)buf, len, true, a);
}

const struct probe_proto probe_proto_udp = {
    .service = LM_SVC_UDP,
    .label = "UDP",
    .sent = "our UDP probe",
    .identity_only = true,
    .token_echo = true,
    .dgram_request = udp_dgram_request,
    .dgram_parse = udp_dgram_parse,
};
