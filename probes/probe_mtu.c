/*
 * The PMTU black-hole check: when a TLS port accepted TCP but half the probe
 * timeout passed without one server byte, a second connection with a small
 * MSS (TCP_MAXSEG, set before connect) sends a ClientHello of its own. If the
 * server answers that one, small packets pass and large ones are lost: the
 * probe ends mtu-blackhole, inside the same timeout.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <openssl/bio.h>

#include "probes/probe_int.h"

void
probe_mtu_release(struct probe *p)
{
	if (p->ev_mtu_timer != NULL) {
		event_free(p->ev_mtu_timer);
		p->ev_mtu_timer = NULL;
	}
	if (p->ev_mtu_io != NULL) {
		event_free(p->ev_mtu_io);
		p->ev_mtu_io = NULL;
	}
	if (p->mtu_out != NULL) {
		evbuffer_free(p->mtu_out);
		p->mtu_out = NULL;
	}
	if (p->mtu_fd != -1) {
		close(p->mtu_fd);
		p->mtu_fd = -1;
	}
}

/* A ClientHello like the probe's own (same context, same SNI), from memory BIOs. */
static int
client_hello(struct probe *p, struct evbuffer *out)
{
	SSL *ssl = SSL_new(probe_engine_ctx(p));
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	if (ssl == NULL || rb == NULL || wb == NULL) {
		BIO_free(rb);
		BIO_free(wb);
		SSL_free(ssl);
		return -1;
	}
	SSL_set_bio(ssl, rb, wb); /* the SSL owns both now */
	if (p->tls_name != NULL && !p->tls_name_is_ip)
		SSL_set_tlsext_host_name(ssl, p->tls_name);
	SSL_set_connect_state(ssl);
	SSL_do_handshake(ssl); /* wants to read: the ClientHello is in wb */
	n = BIO_get_mem_data(wb, &data);
	if (n > 0 && evbuffer_add(out, data, (size_t)n) == 0)
		rc = 0;
	SSL_free(ssl);
	return rc;
}

/* The normal connection has heard from the server (bytes read, or queued in
 * the kernel in the same loop turn): then size is not what is in the way. */
static bool
main_heard(struct probe *p)
{
	evutil_socket_t fd = p->bev != NULL ? bufferevent_getfd(p->bev) : -1;
	int queued = 0;

	if (p->tls_rx_any)
		return true;
	return fd != -1 && ioctl(fd, FIONREAD, &queued) == 0 && queued > 0;
}

bool
probe_mtu_settle(struct probe *p)
{
	int queued = 0;

	/* still connecting or sending: it has no answer to give */
	if (p->finished || p->mtu_fd == -1 || p->mtu_out != NULL || main_heard(p))
		return false;
	if (ioctl(p->mtu_fd, FIONREAD, &queued) != 0 || queued <= 0)
		return false;
	p->mtu_rx += (size_t)queued;
	probe_mtu_found(p);
	return true;
}

static void
mtu_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	char buf[4096];
	int err = 0;
	socklen_t el = sizeof err;
	ssize_t n;

	if (p->finished)
		return;
	if (what & EV_TIMEOUT) {
		probe_mtu_release(p);
		return;
	}
	if ((what & EV_WRITE) && p->mtu_out != NULL) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 || err != 0 ||
		    evbuffer_write(p->mtu_out, fd) == -1) {
			probe_mtu_release(p); /* the small-MSS path fails too: no verdict from it */
			return;
		}
		if (evbuffer_get_length(p->mtu_out) > 0)
			return;
		evbuffer_free(p->mtu_out);
		p->mtu_out = NULL;
		event_free(p->ev_mtu_io);
		p->ev_mtu_io = event_new(event_get_base(p->ev_deadline), fd, EV_READ | EV_PERSIST,
		                         mtu_io_cb, p);
		if (p->ev_mtu_io != NULL) {
			struct timeval tv = {.tv_sec = probe_remaining_ms(p) / 1000,
			                     .tv_usec = (probe_remaining_ms(p) % 1000) * 1000};
			event_add(p->ev_mtu_io, &tv);
		}
		probe_debug(p, "small-MSS retry: ClientHello sent with MSS %d", PROBE_SMALL_MSS);
		return;
	}
	if (what & EV_READ) {
		n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0) {
			p->mtu_rx += (size_t)n;
			/* the main connection still has nothing: size makes the difference */
			if (!main_heard(p))
				probe_mtu_found(p);
			return;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			probe_mtu_release(p);
	}
}

static void
mtu_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	int mss = PROBE_SMALL_MSS, one = 1;
	struct timeval tv;
	unsigned left;

	(void)fd;
	(void)what;
	if (p->finished || p->tls_rx_any || p->mtu_fd != -1)
		return;
	if ((p->mtu_out = evbuffer_new()) == NULL || client_hello(p, p->mtu_out) == -1)
		goto fail;
	p->mtu_fd = socket(p->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->mtu_fd == -1)
		goto fail;
	/* before connect: the MSS we announce in the SYN and send with */
	if (setsockopt(p->mtu_fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss) == -1)
		goto fail;
	if (p->bind_src) {
		setsockopt(p->mtu_fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(p->mtu_fd, (struct sockaddr *)&p->src, p->srclen) == -1)
			goto fail;
	}
	if (connect(p->mtu_fd, (struct sockaddr *)&p->dst, p->dstlen) == -1 && errno != EINPROGRESS)
		goto fail;
	p->ev_mtu_io = event_new(event_get_base(p->ev_deadline), p->mtu_fd, EV_WRITE | EV_PERSIST,
	                         mtu_io_cb, p);
	if (p->ev_mtu_io == NULL)
		goto fail;
	left = probe_remaining_ms(p);
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	event_add(p->ev_mtu_io, &tv);
	probe_debug(p, "no server byte after %.0f ms: retrying with MSS %d in parallel",
	            lm_now_ms() - p->t_start, PROBE_SMALL_MSS);
	return;
fail:
	probe_mtu_release(p);
}

void
probe_mtu_arm(struct probe *p)
{
	double half = (p->deadline - p->t_start) / 2;
	double at = p->t_start + half - lm_now_ms();
	struct timeval tv;

	if (p->ev_mtu_timer != NULL || p->ssl == NULL)
		return;
	if (at < 1)
		at = 1;
	tv.tv_sec = (long)at / 1000;
	tv.tv_usec = ((long)at % 1000) * 1000;
	if ((p->ev_mtu_timer = evtimer_new(event_get_base(p->ev_deadline), mtu_timer_cb, p)) !=
	    NULL)
		evtimer_add(p->ev_mtu_timer, &tv);
}
