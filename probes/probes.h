/*
 * Probes: one rule from one source host to one destination, classified into
 * one SPEC §3 outcome. Many probes run concurrently on one libevent loop; the
 * engine never prints (report/ does).
 */
#ifndef LM_PROBES_H
#define LM_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "certs/certs.h"
#include "common/lm.h"
#include "scenarios/scenario.h"

/* One certificate of the chain the server sent. */
struct probe_cert {
	char *subject;
	char *issuer;
	char **sans; /* "DNS:dir01.contoso.local" */
	size_t nsans;
	char **ekus; /* "serverAuth", "clientAuth" */
	size_t nekus;
	char *not_after; /* ISO 8601, UTC */
};

struct probe_tls {
	char *version; /* "TLSv1.3"; NULL when no handshake */
	char *cipher;
	bool client_cert_requested;
	bool client_cert_sent;
	char **ca_names; /* acceptable CA names the server advertised */
	size_t nca_names;
	struct probe_cert *chain;
	size_t nchain;
	long verify_result; /* X509_V_OK or X509_V_ERR_* */
	char *verify_error; /* description, with depth and subject */
};

/* What the probe learnt beyond the outcome: the facts the fix sentence is
 * built from (report/report_outcome.c). NULL / 0 / false: not known. */
struct probe_facts {
	char *answered_by;      /* the address that sent the reset / ICMP error, or the proxy */
	char *answer;           /* "tcp-reset", "icmp-port-unreachable", "icmp-admin-prohibited",
	                           "icmp-host-unreachable", "icmp-net-unreachable"; "fin", "rst" */
	char *sent;             /* cut-after-connect: what we had sent ("ClientHello"), or NULL */
	double waited_ms;       /* no-answer: how long nothing came back */
	unsigned mtu;           /* mtu-blackhole: packets of about this size still pass */
	char *reached_host;     /* wrong-responder: the scenario host actually reached */
	char *reached_name;     /* ...and the name its certificate gives */
	bool server_swapped;    /* tls-intercepted: the listener served another certificate */
	bool client_swapped;    /* ...the listener saw another client certificate */
	char *seen_client_cert; /* the client certificate the listener saw (subject) */
	char *headers;          /* proxied: the headers the proxy added ("Via, X-Forwarded-For") */
	int status;             /* a foreign peer's HTTP/SIP status, 0 when none */
	char *server;           /* its Server / User-Agent header */
};

/* The result of one probe: what reports consume and JSON carries. */
struct probe_result {
	char *rule_id; /* NULL for ad-hoc URL probes */
	enum lm_service service;
	uint16_t port;
	char *src_host; /* scenario host name, or NULL */
	char *src_addr; /* the address we bound/connected from */
	char *dst_host;
	char *dst_addr;
	char *src_role; /* scenario roles ("director"), or NULL: DOT groups by them */
	char *dst_role;
	char *target; /* the name used for TLS verification (FQDN) */
	bool expect_blocked;
	enum lm_outcome outcome;
	bool ok;      /* the verdict: outcome matches the expectation */
	char *detail; /* technical: "connect: Connection refused", "alert unknown_ca"… */
	char *fix;    /* one human sentence: what to fix (empty when ok) */
	double t_connect_ms, t_handshake_ms, t_first_ms; /* < 0: not reached */
	double t_total_ms;                               /* start to outcome; < 0: unknown */
	bool via_proxy;                                  /* the rule says `via: proxy` */
	struct probe_facts facts;
	struct probe_tls tls;
	char *peer_seen; /* the source address the listener reported */
	char *identity;  /* the identity record received (JSON text), or NULL */
	/* lab: the firewall rule that decided this path, as a sentence ("dropped by
	 * `drop all from clients` (chain forward, line 41 of corp.nft)"), or NULL */
	char *firewall_rule;
	unsigned hold_ms; /* --hold: the idle time this result was held (not in JSON) */
};

/* A set of results from one probe run (or merged runs). */
struct probe_run {
	char *scenario;
	char *source_host; /* NULL for merged/ad-hoc */
	char *started;     /* ISO 8601 UTC */
	double duration_ms;
	bool partial; /* interrupted: only finished probes are present */
	char *note;   /* one line worth telling the user (e.g. source not bound), or NULL */
	struct probe_result *results;
	size_t n, cap;
};

struct probe_run *probe_run_new(const char *scenario, const char *source_host);
/* Appends a zeroed result and returns it (owned by run). */
struct probe_result *probe_run_add(struct probe_run *run);
void probe_run_free(struct probe_run *run);
void probe_result_clear(struct probe_result *r);
/* Counts results whose verdict is not OK. */
size_t probe_run_failures(const struct probe_run *run);

struct probe_options {
	unsigned timeout_ms; /* per step: connect, handshake, answer (default 3000) */
	unsigned parallel;   /* probes in flight (default: what RLIMIT_NOFILE allows) */
	/* TLS handshakes in flight (default PROBE_TLS_PER_CPU per CPU): beyond
	 * that, a connected probe waits before its handshake step starts */
	unsigned tls_parallel;
	/* a slot file from probe_slots_create(): the budget of handshakes in
	 * flight shared with other processes (the lab's), or NULL */
	const char *tls_slots;
	bool allow_foreign;  /* a valid non-mock answer is foreign-peer, verdict OK */
	bool no_client_cert; /* do not present a client certificate */
	bool no_bind;        /* do not bind the source host's scenario address */
	bool debug_tls;      /* handshake trace to debug_out */
	FILE *debug_out;
	int port_offset;     /* added to every destination port */
	unsigned hold_ms;    /* SIP probes: hold the connection idle up to this long, then ask
	                      * again (a series of shorter holds in parallel brackets a cut) */
	int tls_min_version; /* TLS1_2_VERSION when 0; --tls-min lowers it */
	int tls_max_version; /* 0: the highest OpenSSL knows; --tls-max */
	/* ad hoc (URL) probes, like curl and ncat */
	const char *sni;      /* --sni: the TLS name sent and verified */
	char *const *resolve; /* --resolve NAME:ADDR, nresolve of them */
	size_t nresolve;
	const char *source;          /* --source ADDR: bind this source address */
	const char *certs_dir;       /* lab PKI dir for the source's cert and the CA */
	const char *ca, *cert, *key; /* overrides */
	/* rule filters (lab runs a broken rule in a process of its own) */
	char *const *only_rules; /* when nonly_rules > 0: just these rule ids */
	size_t nonly_rules;
	char *const *skip_rules;
	size_t nskip_rules;
	/* called after each finished probe (progress line); may be NULL */
	void (*progress)(void *arg, const struct probe_result *r, size_t done, size_t total);
	void *progress_arg;
	/* polled between events: when it returns true the run stops, partial */
	volatile int *interrupted;
};

/* Handshakes in flight per CPU, per process (and the lab's shared budget). */
#define PROBE_TLS_PER_CPU 32

/* Makes a slot file for n handshakes in flight, shared by the processes
 * given it as probe_options.tls_slots; 0, or -1 with a message. */
int probe_slots_create(const char *path, unsigned n, char *err, size_t errlen);

/* Runs every rule whose source is host (or any) against every destination
 * host of the rule. Returns 0, or -1 with a message in err for a
 * configuration problem found before probing. */
int probe_scenario(const struct scenario *sc, const struct scenario_host *host,
                   const struct probe_options *o, struct probe_run *run, char *err, size_t errlen);

/* Ad-hoc: URLs like sip-mtls://dir01.contoso.local:5061, https://h:443,
 * cls-mtls://h:50001, http://h:80, tcp://h:p. */
int probe_urls(char *const *urls, size_t nurls, const struct probe_options *o,
               struct probe_run *run, char *err, size_t errlen);

#endif
