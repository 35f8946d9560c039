/* lab --firewall FILE: the user's own rule set (nft, iptables-save or a CSV flow table) in the
 * firewall namespace, and where each of its rules is written. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firewall/firewall.h"
#include "lab/lab_int.h"

#define USERFW_MAX_BYTES (4 * 1024 * 1024)

const char *
lab_userfw_kind_name(enum lab_userfw_kind k)
{
	switch (k) {
	case LAB_USERFW_NFT:
		return "nftables ruleset";
	case LAB_USERFW_IPTABLES:
		return "iptables-save dump";
	case LAB_USERFW_IP6TABLES:
		return "ip6tables-save dump";
	case LAB_USERFW_CSV:
		return "CSV flow table";
	}
	return "?";
}

static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = lm_fopen_regular(path); /* a FIFO is refused, not waited on */
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, lm_open_strerror(errno));
		return NULL;
	}
	if ((buf = malloc(USERFW_MAX_BYTES + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, USERFW_MAX_BYTES + 1, f);
	if (ferror(f) || n > USERFW_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", path,
		         ferror(f) ? strerror(errno) : "larger than 4 MiB");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The next line of text from *pos: its bounds (without the newline); false at the end. */
static bool
next_line(const char *text, size_t len, size_t *pos, const char **s, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*s = text + *pos;
	nl = memchr(*s, '\n', len - *pos);
	*n = nl != NULL ? (size_t)(nl - *s) : len - *pos;
	*pos += *n + (nl != NULL);
	while (*n > 0 && ((*s)[*n - 1] == '\r' || isspace((unsigned char)(*s)[*n - 1])))
		(*n)--;
	while (*n > 0 && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	return true;
}

static bool
starts(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);
	return n >= w && strncmp(s, word, w) == 0 && (n == w || isspace((unsigned char)s[w]));
}

/* Decided from content: iptables-save has *table / :CHAIN / -A / COMMIT lines, a flow table
 * a header naming an action column; anything else goes to nft, whose own error says more. */
static enum lab_userfw_kind
detect(const char *path, const char *text, size_t len)
{
	size_t pos = 0, n;
	const char *s;
	bool star = false, append = false, commit = false, v6 = false;
	const char *dot = strrchr(path, '.');

	if (strstr(text, "ip6tables-save") != NULL)
		v6 = true;
	while (next_line(text, len, &pos, &s, &n)) {
		if (n == 0 || *s == '#')
			continue;
		if (*s == '*')
			star = true;
		else if (starts(s, n, "-A") || starts(s, n, "-I"))
			append = true;
		else if (starts(s, n, "COMMIT"))
			commit = true;
		if (append && (memmem(s, n, ":", 1) != NULL) &&
		    (memmem(s, n, " -s ", 4) || memmem(s, n, " -d ", 4))) {
			/* an IPv6 address in -s / -d: an ip6tables-save dump */
			const char *a = memmem(s, n, " -s ", 4) ? memmem(s, n, " -s ", 4)
			                                        : memmem(s, n, " -d ", 4);
			for (a += 4; a < s + n && !isspace((unsigned char)*a); a++)
				if (*a == ':')
					v6 = true;
		}
	}
	if (star && commit)
		return v6 ? LAB_USERFW_IP6TABLES : LAB_USERFW_IPTABLES;
	if ((dot != NULL && strcasecmp(dot, ".csv") == 0))
		return LAB_USERFW_CSV;
	pos = 0;
	while (next_line(text, len, &pos, &s, &n)) {
		if (n == 0 || *s == '#')
			continue;
		/* the first row of a flow table: comma-separated, with an action column */
		if (memchr(s, ',', n) != NULL && memchr(s, '{', n) == NULL &&
		    (strcasestr(s, "action") != NULL || strcasestr(s, "verdict") != NULL))
			return LAB_USERFW_CSV;
		break;
	}
	return LAB_USERFW_NFT;
}

static int
rule_add(struct lab_userfw *u, const char *family, const char *table, const char *chain, int line,
         const char *text, size_t n, bool at_front)
{
	struct lab_fwrule *nr = realloc(u->rules, (u->nrules + 1) * sizeof *nr), *r;
	const char *c;
	size_t index = 0;

	if (nr == NULL)
		return -1;
	u->rules = nr;
	for (size_t i = 0; i < u->nrules; i++)
		if (strcmp(u->rules[i].family, family) == 0 &&
		    strcmp(u->rules[i].table, table) == 0 &&
		    strcmp(u->rules[i].chain, chain) == 0) {
			if (at_front)
				u->rules[i].index++;
			else
				index++;
		}
	r = &u->rules[u->nrules];
	memset(r, 0, sizeof *r);
	snprintf(r->family, sizeof r->family, "%s", family);
	snprintf(r->table, sizeof r->table, "%s", table);
	snprintf(r->chain, sizeof r->chain, "%s", chain);
	r->index = at_front ? 0 : index;
	r->line = line;
	r->handle = -1;
	if ((r->text = strndup(text, n)) == NULL)
		return -1;
	/* nft: comment "x"; iptables: --comment x or --comment "x" */
	if ((c = strstr(r->text, "comment \"")) != NULL ||
	    (c = strstr(r->text, "--comment \"")) != NULL) {
		const char *q = strchr(c, '"') + 1, *e = strchr(q, '"');
		if (e != NULL)
			r->comment = strndup(q, (size_t)(e - q));
	} else if ((c = strstr(r->text, "--comment ")) != NULL) {
		const char *q = c + 10;
		size_t k = strcspn(q, " \t");
		r->comment = strndup(q, k);
	}
	u->nrules++;
	return 0;
}

/* Words of a line, up to max, each NUL-terminated in buf. */
static size_t
words(const char *s, size_t n, char *buf, size_t buflen, char **w, size_t max)
{
	size_t k = 0, o = 0;

	for (size_t i = 0; i < n && k < max;) {
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i >= n)
			break;
		w[k++] = buf + o;
		while (i < n && !isspace((unsigned char)s[i]) && o + 1 < buflen)
			buf[o++] = s[i++];
		if (o + 1 >= buflen)
			break;
		buf[o++] = '\0';
	}
	return k;
}

static bool
is_family(const char *w)
{
	return strcmp(w, "ip") == 0 || strcmp(w, "ip6") == 0 || strcmp(w, "inet") == 0 ||
	       strcmp(w, "arp") == 0 || strcmp(w, "bridge") == 0 || strcmp(w, "netdev") == 0;
}

/* Where each rule of an nft file is: `table F T { chain C { rule } }` blocks, and
 * `add|insert rule F T C ...` commands. A line-oriented reading, good for files as
 * `nft list ruleset` prints them and as people write them. */
static int
map_nft(struct lab_userfw *u, const char *text, size_t len)
{
	enum { B_TABLE, B_CHAIN, B_OTHER } stack[32];
	char family[8] = "ip", table[64] = "", chain[64] = "", wb[512], *w[8];
	size_t pos = 0, n, depth = 0, nw;
	const char *s;
	int line = 0;

	while (next_line(text, len, &pos, &s, &n)) {
		line++;
		if (n == 0 || *s == '#')
			continue;
		nw = words(s, n, wb, sizeof wb, w, 8);
		if (nw == 0)
			continue;
		if (strcmp(w[0], "}") == 0) {
			if (depth > 0)
				depth--;
			continue;
		}
		if ((strcmp(w[0], "add") == 0 || strcmp(w[0], "insert") == 0) && nw >= 5 &&
		    strcmp(w[1], "rule") == 0) {
			/* add rule [family] table chain stmt... */
			size_t k = 2;
			const char *fam = "ip";
			if (is_family(w[k]))
				fam = w[k++];
			if (k + 1 < nw && rule_add(u, fam, w[k], w[k + 1], line, s, n,
			                           strcmp(w[0], "insert") == 0) == -1)
				return -1;
			continue;
		}
		if (strcmp(w[0], "table") == 0 && s[n - 1] == '{' && depth < 32) {
			size_t k = 1;
			snprintf(family, sizeof family, "ip");
			if (nw > 2 && is_family(w[k]))
				snprintf(family, sizeof family, "%s", w[k++]);
			snprintf(table, sizeof table, "%s", w[k]);
			stack[depth++] = B_TABLE;
			continue;
		}
		if (strcmp(w[0], "chain") == 0 && s[n - 1] == '{' && depth < 32 && depth > 0 &&
		    stack[depth - 1] == B_TABLE) {
			snprintf(chain, sizeof chain, "%s", w[1]);
			stack[depth++] = B_CHAIN;
			continue;
		}
		if (s[n - 1] == '{' && depth < 32) {
			stack[depth++] = B_OTHER; /* set, map, counter, ct timeout... */
			continue;
		}
		if (depth == 0 || stack[depth - 1] != B_CHAIN)
			continue;
		if (strcmp(w[0], "type") == 0 || strcmp(w[0], "policy") == 0 ||
		    strcmp(w[0], "comment") == 0 || strcmp(w[0], "devices") == 0)
			continue;
		if (rule_add(u, family, table, chain, line, s, n, false) == -1)
			return -1;
	}
	return 0;
}

/* iptables-save: `*table`, then `-A CHAIN ...` lines, in order, per table. */
static int
map_iptables(struct lab_userfw *u, const char *text, size_t len, const char *family)
{
	char table[64] = "filter", wb[256], *w[4];
	size_t pos = 0, n, nw;
	const char *s;
	int line = 0;

	while (next_line(text, len, &pos, &s, &n)) {
		line++;
		if (n == 0 || *s == '#')
			continue;
		if (*s == '*') {
			snprintf(table, sizeof table, "%.*s", (int)(n - 1 < 63 ? n - 1 : 63),
			         s + 1);
			continue;
		}
		nw = words(s, n, wb, sizeof wb, w, 4);
		if (nw >= 2 && (strcmp(w[0], "-A") == 0 || strcmp(w[0], "-I") == 0) &&
		    rule_add(u, family, table, w[1], line, s, n, strcmp(w[0], "-I") == 0) == -1)
			return -1;
	}
	return 0;
}

/* The nft rules a flow table becomes, and where each row is: named by its id
 * and what it says, not by the comment lyncmock gave it. */
static int
map_flows(struct lab_userfw *u, const struct firewall_flow *fl, size_t n)
{
	static const char est[] = "ct state established,related accept";
	char text[512], ports[32];

	if (rule_add(u, "inet", "flows", "forward", 0, est, sizeof est - 1, false) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *pr = fl[i].proto == FIREWALL_PROTO_TCP   ? "tcp"
		                 : fl[i].proto == FIREWALL_PROTO_UDP ? "udp"
		                                                     : "any";
		if (fl[i].port_lo == 0)
			snprintf(ports, sizeof ports, "any port");
		else if (fl[i].port_lo == fl[i].port_hi)
			snprintf(ports, sizeof ports, "%u", fl[i].port_lo);
		else
			snprintf(ports, sizeof ports, "%u-%u", fl[i].port_lo, fl[i].port_hi);
		snprintf(text, sizeof text, "%s%s%s -> %s %s %s %s", fl[i].id,
		         fl[i].id[0] ? ": " : "", fl[i].src, fl[i].dst, pr, ports,
		         fl[i].allow    ? "allow"
		         : fl[i].reject ? "reject"
		                        : "deny");
		if (rule_add(u, "inet", "flows", "forward", fl[i].line, text, strlen(text),
		             false) == -1)
			return -1;
	}
	return 0;
}

void
lab_userfw_free(struct lab_userfw *u)
{
	for (size_t i = 0; u != NULL && i < u->nrules; i++) {
		free(u->rules[i].text);
		free(u->rules[i].comment);
	}
	if (u != NULL) {
		free(u->rules);
		free(u->ifnames);
		u->rules = NULL;
		u->nrules = 0;
		u->ifnames = NULL;
		u->nifnames = 0;
	}
}

/* Interface names the file matches on (nft iifname/oifname/iif/oif, iptables -i/-o). */
static int
note_ifname(struct lab_userfw *u, const char *name, size_t n)
{
	char buf[16], **nv;

	while (n > 0 && (*name == '"' || *name == '{' || *name == ' '))
		name++, n--;
	while (n > 0 && (name[n - 1] == '"' || name[n - 1] == ',' || name[n - 1] == '}'))
		n--;
	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, name, n);
	buf[n] = '\0';
	if (buf[0] == '$' || strcmp(buf, "lo") == 0)
		return 0;
	for (size_t i = 0; i < u->nifnames; i++)
		if (strcmp(u->ifnames[i], buf) == 0)
			return 0;
	if (u->nifnames >= 64)
		return 0;
	if ((nv = realloc(u->ifnames, (u->nifnames + 1) * sizeof *nv)) == NULL)
		return -1;
	u->ifnames = nv;
	snprintf(u->ifname_buf[u->nifnames], sizeof u->ifname_buf[0], "%s", buf);
	u->ifnames[u->nifnames] = u->ifname_buf[u->nifnames];
	u->nifnames++;
	return 0;
}

static int
scan_ifnames(struct lab_userfw *u, const char *text)
{
	static const char *const kw[] = {
	    "iifname ",        "oifname ",        "iif ", "oif ", " -i ", " -o ",
	    "--in-interface ", "--out-interface "};
	for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++) {
		for (const char *p = strstr(text, kw[k]); p != NULL; p = strstr(p + 1, kw[k])) {
			const char *v = p + strlen(kw[k]);
			if (*v == '!')
				v += 2;
			if (*v == '{') {
				/* a set: { "a", "b" } */
				const char *e = strchr(v, '}');
				for (v++; e != NULL && v < e;) {
					size_t m;
					while (v < e && (*v == ' ' || *v == ','))
						v++;
					m = strcspn(v, " ,}");
					if (note_ifname(u, v, m) == -1)
						return -1;
					v += m;
				}
				continue;
			}
			if (note_ifname(u, v, strcspn(v, " \t\n;")) == -1)
				return -1;
		}
	}
	return 0;
}

int
lab_userfw_read(struct lab_userfw *u, const char *path, const struct scenario *sc, char **nft,
                size_t *nftlen, char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	char *text;
	size_t len;
	int rc = -1;

	memset(u, 0, sizeof *u);
	*nft = NULL;
	*nftlen = 0;
	err[0] = '\0';
	snprintf(u->path, sizeof u->path, "%s", path);
	snprintf(u->name, sizeof u->name, "%s", base != NULL ? base + 1 : path);
	if ((text = read_file(path, &len, err, errlen)) == NULL)
		return -1;
	u->kind = detect(path, text, len);
	switch (u->kind) {
	case LAB_USERFW_NFT:
		rc = map_nft(u, text, len);
		break;
	case LAB_USERFW_IPTABLES:
		rc = map_iptables(u, text, len, "ip");
		break;
	case LAB_USERFW_IP6TABLES:
		rc = map_iptables(u, text, len, "ip6");
		break;
	case LAB_USERFW_CSV: {
		struct firewall_flow *fl;
		size_t n;
		if (firewall_flows_read(u->name, text, len, &fl, &n, err, errlen) == -1)
			goto out;
		if (firewall_flows_nft(sc, u->name, fl, n, nft, nftlen, err, errlen) == -1) {
			firewall_flows_free(fl, n);
			goto out;
		}
		rc = map_flows(u, fl, n);
		firewall_flows_free(fl, n);
		break;
	}
	}
	if (rc == 0 && u->kind != LAB_USERFW_CSV)
		rc = scan_ifnames(u, text);
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
out:
	free(text);
	if (rc == -1) {
		lab_userfw_free(u);
		free(*nft);
		*nft = NULL;
		*nftlen = 0;
	}
	return rc;
}

int
lab_userfw_map_text(struct lab_userfw *u, const char *name, const char *text, size_t len)
{
	memset(u, 0, sizeof *u);
	u->kind = LAB_USERFW_NFT;
	snprintf(u->name, sizeof u->name, "%s", name);
	return map_nft(u, text, len);
}

/* The loader's own words: nft names the file and line; iptables-restore says "line N failed". */
int
lab_userfw_load(const struct lab_userfw *u, const struct lab_net *net, const char *nft,
                size_t nftlen, char *err, size_t errlen)
{
	char lerr[3072];
	int rc;

	lerr[0] = '\0';
	if (u->kind == LAB_USERFW_CSV) {
		char *const argv[] = {"nft", "-f", "-", NULL};
		rc = lab_cmd(net->fw_ns, argv, nft, nftlen, lerr, sizeof lerr);
	} else if (u->kind == LAB_USERFW_NFT) {
		char *const argv[] = {"nft", "-f", (char *)u->path, NULL};
		rc = lab_cmd(net->fw_ns, argv, NULL, 0, lerr, sizeof lerr);
	} else {
		char *text;
		size_t len;
		char *const argv4[] = {"iptables-nft-restore", NULL};
		char *const argv6[] = {"ip6tables-nft-restore", NULL};
		if ((text = read_file(u->path, &len, err, errlen)) == NULL)
			return -1;
		rc = lab_cmd(net->fw_ns, u->kind == LAB_USERFW_IPTABLES ? argv4 : argv6, text, len,
		             lerr, sizeof lerr);
		free(text);
	}
	if (rc == -1) {
		size_t n = strlen(lerr);
		while (n > 0 && (lerr[n - 1] == '\n' || lerr[n - 1] == ' '))
			lerr[--n] = '\0';
		if (u->kind == LAB_USERFW_NFT)
			snprintf(err, errlen, "%s does not load (nft -f):\n%s", u->path, lerr);
		else
			snprintf(err, errlen, "%s: %s does not load (%s): %s", u->path,
			         lab_userfw_kind_name(u->kind),
			         u->kind == LAB_USERFW_CSV        ? "nft -f"
			         : u->kind == LAB_USERFW_IPTABLES ? "iptables-nft-restore"
			                                          : "ip6tables-nft-restore",
			         lerr);
		return -1;
	}
	return 0;
}

/* ---- interface names: the file's, mapped onto the lab's links --------------- */

int
lab_iface_parse(const char *text, struct lab_iface *i)
{
	const char *eq = strchr(text, '=');
	size_t n;

	if (eq == NULL || eq == text || eq[1] == '\0')
		return -1;
	n = (size_t)(eq - text);
	if (n >= sizeof i->name || strlen(eq + 1) >= sizeof i->target)
		return -1;
	memcpy(i->name, text, n);
	i->name[n] = '\0';
	snprintf(i->target, sizeof i->target, "%s", eq + 1);
	for (const char *p = i->name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return -1;
	return 0;
}

/* Does iface mapping i (or the file's name matching a host or role) take host h? */
static bool
iface_has(const char *target, const struct scenario_host *h)
{
	/* a comma-separated list of hosts and roles */
	for (const char *p = target; *p;) {
		size_t n = strcspn(p, ",");
		if ((strlen(h->name) == n && strncmp(p, h->name, n) == 0) ||
		    (strlen(h->role->name) == n && strncmp(p, h->role->name, n) == 0))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static bool
ifname_used(const struct lab_userfw *u, const char *name)
{
	for (size_t i = 0; i < u->nifnames; i++)
		if (strcmp(u->ifnames[i], name) == 0)
			return true;
	return false;
}

int
lab_ifaces_resolve(const struct scenario *sc, const struct lab_userfw *u,
                   const struct lab_iface *in, size_t nin, struct lab_iface *out, size_t *nout,
                   FILE *log, char *err, size_t errlen)
{
	*nout = 0;
	for (size_t i = 0; i < nin; i++) {
		for (const char *p = in[i].target; *p;) {
			size_t n = strcspn(p, ",");
			bool any = false;
			for (size_t j = 0; j < sc->nhosts; j++) {
				const struct scenario_host *h = &sc->hosts[j];
				any = any ||
				      (strlen(h->name) == n && strncmp(p, h->name, n) == 0) ||
				      (strlen(h->role->name) == n &&
				       strncmp(p, h->role->name, n) == 0);
			}
			if (!any) {
				snprintf(err, errlen,
				         "--iface %s=%s: no host or role '%.*s' in scenario %s",
				         in[i].name, in[i].target, (int)n, p, sc->name);
				return -1;
			}
			p += n;
			if (*p == ',')
				p++;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(in[j].name, in[i].name) == 0) {
				snprintf(err, errlen, "--iface %s given twice", in[i].name);
				return -1;
			}
		out[(*nout)++] = in[i];
	}
	/* the obvious default: an interface named after a host or a role is that host's link */
	for (size_t k = 0; k < u->nifnames && *nout < LAB_MAX_IFACES; k++) {
		const char *name = u->ifnames[k];
		bool mapped = false, match = false;
		for (size_t i = 0; i < *nout; i++)
			mapped = mapped || strcmp(out[i].name, name) == 0;
		for (size_t j = 0; !mapped && j < sc->nhosts; j++)
			match = match || iface_has(name, &sc->hosts[j]);
		if (mapped)
			continue;
		if (match) {
			snprintf(out[*nout].name, sizeof out[*nout].name, "%s", name);
			snprintf(out[*nout].target, sizeof out[*nout].target, "%s", name);
			(*nout)++;
		} else if (log != NULL) {
			fprintf(
			    log,
			    "lab: warning: %s matches on interface %s, which no --iface maps: its "
			    "rules match no lab traffic (--iface %s=HOST|ROLE)\n",
			    u->name, name, name);
		}
	}
	for (size_t i = 0; i < *nout; i++)
		if (!ifname_used(u, out[i].name) && log != NULL)
			fprintf(log, "lab: note: --iface %s: %s does not name that interface\n",
			        out[i].name, u->name);
	/* a host on two links cannot be */
	for (size_t j = 0; j < sc->nhosts; j++) {
		const char *first = NULL;
		for (size_t i = 0; i < *nout; i++) {
			if (!iface_has(out[i].target, &sc->hosts[j]))
				continue;
			if (first != NULL) {
				snprintf(err, errlen, "host %s is on two interfaces: %s and %s",
				         sc->hosts[j].name, first, out[i].name);
				return -1;
			}
			first = out[i].name;
		}
	}
	return 0;
}

/*
 * Renames the firewall's link to a host after the user's interface, or, for a
 * role with several hosts, makes a bridge of that name holding their links: the
 * routed traffic then comes in and goes out on the interface the file names.
 */
int
lab_ifaces_apply(struct lab_net *net, const struct lab_iface *ifs, size_t n, char *err,
                 size_t errlen)
{
	char *script = NULL;
	size_t slen = 0;
	FILE *f;
	int rc;

	if (n == 0)
		return 0;
	if ((f = open_memstream(&script, &slen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t members = 0;
		for (size_t h = 0; h < net->nhosts; h++)
			members += iface_has(ifs[i].target, net->hosts[h].host);
		if (members == 1) {
			for (size_t h = 0; h < net->nhosts; h++) {
				struct lab_nshost *nh = &net->hosts[h];
				const char *plen = nh->family == AF_INET6 ? "128" : "32";
				if (!iface_has(ifs[i].target, nh->host))
					continue;
				fprintf(f,
				        "link set %s down\nlink set %s name %s\nlink set %s up\n"
				        "route replace %s/%s dev %s\n",
				        nh->fw_if, nh->fw_if, ifs[i].name, ifs[i].name,
				        nh->host->address, plen, ifs[i].name);
				snprintf(nh->fw_if, sizeof nh->fw_if, "%s", ifs[i].name);
			}
			continue;
		}
		fprintf(f, "link add %s type bridge\nlink set %s up\n", ifs[i].name, ifs[i].name);
		for (size_t h = 0; h < net->nhosts; h++) {
			struct lab_nshost *nh = &net->hosts[h];
			const char *plen = nh->family == AF_INET6 ? "128" : "32";
			bool dup = false;
			if (!iface_has(ifs[i].target, nh->host))
				continue;
			for (size_t g = 0; g < h; g++)
				dup = dup || (iface_has(ifs[i].target, net->hosts[g].host) &&
				              strcmp(net->hosts[g].gw, nh->gw) == 0);
			fprintf(f, "addr flush dev %s\nlink set %s master %s\n", nh->fw_if,
			        nh->fw_if, ifs[i].name);
			if (!dup)
				fprintf(f, "addr add %s/%s dev %s%s\n", nh->gw, plen, ifs[i].name,
				        nh->family == AF_INET6 ? " nodad" : "");
			fprintf(f, "route replace %s/%s dev %s\n", nh->host->address, plen,
			        ifs[i].name);
		}
	}
	if (fclose(f) != 0) {
		free(script);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	{
		char *const argv[] = {"ip", "-n", net->fw_ns, "-batch", "-", NULL};
		rc = lab_cmd(NULL, argv, script, slen, err, errlen);
	}
	free(script);
	/* hosts sharing a bridge reach each other through the firewall, never by a redirect */
	if (rc == 0)
		rc = lab_ns_sysctl(net->fw_ns, "/proc/sys/net/ipv4/conf/all/send_redirects", "0",
		                   err, errlen);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char path[128];
		snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/send_redirects",
		         ifs[i].name);
		rc = lab_ns_sysctl(net->fw_ns, path, "0", err, errlen);
	}
	return rc;
}

/* ---- --break RULE=idle-timeout:S ------------------------------------------ */

int
lab_faults_idle_load(const struct lab_net *net, const struct scenario *sc,
                     const struct lab_fault *faults, size_t nfaults, bool held, char *err,
                     size_t errlen)
{
	char *text = NULL, id[128];
	size_t len = 0, n = 0;
	FILE *f;
	int rc;

	if (held && lab_ns_sysctl(net->fw_ns, "/proc/sys/net/netfilter/nf_conntrack_tcp_loose", "0",
	                          err, errlen) == -1)
		return -1;
	if ((f = open_memstream(&text, &len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f, "table inet lyncmock_faults {\n");
	for (size_t i = 0; i < nfaults; i++) {
		const struct scenario_rule *r = lab_rule_find(sc, faults[i].rule_id);
		if (lab_fault_info(faults[i].kind)->inject != LAB_INJECT_CONNTRACK || r == NULL)
			continue;
		firewall_label(r->id, id, sizeof id);
		for (int fam = 0; fam < 2; fam++)
			fprintf(f,
			        "\tct timeout idle%zu_%s {\n\t\tprotocol tcp;\n\t\tl3proto %s;\n"
			        "\t\tpolicy = { established: %u, close_wait: %u };\n\t}\n",
			        i, fam ? "6" : "4", fam ? "ip6" : "ip", faults[i].seconds,
			        faults[i].seconds);
		n++;
	}
	/* after conntrack (-200), on the first packet, ahead of the filters */
	fprintf(f, "\tchain prerouting {\n\t\ttype filter hook prerouting priority -150; "
	           "policy accept;\n");
	for (size_t i = 0; i < nfaults; i++) {
		const struct scenario_rule *r = lab_rule_find(sc, faults[i].rule_id);
		if (lab_fault_info(faults[i].kind)->inject != LAB_INJECT_CONNTRACK || r == NULL)
			continue;
		for (size_t s = 0; s < r->nfrom; s++)
			for (size_t d = 0; d < r->nto; d++) {
				int fam = r->from_hosts[s]->addr.ss_family;
				if (r->from_hosts[s] == r->to_hosts[d] ||
				    fam != r->to_hosts[d]->addr.ss_family)
					continue;
				fprintf(f,
				        "\t\t%s saddr %s %s daddr %s tcp dport %u ct timeout set "
				        "\"idle%zu_%s\"\n",
				        fam == AF_INET6 ? "ip6" : "ip", r->from_hosts[s]->address,
				        fam == AF_INET6 ? "ip6" : "ip", r->to_hosts[d]->address,
				        (unsigned)r->port, i, fam == AF_INET6 ? "6" : "4");
			}
	}
	fprintf(f, "\t}\n}\n");
	if (fclose(f) != 0) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = 0;
	if (n > 0) {
		char *const argv[] = {"nft", "-f", "-", NULL};
		rc = lab_cmd(net->fw_ns, argv, text, len, err, errlen);
	}
	free(text);
	return rc;
}
