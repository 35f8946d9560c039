/*
 * Reports: probe results as a terminal table, JSON (versioned schema, also the
 * format `lyncmock report` merges), JUnit XML, Graphviz DOT and one
 * self-contained HTML page. Writers consume
 * struct probe_run and never probe.
 */
#ifndef LM_REPORT_H
#define LM_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "probes/probes.h"

#define REPORT_JSON_SCHEMA "lyncmock-report/2"
/* The previous schema, still read (and merged) by `lyncmock report`. */
#define REPORT_JSON_SCHEMA_V1 "lyncmock-report/1"

enum report_format { REPORT_TABLE, REPORT_JSON, REPORT_JUNIT, REPORT_DOT, REPORT_HTML };
int report_format_from_name(const char *name, enum report_format *fmt);
const char *report_format_name(enum report_format fmt);

/* Renders run in fmt into a malloc'd, NUL-terminated string (*out, *outlen).
 * The table is never coloured here. 0 or -1. */
int report_render(const struct probe_run *run, enum report_format fmt, char **out, size_t *outlen);
/* Writes run to path atomically (temp + rename, mode 0644), or to stdout when
 * path is NULL or "-" (the table coloured when stdout is a terminal and
 * NO_COLOR is unset). 0, or -1 with a message in err. */
int report_write(const struct probe_run *run, enum report_format fmt, const char *path, char *err,
                 size_t errlen);
/* Prints run to f; the table is coloured when f is a terminal and NO_COLOR is
 * unset. 0, or -1 with a message in err. */
int report_print(const struct probe_run *run, enum report_format fmt, FILE *f, char *err,
                 size_t errlen);

/* Reads a JSON report and appends its results to run (merging): run->partial
 * becomes true if the input was partial, source_host becomes NULL once
 * results of two source hosts are merged, started is the earliest, and
 * duration_ms the longest. path "-" reads stdin. On error run is unchanged
 * and err reads "FILE: results[3].outcome: unknown outcome 'x'". 0 or -1. */
int report_read_json(const char *path, struct probe_run *run, char *err, size_t errlen);
/* The same from a buffer; name is used in error messages. */
int report_read_json_buffer(const char *data, size_t len, const char *name, struct probe_run *run,
                            char *err, size_t errlen);

/* Moves src's results to the end of dst and folds src's header in as
 * report_read_json does (src is left without results; free it). 0 or -1
 * (out of memory: both unchanged). */
int report_run_append(struct probe_run *dst, struct probe_run *src);
/*
 * Drops repeated measurements from a merged run, keeping the first of each:
 * two results are one measurement when rule, service, port, source host and
 * address, destination host and address, outcome, the four timings and the
 * identity record received (which carries the probe's random token) are all
 * equal (a report given twice, or a merge merged again with one of its
 * inputs). Returns how many were dropped; *remeasured (when not NULL) counts
 * the paths left with more than one result (the same path measured in
 * different runs: each is kept). Order is kept. (size_t)-1 when out of memory.
 */
size_t report_run_dedup(struct probe_run *run, size_t *remeasured);

/* Per-format renderers behind report_render (color: table only). */
int report_table_render(const struct probe_run *run, bool color, char **out, size_t *outlen);
int report_json_render(const struct probe_run *run, char **out, size_t *outlen);
int report_junit_render(const struct probe_run *run, char **out, size_t *outlen);
int report_dot_render(const struct probe_run *run, char **out, size_t *outlen);
/* The same graph with edge ids "edge-K" linking to "#path-K" (K: the result's
 * index in run), as the HTML report draws it. */
int report_dot_render_linked(const struct probe_run *run, char **out, size_t *outlen);
int report_html_render(const struct probe_run *run, char **out, size_t *outlen);

/* ---- shared by the writers ---------------------------------------------- */
/* "ok" or "fail". */
const char *report_verdict_name(const struct probe_result *r);
/* The sentence telling what to fix: the result's own, else the outcome
 * table's; "" when the verdict is OK. Never NULL. */
const char *report_fix_sentence(const struct probe_result *r);
/* The names DOT nodes and HTML rows give a result's ends: the scenario host,
 * else an address or name, else "local" / "?". Never NULL. */
const char *report_src_name(const struct probe_run *run, const struct probe_result *r);
const char *report_dst_name(const struct probe_result *r);
/* The outcome table (report_outcome.c): is r's outcome an OK verdict for its
 * rule (expect, via: proxy)? foreign_ok: foreign-peer counts as OK. */
bool report_outcome_ok(const struct probe_result *r, bool foreign_ok);
/* The fix sentence for r built from its facts (malloc'd; "" when r->ok). */
char *report_fix_build(const struct probe_result *r);
/* The time shown for a result: the whole probe, else first answer, else
 * connect; < 0 when none is known. */
double report_result_ms(const struct probe_result *r);
/* A malloc'd array of run->n indexes: rule id, then source, then destination
 * host, then port. NULL on allocation failure (or when run->n is 0). */
size_t *report_sorted_index(const struct probe_run *run);

/* A malloc'd copy of s (NULL → "") that is valid UTF-8: bad sequences become
 * U+FFFD; when no_controls, so do C0 controls and DEL (tab and newline too,
 * unless keep_newlines). NULL on allocation failure. */
char *report_clean_text(const char *s, bool no_controls, bool keep_newlines);
/* Writes s as one DOT double-quoted string: quotes and backslashes escaped, a
 * newline becomes the label line break \n, other controls and bad UTF-8 are
 * replaced. The one escaper every DOT string goes through. */
void report_dot_quote(FILE *f, const char *s);

#endif
