/* The http and https probe: GET /lyncmock/probe?token=T, answer parsed here. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

const struct probe_proto probe_proto_http = {
    .service = LM_SVC_HTTP,
    .request = http_request,
    .parse = probe_http_parse,
};

/* Finds "\r\n\r\n"; returns the offset just past it, or 0. */
static size_t
end_of_headers(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}

/* Parses a decimal number of at most 9 digits that fills [s, e). */
static int
parse_decimal(const char *s, const char *e, size_t *out)
{
	size_t v = 0;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (s == e || e - s > 9)
		return -1;
	for (; s < e; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Decodes a chunked body in [b, e) into a malloc'd string. Returns
 * PROBE_PARSE_DONE, _MORE (incomplete) or _ERROR. */
static enum probe_parse
dechunk(const char *b, const char *e, struct probe_answer *a)
{
	char *out = NULL;
	size_t outlen = 0;

	for (unsigned guard = 0; guard < 100000; guard++) {
		const char *nl = memchr(b, '\n', (size_t)(e - b));
		size_t sz = 0;
		int digits = 0;
		const char *q;

		if (nl == NULL)
			goto more;
		for (q = b; q < nl && isxdigit((unsigned char)*q); q++) {
			if (++digits > 7)
				goto bad;
			sz = sz * 16 + (size_t)(isdigit((unsigned char)*q)
			                            ? *q - '0'
			                            : tolower((unsigned char)*q) - 'a' + 10);
		}
		if (digits == 0 || (q < nl && *q != ';' && *q != '\r' && *q != ' '))
			goto bad;
		b = nl + 1;
		if (sz == 0) {
			/* trailers end with an empty line */
			for (;;) {
				nl = memchr(b, '\n', (size_t)(e - b));
				if (nl == NULL)
					goto more;
				if (nl == b || (nl == b + 1 && *b == '\r'))
					break;
				b = nl + 1;
			}
			a->body = out ? out : strdup("");
			a->body_len = outlen;
			return a->body ? PROBE_PARSE_DONE : PROBE_PARSE_ERROR;
		}
		if (outlen + sz > PROBE_MAX_ANSWER)
			goto bad;
		if ((size_t)(e - b) < sz + 2)
			goto more;
		char *n = realloc(out, outlen + sz + 1);
		if (n == NULL)
			goto bad;
		out = n;
		memcpy(out + outlen, b, sz);
		outlen += sz;
		out[outlen] = '\0';
		b += sz;
		if (b[0] == '\r' && b[1] == '\n')
			b += 2;
		else if (b[0] == '\n')
			b += 1;
		else
			goto bad;
	}
bad:
	free(out);
	strcpy(a->why, "malformed chunked body");
	return PROBE_PARSE_ERROR;
more:
	free(out);
	return PROBE_PARSE_MORE;
}

static enum probe_parse
fail(struct probe_answer *a, const char *why)
{
	snprintf(a->why, sizeof a->why, "%s", why);
	return PROBE_PARSE_ERROR;
}

enum probe_parse
probe_http_parse(const char *buf, size_t len, bool eof, struct probe_answer *a)
{
	/* interim 1xx answers (100 Continue) precede the real one */
	for (unsigned interim = 0; interim < 8; interim++) {
		size_t hlen = end_of_headers(buf, len);
		const char *line, *le, *he;
		size_t clen = 0;
		bool have_clen = false, chunked = false;
		int status;

		if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0)
			return fail(a, "the answer is not HTTP");
		if (len > 0 && len < 5 && memcmp(buf, "HTTP/", len) != 0)
			return fail(a, "the answer is not HTTP");
		if (hlen == 0) {
			if (len > PROBE_MAX_ANSWER)
				return fail(a, "HTTP headers too long");
			if (eof)
				return fail(
				    a, "connection closed before the HTTP headers were complete");
			return PROBE_PARSE_MORE;
		}
		he = buf + hlen - 2; /* the final CRLF */
		le = memchr(buf, '\n', hlen);
		/* "HTTP/1.x 200 reason" */
		if (le - buf < 13 || buf[5] != '1' || buf[6] != '.' ||
		    !isdigit((unsigned char)buf[7]) || buf[8] != ' ' ||
		    !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
		    !isdigit((unsigned char)buf[11]) || (buf[12] != ' ' && buf[12] != '\r'))
			return fail(a, "malformed HTTP status line");
		status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
		if (status < 100)
			return fail(a, "malformed HTTP status code");
		for (line = le + 1; line < he;) {
			const char *eol = memchr(line, '\n', (size_t)(he - line));
			const char *colon, *vend;

			if (eol == NULL)
				eol = he;
			vend = (eol > line && eol[-1] == '\r') ? eol - 1 : eol;
			colon = memchr(line, ':', (size_t)(vend - line));
			if (colon == NULL || colon == line)
				return fail(a, "malformed HTTP header line");
			for (const char *c = line; c < colon; c++) {
				if (!isgraph((unsigned char)*c))
					return fail(a, "malformed HTTP header name");
			}
			if ((size_t)(colon - line) == 14 &&
			    strncasecmp(line, "Content-Length", 14) == 0) {
				size_t v;
				if (parse_decimal(colon + 1, vend, &v) == -1 ||
				    (have_clen && v != clen))
					return fail(a, "malformed Content-Length");
				clen = v;
				have_clen = true;
			} else if ((size_t)(colon - line) == 17 &&
			           strncasecmp(line, "Transfer-Encoding", 17) == 0) {
				const char *v = colon + 1;
				while (v < vend && *v == ' ')
					v++;
				if ((size_t)(vend - v) >= 7 &&
				    strncasecmp(vend - 7, "chunked", 7) == 0)
					chunked = true;
			}
			line = eol + 1;
		}
		if (status >= 100 && status < 200 && status != 101) {
			buf += hlen;
			len -= hlen;
			continue;
		}
		a->status = status;
		if (status == 204 || status == 304) {
			a->body = strdup("");
			a->body_len = 0;
			return a->body ? PROBE_PARSE_DONE : fail(a, "out of memory");
		}
		if (chunked) {
			enum probe_parse r = dechunk(buf + hlen, buf + len, a);
			if (r == PROBE_PARSE_MORE && eof)
				return fail(a, "connection closed inside a chunked body");
			return r;
		}
		if (have_clen) {
			if (clen > PROBE_MAX_ANSWER)
				return fail(a, "HTTP body too large");
			if (len - hlen < clen)
				return eof ? fail(a, "connection closed inside the HTTP body")
				           : PROBE_PARSE_MORE;
		} else {
			/* no length: the body runs to the close */
			if (!eof)
				return len - hlen > PROBE_MAX_ANSWER
				           ? fail(a, "HTTP body too large")
				           : PROBE_PARSE_MORE;
			clen = len - hlen;
		}
		if ((a->body = malloc(clen + 1)) == NULL)
			return fail(a, "out of memory");
		memcpy(a->body, buf + hlen, clen);
		a->body[clen] = '\0';
		a->body_len = clen;
		return PROBE_PARSE_DONE;
	}
	return fail(a, "too many interim HTTP answers");
}

void
probe_answer_clear(struct probe_answer *a)
{
	free(a->body);
	free(a->token_value);
	memset(a, 0, sizeof *a);
}
