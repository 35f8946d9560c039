/*
 * Firewall: the rules that open exactly a scenario's paths, as nftables,
 * iptables-restore input and Windows PowerShell. The lab loads the nft
 * output itself (with its faults applied), so what the lab proves is what
 * the user gets.
 */
#ifndef LM_FIREWALL_H
#define LM_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "scenarios/scenario.h"

enum firewall_format {
	FIREWALL_NFT,
	FIREWALL_IPTABLES,
	FIREWALL_IP6TABLES,
	FIREWALL_POWERSHELL,
	FIREWALL_CSV
};
int firewall_format_from_name(const char *name, enum firewall_format *fmt);

/* One open path: a TCP flow from src to dst on the rule's port. */
struct firewall_path {
	const struct scenario_rule *rule; /* the first open rule naming it */
	const struct scenario_host *src, *dst;
};

/*
 * Every open path once, in rule order: each open rule's sources x
 * destinations on its port, without self paths (they never cross a
 * firewall), duplicates, or paths an `expect: blocked` rule names (a path
 * that must stay shut is never opened). *out is malloc'd (NULL when n is 0).
 */
int firewall_paths(const struct scenario *sc, struct firewall_path **out, size_t *n);

/* Faults the lab injects into one rule's paths. */
enum firewall_fault {
	FIREWALL_FAULT_DROP,   /* drop instead of accept: filtered */
	FIREWALL_FAULT_REJECT, /* reject with tcp reset: refused */
	FIREWALL_FAULT_NAT     /* accept, and masquerade the path: nat-detected */
};
struct firewall_fault_spec {
	const char *rule_id;
	enum firewall_fault kind;
};

struct firewall_opts {
	bool input_chain;      /* nft/iptables: a host firewall (input hook) instead of forward */
	const char *only_host; /* input chain: just the paths into this host (NULL: all) */
	const struct firewall_fault_spec *faults; /* nft only (the lab) */
	size_t nfaults;
};

/* Each renders into a malloc'd string (*out, *outlen); 0, or -1 with a
 * message in err. opts may be NULL. */
int firewall_nft(const struct scenario *sc, const struct firewall_opts *opts, char **out,
                 size_t *outlen, char *err, size_t errlen);
/* iptables-restore input for the IPv4 paths; ip6tables-restore input for the IPv6 ones. */
int firewall_iptables(const struct scenario *sc, const struct firewall_opts *opts, char **out,
                      size_t *outlen, char *err, size_t errlen);
int firewall_ip6tables(const struct scenario *sc, const struct firewall_opts *opts, char **out,
                       size_t *outlen, char *err, size_t errlen);
int firewall_powershell(const struct scenario *sc, const struct firewall_opts *opts, char **out,
                        size_t *outlen, char *err, size_t errlen);
/* The flow table a firewall team works from (RFC 4180 CSV, written with libcsv): a header,
 * then one row per open path: rule_id, source_host, source_address, destination_host,
 * destination_address, protocol, port, service, purpose, reference (the Microsoft page),
 * action (allow). */
int firewall_csv(const struct scenario *sc, const struct firewall_opts *opts, char **out,
                 size_t *outlen, char *err, size_t errlen);
/* Dispatches on fmt. */
int firewall_render(const struct scenario *sc, enum firewall_format fmt,
                    const struct firewall_opts *opts, char **out, size_t *outlen, char *err,
                    size_t errlen);

/* Helpers the format writers share: AF_INET/AF_INET6 of an address
 * literal (-1 if neither), and a copy of s safe inside any quoted comment
 * or name (letters, digits and ._:- kept, anything else '_'). */
int firewall_addr_family(const char *addr);
const char *firewall_label(const char *s, char *buf, size_t len);

/* What a format writer writes with: the stream and the scenario's paths. */
struct firewall_doc {
	FILE *f;
	const struct scenario *sc;
	const struct firewall_opts *o; /* may be NULL */
	const struct firewall_path *paths;
	size_t npaths;
	/* paths of rule k (index in sc->rules): [rule_first[k], rule_end[k]) */
	size_t *rule_first, *rule_end;
};
/* Computes the paths, runs body on an in-memory stream and hands back its
 * text as the writers above do (0, or -1 with err set). */
int firewall_doc_render(const struct scenario *sc, const struct firewall_opts *o,
                        void (*body)(struct firewall_doc *), char **out, size_t *outlen, char *err,
                        size_t errlen);
/* The next path from index *i on (advancing *i past it) of rule r into
 * host dst; NULL r or dst matches any. NULL when there is none left. */
const struct firewall_path *firewall_path_next(const struct firewall_doc *d,
                                               const struct scenario_rule *r, const char *dst,
                                               size_t *i);
/* Writes the comment heading rule r's lines, in the format's words for
 * accept and drop; returns false when r is `expect: blocked` (no lines). */
bool firewall_rule_heading(FILE *f, const char *indent, const struct scenario_rule *r,
                           const char *accept, const char *drop);

/* ---- a flow table read back (lab --firewall FLOWS.csv) --------------------- */
enum firewall_proto { FIREWALL_PROTO_TCP, FIREWALL_PROTO_UDP, FIREWALL_PROTO_ANY };
struct firewall_flow {
	int line;        /* the row's line in the file */
	char *id;        /* rule_id (may be "") */
	char *src, *dst; /* an address, a CIDR, a scenario host name, or "any" */
	enum firewall_proto proto;
	unsigned port_lo, port_hi; /* 0, 0: any port */
	bool allow;                /* else dropped (rejected when reject) */
	bool reject;
	char *purpose;
};
/* Parses a CSV flow table with libcsv: a header row naming the columns (any
 * order, `firewall --format csv`'s names or common aliases: source, destination,
 * protocol, port, action...), then one flow per row; blank rows and rows whose
 * first cell starts with # are skipped. 0, or -1 with "NAME:LINE: message". */
int firewall_flows_read(const char *name, const char *text, size_t len, struct firewall_flow **out,
                        size_t *n, char *err, size_t errlen);
void firewall_flows_free(struct firewall_flow *f, size_t n);
/* The flows as an nft ruleset (table inet flows, forward chain, policy drop,
 * rows in order); each rule's comment names its row ("NAME line 4: id").
 * Host names resolve in sc. 0, or -1 with "NAME:LINE: message". */
int firewall_flows_nft(const struct scenario *sc, const char *name,
                       const struct firewall_flow *flows, size_t n, char **out, size_t *outlen,
                       char *err, size_t errlen);

#endif
