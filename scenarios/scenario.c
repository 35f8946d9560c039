/* Scenario queries over the loaded model: lookups, listening sockets, the matrix table, freeing. */
#include <stdlib.h>
#include <string.h>

#include "scenarios/scenario.h"

static const char *const shape_names[] = {
    [SCENARIO_CERT_POOL] = "pool",
    [SCENARIO_CERT_SERVER] = "server",
    [SCENARIO_CERT_CLIENT] = "client",
};

const char *
scenario_cert_shape_name(enum scenario_cert_shape shape)
{
	if ((unsigned)shape > SCENARIO_CERT_CLIENT)
		return "?";
	return shape_names[shape];
}

void
scenario_free(struct scenario *sc)
{
	if (sc == NULL)
		return;
	for (size_t i = 0; i < sc->nroles; i++)
		free(sc->roles[i].name);
	free(sc->roles);
	for (size_t i = 0; i < sc->nhosts; i++) {
		struct scenario_host *h = &sc->hosts[i];
		free(h->name);
		free(h->address);
		free(h->fqdn);
		free(h->pool);
		for (size_t j = 0; j < h->nsan_extra; j++)
			free(h->san_extra[j]);
		free(h->san_extra);
		free(h->cert);
		free(h->key);
	}
	free(sc->hosts);
	for (size_t i = 0; i < sc->nrules; i++) {
		struct scenario_rule *r = &sc->rules[i];
		free(r->id);
		free(r->from.text);
		free(r->to.text);
		free(r->from_hosts);
		free(r->to_hosts);
	}
	free(sc->rules);
	free(sc->file);
	free(sc->name);
	free(sc->domain);
	free(sc);
}

const struct scenario_host *
scenario_host_find(const struct scenario *sc, const char *name)
{
	if (sc == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < sc->nhosts; i++) {
		if (sc->hosts[i].name != NULL && strcmp(sc->hosts[i].name, name) == 0)
			return &sc->hosts[i];
	}
	return NULL;
}

const struct scenario_role *
scenario_role_find(const struct scenario *sc, const char *name)
{
	if (sc == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < sc->nroles; i++) {
		if (sc->roles[i].name != NULL && strcmp(sc->roles[i].name, name) == 0)
			return &sc->roles[i];
	}
	return NULL;
}

const char *
scenario_host_fqdn(const struct scenario *sc, const struct scenario_host *h, char *buf, size_t len)
{
	if (h->fqdn != NULL)
		return h->fqdn;
	if (buf == NULL || len == 0)
		return h->name;
	snprintf(buf, len, "%s.%s", h->name, sc->domain != NULL ? sc->domain : "invalid");
	return buf;
}

bool
scenario_rule_has_source(const struct scenario_rule *r, const struct scenario_host *h)
{
	for (size_t i = 0; i < r->nfrom; i++) {
		if (r->from_hosts[i] == h)
			return true;
	}
	return false;
}

bool
scenario_rule_has_dest(const struct scenario_rule *r, const struct scenario_host *h)
{
	for (size_t i = 0; i < r->nto; i++) {
		if (r->to_hosts[i] == h)
			return true;
	}
	return false;
}

/* required > optional > none */
static int
cc_strength(enum lm_client_cert cc)
{
	switch (cc) {
	case LM_CC_REQUIRED:
		return 2;
	case LM_CC_OPTIONAL:
		return 1;
	default:
		return 0;
	}
}

/*
 * Blocked rules count too: the destination listens, so that the lab proves
 * the firewall drops the path rather than that nothing was there.
 */
size_t
scenario_listens_of(const struct scenario *sc, const struct scenario_host *h,
                    struct scenario_listen *out, size_t max)
{
	size_t n = 0;
	uint16_t last = 0;

	/* Ports in increasing order without sorting: pick the next larger port each pass. */
	for (;;) {
		const struct scenario_rule *first = NULL;
		enum lm_client_cert cc = LM_CC_NONE;
		uint16_t port = 0;

		for (size_t i = 0; i < sc->nrules; i++) {
			const struct scenario_rule *r = &sc->rules[i];
			if (r->port <= last || (port != 0 && r->port > port) ||
			    !scenario_rule_has_dest(r, h))
				continue;
			if (r->port < port || port == 0) {
				port = r->port;
				first = r;
				cc = LM_CC_NONE;
			}
			enum lm_client_cert e =
			    lm_client_cert_effective(r->service, r->client_cert);
			if (cc_strength(e) > cc_strength(cc))
				cc = e;
		}
		if (first == NULL)
			break;
		if (n < max && out != NULL) {
			out[n].service = first->service;
			out[n].port = port;
			out[n].client_cert = cc;
			out[n].rule = first;
		}
		n++;
		last = port;
	}
	return n;
}

size_t
scenario_path_count(const struct scenario *sc)
{
	size_t n = 0;

	/* Both lists are in scenario order: merge them to count the self pairs. */
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		size_t f = 0, t = 0, self = 0;
		while (f < r->nfrom && t < r->nto) {
			if (r->from_hosts[f] == r->to_hosts[t]) {
				self++;
				f++;
				t++;
			} else if (r->from_hosts[f] < r->to_hosts[t])
				f++;
			else
				t++;
		}
		n += r->nfrom * r->nto - self;
	}
	return n;
}

static size_t
hosts_width(const struct scenario_host *const *v, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += strlen(v[i]->name) + (i > 0);
	return w;
}

static void
print_hosts(FILE *f, const struct scenario_host *const *v, size_t n, int width)
{
	int w = 0;

	for (size_t i = 0; i < n; i++)
		w += fprintf(f, "%s%s", i > 0 ? "," : "", v[i]->name);
	if (width > w)
		fprintf(f, "%*s", width - w, "");
}

void
scenario_print_table(const struct scenario *sc, FILE *f)
{
	size_t wid = strlen("rule"), wsvc = strlen("service"), wfrom = strlen("from"),
	       wto = strlen("to");

	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		size_t w;
		if ((w = strlen(r->id)) > wid)
			wid = w;
		if ((w = strlen(lm_service_name(r->service))) > wsvc)
			wsvc = w;
		if ((w = hosts_width(r->from_hosts, r->nfrom)) > wfrom)
			wfrom = w;
		if ((w = hosts_width(r->to_hosts, r->nto)) > wto)
			wto = w;
	}
	fprintf(f, "%-*s  %-*s  %5s  %-*s  %-*s  %s\n", (int)wid, "rule", (int)wsvc, "service",
	        "port", (int)wfrom, "from", (int)wto, "to", "expect");
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		fprintf(f, "%-*s  %-*s  %5u  ", (int)wid, r->id, (int)wsvc,
		        lm_service_name(r->service), r->port);
		print_hosts(f, r->from_hosts, r->nfrom, (int)wfrom);
		fputs("  ", f);
		print_hosts(f, r->to_hosts, r->nto, (int)wto);
		fprintf(f, "  %s\n", r->expect_blocked ? "blocked" : "open");
	}
}
