/* lyncmock scenario: check, show, list and dump scenarios. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs/certs.h"
#include "cmd/cmd.h"
#include "scenarios/scenario.h"

#define SCENARIO_ERRLEN 16384

static const char scenario_usage[] =
    "usage: lyncmock scenario check [FILE|NAME]\n"
    "       lyncmock scenario show [FILE|NAME]\n"
    "       lyncmock scenario list\n"
    "       lyncmock scenario dump NAME\n"
    "\n"
    "A scenario (YAML) names the hosts of a Lync deployment, their roles,\n"
    "addresses and FQDNs, and the firewall rules between them. FILE is a path;\n"
    "NAME a built-in scenario; without either, the default '" LM_DEFAULT_SCENARIO "'.\n"
    "\n"
    "  check   validate the scenario; prints 'FILE: ok: N hosts, M rules, K paths'\n"
    "          or one 'FILE:LINE: message' per problem (exit 2)\n"
    "  show    print the rule matrix: rule, service, port, source hosts,\n"
    "          destination hosts, expectation ('from: any' shown expanded)\n"
    "  list    list the built-in scenarios and what each covers (its Microsoft\n"
    "          port summary page, hosts, rules, paths, services)\n"
    "  dump    print a built-in scenario's YAML, to copy and edit:\n"
    "          lyncmock scenario dump single-director > my-lab.yaml\n"
    "\n"
    "Schema (top level): name, domain, simple_urls (optional list of FQDNs),\n"
    "roles (optional: {name, cert: pool|server|client}), hosts, rules.\n"
    "  hosts: {name, role, address, fqdn, pool, web_services: [..], san: [..], cert, key}\n"
    "  rules: {id, service: http|https|sip-mtls|sip-tls|cls-mtls|tls|mtls|tcp|udp|stun|\n"
    "          turn-tcp, port: P|A-B, sample: N (ports of a range probed, default 8),\n"
    "          from: ROLE|HOST|any, to: ROLE|HOST, expect: open|blocked,\n"
    "          client_cert: required|optional|none}\n"
    "Built-in roles: reverse-proxy, internal-client (client certificates),\n"
    "director, front-end (pool certificates), edge-internal (server certificate).\n"
    "A more specific rule (host > role > any) wins over a broader one on the same\n"
    "port and destinations.\n"
    "\n"
    "exit: 0 ok, 2 usage error or invalid scenario\n";

static struct scenario *
load_or_report(const char *spec)
{
	struct scenario *sc;
	char *err;

	if ((err = malloc(SCENARIO_ERRLEN)) == NULL) {
		fprintf(stderr, "lyncmock scenario: out of memory\n");
		return NULL;
	}
	sc = scenario_load(spec, err, SCENARIO_ERRLEN);
	if (sc == NULL)
		fprintf(stderr, "%s\n", err);
	free(err);
	return sc;
}

/* Below this many paths any machine runs the lab quickly: no measuring. */
#define LAB_CHECK_PATHS 5000
/* A lab run whose probe phase takes longer than this is more than it can run. */
#define LAB_MAX_PROBE_S 600

/* Warns when the lab on this machine cannot probe that many paths in
 * reasonable time: its CPUs make two RSA signatures per MTLS path. */
static void
lab_capacity_warning(const char *file, size_t paths)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double bound = certs_rsa2048_signs_per_s(200) * (cpus < 1 ? 1 : cpus) / 2;
	/* the lab runs at about half the crypto bound */
	double max = bound / 2 * LAB_MAX_PROBE_S;

	if (bound <= 0 || paths <= max)
		return;
	fprintf(stderr,
	        "%s: warning: %zu paths are more than `lyncmock lab` can probe on this "
	        "machine in %d minutes (about %.0f; its %ld CPUs do about %.0f MTLS paths/s); "
	        "split the scenario or run `probe` on the real hosts\n",
	        file, paths, LAB_MAX_PROBE_S / 60, max, cpus, bound);
}

static int
scenario_check(const char *spec)
{
	struct scenario *sc = load_or_report(spec);

	if (sc == NULL)
		return LM_EXIT_USAGE;
	size_t paths = scenario_path_count(sc);

	printf("%s: ok: %zu hosts, %zu rules, %zu paths\n", sc->file, sc->nhosts, sc->nrules,
	       paths);
	fflush(stdout); /* the warning (stderr) comes after the ok line */
	if (paths >= LAB_CHECK_PATHS)
		lab_capacity_warning(sc->file, paths);
	scenario_free(sc);
	return LM_EXIT_OK;
}

static int
scenario_show(const char *spec)
{
	struct scenario *sc = load_or_report(spec);

	if (sc == NULL)
		return LM_EXIT_USAGE;
	printf("scenario %s (%s), domain %s: %zu hosts, %zu rules, %zu paths\n\n", sc->name,
	       sc->file, sc->domain, sc->nhosts, sc->nrules, scenario_path_count(sc));
	scenario_print_table(sc, stdout);
	scenario_free(sc);
	return LM_EXIT_OK;
}

/* What a built-in covers: its title (the file's first comment line), its
 * size, and the services and transports its rules use. */
static void
scenario_covers(const struct lm_builtin *b)
{
	const char *t = b->text, *eol;
	struct scenario *sc;
	char err[1024];
	bool used[LM_SVC__COUNT] = {false};

	if (b->len > 2 && t[0] == '#' && t[1] == ' ' && (eol = memchr(t, '\n', b->len)) != NULL)
		printf("    %.*s\n", (int)(eol - t - 2), t + 2);
	if ((sc = scenario_load_buffer(b->path, b->text, b->len, err, sizeof err)) == NULL)
		return;
	printf("    %zu hosts, %zu rules, %zu paths; services:", sc->nhosts, sc->nrules,
	       scenario_path_count(sc));
	for (size_t i = 0; i < sc->nrules; i++)
		used[sc->rules[i].service] = true;
	for (int i = 0; i < LM_SVC__COUNT; i++)
		if (used[i])
			printf(" %s%s", lm_service_name((enum lm_service)i),
			       lm_service_info((enum lm_service)i)->udp && i != LM_SVC_UDP ? "/udp"
			                                                                   : "");
	printf("\n");
	scenario_free(sc);
}

static int
scenario_list(void)
{
	for (const struct lm_builtin *b = lm_builtin_scenarios; b->name != NULL; b++) {
		printf("%s%s\n", b->name,
		       strcmp(b->name, LM_DEFAULT_SCENARIO) == 0 ? " (default)" : "");
		scenario_covers(b);
	}
	return LM_EXIT_OK;
}

static int
scenario_dump(const char *name)
{
	const struct lm_builtin *b = lm_builtin_find(name);

	if (b == NULL) {
		fprintf(stderr,
		        "lyncmock scenario: no built-in scenario '%s' (see `lyncmock "
		        "scenario list`)\n",
		        name);
		return LM_EXIT_USAGE;
	}
	if (fwrite(b->text, 1, b->len, stdout) != b->len)
		return LM_EXIT_FAIL;
	return LM_EXIT_OK;
}

static int
cmd_scenario_exec(int argc, char **argv)
{
	static const struct option longopts[] = {{NULL, 0, NULL, 0}};
	const struct cmd_entry *e = &cmd_scenario_entry;
	const char *verb, *arg;
	int c;

	/* no options yet: getopt_long only so that a stray one is reported the
	 * way every other subcommand reports it */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1)
		return cmd_getopt_error(e, c, argv, longopts);
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 2)
		return cmd_usage_error(e, "missing action (check, show, list, dump)");
	verb = argv[1];
	if (argc > 3)
		return cmd_usage_error(e, "too many arguments");
	arg = argc == 3 ? argv[2] : NULL;
	if (strcmp(verb, "check") == 0)
		return scenario_check(arg);
	if (strcmp(verb, "show") == 0)
		return scenario_show(arg);
	if (strcmp(verb, "list") == 0) {
		if (arg != NULL)
			return cmd_usage_error(e, "list takes no argument");
		return scenario_list();
	}
	if (strcmp(verb, "dump") == 0) {
		if (arg == NULL)
			return cmd_usage_error(e, "dump needs a built-in scenario name");
		return scenario_dump(arg);
	}
	return cmd_usage_error(e, "unknown action '%s'", verb);
}

const struct cmd_entry cmd_scenario_entry = {
    .name = "scenario",
    .summary = "check, show, list and dump scenarios",
    .usage = scenario_usage,
    .exec = cmd_scenario_exec,
};
