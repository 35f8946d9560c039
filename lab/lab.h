/*
 * The lab: a scenario's whole matrix on one Linux machine. A network
 * namespace per host behind a firewall namespace loaded with the scenario's
 * nft rules, `listen` and `probe` run in their namespaces, faults injected on
 * request, results merged into one report, everything torn down.
 */
#ifndef LM_LAB_H
#define LM_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "certs/certs.h"
#include "common/lm.h"
#include "report/report.h"

/* --break RULE=KIND: a real fault for one rule, and the outcome it must show. */
enum lab_fault_kind {
	LAB_FAULT_DROP,           /* the firewall drops the rule's paths: filtered */
	LAB_FAULT_REJECT,         /* the firewall resets them: refused */
	LAB_FAULT_WRONG_CA,       /* the listener's certificate is from another CA: tls-untrusted */
	LAB_FAULT_NO_CLIENT_CERT, /* the source presents no client certificate: tls-client-rejected
	                           */
	LAB_FAULT_PLAINTEXT,      /* the port is served without TLS: tls-failed */
	LAB_FAULT_NAT,            /* the firewall masquerades the paths: nat-detected */
	LAB_FAULT_IDLE_TIMEOUT, /* idle-timeout:S, a short conntrack timeout on the paths: idle-cut
	                         */
	LAB_FAULT__COUNT
};

struct lab_fault {
	char rule_id[128];
	enum lab_fault_kind kind;
	unsigned seconds; /* idle-timeout:S */
};

const char *lab_fault_name(enum lab_fault_kind kind);
enum lm_outcome lab_fault_outcome(enum lab_fault_kind kind);
/* Parses "RULE=KIND"; 0 or -1. */
int lab_fault_parse(const char *text, struct lab_fault *f);
/* The kinds as --break takes them, for messages: "drop, reject, ..., idle-timeout:S". */
const char *lab_fault_kinds(void);

#define LAB_MAX_FAULTS 16

/* --iface NAME=HOST|ROLE: an interface name of the user's rule set, mapped onto
 * the firewall's link to that host (or a bridge of the role's hosts' links). */
struct lab_iface {
	char name[16];
	char target[128];
};
#define LAB_MAX_IFACES 32
/* Parses "NAME=HOST|ROLE"; 0 or -1. */
int lab_iface_parse(const char *text, struct lab_iface *i);

struct lab_opts {
	const char *scenario; /* file or built-in name; NULL: the default */
	struct lab_fault faults[LAB_MAX_FAULTS];
	size_t nfaults;
	const char *certs_dir;        /* NULL: a fresh lab PKI in the temp dir */
	enum certs_key_type key_type; /* of that fresh PKI (RSA 2048 like Lync's) */
	bool keep;                    /* leave namespaces and listeners up */
	unsigned timeout_ms;          /* per probe (default 2000) */
	FILE *log;                    /* progress and resource lines (stderr) */
	const char *firewall;         /* the user's rule set (nft, iptables-save or CSV), or NULL */
	struct lab_iface ifaces[LAB_MAX_IFACES];
	size_t nifaces;
	bool sweep;       /* also probe ports the scenario does not need (open-not-required) */
	unsigned hold_ms; /* SIP probes held idle this long, then asked again (idle-cut) */
	/* Runs a lyncmock command line: listeners and probes are forked children
	 * that call it (no exec, so no second dynamic linking of ~60 libraries
	 * per process); NULL: they exec this binary. */
	int (*self_main)(int argc, char **argv);
};

/* Runs the lab; while it runs, SIGINT/SIGTERM/SIGHUP stop it (what finished is
 * kept, marked partial) and SIGCHLD is its own. Once the probes ran, *run is the
 * merged run (the caller writes and frees it: probe_run_free), else NULL.
 * Returns LM_EXIT_OK (every verdict OK), LM_EXIT_FAIL, or LM_EXIT_USAGE with a
 * message in err (bad scenario or --break, not root, a namespace, listener or
 * probe that could not start). */
int lab_run(const struct lab_opts *o, struct probe_run **run, char *err, size_t errlen);

/* lab --cleanup: for every lab recorded under /run/lyncmock (LYNCMOCK_RUN_DIR)
 * whose process is gone, stops its recorded processes (only while each is
 * still the recorded one: pid and start time), deletes its namespaces and its
 * temp dir, and says so on out; running labs are named and left alone.
 * LM_EXIT_OK, LM_EXIT_FAIL (something could not be removed: err says what), or
 * LM_EXIT_USAGE (not root). */
int lab_cleanup(FILE *out, char *err, size_t errlen);

#endif
