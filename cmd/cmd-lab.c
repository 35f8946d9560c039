/* lyncmock lab: run the whole matrix in network namespaces. (Placeholder until its issue lands.) */
#include <stdio.h>

#include "cmd/cmd.h"

static int
cmd_lab_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "lyncmock lab: not implemented yet\n");
	return LM_EXIT_USAGE;
}

const struct cmd_entry cmd_lab_entry = {
	.name = "lab",
	.summary = "run the whole matrix in network namespaces",
	.usage = "usage: lyncmock lab ...\n",
	.exec = cmd_lab_exec,
};
