/*
 * The probe engine on loopback (127.0.4.x), with peers the kernel provides:
 * a listening socket nobody accepts on (the handshake completes, nothing
 * answers) and a closed port. Checks classification, the one-exit result,
 * the bound on probes in flight, progress and interruption.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "probes/probes.h"

/* A socket listening on 127.0.4.20 that never accepts; returns its port. */
static int
silent_listener(uint16_t *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.4.20", &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(fd, 4096), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A port on 127.0.4.21 with nothing listening (bound, then closed). */
static uint16_t
closed_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.4.21", &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static const struct probe_result *
find(const struct probe_run *run, enum lm_service svc, uint16_t port)
{
	for (size_t i = 0; i < run->n; i++)
		if (run->results[i].service == svc && run->results[i].port == port)
			return &run->results[i];
	return NULL;
}

static void
test_classify(void **state)
{
	uint16_t lport, cport = closed_port();
	int lfd = silent_listener(&lport);
	char u1[64], u2[64], u3[64], err[256];
	char *urls[] = {u1, u2, u3};
	struct probe_options o = {.timeout_ms = 400};
	struct probe_run *run = probe_run_new(NULL, NULL);
	const struct probe_result *r;

	(void)state;
	snprintf(u1, sizeof u1, "tcp://127.0.4.20:%u", lport);
	snprintf(u2, sizeof u2, "http://127.0.4.20:%u", lport);
	snprintf(u3, sizeof u3, "tcp://127.0.4.21:%u", cport);
	assert_int_equal(probe_urls(urls, 3, &o, run, err, sizeof err), 0);
	assert_int_equal(run->n, 3);
	assert_false(run->partial);

	r = find(run, LM_SVC_TCP, lport);
	assert_non_null(r);
	assert_int_equal(r->outcome, LM_OUT_PASS);
	assert_true(r->ok);
	assert_true(r->t_connect_ms >= 0);
	assert_string_equal(r->src_addr, "127.0.0.1");
	assert_string_equal(r->fix, "");

	r = find(run, LM_SVC_HTTP, lport);
	assert_non_null(r);
	assert_int_equal(r->outcome, LM_OUT_NO_ANSWER); /* connected, request sent, silence */
	assert_false(r->ok);
	assert_non_null(strstr(r->detail, "the server sent nothing in"));
	assert_true(r->facts.waited_ms >= 300);
	assert_true(r->t_total_ms >= 350); /* the time really spent, not the connect time */
	assert_non_null(strstr(r->fix, "127.0.4.20"));

	r = find(run, LM_SVC_TCP, cport);
	assert_non_null(r);
	assert_int_equal(r->outcome, LM_OUT_REFUSED);
	assert_false(r->ok);
	assert_true(r->t_connect_ms < 0);
	assert_int_equal(probe_run_failures(run), 2);
	probe_run_free(run);
	close(lfd);
}

static size_t progress_calls, progress_last_total;

static void
progress(void *arg, const struct probe_result *r, size_t done, size_t total)
{
	(void)arg;
	assert_non_null(r);
	assert_int_equal(done, progress_calls + 1);
	progress_calls++;
	progress_last_total = total;
}

/* 40 probes that each wait the whole timeout: the time taken shows the bound. */
static double
timed_run(unsigned parallel, uint16_t lport)
{
	char *urls[40], err[256];
	struct probe_options o = {.timeout_ms = 150, .parallel = parallel, .progress = progress};
	struct probe_run *run = probe_run_new(NULL, NULL);
	double ms;

	for (int i = 0; i < 40; i++)
		assert_true(asprintf(&urls[i], "http://127.0.4.20:%u", lport) > 0);
	progress_calls = 0;
	assert_int_equal(probe_urls(urls, 40, &o, run, err, sizeof err), 0);
	assert_int_equal(run->n, 40);
	assert_int_equal(progress_calls, 40);
	assert_int_equal(progress_last_total, 40);
	for (size_t i = 0; i < run->n; i++)
		assert_int_equal(run->results[i].outcome, LM_OUT_NO_ANSWER);
	ms = run->duration_ms;
	probe_run_free(run);
	for (int i = 0; i < 40; i++)
		free(urls[i]);
	return ms;
}

static void
test_parallel_bound(void **state)
{
	uint16_t lport;
	int lfd = silent_listener(&lport);
	double all, four;

	(void)state;
	all = timed_run(40, lport); /* one wave: ~150 ms */
	four = timed_run(4, lport); /* ten waves: ~1500 ms */
	print_message("40 probes x 150 ms: parallel 40 -> %.0f ms, parallel 4 -> %.0f ms\n", all,
	              four);
	assert_true(all < 600);
	assert_true(four >= 1400);
	close(lfd);
}

static void
test_interrupted(void **state)
{
	uint16_t lport;
	int lfd = silent_listener(&lport);
	char u[64], *urls[] = {u}, err[256];
	volatile int stop = 1;
	struct probe_options o = {.timeout_ms = 5000, .interrupted = &stop};
	struct probe_run *run = probe_run_new(NULL, NULL);

	(void)state;
	snprintf(u, sizeof u, "http://127.0.4.20:%u", lport);
	assert_int_equal(probe_urls(urls, 1, &o, run, err, sizeof err), 0);
	assert_true(run->partial);
	assert_int_equal(run->n, 0); /* the unfinished probe is not reported */
	assert_true(run->duration_ms < 1000);
	probe_run_free(run);
	close(lfd);
}

static void
test_bad_urls(void **state)
{
	char *bad[] = {"gopher://127.0.4.20:1", "tcp://127.0.4.20", "not a url",
	               "https://127.0.4.20:1"};
	struct probe_options o = {0};
	char err[256];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct probe_run *run = probe_run_new(NULL, NULL);
		err[0] = '\0';
		assert_int_equal(probe_urls(&bad[i], 1, &o, run, err, sizeof err), -1);
		assert_true(err[0] != '\0');
		probe_run_free(run);
	}
	/* TLS without a CA to verify against: a configuration error, before probing */
	struct probe_run *run = probe_run_new(NULL, NULL);
	assert_int_equal(probe_urls(&bad[3], 1, &o, run, err, sizeof err), -1);
	assert_non_null(strstr(err, "CA"));
	assert_int_equal(run->n, 0);
	probe_run_free(run);
}

static void
test_scenario(void **state)
{
	uint16_t lport, cport = closed_port();
	int lfd = silent_listener(&lport);
	char yaml[2048], err[4096];
	struct scenario *sc;
	struct probe_run *run;
	struct probe_options o = {.timeout_ms = 500};
	const struct probe_result *r;
	char *only[] = {"open", "closed-ok"};

	(void)state;
	snprintf(
	    yaml, sizeof yaml,
	    "name: unit\n"
	    "domain: contoso.local\n"
	    "hosts:\n"
	    "  - {name: cl01, role: internal-client, address: 127.0.4.22}\n"
	    "  - {name: dir01, role: director, address: 127.0.4.20, fqdn: dir01.contoso.local}\n"
	    "  - {name: fe01, role: front-end, address: 127.0.4.21, fqdn: fe01.contoso.local}\n"
	    "rules:\n"
	    "  - {id: open, service: tcp, port: %u, from: internal-client, to: director}\n"
	    "  - {id: closed-ok, service: tcp, port: %u, from: internal-client, to: front-end, "
	    "expect: blocked}\n"
	    "  - {id: other, service: tcp, port: %u, from: internal-client, to: front-end}\n",
	    lport, cport, lport);
	sc = scenario_load_buffer("unit.yaml", yaml, strlen(yaml), err, sizeof err);
	if (sc == NULL)
		fail_msg("%s", err);

	run = probe_run_new(sc->name, "cl01");
	o.only_rules = only;
	o.nonly_rules = 2;
	assert_int_equal(
	    probe_scenario(sc, scenario_host_find(sc, "cl01"), &o, run, err, sizeof err), 0);
	assert_int_equal(run->n, 2); /* "other" filtered out */
	assert_null(run->note);      /* 127.0.4.22 is local: bound */
	r = &run->results[0];
	assert_string_equal(r->rule_id, "open");
	assert_int_equal(r->outcome, LM_OUT_PASS);
	assert_string_equal(r->src_addr, "127.0.4.22");
	assert_string_equal(r->target, "dir01.contoso.local");
	r = &run->results[1];
	assert_string_equal(r->rule_id, "closed-ok");
	assert_int_equal(r->outcome, LM_OUT_REFUSED);
	assert_true(r->expect_blocked);
	assert_true(r->ok);
	assert_int_equal(probe_run_failures(run), 0);
	probe_run_free(run);

	/* a port offset past 65535 is a local error, not a crash */
	run = probe_run_new(sc->name, "cl01");
	o.port_offset = 65535;
	o.nonly_rules = 1;
	assert_int_equal(
	    probe_scenario(sc, scenario_host_find(sc, "cl01"), &o, run, err, sizeof err), 0);
	assert_int_equal(run->n, 1);
	assert_int_equal(run->results[0].outcome, LM_OUT_LOCAL_ERROR);
	probe_run_free(run);

	/* a --rule naming no rule is a configuration error */
	run = probe_run_new(sc->name, "cl01");
	only[0] = "nosuch";
	o.port_offset = 0;
	assert_int_equal(
	    probe_scenario(sc, scenario_host_find(sc, "cl01"), &o, run, err, sizeof err), -1);
	assert_non_null(strstr(err, "nosuch"));
	probe_run_free(run);
	scenario_free(sc);
	close(lfd);
}

/* TLS probes to a peer that never answers the ClientHello, n at a time
 * (locally, or through a shared slot file): returns the run's duration. */
static double
tls_run(const char *ca, uint16_t lport, unsigned tls_parallel, const char *slots)
{
	char *urls[6], err[512];
	struct probe_options o = {
	    .timeout_ms = 200, .tls_parallel = tls_parallel, .ca = ca, .tls_slots = slots};
	struct probe_run *run = probe_run_new(NULL, NULL);
	double ms;

	for (int i = 0; i < 6; i++)
		assert_true(asprintf(&urls[i], "https://127.0.4.20:%u", lport) > 0);
	if (probe_urls(urls, 6, &o, run, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(run->n, 6);
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[i];
		/* the handshake step timed out on its own clock, not in our queue */
		assert_int_not_equal(r->outcome, LM_OUT_LOCAL_ERROR);
		assert_int_not_equal(r->outcome, LM_OUT_PASS);
		assert_true(r->t_connect_ms >= 0);
		if (r->outcome != LM_OUT_NO_ANSWER)
			fail_msg("%s: %s", lm_outcome_name(r->outcome), r->detail);
	}
	ms = run->duration_ms;
	probe_run_free(run);
	for (int i = 0; i < 6; i++)
		free(urls[i]);
	return ms;
}

/* Handshakes in flight are bounded; the wait for a slot is not timed. */
static void
test_tls_slots(void **state)
{
	char dir[] = "/tmp/lm-test-slots.XXXXXX", ca[128], slots[128], err[512];
	const char *yaml = "name: t\ndomain: contoso.local\nhosts:\n"
	                   "  - {name: cl01, role: internal-client, address: 127.0.4.22}\n"
	                   "  - {name: fe01, role: front-end, address: 127.0.4.20}\n"
	                   "rules:\n"
	                   "  - {id: r, service: tcp, port: 1, from: internal-client, to: fe01}\n";
	struct certs_init_opts co;
	struct scenario *sc;
	uint16_t lport;
	int lfd = silent_listener(&lport);
	double all, two, shared;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sc = scenario_load_buffer("t.yaml", yaml, strlen(yaml), err, sizeof err);
	if (sc == NULL)
		fail_msg("%s", err);
	certs_init_opts_default(&co);
	co.key_type = CERTS_KEY_ECDSA_P256;
	if (certs_init(sc, dir, &co, err, sizeof err) != 0)
		fail_msg("%s", err);
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	snprintf(slots, sizeof slots, "%s/slots", dir);
	assert_int_equal(probe_slots_create(slots, 2, err, sizeof err), 0);
	assert_int_equal(probe_slots_create(slots, 2, err, sizeof err), -1); /* never reused */

	all = tls_run(ca, lport, 6, NULL);     /* one wave: ~200 ms (400 if retried) */
	two = tls_run(ca, lport, 2, NULL);     /* three waves: >= 600 ms */
	shared = tls_run(ca, lport, 6, slots); /* the file's 2 slots: >= 600 ms */
	print_message("6 handshakes x 200 ms: 6 at once %.0f ms, 2 at once %.0f ms, "
	              "2 shared slots %.0f ms\n",
	              all, two, shared);
	assert_true(two >= 580);
	assert_true(shared >= 580);
	assert_true(all < two);
	/* every slot came back */
	assert_true(tls_run(ca, lport, 6, slots) >= 580);
	scenario_free(sc);
	close(lfd);
	assert_int_equal(system(lm_fmt(err, sizeof err, "rm -rf '%s'", dir)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),    cmocka_unit_test(test_parallel_bound),
	    cmocka_unit_test(test_interrupted), cmocka_unit_test(test_bad_urls),
	    cmocka_unit_test(test_scenario),    cmocka_unit_test(test_tls_slots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
