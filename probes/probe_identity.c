/* The identity record (SPEC §2) a lyncmock listener answers with, read with jansson. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "probes/probe_int.h"

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
extras(json_t *o, struct probe_identity *id)
{
	json_t *tls = json_object_get(o, "tls"), *req = json_object_get(o, "request"), *fwd, *v;
	const char *k;
	size_t off = 0, cap = 0;

	if (json_is_object(tls) &&
	    (take(tls, "server_cert_sha256", &id->server_cert_sha256) == -1 ||
	     take(tls, "client_cert_sha256", &id->client_cert_sha256) == -1 ||
	     take(tls, "client_cert", &id->client_cert) == -1))
		return -1;
	if (!json_is_object(req))
		return 0;
	if (take(req, "line", &id->request_line) == -1)
		return -1;
	fwd = json_object_get(req, "forwarded");
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
probe_identity_parse(const char *json, size_t len, struct probe_identity *id)
{
	json_error_t jerr;
	json_t *o, *port;
	int rc = 1;

	memset(id, 0, sizeof *id);
	id->port = -1;
	if ((o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return -1;
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "service")) ||
	    strcmp(json_string_value(json_object_get(o, "service")), "lyncmock") != 0)
		goto out;
	if (take(o, "service", &id->service) == -1 || take(o, "version", &id->version) == -1 ||
	    take(o, "scenario", &id->scenario) == -1 || take(o, "host", &id->host) == -1 ||
	    take(o, "role", &id->role) == -1 || take(o, "listener", &id->listener) == -1 ||
	    take(o, "local", &id->local) == -1 || take(o, "peer", &id->peer) == -1 ||
	    take(o, "token", &id->token) == -1) {
		probe_identity_clear(id);
		rc = -1;
		goto out;
	}
	port = json_object_get(o, "port");
	if (json_is_integer(port))
		id->port = (long)json_integer_value(port);
	if (extras(o, id) == -1) {
		probe_identity_clear(id);
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void
probe_identity_clear(struct probe_identity *id)
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
