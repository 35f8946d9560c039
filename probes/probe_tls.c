/*
 * The TLS step every TLS probe shares: SNI and the expected name, a verify
 * callback that records each error (with depth and subject) and lets the
 * handshake finish so the whole picture is known, a message callback that
 * sees CertificateRequest, our Certificate, alerts and the first record
 * header, and the classification of what happened into an outcome.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "probes/probe_int.h"

/* TLS AlertDescription values (RFC 8446 §6) we act on. */
#define ALERT_CLOSE_NOTIFY 0
#define ALERT_HANDSHAKE_FAILURE 40
#define ALERT_BAD_CERTIFICATE 42
#define ALERT_UNSUPPORTED_CERTIFICATE 43
#define ALERT_CERTIFICATE_REVOKED 44
#define ALERT_CERTIFICATE_EXPIRED 45
#define ALERT_CERTIFICATE_UNKNOWN 46
#define ALERT_UNKNOWN_CA 48
#define ALERT_ACCESS_DENIED 49
#define ALERT_CERTIFICATE_REQUIRED 116

static int probe_ssl_idx = -1;

static const char *
hs_name(int type)
{
	switch (type) {
	case 0:
		return "HelloRequest";
	case 1:
		return "ClientHello";
	case 2:
		return "ServerHello";
	case 4:
		return "NewSessionTicket";
	case 5:
		return "EndOfEarlyData";
	case 8:
		return "EncryptedExtensions";
	case 11:
		return "Certificate";
	case 12:
		return "ServerKeyExchange";
	case 13:
		return "CertificateRequest";
	case 14:
		return "ServerHelloDone";
	case 15:
		return "CertificateVerify";
	case 16:
		return "ClientKeyExchange";
	case 20:
		return "Finished";
	case 24:
		return "KeyUpdate";
	case 254:
		return "message_hash";
	default:
		return "unknown handshake message";
	}
}

/* OpenSSL 3.0 has no text for the TLS 1.3 alerts; name those ourselves. */
static const char *
alert_name(int desc)
{
	switch (desc) {
	case 109:
		return "missing extension";
	case 116:
		return "certificate required";
	case 120:
		return "no application protocol";
	default:
		return SSL_alert_desc_string_long(desc);
	}
}

bool
probe_tls_alert_is_client_reject(int desc)
{
	switch (desc) {
	case ALERT_BAD_CERTIFICATE:
	case ALERT_UNSUPPORTED_CERTIFICATE:
	case ALERT_CERTIFICATE_REVOKED:
	case ALERT_CERTIFICATE_EXPIRED:
	case ALERT_CERTIFICATE_UNKNOWN:
	case ALERT_UNKNOWN_CA:
	case ALERT_ACCESS_DENIED:
	case ALERT_CERTIFICATE_REQUIRED:
		return true;
	default:
		return false;
	}
}

static void
name_of(const X509_NAME *n, char *buf, size_t len)
{
	if (n == NULL)
		snprintf(buf, len, "?");
	else
		certs_name_oneline(n, buf, len);
}

static void
debug_ca_names(struct probe *p)
{
	STACK_OF(X509_NAME) *names = SSL_get_client_CA_list(p->ssl);
	char buf[512];
	int n = names ? sk_X509_NAME_num(names) : 0;

	if (n == 0) {
		probe_debug(p, "  the CertificateRequest names no CA (any CA accepted)");
		return;
	}
	for (int i = 0; i < n; i++) {
		name_of(sk_X509_NAME_value(names, i), buf, sizeof buf);
		probe_debug(p, "  acceptable CA: %s", buf);
	}
}

static void
msg_cb(int write_p, int version, int content_type, const void *vbuf, size_t len, SSL *ssl,
       void *arg)
{
	struct probe *p = arg;
	const unsigned char *buf = vbuf;

	(void)ssl;
	switch (content_type) {
	case SSL3_RT_HEADER:
		if (write_p || len < 5 || p->tls_rx_any)
			return;
		p->tls_rx_any = true;
		memcpy(p->tls_first_hdr, buf, 5);
		/* a TLS record: type 20..24, then version 3.x */
		if (buf[0] < 20 || buf[0] > 24 || buf[1] != 3)
			p->tls_rx_plain = true;
		return;
	case SSL3_RT_HANDSHAKE:
		if (len < 4)
			return;
		probe_debug(p, "%s %s (%zu bytes)", write_p ? ">>> sent" : "<<< received",
		            hs_name(buf[0]), len);
		if (!write_p && buf[0] == 13)
			p->cert_requested = true;
		if (!write_p && buf[0] == 4) {
			/* the server accepted our Finished (and certificate) */
			p->got_ticket = true;
			if (p->settling && p->ev_settle != NULL)
				event_active(p->ev_settle, EV_TIMEOUT, 0);
		}
		if (write_p && buf[0] == 11) {
			/* TLS 1.3 carries a request context before the list */
			size_t off = 4;
			if (version == TLS1_3_VERSION)
				off += len > 4 ? 1 + (size_t)buf[4] : 1;
			p->cert_msg_sent = true;
			p->cert_msg_empty = len < off + 3 || (buf[off] == 0 && buf[off + 1] == 0 &&
			                                      buf[off + 2] == 0);
			if (p->cert_requested && probe_debugging(p)) {
				debug_ca_names(p);
				probe_debug(p, "  our Certificate is %s",
				            p->cert_msg_empty
				                ? "EMPTY (no client certificate to send)"
				                : "a client certificate");
			}
		}
		return;
	case SSL3_RT_ALERT:
		if (len < 2)
			return;
		probe_debug(p, "%s alert %s %s (%d)", write_p ? ">>> sent" : "<<< received",
		            buf[0] == 2 ? "fatal" : "warning", alert_name(buf[1]), buf[1]);
		if (write_p && !p->tls_rx_any)
			p->alert_sent_blind = true;
		if (!write_p && (!p->alert.seen || buf[1] != ALERT_CLOSE_NOTIFY)) {
			p->alert.seen = true;
			p->alert.level = buf[0];
			p->alert.desc = buf[1];
			p->alert.after_handshake = p->handshake_done;
		}
		return;
	case SSL3_RT_CHANGE_CIPHER_SPEC:
		probe_debug(p, "%s ChangeCipherSpec", write_p ? ">>> sent" : "<<< received");
		return;
	default:
		return;
	}
}

static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct probe *p = SSL_get_ex_data(ssl, probe_ssl_idx);

	(void)ret;
	if (p == NULL)
		return;
	if (where & SSL_CB_HANDSHAKE_START)
		probe_debug(p, "handshake start");
	if (where & SSL_CB_HANDSHAKE_DONE)
		probe_debug(p, "handshake done: %s, %s", SSL_get_version(ssl),
		            SSL_get_cipher_name(ssl));
	if ((where & SSL_CB_EXIT) && ret == 0)
		probe_debug(p, "handshake stopped in state: %s", SSL_state_string_long(ssl));
}

/* Which outcome class a verification error belongs to. */
static enum lm_outcome
verr_class(int err, int depth)
{
	switch (err) {
	case X509_V_ERR_INVALID_PURPOSE:
		/* the leaf's EKU lacks serverAuth; a CA's purpose is a trust matter */
		return depth == 0 ? LM_OUT_TLS_WRONG_PURPOSE : LM_OUT_TLS_UNTRUSTED;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
	case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
		return LM_OUT_TLS_EXPIRED;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return LM_OUT_TLS_NAME_MISMATCH;
	default:
		/* issuer unknown, self-signed, bad signature, wrong purpose… */
		return LM_OUT_TLS_UNTRUSTED;
	}
}

/* Records every error and lets the handshake go on: the probe decides once
 * it has seen the whole handshake (and closes before any application data). */
static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct probe *p = ssl ? SSL_get_ex_data(ssl, probe_ssl_idx) : NULL;
	int err, depth;
	X509 *cert;
	char subj[256], text[512];
	long *slot;
	char *slot_text;

	if (ok || p == NULL)
		return ok;
	err = X509_STORE_CTX_get_error(xs);
	depth = X509_STORE_CTX_get_error_depth(xs);
	cert = X509_STORE_CTX_get_current_cert(xs);
	name_of(cert ? X509_get_subject_name(cert) : NULL, subj, sizeof subj);
	snprintf(text, sizeof text, "%s (depth %d, %s)", X509_verify_cert_error_string(err), depth,
	         subj);
	probe_debug(p, "verify error: %s", text);
	switch (verr_class(err, depth)) {
	case LM_OUT_TLS_WRONG_PURPOSE:
		slot = &p->verr_purpose;
		slot_text = p->verr_purpose_text;
		break;
	case LM_OUT_TLS_EXPIRED:
		slot = &p->verr_expired;
		slot_text = p->verr_expired_text;
		break;
	case LM_OUT_TLS_NAME_MISMATCH:
		slot = &p->verr_name;
		slot_text = p->verr_name_text;
		break;
	default:
		slot = &p->verr_untrusted;
		slot_text = p->verr_untrusted_text;
		break;
	}
	if (*slot == X509_V_OK) {
		*slot = err;
		snprintf(slot_text, 512, "%s", text);
	}
	if (p->verr_text[0] == '\0')
		snprintf(p->verr_text, sizeof p->verr_text, "%s", text);
	return 1;
}

int
probe_tls_start(struct probe *p, char *err, size_t errlen)
{
	SSL_CTX *ctx = probe_engine_ctx(p);
	SSL *ssl;

	if (probe_ssl_idx == -1 &&
	    (probe_ssl_idx = SSL_get_ex_new_index(0, "lyncmock probe", NULL, NULL, NULL)) == -1) {
		snprintf(err, errlen, "SSL_get_ex_new_index failed");
		return -1;
	}
	if (ctx == NULL) {
		snprintf(err, errlen, "no TLS client context");
		return -1;
	}
	if ((ssl = SSL_new(ctx)) == NULL) {
		snprintf(err, errlen, "SSL_new failed");
		return -1;
	}
	SSL_set_ex_data(ssl, probe_ssl_idx, p);
	if (p->tls_name != NULL && !p->tls_name_is_ip) {
		if (SSL_set_tlsext_host_name(ssl, p->tls_name) != 1 ||
		    SSL_set1_host(ssl, p->tls_name) != 1) {
			snprintf(err, errlen, "cannot set the TLS name %s", p->tls_name);
			SSL_free(ssl);
			return -1;
		}
	} else if (p->tls_name != NULL &&
	           X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), p->tls_name) != 1) {
		snprintf(err, errlen, "cannot set the expected IP address %s", p->tls_name);
		SSL_free(ssl);
		return -1;
	}
	SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_cb);
	SSL_set_msg_callback(ssl, msg_cb);
	SSL_set_msg_callback_arg(ssl, p);
	if (probe_debugging(p))
		SSL_set_info_callback(ssl, info_cb);
	p->bev = bufferevent_openssl_socket_new(event_get_base(p->ev_deadline), p->fd, ssl,
	                                        BUFFEREVENT_SSL_CONNECTING,
	                                        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (p->bev == NULL) {
		/* libevent freed the SSL; the fd is still ours (probe_done closes it) */
		snprintf(err, errlen, "cannot create the TLS bufferevent");
		return -1;
	}
	p->fd = -1;
	p->ssl = ssl;
	bufferevent_openssl_set_allow_dirty_shutdown(p->bev, 1);
	probe_cut_watch(p);
	probe_debug(p, "TLS to %s, verifying the name %s", p->res.dst_addr ? p->res.dst_addr : "?",
	            p->tls_name ? p->tls_name : "(none)");
	return 0;
}

bool
probe_cert_owner(struct probe *p, char *why, size_t whylen)
{
	const struct scenario *sc = probe_engine_scenario(p);
	const X509 *leaf = p->ssl ? SSL_get0_peer_certificate(p->ssl) : NULL;
	const struct scenario_host *by_pool = NULL;
	char fqdn[512];

	if (sc == NULL || leaf == NULL)
		return false;
	for (size_t i = 0; i < sc->nhosts; i++) {
		const struct scenario_host *h = &sc->hosts[i];
		const char *name = scenario_host_fqdn(sc, h, fqdn, sizeof fqdn);

		if (p->want_host != NULL && strcmp(h->name, p->want_host) == 0)
			continue;
		if (name != NULL && X509_check_host((X509 *)leaf, name, 0, 0, NULL) == 1) {
			free(p->res.facts.reached_host);
			free(p->res.facts.reached_name);
			p->res.facts.reached_host = strdup(h->name);
			p->res.facts.reached_name = strdup(h->pool ? h->pool : name);
			snprintf(
			    why, whylen,
			    "reached %s (its certificate names %s) instead of %s: the path leads "
			    "to another host",
			    h->name, h->pool ? h->pool : name, p->want_host ? p->want_host : "?");
			return true;
		}
		/* a pool that is not the target's: some member of it */
		if (by_pool == NULL && h->pool != NULL &&
		    (p->tls_name == NULL || strcasecmp(h->pool, p->tls_name) != 0) &&
		    X509_check_host((X509 *)leaf, h->pool, 0, 0, NULL) == 1)
			by_pool = h;
	}
	if (by_pool == NULL)
		return false;
	free(p->res.facts.reached_host);
	free(p->res.facts.reached_name);
	p->res.facts.reached_host = strdup(by_pool->name);
	p->res.facts.reached_name = strdup(by_pool->pool);
	snprintf(why, whylen,
	         "reached a member of %s (%s?) instead of %s: the certificate is that pool's",
	         by_pool->pool, by_pool->name, p->want_host ? p->want_host : "?");
	return true;
}

enum lm_outcome
probe_tls_verify_outcome(struct probe *p, char *why, size_t whylen)
{
	if (p->verr_untrusted != X509_V_OK) {
		snprintf(why, whylen, "server certificate not trusted: %s", p->verr_untrusted_text);
		return LM_OUT_TLS_UNTRUSTED;
	}
	if (p->verr_expired != X509_V_OK) {
		snprintf(why, whylen, "server certificate: %s", p->verr_expired_text);
		return LM_OUT_TLS_EXPIRED;
	}
	if (p->verr_name != X509_V_OK) {
		/* the certificate of another host of the scenario: we reached that host */
		if (probe_cert_owner(p, why, whylen))
			return LM_OUT_WRONG_RESPONDER;
		snprintf(why, whylen, "server certificate does not name %s: %s",
		         p->tls_name ? p->tls_name : "?", p->verr_name_text);
		return LM_OUT_TLS_NAME_MISMATCH;
	}
	if (p->verr_purpose != X509_V_OK) {
		snprintf(why, whylen, "server certificate not for server authentication: %s",
		         p->verr_purpose_text);
		return LM_OUT_TLS_WRONG_PURPOSE;
	}
	if (p->handshake_done && p->ssl != NULL && SSL_get0_peer_certificate(p->ssl) == NULL) {
		snprintf(why, whylen, "the server sent no certificate");
		return LM_OUT_TLS_UNTRUSTED;
	}
	return LM_OUT_PASS;
}

static void
printable_hdr(const unsigned char *h, char *out)
{
	for (int i = 0; i < 5; i++)
		out[i] = (h[i] >= 0x20 && h[i] < 0x7f) ? (char)h[i] : '.';
	out[5] = '\0';
}

enum lm_outcome
probe_tls_failure_outcome(struct probe *p, bool in_handshake, const char *errs, char *why,
                          size_t whylen)
{
	bool no_cert = !p->cert_msg_sent || p->cert_msg_empty;
	enum lm_outcome vo;

	if (p->alert.seen && p->alert.desc != ALERT_CLOSE_NOTIFY) {
		const char *d = alert_name(p->alert.desc);
		if (probe_tls_alert_is_client_reject(p->alert.desc) ||
		    (p->alert.desc == ALERT_HANDSHAKE_FAILURE && p->cert_requested && no_cert)) {
			snprintf(why, whylen, "the server sent alert %s %s%s", d,
			         p->alert.after_handshake ? "on the first read after the handshake "
			                                  : "",
			         no_cert ? "(we sent no client certificate)"
			                 : "(it refused our client certificate)");
			return LM_OUT_TLS_CLIENT_REJECTED;
		}
		/* a server-side certificate problem we also saw beats a vague alert */
		if ((vo = probe_tls_verify_outcome(p, why, whylen)) != LM_OUT_PASS && p->tls_rx_any)
			return vo;
		snprintf(why, whylen, "the server sent alert %s%s%s", d, errs && *errs ? ": " : "",
		         errs ? errs : "");
		return LM_OUT_TLS_FAILED;
	}
	if (!in_handshake)
		return LM_OUT__COUNT; /* not a TLS matter: the caller decides */
	if (p->tls_rx_plain) {
		char h[6];
		printable_hdr(p->tls_first_hdr, h);
		snprintf(why, whylen, "the port answered without TLS (first bytes \"%s\")", h);
		return LM_OUT_TLS_FAILED;
	}
	/* a server certificate problem we saw explains the failure best */
	if ((vo = probe_tls_verify_outcome(p, why, whylen)) != LM_OUT_PASS)
		return vo;
	if (!p->tls_rx_any) {
		snprintf(why, whylen, "no TLS answer to our ClientHello%s%s",
		         errs && *errs ? ": " : "", errs ? errs : "");
		return LM_OUT_TLS_FAILED;
	}
	if (p->cert_requested && p->cert_msg_sent) {
		snprintf(why, whylen, "the server closed the handshake after our %s",
		         no_cert ? "empty Certificate (we had no client certificate)"
		                 : "client certificate");
		return LM_OUT_TLS_CLIENT_REJECTED;
	}
	snprintf(why, whylen, "TLS handshake failed%s%s", errs && *errs ? ": " : "",
	         errs ? errs : "");
	return LM_OUT_TLS_FAILED;
}

/* ---- TLS facts for the result ------------------------------------------- */

static char *
asn1_time_iso(const ASN1_TIME *t)
{
	struct tm tm;
	char buf[32];

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return strdup("?");
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return strdup(buf);
}

static int
strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);

	if (nv == NULL)
		return -1;
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static void
cert_sans(X509 *x, struct probe_cert *c)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char buf[300], ip[INET6_ADDRSTRLEN];

	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s = NULL;
		const char *kind = NULL;
		int type;
		const ASN1_STRING *v = GENERAL_NAME_get0_value(g, &type);

		switch (type) {
		case GEN_DNS:
			kind = "DNS";
			s = v;
			break;
		case GEN_URI:
			kind = "URI";
			s = v;
			break;
		case GEN_EMAIL:
			kind = "email";
			s = v;
			break;
		case GEN_IPADD: {
			const unsigned char *d = ASN1_STRING_get0_data(v);
			int l = ASN1_STRING_length(v);
			if ((l == 4 && inet_ntop(AF_INET, d, ip, sizeof ip)) ||
			    (l == 16 && inet_ntop(AF_INET6, d, ip, sizeof ip))) {
				snprintf(buf, sizeof buf, "IP:%s", ip);
				strv_push(&c->sans, &c->nsans, buf);
			}
			continue;
		}
		default:
			continue;
		}
		{
			const unsigned char *d = ASN1_STRING_get0_data(s);
			int l = ASN1_STRING_length(s), j = 0;
			int off = snprintf(buf, sizeof buf, "%s:", kind);
			for (; j < l && off + j + 1 < (int)sizeof buf; j++)
				buf[off + j] = (d[j] >= 0x20 && d[j] < 0x7f) ? (char)d[j] : '?';
			buf[off + j] = '\0';
			strv_push(&c->sans, &c->nsans, buf);
		}
	}
	GENERAL_NAMES_free(gens);
}

static void
cert_ekus(X509 *x, struct probe_cert *c)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	char buf[128];

	for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(o);
		if (nid != NID_undef)
			snprintf(buf, sizeof buf, "%s", OBJ_nid2sn(nid));
		else
			OBJ_obj2txt(buf, sizeof buf, o, 1);
		strv_push(&c->ekus, &c->nekus, buf);
	}
	EXTENDED_KEY_USAGE_free(eku);
}

void
probe_tls_collect(struct probe *p)
{
	struct probe_tls *t = &p->res.tls;
	STACK_OF(X509) * chain;
	STACK_OF(X509_NAME) * cas;
	char buf[512];

	if (p->ssl == NULL)
		return;
	if (p->handshake_done) {
		t->version = strdup(SSL_get_version(p->ssl));
		t->cipher = strdup(SSL_get_cipher_name(p->ssl));
	}
	t->client_cert_requested = p->cert_requested;
	t->client_cert_sent = p->cert_msg_sent && !p->cert_msg_empty;
	cas = p->cert_requested ? SSL_get_client_CA_list(p->ssl) : NULL;
	for (int i = 0; cas != NULL && i < sk_X509_NAME_num(cas); i++) {
		name_of(sk_X509_NAME_value(cas, i), buf, sizeof buf);
		strv_push(&t->ca_names, &t->nca_names, buf);
	}
	chain = SSL_get_peer_cert_chain(p->ssl);
	if (chain != NULL && sk_X509_num(chain) > 0 &&
	    (t->chain = calloc((size_t)sk_X509_num(chain), sizeof *t->chain)) != NULL) {
		for (int i = 0; i < sk_X509_num(chain); i++) {
			X509 *x = sk_X509_value(chain, i);
			struct probe_cert *c = &t->chain[t->nchain++];
			name_of(X509_get_subject_name(x), buf, sizeof buf);
			c->subject = strdup(buf);
			name_of(X509_get_issuer_name(x), buf, sizeof buf);
			c->issuer = strdup(buf);
			cert_sans(x, c);
			cert_ekus(x, c);
			c->not_after = asn1_time_iso(X509_get0_notAfter(x));
		}
	}
	if (p->verr_untrusted)
		t->verify_result = p->verr_untrusted;
	else if (p->verr_purpose && !p->verr_expired && !p->verr_name)
		t->verify_result = p->verr_purpose;
	else if (p->verr_expired)
		t->verify_result = p->verr_expired;
	else if (p->verr_name)
		t->verify_result = p->verr_name;
	else
		t->verify_result = p->tls_rx_any ? SSL_get_verify_result(p->ssl) : X509_V_OK;
	if (t->verify_result != X509_V_OK) {
		const char *txt = p->verr_untrusted                       ? p->verr_untrusted_text
		                  : (t->verify_result == p->verr_purpose) ? p->verr_purpose_text
		                  : p->verr_expired                       ? p->verr_expired_text
		                  : p->verr_name                          ? p->verr_name_text
		                                 : X509_verify_cert_error_string(t->verify_result);
		t->verify_error = strdup(txt);
	}
}

void
probe_tls_errors(struct probe *p, char *buf, size_t len)
{
	unsigned long e;
	size_t off = 0;

	buf[0] = '\0';
	if (p->bev == NULL)
		return;
	while ((e = bufferevent_get_openssl_error(p->bev)) != 0) {
		char one[256];
		ERR_error_string_n(e, one, sizeof one);
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "; " : "", one);
	}
}
