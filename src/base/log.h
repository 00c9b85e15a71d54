/*
 * log.h: JSON lines on stderr, one event a line:
 *   {"ts":"2026-11-23T09:30:00.123Z","level":"info","msg":"request",...}
 * Never log secrets: no passwords, tokens, cookies or full URLs with
 * query strings (the request log names the route pattern instead).
 */
#ifndef ITSUP_LOG_H
#define ITSUP_LOG_H

#include <jansson.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level min);
/* Emits the event; takes ownership of fields (may be NULL). */
void log_event(enum log_level level, const char *msg, json_t *fields);
/* A message with printf-style text in "detail". */
void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The per-request line, formatted without building a JSON value (it is on
 * every request's path). method is shown only if it is A-Z letters. */
void log_request(const char *method, const char *route, int status, double ms,
		 const char *addr, int64_t user_id);

#endif
