/* Unit tests for the lab's --break faults: parsing, expected outcomes, validation against a
 * scenario. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lab/lab.h"
#include "lab/lab_int.h"
#include "scenarios/scenario.h"

static void
test_parse(void **state)
{
	struct lab_fault f;
	(void)state;

	assert_int_equal(lab_fault_parse("clients-dir-https=wrong-ca", &f), 0);
	assert_string_equal(f.rule_id, "clients-dir-https");
	assert_int_equal(f.kind, LAB_FAULT_WRONG_CA);
	assert_int_equal(lab_fault_parse("a=no-client-cert", &f), 0);
	assert_int_equal(f.kind, LAB_FAULT_NO_CLIENT_CERT);
	assert_int_equal(lab_fault_parse("=drop", &f), -1);
	assert_int_equal(lab_fault_parse("rule", &f), -1);
	assert_int_equal(lab_fault_parse("rule=", &f), -1);
	assert_int_equal(lab_fault_parse("rule=explode", &f), -1);
}

static void
test_outcomes(void **state)
{
	(void)state;
	assert_int_equal(lab_fault_outcome(LAB_FAULT_DROP), LM_OUT_FILTERED);
	assert_int_equal(lab_fault_outcome(LAB_FAULT_REJECT), LM_OUT_REFUSED);
	assert_int_equal(lab_fault_outcome(LAB_FAULT_NAT), LM_OUT_NAT_DETECTED);
	assert_int_equal(lab_fault_outcome(LAB_FAULT_WRONG_CA), LM_OUT_TLS_UNTRUSTED);
	assert_int_equal(lab_fault_outcome(LAB_FAULT_NO_CLIENT_CERT), LM_OUT_TLS_CLIENT_REJECTED);
	assert_int_equal(lab_fault_outcome(LAB_FAULT_PLAINTEXT), LM_OUT_TLS_FAILED);
	for (int i = 0; i < LAB_FAULT__COUNT; i++) {
		struct lab_fault f;
		char text[64];
		/* idle-timeout takes its seconds: idle-timeout:S */
		snprintf(text, sizeof text, "r=%s%s", lab_fault_name((enum lab_fault_kind)i),
		         i == LAB_FAULT_IDLE_TIMEOUT ? ":3" : "");
		assert_int_equal(lab_fault_parse(text, &f), 0);
		assert_int_equal(f.kind, i);
	}
	{
		struct lab_fault f;
		assert_int_equal(lab_fault_outcome(LAB_FAULT_IDLE_TIMEOUT), LM_OUT_IDLE_CUT);
		assert_int_equal(lab_fault_parse("edge-dir-sip=idle-timeout:5", &f), 0);
		assert_int_equal(f.seconds, 5);
		assert_string_equal(f.rule_id, "edge-dir-sip");
		assert_int_equal(lab_fault_parse("r=idle-timeout", &f), -1);
		assert_int_equal(lab_fault_parse("r=idle-timeout:0", &f), -1);
		assert_int_equal(lab_fault_parse("r=idle-timeout:x", &f), -1);
	}
}

/* Checks one set of --break texts; returns the check's result, message in err. */
static int
check(const struct scenario *sc, char *err, size_t errlen, ...)
{
	struct lab_fault f[LAB_MAX_FAULTS];
	size_t n = 0;
	const char *t;
	va_list ap;

	va_start(ap, errlen);
	while ((t = va_arg(ap, const char *)) != NULL) {
		assert_true(n < LAB_MAX_FAULTS);
		assert_int_equal(lab_fault_parse(t, &f[n]), 0);
		n++;
	}
	va_end(ap);
	err[0] = '\0';
	return lab_faults_check(sc, f, n, NULL, err, errlen);
}

static void
test_validation(void **state)
{
	char err[512];
	struct scenario *sc = scenario_load("single-director", err, sizeof err);
	(void)state;

	assert_non_null(sc);
	/* what the lab's break test uses */
	assert_int_equal(check(sc, err, sizeof err, "clients-dir-https=drop", NULL), 0);
	assert_int_equal(check(sc, err, sizeof err, "clients-dir-https=reject", NULL), 0);
	assert_int_equal(check(sc, err, sizeof err, "clients-dir-https=nat", NULL), 0);
	assert_int_equal(check(sc, err, sizeof err, "clients-dir-https=wrong-ca", NULL), 0);
	assert_int_equal(check(sc, err, sizeof err, "clients-dir-https=plaintext", NULL), 0);
	assert_int_equal(check(sc, err, sizeof err, "any-edge-cls2=no-client-cert", NULL), 0);
	assert_int_equal(check(sc, err, sizeof err, "edge-dir-sip=no-client-cert",
	                       "rp-dir-http=nat", "dir-fe-https=wrong-ca", NULL),
	                 0);
	/* nonsense, each with a message naming the problem */
	assert_int_equal(check(sc, err, sizeof err, "nosuch=drop", NULL), -1);
	assert_non_null(strstr(err, "no rule 'nosuch'"));
	assert_int_equal(check(sc, err, sizeof err, "clients-dir-http=wrong-ca", NULL), -1);
	assert_non_null(strstr(err, "does not use TLS"));
	assert_int_equal(check(sc, err, sizeof err, "rp-fe-http=plaintext", NULL), -1);
	assert_int_equal(check(sc, err, sizeof err, "clients-dir-https=no-client-cert", NULL), -1);
	assert_non_null(strstr(err, "does not require a client certificate"));
	assert_int_equal(check(sc, err, sizeof err, "clients-edge-cls-blocked=reject", NULL), -1);
	assert_non_null(strstr(err, "expects the path blocked"));
	assert_int_equal(check(sc, err, sizeof err, "rp-dir-http=drop", "rp-dir-http=nat", NULL),
	                 -1);
	assert_non_null(strstr(err, "broken twice"));
	assert_int_equal(
	    check(sc, err, sizeof err, "edge-dir-sip=plaintext", "fe-dir-sip=wrong-ca", NULL), -1);
	assert_non_null(strstr(err, "dir01:5061"));
	scenario_free(sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_outcomes),
	    cmocka_unit_test(test_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
