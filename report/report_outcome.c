/*
 * The one outcome table (SPEC §3): each outcome's name, meaning, verdict
 * class and the builder of its fix sentence, which reads the result's facts
 * (hosts, addresses, who answered, the certificates seen). The probe engine,
 * the JSON reader and every writer go through here.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "report/report.h"

/* Builds the fix sentence for r into buf (len > 0). */
typedef void (*fix_fn)(const struct probe_result *r, char *buf, size_t len);

struct outcome_row {
	struct lm_outcome_info info;
	const char *generic; /* the sentence when a result carries no facts */
	fix_fn fix;
};

/* ---- the facts every sentence uses ----------------------------------------- */

static const char *
src_of(const struct probe_result *r)
{
	return r->src_host ? r->src_host : "this host";
}

static const char *
dst_of(const struct probe_result *r)
{
	return r->dst_host ? r->dst_host : (r->target ? r->target : "the destination");
}

static const char *
daddr_of(const struct probe_result *r)
{
	return r->dst_addr ? r->dst_addr : "?";
}

static const char *
svc_of(const struct probe_result *r)
{
	return lm_service_name(r->service);
}

/* "UDP" for the datagram services, else "TCP". */
static const char *
l4_of(const struct probe_result *r)
{
	const struct lm_service_info *si = lm_service_info(r->service);
	return si != NULL && si->udp ? "UDP" : "TCP";
}

static bool
is_udp(const struct probe_result *r)
{
	return strcmp(l4_of(r), "UDP") == 0;
}

static bool
is_dst_addr(const struct probe_result *r, const char *addr)
{
	return addr != NULL && r->dst_addr != NULL && strcmp(addr, r->dst_addr) == 0;
}

static const char *
leaf_names(const struct probe_result *r, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (r->tls.nchain == 0)
		return "no names";
	for (size_t i = 0; i < r->tls.chain[0].nsans && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
		                        r->tls.chain[0].sans[i]);
	if (off == 0)
		snprintf(buf, len, "only the subject %s",
		         r->tls.chain[0].subject ? r->tls.chain[0].subject : "?");
	return buf;
}

static const char *
leaf_subject(const struct probe_result *r)
{
	return r->tls.nchain && r->tls.chain[0].subject ? r->tls.chain[0].subject : "?";
}

static const char *
leaf_issuer(const struct probe_result *r)
{
	return r->tls.nchain && r->tls.chain[0].issuer ? r->tls.chain[0].issuer : "?";
}

/* ---- one builder per outcome ------------------------------------------------ */

static void
fix_pass(const struct probe_result *r, char *buf, size_t len)
{
	(void)r;
	snprintf(buf, len, "Nothing to fix: the path is open and reaches the expected listener.");
}

static void
fix_filtered(const struct probe_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "Open %s %u from %s to %s (%s) on every firewall between them: packets are "
	         "dropped silently.",
	         l4_of(r), r->port, src_of(r), dst_of(r), daddr_of(r));
}

static void
fix_refused(const struct probe_result *r, char *buf, size_t len)
{
	const struct probe_facts *f = &r->facts;

	if (f->answer != NULL && strcmp(f->answer, "icmp-port-unreachable") == 0) {
		/* on UDP that is how a closed port answers: the listener first */
		if (is_udp(r) && is_dst_addr(r, f->answered_by))
			snprintf(
			    buf, len,
			    "Start the %s listener on %s (%s) UDP port %u: %s answers UDP %u "
			    "from %s with ICMP port-unreachable (nothing listens there, or its "
			    "own firewall rejects the port).",
			    svc_of(r), dst_of(r), daddr_of(r), r->port, daddr_of(r), r->port,
			    src_of(r));
		else if (is_dst_addr(r, f->answered_by))
			snprintf(
			    buf, len,
			    "Remove the REJECT rule in %s's own firewall (or start the %s "
			    "listener there): %s answers %s %u from %s with ICMP port-unreachable.",
			    dst_of(r), svc_of(r), daddr_of(r), l4_of(r), r->port, src_of(r));
		else
			snprintf(buf, len,
			         "Remove the REJECT rule on the firewall at %s: it answers %s %u "
			         "from %s to %s (%s) with ICMP port-unreachable.",
			         f->answered_by ? f->answered_by : "?", l4_of(r), r->port,
			         src_of(r), dst_of(r), daddr_of(r));
		return;
	}
	if (is_udp(r)) {
		snprintf(buf, len,
		         "Start the %s listener on %s (%s) UDP port %u, or remove the REJECT rule "
		         "that answers %s with ICMP port-unreachable.",
		         svc_of(r), dst_of(r), daddr_of(r), r->port, src_of(r));
		return;
	}
	snprintf(buf, len,
	         "Start the %s listener on %s (%s) port %u, or remove the REJECT rule that "
	         "resets connections from %s (TCP reset from %s).",
	         svc_of(r), dst_of(r), daddr_of(r), r->port, src_of(r),
	         f->answered_by ? f->answered_by : daddr_of(r));
}

static void
fix_unreachable(const struct probe_result *r, char *buf, size_t len)
{
	const struct probe_facts *f = &r->facts;

	if (f->answer != NULL && strcmp(f->answer, "icmp-admin-prohibited") == 0) {
		snprintf(buf, len,
		         "Open %s %u from %s to %s (%s) on the firewall at %s: it rejects the "
		         "path with ICMP admin-prohibited.",
		         l4_of(r), r->port, src_of(r), dst_of(r), daddr_of(r),
		         f->answered_by ? f->answered_by : "?");
		return;
	}
	if (f->answered_by != NULL) {
		snprintf(buf, len,
		         "Fix routing from %s to %s (%s): %s answers with %s (or a firewall there "
		         "rejects %s %u that way).",
		         src_of(r), dst_of(r), daddr_of(r), f->answered_by,
		         f->answer ? f->answer : "ICMP unreachable", l4_of(r), r->port);
		return;
	}
	snprintf(buf, len,
	         "Fix routing from %s to %s (%s), or the firewall rule that answers %s %u with "
	         "ICMP unreachable.",
	         src_of(r), dst_of(r), daddr_of(r), l4_of(r), r->port);
}

static void
fix_tls_untrusted(const struct probe_result *r, char *buf, size_t len)
{
	/* one certificate sent, its issuer unknown: the intermediate is missing */
	if (r->tls.nchain == 1 &&
	    r->tls.verify_result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) {
		snprintf(buf, len,
		         "%s sent 1 certificate; its issuer %s was not sent and %s does not have "
		         "it: install the intermediate on %s so it sends the full chain (or, if "
		         "%s is not part of your PKI, reissue the certificate from the CA %s "
		         "trusts).",
		         dst_of(r), leaf_issuer(r), src_of(r), dst_of(r), leaf_issuer(r),
		         src_of(r));
		return;
	}
	snprintf(buf, len,
	         "Issue %s's certificate (issuer %s) from the CA %s trusts, or install that "
	         "CA's root and intermediates on %s.",
	         dst_of(r), r->tls.nchain ? leaf_issuer(r) : "unknown", src_of(r), src_of(r));
}

static void
fix_tls_name(const struct probe_result *r, char *buf, size_t len)
{
	char names[1024];

	snprintf(buf, len,
	         "Add %s to the subject alternative names of %s's certificate on port %u (it "
	         "names %s).",
	         r->target ? r->target : "the FQDN the sources use", dst_of(r), r->port,
	         leaf_names(r, names, sizeof names));
}

static void
fix_tls_expired(const struct probe_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "Renew the certificate %s presents on port %u (%s), or fix the clock on %s or "
	         "%s.",
	         dst_of(r), r->port, r->tls.verify_error ? r->tls.verify_error : "expired",
	         dst_of(r), src_of(r));
}

static void
fix_tls_client(const struct probe_result *r, char *buf, size_t len)
{
	char names[1024];
	size_t off = 0;

	names[0] = '\0';
	for (size_t i = 0; i < r->tls.nca_names && off < sizeof names; i++)
		off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", i ? "; " : "",
		                        r->tls.ca_names[i]);
	snprintf(
	    buf, len,
	    "Give %s a client certificate from a CA that %s trusts for MTLS on port %u%s%s%s%s.",
	    src_of(r), dst_of(r), r->port, names[0] ? " (it accepts: " : "", names,
	    names[0] ? ")" : "", r->tls.client_cert_sent ? "" : "; none was presented");
}

static void
fix_tls_failed(const struct probe_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "Check that %s port %u really serves %s over TLS 1.2 or later with a cipher %s "
	         "shares.",
	         dst_of(r), r->port, svc_of(r), src_of(r));
}

static void
fix_protocol(const struct probe_result *r, char *buf, size_t len)
{
	const struct probe_facts *f = &r->facts;

	if (f->status >= 500) {
		snprintf(buf, len,
		         "Fix the server behind %s (%s) port %u: it answered %s status %d%s%s%s.",
		         dst_of(r), daddr_of(r), r->port,
		         r->service == LM_SVC_SIP_MTLS ? "SIP" : "HTTP", f->status,
		         f->server ? " (" : "", f->server ? f->server : "", f->server ? ")" : "");
		return;
	}
	snprintf(buf, len,
	         "Check which service listens on %s (%s) port %u: it does not answer %s as "
	         "expected.",
	         dst_of(r), daddr_of(r), r->port, svc_of(r));
}

static void
fix_wrong_responder(const struct probe_result *r, char *buf, size_t len)
{
	const struct probe_facts *f = &r->facts;

	if (f->reached_host != NULL) {
		snprintf(buf, len,
		         "Fix the DNAT/port-forward, address or DNS record that sends %s:%u to %s "
		         "instead of %s: %s reached %s%s%s%s (leave %s's certificate as it is).",
		         daddr_of(r), r->port, f->reached_host, dst_of(r), src_of(r),
		         f->reached_host, f->reached_name ? " (its certificate names " : "",
		         f->reached_name ? f->reached_name : "", f->reached_name ? ")" : "",
		         f->reached_host);
		return;
	}
	snprintf(buf, len,
	         "Fix the address, DNS record or NAT/port-forward that sends %s:%u to another "
	         "host or service instead of %s's %s listener.",
	         daddr_of(r), r->port, dst_of(r), svc_of(r));
}

static void
fix_nat(const struct probe_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "Remove the NAT between %s (%s) and %s: the listener saw %s; Lync needs the real "
	         "source address on this path.",
	         src_of(r), r->src_addr ? r->src_addr : "?", dst_of(r),
	         r->peer_seen ? r->peer_seen : "another address");
}

static void
fix_idle_cut(const struct probe_result *r, char *buf, size_t len)
{
	snprintf(
	    buf, len,
	    "Raise the TCP idle timeout for TCP %u from %s to %s (%s) on the firewall (or load "
	    "balancer) on this path to at least 1800 s: Lync keeps SIP connections open and "
	    "idle for long.",
	    r->port, src_of(r), dst_of(r), daddr_of(r));
}

static void
fix_open_not_required(const struct probe_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "Narrow the firewall rule that lets TCP %u from %s to %s (%s) through: the "
	         "topology does not need it.",
	         r->port, src_of(r), dst_of(r), daddr_of(r));
}

static void
fix_foreign(const struct probe_result *r, char *buf, size_t len)
{
	(void)r;
	snprintf(buf, len,
	         "Nothing to fix at the network level: a real (non-mock) server "
	         "answered on this path.");
}

static void
fix_local(const struct probe_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "Fix the probe's own configuration on %s (certificate files, bind address, "
	         "permissions): %s.",
	         src_of(r), r->detail ? r->detail : "see the detail");
}

static void
fix_intercepted(const struct probe_result *r, char *buf, size_t len)
{
	const struct probe_facts *f = &r->facts;
	char what[1024] = "";
	size_t off = 0;

	if (f->server_swapped)
		off += (size_t)snprintf(what + off, sizeof what - off,
		                        "we got the certificate %s issued by %s, not %s's own",
		                        leaf_subject(r), leaf_issuer(r), dst_of(r));
	if (f->client_swapped && off < sizeof what)
		snprintf(what + off, sizeof what - off,
		         "%s%s's listener saw the client certificate %s instead of ours",
		         off ? "; " : "", dst_of(r),
		         f->seen_client_cert ? f->seen_client_cert : "(none)");
	snprintf(buf, len,
	         "Exempt TCP %u from %s to %s (%s) from TLS decryption on the inspecting "
	         "middlebox (%s): Lync MTLS does not survive TLS inspection.",
	         r->port, src_of(r), dst_of(r), daddr_of(r), what[0] ? what : "TLS was terminated");
}

static void
fix_proxied(const struct probe_result *r, char *buf, size_t len)
{
	const struct probe_facts *f = &r->facts;

	snprintf(buf, len,
	         "An HTTP proxy at %s sits between %s and %s port %u (it added %s): route the "
	         "path directly, or say `via: proxy` on rule %s if the proxy is the design.",
	         f->answered_by ? f->answered_by : "?", src_of(r), dst_of(r), r->port,
	         f->headers ? f->headers : "proxy headers", r->rule_id ? r->rule_id : "this");
}

static void
fix_wrong_purpose(const struct probe_result *r, char *buf, size_t len)
{
	char ekus[512] = "";
	size_t off = 0;

	if (r->tls.nchain > 0)
		for (size_t i = 0; i < r->tls.chain[0].nekus && off < sizeof ekus; i++)
			off += (size_t)snprintf(ekus + off, sizeof ekus - off, "%s%s",
			                        i ? ", " : "", r->tls.chain[0].ekus[i]);
	snprintf(buf, len,
	         "%s's certificate lacks Server Authentication (EKU has only %s): reissue it "
	         "with serverAuth.",
	         dst_of(r), ekus[0] ? ekus : "other purposes");
}

static void
fix_cut(const struct probe_result *r, char *buf, size_t len)
{
	const struct probe_facts *f = &r->facts;
	bool rst = f->answer != NULL && strcmp(f->answer, "rst") == 0;

	if (f->sent == NULL) {
		/* it hung up without one byte of ours: nothing read them */
		snprintf(buf, len,
		         "Something at %s (%s) port %u accepts TCP from %s and then %s it before "
		         "our first bytes: look for TCP wrappers (hosts.allow/hosts.deny), a "
		         "connection limit or a service on %s that refuses %s at once.",
		         dst_of(r), daddr_of(r), r->port, src_of(r), rst ? "resets" : "closes",
		         dst_of(r), src_of(r));
		return;
	}
	snprintf(buf, len,
	         "Something at %s (%s) port %u accepts TCP from %s and then %s it after our "
	         "first bytes: look for an IPS or application-aware firewall on the path, TCP "
	         "wrappers (hosts.allow/hosts.deny) or a service on %s that refuses %s.",
	         dst_of(r), daddr_of(r), r->port, src_of(r), rst ? "resets" : "closes", dst_of(r),
	         src_of(r));
}

static void
fix_no_answer(const struct probe_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "Check the %s service on %s (%s) port %u: it accepts TCP from %s but sent "
	         "nothing in %.0f ms (a hung service, or a firewall that passes the handshake "
	         "and drops the data).",
	         svc_of(r), dst_of(r), daddr_of(r), r->port, src_of(r), r->facts.waited_ms);
}

static void
fix_mtu(const struct probe_result *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "Packets larger than about %u bytes are lost between %s (%s) and %s (%s): fix "
	         "PMTU discovery (let ICMP fragmentation-needed through) or the MTU/MSS "
	         "clamping on the path.",
	         r->facts.mtu ? r->facts.mtu : 576, src_of(r), r->src_addr ? r->src_addr : "?",
	         dst_of(r), daddr_of(r));
}

/* ---- the table ------------------------------------------------------------ */

static const struct outcome_row rows[LM_OUT__COUNT] = {
    [LM_OUT_PASS] = {{"pass", "reached the expected listener, TLS as expected, identity matches",
                      LM_VC_PASS, false},
                     "Nothing to fix: the path is open and reaches the expected listener.",
                     fix_pass},
    [LM_OUT_FILTERED] = {{"filtered", "no answer before the timeout (a DROP on the path)",
                          LM_VC_BLOCKED, true},
                         "Open the port on every firewall between source and destination; "
                         "packets are being dropped silently.",
                         fix_filtered},
    [LM_OUT_REFUSED] = {{"refused",
                         "TCP reset or ICMP port-unreachable (REJECT on the path, or nothing "
                         "listening)",
                         LM_VC_BLOCKED, true},
                        "Start the service on the destination, or remove the REJECT rule "
                        "that answers it (TCP reset, or ICMP port-unreachable on UDP).",
                        fix_refused},
    [LM_OUT_UNREACHABLE] = {{"unreachable", "ICMP unreachable or no route", LM_VC_BLOCKED, true},
                            "Fix routing to the destination, or the firewall rule that answers "
                            "with ICMP unreachable.",
                            fix_unreachable},
    [LM_OUT_TLS_UNTRUSTED] = {{"tls-untrusted",
                               "the server chain does not verify against the trusted CA",
                               LM_VC_FAIL, false},
                              "Issue the destination's certificate from the CA the sources "
                              "trust, or install that CA's root and intermediates on the "
                              "sources.",
                              fix_tls_untrusted},
    [LM_OUT_TLS_NAME_MISMATCH] = {{"tls-name-mismatch",
                                   "the server certificate does not name the expected FQDN",
                                   LM_VC_FAIL, false},
                                  "Add the FQDN the sources use (pool FQDN, server FQDN or "
                                  "web-services name) to the certificate's subject "
                                  "alternative names.",
                                  fix_tls_name},
    [LM_OUT_TLS_EXPIRED] = {{"tls-expired",
                             "a certificate in the chain is expired or not yet valid", LM_VC_FAIL,
                             false},
                            "Renew the expired certificate (or fix the clock) on the destination.",
                            fix_tls_expired},
    [LM_OUT_TLS_CLIENT_REJECTED] = {{"tls-client-rejected",
                                     "the server refused our client certificate (or we had "
                                     "none to send)",
                                     LM_VC_FAIL, false},
                                    "Give the source a certificate from a CA the destination "
                                    "trusts for MTLS, with the EKU it requires.",
                                    fix_tls_client},
    [LM_OUT_TLS_FAILED] = {{"tls-failed",
                            "the TLS handshake failed (version, cipher, plaintext on a TLS port)",
                            LM_VC_FAIL, false},
                           "Make both ends agree on TLS 1.2 or later and a common cipher, and "
                           "check that the port really serves TLS.",
                           fix_tls_failed},
    [LM_OUT_PROTOCOL_ERROR] = {{"protocol-error",
                                "connected, but the answer is not the expected protocol",
                                LM_VC_FAIL, false},
                               "Check which service listens on this port on the destination: "
                               "it does not speak the expected protocol.",
                               fix_protocol},
    [LM_OUT_WRONG_RESPONDER] = {{"wrong-responder",
                                 "a valid answer from the wrong host, role or listener", LM_VC_FAIL,
                                 false},
                                "Fix the address, DNS record or NAT/port-forward that sends "
                                "this path to another host or service.",
                                fix_wrong_responder},
    [LM_OUT_NAT_DETECTED] = {{"nat-detected",
                              "the listener saw a different source address (NAT on the path)",
                              LM_VC_FAIL, false},
                             "Remove the NAT on this path: Lync does not support NAT on the "
                             "Edge internal side or between servers.",
                             fix_nat},
    [LM_OUT_IDLE_CUT] = {{"idle-cut",
                          "a connection held idle was dropped silently before the idle time "
                          "Lync needs",
                          LM_VC_FAIL, false},
                         "Raise the TCP idle timeout on the firewall (or load balancer) on this "
                         "path to at least 1800 s: Lync keeps SIP connections open and idle for "
                         "long.",
                         fix_idle_cut},
    [LM_OUT_OPEN_NOT_REQUIRED] = {{"open-not-required",
                                   "a port the scenario does not need is open between two hosts",
                                   LM_VC_FAIL, false},
                                  "Narrow the firewall rule that lets this port through: the "
                                  "topology does not need it.",
                                  fix_open_not_required},
    [LM_OUT_FOREIGN_PEER] = {{"foreign-peer",
                              "reached a non-mock server that answered the protocol correctly",
                              LM_VC_FOREIGN, false},
                             "Nothing to fix at the network level: a real (non-mock) server "
                             "answered on this path.",
                             fix_foreign},
    [LM_OUT_LOCAL_ERROR] = {{"local-error", "the probe could not run on this host", LM_VC_FAIL,
                             false},
                            "Fix the probe's own configuration on the source host "
                            "(certificate files, bind address, permissions).",
                            fix_local},
    [LM_OUT_TLS_INTERCEPTED] = {{"tls-intercepted",
                                 "a middlebox terminated TLS: the certificates the listener "
                                 "saw are not the ones exchanged",
                                 LM_VC_FAIL, false},
                                "Exempt the path from TLS decryption on the inspecting "
                                "middlebox: Lync MTLS does not survive TLS inspection.",
                                fix_intercepted},
    [LM_OUT_PROXIED] = {{"proxied", "the answer came through an HTTP proxy", LM_VC_PROXY, false},
                        "Route the path directly, or mark the rule `via: proxy` if a proxy is "
                        "the design.",
                        fix_proxied},
    [LM_OUT_TLS_WRONG_PURPOSE] = {{"tls-wrong-purpose",
                                   "the server certificate lacks the Server Authentication EKU",
                                   LM_VC_FAIL, false},
                                  "Reissue the server certificate with the Server "
                                  "Authentication (serverAuth) EKU.",
                                  fix_wrong_purpose},
    [LM_OUT_CUT_AFTER_CONNECT] = {{"cut-after-connect",
                                   "TCP connected, then closed or reset before any answer",
                                   LM_VC_FAIL, false},
                                  "Find what accepts the connection and then cuts it (an IPS, "
                                  "TCP wrappers, a service refusing the source).",
                                  fix_cut},
    [LM_OUT_NO_ANSWER] = {{"no-answer", "TCP connected, bytes sent, nothing came back", LM_VC_FAIL,
                           false},
                          "Check the service on the destination: it accepts TCP but answers "
                          "nothing.",
                          fix_no_answer},
    [LM_OUT_MTU_BLACKHOLE] = {{"mtu-blackhole",
                               "no answer with the normal MSS, an answer with a small one",
                               LM_VC_FAIL, false},
                              "Fix PMTU discovery (ICMP fragmentation-needed) or the MTU/MSS "
                              "clamping on the path: large packets are lost.",
                              fix_mtu},
};

const struct lm_outcome_info *
lm_outcome_info(enum lm_outcome out)
{
	if ((unsigned)out >= LM_OUT__COUNT)
		return NULL;
	return &rows[out].info;
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
		if (rows[i].info.name != NULL && strcmp(rows[i].info.name, name) == 0) {
			*out = (enum lm_outcome)i;
			return 0;
		}
	}
	return -1;
}

bool
report_outcome_ok(const struct probe_result *r, bool foreign_ok)
{
	const struct lm_outcome_info *oi = lm_outcome_info(r->outcome);

	if (oi == NULL)
		return false;
	if (r->expect_blocked)
		return oi->verdict == LM_VC_BLOCKED;
	switch (oi->verdict) {
	case LM_VC_PASS:
		return true;
	case LM_VC_FOREIGN:
		return foreign_ok;
	case LM_VC_PROXY:
		return r->via_proxy;
	default:
		return false;
	}
}

char *
report_fix_build(const struct probe_result *r)
{
	char buf[2048];

	if (r->ok)
		return strdup("");
	if ((unsigned)r->outcome >= LM_OUT__COUNT)
		return strdup("");
	if (r->expect_blocked && r->outcome != LM_OUT_LOCAL_ERROR) {
		snprintf(
		    buf, sizeof buf,
		    "Block %s %u from %s to %s (%s): rule %s must stay closed, but the path is "
		    "open (%s).",
		    l4_of(r), r->port, src_of(r), dst_of(r), daddr_of(r),
		    r->rule_id ? r->rule_id : "?", lm_outcome_name(r->outcome));
		return strdup(buf);
	}
	rows[r->outcome].fix(r, buf, sizeof buf);
	return strdup(buf);
}

const char *
report_fix_sentence(const struct probe_result *r)
{
	if (r->ok)
		return "";
	if (r->fix != NULL && r->fix[0] != '\0')
		return r->fix;
	/* A path that must be blocked but answered: the outcome's own fix would say "nothing to
	 * fix". */
	if (r->expect_blocked)
		return "This path must be blocked: add a firewall rule that drops or rejects it.";
	if ((unsigned)r->outcome >= LM_OUT__COUNT)
		return "";
	return rows[r->outcome].generic;
}
