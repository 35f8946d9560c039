/*
 * The UDP path every UDP kind shares: one bound socket, a bounded batch of
 * datagrams per wake-up, one answer each from the kind's datagram hook, an
 * answer-rate cap (an answer is larger than a request: the mock must not
 * become a reflector), and one log line per datagram.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listeners/listener_priv.h"

#define DGRAM_BATCH 64         /* datagrams read per wake-up: others wait their turn */
#define DGRAM_MAX_ANSWERS 5000 /* answers per second per listener */
#define DGRAM_BUF 65536

void
listener_software(const struct listener *l, char *buf, size_t len)
{
	snprintf(buf, len, "lyncmock %s %s (%s)", LM_VERSION, l->set->cfg.host->name,
	         l->set->role_name);
}

/* The over-cap datagrams of the last window, in one line. */
static void
dgram_window(struct listener *l, double now)
{
	if (now - l->dgram_window < 1000)
		return;
	if (l->dgram_dropped > 0) {
		FILE *f = l->set->cfg.log != NULL ? l->set->cfg.log : stderr;
		fprintf(f, "lyncmock listen: %s port %u: %u datagrams unanswered (cap %d/s)\n",
		        lm_service_name(l->service), l->port, l->dgram_dropped, DGRAM_MAX_ANSWERS);
		fflush(f);
	}
	l->dgram_window = now;
	l->dgram_answers = l->dgram_dropped = 0;
}

static void
dgram_one(struct listener *l, int fd, const uint8_t *in, size_t len,
          const struct sockaddr_storage *peer, socklen_t peerlen, uint8_t *out)
{
	struct lm_conn c; /* a record for the log line only: never listed */
	struct wire_ident id;
	char what[160] = "";
	size_t n;

	memset(&c, 0, sizeof c);
	c.l = l;
	c.t_start = lm_now_ms();
	c.bytes_in = len;
	listener_addr_str((const struct sockaddr *)peer, c.peer, sizeof c.peer);
	snprintf(c.local, sizeof c.local, "%s", l->local);
	memset(&id, 0, sizeof id);
	id.scenario = l->set->cfg.sc->name;
	id.host = l->set->cfg.host->name;
	id.role = l->set->role_name;
	id.listener = lm_service_name(l->service);
	id.port = l->port;
	id.local = c.local;
	id.peer = c.peer;
	n = l->kind->datagram(l, in, len, (const struct sockaddr *)peer, peerlen, &id, out,
	                      DGRAM_BUF, what, sizeof what);
	if (n > 0) {
		if (sendto(fd, out, n, 0, (const struct sockaddr *)peer, peerlen) == -1)
			snprintf(c.outcome, sizeof c.outcome, "error: sendto: %s", strerror(errno));
		else {
			c.bytes_out = n;
			c.requests = 1;
			l->dgram_answers++;
		}
	}
	if (c.outcome[0] == '\0')
		snprintf(c.outcome, sizeof c.outcome, "%s", what[0] != '\0' ? what : "ok");
	conn_log(&c);
}

static void
dgram_read_cb(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t in[DGRAM_BUF], out[DGRAM_BUF];
	struct listener *l = arg;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	ssize_t n;

	(void)what;
	for (int i = 0; i < DGRAM_BATCH; i++) {
		peerlen = sizeof peer;
		n = recvfrom(fd, in, sizeof in, MSG_TRUNC, (struct sockaddr *)&peer, &peerlen);
		if (n == -1)
			return; /* EAGAIN; ICMP errors of earlier answers are no concern here */
		dgram_window(l, lm_now_ms());
		if (l->dgram_answers >= DGRAM_MAX_ANSWERS) {
			l->dgram_dropped++;
			continue;
		}
		/* MSG_TRUNC: n is the real size; a datagram larger than our buffer is cut */
		dgram_one(l, fd, in, (size_t)n > sizeof in ? sizeof in : (size_t)n, &peer, peerlen,
		          out);
	}
}

int
listener_dgram_start(struct listener *l, int fd, char *err, size_t errlen)
{
	l->dgram_window = lm_now_ms();
	l->dgram_ev = event_new(l->set->base, fd, EV_READ | EV_PERSIST, dgram_read_cb, l);
	if (l->dgram_ev == NULL || event_add(l->dgram_ev, NULL) == -1) {
		if (l->dgram_ev != NULL)
			event_free(l->dgram_ev);
		l->dgram_ev = NULL;
		close(fd);
		snprintf(err, errlen, "%s: cannot watch the socket", l->local);
		return -1;
	}
	return 0;
}

void
listener_dgram_stop(struct listener *l)
{
	if (l->dgram_ev == NULL)
		return;
	evutil_socket_t fd = event_get_fd(l->dgram_ev);

	event_free(l->dgram_ev);
	l->dgram_ev = NULL;
	close(fd);
}
