/* certs_check and certs_inspect on certificates this test makes wrong on purpose. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "test_certs_common.h"

static char lab[512];
static X509 *ca;
static EVP_PKEY *cakey;
static const char *dir_names[] = {"dirpool.contoso.local",
                                  "dir01.contoso.local",
                                  "meet.contoso.local",
                                  "dialin.contoso.local",
                                  "lyncdiscoverinternal.contoso.local",
                                  "lyncdiscover.contoso.local",
                                  "dirweb.contoso.local"};
#define CDP "http://pki.contoso.local/lyncmock-lab-ca.crl"

static void
path_in(char *buf, size_t len, const char *file)
{
	if (snprintf(buf, len, "%s/%s", lab, file) >= (int)len)
		fail_msg("path too long");
}

static int
group_setup(void **state)
{
	char err[512], path[PATH_MAX];
	STACK_OF(X509) * sk;

	(void)state;
	if (tc_mkdtemp(lab, sizeof lab) == NULL ||
	    certs_init(&tc_scenario, lab, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "certs_init: %s\n", err);
		return -1;
	}
	snprintf(path, sizeof path, "%s/ca.pem", lab);
	if ((sk = certs_load_certs(path, err, sizeof err)) == NULL)
		return -1;
	ca = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	snprintf(path, sizeof path, "%s/ca.key", lab);
	cakey = certs_load_key(path, err, sizeof err);
	return cakey != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	X509_free(ca);
	EVP_PKEY_free(cakey);
	tc_rmrf(lab);
	return 0;
}

/* A director certificate as certs_init would make it; tests then spoil it. */
static struct certs_issue_opts
good_opts(void)
{
	struct certs_issue_opts o = {"dirpool.contoso.local",
	                             NULL,
	                             dir_names,
	                             7,
	                             CERTS_EKU_SERVER | CERTS_EKU_CLIENT,
	                             false,
	                             CDP,
	                             -3600,
	                             365L * 86400};
	return o;
}

static void
write_pair(const char *name, X509 *x, bool with_ca, EVP_PKEY *k, char *cert, char *key, size_t len)
{
	FILE *f;
	char file[128];

	snprintf(file, sizeof file, "%s.pem", name);
	path_in(cert, len, file);
	snprintf(file, sizeof file, "%s.key", name);
	path_in(key, len, file);
	f = fopen(cert, "w");
	assert_non_null(f);
	assert_true(PEM_write_X509(f, x));
	if (with_ca)
		assert_true(PEM_write_X509(f, ca));
	fclose(f);
	assert_int_equal(lm_write_file_atomic(key, "", 0, 0600), 0);
	f = fopen(key, "w");
	assert_non_null(f);
	assert_true(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL));
	fclose(f);
}

/* Issues a certificate with o (self-signed when !by_ca), writes NAME.pem/.key. */
static void
make(const char *name, const struct certs_issue_opts *o, bool by_ca, EVP_PKEY *k, char *cert,
     char *key, size_t len)
{
	char err[512];
	bool own = k == NULL;
	X509 *x;

	if (own)
		k = certs_keygen(CERTS_KEY_RSA2048, err, sizeof err);
	assert_non_null(k);
	x = certs_issue(o, k, by_ca ? ca : NULL, by_ca ? cakey : NULL, err, sizeof err);
	if (x == NULL)
		fail_msg("certs_issue: %s", err);
	write_pair(name, x, by_ca, k, cert, key, len);
	X509_free(x);
	if (own)
		EVP_PKEY_free(k);
}

static struct certs_findings
check(const char *host, const char *cert, const char *key, bool with_ca)
{
	struct certs_findings f = {0};
	char err[512], capath[PATH_MAX];

	path_in(capath, sizeof capath, "ca.pem");
	if (certs_check(&tc_scenario, tc_host(host), cert, key, with_ca ? capath : NULL, &f, err,
	                sizeof err) != 0)
		fail_msg("certs_check: %s", err);
	return f;
}

/* True when a finding of severity s contains text. */
static bool
has(const struct certs_findings *f, enum certs_severity s, const char *text)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->items[i].severity == s && strstr(f->items[i].text, text) != NULL)
			return true;
	}
	return false;
}

static size_t
count(const struct certs_findings *f, enum certs_severity s)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		n += f->items[i].severity == s;
	return n;
}

static void
dump(const struct certs_findings *f)
{
	certs_findings_print(f, stderr);
}

static void
test_lab_certs_pass(void **state)
{
	const char *hosts[] = {"rp01", "cl01", "dir01", "fe01", "edge01"};
	char cert[PATH_MAX], key[PATH_MAX], file[64];

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		struct certs_findings f;
		snprintf(file, sizeof file, "%s.pem", hosts[i]);
		path_in(cert, sizeof cert, file);
		snprintf(file, sizeof file, "%s.key", hosts[i]);
		path_in(key, sizeof key, file);
		f = check(hosts[i], cert, key, true);
		if (certs_findings_worst(&f) != CERTS_OK && certs_findings_worst(&f) != CERTS_INFO)
			dump(&f);
		assert_int_equal(count(&f, CERTS_ERROR), 0);
		assert_int_equal(count(&f, CERTS_WARN), 0);
		assert_true(has(&f, CERTS_OK, "chains to the CA"));
		assert_true(has(&f, CERTS_OK, "matches the certificate"));
		certs_findings_free(&f);
	}
}

static void
test_expired_and_not_yet_valid(void **state)
{
	struct certs_issue_opts o = good_opts();
	char cert[PATH_MAX], key[PATH_MAX];
	struct certs_findings f;

	(void)state;
	o.not_before = -10L * 86400;
	o.not_after = -86400;
	make("expired", &o, true, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "expired on"));
	/* validity is reported once, not again as a chain failure */
	assert_true(has(&f, CERTS_OK, "chains to the CA"));
	assert_int_equal(count(&f, CERTS_ERROR), 1);
	certs_findings_free(&f);

	o = good_opts();
	o.not_before = 86400;
	make("future", &o, true, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "not yet valid"));
	assert_int_equal(count(&f, CERTS_ERROR), 1);
	certs_findings_free(&f);

	o = good_opts();
	o.not_after = 10L * 86400;
	make("soon", &o, true, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_WARN, "expires in 9 days") ||
	            has(&f, CERTS_WARN, "expires in 10 days"));
	assert_int_equal(count(&f, CERTS_ERROR), 0);
	certs_findings_free(&f);
}

static void
test_missing_required_san(void **state)
{
	struct certs_issue_opts o = good_opts();
	const char *names[] = {"dirpool.contoso.local",      "dir01.contoso.local",
	                       "dialin.contoso.local",       "lyncdiscoverinternal.contoso.local",
	                       "lyncdiscover.contoso.local", "dirweb.contoso.local"};
	char cert[PATH_MAX], key[PATH_MAX];
	struct certs_findings f;

	(void)state;
	o.sans = names; /* no meet.contoso.local */
	o.nsans = 6;
	make("nomeet", &o, true, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "required name meet.contoso.local"));
	assert_int_equal(count(&f, CERTS_ERROR), 1);
	certs_findings_free(&f);

	/* the pool FQDN only in the CN does not count: peers match SANs */
	o.sans = names + 1;
	o.nsans = 5;
	make("nopool", &o, true, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "required name dirpool.contoso.local (the pool FQDN)"));
	assert_true(has(&f, CERTS_ERROR, "required name meet.contoso.local"));
	certs_findings_free(&f);

	/* a certificate for another host: its FQDN is named as missing */
	o = good_opts();
	o.cn = "edge01-int.contoso.local";
	o.sans = (const char *[]){"edge01-int.contoso.local"};
	o.nsans = 1;
	make("wronghost", &o, true, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "required name dir01.contoso.local (the server FQDN)"));
	assert_true(has(&f, CERTS_WARN, "subject CN is 'edge01-int.contoso.local'"));
	certs_findings_free(&f);
}

static void
test_no_server_auth(void **state)
{
	struct certs_issue_opts o = good_opts();
	char cert[PATH_MAX], key[PATH_MAX];
	struct certs_findings f;

	(void)state;
	o.eku = CERTS_EKU_CLIENT;
	make("clientonly", &o, true, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "no Server Authentication EKU"));
	assert_int_equal(count(&f, CERTS_ERROR), 1);
	certs_findings_free(&f);
	/* the edge (server shape) needs it too */
	f = check("edge01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "no Server Authentication EKU"));
	certs_findings_free(&f);
}

static void
test_server_auth_only_passes_with_warning(void **state)
{
	struct certs_issue_opts o = good_opts();
	char cert[PATH_MAX], key[PATH_MAX];
	struct certs_findings f;

	(void)state;
	o.eku = CERTS_EKU_SERVER;
	make("serveronly", &o, true, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_int_equal(count(&f, CERTS_ERROR), 0);
	assert_true(
	    has(&f, CERTS_WARN,
	        "no Client Authentication EKU: Lync accepts it, strict MTLS peers may not"));
	assert_int_equal(certs_findings_worst(&f), CERTS_WARN);
	certs_findings_free(&f);

	/* as a source's client certificate: a warning too, not an error */
	o.cn = "cl01.contoso.local";
	o.sans = (const char *[]){"cl01.contoso.local"};
	o.nsans = 1;
	make("cl01-serveronly", &o, true, NULL, cert, key, sizeof cert);
	f = check("cl01", cert, key, true);
	assert_int_equal(count(&f, CERTS_ERROR), 0);
	assert_true(has(&f, CERTS_WARN, "strict MTLS peers (--strict-client-eku) do not"));
	certs_findings_free(&f);
}

static void
test_self_signed(void **state)
{
	struct certs_issue_opts o = good_opts();
	char cert[PATH_MAX], key[PATH_MAX];
	struct certs_findings f;

	(void)state;
	make("selfsigned", &o, false, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "self-signed"));
	assert_true(has(&f, CERTS_ERROR, "no chain to the CA"));
	certs_findings_free(&f);
	/* self-signed is an error even when no CA is given */
	f = check("dir01", cert, key, false);
	assert_true(has(&f, CERTS_ERROR, "self-signed"));
	assert_int_equal(count(&f, CERTS_ERROR), 1);
	certs_findings_free(&f);
}

static void
test_key_mismatch_and_permissions(void **state)
{
	struct certs_issue_opts o = good_opts();
	char cert[PATH_MAX], key[PATH_MAX], other[PATH_MAX];
	struct certs_findings f;

	(void)state;
	make("mismatch", &o, true, NULL, cert, key, sizeof cert);
	path_in(other, sizeof other, "fe01.key");
	f = check("dir01", cert, other, true);
	assert_true(has(&f, CERTS_ERROR, "does not match the certificate"));
	assert_int_equal(count(&f, CERTS_ERROR), 1);
	certs_findings_free(&f);

	assert_int_equal(chmod(key, 0644), 0);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "accessible to group/others (mode 0644)"));
	assert_true(has(&f, CERTS_OK, "matches the certificate"));
	certs_findings_free(&f);

	/* a key file that holds no key */
	f = check("dir01", cert, cert, true);
	assert_true(has(&f, CERTS_ERROR, "no private key in it"));
	certs_findings_free(&f);
}

static void
test_rsassa_pss(void **state)
{
	struct certs_issue_opts o = good_opts();
	char err[512], cert[PATH_MAX], key[PATH_MAX];
	EVP_PKEY *k = certs_keygen(CERTS_KEY_RSA2048, err, sizeof err);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	struct certs_findings f;
	X509 *x;
	FILE *out;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	x = certs_issue(&o, k, ca, cakey, err, sizeof err);
	assert_non_null(x);
	/* re-sign with RSASSA-PSS: what Lync refuses */
	assert_int_equal(EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL, cakey), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_true(X509_sign_ctx(x, mctx) > 0);
	assert_int_equal(X509_get_signature_nid(x), NID_rsassaPss);
	write_pair("pss", x, true, k, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "RSASSA-PSS"));
	assert_true(has(&f, CERTS_OK, "chains to the CA")); /* the signature itself is valid */
	assert_int_equal(count(&f, CERTS_ERROR), 1);
	certs_findings_free(&f);

	/* inspect says the same, and returns ERROR */
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(certs_inspect(cert, NULL, out, err, sizeof err), CERTS_ERROR);
	fclose(out);
	assert_non_null(strstr(buf, "ERROR  signature: RSASSA-PSS"));
	free(buf);
	EVP_MD_CTX_free(mctx);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_small_keys(void **state)
{
	struct certs_issue_opts o = good_opts();
	char cert[PATH_MAX], key[PATH_MAX];
	struct certs_findings f;
	EVP_PKEY *k;

	(void)state;
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	assert_non_null(k);
	make("rsa1024", &o, true, k, cert, key, sizeof cert);
	EVP_PKEY_free(k);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_WARN, "RSA 1024 bits: Lync tolerates 1024 bits"));
	assert_int_equal(count(&f, CERTS_ERROR), 0);
	certs_findings_free(&f);

	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)768);
	assert_non_null(k);
	make("rsa768", &o, true, k, cert, key, sizeof cert);
	EVP_PKEY_free(k);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_ERROR, "RSA 768 bits: too small"));
	certs_findings_free(&f);
}

static void
test_no_cdp_warns(void **state)
{
	struct certs_issue_opts o = good_opts();
	char cert[PATH_MAX], key[PATH_MAX];
	struct certs_findings f;

	(void)state;
	o.cdp = NULL;
	make("nocdp", &o, true, NULL, cert, key, sizeof cert);
	f = check("dir01", cert, key, true);
	assert_true(has(&f, CERTS_WARN, "no CRL distribution point"));
	assert_int_equal(count(&f, CERTS_ERROR), 0);
	certs_findings_free(&f);
}

static void
test_unreadable_inputs(void **state)
{
	struct certs_findings f = {0};
	char err[512], cert[PATH_MAX];

	(void)state;
	assert_int_equal(certs_check(&tc_scenario, tc_host("dir01"), "/nonexistent/x.pem", NULL,
	                             NULL, &f, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "/nonexistent/x.pem"));
	path_in(cert, sizeof cert, "dir01.key"); /* a key is not a certificate */
	assert_int_equal(
	    certs_check(&tc_scenario, tc_host("dir01"), cert, NULL, NULL, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "no certificate in it"));
	path_in(cert, sizeof cert, "dir01.pem");
	assert_int_equal(certs_check(&tc_scenario, tc_host("dir01"), cert, NULL, "/nonexistent/ca",
	                             &f, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "/nonexistent/ca"));
	certs_findings_free(&f);
	assert_int_equal(certs_inspect("/nonexistent/x.pem", NULL, stdout, err, sizeof err), -1);
	assert_non_null(strstr(err, "not HOST:PORT"));
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_inspect_file(void **state)
{
	char cert[PATH_MAX], capath[PATH_MAX], err[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	path_in(cert, sizeof cert, "rp01.pem");
	path_in(capath, sizeof capath, "ca.pem");
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	/* a source's client certificate: no serverAuth only warns in a file */
	assert_int_equal(certs_inspect(cert, capath, out, err, sizeof err), CERTS_WARN);
	fclose(out);
	assert_non_null(strstr(buf, "certificate 1 of 2 (leaf): CN=rp01.contoso.local"));
	assert_non_null(strstr(buf, "WARN   EKU: clientAuth only"));
	assert_non_null(strstr(buf, "OK     verifies against"));
	assert_non_null(strstr(buf, "INFO   self-signed root CA"));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lab_certs_pass),
	    cmocka_unit_test(test_expired_and_not_yet_valid),
	    cmocka_unit_test(test_missing_required_san),
	    cmocka_unit_test(test_no_server_auth),
	    cmocka_unit_test(test_server_auth_only_passes_with_warning),
	    cmocka_unit_test(test_self_signed),
	    cmocka_unit_test(test_key_mismatch_and_permissions),
	    cmocka_unit_test(test_rsassa_pss),
	    cmocka_unit_test(test_small_keys),
	    cmocka_unit_test(test_no_cdp_warns),
	    cmocka_unit_test(test_unreadable_inputs),
	    cmocka_unit_test(test_inspect_file),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
