/*
 * api_calendars.c: business-hours calendars and their arithmetic for users
 * and integrations (GET .../business-time, GET .../add). Provider-wide:
 * staff read them, admins and dispatchers write them.
 */
#include "base/common.h"

#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"
#include "sla/calendar.h"
#include "sla/calendar_json.h"
#include "sla/tz.h"

static json_t *calendar_json(const struct calendar_row *c)
{
	json_t *h = json_loads(c->hours, 0, NULL), *hol = json_loads(c->holidays, 0, NULL);

	return json_pack("{s:I,s:s,s:s,s:b,s:o,s:o,s:o,s:o}", "id", (json_int_t)c->id, "name", c->name,
			 "timezone", c->timezone, "24x7", c->always, "hours", h ? h : json_object(),
			 "holidays", hol ? hol : json_array(), "created_at", json_instant(c->created_at),
			 "updated_at", json_instant(c->updated_at));
}

struct cal_in {
	const char *name, *timezone;
	bool always;
};

static const struct jfield cal_fields[] = {
	{ "name", JT_STRING, JF_REQUIRED, offsetof(struct cal_in, name), 1, 200, NULL },
	{ "timezone", JT_TZ, JF_REQUIRED, offsetof(struct cal_in, timezone), 1, 64, NULL },
	{ "24x7", JT_BOOL, 0, offsetof(struct cal_in, always), 0, 0, NULL },
};

static void cal_created(struct req *r)
{
	struct calendar_row c;
	struct err e;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (store_calendar_get(r->srv->store, r->w.id, r->a, &c, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	req_etag(r, c.version);
	req_header(r, "Location", arena_printf(r->a, "/api/v1/calendars/%" PRId64, c.id));
	req_json(r, 201, calendar_json(&c));
}

void h_calendar_create(struct req *r)
{
	struct cal_in in = { 0 };
	struct jseen seen;
	json_t *rest = json_copy(r->json), *errs = json_array();
	json_t *hours = json_object_get(r->json, "hours"), *hol = json_object_get(r->json, "holidays");
	struct holiday *hs = arena_alloc(r->a, sizeof(*hs) * CAL_MAX_HOLIDAYS);
	struct calendar cal = { 0 };
	struct err e;
	char *ht, *hot;

	json_object_del(rest, "hours");
	json_object_del(rest, "holidays");
	jschema_parse(rest, cal_fields, ARRAY_SIZE(cal_fields), &in, &seen, errs);
	json_decref(rest);
	if (!hs || calendar_from_json(hours, hol, &cal, hs, CAL_MAX_HOLIDAYS, &e) != RC_OK)
		jschema_error(errs, e.field, e.msg);
	if (!in.always && !json_array_size(errs)) {
		bool open = false;
		for (int d = 0; d < 7; d++)
			open = open || cal.week[d].n > 0;
		if (!open)
			jschema_error(errs, "hours", "a calendar needs open hours on some weekday, or 24x7: true");
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	ht = hours ? json_dumps(hours, JSON_COMPACT) : NULL;
	hot = hol ? json_dumps(hol, JSON_COMPACT) : NULL;
	req_write_init(r, W_CALENDAR_PUT, "calendar.create", "calendar");
	r->w.in.cal.name = in.name;
	r->w.in.cal.timezone = in.timezone;
	r->w.in.cal.always = in.always;
	r->w.in.cal.hours = arena_strdup(r->a, ht ? ht : "{}");
	r->w.in.cal.holidays = arena_strdup(r->a, hot ? hot : "[]");
	free(ht);
	free(hot);
	req_write(r, cal_created);
}

void h_calendar_list(struct req *r)
{
	struct calendar_row *items;
	size_t n;
	struct err e;
	json_t *arr;

	if (store_calendar_list(r->srv->store, r->a, &items, &n, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, calendar_json(&items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", arr));
}

void h_calendar_get(struct req *r)
{
	struct calendar_row c;
	struct err e;

	if (store_calendar_get(r->srv->store, r->params[0], r->a, &c, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	req_etag(r, c.version);
	req_json(r, 200, calendar_json(&c));
}

/* Loads calendar {id} into c (its zone freed with the request). */
static bool load_calendar(struct req *r, struct calendar *c)
{
	struct calendar_row row;
	struct holiday *hs = arena_alloc(r->a, sizeof(*hs) * CAL_MAX_HOLIDAYS);
	json_t *hours, *hol;
	struct tz *z;
	struct err e;
	enum result rc;

	memset(c, 0, sizeof(*c));
	if (store_calendar_get(r->srv->store, r->params[0], r->a, &row, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return false;
	}
	hours = json_loads(row.hours, 0, NULL);
	hol = json_loads(row.holidays, 0, NULL);
	rc = hs ? calendar_from_json(hours, hol, c, hs, CAL_MAX_HOLIDAYS, &e) : RC_NOMEM;
	json_decref(hours);
	json_decref(hol);
	if (rc == RC_OK)
		rc = tz_load(row.timezone, &z, &e);
	if (rc != RC_OK) {
		req_fail(r, RC_IO, &e);
		return false;
	}
	arena_defer(r->a, (void (*)(void *))tz_free, z);
	c->tz = z;
	c->always = row.always;
	return true;
}

static bool q_instant(struct req *r, const char *name, int64_t *ms, json_t *errs)
{
	const char *v = req_query(r, name);

	if (!v || !time_parse(v, ms)) {
		jschema_error(errs, name, "must be an RFC 3339 instant such as 2026-03-29T01:30:00Z");
		return false;
	}
	return true;
}

void h_calendar_business_time(struct req *r)
{
	struct calendar c;
	json_t *errs = json_array();
	int64_t from = 0, to = 0;

	q_instant(r, "from", &from, errs);
	q_instant(r, "to", &to, errs);
	if (!json_array_size(errs) && to < from)
		jschema_error(errs, "to", "must not be before from");
	if (!json_array_size(errs) && to - from > 3660LL * 86400000)
		jschema_error(errs, "to", "must be within 10 years of from");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (!load_calendar(r, &c))
		return;
	req_json(r, 200, json_pack("{s:I}", "seconds", (json_int_t)(cal_business_ms(&c, from, to) / 1000)));
}

void h_calendar_add(struct req *r)
{
	struct calendar c;
	json_t *errs = json_array();
	const char *secs = req_query(r, "seconds");
	int64_t from = 0, seconds = 0, at;

	q_instant(r, "from", &from, errs);
	if (!secs || !parse_i64(secs, &seconds) || seconds < 0 || seconds > 10LL * 365 * 86400)
		jschema_error(errs, "seconds", "must be a number of seconds from 0 to 10 years");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (!load_calendar(r, &c))
		return;
	at = cal_add(&c, from, seconds * 1000);
	if (at == INT64_MAX) {
		req_problem(r, 409, "conflict", "Conflict", "the calendar does not open within 10 years");
		return;
	}
	req_json(r, 200, json_pack("{s:o}", "at", json_instant(at)));
}
