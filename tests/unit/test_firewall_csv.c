/* Unit tests for the CSV flow table: written for a scenario, read back, errors with their line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firewall/firewall.h"
#include "scenarios/scenario.h"

#define SD_OPEN_PATHS (13 + 3 + 4 + 4)

static struct scenario *
load(void)
{
	char err[4096];
	struct scenario *sc = scenario_load("single-director", err, sizeof err);
	if (sc == NULL)
		fail_msg("scenario_load: %s", err);
	return sc;
}

static void
test_round_trip(void **state)
{
	struct scenario *sc = load();
	struct firewall_flow *fl;
	char err[512], *csv, *nft;
	size_t len, n, nlen, rows = 0;

	(void)state;
	assert_int_equal(firewall_render(sc, FIREWALL_CSV, NULL, &csv, &len, err, sizeof err), 0);
	for (size_t i = 0; i < len; i++)
		rows += csv[i] == '\n';
	assert_int_equal(rows, SD_OPEN_PATHS + 1); /* header + one row per path */
	assert_non_null(strstr(csv, "\"edge-dir-sip\",\"edge01\",\"198.18.1.30\",\"dir01\","
	                            "\"198.18.1.10\",\"tcp\",\"5061\",\"sip-mtls\""));
	assert_int_equal(firewall_flows_read("sd.csv", csv, len, &fl, &n, err, sizeof err), 0);
	assert_int_equal(n, SD_OPEN_PATHS);
	assert_string_equal(fl[0].id, "rp-dir-http");
	assert_string_equal(fl[0].src, "198.18.0.10");
	assert_int_equal(fl[0].port_lo, 8080);
	assert_true(fl[0].allow);
	assert_int_equal(fl[0].line, 2);
	assert_int_equal(fl[n - 1].line, SD_OPEN_PATHS + 1);
	assert_int_equal(firewall_flows_nft(sc, "sd.csv", fl, n, &nft, &nlen, err, sizeof err), 0);
	assert_non_null(strstr(nft, "ip saddr 198.18.0.10 ip daddr 198.18.1.10 tcp dport 8080 "
	                            "accept comment \"sd.csv line 2: rp-dir-http\""));
	free(nft);
	firewall_flows_free(fl, n);
	free(csv);
	scenario_free(sc);
}

static void
test_export_shapes(void **state)
{
	/* a firewall manager's export: other headers, order, quoting, ranges, deny, hosts */
	static const char text[] = "Name,Source,Destination,Proto,Ports,Action,Comment\n"
	                           "\n"
	                           "# comment row\n"
	                           "media,198.18.0.0/24,edge01,udp,50000-59999,allow,\"a, b\"\n"
	                           "\"no\nsmb\",any,dir01,tcp,445,deny,\n"
	                           "all,198.18.0.20,any,any,any,allow,too broad\n";
	struct scenario *sc = load();
	struct firewall_flow *fl;
	char err[512], *nft;
	size_t n, nlen;

	(void)state;
	assert_int_equal(
	    firewall_flows_read("x.csv", text, sizeof text - 1, &fl, &n, err, sizeof err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(fl[0].line, 4);
	assert_int_equal(fl[0].proto, FIREWALL_PROTO_UDP);
	assert_int_equal(fl[0].port_lo, 50000);
	assert_int_equal(fl[0].port_hi, 59999);
	assert_string_equal(fl[0].purpose, "a, b");
	assert_int_equal(fl[1].line, 5); /* the row starts on line 5, its quoted id spans two */
	assert_false(fl[1].allow);
	assert_int_equal(fl[2].proto, FIREWALL_PROTO_ANY);
	assert_int_equal(firewall_flows_nft(sc, "x.csv", fl, n, &nft, &nlen, err, sizeof err), 0);
	assert_non_null(strstr(nft, "ip saddr 198.18.0.0/24 ip daddr 198.18.1.30 udp dport "
	                            "50000-59999 accept comment \"x.csv line 4: media\""));
	assert_non_null(strstr(nft, "ip daddr 198.18.1.10 tcp dport 445 drop"));
	assert_non_null(strstr(nft, "ip saddr 198.18.0.20 accept comment \"x.csv line 7: all\""));
	free(nft);
	firewall_flows_free(fl, n);
	scenario_free(sc);
}

static void
expect_error(const char *text, const char *want)
{
	struct firewall_flow *fl = NULL;
	size_t n = 99;
	char err[512];

	assert_int_equal(
	    firewall_flows_read("bad.csv", text, strlen(text), &fl, &n, err, sizeof err), -1);
	if (strstr(err, want) == NULL)
		fail_msg("'%s': got '%s', want '%s'", text, err, want);
	assert_null(fl);
	assert_int_equal(n, 0);
}

static void
test_errors(void **state)
{
	struct scenario *sc = load();
	struct firewall_flow *fl;
	char err[512], *nft;
	size_t n, nlen;
	static const char unknown[] = "source,destination,port,action\nnosuch,dir01,443,allow\n";

	(void)state;
	expect_error("", "bad.csv:1: empty flow table");
	expect_error("source,destination,action\n", "bad.csv:1: no port column");
	expect_error("source,destination,port\n", "no action column");
	expect_error("destination,port,action\n", "no source column");
	expect_error("source,destination,port,action\n1.2.3.4,any,99999,allow\n",
	             "bad.csv:2: port '99999'");
	expect_error("source,destination,port,action\n1.2.3.4,any,80-70,allow\n", "port '80-70'");
	expect_error("source,destination,port,action\n\n\n1.2.3.4/33,any,80,allow\n",
	             "bad.csv:4: source '1.2.3.4/33'");
	expect_error("source,destination,port,action\n1.2.3.4,a b,80,allow\n", "destination 'a b'");
	expect_error("source,destination,port,action\n1.2.3.4,any,80,maybe\n", "action 'maybe'");
	expect_error("source,destination,protocol,port,action\nany,any,icmp,,allow\n",
	             "protocol 'icmp'");
	expect_error("source,destination,protocol,port,action\nany,any,any,80,allow\n",
	             "needs protocol tcp or udp");
	assert_int_equal(
	    firewall_flows_read("u.csv", unknown, sizeof unknown - 1, &fl, &n, err, sizeof err), 0);
	assert_int_equal(firewall_flows_nft(sc, "u.csv", fl, n, &nft, &nlen, err, sizeof err), -1);
	assert_non_null(strstr(err, "u.csv:2: no host 'nosuch'"));
	firewall_flows_free(fl, n);
	scenario_free(sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_export_shapes),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
