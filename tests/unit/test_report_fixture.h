/* A probe run built by hand for the report tests: every outcome, TLS facts, two sources. */
#ifndef LM_TEST_REPORT_FIXTURE_H
#define LM_TEST_REPORT_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "report/report.h"

static char **
fx_strv(size_t n, const char *a, const char *b)
{
	char **v = calloc(n, sizeof *v);
	if (n > 0)
		v[0] = strdup(a);
	if (n > 1)
		v[1] = strdup(b);
	return v;
}

/* Verdict as the probe engine decides it (SPEC §3). */
static bool
fx_verdict(enum lm_outcome o, bool blocked)
{
	if (blocked)
		return lm_outcome_info(o)->blocked;
	return o == LM_OUT_PASS || o == LM_OUT_FOREIGN_PEER;
}

/* One result per outcome from rp01 or edge01 to dir01, plus two blocked-rule results. */
static struct probe_run *
fx_run(void)
{
	struct probe_run *run = probe_run_new("single-director", "rp01");
	char id[64];

	if (run == NULL)
		return NULL;
	free(run->started);
	run->started = strdup("2026-11-25T07:00:00Z");
	run->duration_ms = 3012.5;
	for (int o = 0; o < LM_OUT__COUNT + 2; o++) {
		struct probe_result *r = probe_run_add(run);
		enum lm_outcome out = o < LM_OUT__COUNT
		                          ? (enum lm_outcome)o
		                          : (o == LM_OUT__COUNT ? LM_OUT_FILTERED : LM_OUT_PASS);
		bool blocked = o >= LM_OUT__COUNT;
		bool tls = out >= LM_OUT_TLS_UNTRUSTED && out != LM_OUT_LOCAL_ERROR;

		/* ids in reverse so the writers must sort */
		snprintf(id, sizeof id, "rule-%02d-%s", LM_OUT__COUNT + 2 - o,
		         blocked ? "blocked" : lm_outcome_name(out));
		r->rule_id = strdup(id);
		r->service = tls ? LM_SVC_SIP_MTLS : LM_SVC_HTTP;
		r->port = tls ? 5061 : 8080;
		r->src_host = strdup(o % 2 ? "edge01" : "rp01");
		r->src_addr = strdup(o % 2 ? "198.18.1.30" : "198.18.0.10");
		r->src_role = strdup(o % 2 ? "edge-internal" : "reverse-proxy");
		r->dst_host = strdup("dir01");
		r->dst_addr = strdup("198.18.1.10");
		r->dst_role = strdup("director");
		r->target = strdup("dir01.contoso.local");
		r->expect_blocked = blocked;
		r->outcome = out;
		r->ok = fx_verdict(out, blocked);
		r->detail = strdup(out == LM_OUT_REFUSED ? "connect: Connection refused"
		                                         : "detail for this outcome");
		/* the engine's own sentence for some, the table's for others */
		if (!r->ok && o % 3 == 0)
			r->fix = strdup("A probe-specific fix sentence.");
		if (out != LM_OUT_FILTERED && out != LM_OUT_UNREACHABLE)
			r->t_connect_ms = 1.25 + o;
		if (tls) {
			r->t_handshake_ms = 4.5 + o;
			r->tls.version = strdup("TLSv1.3");
			r->tls.cipher = strdup("TLS_AES_256_GCM_SHA384");
			r->tls.client_cert_requested = true;
			r->tls.client_cert_sent = o % 2 == 0;
			r->tls.nca_names = 1;
			r->tls.ca_names = fx_strv(1, "CN=lyncmock lab CA", NULL);
			r->tls.verify_result = out == LM_OUT_TLS_UNTRUSTED ? 20 : 0;
			if (out == LM_OUT_TLS_UNTRUSTED)
				r->tls.verify_error = strdup(
				    "depth 0: unable to get local issuer certificate (CN=dir01)");
			r->tls.nchain = 2;
			r->tls.chain = calloc(2, sizeof *r->tls.chain);
			r->tls.chain[0].subject = strdup("CN=dirpool.contoso.local");
			r->tls.chain[0].issuer = strdup("CN=lyncmock lab CA");
			r->tls.chain[0].nsans = 2;
			r->tls.chain[0].sans =
			    fx_strv(2, "DNS:dirpool.contoso.local", "DNS:dir01.contoso.local");
			r->tls.chain[0].nekus = 2;
			r->tls.chain[0].ekus = fx_strv(2, "serverAuth", "clientAuth");
			r->tls.chain[0].not_after = strdup("2027-11-25T07:00:00Z");
			r->tls.chain[1].subject = strdup("CN=lyncmock lab CA");
			r->tls.chain[1].issuer = strdup("CN=lyncmock lab CA");
			r->tls.chain[1].not_after = strdup("2036-11-25T07:00:00Z");
		}
		if (out == LM_OUT_PASS || out == LM_OUT_NAT_DETECTED ||
		    out == LM_OUT_WRONG_RESPONDER) {
			r->t_first_ms = 9.875 + o;
			r->peer_seen = strdup(out == LM_OUT_NAT_DETECTED ? "198.18.9.9:40000"
			                                                 : "198.18.0.10:40112");
			r->identity =
			    strdup("{\"service\":\"lyncmock\",\"host\":\"dir01\","
			           "\"role\":\"director\",\"port\":8080,\"token\":\"t1\"}");
		}
		if (out == LM_OUT_PROTOCOL_ERROR)
			r->identity = strdup("not json at all");
	}
	return run;
}

#endif
