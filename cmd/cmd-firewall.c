/* lyncmock firewall: print the firewall rules that open exactly a scenario's paths. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "firewall/firewall.h"
#include "scenarios/scenario.h"

static int cmd_firewall_exec(int, char **);

const struct cmd_entry cmd_firewall_entry = {
    .name = "firewall",
    .summary = "print firewall rules that open the scenario's paths",
    .usage =
        "usage: lyncmock firewall [--scenario F] --format nft|iptables|ip6tables|powershell|csv\n"
        "                         [--chain forward|input] [--host H] [--output FILE]\n"
        "\n"
        "Prints the rules that open exactly the scenario's open paths (every source\n"
        "host to every destination host of each rule, TCP to its port) and nothing\n"
        "else; `expect: blocked` rules get no accept (the default drop covers them).\n"
        "\n"
        "  --scenario F   scenario file or built-in name (default single-director)\n"
        "  --format nft   an `inet lyncmock` table for a Linux firewall between the\n"
        "                 zones (`nft -f FILE`); `lyncmock lab` loads this very output\n"
        "  --format iptables   iptables-restore input (filter table, IPv4 paths)\n"
        "  --format ip6tables  ip6tables-restore input (filter table, IPv6 paths)\n"
        "  --format powershell New-NetFirewallRule per inbound path, grouped by\n"
        "                 destination host (run each block on that Windows host)\n"
        "  --format csv   the flow table a firewall team works from: one row per path\n"
        "                 (rule_id, source/destination host and address, protocol,\n"
        "                 port, service, purpose, reference, action); `lyncmock lab\n"
        "                 --firewall FLOWS.csv` reads such a table back\n"
        "  --chain input  nft/iptables: a host firewall (input hook) instead of the\n"
        "                 forward chain of a router between zones\n"
        "  --host H       input chain / powershell: only the paths into host H\n"
        "  --output FILE  write to FILE (atomically) instead of stdout\n",
    .exec = cmd_firewall_exec,
};

static int
cmd_firewall_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"scenario", required_argument, NULL, 's'}, {"format", required_argument, NULL, 'f'},
	    {"chain", required_argument, NULL, 'c'},    {"host", required_argument, NULL, 'H'},
	    {"output", required_argument, NULL, 'o'},   {NULL, 0, NULL, 0},
	};
	const struct cmd_entry *e = &cmd_firewall_entry;
	const char *spec = NULL, *format = NULL, *output = NULL;
	struct firewall_opts fo;
	enum firewall_format fmt;
	struct scenario *sc = NULL;
	char err[8192], *text = NULL;
	size_t len = 0;
	int c, rc = LM_EXIT_USAGE;

	memset(&fo, 0, sizeof fo);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:f:c:H:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			spec = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "input") == 0)
				fo.input_chain = true;
			else if (strcmp(optarg, "forward") != 0)
				return cmd_usage_error(e, "--chain must be forward or input");
			break;
		case 'H':
			fo.only_host = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		default:
			return cmd_getopt_error(e, c, argv, longopts);
		}
	}
	if (cmd_no_operands(e, argc, argv) != LM_EXIT_OK)
		return LM_EXIT_USAGE;
	if (format == NULL)
		return cmd_usage_error(
		    e, "--format is required (nft, iptables, ip6tables, powershell or csv)");
	if (firewall_format_from_name(format, &fmt) == -1)
		return cmd_usage_error(
		    e, "unknown format '%s' (nft, iptables, ip6tables, powershell or csv)", format);
	if (fo.input_chain && (fmt == FIREWALL_POWERSHELL || fmt == FIREWALL_CSV))
		return cmd_usage_error(e, "--chain applies to nft and ip(6)tables only");
	if (fo.only_host != NULL && !fo.input_chain && fmt != FIREWALL_POWERSHELL)
		return cmd_usage_error(e, "--host needs --chain input (or --format powershell)");

	if ((sc = scenario_load(spec, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		return LM_EXIT_USAGE;
	}
	if (fo.only_host != NULL && scenario_host_find(sc, fo.only_host) == NULL) {
		rc = cmd_usage_error(e, "no host '%s' in scenario %s", fo.only_host, sc->name);
		goto out;
	}
	if (firewall_render(sc, fmt, &fo, &text, &len, err, sizeof err) == -1) {
		fprintf(stderr, "lyncmock firewall: %s\n", err);
		rc = LM_EXIT_FAIL;
		goto out;
	}
	if (output == NULL || strcmp(output, "-") == 0) {
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
			fprintf(stderr, "lyncmock firewall: write: %s\n", strerror(errno));
			rc = LM_EXIT_FAIL;
			goto out;
		}
	} else if (lm_write_file_atomic(output, text, len, 0644) == -1) {
		fprintf(stderr, "lyncmock firewall: %s: %s\n", output, strerror(errno));
		rc = LM_EXIT_FAIL;
		goto out;
	}
	rc = LM_EXIT_OK;
out:
	free(text);
	scenario_free(sc);
	return rc;
}
