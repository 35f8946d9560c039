/* lyncmock's shared vocabulary: services, outcomes, built-in scenarios and small helpers. */
#ifndef LM_COMMON_H
#define LM_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#ifndef LM_VERSION
#define LM_VERSION "0.0.0"
#endif

/* Exit codes shared by every command (SPEC §6). */
#define LM_EXIT_OK 0
#define LM_EXIT_FAIL 1  /* a verdict is not OK / a check failed */
#define LM_EXIT_USAGE 2 /* usage, scenario or configuration error */

/* ---- services (SPEC §2) ------------------------------------------------ */
enum lm_service {
	LM_SVC_HTTP,
	LM_SVC_HTTPS,
	LM_SVC_SIP_MTLS,
	LM_SVC_CLS_MTLS,
	LM_SVC_TCP,
	LM_SVC_STUN,     /* STUN/MS-TURN over UDP (A/V Edge 3478) */
	LM_SVC_TURN_TCP, /* the same over TCP, RFC 5389 §7.2.2 or MS-TURN framing */
	LM_SVC_SIP_TLS,  /* SIP over TLS, no client certificate (clients) */
	LM_SVC_TLS,      /* TLS (client certificate optional), then the CLS line exchange */
	LM_SVC_MTLS,     /* the same with a required client certificate */
	LM_SVC_UDP,      /* a UDP port: any datagram is answered with the identity */
	LM_SVC__COUNT
};

struct lm_service_info {
	const char *name; /* "sip-mtls": the scenario and URL spelling */
	bool tls;         /* speaks TLS */
	bool mtls;        /* client certificate required by default */
	const char *purpose;
	bool udp;              /* a UDP service (else TCP) */
	bool cert_optional;    /* a client certificate is asked for, not required */
	uint16_t default_port; /* ad-hoc URLs without a port (0: none) */
};

const struct lm_service_info *lm_service_info(enum lm_service svc);
const char *lm_service_name(enum lm_service svc);
/* Returns 0 and sets *svc when name is known, -1 otherwise. */
int lm_service_from_name(const char *name, enum lm_service *svc);

/* ---- client-certificate policy of a TLS listener ------------------------ */
enum lm_client_cert {
	LM_CC_DEFAULT, /* what the service does: required for *-mtls, none otherwise */
	LM_CC_REQUIRED,
	LM_CC_OPTIONAL,
	LM_CC_NONE
};
const char *lm_client_cert_name(enum lm_client_cert cc);
int lm_client_cert_from_name(const char *name, enum lm_client_cert *cc);
/* The effective policy: LM_CC_DEFAULT resolved for svc. */
enum lm_client_cert lm_client_cert_effective(enum lm_service svc, enum lm_client_cert cc);

/* ---- probe outcomes (SPEC §3), most specific first ----------------------- */
enum lm_outcome {
	LM_OUT_PASS,
	LM_OUT_FILTERED,
	LM_OUT_REFUSED,
	LM_OUT_UNREACHABLE,
	LM_OUT_TLS_UNTRUSTED,
	LM_OUT_TLS_NAME_MISMATCH,
	LM_OUT_TLS_EXPIRED,
	LM_OUT_TLS_CLIENT_REJECTED,
	LM_OUT_TLS_FAILED,
	LM_OUT_PROTOCOL_ERROR,
	LM_OUT_WRONG_RESPONDER,
	LM_OUT_NAT_DETECTED,
	LM_OUT_IDLE_CUT,          /* a connection held idle (--hold) was dropped silently */
	LM_OUT_OPEN_NOT_REQUIRED, /* lab --sweep: a port the scenario does not need is open */
	LM_OUT_FOREIGN_PEER,      /* a valid answer from a non-mock server (--allow-foreign) */
	LM_OUT_LOCAL_ERROR,       /* the probe could not run here (no cert, bad bind address) */
	LM_OUT_TLS_INTERCEPTED,   /* a middlebox terminated TLS and re-originated it */
	LM_OUT_PROXIED,           /* the answer came through an HTTP proxy */
	LM_OUT_TLS_WRONG_PURPOSE, /* server certificate without the serverAuth EKU */
	LM_OUT_CUT_AFTER_CONNECT, /* connected, then FIN/RST before any answer */
	LM_OUT_NO_ANSWER,         /* connected, bytes sent, nothing came back */
	LM_OUT_MTU_BLACKHOLE,     /* only a small MSS gets an answer */
	LM_OUT__COUNT
};

/* When an outcome is an OK verdict. */
enum lm_verdict_class {
	LM_VC_PASS,    /* OK on `expect: open` rules */
	LM_VC_BLOCKED, /* OK only on `expect: blocked` rules */
	LM_VC_FOREIGN, /* OK with --allow-foreign or ad hoc */
	LM_VC_PROXY,   /* OK on rules that say `via: proxy` */
	LM_VC_FAIL,    /* never OK */
};

/* The one outcome table lives in report/report_outcome.c (name, meaning,
 * verdict class and the fix-sentence builder that reads a result's facts). */
struct lm_outcome_info {
	const char *name;    /* "tls-name-mismatch": JSON, JUnit, DOT and tables use it */
	const char *meaning; /* one line: what happened */
	enum lm_verdict_class verdict;
	bool blocked; /* counts as "blocked" for expect: blocked rules */
};

const struct lm_outcome_info *lm_outcome_info(enum lm_outcome out);
const char *lm_outcome_name(enum lm_outcome out);
int lm_outcome_from_name(const char *name, enum lm_outcome *out);

/* ---- built-in scenarios (generated from scenarios/NAME.yaml) ----------- */
struct lm_builtin {
	const char *name; /* "single-director" */
	const char *path; /* "scenarios/single-director.yaml", used in error messages */
	const char *text;
	size_t len;
};
extern const struct lm_builtin lm_builtin_scenarios[]; /* ends with name == NULL */
const struct lm_builtin *lm_builtin_find(const char *name);
#define LM_DEFAULT_SCENARIO "single-director"

/* ---- small helpers ------------------------------------------------------ */
/* Monotonic clock in milliseconds. */
double lm_now_ms(void);

/* Writes data to path atomically (temp file in the same directory, fsync,
 * rename) with the given mode. Returns 0, or -1 with errno set. */
int lm_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Opens path for reading only if it is a regular file, never blocking on a FIFO
 * or device (opened O_NONBLOCK, checked with fstat, then made blocking).
 * Returns the fd, or -1 with errno set (EINVAL: not a regular file). */
int lm_open_regular(const char *path, int flags);
/* strerror() that says "not a regular file" for lm_open_regular's EINVAL. */
const char *lm_open_strerror(int err);
/* lm_open_regular() as a stdio stream ("rb"); NULL with errno set. */
FILE *lm_fopen_regular(const char *path);
/* Opens path to append to, a log: never through a symlink (O_NOFOLLOW), never
 * blocking on or writing into a FIFO or device, created with mode (umask
 * applies) by the open itself. NULL with errno set (EINVAL: not a regular file). */
FILE *lm_fopen_log(const char *path, unsigned mode);
/* Checks that path opens as a regular file before a library (OpenSSL) opens it
 * by name; on failure writes "WHAT PATH: reason" to err and returns -1. */
int lm_check_regular(const char *what, const char *path, char *err, size_t errlen);

/* snprintf into a fixed buffer that never overflows; returns buf. */
char *lm_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Logging for commands (never from library code paths that return errors). */
void lm_log_set_file(FILE *f);
void lm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* --json-log: lm_log writes {"time","event":"message","message"} objects. */
void lm_log_set_json(bool on);
/* "2026-01-31T12:00:00.000Z" (UTC, milliseconds). */
void lm_utc_now(char *buf, size_t len);

/* Parses a whole decimal string as an integer in [min, max]; returns 0 or -1. */
int lm_parse_long(const char *s, long min, long max, long *out);
/* Parses a port number 1..65535; returns 0 or -1. */
int lm_parse_port(const char *s, uint16_t *port);
/* An IPv4 or IPv6 literal (no brackets, no scope) as a socket address with
 * port; 0, or -1 when text is not one. */
int lm_sockaddr_parse(const char *text, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);
/* The address as text ("198.18.1.10", "2001:db8::1"; with_port: "1.2.3.4:80",
 * "[2001:db8::1]:80"); NULL when it is neither family. */
const char *lm_sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t len,
                            bool with_port);
/* Sets the port of an IPv4 or IPv6 socket address; returns its length (0
 * for neither family). */
socklen_t lm_sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port);
/* The same address (family and bytes; ports ignored). */
bool lm_sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

#endif
