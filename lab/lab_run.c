/* lab_run(): topology, firewall, PKI, listeners, probes, faults, the merged run and one teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certs/certs.h"
#include "firewall/firewall.h"
#include "lab/lab.h"
#include "lab/lab_int.h"
#include "probes/probes.h"
#include "scenarios/scenario.h"

#define LAB_READY_MS 20000       /* every listener binds in well under this */
#define LAB_PROBE_SLACK_MS 30000 /* beyond the probe timeout, before probes are stopped */
/* Probe processes running at once, per CPU: enough that the ones waiting out a
 * dropped path's timeout leave work for the CPU, few enough that each gets a
 * fair share of the handshake budget and no connection waits long. */
#define LAB_PROBES_PER_CPU 8
/* Of those, at most 1 in LAB_WAITERS_DIV may be processes that wait out a
 * timeout (a path the scenario expects dropped): started first, but never
 * holding every slot while the CPU idles. */
#define LAB_WAITERS_DIV 2
/* Probe processes run at this nice value: the listeners (one event loop per
 * host, serving every source) get the CPU first. */
#define LAB_PROBE_NICE 10
#define LAB_KILL_MS 3000 /* SIGTERM to SIGKILL */

/* ---- signals: one self-pipe wakes the loops, a flag says stop -------------- */
static volatile sig_atomic_t lab_stop;
static int lab_sigpipe[2] = {-1, -1};

static void
lab_signal(int sig)
{
	int saved = errno;

	if (sig != SIGCHLD)
		lab_stop = sig;
	if (lab_sigpipe[1] != -1 && write(lab_sigpipe[1], "", 1) == -1) {
		/* full pipe: a wake-up is already pending */
	}
	errno = saved;
}

static void
drain_sigpipe(void)
{
	char buf[64];

	while (read(lab_sigpipe[0], buf, sizeof buf) > 0)
		;
}

/* ---- the lab's resources: everything teardown must undo is here ----------- */
enum lab_child_kind { LAB_LISTENER, LAB_PROBE };

struct lab_child {
	enum lab_child_kind kind;
	pid_t pid;
	const struct scenario_host *host;
	char label[128];
	char outpath[PATH_MAX]; /* its stdout + stderr */
	char json[PATH_MAX];    /* probes: the report it writes */
	int ready_fd;           /* listeners: read end of the ready pipe, -1 once read */
	char ready[256];
	size_t readylen;
	bool is_ready;
	bool exited;
	int status;
	double t_started; /* lm_now_ms() at spawn */
	bool waits;       /* probes: some of its paths wait out a timeout */
};

struct lab {
	const struct lab_opts *o;
	char exe[PATH_MAX]; /* this binary, for listen and probe */
	FILE *log;
	struct scenario *sc;
	char prefix[32];
	struct lab_net net;
	char tmpdir[256];       /* empty until made */
	struct lab_state state; /* what the next lab finds if this one is killed */
	bool state_on, state_dirty, state_warned;
	char pki[PATH_MAX];
	char pki_other[PATH_MAX]; /* wrong-ca: a second, unrelated CA */
	char slots[PATH_MAX];     /* the probes' shared TLS handshake budget */
	unsigned tls_budget;
	struct lab_child *kids;
	size_t nkids;
	struct probe_run *run;
	struct lab_userfw ufw;   /* the loaded rule set and where its rules are */
	struct lab_trace *trace; /* NULL unless --firewall or --sweep */
	struct lab_iface ifaces[LAB_MAX_IFACES];
	size_t nifaces;
	struct sigaction old_int, old_term, old_hup, old_chld, old_pipe;
	bool signals_set;
	double t0;
};

static void lab_note(struct lab *lab, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
lab_note(struct lab *lab, const char *fmt, ...)
{
	va_list ap;

	if (lab->log == NULL)
		return;
	fprintf(lab->log, "lab: [%5.0f ms] ", lm_now_ms() - lab->t0);
	va_start(ap, fmt);
	vfprintf(lab->log, fmt, ap);
	va_end(ap);
	fputc('\n', lab->log);
	fflush(lab->log);
}

static int
signals_install(struct lab *lab, char *err, size_t errlen)
{
	struct sigaction sa;

	if (pipe2(lab_sigpipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	lab_stop = 0;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = lab_signal; /* no SA_RESTART: poll and waitpid see EINTR */
	sigaction(SIGINT, &sa, &lab->old_int);
	sigaction(SIGTERM, &sa, &lab->old_term);
	sigaction(SIGHUP, &sa, &lab->old_hup); /* a closed terminal still tears down */
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, &lab->old_chld);
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN; /* a dead nft must not kill us while we feed it */
	sigaction(SIGPIPE, &sa, &lab->old_pipe);
	lab->signals_set = true;
	return 0;
}

static void
signals_restore(struct lab *lab)
{
	if (lab->signals_set) {
		sigaction(SIGINT, &lab->old_int, NULL);
		sigaction(SIGTERM, &lab->old_term, NULL);
		sigaction(SIGHUP, &lab->old_hup, NULL);
		sigaction(SIGCHLD, &lab->old_chld, NULL);
		sigaction(SIGPIPE, &lab->old_pipe, NULL);
		lab->signals_set = false;
	}
	for (int i = 0; i < 2; i++) {
		if (lab_sigpipe[i] != -1)
			close(lab_sigpipe[i]);
		lab_sigpipe[i] = -1;
	}
}

/* Collects every child that has exited, without blocking. */
static void
reap(struct lab *lab)
{
	for (size_t i = 0; i < lab->nkids; i++) {
		struct lab_child *k = &lab->kids[i];
		int st;
		if (k->exited || k->pid <= 0)
			continue;
		if (waitpid(k->pid, &st, WNOHANG) == k->pid) {
			k->exited = true;
			k->status = st;
		}
	}
}

/* Sleeps until a signal or readable fd, at most until deadline (ms clock). */
static void
wait_event(struct lab *lab, double deadline)
{
	struct pollfd *pfd;
	nfds_t n = 0;
	int left = (int)(deadline - lm_now_ms());

	if (left <= 0)
		return;
	if ((pfd = calloc(lab->nkids + 1, sizeof *pfd)) == NULL) {
		/* no memory for the set: wait on signals alone, briefly */
		struct pollfd one = {.fd = lab_sigpipe[0], .events = POLLIN};
		if (poll(&one, 1, left < 100 ? left : 100) > 0)
			drain_sigpipe();
		return;
	}
	pfd[n++] = (struct pollfd){.fd = lab_sigpipe[0], .events = POLLIN};
	for (size_t i = 0; i < lab->nkids; i++)
		if (lab->kids[i].ready_fd != -1)
			pfd[n++] = (struct pollfd){.fd = lab->kids[i].ready_fd, .events = POLLIN};
	if (poll(pfd, n, left) > 0 && (pfd[0].revents & POLLIN))
		drain_sigpipe();
	free(pfd);
}

/* Stops children: SIGTERM, a bounded wait, then SIGKILL. only: a kind, or -1 for all. */
static void
stop_children(struct lab *lab, int only)
{
	double deadline = lm_now_ms() + LAB_KILL_MS;
	size_t alive;

	for (size_t i = 0; i < lab->nkids; i++) {
		struct lab_child *k = &lab->kids[i];
		if (only != -1 && (int)k->kind != only)
			continue;
		/* a ready pipe at EOF would keep poll() awake */
		if (k->ready_fd != -1) {
			close(k->ready_fd);
			k->ready_fd = -1;
		}
		if (k->pid > 0 && !k->exited)
			kill(k->pid, SIGTERM);
	}
	for (;;) {
		reap(lab);
		alive = 0;
		for (size_t i = 0; i < lab->nkids; i++) {
			struct lab_child *k = &lab->kids[i];
			if (k->pid > 0 && !k->exited && (only == -1 || (int)k->kind == only))
				alive++;
		}
		if (alive == 0 || lm_now_ms() >= deadline)
			break;
		wait_event(lab, deadline);
	}
	for (size_t i = 0; i < lab->nkids; i++) {
		struct lab_child *k = &lab->kids[i];
		if (k->pid <= 0 || k->exited || (only != -1 && (int)k->kind != only))
			continue;
		kill(k->pid, SIGKILL);
		while (waitpid(k->pid, &k->status, 0) == -1 && errno == EINTR)
			;
		k->exited = true;
	}
}

/* Waits (bounded) for one child that is on its way out. */
static void
wait_child(struct lab *lab, struct lab_child *k, unsigned ms)
{
	double deadline = lm_now_ms() + ms;

	for (reap(lab); !k->exited && lm_now_ms() < deadline; reap(lab))
		wait_event(lab, deadline);
}

/* Writes the state file when something was added since; a failure is said once. */
static void
state_sync(struct lab *lab)
{
	char err[PATH_MAX + 256];

	if (!lab->state_on || !lab->state_dirty)
		return;
	lab->state_dirty = false;
	if (lab_state_save(&lab->state, err, sizeof err) == -1 && !lab->state_warned) {
		lab->state_warned = true;
		lab_note(lab, "warning: state file not updated: %s", err);
	}
}

/* The one teardown, reached from every path. */
static void
lab_teardown(struct lab *lab)
{
	FILE *l = lab->log ? lab->log : stderr;
	bool keep = lab->o->keep;

	if (lab->tmpdir[0] == '\0')
		goto release; /* failed before making anything */
	/* machine-readable: what this run made, so callers can check it is gone */
	fprintf(l, "lab: resources prefix=%s netns=", lab->prefix);
	if (lab->net.fw_created)
		fprintf(l, "%s", lab->net.fw_ns);
	for (size_t i = 0; i < lab->net.nhosts; i++)
		if (lab->net.hosts[i].created)
			fprintf(l, ",%s", lab->net.hosts[i].ns);
	fprintf(l, " pids=");
	for (size_t i = 0, n = 0; i < lab->nkids; i++)
		if (lab->kids[i].pid > 0)
			fprintf(l, "%s%ld", n++ ? "," : "", (long)lab->kids[i].pid);
	fprintf(l, " tmpdir=%s kept=%s\n", lab->tmpdir[0] ? lab->tmpdir : "-", keep ? "yes" : "no");

	lab_trace_free(lab->trace); /* the monitor is ours, not the user's */
	lab->trace = NULL;
	if (keep && lab->net.fw_created) {
		stop_children(lab, LAB_PROBE);
		fprintf(l, "lab: --keep: the lab stays up. Enter a namespace with:\n");
		fprintf(l, "  ip netns exec %s nft list ruleset    # the firewall\n",
		        lab->net.fw_ns);
		for (size_t i = 0; i < lab->net.nhosts; i++)
			fprintf(l, "  ip netns exec %s bash    # %s %s\n", lab->net.hosts[i].ns,
			        lab->net.hosts[i].host->name, lab->net.hosts[i].host->address);
		fprintf(l, "lab: listeners:");
		for (size_t i = 0; i < lab->nkids; i++)
			if (lab->kids[i].kind == LAB_LISTENER && !lab->kids[i].exited)
				fprintf(l, " %ld (%s)", (long)lab->kids[i].pid,
				        lab->kids[i].host->name);
		fprintf(l, "\nlab: tear down with: kill");
		for (size_t i = 0; i < lab->nkids; i++)
			if (lab->kids[i].kind == LAB_LISTENER && !lab->kids[i].exited)
				fprintf(l, " %ld", (long)lab->kids[i].pid);
		fprintf(l, "; for n in %s", lab->net.fw_ns);
		for (size_t i = 0; i < lab->net.nhosts; i++)
			fprintf(l, " %s", lab->net.hosts[i].ns);
		fprintf(l, "; do ip netns del $n; done; rm -rf %s\n", lab->tmpdir);
		fprintf(l, "lab: or remove it all with: lyncmock lab --cleanup\n");
		/* what is kept is the user's now: forget it without undoing it, but keep
		 * its record (the listeners still running) for lab --cleanup */
		lab->state.kept = true;
		lab->state.nprocs = 0;
		for (size_t i = 0; i < lab->nkids; i++)
			if (!lab->kids[i].exited && lab->kids[i].pid > 0)
				(void)lab_state_add_proc(&lab->state, lab->kids[i].pid);
		lab->state_dirty = true;
		state_sync(lab);
		free(lab->net.hosts);
		memset(&lab->net, 0, sizeof lab->net);
	} else {
		/* the record follows the teardown: a kill now leaves it true */
		stop_children(lab, -1);
		lab->state.nprocs = 0;
		lab->state_dirty = true;
		state_sync(lab);
		lab_net_down(&lab->net);
		lab->state.nnetns = 0;
		lab->state_dirty = true;
		state_sync(lab);
		if (lab->tmpdir[0] != '\0')
			lab_rmtree(lab->tmpdir);
	}
release:
	if (lab->state_on && !lab->state.kept)
		unlink(lab->state.file);
	lab->state_on = false;
	lab_state_free(&lab->state);
	for (size_t i = 0; i < lab->nkids; i++)
		if (lab->kids[i].ready_fd != -1)
			close(lab->kids[i].ready_fd);
	free(lab->kids);
	lab->kids = NULL;
	lab->nkids = 0;
	probe_run_free(lab->run);
	lab->run = NULL;
	lab_userfw_free(&lab->ufw);
	scenario_free(lab->sc);
	lab->sc = NULL;
	signals_restore(lab);
}

/* ---- children ---------------------------------------------------------- */
struct argv_vec {
	char *v[128];
	size_t n;
	bool oom;
};

static void
arg(struct argv_vec *a, const char *s)
{
	if (a->n + 1 >= sizeof a->v / sizeof a->v[0] || (a->v[a->n] = strdup(s)) == NULL) {
		a->oom = true;
		return;
	}
	a->v[++a->n] = NULL;
}

static void
argv_free(struct argv_vec *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

static struct lab_child *
child_add(struct lab *lab, enum lab_child_kind kind, const struct scenario_host *h)
{
	struct lab_child *nk = realloc(lab->kids, (lab->nkids + 1) * sizeof *nk), *k;

	if (nk == NULL)
		return NULL;
	lab->kids = nk;
	k = &lab->kids[lab->nkids++];
	memset(k, 0, sizeof *k);
	k->kind = kind;
	k->host = h;
	k->ready_fd = -1;
	return k;
}

/* The last lines a child wrote, for an error message. */
static void
child_tail(const struct lab_child *k, char *buf, size_t len)
{
	char tmp[1024];
	int fd = open(k->outpath, O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;
	off_t end;

	buf[0] = '\0';
	if (fd == -1)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > (off_t)sizeof tmp - 1)
		lseek(fd, end - (off_t)(sizeof tmp - 1), SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, tmp, sizeof tmp - 1);
	close(fd);
	if (n <= 0)
		return;
	tmp[n] = '\0';
	while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == ' '))
		tmp[--n] = '\0';
	snprintf(buf, len, "%s", tmp);
}

static void
describe_exit(const struct lab_child *k, char *buf, size_t len)
{
	if (!k->exited)
		snprintf(buf, len, "still running");
	else if (WIFEXITED(k->status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(k->status));
	else if (WIFSIGNALED(k->status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(k->status));
	else
		snprintf(buf, len, "stopped");
}

static int
spawn(struct lab *lab, struct lab_child *k, const char *ns, struct argv_vec *a, int fd3,
      bool die_with_parent, char *err, size_t errlen)
{
	struct lab_spawn s;
	int out;

	if (a->oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	out = open(k->outpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (out == -1) {
		snprintf(err, errlen, "%s: %s", k->outpath, strerror(errno));
		return -1;
	}
	s.path = lab->exe;
	s.ns = ns;
	s.out_fd = out;
	s.err_fd = out;
	s.fd3 = fd3;
	s.die_with_parent = die_with_parent;
	s.nice = k->kind == LAB_PROBE ? LAB_PROBE_NICE : 0;
	s.self_main = lab->o->self_main;
	k->pid = lab_spawn(&s, a->v, err, errlen);
	close(out);
	if (k->pid > 0 && lab->state_on) {
		(void)lab_state_add_proc(&lab->state, k->pid);
		lab->state_dirty = true;
	}
	return k->pid > 0 ? 0 : -1;
}

/* Common head of listen/probe command lines. */
static void
common_args(struct lab *lab, struct argv_vec *a, const char *cmd, const struct scenario_host *h)
{
	arg(a, "lyncmock");
	arg(a, cmd);
	if (lab->o->scenario != NULL) {
		arg(a, "--scenario");
		arg(a, lab->o->scenario);
	}
	arg(a, "--host");
	arg(a, h->name);
	arg(a, "--certs");
	arg(a, lab->pki);
}

static int
start_listeners(struct lab *lab, char *err, size_t errlen)
{
	const struct scenario *sc = lab->sc;
	struct scenario_listen ls[64];
	char buf[PATH_MAX * 2 + 64];
	size_t nlisteners = 0;
	double deadline;

	for (size_t i = 0; i < sc->nhosts; i++) {
		const struct scenario_host *h = &sc->hosts[i];
		const struct lab_nshost *nh = lab_net_host(&lab->net, h);
		struct argv_vec a = {.n = 0};
		struct lab_child *k;
		int rp[2];

		if (scenario_listens_of(sc, h, ls, 64) == 0)
			continue;
		if ((k = child_add(lab, LAB_LISTENER, h)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		snprintf(k->label, sizeof k->label, "listen on %s", h->name);
		snprintf(k->outpath, sizeof k->outpath, "%s/listen-%s.out", lab->tmpdir, nh->ns);
		common_args(lab, &a, "listen", h);
		arg(&a, "--ready-fd");
		arg(&a, "3");
		if (lab->o->hold_ms > 0) {
			/* the listener must not be what closes a held connection */
			arg(&a, "--idle-timeout");
			arg(&a, lm_fmt(buf, sizeof buf, "%u", lab->o->hold_ms + 60000));
		}
		arg(&a, "--log");
		arg(&a, lm_fmt(buf, sizeof buf, "%s/listen-%s.log", lab->tmpdir, nh->ns));
		for (size_t f = 0; f < lab->o->nfaults; f++) {
			const struct lab_fault *lf = &lab->o->faults[f];
			const struct scenario_rule *r = lab_rule_find(sc, lf->rule_id);
			struct scenario_host bare = *h;
			struct certs_paths p;
			if (!scenario_rule_has_dest(r, h))
				continue;
			switch (lab_fault_info(lf->kind)->inject) {
			case LAB_INJECT_PLAINTEXT:
				arg(&a, "--plaintext");
				arg(&a, lm_fmt(buf, sizeof buf, "%u", (unsigned)r->port));
				break;
			case LAB_INJECT_OTHER_CA:
				bare.cert = bare.key = NULL;
				certs_paths_for_host(&p, lab->pki_other, &bare, NULL, NULL, NULL);
				arg(&a, "--port-cert");
				arg(&a, lm_fmt(buf, sizeof buf, "%u,%s,%s", (unsigned)r->port,
				               p.cert, p.key));
				break;
			default:
				break; /* not the listener's doing */
			}
		}
		if (pipe2(rp, O_CLOEXEC) == -1) {
			snprintf(err, errlen, "pipe: %s", strerror(errno));
			argv_free(&a);
			return -1;
		}
		k->ready_fd = rp[0];
		/* never block on one listener while another is late or dead */
		if (fcntl(rp[0], F_SETFL, O_NONBLOCK) == -1) {
			snprintf(err, errlen, "fcntl: %s", strerror(errno));
			close(rp[1]);
			argv_free(&a);
			return -1;
		}
		/* with --keep the listeners outlive the lab on purpose */
		if (spawn(lab, k, nh->ns, &a, rp[1], !lab->o->keep, err, errlen) == -1) {
			close(rp[1]);
			argv_free(&a);
			return -1;
		}
		close(rp[1]);
		argv_free(&a);
		nlisteners++;
	}

	state_sync(lab);
	/* ready lines, bounded: no sleeping and hoping */
	deadline = lm_now_ms() + LAB_READY_MS;
	for (;;) {
		size_t waiting = 0;
		for (size_t i = 0; i < lab->nkids; i++) {
			struct lab_child *k = &lab->kids[i];
			ssize_t n;
			if (k->kind != LAB_LISTENER || k->ready_fd == -1)
				continue;
			n = read(k->ready_fd, k->ready + k->readylen,
			         sizeof k->ready - 1 - k->readylen);
			if (n > 0) {
				k->readylen += (size_t)n;
				k->ready[k->readylen] = '\0';
				if (strchr(k->ready, '\n') != NULL ||
				    k->readylen == sizeof k->ready - 1) {
					if (strncmp(k->ready, "ready", 5) != 0) {
						snprintf(err, errlen,
						         "%s: unexpected ready line: %s", k->label,
						         k->ready);
						return -1;
					}
					k->is_ready = true;
					close(k->ready_fd);
					k->ready_fd = -1;
					continue;
				}
			} else if (n == 0) {
				char tail[1024], how[64];
				close(k->ready_fd);
				k->ready_fd = -1;
				wait_child(lab, k, LAB_KILL_MS);
				describe_exit(k, how, sizeof how);
				child_tail(k, tail, sizeof tail);
				snprintf(err, errlen, "%s stopped before it was ready (%s): %s",
				         k->label, how, tail[0] ? tail : "no output");
				return -1;
			}
			waiting++;
		}
		if (waiting == 0)
			break;
		if (lab_stop) {
			snprintf(err, errlen, "stopped while starting listeners");
			return -1;
		}
		if (lm_now_ms() >= deadline) {
			snprintf(err, errlen, "listeners not ready after %d s",
			         LAB_READY_MS / 1000);
			return -1;
		}
		wait_event(lab, deadline);
	}
	lab_note(lab, "%zu listeners ready", nlisteners);
	return 0;
}

static bool
rule_is_ncc(const struct lab *lab, const struct scenario_rule *r)
{
	for (size_t f = 0; f < lab->o->nfaults; f++)
		if (lab_fault_info(lab->o->faults[f].kind)->inject == LAB_INJECT_NO_CLIENT_CERT &&
		    strcmp(lab->o->faults[f].rule_id, r->id) == 0)
			return true;
	return false;
}

static int
start_probe(struct lab *lab, const struct scenario_host *h, const struct scenario_rule *only,
            bool waits, char *err, size_t errlen)
{
	const struct lab_nshost *nh = lab_net_host(&lab->net, h);
	struct argv_vec a = {.n = 0};
	struct lab_child *k;
	char buf[64];
	int rc;

	if ((k = child_add(lab, LAB_PROBE, h)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	k->waits = waits;
	snprintf(k->label, sizeof k->label, "probe from %s%s%s", h->name,
	         only ? " without client certificate for " : "", only ? only->id : "");
	snprintf(k->outpath, sizeof k->outpath, "%s/probe-%s-%zu.out", lab->tmpdir, nh->ns,
	         lab->nkids);
	snprintf(k->json, sizeof k->json, "%s/probe-%s-%zu.json", lab->tmpdir, nh->ns, lab->nkids);
	common_args(lab, &a, "probe", h);
	arg(&a, "--format");
	arg(&a, "json");
	arg(&a, "--output");
	arg(&a, k->json);
	arg(&a, "--timeout");
	arg(&a, lm_fmt(buf, sizeof buf, "%g", lab->o->timeout_ms / 1000.0));
	if (lab->o->hold_ms > 0) {
		arg(&a, "--hold");
		arg(&a, lm_fmt(buf, sizeof buf, "%g", lab->o->hold_ms / 1000.0));
	}
	if (lab->slots[0] != '\0') {
		arg(&a, "--tls-slots");
		arg(&a, lab->slots);
		arg(&a, "--tls-parallel");
		arg(&a, lm_fmt(buf, sizeof buf, "%u", lab->tls_budget));
	}
	if (only != NULL) {
		arg(&a, "--rule");
		arg(&a, only->id);
		arg(&a, "--no-client-cert");
	} else {
		for (size_t i = 0; i < lab->sc->nrules; i++) {
			const struct scenario_rule *r = &lab->sc->rules[i];
			if (rule_is_ncc(lab, r) && scenario_rule_has_source(r, h)) {
				arg(&a, "--skip-rule");
				arg(&a, r->id);
			}
		}
	}
	rc = spawn(lab, k, nh->ns, &a, -1, true, err, errlen);
	k->t_started = lm_now_ms();
	argv_free(&a);
	return rc;
}

/* One probe process to run: a source host, alone or for one rule. */
struct lab_probe_job {
	const struct scenario_host *host;
	const struct scenario_rule *only;
};

/* The rule's paths are dropped, so each costs its probe a timeout: expected
 * blocked, or broken with --break RULE=drop. */
static bool
rule_waits(const struct lab *lab, const struct scenario_rule *r)
{
	if (r->expect_blocked)
		return true;
	for (size_t f = 0; f < lab->o->nfaults; f++)
		if (lab_fault_info(lab->o->faults[f].kind)->outcome == LM_OUT_FILTERED &&
		    strcmp(lab->o->faults[f].rule_id, r->id) == 0)
			return true;
	return false;
}

size_t
lab_probe_pick(const bool *waits, const bool *started, size_t njobs, size_t waiting, size_t cap)
{
	size_t first_wait = njobs, first_other = njobs;

	for (size_t i = 0; i < njobs && (first_wait == njobs || first_other == njobs); i++) {
		if (started[i])
			continue;
		if (waits[i] && first_wait == njobs)
			first_wait = i;
		else if (!waits[i] && first_other == njobs)
			first_other = i;
	}
	if (first_wait < njobs && (waiting < cap || first_other == njobs))
		return first_wait;
	return first_other;
}

/*
 * The probe processes, paced: at most LAB_PROBES_PER_CPU per CPU run at once,
 * sharing one budget of TLS handshakes in flight (a slot file every probe
 * takes from), so the lab's own CPU load never turns into a timeout. Those
 * that wait out timeouts start first, on at most 1 in LAB_WAITERS_DIV slots.
 */
static int
run_probes(struct lab *lab, char *err, size_t errlen)
{
	const struct scenario *sc = lab->sc;
	size_t maxjobs = sc->nhosts * 2 + sc->nrules + 1;
	struct lab_probe_job *jobs = calloc(maxjobs, sizeof *jobs);
	bool *waits = calloc(maxjobs, sizeof *waits), *started = calloc(maxjobs, sizeof *started);
	size_t njobs = 0, next = 0, running = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t maxrun = (size_t)(cpus < 1 ? 1 : cpus) * LAB_PROBES_PER_CPU;
	size_t maxwait = maxrun / LAB_WAITERS_DIV > 0 ? maxrun / LAB_WAITERS_DIV : 1;
	/* a process's own bound: a retried timeout, and its share of the queue */
	double budget = 2.0 * lab->o->timeout_ms + lab->o->hold_ms + LAB_PROBE_SLACK_MS;
	int rc = -1;

	if (jobs == NULL || waits == NULL || started == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sc->nhosts; i++) {
		const struct scenario_host *h = &sc->hosts[i];
		size_t main_rules = 0;
		bool main_waits = false;

		for (size_t j = 0; j < sc->nrules; j++) {
			const struct scenario_rule *r = &sc->rules[j];
			if (!scenario_rule_has_source(r, h))
				continue;
			if (!rule_is_ncc(lab, r)) {
				main_rules++;
				main_waits = main_waits || rule_waits(lab, r);
				continue;
			}
			/* the broken rule runs from a process of its own, without a client cert */
			waits[njobs] = rule_waits(lab, r);
			jobs[njobs++] = (struct lab_probe_job){h, r};
		}
		if (main_rules > 0) {
			waits[njobs] = main_waits;
			jobs[njobs++] = (struct lab_probe_job){h, NULL};
		}
	}
	lab->tls_budget = (unsigned)(cpus < 1 ? 1 : cpus) * PROBE_TLS_PER_CPU;
	snprintf(lab->slots, sizeof lab->slots, "%s/tls-slots", lab->tmpdir);
	if (probe_slots_create(lab->slots, lab->tls_budget, err, errlen) == -1)
		goto out;

	for (;;) {
		double now, deadline;
		bool late = false;
		size_t waiting = 0;

		reap(lab);
		running = 0;
		now = lm_now_ms();
		deadline = now + 1000;
		for (size_t i = 0; i < lab->nkids; i++) {
			const struct lab_child *k = &lab->kids[i];
			if (k->kind != LAB_PROBE || k->exited)
				continue;
			running++;
			waiting += k->waits;
			if (now >= k->t_started + budget)
				late = true;
			else if (k->t_started + budget < deadline)
				deadline = k->t_started + budget;
		}
		if (lab_stop) {
			lab_note(lab, "interrupted: stopping %zu probe processes", running);
			stop_children(lab, LAB_PROBE);
			break;
		}
		if (late) {
			lab_note(lab,
			         "a probe process still runs after %.0f ms: stopping the probes",
			         budget);
			stop_children(lab, LAB_PROBE);
			lab_stop = SIGALRM; /* report what finished, as partial */
			break;
		}
		while (running < maxrun && next < njobs) {
			size_t j = lab_probe_pick(waits, started, njobs, waiting, maxwait);

			if (start_probe(lab, jobs[j].host, jobs[j].only, waits[j], err, errlen) ==
			    -1)
				goto out;
			started[j] = true;
			waiting += waits[j];
			next++;
			running++;
			if (next == njobs || next == maxrun)
				lab_note(
				    lab,
				    "%zu of %zu probe processes started (at most %zu at once, %u "
				    "TLS handshakes in flight, timeout %g s per step)",
				    next, njobs, maxrun, lab->tls_budget,
				    lab->o->timeout_ms / 1000.0);
		}
		state_sync(lab);
		if (running == 0 && next == njobs)
			break;
		wait_event(lab, deadline);
	}
	lab_note(lab, "probes finished");
	rc = 0;
out:
	free(jobs);
	free(waits);
	free(started);
	return rc;
}

/* Merges every probe's JSON; a probe that failed as a program is an error. */
static int
merge_reports(struct lab *lab, char *err, size_t errlen)
{
	for (size_t i = 0; i < lab->nkids; i++) {
		struct lab_child *k = &lab->kids[i];
		char tail[1024], how[64];
		bool verdict_exit = k->exited && WIFEXITED(k->status) &&
		                    (WEXITSTATUS(k->status) == LM_EXIT_OK ||
		                     WEXITSTATUS(k->status) == LM_EXIT_FAIL);

		if (k->kind != LAB_PROBE)
			continue;
		if (access(k->json, R_OK) == 0 && (verdict_exit || lab_stop)) {
			if (report_read_json(k->json, lab->run, err, errlen) == -1)
				return -1;
			continue;
		}
		if (lab_stop)
			continue; /* interrupted before it wrote anything */
		describe_exit(k, how, sizeof how);
		child_tail(k, tail, sizeof tail);
		snprintf(err, errlen, "%s %s%s%s", k->label, how, tail[0] ? ": " : "", tail);
		return -1;
	}
	return 0;
}

static int
make_pki(struct lab *lab, char *err, size_t errlen)
{
	struct certs_init_opts co;
	char cerr[1024];
	bool other = lab_faults_use(lab->o->faults, lab->o->nfaults, LAB_INJECT_OTHER_CA);

	certs_init_opts_default(&co);
	co.key_type = lab->o->key_type;
	co.days = 30; /* a lab PKI lives minutes */
	if (lab->o->certs_dir != NULL) {
		snprintf(lab->pki, sizeof lab->pki, "%s", lab->o->certs_dir);
	} else {
		double t = lm_now_ms();
		bool reused;
		if (lab_pki_cached(lab->sc, &co, lab->pki, sizeof lab->pki, &reused, cerr,
		                   sizeof cerr) == -1) {
			snprintf(err, errlen, "lab PKI: %s", cerr);
			return -1;
		}
		lab_note(lab, "PKI %s in %.0f ms", reused ? "reused (same hosts)" : "made",
		         lm_now_ms() - t);
	}
	if (other) {
		/* a second CA the probes do not trust, for the wrong-ca listener; its
		 * key type is irrelevant to the outcome, so the fast one */
		co.key_type = CERTS_KEY_ECDSA_P256;
		snprintf(lab->pki_other, sizeof lab->pki_other, "%s/pki-other-ca", lab->tmpdir);
		if (certs_init(lab->sc, lab->pki_other, &co, cerr, sizeof cerr) == -1) {
			snprintf(err, errlen, "second PKI (wrong-ca): %s", cerr);
			return -1;
		}
	}
	lab_note(lab, "PKI ready in %s%s", lab->pki,
	         other ? " (and a second CA for wrong-ca)" : "");
	return 0;
}

static int
load_firewall(struct lab *lab, char *err, size_t errlen)
{
	struct firewall_fault_spec fs[LAB_MAX_FAULTS];
	struct firewall_opts fo;
	char *text = NULL, path[PATH_MAX + 16];
	size_t len = 0, n = 0;
	int rc;

	for (size_t i = 0; i < lab->o->nfaults; i++) {
		const struct lab_fault *f = &lab->o->faults[i];
		const struct lab_fault_info *fi = lab_fault_info(f->kind);
		if (fi->inject == LAB_INJECT_FIREWALL)
			fs[n++] = (struct firewall_fault_spec){f->rule_id, fi->firewall};
	}
	memset(&fo, 0, sizeof fo);
	fo.faults = fs;
	fo.nfaults = n;
	if (firewall_nft(lab->sc, &fo, &text, &len, err, errlen) == -1)
		return -1;
	/* kept beside the run for --keep and for debugging a failed load */
	snprintf(path, sizeof path, "%s/firewall.nft", lab->tmpdir);
	if (lm_write_file_atomic(path, text, len, 0600) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(text);
		return -1;
	}
	rc = lab_net_nft(&lab->net, text, len, err, errlen);
	/* where each generated rule is, for --sweep's "allowed by" */
	if (rc == 0 && lab_userfw_map_text(&lab->ufw, "firewall.nft", text, len) == -1) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	free(text);
	if (rc == 0)
		lab_note(lab, "firewall rules loaded in %s (%zu fault%s)", lab->net.fw_ns, n,
		         n == 1 ? "" : "s");
	return rc;
}

/* --firewall FILE: the user's rules instead of the generated ones. */
static int
load_user_firewall(struct lab *lab, char *err, size_t errlen)
{
	char *nft = NULL;
	size_t nftlen = 0;
	int rc;

	if (lab_userfw_read(&lab->ufw, lab->o->firewall, lab->sc, &nft, &nftlen, err, errlen) == -1)
		return -1;
	rc = lab_userfw_load(&lab->ufw, &lab->net, nft, nftlen, err, errlen);
	if (rc == 0 && nft != NULL) {
		char path[PATH_MAX + 16];
		snprintf(path, sizeof path, "%s/firewall.nft", lab->tmpdir);
		(void)lm_write_file_atomic(path, nft, nftlen, 0600);
	}
	free(nft);
	if (rc == 0)
		lab_note(lab, "firewall: %s (%s, %zu rules) loaded in %s", lab->o->firewall,
		         lab_userfw_kind_name(lab->ufw.kind), lab->ufw.nrules, lab->net.fw_ns);
	return rc;
}

/* Checks --firewall before anything is made: the file reads, its interfaces map. */
static int
user_firewall_check(struct lab *lab, char *err, size_t errlen)
{
	struct lab_userfw u;
	char *nft = NULL;
	size_t nftlen = 0;
	int rc;

	for (size_t i = 0; i < lab->o->nfaults; i++) {
		enum lab_fault_kind k = lab->o->faults[i].kind;
		if (lab_fault_info(k)->inject == LAB_INJECT_FIREWALL) {
			snprintf(
			    err, errlen,
			    "--break %s=%s changes the generated firewall; with --firewall the "
			    "rules are yours",
			    lab->o->faults[i].rule_id, lab_fault_name(k));
			return -1;
		}
	}
	if (lab_userfw_read(&u, lab->o->firewall, lab->sc, &nft, &nftlen, err, errlen) == -1)
		return -1;
	free(nft);
	rc = lab_ifaces_resolve(lab->sc, &u, lab->o->ifaces, lab->o->nifaces, lab->ifaces,
	                        &lab->nifaces, lab->log, err, errlen);
	lab_userfw_free(&u);
	return rc;
}

/* The state file, before anything is made: the namespaces and the temp dir
 * this run will make are named in it, so a kill at any point leaves a record. */
static int
record_start(struct lab *lab, char *err, size_t errlen)
{
	size_t n = lab->sc->nhosts + 1;
	char(*names)[64] = calloc(n, sizeof *names);
	int k;

	if (names == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (lab_state_init(&lab->state, lab->prefix, err, errlen) == -1) {
		free(names);
		return -1;
	}
	k = lab_net_names(lab->sc, lab->prefix, names, n);
	for (int i = 0; i < k; i++)
		if (lab_state_add_netns(&lab->state, names[i]) == -1) {
			snprintf(err, errlen, "namespace name %s: cannot record it", names[i]);
			free(names);
			return -1;
		}
	free(names);
	if (lab_state_save(&lab->state, err, errlen) == -1)
		return -1;
	lab->state_on = true;
	return 0;
}

int
lab_run(const struct lab_opts *o, struct probe_run **runp, char *err, size_t errlen)
{
	struct lab lab;
	struct lab_sweep *sweep = NULL;
	char lerr[4096];
	ssize_t n;
	int rc = LM_EXIT_USAGE;

	*runp = NULL;
	memset(&lab, 0, sizeof lab);
	lab.o = o;
	lab.log = o->log;
	lab.t0 = lm_now_ms();
	err[0] = '\0';
	lab_stop = 0;

	if (geteuid() != 0) {
		snprintf(err, errlen, "lab needs root (network namespaces)");
		return LM_EXIT_USAGE;
	}
	lab_leftovers_warn(lab.log);
	if ((lab.sc = scenario_load(o->scenario, lerr, sizeof lerr)) == NULL) {
		snprintf(err, errlen, "%s", lerr);
		return LM_EXIT_USAGE;
	}
	if (lab_faults_check(lab.sc, o->faults, o->nfaults, lab.log, err, errlen) == -1 ||
	    lab_net_check(lab.sc, err, errlen) == -1)
		goto out;
	if (o->firewall != NULL && user_firewall_check(&lab, err, errlen) == -1)
		goto out;
	for (size_t i = 0; i < o->nfaults; i++)
		if (lab_fault_info(o->faults[i].kind)->needs_hold && o->hold_ms == 0) {
			snprintf(err, errlen,
			         "--break %s=%s:%u shows only on held connections: add --hold "
			         "SECONDS (longer than %u)",
			         o->faults[i].rule_id, lab_fault_name(o->faults[i].kind),
			         o->faults[i].seconds, o->faults[i].seconds);
			goto out;
		}
	for (size_t i = 0; i < o->nfaults; i++)
		lab_note(&lab, "fault: %s on rule %s (expected outcome: %s)",
		         lab_fault_name(o->faults[i].kind), o->faults[i].rule_id,
		         lm_outcome_name(lab_fault_outcome(o->faults[i].kind)));
	if (signals_install(&lab, err, errlen) == -1)
		goto out;
	/* the real path names the children "lyncmock" in ps; /proc/self/exe if it is gone */
	n = readlink("/proc/self/exe", lab.exe, sizeof lab.exe - 1);
	if (n <= 0 || (size_t)n >= sizeof lab.exe - 1 || strstr(lab.exe, " (deleted)") != NULL)
		snprintf(lab.exe, sizeof lab.exe, "/proc/self/exe");
	else
		lab.exe[n] = '\0';
	snprintf(lab.prefix, sizeof lab.prefix, "lm%ld", (long)getpid());
	if (record_start(&lab, err, errlen) == -1)
		goto out;
	/* 0700 under the 0700 state dir: the lab's keys (wrong-ca) are nobody else's */
	if (strlen(lab.state.tmpdir) >= sizeof lab.tmpdir) {
		snprintf(err, errlen, "%s: path too long (LYNCMOCK_RUN_DIR)", lab.state.tmpdir);
		goto out;
	}
	if (mkdir(lab.state.tmpdir, 0700) == -1) {
		snprintf(err, errlen, "%s: %s", lab.state.tmpdir, strerror(errno));
		goto out;
	}
	memcpy(lab.tmpdir, lab.state.tmpdir, strlen(lab.state.tmpdir) + 1);
	if ((lab.run = probe_run_new(lab.sc->name, NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}

	if (make_pki(&lab, err, errlen) == -1 || lab_stop)
		goto out;
	if (lab_net_up(&lab.net, lab.sc, lab.prefix, err, errlen) == -1 || lab_stop)
		goto out;
	lab_note(&lab, "topology up: %s + %zu host namespaces", lab.net.fw_ns, lab.net.nhosts);
	if (lab_ifaces_apply(&lab.net, lab.ifaces, lab.nifaces, err, errlen) == -1)
		goto out;
	if ((o->firewall != NULL ? load_user_firewall(&lab, err, errlen)
	                         : load_firewall(&lab, err, errlen)) == -1)
		goto out;
	if (lab_faults_idle_load(&lab.net, lab.sc, o->faults, o->nfaults, o->hold_ms > 0, err,
	                         errlen) == -1)
		goto out;
	if ((o->firewall != NULL || o->sweep) &&
	    (lab.trace = lab_trace_start(&lab.net, &lab.ufw, lab.tmpdir, err, errlen)) == NULL)
		goto out;
	if (lab.trace != NULL && lab_state_add_proc(&lab.state, lab_trace_pid(lab.trace)) == 0) {
		lab.state_dirty = true;
		state_sync(&lab);
	}
	if (lab_stop || start_listeners(&lab, err, errlen) == -1)
		goto out;
	if (run_probes(&lab, err, errlen) == -1 || merge_reports(&lab, err, errlen) == -1)
		goto out;
	if (o->sweep && !lab_stop &&
	    (sweep = lab_sweep_run(&lab.net, lab.sc, lab.log, err, errlen)) == NULL)
		goto out;
	if (lab.trace != NULL) {
		if (lab_trace_stop(lab.trace, err, errlen) == -1)
			goto out;
		lab_trace_annotate(lab.trace, lab.run);
		if (sweep != NULL && lab_sweep_judge(sweep, lab.trace, lab.run, lab.log) == -1) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}

	lab.run->partial = lab_stop != 0;
	lab.run->duration_ms = lm_now_ms() - lab.t0;
	if (lab_stop) {
		snprintf(err, errlen, "%s: the report is partial",
		         lab_stop == SIGALRM ? "probes ran past their deadline" : "interrupted");
		rc = LM_EXIT_FAIL;
	} else
		rc = probe_run_failures(lab.run) == 0 && lab.run->n > 0 ? LM_EXIT_OK : LM_EXIT_FAIL;
	lab_note(&lab, "%zu results, %zu not OK", lab.run->n, probe_run_failures(lab.run));
	*runp = lab.run; /* the caller's to write */
	lab.run = NULL;
out:
	if (rc == LM_EXIT_USAGE && lab_stop) {
		/* a failure while stopping is the interruption's doing */
		snprintf(lerr, sizeof lerr, "%s", err);
		snprintf(err, errlen, "interrupted%s%s", lerr[0] ? ": " : "", lerr);
		rc = LM_EXIT_FAIL;
	}
	lab_sweep_free(sweep);
	lab_teardown(&lab);
	if (lab.log != NULL && lab.tmpdir[0] != '\0') {
		fprintf(lab.log, "lab: total %.0f ms\n", lm_now_ms() - lab.t0);
		fflush(lab.log);
	}
	return rc;
}
