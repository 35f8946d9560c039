/* Port ranges with a reproducible sample, UDP services, and what the
 * firewall formats make of them (nft, iptables, PowerShell, CSV). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firewall/firewall.h"
#include "scenarios/scenario.h"

static const char base[] = "name: ranges\n"
                           "domain: contoso.local\n"
                           "hosts:\n"
                           "  - {name: cl01, role: internal-client, address: 198.18.0.20}\n"
                           "  - {name: edge01, role: edge-internal, address: 198.18.1.30}\n"
                           "rules:\n";

static struct scenario *
load(const char *rules, char *err, size_t errlen)
{
	char text[4096];

	snprintf(text, sizeof text, "%s%s", base, rules);
	return scenario_load_buffer("ranges.yaml", text, strlen(text), err, errlen);
}

static char *
render(const struct scenario *sc, enum firewall_format fmt, const struct firewall_opts *o)
{
	char err[512], *out = NULL;
	size_t len = 0;

	if (firewall_render(sc, fmt, o, &out, &len, err, sizeof err) != 0)
		fail_msg("firewall_render: %s", err);
	return out;
}

static const char good[] =
    "  - {id: cl-edge-stun, service: stun, port: 3478, from: cl01, to: edge01}\n"
    "  - {id: cl-edge-turn, service: turn-tcp, port: 3478, from: cl01, to: edge01}\n"
    "  - {id: cl-edge-media, service: tcp, port: 50000-59999, sample: 4, from: cl01, to: edge01}\n"
    "  - {id: cl-edge-media8, service: tcp, port: 40000-40099, from: cl01, to: edge01}\n"
    "  - {id: cl-edge-small, service: tcp, port: 5062-5064, from: cl01, to: edge01}\n";

static void
test_sample(void **state)
{
	char err[2048];
	struct scenario *sc = load(good, err, sizeof err);
	struct scenario_listen ls[64];
	const uint16_t want4[] = {50000, 53333, 56666, 59999};
	size_t n;

	(void)state;
	if (sc == NULL)
		fail_msg("%s", err);
	/* a UDP and a TCP service share port 3478: different sockets */
	assert_int_equal(sc->rules[0].nports, 1);
	assert_int_equal(sc->rules[2].port, 50000);
	assert_int_equal(sc->rules[2].port_hi, 59999);
	assert_int_equal(sc->rules[2].nports, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sc->rules[2].ports[i], want4[i]);
	/* default 8, both ends, spread */
	assert_int_equal(sc->rules[3].nports, 8);
	assert_int_equal(sc->rules[3].ports[0], 40000);
	assert_int_equal(sc->rules[3].ports[7], 40099);
	for (size_t i = 1; i < 8; i++)
		assert_true(sc->rules[3].ports[i] > sc->rules[3].ports[i - 1]);
	/* a range smaller than the sample: every port */
	assert_int_equal(sc->rules[4].nports, 3);
	assert_int_equal(sc->rules[4].ports[1], 5063);
	/* the listener binds what is probed: 2 on 3478 (udp, tcp) + 4 + 8 + 3 */
	n = scenario_listens_of(sc, scenario_host_find(sc, "edge01"), ls, 64);
	assert_int_equal(n, 17);
	assert_int_equal(ls[0].port, 3478);
	assert_int_equal(ls[1].port, 3478);
	assert_true(ls[0].service != ls[1].service);
	/* reproducible: the same ports on a second load */
	struct scenario *again = load(good, err, sizeof err);
	assert_non_null(again);
	assert_memory_equal(again->rules[3].ports, sc->rules[3].ports, 8 * sizeof(uint16_t));
	scenario_free(again);
	scenario_free(sc);
}

static void
test_errors(void **state)
{
	char err[2048];

	(void)state;
	assert_null(load("  - {id: a, service: tcp, port: 60000-50000, from: cl01, to: edge01}\n",
	                 err, sizeof err));
	assert_non_null(strstr(err, "ranges.yaml:7: bad port '60000-50000'"));
	assert_null(
	    load("  - {id: a, service: tcp, port: 5061, sample: 3, from: cl01, to: edge01}\n", err,
	         sizeof err));
	assert_non_null(strstr(err, "needs a port range"));
	assert_null(
	    load("  - {id: a, service: tcp, port: 1-9, sample: 0, from: cl01, to: edge01}\n", err,
	         sizeof err));
	assert_non_null(strstr(err, "bad sample '0'"));
	/* two TCP services on overlapping ranges of one host */
	assert_null(load("  - {id: a, service: tcp, port: 50000-50010, from: cl01, to: edge01}\n"
	                 "  - {id: b, service: tls, port: 50005, from: cl01, to: edge01}\n",
	                 err, sizeof err));
	assert_non_null(strstr(err, "one port, one service"));
}

static void
test_firewall_formats(void **state)
{
	char err[2048], *t;
	struct scenario *sc = load(good, err, sizeof err);
	struct firewall_fault_spec faults[] = {{"cl-edge-stun", FIREWALL_FAULT_REJECT},
	                                       {"cl-edge-media", FIREWALL_FAULT_DROP}};
	struct firewall_opts o = {.faults = faults, .nfaults = 2};

	(void)state;
	assert_non_null(sc);
	t = render(sc, FIREWALL_NFT, NULL);
	assert_non_null(
	    strstr(t, "ip saddr 198.18.0.20 ip daddr 198.18.1.30 udp dport 3478 accept"));
	assert_non_null(
	    strstr(t, "ip saddr 198.18.0.20 ip daddr 198.18.1.30 tcp dport 3478 accept"));
	assert_non_null(strstr(t, "tcp dport 50000-59999 accept"));
	assert_non_null(strstr(t, "# cl-edge-stun: stun 3478/udp"));
	free(t);
	t = render(sc, FIREWALL_NFT, &o);
	assert_non_null(strstr(t, "udp dport 3478 reject with icmpx port-unreachable"));
	assert_non_null(strstr(t, "tcp dport 3478 accept"));
	assert_non_null(strstr(t, "tcp dport 50000-59999 drop"));
	free(t);
	t = render(sc, FIREWALL_IPTABLES, NULL);
	assert_non_null(strstr(t, "-p udp -m udp --dport 3478 "));
	assert_non_null(strstr(t, "-p tcp -m tcp --dport 50000:59999 "));
	free(t);
	t = render(sc, FIREWALL_POWERSHELL, NULL);
	assert_non_null(strstr(t, "-Protocol UDP -LocalPort 3478 -RemoteAddress 198.18.0.20 "));
	assert_non_null(strstr(t, "-Protocol TCP -LocalPort 50000-59999 "));
	assert_non_null(strstr(t, "lyncmock cl-edge-stun (3478/udp)"));
	free(t);
	t = render(sc, FIREWALL_CSV, NULL);
	assert_non_null(strstr(t, "\"udp\",\"3478\",\"stun\","));
	assert_non_null(strstr(t, "\"tcp\",\"50000-59999\",\"tcp\","));
	free(t);
	scenario_free(sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_firewall_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
