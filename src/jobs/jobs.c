/*
 * jobs.c: the scheduler. One thread wakes every JOBS_TICK_MS and runs every
 * due timer: escalation rules (no update for N minutes, unassigned for N
 * minutes) and the auto-close of resolved tickets. All timers read the one
 * clock (base/clock.h); with --test-clock the thread stays idle and the
 * timers run when POST /api/v1/test/clock moves the clock.
 *
 * Each timer reads its candidates, lets a pure function decide (esc_due,
 * ticket_set_status), and writes the change guarded by the version read,
 * so a ticket a person changed in the meantime is simply left for the next
 * tick. Changes are made by the system (actor 0). With several servers on
 * one PostgreSQL, a run happens only on the server that holds the store's
 * leadership (store_lead: an advisory lock of its session), so no timer
 * fires twice; when that server dies its session ends, the lock is free,
 * and the next tick of another server takes it. A notification leaves
 * last_activity_at alone; a move to another tier restarts it, so the new
 * tier's timers count from the move (and the rule that moved it does not
 * fire again until the ticket changes).
 */
#include "base/common.h"

#include <pthread.h>

#include "base/clock.h"
#include "base/log.h"
#include "http/http.h"
#include "jobs/report_jobs.h"
#include "jobs/sla_track.h"
#include "ticket/ticket.h"

#define JOBS_TICK_MS 2000

static pthread_t jobs_thread;
static bool jobs_running;
static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv = PTHREAD_COND_INITIALIZER;
static bool jobs_stopping;
/* One run at a time (the thread and the test clock route). */
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *json_text(struct arena *a, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);
	const char *out = arena_strdup(a, s ? s : "{}");

	free(s);
	json_decref(v);
	return out;
}

/* Writes tw, the change of old, with its SLA clocks kept current. */
static bool write_change(struct server *s, const struct ticket *old, struct ticket_write *tw)
{
	struct scope sys = scope_system();
	struct store_write w;
	struct sla_world *world;
	struct err e;
	struct arena *a = arena_new(4u << 20);
	bool ok;

	if (a) {
		if (sla_world_get(s->store, &world, &e) != RC_OK)
			world = NULL;   /* the log still gets the events */
		sla_track(world, old, tw, 0, clock_now_ms(), NULL, a);
		sla_world_put(world);
	}
	store_write_init(&w, W_TICKET_CHANGE, &sys);
	w.in.tw = tw;
	ok = store_write_sync(s->store, &w) == RC_OK;
	arena_free(a);
	return ok;
}

static int run_escalations(struct server *s, struct arena *a, int64_t now)
{
	struct esc_rule_rows rules;
	struct err e;
	int changed = 0;

	if (store_esc_rules_list(s->store, a, &rules, &e) != RC_OK)
		return 0;
	for (size_t i = 0; i < rules.n; i++) {
		const struct esc_rule_row *rr = &rules.items[i];
		struct esc_rule rule = { rr->id, (enum esc_kind)name_index(esc_kind_names, rr->kind),
					 rr->minutes, rr->priority ? name_index(prio_names, rr->priority) : -1,
					 rr->raise_to_tier, rr->notify };
		struct ticket_list l;

		if (!rr->enabled || store_esc_candidates(s->store, rr, now, a, &l, &e) != RC_OK)
			continue;
		for (size_t k = 0; k < l.n; k++) {
			const struct ticket *t = &l.items[k];
			struct esc_facts f = { t->status, t->priority, t->tier, t->assignee_id,
					       t->last_activity_at, t->created_at, t->esc_fired_at };
			struct ticket_write *tw;
			const char *why;

			if (!esc_due(&rule, &f, now))
				continue;
			tw = arena_alloc(a, sizeof(*tw));
			if (!tw)
				return changed;
			tw->t = *t;
			tw->if_version = t->version;
			tw->esc_rule_id = rr->id;
			why = arena_printf(a, "rule \"%s\": %s for %" PRId64 " minutes", rr->name,
					   rule.kind == EK_NO_UPDATE ? "no update" : "unassigned", rr->minutes);
			if (rule.raise_to_tier > t->tier) {
				/* A move to another tier is activity: the next tier's
				 * clocks (no update, unassigned) start now. */
				tw->t.last_activity_at = now;
				tw->t.tier = rule.raise_to_tier;
				tw->t.escalations++;
				tw->t.tier_changes++;
				tw->t.assignee_id = 0;
				tw->ev[tw->nev].kind = "escalated";
				tw->ev[tw->nev].internal = true;
				tw->ev[tw->nev++].data = json_text(a, json_pack("{s:i,s:i,s:s,s:I}", "from_tier", t->tier,
					"to_tier", rule.raise_to_tier, "reason", why, "rule_id", (json_int_t)rr->id));
			} else {
				tw->ev[tw->nev].kind = "escalation_rule";
				tw->ev[tw->nev].internal = true;
				tw->ev[tw->nev++].data = json_text(a, json_pack("{s:s,s:I}", "reason", why,
										"rule_id", (json_int_t)rr->id));
			}
			if (rule.notify) {
				tw->ob[tw->nob].event = "ticket.escalation_rule";
				tw->ob[tw->nob++].payload = json_text(a, json_pack("{s:I,s:s,s:i}", "ticket_id",
					(json_int_t)t->id, "reason", why, "tier", tw->t.tier));
			}
			if (write_change(s, t, tw))
				changed++;
		}
	}
	return changed;
}

static int run_autoclose(struct server *s, struct arena *a, int64_t now)
{
	struct ticket_list l;
	struct err e;
	int changed = 0;

	if (store_autoclose_candidates(s->store, now, a, &l, &e) != RC_OK)
		return 0;
	for (size_t k = 0; k < l.n; k++) {
		struct ticket_write *tw = arena_alloc(a, sizeof(*tw));
		struct ticket_state st = { 0 };
		struct status_effects fx;

		if (!tw)
			break;
		tw->t = l.items[k];
		tw->if_version = tw->t.version;
		st.status = tw->t.status;
		st.resolved_at = tw->t.resolved_at;
		if (ticket_set_status(&st, TS_CLOSED, 0, now, &fx, &e) != RC_OK)
			continue;
		tw->t.status = TS_CLOSED;
		tw->t.closed_at = now;
		tw->ev[0].kind = "status";
		tw->ev[0].data = "{\"from\":\"resolved\",\"to\":\"closed\",\"reason\":\"auto-close\"}";
		tw->nev = 1;
		if (write_change(s, &l.items[k], tw))
			changed++;
	}
	return changed;
}

struct jobs_result jobs_run_once(struct server *s, int64_t now)
{
	struct jobs_result jr = { 0, 0, 0, false, 0, 0 };
	struct arena *a;

	/* Several servers on one PostgreSQL: only the leader runs timers. */
	if (!store_lead(s->store))
		return jr;
	jr.leader = true;
	a = arena_new(64u << 20);
	if (!a)
		return jr;
	pthread_mutex_lock(&run_mu);
	for (int pass = 0; pass < 4; pass++) {
		int n = sla_run_timers(s, a, now);
		jr.sla += n;
		if (!n)
			break;
	}
	jr.escalated = run_escalations(s, a, now);
	jr.closed = run_autoclose(s, a, now);
	{
		struct monitor_result mr;
		monitor_run(s, now, &mr);
		jr.monitor_tickets = mr.tickets;
		jr.offline = mr.silent;
	}
	report_jobs_run(s, now);
	pthread_mutex_unlock(&run_mu);
	arena_free(a);
	if (jr.escalated || jr.closed || jr.sla || jr.monitor_tickets)
		log_event(LOG_INFO, "jobs", json_pack("{s:i,s:i,s:i,s:i}", "escalated", jr.escalated,
						      "closed", jr.closed, "sla", jr.sla,
						      "monitor_tickets", jr.monitor_tickets));
	return jr;
}

/* Wakes the thread at once (new alert events); with the test clock the
 * thread stays idle and the clock route runs the work. */
void jobs_kick(void)
{
	pthread_mutex_lock(&jobs_mu);
	pthread_cond_signal(&jobs_cv);
	pthread_mutex_unlock(&jobs_mu);
}

static void *jobs_main(void *arg)
{
	struct server *s = arg;

	pthread_mutex_lock(&jobs_mu);
	while (!jobs_stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += JOBS_TICK_MS / 1000;
		pthread_cond_timedwait(&jobs_cv, &jobs_mu, &ts);
		if (jobs_stopping)
			break;
		pthread_mutex_unlock(&jobs_mu);
		if (!clock_is_test())
			jobs_run_once(s, clock_now_ms());
		pthread_mutex_lock(&jobs_mu);
	}
	pthread_mutex_unlock(&jobs_mu);
	return NULL;
}

enum result jobs_start(struct server *s, struct err *e)
{
	jobs_stopping = false;
	monitor_started(clock_now_ms());
	if (pthread_create(&jobs_thread, NULL, jobs_main, s) != 0)
		return err_set(e, RC_IO, NULL, "cannot start the scheduler");
	jobs_running = true;
	return RC_OK;
}

void jobs_stop(struct server *s)
{
	UNUSED(s);
	if (!jobs_running)
		return;
	pthread_mutex_lock(&jobs_mu);
	jobs_stopping = true;
	pthread_cond_signal(&jobs_cv);
	pthread_mutex_unlock(&jobs_mu);
	pthread_join(jobs_thread, NULL);
	jobs_running = false;
}
