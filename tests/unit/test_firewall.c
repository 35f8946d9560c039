/* Unit tests for firewall/: exactly the open paths, per format, with rule ids and lab faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "firewall/firewall.h"
#include "scenarios/scenario.h"

/* Hand count from scenarios/single-director.yaml: 13 one-to-one rules, the
 * three CLS rules from `any` (4 other hosts) minus cl01 -> edge01:50001,
 * which clients-edge-cls-blocked keeps shut. */
#define SD_OPEN_PATHS (13 + 3 + 4 + 4)
#define SD_OPEN_RULES 16
/* director-pool: 2 Directors, 2 Front Ends, 2 Edges, `any` = the 7 others. */
#define DP_OPEN_PATHS (2 + 2 + 4 + 2 + 2 + 4 + (6 + 14 + 14) + 4 * 5 + 2 + 2)
#define DP_OPEN_RULE_DESTS (16 * 2)

static struct scenario *
load(const char *name)
{
	char err[4096];
	struct scenario *sc = scenario_load(name, err, sizeof err);
	if (sc == NULL)
		fail_msg("scenario_load(%s): %s", name, err);
	return sc;
}

static char *
render(const struct scenario *sc, enum firewall_format fmt, const struct firewall_opts *o)
{
	char err[512], *out = NULL;
	size_t len = 0;

	if (firewall_render(sc, fmt, o, &out, &len, err, sizeof err) != 0)
		fail_msg("firewall_render: %s", err);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

/* Lines of text containing every one of the needles (NULL-terminated). */
static size_t
count_lines(const char *text, ...)
{
	size_t n = 0;
	const char *line = text;

	while (line != NULL && *line != '\0') {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char *copy = strndup(line, len);
		va_list ap;
		const char *needle;
		int all = 1;

		assert_non_null(copy);
		va_start(ap, text);
		while ((needle = va_arg(ap, const char *)) != NULL)
			if (strstr(copy, needle) == NULL)
				all = 0;
		va_end(ap);
		free(copy);
		n += all;
		line = eol ? eol + 1 : NULL;
	}
	return n;
}

static void
test_paths_single_director(void **state)
{
	struct scenario *sc = load("single-director");
	struct firewall_path *p = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(firewall_paths(sc, &p, &n), 0);
	assert_int_equal(n, SD_OPEN_PATHS);
	for (size_t i = 0; i < n; i++) {
		assert_false(p[i].rule->expect_blocked);
		assert_ptr_not_equal(p[i].src, p[i].dst);
		/* the blocked path is never opened, by any rule */
		assert_false(strcmp(p[i].src->name, "cl01") == 0 &&
		             strcmp(p[i].dst->name, "edge01") == 0 && p[i].rule->port == 50001);
		for (size_t j = 0; j < i; j++)
			assert_false(p[i].src == p[j].src && p[i].dst == p[j].dst &&
			             p[i].rule->port == p[j].rule->port);
	}
	free(p);
	scenario_free(sc);
}

static void
test_nft_single_director(void **state)
{
	struct scenario *sc = load("single-director");
	char *t = render(sc, FIREWALL_NFT, NULL);
	(void)state;

	assert_int_equal(count_lines(t, " accept comment \"", NULL), SD_OPEN_PATHS);
	assert_int_equal(count_lines(t, "policy drop;", "hook forward", NULL), 1);
	assert_int_equal(count_lines(t, "ct state established,related accept", NULL), 1);
	assert_int_equal(count_lines(t, "table inet lyncmock {", NULL), 1);
	/* comments carry rule ids */
	assert_int_equal(count_lines(t,
	                             "ip saddr 198.18.0.10 ip daddr 198.18.1.10 tcp dport 8080 "
	                             "accept comment \"rp-dir-http\"",
	                             NULL),
	                 1);
	assert_int_equal(count_lines(t, "accept comment \"any-edge-cls2\"", NULL), 4);
	assert_int_equal(count_lines(t, "accept comment \"any-edge-cls1\"", NULL), 3);
	/* the blocked rule: a comment, no accept, and its path absent */
	assert_int_equal(count_lines(t, "clients-edge-cls-blocked", " accept comment", NULL), 0);
	assert_int_equal(count_lines(t, "\"clients-edge-cls-blocked", NULL), 0);
	assert_int_equal(count_lines(t, "# clients-edge-cls-blocked", "policy drop", NULL), 1);
	assert_int_equal(count_lines(t, "198.18.0.20", "198.18.1.30", "dport 50001", NULL), 0);
	assert_int_equal(count_lines(t, "198.18.0.20", "198.18.1.30", "dport 50002", NULL), 1);
	assert_int_equal(count_lines(t, " drop comment", NULL), 0);
	assert_int_equal(count_lines(t, "masquerade", NULL), 0);
	free(t);
	scenario_free(sc);
}

static void
test_nft_faults(void **state)
{
	struct scenario *sc = load("single-director");
	struct firewall_fault_spec fs[] = {
	    {"clients-dir-https", FIREWALL_FAULT_DROP},
	    {"rp-dir-https", FIREWALL_FAULT_REJECT},
	    {"clients-dir-http", FIREWALL_FAULT_NAT},
	};
	struct firewall_opts o = {.faults = fs, .nfaults = 3};
	char *t = render(sc, FIREWALL_NFT, &o);
	(void)state;

	assert_int_equal(count_lines(t, " accept comment \"", NULL), SD_OPEN_PATHS - 2);
	assert_int_equal(count_lines(t, "tcp dport 443 drop comment \"clients-dir-https", NULL), 1);
	assert_int_equal(
	    count_lines(t, "tcp dport 4443 reject with tcp reset", "rp-dir-https", NULL), 1);
	/* reject only on the Director path: rp-fe-https on 4443 is untouched */
	assert_int_equal(count_lines(t, "reject", NULL), 1);
	assert_int_equal(count_lines(t, "hook postrouting", "srcnat", NULL), 1);
	assert_int_equal(count_lines(t,
	                             "ip saddr 198.18.0.20 ip daddr 198.18.1.10 tcp dport 80 "
	                             "masquerade",
	                             NULL),
	                 1);
	assert_int_equal(count_lines(t, "masquerade", NULL), 1);
	/* nat keeps the accept */
	assert_int_equal(count_lines(t, "dport 80 accept comment \"clients-dir-http\"", NULL), 1);
	free(t);
	scenario_free(sc);
}

static void
test_nft_input_chain(void **state)
{
	struct scenario *sc = load("single-director");
	struct firewall_opts o = {.input_chain = true, .only_host = "edge01"};
	char *t = render(sc, FIREWALL_NFT, &o);
	(void)state;

	assert_int_equal(count_lines(t, "hook input", "policy drop", NULL), 1);
	assert_int_equal(count_lines(t, "hook forward", NULL), 0);
	/* into edge01: 3 + 4 + 4 CLS paths, SIP from dir01 and fe01 */
	assert_int_equal(count_lines(t, " accept comment \"", NULL), 3 + 4 + 4 + 2);
	assert_int_equal(count_lines(t, "accept comment", "daddr 198.18.1.30", NULL), 13);
	free(t);
	scenario_free(sc);
}

static void
test_iptables_single_director(void **state)
{
	struct scenario *sc = load("single-director");
	char *t = render(sc, FIREWALL_IPTABLES, NULL);
	(void)state;

	assert_int_equal(count_lines(t, "-A FORWARD -s ", "--dport", "-j ACCEPT", NULL),
	                 SD_OPEN_PATHS);
	assert_int_equal(count_lines(t, ":FORWARD DROP", NULL), 1);
	assert_int_equal(count_lines(t, "--ctstate ESTABLISHED,RELATED -j ACCEPT", NULL), 1);
	assert_int_equal(count_lines(t, "*filter", NULL), 1);
	assert_int_equal(count_lines(t, "COMMIT", NULL), 1);
	assert_int_equal(count_lines(t,
	                             "-s 198.18.1.30/32 -d 198.18.1.10/32 -p tcp -m tcp "
	                             "--dport 5061 -m comment --comment \"edge-dir-sip\" -j ACCEPT",
	                             NULL),
	                 1);
	assert_int_equal(count_lines(t, "clients-edge-cls-blocked", "-j", NULL), 0);
	assert_int_equal(count_lines(t, "-s 198.18.0.20/32", "--dport 50001", NULL), 0);
	free(t);
	/* an IPv4-only scenario has nothing for ip6tables but a note per path */
	t = render(sc, FIREWALL_IP6TABLES, NULL);
	assert_int_equal(count_lines(t, "-j ACCEPT", "--dport", NULL), 0);
	assert_int_equal(count_lines(t, "is not IPv6", NULL), SD_OPEN_PATHS);
	assert_int_equal(count_lines(t, ":FORWARD DROP", NULL), 1);
	free(t);
	scenario_free(sc);
}

static void
test_powershell_single_director(void **state)
{
	struct scenario *sc = load("single-director");
	char *t = render(sc, FIREWALL_POWERSHELL, NULL);
	(void)state;

	/* one rule per (open rule, destination host): every rule here has one */
	assert_int_equal(count_lines(t, "New-NetFirewallRule", "-Direction Inbound",
	                             "-Protocol TCP", "-Action Allow", "-Profile Domain", NULL),
	                 SD_OPEN_RULES);
	assert_int_equal(count_lines(t, "-DisplayName \"lyncmock rp-dir-http (8080)\"",
	                             "-LocalPort 8080 ", "-RemoteAddress 198.18.0.10 ", NULL),
	                 1);
	assert_int_equal(count_lines(t, "lyncmock any-edge-cls1 (50001)",
	                             "-RemoteAddress 198.18.0.10,198.18.1.10,198.18.1.20 ", NULL),
	                 1);
	assert_int_equal(
	    count_lines(t, "lyncmock any-edge-cls2 (50002)",
	                "-RemoteAddress 198.18.0.10,198.18.0.20,198.18.1.10,198.18.1.20 ", NULL),
	    1);
	assert_int_equal(count_lines(t, "New-NetFirewallRule", "clients-edge-cls-blocked", NULL),
	                 0);
	/* grouped by destination host, each named */
	assert_int_equal(count_lines(t, "# ---- host dir01 (director, 198.18.1.10) ----", NULL), 1);
	assert_int_equal(count_lines(t, "# ---- host fe01", NULL), 1);
	assert_int_equal(count_lines(t, "# ---- host edge01", NULL), 1);
	assert_int_equal(count_lines(t, "# ---- host rp01", NULL), 0);
	assert_int_equal(count_lines(t, "# ---- host", NULL), 3);
	free(t);
	scenario_free(sc);
}

static void
test_director_pool(void **state)
{
	struct scenario *sc = load("director-pool");
	struct firewall_path *p = NULL;
	size_t n = 0;
	char *t;
	(void)state;

	assert_int_equal(firewall_paths(sc, &p, &n), 0);
	free(p);
	assert_int_equal(n, DP_OPEN_PATHS);
	t = render(sc, FIREWALL_NFT, NULL);
	assert_int_equal(count_lines(t, " accept comment \"", NULL), DP_OPEN_PATHS);
	assert_int_equal(count_lines(t, "accept comment \"edge-dir-sip\"", NULL), 4);
	free(t);
	t = render(sc, FIREWALL_IPTABLES, NULL);
	assert_int_equal(count_lines(t, "-A FORWARD -s ", "-j ACCEPT", NULL), DP_OPEN_PATHS);
	free(t);
	t = render(sc, FIREWALL_POWERSHELL, NULL);
	assert_int_equal(count_lines(t, "New-NetFirewallRule", NULL), DP_OPEN_RULE_DESTS);
	assert_int_equal(count_lines(t, "# ---- host", NULL), 6);
	free(t);
	scenario_free(sc);
}

static void
test_helpers(void **state)
{
	char buf[16];
	enum firewall_format f;
	(void)state;

	assert_string_equal(firewall_label("a\"b$c d", buf, sizeof buf), "a_b_c_d");
	assert_string_equal(firewall_label("0123456789abcdefXYZ", buf, sizeof buf),
	                    "0123456789abcde");
	assert_int_equal(firewall_addr_family("198.18.0.1"), AF_INET);
	assert_int_equal(firewall_addr_family("2001:db8::1"), AF_INET6);
	assert_int_equal(firewall_addr_family("dir01"), -1);
	assert_int_equal(firewall_format_from_name("iptables", &f), 0);
	assert_int_equal(f, FIREWALL_IPTABLES);
	assert_int_equal(firewall_format_from_name("pf", &f), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths_single_director),
	    cmocka_unit_test(test_nft_single_director),
	    cmocka_unit_test(test_nft_faults),
	    cmocka_unit_test(test_nft_input_chain),
	    cmocka_unit_test(test_iptables_single_director),
	    cmocka_unit_test(test_powershell_single_director),
	    cmocka_unit_test(test_director_pool),
	    cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
