/*
 * Certificates: the lab PKI (a CA and per-host Lync-shaped certificates),
 * explaining and checking certificates against Lync's needs, and the one
 * place that builds SSL_CTXs for listeners and probes.
 */
#ifndef LM_CERTS_H
#define LM_CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "common/lm.h"
#include "scenarios/scenario.h"

/* ---- where a host's files are ------------------------------------------ */
/* Layout written by certs_init() in DIR:
 *   DIR/ca.pem  DIR/ca.key (0600)
 *   DIR/HOST.pem (leaf certificate, then the CA: a chain file)  DIR/HOST.key (0600) */
struct certs_paths {
	char ca[4096]; /* trusted CA bundle (PEM) */
	char cert[4096]; /* certificate chain (PEM); empty when none */
	char key[4096]; /* private key (PEM); empty when none */
};
/* Fills p for host from dir, then applies the host's own cert/key from the
 * scenario, then any non-NULL overrides (--ca/--cert/--key). */
void certs_paths_for_host(struct certs_paths *p, const char *dir, const struct scenario_host *host,
    const char *ca, const char *cert, const char *key);

/* ---- the lab PKI -------------------------------------------------------- */
enum certs_key_type { CERTS_KEY_RSA2048, CERTS_KEY_RSA4096, CERTS_KEY_ECDSA_P256 };
int certs_key_type_from_name(const char *name, enum certs_key_type *kt);

struct certs_init_opts {
	enum certs_key_type key_type;
	bool client_auth; /* add clientAuth EKU to server certs (default true) */
	int days; /* validity of leaf certificates */
};
/* Makes DIR (0700) with a CA (reused when DIR/ca.pem and ca.key exist and
 * match) and a key + certificate per scenario host. Files are written to
 * temporary names and renamed; keys are 0600. Returns 0, or -1 with a
 * message in err. */
int certs_init(const struct scenario *sc, const char *dir, const struct certs_init_opts *opts,
    char *err, size_t errlen);

/* ---- explaining and checking -------------------------------------------- */
enum certs_severity { CERTS_OK, CERTS_INFO, CERTS_WARN, CERTS_ERROR };
struct certs_finding {
	enum certs_severity severity;
	char text[512];
};
struct certs_findings {
	struct certs_finding *items;
	size_t n, cap;
};
void certs_findings_free(struct certs_findings *f);
/* Worst severity present. */
enum certs_severity certs_findings_worst(const struct certs_findings *f);

/* `certs inspect FILE|HOST:PORT`: prints an explanation of the certificate
 * or live chain against Lync's needs; returns the worst severity, or -1 if
 * it could not be read (message in err). */
int certs_inspect(const char *target, const char *ca, FILE *out, char *err, size_t errlen);

/* `certs check`: will this cert/key do for host h of scenario sc? */
int certs_check(const struct scenario *sc, const struct scenario_host *h, const char *cert,
    const char *key, const char *ca, struct certs_findings *out, char *err, size_t errlen);

/* ---- TLS contexts shared by listeners and probes -------------------------- */
struct certs_tls_opts {
	enum lm_client_cert client_cert; /* server side: LM_CC_REQUIRED/OPTIONAL/NONE */
	bool strict_client_eku; /* server side: OpenSSL's client purpose check */
	int min_version; /* TLS1_2_VERSION by default (0 = default) */
};
/* A server context: chain + key from p, trust p->ca for client certs and
 * advertise its names. NULL with a message in err on failure. */
SSL_CTX *certs_server_ctx(const struct certs_paths *p, const struct certs_tls_opts *o, char *err,
    size_t errlen);
/* A client context: verify servers against p->ca; present p->cert/p->key
 * when given (empty strings: no client certificate). */
SSL_CTX *certs_client_ctx(const struct certs_paths *p, const struct certs_tls_opts *o, char *err,
    size_t errlen);

/* A one-line distinguished name ("CN=edge01.contoso.local,O=...") into buf. */
char *certs_name_oneline(const X509_NAME *name, char *buf, size_t len);

#endif
