/*
 * One self-contained HTML page (libxml2's xmlTextWriter): summary, the firewall
 * change request, the topology drawn by Graphviz's libgvc as inline SVG, and a
 * sortable, filterable matrix with per-path details. No external resources.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "report/report.h"

/* dot's layout of thousands of edges takes minutes: beyond this the page has no picture. */
#define HTML_MAX_EDGES 600

/* Constants only: raw text is never built from results. */
static const char html_css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,"
    "sans-serif;color:#212121;margin:0;background:#fafafa}"
    "header{padding:14px 24px;background:#263238;color:#fff}"
    "header h1{font-size:20px;margin:0 0 6px}"
    "main{padding:8px 24px 32px}"
    "h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #cfd8dc;padding-bottom:4px}"
    "#summary{font-size:15px;margin:0}"
    "#summary b{font-size:17px}"
    ".n-ok{color:#a5d6a7}.n-failed{color:#ef9a9a}.n-blocked{color:#cfd8dc}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;"
    "font-size:12px}"
    ".badge.ok{background:#e8f5e9;color:#1b5e20}.badge.fail{background:#ffebee;color:#b71c1c}"
    ".badge.partial{background:#fff3e0;color:#e65100}"
    ".note{color:#546e7a}"
    "table{border-collapse:collapse;background:#fff;width:100%}"
    "th,td{border:1px solid #e0e0e0;padding:4px 8px;text-align:left;vertical-align:top}"
    "th{background:#eceff1;white-space:nowrap}"
    "th[data-key]{cursor:pointer}th[data-key]:hover{background:#cfd8dc}"
    "th[aria-sort=ascending]::after{content:' \\25B2'}"
    "th[aria-sort=descending]::after{content:' \\25BC'}"
    "tr.fail td.verdict{color:#b71c1c;font-weight:700}"
    "tr.ok td.verdict{color:#1b5e20}"
    "tr.fail{background:#fff8f8}"
    "tr:target{outline:3px solid #ffb300}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "code,pre{font:12px/1.4 ui-monospace,'DejaVu Sans Mono',Consolas,monospace}"
    "pre{background:#f5f5f5;padding:6px;overflow:auto;max-width:70em;white-space:pre-wrap}"
    "td.more{width:38%;min-width:24em}"
    "details summary{cursor:pointer}"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}"
    "dl.facts dt{font-weight:600;color:#455a64}dl.facts dd{margin:0}"
    "#change td.action{font-weight:700;text-transform:uppercase}"
    "#change tr.allow td.action{color:#1b5e20}#change tr.block td.action{color:#b71c1c}"
    "#change small.fwrule{color:#6a1b9a}"
    "#filters{margin:6px 0 8px;display:flex;gap:16px;flex-wrap:wrap;align-items:center}"
    "#picture .svg{background:#fff;border:1px solid #e0e0e0;overflow:auto}"
    "#picture svg{max-width:100%;max-height:80vh;width:auto;height:auto;display:block;"
    "margin:auto}"
    "footer{color:#78909c;font-size:12px;padding:0 24px 16px}";

/* Without '&' or '<', so that the page stays well-formed XML as well (xmllint checks it).
 * Filters (failed only, host, role, outcome; also from the URL fragment: #failed,
 * #host=H, #role=R, #outcome=O, #path-K), sorting by a header click. */
static const char html_script[] =
    "(function(){\n"
    "var $=function(i){return document.getElementById(i);};\n"
    "var tbody=document.querySelector('#paths tbody');\n"
    "var rows=Array.prototype.slice.call(tbody.rows);\n"
    "var f={failed:$('f-failed'),host:$('f-host'),role:$('f-role'),outcome:$('f-outcome')};\n"
    "function keep(d){\n"
    " if(f.failed.checked)if(d.verdict!=='fail')return false;\n"
    " if(f.host.value)if(d.from!==f.host.value)if(d.to!==f.host.value)return false;\n"
    " if(f.role.value)if(d.fromRole!==f.role.value)if(d.toRole!==f.role.value)return false;\n"
    " if(f.outcome.value)if(d.outcome!==f.outcome.value)return false;\n"
    " return true;}\n"
    "function apply(){var n=0;rows.forEach(function(r){r.hidden=!keep(r.dataset);"
    "if(!r.hidden)n++;});\n"
    " $('shown').textContent=n+' of '+rows.length+' paths shown';}\n"
    "function clear(){f.failed.checked=false;f.host.value=f.role.value=f.outcome.value='';}\n"
    "function fromHash(){var h='',m,r;\n"
    " try{h=decodeURIComponent(location.hash.slice(1));}catch(e){}\n"
    " m=/^(host|role|outcome)=(.*)$/.exec(h);\n"
    " if(h==='failed'){clear();f.failed.checked=true;}\n"
    " else if(m){clear();f[m[1]].value=m[2];}\n"
    " else if((r=$(h))?r.hasAttribute('data-rule'):false){if(r.hidden)clear();\n"
    "  var d=r.querySelector('details');if(d)d.open=true;}\n"
    " apply();}\n"
    "Object.keys(f).forEach(function(k){f[k].addEventListener('change',apply);});\n"
    "var dir={};\n"
    "Array.prototype.forEach.call(document.querySelectorAll('#paths th[data-key]'),"
    "function(th){\n"
    " th.addEventListener('click',function(){\n"
    "  var k=th.dataset.key,num=th.hasAttribute('data-num'),s=dir[k]=-(dir[k]||-1);\n"
    "  rows.sort(function(a,b){var x=a.dataset[k]||'',y=b.dataset[k]||'';\n"
    "   if(num){x=parseFloat(x);y=parseFloat(y);return((isNaN(x)?-1:x)-(isNaN(y)?-1:y))*s;}\n"
    "   return x.localeCompare(y)*s;});\n"
    "  rows.forEach(function(r){tbody.appendChild(r);});\n"
    "  Array.prototype.forEach.call(th.parentNode.cells,function(c){"
    "c.removeAttribute('aria-sort');});\n"
    "  th.setAttribute('aria-sort',s>0?'ascending':'descending');});});\n"
    "window.addEventListener('hashchange',fromHash);\n"
    "fromHash();\n"
    "})();\n";

/* Every writer call goes through these; after the first failure they do nothing. */
struct html {
	xmlTextWriterPtr w;
	const struct probe_run *run;
	bool bad;
};

static void
h_start(struct html *h, const char *name)
{
	if (!h->bad && xmlTextWriterStartElement(h->w, BAD_CAST name) < 0)
		h->bad = true;
}

/* Always an explicit end tag: <td/> or <script/> mean something else in HTML. */
static void
h_end(struct html *h)
{
	if (!h->bad && xmlTextWriterFullEndElement(h->w) < 0)
		h->bad = true;
}

/* For void elements (meta, input) only. */
static void
h_end_void(struct html *h)
{
	if (!h->bad && xmlTextWriterEndElement(h->w) < 0)
		h->bad = true;
}

/* A peer's bytes may be any bytes: cleaned to valid UTF-8 without controls, then escaped. */
static void
h_attr(struct html *h, const char *name, const char *value)
{
	char *clean;

	if (h->bad)
		return;
	if ((clean = report_clean_text(value, true, false)) == NULL ||
	    xmlTextWriterWriteAttribute(h->w, BAD_CAST name, BAD_CAST clean) < 0)
		h->bad = true;
	free(clean);
}

static void h_attrf(struct html *h, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
h_attrf(struct html *h, const char *name, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	h_attr(h, name, buf);
}

static void
h_text(struct html *h, const char *text)
{
	char *clean;

	if (h->bad)
		return;
	if ((clean = report_clean_text(text, true, true)) == NULL ||
	    xmlTextWriterWriteString(h->w, BAD_CAST clean) < 0)
		h->bad = true;
	free(clean);
}

static void h_textf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
h_textf(struct html *h, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->bad = true;
		return;
	}
	h_text(h, s);
	free(s);
}

/* Our own constants and libxml2's serialisation of the SVG only. */
static void
h_raw(struct html *h, const char *s)
{
	if (!h->bad && xmlTextWriterWriteRaw(h->w, BAD_CAST s) < 0)
		h->bad = true;
}

/* <name class=cls>text</name>; cls may be NULL. */
static void
h_el(struct html *h, const char *name, const char *cls, const char *text)
{
	h_start(h, name);
	if (cls != NULL)
		h_attr(h, "class", cls);
	h_text(h, text);
	h_end(h);
}

/* <b id=name class=name>n</b>: a summary count scripts and tests read by id. */
static void
h_count(struct html *h, const char *name, size_t n)
{
	h_start(h, "b");
	h_attr(h, "id", name);
	h_attr(h, "class", name);
	h_textf(h, "%zu", n);
	h_end(h);
}

static const char *
str_or(const char *s, const char *dflt)
{
	return s != NULL && s[0] != '\0' ? s : dflt;
}

static const char *
rule_name(const struct probe_result *r)
{
	return str_or(r->rule_id, "ad-hoc");
}

static size_t
result_index(const struct probe_run *run, const struct probe_result *r)
{
	return (size_t)(r - run->results);
}

/* What the firewall team must change for a path, or NULL when the failure is not theirs
 * (certificates, services): allow an open path found blocked, block a path found open
 * that must not be, lengthen the idle timeout that cut a held connection. */
static const char *
change_action(const struct probe_result *r)
{
	const struct lm_outcome_info *oi = lm_outcome_info(r->outcome);

	if (r->ok)
		return NULL;
	if (r->expect_blocked || r->outcome == LM_OUT_OPEN_NOT_REQUIRED)
		return "block";
	if (r->outcome == LM_OUT_IDLE_CUT)
		return "idle-timeout";
	return oi != NULL && oi->blocked ? "allow" : NULL;
}

static const char *
protocol_name(const struct probe_result *r)
{
	const struct lm_service_info *si = lm_service_info(r->service);
	return si != NULL && si->udp ? "UDP" : "TCP";
}

static void
summary(struct html *h, size_t failed, size_t blocked)
{
	const struct probe_run *run = h->run;
	char dur[64];

	if (run->duration_ms >= 10000)
		lm_fmt(dur, sizeof dur, "%.0f s", run->duration_ms / 1000);
	else
		lm_fmt(dur, sizeof dur, "%.1f s", run->duration_ms / 1000);
	h_start(h, "p");
	h_attr(h, "id", "summary");
	h_attrf(h, "data-paths", "%zu", run->n);
	h_attrf(h, "data-ok", "%zu", run->n - failed);
	h_attrf(h, "data-failed", "%zu", failed);
	h_attrf(h, "data-blocked", "%zu", blocked);
	h_attr(h, "data-partial", run->partial ? "true" : "false");

	h_start(h, "b");
	h_attr(h, "id", "n-paths");
	h_textf(h, "%zu", run->n);
	h_end(h);
	h_text(h, " paths: ");
	h_count(h, "n-ok", run->n - failed);
	h_text(h, " OK, ");
	h_count(h, "n-failed", failed);
	h_text(h, " failed, ");
	h_count(h, "n-blocked", blocked);
	h_text(h, " blocked as expected (counted as OK) · scenario ");
	h_el(h, "b", NULL, str_or(run->scenario, "ad-hoc probes"));
	if (run->source_host != NULL) {
		h_text(h, " from ");
		h_el(h, "b", NULL, run->source_host);
	}
	h_textf(h, " · started %s · took %s · ", str_or(run->started, "?"), dur);
	h_start(h, "span");
	h_attr(h, "id", "completeness");
	h_attr(h, "class", run->partial ? "badge partial" : "badge ok");
	h_text(h,
	       run->partial ? "PARTIAL: interrupted, not every path was probed" : "complete run");
	h_end(h);
	h_end(h);
	if (run->note != NULL && run->note[0] != '\0')
		h_el(h, "p", "note", run->note);
}

static void
host_cell(struct html *h, const char *name, const char *addr)
{
	h_start(h, "td");
	h_text(h, name);
	if (addr != NULL && addr[0] != '\0' && strcmp(addr, name) != 0) {
		h_start(h, "br");
		h_end_void(h);
		h_el(h, "code", NULL, addr);
	}
	h_end(h);
}

/* The same requests as plain lines, for tickets that take no table. */
static void
change_text(struct html *h, const size_t *idx)
{
	const struct probe_run *run = h->run;
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	if ((m = open_memstream(&text, &len)) == NULL) {
		h->bad = true;
		return;
	}
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[idx[i]];
		const char *action = change_action(r);
		char up[16];
		size_t k;

		if (action == NULL)
			continue;
		/* copy first, then upper-case in place: gcc 12 -O3 misreads a bounded loop over
		 * action as reading past its string literal (-Warray-bounds) */
		snprintf(up, sizeof up, "%s", action);
		for (k = 0; up[k] != '\0'; k++)
			up[k] = (char)toupper((unsigned char)up[k]);
		fprintf(m, "%-12s %s %s (%s) -> %s (%s) port %u (%s, rule %s; seen: %s)\n", up,
		        protocol_name(r), report_src_name(run, r), str_or(r->src_addr, "?"),
		        report_dst_name(r), str_or(r->dst_addr, "?"), (unsigned)r->port,
		        lm_service_name(r->service), rule_name(r), lm_outcome_name(r->outcome));
	}
	if (fclose(m) == EOF) {
		free(text);
		h->bad = true;
		return;
	}
	h_start(h, "details");
	h_el(h, "summary", NULL, "The same as plain text");
	h_el(h, "pre", NULL, text);
	h_end(h);
	free(text);
}

static void
change_request(struct html *h, const size_t *idx)
{
	const struct probe_run *run = h->run;
	size_t nchange = 0, nother = 0;

	for (size_t i = 0; i < run->n; i++) {
		if (change_action(&run->results[i]) != NULL)
			nchange++;
		else if (!run->results[i].ok)
			nother++;
	}
	h_start(h, "section");
	h_attr(h, "id", "change");
	h_el(h, "h2", NULL, "Firewall change request");
	if (nchange == 0) {
		h_el(h, "p", "note",
		     "No firewall change needed: every path that must be open is open, and every "
		     "path that must be blocked is blocked.");
	} else {
		h_start(h, "p");
		h_attr(h, "class", "note");
		h_textf(h,
		        "%zu path%s to change on the firewalls between source and destination "
		        "(allow: must be open but is dropped or rejected; block: must be closed "
		        "but is open; idle-timeout: held connections are cut too early).",
		        nchange, nchange == 1 ? "" : "s");
		h_end(h);
		h_start(h, "table");
		h_attr(h, "id", "change-table");
		h_start(h, "thead");
		h_start(h, "tr");
		static const char *const cols[] = {"Action",     "Source", "Destination",
		                                   "Protocol",   "Port",   "Service",
		                                   "Needed for", "Rule",   "Seen"};
		for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
			h_el(h, "th", NULL, cols[c]);
		h_end(h);
		h_end(h);
		h_start(h, "tbody");
		for (size_t i = 0; i < run->n; i++) {
			const struct probe_result *r = &run->results[idx[i]];
			const struct lm_service_info *si = lm_service_info(r->service);
			const char *action = change_action(r);
			char href[48];

			if (action == NULL)
				continue;
			h_start(h, "tr");
			h_attr(h, "class", action);
			h_attr(h, "data-action", action);
			h_attr(h, "data-rule", rule_name(r));
			h_attr(h, "data-from", report_src_name(run, r));
			h_attr(h, "data-to", report_dst_name(r));
			h_el(h, "td", "action", action);
			host_cell(h, report_src_name(run, r), r->src_addr);
			host_cell(h, report_dst_name(r), r->dst_addr);
			h_el(h, "td", NULL, protocol_name(r));
			h_start(h, "td");
			h_attr(h, "class", "num");
			h_textf(h, "%u", (unsigned)r->port);
			h_end(h);
			h_el(h, "td", NULL, lm_service_name(r->service));
			/* the scenario's own purpose text when results carry one; the service's
			 * purpose meanwhile */
			h_el(h, "td", NULL, si != NULL ? si->purpose : "");
			h_start(h, "td");
			h_start(h, "a");
			h_attr(h, "href",
			       lm_fmt(href, sizeof href, "#path-%zu", result_index(run, r)));
			h_text(h, rule_name(r));
			h_end(h);
			h_end(h);
			h_start(h, "td");
			h_text(h, lm_outcome_name(r->outcome));
			if (r->detail != NULL && r->detail[0] != '\0') {
				h_start(h, "br");
				h_end_void(h);
				h_el(h, "small", NULL, r->detail);
			}
			if (r->firewall_rule != NULL && r->firewall_rule[0] != '\0') {
				h_start(h, "br");
				h_end_void(h);
				h_el(h, "small", "fwrule", r->firewall_rule);
			}
			h_end(h);
			h_end(h);
			h_raw(h, "\n");
		}
		h_end(h);
		h_end(h);
		change_text(h, idx);
	}
	if (nother > 0) {
		h_start(h, "p");
		h_attr(h, "class", "note");
		h_textf(h,
		        "%zu more failing path%s %s not an allow/block change (certificates, TLS, "
		        "services, NAT, middleboxes): see their fix in the ",
		        nother, nother == 1 ? "" : "s", nother == 1 ? "is" : "are");
		h_start(h, "a");
		h_attr(h, "href", "#failed");
		h_text(h, "matrix, failed only");
		h_end(h);
		h_text(h, ".");
		h_end(h);
	}
	h_end(h);
}

/* ---- the picture ------------------------------------------------------- */

static _Thread_local char gv_error[256];

/* One Graphviz context for the process, never freed: Graphviz 2.42's pango plugin keeps
 * a pointer into a freed context's font data, so a second context reads freed memory. */
static GVC_t *
gv_context(void)
{
	static GVC_t *gvc;

	if (gvc == NULL)
		gvc = gvContext();
	return gvc;
}

#if defined(__SANITIZE_ADDRESS__)
/* Graphviz and fontconfig keep allocations for the process's life (caches, plugin
 * tables): not ours to free, so LeakSanitizer is told. Stacks without these libraries
 * are still reported. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libgvc.so\nleak:libcgraph.so\nleak:libcdt.so\nleak:libgvplugin_\n"
	       "leak:libfontconfig.so\nleak:libpango\nleak:libcairo.so\nleak:libglib-2.0.so\n"
	       "leak:libgobject-2.0.so\nleak:libharfbuzz.so\n";
}

/* without the table of suppressions used on every exit */
const char *__lsan_default_options(void);
const char *
__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

/* Graphviz reports through agerr: kept for the page's note instead of stderr. */
static int
gv_err(char *msg)
{
	if (gv_error[0] == '\0')
		lm_fmt(gv_error, sizeof gv_error, "%s", msg);
	return 0;
}

static void
drop_comments(xmlNodePtr n)
{
	while (n != NULL) {
		xmlNodePtr next = n->next;
		if (n->type == XML_COMMENT_NODE) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		} else if (n->children != NULL)
			drop_comments(n->children);
		n = next;
	}
}

/* Graphviz writes SVG 1.1 (xlink:href, xlink:title, sizes in pt); HTML wants SVG 2: href,
 * a <title> child for the tooltip, sizes in CSS pixels. */
static void
svg_for_html(xmlNodePtr n)
{
	static const xmlChar xlink[] = "http://www.w3.org/1999/xlink";

	for (; n != NULL; n = n->next) {
		xmlChar *v;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if ((v = xmlGetNsProp(n, BAD_CAST "href", xlink)) != NULL) {
			xmlSetProp(n, BAD_CAST "href", v);
			xmlUnsetNsProp(n, xmlSearchNsByHref(n->doc, n, xlink), BAD_CAST "href");
			xmlFree(v);
		}
		if ((v = xmlGetNsProp(n, BAD_CAST "title", xlink)) != NULL) {
			xmlNodePtr t = xmlNewDocNode(n->doc, n->ns, BAD_CAST "title", NULL);
			/* DOT label line breaks come back as a literal backslash-n */
			for (xmlChar *p = v; *p != '\0'; p++)
				if (p[0] == '\\' && p[1] == 'n')
					p[0] = ' ', p[1] = ' ';
			if (t != NULL) {
				xmlNodeAddContent(t, v);
				if (n->children != NULL)
					xmlAddPrevSibling(n->children, t);
				else
					xmlAddChild(n, t);
			}
			xmlUnsetNsProp(n, xmlSearchNsByHref(n->doc, n, xlink), BAD_CAST "title");
			xmlFree(v);
		}
		if (xmlStrcmp(n->name, BAD_CAST "svg") == 0) {
			static const char *const dims[] = {"width", "height"};
			for (size_t i = 0; i < 2; i++) {
				char px[32];
				if ((v = xmlGetProp(n, BAD_CAST dims[i])) == NULL)
					continue;
				/* 1pt = 4/3 CSS px */
				lm_fmt(px, sizeof px, "%.0f",
				       strtod((const char *)v, NULL) * 4 / 3);
				xmlSetProp(n, BAD_CAST dims[i], BAD_CAST px);
				xmlFree(v);
			}
		}
		svg_for_html(n->children);
	}
}

/* The linked DOT laid out by libgvc and rendered to SVG in memory, re-parsed and
 * re-serialised by libxml2 (no comments, no DOCTYPE): a malloc'd <svg> element, or
 * NULL with why set. */
static char *
render_svg(const struct probe_run *run, char *why, size_t whylen)
{
	char *dot = NULL, *data = NULL, *svg = NULL;
	size_t dotlen = 0;
	unsigned int len = 0;
	GVC_t *gvc = NULL;
	Agraph_t *g = NULL;
	bool laid_out = false;
	xmlDocPtr doc = NULL;
	xmlBufferPtr buf = NULL;

	gv_error[0] = '\0';
	if (report_dot_render_linked(run, &dot, &dotlen) == -1) {
		lm_fmt(why, whylen, "cannot build the graph");
		goto out;
	}
	agseterrf(gv_err);
	agseterr(AGERR);
	if ((gvc = gv_context()) == NULL || (g = agmemread(dot)) == NULL) {
		lm_fmt(why, whylen, "Graphviz cannot read the graph: %s", gv_error);
		goto out;
	}
	if (gvLayout(gvc, g, "dot") != 0) {
		lm_fmt(why, whylen, "Graphviz layout failed: %s", gv_error);
		goto out;
	}
	laid_out = true;
	if (gvRenderData(gvc, g, "svg", &data, &len) != 0 || data == NULL) {
		lm_fmt(why, whylen, "Graphviz cannot render SVG: %s", gv_error);
		goto out;
	}
	doc = xmlReadMemory(data, (int)len, "topology.svg", "UTF-8",
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		lm_fmt(why, whylen, "Graphviz's SVG is not well-formed");
		goto out;
	}
	drop_comments(xmlDocGetRootElement(doc));
	svg_for_html(xmlDocGetRootElement(doc));
	if ((buf = xmlBufferCreate()) == NULL ||
	    xmlNodeDump(buf, doc, xmlDocGetRootElement(doc), 0, 0) < 0) {
		lm_fmt(why, whylen, "out of memory");
		goto out;
	}
	svg = strdup((const char *)xmlBufferContent(buf));
	if (svg == NULL)
		lm_fmt(why, whylen, "out of memory");
out:
	if (buf != NULL)
		xmlBufferFree(buf);
	if (doc != NULL)
		xmlFreeDoc(doc);
	if (data != NULL)
		gvFreeRenderData(data);
	if (laid_out)
		gvFreeLayout(gvc, g);
	if (g != NULL)
		agclose(g);
	agseterrf(NULL);
	free(dot);
	return svg;
}

static void
picture(struct html *h)
{
	char why[512] = "";
	char *svg = NULL;

	h_start(h, "section");
	h_attr(h, "id", "picture");
	h_el(h, "h2", NULL, "Topology");
	if (h->run->n > HTML_MAX_EDGES)
		lm_fmt(why, sizeof why, "%zu paths are too many to draw (the limit is %d)",
		       h->run->n, HTML_MAX_EDGES);
	else if (h->run->n == 0)
		lm_fmt(why, sizeof why, "no paths");
	else
		svg = render_svg(h->run, why, sizeof why);
	if (svg == NULL) {
		h_start(h, "p");
		h_attr(h, "class", "note");
		h_textf(h, "No picture: %s.", why);
		h_end(h);
	} else {
		h_el(h, "p", "note",
		     "Hosts grouped by role; green: OK, red: failed, grey dashed: blocked as "
		     "expected. Click an edge to see its path below.");
		h_start(h, "div");
		h_attr(h, "class", "svg");
		h_raw(h, svg);
		h_end(h);
	}
	free(svg);
	h_end(h);
}

/* ---- the matrix -------------------------------------------------------- */

/* The distinct values of a field over the run, sorted, for a filter's options. */
struct names {
	const char **v;
	size_t n;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
names_add(struct names *s, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return;
	s->v[s->n++] = name;
}

static void
select_filter(struct html *h, const char *id, const char *label, const char *all, struct names *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, cmp_str);
	h_start(h, "label");
	h_text(h, label);
	h_text(h, " ");
	h_start(h, "select");
	h_attr(h, "id", id);
	h_start(h, "option");
	h_attr(h, "value", "");
	h_text(h, all);
	h_end(h);
	for (size_t i = 0; i < s->n; i++) {
		h_start(h, "option");
		h_attr(h, "value", s->v[i]);
		h_text(h, s->v[i]);
		h_end(h);
	}
	h_end(h);
	h_end(h);
}

static int
filters(struct html *h)
{
	const struct probe_run *run = h->run;
	struct names hosts = {NULL, 0}, roles = {NULL, 0}, outcomes = {NULL, 0};

	if (run->n > 0 && ((hosts.v = calloc(run->n * 2, sizeof *hosts.v)) == NULL ||
	                   (roles.v = calloc(run->n * 2, sizeof *roles.v)) == NULL ||
	                   (outcomes.v = calloc(run->n, sizeof *outcomes.v)) == NULL)) {
		free(hosts.v);
		free(roles.v);
		return -1;
	}
	for (size_t i = 0; i < run->n; i++) {
		const struct probe_result *r = &run->results[i];
		names_add(&hosts, report_src_name(run, r));
		names_add(&hosts, report_dst_name(r));
		names_add(&roles, r->src_role);
		names_add(&roles, r->dst_role);
		names_add(&outcomes, lm_outcome_name(r->outcome));
	}
	h_start(h, "div");
	h_attr(h, "id", "filters");
	h_start(h, "label");
	h_start(h, "input");
	h_attr(h, "type", "checkbox");
	h_attr(h, "id", "f-failed");
	h_end_void(h);
	h_text(h, " failed only");
	h_end(h);
	select_filter(h, "f-host", "host", "every host", &hosts);
	select_filter(h, "f-role", "role", "every role", &roles);
	select_filter(h, "f-outcome", "outcome", "every outcome", &outcomes);
	h_start(h, "span");
	h_attr(h, "id", "shown");
	h_attr(h, "class", "note");
	h_textf(h, "%zu of %zu paths shown", run->n, run->n);
	h_end(h);
	h_end(h);
	free(hosts.v);
	free(roles.v);
	free(outcomes.v);
	return 0;
}

static void
fact(struct html *h, const char *name, const char *value)
{
	h_el(h, "dt", NULL, name);
	h_el(h, "dd", NULL, value);
}

static void
ms_text(struct html *h, const char *what, double ms, bool first)
{
	if (!first)
		h_text(h, " · ");
	if (ms >= 0)
		h_textf(h, "%s %.1f ms", what, ms);
	else
		h_textf(h, "%s not reached", what);
}

static void
list(struct html *h, const char *tag, char *const *v, size_t n)
{
	h_start(h, tag);
	for (size_t i = 0; i < n; i++)
		h_el(h, "li", NULL, v[i]);
	h_end(h);
}

static void
tls_facts(struct html *h, const struct probe_tls *t)
{
	if (t->version == NULL && t->nchain == 0 && !t->client_cert_requested)
		return;
	h_el(h, "dt", NULL, "TLS");
	h_start(h, "dd");
	h_textf(h, "%s, %s", str_or(t->version, "no handshake"), str_or(t->cipher, "no cipher"));
	if (t->verify_error != NULL && t->verify_error[0] != '\0')
		h_textf(h, "; verification: %s", t->verify_error);
	else if (t->nchain > 0)
		h_text(h, t->verify_result == 0 ? "; chain verified" : "; chain not verified");
	h_end(h);
	h_el(h, "dt", NULL, "Client certificate");
	h_start(h, "dd");
	h_text(h, t->client_cert_requested ? "asked for by the server" : "not asked for");
	h_text(h, t->client_cert_sent ? "; one was sent" : "; none sent");
	h_end(h);
	if (t->nca_names > 0) {
		h_el(h, "dt", NULL, "Acceptable CA names");
		h_start(h, "dd");
		list(h, "ul", t->ca_names, t->nca_names);
		h_end(h);
	}
	if (t->nchain > 0) {
		h_el(h, "dt", NULL, "Server chain");
		h_start(h, "dd");
		h_start(h, "ol");
		for (size_t i = 0; i < t->nchain; i++) {
			const struct probe_cert *c = &t->chain[i];
			h_start(h, "li");
			h_el(h, "b", NULL, str_or(c->subject, "(no subject)"));
			h_start(h, "dl");
			h_attr(h, "class", "facts");
			fact(h, "Issuer", str_or(c->issuer, "?"));
			if (c->nsans > 0) {
				h_el(h, "dt", NULL, "SANs");
				h_start(h, "dd");
				for (size_t j = 0; j < c->nsans; j++) {
					if (j > 0)
						h_text(h, ", ");
					h_el(h, "code", NULL, c->sans[j]);
				}
				h_end(h);
			}
			if (c->nekus > 0) {
				h_el(h, "dt", NULL, "EKUs");
				h_start(h, "dd");
				for (size_t j = 0; j < c->nekus; j++) {
					if (j > 0)
						h_text(h, ", ");
					h_text(h, c->ekus[j]);
				}
				h_end(h);
			} else
				fact(h, "EKUs", "none (any purpose)");
			fact(h, "Expires", str_or(c->not_after, "?"));
			h_end(h);
			h_end(h);
		}
		h_end(h);
		h_end(h);
	}
}

/* The identity record pretty-printed when it is JSON; as received otherwise. */
static void
identity(struct html *h, const char *text)
{
	json_t *j;
	char *pretty = NULL;

	if (text == NULL || text[0] == '\0')
		return;
	if ((j = json_loads(text, JSON_DECODE_ANY, NULL)) != NULL) {
		pretty = json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		json_decref(j);
	}
	h_el(h, "dt", NULL, "Identity returned");
	h_start(h, "dd");
	h_el(h, "pre", NULL, pretty != NULL ? pretty : text);
	h_end(h);
	free(pretty);
}

static void
details(struct html *h, const struct probe_result *r)
{
	const struct lm_outcome_info *oi = lm_outcome_info(r->outcome);
	const char *fix = report_fix_sentence(r);

	h_start(h, "details");
	h_start(h, "summary");
	if (!r->ok)
		h_text(h, fix);
	else if (r->expect_blocked)
		h_text(h, "blocked, as it must be");
	else
		h_text(h, "open, reaches the expected listener");
	h_end(h);
	h_start(h, "dl");
	h_attr(h, "class", "facts");
	h_el(h, "dt", NULL, "Outcome");
	h_start(h, "dd");
	h_el(h, "b", NULL, lm_outcome_name(r->outcome));
	if (oi != NULL)
		h_textf(h, ": %s", oi->meaning);
	h_end(h);
	if (fix[0] != '\0')
		fact(h, "What to fix", fix);
	if (r->detail != NULL && r->detail[0] != '\0')
		fact(h, "Why", r->detail);
	if (r->firewall_rule != NULL && r->firewall_rule[0] != '\0')
		fact(h, "Firewall rule responsible", r->firewall_rule);
	h_el(h, "dt", NULL, "Path");
	h_start(h, "dd");
	h_textf(h, "%s → %s port %u (%s), expected %s", str_or(r->src_addr, "?"),
	        str_or(r->dst_addr, "?"), (unsigned)r->port, lm_service_name(r->service),
	        r->expect_blocked ? "blocked" : "open");
	if (r->target != NULL && r->target[0] != '\0')
		h_textf(h, "; name verified: %s", r->target);
	h_end(h);
	if (r->peer_seen != NULL && r->peer_seen[0] != '\0')
		fact(h, "Listener saw source", r->peer_seen);
	if (r->facts.answer != NULL && r->facts.answer[0] != '\0') {
		h_el(h, "dt", NULL, "Who answered");
		h_start(h, "dd");
		h_text(h, r->facts.answer);
		if (r->facts.answered_by != NULL && r->facts.answered_by[0] != '\0')
			h_textf(h, " from %s", r->facts.answered_by);
		h_end(h);
	}
	h_el(h, "dt", NULL, "Timings");
	h_start(h, "dd");
	ms_text(h, "connect", r->t_connect_ms, true);
	if (lm_service_info(r->service) != NULL && lm_service_info(r->service)->tls)
		ms_text(h, "TLS handshake", r->t_handshake_ms, false);
	ms_text(h, "first answer", r->t_first_ms, false);
	if (r->t_total_ms >= 0)
		ms_text(h, "outcome after", r->t_total_ms, false);
	h_end(h);
	tls_facts(h, &r->tls);
	identity(h, r->identity);
	h_end(h);
	h_end(h);
}

static void
matrix_row(struct html *h, const struct probe_result *r)
{
	const struct probe_run *run = h->run;
	double ms = report_result_ms(r);
	char num[32];

	h_start(h, "tr");
	h_attrf(h, "id", "path-%zu", result_index(run, r));
	h_attr(h, "class", r->ok ? "ok" : "fail");
	h_attr(h, "data-rule", rule_name(r));
	h_attr(h, "data-from", report_src_name(run, r));
	h_attr(h, "data-to", report_dst_name(r));
	h_attr(h, "data-from-role", str_or(r->src_role, ""));
	h_attr(h, "data-to-role", str_or(r->dst_role, ""));
	h_attr(h, "data-service", lm_service_name(r->service));
	h_attrf(h, "data-port", "%u", (unsigned)r->port);
	h_attr(h, "data-expect", r->expect_blocked ? "blocked" : "open");
	h_attr(h, "data-outcome", lm_outcome_name(r->outcome));
	h_attr(h, "data-verdict", report_verdict_name(r));
	if (ms >= 0)
		h_attrf(h, "data-ms", "%.1f", ms);
	else
		h_attr(h, "data-ms", "");
	h_el(h, "td", NULL, rule_name(r));
	h_el(h, "td", NULL, report_src_name(run, r));
	h_el(h, "td", NULL, report_dst_name(r));
	h_el(h, "td", NULL, lm_service_name(r->service));
	h_el(h, "td", "num", lm_fmt(num, sizeof num, "%u", (unsigned)r->port));
	h_el(h, "td", NULL, r->expect_blocked ? "blocked" : "open");
	h_el(h, "td", NULL, lm_outcome_name(r->outcome));
	h_el(h, "td", "verdict", r->ok ? "OK" : "FAIL");
	h_el(h, "td", "num", ms >= 0 ? lm_fmt(num, sizeof num, "%.1f", ms) : "–");
	h_start(h, "td");
	h_attr(h, "class", "more");
	details(h, r);
	h_end(h);
	h_end(h);
	h_raw(h, "\n");
}

static int
matrix(struct html *h, const size_t *idx)
{
	static const struct {
		const char *title, *key;
		bool num;
	} cols[] = {
	    {"Rule", "rule", false},
	    {"From", "from", false},
	    {"To", "to", false},
	    {"Service", "service", false},
	    {"Port", "port", true},
	    {"Expect", "expect", false},
	    {"Outcome", "outcome", false},
	    {"Verdict", "verdict", false},
	    {"ms", "ms", true},
	    {"Details (click)", NULL, false},
	};

	h_start(h, "section");
	h_attr(h, "id", "matrix");
	h_el(h, "h2", NULL, "Path matrix");
	if (filters(h) == -1)
		return -1;
	h_start(h, "table");
	h_attr(h, "id", "paths");
	h_start(h, "thead");
	h_start(h, "tr");
	for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
		h_start(h, "th");
		if (cols[c].key != NULL) {
			h_attr(h, "data-key", cols[c].key);
			h_attr(h, "title", "sort");
		}
		if (cols[c].num)
			h_attr(h, "data-num", "");
		h_text(h, cols[c].title);
		h_end(h);
	}
	h_end(h);
	h_end(h);
	h_start(h, "tbody");
	h_raw(h, "\n");
	/* failing paths first: they are what the reader came for */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < h->run->n; i++)
			if (h->run->results[idx[i]].ok == (pass == 1))
				matrix_row(h, &h->run->results[idx[i]]);
	h_end(h);
	h_end(h);
	h_end(h);
	return 0;
}

static int
page(struct html *h)
{
	const struct probe_run *run = h->run;
	size_t failed = probe_run_failures(run), blocked = 0, *idx = NULL;
	int rc = -1;

	for (size_t i = 0; i < run->n; i++)
		if (run->results[i].ok && run->results[i].expect_blocked)
			blocked++;
	if (run->n > 0 && (idx = report_sorted_index(run)) == NULL)
		return -1;

	if (xmlTextWriterWriteDTD(h->w, BAD_CAST "html", NULL, NULL, NULL) < 0)
		goto out;
	h_raw(h, "\n");
	h_start(h, "html");
	h_attr(h, "lang", "en");
	h_start(h, "head");
	h_start(h, "meta");
	h_attr(h, "charset", "utf-8");
	h_end_void(h);
	h_start(h, "meta");
	h_attr(h, "name", "viewport");
	h_attr(h, "content", "width=device-width, initial-scale=1");
	h_end_void(h);
	h_start(h, "meta");
	h_attr(h, "name", "generator");
	h_attr(h, "content", "lyncmock " LM_VERSION);
	h_end_void(h);
	h_start(h, "title");
	h_textf(h, "lyncmock: %s: %zu of %zu paths failed%s",
	        str_or(run->scenario, "ad-hoc probes"), failed, run->n,
	        run->partial ? " (partial)" : "");
	h_end(h);
	h_start(h, "style");
	h_raw(h, html_css);
	h_end(h);
	h_end(h);
	h_raw(h, "\n");
	h_start(h, "body");
	h_start(h, "header");
	h_start(h, "h1");
	h_textf(h, "lyncmock report: %s ", str_or(run->scenario, "ad-hoc probes"));
	h_el(h, "span", failed > 0 ? "badge fail" : "badge ok",
	     failed > 0 ? "FIREWALL PATHS FAILING" : "ALL PATHS OK");
	h_end(h);
	summary(h, failed, blocked);
	h_end(h);
	h_raw(h, "\n");
	h_start(h, "main");
	change_request(h, idx);
	h_raw(h, "\n");
	picture(h);
	h_raw(h, "\n");
	if (matrix(h, idx) == -1)
		goto out;
	h_end(h);
	h_start(h, "footer");
	h_textf(h,
	        "Written by lyncmock %s. The same run as JSON: --format json (schema %s). "
	        "Filters also apply from the address: #failed, #host=NAME, #role=ROLE, "
	        "#outcome=NAME.",
	        LM_VERSION, REPORT_JSON_SCHEMA);
	h_end(h);
	h_start(h, "script");
	h_raw(h, html_script);
	h_end(h);
	h_end(h);
	h_end(h);
	h_raw(h, "\n");
	rc = h->bad ? -1 : 0;
out:
	free(idx);
	return rc;
}

int
report_html_render(const struct probe_run *run, char **out, size_t *outlen)
{
	struct html h = {NULL, run, false};
	xmlBufferPtr buf;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if ((buf = xmlBufferCreate()) == NULL)
		return -1;
	if ((h.w = xmlNewTextWriterMemory(buf, 0)) == NULL)
		goto out;
	rc = page(&h);
	if (xmlTextWriterFlush(h.w) < 0)
		rc = -1;
	xmlFreeTextWriter(h.w);
	if (rc == 0) {
		*outlen = (size_t)xmlBufferLength(buf);
		if ((*out = malloc(*outlen + 1)) == NULL) {
			*outlen = 0;
			rc = -1;
			goto out;
		}
		memcpy(*out, xmlBufferContent(buf), *outlen);
		(*out)[*outlen] = '\0';
	}
out:
	xmlBufferFree(buf);
	return rc;
}
