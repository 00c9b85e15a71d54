/*
 * monitor_jobs.c: the scheduler's monitoring work (issue 7), run by
 * jobs_run_once on the leader:
 *
 *  1. Heartbeats. Devices silent for longer than the smallest offline
 *     threshold get a sample of heartbeat.age_seconds (their silence in
 *     seconds) for each offline check that applies; the alert machine
 *     does the rest. The age counts from the later of the last check-in
 *     and this server's start, so a restart (or a leader change) never
 *     raises alarms for devices that had no chance to check in.
 *  2. Maintenance windows that ended: their alerts leave maintenance and
 *     announce only the difference (alert_maintenance).
 *  3. Alert events pending: each one's ticket action (monitor.h,
 *     monitor_ticket_action) is written together with the ticket change
 *     and the event's "done" mark in one transaction, so a crash or a
 *     second server never opens two tickets for one event.
 *  4. Rollups (raw -> 1 minute -> 1 hour), a minute behind, and retention
 *     (raw 7 days, 1-minute 90 days, 1-hour 2 years) once an hour.
 */
#include "base/common.h"

#include <inttypes.h>
#include <math.h>

#include "base/clock.h"
#include "base/log.h"
#include "http/http.h"
#include "monitor/monitor.h"
#include "ticket/ticket.h"

#define WORK_MAX 500
#define SILENT_MAX 5000
#define STEP_BATCH 256
#define ROLLUP_LAG_MS 60000
#define ROLLUP_SPAN_MS (6 * 3600000LL)
#define RETAIN_EVERY_MS 3600000LL
#define RAW_KEEP_MS (7 * 86400000LL)
#define M1_KEEP_MS (90 * 86400000LL)
#define H1_KEEP_MS (730 * 86400000LL)

static int64_t started_at;       /* this process's first run */
static int64_t retained_at;

/* ---- 1. heartbeats ------------------------------------------------------------------------ */

/* A silent device's heartbeat sample. An alert already firing at the same
 * level is left alone (no write every pass for a device that stays off). */
static int step_heartbeat(void *arg, size_t i, struct alert *a, double *value, bool *has_value)
{
	const struct sample_step *st = &((struct sample_steps *)arg)->items[i];
	/* The grace after a start only delays raising: an alert already
	 * raised sees the device's real silence (a restart resolves nothing). */
	double v = a->status == AL_INACTIVE ? st->value : st->value_firing;
	unsigned eff = 0;

	if (a->status == AL_FIRING && a->in_maintenance == st->in_maintenance &&
	    check_level(&st->check->rule, v, a->severity) == a->severity)
		return 0;
	if (a->in_maintenance != st->in_maintenance)
		eff |= alert_maintenance(a, st->in_maintenance, st->at);
	eff |= alert_sample(a, &st->check->rule, v, st->at);
	*value = v;
	*has_value = true;
	return (int)eff;
}

static int flush_steps(struct server *s, struct alert_steps *as,
		       int (*fn)(void *, size_t, struct alert *, double *, bool *), void *arg,
		       int64_t now)
{
	struct store_write w;
	struct scope sys = scope_system();
	int n = (int)as->n;

	if (!as->n)
		return 0;
	as->fn = fn;
	as->arg = arg;
	as->now = now;
	store_write_init(&w, W_ALERT_STEP, &sys);
	w.in.steps = as;
	if (store_write_sync(s->store, &w) != RC_OK)
		log_event(LOG_ERROR, "monitor", json_pack("{s:s,s:s}", "step", "alerts", "error", w.err.msg));
	as->n = 0;
	return n;
}

static int run_heartbeats(struct server *s, const struct mon_snap *snap, struct arena *a, int64_t now)
{
	struct device_list l;
	struct err e;
	int64_t least = 0;
	struct alert_steps as = { 0 };
	struct sample_steps ss;
	int fed = 0;

	for (size_t i = 0; i < snap->nchecks; i++) {
		const struct check_row *c = &snap->checks[i];
		int64_t t;
		if (strcmp(c->metric, METRIC_HEARTBEAT))
			continue;
		t = (int64_t)(c->rule.has_warn ? c->rule.warn : c->rule.crit);
		if (t >= 0 && (!least || t < least))
			least = t;
	}
	if (!least || store_devices_silent(s->store, now - least * 1000, SILENT_MAX, a, &l, &e) != RC_OK)
		return 0;
	as.items = arena_alloc(a, sizeof(*as.items) * STEP_BATCH);
	ss.items = arena_alloc(a, sizeof(*ss.items) * STEP_BATCH);
	if (!as.items || !ss.items)
		return 0;
	for (size_t k = 0; k < l.n; k++) {
		const struct device *d = &l.items[k];
		const struct check_row *cs[8];
		int64_t real = d->last_seen_at ? d->last_seen_at : d->created_at;
		int64_t seen = real;
		size_t n = monitor_checks_for(snap, d->client_id, d->id, METRIC_HEARTBEAT, NULL, cs,
					      ARRAY_SIZE(cs));
		bool maint = monitor_in_maintenance(snap, d->client_id, d->id, now);

		if (seen < started_at)
			seen = started_at;
		for (size_t j = 0; j < n; j++) {
			struct alert_pair *p = &as.items[as.n];
			struct sample_step *st = &ss.items[as.n];
			memset(p, 0, sizeof(*p));
			p->client_id = d->client_id;
			p->device_id = d->id;
			p->check_id = cs[j]->id;
			p->key = monitor_alert_key(a, cs[j]->id, d->id, "");
			p->source = "check";
			p->name = cs[j]->name;
			p->labels = "";
			st->check = cs[j];
			st->value = (double)((now - seen) / 1000);
			st->value_firing = (double)((now - real) / 1000);
			st->at = now;
			st->in_maintenance = maint;
			if (++as.n == STEP_BATCH)
				fed += flush_steps(s, &as, step_heartbeat, &ss, now);
		}
	}
	fed += flush_steps(s, &as, step_heartbeat, &ss, now);
	return fed;
}

/* ---- 2. maintenance ended ----------------------------------------------------------------- */

static int step_maint_off(void *arg, size_t i, struct alert *a, double *value, bool *has_value)
{
	UNUSED(i);
	UNUSED(value);
	UNUSED(has_value);
	return (int)alert_maintenance(a, false, *(const int64_t *)arg);
}

static int run_maintenance(struct server *s, const struct mon_snap *snap, struct arena *a, int64_t now)
{
	struct alert_list l;
	struct err e;
	struct alert_steps as = { 0 };
	int n = 0;

	if (store_alerts_in_maintenance(s->store, 1000, a, &l, &e) != RC_OK)
		return 0;
	as.items = arena_alloc(a, sizeof(*as.items) * (l.n ? l.n : 1));
	if (!as.items)
		return 0;
	for (size_t i = 0; i < l.n; i++) {
		const struct alert_row *al = &l.items[i];
		if (monitor_in_maintenance(snap, al->client_id, al->device_id, now))
			continue;
		memset(&as.items[as.n], 0, sizeof(as.items[0]));
		as.items[as.n].alert_id = al->id;
		as.items[as.n].client_id = al->client_id;
		as.n++;
	}
	n = (int)as.n;
	flush_steps(s, &as, step_maint_off, &now, now);
	return n;
}

/* ---- 3. alert events -> tickets ------------------------------------------------------------ */

static const char *alert_subject(struct arena *a, const struct alert_row *al, enum severity sv)
{
	const char *host = al->hostname ? al->hostname : "";
	const char *lab = strcmp(al->source, "check") ? "" : monitor_labels_display(a, al->labels);

	return arena_printf(a, "[%s] %s%s%s%s%s%s", severity_names[sv],
			    al->name && *al->name ? al->name : "Alert", *host ? " on " : "", host,
			    *lab ? " (" : "", lab, *lab ? ")" : "");
}

static json_t *event_data(const struct alert_work *w)
{
	json_t *o = json_pack("{s:I,s:s,s:s}", "alert_id", (json_int_t)w->al.id, "event", w->ev.kind,
			      "severity", severity_names[w->ev.severity]);

	if (w->ev.has_value && isfinite(w->ev.value))
		json_object_set_new(o, "value", json_real(w->ev.value));
	return o;
}

/* The webhook announcement of an alert event (alert.firing on a fire or
 * a severity change, alert.resolved on a recovery; none for the rest). */
static void alert_outbox(struct req *r, struct ticket_write *tw, const struct alert_work *w)
{
	const char *ev = !strcmp(w->ev.kind, "resolve") ? "alert.resolved"
		       : !strcmp(w->ev.kind, "fire") || !strcmp(w->ev.kind, "severity") ? "alert.firing"
		       : NULL;
	json_t *o;

	if (!ev)
		return;
	o = event_data(w);
	json_object_set_new(o, "name", json_string(w->al.name ? w->al.name : ""));
	json_object_set_new(o, "device_id", w->al.device_id ? json_integer(w->al.device_id) : json_null());
	json_object_set_new(o, "hostname", json_str_or_null(w->al.hostname));
	tickets_prepare_outbox(r, tw, ev, o);
}

static bool submit(struct server *s, enum store_wkind kind, struct ticket_write *tw)
{
	struct store_write w;
	struct scope sys = scope_system();

	store_write_init(&w, kind, &sys);
	w.in.tw = tw;
	if (kind == W_TICKET_CREATE) {
		w.audit.action = "ticket.create";
		w.audit.object_type = "ticket";
		w.audit.detail = "opened by a monitoring alert";
	}
	if (store_write_sync(s->store, &w) != RC_OK) {
		log_event(LOG_WARN, "monitor", json_pack("{s:I,s:s}", "alert_id", (json_int_t)tw->alert_id,
							 "error", w.err.msg));
		return false;
	}
	return true;
}

static bool events_done(struct server *s, const struct alert_work *w)
{
	struct store_write sw;
	struct scope sys = scope_system();

	store_write_init(&sw, W_ALERT_EVENTS_DONE, &sys);
	sw.in.done.alert_id = w->al.id;
	sw.in.done.upto = w->ev.id;
	return store_write_sync(s->store, &sw) == RC_OK;
}

static bool open_ticket(struct req *r, const struct alert_work *w, int64_t now)
{
	struct ticket_write *tw = arena_alloc(r->a, sizeof(*tw));
	struct ticket *t;
	struct check_row c;
	struct prio_matrix m;
	struct err e;
	const char *impact = "medium";
	int lv;

	if (!tw)
		return false;
	memset(tw, 0, sizeof(*tw));
	t = &tw->t;
	if (w->al.check_id && store_check_get(r->srv->store, &r->scope, w->al.check_id, r->a, &c, &e) == RC_OK)
		impact = c.impact;
	else if (w->ev.severity == SEV_CRITICAL)
		impact = "high";
	lv = name_index(level_names, impact);
	t->client_id = w->al.client_id;
	t->device_id = w->al.device_id;
	t->subject = alert_subject(r->a, &w->al, w->ev.severity);
	t->description = arena_printf(r->a, "%s\n\nAlert %" PRId64 " (%s) fired at %s severity%s%s.%s%s",
				      t->subject, w->al.id, w->al.source, severity_names[w->ev.severity],
				      w->ev.has_value ? ", value " : "",
				      w->ev.has_value ? arena_printf(r->a, "%g", w->ev.value) : "",
				      w->al.summary ? "\n\n" : "", w->al.summary ? w->al.summary : "");
	t->type = TT_INCIDENT;
	t->channel = CH_MONITORING;
	t->impact = lv < 0 ? LV_MEDIUM : (enum level)lv;
	t->urgency = monitor_urgency(w->ev.severity);
	tickets_matrix_of(r, t->client_id, &m);
	t->priority = priority_of(&m, t->impact, t->urgency);
	t->queue = "monitoring";
	t->tier = 1;
	t->tags = "[\"monitoring\"]";
	t->status = TS_NEW;
	t->fcr = -1;
	t->created_at = t->last_activity_at = now;
	tickets_prepare_event(r, tw, "alert", false, event_data(w));
	tickets_prepare_new(r, tw, now);
	alert_outbox(r, tw, w);
	tw->alert_id = w->al.id;
	tw->alert_rebase = true;
	tw->alert_events_upto = w->ev.id;
	return submit(r->srv, W_TICKET_CREATE, tw);
}

static bool change_ticket(struct req *r, const struct alert_work *w, const struct ticket *old,
			  enum mon_action act, int64_t now)
{
	struct ticket_write *tw = arena_alloc(r->a, sizeof(*tw));

	if (!tw)
		return false;
	memset(tw, 0, sizeof(*tw));
	tw->t = *old;
	tw->if_version = old->version;
	tickets_prepare_event(r, tw, "alert", false, event_data(w));
	if (act == MA_REOPEN &&
	    !tickets_prepare_status(r, old, tw, TS_OPEN, "the alert fired again", now))
		act = MA_NOTE;
	tw->alert_rebase = act == MA_REOPEN;
	if (act == MA_RESOLVE || (act == MA_NOTE && !strcmp(w->ev.kind, "resolve"))) {
		tw->has_msg = true;
		tw->msg.kind = "note";
		tw->msg.body = act == MA_RESOLVE
			? arena_printf(r->a, "Recovered: %s is back to normal. Resolved by monitoring.", w->al.name)
			: arena_printf(r->a, "Recovered: %s is back to normal. The ticket stays as it is, "
				       "because someone has worked on it.", w->al.name);
	}
	if (act == MA_RESOLVE &&
	    !tickets_prepare_status(r, old, tw, TS_RESOLVED, "the alert recovered", now))
		act = MA_NOTE;
	tw->t.last_activity_at = act == MA_NOTE ? old->last_activity_at : now;
	tickets_prepare_change(r, old, tw, now);
	alert_outbox(r, tw, w);
	tw->alert_id = w->al.id;
	tw->alert_events_upto = w->ev.id;
	return submit(r->srv, W_TICKET_CHANGE, tw);
}

/* Whether a person (not the system: the monitor, SLA timers, escalation
 * rules) has written to the ticket since the monitor opened or reopened
 * it: any of its timeline events with an actor after that mark (the
 * ticket's last event then, alerts.ticket_version). -1: cannot tell (the
 * event waits for the next pass). */
static int person_worked_on(struct req *r, int64_t ticket_id, int64_t since_event)
{
	struct event_list l;
	struct err e;

	if (store_ticket_events(r->srv->store, &r->scope, ticket_id, true, r->a, &l, &e) != RC_OK)
		return -1;
	for (size_t i = 0; i < l.n; i++)
		if (l.items[i].actor_id && l.items[i].id > since_event)
			return 1;
	return 0;
}

static bool run_event(struct req *r, const struct alert_work *w, int64_t now)
{
	struct ticket old;
	struct err e;
	bool has = w->al.ticket_id &&
		   store_ticket_get(r->srv->store, &r->scope, w->al.ticket_id, r->a, &old, &e) == RC_OK;
	int touched = has ? person_worked_on(r, old.id, w->al.ticket_version) : 0;
	enum mon_action act;

	if (touched < 0)
		return false;
	act = monitor_ticket_action(w->ev.kind, has, has ? old.status : TS_NEW,
				    has ? old.resolved_at : 0, touched == 1, now);

	switch (act) {
	case MA_NONE:
		return events_done(r->srv, w);
	case MA_OPEN:
		return open_ticket(r, w, now);
	case MA_REOPEN:
	case MA_NOTE:
	case MA_RESOLVE:
		return change_ticket(r, w, &old, act, now);
	}
	return false;
}

static int run_events(struct server *s, struct arena *a, int64_t now)
{
	struct alert_work_list l;
	struct err e;
	struct req r;
	int done = 0;

	if (store_alert_work(s->store, WORK_MAX, a, &l, &e) != RC_OK)
		return 0;
	memset(&r, 0, sizeof(r));
	r.srv = s;
	r.a = a;
	r.scope = scope_system();
	r.route_idx = -1;
	for (size_t i = 0; i < l.n; i++) {
		/* One event of an alert a pass: the next one must see the
		 * ticket this one made (the caller reads the list again). */
		bool later = false;
		for (size_t k = 0; k < i && !later; k++)
			later = l.items[k].al.id == l.items[i].al.id;
		if (later)
			continue;
		/* Each event's reads and ticket in an arena of its own. */
		r.a = arena_new(16u << 20);
		if (!r.a)
			break;
		if (run_event(&r, &l.items[i], now))
			done++;
		arena_free(r.a);
	}
	r.a = a;
	return done;
}

/* ---- 4. rollups and retention -------------------------------------------------------------- */

static int run_rollups(struct server *s, int64_t now)
{
	struct scope sys = scope_system();
	int n = 0;

	for (int pass = 0; pass < 16; pass++) {
		struct store_write w;
		store_write_init(&w, W_MONITOR_ROLLUP, &sys);
		w.in.rollup.upto = now - ROLLUP_LAG_MS;
		w.in.rollup.max_span = ROLLUP_SPAN_MS;
		if (store_write_sync(s->store, &w) != RC_OK) {
			log_event(LOG_ERROR, "monitor", json_pack("{s:s,s:s}", "step", "rollup", "error", w.err.msg));
			break;
		}
		n++;
		if (!w.in.rollup.more)
			break;
	}
	if (now - retained_at < RETAIN_EVERY_MS)
		return n;
	retained_at = now;
	for (int pass = 0; pass < 64; pass++) {
		struct store_write w;
		store_write_init(&w, W_MONITOR_RETAIN, &sys);
		w.in.retain.raw_before = now - RAW_KEEP_MS;
		w.in.retain.m1_before = now - M1_KEEP_MS;
		w.in.retain.h1_before = now - H1_KEEP_MS;
		if (store_write_sync(s->store, &w) != RC_OK || !w.in.retain.more)
			break;
	}
	return n;
}

void monitor_run(struct server *s, int64_t now, struct monitor_result *mr)
{
	struct arena *a = arena_new(64u << 20);
	struct mon_snap *snap;
	struct err e;

	memset(mr, 0, sizeof(*mr));
	if (!started_at)
		started_at = now;
	if (!a)
		return;
	snap = monitor_snap_get(s->store, &e);
	if (snap) {
		mr->silent = run_heartbeats(s, snap, a, now);
		mr->maintenance = run_maintenance(s, snap, a, now);
		monitor_snap_put(snap);
	}
	/* Events made by the steps above are done in the same run. */
	for (int pass = 0; pass < 8; pass++) {
		int n = run_events(s, a, now);
		mr->tickets += n;
		if (!n)
			break;
	}
	mr->rollups = run_rollups(s, now);
	arena_free(a);
}

void monitor_started(int64_t now)
{
	if (!started_at)
		started_at = now;
}
