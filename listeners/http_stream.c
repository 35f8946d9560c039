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

#include <event2/buffer.h>
#include <http_parser.h>

#include "listeners/listener_priv.h"

struct str {
	char *p;
	size_t len, cap;
};

/* Where requests are parsed, kept from one request to the next so that a
 * keep-alive connection allocates nothing per request. One request is
 * parsed at a time (the listener has one thread), and no request's state
 * outlives the call: only the capacity stays. */
static struct {
	struct str url, field, value;
	struct str text;          /* key\0value\0 of each header */
	size_t (*offs)[2];        /* where each header's key and value start in text */
	struct http_header *hdrs; /* the same as pointers, for http_answer_build */
	size_t nhdrs, cap;
} scratch;

/* One request as http-parser reports it. */
struct http_req {
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
str_reset(struct str *s)
{
	s->len = 0;
	if (s->p != NULL)
		s->p[0] = '\0';
}

/* A new request: what the last one left is forgotten. */
static void
scratch_reset(void)
{
	str_reset(&scratch.url);
	str_reset(&scratch.field);
	str_reset(&scratch.value);
	str_reset(&scratch.text);
	scratch.nhdrs = 0;
}

/* Keeps one header (key and value in field and value); -1 when out of memory. */
static int
scratch_keep(void)
{
	size_t k = scratch.text.len, v = k + scratch.field.len + 1;

	if (scratch.nhdrs == scratch.cap) {
		size_t cap = scratch.cap ? scratch.cap * 2 : 16;
		void *o = realloc(scratch.offs, cap * sizeof *scratch.offs), *h;
		if (o == NULL)
			return -1;
		scratch.offs = o;
		if ((h = realloc(scratch.hdrs, cap * sizeof *scratch.hdrs)) == NULL)
			return -1;
		scratch.hdrs = h;
		scratch.cap = cap;
	}
	/* str_add keeps each one NUL-terminated: add the terminators too */
	if (str_add(&scratch.text, scratch.field.p != NULL ? scratch.field.p : "",
	            scratch.field.len + 1) == -1 ||
	    str_add(&scratch.text, scratch.value.p != NULL ? scratch.value.p : "",
	            scratch.value.len + 1) == -1)
		return -1;
	scratch.offs[scratch.nhdrs][0] = k;
	scratch.offs[scratch.nhdrs][1] = v;
	scratch.nhdrs++;
	return 0;
}

/* The headers kept, as pointers (text no longer moves). */
static const struct http_header *
scratch_headers(void)
{
	size_t i;

	for (i = 0; i < scratch.nhdrs; i++) {
		scratch.hdrs[i].key = scratch.text.p + scratch.offs[i][0];
		scratch.hdrs[i].value = scratch.text.p + scratch.offs[i][1];
	}
	return scratch.hdrs;
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
	const char *k = scratch.field.p != NULL ? scratch.field.p : "";
	const char *v = scratch.value.p != NULL ? scratch.value.p : "";
	size_t klen = scratch.field.len;

	if (!r->in_value)
		return 0;
	r->in_value = false;
	/* lengths first: most headers are none of these */
	if (klen == 14 && strcasecmp(k, "Content-Length") == 0) {
		/* http-parser refuses a second one too; say it plainly */
		if (r->ncl++ > 0)
			r->bad = strcmp(r->cl, v) == 0 ? "repeated Content-Length header"
			                               : "conflicting Content-Length headers";
		else
			snprintf(r->cl, sizeof r->cl, "%s", v);
	} else if (klen == 4 && strcasecmp(k, "Host") == 0) {
		if (r->nhost++ > 0)
			r->bad = "more than one Host header";
	} else if (klen == 6 && strcasecmp(k, "Expect") == 0 &&
	           strcasecmp(v, "100-continue") == 0) {
		r->expect_continue = true;
	}
	/* http-parser lets no NUL into a field or value; a CR or LF (an obs-fold
	 * joined) is not a header we repeat */
	if (r->bad == NULL && strpbrk(v, "\r\n") != NULL)
		r->bad = "malformed header";
	if (scratch_keep() == -1)
		return fail_oom(p);
	str_reset(&scratch.field);
	str_reset(&scratch.value);
	return r->bad != NULL ? -1 : 0;
}

static int
on_url(http_parser *p, const char *at, size_t n)
{
	return str_add(&scratch.url, at, n) == -1 ? fail_oom(p) : 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t n)
{
	struct http_req *r = p->data;

	if (r->in_value && header_done(p) == -1)
		return -1;
	return str_add(&scratch.field, at, n) == -1 ? fail_oom(p) : 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t n)
{
	struct http_req *r = p->data;

	r->in_value = true;
	return str_add(&scratch.value, at, n) == -1 ? fail_oom(p) : 0;
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

/* A head is our own constants, the date and two numbers: assembled with
 * memcpy, as printf's format parsing showed in profiles. */
struct head {
	char p[512];
	size_t len;
};

static void
head_add(struct head *h, const char *s)
{
	size_t n = strlen(s);

	if (h->len + n <= sizeof h->p) {
		memcpy(h->p + h->len, s, n);
		h->len += n;
	}
}

static void
head_num(struct head *h, size_t v)
{
	char d[24];
	size_t i = sizeof d - 1;

	d[i] = '\0';
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && i > 0);
	head_add(h, d + i);
}

static void
write_head(struct evbuffer *out, int code, const char *reason, const char *ctype, size_t len,
           const char *conn)
{
	struct head h = {.len = 0};

	head_add(&h, "HTTP/1.1 ");
	head_num(&h, (size_t)code);
	head_add(&h, " ");
	head_add(&h, reason);
	head_add(&h, "\r\nDate: ");
	head_add(&h, http_date());
	head_add(&h, "\r\nServer: lyncmock/" LM_VERSION "\r\nContent-Type: ");
	head_add(&h, ctype);
	head_add(&h, "\r\nContent-Length: ");
	head_num(&h, len);
	/* browsers must not guess HTML in JSON that echoes a peer's text */
	head_add(&h, "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
	if (conn != NULL) {
		head_add(&h, "Connection: ");
		head_add(&h, conn);
		head_add(&h, "\r\n");
	}
	head_add(&h, "\r\n");
	evbuffer_add(out, h.p, h.len);
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
	                      scratch.url.p != NULL ? scratch.url.p : "", p->http_major,
	                      p->http_minor, scratch_headers(), scratch.nhdrs, id, &ans) == -1) {
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
		scratch_reset();
		http_parser_init(&p, HTTP_REQUEST);
		p.data = &r;
		/* a request is parsed again from its start when more bytes come:
		 * bounded by max_message, and no state outlives the call */
		n = http_parser_execute(&p, &settings, buf + off,
		                        avail > max_message ? max_message : avail);
		e = HTTP_PARSER_ERRNO(&p);
		if (r.oom) {
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
				return len;
			}
			if (r.headers_done && r.expect_continue && !st->continue_sent) {
				evbuffer_add_printf(out, "HTTP/1.1 100 Continue\r\n\r\n");
				st->continue_sent = true;
			}
			return off; /* the rest of this request is still to come */
		}
		st->continue_sent = false;
		go_on = answer(&p, &r, id, out, st, close, why, whylen);
		off += n;
		if (!go_on)
			return len; /* what follows a closing answer is not read */
	}
	return off;
}
