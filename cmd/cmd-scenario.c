/* lyncmock scenario: check and show scenarios. (Placeholder until its issue lands.) */
#include <stdio.h>

#include "cmd/cmd.h"

static int
cmd_scenario_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "lyncmock scenario: not implemented yet\n");
	return LM_EXIT_USAGE;
}

const struct cmd_entry cmd_scenario_entry = {
	.name = "scenario",
	.summary = "check and show scenarios",
	.usage = "usage: lyncmock scenario ...\n",
	.exec = cmd_scenario_exec,
};
