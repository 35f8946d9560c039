/* iptables-restore / ip6tables-restore input (filter table) for a scenario's open paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/firewall.h"

static void
render(struct firewall_doc *d, int family)
{
	const struct scenario *sc = d->sc;
	const struct firewall_path *p;
	FILE *f = d->f;
	char id[128], ports[16];
	int input = d->o != NULL && d->o->input_chain;
	const char *only = input ? d->o->only_host : NULL;
	const char *chain = input ? "INPUT" : "FORWARD";
	const char *tool = family == AF_INET6 ? "ip6tables" : "iptables";
	const char *other = family == AF_INET6 ? "iptables" : "ip6tables";
	const char *fam = family == AF_INET6 ? "IPv6" : "IPv4";
	const char *plen = family == AF_INET6 ? "128" : "32";

	fprintf(f,
	        "# lyncmock %s: %s rules for scenario \"%s\": the %s chain opens exactly\n"
	        "# the scenario's open %s paths and drops everything else.\n"
	        "# Load with `%s-restore < FILE` (replaces the filter table).\n",
	        LM_VERSION, tool, firewall_label(sc->name, id, sizeof id), chain, fam, tool);
	fprintf(f, "*filter\n:INPUT %s [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n",
	        input ? "DROP" : "ACCEPT");
	fprintf(f, "-A %s -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n", chain);
	if (input)
		fprintf(f, "-A INPUT -i lo -j ACCEPT\n-A INPUT -p %s -j ACCEPT\n",
		        family == AF_INET6 ? "ipv6-icmp" : "icmp");
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];

		if (!firewall_rule_heading(f, "", r, "ACCEPT", "DROP"))
			continue;
		firewall_label(r->id, id, sizeof id);
		for (size_t j = 0; (p = firewall_path_next(d, r, only, &j)) != NULL;) {
			if (p->src->addr.ss_family != family || p->dst->addr.ss_family != family) {
				fprintf(
				    f,
				    "# %s -> %s is not %s: see `lyncmock firewall --format %s`\n",
				    p->src->name, p->dst->name, fam, other);
				continue;
			}
			fprintf(f,
			        "-A %s -s %s/%s -d %s/%s -p %s -m %s --dport %s -m comment "
			        "--comment \"%s\" -j ACCEPT\n",
			        chain, p->src->address, plen, p->dst->address, plen,
			        scenario_rule_l4(r), scenario_rule_l4(r),
			        scenario_rule_ports(r, ':', ports, sizeof ports), id);
		}
	}
	fprintf(f, "COMMIT\n");
}

static void
render4(struct firewall_doc *d)
{
	render(d, AF_INET);
}

static void
render6(struct firewall_doc *d)
{
	render(d, AF_INET6);
}

int
firewall_iptables(const struct scenario *sc, const struct firewall_opts *o, char **out,
                  size_t *outlen, char *err, size_t errlen)
{
	return firewall_doc_render(sc, o, render4, out, outlen, err, errlen);
}

int
firewall_ip6tables(const struct scenario *sc, const struct firewall_opts *o, char **out,
                   size_t *outlen, char *err, size_t errlen)
{
	return firewall_doc_render(sc, o, render6, out, outlen, err, errlen);
}
