/*
 * calendar_json.c: a calendar's JSON form (API.md) to struct calendar:
 *   hours:    {"mon": [["08:00", "12:00"], ["13:00", "17:00"]], ...}
 *   holidays: [{"date": "2026-12-25"}, {"date": "2026-12-24", "hours": [["09:00", "12:00"]]}]
 * Problems name the exact member (hours.mon[1][0], holidays[2].date).
 */
#include "base/common.h"

#include <jansson.h>

#include "base/util.h"
#include "sla/calendar.h"
#include "sla/calendar_json.h"

static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

/* "HH:MM" (00:00..24:00) into minutes; -1 when malformed. */
static int parse_hhmm(const char *s)
{
	int h, m;

	if (!s || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' || s[1] < '0' ||
	    s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static enum result spans_parse(json_t *arr, const char *where, struct day_spans *out, struct err *e)
{
	size_t i;
	json_t *pair;

	out->n = 0;
	if (!json_is_array(arr) || json_array_size(arr) > CAL_MAX_SPANS)
		return err_set(e, RC_INVALID, where, "must be an array of at most 8 [\"HH:MM\", \"HH:MM\"] spans");
	json_array_foreach(arr, i, pair) {
		char field[96];
		int s, en;
		snprintf(field, sizeof(field), "%s[%zu]", where, i);
		if (!json_is_array(pair) || json_array_size(pair) != 2)
			return err_set(e, RC_INVALID, field, "must be [\"HH:MM\", \"HH:MM\"]");
		s = parse_hhmm(json_string_value(json_array_get(pair, 0)));
		en = parse_hhmm(json_string_value(json_array_get(pair, 1)));
		if (s < 0 || s == 1440) {
			snprintf(field, sizeof(field), "%s[%zu][0]", where, i);
			return err_set(e, RC_INVALID, field, "must be a time from 00:00 to 23:59");
		}
		if (en < 0) {
			snprintf(field, sizeof(field), "%s[%zu][1]", where, i);
			return err_set(e, RC_INVALID, field, "must be a time from 00:01 to 24:00");
		}
		if (en <= s)
			return err_set(e, RC_INVALID, field, "must end after it starts");
		if (out->n && s < out->span[out->n - 1].end)
			return err_set(e, RC_INVALID, field, "overlaps or comes before the span before it");
		out->span[out->n].start = s;
		out->span[out->n].end = en;
		out->n++;
	}
	return RC_OK;
}

static int cmp_holiday(const void *a, const void *b)
{
	int64_t x = ((const struct holiday *)a)->day, y = ((const struct holiday *)b)->day;
	return (x > y) - (x < y);
}

enum result calendar_from_json(json_t *hours, json_t *holidays, struct calendar *c,
			       struct holiday *hol, size_t max_hol, struct err *e)
{
	const char *key;
	json_t *v;
	size_t i;

	for (int d = 0; d < 7; d++)
		c->week[d].n = 0;
	c->nholidays = 0;
	c->holidays = hol;
	if (hours && !json_is_null(hours)) {
		if (!json_is_object(hours))
			return err_set(e, RC_INVALID, "hours", "must be an object of weekdays (mon..sun)");
		json_object_foreach(hours, key, v) {
			char field[32];
			int d = -1;
			for (int k = 0; k < 7; k++)
				if (!strcmp(day_names[k], key))
					d = k;
			snprintf(field, sizeof(field), "hours.%.20s", key);
			if (d < 0)
				return err_set(e, RC_INVALID, field, "is not a weekday (mon, tue, ... sun)");
			if (spans_parse(v, field, &c->week[d], e) != RC_OK)
				return RC_INVALID;
		}
	}
	if (holidays && !json_is_null(holidays)) {
		if (!json_is_array(holidays) || json_array_size(holidays) > max_hol)
			return err_set(e, RC_INVALID, "holidays", "must be an array of at most %zu holidays", max_hol);
		json_array_foreach(holidays, i, v) {
			char field[48];
			const char *date = json_string_value(json_object_get(v, "date"));
			json_t *h = json_object_get(v, "hours");
			int64_t ms;
			char iso[32];
			snprintf(field, sizeof(field), "holidays[%zu].date", i);
			snprintf(iso, sizeof(iso), "%.10sT00:00:00Z", date ? date : "");
			if (!json_is_object(v) || !date || strlen(date) != 10 || !time_parse(iso, &ms))
				return err_set(e, RC_INVALID, field, "must be a date such as 2026-12-25");
			hol[c->nholidays].day = ms / 86400000;
			hol[c->nholidays].open.n = 0;
			if (h) {
				snprintf(field, sizeof(field), "holidays[%zu].hours", i);
				if (spans_parse(h, field, &hol[c->nholidays].open, e) != RC_OK)
					return RC_INVALID;
			}
			for (size_t k = 0; k < c->nholidays; k++)
				if (hol[k].day == hol[c->nholidays].day) {
					snprintf(field, sizeof(field), "holidays[%zu].date", i);
					return err_set(e, RC_INVALID, field, "is listed twice");
				}
			c->nholidays++;
		}
		qsort(hol, c->nholidays, sizeof(*hol), cmp_holiday);
	}
	return RC_OK;
}
