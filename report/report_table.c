/* The terminal table: one row per path, the fix sentence under each failing row, a summary line. */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define COL_MAX 40 /* a hostile or very long name is cut, not allowed to wreck the layout */

enum col { C_RULE, C_FROM, C_TO, C_SERVICE, C_PORT, C_EXPECT, C_OUTCOME, C_VERDICT, C_TIME, C__N };

static const char *const col_names[C__N] = {
    "RULE", "FROM", "TO", "SERVICE", "PORT", "EXPECT", "OUTCOME", "VERDICT", "TIME",
};

#define SGR_BOLD "\033[1m"
#define SGR_RED "\033[1;31m"
#define SGR_GREEN "\033[32m"
#define SGR_YELLOW "\033[33m"
#define SGR_DIM "\033[2m"
#define SGR_OFF "\033[0m"

/* Display width of clean UTF-8 text: code points (good enough for names and addresses). */
static size_t
text_width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p & 0xc0) != 0x80)
			w++;
	return w;
}

/* Cuts clean UTF-8 s in place to at most max code points, ending in "…" when cut. */
static void
text_cut(char *s, size_t max)
{
	size_t w = 0;
	unsigned char *p;

	if (text_width(s) <= max)
		return;
	for (p = (unsigned char *)s; *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80 && ++w == max)
			break;
	}
	/* p is the start of the max-th code point: room for 3 bytes of "…" is ours since
	 * the string had more code points after it */
	if (strlen((char *)p) >= 3)
		memcpy(p, "\xe2\x80\xa6", 4);
	else
		*p = '\0';
}

static const char *
or_dash(const char *a, const char *b, const char *c)
{
	if (a != NULL && a[0] != '\0')
		return a;
	if (b != NULL && b[0] != '\0')
		return b;
	if (c != NULL && c[0] != '\0')
		return c;
	return "-";
}

struct row {
	char *cell[C__N];
};

static void
rows_free(struct row *rows, size_t n)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < C__N; c++)
			free(rows[i].cell[c]);
	free(rows);
}

static int
row_fill(struct row *row, const struct probe_result *r)
{
	char port[8], ms[32];
	double t = report_result_ms(r);
	const char *raw[C__N];

	lm_fmt(port, sizeof port, "%u", (unsigned)r->port);
	if (t >= 0)
		lm_fmt(ms, sizeof ms, "%.0f ms", t);
	else
		lm_fmt(ms, sizeof ms, "-");
	raw[C_RULE] = or_dash(r->rule_id, NULL, NULL);
	raw[C_FROM] = or_dash(r->src_host, r->src_addr, NULL);
	raw[C_TO] = or_dash(r->dst_host, r->target, r->dst_addr);
	raw[C_SERVICE] = lm_service_name(r->service);
	raw[C_PORT] = port;
	raw[C_EXPECT] = r->expect_blocked ? "blocked" : "open";
	raw[C_OUTCOME] = lm_outcome_name(r->outcome);
	raw[C_VERDICT] = r->ok ? "OK" : "FAIL";
	raw[C_TIME] = ms;
	for (int c = 0; c < C__N; c++) {
		if ((row->cell[c] = report_clean_text(raw[c], true, false)) == NULL)
			return -1;
		text_cut(row->cell[c], COL_MAX);
	}
	return 0;
}

static void
put_cell(FILE *f, const char *s, size_t width, bool right, bool last, const char *sgr)
{
	size_t pad = width - text_width(s);

	if (right)
		fprintf(f, "%*s", (int)pad, "");
	fprintf(f, "%s%s%s", sgr != NULL ? sgr : "", s, sgr != NULL ? SGR_OFF : "");
	if (!right && !last)
		fprintf(f, "%*s", (int)pad, "");
	if (!last)
		fputs("  ", f);
}

/* A line under a failing row; text is cleaned so a peer's bytes cannot drive the terminal. */
static int
put_note(FILE *f, const char *label, const char *text, const char *sgr, bool color)
{
	char *clean = report_clean_text(text, true, false);

	if (clean == NULL)
		return -1;
	fprintf(f, "    %s%s: %s%s\n", color ? sgr : "", label, clean, color ? SGR_OFF : "");
	free(clean);
	return 0;
}

static int
table_body(FILE *f, const struct probe_run *run, bool color)
{
	struct row *rows = NULL;
	size_t *idx = NULL, width[C__N], failed;
	char *hdr = NULL;
	int rc = -1;

	if (run->n > 0 && ((rows = calloc(run->n, sizeof *rows)) == NULL ||
	                   (idx = report_sorted_index(run)) == NULL))
		goto fail;
	for (int c = 0; c < C__N; c++)
		width[c] = strlen(col_names[c]);
	for (size_t i = 0; i < run->n; i++) {
		if (row_fill(&rows[i], &run->results[idx[i]]) == -1)
			goto fail;
		for (int c = 0; c < C__N; c++) {
			size_t w = text_width(rows[i].cell[c]);
			if (w > width[c])
				width[c] = w;
		}
	}

	if (run->scenario != NULL || run->source_host != NULL) {
		char line[512];
		lm_fmt(line, sizeof line, "scenario %s, source %s, started %s, %.0f ms",
		       or_dash(run->scenario, NULL, NULL),
		       or_dash(run->source_host, NULL, "merged"), or_dash(run->started, NULL, NULL),
		       run->duration_ms);
		if ((hdr = report_clean_text(line, true, false)) == NULL)
			goto fail;
		fprintf(f, "%s%s%s\n", color ? SGR_DIM : "", hdr, color ? SGR_OFF : "");
	}
	if (run->note != NULL && put_note(f, "note", run->note, SGR_YELLOW, color) == -1)
		goto fail;
	fputs(color ? SGR_BOLD : "", f);
	for (int c = 0; c < C__N; c++)
		put_cell(f, col_names[c], width[c], c == C_PORT || c == C_TIME, c == C__N - 1,
		         NULL);
	fprintf(f, "%s\n", color ? SGR_OFF : "");

	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[idx[i]];
		for (int c = 0; c < C__N; c++) {
			const char *sgr = NULL;
			if (color && c == C_VERDICT)
				sgr = r->ok ? SGR_GREEN : SGR_RED;
			put_cell(f, rows[i].cell[c], width[c], c == C_PORT || c == C_TIME,
			         c == C__N - 1, sgr);
		}
		fputc('\n', f);
		if (r->ok)
			continue;
		if (put_note(f, "fix", report_fix_sentence(r), SGR_YELLOW, color) == -1)
			goto fail;
		if (r->detail != NULL && r->detail[0] != '\0' &&
		    put_note(f, "why", r->detail, SGR_DIM, color) == -1)
			goto fail;
		if (r->firewall_rule != NULL && r->firewall_rule[0] != '\0' &&
		    put_note(f, "rule", r->firewall_rule, SGR_DIM, color) == -1)
			goto fail;
	}

	failed = probe_run_failures(run);
	fprintf(f, "%s%zu path%s: %zu ok, %zu failed%s%s\n", color ? SGR_BOLD : "", run->n,
	        run->n == 1 ? "" : "s", run->n - failed, failed,
	        run->partial ? " (partial run)" : "", color ? SGR_OFF : "");
	rc = 0;
fail:
	free(hdr);
	free(idx);
	rows_free(rows, run->n);
	return rc;
}

int
report_table_render(const struct probe_run *run, bool color, char **out, size_t *outlen)
{
	FILE *f;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((f = open_memstream(out, outlen)) == NULL)
		return -1;
	rc = table_body(f, run, color);
	if (fclose(f) == EOF)
		rc = -1;
	if (rc == -1) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return rc;
}
