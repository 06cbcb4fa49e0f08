/* TAP and JUnit XML writers for kvmdbg-ci. Both carry the same facts per
 * expectation: verdict, message, source location and backtrace. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "report.h"

/* A YAML single-quoted scalar on one line: quotes doubled, control
 * characters as blanks. */
static void yaml_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("''", f);
		else if ((unsigned char)*s < 0x20)
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* A YAML literal block, each line indented under its key. */
static void yaml_block(FILE *f, const char *s, const char *indent)
{
	const char *nl;

	while (*s) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s);
		fprintf(f, "%s%.*s\n", indent, (int)(nl - s), s);
		s = *nl ? nl + 1 : nl;
	}
}

int ci_report_tap(FILE *f, const struct ci_report *r)
{
	size_t i;

	fprintf(f, "TAP version 13\n1..%zu\n", r->nr_outcomes);
	for (i = 0; i < r->nr_outcomes; i++) {
		const struct ci_outcome *o = &r->outcomes[i];

		fprintf(f, "%s %zu - %s\n", o->verdict == CI_PASS ? "ok"
								  : "not ok",
			i + 1, o->name);
		if (o->verdict == CI_PASS)
			continue;
		fputs("  ---\n  message: ", f);
		yaml_quoted(f, o->message ? o->message : "");
		fprintf(f, "\n  severity: %s\n",
			o->verdict == CI_FAIL ? "fail" : "error");
		fprintf(f, "  script-line: %u\n", o->line);
		if (o->where) {
			fputs("  at: ", f);
			yaml_quoted(f, o->where);
			fputc('\n', f);
		}
		if (o->backtrace && *o->backtrace) {
			fputs("  backtrace: |\n", f);
			yaml_block(f, o->backtrace, "    ");
		}
		fputs("  ...\n", f);
	}
	if (r->run_error)
		fprintf(f, "# the run ended early: %s\n", r->run_error);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

/* Decodes one UTF-8 sequence at s; returns its length, or 0 when it is
 * malformed (the byte is then replaced). */
static size_t utf8_len(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past Unicode. */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || (c >= 0xd800 && c <= 0xdfff) ||
	    c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

void ci_xml_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (*p) {
		n = utf8_len(p, &cp);
		if (n == 0 || (cp < 0x20 && cp != '\n' && cp != '\t') ||
		    cp == 0xfffe || cp == 0xffff) {
			fputs("\xef\xbf\xbd", f);
			p += n ? n : 1;
			continue;
		}
		switch (cp) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		/* Attribute values would fold a raw newline or tab. */
		case '\n': fputs("&#10;", f); break;
		case '\t': fputs("&#9;", f); break;
		default: fwrite(p, 1, n, f); break;
		}
		p += n;
	}
}

static void attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	ci_xml_escape(f, value);
	fputc('"', f);
}

int ci_report_junit(FILE *f, const struct ci_report *r)
{
	size_t i, failures = 0, errors = 0;

	for (i = 0; i < r->nr_outcomes; i++) {
		failures += r->outcomes[i].verdict == CI_FAIL;
		errors += r->outcomes[i].verdict == CI_ERROR;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
	attr(f, "name", "kvmdbg-ci");
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		   "time=\"%.3f\">\n",
		r->nr_outcomes, failures, errors, r->seconds);
	fputs("  <testsuite", f);
	attr(f, "name", r->suite);
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		   "skipped=\"0\" time=\"%.3f\">\n",
		r->nr_outcomes, failures, errors, r->seconds);
	fputs("    <properties>\n      <property", f);
	attr(f, "name", "script");
	attr(f, "value", r->script);
	fputs("/>\n      <property", f);
	attr(f, "name", "image");
	attr(f, "value", r->image);
	fputs("/>\n    </properties>\n", f);
	for (i = 0; i < r->nr_outcomes; i++) {
		const struct ci_outcome *o = &r->outcomes[i];
		const char *tag = o->verdict == CI_FAIL ? "failure" : "error";
		char line[32];

		fputs("    <testcase", f);
		attr(f, "name", o->name);
		attr(f, "classname", r->suite);
		if (o->verdict == CI_PASS) {
			fputs("/>\n", f);
			continue;
		}
		fprintf(f, ">\n      <%s", tag);
		attr(f, "message", o->message ? o->message : "");
		attr(f, "type", o->verdict == CI_FAIL ? "expectation"
						      : "run-ended-early");
		fputc('>', f);
		snprintf(line, sizeof(line), "%u", o->line);
		fputs("script line ", f);
		fputs(line, f);
		if (o->where) {
			fputs(", at ", f);
			ci_xml_escape(f, o->where);
		}
		fputc('\n', f);
		if (o->backtrace) {
			const char *s = o->backtrace, *nl;

			/* Raw newlines in element text read better in CI
			 * viewers than character references. */
			while (*s) {
				nl = strchr(s, '\n');
				if (!nl)
					nl = s + strlen(s);
				{
					char buf[1024];
					size_t n = (size_t)(nl - s);

					if (n >= sizeof(buf))
						n = sizeof(buf) - 1;
					memcpy(buf, s, n);
					buf[n] = '\0';
					ci_xml_escape(f, buf);
				}
				fputc('\n', f);
				s = *nl ? nl + 1 : nl;
			}
		}
		fprintf(f, "</%s>\n    </testcase>\n", tag);
	}
	if (r->run_error) {
		fputs("    <system-err>", f);
		ci_xml_escape(f, r->run_error);
		fputs("</system-err>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
