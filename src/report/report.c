/*
 * report.c: the SLA review as a document (report.h; docs/REPORTS.md).
 *
 * The period is [from, to) in days of the client's time zone (all
 * clients: UTC); the previous period of the same length is computed
 * beside it. The store hands the tickets that may concern either period
 * (store_report_tickets: created before `to`, not resolved before the
 * previous period's start or closed since) in pages by id; each goes to
 * both reviews (review.h, pure), which count it where the definitions
 * say. Nothing is recomputed: the figures are the stored instants and
 * business-time durations.
 *
 * JSON gives every figure of both periods; CSV gives the ticket-level
 * rows behind them (one per ticket the store read for the period, with
 * the columns each figure is computed from and where the ticket counts),
 * with no row cap.
 */
#include "base/common.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/util.h"
#include "report/report.h"
#include "report/review.h"
#include "sla/tz.h"
#include "ticket/ticket.h"

#define PAGE 2000
#define PERIOD_DAYS_MAX 1100          /* three years */

/* Pure: "YYYY-MM-DD" -> days since the epoch; false when not a date. */
static bool parse_day(const char *s, int64_t *days)
{
	int64_t y, m, d, y2;
	unsigned m2, d2;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	*days = days_from_civil(y, (unsigned)m, (unsigned)d);
	civil_from_days(*days, &y2, &m2, &d2);
	return y2 == y && m2 == (unsigned)m && d2 == (unsigned)d;   /* not Feb 30 */
}

/* Midnight starting day `days` in zone z (NULL: UTC), in ms. */
static int64_t local_midnight(const struct tz *z, int64_t days)
{
	int64_t t = days * 86400;

	if (z)
		t -= tz_offset(z, t - tz_offset(z, t));
	return t * 1000;
}

static const char *day_text(struct arena *a, int64_t days)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	return arena_printf(a, "%04" PRId64 "-%02u-%02u", y, m, d);
}

/* ---- rendering ---------------------------------------------------------------------------------- */

static json_t *ratio_json(double v)
{
	return v < 0 ? json_null() : json_real((double)(int64_t)(v * 10000 + 0.5) / 10000);
}

static json_t *times_json(const struct review_times *t)
{
	return json_pack("{s:I,s:I,s:I,s:I}", "count", (json_int_t)t->count, "median_seconds",
			 (json_int_t)t->median, "p90_seconds", (json_int_t)t->p90, "mean_seconds",
			 (json_int_t)t->mean);
}

static json_t *clock_json(const struct review_clock *c)
{
	return json_pack("{s:I,s:I,s:I,s:o}", "met", (json_int_t)c->met, "breached",
			 (json_int_t)c->breached, "pending", (json_int_t)c->pending, "attainment",
			 ratio_json(c->attainment));
}

static const char *const type_keys[REVIEW_TYPES] = { "incident", "service_request", "problem", "change" };
static const char *const channel_keys[REVIEW_CHANNELS] = { "portal", "api", "email", "phone",
							   "monitoring" };

static json_t *figures_json(struct arena *a, const struct review_figures *f, int64_t from_day,
			    int64_t to_day)
{
	json_t *prio = json_object(), *type = json_object(), *chan = json_object();
	json_t *cat = json_object(), *sla = json_object(), *breaches = json_array();

	for (int i = 0; i < REVIEW_PRIOS; i++) {
		json_object_set_new(prio, prio_names[i], json_integer(f->by_prio[i]));
		json_object_set_new(sla, prio_names[i],
				    json_pack("{s:o,s:o}", "response", clock_json(&f->response[i]),
					      "resolution", clock_json(&f->resolution[i])));
	}
	json_object_set_new(sla, "all", json_pack("{s:o,s:o}", "response",
						  clock_json(&f->response[REVIEW_PRIOS]), "resolution",
						  clock_json(&f->resolution[REVIEW_PRIOS])));
	for (int i = 0; i < REVIEW_TYPES; i++)
		json_object_set_new(type, type_keys[i], json_integer(f->by_type[i]));
	for (int i = 0; i < REVIEW_CHANNELS; i++)
		json_object_set_new(chan, channel_keys[i], json_integer(f->by_channel[i]));
	for (size_t i = 0; i < f->ncategories; i++)
		json_object_set_new(cat, f->by_category[i].name, json_integer(f->by_category[i].n));
	for (size_t i = 0; i < f->nbreaches; i++) {
		const struct review_breach *b = &f->breaches[i];
		json_array_append_new(breaches, json_pack(
			"{s:I,s:o,s:s,s:b,s:b,s:i,s:b,s:I}", "ticket_id", (json_int_t)b->id, "number",
			json_sprintf("T-%06" PRId64, b->number), "priority", prio_names[b->prio],
			"response", b->response, "resolution", b->resolution, "held_by_tier", b->tier,
			"vendor", b->vendor, "paused_seconds", (json_int_t)(b->paused_ms / 1000)));
	}
	return json_pack("{s:s,s:s,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o},"
			 "s:{s:o,s:o},s:o,s:o,"
			 "s:{s:I,s:I,s:o,s:f},"
			 "s:{s:I,s:I,s:I,s:o,s:o,s:o,s:I,s:o,s:I,s:I,s:o,s:o}}",
			 "from", day_text(a, from_day), "to", day_text(a, to_day),
			 "volume", "opened", (json_int_t)f->opened, "resolved", (json_int_t)f->resolved,
			 "closed", (json_int_t)f->closed, "reopened", (json_int_t)f->reopened,
			 "backlog_start", (json_int_t)f->backlog_start, "backlog_end",
			 (json_int_t)f->backlog_end, "by_priority", prio, "by_type", type, "by_channel",
			 chan, "by_category", cat,
			 "business_time", "response", times_json(&f->response_time), "resolution",
			 times_json(&f->resolution_time),
			 "sla", sla, "breached_tickets", breaches,
			 "fcr", "decided", (json_int_t)f->fcr_decided, "first_contact", (json_int_t)f->fcr_yes,
			 "rate", ratio_json(f->fcr_rate), "target", 0.7,
			 "escalation", "tier2", (json_int_t)f->reached_t2, "tier3", (json_int_t)f->reached_t3,
			 "vendor", (json_int_t)f->to_vendor, "rate_tier2", ratio_json(f->rate_t2),
			 "rate_tier3", ratio_json(f->rate_t3), "rate_vendor", ratio_json(f->rate_vendor),
			 "tier_changes", (json_int_t)f->tier_changes, "tier_changes_mean",
			 ratio_json(f->tier_changes_mean), "reassignments", (json_int_t)f->reassignments,
			 "reassigned", (json_int_t)f->reassigned, "rate_reassigned",
			 ratio_json(f->rate_reassigned), "reassignments_mean",
			 ratio_json(f->reassignments_mean));
}

/* The CSAT and hours members of a period's figures: see docs/REPORTS.md. */
static json_t *csat_json(const struct review_csat *c, json_t *comments)
{
	json_t *dist = json_object();

	for (int k = 0; k < 5; k++) {
		char key[2] = { (char)('1' + k), 0 };
		json_object_set_new(dist, key, json_integer(c->dist[k]));
	}
	return json_pack("{s:I,s:o,s:o,s:o}", "responses", (json_int_t)c->responses, "average",
			 c->average < 0 ? json_null() : json_real(c->average), "distribution", dist,
			 "comments", comments);
}

static json_t *hours_json(const struct review_hours *h)
{
	static const char *const keys[4] = { "other", "tier1", "tier2", "tier3" };
	json_t *by = json_object();

	for (int k = 1; k <= 4; k++)
		json_object_set_new(by, keys[k % 4],
				    json_pack("{s:I,s:I}", "billable_minutes",
					      (json_int_t)h->tier_billable[k % 4], "non_billable_minutes",
					      (json_int_t)h->tier_non_billable[k % 4]));
	return json_pack("{s:I,s:I,s:o}", "billable_minutes", (json_int_t)h->billable,
			 "non_billable_minutes", (json_int_t)h->non_billable, "by_tier", by);
}

static json_t *comment_json(const struct report_csat *c)
{
	char at[32];
	json_t *text = json_string(c->comment);

	time_format(c->created_at, at);
	return json_pack("{s:I,s:o,s:i,s:o,s:s}", "ticket_id", (json_int_t)c->ticket_id, "number",
			 json_sprintf("T-%06" PRId64, c->number), "rating", c->rating, "comment",
			 text ? text : json_null(), "at", at);
}

/* Reads the CSAT answers and hours of [lo, hi) into *csat and *hours
 * (JSON members; both NULL on error). */
static enum result csat_hours(struct store *st, const struct scope *sc, int64_t client_id,
			      int64_t lo, int64_t hi, json_t **csat, json_t **hours, struct err *e)
{
	struct review_csat c = { 0 };
	struct review_hours h = { 0 };
	struct report_hours_row hr[16];
	json_t *comments = json_array();
	int64_t after = 0;
	size_t n = 0;
	enum result rc = RC_OK;

	*csat = *hours = NULL;
	for (;;) {
		struct arena *pa = arena_new(16u << 20);   /* one page's comments */
		struct report_csat *rows = pa ? arena_alloc(pa, PAGE * sizeof(*rows)) : NULL;
		if (!rows) {
			arena_free(pa);
			rc = err_set(e, RC_NOMEM, NULL, "out of memory");
			break;
		}
		rc = store_report_csat(st, sc, client_id, lo, hi, after, PAGE, pa, rows, &n, e);
		for (size_t i = 0; rc == RC_OK && i < n; i++) {
			review_csat_add(&c, rows[i].rating);
			if (rows[i].comment && *rows[i].comment)
				json_array_append_new(comments, comment_json(&rows[i]));
		}
		if (n)
			after = rows[n - 1].ticket_id;
		arena_free(pa);
		if (rc != RC_OK || n < PAGE)
			break;
	}
	if (rc == RC_OK)
		rc = store_report_hours(st, sc, client_id, lo, hi, NULL, hr, 16, &n, e);
	if (rc != RC_OK) {
		json_decref(comments);
		return rc;
	}
	review_csat_finish(&c);
	for (size_t i = 0; i < n; i++)
		review_hours_add(&h, hr[i].tier, hr[i].billable, hr[i].minutes);
	*csat = csat_json(&c, comments);
	*hours = hours_json(&h);
	return RC_OK;
}

/* ---- weeks ---------------------------------------------------------------------------------------- */

/* The period's weeks: 7 client days each from `from` (the last one may be
 * shorter), with what the charts of the pack show per week. */
struct week {
	int64_t start;                  /* ms: local midnight */
	int64_t opened, resolved, fcr_decided, fcr_yes;
};

struct weeks {
	struct week *w;
	size_t n;
	int64_t from_day, to;
};

/* Pure: the week of t (ms) among n starting at starts w[0..n-1] and ending
 * at `to`; -1 when t is outside. */
static long week_of(const struct week *w, size_t n, int64_t to, int64_t t)
{
	long lo = 0, hi = (long)n - 1;

	if (!n || t < w[0].start || t >= to)
		return -1;
	while (lo < hi) {           /* the last start <= t */
		long mid = (lo + hi + 1) / 2;
		if (w[mid].start <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static void weeks_add(struct weeks *ws, const struct report_ticket *t)
{
	long k = week_of(ws->w, ws->n, ws->to, t->created_at);

	if (k >= 0)
		ws->w[k].opened++;
	k = week_of(ws->w, ws->n, ws->to, t->resolved_at);
	if (k >= 0) {
		ws->w[k].resolved++;
		if (t->fcr >= 0) {
			ws->w[k].fcr_decided++;
			ws->w[k].fcr_yes += t->fcr == 1;
		}
	}
}

static json_t *weeks_json(struct arena *a, const struct weeks *ws)
{
	json_t *arr = json_array();

	for (size_t k = 0; k < ws->n; k++) {
		const struct week *w = &ws->w[k];
		json_array_append_new(arr, json_pack(
			"{s:s,s:I,s:I,s:I,s:I,s:o}", "from", day_text(a, ws->from_day + 7 * (int64_t)k),
			"opened", (json_int_t)w->opened, "resolved", (json_int_t)w->resolved,
			"fcr_decided", (json_int_t)w->fcr_decided, "fcr_first_contact",
			(json_int_t)w->fcr_yes,
			"fcr_rate", ratio_json(w->fcr_decided ? (double)w->fcr_yes / (double)w->fcr_decided
							       : -1)));
	}
	return arr;
}

/* ---- monitoring --------------------------------------------------------------------------------- */

static json_t *secs_json(int64_t s)
{
	return s < 0 ? json_null() : json_integer(s);
}

static json_t *alert_group_json(const struct review_alert_group *g)
{
	json_t *o = json_pack("{s:I,s:I,s:I,s:o,s:o}", "fired", (json_int_t)g->fired, "acknowledged",
			      (json_int_t)g->acked, "resolved", (json_int_t)g->resolved,
			      "mtta_seconds", secs_json(g->mtta), "mttr_seconds", secs_json(g->mttr));

	if (o && g->name) {
		json_object_set_new(o, "check", json_string(g->name));
		json_object_set_new(o, "severity", json_string(g->severity));
	}
	return o;
}

static enum review_alert_kind alert_kind(const char *k)
{
	return !strcmp(k, "fire") ? RA_FIRE : !strcmp(k, "ack") ? RA_ACK : RA_RESOLVE;
}

/* The alert episodes of [lo, hi) into ra (see review.h). */
static enum result alert_figures(struct store *st, const struct scope *sc, int64_t client_id,
				 int64_t lo, int64_t hi, struct review_alerts *ra, struct err *e)
{
	int64_t after = 0, after_id = 0;
	enum result rc;

	for (;;) {
		size_t n = 0;
		struct arena *pa = arena_new(16u << 20);
		struct report_alert_ev *rows = pa ? arena_alloc(pa, PAGE * sizeof(*rows)) : NULL;
		if (!rows) {
			arena_free(pa);
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		}
		rc = store_report_alert_events(st, sc, client_id, lo, hi, after, after_id, PAGE, pa,
					       rows, &n, e);
		for (size_t i = 0; rc == RC_OK && i < n; i++) {
			struct review_alert_ev ev = { rows[i].alert_id, rows[i].at,
						      alert_kind(rows[i].kind ? rows[i].kind : ""),
						      rows[i].name, rows[i].severity };
			rc = review_alerts_add(ra, &ev, e);
		}
		if (n) {
			after = rows[n - 1].alert_id;
			after_id = rows[n - 1].id;
		}
		arena_free(pa);
		if (rc != RC_OK || n < PAGE)
			break;
	}
	review_alerts_finish(ra);
	return rc;
}

/* The monitoring member of a period: alert episodes by check and
 * severity with MTTA and MTTR, and device uptime (docs/REPORTS.md). */
static enum result monitoring(struct store *st, const struct scope *sc, int64_t client_id,
			      int64_t lo, int64_t hi, json_t **out, struct err *e)
{
	struct review_alerts ra;
	json_t *groups = NULL, *devices = NULL, *alerts;
	int64_t after = 0, up = 0, minutes = 0, now = clock_now_ms(), ndev = 0;
	enum result rc;

	*out = NULL;
	review_alerts_init(&ra, lo, hi);
	rc = alert_figures(st, sc, client_id, lo, hi, &ra, e);
	if (rc != RC_OK)
		goto out;
	groups = json_array();
	devices = json_array();
	for (size_t i = 0; i < ra.n; i++)
		json_array_append_new(groups, alert_group_json(&ra.groups[i]));
	for (;;) {
		size_t n = 0;
		struct arena *pa = arena_new(16u << 20);
		struct report_device *rows = pa ? arena_alloc(pa, PAGE * sizeof(*rows)) : NULL;
		if (!rows) {
			arena_free(pa);
			rc = err_set(e, RC_NOMEM, NULL, "out of memory");
			goto out;
		}
		rc = store_report_uptime(st, sc, client_id, lo, hi, after, PAGE, pa, rows, &n, e);
		for (size_t i = 0; rc == RC_OK && i < n; i++) {
			int64_t m;
			double u = review_uptime(rows[i].created_at, lo, hi, now, rows[i].up_minutes, &m);
			if (u < 0 || (!rows[i].active && !rows[i].up_minutes))
				continue;   /* not enrolled yet, or retired and silent */
			ndev++;
			up += rows[i].up_minutes < m ? rows[i].up_minutes : m;
			minutes += m;
			json_array_append_new(devices, json_pack(
				"{s:I,s:I,s:s,s:I,s:I,s:o}", "device_id", (json_int_t)rows[i].id,
				"client_id", (json_int_t)rows[i].client_id, "hostname",
				rows[i].hostname ? rows[i].hostname : "", "minutes", (json_int_t)m,
				"up_minutes", (json_int_t)(rows[i].up_minutes < m ? rows[i].up_minutes : m),
				"uptime", ratio_json(u)));
		}
		if (n)
			after = rows[n - 1].id;
		arena_free(pa);
		if (rc != RC_OK || n < PAGE)
			break;
	}
	if (rc != RC_OK)
		goto out;
	alerts = alert_group_json(&ra.total);
	json_object_set_new(alerts, "by_check", groups);
	groups = NULL;
	*out = json_pack("{s:o,s:{s:I,s:o,s:o}}", "alerts", alerts, "devices", "count",
			 (json_int_t)ndev, "uptime",
			 ratio_json(minutes ? (double)up / (double)minutes : -1), "items", devices);
	devices = NULL;
	if (!*out)
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
out:
	json_decref(groups);
	json_decref(devices);
	review_alerts_free(&ra);
	return rc;
}

/* CSV: a field quoted when it must be (RFC 4180), and a formula's first
 * character neutralised for spreadsheets. */
static void csv_field(struct buf *b, const char *s)
{
	bool quote = false;

	if (!s)
		return;
	for (const char *p = s; *p; p++)
		quote |= *p == ',' || *p == '"' || *p == '\n' || *p == '\r';
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
		quote = true;
	if (!quote) {
		buf_appends(b, s);
		return;
	}
	buf_append(b, "\"", 1);
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
		buf_append(b, "'", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_append(b, "\"", 1);
		buf_append(b, p, 1);
	}
	buf_append(b, "\"", 1);
}

static void csv_instant(struct buf *b, int64_t ms)
{
	char t[32];

	if (ms) {
		time_format(ms, t);
		buf_appends(b, t);
	}
}

#define IN(t, from, to) ((t) && (t) >= (from) && (t) < (to))

static void csv_row(struct buf *b, const struct report_ticket *t, int64_t from, int64_t to)
{
	bool bs = t->created_at < from && (!t->resolved_at || t->resolved_at >= from);
	bool be = t->created_at < to && (!t->resolved_at || t->resolved_at >= to);
	char reassign[16] = "";     /* counted for the tickets opened in the period only */

	buf_appendf(b, "T-%06" PRId64 ",%" PRId64 ",%" PRId64 ",", t->number, t->id, t->client_id);
	csv_instant(b, t->created_at);
	buf_append(b, ",", 1);
	csv_instant(b, t->first_response_at);
	buf_append(b, ",", 1);
	csv_instant(b, t->resolved_at);
	buf_append(b, ",", 1);
	csv_instant(b, t->closed_at);
	buf_appendf(b, ",%s,%s,%s,", prio_names[t->priority], ttype_names[t->type],
		    channel_names[t->channel]);
	csv_field(b, t->category);
	if (IN(t->created_at, from, to))
		snprintf(reassign, sizeof(reassign), "%d", t->reassignments);
	buf_appendf(b, ",%d,%d,%d,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
		    ",%d,%s,%d,%d,%s,%d,%d,%d,%d,%d\r\n",
		    t->has_policy, t->response_breached, t->resolution_breached, t->response_ms / 1000,
		    t->resolution_ms / 1000, t->tier_ms[0] / 1000, t->tier_ms[1] / 1000,
		    t->tier_ms[2] / 1000, t->vendor, t->fcr < 0 ? "" : t->fcr ? "1" : "0", t->reopens,
		    t->tier_changes, reassign, IN(t->created_at, from, to), IN(t->resolved_at, from, to),
		    IN(t->closed_at, from, to), bs, be);
}

/* Appends one row whole, or nothing and RC_NOMEM when out is full (a
 * CSV is never silently cut). */
static enum result csv_append(struct buf *out, const struct report_ticket *t, int64_t from,
			      int64_t to, struct err *e)
{
	struct buf row;
	enum result rc;

	buf_init(&row, 1u << 20);      /* a category is at most 100 bytes: a row is < 1 KiB */
	csv_row(&row, t, from, to);
	rc = row.len && buf_str(&row)[row.len - 1] == '\n' ? buf_append(out, buf_str(&row), row.len)
							   : RC_NOMEM;
	buf_release(&row);
	return rc == RC_OK ? RC_OK : err_set(e, RC_NOMEM, NULL, "the CSV is larger than allowed");
}

static const char csv_header[] =
	"number,ticket_id,client_id,created_at,first_response_at,resolved_at,closed_at,priority,"
	"type,channel,category,has_sla_policy,response_breached,resolution_breached,"
	"response_business_seconds,resolution_business_seconds,tier1_business_seconds,"
	"tier2_business_seconds,tier3_business_seconds,vendor,fcr,reopens,tier_changes,reassignments,"
	"opened_in_period,resolved_in_period,closed_in_period,backlog_at_start,backlog_at_end\r\n";

/* ---- the route ---------------------------------------------------------------------------------- */

static void to_review(const struct report_ticket *s, struct review_ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->id = s->id;
	t->number = s->number;
	t->created_at = s->created_at;
	t->first_response_at = s->first_response_at;
	t->resolved_at = s->resolved_at;
	t->closed_at = s->closed_at;
	t->prio = (int)s->priority;
	t->type = (int)s->type;
	t->channel = (int)s->channel;
	t->category = s->category;
	t->has_policy = s->has_policy;
	t->response_breached = s->response_breached;
	t->resolution_breached = s->resolution_breached;
	t->response_ms = s->response_ms;
	t->resolution_ms = s->resolution_ms;
	for (int k = 0; k < 3; k++)
		t->tier_ms[k] = s->tier_ms[k];
	t->vendor = s->vendor;
	t->fcr = s->fcr;
	t->reopens = s->reopens;
	t->tier_changes = s->tier_changes;
	t->reassignments = s->reassignments;
}

/* The review of p in out (JSON or CSV): see report.h. */
enum result report_sla_review(struct store *st, const struct scope *sc,
			      const struct review_params *p, struct arena *a, struct buf *out,
			      struct err *e)
{
	const char *zone = "UTC", *client_name = NULL;
	int64_t from, to, prev_from, after = 0;
	struct review *cur = NULL, *prev = NULL;
	struct report_ticket *rows = arena_alloc(a, PAGE * sizeof(*rows));
	const struct review_figures *fc, *fp;
	json_t *csat[2], *hours[2], *mon[2] = { NULL, NULL }, *fig[2];
	struct tz *z = NULL;
	struct weeks ws = { 0 };
	/* Only JSON and the pack compare with the previous period: the CSV's
	 * rows and the summary's figures need the period's rows alone. */
	bool whole = p->format == REVIEW_JSON || p->format == REVIEW_HTML;
	enum result rc = RC_OK;
	json_t *doc;
	char *text;

	if (p->client_id) {
		struct client c;
		if ((rc = store_client_get(st, sc, p->client_id, a, &c, e)) != RC_OK)
			return rc;
		zone = c.timezone;
		client_name = c.name;
		if (tz_load(zone, &z, e) != RC_OK) {
			z = NULL;
			zone = "UTC";   /* the days are UTC days then, and say so */
		}
	}
	from = local_midnight(z, p->from_day);
	to = local_midnight(z, p->to_day);
	prev_from = local_midnight(z, p->from_day - (p->to_day - p->from_day));
	ws.n = (size_t)((p->to_day - p->from_day + 6) / 7);
	ws.w = arena_alloc(a, ws.n * sizeof(*ws.w));
	ws.from_day = p->from_day;
	ws.to = to;
	for (size_t k = 0; ws.w && k < ws.n; k++) {
		memset(&ws.w[k], 0, sizeof(ws.w[k]));
		ws.w[k].start = local_midnight(z, p->from_day + 7 * (int64_t)k);
	}
	tz_free(z);

	cur = review_new(from, to);
	prev = review_new(prev_from, from);
	if (!cur || !prev || !rows || !ws.w) {
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
		goto out;
	}
	if (p->format == REVIEW_CSV)
		buf_appends(out, csv_header);
	for (;;) {
		size_t n = 0;
		struct arena *pa = arena_new(64u << 20);   /* one page's strings */
		if (!pa) {
			rc = err_set(e, RC_NOMEM, NULL, "out of memory");
			goto out;
		}
		rc = store_report_tickets(st, sc, p->client_id, whole ? prev_from : from, to, after, PAGE,
					  pa, rows, &n, e);
		for (size_t i = 0; rc == RC_OK && i < n; i++) {
			struct review_ticket t;
			to_review(&rows[i], &t);
			rc = review_add(cur, &t, e);
			if (rc == RC_OK && whole)
				rc = review_add(prev, &t, e);
			if (rc == RC_OK && whole)
				weeks_add(&ws, &rows[i]);
			if (rc == RC_OK && p->format == REVIEW_CSV && rows[i].created_at < to &&
			    (!rows[i].resolved_at || rows[i].resolved_at >= from ||
			     rows[i].closed_at >= from))
				rc = csv_append(out, &rows[i], from, to, e);
		}
		if (n)
			after = rows[n - 1].id;
		arena_free(pa);
		if (rc != RC_OK || n < PAGE)
			break;
	}
	if (rc != RC_OK || p->format == REVIEW_CSV)
		goto out;
	if ((rc = review_finish(cur, &fc, e)) != RC_OK)
		goto out;
	if (p->format == REVIEW_SUMMARY) {
		doc = json_pack("{s:o}", "period", figures_json(a, fc, p->from_day, p->to_day));
		goto dump;
	}
	if ((rc = review_finish(prev, &fp, e)) != RC_OK)
		goto out;
	if ((rc = csat_hours(st, sc, p->client_id, from, to, &csat[0], &hours[0], e)) != RC_OK)
		goto out;
	if ((rc = csat_hours(st, sc, p->client_id, prev_from, from, &csat[1], &hours[1], e)) !=
	    RC_OK) {
		json_decref(csat[0]);
		json_decref(hours[0]);
		goto out;
	}
	if ((rc = monitoring(st, sc, p->client_id, from, to, &mon[0], e)) != RC_OK ||
	    (rc = monitoring(st, sc, p->client_id, prev_from, from, &mon[1], e)) != RC_OK) {
		for (int k = 0; k < 2; k++) {
			json_decref(csat[k]);
			json_decref(hours[k]);
		}
		json_decref(mon[0]);
		goto out;
	}
	fig[0] = figures_json(a, fc, p->from_day, p->to_day);
	fig[1] = figures_json(a, fp, p->from_day - (p->to_day - p->from_day), p->from_day);
	for (int k = 0; k < 2; k++) {
		json_object_set_new(fig[k], "csat", csat[k]);
		json_object_set_new(fig[k], "hours", hours[k]);
		json_object_set_new(fig[k], "monitoring", mon[k]);
	}
	json_object_set_new(fig[0], "weekly", weeks_json(a, &ws));
	doc = json_pack("{s:o,s:o,s:s,s:o,s:o}", "client_id",
			p->client_id ? json_integer(p->client_id) : json_null(), "client_name",
			client_name ? json_string(client_name) : json_null(), "timezone", zone,
			"period", fig[0], "previous", fig[1]);
	if (doc && p->format == REVIEW_HTML) {
		rc = report_pack_html(doc, clock_now_ms(), a, out, e);
		json_decref(doc);
		goto out;
	}
dump:
	text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	json_decref(doc);
	if (!text || buf_appends(out, text) != RC_OK)
		rc = err_set(e, RC_NOMEM, NULL, "out of memory");
	free(text);
out:
	review_free(cur);
	review_free(prev);
	return rc;
}

/* Pure: the period's checks (dates, order, length); the field at fault. */
enum result report_period(const char *from, const char *to, struct review_params *p,
			  struct err *e)
{
	if (!parse_day(from, &p->from_day))
		return err_set(e, RC_INVALID, "from", "must be a date YYYY-MM-DD");
	if (!parse_day(to, &p->to_day) || p->to_day <= p->from_day)
		return err_set(e, RC_INVALID, "to", "must be a date YYYY-MM-DD after from");
	if (p->to_day - p->from_day > PERIOD_DAYS_MAX)
		return err_set(e, RC_INVALID, "to", "a period is at most 1,100 days");
	return RC_OK;
}

