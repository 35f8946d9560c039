/* Which rule did it: nftables tracing in the firewall namespace, each path's verdict mapped to the
 * rule and its line. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/lab_int.h"

#define TRACE_TABLE "lyncmock_trace"
#define TRACE_MARK_PORT 9 /* discard: the marker datagrams that show the monitor is live */
#define TRACE_WAIT_MS 8000

/* Traced: the first packet of every TCP and UDP flow, and packets conntrack
 * finds invalid (a connection whose state the firewall forgot), in the forward
 * hook ahead of every other chain; the markers on loopback. */
static const char trace_table[] = "table inet " TRACE_TABLE " {\n"
                                  "\tchain forward {\n"
                                  "\t\ttype filter hook forward priority -400; policy accept;\n"
                                  "\t\ttcp flags & (syn | ack) == syn meta nftrace set 1\n"
                                  "\t\tmeta l4proto udp ct state new meta nftrace set 1\n"
                                  "\t\tct state invalid meta nftrace set 1\n"
                                  "\t}\n"
                                  "\tchain output {\n"
                                  "\t\ttype filter hook output priority -400; policy accept;\n"
                                  "\t\tip daddr 127.0.0.1 udp dport 9 meta nftrace set 1\n"
                                  "\t}\n"
                                  "}\n";

struct trace_ev {
	char family[8], table[64], chain[64];
	long handle; /* -1 for a policy */
	char verdict[32];
	char text[512];
};

struct trace_rec {
	char id[16];
	bool have_pkt;
	char saddr[64], daddr[64];
	int proto; /* IPPROTO_TCP / IPPROTO_UDP / 0 */
	unsigned dport;
	bool has_drop, has_accept;
	struct trace_ev drop, accept; /* the first drop; the last accept */
};

struct lab_trace {
	const struct lab_net *net;
	struct lab_userfw *u;
	char log[PATH_MAX];
	pid_t pid;
	int mark_fd; /* a UDP socket in the firewall namespace */
	struct trace_rec *recs;
	size_t nrecs;
};

int
lab_ns_socket(const char *ns, int domain, int type, char *err, size_t errlen)
{
	char path[256];
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), target, fd = -1, e = 0;

	snprintf(path, sizeof path, "/run/netns/%s", ns);
	if (self == -1 || (target = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "namespace %s: %s", ns, strerror(errno));
		if (self != -1)
			close(self);
		return -1;
	}
	if (setns(target, CLONE_NEWNET) == -1) {
		snprintf(err, errlen, "setns %s: %s", ns, strerror(errno));
	} else {
		fd = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		e = errno;
		if (setns(self, CLONE_NEWNET) == -1) {
			/* cannot happen for a namespace we came from; never stay in another */
			abort();
		}
		if (fd == -1)
			snprintf(err, errlen, "socket in %s: %s", ns, strerror(e));
	}
	close(target);
	close(self);
	return fd;
}

/* A program in PATH, for lab_spawn's execv. */
static const char *
find_prog(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[4096];

	snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin", path != NULL ? path : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d != NULL;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, len, "%s/%s", d, name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

/* Runs argv in ns with stdout to path; waits (bounded). 0 or -1. */
static int
run_to_file(const char *ns, char *const argv[], const char *path, char *err, size_t errlen)
{
	struct lab_spawn s;
	char prog[PATH_MAX];
	double deadline = lm_now_ms() + 15000;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), st = 0;
	pid_t pid, r;

	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (find_prog(argv[0], prog, sizeof prog) == NULL) {
		snprintf(err, errlen, "%s not found in PATH", argv[0]);
		close(fd);
		return -1;
	}
	memset(&s, 0, sizeof s);
	s.path = prog;
	s.ns = ns;
	s.out_fd = fd;
	s.err_fd = -1;
	s.fd3 = -1;
	s.die_with_parent = true;
	pid = lab_spawn(&s, argv, err, errlen);
	close(fd);
	if (pid == -1)
		return -1;
	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && lm_now_ms() < deadline)
		poll(NULL, 0, 10);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		snprintf(err, errlen, "%s did not finish", argv[0]);
		return -1;
	}
	if (r == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "%s failed", argv[0]);
		return -1;
	}
	return 0;
}

/* Handles of the loaded rules, from `nft -a -j list ruleset`, joined to the
 * file's rules: by comment when one rule of the chain carries it, else by position. */
static int
map_handles(struct lab_trace *t, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	char *const argv[] = {"nft", "-a", "-j", "list", "ruleset", NULL};
	json_error_t je;
	json_t *doc, *arr, *it;
	size_t i;
	struct {
		char family[8], table[64], chain[64];
		size_t n;
	} *counts = NULL;
	size_t ncounts = 0;

	snprintf(path, sizeof path, "%s/ruleset.json", dir);
	if (run_to_file(t->net->fw_ns, argv, path, err, errlen) == -1)
		return -1;
	if ((doc = json_load_file(path, 0, &je)) == NULL) {
		snprintf(err, errlen, "nft -j list ruleset: %s", je.text);
		return -1;
	}
	arr = json_object_get(doc, "nftables");
	json_array_foreach(arr, i, it)
	{
		json_t *r = json_object_get(it, "rule");
		const char *fam, *tab, *ch, *com;
		size_t idx = 0, c;
		struct lab_fwrule *best = NULL;
		if (r == NULL)
			continue;
		fam = json_string_value(json_object_get(r, "family"));
		tab = json_string_value(json_object_get(r, "table"));
		ch = json_string_value(json_object_get(r, "chain"));
		com = json_string_value(json_object_get(r, "comment"));
		if (fam == NULL || tab == NULL || ch == NULL)
			continue;
		for (c = 0; c < ncounts; c++)
			if (strcmp(counts[c].family, fam) == 0 &&
			    strcmp(counts[c].table, tab) == 0 && strcmp(counts[c].chain, ch) == 0)
				break;
		if (c == ncounts) {
			void *nc = realloc(counts, (ncounts + 1) * sizeof *counts);
			if (nc == NULL)
				break;
			counts = nc;
			memset(&counts[c], 0, sizeof counts[c]);
			snprintf(counts[c].family, sizeof counts[c].family, "%s", fam);
			snprintf(counts[c].table, sizeof counts[c].table, "%s", tab);
			snprintf(counts[c].chain, sizeof counts[c].chain, "%s", ch);
			ncounts++;
		}
		idx = counts[c].n++;
		for (size_t k = 0; k < t->u->nrules; k++) {
			struct lab_fwrule *fr = &t->u->rules[k];
			if (strcmp(fr->family, fam) != 0 || strcmp(fr->table, tab) != 0 ||
			    strcmp(fr->chain, ch) != 0 || fr->handle != -1)
				continue;
			if (com != NULL && fr->comment != NULL && strcmp(com, fr->comment) == 0) {
				best = fr;
				break;
			}
			if (fr->index == idx && best == NULL)
				best = fr;
		}
		if (best != NULL)
			best->handle = (long)json_integer_value(json_object_get(r, "handle"));
	}
	free(counts);
	json_decref(doc);
	return 0;
}

static unsigned
mark_send(struct lab_trace *t)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(TRACE_MARK_PORT)};
	struct sockaddr_in me;
	socklen_t ml = sizeof me;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(t->mark_fd, "m", 1, 0, (struct sockaddr *)&a, sizeof a) == -1)
		return 0;
	if (getsockname(t->mark_fd, (struct sockaddr *)&me, &ml) == -1)
		return 0;
	return ntohs(me.sin_port);
}

/* Sends markers until the monitor writes one down (bounded). */
static int
mark_wait(struct lab_trace *t, char *err, size_t errlen)
{
	double deadline = lm_now_ms() + TRACE_WAIT_MS;
	char want[64], line[1024];
	unsigned port;

	while (lm_now_ms() < deadline) {
		FILE *f;
		bool seen = false;
		if ((port = mark_send(t)) == 0) {
			snprintf(err, errlen, "trace marker: %s", strerror(errno));
			return -1;
		}
		snprintf(want, sizeof want, "udp sport %u udp dport %d", port, TRACE_MARK_PORT);
		poll(NULL, 0, 50);
		if ((f = fopen(t->log, "r")) != NULL) {
			/* the marker socket keeps its port: any line with it will do */
			while (!seen && fgets(line, sizeof line, f) != NULL)
				seen = strstr(line, want) != NULL;
			fclose(f);
		}
		if (seen)
			return 0;
		if (waitpid(t->pid, NULL, WNOHANG) == t->pid) {
			t->pid = -1;
			snprintf(err, errlen, "nft monitor trace stopped (see %s)", t->log);
			return -1;
		}
	}
	snprintf(err, errlen, "nft monitor trace shows nothing after %d s", TRACE_WAIT_MS / 1000);
	return -1;
}

struct lab_trace *
lab_trace_start(const struct lab_net *net, struct lab_userfw *u, const char *dir, char *err,
                size_t errlen)
{
	struct lab_trace *t = calloc(1, sizeof *t);
	char *const load[] = {"nft", "-f", "-", NULL};
	char *const mon[] = {"nft", "-a", "monitor", "trace", NULL};
	char prog[PATH_MAX];
	struct lab_spawn s;
	struct sockaddr_in lo = {.sin_family = AF_INET};
	int fd;

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->net = net;
	t->u = u;
	t->pid = -1;
	t->mark_fd = -1;
	snprintf(t->log, sizeof t->log, "%s/trace.log", dir);
	if (lab_cmd(net->fw_ns, load, trace_table, sizeof trace_table - 1, err, errlen) == -1 ||
	    map_handles(t, dir, err, errlen) == -1)
		goto fail;
	if ((t->mark_fd = lab_ns_socket(net->fw_ns, AF_INET, SOCK_DGRAM, err, errlen)) == -1)
		goto fail;
	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(t->mark_fd, (struct sockaddr *)&lo, sizeof lo) == -1) {
		snprintf(err, errlen, "trace marker bind: %s", strerror(errno));
		goto fail;
	}
	if ((fd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", t->log, strerror(errno));
		goto fail;
	}
	if (find_prog("nft", prog, sizeof prog) == NULL) {
		snprintf(err, errlen, "nft not found in PATH");
		close(fd);
		goto fail;
	}
	memset(&s, 0, sizeof s);
	s.path = prog;
	s.ns = net->fw_ns;
	s.out_fd = fd;
	s.err_fd = fd;
	s.fd3 = -1;
	s.die_with_parent = true;
	t->pid = lab_spawn(&s, mon, err, errlen);
	close(fd);
	if (t->pid == -1 || mark_wait(t, err, errlen) == -1)
		goto fail;
	return t;
fail:
	lab_trace_free(t);
	return NULL;
}

static struct trace_rec *
rec_get(struct lab_trace *t, const char *id)
{
	struct trace_rec *nr;

	/* events of one packet come together: the latest record is nearly always it */
	for (size_t i = t->nrecs; i > 0 && i + 64 > t->nrecs; i--)
		if (strcmp(t->recs[i - 1].id, id) == 0)
			return &t->recs[i - 1];
	for (size_t i = 0; i < t->nrecs; i++)
		if (strcmp(t->recs[i].id, id) == 0)
			return &t->recs[i];
	if ((nr = realloc(t->recs, (t->nrecs + 1) * sizeof *nr)) == NULL)
		return NULL;
	t->recs = nr;
	memset(&t->recs[t->nrecs], 0, sizeof *nr);
	snprintf(t->recs[t->nrecs].id, sizeof nr->id, "%s", id);
	return &t->recs[t->nrecs++];
}

/* The word after key in s ("ip saddr X" -> X), into buf. */
static bool
after(const char *s, const char *key, char *buf, size_t len)
{
	const char *p = strstr(s, key);
	size_t n;

	if (p == NULL)
		return false;
	p += strlen(key);
	n = strcspn(p, " \n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* One line of `nft -a monitor trace`:
 *   trace id ID FAMILY TABLE CHAIN packet: ... ip saddr A ip daddr B ... tcp dport P ...
 *   trace id ID FAMILY TABLE CHAIN rule TEXT # handle N (verdict V)
 *   trace id ID FAMILY TABLE CHAIN policy V */
static void
parse_line(struct lab_trace *t, char *line)
{
	char id[16], fam[8], tab[64], ch[64], buf[64];
	struct trace_rec *r;
	struct trace_ev ev;
	int off = 0;
	char *rest;

	if (sscanf(line, "trace id %15s %7s %63s %63s %n", id, fam, tab, ch, &off) != 4 || off == 0)
		return;
	rest = line + off;
	if ((r = rec_get(t, id)) == NULL)
		return;
	if (strncmp(rest, "packet:", 7) == 0) {
		if (r->have_pkt)
			return;
		/* "ip saddr", not "ether saddr" */
		if ((!after(rest, "ip saddr ", r->saddr, sizeof r->saddr) ||
		     !after(rest, "ip daddr ", r->daddr, sizeof r->daddr)) &&
		    (!after(rest, "ip6 saddr ", r->saddr, sizeof r->saddr) ||
		     !after(rest, "ip6 daddr ", r->daddr, sizeof r->daddr)))
			return;
		if (after(rest, "tcp dport ", buf, sizeof buf))
			r->proto = IPPROTO_TCP;
		else if (after(rest, "udp dport ", buf, sizeof buf))
			r->proto = IPPROTO_UDP;
		else
			buf[0] = '\0';
		r->dport = (unsigned)strtoul(buf, NULL, 10);
		r->have_pkt = true;
		return;
	}
	if (strcmp(tab, TRACE_TABLE) == 0)
		return;
	memset(&ev, 0, sizeof ev);
	snprintf(ev.family, sizeof ev.family, "%s", fam);
	snprintf(ev.table, sizeof ev.table, "%s", tab);
	snprintf(ev.chain, sizeof ev.chain, "%s", ch);
	ev.handle = -1;
	if (strncmp(rest, "rule ", 5) == 0) {
		char *h = strstr(rest, " # handle "), *v = strstr(rest, "(verdict ");
		if (h == NULL || v == NULL)
			return;
		snprintf(ev.text, sizeof ev.text, "%.*s", (int)(h - (rest + 5)), rest + 5);
		ev.handle = strtol(h + 10, NULL, 10);
		snprintf(ev.verdict, sizeof ev.verdict, "%.*s", (int)strcspn(v + 9, ")"), v + 9);
	} else if (strncmp(rest, "policy ", 7) == 0) {
		snprintf(ev.verdict, sizeof ev.verdict, "%.*s", (int)strcspn(rest + 7, " \n"),
		         rest + 7);
	} else {
		return;
	}
	if (strcmp(ev.verdict, "drop") == 0) {
		if (!r->has_drop) {
			r->drop = ev;
			r->has_drop = true;
		}
	} else if (strcmp(ev.verdict, "accept") == 0) {
		r->accept = ev;
		r->has_accept = true;
	}
}

int
lab_trace_stop(struct lab_trace *t, char *err, size_t errlen)
{
	char line[4096];
	FILE *f;
	int rc = 0;

	if (t->pid > 0) {
		/* a last marker: everything traced before it is in the log */
		rc = mark_wait(t, err, errlen);
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
		t->pid = -1;
	}
	if ((f = fopen(t->log, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", t->log, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL)
		parse_line(t, line);
	fclose(f);
	return rc;
}

static const struct lab_fwrule *
rule_of(const struct lab_trace *t, const struct trace_ev *ev)
{
	for (size_t i = 0; ev->handle != -1 && i < t->u->nrules; i++) {
		const struct lab_fwrule *r = &t->u->rules[i];
		if (r->handle == ev->handle && strcmp(r->family, ev->family) == 0 &&
		    strcmp(r->table, ev->table) == 0 && strcmp(r->chain, ev->chain) == 0)
			return r;
	}
	return NULL;
}

static void
sentence(const struct lab_trace *t, const struct trace_ev *ev, bool drop, char *buf, size_t len)
{
	const struct lab_fwrule *r = rule_of(t, ev);
	const char *verb = "allowed";

	if (strstr(r != NULL ? r->text : ev->text, "ct timeout set") != NULL)
		verb = "allowed, with an idle timeout of its own (ct timeout set),";
	if (drop)
		verb = strstr(ev->text, "reject") != NULL || strstr(ev->text, "REJECT") != NULL
		           ? "rejected"
		           : "dropped";
	if (ev->handle == -1) {
		snprintf(buf, len, "no rule matched: the chain policy %s (chain %s of table %s %s)",
		         ev->verdict, ev->chain, ev->family, ev->table);
		return;
	}
	if (r == NULL) {
		snprintf(buf, len, "%s by `%s` (chain %s of table %s %s, handle %ld)", verb,
		         ev->text, ev->chain, ev->family, ev->table, ev->handle);
		return;
	}
	if (r->line == 0) {
		snprintf(buf, len, "%s by `%s` (chain %s, added by lyncmock)", verb,
		         r->comment != NULL ? r->comment : r->text, r->chain);
		return;
	}
	snprintf(buf, len, "%s by `%s` (chain %s, line %d of %s)", verb,
	         r->comment != NULL && r->comment[0] ? r->comment : r->text, r->chain, r->line,
	         t->u->name);
}

bool
lab_trace_verdict(const struct lab_trace *t, const char *src, const char *dst, int proto,
                  unsigned port, bool *dropped, char *buf, size_t len)
{
	for (size_t i = 0; t != NULL && i < t->nrecs; i++) {
		const struct trace_rec *r = &t->recs[i];
		if (!r->have_pkt || r->proto != proto || r->dport != port ||
		    strcmp(r->saddr, src) != 0 || strcmp(r->daddr, dst) != 0)
			continue;
		if (r->has_drop) {
			*dropped = true;
			sentence(t, &r->drop, true, buf, len);
			return true;
		}
		if (r->has_accept) {
			*dropped = false;
			sentence(t, &r->accept, false, buf, len);
			return true;
		}
	}
	return false;
}

void
lab_trace_annotate(const struct lab_trace *t, struct probe_run *run)
{
	char buf[1024];
	bool dropped;

	for (size_t i = 0; t != NULL && i < run->n; i++) {
		struct probe_result *r = &run->results[i];
		if (r->firewall_rule != NULL || r->src_addr == NULL || r->dst_addr == NULL)
			continue;
		const struct lm_service_info *si = lm_service_info(r->service);
		int proto = si != NULL && si->udp ? IPPROTO_UDP : IPPROTO_TCP;
		if (lab_trace_verdict(t, r->src_addr, r->dst_addr, proto, r->port, &dropped, buf,
		                      sizeof buf))
			r->firewall_rule = strdup(buf);
	}
}

void
lab_trace_free(struct lab_trace *t)
{
	if (t == NULL)
		return;
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
	}
	if (t->mark_fd != -1)
		close(t->mark_fd);
	free(t->recs);
	free(t);
}

pid_t
lab_trace_pid(const struct lab_trace *t)
{
	return t != NULL ? t->pid : -1;
}
