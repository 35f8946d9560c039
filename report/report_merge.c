/* Merging reports: repeated measurements (a report given twice) are dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

struct keyed {
	char *path; /* rule, service, port, source, destination */
	char *meas; /* outcome, timings, identity: what makes one measurement */
	size_t i;   /* index in the run */
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c == 0)
		c = strcmp(x->meas, y->meas);
	if (c == 0)
		c = x->i < y->i ? -1 : x->i > y->i;
	return c;
}

static const char *
s_or(const char *s)
{
	return s != NULL ? s : "";
}

size_t
report_run_dedup(struct probe_run *run, size_t *remeasured)
{
	struct keyed *k;
	bool *drop;
	size_t dropped = 0, again = 0, w = 0;

	if (remeasured != NULL)
		*remeasured = 0;
	if (run->n < 2)
		return 0;
	k = calloc(run->n, sizeof *k);
	drop = calloc(run->n, sizeof *drop);
	if (k == NULL || drop == NULL)
		goto oom;
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[i];
		/* fields joined by \x1f (unit separator), which names and
		 * addresses never contain */
		if (asprintf(&k[i].path, "%s\x1f%d\x1f%u\x1f%s\x1f%s\x1f%s\x1f%s", s_or(r->rule_id),
		             (int)r->service, (unsigned)r->port, s_or(r->src_host),
		             s_or(r->src_addr), s_or(r->dst_host), s_or(r->dst_addr)) < 0)
			k[i].path = NULL;
		if (asprintf(&k[i].meas, "%d\x1f%.3f\x1f%.3f\x1f%.3f\x1f%.3f\x1f%s",
		             (int)r->outcome, r->t_connect_ms, r->t_handshake_ms, r->t_first_ms,
		             r->t_total_ms, s_or(r->identity)) < 0)
			k[i].meas = NULL;
		if (k[i].path == NULL || k[i].meas == NULL) {
			for (size_t j = 0; j <= i; j++) {
				free(k[j].path);
				free(k[j].meas);
			}
			goto oom;
		}
		k[i].i = i;
	}
	qsort(k, run->n, sizeof *k, keyed_cmp);
	for (size_t a = 0; a < run->n;) {
		size_t b = a + 1, kinds = 1;
		for (; b < run->n && strcmp(k[b].path, k[a].path) == 0; b++) {
			if (strcmp(k[b].meas, k[b - 1].meas) == 0) {
				drop[k[b].i] = true; /* the earlier one (lower index) stays */
				dropped++;
			} else
				kinds++;
		}
		again += kinds > 1;
		a = b;
	}
	for (size_t i = 0; i < run->n; i++) {
		free(k[i].path);
		free(k[i].meas);
	}
	for (size_t i = 0; i < run->n; i++) {
		if (drop[i])
			probe_result_clear(&run->results[i]);
		else
			run->results[w++] = run->results[i];
	}
	run->n = w;
	free(k);
	free(drop);
	if (remeasured != NULL)
		*remeasured = again;
	return dropped;
oom:
	free(k);
	free(drop);
	return (size_t)-1;
}
