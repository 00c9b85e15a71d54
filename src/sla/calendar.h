/*
 * calendar.h: business-hours calendars and their arithmetic. Pure: no
 * I/O, no clock; the zone comes loaded (tz.h).
 *
 * Semantics (docs/SLA.md)
 *  1. Business time is the set of instants whose local wall-clock time in
 *     the calendar's zone falls inside an open span of that local date
 *     (holidays apply by local date: closed, or their own spans).
 *  2. On a spring-forward day the skipped local hour does not exist and
 *     contributes nothing; on a fall-back day the repeated hour occurs
 *     twice and counts twice. 24x7 counts every instant.
 *  3. cal_add() gives the earliest instant at which the business time
 *     accumulated since "from" reaches the amount; from outside business
 *     hours, accumulation starts at the next open instant.
 * The arithmetic steps over whole open intervals (a day's spans mapped to
 * UTC through the zone's offsets), never minute by minute.
 *
 * Instants and durations are milliseconds.
 */
#ifndef ITSUP_CALENDAR_H
#define ITSUP_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sla/tz.h"

#define CAL_MAX_SPANS 8
#define CAL_MINUTES_PER_DAY 1440

struct day_spans {
	int n;
	struct { int start, end; } span[CAL_MAX_SPANS]; /* minutes, 0 <= start < end <= 1440, sorted, disjoint */
};

struct holiday {
	int64_t day;            /* local date, days since 1970-01-01 */
	struct day_spans open;  /* n = 0: closed all day */
};

struct calendar {
	const struct tz *tz;
	bool always;                    /* 24x7 */
	struct day_spans week[7];       /* 0 = Monday ... 6 = Sunday */
	const struct holiday *holidays; /* sorted by day, unique */
	size_t nholidays;
};

/* Business milliseconds in [from, to) (0 when to <= from). */
int64_t cal_business_ms(const struct calendar *c, int64_t from, int64_t to);

/* The earliest instant at which amount ms of business time have passed
 * since from; INT64_MAX when the calendar never opens (within 10 years). */
int64_t cal_add(const struct calendar *c, int64_t from, int64_t amount);

/* Calls fn for each open UTC interval [u0, u1) of local date day, in
 * order; fn returns false to stop (and so does this). */
bool cal_day_intervals(const struct calendar *c, int64_t day,
		       bool (*fn)(int64_t u0, int64_t u1, void *arg), void *arg);

/* Calls fn for each open UTC interval within [from, to), clipped to it,
 * in time order. */
void cal_open_intervals(const struct calendar *c, int64_t from, int64_t to,
			bool (*fn)(int64_t u0, int64_t u1, void *arg), void *arg);

/* Checks spans: sorted, disjoint, within the day. */
bool day_spans_valid(const struct day_spans *d);

#endif
