/*
 * report_jobs.h: scheduled delivery of the SLA review pack (issue 9;
 * docs/REPORTS.md "Scheduled delivery"), the scheduler's side and what
 * the API shares with it.
 *
 * On the leader, each scheduler pass (jobs_run_once) reads the enabled
 * schedules whose next_at has come (one indexed probe), decides each
 * with rsched_decide (review_sched.h) in the client's time zone, and
 * either claims the period (W_SCHEDULE_CLAIM: the conditional UPDATE of
 * last_period_to and the outbox row "report.review", one transaction)
 * or only moves next_at. The outbox row says which client, which period,
 * to whom and in which formats; the dispatcher builds the pack when it
 * expands the row (src/notify/review_mail.h).
 */
#ifndef ITSUP_JOBS_REPORT_JOBS_H
#define ITSUP_JOBS_REPORT_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "store/store.h"

struct server;

/* The outbox event of a review pack. */
#define REPORT_REVIEW_EVENT "report.review"

/* One pass at now (the caller checks leadership): returns the packs
 * queued. */
int report_jobs_run(struct server *s, int64_t now);

/* The outbox payload of schedule x's pack of [from_day, to_day) (JSON
 * text in a; NULL when a is full or x's recipients do not read):
 * {"schedule_id", "from", "to", "recipients", "csv", "manual"}. */
const char *report_review_payload(struct arena *a, const struct report_schedule *x,
				  int64_t from_day, int64_t to_day, bool manual);

/* When the job should look at x at now (rsched_look_at), in zone (an
 * IANA name; one that does not load is UTC), as the job decides: counting
 * from x->counts_from, after x->last_period_to (rule 2 of
 * review_sched.h). *from_day and *to_day (may be NULL): the latest
 * complete period, the one before today's in the zone (what "send now"
 * sends by default). */
int64_t report_schedule_look_at(const char *zone, const struct report_schedule *x, int64_t now,
				int64_t *from_day, int64_t *to_day);

#endif
