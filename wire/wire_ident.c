/* The identity record (SPEC §2) every listener answer carries, built with jansson. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/lm.h"
#include "wire/wire.h"

/* Bytes of the UTF-8 sequence a lead byte announces (0: not a lead byte). */
static size_t
utf8_seqlen(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 0;
}

json_t *
wire_text(const char *s)
{
	static const char repl[] = "\xef\xbf\xbd"; /* U+FFFD */
	size_t len, i = 0, o = 0, n;
	json_t *j, *probe;
	char *buf;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	/* not UTF-8 (a peer's bytes): each bad byte becomes U+FFFD, and
	 * jansson judges each sequence (overlongs, surrogates) */
	len = strlen(s);
	if (len > SIZE_MAX / 3 - 1 || (buf = malloc(len * 3 + 1)) == NULL)
		return NULL;
	while (i < len) {
		n = utf8_seqlen((unsigned char)s[i]);
		if (n != 0 && i + n <= len && (probe = json_stringn(s + i, n)) != NULL) {
			json_decref(probe);
			memcpy(buf + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(buf + o, repl, 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

static json_t *
str_or_null(const char *s)
{
	return wire_text(s);
}

/* The connection's facts before the token: service .. peer. */
static json_t *
ident_head(const struct wire_ident *id)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	/* json_*_new steals the reference, also on failure */
	if (json_object_set_new(o, WIRE_F_SERVICE, json_string(WIRE_SERVICE)) == -1 ||
	    json_object_set_new(o, WIRE_F_VERSION, json_string(LM_VERSION)) == -1 ||
	    json_object_set_new(o, WIRE_F_SCENARIO, str_or_null(id->scenario)) == -1 ||
	    json_object_set_new(o, WIRE_F_HOST, str_or_null(id->host)) == -1 ||
	    json_object_set_new(o, WIRE_F_ROLE, str_or_null(id->role)) == -1 ||
	    json_object_set_new(o, WIRE_F_LISTENER, str_or_null(id->listener)) == -1 ||
	    json_object_set_new(o, WIRE_F_PORT, json_integer(id->port)) == -1 ||
	    json_object_set_new(o, WIRE_F_LOCAL, str_or_null(id->local)) == -1 ||
	    json_object_set_new(o, WIRE_F_PEER, str_or_null(id->peer)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The tls object, or JSON null on plaintext. */
static json_t *
ident_tls(const struct wire_ident *id)
{
	json_t *tls;

	if (!id->tls)
		return json_null();
	if ((tls = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(tls, WIRE_F_TLS_VERSION, str_or_null(id->tls_version)) == -1 ||
	    json_object_set_new(tls, WIRE_F_TLS_CIPHER, str_or_null(id->tls_cipher)) == -1 ||
	    json_object_set_new(tls, WIRE_F_TLS_CLIENT_CERT, str_or_null(id->client_cert)) == -1 ||
	    json_object_set_new(tls, WIRE_F_TLS_SERVER_CERT, str_or_null(id->server_cert)) == -1 ||
	    json_object_set_new(tls, WIRE_F_TLS_SERVER_SHA256,
	                        str_or_null(id->server_cert_sha256)) == -1 ||
	    json_object_set_new(tls, WIRE_F_TLS_CLIENT_SHA256,
	                        str_or_null(id->client_cert_sha256)) == -1) {
		json_decref(tls);
		return NULL;
	}
	return tls;
}

json_t *
wire_ident_json(const struct wire_ident *id, const char *token)
{
	json_t *o = ident_head(id);

	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, WIRE_F_TOKEN, str_or_null(token)) == -1 ||
	    json_object_set_new(o, WIRE_F_TLS, ident_tls(id)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void
wire_cache_clear(struct wire_cache *c)
{
	free(c->head);
	free(c->tls);
	memset(c, 0, sizeof *c);
}

/* Dumps the keys of o without its braces (jansson's JSON_EMBED, made for
 * joining objects) into *s; -1 on failure. */
static int
embed_dup(json_t *o, char **s, size_t *len)
{
	*s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_EMBED) : NULL;
	json_decref(o);
	if (*s == NULL)
		return -1;
	*len = strlen(*s);
	return 0;
}

static int
cache_fill(const struct wire_ident *id, struct wire_cache *c)
{
	json_t *t = json_object();

	if (t != NULL && json_object_set_new(t, WIRE_F_TLS, ident_tls(id)) == -1) {
		json_decref(t);
		t = NULL;
	}
	if (embed_dup(ident_head(id), &c->head, &c->head_len) == -1 ||
	    embed_dup(t, &c->tls, &c->tls_len) == -1) {
		wire_cache_clear(c);
		return -1;
	}
	return 0;
}

void
wire_json_raw(struct wire_json *w, const char *s, size_t n)
{
	if (w->len + n <= w->cap)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

void
wire_json_value(struct wire_json *w, const json_t *v)
{
	size_t room = w->len < w->cap ? w->cap - w->len : 0;
	/* a string or null has no loop check, the per-answer values are those */
	size_t n = v != NULL ? json_dumpb(v, room > 0 ? w->p + w->len : NULL, room,
	                                  JSON_COMPACT | JSON_ENCODE_ANY)
	                     : 0;

	if (n == 0) {
		w->failed = true;
		return;
	}
	if (n > room) /* counted only: the caller asks again with more room */
		w->cap = 0;
	w->len += n;
}

void
wire_json_str(struct wire_json *w, const char *s)
{
	json_t *j = wire_text(s);

	wire_json_value(w, j);
	json_decref(j);
}

void
wire_json_str_memo(struct wire_json *w, const char *s, struct wire_memo *m)
{
	size_t n, start = w->len;

	if (s == NULL || m == NULL) {
		wire_json_str(w, s);
		return;
	}
	n = strlen(s);
	if (m->enc_len > 0 && n == m->src_len && memcmp(s, m->src, n) == 0) {
		wire_json_raw(w, m->enc, m->enc_len);
		return;
	}
	wire_json_str(w, s);
	/* kept only when all of it was written (not just counted) */
	if (!w->failed && w->len <= w->cap && n < sizeof m->src &&
	    w->len - start <= sizeof m->enc) {
		memcpy(m->src, s, n);
		m->src_len = n;
		m->enc_len = w->len - start;
		memcpy(m->enc, w->p + start, m->enc_len);
	}
}

/* One pass: {facts, token, tls[, extra's members]} into w. */
static int
dump_into(const struct wire_ident *id, const char *token, wire_json_members *extra, const void *arg,
          struct wire_json *w)
{
	struct wire_cache tmp = {0}, *c = id->cache != NULL ? id->cache : &tmp;
	static const char tok[] = ",\"" WIRE_F_TOKEN "\":";

	if (c->head == NULL && cache_fill(id, c) == -1)
		return -1;
	wire_json_raw(w, "{", 1);
	wire_json_raw(w, c->head, c->head_len);
	wire_json_raw(w, tok, sizeof tok - 1);
	wire_json_str_memo(w, token, id->memo != NULL ? &id->memo[WIRE_MEMO_TOKEN] : NULL);
	wire_json_raw(w, ",", 1);
	wire_json_raw(w, c->tls, c->tls_len);
	if (extra != NULL) {
		wire_json_raw(w, ",", 1);
		extra(w, arg);
	}
	wire_json_raw(w, "}", 1);
	wire_cache_clear(&tmp);
	return w->failed ? -1 : 0;
}

char *
wire_ident_dump(const struct wire_ident *id, const char *token, wire_json_members *extra,
                const void *arg, char *buf, size_t cap, size_t *len)
{
	struct wire_json w = {buf, cap, 0, false};
	char *p;

	if (dump_into(id, token, extra, arg, &w) == -1)
		return NULL;
	if (w.len <= w.cap) {
		*len = w.len;
		return buf;
	}
	/* did not fit: once more into a buffer of the size counted */
	if ((p = malloc(w.len)) == NULL)
		return NULL;
	w = (struct wire_json){p, w.len, 0, false};
	if (dump_into(id, token, extra, arg, &w) == -1 || w.len > w.cap) {
		free(p);
		return NULL;
	}
	*len = w.len;
	return p;
}

int
wire_ident_line(const struct wire_ident *id, const char *token, struct evbuffer *out)
{
	char small[2048], *s;
	size_t n;
	int rc;

	if ((s = wire_ident_dump(id, token, NULL, NULL, small, sizeof small, &n)) == NULL)
		return -1;
	rc = evbuffer_add(out, s, n) == 0 && evbuffer_add(out, "\r\n", 2) == 0 ? 0 : -1;
	if (s != small)
		free(s);
	return rc;
}
