/* lyncmock firewall: print firewall rules that open the scenario's paths. (Placeholder until its issue lands.) */
#include <stdio.h>

#include "cmd/cmd.h"

static int
cmd_firewall_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "lyncmock firewall: not implemented yet\n");
	return LM_EXIT_USAGE;
}

const struct cmd_entry cmd_firewall_entry = {
	.name = "firewall",
	.summary = "print firewall rules that open the scenario's paths",
	.usage = "usage: lyncmock firewall ...\n",
	.exec = cmd_firewall_exec,
};
