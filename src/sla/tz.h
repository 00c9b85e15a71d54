/*
 * tz.h: IANA time zones from the system's tzdata (TZif, RFC 8536), without
 * touching the process-wide TZ. A zone is read once into an immutable
 * table of transitions plus the POSIX rule of its footer (for instants past
 * the last transition) and can be shared by threads.
 */
#ifndef ITSUP_TZ_H
#define ITSUP_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct tz;

/* Loads name (e.g. "Europe/Berlin", "UTC") from /usr/share/zoneinfo. */
enum result tz_load(const char *name, struct tz **out, struct err *e);
/* Parses a TZif image (for tests and fuzzing). */
enum result tz_parse(const unsigned char *data, size_t len, struct tz **out, struct err *e);
void tz_free(struct tz *z);

/* UTC offset in seconds at instant t (seconds since the epoch). */
int32_t tz_offset(const struct tz *z, int64_t t);

/* The first instant > t at which the offset changes, or INT64_MAX. */
int64_t tz_next_change(const struct tz *z, int64_t t);

#endif
