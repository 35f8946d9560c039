/* lyncmock's entry point: finds the subcommand in the table and runs it. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <osipparser2/osip_parser.h>

#include "cmd/cmd.h"

static const struct cmd_entry *const cmd_table[] = {
    &cmd_lab_entry,   &cmd_listen_entry,   &cmd_probe_entry,    &cmd_report_entry,
    &cmd_certs_entry, &cmd_scenario_entry, &cmd_firewall_entry, NULL,
};

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: lyncmock [--version] [--help] COMMAND [ARGS]\n\n"
	        "Prove a Lync Server 2013 firewall design before any Lync server is installed.\n\n"
	        "commands:\n");
	for (const struct cmd_entry *const *e = cmd_table; *e != NULL; e++)
		fprintf(f, "  %-10s %s\n", (*e)->name, (*e)->summary);
	fprintf(f, "\n`lyncmock COMMAND --help` describes a command.\n");
}

int
cmd_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int
cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "lyncmock %s: ", e->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see `lyncmock %s --help`)\n", e->name);
	return LM_EXIT_USAGE;
}

/* The long option that text ("--time", "--debug-tls=1") names: the exact one,
 * else the only one it abbreviates; *nmatch counts the candidates. */
static const struct option *
long_match(const struct option *longopts, const char *text, size_t len, int *nmatch)
{
	const struct option *found = NULL;

	*nmatch = 0;
	for (const struct option *o = longopts; o != NULL && o->name != NULL; o++) {
		if (strncmp(o->name, text, len) != 0)
			continue;
		if (strlen(o->name) == len) {
			*nmatch = 1;
			return o;
		}
		found = o;
		(*nmatch)++;
	}
	return *nmatch == 1 ? found : NULL;
}

int
cmd_getopt_error(const struct cmd_entry *e, int c, char **argv, const struct option *longopts)
{
	/* getopt_long (optstring starting with ':', opterr 0) has stepped past the
	 * bad option unless it was a short one inside a cluster: optopt names that */
	const char *text = optind > 0 ? argv[optind - 1] : "";
	bool is_long =
	    strncmp(text, "--", 2) == 0 && (optopt == 0 || strchr(text, '=') || c == ':');
	const struct option *o;
	size_t len;
	int n;

	if (!is_long) {
		if (c == ':')
			return cmd_usage_error(e, "option '-%c' needs a value", optopt);
		return cmd_usage_error(e, "unknown option '-%c'", optopt);
	}
	text += 2;
	len = strcspn(text, "=");
	o = long_match(longopts, text, len, &n);
	if (c == ':')
		return cmd_usage_error(e, "option '--%s' needs a value",
		                       o != NULL ? o->name : text);
	if (o != NULL && text[len] == '=' && o->has_arg == no_argument)
		return cmd_usage_error(e, "option '--%s' takes no value", o->name);
	if (n > 1)
		return cmd_usage_error(e, "option '--%.*s' is ambiguous", (int)len, text);
	return cmd_usage_error(e, "unknown option '--%.*s'", (int)len, text);
}

int
cmd_no_operands(const struct cmd_entry *e, int argc, char **argv)
{
	if (optind < argc)
		return cmd_usage_error(e, "unexpected argument '%s'", argv[optind]);
	return LM_EXIT_OK;
}

int
cmd_dispatch(int argc, char **argv)
{
	/* a peer that closes while we write must cost an EPIPE, never the run and
	 * its report; the lab's children run this too */
	signal(SIGPIPE, SIG_IGN);
	optind = 0; /* a forked child's getopt starts afresh */
	if (argc < 2) {
		usage(stderr);
		return LM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("lyncmock %s (%s)\n", LM_VERSION, OpenSSL_version(OPENSSL_VERSION));
		return LM_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return LM_EXIT_OK;
	}
	for (const struct cmd_entry *const *e = cmd_table; *e != NULL; e++) {
		if (strcmp(argv[1], (*e)->name) != 0)
			continue;
		if (cmd_wants_help(argc - 1, argv + 1)) {
			fputs((*e)->usage, stdout);
			return LM_EXIT_OK;
		}
		parser_init(); /* libosip2: once, before any SIP parsing */
		return (*e)->exec(argc - 1, argv + 1);
	}
	fprintf(stderr, "lyncmock: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return LM_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	return cmd_dispatch(argc, argv);
}

/* Fails early when FILE's directory cannot take a new file (the report is
 * written atomically there after probing: find out before). */
int
cmd_output_writable(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX], tmpl[PATH_MAX + 32];
	struct stat st;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot write the report %s: it is a directory", path);
		return -1;
	}
	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	snprintf(tmpl, sizeof tmpl, "%s/.lyncmock-probe.XXXXXX", dirname(dir));
	if ((fd = mkstemp(tmpl)) == -1) {
		snprintf(err, errlen, "cannot write the report %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(tmpl);
	return 0;
}
