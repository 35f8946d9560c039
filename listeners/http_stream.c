/*
 * HTTP/1.x requests on the one stream path (listener.c's conn_process):
 * framed by http-parser, held to RFC 9112 (one Content-Length, Host on 1.1,
 * no body on HEAD answers, 400 and close on anything unframeable), answered
 * by http_answer_build. Pure: the listener, the unit tests and the fuzzer
 * call the same function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <http_parser.h>

#include "listeners/listener_priv.h"

struct str {
	char *p;
	size_t len, cap;
};

/* One request as http-parser reports it. */
struct http_req {
	struct evkeyvalq headers;
	struct str url, field, value;
	bool in_value;
	unsigned ncl, nhost;
	char cl[32];          /* the first Content-Length value */
	const char *bad;      /* set: answer 400 with this reason */
	bool headers_done;    /* the head is complete (the body may not be) */
	bool complete;        /* the whole message is in the buffer */
	bool keep_alive;      /* http_should_keep_alive at the end of the head */
	bool expect_continue; /* Expect: 100-continue */
	bool oom;
};

static int
str_add(struct str *s, const char *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 64;
		char *np;
		while (cap < s->len + n + 1)
			cap *= 2;
		if ((np = realloc(s->p, cap)) == NULL)
			return -1;
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
	return 0;
}

static void
req_clear(struct http_req *r)
{
	evhttp_clear_headers(&r->headers);
	free(r->url.p);
	free(r->field.p);
	free(r->value.p);
}

static int
fail_oom(http_parser *p)
{
	((struct http_req *)p->data)->oom = true;
	return -1;
}

/* A whole header line: the checks of RFC 9112 §6.3 and §3.2, then kept. */
static int
header_done(http_parser *p)
{
	struct http_req *r = p->data;
	const char *k = r->field.p != NULL ? r->field.p : "";
	const char *v = r->value.p != NULL ? r->value.p : "";

	if (!r->in_value)
		return 0;
	r->in_value = false;
	if (strcasecmp(k, "Content-Length") == 0) {
		/* http-parser refuses a second one too; say it plainly */
		if (r->ncl++ > 0)
			r->bad = strcmp(r->cl, v) == 0 ? "repeated Content-Length header"
			                               : "conflicting Content-Length headers";
		else
			snprintf(r->cl, sizeof r->cl, "%s", v);
	} else if (strcasecmp(k, "Host") == 0) {
		if (r->nhost++ > 0)
			r->bad = "more than one Host header";
	} else if (strcasecmp(k, "Expect") == 0 && strcasecmp(v, "100-continue") == 0) {
		r->expect_continue = true;
	}
	/* evhttp_add_header refuses CR/LF in a value; http-parser let none through */
	if (evhttp_add_header(&r->headers, k, v) == -1 && r->bad == NULL)
		r->bad = "malformed header";
	r->field.len = r->value.len = 0;
	if (r->field.p != NULL)
		r->field.p[0] = '\0';
	if (r->value.p != NULL)
		r->value.p[0] = '\0';
	return r->bad != NULL ? -1 : 0;
}

static int
on_url(http_parser *p, const char *at, size_t n)
{
	return str_add(&((struct http_req *)p->data)->url, at, n) == -1 ? fail_oom(p) : 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t n)
{
	struct http_req *r = p->data;

	if (r->in_value && header_done(p) == -1)
		return -1;
	return str_add(&r->field, at, n) == -1 ? fail_oom(p) : 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t n)
{
	struct http_req *r = p->data;

	r->in_value = true;
	return str_add(&r->value, at, n) == -1 ? fail_oom(p) : 0;
}

static int
on_headers_complete(http_parser *p)
{
	struct http_req *r = p->data;

	if (header_done(p) == -1)
		return -1;
	r->headers_done = true;
	r->keep_alive = http_should_keep_alive(p) != 0;
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	struct http_req *r = p->data;

	r->complete = true;
	/* one request at a time: execute returns where this one ends */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

/* The Date header's value, computed once a second. */
static const char *
http_date(void)
{
	static char buf[40];
	static time_t last;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return buf;
}

static void
write_head(struct evbuffer *out, int code, const char *reason, const char *ctype, size_t len,
           const char *conn)
{
	evbuffer_add_printf(out,
	                    "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: lyncmock/%s\r\n"
	                    "Content-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
	                    /* browsers must not guess HTML in JSON that echoes a peer's text */
	                    "X-Content-Type-Options: nosniff\r\n%s%s%s\r\n",
	                    code, reason, http_date(), LM_VERSION, ctype, len,
	                    conn != NULL ? "Connection: " : "", conn != NULL ? conn : "",
	                    conn != NULL ? "\r\n" : "");
}

/* An error answer after which the connection closes. */
static void
reject(struct evbuffer *out, int code, const char *reason, const char *detail,
       struct http_stats *st, bool *close, char *why, size_t whylen)
{
	char body[192];
	int n = snprintf(body, sizeof body, "%d %s: %s\n", code, reason, detail);

	if (n < 0 || (size_t)n >= sizeof body)
		n = (int)strlen(body);
	write_head(out, code, reason, "text/plain; charset=utf-8", (size_t)n, "close");
	evbuffer_add(out, body, (size_t)n);
	st->rejected++;
	st->last_status = code;
	*close = true;
	snprintf(why, whylen, "rejected: %d %s: %s", code, reason, detail);
}

/* Answers one complete request; false when the connection must close after it. */
static bool
answer(const http_parser *p, struct http_req *r, const struct wire_ident *id, struct evbuffer *out,
       struct http_stats *st, bool *close, char *why, size_t whylen)
{
	struct http_answer ans;
	bool head = p->method == HTTP_HEAD;
	const char *conn = NULL;

	if (p->http_major == 1 && p->http_minor >= 1 && r->nhost == 0) {
		/* RFC 9112 §3.2: MUST answer 400 */
		reject(out, 400, "Bad Request", "HTTP/1.1 request without a Host header", st, close,
		       why, whylen);
		return false;
	}
	if (http_answer_build(http_method_str((enum http_method)p->method),
	                      r->url.p != NULL ? r->url.p : "", p->http_major, p->http_minor,
	                      &r->headers, id, &ans) == -1) {
		http_answer_clear(&ans);
		reject(out, 500, "Internal Server Error", "out of memory", st, close, why, whylen);
		return false;
	}
	/* a tunnel or protocol switch is not ours to grant: answer, then close */
	if (!r->keep_alive || p->upgrade || ans.code >= 400)
		conn = "close";
	else if (p->http_minor == 0)
		conn = "keep-alive";
	write_head(out, ans.code, ans.reason, ans.content_type, ans.len, conn);
	if (!head)
		evbuffer_add(out, ans.body, ans.len);
	st->requests++;
	st->last_status = ans.code;
	if (ans.code >= 400) {
		st->rejected++;
		snprintf(why, whylen, "rejected: %d %s", ans.code, ans.reason);
	}
	http_answer_clear(&ans);
	if (conn != NULL && strcmp(conn, "close") == 0) {
		*close = true; /* a clean close: why stays empty, the outcome "ok" */
		return false;
	}
	return true;
}

size_t
http_stream_process(const char *buf, size_t len, size_t max_message, const struct wire_ident *id,
                    struct evbuffer *out, struct http_stats *st, bool *close, char *why,
                    size_t whylen)
{
	size_t off = 0;

	*close = false;
	if (whylen > 0)
		why[0] = '\0';
	while (off < len && !*close) {
		http_parser p;
		struct http_req r;
		size_t n, avail = len - off;
		enum http_errno e;
		bool go_on;

		memset(&r, 0, sizeof r);
		TAILQ_INIT(&r.headers);
		http_parser_init(&p, HTTP_REQUEST);
		p.data = &r;
		/* a request is parsed again from its start when more bytes come:
		 * bounded by max_message, and no state outlives the call */
		n = http_parser_execute(&p, &settings, buf + off,
		                        avail > max_message ? max_message : avail);
		e = HTTP_PARSER_ERRNO(&p);
		if (r.oom) {
			req_clear(&r);
			reject(out, 500, "Internal Server Error", "out of memory", st, close, why,
			       whylen);
			return len;
		}
		if (e != HPE_OK && e != HPE_PAUSED) {
			const char *d = r.bad != NULL ? r.bad : http_errno_description(e);
			/* http-parser stops at the second header, before header_done */
			if (r.bad == NULL && e == HPE_UNEXPECTED_CONTENT_LENGTH)
				d = r.ncl > 0 ? "more than one Content-Length header"
				              : "Content-Length with Transfer-Encoding";
			reject(out, 400, "Bad Request", d, st, close, why, whylen);
			req_clear(&r);
			return len;
		}
		if (!r.complete) {
			if (avail >= max_message) {
				if (r.headers_done)
					reject(out, 413, "Content Too Large",
					       "request larger than the limit", st, close, why,
					       whylen);
				else
					reject(out, 431, "Request Header Fields Too Large",
					       "request head larger than the limit", st, close, why,
					       whylen);
				req_clear(&r);
				return len;
			}
			if (r.headers_done && r.expect_continue && !st->continue_sent) {
				evbuffer_add_printf(out, "HTTP/1.1 100 Continue\r\n\r\n");
				st->continue_sent = true;
			}
			req_clear(&r);
			return off; /* the rest of this request is still to come */
		}
		st->continue_sent = false;
		go_on = answer(&p, &r, id, out, st, close, why, whylen);
		req_clear(&r);
		off += n;
		if (!go_on)
			return len; /* what follows a closing answer is not read */
	}
	return off;
}
