/* The lab's state files under /run/lyncmock: what each lab made, so what a killed one left is
 * found, reported and removed (lab --cleanup). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lab/lab.h"
#include "lab/lab_int.h"

#define STATE_FORMAT 1
#define STATE_MAX_BYTES (1 << 20)
#define STATE_MAX_NETNS 4096
#define STATE_MAX_PROCS 65536
#define STOP_MS 3000 /* SIGTERM to SIGKILL, for a leftover process */

/* $LYNCMOCK_RUN_DIR (or /run/lyncmock, shared with deployed listeners' pid files)/lab */
const char *
lab_state_dir(void)
{
	static char dir[PATH_MAX - 128];
	const char *d = getenv("LYNCMOCK_RUN_DIR");

	if (d == NULL || d[0] != '/' || strlen(d) + 5 > sizeof dir)
		d = "/run/lyncmock";
	snprintf(dir, sizeof dir, "%s/lab", d);
	return dir;
}

int
lab_private_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* never through a link, only a directory we own, and nobody else's to enter */
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path,
		         errno == ELOOP ? "a symbolic link (refused)" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %ld, not by us (refused)", path,
		         (long)st.st_uid);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) == -1) {
		snprintf(err, errlen, "%s: chmod 0700: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

unsigned long long
lab_proc_start(long pid)
{
	char path[64], buf[1024], *p, *save = NULL, st = '?';
	unsigned long long start = 0;
	ssize_t n;
	int fd, field = 2;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "PID (COMM) STATE PPID ...": COMM may hold anything, so fields count from its last ')';
	 * the start time (clock ticks since boot) is field 22 */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	for (char *t = strtok_r(p + 1, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
		field++;
		if (field == 3)
			st = t[0];
		if (field == 22) {
			start = strtoull(t, NULL, 10);
			break;
		}
	}
	/* a zombie is gone: nothing of it to stop (PID 1 may never reap it) */
	return st == 'Z' || st == 'X' ? 0 : start;
}

static void
boot_id(char *buf, size_t len)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd != -1 ? read(fd, buf, len - 1) : -1;

	if (fd != -1)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

int
lab_state_init(struct lab_state *st, const char *prefix, char *err, size_t errlen)
{
	const char *dir = lab_state_dir();

	memset(st, 0, sizeof *st);
	st->self.pid = (long)getpid();
	st->self.start = lab_proc_start(st->self.pid);
	st->started = (long long)time(NULL);
	boot_id(st->boot_id, sizeof st->boot_id);
	snprintf(st->prefix, sizeof st->prefix, "%s", prefix);
	if (st->self.start == 0) {
		snprintf(err, errlen, "/proc/self/stat: cannot read this process's start time");
		return -1;
	}
	/* the parent: made 0700 when missing, left as it is otherwise (not ours alone) */
	snprintf(st->file, sizeof st->file, "%s", dir);
	*strrchr(st->file, '/') = '\0';
	if (mkdir(st->file, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", st->file, strerror(errno));
		return -1;
	}
	if (lab_private_dir(dir, err, errlen) == -1)
		return -1;
	/* pid and start time: never the name of an earlier lab with the same pid */
	if (snprintf(st->file, sizeof st->file, "%s/lab-%s-%llu.json", dir, prefix,
	             st->self.start) >= (int)sizeof st->file ||
	    snprintf(st->tmpdir, sizeof st->tmpdir, "%s/lab-%s-%llu.d", dir, prefix,
	             st->self.start) >= (int)sizeof st->tmpdir) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

void
lab_state_free(struct lab_state *st)
{
	free(st->netns);
	free(st->procs);
	st->netns = NULL;
	st->procs = NULL;
	st->nnetns = st->nprocs = 0;
}

int
lab_state_add_netns(struct lab_state *st, const char *name)
{
	char(*nn)[64];

	if (st->nnetns >= STATE_MAX_NETNS || strlen(name) >= sizeof st->netns[0])
		return -1;
	if ((nn = realloc(st->netns, (st->nnetns + 1) * sizeof *nn)) == NULL)
		return -1;
	st->netns = nn;
	snprintf(st->netns[st->nnetns++], sizeof st->netns[0], "%s", name);
	return 0;
}

int
lab_state_add_proc(struct lab_state *st, long pid)
{
	struct lab_proc_id *np;
	unsigned long long start = lab_proc_start(pid);

	if (start == 0)
		return 0; /* already gone */
	if (st->nprocs >= STATE_MAX_PROCS)
		return -1;
	if ((np = realloc(st->procs, (st->nprocs + 1) * sizeof *np)) == NULL)
		return -1;
	st->procs = np;
	st->procs[st->nprocs++] = (struct lab_proc_id){pid, start};
	return 0;
}

static json_t *
proc_json(const struct lab_proc_id *p)
{
	return json_pack("{s:I,s:I}", "pid", (json_int_t)p->pid, "start_time",
	                 (json_int_t)p->start);
}

char *
lab_state_render(const struct lab_state *st, size_t *len)
{
	json_t *root, *ns, *procs;
	char *text = NULL;

	root = json_pack("{s:i,s:s,s:I,s:I,s:I,s:s,s:s,s:b}", "lyncmock_lab_state", STATE_FORMAT,
	                 "boot_id", st->boot_id, "pid", (json_int_t)st->self.pid, "start_time",
	                 (json_int_t)st->self.start, "started", (json_int_t)st->started, "prefix",
	                 st->prefix, "tmpdir", st->tmpdir, "kept", st->kept);
	ns = json_array();
	procs = json_array();
	if (root == NULL || ns == NULL || procs == NULL)
		goto out;
	for (size_t i = 0; i < st->nnetns; i++)
		if (json_array_append_new(ns, json_string(st->netns[i])) == -1)
			goto out;
	for (size_t i = 0; i < st->nprocs; i++)
		if (json_array_append_new(procs, proc_json(&st->procs[i])) == -1)
			goto out;
	if (json_object_set(root, "netns", ns) == -1 ||
	    json_object_set(root, "processes", procs) == -1)
		goto out;
	if ((text = json_dumps(root, JSON_INDENT(1))) != NULL)
		*len = strlen(text);
out:
	json_decref(ns);
	json_decref(procs);
	json_decref(root);
	return text;
}

int
lab_state_save(const struct lab_state *st, char *err, size_t errlen)
{
	size_t len = 0;
	char *text = lab_state_render(st, &len);
	int rc;

	if (text == NULL) {
		snprintf(err, errlen, "%s: out of memory", st->file);
		return -1;
	}
	if ((rc = lm_write_file_atomic(st->file, text, len, 0600)) == -1)
		snprintf(err, errlen, "%s: %s", st->file, strerror(errno));
	free(text);
	return rc;
}

/* A name the lab itself would have made: "PREFIX-..." of [A-Za-z0-9._-]. */
static bool
netns_name_ok(const char *prefix, const char *name)
{
	size_t pl = strlen(prefix), n = strlen(name);

	if (n <= pl + 1 || n >= 64 || strncmp(name, prefix, pl) != 0 || name[pl] != '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static bool
prefix_ok(const char *p)
{
	size_t n = strlen(p);

	if (n < 3 || n >= 32 || strncmp(p, "lm", 2) != 0)
		return false;
	for (size_t i = 2; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
			return false;
	return true;
}

/* A pid (1..INT_MAX) or a start time (>= 1: 0 would match any process that is gone). */
static int
get_id(json_t *o, const char *key, bool pid, long long *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	if (!json_is_integer(v))
		return -1;
	i = json_integer_value(v);
	if (i < 1 || (pid && i > INT_MAX))
		return -1;
	*out = (long long)i;
	return 0;
}

static int
get_str(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) >= len)
		return -1;
	snprintf(buf, len, "%s", json_string_value(v));
	return 0;
}

int
lab_state_parse(const char *text, size_t len, struct lab_state *st, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *ns, *procs, *kept, *v;
	long long pid = 0, start = 0, started = 0;
	const char *what = NULL;
	size_t i;

	memset(st, 0, sizeof *st);
	if (len > STATE_MAX_BYTES) {
		snprintf(err, errlen, "larger than %d bytes", STATE_MAX_BYTES);
		return -1;
	}
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(err, errlen, "line %d: %s", je.line, je.text);
		return -1;
	}
	if (!json_is_object(root) ||
	    !json_is_integer(v = json_object_get(root, "lyncmock_lab_state")) ||
	    json_integer_value(v) != STATE_FORMAT)
		what = "not a lyncmock lab state (format 1)";
	else if (get_id(root, "pid", true, &pid) == -1 ||
	         get_id(root, "start_time", false, &start) == -1)
		what = "no valid pid and start_time";
	else if (!json_is_integer(v = json_object_get(root, "started")) ||
	         (started = json_integer_value(v)) < 0)
		what = "no valid started time";
	else if (get_str(root, "prefix", st->prefix, sizeof st->prefix) == -1 ||
	         !prefix_ok(st->prefix))
		what = "no valid prefix";
	else if (get_str(root, "boot_id", st->boot_id, sizeof st->boot_id) == -1)
		what = "no valid boot_id";
	else if (get_str(root, "tmpdir", st->tmpdir, sizeof st->tmpdir) == -1 ||
	         (st->tmpdir[0] != '\0' &&
	          (st->tmpdir[0] != '/' || strstr(st->tmpdir, "/..") != NULL)))
		what = "no valid tmpdir";
	else if ((kept = json_object_get(root, "kept")) != NULL && !json_is_boolean(kept))
		what = "kept is not true or false";
	else if (!json_is_array(ns = json_object_get(root, "netns")) ||
	         json_array_size(ns) > STATE_MAX_NETNS)
		what = "no valid netns list";
	else if (!json_is_array(procs = json_object_get(root, "processes")) ||
	         json_array_size(procs) > STATE_MAX_PROCS)
		what = "no valid processes list";
	if (what != NULL)
		goto fail;
	st->self.pid = (long)pid;
	st->self.start = (unsigned long long)start;
	st->started = started;
	st->kept = kept != NULL && json_is_true(kept);
	json_array_foreach(ns, i, v)
	{
		if (!json_is_string(v) || !netns_name_ok(st->prefix, json_string_value(v)) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			what = "a netns name the lab does not make";
			goto fail;
		}
		if (lab_state_add_netns(st, json_string_value(v)) == -1) {
			what = "out of memory";
			goto fail;
		}
	}
	json_array_foreach(procs, i, v)
	{
		struct lab_proc_id *np;
		if (!json_is_object(v) || get_id(v, "pid", true, &pid) == -1 ||
		    get_id(v, "start_time", false, &start) == -1) {
			what = "a process without a valid pid and start_time";
			goto fail;
		}
		if ((np = realloc(st->procs, (st->nprocs + 1) * sizeof *np)) == NULL) {
			what = "out of memory";
			goto fail;
		}
		st->procs = np;
		st->procs[st->nprocs++] =
		    (struct lab_proc_id){(long)pid, (unsigned long long)start};
	}
	json_decref(root);
	return 0;
fail:
	snprintf(err, errlen, "%s", what);
	json_decref(root);
	lab_state_free(st);
	return -1;
}

static int
state_read(const char *path, struct lab_state *st, char *err, size_t errlen)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd = lm_open_regular(path, O_NOFOLLOW), rc;

	if (fd == -1) {
		snprintf(err, errlen, "%s", lm_open_strerror(errno));
		return -1;
	}
	if ((buf = malloc(STATE_MAX_BYTES + 1)) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (len <= STATE_MAX_BYTES &&
	       (n = read(fd, buf + len, STATE_MAX_BYTES + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s", strerror(errno));
			close(fd);
			free(buf);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	rc = lab_state_parse(buf, len, st, err, errlen);
	free(buf);
	if (rc == 0)
		snprintf(st->file, sizeof st->file, "%s", path);
	return rc;
}

/* ---- leftovers --------------------------------------------------------- */

/* Is the lab that wrote st still running (the same process: pid and start time, this boot)? */
static bool
state_alive(const struct lab_state *st)
{
	char id[sizeof st->boot_id];

	boot_id(id, sizeof id);
	if (st->boot_id[0] != '\0' && id[0] != '\0' && strcmp(id, st->boot_id) != 0)
		return false;
	return lab_proc_start(st->self.pid) == st->self.start;
}

static bool
netns_exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof path, "/run/netns/%s", name);
	return access(path, F_OK) == 0;
}

/* Only the temp dir the lab names under the state directory, and a directory, not a link. */
static bool
tmpdir_ours(const struct lab_state *st)
{
	char want[PATH_MAX];
	struct stat sb;

	snprintf(want, sizeof want, "%s/lab-%s-", lab_state_dir(), st->prefix);
	return st->tmpdir[0] != '\0' && strncmp(st->tmpdir, want, strlen(want)) == 0 &&
	       strchr(st->tmpdir + strlen(want), '/') == NULL && lstat(st->tmpdir, &sb) == 0 &&
	       S_ISDIR(sb.st_mode);
}

static void
when(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
}

/* What of st is still there, as words into f; the number of things. */
static size_t
describe_left(const struct lab_state *st, FILE *f)
{
	size_t nns = 0, np = 0, n = 0;

	for (size_t i = 0; i < st->nnetns; i++)
		nns += netns_exists(st->netns[i]);
	for (size_t i = 0; i < st->nprocs; i++)
		np += lab_proc_start(st->procs[i].pid) == st->procs[i].start;
	if (nns > 0) {
		fprintf(f, "%zu namespace%s (", nns, nns == 1 ? "" : "s");
		for (size_t i = 0, k = 0; i < st->nnetns; i++)
			if (netns_exists(st->netns[i]))
				fprintf(f, "%s%s", k++ ? " " : "", st->netns[i]);
		fprintf(f, ")");
		n += nns;
	}
	if (tmpdir_ours(st)) {
		fprintf(f, "%stemp dir %s (the lab's keys)", n ? ", " : "", st->tmpdir);
		n++;
	}
	if (np > 0) {
		fprintf(f, "%s%zu process%s (", n ? ", " : "", np, np == 1 ? "" : "es");
		for (size_t i = 0, k = 0; i < st->nprocs; i++)
			if (lab_proc_start(st->procs[i].pid) == st->procs[i].start)
				fprintf(f, "%s%ld", k++ ? " " : "", st->procs[i].pid);
		fprintf(f, ")");
		n += np;
	}
	return n;
}

/* Calls fn for each state file of the directory (sorted: stable output). */
static int
each_state(int (*fn)(const char *path, void *arg), void *arg)
{
	struct dirent **names = NULL;
	int n = scandir(lab_state_dir(), &names, NULL, alphasort), rc = 0;

	if (n == -1)
		return errno == ENOENT ? 0 : -1;
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		size_t l = strlen(d);
		char path[PATH_MAX];
		if (strncmp(d, "lab-", 4) == 0 && l > 9 && strcmp(d + l - 5, ".json") == 0 &&
		    snprintf(path, sizeof path, "%s/%s", lab_state_dir(), d) < (int)sizeof path)
			rc |= fn(path, arg);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
warn_one(const char *path, void *arg)
{
	FILE *log = arg, *m;
	struct lab_state st;
	char err[256], t[32], *text = NULL;
	size_t len = 0, n;

	if (state_read(path, &st, err, sizeof err) == -1) {
		fprintf(log,
		        "lyncmock lab: warning: %s: unreadable lab state (%s): `lyncmock lab "
		        "--cleanup` removes it\n",
		        path, err);
		return 0;
	}
	if (state_alive(&st)) {
		lab_state_free(&st);
		return 0;
	}
	if ((m = open_memstream(&text, &len)) == NULL) {
		lab_state_free(&st);
		return 0;
	}
	n = describe_left(&st, m);
	fclose(m);
	when(st.started, t, sizeof t);
	if (n == 0)
		unlink(path); /* nothing of it is left: the record alone is stale */
	else
		fprintf(log,
		        "lyncmock lab: warning: lab %s (pid %ld, started %s, %s) left %s: remove "
		        "with `lyncmock lab --cleanup`\n",
		        st.prefix, st.self.pid, t,
		        st.kept ? "kept with --keep" : "no longer running",
		        text != NULL ? text : "?");
	free(text);
	lab_state_free(&st);
	return 0;
}

void
lab_leftovers_warn(FILE *log)
{
	(void)each_state(warn_one, log != NULL ? log : stderr);
}

/* Stops a leftover process, only while it is still the recorded one. */
static const char *
stop_proc(const struct lab_proc_id *p)
{
	int sigs[2] = {SIGTERM, SIGKILL};

	for (int s = 0; s < 2; s++) {
		double deadline = lm_now_ms() + STOP_MS;
		if (lab_proc_start(p->pid) != p->start)
			return s == 0 ? NULL : "SIGTERM";
		if (kill((pid_t)p->pid, sigs[s]) == -1)
			return errno == ESRCH ? (s == 0 ? NULL : "SIGTERM") : strerror(errno);
		while (lab_proc_start(p->pid) == p->start && lm_now_ms() < deadline)
			poll(NULL, 0, 20);
		if (lab_proc_start(p->pid) != p->start)
			return s == 0 ? "SIGTERM" : "SIGKILL";
	}
	return "still running after SIGKILL";
}

struct cleanup {
	FILE *out;
	size_t removed, running, failed;
};

static int
clean_one(const char *path, void *arg)
{
	struct cleanup *c = arg;
	struct lab_state st;
	char err[512], t[32];
	bool any = false, bad = false;

	if (state_read(path, &st, err, sizeof err) == -1) {
		/* ours (0700 directory, our name), but it names nothing we can trust */
		if (unlink(path) == 0) {
			fprintf(c->out, "lab --cleanup: removed unreadable state file %s (%s)\n",
			        path, err);
			c->removed++;
		} else {
			fprintf(c->out, "lab --cleanup: %s: unreadable (%s), cannot remove: %s\n",
			        path, err, strerror(errno));
			c->failed++;
		}
		return 0;
	}
	when(st.started, t, sizeof t);
	if (state_alive(&st)) {
		fprintf(c->out,
		        "lab --cleanup: lab %s (pid %ld, started %s) is still running: left "
		        "alone\n",
		        st.prefix, st.self.pid, t);
		c->running++;
		lab_state_free(&st);
		return 0;
	}
	fprintf(c->out, "lab --cleanup: lab %s (pid %ld, started %s, %s):\n", st.prefix,
	        st.self.pid, t, st.kept ? "kept with --keep" : "no longer running");
	/* processes first: a listener holds its namespace's sockets */
	for (size_t i = 0; i < st.nprocs; i++) {
		const char *how = stop_proc(&st.procs[i]);
		if (how == NULL)
			continue;
		any = true;
		if (strncmp(how, "SIG", 3) == 0) {
			fprintf(c->out, "  stopped process %ld (%s)\n", st.procs[i].pid, how);
			c->removed++;
		} else {
			fprintf(c->out, "  process %ld: %s\n", st.procs[i].pid, how);
			bad = true;
		}
	}
	for (size_t i = 0; i < st.nnetns; i++) {
		char *const argv[] = {"ip", "netns", "del", st.netns[i], NULL};
		if (!netns_exists(st.netns[i]))
			continue;
		any = true;
		if (lab_cmd(NULL, argv, NULL, 0, err, sizeof err) == 0) {
			fprintf(c->out, "  removed namespace %s\n", st.netns[i]);
			c->removed++;
		} else {
			fprintf(c->out, "  namespace %s: %s\n", st.netns[i], err);
			bad = true;
		}
	}
	if (tmpdir_ours(&st)) {
		any = true;
		lab_rmtree(st.tmpdir);
		if (access(st.tmpdir, F_OK) == 0) {
			fprintf(c->out, "  temp dir %s: could not remove it all\n", st.tmpdir);
			bad = true;
		} else {
			fprintf(c->out, "  removed temp dir %s\n", st.tmpdir);
			c->removed++;
		}
	}
	if (!any)
		fprintf(c->out, "  nothing was left\n");
	if (bad) {
		fprintf(c->out, "  state file kept: %s\n", path);
		c->failed++;
	} else {
		unlink(path);
	}
	lab_state_free(&st);
	return 0;
}

int
lab_cleanup(FILE *out, char *err, size_t errlen)
{
	struct cleanup c = {out, 0, 0, 0};

	err[0] = '\0';
	if (geteuid() != 0) {
		snprintf(err, errlen, "lab --cleanup needs root (network namespaces)");
		return LM_EXIT_USAGE;
	}
	if (each_state(clean_one, &c) == -1) {
		snprintf(err, errlen, "%s: %s", lab_state_dir(), strerror(errno));
		return LM_EXIT_USAGE;
	}
	if (c.removed == 0 && c.failed == 0)
		fprintf(out, "lab --cleanup: nothing to clean up in %s%s\n", lab_state_dir(),
		        c.running ? " (labs still running are left alone)" : "");
	fflush(out);
	if (c.failed > 0) {
		snprintf(err, errlen, "%zu lab%s could not be cleaned up entirely", c.failed,
		         c.failed == 1 ? "" : "s");
		return LM_EXIT_FAIL;
	}
	return LM_EXIT_OK;
}
