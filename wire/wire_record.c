/* The identity record (SPEC §2) a lyncmock listener answers with, read with jansson. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>

#include <jansson.h>

#include "wire/wire.h"

static int
take(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || !json_is_string(v))
		return 0;
	if ((*out = strdup(json_string_value(v))) == NULL)
		return -1;
	return 0;
}

/* The TLS fingerprints and the HTTP request's proxy headers, when present. */
static int
extras(json_t *o, struct wire_record *id)
{
	json_t *tls = json_object_get(o, WIRE_F_TLS), *req = json_object_get(o, WIRE_F_REQUEST),
	       *fwd, *v;
	const char *k;
	size_t off = 0, cap = 0;

	if (json_is_object(tls) &&
	    (take(tls, WIRE_F_TLS_SERVER_SHA256, &id->server_cert_sha256) == -1 ||
	     take(tls, WIRE_F_TLS_CLIENT_SHA256, &id->client_cert_sha256) == -1 ||
	     take(tls, WIRE_F_TLS_CLIENT_CERT, &id->client_cert) == -1))
		return -1;
	if (!json_is_object(req))
		return 0;
	if (take(req, WIRE_F_REQ_LINE, &id->request_line) == -1)
		return -1;
	fwd = json_object_get(req, WIRE_F_REQ_FORWARDED);
	if (!json_is_object(fwd) || json_object_size(fwd) == 0)
		return 0;
	json_object_foreach(fwd, k, v)
	{
		size_t need = strlen(k) + 3;
		char *n;

		if (off + need > cap) {
			cap = (off + need) * 2;
			if ((n = realloc(id->proxy_headers, cap)) == NULL)
				return -1;
			id->proxy_headers = n;
		}
		off += (size_t)snprintf(id->proxy_headers + off, cap - off, "%s%s", off ? ", " : "",
		                        k);
		if (strcasecmp(k, "X-Forwarded-For") == 0 && json_is_string(v) &&
		    id->forwarded_for == NULL &&
		    (id->forwarded_for = strdup(json_string_value(v))) == NULL)
			return -1;
	}
	return 0;
}

int
wire_record_parse(const char *json, size_t len, struct wire_record *id)
{
	json_error_t jerr;
	json_t *o, *port;
	int rc = 1;

	memset(id, 0, sizeof *id);
	id->port = -1;
	if ((o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return -1;
	if (!json_is_object(o) || !json_is_string(json_object_get(o, WIRE_F_SERVICE)) ||
	    strcmp(json_string_value(json_object_get(o, WIRE_F_SERVICE)), WIRE_SERVICE) != 0)
		goto out;
	if (take(o, WIRE_F_SERVICE, &id->service) == -1 ||
	    take(o, WIRE_F_VERSION, &id->version) == -1 ||
	    take(o, WIRE_F_SCENARIO, &id->scenario) == -1 ||
	    take(o, WIRE_F_HOST, &id->host) == -1 || take(o, WIRE_F_ROLE, &id->role) == -1 ||
	    take(o, WIRE_F_LISTENER, &id->listener) == -1 ||
	    take(o, WIRE_F_LOCAL, &id->local) == -1 || take(o, WIRE_F_PEER, &id->peer) == -1 ||
	    take(o, WIRE_F_TOKEN, &id->token) == -1) {
		wire_record_clear(id);
		rc = -1;
		goto out;
	}
	port = json_object_get(o, WIRE_F_PORT);
	if (json_is_integer(port))
		id->port = (long)json_integer_value(port);
	if (extras(o, id) == -1) {
		wire_record_clear(id);
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void
wire_record_clear(struct wire_record *id)
{
	free(id->service);
	free(id->version);
	free(id->scenario);
	free(id->host);
	free(id->role);
	free(id->listener);
	free(id->local);
	free(id->peer);
	free(id->token);
	free(id->server_cert_sha256);
	free(id->client_cert_sha256);
	free(id->client_cert);
	free(id->request_line);
	free(id->proxy_headers);
	free(id->forwarded_for);
	memset(id, 0, sizeof *id);
	id->port = -1;
}
