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
	if (strcmp(format, "json") && strcmp(format, "csv")) {
		invalid1(r, "format", "must be json or csv");
		return;
	}
	p.csv = !strcmp(format, "csv");
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
	else if (p.csv) {
		req_header(r, "Content-Disposition",
			   arena_printf(r->a, "attachment; filename=\"sla-review-%s-%s.csv\"",
					day_text(r->a, p.from_day), day_text(r->a, p.to_day)));
		req_text(r, 200, "text/csv; charset=utf-8", buf_str(&out), out.len);
	} else {
		req_text(r, 200, "application/json", buf_str(&out), out.len);
	}
	buf_release(&out);
}
