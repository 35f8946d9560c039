/* Test helpers for the certs tests: a hand-built single-director scenario and temp dirs. */
#ifndef TEST_CERTS_COMMON_H
#define TEST_CERTS_COMMON_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs/certs.h"

/* The built-in single-director hosts, built by hand so the certs tests do not
 * depend on the scenario loader. Static storage: nothing to free. */
static struct scenario_role tc_roles[] = {
    {"reverse-proxy", SCENARIO_CERT_CLIENT, true, 0},
    {"internal-client", SCENARIO_CERT_CLIENT, true, 0},
    {"director", SCENARIO_CERT_POOL, true, 0},
    {"front-end", SCENARIO_CERT_POOL, true, 0},
    {"edge-internal", SCENARIO_CERT_SERVER, true, 0},
};
static char *tc_dir_sans[] = {"meet.contoso.local", "dialin.contoso.local",
                              "lyncdiscoverinternal.contoso.local", "lyncdiscover.contoso.local",
                              "dirweb.contoso.local"};
static char *tc_fe_sans[] = {"meet.contoso.local", "dialin.contoso.local",
                             "lyncdiscoverinternal.contoso.local", "lyncdiscover.contoso.local"};
#define TC_HOST(n, r, a, f, p, sans, nsans)                                                        \
	{                                                                                          \
		.name = (n), .role = &tc_roles[r], .address = (a), .fqdn = (f), .pool = (p),       \
		.san_extra = (sans), .nsan_extra = (nsans)                                         \
	}
static struct scenario_host tc_hosts[] = {
    TC_HOST("rp01", 0, "198.18.0.10", NULL, NULL, NULL, 0),
    TC_HOST("cl01", 1, "198.18.0.20", NULL, NULL, NULL, 0),
    TC_HOST("dir01", 2, "198.18.1.10", "dir01.contoso.local", "dirpool.contoso.local", tc_dir_sans,
            5),
    TC_HOST("fe01", 3, "198.18.1.20", "fe01.contoso.local", "fepool.contoso.local", tc_fe_sans, 4),
    TC_HOST("edge01", 4, "198.18.1.30", "edge01-int.contoso.local", NULL, NULL, 0),
};
static struct scenario tc_scenario = {
    .file = "test",
    .name = "single-director",
    .domain = "contoso.local",
    .roles = tc_roles,
    .nroles = 5,
    .hosts = tc_hosts,
    .nhosts = 5,
};

static inline const struct scenario_host *
tc_host(const char *name)
{
	for (size_t i = 0; i < tc_scenario.nhosts; i++) {
		if (strcmp(tc_scenario.hosts[i].name, name) == 0)
			return &tc_scenario.hosts[i];
	}
	return NULL;
}

static inline char *
tc_mkdtemp(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/lmcerts.XXXXXX");
	return mkdtemp(buf);
}

static inline void
tc_rmrf(const char *dir)
{
	char cmd[PATH_MAX + 16];
	if (strncmp(dir, "/tmp/lmcerts.", 13) != 0)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
