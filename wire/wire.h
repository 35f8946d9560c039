/*
 * The listener/probe wire format, one module both sides use: the identity
 * record's field names, building it (listeners) and reading it (probes)
 * with jansson, and the CLS line protocol ("LYNCMOCK PROBE <token>\r\n",
 * answered by one identity line or "ERR <reason>\r\n").
 */
#ifndef LM_WIRE_H
#define LM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <jansson.h>

/* ---- the identity record (SPEC §2) --------------------------------------- */
#define WIRE_SERVICE "lyncmock" /* the value of "service" that says "a listener of ours" */
#define WIRE_F_SERVICE "service"
#define WIRE_F_VERSION "version"
#define WIRE_F_SCENARIO "scenario"
#define WIRE_F_HOST "host"
#define WIRE_F_ROLE "role"
#define WIRE_F_LISTENER "listener"
#define WIRE_F_PORT "port"
#define WIRE_F_LOCAL "local"
#define WIRE_F_PEER "peer"
#define WIRE_F_TOKEN "token"
#define WIRE_F_TLS "tls" /* object, or null on plaintext */
#define WIRE_F_TLS_VERSION "version"
#define WIRE_F_TLS_CIPHER "cipher"
#define WIRE_F_TLS_CLIENT_CERT "client_cert"
#define WIRE_F_TLS_SERVER_CERT "server_cert"
#define WIRE_F_TLS_SERVER_SHA256 "server_cert_sha256"
#define WIRE_F_TLS_CLIENT_SHA256 "client_cert_sha256"
#define WIRE_F_REQUEST "request" /* http: object */
#define WIRE_F_REQ_LINE "line"
#define WIRE_F_REQ_HOST "host"
#define WIRE_F_REQ_FORWARDED "forwarded" /* object: proxy header name -> value(s) */

/* The facts one answer carries; strings are borrowed. */
struct wire_ident {
	const char *scenario, *host, *role;
	const char *listener;     /* service name: http, https, sip-mtls, cls-mtls, tcp */
	uint16_t port;            /* the bound port */
	const char *local, *peer; /* "addr:port" */
	bool tls;
	const char *tls_version, *tls_cipher;
	const char *client_cert; /* subject one-line, NULL: JSON null */
	/* SHA-256 (hex) of the certificate served and of the client's: a probe
	 * compares them with what it got and sent (tls-intercepted) */
	const char *server_cert_sha256, *client_cert_sha256;
	const char *server_cert; /* subject of the certificate served */
	/* Not a field: where wire_ident_dump keeps a connection's facts,
	 * dumped once, so an answer only dumps its token (NULL: each time). */
	struct wire_cache *cache;
	/* Not a field: WIRE_MEMOS memos of the per-answer strings (NULL: none) */
	struct wire_memo *memo;
};
/* The JSON text jansson gave for the last string of one kind: a request
 * repeated (keep-alive clients, monitors, every connection of a load test:
 * the same line, Host and token) is encoded once, then copied. The text is
 * a function of the string alone, so a hit writes what jansson would. One
 * set per thread; strings longer than src are not kept. */
struct wire_memo {
	size_t src_len, enc_len; /* enc_len 0: empty */
	char src[256], enc[512];
};
enum { WIRE_MEMO_TOKEN, WIRE_MEMO_REQ_LINE, WIRE_MEMO_REQ_HOST, WIRE_MEMOS };
/* A connection's facts as JSON text (wire_ident_dump fills it). */
struct wire_cache {
	char *head, *tls; /* object keys without braces (JSON_EMBED); NULL: not yet */
	size_t head_len, tls_len;
};
void wire_cache_clear(struct wire_cache *c);
/* A JSON string of a peer's text (NULL: JSON null); bytes that are not
 * UTF-8 become U+FFFD, so hostile input never fails the answer. */
json_t *wire_text(const char *s);
/* A new identity object (token NULL: JSON null); NULL only on allocation failure. */
json_t *wire_ident_json(const struct wire_ident *id, const char *token);
/* JSON text into a bounded buffer that goes on counting past its end (so a
 * caller can ask again with the size it needs): structure is written as
 * is, every string value is jansson's (escaping, UTF-8). */
struct wire_json {
	char *p;
	size_t cap, len;
	bool failed; /* allocation failure */
};
void wire_json_raw(struct wire_json *w, const char *s, size_t n);
/* A peer's text as a JSON string (wire_text's rules; NULL: null). */
void wire_json_str(struct wire_json *w, const char *s);
/* The same through memo m (NULL: none), which it updates. */
void wire_json_str_memo(struct wire_json *w, const char *s, struct wire_memo *m);
/* A JSON value as compact text (jansson's json_dumpb). */
void wire_json_value(struct wire_json *w, const json_t *v);
/* Writes a caller's members into w: "key":value,... (at least one), no braces. */
typedef void wire_json_members(struct wire_json *w, const void *arg);
/* The identity as compact JSON text with the members extra(w, arg) writes
 * (extra NULL: none) after its own: into buf when it fits in cap bytes
 * (returns buf), else into a malloc'd buffer (returns it: free it); *len its
 * length, not NUL-terminated. NULL on failure. extra may be called twice
 * (the second time into the size counted) and must write the same. The text
 * is what json_dumps of the object would give; with id->cache the facts are
 * dumped only once. */
char *wire_ident_dump(const struct wire_ident *id, const char *token, wire_json_members *extra,
                      const void *arg, char *buf, size_t cap, size_t *len);
/* Appends the identity as one compact JSON line + "\r\n" to out; 0 or -1. */
int wire_ident_line(const struct wire_ident *id, const char *token, struct evbuffer *out);

/* The record as a probe reads it; strings malloc'd, NULL when absent. */
struct wire_record {
	char *service, *version, *scenario, *host, *role, *listener, *local, *peer, *token;
	long port; /* -1: absent */
	/* tls: what the listener served and saw (NULL when it does not say) */
	char *server_cert_sha256, *client_cert_sha256, *client_cert;
	/* http: the request as the listener received it */
	char *request_line;  /* "GET /lyncmock/probe?token=… HTTP/1.1" */
	char *proxy_headers; /* names of the proxy headers it carried ("Via, X-Forwarded-For") */
	char *forwarded_for; /* X-Forwarded-For, as received */
};
/* Parses JSON text; 0 when it is an object with "service":"lyncmock", 1 when
 * it is valid JSON but not a lyncmock identity, -1 when not JSON. */
int wire_record_parse(const char *json, size_t len, struct wire_record *r);
void wire_record_clear(struct wire_record *r);

/* ---- the CLS line protocol ----------------------------------------------- */
#define WIRE_CLS_MAX_LINE 1024 /* a request line, its end of line excluded */
#define WIRE_CLS_MAX_TOKEN 256
/* Writes the request line for token into buf; returns its length as
 * snprintf does (>= cap: cut). */
int wire_cls_request(char *buf, size_t cap, const char *token);
/* Checks one request line (without its end of line): NULL and the token's
 * span when valid, else the reason an ERR line gives. */
const char *wire_cls_check(const char *line, size_t len, const char **tok, size_t *toklen);
/* Appends "ERR <reason>\r\n"; 0 or -1. */
int wire_cls_err(struct evbuffer *out, const char *reason);
/* True when an answer line (without its end of line) is an ERR line. */
bool wire_cls_is_err(const char *line, size_t len);

#endif
