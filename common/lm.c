/* The tables behind common/lm.h: one place names every service and outcome. */
#include "common/lm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct lm_service_info services[LM_SVC__COUNT] = {
	[LM_SVC_HTTP] = {.name = "http", .purpose = "web services over HTTP", .default_port = 80},
	[LM_SVC_HTTPS] = {.name = "https", .tls = true, .purpose = "web services over HTTPS",
		.default_port = 443},
	[LM_SVC_SIP_MTLS] = {.name = "sip-mtls", .tls = true, .mtls = true,
		.purpose = "SIP over mutual TLS", .default_port = 5061},
	[LM_SVC_CLS_MTLS] = {.name = "cls-mtls", .tls = true, .mtls = true,
		.purpose = "Centralized Logging Service agent over mutual TLS", .default_port = 50001},
	[LM_SVC_TCP] = {.name = "tcp", .purpose = "plain TCP connect"},
	[LM_SVC_STUN] = {.name = "stun", .purpose = "STUN/MS-TURN over UDP (A/V Edge)", .udp = true,
		.default_port = 3478},
	[LM_SVC_TURN_TCP] = {.name = "turn-tcp", .purpose = "STUN/MS-TURN over TCP (A/V Edge)",
		.default_port = 443},
	[LM_SVC_SIP_TLS] = {.name = "sip-tls", .tls = true, .purpose = "SIP over TLS (clients)",
		.default_port = 5061},
	[LM_SVC_TLS] = {.name = "tls", .tls = true, .cert_optional = true,
		.purpose = "TLS with an optional client certificate (proprietary protocol stand-in)"},
	[LM_SVC_MTLS] = {.name = "mtls", .tls = true, .mtls = true,
		.purpose = "mutual TLS (proprietary protocol stand-in)"},
	[LM_SVC_UDP] = {.name = "udp", .purpose = "a UDP port answered with the identity",
		.udp = true},
};

const struct lm_service_info *
lm_service_info(enum lm_service svc)
{
	if ((unsigned)svc >= LM_SVC__COUNT)
		return NULL;
	return &services[svc];
}

const char *
lm_service_name(enum lm_service svc)
{
	const struct lm_service_info *si = lm_service_info(svc);
	return si ? si->name : "?";
}

int
lm_service_from_name(const char *name, enum lm_service *svc)
{
	for (int i = 0; i < LM_SVC__COUNT; i++) {
		if (strcmp(services[i].name, name) == 0) {
			*svc = (enum lm_service)i;
			return 0;
		}
	}
	return -1;
}

static const char *client_cert_names[] = {
	[LM_CC_DEFAULT] = "default",
	[LM_CC_REQUIRED] = "required",
	[LM_CC_OPTIONAL] = "optional",
	[LM_CC_NONE] = "none",
};

const char *
lm_client_cert_name(enum lm_client_cert cc)
{
	if ((unsigned)cc > LM_CC_NONE)
		return "?";
	return client_cert_names[cc];
}

int
lm_client_cert_from_name(const char *name, enum lm_client_cert *cc)
{
	for (int i = LM_CC_REQUIRED; i <= LM_CC_NONE; i++) {
		if (strcmp(client_cert_names[i], name) == 0) {
			*cc = (enum lm_client_cert)i;
			return 0;
		}
	}
	return -1;
}

enum lm_client_cert
lm_client_cert_effective(enum lm_service svc, enum lm_client_cert cc)
{
	const struct lm_service_info *si = lm_service_info(svc);
	if (si == NULL || !si->tls)
		return LM_CC_NONE;
	if (cc != LM_CC_DEFAULT)
		return cc;
	return si->mtls ? LM_CC_REQUIRED : si->cert_optional ? LM_CC_OPTIONAL : LM_CC_NONE;
}

static const struct lm_outcome_info outcomes[LM_OUT__COUNT] = {
	[LM_OUT_PASS] = {"pass", "reached the expected listener, TLS as expected, identity matches",
		"Nothing to fix: the path is open and reaches the expected listener.", false},
	[LM_OUT_FILTERED] = {"filtered", "no answer before the timeout (a DROP on the path)",
		"Open the port on every firewall between source and destination; packets are being dropped silently.",
		true},
	[LM_OUT_REFUSED] = {"refused", "TCP reset (REJECT on the path, or nothing listening)",
		"Start the service on the destination, or remove the REJECT rule that resets the connection.",
		true},
	[LM_OUT_UNREACHABLE] = {"unreachable", "ICMP unreachable or no route",
		"Fix routing to the destination, or the firewall rule that answers with ICMP unreachable.",
		true},
	[LM_OUT_TLS_UNTRUSTED] = {"tls-untrusted", "the server chain does not verify against the trusted CA",
		"Issue the destination's certificate from the CA the sources trust, or install that CA's root and intermediates on the sources.",
		false},
	[LM_OUT_TLS_NAME_MISMATCH] = {"tls-name-mismatch", "the server certificate does not name the expected FQDN",
		"Add the FQDN the sources use (pool FQDN, server FQDN or web-services name) to the certificate's subject alternative names.",
		false},
	[LM_OUT_TLS_EXPIRED] = {"tls-expired", "a certificate in the chain is expired or not yet valid",
		"Renew the expired certificate (or fix the clock) on the destination.",
		false},
	[LM_OUT_TLS_CLIENT_REJECTED] = {"tls-client-rejected", "the server refused our client certificate (or we had none to send)",
		"Give the source a certificate from a CA the destination trusts for MTLS, with the EKU it requires.",
		false},
	[LM_OUT_TLS_FAILED] = {"tls-failed", "the TLS handshake failed (version, cipher, plaintext on a TLS port)",
		"Make both ends agree on TLS 1.2 or later and a common cipher, and check that the port really serves TLS.",
		false},
	[LM_OUT_PROTOCOL_ERROR] = {"protocol-error", "connected, but the answer is not the expected protocol",
		"Check which service listens on this port on the destination: it does not speak the expected protocol.",
		false},
	[LM_OUT_WRONG_RESPONDER] = {"wrong-responder", "a valid answer from the wrong host, role or listener",
		"Fix the address, DNS record or NAT/port-forward that sends this path to another host or service.",
		false},
	[LM_OUT_NAT_DETECTED] = {"nat-detected", "the listener saw a different source address (NAT on the path)",
		"Remove the NAT on this path: Lync does not support NAT on the Edge internal side or between servers.",
		false},
	[LM_OUT_IDLE_CUT] = {"idle-cut", "a connection held idle was dropped silently before the idle time Lync needs",
		"Raise the TCP idle timeout on the firewall (or load balancer) on this path to at least 1800 s: Lync keeps SIP connections open and idle for long.",
		false},
	[LM_OUT_OPEN_NOT_REQUIRED] = {"open-not-required", "a port the scenario does not need is open between two hosts",
		"Narrow the firewall rule that lets this port through: the topology does not need it.",
		false},
	[LM_OUT_FOREIGN_PEER] = {"foreign-peer", "reached a non-mock server that answered the protocol correctly",
		"Nothing to fix at the network level: a real (non-mock) server answered on this path.",
		false},
	[LM_OUT_LOCAL_ERROR] = {"local-error", "the probe could not run on this host",
		"Fix the probe's own configuration on the source host (certificate files, bind address, permissions).",
		false},
};

const struct lm_outcome_info *
lm_outcome_info(enum lm_outcome out)
{
	if ((unsigned)out >= LM_OUT__COUNT)
		return NULL;
	return &outcomes[out];
}

const char *
lm_outcome_name(enum lm_outcome out)
{
	const struct lm_outcome_info *oi = lm_outcome_info(out);
	return oi ? oi->name : "?";
}

int
lm_outcome_from_name(const char *name, enum lm_outcome *out)
{
	for (int i = 0; i < LM_OUT__COUNT; i++) {
		if (strcmp(outcomes[i].name, name) == 0) {
			*out = (enum lm_outcome)i;
			return 0;
		}
	}
	return -1;
}

const struct lm_builtin *
lm_builtin_find(const char *name)
{
	for (const struct lm_builtin *b = lm_builtin_scenarios; b->name != NULL; b++) {
		if (strcmp(b->name, name) == 0)
			return b;
	}
	return NULL;
}

static void
n_close_keep_errno(int fd)
{
	int e = errno;
	close(fd);
	errno = e;
}

double
lm_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int
lm_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[PATH_MAX];
	const char *p = data, *slash = strrchr(path, '/');
	int fd = -1, saved, n;

	/* An unpredictable name created exclusively (mkostemp: O_CREAT|O_EXCL, mode
	 * 0600), so a planted symlink or a pre-created file in a directory others can
	 * write is never followed or reused; rename() replaces a symlink at path
	 * itself instead of writing through it. */
	if (slash == NULL)
		n = snprintf(tmp, sizeof tmp, ".%s.XXXXXX", path);
	else
		n = snprintf(tmp, sizeof tmp, "%.*s.%s.XXXXXX", (int)(slash - path + 1), path,
		    slash + 1);
	if (n < 0 || n >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fchmod(fd, (mode_t)mode) == -1)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

int
lm_open_regular(const char *path, int flags)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
	 * before the type check below could refuse it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | flags);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1)
		goto fail;
	return fd;
fail:
	n_close_keep_errno(fd);
	return -1;
}

const char *
lm_open_strerror(int err)
{
	if (err == EINVAL)
		return "not a regular file";
	if (err == EISDIR)
		return "not a regular file (a directory)";
	return strerror(err);
}

FILE *
lm_fopen_regular(const char *path)
{
	int fd = lm_open_regular(path, 0);
	FILE *f;

	if (fd == -1)
		return NULL;
	if ((f = fdopen(fd, "rb")) == NULL)
		n_close_keep_errno(fd);
	return f;
}

int
lm_check_regular(const char *what, const char *path, char *err, size_t errlen)
{
	int fd = lm_open_regular(path, 0);

	if (fd == -1) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s%s%s: %s", what ? what : "", what ? " " : "", path,
			    lm_open_strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

char *
lm_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

static FILE *log_file;

void
lm_log_set_file(FILE *f)
{
	log_file = f;
}

void
lm_log(const char *fmt, ...)
{
	va_list ap;
	FILE *f = log_file ? log_file : stderr;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

int
lm_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
lm_parse_port(const char *s, uint16_t *port)
{
	long v;

	if (lm_parse_long(s, 1, 65535, &v) == -1)
		return -1;
	*port = (uint16_t)v;
	return 0;
}
