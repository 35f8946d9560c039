/* The lab PKI: certs_init() with its RSA key generation spread over the CPUs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
