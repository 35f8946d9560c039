/* Unit tests for the scenario model: built-ins, host resolution, listens, the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenarios/scenario.h"

static char errbuf[16384];

static const char *
src_dir(void)
{
	const char *d = getenv("LM_SOURCE_DIR");
	return d != NULL ? d : ".";
}

static struct scenario *
load_ok(const char *spec)
{
	struct scenario *sc = scenario_load(spec, errbuf, sizeof(errbuf));
	if (sc == NULL)
		fail_msg("loading %s failed:\n%s", spec ? spec : "(default)", errbuf);
	return sc;
}

static struct scenario *
load_fixture(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/fixtures/scenarios/%s", src_dir(), name);
	return load_ok(path);
}

/* "a,b,c": the names of a host list, to compare in one assertion. */
static const char *
names(const struct scenario_host *const *v, size_t n)
{
	static char buf[4][1024];
	static int k;
	char *b = buf[k++ & 3];
	size_t used = 0;

	b[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(b + used, 1024 - used, "%s%s", i ? "," : "", v[i]->name);
	return b;
}

static const struct scenario_rule *
rule(const struct scenario *sc, const char *id)
{
	for (size_t i = 0; i < sc->nrules; i++) {
		if (strcmp(sc->rules[i].id, id) == 0)
			return &sc->rules[i];
	}
	fail_msg("no rule %s", id);
	return NULL;
}

static void
test_default_is_single_director(void **state)
{
	struct scenario *sc;
	(void)state;

	sc = load_ok(NULL);
	assert_string_equal(sc->name, "single-director");
	assert_string_equal(sc->file, "scenarios/single-director.yaml");
	assert_string_equal(sc->domain, "contoso.local");
	scenario_free(sc);
	sc = load_ok("single-director");
	assert_string_equal(sc->name, "single-director");
	scenario_free(sc);
}

/* The nine rows of Microsoft's table, with ports, sources and destinations. */
static void
test_single_director_seed_rows(void **state)
{
	static const struct {
		const char *id, *svc;
		unsigned port;
		const char *from, *to;
	} seed[] = {
	    {"rp-dir-http", "http", 8080, "rp01", "dir01"},
	    {"rp-dir-https", "https", 4443, "rp01", "dir01"},
	    {"dir-fe-https", "https", 444, "dir01", "fe01"},
	    {"clients-dir-http", "http", 80, "cl01", "dir01"},
	    {"clients-dir-https", "https", 443, "cl01", "dir01"},
	    {"edge-dir-sip", "sip-mtls", 5061, "edge01", "dir01"},
	    {"any-edge-cls1", "cls-mtls", 50001, "rp01,dir01,fe01", "edge01"},
	    {"any-edge-cls2", "cls-mtls", 50002, "rp01,cl01,dir01,fe01", "edge01"},
	    {"any-edge-cls3", "cls-mtls", 50003, "rp01,cl01,dir01,fe01", "edge01"},
	};
	struct scenario *sc = load_ok("single-director");
	(void)state;

	assert_int_equal(sc->nhosts, 5);
	assert_int_equal(sc->nrules, 17);
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		const struct scenario_rule *r = rule(sc, seed[i].id);
		assert_string_equal(lm_service_name(r->service), seed[i].svc);
		assert_int_equal(r->port, seed[i].port);
		assert_string_equal(names(r->from_hosts, r->nfrom), seed[i].from);
		assert_string_equal(names(r->to_hosts, r->nto), seed[i].to);
		assert_false(r->expect_blocked);
	}
	/* from/to as written: roles resolved to the built-in roles */
	const struct scenario_rule *r = rule(sc, "rp-dir-http");
	assert_ptr_equal(r->from.role, scenario_role_find(sc, "reverse-proxy"));
	assert_ptr_equal(r->to.role, scenario_role_find(sc, "director"));
	assert_null(r->from.host);
	r = rule(sc, "any-edge-cls1");
	assert_true(r->from.any);
	assert_string_equal(r->from.text, "any");
	/* the rows the page's text adds */
	assert_string_equal(names(rule(sc, "fe-dir-sip")->from_hosts, 1), "fe01");
	assert_int_equal(rule(sc, "edge-fe-sip")->port, 5061);
	assert_int_equal(rule(sc, "rp-fe-https")->port, 4443);
	assert_string_equal(names(rule(sc, "rp-fe-http")->to_hosts, 1), "fe01");
	r = rule(sc, "clients-edge-cls-blocked");
	assert_true(r->expect_blocked);
	assert_string_equal(names(r->from_hosts, r->nfrom), "cl01");
	assert_int_equal(scenario_path_count(sc), 25);
	scenario_free(sc);
}

/* `from: any` leaves out the destination and hosts a more specific rule overrides. */
static void
test_any_expansion(void **state)
{
	struct scenario *sc = load_ok("single-director");
	const struct scenario_host *cl01 = scenario_host_find(sc, "cl01");
	const struct scenario_host *edge01 = scenario_host_find(sc, "edge01");
	const struct scenario_host *rp01 = scenario_host_find(sc, "rp01");
	(void)state;

	assert_non_null(cl01);
	assert_false(scenario_rule_has_source(rule(sc, "any-edge-cls1"), cl01));
	assert_true(scenario_rule_has_source(rule(sc, "any-edge-cls2"), cl01));
	assert_true(scenario_rule_has_source(rule(sc, "any-edge-cls3"), cl01));
	assert_true(scenario_rule_has_source(rule(sc, "any-edge-cls1"), rp01));
	assert_false(scenario_rule_has_source(rule(sc, "any-edge-cls1"), edge01));
	assert_true(scenario_rule_has_dest(rule(sc, "any-edge-cls1"), edge01));
	assert_false(scenario_rule_has_dest(rule(sc, "any-edge-cls1"), cl01));
	assert_true(scenario_rule_has_source(rule(sc, "clients-edge-cls-blocked"), cl01));
	scenario_free(sc);
}

static void
test_hosts_and_sans(void **state)
{
	struct scenario *sc = load_ok("single-director");
	const struct scenario_host *h;
	char buf[256];
	(void)state;

	h = scenario_host_find(sc, "dir01");
	assert_non_null(h);
	assert_string_equal(h->role->name, "director");
	assert_int_equal(h->role->cert_shape, SCENARIO_CERT_POOL);
	assert_string_equal(h->address, "198.18.1.10");
	assert_string_equal(h->pool, "dirpool.contoso.local");
	assert_string_equal(scenario_host_fqdn(sc, h, buf, sizeof(buf)), "dir01.contoso.local");
	assert_int_equal(h->nsan_extra, 6);
	assert_string_equal(h->san_extra[0], "meet.contoso.local");
	assert_string_equal(h->san_extra[1], "dialin.contoso.local");
	assert_string_equal(h->san_extra[2], "lyncdiscoverinternal.contoso.local");
	assert_string_equal(h->san_extra[3], "lyncdiscover.contoso.local");
	assert_string_equal(h->san_extra[4], "webext-dir.contoso.com");
	assert_string_equal(h->san_extra[5], "webint-dir.contoso.local");
	h = scenario_host_find(sc, "edge01");
	assert_int_equal(h->role->cert_shape, SCENARIO_CERT_SERVER);
	assert_int_equal(h->nsan_extra, 0);
	assert_null(h->pool);
	assert_string_equal(scenario_host_fqdn(sc, h, buf, sizeof(buf)),
	                    "edge01-int.contoso.local");
	h = scenario_host_find(sc, "rp01");
	assert_int_equal(h->role->cert_shape, SCENARIO_CERT_CLIENT);
	assert_null(h->fqdn);
	assert_string_equal(scenario_host_fqdn(sc, h, buf, sizeof(buf)), "rp01.contoso.local");
	assert_int_equal(h->nsan_extra, 0);
	assert_null(scenario_host_find(sc, "nosuch"));
	assert_null(scenario_host_find(sc, "director")); /* a role, not a host */
	assert_null(scenario_role_find(sc, "dir01"));
	assert_true(scenario_role_find(sc, "edge-internal")->builtin);
	scenario_free(sc);
}

static void
check_listens(const struct scenario *sc, const char *host, const unsigned *ports,
              const enum lm_client_cert *cc, const enum lm_service *svc, size_t n)
{
	struct scenario_listen out[16];
	const struct scenario_host *h = scenario_host_find(sc, host);
	size_t got;

	assert_non_null(h);
	got = scenario_listens_of(sc, h, out, 16);
	if (got != n)
		fail_msg("%s listens on %zu ports, expected %zu", host, got, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].port, ports[i]);
		assert_int_equal(out[i].client_cert, cc[i]);
		assert_int_equal(out[i].service, svc[i]);
		assert_non_null(out[i].rule);
		assert_int_equal(out[i].rule->port, ports[i]);
		assert_true(scenario_rule_has_dest(out[i].rule, h));
	}
}

static void
test_listens_of(void **state)
{
	struct scenario *sc = load_ok("single-director");
	struct scenario_listen small[2];
	(void)state;

	/* Directors serve web services (80/443/4443/8080) and SIP; 444 is the Front End's. */
	check_listens(sc, "dir01", (const unsigned[]){80, 443, 4443, 5061, 8080},
	              (const enum lm_client_cert[]){LM_CC_NONE, LM_CC_NONE, LM_CC_NONE,
	                                            LM_CC_REQUIRED, LM_CC_NONE},
	              (const enum lm_service[]){LM_SVC_HTTP, LM_SVC_HTTPS, LM_SVC_HTTPS,
	                                        LM_SVC_SIP_MTLS, LM_SVC_HTTP},
	              5);
	check_listens(
	    sc, "fe01", (const unsigned[]){444, 4443, 5061, 8080},
	    (const enum lm_client_cert[]){LM_CC_NONE, LM_CC_NONE, LM_CC_REQUIRED, LM_CC_NONE},
	    (const enum lm_service[]){LM_SVC_HTTPS, LM_SVC_HTTPS, LM_SVC_SIP_MTLS, LM_SVC_HTTP}, 4);
	/* 50001 is listened on although cl01's path to it must be blocked */
	check_listens(sc, "edge01", (const unsigned[]){5061, 50001, 50002, 50003},
	              (const enum lm_client_cert[]){LM_CC_REQUIRED, LM_CC_REQUIRED, LM_CC_REQUIRED,
	                                            LM_CC_REQUIRED},
	              (const enum lm_service[]){LM_SVC_SIP_MTLS, LM_SVC_CLS_MTLS, LM_SVC_CLS_MTLS,
	                                        LM_SVC_CLS_MTLS},
	              4);
	check_listens(sc, "rp01", NULL, NULL, NULL, 0);
	check_listens(sc, "cl01", NULL, NULL, NULL, 0);
	/* a short array: still the full count, only max written */
	assert_int_equal(scenario_listens_of(sc, scenario_host_find(sc, "dir01"), small, 2), 5);
	assert_int_equal(small[0].port, 80);
	assert_int_equal(small[1].port, 443);
	assert_int_equal(scenario_listens_of(sc, scenario_host_find(sc, "dir01"), NULL, 0), 5);
	scenario_free(sc);
}

static void
test_director_pool(void **state)
{
	struct scenario *sc = load_ok("director-pool");
	const struct scenario_rule *r;
	(void)state;

	assert_string_equal(sc->file, "scenarios/director-pool.yaml");
	assert_int_equal(sc->nhosts, 8);
	assert_true(sc->nhosts <= 9);
	assert_int_equal(sc->nrules, 17);
	r = rule(sc, "rp-dir-http");
	assert_string_equal(names(r->from_hosts, r->nfrom), "rp01");
	assert_string_equal(names(r->to_hosts, r->nto), "dir01,dir02");
	r = rule(sc, "dir-fe-https");
	assert_int_equal(r->nfrom, 2);
	assert_int_equal(r->nto, 2);
	assert_string_equal(names(r->to_hosts, r->nto), "fe01,fe02");
	r = rule(sc, "edge-dir-sip");
	assert_string_equal(names(r->from_hosts, r->nfrom), "edge01,edge02");
	r = rule(sc, "any-edge-cls1");
	assert_string_equal(names(r->from_hosts, r->nfrom), "rp01,dir01,dir02,fe01,fe02");
	assert_string_equal(names(r->to_hosts, r->nto), "edge01,edge02");
	r = rule(sc, "any-edge-cls2");
	assert_int_equal(r->nfrom, 6);
	r = rule(sc, "clients-edge-cls-blocked");
	assert_int_equal(r->nto, 2);
	/* 16 + CLS (10 + 12 + 12) + SIP 5 x 4 + 2 + 2 + blocked 2 */
	assert_int_equal(scenario_path_count(sc), 76);
	/* every member of the pool shares the pool name and its web-service SANs */
	for (int i = 0; i < 2; i++) {
		const struct scenario_host *h = scenario_host_find(sc, i ? "dir02" : "dir01");
		assert_string_equal(h->pool, "dirpool.contoso.local");
		assert_int_equal(h->nsan_extra, 6);
	}
	/* an Edge pool member: only its own extra SAN */
	assert_int_equal(scenario_host_find(sc, "edge02")->nsan_extra, 1);
	assert_string_equal(scenario_host_find(sc, "edge02")->san_extra[0],
	                    "edgepool-int.contoso.local");
	check_listens(sc, "dir02", (const unsigned[]){80, 443, 4443, 5061, 8080},
	              (const enum lm_client_cert[]){LM_CC_NONE, LM_CC_NONE, LM_CC_NONE,
	                                            LM_CC_REQUIRED, LM_CC_NONE},
	              (const enum lm_service[]){LM_SVC_HTTP, LM_SVC_HTTPS, LM_SVC_HTTPS,
	                                        LM_SVC_SIP_MTLS, LM_SVC_HTTP},
	              5);
	scenario_free(sc);
}

/* User-defined roles, IPv6, own certificates on a client-shaped destination, SAN dedupe. */
static void
test_custom_roles(void **state)
{
	struct scenario *sc = load_fixture("custom-roles.yaml");
	const struct scenario_host *h;
	const struct scenario_role *role;
	char buf[256];
	(void)state;

	role = scenario_role_find(sc, "sql-backend");
	assert_non_null(role);
	assert_false(role->builtin);
	assert_int_equal(role->cert_shape, SCENARIO_CERT_SERVER);
	assert_int_equal(role->line, 5);
	assert_int_equal(scenario_role_find(sc, "mediation")->cert_shape, SCENARIO_CERT_POOL);
	h = scenario_host_find(sc, "rp01");
	assert_string_equal(h->address, "2001:db8::10"); /* canonical form */
	/* relative to the scenario file's folder, not to the working directory */
	assert_non_null(strstr(h->cert, "/tests/fixtures/scenarios/rp01.pem"));
	assert_non_null(strstr(h->key, "/tests/fixtures/scenarios/rp01.key"));
	assert_int_equal(h->line, 8);
	/* a server role gets only its own san list, less its FQDN (sql01.fabrikam.test) */
	h = scenario_host_find(sc, "sql01");
	assert_int_equal(h->nsan_extra, 1);
	assert_string_equal(h->san_extra[0], "sql.fabrikam.test");
	/* simple_urls listed twice and again in web_services: one SAN */
	h = scenario_host_find(sc, "med01");
	assert_string_equal(scenario_host_fqdn(sc, h, buf, sizeof(buf)), "med01.fabrikam.test");
	assert_int_equal(h->nsan_extra, 3);
	assert_string_equal(h->san_extra[0], "meet.fabrikam.test");
	assert_string_equal(h->san_extra[1], "lyncdiscoverinternal.fabrikam.test");
	assert_string_equal(h->san_extra[2], "lyncdiscover.fabrikam.test");
	/* the strictest client-certificate policy wins when rules share a port */
	check_listens(sc, "med01", (const unsigned[]){5070},
	              (const enum lm_client_cert[]){LM_CC_REQUIRED},
	              (const enum lm_service[]){LM_SVC_SIP_MTLS}, 1);
	check_listens(sc, "rp01", (const unsigned[]){8443},
	              (const enum lm_client_cert[]){LM_CC_OPTIONAL},
	              (const enum lm_service[]){LM_SVC_HTTPS}, 1);
	check_listens(sc, "sql01", (const unsigned[]){1433},
	              (const enum lm_client_cert[]){LM_CC_NONE},
	              (const enum lm_service[]){LM_SVC_TCP}, 1);
	/* mediation -> mediation: both members are sources and destinations; self pairs don't count
	 */
	const struct scenario_rule *r = rule(sc, "med-med");
	assert_int_equal(r->nfrom, 2);
	assert_int_equal(r->nto, 2);
	assert_int_equal(scenario_path_count(sc), 7);
	scenario_free(sc);
}

static void
test_print_table(void **state)
{
	struct scenario *sc = load_ok("single-director");
	char *text = NULL, *line;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	(void)state;

	assert_non_null(f);
	scenario_print_table(sc, f);
	fclose(f);
	assert_true(strncmp(text, "rule ", 5) == 0);
	assert_non_null(strstr(text, "service"));
	assert_non_null(strstr(text, "expect"));
	for (size_t i = 0; i < sc->nrules; i++)
		assert_non_null(strstr(text, sc->rules[i].id));
	line = strstr(text, "any-edge-cls1 ");
	assert_non_null(line);
	assert_non_null(strstr(line, "rp01,dir01,fe01 "));
	line = strstr(text, "clients-edge-cls-blocked");
	assert_non_null(strstr(line, "blocked\n"));
	/* aligned: every line is as wide up to the expect column */
	size_t col = (size_t)(strstr(text, "expect") - text);
	for (char *p = strchr(text, '\n') + 1; *p != '\0'; p = strchr(p, '\n') + 1) {
		assert_true(p[col - 2] == ' ' && p[col - 1] == ' ');
		assert_true(strncmp(p + col, "open", 4) == 0 ||
		            strncmp(p + col, "blocked", 7) == 0);
	}
	free(text);
	scenario_free(sc);
}

/* A file named like a built-in wins over the built-in; a path is read as a file. */
static void
test_file_before_builtin(void **state)
{
	char dir[] = "/tmp/lmscenXXXXXX", old[4096], path[4200];
	struct scenario *sc;
	FILE *f;
	(void)state;

	assert_non_null(getcwd(old, sizeof(old)));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/single-director", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("name: local-copy\ndomain: a.test\nhosts:\n"
	      "  - {name: a, role: internal-client, address: 10.0.0.1}\n"
	      "  - {name: b, role: edge-internal, address: 10.0.0.2}\n"
	      "rules:\n  - {id: x, service: cls-mtls, port: 50001, from: a, to: b}\n",
	      f);
	fclose(f);
	assert_int_equal(chdir(dir), 0);
	sc = load_ok("single-director");
	assert_string_equal(sc->name, "local-copy");
	assert_string_equal(sc->file, "single-director");
	scenario_free(sc);
	sc = load_ok("director-pool"); /* no such file here: the built-in */
	assert_string_equal(sc->name, "director-pool");
	scenario_free(sc);
	assert_int_equal(chdir(old), 0);
	sc = load_ok(path);
	assert_string_equal(sc->file, path);
	scenario_free(sc);
	unlink(path);
	rmdir(dir);
	/* the shipped file by path gives the same scenario as the built-in */
	snprintf(path, sizeof(path), "%s/scenarios/single-director.yaml", src_dir());
	sc = load_ok(path);
	assert_string_equal(sc->name, "single-director");
	assert_int_equal(sc->nrules, 17);
	scenario_free(sc);
}

/* Every built-in loads and names itself after its file. */
static void
test_all_builtins(void **state)
{
	size_t n = 0;
	(void)state;

	for (const struct lm_builtin *b = lm_builtin_scenarios; b->name != NULL; b++, n++) {
		struct scenario *sc =
		    scenario_load_buffer(b->path, b->text, b->len, errbuf, sizeof(errbuf));
		if (sc == NULL)
			fail_msg("%s:\n%s", b->name, errbuf);
		assert_string_equal(sc->name, b->name);
		scenario_free(sc);
	}
	assert_true(n >= 2);
	assert_non_null(lm_builtin_find("director-pool"));
}

static void
test_error_buffer_limits(void **state)
{
	char small[24];
	const char *bad = "name: t\nhosts: 3\n";
	(void)state;

	memset(small, 'x', sizeof(small));
	assert_null(scenario_load_buffer("f.yaml", bad, strlen(bad), small, sizeof(small)));
	assert_true(memchr(small, '\0', sizeof(small)) != NULL);
	assert_true(strncmp(small, "f.yaml:", 7) == 0);
	assert_null(scenario_load_buffer("f.yaml", bad, strlen(bad), NULL, 0));
	assert_null(scenario_load_buffer("f.yaml", NULL, 0, errbuf, sizeof(errbuf)));
	assert_non_null(strstr(errbuf, "f.yaml:1: empty scenario"));
	scenario_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_is_single_director),
	    cmocka_unit_test(test_single_director_seed_rows),
	    cmocka_unit_test(test_any_expansion),
	    cmocka_unit_test(test_hosts_and_sans),
	    cmocka_unit_test(test_listens_of),
	    cmocka_unit_test(test_director_pool),
	    cmocka_unit_test(test_custom_roles),
	    cmocka_unit_test(test_print_table),
	    cmocka_unit_test(test_file_before_builtin),
	    cmocka_unit_test(test_all_builtins),
	    cmocka_unit_test(test_error_buffer_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
