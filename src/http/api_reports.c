/*
 * api_reports.c: GET /api/v1/reports/sla-review?client_id=&from=&to=&format=
 * (issue 9; src/report/report.h builds it, docs/REPORTS.md defines every
 * figure). Provider staff may ask for one client or all; client admins
 * and client IT get their own organisation's review (another client's id
 * is 404); client users none.
 */
#include "base/common.h"

#include <inttypes.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"
#include "report/report.h"

static void invalid1(struct req *r, const char *field, const char *msg)
{
	json_t *errs = json_array();

	jschema_error(errs, field, msg);
	req_invalid(r, errs);
}

/* "YYYY-MM-DD" of a day number. */
static const char *day_text(struct arena *a, int64_t days)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	return arena_printf(a, "%04" PRId64 "-%02u-%02u", y, m, d);
}

void h_report_sla_review(struct req *r)
{
	const char *format = req_query(r, "format"), *cid = req_query(r, "client_id");
	struct review_params p = { 0 };
	struct buf out;
	struct err e;
	enum result rc;

	if (!format)
		format = "json";
	if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "html")) {
		invalid1(r, "format", "must be json, csv or html");
		return;
	}
	p.format = !strcmp(format, "csv") ? REVIEW_CSV : !strcmp(format, "html") ? REVIEW_HTML
										  : REVIEW_JSON;
	if (r->scope.role == ROLE_CLIENT_USER) {
		req_deny(r, "client users have no reports");
		return;
	}
	if (cid && (!parse_i64(cid, &p.client_id) || p.client_id <= 0)) {
		invalid1(r, "client_id", "must be an id");
		return;
	}
	if (!r->scope.all_tenants) {
		if (p.client_id && p.client_id != r->scope.client_id) {
			req_problem(r, 404, "not-found", "Not found", "client not found");
			return;
		}
		p.client_id = r->scope.client_id;
	}
	if (report_period(req_query(r, "from"), req_query(r, "to"), &p, &e) != RC_OK) {
		invalid1(r, e.field, e.msg);
		return;
	}
	buf_init(&out, SIZE_MAX / 2);
	rc = report_sla_review(r->srv->store, &r->scope, &p, r->a, &out, &e);
	if (rc != RC_OK)
		req_fail(r, rc, &e);
	else if (p.format == REVIEW_CSV) {
		req_header(r, "Content-Disposition",
			   arena_printf(r->a, "attachment; filename=\"sla-review-%s-%s.csv\"",
					day_text(r->a, p.from_day), day_text(r->a, p.to_day)));
		req_text(r, 200, "text/csv; charset=utf-8", buf_str(&out), out.len);
	} else if (p.format == REVIEW_HTML) {
		const char *csp = report_pack_csp(r->a);
		if (csp)
			req_header(r, "Content-Security-Policy", csp);
		req_text(r, csp ? 200 : 500, "text/html; charset=utf-8", buf_str(&out), out.len);
	} else {
		req_text(r, 200, "application/json", buf_str(&out), out.len);
	}
	buf_release(&out);
}

/* ---- the dashboard ------------------------------------------------------------------------------ */

#define DASH_ALERTS_PAGE 500

/* Counts the alerts firing now that the scope sees (in pages). */
static enum result firing_alerts(struct req *r, int64_t *n, struct err *e)
{
	struct alert_q q = { 0 };
	struct alert_list l;
	enum result rc;

	*n = 0;
	q.limit = DASH_ALERTS_PAGE;
	q.status = ALQ_FIRING;
	for (;;) {
		struct arena *pa = arena_new(16u << 20);
		if (!pa)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		rc = store_alert_list(r->srv->store, &r->scope, &q, pa, &l, e);
		if (rc == RC_OK)
			*n += (int64_t)l.n;
		q.after = rc == RC_OK ? l.next_after : 0;
		arena_free(pa);
		if (rc != RC_OK || !q.after)
			return rc;
	}
}

/* GET /api/v1/dashboard: now, for the caller's tickets and alerts: open
 * tickets (unassigned, P1, with a breached SLA clock, from the queue
 * counts), the alerts firing, and this month's first-contact resolution
 * (docs/REPORTS.md, UTC days; the SLA review gives a client's own days). */
void h_dashboard(struct req *r)
{
	struct queue_counts qc;
	struct review_params p = { 0 };
	struct buf out;
	struct err e;
	int64_t open = 0, unassigned = 0, p1 = 0, breached = 0, firing = 0, y;
	unsigned m, d;
	json_t *month;
	enum result rc;

	if (r->scope.role == ROLE_CLIENT_USER) {
		req_deny(r, "client users have no dashboard");
		return;
	}
	if ((rc = store_queue_counts(r->srv->store, &r->scope, 0, r->a, &qc, &e)) != RC_OK ||
	    (rc = firing_alerts(r, &firing, &e)) != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	for (size_t i = 0; i < qc.n; i++) {
		open += qc.items[i].open;
		unassigned += qc.items[i].unassigned;
		p1 += qc.items[i].p1;
		breached += qc.items[i].breached;
	}
	/* This month so far: the review of [the 1st, the 1st of next month). */
	civil_from_days(clock_now_ms() / 86400000, &y, &m, &d);
	p.from_day = days_from_civil(y, m, 1);
	p.to_day = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
	p.client_id = r->scope.all_tenants ? 0 : r->scope.client_id;
	p.format = REVIEW_SUMMARY;      /* the month's ticket figures, nothing beside them */
	buf_init(&out, SIZE_MAX / 2);
	rc = report_sla_review(r->srv->store, &r->scope, &p, r->a, &out, &e);
	month = rc == RC_OK ? json_loadb(buf_str(&out), out.len, 0, NULL) : NULL;
	buf_release(&out);
	if (!month) {
		req_fail(r, rc == RC_OK ? RC_NOMEM : rc, &e);
		return;
	}
	req_json(r, 200, json_pack("{s:{s:I,s:I,s:I,s:I,s:b},s:{s:I},s:{s:s,s:O,s:O,s:O}}",
				   "tickets", "open", (json_int_t)open, "unassigned",
				   (json_int_t)unassigned, "p1", (json_int_t)p1, "sla_breached",
				   (json_int_t)breached, "truncated", qc.truncated,
				   "alerts", "firing", (json_int_t)firing,
				   "month", "from", day_text(r->a, p.from_day),
				   "fcr", json_object_get(json_object_get(month, "period"), "fcr"),
				   "volume", json_object_get(json_object_get(month, "period"), "volume"),
				   "sla", json_object_get(json_object_get(json_object_get(month, "period"),
									  "sla"), "all")));
	json_decref(month);
}
