/*
 * alert.c: the check evaluator and the alert state machine (alert.h has
 * the diagram and the rules). Small pure functions: the level of a value,
 * the move of the state, flapping, and what to announce.
 */
#include "base/common.h"
#include "monitor/alert.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

const char *const check_cmp_names[] = { ">", ">=", "<", "<=", NULL };
const char *const severity_names[] = { "ok", "warning", "critical", NULL };
const char *const alert_status_names[] = { "inactive", "pending", "firing", NULL };
const char *const alert_effect_names[] = { "fire", "severity", "resolve", "flapping", "flap_end",
					   "ack", NULL };

static bool upward(enum check_cmp c)
{
	return c == CMP_GT || c == CMP_GE;
}

/* value is past threshold t (the bad side). */
static bool past(enum check_cmp c, double v, double t)
{
	switch (c) {
	case CMP_GT: return v > t;
	case CMP_GE: return v >= t;
	case CMP_LT: return v < t;
	case CMP_LE: return v <= t;
	default: return false;
	}
}

/* value has come back from threshold t by the hysteresis h: the level of
 * t may be left. With h = 0 this is "not past t". */
static bool back(enum check_cmp c, double v, double t, double h)
{
	switch (c) {
	case CMP_GT: return v <= t - h;
	case CMP_GE: return v < t - h;
	case CMP_LT: return v >= t + h;
	case CMP_LE: return v > t + h;
	default: return true;
	}
}

enum result check_rule_valid(const struct check_rule *r, struct err *e)
{
	if ((unsigned)r->cmp >= CMP_COUNT)
		return err_set(e, RC_INVALID, "comparison", "must be one of >, >=, <, <=");
	if (!r->has_warn && !r->has_crit)
		return err_set(e, RC_INVALID, "warning", "give a warning or a critical threshold, or both");
	if (r->has_warn && !isfinite(r->warn))
		return err_set(e, RC_INVALID, "warning", "must be a number");
	if (r->has_crit && !isfinite(r->crit))
		return err_set(e, RC_INVALID, "critical", "must be a number");
	if (r->has_warn && r->has_crit &&
	    (upward(r->cmp) ? r->crit < r->warn : r->crit > r->warn))
		return err_set(e, RC_INVALID, "critical",
			       upward(r->cmp) ? "must not be below the warning threshold"
					      : "must not be above the warning threshold");
	if (!(r->hysteresis >= 0))
		return err_set(e, RC_INVALID, "hysteresis", "must be 0 or more");
	if (r->for_ms < 0)
		return err_set(e, RC_INVALID, "for_seconds", "must be 0 or more");
	if (r->flap_changes && (r->flap_changes < 2 || r->flap_changes > ALERT_FLAP_MAX))
		return err_set(e, RC_INVALID, "flap_changes", "must be 0 (off) or 2 to %d", ALERT_FLAP_MAX);
	if (r->flap_changes && r->flap_window_ms <= 0)
		return err_set(e, RC_INVALID, "flap_window_seconds", "must be more than 0 with flap_changes");
	return RC_OK;
}

enum severity check_level(const struct check_rule *r, double v, enum severity now)
{
	enum severity raw = SEV_OK;

	if (r->has_crit && past(r->cmp, v, r->crit))
		raw = SEV_CRITICAL;
	else if (r->has_warn && past(r->cmp, v, r->warn))
		raw = SEV_WARNING;
	if (raw >= now)
		return raw;
	/* Going down: a level is left only once the value is back from its
	 * threshold by the hysteresis. */
	if (now == SEV_CRITICAL && r->has_crit && !back(r->cmp, v, r->crit, r->hysteresis))
		return SEV_CRITICAL;
	if (r->has_warn && !back(r->cmp, v, r->warn, r->hysteresis))
		return SEV_WARNING;
	return raw;
}

/* ---- flapping ------------------------------------------------------------ */

static void record_change(struct alert *a, int64_t at)
{
	if (a->nchanges == ALERT_FLAP_MAX) {
		memmove(a->changes, a->changes + 1, sizeof(a->changes[0]) * (ALERT_FLAP_MAX - 1));
		a->nchanges--;
	}
	a->changes[a->nchanges++] = at;
}

static int changes_since(const struct alert *a, int64_t from)
{
	int n = 0;

	for (int i = 0; i < a->nchanges; i++)
		n += a->changes[i] > from;
	return n;
}

/* Starts or ends flapping at `at`; AE_FLAPPING / AE_FLAP_END. */
static unsigned flap_update(struct alert *a, const struct check_rule *r, int64_t at)
{
	int n;

	if (!r->flap_changes)
		return a->flapping ? (a->flapping = false, AE_FLAP_END) : AE_NONE;
	n = changes_since(a, at - r->flap_window_ms);
	if (!a->flapping && n >= r->flap_changes) {
		a->flapping = true;
		return AE_FLAPPING;
	}
	if (a->flapping && n < (r->flap_changes + 1) / 2) {
		a->flapping = false;
		return AE_FLAP_END;
	}
	return AE_NONE;
}

/* ---- announcing ----------------------------------------------------------- */

/* What to tell the outside world so that it matches the state, unless in
 * a maintenance window or flapping (then nothing, until they end). */
static unsigned announce(struct alert *a)
{
	bool firing = a->status == AL_FIRING;

	if (a->in_maintenance || a->flapping)
		return AE_NONE;
	if (firing && !a->announced_firing) {
		a->announced_firing = true;
		a->announced_severity = a->severity;
		return AE_FIRE;
	}
	if (!firing && a->announced_firing) {
		a->announced_firing = false;
		a->acked = false;   /* the acknowledgement was of what was announced */
		return AE_RESOLVE;
	}
	if (firing && a->severity != a->announced_severity) {
		a->announced_severity = a->severity;
		return a->acked ? AE_NONE : AE_SEVERITY;
	}
	return AE_NONE;
}

/* ---- the state machine ---------------------------------------------------- */

unsigned alert_sample(struct alert *a, const struct check_rule *r, double value, int64_t at)
{
	enum severity lvl;
	unsigned fx;

	int64_t prev_at = a->last_at;

	if ((a->last_at && at <= a->last_at) || isnan(value))
		return AE_NONE;
	a->last_at = at;
	a->last_value = value;
	lvl = check_level(r, value, a->status == AL_INACTIVE ? SEV_OK : a->severity);
	switch (a->status) {
	case AL_INACTIVE:
		if (lvl == SEV_OK)
			break;
		a->status = AL_PENDING;
		a->pending_since = at;
		a->severity = lvl;
		break;
	case AL_PENDING:
		a->severity = lvl;
		if (lvl == SEV_OK)
			a->status = AL_INACTIVE;
		else if (r->for_ms && at - prev_at > r->for_ms)
			a->pending_since = at;   /* not seen for longer than for_seconds: not "held" */
		break;
	case AL_FIRING:
		a->severity = lvl;
		if (lvl == SEV_OK) {
			a->status = AL_INACTIVE;
			a->resolved_at = at;
			if (!a->in_maintenance)
				record_change(a, at);
		}
		break;
	default:
		break;
	}
	if (a->status == AL_PENDING && at - a->pending_since >= r->for_ms) {
		a->status = AL_FIRING;
		a->firing_since = at;
		if (!a->in_maintenance)
			record_change(a, at);
	}
	/* Moves inside a maintenance window are not flapping (nor counted). */
	fx = a->in_maintenance ? AE_NONE : flap_update(a, r, at);
	return fx | announce(a);
}

unsigned alert_maintenance(struct alert *a, bool on, int64_t at)
{
	UNUSED(at);
	a->in_maintenance = on;
	return on ? AE_NONE : announce(a);
}

unsigned alert_retire(struct alert *a, int64_t at)
{
	if (a->status == AL_FIRING)
		a->resolved_at = at;
	a->status = AL_INACTIVE;
	a->in_maintenance = false;
	a->flapping = false;
	return announce(a);
}

bool alert_ack(struct alert *a)
{
	/* What can be acknowledged is what was announced (the ticket). */
	if (!a->announced_firing)
		return false;
	a->acked = true;
	return true;
}

/* ---- the stored form ------------------------------------------------------ */

char *alert_state_format(const struct alert *a)
{
	json_t *ch = json_array();
	json_t *o;
	char *out;

	for (int i = 0; i < a->nchanges && i < ALERT_FLAP_MAX; i++)
		json_array_append_new(ch, json_integer(a->changes[i]));
	o = json_pack("{s:i,s:i,s:I,s:I,s:I,s:f,s:I,s:b,s:b,s:b,s:b,s:i,s:o}",
		      "s", (int)a->status, "v", (int)a->severity,
		      "ps", (json_int_t)a->pending_since, "fs", (json_int_t)a->firing_since,
		      "ra", (json_int_t)a->resolved_at, "lv", isfinite(a->last_value) ? a->last_value : 0.0,
		      "la", (json_int_t)a->last_at, "fl", a->flapping, "ak", a->acked,
		      "mt", a->in_maintenance, "af", a->announced_firing,
		      "as", (int)a->announced_severity, "ch", ch);
	if (!o)
		return NULL;
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

static int64_t get_i64(json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

bool alert_state_parse(const char *s, struct alert *a)
{
	json_t *o = s ? json_loads(s, 0, NULL) : NULL;
	json_t *ch, *x;
	size_t i;
	int st, sv, as;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(o)) {
		json_decref(o);
		return false;
	}
	st = (int)get_i64(o, "s");
	sv = (int)get_i64(o, "v");
	as = (int)get_i64(o, "as");
	if (st < 0 || st >= AL_STATUS_COUNT || sv < 0 || sv >= SEV_COUNT || as < 0 || as >= SEV_COUNT) {
		json_decref(o);
		return false;
	}
	a->status = (enum alert_status)st;
	a->severity = (enum severity)sv;
	a->announced_severity = (enum severity)as;
	a->pending_since = get_i64(o, "ps");
	a->firing_since = get_i64(o, "fs");
	a->resolved_at = get_i64(o, "ra");
	a->last_value = json_number_value(json_object_get(o, "lv"));
	a->last_at = get_i64(o, "la");
	a->flapping = json_is_true(json_object_get(o, "fl"));
	a->acked = json_is_true(json_object_get(o, "ak"));
	a->in_maintenance = json_is_true(json_object_get(o, "mt"));
	a->announced_firing = json_is_true(json_object_get(o, "af"));
	ch = json_object_get(o, "ch");
	json_array_foreach(ch, i, x) {
		if (a->nchanges >= ALERT_FLAP_MAX)
			break;
		a->changes[a->nchanges++] = (int64_t)json_integer_value(x);
	}
	json_decref(o);
	return true;
}

bool alert_state_changed(const struct alert *x, const struct alert *y)
{
	if (x->status != y->status || x->severity != y->severity ||
	    x->pending_since != y->pending_since || x->firing_since != y->firing_since ||
	    x->resolved_at != y->resolved_at || x->flapping != y->flapping || x->acked != y->acked ||
	    x->in_maintenance != y->in_maintenance || x->announced_firing != y->announced_firing ||
	    x->announced_severity != y->announced_severity || x->nchanges != y->nchanges ||
	    memcmp(x->changes, y->changes, sizeof(x->changes[0]) * (size_t)x->nchanges))
		return true;
	/* Pending and firing alerts keep their last sample (the gap rule and
	 * the order of replayed samples need it); inactive ones need not. */
	return y->status != AL_INACTIVE && (x->last_at != y->last_at || x->last_value != y->last_value);
}
