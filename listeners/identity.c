/* The identity record (SPEC §2) every listener answer carries, built with jansson. */
#include <stdlib.h>
#include <string.h>

#include "listeners/listener_priv.h"

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

json_t *
identity_json(const struct lm_ident *id, const char *token)
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
		if (json_object_set_new(tls, "version", str_or_null(id->tls_version)) == -1 ||
		    json_object_set_new(tls, "cipher", str_or_null(id->tls_cipher)) == -1 ||
		    json_object_set_new(tls, "client_cert", str_or_null(id->client_cert)) == -1)
			goto fail;
	}
	if (json_object_set_new(o, "service", json_string("lyncmock")) == -1 ||
	    json_object_set_new(o, "version", json_string(LM_VERSION)) == -1 ||
	    json_object_set_new(o, "scenario", str_or_null(id->scenario)) == -1 ||
	    json_object_set_new(o, "host", str_or_null(id->host)) == -1 ||
	    json_object_set_new(o, "role", str_or_null(id->role)) == -1 ||
	    json_object_set_new(o, "listener", str_or_null(id->listener)) == -1 ||
	    json_object_set_new(o, "port", json_integer(id->port)) == -1 ||
	    json_object_set_new(o, "local", str_or_null(id->local)) == -1 ||
	    json_object_set_new(o, "peer", str_or_null(id->peer)) == -1 ||
	    json_object_set_new(o, "token", str_or_null(token)) == -1)
		goto fail;
	if (json_object_set_new(o, "tls", tls != NULL ? tls : json_null()) == -1) {
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
identity_line(const struct lm_ident *id, const char *token, struct evbuffer *out)
{
	json_t *o;
	char *s;
	int rc;

	if ((o = identity_json(id, token)) == NULL)
		return -1;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return -1;
	rc = evbuffer_add_printf(out, "%s\r\n", s) < 0 ? -1 : 0;
	free(s);
	return rc;
}
