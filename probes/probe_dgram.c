/*
 * The UDP path every UDP probe shares (stun, udp): a connected UDP socket
 * with IP_RECVERR, the request sent at RFC 5389 §7.2.1's retransmission
 * times (RTO doubling, Rc = 7 transmissions, a last wait of Rm = 16 RTO)
 * scaled so that the last wait ends at the probe's timeout, and the error
 * queue read for who answered with ICMP: port-unreachable is refused,
 * anything else unreachable, silence filtered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probes/probe_int.h"

#define DGRAM_RC 7    /* transmissions (RFC 5389 Rc) */
#define DGRAM_RM 16   /* the last wait, in RTOs (Rm) */
#define DGRAM_SPAN 79 /* 1+2+4+8+16+32 RTOs of retransmissions + Rm */
#define DGRAM_REQ_MAX 4096
#define DGRAM_ANSWER_MAX 65536

static struct timeval
ms_tv(unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	return tv;
}

void
probe_dgram_release(struct probe *p)
{
	if (p->ev_dgram != NULL) {
		event_free(p->ev_dgram);
		p->ev_dgram = NULL;
	}
	if (p->ev_retx != NULL) {
		event_free(p->ev_retx);
		p->ev_retx = NULL;
	}
	free(p->dgram);
	p->dgram = NULL;
}

static const char *
offender_text(const struct sock_extended_err *ee, char *buf, size_t len)
{
	const struct sockaddr *sa = SO_EE_OFFENDER(ee);

	buf[0] = '\0';
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		          (socklen_t)len);
	return buf[0] != '\0' ? buf : "?";
}

/* An ICMP error for our datagram: true when it ended the probe. */
static bool
dgram_icmp(struct probe *p, int fd)
{
	char ctl[512], from[INET6_ADDRSTRLEN];
	uint8_t payload[64];
	struct iovec iov = {payload, sizeof payload};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
	const struct probe_result *r = &p->res;
	struct cmsghdr *cm;

	if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) == -1)
		return false;
	for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
		const struct sock_extended_err *ee;
		bool v4 = cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR;
		bool v6 = cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR;

		if (!v4 && !v6)
			continue;
		ee = (const struct sock_extended_err *)CMSG_DATA(cm);
		if (ee->ee_origin == SO_EE_ORIGIN_ICMP || ee->ee_origin == SO_EE_ORIGIN_ICMP6) {
			bool port = ee->ee_origin == SO_EE_ORIGIN_ICMP
			                ? ee->ee_type == ICMP_DEST_UNREACH &&
			                      ee->ee_code == ICMP_PORT_UNREACH
			                : ee->ee_type == ICMP6_DST_UNREACH &&
			                      ee->ee_code == ICMP6_DST_UNREACH_NOPORT;
			bool admin = ee->ee_origin == SO_EE_ORIGIN_ICMP
			                 ? ee->ee_type == ICMP_DEST_UNREACH &&
			                       (ee->ee_code == ICMP_NET_ANO ||
			                        ee->ee_code == ICMP_HOST_ANO ||
			                        ee->ee_code == ICMP_PKT_FILTERED)
			                 : ee->ee_type == ICMP6_DST_UNREACH &&
			                       ee->ee_code == ICMP6_DST_UNREACH_ADMIN;
			offender_text(ee, from, sizeof from);
			/* who answered, and how: the facts the fix sentence names */
			free(p->res.facts.answered_by);
			p->res.facts.answered_by = from[0] ? strdup(from) : NULL;
			free(p->res.facts.answer);
			p->res.facts.answer = strdup(port    ? "icmp-port-unreachable"
			                             : admin ? "icmp-admin-prohibited"
			                                     : "icmp-unreachable");
			if (port)
				probe_done(p, LM_OUT_REFUSED,
				           "UDP %u to %s: ICMP port-unreachable from %s (%s)",
				           r->port, r->dst_addr, from,
				           strcmp(from, r->dst_addr ? r->dst_addr : "") == 0
				               ? "nothing listens there"
				               : "a firewall rejects the path");
			else
				probe_done(p, LM_OUT_UNREACHABLE,
				           "UDP %u to %s: ICMP%s %s type %u code %u from %s",
				           r->port, r->dst_addr, v6 ? "v6" : "",
				           admin ? "admin-prohibited" : "unreachable", ee->ee_type,
				           ee->ee_code, from);
			return true;
		}
		if (ee->ee_origin == SO_EE_ORIGIN_LOCAL) {
			probe_done(p, LM_OUT_LOCAL_ERROR, "UDP %u to %s: %s", r->port, r->dst_addr,
			           strerror((int)ee->ee_errno));
			return true;
		}
	}
	return false;
}

static void
dgram_read_cb(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[DGRAM_ANSWER_MAX];
	struct probe *p = arg;
	struct probe_answer a;
	enum probe_parse pr;
	ssize_t n;

	(void)what;
	if (p->finished)
		return;
	if (dgram_icmp(p, fd))
		return;
	/* bounded: a flood of strays cannot hold the loop */
	for (int i = 0; i < 64 && !p->finished; i++) {
		n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			if (dgram_icmp(p, fd))
				return;
			if (errno == ECONNREFUSED)
				probe_done(p, LM_OUT_REFUSED, "UDP %u to %s: ICMP port-unreachable",
				           p->res.port, p->res.dst_addr);
			else if (errno == EHOSTUNREACH || errno == ENETUNREACH)
				probe_done(p, LM_OUT_UNREACHABLE, "UDP %u to %s: %s", p->res.port,
				           p->res.dst_addr, strerror(errno));
			else
				probe_done(p, LM_OUT_LOCAL_ERROR, "UDP %u to %s: recv: %s",
				           p->res.port, p->res.dst_addr, strerror(errno));
			return;
		}
		if (!p->got_bytes) {
			p->got_bytes = true;
			p->res.t_first_ms = lm_now_ms() - p->t_start;
		}
		memset(&a, 0, sizeof a);
		pr = p->proto->dgram_parse(p, buf, (size_t)n, &a);
		if (pr == PROBE_PARSE_DONE) {
			probe_debug(p, "answer of %zd bytes after %u transmission(s)", n,
			            p->dgram_sent);
			probe_answer_done(p, &a);
		} else if (pr == PROBE_PARSE_ERROR) {
			probe_done(p, LM_OUT_PROTOCOL_ERROR, "%s", a.why);
		} else {
			p->dgram_ignored++; /* a stray or late datagram */
		}
		probe_answer_clear(&a);
	}
}

static void dgram_retx_cb(evutil_socket_t fd, short what, void *arg);

static void
dgram_send(struct probe *p)
{
	unsigned k = p->dgram_sent; /* before this one */
	struct timeval tv;

	if (send(p->fd, p->dgram, p->dgram_len, 0) == -1 && !dgram_icmp(p, p->fd)) {
		/* an ICMP error of an earlier transmission shows here as errno too */
		if (errno == ECONNREFUSED)
			probe_done(p, LM_OUT_REFUSED, "UDP %u to %s: ICMP port-unreachable",
			           p->res.port, p->res.dst_addr);
		else if (errno == EHOSTUNREACH || errno == ENETUNREACH)
			probe_done(p, LM_OUT_UNREACHABLE, "UDP %u to %s: %s", p->res.port,
			           p->res.dst_addr, strerror(errno));
		else if (errno == EPERM || errno == EACCES)
			probe_done(p, LM_OUT_FILTERED,
			           "UDP %u to %s: %s (this host's own firewall)", p->res.port,
			           p->res.dst_addr, strerror(errno));
		else if (errno != EAGAIN && errno != ENOBUFS)
			probe_done(p, LM_OUT_LOCAL_ERROR, "UDP %u to %s: send: %s", p->res.port,
			           p->res.dst_addr, strerror(errno));
	}
	if (p->finished)
		return;
	p->dgram_sent++;
	if (p->dgram_sent >= DGRAM_RC)
		return; /* the last wait runs to the deadline */
	tv = ms_tv(p->dgram_rto_ms << k);
	evtimer_add(p->ev_retx, &tv);
}

static void
dgram_retx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	if (!p->finished)
		dgram_send(p);
}

static void
dgram_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	probe_done(p, LM_OUT_FILTERED,
	           "no answer to %u UDP datagram(s) to %s port %u within %.0f ms (dropped, or "
	           "nothing answers there)%s",
	           p->dgram_sent, p->res.dst_addr, p->res.port, p->deadline - p->t_start,
	           p->dgram_ignored ? "; stray datagrams were ignored" : "");
}

void
probe_dgram_start(struct probe *p)
{
	struct event_base *base = event_get_base(p->ev_deadline);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	unsigned span = (unsigned)(p->deadline - p->t_start), left = probe_remaining_ms(p);
	struct timeval tv = ms_tv(left);
	int one = 1;

	/* our own deadline: its outcome speaks of datagrams, not SYNs */
	event_free(p->ev_deadline);
	if ((p->ev_deadline = evtimer_new(base, dgram_deadline_cb, p)) == NULL ||
	    evtimer_add(p->ev_deadline, &tv) == -1) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "out of memory");
		return;
	}
	p->fd = socket(p->dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd == -1) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "socket: %s", strerror(errno));
		return;
	}
	if (p->dst.ss_family == AF_INET6)
		(void)setsockopt(p->fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
	else
		(void)setsockopt(p->fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
	if (p->bind_src && bind(p->fd, (struct sockaddr *)&p->src, p->srclen) == -1) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "bind to the source address %s: %s",
		           p->res.src_addr ? p->res.src_addr : "?", strerror(errno));
		return;
	}
	/* connected: the kernel keeps others' datagrams away and reports ICMP */
	if (connect(p->fd, (struct sockaddr *)&p->dst, p->dstlen) == -1) {
		probe_done(p,
		           errno == ENETUNREACH || errno == EHOSTUNREACH ? LM_OUT_UNREACHABLE
		                                                         : LM_OUT_LOCAL_ERROR,
		           "UDP %u to %s: %s", p->res.port, p->res.dst_addr, strerror(errno));
		return;
	}
	if (getsockname(p->fd, (struct sockaddr *)&ss, &sl) == 0) {
		const void *a = ss.ss_family == AF_INET6
		                    ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
		                    : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
		if (inet_ntop(ss.ss_family, a, p->local_addr, sizeof p->local_addr) != NULL) {
			p->local_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			snprintf(p->local, sizeof p->local, "%s%s%s:%u",
			         ss.ss_family == AF_INET6 ? "[" : "", p->local_addr,
			         ss.ss_family == AF_INET6 ? "]" : "", p->local_port);
			free(p->res.src_addr);
			p->res.src_addr = strdup(p->local_addr);
		}
	}
	if ((p->dgram = malloc(DGRAM_REQ_MAX)) == NULL ||
	    (p->dgram_len = p->proto->dgram_request(p, p->dgram, DGRAM_REQ_MAX)) == 0) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "cannot build the %s request",
		           lm_service_name(p->res.service));
		return;
	}
	p->dgram_rto_ms = span / DGRAM_SPAN > 0 ? span / DGRAM_SPAN : 1;
	p->state = PS_EXCHANGE;
	p->ev_dgram = event_new(base, p->fd, EV_READ | EV_PERSIST, dgram_read_cb, p);
	p->ev_retx = evtimer_new(base, dgram_retx_cb, p);
	if (p->ev_dgram == NULL || p->ev_retx == NULL || event_add(p->ev_dgram, NULL) == -1) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "out of memory");
		return;
	}
	probe_debug(p, "UDP from %s to %s port %u, RTO %u ms", p->local, p->res.dst_addr,
	            p->res.port, p->dgram_rto_ms);
	dgram_send(p);
}
