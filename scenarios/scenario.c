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
	free(sc->host_index);
	for (size_t i = 0; i < sc->nrules; i++) {
		struct scenario_rule *r = &sc->rules[i];
		free(r->id);
		free(r->from.text);
		free(r->to.text);
		free(r->from_hosts);
		free(r->to_hosts);
		free(r->ports);
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
	size_t lo = 0, hi;

	if (sc == NULL || name == NULL)
		return NULL;
	if (sc->host_index == NULL) { /* while the loader is still reading hosts */
		for (size_t i = 0; i < sc->nhosts; i++) {
			if (sc->hosts[i].name != NULL && strcmp(sc->hosts[i].name, name) == 0)
				return &sc->hosts[i];
		}
		return NULL;
	}
	hi = sc->nhost_index;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct scenario_host *h = &sc->hosts[sc->host_index[mid]];
		int c = strcmp(name, h->name);
		if (c == 0)
			return h;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
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

/* from_hosts and to_hosts point into sc->hosts in ascending order: bisect. */
static bool
host_in(const struct scenario_host *const *v, size_t n, const struct scenario_host *h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] == h)
			return true;
		if (v[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool
scenario_rule_has_source(const struct scenario_rule *r, const struct scenario_host *h)
{
	return host_in(r->from_hosts, r->nfrom, h);
}

bool
scenario_rule_has_dest(const struct scenario_rule *r, const struct scenario_host *h)
{
	return host_in(r->to_hosts, r->nto, h);
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
static int
listen_cmp(const void *a, const void *b)
{
	const struct scenario_listen *x = a, *y = b;
	int ux = lm_service_info(x->service)->udp, uy = lm_service_info(y->service)->udp;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (ux != uy)
		return ux - uy;
	/* the first rule naming the socket leads the merge */
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

size_t
scenario_listens_of(const struct scenario *sc, const struct scenario_host *h,
                    struct scenario_listen *out, size_t max)
{
	struct scenario_listen *all = NULL, *v;
	size_t n = 0, total = 0, cap = 0;

	/* every (port, transport) of every rule into h, sorted, then merged */
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		if (!scenario_rule_has_dest(r, h))
			continue;
		for (size_t k = 0; k < r->nports; k++) {
			if (total == cap) {
				cap = cap ? cap * 2 : 64;
				if ((v = realloc(all, cap * sizeof *v)) == NULL) {
					free(all);
					return 0;
				}
				all = v;
			}
			all[total].service = r->service;
			all[total].port = r->ports[k];
			all[total].client_cert =
			    lm_client_cert_effective(r->service, r->client_cert);
			all[total].rule = r;
			total++;
		}
	}
	if (total > 0)
		qsort(all, total, sizeof *all, listen_cmp);
	for (size_t i = 0; i < total;) {
		struct scenario_listen m = all[i];
		size_t j = i + 1;
		for (; j < total && all[j].port == m.port &&
		       lm_service_info(all[j].service)->udp == lm_service_info(m.service)->udp;
		     j++) {
			if (cc_strength(all[j].client_cert) > cc_strength(m.client_cert))
				m.client_cert = all[j].client_cert;
		}
		if (n < max && out != NULL)
			out[n] = m;
		n++;
		i = j;
	}
	free(all);
	return n;
}

const char *
scenario_rule_l4(const struct scenario_rule *r)
{
	return lm_service_info(r->service)->udp ? "udp" : "tcp";
}

const char *
scenario_rule_ports(const struct scenario_rule *r, char sep, char *buf, size_t len)
{
	if (r->port_hi > r->port)
		snprintf(buf, len, "%u%c%u", (unsigned)r->port, sep, (unsigned)r->port_hi);
	else
		snprintf(buf, len, "%u", (unsigned)r->port);
	return buf;
}

bool
scenario_rules_share_port(const struct scenario_rule *a, const struct scenario_rule *b)
{
	return lm_service_info(a->service)->udp == lm_service_info(b->service)->udp &&
	       a->port <= (b->port_hi > b->port ? b->port_hi : b->port) &&
	       b->port <= (a->port_hi > a->port ? a->port_hi : a->port);
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
	fprintf(f, "%-*s  %-*s  %11s  %-*s  %-*s  %s\n", (int)wid, "rule", (int)wsvc, "service",
	        "port", (int)wfrom, "from", (int)wto, "to", "expect");
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		char ports[16], pw[24];
		snprintf(pw, sizeof pw, "%s%s", scenario_rule_ports(r, '-', ports, sizeof ports),
		         lm_service_info(r->service)->udp ? "/udp" : "");
		fprintf(f, "%-*s  %-*s  %11s  ", (int)wid, r->id, (int)wsvc,
		        lm_service_name(r->service), pw);
		print_hosts(f, r->from_hosts, r->nfrom, (int)wfrom);
		fputs("  ", f);
		print_hosts(f, r->to_hosts, r->nto, (int)wto);
		fprintf(f, "  %s\n", r->expect_blocked ? "blocked" : "open");
	}
}
