/* Scenario loader: libyaml document to struct scenario, every problem as FILE:LINE. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "scenarios/scenario.h"

/* Bounds that keep a hostile file (or a fuzzer) from costing much. */
#define SC_MAX_BYTES (8 * 1024 * 1024)
#define SC_MAX_HOSTS 16384
#define SC_MAX_RULES 65536
/* (source, destination) pairs over all rules: 50 times the largest Lync
 * deployment's matrix; rule checks and firewall output are linear in it */
#define SC_MAX_PATHS 5000000
#define SC_MAX_ROLES 256
#define SC_MAX_NAMES 256 /* simple_urls, web_services, san of one host */
#define SC_MAX_ERRORS 100
#define SC_MAX_DEPTH 16 /* the schema needs 4 levels; libyaml has no limit of its own */
#define SC_MAX_EVENTS 4000000

struct sc_msg {
	int line;
	size_t seq; /* keeps the order of messages on the same line */
	char *text;
};

/* Per-host facts the loader needs but the model does not keep. */
struct host_extra {
	char **web, **san;
	size_t nweb, nsan;
	bool ok;
};

struct loader {
	const char *file;
	yaml_document_t doc;
	bool have_doc;
	struct scenario *sc;
	struct sc_msg *msgs;
	size_t nmsgs, dropped;
	char **simple_urls;
	size_t nsimple;
	struct host_extra *hx;
	bool *rule_ok;
	int *from_rank;    /* 0 any, 1 role, 2 host: how specific a rule's source is */
	bool hosts_failed; /* the host list itself is unusable: rules cannot name hosts */
};

static const struct {
	const char *name;
	enum scenario_cert_shape shape;
} builtin_roles[] = {
    {"reverse-proxy", SCENARIO_CERT_CLIENT}, {"internal-client", SCENARIO_CERT_CLIENT},
    {"director", SCENARIO_CERT_POOL},        {"front-end", SCENARIO_CERT_POOL},
    {"edge-internal", SCENARIO_CERT_SERVER},
};
#define NBUILTIN_ROLES (sizeof(builtin_roles) / sizeof(builtin_roles[0]))

static const char *const cert_shape_names[] = {
    [SCENARIO_CERT_POOL] = "pool",
    [SCENARIO_CERT_SERVER] = "server",
    [SCENARIO_CERT_CLIENT] = "client",
};

/* ---- messages ---------------------------------------------------------- */

static void __attribute__((format(printf, 3, 4)))
lerr(struct loader *l, int line, const char *fmt, ...)
{
	va_list ap;
	char *text;

	if (l->nmsgs >= SC_MAX_ERRORS) {
		l->dropped++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (text == NULL) {
		l->dropped++;
		return;
	}
	if (l->msgs == NULL) {
		l->msgs = calloc(SC_MAX_ERRORS, sizeof(*l->msgs));
		if (l->msgs == NULL) {
			free(text);
			l->dropped++;
			return;
		}
	}
	l->msgs[l->nmsgs].line = line;
	l->msgs[l->nmsgs].seq = l->nmsgs;
	l->msgs[l->nmsgs].text = text;
	l->nmsgs++;
}

static bool
lfailed(const struct loader *l)
{
	return l->nmsgs > 0 || l->dropped > 0;
}

static int
msg_cmp(const void *a, const void *b)
{
	const struct sc_msg *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Writes the messages, sorted by line, as "FILE:LINE: message" lines. */
static void
lerr_flush(struct loader *l, char *err, size_t errlen)
{
	size_t used = 0;
	int n;

	if (err == NULL || errlen == 0)
		return;
	err[0] = '\0';
	if (l->nmsgs > 0)
		qsort(l->msgs, l->nmsgs, sizeof(*l->msgs), msg_cmp);
	for (size_t i = 0; i < l->nmsgs && used < errlen; i++) {
		if (l->msgs[i].line > 0)
			n = snprintf(err + used, errlen - used, "%s%s:%d: %s", used ? "\n" : "",
			             l->file, l->msgs[i].line, l->msgs[i].text);
		else
			n = snprintf(err + used, errlen - used, "%s%s: %s", used ? "\n" : "",
			             l->file, l->msgs[i].text);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (l->dropped > 0 && used < errlen)
		snprintf(err + used, errlen - used, "%s%s: ... and %zu more problems",
		         used ? "\n" : "", l->file, l->dropped);
}

/* ---- small checks -------------------------------------------------------- */

static int
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64], prev, tmp;

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The closest of words to w (distance at most 2), or NULL. */
static const char *
suggest(const char *w, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t wl = strlen(w);
	int bd = 3, d;

	/* "sip" most likely meant "sip-mtls", not the nearer "tcp". */
	for (size_t i = 0; i < n && wl >= 2; i++) {
		if (words[i] != NULL && strncmp(words[i], w, wl) == 0 && words[i][wl] != '\0')
			return words[i];
	}
	for (size_t i = 0; i < n; i++) {
		if (words[i] == NULL)
			continue;
		d = edit_distance(w, words[i]);
		if (d < bd) {
			bd = d;
			best = words[i];
		}
	}
	return best;
}

/* Host names, role names and rule ids: they end up in file and namespace names. */
static bool
valid_ident(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

/* A DNS name (letters, digits, hyphens; labels of 1-63; at most 253); `*.` first if wild. */
static bool
valid_dns(const char *s, bool wild)
{
	size_t n = strlen(s), label = 0;

	if (wild && strncmp(s, "*.", 2) == 0) {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return s[n - 1] != '-';
}

/* ---- YAML access ---------------------------------------------------------- */

static int
node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "empty";
	}
}

static yaml_node_t *
node_at(struct loader *l, yaml_node_item_t i)
{
	return yaml_document_get_node(&l->doc, i);
}

static bool
is_null_scalar(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/*
 * The text of a scalar value, or NULL (with a message) for anything else.
 * kline: the line of the key (a block value starts below it), 0 for list items.
 */
static const char *
scalar_of(struct loader *l, yaml_node_t *n, int kline, const char *key, const char *in)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE) {
		lerr(l, kline > 0 ? kline : node_line(n), "'%s' in %s must be a scalar, not %s",
		     key, in, node_kind(n));
		return NULL;
	}
	if (is_null_scalar(n)) {
		lerr(l, node_line(n), "'%s' in %s has no value", key, in);
		return NULL;
	}
	v = (const char *)n->data.scalar.value;
	if (strlen(v) != n->data.scalar.length) {
		lerr(l, node_line(n), "'%s' in %s contains a NUL byte", key, in);
		return NULL;
	}
	return v;
}

/* A scalar value copied into *out; false (with a message) when absent or bad. */
static bool
str_of(struct loader *l, yaml_node_t *n, int kline, const char *key, const char *in, char **out)
{
	const char *v = scalar_of(l, n, kline, key, in);

	if (v == NULL)
		return false;
	if ((*out = strdup(v)) == NULL) {
		lerr(l, node_line(n), "out of memory");
		return false;
	}
	return true;
}

struct key_spec {
	const char *name;
	bool required;
	yaml_node_t *value; /* filled by map_keys */
	int line;           /* of the key */
};

/*
 * Matches a mapping's keys against spec: unknown keys (with a guess at the
 * intended one), duplicate keys and missing required keys are all reported.
 * Returns false when the node is not a mapping at all.
 */
static bool
map_keys(struct loader *l, yaml_node_t *map, const char *in, struct key_spec *spec, size_t n)
{
	const char *names[16];
	bool guessed[16] = {false};

	for (size_t i = 0; i < n; i++) {
		spec[i].value = NULL;
		spec[i].line = 0;
		names[i] = spec[i].name;
	}
	if (map->type != YAML_MAPPING_NODE) {
		lerr(l, node_line(map), "%s must be a mapping, not %s", in, node_kind(map));
		return false;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
		const char *kn, *guess;
		size_t i;

		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			lerr(l, node_line(k), "a key in %s must be a scalar, not %s", in,
			     node_kind(k));
			continue;
		}
		kn = (const char *)k->data.scalar.value;
		for (i = 0; i < n; i++) {
			if (strcmp(kn, spec[i].name) == 0)
				break;
		}
		if (i == n) {
			guess = suggest(kn, names, n);
			if (guess != NULL) {
				lerr(l, node_line(k), "unknown key '%s' in %s (did you mean '%s'?)",
				     kn, in, guess);
				for (size_t g = 0; g < n; g++)
					guessed[g] |= names[g] == guess;
			} else
				lerr(l, node_line(k), "unknown key '%s' in %s", kn, in);
			continue;
		}
		if (spec[i].value != NULL) {
			lerr(l, node_line(k), "duplicate key '%s' in %s (first on line %d)", kn, in,
			     spec[i].line);
			continue;
		}
		spec[i].value = v;
		spec[i].line = node_line(k);
	}
	/* A misspelt key already said "did you mean": do not also call it missing. */
	for (size_t i = 0; i < n; i++) {
		if (spec[i].required && spec[i].value == NULL && !guessed[i])
			lerr(l, node_line(map), "missing '%s' in %s", spec[i].name, in);
	}
	return true;
}

/* A list of DNS names (simple_urls, web_services, san). */
static void
dns_list(struct loader *l, yaml_node_t *n, int kline, const char *key, const char *in, bool wild,
         char ***out, size_t *nout)
{
	size_t count;

	if (n->type != YAML_SEQUENCE_NODE) {
		lerr(l, kline, "'%s' in %s must be a list of names, not %s", key, in, node_kind(n));
		return;
	}
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > SC_MAX_NAMES) {
		lerr(l, node_line(n), "'%s' in %s has %zu names (at most %d)", key, in, count,
		     SC_MAX_NAMES);
		return;
	}
	if (count == 0)
		return;
	if ((*out = calloc(count, sizeof(**out))) == NULL) {
		lerr(l, node_line(n), "out of memory");
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *v = node_at(l, *it);
		char *s;

		if (v == NULL || !str_of(l, v, 0, key, in, &s))
			continue;
		if (!valid_dns(s, wild)) {
			lerr(l, node_line(v), "'%s' in %s: '%s' is not a valid DNS name", key, in,
			     s);
			free(s);
			continue;
		}
		(*out)[(*nout)++] = s;
	}
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- roles ---------------------------------------------------------------- */

static void
load_roles(struct loader *l, yaml_node_t *list, int line)
{
	struct scenario *sc = l->sc;
	size_t count = 0;

	if (list != NULL && list->type != YAML_SEQUENCE_NODE) {
		lerr(l, line, "'roles' must be a list, not %s", node_kind(list));
		list = NULL;
	}
	if (list != NULL)
		count = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
	if (count > SC_MAX_ROLES) {
		lerr(l, line, "too many roles: %zu (at most %d)", count, SC_MAX_ROLES);
		count = 0;
		list = NULL;
	}
	sc->roles = calloc(NBUILTIN_ROLES + count, sizeof(*sc->roles));
	if (sc->roles == NULL) {
		lerr(l, 0, "out of memory");
		return;
	}
	for (size_t i = 0; i < NBUILTIN_ROLES; i++) {
		struct scenario_role *r = &sc->roles[sc->nroles++];
		if ((r->name = strdup(builtin_roles[i].name)) == NULL) {
			lerr(l, 0, "out of memory");
			return;
		}
		r->cert_shape = builtin_roles[i].shape;
		r->builtin = true;
	}
	if (list == NULL)
		return;
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *n = node_at(l, *it);
		struct key_spec ks[] = {{"name", true, NULL, 0}, {"cert", false, NULL, 0}};
		struct scenario_role *r, *other;
		const char *shape;
		char *name = NULL;
		size_t s;

		if (n == NULL || !map_keys(l, n, "role", ks, 2))
			continue;
		if (ks[0].value == NULL ||
		    !str_of(l, ks[0].value, ks[0].line, "name", "role", &name))
			continue;
		if (!valid_ident(name) || strcmp(name, "any") == 0) {
			lerr(l, node_line(ks[0].value),
			     "bad role name '%s' (letters, digits, '-', '_', '.'; not 'any')",
			     name);
			free(name);
			continue;
		}
		other = (struct scenario_role *)scenario_role_find(sc, name);
		if (other != NULL) {
			if (other->builtin)
				lerr(l, node_line(ks[0].value),
				     "role '%s' is built in; choose another name", name);
			else
				lerr(l, node_line(ks[0].value),
				     "duplicate role '%s' (first on line %d)", name, other->line);
			free(name);
			continue;
		}
		r = &sc->roles[sc->nroles++];
		r->name = name;
		r->line = node_line(n);
		r->cert_shape = SCENARIO_CERT_SERVER;
		if (ks[1].value == NULL ||
		    (shape = scalar_of(l, ks[1].value, ks[1].line, "cert", "role")) == NULL)
			continue;
		for (s = 0; s < 3; s++) {
			if (strcmp(shape, cert_shape_names[s]) == 0)
				break;
		}
		if (s == 3)
			lerr(l, node_line(ks[1].value),
			     "bad cert '%s' in role '%s' (one of pool, server, client)", shape,
			     name);
		else
			r->cert_shape = (enum scenario_cert_shape)s;
	}
}

/* ---- hosts ---------------------------------------------------------------- */

static void
load_host(struct loader *l, yaml_node_t *n, struct scenario_host *h, struct host_extra *hx)
{
	struct scenario *sc = l->sc;
	enum { K_NAME, K_ROLE, K_ADDR, K_FQDN, K_POOL, K_WEB, K_SAN, K_CERT, K_KEY, K_N };
	struct key_spec ks[K_N] = {
	    [K_NAME] = {"name", true, NULL, 0},    [K_ROLE] = {"role", true, NULL, 0},
	    [K_ADDR] = {"address", true, NULL, 0}, [K_FQDN] = {"fqdn", false, NULL, 0},
	    [K_POOL] = {"pool", false, NULL, 0},   [K_WEB] = {"web_services", false, NULL, 0},
	    [K_SAN] = {"san", false, NULL, 0},     [K_CERT] = {"cert", false, NULL, 0},
	    [K_KEY] = {"key", false, NULL, 0},
	};
	const char *v;
	char canon[INET6_ADDRSTRLEN];
	size_t before = l->nmsgs + l->dropped;
	bool ok = true;

	h->line = node_line(n);
	if (!map_keys(l, n, "host", ks, K_N))
		return;
	if (ks[K_NAME].value != NULL &&
	    str_of(l, ks[K_NAME].value, ks[K_NAME].line, "name", "host", &h->name)) {
		if (!valid_ident(h->name) || strcmp(h->name, "any") == 0) {
			lerr(l, node_line(ks[K_NAME].value),
			     "bad host name '%s' (letters, digits, '-', '_', '.'; not 'any')",
			     h->name);
			ok = false;
		} else if (scenario_role_find(sc, h->name) != NULL) {
			lerr(l, node_line(ks[K_NAME].value),
			     "host name '%s' is also a role name: rules could not tell them apart",
			     h->name);
			ok = false;
		}
	} else
		ok = false;
	if (ks[K_ROLE].value != NULL &&
	    (v = scalar_of(l, ks[K_ROLE].value, ks[K_ROLE].line, "role", "host")) != NULL) {
		h->role = scenario_role_find(sc, v);
		if (h->role == NULL) {
			const char *names[SC_MAX_ROLES + NBUILTIN_ROLES];
			const char *guess;
			for (size_t i = 0; i < sc->nroles; i++)
				names[i] = sc->roles[i].name;
			guess = suggest(v, names, sc->nroles);
			if (guess != NULL)
				lerr(l, node_line(ks[K_ROLE].value),
				     "unknown role '%s' (did you mean '%s'?)", v, guess);
			else
				lerr(
				    l, node_line(ks[K_ROLE].value),
				    "unknown role '%s' (built in: reverse-proxy, internal-client, "
				    "director, front-end, edge-internal; others go under 'roles:')",
				    v);
			ok = false;
		}
	} else
		ok = false;
	if (ks[K_ADDR].value != NULL &&
	    (v = scalar_of(l, ks[K_ADDR].value, ks[K_ADDR].line, "address", "host")) != NULL) {
		/* parsed here, once: everything else reads h->addr (and prints h->address) */
		if (lm_sockaddr_parse(v, 0, &h->addr, &h->addrlen) != 0 ||
		    lm_sockaddr_str(&h->addr, canon, sizeof canon, false) == NULL) {
			lerr(l, node_line(ks[K_ADDR].value),
			     "bad address '%s' (an IPv4 or IPv6 literal)", v);
			ok = false;
		} else if ((h->address = strdup(canon)) == NULL) {
			lerr(l, h->line, "out of memory");
			ok = false;
		}
	} else
		ok = false;
	if (ks[K_FQDN].value != NULL) {
		if (!str_of(l, ks[K_FQDN].value, ks[K_FQDN].line, "fqdn", "host", &h->fqdn))
			ok = false;
		else if (!valid_dns(h->fqdn, false)) {
			lerr(l, node_line(ks[K_FQDN].value), "bad fqdn '%s'", h->fqdn);
			ok = false;
		}
	}
	if (ks[K_POOL].value != NULL) {
		if (!str_of(l, ks[K_POOL].value, ks[K_POOL].line, "pool", "host", &h->pool))
			ok = false;
		else if (!valid_dns(h->pool, false)) {
			lerr(l, node_line(ks[K_POOL].value), "bad pool FQDN '%s'", h->pool);
			ok = false;
		}
	}
	if (ks[K_WEB].value != NULL)
		dns_list(l, ks[K_WEB].value, ks[K_WEB].line, "web_services", "host", false,
		         &hx->web, &hx->nweb);
	if (ks[K_SAN].value != NULL)
		dns_list(l, ks[K_SAN].value, ks[K_SAN].line, "san", "host", true, &hx->san,
		         &hx->nsan);
	if (ks[K_CERT].value != NULL &&
	    !str_of(l, ks[K_CERT].value, ks[K_CERT].line, "cert", "host", &h->cert))
		ok = false;
	if (ks[K_KEY].value != NULL &&
	    !str_of(l, ks[K_KEY].value, ks[K_KEY].line, "key", "host", &h->key))
		ok = false;
	if ((ks[K_CERT].value == NULL) != (ks[K_KEY].value == NULL)) {
		bool c = ks[K_CERT].value != NULL;
		lerr(l, h->line, "host '%s' gives '%s' without '%s': give both or neither",
		     h->name ? h->name : "?", c ? "cert" : "key", c ? "key" : "cert");
		ok = false;
	}
	if (h->role != NULL && h->role->cert_shape != SCENARIO_CERT_POOL && h->pool != NULL) {
		lerr(l, node_line(ks[K_POOL].value),
		     "host '%s' has a pool, but its role '%s' does not use pool certificates",
		     h->name ? h->name : "?", h->role->name);
		ok = false;
	}
	hx->ok = ok && before == l->nmsgs + l->dropped;
}

/* The length of the top-level list key (a sequence of 1..max items), or 0
 * once the reason it is not one is reported. */
static size_t
seq_count(struct loader *l, const yaml_node_t *list, int line, const char *key, const char *item,
          size_t max)
{
	size_t count;

	if (list->type != YAML_SEQUENCE_NODE) {
		lerr(l, line, "'%s' must be a list, not %s", key, node_kind(list));
		return 0;
	}
	count = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
	if (count == 0) {
		lerr(l, line, "'%s' is empty: a scenario needs at least one %s", key, item);
		return 0;
	}
	if (count > max) {
		lerr(l, line, "too many %s: %zu (at most %zu)", key, count, max);
		return 0;
	}
	return count;
}

static int
sockaddr_cmp(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return a->ss_family < b->ss_family ? -1 : 1;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
	              &((const struct sockaddr_in *)b)->sin_addr, 4);
}

/* Host indices sorted by one key; duplicates are neighbours then. */
static const struct scenario *sort_sc;
static int sort_key; /* 0 name, 1 address, 2 fqdn */

static int
host_key_cmp(const void *a, const void *b)
{
	const struct scenario_host *x = &sort_sc->hosts[*(const uint32_t *)a],
	                           *y = &sort_sc->hosts[*(const uint32_t *)b];
	int c = 0;

	switch (sort_key) {
	case 0:
		c = strcmp(x->name, y->name);
		break;
	case 1:
		c = sockaddr_cmp(&x->addr, &y->addr);
		break;
	default:
		c = strcasecmp(x->fqdn, y->fqdn);
		break;
	}
	if (c != 0)
		return c;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* Names, addresses and FQDNs must each name one host: sorted, not pairwise. */
static void
host_duplicates(struct loader *l)
{
	struct scenario *sc = l->sc;
	uint32_t *v = malloc((sc->nhosts + 1) * sizeof *v);

	if (v == NULL) {
		lerr(l, 0, "out of memory");
		return;
	}
	sort_sc = sc;
	for (sort_key = 0; sort_key < 3; sort_key++) {
		size_t n = 0;
		for (size_t i = 0; i < sc->nhosts; i++) {
			const struct scenario_host *h = &sc->hosts[i];
			if ((sort_key == 0 && h->name) || (sort_key == 1 && h->address) ||
			    (sort_key == 2 && h->fqdn))
				v[n++] = (uint32_t)i;
		}
		qsort(v, n, sizeof *v, host_key_cmp);
		for (size_t k = 1, first = 0; k < n; k++) {
			const struct scenario_host *o = &sc->hosts[v[first]], *h = &sc->hosts[v[k]];
			int c = sort_key == 0   ? strcmp(h->name, o->name)
			        : sort_key == 1 ? sockaddr_cmp(&h->addr, &o->addr)
			                        : strcasecmp(h->fqdn, o->fqdn);
			if (c != 0) {
				first = k;
				continue;
			}
			if (sort_key == 0)
				lerr(l, h->line, "duplicate host name '%s' (first on line %d)",
				     h->name, o->line);
			else if (sort_key == 1)
				lerr(l, h->line,
				     "duplicate address %s: hosts '%s' (line %d) and '%s'",
				     h->address, o->name ? o->name : "?", o->line,
				     h->name ? h->name : "?");
			else
				lerr(l, h->line, "duplicate fqdn %s: hosts '%s' (line %d) and '%s'",
				     h->fqdn, o->name ? o->name : "?", o->line,
				     h->name ? h->name : "?");
		}
	}
	free(v);
	/* the name index scenario_host_find searches (rules name hosts by it) */
	if ((sc->host_index = malloc((sc->nhosts + 1) * sizeof *sc->host_index)) == NULL) {
		lerr(l, 0, "out of memory");
		return;
	}
	for (size_t i = 0; i < sc->nhosts; i++) {
		if (sc->hosts[i].name != NULL)
			sc->host_index[sc->nhost_index++] = (uint32_t)i;
	}
	sort_key = 0;
	qsort(sc->host_index, sc->nhost_index, sizeof *sc->host_index, host_key_cmp);
}

static void
load_hosts(struct loader *l, yaml_node_t *list, int line)
{
	struct scenario *sc = l->sc;
	size_t count;

	l->hosts_failed = true;
	if ((count = seq_count(l, list, line, "hosts", "host", SC_MAX_HOSTS)) == 0)
		return;
	sc->hosts = calloc(count, sizeof(*sc->hosts));
	l->hx = calloc(count, sizeof(*l->hx));
	if (sc->hosts == NULL || l->hx == NULL) {
		lerr(l, line, "out of memory");
		return;
	}
	l->hosts_failed = false;
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *n = node_at(l, *it);
		struct scenario_host *h;

		if (n == NULL)
			continue;
		h = &sc->hosts[sc->nhosts];
		load_host(l, n, h, &l->hx[sc->nhosts]);
		sc->nhosts++;
	}
	host_duplicates(l);
}

/* ---- rules ---------------------------------------------------------------- */

static void
endpoint_of(struct loader *l, yaml_node_t *v, int kline, const char *key,
            struct scenario_endpoint *ep, bool *ok)
{
	struct scenario *sc = l->sc;
	const char *names[SC_MAX_ROLES + NBUILTIN_ROLES + 1];
	const char *guess;
	size_t n = 0;

	if (!str_of(l, v, kline, key, "rule", &ep->text)) {
		*ok = false;
		return;
	}
	if (strcmp(ep->text, "any") == 0) {
		if (strcmp(key, "to") == 0) {
			lerr(l, node_line(v),
			     "'to: any' is not allowed: a rule's destination must be a role or a "
			     "host");
			*ok = false;
		} else
			ep->any = true;
		return;
	}
	if ((ep->host = scenario_host_find(sc, ep->text)) != NULL)
		return;
	if ((ep->role = scenario_role_find(sc, ep->text)) != NULL)
		return;
	*ok = false;
	if (l->hosts_failed)
		return; /* the hosts' own error says it all */
	for (size_t i = 0; i < sc->nroles; i++)
		names[n++] = sc->roles[i].name;
	guess = suggest(ep->text, names, n);
	if (guess == NULL) {
		for (size_t i = 0; i < sc->nhosts && guess == NULL; i++) {
			if (sc->hosts[i].name != NULL &&
			    edit_distance(ep->text, sc->hosts[i].name) <= 2)
				guess = sc->hosts[i].name;
		}
	}
	if (guess != NULL)
		lerr(l, node_line(v), "'%s: %s' names no host or role (did you mean '%s'?)", key,
		     ep->text, guess);
	else
		lerr(l, node_line(v), "'%s: %s' names no host or role%s", key, ep->text,
		     strcmp(key, "from") == 0 ? " (nor is it 'any')" : "");
}

/* "5061" or "50000-59999" (first < last); 0 or -1. */
static int
parse_port_range(const char *v, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(v, '-');
	char first[8];
	size_t n;

	if (dash == NULL) {
		if (lm_parse_port(v, lo) != 0)
			return -1;
		*hi = *lo;
		return 0;
	}
	if ((n = (size_t)(dash - v)) == 0 || n >= sizeof first)
		return -1;
	memcpy(first, v, n);
	first[n] = '\0';
	if (lm_parse_port(first, lo) != 0 || lm_parse_port(dash + 1, hi) != 0 || *hi <= *lo)
		return -1;
	return 0;
}

/* The rule's ports: itself, or n of the range spread evenly, both ends included. */
static int
sample_ports(struct scenario_rule *r, size_t n)
{
	size_t span = (size_t)r->port_hi - r->port + 1;

	if (n > span)
		n = span;
	if (r->port_hi == r->port)
		n = 1;
	if ((r->ports = calloc(n, sizeof *r->ports)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		r->ports[i] = n == 1
		                  ? r->port
		                  : (uint16_t)(r->port + (i * (span - 1) + (n - 1) / 2) / (n - 1));
	r->nports = n;
	return 0;
}

static void
load_rule(struct loader *l, yaml_node_t *n, struct scenario_rule *r, bool *okp)
{
	enum { K_ID, K_SVC, K_PORT, K_FROM, K_TO, K_EXPECT, K_CC, K_SAMPLE, K_VIA, K_N };
	struct key_spec ks[K_N] = {
	    [K_ID] = {"id", true, NULL, 0},           [K_SVC] = {"service", true, NULL, 0},
	    [K_PORT] = {"port", true, NULL, 0},       [K_FROM] = {"from", true, NULL, 0},
	    [K_TO] = {"to", true, NULL, 0},           [K_EXPECT] = {"expect", false, NULL, 0},
	    [K_CC] = {"client_cert", false, NULL, 0}, [K_SAMPLE] = {"sample", false, NULL, 0},
	    [K_VIA] = {"via", false, NULL, 0},
	};
	long sample = SCENARIO_DEFAULT_SAMPLE;
	const char *v;
	size_t before = l->nmsgs + l->dropped;
	bool ok = true;

	r->line = node_line(n);
	r->client_cert = LM_CC_DEFAULT;
	*okp = false;
	if (!map_keys(l, n, "rule", ks, K_N))
		return;
	if (ks[K_ID].value != NULL &&
	    str_of(l, ks[K_ID].value, ks[K_ID].line, "id", "rule", &r->id)) {
		if (!valid_ident(r->id)) {
			lerr(l, node_line(ks[K_ID].value),
			     "bad rule id '%s' (letters, digits, '-', '_', '.')", r->id);
			ok = false;
		}
	}
	if (ks[K_SVC].value != NULL &&
	    (v = scalar_of(l, ks[K_SVC].value, ks[K_SVC].line, "service", "rule")) != NULL &&
	    lm_service_from_name(v, &r->service) != 0) {
		const char *names[LM_SVC__COUNT];
		const char *guess;
		for (int i = 0; i < LM_SVC__COUNT; i++)
			names[i] = lm_service_name((enum lm_service)i);
		guess = suggest(v, names, LM_SVC__COUNT);
		lerr(l, node_line(ks[K_SVC].value),
		     "unknown service '%s' (one of http, https, sip-mtls, sip-tls, cls-mtls, tls, "
		     "mtls, tcp, udp, stun, turn-tcp)%s%s%s",
		     v, guess ? "; did you mean '" : "", guess ? guess : "", guess ? "'?" : "");
		ok = false;
	}
	if (ks[K_PORT].value != NULL &&
	    (v = scalar_of(l, ks[K_PORT].value, ks[K_PORT].line, "port", "rule")) != NULL &&
	    parse_port_range(v, &r->port, &r->port_hi) != 0) {
		lerr(l, node_line(ks[K_PORT].value),
		     "bad port '%s' (a number from 1 to 65535, or a range like 50000-59999)", v);
		ok = false;
	}
	if (ks[K_SAMPLE].value != NULL &&
	    (v = scalar_of(l, ks[K_SAMPLE].value, ks[K_SAMPLE].line, "sample", "rule")) != NULL) {
		if (lm_parse_long(v, 1, SCENARIO_MAX_SAMPLE, &sample) != 0) {
			lerr(l, node_line(ks[K_SAMPLE].value), "bad sample '%s' (1 to %d ports)", v,
			     SCENARIO_MAX_SAMPLE);
			ok = false;
		} else if (r->port_hi == r->port && ok) {
			lerr(l, node_line(ks[K_SAMPLE].value),
			     "sample: %s needs a port range (port: A-B)", v);
			ok = false;
		}
	}
	if (ok && r->port != 0 && sample_ports(r, (size_t)sample) != 0) {
		lerr(l, r->line, "out of memory");
		ok = false;
	}
	if (ks[K_FROM].value != NULL)
		endpoint_of(l, ks[K_FROM].value, ks[K_FROM].line, "from", &r->from, &ok);
	if (ks[K_TO].value != NULL)
		endpoint_of(l, ks[K_TO].value, ks[K_TO].line, "to", &r->to, &ok);
	if (ks[K_EXPECT].value != NULL &&
	    (v = scalar_of(l, ks[K_EXPECT].value, ks[K_EXPECT].line, "expect", "rule")) != NULL) {
		if (strcmp(v, "blocked") == 0)
			r->expect_blocked = true;
		else if (strcmp(v, "open") != 0) {
			lerr(l, node_line(ks[K_EXPECT].value), "bad expect '%s' (open or blocked)",
			     v);
			ok = false;
		}
	}
	/* via: proxy — the path is meant to go through an HTTP proxy (outcome proxied is OK) */
	if (ks[K_VIA].value != NULL &&
	    (v = scalar_of(l, ks[K_VIA].value, ks[K_VIA].line, "via", "rule")) != NULL) {
		if (strcmp(v, "proxy") == 0)
			r->via_proxy = true;
		else {
			lerr(l, node_line(ks[K_VIA].value), "bad via '%s' (proxy)", v);
			ok = false;
		}
	}
	if (ks[K_CC].value != NULL &&
	    (v = scalar_of(l, ks[K_CC].value, ks[K_CC].line, "client_cert", "rule")) != NULL) {
		if (lm_client_cert_from_name(v, &r->client_cert) != 0) {
			lerr(l, node_line(ks[K_CC].value),
			     "bad client_cert '%s' (required, optional or none)", v);
			ok = false;
		} else if (ks[K_SVC].value != NULL && ks[K_SVC].value->type == YAML_SCALAR_NODE &&
		           lm_service_info(r->service) != NULL &&
		           !lm_service_info(r->service)->tls && r->client_cert != LM_CC_NONE &&
		           before == l->nmsgs + l->dropped) {
			lerr(l, node_line(ks[K_CC].value),
			     "client_cert: %s needs TLS, but service %s is plain TCP", v,
			     lm_service_name(r->service));
			ok = false;
		}
	}
	*okp = ok && before == l->nmsgs + l->dropped;
}

/*
 * Rules against each other, in time linear in the scenario's size (sorting
 * aside): a rule's hosts are sorted index lists; rules that can share a port
 * fall in one "port group" (transport, overlapping port ranges); and the
 * entries (group, destination, rule), sorted, put every pair of rules that
 * reach one destination on one port group side by side. Only such pairs can
 * break "one port, one service", override each other or contradict, so only
 * they are compared, each once.
 */
struct ruleset {
	uint32_t **to, **from; /* per rule: sorted host indices */
	size_t *nto, *nfrom;
	bool **keep; /* per rule, parallel to from: not overridden */
	uint32_t *group;
};

struct dest_entry {
	uint32_t group, host, rule;
};

static int
dest_cmp(const void *a, const void *b)
{
	const struct dest_entry *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* (i, j): a pair of rules; sorted by i then j, duplicates removed. */
struct rule_pair {
	uint32_t i, j;
};

static int
pair_cmp(const void *a, const void *b)
{
	const struct rule_pair *x = a, *y = b;
	if (x->i != y->i)
		return x->i < y->i ? -1 : 1;
	return x->j < y->j ? -1 : x->j > y->j;
}

struct pairs {
	struct rule_pair *v;
	size_t n, cap;
	bool oom;
};

static void
pair_add(struct pairs *p, uint32_t i, uint32_t j)
{
	struct rule_pair *v;

	if (p->oom)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		if ((v = realloc(p->v, cap * sizeof *v)) == NULL) {
			p->oom = true;
			return;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct rule_pair){i, j};
}

static void
pairs_sort_unique(struct pairs *p)
{
	size_t w = 0;

	if (p->n == 0)
		return;
	qsort(p->v, p->n, sizeof *p->v, pair_cmp);
	for (size_t r = 0; r < p->n; r++) {
		if (w == 0 || pair_cmp(&p->v[w - 1], &p->v[r]) != 0)
			p->v[w++] = p->v[r];
	}
	p->n = w;
}

static const struct scenario_rule *bucket_rules;

/* by service, then rule */
static int
bucket_cmp(const void *a, const void *b)
{
	const struct scenario_rule *x = &bucket_rules[*(const uint32_t *)a],
	                           *y = &bucket_rules[*(const uint32_t *)b];
	if (x->service != y->service)
		return x->service < y->service ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static void
pair_add_ordered(struct pairs *p, uint32_t x, uint32_t y)
{
	pair_add(p, x > y ? x : y, x > y ? y : x);
}

/* Pairs of different services are errors: past this many, the messages are
 * dropped anyway ("... and N more"), so stop forming them. */
#define SC_MAX_SVC_PAIRS 10000

/*
 * One bucket: the n rules that reach one destination in one port group.
 * Pairs of different services go to svc, of opposite expectations to opp
 * (each as (later rule, earlier rule)); pairs that agree on both are never
 * formed, so a thousand exceptions to one broad rule cost a thousand pairs,
 * not half a million. v: room for 2n rule indices.
 */
static void
bucket_pairs(const struct scenario *sc, const struct dest_entry *e, size_t n, struct pairs *svc,
             struct pairs *opp, uint32_t *v)
{
	uint32_t *open = v + n, *blocked;
	size_t nopen = 0, nblocked = 0;
	bool mixed_svc = false, mixed_exp = false;

	for (size_t k = 0; k < n; k++) {
		const struct scenario_rule *r = &sc->rules[e[k].rule], *r0 = &sc->rules[e[0].rule];
		v[k] = e[k].rule;
		mixed_svc |= r->service != r0->service;
		mixed_exp |= r->expect_blocked != r0->expect_blocked;
	}
	if (mixed_svc && svc->n < SC_MAX_SVC_PAIRS) {
		bucket_rules = sc->rules;
		qsort(v, n, sizeof *v, bucket_cmp);
		for (size_t x = 0, run_end; x < n; x = run_end) {
			run_end = x + 1;
			while (run_end < n &&
			       sc->rules[v[run_end]].service == sc->rules[v[x]].service)
				run_end++;
			for (size_t i = x; i < run_end; i++) {
				for (size_t y = run_end; y < n && svc->n < SC_MAX_SVC_PAIRS; y++) {
					if (scenario_rules_share_port(&sc->rules[v[i]],
					                              &sc->rules[v[y]]))
						pair_add_ordered(svc, v[i], v[y]);
				}
			}
		}
	}
	if (!mixed_exp)
		return;
	for (size_t k = 0; k < n; k++) {
		if (!sc->rules[e[k].rule].expect_blocked)
			open[nopen++] = e[k].rule;
	}
	blocked = open + nopen;
	for (size_t k = 0; k < n; k++) {
		if (sc->rules[e[k].rule].expect_blocked)
			blocked[nblocked++] = e[k].rule;
	}
	/* opposite expectations: every open rule against every blocked one */
	for (size_t x = 0; x < nopen; x++) {
		for (size_t y = 0; y < nblocked; y++) {
			if (scenario_rules_share_port(&sc->rules[open[x]], &sc->rules[blocked[y]]))
				pair_add_ordered(opp, open[x], blocked[y]);
		}
	}
}

/* The first host both sorted lists hold, or -1. */
static long
first_common(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t x = 0, y = 0;

	while (x < na && y < nb) {
		if (a[x] == b[y])
			return (long)a[x];
		if (a[x] < b[y])
			x++;
		else
			y++;
	}
	return -1;
}

/* Does sorted list big hold every host of sorted list small? */
static bool
list_covers(const uint32_t *big, size_t nbig, const uint32_t *small, size_t nsmall)
{
	size_t x = 0;

	for (size_t y = 0; y < nsmall; y++) {
		while (x < nbig && big[x] < small[y])
			x++;
		if (x == nbig || big[x] != small[y])
			return false;
	}
	return true;
}

static long
list_find(const uint32_t *v, size_t n, uint32_t h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] == h)
			return (long)mid;
		if (v[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static const struct scenario_host **
host_list(struct loader *l, const uint32_t *v, const bool *keep, size_t n, size_t *out)
{
	const struct scenario_host **hv;
	size_t c = 0;

	*out = 0;
	for (size_t k = 0; k < n; k++)
		c += keep == NULL || keep[k];
	if (c == 0 || (hv = calloc(c, sizeof(*hv))) == NULL)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		if (keep == NULL || keep[k])
			hv[(*out)++] = &l->sc->hosts[v[k]];
	}
	return hv;
}

/* Per role, its hosts in file order (the lists "from: ROLE" and "to: ROLE" copy). */
struct role_hosts {
	uint32_t *v;
	size_t n;
};

/* A rule endpoint's hosts as a sorted list; `from: any` is every host not in to. */
static uint32_t *
endpoint_hosts(struct loader *l, const struct scenario_endpoint *ep, const struct role_hosts *rh,
               const uint32_t *to, size_t nto, size_t *n)
{
	struct scenario *sc = l->sc;
	size_t nh = sc->nhosts, c = 0, t = 0;
	uint32_t *v;

	*n = 0;
	if (ep->host != NULL) {
		if ((v = malloc(sizeof *v)) != NULL) {
			v[0] = (uint32_t)(ep->host - sc->hosts);
			*n = 1;
		}
		return v;
	}
	if (!ep->any) {
		const struct role_hosts *r = &rh[ep->role - sc->roles];
		if (r->n == 0)
			return calloc(1,
			              sizeof *v); /* matches nothing; not an allocation failure */
		if ((v = malloc(r->n * sizeof *v)) != NULL) {
			memcpy(v, r->v, r->n * sizeof *v);
			*n = r->n;
		}
		return v;
	}
	if ((v = malloc((nh + 1) * sizeof *v)) == NULL)
		return NULL;
	for (size_t h = 0; h < nh; h++) {
		while (t < nto && to[t] < h)
			t++;
		if (t < nto && to[t] == h)
			continue;
		v[c++] = (uint32_t)h;
	}
	*n = c;
	return v;
}

static void
ruleset_free(struct ruleset *rs, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		if (rs->to != NULL)
			free(rs->to[i]);
		if (rs->from != NULL)
			free(rs->from[i]);
		if (rs->keep != NULL)
			free(rs->keep[i]);
	}
	free(rs->to);
	free(rs->from);
	free(rs->keep);
	free(rs->nto);
	free(rs->nfrom);
	free(rs->group);
}

static int
rule_port_cmp(const void *a, const void *b, void *arg)
{
	const struct scenario_rule *rules = arg;
	const struct scenario_rule *x = &rules[*(const uint32_t *)a],
	                           *y = &rules[*(const uint32_t *)b];
	int ux = lm_service_info(x->service)->udp, uy = lm_service_info(y->service)->udp;

	if (ux != uy)
		return ux - uy;
	return x->port < y->port ? -1 : x->port > y->port;
}

/*
 * Resolves every rule's hosts and checks rules against each other. The
 * source set of a rule loses the hosts for which a more specific rule (host >
 * role > any) covering all of its destinations on the same port expects the
 * opposite; any other overlap with opposite expectations is a contradiction.
 */
static void
resolve_rules(struct loader *l)
{
	struct scenario *sc = l->sc;
	size_t nr = sc->nrules, nh = sc->nhosts, nent = 0, npaths = 0, nrefs = 0;
	struct role_hosts *rh = NULL;
	struct ruleset rs;
	struct dest_entry *ent = NULL;
	struct pairs svc = {0}, opp = {0}, over = {0};
	uint32_t *order = NULL, *scratch = NULL;

	memset(&rs, 0, sizeof rs);
	if (nr == 0 || nh == 0)
		return;
	rs.to = calloc(nr, sizeof *rs.to);
	rs.from = calloc(nr, sizeof *rs.from);
	rs.keep = calloc(nr, sizeof *rs.keep);
	rs.nto = calloc(nr, sizeof *rs.nto);
	rs.nfrom = calloc(nr, sizeof *rs.nfrom);
	rs.group = calloc(nr, sizeof *rs.group);
	l->from_rank = calloc(nr, sizeof(*l->from_rank));
	rh = calloc(sc->nroles, sizeof *rh);
	order = calloc(nr, sizeof *order);
	scratch = calloc(2 * nr, sizeof *scratch);
	if (scratch == NULL || rs.to == NULL || rs.from == NULL || rs.keep == NULL ||
	    rs.nto == NULL || rs.nfrom == NULL || rs.group == NULL || l->from_rank == NULL ||
	    rh == NULL || order == NULL)
		goto oom;
	for (size_t h = 0; h < nh; h++)
		rh[sc->hosts[h].role - sc->roles].n++;
	for (size_t r = 0; r < sc->nroles; r++) {
		if (rh[r].n > 0 && (rh[r].v = malloc(rh[r].n * sizeof *rh[r].v)) == NULL)
			goto oom;
		rh[r].n = 0;
	}
	for (size_t h = 0; h < nh; h++) {
		struct role_hosts *r = &rh[sc->hosts[h].role - sc->roles];
		r->v[r->n++] = (uint32_t)h;
	}

	/* memory and time grow with the paths: bound them before building lists */
	for (size_t i = 0; i < nr; i++) {
		const struct scenario_rule *r = &sc->rules[i];
		size_t nto, nfrom;
		if (!l->rule_ok[i])
			continue;
		nto = r->to.host != NULL   ? 1
		      : r->to.role != NULL ? rh[r->to.role - sc->roles].n
		                           : 0;
		nfrom = r->from.host != NULL   ? 1
		        : r->from.role != NULL ? rh[r->from.role - sc->roles].n
		                               : nh - (nto < nh ? nto : nh);
		npaths += nfrom * nto;
		nrefs += nfrom + nto;
	}
	if (npaths > SC_MAX_PATHS || nrefs > SC_MAX_PATHS) {
		lerr(l, 0, "too many paths: %zu (at most %d)", npaths, SC_MAX_PATHS);
		goto out;
	}
	for (size_t i = 0; i < nr; i++) {
		struct scenario_rule *r = &sc->rules[i];
		size_t nfrom, nto;

		if (!l->rule_ok[i])
			continue;
		l->from_rank[i] = r->from.any ? 0 : r->from.host != NULL ? 2 : 1;
		if ((rs.to[i] = endpoint_hosts(l, &r->to, rh, NULL, 0, &rs.nto[i])) == NULL ||
		    (rs.from[i] = endpoint_hosts(l, &r->from, rh, rs.to[i], rs.nto[i],
		                                 &rs.nfrom[i])) == NULL ||
		    (rs.keep[i] = malloc(rs.nfrom[i] + 1)) == NULL)
			goto oom;
		memset(rs.keep[i], 1, rs.nfrom[i]);
		nfrom = rs.nfrom[i];
		nto = rs.nto[i];
		if (nto == 0) {
			lerr(l, r->line, "rule '%s': 'to: %s' matches no host of the scenario",
			     r->id, r->to.text);
			l->rule_ok[i] = false;
		}
		if (nfrom == 0 && !r->from.any) {
			lerr(l, r->line, "rule '%s': 'from: %s' matches no host of the scenario",
			     r->id, r->from.text);
			l->rule_ok[i] = false;
		} else if (nfrom == 0) {
			lerr(l, r->line, "rule '%s': 'from: any' leaves no source host", r->id);
			l->rule_ok[i] = false;
		}
		if (nfrom == 1 && nto == 1 && rs.from[i][0] == rs.to[i][0]) {
			lerr(l, r->line, "rule '%s': from and to are the same host '%s'", r->id,
			     sc->hosts[rs.to[i][0]].name);
			l->rule_ok[i] = false;
		}
		/* TLS needs a server certificate the destination can have. */
		if (lm_service_info(r->service)->tls) {
			for (size_t k = 0; k < nto; k++) {
				const struct scenario_host *d = &sc->hosts[rs.to[i][k]];
				if (d->role == NULL ||
				    d->role->cert_shape != SCENARIO_CERT_CLIENT ||
				    (d->cert != NULL && d->key != NULL))
					continue;
				lerr(l, r->line,
				     "rule '%s': service %s needs a server certificate on host "
				     "'%s', "
				     "but role '%s' only gets a client certificate (give the host "
				     "'cert' and 'key', or use a server role)",
				     r->id, lm_service_name(r->service), d->name, d->role->name);
				l->rule_ok[i] = false;
			}
		}
	}

	/* port groups: rules of one transport whose port ranges chain together */
	{
		size_t n = 0;
		uint32_t g = 0;
		unsigned hi = 0;
		int udp = -1;
		for (size_t i = 0; i < nr; i++)
			if (l->rule_ok[i])
				order[n++] = (uint32_t)i;
		qsort_r(order, n, sizeof *order, rule_port_cmp, sc->rules);
		for (size_t k = 0; k < n; k++) {
			const struct scenario_rule *r = &sc->rules[order[k]];
			int u = lm_service_info(r->service)->udp;
			unsigned top = r->port_hi > r->port ? r->port_hi : r->port;
			if (k == 0 || u != udp || r->port > hi) {
				g++;
				hi = top;
				udp = u;
			} else if (top > hi)
				hi = top;
			rs.group[order[k]] = g;
			nent += rs.nto[order[k]];
		}
	}
	if (nent > 0 && (ent = malloc(nent * sizeof *ent)) == NULL)
		goto oom;
	nent = 0;
	for (size_t i = 0; i < nr; i++) {
		if (!l->rule_ok[i])
			continue;
		for (size_t k = 0; k < rs.nto[i]; k++)
			ent[nent++] = (struct dest_entry){rs.group[i], rs.to[i][k], (uint32_t)i};
	}
	if (nent > 0)
		qsort(ent, nent, sizeof *ent, dest_cmp);
	/* the rules reaching one destination in one port group: compare those of
	 * different services, and those of opposite expectations (not the many
	 * that agree: a thousand per-host exceptions to one broad rule cost a
	 * thousand comparisons, not a million) */
	for (size_t a = 0; a < nent;) {
		size_t b = a;
		while (b < nent && ent[b].group == ent[a].group && ent[b].host == ent[a].host)
			b++;
		bucket_pairs(sc, ent + a, b - a, &svc, &opp, scratch);
		a = b;
	}
	if (svc.oom || opp.oom)
		goto oom;
	pairs_sort_unique(&svc);
	pairs_sort_unique(&opp);

	/* One port of one host serves one service. */
	for (size_t k = 0; k < svc.n; k++) {
		uint32_t i = svc.v[k].i, j = svc.v[k].j;
		long h = first_common(rs.to[i], rs.nto[i], rs.to[j], rs.nto[j]);
		lerr(l, sc->rules[i].line,
		     "rule '%s': %s port %u on host '%s' (%s) is already %s in rule '%s' "
		     "(line %d): one port, one service",
		     sc->rules[i].id, lm_service_name(sc->rules[i].service), sc->rules[i].port,
		     sc->hosts[h].name, sc->hosts[h].address, lm_service_name(sc->rules[j].service),
		     sc->rules[j].id, sc->rules[j].line);
	}

	/* More specific rules win over broader ones for their sources. */
	for (size_t k = 0; k < opp.n; k++) {
		uint32_t x = opp.v[k].i, y = opp.v[k].j;
		for (int turn = 0; turn < 2; turn++) {
			uint32_t i = turn ? y : x, j = turn ? x : y; /* does j override i? */
			if (l->from_rank[j] > l->from_rank[i] &&
			    list_covers(rs.to[j], rs.nto[j], rs.to[i], rs.nto[i]))
				pair_add(&over, i, j);
		}
	}
	if (over.oom)
		goto oom;
	pairs_sort_unique(&over);
	for (size_t k = 0; k < over.n;) {
		uint32_t i = over.v[k].i;
		long winner = -1;
		bool left = false;
		for (; k < over.n && over.v[k].i == i; k++) {
			uint32_t j = over.v[k].j;
			if (!l->rule_ok[i] || !l->rule_ok[j])
				continue;
			for (size_t f = 0; f < rs.nfrom[j]; f++) {
				long at = list_find(rs.from[i], rs.nfrom[i], rs.from[j][f]);
				if (at >= 0 && rs.keep[i][at]) {
					rs.keep[i][at] = 0;
					winner = (long)j;
				}
			}
		}
		for (size_t f = 0; f < rs.nfrom[i]; f++)
			left |= rs.keep[i][f] != 0;
		if (!left && winner >= 0) {
			lerr(l, sc->rules[i].line,
			     "rule '%s': every source is overridden by the more specific rule '%s' "
			     "(line %d), which expects the opposite",
			     sc->rules[i].id, sc->rules[winner].id, sc->rules[winner].line);
			l->rule_ok[i] = false;
		}
	}

	/* What is left with opposite expectations on a shared path is a contradiction. */
	for (size_t k = 0; k < opp.n; k++) {
		uint32_t i = opp.v[k].i, j = opp.v[k].j;
		struct scenario_rule *a = &sc->rules[j], *b = &sc->rules[i];
		long s = -1, d;
		size_t x = 0, y = 0;
		if (!l->rule_ok[i] || !l->rule_ok[j])
			continue;
		d = first_common(rs.to[i], rs.nto[i], rs.to[j], rs.nto[j]);
		while (x < rs.nfrom[i] && y < rs.nfrom[j] && s < 0) {
			if (rs.from[i][x] == rs.from[j][y]) {
				if (rs.keep[i][x] && rs.keep[j][y])
					s = (long)rs.from[i][x];
				x++;
				y++;
			} else if (rs.from[i][x] < rs.from[j][y])
				x++;
			else
				y++;
		}
		if (s < 0 || d < 0)
			continue;
		lerr(l, b->line,
		     "rule '%s' contradicts rule '%s' (line %d): both cover %s -> %s port "
		     "%u, "
		     "one expects open, the other blocked%s",
		     b->id, a->id, a->line, sc->hosts[s].name, sc->hosts[d].name, b->port,
		     l->from_rank[i] != l->from_rank[j]
		         ? " (a more specific rule overrides a broader one only when it "
		           "covers "
		           "all of its destinations)"
		         : "");
	}
	if (lfailed(l))
		goto out;
	for (size_t i = 0; i < nr; i++) {
		struct scenario_rule *r = &sc->rules[i];
		r->from_hosts = host_list(l, rs.from[i], rs.keep[i], rs.nfrom[i], &r->nfrom);
		r->to_hosts = host_list(l, rs.to[i], NULL, rs.nto[i], &r->nto);
		if (r->from_hosts == NULL || r->to_hosts == NULL) {
			lerr(l, r->line, "out of memory");
			goto out;
		}
	}
	goto out;
oom:
	lerr(l, 0, "out of memory");
out:
	for (size_t r = 0; rh != NULL && r < sc->nroles; r++)
		free(rh[r].v);
	free(rh);
	free(order);
	free(scratch);
	free(ent);
	free(svc.v);
	free(opp.v);
	free(over.v);
	ruleset_free(&rs, nr);
}

static int
rule_id_cmp(const void *a, const void *b, void *arg)
{
	const struct scenario_rule *rules = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(rules[x].id, rules[y].id);

	return c != 0 ? c : (x < y ? -1 : 1);
}

static void
load_rules(struct loader *l, yaml_node_t *list, int line)
{
	struct scenario *sc = l->sc;
	size_t count;

	if ((count = seq_count(l, list, line, "rules", "rule", SC_MAX_RULES)) == 0)
		return;
	sc->rules = calloc(count, sizeof(*sc->rules));
	l->rule_ok = calloc(count, sizeof(*l->rule_ok));
	if (sc->rules == NULL || l->rule_ok == NULL) {
		lerr(l, node_line(list), "out of memory");
		return;
	}
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *n = node_at(l, *it);

		if (n == NULL)
			continue;
		load_rule(l, n, &sc->rules[sc->nrules], &l->rule_ok[sc->nrules]);
		sc->nrules++;
	}
	/* ids sorted (ties in file order): a duplicate follows its first */
	{
		uint32_t *v = malloc((sc->nrules + 1) * sizeof *v);
		size_t n = 0;
		if (v == NULL) {
			lerr(l, 0, "out of memory");
			return;
		}
		for (size_t i = 0; i < sc->nrules; i++)
			if (sc->rules[i].id != NULL)
				v[n++] = (uint32_t)i;
		qsort_r(v, n, sizeof *v, rule_id_cmp, sc->rules);
		for (size_t k = 1, first = 0; k < n; k++) {
			const struct scenario_rule *r = &sc->rules[v[k]], *o = &sc->rules[v[first]];
			if (strcmp(r->id, o->id) != 0) {
				first = k;
				continue;
			}
			lerr(l, r->line, "duplicate rule id '%s' (first on line %d)", r->id,
			     o->line);
		}
		free(v);
	}
}

/* ---- SANs ----------------------------------------------------------------- */

static bool
san_add(char **v, size_t *n, const char *s, const char *fqdn, const char *pool)
{
	if ((fqdn != NULL && strcasecmp(s, fqdn) == 0) ||
	    (pool != NULL && strcasecmp(s, pool) == 0))
		return true;
	for (size_t i = 0; i < *n; i++) {
		if (strcasecmp(v[i], s) == 0)
			return true;
	}
	if ((v[*n] = strdup(s)) == NULL)
		return false;
	(*n)++;
	return true;
}

/* The names a host's certificate needs besides its FQDN and pool (SPEC §4). */
static void
fill_sans(struct loader *l)
{
	struct scenario *sc = l->sc;
	char ldi[300], ld[300], fq[300];

	snprintf(ldi, sizeof(ldi), "lyncdiscoverinternal.%s", sc->domain);
	snprintf(ld, sizeof(ld), "lyncdiscover.%s", sc->domain);
	for (size_t i = 0; i < sc->nhosts; i++) {
		struct scenario_host *h = &sc->hosts[i];
		struct host_extra *hx = &l->hx[i];
		bool pool = h->role->cert_shape == SCENARIO_CERT_POOL;
		size_t max = hx->nsan + (pool ? l->nsimple + 2 + hx->nweb : 0);
		const char *f = scenario_host_fqdn(sc, h, fq, sizeof(fq));
		bool ok = true;

		if (max == 0)
			continue;
		if ((h->san_extra = calloc(max, sizeof(*h->san_extra))) == NULL) {
			lerr(l, h->line, "out of memory");
			return;
		}
		if (pool) {
			for (size_t j = 0; j < l->nsimple; j++)
				ok &= san_add(h->san_extra, &h->nsan_extra, l->simple_urls[j], f,
				              h->pool);
			ok &= san_add(h->san_extra, &h->nsan_extra, ldi, f, h->pool);
			ok &= san_add(h->san_extra, &h->nsan_extra, ld, f, h->pool);
			for (size_t j = 0; j < hx->nweb; j++)
				ok &= san_add(h->san_extra, &h->nsan_extra, hx->web[j], f, h->pool);
		}
		for (size_t j = 0; j < hx->nsan; j++)
			ok &= san_add(h->san_extra, &h->nsan_extra, hx->san[j], f, h->pool);
		if (!ok) {
			lerr(l, h->line, "out of memory");
			return;
		}
	}
}

/* ---- the document ------------------------------------------------------- */

/*
 * libyaml's error, at its line and column. The reader (bad UTF-8, NUL and
 * other control bytes) sets no mark, only the byte offset of the offending
 * octet in the input: the line and column are counted from the text then.
 */
static void
yaml_problem(struct loader *l, const yaml_parser_t *parser, const char *text, size_t len)
{
	size_t line = parser->problem_mark.line, col = parser->problem_mark.column;
	char what[64] = "";

	if (parser->error == YAML_READER_ERROR ||
	    (line == 0 && col == 0 && parser->problem_offset > 0)) {
		size_t off = parser->problem_offset < len ? parser->problem_offset : len;
		line = col = 0;
		for (size_t i = 0; i < off; i++) {
			if (text[i] == '\n') {
				line++;
				col = 0;
			} else if ((text[i] & 0xc0) != 0x80) /* columns count characters */
				col++;
		}
		if (parser->problem_value >= 0)
			snprintf(what, sizeof what, " (byte 0x%02X at column %zu)",
			         (unsigned)parser->problem_value & 0xffu, col + 1);
		else
			snprintf(what, sizeof what, " (at column %zu)", col + 1);
	} else
		snprintf(what, sizeof what, " (at column %zu)", col + 1);
	/* at the end of a file without a final newline libyaml's mark is one line
	 * past it: name the last line the file has */
	{
		size_t last = 0;
		for (size_t i = 0; i < len; i++)
			last += text[i] == '\n';
		if (len > 0 && text[len - 1] == '\n' && last > 0)
			last--;
		if (line > last) {
			/* and the column just past that line's end */
			size_t end = len > 0 && text[len - 1] == '\n' ? len - 1 : len, start = end;
			while (start > 0 && text[start - 1] != '\n')
				start--;
			line = last;
			col = end - start;
			snprintf(what, sizeof what, " (at column %zu)", col + 1);
		}
	}
	lerr(l, (int)line + 1, "YAML syntax error: %s%s%s%s",
	     parser->problem ? parser->problem : "unknown problem", parser->context ? " " : "",
	     parser->context ? parser->context : "", what);
}

/*
 * A first pass over libyaml's events: syntax errors, more than one document,
 * and nesting or size no scenario needs. libyaml's scanner slows down with
 * every open flow level, so a hostile "[[[[..." must stop here, early.
 */
static bool
yaml_precheck(struct loader *l, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	size_t depth = 0, docs = 0, events = 0;
	bool ok = true, done = false;

	if (!yaml_parser_initialize(&parser)) {
		lerr(l, 0, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (ok && !done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			yaml_problem(l, &parser, text, len);
			ok = false;
			break;
		}
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > SC_MAX_DEPTH) {
				lerr(l, (int)ev.start_mark.line + 1,
				     "nesting deeper than %d levels: not a scenario", SC_MAX_DEPTH);
				ok = false;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				lerr(l, (int)ev.start_mark.line + 1,
				     "a second YAML document: a scenario file holds exactly one");
				ok = false;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		if (ok && ++events > SC_MAX_EVENTS) {
			lerr(l, (int)ev.start_mark.line + 1,
			     "more than %d YAML nodes: not a scenario", SC_MAX_EVENTS);
			ok = false;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ok;
}

static void
load_document(struct loader *l, const char *text, size_t len)
{
	struct scenario *sc = l->sc;
	yaml_parser_t parser;
	yaml_node_t *root;
	enum { K_NAME, K_DOMAIN, K_ROLES, K_SIMPLE, K_HOSTS, K_RULES, K_N };
	struct key_spec ks[K_N] = {
	    [K_NAME] = {"name", true, NULL, 0},    [K_DOMAIN] = {"domain", true, NULL, 0},
	    [K_ROLES] = {"roles", false, NULL, 0}, [K_SIMPLE] = {"simple_urls", false, NULL, 0},
	    [K_HOSTS] = {"hosts", true, NULL, 0},  [K_RULES] = {"rules", true, NULL, 0},
	};

	if (!yaml_precheck(l, text, len))
		return;
	if (!yaml_parser_initialize(&parser)) {
		lerr(l, 0, "out of memory");
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &l->doc)) {
		yaml_problem(l, &parser, text, len);
		yaml_parser_delete(&parser);
		return;
	}
	yaml_parser_delete(&parser);
	l->have_doc = true;
	root = yaml_document_get_root_node(&l->doc);
	if (root == NULL) {
		lerr(l, 1, "empty scenario: expected name, domain, hosts and rules");
		return;
	}

	if (!map_keys(l, root, "the scenario", ks, K_N))
		return;
	if (ks[K_NAME].value != NULL &&
	    str_of(l, ks[K_NAME].value, ks[K_NAME].line, "name", "the scenario", &sc->name) &&
	    !valid_ident(sc->name))
		lerr(l, node_line(ks[K_NAME].value),
		     "bad scenario name '%s' (letters, digits, '-', '_', '.')", sc->name);
	if (ks[K_DOMAIN].value != NULL &&
	    str_of(l, ks[K_DOMAIN].value, ks[K_DOMAIN].line, "domain", "the scenario",
	           &sc->domain) &&
	    !valid_dns(sc->domain, false))
		lerr(l, node_line(ks[K_DOMAIN].value), "bad domain '%s'", sc->domain);
	if (ks[K_SIMPLE].value != NULL)
		dns_list(l, ks[K_SIMPLE].value, ks[K_SIMPLE].line, "simple_urls", "the scenario",
		         false, &l->simple_urls, &l->nsimple);
	load_roles(l, ks[K_ROLES].value, ks[K_ROLES].line);
	if (ks[K_HOSTS].value != NULL)
		load_hosts(l, ks[K_HOSTS].value, ks[K_HOSTS].line);
	else
		l->hosts_failed = true;
	if (ks[K_RULES].value != NULL)
		load_rules(l, ks[K_RULES].value, ks[K_RULES].line);
	if (lfailed(l))
		return;
	resolve_rules(l);
	if (lfailed(l))
		return;
	fill_sans(l);
}

struct scenario *
scenario_load_buffer(const char *file, const char *text, size_t len, char *err, size_t errlen)
{
	struct loader l;
	struct scenario *sc;

	memset(&l, 0, sizeof(l));
	l.file = file != NULL ? file : "(scenario)";
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL || (sc->file = strdup(l.file)) == NULL) {
		lerr(&l, 0, "out of memory");
		goto done;
	}
	l.sc = sc;
	if (len > SC_MAX_BYTES)
		lerr(&l, 0, "scenario is too large: %zu bytes (at most %d)", len, SC_MAX_BYTES);
	else if (text == NULL || len == 0)
		lerr(&l, 1, "empty scenario: expected name, domain, hosts and rules");
	else
		load_document(&l, text, len);
done:
	if (l.have_doc)
		yaml_document_delete(&l.doc);
	free_strv(l.simple_urls, l.nsimple);
	for (size_t i = 0; l.hx != NULL && sc != NULL && i < sc->nhosts; i++) {
		free_strv(l.hx[i].web, l.hx[i].nweb);
		free_strv(l.hx[i].san, l.hx[i].nsan);
	}
	free(l.hx);
	free(l.rule_ok);
	free(l.from_rank);
	if (lfailed(&l)) {
		lerr_flush(&l, err, errlen);
		scenario_free(sc);
		sc = NULL;
	}
	for (size_t i = 0; i < l.nmsgs; i++)
		free(l.msgs[i].text);
	free(l.msgs);
	return sc;
}

/* Appends "(built-in scenarios: a, b)" so a mistyped name explains itself. */
static void
builtin_names(char *buf, size_t len)
{
	size_t used = 0;
	int n;

	buf[0] = '\0';
	for (const struct lm_builtin *b = lm_builtin_scenarios; b->name != NULL && used < len;
	     b++) {
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", b->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* A host's relative cert/key paths are relative to the scenario file, not the cwd. */
static int
rebase_paths(struct scenario *sc, const char *spec)
{
	const char *slash = strrchr(spec, '/');
	int dirlen;
	char *p;

	if (slash == NULL)
		return 0;
	dirlen = (int)(slash - spec);
	for (size_t i = 0; i < sc->nhosts; i++) {
		char **v[2] = {&sc->hosts[i].cert, &sc->hosts[i].key};
		for (int k = 0; k < 2; k++) {
			if (*v[k] == NULL || (*v[k])[0] == '/')
				continue;
			if (asprintf(&p, "%.*s/%s", dirlen, spec, *v[k]) < 0)
				return -1;
			free(*v[k]);
			*v[k] = p;
		}
	}
	return 0;
}

struct scenario *
scenario_load(const char *spec, char *err, size_t errlen)
{
	const struct lm_builtin *b;
	struct scenario *sc;
	struct stat st;
	char *buf = NULL, names[256];
	size_t n = 0;
	FILE *f;
	int e;

	if (spec == NULL)
		spec = LM_DEFAULT_SCENARIO;
	b = lm_builtin_find(spec);
	if (b != NULL && stat(spec, &st) != 0)
		return scenario_load_buffer(b->path, b->text, b->len, err, errlen);

	if ((f = lm_fopen_regular(spec)) == NULL)
		goto fail_errno;
	if (fstat(fileno(f), &st) != 0)
		goto fail_file;
	if (!S_ISREG(st.st_mode)) {
		fclose(f);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: not a regular file", spec);
		return NULL;
	}
	if (st.st_size > SC_MAX_BYTES) {
		fclose(f);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: scenario is too large: %lld bytes (at most %d)",
			         spec, (long long)st.st_size, SC_MAX_BYTES);
		return NULL;
	}
	if ((buf = malloc(SC_MAX_BYTES + 1)) == NULL)
		goto fail_file;
	n = fread(buf, 1, SC_MAX_BYTES + 1, f);
	if (ferror(f))
		goto fail_file;
	fclose(f);
	sc = scenario_load_buffer(spec, buf, n, err, errlen);
	free(buf);
	if (sc != NULL && rebase_paths(sc, spec) != 0) {
		scenario_free(sc);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", spec);
		return NULL;
	}
	return sc;

fail_file:
	e = errno;
	fclose(f);
	free(buf);
	errno = e;
fail_errno:
	e = errno;
	builtin_names(names, sizeof(names));
	if (err != NULL && errlen > 0) {
		if (e == EINVAL || e == EISDIR)
			snprintf(err, errlen, "%s: %s", spec, lm_open_strerror(e));
		else if (strchr(spec, '/') == NULL && e == ENOENT)
			snprintf(err, errlen,
			         "%s: cannot read scenario: %s (built-in scenarios: %s)", spec,
			         lm_open_strerror(e), names);
		else
			snprintf(err, errlen, "%s: cannot read scenario: %s", spec,
			         lm_open_strerror(e));
	}
	return NULL;
}
