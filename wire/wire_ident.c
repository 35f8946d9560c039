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

static json_t *ident_build(const struct wire_ident *id, const char *token);

json_t *
wire_ident_json(const struct wire_ident *id, const char *token)
{
	json_t *o;

	if (id->reuse == NULL || *id->reuse == NULL) {
		if ((o = ident_build(id, token)) != NULL && id->reuse != NULL)
			*id->reuse = json_incref(o);
		return o;
	}
	/* the connection's facts do not change: only the token does */
	o = json_incref(*id->reuse);
	if (json_object_set_new(o, WIRE_F_TOKEN, str_or_null(token)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
ident_build(const struct wire_ident *id, const char *token)
{
	json_t *o, *tls = NULL;

	o = json_object();
	if (o == NULL)
		return NULL;
	if (id->tls) {
		tls = json_object();
		if (tls == NULL)
			goto fail;
		/* json_*_new steals the reference, also on failure */
		if (json_object_set_new(tls, WIRE_F_TLS_VERSION, str_or_null(id->tls_version)) ==
		        -1 ||
		    json_object_set_new(tls, WIRE_F_TLS_CIPHER, str_or_null(id->tls_cipher)) ==
		        -1 ||
		    json_object_set_new(tls, WIRE_F_TLS_CLIENT_CERT,
		                        str_or_null(id->client_cert)) == -1 ||
		    json_object_set_new(tls, WIRE_F_TLS_SERVER_CERT,
		                        str_or_null(id->server_cert)) == -1 ||
		    json_object_set_new(tls, WIRE_F_TLS_SERVER_SHA256,
		                        str_or_null(id->server_cert_sha256)) == -1 ||
		    json_object_set_new(tls, WIRE_F_TLS_CLIENT_SHA256,
		                        str_or_null(id->client_cert_sha256)) == -1)
			goto fail;
	}
	if (json_object_set_new(o, WIRE_F_SERVICE, json_string(WIRE_SERVICE)) == -1 ||
	    json_object_set_new(o, WIRE_F_VERSION, json_string(LM_VERSION)) == -1 ||
	    json_object_set_new(o, WIRE_F_SCENARIO, str_or_null(id->scenario)) == -1 ||
	    json_object_set_new(o, WIRE_F_HOST, str_or_null(id->host)) == -1 ||
	    json_object_set_new(o, WIRE_F_ROLE, str_or_null(id->role)) == -1 ||
	    json_object_set_new(o, WIRE_F_LISTENER, str_or_null(id->listener)) == -1 ||
	    json_object_set_new(o, WIRE_F_PORT, json_integer(id->port)) == -1 ||
	    json_object_set_new(o, WIRE_F_LOCAL, str_or_null(id->local)) == -1 ||
	    json_object_set_new(o, WIRE_F_PEER, str_or_null(id->peer)) == -1 ||
	    json_object_set_new(o, WIRE_F_TOKEN, str_or_null(token)) == -1)
		goto fail;
	if (json_object_set_new(o, WIRE_F_TLS, tls != NULL ? tls : json_null()) == -1) {
		tls = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(tls);
	json_decref(o);
	return NULL;
}

int
wire_ident_line(const struct wire_ident *id, const char *token, struct evbuffer *out)
{
	json_t *o;
	char *s;
	int rc;

	if ((o = wire_ident_json(id, token)) == NULL)
		return -1;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return -1;
	rc = evbuffer_add_printf(out, "%s\r\n", s) < 0 ? -1 : 0;
	free(s);
	return rc;
}
