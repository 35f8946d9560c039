/* Private to lab/: namespaces (lab_netns.c) and child processes (lab_proc.c). */
#ifndef LM_LAB_INT_H
#define LM_LAB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "certs/certs.h"
#include "lab/lab.h"
#include "scenarios/scenario.h"

/* ---- faults (lab_fault.c) -------------------------------------------------- */
const struct scenario_rule *lab_rule_find(const struct scenario *sc, const char *id);
/* Checks every --break against the scenario: the rule exists, is open, and
 * the kind makes sense for its service and listener. Notes on faults that
 * touch other rules go to log. 0, or -1 with a message in err. */
int lab_faults_check(const struct scenario *sc, const struct lab_fault *faults, size_t nfaults,
                     FILE *log, char *err, size_t errlen);

/* ---- PKI (lab_pki.c) -------------------------------------------------------- */
/* certs_init() into dir, the hosts' keys made by parallel workers. */
int lab_pki_init(const struct scenario *sc, const char *dir, const struct certs_init_opts *co,
                 char *err, size_t errlen);

/* ---- processes (lab_proc.c) ---------------------------------------------- */
/* Runs argv (PATH lookup) to completion, inside namespace ns when not NULL,
 * feeding it input; 0 when it exits 0, else -1 with its stderr in err. */
int lab_cmd(const char *ns, char *const argv[], const char *input, size_t inlen, char *err,
            size_t errlen);
/* Writes value to a /proc/sys file as seen from namespace ns. */
int lab_ns_sysctl(const char *ns, const char *path, const char *value, char *err, size_t errlen);

struct lab_spawn {
	const char *path;     /* the program (no PATH lookup); NULL: argv[0] */
	const char *ns;       /* namespace name, or NULL */
	int out_fd, err_fd;   /* the child's stdout/stderr (-1: /dev/null) */
	int fd3;              /* becomes the child's fd 3 (-1: none), e.g. a ready pipe */
	bool die_with_parent; /* PR_SET_PDEATHSIG: SIGTERM when the lab dies */
};
/* Starts a program in its own process group; the
 * pid, or -1 with a message in err (exec failures included). */
pid_t lab_spawn(const struct lab_spawn *s, char *const argv[], char *err, size_t errlen);

/* ---- namespaces (lab_netns.c) -------------------------------------------- */
struct lab_nshost {
	const struct scenario_host *host;
	char ns[64];    /* "lm1234-dir01" */
	char fw_if[16]; /* its veth end in the firewall namespace: "h2" */
	char gw[64];    /* the firewall's address on that link */
	int family;     /* AF_INET or AF_INET6, of the host's address */
	bool created;
};

struct lab_net {
	char prefix[32]; /* "lm1234" */
	char fw_ns[64];  /* "lm1234-fw" */
	bool fw_created;
	struct lab_nshost *hosts;
	size_t nhosts;
};

/* Can the lab build this scenario's topology (a free gateway address in
 * each host's /24 or /64)? 0, or -1 with a message in err. */
int lab_net_check(const struct scenario *sc, char *err, size_t errlen);
/* Builds the firewall namespace and one namespace per host, each linked to
 * the firewall by its own veth pair (host /32 or /128, default route via the
 * firewall's gateway address, on-link), forwarding on. On failure what was made stays recorded in
 * net for lab_net_down(). */
int lab_net_up(struct lab_net *net, const struct scenario *sc, const char *prefix, char *err,
               size_t errlen);
/* Loads an nft ruleset into the firewall namespace. */
int lab_net_nft(struct lab_net *net, const char *ruleset, size_t len, char *err, size_t errlen);
/* Deletes every namespace net created (idempotent) and frees its arrays. */
void lab_net_down(struct lab_net *net);
const struct lab_nshost *lab_net_host(const struct lab_net *net, const struct scenario_host *h);

#endif
