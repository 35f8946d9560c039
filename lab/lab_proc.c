/* Child processes of the lab: commands run to completion and long-lived children, in a namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/lm.h"
#include "lab/lab_int.h"

#define LAB_CMD_TIMEOUT_MS 15000 /* an ip or nft command never takes this long */

static int
ns_open(const char *ns, char *err, size_t errlen)
{
	char path[256];
	int fd;

	snprintf(path, sizeof path, "/run/netns/%s", ns);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		snprintf(err, errlen, "namespace %s: %s", ns, strerror(errno));
	return fd;
}

/* In the child, between fork and exec: the default signal state back (the
 * lab's handlers and its ignored SIGPIPE must not leak into children). */
static void
child_signals(void)
{
	sigset_t none;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Moves fd onto target with close-on-exec cleared. */
static int
child_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) == -1 ? -1 : 0;
}

/* The child reports a failure before exec through the close-on-exec pipe. */
static void child_fail(int statusfd, const char *what) __attribute__((noreturn));

static void
child_fail(int statusfd, const char *what)
{
	char msg[256];
	int e = errno;
	size_t n = (size_t)snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
	if (n >= sizeof msg)
		n = sizeof msg - 1;
	if (write(statusfd, msg, n) == -1) {
		/* nothing more to say */
	}
	_exit(127);
}

/* What exec would do to descriptors: closes those marked close-on-exec
 * (the lab's own files, pipes and other children's ends) but keep. */
static void
child_close_cloexec(int keep)
{
	int fds[256];
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < sizeof fds / sizeof fds[0]) {
		int fd = atoi(de->d_name);
		int fl;
		if (de->d_name[0] == '.' || fd <= 2 || fd == keep || fd == dirfd(d))
			continue;
		if ((fl = fcntl(fd, F_GETFD)) != -1 && (fl & FD_CLOEXEC))
			fds[n++] = fd;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	if (n == sizeof fds / sizeof fds[0])
		child_close_cloexec(keep); /* more than one batch */
}

/* The forked child runs the command itself: the parent's status pipe closes
 * when it starts, as it does on a successful exec. */
static void child_run_self(const struct lab_spawn *s, char *const argv[], int statusfd)
    __attribute__((noreturn));

static void
child_run_self(const struct lab_spawn *s, char *const argv[], int statusfd)
{
	int argc = 0, rc;

	while (argv[argc] != NULL)
		argc++;
	child_close_cloexec(statusfd);
	close(statusfd);
	rc = s->self_main(argc, (char **)argv);
	/* exit, as the exec'd command did: its atexit work (and, in sanitizer
	 * builds, the leak check) runs; the lab registers none of its own */
	exit(rc);
}

/* Reads the exec status pipe: empty means exec succeeded. */
static int
exec_status(int fd, char *err, size_t errlen)
{
	char msg[256];
	ssize_t n;

	do
		n = read(fd, msg, sizeof msg - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return 0;
	msg[n] = '\0';
	snprintf(err, errlen, "%s", msg);
	return -1;
}

static int
wait_pid(pid_t pid, int *status)
{
	pid_t r;

	do
		r = waitpid(pid, status, 0);
	while (r == -1 && errno == EINTR);
	return r == pid ? 0 : -1;
}

int
lab_cmd(const char *ns, char *const argv[], const char *input, size_t inlen, char *err,
        size_t errlen)
{
	int in[2] = {-1, -1}, ep[2] = {-1, -1}, st[2] = {-1, -1}, nsfd = -1, status = 0;
	char out[2048];
	size_t outlen = 0, sent = 0;
	double deadline = lm_now_ms() + LAB_CMD_TIMEOUT_MS;
	pid_t pid = -1;

	out[0] = '\0';
	if (ns != NULL && (nsfd = ns_open(ns, err, errlen)) == -1)
		return -1;
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1 ||
	    pipe2(st, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		child_signals();
		if (nsfd != -1 && setns(nsfd, CLONE_NEWNET) == -1)
			child_fail(st[1], "setns");
		if (child_fd(in[0], 0) == -1 || child_fd(ep[1], 2) == -1 ||
		    (devnull != -1 && child_fd(devnull, 1) == -1))
			child_fail(st[1], "dup2");
		execvp(argv[0], argv);
		child_fail(st[1], argv[0]);
	}
	close(in[0]);
	close(ep[1]);
	close(st[1]);
	in[0] = ep[1] = st[1] = -1;
	if (exec_status(st[0], err, errlen) == -1) {
		st[0] = -1;
		goto fail;
	}
	st[0] = -1;
	if (inlen == 0) {
		close(in[1]);
		in[1] = -1;
	}
	/* feed stdin and collect stderr together: neither side can block the other */
	while (ep[0] != -1) {
		struct pollfd pfd[2];
		int n = 0, left = (int)(deadline - lm_now_ms());
		ssize_t r;

		if (left <= 0) {
			snprintf(err, errlen, "%s did not finish in %d s", argv[0],
			         LAB_CMD_TIMEOUT_MS / 1000);
			kill(pid, SIGKILL);
			goto fail;
		}
		pfd[n++] = (struct pollfd){.fd = ep[0], .events = POLLIN};
		if (in[1] != -1)
			pfd[n++] = (struct pollfd){.fd = in[1], .events = POLLOUT};
		if (poll(pfd, (nfds_t)n, left) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			kill(pid, SIGKILL);
			goto fail;
		}
		if (n == 2 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			r = write(in[1], input + sent, inlen - sent);
			if (r > 0)
				sent += (size_t)r;
			if ((r == -1 && errno != EINTR && errno != EAGAIN) || sent == inlen) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char tmp[512];
			r = read(ep[0], tmp, sizeof tmp);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(ep[0]);
				ep[0] = -1;
				break;
			}
			/* keep the first part: it names the failing line */
			if (outlen < sizeof out - 1) {
				size_t take = (size_t)r;
				if (take > sizeof out - 1 - outlen)
					take = sizeof out - 1 - outlen;
				memcpy(out + outlen, tmp, take);
				outlen += take;
				out[outlen] = '\0';
			}
		}
	}
	if (in[1] != -1)
		close(in[1]);
	in[1] = -1;
	if (wait_pid(pid, &status) == -1) {
		snprintf(err, errlen, "waitpid: %s", strerror(errno));
		pid = -1;
		goto fail;
	}
	pid = -1;
	if (nsfd != -1)
		close(nsfd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (outlen > 0 && (out[outlen - 1] == '\n' || out[outlen - 1] == ' '))
		out[--outlen] = '\0';
	snprintf(err, errlen, "`%s%s%s` failed: %s", argv[0], argv[1] ? " " : "",
	         argv[1] ? argv[1] : "", outlen > 0 ? out : "no message");
	return -1;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] != -1)
			close(in[i]);
		if (ep[i] != -1)
			close(ep[i]);
		if (st[i] != -1)
			close(st[i]);
	}
	if (pid > 0)
		wait_pid(pid, &status);
	if (nsfd != -1)
		close(nsfd);
	return -1;
}

int
lab_ns_sysctl(const char *ns, const char *path, const char *value, char *err, size_t errlen)
{
	int nsfd, st[2], status;
	pid_t pid;

	if ((nsfd = ns_open(ns, err, errlen)) == -1)
		return -1;
	if (pipe2(st, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(nsfd);
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(st[0]);
		close(st[1]);
		close(nsfd);
		return -1;
	}
	if (pid == 0) {
		int fd;
		size_t len = strlen(value);
		child_signals();
		/* /proc/sys/net follows the writer's namespace */
		if (setns(nsfd, CLONE_NEWNET) == -1)
			child_fail(st[1], "setns");
		if ((fd = open(path, O_WRONLY)) == -1)
			child_fail(st[1], path);
		if (write(fd, value, len) != (ssize_t)len)
			child_fail(st[1], path);
		_exit(0);
	}
	close(st[1]);
	close(nsfd);
	if (exec_status(st[0], err, errlen) == -1) {
		wait_pid(pid, &status);
		return -1;
	}
	if (wait_pid(pid, &status) == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "%s in %s: could not write", path, ns);
		return -1;
	}
	return 0;
}

pid_t
lab_spawn(const struct lab_spawn *s, char *const argv[], char *err, size_t errlen)
{
	int st[2], nsfd = -1;
	pid_t pid, parent = getpid();

	if (s->ns != NULL && (nsfd = ns_open(s->ns, err, errlen)) == -1)
		return -1;
	if (pipe2(st, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		if (nsfd != -1)
			close(nsfd);
		return -1;
	}
	fflush(NULL); /* a forked child must not write the lab's buffered output again */
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(st[0]);
		close(st[1]);
		if (nsfd != -1)
			close(nsfd);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		child_signals();
		/* its own group: a terminal's Ctrl-C reaches the lab, which stops children in order
		 */
		setpgid(0, 0);
		if (s->die_with_parent) {
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
				child_fail(st[1], "prctl");
			if (getppid() != parent)
				_exit(1);
		}
		if (nsfd != -1 && setns(nsfd, CLONE_NEWNET) == -1)
			child_fail(st[1], "setns");
		/* below the listeners: the servers' CPU is never the clients' queue */
		if (s->nice != 0 && setpriority(PRIO_PROCESS, 0, s->nice) == -1)
			child_fail(st[1], "setpriority");
		if (devnull == -1 || child_fd(devnull, 0) == -1 ||
		    child_fd(s->out_fd != -1 ? s->out_fd : devnull, 1) == -1 ||
		    child_fd(s->err_fd != -1 ? s->err_fd : devnull, 2) == -1 ||
		    (s->fd3 != -1 && child_fd(s->fd3, 3) == -1))
			child_fail(st[1], "dup2");
		if (s->self_main != NULL)
			child_run_self(s, argv, st[1]);
		execv(s->path != NULL ? s->path : argv[0], argv);
		child_fail(st[1], s->path != NULL ? s->path : argv[0]);
	}
	/* also from the parent: no window where a signal to the group misses it */
	setpgid(pid, pid);
	close(st[1]);
	if (nsfd != -1)
		close(nsfd);
	if (exec_status(st[0], err, errlen) == -1) {
		int status;
		wait_pid(pid, &status);
		return -1;
	}
	return pid;
}
