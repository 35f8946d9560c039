/*
 * SIP over a byte stream, shared by the listener and the probe: message
 * framing (libosip2 parses one message; finding where it ends is ours), the
 * header-line splitter framing needs, and libosip2 set-up.
 */
#ifndef LM_SIP_H
#define LM_SIP_H

#include <stdbool.h>
#include <stddef.h>

/* The header carrying a probe's token, in requests and in answers. */
#define SIP_TOKEN_HEADER "X-Lyncmock-Token"

enum sip_frame_kind {
	SIP_FRAME_NEED_MORE, /* no complete frame yet */
	SIP_FRAME_KEEPALIVE, /* RFC 5626 ping "\r\n\r\n": a listener answers "\r\n" */
	SIP_FRAME_SKIP,      /* a lone CRLF before a start line (RFC 3261 §7.5) */
	SIP_FRAME_MESSAGE,   /* one complete message of len bytes */
	SIP_FRAME_TOO_LARGE, /* head or head+body exceeds max_message */
	SIP_FRAME_BAD        /* head complete but Content-Length unusable */
};

struct sip_frame {
	enum sip_frame_kind kind;
	size_t len;      /* bytes the frame spans; TOO_LARGE/BAD: head_len */
	size_t head_len; /* start line and headers with the final CRLFCRLF; 0 if incomplete */
	size_t body_len; /* MESSAGE: the Content-Length (0 when absent) */
	bool has_length; /* a Content-Length header was there (RFC 3261 §18.3:
	                  * required on a stream; its absence is the caller's to judge) */
	const char *why; /* TOO_LARGE/BAD: a static reason, else NULL */
};

/*
 * Frames the start of buf: keep-alive CRLFs, a head up to CRLFCRLF whose
 * Content-Length (or compact "l", given twice only if equal) gives the body
 * length, and a cap of max_message bytes on the whole message. Reads at
 * most len bytes; returns f->kind.
 */
enum sip_frame_kind sip_frame(const char *buf, size_t len, size_t max_message, struct sip_frame *f);

/* Calls fn for each header line of head (the start line excluded) with the
 * name and value trimmed; folded and colon-less lines are skipped. It only
 * splits lines: values are libosip2's to parse. */
void sip_head_foreach(const char *head, size_t len,
                      void (*fn)(const char *name, size_t nlen, const char *value, size_t vlen,
                                 void *arg),
                      void *arg);
/* True when the nlen bytes at n name header full (any case) or its compact
 * one-letter form (NULL: none). */
bool sip_header_is(const char *n, size_t nlen, const char *full, const char *compact);

/* Silences libosip2's own traces (bad input is ours to report); call once
 * at start-up, after parser_init(). */
void sip_quiet(void);

#endif
