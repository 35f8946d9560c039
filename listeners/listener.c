/*
 * The listener set of one host: binding, the one accept path with its caps,
 * and the life of a connection (struct lm_conn) from accept to conn_free,
 * which every event (error, EOF, timeout, protocol close) ends in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "listeners/listener_priv.h"

#define LISTEN_BACKLOG 511
#define MAX_LISTENS 256
#define LINGER_MS 1000 /* reading after our close, for the client's FIN */

static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

char *
listener_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

static bool
same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return false;
}

static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	l->starved = false;
	if (l->lev != NULL)
		evconnlistener_enable(l->lev);
}

/* accept() failed: out of descriptors or memory would make a
 * level-triggered listener spin, so stop accepting for 100 ms. */
static void
listener_accept_error(struct evconnlistener *lev, void *arg)
{
	struct listener *l = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = {0, 100 * 1000};

	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return; /* ECONNABORTED and friends: the next accept will do */
	lm_log("lyncmock listen: %s port %u: accept: %s; pausing 100 ms",
	       lm_service_name(l->service), l->port, evutil_socket_error_to_string(err));
	evconnlistener_disable(lev);
	l->starved = true;
	if (l->resume != NULL)
		evtimer_add(l->resume, &tv);
}

int
listener_watch_errors(struct listener *l)
{
	if ((l->resume = evtimer_new(l->set->base, listener_resume_cb, l)) == NULL)
		return -1;
	evconnlistener_set_error_cb(l->lev, listener_accept_error);
	return 0;
}

bool
listener_admit(struct listener *l, const struct lm_conn *c, char *why, size_t whylen)
{
	const struct lm_conn *o;
	unsigned same = 0;

	if (l->nconns > l->set->lim.max_conns) {
		snprintf(why, whylen, "cap reached: %u connections on this listener",
		         l->set->lim.max_conns);
		return false;
	}
	TAILQ_FOREACH(o, &l->conns, entry)
	{
		if (o != c && same_source(&o->peer_ss, &c->peer_ss))
			same++;
	}
	if (same >= l->set->lim.max_conns_per_source) {
		snprintf(why, whylen, "cap reached: %u connections from this source",
		         l->set->lim.max_conns_per_source);
		return false;
	}
	return true;
}

struct lm_conn *
conn_alloc(struct listener *l)
{
	struct lm_conn *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->l = l;
	c->t_start = lm_now_ms();
	c->t_ready = -1;
	snprintf(c->peer, sizeof c->peer, "?");
	snprintf(c->local, sizeof c->local, "%s", l->local);
	TAILQ_INSERT_TAIL(&l->conns, c, entry);
	l->nconns++;
	return c;
}

void
conn_set_addrs(struct lm_conn *c, const struct sockaddr *peer, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (peer != NULL) {
		memcpy(&c->peer_ss, peer,
		       peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                   : sizeof(struct sockaddr_in));
		listener_addr_str(peer, c->peer, sizeof c->peer);
	}
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		listener_addr_str((struct sockaddr *)&ss, c->local, sizeof c->local);
}

void
conn_outcome(struct lm_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->outcome[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->outcome, sizeof c->outcome, fmt, ap);
	va_end(ap);
}

void
conn_free(struct lm_conn *c)
{
	struct listener *l = c->l;

	conn_log(c);
	if (c->ssl != NULL)
		certs_verify_note_attach(c->ssl, NULL);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->rd != NULL)
		event_free(c->rd);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	wire_cache_clear(&c->ident);
	TAILQ_REMOVE(&l->conns, c, entry);
	l->nconns--;
	free(c);
}

struct event_base *
listener_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	(void)event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* At most one TLS record: a write OpenSSL cannot finish now is retried by
 * the bufferevent with the same bytes first in its output, as it requires. */
#define DIRECT_TLS_MAX 16384

/* Queues data in the bufferevent, whose writing is enabled only now: a
 * bufferevent with writing enabled watches the socket for writability
 * even with nothing to send (an epoll_ctl on and one off per connection,
 * and on TLS again after the handshake). */
static int
conn_queue(struct lm_conn *c, struct evbuffer *data)
{
	if (bufferevent_enable(c->bev, EV_WRITE) == -1)
		return -1;
	return bufferevent_write_buffer(c->bev, data);
}

int
conn_write(struct lm_conn *c, struct evbuffer *data)
{
	size_t len = evbuffer_get_length(data);
	evutil_socket_t fd;
	unsigned char *p;
	int r;

	c->bytes_out += len;
	/* Nothing queued: send now. Through the bufferevent an answer waits
	 * for the next loop turn and costs two epoll_ctl (write event on,
	 * off); what the socket does not take now is queued as before. */
	if (len == 0 || evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return len > 0 ? conn_queue(c, data) : 0;
	if (c->ssl == NULL) {
		if ((fd = bufferevent_getfd(c->bev)) >= 0)
			(void)evbuffer_write(data, fd);
	} else if (c->tls_done && len <= DIRECT_TLS_MAX && SSL_is_init_finished(c->ssl) &&
	           (p = evbuffer_pullup(data, -1)) != NULL) {
		/* no ERR_clear_error first (it showed in profiles): the queue is
		 * not read here, and a failure's entries are dropped */
		if ((r = SSL_write(c->ssl, p, (int)len)) > 0)
			evbuffer_drain(data, (size_t)r);
		else
			ERR_clear_error(); /* the bufferevent's own retry reports it */
	}
	return evbuffer_get_length(data) > 0 ? conn_queue(c, data) : 0;
}

void
conn_close_after_write(struct lm_conn *c)
{
	/* reading goes on (and is discarded): see conn_closed */
	c->state = CONN_CLOSING;
}

void
conn_ident(struct lm_conn *c, struct wire_ident *id)
{
	const struct listener_set *ls = c->l->set;

	memset(id, 0, sizeof *id);
	id->scenario = ls->cfg.sc->name;
	id->host = ls->cfg.host->name;
	id->role = ls->role_name;
	id->listener = lm_service_name(c->l->service);
	id->port = c->l->port;
	id->local = c->local;
	id->peer = c->peer;
	id->tls = c->l->tls;
	id->cache = &c->ident;
	id->memo = c->l->set->memo;
	if (id->tls) {
		id->tls_version = c->tls_version[0] != '\0' ? c->tls_version : NULL;
		id->tls_cipher = c->tls_cipher[0] != '\0' ? c->tls_cipher : NULL;
		id->client_cert = c->client_cert[0] != '\0' ? c->client_cert : NULL;
		id->server_cert = c->server_cert[0] != '\0' ? c->server_cert : NULL;
		id->server_cert_sha256 = c->server_fp[0] != '\0' ? c->server_fp : NULL;
		id->client_cert_sha256 = c->client_fp[0] != '\0' ? c->client_fp : NULL;
	}
}

static struct timeval
ms_tv(unsigned ms)
{
	return (struct timeval){(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
}

/* The most input a connection holds unprocessed. */
static size_t
conn_read_limit(const struct lm_conn *c)
{
	return c->l->kind->read_limit != 0 ? c->l->kind->read_limit : c->l->set->lim.max_message;
}

/* Reading on or off: the bufferevent's on TLS, the read event (with the
 * idle timeout) on plaintext; 0 or -1. */
static int
conn_reading(struct lm_conn *c, bool on)
{
	struct timeval tv = ms_tv(c->l->set->lim.idle_timeout_ms);

	if (c->rd == NULL)
		return on ? bufferevent_enable(c->bev, EV_READ)
		          : bufferevent_disable(c->bev, EV_READ);
	return on ? event_add(c->rd, &tv) : event_del(c->rd);
}

static void
conn_linger_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_free(arg);
}

/* A closing connection whose answer is flushed: close_notify (so the
 * client tells our close from a cut) and FIN, then read and discard until
 * the client closes too, for at most LINGER_MS. Closing at once with
 * unread input would send a reset, and a reset can destroy the answer
 * before the client reads it. */
static void
conn_closed(struct lm_conn *c)
{
	struct timeval tv = ms_tv(LINGER_MS);
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (c->ssl != NULL)
		SSL_shutdown(c->ssl);
	if (fd < 0 || shutdown(fd, SHUT_WR) == -1) {
		conn_free(c);
		return;
	}
	c->state = CONN_LINGER;
	if (c->timer != NULL)
		event_free(c->timer);
	if ((c->timer = evtimer_new(c->l->set->base, conn_linger_done, c)) == NULL ||
	    evtimer_add(c->timer, &tv) == -1) {
		conn_free(c);
		return;
	}
	conn_reading(c, true);
}

/* After a hook: free on request, or once a closing connection is flushed. */
static void
conn_after_hook(struct lm_conn *c, int rc)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (rc == -1) {
		conn_free(c);
		return;
	}
	if (c->state == CONN_CLOSING) {
		if (evbuffer_get_length(out) == 0)
			conn_closed(c);
		return;
	}
	/* a client that sends without reading stops being read */
	if (evbuffer_get_length(out) > 4 * c->l->set->lim.max_message && !c->read_paused) {
		conn_reading(c, false);
		c->read_paused = true;
	}
}

/* Hands the buffered input to the kind's process hook and sends what it
 * answers; one path for every kind. */
static int
conn_process(struct lm_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev), *out;
	size_t len = evbuffer_get_length(in), used;
	struct wire_ident id;
	bool close = false;
	char why[128] = "";
	const char *buf;

	if ((buf = (const char *)evbuffer_pullup(in, -1)) == NULL && len > 0) {
		conn_outcome(c, "out of memory");
		return -1;
	}
	out = c->l->set->out;
	conn_ident(c, &id);
	used = c->l->kind->process(c, buf, len, &id, out, &close, why, sizeof why);
	evbuffer_drain(in, used);
	conn_write(c, out);
	/* conn_write moved it all; left over only when that failed */
	evbuffer_drain(out, evbuffer_get_length(out));
	if (close) {
		if (why[0] != '\0')
			conn_outcome(c, "%s", why);
		conn_close_after_write(c);
	}
	return 0;
}

/* Listeners read TLS ahead (one read takes what the socket holds, not a
 * record header and then its body). OpenSSL may then hold whole records the
 * socket will not announce again, and libevent 2.1 stops reading at
 * SSL_pending, which does not count them: they are read here, into the
 * input. Returns the bytes added, or -1 when the connection ended (freed). */
static int
conn_tls_read_held(struct lm_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec v;
	size_t added = 0;
	unsigned long e;
	int n, err;

	while (SSL_has_pending(c->ssl) && added < c->l->set->lim.max_message) {
		if (evbuffer_reserve_space(in, 4096, &v, 1) != 1)
			break;
		ERR_clear_error();
		if ((n = SSL_read(c->ssl, v.iov_base, (int)v.iov_len)) > 0) {
			v.iov_len = (size_t)n;
			evbuffer_commit_space(in, &v, 1);
			added += (size_t)n;
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			break; /* a part of a record: the socket announces the rest */
		/* close_notify or a bad record: what the socket's read would have said */
		if (err != SSL_ERROR_ZERO_RETURN && (e = ERR_peek_last_error()) != 0) {
			char buf[256];
			ERR_error_string_n(e, buf, sizeof buf);
			conn_outcome(c, "error: %s", buf);
		}
		ERR_clear_error();
		conn_event_cb(c->bev,
		              BEV_EVENT_READING |
		                  (err == SSL_ERROR_ZERO_RETURN ? BEV_EVENT_EOF : BEV_EVENT_ERROR),
		              c);
		return -1;
	}
	return (int)added;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct lm_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	int rc;

	for (;;) {
		len = evbuffer_get_length(in);
		c->bytes_in += len - c->in_left;
		if (c->state != CONN_ACTIVE) {
			/* closing: what comes now is discarded */
			evbuffer_drain(in, len);
			c->in_left = 0;
			return;
		}
		rc = conn_process(c);
		c->in_left = evbuffer_get_length(in);
		/* A slowloris keeps the idle timeout from firing by trickling bytes:
		 * one message must also be complete within the idle timeout. */
		if (rc != -1 && c->state == CONN_ACTIVE) {
			double now = lm_now_ms(), lim = c->l->set->lim.idle_timeout_ms;
			if (c->in_left == 0)
				c->t_partial = 0;
			else if (c->t_partial == 0)
				c->t_partial = now;
			else if (now - c->t_partial > lim) {
				conn_outcome(c, "timeout: message incomplete after %u ms",
				             c->l->set->lim.idle_timeout_ms);
				rc = -1;
			}
		}
		/* active after the hook: conn_after_hook neither frees nor closes it */
		if (rc == -1 || c->state != CONN_ACTIVE || c->ssl == NULL ||
		    !SSL_has_pending(c->ssl))
			break;
		conn_after_hook(c, rc);
		if (c->read_paused)
			return;
		if ((rc = conn_tls_read_held(c)) <= 0)
			return; /* -1: freed; 0: nothing held after all */
	}
	conn_after_hook(c, rc);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct lm_conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	if (c->state == CONN_CLOSING) {
		conn_closed(c);
		return;
	}
	if (c->read_paused) {
		c->read_paused = false;
		conn_reading(c, true);
	}
}

static void
set_timeouts(struct lm_conn *c)
{
	struct timeval tv = ms_tv(c->l->set->lim.idle_timeout_ms);

	/* plaintext: the read event carries the read side's (conn_reading) */
	bufferevent_set_timeouts(c->bev, c->rd == NULL ? &tv : NULL, &tv);
}

/* A plaintext socket is readable: one read(2) into the input, as much as
 * the kind's limit leaves room for. Not through the bufferevent: libevent
 * 2.1's evbuffer_read asks ioctl(FIONREAD) first on every read, a third
 * system call per request beside read and write. What the bufferevent
 * would do on EOF, an error or the idle timeout is done here the same way:
 * reading stops, then conn_event_cb. */
static void
conn_plain_read(evutil_socket_t fd, short what, void *arg)
{
	struct lm_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in), limit = conn_read_limit(c);
	size_t room = limit > len ? limit - len : 0;
	struct evbuffer_iovec v;
	ssize_t n;
	short ev = BEV_EVENT_READING;
	int saved = 0;

	if (what & EV_TIMEOUT) {
		ev |= BEV_EVENT_TIMEOUT;
	} else {
		if (room == 0) {
			/* every kind answers a message over its limit and closes
			 * before this; were one not to, close rather than stop
			 * reading for ever */
			conn_outcome(c, "error: %zu bytes held unprocessed (the read limit)", len);
			conn_free(c);
			return;
		}
		if (room > 16384)
			room = 16384;
		/* a socket bufferevent keeps its input's end frozen but while it reads */
		evbuffer_unfreeze(in, 0);
		if (evbuffer_reserve_space(in, (ev_ssize_t)room, &v, 1) != 1) {
			evbuffer_freeze(in, 0);
			conn_outcome(c, "out of memory");
			conn_free(c);
			return;
		}
		n = read(fd, v.iov_base, v.iov_len < room ? v.iov_len : room);
		saved = errno;
		if (n > 0) {
			v.iov_len = (size_t)n;
			evbuffer_commit_space(in, &v, 1);
		}
		evbuffer_freeze(in, 0);
		if (n > 0) {
			conn_read_cb(c->bev, c); /* may free c */
			return;
		}
		if (n == -1 && (saved == EAGAIN || saved == EINTR))
			return;
		ev |= n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR;
	}
	conn_reading(c, false);
	errno = saved; /* conn_event_cb reports it */
	conn_event_cb(c->bev, ev, c);
}

/* The connection can speak: TLS handshake done, or a plain accept. */
static void
conn_ready(struct lm_conn *c)
{
	c->state = CONN_ACTIVE;
	c->t_ready = lm_now_ms();
	if (c->timer != NULL)
		event_del(c->timer);
	if (c->ssl != NULL)
		conn_tls_facts(c);
	set_timeouts(c);
	if (c->l->kind->on_connected != NULL) {
		int rc = c->l->kind->on_connected(c);
		bool active = rc != -1 && c->state == CONN_ACTIVE;

		conn_after_hook(c, rc); /* frees or closes only what is not active */
		if (!active || c->read_paused)
			return;
	}
	/* the client's first request can come with its last handshake
	 * message, and be held by OpenSSL already */
	if (c->ssl != NULL && conn_tls_read_held(c) == -1)
		return;
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		conn_read_cb(c->bev, c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct lm_conn *c = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		conn_ready(c);
		return;
	}
	if (c->state == CONN_LINGER) {
		/* the client closed too (or the socket failed): we are done */
		conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && (c->state == CONN_ACTIVE || c->state == CONN_CLOSING) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
		/* a half-close after pipelined requests: their answers go out
		 * first (conn_write_cb closes once they are flushed) */
		c->state = CONN_CLOSING;
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		conn_outcome(c, "timeout: idle for %u ms", c->l->set->lim.idle_timeout_ms);
	} else if (c->state == CONN_HANDSHAKE) {
		/* finished, but the error came before BEV_EVENT_CONNECTED did:
		 * the log keeps the handshake's facts */
		if (c->ssl != NULL && SSL_is_init_finished(c->ssl))
			conn_tls_facts(c);
		conn_tls_failure(c, (what & BEV_EVENT_EOF) ? "client closed during the handshake"
		                                           : "handshake error");
	} else if (what & BEV_EVENT_ERROR) {
		unsigned long e, last = 0;
		while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
			if (ERR_GET_LIB(e) != 0)
				last = e;
		}
		e = last;
		if (e != 0) {
			char buf[256];
			ERR_error_string_n(e, buf, sizeof buf);
			conn_outcome(c, "error: %s", buf);
		} else if (err != 0) {
			conn_outcome(c, "error: %s", evutil_socket_error_to_string(err));
		}
	}
	/* EOF while serving: the client is done, outcome stays "ok" */
	conn_free(c);
}

static void
conn_handshake_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct lm_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state != CONN_HANDSHAKE)
		return;
	conn_outcome(c, "timeout: no TLS handshake within %u ms",
	             c->l->set->lim.handshake_timeout_ms);
	conn_free(c);
}

static void
listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int socklen,
                   void *arg)
{
	struct listener *l = arg;
	struct event_base *base = evconnlistener_get_base(lev);
	struct lm_conn *c;
	SSL *ssl = NULL;
	char why[128];
	struct timeval tv = ms_tv(l->set->lim.handshake_timeout_ms);

	(void)socklen;
	if ((c = conn_alloc(l)) == NULL) {
		close(fd);
		return;
	}
	/* bound to one address, a connection's local one is that (no getsockname) */
	conn_set_addrs(c, sa, l->bound_any ? fd : -1);
	if (!listener_admit(l, c, why, sizeof why)) {
		/* Accepted and answered (or closed at once), never left in the
		 * backlog: a probe must tell "listener full" from a DROP. */
		if (!l->tls && l->kind->full_answer != NULL) {
			size_t n = strlen(l->kind->full_answer);
			ssize_t w = send(fd, l->kind->full_answer, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0)
				c->bytes_out = (uint64_t)w;
		}
		conn_outcome(c, "listener full: %s", why);
		close(fd);
		conn_free(c);
		return;
	}
	if (l->tls) {
		if ((ssl = SSL_new(l->ctx)) == NULL)
			goto fail_fd;
		certs_verify_note_attach(ssl, &c->note);
		/* a client closing without close_notify is a close, not an error */
		SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
		SSL_set_msg_callback(ssl, conn_tls_msg);
		SSL_set_msg_callback_arg(ssl, c);
		c->bev =
		    bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		                                   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (c->bev == NULL) /* libevent freed ssl, not fd */
			goto fail_fd;
		/* it starts with writing enabled, and turns it on once the
		 * handshake is done: conn_queue enables it when needed */
		bufferevent_disable(c->bev, EV_WRITE);
		c->ssl = ssl;
		c->state = CONN_HANDSHAKE;
		if ((c->timer = evtimer_new(base, conn_handshake_timeout, c)) == NULL ||
		    evtimer_add(c->timer, &tv) == -1)
			goto fail;
	} else {
		c->bev = bufferevent_socket_new(base, fd,
		                                BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (c->bev == NULL)
			goto fail_fd;
		if ((c->rd = event_new(base, fd, EV_READ | EV_PERSIST, conn_plain_read, c)) == NULL)
			goto fail;
	}
	if (c->rd == NULL)
		bufferevent_setwatermark(c->bev, EV_READ, 0, conn_read_limit(c));
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	set_timeouts(c);
	/* writing: conn_queue, once there is something to wait for */
	if (conn_reading(c, true) == -1)
		goto fail;
	if (!l->tls)
		conn_ready(c);
	return;
fail_fd:
	close(fd);
fail:
	conn_outcome(c, "out of memory");
	conn_free(c);
}

/* A listening (TCP) or bound (UDP: type SOCK_DGRAM), non-blocking socket
 * on addr:port, or -1 with the reason. */
static int
bind_socket(const struct sockaddr_storage *addr, uint16_t port, int type, char *local,
            size_t locallen, char *err, size_t errlen)
{
	struct sockaddr_storage ss = *addr;
	socklen_t len;
	int fd, one = 1, saved;

	if ((len = lm_sockaddr_set_port(&ss, port)) == 0) {
		snprintf(err, errlen, "bind address is not an IPv4 or IPv6 address");
		return -1;
	}
	listener_addr_str((struct sockaddr *)&ss, local, locallen);
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "%s: socket: %s", local, strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* answers go out as several TLS records: without this, Nagle holds
	 * the last one until the client's delayed ACK (~40 ms a request).
	 * Linux passes it on to accepted sockets. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, LISTEN_BACKLOG) == -1)) {
		saved = errno;
		close(fd);
		snprintf(err, errlen, "cannot listen on %s: %s", local, strerror(saved));
		return -1;
	}
	return fd;
}

SSL_CTX *
listener_ctx_new(const struct listener *l, char *err, size_t errlen)
{
	struct certs_tls_opts o = {
	    .client_cert = l->client_cert,
	    .strict_client_eku = l->set->cfg.strict_client_eku,
	    .min_version = l->set->cfg.tls_min_version,
	};
	char e[512];
	SSL_CTX *ctx;

	if ((ctx = certs_server_ctx(&l->paths, &o, e, sizeof e)) == NULL)
		snprintf(err, errlen, "%s port %u: %s", lm_service_name(l->service), l->port, e);
	else /* one read per readiness; what it holds: conn_tls_read_held */
		SSL_CTX_set_read_ahead(ctx, 1);
	return ctx;
}

static bool
is_plaintext(const struct listener_config *cfg, uint16_t port)
{
	for (size_t i = 0; i < cfg->nplaintext_ports; i++) {
		if (cfg->plaintext_ports[i] == port)
			return true;
	}
	return false;
}

static void
resolve_limits(struct listener_limits *lim, const struct listener_limits *in)
{
	*lim = *in;
	if (lim->max_conns == 0)
		lim->max_conns = 1024;
	if (lim->max_conns_per_source == 0)
		lim->max_conns_per_source = 256;
	if (lim->max_message == 0)
		lim->max_message = 64 * 1024;
	if (lim->handshake_timeout_ms == 0)
		lim->handshake_timeout_ms = 10000;
	if (lim->idle_timeout_ms == 0)
		lim->idle_timeout_ms = 60000;
}

static int
listener_start(struct listener_set *ls, struct listener *l, const struct scenario_listen *w,
               char *err, size_t errlen)
{
	const struct listener_config *cfg = &ls->cfg;
	/* the host's address as the loader parsed it, or --bind ADDR */
	struct sockaddr_storage addr = cfg->host->addr;
	socklen_t addrlen;
	long port = (long)w->port + cfg->port_offset;
	int fd;

	l->set = ls;
	TAILQ_INIT(&l->conns);
	l->service = w->service;
	l->scenario_port = w->port;
	if (port < 0 || port > 65535) {
		snprintf(err, errlen, "port %u with offset %d is out of range", w->port,
		         cfg->port_offset);
		return -1;
	}
	l->port = (uint16_t)port;
	l->client_cert = lm_client_cert_effective(w->service, w->client_cert);
	l->tls = lm_service_info(w->service)->tls && !is_plaintext(cfg, w->port);
	l->paths = cfg->certs;
	for (size_t i = 0; i < cfg->nport_certs; i++) {
		if (cfg->port_certs[i].port != w->port)
			continue;
		snprintf(l->paths.cert, sizeof l->paths.cert, "%s", cfg->port_certs[i].cert);
		snprintf(l->paths.key, sizeof l->paths.key, "%s", cfg->port_certs[i].key);
	}
	if ((l->kind = listener_kind_of(w->service)) == NULL) {
		snprintf(err, errlen, "%s port %u: no listener for this service",
		         lm_service_name(w->service), w->port);
		return -1;
	}
	if (l->tls && (l->ctx = listener_ctx_new(l, err, errlen)) == NULL)
		return -1;
	listener_own_cert(l);
	if (cfg->bind_addr != NULL && lm_sockaddr_parse(cfg->bind_addr, 0, &addr, &addrlen) == -1) {
		snprintf(err, errlen, "bind address '%s' is not an IPv4 or IPv6 address",
		         cfg->bind_addr);
		return -1;
	}
	l->bound_any = addr.ss_family == AF_INET6
	                   ? IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&addr)->sin6_addr)
	                   : ((struct sockaddr_in *)&addr)->sin_addr.s_addr == htonl(INADDR_ANY);
	if ((fd = bind_socket(&addr, l->port, l->kind->datagram != NULL ? SOCK_DGRAM : SOCK_STREAM,
	                      l->local, sizeof l->local, err, errlen)) == -1)
		return -1;
	if (l->port == 0) {
		/* tests bind port 0: record the real one */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
			listener_addr_str((struct sockaddr *)&ss, l->local, sizeof l->local);
			l->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		}
	}
	if (l->kind->datagram != NULL)
		return listener_dgram_start(l, fd, err, errlen);
	l->lev = evconnlistener_new(ls->base, listener_accept_cb, l,
	                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (l->lev == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: cannot watch the socket", l->local);
		return -1;
	}
	if (listener_watch_errors(l) == -1) {
		snprintf(err, errlen, "%s: out of memory", l->local);
		return -1;
	}
	return 0;
}

struct listener_set *
listener_set_new(struct event_base *base, const struct listener_config *cfg, char *err,
                 size_t errlen)
{
	struct scenario_listen want[MAX_LISTENS];
	struct listener_set *ls;
	size_t n;

	n = scenario_listens_of(cfg->sc, cfg->host, want, MAX_LISTENS);
	if (n == 0) {
		snprintf(err, errlen, "host %s is the destination of no rule: nothing to listen on",
		         cfg->host->name);
		return NULL;
	}
	if (n > MAX_LISTENS) {
		snprintf(err, errlen, "host %s needs %zu listeners (at most %d)", cfg->host->name,
		         n, MAX_LISTENS);
		return NULL;
	}
	if ((ls = calloc(1, sizeof *ls)) == NULL || (ls->ls = calloc(n, sizeof *ls->ls)) == NULL ||
	    (ls->out = evbuffer_new()) == NULL) {
		if (ls != NULL)
			free(ls->ls);
		free(ls);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sip_quiet();
	ls->base = base;
	ls->cfg = *cfg;
	ls->role_name = cfg->host->role != NULL ? cfg->host->role->name : "?";
	resolve_limits(&ls->lim, &cfg->limits);
	for (size_t i = 0; i < n; i++) {
		ls->n = i + 1; /* so listener_set_free sees what was started */
		if (listener_start(ls, &ls->ls[i], &want[i], err, errlen) == -1)
			goto fail;
	}
	return ls;
fail:
	listener_set_free(ls);
	return NULL;
}

void
listener_set_free(struct listener_set *ls)
{
	struct lm_conn *c;

	if (ls == NULL)
		return;
	for (size_t i = 0; i < ls->n; i++) {
		struct listener *l = &ls->ls[i];

		while ((c = TAILQ_FIRST(&l->conns)) != NULL) {
			if (c->state != CONN_LINGER) /* a lingering one was served */
				conn_outcome(c, "listener shut down");
			conn_free(c);
		}
		if (l->lev != NULL)
			evconnlistener_free(l->lev);
		listener_dgram_stop(l);
		if (l->resume != NULL)
			event_free(l->resume);
		SSL_CTX_free(l->ctx);
	}
	evbuffer_free(ls->out);
	free(ls->ls);
	free(ls);
}

size_t
listener_set_ports(const struct listener_set *ls, uint16_t *ports, size_t max)
{
	for (size_t i = 0; i < ls->n && i < max; i++)
		ports[i] = ls->ls[i].port;
	return ls->n;
}

int
listener_set_reload(struct listener_set *ls, char *err, size_t errlen)
{
	SSL_CTX *fresh[MAX_LISTENS] = {0};
	size_t i;

	for (i = 0; i < ls->n; i++) {
		if (ls->ls[i].tls && (fresh[i] = listener_ctx_new(&ls->ls[i], err, errlen)) == NULL)
			goto fail;
	}
	/* connections hold their own reference to the old context */
	for (i = 0; i < ls->n; i++) {
		if (fresh[i] == NULL)
			continue;
		SSL_CTX_free(ls->ls[i].ctx);
		ls->ls[i].ctx = fresh[i];
		listener_own_cert(&ls->ls[i]);
	}
	return 0;
fail:
	for (i = 0; i < ls->n; i++)
		SSL_CTX_free(fresh[i]);
	return -1;
}
