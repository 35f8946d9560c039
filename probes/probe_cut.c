/*
 * What a peer that accepted and then hung up did, as the probe saw it: FIN or
 * RST first, and whether it hung up before or after our first bytes reached
 * it. A server that closes at once on accept sends a FIN, and our ClientHello
 * or request, arriving at a closed socket, then draws its RST: the TCP state
 * alone would say "reset after our ClientHello", which points at an IPS.
 */
#include <errno.h>
#include <linux/tcp.h>
#include <sys/socket.h>

#include <openssl/bio.h>

#include "probes/probe_int.h"

void
probe_cut_saw(struct probe *p, char kind)
{
	if (p->hangup == 0)
		p->hangup = kind;
}

/* Our reads of the TLS socket: the first 0 (FIN) or ECONNRESET (RST). */
static long
bio_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
       size_t *processed)
{
	struct probe *p = (struct probe *)BIO_get_callback_arg(b);

	(void)argp;
	(void)len;
	(void)argi;
	(void)argl;
	(void)processed;
	if (p != NULL && oper == (BIO_CB_READ | BIO_CB_RETURN) && ret <= 0) {
		if (ret == 0 && !BIO_should_retry(b))
			probe_cut_saw(p, 'f');
		else if (ret < 0 && (errno == ECONNRESET || errno == EPIPE))
			probe_cut_saw(p, 'r');
	}
	return ret;
}

void
probe_cut_watch(struct probe *p)
{
	BIO *b = p->ssl != NULL ? SSL_get_rbio(p->ssl) : NULL;

	if (b == NULL)
		return;
	BIO_set_callback_arg(b, (char *)p);
	BIO_set_callback_ex(b, bio_cb);
}

bool
probe_cut_peer_acked(struct probe *p, int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof ti;

	(void)p;
	/* unknown: say "after", the cautious reading */
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == -1 ||
	    l < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked)
		return true;
	/* the SYN counts one */
	return ti.tcpi_bytes_acked > 1;
}
