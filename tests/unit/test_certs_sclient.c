/* certs_server_ctx against the real `openssl s_client`: Lync's client-EKU leniency and strict mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "test_certs_common.h"

#define ADDR "127.0.2.2" /* the certs tests' loopback range: 127.0.2.0/24 */

static char lab[512];
static char so_cert[PATH_MAX], so_key[PATH_MAX];

static int
openssl_present(void)
{
	return system("openssl version >/dev/null 2>&1") == 0;
}

static int
group_setup(void **state)
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
	STACK_OF(X509) * sk;
	EVP_PKEY *k, *cak;
	X509 *ca, *x;
	FILE *f;

	(void)state;
	if (tc_mkdtemp(lab, sizeof lab) == NULL ||
	    certs_init(&tc_scenario, lab, NULL, err, sizeof err) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/ca.pem", lab);
	sk = certs_load_certs(path, err, sizeof err);
	ca = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	snprintf(path, sizeof path, "%s/ca.key", lab);
	cak = certs_load_key(path, err, sizeof err);
	k = certs_keygen(CERTS_KEY_RSA2048, err, sizeof err);
	x = certs_issue(&io, k, ca, cak, err, sizeof err);
	if (x == NULL)
		return -1;
	snprintf(so_cert, sizeof so_cert, "%s/serveronly.pem", lab);
	snprintf(so_key, sizeof so_key, "%s/serveronly.key", lab);
	f = fopen(so_cert, "w");
	PEM_write_X509(f, x);
	fclose(f);
	lm_write_file_atomic(so_key, "", 0, 0600);
	f = fopen(so_key, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	tc_rmrf(lab);
	return 0;
}

struct result {
	int accepted;  /* server-side handshake completed */
	char line[64]; /* what the client sent after the handshake */
	struct certs_verify_note note;
	char peer[256];
};

/* Listens on ADDR, runs `openssl s_client` with cert/key against it, serves
 * one connection with sctx; everything bounded by timeouts. */
static void
serve_one(SSL_CTX *sctx, const char *cert, const char *key, int tls12, struct result *r)
{
	struct sockaddr_in sin = {0};
	socklen_t sl = sizeof sin;
	struct timeval tv = {10, 0};
	struct pollfd pfd;
	char capath[PATH_MAX], port[8];
	int lfd, fd, in[2], status, n;
	pid_t pid;
	SSL *ssl;

	memset(r, 0, sizeof *r);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, ADDR, &sin.sin_addr);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(port, sizeof port, "%u", ntohs(sin.sin_port));
	snprintf(capath, sizeof capath, "%s/ca.pem", lab);
	assert_int_equal(pipe(in), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char connect[64];
		int devnull = open("/dev/null", O_WRONLY);
		snprintf(connect, sizeof connect, "%s:%s", ADDR, port);
		dup2(in[0], 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		close(in[1]);
		execlp("openssl", "openssl", "s_client", "-connect", connect, "-cert", cert, "-key",
		       key, "-CAfile", capath, "-verify_return_error", "-servername",
		       "dirpool.contoso.local", tls12 ? "-tls1_2" : "-tls1_3", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	/* the client's line: s_client sends it once its handshake is done */
	n = write(in[1], "lyncmock-hello\n", 15);
	assert_int_equal(n, 15);

	pfd.fd = lfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	ssl = SSL_new(sctx);
	assert_non_null(ssl);
	certs_verify_note_attach(ssl, &r->note);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1) {
		r->accepted = 1;
		if (SSL_get0_peer_certificate(ssl) != NULL)
			certs_name_oneline(X509_get_subject_name(SSL_get0_peer_certificate(ssl)),
			                   r->peer, sizeof r->peer);
		n = SSL_read(ssl, r->line, sizeof r->line - 1);
		if (n > 0)
			r->line[n] = '\0';
		SSL_shutdown(ssl);
	}
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	close(lfd);
	close(in[1]); /* EOF: s_client quits */
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void
run(int tls12)
{
	struct certs_paths sp;
	struct certs_tls_opts lync = {LM_CC_REQUIRED, false, 0};
	struct certs_tls_opts strict = {LM_CC_REQUIRED, true, 0};
	char err[1024], ccert[PATH_MAX], ckey[PATH_MAX];
	SSL_CTX *ctx;
	struct result r;

	if (!openssl_present())
		skip();
	certs_paths_for_host(&sp, lab, tc_host("dir01"), NULL, NULL, NULL);

	/* Lync semantics: the serverAuth-only client certificate is accepted */
	ctx = certs_server_ctx(&sp, &lync, err, sizeof err);
	assert_non_null(ctx);
	serve_one(ctx, so_cert, so_key, tls12, &r);
	assert_int_equal(r.accepted, 1);
	assert_string_equal(r.line, "lyncmock-hello\n");
	assert_string_equal(r.peer, "CN=cl01.contoso.local");
	assert_true(r.note.eku_forgiven);
	assert_int_equal(r.note.error, X509_V_OK);
	SSL_CTX_free(ctx);

	/* strict: refused for its purpose, recorded with depth and subject */
	ctx = certs_server_ctx(&sp, &strict, err, sizeof err);
	assert_non_null(ctx);
	serve_one(ctx, so_cert, so_key, tls12, &r);
	assert_int_equal(r.accepted, 0);
	assert_int_equal(r.note.error, X509_V_ERR_INVALID_PURPOSE);
	assert_int_equal(r.note.depth, 0);
	assert_string_equal(r.note.subject, "CN=cl01.contoso.local");

	/* strict still takes a proper clientAuth certificate (cl01's own) */
	snprintf(ccert, sizeof ccert, "%s/cl01.pem", lab);
	snprintf(ckey, sizeof ckey, "%s/cl01.key", lab);
	serve_one(ctx, ccert, ckey, tls12, &r);
	assert_int_equal(r.accepted, 1);
	assert_string_equal(r.line, "lyncmock-hello\n");
	assert_false(r.note.eku_forgiven);
	SSL_CTX_free(ctx);
}

static void
test_sclient_tls13(void **state)
{
	(void)state;
	run(0);
}

static void
test_sclient_tls12(void **state)
{
	(void)state;
	run(1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sclient_tls13),
	    cmocka_unit_test(test_sclient_tls12),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
