/*
 * Listeners: the fake Lync endpoints of one host (SPEC §2), all served by one
 * libevent loop. Every answer carries the identity record that lets a probe
 * prove which host and listener it reached.
 */
#ifndef LM_LISTENERS_H
#define LM_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <event2/event.h>

#include "certs/certs.h"
#include "common/lm.h"
#include "scenarios/scenario.h"

/* Limits every listener enforces; zero fields take the defaults. */
struct listener_limits {
	unsigned max_conns;            /* per listener (default 1024) */
	unsigned max_conns_per_source; /* per source address (default 256) */
	size_t max_message;            /* bytes of one request/message (default 64 KiB) */
	unsigned handshake_timeout_ms; /* TLS handshake (default 10 s) */
	unsigned idle_timeout_ms;      /* between requests (default 60 s) */
};

struct listener_config {
	const struct scenario *sc;
	const struct scenario_host *host;
	const char *bind_addr;    /* NULL: the host's scenario address */
	int port_offset;          /* added to every port (unprivileged runs) */
	struct certs_paths certs; /* the host's CA/cert/key */
	bool strict_client_eku;
	int tls_min_version; /* TLS1_2_VERSION when 0; --tls-min lowers it for old peers */
	/* TLS ports served without TLS (lab --break plaintext): scenario ports */
	uint16_t plaintext_ports[16];
	size_t nplaintext_ports;
	/* a different certificate for one port (lab --break wrong-ca) */
	struct listener_port_cert {
		uint16_t port; /* scenario port */
		char cert[4096], key[4096];
	} port_certs[8];
	size_t nport_certs;
	struct listener_limits limits;
	FILE *log; /* one line per connection; NULL: stderr */
	bool json_log;
};

struct listener_set;
/* The event loop listeners run best on (epoll's changelist: a write event
 * added and removed in one loop turn costs no epoll_ctl). NULL on failure. */
struct event_base *listener_base_new(void);

/* Binds every socket host needs (scenario_listens_of). NULL with a message
 * in err (naming the port and the reason) on failure. */
struct listener_set *listener_set_new(struct event_base *base, const struct listener_config *cfg,
                                      char *err, size_t errlen);
/* Stops accepting and closes every connection. */
void listener_set_free(struct listener_set *ls);
/* The bound ports, in scenario order (useful after port 0 / offsets). */
size_t listener_set_ports(const struct listener_set *ls, uint16_t *ports, size_t max);
/* Reloads certificates (SIGHUP); keeps the old ones if the new ones fail. */
int listener_set_reload(struct listener_set *ls, char *err, size_t errlen);

#endif
