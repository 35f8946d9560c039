/* Windows Firewall rules (New-NetFirewallRule) for each destination host's inbound paths. */
#include <stdio.h>
#include <string.h>

#include "firewall/firewall.h"

/* One New-NetFirewallRule for rule r into host h, all its sources in one list. */
static void
write_rule(struct firewall_doc *d, const struct scenario_rule *r, const struct scenario_host *h)
{
	const struct firewall_path *p;
	FILE *f = d->f;
	char id[128], ports[16];
	const char *l4 = lm_service_info(r->service)->udp ? "UDP" : "TCP";
	size_t j = 0, nsrc = 0;

	if (firewall_path_next(d, r, h->name, &j) == NULL)
		return;
	scenario_rule_ports(r, '-', ports, sizeof ports);
	fprintf(f, "# %s: %s %s/%s from %s\n", firewall_label(r->id, id, sizeof id),
	        lm_service_name(r->service), ports, scenario_rule_l4(r), r->from.text);
	fprintf(f,
	        "New-NetFirewallRule -DisplayName \"lyncmock %s (%s%s)\" -Group \"lyncmock\" "
	        "-Direction Inbound -Protocol %s -LocalPort %s -RemoteAddress ",
	        id, ports, lm_service_info(r->service)->udp ? "/udp" : "", l4, ports);
	for (j = 0; (p = firewall_path_next(d, r, h->name, &j)) != NULL;)
		fprintf(f, "%s%s", nsrc++ ? "," : "", p->src->address);
	fprintf(f, " -Action Allow -Profile Domain\n");
}

static void
render(struct firewall_doc *d)
{
	const struct scenario *sc = d->sc;
	const struct firewall_opts *o = d->o;
	FILE *f = d->f;
	char id[128], hn[128], ports[16];

	fprintf(f,
	        "# lyncmock %s: Windows Firewall rules for scenario \"%s\".\n"
	        "# Run each host's block in an elevated PowerShell on that host: it allows\n"
	        "# exactly the inbound paths the scenario opens to it. Undo with\n"
	        "# Remove-NetFirewallRule -Group \"lyncmock\".\n",
	        LM_VERSION, firewall_label(sc->name, id, sizeof id));
	for (size_t i = 0; i < sc->nhosts; i++) {
		const struct scenario_host *h = &sc->hosts[i];
		size_t j = 0;

		if (o != NULL && o->only_host != NULL && strcmp(o->only_host, h->name) != 0)
			continue;
		if (firewall_path_next(d, NULL, h->name, &j) == NULL)
			continue;
		fprintf(f, "\n# ---- host %s (%s, %s) ----\n",
		        firewall_label(h->name, hn, sizeof hn),
		        h->role != NULL ? h->role->name : "?", h->address);
		for (size_t k = 0; k < sc->nrules; k++) {
			const struct scenario_rule *r = &sc->rules[k];
			if (!r->expect_blocked) {
				write_rule(d, r, h);
				continue;
			}
			if (scenario_rule_has_dest(r, h))
				fprintf(f,
				        "# %s (expect: blocked, %s/%s from %s): no rule, the "
				        "default inbound block covers it\n",
				        firewall_label(r->id, id, sizeof id),
				        scenario_rule_ports(r, '-', ports, sizeof ports),
				        scenario_rule_l4(r), r->from.text);
		}
	}
}

int
firewall_powershell(const struct scenario *sc, const struct firewall_opts *o, char **out,
                    size_t *outlen, char *err, size_t errlen)
{
	return firewall_doc_render(sc, o, render, out, outlen, err, errlen);
}
