/* listener_set_new/free/ports/reload in-process: errors name the problem,
 * ports follow the offset, a failed reload keeps the old certificates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <osipparser2/osip_parser.h>

#include "listeners/listeners.h"

struct fx {
	struct scenario *sc;
	char dir[64];
	struct event_base *base;
	FILE *log;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	char path[4096], err[4096];
	struct certs_init_opts o;

	parser_init();
	snprintf(path, sizeof path, "%s/tests/fixtures/listen-lab.yaml", getenv("LM_SOURCE_DIR"));
	fx->sc = scenario_load(path, err, sizeof err);
	if (fx->sc == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	snprintf(fx->dir, sizeof fx->dir, "/tmp/lmtls.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	strcat(fx->dir, "/pki");
	certs_init_opts_default(&o);
	if (certs_init(fx->sc, fx->dir, &o, err, sizeof err) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	fx->base = event_base_new();
	fx->log = tmpfile();
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[200];

	event_base_free(fx->base);
	fclose(fx->log);
	scenario_free(fx->sc);
	fx->dir[strlen(fx->dir) - 4] = '\0';
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	/* a leftover temp dir must not pass silently (and _FORTIFY_SOURCE wants the result read) */
	if (system(cmd) != 0)
		fprintf(stderr, "teardown: '%s' failed\n", cmd);
	free(fx);
	return 0;
}

static void
config(struct fx *fx, struct listener_config *cfg, const char *host, int offset)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->sc = fx->sc;
	cfg->host = scenario_host_find(fx->sc, host);
	assert_non_null(cfg->host);
	cfg->port_offset = offset;
	cfg->log = fx->log;
	certs_paths_for_host(&cfg->certs, fx->dir, cfg->host, NULL, NULL, NULL);
}

static void
test_errors(void **state)
{
	struct fx *fx = *state;
	struct listener_config cfg;
	char err[1024];

	config(fx, &cfg, "rp01", 13000);
	assert_null(listener_set_new(fx->base, &cfg, err, sizeof err));
	assert_non_null(strstr(err, "rp01 is the destination of no rule"));

	config(fx, &cfg, "edge01", 16000); /* 50001 + 16000 > 65535 */
	assert_null(listener_set_new(fx->base, &cfg, err, sizeof err));
	assert_non_null(strstr(err, "out of range"));

	config(fx, &cfg, "edge01", 13000);
	cfg.bind_addr = "not-an-address";
	assert_null(listener_set_new(fx->base, &cfg, err, sizeof err));
	assert_non_null(strstr(err, "'not-an-address' is not an IPv4 or IPv6 address"));

	config(fx, &cfg, "edge01", 13000);
	cfg.port_certs[0].port = 50002;
	snprintf(cfg.port_certs[0].cert, sizeof cfg.port_certs[0].cert, "/nonexistent.pem");
	snprintf(cfg.port_certs[0].key, sizeof cfg.port_certs[0].key, "/nonexistent.key");
	cfg.nport_certs = 1;
	assert_null(listener_set_new(fx->base, &cfg, err, sizeof err));
	assert_non_null(strstr(err, "cls-mtls port 63002"));
}

static void
test_ports_and_reload(void **state)
{
	struct fx *fx = *state;
	struct listener_config cfg;
	struct listener_set *ls;
	uint16_t ports[8];
	char err[1024], good[4096], moved[4200];

	/* ports + 23000: no other test's (test_listen_http_rfc has 21080) */
	config(fx, &cfg, "dir01", 23000);
	cfg.plaintext_ports[0] = 443;
	cfg.nplaintext_ports = 1;
	ls = listener_set_new(fx->base, &cfg, err, sizeof err);
	if (ls == NULL)
		fail_msg("%s", err);
	assert_int_equal(listener_set_ports(ls, ports, 8), 5);
	assert_int_equal(ports[0], 23080);
	assert_int_equal(ports[1], 23443);
	assert_int_equal(ports[2], 27443);
	assert_int_equal(ports[3], 28061);
	assert_int_equal(ports[4], 31080);
	/* a second set on the same ports: the error names address:port and why */
	assert_null(listener_set_new(fx->base, &cfg, err, sizeof err));
	assert_non_null(strstr(err, "cannot listen on 127.0.3.1:23080: Address already in use"));

	assert_int_equal(listener_set_reload(ls, err, sizeof err), 0);
	/* the certificate vanishes: reload fails and says which listener */
	snprintf(good, sizeof good, "%s", cfg.certs.cert);
	snprintf(moved, sizeof moved, "%s.away", good);
	assert_int_equal(rename(good, moved), 0);
	assert_int_equal(listener_set_reload(ls, err, sizeof err), -1);
	assert_non_null(strstr(err, "port 27443"));
	assert_int_equal(rename(moved, good), 0);
	assert_int_equal(listener_set_reload(ls, err, sizeof err), 0);
	listener_set_free(ls);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_ports_and_reload),
	};
	if (getenv("LM_SOURCE_DIR") == NULL)
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
