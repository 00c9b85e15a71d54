/*
 * api_schedules.c: scheduled delivery of the SLA review pack (issue 9;
 * docs/REPORTS.md "Scheduled delivery"), for provider admins (the routes
 * are P_ADMIN: client roles get 403):
 *
 *   GET    /api/v1/reports/schedules[?client_id=&limit=&cursor=]
 *   POST   /api/v1/reports/schedules             {client_id, cadence, recipients, formats?, hour?, enabled?}
 *   GET    /api/v1/reports/schedules/{id}
 *   PATCH  /api/v1/reports/schedules/{id}        (If-Match) the same but client_id
 *   DELETE /api/v1/reports/schedules/{id}
 *   POST   /api/v1/reports/schedules/{id}/send   {from?, to?}: one pack now
 *
 * A schedule is checked whole before it is written: every problem is a
 * 400 naming its field (recipients[2], formats[0], ...). The handler
 * computes next_at, the instant the scheduler looks at the schedule next
 * (src/jobs/report_jobs.h), in the client's zone, as the job decides:
 * counting from counts_from, which is the creation and then the moment
 * of each switch from off to on (the handler sets it then), so an edit
 * never skips a period that is due, and periods that fell due while the
 * schedule was off are not sent, however it is edited afterwards. "Send now" writes an outbox row (the job's kind, "manual": true)
 * and touches nothing of the schedule: the scheduled sends go on as
 * before.
 */
#include "base/common.h"

#include <inttypes.h>

#include "base/clock.h"
#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"
#include "jobs/report_jobs.h"
#include "jobs/review_sched.h"
#include "notify/compose.h"
#include "notify/notify.h"
#include "notify/review_mail.h"
#include "report/report.h"
#include "sla/tz.h"

#define HAS(seen, f) (((seen).present >> (f)) & 1u)

static void invalid1(struct req *r, const char *field, const char *msg)
{
	json_t *errs = json_array();

	jschema_error(errs, field, msg);
	req_invalid(r, errs);
}

/* ---- the representation ------------------------------------------------------------------------ */

static json_t *period_json(int64_t from_day, int64_t to_day)
{
	char from[16], to[16], label[32];

	rsched_day_text(from_day, from);
	rsched_day_text(to_day, to);
	rsched_label(from_day, to_day, label);
	return json_pack("{s:s,s:s,s:s}", "from", from, "to", to, "label", label);
}

/* The period whose pack goes out at x's next_at: the one that ends on
 * next_at's local day (its send time is that day at the hour). */
static json_t *next_period_json(const struct report_schedule *x, const char *zone)
{
	struct rsched_period cur, p;
	enum rsched_cadence c = x->cadence && !strcmp(x->cadence, "quarterly") ? RS_QUARTERLY
									       : RS_MONTHLY;
	struct tz *z = NULL;
	struct err e;

	if (!x->enabled)
		return json_null();
	if (tz_load(zone ? zone : "UTC", &z, &e) != RC_OK)
		z = NULL;
	rsched_period_of(c, rsched_local_day(z, x->next_at), &cur);
	rsched_period_before(c, cur.from_day, &p);
	tz_free(z);
	return period_json(p.from_day, p.to_day);
}

static json_t *schedule_json(struct req *r, const struct report_schedule *x)
{
	json_t *rcpt = json_loads(x->recipients ? x->recipients : "[]", 0, NULL);
	struct client c;
	struct err e;
	const char *zone = "UTC";

	if (store_client_get(r->srv->store, &r->scope, x->client_id, r->a, &c, &e) == RC_OK)
		zone = c.timezone;
	return json_pack("{s:I,s:I,s:s,s:s,s:o,s:o,s:i,s:s,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:I}",
			 "id", (json_int_t)x->id, "client_id", (json_int_t)x->client_id,
			 "client_name", x->client_name ? x->client_name : "", "cadence", x->cadence,
			 "recipients", rcpt ? rcpt : json_array(),
			 "formats", x->csv ? json_pack("[s,s]", "html", "csv") : json_pack("[s]", "html"),
			 "hour", x->hour, "timezone", zone, "enabled", x->enabled,
			 "last_period_sent", json_str_or_null(x->last_period_sent),
			 "last_period_to", json_str_or_null(x->last_period_to),
			 "last_sent_at", json_instant(x->last_sent_at),
			 "next_send_at", x->enabled ? json_instant(x->next_at) : json_null(),
			 "next_period", next_period_json(x, zone),
			 "counts_from", json_instant(x->counts_from),
			 "created_by", (json_int_t)x->created_by, "created_at", json_instant(x->created_at),
			 "updated_at", json_instant(x->updated_at), "version", (json_int_t)x->version);
}

static void answer(struct req *r, int64_t id, int status)
{
	struct report_schedule x;
	struct err e;

	if (store_schedule_get(r->srv->store, &r->scope, id, r->a, &x, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/reports/schedules/%" PRId64, id));
	req_etag(r, x.version);
	req_json(r, status, schedule_json(r, &x));
}

/* ---- input ------------------------------------------------------------------------------------- */

struct sched_in {
	int64_t client_id, hour;
	const char *cadence;
	json_t *recipients, *formats;
	bool enabled;
};

enum { SF_CLIENT, SF_CADENCE, SF_RCPT, SF_FORMATS, SF_HOUR, SF_ENABLED, SF_COUNT };

static const struct jfield sched_fields[SF_COUNT] = {
	[SF_CLIENT] = { "client_id", JT_INT, 0, offsetof(struct sched_in, client_id), 1, INT64_MAX, NULL },
	[SF_CADENCE] = { "cadence", JT_ENUM, 0, offsetof(struct sched_in, cadence), 0, 0,
			 rsched_cadence_names },
	[SF_RCPT] = { "recipients", JT_ARRAY, 0, offsetof(struct sched_in, recipients), 0, 0, NULL },
	[SF_FORMATS] = { "formats", JT_ARRAY, 0, offsetof(struct sched_in, formats), 0, 0, NULL },
	[SF_HOUR] = { "hour", JT_INT, 0, offsetof(struct sched_in, hour), 0, 23, NULL },
	[SF_ENABLED] = { "enabled", JT_BOOL, 0, offsetof(struct sched_in, enabled), 0, 0, NULL },
};

/* The recipients as stored (a JSON array of lower-case addresses, each
 * once), or NULL with errs filled. */
static const char *recipients_text(struct req *r, json_t *list, json_t *errs)
{
	json_t *out, *v;
	size_t i;
	char *s;
	const char *t;

	if (!json_array_size(list) || json_array_size(list) > REVIEW_MAIL_RCPT_MAX) {
		jschema_error(errs, "recipients", arena_printf(r->a, "must be 1 to %d e-mail addresses",
							       REVIEW_MAIL_RCPT_MAX));
		return NULL;
	}
	out = json_array();
	json_array_foreach(list, i, v) {
		const char *addr = json_string_value(v);
		const char *field = arena_printf(r->a, "recipients[%zu]", i);
		char lower[256];
		bool dup = false;
		size_t k;
		json_t *w;

		/* An address the composer writes (ASCII, no quotes, brackets
		 * or other specials), so none is dropped when the pack goes. */
		if (!addr || strlen(addr) >= sizeof(lower) || !email_valid(addr) ||
		    !mail_address_ok(addr)) {
			jschema_error(errs, field, "is not an e-mail address (ASCII, without quotes,"
				      " brackets or spaces)");
			continue;
		}
		str_lower(addr, lower, sizeof(lower));
		json_array_foreach(out, k, w)
			dup |= !strcmp(json_string_value(w), lower);
		if (dup)
			jschema_error(errs, field, "is listed twice");
		else
			json_array_append_new(out, json_string(lower));
	}
	s = json_array_size(errs) ? NULL : json_dumps(out, JSON_COMPACT);
	json_decref(out);
	t = s ? arena_strdup(r->a, s) : NULL;
	free(s);
	return t;
}

/* formats: "html" (always) and optionally "csv"; *csv says which. */
static bool formats_ok(struct req *r, json_t *list, bool *csv, json_t *errs)
{
	bool html = false;
	json_t *v;
	size_t i;

	*csv = false;
	if (!json_array_size(list) || json_array_size(list) > 2) {
		jschema_error(errs, "formats", "must be [\"html\"] or [\"html\", \"csv\"]");
		return false;
	}
	json_array_foreach(list, i, v) {
		const char *f = json_string_value(v);
		if (f && !strcmp(f, "html") && !html)
			html = true;
		else if (f && !strcmp(f, "csv") && !*csv)
			*csv = true;
		else {
			jschema_error(errs, arena_printf(r->a, "formats[%zu]", i),
				      "must be \"html\" or \"csv\", each once");
			return false;
		}
	}
	if (!html)
		jschema_error(errs, "formats", "must include \"html\" (the pack always goes)");
	return html;
}

/* Parses the body into x (creating: client_id, cadence and recipients
 * are required); the client is read into c. Answers and returns false on
 * any problem. */
static bool sched_parse(struct req *r, struct report_schedule *x, struct client *c, bool creating)
{
	struct sched_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct err e;

	jschema_parse(r->json, sched_fields, SF_COUNT, &in, &seen, errs);
	if (creating) {
		if (!HAS(seen, SF_CLIENT))
			jschema_error(errs, "client_id", "is required");
		if (!HAS(seen, SF_CADENCE))
			jschema_error(errs, "cadence", "is required");
		if (!HAS(seen, SF_RCPT))
			jschema_error(errs, "recipients", "is required");
	} else if (HAS(seen, SF_CLIENT) && in.client_id != x->client_id) {
		jschema_error(errs, "client_id", "cannot be changed: make a schedule for the other client");
	}
	if (HAS(seen, SF_CLIENT))
		x->client_id = in.client_id;
	if (HAS(seen, SF_CADENCE))
		x->cadence = in.cadence;
	if (HAS(seen, SF_RCPT))
		x->recipients = recipients_text(r, in.recipients, errs);
	if (HAS(seen, SF_FORMATS))
		formats_ok(r, in.formats, &x->csv, errs);
	if (HAS(seen, SF_HOUR))
		x->hour = (int)in.hour;
	if (HAS(seen, SF_ENABLED))
		x->enabled = in.enabled;
	if (x->client_id && store_client_get(r->srv->store, &r->scope, x->client_id, r->a, c, &e) != RC_OK) {
		if (creating)
			jschema_error(errs, "client_id", "is not a client");
		else
			c->timezone = "UTC";    /* the schedule's own client, gone: UTC days */
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	return true;
}

static void written(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (r->w.replayed)
		req_header(r, "Idempotent-Replayed", "true");
	jobs_kick();
	answer(r, r->w.id, r->w.in.sched.id ? 200 : 201);
}

void h_schedule_create(struct req *r)
{
	struct report_schedule x = { 0 };
	struct client c;
	int64_t now = clock_now_ms();

	x.hour = 7;
	x.enabled = true;
	if (!sched_parse(r, &x, &c, true))
		return;
	x.created_at = now;
	x.counts_from = now;
	x.next_at = report_schedule_look_at(c.timezone, &x, now, NULL, NULL);
	req_write_init(r, W_SCHEDULE_PUT, "report_schedule.create", "report_schedule");
	r->w.in.sched = x;
	req_write(r, written);
}

void h_schedule_patch(struct req *r)
{
	struct report_schedule x;
	struct client c = { .timezone = "UTC" };
	struct err e;
	int64_t ver, now = clock_now_ms();
	bool was_on;

	if (!req_if_match(r, &ver))
		return;
	if (store_schedule_get(r->srv->store, &r->scope, r->params[0], r->a, &x, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	was_on = x.enabled;
	if (!sched_parse(r, &x, &c, false))
		return;
	/* Switched on again: what fell due while it was off stays unsent,
	 * now and at every later edit and pass (counts_from is kept). */
	if (x.enabled && !was_on)
		x.counts_from = now;
	x.next_at = report_schedule_look_at(c.timezone, &x, now, NULL, NULL);
	req_write_init(r, W_SCHEDULE_PUT, "report_schedule.update", "report_schedule");
	r->w.in.sched = x;
	r->w.if_version = ver;
	req_write(r, written);
}

void h_schedule_delete(struct req *r)
{
	req_write_init(r, W_SCHEDULE_DELETE, "report_schedule.delete", "report_schedule");
	r->w.id = r->params[0];
	req_write(r, req_written_204);
}

void h_schedule_get(struct req *r)
{
	answer(r, r->params[0], 200);
}

void h_schedule_list(struct req *r)
{
	struct list_q q;
	struct report_schedule_list l;
	struct err e;
	const char *cid = req_query(r, "client_id");
	json_t *items;

	if (!req_page(r, &q))
		return;
	q.client_id = 0;
	if (cid && (!parse_i64(cid, &q.client_id) || q.client_id <= 0)) {
		invalid1(r, "client_id", "must be an id");
		return;
	}
	if (store_schedule_list(r->srv->store, &r->scope, &q, r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(items, schedule_json(r, &l.items[i]));
	req_json(r, 200, page_json(items, l.next_after));
}

/* ---- send now ---------------------------------------------------------------------------------- */

struct send_in { const char *from, *to; };

static const struct jfield send_fields[] = {
	{ "from", JT_STRING, 0, offsetof(struct send_in, from), 1, 32, NULL },
	{ "to", JT_STRING, 0, offsetof(struct send_in, to), 1, 32, NULL },
};

struct send_ctx { int64_t from_day, to_day; const char *recipients; };

static void sent_then(struct req *r)
{
	struct send_ctx *k = r->ctx;
	json_t *rcpt;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	notify_kick();
	rcpt = json_loads(k->recipients ? k->recipients : "[]", 0, NULL);
	req_json(r, 202, json_pack("{s:I,s:I,s:o,s:o}", "schedule_id", (json_int_t)r->params[0],
				   "outbox_id", (json_int_t)r->w.id, "period",
				   period_json(k->from_day, k->to_day), "recipients",
				   rcpt ? rcpt : json_array()));
}

void h_schedule_send(struct req *r)
{
	struct send_in in = { 0 };
	struct report_schedule x;
	struct review_params p = { 0 };
	struct send_ctx *k = arena_alloc(r->a, sizeof(*k));
	struct client c;
	struct jseen seen;
	json_t *errs = json_array();
	struct err e;
	const char *payload;
	char from[16], to[16];

	if (!k) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!jschema_parse(r->json, send_fields, ARRAY_SIZE(send_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	if ((seen.present & 3) == 1 || (seen.present & 3) == 2)
		jschema_error(errs, (seen.present & 1) ? "to" : "from", "give both from and to, or neither");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (store_schedule_get(r->srv->store, &r->scope, r->params[0], r->a, &x, &e) != RC_OK ||
	    store_client_get(r->srv->store, &r->scope, x.client_id, r->a, &c, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (seen.present & 3) {
		if (report_period(in.from, in.to, &p, &e) != RC_OK) {
			invalid1(r, e.field, e.msg);
			return;
		}
		k->from_day = p.from_day;
		k->to_day = p.to_day;
	} else {
		/* The latest complete period in the client's days. */
		report_schedule_look_at(c.timezone, &x, clock_now_ms(), &k->from_day, &k->to_day);
	}
	k->recipients = x.recipients;
	rsched_day_text(k->from_day, from);
	rsched_day_text(k->to_day, to);
	payload = report_review_payload(r->a, &x, k->from_day, k->to_day, true);
	if (!payload) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	r->ctx = k;
	req_write_init(r, W_SCHEDULE_SEND, "report_schedule.send", "report_schedule");
	r->w.in.claim.id = x.id;
	r->w.in.claim.event = REPORT_REVIEW_EVENT;
	r->w.in.claim.payload = payload;
	r->w.audit.object_id = x.id;
	r->w.audit.detail = arena_printf(r->a, "sent now: period %s to %s", from, to);
	req_write(r, sent_then);
}
