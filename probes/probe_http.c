/* The http and https probe: GET /lyncmock/probe?token=T, answer parsed here. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "probes/probe_int.h"

static int
http_request(struct probe *p, struct evbuffer *out)
{
	return evbuffer_add_printf(out,
	                           "GET /lyncmock/probe?token=%s HTTP/1.1\r\n"
	                           "Host: %s\r\n"
	                           "User-Agent: lyncmock/" LM_VERSION "\r\n"
	                           "Accept: application/json\r\n"
	                           "Connection: close\r\n"
	                           "\r\n",
	                           p->token, p->http_host) < 0
	           ? -1
	           : 0;
}

/*
 * A real web server's answer (SPEC §3 foreign-peer): a refusal for want of a
 * client certificate is tls-client-rejected (nginx answers 400 with its own
 * sentence, IIS 403.7), a 5xx a protocol error; anything else a foreign peer.
 */
static enum lm_outcome
http_foreign(const struct probe_answer *a, char *why, size_t whylen)
{
	const char *body = a->body != NULL ? a->body : "";
	const char *srv = a->server[0] ? a->server : "no Server header";

	if ((a->status == 400 && (strstr(body, "No required SSL certificate was sent") != NULL ||
	                          strstr(body, "The SSL certificate error") != NULL)) ||
	    (a->status == 403 && strstr(body, "403.7") != NULL) || a->status == 495 ||
	    a->status == 496) {
		snprintf(why, whylen,
		         "HTTP %d from a non-mock server (%s): it wants a client certificate it "
		         "accepts",
		         a->status, srv);
		return LM_OUT_TLS_CLIENT_REJECTED;
	}
	if (a->status >= 500) {
		snprintf(why, whylen, "HTTP %d from a non-mock server (%s)", a->status, srv);
		return LM_OUT_PROTOCOL_ERROR;
	}
	snprintf(why, whylen, "reached a non-mock peer (HTTP %d, %s)", a->status, srv);
	return LM_OUT_FOREIGN_PEER;
}

const struct probe_proto probe_proto_http = {
    .service = LM_SVC_HTTP,
    .label = "HTTP",
    .sent = "our HTTP request",
    .token_echo = true,
    .foreign = http_foreign,
    .request = http_request,
    .parse = probe_http_parse,
};

/* What one pass of http-parser over the accumulated answer collected. */
struct http_scan {
	struct probe_answer *a;
	char *body; /* the final answer's body so far, NUL-terminated */
	size_t body_len;
	unsigned interim;  /* 1xx answers skipped */
	bool headers_done; /* the final answer's headers are complete */
	bool chunked;
	bool done;       /* the final answer is complete */
	bool failed;     /* a callback set a->why */
	bool in_server;  /* the header being read is Server */
	bool field_done; /* its name is complete (a value follows) */
	char field[16];  /* the current header name, as far as it fits */
	size_t field_len;
};

/* Up to this many 1xx answers may precede the real one. */
#define HTTP_MAX_INTERIM 8

static int
scan_fail(http_parser *hp, const char *why)
{
	struct http_scan *sc = hp->data;

	snprintf(sc->a->why, sizeof sc->a->why, "%s", why);
	sc->failed = true;
	return -1;
}

static int
on_message_begin(http_parser *hp)
{
	struct http_scan *sc = hp->data;

	/* a new answer after a 1xx one: start its body afresh */
	free(sc->body);
	sc->body = NULL;
	sc->body_len = 0;
	sc->headers_done = false;
	sc->field_done = false;
	sc->field_len = 0;
	sc->a->server[0] = '\0';
	return 0;
}

/* Header names arrive in pieces: collect the start of each, enough to know "Server". */
static int
on_header_field(http_parser *hp, const char *at, size_t n)
{
	struct http_scan *sc = hp->data;

	if (sc->field_done) {
		sc->field_len = 0;
		sc->field_done = false;
	}
	for (size_t i = 0; i < n && sc->field_len + 1 < sizeof sc->field; i++)
		sc->field[sc->field_len++] = at[i];
	sc->field[sc->field_len] = '\0';
	sc->in_server = false;
	return 0;
}

/* The Server header names a foreign peer in the report ("nginx/1.22.1"). */
static int
on_header_value(http_parser *hp, const char *at, size_t n)
{
	struct http_scan *sc = hp->data;
	size_t have;

	if (!sc->field_done) {
		sc->field_done = true;
		sc->in_server = strcasecmp(sc->field, "Server") == 0;
		if (sc->in_server)
			sc->a->server[0] = '\0';
	}
	if (!sc->in_server)
		return 0;
	have = strlen(sc->a->server);
	for (size_t i = 0; i < n && have + 1 < sizeof sc->a->server; i++)
		sc->a->server[have++] = (at[i] >= 0x20 && at[i] < 0x7f) ? at[i] : '?';
	sc->a->server[have] = '\0';
	return 0;
}

static int
on_headers_complete(http_parser *hp)
{
	struct http_scan *sc = hp->data;

	if (hp->http_major != 1)
		return scan_fail(hp, "malformed HTTP status line");
	if (hp->status_code < 100)
		return scan_fail(hp, "malformed HTTP status code");
	sc->headers_done = true;
	sc->chunked = (hp->flags & F_CHUNKED) != 0;
	/* ULLONG_MAX is "no Content-Length" */
	if (hp->content_length != ULLONG_MAX && hp->content_length > PROBE_MAX_ANSWER)
		return scan_fail(hp, "HTTP body too large");
	/* 1xx, 204 and 304 answers carry no body, whatever their headers say */
	if (hp->status_code / 100 == 1 || hp->status_code == 204 || hp->status_code == 304)
		return 1;
	return 0;
}

static int
on_body(http_parser *hp, const char *at, size_t n)
{
	struct http_scan *sc = hp->data;
	char *nb;

	if (sc->body_len + n > PROBE_MAX_ANSWER)
		return scan_fail(hp, "HTTP body too large");
	if ((nb = realloc(sc->body, sc->body_len + n + 1)) == NULL)
		return scan_fail(hp, "out of memory");
	memcpy(nb + sc->body_len, at, n);
	sc->body = nb;
	sc->body_len += n;
	nb[sc->body_len] = '\0';
	return 0;
}

static int
on_message_complete(http_parser *hp)
{
	struct http_scan *sc = hp->data;

	/* interim answers (100 Continue) precede the real one; 101 is final */
	if (hp->status_code / 100 == 1 && hp->status_code != 101) {
		if (++sc->interim >= HTTP_MAX_INTERIM)
			return scan_fail(hp, "too many interim HTTP answers");
		return 0;
	}
	sc->a->status = hp->status_code;
	sc->done = true;
	/* stop here: bytes after the answer are not ours to judge */
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings http_scan_settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Turns an http-parser error into a sentence for the report. */
static const char *
scan_error(const struct http_scan *sc, enum http_errno e)
{
	switch (e) {
	case HPE_INVALID_CONSTANT:
		return "the answer is not HTTP";
	case HPE_INVALID_VERSION:
	case HPE_INVALID_STATUS:
		return "malformed HTTP status line";
	case HPE_INVALID_HEADER_TOKEN:
	case HPE_LF_EXPECTED:
	case HPE_STRICT:
		return "malformed HTTP header line";
	case HPE_INVALID_CONTENT_LENGTH:
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return "malformed Content-Length";
	case HPE_INVALID_TRANSFER_ENCODING:
		return "malformed Transfer-Encoding";
	case HPE_INVALID_CHUNK_SIZE:
		return "malformed chunked body";
	case HPE_HEADER_OVERFLOW:
		return "HTTP headers too long";
	case HPE_INVALID_EOF_STATE:
		if (!sc->headers_done)
			return "connection closed before the HTTP headers were complete";
		return sc->chunked ? "connection closed inside a chunked body"
		                   : "connection closed inside the HTTP body";
	default:
		return NULL;
	}
}

/*
 * The probe hands over everything read so far on each call, so every call
 * runs a fresh parser over the whole buffer; at EOF a final zero-length
 * pass tells http-parser the peer closed (ending a read-until-close body).
 */
enum probe_parse
probe_http_parse(const char *buf, size_t len, bool eof, struct probe_answer *a)
{
	struct http_scan sc = {.a = a};
	http_parser hp;
	enum http_errno e;
	const char *why;
	size_t n;

	/* http-parser is lax about the "HTTP/" constant: check it ourselves */
	if (len > 0 && memcmp(buf, "HTTP/", len < 5 ? len : 5) != 0)
		return probe_answer_fail(a, "the answer is not HTTP");
	http_parser_set_max_header_size(PROBE_MAX_ANSWER);
	http_parser_init(&hp, HTTP_RESPONSE);
	hp.data = &sc;
	n = http_parser_execute(&hp, &http_scan_settings, buf, len);
	e = HTTP_PARSER_ERRNO(&hp);
	if (e == HPE_OK && n == len && !sc.done && eof)
		http_parser_execute(&hp, &http_scan_settings, buf, 0);
	e = HTTP_PARSER_ERRNO(&hp);
	if (sc.done) {
		a->body = sc.body != NULL ? sc.body : strdup("");
		a->body_len = sc.body_len;
		return a->body != NULL ? PROBE_PARSE_DONE : probe_answer_fail(a, "out of memory");
	}
	free(sc.body);
	if (sc.failed)
		return PROBE_PARSE_ERROR;
	if (e != HPE_OK) {
		if ((why = scan_error(&sc, e)) != NULL)
			return probe_answer_fail(a, why);
		snprintf(a->why, sizeof a->why, "malformed HTTP answer: %s",
		         http_errno_description(e));
		return PROBE_PARSE_ERROR;
	}
	if (eof) {
		/* a clean end between answers: after a 1xx, or nothing at all */
		return probe_answer_fail(a,
		                         "connection closed before the HTTP headers were complete");
	}
	if (len > PROBE_MAX_ANSWER)
		return probe_answer_fail(a, "HTTP answer too large");
	return PROBE_PARSE_MORE;
}

void
probe_answer_clear(struct probe_answer *a)
{
	free(a->body);
	free(a->token_value);
	memset(a, 0, sizeof *a);
}

enum probe_parse
probe_answer_fail(struct probe_answer *a, const char *why)
{
	snprintf(a->why, sizeof a->why, "%s", why);
	return PROBE_PARSE_ERROR;
}
