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

static json_t *
request_json(const char *method, const char *uri, int major, int minor,
             const struct evkeyvalq *headers)
{
	json_t *r = NULL, *fwd = NULL;
	const struct evkeyval *h;
	const char *host = NULL;
	char *line = NULL;

	if (asprintf(&line, "%s %s HTTP/%d.%d", method, uri, major, minor) < 0) {
		line = NULL;
		goto fail;
	}
	if ((fwd = json_object()) == NULL)
		goto fail;
	TAILQ_FOREACH(h, headers, next)
	{
		if (strcasecmp(h->key, "Host") == 0 && host == NULL)
			host = h->value;
		/* what a proxy adds (X-Forwarded-*, RFC 7239 Forwarded, Via): the
		 * probe reports `proxied` when it finds any */
		else if ((strncasecmp(h->key, "X-Forwarded-", 12) == 0 ||
		          strcasecmp(h->key, "Forwarded") == 0 || strcasecmp(h->key, "Via") == 0) &&
		         json_merge_header(fwd, h->key, h->value) == -1)
			goto fail;
	}
	/* the request as received: a peer's bytes, made valid JSON text */
	r = json_pack("{s:o, s:o, s:o}", WIRE_F_REQ_LINE, wire_text(line), WIRE_F_REQ_HOST,
	              wire_text(host), WIRE_F_REQ_FORWARDED, fwd);
	fwd = NULL; /* stolen by json_pack, also on failure */
fail:
	json_decref(fwd);
	free(line);
	return r;
}

int
http_answer_build(const char *method, const char *uri, int major, int minor,
                  const struct evkeyvalq *headers, const struct wire_ident *id,
                  struct http_answer *ans)
{
	struct evhttp_uri *u = NULL;
	struct evkeyvalq params;
	const char *path, *query, *token = NULL;
	char *decoded = NULL, *body = NULL;
	json_t *o = NULL, *req;
	int rc = -1;

	memset(ans, 0, offsetof(struct http_answer, small));
	TAILQ_INIT(&params);
	u = evhttp_uri_parse_with_flags(uri, EVHTTP_URI_NONCONFORMANT);
	if (u == NULL || (path = evhttp_uri_get_path(u)) == NULL)
		return answer_text(ans, 400, "Bad Request", "text/plain", "bad request URI\n");
	decoded = evhttp_uridecode(path, 0, NULL);
	if (decoded == NULL || strcmp(decoded, PROBE_PATH) != 0) {
		rc = answer_page(id, ans);
		goto out;
	}
	query = evhttp_uri_get_query(u);
	if (query != NULL && evhttp_parse_query_str(query, &params) == 0)
		token = evhttp_find_header(&params, "token");
	if (token != NULL && strlen(token) > MAX_TOKEN) {
		rc = answer_text(ans, 400, "Bad Request", "text/plain", "token too long\n");
		goto out;
	}
	ans->probe = true;
	if ((req = request_json(method, uri, major, minor, headers)) == NULL)
		goto out;
	if ((o = json_object()) == NULL) {
		json_decref(req);
		goto out;
	}
	if (json_object_set_new(o, WIRE_F_REQUEST, req) == -1) /* stolen, also on failure */
		goto out;
	/* into the answer itself when it fits, else allocated */
	if ((body = wire_ident_dump(id, token, o, ans->small, sizeof ans->small, &ans->len)) ==
	    NULL)
		goto out;
	ans->code = 200;
	ans->reason = "OK";
	ans->content_type = "application/json";
	ans->body = body;
	rc = 0;
out:
	json_decref(o);
	evhttp_clear_headers(&params);
	free(decoded);
	if (u != NULL)
		evhttp_uri_free(u);
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
