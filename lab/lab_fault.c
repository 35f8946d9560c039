/* --break: the fault kinds, their expected outcomes, and which rules each makes sense for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/firewall.h"
#include "lab/lab.h"
#include "lab/lab_int.h"

/* The one table of fault kinds: what each must show, how it is made real, which rules it fits. */
static const struct lab_fault_info fault_table[LAB_FAULT__COUNT] = {
    [LAB_FAULT_DROP] = {"drop", LM_OUT_FILTERED, LAB_INJECT_FIREWALL, FIREWALL_FAULT_DROP,
                        LAB_APPLIES_OWN_PATH, false, false},
    [LAB_FAULT_REJECT] = {"reject", LM_OUT_REFUSED, LAB_INJECT_FIREWALL, FIREWALL_FAULT_REJECT,
                          LAB_APPLIES_OWN_PATH, false, false},
    [LAB_FAULT_WRONG_CA] = {"wrong-ca", LM_OUT_TLS_UNTRUSTED, LAB_INJECT_OTHER_CA,
                            FIREWALL_FAULT_DROP, LAB_APPLIES_TLS | LAB_APPLIES_LISTENER, false,
                            false},
    [LAB_FAULT_NO_CLIENT_CERT] = {"no-client-cert", LM_OUT_TLS_CLIENT_REJECTED,
                                  LAB_INJECT_NO_CLIENT_CERT, FIREWALL_FAULT_DROP,
                                  LAB_APPLIES_TLS | LAB_APPLIES_CC_REQUIRED, false, false},
    [LAB_FAULT_PLAINTEXT] = {"plaintext", LM_OUT_TLS_FAILED, LAB_INJECT_PLAINTEXT,
                             FIREWALL_FAULT_DROP, LAB_APPLIES_TLS | LAB_APPLIES_LISTENER, false,
                             false},
    [LAB_FAULT_NAT] = {"nat", LM_OUT_NAT_DETECTED, LAB_INJECT_FIREWALL, FIREWALL_FAULT_NAT,
                       LAB_APPLIES_OWN_PATH, false, false},
    [LAB_FAULT_IDLE_TIMEOUT] = {"idle-timeout", LM_OUT_IDLE_CUT, LAB_INJECT_CONNTRACK,
                                FIREWALL_FAULT_DROP, LAB_APPLIES_SIP | LAB_APPLIES_OWN_PATH, true,
                                true},
};

const struct lab_fault_info *
lab_fault_info(enum lab_fault_kind kind)
{
	return (unsigned)kind < LAB_FAULT__COUNT ? &fault_table[kind] : NULL;
}

const char *
lab_fault_name(enum lab_fault_kind kind)
{
	return (unsigned)kind < LAB_FAULT__COUNT ? fault_table[kind].name : "?";
}

enum lm_outcome
lab_fault_outcome(enum lab_fault_kind kind)
{
	return (unsigned)kind < LAB_FAULT__COUNT ? fault_table[kind].outcome : LM_OUT_PASS;
}

const char *
lab_fault_kinds(void)
{
	static char buf[256];

	if (buf[0] == '\0')
		for (int i = 0, n = 0; i < LAB_FAULT__COUNT; i++)
			n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%s%s", i ? ", " : "",
			              fault_table[i].name, fault_table[i].seconds ? ":S" : "");
	return buf;
}

bool
lab_faults_use(const struct lab_fault *faults, size_t nfaults, enum lab_fault_inject how)
{
	for (size_t i = 0; i < nfaults; i++)
		if (fault_table[faults[i].kind].inject == how)
			return true;
	return false;
}

int
lab_fault_parse(const char *text, struct lab_fault *f)
{
	const char *eq = strrchr(text, '=');
	size_t idlen = eq != NULL ? (size_t)(eq - text) : 0;

	if (eq == NULL || idlen == 0 || idlen >= sizeof f->rule_id)
		return -1;
	for (int i = 0; i < LAB_FAULT__COUNT; i++) {
		const struct lab_fault_info *fi = &fault_table[i];
		size_t nl = strlen(fi->name);
		long secs = 0;

		if (strncmp(eq + 1, fi->name, nl) != 0)
			continue;
		if (fi->seconds) {
			/* KIND:S, e.g. the conntrack timeout of the paths' connections */
			if (eq[1 + nl] != ':' || lm_parse_long(eq + 2 + nl, 1, 86400, &secs) == -1)
				return -1;
		} else if (eq[1 + nl] != '\0') {
			continue;
		}
		memcpy(f->rule_id, text, idlen);
		f->rule_id[idlen] = '\0';
		f->kind = (enum lab_fault_kind)i;
		f->seconds = (unsigned)secs;
		return 0;
	}
	return -1;
}

const struct scenario_rule *
lab_rule_find(const struct scenario *sc, const char *id)
{
	for (size_t i = 0; i < sc->nrules; i++)
		if (strcmp(sc->rules[i].id, id) == 0)
			return &sc->rules[i];
	return NULL;
}

/* The client-certificate policy host h's listener on port applies. */
static enum lm_client_cert
listener_policy(const struct scenario *sc, const struct scenario_host *h, uint16_t port)
{
	struct scenario_listen ls[256];
	size_t n = scenario_listens_of(sc, h, ls, 256);

	for (size_t i = 0; i < n && i < 256; i++)
		if (ls[i].port == port)
			return lm_client_cert_effective(ls[i].service, ls[i].client_cert);
	return LM_CC_NONE;
}

/* True when some path the firewall opens belongs to rule r. */
static bool
rule_has_open_path(const struct scenario *sc, const struct scenario_rule *r)
{
	struct firewall_path *p = NULL;
	size_t n = 0;
	bool found = false;

	if (firewall_paths(sc, &p, &n) == -1)
		return true; /* out of memory: let the run find out */
	for (size_t i = 0; i < n && !found; i++)
		found = scenario_rules_share_port(p[i].rule, r) &&
		        scenario_rule_has_source(r, p[i].src) &&
		        scenario_rule_has_dest(r, p[i].dst);
	free(p);
	return found;
}

int
lab_faults_check(const struct scenario *sc, const struct lab_fault *faults, size_t nfaults,
                 FILE *log, char *err, size_t errlen)
{
	for (size_t i = 0; i < nfaults; i++) {
		const struct lab_fault *f = &faults[i];
		const struct lab_fault_info *fi = &fault_table[f->kind];
		const struct scenario_rule *r = lab_rule_find(sc, f->rule_id);
		const char *kind = fi->name;

		if (r == NULL) {
			snprintf(err, errlen, "--break %s=%s: no rule '%s' in scenario %s",
			         f->rule_id, kind, f->rule_id, sc->name);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(faults[j].rule_id, r->id) == 0) {
				snprintf(err, errlen, "--break: rule %s is broken twice", r->id);
				return -1;
			}
		}
		if (r->expect_blocked) {
			snprintf(
			    err, errlen,
			    "--break %s=%s: the rule expects the path blocked; only open rules can "
			    "be broken",
			    r->id, kind);
			return -1;
		}
		if ((fi->applies & LAB_APPLIES_TLS) && !lm_service_info(r->service)->tls) {
			snprintf(err, errlen, "--break %s=%s: %s on port %u does not use TLS",
			         r->id, kind, lm_service_name(r->service), (unsigned)r->port);
			return -1;
		}
		if (fi->applies & LAB_APPLIES_CC_REQUIRED) {
			for (size_t d = 0; d < r->nto; d++) {
				if (listener_policy(sc, r->to_hosts[d], r->port) !=
				    LM_CC_REQUIRED) {
					snprintf(
					    err, errlen,
					    "--break %s=%s: %s:%u does not require a client "
					    "certificate, so going without one changes nothing",
					    r->id, kind, r->to_hosts[d]->name, (unsigned)r->port);
					return -1;
				}
			}
		}
		if ((fi->applies & LAB_APPLIES_SIP) && r->service != LM_SVC_SIP_MTLS &&
		    r->service != LM_SVC_SIP_TLS) {
			snprintf(err, errlen,
			         "--break %s=%s: %s is not SIP; --hold holds SIP connections",
			         r->id, kind, lm_service_name(r->service));
			return -1;
		}
		if ((fi->applies & LAB_APPLIES_OWN_PATH) && !rule_has_open_path(sc, r)) {
			snprintf(
			    err, errlen,
			    "--break %s=%s: the rule opens no path of its own (an expect: blocked "
			    "rule keeps every one shut)",
			    r->id, kind);
			return -1;
		}
		if (fi->applies & LAB_APPLIES_LISTENER) {
			/* one listener socket cannot be changed twice (plaintext and another CA) */
			for (size_t j = 0; j < i; j++) {
				const struct lab_fault *g = &faults[j];
				const struct scenario_rule *r2 = lab_rule_find(sc, g->rule_id);
				if (!(fault_table[g->kind].applies & LAB_APPLIES_LISTENER) ||
				    !scenario_rules_share_port(r2, r))
					continue;
				for (size_t d = 0; d < r->nto; d++) {
					if (scenario_rule_has_dest(r2, r->to_hosts[d])) {
						snprintf(err, errlen,
						         "--break %s=%s and %s=%s both change the "
						         "listener "
						         "%s:%u: break one of them",
						         r2->id, lab_fault_name(g->kind), r->id,
						         kind, r->to_hosts[d]->name,
						         (unsigned)r->port);
						return -1;
					}
				}
			}
			/* the listener is shared by every rule to that host and port */
			for (size_t j = 0; j < sc->nrules; j++) {
				const struct scenario_rule *r2 = &sc->rules[j];
				if (r2 == r || !scenario_rules_share_port(r2, r))
					continue;
				for (size_t d = 0; d < r->nto; d++) {
					if (scenario_rule_has_dest(r2, r->to_hosts[d])) {
						if (log != NULL)
							fprintf(log,
							        "lab: note: --break %s=%s also "
							        "affects rule %s (same listener "
							        "%s:%u)\n",
							        r->id, kind, r2->id,
							        r->to_hosts[d]->name,
							        (unsigned)r->port);
						break;
					}
				}
			}
		}
	}
	return 0;
}
