/*
 * review_sched.h: when a scheduled SLA review pack goes out (issue 9;
 * docs/REPORTS.md "Scheduled delivery"). Pure: days, periods and the
 * decision; the job (report_jobs.c) reads the schedules and writes the
 * claim, the API (api_schedules.c) shows what these compute.
 *
 * A schedule's periods are calendar months or quarters (Jan-Mar, Apr-Jun,
 * Jul-Sep, Oct-Dec) of the client's own days, [from, to) in days since
 * the epoch, as the review takes them (report.h). The pack of a period
 * is due on the first day after it, at `hour` o'clock local time (the
 * period's send time).
 *
 * rsched_decide, at instant now, for one schedule:
 *   1. the candidate is the latest period whose send time has come
 *      (<= now): the period before the current one once today's hour has
 *      passed on its first day, else the one before that;
 *   2. it is sent when it ends later than the last period sent (last_to,
 *      the day after that period's last day) and its send time is not
 *      before the schedule counts from (since: its creation, then the
 *      moment it was last switched on again, as the store keeps it in
 *      counts_from): a new schedule never sends a period that fell due
 *      before it existed, periods that fell due while it was switched off
 *      are not sent afterwards (however it is edited later), and after a
 *      change of cadence a period that ends within what was sent already
 *      is not sent (quarterly to monthly: the months of a quarter sent),
 *      while one that ends later is sent whole, even when its start was
 *      sent (monthly to quarterly: the quarter whose first months went
 *      as months goes, or its last month would never be reported);
 *   3. a period missed because no server ran at its send time is sent
 *      when one runs again, if no later period has come due meanwhile
 *      (only the latest is ever sent: a quarter's worth of stale packs
 *      would help nobody);
 *   4. next_at is when to look again: the send time of the period after
 *      the candidate (always > now).
 */
#ifndef ITSUP_JOBS_REVIEW_SCHED_H
#define ITSUP_JOBS_REVIEW_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;

enum rsched_cadence { RS_MONTHLY, RS_QUARTERLY };
/* "monthly", "quarterly", NULL-terminated (the API's and the table's
 * names, in enum order). */
extern const char *const rsched_cadence_names[];

struct rsched_period { int64_t from_day, to_day; };

/* The period of cadence c that contains day. */
void rsched_period_of(enum rsched_cadence c, int64_t day, struct rsched_period *out);
/* The period of cadence c just before the one that starts on from_day. */
void rsched_period_before(enum rsched_cadence c, int64_t from_day, struct rsched_period *out);

/* The instant (UTC ms) of local wall time `hour`:00 on day in zone z
 * (NULL: UTC). A wall time that does not exist (a spring-forward gap)
 * is read with the offset before the change, so it lands just after it. */
int64_t rsched_local_ms(const struct tz *z, int64_t day, int hour);
/* The local day (days since the epoch) of instant ms in z (NULL: UTC). */
int64_t rsched_local_day(const struct tz *z, int64_t ms);

struct rsched_in {
	enum rsched_cadence cadence;
	int hour;                       /* 0..23, local */
	int64_t since;                  /* ms: rule 2 */
	int64_t last_to;                /* day: the end (exclusive) of the last period sent; INT64_MIN: none */
};

struct rsched_decision {
	bool send;                      /* claim and send period */
	struct rsched_period period;    /* the candidate (rule 1) */
	int64_t send_at;                /* its send time */
	int64_t next_at;                /* rule 4 */
};

void rsched_decide(const struct rsched_in *in, const struct tz *z, int64_t now,
		   struct rsched_decision *out);
/* When the job should look at the schedule: the candidate's send time
 * when it is to be sent, else the next period's (what the store keeps in
 * next_at, so a period left unsent is not skipped by an edit). */
int64_t rsched_look_at(const struct rsched_decision *d);

/* "YYYY-MM-DD" <-> days since the epoch (false / INT64_MIN when not a
 * real date). */
bool rsched_parse_day(const char *s, int64_t *day);
void rsched_day_text(int64_t day, char out[16]);

/* A period's short label, for file names: "2027-03" (a calendar month),
 * "2027-Q1" (a calendar quarter), else "2027-03-05_2027-04-09" (first and
 * last day). */
void rsched_label(int64_t from_day, int64_t to_day, char out[32]);
/* Its title, for people: "March 2027", "Q1 2027", else
 * "2027-03-05 to 2027-04-09". */
void rsched_title(int64_t from_day, int64_t to_day, char out[48]);

/* A file name "sla-review-<client>-<label>.<ext>" into out (n bytes):
 * the client's name kept to ASCII letters, digits, '-' and '_' (runs of
 * anything else become one '-', trimmed, at most 40 bytes; "client" when
 * nothing is left), so it is safe in a MIME parameter and on any disk. */
void rsched_filename(const char *client_name, const char *label, const char *ext, char *out,
		     size_t n);

#endif
