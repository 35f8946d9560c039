/* struct probe_run: the growable set of results a run or a merge produces. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probes/probes.h"

struct probe_run *
probe_run_new(const char *scenario, const char *source_host)
{
	struct probe_run *run;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	if ((run = calloc(1, sizeof *run)) == NULL)
		return NULL;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((scenario && (run->scenario = strdup(scenario)) == NULL) ||
	    (source_host && (run->source_host = strdup(source_host)) == NULL) ||
	    (run->started = strdup(when)) == NULL)
		goto fail;
	return run;
fail:
	probe_run_free(run);
	return NULL;
}

struct probe_result *
probe_run_add(struct probe_run *run)
{
	struct probe_result *r;

	if (run->n == run->cap) {
		size_t cap = run->cap ? run->cap * 2 : 16;
		struct probe_result *nr = realloc(run->results, cap * sizeof *nr);
		if (nr == NULL)
			return NULL;
		run->results = nr;
		run->cap = cap;
	}
	r = &run->results[run->n++];
	memset(r, 0, sizeof *r);
	r->t_connect_ms = r->t_handshake_ms = r->t_first_ms = r->t_total_ms = -1;
	return r;
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
probe_result_clear(struct probe_result *r)
{
	free(r->rule_id);
	free(r->src_host);
	free(r->src_addr);
	free(r->dst_host);
	free(r->dst_addr);
	free(r->src_role);
	free(r->dst_role);
	free(r->target);
	free(r->detail);
	free(r->fix);
	free(r->peer_seen);
	free(r->firewall_rule);
	free(r->identity);
	free(r->tls.version);
	free(r->tls.cipher);
	free(r->tls.verify_error);
	free_strv(r->tls.ca_names, r->tls.nca_names);
	for (size_t i = 0; i < r->tls.nchain; i++) {
		struct probe_cert *c = &r->tls.chain[i];
		free(c->subject);
		free(c->issuer);
		free(c->not_after);
		free_strv(c->sans, c->nsans);
		free_strv(c->ekus, c->nekus);
	}
	free(r->tls.chain);
	free(r->facts.answered_by);
	free(r->facts.answer);
	free(r->facts.sent);
	free(r->facts.reached_host);
	free(r->facts.reached_name);
	free(r->facts.seen_client_cert);
	free(r->facts.headers);
	free(r->facts.server);
	memset(r, 0, sizeof *r);
}

void
probe_run_free(struct probe_run *run)
{
	if (run == NULL)
		return;
	for (size_t i = 0; i < run->n; i++)
		probe_result_clear(&run->results[i]);
	free(run->results);
	free(run->scenario);
	free(run->source_host);
	free(run->started);
	free(run->note);
	free(run);
}

size_t
probe_run_failures(const struct probe_run *run)
{
	size_t n = 0;
	for (size_t i = 0; i < run->n; i++)
		if (!run->results[i].ok)
			n++;
	return n;
}
