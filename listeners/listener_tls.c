/* What a connection's TLS session says (facts, why a handshake failed) and its one log line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "listeners/listener_priv.h"

void
listener_own_cert(struct listener *l)
{
	const X509 *own = l->ctx != NULL ? SSL_CTX_get0_certificate(l->ctx) : NULL;

	l->own = own;
	l->own_subject[0] = l->own_fp[0] = '\0';
	if (own != NULL) {
		certs_name_oneline(X509_get_subject_name(own), l->own_subject,
		                   sizeof l->own_subject);
		certs_sha256_hex(own, l->own_fp);
	}
}

void
conn_tls_facts(struct lm_conn *c)
{
	const X509 *peer, *own;
	const char *v, *ci;

	if (c->ssl == NULL || c->tls_done)
		return;
	v = SSL_get_version(c->ssl);
	ci = SSL_get_cipher_name(c->ssl);
	snprintf(c->tls_version, sizeof c->tls_version, "%s", v != NULL ? v : "");
	snprintf(c->tls_cipher, sizeof c->tls_cipher, "%s", ci != NULL ? ci : "");
	peer = SSL_get0_peer_certificate(c->ssl);
	if (peer != NULL) {
		certs_name_oneline(X509_get_subject_name(peer), c->client_cert,
		                   sizeof c->client_cert);
		certs_sha256_hex(peer, c->client_fp);
	}
	own = SSL_get_certificate(c->ssl);
	if (own != NULL && own == c->l->own && SSL_get_SSL_CTX(c->ssl) == c->l->ctx) {
		/* the listener's current certificate: noted once */
		memcpy(c->server_cert, c->l->own_subject, sizeof c->server_cert);
		memcpy(c->server_fp, c->l->own_fp, sizeof c->server_fp);
	} else if (own != NULL) { /* a context from before a reload */
		certs_name_oneline(X509_get_subject_name(own), c->server_cert,
		                   sizeof c->server_cert);
		certs_sha256_hex(own, c->server_fp);
	}
	c->tls_done = true;
}

void
conn_tls_msg(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
             void *arg)
{
	struct lm_conn *c = arg;
	const unsigned char *b = buf;

	(void)version;
	(void)ssl;
	/* OpenSSL answers a TLS 1.2 client's renegotiation (SSL_OP_NO_RENEGOTIATION)
	 * with a no_renegotiation warning; what the client does next (a fatal
	 * alert, a close) would otherwise be the only reason logged */
	if (write_p == 1 && content_type == SSL3_RT_ALERT && len >= 2 &&
	    b[1] == SSL_AD_NO_RENEGOTIATION) {
		conn_tls_facts(c);
		conn_outcome(c,
		             "renegotiation refused: the client asked to renegotiate %s "
		             "after the handshake; listeners do not renegotiate",
		             c->tls_version[0] != '\0' ? c->tls_version : "TLS");
	}
}

void
conn_tls_failure(struct lm_conn *c, const char *what)
{
	char ssl_err[256] = "", verify[384] = "";
	unsigned long e, last = 0;
	long vr;
	const X509 *peer;

	if (c->ssl == NULL) {
		conn_outcome(c, "handshake failed: %s", what);
		return;
	}
	/* the last queued error is the one closest to the cause; libevent
	 * also queues bare SSL_get_error() codes (no library): skip those */
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		if (ERR_GET_LIB(e) != 0)
			last = e;
	}
	if (last != 0)
		ERR_error_string_n(last, ssl_err, sizeof ssl_err);
	vr = SSL_get_verify_result(c->ssl);
	peer = SSL_get0_peer_certificate(c->ssl);
	if (c->note.error != X509_V_OK) {
		char note[320];
		snprintf(verify, sizeof verify, "client certificate rejected: %s",
		         certs_verify_note_format(&c->note, note, sizeof note));
	} else if (vr != X509_V_OK) {
		char subj[256] = "";
		if (peer != NULL)
			certs_name_oneline(X509_get_subject_name(peer), subj, sizeof subj);
		snprintf(verify, sizeof verify, "client certificate rejected: %s%s%s", subj,
		         subj[0] != '\0' ? ": " : "", X509_verify_cert_error_string(vr));
	} else if (peer == NULL && c->l->client_cert == LM_CC_REQUIRED && last != 0 &&
	           ERR_GET_REASON(last) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		snprintf(verify, sizeof verify, "no client certificate sent (one is required)");
	}
	if (verify[0] != '\0')
		conn_outcome(c, "handshake failed: %s", verify);
	else if (ssl_err[0] != '\0')
		conn_outcome(c, "handshake failed: %s", ssl_err);
	else
		conn_outcome(c, "handshake failed: %s", what);
}

static void
conn_log_json(const struct lm_conn *c, FILE *f, const char *when, const char *outcome, double ms)
{
	json_t *o, *tls = json_null();
	char *s;

	if (c->l->tls) {
		tls = json_pack("{s:s?, s:s?, s:s?}", "version",
		                c->tls_version[0] != '\0' ? c->tls_version : NULL, "cipher",
		                c->tls_cipher[0] != '\0' ? c->tls_cipher : NULL, "client_cert",
		                c->client_cert[0] != '\0' ? c->client_cert : NULL);
	}
	o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:o?, s:s, s:o, s:I, s:i, s:f}", "time", when,
	              "listener", lm_service_name(c->l->service), "port", c->l->port, "local",
	              c->local, "peer", c->peer, "tls", tls, "outcome", outcome, "bytes_in",
	              json_integer((json_int_t)c->bytes_in), "bytes_out", (json_int_t)c->bytes_out,
	              "requests", (int)c->requests, "duration_ms", ms);
	if (o == NULL)
		return;
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL) {
		fprintf(f, "%s\n", s);
		free(s);
	}
	json_decref(o);
}

void
conn_log(const struct lm_conn *c)
{
	const struct listener_set *ls = c->l->set;
	FILE *f = ls->cfg.log != NULL ? ls->cfg.log : stderr;
	char when[40], in[24];
	const char *outcome = c->outcome[0] != '\0' ? c->outcome : "ok";
	double ms = lm_now_ms() - c->t_start;

	lm_utc_now(when, sizeof when);
	snprintf(in, sizeof in, "%llu", (unsigned long long)c->bytes_in);
	if (ls->cfg.json_log) {
		conn_log_json(c, f, when, outcome, ms);
	} else if (c->l->tls) {
		fprintf(f,
		        "%s %s port=%u peer=%s tls=%s cipher=%s client_cert=\"%s\" outcome=\"%s\" "
		        "in=%s out=%llu requests=%u ms=%.1f\n",
		        when, lm_service_name(c->l->service), c->l->port, c->peer,
		        c->tls_version[0] != '\0' ? c->tls_version : "-",
		        c->tls_cipher[0] != '\0' ? c->tls_cipher : "-", c->client_cert, outcome, in,
		        (unsigned long long)c->bytes_out, c->requests, ms);
	} else {
		fprintf(f,
		        "%s %s port=%u peer=%s tls=none outcome=\"%s\" in=%s out=%llu requests=%u "
		        "ms=%.1f\n",
		        when, lm_service_name(c->l->service), c->l->port, c->peer, outcome, in,
		        (unsigned long long)c->bytes_out, c->requests, ms);
	}
	fflush(f);
}
