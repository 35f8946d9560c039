/*
 * Probes, private: the per-probe state machine shared by the engine
 * (probe.c), the TLS step (probe_tls.c) and one small file per service.
 */
#ifndef LM_PROBE_INT_H
#define LM_PROBE_INT_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "probes/probes.h"
#include "wire/wire.h"

/* Caps on what we read from a peer: a probe answer is small. */
#define PROBE_MAX_ANSWER (64 * 1024)
/* How long a tcp probe waits for a listener's identity line. */
#define PROBE_TCP_GRACE_MS 300
/* How long a TLS 1.3 probe waits for the server's ticket or alert. */
#define PROBE_SETTLE_MS 300

/* What a service parser made of the bytes read so far. */
enum probe_parse { PROBE_PARSE_MORE, PROBE_PARSE_DONE, PROBE_PARSE_ERROR };

/* A complete answer, as the service parser saw it. */
struct probe_answer {
	int status; /* HTTP or SIP status; 0 for line protocols */
	char *body; /* the identity candidate (JSON text), malloc'd, or NULL */
	size_t body_len;
	bool token_header; /* SIP: X-Lyncmock-Token header present */
	char *token_value; /* its value (malloc'd) */
	char server[128];  /* the Server / User-Agent header, printable ASCII, or "" */
	char why[200];     /* PROBE_PARSE_ERROR: what was wrong */
	/* STUN answers: what a non-mock STUN server tells too */
	bool stun;
	char mapped[64];    /* XOR-MAPPED-ADDRESS (else MAPPED-ADDRESS) "a:p", or "" */
	char software[256]; /* SOFTWARE, or "" */
};
void probe_answer_clear(struct probe_answer *a);
/* Records why the answer is unusable; returns PROBE_PARSE_ERROR. */
enum probe_parse probe_answer_fail(struct probe_answer *a, const char *why);

/* The identity record a lyncmock listener sends: struct wire_record,
 * read by wire_record_parse (wire/wire.h). */

/* Service parsers: the exact functions the probe and the fuzzer use.
 * eof says the peer closed; they never read beyond len. */
enum probe_parse probe_http_parse(const char *buf, size_t len, bool eof, struct probe_answer *a);
enum probe_parse probe_sip_parse(const char *buf, size_t len, bool eof, struct probe_answer *a);
enum probe_parse probe_cls_parse(const char *buf, size_t len, bool eof, struct probe_answer *a);
/* One STUN message (a datagram, or a framed one over TCP) answering the
 * transaction txid (hex; NULL: any): PROBE_PARSE_MORE when it answers
 * another transaction (a stray or late datagram: ignore it). */
enum probe_parse probe_stun_parse(const uint8_t *buf, size_t len, const char *txid,
                                  struct probe_answer *a);
/* turn-tcp: a STUN answer over TCP in RFC 5389 or MS-TURN framing. */
enum probe_parse probe_turn_tcp_parse(const char *buf, size_t len, bool eof,
                                      struct probe_answer *a);

struct probe;

/* One service's part of a probe (relayd's check_* shape). The engine reads
 * these fields instead of asking which service it runs. */
struct probe_proto {
	enum lm_service service;
	const char *label;    /* "HTTP", "SIP", "CLS": in details */
	const char *sent;     /* what the request is, for cut/no-answer details; NULL: none */
	bool connect_is_pass; /* a connect proves the path (tcp): any answer or none is a pass */
	bool identity_only;   /* anything but a lyncmock identity is a protocol error */
	bool token_echo; /* the identity echoes our token (not when the listener speaks first) */
	/* A valid answer that is not a lyncmock identity (a real server): its outcome,
	 * with why filled; NULL: foreign-peer. */
	enum lm_outcome (*foreign)(const struct probe_answer *a, char *why, size_t whylen);
	/* Appends the request to out (nothing for tcp). 0 or -1. */
	int (*request)(struct probe *p, struct evbuffer *out);
	enum probe_parse (*parse)(const char *buf, size_t len, bool eof, struct probe_answer *a);
	/* UDP services (probe_dgram.c runs them): the request datagram
	 * (retransmitted unchanged), and the parser of each datagram back. */
	size_t (*dgram_request)(struct probe *p, uint8_t *out, size_t cap);
	enum probe_parse (*dgram_parse)(struct probe *p, const uint8_t *buf, size_t len,
	                                struct probe_answer *a);
};
extern const struct probe_proto probe_proto_http, probe_proto_sip, probe_proto_cls, probe_proto_tcp,
    probe_proto_stun, probe_proto_turn_tcp, probe_proto_udp;
const struct probe_proto *probe_proto_of(enum lm_service svc);

enum probe_state { PS_IDLE, PS_CONNECT, PS_TLS, PS_EXCHANGE, PS_HOLD, PS_DONE };

/* An alert the peer sent us (from the message callback). */
struct probe_alert {
	bool seen;
	int level; /* 1 warning, 2 fatal */
	int desc;  /* TLS AlertDescription */
	bool after_handshake;
};

struct probe_engine;

struct probe {
	struct probe_engine *eng;
	size_t index; /* position in the plan */
	enum probe_state state;
	const struct probe_proto *proto;
	struct probe_result res; /* moved into the run when the probe finishes */
	bool finished;

	/* destination */
	struct sockaddr_storage dst;
	socklen_t dstlen;
	struct sockaddr_storage src; /* bind address (when bind_src) */
	socklen_t srclen;
	bool bind_src;
	char *tls_name; /* name to verify (FQDN), or NULL for an IP literal */
	bool tls_name_is_ip;
	char *uri_host;  /* host part of URIs: FQDN, IPv4 or [IPv6] */
	char *http_host; /* Host header value: uri_host[:port] */
	char token[33];
	bool adhoc; /* no scenario: identity optional */
	/* what the identity must say (scenario probes) */
	const char *want_host, *want_role;

	/* scheduling (kept when a probe is retried) */
	bool retried;            /* timed out once under overload and started again */
	struct probe *slot_next; /* in the engine's queue for a TLS slot */

	/* runtime: everything from here on is reset when the probe is retried */
	bool has_slot;     /* holds a TLS handshake slot */
	bool slot_waiting; /* connected, queued for a slot: no step deadline runs */
	double step_start; /* lm_now_ms() when the current step began */
	int fd;            /* until a bufferevent owns it */
	struct event *ev_connect;
	struct event *ev_deadline;
	struct event *ev_lend; /* gives the slot back while a SYN goes unanswered */
	struct bufferevent *bev;
	SSL *ssl; /* owned by bev once it exists */
	double t_start;
	double deadline;                  /* lm_now_ms() value */
	char local[INET6_ADDRSTRLEN + 8]; /* our address as "a:p" */
	char local_addr[INET6_ADDRSTRLEN];
	unsigned local_port;

	/* TLS observations (msg/info/verify callbacks) */
	bool tls_rx_any;   /* any TLS record header received */
	bool tls_rx_plain; /* the first bytes back were not a TLS record */
	unsigned char tls_first_hdr[5];
	bool cert_requested;
	bool cert_msg_sent;  /* we sent a Certificate message */
	bool cert_msg_empty; /* ...and it carried no certificate */
	struct probe_alert alert;
	bool handshake_done;
	/* verification errors, worst kept per class */
	long verr_untrusted, verr_expired, verr_name, verr_other, verr_purpose;
	char verr_purpose_text[512];
	char verr_text[512]; /* first error: description, depth, subject */
	char verr_untrusted_text[512], verr_expired_text[512], verr_name_text[512],
	    verr_other_text[512];
	/* TLS 1.3 with a certificate request: the server judges our certificate
	 * after the handshake; wait for its verdict (a ticket or an alert) before
	 * sending, so an alert is not lost to a reset caused by unread data */
	struct event *ev_settle;
	/* --hold: after a good answer, stay idle hold_ms, then ask again (probe_hold.c) */
	unsigned hold_ms;
	bool held;
	struct event *ev_hold;
	bool settling;
	bool got_ticket;
	bool exchange_sent;
	bool got_bytes;

	/* UDP (probe_dgram.c) */
	struct event *ev_dgram; /* socket readable */
	struct event *ev_retx;  /* next retransmission */
	uint8_t *dgram;         /* the request, resent as is */
	size_t dgram_len;
	unsigned dgram_sent;    /* transmissions so far */
	unsigned dgram_rto_ms;  /* the first retransmission interval */
	unsigned dgram_ignored; /* datagrams that answered nothing of ours */
	/* we sent an alert before any server byte: OpenSSL's answer to a FIN
	 * (its alert then draws the peer's RST, so the TCP state no longer tells) */
	bool alert_sent_blind;
	/* the first hang-up our reads saw: 'f' a FIN, 'r' a reset, 0 none (probe_cut.c) */
	char hangup;
	double t_sent; /* lm_now_ms() when our last bytes went out (ClientHello, request) */
	/* the small-MSS retry (probe_mtu.c), started when a TLS port stays silent */
	int mtu_fd;
	struct event *ev_mtu_timer, *ev_mtu_io;
	struct evbuffer *mtu_out; /* our ClientHello for it, still to send */
	size_t mtu_rx;            /* server bytes it got */
};

/* ICMP errors behind a failed connect (probe_errq.c). */
void probe_errq_enable(int fd, int family);
/* Reads the socket's error queue: 0 with the offender's address in from and
 * the kind ("icmp-port-unreachable", …) in *what, or -1 when it holds no ICMP error. */
int probe_errq_read(int fd, char *from, size_t fromlen, const char **what);

/* The small-MSS retry (probe_mtu.c): armed when a TLS handshake starts; at
 * half the timeout with no server byte it connects again with TCP_MAXSEG
 * PROBE_SMALL_MSS and sends a ClientHello; if an answer comes, the probe ends
 * mtu-blackhole. probe_mtu_release frees it (probe_release calls it). */
#define PROBE_SMALL_MSS 536
void probe_mtu_arm(struct probe *p);
void probe_mtu_release(struct probe *p);
/* At a timeout of the normal connection: when the small-MSS one has an answer
 * queued, it wins (mtu-blackhole) before any overload retry; true if done. */
bool probe_mtu_settle(struct probe *p);
/* A peer that accepted, then hung up (probe_cut.c): probe_cut_watch records
 * the first FIN or RST the TLS socket's reads see; probe_cut_saw records one
 * seen elsewhere; probe_cut_peer_acked says whether the peer acknowledged any
 * byte we sent on fd (if not, it hung up before our first bytes reached it). */
void probe_cut_watch(struct probe *p);
void probe_cut_saw(struct probe *p, char kind);
bool probe_cut_peer_acked(struct probe *p, int fd);
/* Engine helpers probe_mtu.c uses. */
void probe_mtu_found(struct probe *p);

/* Silences libosip2's own trace output (parse errors are in our results). */

/* Engine entry points the steps call. */
void probe_done(struct probe *p, enum lm_outcome out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void probe_debug(struct probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool probe_debugging(const struct probe *p);
/* Starts a step (connect, handshake, answer): its deadline is a full
 * timeout from now, whatever the steps before it took. */
void probe_step_begin(struct probe *p);
/* Remaining time to the current step's deadline, at least 1 ms. */
unsigned probe_remaining_ms(const struct probe *p);
void probe_set_bev_timeouts(struct probe *p);
/* Starts the application exchange on p->bev (TLS done or plain TCP). */
void probe_exchange_start(struct probe *p);
SSL_CTX *probe_engine_ctx(struct probe *p);

/* The identity check every answer ends in (probe.c). */
void probe_answer_done(struct probe *p, struct probe_answer *a);

/* UDP path (probe_dgram.c): replaces connect → TLS → exchange. */
void probe_dgram_start(struct probe *p);
void probe_dgram_release(struct probe *p);

/* The engine, for probe_hold.c. */
struct probe *probe_engine_add(struct probe_engine *e);
int probe_make_token(char *out);
struct event_base *probe_engine_base(const struct probe *p);
unsigned probe_engine_timeout_ms(const struct probe *p);

/* --hold (probe_hold.c): a SIP probe becomes a series of probes held idle for
 * growing times (clones of p, in parallel); 0 or -1 (out of memory). */
int probe_hold_plan(struct probe_engine *e, struct probe *p, unsigned hold_ms);
/* Called on a pass: starts the idle wait instead (true), or false (not held). */
bool probe_hold_begin(struct probe *p);
/* After the wait any failure is the path forgetting the connection: idle-cut. */
void probe_hold_outcome(struct probe *p, enum lm_outcome *out, char *detail, size_t len);
/* Merges each series' results (from index `from` on) into one result with the bracket. */
int probe_hold_merge(struct probe_run *run, size_t from);
/* The scenario the probe runs (NULL ad hoc). */
const struct scenario *probe_engine_scenario(struct probe *p);
/* Is the server's certificate one the scenario knows for another host (its
 * FQDN, else its pool)? Then sets facts.reached_host/reached_name, writes
 * the detail into why and returns true. */
bool probe_cert_owner(struct probe *p, char *why, size_t whylen);

/* TLS step (probe_tls.c). */
int probe_tls_start(struct probe *p, char *err, size_t errlen);
/* After the handshake: the verification verdict, or LM_OUT_PASS. */
enum lm_outcome probe_tls_verify_outcome(struct probe *p, char *why, size_t whylen);
/* A failure during the handshake or the first read: the outcome it means. */
enum lm_outcome probe_tls_failure_outcome(struct probe *p, bool in_handshake, const char *errs,
                                          char *why, size_t whylen);
/* Copies version, cipher, chain and CA names into p->res.tls. */
void probe_tls_collect(struct probe *p);
/* Drains the bufferevent's OpenSSL errors into buf (for details only). */
void probe_tls_errors(struct probe *p, char *buf, size_t len);
/* True for alerts a server sends when it refuses the client's certificate. */
bool probe_tls_alert_is_client_reject(int desc);

/* The lab's shared handshake budget (probe_slots.c). */
struct probe_slots;
struct probe_slots *probe_slots_open(const char *path, char *err, size_t errlen);
void probe_slots_close(struct probe_slots *s);
bool probe_slots_take(struct probe_slots *s);
void probe_slots_give(struct probe_slots *s);

#endif
