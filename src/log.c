/* Logging to stderr. One line per message, prefixed with the program name
 * and level, so a user can tell kvmdbg's words from the guest's. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

#include "log.h"

static enum log_level current_level = LOG_WARN;

static const char *const level_names[] = {
	[LOG_ERROR] = "error", [LOG_WARN] = "warn", [LOG_INFO] = "info",
	[LOG_DEBUG] = "debug", [LOG_TRACE] = "trace",
};

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level > LOG_TRACE)
		return "?";
	return level_names[level];
}

int log_parse_level(const char *name, enum log_level *out)
{
	for (unsigned i = 0; i <= LOG_TRACE; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level > current_level)
		return;
	n = snprintf(line, sizeof(line), "kvmdbg: %s%s", level == LOG_ERROR ? "" : level_names[level],
		     level == LOG_ERROR ? "" : ": ");
	if (n < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line keeps lines from different threads whole. */
	fprintf(stderr, "%s\n", line);
}

void str_appendf(char *out, size_t cap, const char *fmt, ...)
{
	size_t used = strnlen(out, cap);
	va_list ap;

	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(out + used, cap - used, fmt, ap);
	va_end(ap);
}
