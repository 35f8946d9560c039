/*
 * Who rejected a connect: the ICMP error the kernel queued on the socket
 * (IP_RECVERR / IPV6_RECVERR). Linux turns ICMP port-unreachable into
 * ECONNREFUSED like a TCP reset; only the error queue tells them apart and
 * names the router or firewall that answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/socket.h>

#include "probes/probe_int.h"

void
probe_errq_enable(int fd, int family)
{
	int one = 1;

	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
	/* IPv4 too: a dual-stack socket may carry IPv4-mapped traffic */
	setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
}

static const char *
icmp4_name(unsigned type, unsigned code)
{
	if (type != ICMP_DEST_UNREACH)
		return type == ICMP_TIME_EXCEEDED ? "icmp-time-exceeded" : "icmp-error";
	switch (code) {
	case ICMP_NET_UNREACH:
	case ICMP_NET_UNKNOWN:
		return "icmp-net-unreachable";
	case ICMP_HOST_UNREACH:
	case ICMP_HOST_UNKNOWN:
		return "icmp-host-unreachable";
	case ICMP_PROT_UNREACH:
		return "icmp-protocol-unreachable";
	case ICMP_PORT_UNREACH:
		return "icmp-port-unreachable";
	case ICMP_NET_ANO:
	case ICMP_HOST_ANO:
	case ICMP_PKT_FILTERED:
		return "icmp-admin-prohibited";
	default:
		return "icmp-unreachable";
	}
}

static const char *
icmp6_name(unsigned type, unsigned code)
{
	if (type != ICMP6_DST_UNREACH)
		return type == ICMP6_TIME_EXCEEDED ? "icmp-time-exceeded" : "icmp-error";
	switch (code) {
	case ICMP6_DST_UNREACH_NOROUTE:
		return "icmp-net-unreachable";
	case ICMP6_DST_UNREACH_ADMIN:
	case 5: /* source address failed ingress/egress policy */
	case 6: /* reject route to destination */
		return "icmp-admin-prohibited";
	case ICMP6_DST_UNREACH_ADDR:
		return "icmp-host-unreachable";
	case ICMP6_DST_UNREACH_NOPORT:
		return "icmp-port-unreachable";
	default:
		return "icmp-unreachable";
	}
}

int
probe_errq_read(int fd, char *from, size_t fromlen, const char **what)
{
	char ctrl[512], data[64];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl};
	int found = -1;

	from[0] = '\0';
	*what = NULL;
	/* bounded: a socket holds a handful of queued errors at most */
	for (int tries = 0; tries < 8; tries++) {
		mh.msg_controllen = sizeof ctrl;
		if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) == -1)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			const struct sock_extended_err *ee;
			const struct sockaddr *off;

			if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			      (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
				continue;
			ee = (const struct sock_extended_err *)CMSG_DATA(c);
			if (ee->ee_origin != SO_EE_ORIGIN_ICMP &&
			    ee->ee_origin != SO_EE_ORIGIN_ICMP6)
				continue;
			*what = ee->ee_origin == SO_EE_ORIGIN_ICMP
			            ? icmp4_name(ee->ee_type, ee->ee_code)
			            : icmp6_name(ee->ee_type, ee->ee_code);
			off = SO_EE_OFFENDER(ee);
			if (off->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)off)->sin_addr,
				          from, (socklen_t)fromlen);
			else if (off->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)off)->sin6_addr,
				          from, (socklen_t)fromlen);
			found = 0;
		}
	}
	return found;
}
