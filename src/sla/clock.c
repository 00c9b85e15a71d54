/*
 * clock.c: replaying a ticket's SLA log (clock.h).
 *
 * One pass over the log. The log is cut into pieces at each distinct
 * instant; within a piece the ticket's status, priority and tier are
 * fixed, so each clock either runs for the whole piece or not at all, and
 * the piece's business time is measured once, in the calendar of the
 * piece's priority. Each clock's thresholds (warning fractions, then the
 * target) are ascending, so the pass finds every crossing in order: a
 * crossing inside a piece is cal_add() from the piece's start. Thresholds
 * still ahead at now are projected from now in the current calendar.
 */
#include "base/common.h"

#include <math.h>

#include "sla/clock.h"

const char *const sla_on_names[ON_COUNT + 1] = { "response_warning", "response_breached",
	"resolution_warning", "resolution_breached", "ola_breached", NULL };
const char *const sla_do_names[DO_COUNT + 1] = { "notify_dispatcher", "raise_tier",
	"raise_priority", NULL };
const char *const seg_state_names[] = { "running", "outside_hours", "paused", "stopped", NULL };

/* ---- the log ------------------------------------------------------------------------ */

static bool kind_ok(char k)
{
	return k == SE_STATUS || k == SE_PRIORITY || k == SE_TIER || k == SE_RESPONSE;
}

static bool value_ok(char k, long long v)
{
	switch (k) {
	case SE_STATUS: return v >= 0 && v < TS_COUNT;
	case SE_PRIORITY: return v >= 0 && v < PR_COUNT;
	case SE_TIER: return v >= 1 && v <= 3;
	default: return v == 0;
	}
}

int sla_log_parse(const char *text, struct sla_ev *out, int max)
{
	const char *p = text ? text : "";
	int n = 0;

	while (*p) {
		char *end;
		long long v, at;
		char k;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		k = *p++;
		if (!kind_ok(k) || *p < '0' || *p > '9')
			return -1;
		v = strtoll(p, &end, 10);
		if (*end != '@' || !value_ok(k, v))
			return -1;
		p = end + 1;
		if (*p < '0' || *p > '9')
			return -1;
		at = strtoll(p, &end, 10);
		if ((*end && *end != ' ') || at < 0)
			return -1;
		p = end;
		if (n >= max)
			return -1;
		out[n].kind = k;
		out[n].value = (int)v;
		out[n].at = at;
		n++;
	}
	return n;
}

bool sla_log_append(char *buf, size_t bufsz, const struct sla_ev *ev)
{
	size_t used = strlen(buf);
	int k = snprintf(buf + used, bufsz - used, "%s%c%d@%" PRId64, used ? " " : "", ev->kind,
			 ev->value, ev->at);

	if (k < 0 || (size_t)k >= bufsz - used) {
		buf[used] = '\0';
		return false;
	}
	return true;
}

int sla_events_of_change(const struct ticket_state *o, enum prio old_p,
			 const struct ticket_state *s, enum prio new_p, bool creating,
			 int64_t now, struct sla_ev out[4])
{
	int n = 0;

	if (creating || o->status != s->status)
		out[n++] = (struct sla_ev){ now, SE_STATUS, (int)s->status };
	if (creating || old_p != new_p)
		out[n++] = (struct sla_ev){ now, SE_PRIORITY, (int)new_p };
	if (creating || o->tier != s->tier)
		out[n++] = (struct sla_ev){ now, SE_TIER, s->tier };
	if (s->first_response_at && (creating || !o->first_response_at))
		out[n++] = (struct sla_ev){ s->first_response_at, SE_RESPONSE, 0 };
	return n;
}

/* ---- replay ---------------------------------------------------------------------------- */

/* The ticket's state between events, and what it means for the clocks. */
struct replay {
	enum tstatus status;
	enum prio prio;
	int tier;
	bool responded;       /* the response clock has stopped for good */
	int64_t resp_stop, res_stop;
};

static bool is_done(enum tstatus s)
{
	return s == TS_RESOLVED || s == TS_CLOSED;
}

static void apply(struct replay *st, const struct sla_ev *ev)
{
	switch (ev->kind) {
	case SE_STATUS: {
		enum tstatus to = (enum tstatus)ev->value;
		if (is_done(to) && !is_done(st->status))
			st->res_stop = ev->at;
		if (!is_done(to))
			st->res_stop = 0;
		if (is_done(to) && !st->responded) {
			st->responded = true;
			st->resp_stop = ev->at;
		}
		st->status = to;
		break;
	}
	case SE_PRIORITY:
		st->prio = (enum prio)ev->value;
		break;
	case SE_TIER:
		st->tier = ev->value;
		break;
	case SE_RESPONSE:
		if (!st->responded) {
			st->responded = true;
			st->resp_stop = ev->at;
		}
		break;
	default:
		break;
	}
}

static bool working(const struct sla_policy *p, const struct replay *st)
{
	return !is_done(st->status) && !p->pause[st->status];
}

static bool clock_runs(const struct sla_policy *p, const struct replay *st, int clock)
{
	return working(p, st) && (clock == SLA_RESOLUTION || !st->responded);
}

/* Checks the log and applies the events at its first instant. Returns the
 * index of the first event after them. */
static int replay_start(const struct sla_ev *ev, int n, struct replay *st, struct err *e)
{
	int i = 0;

	memset(st, 0, sizeof(*st));
	st->tier = 1;
	st->prio = PR_P3;
	if (n < 1 || ev[0].kind != SE_STATUS) {
		err_set(e, RC_INVALID, "log", "must start with the ticket's status");
		return -1;
	}
	for (int k = 1; k < n; k++)
		if (ev[k].at < ev[k - 1].at) {
			err_set(e, RC_INVALID, "log", "events must be in time order");
			return -1;
		}
	while (i < n && ev[i].at == ev[0].at)
		apply(st, &ev[i++]);
	return i;
}

/* Thresholds of one clock, ascending: the warnings then the target. */
struct thresholds {
	int n;
	int64_t x[SLA_MAX_WARN + 1];
	int64_t at[SLA_MAX_WARN + 1];
	int next;          /* the first not yet crossed */
};

static void thresholds_init(struct thresholds *t, const struct sla_policy *p, int64_t target)
{
	memset(t, 0, sizeof(*t));
	if (target <= 0)
		return;
	for (int i = 0; i < p->nwarn; i++)
		t->x[t->n++] = llround((double)target * p->warn[i]);
	t->x[t->n++] = target;
}

/* A piece [a, b) of business time bms counted by a clock that had acc
 * before it: the thresholds it crosses. */
static void cross(struct thresholds *t, const struct calendar *c, int64_t a, int64_t acc,
		  int64_t bms)
{
	while (t->next < t->n && t->x[t->next] <= acc + bms) {
		int64_t x = t->x[t->next];
		t->at[t->next] = x <= acc ? a : cal_add(c, a, x - acc);
		t->next++;
	}
}

/* Projects the thresholds not crossed yet from instant "from" in c. */
static void project(struct thresholds *t, const struct calendar *c, int64_t from, int64_t used,
		    int upto)
{
	for (int i = t->next; i < upto; i++) {
		int64_t at = cal_add(c, from, t->x[i] - used);
		t->at[i] = at == INT64_MAX ? 0 : at;
	}
}

enum result sla_eval(const struct sla_policy *p, const struct sla_ev *ev, int n, int64_t now,
		     struct sla_result *out, struct err *e)
{
	struct replay st;
	struct thresholds th[SLA_NCLOCKS], ola[3];
	int i = replay_start(ev, n, &st, e);
	int64_t a;

	memset(out, 0, sizeof(*out));
	if (i < 0)
		return RC_INVALID;
	a = ev[0].at;
	/* Targets are those of the priority the ticket has now. */
	{
		struct replay fin = st;
		for (int k = i; k < n; k++)
			apply(&fin, &ev[k]);
		thresholds_init(&th[SLA_RESPONSE], p, p->response[fin.prio]);
		thresholds_init(&th[SLA_RESOLUTION], p, p->resolution[fin.prio]);
		for (int k = 0; k < 3; k++) {
			memset(&ola[k], 0, sizeof(ola[k]));
			if (p->ola[k] > 0) {
				ola[k].x[0] = p->ola[k];
				ola[k].n = 1;
			}
		}
	}
	for (;;) {
		int64_t b = i < n ? ev[i].at : now;
		const struct calendar *c = p->cal[st.prio];

		if (b > now)
			b = now;
		if (b > a && working(p, &st)) {
			int64_t bms = cal_business_ms(c, a, b);
			for (int k = 0; k < SLA_NCLOCKS; k++) {
				if (!clock_runs(p, &st, k))
					continue;
				cross(&th[k], c, a, out->clk[k].used, bms);
				out->clk[k].used += bms;
			}
			cross(&ola[st.tier - 1], c, a, out->tier_used[st.tier - 1], bms);
			out->tier_used[st.tier - 1] += bms;
		}
		if (b > a)
			a = b;
		if (i >= n)
			break;
		for (int64_t at = ev[i].at; i < n && ev[i].at == at;)
			apply(&st, &ev[i++]);
	}

	out->status = st.status;
	out->priority = st.prio;
	out->tier = st.tier;
	out->paused = !is_done(st.status) && p->pause[st.status];
	for (int k = 0; k < SLA_NCLOCKS; k++) {
		struct sla_clock *ck = &out->clk[k];
		struct thresholds *t = &th[k];
		int last = t->n - 1;

		ck->target = t->n ? t->x[last] : 0;
		ck->running = clock_runs(p, &st, k);
		ck->stopped_at = k == SLA_RESPONSE ? (st.responded ? st.resp_stop : 0) : st.res_stop;
		if (!t->n)
			continue;
		if (ck->running)
			project(t, p->cal[st.prio], a, ck->used, t->n);
		else if (ck->stopped_at && t->next <= last)
			project(t, p->cal[st.prio], ck->stopped_at, ck->used, t->n);
		ck->due = t->at[last];
		/* Reached strictly before the stop (or now): a response at the
		 * due instant, or a clock exactly at it, is on time. */
		ck->breached = t->next > last && t->at[last] < (ck->stopped_at ? ck->stopped_at : now);
		for (int w = 0; w < last && w < SLA_MAX_WARN; w++)
			ck->warn_at[w] = ck->stopped_at && w >= t->next ? 0 : t->at[w];
	}
	for (int k = 0; k < 3; k++) {
		if (!ola[k].n)
			continue;
		/* (ola_at is when the target is reached; callers count it
		 * breached once now is past it, like the clocks.) */
		if (ola[k].next == 0 && working(p, &st) && st.tier == k + 1)
			project(&ola[k], p->cal[st.prio], a, out->tier_used[k], 1);
		out->ola_at[k] = ola[k].at[0];
	}
	return RC_OK;
}

int sla_due_timers(const struct sla_result *r, unsigned fired, int64_t now,
		   struct sla_timer *out, int max, int64_t *next)
{
	struct sla_timer all[SLA_NCLOCKS * (SLA_MAX_WARN + 1) + 3];
	int na = 0, n = 0;

	*next = 0;
	if (r->paused)
		return 0;          /* a paused ticket fires nothing */
	for (int k = 0; k < SLA_NCLOCKS; k++) {
		const struct sla_clock *c = &r->clk[k];
		if (!c->target)
			continue;
		for (int w = 0; w < SLA_MAX_WARN; w++)
			if (c->warn_at[w] && !c->stopped_at)
				all[na++] = (struct sla_timer){ SLA_BIT_WARN(k, w), k, w, c->warn_at[w] };
		if (c->due && (c->breached || (!c->stopped_at && c->running)))
			all[na++] = (struct sla_timer){ SLA_BIT_BREACH(k), k, -1, c->due };
	}
	for (int t = 0; t < 3; t++)
		if (r->ola_at[t])
			all[na++] = (struct sla_timer){ SLA_BIT_OLA(t + 1), -1, t + 1, r->ola_at[t] };
	for (int i = 0; i < na; i++) {
		if (fired & all[i].bit)
			continue;
		/* A timer fires once now is past its instant (at + 1 ms). */
		if (all[i].at >= now) {
			if (!*next || all[i].at + 1 < *next)
				*next = all[i].at + 1;
			continue;
		}
		if (n < max) {
			int k = n++;
			while (k > 0 && out[k - 1].at > all[i].at) {
				out[k] = out[k - 1];
				k--;
			}
			out[k] = all[i];
		}
	}
	return n;
}

bool sla_action_matches(const struct sla_action *a, const struct sla_timer *t)
{
	switch (a->on) {
	case ON_RESPONSE_WARNING: return t->clock == SLA_RESPONSE && t->level == a->level;
	case ON_RESPONSE_BREACHED: return t->clock == SLA_RESPONSE && t->level < 0;
	case ON_RESOLUTION_WARNING: return t->clock == SLA_RESOLUTION && t->level == a->level;
	case ON_RESOLUTION_BREACHED: return t->clock == SLA_RESOLUTION && t->level < 0;
	case ON_OLA_BREACHED: return t->clock < 0;
	default: return false;
	}
}

/* ---- explanation --------------------------------------------------------------------------- */

struct seg_emit {
	void (*fn)(const struct sla_segment *s, void *arg);
	void *arg;
	int max, count;
	struct sla_segment cur;   /* merged, not yet given */
	bool have;
};

static void seg_flush(struct seg_emit *se)
{
	if (se->have && se->count < se->max) {
		se->fn(&se->cur, se->arg);
		se->count++;
	}
	se->have = false;
}

static void seg_put(struct seg_emit *se, const struct sla_segment *s)
{
	if (s->to <= s->from)
		return;
	/* Pieces merge when nothing shown differs; a stopped clock's pieces
	 * always merge (what happens to the ticket after no longer matters). */
	if (se->have && se->cur.state == s->state && se->cur.to == s->from &&
	    (s->state == SEG_STOPPED || (se->cur.status == s->status &&
	     se->cur.priority == s->priority && se->cur.tier == s->tier))) {
		se->cur.to = s->to;
		se->cur.business_ms += s->business_ms;
		return;
	}
	seg_flush(se);
	se->cur = *s;
	se->have = true;
}

struct open_walk {
	struct seg_emit *se;
	struct sla_segment base;
	int64_t pos;
};

static bool open_piece(int64_t u0, int64_t u1, void *arg)
{
	struct open_walk *w = arg;
	struct sla_segment s = w->base;

	if (u0 > w->pos) {
		s.state = SEG_OUTSIDE_HOURS;
		s.from = w->pos;
		s.to = u0;
		s.business_ms = 0;
		seg_put(w->se, &s);
	}
	s.state = SEG_RUNNING;
	s.from = u0;
	s.to = u1;
	s.business_ms = u1 - u0;
	seg_put(w->se, &s);
	w->pos = u1;
	return w->se->count < w->se->max;
}

static void piece(const struct sla_policy *p, const struct replay *st, int clock, int64_t a,
		  int64_t b, struct seg_emit *se)
{
	struct sla_segment s = { clock, SEG_STOPPED, a, b, st->status, st->prio, st->tier, 0 };

	if (b <= a)
		return;
	if (clock_runs(p, st, clock)) {
		struct open_walk w = { se, s, a };
		cal_open_intervals(p->cal[st->prio], a, b, open_piece, &w);
		if (w.pos < b) {
			s.state = SEG_OUTSIDE_HOURS;
			s.from = w.pos;
			seg_put(se, &s);
		}
		return;
	}
	s.state = !is_done(st->status) && p->pause[st->status] &&
		  !(clock == SLA_RESPONSE && st->responded) ? SEG_PAUSED : SEG_STOPPED;
	seg_put(se, &s);
}

int sla_segments(const struct sla_policy *p, const struct sla_ev *ev, int n, int64_t now,
		 int max, void (*fn)(const struct sla_segment *s, void *arg), void *arg)
{
	struct seg_emit se = { fn, arg, max, 0, { 0 }, false };
	struct err e;

	for (int clock = 0; clock < SLA_NCLOCKS && se.count < max; clock++) {
		struct replay st;
		int i = replay_start(ev, n, &st, &e);
		int64_t a;

		if (i < 0)
			return 0;
		a = ev[0].at;
		for (;;) {
			int64_t b = i < n ? ev[i].at : now;
			if (b > now)
				b = now;
			piece(p, &st, clock, a, b, &se);
			if (b > a)
				a = b;
			if (i >= n || se.count >= max)
				break;
			for (int64_t at = ev[i].at; i < n && ev[i].at == at;)
				apply(&st, &ev[i++]);
		}
		seg_flush(&se);
	}
	return se.count;
}
