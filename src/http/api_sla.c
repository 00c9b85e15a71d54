/*
 * api_sla.c: SLA policies (with what-if simulation), contracts, and the
 * SLA parts of a ticket's JSON and timeline.
 *
 * Policies are provider configuration: staff read them, admins and
 * dispatchers write them. An edit is checked against the world it will
 * make (sla_world_build with the edited row) and commits together with
 * the recompute of every open ticket under it. Contracts are commercial:
 * admins write them; client admins and client IT read their own.
 */
#include "base/common.h"

#include "base/clock.h"
#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"
#include "jobs/sla_track.h"
#include "sla/clock.h"
#include "sla/policy.h"

#define SEGMENTS_MAX 500

static void world_put_v(void *w)
{
	sla_world_put(w);
}

bool sla_gen_stale(const struct store_write *w)
{
	return w->rc == RC_STALE && !strcmp(w->err.field, "sla_generation");
}

/* ---- a ticket's SLA ------------------------------------------------------------------------ */

json_t *sla_json(const struct ticket *t, bool staff)
{
	const struct ticket_sla *x = &t->sla;
	json_t *o;

	if (!x->present || !x->policy_id)
		return json_null();
	/* Set member by member: this runs for every ticket of every list. */
	o = json_object();
	json_object_set_new_nocheck(o, "policy_id", json_integer(x->policy_id));
	json_object_set_new_nocheck(o, "response_due_at", json_instant(x->response_due));
	json_object_set_new_nocheck(o, "resolution_due_at", json_instant(x->resolution_due));
	json_object_set_new_nocheck(o, "response_breached", json_boolean(x->response_breached));
	json_object_set_new_nocheck(o, "resolution_breached", json_boolean(x->resolution_breached));
	json_object_set_new_nocheck(o, "paused", json_boolean(x->paused));
	json_object_set_new_nocheck(o, "business_seconds_to_response",
			    t->first_response_at ? json_integer(x->response_ms / 1000) : json_null());
	json_object_set_new_nocheck(o, "business_seconds_to_resolution",
			    t->resolved_at ? json_integer(x->resolution_ms / 1000) : json_null());
	json_object_set_new_nocheck(o, "response_business_seconds", json_integer(x->response_ms / 1000));
	json_object_set_new_nocheck(o, "resolution_business_seconds", json_integer(x->resolution_ms / 1000));
	json_object_set_new_nocheck(o, "as_of", json_instant(x->as_of));
	/* A warning was announced for the clock (what turns a badge amber). */
	json_object_set_new_nocheck(o, "response_warned", json_boolean(
		(x->fired & (SLA_BIT_WARN(SLA_RESPONSE, 0) | SLA_BIT_WARN(SLA_RESPONSE, 1) |
			     SLA_BIT_WARN(SLA_RESPONSE, 2) | SLA_BIT_WARN(SLA_RESPONSE, 3))) != 0));
	json_object_set_new_nocheck(o, "resolution_warned", json_boolean(
		(x->fired & (SLA_BIT_WARN(SLA_RESOLUTION, 0) | SLA_BIT_WARN(SLA_RESOLUTION, 1) |
			     SLA_BIT_WARN(SLA_RESOLUTION, 2) | SLA_BIT_WARN(SLA_RESOLUTION, 3))) != 0));
	if (staff) {
		json_t *tiers = json_object(), *ola = json_array();
		static const char *const names[3] = { "1", "2", "3" };
		for (int k = 0; k < 3; k++) {
			json_object_set_new(tiers, names[k], json_integer(x->tier_ms[k] / 1000));
			if (x->ola_breached & (1u << k))
				json_array_append_new(ola, json_integer(k + 1));
		}
		json_object_set_new_nocheck(o, "tier_business_seconds", tiers);
		json_object_set_new_nocheck(o, "ola_breached_tiers", ola);
	}
	return o;
}

static json_t *segment_json(const struct sla_segment *s)
{
	return json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:i,s:I}", "clock",
			 s->clock == SLA_RESPONSE ? "response" : "resolution", "state",
			 seg_state_names[s->state], "from", json_instant(s->from), "to",
			 json_instant(s->to), "status", tstatus_names[s->status], "priority",
			 prio_names[s->priority], "tier", s->tier, "business_seconds",
			 (json_int_t)(s->business_ms / 1000));
}

static void segment_add(const struct sla_segment *s, void *arg)
{
	json_array_append_new(arg, segment_json(s));
}

json_t *sla_segments_json(struct req *r, const struct ticket *t, int64_t now)
{
	json_t *arr = json_array();
	struct sla_world *w;
	const struct sla_policy *p;
	struct sla_ev *ev;
	struct err e;
	int n;

	if (!t->sla.present || !t->sla.policy_id || sla_world_get(r->srv->store, &w, &e) != RC_OK)
		return arr;
	p = sla_world_policy(w, t->sla.policy_id);
	n = sla_log_load(t->sla.log, r->a, &ev);
	if (p && n > 0)
		sla_segments(p, ev, n, now, SEGMENTS_MAX, segment_add, arr);
	sla_world_put(w);
	return arr;
}

/* ---- policies ------------------------------------------------------------------------------ */

static json_t *loads_or(const char *text, json_t *dflt)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

	if (!v)
		return dflt;
	json_decref(dflt);
	return v;
}

static json_t *policy_json(const struct sla_policy_row *p)
{
	return json_pack("{s:I,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o}", "id", (json_int_t)p->id,
			 "name", p->name, "calendar_id", (json_int_t)p->calendar_id, "calendars",
			 loads_or(p->calendars, json_object()), "targets", loads_or(p->targets, json_object()),
			 "pause_statuses", loads_or(p->pause_statuses, json_array()), "warn_at",
			 loads_or(p->warn_at, json_array()), "tier_targets",
			 loads_or(p->tier_targets, json_object()), "actions", loads_or(p->actions, json_array()),
			 "default", p->is_default, "created_at", json_instant(p->created_at), "updated_at",
			 json_instant(p->updated_at));
}

struct policy_in {
	const char *name;
	int64_t calendar_id;
	bool is_default;
};

static const struct jfield policy_fields[] = {
	{ "name", JT_STRING, JF_REQUIRED, offsetof(struct policy_in, name), 1, 200, NULL },
	{ "calendar_id", JT_INT, JF_REQUIRED, offsetof(struct policy_in, calendar_id), 1, INT64_MAX, NULL },
	{ "default", JT_BOOL, 0, offsetof(struct policy_in, is_default), 0, 0, NULL },
};

static const char *const policy_members[] = { "targets", "calendars", "pause_statuses", "warn_at",
					      "tier_targets", "actions" };

static const char *dump(struct req *r, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	const char *out = arena_strdup(r->a, s ? s : "null");

	free(s);
	json_decref(v);
	return out;
}

/* Checks a whole policy document (the body, or a row merged with a
 * patch) into row. Answers 400 and returns false when it is not valid. */
static bool policy_check(struct req *r, json_t *doc, struct sla_policy_row *row)
{
	struct policy_in in = { 0 };
	struct jseen seen;
	json_t *rest = json_copy(doc), *errs = json_array();
	json_t *m[6];
	struct sla_policy_def d;
	struct err e;

	for (size_t i = 0; i < ARRAY_SIZE(policy_members); i++) {
		m[i] = json_object_get(doc, policy_members[i]);
		json_object_del(rest, policy_members[i]);
	}
	jschema_parse(rest, policy_fields, ARRAY_SIZE(policy_fields), &in, &seen, errs);
	json_decref(rest);
	if (sla_policy_parse(m[0], m[1], m[2], m[3], m[4], m[5], &d, &e) != RC_OK)
		jschema_error(errs, e.field, e.msg);
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	row->name = in.name;
	row->calendar_id = in.calendar_id;
	row->is_default = in.is_default;
	row->targets = dump(r, sla_policy_targets_json(&d.p));
	row->calendars = dump(r, sla_policy_calendars_json(&d));
	row->pause_statuses = dump(r, sla_policy_pause_json(&d.p));
	row->warn_at = dump(r, sla_policy_warn_json(&d.p));
	row->tier_targets = dump(r, sla_policy_tiers_json(&d.p));
	row->actions = dump(r, sla_policy_actions_json(&d.p));
	return true;
}

/* Builds the world row makes (checks its calendars exist); for an edit
 * also prepares the recompute of the open tickets. */
static bool policy_world(struct req *r, struct sla_policy_row *row)
{
	struct sla_world *w;
	struct err e;
	enum result rc;

	/* A new policy is checked as if it replaced id -1 (no such row):
	 * only its calendars are looked up. */
	rc = sla_world_build(r->srv->store, NULL, row->id ? row : NULL, &w, &e);
	if (rc == RC_OK)
		arena_defer(r->a, world_put_v, w);
	if (rc == RC_OK && !row->id) {
		json_t *cals = json_loads(row->calendars, 0, NULL);
		const char *key;
		json_t *v;
		if (!sla_world_calendar(w, row->calendar_id))
			rc = err_set(&e, RC_INVALID, "calendar_id", "is not a calendar");
		json_object_foreach(cals, key, v)
			if (rc == RC_OK && !sla_world_calendar(w, (int64_t)json_integer_value(v)))
				rc = err_set(&e, RC_INVALID, arena_printf(r->a, "calendars.%s", key),
					     "is not a calendar");
		json_decref(cals);
	}
	if (rc != RC_OK) {
		if (rc == RC_INVALID) {
			json_t *errs = json_array();
			jschema_error(errs, e.field, e.msg);
			req_invalid(r, errs);
		} else {
			req_fail(r, rc, &e);
		}
		return false;
	}
	r->w.sla_gen = sla_world_generation(w);
	if (row->id) {
		struct sla_recompute *rc2 = arena_alloc(r->a, sizeof(*rc2));
		if (!rc2) {
			req_fail(r, RC_NOMEM, NULL);
			return false;
		}
		rc2->fn = sla_recompute_fn;
		rc2->arg = w;
		r->w.recompute = rc2;
	}
	return true;
}

static void policy_answer(struct req *r, int64_t id, int status)
{
	struct sla_policy_row p;
	struct err e;

	if (store_sla_policy_get(r->srv->store, id, r->a, &p, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	req_etag(r, p.version);
	if (status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/sla-policies/%" PRId64, id));
	if (r->w.recompute)
		req_header(r, "SLA-Recomputed", arena_printf(r->a, "%zu", r->w.recompute->changed));
	req_json(r, status, policy_json(&p));
}

/* An edit whose recompute world went stale is prepared again. */
struct policy_edit {
	struct sla_policy_row row;
	int64_t version;
	int tries;
};

static void policy_submit(struct req *r);

static void policy_written(struct req *r)
{
	struct policy_edit *pe = r->ctx;

	if (sla_gen_stale(&r->w) && pe && ++pe->tries < SLA_GEN_RETRIES) {
		policy_submit(r);
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	policy_answer(r, r->w.id, r->w.in.policy.id ? 200 : 201);
}

static void policy_submit(struct req *r)
{
	struct policy_edit *pe = r->ctx;

	req_write_init(r, W_SLA_POLICY_PUT, pe->row.id ? "sla_policy.update" : "sla_policy.create",
		       "sla_policy");
	if (!policy_world(r, &pe->row))
		return;
	r->w.in.policy = pe->row;
	r->w.id = pe->row.id;
	r->w.if_version = pe->version;
	req_write(r, policy_written);
}

void h_policy_create(struct req *r)
{
	struct policy_edit *pe = arena_alloc(r->a, sizeof(*pe));

	if (!pe) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!policy_check(r, r->json, &pe->row))
		return;
	r->ctx = pe;
	policy_submit(r);
}

void h_policy_patch(struct req *r)
{
	struct policy_edit *pe = arena_alloc(r->a, sizeof(*pe));
	struct sla_policy_row old;
	struct err e;
	json_t *doc;
	const char *key;
	json_t *v;

	if (!pe) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!req_if_match(r, &pe->version))
		return;
	if (store_sla_policy_get(r->srv->store, r->params[0], r->a, &old, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	doc = policy_json(&old);
	json_object_del(doc, "id");
	json_object_del(doc, "created_at");
	json_object_del(doc, "updated_at");
	json_object_foreach(r->json, key, v)
		json_object_set(doc, key, v);
	arena_defer(r->a, (void (*)(void *))json_decref, doc);
	if (!policy_check(r, doc, &pe->row))
		return;
	pe->row.id = old.id;
	r->ctx = pe;
	policy_submit(r);
}

void h_policy_list(struct req *r)
{
	struct sla_policy_row *items;
	size_t n;
	struct err e;
	json_t *arr;

	if (store_sla_policy_list(r->srv->store, r->a, &items, &n, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, policy_json(&items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", arr));
}

void h_policy_get(struct req *r)
{
	policy_answer(r, r->params[0], 200);
}

/* ---- simulate ------------------------------------------------------------------------------- */

struct sim_in {
	int64_t start, until;
	const char *priority, *status;
	int64_t tier;
};

static const char *const prio_choices[] = { "P1", "P2", "P3", "P4", NULL };

static const struct jfield sim_fields[] = {
	{ "start", JT_INSTANT, JF_REQUIRED, offsetof(struct sim_in, start), 0, 0, NULL },
	{ "until", JT_INSTANT, 0, offsetof(struct sim_in, until), 0, 0, NULL },
	{ "priority", JT_ENUM, JF_REQUIRED, offsetof(struct sim_in, priority), 0, 0, prio_choices },
	{ "status", JT_ENUM, 0, offsetof(struct sim_in, status), 0, 0, tstatus_names },
	{ "tier", JT_INT, 0, offsetof(struct sim_in, tier), 1, 3, NULL },
};

#define SIM_MAX_EVENTS 500

/* One simulated event into ev; false (with errs) when bad. */
static bool sim_event(json_t *o, size_t i, int64_t prev, struct sla_ev *ev, json_t *errs)
{
	static const char *const types[] = { "status", "priority", "tier", "first_response",
					     "resolved", "reopened", NULL };
	char f[48];
	const char *at = json_string_value(json_object_get(o, "at"));
	int type = name_index(types, json_string_value(json_object_get(o, "type")));
	json_t *val = json_object_get(o, "value");
	const char *key;
	json_t *m;

	snprintf(f, sizeof(f), "events[%zu]", i);
	if (!json_is_object(o)) {
		jschema_error(errs, f, "must be {\"at\": instant, \"type\": ..., \"value\"?: ...}");
		return false;
	}
	json_object_foreach(o, key, m)
		if (strcmp(key, "at") && strcmp(key, "type") && strcmp(key, "value")) {
			snprintf(f, sizeof(f), "events[%zu].%.16s", i, key);
			jschema_error(errs, f, "unknown field");
			return false;
		}
	snprintf(f, sizeof(f), "events[%zu].at", i);
	if (!at || !time_parse(at, &ev->at)) {
		jschema_error(errs, f, "must be an RFC 3339 instant");
		return false;
	}
	if (ev->at < prev) {
		jschema_error(errs, f, "must not be before the start or the event before it");
		return false;
	}
	snprintf(f, sizeof(f), "events[%zu].type", i);
	if (type < 0) {
		jschema_error(errs, f, "must be one of status, priority, tier, first_response, resolved, reopened");
		return false;
	}
	snprintf(f, sizeof(f), "events[%zu].value", i);
	ev->value = 0;
	switch (type) {
	case 0:
		ev->kind = SE_STATUS;
		ev->value = name_index(tstatus_names, json_string_value(val));
		if (ev->value < 0) {
			jschema_error(errs, f, "must be a status");
			return false;
		}
		return true;
	case 1:
		ev->kind = SE_PRIORITY;
		ev->value = name_index(prio_names, json_string_value(val));
		if (ev->value < 0) {
			jschema_error(errs, f, "must be P1, P2, P3 or P4");
			return false;
		}
		return true;
	case 2:
		ev->kind = SE_TIER;
		ev->value = json_is_integer(val) ? (int)json_integer_value(val) : 0;
		if (ev->value < 1 || ev->value > 3) {
			jschema_error(errs, f, "must be 1, 2 or 3");
			return false;
		}
		return true;
	case 3:
		ev->kind = SE_RESPONSE;
		return true;
	case 4:
		ev->kind = SE_STATUS;
		ev->value = TS_RESOLVED;
		return true;
	default:
		ev->kind = SE_STATUS;
		ev->value = TS_OPEN;
		return true;
	}
}

static json_t *sim_clock_json(const struct sla_policy *p, const struct sla_clock *c)
{
	json_t *warn = json_array();

	if (!c->target)
		return json_null();
	for (int i = 0; i < p->nwarn; i++)
		json_array_append_new(warn, json_pack("{s:f,s:o}", "fraction", p->warn[i], "at",
						      c->warn_at[i] ? json_instant(c->warn_at[i]) : json_null()));
	return json_pack("{s:I,s:o,s:b,s:I,s:b,s:o,s:o}", "target_seconds", (json_int_t)(c->target / 1000),
			 "due_at", c->due ? json_instant(c->due) : json_null(), "breached", c->breached,
			 "business_seconds", (json_int_t)(c->used / 1000), "running", c->running,
			 "stopped_at", c->stopped_at ? json_instant(c->stopped_at) : json_null(),
			 "warnings", warn);
}

void h_policy_simulate(struct req *r)
{
	struct sim_in in = { 0 };
	struct jseen seen;
	json_t *rest = json_copy(r->json), *errs = json_array();
	json_t *evs = json_object_get(r->json, "events");
	struct sla_ev *ev = arena_alloc(r->a, sizeof(*ev) * (SIM_MAX_EVENTS + 3));
	struct sla_world *w;
	const struct sla_policy *p;
	struct sla_result res;
	struct err e;
	json_t *tiers, *segs, *out;
	int n = 0;

	json_object_del(rest, "events");
	jschema_parse(rest, sim_fields, ARRAY_SIZE(sim_fields), &in, &seen, errs);
	json_decref(rest);
	if (!ev) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!json_array_size(errs)) {
		ev[n++] = (struct sla_ev){ in.start, SE_STATUS, in.status ? name_index(tstatus_names, in.status) : TS_NEW };
		ev[n++] = (struct sla_ev){ in.start, SE_PRIORITY, name_index(prio_names, in.priority) };
		ev[n++] = (struct sla_ev){ in.start, SE_TIER, in.tier ? (int)in.tier : 1 };
		if (evs && (!json_is_array(evs) || json_array_size(evs) > SIM_MAX_EVENTS)) {
			jschema_error(errs, "events", "must be an array of at most 500 events");
		} else {
			size_t i;
			json_t *o;
			json_array_foreach(evs, i, o) {
				if (!sim_event(o, i, ev[n - 1].at, &ev[n], errs))
					break;
				n++;
			}
		}
	}
	if (!json_array_size(errs)) {
		if (!jschema_has(sim_fields, ARRAY_SIZE(sim_fields), &seen, "until"))
			in.until = ev[n - 1].at;
		if (in.until < ev[n - 1].at)
			jschema_error(errs, "until", "must not be before the last event");
		else if (in.until - in.start > 3660LL * 86400000)
			jschema_error(errs, "until", "must be within 10 years of start");
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (sla_world_get(r->srv->store, &w, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arena_defer(r->a, world_put_v, w);
	p = sla_world_policy(w, r->params[0]);
	if (!p) {
		req_problem(r, 404, "not-found", "Not found", "SLA policy not found");
		return;
	}
	if (sla_eval(p, ev, n, in.until, &res, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	tiers = json_object();
	for (int k = 0; k < 3; k++) {
		char name[2] = { (char)('1' + k), 0 };
		json_object_set_new(tiers, name, json_pack("{s:I,s:o,s:o}", "business_seconds",
			(json_int_t)(res.tier_used[k] / 1000), "target_seconds",
			p->ola[k] ? json_integer(p->ola[k] / 1000) : json_null(), "reached_at",
			res.ola_at[k] ? json_instant(res.ola_at[k]) : json_null()));
	}
	segs = json_array();
	sla_segments(p, ev, n, in.until, SEGMENTS_MAX, segment_add, segs);
	out = json_pack("{s:I,s:o,s:o,s:s,s:s,s:i,s:b,s:o,s:o,s:o,s:o}", "policy_id",
			(json_int_t)r->params[0], "start", json_instant(in.start), "until",
			json_instant(in.until), "priority", prio_names[res.priority], "status",
			tstatus_names[res.status], "tier", res.tier, "paused", res.paused, "response",
			sim_clock_json(p, &res.clk[SLA_RESPONSE]), "resolution",
			sim_clock_json(p, &res.clk[SLA_RESOLUTION]), "tiers", tiers, "segments", segs);
	req_json(r, 200, out);
}

/* ---- contracts ------------------------------------------------------------------------------ */

static const char *const model_choices[] = { "per_seat", "flat_fee", "break_fix", "block_hours", NULL };

static json_t *contract_json(const struct contract_row *c)
{
	int64_t today_days = clock_now_ms() / 86400000;
	int64_t y;
	unsigned m, d;
	char today[16];
	bool active;

	civil_from_days(today_days, &y, &m, &d);
	snprintf(today, sizeof(today), "%04" PRId64 "-%02u-%02u", y, m, d);
	active = strcmp(c->starts_on, today) <= 0 && (!c->ends_on || strcmp(c->ends_on, today) >= 0);
	return json_pack("{s:I,s:I,s:s,s:o,s:s,s:s,s:o,s:o,s:b,s:o,s:o}", "id", (json_int_t)c->id,
			 "client_id", (json_int_t)c->client_id, "name", c->name, "sla_policy_id",
			 c->sla_policy_id ? json_integer(c->sla_policy_id) : json_null(), "model", c->model,
			 "starts_on", c->starts_on, "ends_on", json_str_or_null(c->ends_on), "notes",
			 json_str_or_null(c->notes), "active", active, "created_at",
			 json_instant(c->created_at), "updated_at", json_instant(c->updated_at));
}

struct contract_in {
	int64_t client_id, sla_policy_id;
	const char *name, *model, *starts_on, *ends_on, *notes;
};

enum { CF_CLIENT, CF_POLICY, CF_NAME, CF_MODEL, CF_STARTS, CF_ENDS, CF_NOTES, CF_COUNT };

static const struct jfield contract_fields[CF_COUNT] = {
	[CF_CLIENT] = { "client_id", JT_INT, JF_REQUIRED, offsetof(struct contract_in, client_id), 1, INT64_MAX, NULL },
	[CF_POLICY] = { "sla_policy_id", JT_INT, JF_NULLABLE, offsetof(struct contract_in, sla_policy_id), 1, INT64_MAX, NULL },
	[CF_NAME] = { "name", JT_STRING, 0, offsetof(struct contract_in, name), 1, 200, NULL },
	[CF_MODEL] = { "model", JT_ENUM, JF_REQUIRED, offsetof(struct contract_in, model), 0, 0, model_choices },
	[CF_STARTS] = { "starts_on", JT_STRING, JF_REQUIRED, offsetof(struct contract_in, starts_on), 10, 10, NULL },
	[CF_ENDS] = { "ends_on", JT_STRING, JF_NULLABLE, offsetof(struct contract_in, ends_on), 10, 10, NULL },
	[CF_NOTES] = { "notes", JT_TEXT, JF_NULLABLE, offsetof(struct contract_in, notes), 0, 10000, NULL },
};

static bool date_ok(const char *s)
{
	char iso[32];
	int64_t ms;

	if (!s || strlen(s) != 10)
		return false;
	snprintf(iso, sizeof(iso), "%sT00:00:00Z", s);
	return time_parse(iso, &ms);
}

static bool contract_check(struct req *r, json_t *doc, struct contract_row *row)
{
	struct contract_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();

	jschema_parse(doc, contract_fields, CF_COUNT, &in, &seen, errs);
	if (in.starts_on && !date_ok(in.starts_on))
		jschema_error(errs, "starts_on", "must be a date such as 2026-01-01");
	if (in.ends_on && !date_ok(in.ends_on))
		jschema_error(errs, "ends_on", "must be a date such as 2026-12-31");
	if (in.starts_on && in.ends_on && strcmp(in.ends_on, in.starts_on) < 0)
		jschema_error(errs, "ends_on", "must not be before starts_on");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	row->client_id = in.client_id;
	row->sla_policy_id = in.sla_policy_id;
	row->name = in.name ? in.name : arena_printf(r->a, "%s contract", in.model);
	row->model = in.model;
	row->starts_on = in.starts_on;
	row->ends_on = in.ends_on;
	row->notes = in.notes;
	return true;
}

static void contract_answer(struct req *r, int64_t id, int status)
{
	struct contract_row c;
	struct err e;

	if (store_contract_get(r->srv->store, &r->scope, id, r->a, &c, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	req_etag(r, c.version);
	if (status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/contracts/%" PRId64, id));
	req_json(r, status, contract_json(&c));
}

static void contract_written(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	contract_answer(r, r->w.id, r->w.in.contract.id ? 200 : 201);
}

void h_contract_create(struct req *r)
{
	struct contract_row row = { 0 };

	if (!contract_check(r, r->json, &row))
		return;
	req_write_init(r, W_CONTRACT_PUT, "contract.create", "contract");
	r->w.in.contract = row;
	req_write(r, contract_written);
}

void h_contract_patch(struct req *r)
{
	struct contract_row old, row = { 0 };
	struct err e;
	json_t *doc;
	int64_t version = 0;
	const char *key;
	json_t *v;

	if (!req_if_match(r, &version))
		return;
	if (store_contract_get(r->srv->store, &r->scope, r->params[0], r->a, &old, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	doc = contract_json(&old);
	json_object_del(doc, "id");
	json_object_del(doc, "active");
	json_object_del(doc, "created_at");
	json_object_del(doc, "updated_at");
	json_object_foreach(r->json, key, v)
		json_object_set(doc, key, v);
	arena_defer(r->a, (void (*)(void *))json_decref, doc);
	if (!contract_check(r, doc, &row))
		return;
	row.id = old.id;
	req_write_init(r, W_CONTRACT_PUT, "contract.update", "contract");
	r->w.in.contract = row;
	r->w.id = row.id;
	r->w.if_version = version;
	req_write(r, contract_written);
}

/* Client admins and client IT read their organisation's contracts; a
 * client user does not. */
static bool contract_reader(struct req *r)
{
	if (r->scope.role == ROLE_CLIENT_USER) {
		req_deny(r, "client users do not read contracts");
		return false;
	}
	return true;
}

void h_contract_list(struct req *r)
{
	struct list_q q = { 0 };
	struct contract_row *items;
	size_t n;
	int64_t next;
	struct err e;
	json_t *arr;
	const char *cid = req_query(r, "client_id");

	if (!contract_reader(r) || !req_page(r, &q))
		return;
	if (cid && (!parse_i64(cid, &q.client_id) || q.client_id <= 0)) {
		json_t *errs = json_array();
		jschema_error(errs, "client_id", "must be a client id");
		req_invalid(r, errs);
		return;
	}
	if (store_contract_list(r->srv->store, &r->scope, &q, r->a, &items, &n, &next, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, contract_json(&items[i]));
	req_json(r, 200, page_json(arr, next));
}

void h_contract_get(struct req *r)
{
	if (contract_reader(r))
		contract_answer(r, r->params[0], 200);
}
