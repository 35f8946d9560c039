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
#include <openssl/x509.h>

#include "common/lm.h"
#include "scenarios/scenario.h"

/* ---- where a host's files are ------------------------------------------ */
/* Layout written by certs_init() in DIR:
 *   DIR/ca.pem  DIR/ca.key (0600)
 *   DIR/HOST.pem (leaf certificate, then the CA: a chain file)  DIR/HOST.key (0600) */
struct certs_paths {
	char ca[4096];   /* trusted CA bundle (PEM) */
	char cert[4096]; /* certificate chain (PEM); empty when none */
	char key[4096];  /* private key (PEM); empty when none */
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
	int days;         /* validity of leaf certificates */
};
/* Makes DIR (mkdir -p, 0700) with a CA (reused when DIR/ca.pem and ca.key
 * exist and match; only one of them, a mismatch or a non-CA is an error,
 * never overwritten) and a key + certificate per scenario host (reissued on
 * every run). Hosts whose scenario entry gives their own cert are skipped
 * (certs_init_summary() lists them). Files are written to temporary names
 * and renamed; keys are 0600. opts NULL = defaults; days 0 = 730. Returns
 * 0, or -1 with a message in err. */
int certs_init(const struct scenario *sc, const char *dir, const struct certs_init_opts *opts,
               char *err, size_t errlen);

/* ---- explaining and checking -------------------------------------------- */
enum certs_severity { CERTS_OK, CERTS_INFO, CERTS_WARN, CERTS_ERROR };
struct certs_finding {
	enum certs_severity severity;
	char text[512];
};
/* A growing list; start from {0}, free with certs_findings_free(). */
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
struct certs_inspect_opts {
	const char *ca;         /* verify the chain against it; NULL: trust not checked */
	const char *name;       /* HOST:PORT: SNI sent and name checked (NULL = HOST) */
	const char *cert, *key; /* HOST:PORT: client certificate to present (MTLS) */
};
/* certs_inspect() with options. With a client certificate on a TLS 1.3
 * MTLS endpoint it waits up to 1 s for the server's late verdict. */
int certs_inspect_ex(const char *target, const struct certs_inspect_opts *o, FILE *out, char *err,
                     size_t errlen);

/* `certs check`: will this cert/key do for host h of scenario sc? Appends
 * findings to out (one per fact: errors for what breaks Lync, warnings for
 * what may); key and ca may be NULL (not checked). Returns 0, or -1 when the
 * certificate file or the CA file cannot be read at all (message in err).
 * Unreadable, group/world-readable or mismatched keys are ERROR findings.
 * Servers (pool/server shapes): every name of certs_host_names() must be in
 * the SANs (each missing one is an ERROR naming it), serverAuth EKU needed.
 * Client-shaped hosts (sources): clientAuth EKU OK; serverAuth only is a
 * WARN (Lync and lyncmock listeners accept it, strict peers refuse it);
 * neither is an ERROR. A missing host FQDN is only a WARN for them (servers
 * do not match client names). */
int certs_check(const struct scenario *sc, const struct scenario_host *h, const char *cert,
                const char *key, const char *ca, struct certs_findings *out, char *err,
                size_t errlen);

/* ---- TLS contexts shared by listeners and probes -------------------------- */
struct certs_tls_opts {
	/* server side: LM_CC_REQUIRED/OPTIONAL/NONE; LM_CC_DEFAULT counts as NONE
	 * (resolve it per service with lm_client_cert_effective() first) */
	enum lm_client_cert client_cert;
	bool strict_client_eku; /* server side: OpenSSL's client purpose check */
	int min_version;        /* TLS1_2_VERSION by default (0 = default) */
};
/* "1.0".."1.3" (the --tls-min spelling) into an OpenSSL protocol version
 * for min_version; -1 when unknown. */
int certs_tls_version_from_name(const char *name);
/* A server context: chain + key from p, trust p->ca for client certs and
 * advertise its names. NULL with a message in err on failure (missing or
 * unreadable files, a key that group/others may read, a key that does not
 * match). TLS 1.2+ (o->min_version lowers it), ECDHE/AES suites, security
 * level 1 (1024-bit RSA tolerated, as Lync does). Client certificates are
 * verified with Lync's semantics: a leaf with serverAuth but no clientAuth
 * EKU is accepted unless o->strict_client_eku (see certs_verify_note). */
SSL_CTX *certs_server_ctx(const struct certs_paths *p, const struct certs_tls_opts *o, char *err,
                          size_t errlen);
/* A client context: verify servers against p->ca (chain and serverAuth
 * purpose; the name is per SSL: SSL_set1_host), record failures in an
 * attached certs_verify_note; present p->cert/p->key when given (empty
 * strings: no client certificate). */
SSL_CTX *certs_client_ctx(const struct certs_paths *p, const struct certs_tls_opts *o, char *err,
                          size_t errlen);

/* A one-line distinguished name ("CN=edge01.contoso.local,O=...") into buf. */
char *certs_name_oneline(const X509_NAME *name, char *buf, size_t len);
/* The SHA-256 fingerprint of x's DER as 64 lowercase hex digits into out[65]
 * ("" when it cannot be computed). Listener identity and probe compare these. */
char *certs_sha256_hex(const X509 *x, char out[65]);

/* ---- why a handshake's certificate verification failed --------------------
 * Both context builders install a verify callback that records the FIRST
 * verification failure of a handshake into a note the caller attached to the
 * SSL before the handshake:
 *
 *	struct certs_verify_note note = {0};
 *	SSL *ssl = SSL_new(ctx);
 *	certs_verify_note_attach(ssl, &note);   // note must outlive the handshake
 *	... handshake fails ...
 *	if (note.error != X509_V_OK) log "depth %d %s: %s", note.depth,
 *	    note.subject, X509_verify_cert_error_string(note.error)
 *
 * Errors the server context forgives (a client certificate with serverAuth
 * but no clientAuth EKU, accepted as Lync does) are not recorded as failures;
 * they set eku_forgiven instead. Without an attached note nothing is recorded
 * (the handshake behaves the same). Certificate-less clients never reach the
 * callback: check SSL_get0_peer_certificate() too. */
struct certs_verify_note {
	int error;         /* X509_V_OK (0) when nothing failed; else X509_V_ERR_* */
	int depth;         /* 0 = the peer's own certificate */
	char subject[256]; /* one-line subject of the certificate at depth */
	bool eku_forgiven; /* the peer's leaf lacked clientAuth, accepted (Lync) */
};
/* Attaches note (not owned) to ssl; NULL detaches. Returns 0 or -1. */
int certs_verify_note_attach(SSL *ssl, struct certs_verify_note *note);
/* "depth 0 (CN=x): unsuitable certificate purpose" into buf; returns buf. */
char *certs_verify_note_format(const struct certs_verify_note *note, char *buf, size_t len);

/* Refuses a private key file that group or others may read or write (SPEC:
 * keys are 0600). Returns 0, or -1 with "KEY: ..." in err. Used by both
 * context builders and by certs_check(). */
int certs_key_file_private(const char *path, char *err, size_t errlen);
/* Loads a certificate chain and its unencrypted PEM key into ctx (never
 * prompting for a passphrase) and checks they match. Returns 0, or -1 with
 * the reason in err. Used by both context builders and by certs_inspect. */
int certs_ctx_use_pair(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t errlen);

/* ---- names a host's certificate carries (SPEC §4) -------------------------
 * POOL shape: CN = pool (else fqdn); SANs = pool, fqdn, san_extra.
 * SERVER shape: CN = fqdn (else name.domain); SANs = that name, pool (when
 * set), san_extra.
 * CLIENT shape: CN = fqdn (else name.domain); SANs = that name, san_extra
 * (the host's own `san:` list: a client certificate carries what the admin
 * listed, as Lync's certificate wizard would).
 * eku: what the certificate carries: serverAuth + clientAuth for servers
 * (certs init --no-client-auth drops clientAuth), clientAuth for clients.
 * This is the one place a host's certificate names are decided: certs init
 * (and so the lab PKI), certs check and the probe's expected name read it.
 * Duplicates (case-insensitive) are dropped; order is kept. */
/* The subject (CN) of host h's certificate, which is also the name a probe
 * of h verifies: the pool FQDN for pool-shaped roles with a pool, else the
 * host's FQDN (else name.domain). Returns buf. */
const char *certs_host_subject(const struct scenario *sc, const struct scenario_host *h, char *buf,
                               size_t len);
#define CERTS_MAX_NAMES 64
#define CERTS_NAME_MAX 256
struct certs_host_names {
	char cn[CERTS_NAME_MAX];
	char san[CERTS_MAX_NAMES][CERTS_NAME_MAX];
	size_t nsan;
	unsigned eku; /* CERTS_EKU_* */
};
int certs_host_names(const struct scenario *sc, const struct scenario_host *h,
                     struct certs_host_names *out, char *err, size_t errlen);

/* ---- issuing (certs_init, and tests that need odd certificates) ----------- */
#define CERTS_EKU_SERVER 0x1u /* id-kp-serverAuth */
#define CERTS_EKU_CLIENT 0x2u /* id-kp-clientAuth */
struct certs_issue_opts {
	const char *cn;
	const char *ou;          /* optional OU (the lab CA's "lab 1a2b3c4d" id), else NULL */
	const char *const *sans; /* DNS names */
	size_t nsans;
	unsigned eku;    /* CERTS_EKU_* bits; 0 = no EKU extension */
	bool ca;         /* a CA certificate (basicConstraints CA:TRUE, keyCertSign) */
	const char *cdp; /* CRL distribution point URI, or NULL for none */
	long not_before; /* seconds relative to now (e.g. -3600) */
	long not_after;  /* seconds relative to now */
};
/* A new key of the given type; NULL with a message in err. */
EVP_PKEY *certs_keygen(enum certs_key_type kt, char *err, size_t errlen);
/* A certificate for key, signed by issuer_key with SHA-256 (PKCS#1 v1.5 for
 * RSA, never PSS); issuer NULL makes it self-signed. Random serial, SKI, AKI.
 * NULL with a message in err. */
X509 *certs_issue(const struct certs_issue_opts *o, EVP_PKEY *key, X509 *issuer,
                  EVP_PKEY *issuer_key, char *err, size_t errlen);

/* What certs_init() did (certs_init_summary() fills it). */
struct certs_init_summary {
	bool ca_reused;         /* DIR/ca.pem + ca.key existed, matched and were kept */
	char ca_sha256[3 * 32]; /* "AB:CD:..." fingerprint of the CA certificate */
	size_t nwritten;        /* hosts whose key + certificate were written */
	/* Hosts skipped because the scenario gives their own cert/key:
	 * "rp01, cl01" (empty when none). */
	char skipped[1024];
};
/* certs_init() that also reports what it did (summary may be NULL). */
int certs_init_summary(const struct scenario *sc, const char *dir,
                       const struct certs_init_opts *opts, struct certs_init_summary *summary,
                       char *err, size_t errlen);
/* RSA-2048 signatures per second on one CPU, measured for about ms (what
 * `openssl speed rsa2048` reports): a full MTLS path costs two of them. */
double certs_rsa2048_signs_per_s(unsigned ms);
/* Defaults: RSA 2048, clientAuth on, 730 days. */
void certs_init_opts_default(struct certs_init_opts *opts);

/* ---- helpers shared by inspect and check (and tests) ---------------------- */
const char *certs_severity_name(enum certs_severity s); /* "OK", "INFO", "WARN", "ERROR" */
void certs_findings_add(struct certs_findings *f, enum certs_severity s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One line per finding: "ERROR  text". */
void certs_findings_print(const struct certs_findings *f, FILE *out);
/* Every certificate of a PEM file (or one DER certificate), in file order.
 * NULL with "FILE: ..." in err. Free with sk_X509_pop_free(sk, X509_free). */
STACK_OF(X509) * certs_load_certs(const char *path, char *err, size_t errlen);
/* Loads an unencrypted private key (PEM or DER). NULL with message in err. */
EVP_PKEY *certs_load_key(const char *path, char *err, size_t errlen);
/* Lync's needs every certificate must meet, as findings: validity (expired /
 * not yet valid: ERROR; < 30 days left: WARN), key (RSA >= 2048 OK, 1024..2047
 * WARN, less ERROR), signature (RSASSA-PSS, MD5: ERROR; SHA-1: WARN), and
 * for a leaf the CRL distribution point (missing: WARN). */
void certs_check_basics(X509 *x, bool leaf, struct certs_findings *f);
/* Verifies leaf (with untrusted intermediates, may be NULL) against the CA
 * bundle file. check_time false ignores validity dates (reported apart).
 * Returns X509_V_OK, or the X509_V_ERR_* with "depth N (subject): reason" in
 * why; -1 when the CA file cannot be read (why says so). */
int certs_verify_chain(X509 *leaf, STACK_OF(X509) * untrusted, const char *ca, bool check_time,
                       char *why, size_t whylen);
/* Human list of a certificate's DNS SANs ("a, b") into buf; returns buf. */
char *certs_san_list(X509 *x, char *buf, size_t len);

#endif
