/*
 * Reports: probe results as a terminal table, JSON (versioned schema, also the
 * format `lyncmock report` merges), JUnit XML and Graphviz DOT. Writers consume
 * struct probe_run and never probe.
 */
#ifndef LM_REPORT_H
#define LM_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "probes/probes.h"

#define REPORT_JSON_SCHEMA "lyncmock-report/1"

enum report_format { REPORT_TABLE, REPORT_JSON, REPORT_JUNIT, REPORT_DOT };
int report_format_from_name(const char *name, enum report_format *fmt);

/* Renders run in fmt into a malloc'd string (*out, *outlen). 0 or -1. */
int report_render(const struct probe_run *run, enum report_format fmt, char **out, size_t *outlen);
/* Writes run to path atomically (temp + rename), or to stdout when path is
 * NULL or "-". 0, or -1 with a message in err. */
int report_write(const struct probe_run *run, enum report_format fmt, const char *path, char *err,
    size_t errlen);
/* Reads a JSON report and appends its results to run (merging). */
int report_read_json(const char *path, struct probe_run *run, char *err, size_t errlen);

#endif
