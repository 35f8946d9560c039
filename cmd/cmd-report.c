/* lyncmock report: merge JSON probe reports from several source hosts into one matrix. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "report/report.h"

static int cmd_report_exec(int argc, char **argv);

const struct cmd_entry cmd_report_entry = {
    .name = "report",
    .summary = "merge probe reports into one matrix",
    .usage =
        "usage: lyncmock report [--format table|json|junit|dot|html] [--output FILE] FILE.json...\n"
        "\n"
        "Reads JSON reports written by `lyncmock probe --format json` (schema\n"
        "lyncmock-report/1, see docs/report-json.md), possibly from several source\n"
        "hosts, and writes them as one matrix. FILE \"-\" reads standard input.\n"
        "\n"
        "  -f, --format F    table (default), json, junit (JUnit XML), dot (Graphviz)\n"
        "                    or html (one self-contained page for a browser)\n"
        "  -o, --output FILE write there atomically instead of standard output\n"
        "\n"
        "The merged report is partial when any input was. Exit status: 0 when every\n"
        "verdict is OK, 1 when any path failed, 2 on bad input or usage.\n",
    .exec = cmd_report_exec,
};

static int
cmd_report_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	enum report_format fmt = REPORT_TABLE;
	const char *output = NULL;
	struct probe_run *run = NULL;
	char err[1024];
	int ch, rc = LM_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (report_format_from_name(optarg, &fmt) == -1)
				return cmd_usage_error(
				    &cmd_report_entry,
				    "unknown format '%s' (table, json, junit, dot or html)",
				    optarg);
			break;
		case 'o':
			output = optarg;
			break;
		default:
			return cmd_getopt_error(&cmd_report_entry, ch, argv, longopts);
		}
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_report_entry, "no report files given");

	if ((run = probe_run_new(NULL, NULL)) == NULL) {
		fprintf(stderr, "lyncmock report: out of memory\n");
		return LM_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		if (report_read_json(argv[i], run, err, sizeof err) == -1) {
			fprintf(stderr, "lyncmock report: %s\n", err);
			goto done;
		}
	}
	if (report_write(run, fmt, output, err, sizeof err) == -1) {
		fprintf(stderr, "lyncmock report: %s\n", err);
		goto done;
	}
	rc = probe_run_failures(run) > 0 ? LM_EXIT_FAIL : LM_EXIT_OK;
done:
	probe_run_free(run);
	return rc;
}
