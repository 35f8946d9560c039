/* Private to lab/: namespaces (lab_netns.c) and child processes (lab_proc.c). */
#ifndef LM_LAB_INT_H
#define LM_LAB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <limits.h>
#include <sys/types.h>

#include "certs/certs.h"
#include "firewall/firewall.h"
#include "lab/lab.h"
#include "scenarios/scenario.h"

/* ---- faults (lab_fault.c) -------------------------------------------------- */
/* Where a fault kind is made real. */
enum lab_fault_inject {
	LAB_INJECT_FIREWALL,       /* a verdict of the generated nft ruleset (.firewall) */
	LAB_INJECT_CONNTRACK,      /* a conntrack timeout table of its own (lab_faults_idle_load) */
	LAB_INJECT_PLAINTEXT,      /* the listener serves the port without TLS (--plaintext) */
	LAB_INJECT_OTHER_CA,       /* the listener's certificate from a second CA (--port-cert) */
	LAB_INJECT_NO_CLIENT_CERT, /* the rule's probes run alone, without a client certificate */
};

/* Which rules a kind applies to (lab_faults_check refuses the others). */
#define LAB_APPLIES_TLS 0x01         /* the service speaks TLS */
#define LAB_APPLIES_CC_REQUIRED 0x02 /* every listener of the rule requires a client cert */
#define LAB_APPLIES_SIP 0x04         /* SIP (what --hold holds) */
#define LAB_APPLIES_OWN_PATH 0x08    /* the firewall opens a path of the rule's own */
/* changes the listener itself: one such fault per listener, other rules to it noted */
#define LAB_APPLIES_LISTENER 0x10

/* One row per fault kind: every use of a kind reads its row. */
struct lab_fault_info {
	const char *name;
	enum lm_outcome outcome; /* what the report must show */
	enum lab_fault_inject inject;
	enum firewall_fault firewall; /* LAB_INJECT_FIREWALL: the firewall module's fault */
	unsigned applies;             /* LAB_APPLIES_* */
	bool seconds;                 /* written KIND:S */
	bool needs_hold;              /* shows only on held connections (--hold) */
};
const struct lab_fault_info *lab_fault_info(enum lab_fault_kind kind);
/* True when some fault of the list is injected that way. */
bool lab_faults_use(const struct lab_fault *faults, size_t nfaults, enum lab_fault_inject how);

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
/* The lab PKI for sc's hosts, from the cache (LYNCMOCK_CACHE_DIR, default
 * /var/cache/lyncmock) when one was made for the same hosts and options and
 * is young enough, else made there (lab_pki_init) and kept: its path in dir,
 * *reused says which. 0, or -1 with a message in err. */
int lab_pki_cached(const struct scenario *sc, const struct certs_init_opts *co, char *dir,
                   size_t dirlen, bool *reused, char *err, size_t errlen);
/* Removes path and everything under it (symlinks not followed); best effort. */
void lab_rmtree(const char *path);

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
	int nice;             /* added to the child's nice value (0: none) */
	/* instead of exec: the child calls this with argv and exits with its
	 * result (descriptors marked close-on-exec are closed first, as exec would) */
	int (*self_main)(int argc, char **argv);
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

/* ---- the user's firewall (lab_userfw.c) --------------------------------- */
enum lab_userfw_kind { LAB_USERFW_NFT, LAB_USERFW_IPTABLES, LAB_USERFW_IP6TABLES, LAB_USERFW_CSV };
const char *lab_userfw_kind_name(enum lab_userfw_kind k);

/* One rule of the loaded rule set and where it is written. */
struct lab_fwrule {
	char family[8], table[64], chain[64];
	size_t index;  /* its position in the chain */
	int line;      /* in the file (0: added by lyncmock) */
	char *text;    /* the line as written */
	char *comment; /* its comment, or NULL */
	long handle;   /* its nft handle once loaded, or -1 */
};

struct lab_userfw {
	char path[PATH_MAX];
	char name[256]; /* the file's base name, for messages */
	enum lab_userfw_kind kind;
	struct lab_fwrule *rules;
	size_t nrules;
	char **ifnames; /* interface names the file matches on */
	size_t nifnames;
	char ifname_buf[64][16];
};

/* Reads path, decides its kind from its content and records where each rule
 * is; a flow table is turned into nft text (*nft, malloc'd) here. 0, or -1 with
 * a message (the CSV reader's "FILE:LINE: ..." for a bad table). */
int lab_userfw_read(struct lab_userfw *u, const char *path, const struct scenario *sc, char **nft,
                    size_t *nftlen, char *err, size_t errlen);
/* The same map for nft text lyncmock wrote (name: for messages). */
int lab_userfw_map_text(struct lab_userfw *u, const char *name, const char *text, size_t len);
/* Loads it into the firewall namespace with its own loader (nft -f FILE,
 * iptables-nft-restore, ip6tables-nft-restore); on failure err carries the
 * loader's message, line included. */
int lab_userfw_load(const struct lab_userfw *u, const struct lab_net *net, const char *nft,
                    size_t nftlen, char *err, size_t errlen);
void lab_userfw_free(struct lab_userfw *u);

/* The file's interface names, each taken by the --iface mappings given, else by
 * a host or role of that name; others are warned about on log. */
int lab_ifaces_resolve(const struct scenario *sc, const struct lab_userfw *u,
                       const struct lab_iface *in, size_t nin, struct lab_iface *out, size_t *nout,
                       FILE *log, char *err, size_t errlen);
/* Gives the firewall's links those names (a bridge for several hosts). */
int lab_ifaces_apply(struct lab_net *net, const struct lab_iface *ifs, size_t n, char *err,
                     size_t errlen);

/* --break RULE=idle-timeout:S: a table of its own in the firewall namespace
 * gives the rule's paths a conntrack timeout of S seconds (nft ct timeout).
 * held: connections are held (--hold), so the firewall forgets idle ones the
 * way real ones do: no mid-stream pickup (nf_conntrack_tcp_loose 0). */
int lab_faults_idle_load(const struct lab_net *net, const struct scenario *sc,
                         const struct lab_fault *faults, size_t nfaults, bool held, char *err,
                         size_t errlen);

/* ---- which rule did it (lab_trace.c) --------------------------------------- */
struct lab_trace;
/* Adds the tracing table (nftrace on new TCP/UDP flows and invalid packets in
 * the forward hook, ahead of every other chain), reads the rules' handles,
 * and starts `nft -a monitor trace` in the firewall namespace, writing to
 * DIR/trace.log; returns once the monitor is seen to work. NULL with err. */
struct lab_trace *lab_trace_start(const struct lab_net *net, struct lab_userfw *u, const char *dir,
                                  char *err, size_t errlen);
/* Stops the monitor after everything traced so far is written, and reads it. */
int lab_trace_stop(struct lab_trace *t, char *err, size_t errlen);
/* The rule that decided the first packet from src to dst on proto/port, as a
 * sentence into buf; *dropped tells its verdict. false when no trace matched. */
bool lab_trace_verdict(const struct lab_trace *t, const char *src, const char *dst, int proto,
                       unsigned port, bool *dropped, char *buf, size_t len);
/* Fills firewall_rule of every result of run that a trace matched. */
void lab_trace_annotate(const struct lab_trace *t, struct probe_run *run);
void lab_trace_free(struct lab_trace *t);

/* ---- --sweep (lab_sweep.c) ------------------------------------------------- */
struct lab_sweep;
/* Between every pair of hosts, sends the first packet of each catalog port the
 * scenario does not need (and a sample of others), TCP and UDP, from the
 * source's namespace; the trace judges them. NULL with err. */
struct lab_sweep *lab_sweep_run(const struct lab_net *net, const struct scenario *sc, FILE *log,
                                char *err, size_t errlen);
/* Adds an open-not-required result, with the rule that allowed it, for each
 * swept port the firewall accepted. 0 or -1 (out of memory). */
int lab_sweep_judge(const struct lab_sweep *sw, const struct lab_trace *t, struct probe_run *run,
                    FILE *log);
void lab_sweep_free(struct lab_sweep *sw);

/* A socket created inside namespace ns (sockets keep the namespace they were
 * made in); -1 with err. */
int lab_ns_socket(const char *ns, int domain, int type, char *err, size_t errlen);

/* ---- probe pacing (lab_run.c) ------------------------------------------------ */
/* The next probe process to start, of njobs: waits[i] when job i probes paths
 * that cost a timeout (the scenario expects them dropped), started[i] once it
 * ran. The first waiting job while fewer than cap waiting ones run (their
 * timeouts then overlap the others' work), else the first other job, else the
 * first waiting one (nothing else is left to do); njobs once all started. */
size_t lab_probe_pick(const bool *waits, const bool *started, size_t njobs, size_t waiting,
                      size_t cap);

/* ---- state files, leftovers, --cleanup (lab_state.c) ------------------------ */
/* A process as the lab knew it: pid and start time (clock ticks since boot,
 * /proc/PID/stat field 22), so a reused pid is never taken for it. */
struct lab_proc_id {
	long pid;
	unsigned long long start;
};

/* What one lab has made, in RUNDIR/lab-PREFIX-START.json (JSON, mode 0600). */
struct lab_state {
	char file[PATH_MAX]; /* the state file itself (not in the JSON) */
	char boot_id[40];
	struct lab_proc_id self; /* the lab */
	long long started;       /* unix time */
	char prefix[32];
	char tmpdir[PATH_MAX]; /* RUNDIR/lab-PREFIX-START.d (0700), recorded before it is made */
	char (*netns)[64];     /* recorded before they are made */
	size_t nnetns;
	struct lab_proc_id *procs; /* listeners, probes, the trace monitor */
	size_t nprocs;
	bool kept; /* --keep: left up on purpose */
};

/* Where state files and the labs' temp dirs live: RUN/lab, RUN $LYNCMOCK_RUN_DIR, else
 * /run/lyncmock. */
const char *lab_state_dir(void);
/* Makes path a directory only we can enter: created 0700 or checked (not a
 * symlink, owned by us) and set to 0700. 0, or -1 with err. */
int lab_private_dir(const char *path, char *err, size_t errlen);
/* The start time of process pid, or 0 when there is none (or a zombie). */
unsigned long long lab_proc_start(long pid);
/* This process's record (file and tmpdir named, nothing saved yet; the state dir made). */
int lab_state_init(struct lab_state *st, const char *prefix, char *err, size_t errlen);
int lab_state_add_netns(struct lab_state *st, const char *name);
int lab_state_add_proc(struct lab_state *st, long pid);
/* The JSON text (malloc'd), or NULL. */
char *lab_state_render(const struct lab_state *st, size_t *len);
/* Reads a state file's text; every name in it checked (a netns name the lab
 * would make, a sane tmpdir). 0, or -1 with a reason in err. */
int lab_state_parse(const char *text, size_t len, struct lab_state *st, char *err, size_t errlen);
/* Writes st->file atomically (0600). */
int lab_state_save(const struct lab_state *st, char *err, size_t errlen);
void lab_state_free(struct lab_state *st);
/* One line on log per lab whose process is gone but whose things remain. */
void lab_leftovers_warn(FILE *log);

/* Every namespace name lab_net_up() will create for sc under prefix (the
 * firewall's first), into names (n entries of 64); how many, or -1. */
int lab_net_names(const struct scenario *sc, const char *prefix, char (*names)[64], size_t n);
/* The trace monitor's pid (to record it). */
pid_t lab_trace_pid(const struct lab_trace *t);

#endif
