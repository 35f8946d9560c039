/* Windows Firewall rules (New-NetFirewallRule) for each destination host's inbound paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/firewall.h"

/* One New-NetFirewallRule for rule r into host h, all its sources in one list. */
static int
write_rule(FILE *f, const struct scenario_rule *r, const struct scenario_host *h,
           const struct firewall_path *paths, size_t npaths)
{
	char id[128];
	size_t nsrc = 0;

	for (size_t j = 0; j < npaths; j++)
		if (paths[j].rule == r && paths[j].dst == h)
			nsrc++;
	if (nsrc == 0)
		return 0;
	fprintf(f, "# %s: %s %u/tcp from %s\n", firewall_label(r->id, id, sizeof id),
	        lm_service_name(r->service), (unsigned)r->port, r->from.text);
	fprintf(f,
	        "New-NetFirewallRule -DisplayName \"lyncmock %s (%u)\" -Group \"lyncmock\" "
	        "-Direction Inbound -Protocol TCP -LocalPort %u -RemoteAddress ",
	        id, (unsigned)r->port, (unsigned)r->port);
	nsrc = 0;
	for (size_t j = 0; j < npaths; j++)
		if (paths[j].rule == r && paths[j].dst == h)
			fprintf(f, "%s%s", nsrc++ ? "," : "", paths[j].src->address);
	fprintf(f, " -Action Allow -Profile Domain\n");
	return 1;
}

int
firewall_powershell(const struct scenario *sc, const struct firewall_opts *o, char **out,
                    size_t *outlen, char *err, size_t errlen)
{
	struct firewall_path *paths = NULL;
	size_t npaths = 0, len = 0;
	char *buf = NULL, id[128], hn[128];
	FILE *f;

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
	        "# lyncmock %s: Windows Firewall rules for scenario \"%s\".\n"
	        "# Run each host's block in an elevated PowerShell on that host: it allows\n"
	        "# exactly the inbound paths the scenario opens to it. Undo with\n"
	        "# Remove-NetFirewallRule -Group \"lyncmock\".\n",
	        LM_VERSION, firewall_label(sc->name, id, sizeof id));
	for (size_t i = 0; i < sc->nhosts; i++) {
		const struct scenario_host *h = &sc->hosts[i];
		size_t n = 0;

		if (o != NULL && o->only_host != NULL && strcmp(o->only_host, h->name) != 0)
			continue;
		for (size_t j = 0; j < npaths; j++)
			if (paths[j].dst == h)
				n++;
		if (n == 0)
			continue;
		fprintf(f, "\n# ---- host %s (%s, %s) ----\n",
		        firewall_label(h->name, hn, sizeof hn),
		        h->role != NULL ? h->role->name : "?", h->address);
		for (size_t k = 0; k < sc->nrules; k++) {
			const struct scenario_rule *r = &sc->rules[k];
			if (!r->expect_blocked) {
				write_rule(f, r, h, paths, npaths);
				continue;
			}
			if (scenario_rule_has_dest(r, h))
				fprintf(f,
				        "# %s (expect: blocked, %u/tcp from %s): no rule, the "
				        "default inbound block covers it\n",
				        firewall_label(r->id, id, sizeof id), (unsigned)r->port,
				        r->from.text);
		}
	}
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
