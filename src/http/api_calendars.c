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
#include "sla/ics.h"
#include "sla/tz.h"
#include "base/clock.h"
#include "jobs/sla_track.h"

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

/* Checks a whole calendar document (a body, or a row merged with a
 * patch) into row; answers 400 and returns false when it is not valid. */
static bool cal_check(struct req *r, json_t *doc, struct calendar_row *row)
{
	struct cal_in in = { 0 };
	struct jseen seen;
	json_t *rest = json_copy(doc), *errs = json_array();
	json_t *hours = json_object_get(doc, "hours"), *hol = json_object_get(doc, "holidays");
	struct holiday *hs = arena_alloc(r->a, sizeof(*hs) * CAL_MAX_HOLIDAYS);
	struct calendar cal = { 0 };
	struct err e;
	char *ht, *hot;

	json_object_del(rest, "hours");
	json_object_del(rest, "holidays");
	jschema_parse(rest, cal_fields, ARRAY_SIZE(cal_fields), &in, &seen, errs);
	json_decref(rest);
	if (!hs)
		jschema_error(errs, "holidays", "out of memory");
	else if (calendar_from_json(hours, hol, &cal, hs, CAL_MAX_HOLIDAYS, &e) != RC_OK)
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
		return false;
	}
	json_decref(errs);
	ht = hours && !json_is_null(hours) ? json_dumps(hours, JSON_COMPACT) : NULL;
	hot = hol && !json_is_null(hol) ? json_dumps(hol, JSON_COMPACT) : NULL;
	row->name = in.name;
	row->timezone = in.timezone;
	row->always = in.always;
	row->hours = arena_strdup(r->a, ht ? ht : "{}");
	row->holidays = arena_strdup(r->a, hot ? hot : "[]");
	free(ht);
	free(hot);
	return true;
}

void h_calendar_create(struct req *r)
{
	struct calendar_row row = { 0 };

	if (!cal_check(r, r->json, &row))
		return;
	req_write_init(r, W_CALENDAR_PUT, "calendar.create", "calendar");
	r->w.in.cal = row;
	req_write(r, cal_created);
}

static void world_put_v(void *w)
{
	sla_world_put(w);
}

/* An edit of calendar {id}: prepared again when its recompute world went
 * stale before it committed. */
struct cal_edit {
	struct calendar_row row;
	int64_t version;
	int tries;
	json_t *summary;        /* import: what was imported */
};

static void cal_submit(struct req *r);

static void cal_updated(struct req *r)
{
	struct cal_edit *ce = r->ctx;
	struct calendar_row c;
	struct err e;

	if (sla_gen_stale(&r->w) && ++ce->tries < SLA_GEN_RETRIES) {
		cal_submit(r);
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (store_calendar_get(r->srv->store, r->w.id, r->a, &c, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	req_etag(r, c.version);
	req_header(r, "SLA-Recomputed", arena_printf(r->a, "%zu", r->w.recompute->changed));
	if (ce->summary) {
		json_object_set_new(ce->summary, "calendar", calendar_json(&c));
		req_json(r, 200, json_incref(ce->summary));
		return;
	}
	req_json(r, 200, calendar_json(&c));
}

/* Writes the edit with the recompute of every open ticket's SLA, in one
 * transaction, under a world built with the edited row. */
static void cal_submit(struct req *r)
{
	struct cal_edit *ce = r->ctx;
	struct sla_world *w;
	struct sla_recompute *rc = arena_alloc(r->a, sizeof(*rc));
	struct err e;

	if (!rc) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (sla_world_build(r->srv->store, &ce->row, NULL, &w, &e) != RC_OK) {
		req_fail(r, e.code == RC_INVALID ? RC_IO : e.code, &e);
		return;
	}
	arena_defer(r->a, world_put_v, w);
	rc->fn = sla_recompute_fn;
	rc->arg = w;
	req_write_init(r, W_CALENDAR_PUT, "calendar.update", "calendar");
	r->w.in.cal = ce->row;
	r->w.id = ce->row.id;
	r->w.if_version = ce->version;
	r->w.recompute = rc;
	r->w.sla_gen = sla_world_generation(w);
	req_write(r, cal_updated);
}

static void cal_write_edit(struct req *r, struct calendar_row *row, int64_t version, json_t *summary)
{
	struct cal_edit *ce = arena_alloc(r->a, sizeof(*ce));

	if (!ce) {
		json_decref(summary);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	ce->row = *row;
	ce->version = version;
	ce->summary = summary;
	if (summary)
		arena_defer(r->a, (void (*)(void *))json_decref, summary);
	r->ctx = ce;
	cal_submit(r);
}

/* The stored row as a document a patch applies to. */
static json_t *cal_doc(const struct calendar_row *c)
{
	json_t *doc = calendar_json(c);

	json_object_del(doc, "id");
	json_object_del(doc, "created_at");
	json_object_del(doc, "updated_at");
	return doc;
}

void h_calendar_patch(struct req *r)
{
	struct calendar_row old, row = { 0 };
	struct err e;
	int64_t version = 0;
	const char *key;
	json_t *doc, *v;

	if (!req_if_match(r, &version))
		return;
	if (store_calendar_get(r->srv->store, r->params[0], r->a, &old, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	doc = cal_doc(&old);
	arena_defer(r->a, (void (*)(void *))json_decref, doc);
	json_object_foreach(r->json, key, v)
		json_object_set(doc, key, v);
	if (!cal_check(r, doc, &row))
		return;
	row.id = old.id;
	cal_write_edit(r, &row, version, NULL);
}

/* POST /calendars/{id}/holidays/import: an iCalendar file (the body, as
 * text/calendar) adds its all-day events as closed days, within
 * ?from=YYYY-MM-DD&to=YYYY-MM-DD (default: this year and the next). Days
 * the calendar already lists keep their entry. */
void h_calendar_import(struct req *r)
{
	struct calendar_row old, row = { 0 };
	struct ics_day *days = arena_alloc(r->a, sizeof(*days) * CAL_MAX_HOLIDAYS);
	const char *ct = req_header_in(r, "Content-Type");
	const char *qf = req_query(r, "from"), *qt = req_query(r, "to");
	int64_t y, from_day, to_day, ms;
	unsigned mo, d;
	size_t n = 0, skipped = 0, added = 0, kept = 0;
	json_t *doc, *hol, *errs = json_array(), *summary;
	struct err e;
	char iso[32];

	civil_from_days(clock_now_ms() / 86400000, &y, &mo, &d);
	from_day = days_from_civil(y, 1, 1);
	to_day = days_from_civil(y + 1, 12, 31);
	if (!ct || (strncasecmp(ct, "text/calendar", 13) && strncasecmp(ct, "application/octet-stream", 24)))
		jschema_error(errs, "Content-Type", "send the .ics file as Content-Type: text/calendar");
	if (qf) {
		snprintf(iso, sizeof(iso), "%.10sT00:00:00Z", qf);
		if (strlen(qf) != 10 || !time_parse(iso, &ms))
			jschema_error(errs, "from", "must be a date such as 2026-01-01");
		else
			from_day = ms / 86400000;
	}
	if (qt) {
		snprintf(iso, sizeof(iso), "%.10sT00:00:00Z", qt);
		if (strlen(qt) != 10 || !time_parse(iso, &ms))
			jschema_error(errs, "to", "must be a date such as 2027-12-31");
		else
			to_day = ms / 86400000;
	}
	if (!json_array_size(errs) && (to_day < from_day || to_day - from_day > 3660))
		jschema_error(errs, "to", "must be after from, within 10 years");
	if (!json_array_size(errs) && days &&
	    ics_holidays(r->body.data, r->body.len, from_day, to_day, days, CAL_MAX_HOLIDAYS, &n,
			 &skipped, &e) != RC_OK)
		jschema_error(errs, e.field, e.msg);
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (!days) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (store_calendar_get(r->srv->store, r->params[0], r->a, &old, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	doc = cal_doc(&old);
	arena_defer(r->a, (void (*)(void *))json_decref, doc);
	hol = json_object_get(doc, "holidays");
	for (size_t i = 0; i < n; i++) {
		char date[16];
		size_t k;
		json_t *h;
		bool have = false;
		civil_from_days(days[i].day, &y, &mo, &d);
		snprintf(date, sizeof(date), "%04" PRId64 "-%02u-%02u", y, mo, d);
		json_array_foreach(hol, k, h) {
			const char *hd = json_string_value(json_object_get(h, "date"));
			have = have || (hd && !strcmp(hd, date));
		}
		if (have) {
			kept++;
			continue;
		}
		json_array_append_new(hol, days[i].name[0] ? json_pack("{s:s,s:s}", "date", date, "name", days[i].name)
							   : json_pack("{s:s}", "date", date));
		added++;
	}
	if (json_array_size(hol) > CAL_MAX_HOLIDAYS) {
		errs = json_array();
		jschema_error(errs, "ics", "the calendar would have more than 400 holidays; import a narrower window (from, to)");
		req_invalid(r, errs);
		return;
	}
	if (!cal_check(r, doc, &row))
		return;
	row.id = old.id;
	summary = json_pack("{s:I,s:I,s:I}", "added", (json_int_t)added, "already_listed", (json_int_t)kept,
			    "skipped_timed_events", (json_int_t)skipped);
	/* Guarded by the version read: a PATCH committed meanwhile is 412,
	 * not overwritten. */
	cal_write_edit(r, &row, old.version, summary);
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
