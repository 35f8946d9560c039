/* lyncmock listen: run every fake endpoint of one host on one event loop until SIGINT/SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "cmd/cmd.h"
#include "listeners/listeners.h"

#define LISTEN_ERRLEN 16384

static const char listen_usage[] =
    "usage: lyncmock listen [--scenario F] --host H [--certs DIR | --ca CA --cert C --key K]\n"
    "           [--bind ADDR] [--port-offset N] [--ready-fd N] [--log FILE] [--json-log]\n"
    "           [--strict-client-eku] [--plaintext PORT]... [--port-cert PORT,CERT,KEY]...\n"
    "           [--max-conns N] [--max-conns-per-source N] [--max-message BYTES]\n"
    "           [--handshake-timeout MS] [--idle-timeout MS] [--tls-min VERSION]\n"
    "           [--user USER]\n"
    "\n"
    "Starts, on one event loop, every listener that host H is a destination for\n"
    "in the scenario (default '" LM_DEFAULT_SCENARIO "'), bound to H's address, and\n"
    "serves until SIGINT or SIGTERM. Every answer carries an identity record\n"
    "(scenario, host, role, listener, port, local and peer address, the probe's\n"
    "token, TLS facts) so a probe can prove which endpoint it reached:\n"
    "  http  (80, 8080)        GET /lyncmock/probe?token=T -> JSON identity with the\n"
    "                          request line, Host and X-Forwarded-* headers\n"
    "  https (443, 4443, 444)  the same over TLS; client certificate per rule\n"
    "  sip-mtls (5061)         SIP over mutual TLS: OPTIONS -> 200 OK with the identity\n"
    "                          as JSON body (X-Lyncmock-Token echoed); other methods\n"
    "                          405/501; unparsable 400; CRLF keep-alives answered\n"
    "  cls-mtls (50001-50003)  line protocol: 'LYNCMOCK PROBE <token>' -> one JSON line\n"
    "  tcp                     one identity line on connect, then close\n"
    "\n"
    "  -s, --scenario F        scenario file or built-in name\n"
    "  -H, --host H            the scenario host to be\n"
    "  -c, --certs DIR         lab PKI from `lyncmock certs init` (DIR/ca.pem, DIR/H.pem,\n"
    "                          DIR/H.key)\n"
    "      --ca/--cert/--key   your own CA bundle, certificate chain and key\n"
    "  -b, --bind ADDR         listen on ADDR instead of H's scenario address (0.0.0.0)\n"
    "      --port-offset N     add N to every port (unprivileged runs)\n"
    "      --ready-fd N        write the ready line to fd N (then close it), not stdout\n"
    "      --log FILE          connection log (appended; created 0640; a symbolic link,\n"
    "                          FIFO or device is refused); default stderr\n"
    "      --json-log          one JSON object per connection instead of text\n"
    "      --strict-client-eku refuse client certificates without clientAuth EKU\n"
    "                          (Lync, and lyncmock by default, accept serverAuth-only)\n"
    "      --plaintext PORT    serve TLS port PORT without TLS (fault injection)\n"
    "      --port-cert PORT,CERT,KEY  another certificate on PORT (fault injection)\n"
    "      --max-conns N       connections per listener (1024)\n"
    "      --max-conns-per-source N   connections per source address per listener (256)\n"
    "      --max-message BYTES largest request or SIP message (65536)\n"
    "      --handshake-timeout MS     TLS handshake deadline (10000)\n"
    "      --idle-timeout MS   idle time before a connection is closed (60000)\n"
    "      --tls-min 1.0|1.1|1.2|1.3  lowest TLS version accepted (1.2). Lower it only\n"
    "                          for old peers; 1.0/1.1 also allow their legacy ciphers\n"
    "      --user USER         after binding every port, drop to USER's uid, gid and\n"
    "                          groups (bind ports < 1024 as root, then serve as USER;\n"
    "                          SIGHUP then reloads certificates as USER)\n"
    "\n"
    "Limits: a connection over --max-conns or --max-conns-per-source is accepted\n"
    "and closed at once, logged \"listener full: ...\" (plain http first answers\n"
    "503 \"listener full\"), so a probe tells a full listener from a DROP; a SIP message, HTTP\n"
    "request or CLS line over --max-message is refused (SIP 513, HTTP 4xx, CLS ERR)\n"
    "and the connection closed; a client that does not finish its TLS handshake in\n"
    "--handshake-timeout, sends nothing for --idle-timeout, or has not completed a\n"
    "SIP message, CLS line or HTTP request within --idle-timeout (slowloris), is\n"
    "closed; a client that stops reading stops being read once 4 x --max-message\n"
    "of answers wait. Memory therefore stays near max-conns x (4 x max-message +\n"
    "TLS buffers) per listener; an idle connection costs about 3 KiB plain and\n"
    "28 KiB with TLS (docs/hardening.md).\n"
    "TLS by default: 1.2 and 1.3 only, ECDHE/DHE/RSA key exchange with AES-GCM,\n"
    "ChaCha20 or AES-CBC; no RC4, 3DES, export, NULL or anonymous suites; no\n"
    "compression or renegotiation. Private keys must be mode 0600.\n"
    "See docs/hardening.md.\n"
    "\n"
    "When every socket is bound it prints exactly one line, 'ready host=H\n"
    "ports=P1,P2,...', and flushes it. SIGHUP reloads the certificates (the old\n"
    "ones stay when the new ones fail). One log line per connection: time,\n"
    "listener, port, peer, TLS version and cipher, client certificate, outcome,\n"
    "bytes in and out, requests served.\n"
    "\n"
    "exit: 0 after SIGINT/SIGTERM, 2 on usage, scenario, certificate or bind errors\n";

enum {
	OPT_CA = 256,
	OPT_CERT,
	OPT_KEY,
	OPT_PORT_OFFSET,
	OPT_READY_FD,
	OPT_LOG,
	OPT_JSON_LOG,
	OPT_STRICT_EKU,
	OPT_PLAINTEXT,
	OPT_PORT_CERT,
	OPT_MAX_CONNS,
	OPT_MAX_PER_SOURCE,
	OPT_MAX_MESSAGE,
	OPT_HS_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_TLS_MIN,
	OPT_USER,
};

static const struct option listen_longopts[] = {
    {"scenario", required_argument, NULL, 's'},
    {"host", required_argument, NULL, 'H'},
    {"certs", required_argument, NULL, 'c'},
    {"ca", required_argument, NULL, OPT_CA},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"bind", required_argument, NULL, 'b'},
    {"port-offset", required_argument, NULL, OPT_PORT_OFFSET},
    {"ready-fd", required_argument, NULL, OPT_READY_FD},
    {"log", required_argument, NULL, OPT_LOG},
    {"json-log", no_argument, NULL, OPT_JSON_LOG},
    {"strict-client-eku", no_argument, NULL, OPT_STRICT_EKU},
    {"plaintext", required_argument, NULL, OPT_PLAINTEXT},
    {"port-cert", required_argument, NULL, OPT_PORT_CERT},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"max-conns-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE},
    {"max-message", required_argument, NULL, OPT_MAX_MESSAGE},
    {"handshake-timeout", required_argument, NULL, OPT_HS_TIMEOUT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"tls-min", required_argument, NULL, OPT_TLS_MIN},
    {"user", required_argument, NULL, OPT_USER},
    {NULL, 0, NULL, 0},
};

/* "PORT,CERT,KEY" into pc; returns 0 or -1. */
static int
parse_port_cert(const char *s, struct listener_port_cert *pc)
{
	const char *c1 = strchr(s, ','), *c2;
	char port[8];

	if (c1 == NULL || (c2 = strchr(c1 + 1, ',')) == NULL || c1 - s >= (long)sizeof port ||
	    c2 == c1 + 1 || c2[1] == '\0')
		return -1;
	memcpy(port, s, (size_t)(c1 - s));
	port[c1 - s] = '\0';
	if (lm_parse_port(port, &pc->port) == -1)
		return -1;
	if ((size_t)(c2 - c1 - 1) >= sizeof pc->cert || strlen(c2 + 1) >= sizeof pc->key)
		return -1;
	memcpy(pc->cert, c1 + 1, (size_t)(c2 - c1 - 1));
	pc->cert[c2 - c1 - 1] = '\0';
	snprintf(pc->key, sizeof pc->key, "%s", c2 + 1);
	return 0;
}

/* Gives up root for pw's identity: groups first, then gid, then uid (the
 * other order would leave us unable to drop the rest), and checks that
 * root cannot be regained. */
static int
drop_privileges(const struct passwd *pw, char *err, size_t errlen)
{
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 && setgroups(1, &pw->pw_gid) == -1) {
		snprintf(err, errlen, "setgroups: %s", strerror(errno));
		return -1;
	}
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1) {
		snprintf(err, errlen, "setresgid(%u): %s", (unsigned)pw->pw_gid, strerror(errno));
		return -1;
	}
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errlen, "setresuid(%u): %s", (unsigned)pw->pw_uid, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "root could be regained after dropping to %s", pw->pw_name);
		return -1;
	}
	return 0;
}

struct listen_run {
	struct event_base *base;
	struct listener_set *ls;
};

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct listen_run *r = arg;

	(void)what;
	lm_log("lyncmock listen: %s, shutting down", strsignal((int)sig));
	(void)sd_notify(0, "STOPPING=1");
	event_base_loopbreak(r->base);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct listen_run *r = arg;
	char err[1024];

	(void)sig;
	(void)what;
	/* systemd's `reload` waits for READY=1 again (a no-op outside systemd) */
	(void)sd_notify(0, "RELOADING=1");
	if (listener_set_reload(r->ls, err, sizeof err) == -1)
		lm_log(
		    "lyncmock listen: SIGHUP: certificates not reloaded (keeping the old ones): %s",
		    err);
	else
		lm_log("lyncmock listen: SIGHUP: certificates reloaded");
	(void)sd_notify(0, "READY=1");
}

/* The ready line, on stdout or the --ready-fd descriptor. */
static int
announce_ready(const struct listener_set *ls, const char *host, int ready_fd)
{
	uint16_t ports[64];
	size_t n = listener_set_ports(ls, ports, 64);
	char line[1024];
	size_t off;
	ssize_t w;

	off = (size_t)snprintf(line, sizeof line, "ready host=%s ports=", host);
	for (size_t i = 0; i < n && i < 64 && off < sizeof line; i++)
		off +=
		    (size_t)snprintf(line + off, sizeof line - off, "%s%u", i ? "," : "", ports[i]);
	if (off >= sizeof line - 1)
		off = sizeof line - 2;
	/* Type=notify: every port is bound now ($NOTIFY_SOCKET unset: no-op) */
	if (sd_notifyf(0, "READY=1\nSTATUS=%.*s", (int)off, line) < 0)
		lm_log("lyncmock listen: sd_notify READY=1 failed");
	line[off++] = '\n';
	if (ready_fd < 0) {
		fwrite(line, 1, off, stdout);
		return fflush(stdout) == 0 ? 0 : -1;
	}
	do
		w = write(ready_fd, line, off);
	while (w == -1 && errno == EINTR);
	close(ready_fd);
	return w == (ssize_t)off ? 0 : -1;
}

static int
cmd_listen_exec(int argc, char **argv)
{
	const struct cmd_entry *e = &cmd_listen_entry;
	const char *scenario = NULL, *host = NULL, *certs = NULL, *ca = NULL, *cert = NULL;
	const char *key = NULL, *log_path = NULL, *user = NULL;
	struct passwd pwbuf, *pw = NULL;
	char pwstr[4096];
	struct listener_config cfg;
	struct listen_run run = {NULL, NULL};
	struct event *ev_int = NULL, *ev_term = NULL, *ev_hup = NULL;
	struct scenario *sc = NULL;
	FILE *log = NULL;
	char *err = NULL;
	long ready_fd = -1, v;
	struct rlimit rl;
	int ch, rc = LM_EXIT_USAGE;

	memset(&cfg, 0, sizeof cfg);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":s:H:c:b:", listen_longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			scenario = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'c':
			certs = optarg;
			break;
		case OPT_CA:
			ca = optarg;
			break;
		case OPT_CERT:
			cert = optarg;
			break;
		case OPT_KEY:
			key = optarg;
			break;
		case 'b':
			cfg.bind_addr = optarg;
			break;
		case OPT_PORT_OFFSET:
			if (lm_parse_long(optarg, -65535, 65535, &v) == -1)
				return cmd_usage_error(e,
				                       "--port-offset: '%s' is not a number in "
				                       "-65535..65535",
				                       optarg);
			cfg.port_offset = (int)v;
			break;
		case OPT_READY_FD:
			if (lm_parse_long(optarg, 0, INT_MAX, &ready_fd) == -1)
				return cmd_usage_error(e, "--ready-fd: '%s' is not a descriptor",
				                       optarg);
			break;
		case OPT_LOG:
			log_path = optarg;
			break;
		case OPT_JSON_LOG:
			cfg.json_log = true;
			break;
		case OPT_STRICT_EKU:
			cfg.strict_client_eku = true;
			break;
		case OPT_PLAINTEXT: {
			uint16_t p;
			if (lm_parse_port(optarg, &p) == -1)
				return cmd_usage_error(e, "--plaintext: '%s' is not a port",
				                       optarg);
			if (cfg.nplaintext_ports ==
			    sizeof cfg.plaintext_ports / sizeof cfg.plaintext_ports[0])
				return cmd_usage_error(e, "--plaintext: too many ports");
			cfg.plaintext_ports[cfg.nplaintext_ports++] = p;
			break;
		}
		case OPT_PORT_CERT:
			if (cfg.nport_certs == sizeof cfg.port_certs / sizeof cfg.port_certs[0])
				return cmd_usage_error(e, "--port-cert: too many");
			if (parse_port_cert(optarg, &cfg.port_certs[cfg.nport_certs]) == -1)
				return cmd_usage_error(e, "--port-cert: '%s' is not PORT,CERT,KEY",
				                       optarg);
			cfg.nport_certs++;
			break;
		case OPT_MAX_CONNS:
			if (lm_parse_long(optarg, 1, 1000000, &v) == -1)
				return cmd_usage_error(e, "--max-conns: '%s' is not 1..1000000",
				                       optarg);
			cfg.limits.max_conns = (unsigned)v;
			break;
		case OPT_MAX_PER_SOURCE:
			if (lm_parse_long(optarg, 1, 1000000, &v) == -1)
				return cmd_usage_error(e,
				                       "--max-conns-per-source: '%s' is not "
				                       "1..1000000",
				                       optarg);
			cfg.limits.max_conns_per_source = (unsigned)v;
			break;
		case OPT_MAX_MESSAGE:
			if (lm_parse_long(optarg, 1024, 16 * 1024 * 1024, &v) == -1)
				return cmd_usage_error(
				    e, "--max-message: '%s' is not 1024..16777216", optarg);
			cfg.limits.max_message = (size_t)v;
			break;
		case OPT_HS_TIMEOUT:
		case OPT_IDLE_TIMEOUT:
			if (lm_parse_long(optarg, 1, 3600 * 1000, &v) == -1)
				return cmd_usage_error(e, "%s: '%s' is not 1..3600000 ms",
				                       ch == OPT_HS_TIMEOUT ? "--handshake-timeout"
				                                            : "--idle-timeout",
				                       optarg);
			if (ch == OPT_HS_TIMEOUT)
				cfg.limits.handshake_timeout_ms = (unsigned)v;
			else
				cfg.limits.idle_timeout_ms = (unsigned)v;
			break;
		case OPT_TLS_MIN:
			if ((cfg.tls_min_version = certs_tls_version_from_name(optarg)) == -1)
				return cmd_usage_error(
				    e, "--tls-min: 1.0, 1.1, 1.2 or 1.3, not '%s'", optarg);
			break;
		case OPT_USER:
			user = optarg;
			break;
		default:
			return cmd_getopt_error(e, ch, argv, listen_longopts);
		}
	}
	if (optind < argc)
		return cmd_usage_error(e, "unexpected argument '%s'", argv[optind]);
	if (host == NULL)
		return cmd_usage_error(e, "--host is required");

	if (user != NULL) {
		/* look the user up before binding: a typo must not leave root serving */
		if (getpwnam_r(user, &pwbuf, pwstr, sizeof pwstr, &pw) != 0 || pw == NULL) {
			fprintf(stderr, "lyncmock listen: --user: no user '%s'\n", user);
			return LM_EXIT_USAGE;
		}
		if (geteuid() != 0 && geteuid() != pw->pw_uid) {
			fprintf(stderr,
			        "lyncmock listen: --user %s: only root can change user (running as "
			        "uid %u)\n",
			        user, (unsigned)geteuid());
			return LM_EXIT_USAGE;
		}
	}
	if ((err = malloc(LISTEN_ERRLEN)) == NULL) {
		fprintf(stderr, "lyncmock listen: out of memory\n");
		return LM_EXIT_USAGE;
	}
	if ((sc = scenario_load(scenario, err, LISTEN_ERRLEN)) == NULL) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if ((cfg.host = scenario_host_find(sc, host)) == NULL) {
		fprintf(stderr, "lyncmock listen: host '%s' is not in scenario %s\n", host,
		        sc->file);
		goto out;
	}
	cfg.sc = sc;
	certs_paths_for_host(&cfg.certs, certs, cfg.host, ca, cert, key);
	if (log_path != NULL) {
		if ((log = lm_fopen_log(log_path, 0640)) == NULL) {
			fprintf(stderr, "lyncmock listen: --log %s: %s\n", log_path,
			        errno == ELOOP ? "a symbolic link (refused)"
			                       : lm_open_strerror(errno));
			goto out;
		}
		cfg.log = log;
		lm_log_set_file(log);
	}
	lm_log_set_json(cfg.json_log);
	/* a client vanishing mid-write must not kill the listener */
	signal(SIGPIPE, SIG_IGN);
	/* every connection is a descriptor: take what the hard limit allows */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((run.base = listener_base_new()) == NULL) {
		fprintf(stderr, "lyncmock listen: cannot create the event loop\n");
		goto out;
	}
	if ((run.ls = listener_set_new(run.base, &cfg, err, LISTEN_ERRLEN)) == NULL) {
		fprintf(stderr, "lyncmock listen: %s\n", err);
		goto out;
	}
	if (pw != NULL && geteuid() != pw->pw_uid) {
		if (drop_privileges(pw, err, LISTEN_ERRLEN) == -1) {
			fprintf(stderr, "lyncmock listen: --user %s: %s\n", user, err);
			goto out;
		}
		lm_log("lyncmock listen: serving as user %s (uid %u, gid %u)", pw->pw_name,
		       (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	}
	ev_int = evsignal_new(run.base, SIGINT, on_stop, &run);
	ev_term = evsignal_new(run.base, SIGTERM, on_stop, &run);
	ev_hup = evsignal_new(run.base, SIGHUP, on_hup, &run);
	if (ev_int == NULL || ev_term == NULL || ev_hup == NULL || evsignal_add(ev_int, NULL) ||
	    evsignal_add(ev_term, NULL) || evsignal_add(ev_hup, NULL)) {
		fprintf(stderr, "lyncmock listen: cannot watch signals\n");
		goto out;
	}
	if (announce_ready(run.ls, cfg.host->name, (int)ready_fd) == -1) {
		fprintf(stderr, "lyncmock listen: cannot write the ready line: %s\n",
		        strerror(errno));
		goto out;
	}
	ready_fd = -1;
	if (event_base_dispatch(run.base) == -1) {
		fprintf(stderr, "lyncmock listen: event loop failed\n");
		goto out;
	}
	rc = LM_EXIT_OK;
out:
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_hup != NULL)
		event_free(ev_hup);
	listener_set_free(run.ls);
	if (run.base != NULL)
		event_base_free(run.base);
	lm_log_set_file(NULL);
	lm_log_set_json(false);
	if (log != NULL)
		fclose(log);
	scenario_free(sc);
	free(err);
	return rc;
}

const struct cmd_entry cmd_listen_entry = {
    .name = "listen",
    .summary = "run the fake endpoints of one host",
    .usage = listen_usage,
    .exec = cmd_listen_exec,
};
