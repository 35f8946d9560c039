/* lyncmock probe: probe every path from one host (or URLs). (Placeholder until its issue lands.) */
#include <stdio.h>

#include "cmd/cmd.h"

static int
cmd_probe_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "lyncmock probe: not implemented yet\n");
	return LM_EXIT_USAGE;
}

const struct cmd_entry cmd_probe_entry = {
	.name = "probe",
	.summary = "probe every path from one host (or URLs)",
	.usage = "usage: lyncmock probe ...\n",
	.exec = cmd_probe_exec,
};
