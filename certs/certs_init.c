/* The lab PKI: a CA and, per scenario host, a key and a Lync-shaped certificate. */
#include "certs/certs.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define CA_DAYS 3650

static void
copy_path(char *dst, size_t len, const char *src)
{
	if (snprintf(dst, len, "%s", src) >= (int)len)
		dst[0] = '\0'; /* a truncated path would name another file */
}

void
certs_paths_for_host(struct certs_paths *p, const char *dir, const struct scenario_host *host,
                     const char *ca, const char *cert, const char *key)
{
	memset(p, 0, sizeof *p);
	if (dir != NULL && dir[0] != '\0') {
		snprintf(p->ca, sizeof p->ca, "%s/ca.pem", dir);
		if (host != NULL) {
			if (snprintf(p->cert, sizeof p->cert, "%s/%s.pem", dir, host->name) >=
			        (int)sizeof p->cert ||
			    snprintf(p->key, sizeof p->key, "%s/%s.key", dir, host->name) >=
			        (int)sizeof p->key)
				p->cert[0] = p->key[0] = '\0';
		}
	}
	if (host != NULL && host->cert != NULL && host->cert[0] != '\0') {
		copy_path(p->cert, sizeof p->cert, host->cert);
		copy_path(p->key, sizeof p->key, host->key != NULL ? host->key : "");
	}
	if (ca != NULL)
		copy_path(p->ca, sizeof p->ca, ca);
	if (cert != NULL)
		copy_path(p->cert, sizeof p->cert, cert);
	if (key != NULL)
		copy_path(p->key, sizeof p->key, key);
}

int
certs_key_type_from_name(const char *name, enum certs_key_type *kt)
{
	static const struct {
		const char *name;
		enum certs_key_type kt;
	} names[] = {
	    {"rsa2048", CERTS_KEY_RSA2048},
	    {"rsa4096", CERTS_KEY_RSA4096},
	    {"ecdsa-p256", CERTS_KEY_ECDSA_P256},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(name, names[i].name) == 0) {
			*kt = names[i].kt;
			return 0;
		}
	}
	return -1;
}

void
certs_init_opts_default(struct certs_init_opts *opts)
{
	memset(opts, 0, sizeof *opts);
	opts->key_type = CERTS_KEY_RSA2048;
	opts->client_auth = true;
	opts->days = 730;
}

/* A DNS name we can put in a SAN: letters, digits, '-', '.', a leading "*.". */
static bool
dns_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CERTS_NAME_MAX)
		return false;
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	}
	return true;
}

static int
names_add(struct certs_host_names *out, const char *name, char *err, size_t errlen)
{
	if (name == NULL || name[0] == '\0')
		return 0;
	if (!dns_name_ok(name)) {
		snprintf(err, errlen, "'%s' is not a DNS name a certificate can carry", name);
		return -1;
	}
	for (size_t i = 0; i < out->nsan; i++) {
		if (strcasecmp(out->san[i], name) == 0)
			return 0;
	}
	if (out->nsan == CERTS_MAX_NAMES) {
		snprintf(err, errlen, "more than %d names for one certificate", CERTS_MAX_NAMES);
		return -1;
	}
	snprintf(out->san[out->nsan++], CERTS_NAME_MAX, "%s", name);
	return 0;
}

/* same rule as scenario_host_fqdn(): fqdn, else name.domain */
static void
host_own_name(const struct scenario *sc, const struct scenario_host *h, char *own, size_t len)
{
	if (h->fqdn != NULL && h->fqdn[0] != '\0')
		snprintf(own, len, "%s", h->fqdn);
	else if (sc->domain != NULL && sc->domain[0] != '\0')
		snprintf(own, len, "%s.%s", h->name, sc->domain);
	else
		snprintf(own, len, "%s", h->name);
}

const char *
certs_host_subject(const struct scenario *sc, const struct scenario_host *h, char *buf, size_t len)
{
	enum scenario_cert_shape shape =
	    h->role != NULL ? h->role->cert_shape : SCENARIO_CERT_CLIENT;

	if (shape == SCENARIO_CERT_POOL && h->pool != NULL && h->pool[0] != '\0')
		snprintf(buf, len, "%s", h->pool);
	else
		host_own_name(sc, h, buf, len);
	return buf;
}

int
certs_host_names(const struct scenario *sc, const struct scenario_host *h,
                 struct certs_host_names *out, char *err, size_t errlen)
{
	enum scenario_cert_shape shape =
	    h->role != NULL ? h->role->cert_shape : SCENARIO_CERT_CLIENT;
	char own[CERTS_NAME_MAX];

	memset(out, 0, sizeof *out);
	host_own_name(sc, h, own, sizeof own);
	certs_host_subject(sc, h, out->cn, sizeof out->cn);
	if (shape == SCENARIO_CERT_POOL && names_add(out, h->pool, err, errlen) == -1)
		return -1;
	if (names_add(out, own, err, errlen) == -1)
		return -1;
	/* a user-defined server role may still sit behind a pool name */
	if (shape == SCENARIO_CERT_SERVER && names_add(out, h->pool, err, errlen) == -1)
		return -1;
	/* every shape: a client's own `san:` list is honoured too */
	for (size_t i = 0; i < h->nsan_extra; i++) {
		if (names_add(out, h->san_extra[i], err, errlen) == -1)
			return -1;
	}
	out->eku =
	    shape == SCENARIO_CERT_CLIENT ? CERTS_EKU_CLIENT : CERTS_EKU_SERVER | CERTS_EKU_CLIENT;
	if (strlen(out->cn) > 64) {
		snprintf(err, errlen, "subject name '%s' is longer than 64 characters", out->cn);
		return -1;
	}
	return 0;
}

EVP_PKEY *
certs_keygen(enum certs_key_type kt, char *err, size_t errlen)
{
	EVP_PKEY *k = NULL;

	switch (kt) {
	case CERTS_KEY_RSA2048:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case CERTS_KEY_RSA4096:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	case CERTS_KEY_ECDSA_P256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	}
	if (k == NULL) {
		snprintf(err, errlen, "key generation failed");
		ERR_clear_error();
	}
	return k;
}

static int
add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value, char *err, size_t errlen)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);

	if (ext == NULL || !X509_add_ext(x, ext, -1)) {
		snprintf(err, errlen, "cannot add extension %s = %s", OBJ_nid2sn(nid), value);
		X509_EXTENSION_free(ext);
		ERR_clear_error();
		return -1;
	}
	X509_EXTENSION_free(ext);
	return 0;
}

static int
random_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = 0;

	/* 159 random bits: positive, and within RFC 5280's 20 octets */
	if (bn != NULL && BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		ok = 1;
	BN_free(bn);
	return ok ? 0 : -1;
}

X509 *
certs_issue(const struct certs_issue_opts *o, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
            char *err, size_t errlen)
{
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	X509V3_CTX v3;
	char buf[CERTS_MAX_NAMES * (CERTS_NAME_MAX + 5)];
	size_t used = 0;

	if (issuer_key == NULL)
		issuer_key = key;
	if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    random_serial(x) == -1) {
		snprintf(err, errlen, "cannot create a certificate");
		goto fail;
	}
	if ((subj = X509_NAME_new()) == NULL ||
	    (o->ou != NULL &&
	     !X509_NAME_add_entry_by_txt(subj, "OU", MBSTRING_UTF8, (const unsigned char *)o->ou,
	                                 -1, -1, 0)) ||
	    !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)o->cn, -1,
	                                -1, 0)) {
		snprintf(err, errlen, "bad subject name '%s'", o->cn);
		goto fail;
	}
	if (!X509_set_subject_name(x, subj) ||
	    !X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subj) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), o->not_before) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), o->not_after) == NULL ||
	    !X509_set_pubkey(x, key)) {
		snprintf(err, errlen, "cannot fill in the certificate for '%s'", o->cn);
		goto fail;
	}
	/* a leaf never outlives its issuer */
	if (issuer != NULL &&
	    ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(issuer)) > 0 &&
	    !X509_set1_notAfter(x, X509_get0_notAfter(issuer))) {
		snprintf(err, errlen, "cannot clamp the validity of '%s'", o->cn);
		goto fail;
	}
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (o->ca) {
		if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE", err, errlen) == -1 ||
		    add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign", err, errlen) ==
		        -1)
			goto fail;
	} else {
		if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE", err, errlen) == -1)
			goto fail;
		/* keyEncipherment only means something for RSA keys */
		if (add_ext(x, &v3, NID_key_usage,
		            EVP_PKEY_is_a(key, "RSA") ? "critical,digitalSignature,keyEncipherment"
		                                      : "critical,digitalSignature",
		            err, errlen) == -1)
			goto fail;
	}
	if (add_ext(x, &v3, NID_subject_key_identifier, "hash", err, errlen) == -1)
		goto fail;
	if (issuer != NULL &&
	    add_ext(x, &v3, NID_authority_key_identifier, "keyid:always", err, errlen) == -1)
		goto fail;
	if (o->eku != 0) {
		snprintf(buf, sizeof buf, "%s%s%s", (o->eku & CERTS_EKU_SERVER) ? "serverAuth" : "",
		         (o->eku & CERTS_EKU_SERVER) && (o->eku & CERTS_EKU_CLIENT) ? "," : "",
		         (o->eku & CERTS_EKU_CLIENT) ? "clientAuth" : "");
		if (add_ext(x, &v3, NID_ext_key_usage, buf, err, errlen) == -1)
			goto fail;
	}
	if (o->nsans > 0) {
		buf[0] = '\0';
		for (size_t i = 0; i < o->nsans; i++) {
			if (!dns_name_ok(o->sans[i])) {
				snprintf(err, errlen, "'%s' is not a DNS name", o->sans[i]);
				goto fail;
			}
			used += (size_t)snprintf(buf + used, sizeof buf - used, "%sDNS:%s",
			                         i > 0 ? "," : "", o->sans[i]);
			if (used >= sizeof buf) {
				snprintf(err, errlen, "too many names");
				goto fail;
			}
		}
		if (add_ext(x, &v3, NID_subject_alt_name, buf, err, errlen) == -1)
			goto fail;
	}
	if (o->cdp != NULL) {
		snprintf(buf, sizeof buf, "URI:%s", o->cdp);
		if (add_ext(x, &v3, NID_crl_distribution_points, buf, err, errlen) == -1)
			goto fail;
	}
	/* SHA-256 with PKCS#1 v1.5 (the default padding), never PSS: Lync refuses PSS */
	if (X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
		snprintf(err, errlen, "cannot sign the certificate for '%s'", o->cn);
		goto fail;
	}
	X509_NAME_free(subj);
	return x;
fail:
	ERR_clear_error();
	X509_NAME_free(subj);
	X509_free(x);
	return NULL;
}

/* ---- writing files ----------------------------------------------------------- */

static int
write_bio(const char *path, BIO *b, unsigned mode, char *err, size_t errlen)
{
	char *data;
	long len = BIO_get_mem_data(b, &data);

	if (len <= 0 || lm_write_file_atomic(path, data, (size_t)len, mode) == -1) {
		snprintf(err, errlen, "%s: cannot write it: %s", path,
		         len <= 0 ? "nothing to write" : strerror(errno));
		return -1;
	}
	return 0;
}

static int
write_key(const char *path, EVP_PKEY *k, char *err, size_t errlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc = -1;

	if (b != NULL && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		rc = write_bio(path, b, 0600, err, errlen);
	else
		snprintf(err, errlen, "%s: cannot encode the key", path);
	BIO_free(b);
	return rc;
}

static int
write_certs(const char *path, X509 *leaf, X509 *ca, char *err, size_t errlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc = -1;

	if (b != NULL && PEM_write_bio_X509(b, leaf) && (ca == NULL || PEM_write_bio_X509(b, ca)))
		rc = write_bio(path, b, 0644, err, errlen);
	else
		snprintf(err, errlen, "%s: cannot encode the certificate", path);
	BIO_free(b);
	return rc;
}

/* mkdir -p with 0700 for what it creates. */
static int
make_dir(const char *dir, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct stat st;

	if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	for (char *s = tmp + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			return -1;
		}
		*s = '/';
	}
	if (mkdir(tmp, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (stat(tmp, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", tmp);
		return -1;
	}
	return 0;
}

static void
fingerprint(X509 *x, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t used = 0;

	buf[0] = '\0';
	if (!X509_digest(x, EVP_sha256(), md, &n))
		return;
	for (unsigned int i = 0; i < n && used + 3 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%02X", i ? ":" : "", md[i]);
}

/* Reuses DIR/ca.pem + ca.key, or makes them; never overwrites one of the pair. */
static int
load_or_make_ca(const struct scenario *sc, const char *dir, const struct certs_init_opts *opts,
                X509 **cap, EVP_PKEY **kp, bool *reused, char *err, size_t errlen)
{
	char pem[PATH_MAX], key[PATH_MAX], cn[128], ou[32];
	unsigned char id[4];
	struct stat st;
	bool have_pem, have_key;
	X509 *ca = NULL;
	EVP_PKEY *k = NULL;
	STACK_OF(X509) *sk = NULL;
	struct certs_issue_opts io;

	snprintf(pem, sizeof pem, "%s/ca.pem", dir);
	snprintf(key, sizeof key, "%s/ca.key", dir);
	have_pem = stat(pem, &st) == 0;
	have_key = stat(key, &st) == 0;
	if (have_pem != have_key) {
		snprintf(
		    err, errlen,
		    "%s exists but %s does not: refusing to overwrite half a CA (move it away)",
		    have_pem ? pem : key, have_pem ? key : pem);
		return -1;
	}
	if (have_pem) {
		if ((sk = certs_load_certs(pem, err, errlen)) == NULL)
			goto fail;
		ca = sk_X509_shift(sk);
		sk_X509_pop_free(sk, X509_free);
		if (certs_key_file_private(key, err, errlen) == -1 ||
		    (k = certs_load_key(key, err, errlen)) == NULL)
			goto fail;
		if (X509_check_private_key(ca, k) != 1) {
			ERR_clear_error();
			snprintf(
			    err, errlen,
			    "%s does not match %s: refusing to overwrite the CA (move both away)",
			    key, pem);
			goto fail;
		}
		if (X509_check_ca(ca) == 0) {
			snprintf(err, errlen, "%s is not a CA certificate", pem);
			goto fail;
		}
		*reused = true;
		goto done;
	}
	if ((k = certs_keygen(opts->key_type, err, errlen)) == NULL)
		goto fail;
	snprintf(cn, sizeof cn, "lyncmock lab CA (%.40s)", sc->name != NULL ? sc->name : "lab");
	/* two labs' CAs share a CN: a random OU tells them apart in messages */
	if (RAND_bytes(id, sizeof id) != 1) {
		snprintf(err, errlen, "no randomness for the CA");
		goto fail;
	}
	snprintf(ou, sizeof ou, "lab %02x%02x%02x%02x", id[0], id[1], id[2], id[3]);
	memset(&io, 0, sizeof io);
	io.cn = cn;
	io.ou = ou;
	io.ca = true;
	io.not_before = -3600;
	io.not_after = (long)CA_DAYS * 86400;
	if ((ca = certs_issue(&io, k, NULL, NULL, err, errlen)) == NULL)
		goto fail;
	/* key first: a crash in between leaves "half a CA", which init refuses;
	 * a failed write (disk full) takes the key back, so the next run can go on */
	if (write_key(key, k, err, errlen) == -1)
		goto fail;
	if (write_certs(pem, ca, NULL, err, errlen) == -1) {
		unlink(key);
		goto fail;
	}
	*reused = false;
done:
	*cap = ca;
	*kp = k;
	return 0;
fail:
	X509_free(ca);
	EVP_PKEY_free(k);
	return -1;
}

static int
issue_host(const struct scenario *sc, const struct scenario_host *h, const char *dir,
           const struct certs_init_opts *opts, X509 *ca, EVP_PKEY *cakey, char *err, size_t errlen)
{
	struct certs_host_names *names = NULL;
	const char *sans[CERTS_MAX_NAMES];
	char cdp[CERTS_NAME_MAX + 64], path[PATH_MAX], herr[512];
	struct certs_issue_opts io;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	int rc = -1;

	if ((names = calloc(1, sizeof *names)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (certs_host_names(sc, h, names, herr, sizeof herr) == -1) {
		snprintf(err, errlen, "host %s: %s", h->name, herr);
		goto out;
	}
	for (size_t i = 0; i < names->nsan; i++)
		sans[i] = names->san[i];
	memset(&io, 0, sizeof io);
	io.cn = names->cn;
	io.sans = sans;
	io.nsans = names->nsan;
	/* the names' EKU; --no-client-auth takes clientAuth off server certificates */
	io.eku = names->eku;
	if ((io.eku & CERTS_EKU_SERVER) && !opts->client_auth)
		io.eku &= ~CERTS_EKU_CLIENT;
	/* Lync checks revocation: every certificate needs a CDP, even a lab one */
	snprintf(cdp, sizeof cdp, "http://pki.%s/lyncmock-lab-ca.crl",
	         sc->domain != NULL && sc->domain[0] != '\0' ? sc->domain : "lab.invalid");
	io.cdp = cdp;
	io.not_before = -3600;
	io.not_after = (long)opts->days * 86400;
	if ((k = certs_keygen(opts->key_type, herr, sizeof herr)) == NULL ||
	    (x = certs_issue(&io, k, ca, cakey, herr, sizeof herr)) == NULL) {
		snprintf(err, errlen, "host %s: %s", h->name, herr);
		goto out;
	}
	snprintf(path, sizeof path, "%s/%s.key", dir, h->name);
	if (write_key(path, k, err, errlen) == -1)
		goto out;
	snprintf(path, sizeof path, "%s/%s.pem", dir, h->name);
	if (write_certs(path, x, ca, err, errlen) == -1) {
		snprintf(path, sizeof path, "%s/%s.key", dir, h->name);
		unlink(path); /* no key without its certificate */
		goto out;
	}
	rc = 0;
out:
	free(names);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

static bool
host_name_ok(const char *name)
{
	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return false;
	for (const char *s = name; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	}
	return true;
}

int
certs_init_summary(const struct scenario *sc, const char *dir, const struct certs_init_opts *opts,
                   struct certs_init_summary *summary, char *err, size_t errlen)
{
	struct certs_init_summary local;
	struct certs_init_opts defaults;
	X509 *ca = NULL;
	EVP_PKEY *cakey = NULL;
	size_t used = 0;
	int rc = -1;

	if (summary == NULL)
		summary = &local;
	memset(summary, 0, sizeof *summary);
	if (opts == NULL) {
		certs_init_opts_default(&defaults);
		opts = &defaults;
	}
	if (opts->days == 0) {
		defaults = *opts; /* zero days: the default validity */
		defaults.days = 730;
		opts = &defaults;
	}
	if (opts->days < 1 || opts->days > 36500) {
		snprintf(err, errlen, "validity of %d days is out of range (1..36500)", opts->days);
		return -1;
	}
	if (dir == NULL || dir[0] == '\0') {
		snprintf(err, errlen, "no output directory");
		return -1;
	}
	for (size_t i = 0; i < sc->nhosts; i++) {
		if (!host_name_ok(sc->hosts[i].name)) {
			snprintf(err, errlen, "host name '%s' cannot name a file",
			         sc->hosts[i].name ? sc->hosts[i].name : "");
			return -1;
		}
	}
	if (make_dir(dir, err, errlen) == -1)
		return -1;
	if (load_or_make_ca(sc, dir, opts, &ca, &cakey, &summary->ca_reused, err, errlen) == -1)
		goto out;
	fingerprint(ca, summary->ca_sha256, sizeof summary->ca_sha256);
	for (size_t i = 0; i < sc->nhosts; i++) {
		const struct scenario_host *h = &sc->hosts[i];
		if (h->cert != NULL && h->cert[0] != '\0') {
			/* the user's own PKI for this host: not ours to write */
			if (used < sizeof summary->skipped)
				used += (size_t)snprintf(summary->skipped + used,
				                         sizeof summary->skipped - used, "%s%s",
				                         used ? ", " : "", h->name);
			continue;
		}
		if (issue_host(sc, h, dir, opts, ca, cakey, err, errlen) == -1)
			goto undo;
		summary->nwritten++;
	}
	rc = 0;
	goto out;
undo:
	/* A fresh PKI that failed half way (disk full) is taken back whole: the
	 * next run starts clean instead of refusing a CA without its hosts. */
	if (!summary->ca_reused) {
		char path[PATH_MAX];
		for (size_t i = 0; i < sc->nhosts; i++) {
			const struct scenario_host *h = &sc->hosts[i];
			if (h->cert != NULL && h->cert[0] != '\0')
				continue;
			snprintf(path, sizeof path, "%s/%s.pem", dir, h->name);
			unlink(path);
			snprintf(path, sizeof path, "%s/%s.key", dir, h->name);
			unlink(path);
		}
		snprintf(path, sizeof path, "%s/ca.pem", dir);
		unlink(path);
		snprintf(path, sizeof path, "%s/ca.key", dir);
		unlink(path);
		summary->nwritten = 0;
	}
out:
	X509_free(ca);
	EVP_PKEY_free(cakey);
	return rc;
}

int
certs_init(const struct scenario *sc, const char *dir, const struct certs_init_opts *opts,
           char *err, size_t errlen)
{
	return certs_init_summary(sc, dir, opts, NULL, err, errlen);
}
