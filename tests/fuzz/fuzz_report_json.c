/* libFuzzer: arbitrary bytes into the JSON report reader (schema 1 and 2, the
 * facts of v2 included); what it accepts, into every writer, and merged as
 * `lyncmock report` merges: after an old (schema 1) report, given twice,
 * deduplicated, rendered again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An old (schema 1) report to merge the input with. */
static const char v1[] =
    "{\"schema\":\"lyncmock-report/1\",\"scenario\":\"single-director\",\"source_host\":"
    "\"rp01\",\"results\":[{\"rule\":\"rp-dir-http\",\"service\":\"http\",\"port\":8080,"
    "\"from\":{\"host\":\"rp01\",\"address\":\"198.18.0.10\",\"role\":\"reverse-proxy\"},"
    "\"to\":{\"host\":\"dir01\",\"address\":\"198.18.1.10\",\"role\":\"director\","
    "\"target\":\"dirpool.contoso.local\"},\"expect\":\"open\",\"outcome\":\"refused\","
    "\"verdict\":\"fail\",\"detail\":\"connect: Connection refused\",\"fix\":\"\","
    "\"timings\":{\"connect_ms\":null,\"handshake_ms\":null,\"first_answer_ms\":null}}]}";

/* The input merged after v1, twice over (a report given twice): must dedup and render. */
static void
merge(const uint8_t *data, size_t size, size_t n)
{
	struct probe_run *m = probe_run_new(NULL, NULL);
	char err[512], *out;
	size_t len, rem = 0, base;

	if (m == NULL)
		return;
	if (report_read_json_buffer(v1, sizeof v1 - 1, "v1.json", m, err, sizeof err) != 0)
		abort();
	base = m->n;
	for (int i = 0; i < 2; i++)
		if (report_read_json_buffer((const char *)data, size, "fuzz.json", m, err,
		                            sizeof err) != 0)
			abort(); /* it was accepted alone */
	if (m->n != base + 2 * n || report_run_dedup(m, &rem) == (size_t)-1 || m->n < base ||
	    m->n > base + n)
		abort();
	for (int f = REPORT_TABLE; f <= REPORT_DOT; f++) {
		if (report_render(m, (enum report_format)f, &out, &len) != 0)
			abort();
		free(out);
	}
	probe_run_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_run *run = probe_run_new(NULL, NULL);
	char err[512], *out;
	size_t len;

	if (run == NULL)
		return 0;
	if (report_read_json_buffer((const char *)data, size, "fuzz.json", run, err, sizeof err) ==
	    0) {
		/* accepted input must render in every format, and its JSON must read back */
		for (int f = REPORT_TABLE; f <= REPORT_DOT; f++) {
			if (report_render(run, (enum report_format)f, &out, &len) != 0)
				abort();
			if (f == REPORT_JSON) {
				struct probe_run *back = probe_run_new(NULL, NULL);
				if (back == NULL)
					abort();
				if (report_read_json_buffer(out, len, "render", back, err,
				                            sizeof err) != 0 ||
				    back->n != run->n)
					abort();
				probe_run_free(back);
			}
			free(out);
		}
		merge(data, size, run->n);
	}
	probe_run_free(run);
	return 0;
}
