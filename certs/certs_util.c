/* Loading certificates and keys, findings, and the checks every Lync certificate must pass. */
#include "certs/certs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static const char *severity_names[] = {
    [CERTS_OK] = "OK",
    [CERTS_INFO] = "INFO",
    [CERTS_WARN] = "WARN",
    [CERTS_ERROR] = "ERROR",
};

const char *
certs_severity_name(enum certs_severity s)
{
	if ((unsigned)s > CERTS_ERROR)
		return "?";
	return severity_names[s];
}

void
certs_findings_add(struct certs_findings *f, enum certs_severity s, const char *fmt, ...)
{
	va_list ap;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct certs_finding *items = realloc(f->items, cap * sizeof *items);
		if (items == NULL)
			return; /* out of memory: the finding is lost, nothing else */
		f->items = items;
		f->cap = cap;
	}
	f->items[f->n].severity = s;
	va_start(ap, fmt);
	vsnprintf(f->items[f->n].text, sizeof f->items[f->n].text, fmt, ap);
	va_end(ap);
	f->n++;
}

void
certs_findings_free(struct certs_findings *f)
{
	free(f->items);
	f->items = NULL;
	f->n = f->cap = 0;
}

enum certs_severity
certs_findings_worst(const struct certs_findings *f)
{
	enum certs_severity w = CERTS_OK;

	for (size_t i = 0; i < f->n; i++) {
		if (f->items[i].severity > w)
			w = f->items[i].severity;
	}
	return w;
}

void
certs_findings_print(const struct certs_findings *f, FILE *out)
{
	for (size_t i = 0; i < f->n; i++)
		fprintf(out, "%-5s  %s\n", certs_severity_name(f->items[i].severity),
		        f->items[i].text);
}

/* A BIO on a regular file only: a FIFO given as a path must not hang us. */
static BIO *
open_bio(const char *path)
{
	FILE *f = lm_fopen_regular(path);
	BIO *b;

	if (f == NULL)
		return NULL;
	if ((b = BIO_new_fp(f, BIO_CLOSE)) == NULL) {
		fclose(f);
		errno = ENOMEM;
	}
	return b;
}

STACK_OF(X509) * certs_load_certs(const char *path, char *err, size_t errlen)
{
	BIO *b = NULL;
	STACK_OF(X509) *sk = NULL;
	X509 *x;

	ERR_clear_error();
	if ((b = open_bio(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, lm_open_strerror(errno ? errno : ENOENT));
		goto fail;
	}
	if ((sk = sk_X509_new_null()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	ERR_clear_error(); /* the end of the file reads as "no start line" */
	if (sk_X509_num(sk) == 0) {
		/* one DER certificate, as Windows exports .cer files */
		if (BIO_reset(b) == 0 && (x = d2i_X509_bio(b, NULL)) != NULL)
			sk_X509_push(sk, x);
		ERR_clear_error();
	}
	if (sk_X509_num(sk) == 0) {
		snprintf(err, errlen, "%s: no certificate in it (PEM or DER expected)", path);
		goto fail;
	}
	BIO_free(b);
	return sk;
fail:
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return NULL;
}

/* Never prompt for a passphrase: lyncmock runs unattended. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)u = 1;
	return -1;
}

EVP_PKEY *
certs_load_key(const char *path, char *err, size_t errlen)
{
	BIO *b;
	EVP_PKEY *k;
	int asked = 0;

	ERR_clear_error();
	if ((b = open_bio(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, lm_open_strerror(errno ? errno : ENOENT));
		ERR_clear_error();
		return NULL;
	}
	k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, &asked);
	if (k == NULL && !asked && BIO_reset(b) == 0)
		k = d2i_PrivateKey_bio(b, NULL);
	ERR_clear_error();
	BIO_free(b);
	if (k == NULL)
		snprintf(err, errlen, "%s: %s", path,
		         asked
		             ? "the key is encrypted; lyncmock needs an unencrypted key (mode 0600)"
		             : "no private key in it (PEM or DER expected)");
	return k;
}

/* An SSL_CTX's key callback: never prompt on a terminal, an encrypted key fails. */
static int
no_passphrase_ctx(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

int
certs_ctx_use_pair(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase_ctx);
	if (lm_check_regular("certificate", cert, err, errlen) == -1 ||
	    lm_check_regular("key", key, err, errlen) == -1)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "certificate %s: cannot load the chain", cert);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen,
		         "key %s: cannot load it (PEM, unencrypted, matching "
		         "the certificate)",
		         key);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key %s does not match certificate %s", key, cert);
		return -1;
	}
	return 0;
}

static char *
time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		snprintf(buf, len, "(bad time)");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

char *
certs_san_list(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;

	int total = gens != NULL ? sk_GENERAL_NAME_num(gens) : 0;
	/* room kept for the marker, so a cut list never ends mid-name */
	size_t room = len > 32 ? len - 32 : len;

	buf[0] = '\0';
	for (int i = 0; i < total; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		char ip[64];
		int n;

		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			n = snprintf(buf + used, room - used, "%s%.*s", used ? ", " : "",
			             ASN1_STRING_length(g->d.dNSName), (const char *)d);
		} else if (g->type == GEN_IPADD) {
			char *s = OPENSSL_buf2hexstr(ASN1_STRING_get0_data(g->d.iPAddress),
			                             ASN1_STRING_length(g->d.iPAddress));
			snprintf(ip, sizeof ip, "%s", s ? s : "?");
			OPENSSL_free(s);
			n = snprintf(buf + used, room - used, "%sIP:%s", used ? ", " : "", ip);
		} else
			continue;
		if (n < 0 || (size_t)n >= room - used) {
			buf[used] = '\0';
			snprintf(buf + used, len - used, "%s... (%d more)", used ? ", " : "",
			         total - i);
			break;
		}
		used += (size_t)n;
	}
	GENERAL_NAMES_free(gens);
	return buf;
}

static void
check_validity(X509 *x, struct certs_findings *f)
{
	const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
	char b1[64], b2[64];
	int days = 0, secs = 0;

	if (X509_cmp_current_time(nb) > 0) {
		certs_findings_add(f, CERTS_ERROR, "not yet valid: valid from %s (check the clock)",
		                   time_str(nb, b1, sizeof b1));
		return;
	}
	if (X509_cmp_current_time(na) < 0) {
		certs_findings_add(f, CERTS_ERROR, "expired on %s: renew it",
		                   time_str(na, b1, sizeof b1));
		return;
	}
	ASN1_TIME_diff(&days, &secs, NULL, na);
	if (days < 30)
		certs_findings_add(f, CERTS_WARN, "expires in %d day%s (%s): renew it soon", days,
		                   days == 1 ? "" : "s", time_str(na, b1, sizeof b1));
	else
		certs_findings_add(f, CERTS_OK, "valid from %s until %s (%d days left)",
		                   time_str(nb, b1, sizeof b1), time_str(na, b2, sizeof b2), days);
}

static void
check_key(X509 *x, struct certs_findings *f)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	int bits;
	char group[64];
	size_t glen = 0;

	if (pk == NULL) {
		certs_findings_add(f, CERTS_ERROR, "public key: cannot be read");
		return;
	}
	bits = EVP_PKEY_get_bits(pk);
	if (EVP_PKEY_is_a(pk, "RSA")) {
		if (bits >= 2048)
			certs_findings_add(f, CERTS_OK, "key: RSA %d bits", bits);
		else if (bits >= 1024)
			certs_findings_add(
			    f, CERTS_WARN,
			    "key: RSA %d bits: Lync tolerates 1024 bits but needs 2048 or more",
			    bits);
		else
			certs_findings_add(
			    f, CERTS_ERROR,
			    "key: RSA %d bits: too small, Lync needs 2048 bits or more", bits);
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		if (!EVP_PKEY_get_group_name(pk, group, sizeof group, &glen))
			snprintf(group, sizeof group, "?");
		if (bits >= 256)
			certs_findings_add(f, CERTS_OK, "key: ECDSA %s (%d bits)", group, bits);
		else
			certs_findings_add(f, CERTS_ERROR, "key: ECDSA %s (%d bits): too small",
			                   group, bits);
	} else
		certs_findings_add(
		    f, CERTS_ERROR, "key: %s: Lync uses RSA (2048 bits or more) or ECDSA keys",
		    EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "unknown type");
}

static void
check_signature(X509 *x, struct certs_findings *f)
{
	int nid = X509_get_signature_nid(x), md = NID_undef, pk = NID_undef;
	const char *name = OBJ_nid2ln(nid);

	if (name == NULL)
		name = "unknown";
	if (nid == NID_rsassaPss) {
		certs_findings_add(
		    f, CERTS_ERROR,
		    "signature: RSASSA-PSS: Lync refuses PSS-signed certificates; reissue it "
		    "signed with sha256WithRSAEncryption (PKCS#1 v1.5)");
		return;
	}
	if (!OBJ_find_sigid_algs(nid, &md, &pk))
		md = NID_undef;
	if (md == NID_md5 || md == NID_md4 || md == NID_md2)
		certs_findings_add(f, CERTS_ERROR, "signature: %s: broken hash, reissue it", name);
	else if (md == NID_sha1)
		certs_findings_add(f, CERTS_WARN, "signature: %s: SHA-1 is weak, prefer SHA-256",
		                   name);
	else
		certs_findings_add(f, CERTS_OK, "signature: %s", name);
}

static void
check_cdp(X509 *x, struct certs_findings *f)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	char buf[512];
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; dps != NULL && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j);
			int n;
			if (g->type != GEN_URI)
				continue;
			n = snprintf(
			    buf + used, sizeof buf - used, "%s%.*s", used ? ", " : "",
			    ASN1_STRING_length(g->d.uniformResourceIdentifier),
			    (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier));
			if (n > 0 && (size_t)n < sizeof buf - used)
				used += (size_t)n;
		}
	}
	if (dps == NULL)
		certs_findings_add(
		    f, CERTS_WARN,
		    "no CRL distribution point: Lync checks revocation and may refuse it");
	else
		certs_findings_add(f, CERTS_OK, "CRL distribution point: %s",
		                   buf[0] ? buf : "(present, no URI)");
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
}

void
certs_check_basics(X509 *x, bool leaf, struct certs_findings *f)
{
	bool self_signed = (X509_get_extension_flags(x) & EXFLAG_SS) != 0;

	check_validity(x, f);
	check_key(x, f);
	/* a root's own signature is never checked by peers */
	if (!self_signed || leaf)
		check_signature(x, f);
	if (leaf)
		check_cdp(x, f);
}

int
certs_verify_chain(X509 *leaf, STACK_OF(X509) * untrusted, const char *ca, bool check_time,
                   char *why, size_t whylen)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc = -1, err;
	char subj[256];

	ERR_clear_error();
	why[0] = '\0';
	if ((st = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	if (lm_check_regular("CA", ca, why, whylen) == -1)
		goto out;
	if (X509_STORE_load_file(st, ca) != 1) {
		snprintf(why, whylen, "CA %s: cannot read a certificate from it", ca);
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, st, leaf, untrusted) != 1) {
		snprintf(why, whylen, "cannot start verification");
		goto out;
	}
	if (!check_time)
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(ctx) == 1) {
		rc = X509_V_OK;
		goto out;
	}
	err = X509_STORE_CTX_get_error(ctx);
	certs_name_oneline(X509_get_subject_name(X509_STORE_CTX_get_current_cert(ctx) != NULL
	                                             ? X509_STORE_CTX_get_current_cert(ctx)
	                                             : leaf),
	                   subj, sizeof subj);
	snprintf(why, whylen, "depth %d (%s): %s", X509_STORE_CTX_get_error_depth(ctx), subj,
	         X509_verify_cert_error_string(err));
	rc = err != X509_V_OK ? err : X509_V_ERR_UNSPECIFIED;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

char *
certs_sha256_hex(const X509 *x, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (x == NULL || X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
		return out;
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return out;
}

double
certs_rsa2048_signs_per_s(unsigned ms)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY_CTX *pc = NULL;
	unsigned char dgst[32] = {1}, sig[512];
	double t0, t = 0;
	size_t n = 0;

	if (k == NULL || (pc = EVP_PKEY_CTX_new(k, NULL)) == NULL || EVP_PKEY_sign_init(pc) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) != 1) {
		EVP_PKEY_CTX_free(pc);
		EVP_PKEY_free(k);
		return 0;
	}
	t0 = lm_now_ms();
	do {
		size_t sl = sizeof sig;
		if (EVP_PKEY_sign(pc, sig, &sl, dgst, sizeof dgst) != 1)
			break;
		n++;
	} while ((t = lm_now_ms() - t0) < ms);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(k);
	return t > 0 ? n * 1000.0 / t : 0;
}
