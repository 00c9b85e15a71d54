#include "common.h"
#include "log.h"
#include "clock.h"
#include "util.h"

#include <unistd.h>

static enum log_level min_level = LOG_INFO;

void log_set_level(enum log_level min)
{
	min_level = min;
}

void log_event(enum log_level level, const char *msg, json_t *fields)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char ts[32];
	json_t *o;
	char *line;

	if (level < min_level) {
		json_decref(fields);
		return;
	}
	o = json_object();
	time_format(clock_now_ms(), ts);
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(names[level]));
	json_object_set_new(o, "msg", json_string(msg));
	if (fields) {
		json_object_update(o, fields);
		json_decref(fields);
	}
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (line) {
		size_t n = strlen(line);
		line[n] = '\n';
		/* One write(2) per line: lines from threads never interleave. */
		ssize_t w = write(STDERR_FILENO, line, n + 1);
		UNUSED(w);
		free(line);
	}
}

void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_event(level, msg, json_pack("{s:s}", "detail", detail));
}

static bool plain(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (n >= max || *s < 'A' || *s > 'Z')
			return false;
	return n > 0;
}

void log_request(const char *method, const char *route, int status, double ms,
		 const char *addr, int64_t user_id)
{
	char line[512], ts[32];
	int n;

	if (LOG_INFO < min_level)
		return;
	time_format(clock_now_ms(), ts);
	/* route is a pattern from the route table and addr comes from
	 * inet_ntop: neither needs escaping. */
	n = snprintf(line, sizeof(line),
		     "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"method\":\"%s\","
		     "\"route\":\"%s\",\"status\":%d,\"ms\":%.3f,\"addr\":\"%s\",\"user\":%" PRId64 "}\n",
		     ts, plain(method, 16) ? method : "OTHER", route, status, ms, addr, user_id);
	if (n > 0 && (size_t)n < sizeof(line)) {
		ssize_t w = write(STDERR_FILENO, line, (size_t)n);
		UNUSED(w);
	}
}
