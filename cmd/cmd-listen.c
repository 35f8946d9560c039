/* lyncmock listen: run the fake endpoints of one host. (Placeholder until its issue lands.) */
#include <stdio.h>

#include "cmd/cmd.h"

static int
cmd_listen_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "lyncmock listen: not implemented yet\n");
	return LM_EXIT_USAGE;
}

const struct cmd_entry cmd_listen_entry = {
	.name = "listen",
	.summary = "run the fake endpoints of one host",
	.usage = "usage: lyncmock listen ...\n",
	.exec = cmd_listen_exec,
};
