/* The subcommand table: one `const struct cmd_entry` per cmd-*.c file (tmux style). */
#ifndef LM_CMD_H
#define LM_CMD_H

#include <getopt.h>
#include <stdbool.h>

#include "common/lm.h"

struct cmd_entry {
	const char *name;    /* "listen" */
	const char *summary; /* one line for `lyncmock --help` */
	const char *usage;   /* full --help text of the subcommand */
	/* argv[0] is the subcommand name; returns an LM_EXIT_* code */
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_scenario_entry;
extern const struct cmd_entry cmd_certs_entry;
extern const struct cmd_entry cmd_listen_entry;
extern const struct cmd_entry cmd_probe_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_lab_entry;
extern const struct cmd_entry cmd_firewall_entry;

/* Runs one command line (argv[0] "lyncmock", argv[1] the command) as main()
 * does: the lab calls it in forked children instead of exec'ing itself again. */
int cmd_dispatch(int argc, char **argv);
/* True when argv has -h or --help before any "--": the caller prints usage. */
int cmd_wants_help(int argc, char **argv);
/* Prints "lyncmock CMD: message" and the usage hint; returns LM_EXIT_USAGE. */
int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Every subcommand reads its options with getopt_long, opterr = 0 and an
 * optstring starting with ':'. When that returned c (':' a missing value, '?'
 * an unknown, ambiguous or value-taking-no-value option), this prints the one
 * message for it ("lyncmock probe: option '--timeout' needs a value", "...:
 * unknown option '--bogus'") with the --help hint; returns LM_EXIT_USAGE. */
int cmd_getopt_error(const struct cmd_entry *e, int c, char **argv, const struct option *longopts);
/* After the option loop: LM_EXIT_OK when no operand is left, else the usage
 * error for the first one. */
int cmd_no_operands(const struct cmd_entry *e, int argc, char **argv);
/* Before a long run: can a report be written to path (a new file in its
 * directory, not a directory itself)? "-" and NULL are stdout. 0, or -1 with
 * the reason in err. */
int cmd_output_writable(const char *path, char *err, size_t errlen);

#endif
