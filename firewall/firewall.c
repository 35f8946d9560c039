/* The open paths of a scenario, shared by every firewall format writer. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/firewall.h"

int
firewall_format_from_name(const char *name, enum firewall_format *fmt)
{
	if (strcmp(name, "nft") == 0 || strcmp(name, "nftables") == 0)
		*fmt = FIREWALL_NFT;
	else if (strcmp(name, "iptables") == 0)
		*fmt = FIREWALL_IPTABLES;
	else if (strcmp(name, "ip6tables") == 0)
		*fmt = FIREWALL_IP6TABLES;
	else if (strcmp(name, "powershell") == 0 || strcmp(name, "ps") == 0)
		*fmt = FIREWALL_POWERSHELL;
	else if (strcmp(name, "csv") == 0)
		*fmt = FIREWALL_CSV;
	else
		return -1;
	return 0;
}

int
firewall_addr_family(const char *addr)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (addr == NULL)
		return -1;
	if (inet_pton(AF_INET, addr, buf) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, addr, buf) == 1)
		return AF_INET6;
	return -1;
}

const char *
firewall_label(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return "";
	for (; s != NULL && *s != '\0' && i + 1 < len; s++) {
		char c = *s;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
		buf[i++] = ok ? c : '_';
	}
	buf[i] = '\0';
	return buf;
}

/*
 * Flows in an open-addressing hash set, so that finding the paths takes time
 * linear in their number: the flows seen (source, destination, transport,
 * port or range). No open path is also covered by a blocked rule: the loader
 * has taken a more specific blocked rule's sources out of the open rule (or
 * rejected the scenario as contradictory), so nothing here re-checks that.
 */
struct flow_set {
	uint64_t *keys; /* 0: empty */
	size_t mask;
};

/* Exact keys (no two flows share one): 14 bits per host index (the loader
 * caps hosts at 16384), 16 per port, one for the transport. */
#define FLOW_HOST_BITS 14
#define FLOW_MAX_HOSTS (1u << FLOW_HOST_BITS)

static uint64_t
pair_key(const struct scenario *sc, const struct scenario_host *src,
         const struct scenario_host *dst)
{
	return ((uint64_t)(src - sc->hosts) << FLOW_HOST_BITS | (uint64_t)(dst - sc->hosts)) + 1;
}

static uint64_t
flow_key(const struct scenario *sc, const struct scenario_host *src,
         const struct scenario_host *dst, const struct scenario_rule *r)
{
	return pair_key(sc, src, dst) << 33 | (uint64_t)r->port << 17 | (uint64_t)r->port_hi << 1 |
	       (lm_service_info(r->service)->udp ? 1u : 0u);
}

static int
flow_set_init(struct flow_set *fs, size_t n)
{
	size_t cap = 64;

	while (cap < 2 * n)
		cap *= 2;
	fs->keys = calloc(cap, sizeof *fs->keys);
	fs->mask = cap - 1;
	return fs->keys != NULL ? 0 : -1;
}

/* True when key was not there yet (it is now). */
static bool
flow_set_add(struct flow_set *fs, uint64_t key, bool add)
{
	/* splitmix64's finalizer: every key bit reaches the low bits the mask
	 * keeps (a bare multiply leaves the host bits, high in the key, out) */
	uint64_t h = key;
	size_t i;

	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	h ^= h >> 31;
	i = (size_t)h & fs->mask;

	while (fs->keys[i] != 0 && fs->keys[i] != key)
		i = (i + 1) & fs->mask;
	if (fs->keys[i] == key)
		return false;
	if (add)
		fs->keys[i] = key;
	return true;
}

int
firewall_paths(const struct scenario *sc, struct firewall_path **out, size_t *n)
{
	struct firewall_path *p = NULL, *np;
	struct flow_set seen = {0};
	size_t count = 0, cap = 0, nopen = 0;

	if (sc->nhosts > FLOW_MAX_HOSTS)
		goto fail;
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		if (!r->expect_blocked)
			nopen += r->nfrom * r->nto;
	}
	if (flow_set_init(&seen, nopen) == -1)
		goto fail;
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		if (r->expect_blocked)
			continue;
		for (size_t d = 0; d < r->nto; d++) {
			for (size_t s = 0; s < r->nfrom; s++) {
				const struct scenario_host *src = r->from_hosts[s];
				const struct scenario_host *dst = r->to_hosts[d];
				if (src == dst)
					continue;
				/* the same flow (transport, port or range) opened twice */
				if (!flow_set_add(&seen, flow_key(sc, src, dst, r), true))
					continue;
				if (count == cap) {
					cap = cap ? cap * 2 : 32;
					if ((np = realloc(p, cap * sizeof *np)) == NULL)
						goto fail;
					p = np;
				}
				p[count].rule = r;
				p[count].src = src;
				p[count].dst = dst;
				count++;
			}
		}
	}
	free(seen.keys);
	*out = p;
	*n = count;
	return 0;
fail:
	free(seen.keys);
	free(p);
	*out = NULL;
	*n = 0;
	return -1;
}

int
firewall_doc_render(const struct scenario *sc, const struct firewall_opts *o,
                    void (*body)(struct firewall_doc *), char **out, size_t *outlen, char *err,
                    size_t errlen)
{
	struct firewall_path *paths = NULL;
	struct firewall_doc d;
	char *buf = NULL;
	size_t len = 0;

	if (firewall_paths(sc, &paths, &d.npaths) == -1)
		goto fail;
	if ((d.f = open_memstream(&buf, &len)) == NULL)
		goto fail;
	d.sc = sc;
	d.o = o;
	d.paths = paths;
	/* paths come rule by rule: each rule's run, so a lookup skips the others */
	if ((d.rule_first = calloc(sc->nrules + 1, sizeof *d.rule_first)) == NULL ||
	    (d.rule_end = calloc(sc->nrules + 1, sizeof *d.rule_end)) == NULL) {
		fclose(d.f);
		free(d.rule_first);
		goto fail;
	}
	for (size_t i = d.npaths; i-- > 0;)
		d.rule_first[paths[i].rule - sc->rules] = i;
	for (size_t i = 0; i < d.npaths; i++)
		d.rule_end[paths[i].rule - sc->rules] = i + 1;
	body(&d);
	free(d.rule_first);
	free(d.rule_end);
	free(paths);
	paths = NULL;
	/* a memstream write fails only for memory */
	if (ferror(d.f)) {
		fclose(d.f);
		goto fail;
	}
	fclose(d.f);
	*out = buf;
	*outlen = len;
	return 0;
fail:
	free(buf);
	free(paths);
	snprintf(err, errlen, "out of memory");
	return -1;
}

const struct firewall_path *
firewall_path_next(const struct firewall_doc *d, const struct scenario_rule *r, const char *dst,
                   size_t *i)
{
	size_t end = d->npaths;

	if (r != NULL && d->rule_end != NULL) {
		size_t k = (size_t)(r - d->sc->rules);
		if (*i < d->rule_first[k])
			*i = d->rule_first[k];
		end = d->rule_end[k];
	}
	while (*i < end) {
		const struct firewall_path *p = &d->paths[(*i)++];
		if ((r == NULL || p->rule == r) && (dst == NULL || strcmp(dst, p->dst->name) == 0))
			return p;
	}
	return NULL;
}

bool
firewall_rule_heading(FILE *f, const char *indent, const struct scenario_rule *r,
                      const char *accept, const char *drop)
{
	char id[128], ports[16];

	firewall_label(r->id, id, sizeof id);
	scenario_rule_ports(r, '-', ports, sizeof ports);
	if (r->expect_blocked) {
		fprintf(f,
		        "%s# %s (expect: blocked, %s %s/%s, %s -> %s): no %s, the policy %s "
		        "covers it\n",
		        indent, id, lm_service_name(r->service), ports, scenario_rule_l4(r),
		        r->from.text, r->to.text, accept, drop);
		return false;
	}
	fprintf(f, "%s# %s: %s %s/%s, %s -> %s\n", indent, id, lm_service_name(r->service), ports,
	        scenario_rule_l4(r), r->from.text, r->to.text);
	return true;
}

int
firewall_render(const struct scenario *sc, enum firewall_format fmt,
                const struct firewall_opts *opts, char **out, size_t *outlen, char *err,
                size_t errlen)
{
	switch (fmt) {
	case FIREWALL_NFT:
		return firewall_nft(sc, opts, out, outlen, err, errlen);
	case FIREWALL_IPTABLES:
		return firewall_iptables(sc, opts, out, outlen, err, errlen);
	case FIREWALL_IP6TABLES:
		return firewall_ip6tables(sc, opts, out, outlen, err, errlen);
	case FIREWALL_POWERSHELL:
		return firewall_powershell(sc, opts, out, outlen, err, errlen);
	case FIREWALL_CSV:
		return firewall_csv(sc, opts, out, outlen, err, errlen);
	}
	snprintf(err, errlen, "unknown firewall format");
	return -1;
}
