/* The flow table (CSV) a firewall team works from: written for a scenario, read back as a firewall.
 */
#include <arpa/inet.h>
#include <csv.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "firewall/firewall.h"

/* The page the port matrix comes from (SPEC §1). */
#define FIREWALL_MS_PAGE                                                                           \
	"https://learn.microsoft.com/en-us/lyncserver/"                                            \
	"lync-server-2013-port-summary-single-director"

static const char *const csv_columns[] = {
    "rule_id",  "source_host", "source_address", "destination_host", "destination_address",
    "protocol", "port",        "service",        "purpose",          "reference",
    "action",
};
#define NCOLS (sizeof csv_columns / sizeof csv_columns[0])

static void
put_row(FILE *f, const char *const *cells, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *c = cells[i] != NULL ? cells[i] : "";
		if (i > 0)
			fputc(',', f);
		csv_fwrite(f, c, strlen(c)); /* quoted, quotes doubled */
	}
	fputs("\r\n", f); /* RFC 4180 */
}

static void
render(struct firewall_doc *d)
{
	char port[16];

	put_row(d->f, csv_columns, NCOLS);
	for (size_t i = 0; i < d->npaths; i++) {
		const struct firewall_path *p = &d->paths[i];
		const struct lm_service_info *si = lm_service_info(p->rule->service);
		const char *cells[NCOLS];

		scenario_rule_ports(p->rule, '-', port, sizeof port);
		cells[0] = p->rule->id;
		cells[1] = p->src->name;
		cells[2] = p->src->address;
		cells[3] = p->dst->name;
		cells[4] = p->dst->address;
		cells[5] = scenario_rule_l4(p->rule);
		cells[6] = port;
		cells[7] = lm_service_name(p->rule->service);
		cells[8] = si != NULL ? si->purpose : "";
		cells[9] = FIREWALL_MS_PAGE;
		cells[10] = "allow";
		put_row(d->f, cells, NCOLS);
	}
}

int
firewall_csv(const struct scenario *sc, const struct firewall_opts *o, char **out, size_t *outlen,
             char *err, size_t errlen)
{
	return firewall_doc_render(sc, o, render, out, outlen, err, errlen);
}

/* ---- reading a flow table ------------------------------------------------ */

enum col {
	COL_ID,
	COL_SRC,
	COL_SRC_HOST,
	COL_DST,
	COL_DST_HOST,
	COL_PROTO,
	COL_PORT,
	COL_ACTION,
	COL_PURPOSE,
	COL__N
};

/* Header spellings a firewall manager's export may use, per column. */
static const char *const col_names[COL__N][6] = {
    [COL_ID] = {"rule_id", "rule", "id", "name", NULL},
    [COL_SRC] = {"source_address", "source", "src", "source_ip", "from", NULL},
    [COL_SRC_HOST] = {"source_host", NULL},
    [COL_DST] = {"destination_address", "destination", "dst", "destination_ip", "to", NULL},
    [COL_DST_HOST] = {"destination_host", NULL},
    [COL_PROTO] = {"protocol", "proto", NULL},
    [COL_PORT] = {"port", "ports", "dport", "destination_port", "service_port", NULL},
    [COL_ACTION] = {"action", "verdict", NULL},
    [COL_PURPOSE] = {"purpose", "description", "comment", NULL},
};

#define FLOW_MAX_ROWS 65536
#define FLOW_MAX_FIELD 1024

struct flow_reader {
	const char *name;
	int line;      /* the line being fed to the parser */
	int row_line;  /* the line the current row started on */
	bool in_row;   /* a row has started and not ended */
	char **fields; /* the current row */
	size_t nfields;
	bool header_done;
	int col[COL__N]; /* field index per column, -1 when absent */
	struct firewall_flow *flows;
	size_t n;
	bool failed;
	bool oom;
	char *err;
	size_t errlen;
};

static void rd_fail(struct flow_reader *rd, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rd_fail(struct flow_reader *rd, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (rd->failed)
		return; /* the first problem is the one to fix */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->errlen, "%s:%d: %s", rd->name, line, msg);
	rd->failed = true;
}

static void
row_reset(struct flow_reader *rd)
{
	for (size_t i = 0; i < rd->nfields; i++)
		free(rd->fields[i]);
	free(rd->fields);
	rd->fields = NULL;
	rd->nfields = 0;
}

/* A copy of a field without surrounding blanks. */
static char *
trimmed(const char *s, size_t len)
{
	char *out;

	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

static void
on_field(void *s, size_t len, void *data)
{
	struct flow_reader *rd = data;
	char **nf;

	if (rd->failed)
		return;
	if (len > FLOW_MAX_FIELD) {
		rd_fail(rd, rd->line, "field longer than %d bytes", FLOW_MAX_FIELD);
		return;
	}
	if (rd->nfields >= 64) {
		rd_fail(rd, rd->row_line, "more than 64 columns");
		return;
	}
	if ((nf = realloc(rd->fields, (rd->nfields + 1) * sizeof *nf)) == NULL) {
		rd->oom = rd->failed = true;
		return;
	}
	rd->fields = nf;
	if ((rd->fields[rd->nfields] = trimmed(s != NULL ? s : "", s != NULL ? len : 0)) == NULL) {
		rd->oom = rd->failed = true;
		return;
	}
	rd->nfields++;
}

static const char *
field(const struct flow_reader *rd, enum col c)
{
	int i = rd->col[c];
	if (i < 0 || (size_t)i >= rd->nfields)
		return "";
	return rd->fields[i];
}

static void
read_header(struct flow_reader *rd)
{
	for (int c = 0; c < COL__N; c++)
		rd->col[c] = -1;
	for (size_t i = 0; i < rd->nfields; i++) {
		for (int c = 0; c < COL__N; c++) {
			for (size_t k = 0; col_names[c][k] != NULL; k++) {
				if (rd->col[c] == -1 &&
				    strcasecmp(rd->fields[i], col_names[c][k]) == 0)
					rd->col[c] = (int)i;
			}
		}
	}
	if (rd->col[COL_SRC] == -1 && rd->col[COL_SRC_HOST] == -1)
		rd_fail(rd, rd->row_line, "no source column (source_address or source_host)");
	else if (rd->col[COL_DST] == -1 && rd->col[COL_DST_HOST] == -1)
		rd_fail(rd, rd->row_line,
		        "no destination column (destination_address or destination_host)");
	else if (rd->col[COL_PORT] == -1)
		rd_fail(rd, rd->row_line, "no port column");
	else if (rd->col[COL_ACTION] == -1)
		rd_fail(rd, rd->row_line, "no action column (allow or deny)");
	rd->header_done = true;
}

/* "443", "50000-59999", "any" or "" (any). */
static int
parse_ports(const char *s, unsigned *lo, unsigned *hi)
{
	char a[16], b[16];
	const char *dash;
	long x, y;

	if (*s == '\0' || strcasecmp(s, "any") == 0 || strcmp(s, "*") == 0) {
		*lo = *hi = 0;
		return 0;
	}
	if ((dash = strchr(s, '-')) == NULL) {
		if (lm_parse_long(s, 1, 65535, &x) == -1)
			return -1;
		*lo = *hi = (unsigned)x;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof a || strlen(dash + 1) >= sizeof b)
		return -1;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = '\0';
	snprintf(b, sizeof b, "%s", dash + 1);
	if (lm_parse_long(a, 1, 65535, &x) == -1 || lm_parse_long(b, 1, 65535, &y) == -1 || y < x)
		return -1;
	*lo = (unsigned)x;
	*hi = (unsigned)y;
	return 0;
}

/* An address, a CIDR, a host name or any: what a source or destination cell may hold. */
static int
valid_endpoint(const char *s)
{
	char buf[128];
	const char *slash = strchr(s, '/');
	long plen;

	if (*s == '\0')
		return -1;
	if (strcasecmp(s, "any") == 0 || strcmp(s, "*") == 0)
		return 0;
	if (slash != NULL) {
		int fam;
		if ((size_t)(slash - s) >= sizeof buf)
			return -1;
		memcpy(buf, s, (size_t)(slash - s));
		buf[slash - s] = '\0';
		if ((fam = firewall_addr_family(buf)) == -1 ||
		    lm_parse_long(slash + 1, 0, fam == AF_INET ? 32 : 128, &plen) == -1)
			return -1;
		return 0;
	}
	if (firewall_addr_family(s) != -1)
		return 0;
	/* a host name: letters, digits, . _ - */
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return -1;
	return strlen(s) <= 253 ? 0 : -1;
}

static void
read_flow(struct flow_reader *rd)
{
	struct firewall_flow fl, *nf;
	const char *src, *dst, *proto, *port, *action;

	memset(&fl, 0, sizeof fl);
	fl.line = rd->row_line;
	src = field(rd, COL_SRC)[0] ? field(rd, COL_SRC) : field(rd, COL_SRC_HOST);
	dst = field(rd, COL_DST)[0] ? field(rd, COL_DST) : field(rd, COL_DST_HOST);
	proto = rd->col[COL_PROTO] == -1 ? "tcp" : field(rd, COL_PROTO);
	port = field(rd, COL_PORT);
	action = field(rd, COL_ACTION);

	if (valid_endpoint(src) == -1)
		return rd_fail(rd, fl.line,
		               "source '%.64s': expected an address, a CIDR, a host name or any",
		               src);
	if (valid_endpoint(dst) == -1)
		return rd_fail(
		    rd, fl.line,
		    "destination '%.64s': expected an address, a CIDR, a host name or any", dst);
	if (strcasecmp(proto, "tcp") == 0)
		fl.proto = FIREWALL_PROTO_TCP;
	else if (strcasecmp(proto, "udp") == 0)
		fl.proto = FIREWALL_PROTO_UDP;
	else if (*proto == '\0' || strcasecmp(proto, "any") == 0 || strcmp(proto, "*") == 0 ||
	         strcasecmp(proto, "ip") == 0)
		fl.proto = FIREWALL_PROTO_ANY;
	else
		return rd_fail(rd, fl.line, "protocol '%.32s': expected tcp, udp or any", proto);
	if (parse_ports(port, &fl.port_lo, &fl.port_hi) == -1)
		return rd_fail(rd, fl.line, "port '%.32s': expected a port, a range A-B or any",
		               port);
	if (fl.proto == FIREWALL_PROTO_ANY && fl.port_lo != 0)
		return rd_fail(rd, fl.line, "port %.32s needs protocol tcp or udp", port);
	if (strcasecmp(action, "allow") == 0 || strcasecmp(action, "accept") == 0 ||
	    strcasecmp(action, "permit") == 0)
		fl.allow = true;
	else if (strcasecmp(action, "deny") == 0 || strcasecmp(action, "drop") == 0 ||
	         strcasecmp(action, "block") == 0)
		fl.allow = false;
	else if (strcasecmp(action, "reject") == 0)
		fl.reject = true;
	else
		return rd_fail(rd, fl.line, "action '%.32s': expected allow or deny", action);
	if (rd->n >= FLOW_MAX_ROWS)
		return rd_fail(rd, fl.line, "more than %d flows", FLOW_MAX_ROWS);
	if ((fl.id = strdup(field(rd, COL_ID))) == NULL || (fl.src = strdup(src)) == NULL ||
	    (fl.dst = strdup(dst)) == NULL ||
	    (fl.purpose = strdup(field(rd, COL_PURPOSE))) == NULL ||
	    (nf = realloc(rd->flows, (rd->n + 1) * sizeof *nf)) == NULL) {
		free(fl.id);
		free(fl.src);
		free(fl.dst);
		free(fl.purpose);
		rd->oom = rd->failed = true;
		return;
	}
	rd->flows = nf;
	rd->flows[rd->n++] = fl;
}

static void
on_row(int term, void *data)
{
	struct flow_reader *rd = data;
	bool blank = true;

	(void)term;
	rd->in_row = false;
	for (size_t i = 0; i < rd->nfields; i++)
		if (rd->fields[i][0] != '\0')
			blank = false;
	if (!rd->failed && !blank && rd->fields[0][0] != '#') {
		if (!rd->header_done)
			read_header(rd);
		else
			read_flow(rd);
	}
	row_reset(rd);
}

void
firewall_flows_free(struct firewall_flow *f, size_t n)
{
	for (size_t i = 0; f != NULL && i < n; i++) {
		free(f[i].id);
		free(f[i].src);
		free(f[i].dst);
		free(f[i].purpose);
	}
	free(f);
}

int
firewall_flows_read(const char *name, const char *text, size_t len, struct firewall_flow **out,
                    size_t *n, char *err, size_t errlen)
{
	struct flow_reader rd;
	struct csv_parser p;
	size_t off = 0;

	*out = NULL;
	*n = 0;
	memset(&rd, 0, sizeof rd);
	rd.name = name;
	rd.line = 1;
	rd.err = err;
	rd.errlen = errlen;
	if (csv_init(&p, CSV_APPEND_NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* fed a line at a time so that each row knows the line it started on */
	while (off < len && !rd.failed) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t chunk = nl != NULL ? (size_t)(nl - (text + off)) + 1 : len - off;
		if (!rd.in_row) {
			/* the first line with anything on it after a row's end starts the next */
			for (size_t i = 0; i < chunk; i++)
				if (!isspace((unsigned char)text[off + i])) {
					rd.in_row = true;
					rd.row_line = rd.line;
					break;
				}
		}
		if (csv_parse(&p, text + off, chunk, on_field, on_row, &rd) != chunk) {
			rd_fail(&rd, rd.line, "%s", csv_strerror(csv_error(&p)));
			break;
		}
		off += chunk;
		if (nl != NULL)
			rd.line++;
	}
	if (!rd.failed)
		csv_fini(&p, on_field, on_row, &rd);
	csv_free(&p);
	row_reset(&rd);
	if (rd.oom) {
		snprintf(err, errlen, "%s: out of memory", name);
		rd.failed = true;
	}
	if (!rd.failed && !rd.header_done)
		rd_fail(&rd, 1, "empty flow table: expected a header row and one row per flow");
	if (rd.failed) {
		firewall_flows_free(rd.flows, rd.n);
		return -1;
	}
	*out = rd.flows;
	*n = rd.n;
	return 0;
}

/* ---- a flow table as nftables rules ------------------------------------- */

/* "ip saddr 198.18.0.0/24 " for one end; "" for any. -1 for an unknown host. */
static int
endpoint_match(const struct scenario *sc, const char *what, const char *s, int *fam, char *buf,
               size_t len)
{
	char addr[128];
	const char *slash;
	const struct scenario_host *h;
	int f;

	buf[0] = '\0';
	if (strcasecmp(s, "any") == 0 || strcmp(s, "*") == 0)
		return 0;
	snprintf(addr, sizeof addr, "%s", s);
	if ((slash = strchr(addr, '/')) != NULL)
		addr[slash - addr] = '\0';
	if ((f = firewall_addr_family(addr)) == -1) {
		if ((h = scenario_host_find(sc, s)) == NULL)
			return -1;
		snprintf(addr, sizeof addr, "%s", h->address);
		s = h->address;
		f = firewall_addr_family(addr);
	}
	if (*fam != 0 && *fam != f)
		return -2;
	*fam = f;
	snprintf(buf, len, "%s %s %s ", f == AF_INET6 ? "ip6" : "ip", what, s);
	return 0;
}

static void
flow_comment(const struct firewall_flow *fl, const char *name, char *buf, size_t len)
{
	char id[128];
	/* where the row is: the lab maps the rule back to it */
	firewall_label(fl->id, id, sizeof id);
	snprintf(buf, len, "%s line %d%s%s", name, fl->line, id[0] ? ": " : "", id);
	for (char *p = buf; *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '_';
}

int
firewall_flows_nft(const struct scenario *sc, const char *name, const struct firewall_flow *flows,
                   size_t n, char **out, size_t *outlen, char *err, size_t errlen)
{
	FILE *f;

	*out = NULL;
	*outlen = 0;
	/* resolve every host first: an unknown name is the user's error, with its line */
	for (size_t i = 0; i < n; i++) {
		char m[160];
		int fam = 0, rc;
		if ((rc = endpoint_match(sc, "saddr", flows[i].src, &fam, m, sizeof m)) == 0)
			rc = endpoint_match(sc, "daddr", flows[i].dst, &fam, m, sizeof m);
		if (rc == -1) {
			snprintf(err, errlen, "%s:%d: no host '%.64s' or '%.64s' in scenario %s",
			         name, flows[i].line, flows[i].src, flows[i].dst, sc->name);
			return -1;
		}
		if (rc == -2) {
			snprintf(err, errlen, "%s:%d: source and destination of different families",
			         name, flows[i].line);
			return -1;
		}
	}
	if ((f = open_memstream(out, outlen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f,
	        "# lyncmock %s: the flow table %s as nftables rules, first row first;\n"
	        "# what no row allows is dropped.\n"
	        "table inet flows {\n"
	        "\tchain forward {\n"
	        "\t\ttype filter hook forward priority filter; policy drop;\n"
	        "\t\tct state established,related accept\n",
	        LM_VERSION, name);
	for (size_t i = 0; i < n; i++) {
		const struct firewall_flow *fl = &flows[i];
		char s[160], d[160], c[256];
		int fam = 0;
		endpoint_match(sc, "saddr", fl->src, &fam, s, sizeof s);
		endpoint_match(sc, "daddr", fl->dst, &fam, d, sizeof d);
		flow_comment(fl, name, c, sizeof c);
		fprintf(f, "\t\t%s%s", s, d);
		if (fl->proto != FIREWALL_PROTO_ANY) {
			const char *pr = fl->proto == FIREWALL_PROTO_TCP ? "tcp" : "udp";
			if (fl->port_lo == 0)
				fprintf(f, "meta l4proto %s ", pr);
			else if (fl->port_lo == fl->port_hi)
				fprintf(f, "%s dport %u ", pr, fl->port_lo);
			else
				fprintf(f, "%s dport %u-%u ", pr, fl->port_lo, fl->port_hi);
		}
		fprintf(f, "%s comment \"%s\"\n",
		        fl->allow    ? "accept"
		        : fl->reject ? "reject"
		                     : "drop",
		        c);
	}
	fprintf(f, "\t}\n}\n");
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
