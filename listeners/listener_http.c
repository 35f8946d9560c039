/*
 * http and https: the answer to one request (identity JSON on the probe
 * path, a small page elsewhere). Framing, TLS, caps, timeouts and the log
 * line are the one stream path's (http_stream.c, listener.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <http_parser.h>

#include "listeners/listener_priv.h"

#define PROBE_PATH "/lyncmock/probe"
#define MAX_TOKEN 256

void
http_answer_clear(struct http_answer *ans)
{
	if (ans->body != ans->small)
		free(ans->body);
	/* small need not be wiped: a 2 KiB memset per request shows in profiles */
	memset(ans, 0, offsetof(struct http_answer, small));
}

static int
answer_text(struct http_answer *ans, int code, const char *reason, const char *ctype,
            const char *text)
{
	ans->code = code;
	ans->reason = reason;
	ans->content_type = ctype;
	if ((ans->body = strdup(text)) == NULL)
		return -1;
	ans->len = strlen(text);
	return 0;
}

/* The small page for other paths: it reflects nothing from the request. */
static int
answer_page(const struct wire_ident *id, struct http_answer *ans)
{
	char *host = evhttp_htmlescape(id->host != NULL ? id->host : "?");
	char *role = evhttp_htmlescape(id->role != NULL ? id->role : "?");
	char *lis = evhttp_htmlescape(id->listener != NULL ? id->listener : "?");
	int n = -1;

	if (host != NULL && role != NULL && lis != NULL) {
		n = asprintf(
		    &ans->body,
		    "<!DOCTYPE html>\n<html><head><title>lyncmock %s</title></head>\n"
		    "<body><h1>lyncmock</h1><p>Host <b>%s</b>, role <b>%s</b>, listener %s "
		    "on port %u.</p></body></html>\n",
		    host, host, role, lis, id->port);
	}
	free(host);
	free(role);
	free(lis);
	if (n < 0) {
		ans->body = NULL;
		return -1;
	}
	ans->len = (size_t)n;
	ans->code = 200;
	ans->reason = "OK";
	ans->content_type = "text/html; charset=utf-8";
	return 0;
}

/* Sets key in o to value, joining repeated headers with ", " as a proxy would. */
static int
json_merge_header(json_t *o, const char *key, const char *value)
{
	json_t *k = wire_text(key), *old;
	char *joined;
	int rc;

	/* the header name is a peer's bytes too: valid UTF-8 for the key */
	if (k == NULL)
		return -1;
	key = json_string_value(k);
	old = json_object_get(o, key);
	if (old == NULL || !json_is_string(old)) {
		rc = json_object_set_new(o, key, wire_text(value));
	} else if (asprintf(&joined, "%s, %s", json_string_value(old), value) < 0) {
		rc = -1;
	} else {
		rc = json_object_set_new(o, key, wire_text(joined));
		free(joined);
	}
	json_decref(k);
	return rc;
}

static bool
is_proxy_header(const char *key)
{
	/* what a proxy adds (X-Forwarded-*, RFC 7239 Forwarded, Via): the
	 * probe reports `proxied` when it finds any; the first letter first,
	 * as most headers are none of them */
	switch (key[0]) {
	case 'X':
	case 'x':
		return strncasecmp(key, "X-Forwarded-", 12) == 0;
	case 'F':
	case 'f':
		return strcasecmp(key, "Forwarded") == 0;
	case 'V':
	case 'v':
		return strcasecmp(key, "Via") == 0;
	default:
		return false;
	}
}

/* The request a probe answer repeats. */
struct http_request {
	const char *method, *uri;
	int major, minor;
	const struct http_header *headers;
	size_t nheaders;
	struct wire_memo *memo; /* the identity's (NULL: none) */
};

/* "METHOD URI HTTP/x.y" into buf when it fits in cap (returns buf), else
 * malloc'd; NULL on allocation failure. Joined, not printed: snprintf was
 * a tenth of an answer's instructions. */
static char *
request_line(const struct http_request *rq, char *buf, size_t cap)
{
	size_t m = strlen(rq->method), u = strlen(rq->uri), n = m + 1 + u + 9;
	char *p;

	/* http-parser's versions are single digits ("HTTP/10.0" it refuses) */
	if (rq->major < 0 || rq->major > 9 || rq->minor < 0 || rq->minor > 9 ||
	    (p = n < cap ? buf : malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, rq->method, m);
	p[m] = ' ';
	memcpy(p + m + 1, rq->uri, u);
	memcpy(p + m + 1 + u, " HTTP/x.y", 10);
	p[n - 3] = (char)('0' + rq->major);
	p[n - 1] = (char)('0' + rq->minor);
	return p;
}

/* The request as received, a peer's bytes made valid JSON text:
 * "request":{"line":…,"host":…,"forwarded":{…}} into w (a
 * wire_json_members). Most requests carry no proxy header: only then is an
 * object built. */
static void
request_text(struct wire_json *w, const void *arg)
{
	static const char k_line[] = "\"" WIRE_F_REQUEST "\":{\"" WIRE_F_REQ_LINE "\":";
	static const char k_host[] = ",\"" WIRE_F_REQ_HOST "\":";
	static const char k_fwd[] = ",\"" WIRE_F_REQ_FORWARDED "\":";
	const struct http_request *rq = arg;
	struct wire_memo *memo = rq->memo;
	char small[512], *line;
	const char *host = NULL;
	json_t *fwd = NULL;
	size_t i;

	if ((line = request_line(rq, small, sizeof small)) == NULL) {
		w->failed = true;
		return;
	}
	for (i = 0; i < rq->nheaders; i++) {
		const struct http_header *h = &rq->headers[i];
		if (host == NULL && (h->key[0] == 'H' || h->key[0] == 'h') &&
		    strcasecmp(h->key, "Host") == 0)
			host = h->value;
		else if (is_proxy_header(h->key) &&
		         ((fwd == NULL && (fwd = json_object()) == NULL) ||
		          json_merge_header(fwd, h->key, h->value) == -1))
			w->failed = true;
	}
	wire_json_raw(w, k_line, sizeof k_line - 1);
	wire_json_str_memo(w, line, memo != NULL ? &memo[WIRE_MEMO_REQ_LINE] : NULL);
	wire_json_raw(w, k_host, sizeof k_host - 1);
	wire_json_str_memo(w, host, memo != NULL ? &memo[WIRE_MEMO_REQ_HOST] : NULL);
	wire_json_raw(w, k_fwd, sizeof k_fwd - 1);
	if (fwd != NULL)
		wire_json_value(w, fwd);
	else
		wire_json_raw(w, "{}", 2);
	wire_json_raw(w, "}", 1);
	json_decref(fwd);
	if (line != small)
		free(line);
}

/* The probe answer's JSON, written once into ans (its small buffer when it fits). */
static int
answer_probe(const struct http_request *rq, const struct wire_ident *id, const char *token,
             struct http_answer *ans)
{
	if ((ans->body = wire_ident_dump(id, token, request_text, rq, ans->small, sizeof ans->small,
	                                 &ans->len)) == NULL)
		return -1;
	ans->probe = true;
	ans->code = 200;
	ans->reason = "OK";
	ans->content_type = "application/json";
	return 0;
}

/* A span of uri as a NUL-terminated string: into buf when it fits, else
 * malloc'd (free it when it is not buf); NULL on allocation failure. */
static char *
uri_part(const char *uri, const struct http_parser_url *u, int field, char *buf, size_t cap)
{
	size_t off = u->field_data[field].off, n = u->field_data[field].len;
	char *p = n < cap ? buf : malloc(n + 1);

	if (p != NULL) {
		memcpy(p, uri + off, n);
		p[n] = '\0';
	}
	return p;
}

int
http_answer_build(const char *method, const char *uri, int major, int minor,
                  const struct http_header *headers, size_t nheaders, const struct wire_ident *id,
                  struct http_answer *ans)
{
	struct http_parser_url u;
	struct evkeyvalq params;
	const char *token = NULL;
	char pbuf[64], qbuf[512], *path = NULL, *query = NULL, *decoded = NULL;
	int rc = -1;

	memset(ans, 0, offsetof(struct http_answer, small));
	TAILQ_INIT(&params);
	/* http-parser's own URL parser (no allocation): origin or absolute form */
	http_parser_url_init(&u);
	if (http_parser_parse_url(uri, strlen(uri), 0, &u) != 0)
		return answer_text(ans, 400, "Bad Request", "text/plain", "bad request URI\n");
	if (!(u.field_set & (1 << UF_PATH))) /* "http://host": no path, not the probe's */
		return answer_page(id, ans);
	if ((path = uri_part(uri, &u, UF_PATH, pbuf, sizeof pbuf)) == NULL)
		goto out;
	/* a path with escapes is decoded to be compared */
	if (strchr(path, '%') != NULL && (decoded = evhttp_uridecode(path, 0, NULL)) == NULL)
		goto out;
	if (strcmp(decoded != NULL ? decoded : path, PROBE_PATH) != 0) {
		rc = answer_page(id, ans);
		goto out;
	}
	if ((u.field_set & (1 << UF_QUERY)) &&
	    ((query = uri_part(uri, &u, UF_QUERY, qbuf, sizeof qbuf)) == NULL))
		goto out;
	if (query != NULL && evhttp_parse_query_str(query, &params) == 0)
		token = evhttp_find_header(&params, "token");
	if (token != NULL && strlen(token) > MAX_TOKEN) {
		rc = answer_text(ans, 400, "Bad Request", "text/plain", "token too long\n");
		goto out;
	}
	rc = answer_probe(
	    &(struct http_request){method, uri, major, minor, headers, nheaders, id->memo}, id,
	    token, ans);
out:
	evhttp_clear_headers(&params);
	free(decoded);
	if (path != pbuf)
		free(path);
	if (query != qbuf)
		free(query);
	return rc;
}

static size_t
http_conn_process(struct lm_conn *c, const char *buf, size_t len, const struct wire_ident *id,
                  struct evbuffer *out, bool *close, char *why, size_t whylen)
{
	size_t used = http_stream_process(buf, len, c->l->set->lim.max_message, id, out, &c->http,
	                                  close, why, whylen);
	c->requests = c->http.requests;
	return used;
}

/* Said to a client over --max-conns before closing, so a probe tells a full
 * listener from a firewall that drops. */
static const char http_full[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                "Content-Type: text/plain\r\n"
                                "Content-Length: 23\r\n"
                                "Retry-After: 1\r\n"
                                "Connection: close\r\n\r\n"
                                "lyncmock listener full\n";

const struct listener_kind listener_kind_http = {
    .name = "http",
    .read_limit = 0, /* max_message */
    .on_connected = NULL,
    .process = http_conn_process,
    .full_answer = http_full,
};
