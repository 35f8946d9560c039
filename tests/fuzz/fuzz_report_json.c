/* libFuzzer: arbitrary bytes into the JSON report reader; what it accepts, into every writer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	}
	probe_run_free(run);
	return 0;
}
