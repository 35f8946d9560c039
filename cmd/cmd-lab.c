/* lyncmock lab: run a scenario's whole matrix in network namespaces on this machine. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lab/lab.h"

static int cmd_lab_exec(int, char **);

const struct cmd_entry cmd_lab_entry = {
    .name = "lab",
    .summary = "run the whole matrix in network namespaces",
    .usage =
        "usage: lyncmock lab [--scenario F] [--break RULE=KIND]... [--format FMT]\n"
        "                    [--output FILE] [--certs DIR | --key TYPE] [--timeout S]\n"
        "                    [--html FILE] [--keep]\n"
        "                    [--firewall FILE [--iface NAME=HOST|ROLE]...] [--sweep]\n"
        "                    [--hold SECONDS]\n"
        "       lyncmock lab --cleanup\n"
        "\n"
        "On this Linux machine (as root): a network namespace per scenario host, each\n"
        "linked to one firewall namespace loaded with `lyncmock firewall --format nft`'s\n"
        "rules; `lyncmock listen` on every destination host and `lyncmock probe` from\n"
        "every source host in their namespaces; the merged matrix; then everything is\n"
        "torn down (also on failure and Ctrl-C). Addresses come from the scenario\n"
        "(IPv4 or IPv6; the built-in ones use 198.18.0.0/15); no traffic leaves the\n"
        "namespaces.\n"
        "\n"
        "  --scenario F       scenario file or built-in name (default single-director)\n"
        "  --break RULE=KIND  inject a real fault into one open rule; the report must\n"
        "                     show it as the matching outcome, every other rule as usual:\n"
        "                       drop            firewall drops the paths     -> filtered\n"
        "                       reject          firewall sends TCP resets    -> refused\n"
        "                       nat             firewall masquerades them    -> nat-detected\n"
        "                       wrong-ca        listener cert, another CA    -> tls-untrusted\n"
        "                       no-client-cert  sources send no client cert  -> "
        "tls-client-rejected\n"
        "                       plaintext       port served without TLS      -> tls-failed\n"
        "                       idle-timeout:S  conntrack forgets the paths'\n"
        "                                       connections after S s idle   -> idle-cut\n"
        "                                       (needs --hold longer than S)\n"
        "  --format FMT       table (default), json, junit, dot or html (one\n"
        "                     self-contained page: summary, picture, matrix)\n"
        "  --output FILE      write the report to FILE instead of stdout\n"
        "  --html FILE        also write the HTML report to FILE (its path goes to stderr)\n"
        "  --certs DIR        use this PKI (as made by `lyncmock certs init`) instead\n"
        "                     of the lab's own, which is made once per set of hosts and\n"
        "                     kept in /var/cache/lyncmock/lab-pki (LYNCMOCK_CACHE_DIR)\n"
        "  --key TYPE         key type of the fresh lab PKI: rsa2048 (default, what\n"
        "                     Lync uses), rsa4096 or ecdsa-p256 (faster: RSA key\n"
        "                     generation is most of the lab's run time)\n"
        "  --timeout S        per-step timeout in seconds (default 2; connect, handshake\n"
        "                     and answer each get it from when they start): a filtered\n"
        "                     path costs one timeout. The probe processes share one\n"
        "                     budget of TLS handshakes in flight, so the lab's own CPU\n"
        "                     load never shows as a timeout\n"
        "  --keep             leave namespaces and listeners up, print how to enter them\n"
        "  --firewall FILE    load YOUR rule set into the firewall namespace instead of\n"
        "                     the generated one; its kind is read from its content:\n"
        "                     an nftables ruleset (`nft -f` syntax, as `nft list\n"
        "                     ruleset` prints it), an iptables-save / ip6tables-save\n"
        "                     dump (loaded with iptables-nft-restore), or a CSV flow\n"
        "                     table (`lyncmock firewall --format csv`'s columns, with\n"
        "                     an action column allow/deny). Addresses are the\n"
        "                     scenario's. Every path then names the rule that decided\n"
        "                     it (nftables tracing): \"dropped by `drop all from clients`\n"
        "                     (chain forward, line 41 of corp.nft)\"\n"
        "  --iface NAME=HOST|ROLE[,...]  the interface NAME your rules match on (iifname,\n"
        "                     oifname, -i, -o) is the firewall's link to HOST, or to\n"
        "                     every host of ROLE (a bridge). Default: an interface\n"
        "                     named after a host or a role is that one's link; others\n"
        "                     are warned about (their rules match nothing)\n"
        "  --sweep            also probe, between every pair of hosts, the Lync catalog\n"
        "                     ports the scenario does not need and a sample of others\n"
        "                     (TCP and UDP): each one the firewall lets through is\n"
        "                     reported as open-not-required, with the rule allowing it\n"
        "  --hold SECONDS     SIP paths: hold the connection idle, then send OPTIONS\n"
        "                     again (holds of S/8, S/4, S/2 and S in parallel); a\n"
        "                     firewall that forgets idle connections sooner shows as\n"
        "                     idle-cut with the bracket (\"cut between 2 s and 4 s\")\n"
        "\n"
        "  --cleanup          remove what labs killed with SIGKILL (or left with --keep)\n"
        "                     left behind, as recorded in /run/lyncmock/lab (LYNCMOCK_RUN_DIR):\n"
        "                     their namespaces, temp dirs and processes; labs still\n"
        "                     running are named and left alone. Every lab warns at start\n"
        "                     about such leftovers\n"
        "\n"
        "Progress and a `lab: resources prefix=... netns=... pids=...` line go to stderr.\n"
        "Exit: 0 every verdict OK, 1 otherwise (or interrupted), 2 usage, scenario,\n"
        "setup errors, or not root.\n",
    .exec = cmd_lab_exec,
};

/* Where the page for a browser is, as a path that works from any directory. */
static void
note_html(const char *path)
{
	char abs[PATH_MAX];

	fprintf(stderr, "lab: HTML report: %s\n", realpath(path, abs) != NULL ? abs : path);
}

/* The merged run in the chosen format, and the HTML page too with --html. */
static int
write_reports(const struct probe_run *run, enum report_format format, const char *output,
              const char *html_output)
{
	char err[4096];

	if (report_write(run, format, output, err, sizeof err) == -1)
		goto fail;
	if (format == REPORT_HTML && output != NULL && strcmp(output, "-") != 0)
		note_html(output);
	if (html_output != NULL) {
		if (report_write(run, REPORT_HTML, html_output, err, sizeof err) == -1)
			goto fail;
		note_html(html_output);
	}
	return 0;
fail:
	fprintf(stderr, "lyncmock lab: %s\n", err);
	return -1;
}

static int
cmd_lab_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"scenario", required_argument, NULL, 's'},
	    {"break", required_argument, NULL, 'b'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"certs", required_argument, NULL, 'c'},
	    {"timeout", required_argument, NULL, 't'},
	    {"keep", no_argument, NULL, 'k'},
	    {"key", required_argument, NULL, 'K'},
	    {"html", required_argument, NULL, 'H'},
	    {"firewall", required_argument, NULL, 'F'},
	    {"iface", required_argument, NULL, 'I'},
	    {"sweep", no_argument, NULL, 'S'},
	    {"hold", required_argument, NULL, 'L'},
	    {"cleanup", no_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	const struct cmd_entry *e = &cmd_lab_entry;
	struct lab_opts o;
	struct probe_run *run = NULL;
	enum report_format format = REPORT_TABLE;
	const char *output = NULL, *html_output = NULL; /* NULL or "-": stdout */
	char err[8192], *end;
	double t;
	bool key_set = false, cleanup = false;
	int c, rc, nopts = 0;

	memset(&o, 0, sizeof o);
	o.key_type = CERTS_KEY_RSA2048;
	o.timeout_ms = 2000;
	o.log = stderr;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:b:f:o:c:t:kK:H:F:I:SL:C", longopts, NULL)) != -1) {
		nopts += c != 'C';
		switch (c) {
		case 'C':
			cleanup = true;
			break;
		case 's':
			o.scenario = optarg;
			break;
		case 'b':
			if (o.nfaults == LAB_MAX_FAULTS)
				return cmd_usage_error(e, "at most %d --break options",
				                       LAB_MAX_FAULTS);
			if (lab_fault_parse(optarg, &o.faults[o.nfaults]) == -1)
				return cmd_usage_error(
				    e, "--break %s: expected RULE=KIND, KIND one of %s", optarg,
				    lab_fault_kinds());
			o.nfaults++;
			break;
		case 'f':
			if (report_format_from_name(optarg, &format) == -1)
				return cmd_usage_error(
				    e, "unknown format '%s' (table, json, junit, dot, html)",
				    optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 'H':
			html_output = optarg;
			break;
		case 'c':
			o.certs_dir = optarg;
			break;
		case 't':
			t = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(t >= 0.05 && t <= 120))
				return cmd_usage_error(
				    e, "--timeout: seconds between 0.05 and 120, not '%s'", optarg);
			o.timeout_ms = (unsigned)(t * 1000 + 0.5);
			break;
		case 'k':
			o.keep = true;
			break;
		case 'K':
			if (certs_key_type_from_name(optarg, &o.key_type) == -1)
				return cmd_usage_error(
				    e, "--key %s: expected rsa2048, rsa4096 or ecdsa-p256", optarg);
			key_set = true;
			break;
		case 'F':
			o.firewall = optarg;
			break;
		case 'I':
			if (o.nifaces == LAB_MAX_IFACES)
				return cmd_usage_error(e, "at most %d --iface options",
				                       LAB_MAX_IFACES);
			if (lab_iface_parse(optarg, &o.ifaces[o.nifaces]) == -1)
				return cmd_usage_error(
				    e,
				    "--iface %s: expected NAME=HOST or NAME=ROLE (an "
				    "interface name of at most 15 characters)",
				    optarg);
			o.nifaces++;
			break;
		case 'S':
			o.sweep = true;
			break;
		case 'L':
			t = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(t >= 0.5 && t <= 7200))
				return cmd_usage_error(
				    e, "--hold: seconds between 0.5 and 7200, not '%s'", optarg);
			o.hold_ms = (unsigned)(t * 1000 + 0.5);
			break;
		default:
			return cmd_getopt_error(e, c, argv, longopts);
		}
	}
	if (cmd_no_operands(e, argc, argv) != LM_EXIT_OK)
		return LM_EXIT_USAGE;
	if (cleanup) {
		if (nopts > 0)
			return cmd_usage_error(e, "--cleanup takes no other option");
		rc = lab_cleanup(stdout, err, sizeof err);
		if (err[0] != '\0')
			fprintf(stderr, "lyncmock lab: %s\n", err);
		return rc;
	}
	if (o.nifaces > 0 && o.firewall == NULL)
		return cmd_usage_error(e, "--iface maps the interfaces of a --firewall FILE");
	if (key_set && o.certs_dir != NULL)
		return cmd_usage_error(e, "--key applies to a fresh PKI, not to --certs DIR");
	/* the reports are written after the whole run: find a bad path now */
	if (cmd_output_writable(output, err, sizeof err) == -1 ||
	    cmd_output_writable(html_output, err, sizeof err) == -1) {
		fprintf(stderr, "lyncmock lab: %s\n", err);
		return LM_EXIT_USAGE;
	}
	o.self_main = cmd_dispatch;
	rc = lab_run(&o, &run, err, sizeof err);
	if (run != NULL && write_reports(run, format, output, html_output) == -1)
		rc = LM_EXIT_USAGE;
	probe_run_free(run);
	if (err[0] != '\0')
		fprintf(stderr, "lyncmock lab: %s\n", err);
	return rc;
}
