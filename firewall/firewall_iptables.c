/* iptables-restore / ip6tables-restore input (filter table) for a scenario's open paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firewall/firewall.h"

static int
render(const struct scenario *sc, const struct firewall_opts *o, int family, char **out,
       size_t *outlen, char *err, size_t errlen)
{
	struct firewall_path *paths = NULL;
	size_t npaths = 0, len = 0;
	char *buf = NULL, id[128];
	FILE *f;
	int input = o != NULL && o->input_chain;
	const char *chain = input ? "INPUT" : "FORWARD";
	const char *tool = family == AF_INET6 ? "ip6tables" : "iptables";
	const char *other = family == AF_INET6 ? "iptables" : "ip6tables";
	const char *fam = family == AF_INET6 ? "IPv6" : "IPv4";
	const char *plen = family == AF_INET6 ? "128" : "32";

	if (firewall_paths(sc, &paths, &npaths) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((f = open_memstream(&buf, &len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(paths);
		return -1;
	}
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

		firewall_label(r->id, id, sizeof id);
		if (r->expect_blocked) {
			fprintf(f,
			        "# %s (expect: blocked, %s %u/tcp, %s -> %s): no ACCEPT, the "
			        "policy DROP covers it\n",
			        id, lm_service_name(r->service), (unsigned)r->port, r->from.text,
			        r->to.text);
			continue;
		}
		fprintf(f, "# %s: %s %u/tcp, %s -> %s\n", id, lm_service_name(r->service),
		        (unsigned)r->port, r->from.text, r->to.text);
		for (size_t j = 0; j < npaths; j++) {
			const struct firewall_path *p = &paths[j];
			if (p->rule != r)
				continue;
			if (input && o->only_host != NULL &&
			    strcmp(o->only_host, p->dst->name) != 0)
				continue;
			if (firewall_addr_family(p->src->address) != family ||
			    firewall_addr_family(p->dst->address) != family) {
				fprintf(
				    f,
				    "# %s -> %s is not %s: see `lyncmock firewall --format %s`\n",
				    p->src->name, p->dst->name, fam, other);
				continue;
			}
			fprintf(f,
			        "-A %s -s %s/%s -d %s/%s -p tcp -m tcp --dport %u -m comment "
			        "--comment \"%s\" -j ACCEPT\n",
			        chain, p->src->address, plen, p->dst->address, plen,
			        (unsigned)r->port, id);
		}
	}
	fprintf(f, "COMMIT\n");
	free(paths);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fclose(f);
	*out = buf;
	*outlen = len;
	return 0;
}

int
firewall_iptables(const struct scenario *sc, const struct firewall_opts *o, char **out,
                  size_t *outlen, char *err, size_t errlen)
{
	return render(sc, o, AF_INET, out, outlen, err, errlen);
}

int
firewall_ip6tables(const struct scenario *sc, const struct firewall_opts *o, char **out,
                   size_t *outlen, char *err, size_t errlen)
{
	return render(sc, o, AF_INET6, out, outlen, err, errlen);
}
