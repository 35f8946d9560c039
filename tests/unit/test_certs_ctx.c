/* certs: the lab PKI files and the SSL_CTXs listeners and probes share (handshakes on socketpairs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "test_certs_common.h"

static char lab[512], other[512];

static int
group_setup(void **state)
{
	char err[512];
	struct certs_init_opts o;

	(void)state;
	certs_init_opts_default(&o);
	if (tc_mkdtemp(lab, sizeof lab) == NULL || tc_mkdtemp(other, sizeof other) == NULL)
		return -1;
	/* the PKI lives in a subdirectory certs_init must create (0700) */
	strcat(lab, "/pki");
	strcat(other, "/pki");
	if (certs_init(&tc_scenario, lab, &o, err, sizeof err) != 0 ||
	    certs_init(&tc_scenario, other, &o, err, sizeof err) != 0) {
		fprintf(stderr, "certs_init: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	*strrchr(lab, '/') = '\0';
	*strrchr(other, '/') = '\0';
	tc_rmrf(lab);
	tc_rmrf(other);
	return 0;
}

static void
path_in(char *buf, size_t len, const char *dir, const char *file)
{
	if (snprintf(buf, len, "%s/%s", dir, file) >= (int)len)
		fail_msg("path too long");
}

static X509 *
first_cert(const char *path)
{
	char err[512];
	STACK_OF(X509) *sk = certs_load_certs(path, err, sizeof err);
	X509 *x;

	assert_non_null(sk);
	x = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return x;
}

/* ---- certs_paths_for_host ---------------------------------------------------- */

static void
test_paths_for_host(void **state)
{
	struct certs_paths p;
	struct scenario_host own = *tc_host("rp01");

	(void)state;
	certs_paths_for_host(&p, "/pki", tc_host("dir01"), NULL, NULL, NULL);
	assert_string_equal(p.ca, "/pki/ca.pem");
	assert_string_equal(p.cert, "/pki/dir01.pem");
	assert_string_equal(p.key, "/pki/dir01.key");

	own.cert = "/own/rp.pem";
	own.key = "/own/rp.key";
	certs_paths_for_host(&p, "/pki", &own, NULL, NULL, NULL);
	assert_string_equal(p.ca, "/pki/ca.pem");
	assert_string_equal(p.cert, "/own/rp.pem");
	assert_string_equal(p.key, "/own/rp.key");

	certs_paths_for_host(&p, "/pki", &own, "/o/ca.pem", "/o/c.pem", "/o/c.key");
	assert_string_equal(p.ca, "/o/ca.pem");
	assert_string_equal(p.cert, "/o/c.pem");
	assert_string_equal(p.key, "/o/c.key");

	/* ad hoc: no directory, no host, overrides only */
	certs_paths_for_host(&p, NULL, NULL, "ca.pem", NULL, NULL);
	assert_string_equal(p.ca, "ca.pem");
	assert_string_equal(p.cert, "");
	assert_string_equal(p.key, "");
}

/* ---- certs_init ------------------------------------------------------------ */

static void
test_init_files_and_modes(void **state)
{
	const char *hosts[] = {"rp01", "cl01", "dir01", "fe01", "edge01"};
	char path[PATH_MAX];
	struct stat st;

	(void)state;
	assert_int_equal(stat(lab, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	path_in(path, sizeof path, lab, "ca.key");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	for (size_t i = 0; i < 5; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s.key", hosts[i]);
		path_in(path, sizeof path, lab, name);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		snprintf(name, sizeof name, "%s.pem", hosts[i]);
		path_in(path, sizeof path, lab, name);
		assert_int_equal(stat(path, &st), 0);
	}
}

static void
test_init_director_cert_shape(void **state)
{
	char path[PATH_MAX], buf[256], sans[2048], err[512];
	X509 *x, *ca;
	STACK_OF(X509) * sk;
	uint32_t xku;

	(void)state;
	path_in(path, sizeof path, lab, "dir01.pem");
	sk = certs_load_certs(path, err, sizeof err);
	assert_non_null(sk);
	assert_int_equal(sk_X509_num(sk), 2); /* leaf + CA */
	x = sk_X509_value(sk, 0);
	ca = sk_X509_value(sk, 1);
	certs_name_oneline(X509_get_subject_name(x), buf, sizeof buf);
	assert_string_equal(buf, "CN=dirpool.contoso.local");
	certs_name_oneline(X509_get_subject_name(ca), buf, sizeof buf);
	assert_non_null(strstr(buf, "CN=lyncmock lab CA (single-director),OU=lab "));
	certs_san_list(x, sans, sizeof sans);
	assert_string_equal(sans, "dirpool.contoso.local, dir01.contoso.local, meet.contoso.local, "
	                          "dialin.contoso.local, lyncdiscoverinternal.contoso.local, "
	                          "lyncdiscover.contoso.local, dirweb.contoso.local");
	xku = X509_get_extended_key_usage(x);
	assert_true(xku & XKU_SSL_SERVER);
	assert_true(xku & XKU_SSL_CLIENT);
	assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 2048);
	assert_int_equal(X509_check_ca(ca), 1);
	assert_int_equal(X509_check_issued(ca, x), X509_V_OK);
	assert_true(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	assert_true(X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT);
	assert_non_null(X509_get0_authority_key_id(x));
	path_in(path, sizeof path, lab, "ca.pem");
	assert_int_equal(certs_verify_chain(x, NULL, path, true, buf, sizeof buf), X509_V_OK);
	sk_X509_pop_free(sk, X509_free);
}

static void
test_init_client_and_edge_shapes(void **state)
{
	char path[PATH_MAX], buf[256], sans[512];
	X509 *x;

	(void)state;
	path_in(path, sizeof path, lab, "rp01.pem");
	x = first_cert(path);
	certs_name_oneline(X509_get_subject_name(x), buf, sizeof buf);
	assert_string_equal(buf, "CN=rp01.contoso.local");
	assert_string_equal(certs_san_list(x, sans, sizeof sans), "rp01.contoso.local");
	assert_int_equal(X509_get_extended_key_usage(x) & (XKU_SSL_SERVER | XKU_SSL_CLIENT),
	                 XKU_SSL_CLIENT);
	X509_free(x);

	path_in(path, sizeof path, lab, "edge01.pem");
	x = first_cert(path);
	certs_name_oneline(X509_get_subject_name(x), buf, sizeof buf);
	assert_string_equal(buf, "CN=edge01-int.contoso.local");
	assert_string_equal(certs_san_list(x, sans, sizeof sans), "edge01-int.contoso.local");
	assert_int_equal(X509_get_extended_key_usage(x) & (XKU_SSL_SERVER | XKU_SSL_CLIENT),
	                 XKU_SSL_SERVER | XKU_SSL_CLIENT);
	X509_free(x);
}

static void
test_host_names_composition(void **state)
{
	struct certs_host_names n;
	char err[256];
	struct scenario_host odd = *tc_host("fe01");
	char *dup_sans[] = {"FEPOOL.contoso.local", "fe01.contoso.local", "meet.contoso.local"};
	char *bad_sans[] = {"meet.contoso.local, DNS:evil.example"};

	(void)state;
	assert_int_equal(certs_host_names(&tc_scenario, tc_host("fe01"), &n, err, sizeof err), 0);
	assert_string_equal(n.cn, "fepool.contoso.local");
	assert_int_equal(n.nsan, 6);
	assert_string_equal(n.san[0], "fepool.contoso.local");
	assert_string_equal(n.san[1], "fe01.contoso.local");
	assert_string_equal(n.san[2], "meet.contoso.local");

	/* duplicates (any case) collapse */
	odd.san_extra = dup_sans;
	odd.nsan_extra = 3;
	assert_int_equal(certs_host_names(&tc_scenario, &odd, &n, err, sizeof err), 0);
	assert_int_equal(n.nsan, 3);

	/* a name that would smuggle another SAN into the extension is refused */
	odd.san_extra = bad_sans;
	odd.nsan_extra = 1;
	assert_int_equal(certs_host_names(&tc_scenario, &odd, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a DNS name"));

	/* a pool host without a pool falls back to its FQDN */
	odd = *tc_host("dir01");
	odd.pool = NULL;
	assert_int_equal(certs_host_names(&tc_scenario, &odd, &n, err, sizeof err), 0);
	assert_string_equal(n.cn, "dir01.contoso.local");
	assert_int_equal(n.eku, CERTS_EKU_SERVER | CERTS_EKU_CLIENT);

	/* a client host's own `san:` list is honoured (it used to be dropped), and
	 * its certificate is clientAuth only */
	odd = *tc_host("cl01");
	odd.san_extra = dup_sans + 2;
	odd.nsan_extra = 1;
	assert_int_equal(certs_host_names(&tc_scenario, &odd, &n, err, sizeof err), 0);
	assert_string_equal(n.cn, "cl01.contoso.local");
	assert_int_equal(n.nsan, 2);
	assert_string_equal(n.san[0], "cl01.contoso.local");
	assert_string_equal(n.san[1], "meet.contoso.local");
	assert_int_equal(n.eku, CERTS_EKU_CLIENT);
	/* the subject is the probe's expected name: pool, else FQDN */
	assert_string_equal(certs_host_subject(&tc_scenario, tc_host("dir01"), err, sizeof err),
	                    "dirpool.contoso.local");
	assert_string_equal(certs_host_subject(&tc_scenario, tc_host("edge01"), err, sizeof err),
	                    "edge01-int.contoso.local");
}

static void
fingerprint_of(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;
	X509 *x;

	path_in(path, sizeof path, dir, "ca.pem");
	x = first_cert(path);
	assert_true(X509_digest(x, EVP_sha256(), md, &n));
	X509_free(x);
	out[0] = '\0';
	for (unsigned i = 0; i < n && 2 * i + 2 < len; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void
test_init_reuses_ca(void **state)
{
	char before[128], after[128], err[512];
	struct certs_init_summary sum;
	struct certs_init_opts o;

	(void)state;
	certs_init_opts_default(&o);
	o.key_type = CERTS_KEY_ECDSA_P256;
	fingerprint_of(lab, before, sizeof before);
	assert_int_equal(certs_init_summary(&tc_scenario, lab, &o, &sum, err, sizeof err), 0);
	fingerprint_of(lab, after, sizeof after);
	assert_string_equal(before, after);
	assert_true(sum.ca_reused);
	assert_int_equal(sum.nwritten, 5);
	assert_string_equal(sum.skipped, "");
}

static void
test_init_refuses_half_or_mismatched_ca(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], path2[PATH_MAX], err[512];
	struct certs_init_opts o;

	(void)state;
	certs_init_opts_default(&o);
	assert_non_null(tc_mkdtemp(dir, sizeof dir));
	/* only ca.pem: refused, nothing overwritten */
	path_in(path, sizeof path, lab, "ca.pem");
	path_in(path2, sizeof path2, dir, "ca.pem");
	{
		FILE *in = fopen(path, "r"), *out = fopen(path2, "w");
		int c;
		assert_non_null(in);
		assert_non_null(out);
		while ((c = fgetc(in)) != EOF)
			fputc(c, out);
		fclose(in);
		fclose(out);
	}
	assert_int_equal(certs_init(&tc_scenario, dir, &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "refusing to overwrite"));
	/* the other lab's key next to it: a mismatch, refused */
	path_in(path, sizeof path, other, "ca.key");
	path_in(path2, sizeof path2, dir, "ca.key");
	{
		FILE *in = fopen(path, "r"), *out = fopen(path2, "w");
		int c;
		assert_non_null(in);
		assert_non_null(out);
		while ((c = fgetc(in)) != EOF)
			fputc(c, out);
		fclose(in);
		fclose(out);
		chmod(path2, 0600);
	}
	assert_int_equal(certs_init(&tc_scenario, dir, &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "does not match"));
	tc_rmrf(dir);
}

static void
test_init_skips_hosts_with_own_cert(void **state)
{
	char dir[PATH_MAX], err[512], path[PATH_MAX];
	struct scenario sc = tc_scenario;
	struct scenario_host hosts[5];
	struct certs_init_summary sum;
	struct stat st;

	(void)state;
	memcpy(hosts, tc_hosts, sizeof hosts);
	hosts[0].cert = "/elsewhere/rp.pem";
	hosts[0].key = "/elsewhere/rp.key";
	sc.hosts = hosts;
	assert_non_null(tc_mkdtemp(dir, sizeof dir));
	assert_int_equal(certs_init_summary(&sc, dir, NULL, &sum, err, sizeof err), 0);
	assert_false(sum.ca_reused);
	assert_int_equal(sum.nwritten, 4);
	assert_string_equal(sum.skipped, "rp01");
	path_in(path, sizeof path, dir, "rp01.pem");
	assert_int_equal(stat(path, &st), -1);
	tc_rmrf(dir);
}

/* ---- context building errors ----------------------------------------------- */

static void
lab_paths(struct certs_paths *p, const char *dir, const char *host)
{
	certs_paths_for_host(p, dir, tc_host(host), NULL, NULL, NULL);
}

static void
test_ctx_errors(void **state)
{
	struct certs_paths p;
	struct certs_tls_opts o = {LM_CC_REQUIRED, false, 0};
	char err[1024], path[PATH_MAX], wr[PATH_MAX];
	SSL_CTX *ctx;

	(void)state;
	/* the happy case first */
	lab_paths(&p, lab, "dir01");
	ctx = certs_server_ctx(&p, &o, err, sizeof err);
	assert_non_null(ctx);
	SSL_CTX_free(ctx);

	/* missing certificate file */
	lab_paths(&p, lab, "dir01");
	snprintf(p.cert, sizeof p.cert, "%s/nope.pem", lab);
	assert_null(certs_server_ctx(&p, &o, err, sizeof err));
	assert_non_null(strstr(err, "nope.pem"));
	assert_non_null(strstr(err, "No such file"));

	/* missing CA */
	lab_paths(&p, lab, "dir01");
	snprintf(p.ca, sizeof p.ca, "%s/noca.pem", lab);
	assert_null(certs_server_ctx(&p, &o, err, sizeof err));
	assert_non_null(strstr(err, "noca.pem"));
	assert_null(certs_client_ctx(&p, &o, err, sizeof err));
	assert_non_null(strstr(err, "noca.pem"));

	/* a key that belongs to another certificate */
	lab_paths(&p, lab, "dir01");
	snprintf(p.key, sizeof p.key, "%s/fe01.key", lab);
	assert_null(certs_server_ctx(&p, &o, err, sizeof err));
	assert_non_null(strstr(err, "fe01.key"));
	assert_non_null(strstr(err, "match"));
	assert_null(certs_client_ctx(&p, &o, err, sizeof err));
	assert_non_null(strstr(err, "match"));

	/* a world-readable key is refused by both builders, naming the file */
	path_in(path, sizeof path, lab, "dir01.key");
	path_in(wr, sizeof wr, lab, "dir01-open.key");
	{
		FILE *in = fopen(path, "r"), *out = fopen(wr, "w");
		int c;
		assert_non_null(in);
		assert_non_null(out);
		while ((c = fgetc(in)) != EOF)
			fputc(c, out);
		fclose(in);
		fclose(out);
	}
	assert_int_equal(chmod(wr, 0644), 0);
	lab_paths(&p, lab, "dir01");
	snprintf(p.key, sizeof p.key, "%s", wr);
	assert_null(certs_server_ctx(&p, &o, err, sizeof err));
	assert_non_null(strstr(err, "dir01-open.key"));
	assert_non_null(strstr(err, "0644"));
	assert_null(certs_client_ctx(&p, &o, err, sizeof err));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(wr, 0640), 0);
	assert_int_equal(certs_key_file_private(wr, err, sizeof err), -1);
	assert_int_equal(chmod(wr, 0600), 0);
	assert_int_equal(certs_key_file_private(wr, err, sizeof err), 0);
	unlink(wr);

	/* a server needs a certificate; a client may go without */
	memset(&p, 0, sizeof p);
	path_in(p.ca, sizeof p.ca, lab, "ca.pem");
	assert_null(certs_server_ctx(&p, &o, err, sizeof err));
	ctx = certs_client_ctx(&p, &o, err, sizeof err);
	assert_non_null(ctx);
	SSL_CTX_free(ctx);

	/* Lync tolerates a 1024-bit server key: so do our contexts */
	{
		const char *sans[] = {"dirpool.contoso.local"};
		struct certs_issue_opts io = {"dirpool.contoso.local",
		                              NULL,
		                              sans,
		                              1,
		                              CERTS_EKU_SERVER,
		                              false,
		                              NULL,
		                              -3600,
		                              86400};
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024), *cak;
		X509 *ca, *x;
		FILE *f;
		path_in(path, sizeof path, lab, "ca.pem");
		ca = first_cert(path);
		path_in(path, sizeof path, lab, "ca.key");
		cak = certs_load_key(path, err, sizeof err);
		assert_non_null(k);
		assert_non_null(cak);
		x = certs_issue(&io, k, ca, cak, err, sizeof err);
		assert_non_null(x);
		lab_paths(&p, lab, "dir01");
		path_in(p.cert, sizeof p.cert, lab, "small.pem");
		path_in(p.key, sizeof p.key, lab, "small.key");
		f = fopen(p.cert, "w");
		assert_non_null(f);
		PEM_write_X509(f, x);
		fclose(f);
		assert_int_equal(lm_write_file_atomic(p.key, "", 0, 0600), 0);
		f = fopen(p.key, "w");
		assert_non_null(f);
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
		fclose(f);
		ctx = certs_server_ctx(&p, &o, err, sizeof err);
		if (ctx == NULL)
			fail_msg("1024-bit key refused: %s", err);
		SSL_CTX_free(ctx);
		X509_free(x);
		X509_free(ca);
		EVP_PKEY_free(k);
		EVP_PKEY_free(cak);
	}

	/* a file that is not PEM */
	lab_paths(&p, lab, "dir01");
	snprintf(p.ca, sizeof p.ca, "%s", p.key);
	assert_null(certs_server_ctx(&p, &o, err, sizeof err));
	assert_non_null(strstr(err, "dir01.key"));
	assert_int_equal(ERR_peek_error(), 0); /* no stale errors left behind */
}

/* ---- handshakes on a socketpair ------------------------------------------ */

struct hs {
	int srv_ok, cli_ok; /* 1 done, -1 failed */
	struct certs_verify_note snote, cnote;
	long sresult;
	char peer[256];
};

/* Runs both ends of a handshake in this thread; bounded. Sends one byte
 * from the client so TLS 1.3's late client-certificate verdict is seen. */
static void
handshake(SSL_CTX *sctx, SSL_CTX *cctx, int maxv, const char *host, struct hs *r)
{
	int sv[2];
	SSL *s, *c;

	memset(r, 0, sizeof *r);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	s = SSL_new(sctx);
	c = SSL_new(cctx);
	assert_non_null(s);
	assert_non_null(c);
	assert_int_equal(certs_verify_note_attach(s, &r->snote), 0);
	assert_int_equal(certs_verify_note_attach(c, &r->cnote), 0);
	if (maxv != 0) {
		SSL_set_max_proto_version(s, maxv);
		SSL_set_max_proto_version(c, maxv);
	}
	if (host != NULL)
		SSL_set1_host(c, host);
	SSL_set_fd(s, sv[0]);
	SSL_set_fd(c, sv[1]);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int i = 0; i < 2000 && (r->srv_ok == 0 || r->cli_ok == 0); i++) {
		int rc, e;
		if (r->cli_ok == 0) {
			rc = SSL_do_handshake(c);
			e = SSL_get_error(c, rc);
			if (rc == 1)
				r->cli_ok = 1;
			else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				r->cli_ok = -1;
		}
		if (r->srv_ok == 0) {
			rc = SSL_do_handshake(s);
			e = SSL_get_error(s, rc);
			if (rc == 1)
				r->srv_ok = 1;
			else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				r->srv_ok = -1;
		}
		if (r->cli_ok == -1 && r->srv_ok == 0)
			r->srv_ok = -1; /* the client gave up: the server cannot finish */
	}
	assert_int_not_equal(r->srv_ok, 0);
	r->sresult = SSL_get_verify_result(s);
	if (SSL_get0_peer_certificate(s) != NULL)
		certs_name_oneline(X509_get_subject_name(SSL_get0_peer_certificate(s)), r->peer,
		                   sizeof r->peer);
	ERR_clear_error();
	SSL_free(s);
	SSL_free(c);
	close(sv[0]);
	close(sv[1]);
}

/* A certificate for cl01 with serverAuth only, from the lab CA, in lab/. */
static void
make_server_only_client_cert(const char *dir, char *cert, char *key, size_t len)
{
	char err[512], path[PATH_MAX];
	const char *sans[] = {"cl01.contoso.local"};
	struct certs_issue_opts io = {"cl01.contoso.local",
	                              NULL,
	                              sans,
	                              1,
	                              CERTS_EKU_SERVER,
	                              false,
	                              "http://pki.contoso.local/x.crl",
	                              -3600,
	                              86400};
	EVP_PKEY *k = certs_keygen(CERTS_KEY_ECDSA_P256, err, sizeof err), *cak;
	X509 *ca, *x;
	FILE *f;

	assert_non_null(k);
	path_in(path, sizeof path, dir, "ca.pem");
	ca = first_cert(path);
	path_in(path, sizeof path, dir, "ca.key");
	cak = certs_load_key(path, err, sizeof err);
	assert_non_null(cak);
	x = certs_issue(&io, k, ca, cak, err, sizeof err);
	assert_non_null(x);
	snprintf(cert, len, "%s/cl01-serveronly.pem", dir);
	snprintf(key, len, "%s/cl01-serveronly.key", dir);
	f = fopen(cert, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	assert_int_equal(lm_write_file_atomic(key, "", 0, 0600), 0);
	f = fopen(key, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
}

static void
run_eku_case(int maxv)
{
	struct certs_paths sp, cp;
	struct certs_tls_opts lync = {LM_CC_REQUIRED, false, 0};
	struct certs_tls_opts strict = {LM_CC_REQUIRED, true, 0};
	char err[1024], cert[PATH_MAX], key[PATH_MAX];
	SSL_CTX *sctx, *cctx;
	struct hs r;

	make_server_only_client_cert(lab, cert, key, sizeof cert);
	lab_paths(&sp, lab, "dir01");
	certs_paths_for_host(&cp, lab, tc_host("cl01"), NULL, cert, key);
	cctx = certs_client_ctx(&cp, NULL, err, sizeof err);
	assert_non_null(cctx);

	/* default (Lync): accepted, the verify result is clean, the note says why */
	sctx = certs_server_ctx(&sp, &lync, err, sizeof err);
	assert_non_null(sctx);
	handshake(sctx, cctx, maxv, "dirpool.contoso.local", &r);
	assert_int_equal(r.srv_ok, 1);
	assert_int_equal(r.cli_ok, 1);
	assert_int_equal(r.snote.error, X509_V_OK);
	assert_true(r.snote.eku_forgiven);
	assert_int_equal(r.sresult, X509_V_OK);
	assert_string_equal(r.peer, "CN=cl01.contoso.local");
	SSL_CTX_free(sctx);

	/* strict: OpenSSL's purpose check refuses it, recorded with depth and subject */
	sctx = certs_server_ctx(&sp, &strict, err, sizeof err);
	assert_non_null(sctx);
	handshake(sctx, cctx, maxv, "dirpool.contoso.local", &r);
	assert_int_equal(r.srv_ok, -1);
	assert_int_equal(r.snote.error, X509_V_ERR_INVALID_PURPOSE);
	assert_int_equal(r.snote.depth, 0);
	assert_string_equal(r.snote.subject, "CN=cl01.contoso.local");
	assert_false(r.snote.eku_forgiven);
	{
		char buf[256];
		certs_verify_note_format(&r.snote, buf, sizeof buf);
		assert_non_null(strstr(buf, "depth 0 (CN=cl01.contoso.local): "));
		assert_non_null(
		    strstr(buf, X509_verify_cert_error_string(X509_V_ERR_INVALID_PURPOSE)));
	}
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);

	/* strict still accepts the proper clientAuth certificate */
	lab_paths(&cp, lab, "cl01");
	cctx = certs_client_ctx(&cp, NULL, err, sizeof err);
	assert_non_null(cctx);
	sctx = certs_server_ctx(&sp, &strict, err, sizeof err);
	assert_non_null(sctx);
	handshake(sctx, cctx, maxv, "dirpool.contoso.local", &r);
	assert_int_equal(r.srv_ok, 1);
	assert_int_equal(r.snote.error, X509_V_OK);
	assert_false(r.snote.eku_forgiven);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	unlink(cert);
	unlink(key);
}

static void
test_serverauth_only_client_tls13(void **state)
{
	(void)state;
	run_eku_case(0);
}

static void
test_serverauth_only_client_tls12(void **state)
{
	(void)state;
	run_eku_case(TLS1_2_VERSION);
}

static void
test_client_cert_from_other_ca(void **state)
{
	struct certs_paths sp, cp;
	struct certs_tls_opts lync = {LM_CC_REQUIRED, false, 0};
	char err[1024];
	SSL_CTX *sctx, *cctx;
	struct hs r;

	(void)state;
	lab_paths(&sp, lab, "edge01");
	/* the client trusts our lab CA but presents a certificate from the other lab */
	certs_paths_for_host(&cp, other, tc_host("dir01"), NULL, NULL, NULL);
	path_in(cp.ca, sizeof cp.ca, lab, "ca.pem");
	sctx = certs_server_ctx(&sp, &lync, err, sizeof err);
	cctx = certs_client_ctx(&cp, NULL, err, sizeof err);
	assert_non_null(sctx);
	assert_non_null(cctx);
	handshake(sctx, cctx, TLS1_2_VERSION, "edge01-int.contoso.local", &r);
	assert_int_equal(r.srv_ok, -1);
	assert_int_equal(r.cli_ok, -1);
	/* the client sent its own CA along: an untrusted root at depth 1 */
	assert_int_equal(r.snote.error, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
	assert_int_equal(r.snote.depth, 1);
	assert_non_null(strstr(r.snote.subject, "CN=lyncmock lab CA (single-director),OU=lab "));
	SSL_CTX_free(cctx);

	/* the leaf alone: no issuer found for it, depth 0 */
	{
		char leaf[PATH_MAX], path[PATH_MAX];
		X509 *x;
		FILE *f;
		path_in(path, sizeof path, other, "dir01.pem");
		path_in(leaf, sizeof leaf, other, "dir01-leaf.pem");
		x = first_cert(path);
		f = fopen(leaf, "w");
		assert_non_null(f);
		PEM_write_X509(f, x);
		fclose(f);
		X509_free(x);
		snprintf(cp.cert, sizeof cp.cert, "%s", leaf);
		cctx = certs_client_ctx(&cp, NULL, err, sizeof err);
		assert_non_null(cctx);
		handshake(sctx, cctx, 0, "edge01-int.contoso.local", &r);
		assert_int_equal(r.srv_ok, -1);
		assert_int_equal(r.snote.depth, 0);
		assert_true(r.snote.error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
		            r.snote.error == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE);
		assert_string_equal(r.snote.subject, "CN=dirpool.contoso.local");
		unlink(leaf);
	}
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

static void
test_no_client_cert_required_vs_optional(void **state)
{
	struct certs_paths sp, cp;
	struct certs_tls_opts req = {LM_CC_REQUIRED, false, 0};
	struct certs_tls_opts opt = {LM_CC_OPTIONAL, false, 0};
	char err[1024];
	SSL_CTX *sctx, *cctx;
	struct hs r;

	(void)state;
	lab_paths(&sp, lab, "dir01");
	certs_paths_for_host(&cp, lab, NULL, NULL, NULL, NULL);
	cctx = certs_client_ctx(&cp, NULL, err, sizeof err);
	assert_non_null(cctx);
	sctx = certs_server_ctx(&sp, &req, err, sizeof err);
	assert_non_null(sctx);
	handshake(sctx, cctx, TLS1_2_VERSION, NULL, &r);
	assert_int_equal(r.srv_ok, -1);
	SSL_CTX_free(sctx);
	sctx = certs_server_ctx(&sp, &opt, err, sizeof err);
	assert_non_null(sctx);
	handshake(sctx, cctx, 0, NULL, &r);
	assert_int_equal(r.srv_ok, 1);
	/* verify result is OK without a certificate: callers check the peer too */
	assert_int_equal(r.sresult, X509_V_OK);
	assert_string_equal(r.peer, "");
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

static void
test_client_verifies_server(void **state)
{
	struct certs_paths sp, cp, op;
	struct certs_tls_opts none = {LM_CC_NONE, false, 0};
	char err[1024];
	SSL_CTX *sctx, *cctx, *octx;
	struct hs r;

	(void)state;
	lab_paths(&sp, lab, "dir01");
	certs_paths_for_host(&cp, lab, NULL, NULL, NULL, NULL);
	sctx = certs_server_ctx(&sp, &none, err, sizeof err);
	cctx = certs_client_ctx(&cp, NULL, err, sizeof err);
	assert_non_null(sctx);
	assert_non_null(cctx);
	/* every name of the certificate is accepted... */
	handshake(sctx, cctx, 0, "meet.contoso.local", &r);
	assert_int_equal(r.cli_ok, 1);
	assert_int_equal(r.cnote.error, X509_V_OK);
	/* ...another is a name mismatch, recorded on the client's note */
	handshake(sctx, cctx, 0, "fepool.contoso.local", &r);
	assert_int_equal(r.cli_ok, -1);
	assert_int_equal(r.cnote.error, X509_V_ERR_HOSTNAME_MISMATCH);
	assert_int_equal(r.cnote.depth, 0);
	/* a client trusting only the other lab's CA: untrusted */
	certs_paths_for_host(&op, other, NULL, NULL, NULL, NULL);
	octx = certs_client_ctx(&op, NULL, err, sizeof err);
	assert_non_null(octx);
	handshake(sctx, octx, 0, "dirpool.contoso.local", &r);
	assert_int_equal(r.cli_ok, -1);
	assert_int_equal(r.cnote.error, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
	assert_int_equal(r.cnote.depth, 1);
	assert_non_null(strstr(r.cnote.subject, "CN=lyncmock lab CA"));
	/* a server certificate with clientAuth only (rp01's) fails the server purpose */
	SSL_CTX_free(sctx);
	lab_paths(&sp, lab, "rp01");
	sctx = certs_server_ctx(&sp, &none, err, sizeof err);
	assert_non_null(sctx);
	handshake(sctx, cctx, 0, "rp01.contoso.local", &r);
	assert_int_equal(r.cli_ok, -1);
	assert_int_equal(r.cnote.error, X509_V_ERR_INVALID_PURPOSE);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	SSL_CTX_free(octx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths_for_host),
	    cmocka_unit_test(test_init_files_and_modes),
	    cmocka_unit_test(test_init_director_cert_shape),
	    cmocka_unit_test(test_init_client_and_edge_shapes),
	    cmocka_unit_test(test_host_names_composition),
	    cmocka_unit_test(test_init_reuses_ca),
	    cmocka_unit_test(test_init_refuses_half_or_mismatched_ca),
	    cmocka_unit_test(test_init_skips_hosts_with_own_cert),
	    cmocka_unit_test(test_ctx_errors),
	    cmocka_unit_test(test_serverauth_only_client_tls13),
	    cmocka_unit_test(test_serverauth_only_client_tls12),
	    cmocka_unit_test(test_client_cert_from_other_ca),
	    cmocka_unit_test(test_no_client_cert_required_vs_optional),
	    cmocka_unit_test(test_client_verifies_server),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
