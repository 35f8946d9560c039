/* The lab PKI: certs_init() with its RSA key generation spread over the CPUs,
 * kept between runs for as long as the scenario's hosts stay the same. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lab/lab_int.h"

/*
 * certs_init() spread over the CPUs: RSA key generation dominates the lab's
 * run time, and every host's key is independent. The CA is made first; each
 * worker then issues its share of the hosts (certs_init reuses the CA).
 */
int
lab_pki_init(const struct scenario *sc, const char *dir, const struct certs_init_opts *co,
             char *err, size_t errlen)
{
	struct scenario part = *sc;
	pid_t pids[8];
	int ep[2], status;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t workers = cpus < 1 ? 1 : cpus > 8 ? 8 : (size_t)cpus, started = 0;
	char msg[1024];
	ssize_t n;
	int rc = 0;

	part.nhosts = 0;
	if (certs_init(&part, dir, co, err, errlen) == -1)
		return -1;
	if (workers > sc->nhosts)
		workers = sc->nhosts;
	if (pipe2(ep, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	for (size_t w = 0; w < workers; w++) {
		if ((pids[w] = fork()) == -1) {
			snprintf(err, errlen, "fork: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (pids[w] == 0) {
			char cerr[512];
			close(ep[0]);
			for (size_t i = w; i < sc->nhosts; i += workers) {
				part.hosts = &sc->hosts[i];
				part.nhosts = 1;
				if (certs_init(&part, dir, co, cerr, sizeof cerr) == -1) {
					if (write(ep[1], cerr, strlen(cerr)) == -1) {
						/* the exit status still says it failed */
					}
					_exit(1);
				}
			}
			_exit(0);
		}
		started++;
	}
	close(ep[1]);
	for (size_t w = 0; w < started; w++) {
		while (waitpid(pids[w], &status, 0) == -1 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			rc = -1;
	}
	if (rc == -1 && started > 0) {
		n = read(ep[0], msg, sizeof msg - 1);
		msg[n > 0 ? n : 0] = '\0';
		snprintf(err, errlen, "%s", n > 0 ? msg : "a certificate worker failed");
	}
	close(ep[0]);
	return rc;
}

/* ---- reuse between runs ---------------------------------------------------- */

/* Where reusable lab PKIs live: $LYNCMOCK_CACHE_DIR, else /var/cache/lyncmock. */
static const char *
cache_root(void)
{
	const char *d = getenv("LYNCMOCK_CACHE_DIR");
	return d != NULL && d[0] == '/' ? d : "/var/cache/lyncmock";
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof buf, "%s", path);
	for (char *c = buf + 1; *c != '\0'; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*c = '/';
	}
	return mkdir(buf, mode) == -1 && errno != EEXIST ? -1 : 0;
}

static void
hash_str(EVP_MD_CTX *md, const char *s)
{
	/* with its terminator: "a","bc" and "ab","c" differ */
	EVP_DigestUpdate(md, s != NULL ? s : "", s != NULL ? strlen(s) + 1 : 1);
}

/* A digest of everything that goes into the lab's certificates: the same
 * hosts (names, roles, FQDNs, pools, SANs), key type and version, the same PKI. */
static int
pki_digest(const struct scenario *sc, const struct certs_init_opts *co, char *hex, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	char buf[512];

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	snprintf(buf, sizeof buf, "lyncmock-lab-pki/2 %s key=%d eku=%d days=%d", LM_VERSION,
	         (int)co->key_type, co->client_auth, co->days);
	hash_str(md, buf);
	hash_str(md, sc->domain);
	for (size_t i = 0; i < sc->nhosts; i++) {
		const struct scenario_host *h = &sc->hosts[i];
		hash_str(md, h->name);
		hash_str(md, h->role->name);
		hash_str(md, scenario_cert_shape_name(h->role->cert_shape));
		hash_str(md, scenario_host_fqdn(sc, h, buf, sizeof buf));
		hash_str(md, h->pool);
		for (size_t j = 0; j < h->nsan_extra; j++)
			hash_str(md, h->san_extra[j]);
		hash_str(md, h->cert);
		hash_str(md, h->key);
	}
	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < 12 && 2 * i + 2 < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
lab_rmtree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Young enough to reuse: leaf certificates live co->days, reuse stops well before. */
static bool
pki_fresh(const char *dir, const struct certs_init_opts *co)
{
	char stamp[PATH_MAX * 2];
	struct stat st;

	snprintf(stamp, sizeof stamp, "%s/complete", dir);
	return stat(stamp, &st) == 0 &&
	       time(NULL) - st.st_mtime < (time_t)(co->days > 2 ? co->days / 2 : 1) * 86400;
}

/* Old PKIs of other scenarios go when a new one is made. */
static void
pki_prune(const char *root, const struct certs_init_opts *co)
{
	DIR *dir = opendir(root);
	struct dirent *de;
	char path[PATH_MAX + 256];

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "pki-", 4) != 0 && strncmp(de->d_name, ".new-", 5) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", root, de->d_name);
		if (!pki_fresh(path, co))
			lab_rmtree(path);
	}
	closedir(dir);
}

int
lab_pki_cached(const struct scenario *sc, const struct certs_init_opts *co, char *dir,
               size_t dirlen, bool *reused, char *err, size_t errlen)
{
	char hex[32], root[PATH_MAX], tmp[PATH_MAX + 64], stamp[PATH_MAX * 2];
	int fd;

	*reused = false;
	if (pki_digest(sc, co, hex, sizeof hex) == -1) {
		snprintf(err, errlen, "cannot hash the scenario's hosts");
		return -1;
	}
	snprintf(root, sizeof root, "%s/lab-pki", cache_root());
	if (mkdir_p(root, 0700) == -1) {
		snprintf(err, errlen, "%s: %s", root, strerror(errno));
		return -1;
	}
	/* it holds the CA key: never a link, only ours, 0700 even if made otherwise */
	if (lab_private_dir(root, err, errlen) == -1)
		return -1;
	snprintf(dir, dirlen, "%s/pki-%s", root, hex);
	if (pki_fresh(dir, co)) {
		*reused = true;
		return 0;
	}
	pki_prune(root, co);
	snprintf(tmp, sizeof tmp, "%s/.new-%s-%ld", root, hex, (long)getpid());
	if (lab_pki_init(sc, tmp, co, err, errlen) == -1)
		goto fail;
	snprintf(stamp, sizeof stamp, "%s/complete", tmp);
	if ((fd = open(stamp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", stamp, strerror(errno));
		goto fail;
	}
	close(fd);
	/* a stale one goes; a lab that made the same PKI meanwhile wins, ours goes */
	if (!pki_fresh(dir, co))
		lab_rmtree(dir);
	if (rename(tmp, dir) == -1) {
		if (pki_fresh(dir, co)) {
			lab_rmtree(tmp);
			return 0;
		}
		snprintf(err, errlen, "rename %s: %s", tmp, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	lab_rmtree(tmp);
	return -1;
}
