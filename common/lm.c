/* The tables behind common/lm.h: services and client-certificate policies (outcomes:
 * report/report_outcome.c). */
#include "common/lm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

static const struct lm_service_info services[LM_SVC__COUNT] = {
    [LM_SVC_HTTP] = {.name = "http", .purpose = "web services over HTTP", .default_port = 80},
    [LM_SVC_HTTPS] = {.name = "https",
                      .tls = true,
                      .purpose = "web services over HTTPS",
                      .default_port = 443},
    [LM_SVC_SIP_MTLS] = {.name = "sip-mtls",
                         .tls = true,
                         .mtls = true,
                         .purpose = "SIP over mutual TLS",
                         .default_port = 5061},
    [LM_SVC_CLS_MTLS] = {.name = "cls-mtls",
                         .tls = true,
                         .mtls = true,
                         .purpose = "Centralized Logging Service agent over mutual TLS",
                         .default_port = 50001},
    [LM_SVC_TCP] = {.name = "tcp", .purpose = "plain TCP connect"},
    [LM_SVC_STUN] = {.name = "stun",
                     .purpose = "STUN/MS-TURN over UDP (A/V Edge)",
                     .udp = true,
                     .default_port = 3478},
    [LM_SVC_TURN_TCP] = {.name = "turn-tcp",
                         .purpose = "STUN/MS-TURN over TCP (A/V Edge)",
                         .default_port = 443},
    [LM_SVC_SIP_TLS] = {.name = "sip-tls",
                        .tls = true,
                        .purpose = "SIP over TLS (clients)",
                        .default_port = 5061},
    [LM_SVC_TLS] = {.name = "tls",
                    .tls = true,
                    .cert_optional = true,
                    .purpose =
                        "TLS with an optional client certificate (proprietary protocol stand-in)"},
    [LM_SVC_MTLS] = {.name = "mtls",
                     .tls = true,
                     .mtls = true,
                     .purpose = "mutual TLS (proprietary protocol stand-in)"},
    [LM_SVC_UDP] = {.name = "udp", .purpose = "a UDP port answered with the identity", .udp = true},
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

FILE *
lm_fopen_log(const char *path, unsigned mode)
{
	struct stat st;
	FILE *f;
	int fd;

	/* O_NONBLOCK: a FIFO with no reader fails (ENXIO) instead of waiting */
	fd = open(path,
	          O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
	          (mode_t)mode);
	if (fd == -1) {
		if (errno == ENXIO)
			errno = EINVAL; /* a FIFO nobody reads, a device without a driver */
		return NULL;
	}
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return NULL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1)
		goto fail;
	if ((f = fdopen(fd, "a")) == NULL)
		goto fail;
	return f;
fail:
	n_close_keep_errno(fd);
	return NULL;
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
static bool log_json;

void
lm_log_set_file(FILE *f)
{
	log_file = f;
}

void
lm_log_set_json(bool on)
{
	log_json = on;
}

void
lm_utc_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

void
lm_log(const char *fmt, ...)
{
	va_list ap;
	FILE *f = log_file ? log_file : stderr;
	char msg[2048], when[40];
	json_t *o;
	char *line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!log_json) {
		fprintf(f, "%s\n", msg);
		fflush(f);
		return;
	}
	/* --json-log: every line of the log is one JSON object, events too */
	lm_utc_now(when, sizeof when);
	o = json_pack("{s:s, s:s, s:s%}", "time", when, "event", "message", "message", msg,
	              strlen(msg));
	if (o != NULL && (line = json_dumps(o, JSON_COMPACT)) != NULL) {
		fprintf(f, "%s\n", line);
		free(line);
	}
	json_decref(o);
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

int
lm_sockaddr_parse(const char *text, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (text != NULL && inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof *s4;
		return 0;
	}
	if (text != NULL && inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof *s6;
		return 0;
	}
	return -1;
}

const char *
lm_sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t len, bool with_port)
{
	char a[INET6_ADDRSTRLEN];
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET && inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a) != NULL) {
		if (with_port)
			snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
		else
			snprintf(buf, len, "%s", a);
		return buf;
	}
	if (ss->ss_family == AF_INET6 && inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a) != NULL) {
		if (with_port)
			snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
		else
			snprintf(buf, len, "%s", a);
		return buf;
	}
	return NULL;
}

bool
lm_sockaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		              &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return false;
}

socklen_t
lm_sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		return sizeof(struct sockaddr_in);
	}
	if (ss->ss_family == AF_INET6) {
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		return sizeof(struct sockaddr_in6);
	}
	return 0;
}
