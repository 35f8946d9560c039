/* `certs inspect`: explains a certificate file or a live endpoint's chain against Lync's needs. */
#include "certs/certs.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#define INSPECT_TIMEOUT_MS 5000

/* What the leaf is used as: unknown (a file), or a live server's certificate. */
enum use { USE_UNKNOWN, USE_SERVER };

static void
explain_eku(X509 *x, enum use use, struct certs_findings *f)
{
	uint32_t xku = X509_get_extended_key_usage(x);
	bool srv, cli;

	if (!(X509_get_extension_flags(x) & EXFLAG_XKUSAGE)) {
		certs_findings_add(
		    f, CERTS_WARN,
		    "EKU: none (valid for any purpose to OpenSSL); Lync wants Server "
		    "Authentication on server certificates");
		return;
	}
	srv = (xku & XKU_SSL_SERVER) != 0;
	cli = (xku & XKU_SSL_CLIENT) != 0;
	if (srv && cli)
		certs_findings_add(f, CERTS_OK,
		                   "EKU: serverAuth + clientAuth: usable as a Lync server "
		                   "certificate and for MTLS");
	else if (srv) {
		certs_findings_add(f, CERTS_OK,
		                   "EKU: serverAuth: usable as a Lync server certificate");
		certs_findings_add(
		    f, CERTS_WARN,
		    "EKU: no clientAuth: Lync accepts it for MTLS, strict MTLS peers may not");
	} else if (cli)
		certs_findings_add(f, use == USE_SERVER ? CERTS_ERROR : CERTS_WARN,
		                   "EKU: clientAuth only: no serverAuth, so %s",
		                   use == USE_SERVER
		                       ? "Lync refuses it as a server certificate"
		                       : "usable only as a source's client certificate");
	else
		certs_findings_add(
		    f, CERTS_ERROR,
		    "EKU: neither serverAuth nor clientAuth: not usable for Lync TLS");
}

/* One certificate: its facts and Lync's verdicts, indented under a header. */
static void
explain_cert(X509 *x, int i, int n, enum use use, FILE *out, enum certs_severity *worst)
{
	struct certs_findings f = {0};
	char subj[256], iss[256], sans[2048];
	bool leaf = i == 0 && X509_check_ca(x) == 0;
	bool ss = (X509_get_extension_flags(x) & EXFLAG_SS) != 0;

	certs_name_oneline(X509_get_subject_name(x), subj, sizeof subj);
	certs_name_oneline(X509_get_issuer_name(x), iss, sizeof iss);
	fprintf(out, "certificate %d of %d%s: %s\n", i + 1, n,
	        leaf               ? " (leaf)"
	        : X509_check_ca(x) ? " (CA)"
	                           : "",
	        subj);
	if (ss && !leaf)
		certs_findings_add(&f, CERTS_INFO, "self-signed root CA");
	else if (ss)
		certs_findings_add(
		    &f, CERTS_WARN,
		    "self-signed: Lync peers trust only certificates issued by a CA they trust");
	else
		certs_findings_add(&f, CERTS_INFO, "issuer: %s", iss);
	if (leaf) {
		certs_san_list(x, sans, sizeof sans);
		if (sans[0] == '\0')
			certs_findings_add(
			    &f, CERTS_ERROR,
			    "no subject alternative names: Lync matches the pool and server FQDNs "
			    "in the SANs");
		else
			certs_findings_add(&f, CERTS_OK, "names (SAN): %s", sans);
		explain_eku(x, use, &f);
	}
	certs_check_basics(x, leaf, &f);
	for (size_t k = 0; k < f.n; k++)
		fprintf(out, "  %-5s  %s\n", certs_severity_name(f.items[k].severity),
		        f.items[k].text);
	if (certs_findings_worst(&f) > *worst)
		*worst = certs_findings_worst(&f);
	certs_findings_free(&f);
}

static void print1(FILE *out, enum certs_severity s, enum certs_severity *worst, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

static void
print1(FILE *out, enum certs_severity s, enum certs_severity *worst, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "  %-5s  ", certs_severity_name(s));
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	if (s > *worst)
		*worst = s;
}

/* Chain verdict: against --ca when given. */
static int
explain_chain(STACK_OF(X509) * sk, const char *ca, FILE *out, enum certs_severity *worst, char *err,
              size_t errlen)
{
	STACK_OF(X509) *rest = NULL;
	char why[512];
	int rc;

	fprintf(out, "chain:\n");
	if (ca == NULL) {
		print1(out, CERTS_INFO, worst, "no --ca given: trust not checked");
		return 0;
	}
	if ((rest = sk_X509_new_null()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 1; i < sk_X509_num(sk); i++)
		sk_X509_push(rest, sk_X509_value(sk, i));
	rc = certs_verify_chain(sk_X509_value(sk, 0), rest, ca, false, why, sizeof why);
	sk_X509_free(rest);
	if (rc == -1) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (rc == X509_V_OK)
		print1(out, CERTS_OK, worst, "verifies against %s", ca);
	else if (rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY && sk_X509_num(sk) == 1) {
		/* a leaf alone whose issuer nobody has: the intermediate is missing */
		char iss[256];
		certs_name_oneline(X509_get_issuer_name(sk_X509_value(sk, 0)), iss, sizeof iss);
		print1(out, CERTS_ERROR, worst,
		       "the server sent 1 certificate; its issuer %s was not sent (and is not in "
		       "%s): install the intermediate on the server so it sends the full chain",
		       iss, ca);
	} else
		print1(out, CERTS_ERROR, worst, "does not verify against %s: %s", ca, why);
	return 0;
}

static int
inspect_file(const char *path, const char *ca, FILE *out, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = certs_load_certs(path, err, errlen);
	enum certs_severity worst = CERTS_OK;
	int n, rc;

	if (sk == NULL)
		return -1;
	n = sk_X509_num(sk);
	fprintf(out, "%s: %d certificate%s\n", path, n, n == 1 ? "" : "s");
	for (int i = 0; i < n; i++)
		explain_cert(sk_X509_value(sk, i), i, n, USE_UNKNOWN, out, &worst);
	rc = explain_chain(sk, ca, out, &worst, err, errlen);
	sk_X509_pop_free(sk, X509_free);
	return rc == -1 ? -1 : (int)worst;
}

/* HOST:PORT or [V6]:PORT into host and port; -1 when it is neither. */
static int
split_target(const char *t, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;
	uint16_t p;

	if (t[0] == '[') {
		const char *end = strchr(t, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		if ((size_t)(end - t - 1) >= hlen)
			return -1;
		memcpy(host, t + 1, (size_t)(end - t - 1));
		host[end - t - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(t, ':');
		if (colon == NULL || colon == t || (size_t)(colon - t) >= hlen ||
		    memchr(t, ':', (size_t)(colon - t)) != NULL)
			return -1;
		memcpy(host, t, (size_t)(colon - t));
		host[colon - t] = '\0';
	}
	if (lm_parse_port(colon + 1, &p) == -1)
		return -1;
	snprintf(port, plen, "%u", p);
	return 0;
}

/* A bounded TCP connect; returns the fd (blocking, with I/O timeouts) or -1. */
static int
connect_to(const char *host, const char *port, char *addr, size_t alen, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = {INSPECT_TIMEOUT_MS / 1000, 0};
	int fd = -1, rc, soerr = 0;
	socklen_t sl = sizeof soerr;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	snprintf(err, errlen, "%s:%s: no address", host, port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		char h[NI_MAXHOST] = "?";

		getnameinfo(ai->ai_addr, ai->ai_addrlen, h, sizeof h, NULL, 0, NI_NUMERICHOST);
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0)) == -1)
			continue;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc == -1 && errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rc = poll(&pfd, 1, INSPECT_TIMEOUT_MS);
			if (rc == 0) {
				snprintf(err, errlen,
				         "%s port %s: no answer within %d ms (filtered?)", h, port,
				         INSPECT_TIMEOUT_MS);
				goto next;
			}
			sl = sizeof soerr;
			if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
			    soerr != 0) {
				snprintf(err, errlen, "%s port %s: %s", h, port,
				         strerror(soerr ? soerr : errno));
				goto next;
			}
		} else if (rc == -1) {
			snprintf(err, errlen, "%s port %s: %s", h, port, strerror(errno));
			goto next;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		snprintf(addr, alen, "%s", h);
		freeaddrinfo(res);
		err[0] = '\0';
		return fd;
	next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return -1;
}

/* Remembers that the server asked for a client certificate (the client
 * side calls cert_cb only then); the certificate, if any, is the ctx's. */
static int
cert_asked(SSL *ssl, void *arg)
{
	(void)arg;
	SSL_set_app_data(ssl, (void *)1);
	return 1;
}

/* What came back before the handshake ended: a TLS record, other bytes, or nothing. */
struct rx_seen {
	bool any, plain;
	unsigned char hdr[5];
};

static void
rx_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg)
{
	struct rx_seen *rx = arg;
	const unsigned char *b = buf;

	(void)version;
	(void)ssl;
	if (write_p || content_type != SSL3_RT_HEADER || len < 5 || rx->any)
		return;
	rx->any = true;
	memcpy(rx->hdr, b, 5);
	rx->plain = b[0] < 20 || b[0] > 24 || b[1] != 3;
}

static void
explain_ca_names(SSL *ssl, FILE *out, enum certs_severity *worst)
{
	const STACK_OF(X509_NAME) *names = SSL_get_client_CA_list(ssl);
	char buf[1024], one[256];
	size_t used = 0;

	if (SSL_get_app_data(ssl) == NULL) {
		print1(out, CERTS_INFO, worst, "the server did not ask for a client certificate");
		return;
	}
	buf[0] = '\0';
	for (int i = 0; names != NULL && i < sk_X509_NAME_num(names); i++) {
		int n;
		certs_name_oneline(sk_X509_NAME_value(names, i), one, sizeof one);
		n = snprintf(buf + used, sizeof buf - used, "%s%s", used ? "; " : "", one);
		if (n < 0 || (size_t)n >= sizeof buf - used)
			break;
		used += (size_t)n;
	}
	print1(out, CERTS_INFO, worst, "the server asks for a client certificate (MTLS)%s%s",
	       buf[0] ? "; acceptable CAs: " : ", naming no CA", buf);
}

/* TLS 1.3 servers refuse a client certificate only after the client's
 * handshake is done: wait briefly for that alert. */
static void
late_verdict(SSL *ssl, int fd, bool sent, FILE *out, enum certs_severity *worst)
{
	struct timeval tv = {1, 0};
	struct pollfd pfd = {fd, POLLIN, 0};
	char b[1], ebuf[256];
	int n, e;

	if (SSL_get_app_data(ssl) == NULL)
		return;
	if (SSL_version(ssl) < TLS1_3_VERSION) {
		/* TLS 1.2: the server's verdict is part of its handshake */
		if (sent)
			print1(out, CERTS_OK, worst, "client certificate accepted");
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ERR_clear_error();
	if (poll(&pfd, 1, 1000) == 1) {
		/* session tickets come first; the peek then waits at most 1 s more */
		n = SSL_peek(ssl, b, 1);
		e = SSL_get_error(ssl, n);
		if (n <= 0 && e == SSL_ERROR_SSL && !sent) {
			ERR_error_string_n(ERR_peek_error(), ebuf, sizeof ebuf);
			print1(
			    out, CERTS_INFO, worst,
			    "the server requires a client certificate (MTLS): it refused to go on "
			    "without one; give --cert/--key to test one (%s)",
			    ebuf);
			ERR_clear_error();
			return;
		}
		if (n <= 0 && e == SSL_ERROR_SSL) {
			ERR_error_string_n(ERR_peek_error(), ebuf, sizeof ebuf);
			print1(out, CERTS_ERROR, worst,
			       "the server refused %s after the handshake: %s",
			       sent ? "our client certificate"
			            : "to go on without a client certificate",
			       ebuf);
			ERR_clear_error();
			return;
		}
		if (n <= 0 && e == SSL_ERROR_ZERO_RETURN) {
			print1(out, CERTS_WARN, worst,
			       "the server closed the connection right after the handshake");
			return;
		}
	}
	ERR_clear_error();
	if (sent)
		print1(out, CERTS_OK, worst, "client certificate accepted (no alert within 1 s)");
	else
		print1(out, CERTS_INFO, worst,
		       "no alert within 1 s although no client certificate was sent (optional?)");
}

static int
client_cert(SSL_CTX *ctx, const struct certs_inspect_opts *o, char *err, size_t errlen)
{
	if (o->cert == NULL)
		return 0;
	if (o->key == NULL) {
		snprintf(err, errlen, "--cert %s needs --key", o->cert);
		return -1;
	}
	if (certs_key_file_private(o->key, err, errlen) == -1)
		return -1;
	return certs_ctx_use_pair(ctx, o->cert, o->key, err, errlen);
}

static int
inspect_live(const char *target, const char *host, const char *port,
             const struct certs_inspect_opts *o, FILE *out, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	STACK_OF(X509) *chain = NULL;
	enum certs_severity worst = CERTS_OK;
	char addr[NI_MAXHOST], ebuf[256];
	unsigned char ipbuf[16];
	bool is_ip;
	int fd, rc = -1, hs, n;
	X509 *leaf;
	struct rx_seen rx = {0};

	if ((fd = connect_to(host, port, addr, sizeof addr, err, errlen)) == -1)
		return -1;
	/* the name we send (SNI) and expect: --sni, else the host we dialed */
	if (o->name != NULL)
		host = o->name;
	is_ip = inet_pton(AF_INET, host, ipbuf) == 1 || inet_pton(AF_INET6, host, ipbuf) == 1;
	/* Diagnostic client: accept anything so we can explain what we got. */
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0")) {
		snprintf(err, errlen, "cannot set up TLS");
		goto out;
	}
	SSL_CTX_set_cert_cb(ctx, cert_asked, NULL);
	if (client_cert(ctx, o, err, errlen) == -1)
		goto out;
	if ((ssl = SSL_new(ctx)) == NULL) {
		snprintf(err, errlen, "cannot set up TLS");
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (!is_ip)
		SSL_set_tlsext_host_name(ssl, host);
	SSL_set_fd(ssl, fd);
	SSL_set_msg_callback(ssl, rx_cb);
	SSL_set_msg_callback_arg(ssl, &rx);
	fprintf(out, "%s: connected to %s port %s\n", target, addr, port);
	ERR_clear_error();
	hs = SSL_connect(ssl);
	/* a silent or plaintext port has no certificate to judge: say so, exit 2 */
	if (hs != 1 && (!rx.any || rx.plain)) {
		char h[6];
		for (int i = 0; i < 5; i++)
			h[i] = (rx.hdr[i] >= 0x20 && rx.hdr[i] < 0x7f) ? (char)rx.hdr[i] : '.';
		h[5] = '\0';
		if (!rx.any)
			snprintf(
			    err, errlen,
			    "%s: TCP connected, but the port sent nothing back to our ClientHello "
			    "(silent, or closed without a word): no TLS here",
			    target);
		else
			snprintf(err, errlen,
			         "%s: the port answered without TLS (first bytes \"%s\"): not a "
			         "TLS port",
			         target, h);
		goto out;
	}
	if (hs == 1)
		print1(out, SSL_version(ssl) >= TLS1_2_VERSION ? CERTS_OK : CERTS_WARN, &worst,
		       "TLS handshake: %s, %s%s", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
		       SSL_version(ssl) >= TLS1_2_VERSION ? "" : " (older than TLS 1.2)");
	else {
		unsigned long e = ERR_peek_error();
		ERR_error_string_n(e, ebuf, sizeof ebuf);
		if (SSL_get_app_data(ssl) != NULL && o->cert == NULL)
			print1(
			    out, CERTS_INFO, &worst,
			    "the server requires a client certificate (MTLS): the handshake stops "
			    "without one; give --cert/--key to test one (%s)",
			    e ? ebuf : "closed");
		else if (SSL_get_app_data(ssl) != NULL)
			print1(out, CERTS_ERROR, &worst,
			       "TLS handshake failed: the server refused our client certificate "
			       "%s: %s",
			       o->cert, e ? ebuf : "closed");
		else
			print1(out, CERTS_ERROR, &worst, "TLS handshake failed: %s",
			       e ? ebuf
			         : "the connection closed (not TLS, or refused without an alert)");
		ERR_clear_error();
	}
	explain_ca_names(ssl, out, &worst);
	if (hs == 1)
		late_verdict(ssl, fd, o->cert != NULL, out, &worst);
	chain = SSL_get_peer_cert_chain(ssl); /* owned by ssl; leaf first on a client */
	if (chain == NULL || sk_X509_num(chain) == 0) {
		if (hs == 1)
			print1(out, CERTS_ERROR, &worst, "the server sent no certificate");
		rc = (int)worst;
		goto out;
	}
	n = sk_X509_num(chain);
	for (int i = 0; i < n; i++)
		explain_cert(sk_X509_value(chain, i), i, n, USE_SERVER, out, &worst);
	leaf = sk_X509_value(chain, 0);
	fprintf(out, "name:\n");
	if (is_ip)
		print1(out, X509_check_ip_asc(leaf, host, 0) == 1 ? CERTS_OK : CERTS_WARN, &worst,
		       "address %s %s the certificate (Lync peers connect by FQDN)", host,
		       X509_check_ip_asc(leaf, host, 0) == 1 ? "is named in" : "is not named in");
	else if (X509_check_host(leaf, host, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1)
		print1(out, CERTS_OK, &worst, "%s is named in the SANs", host);
	else
		print1(out, CERTS_ERROR, &worst,
		       "%s is not named in the SANs: peers dialing it "
		       "will fail with a name mismatch",
		       host);
	if (explain_chain(chain, o->ca, out, &worst, err, errlen) == -1)
		goto out;
	rc = (int)worst;
out:
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}

int
certs_inspect(const char *target, const char *ca, FILE *out, char *err, size_t errlen)
{
	struct certs_inspect_opts o = {ca, NULL, NULL, NULL};

	return certs_inspect_ex(target, &o, out, err, errlen);
}

int
certs_inspect_ex(const char *target, const struct certs_inspect_opts *o, FILE *out, char *err,
                 size_t errlen)
{
	struct stat st;
	char host[256], port[8];

	err[0] = '\0';
	if (stat(target, &st) == 0)
		return inspect_file(target, o->ca, out, err, errlen);
	if (split_target(target, host, sizeof host, port, sizeof port) == 0)
		return inspect_live(target, host, port, o, out, err, errlen);
	snprintf(err, errlen, "%s: no such file, and not HOST:PORT", target);
	return -1;
}
