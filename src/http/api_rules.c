/*
 * api_rules.c: triage rules and escalation rules (data, not code), the
 * triage dry-run, and the test clock.
 */
#include "base/common.h"

#include "base/clock.h"
#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"
#include "notify/notify.h"
#include "ticket/ticket.h"

/* ---- triage rules ------------------------------------------------------------------------- */

static json_t *rule_json(const struct rule_row *rr)
{
	json_t *c = json_loads(rr->conditions, 0, NULL), *a = json_loads(rr->actions, 0, NULL);

	return json_pack("{s:I,s:s,s:i,s:b,s:b,s:b,s:b,s:o,s:o,s:o,s:o}", "id", (json_int_t)rr->id,
			 "name", rr->name, "position", rr->position, "enabled", rr->enabled,
			 "on_create", rr->on_create, "on_update", rr->on_update, "stop", rr->stop,
			 "conditions", c ? c : json_array(), "actions", a ? a : json_object(),
			 "created_at", json_instant(rr->created_at), "updated_at", json_instant(rr->updated_at));
}

static bool find_rule(struct req *r, int64_t id, struct rule_row *out)
{
	struct rule_rows rows;
	struct err e;

	if (store_rules_list(r->srv->store, r->a, &rows, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return false;
	}
	for (size_t i = 0; i < rows.n; i++)
		if (rows.items[i].id == id) {
			*out = rows.items[i];
			return true;
		}
	req_problem(r, 404, "not-found", "Not found", "rule not found");
	return false;
}

struct rule_in {
	const char *name;
	int64_t position;
	bool enabled, on_create, on_update, stop;
};

static const struct jfield rule_fields[] = {
	{ "name", JT_STRING, 0, offsetof(struct rule_in, name), 1, 200, NULL },
	{ "position", JT_INT, 0, offsetof(struct rule_in, position), 1, 1000000, NULL },
	{ "enabled", JT_BOOL, 0, offsetof(struct rule_in, enabled), 0, 0, NULL },
	{ "on_create", JT_BOOL, 0, offsetof(struct rule_in, on_create), 0, 0, NULL },
	{ "on_update", JT_BOOL, 0, offsetof(struct rule_in, on_update), 0, 0, NULL },
	{ "stop", JT_BOOL, 0, offsetof(struct rule_in, stop), 0, 0, NULL },
};

/* Parses a rule body over base (a PATCH starts from the stored rule).
 * Returns false when it answered. */
static bool rule_parse(struct req *r, struct rule_row *rr, bool create)
{
	json_t *rest = json_copy(r->json), *errs = json_array();
	json_t *conds = json_object_get(r->json, "conditions"), *acts = json_object_get(r->json, "actions");
	struct rule_in in = { rr->name, rr->position, rr->enabled, rr->on_create, rr->on_update, rr->stop };
	struct jseen seen;
	struct rule compiled;
	struct err e;

	json_object_del(rest, "conditions");
	json_object_del(rest, "actions");
	jschema_parse(rest, rule_fields, ARRAY_SIZE(rule_fields), &in, &seen, errs);
	json_decref(rest);
	if (create && !in.name)
		jschema_error(errs, "name", "is required");
	if (create && !conds)
		jschema_error(errs, "conditions", "is required (an empty array matches every ticket)");
	if (create && !acts)
		jschema_error(errs, "actions", "is required");
	if (!json_array_size(errs)) {
		json_t *c = conds ? conds : json_loads(rr->conditions, 0, NULL);
		json_t *a = acts ? acts : json_loads(rr->actions, 0, NULL);
		if (rule_compile(c, a, &compiled, &e) != RC_OK)
			jschema_error(errs, e.field, e.msg);
		else {
			char *cs = json_dumps(c, JSON_COMPACT), *as = json_dumps(a, JSON_COMPACT);
			rr->conditions = arena_strdup(r->a, cs);
			rr->actions = arena_strdup(r->a, as);
			free(cs);
			free(as);
		}
		if (!conds)
			json_decref(c);
		if (!acts)
			json_decref(a);
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	rr->name = in.name;
	rr->position = (int)in.position;
	rr->enabled = in.enabled;
	rr->on_create = in.on_create;
	rr->on_update = in.on_update;
	rr->stop = in.stop;
	return true;
}

static void rule_written(struct req *r)
{
	struct rule_row rr;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	tickets_rules_changed();
	if (r->w.kind == W_RULE_DELETE) {
		req_text(r, 204, NULL, "", 0);
		return;
	}
	if (!find_rule(r, r->w.id, &rr))
		return;
	req_etag(r, rr.version);
	if (!r->w.if_version && r->w.in.rule.id == 0)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/triage-rules/%" PRId64, rr.id));
	req_json(r, r->w.in.rule.id == 0 ? 201 : 200, rule_json(&rr));
}

void h_rule_create(struct req *r)
{
	struct rule_row rr = { 0 };

	rr.enabled = rr.on_create = true;
	if (!rule_parse(r, &rr, true))
		return;
	req_write_init(r, W_RULE_PUT, "rule.create", "triage_rule");
	r->w.in.rule = rr;
	r->w.audit.detail = rr.name;
	req_write(r, rule_written);
}

void h_rule_list(struct req *r)
{
	struct rule_rows rows;
	struct err e;
	json_t *items;

	if (store_rules_list(r->srv->store, r->a, &rows, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < rows.n; i++)
		json_array_append_new(items, rule_json(&rows.items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", items));
}

void h_rule_get(struct req *r)
{
	struct rule_row rr;

	if (!find_rule(r, r->params[0], &rr))
		return;
	req_etag(r, rr.version);
	req_json(r, 200, rule_json(&rr));
}

void h_rule_patch(struct req *r)
{
	struct rule_row rr;
	int64_t version;

	if (!req_if_match(r, &version) || !find_rule(r, r->params[0], &rr) || !rule_parse(r, &rr, false))
		return;
	req_write_init(r, W_RULE_PUT, "rule.update", "triage_rule");
	r->w.in.rule = rr;
	r->w.if_version = version;
	req_write(r, rule_written);
}

void h_rule_delete(struct req *r)
{
	req_write_init(r, W_RULE_DELETE, "rule.delete", "triage_rule");
	r->w.id = r->params[0];
	req_write(r, rule_written);
}

/* POST /triage-rules/dry-run {ticket: {...}, on?: "create"|"update",
 * rule?: {conditions, actions}}: which rules match a ticket and why. */
void h_rule_dry_run(struct req *r)
{
	json_t *tk = json_object_get(r->json, "ticket"), *draft = json_object_get(r->json, "rule");
	const char *on = json_string_value(json_object_get(r->json, "on"));
	json_t *errs = json_array(), *matched, *trace_j, *result;
	struct rule_input in = { 0 };
	struct rule *rules = NULL;
	struct rule_rows rows;
	struct rule_actions act;
	struct rule_trace *trace;
	size_t n = 0, nt = 0;
	struct err e;
	int v;

	{
		static const char *const top[] = { "ticket", "on", "rule", NULL };
		static const char *const tkeys[] = { "client_id", "requester_contact_id", "device_id",
			"subject", "description", "category", "channel", "type", "priority", "impact",
			"urgency", NULL };
		const char *key;
		json_t *member;
		json_object_foreach(r->json, key, member)
			if (name_index(top, key) < 0)
				jschema_error(errs, key, "unknown field");
		if (json_is_object(tk))
			json_object_foreach(tk, key, member) {
				char field[80];
				snprintf(field, sizeof(field), "ticket.%.60s", key);
				if (name_index(tkeys, key) < 0)
					jschema_error(errs, field, "unknown field");
			}
		if (json_object_get(tk, "channel") && name_index(channel_names, json_string_value(json_object_get(tk, "channel"))) < 0)
			jschema_error(errs, "ticket.channel", "is not a channel");
		if (json_object_get(tk, "type") && name_index(ttype_names, json_string_value(json_object_get(tk, "type"))) < 0)
			jschema_error(errs, "ticket.type", "is not a ticket type");
		if (json_object_get(tk, "priority") && name_index(prio_names, json_string_value(json_object_get(tk, "priority"))) < 0)
			jschema_error(errs, "ticket.priority", "must be P1, P2, P3 or P4");
		if (json_object_get(tk, "impact") && name_index(level_names, json_string_value(json_object_get(tk, "impact"))) < 0)
			jschema_error(errs, "ticket.impact", "must be low, medium or high");
		if (json_object_get(tk, "urgency") && name_index(level_names, json_string_value(json_object_get(tk, "urgency"))) < 0)
			jschema_error(errs, "ticket.urgency", "must be low, medium or high");
	}
	if (!json_is_object(tk))
		jschema_error(errs, "ticket", "must be an object with the ticket's fields");
	if (on && strcmp(on, "create") && strcmp(on, "update"))
		jschema_error(errs, "on", "must be create or update");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	in.client_id = json_integer_value(json_object_get(tk, "client_id"));
	in.requester_contact_id = json_integer_value(json_object_get(tk, "requester_contact_id"));
	in.device_id = json_integer_value(json_object_get(tk, "device_id"));
	in.subject = json_string_value(json_object_get(tk, "subject"));
	in.description = json_string_value(json_object_get(tk, "description"));
	in.category = json_string_value(json_object_get(tk, "category"));
	v = name_index(channel_names, json_string_value(json_object_get(tk, "channel")));
	in.channel = v < 0 ? CH_API : (enum channel)v;
	v = name_index(ttype_names, json_string_value(json_object_get(tk, "type")));
	in.type = v < 0 ? TT_INCIDENT : (enum ttype)v;
	v = name_index(prio_names, json_string_value(json_object_get(tk, "priority")));
	if (v < 0) {
		int im = name_index(level_names, json_string_value(json_object_get(tk, "impact")));
		int ur = name_index(level_names, json_string_value(json_object_get(tk, "urgency")));
		struct prio_matrix m = prio_matrix_default;
		if (in.client_id)
			tickets_matrix_of(r, in.client_id, &m);
		v = (int)priority_of(&m, im < 0 ? LV_MEDIUM : (enum level)im, ur < 0 ? LV_MEDIUM : (enum level)ur);
	}
	in.priority = (enum prio)v;

	if (draft) {
		rules = arena_alloc(r->a, sizeof(*rules));
		if (!rules || rule_compile(json_object_get(draft, "conditions"),
					   json_object_get(draft, "actions"), rules, &e) != RC_OK) {
			char field[80];
			snprintf(field, sizeof(field), "rule.%s", e.field);
			jschema_error(errs, field, e.msg);
			req_invalid(r, errs);
			return;
		}
		rules->on_create = rules->on_update = true;
		n = 1;
	} else {
		if (store_rules_list(r->srv->store, r->a, &rows, &e) != RC_OK) {
			json_decref(errs);
			req_fail(r, e.code, &e);
			return;
		}
		rules = arena_alloc(r->a, sizeof(*rules) * (rows.n + 1));
		for (size_t i = 0; rules && i < rows.n; i++) {
			json_t *c = json_loads(rows.items[i].conditions, 0, NULL);
			json_t *a = json_loads(rows.items[i].actions, 0, NULL);
			arena_defer(r->a, (void (*)(void *))json_decref, c);
			arena_defer(r->a, (void (*)(void *))json_decref, a);
			if (!rows.items[i].enabled || rule_compile(c, a, &rules[n], &e) != RC_OK)
				continue;
			rules[n].id = rows.items[i].id;
			rules[n].on_create = rows.items[i].on_create;
			rules[n].on_update = rows.items[i].on_update;
			rules[n].stop = rows.items[i].stop;
			n++;
		}
	}
	json_decref(errs);
	trace = arena_alloc(r->a, sizeof(*trace) * (n + 1));
	if (!rules || !trace) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	triage_eval(rules, n, !on || !strcmp(on, "create"), &in, &act, trace, &nt);
	matched = json_array();
	trace_j = json_array();
	for (size_t i = 0; i < nt; i++) {
		if (trace[i].matched)
			json_array_append_new(matched, json_integer(trace[i].rule_id));
		json_array_append_new(trace_j, json_pack("{s:I,s:b,s:s}", "rule_id", (json_int_t)trace[i].rule_id,
							 "matched", trace[i].matched, "why", trace[i].why));
	}
	result = json_pack("{s:s?,s:s?,s:s?}", "queue", act.queue, "category", act.category, "note", act.note);
	json_object_set_new(result, "tier", act.tier ? json_integer(act.tier) : json_null());
	json_object_set_new(result, "priority", act.priority >= 0 ? json_string(prio_names[act.priority])
							     : json_string(prio_names[in.priority]));
	json_object_set_new(result, "assignee_id", act.assignee_id ? json_integer(act.assignee_id) : json_null());
	{
		json_t *tags = json_array();
		for (int i = 0; i < act.ntags; i++)
			json_array_append_new(tags, json_string(act.tags[i]));
		json_object_set_new(result, "tags", tags);
	}
	req_json(r, 200, json_pack("{s:o,s:o,s:o}", "matched", matched, "trace", trace_j, "result", result));
}

/* ---- escalation rules -------------------------------------------------------------------------- */

static json_t *esc_json(const struct esc_rule_row *er)
{
	return json_pack("{s:I,s:s,s:s,s:I,s:s?,s:o,s:b,s:b,s:o,s:o}", "id", (json_int_t)er->id,
			 "name", er->name, "kind", er->kind, "minutes", (json_int_t)er->minutes,
			 "priority", er->priority, "raise_to_tier",
			 er->raise_to_tier ? json_integer(er->raise_to_tier) : json_null(),
			 "notify", er->notify, "enabled", er->enabled,
			 "created_at", json_instant(er->created_at), "updated_at", json_instant(er->updated_at));
}

static bool find_esc(struct req *r, int64_t id, struct esc_rule_row *out)
{
	struct esc_rule_rows rows;
	struct err e;

	if (store_esc_rules_list(r->srv->store, r->a, &rows, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return false;
	}
	for (size_t i = 0; i < rows.n; i++)
		if (rows.items[i].id == id) {
			*out = rows.items[i];
			return true;
		}
	req_problem(r, 404, "not-found", "Not found", "escalation rule not found");
	return false;
}

struct esc_in {
	const char *name, *kind, *priority;
	int64_t minutes, raise_to_tier;
	bool notify, enabled;
};

static const char *const prio_choices[] = { "P1", "P2", "P3", "P4", NULL };

static const struct jfield esc_fields[] = {
	{ "name", JT_STRING, 0, offsetof(struct esc_in, name), 1, 200, NULL },
	{ "kind", JT_ENUM, 0, offsetof(struct esc_in, kind), 0, 0, esc_kind_names },
	{ "minutes", JT_INT, 0, offsetof(struct esc_in, minutes), 1, 525600, NULL },
	{ "priority", JT_ENUM, JF_NULLABLE, offsetof(struct esc_in, priority), 0, 0, prio_choices },
	{ "raise_to_tier", JT_INT, JF_NULLABLE, offsetof(struct esc_in, raise_to_tier), 2, 3, NULL },
	{ "notify", JT_BOOL, 0, offsetof(struct esc_in, notify), 0, 0, NULL },
	{ "enabled", JT_BOOL, 0, offsetof(struct esc_in, enabled), 0, 0, NULL },
};

static bool esc_parse(struct req *r, struct esc_rule_row *er, bool create)
{
	struct esc_in in = { er->name, er->kind, er->priority, er->minutes, er->raise_to_tier,
			     er->notify, er->enabled };
	struct jseen seen;
	json_t *errs = json_array();

	jschema_parse(r->json, esc_fields, ARRAY_SIZE(esc_fields), &in, &seen, errs);
	if (create)
		for (size_t i = 0; i < 3; i++)
			if (!(seen.present & (1u << i)))
				jschema_error(errs, esc_fields[i].name, "is required");
	if (seen.nulls & (1u << 3))
		in.priority = NULL;
	if (seen.nulls & (1u << 4))
		in.raise_to_tier = 0;
	if (!json_array_size(errs) && !in.raise_to_tier && !in.notify)
		jschema_error(errs, "raise_to_tier", "a rule must raise the tier, notify, or both");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	er->name = in.name;
	er->kind = in.kind;
	er->priority = in.priority;
	er->minutes = in.minutes;
	er->raise_to_tier = (int)in.raise_to_tier;
	er->notify = in.notify;
	er->enabled = in.enabled;
	return true;
}

static void esc_written(struct req *r)
{
	struct esc_rule_row er;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (r->w.kind == W_RULE_DELETE) {
		req_text(r, 204, NULL, "", 0);
		return;
	}
	if (!find_esc(r, r->w.id, &er))
		return;
	req_etag(r, er.version);
	req_json(r, r->w.in.esc.id == 0 ? 201 : 200, esc_json(&er));
}

void h_esc_rule_create(struct req *r)
{
	struct esc_rule_row er = { 0 };

	er.enabled = true;
	if (!esc_parse(r, &er, true))
		return;
	req_write_init(r, W_ESC_RULE_PUT, "escalation_rule.create", "escalation_rule");
	r->w.in.esc = er;
	req_write(r, esc_written);
}

void h_esc_rule_list(struct req *r)
{
	struct esc_rule_rows rows;
	struct err e;
	json_t *items;

	if (store_esc_rules_list(r->srv->store, r->a, &rows, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < rows.n; i++)
		json_array_append_new(items, esc_json(&rows.items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", items));
}

void h_esc_rule_patch(struct req *r)
{
	struct esc_rule_row er;
	int64_t version;

	if (!req_if_match(r, &version) || !find_esc(r, r->params[0], &er) || !esc_parse(r, &er, false))
		return;
	req_write_init(r, W_ESC_RULE_PUT, "escalation_rule.update", "escalation_rule");
	r->w.in.esc = er;
	r->w.if_version = version;
	req_write(r, esc_written);
}

void h_esc_rule_delete(struct req *r)
{
	req_write_init(r, W_RULE_DELETE, "escalation_rule.delete", "escalation_rule");
	r->w.id = r->params[0];
	r->w.fields = 1; /* the escalation rules table */
	req_write(r, esc_written);
}

/* ---- the test clock (itsup serve --test-clock only) ---------------------------------------------- */

struct clock_in {
	int64_t now, advance;
};

static const struct jfield clock_fields[] = {
	{ "now", JT_INSTANT, 0, offsetof(struct clock_in, now), 0, 0, NULL },
	{ "advance_seconds", JT_INT, 0, offsetof(struct clock_in, advance), 0, 10LL * 365 * 86400, NULL },
};

void h_test_clock(struct req *r)
{
	struct clock_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct jobs_result jr;
	struct notify_result nr;
	int64_t now;

	jschema_parse(r->json, clock_fields, ARRAY_SIZE(clock_fields), &in, &seen, errs);
	if (!json_array_size(errs) && (seen.present & 3) != 1 && (seen.present & 3) != 2)
		jschema_error(errs, "now", "give either now or advance_seconds");
	if (!json_array_size(errs) && (seen.present & 1) && in.now < clock_now_ms())
		jschema_error(errs, "now", "the test clock only moves forward");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	now = (seen.present & 1) ? in.now : clock_now_ms() + in.advance * 1000;
	clock_test_set(now);
	/* Every due timer runs before the call answers, on fresh reads (not
	 * this request's snapshot). */
	store_read_end(r->srv->store);
	jr = jobs_run_once(r->srv, now);
	memset(&nr, 0, sizeof(nr));
	if (jr.leader)
		notify_run(r->srv, now, &nr);
	req_json(r, 200, json_pack("{s:o,s:{s:i,s:i,s:b,s:i,s:i,s:{s:i,s:i,s:i,s:i}}}", "now",
				   json_instant(now), "ran", "escalated", jr.escalated, "closed", jr.closed,
				   "leader", jr.leader, "monitor_tickets", jr.monitor_tickets, "heartbeats",
				   jr.offline, "outbox", "expanded", nr.expanded, "sent", nr.sent, "retried",
				   nr.retried, "failed", nr.failed));
}
