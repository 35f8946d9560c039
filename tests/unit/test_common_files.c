/* common/: atomic writes that never follow a planted link, reads that never hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certs/certs.h"
#include "common/lm.h"
#include "probes/probes.h"
#include "report/report.h"
#include "scenarios/scenario.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/lm-test-files.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* The old code wrote PATH.tmp.<pid> with O_CREAT|O_TRUNC: a symlink planted there
 * (for every pid nearby) made it overwrite the link's target. */
static void
test_atomic_write_ignores_planted_symlinks(void **state)
{
	char victim[PATH_MAX], out[PATH_MAX], link[PATH_MAX + 32], buf[256];
	struct stat st;
	FILE *f;
	(void)state;

	snprintf(victim, sizeof victim, "%s/victim", dir);
	snprintf(out, sizeof out, "%s/report.json", dir);
	f = fopen(victim, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	chmod(victim, 0600);
	for (long pid = (long)getpid() - 2; pid <= (long)getpid() + 2; pid++) {
		snprintf(link, sizeof link, "%s.tmp.%ld", out, pid);
		assert_int_equal(symlink(victim, link), 0);
	}
	assert_int_equal(lm_write_file_atomic(out, "new\n", 4, 0644), 0);
	slurp(victim, buf, sizeof buf);
	assert_string_equal(buf, "precious\n");
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	slurp(out, buf, sizeof buf);
	assert_string_equal(buf, "new\n");
	assert_int_equal(lstat(out, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);

	/* a symlink at the target itself is replaced, not written through */
	unlink(out);
	assert_int_equal(symlink(victim, out), 0);
	assert_int_equal(lm_write_file_atomic(out, "key\n", 4, 0600), 0);
	slurp(victim, buf, sizeof buf);
	assert_string_equal(buf, "precious\n");
	assert_int_equal(lstat(out, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* No temp file is left behind on success or failure. */
static void
test_atomic_write_leaves_nothing(void **state)
{
	char out[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int n = 0;
	(void)state;

	snprintf(out, sizeof out, "%s/sub", dir);
	mkdir(out, 0700);
	snprintf(out, sizeof out, "%s/sub/a.pem", dir);
	assert_int_equal(lm_write_file_atomic(out, "x", 1, 0600), 0);
	/* a directory in the way: rename fails, the temp file is removed */
	snprintf(out, sizeof out, "%s/sub/d", dir);
	mkdir(out, 0700);
	snprintf(out, sizeof out, "%s/sub/d/x", dir);
	mkdir(out, 0700);
	snprintf(out, sizeof out, "%s/sub/d", dir);
	assert_int_equal(lm_write_file_atomic(out, "x", 1, 0600), -1);
	snprintf(out, sizeof out, "%s/sub", dir);
	d = opendir(out);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
			n++;
	closedir(d);
	assert_int_equal(n, 2); /* a.pem and d */
}

static void
on_alarm(int sig)
{
	(void)sig;
	/* a hang is the bug: fail loudly instead of waiting for CTest's timeout */
	_exit(3);
}

/* A FIFO as a scenario, report, certificate, key or CA path: refused at once. */
static void
test_fifo_paths_refused_not_hang(void **state)
{
	char fifo[PATH_MAX], err[512];
	struct probe_run *run = probe_run_new("x", "y");
	(void)state;

	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	signal(SIGALRM, on_alarm);
	alarm(20);

	err[0] = '\0';
	assert_null(scenario_load(fifo, err, sizeof err));
	assert_non_null(strstr(err, "not a regular file"));

	err[0] = '\0';
	assert_int_equal(report_read_json(fifo, run, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a regular file"));
	probe_run_free(run);

	err[0] = '\0';
	assert_null(certs_load_certs(fifo, err, sizeof err));
	assert_non_null(strstr(err, "not a regular file"));
	err[0] = '\0';
	assert_null(certs_load_key(fifo, err, sizeof err));
	assert_non_null(strstr(err, "not a regular file"));

	assert_int_equal(lm_open_regular(fifo, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(lm_open_regular(dir, 0), -1);
	assert_int_equal(errno, EISDIR);
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_atomic_write_ignores_planted_symlinks, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_atomic_write_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fifo_paths_refused_not_hang, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
