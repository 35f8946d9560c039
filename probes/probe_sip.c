/* The sip-mtls probe: SIP OPTIONS over MTLS built and parsed with libosip2. */
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "probes/probe_int.h"
#include "sip/sip.h"

static int
sip_request(struct probe *p, struct evbuffer *out)
{
	osip_message_t *m = NULL;
	osip_uri_t *uri = NULL;
	char buf[1024], *s = NULL;
	size_t slen = 0;
	unsigned port = p->res.port;
	bool v6 = p->local_addr[0] != '\0' && strchr(p->local_addr, ':') != NULL;
	int rc = -1;

	if (osip_message_init(&m) != 0)
		return -1;
	osip_message_set_method(m, osip_strdup("OPTIONS"));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	if (osip_uri_init(&uri) != 0)
		goto fail;
	snprintf(buf, sizeof buf, "sip:%s:%u;transport=tls", p->uri_host, port);
	if (osip_uri_parse(uri, buf) != 0)
		goto fail;
	osip_message_set_uri(m, uri);
	uri = NULL;
	snprintf(buf, sizeof buf, "SIP/2.0/TLS %s%s%s:%u;branch=z9hG4bK%s", v6 ? "[" : "",
	         p->local_addr, v6 ? "]" : "", p->local_port, p->token);
	if (osip_message_set_via(m, buf) != 0)
		goto fail;
	snprintf(buf, sizeof buf, "<sip:lyncmock-probe@%s%s%s>;tag=%.10s", v6 ? "[" : "",
	         p->local_addr, v6 ? "]" : "", p->token);
	if (osip_message_set_from(m, buf) != 0)
		goto fail;
	snprintf(buf, sizeof buf, "<sip:%s:%u>", p->uri_host, port);
	if (osip_message_set_to(m, buf) != 0)
		goto fail;
	snprintf(buf, sizeof buf, "%s@lyncmock", p->token);
	if (osip_message_set_call_id(m, buf) != 0 || osip_message_set_cseq(m, "1 OPTIONS") != 0 ||
	    osip_message_set_max_forwards(m, "70") != 0 ||
	    osip_message_set_header(m, SIP_TOKEN_HEADER, p->token) != 0 ||
	    osip_message_set_header(m, "User-Agent", "lyncmock/" LM_VERSION) != 0 ||
	    osip_message_set_content_length(m, "0") != 0)
		goto fail;
	if (osip_message_to_str(m, &s, &slen) != 0)
		goto fail;
	rc = evbuffer_add(out, s, slen);
fail:
	if (s != NULL)
		osip_free(s);
	if (uri != NULL)
		osip_uri_free(uri);
	osip_message_free(m);
	return rc;
}

/* A real SIP server's answer: 5xx/6xx is a protocol error, the rest a foreign peer. */
static enum lm_outcome
sip_foreign(const struct probe_answer *a, char *why, size_t whylen)
{
	const char *srv = a->server[0] ? a->server : "no Server header";

	if (a->status >= 500) {
		snprintf(why, whylen, "SIP %d from a non-mock server (%s)", a->status, srv);
		return LM_OUT_PROTOCOL_ERROR;
	}
	snprintf(why, whylen, "reached a non-mock peer (SIP %d, %s)", a->status, srv);
	return LM_OUT_FOREIGN_PEER;
}

const struct probe_proto probe_proto_sip = {
    .service = LM_SVC_SIP_MTLS,
    .label = "SIP",
    .sent = "our SIP OPTIONS",
    .token_echo = true,
    .foreign = sip_foreign,
    .request = sip_request,
    .parse = probe_sip_parse,
};

/*
 * One answer: framed by sip_frame() (keep-alive CRLFs skipped, a message
 * capped at PROBE_MAX_ANSWER), then parsed by libosip2.
 */
static enum probe_parse sip_parse_one(const char *buf, size_t len, bool eof, struct probe_answer *a,
                                      size_t *used);

enum probe_parse
probe_sip_parse(const char *buf, size_t len, bool eof, struct probe_answer *a)
{
	/* provisional 1xx answers precede the final one */
	for (unsigned n = 0; n < 8; n++) {
		size_t used = 0;
		enum probe_parse r = sip_parse_one(buf, len, eof, a, &used);

		if (r != PROBE_PARSE_DONE || a->status >= 200)
			return r;
		probe_answer_clear(a);
		buf += used;
		len -= used;
	}
	return probe_answer_fail(a, "too many provisional SIP answers");
}

static enum probe_parse
sip_parse_one(const char *buf, size_t len, bool eof, struct probe_answer *a, size_t *used)
{
	const char *start = buf;
	osip_message_t *m = NULL;
	osip_header_t *h = NULL;
	struct sip_frame f;
	size_t hlen, blen;
	enum probe_parse r;

	while (sip_frame(buf, len, PROBE_MAX_ANSWER, &f) == SIP_FRAME_KEEPALIVE ||
	       f.kind == SIP_FRAME_SKIP) {
		buf += f.len;
		len -= f.len;
	}
	if (f.head_len == 0) {
		if (len >= 4 && memcmp(buf, "SIP/", 4) != 0)
			return probe_answer_fail(a, "the answer is not SIP");
		if (f.kind == SIP_FRAME_TOO_LARGE)
			return probe_answer_fail(a, "SIP headers too long");
		return eof ? probe_answer_fail(
		                 a, "connection closed before the SIP headers were complete")
		           : PROBE_PARSE_MORE;
	}
	if (f.kind == SIP_FRAME_BAD)
		return probe_answer_fail(a, "malformed SIP Content-Length");
	if (f.kind == SIP_FRAME_TOO_LARGE)
		return probe_answer_fail(a, "SIP answer larger than the limit");
	if (f.kind == SIP_FRAME_NEED_MORE)
		return eof ? probe_answer_fail(a, "connection closed inside the SIP body")
		           : PROBE_PARSE_MORE;
	hlen = f.head_len;
	blen = f.body_len;
	if (osip_message_init(&m) != 0)
		return probe_answer_fail(a, "out of memory");
	if (osip_message_parse(m, buf, hlen + blen) != 0) {
		r = probe_answer_fail(a, "the answer is not a parsable SIP message");
		goto out;
	}
	if (!MSG_IS_RESPONSE(m)) {
		r = probe_answer_fail(a, "the peer sent a SIP request, not a response");
		goto out;
	}
	a->status = osip_message_get_status_code(m);
	if (a->status < 100 || a->status > 699) {
		r = probe_answer_fail(a, "malformed SIP status code");
		goto out;
	}
	if (osip_message_header_get_byname(m, SIP_TOKEN_HEADER, 0, &h) >= 0 && h != NULL) {
		a->token_header = true;
		if (h->hvalue != NULL && (a->token_value = strdup(h->hvalue)) == NULL) {
			r = probe_answer_fail(a, "out of memory");
			goto out;
		}
	}
	/* a foreign peer names itself in Server (or User-Agent) */
	h = NULL;
	if ((osip_message_header_get_byname(m, "server", 0, &h) >= 0 && h != NULL &&
	     h->hvalue != NULL) ||
	    (osip_message_header_get_byname(m, "user-agent", 0, &h) >= 0 && h != NULL &&
	     h->hvalue != NULL)) {
		size_t i = 0;
		for (; h->hvalue[i] != '\0' && i + 1 < sizeof a->server; i++)
			a->server[i] =
			    (h->hvalue[i] >= 0x20 && h->hvalue[i] < 0x7f) ? h->hvalue[i] : '?';
		a->server[i] = '\0';
	}
	if ((a->body = malloc(blen + 1)) == NULL) {
		r = probe_answer_fail(a, "out of memory");
		goto out;
	}
	memcpy(a->body, buf + hlen, blen);
	a->body[blen] = '\0';
	a->body_len = blen;
	*used = (size_t)(buf - start) + hlen + blen;
	r = PROBE_PARSE_DONE;
out:
	osip_message_free(m);
	return r;
}
