/* lyncmock probe: probe every path from one host of a scenario, or ad-hoc URLs, and report. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "probes/probes.h"
#include "report/report.h"
#include "scenarios/scenario.h"

#define MAX_RULE_FILTERS 256

static volatile int probe_interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	probe_interrupted = 1;
}

struct progress {
	bool tty;
	size_t width;
};

/* "[12/40] edge-dir-sip edge01->dir01 pass" on one rewritten stderr line. */
static void
progress_cb(void *arg, const struct probe_result *r, size_t done, size_t total)
{
	struct progress *pg = arg;

	if (!pg->tty)
		return;
	fprintf(stderr, "\r\033[K[%zu/%zu] %s %s->%s %s", done, total,
	        r->rule_id ? r->rule_id : "url", r->src_host ? r->src_host : "local",
	        r->dst_host ? r->dst_host : "?", lm_outcome_name(r->outcome));
	fflush(stderr);
	pg->width = 1;
}

/* Many probes in flight need as many descriptors: take what the hard limit allows. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
cmd_probe_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"scenario", required_argument, NULL, 's'},
	    {"host", required_argument, NULL, 'H'},
	    {"certs", required_argument, NULL, 'c'},
	    {"ca", required_argument, NULL, 'A'},
	    {"cert", required_argument, NULL, 'C'},
	    {"key", required_argument, NULL, 'K'},
	    {"timeout", required_argument, NULL, 't'},
	    {"parallel", required_argument, NULL, 'p'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"debug-tls", no_argument, NULL, 'd'},
	    {"allow-foreign", no_argument, NULL, 'F'},
	    {"no-client-cert", no_argument, NULL, 'N'},
	    {"no-bind", no_argument, NULL, 'B'},
	    {"port-offset", required_argument, NULL, 'O'},
	    {"rule", required_argument, NULL, 'r'},
	    {"skip-rule", required_argument, NULL, 'S'},
	    {"tls-min", required_argument, NULL, 'T'},
	    {"hold", required_argument, NULL, 'L'},
	    {"tls-parallel", required_argument, NULL, 'P'},
	    {"tls-slots", required_argument, NULL, 'Z'},
	    {"tls-max", required_argument, NULL, 'X'},
	    {"sni", required_argument, NULL, 'n'},
	    {"resolve", required_argument, NULL, 'R'},
	    {"source", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	const struct cmd_entry *e = &cmd_probe_entry;
	struct probe_options o = {.debug_out = stderr};
	const char *scenario = NULL, *hostname = NULL, *output = NULL;
	char *only[MAX_RULE_FILTERS], *skip[MAX_RULE_FILTERS], *resolve[MAX_RULE_FILTERS];
	enum report_format fmt = REPORT_TABLE;
	struct scenario *sc = NULL;
	const struct scenario_host *host = NULL;
	struct probe_run *run = NULL;
	struct progress pg = {.tty = isatty(STDERR_FILENO) == 1};
	struct sigaction sa, old_int, old_term;
	char err[8192];
	int ch, rc = LM_EXIT_USAGE, prc;
	long v;
	double secs;
	char *end;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			scenario = optarg;
			break;
		case 'H':
			hostname = optarg;
			break;
		case 'c':
			o.certs_dir = optarg;
			break;
		case 'A':
			o.ca = optarg;
			break;
		case 'C':
			o.cert = optarg;
			break;
		case 'K':
			o.key = optarg;
			break;
		case 't':
			errno = 0;
			secs = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(secs >= 0.05) ||
			    secs > 3600)
				return cmd_usage_error(
				    e, "--timeout: seconds between 0.05 and 3600, not '%s'",
				    optarg);
			o.timeout_ms = (unsigned)(secs * 1000.0 + 0.5);
			break;
		case 'p':
			if (lm_parse_long(optarg, 1, 65536, &v) == -1)
				return cmd_usage_error(e, "--parallel: a number 1-65536, not '%s'",
				                       optarg);
			o.parallel = (unsigned)v;
			break;
		case 'P':
			if (lm_parse_long(optarg, 1, 65536, &v) == -1)
				return cmd_usage_error(
				    e, "--tls-parallel: a number 1-65536, not '%s'", optarg);
			o.tls_parallel = (unsigned)v;
			break;
		case 'Z':
			o.tls_slots = optarg;
			break;
		case 'f':
			if (report_format_from_name(optarg, &fmt) == -1)
				return cmd_usage_error(
				    e, "--format: table, json, junit, dot or html, not '%s'",
				    optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 'd':
			o.debug_tls = true;
			break;
		case 'F':
			o.allow_foreign = true;
			break;
		case 'N':
			o.no_client_cert = true;
			break;
		case 'B':
			o.no_bind = true;
			break;
		case 'O':
			if (lm_parse_long(optarg, -65535, 65535, &v) == -1)
				return cmd_usage_error(
				    e, "--port-offset: a number -65535..65535, not '%s'", optarg);
			o.port_offset = (int)v;
			break;
		case 'r':
			if (o.nonly_rules == MAX_RULE_FILTERS)
				return cmd_usage_error(e, "too many --rule options");
			only[o.nonly_rules++] = optarg;
			break;
		case 'S':
			if (o.nskip_rules == MAX_RULE_FILTERS)
				return cmd_usage_error(e, "too many --skip-rule options");
			skip[o.nskip_rules++] = optarg;
			break;
		case 'L':
			secs = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(secs >= 0.5 && secs <= 7200))
				return cmd_usage_error(
				    e, "--hold: seconds between 0.5 and 7200, not '%s'", optarg);
			o.hold_ms = (unsigned)(secs * 1000 + 0.5);
			break;
		case 'T':
			if ((o.tls_min_version = certs_tls_version_from_name(optarg)) == -1)
				return cmd_usage_error(
				    e, "--tls-min: 1.0, 1.1, 1.2 or 1.3, not '%s'", optarg);
			break;
		case 'X':
			if ((o.tls_max_version = certs_tls_version_from_name(optarg)) == -1)
				return cmd_usage_error(
				    e, "--tls-max: 1.0, 1.1, 1.2 or 1.3, not '%s'", optarg);
			break;
		case 'n':
			if (optarg[0] == '\0' || strlen(optarg) > 253)
				return cmd_usage_error(e, "--sni: a DNS name, not '%s'", optarg);
			o.sni = optarg;
			break;
		case 'R': {
			/* NAME:ADDR (ADDR may be IPv6, with or without brackets) */
			const char *colon = strchr(optarg, ':');
			struct sockaddr_storage ss;
			socklen_t sslen;
			char ab[INET6_ADDRSTRLEN + 2];
			if (colon == NULL || colon == optarg ||
			    snprintf(ab, sizeof ab, "%s", colon + 1) >= (int)sizeof ab)
				return cmd_usage_error(e, "--resolve: NAME:ADDR, not '%s'", optarg);
			if (ab[0] == '[' && ab[strlen(ab) - 1] == ']') {
				ab[strlen(ab) - 1] = '\0';
				memmove(ab, ab + 1, strlen(ab));
			}
			if (lm_sockaddr_parse(ab, 0, &ss, &sslen) == -1)
				return cmd_usage_error(
				    e, "--resolve: NAME:ADDR with an IP address, not '%s'", optarg);
			if (o.nresolve == MAX_RULE_FILTERS)
				return cmd_usage_error(e, "too many --resolve options");
			if ((resolve[o.nresolve] = malloc(strlen(optarg) + 1)) == NULL)
				return cmd_usage_error(e, "out of memory");
			snprintf(resolve[o.nresolve], strlen(optarg) + 1, "%.*s:%s",
			         (int)(colon - optarg), optarg, ab);
			o.nresolve++;
			break;
		}
		case 'a': {
			struct sockaddr_storage ss;
			socklen_t sslen;
			if (lm_sockaddr_parse(optarg, 0, &ss, &sslen) == -1)
				return cmd_usage_error(e, "--source: an IP address, not '%s'",
				                       optarg);
			o.source = optarg;
			break;
		}
		default:
			return cmd_getopt_error(e, ch, argv, longopts);
		}
	}
	o.only_rules = only;
	o.skip_rules = skip;
	o.resolve = resolve;
	if ((o.sni || o.nresolve || o.source) && optind == argc)
		return cmd_usage_error(e, "--sni, --resolve and --source are for URL probes");
	if (optind < argc &&
	    (scenario != NULL || hostname != NULL || o.nonly_rules || o.nskip_rules))
		return cmd_usage_error(e, "give either URLs or --scenario/--host, not both");
	if (optind == argc && hostname == NULL)
		return cmd_usage_error(e, "--host HOST (or URLs) is required");
	if ((o.cert != NULL) != (o.key != NULL) && optind == argc)
		return cmd_usage_error(e, "--cert and --key go together");
	if (cmd_output_writable(output, err, sizeof err) == -1) {
		fprintf(stderr, "lyncmock probe: %s\n", err);
		return LM_EXIT_USAGE;
	}
	if (optind == argc) {
		if ((sc = scenario_load(scenario, err, sizeof err)) == NULL) {
			fprintf(stderr, "%s\n", err);
			return LM_EXIT_USAGE;
		}
		if ((host = scenario_host_find(sc, hostname)) == NULL) {
			fprintf(stderr, "lyncmock probe: no host '%s' in scenario %s\n", hostname,
			        sc->name);
			goto out;
		}
	}
	raise_nofile();
	/* a peer closing while we write must not end the run without its report */
	signal(SIGPIPE, SIG_IGN);
	if (o.debug_tls)
		pg.tty = false; /* the trace owns stderr */
	o.progress = progress_cb;
	o.progress_arg = &pg;
	o.interrupted = &probe_interrupted;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: the loop wakes and stops */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if ((run = probe_run_new(sc ? sc->name : NULL, host ? host->name : NULL)) == NULL) {
		fprintf(stderr, "lyncmock probe: out of memory\n");
		goto restore;
	}
	err[0] = '\0';
	if (sc != NULL)
		prc = probe_scenario(sc, host, &o, run, err, sizeof err);
	else
		prc = probe_urls(argv + optind, (size_t)(argc - optind), &o, run, err, sizeof err);
	if (pg.width)
		fprintf(stderr, "\r\033[K");
	if (prc == -1) {
		fprintf(stderr, "lyncmock probe: %s%s\n", err,
		        strstr(err, "CA file") ? " (give --certs DIR or --ca FILE)" : "");
		goto restore;
	}
	if (run->note != NULL)
		fprintf(stderr, "lyncmock probe: note: %s\n", run->note);
	if (run->partial)
		fprintf(stderr, "lyncmock probe: interrupted: reporting the %zu finished probes\n",
		        run->n);
	if (report_write(run, fmt, output, err, sizeof err) == -1) {
		fprintf(stderr, "lyncmock probe: %s\n", err);
		/* no report is a run that did not happen, whatever the verdicts */
		rc = LM_EXIT_USAGE;
		goto restore;
	}
	rc = (probe_run_failures(run) == 0 && !run->partial) ? LM_EXIT_OK : LM_EXIT_FAIL;
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	probe_run_free(run);
	scenario_free(sc);
	for (size_t i = 0; i < o.nresolve; i++)
		free(resolve[i]);
	return rc;
}

const struct cmd_entry cmd_probe_entry = {
    .name = "probe",
    .summary = "probe every path from one host (or URLs)",
    .usage =
        "usage: lyncmock probe --host HOST [--scenario FILE|NAME] [options]\n"
        "       lyncmock probe URL... [--ca FILE] [--cert FILE --key FILE] [options]\n"
        "\n"
        "Runs every rule of the scenario whose source is HOST against each of its\n"
        "destinations, concurrently, and reports per path: pass, filtered, refused,\n"
        "unreachable, tls-untrusted, tls-name-mismatch, tls-expired,\n"
        "tls-client-rejected, tls-failed, tls-wrong-purpose, tls-intercepted,\n"
        "protocol-error, wrong-responder, nat-detected, proxied, cut-after-connect,\n"
        "no-answer, mtu-blackhole (and foreign-peer with --allow-foreign).\n"
        "URLs: http://H[:P] https://H[:P] sip-mtls://H[:P] cls-mtls://H[:P] tcp://H:P\n"
        "(H an address or a name; TLS verifies that name).\n"
        "\n"
        "  --scenario FILE|NAME  scenario (default: the built-in single-director)\n"
        "  --host HOST           the source host this runs on\n"
        "  --certs DIR           lab PKI from `lyncmock certs init` (DIR/ca.pem, DIR/HOST.pem)\n"
        "  --ca FILE --cert FILE --key FILE   your own CA / client certificate\n"
        "  --no-client-cert      present no client certificate\n"
        "  --timeout SECONDS     per step: TCP connect, TLS handshake, answer (default 3);\n"
        "                        each step's clock starts when the step starts\n"
        "  --parallel N          probes in flight (default: as many as the descriptor\n"
        "                        limit allows; the soft limit is raised to the hard one)\n"
        "  --tls-parallel N      TLS handshakes in flight (default 32 per CPU): more\n"
        "                        connected probes wait for their turn before their\n"
        "                        handshake's clock starts, so our own CPU never times\n"
        "                        out a path; a step that still timed out while this\n"
        "                        machine was overloaded is tried once more\n"
        "  --tls-slots FILE      share the handshake budget with other processes (the\n"
        "                        lab passes its slot file)\n"
        "  --port-offset N       added to every destination port\n"
        "  --no-bind             do not bind HOST's scenario address as the source\n"
        "  --rule ID             run only this rule (repeatable)\n"
        "  --skip-rule ID        skip this rule (repeatable)\n"
        "  --hold SECONDS        SIP rules: after the answer, keep the connection idle\n"
        "                        SECONDS, then send OPTIONS again; a firewall that forgets\n"
        "                        idle connections sooner (Lync needs 1800 s) shows as\n"
        "                        idle-cut. Holds of S/8, S/4, S/2 and S run in parallel\n"
        "                        to bracket the cut: \"cut between 2 s and 4 s idle\"\n"
        "  --allow-foreign       a valid answer from a non-mock server is OK (foreign-peer)\n"
        "  --format table|json|junit|dot|html   report format (default table)\n"
        "  --output FILE         write the report to FILE atomically (default stdout)\n"
        "  --debug-tls           print each TLS handshake step by step on stderr\n"
        "  --tls-min 1.0|1.1|1.2|1.3  lowest TLS version offered (default 1.2; lower it\n"
        "                        only to reach old peers, which also allows their ciphers)\n"
        "  --tls-max 1.0|1.1|1.2|1.3  highest TLS version offered (default: the newest)\n"
        "URL probes only (like curl and ncat):\n"
        "  --sni NAME            TLS server name sent and verified (default: the URL's host)\n"
        "  --resolve NAME:ADDR   connect to ADDR for NAME (a pool member by the pool FQDN)\n"
        "  --source ADDR         bind this source address\n"
        "\n"
        "Exit: 0 every verdict OK, 1 a verdict failed or the run was interrupted,\n"
        "2 usage or configuration error.\n",
    .exec = cmd_probe_exec,
};
