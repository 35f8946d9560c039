/* lyncmock report: merge probe reports into one matrix. (Placeholder until its issue lands.) */
#include <stdio.h>

#include "cmd/cmd.h"

static int
cmd_report_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "lyncmock report: not implemented yet\n");
	return LM_EXIT_USAGE;
}

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.summary = "merge probe reports into one matrix",
	.usage = "usage: lyncmock report ...\n",
	.exec = cmd_report_exec,
};
