/* Unit tests for scenario validation: a fixture per error class, checked for FILE:LINE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios/scenario.h"

static char errbuf[16384];

static const char *
fixture_path(const char *name)
{
	static char path[4096];
	const char *d = getenv("LM_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/tests/fixtures/scenarios/%s", d ? d : ".", name);
	return path;
}

/* True when err has a line "FILE:LINE: ...SUB...". */
static bool
has_error(const char *err, const char *file, int line, const char *sub)
{
	char prefix[4200];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);

	for (const char *p = err; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len >= plen && strncmp(p, prefix, plen) == 0) {
			char *l = strndup(p, len);
			bool ok = strstr(l + plen, sub) != NULL;
			free(l);
			if (ok)
				return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

static size_t
count_lines(const char *s)
{
	size_t n = *s != '\0';
	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

struct expect_err {
	int line;
	const char *sub;
};

/* Loads a fixture that must fail with exactly these errors (and no others). */
static void
expect_errors(const char *name, const struct expect_err *e, size_t n)
{
	const char *path = fixture_path(name);
	struct scenario *sc = scenario_load(path, errbuf, sizeof(errbuf));

	if (sc != NULL) {
		scenario_free(sc);
		fail_msg("%s loaded, but it must be rejected", name);
	}
	for (size_t i = 0; i < n; i++) {
		if (!has_error(errbuf, path, e[i].line, e[i].sub))
			fail_msg("%s: no '%s:%d: ...%s...' in:\n%s", name, name, e[i].line,
			         e[i].sub, errbuf);
	}
	if (count_lines(errbuf) != n)
		fail_msg("%s: expected %zu error lines, got:\n%s", name, n, errbuf);
}

#define EXPECT(name, ...)                                                                          \
	do {                                                                                       \
		const struct expect_err e_[] = {__VA_ARGS__};                                      \
		expect_errors(name, e_, sizeof(e_) / sizeof(e_[0]));                               \
	} while (0)

static void
test_malformed(void **state)
{
	(void)state;
	/* libyaml's own words, at the line where it noticed */
	EXPECT("malformed.yaml", {9, "YAML syntax error: did not find expected ',' or '}'"});
	EXPECT("two-documents.yaml", {8, "a second YAML document"});
	EXPECT("empty.yaml", {1, "empty scenario"});
	EXPECT("not-a-mapping.yaml", {1, "the scenario must be a mapping, not a list"});
}

static void
test_missing_keys(void **state)
{
	(void)state;
	EXPECT("missing-key.yaml", {8, "missing 'port' in rule"});
	EXPECT("missing-top.yaml", {1, "missing 'domain' in the scenario"},
	       {1, "missing 'rules' in the scenario"});
}

static void
test_wrong_types(void **state)
{
	(void)state;
	EXPECT("wrong-type-hosts.yaml", {3, "'hosts' must be a list, not a mapping"});
	EXPECT("wrong-type-scalar.yaml", {10, "'port' in rule must be a scalar, not a list"});
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	EXPECT("unknown-key.yaml", {8, "unknown key 'prot' in rule (did you mean 'port'?)"});
	EXPECT("unknown-top-key.yaml",
	       {6, "unknown key 'rule' in the scenario (did you mean 'rules'?)"});
	EXPECT("duplicate-key.yaml", {8, "duplicate key 'port' in rule"});
}

static void
test_unknown_names(void **state)
{
	(void)state;
	EXPECT("unknown-role.yaml", {5, "unknown role 'directr' (did you mean 'director'?)"});
	EXPECT("unknown-from.yaml",
	       {8, "'from: reverse-proxi' names no host or role (did you mean 'reverse-proxy'?)"});
	EXPECT("unknown-to.yaml", {8, "'to: dir99x' names no host or role"});
	EXPECT("any-dest.yaml", {8, "'to: any' is not allowed"});
	EXPECT("role-without-hosts.yaml", {8, "'to: front-end' matches no host of the scenario"});
	EXPECT("unknown-service.yaml", {8, "unknown service 'htps'"});
}

static void
test_duplicates(void **state)
{
	(void)state;
	EXPECT("dup-host.yaml", {6, "duplicate host name 'rp01' (first on line 4)"});
	EXPECT("dup-rule.yaml", {8, "duplicate rule id 'r1' (first on line 7)"});
	EXPECT("dup-address.yaml",
	       {6, "duplicate address 198.18.1.10: hosts 'dir01' (line 5) and 'fe01'"});
	EXPECT("bad-roles.yaml", {5, "role 'director' is built in"},
	       {6, "duplicate role 'sql' (first on line 4)"},
	       {7, "bad cert 'gateway' in role 'pbx' (one of pool, server, client)"});
}

static void
test_bad_values(void **state)
{
	(void)state;
	EXPECT("bad-port.yaml", {8, "bad port '0'"}, {9, "bad port '65536'"},
	       {10, "bad port 'http'"}, {11, "bad port '-80'"});
	EXPECT("bad-address.yaml", {5, "bad address '198.18.1.300'"},
	       {6, "bad address '2001:db8::1::2'"});
	EXPECT("bad-expect.yaml", {8, "bad expect 'closed' (open or blocked)"});
	EXPECT("bad-client-cert.yaml",
	       {8, "bad client_cert 'always' (required, optional or none)"});
	EXPECT("client-cert-plain.yaml", {8, "client_cert: required needs TLS, but service http"});
	EXPECT("bad-via.yaml", {8, "bad via 'nat' (proxy)"});
	EXPECT("cert-without-key.yaml", {4, "host 'rp01' gives 'cert' without 'key'"});
}

static void
test_rule_conflicts(void **state)
{
	(void)state;
	EXPECT("tls-client-dest.yaml",
	       {8, "rule 'r2': service https needs a server certificate on host 'rp01', but role "
	           "'reverse-proxy' only gets a client certificate"});
	EXPECT("port-collision.yaml",
	       {8,
	        "rule 'r2': http port 443 on host 'dir01' (198.18.1.10) is already https in rule "
	        "'r1' (line 7)"});
	EXPECT("same-host.yaml", {8, "rule 'r2': from and to are the same host 'dir01'"});
	EXPECT("contradiction.yaml",
	       {8, "rule 'r2' contradicts rule 'r1' (line 7): both cover rp01 -> dir01 port 443"});
	EXPECT("partial-override.yaml",
	       {9,
	        "rule 'cl-edge01' contradicts rule 'any-cls' (line 8): both cover cl01 -> edge01 "
	        "port 50001"});
	EXPECT(
	    "overridden.yaml",
	    {7, "rule 'r1': every source is overridden by the more specific rule 'r2' (line 8)"});
}

static void
test_empty_lists(void **state)
{
	(void)state;
	EXPECT("empty-hosts.yaml", {3, "'hosts' is empty"});
	EXPECT("empty-rules.yaml", {5, "'rules' is empty"});
}

/* Every problem is reported, not only the first, sorted by line. */
static void
test_all_problems(void **state)
{
	const char *path = fixture_path("many-errors.yaml");
	(void)state;

	EXPECT("many-errors.yaml", {11, "unknown key 'pol' in host (did you mean 'pool'?)"},
	       {15, "bad port '4430000'"}, {19, "unknown service 'sip'"});
	/* "sip" is a prefix of "sip-mtls": that is the better guess */
	assert_true(has_error(errbuf, path, 19, "did you mean 'sip-mtls'?"));
	assert_true(strstr(errbuf, ":11:") < strstr(errbuf, ":15:"));
	assert_true(strstr(errbuf, ":15:") < strstr(errbuf, ":19:"));
}

static void
test_missing_file(void **state)
{
	struct scenario *sc;
	(void)state;

	sc = scenario_load("/nonexistent/lyncmock.yaml", errbuf, sizeof(errbuf));
	assert_null(sc);
	assert_string_equal(
	    errbuf, "/nonexistent/lyncmock.yaml: cannot read scenario: No such file or directory");
	/* a bare name that is neither a file nor a built-in lists the built-ins */
	sc = scenario_load("single-directr", errbuf, sizeof(errbuf));
	assert_null(sc);
	assert_non_null(strstr(errbuf, "single-directr: cannot read scenario"));
	assert_non_null(strstr(errbuf, "built-in scenarios:"));
	assert_non_null(strstr(errbuf, "single-director"));
	/* a directory is not a scenario */
	sc = scenario_load("/tmp", errbuf, sizeof(errbuf));
	assert_null(sc);
	assert_non_null(strstr(errbuf, "/tmp: not a regular file"));
}

/* Buffers beyond the size cap are refused before parsing. */
static void
test_too_large(void **state)
{
	size_t len = 8 * 1024 * 1024 + 1;
	char *big = malloc(len);
	(void)state;

	assert_non_null(big);
	memset(big, '#', len);
	assert_null(scenario_load_buffer("big.yaml", big, len, errbuf, sizeof(errbuf)));
	assert_non_null(strstr(errbuf, "big.yaml: scenario is too large"));
	free(big);
}

/* Shapes the fixtures above don't cover: nulls, NULs, anchors, nested types. */
static void
test_odd_documents(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: a, role: director, address: ~}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:4: 'address' in host has no value"},
	    {"name: t\ndomain: d.test\nhosts:\n  - \"just a string\"\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:4: host must be a mapping, not a scalar"},
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: a, role: director, address: 10.0.0.1, "
	     "web_services: meet.d.test}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:4: 'web_services' in host must be a list of names, not a scalar"},
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: a, role: director, address: 10.0.0.1, "
	     "fqdn: bad_name.d.test}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:4: bad fqdn 'bad_name.d.test'"},
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: a, role: edge-internal, address: "
	     "10.0.0.1, "
	     "pool: p.d.test}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:4: host 'a' has a pool, but its role 'edge-internal' does not use pool"},
	    {"name: t\ndomain: d.test\nhosts:\n  - &h {name: a, role: director, address: "
	     "10.0.0.1}\n"
	     "  - *h\nrules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:4: duplicate host name 'a'"},
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: any, role: director, address: 10.0.0.1}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: any}\n",
	     "t.yaml:4: bad host name 'any'"},
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: director, role: director, address: "
	     "10.0.0.1}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: director}\n",
	     "t.yaml:4: host name 'director' is also a role name"},
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: a, role: director, address: 10.0.0.1}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n"
	     "  - {? [x] : 1}\n",
	     "t.yaml:7: a key in rule must be a scalar, not a list"},
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: a, role: director, address: 10.0.0.1}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:6: rule 'r': 'from: any' leaves no source host"},
	    /* a mapping where a scalar belongs */
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: a, role: director, address: 10.0.0.1}\n"
	     "  - {name: b, role: front-end, address: 10.0.0.2}\n"
	     "rules:\n  - id: r\n    service: http\n    port: 80\n    from:\n      role: director\n"
	     "    to: b\n",
	     "t.yaml:10: 'from' in rule must be a scalar, not a mapping"},
	    {"name: t\ndomain: d.test\nroles: {name: x}\nhosts:\n"
	     "  - {name: a, role: director, address: 10.0.0.1}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:3: 'roles' must be a list, not a mapping"},
	    {"name: t\ndomain: d.test\nsimple_urls: [meet.d.test, \"bad url\"]\nhosts:\n"
	     "  - {name: a, role: director, address: 10.0.0.1}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:3: 'simple_urls' in the scenario: 'bad url' is not a valid DNS name"},
	    {"name: t\ndomain: -bad-.test\nhosts:\n  - {name: a, role: director, address: "
	     "10.0.0.1}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:2: bad domain '-bad-.test'"},
	    {"name: t\ndomain: d.test\nhosts:\n  - {name: a, role: director, address: 10.0.0.1}\n"
	     "  - {name: b, role: front-end, address: \"::ffff:10.0.0.1\"}\n"
	     "  - {name: c, role: front-end, address: \"2001:DB8::1\"}\n"
	     "  - {name: d, role: front-end, address: \"2001:db8:0::1\"}\n"
	     "rules:\n  - {id: r, service: http, port: 80, from: any, to: a}\n",
	     "t.yaml:7: duplicate address 2001:db8::1: hosts 'c' (line 6) and 'd'"},
	    {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
	     "t.yaml:1: nesting deeper than 16 levels"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scenario *sc = scenario_load_buffer(
		    "t.yaml", cases[i].text, strlen(cases[i].text), errbuf, sizeof(errbuf));
		if (sc != NULL) {
			scenario_free(sc);
			fail_msg("case %zu loaded", i);
		}
		if (strstr(errbuf, cases[i].want) == NULL)
			fail_msg("case %zu: want '%s' in:\n%s", i, cases[i].want, errbuf);
	}
	/* an embedded NUL in a value is refused, not silently cut */
	static const char nul[] = "name: t\ndomain: \"d\\0.test\"\nhosts: []\nrules: []\n";
	assert_null(scenario_load_buffer("n.yaml", nul, sizeof(nul) - 1, errbuf, sizeof(errbuf)));
	assert_non_null(strstr(errbuf, "n.yaml:2: 'domain' in the scenario contains a NUL byte"));
}

/* Reader errors (bad UTF-8, NUL, control bytes) carry no mark in libyaml:
 * the loader counts the line from the byte offset, so a bad byte on line 7
 * (in a comment, a key, a value; first line and last line too) says line 7. */
static void
test_reader_error_lines(void **state)
{
	static const struct {
		const char *bytes;
		size_t n;
		const char *sub;
	} bad[] = {
	    {"\xff", 1, "invalid leading UTF-8 octet (byte 0xFF at column "},
	    {"\0", 1, "control characters are not allowed (byte 0x00 at column "},
	    {"\x01", 1, "control characters are not allowed (byte 0x01 at column "},
	    {"\x7f", 1, "control characters are not allowed (byte 0x7F at column "},
	    {"\xc3(", 2, "invalid trailing UTF-8 octet"},
	};
	const struct lm_builtin *b = lm_builtin_find("single-director");
	(void)state;

	assert_non_null(b);
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		for (int target = 1; target <= 40; target += 13) {
			char *text = malloc(b->len + 8), file[32], want[64];
			size_t at = 0, n;
			int line = 1;
			struct scenario *sc;

			assert_non_null(text);
			/* just after the first character of line `target` */
			while (line < target && at < b->len)
				line += b->text[at++] == '\n';
			at++;
			memcpy(text, b->text, at);
			memcpy(text + at, bad[k].bytes, bad[k].n);
			memcpy(text + at + bad[k].n, b->text + at, b->len - at);
			n = b->len + bad[k].n;
			snprintf(file, sizeof file, "bad%zu.yaml", k);
			sc = scenario_load_buffer(file, text, n, errbuf, sizeof errbuf);
			free(text);
			if (sc != NULL) {
				scenario_free(sc);
				fail_msg("%s with a bad byte on line %d loaded", file, target);
			}
			snprintf(want, sizeof want, "column 2)");
			if (!has_error(errbuf, file, target, bad[k].sub) ||
			    (bad[k].n == 1 && strstr(errbuf, want) == NULL))
				fail_msg("bad byte %zu on line %d: got\n%s", k, target, errbuf);
		}
	}
	/* libyaml's own marks keep their line and get the column */
	EXPECT("malformed.yaml", {9, "(at column "});
	/* at the end of the input libyaml's mark is one line past the last: the
	 * message names the last line (found by fuzz_scenario) */
	{
		static const char eof[] = "name: t\ndomain: d.test\nhosts: [\n";
		struct scenario *sc =
		    scenario_load_buffer("eof.yaml", eof, sizeof eof - 1, errbuf, sizeof errbuf);
		assert_null(sc);
		if (!has_error(errbuf, "eof.yaml", 3, "(at column 9)"))
			fail_msg("end of input: got\n%s", errbuf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_malformed),     cmocka_unit_test(test_missing_keys),
	    cmocka_unit_test(test_wrong_types),   cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_unknown_names), cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_bad_values),    cmocka_unit_test(test_rule_conflicts),
	    cmocka_unit_test(test_empty_lists),   cmocka_unit_test(test_all_problems),
	    cmocka_unit_test(test_missing_file),  cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_odd_documents), cmocka_unit_test(test_reader_error_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
