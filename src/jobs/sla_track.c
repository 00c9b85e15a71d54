/*
 * sla_track.c: the SLA engine's world cache, ticket tracking and timers
 * (sla_track.h explains the three).
 */
#include "base/common.h"

#include <pthread.h>

#include "base/log.h"
#include "http/http.h"
#include "jobs/sla_track.h"
#include "sla/calendar_json.h"
#include "sla/policy.h"
#include "sla/tz.h"

#define LOG_TEXT_MAX (SLA_MAX_LOG * 24)
#define DUE_BATCH 500

/* ---- zones: loaded once per process, shared by every world ------------------------------ */

struct zone {
	char name[64];
	struct tz *tz;
};

static pthread_mutex_t zones_mu = PTHREAD_MUTEX_INITIALIZER;
static struct zone *zones;
static size_t nzones, zones_cap;

static enum result zone_get(const char *name, const struct tz **out, struct err *e)
{
	enum result r = RC_OK;
	struct tz *z;

	pthread_mutex_lock(&zones_mu);
	for (size_t i = 0; i < nzones; i++)
		if (!strcmp(zones[i].name, name)) {
			*out = zones[i].tz;
			pthread_mutex_unlock(&zones_mu);
			return RC_OK;
		}
	if (strlen(name) >= sizeof(zones[0].name)) {
		r = err_set(e, RC_INVALID, "timezone", "is too long");
	} else if ((r = tz_load(name, &z, e)) == RC_OK) {
		if (nzones == zones_cap) {
			size_t cap = zones_cap ? zones_cap * 2 : 16;
			struct zone *nz = realloc(zones, cap * sizeof(*nz));
			if (!nz) {
				tz_free(z);
				pthread_mutex_unlock(&zones_mu);
				return err_set(e, RC_NOMEM, NULL, "out of memory");
			}
			zones = nz;
			zones_cap = cap;
		}
		snprintf(zones[nzones].name, sizeof(zones[nzones].name), "%s", name);
		zones[nzones].tz = z;
		nzones++;
		*out = z;
	}
	pthread_mutex_unlock(&zones_mu);
	return r;
}

/* ---- the world ------------------------------------------------------------------------------ */

struct wcal {
	int64_t id;
	struct calendar c;
	struct holiday *hol;
};

struct wpol {
	int64_t id;
	struct sla_policy p;
};

struct sla_world {
	int refs;              /* under world_mu */
	int64_t gen;           /* the store's SLA configuration generation it reflects */
	size_t ncal, npol;
	struct wcal *cal;      /* sorted by id */
	struct wpol *pol;      /* sorted by id */
};

static pthread_mutex_t world_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sla_world *world_cur;

static void world_free(struct sla_world *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->ncal; i++)
		free(w->cal[i].hol);
	free(w->cal);
	free(w->pol);
	free(w);
}

void sla_world_put(struct sla_world *w)
{
	bool last;

	if (!w)
		return;
	pthread_mutex_lock(&world_mu);
	last = --w->refs == 0;
	pthread_mutex_unlock(&world_mu);
	if (last)
		world_free(w);
}

int64_t sla_world_generation(const struct sla_world *w)
{
	return w ? w->gen : -1;
}

void sla_shutdown(void)
{
	pthread_mutex_lock(&world_mu);
	if (world_cur && --world_cur->refs == 0)
		world_free(world_cur);
	world_cur = NULL;
	pthread_mutex_unlock(&world_mu);
	pthread_mutex_lock(&zones_mu);
	for (size_t i = 0; i < nzones; i++)
		tz_free(zones[i].tz);
	free(zones);
	zones = NULL;
	nzones = zones_cap = 0;
	pthread_mutex_unlock(&zones_mu);
}

const struct calendar *sla_world_calendar(const struct sla_world *w, int64_t id)
{
	size_t lo = 0, hi = w ? w->ncal : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (w->cal[mid].id == id)
			return &w->cal[mid].c;
		if (w->cal[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct sla_policy *sla_world_policy(const struct sla_world *w, int64_t id)
{
	size_t lo = 0, hi = w ? w->npol : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (w->pol[mid].id == id)
			return &w->pol[mid].p;
		if (w->pol[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static enum result cal_compile(const struct calendar_row *row, struct wcal *out, struct err *e)
{
	json_t *hours = json_loads(row->hours, 0, NULL), *hol = json_loads(row->holidays, 0, NULL);
	enum result r;

	out->id = row->id;
	out->hol = calloc(CAL_MAX_HOLIDAYS, sizeof(struct holiday));
	r = out->hol ? calendar_from_json(hours, hol, &out->c, out->hol, CAL_MAX_HOLIDAYS, e)
		     : err_set(e, RC_NOMEM, NULL, "out of memory");
	json_decref(hours);
	json_decref(hol);
	if (r == RC_OK)
		r = zone_get(row->timezone, &out->c.tz, e);
	out->c.always = row->always;
	out->c.holidays = out->hol;
	return r;
}

/* A policy row compiled against the world's calendars. */
static enum result pol_compile(const struct sla_world *w, const struct sla_policy_row *row,
			       struct sla_policy *out, struct err *e)
{
	json_t *j[6] = { json_loads(row->targets, 0, NULL), json_loads(row->calendars, 0, NULL),
			 json_loads(row->pause_statuses, 0, NULL), json_loads(row->warn_at, 0, NULL),
			 json_loads(row->tier_targets, 0, NULL), json_loads(row->actions, 0, NULL) };
	struct sla_policy_def d;
	const struct calendar *def;
	enum result r = sla_policy_parse(j[0], j[1], j[2], j[3], j[4], j[5], &d, e);

	for (int i = 0; i < 6; i++)
		json_decref(j[i]);
	if (r != RC_OK)
		return r;
	def = sla_world_calendar(w, row->calendar_id);
	if (!def)
		return err_set(e, RC_INVALID, "calendar_id", "is not a calendar");
	for (int p = 0; p < PR_COUNT; p++) {
		d.p.cal[p] = d.cal_of[p] ? sla_world_calendar(w, d.cal_of[p]) : def;
		static const char *const fields[PR_COUNT] = { "calendars.P1", "calendars.P2",
							       "calendars.P3", "calendars.P4" };
		if (!d.p.cal[p])
			return err_set(e, RC_INVALID, fields[p], "is not a calendar");
	}
	d.p.id = row->id;
	*out = d.p;
	return RC_OK;
}

/* Builds from the current committed state (a fresh snapshot of its own,
 * never the calling request's older one). A stored calendar or policy
 * that no longer compiles (a zone gone from tzdata) is left out and
 * logged, so one bad row does not stop SLA tracking for everyone; the
 * override rows (an edit being checked) must compile. */
enum result sla_world_build(struct store *st, const struct calendar_row *ocal,
			    const struct sla_policy_row *opol, struct sla_world **out,
			    struct err *e)
{
	struct arena *a = arena_new(64u << 20);
	struct calendar_row *cals = NULL;
	struct sla_policy_row *pols = NULL;
	size_t nc = 0, np = 0;
	struct sla_world *w = calloc(1, sizeof(*w));
	enum result r = a && w ? RC_OK : err_set(e, RC_NOMEM, NULL, "out of memory");

	*out = NULL;
	store_read_fresh_begin(st);
	if (r == RC_OK)
		r = store_sla_generation(st, &w->gen, e);
	if (r == RC_OK)
		r = store_calendar_list(st, a, &cals, &nc, e);
	if (r == RC_OK)
		r = store_sla_policy_list(st, a, &pols, &np, e);
	store_read_fresh_end(st);
	if (r == RC_OK) {
		w->cal = calloc(nc + 1, sizeof(*w->cal));
		w->pol = calloc(np + 1, sizeof(*w->pol));
		if (!w->cal || !w->pol)
			r = err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	for (size_t i = 0; r == RC_OK && i < nc; i++) {
		bool over = ocal && ocal->id == cals[i].id;
		struct err ce;
		if (cal_compile(over ? ocal : &cals[i], &w->cal[w->ncal], &ce) == RC_OK) {
			w->ncal++;
		} else if (over) {
			*e = ce;
			r = ce.code;
		} else {
			free(w->cal[w->ncal].hol);
			memset(&w->cal[w->ncal], 0, sizeof(w->cal[w->ncal]));
			log_event(LOG_ERROR, "sla", json_pack("{s:s,s:I,s:s}", "what", "calendar left out",
					"calendar_id", (json_int_t)cals[i].id, "error", ce.msg));
		}
	}
	for (size_t i = 0; r == RC_OK && i < np; i++) {
		bool over = opol && opol->id == pols[i].id;
		struct err pe;
		w->pol[w->npol].id = pols[i].id;
		if (pol_compile(w, over ? opol : &pols[i], &w->pol[w->npol].p, &pe) == RC_OK) {
			w->npol++;
		} else if (over) {
			*e = pe;
			r = pe.code;
		} else {
			log_event(LOG_ERROR, "sla", json_pack("{s:s,s:I,s:s}", "what", "policy left out",
					"policy_id", (json_int_t)pols[i].id, "error", pe.msg));
		}
	}
	arena_free(a);
	if (r != RC_OK) {
		world_free(w);
		return r;
	}
	w->refs = 1;
	*out = w;
	return RC_OK;
}

/* The cache is keyed by the store's generation, read fresh each time, so
 * an edit committed by anyone (another request, the CLI, another server
 * on the same database) is seen by the next write. */
enum result sla_world_get(struct store *st, struct sla_world **out, struct err *e)
{
	struct sla_world *w, *old = NULL;
	int64_t gen;
	enum result r;

	store_read_fresh_begin(st);
	r = store_sla_generation(st, &gen, e);
	store_read_fresh_end(st);
	if (r != RC_OK)
		return r;
	pthread_mutex_lock(&world_mu);
	if (world_cur && world_cur->gen == gen) {
		world_cur->refs++;
		*out = world_cur;
		pthread_mutex_unlock(&world_mu);
		return RC_OK;
	}
	pthread_mutex_unlock(&world_mu);
	r = sla_world_build(st, NULL, NULL, &w, e);
	if (r != RC_OK)
		return r;
	pthread_mutex_lock(&world_mu);
	if (!world_cur || w->gen > world_cur->gen) {
		old = world_cur;
		w->refs++;              /* the cache's reference */
		world_cur = w;
		if (old && --old->refs > 0)
			old = NULL;
	}
	pthread_mutex_unlock(&world_mu);
	world_free(old);
	*out = w;
	return RC_OK;
}

/* ---- replaying a ticket's log ---------------------------------------------------------------- */

int sla_log_load(const char *log, struct arena *a, struct sla_ev **out)
{
	size_t n = 1;

	for (const char *p = log ? log : ""; *p; p++)
		n += *p == ' ';
	if (n > SLA_MAX_LOG + 8)
		return -1;
	*out = arena_alloc(a, sizeof(struct sla_ev) * (n + 8));
	if (!*out)
		return -2;
	return sla_log_parse(log, *out, (int)n + 8);
}

/* Replays into x (what the API and scheduler read). Breaches, once seen,
 * stay; a priority change re-arms the warnings. Returns whether anything
 * but as_of changed. */
static bool sla_apply(const struct sla_policy *p, const struct sla_ev *ev, int n, int64_t now,
		      struct ticket_sla *x, bool prio_changed)
{
	struct ticket_sla before = *x;
	struct sla_result r;
	struct sla_timer due[24];
	struct err e;
	int64_t next;
	int nd;

	if (sla_eval(p, ev, n, now, &r, &e) != RC_OK)
		return false;
	x->response_due = r.clk[SLA_RESPONSE].due;
	x->resolution_due = r.clk[SLA_RESOLUTION].due;
	x->response_breached = x->response_breached || r.clk[SLA_RESPONSE].breached;
	x->resolution_breached = x->resolution_breached || r.clk[SLA_RESOLUTION].breached;
	x->paused = r.paused;
	x->response_ms = r.clk[SLA_RESPONSE].used;
	x->resolution_ms = r.clk[SLA_RESOLUTION].used;
	for (int k = 0; k < 3; k++) {
		x->tier_ms[k] = r.tier_used[k];
		if (r.ola_at[k] && r.ola_at[k] < now)
			x->ola_breached |= 1u << k;
	}
	x->as_of = now;
	/* A priority change re-arms the warnings of the new targets that are
	 * still ahead; those already passed are not announced late (and an
	 * action that raises the priority cannot cascade through them). */
	if (prio_changed)
		for (int c = 0; c < SLA_NCLOCKS; c++)
			for (int i = 0; i < SLA_MAX_WARN; i++) {
				int64_t at = r.clk[c].warn_at[i];
				if (at && at < now)
					x->fired |= SLA_BIT_WARN(c, i);
				else
					x->fired &= ~SLA_BIT_WARN(c, i);
			}
	nd = sla_due_timers(&r, x->fired, now, due, (int)ARRAY_SIZE(due), &next);
	x->next_at = nd ? now : next;
	/* What an edit's recompute reports as changed: what people see and
	 * what the scheduler acts on (not the business time that simply
	 * went on accumulating). */
	return before.response_due != x->response_due || before.resolution_due != x->resolution_due ||
	       before.response_breached != x->response_breached ||
	       before.resolution_breached != x->resolution_breached || before.paused != x->paused ||
	       before.ola_breached != x->ola_breached || before.fired != x->fired ||
	       before.next_at != x->next_at;
}

bool sla_recompute_fn(void *arg, int64_t now, struct ticket_sla *x)
{
	const struct sla_world *w = arg;
	const struct sla_policy *p = sla_world_policy(w, x->policy_id);
	struct sla_ev ev[64], *evp = ev;
	struct arena *a = NULL;
	bool changed;
	int n;

	if (!p)
		return false;
	n = sla_log_parse(x->log, ev, (int)ARRAY_SIZE(ev));
	if (n < 0) {
		a = arena_new(1u << 20);
		n = a ? sla_log_load(x->log, a, &evp) : -1;
	}
	changed = n > 0 && sla_apply(p, evp, n, now, x, false);
	arena_free(a);
	return changed;
}

static void state_of(const struct ticket *t, struct ticket_state *s)
{
	memset(s, 0, sizeof(*s));
	s->status = t->status;
	s->tier = t->tier;
	s->first_response_at = t->first_response_at;
}

static json_t *instant_or_null(int64_t ms)
{
	return ms ? json_instant(ms) : json_null();
}

void sla_track(const struct sla_world *w, const struct ticket *old, struct ticket_write *tw,
	       int64_t policy_id, int64_t now, const char *reason, struct arena *a)
{
	struct ticket *t = &tw->t;
	struct ticket_sla *x = &t->sla;
	struct ticket_state os, ns;
	struct sla_ev add[4], *ev;
	const struct sla_policy *p;
	bool creating = old == NULL || !t->id;
	bool prio_changed;
	char *log;
	size_t len;
	int nadd, n;

	if (!creating && !old->sla.present)
		return;         /* a ticket from before SLA tracking */
	if (creating) {
		memset(x, 0, sizeof(*x));
		x->present = true;
		x->policy_id = policy_id;
		x->log = "";
	}
	state_of(t, &ns);
	if (!creating)
		state_of(old, &os);
	nadd = sla_events_of_change(creating ? &ns : &os, creating ? t->priority : old->priority, &ns,
				    t->priority, creating, now, add);
	len = strlen(x->log ? x->log : "") + (size_t)nadd * 32 + 1;
	log = arena_alloc(a, len);
	if (!log)
		return;
	snprintf(log, len, "%s", x->log ? x->log : "");
	n = sla_log_load(log, a, &ev);
	/* The log stays in time order whatever the clocks did: an event is
	 * never logged before the last one (instants read at slightly
	 * different moments, a clock stepped back). */
	for (int i = 0; i < nadd && n >= 0 && n < SLA_MAX_LOG; i++) {
		if (n > 0 && add[i].at < ev[n - 1].at)
			add[i].at = ev[n - 1].at;
		if (sla_log_append(log, len, &add[i]))
			ev[n++] = add[i];
	}
	x->log = log;
	tw->sla_set = true;
	tw->sla_gen = sla_world_generation(w);
	p = sla_world_policy(w, x->policy_id);
	if (!p)
		return;
	n = sla_log_load(log, a, &ev);
	if (n <= 0)
		return;
	prio_changed = !creating && old->priority != t->priority;
	if (prio_changed) {
		/* A breach under the old targets stands (it is seen first). */
		struct sla_ev *oev;
		int on = sla_log_load(old->sla.log, a, &oev);
		if (on > 0)
			sla_apply(p, oev, on, now, x, false);
	}
	sla_apply(p, ev, n, now, x, prio_changed);
	if (creating || old->sla.response_due != x->response_due ||
	    old->sla.resolution_due != x->resolution_due || old->sla.paused != x->paused) {
		json_t *d = json_pack("{s:o,s:o,s:b}", "response_due_at", instant_or_null(x->response_due),
				      "resolution_due_at", instant_or_null(x->resolution_due), "paused",
				      x->paused);
		if (reason)
			json_object_set_new(d, "reason", json_string(reason));
		else if (prio_changed)
			json_object_set_new(d, "reason", json_sprintf("priority %s -> %s; due instants recomputed from creation",
								      prio_names[old->priority], prio_names[t->priority]));
		if (tw->nev < TW_MAX_EVENTS) {
			char *s = json_dumps(d, JSON_COMPACT);
			tw->ev[tw->nev].kind = "sla";
			tw->ev[tw->nev].internal = false;
			tw->ev[tw->nev].data = arena_strdup(a, s ? s : "{}");
			tw->nev++;
			free(s);
		}
		json_decref(d);
	}
}

/* ---- timers ------------------------------------------------------------------------------------ */

static const char *clock_name(int c)
{
	return c == SLA_RESPONSE ? "response" : "resolution";
}

static void tw_event(struct arena *a, struct ticket_write *tw, const char *kind, bool internal,
		     json_t *d)
{
	char *s = json_dumps(d, JSON_COMPACT);

	if (tw->nev < TW_MAX_EVENTS) {
		tw->ev[tw->nev].kind = kind;
		tw->ev[tw->nev].internal = internal;
		tw->ev[tw->nev].data = arena_strdup(a, s ? s : "{}");
		tw->nev++;
	}
	free(s);
	json_decref(d);
}

static void tw_outbox(struct arena *a, struct ticket_write *tw, const char *event, json_t *d)
{
	char *s;

	json_object_set_new(d, "ticket_id", json_integer(tw->t.id));
	json_object_set_new(d, "number", json_sprintf("T-%06" PRId64, tw->t.number));
	s = json_dumps(d, JSON_COMPACT);
	if (tw->nob < TW_MAX_OUTBOX) {
		tw->ob[tw->nob].event = event;
		tw->ob[tw->nob].payload = arena_strdup(a, s ? s : "{}");
		tw->nob++;
	}
	free(s);
	json_decref(d);
}

/* What one timer says: the event, its data. */
static json_t *timer_json(const struct sla_policy *p, const struct sla_timer *tm, const char **kind)
{
	if (tm->clock < 0) {
		*kind = "sla.ola_breached";
		return json_pack("{s:i,s:o,s:I}", "tier", tm->level, "at", json_instant(tm->at),
				 "target_seconds", (json_int_t)(p->ola[tm->level - 1] / 1000));
	}
	if (tm->level >= 0) {
		*kind = "sla.warning";
		return json_pack("{s:s,s:f,s:o}", "clock", clock_name(tm->clock), "fraction",
				 p->warn[tm->level], "at", json_instant(tm->at));
	}
	*kind = "sla.breached";
	return json_pack("{s:s,s:o}", "clock", clock_name(tm->clock), "due_at", json_instant(tm->at));
}

/* Runs the policy's actions for timer tm on tw. */
static void run_actions(const struct sla_policy *p, const struct sla_timer *tm,
			struct ticket_write *tw, int64_t now, struct arena *a)
{
	const char *kind;

	for (int i = 0; i < p->nact; i++) {
		const struct sla_action *act = &p->act[i];
		json_t *what;
		const char *why;

		if (!sla_action_matches(act, tm))
			continue;
		what = timer_json(p, tm, &kind);
		why = arena_printf(a, "SLA policy: %s", sla_on_names[act->on]);
		switch (act->what) {
		case DO_NOTIFY_DISPATCHER:
			json_object_set_new(what, "event", json_string(kind));
			json_object_set_new(what, "to_role", json_string("dispatcher"));
			tw_outbox(a, tw, "sla.notify_dispatcher", what);
			what = NULL;
			break;
		case DO_RAISE_TIER:
			if (tw->t.tier < 3 && tw->t.status != TS_RESOLVED && tw->t.status != TS_CLOSED) {
				int from = tw->t.tier;
				tw->t.tier++;
				tw->t.escalations++;
				tw->t.tier_changes++;
				tw->t.assignee_id = 0;
				tw->t.last_activity_at = now;
				tw_event(a, tw, "escalated", true, json_pack("{s:i,s:i,s:s}", "from_tier", from,
									   "to_tier", tw->t.tier, "reason", why));
			}
			break;
		case DO_RAISE_PRIORITY:
			if (tw->t.priority > PR_P1 && tw->t.status != TS_RESOLVED && tw->t.status != TS_CLOSED) {
				enum prio from = tw->t.priority;
				tw->t.priority = (enum prio)(from - 1);
				tw->t.priority_reason = why;
				tw_event(a, tw, "priority", true, json_pack("{s:s,s:s,s:s}", "from", prio_names[from],
									  "to", prio_names[tw->t.priority], "reason", why));
			}
			break;
		default:
			break;
		}
		json_decref(what);
	}
}

static bool write_change(struct server *s, struct ticket_write *tw)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_TICKET_CHANGE, &sys);
	w.in.tw = tw;
	return store_write_sync(s->store, &w) == RC_OK;
}

int sla_run_timers(struct server *s, struct arena *a, int64_t now)
{
	struct sla_world *w;
	struct ticket_list l;
	struct err e;
	int changed = 0;

	if (sla_world_get(s->store, &w, &e) != RC_OK)
		return 0;
	if (store_sla_due(s->store, now, DUE_BATCH, a, &l, &e) != RC_OK) {
		sla_world_put(w);
		return 0;
	}
	for (size_t k = 0; k < l.n; k++) {
		const struct ticket *t = &l.items[k];
		const struct sla_policy *p = sla_world_policy(w, t->sla.policy_id);
		struct ticket_write *tw = arena_alloc(a, sizeof(*tw));
		struct sla_timer due[24];
		struct sla_result r;
		struct sla_ev *ev;
		int64_t next;
		int n, nd;

		if (!tw)
			break;
		tw->t = *t;
		tw->if_version = t->version;
		n = sla_log_load(t->sla.log, a, &ev);
		if (n == -2 || (n < 0 && !t->sla.log))
			break;                      /* out of memory: the next run */
		if (!p || n <= 0 || sla_eval(p, ev, n, now, &r, &e) != RC_OK) {
			tw->t.sla.next_at = 0;     /* nothing to time */
			tw->sla_set = true;
			tw->sla_gen = -1;
			changed += write_change(s, tw);
			continue;
		}
		nd = sla_due_timers(&r, t->sla.fired, now, due, (int)ARRAY_SIZE(due), &next);
		for (int i = 0; i < nd; i++) {
			const char *kind;
			json_t *d;
			/* Only what fits in one write (each timer: its event and
			 * outbox row, and its actions'; then the sla event); the
			 * rest stay due for the next pass. */
			if (tw->nev + 2 + p->nact + 1 > TW_MAX_EVENTS || tw->nob + 1 + p->nact > TW_MAX_OUTBOX)
				break;
			d = timer_json(p, &due[i], &kind);
			tw->t.sla.fired |= due[i].bit;
			tw_outbox(a, tw, kind, json_deep_copy(d));
			/* Tier clocks are the provider's business (staff only). */
			tw_event(a, tw, kind, due[i].clock < 0, d);
			run_actions(p, &due[i], tw, now, a);
		}
		/* Replays with what the actions changed (their tier and priority
		 * events join the log) and stores the result. */
		sla_track(w, t, tw, 0, now, nd ? "SLA timers" : NULL, a);
		if (!tw->sla_set)
			continue;
		if (write_change(s, tw))
			changed++;
	}
	sla_world_put(w);
	return changed;
}
