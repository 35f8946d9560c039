/* The lab's topology: a firewall namespace, one namespace per host, a veth pair each. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab_int.h"

/* A namespace name from the host's name when it is tame, else from its index. */
static void
ns_name(char *buf, size_t len, const char *prefix, const char *host, size_t idx)
{
	size_t n = strlen(host);
	int tame = n > 0 && n <= 32;

	for (size_t i = 0; tame && i < n; i++) {
		char c = host[i];
		tame = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		       c == '-' || c == '_' || c == '.';
	}
	if (tame)
		snprintf(buf, len, "%s-%s", prefix, host);
	else
		snprintf(buf, len, "%s-h%zu", prefix, idx);
}

/* An address in binary form: IPv4 in the first 4 bytes. */
struct lab_addr {
	int family;
	unsigned char b[16];
};

/* A host's address (parsed once by the scenario loader) in binary form. */
static int
addr_of_host(const struct scenario_host *h, struct lab_addr *a)
{
	memset(a, 0, sizeof *a);
	a->family = h->addr.ss_family;
	if (a->family == AF_INET)
		memcpy(a->b, &((const struct sockaddr_in *)&h->addr)->sin_addr, 4);
	else if (a->family == AF_INET6)
		memcpy(a->b, &((const struct sockaddr_in6 *)&h->addr)->sin6_addr, 16);
	else
		return -1;
	return 0;
}

static int
addr_taken(const struct scenario *sc, const struct lab_addr *a)
{
	struct lab_addr b;

	for (size_t i = 0; i < sc->nhosts; i++)
		if (addr_of_host(&sc->hosts[i], &b) == 0 && b.family == a->family &&
		    memcmp(a->b, b.b, sizeof b.b) == 0)
			return 1;
	return 0;
}

/*
 * The firewall's address on a host's link: the first free address of the
 * host's /24 (IPv4) or /64 (IPv6), .1 or ::1 normally, never one a scenario
 * host uses. It is also the source a `nat` fault masquerades to.
 */
static int
gateway(const struct scenario *sc, const struct scenario_host *h, char *gw, size_t len, char *err,
        size_t errlen)
{
	struct lab_addr a, c;
	size_t last;

	if (addr_of_host(h, &a) == -1) {
		snprintf(err, errlen, "host %s: '%s' is not an IP address", h->name, h->address);
		return -1;
	}
	c = a;
	if (a.family == AF_INET) {
		last = 3; /* the /24: vary the last byte */
	} else {
		memset(c.b + 8, 0, 8); /* the /64: vary the last byte of the interface id */
		last = 15;
	}
	for (unsigned i = 1; i < 255; i++) {
		c.b[last] = (unsigned char)i;
		if (addr_taken(sc, &c))
			continue;
		if (inet_ntop(a.family, c.b, gw, (socklen_t)len) == NULL)
			break;
		return 0;
	}
	snprintf(err, errlen, "host %s: no free address left in its /%s for the lab's gateway",
	         h->name, a.family == AF_INET ? "24" : "64");
	return -1;
}

int
lab_net_check(const struct scenario *sc, char *err, size_t errlen)
{
	char gw[64];

	for (size_t i = 0; i < sc->nhosts; i++)
		if (gateway(sc, &sc->hosts[i], gw, sizeof gw, err, errlen) == -1)
			return -1;
	return 0;
}

/* Runs an `ip -batch` script, inside namespace ns (ip's -n). */
static int
ip_batch(const char *ns, const char *script, char *err, size_t errlen)
{
	char *const argv[] = {"ip", "-n", (char *)ns, "-batch", "-", NULL};
	return lab_cmd(NULL, argv, script, strlen(script), err, errlen);
}

static int
netns_add(const char *ns, char *err, size_t errlen)
{
	char *const argv[] = {"ip", "netns", "add", (char *)ns, NULL};
	char path[128];

	/* not ours to reuse or delete: a lab that was killed left it */
	snprintf(path, sizeof path, "/run/netns/%s", ns);
	if (access(path, F_OK) == 0) {
		snprintf(err, errlen,
		         "namespace %s already exists (left by a killed lab? `lyncmock lab "
		         "--cleanup`, or `ip netns del %s`)",
		         ns, ns);
		return -1;
	}
	return lab_cmd(NULL, argv, NULL, 0, err, errlen);
}

int
lab_net_names(const struct scenario *sc, const char *prefix, char (*names)[64], size_t n)
{
	if (n < sc->nhosts + 1)
		return -1;
	snprintf(names[0], 64, "%s-fw", prefix);
	for (size_t i = 0; i < sc->nhosts; i++)
		ns_name(names[i + 1], 64, prefix, sc->hosts[i].name, i);
	return (int)(sc->nhosts + 1);
}

int
lab_net_up(struct lab_net *net, const struct scenario *sc, const char *prefix, char *err,
           size_t errlen)
{
	char *fw = NULL, *hs = NULL;
	size_t fwlen = 0, hslen = 0;
	FILE *f = NULL;
	bool v6 = false;

	memset(net, 0, sizeof *net);
	snprintf(net->prefix, sizeof net->prefix, "%s", prefix);
	snprintf(net->fw_ns, sizeof net->fw_ns, "%s-fw", prefix);
	if ((net->hosts = calloc(sc->nhosts ? sc->nhosts : 1, sizeof *net->hosts)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	net->nhosts = sc->nhosts;
	for (size_t i = 0; i < sc->nhosts; i++) {
		struct lab_nshost *nh = &net->hosts[i];
		nh->host = &sc->hosts[i];
		ns_name(nh->ns, sizeof nh->ns, prefix, nh->host->name, i);
		snprintf(nh->fw_if, sizeof nh->fw_if, "h%u", (unsigned)(i % 100000000u));
		if (gateway(sc, nh->host, nh->gw, sizeof nh->gw, err, errlen) == -1)
			return -1;
		nh->family = nh->host->addr.ss_family;
		v6 = v6 || nh->family == AF_INET6;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(net->hosts[j].ns, nh->ns) == 0) {
				snprintf(err, errlen, "hosts %s and %s map to one namespace name",
				         net->hosts[j].host->name, nh->host->name);
				return -1;
			}
		}
	}

	if (netns_add(net->fw_ns, err, errlen) == -1)
		return -1;
	net->fw_created = true;
	for (size_t i = 0; i < net->nhosts; i++) {
		if (netns_add(net->hosts[i].ns, err, errlen) == -1)
			return -1;
		net->hosts[i].created = true;
	}

	/* IPv6: no duplicate address detection, so addresses work at once */
	for (size_t i = 0; v6 && i <= net->nhosts; i++) {
		const char *ns = i < net->nhosts ? net->hosts[i].ns : net->fw_ns;
		if (lab_ns_sysctl(ns, "/proc/sys/net/ipv6/conf/default/accept_dad", "0", err,
		                  errlen) == -1 ||
		    lab_ns_sysctl(ns, "/proc/sys/net/ipv6/conf/all/accept_dad", "0", err, errlen) ==
		        -1)
			goto fail;
	}

	/* the firewall side: one veth per host, so every path crosses its forward chain */
	if ((f = open_memstream(&fw, &fwlen)) == NULL)
		goto oom;
	fprintf(f, "link set lo up\n");
	for (size_t i = 0; i < net->nhosts; i++) {
		const struct lab_nshost *nh = &net->hosts[i];
		const char *plen = nh->family == AF_INET6 ? "128" : "32";
		fprintf(f,
		        "link add %s type veth peer name eth0 netns %s\n"
		        "addr add %s/%s dev %s%s\n"
		        "link set %s up\n"
		        "route add %s/%s dev %s\n",
		        nh->fw_if, nh->ns, nh->gw, plen, nh->fw_if,
		        nh->family == AF_INET6 ? " nodad" : "", nh->fw_if, nh->host->address, plen,
		        nh->fw_if);
	}
	if (fclose(f) != 0) {
		f = NULL;
		goto oom;
	}
	f = NULL;
	if (ip_batch(net->fw_ns, fw, err, errlen) == -1)
		goto fail;
	if (lab_ns_sysctl(net->fw_ns, "/proc/sys/net/ipv4/ip_forward", "1", err, errlen) == -1)
		goto fail;
	if (v6 && lab_ns_sysctl(net->fw_ns, "/proc/sys/net/ipv6/conf/all/forwarding", "1", err,
	                        errlen) == -1)
		goto fail;

	/* the host side: its address alone on the link, everything via the firewall */
	for (size_t i = 0; i < net->nhosts; i++) {
		const struct lab_nshost *nh = &net->hosts[i];
		free(hs);
		hs = NULL;
		if ((f = open_memstream(&hs, &hslen)) == NULL)
			goto oom;
		if (nh->family == AF_INET6)
			fprintf(f,
			        "link set lo up\n"
			        "addr add %s/128 dev eth0 nodad\n"
			        "link set eth0 up\n"
			        "route add ::/0 via %s dev eth0 onlink\n",
			        nh->host->address, nh->gw);
		else
			fprintf(f,
			        "link set lo up\n"
			        "addr add %s/32 dev eth0\n"
			        "link set eth0 up\n"
			        "route add default via %s dev eth0 onlink\n",
			        nh->host->address, nh->gw);
		if (fclose(f) != 0) {
			f = NULL;
			goto oom;
		}
		f = NULL;
		if (ip_batch(nh->ns, hs, err, errlen) == -1)
			goto fail;
	}
	free(fw);
	free(hs);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (f != NULL)
		fclose(f);
	free(fw);
	free(hs);
	return -1;
}

int
lab_net_nft(struct lab_net *net, const char *ruleset, size_t len, char *err, size_t errlen)
{
	char *const argv[] = {"nft", "-f", "-", NULL};
	return lab_cmd(net->fw_ns, argv, ruleset, len, err, errlen);
}

const struct lab_nshost *
lab_net_host(const struct lab_net *net, const struct scenario_host *h)
{
	for (size_t i = 0; i < net->nhosts; i++)
		if (net->hosts[i].host == h)
			return &net->hosts[i];
	return NULL;
}

void
lab_net_down(struct lab_net *net)
{
	char err[512];

	/* deleting a namespace deletes its veth ends, and so their peers */
	for (size_t i = 0; i < net->nhosts; i++) {
		struct lab_nshost *nh = &net->hosts[i];
		char *const argv[] = {"ip", "netns", "del", nh->ns, NULL};
		if (nh->created && lab_cmd(NULL, argv, NULL, 0, err, sizeof err) == -1)
			fprintf(stderr, "lyncmock lab: %s\n", err);
		nh->created = false;
	}
	if (net->fw_created) {
		char *const argv[] = {"ip", "netns", "del", net->fw_ns, NULL};
		if (lab_cmd(NULL, argv, NULL, 0, err, sizeof err) == -1)
			fprintf(stderr, "lyncmock lab: %s\n", err);
		net->fw_created = false;
	}
	free(net->hosts);
	net->hosts = NULL;
	net->nhosts = 0;
}
