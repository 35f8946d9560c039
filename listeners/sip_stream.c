/*
 * The listener's side of SIP over a byte stream: each message framed by
 * sip_frame() (sip/sip.h), answered with libosip2. One code path for the
 * listener and the fuzzer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>
#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include "listeners/listener_priv.h"

#define SIP_MAX_TOKEN 256

/* A fresh To tag: 16 hex digits. */
static char *
new_tag(void)
{
	unsigned char r[8];
	char *t;

	if (RAND_bytes(r, sizeof r) != 1)
		return NULL;
	if ((t = osip_malloc(17)) == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(t + 2 * i, 3, "%02x", r[i]);
	return t;
}

/* The top Via of a response: received= when the sent-by host is not the
 * source address (RFC 3261 §18.2.1) or rport is asked for, and the source
 * port as the value of an empty rport (RFC 3581 §4). */
static int
via_stamp(osip_message_t *r, const struct sip_source *src)
{
	osip_via_t *v = osip_list_get(&r->vias, 0);
	osip_generic_param_t *rport = NULL, *rec = NULL;
	char port[8], *ip;

	if (v == NULL || src == NULL || src->ip[0] == '\0')
		return 0;
	osip_via_param_get_byname(v, "rport", &rport);
	if (rport != NULL && rport->gvalue == NULL) {
		snprintf(port, sizeof port, "%u", src->port);
		if ((rport->gvalue = osip_strdup(port)) == NULL)
			return -1;
	}
	if (rport == NULL && v->host != NULL && strcasecmp(v->host, src->ip) == 0)
		return 0;
	if ((ip = osip_strdup(src->ip)) == NULL)
		return -1;
	osip_via_param_get_byname(v, "received", &rec);
	if (rec != NULL) { /* the client's own guess is replaced */
		osip_free(rec->gvalue);
		rec->gvalue = ip;
		return 0;
	}
	if (osip_via_set_received(v, ip) != 0) {
		osip_free(ip);
		return -1;
	}
	return 0;
}

/* A response to req (which may lack any header) with status code; the
 * dialog-forming headers are cloned as RFC 3261 §8.2.6.2 asks. */
static osip_message_t *
response_new(const osip_message_t *req, int code, const struct sip_source *src)
{
	osip_message_t *r = NULL;
	osip_generic_param_t *tag = NULL;
	const char *reason;
	char *t;

	if (osip_message_init(&r) != 0)
		return NULL;
	osip_message_set_version(r, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(r, code);
	reason = osip_message_get_reason(code);
	osip_message_set_reason_phrase(r, osip_strdup(reason != NULL ? reason : "Error"));
	if (r->sip_version == NULL || r->reason_phrase == NULL)
		goto fail;
	if (req == NULL)
		return r;
	if (osip_list_clone(&req->vias, &r->vias, (int (*)(void *, void **))osip_via_clone) != 0 ||
	    via_stamp(r, src) != 0)
		goto fail;
	if (req->from != NULL && osip_from_clone(req->from, &r->from) != 0)
		goto fail;
	if (req->to != NULL) {
		if (osip_to_clone(req->to, &r->to) != 0)
			goto fail;
		osip_to_get_tag(r->to, &tag);
		if (tag == NULL) {
			if ((t = new_tag()) == NULL || osip_to_set_tag(r->to, t) != 0) {
				osip_free(t);
				goto fail;
			}
		}
	}
	if (req->call_id != NULL && osip_call_id_clone(req->call_id, &r->call_id) != 0)
		goto fail;
	if (req->cseq != NULL && osip_cseq_clone(req->cseq, &r->cseq) != 0)
		goto fail;
	return r;
fail:
	osip_message_free(r);
	return NULL;
}

static int
response_str(osip_message_t *r, char **resp, size_t *resplen)
{
	int rc = osip_message_to_str(r, resp, resplen) == 0 ? 0 : -1;

	osip_message_free(r);
	if (rc == -1)
		*resp = NULL;
	return rc;
}

static void
salvage_header(const char *n, size_t nlen, const char *v, size_t vlen, void *arg)
{
	static const char *const wanted[][2] = {
	    {"via", "v"}, {"from", "f"}, {"to", "t"}, {"call-id", "i"}, {"cseq", NULL}};
	osip_message_t *m = arg;
	char *name, *value;

	for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
		if (!sip_header_is(n, nlen, wanted[i][0], wanted[i][1]))
			continue;
		name = osip_strdup(wanted[i][0]);
		value = osip_malloc(vlen + 1);
		if (name != NULL && value != NULL) {
			memcpy(value, v, vlen);
			value[vlen] = '\0';
			/* a header libosip2 refuses is simply left out */
			(void)osip_message_set_multiple_header(m, name, value);
		}
		osip_free(name);
		osip_free(value);
		return;
	}
}

int
sip_error_response(const char *head, size_t len, int code, const struct sip_source *src,
                   char **resp, size_t *resplen)
{
	osip_message_t *scratch = NULL, *r;

	*resp = NULL;
	if (osip_message_init(&scratch) != 0)
		return -1;
	sip_head_foreach(head, len, salvage_header, scratch);
	r = response_new(scratch, code, src);
	if (r == NULL) /* a salvaged header could not be cloned: bare status */
		r = response_new(NULL, code, src);
	osip_message_free(scratch);
	if (r == NULL)
		return -1;
	return response_str(r, resp, resplen);
}

/* Methods we know but do not serve: 405 (not 501). CANCEL is not here:
 * it gets 481, as no INVITE transaction is ever kept open (RFC 3261 §9.2). */
static bool
method_known(const char *m)
{
	static const char *const known[] = {
	    "INVITE", "BYE",   "REGISTER", "SUBSCRIBE", "NOTIFY",    "MESSAGE",  "INFO", "PRACK",
	    "UPDATE", "REFER", "PUBLISH",  "SERVICE",   "NEGOTIATE", "BENOTIFY", NULL};
	for (const char *const *k = known; *k != NULL; k++) {
		if (strcmp(*k, m) == 0)
			return true;
	}
	return false;
}

/* The probe token: printable, no spaces, bounded; NULL otherwise. */
static const char *
request_token(osip_message_t *req)
{
	osip_header_t *h = NULL;

	if (osip_message_header_get_byname(req, SIP_TOKEN_HEADER, 0, &h) < 0 || h == NULL ||
	    h->hvalue == NULL)
		return NULL;
	if (strlen(h->hvalue) > SIP_MAX_TOKEN)
		return NULL;
	for (const char *p = h->hvalue; *p != '\0'; p++) {
		if (!isgraph((unsigned char)*p))
			return NULL;
	}
	return h->hvalue;
}

static int
answer_options(osip_message_t *req, const struct sip_source *src, const struct wire_ident *id,
               char **resp, size_t *resplen)
{
	osip_message_t *r;
	const char *token = request_token(req);
	char small[2048], *body = NULL;
	size_t blen;
	int rc = -1;

	if ((r = response_new(req, 200, src)) == NULL)
		return -1;
	if ((body = wire_ident_dump(id, token, NULL, NULL, small, sizeof small, &blen)) == NULL)
		goto fail;
	/* libosip2 copies the body */
	if ((token != NULL && osip_message_set_header(r, SIP_TOKEN_HEADER, token) != 0) ||
	    osip_message_set_allow(r, "OPTIONS") != 0 ||
	    osip_message_set_content_type(r, "application/json") != 0 ||
	    osip_message_set_body(r, body, blen) != 0)
		goto fail;
	rc = response_str(r, resp, resplen) == 0 ? 200 : -1;
	r = NULL; /* response_str freed it */
fail:
	if (body != small)
		free(body);
	osip_message_free(r);
	return rc;
}

/* True when req has what RFC 3261 §8.1.1 makes mandatory. */
static bool
request_complete(const osip_message_t *req)
{
	return req->sip_method != NULL && osip_list_size(&req->vias) > 0 && req->from != NULL &&
	       req->to != NULL && req->call_id != NULL && req->cseq != NULL &&
	       req->cseq->method != NULL && req->cseq->number != NULL &&
	       strcmp(req->cseq->method, req->sip_method) == 0;
}

/* Copies every Require option tag of req (libosip2 splits the header at
 * its commas) into r's Unsupported: we support no extension at all. Returns
 * how many, or -1 on allocation failure. */
static int
unsupported_from(const osip_message_t *req, osip_message_t *r)
{
	osip_header_t *h = NULL;
	int pos = 0, n = 0;

	while ((pos = osip_message_header_get_byname(req, "require", pos, &h)) >= 0) {
		if (h->hvalue != NULL && h->hvalue[0] != '\0') {
			if (r != NULL && osip_message_set_header(r, "Unsupported", h->hvalue) != 0)
				return -1;
			n++;
		}
		pos++;
	}
	return n;
}

int
sip_handle_message(const char *msg, size_t len, bool has_length, const struct sip_source *src,
                   const struct wire_ident *id, char **resp, size_t *resplen)
{
	osip_message_t *req = NULL, *r;
	int code;

	*resp = NULL;
	*resplen = 0;
	if (osip_message_init(&req) != 0)
		return -1;
	if (osip_message_parse(req, msg, len) != 0) {
		osip_message_free(req);
		/* a broken response is still not ours to answer */
		if (len >= 8 && memcmp(msg, "SIP/2.0 ", 8) == 0)
			return SIP_HANDLED_RESPONSE;
		return sip_error_response(msg, len, 400, src, resp, resplen) == 0 ? 400 : -1;
	}
	if (MSG_IS_RESPONSE(req)) {
		osip_message_free(req);
		return SIP_HANDLED_RESPONSE;
	}
	/* the order of RFC 3261 §8.2: version, mandatory headers, method,
	 * then extensions; an ACK is never answered */
	if (req->sip_version == NULL || strcasecmp(req->sip_version, "SIP/2.0") != 0) {
		code = 505;
	} else if (!request_complete(req)) {
		code = 400;
	} else if (strcmp(req->sip_method, "ACK") == 0) {
		osip_message_free(req);
		return 0;
	} else if (!has_length) {
		code = 400; /* RFC 3261 §18.3: Content-Length is a must on a stream */
	} else if (strcmp(req->sip_method, "CANCEL") == 0) {
		code = 481;
	} else if (strcmp(req->sip_method, "OPTIONS") != 0) {
		code = method_known(req->sip_method) ? 405 : 501;
	} else if (unsupported_from(req, NULL) > 0) {
		code = 420;
	} else {
		code = answer_options(req, src, id, resp, resplen);
		osip_message_free(req);
		return code;
	}
	if ((r = response_new(req, code, src)) == NULL ||
	    ((code == 405 || code == 501) && osip_message_set_allow(r, "OPTIONS") != 0) ||
	    (code == 420 && unsupported_from(req, r) < 0)) {
		osip_message_free(r);
		osip_message_free(req);
		return -1;
	}
	osip_message_free(req);
	return response_str(r, resp, resplen) == 0 ? code : -1;
}

static void
add_response(struct evbuffer *out, char *resp, size_t len)
{
	if (resp != NULL) {
		evbuffer_add(out, resp, len);
		osip_free(resp);
	}
}

size_t
sip_stream_process(const char *buf, size_t len, size_t max_message, const struct sip_source *src,
                   const struct wire_ident *id, struct evbuffer *out, struct sip_stats *st,
                   bool *close, char *why, size_t whylen)
{
	size_t off = 0;
	struct sip_frame f;
	char *resp;
	size_t rlen;
	int code;

	*close = false;
	while (off < len) {
		switch (sip_frame(buf + off, len - off, max_message, &f)) {
		case SIP_FRAME_NEED_MORE:
			return off;
		case SIP_FRAME_KEEPALIVE:
			evbuffer_add(out, "\r\n", 2);
			st->keepalives++;
			off += f.len;
			break;
		case SIP_FRAME_SKIP:
			off += f.len;
			break;
		case SIP_FRAME_TOO_LARGE:
		case SIP_FRAME_BAD:
			/* answer from the head when there is one, then give up:
			 * the next message boundary is unknown */
			if (sip_error_response(buf + off, f.len,
			                       f.kind == SIP_FRAME_BAD ? 400 : 513, src, &resp,
			                       &rlen) == 0)
				add_response(out, resp, rlen);
			st->errors++;
			*close = true;
			snprintf(why, whylen, "protocol error: %s", f.why);
			return len;
		case SIP_FRAME_MESSAGE:
			code = sip_handle_message(buf + off, f.len, f.has_length, src, id, &resp,
			                          &rlen);
			if (code < 0) {
				*close = true;
				snprintf(why, whylen, "out of memory");
				return len;
			}
			if (code == SIP_HANDLED_RESPONSE)
				st->responses_ignored++;
			else
				st->requests++;
			if (code >= 400)
				st->errors++;
			add_response(out, resp, rlen);
			off += f.len;
			break;
		}
	}
	return off;
}
