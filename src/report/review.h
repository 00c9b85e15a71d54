/*
 * review.h: the SLA review's ticket figures (issue 9; docs/REPORTS.md has
 * every definition, and this code follows it word for word).
 *
 * Pure: the caller hands in ticket rows (struct review_ticket: what the
 * store keeps on a ticket and its SLA row, nothing recomputed) one at a
 * time, for a period [from, to); review_finish computes the figures. The
 * rows may come in any order and may include tickets that concern the
 * period in no way (they are counted nowhere). A review holds no
 * pointers into the rows it was given, so rows can be streamed.
 *
 * Cost: O(1) per row. Kept: the business-time samples for the median and
 * p90 (8 bytes per responded or resolved ticket opened in the period,
 * sorted once in review_finish), the breach rows, and one counter per
 * distinct category of an opened ticket (the 64 largest are reported,
 * the rest as "(other)", whatever the order of the rows).
 */
#ifndef ITSUP_REPORT_REVIEW_H
#define ITSUP_REPORT_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define REVIEW_PRIOS 4              /* P1..P4 */
#define REVIEW_TYPES 4              /* incident, service_request, problem, change */
#define REVIEW_CHANNELS 5           /* portal, api, email, phone, monitoring */

/* One ticket as the store keeps it (instants in ms, 0: none). */
struct review_ticket {
	int64_t id, number;
	int64_t created_at, first_response_at, resolved_at, closed_at;
	int prio;                   /* 0..3: P1..P4 */
	int type;                   /* 0..REVIEW_TYPES-1 */
	int channel;                /* 0..REVIEW_CHANNELS-1 */
	const char *category;       /* NULL: none (copied when kept) */
	bool has_policy;
	bool response_breached, resolution_breached;
	int64_t response_ms, resolution_ms;   /* business time, as stored */
	int64_t tier_ms[3];         /* business time held at tier 1, 2, 3 */
	bool vendor;                /* escalated to a vendor */
	int fcr;                    /* -1 undecided, 0, 1 */
	int reopens, tier_changes;
	int reassignments;          /* assignee changes away from someone */
};

/* A distribution of business-time durations (seconds). */
struct review_times {
	int64_t count, median, p90, mean;
};

struct review_clock {
	int64_t met, breached, pending;
	double attainment;          /* met / (met + breached); -1 when both 0 */
};

/* A breached ticket with its cause. */
struct review_breach {
	int64_t id, number;
	bool response, resolution;  /* which clocks breached */
	int prio;
	int tier;                   /* 1..3: the tier that held most business time */
	bool vendor;
	int64_t paused_ms;          /* resolved: wall time - business time of resolution; else 0 */
};

#define REVIEW_CATEGORIES_MAX 64

struct review_count { const char *name; int64_t n; };

struct review_figures {
	int64_t from, to;
	/* volume */
	int64_t opened, resolved, closed, reopened, backlog_start, backlog_end;
	int64_t by_prio[REVIEW_PRIOS], by_type[REVIEW_TYPES], by_channel[REVIEW_CHANNELS];
	struct review_count *by_category;   /* opened, by category ("" none), largest first */
	size_t ncategories;
	/* SLA, per priority and all */
	struct review_clock response[REVIEW_PRIOS + 1], resolution[REVIEW_PRIOS + 1];
	struct review_breach *breaches;     /* by ticket id */
	size_t nbreaches;
	/* times */
	struct review_times response_time, resolution_time;
	/* FCR and escalation */
	int64_t fcr_decided, fcr_yes;
	double fcr_rate;                    /* -1: none decided */
	int64_t reached_t2, reached_t3, to_vendor, tier_changes;
	double rate_t2, rate_t3, rate_vendor, tier_changes_mean;  /* -1: none opened */
	int64_t reassignments, reassigned;  /* changes, and tickets with at least one */
	double reassignments_mean, rate_reassigned;               /* -1: none opened */
};

struct review;

/* A new review of [from, to) (ms); NULL when out of memory. */
struct review *review_new(int64_t from, int64_t to);
/* Counts one ticket. RC_NOMEM when a sample cannot be kept; RC_INVALID
 * (field named) for a row out of range (prio, type, channel). */
enum result review_add(struct review *rv, const struct review_ticket *t, struct err *e);
/* The figures (owned by rv; valid until review_free). */
enum result review_finish(struct review *rv, const struct review_figures **out, struct err *e);
void review_free(struct review *rv);

/* Customer satisfaction (docs/REPORTS.md): the answers given in the
 * period, one review_csat_add each (a rating outside 1..5 counts
 * nowhere), then review_csat_finish. */
struct review_csat {
	int64_t responses, dist[5];         /* dist[k]: rating k+1 */
	int64_t sum;
	double average;                     /* two decimals (half up); -1: none */
};
void review_csat_add(struct review_csat *c, int rating);
void review_csat_finish(struct review_csat *c);

/* Hours (docs/REPORTS.md): minutes of time entries started in the period
 * by the tier of who logged them ([0]: no tier, "other"; [1..3]: tier). */
struct review_hours {
	int64_t billable, non_billable;
	int64_t tier_billable[4], tier_non_billable[4];
};
/* Adds minutes of tier (outside 1..3: other). */
void review_hours_add(struct review_hours *h, int tier, bool billable, int64_t minutes);

/* Monitoring (docs/REPORTS.md "Monitoring"): alert episodes. An episode
 * starts with an alert's fire event and ends with its resolve event; it
 * counts when it started in [from, to), grouped by the alert's name and
 * the severity of the fire event. Events come one review_alerts_add
 * each, ordered by alert id then event id (store_report_alert_events'
 * order); an ack or resolve without an episode open counts nowhere. */
enum review_alert_kind { RA_FIRE, RA_ACK, RA_RESOLVE };

struct review_alert_ev {
	int64_t alert_id, at;
	enum review_alert_kind kind;
	const char *name, *severity;   /* copied when kept */
};

struct review_alert_group {
	char *name, *severity;
	int64_t fired, acked, resolved;
	int64_t ack_ms, resolve_ms;    /* sums over the acked / resolved */
	int64_t mtta, mttr;            /* seconds, floor of the mean; -1: none */
};

struct review_alerts {
	int64_t from, to;
	struct review_alert_group *groups;   /* by fired desc, then name, severity */
	size_t n, cap;
	struct review_alert_group total;     /* name and severity NULL */
	/* the episode being read */
	int64_t alert_id, fire_at;
	long open;                     /* its group, -1: none or not counted */
	bool acked;
};

void review_alerts_init(struct review_alerts *ra, int64_t from, int64_t to);
/* RC_NOMEM when a new group cannot be kept (nothing counted then). */
enum result review_alerts_add(struct review_alerts *ra, const struct review_alert_ev *ev,
			      struct err *e);
/* Sorts the groups and computes the means. */
void review_alerts_finish(struct review_alerts *ra);
void review_alerts_free(struct review_alerts *ra);

/* Pure: a device's uptime in [from, to) given up_minutes: the minutes it
 * checked in, over the minutes from max(from, created_at) to min(to,
 * now) (*minutes); -1 when that is no minute. At most 1. */
double review_uptime(int64_t created_at, int64_t from, int64_t to, int64_t now,
		     int64_t up_minutes, int64_t *minutes);

/* Pure: the nearest-rank percentile q (0 < q <= 1) and the lower median
 * of sorted values v[0..n-1] (n > 0). */
int64_t review_percentile(const int64_t *v, size_t n, double q);
int64_t review_median(const int64_t *v, size_t n);

#endif
