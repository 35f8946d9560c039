/*
 * lm_hostile: hostile and broken clients for lyncmock's listeners (tests
 * only). Loopback only, every mode bounded in count and in time, and the
 * process ends itself (alarm) whatever the peer does.
 *
 *   lm_hostile MODE --addr A --port P [options]   (modes: see usage[])
 *
 * Prints one line at the end:
 *   result mode=M opened=N failed=N open_at_end=N max_open=N closed_by_peer=N
 *          sent=BYTES received=BYTES replies=N elapsed_ms=N first_reply="..."
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define MAX_CONNS 20000
#define MAX_SECONDS 120

struct opts {
	const char *mode;
	struct in_addr addr;
	uint16_t port;
	struct in_addr src; /* 0: any */
	unsigned src_last;  /* round-robin src .. src_last (last octet) */
	unsigned count;
	unsigned conns;
	double seconds;
	unsigned interval_ms;
	unsigned parallel;
	const char *ca, *cert, *key, *sni;
	bool http;
};

struct stats {
	unsigned long opened, failed, open_at_end, max_open, closed_by_peer;
	unsigned long long sent, received;
	unsigned long replies;
	char first_reply[128];
};

static struct opts o;
static struct stats st;
static double t0;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static bool
time_left(void)
{
	return now_ms() - t0 < o.seconds * 1000.0;
}

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "lm_hostile: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

/* Loopback only: the tool never talks to anything else. */
static void
need_loopback(struct in_addr a, const char *what)
{
	if ((ntohl(a.s_addr) >> 24) != 127)
		die("%s must be a 127.0.0.0/8 address", what);
}

/* The test waits for this line before it measures (never a sleep). */
static void
attacking(void)
{
	static bool said;

	if (said)
		return;
	said = true;
	printf("attacking mode=%s opened=%lu after %.0f ms\n", o.mode, st.opened, now_ms() - t0);
	fflush(stdout);
}

static void
note_reply(const char *buf, size_t len)
{
	size_t i;

	st.replies++;
	if (st.first_reply[0] != '\0')
		return;
	for (i = 0; i < len && i < sizeof st.first_reply - 1; i++) {
		unsigned char ch = (unsigned char)buf[i];
		if (ch == '\r' || ch == '\n')
			break;
		st.first_reply[i] = (ch >= 0x20 && ch < 0x7f && ch != '"') ? (char)ch : '.';
	}
	st.first_reply[i] = '\0';
}

/* A TCP socket to the target from the n-th source address; blocking unless nb. */
static int
tcp_socket(unsigned n, bool nb)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nb ? SOCK_NONBLOCK : 0), 0)) == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (o.src.s_addr != 0) {
		uint32_t first = ntohl(o.src.s_addr) & 0xff;
		uint32_t span = o.src_last >= first ? o.src_last - first + 1 : 1;
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl((ntohl(o.src.s_addr) & ~0xffu) | (first + n % span));
		if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
			close(fd);
			return -1;
		}
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr = o.addr;
	sin.sin_port = htons(o.port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
set_timeouts(int fd, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int
connect_blocking(unsigned n)
{
	int fd = tcp_socket(n, false);

	if (fd == -1) {
		st.failed++;
		return -1;
	}
	st.opened++;
	set_timeouts(fd, 2000);
	return fd;
}

/* True when the peer has closed fd (EOF or reset); drains what it sent. */
static bool
peer_closed(int fd)
{
	char buf[4096];
	ssize_t r;

	for (int i = 0; i < 64; i++) {
		r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r == 0)
			return true;
		if (r < 0)
			return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
		st.received += (unsigned long long)r;
	}
	return false;
}

static SSL_CTX *
client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		die("%s", "SSL_CTX_new failed");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (o.cert != NULL && (SSL_CTX_use_certificate_chain_file(ctx, o.cert) != 1 ||
	                       SSL_CTX_use_PrivateKey_file(ctx, o.key, SSL_FILETYPE_PEM) != 1))
		die("cannot load client certificate %s", o.cert);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

/* A blocking TLS connection (n picks the source address); NULL on failure. */
static SSL *
tls_connect(SSL_CTX *ctx, unsigned n, int *fdp)
{
	int fd = connect_blocking(n);
	SSL *ssl;

	if (fd == -1)
		return NULL;
	if ((ssl = SSL_new(ctx)) == NULL) {
		close(fd);
		return NULL;
	}
	SSL_set_fd(ssl, fd);
	if (o.sni != NULL)
		SSL_set_tlsext_host_name(ssl, o.sni);
	if (SSL_connect(ssl) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		close(fd);
		st.failed++;
		return NULL;
	}
	*fdp = fd;
	return ssl;
}

static void
tls_close(SSL *ssl, int fd)
{
	SSL_free(ssl);
	close(fd);
}

/* Reads one reply (up to bufsize) within the socket timeout; length or -1. */
static int
tls_read(SSL *ssl, char *buf, int size)
{
	int r = SSL_read(ssl, buf, size);

	if (r <= 0) {
		ERR_clear_error();
		return -1;
	}
	st.received += (unsigned long long)r;
	return r;
}

/* ---- modes ------------------------------------------------------------- */

/* Connections that send random bytes, then read what comes back. */
static void
mode_random_bytes(void)
{
	unsigned char junk[16384];
	char buf[4096];

	attacking();
	for (unsigned i = 0; i < o.count && time_left(); i++) {
		int fd = connect_blocking(i);
		ssize_t w, r;
		if (fd == -1)
			continue;
		set_timeouts(fd, 500);
		RAND_bytes(junk, sizeof junk);
		if ((w = send(fd, junk, sizeof junk, MSG_NOSIGNAL)) > 0)
			st.sent += (unsigned long long)w;
		while ((r = recv(fd, buf, sizeof buf, 0)) > 0) {
			if (st.received == 0)
				note_reply(buf, (size_t)r);
			st.received += (unsigned long long)r;
		}
		if (r == 0 || (r < 0 && errno != EAGAIN))
			st.closed_by_peer++;
		close(fd);
	}
}

/* The first bytes of a real ClientHello, made by OpenSSL in memory. */
static size_t
client_hello(unsigned char *out, size_t max)
{
	SSL_CTX *ctx = client_ctx();
	SSL *ssl = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	long n;
	char *p;

	SSL_set_bio(ssl, rb, wb);
	if (o.sni != NULL)
		SSL_set_tlsext_host_name(ssl, o.sni);
	(void)SSL_connect(ssl); /* wants to read: the ClientHello is in wb */
	n = BIO_get_mem_data(wb, &p);
	if (n <= 0 || (size_t)n > max)
		die("%s", "cannot build a ClientHello");
	memcpy(out, p, (size_t)n);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return (size_t)n;
}

/* Holds connections (non-blocking), watching which ones the peer closes,
 * until the time is up. */
static void
hold(int *fds, unsigned n)
{
	unsigned open = 0;

	for (unsigned i = 0; i < n; i++)
		open += fds[i] >= 0;
	if (open > st.max_open)
		st.max_open = open;
	while (time_left()) {
		usleep(100 * 1000);
		for (unsigned i = 0; i < n; i++) {
			if (fds[i] >= 0 && peer_closed(fds[i])) {
				close(fds[i]);
				fds[i] = -1;
				st.closed_by_peer++;
			}
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0) {
			st.open_at_end++;
			close(fds[i]);
		}
	}
}

/* Opens count connections fast (non-blocking connects, waited for together);
 * first, when given, is sent on each once it is connected. */
static void
open_many(const unsigned char *first, size_t firstlen)
{
	int *fds = calloc(o.count, sizeof *fds);
	bool *up = calloc(o.count, sizeof *up);
	struct pollfd *pf = calloc(o.count, sizeof *pf);
	unsigned n = 0, pending = 0;

	if (fds == NULL || up == NULL || pf == NULL)
		die("%s", "out of memory");
	for (unsigned i = 0; i < o.count && time_left(); i++) {
		if ((fds[n] = tcp_socket(i, true)) == -1) {
			st.failed++;
			continue;
		}
		n++;
	}
	/* wait for the connects (a full backlog leaves some in SYN_SENT) */
	for (unsigned round = 0; round < 100 && time_left(); round++) {
		unsigned np = 0;
		for (unsigned i = 0; i < n; i++) {
			if (fds[i] < 0 || up[i])
				continue;
			pf[np].fd = fds[i];
			pf[np].events = POLLOUT;
			pf[np].revents = 0;
			np++;
		}
		if (np == 0 || poll(pf, np, 200) < 0)
			break;
		for (unsigned i = 0, k = 0; i < n && k < np; i++) {
			int err = 0;
			socklen_t el = sizeof err;
			if (fds[i] < 0 || up[i])
				continue;
			if (pf[k++].revents == 0)
				continue;
			getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &el);
			if (err != 0) {
				close(fds[i]);
				fds[i] = -1;
				st.failed++;
				continue;
			}
			up[i] = true;
			st.opened++;
			if (first != NULL && send(fds[i], first, firstlen, MSG_NOSIGNAL) > 0)
				st.sent += firstlen;
		}
	}
	/* still connecting when the time is up: given up */
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0 && !up[i]) {
			close(fds[i]);
			fds[i] = -1;
			pending++;
		}
	}
	st.failed += pending;
	attacking();
	hold(fds, n);
	free(fds);
	free(up);
	free(pf);
}

static void
mode_half_clienthello(void)
{
	unsigned char ch[4096];
	size_t n = client_hello(ch, sizeof ch);

	open_many(ch, n / 2);
}

/* SIP requests; i numbers them (Call-ID, CSeq, branch). */
static int
sip_options(char *buf, size_t len, unsigned i, const char *extra)
{
	return snprintf(buf, len,
	                "OPTIONS sip:%s SIP/2.0\r\n"
	                "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKhostile%u\r\n"
	                "Max-Forwards: 70\r\n"
	                "From: <sip:hostile@lyncmock.invalid>;tag=h%u\r\n"
	                "To: <sip:%s>\r\n"
	                "Call-ID: hostile-%u@lyncmock.invalid\r\n"
	                "CSeq: %u OPTIONS\r\n"
	                "%s",
	                o.sni ? o.sni : "x", i, i, o.sni ? o.sni : "x", i, i + 1, extra);
}

/* Connections that send a request head one byte per interval: a SIP
 * OPTIONS over MTLS, or with --http a GET over plain TCP. */
static void
mode_slowloris(void)
{
	SSL_CTX *ctx = o.http ? NULL : client_ctx();
	SSL **ssl = calloc(o.conns, sizeof *ssl);
	int *fds = calloc(o.conns, sizeof *fds);
	char req[1024];
	size_t pos = 0, len;
	unsigned n = 0;

	if (ssl == NULL || fds == NULL)
		die("%s", "out of memory");
	if (o.http)
		len = (size_t)snprintf(req, sizeof req,
		                       "GET /lyncmock/probe?token=slow HTTP/1.1\r\n"
		                       "Host: hostile\r\nX-Slow: %0300d\r\n\r\n",
		                       0);
	else
		len = (size_t)sip_options(req, sizeof req, 1, "");
	for (unsigned i = 0; i < o.conns && time_left(); i++) {
		if (o.http) {
			if ((fds[n] = connect_blocking(i)) != -1)
				n++;
		} else if ((ssl[n] = tls_connect(ctx, i, &fds[n])) != NULL) {
			n++;
		}
	}
	st.max_open = n;
	attacking();
	while (time_left() && pos < len) {
		unsigned alive = 0;
		for (unsigned i = 0; i < n; i++) {
			bool ok;
			if (fds[i] < 0)
				continue;
			if (o.http)
				ok = send(fds[i], req + pos, 1, MSG_NOSIGNAL) == 1;
			else
				ok = SSL_write(ssl[i], req + pos, 1) == 1;
			if (!ok) {
				ERR_clear_error();
				st.closed_by_peer++;
				SSL_free(ssl[i]);
				close(fds[i]);
				fds[i] = -1;
				continue;
			}
			st.sent++;
			alive++;
		}
		pos++;
		if (alive == 0)
			break;
		usleep(o.interval_ms * 1000);
	}
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		if (peer_closed(fds[i]))
			st.closed_by_peer++;
		else
			st.open_at_end++;
		SSL_free(ssl[i]);
		close(fds[i]);
	}
	free(ssl);
	free(fds);
	SSL_CTX_free(ctx);
}

/* Connections that send requests as fast as the peer takes them and never read. */
static void
mode_never_read(void)
{
	SSL_CTX *ctx = o.http ? NULL : client_ctx();
	SSL **ssl = calloc(o.conns, sizeof *ssl);
	int *fds = calloc(o.conns, sizeof *fds);
	size_t *pos = calloc(o.conns, sizeof *pos);
	char *batch = malloc(64 * 1024);
	size_t blen = 0;
	unsigned n = 0;

	if (ssl == NULL || fds == NULL || pos == NULL || batch == NULL)
		die("%s", "out of memory");
	/* one batch of requests, sent over and over */
	for (unsigned i = 0; blen < 60 * 1024; i++) {
		int w = o.http ? snprintf(batch + blen, 64 * 1024 - blen,
		                          "GET /lyncmock/probe?token=nr%u HTTP/1.1\r\n"
		                          "Host: hostile\r\n\r\n",
		                          i)
		               : sip_options(batch + blen, 64 * 1024 - blen, i,
		                             "Content-Length: 0\r\n\r\n");
		blen += (size_t)w;
	}
	for (unsigned i = 0; i < o.conns && time_left(); i++) {
		if (o.http) {
			if ((fds[n] = connect_blocking(i)) != -1)
				n++;
		} else if ((ssl[n] = tls_connect(ctx, i, &fds[n])) != NULL) {
			n++;
		}
	}
	st.max_open = n;
	attacking();
	for (unsigned i = 0; i < n; i++)
		set_timeouts(fds[i], 20);
	while (time_left()) {
		for (unsigned i = 0; i < n; i++) {
			int w;
			if (fds[i] < 0)
				continue;
			if (o.http) {
				ssize_t s =
				    send(fds[i], batch + pos[i], blen - pos[i], MSG_NOSIGNAL);
				w = s > 0 ? (int)s : (s < 0 && errno == EAGAIN ? 0 : -1);
			} else {
				w = SSL_write(ssl[i], batch + pos[i], (int)(blen - pos[i]));
				if (w <= 0) {
					int e = SSL_get_error(ssl[i], w);
					w = (e == SSL_ERROR_WANT_WRITE) ? 0 : -1;
					ERR_clear_error();
				}
			}
			if (w < 0) {
				st.closed_by_peer++;
				if (ssl[i] != NULL)
					SSL_free(ssl[i]);
				close(fds[i]);
				fds[i] = -1;
				continue;
			}
			st.sent += (unsigned long long)w;
			pos[i] = (pos[i] + (size_t)w) % blen;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		st.open_at_end++;
		if (ssl[i] != NULL)
			SSL_free(ssl[i]);
		close(fds[i]);
	}
	free(batch);
	free(pos);
	free(ssl);
	free(fds);
	SSL_CTX_free(ctx);
}

/* SIP OPTIONS announcing a 2 GiB body, then body bytes until the peer answers. */
static void
mode_sip_huge_cl(void)
{
	SSL_CTX *ctx = client_ctx();
	char req[1024], body[16384], buf[4096];

	memset(body, 'x', sizeof body);
	attacking();
	for (unsigned i = 0; i < o.count && time_left(); i++) {
		int fd, len = sip_options(req, sizeof req, i, "Content-Length: 2147483648\r\n\r\n");
		SSL *ssl = tls_connect(ctx, i, &fd);
		int r = -1;
		if (ssl == NULL)
			continue;
		set_timeouts(fd, 50);
		if (SSL_write(ssl, req, len) == len)
			st.sent += (unsigned long long)len;
		/* keep sending the body until the answer comes (bounded: 64 rounds) */
		for (int k = 0; k < 64 && r <= 0; k++) {
			int w = SSL_write(ssl, body, sizeof body);
			if (w > 0)
				st.sent += (unsigned long long)w;
			ERR_clear_error();
			r = tls_read(ssl, buf, sizeof buf - 1);
		}
		if (r > 0)
			note_reply(buf, (size_t)r);
		set_timeouts(fd, 1500);
		while (tls_read(ssl, buf, sizeof buf) > 0)
			;
		st.closed_by_peer++;
		tls_close(ssl, fd);
	}
	SSL_CTX_free(ctx);
}

/* idle-flood: connections that send nothing, held until the time is up. */
static void
mode_idle_flood(void)
{
	open_many(NULL, 0);
}

/* Child of tls-burst: count handshakes back to back; stats down the pipe. */
static void
burst_child(unsigned count, unsigned base, int wfd)
{
	SSL_CTX *ctx = client_ctx();

	memset(&st, 0, sizeof st);
	for (unsigned i = 0; i < count && time_left(); i++) {
		int fd;
		SSL *ssl = tls_connect(ctx, base + i, &fd);
		if (ssl == NULL)
			continue;
		st.replies++; /* handshakes completed */
		tls_close(ssl, fd);
	}
	SSL_CTX_free(ctx);
	if (write(wfd, &st, sizeof st) != (ssize_t)sizeof st)
		_exit(1);
	_exit(0);
}

static void
mode_tls_burst(void)
{
	int p[2];
	pid_t kids[64];
	unsigned nk = o.parallel > 64 ? 64 : (o.parallel ? o.parallel : 1);
	struct stats s;

	if (pipe(p) == -1)
		die("%s", "pipe failed");
	attacking();
	for (unsigned k = 0; k < nk; k++) {
		if ((kids[k] = fork()) == 0) {
			close(p[0]);
			burst_child(o.count / nk + (k < o.count % nk), k * 1000, p[1]);
		}
	}
	close(p[1]);
	while (read(p[0], &s, sizeof s) == (ssize_t)sizeof s) {
		st.opened += s.opened;
		st.failed += s.failed;
		st.replies += s.replies;
	}
	close(p[0]);
	for (unsigned k = 0; k < nk; k++)
		if (kids[k] > 0)
			waitpid(kids[k], NULL, 0);
}

static const struct {
	const char *name;
	void (*run)(void);
	bool tls_client; /* needs --cert/--key (MTLS) */
} modes[] = {
    {"random-bytes", mode_random_bytes, false}, {"half-clienthello", mode_half_clienthello, false},
    {"slowloris-sip", mode_slowloris, true},    {"slowloris-http", mode_slowloris, false},
    {"never-read", mode_never_read, false},     {"sip-huge-cl", mode_sip_huge_cl, true},
    {"idle-flood", mode_idle_flood, false},     {"tls-burst", mode_tls_burst, false},
};

static const char usage[] =
    "usage: lm_hostile MODE --addr A --port P [--src A[-LAST]] [--count N] [--conns N]\n"
    "                  [--seconds T] [--interval-ms MS] [--parallel N] [--http]\n"
    "                  [--cert C --key K] [--sni NAME]\n"
    "modes: random-bytes half-clienthello slowloris-sip slowloris-http never-read\n"
    "       sip-huge-cl idle-flood tls-burst (addresses: 127.0.0.0/8 only; T <= 120 s)\n";

static unsigned
num(const char *s, unsigned max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > max)
		die("bad number '%s'", s);
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"addr", required_argument, NULL, 'a'},
	    {"port", required_argument, NULL, 'p'},
	    {"src", required_argument, NULL, 's'},
	    {"count", required_argument, NULL, 'n'},
	    {"conns", required_argument, NULL, 'c'},
	    {"seconds", required_argument, NULL, 't'},
	    {"interval-ms", required_argument, NULL, 'i'},
	    {"parallel", required_argument, NULL, 'P'},
	    {"cert", required_argument, NULL, 'C'},
	    {"key", required_argument, NULL, 'K'},
	    {"sni", required_argument, NULL, 'S'},
	    {"http", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	void (*run)(void) = NULL;
	struct rlimit rl;
	char *dash, *end;
	int ch;

	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	o.mode = argv[1];
	o.count = 100;
	o.conns = 8;
	o.seconds = 5;
	o.interval_ms = 1000;
	o.parallel = 2;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &o.addr) != 1)
				die("bad address '%s'", optarg);
			break;
		case 'p':
			o.port = (uint16_t)num(optarg, 65535);
			break;
		case 's':
			if ((dash = strchr(optarg, '-')) != NULL) {
				*dash = '\0';
				o.src_last = num(dash + 1, 255);
			}
			if (inet_pton(AF_INET, optarg, &o.src) != 1)
				die("bad source '%s'", optarg);
			break;
		case 'n':
			o.count = num(optarg, MAX_CONNS);
			break;
		case 'c':
			o.conns = num(optarg, 1024);
			break;
		case 't':
			o.seconds = strtod(optarg, &end);
			if (*end != '\0' || !(o.seconds > 0) || o.seconds > MAX_SECONDS)
				die("--seconds: 0..120, not '%s'", optarg);
			break;
		case 'i':
			o.interval_ms = num(optarg, 10000);
			break;
		case 'P':
			o.parallel = num(optarg, 64);
			break;
		case 'C':
			o.cert = optarg;
			break;
		case 'K':
			o.key = optarg;
			break;
		case 'S':
			o.sni = optarg;
			break;
		case 'h':
			o.http = true;
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(o.mode, modes[i].name) == 0) {
			run = modes[i].run;
			if (modes[i].tls_client && o.cert == NULL)
				die("%s needs --cert and --key (the listener is MTLS)", o.mode);
		}
	}
	if (run == NULL)
		die("unknown mode '%s'", o.mode);
	if (strcmp(o.mode, "slowloris-http") == 0)
		o.http = true;
	if (o.port == 0)
		die("%s", "--port is required");
	need_loopback(o.addr, "--addr");
	if (o.src.s_addr != 0)
		need_loopback(o.src, "--src");
	if ((o.cert == NULL) != (o.key == NULL))
		die("%s", "--cert and --key go together");
	/* every connection is a descriptor */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)o.count + 256) {
		struct rlimit want = {(rlim_t)o.count + 256, rl.rlim_max > (rlim_t)o.count + 256
		                                                 ? rl.rlim_max
		                                                 : (rlim_t)o.count + 256};
		if (setrlimit(RLIMIT_NOFILE, &want) == -1) {
			want.rlim_max = rl.rlim_max;
			want.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &want);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	/* whatever happens, the tool ends itself */
	alarm((unsigned)o.seconds + 30);
	t0 = now_ms();
	run();
	printf("result mode=%s opened=%lu failed=%lu open_at_end=%lu max_open=%lu "
	       "closed_by_peer=%lu sent=%llu received=%llu replies=%lu elapsed_ms=%.0f "
	       "first_reply=\"%s\"\n",
	       o.mode, st.opened, st.failed, st.open_at_end, st.max_open, st.closed_by_peer,
	       st.sent, st.received, st.replies, now_ms() - t0, st.first_reply);
	return 0;
}
