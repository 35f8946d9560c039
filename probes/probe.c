/*
 * The probe engine: plans one probe per (rule, destination), runs them all
 * on one event loop with a bound on probes in flight, and drives each
 * through connect → TLS → exchange → identity check to exactly one exit,
 * probe_done(), whatever path it takes (relayd's hce_notify_done shape).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <unistd.h>

#include <event2/http.h>
#include <openssl/rand.h>
#include <osipparser2/osip_port.h>

#include "probes/probe_int.h"
#include "report/report.h"
#include "sip/sip.h"

#define PROBE_DEFAULT_TIMEOUT_MS 3000
#define PROBE_FD_RESERVE 64  /* descriptors kept for everything but probes */
#define PROBE_POLL_MS 50     /* how often the interrupt flag is looked at */
#define PROBE_SLOT_POLL_MS 3 /* how often a shared budget is asked again */
/* A TLS probe takes its handshake slot before it connects, so that no
 * connection waits open for our CPU; a connect still pending after this long
 * (a dropped SYN) lends its slot back and queues for one when it connects. */
#define PROBE_SLOT_LEND_MS 50
/* The loop ran this late (ms): the process is overloaded. */
#define PROBE_LAG_MS 200
/* CPU pressure (PSI "some avg10", %) above which the machine is overloaded. */
#define PROBE_PSI_BUSY 40.0

struct probe_engine {
	struct event_base *base;
	const struct probe_options *o;
	const struct scenario *sc; /* NULL ad hoc */
	unsigned timeout_ms, parallel;
	SSL_CTX *ctx;
	struct probe **probes;
	size_t n, cap;
	size_t *order; /* start order: a permutation of the plan (see spread_order) */
	size_t next, inflight, ndone;
	struct event *ev_kick, *ev_poll;
	bool stopping;
	/* TLS handshakes in flight: a local cap, and the lab's shared budget */
	unsigned tls_max, tls_inflight;
	struct probe_slots *pool;
	struct event *ev_slot; /* asks the shared budget again while probes wait */
	struct probe *slot_head, *slot_tail;
	size_t nslot_wait;
	/* probes to start again (timed out once while overloaded) */
	struct probe **retry;
	size_t nretry, capretry;
	size_t nretried;
	/* overload: when the loop last ran late */
	double last_poll, lag_seen;
};

static void probe_free(struct probe *p);
static void probe_start(struct probe *p);
static bool probe_retry(struct probe *p);
static bool needs_tls(const struct probe_engine *e);

/* ---- small helpers -------------------------------------------------------- */

bool
probe_debugging(const struct probe *p)
{
	return p->eng->o->debug_tls && p->eng->o->debug_out != NULL;
}

void
probe_debug(struct probe *p, const char *fmt, ...)
{
	FILE *f = p->eng->o->debug_out;
	va_list ap;

	if (!probe_debugging(p))
		return;
	fprintf(f, "[%s %s->%s:%u] ", p->res.rule_id ? p->res.rule_id : "probe",
	        p->res.src_host ? p->res.src_host : "local",
	        p->res.dst_host ? p->res.dst_host : (p->res.target ? p->res.target : "?"),
	        p->res.port);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

static struct timeval ms_tv(unsigned ms);

void
probe_step_begin(struct probe *p)
{
	struct timeval tv = ms_tv(p->eng->timeout_ms);

	/* libevent arms timers from the time its loop last read: a callback that
	 * starts thousands of probes would give the last ones a shorter timeout */
	event_base_update_cache_time(p->eng->base);
	p->step_start = lm_now_ms();
	p->deadline = p->step_start + p->eng->timeout_ms;
	p->slot_waiting = false;
	if (p->ev_deadline != NULL)
		evtimer_add(p->ev_deadline, &tv);
	if (p->bev != NULL)
		probe_set_bev_timeouts(p);
}

unsigned
probe_remaining_ms(const struct probe *p)
{
	double left = p->deadline - lm_now_ms();
	return left < 1 ? 1 : (unsigned)left;
}

static struct timeval
ms_tv(unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	return tv;
}

void
probe_set_bev_timeouts(struct probe *p)
{
	struct timeval tv = ms_tv(probe_remaining_ms(p));
	bufferevent_set_timeouts(p->bev, &tv, &tv);
}

const struct scenario *
probe_engine_scenario(struct probe *p)
{
	return p->eng->sc;
}

SSL_CTX *
probe_engine_ctx(struct probe *p)
{
	return p->eng->ctx;
}

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int
sockaddr_text(const struct sockaddr *sa, char *addr, size_t alen, unsigned *port)
{
	const void *a;

	if (sa->sa_family == AF_INET) {
		a = &((const struct sockaddr_in *)sa)->sin_addr;
		*port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		*port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	} else
		return -1;
	return inet_ntop(sa->sa_family, a, addr, (socklen_t)alen) ? 0 : -1;
}

/* Compares "a:p" / "[a]:p" as the listener wrote it with our address. */
static bool
same_endpoint(const char *seen, const char *addr, unsigned port, bool *addr_same)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(seen, ':');
	unsigned char a1[16], a2[16];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	size_t hl;
	char *end;
	long sp;

	*addr_same = false;
	if (colon == NULL || (hl = (size_t)(colon - seen)) == 0 || hl >= sizeof host)
		return false;
	memcpy(host, seen, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	/* an IPv4-mapped address seen by a dual-stack listener is the same host */
	if (fam == AF_INET && strncmp(host, "::ffff:", 7) == 0)
		memmove(host, host + 7, strlen(host + 7) + 1);
	if (inet_pton(fam, host, a1) != 1 || inet_pton(fam, addr, a2) != 1)
		return false;
	*addr_same = memcmp(a1, a2, fam == AF_INET ? 4 : 16) == 0;
	sp = strtol(colon + 1, &end, 10);
	return *addr_same && *end == '\0' && sp == (long)port;
}

/* ---- the single exit ------------------------------------------------------ */

/* Gives back p's TLS slot; the kick hands it to the next waiting probe. */
static void
slot_release(struct probe *p)
{
	struct probe_engine *e = p->eng;

	if (!p->has_slot)
		return;
	p->has_slot = false;
	e->tls_inflight--;
	if (e->pool != NULL)
		probe_slots_give(e->pool);
	if (e->ev_kick != NULL)
		event_active(e->ev_kick, EV_TIMEOUT, 0);
}

static void
slot_unqueue(struct probe *p)
{
	struct probe_engine *e = p->eng;
	struct probe **pp = &e->slot_head, *prev = NULL;

	if (!p->slot_waiting)
		return;
	while (*pp != NULL && *pp != p) {
		prev = *pp;
		pp = &(*pp)->slot_next;
	}
	if (*pp == p) {
		*pp = p->slot_next;
		if (e->slot_tail == p)
			e->slot_tail = prev;
		e->nslot_wait--;
	}
	p->slot_next = NULL;
	p->slot_waiting = false;
}

static void
probe_release(struct probe *p)
{
	slot_unqueue(p);
	slot_release(p);
	probe_mtu_release(p);
	if (p->ev_connect != NULL) {
		event_free(p->ev_connect);
		p->ev_connect = NULL;
	}
	if (p->ev_deadline != NULL) {
		event_free(p->ev_deadline);
		p->ev_deadline = NULL;
	}
	if (p->ev_settle != NULL) {
		event_free(p->ev_settle);
		p->ev_settle = NULL;
	}
	if (p->ev_hold != NULL) {
		event_free(p->ev_hold);
		p->ev_hold = NULL;
	}
	if (p->ev_lend != NULL) {
		event_free(p->ev_lend);
		p->ev_lend = NULL;
	}
	probe_dgram_release(p);
	if (p->bev != NULL) {
		bufferevent_free(p->bev); /* frees the SSL and closes the fd */
		p->bev = NULL;
		p->ssl = NULL;
	}
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
	}
}

void
probe_done(struct probe *p, enum lm_outcome out, const char *fmt, ...)
{
	struct probe_engine *e = p->eng;
	struct probe_result *r = &p->res;
	const struct lm_outcome_info *oi;
	char detail[1024];
	va_list ap;

	if (p->finished)
		return;
	if (out == LM_OUT_PASS && p->hold_ms > 0 && !p->held && probe_hold_begin(p))
		return;
	p->finished = true;
	p->state = PS_DONE;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (p->held)
		probe_hold_outcome(p, &out, detail, sizeof detail);
	oi = lm_outcome_info(out);
	if (p->retried) {
		size_t dl = strlen(detail);
		snprintf(detail + dl, sizeof detail - dl,
		         " (second try: the first timed out while this machine was overloaded)");
	}
	r->outcome = out;
	free(r->detail);
	r->detail = strdup(detail);
	r->t_total_ms = lm_now_ms() - p->t_start;
	probe_tls_collect(p);
	/* the verdict and the sentence come from the one outcome table */
	r->ok = report_outcome_ok(r, e->o->allow_foreign || p->adhoc);
	free(r->fix);
	r->fix = report_fix_build(r);
	probe_debug(p, "outcome %s: %s", oi->name, detail);
	probe_release(p);
	e->inflight--;
	e->ndone++;
	if (e->o->progress != NULL)
		e->o->progress(e->o->progress_arg, r, e->ndone, e->n);
	event_active(e->ev_kick, EV_TIMEOUT, 0);
}

/* ---- exchange and identity ---------------------------------------------- */

static void
fact(char **slot, const char *v)
{
	free(*slot);
	*slot = v != NULL ? strdup(v) : NULL;
}

/* The address part of "a:p" / "[a]:p" into buf. */
static const char *
endpoint_host(const char *seen, char *buf, size_t len)
{
	const char *colon = seen ? strrchr(seen, ':') : NULL;
	size_t n;

	if (seen == NULL || colon == NULL) {
		snprintf(buf, len, "%s", seen ? seen : "?");
		return buf;
	}
	n = (size_t)(colon - seen);
	if (n >= 2 && seen[0] == '[' && seen[n - 1] == ']')
		snprintf(buf, len, "%.*s", (int)(n - 2), seen + 1);
	else
		snprintf(buf, len, "%.*s", (int)n, seen);
	return buf;
}

/* Did a middlebox terminate TLS? The listener says which certificates it
 * served and saw; compare them with the ones we got and sent. */
static bool
tls_intercepted(struct probe *p, const struct wire_record *id)
{
	struct probe_facts *f = &p->res.facts;
	char fp[65];

	if (p->ssl == NULL || id->server_cert_sha256 == NULL)
		return false; /* plain TCP, or a listener that does not say */
	certs_sha256_hex(SSL_get0_peer_certificate(p->ssl), fp);
	f->server_swapped = fp[0] != '\0' && strcasecmp(fp, id->server_cert_sha256) != 0;
	if (p->cert_msg_sent && !p->cert_msg_empty) {
		certs_sha256_hex(SSL_get_certificate(p->ssl), fp);
		f->client_swapped = fp[0] != '\0' && (id->client_cert_sha256 == NULL ||
		                                      strcasecmp(fp, id->client_cert_sha256) != 0);
	} else {
		/* we sent none (nobody asked us), yet the listener saw one */
		f->client_swapped = id->client_cert_sha256 != NULL;
	}
	if (f->client_swapped)
		fact(&f->seen_client_cert, id->client_cert ? id->client_cert : "(none)");
	return f->server_swapped || f->client_swapped;
}

/* A valid answer that carries no lyncmock identity: a real server. */
static void
foreign_answer(struct probe *p, const struct probe_answer *a)
{
	struct probe_result *r = &p->res;
	bool foreign_ok = p->eng->o->allow_foreign || p->adhoc;
	enum lm_outcome out = LM_OUT_FOREIGN_PEER;
	char why[400];

	if (p->proto->connect_is_pass) {
		probe_done(p, LM_OUT_PASS, "TCP %u open (the peer is not a lyncmock listener)",
		           r->port);
		return;
	}
	if (p->proto->identity_only) {
		probe_done(p, LM_OUT_PROTOCOL_ERROR,
		           "the answer line is not a lyncmock identity record");
		return;
	}
	r->facts.status = a->status;
	fact(&r->facts.server, a->server[0] ? a->server : NULL);
	if (!foreign_ok) {
		probe_done(p, LM_OUT_WRONG_RESPONDER,
		           "%s %d without a lyncmock identity: a non-mock service answered "
		           "(--allow-foreign accepts it)",
		           p->proto->label, a->status);
		return;
	}
	if (p->proto->foreign != NULL)
		out = p->proto->foreign(a, why, sizeof why);
	else
		snprintf(why, sizeof why, "reached a non-mock peer (%s %d)", p->proto->label,
		         a->status);
	probe_done(p, out, "%s", why);
}

void
probe_answer_done(struct probe *p, struct probe_answer *a)
{
	struct probe_result *r = &p->res;
	const char *svc = lm_service_name(r->service);
	struct wire_record id;
	char host[INET6_ADDRSTRLEN + 2];
	bool addr_same;
	size_t ll;

	if (a->body == NULL && !a->stun && p->proto->connect_is_pass) {
		/* tcp: a line we did not understand, or none */
		probe_done(p, LM_OUT_PASS, "TCP %u open", r->port);
		return;
	}
	/* a STUN server that is not lyncmock still tells the source it saw */
	if (a->stun && a->body == NULL && a->mapped[0] != '\0' &&
	    !same_endpoint(a->mapped, p->local_addr, p->local_port, &addr_same)) {
		r->peer_seen = strdup(a->mapped);
		probe_done(p, LM_OUT_NAT_DETECTED,
		           "the STUN server (%s) mapped us to %s, we are %s (%s translated)",
		           a->software[0] ? a->software : "no SOFTWARE", a->mapped, p->local,
		           addr_same ? "port" : "address");
		return;
	}
	if (a->body == NULL || wire_record_parse(a->body, a->body_len, &id) != 0) {
		foreign_answer(p, a);
		return;
	}
	r->identity = strndup(a->body, a->body_len);
	r->peer_seen = xstrdup(id.peer);
	if (p->proto->token_echo &&
	    (id.token == NULL || strcmp(id.token, p->token) != 0 ||
	     (a->token_header &&
	      (a->token_value == NULL || strcmp(a->token_value, p->token) != 0)))) {
		probe_done(
		    p, LM_OUT_WRONG_RESPONDER,
		    "the answer from %s (%s) carries another token: not an answer to this probe",
		    id.host ? id.host : "?", id.role ? id.role : "?");
		goto out;
	}
	if (a->status != 0 && a->status != 200) {
		probe_done(p, LM_OUT_PROTOCOL_ERROR, "the listener answered %s status %d", svc,
		           a->status);
		goto out;
	}
	if (tls_intercepted(p, &id)) {
		probe_done(p, LM_OUT_TLS_INTERCEPTED, "TLS was terminated on the path: %s%s%s%s%s",
		           r->facts.server_swapped ? "the listener served another certificate than "
		                                     "the one we got"
		                                   : "",
		           r->facts.server_swapped && r->facts.client_swapped ? "; " : "",
		           r->facts.client_swapped ? "the listener saw the client certificate "
		                                   : "",
		           r->facts.client_swapped ? r->facts.seen_client_cert : "",
		           r->facts.client_swapped ? " instead of ours" : "");
		goto out;
	}
	if (!p->adhoc && (id.host == NULL || strcmp(id.host, p->want_host) != 0 ||
	                  id.role == NULL || strcmp(id.role, p->want_role) != 0)) {
		fact(&r->facts.reached_host, id.host);
		probe_done(p, LM_OUT_WRONG_RESPONDER, "reached %s (%s) instead of %s (%s)",
		           id.host ? id.host : "?", id.role ? id.role : "?", p->want_host,
		           p->want_role);
		goto out;
	}
	if (id.listener == NULL || strcmp(id.listener, svc) != 0) {
		probe_done(p, LM_OUT_WRONG_RESPONDER, "reached %s's %s listener instead of %s",
		           id.host ? id.host : "?", id.listener ? id.listener : "?", svc);
		goto out;
	}
	if (id.port != (long)r->port) {
		probe_done(p, LM_OUT_WRONG_RESPONDER,
		           "reached %s's listener on port %ld instead of %u (port forwarding?)",
		           id.host ? id.host : "?", id.port, r->port);
		goto out;
	}
	if (id.peer == NULL) {
		probe_done(p, LM_OUT_PROTOCOL_ERROR, "the identity record has no peer address");
		goto out;
	}
	/* a proxy re-originates the request: it adds its headers, or speaks HTTP/1.0 */
	ll = id.request_line ? strlen(id.request_line) : 0;
	if (id.proxy_headers != NULL ||
	    (ll > 9 && strcmp(id.request_line + ll - 9, " HTTP/1.0") == 0)) {
		fact(&r->facts.answered_by, endpoint_host(id.peer, host, sizeof host));
		fact(&r->facts.headers,
		     id.proxy_headers ? id.proxy_headers : "a downgrade to HTTP/1.0");
		probe_done(p, LM_OUT_PROXIED,
		           "the request reached %s through an HTTP proxy at %s (it added %s%s%s%s)",
		           id.host ? id.host : "?", host, r->facts.headers,
		           id.forwarded_for ? "; X-Forwarded-For: " : "",
		           id.forwarded_for ? id.forwarded_for : "",
		           id.forwarded_for && strstr(id.forwarded_for, p->local_addr)
		               ? ", our address"
		               : "");
		goto out;
	}
	if (!same_endpoint(id.peer, p->local_addr, p->local_port, &addr_same)) {
		probe_done(p, LM_OUT_NAT_DETECTED, "the listener saw %s, we are %s (%s translated)",
		           id.peer, p->local, addr_same ? "port" : "address");
		goto out;
	}
	/* STUN's own report of the source must agree with the identity's */
	if (a->stun && a->mapped[0] != '\0' &&
	    !same_endpoint(a->mapped, p->local_addr, p->local_port, &addr_same)) {
		probe_done(p, LM_OUT_NAT_DETECTED,
		           "XOR-MAPPED-ADDRESS says %s, we are %s (%s translated)", a->mapped,
		           p->local, addr_same ? "port" : "address");
		goto out;
	}
	probe_done(p, LM_OUT_PASS, "reached %s (%s) %s listener%s", id.host ? id.host : "?",
	           id.role ? id.role : "?", svc,
	           p->ssl                             ? " over verified TLS"
	           : lm_service_info(r->service)->udp ? " over UDP"
	                                              : "");
out:
	wire_record_clear(&id);
}

/* FIN or RST? The kernel's TCP state tells: CLOSE_WAIT after a FIN, CLOSE after a reset. */
static const char *
cut_kind(struct probe *p)
{
	struct tcp_info ti;
	socklen_t l = sizeof ti;
	int fd = p->bev != NULL ? bufferevent_getfd(p->bev) : p->fd;

	if (p->hangup != 0)
		return p->hangup == 'r' ? "rst" : "fin";
	if (p->alert_sent_blind)
		return "fin";
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == -1)
		return "fin";
	return ti.tcpi_state == TCP_CLOSE ? "rst" : "fin";
}

/* Connected, then the peer hung up before any answer (sent: what we had sent,
 * or NULL). A peer that acknowledged none of it hung up before our first bytes
 * reached it: not an IPS reading them, something that refuses us at once. */
static void
probe_cut(struct probe *p, const char *sent)
{
	const char *k = cut_kind(p);
	bool rst = strcmp(k, "rst") == 0;
	bool unread = sent != NULL &&
	              !probe_cut_peer_acked(p, p->bev != NULL ? bufferevent_getfd(p->bev) : p->fd);
	bool before = sent == NULL || unread;

	fact(&p->res.facts.answer, k);
	fact(&p->res.facts.sent, before ? NULL : sent);
	probe_done(p, LM_OUT_CUT_AFTER_CONNECT, "TCP connected, then %s %s%s%s%s%s",
	           rst ? "reset (RST)" : "closed (FIN)",
	           before ? "before our first bytes" : "after ", before ? "" : sent,
	           unread ? " (it acknowledged none of " : "", unread ? sent : "",
	           !before ? (rst ? ": an IPS or application-aware firewall on the path?"
	                          : ": TCP wrappers or a service refusing this source?")
	                   : (unread ? "): TCP wrappers, a connection limit or a service refusing "
	                               "this source at once?"
	                             : ": TCP wrappers, a connection limit or a service refusing "
	                               "this source at once?"));
}

/* The small-MSS retry got an answer where the normal connection got nothing. */
void
probe_mtu_found(struct probe *p)
{
	unsigned hdr = p->dst.ss_family == AF_INET6 ? 60 : 40;

	p->res.facts.mtu = PROBE_SMALL_MSS + hdr;
	probe_done(p, LM_OUT_MTU_BLACKHOLE,
	           "no server byte in %.0f ms with the normal MSS; a connection with MSS %d got "
	           "%zu bytes at once: packets larger than about %u bytes are lost",
	           lm_now_ms() - p->t_sent, PROBE_SMALL_MSS, p->mtu_rx, p->res.facts.mtu);
}

/* Connected and sent, and nothing came back. */
static void
probe_no_answer(struct probe *p, const char *sent)
{
	double waited = lm_now_ms() - p->t_sent;

	p->res.facts.waited_ms = waited;
	fact(&p->res.facts.sent, sent);
	probe_done(p, LM_OUT_NO_ANSWER,
	           "TCP connected; the server sent nothing in %.0f ms (after %s)", waited,
	           sent ? sent : "connecting");
}

/* The peer closed, failed or went quiet during the exchange. */
static void
exchange_ended(struct probe *p, bool closed, const char *why)
{
	struct evbuffer *in = bufferevent_get_input(p->bev);
	size_t len = evbuffer_get_length(in);
	struct probe_answer a = {0};
	char tls_why[512];
	enum probe_parse pr;
	enum lm_outcome out;

	/* TLS 1.3: the rejection of our certificate arrives here, as an alert */
	if (p->ssl != NULL && (out = probe_tls_failure_outcome(p, false, why, tls_why,
	                                                       sizeof tls_why)) != LM_OUT__COUNT) {
		probe_done(p, out, "%s", tls_why);
		return;
	}
	if (p->proto->connect_is_pass) {
		probe_done(p, LM_OUT_PASS, "TCP %u open (%s)", p->res.port, why);
		return;
	}
	/*
	 * TLS 1.3, a certificate was asked for, and the server hung up without
	 * a word right after the handshake: that is how a rejection looks when
	 * its alert is lost to the reset our unread request causes.
	 */
	if (p->ssl != NULL && closed && len == 0 && p->cert_requested && !p->got_ticket &&
	    SSL_version(p->ssl) == TLS1_3_VERSION) {
		probe_done(p, LM_OUT_TLS_CLIENT_REJECTED,
		           "the server closed the connection without an answer right after a TLS "
		           "1.3 handshake in which it asked for a client certificate (%s; %s)",
		           p->cert_msg_sent && !p->cert_msg_empty ? "ours was refused"
		                                                  : "we sent none",
		           why);
		return;
	}
	/* an empty buffer pulls up to NULL: the parsers get "" instead */
	pr = p->proto->parse(len ? (const char *)evbuffer_pullup(in, -1) : "", len, true, &a);
	if (pr == PROBE_PARSE_DONE)
		probe_answer_done(p, &a);
	else if (len == 0 && closed)
		probe_cut(p, p->proto->sent);
	else if (len == 0)
		probe_no_answer(p, p->proto->sent);
	else
		probe_done(p, LM_OUT_PROTOCOL_ERROR, "%s (%s)", a.why, why);
	probe_answer_clear(&a);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct probe *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	struct probe_answer a = {0};
	enum probe_parse pr;

	if (p->state != PS_EXCHANGE || len == 0)
		return;
	if (!p->got_bytes) {
		p->got_bytes = true;
		p->res.t_first_ms = lm_now_ms() - p->t_start;
	}
	if (len > PROBE_MAX_ANSWER + 4096) {
		probe_done(p, LM_OUT_PROTOCOL_ERROR, "answer larger than %d bytes",
		           PROBE_MAX_ANSWER);
		return;
	}
	pr = p->proto->parse((const char *)evbuffer_pullup(in, -1), len, false, &a);
	if (pr == PROBE_PARSE_DONE)
		probe_answer_done(p, &a);
	else if (pr == PROBE_PARSE_ERROR)
		probe_done(p, LM_OUT_PROTOCOL_ERROR, "%s", a.why);
	else
		probe_set_bev_timeouts(p);
	probe_answer_clear(&a);
}

void
probe_exchange_start(struct probe *p)
{
	p->state = PS_EXCHANGE;
	probe_step_begin(p);
	if (p->proto->request(p, bufferevent_get_output(p->bev)) != 0) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "cannot build the %s request",
		           lm_service_name(p->res.service));
		return;
	}
	p->t_sent = lm_now_ms();
	if (p->proto->connect_is_pass) {
		/* a listener sends its identity line at once; a plain port sends nothing */
		unsigned grace = probe_remaining_ms(p);
		struct timeval tv = ms_tv(grace < PROBE_TCP_GRACE_MS ? grace : PROBE_TCP_GRACE_MS);
		bufferevent_set_timeouts(p->bev, &tv, &tv);
	} else
		probe_set_bev_timeouts(p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	/* bytes may already wait in the input buffer (read during the handshake) */
	if (evbuffer_get_length(bufferevent_get_input(p->bev)) > 0)
		read_cb(p->bev, p);
}

/* The TLS 1.3 server had its say on our certificate (ticket), or kept quiet. */
static void
settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	if (p->finished || !p->settling)
		return;
	p->settling = false;
	probe_debug(p, "%s",
	            p->got_ticket
	                ? "the server sent a session ticket: certificate accepted"
	                : "no word from the server after the handshake; sending the request");
	probe_exchange_start(p);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;
	char errs[512], why[600];
	int sockerr = EVUTIL_SOCKET_ERROR();
	enum lm_outcome out;

	(void)bev;
	if (p->finished)
		return;
	/* a plain socket's EOF is a FIN read (the TLS reads are watched in probe_cut.c) */
	if ((what & BEV_EVENT_EOF) && p->ssl == NULL)
		probe_cut_saw(p, 'f');
	if (what & BEV_EVENT_CONNECTED) {
		/* on a TLS bufferevent: the handshake is complete */
		p->handshake_done = true;
		p->res.t_handshake_ms = lm_now_ms() - p->t_start;
		probe_step_begin(p); /* the wait for the server's word on us */
		if ((out = probe_tls_verify_outcome(p, why, sizeof why)) != LM_OUT_PASS) {
			probe_done(p, out, "%s", why);
			return;
		}
		if (SSL_version(p->ssl) == TLS1_3_VERSION && p->cert_requested && !p->got_ticket) {
			unsigned ms = probe_remaining_ms(p);
			struct timeval tv = ms_tv(ms < PROBE_SETTLE_MS ? ms : PROBE_SETTLE_MS);
			p->settling = true;
			if ((p->ev_settle = evtimer_new(p->eng->base, settle_cb, p)) == NULL) {
				probe_done(p, LM_OUT_LOCAL_ERROR, "out of memory");
				return;
			}
			evtimer_add(p->ev_settle, &tv);
			return;
		}
		probe_exchange_start(p);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && probe_mtu_settle(p))
		return;
	if ((what & BEV_EVENT_TIMEOUT) &&
	    !(p->proto->service == LM_SVC_TCP && p->state == PS_EXCHANGE) && probe_retry(p))
		return;
	probe_tls_errors(p, errs, sizeof errs);
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(errs, sizeof errs, "no answer within %u ms", p->eng->timeout_ms);
	else if ((what & BEV_EVENT_ERROR) && errs[0] == '\0')
		snprintf(errs, sizeof errs, "%s", sockerr ? strerror(sockerr) : "connection error");
	else if ((what & BEV_EVENT_EOF) && errs[0] == '\0')
		snprintf(errs, sizeof errs, "connection closed by the peer");
	if (p->state == PS_TLS && !p->handshake_done) {
		/* not one byte back from the server: silence, or a cut */
		if (!p->tls_rx_any) {
			if (what & BEV_EVENT_TIMEOUT)
				probe_no_answer(p, "our ClientHello");
			else
				probe_cut(p, "our ClientHello");
			return;
		}
		out = probe_tls_failure_outcome(p, true, errs, why, sizeof why);
		probe_done(p, out, "%s", why);
		return;
	}
	exchange_ended(p, !(what & BEV_EVENT_TIMEOUT), errs);
}

/* ---- connect ------------------------------------------------------------- */

static void
connect_failed(struct probe *p, int err)
{
	struct probe_result *r = &p->res;
	char from[INET6_ADDRSTRLEN] = "";
	const char *what = NULL;

	/* who answered: the ICMP error the kernel queued, if any */
	if (p->fd != -1 && probe_errq_read(p->fd, from, sizeof from, &what) == 0) {
		fact(&r->facts.answered_by, from[0] ? from : NULL);
		fact(&r->facts.answer, what);
	}
	switch (err) {
	case ECONNREFUSED:
		if (what != NULL && strcmp(what, "icmp-port-unreachable") == 0) {
			probe_done(p, LM_OUT_REFUSED,
			           "connect to %s:%u: ICMP port-unreachable from %s (a firewall's "
			           "REJECT%s)",
			           r->dst_addr, r->port, from,
			           strcmp(from, r->dst_addr ? r->dst_addr : "") == 0
			               ? " on the destination itself"
			               : "");
			break;
		}
		fact(&r->facts.answer, "tcp-reset");
		fact(&r->facts.answered_by, r->dst_addr);
		probe_done(p, LM_OUT_REFUSED, "connect to %s:%u: TCP reset from %s", r->dst_addr,
		           r->port, r->dst_addr);
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case EACCES:
		if (what != NULL) {
			probe_done(p, LM_OUT_UNREACHABLE, "connect to %s:%u: ICMP %s from %s",
			           r->dst_addr, r->port, what + 5, from[0] ? from : "?");
			break;
		}
		if (err == EACCES) {
			probe_done(p, LM_OUT_FILTERED,
			           "connect to %s:%u: %s (this host's own firewall)", r->dst_addr,
			           r->port, strerror(err));
			break;
		}
		probe_done(p, LM_OUT_UNREACHABLE,
		           "connect to %s:%u: %s (no route from here, or ICMP unreachable)",
		           r->dst_addr, r->port, strerror(err));
		break;
	case ECONNRESET:
	case EPIPE:
		/* the handshake completed and the reset came before we could say a word */
		probe_cut(p, NULL);
		break;
	case ETIMEDOUT:
		probe_done(p, LM_OUT_FILTERED, "connect to %s:%u: no answer (%s)", r->dst_addr,
		           r->port, strerror(err));
		break;
	case EPERM:
		probe_done(p, LM_OUT_FILTERED, "connect to %s:%u: %s (this host's own firewall)",
		           r->dst_addr, r->port, strerror(err));
		break;
	default:
		probe_done(p, LM_OUT_LOCAL_ERROR, "connect to %s:%u: %s", r->dst_addr, r->port,
		           strerror(err));
		break;
	}
}

static void slot_wait(struct probe *p);
static void tls_begin(struct probe *p);
static void bev_setup(struct probe *p);

static void
connected(struct probe *p)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	p->res.t_connect_ms = lm_now_ms() - p->t_start;
	if (getsockname(p->fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    sockaddr_text((struct sockaddr *)&ss, p->local_addr, sizeof p->local_addr,
	                  &p->local_port) == 0) {
		snprintf(p->local, sizeof p->local, "%s%s%s:%u",
		         ss.ss_family == AF_INET6 ? "[" : "", p->local_addr,
		         ss.ss_family == AF_INET6 ? "]" : "", p->local_port);
		free(p->res.src_addr);
		p->res.src_addr = strdup(p->local_addr);
	}
	probe_debug(p, "TCP connected from %s in %.1f ms", p->local, p->res.t_connect_ms);
	if (!p->proto->connect_is_pass) {
		/* already closed or reset before we said a word? */
		char c;
		ssize_t n = recv(p->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n == -1 && (errno == ECONNRESET || errno == EPIPE))) {
			probe_cut_saw(p, n == 0 ? 'f' : 'r');
			probe_cut(p, NULL);
			return;
		}
	}
	p->t_sent = lm_now_ms();
	if (lm_service_info(p->res.service)->tls) {
		if (p->ev_lend != NULL)
			evtimer_del(p->ev_lend);
		if (p->has_slot) {
			p->step_start = lm_now_ms();
			tls_begin(p);
		} else
			slot_wait(p);
		return;
	}
	p->bev = bufferevent_socket_new(p->eng->base, p->fd,
	                                BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (p->bev == NULL) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "cannot create a bufferevent");
		return;
	}
	p->fd = -1;
	bev_setup(p);
}

/* The TLS step, once p holds a slot: its deadline starts now. */
static void
tls_begin(struct probe *p)
{
	char err[256];

	/* our own queue is not the network's: timings leave the wait out */
	p->t_start += lm_now_ms() - p->step_start;
	p->state = PS_TLS;
	probe_step_begin(p);
	if (probe_tls_start(p, err, sizeof err) != 0) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "%s", err);
		return;
	}
	probe_debug(p, "TLS handshake starts (%u in flight)", p->eng->tls_inflight);
	bev_setup(p);
}

/* Connected: wait for a TLS slot, with no step deadline running (the wait is
 * ours, not the network's) but a bound, so nothing waits forever. */
static void
slot_wait(struct probe *p)
{
	struct probe_engine *e = p->eng;
	unsigned bound = e->timeout_ms * 10 > 30000 ? e->timeout_ms * 10 : 30000;
	struct timeval tv = ms_tv(bound);

	p->step_start = lm_now_ms();
	p->slot_waiting = true;
	p->slot_next = NULL;
	if (e->slot_tail != NULL)
		e->slot_tail->slot_next = p;
	else
		e->slot_head = p;
	e->slot_tail = p;
	e->nslot_wait++;
	evtimer_add(p->ev_deadline, &tv);
	event_active(e->ev_kick, EV_TIMEOUT, 0);
}

static void
bev_setup(struct probe *p)
{
	bufferevent_setcb(p->bev, read_cb, NULL, event_cb, p);
	/* bound what a peer can make us buffer; read_cb refuses more */
	bufferevent_setwatermark(p->bev, EV_READ, 0, PROBE_MAX_ANSWER + 4096);
	probe_set_bev_timeouts(p);
	if (p->ssl == NULL)
		probe_exchange_start(p);
	else {
		bufferevent_enable(p->bev, EV_READ | EV_WRITE);
		probe_mtu_arm(p);
	}
}

static void
connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	int err = 0;
	socklen_t el = sizeof err;

	if (what & EV_TIMEOUT) {
		probe_done(p, LM_OUT_FILTERED, "no answer to TCP SYN within %u ms (dropped)",
		           p->eng->timeout_ms);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
		err = errno;
	if (err != 0) {
		connect_failed(p, err);
		return;
	}
	event_free(p->ev_connect);
	p->ev_connect = NULL;
	connected(p);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	char why[600], errs[128];
	enum lm_outcome out;

	(void)fd;
	(void)what;
	if (p->slot_waiting) {
		probe_done(p, LM_OUT_LOCAL_ERROR,
		           "waited %.0f ms for a TLS handshake slot: this machine is too loaded to "
		           "probe (not a network verdict)",
		           lm_now_ms() - p->step_start);
		return;
	}
	if (probe_mtu_settle(p))
		return;
	if (p->state > PS_CONNECT && probe_retry(p))
		return;
	snprintf(errs, sizeof errs, "no answer within %u ms", p->eng->timeout_ms);
	switch (p->state) {
	case PS_IDLE:
	case PS_CONNECT:
		probe_done(p, LM_OUT_FILTERED, "no answer to TCP SYN within %u ms (dropped)",
		           p->eng->timeout_ms);
		break;
	case PS_TLS:
		if (p->handshake_done) {
			exchange_ended(p, false, errs);
			break;
		}
		if (!p->tls_rx_any) {
			probe_no_answer(p, "our ClientHello");
			break;
		}
		out = probe_tls_failure_outcome(p, true, errs, why, sizeof why);
		probe_done(p, out, "%s", why);
		break;
	case PS_EXCHANGE:
		exchange_ended(p, false, errs);
		break;
	case PS_HOLD: /* no deadline while held idle */
	case PS_DONE:
		break;
	}
}

/* The SYN is still unanswered: give the slot to a probe that can use it. */
static void
lend_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	if (p->state == PS_CONNECT && p->has_slot)
		slot_release(p);
}

static void
probe_start(struct probe *p)
{
	struct probe_engine *e = p->eng;
	struct timeval tv;
	int one = 1;

	e->inflight++;
	p->t_start = lm_now_ms();
	p->state = PS_CONNECT;
	if ((p->ev_deadline = evtimer_new(e->base, deadline_cb, p)) == NULL) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "out of memory");
		return;
	}
	probe_step_begin(p);
	if (p->res.detail != NULL) {
		/* planned as a local error (bad port, unusable address) */
		probe_done(p, LM_OUT_LOCAL_ERROR, "%s", p->res.detail);
		return;
	}
	if (p->proto->dgram_request != NULL) {
		probe_dgram_start(p);
		return;
	}
	p->fd = socket(p->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd == -1) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "socket: %s", strerror(errno));
		return;
	}
	probe_errq_enable(p->fd, p->dst.ss_family);
	if (p->bind_src) {
		setsockopt(p->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(p->fd, (struct sockaddr *)&p->src, p->srclen) == -1) {
			probe_done(p, LM_OUT_LOCAL_ERROR, "bind to the source address %s: %s",
			           p->res.src_addr ? p->res.src_addr : "?", strerror(errno));
			return;
		}
	}
	probe_debug(p, "connecting to %s port %u", p->res.dst_addr, p->res.port);
	if (connect(p->fd, (struct sockaddr *)&p->dst, p->dstlen) == 0) {
		connected(p);
		return;
	}
	if (errno != EINPROGRESS) {
		connect_failed(p, errno);
		return;
	}
	p->ev_connect = event_new(e->base, p->fd, EV_WRITE, connect_cb, p);
	if (p->ev_connect == NULL) {
		probe_done(p, LM_OUT_LOCAL_ERROR, "out of memory");
		return;
	}
	tv = ms_tv(probe_remaining_ms(p));
	event_add(p->ev_connect, &tv);
	if (p->has_slot) {
		struct timeval lend = ms_tv(PROBE_SLOT_LEND_MS);
		if ((p->ev_lend = evtimer_new(e->base, lend_cb, p)) != NULL)
			evtimer_add(p->ev_lend, &lend);
	}
}

/* ---- overload: a timeout our own load may have caused is tried again ----- */

/* CPU pressure of the whole machine (PSI), or -1 where the kernel has none. */
static double
cpu_pressure(void)
{
	FILE *f = fopen("/proc/pressure/cpu", "re");
	double v = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "some avg10=%lf", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Was this process, or the machine, overloaded during p's current step? */
static bool
overloaded(const struct probe *p)
{
	const struct probe_engine *e = p->eng;
	double psi;

	if (e->lag_seen >= p->step_start)
		return true;
	if (e->nslot_wait > 0)
		return true;
	psi = cpu_pressure();
	return psi >= PROBE_PSI_BUSY;
}

/*
 * A step that timed out after TCP connected, while we were overloaded: the
 * CPU may have been the queue, not the network. Start the probe once more
 * from scratch; a second timeout is reported as it is.
 */
static bool
probe_retry(struct probe *p)
{
	struct probe_engine *e = p->eng;
	struct probe **v;
	unsigned hold_ms;

	if (p->retried || p->finished || e->stopping || p->res.t_connect_ms < 0 || !overloaded(p))
		return false;
	if (e->nretry == e->capretry) {
		size_t cap = e->capretry ? e->capretry * 2 : 16;
		if ((v = realloc(e->retry, cap * sizeof *v)) == NULL)
			return false;
		e->retry = v;
		e->capretry = cap;
	}
	probe_debug(p, "no answer within %u ms while this machine was overloaded: trying again",
	            e->timeout_ms);
	probe_release(p);
	/* the runtime half of the struct starts over; the plan and result stay, and so
	 * does the hold: a held probe retried without it would report a cut path as open */
	hold_ms = p->hold_ms;
	memset(&p->has_slot, 0, sizeof *p - offsetof(struct probe, has_slot));
	p->hold_ms = hold_ms;
	p->fd = -1;
	p->mtu_fd = -1;
	p->res.t_connect_ms = p->res.t_handshake_ms = p->res.t_first_ms = -1;
	p->state = PS_IDLE;
	p->retried = true;
	e->retry[e->nretry++] = p;
	e->nretried++;
	e->inflight--;
	event_active(e->ev_kick, EV_TIMEOUT, 0);
	return true;
}

/* ---- the engine ------------------------------------------------------------ */

/* Takes a handshake slot: the local cap, then the shared budget (when the
 * other processes hold it all, asks again shortly). */
static bool
slot_take(struct probe_engine *e)
{
	if (e->tls_inflight >= e->tls_max)
		return false;
	if (e->pool != NULL && !probe_slots_take(e->pool)) {
		struct timeval tv = ms_tv(PROBE_SLOT_POLL_MS);
		if (!evtimer_pending(e->ev_slot, NULL))
			evtimer_add(e->ev_slot, &tv);
		return false;
	}
	e->tls_inflight++;
	return true;
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe_engine *e = arg;

	(void)fd;
	(void)what;
	if (e->stopping)
		return;
	/* connected probes first: they hold a connection the server is timing */
	while (e->slot_head != NULL && slot_take(e)) {
		struct probe *p = e->slot_head;
		slot_unqueue(p);
		p->has_slot = true;
		tls_begin(p);
	}
	/* then new probes in plan order, retries last (when this process's load is
	 * lowest); a TLS one starts with a slot */
	while (e->slot_head == NULL && e->inflight < e->parallel &&
	       (e->nretry > 0 || e->next < e->n)) {
		bool retry = e->next == e->n;
		struct probe *p = retry ? e->retry[e->nretry - 1] : e->probes[e->order[e->next]];
		bool tls = lm_service_info(p->res.service)->tls && p->res.detail == NULL;
		if (tls && !slot_take(e))
			break;
		if (retry)
			e->nretry--;
		else
			e->next++;
		p->has_slot = tls;
		probe_start(p);
	}
	/* all done: let the loop run dry, so that libevent's deferred frees of
	 * the last bufferevents still happen, and return by itself */
	if (e->ndone == e->n && e->ev_poll != NULL)
		event_del(e->ev_poll);
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe_engine *e = arg;
	double now;

	(void)fd;
	(void)what;
	now = lm_now_ms();
	if (e->last_poll > 0 && now - e->last_poll > PROBE_POLL_MS + PROBE_LAG_MS)
		e->lag_seen = now;
	e->last_poll = now;
	if (e->o->interrupted != NULL && *e->o->interrupted) {
		e->stopping = true;
		event_base_loopbreak(e->base);
	}
}

static void
engine_init(struct probe_engine *e, const struct probe_options *o)
{
	static bool osip_quiet;
	struct rlimit rl;

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(e, 0, sizeof *e);
	e->o = o;
	e->timeout_ms = o->timeout_ms ? o->timeout_ms : PROBE_DEFAULT_TIMEOUT_MS;
	/* one descriptor per probe in flight: by default as many as the limit
	 * allows (the commands raise the soft limit to the hard one first) */
	e->parallel = o->parallel ? o->parallel : 1u << 20;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    e->parallel > rl.rlim_cur - PROBE_FD_RESERVE)
		e->parallel = rl.rlim_cur > PROBE_FD_RESERVE + 16
		                  ? (unsigned)(rl.rlim_cur - PROBE_FD_RESERVE)
		                  : 16;
	e->tls_max =
	    o->tls_parallel ? o->tls_parallel : (unsigned)(cpus < 1 ? 1 : cpus) * PROBE_TLS_PER_CPU;
	if (!osip_quiet) {
		sip_quiet();
		osip_quiet = true;
	}
}

static void
engine_clear(struct probe_engine *e)
{
	e->stopping = true;
	for (size_t i = 0; i < e->n; i++)
		probe_free(e->probes[i]);
	free(e->probes);
	free(e->order);
	if (e->base != NULL) {
		/* bufferevents freed above finish freeing in the loop */
		if (e->ev_poll != NULL)
			event_del(e->ev_poll);
		for (int i = 0; i < 4; i++)
			event_base_loop(e->base, EVLOOP_NONBLOCK);
	}
	if (e->ev_kick)
		event_free(e->ev_kick);
	if (e->ev_slot)
		event_free(e->ev_slot);
	probe_slots_close(e->pool);
	free(e->retry);
	if (e->ev_poll)
		event_free(e->ev_poll);
	if (e->base)
		event_base_free(e->base);
	SSL_CTX_free(e->ctx);
	memset(e, 0, sizeof *e);
}

static struct probe *
engine_add(struct probe_engine *e)
{
	struct probe *p;

	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct probe **np = realloc(e->probes, cap * sizeof *np);
		if (np == NULL)
			return NULL;
		e->probes = np;
		e->cap = cap;
	}
	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->eng = e;
	p->fd = -1;
	p->mtu_fd = -1;
	p->index = e->n;
	p->res.t_connect_ms = p->res.t_handshake_ms = p->res.t_first_ms = p->res.t_total_ms = -1;
	e->probes[e->n++] = p;
	return p;
}

static void
probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	probe_release(p);
	probe_result_clear(&p->res);
	free(p->tls_name);
	free(p->uri_host);
	free(p->http_host);
	free(p);
}

static int
make_token(char *out)
{
	/* 16 random bytes a token, drawn 256 tokens at a time: planning 10,000
	 * probes spent a third of its time here */
	static unsigned char pool[16 * 256];
	static size_t left;
	static pid_t owner; /* a forked child (the lab's) draws its own */
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b;

	if (left == 0 || owner != getpid()) {
		if (RAND_bytes(pool, sizeof pool) != 1)
			return -1;
		left = sizeof pool / 16;
		owner = getpid();
	}
	b = pool + 16 * --left;
	for (size_t i = 0; i < 16; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[32] = '\0';
	OPENSSL_cleanse(pool + 16 * left, 16); /* a token is never drawn twice */
	return 0;
}

static size_t
gcd(size_t a, size_t b)
{
	while (b != 0) {
		size_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * The plan lists paths rule by rule, destination by destination: started in
 * that order, every source would hit the same listener at the same moment.
 * A stride through the plan, from an offset of the source's own, spreads the
 * handshakes over the destinations (and the sources over each other).
 */
static int
spread_order(struct probe_engine *e)
{
	const char *src = e->n > 0 && e->probes[0]->res.src_host ? e->probes[0]->res.src_host : "";
	size_t off = 5381, stride;

	if ((e->order = malloc((e->n ? e->n : 1) * sizeof *e->order)) == NULL)
		return -1;
	for (const char *c = src; *c != '\0'; c++)
		off = off * 33 + (unsigned char)*c;
	stride = e->n > 2 ? e->n * 618 / 1000 : 1;
	while (stride > 1 && gcd(stride, e->n) != 1)
		stride--;
	for (size_t i = 0; i < e->n; i++)
		e->order[i] = (off + i * stride) % e->n;
	return 0;
}

/* Runs the planned probes and moves the finished results into run. */
static int
engine_run(struct probe_engine *e, struct probe_run *run, char *err, size_t errlen)
{
	struct timeval poll = ms_tv(PROBE_POLL_MS);
	double t0 = lm_now_ms();

	if ((e->ev_kick = event_new(e->base, -1, 0, kick_cb, e)) == NULL ||
	    (e->ev_slot = evtimer_new(e->base, kick_cb, e)) == NULL ||
	    (e->ev_poll = event_new(e->base, -1, EV_PERSIST, poll_cb, e)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (spread_order(e) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (e->o->tls_slots != NULL && needs_tls(e) &&
	    (e->pool = probe_slots_open(e->o->tls_slots, err, errlen)) == NULL)
		return -1;
	if (e->n > 0) {
		/* from the start: a stall before the first poll is lag too */
		e->last_poll = lm_now_ms();
		event_add(e->ev_poll, &poll);
		event_active(e->ev_kick, EV_TIMEOUT, 0);
		event_base_dispatch(e->base);
	}
	run->duration_ms += lm_now_ms() - t0;
	for (size_t i = 0; i < e->n; i++) {
		struct probe *p = e->probes[i];
		struct probe_result *r;

		if (!p->finished) {
			run->partial = true;
			continue;
		}
		if ((r = probe_run_add(run)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		*r = p->res; /* ownership moves to the run */
		memset(&p->res, 0, sizeof p->res);
	}
	return 0;
}

static bool
in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Can this machine bind addr? (Is it configured on a local interface?) */
static int
can_bind(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc, saved;

	if (fd == -1)
		return -1;
	rc = bind(fd, (const struct sockaddr *)ss, len);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static bool
needs_tls(const struct probe_engine *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (lm_service_info(e->probes[i]->res.service)->tls)
			return true;
	return false;
}

static SSL_CTX *
client_ctx(struct certs_paths *cp, const struct probe_options *o, char *err, size_t errlen)
{
	struct certs_tls_opts topts = {
	    .client_cert = LM_CC_NONE,
	    .min_version = o->tls_min_version != 0 ? o->tls_min_version : TLS1_2_VERSION,
	};
	SSL_CTX *ctx;

	if (o->no_client_cert)
		cp->cert[0] = cp->key[0] = '\0';
	ctx = certs_client_ctx(cp, &topts, err, errlen);
	/* --tls-max: the highest version offered (a peer's ceiling, or a test) */
	if (ctx != NULL && o->tls_max_version != 0 &&
	    SSL_CTX_set_max_proto_version(ctx, o->tls_max_version) != 1) {
		snprintf(err, errlen, "cannot cap TLS at the --tls-max version");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
probe_scenario(const struct scenario *sc, const struct scenario_host *host,
               const struct probe_options *o, struct probe_run *run, char *err, size_t errlen)
{
	struct probe_engine e;
	struct sockaddr_storage src;
	socklen_t srclen = 0;
	bool bind_src = false;
	char fqdn[512];
	size_t first;
	int rc = -1;

	engine_init(&e, o);
	e.sc = sc;
	for (size_t i = 0; i < o->nonly_rules; i++) {
		bool found = false;
		for (size_t j = 0; j < sc->nrules && !found; j++)
			found = strcmp(sc->rules[j].id, o->only_rules[i]) == 0;
		if (!found) {
			snprintf(err, errlen, "no rule %s in scenario %s", o->only_rules[i],
			         sc->name);
			goto out;
		}
	}
	if (host->address != NULL && !o->no_bind) {
		/* the loader parsed the address once; a host built without it is a bug */
		src = host->addr;
		if ((srclen = lm_sockaddr_set_port(&src, 0)) == 0) {
			snprintf(err, errlen, "%s: bad address %s", host->name, host->address);
			goto out;
		}
		if (can_bind(&src, srclen) == 0)
			bind_src = true;
		else if (errno == EADDRNOTAVAIL) {
			char note[512];
			snprintf(note, sizeof note,
			         "%s's address %s is not configured on this machine: probes leave "
			         "from the default source address (use --no-bind to silence this)",
			         host->name, host->address);
			free(run->note);
			run->note = strdup(note);
		} else {
			snprintf(err, errlen, "cannot bind %s's address %s: %s", host->name,
			         host->address, strerror(errno));
			goto out;
		}
	}
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct scenario_rule *rule = &sc->rules[i];

		if (!scenario_rule_has_source(rule, host))
			continue;
		if (o->nonly_rules > 0 && !in_list(o->only_rules, o->nonly_rules, rule->id))
			continue;
		if (in_list(o->skip_rules, o->nskip_rules, rule->id))
			continue;
		/* one probe per destination and sampled port (a range's sample) */
		for (size_t j = 0; j < rule->nto * rule->nports; j++) {
			const struct scenario_host *dst = rule->to_hosts[j / rule->nports];
			struct probe *p;
			long port = (long)rule->ports[j % rule->nports] + o->port_offset;

			if (dst == host)
				continue;
			if ((p = engine_add(&e)) == NULL || make_token(p->token) == -1)
				goto oom;
			p->proto = probe_proto_of(rule->service);
			p->want_host = dst->name;
			p->want_role = dst->role->name;
			p->res.rule_id = strdup(rule->id);
			p->res.service = rule->service;
			p->res.port = (port >= 1 && port <= 65535) ? (uint16_t)port : 0;
			p->res.src_host = strdup(host->name);
			p->res.src_addr = xstrdup(host->address);
			p->res.dst_host = strdup(dst->name);
			p->res.dst_addr = xstrdup(dst->address);
			p->res.src_role = strdup(host->role->name);
			p->res.dst_role = strdup(dst->role->name);
			p->res.expect_blocked = rule->expect_blocked;
			p->res.via_proxy = rule->via_proxy;
			/* the name sources use: the pool when there is one */
			/* the name its certificate is made for (certs decides, once) */
			p->res.target = strdup(certs_host_subject(sc, dst, fqdn, sizeof fqdn));
			p->tls_name = xstrdup(p->res.target);
			p->uri_host = xstrdup(p->res.target);
			if (p->res.rule_id == NULL || p->res.src_host == NULL ||
			    p->res.dst_host == NULL || p->res.target == NULL ||
			    p->res.src_role == NULL || p->res.dst_role == NULL ||
			    p->tls_name == NULL || p->uri_host == NULL)
				goto oom;
			if (port < 1 || port > 65535)
				p->res.detail = strdup("port plus --port-offset is out of range");
			else if ((p->dst = dst->addr,
			          p->dstlen = lm_sockaddr_set_port(&p->dst, (uint16_t)port)) == 0)
				p->res.detail = strdup("the destination has no usable address");
			else if (bind_src && src.ss_family != p->dst.ss_family)
				p->res.detail =
				    strdup("source and destination address families differ");
			if (bind_src) {
				p->bind_src = true;
				p->src = src;
				p->srclen = srclen;
			}
			if ((port == 80 && rule->service == LM_SVC_HTTP) ||
			    (port == 443 && rule->service == LM_SVC_HTTPS))
				p->http_host = strdup(p->uri_host);
			else if (asprintf(&p->http_host, "%s:%ld", p->uri_host, port) == -1)
				p->http_host = NULL;
			if (p->http_host == NULL)
				goto oom;
			if (o->hold_ms > 0 && probe_hold_plan(&e, p, o->hold_ms) == -1)
				goto oom;
		}
	}
	if (needs_tls(&e)) {
		struct certs_paths cp;
		certs_paths_for_host(&cp, o->certs_dir, host, o->ca, o->cert, o->key);
		if ((e.ctx = client_ctx(&cp, o, err, errlen)) == NULL)
			goto out;
	}
	if ((e.base = event_base_new()) == NULL) {
		snprintf(err, errlen, "event_base_new failed");
		goto out;
	}
	first = run->n;
	rc = engine_run(&e, run, err, errlen);
	if (rc == 0 && o->hold_ms > 0 && probe_hold_merge(run, first) == -1) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	engine_clear(&e);
	return rc;
}

/* ---- ad hoc: URLs ---------------------------------------------------------- */

/* The address --resolve gives for name (the last one given wins), or NULL. */
static const char *
resolve_override(const struct probe_options *o, const char *name)
{
	const char *found = NULL;

	for (size_t i = 0; i < o->nresolve; i++) {
		const char *colon = strchr(o->resolve[i], ':');
		if (colon != NULL && (size_t)(colon - o->resolve[i]) == strlen(name) &&
		    strncasecmp(o->resolve[i], name, strlen(name)) == 0)
			found = colon + 1;
	}
	return found;
}

static int
plan_url(struct probe_engine *e, const char *url, char *err, size_t errlen)
{
	struct evhttp_uri *u = evhttp_uri_parse_with_flags(url, 0);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	const char *scheme, *host;
	enum lm_service svc;
	struct probe *p;
	char hostbuf[512], addr[INET6_ADDRSTRLEN];
	unsigned char tmp[16];
	unsigned dummy;
	int port, gai, rc = -1;
	bool v6lit;
	const char *resolved;

	if (u == NULL || (scheme = evhttp_uri_get_scheme(u)) == NULL ||
	    (host = evhttp_uri_get_host(u)) == NULL || *host == '\0') {
		snprintf(err, errlen, "%s: not a URL (want SCHEME://HOST[:PORT])", url);
		goto out;
	}
	if (lm_service_from_name(scheme, &svc) == -1) {
		snprintf(err, errlen,
		         "%s: unknown scheme %s (http, https, sip-mtls, sip-tls, cls-mtls, tls, "
		         "mtls, tcp, udp, stun, turn-tcp)",
		         url, scheme);
		goto out;
	}
	port = evhttp_uri_get_port(u);
	if (port == -1 && lm_service_info(svc)->default_port != 0)
		port = lm_service_info(svc)->default_port;
	if (port < 1 || port > 65535) {
		snprintf(err, errlen, "%s: a port is needed (1-65535)", url);
		goto out;
	}
	/* libevent keeps the brackets of an IPv6 literal */
	snprintf(hostbuf, sizeof hostbuf, "%s", host);
	if (hostbuf[0] == '[' && hostbuf[strlen(hostbuf) - 1] == ']') {
		memmove(hostbuf, hostbuf + 1, strlen(hostbuf) - 2);
		hostbuf[strlen(host) - 2] = '\0';
	}
	v6lit = inet_pton(AF_INET6, hostbuf, tmp) == 1;
	/* --resolve NAME:ADDR: probe a pool member by the pool FQDN, like curl */
	resolved = resolve_override(e->o, hostbuf);
	if ((gai = getaddrinfo(resolved ? resolved : hostbuf, NULL, &hints, &ai)) != 0 ||
	    ai == NULL) {
		snprintf(err, errlen, "%s: cannot resolve %s: %s", url, hostbuf, gai_strerror(gai));
		goto out;
	}
	if ((p = engine_add(e)) == NULL || make_token(p->token) == -1)
		goto oom;
	memcpy(&p->dst, ai->ai_addr, ai->ai_addrlen);
	p->dstlen = ai->ai_addrlen;
	if (p->dst.ss_family == AF_INET)
		((struct sockaddr_in *)&p->dst)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&p->dst)->sin6_port = htons((uint16_t)port);
	if (sockaddr_text((struct sockaddr *)&p->dst, addr, sizeof addr, &dummy) == -1)
		addr[0] = '\0';
	p->adhoc = true;
	p->proto = probe_proto_of(svc);
	p->res.service = svc;
	p->res.port = (uint16_t)port;
	p->res.dst_host = strdup(hostbuf);
	p->res.dst_addr = strdup(addr);
	/* --sni: the name sent and verified instead of the URL's host */
	p->res.target = strdup(e->o->sni ? e->o->sni : hostbuf);
	p->tls_name = strdup(e->o->sni ? e->o->sni : hostbuf);
	p->tls_name_is_ip = e->o->sni == NULL && (v6lit || inet_pton(AF_INET, hostbuf, tmp) == 1);
	if (e->o->source != NULL) {
		/* --source ADDR: bind it, like ncat -s */
		if (lm_sockaddr_parse(e->o->source, 0, &p->src, &p->srclen) == -1) {
			snprintf(err, errlen, "--source %s: not an IP address", e->o->source);
			goto out;
		}
		if (p->src.ss_family != p->dst.ss_family) {
			snprintf(err, errlen, "--source %s and %s are different address families",
			         e->o->source, addr);
			goto out;
		}
		p->bind_src = true;
		p->res.src_addr = strdup(e->o->source);
	}
	if (asprintf(&p->uri_host, v6lit ? "[%s]" : "%s", hostbuf) == -1)
		p->uri_host = NULL;
	if (p->uri_host != NULL && asprintf(&p->http_host, "%s:%d", p->uri_host, port) == -1)
		p->http_host = NULL;
	if (p->res.dst_host == NULL || p->res.dst_addr == NULL || p->res.target == NULL ||
	    p->tls_name == NULL || p->uri_host == NULL || p->http_host == NULL)
		goto oom;
	if (e->o->hold_ms > 0 && probe_hold_plan(e, p, e->o->hold_ms) == -1)
		goto oom;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}

int
probe_urls(char *const *urls, size_t nurls, const struct probe_options *o, struct probe_run *run,
           char *err, size_t errlen)
{
	struct probe_engine e;
	size_t first;
	int rc = -1;

	engine_init(&e, o);
	for (size_t i = 0; i < nurls; i++)
		if (plan_url(&e, urls[i], err, errlen) == -1)
			goto out;
	if (needs_tls(&e)) {
		struct certs_paths cp;
		memset(&cp, 0, sizeof cp);
		if (o->certs_dir != NULL)
			snprintf(cp.ca, sizeof cp.ca, "%s/ca.pem", o->certs_dir);
		if (o->ca != NULL)
			snprintf(cp.ca, sizeof cp.ca, "%s", o->ca);
		if (o->cert != NULL)
			snprintf(cp.cert, sizeof cp.cert, "%s", o->cert);
		if (o->key != NULL)
			snprintf(cp.key, sizeof cp.key, "%s", o->key);
		else if (o->cert != NULL)
			snprintf(cp.key, sizeof cp.key, "%s", o->cert);
		if ((e.ctx = client_ctx(&cp, o, err, errlen)) == NULL)
			goto out;
	}
	if ((e.base = event_base_new()) == NULL) {
		snprintf(err, errlen, "event_base_new failed");
		goto out;
	}
	first = run->n;
	rc = engine_run(&e, run, err, errlen);
	if (rc == 0 && o->hold_ms > 0 && probe_hold_merge(run, first) == -1) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
out:
	engine_clear(&e);
	return rc;
}

/* ---- for probe_hold.c ------------------------------------------------------ */
struct probe *
probe_engine_add(struct probe_engine *e)
{
	return engine_add(e);
}

int
probe_make_token(char *out)
{
	return make_token(out);
}

struct event_base *
probe_engine_base(const struct probe *p)
{
	return p->eng->base;
}

unsigned
probe_engine_timeout_ms(const struct probe *p)
{
	return p->eng->timeout_ms;
}
