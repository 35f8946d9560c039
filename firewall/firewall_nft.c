/* nftables rules (`nft -f` input) for a scenario's open paths; the lab's faults too. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/firewall.h"

/* The fault injected into this path, if a faulted rule names it. */
static const struct firewall_fault_spec *
path_fault(const struct scenario *sc, const struct firewall_opts *o, const struct firewall_path *p)
{
	for (size_t i = 0; o != NULL && i < o->nfaults; i++) {
		for (size_t j = 0; j < sc->nrules; j++) {
			const struct scenario_rule *r = &sc->rules[j];
			if (strcmp(r->id, o->faults[i].rule_id) != 0)
				continue;
			if (scenario_rules_share_port(r, p->rule) &&
			    scenario_rule_has_source(r, p->src) &&
			    scenario_rule_has_dest(r, p->dst))
				return &o->faults[i];
		}
	}
	return NULL;
}

static const char *
fault_name(enum firewall_fault k)
{
	switch (k) {
	case FIREWALL_FAULT_DROP:
		return "drop";
	case FIREWALL_FAULT_REJECT:
		return "reject";
	case FIREWALL_FAULT_NAT:
		return "nat";
	}
	return "?";
}

/* "ip saddr A ip daddr B tcp dport P" (udp, a range A-B), or NULL when the families differ. */
static const char *
match(const struct firewall_path *p, char *buf, size_t len)
{
	int fs = p->src->addr.ss_family;
	int fd = p->dst->addr.ss_family;
	const char *kw = fs == AF_INET6 ? "ip6" : "ip";
	char ports[16];

	if (fs == -1 || fs != fd)
		return NULL;
	snprintf(buf, len, "%s saddr %s %s daddr %s %s dport %s", kw, p->src->address, kw,
	         p->dst->address, scenario_rule_l4(p->rule),
	         scenario_rule_ports(p->rule, '-', ports, sizeof ports));
	return buf;
}

static void
write_rules(struct firewall_doc *d)
{
	const struct scenario *sc = d->sc;
	const struct firewall_opts *o = d->o;
	const struct firewall_path *p;
	FILE *f = d->f;
	char m[256], id[128];

	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		size_t written = 0;

		if (!firewall_rule_heading(f, "\t\t", r, "accept", "drop"))
			continue;
		firewall_label(r->id, id, sizeof id);
		for (size_t j = 0;
		     (p = firewall_path_next(d, r, o != NULL ? o->only_host : NULL, &j)) != NULL;) {
			const struct firewall_fault_spec *fs;

			written++;
			if (match(p, m, sizeof m) == NULL) {
				fprintf(f,
				        "\t\t# %s -> %s skipped: addresses of different families\n",
				        p->src->name, p->dst->name);
				continue;
			}
			fs = path_fault(sc, o, p);
			if (fs != NULL && fs->kind == FIREWALL_FAULT_DROP)
				fprintf(f, "\t\t%s drop comment \"%s lab-fault=drop\"\n", m, id);
			else if (fs != NULL && fs->kind == FIREWALL_FAULT_REJECT)
				/* UDP has no reset: ICMP port-unreachable, as a closed port */
				fprintf(f,
				        "\t\t%s reject with %s comment \"%s "
				        "lab-fault=reject\"\n",
				        m,
				        lm_service_info(p->rule->service)->udp
				            ? "icmpx port-unreachable"
				            : "tcp reset",
				        id);
			else
				fprintf(f, "\t\t%s accept comment \"%s\"\n", m, id);
		}
		if (written == 0)
			fprintf(f,
			        "\t\t# (no path of its own: opened by a rule above, or shut by an "
			        "expect: blocked rule)\n");
	}
}

static void
render(struct firewall_doc *d)
{
	const struct scenario *sc = d->sc;
	const struct firewall_opts *o = d->o;
	FILE *f = d->f;
	size_t nnat = 0;
	char m[256], id[128];
	int input = o != NULL && o->input_chain;

	fprintf(f,
	        "# lyncmock %s: nftables rules for scenario \"%s\": the %s chain opens exactly\n"
	        "# the scenario's open paths (%zu) and drops everything else.\n"
	        "# Load with `nft -f FILE`: the table inet lyncmock is replaced atomically.\n",
	        LM_VERSION, firewall_label(sc->name, id, sizeof id), input ? "input" : "forward",
	        d->npaths);
	/* add + delete first makes the file idempotent on nft without `destroy` */
	fprintf(f, "table inet lyncmock\ndelete table inet lyncmock\n\n");
	fprintf(f, "table inet lyncmock {\n");
	if (input) {
		fprintf(f, "\tchain input {\n"
		           "\t\ttype filter hook input priority filter; policy drop;\n"
		           "\t\tct state established,related accept\n"
		           "\t\tiif \"lo\" accept\n"
		           "\t\tmeta l4proto { icmp, ipv6-icmp } accept\n");
		if (o->only_host != NULL)
			fprintf(f, "\t\t# paths into host %s only\n",
			        firewall_label(o->only_host, id, sizeof id));
	} else {
		fprintf(f, "\tchain forward {\n"
		           "\t\ttype filter hook forward priority filter; policy drop;\n"
		           "\t\tct state established,related accept\n");
	}
	write_rules(d);
	fprintf(f, "\t}\n");

	for (size_t j = 0; !input && j < d->npaths; j++) {
		const struct firewall_path *p = &d->paths[j];
		const struct firewall_fault_spec *fs = path_fault(sc, o, p);
		if (fs == NULL || fs->kind != FIREWALL_FAULT_NAT || match(p, m, sizeof m) == NULL)
			continue;
		if (nnat++ == 0)
			fprintf(f,
			        "\n\tchain postrouting {\n"
			        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
		fprintf(f, "\t\t%s masquerade comment \"%s lab-fault=%s\"\n", m,
		        firewall_label(p->rule->id, id, sizeof id), fault_name(fs->kind));
	}
	if (nnat > 0)
		fprintf(f, "\t}\n");
	fprintf(f, "}\n");
}

int
firewall_nft(const struct scenario *sc, const struct firewall_opts *o, char **out, size_t *outlen,
             char *err, size_t errlen)
{
	return firewall_doc_render(sc, o, render, out, outlen, err, errlen);
}
