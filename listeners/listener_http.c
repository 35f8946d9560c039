/*
 * http and https: evhttp serves the requests; this file answers them and
 * ties every evhttp connection to a struct lm_conn so caps, timeouts and the
 * log line work as for the other listeners.
 *
 * libevent 2.1 has no connection cap for evhttp and no hook when it accepts
 * a connection, only the bufferevent callback (evhttp_set_bevcb). So: the
 * bufferevent callback allocates the lm_conn (counted against the cap; at
 * the cap the evhttp listener is paused, so further clients wait in the
 * backlog) and holds a reference on the bufferevent; one loop turn later,
 * when evhttp has wired the bufferevent to its connection, the set-up step
 * reads the evhttp_connection back (bufferevent_getcb's argument), sets the
 * close callback (which ends in conn_free), checks the per-source cap and
 * arms the handshake deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>

#include "listeners/listener_priv.h"

#define PROBE_PATH "/lyncmock/probe"
#define MAX_TOKEN 256

void
http_answer_clear(struct http_answer *ans)
{
	free(ans->body);
	memset(ans, 0, sizeof *ans);
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
answer_page(const struct lm_ident *id, struct http_answer *ans)
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
	json_t *k = identity_text(key), *old;
	char *joined;
	int rc;

	/* the header name is a peer's bytes too: valid UTF-8 for the key */
	if (k == NULL)
		return -1;
	key = json_string_value(k);
	old = json_object_get(o, key);
	if (old == NULL || !json_is_string(old)) {
		rc = json_object_set_new(o, key, identity_text(value));
	} else if (asprintf(&joined, "%s, %s", json_string_value(old), value) < 0) {
		rc = -1;
	} else {
		rc = json_object_set_new(o, key, identity_text(joined));
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
	r = json_pack("{s:o, s:o, s:o}", "line", identity_text(line), "host", identity_text(host),
	              "forwarded", fwd);
	fwd = NULL; /* stolen by json_pack, also on failure */
fail:
	json_decref(fwd);
	free(line);
	return r;
}

int
http_answer_build(const char *method, const char *uri, int major, int minor,
                  const struct evkeyvalq *headers, const struct lm_ident *id,
                  struct http_answer *ans)
{
	struct evhttp_uri *u = NULL;
	struct evkeyvalq params;
	const char *path, *query, *token = NULL;
	char *decoded = NULL, *body = NULL;
	json_t *o = NULL, *req;
	int rc = -1;

	memset(ans, 0, sizeof *ans);
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
	if ((o = identity_json(id, token)) == NULL ||
	    (req = request_json(method, uri, major, minor, headers)) == NULL ||
	    json_object_set_new(o, "request", req) == -1)
		goto out;
	if ((body = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	ans->code = 200;
	ans->reason = "OK";
	ans->content_type = "application/json";
	ans->len = strlen(body);
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

static const char *
method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "?";
}

static int http_setup(struct lm_conn *c, bool in_request);

/* The record of evcon; *refused when the caps refuse it (answer 503). */
static struct lm_conn *
http_conn_of(struct listener *l, struct evhttp_connection *evcon, bool *refused)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	struct lm_conn *c;

	TAILQ_FOREACH(c, &l->conns, entry)
	{
		if (c->evcon == evcon)
			return c;
	}
	/* a request before the set-up step: do it now */
	TAILQ_FOREACH(c, &l->conns, entry)
	{
		if (c->bev == bev && !c->http_setup) {
			*refused = http_setup(c, true) == -1;
			return c;
		}
	}
	return NULL;
}

/* evhttp's timeout restarts at every byte read: a slowloris trickling a
 * request head holds the connection forever. So a whole request must
 * arrive within the idle timeout of the set-up or of the previous one. */
static void
http_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lm_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->evcon == NULL)
		return;
	conn_outcome(c, "timeout: no complete request within %u ms",
	             c->l->set->lim.idle_timeout_ms);
	evhttp_connection_free(c->evcon); /* its close callback frees c */
}

static void
http_arm_deadline(struct lm_conn *c)
{
	unsigned ms = c->l->set->lim.idle_timeout_ms;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	if (c->deadline == NULL &&
	    (c->deadline = evtimer_new(c->l->set->base, http_deadline_cb, c)) == NULL)
		return; /* out of memory: evhttp's own idle timeout still applies */
	evtimer_add(c->deadline, &tv);
}

static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct listener *l = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	bool refused = false;
	struct lm_conn *c = evcon != NULL ? http_conn_of(l, evcon, &refused) : NULL;
	struct http_answer ans;
	struct lm_ident id;
	struct evbuffer *out;

	if (c == NULL || refused) {
		/* evhttp closes the connection after this answer */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		evhttp_send_error(req, 503, "Service Unavailable");
		return;
	}
	if (c->ssl != NULL && !c->tls_done) {
		conn_tls_facts(c);
		c->state = CONN_ACTIVE;
		c->t_ready = lm_now_ms();
	}
	conn_ident(c, &id);
	if (http_answer_build(method_name(evhttp_request_get_command(req)),
	                      evhttp_request_get_uri(req), req->major, req->minor,
	                      evhttp_request_get_input_headers(req), &id, &ans) == -1 ||
	    (out = evbuffer_new()) == NULL) {
		http_answer_clear(&ans);
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	evbuffer_add(out, ans.body, ans.len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ans.content_type);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	/* browsers must not guess HTML in a JSON answer that echoes a peer's text */
	evhttp_add_header(evhttp_request_get_output_headers(req), "X-Content-Type-Options",
	                  "nosniff");
	c->requests++;
	c->bytes_out += ans.len;
	http_arm_deadline(c);
	evhttp_send_reply(req, ans.code, ans.reason, out);
	evbuffer_free(out);
	http_answer_clear(&ans);
}

static void
http_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct lm_conn *c = arg;

	(void)evcon;
	if (c->ssl != NULL && !c->tls_done) {
		if (SSL_is_init_finished(c->ssl))
			conn_tls_facts(c);
		else
			conn_tls_failure(c, "no handshake");
	}
	conn_free(c);
}

static void
http_handshake_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct lm_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->ssl == NULL || SSL_is_init_finished(c->ssl) || c->evcon == NULL)
		return;
	conn_outcome(c, "timeout: no TLS handshake within %u ms",
	             c->l->set->lim.handshake_timeout_ms);
	evhttp_connection_free(c->evcon); /* its close callback frees c */
}

/* One loop turn after the bufferevent callback (or at the first request,
 * if that comes first): evhttp has made its connection by now, or already
 * dropped it. Returns 0 when c is served; 1 when evhttp had dropped it (c
 * freed); -1 when the caps refuse it: then c is freed, except in_request,
 * where the caller answers 503 and evhttp's close ends it. */
static int
http_setup(struct lm_conn *c, bool in_request)
{
	struct listener *l = c->l;
	struct bufferevent *bev = c->bev;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	evutil_socket_t fd;
	void *arg = NULL;
	char why[128];
	unsigned ms = l->set->lim.handshake_timeout_ms;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	c->http_setup = true;
	bufferevent_getcb(bev, NULL, NULL, NULL, &arg);
	/* our reference keeps the socket open even if evhttp is done with it */
	fd = bufferevent_getfd(bev);
	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		conn_set_addrs(c, (struct sockaddr *)&ss, fd);
	if (arg == NULL) {
		/* evhttp already freed its connection (bufferevent_free clears
		 * the callbacks): a failed handshake, or a quick close */
		if (c->ssl != NULL) {
			if (SSL_is_init_finished(c->ssl))
				conn_tls_facts(c);
			else
				conn_tls_failure(c, "closed during the handshake");
			certs_verify_note_attach(c->ssl, NULL);
			c->ssl = NULL; /* goes with our reference */
		}
		conn_outcome(c, "closed before the first request");
		bufferevent_decref(bev);
		c->bev = NULL;
		conn_free(c);
		return 1;
	}
	bufferevent_decref(bev);
	c->evcon = arg;
	evhttp_connection_set_closecb(c->evcon, http_close_cb, c);
	if (!listener_admit(l, c, why, sizeof why)) {
		conn_outcome(c, "%s", why);
		/* never free evhttp's connection from inside its own callback */
		if (!in_request)
			evhttp_connection_free(c->evcon); /* its close callback frees c */
		return -1;
	}
	http_arm_deadline(c);
	if (c->ssl != NULL && !SSL_is_init_finished(c->ssl)) {
		event_free(c->timer);
		c->timer = evtimer_new(l->set->base, http_handshake_timeout, c);
		if (c->timer != NULL)
			evtimer_add(c->timer, &tv);
	}
	return 0;
}

static void
http_setup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lm_conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->http_setup)
		(void)http_setup(c, false);
}

static struct bufferevent *
http_bevcb(struct event_base *base, void *arg)
{
	struct listener *l = arg;
	struct lm_conn *c;
	struct bufferevent *bev = NULL;
	SSL *ssl = NULL;
	struct timeval now = {0, 0};

	if ((c = conn_alloc(l)) == NULL)
		return NULL; /* evhttp falls back to a plain bufferevent */
	if (l->tls) {
		if ((ssl = SSL_new(l->ctx)) == NULL)
			goto fail;
		certs_verify_note_attach(ssl, &c->note);
		/* a client closing without close_notify is a close, not an error */
		SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
		bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
		                                     BEV_OPT_CLOSE_ON_FREE);
		c->state = CONN_HANDSHAKE;
	} else {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		c->state = CONN_ACTIVE;
	}
	if (bev == NULL)
		goto fail;
	/* While evhttp writes an answer it leaves reading on with no read
	 * callback: a client that pipelines requests and never reads its
	 * answers would grow the input without bound. The high watermark
	 * stops reading instead (a request is at most max_message of head
	 * and max_message of body, and the body is drained as it is read). */
	bufferevent_setwatermark(bev, EV_READ, 0, 2 * l->set->lim.max_message + 1024);
	c->ssl = ssl;
	c->bev = bev;
	if ((c->timer = evtimer_new(base, http_setup_cb, c)) == NULL ||
	    evtimer_add(c->timer, &now) == -1)
		goto fail_bev;
	bufferevent_incref(bev);
	return bev;
fail_bev:
	bufferevent_free(bev);
	c->bev = NULL;
fail:
	conn_outcome(c, "out of memory");
	conn_free(c);
	return NULL;
}

int
listener_http_start(struct listener *l, int fd, char *err, size_t errlen)
{
	const struct listener_limits *lim = &l->set->lim;
	struct evhttp_bound_socket *bound;
	struct timeval tv = {(time_t)(lim->idle_timeout_ms / 1000),
	                     (suseconds_t)(lim->idle_timeout_ms % 1000) * 1000};

	if ((l->http = evhttp_new(l->set->base)) == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", l->local);
		return -1;
	}
	evhttp_set_max_headers_size(l->http, (ev_ssize_t)lim->max_message);
	evhttp_set_max_body_size(l->http, (ev_ssize_t)lim->max_message);
	evhttp_set_timeout_tv(l->http, &tv);
	evhttp_set_bevcb(l->http, http_bevcb, l);
	evhttp_set_gencb(l->http, http_request_cb, l);
	if ((bound = evhttp_accept_socket_with_handle(l->http, fd)) == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: cannot watch the socket", l->local);
		return -1;
	}
	/* not ours to free (evhttp_free does): only paused at the cap */
	l->lev = evhttp_bound_socket_get_listener(bound);
	if (listener_watch_errors(l) == -1) {
		snprintf(err, errlen, "%s: out of memory", l->local);
		return -1;
	}
	return 0;
}

void
listener_http_stop(struct listener *l)
{
	struct lm_conn *c, *next;

	if (l->http == NULL)
		return;
	evhttp_free(l->http);
	l->http = NULL;
	l->lev = NULL;
	/* records whose set-up step never ran still hold their reference */
	for (c = TAILQ_FIRST(&l->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->http_setup && c->bev != NULL) {
			if (c->ssl != NULL)
				certs_verify_note_attach(c->ssl, NULL);
			c->ssl = NULL;
			bufferevent_decref(c->bev);
			c->bev = NULL;
		}
	}
}
