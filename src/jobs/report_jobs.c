/*
 * report_jobs.c: the scheduler's part of scheduled SLA review delivery
 * (report_jobs.h; the rules are review_sched.h's).
 *
 * Each pass reads the schedules that are due (next_at <= now, enabled),
 * loads each client's zone once per pass, decides, and writes one
 * W_SCHEDULE_CLAIM per schedule: with the period when it is to be sent
 * (the conditional claim and the outbox row together), else only the next
 * instant to look. Both carry the version read: a schedule edited since
 * (the API wrote its own next_at) is left as the edit made it, and the
 * next pass decides on the edit. A claim that finds the period taken
 * (another server was first) changes nothing; the schedule's next_at is
 * then set again from the same decision, so it does not come back every
 * tick. Every write moves next_at past now, so a pass ends.
 */
#include "base/common.h"

#include <inttypes.h>

#include "base/log.h"
#include "http/http.h"
#include "jobs/report_jobs.h"
#include "jobs/review_sched.h"
#include "notify/notify.h"
#include "sla/tz.h"

#define DUE_BATCH 100
#define PASSES_MAX 50           /* 5,000 schedules a pass at most; the rest next tick */
#define ZONES_MAX 32

/* The zones of one pass, loaded once each. */
struct zones {
	const char *name[ZONES_MAX];
	struct tz *tz[ZONES_MAX];
	int n;
};

static const struct tz *zone_of(struct zones *zs, const char *name)
{
	struct tz *z = NULL;
	struct err e;

	if (!name || !*name)
		return NULL;
	for (int i = 0; i < zs->n; i++)
		if (!strcmp(zs->name[i], name))
			return zs->tz[i];
	if (tz_load(name, &z, &e) != RC_OK) {
		log_event(LOG_WARN, "reports", json_pack("{s:s,s:s}", "timezone", name, "error", e.msg));
		return NULL;    /* the client's days are UTC days then, as in the review */
	}
	if (zs->n == ZONES_MAX) {
		tz_free(zs->tz[0]);
		memmove(zs->name, zs->name + 1, sizeof(zs->name[0]) * (ZONES_MAX - 1));
		memmove(zs->tz, zs->tz + 1, sizeof(zs->tz[0]) * (ZONES_MAX - 1));
		zs->n--;
	}
	zs->name[zs->n] = name;
	zs->tz[zs->n++] = z;
	return z;
}

static void zones_free(struct zones *zs)
{
	for (int i = 0; i < zs->n; i++)
		tz_free(zs->tz[i]);
	zs->n = 0;
}

static bool cadence_of(const char *name, enum rsched_cadence *c)
{
	for (int i = 0; rsched_cadence_names[i]; i++)
		if (name && !strcmp(name, rsched_cadence_names[i])) {
			*c = (enum rsched_cadence)i;
			return true;
		}
	return false;
}

static void decide(const struct report_schedule *x, const struct tz *z, int64_t now,
		   struct rsched_decision *d)
{
	struct rsched_in in = { RS_MONTHLY, x->hour, x->counts_from, INT64_MIN };
	int64_t last;

	if (!cadence_of(x->cadence, &in.cadence))
		in.cadence = RS_MONTHLY;
	if (x->last_period_to && rsched_parse_day(x->last_period_to, &last))
		in.last_to = last;
	rsched_decide(&in, z, now, d);
}

const char *report_review_payload(struct arena *a, const struct report_schedule *x,
				  int64_t from_day, int64_t to_day, bool manual)
{
	json_t *rcpt = json_loads(x->recipients ? x->recipients : "", 0, NULL), *p;
	char from[16], to[16], *text;
	const char *out;

	if (!json_is_array(rcpt)) {
		json_decref(rcpt);
		return NULL;
	}
	rsched_day_text(from_day, from);
	rsched_day_text(to_day, to);
	p = json_pack("{s:I,s:s,s:s,s:o,s:b,s:b}", "schedule_id", (json_int_t)x->id, "from", from,
		      "to", to, "recipients", rcpt, "csv", x->csv, "manual", manual);
	text = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	out = text ? arena_strdup(a, text) : NULL;
	free(text);
	return out;
}

int64_t report_schedule_look_at(const char *zone, const struct report_schedule *x, int64_t now,
				int64_t *from_day, int64_t *to_day)
{
	struct zones zs = { .n = 0 };
	const struct tz *z = zone_of(&zs, zone);
	struct rsched_decision d;
	struct rsched_period cur, prev;
	enum rsched_cadence c = RS_MONTHLY;

	decide(x, z, now, &d);
	if (!cadence_of(x->cadence, &c))
		c = RS_MONTHLY;
	rsched_period_of(c, rsched_local_day(z, now), &cur);
	rsched_period_before(c, cur.from_day, &prev);
	if (from_day)
		*from_day = prev.from_day;
	if (to_day)
		*to_day = prev.to_day;
	zones_free(&zs);
	return rsched_look_at(&d);
}

/* Writes the claim (period set) or the next instant only; *e says why
 * it failed. */
static enum result claim(struct server *s, struct arena *a, const struct report_schedule *x,
			 const struct rsched_decision *d, int64_t now, struct err *e)
{
	struct scope sys = scope_system();
	struct store_write w;
	char from[16], to[16];

	store_write_init(&w, W_SCHEDULE_CLAIM, &sys);
	w.in.claim.id = x->id;
	w.in.claim.next_at = d->next_at;
	w.in.claim.now = now;
	w.in.claim.version = x->version;        /* an edit since the read wins */
	if (d->send) {
		rsched_day_text(d->period.from_day, from);
		rsched_day_text(d->period.to_day, to);
		w.in.claim.period = arena_strdup(a, from);
		w.in.claim.period_to = arena_strdup(a, to);
		w.in.claim.event = REPORT_REVIEW_EVENT;
		w.in.claim.payload = report_review_payload(a, x, d->period.from_day, d->period.to_day,
							   false);
		if (!w.in.claim.period || !w.in.claim.period_to || !w.in.claim.payload)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		w.audit.action = "report_schedule.send";
		w.audit.object_type = "report_schedule";
		w.audit.object_id = x->id;
		w.audit.detail = arena_printf(a, "scheduled: period %s to %s", from, to);
	}
	if (store_write_sync(s->store, &w) != RC_OK)
		*e = w.err;
	return w.rc;
}

int report_jobs_run(struct server *s, int64_t now)
{
	struct zones zs = { .n = 0 };
	int queued = 0;

	for (int pass = 0; pass < PASSES_MAX; pass++) {
		struct arena *a = arena_new(16u << 20);
		struct report_schedule_list l = { NULL, 0, 0 };
		struct err e;
		size_t n = 0;

		if (!a)
			break;
		if (store_schedules_due(s->store, now, DUE_BATCH, a, &l, &e) != RC_OK) {
			log_event(LOG_ERROR, "reports", json_pack("{s:s,s:s}", "reading", "schedules due",
								  "error", e.msg));
			arena_free(a);
			break;
		}
		for (size_t i = 0; i < l.n; i++) {
			const struct report_schedule *x = &l.items[i];
			struct client c;
			struct scope sys = scope_system();
			struct rsched_decision d;
			const struct tz *z = NULL;
			enum result rc;

			if (store_client_get(s->store, &sys, x->client_id, a, &c, &e) == RC_OK)
				z = zone_of(&zs, arena_strdup(a, c.timezone));
			decide(x, z, now, &d);
			rc = claim(s, a, x, &d, now, &e);
			if (rc == RC_OK && d.send) {
				char from[16];
				rsched_day_text(d.period.from_day, from);
				queued++;
				log_event(LOG_INFO, "reports", json_pack("{s:I,s:I,s:s}", "schedule",
									 (json_int_t)x->id, "client",
									 (json_int_t)x->client_id, "queued",
									 from));
			} else if (rc == RC_CONFLICT && d.send) {
				/* Taken meanwhile: only the next instant. */
				d.send = false;
				rc = claim(s, a, x, &d, now, &e);
			}
			/* Stale: edited since the read; the edit's next_at
			 * stands and the next pass reads it. */
			if (rc == RC_OK || rc == RC_STALE)
				n++;
			else
				log_event(LOG_ERROR, "reports", json_pack("{s:I,s:s}", "schedule",
									  (json_int_t)x->id, "error", e.msg));
		}
		/* Zones named from this pass's arena go with it. */
		zones_free(&zs);
		arena_free(a);
		if (l.n < DUE_BATCH || !n)
			break;     /* all done, or no progress (errors were logged) */
	}
	if (queued)
		notify_kick();
	return queued;
}
