/*
 * ics.h: holidays from an iCalendar file (RFC 5545), read with libical, as
 * Zammad imports public-holiday feeds. Pure: text in, days out.
 *
 * Contract
 *  - Each VEVENT whose DTSTART is a DATE (an all-day event) closes the
 *    local days it covers: DTSTART up to, not including, DTEND (DTEND
 *    absent: one day; DURATION honoured). Recurring events (RRULE, RDATE,
 *    minus EXDATE) are expanded; only days in [from_day, to_day] (days
 *    since 1970-01-01, inclusive) are kept.
 *  - Events with a time of day (DTSTART a DATE-TIME) are not holidays;
 *    they are counted in *skipped and otherwise ignored. So are cancelled
 *    events (STATUS:CANCELLED).
 *  - out is sorted by day and unique (two events on one day give one
 *    entry, with the first event's SUMMARY). name is the SUMMARY cut to
 *    fit (UTF-8 safe), "" when absent.
 *  - RC_INVALID with e->field "ics" when the text is not an iCalendar
 *    object, or would give more than max days (the message says so).
 */
#ifndef ITSUP_ICS_H
#define ITSUP_ICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct ics_day {
	int64_t day;       /* days since 1970-01-01 */
	char name[96];
};

enum result ics_holidays(const char *text, size_t len, int64_t from_day, int64_t to_day,
			 struct ics_day *out, size_t max, size_t *n, size_t *skipped,
			 struct err *e);

#endif
