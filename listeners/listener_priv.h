/*
 * Private to listeners/: the per-connection state machine, the per-kind
 * vtable and the pure protocol functions (SIP framing, CLS lines, HTTP probe
 * answers) that the listener, the unit tests and the fuzzers share.
 */
#ifndef LM_LISTENER_PRIV_H
#define LM_LISTENER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "listeners/listeners.h"
#include "sip/sip.h"
#include "wire/wire.h"

/* The identity record and the CLS line: wire/wire.h. */

/* ---- SIP over a stream (sip_stream.c) ------------------------------------ */
/* Framing is sip_frame() (sip/sip.h). */
struct sip_stats {
	unsigned requests;          /* requests answered (or ACKs absorbed) */
	unsigned responses_ignored; /* responses received: not ours to answer */
	unsigned keepalives;
	unsigned errors; /* 4xx/5xx sent for bad input */
};
/* Where a request came from, as the socket says: the top Via of every
 * answer gets received= and a value for an empty rport (RFC 3581). An empty
 * ip leaves the Via as it came. */
struct sip_source {
	char ip[48]; /* numeric, IPv6 without brackets */
	unsigned port;
};
/* Handles one framed message (has_length: it carried a Content-Length):
 * *resp gets a malloc'd response (osip_free it) or NULL when none is due.
 * Returns the status code sent, 0 for an ACK, SIP_HANDLED_RESPONSE for a
 * response received, -1 on allocation failure. */
#define SIP_HANDLED_RESPONSE 1
int sip_handle_message(const char *msg, size_t len, bool has_length, const struct sip_source *src,
                       const struct wire_ident *id, char **resp, size_t *resplen);
/* A response built by libosip2 to a request that could not be framed or
 * parsed: from what the head yields (Via, From, To, Call-ID, CSeq), else a
 * bare status line. Returns 0 and a malloc'd *resp (osip_free), or -1. */
int sip_error_response(const char *head, size_t len, int code, const struct sip_source *src,
                       char **resp, size_t *resplen);
/* Frames and handles every complete message in buf, appending responses to
 * out. Returns the bytes consumed; sets *close when the stream cannot go on
 * (framing lost) after out is flushed, with the reason in why. */
size_t sip_stream_process(const char *buf, size_t len, size_t max_message,
                          const struct sip_source *src, const struct wire_ident *id,
                          struct evbuffer *out, struct sip_stats *st, bool *close, char *why,
                          size_t whylen);

/* ---- CLS line protocol (listener_cls.c) --------------------------------- */
/* Answers every complete line in buf (identity JSON or ERR); returns the
 * bytes consumed; sets *close (with why) after an ERR. */
size_t cls_process(const char *buf, size_t len, const struct wire_ident *id, struct evbuffer *out,
                   unsigned *requests, bool *close, char *why, size_t whylen);

/* ---- HTTP probe answers (listener_http.c) ------------------------------- */
struct http_answer {
	int code;
	const char *reason;
	const char *content_type;
	char *body; /* malloc'd, or small */
	size_t len;
	bool probe; /* /lyncmock/probe answered with the identity */
	/* last (clearing stops before it): the probe answer's JSON fits
	 * here, so answering allocates no body */
	char small[2048];
};
/* Builds the answer to one request: the probe path gets the identity with
 * the request line, Host and X-Forwarded-* headers; other paths a small page
 * naming host and role. Returns 0, or -1 on allocation failure. */
struct http_header {
	const char *key, *value; /* as received, NUL-terminated; borrowed */
};
int http_answer_build(const char *method, const char *uri, int major, int minor,
                      const struct http_header *headers, size_t nheaders,
                      const struct wire_ident *id, struct http_answer *ans);
void http_answer_clear(struct http_answer *ans);

/* ---- HTTP over a stream (http_stream.c) ---------------------------------- */
struct http_stats {
	unsigned requests; /* answered */
	unsigned rejected; /* 4xx/5xx sent */
	int last_status;
	bool continue_sent; /* "100 Continue" sent for the request in progress */
};
/* Frames (http-parser) and answers every complete request in buf, appending
 * the answers to out. Returns the bytes consumed; sets *close (why says why,
 * empty for a clean Connection: close) when the stream ends after out is
 * flushed: a request that cannot be framed (conflicting Content-Length,
 * bad syntax), an HTTP/1.1 request without Host, a request over
 * max_message, or the client's Connection: close. */
size_t http_stream_process(const char *buf, size_t len, size_t max_message,
                           const struct wire_ident *id, struct evbuffer *out, struct http_stats *st,
                           bool *close, char *why, size_t whylen);

/* ---- connections and listeners (listener.c, listener_tls.c) -------------- */
enum lm_conn_state {
	CONN_HANDSHAKE, /* TLS handshake running */
	CONN_ACTIVE,    /* serving requests */
	CONN_CLOSING,   /* flushing the last answer */
	CONN_LINGER     /* answer sent, write side shut: reading what is left, then conn_free */
};

struct lm_conn;
struct listener;

/* What one kind of listener does with its connection. The
 * hooks never free the connection: they return -1 (after conn_outcome) to
 * have it freed, or call conn_close_after_write and return 0. */
struct listener_kind {
	const char *name;
	size_t read_limit;                      /* read high-watermark; 0: max_message */
	int (*on_connected)(struct lm_conn *c); /* handshake done (or plain accept) */
	/* Answers every complete request in buf into out and returns the bytes
	 * consumed; sets *close (with why) when the stream cannot go on. The
	 * read, drain, write and close around it are listener.c's, for every kind. */
	size_t (*process)(struct lm_conn *c, const char *buf, size_t len,
	                  const struct wire_ident *id, struct evbuffer *out, bool *close, char *why,
	                  size_t whylen);
	/* UDP kinds (listener_dgram.c serves them): answers one datagram into
	 * out (cap bytes) and returns the answer's length, 0 for none; what
	 * gets a word or two for the log line. id->peer is the datagram's
	 * source, peer its address. */
	size_t (*datagram)(struct listener *l, const uint8_t *in, size_t len,
	                   const struct sockaddr *peer, socklen_t peerlen,
	                   const struct wire_ident *id, uint8_t *out, size_t cap, char *what,
	                   size_t whatlen);
	/* Plaintext ports: sent to a client refused at a cap before the close
	 * (NULL: close only). TLS ports close only: no handshake for it. */
	const char *full_answer;
};
extern const struct listener_kind listener_kind_sip;
extern const struct listener_kind listener_kind_cls;
extern const struct listener_kind listener_kind_tcp;
extern const struct listener_kind listener_kind_stun;
extern const struct listener_kind listener_kind_turn_tcp;
extern const struct listener_kind listener_kind_udp;
/* The kind serving svc (listener_kinds.c, one table). */
const struct listener_kind *listener_kind_of(enum lm_service svc);
extern const struct listener_kind listener_kind_http; /* http and https */

struct lm_conn {
	TAILQ_ENTRY(lm_conn) entry;
	struct listener *l;
	enum lm_conn_state state;
	struct bufferevent *bev;
	/* plaintext: the socket's read event (conn_plain_read; bev only
	 * writes), NULL on TLS, which reads through bev */
	struct event *rd;
	SSL *ssl;            /* borrowed from bev; NULL on plaintext */
	struct event *timer; /* handshake deadline, then the linger */
	struct sockaddr_storage peer_ss;
	char peer[64], local[64];
	double t_start, t_ready; /* lm_now_ms() at accept / handshake done */
	uint64_t bytes_in, bytes_out;
	size_t in_left;   /* input bytes already counted but not consumed */
	double t_partial; /* lm_now_ms() when an unfinished message began; 0: none */
	unsigned requests;
	struct sip_stats sip;
	struct http_stats http;
	struct certs_verify_note note; /* why the client certificate failed */
	bool tls_done;
	bool read_paused; /* output backlog: reading stopped until it drains */
	char tls_version[32], tls_cipher[64];
	char client_cert[512];             /* empty: none */
	char server_cert[512];             /* subject of the certificate we served */
	char server_fp[65], client_fp[65]; /* SHA-256 hex; empty: none */
	char outcome[320];                 /* first reason wins; empty at close: "ok" */
	struct wire_cache ident;           /* the identity's facts, dumped at the first answer */
};
TAILQ_HEAD(lm_conn_list, lm_conn);

struct listener {
	struct listener_set *set;
	enum lm_service service;
	uint16_t scenario_port, port;    /* port: bound */
	enum lm_client_cert client_cert; /* effective policy */
	bool tls;                        /* false for http/tcp and --plaintext ports */
	struct certs_paths paths;        /* with a --port-cert override applied */
	SSL_CTX *ctx;
	/* ctx's certificate and what the identity says of it, made once per
	 * context (listener_own_cert), not per handshake */
	const X509 *own;
	char own_subject[512], own_fp[65];
	const struct listener_kind *kind;
	struct evconnlistener *lev;
	struct event *dgram_ev; /* UDP kinds: the socket's read event */
	double dgram_window;    /* UDP: start of the current one-second window */
	unsigned dgram_answers; /* ...and the answers sent in it */
	unsigned dgram_dropped; /* ...and the datagrams left unanswered over the cap */
	bool starved;           /* accept disabled for a moment: out of descriptors */
	struct event *resume;   /* ends the starved pause */
	char local[64];         /* "addr:port" */
	bool bound_any;         /* a wildcard address: a connection's own is asked for */
	unsigned nconns;
	struct lm_conn_list conns;
};

struct listener_set {
	struct event_base *base;
	struct listener_config cfg;
	struct listener_limits lim; /* defaults resolved */
	const char *role_name;
	struct listener *ls;
	size_t n;
	/* the answers of one read, before conn_write moves them out: one
	 * buffer for every connection, empty between reads */
	struct evbuffer *out;
	struct wire_memo memo[WIRE_MEMOS]; /* the answers' strings (one thread) */
};

/* listener.c */
/* A connection record of listener l (counted against its caps). */
struct lm_conn *conn_alloc(struct listener *l);
/* Sets peer and local addresses from the sockets. */
void conn_set_addrs(struct lm_conn *c, const struct sockaddr *peer, int fd);
/* Logs the connection and releases it and its bufferevent. */
void conn_free(struct lm_conn *c);
/* Records why the connection ends (first call wins). */
void conn_outcome(struct lm_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stops reading; frees the connection once its output is flushed. */
void conn_close_after_write(struct lm_conn *c);
/* Adds bytes to the connection's output (counted). */
int conn_write(struct lm_conn *c, struct evbuffer *data);
/* The identity facts of this connection. */
void conn_ident(struct lm_conn *c, struct wire_ident *id);
/* Watches accept errors of l->lev (out of descriptors: pause, retry). */
int listener_watch_errors(struct listener *l);
/* True when c (addresses set, already counted) may be served under the caps. */
bool listener_admit(struct listener *l, const struct lm_conn *c, char *why, size_t whylen);
/* "addr:port" of a socket address. */
char *listener_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* listener_tls.c */
/* Notes l->ctx's certificate, its subject and fingerprint (after each new ctx). */
void listener_own_cert(struct listener *l);
/* Reads version, cipher and client certificate from the finished handshake. */
void conn_tls_facts(struct lm_conn *c);
/* SSL message callback (arg: the connection): notes a refused renegotiation. */
void conn_tls_msg(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                  void *arg);
/* Explains a failed or unfinished handshake (verify result, OpenSSL errors
 * queued on bev, no client certificate). */
void conn_tls_failure(struct lm_conn *c, const char *what);
/* Writes the connection's log line. */
void conn_log(const struct lm_conn *c);
/* Builds l's TLS context from l->paths and its policy. */
SSL_CTX *listener_ctx_new(const struct listener *l, char *err, size_t errlen);

/* listener_dgram.c: the one UDP path every UDP kind shares */
int listener_dgram_start(struct listener *l, int fd, char *err, size_t errlen);
void listener_dgram_stop(struct listener *l);
/* The STUN SOFTWARE text and TURN realm of this listener's host. */
void listener_software(const struct listener *l, char *buf, size_t len);

#endif
