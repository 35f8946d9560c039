/* lab --sweep: between every pair of scenario hosts, the ports the scenario does not need; each one
 * the firewall lets through is open-not-required. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firewall/firewall.h"
#include "lab/lab_int.h"

/* The Lync Server 2013 port catalog (server roles, Edge internal side, clients), TCP and UDP. */
static const struct sweep_port {
	int proto;
	unsigned port;
	const char *what;
} catalog[] = {
    {IPPROTO_TCP, 80, "HTTP web services"},
    {IPPROTO_TCP, 135, "DCOM / RPC (Lync management)"},
    {IPPROTO_TCP, 443, "HTTPS web services, Access Edge SIP/TLS"},
    {IPPROTO_TCP, 444, "HTTPS inter-server (Focus, Director)"},
    {IPPROTO_TCP, 445, "SMB file share (topology, CLS)"},
    {IPPROTO_TCP, 448, "call admission control"},
    {IPPROTO_TCP, 1433, "SQL Server (back end)"},
    {IPPROTO_UDP, 1434, "SQL Server browser"},
    {IPPROTO_TCP, 3478, "A/V Edge STUN/TURN over TCP"},
    {IPPROTO_UDP, 3478, "A/V Edge STUN/TURN"},
    {IPPROTO_TCP, 4443, "HTTPS external web services (reverse proxy)"},
    {IPPROTO_TCP, 5060, "SIP over TCP"},
    {IPPROTO_TCP, 5061, "SIP over TLS / MTLS"},
    {IPPROTO_TCP, 5062, "SIP/MTLS A/V authentication"},
    {IPPROTO_TCP, 5063, "SIP/TCP A/V conferencing"},
    {IPPROTO_TCP, 5064, "SIP/TCP dial-in conferencing"},
    {IPPROTO_TCP, 5065, "SIP/TCP application sharing"},
    {IPPROTO_TCP, 5066, "SIP/TCP Mediation (gateway)"},
    {IPPROTO_TCP, 5067, "SIP/TLS Mediation"},
    {IPPROTO_TCP, 5068, "SIP/TCP Mediation"},
    {IPPROTO_TCP, 5070, "SIP/MTLS Mediation"},
    {IPPROTO_TCP, 5071, "SIP/MTLS Response Group"},
    {IPPROTO_TCP, 5072, "SIP/MTLS Attendant"},
    {IPPROTO_TCP, 5073, "SIP/MTLS Conferencing Announcement"},
    {IPPROTO_TCP, 5075, "SIP/MTLS Call Park"},
    {IPPROTO_TCP, 5076, "SIP/MTLS audio test"},
    {IPPROTO_TCP, 5080, "SIP/MTLS call admission control"},
    {IPPROTO_TCP, 5086, "SIP/MTLS mobility"},
    {IPPROTO_TCP, 5087, "SIP/MTLS mobility"},
    {IPPROTO_TCP, 8057, "PSOM web conferencing"},
    {IPPROTO_TCP, 8058, "PSOM application sharing"},
    {IPPROTO_TCP, 8060, "TLS Persistent Chat"},
    {IPPROTO_TCP, 8061, "TLS Persistent Chat"},
    {IPPROTO_TCP, 8080, "HTTP external web services (reverse proxy)"},
    {IPPROTO_TCP, 8404, "TLS Persistent Chat inter-server"},
    {IPPROTO_TCP, 23456, "XMPP gateway"},
    {IPPROTO_TCP, 50001, "Centralized Logging Service"},
    {IPPROTO_TCP, 50002, "Centralized Logging Service"},
    {IPPROTO_TCP, 50003, "Centralized Logging Service"},
    {IPPROTO_UDP, 50000, "media range (50000-59999), first port"},
    {IPPROTO_UDP, 57501, "media range (57501-65535), sample"},
    {IPPROTO_TCP, 57501, "media range over TCP, sample"},
};

/* Ports nobody needs for Lync that firewalls get asked for (and a few high ones). */
static const unsigned others[] = {21,   22,   23,   25,   53,   110,  139,  389,   636,
                                  1723, 3306, 3389, 5432, 5900, 8443, 9000, 31337, 64999};

#define SWEEP_BATCH 200   /* sockets at once */
#define SWEEP_WAIT_MS 400 /* the first packet crosses the firewall in well under this */

struct sweep_probe {
	const struct scenario_host *src, *dst;
	int proto;
	unsigned port;
	const char *what;
	char answer[96]; /* what came back, for the detail */
};

struct lab_sweep {
	struct sweep_probe *p;
	size_t n;
	size_t pairs;
};

static bool
required(const struct scenario *sc, const struct scenario_host *s, const struct scenario_host *d,
         int proto, unsigned port)
{
	if (proto != IPPROTO_TCP)
		return false;
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		if (r->port == port && scenario_rule_has_source(r, s) &&
		    scenario_rule_has_dest(r, d))
			return true;
	}
	return false;
}

static int
add(struct lab_sweep *sw, const struct scenario_host *s, const struct scenario_host *d, int proto,
    unsigned port, const char *what)
{
	struct sweep_probe *np;

	for (size_t i = 0; i < sw->n; i++)
		if (sw->p[i].src == s && sw->p[i].dst == d && sw->p[i].proto == proto &&
		    sw->p[i].port == port)
			return 0;
	if ((np = realloc(sw->p, (sw->n + 1) * sizeof *np)) == NULL)
		return -1;
	sw->p = np;
	memset(&sw->p[sw->n], 0, sizeof *np);
	sw->p[sw->n] =
	    (struct sweep_probe){.src = s, .dst = d, .proto = proto, .port = port, .what = what};
	sw->n++;
	return 0;
}

static int
plan(struct lab_sweep *sw, const struct scenario *sc)
{
	for (size_t i = 0; i < sc->nhosts; i++) {
		for (size_t j = 0; j < sc->nhosts; j++) {
			const struct scenario_host *s = &sc->hosts[i], *d = &sc->hosts[j];
			if (i == j || s->addr.ss_family != d->addr.ss_family)
				continue;
			sw->pairs++;
			for (size_t k = 0; k < sizeof catalog / sizeof catalog[0]; k++)
				if (!required(sc, s, d, catalog[k].proto, catalog[k].port) &&
				    add(sw, s, d, catalog[k].proto, catalog[k].port,
				        catalog[k].what) == -1)
					return -1;
			for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
				for (int pr = 0; pr < 2; pr++) {
					int proto = pr ? IPPROTO_UDP : IPPROTO_TCP;
					if (!required(sc, s, d, proto, others[k]) &&
					    add(sw, s, d, proto, others[k], "not a Lync port") ==
					        -1)
						return -1;
				}
		}
	}
	return 0;
}

/* Sends one batch's first packets from the sources' namespaces; notes what answered. */
static void
send_batch(const struct lab_net *net, struct sweep_probe *p, size_t n, FILE *log)
{
	struct pollfd pfd[SWEEP_BATCH];
	double deadline;
	char err[256];

	for (size_t i = 0; i < n; i++) {
		const struct lab_nshost *nh = lab_net_host(net, p[i].src);
		/* the addresses as the scenario loader parsed them */
		struct sockaddr_storage src = p[i].src->addr, dst = p[i].dst->addr;
		socklen_t sl = lm_sockaddr_set_port(&src, 0),
		          dl = lm_sockaddr_set_port(&dst, p[i].port);
		int fam = sl != 0 ? src.ss_family : -1;
		int fd;

		pfd[i].fd = -1;
		pfd[i].events = 0;
		/* the scenario loader checked both addresses; never bind a half-made one */
		if (fam == -1 || dl == 0 || dst.ss_family != fam) {
			snprintf(p[i].answer, sizeof p[i].answer, "bad address");
			continue;
		}
		fd =
		    lab_ns_socket(nh->ns, fam, p[i].proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM,
		                  err, sizeof err);
		if (fd == -1) {
			if (log != NULL)
				fprintf(log, "lab: sweep: %s\n", err);
			continue;
		}
		if (bind(fd, (struct sockaddr *)&src, sl) == -1 ||
		    (connect(fd, (struct sockaddr *)&dst, dl) == -1 && errno != EINPROGRESS)) {
			snprintf(p[i].answer, sizeof p[i].answer, "%s", strerror(errno));
			close(fd);
			continue;
		}
		if (p[i].proto == IPPROTO_UDP && send(fd, "lyncmock sweep\n", 15, 0) == -1) {
			close(fd);
			continue;
		}
		pfd[i].fd = fd;
		pfd[i].events = p[i].proto == IPPROTO_TCP ? POLLOUT : POLLIN;
	}
	deadline = lm_now_ms() + SWEEP_WAIT_MS;
	for (;;) {
		int left = (int)(deadline - lm_now_ms()), k;
		if (left <= 0)
			break;
		if ((k = poll(pfd, n, left)) <= 0) {
			if (k == -1 && errno == EINTR)
				continue;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			int e = 0;
			socklen_t el = sizeof e;
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &e, &el);
			if (p[i].proto == IPPROTO_TCP)
				snprintf(p[i].answer, sizeof p[i].answer, "%s",
				         e == 0              ? "connected"
				         : e == ECONNREFUSED ? "TCP reset"
				                             : strerror(e));
			else
				snprintf(p[i].answer, sizeof p[i].answer, "%s",
				         e == ECONNREFUSED ? "ICMP port unreachable from the host"
				         : e == 0          ? "a datagram came back"
				                           : strerror(e));
			close(pfd[i].fd);
			pfd[i].fd = -1;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
}

struct lab_sweep *
lab_sweep_run(const struct lab_net *net, const struct scenario *sc, FILE *log, char *err,
              size_t errlen)
{
	struct lab_sweep *sw = calloc(1, sizeof *sw);
	double t0 = lm_now_ms();

	if (sw == NULL || plan(sw, sc) == -1) {
		lab_sweep_free(sw);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < sw->n; i += SWEEP_BATCH)
		send_batch(net, sw->p + i, sw->n - i < SWEEP_BATCH ? sw->n - i : SWEEP_BATCH, log);
	if (log != NULL)
		fprintf(log,
		        "lab: sweep: %zu ports not required, between %zu host pairs, in %.0f ms\n",
		        sw->n, sw->pairs, lm_now_ms() - t0);
	return sw;
}

int
lab_sweep_judge(const struct lab_sweep *sw, const struct lab_trace *t, struct probe_run *run,
                FILE *log)
{
	size_t open = 0, unseen = 0;
	char why[1024], id[64], detail[256];
	bool dropped;

	for (size_t i = 0; sw != NULL && i < sw->n; i++) {
		const struct sweep_probe *p = &sw->p[i];
		const char *pr = p->proto == IPPROTO_TCP ? "tcp" : "udp";
		struct probe_result *r;

		if (!lab_trace_verdict(t, p->src->address, p->dst->address, p->proto, p->port,
		                       &dropped, why, sizeof why)) {
			unseen++;
			continue;
		}
		if (dropped)
			continue;
		open++;
		snprintf(id, sizeof id, "sweep-%s-%u", pr, p->port);
		snprintf(detail, sizeof detail,
		         "%s port %u (%s) passes the firewall from %s to %s%s%s",
		         p->proto == IPPROTO_TCP ? "TCP" : "UDP", p->port, p->what, p->src->name,
		         p->dst->name, p->answer[0] ? "; answer: " : "", p->answer);
		if ((r = probe_run_add(run)) == NULL)
			return -1;
		r->rule_id = strdup(id);
		r->service = p->proto == IPPROTO_UDP ? LM_SVC_UDP : LM_SVC_TCP;
		r->port = (uint16_t)p->port;
		r->src_host = strdup(p->src->name);
		r->src_addr = strdup(p->src->address);
		r->src_role = strdup(p->src->role->name);
		r->dst_host = strdup(p->dst->name);
		r->dst_addr = strdup(p->dst->address);
		r->dst_role = strdup(p->dst->role->name);
		r->expect_blocked = true;
		r->outcome = LM_OUT_OPEN_NOT_REQUIRED;
		r->ok = false;
		r->detail = strdup(detail);
		r->firewall_rule = strdup(why);
		r->t_connect_ms = r->t_handshake_ms = r->t_first_ms = -1;
		r->tls.verify_result = 0;
		if (r->rule_id == NULL || r->src_host == NULL || r->detail == NULL ||
		    r->firewall_rule == NULL)
			return -1;
	}
	if (log != NULL)
		fprintf(log, "lab: sweep: %zu of %zu open that the scenario does not need%s\n",
		        open, sw != NULL ? sw->n : 0,
		        unseen ? " (some not seen by the trace)" : "");
	if (unseen > 0 && log != NULL)
		fprintf(log, "lab: sweep: %zu probes left no trace (not sent?)\n", unseen);
	return 0;
}

void
lab_sweep_free(struct lab_sweep *sw)
{
	if (sw == NULL)
		return;
	free(sw->p);
	free(sw);
}
