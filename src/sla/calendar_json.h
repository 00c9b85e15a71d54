/*
 * calendar_json.h: a calendar's JSON form (hours per weekday, holidays) to
 * struct calendar, validating every member (RC_INVALID with e.field set to
 * the member, e.g. "hours.mon[0][1]").
 */
#ifndef ITSUP_CALENDAR_JSON_H
#define ITSUP_CALENDAR_JSON_H

#include <jansson.h>

#include "sla/calendar.h"

#define CAL_MAX_HOLIDAYS 400

/* Fills c's week and holidays (into hol, sorted); c->tz and c->always
 * are the caller's. */
enum result calendar_from_json(json_t *hours, json_t *holidays, struct calendar *c,
			       struct holiday *hol, size_t max_hol, struct err *e);

#endif
