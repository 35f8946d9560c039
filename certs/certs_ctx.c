/* The one place that builds SSL_CTXs for listeners and probes, with Lync's MTLS semantics. */
#include "certs/certs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* TLS 1.2 suites Lync 2013 peers offer (ECDHE, then RSA key exchange, GCM
 * before CBC); TLS 1.3 suites are OpenSSL's defaults. */
#define CERTS_CIPHERS                                                                              \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:ECDHE+AES:RSA+AESGCM:RSA+AES:"                     \
	"!aNULL:!eNULL:!MD5:!RC4:!3DES:!DES:!PSK:!SRP:!CAMELLIA:!ARIA"

static CRYPTO_ONCE note_once = CRYPTO_ONCE_STATIC_INIT;
static int note_idx = -1;

static void
note_idx_init(void)
{
	note_idx = SSL_get_ex_new_index(0, "lyncmock verify note", NULL, NULL, NULL);
}

static int
note_index(void)
{
	if (!CRYPTO_THREAD_run_once(&note_once, note_idx_init))
		return -1;
	return note_idx;
}

int
certs_verify_note_attach(SSL *ssl, struct certs_verify_note *note)
{
	int idx = note_index();

	if (idx < 0 || ssl == NULL)
		return -1;
	return SSL_set_ex_data(ssl, idx, note) == 1 ? 0 : -1;
}

char *
certs_verify_note_format(const struct certs_verify_note *note, char *buf, size_t len)
{
	if (note->error == X509_V_OK)
		snprintf(buf, len, "certificate verified");
	else
		snprintf(buf, len, "depth %d (%s): %s", note->depth,
		         note->subject[0] ? note->subject : "?",
		         X509_verify_cert_error_string(note->error));
	return buf;
}

char *
certs_name_oneline(const X509_NAME *name, char *buf, size_t len)
{
	BIO *b;
	int n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (name == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return buf;
	/* RFC 2253 order reversed to the usual "CN=...,O=..." reading order. */
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_read(b, buf, (int)len - 1);
		buf[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
	return buf;
}

static struct certs_verify_note *
note_of(X509_STORE_CTX *sctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	int idx = note_index();

	if (ssl == NULL || idx < 0)
		return NULL;
	return SSL_get_ex_data(ssl, idx);
}

/* Lync accepts a client certificate whose only EKU is serverAuth; OpenSSL's
 * ssl_client purpose refuses it. Forgive exactly that: depth 0, the purpose
 * error, a leaf that carries serverAuth and may sign (digitalSignature when
 * keyUsage is present), on the server side. */
static bool
lync_forgives(X509_STORE_CTX *sctx, int err, int depth)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	X509 *x = X509_STORE_CTX_get_current_cert(sctx);
	uint32_t xku, ku;

	if (err != X509_V_ERR_INVALID_PURPOSE || depth != 0 || x == NULL || ssl == NULL ||
	    !SSL_is_server(ssl))
		return false;
	xku = X509_get_extended_key_usage(x);
	if (!(X509_get_extension_flags(x) & EXFLAG_XKUSAGE) || !(xku & XKU_SSL_SERVER))
		return false;
	ku = X509_get_key_usage(x);
	if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) && !(ku & KU_DIGITAL_SIGNATURE))
		return false;
	return true;
}

static void
note_record(X509_STORE_CTX *sctx, int err, int depth)
{
	struct certs_verify_note *note = note_of(sctx);
	X509 *x;

	if (note == NULL || note->error != X509_V_OK)
		return; /* only the first failure: later ones follow from it */
	note->error = err;
	note->depth = depth;
	x = X509_STORE_CTX_get_current_cert(sctx);
	if (x != NULL)
		certs_name_oneline(X509_get_subject_name(x), note->subject, sizeof note->subject);
	else
		note->subject[0] = '\0';
}

static int
verify_cb_common(int ok, X509_STORE_CTX *sctx, bool lync_eku)
{
	int err, depth;

	if (ok)
		return 1;
	err = X509_STORE_CTX_get_error(sctx);
	depth = X509_STORE_CTX_get_error_depth(sctx);
	if (lync_eku && lync_forgives(sctx, err, depth)) {
		struct certs_verify_note *note = note_of(sctx);
		if (note != NULL)
			note->eku_forgiven = true;
		/* clear it, or SSL_get_verify_result() would still report it */
		X509_STORE_CTX_set_error(sctx, X509_V_OK);
		return 1;
	}
	note_record(sctx, err, depth);
	return 0;
}

static int
verify_cb_lync(int ok, X509_STORE_CTX *sctx)
{
	return verify_cb_common(ok, sctx, true);
}

static int
verify_cb_strict(int ok, X509_STORE_CTX *sctx)
{
	return verify_cb_common(ok, sctx, false);
}

/* Appends OpenSSL's queued errors (then clears the queue) to err. */
static void
ssl_errors(char *err, size_t errlen)
{
	unsigned long e;
	size_t used = strlen(err);
	char buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof buf);
		if (used + 3 < errlen) {
			snprintf(err + used, errlen - used, ": %s", buf);
			used = strlen(err);
		}
	}
}

int
certs_key_file_private(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		snprintf(err, errlen,
		         "%s: private key is accessible to group/others (mode %04o); refusing it "
		         "(run: chmod 600 %s)",
		         path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static int
file_readable(const char *what, const char *path, char *err, size_t errlen)
{
	return lm_check_regular(what, path, err, errlen);
}

/* Shared part of both builders: versions, ciphers, certificate + key. */
static SSL_CTX *
ctx_base(const SSL_METHOD *m, const struct certs_paths *p, const struct certs_tls_opts *o,
         bool need_cert, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	int minv = (o != NULL && o->min_version != 0) ? o->min_version : TLS1_2_VERSION;
	char ciphers[512];

	err[0] = '\0';
	ERR_clear_error();
	if (need_cert && (p->cert[0] == '\0' || p->key[0] == '\0')) {
		snprintf(err, errlen, "a certificate and a key are needed (cert '%s', key '%s')",
		         p->cert, p->key);
		return NULL;
	}
	if (p->cert[0] != '\0' && p->key[0] == '\0') {
		snprintf(err, errlen, "certificate %s given without a key", p->cert);
		return NULL;
	}
	if (p->cert[0] != '\0') {
		if (file_readable("certificate", p->cert, err, errlen) == -1 ||
		    file_readable("key", p->key, err, errlen) == -1 ||
		    certs_key_file_private(p->key, err, errlen) == -1)
			return NULL;
	}
	if ((ctx = SSL_CTX_new(m)) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		goto fail;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, minv)) {
		snprintf(err, errlen, "cannot set minimum TLS version 0x%x", minv);
		goto fail;
	}
	/* Lync tolerates 1024-bit RSA keys (security level 1; distributions
	 * default to 2, which refuses them); TLS 1.0/1.1 need level 0. */
	snprintf(ciphers, sizeof ciphers, "%s%s", CERTS_CIPHERS,
	         minv < TLS1_2_VERSION ? ":@SECLEVEL=0" : ":@SECLEVEL=1");
	if (!SSL_CTX_set_cipher_list(ctx, ciphers)) {
		snprintf(err, errlen, "cannot set the cipher list");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (p->cert[0] != '\0' && certs_ctx_use_pair(ctx, p->cert, p->key, err, errlen) == -1)
		goto fail;
	return ctx;
fail:
	ssl_errors(err, errlen);
	SSL_CTX_free(ctx);
	return NULL;
}

static int
load_ca(SSL_CTX *ctx, const char *ca, char *err, size_t errlen)
{
	if (file_readable("CA", ca, err, errlen) == -1)
		return -1;
	if (SSL_CTX_load_verify_file(ctx, ca) != 1) {
		snprintf(err, errlen, "CA %s: no usable certificate in it", ca);
		ssl_errors(err, errlen);
		return -1;
	}
	return 0;
}

SSL_CTX *
certs_server_ctx(const struct certs_paths *p, const struct certs_tls_opts *o, char *err,
                 size_t errlen)
{
	SSL_CTX *ctx;
	STACK_OF(X509_NAME) *names = NULL;
	enum lm_client_cert cc = o != NULL ? o->client_cert : LM_CC_NONE;
	bool strict = o != NULL && o->strict_client_eku;
	int mode;

	if (cc == LM_CC_DEFAULT)
		cc = LM_CC_NONE; /* the caller resolves per service; be safe */
	if ((ctx = ctx_base(TLS_server_method(), p, o, true, err, errlen)) == NULL)
		return NULL;
	/* resumption with client certificates needs a session id context */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"lyncmock", 8);
	/* One TLS 1.3 ticket, stateful and not cached: it tells a probe that its
	 * certificate was accepted. OpenSSL 3.0 serialises and re-parses the whole
	 * session (client certificate included) for each stateless ticket, which
	 * cost more CPU than the handshake's signature; probes never resume. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (cc == LM_CC_NONE) {
		/* no client certificate, no verdict to tell: no ticket either */
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	if (p->ca[0] == '\0') {
		snprintf(err, errlen, "a CA file is needed to verify client certificates");
		goto fail;
	}
	if (load_ca(ctx, p->ca, err, errlen) == -1)
		goto fail;
	ERR_clear_error();
	if ((names = SSL_load_client_CA_file(p->ca)) == NULL) {
		snprintf(err, errlen, "CA %s: cannot read the CA names to advertise", p->ca);
		ssl_errors(err, errlen);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names); /* takes ownership */
	mode = SSL_VERIFY_PEER;
	if (cc == LM_CC_REQUIRED)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, strict ? verify_cb_strict : verify_cb_lync);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
certs_client_ctx(const struct certs_paths *p, const struct certs_tls_opts *o, char *err,
                 size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = ctx_base(TLS_client_method(), p, o, false, err, errlen)) == NULL)
		return NULL;
	if (p->ca[0] == '\0') {
		snprintf(err, errlen, "a CA file is needed to verify servers");
		goto fail;
	}
	if (load_ca(ctx, p->ca, err, errlen) == -1)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb_strict);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
certs_tls_version_from_name(const char *name)
{
	static const struct {
		const char *name;
		int version;
	} v[] = {{"1.0", TLS1_VERSION},
	         {"1.1", TLS1_1_VERSION},
	         {"1.2", TLS1_2_VERSION},
	         {"1.3", TLS1_3_VERSION}};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		if (strcmp(name, v[i].name) == 0)
			return v[i].version;
	}
	return -1;
}
