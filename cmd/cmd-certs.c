/* lyncmock certs: make, inspect and check the lab PKI. (Placeholder until its issue lands.) */
#include <stdio.h>

#include "cmd/cmd.h"

static int
cmd_certs_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "lyncmock certs: not implemented yet\n");
	return LM_EXIT_USAGE;
}

const struct cmd_entry cmd_certs_entry = {
	.name = "certs",
	.summary = "make, inspect and check the lab PKI",
	.usage = "usage: lyncmock certs ...\n",
	.exec = cmd_certs_exec,
};
