/*
 * policy.c: an SLA policy's JSON members, checked and converted
 * (policy.h). Seconds in the API, milliseconds inside.
 */
#include "base/common.h"

#include <math.h>

#include "sla/policy.h"

static bool seconds_of(json_t *v, int64_t *ms)
{
	json_int_t s;

	if (!json_is_integer(v))
		return false;
	s = json_integer_value(v);
	if (s <= 0 || s > SLA_MAX_TARGET_S)
		return false;
	*ms = (int64_t)s * 1000;
	return true;
}

static enum result targets_parse(json_t *o, struct sla_policy *p, struct err *e)
{
	const char *key;
	json_t *v;

	if (!o || json_is_null(o))
		return RC_OK;
	if (!json_is_object(o))
		return err_set(e, RC_INVALID, "targets", "must be an object of priorities (P1..P4)");
	json_object_foreach(o, key, v) {
		int pr = name_index(prio_names, key);
		const char *k2;
		json_t *v2;
		char f[64];

		snprintf(f, sizeof(f), "targets.%.20s", key);
		if (pr < 0)
			return err_set(e, RC_INVALID, f, "is not a priority (P1..P4)");
		if (!json_is_object(v))
			return err_set(e, RC_INVALID, f, "must be {\"response\": seconds, \"resolution\": seconds}");
		json_object_foreach(v, k2, v2) {
			int64_t ms;
			snprintf(f, sizeof(f), "targets.%s.%.20s", key, k2);
			if (strcmp(k2, "response") && strcmp(k2, "resolution"))
				return err_set(e, RC_INVALID, f, "is not a target (response, resolution)");
			if (!seconds_of(v2, &ms))
				return err_set(e, RC_INVALID, f, "must be whole seconds of business time, 1 to 366 days");
			if (!strcmp(k2, "response"))
				p->response[pr] = ms;
			else
				p->resolution[pr] = ms;
		}
		if (p->response[pr] && p->resolution[pr] && p->response[pr] > p->resolution[pr]) {
			snprintf(f, sizeof(f), "targets.%s.response", key);
			return err_set(e, RC_INVALID, f, "must not be longer than the resolution target");
		}
	}
	return RC_OK;
}

static enum result calendars_parse(json_t *o, struct sla_policy_def *d, struct err *e)
{
	const char *key;
	json_t *v;

	if (!o || json_is_null(o))
		return RC_OK;
	if (!json_is_object(o))
		return err_set(e, RC_INVALID, "calendars", "must be an object of priority to calendar id");
	json_object_foreach(o, key, v) {
		int pr = name_index(prio_names, key);
		char f[48];
		snprintf(f, sizeof(f), "calendars.%.20s", key);
		if (pr < 0)
			return err_set(e, RC_INVALID, f, "is not a priority (P1..P4)");
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return err_set(e, RC_INVALID, f, "must be a calendar id");
		d->cal_of[pr] = (int64_t)json_integer_value(v);
	}
	return RC_OK;
}

static enum result pause_parse(json_t *a, struct sla_policy *p, struct err *e)
{
	size_t i;
	json_t *v;

	if (!a || json_is_null(a)) {
		p->pause[TS_PENDING_CUSTOMER] = p->pause[TS_PENDING_VENDOR] = true;
		return RC_OK;
	}
	if (!json_is_array(a))
		return err_set(e, RC_INVALID, "pause_statuses", "must be an array of statuses");
	json_array_foreach(a, i, v) {
		int s = name_index(tstatus_names, json_string_value(v));
		char f[48];
		snprintf(f, sizeof(f), "pause_statuses[%zu]", i);
		if (s < 0)
			return err_set(e, RC_INVALID, f, "is not a status");
		if (s == TS_NEW || s == TS_OPEN || s == TS_RESOLVED || s == TS_CLOSED)
			return err_set(e, RC_INVALID, f, "cannot pause the clock (only pending_customer, pending_vendor and on_hold can)");
		p->pause[s] = true;
	}
	return RC_OK;
}

static enum result warn_parse(json_t *a, struct sla_policy *p, struct err *e)
{
	size_t i;
	json_t *v;

	if (!a || json_is_null(a)) {
		p->nwarn = 2;
		p->warn[0] = 0.75;
		p->warn[1] = 0.9;
		return RC_OK;
	}
	if (!json_is_array(a) || json_array_size(a) > SLA_MAX_WARN)
		return err_set(e, RC_INVALID, "warn_at", "must be an array of at most %d fractions", SLA_MAX_WARN);
	json_array_foreach(a, i, v) {
		double f = json_is_number(v) ? json_number_value(v) : -1;
		char field[32];
		snprintf(field, sizeof(field), "warn_at[%zu]", i);
		if (!(f > 0 && f < 1))
			return err_set(e, RC_INVALID, field, "must be a fraction between 0 and 1, such as 0.75");
		if (i && !(f > p->warn[i - 1]))
			return err_set(e, RC_INVALID, field, "must be larger than the one before");
		p->warn[p->nwarn++] = f;
	}
	return RC_OK;
}

static enum result tiers_parse(json_t *o, struct sla_policy *p, struct err *e)
{
	const char *key;
	json_t *v;

	if (!o || json_is_null(o))
		return RC_OK;
	if (!json_is_object(o))
		return err_set(e, RC_INVALID, "tier_targets", "must be an object of tier (1, 2, 3) to seconds");
	json_object_foreach(o, key, v) {
		char f[48];
		snprintf(f, sizeof(f), "tier_targets.%.20s", key);
		if (strlen(key) != 1 || key[0] < '1' || key[0] > '3')
			return err_set(e, RC_INVALID, f, "is not a tier (1, 2, 3)");
		if (!seconds_of(v, &p->ola[key[0] - '1']))
			return err_set(e, RC_INVALID, f, "must be whole seconds of business time, 1 to 366 days");
	}
	return RC_OK;
}

static enum result actions_parse(json_t *a, struct sla_policy *p, struct err *e)
{
	size_t i;
	json_t *v;

	if (!a || json_is_null(a))
		return RC_OK;
	if (!json_is_array(a) || json_array_size(a) > SLA_MAX_ACTIONS)
		return err_set(e, RC_INVALID, "actions", "must be an array of at most %d actions", SLA_MAX_ACTIONS);
	json_array_foreach(a, i, v) {
		struct sla_action *act = &p->act[p->nact];
		const char *key;
		json_t *m, *at;
		int on, what;
		char f[48];

		snprintf(f, sizeof(f), "actions[%zu]", i);
		if (!json_is_object(v))
			return err_set(e, RC_INVALID, f, "must be {\"on\": ..., \"do\": ...}");
		json_object_foreach(v, key, m)
			if (strcmp(key, "on") && strcmp(key, "do") && strcmp(key, "at")) {
				snprintf(f, sizeof(f), "actions[%zu].%.16s", i, key);
				return err_set(e, RC_INVALID, f, "is not a member of an action (on, at, do)");
			}
		on = name_index(sla_on_names, json_string_value(json_object_get(v, "on")));
		what = name_index(sla_do_names, json_string_value(json_object_get(v, "do")));
		snprintf(f, sizeof(f), "actions[%zu].on", i);
		if (on < 0)
			return err_set(e, RC_INVALID, f, "must be one of response_warning, response_breached, resolution_warning, resolution_breached, ola_breached");
		snprintf(f, sizeof(f), "actions[%zu].do", i);
		if (what < 0)
			return err_set(e, RC_INVALID, f, "must be one of notify_dispatcher, raise_tier, raise_priority");
		act->on = (enum sla_on)on;
		act->what = (enum sla_do)what;
		act->level = on == ON_RESPONSE_WARNING || on == ON_RESOLUTION_WARNING ? 0 : -1;
		at = json_object_get(v, "at");
		snprintf(f, sizeof(f), "actions[%zu].at", i);
		if (at && act->level < 0)
			return err_set(e, RC_INVALID, f, "only warnings have an \"at\"");
		if (at) {
			double x = json_is_number(at) ? json_number_value(at) : -1;
			int lv = -1;
			for (int k = 0; k < p->nwarn; k++)
				if (fabs(p->warn[k] - x) < 1e-9)
					lv = k;
			if (lv < 0)
				return err_set(e, RC_INVALID, f, "must be one of the policy's warn_at fractions");
			act->level = lv;
		}
		if (act->level >= 0 && !p->nwarn)
			return err_set(e, RC_INVALID, f, "the policy has no warnings (warn_at is empty)");
		p->nact++;
	}
	return RC_OK;
}

enum result sla_policy_parse(json_t *targets, json_t *calendars, json_t *pause,
			     json_t *warn_at, json_t *tier_targets, json_t *actions,
			     struct sla_policy_def *d, struct err *e)
{
	memset(d, 0, sizeof(*d));
	if (targets_parse(targets, &d->p, e) != RC_OK || calendars_parse(calendars, d, e) != RC_OK ||
	    pause_parse(pause, &d->p, e) != RC_OK || warn_parse(warn_at, &d->p, e) != RC_OK ||
	    tiers_parse(tier_targets, &d->p, e) != RC_OK || actions_parse(actions, &d->p, e) != RC_OK)
		return RC_INVALID;
	return RC_OK;
}

/* ---- canonical JSON ------------------------------------------------------------------------ */

json_t *sla_policy_targets_json(const struct sla_policy *p)
{
	json_t *o = json_object();

	for (int i = 0; i < PR_COUNT; i++) {
		json_t *t;
		if (!p->response[i] && !p->resolution[i])
			continue;
		t = json_object();
		if (p->response[i])
			json_object_set_new(t, "response", json_integer(p->response[i] / 1000));
		if (p->resolution[i])
			json_object_set_new(t, "resolution", json_integer(p->resolution[i] / 1000));
		json_object_set_new(o, prio_names[i], t);
	}
	return o;
}

json_t *sla_policy_pause_json(const struct sla_policy *p)
{
	json_t *a = json_array();

	for (int s = 0; s < TS_COUNT; s++)
		if (p->pause[s])
			json_array_append_new(a, json_string(tstatus_names[s]));
	return a;
}

json_t *sla_policy_warn_json(const struct sla_policy *p)
{
	json_t *a = json_array();

	for (int i = 0; i < p->nwarn; i++)
		json_array_append_new(a, json_real(p->warn[i]));
	return a;
}

json_t *sla_policy_tiers_json(const struct sla_policy *p)
{
	json_t *o = json_object();
	static const char *const names[3] = { "1", "2", "3" };

	for (int k = 0; k < 3; k++)
		if (p->ola[k])
			json_object_set_new(o, names[k], json_integer(p->ola[k] / 1000));
	return o;
}

json_t *sla_policy_actions_json(const struct sla_policy *p)
{
	json_t *a = json_array();

	for (int i = 0; i < p->nact; i++) {
		const struct sla_action *x = &p->act[i];
		json_t *o = json_pack("{s:s,s:s}", "on", sla_on_names[x->on], "do", sla_do_names[x->what]);
		if (x->level >= 0)
			json_object_set_new(o, "at", json_real(p->warn[x->level]));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *sla_policy_calendars_json(const struct sla_policy_def *d)
{
	json_t *o = json_object();

	for (int i = 0; i < PR_COUNT; i++)
		if (d->cal_of[i])
			json_object_set_new(o, prio_names[i], json_integer(d->cal_of[i]));
	return o;
}
