/* Graphviz DOT: hosts as nodes grouped by role, one edge per result coloured by verdict. */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define COLOR_OK "#2e7d32"
#define COLOR_FAIL "#c62828"
#define COLOR_BLOCKED "#9e9e9e"

struct host {
	const char *name; /* node id and first label line */
	const char *role; /* NULL: outside every cluster */
	const char *addr;
};

struct hosts {
	struct host *v;
	size_t n;
};

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Records a host once; a later result may fill in a role or address an earlier one lacked. */
static void
host_add(struct hosts *h, const char *name, const char *role, const char *addr)
{
	size_t i;

	for (i = 0; i < h->n && strcmp(h->v[i].name, name) != 0; i++)
		;
	if (i == h->n) {
		h->v[i].name = name;
		h->v[i].role = NULL;
		h->v[i].addr = NULL;
		h->n++;
	}
	if (h->v[i].role == NULL)
		h->v[i].role = nonempty(role);
	if (h->v[i].addr == NULL)
		h->v[i].addr = nonempty(addr);
}

static int
cmp_host(const void *pa, const void *pb)
{
	const struct host *a = pa, *b = pb;
	return strcmp(a->name, b->name);
}

static int
put_node(FILE *f, const struct host *h, const char *indent)
{
	char *label = NULL;
	size_t len = 0;
	FILE *m;

	if ((m = open_memstream(&label, &len)) == NULL)
		return -1;
	fputs(h->name, m);
	if (h->role != NULL)
		fprintf(m, "\n%s", h->role);
	if (h->addr != NULL && strcmp(h->addr, h->name) != 0)
		fprintf(m, "\n%s", h->addr);
	if (fclose(m) == EOF) {
		free(label);
		return -1;
	}
	fputs(indent, f);
	report_dot_quote(f, h->name);
	fputs(" [label=", f);
	report_dot_quote(f, label);
	fputs("];\n", f);
	free(label);
	return 0;
}

/* links: the edge's SVG id is "edge-K" and it links to "#path-K", K the
 * result's index in run (the HTML report's row ids). */
static int
put_edge(FILE *f, const struct probe_run *run, const struct probe_result *r, bool links)
{
	char *label = NULL, *tip = NULL;
	size_t llen = 0, tlen = 0;
	FILE *m = NULL, *t = NULL;
	const char *color, *style, *width = "1.4";
	int rc = -1;

	if ((m = open_memstream(&label, &llen)) == NULL ||
	    (t = open_memstream(&tip, &tlen)) == NULL)
		goto fail;
	fprintf(m, "%s\n%s/%u", r->rule_id ? r->rule_id : "adhoc", lm_service_name(r->service),
	        (unsigned)r->port);
	/* a failing edge says why on the drawing itself; passing ones stay short */
	if (!r->ok)
		fprintf(m, "\n%s", lm_outcome_name(r->outcome));
	fputs(lm_outcome_name(r->outcome), t);
	if (r->detail != NULL && r->detail[0] != '\0')
		fprintf(t, ": %s", r->detail);
	if (fclose(m) == EOF) {
		m = NULL;
		goto fail;
	}
	m = NULL;
	if (fclose(t) == EOF) {
		t = NULL;
		goto fail;
	}
	t = NULL;

	if (r->ok && r->expect_blocked) {
		color = COLOR_BLOCKED;
		style = "dashed";
	} else if (r->ok) {
		color = COLOR_OK;
		style = "solid";
	} else {
		color = COLOR_FAIL;
		style = "solid";
		width = "2.4"; /* failures are what the reader looks for */
	}
	fputs("\t", f);
	report_dot_quote(f, report_src_name(run, r));
	fputs(" -> ", f);
	report_dot_quote(f, report_dst_name(r));
	fputs(" [label=", f);
	report_dot_quote(f, label);
	fprintf(f, ", color=\"%s\", fontcolor=\"%s\", style=%s, penwidth=%s, tooltip=", color,
	        color, style, width);
	report_dot_quote(f, tip);
	if (links) {
		size_t k = (size_t)(r - run->results);
		fprintf(f, ", id=\"edge-%zu\", URL=\"#path-%zu\"", k, k);
	}
	fputs("];\n", f);
	rc = 0;
fail:
	if (m != NULL)
		fclose(m);
	if (t != NULL)
		fclose(t);
	free(label);
	free(tip);
	return rc;
}

static int
dot_body(FILE *f, const struct probe_run *run, bool links)
{
	struct hosts h = {NULL, 0};
	size_t *idx = NULL, failed = probe_run_failures(run);
	char title[512];
	int rc = -1;

	if (run->n > 0 && ((idx = report_sorted_index(run)) == NULL ||
	                   (h.v = calloc(run->n * 2, sizeof *h.v)) == NULL))
		goto fail;
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[idx[i]];
		host_add(&h, report_src_name(run, r), r->src_role, r->src_addr);
		host_add(&h, report_dst_name(r), r->dst_role, r->dst_addr);
	}
	if (h.n > 1)
		qsort(h.v, h.n, sizeof *h.v, cmp_host);

	lm_fmt(title, sizeof title, "lyncmock: %s%s%s\n%zu paths: %zu ok, %zu failed%s",
	       run->scenario ? run->scenario : "ad-hoc probes", run->source_host ? " from " : "",
	       run->source_host ? run->source_host : "", run->n, run->n - failed, failed,
	       run->partial ? " (partial run)" : "");
	fputs("digraph lyncmock {\n\tgraph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", "
	      "fontsize=16, nodesep=0.5, ranksep=2.2, label=",
	      f);
	report_dot_quote(f, title);
	fputs("];\n"
	      "\tnode [shape=box, style=\"rounded,filled\", fillcolor=\"#f5f5f5\", "
	      "fontname=\"Helvetica\", fontsize=12];\n"
	      "\tedge [fontname=\"Helvetica\", fontsize=10, penwidth=1.4];\n",
	      f);

	/* one cluster per role, in name order (hosts are sorted, so roles are found in order) */
	for (size_t i = 0; i < h.n; i++) {
		const char *role = h.v[i].role;
		bool seen = false;
		if (role == NULL)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = h.v[j].role != NULL && strcmp(h.v[j].role, role) == 0;
		if (seen)
			continue;
		{
			char *cid = NULL;
			size_t clen = 0;
			FILE *m = open_memstream(&cid, &clen);
			if (m == NULL)
				goto fail;
			fprintf(m, "cluster_%s", role);
			if (fclose(m) == EOF) {
				free(cid);
				goto fail;
			}
			fputs("\tsubgraph ", f);
			report_dot_quote(f, cid);
			free(cid);
		}
		fputs(" {\n\t\tlabel=", f);
		report_dot_quote(f, role);
		fputs(
		    ";\n\t\tstyle=\"rounded,dashed\"; color=\"#90a4ae\"; fontcolor=\"#546e7a\";\n",
		    f);
		for (size_t j = i; j < h.n; j++)
			if (h.v[j].role != NULL && strcmp(h.v[j].role, role) == 0 &&
			    put_node(f, &h.v[j], "\t\t") == -1)
				goto fail;
		fputs("\t}\n", f);
	}
	for (size_t i = 0; i < h.n; i++)
		if (h.v[i].role == NULL && put_node(f, &h.v[i], "\t") == -1)
			goto fail;
	for (size_t i = 0; i < run->n; i++)
		if (put_edge(f, run, &run->results[idx[i]], links) == -1)
			goto fail;
	fputs("}\n", f);
	rc = 0;
fail:
	free(h.v);
	free(idx);
	return rc;
}

static int
dot_render(const struct probe_run *run, bool links, char **out, size_t *outlen)
{
	FILE *f;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((f = open_memstream(out, outlen)) == NULL)
		return -1;
	rc = dot_body(f, run, links);
	if (fclose(f) == EOF)
		rc = -1;
	if (rc == -1) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return rc;
}

int
report_dot_render(const struct probe_run *run, char **out, size_t *outlen)
{
	return dot_render(run, false, out, outlen);
}

int
report_dot_render_linked(const struct probe_run *run, char **out, size_t *outlen)
{
	return dot_render(run, true, out, outlen);
}
