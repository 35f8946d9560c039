/* Report plumbing: format names, dispatch to a writer, atomic output, shared helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report.h"

static const char *const format_names[] = {
    [REPORT_TABLE] = "table", [REPORT_JSON] = "json", [REPORT_JUNIT] = "junit",
    [REPORT_DOT] = "dot",     [REPORT_HTML] = "html",
};

int
report_format_from_name(const char *name, enum report_format *fmt)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
		if (strcmp(format_names[i], name) == 0) {
			*fmt = (enum report_format)i;
			return 0;
		}
	}
	return -1;
}

const char *
report_format_name(enum report_format fmt)
{
	if ((unsigned)fmt >= sizeof format_names / sizeof format_names[0])
		return "?";
	return format_names[fmt];
}

static int
render(const struct probe_run *run, enum report_format fmt, bool color, char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	switch (fmt) {
	case REPORT_TABLE:
		return report_table_render(run, color, out, outlen);
	case REPORT_JSON:
		return report_json_render(run, out, outlen);
	case REPORT_JUNIT:
		return report_junit_render(run, out, outlen);
	case REPORT_DOT:
		return report_dot_render(run, out, outlen);
	case REPORT_HTML:
		return report_html_render(run, out, outlen);
	}
	return -1;
}

int
report_render(const struct probe_run *run, enum report_format fmt, char **out, size_t *outlen)
{
	return render(run, fmt, false, out, outlen);
}

/* Colour only for a person looking at a terminal who has not opted out (no-color.org). */
static bool
want_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	int fd = fileno(f);

	if (nc != NULL && nc[0] != '\0')
		return false;
	return fd >= 0 && isatty(fd);
}

int
report_print(const struct probe_run *run, enum report_format fmt, FILE *f, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;

	if (render(run, fmt, fmt == REPORT_TABLE && want_color(f), &buf, &len) == -1) {
		lm_fmt(err, errlen, "cannot render the %s report", report_format_name(fmt));
		return -1;
	}
	if (fwrite(buf, 1, len, f) != len || fflush(f) == EOF) {
		lm_fmt(err, errlen, "writing the %s report: %s", report_format_name(fmt),
		       strerror(errno));
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

int
report_write(const struct probe_run *run, enum report_format fmt, const char *path, char *err,
             size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;

	if (path == NULL || strcmp(path, "-") == 0)
		return report_print(run, fmt, stdout, err, errlen);
	if (report_render(run, fmt, &buf, &len) == -1) {
		lm_fmt(err, errlen, "cannot render the %s report", report_format_name(fmt));
		return -1;
	}
	if (lm_write_file_atomic(path, buf, len, 0644) == -1) {
		lm_fmt(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

const char *
report_verdict_name(const struct probe_result *r)
{
	return r->ok ? "ok" : "fail";
}

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

const char *
report_src_name(const struct probe_run *run, const struct probe_result *r)
{
	const char *s;

	if ((s = nonempty(r->src_host)) != NULL || (s = nonempty(r->src_addr)) != NULL ||
	    (s = nonempty(run->source_host)) != NULL)
		return s;
	return "local";
}

const char *
report_dst_name(const struct probe_result *r)
{
	const char *s;

	if ((s = nonempty(r->dst_host)) != NULL || (s = nonempty(r->target)) != NULL ||
	    (s = nonempty(r->dst_addr)) != NULL)
		return s;
	return "?";
}

double
report_result_ms(const struct probe_result *r)
{
	/* the time really spent: a 3 s wait for nothing is not "1 ms" */
	if (r->t_total_ms > 0)
		return r->t_total_ms;
	if (r->t_first_ms >= 0)
		return r->t_first_ms;
	if (r->t_connect_ms >= 0)
		return r->t_connect_ms;
	return -1;
}

static int
strcmp_null(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

/* qsort has no context argument in C11: the run being sorted is passed here. */
static _Thread_local const struct probe_run *sort_run;

static int
cmp_index(const void *pa, const void *pb)
{
	const struct probe_result *a = &sort_run->results[*(const size_t *)pa];
	const struct probe_result *b = &sort_run->results[*(const size_t *)pb];
	int c;

	if ((c = strcmp_null(a->rule_id, b->rule_id)) != 0)
		return c;
	if ((c = strcmp_null(a->src_host, b->src_host)) != 0)
		return c;
	if ((c = strcmp_null(a->dst_host, b->dst_host)) != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if ((c = strcmp_null(a->dst_addr, b->dst_addr)) != 0)
		return c;
	/* stable: the input order decides the rest */
	return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

size_t *
report_sorted_index(const struct probe_run *run)
{
	size_t *idx;

	if (run->n == 0 || (idx = calloc(run->n, sizeof *idx)) == NULL)
		return NULL;
	for (size_t i = 0; i < run->n; i++)
		idx[i] = i;
	sort_run = run;
	qsort(idx, run->n, sizeof *idx, cmp_index);
	sort_run = NULL;
	return idx;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* U+FFFE/U+FFFF are not XML characters: treat them as bad too */
	if (cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

char *
report_clean_text(const char *s, bool no_controls, bool keep_newlines)
{
	static const char repl[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t len = strlen((const char *)p), o = 0;
	char *out;

	/* worst case: every byte becomes a 3-byte replacement */
	if (len > (SIZE_MAX - 1) / 3 || (out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	while (*p != '\0') {
		size_t n = utf8_len(p);
		bool bad = n == 0;

		if (!bad && no_controls && n == 1 && (*p < 0x20 || *p == 0x7f))
			bad = !(keep_newlines && (*p == '\n' || *p == '\t'));
		if (bad) {
			memcpy(out + o, repl, 3);
			o += 3;
			p += n > 0 ? n : 1;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

void
report_dot_quote(FILE *f, const char *s)
{
	char *clean = report_clean_text(s, true, true);
	const char *src = clean != NULL ? clean : "?";

	fputc('"', f);
	for (const char *p = src; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			/* doubled so that label escapes like \N or \G stay literal text */
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputc(' ', f);
			break;
		default:
			fputc(*p, f);
		}
	}
	fputc('"', f);
	free(clean);
}
