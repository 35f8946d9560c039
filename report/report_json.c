/* The JSON report (schema "lyncmock-report/2", docs/report-json.md): writer and strict reader
 * (which also reads and merges version 1 reports). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "report/report.h"

#define JSON_MAX_INPUT (64u * 1024 * 1024) /* a merged matrix is kilobytes; refuse absurd input */

/* ---- writer ------------------------------------------------------------- */

/* Sets o[k] = v, stealing v; a NULL v (allocation failure) marks the build bad. */
static void
put(json_t *o, const char *k, json_t *v, bool *bad)
{
	if (v == NULL || json_object_set_new(o, k, v) == -1)
		*bad = true;
}

static void
push(json_t *a, json_t *v, bool *bad)
{
	if (v == NULL || json_array_append_new(a, v) == -1)
		*bad = true;
}

/* A JSON string from text a peer may have sent (jansson needs valid UTF-8); NULL → null. */
static json_t *
jstr(const char *s)
{
	char *clean;
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((clean = report_clean_text(s, false, true)) == NULL)
		return NULL;
	j = json_string(clean);
	free(clean);
	return j;
}

/* Milliseconds to 1 µs; negative means "not reached" → null. */
static json_t *
jms(double ms)
{
	if (!(ms >= 0) || !isfinite(ms))
		return json_null();
	return json_real(round(ms * 1000.0) / 1000.0);
}

static json_t *
jstrv(char *const *v, size_t n, bool *bad)
{
	json_t *a = json_array();

	if (a == NULL) {
		*bad = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		push(a, jstr(v[i]), bad);
	return a;
}

static bool
tls_empty(const struct probe_tls *t)
{
	return t->version == NULL && t->cipher == NULL && !t->client_cert_requested &&
	       !t->client_cert_sent && t->nca_names == 0 && t->nchain == 0 &&
	       t->verify_result == 0 && t->verify_error == NULL;
}

static json_t *
tls_json(const struct probe_tls *t, bool *bad)
{
	json_t *o, *verify, *chain;

	if (tls_empty(t))
		return json_null();
	if ((o = json_object()) == NULL)
		return NULL;
	put(o, "version", jstr(t->version), bad);
	put(o, "cipher", jstr(t->cipher), bad);
	put(o, "client_cert_requested", json_boolean(t->client_cert_requested), bad);
	put(o, "client_cert_sent", json_boolean(t->client_cert_sent), bad);
	put(o, "acceptable_ca_names", jstrv(t->ca_names, t->nca_names, bad), bad);
	if ((verify = json_object()) != NULL) {
		put(verify, "result", json_integer(t->verify_result), bad);
		put(verify, "error", jstr(t->verify_error), bad);
	}
	put(o, "verify", verify, bad);
	if ((chain = json_array()) != NULL) {
		for (size_t i = 0; i < t->nchain; i++) {
			const struct probe_cert *c = &t->chain[i];
			json_t *jc = json_object();
			if (jc != NULL) {
				put(jc, "subject", jstr(c->subject), bad);
				put(jc, "issuer", jstr(c->issuer), bad);
				put(jc, "sans", jstrv(c->sans, c->nsans, bad), bad);
				put(jc, "ekus", jstrv(c->ekus, c->nekus, bad), bad);
				put(jc, "not_after", jstr(c->not_after), bad);
			}
			push(chain, jc, bad);
		}
	}
	put(o, "chain", chain, bad);
	return o;
}

static bool
facts_empty(const struct probe_facts *f)
{
	return f->answered_by == NULL && f->answer == NULL && f->sent == NULL &&
	       f->waited_ms <= 0 && f->mtu == 0 && f->reached_host == NULL &&
	       f->reached_name == NULL && !f->server_swapped && !f->client_swapped &&
	       f->seen_client_cert == NULL && f->headers == NULL && f->status == 0 &&
	       f->server == NULL;
}

/* Schema 2: what the probe learnt beyond the outcome (the fix sentence's facts). */
static json_t *
facts_json(const struct probe_facts *f, bool *bad)
{
	json_t *o;

	if (facts_empty(f))
		return json_null();
	if ((o = json_object()) == NULL)
		return NULL;
	put(o, "answered_by", jstr(f->answered_by), bad);
	put(o, "answer", jstr(f->answer), bad);
	put(o, "sent", jstr(f->sent), bad);
	put(o, "waited_ms", f->waited_ms > 0 ? jms(f->waited_ms) : json_null(), bad);
	put(o, "mtu", f->mtu ? json_integer(f->mtu) : json_null(), bad);
	put(o, "reached_host", jstr(f->reached_host), bad);
	put(o, "reached_name", jstr(f->reached_name), bad);
	put(o, "server_cert_swapped", json_boolean(f->server_swapped), bad);
	put(o, "client_cert_swapped", json_boolean(f->client_swapped), bad);
	put(o, "seen_client_cert", jstr(f->seen_client_cert), bad);
	put(o, "headers", jstr(f->headers), bad);
	put(o, "status", f->status ? json_integer(f->status) : json_null(), bad);
	put(o, "server", jstr(f->server), bad);
	return o;
}

static json_t *
endpoint_json(const char *host, const char *addr, const char *role, bool *bad)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	put(o, "host", jstr(host), bad);
	put(o, "address", jstr(addr), bad);
	put(o, "role", jstr(role), bad);
	return o;
}

static json_t *
result_json(const struct probe_result *r, bool *bad)
{
	json_t *o = json_object(), *to, *tm, *ident = NULL;

	if (o == NULL)
		return NULL;
	put(o, "rule", jstr(r->rule_id), bad);
	put(o, "service", json_string(lm_service_name(r->service)), bad);
	put(o, "port", json_integer(r->port), bad);
	put(o, "from", endpoint_json(r->src_host, r->src_addr, r->src_role, bad), bad);
	if ((to = endpoint_json(r->dst_host, r->dst_addr, r->dst_role, bad)) != NULL)
		put(to, "target", jstr(r->target), bad);
	put(o, "to", to, bad);
	put(o, "expect", json_string(r->expect_blocked ? "blocked" : "open"), bad);
	put(o, "via", r->via_proxy ? json_string("proxy") : json_null(), bad);
	put(o, "outcome", json_string(lm_outcome_name(r->outcome)), bad);
	put(o, "verdict", json_string(report_verdict_name(r)), bad);
	put(o, "detail", jstr(r->detail), bad);
	put(o, "fix", jstr(report_fix_sentence(r)), bad);
	if ((tm = json_object()) != NULL) {
		put(tm, "connect_ms", jms(r->t_connect_ms), bad);
		put(tm, "handshake_ms", jms(r->t_handshake_ms), bad);
		put(tm, "first_answer_ms", jms(r->t_first_ms), bad);
		put(tm, "total_ms", jms(r->t_total_ms), bad);
	}
	put(o, "timings", tm, bad);
	put(o, "facts", facts_json(&r->facts, bad), bad);
	put(o, "tls", tls_json(&r->tls, bad), bad);
	put(o, "peer_seen", jstr(r->peer_seen), bad);
	if (r->firewall_rule != NULL)
		put(o, "firewall_rule", jstr(r->firewall_rule), bad);
	/* identity is JSON the listener sent; keep it structured when it is an object */
	if (r->identity != NULL)
		ident = json_loads(r->identity, JSON_REJECT_DUPLICATES, NULL);
	if (ident != NULL && json_is_object(ident)) {
		put(o, "identity", ident, bad);
	} else {
		json_decref(ident);
		put(o, "identity", json_null(), bad);
		if (r->identity != NULL)
			put(o, "identity_text", jstr(r->identity), bad);
	}
	return o;
}

static json_t *
run_json(const struct probe_run *run)
{
	json_t *o = json_object(), *tool, *sum, *by, *results;
	size_t *idx = NULL, count[LM_OUT__COUNT] = {0}, failed = probe_run_failures(run);
	bool bad = false;

	if (o == NULL)
		return NULL;
	if (run->n > 0 && (idx = report_sorted_index(run)) == NULL)
		goto fail;
	put(o, "schema", json_string(REPORT_JSON_SCHEMA), &bad);
	if ((tool = json_object()) != NULL) {
		put(tool, "name", json_string("lyncmock"), &bad);
		put(tool, "version", json_string(LM_VERSION), &bad);
	}
	put(o, "tool", tool, &bad);
	put(o, "scenario", jstr(run->scenario), &bad);
	put(o, "source_host", jstr(run->source_host), &bad);
	put(o, "started", jstr(run->started), &bad);
	put(o, "duration_ms", jms(run->duration_ms), &bad);
	put(o, "partial", json_boolean(run->partial), &bad);
	put(o, "note", jstr(run->note), &bad);
	for (size_t i = 0; i < run->n; i++)
		if ((unsigned)run->results[i].outcome < LM_OUT__COUNT)
			count[run->results[i].outcome]++;
	if ((sum = json_object()) != NULL) {
		put(sum, "total", json_integer((json_int_t)run->n), &bad);
		put(sum, "ok", json_integer((json_int_t)(run->n - failed)), &bad);
		put(sum, "failed", json_integer((json_int_t)failed), &bad);
		if ((by = json_object()) != NULL)
			for (int i = 0; i < LM_OUT__COUNT; i++)
				put(by, lm_outcome_name((enum lm_outcome)i),
				    json_integer((json_int_t)count[i]), &bad);
		put(sum, "by_outcome", by, &bad);
	}
	put(o, "summary", sum, &bad);
	if ((results = json_array()) != NULL)
		for (size_t i = 0; i < run->n; i++)
			push(results, result_json(&run->results[idx[i]], &bad), &bad);
	put(o, "results", results, &bad);
	if (bad)
		goto fail;
	free(idx);
	return o;
fail:
	free(idx);
	json_decref(o);
	return NULL;
}

/*
 * The document of a large run is hundreds of thousands of small jansson
 * values made, dumped and freed at once: they come from a bump arena for the
 * render (jansson's allocator is process-wide, and nothing else uses jansson
 * meanwhile), so that freeing them is dropping the arena.
 */
#define ARENA_CHUNK (1u << 20)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

static struct arena_chunk *arena;
static bool arena_failed;

static void *
arena_malloc(size_t n)
{
	struct arena_chunk *c = arena;
	size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	void *p;

	if (c == NULL || c->cap - c->used < need) {
		size_t cap = need > ARENA_CHUNK ? need : ARENA_CHUNK;
		if ((c = malloc(sizeof *c + cap)) == NULL) {
			arena_failed = true;
			return NULL;
		}
		c->next = arena;
		c->used = 0;
		c->cap = cap;
		arena = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

static void
arena_free(void *p)
{
	(void)p; /* freed with the arena */
}

static void
arena_drop(void)
{
	while (arena != NULL) {
		struct arena_chunk *next = arena->next;
		free(arena);
		arena = next;
	}
}

int
report_json_render(const struct probe_run *run, char **out, size_t *outlen)
{
	json_malloc_t saved_malloc;
	json_free_t saved_free;
	json_t *doc;
	char *text = NULL;
	size_t len;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	json_get_alloc_funcs(&saved_malloc, &saved_free);
	json_set_alloc_funcs(arena_malloc, arena_free);
	arena_failed = false;
	if ((doc = run_json(run)) != NULL)
		text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	json_set_alloc_funcs(saved_malloc, saved_free);
	if (text != NULL && !arena_failed) {
		len = strlen(text);
		if ((*out = malloc(len + 2)) != NULL) {
			memcpy(*out, text, len);
			(*out)[len] = '\n';
			(*out)[len + 1] = '\0';
			*outlen = len + 1;
			rc = 0;
		}
	}
	arena_drop(); /* doc and text with it */
	return rc;
}

/* ---- reader ------------------------------------------------------------- */

/* Where an error is reported: "NAME: results[3].outcome: message". */
struct rd {
	const char *name;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
rd_error(struct rd *rd, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (path != NULL && path[0] != '\0')
		lm_fmt(rd->err, rd->errlen, "%s: %s: %s", rd->name, path, msg);
	else
		lm_fmt(rd->err, rd->errlen, "%s: %s", rd->name, msg);
	return -1;
}

static const char *
type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* Builds "parent.key" (or "key" at the top) into buf. */
static const char *
sub(char *buf, size_t len, const char *parent, const char *key)
{
	if (parent == NULL || parent[0] == '\0')
		return lm_fmt(buf, len, "%s", key);
	return lm_fmt(buf, len, "%s.%s", parent, key);
}

/* Reads a string member into *out (malloc'd); missing or null gives NULL when optional. */
static int
get_str(struct rd *rd, const json_t *o, const char *parent, const char *key, bool required,
        char **out)
{
	char path[256];
	const json_t *j = json_object_get(o, key);

	*out = NULL;
	if (j == NULL || json_is_null(j)) {
		if (!required)
			return 0;
		return rd_error(rd, sub(path, sizeof path, parent, key),
		                "missing (a string is required)");
	}
	if (!json_is_string(j))
		return rd_error(rd, sub(path, sizeof path, parent, key),
		                "expected a string, got %s", type_name(j));
	if (strlen(json_string_value(j)) != json_string_length(j))
		return rd_error(rd, sub(path, sizeof path, parent, key),
		                "contains a NUL character");
	if ((*out = strdup(json_string_value(j))) == NULL)
		return rd_error(rd, NULL, "out of memory");
	return 0;
}

static int
get_strv(struct rd *rd, const json_t *o, const char *parent, const char *key, char ***out,
         size_t *n)
{
	char path[256], ipath[288];
	const json_t *a = json_object_get(o, key), *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	sub(path, sizeof path, parent, key);
	if (!json_is_array(a))
		return rd_error(rd, path, "expected an array of strings, got %s", type_name(a));
	if (json_array_size(a) == 0)
		return 0;
	if ((*out = calloc(json_array_size(a), sizeof **out)) == NULL)
		return rd_error(rd, NULL, "out of memory");
	json_array_foreach(a, i, v)
	{
		lm_fmt(ipath, sizeof ipath, "%s[%zu]", path, i);
		if (!json_is_string(v))
			return rd_error(rd, ipath, "expected a string, got %s", type_name(v));
		if (strlen(json_string_value(v)) != json_string_length(v))
			return rd_error(rd, ipath, "contains a NUL character");
		if (((*out)[i] = strdup(json_string_value(v))) == NULL)
			return rd_error(rd, NULL, "out of memory");
		(*n)++;
	}
	return 0;
}

/* A number of milliseconds, or null / missing → -1 (not reached). */
static int
get_ms(struct rd *rd, const json_t *o, const char *parent, const char *key, double *out)
{
	char path[256];
	const json_t *j = json_object_get(o, key);

	*out = -1;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_number(j))
		return rd_error(rd, sub(path, sizeof path, parent, key),
		                "expected a number of milliseconds or null, got %s", type_name(j));
	*out = json_number_value(j);
	if (!(*out >= 0) || !isfinite(*out))
		return rd_error(rd, sub(path, sizeof path, parent, key), "must not be negative");
	return 0;
}

static int
get_bool(struct rd *rd, const json_t *o, const char *parent, const char *key, bool *out)
{
	char path[256];
	const json_t *j = json_object_get(o, key);

	*out = false;
	if (j == NULL)
		return 0;
	if (!json_is_boolean(j))
		return rd_error(rd, sub(path, sizeof path, parent, key),
		                "expected true or false, got %s", type_name(j));
	*out = json_is_true(j);
	return 0;
}

/* An object member that must be an object when present; *out NULL when missing or null. */
static int
get_obj(struct rd *rd, const json_t *o, const char *parent, const char *key, bool required,
        const json_t **out)
{
	char path[256];
	const json_t *j = json_object_get(o, key);

	*out = NULL;
	if (j == NULL || json_is_null(j)) {
		if (required)
			return rd_error(rd, sub(path, sizeof path, parent, key),
			                "missing (an object is required)");
		return 0;
	}
	if (!json_is_object(j))
		return rd_error(rd, sub(path, sizeof path, parent, key),
		                "expected an object, got %s", type_name(j));
	*out = j;
	return 0;
}

static int
read_tls(struct rd *rd, const json_t *t, const char *p, struct probe_tls *tls)
{
	char path[256], cpath[288];
	const json_t *verify, *chain, *c, *vr;
	size_t i;

	if (get_str(rd, t, p, "version", false, &tls->version) == -1 ||
	    get_str(rd, t, p, "cipher", false, &tls->cipher) == -1 ||
	    get_bool(rd, t, p, "client_cert_requested", &tls->client_cert_requested) == -1 ||
	    get_bool(rd, t, p, "client_cert_sent", &tls->client_cert_sent) == -1 ||
	    get_strv(rd, t, p, "acceptable_ca_names", &tls->ca_names, &tls->nca_names) == -1 ||
	    get_obj(rd, t, p, "verify", false, &verify) == -1)
		return -1;
	if (verify != NULL) {
		sub(path, sizeof path, p, "verify");
		vr = json_object_get(verify, "result");
		if (vr != NULL && !json_is_null(vr)) {
			if (!json_is_integer(vr))
				return rd_error(rd, sub(cpath, sizeof cpath, path, "result"),
				                "expected an integer (X509_V_ERR code), got %s",
				                type_name(vr));
			tls->verify_result = (long)json_integer_value(vr);
		}
		if (get_str(rd, verify, path, "error", false, &tls->verify_error) == -1)
			return -1;
	}
	chain = json_object_get(t, "chain");
	if (chain == NULL || json_is_null(chain))
		return 0;
	sub(path, sizeof path, p, "chain");
	if (!json_is_array(chain))
		return rd_error(rd, path, "expected an array, got %s", type_name(chain));
	if (json_array_size(chain) == 0)
		return 0;
	if ((tls->chain = calloc(json_array_size(chain), sizeof *tls->chain)) == NULL)
		return rd_error(rd, NULL, "out of memory");
	json_array_foreach(chain, i, c)
	{
		struct probe_cert *pc = &tls->chain[i];
		lm_fmt(cpath, sizeof cpath, "%s[%zu]", path, i);
		if (!json_is_object(c))
			return rd_error(rd, cpath, "expected an object, got %s", type_name(c));
		tls->nchain++; /* counted first: probe_result_clear frees a half-read cert */
		if (get_str(rd, c, cpath, "subject", false, &pc->subject) == -1 ||
		    get_str(rd, c, cpath, "issuer", false, &pc->issuer) == -1 ||
		    get_strv(rd, c, cpath, "sans", &pc->sans, &pc->nsans) == -1 ||
		    get_strv(rd, c, cpath, "ekus", &pc->ekus, &pc->nekus) == -1 ||
		    get_str(rd, c, cpath, "not_after", false, &pc->not_after) == -1)
			return -1;
	}
	return 0;
}

/* An integer member in [min, max]; missing or null leaves *out at 0. */
static int
get_int(struct rd *rd, const json_t *o, const char *parent, const char *key, long min, long max,
        long *out)
{
	char path[256];
	const json_t *j = json_object_get(o, key);

	*out = 0;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_integer(j))
		return rd_error(rd, sub(path, sizeof path, parent, key),
		                "expected an integer, got %s", type_name(j));
	if (json_integer_value(j) < min || json_integer_value(j) > max)
		return rd_error(rd, sub(path, sizeof path, parent, key), "%lld is out of range",
		                (long long)json_integer_value(j));
	*out = (long)json_integer_value(j);
	return 0;
}

static int
read_facts(struct rd *rd, const json_t *fo, const char *p, struct probe_facts *f)
{
	double w;
	long v;

	if (get_str(rd, fo, p, "answered_by", false, &f->answered_by) == -1 ||
	    get_str(rd, fo, p, "answer", false, &f->answer) == -1 ||
	    get_str(rd, fo, p, "sent", false, &f->sent) == -1 ||
	    get_ms(rd, fo, p, "waited_ms", &w) == -1 ||
	    get_str(rd, fo, p, "reached_host", false, &f->reached_host) == -1 ||
	    get_str(rd, fo, p, "reached_name", false, &f->reached_name) == -1 ||
	    get_bool(rd, fo, p, "server_cert_swapped", &f->server_swapped) == -1 ||
	    get_bool(rd, fo, p, "client_cert_swapped", &f->client_swapped) == -1 ||
	    get_str(rd, fo, p, "seen_client_cert", false, &f->seen_client_cert) == -1 ||
	    get_str(rd, fo, p, "headers", false, &f->headers) == -1 ||
	    get_str(rd, fo, p, "server", false, &f->server) == -1)
		return -1;
	f->waited_ms = w > 0 ? w : 0;
	if (get_int(rd, fo, p, "mtu", 0, 65535, &v) == -1)
		return -1;
	f->mtu = (unsigned)v;
	if (get_int(rd, fo, p, "status", 0, 999, &v) == -1)
		return -1;
	f->status = (int)v;
	return 0;
}

static int
read_endpoint(struct rd *rd, const json_t *r, const char *p, const char *key, char **host,
              char **addr, char **role, char **target)
{
	char path[256];
	const json_t *e;

	if (get_obj(rd, r, p, key, true, &e) == -1)
		return -1;
	sub(path, sizeof path, p, key);
	if (get_str(rd, e, path, "host", false, host) == -1 ||
	    get_str(rd, e, path, "address", false, addr) == -1 ||
	    get_str(rd, e, path, "role", false, role) == -1)
		return -1;
	if (target != NULL && get_str(rd, e, path, "target", false, target) == -1)
		return -1;
	return 0;
}

static int
read_result(struct rd *rd, const json_t *j, const char *p, struct probe_result *r)
{
	char path[256], *s = NULL;
	const json_t *port, *tm, *tls, *ident, *fo;
	json_int_t pv;

	if (!json_is_object(j))
		return rd_error(rd, p, "expected an object, got %s", type_name(j));
	if (get_str(rd, j, p, "rule", false, &r->rule_id) == -1)
		return -1;

	if (get_str(rd, j, p, "service", true, &s) == -1)
		return -1;
	if (lm_service_from_name(s, &r->service) == -1) {
		rd_error(rd, sub(path, sizeof path, p, "service"), "unknown service '%.64s'", s);
		free(s);
		return -1;
	}
	free(s);

	port = json_object_get(j, "port");
	if (port == NULL || !json_is_integer(port))
		return rd_error(rd, sub(path, sizeof path, p, "port"),
		                "expected an integer, got %s",
		                port == NULL ? "nothing" : type_name(port));
	pv = json_integer_value(port);
	if (pv < 0 || pv > 65535)
		return rd_error(rd, sub(path, sizeof path, p, "port"),
		                "%lld is not a port (0-65535)", (long long)pv);
	r->port = (uint16_t)pv;

	if (read_endpoint(rd, j, p, "from", &r->src_host, &r->src_addr, &r->src_role, NULL) == -1 ||
	    read_endpoint(rd, j, p, "to", &r->dst_host, &r->dst_addr, &r->dst_role, &r->target) ==
	        -1)
		return -1;

	if (get_str(rd, j, p, "expect", true, &s) == -1)
		return -1;
	if (strcmp(s, "open") != 0 && strcmp(s, "blocked") != 0) {
		rd_error(rd, sub(path, sizeof path, p, "expect"),
		         "unknown expectation '%.64s' (open or blocked)", s);
		free(s);
		return -1;
	}
	r->expect_blocked = strcmp(s, "blocked") == 0;
	free(s);

	if (get_str(rd, j, p, "via", false, &s) == -1)
		return -1;
	if (s != NULL && strcmp(s, "proxy") != 0) {
		rd_error(rd, sub(path, sizeof path, p, "via"),
		         "unknown via '%.64s' (proxy or null)", s);
		free(s);
		return -1;
	}
	r->via_proxy = s != NULL;
	free(s);

	if (get_str(rd, j, p, "outcome", true, &s) == -1)
		return -1;
	if (lm_outcome_from_name(s, &r->outcome) == -1) {
		rd_error(rd, sub(path, sizeof path, p, "outcome"), "unknown outcome '%.64s'", s);
		free(s);
		return -1;
	}
	free(s);

	if (get_str(rd, j, p, "verdict", true, &s) == -1)
		return -1;
	if (strcmp(s, "ok") != 0 && strcmp(s, "fail") != 0) {
		rd_error(rd, sub(path, sizeof path, p, "verdict"),
		         "unknown verdict '%.64s' (ok or fail)", s);
		free(s);
		return -1;
	}
	r->ok = strcmp(s, "ok") == 0;
	free(s);

	if (get_str(rd, j, p, "detail", false, &r->detail) == -1 ||
	    get_str(rd, j, p, "fix", false, &r->fix) == -1 ||
	    get_obj(rd, j, p, "timings", false, &tm) == -1)
		return -1;
	if (tm != NULL) {
		sub(path, sizeof path, p, "timings");
		if (get_ms(rd, tm, path, "connect_ms", &r->t_connect_ms) == -1 ||
		    get_ms(rd, tm, path, "handshake_ms", &r->t_handshake_ms) == -1 ||
		    get_ms(rd, tm, path, "first_answer_ms", &r->t_first_ms) == -1 ||
		    get_ms(rd, tm, path, "total_ms", &r->t_total_ms) == -1)
			return -1;
	}
	if (get_obj(rd, j, p, "facts", false, &fo) == -1)
		return -1;
	if (fo != NULL && read_facts(rd, fo, sub(path, sizeof path, p, "facts"), &r->facts) == -1)
		return -1;
	if (get_obj(rd, j, p, "tls", false, &tls) == -1)
		return -1;
	if (tls != NULL && read_tls(rd, tls, sub(path, sizeof path, p, "tls"), &r->tls) == -1)
		return -1;
	if (get_str(rd, j, p, "peer_seen", false, &r->peer_seen) == -1 ||
	    get_str(rd, j, p, "firewall_rule", false, &r->firewall_rule) == -1 ||
	    get_obj(rd, j, p, "identity", false, &ident) == -1)
		return -1;
	if (ident != NULL) {
		if ((r->identity = json_dumps(ident, JSON_COMPACT)) == NULL)
			return rd_error(rd, NULL, "out of memory");
	} else if (get_str(rd, j, p, "identity_text", false, &r->identity) == -1)
		return -1;
	/* a report without sentences: build them from the facts, like the probe */
	if (!r->ok && (r->fix == NULL || r->fix[0] == '\0')) {
		free(r->fix);
		if ((r->fix = report_fix_build(r)) == NULL)
			return rd_error(rd, NULL, "out of memory");
	}
	return 0;
}

static void
results_free(struct probe_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		probe_result_clear(&res[i]);
	free(res);
}

/* Folds a parsed report's header into run; the results are appended by the caller. */
static int
merge_header(struct probe_run *run, const char *scenario, const char *source, const char *started,
             double duration, bool partial, const char *note)
{
	bool fresh = run->n == 0 && run->source_host == NULL;

	if (run->scenario == NULL && scenario != NULL && (run->scenario = strdup(scenario)) == NULL)
		return -1;
	if (fresh) {
		if (source != NULL && (run->source_host = strdup(source)) == NULL)
			return -1;
	} else if (run->source_host != NULL &&
	           (source == NULL || strcmp(run->source_host, source) != 0)) {
		/* results of two sources: a merged matrix has no single source */
		free(run->source_host);
		run->source_host = NULL;
	}
	if (started != NULL && (run->started == NULL || strcmp(started, run->started) < 0)) {
		char *s = strdup(started);
		if (s == NULL)
			return -1;
		free(run->started);
		run->started = s;
	}
	if (duration > run->duration_ms)
		run->duration_ms = duration;
	run->partial = run->partial || partial;
	/* notes of several sources are kept side by side, once each */
	if (note != NULL && note[0] != '\0' &&
	    (run->note == NULL || strstr(run->note, note) == NULL)) {
		char *joined;
		if (run->note == NULL)
			joined = strdup(note);
		else if (asprintf(&joined, "%s; %s", run->note, note) == -1)
			joined = NULL;
		if (joined == NULL)
			return -1;
		free(run->note);
		run->note = joined;
	}
	return 0;
}

int
report_run_append(struct probe_run *dst, struct probe_run *src)
{
	if (dst->cap < dst->n + src->n) {
		struct probe_result *nr = realloc(dst->results, (dst->n + src->n) * sizeof *nr);
		if (nr == NULL)
			return -1;
		dst->results = nr;
		dst->cap = dst->n + src->n;
	}
	if (merge_header(dst, src->scenario, src->source_host, src->started, src->duration_ms,
	                 src->partial, src->note) == -1)
		return -1;
	if (src->n > 0)
		memcpy(dst->results + dst->n, src->results, src->n * sizeof *src->results);
	dst->n += src->n;
	src->n = 0; /* the results belong to dst now */
	return 0;
}

int
report_read_json_buffer(const char *data, size_t len, const char *name, struct probe_run *run,
                        char *err, size_t errlen)
{
	struct rd rd = {name != NULL ? name : "(report)", err, errlen};
	json_error_t jerr;
	json_t *doc = NULL;
	const json_t *schema, *results, *v;
	char *scenario = NULL, *source = NULL, *started = NULL, *note = NULL, path[64];
	double duration = 0;
	bool partial = false;
	struct probe_result *res = NULL;
	size_t nres = 0, i;
	int rc = -1;

	if ((doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		lm_fmt(err, errlen, "%s:%d:%d: %s", rd.name, jerr.line, jerr.column, jerr.text);
		goto fail;
	}
	if (!json_is_object(doc)) {
		rd_error(&rd, NULL, "not a lyncmock report (the top level is %s, not an object)",
		         type_name(doc));
		goto fail;
	}
	schema = json_object_get(doc, "schema");
	if (schema == NULL || !json_is_string(schema)) {
		rd_error(&rd, "schema", "not a lyncmock report (no \"schema\": \"%s\")",
		         REPORT_JSON_SCHEMA);
		goto fail;
	}
	/* version 1 has no facts, via or total_ms: its results read as they are */
	if (strcmp(json_string_value(schema), REPORT_JSON_SCHEMA) != 0 &&
	    strcmp(json_string_value(schema), REPORT_JSON_SCHEMA_V1) != 0) {
		rd_error(&rd, "schema",
		         "unsupported schema '%.64s' (this lyncmock reads %s and %s)",
		         json_string_value(schema), REPORT_JSON_SCHEMA, REPORT_JSON_SCHEMA_V1);
		goto fail;
	}
	if (get_str(&rd, doc, NULL, "scenario", false, &scenario) == -1 ||
	    get_str(&rd, doc, NULL, "source_host", false, &source) == -1 ||
	    get_str(&rd, doc, NULL, "started", false, &started) == -1 ||
	    get_ms(&rd, doc, NULL, "duration_ms", &duration) == -1 ||
	    get_bool(&rd, doc, NULL, "partial", &partial) == -1 ||
	    get_str(&rd, doc, NULL, "note", false, &note) == -1)
		goto fail;
	results = json_object_get(doc, "results");
	if (results == NULL || !json_is_array(results)) {
		rd_error(&rd, "results", "expected an array, got %s",
		         results == NULL ? "nothing" : type_name(results));
		goto fail;
	}
	if (json_array_size(results) > 0 &&
	    (res = calloc(json_array_size(results), sizeof *res)) == NULL) {
		rd_error(&rd, NULL, "out of memory");
		goto fail;
	}
	json_array_foreach(results, i, v)
	{
		res[i].t_connect_ms = res[i].t_handshake_ms = res[i].t_first_ms =
		    res[i].t_total_ms = -1;
		nres++;
		if (read_result(&rd, v, lm_fmt(path, sizeof path, "results[%zu]", i), &res[i]) ==
		    -1)
			goto fail;
	}

	/* everything parsed: now change run, growing it first so the append cannot fail half-way */
	if (run->cap < run->n + nres) {
		struct probe_result *nr = realloc(run->results, (run->n + nres) * sizeof *nr);
		if (nr == NULL) {
			rd_error(&rd, NULL, "out of memory");
			goto fail;
		}
		run->results = nr;
		run->cap = run->n + nres;
	}
	if (merge_header(run, scenario, source, started, duration < 0 ? 0 : duration, partial,
	                 note) == -1) {
		rd_error(&rd, NULL, "out of memory");
		goto fail;
	}
	if (nres > 0)
		memcpy(run->results + run->n, res, nres * sizeof *res);
	run->n += nres;
	free(res);
	res = NULL;
	nres = 0;
	rc = 0;
fail:
	results_free(res, nres);
	free(scenario);
	free(source);
	free(started);
	free(note);
	json_decref(doc);
	return rc;
}

int
report_read_json(const char *path, struct probe_run *run, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "(stdin)" : path;
	int rc = -1;

	if (is_stdin)
		f = stdin;
	else if ((f = lm_fopen_regular(path)) == NULL) {
		lm_fmt(err, errlen, "%s: %s", name, lm_open_strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;
		if (len == cap) {
			char *nb;
			if (cap >= JSON_MAX_INPUT) {
				lm_fmt(err, errlen, "%s: larger than %u MiB: not a lyncmock report",
				       name, JSON_MAX_INPUT / (1024 * 1024));
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				lm_fmt(err, errlen, "%s: out of memory", name);
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		lm_fmt(err, errlen, "%s: %s", name, strerror(errno));
		goto fail;
	}
	rc = report_read_json_buffer(buf, len, name, run, err, errlen);
fail:
	free(buf);
	if (!is_stdin)
		fclose(f);
	return rc;
}
