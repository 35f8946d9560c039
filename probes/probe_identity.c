/* The identity record (SPEC §2) a lyncmock listener answers with, read with jansson. */
#include <stdlib.h>
#include <string.h>

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
	memset(id, 0, sizeof *id);
	id->port = -1;
}
