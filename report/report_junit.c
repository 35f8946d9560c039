/* JUnit XML via libxml2's xmlTextWriter: a testsuite per source host, a testcase per path. */
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "report/report.h"

/* The name a result's source goes by: scenario host, else its address, else the run's. */
static const char *
source_name(const struct probe_run *run, const struct probe_result *r)
{
	if (r->src_host != NULL && r->src_host[0] != '\0')
		return r->src_host;
	if (r->src_addr != NULL && r->src_addr[0] != '\0')
		return r->src_addr;
	if (run->source_host != NULL && run->source_host[0] != '\0')
		return run->source_host;
	return "local";
}

static const char *
dest_name(const struct probe_result *r)
{
	if (r->dst_host != NULL && r->dst_host[0] != '\0')
		return r->dst_host;
	if (r->target != NULL && r->target[0] != '\0')
		return r->target;
	return r->dst_addr != NULL ? r->dst_addr : "?";
}

static double
result_secs(const struct probe_result *r)
{
	double ms = report_result_ms(r);
	return ms >= 0 ? ms / 1000.0 : 0;
}

/* Every string goes through here: a peer's bytes may not be valid XML characters. */
static int
w_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	char *clean = report_clean_text(value, true, true);
	int rc;

	if (clean == NULL)
		return -1;
	rc = xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST clean);
	free(clean);
	return rc < 0 ? -1 : 0;
}

static int
w_attrf(xmlTextWriterPtr w, const char *name, const char *fmt, double v)
{
	char buf[64];
	return w_attr(w, name, lm_fmt(buf, sizeof buf, fmt, v));
}

static int
w_count(xmlTextWriterPtr w, const char *name, size_t v)
{
	char buf[32];
	return w_attr(w, name, lm_fmt(buf, sizeof buf, "%zu", v));
}

static int
w_text(xmlTextWriterPtr w, const char *text)
{
	char *clean = report_clean_text(text, true, true);
	int rc;

	if (clean == NULL)
		return -1;
	rc = xmlTextWriterWriteString(w, BAD_CAST clean);
	free(clean);
	return rc < 0 ? -1 : 0;
}

static int
w_property(xmlTextWriterPtr w, const char *name, const char *value)
{
	if (xmlTextWriterStartElement(w, BAD_CAST "property") < 0 ||
	    w_attr(w, "name", name) == -1 || w_attr(w, "value", value != NULL ? value : "") == -1 ||
	    xmlTextWriterEndElement(w) < 0)
		return -1;
	return 0;
}

/* The failure body: what a CI reader needs to act without opening the JSON. */
static int
w_failure(xmlTextWriterPtr w, const struct probe_result *r)
{
	const struct lm_outcome_info *oi = lm_outcome_info(r->outcome);
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int rc = -1;

	if ((f = open_memstream(&body, &len)) == NULL)
		return -1;
	fprintf(f, "outcome: %s (%s)\n", lm_outcome_name(r->outcome), oi ? oi->meaning : "?");
	fprintf(f, "expect: %s\n", r->expect_blocked ? "blocked" : "open");
	if (r->detail != NULL && r->detail[0] != '\0')
		fprintf(f, "detail: %s\n", r->detail);
	fprintf(f, "path: %s (%s) -> %s (%s) %s/%u\n", r->src_host ? r->src_host : "-",
	        r->src_addr ? r->src_addr : "-", dest_name(r), r->dst_addr ? r->dst_addr : "-",
	        lm_service_name(r->service), (unsigned)r->port);
	if (r->tls.verify_error != NULL)
		fprintf(f, "verify: %s\n", r->tls.verify_error);
	if (r->peer_seen != NULL)
		fprintf(f, "peer seen by the listener: %s\n", r->peer_seen);
	if (fclose(f) == EOF)
		goto fail;
	if (xmlTextWriterStartElement(w, BAD_CAST "failure") < 0 ||
	    w_attr(w, "message", report_fix_sentence(r)) == -1 ||
	    w_attr(w, "type", lm_outcome_name(r->outcome)) == -1 || w_text(w, body) == -1 ||
	    xmlTextWriterEndElement(w) < 0)
		goto fail;
	rc = 0;
fail:
	free(body);
	return rc;
}

static int
w_testcase(xmlTextWriterPtr w, const struct probe_run *run, const struct probe_result *r)
{
	char name[1024], cls[512];
	const char *src = source_name(run, r);

	lm_fmt(cls, sizeof cls, "lyncmock.%s", src);
	lm_fmt(name, sizeof name, "%s %s->%s:%u", r->rule_id ? r->rule_id : "adhoc", src,
	       dest_name(r), (unsigned)r->port);
	if (xmlTextWriterStartElement(w, BAD_CAST "testcase") < 0 || w_attr(w, "classname", cls) ||
	    w_attr(w, "name", name) == -1 || w_attrf(w, "time", "%.3f", result_secs(r)) == -1)
		return -1;
	if (!r->ok && w_failure(w, r) == -1)
		return -1;
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
w_suite(xmlTextWriterPtr w, const struct probe_run *run, const size_t *idx, const char *src)
{
	size_t tests = 0, failures = 0;
	double secs = 0;

	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[i];
		if (strcmp(source_name(run, r), src) != 0)
			continue;
		tests++;
		failures += !r->ok;
		secs += result_secs(r);
	}
	if (xmlTextWriterStartElement(w, BAD_CAST "testsuite") < 0 || w_attr(w, "name", src) ||
	    w_count(w, "tests", tests) || w_count(w, "failures", failures) ||
	    w_count(w, "errors", 0) || w_count(w, "skipped", 0) ||
	    w_attrf(w, "time", "%.3f", secs) || w_attr(w, "hostname", src) ||
	    (run->started != NULL && w_attr(w, "timestamp", run->started)))
		return -1;
	if (xmlTextWriterStartElement(w, BAD_CAST "properties") < 0 ||
	    w_property(w, "scenario", run->scenario) || w_property(w, "source_host", src) ||
	    w_property(w, "partial", run->partial ? "true" : "false") ||
	    w_property(w, "schema", REPORT_JSON_SCHEMA) ||
	    w_property(w, "lyncmock.version", LM_VERSION) ||
	    (run->note != NULL && w_property(w, "note", run->note)) ||
	    xmlTextWriterEndElement(w) < 0)
		return -1;
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[idx[i]];
		if (strcmp(source_name(run, r), src) == 0 && w_testcase(w, run, r) == -1)
			return -1;
	}
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

static int
w_document(xmlTextWriterPtr w, const struct probe_run *run)
{
	const char **srcs = NULL;
	size_t *idx = NULL, nsrcs = 0, failed = probe_run_failures(run);
	double secs = 0;
	int rc = -1;

	if (run->n > 0 && ((idx = report_sorted_index(run)) == NULL ||
	                   (srcs = calloc(run->n, sizeof *srcs)) == NULL))
		goto fail;
	for (size_t i = 0; i < run->n; i++) {
		const char *s = source_name(run, &run->results[i]);
		size_t j;
		secs += result_secs(&run->results[i]);
		for (j = 0; j < nsrcs && strcmp(srcs[j], s) != 0; j++)
			;
		if (j == nsrcs)
			srcs[nsrcs++] = s;
	}
	if (nsrcs > 1)
		qsort(srcs, nsrcs, sizeof *srcs, cmp_str);

	if (xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "testsuites") < 0 ||
	    w_attr(w, "name", run->scenario ? run->scenario : "lyncmock") ||
	    w_count(w, "tests", run->n) || w_count(w, "failures", failed) ||
	    w_count(w, "errors", 0) || w_attrf(w, "time", "%.3f", secs))
		goto fail;
	for (size_t i = 0; i < nsrcs; i++)
		if (w_suite(w, run, idx, srcs[i]) == -1)
			goto fail;
	if (xmlTextWriterEndElement(w) < 0 || xmlTextWriterEndDocument(w) < 0)
		goto fail;
	rc = 0;
fail:
	free(srcs);
	free(idx);
	return rc;
}

int
report_junit_render(const struct probe_run *run, char **out, size_t *outlen)
{
	xmlBufferPtr buf = NULL;
	xmlTextWriterPtr w = NULL;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if ((buf = xmlBufferCreate()) == NULL || (w = xmlNewTextWriterMemory(buf, 0)) == NULL)
		goto fail;
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "  ");
	if (w_document(w, run) == -1)
		goto fail;
	xmlFreeTextWriter(w); /* flushes into buf */
	w = NULL;
	*outlen = (size_t)xmlBufferLength(buf);
	if ((*out = malloc(*outlen + 1)) == NULL) {
		*outlen = 0;
		goto fail;
	}
	memcpy(*out, xmlBufferContent(buf), *outlen);
	(*out)[*outlen] = '\0';
	rc = 0;
fail:
	if (w != NULL)
		xmlFreeTextWriter(w);
	if (buf != NULL)
		xmlBufferFree(buf);
	return rc;
}
