/*
 * TLS handshake slots shared by the probe processes of one lab: a counter in
 * a small shared file (mmap'd), taken with a compare-and-swap before a
 * handshake starts and given back when the probe ends, so that the lab's
 * processes together never have more handshakes in flight than the CPU can
 * finish inside a timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probes/probe_int.h"

#define SLOTS_MAGIC 0x4c4d534cu /* "LMSL" */

struct probe_slots_shm {
	uint32_t magic;
	uint32_t total;
	atomic_int free;
};

struct probe_slots {
	struct probe_slots_shm *shm;
};

static struct probe_slots_shm *
slots_map(int fd)
{
	void *m =
	    mmap(NULL, sizeof(struct probe_slots_shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return m == MAP_FAILED ? NULL : m;
}

int
probe_slots_create(const char *path, unsigned n, char *err, size_t errlen)
{
	struct probe_slots_shm *shm;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd == -1 || ftruncate(fd, sizeof *shm) == -1 || (shm = slots_map(fd)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	shm->total = n;
	atomic_store(&shm->free, (int)n);
	shm->magic = SLOTS_MAGIC;
	munmap(shm, sizeof *shm);
	close(fd);
	return 0;
}

struct probe_slots *
probe_slots_open(const char *path, char *err, size_t errlen)
{
	struct probe_slots *s = calloc(1, sizeof *s);
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (s == NULL || fd == -1 || fstat(fd, &st) == -1) {
		snprintf(err, errlen, "--tls-slots %s: %s", path,
		         s ? strerror(errno) : "no memory");
		goto fail;
	}
	if ((size_t)st.st_size < sizeof *s->shm || (s->shm = slots_map(fd)) == NULL ||
	    s->shm->magic != SLOTS_MAGIC) {
		snprintf(err, errlen, "--tls-slots %s: not a slot file made by `lyncmock lab`",
		         path);
		goto fail;
	}
	close(fd);
	return s;
fail:
	if (s != NULL && s->shm != NULL)
		munmap(s->shm, sizeof *s->shm);
	if (fd != -1)
		close(fd);
	free(s);
	return NULL;
}

void
probe_slots_close(struct probe_slots *s)
{
	if (s == NULL)
		return;
	munmap(s->shm, sizeof *s->shm);
	free(s);
}

bool
probe_slots_take(struct probe_slots *s)
{
	int v = atomic_load(&s->shm->free);

	while (v > 0)
		if (atomic_compare_exchange_weak(&s->shm->free, &v, v - 1))
			return true;
	return false;
}

void
probe_slots_give(struct probe_slots *s)
{
	atomic_fetch_add(&s->shm->free, 1);
}
