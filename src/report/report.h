/*
 * report.h: the SLA review as a document (issue 9; docs/REPORTS.md), for
 * the API (src/http/api_reports.c, where it is built) and `itsup report
 * sla-review`. The figures come from src/report/review.h over the
 * tickets store_report_tickets reads for the period and the one before.
 */
#ifndef ITSUP_REPORT_H
#define ITSUP_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "auth/scope.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "store/store.h"

/* JSON: every figure of the period and the previous one; CSV: the ticket
 * rows behind the period's; HTML: the printable pack; SUMMARY: JSON with
 * only the period's ticket figures (no previous period, CSAT, hours,
 * monitoring or weeks: what the dashboard shows, read from the period's
 * rows alone). */
enum review_format { REVIEW_JSON, REVIEW_CSV, REVIEW_HTML, REVIEW_SUMMARY };

struct review_params {
	int64_t client_id;              /* 0: every client the scope sees */
	int64_t from_day, to_day;       /* days since the epoch, [from, to) */
	enum review_format format;      /* the figures, the ticket rows, or the printable pack */
};

/* Checks "YYYY-MM-DD" from and to into p: RC_INVALID naming the field. */
enum result report_period(const char *from, const char *to, struct review_params *p,
			  struct err *e);
/* Appends the review of p to out (JSON, or CSV with a header line). A
 * client the scope does not see is RC_NOTFOUND. */
enum result report_sla_review(struct store *st, const struct scope *sc,
			      const struct review_params *p, struct arena *a, struct buf *out,
			      struct err *e);

/* The printable review pack (HTML with SVG charts; docs/REPORTS.md "The
 * printable pack") of a review document as report_sla_review builds it
 * (JSON), generated at `now` (ms), appended to out. */
enum result report_pack_html(json_t *doc, int64_t now, struct arena *a, struct buf *out,
			     struct err *e);
/* The Content-Security-Policy under which the pack is served: nothing but
 * its own stylesheet (by hash) and inline SVG. NULL: no memory. */
const char *report_pack_csp(struct arena *a);

#endif
