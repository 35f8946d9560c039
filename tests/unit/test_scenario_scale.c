/* Unit test: a scenario far above the old caps (1,024 hosts, 4,096 rules) with
 * 360,000 paths and 1,510 overrides loads, exactly, in bounded time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "scenarios/scenario.h"

#define NCL 3000 /* internal clients */
#define NFE 40   /* front ends */

struct buf {
	char *p;
	size_t n, cap;
};

static void __attribute__((format(printf, 2, 3))) put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->cap - b->n < 512) {
		b->cap = b->cap ? b->cap * 2 : 1 << 20;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < b->cap - b->n);
	b->n += (size_t)n;
}

/* The same shape as bench/scale_rules.py: per-host rules and per-host
 * exceptions to broad rules, the way firewall teams write them. */
static char *
make_scenario(size_t *len)
{
	struct buf b = {0};

	put(&b, "name: scale\ndomain: contoso.local\nhosts:\n");
	for (int i = 0; i < NCL; i++)
		put(&b, "  - {name: cl%05d, role: internal-client, address: 198.18.%d.%d}\n", i,
		    (i + 1) / 256, (i + 1) % 256);
	for (int i = 0; i < NFE; i++)
		put(&b,
		    "  - {name: fe%04d, role: front-end, address: 198.19.0.%d, fqdn: "
		    "fe%04d.contoso.local, pool: fepool.contoso.local}\n",
		    i, i + 1, i);
	put(&b, "rules:\n  - {id: any-fe-sip, service: sip-mtls, port: 5061, from: any, to: "
	        "front-end}\n");
	for (int i = 0; i < NCL; i++) {
		put(&b,
		    "  - {id: cl%05d-https, service: https, port: 443, from: cl%05d, to: "
		    "front-end}\n",
		    i, i);
		if (i % 2 == 0)
			put(&b,
			    "  - {id: cl%05d-sip-no, service: sip-mtls, port: 5061, from: cl%05d, "
			    "to: front-end, expect: blocked}\n",
			    i, i);
	}
	for (int i = 0; i < NFE; i++) {
		put(&b,
		    "  - {id: clients-fe%04d-http, service: http, port: 80, from: "
		    "internal-client, to: fe%04d}\n",
		    i, i);
		if (i % 4 == 0)
			put(&b,
			    "  - {id: cl%05d-fe%04d-http-no, service: http, port: 80, from: "
			    "cl%05d, to: fe%04d, expect: blocked}\n",
			    i, i, i, i);
	}
	*len = b.n;
	return b.p;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_large_scenario_loads(void **state)
{
	static char err[16384];
	size_t len;
	char *text = make_scenario(&len);
	double t0, dt;
	struct scenario *sc;
	const struct scenario_rule *any = NULL, *http0 = NULL;
	(void)state;

	t0 = now_s();
	sc = scenario_load_buffer("scale.yaml", text, len, err, sizeof err);
	dt = now_s() - t0;
	free(text);
	if (sc == NULL)
		fail_msg("did not load: %s", err);
	print_message("%zu hosts, %zu rules, %zu paths loaded in %.2f s\n", sc->nhosts, sc->nrules,
	              scenario_path_count(sc), dt);
	assert_int_equal(sc->nhosts, NCL + NFE);
	assert_int_equal(sc->nrules, 1 + NCL + NCL / 2 + NFE + NFE / 4);
	/* 443: every client to every FE; 5061: the half not blocked, and the blocked
	 * half; 80: every client to every FE (an exception takes one source from one
	 * rule and blocks that path instead) */
	assert_int_equal(scenario_path_count(sc),
	                 (size_t)NCL * NFE + (size_t)NCL / 2 * NFE * 2 + (size_t)NCL * NFE);
	for (size_t i = 0; i < sc->nrules; i++) {
		if (strcmp(sc->rules[i].id, "any-fe-sip") == 0)
			any = &sc->rules[i];
		if (strcmp(sc->rules[i].id, "clients-fe0000-http") == 0)
			http0 = &sc->rules[i];
	}
	assert_non_null(any);
	assert_non_null(http0);
	/* the host exceptions override the broad rules for exactly their sources */
	assert_int_equal(any->nfrom, NCL / 2);
	assert_false(scenario_rule_has_source(any, scenario_host_find(sc, "cl00000")));
	assert_true(scenario_rule_has_source(any, scenario_host_find(sc, "cl00001")));
	assert_int_equal(http0->nfrom, NCL - 1);
	assert_false(scenario_rule_has_source(http0, scenario_host_find(sc, "cl00000")));
	assert_non_null(scenario_host_find(sc, "fe0039"));
	assert_null(scenario_host_find(sc, "fe0040"));
	/* linear checks: well under a second on a quiet machine; generous here */
	assert_true(dt < 20.0);
	scenario_free(sc);
}

/* A contradiction among thousands of rules is still found, at its line. */
static void
test_large_contradiction(void **state)
{
	static char err[16384];
	size_t len;
	char *text = make_scenario(&len), *big;
	const char *extra = "  - {id: late-open, service: sip-mtls, port: 5061, from: cl00002, to: "
	                    "fe0001}\n";
	struct scenario *sc;
	(void)state;

	/* cl00002 is blocked on 5061 by a host rule: a second host rule opening
	 * one of those paths contradicts it (same specificity) */
	big = malloc(len + strlen(extra) + 1);
	assert_non_null(big);
	memcpy(big, text, len);
	memcpy(big + len, extra, strlen(extra) + 1);
	free(text);
	sc = scenario_load_buffer("scale.yaml", big, len + strlen(extra), err, sizeof err);
	free(big);
	assert_null(sc);
	assert_non_null(strstr(err, "rule 'late-open' contradicts rule 'cl00002-sip-no'"));
	assert_non_null(strstr(err, "cl00002 -> fe0001 port 5061"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_large_scenario_loads),
	    cmocka_unit_test(test_large_contradiction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
