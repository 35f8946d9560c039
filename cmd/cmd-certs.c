/* lyncmock certs: make the lab PKI, and explain or check certificates against Lync's needs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"
#include "cmd/cmd.h"
#include "scenarios/scenario.h"

/* Each verb is its own entry so its messages and hint name it: "lyncmock
 * certs init: unknown option '--bogus'". */
static const struct cmd_entry certs_init_entry, certs_inspect_entry, certs_check_entry;

/* getopt_long over one verb's arguments (argv[0] is the verb); every option
 * takes a value except those in flags. Values go to vals[i] for longopts[i];
 * flags set *flagp. An empty value is a usage error too. */
static int
read_opts(const struct cmd_entry *e, int argc, char **argv, const struct option *longopts,
          const char **vals, bool *flagp)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c < 0x100 || c >= 0x100 + 64)
			return cmd_getopt_error(e, c, argv, longopts);
		const struct option *o = &longopts[c - 0x100];
		if (o->has_arg == no_argument) {
			*flagp = true;
			continue;
		}
		if (optarg[0] == '\0')
			return cmd_usage_error(e, "option '--%s' is empty", o->name);
		vals[c - 0x100] = optarg;
	}
	return LM_EXIT_OK;
}

static struct scenario *
load_scenario(const char *spec)
{
	char err[8192];
	struct scenario *sc = scenario_load(spec, err, sizeof err);

	if (sc == NULL)
		fprintf(stderr, "lyncmock certs: %s\n", err);
	return sc;
}

/* ---- certs init ------------------------------------------------------------ */
#define INIT_USAGE                                                                                 \
	"lyncmock certs init [--scenario F] --out DIR [--key rsa2048|rsa4096|ecdsa-p256]\n"        \
	"                    [--days N] [--no-client-auth]\n"                                      \
	"  Makes a lab CA (DIR/ca.pem, DIR/ca.key) and, per scenario host, a key and a\n"          \
	"  certificate shaped like the one Lync uses on that role (DIR/HOST.pem: leaf + CA;\n"     \
	"  DIR/HOST.key, mode 0600). Director / Front End: subject = pool FQDN, SANs = pool,\n"    \
	"  server FQDN, simple URLs, lyncdiscover(internal), web services. Edge internal:\n"       \
	"  its FQDN. Sources: their FQDN, clientAuth only. Every host's own san: list is\n"        \
	"  added. Server certificates carry serverAuth + clientAuth (--no-client-auth:\n"          \
	"  serverAuth only), a CRL distribution point, SHA-256 signatures. An existing CA in\n"    \
	"  DIR is reused, never overwritten (half a CA, or a key that does not match, is an\n"     \
	"  error). Hosts with their own cert/key in the scenario are skipped. Defaults:\n"         \
	"  single-director, rsa2048, 730 days. Exit 0 done, 1 failed, 2 usage or scenario\n"       \
	"  error.\n"

static int
certs_init_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"scenario", required_argument, NULL, 0x100}, {"out", required_argument, NULL, 0x101},
	    {"key", required_argument, NULL, 0x102},      {"days", required_argument, NULL, 0x103},
	    {"no-client-auth", no_argument, NULL, 0x104}, {NULL, 0, NULL, 0},
	};
	const struct cmd_entry *e = &certs_init_entry;
	const char *v[5] = {NULL};
	const char *spec, *out, *key, *days;
	bool no_client_auth = false;
	struct certs_init_opts io;
	struct certs_init_summary sum;
	struct scenario *sc;
	char err[1024];
	long d;

	if (read_opts(e, argc, argv, longopts, v, &no_client_auth) != LM_EXIT_OK ||
	    cmd_no_operands(e, argc, argv) != LM_EXIT_OK)
		return LM_EXIT_USAGE;
	spec = v[0], out = v[1], key = v[2], days = v[3];
	if (out == NULL)
		return cmd_usage_error(e, "--out DIR is required");
	certs_init_opts_default(&io);
	if (key != NULL && certs_key_type_from_name(key, &io.key_type) == -1)
		return cmd_usage_error(e, "--key %s: expected rsa2048, rsa4096 or ecdsa-p256", key);
	if (days != NULL) {
		if (lm_parse_long(days, 1, 36500, &d) == -1)
			return cmd_usage_error(
			    e, "--days %s: expected a number of days from 1 to 36500", days);
		io.days = (int)d;
	}
	io.client_auth = !no_client_auth;
	if ((sc = load_scenario(spec)) == NULL)
		return LM_EXIT_USAGE;
	if (certs_init_summary(sc, out, &io, &sum, err, sizeof err) != 0) {
		fprintf(stderr, "lyncmock certs init: %s\n", err);
		scenario_free(sc);
		return LM_EXIT_FAIL;
	}
	printf("lab PKI for scenario %s in %s\n", sc->name, out);
	printf("  CA %s: %s/ca.pem (key %s/ca.key)\n", sum.ca_reused ? "reused" : "created", out,
	       out);
	printf("  CA SHA-256 fingerprint %s\n", sum.ca_sha256);
	for (size_t i = 0; i < sc->nhosts; i++) {
		const struct scenario_host *h = &sc->hosts[i];
		if (h->cert != NULL && h->cert[0] != '\0')
			continue;
		printf("  %-10s %s/%s.pem  %s/%s.key\n", h->name, out, h->name, out, h->name);
	}
	printf("  %zu host certificate%s written (%s, %d days, keys mode 0600)\n", sum.nwritten,
	       sum.nwritten == 1 ? "" : "s", key != NULL ? key : "rsa2048", io.days);
	if (sum.skipped[0] != '\0')
		printf("  skipped (own certificate in the scenario): %s\n", sum.skipped);
	scenario_free(sc);
	return LM_EXIT_OK;
}

/* ---- certs inspect ---------------------------------------------------------- */
#define INSPECT_USAGE                                                                              \
	"lyncmock certs inspect FILE|HOST:PORT [--ca CA] [--sni NAME] [--cert C --key K]\n"        \
	"  Explains a certificate file (PEM with one or more certificates, or DER) or the\n"       \
	"  chain a live TLS endpoint sends (SNI = HOST), against Lync's needs: names (SANs),\n"    \
	"  EKU, key type and size, signature algorithm, CRL distribution point, validity,\n"       \
	"  chain (against --ca when given). --sni NAME sends and checks NAME instead of HOST\n"    \
	"  (e.g. 198.18.1.10:5061 --sni dirpool.contoso.local). --cert/--key present a client\n"   \
	"  certificate to an MTLS endpoint and report whether the server accepts it. One line\n"   \
	"  per finding: OK, INFO, WARN or ERROR.\n"                                                \
	"  Exit 0 no errors, 1 errors found, 2 unreadable or unreachable.\n"

static int
certs_inspect_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"ca", required_argument, NULL, 0x100},
	    {"sni", required_argument, NULL, 0x101},
	    {"cert", required_argument, NULL, 0x102},
	    {"key", required_argument, NULL, 0x103},
	    {NULL, 0, NULL, 0},
	};
	const struct cmd_entry *e = &certs_inspect_entry;
	struct certs_inspect_opts io = {NULL, NULL, NULL, NULL};
	const char *v[4] = {NULL}, *target;
	bool unused = false;
	char err[1024];
	int rc;

	if (read_opts(e, argc, argv, longopts, v, &unused) != LM_EXIT_OK)
		return LM_EXIT_USAGE;
	io.ca = v[0], io.name = v[1], io.cert = v[2], io.key = v[3];
	if (optind >= argc)
		return cmd_usage_error(e, "FILE or HOST:PORT is required");
	target = argv[optind++];
	if (cmd_no_operands(e, argc, argv) != LM_EXIT_OK)
		return LM_EXIT_USAGE;
	if ((io.cert == NULL) != (io.key == NULL))
		return cmd_usage_error(e, "--cert and --key go together");
	rc = certs_inspect_ex(target, &io, stdout, err, sizeof err);
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "lyncmock certs inspect: %s\n", err);
		return LM_EXIT_USAGE;
	}
	printf("verdict: %s\n", rc == CERTS_ERROR  ? "ERROR: Lync will not accept this"
	                        : rc == CERTS_WARN ? "usable, with warnings"
	                                           : "OK");
	return rc == CERTS_ERROR ? LM_EXIT_FAIL : LM_EXIT_OK;
}

/* ---- certs check ------------------------------------------------------------ */
#define CHECK_USAGE                                                                                \
	"lyncmock certs check --scenario F --host H --cert C [--key K] [--ca CA]\n"                \
	"  Says whether your own certificate (C, PEM: leaf first, then intermediates) will do\n"   \
	"  for host H of the scenario, and why not. Errors (exit 1): a required name missing\n"    \
	"  (pool FQDN, server FQDN, simple URLs, lyncdiscover and web-services names, each\n"      \
	"  named), no serverAuth EKU on a server, expired or not yet valid, RSA key under 2048\n"  \
	"  bits (1024 only warns), RSASSA-PSS or MD5 signature, self-signed, no chain to --ca,\n"  \
	"  a key that does not match or that group/others may read. Warnings (exit 0): no\n"       \
	"  clientAuth EKU (Lync accepts it, strict MTLS peers may not), no CRL distribution\n"     \
	"  point, expiry within 30 days. Sources (reverse proxy, clients) need clientAuth;\n"      \
	"  serverAuth alone only warns. Exit 2: usage, scenario or unreadable files.\n"

static int
certs_check_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"scenario", required_argument, NULL, 0x100}, {"host", required_argument, NULL, 0x101},
	    {"cert", required_argument, NULL, 0x102},     {"key", required_argument, NULL, 0x103},
	    {"ca", required_argument, NULL, 0x104},       {NULL, 0, NULL, 0},
	};
	const struct cmd_entry *e = &certs_check_entry;
	const char *v[5] = {NULL}, *spec, *host, *cert, *key, *ca;
	bool unused = false;
	struct certs_findings f = {0};
	const struct scenario_host *h;
	struct scenario *sc;
	size_t nerr = 0, nwarn = 0;
	char err[1024];
	int rc;

	if (read_opts(e, argc, argv, longopts, v, &unused) != LM_EXIT_OK ||
	    cmd_no_operands(e, argc, argv) != LM_EXIT_OK)
		return LM_EXIT_USAGE;
	spec = v[0], host = v[1], cert = v[2], key = v[3], ca = v[4];
	if (host == NULL || cert == NULL)
		return cmd_usage_error(e, "--host H and --cert C are required");
	if ((sc = load_scenario(spec)) == NULL)
		return LM_EXIT_USAGE;
	if ((h = scenario_host_find(sc, host)) == NULL) {
		fprintf(stderr, "lyncmock certs check: no host '%s' in scenario %s; hosts:", host,
		        sc->name);
		for (size_t i = 0; i < sc->nhosts; i++)
			fprintf(stderr, " %s", sc->hosts[i].name);
		fputc('\n', stderr);
		scenario_free(sc);
		return LM_EXIT_USAGE;
	}
	if (certs_check(sc, h, cert, key, ca, &f, err, sizeof err) != 0) {
		fprintf(stderr, "lyncmock certs check: %s\n", err);
		certs_findings_free(&f);
		scenario_free(sc);
		return LM_EXIT_USAGE;
	}
	certs_findings_print(&f, stdout);
	for (size_t i = 0; i < f.n; i++) {
		nerr += f.items[i].severity == CERTS_ERROR;
		nwarn += f.items[i].severity == CERTS_WARN;
	}
	if (nerr > 0)
		printf(
		    "verdict: this certificate will not do for %s (%zu error%s, %zu warning%s)\n",
		    h->name, nerr, nerr == 1 ? "" : "s", nwarn, nwarn == 1 ? "" : "s");
	else
		printf("verdict: this certificate will do for %s (%zu warning%s)\n", h->name, nwarn,
		       nwarn == 1 ? "" : "s");
	rc = nerr > 0 ? LM_EXIT_FAIL : LM_EXIT_OK;
	certs_findings_free(&f);
	scenario_free(sc);
	return rc;
}

static int
cmd_certs_exec(int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage_error(&cmd_certs_entry, "expected init, inspect or check");
	if (strcmp(argv[1], "init") == 0)
		return certs_init_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "inspect") == 0)
		return certs_inspect_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return certs_check_cmd(argc - 1, argv + 1);
	return cmd_usage_error(&cmd_certs_entry, "unknown subcommand '%s' (init, inspect, check)",
	                       argv[1]);
}

static const struct cmd_entry certs_init_entry = {
    .name = "certs init", .usage = INIT_USAGE, .exec = certs_init_cmd};
static const struct cmd_entry certs_inspect_entry = {
    .name = "certs inspect", .usage = INSPECT_USAGE, .exec = certs_inspect_cmd};
static const struct cmd_entry certs_check_entry = {
    .name = "certs check", .usage = CHECK_USAGE, .exec = certs_check_cmd};

const struct cmd_entry cmd_certs_entry = {
    .name = "certs",
    .summary = "make the lab PKI; explain or check certificates against Lync's needs",
    .usage = "usage:\n" INIT_USAGE "\n" INSPECT_USAGE "\n" CHECK_USAGE,
    .exec = cmd_certs_exec,
};
