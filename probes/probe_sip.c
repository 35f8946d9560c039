/* The sip-mtls probe: SIP OPTIONS over MTLS built and parsed with libosip2. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "probes/probe_int.h"

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
	    osip_message_set_header(m, "X-Lyncmock-Token", p->token) != 0 ||
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

const struct probe_proto probe_proto_sip = {
    .service = LM_SVC_SIP_MTLS,
    .request = sip_request,
    .parse = probe_sip_parse,
};

static enum probe_parse
fail(struct probe_answer *a, const char *why)
{
	snprintf(a->why, sizeof a->why, "%s", why);
	return PROBE_PARSE_ERROR;
}

/*
 * Stream framing is ours (libosip2 parses one message): skip keep-alive
 * CRLFs, take the headers up to CRLFCRLF, let libosip2 parse them for
 * Content-Length, then wait for that many body bytes.
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
	return fail(a, "too many provisional SIP answers");
}

/* Framing only: the Content-Length (or compact "l") value of the head, or
 * 0 when absent; -1 when malformed or ambiguous. libosip2 parses the rest. */
static long
head_content_length(const char *head, size_t hlen)
{
	const char *p = memchr(head, '\n', hlen), *end = head + hlen;
	long found = -2;

	for (p = p ? p + 1 : end; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *colon, *ne, *v, *ve;
		size_t nlen;

		if (eol == NULL)
			eol = end;
		ve = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
		colon = memchr(p, ':', (size_t)(ve - p));
		if (colon != NULL && *p != ' ' && *p != '\t') {
			for (ne = colon; ne > p && (ne[-1] == ' ' || ne[-1] == '\t'); ne--)
				;
			nlen = (size_t)(ne - p);
			if ((nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) ||
			    (nlen == 1 && (*p == 'l' || *p == 'L'))) {
				long v_ = 0;
				int digits = 0;
				for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
					;
				for (; v < ve && *v >= '0' && *v <= '9' && digits < 9;
				     v++, digits++)
					v_ = v_ * 10 + (*v - '0');
				while (v < ve && (*v == ' ' || *v == '\t'))
					v++;
				if (digits == 0 || v != ve || (found >= 0 && found != v_))
					return -1;
				found = v_;
			}
		}
		p = eol + 1;
	}
	return found == -2 ? 0 : found;
}

static enum probe_parse
sip_parse_one(const char *buf, size_t len, bool eof, struct probe_answer *a, size_t *used)
{
	const char *start = buf;
	osip_message_t *m = NULL;
	osip_header_t *h = NULL;
	size_t hlen = 0, blen = 0;
	long cl;
	enum probe_parse r;

	while (len >= 2 && buf[0] == '\r' && buf[1] == '\n') {
		buf += 2;
		len -= 2;
	}
	for (size_t i = 0; i + 3 < len; i++) {
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			hlen = i + 4;
			break;
		}
	}
	if (hlen == 0) {
		if (len >= 4 && memcmp(buf, "SIP/", 4) != 0)
			return fail(a, "the answer is not SIP");
		if (len > PROBE_MAX_ANSWER)
			return fail(a, "SIP headers too long");
		return eof ? fail(a, "connection closed before the SIP headers were complete")
		           : PROBE_PARSE_MORE;
	}
	if ((cl = head_content_length(buf, hlen)) < 0 || cl > PROBE_MAX_ANSWER)
		return fail(a, "malformed SIP Content-Length");
	blen = (size_t)cl;
	if (len - hlen < blen)
		return eof ? fail(a, "connection closed inside the SIP body") : PROBE_PARSE_MORE;
	if (osip_message_init(&m) != 0)
		return fail(a, "out of memory");
	if (osip_message_parse(m, buf, hlen + blen) != 0) {
		r = fail(a, "the answer is not a parsable SIP message");
		goto out;
	}
	if (!MSG_IS_RESPONSE(m)) {
		r = fail(a, "the peer sent a SIP request, not a response");
		goto out;
	}
	a->status = osip_message_get_status_code(m);
	if (a->status < 100 || a->status > 699) {
		r = fail(a, "malformed SIP status code");
		goto out;
	}
	if (osip_message_header_get_byname(m, "x-lyncmock-token", 0, &h) >= 0 && h != NULL) {
		a->token_header = true;
		if (h->hvalue != NULL && (a->token_value = strdup(h->hvalue)) == NULL) {
			r = fail(a, "out of memory");
			goto out;
		}
	}
	if ((a->body = malloc(blen + 1)) == NULL) {
		r = fail(a, "out of memory");
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
