/*
 * Scenarios: the YAML file that names hosts, roles and rules, loaded and
 * validated once into plain structs. Everything after scenario_load() trusts
 * these structs (OpenBSD parse.y style): listeners and probes never re-check.
 */
#ifndef LM_SCENARIO_H
#define LM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/lm.h"

/* What kind of certificate a role's hosts carry (SPEC §4). */
enum scenario_cert_shape {
	SCENARIO_CERT_POOL,   /* Director / Front End: pool FQDN subject, pool+server+web names */
	SCENARIO_CERT_SERVER, /* Edge internal and user-defined servers: its FQDN */
	SCENARIO_CERT_CLIENT  /* sources (reverse proxy, clients): clientAuth only */
};

struct scenario_role {
	char *name; /* "director", or a user-defined role */
	enum scenario_cert_shape cert_shape;
	bool builtin;
	int line;
};

struct scenario_host {
	char *name; /* "dir01" */
	const struct scenario_role *role;
	char *address; /* "198.18.1.10" (IPv4 or IPv6, canonical text): for printing */
	/* the same parsed once by the loader (port 0): what binds, connects and
	 * compares use; nothing re-parses address */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *fqdn; /* may be NULL for pure sources; then certs use name.domain */
	char *pool; /* pool FQDN, may be NULL */
	/* Further SANs, deduplicated against fqdn/pool: for pool-shaped roles the
	 * scenario's simple_urls, lyncdiscoverinternal.<domain>,
	 * lyncdiscover.<domain>, the host's web_services and its `san` list; for
	 * other roles only its `san` list. Certs: subject = pool (else the FQDN),
	 * SANs = pool + FQDN + san_extra. */
	char **san_extra;
	size_t nsan_extra;
	/* Optional per-host certificate and key paths (the user's own PKI); a
	 * relative path in a scenario file is made relative to that file's folder. */
	char *cert, *key;
	int line;
};

/* One endpoint of a rule as written: a role, a host or `any`. */
struct scenario_endpoint {
	char *text; /* as written in the file */
	bool any;
	const struct scenario_role *role; /* set when text names a role */
	const struct scenario_host *host; /* set when text names a host */
};

/* The most ports one rule may sample from a range. */
#define SCENARIO_MAX_SAMPLE 64
#define SCENARIO_DEFAULT_SAMPLE 8

struct scenario_rule {
	char *id;
	enum lm_service service;
	uint16_t port;    /* the port, or the first of a range (`port: 50000-59999`) */
	uint16_t port_hi; /* the range's last port; == port for one port */
	/* The ports probed and listened on, ascending: the port itself, or
	 * `sample: N` (default 8) ports of the range spread evenly from its first
	 * to its last (both ends included: that is where firewall ranges are
	 * mistyped), the same ones every run. Firewalls open the whole range. */
	uint16_t *ports;
	size_t nports;
	struct scenario_endpoint from, to;
	bool expect_blocked; /* expect: blocked */
	bool via_proxy;      /* via: proxy — an HTTP proxy on the path is the design */
	enum lm_client_cert client_cert;
	/*
	 * Resolved hosts (pointers into scenario.hosts), in file order.
	 * `from: any` means every host of the scenario other than the rule's
	 * destinations. A more specific rule wins: when another rule on the same
	 * port, covering all of this rule's destinations, names a source more
	 * specifically (host > role > any) and expects the opposite, its sources
	 * are left out of this rule's from_hosts (so `any-edge-cls1` excludes cl01
	 * when `clients-edge-cls-blocked` blocks internal-client on 50001). Any
	 * other overlap with opposite expectations is rejected by the loader.
	 * A rule may list a host both as source and destination (front-end to
	 * front-end across a pool): such self pairs are not paths and are skipped
	 * (scenario_path_count does; probes must too).
	 */
	const struct scenario_host **from_hosts;
	size_t nfrom;
	const struct scenario_host **to_hosts;
	size_t nto;
	int line;
};

struct scenario {
	char *file; /* path for messages: "scenarios/single-director.yaml" */
	char *name;
	char *domain;
	struct scenario_role *roles;
	size_t nroles;
	struct scenario_host *hosts;
	size_t nhosts;
	struct scenario_rule *rules;
	size_t nrules;
	/* hosts sorted by name, for scenario_host_find (private to scenarios/) */
	uint32_t *host_index;
	size_t nhost_index;
};

/*
 * Loads and validates a scenario. `spec` is a file path, or the name of a
 * built-in scenario ("single-director"; used only when no file of that name
 * exists), or NULL for the default one. On error returns NULL and writes one
 * "FILE:LINE: message" per problem, newline-separated, sorted by line, no
 * trailing newline, into err (every problem found, not only the first; a
 * missing file gives "FILE: cannot read scenario: ..."). Files are capped at
 * 8 MiB, 16384 hosts, 65536 rules, 5,000,000 paths and 16 levels of YAML
 * nesting; every check runs in time linear in hosts, rules and paths (plus
 * sorting), so 100,000 paths load in well under a second.
 */
struct scenario *scenario_load(const char *spec, char *err, size_t errlen);
/* The same from a buffer; `file` is the name used in messages. */
struct scenario *scenario_load_buffer(const char *file, const char *text, size_t len, char *err,
                                      size_t errlen);
void scenario_free(struct scenario *sc);

const struct scenario_host *scenario_host_find(const struct scenario *sc, const char *name);
const struct scenario_role *scenario_role_find(const struct scenario *sc, const char *name);
/* The FQDN a probe uses to reach host (and a listener's certificate names):
 * fqdn, else name.domain. */
const char *scenario_host_fqdn(const struct scenario *sc, const struct scenario_host *h, char *buf,
                               size_t len);
bool scenario_rule_has_source(const struct scenario_rule *r, const struct scenario_host *h);
bool scenario_rule_has_dest(const struct scenario_rule *r, const struct scenario_host *h);

/* One listening socket a destination host needs: rules to the same port are
 * merged (validation guarantees they agree on the service). Rules that
 * `expect: blocked` count too: the destination listens, so a lab run proves
 * the firewall blocks the path rather than that nothing was listening. */
struct scenario_listen {
	enum lm_service service;
	uint16_t port;
	enum lm_client_cert client_cert;  /* strictest effective policy of the merged rules
	                                    (required > optional > none; never LM_CC_DEFAULT) */
	const struct scenario_rule *rule; /* the first rule naming this port */
};
/* Fills out[] (up to max) with the sockets host h must listen on, sorted by
 * port; returns how many it needs (may exceed max). */
size_t scenario_listens_of(const struct scenario *sc, const struct scenario_host *h,
                           struct scenario_listen *out, size_t max);

/* "tcp" or "udp": the transport of the rule's service. */
const char *scenario_rule_l4(const struct scenario_rule *r);
/* "3478", or the range with sep between its ends ("50000-59999", iptables "50000:59999"). */
const char *scenario_rule_ports(const struct scenario_rule *r, char sep, char *buf, size_t len);
/* Same transport and overlapping ports: the rules speak of the same sockets. */
bool scenario_rules_share_port(const struct scenario_rule *a, const struct scenario_rule *b);

/* Number of (source, destination) host pairs over all rules, self pairs left out. */
size_t scenario_path_count(const struct scenario *sc);
const char *scenario_cert_shape_name(enum scenario_cert_shape shape);

/* Prints the matrix (rule, service, port, from hosts, to hosts, expect). */
void scenario_print_table(const struct scenario *sc, FILE *f);

#endif
