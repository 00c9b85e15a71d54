/*
 * clock.h: the SLA clocks of one ticket. Pure: no I/O, no clock reads.
 *
 * A ticket's SLA history is a log of clock events (struct sla_ev): its
 * creation (the first status, priority and tier, all at created_at), then
 * every status, priority and tier change and the first public reply by
 * staff. sla_eval() replays the log up to "now" against a policy and
 * answers everything the API shows and the scheduler needs. Nothing is
 * accumulated incrementally, so a priority change, a calendar edit or a
 * what-if simulation is the same replay, and the answer is explainable:
 * sla_segments() gives the pieces it was made of.
 *
 * Semantics (docs/SLA.md)
 *  1. Between two events the ticket has one status, priority and tier.
 *     The business time of such a piece is measured in the calendar of
 *     the priority it had then (a policy may give P1 a 24x7 calendar).
 *  2. The resolution clock runs while the status is neither a pause
 *     status nor resolved/closed; it resumes on reopen. The response
 *     clock runs under the same condition until the first public reply by
 *     staff or the first resolution, whichever comes first, and then
 *     stops for good.
 *  3. Targets are those of the priority the ticket has now. The due
 *     instant is the earliest instant at which the clock's accumulated
 *     business time reaches the target: in the past when already reached
 *     (a breach), cal_add(now, target - used) when still running, and for
 *     a stopped clock cal_add(stop, target - used) (the due instant that
 *     applied when it stopped). While paused there is no due instant (0).
 *  4. Breached: the target was reached while the clock ran, strictly
 *     before the stopping event (or before now): reaching it exactly at
 *     the reply, or being exactly at it now, is on time. Callers keep a breach once seen, so a
 *     later priority change cannot take it back (sla.h keeps it).
 *  5. Tier clocks (OLA): the business time the ticket spent at each tier
 *     while its resolution clock ran; the policy may give each tier a
 *     target, reached at ola_at[k].
 *
 * Instants and durations are milliseconds; 0 means "none".
 */
#ifndef ITSUP_SLA_CLOCK_H
#define ITSUP_SLA_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "sla/calendar.h"
#include "ticket/ticket.h"

#define SLA_MAX_WARN 4
#define SLA_MAX_LOG 4096  /* events kept per ticket */

enum sla_ev_kind {
	SE_STATUS = 's',    /* value: enum tstatus */
	SE_PRIORITY = 'p',  /* value: enum prio */
	SE_TIER = 't',      /* value: 1..3 */
	SE_RESPONSE = 'r',  /* the first public reply by staff; value 0 */
};

struct sla_ev {
	int64_t at;
	char kind;
	int value;
};

/* What a policy does when a timer fires (besides the timeline event and
 * the outbox row every timer gives). */
enum sla_on { ON_RESPONSE_WARNING, ON_RESPONSE_BREACHED, ON_RESOLUTION_WARNING,
	      ON_RESOLUTION_BREACHED, ON_OLA_BREACHED, ON_COUNT };
enum sla_do { DO_NOTIFY_DISPATCHER, DO_RAISE_TIER, DO_RAISE_PRIORITY, DO_COUNT };
extern const char *const sla_on_names[ON_COUNT + 1];
extern const char *const sla_do_names[DO_COUNT + 1];

#define SLA_MAX_ACTIONS 8

struct sla_action {
	enum sla_on on;
	int level;            /* warnings: index into warn[] */
	enum sla_do what;
};

struct sla_policy {
	int64_t id;
	const struct calendar *cal[PR_COUNT];   /* per priority; never NULL */
	int64_t response[PR_COUNT];             /* target ms, 0: none */
	int64_t resolution[PR_COUNT];
	bool pause[TS_COUNT];
	int nwarn;
	double warn[SLA_MAX_WARN];              /* ascending fractions in (0, 1) */
	int64_t ola[3];                         /* per tier, ms, 0: none */
	int nact;
	struct sla_action act[SLA_MAX_ACTIONS];
};

enum { SLA_RESPONSE, SLA_RESOLUTION, SLA_NCLOCKS };

struct sla_clock {
	int64_t target;                 /* ms, 0: no target (then nothing below) */
	int64_t used;                   /* business ms accumulated by now (or the stop) */
	int64_t due;                    /* see semantics 3; 0: none */
	int64_t stopped_at;             /* 0: not stopped (running or paused) */
	bool running;                   /* running at now */
	bool breached;
	int64_t warn_at[SLA_MAX_WARN];  /* instant each warning fraction is/was reached, 0: none */
};

struct sla_result {
	struct sla_clock clk[SLA_NCLOCKS];
	bool paused;                    /* a pause status holds the clocks */
	enum tstatus status;
	enum prio priority;
	int tier;
	int64_t tier_used[3];
	int64_t ola_at[3];              /* instant tier k's target is/was reached, 0: none */
};

/* ---- the log -------------------------------------------------------------------- */

/* Parses the stored form ("s1@1767225600000 p0@... r0@...") into out
 * (at most max events). Returns the count, or -1 when malformed. */
int sla_log_parse(const char *text, struct sla_ev *out, int max);

/* Appends one event's stored form to buf (size bufsz, NUL-terminated);
 * false when it does not fit. */
bool sla_log_append(char *buf, size_t bufsz, const struct sla_ev *ev);

/* The events a ticket change implies: what differs between old (NULL on
 * creation) and new, at instant now. Returns the count (at most 4). */
int sla_events_of_change(const struct ticket_state *old_s, enum prio old_p,
			 const struct ticket_state *new_s, enum prio new_p, bool creating,
			 int64_t now, struct sla_ev out[4]);

/* ---- evaluation ---------------------------------------------------------------------- */

/* Replays ev[0..n) (sorted by instant; the first events set the initial
 * state at creation) up to now under p. RC_INVALID when the log does not
 * start with a status, or is out of order. */
enum result sla_eval(const struct sla_policy *p, const struct sla_ev *ev, int n, int64_t now,
		     struct sla_result *out, struct err *e);

/* The timer bits a ticket keeps (which warnings and breaches it has
 * announced): response warning i is bit i, its breach bit 4; resolution
 * warning i is bit 8 + i, its breach bit 12; tier k's OLA bit 15 + k. */
#define SLA_BIT_WARN(clock, i) (1u << ((clock) * 8 + (i)))
#define SLA_BIT_BREACH(clock) (1u << ((clock) * 8 + 4))
#define SLA_BIT_OLA(tier) (1u << (15 + (tier)))

struct sla_timer {
	unsigned bit;
	int clock;        /* SLA_RESPONSE, SLA_RESOLUTION, or -1 for an OLA */
	int level;        /* warning index, -1 for a breach; OLA: the tier */
	int64_t at;       /* when it is/was reached */
};

/* The timers not yet announced (bits not in fired) whose instant now is
 * past, earliest first, into out (at most max); *next is the first
 * instant at which another one becomes due (its instant + 1 ms; 0: none).
 * Warnings of a stopped clock are not announced; a paused ticket has no
 * timers at all. */
int sla_due_timers(const struct sla_result *r, unsigned fired, int64_t now,
		   struct sla_timer *out, int max, int64_t *next);

/* Whether action a answers timer t. */
bool sla_action_matches(const struct sla_action *a, const struct sla_timer *t);

/* ---- explanation ------------------------------------------------------------------------ */

enum seg_state { SEG_RUNNING, SEG_OUTSIDE_HOURS, SEG_PAUSED, SEG_STOPPED };
extern const char *const seg_state_names[];

struct sla_segment {
	int clock;            /* SLA_RESPONSE or SLA_RESOLUTION */
	enum seg_state state;
	int64_t from, to;
	enum tstatus status;
	enum prio priority;
	int tier;
	int64_t business_ms;  /* business time counted in this piece */
};

/* Calls fn for the pieces of each clock from creation to now, in time
 * order per clock: running pieces cut into open hours (running) and
 * closed hours (outside_hours) by the calendar, paused pieces, and one
 * stopped piece to now for a clock that has stopped. Stops after max
 * pieces; returns the number given. */
int sla_segments(const struct sla_policy *p, const struct sla_ev *ev, int n, int64_t now,
		 int max, void (*fn)(const struct sla_segment *s, void *arg), void *arg);

#endif
