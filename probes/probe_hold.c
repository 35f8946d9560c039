/* probe --hold: a SIP connection held idle, then asked again; a series of idle times in parallel
 * brackets where a firewall forgets it (idle-cut). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "probes/probe_int.h"

#define HOLD_STEPS 4    /* hold/8, hold/4, hold/2, hold */
#define HOLD_MIN_MS 250 /* shorter steps say nothing about a firewall */

static char *
dup_or_null(const char *s, bool *oom)
{
	char *d;
	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*oom = true;
	return d;
}

static bool
holdable(const struct probe *p)
{
	/* SIP connections are the long-lived ones Lync keeps idle */
	return !p->res.expect_blocked && p->proto != NULL &&
	       (p->proto->service == LM_SVC_SIP_MTLS || p->proto->service == LM_SVC_SIP_TLS);
}

int
probe_hold_plan(struct probe_engine *e, struct probe *p, unsigned hold_ms)
{
	unsigned step = hold_ms;

	if (!holdable(p))
		return 0;
	p->hold_ms = p->res.hold_ms = hold_ms;
	for (int k = 1; k < HOLD_STEPS; k++) {
		struct probe *c;
		bool oom = false;

		step /= 2;
		if (step < HOLD_MIN_MS)
			break;
		if ((c = probe_engine_add(e)) == NULL || probe_make_token(c->token) == -1)
			return -1;
		/* the same plan, its own strings and token */
		c->proto = p->proto;
		c->dst = p->dst;
		c->dstlen = p->dstlen;
		c->src = p->src;
		c->srclen = p->srclen;
		c->bind_src = p->bind_src;
		c->tls_name_is_ip = p->tls_name_is_ip;
		c->adhoc = p->adhoc;
		c->want_host = p->want_host;
		c->want_role = p->want_role;
		c->tls_name = dup_or_null(p->tls_name, &oom);
		c->uri_host = dup_or_null(p->uri_host, &oom);
		c->http_host = dup_or_null(p->http_host, &oom);
		c->res.rule_id = dup_or_null(p->res.rule_id, &oom);
		c->res.service = p->res.service;
		c->res.port = p->res.port;
		c->res.src_host = dup_or_null(p->res.src_host, &oom);
		c->res.src_addr = dup_or_null(p->res.src_addr, &oom);
		c->res.dst_host = dup_or_null(p->res.dst_host, &oom);
		c->res.dst_addr = dup_or_null(p->res.dst_addr, &oom);
		c->res.src_role = dup_or_null(p->res.src_role, &oom);
		c->res.dst_role = dup_or_null(p->res.dst_role, &oom);
		c->res.target = dup_or_null(p->res.target, &oom);
		c->res.detail = dup_or_null(p->res.detail, &oom);
		c->res.expect_blocked = p->res.expect_blocked;
		c->hold_ms = c->res.hold_ms = step;
		if (oom)
			return -1;
	}
	return 0;
}

static void
hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	unsigned ms = probe_engine_timeout_ms(p);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	(void)fd;
	(void)what;
	if (p->finished)
		return;
	probe_debug(p, "held idle %u ms: asking again", p->hold_ms);
	p->deadline = lm_now_ms() + ms;
	evtimer_add(p->ev_deadline, &tv);
	probe_exchange_start(p);
}

bool
probe_hold_begin(struct probe *p)
{
	struct timeval tv = {p->hold_ms / 1000, (p->hold_ms % 1000) * 1000};
	struct evbuffer *in;

	if (p->bev == NULL || p->ev_deadline == NULL)
		return false;
	if ((p->ev_hold = evtimer_new(probe_engine_base(p), hold_cb, p)) == NULL)
		return false;
	p->held = true;
	p->state = PS_HOLD; /* read_cb ignores bytes; a close or reset still ends it */
	in = bufferevent_get_input(p->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_set_timeouts(p->bev, NULL, NULL);
	evtimer_del(p->ev_deadline);
	evtimer_add(p->ev_hold, &tv);
	probe_debug(p, "answered: now idle for %u ms", p->hold_ms);
	return true;
}

void
probe_hold_outcome(struct probe *p, enum lm_outcome *out, char *detail, size_t len)
{
	char was[768];

	snprintf(was, sizeof was, "%s", detail);
	if (*out == LM_OUT_PASS) {
		snprintf(detail, len, "answered again after %.1f s idle (%s)", p->hold_ms / 1000.0,
		         was);
		return;
	}
	*out = LM_OUT_IDLE_CUT;
	snprintf(detail, len, "answered, then after %.1f s idle no answer to the same request: %s",
	         p->hold_ms / 1000.0, was);
}

static bool
eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* One path: rule and hosts (ad hoc: no rule, the address and port). */
static bool
same_path(const struct probe_result *a, const struct probe_result *b)
{
	return eq(a->rule_id, b->rule_id) && eq(a->src_host, b->src_host) &&
	       eq(a->dst_host, b->dst_host) && eq(a->dst_addr, b->dst_addr) && a->port == b->port;
}

/* One series: keep the result that tells most (the first cut, else the longest hold). */
static void
merge_series(struct probe_run *run, size_t *idx, size_t n, bool *drop)
{
	size_t keep = idx[0], cut = (size_t)-1, ok = (size_t)-1, other = (size_t)-1;
	char tried[128] = "", buf[1024], *d;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		const struct probe_result *r = &run->results[idx[i]];
		o += (size_t)snprintf(tried + o, o < sizeof tried ? sizeof tried - o : 0, "%s%g",
		                      i ? ", " : "", r->hold_ms / 1000.0);
		if (o >= sizeof tried)
			o = sizeof tried - 1;
		if (r->outcome == LM_OUT_PASS) {
			if (ok == (size_t)-1 || r->hold_ms > run->results[ok].hold_ms)
				ok = idx[i];
		} else if (r->outcome == LM_OUT_IDLE_CUT) {
			if (cut == (size_t)-1 || r->hold_ms < run->results[cut].hold_ms)
				cut = idx[i];
		} else if (other == (size_t)-1) {
			other = idx[i];
		}
	}
	if (other != (size_t)-1) {
		keep = other; /* the path fails before any hold: that is the finding */
	} else if (cut != (size_t)-1) {
		struct probe_result *c = &run->results[cut];
		keep = cut;
		if (ok != (size_t)-1 && run->results[ok].hold_ms < c->hold_ms)
			snprintf(
			    buf, sizeof buf,
			    "cut between %g s and %g s idle: answered after %g s, not after %g s "
			    "(held %s s in parallel; Lync needs 1800 s). %s",
			    run->results[ok].hold_ms / 1000.0, c->hold_ms / 1000.0,
			    run->results[ok].hold_ms / 1000.0, c->hold_ms / 1000.0, tried,
			    c->detail ? c->detail : "");
		else
			snprintf(
			    buf, sizeof buf,
			    "cut within %g s idle: no answer after the shortest hold (held %s s in "
			    "parallel; Lync needs 1800 s). %s",
			    c->hold_ms / 1000.0, tried, c->detail ? c->detail : "");
		if ((d = strdup(buf)) != NULL) {
			free(c->detail);
			c->detail = d;
		}
	} else if (ok != (size_t)-1) {
		struct probe_result *r = &run->results[ok];
		keep = ok;
		snprintf(buf, sizeof buf, "held idle %s s: answered every time. %s", tried,
		         r->detail ? r->detail : "");
		if ((d = strdup(buf)) != NULL) {
			free(r->detail);
			r->detail = d;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (idx[i] != keep)
			drop[idx[i]] = true;
}

int
probe_hold_merge(struct probe_run *run, size_t from)
{
	bool *drop, *seen;
	size_t *idx, w = from;

	if (run->n <= from)
		return 0;
	drop = calloc(run->n, sizeof *drop);
	seen = calloc(run->n, sizeof *seen);
	idx = calloc(run->n, sizeof *idx);
	if (drop == NULL || seen == NULL || idx == NULL) {
		free(drop);
		free(seen);
		free(idx);
		return -1;
	}
	for (size_t i = from; i < run->n; i++) {
		size_t n = 0;
		if (seen[i] || run->results[i].hold_ms == 0)
			continue;
		for (size_t j = i; j < run->n; j++)
			if (!seen[j] && run->results[j].hold_ms > 0 &&
			    same_path(&run->results[i], &run->results[j])) {
				seen[j] = true;
				idx[n++] = j;
			}
		/* shortest hold first, for the list in the detail */
		for (size_t a = 1; a < n; a++)
			for (size_t b = a; b > 0 && run->results[idx[b - 1]].hold_ms >
			                                run->results[idx[b]].hold_ms;
			     b--) {
				size_t t = idx[b];
				idx[b] = idx[b - 1];
				idx[b - 1] = t;
			}
		merge_series(run, idx, n, drop);
	}
	for (size_t i = from; i < run->n; i++) {
		if (drop[i]) {
			probe_result_clear(&run->results[i]);
			continue;
		}
		if (w != i)
			run->results[w] = run->results[i];
		w++;
	}
	run->n = w;
	free(drop);
	free(seen);
	free(idx);
	return 0;
}
