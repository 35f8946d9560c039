/* lyncmock report: merge JSON probe reports from several source hosts into one matrix. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "report/report.h"

static int cmd_report_exec(int argc, char **argv);

/* The scenarios merged so far, "a+b+c". */
static bool
scenario_listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '+');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static int
scenario_list_add(char **list, const char *name)
{
	char *s;

	if (scenario_listed(*list, name))
		return 0;
	if (asprintf(&s, "%s%s%s", *list ? *list : "", *list ? "+" : "", name) < 0)
		return -1;
	free(*list);
	*list = s;
	return 0;
}

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
        "  --allow-mixed     merge reports of different scenarios (refused otherwise);\n"
        "                    the merged report is named after all of them and says so\n"
        "\n"
        "The merged report is partial when any input was. A measurement given twice\n"
        "(the same file twice, or a merge merged again with one of its inputs) counts\n"
        "once: results with the same rule, service, port, source and destination\n"
        "(host and address), outcome, timings and identity record (which carries the\n"
        "probe's random token) are one; stderr says how many were dropped. The same\n"
        "path measured in different runs keeps each result, with a note.\n"
        "Exit status: 0 when every verdict is OK, 1 when any path failed, 2 on bad\n"
        "input, reports of different scenarios, or usage.\n",
    .exec = cmd_report_exec,
};

static int
cmd_report_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"allow-mixed", no_argument, NULL, 'M'},
	    {NULL, 0, NULL, 0},
	};
	enum report_format fmt = REPORT_TABLE;
	const char *output = NULL;
	struct probe_run *run = NULL;
	char err[1024], *first_scenario = NULL, *mixed = NULL;
	const char *first_file = NULL;
	bool allow_mixed = false;
	size_t dropped, remeasured = 0;
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
		case 'M':
			allow_mixed = true;
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
		struct probe_run *one = probe_run_new(NULL, NULL);
		const char *name = strcmp(argv[i], "-") == 0 ? "(stdin)" : argv[i];
		if (one == NULL || report_read_json(argv[i], one, err, sizeof err) == -1) {
			fprintf(stderr, "lyncmock report: %s\n", one ? err : "out of memory");
			probe_run_free(one);
			goto done;
		}
		/* reports of two scenarios are two matrices, not one: refuse unless told */
		if (one->scenario != NULL && first_scenario != NULL &&
		    strcmp(one->scenario, first_scenario) != 0 &&
		    !scenario_listed(mixed, one->scenario)) {
			if (!allow_mixed) {
				fprintf(
				    stderr,
				    "lyncmock report: %s is a report of scenario '%s', but %s is "
				    "of scenario '%s': give --allow-mixed to merge reports of "
				    "different scenarios\n",
				    name, one->scenario, first_file, first_scenario);
				probe_run_free(one);
				goto done;
			}
			if (scenario_list_add(&mixed, one->scenario) == -1) {
				probe_run_free(one);
				fprintf(stderr, "lyncmock report: out of memory\n");
				goto done;
			}
		}
		if (one->scenario != NULL && first_scenario == NULL) {
			first_scenario = strdup(one->scenario);
			first_file = name;
			if (first_scenario == NULL ||
			    scenario_list_add(&mixed, one->scenario) == -1) {
				probe_run_free(one);
				fprintf(stderr, "lyncmock report: out of memory\n");
				goto done;
			}
		}
		if (report_run_append(run, one) == -1) {
			probe_run_free(one);
			fprintf(stderr, "lyncmock report: out of memory\n");
			goto done;
		}
		probe_run_free(one);
	}
	if (mixed != NULL && strchr(mixed, '+') != NULL) {
		/* --allow-mixed: the merge is named after all its scenarios, and says so */
		char *note = NULL;
		fprintf(stderr,
		        "lyncmock report: note: merging reports of scenarios %s (--allow-mixed)\n",
		        mixed);
		free(run->scenario);
		run->scenario = strdup(mixed);
		if (asprintf(&note, "%s%smerged from reports of different scenarios: %s",
		             run->note ? run->note : "", run->note ? "; " : "", mixed) >= 0) {
			free(run->note);
			run->note = note;
		}
		if (run->scenario == NULL) {
			fprintf(stderr, "lyncmock report: out of memory\n");
			goto done;
		}
	}
	dropped = report_run_dedup(run, &remeasured);
	if (dropped == (size_t)-1) {
		fprintf(stderr, "lyncmock report: out of memory\n");
		goto done;
	}
	if (dropped > 0)
		fprintf(stderr,
		        "lyncmock report: note: dropped %zu duplicate result%s (the same "
		        "measurement given more than once)\n",
		        dropped, dropped == 1 ? "" : "s");
	if (remeasured > 0)
		fprintf(stderr,
		        "lyncmock report: note: %zu path%s measured in more than one run; each "
		        "result is kept\n",
		        remeasured, remeasured == 1 ? " was" : "s were");
	if (report_write(run, fmt, output, err, sizeof err) == -1) {
		fprintf(stderr, "lyncmock report: %s\n", err);
		goto done;
	}
	rc = probe_run_failures(run) > 0 ? LM_EXIT_FAIL : LM_EXIT_OK;
done:
	probe_run_free(run);
	free(first_scenario);
	free(mixed);
	return rc;
}
