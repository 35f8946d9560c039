/* `certs check`: will a user's own certificate and key do for one scenario host under Lync? */
#include "certs/certs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Why a name is required, for the message. */
static const char *
name_reason(const struct scenario_host *h, const char *name)
{
	if (h->pool != NULL && strcasecmp(name, h->pool) == 0)
		return "the pool FQDN";
	if (h->fqdn != NULL && strcasecmp(name, h->fqdn) == 0)
		return "the server FQDN";
	if (strncasecmp(name, "lyncdiscover", 12) == 0)
		return "the autodiscover name";
	return "a web-services / simple-URL name of the scenario";
}

static void
check_names(const struct scenario_host *h, enum scenario_cert_shape shape,
            const struct certs_host_names *names, X509 *x, struct certs_findings *f)
{
	char found[1024], cn[256];
	size_t used = 0;
	X509_NAME_ENTRY *e;
	int idx;

	found[0] = '\0';
	for (size_t i = 0; i < names->nsan; i++) {
		const char *n = names->san[i];
		/* SANs only: TLS clients ignore the CN when SANs are present */
		if (X509_check_host(x, n, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1) {
			int k = snprintf(found + used, sizeof found - used, "%s%s",
			                 used ? ", " : "", n);
			if (k > 0 && (size_t)k < sizeof found - used)
				used += (size_t)k;
			continue;
		}
		if (shape == SCENARIO_CERT_CLIENT)
			certs_findings_add(
			    f, CERTS_WARN,
			    "host FQDN %s is not in the SANs (servers do not check a client's "
			    "name, but Lync logs name the peer by it)",
			    n);
		else
			certs_findings_add(f, CERTS_ERROR,
			                   "required name %s (%s) is missing from the SANs", n,
			                   name_reason(h, n));
	}
	if (found[0] != '\0')
		certs_findings_add(f, CERTS_OK, "names present in the SANs: %s", found);

	cn[0] = '\0';
	idx = X509_NAME_get_index_by_NID(X509_get_subject_name(x), NID_commonName, -1);
	if (idx >= 0 && (e = X509_NAME_get_entry(X509_get_subject_name(x), idx)) != NULL) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(e);
		snprintf(cn, sizeof cn, "%.*s", ASN1_STRING_length(s),
		         (const char *)ASN1_STRING_get0_data(s));
	}
	if (strcasecmp(cn, names->cn) == 0)
		certs_findings_add(f, CERTS_OK, "subject CN %s", cn);
	else
		certs_findings_add(
		    f, CERTS_WARN, "subject CN is '%s'; Lync expects %s (%s)", cn, names->cn,
		    shape == SCENARIO_CERT_POOL && h->pool ? "the pool FQDN" : "the host FQDN");
}

static void
check_eku(enum scenario_cert_shape shape, X509 *x, struct certs_findings *f)
{
	uint32_t xku = X509_get_extended_key_usage(x);
	bool has = (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) != 0;
	bool srv = has && (xku & XKU_SSL_SERVER), cli = has && (xku & XKU_SSL_CLIENT);

	if (shape == SCENARIO_CERT_CLIENT) {
		/* a source only presents it as an MTLS client certificate */
		if (!has)
			certs_findings_add(
			    f, CERTS_WARN,
			    "no EKU extension: OpenSSL allows any purpose, Windows peers may not; "
			    "add clientAuth");
		else if (cli)
			certs_findings_add(f, CERTS_OK, "EKU clientAuth: usable for MTLS");
		else if (srv)
			certs_findings_add(
			    f, CERTS_WARN,
			    "EKU serverAuth without clientAuth: Lync (and lyncmock by default) "
			    "accept it for MTLS, strict MTLS peers (--strict-client-eku) do not");
		else
			certs_findings_add(
			    f, CERTS_ERROR,
			    "EKU has neither clientAuth nor serverAuth: no MTLS peer accepts it");
		return;
	}
	if (!srv)
		certs_findings_add(
		    f, CERTS_ERROR,
		    "no Server Authentication EKU: Lync needs serverAuth on every server "
		    "certificate");
	else
		certs_findings_add(f, CERTS_OK, "EKU serverAuth");
	if (srv && !cli)
		certs_findings_add(
		    f, CERTS_WARN,
		    "no Client Authentication EKU: Lync accepts it, strict MTLS peers may not");
	else if (cli)
		certs_findings_add(f, CERTS_OK, "EKU clientAuth (for MTLS to other servers)");
}

static void
check_key(X509 *x, const char *key, struct certs_findings *f)
{
	char err[512];
	EVP_PKEY *k;

	if (certs_key_file_private(key, err, sizeof err) == -1)
		certs_findings_add(f, CERTS_ERROR, "%s", err);
	if ((k = certs_load_key(key, err, sizeof err)) == NULL) {
		certs_findings_add(f, CERTS_ERROR, "%s", err);
		return;
	}
	if (X509_check_private_key(x, k) == 1)
		certs_findings_add(f, CERTS_OK, "key %s matches the certificate", key);
	else
		certs_findings_add(f, CERTS_ERROR, "key %s does not match the certificate", key);
	ERR_clear_error();
	EVP_PKEY_free(k);
}

int
certs_check(const struct scenario *sc, const struct scenario_host *h, const char *cert,
            const char *key, const char *ca, struct certs_findings *out, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = NULL, *rest = NULL;
	struct certs_host_names *names = NULL;
	enum scenario_cert_shape shape =
	    h->role != NULL ? h->role->cert_shape : SCENARIO_CERT_CLIENT;
	char subj[256], why[512], nerr[256];
	X509 *x;
	bool ss;
	int rc = -1, v;

	err[0] = '\0';
	if ((sk = certs_load_certs(cert, err, errlen)) == NULL)
		return -1;
	if ((names = calloc(1, sizeof *names)) == NULL || (rest = sk_X509_new_null()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (certs_host_names(sc, h, names, nerr, sizeof nerr) == -1) {
		snprintf(err, errlen, "host %s: %s", h->name, nerr);
		goto out;
	}
	x = sk_X509_value(sk, 0);
	for (int i = 1; i < sk_X509_num(sk); i++)
		sk_X509_push(rest, sk_X509_value(sk, i));
	certs_name_oneline(X509_get_subject_name(x), subj, sizeof subj);
	certs_findings_add(out, CERTS_INFO, "%s for host %s (%s, %s certificate): %s", cert,
	                   h->name, h->role != NULL ? h->role->name : "?",
	                   shape == SCENARIO_CERT_POOL     ? "pool"
	                   : shape == SCENARIO_CERT_SERVER ? "server"
	                                                   : "client",
	                   subj);

	check_names(h, shape, names, x, out);
	check_eku(shape, x, out);
	certs_check_basics(x, true, out);
	if (X509_check_ca(x) != 0)
		certs_findings_add(
		    out, CERTS_ERROR,
		    "it is a CA certificate (basicConstraints CA:TRUE), not a host certificate");
	ss = (X509_get_extension_flags(x) & EXFLAG_SS) != 0;
	if (ss)
		certs_findings_add(
		    out, CERTS_ERROR,
		    "self-signed: Lync peers trust only certificates issued by a CA they trust");
	if (key != NULL && key[0] != '\0')
		check_key(x, key, out);
	else
		certs_findings_add(out, CERTS_INFO, "no --key: key not checked");
	if (ca != NULL && ca[0] != '\0') {
		v = certs_verify_chain(x, rest, ca, false, why, sizeof why);
		if (v == -1) {
			snprintf(err, errlen, "%s", why);
			goto out;
		}
		if (v == X509_V_OK)
			certs_findings_add(out, CERTS_OK, "chains to the CA in %s", ca);
		else
			certs_findings_add(out, CERTS_ERROR, "no chain to the CA in %s: %s", ca,
			                   why);
	} else if (!ss)
		certs_findings_add(out, CERTS_INFO, "no --ca: chain not checked");
	rc = 0;
out:
	sk_X509_free(rest);
	sk_X509_pop_free(sk, X509_free);
	free(names);
	return rc;
}
