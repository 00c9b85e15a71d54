/*
 * api_tickets.c: tickets from intake to closure.
 *
 * Every change follows one shape: read the ticket in the caller's scope,
 * let the pure functions of ticket/ decide (status moves, replies,
 * escalation, FCR, priority, triage rules), then write the whole new row
 * with its timeline events and outbox rows in one store write guarded by
 * the version read. If someone else changed the ticket in between, the
 * store answers RC_STALE and the handler decides again from the new state
 * (a client's own If-Match is never retried: it gets 412).
 *
 * What client roles may do: create tickets for their organisation (a
 * client_user for themselves), read what the store lets them see, reply
 * (never an internal note), and rate a resolved ticket. Fields only staff
 * set (priority, status, queue, tier, assignee, channel, device, and in a
 * PATCH type, impact and urgency) are 403 with the fields named. Tags are
 * set by triage rules.
 */
#include "base/common.h"

#include <pthread.h>
#include <sodium.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"
#include "base/log.h"
#include "jobs/sla_track.h"
#include "ticket/ticket.h"

#define MAX_RETRIES 32 /* each round, at least one of the racing writers wins */
#define CSAT_DAYS 14

static bool staff(const struct req *r)
{
	return role_is_staff(r->scope.role);
}

/* ---- rendering ------------------------------------------------------------------------- */

static json_t *tags_json(const char *tags)
{
	json_t *v = tags ? json_loads(tags, 0, NULL) : NULL;
	return json_is_array(v) ? v : (json_decref(v), json_array());
}

static const char *csat_url(struct req *r, const struct ticket *t);
static bool assignee_ok(struct req *r, int64_t id, json_t *errs);

static json_t *ticket_json(struct req *r, const struct ticket *t)
{
	json_t *o = json_object();
	bool st = staff(r);

	json_object_set_new_nocheck(o, "id", json_integer(t->id));
	json_object_set_new_nocheck(o, "number", json_sprintf("T-%06" PRId64, t->number));
	json_object_set_new_nocheck(o, "client_id", json_integer(t->client_id));
	json_object_set_new_nocheck(o, "requester_contact_id", t->requester_contact_id ? json_integer(t->requester_contact_id) : json_null());
	json_object_set_new_nocheck(o, "requester_user_id", t->requester_user_id ? json_integer(t->requester_user_id) : json_null());
	json_object_set_new_nocheck(o, "subject", json_string(t->subject));
	json_object_set_new_nocheck(o, "description", json_string(t->description));
	json_object_set_new_nocheck(o, "type", json_string_nocheck(ttype_names[t->type]));
	json_object_set_new_nocheck(o, "category", json_str_or_null(t->category));
	json_object_set_new_nocheck(o, "impact", json_string_nocheck(level_names[t->impact]));
	json_object_set_new_nocheck(o, "urgency", json_string_nocheck(level_names[t->urgency]));
	json_object_set_new_nocheck(o, "priority", json_string_nocheck(prio_names[t->priority]));
	json_object_set_new_nocheck(o, "status", json_string_nocheck(tstatus_names[t->status]));
	json_object_set_new_nocheck(o, "channel", json_string_nocheck(channel_names[t->channel]));
	json_object_set_new_nocheck(o, "queue", json_string(t->queue));
	json_object_set_new_nocheck(o, "tier", json_integer(t->tier));
	json_object_set_new_nocheck(o, "vendor", json_str_or_null(t->vendor));
	json_object_set_new_nocheck(o, "assignee_id", t->assignee_id ? json_integer(t->assignee_id) : json_null());
	json_object_set_new_nocheck(o, "device_id", t->device_id ? json_integer(t->device_id) : json_null());
	json_object_set_new_nocheck(o, "parent_id", t->parent_id ? json_integer(t->parent_id) : json_null());
	json_object_set_new_nocheck(o, "created_at", json_instant(t->created_at));
	json_object_set_new_nocheck(o, "updated_at", json_instant(t->updated_at));
	json_object_set_new_nocheck(o, "first_response_at", json_instant(t->first_response_at));
	json_object_set_new_nocheck(o, "resolved_at", json_instant(t->resolved_at));
	json_object_set_new_nocheck(o, "closed_at", json_instant(t->closed_at));
	json_object_set_new_nocheck(o, "fcr", t->fcr < 0 ? json_null() : json_boolean(t->fcr));
	json_object_set_new_nocheck(o, "reopens", json_integer(t->reopens));
	json_object_set_new_nocheck(o, "sla", sla_json(t, st));
	if (st) {
		json_object_set_new_nocheck(o, "priority_reason", json_str_or_null(t->priority_reason));
		json_object_set_new_nocheck(o, "vendor_ref", json_str_or_null(t->vendor_ref));
		json_object_set_new_nocheck(o, "tags", tags_json(t->tags));
		json_object_set_new_nocheck(o, "fcr_reason", json_str_or_null(t->fcr_reason));
		json_object_set_new_nocheck(o, "escalations", json_integer(t->escalations));
		json_object_set_new_nocheck(o, "first_handler_id", t->first_handler_id ? json_integer(t->first_handler_id) : json_null());
	} else if (t->status == TS_RESOLVED || t->status == TS_CLOSED) {
		const char *url = csat_url(r, t);
		json_object_set_new_nocheck(o, "csat_url", json_str_or_null(url));
	}
	return o;
}

/* ---- the write being built ---------------------------------------------------------------- */

static struct ticket_write *tw_new(struct req *r)
{
	return arena_alloc(r->a, sizeof(struct ticket_write));
}

/* A JSON text in the arena (steals v). */
static const char *json_text(struct req *r, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);
	const char *out = arena_strdup(r->a, s ? s : "{}");

	free(s);
	json_decref(v);
	return out;
}

static void ev_add(struct req *r, struct ticket_write *tw, const char *kind, bool internal,
		   json_t *data)
{
	if (tw->nev >= TW_MAX_EVENTS) {
		json_decref(data);
		return;
	}
	tw->ev[tw->nev].kind = kind;
	tw->ev[tw->nev].internal = internal;
	tw->ev[tw->nev].data = json_text(r, data);
	tw->nev++;
}

static void ob_add(struct req *r, struct ticket_write *tw, const char *event, json_t *payload)
{
	if (tw->nob >= TW_MAX_OUTBOX) {
		json_decref(payload);
		return;
	}
	json_object_set_new(payload, "ticket_id", json_integer(tw->t.id));
	json_object_set_new(payload, "number", json_sprintf("T-%06" PRId64, tw->t.number));
	tw->ob[tw->nob].event = event;
	tw->ob[tw->nob].payload = json_text(r, payload);
	tw->nob++;
}

static void state_from(const struct ticket *t, struct ticket_state *s)
{
	s->status = t->status;
	s->tier = t->tier;
	s->assignee_id = t->assignee_id;
	s->first_response_at = t->first_response_at;
	s->resolved_at = t->resolved_at;
	s->closed_at = t->closed_at;
	s->first_handler_id = t->first_handler_id;
	s->resolved_by = t->resolved_by;
	s->resolved_tier = t->resolved_tier;
	s->escalations = t->escalations;
	s->tier_changes = t->tier_changes;
	s->reopens = t->reopens;
	s->early_reopens = t->early_reopens;
	s->fcr = t->fcr;
	s->fcr_reason = t->fcr_reason;
	s->vendor = t->vendor;
}

static void state_to(const struct ticket_state *s, struct ticket *t)
{
	t->status = s->status;
	t->tier = s->tier;
	t->assignee_id = s->assignee_id;
	t->first_response_at = s->first_response_at;
	t->resolved_at = s->resolved_at;
	t->closed_at = s->closed_at;
	t->first_handler_id = s->first_handler_id;
	t->resolved_by = s->resolved_by;
	t->resolved_tier = s->resolved_tier;
	t->escalations = s->escalations;
	t->tier_changes = s->tier_changes;
	t->reopens = s->reopens;
	t->early_reopens = s->early_reopens;
	t->fcr = s->fcr;
	t->fcr_reason = s->fcr_reason;
	t->vendor = s->vendor;
}

/* The SLA clocks of a ticket write (jobs/sla_track.h): a new ticket takes
 * the policy of its client's active contract, or the default policy. */
static void track_sla(struct req *r, const struct ticket *old, struct ticket_write *tw, int64_t now)
{
	struct sla_world *w;
	struct err e;
	int64_t pid = 0;

	/* Without the world the clock events still join the log (the clocks
	 * catch up at the next replay); only this replay is skipped. */
	if (sla_world_get(r->srv->store, &w, &e) != RC_OK) {
		log_event(LOG_ERROR, "sla", json_pack("{s:s}", "error", e.msg));
		w = NULL;
	}
	if (!old || !tw->t.id) {
		int64_t y;
		unsigned m, d;
		char day[16];
		civil_from_days(now / 86400000, &y, &m, &d);
		snprintf(day, sizeof(day), "%04" PRId64 "-%02u-%02u", y, m, d);
		if (store_sla_policy_for(r->srv->store, tw->t.client_id, day, &pid, &e) != RC_OK)
			pid = 0;
	}
	sla_track(w, old, tw, pid, now, NULL, r->a);
	sla_world_put(w);
}

/* The effects of a status move: timeline and outbox. */
static void status_events(struct req *r, struct ticket_write *tw, enum tstatus from,
			  const struct status_effects *fx, const char *why)
{
	json_t *d = json_pack("{s:s,s:s}", "from", tstatus_names[from], "to",
			      tstatus_names[tw->t.status]);

	if (why)
		json_object_set_new(d, "reason", json_string(why));
	ev_add(r, tw, "status", false, d);
	if (fx->fcr_decided)
		ev_add(r, tw, "fcr", true, json_pack("{s:b,s:s}", "fcr", tw->t.fcr == 1, "reason",
						     tw->t.fcr_reason ? tw->t.fcr_reason : ""));
	if (fx->resolved) {
		const char *url = csat_url(r, &tw->t);
		ob_add(r, tw, "ticket.resolved", json_pack("{s:s?}", "csat_url", url));
	}
	if (fx->reopened)
		ob_add(r, tw, "ticket.reopened", json_object());
}

/* ---- CSAT links: HMAC-SHA256 over "csat:<ticket>:<expires>" --------------------------------- */

static bool signing_key(struct req *r, unsigned char key[32])
{
	const char *hex = NULL;
	struct err e;
	size_t n = 0;

	if (store_setting_get(r->srv->store, SETTING_SIGNING_KEY, r->a, &hex, &e) != RC_OK || !hex)
		return false;
	return sodium_hex2bin(key, 32, hex, strlen(hex), NULL, &n, NULL) == 0 && n == 32;
}

static bool csat_sig(struct req *r, int64_t ticket_id, int64_t expires, char out[65])
{
	unsigned char key[32], mac[32];
	char msg[80];

	if (!signing_key(r, key))
		return false;
	snprintf(msg, sizeof(msg), "csat:%" PRId64 ":%" PRId64, ticket_id, expires);
	crypto_auth_hmacsha256(mac, (const unsigned char *)msg, strlen(msg), key);
	sodium_memzero(key, sizeof(key));
	hex_encode(mac, 32, out);
	return true;
}

static const char *csat_url(struct req *r, const struct ticket *t)
{
	char sig[65];
	int64_t expires;

	if (!t->resolved_at)
		return NULL;
	expires = t->resolved_at + (int64_t)CSAT_DAYS * 86400000;
	if (!csat_sig(r, t->id, expires, sig))
		return NULL;
	return arena_printf(r->a, "/api/v1/csat/%" PRId64 "?expires=%" PRId64 "&sig=%s", t->id,
			    expires, sig);
}

/* ---- triage rules, compiled once per change of the rule set --------------------------------- */

struct ruleset {
	int refs;
	uint64_t gen;
	json_t *holder;       /* keeps the rules' strings alive */
	struct rule *rules;
	size_t n;
};

static pthread_mutex_t rules_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ruleset *rules_cur;
static uint64_t rules_gen = 1;

static void ruleset_put(struct ruleset *rs)
{
	bool last;

	if (!rs)
		return;
	pthread_mutex_lock(&rules_mu);
	last = --rs->refs == 0;
	pthread_mutex_unlock(&rules_mu);
	if (last) {
		json_decref(rs->holder);
		free(rs->rules);
		free(rs);
	}
}

static void ruleset_put_v(void *p)
{
	ruleset_put(p);
}

void tickets_rules_changed(void)
{
	pthread_mutex_lock(&rules_mu);
	rules_gen++;
	pthread_mutex_unlock(&rules_mu);
}

static struct ruleset *ruleset_load(struct req *r, uint64_t gen)
{
	struct rule_rows rows;
	struct err e;
	struct ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs || store_rules_list(r->srv->store, r->a, &rows, &e) != RC_OK) {
		free(rs);
		return NULL;
	}
	rs->refs = 1;
	rs->gen = gen;
	rs->holder = json_array();
	rs->rules = calloc(rows.n ? rows.n : 1, sizeof(struct rule));
	if (!rs->rules) {
		json_decref(rs->holder);
		free(rs);
		return NULL;
	}
	for (size_t i = 0; i < rows.n; i++) {
		json_t *c = json_loads(rows.items[i].conditions, 0, NULL);
		json_t *a = json_loads(rows.items[i].actions, 0, NULL);
		struct rule *ru = &rs->rules[rs->n];
		json_array_append_new(rs->holder, c ? c : json_null());
		json_array_append_new(rs->holder, a ? a : json_null());
		if (!rows.items[i].enabled || rule_compile(c, a, ru, &e) != RC_OK)
			continue;
		ru->id = rows.items[i].id;
		ru->name = NULL;
		ru->on_create = rows.items[i].on_create;
		ru->on_update = rows.items[i].on_update;
		ru->stop = rows.items[i].stop;
		rs->n++;
	}
	return rs;
}

/* The current compiled rule set, held by the request until it completes. */
static struct ruleset *rules_get(struct req *r)
{
	struct ruleset *rs;
	uint64_t gen;

	pthread_mutex_lock(&rules_mu);
	gen = rules_gen;
	rs = rules_cur && rules_cur->gen == gen ? rules_cur : NULL;
	if (rs)
		rs->refs++;
	pthread_mutex_unlock(&rules_mu);
	if (!rs) {
		rs = ruleset_load(r, gen);
		if (!rs)
			return NULL;
		pthread_mutex_lock(&rules_mu);
		if (!rules_cur || rules_cur->gen < gen) {
			struct ruleset *old = rules_cur;
			rs->refs++;
			rules_cur = rs;
			if (old && --old->refs == 0) {
				json_decref(old->holder);
				free(old->rules);
				free(old);
			}
		}
		pthread_mutex_unlock(&rules_mu);
	}
	arena_defer(r->a, ruleset_put_v, rs);
	return rs;
}

static void rule_input_of(const struct ticket *t, struct rule_input *in)
{
	in->channel = t->channel;
	in->client_id = t->client_id;
	in->requester_contact_id = t->requester_contact_id;
	in->device_id = t->device_id;
	in->type = t->type;
	in->category = t->category;
	in->subject = t->subject;
	in->description = t->description;
	in->priority = t->priority;
}

/* Runs the triage rules on tw->t and applies their actions, with a
 * timeline event per matching rule. */
static void run_rules(struct req *r, struct ticket_write *tw, bool creating)
{
	struct ruleset *rs = rules_get(r);
	struct rule_input in;
	struct rule_actions act;
	struct rule_trace *trace;
	size_t nt = 0;
	struct ticket *t = &tw->t;

	if (!rs || !rs->n)
		return;
	trace = arena_alloc(r->a, sizeof(*trace) * rs->n);
	if (!trace)
		return;
	rule_input_of(t, &in);
	if (!triage_eval(rs->rules, rs->n, creating, &in, &act, trace, &nt))
		return;
	for (size_t i = 0; i < nt; i++)
		if (trace[i].matched)
			ev_add(r, tw, "rule_matched", true,
			       json_pack("{s:I,s:s}", "rule_id", (json_int_t)trace[i].rule_id, "why", trace[i].why));
	if (act.queue)
		t->queue = arena_strdup(r->a, act.queue);
	if (act.category)
		t->category = arena_strdup(r->a, act.category);
	if (act.tier && act.tier != t->tier) {
		t->tier = act.tier;
		t->tier_changes += creating ? 0 : 1;
	}
	if (act.priority >= 0 && (enum prio)act.priority != t->priority) {
		t->priority = (enum prio)act.priority;
		t->priority_reason = "set by a triage rule";
	}
	if (act.assignee_id) {
		/* A rule naming someone who left is skipped, and says so. */
		json_t *errs = json_array();
		if (assignee_ok(r, act.assignee_id, errs))
			t->assignee_id = act.assignee_id;
		else
			ev_add(r, tw, "rule_skipped", true, json_pack("{s:I,s:s}", "assignee_id",
				(json_int_t)act.assignee_id, "why", "not an active staff user"));
		json_decref(errs);
	}
	if (act.ntags) {
		json_t *tags = tags_json(t->tags);
		for (int i = 0; i < act.ntags; i++) {
			bool dup = false;
			size_t k;
			json_t *x;
			json_array_foreach(tags, k, x)
				dup = dup || !strcmp(json_string_value(x), act.tags[i]);
			if (!dup)
				json_array_append_new(tags, json_string(act.tags[i]));
		}
		t->tags = json_text(r, tags);
	}
	if (act.note && !tw->has_msg) {
		tw->has_msg = true;
		tw->msg.kind = "note";
		tw->msg.body = arena_strdup(r->a, act.note);
	}
}

/* ---- create ------------------------------------------------------------------------------------- */

struct ticket_in {
	int64_t client_id, requester_contact_id, assignee_id, device_id, tier;
	const char *subject, *description, *type, *category, *impact, *urgency, *priority;
	const char *priority_reason, *channel, *queue;
};

static const char *const lv_choices[] = { "low", "medium", "high", NULL };
static const char *const prio_choices[] = { "P1", "P2", "P3", "P4", NULL };
static const char *const status_choices[] = { "new", "open", "pending_customer", "pending_vendor",
					      "on_hold", "resolved", "closed", NULL };

enum { TF_CLIENT, TF_RCONTACT, TF_ASSIGNEE, TF_DEVICE, TF_TIER, TF_SUBJECT, TF_DESC, TF_TYPE,
       TF_CATEGORY, TF_IMPACT, TF_URGENCY, TF_PRIORITY, TF_PREASON, TF_CHANNEL, TF_QUEUE,
       TF_COUNT };

static const struct jfield create_fields[TF_COUNT] = {
	[TF_CLIENT] = { "client_id", JT_INT, 0, offsetof(struct ticket_in, client_id), 1, INT64_MAX, NULL },
	[TF_RCONTACT] = { "requester_contact_id", JT_INT, JF_NULLABLE, offsetof(struct ticket_in, requester_contact_id), 1, INT64_MAX, NULL },
	[TF_ASSIGNEE] = { "assignee_id", JT_INT, JF_NULLABLE, offsetof(struct ticket_in, assignee_id), 1, INT64_MAX, NULL },
	[TF_DEVICE] = { "device_id", JT_INT, JF_NULLABLE, offsetof(struct ticket_in, device_id), 1, INT64_MAX, NULL },
	[TF_TIER] = { "tier", JT_INT, 0, offsetof(struct ticket_in, tier), 1, 3, NULL },
	[TF_SUBJECT] = { "subject", JT_STRING, 0, offsetof(struct ticket_in, subject), 1, 300, NULL },
	[TF_DESC] = { "description", JT_TEXT, 0, offsetof(struct ticket_in, description), 0, 100000, NULL },
	[TF_TYPE] = { "type", JT_ENUM, 0, offsetof(struct ticket_in, type), 0, 0, ttype_names },
	[TF_CATEGORY] = { "category", JT_STRING, JF_NULLABLE, offsetof(struct ticket_in, category), 1, 100, NULL },
	[TF_IMPACT] = { "impact", JT_ENUM, 0, offsetof(struct ticket_in, impact), 0, 0, lv_choices },
	[TF_URGENCY] = { "urgency", JT_ENUM, 0, offsetof(struct ticket_in, urgency), 0, 0, lv_choices },
	[TF_PRIORITY] = { "priority", JT_ENUM, 0, offsetof(struct ticket_in, priority), 0, 0, prio_choices },
	[TF_PREASON] = { "priority_reason", JT_STRING, 0, offsetof(struct ticket_in, priority_reason), 1, 500, NULL },
	[TF_CHANNEL] = { "channel", JT_ENUM, 0, offsetof(struct ticket_in, channel), 0, 0, channel_names },
	[TF_QUEUE] = { "queue", JT_STRING, 0, offsetof(struct ticket_in, queue), 1, 100, NULL },
};

#define HAS(seen, f) (((seen).present >> (f)) & 1u)

/* 403 naming each staff-only field a client role sent. */
static bool client_fields_ok(struct req *r, const struct jseen *seen, const int *staff_only,
			     size_t n, const struct jfield *fields)
{
	json_t *errs;

	if (staff(r))
		return true;
	errs = json_array();
	for (size_t i = 0; i < n; i++)
		if (HAS(*seen, staff_only[i]))
			jschema_error(errs, fields[staff_only[i]].name, "only provider staff may set this");
	if (!json_array_size(errs)) {
		json_decref(errs);
		return true;
	}
	{
		json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:o}", "type", "https://itsup.dev/problems/forbidden-field",
				      "title", "Forbidden field", "status", 403, "detail",
				      "these fields are set by provider staff only", "errors", errs);
		req_json(r, 403, p);
		r->ctype = "application/problem+json";
	}
	return false;
}

/* The client's priority matrix (its override, else the default). */
void tickets_matrix_of(struct req *r, int64_t client_id, struct prio_matrix *m)
{
	struct client c;
	struct err e;
	struct scope sys = scope_system();
	char field[64];

	*m = prio_matrix_default;
	if (store_client_get(r->srv->store, &sys, client_id, r->a, &c, &e) == RC_OK &&
	    c.priority_matrix)
		prio_matrix_parse(c.priority_matrix, m, field, sizeof(field));
}

/* The assignee must be an active member of the provider's staff. */
static bool assignee_ok(struct req *r, int64_t id, json_t *errs)
{
	struct scope sys = scope_system();
	struct user u;
	struct err e;

	if (store_user_get(r->srv->store, &sys, id, r->a, &u, &e) != RC_OK || !u.active ||
	    !role_is_staff(u.role)) {
		jschema_error(errs, "assignee_id", "must be an active staff user");
		return false;
	}
	return true;
}

static void answer_ticket(struct req *r, int64_t id, int status)
{
	struct ticket t;
	struct err e;
	enum result rc = store_ticket_get(r->srv->store, &r->scope, id, r->a, &t, &e);

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	req_etag(r, t.version);
	if (status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/tickets/%" PRId64, t.id));
	req_json(r, status, ticket_json(r, &t));
}

struct create_ctx {
	struct ticket_write *tw;
	int nev;                /* events before the SLA's */
	int tries;
};

static void created_then(struct req *r)
{
	struct create_ctx *cc = r->ctx;

	if (sla_gen_stale(&r->w) && ++cc->tries < SLA_GEN_RETRIES) {
		/* Calendars or policies changed meanwhile: the clocks again. */
		int64_t now = cc->tw->t.created_at;
		cc->tw->nev = cc->nev;
		cc->tw->t.id = 0;
		track_sla(r, NULL, cc->tw, now);
		req_write_init(r, W_TICKET_CREATE, NULL, "ticket");
		r->w.in.tw = cc->tw;
		req_write(r, created_then);
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (r->w.replayed)
		req_header(r, "Idempotent-Replayed", "true");
	answer_ticket(r, r->w.id, 201);
}

void h_ticket_create(struct req *r)
{
	static const int staff_only[] = { TF_ASSIGNEE, TF_TIER, TF_PRIORITY, TF_PREASON,
					  TF_CHANNEL, TF_QUEUE, TF_DEVICE };
	struct ticket_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct ticket_write *tw = tw_new(r);
	struct ticket *t;
	struct prio_matrix m;
	struct create_ctx *cc;
	struct err e;
	int64_t now = clock_now_ms();

	if (!tw) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	t = &tw->t;
	jschema_parse(r->json, create_fields, TF_COUNT, &in, &seen, errs);
	if (!HAS(seen, TF_SUBJECT))
		jschema_error(errs, "subject", "is required");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	if (!client_fields_ok(r, &seen, staff_only, ARRAY_SIZE(staff_only), create_fields)) {
		json_decref(errs);
		return;
	}
	if (HAS(seen, TF_PRIORITY) && !HAS(seen, TF_PREASON))
		jschema_error(errs, "priority_reason", "is required when priority is set by hand");

	/* Organisation and requester. */
	if (!staff(r)) {
		if (HAS(seen, TF_CLIENT) && in.client_id != r->scope.client_id) {
			json_decref(errs);
			req_problem(r, 404, "not-found", "Not found", "client not found");
			return;
		}
		in.client_id = r->scope.client_id;
		if (r->scope.role == ROLE_CLIENT_USER && HAS(seen, TF_RCONTACT))
			jschema_error(errs, "requester_contact_id", "client users open tickets for themselves");
	}
	if (in.requester_contact_id) {
		struct contact c;
		if (store_contact_get(r->srv->store, &r->scope, in.requester_contact_id, r->a, &c, &e) != RC_OK ||
		    (in.client_id && c.client_id != in.client_id))
			jschema_error(errs, "requester_contact_id", "is not a contact of this client");
		else {
			in.client_id = c.client_id;
			if (c.email)
				store_user_by_email(r->srv->store, c.client_id, c.email, &t->requester_user_id, &e);
		}
	}
	if (!in.client_id)
		jschema_error(errs, "client_id", "is required (or a requester_contact_id)");
	if (in.assignee_id)
		assignee_ok(r, in.assignee_id, errs);
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);

	/* A client role opening a ticket without naming a contact opens it
	 * for themselves; naming a colleague's contact (client admins and
	 * client IT) makes that colleague the requester, as for staff. */
	if (!staff(r) && !in.requester_contact_id) {
		struct user me;
		t->requester_user_id = r->scope.user_id;
		if (store_user_get(r->srv->store, &r->scope, r->scope.user_id, r->a, &me, &e) == RC_OK)
			store_contact_by_email(r->srv->store, in.client_id, me.email, &in.requester_contact_id, &e);
	}
	t->client_id = in.client_id;
	t->requester_contact_id = in.requester_contact_id;
	t->subject = in.subject;
	t->description = in.description ? in.description : "";
	t->type = in.type ? (enum ttype)name_index(ttype_names, in.type) : TT_INCIDENT;
	t->category = in.category;
	t->impact = in.impact ? (enum level)name_index(level_names, in.impact) : LV_MEDIUM;
	t->urgency = in.urgency ? (enum level)name_index(level_names, in.urgency) : LV_MEDIUM;
	tickets_matrix_of(r, t->client_id, &m);
	t->priority = priority_of(&m, t->impact, t->urgency);
	t->channel = in.channel ? (enum channel)name_index(channel_names, in.channel)
		     : r->via_cookie ? CH_PORTAL : CH_API;
	t->queue = in.queue ? in.queue : "general";
	t->tier = in.tier ? (int)in.tier : 1;
	t->assignee_id = in.assignee_id;
	t->device_id = in.device_id;
	t->tags = "[]";
	t->status = TS_NEW;
	t->fcr = -1;
	t->created_at = t->last_activity_at = now;

	run_rules(r, tw, true);
	if (in.priority) {
		enum prio p = (enum prio)name_index(prio_names, in.priority);
		ev_add(r, tw, "priority", true, json_pack("{s:s,s:s,s:s}", "from", prio_names[t->priority],
							  "to", in.priority, "reason", in.priority_reason));
		t->priority = p;
		t->priority_reason = in.priority_reason;
	}
	if (t->assignee_id) {
		struct ticket_state s;
		state_from(t, &s);
		ticket_handled_by(&s, t->assignee_id);
		state_to(&s, t);
		t->status = TS_OPEN;
	}
	ob_add(r, tw, "ticket.created", json_pack("{s:s,s:s}", "subject", t->subject, "priority",
						  prio_names[t->priority]));
	cc = arena_alloc(r->a, sizeof(*cc));
	if (!cc) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	cc->tw = tw;
	cc->nev = tw->nev;
	r->ctx = cc;
	track_sla(r, NULL, tw, now);
	req_write_init(r, W_TICKET_CREATE, NULL, "ticket");
	r->w.in.tw = tw;
	req_write(r, created_then);
}

/* ---- read ------------------------------------------------------------------------------------- */

void h_ticket_get(struct req *r)
{
	answer_ticket(r, r->params[0], 200);
}

/* Words of a search become quoted FTS5 terms (all must match), so no
 * FTS5 syntax reaches the index from users. */
static const char *fts_query(struct req *r, const char *q)
{
	struct buf b = BUF_INIT(4096);
	const char *out;
	bool any = false;

	while (*q) {
		const char *w;
		while (*q == ' ' || *q == '\t')
			q++;
		w = q;
		while (*q && *q != ' ' && *q != '\t')
			q++;
		if (q == w)
			break;
		buf_appends(&b, any ? " \"" : "\"");
		for (const char *p = w; p < q; p++)
			buf_append(&b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
		buf_appends(&b, "\"");
		any = true;
	}
	out = any ? arena_strdup(r->a, buf_str(&b)) : NULL;
	buf_release(&b);
	return out;
}

static bool q_int(struct req *r, const char *name, int64_t lo, int64_t hi, int64_t *out,
		  json_t *errs)
{
	const char *v = req_query(r, name);
	char msg[80];

	if (!v)
		return false;
	if (!parse_i64(v, out) || *out < lo || *out > hi) {
		snprintf(msg, sizeof(msg), "must be a number from %" PRId64 " to %" PRId64, lo, hi);
		jschema_error(errs, name, msg);
		return false;
	}
	return true;
}

static int q_enum(struct req *r, const char *name, const char *const *names, json_t *errs)
{
	const char *v = req_query(r, name);
	int i;

	if (!v)
		return -1;
	i = name_index(names, v);
	if (i < 0)
		jschema_error(errs, name, "is not one of the allowed values");
	return i;
}

void h_ticket_list(struct req *r)
{
	struct ticket_q q = { 0 };
	struct ticket_list l;
	json_t *errs = json_array(), *items;
	const char *assignee = req_query(r, "assignee_id"), *text = req_query(r, "q");
	const char *open = req_query(r, "open");
	int64_t v;
	struct err e;
	enum result rc;

	q.status = q_enum(r, "status", tstatus_names, errs);
	q.priority = q_enum(r, "priority", prio_names, errs);
	if (q_int(r, "tier", 1, 3, &v, errs))
		q.tier = (int)v;
	if (q_int(r, "client_id", 1, INT64_MAX, &v, errs))
		q.client_id = v;
	if (q_int(r, "limit", 1, 500, &v, errs))
		q.limit = (int)v;
	if (q_int(r, "cursor", 1, INT64_MAX, &v, errs))
		q.before = v;
	q.queue = req_query(r, "queue");
	if (assignee) {
		if (!strcmp(assignee, "none"))
			q.assignee_id = -1;
		else if (!strcmp(assignee, "me"))
			q.assignee_id = r->scope.user_id;
		else if (!parse_i64(assignee, &q.assignee_id) || q.assignee_id <= 0)
			jschema_error(errs, "assignee_id", "must be a user id, me or none");
	}
	if (open)
		q.open_only = !strcmp(open, "true") || !strcmp(open, "1");
	if (text) {
		if (strlen(text) > 500)
			jschema_error(errs, "q", "must be at most 500 bytes");
		else
			q.fts = fts_query(r, text);
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	rc = store_ticket_list(r->srv->store, &r->scope, &q, r->a, &l, &e);
	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(items, ticket_json(r, &l.items[i]));
	req_json(r, 200, page_json(items, l.next_before));
}

/* The technician console's queue counts (staff only: the route's
 * permission). {items: [{queue, open, unassigned, p1, breached}], truncated},
 * by queue name; see queue_counts in store.h. */
void h_queue_counts(struct req *r)
{
	struct queue_counts qc;
	json_t *errs = json_array(), *items, *o;
	int64_t client_id = 0;
	struct err e;
	enum result rc;

	q_int(r, "client_id", 1, INT64_MAX, &client_id, errs);
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	rc = store_queue_counts(r->srv->store, &r->scope, client_id, r->a, &qc, &e);
	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < qc.n; i++) {
		const struct queue_count *c = &qc.items[i];
		o = json_object();
		json_object_set_new_nocheck(o, "queue", json_string(c->queue));
		json_object_set_new_nocheck(o, "open", json_integer(c->open));
		json_object_set_new_nocheck(o, "unassigned", json_integer(c->unassigned));
		json_object_set_new_nocheck(o, "p1", json_integer(c->p1));
		json_object_set_new_nocheck(o, "breached", json_integer(c->breached));
		json_array_append_new(items, o);
	}
	o = json_object();
	json_object_set_new_nocheck(o, "items", items);
	json_object_set_new_nocheck(o, "truncated", json_boolean(qc.truncated));
	req_json(r, 200, o);
}

/* ---- change: the shared read-decide-write loop ----------------------------------------------- */

/* Decides the change of the ticket read into tw->t (version in
 * tw->if_version). Returns false when it answered (an error). */
typedef bool (*decide_fn)(struct req *r, const struct ticket *old, struct ticket_write *tw);

struct change_ctx {
	decide_fn decide;
	handler_fn then;        /* answers after the write (change_then by default) */
	int tries;
	bool client_if_match;
	int answer_status;
};

static void change_run(struct req *r);

static void change_then(struct req *r)
{
	struct change_ctx *c = r->ctx;

	/* Someone else's change: decide again (unless the client pinned the
	 * version); a calendar or policy edit: compute the clocks again. */
	if (r->w.rc == RC_STALE && (!c->client_if_match || sla_gen_stale(&r->w)) &&
	    ++c->tries < MAX_RETRIES) {
		change_run(r);
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	answer_ticket(r, r->w.in.tw->t.id, c->answer_status);
}

static void change_run(struct req *r)
{
	struct change_ctx *c = r->ctx;
	struct ticket_write *tw = tw_new(r);
	struct ticket old;
	struct err e;
	enum result rc;

	if (!tw) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	rc = store_ticket_get(r->srv->store, &r->scope, r->params[0], r->a, &old, &e);
	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	tw->t = old;
	tw->if_version = old.version;
	if (c->client_if_match && r->w.if_version && r->w.if_version != old.version) {
		req_fail(r, RC_STALE, &(struct err){ RC_STALE, "", "the ticket was changed by someone else; reload it and try again" });
		return;
	}
	if (!c->decide(r, &old, tw))
		return;
	tw->t.last_activity_at = clock_now_ms();
	track_sla(r, &old, tw, tw->t.last_activity_at);
	/* A decision may turn into a new ticket (a reply to a closed one). */
	req_write_init(r, tw->t.id ? W_TICKET_CHANGE : W_TICKET_CREATE, NULL, "ticket");
	r->w.in.tw = tw;
	req_write(r, c->then ? c->then : change_then);
}

static void change_start(struct req *r, decide_fn decide, int status, bool use_if_match)
{
	struct change_ctx *c = arena_alloc(r->a, sizeof(*c));
	int64_t version = 0;

	if (!c) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (use_if_match && !req_if_match(r, &version))
		return;
	c->decide = decide;
	c->client_if_match = version != 0;
	c->answer_status = status;
	r->ctx = c;
	r->w.if_version = version;
	change_run(r);
}

/* ---- PATCH /tickets/{id} ------------------------------------------------------------------------ */

struct patch_in {
	const char *subject, *description, *type, *category, *impact, *urgency, *priority;
	const char *priority_reason, *status, *queue, *reason;
	int64_t assignee_id, requester_contact_id, device_id;
};

enum { PF_SUBJECT, PF_DESC, PF_TYPE, PF_CATEGORY, PF_IMPACT, PF_URGENCY, PF_PRIORITY,
       PF_PREASON, PF_STATUS, PF_QUEUE, PF_ASSIGNEE, PF_RCONTACT, PF_DEVICE, PF_REASON, PF_COUNT };

static const struct jfield patch_fields[PF_COUNT] = {
	[PF_SUBJECT] = { "subject", JT_STRING, 0, offsetof(struct patch_in, subject), 1, 300, NULL },
	[PF_DESC] = { "description", JT_TEXT, 0, offsetof(struct patch_in, description), 0, 100000, NULL },
	[PF_TYPE] = { "type", JT_ENUM, 0, offsetof(struct patch_in, type), 0, 0, ttype_names },
	[PF_CATEGORY] = { "category", JT_STRING, JF_NULLABLE, offsetof(struct patch_in, category), 1, 100, NULL },
	[PF_IMPACT] = { "impact", JT_ENUM, 0, offsetof(struct patch_in, impact), 0, 0, lv_choices },
	[PF_URGENCY] = { "urgency", JT_ENUM, 0, offsetof(struct patch_in, urgency), 0, 0, lv_choices },
	[PF_PRIORITY] = { "priority", JT_ENUM, 0, offsetof(struct patch_in, priority), 0, 0, prio_choices },
	[PF_PREASON] = { "priority_reason", JT_STRING, 0, offsetof(struct patch_in, priority_reason), 1, 500, NULL },
	[PF_STATUS] = { "status", JT_ENUM, 0, offsetof(struct patch_in, status), 0, 0, status_choices },
	[PF_QUEUE] = { "queue", JT_STRING, 0, offsetof(struct patch_in, queue), 1, 100, NULL },
	[PF_ASSIGNEE] = { "assignee_id", JT_INT, JF_NULLABLE, offsetof(struct patch_in, assignee_id), 1, INT64_MAX, NULL },
	[PF_RCONTACT] = { "requester_contact_id", JT_INT, JF_NULLABLE, offsetof(struct patch_in, requester_contact_id), 1, INT64_MAX, NULL },
	[PF_DEVICE] = { "device_id", JT_INT, JF_NULLABLE, offsetof(struct patch_in, device_id), 1, INT64_MAX, NULL },
	[PF_REASON] = { "reason", JT_STRING, 0, offsetof(struct patch_in, reason), 1, 500, NULL },
};

/* Field-change events: one per changed field. */
static void field_event(struct req *r, struct ticket_write *tw, const char *field, bool internal,
			const char *from, const char *to)
{
	if ((from && to && !strcmp(from, to)) || (!from && !to))
		return;
	ev_add(r, tw, "field", internal, json_pack("{s:s,s:s?,s:s?}", "field", field, "from", from, "to", to));
}

static const char *id_text(struct req *r, int64_t id)
{
	return id ? arena_printf(r->a, "%" PRId64, id) : NULL;
}

/* Applies a validated patch to tw (also used by bulk). */
static bool apply_patch(struct req *r, const struct ticket *old, struct ticket_write *tw,
			const struct patch_in *in, const struct jseen *seen, json_t *errs)
{
	struct ticket *t = &tw->t;
	int64_t now = clock_now_ms();
	bool impact_urgency = false;

	if (HAS(*seen, PF_SUBJECT))
		t->subject = in->subject;
	if (HAS(*seen, PF_DESC))
		t->description = in->description;
	tw->fts = HAS(*seen, PF_SUBJECT) || HAS(*seen, PF_DESC);
	if (HAS(*seen, PF_TYPE))
		t->type = (enum ttype)name_index(ttype_names, in->type);
	if (HAS(*seen, PF_CATEGORY))
		t->category = in->category;
	if (HAS(*seen, PF_IMPACT)) {
		t->impact = (enum level)name_index(level_names, in->impact);
		impact_urgency = true;
	}
	if (HAS(*seen, PF_URGENCY)) {
		t->urgency = (enum level)name_index(level_names, in->urgency);
		impact_urgency = true;
	}
	if (HAS(*seen, PF_QUEUE))
		t->queue = in->queue;
	if (HAS(*seen, PF_DEVICE))
		t->device_id = in->device_id;
	if (HAS(*seen, PF_RCONTACT)) {
		struct contact c;
		struct err e;
		if (in->requester_contact_id &&
		    (store_contact_get(r->srv->store, &r->scope, in->requester_contact_id, r->a, &c, &e) != RC_OK ||
		     c.client_id != t->client_id)) {
			jschema_error(errs, "requester_contact_id", "is not a contact of this client");
			return false;
		}
		t->requester_contact_id = in->requester_contact_id;
	}
	if (impact_urgency && !HAS(*seen, PF_PRIORITY)) {
		struct prio_matrix m;
		tickets_matrix_of(r, t->client_id, &m);
		t->priority = priority_of(&m, t->impact, t->urgency);
		t->priority_reason = NULL;
	}
	if (HAS(*seen, PF_PRIORITY)) {
		if (!HAS(*seen, PF_PREASON)) {
			jschema_error(errs, "priority_reason", "is required when priority is set by hand");
			return false;
		}
		t->priority = (enum prio)name_index(prio_names, in->priority);
		t->priority_reason = in->priority_reason;
	}
	if (HAS(*seen, PF_ASSIGNEE)) {
		if (in->assignee_id && !assignee_ok(r, in->assignee_id, errs))
			return false;
		t->assignee_id = in->assignee_id;
		if (t->assignee_id) {
			struct ticket_state s;
			state_from(t, &s);
			ticket_handled_by(&s, t->assignee_id);
			state_to(&s, t);
		}
		if (t->assignee_id && t->status == TS_NEW && !HAS(*seen, PF_STATUS))
			t->status = TS_OPEN;
	}
	if (HAS(*seen, PF_STATUS)) {
		enum tstatus to = (enum tstatus)name_index(tstatus_names, in->status);
		struct ticket_state s;
		struct status_effects fx;
		struct err e;
		state_from(t, &s);
		/* Whoever resolves has handled it (FCR looks at who was first). */
		if (to == TS_RESOLVED)
			ticket_handled_by(&s, r->scope.user_id);
		if (ticket_set_status(&s, to, r->scope.user_id, now, &fx, &e) != RC_OK) {
			req_fail(r, RC_CONFLICT, &e);
			return false;
		}
		state_to(&s, t);
		status_events(r, tw, old->status, &fx, in->reason);
	} else if (t->status != old->status) {
		struct status_effects fx = { 0 };
		status_events(r, tw, old->status, &fx, NULL);
	}

	field_event(r, tw, "subject", false, old->subject, t->subject);
	field_event(r, tw, "type", false, ttype_names[old->type], ttype_names[t->type]);
	field_event(r, tw, "category", false, old->category, t->category);
	field_event(r, tw, "impact", true, level_names[old->impact], level_names[t->impact]);
	field_event(r, tw, "urgency", true, level_names[old->urgency], level_names[t->urgency]);
	if (old->priority != t->priority)
		ev_add(r, tw, "priority", true, json_pack("{s:s,s:s,s:s?}", "from", prio_names[old->priority],
							   "to", prio_names[t->priority], "reason", t->priority_reason));
	field_event(r, tw, "queue", true, old->queue, t->queue);
	field_event(r, tw, "assignee_id", true, id_text(r, old->assignee_id), id_text(r, t->assignee_id));
	if (old->assignee_id != t->assignee_id && t->assignee_id)
		ob_add(r, tw, "ticket.assigned", json_pack("{s:I}", "assignee_id", (json_int_t)t->assignee_id));
	return true;
}

static bool decide_patch(struct req *r, const struct ticket *old, struct ticket_write *tw)
{
	static const int staff_only[] = { PF_PRIORITY, PF_PREASON, PF_STATUS, PF_QUEUE, PF_ASSIGNEE,
					  PF_DEVICE, PF_IMPACT, PF_URGENCY, PF_TYPE, PF_REASON };
	struct patch_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();

	jschema_parse(r->json, patch_fields, PF_COUNT, &in, &seen, errs);
	if (!seen.present)
		jschema_error(errs, "", "nothing to change");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	if (!client_fields_ok(r, &seen, staff_only, ARRAY_SIZE(staff_only), patch_fields)) {
		json_decref(errs);
		return false;
	}
	if (!staff(r) && r->scope.role == ROLE_CLIENT_USER && old->requester_user_id != r->scope.user_id) {
		json_decref(errs);
		req_deny(r, "client users change only their own tickets");
		return false;
	}
	if (!apply_patch(r, old, tw, &in, &seen, errs)) {
		if (r->status)
			json_decref(errs);
		else
			req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	if (staff(r))
		run_rules(r, tw, false);
	return true;
}

void h_ticket_patch(struct req *r)
{
	change_start(r, decide_patch, 200, true);
}

/* ---- messages ------------------------------------------------------------------------------------- */

struct message_in {
	const char *kind, *body;
};

static const char *const kind_choices[] = { "reply", "note", NULL };

static const struct jfield message_fields[] = {
	{ "kind", JT_ENUM, JF_REQUIRED, offsetof(struct message_in, kind), 0, 0, kind_choices },
	{ "body", JT_TEXT, JF_REQUIRED, offsetof(struct message_in, body), 1, 100000, NULL },
};

static json_t *message_json(const struct ticket_message *m)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:o,s:o,s:o,s:o,s:s}", "id", (json_int_t)m->id, "ticket_id",
			 (json_int_t)m->ticket_id, "kind", m->kind, "body", m->body,
			 "author_user_id", m->author_user_id ? json_integer(m->author_user_id) : json_null(),
			 "author_contact_id", m->author_contact_id ? json_integer(m->author_contact_id) : json_null(),
			 "created_at", json_instant(m->created_at),
			 /* where the quoted earlier text starts (UTF-8 bytes), folded by the UI */
			 "quote_at", m->quote_at ? json_integer(m->quote_at) : json_null(),
			 "source", m->source ? m->source : "itsup");
}

struct msg_ctx {
	struct change_ctx c;  /* first: change_then reads it */
	struct message_in in;
	bool new_ticket;
};

static void message_then(struct req *r)
{
	struct msg_ctx *mc = r->ctx;
	struct ticket_write *tw = r->w.in.tw;
	struct ticket_message m = { 0 };

	if (r->w.rc == RC_STALE && !mc->new_ticket && ++mc->c.tries < MAX_RETRIES) {
		change_run(r);
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	m.id = tw->message_id;
	m.ticket_id = tw->t.id;
	m.kind = tw->msg.kind;
	m.body = tw->msg.body;
	m.author_user_id = tw->msg.author_user_id;
	m.created_at = clock_now_ms();
	if (mc->new_ticket)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/tickets/%" PRId64, tw->t.id));
	req_json(r, 201, message_json(&m));
}

/* A reply's text as notifications carry it: at most OUTBOX_TEXT_MAX bytes
 * (cut at a character), the rest is in the ticket. A notice is no copy
 * of a megabyte, and the dispatcher's batches stay small. */
#define OUTBOX_TEXT_MAX 65536
static const char *outbox_text(struct req *r, const char *body)
{
	size_t n = strlen(body);
	char *s;

	if (n <= OUTBOX_TEXT_MAX)
		return body;
	n = OUTBOX_TEXT_MAX;
	while (n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
		n--;
	s = arena_printf(r->a, "%.*s\n[... the rest is in the ticket]", (int)n, body);
	return s ? s : "";
}

/* A reply (not a note) on old by a person (staff or not; user_id 0: a
 * contact by mail) with body: the status moves and the outbox row, or, on
 * a closed ticket, a client's reply opens a new one linked to it
 * (MR_SPAWNED, tw->t is then the new ticket, channel ch); staff cannot
 * reply to a closed ticket (MR_CLOSED). */
enum mail_reply tickets_prepare_reply(struct req *r, const struct ticket *old,
					 struct ticket_write *tw, bool by_staff, int64_t user_id,
					 const char *body, enum channel ch, int64_t now)
{
	struct ticket_state s;
	struct status_effects fx;

	state_from(old, &s);
	if (ticket_on_reply(&s, by_staff, user_id, now, &fx) == REPLY_NEW_TICKET) {
		if (by_staff)
			return MR_CLOSED;
		memset(&tw->t, 0, sizeof(tw->t));
		tw->t = *old;
		tw->t.id = 0;
		tw->t.parent_id = old->id;
		tw->t.subject = arena_printf(r->a, "Re: %s", old->subject);
		tw->t.description = body;
		tw->t.status = TS_NEW;
		tw->t.channel = ch;
		tw->t.assignee_id = 0;
		tw->t.tier = 1;
		tw->t.vendor = tw->t.vendor_ref = NULL;
		tw->t.first_response_at = tw->t.resolved_at = tw->t.closed_at = 0;
		tw->t.first_handler_id = tw->t.resolved_by = 0;
		tw->t.resolved_tier = tw->t.escalations = tw->t.tier_changes = 0;
		tw->t.reopens = tw->t.early_reopens = 0;
		tw->t.fcr = -1;
		tw->t.fcr_reason = NULL;
		tw->t.created_at = now;
		tw->t.requester_user_id = user_id;
		ev_add(r, tw, "linked", false, json_pack("{s:I}", "parent_id", (json_int_t)old->id));
		ob_add(r, tw, "ticket.created", json_pack("{s:s,s:I}", "subject", tw->t.subject,
							  "parent_id", (json_int_t)old->id));
		return MR_SPAWNED;
	}
	state_to(&s, &tw->t);
	if (tw->t.status != old->status)
		status_events(r, tw, old->status, &fx, by_staff ? "first reply" : "the customer replied");
	ob_add(r, tw, by_staff ? "ticket.reply" : "ticket.customer_reply",
	       json_pack("{s:s,s:I}", "body", outbox_text(r, body), "author_user_id", (json_int_t)user_id));
	return MR_OK;
}

static bool decide_message(struct req *r, const struct ticket *old, struct ticket_write *tw)
{
	struct msg_ctx *mc = r->ctx;
	bool note = !strcmp(mc->in.kind, "note");

	tw->has_msg = true;
	tw->msg.kind = note ? "note" : "reply";
	tw->msg.body = mc->in.body;
	tw->msg.author_user_id = r->scope.user_id;
	if (note)
		return true; /* a note changes nothing else */
	switch (tickets_prepare_reply(r, old, tw, staff(r), r->scope.user_id, mc->in.body,
				      r->via_cookie ? CH_PORTAL : CH_API, clock_now_ms())) {
	case MR_CLOSED:
		req_problem(r, 409, "conflict", "Conflict", "the ticket is closed; open a new ticket instead");
		return false;
	case MR_SPAWNED:
		mc->new_ticket = true;
		return true;
	case MR_OK:
		break;
	}
	return true;
}

void h_message_create(struct req *r)
{
	struct msg_ctx *mc = arena_alloc(r->a, sizeof(*mc));
	struct jseen seen;
	json_t *errs = json_array();

	if (!mc) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!jschema_parse(r->json, message_fields, ARRAY_SIZE(message_fields), &mc->in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	if (!staff(r) && !strcmp(mc->in.kind, "note")) {
		jschema_error(errs, "kind", "client users post replies; notes are internal to the provider");
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	mc->c.decide = decide_message;
	mc->c.then = message_then;
	mc->c.answer_status = 201;
	r->ctx = mc;
	change_run(r);
}

void h_message_list(struct req *r)
{
	struct message_list l;
	struct err e;
	enum result rc = store_ticket_messages(r->srv->store, &r->scope, r->params[0], staff(r),
					       r->a, &l, &e);
	json_t *items;

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(items, message_json(&l.items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", items));
}

/* ---- escalation ------------------------------------------------------------------------------- */

struct esc_in {
	int64_t to_tier, assignee_id;
	const char *vendor, *vendor_ref, *reason;
};

static const struct jfield esc_fields[] = {
	{ "to_tier", JT_INT, 0, offsetof(struct esc_in, to_tier), 1, 3, NULL },
	{ "vendor", JT_STRING, 0, offsetof(struct esc_in, vendor), 1, 200, NULL },
	{ "vendor_ref", JT_STRING, JF_NULLABLE, offsetof(struct esc_in, vendor_ref), 1, 200, NULL },
	{ "reason", JT_TEXT, JF_REQUIRED, offsetof(struct esc_in, reason), 1, 2000, NULL },
	{ "assignee_id", JT_INT, JF_NULLABLE, offsetof(struct esc_in, assignee_id), 1, INT64_MAX, NULL },
};

struct esc_ctx {
	struct change_ctx c;
	struct esc_in in;
};

static bool decide_escalate(struct req *r, const struct ticket *old, struct ticket_write *tw)
{
	struct esc_ctx *ec = r->ctx;
	struct ticket_state s;
	struct err e;
	bool down;

	state_from(old, &s);
	if (ticket_escalate(&s, ec->in.vendor ? 0 : (int)ec->in.to_tier, ec->in.vendor,
			    clock_now_ms(), &down, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return false;
	}
	state_to(&s, &tw->t);
	if (ec->in.vendor) {
		tw->t.vendor_ref = ec->in.vendor_ref;
		ev_add(r, tw, "escalated", false, json_pack("{s:s,s:s?,s:s}", "vendor", ec->in.vendor,
							    "vendor_ref", ec->in.vendor_ref, "reason", ec->in.reason));
		if (old->status != tw->t.status)
			ev_add(r, tw, "status", false, json_pack("{s:s,s:s,s:s}", "from", tstatus_names[old->status],
								 "to", tstatus_names[tw->t.status], "reason", "escalated to a vendor"));
	} else {
		ev_add(r, tw, down ? "deescalated" : "escalated", true,
		       json_pack("{s:i,s:i,s:s}", "from_tier", old->tier, "to_tier", tw->t.tier,
				 "reason", ec->in.reason));
	}
	if (ec->in.assignee_id) {
		json_t *errs = json_array();
		bool ok = assignee_ok(r, ec->in.assignee_id, errs);
		if (!ok) {
			req_invalid(r, errs);
			return false;
		}
		json_decref(errs);
		tw->t.assignee_id = ec->in.assignee_id;
	}
	ob_add(r, tw, "ticket.escalated", json_pack("{s:i,s:s?,s:s}", "tier", tw->t.tier, "vendor",
						    ec->in.vendor, "reason", ec->in.reason));
	return true;
}

void h_ticket_escalate(struct req *r)
{
	struct esc_ctx *ec = arena_alloc(r->a, sizeof(*ec));
	struct jseen seen;
	json_t *errs = json_array();

	if (!ec) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	jschema_parse(r->json, esc_fields, ARRAY_SIZE(esc_fields), &ec->in, &seen, errs);
	if (!!ec->in.to_tier == !!ec->in.vendor && !json_array_size(errs))
		jschema_error(errs, "to_tier", "give either to_tier or vendor");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	ec->c.decide = decide_escalate;
	ec->c.answer_status = 200;
	r->ctx = ec;
	change_run(r);
}

/* ---- time entries ----------------------------------------------------------------------------- */

struct time_in {
	int64_t minutes, started_at;
	bool billable;
	const char *note;
};

static const struct jfield time_fields[] = {
	{ "minutes", JT_INT, JF_REQUIRED, offsetof(struct time_in, minutes), 1, 24 * 60, NULL },
	{ "billable", JT_BOOL, 0, offsetof(struct time_in, billable), 0, 0, NULL },
	{ "started_at", JT_INSTANT, JF_NULLABLE, offsetof(struct time_in, started_at), 0, 0, NULL },
	{ "note", JT_TEXT, JF_NULLABLE, offsetof(struct time_in, note), 0, 2000, NULL },
};

struct time_ctx {
	struct change_ctx c;
	struct time_in in;
};

static json_t *time_json(const struct time_entry *te)
{
	return json_pack("{s:I,s:I,s:I,s:i,s:b,s:o,s:s?,s:o}", "id", (json_int_t)te->id, "ticket_id",
			 (json_int_t)te->ticket_id, "user_id", (json_int_t)te->user_id, "minutes",
			 te->minutes, "billable", te->billable, "started_at", json_instant(te->started_at),
			 "note", te->note, "created_at", json_instant(te->created_at));
}

static bool decide_time(struct req *r, const struct ticket *old, struct ticket_write *tw)
{
	struct time_ctx *tc = r->ctx;

	UNUSED(old);
	tw->has_te = true;
	tw->te.user_id = r->scope.user_id;
	tw->te.minutes = (int)tc->in.minutes;
	tw->te.billable = tc->in.billable;
	tw->te.started_at = tc->in.started_at ? tc->in.started_at : clock_now_ms();
	tw->te.note = tc->in.note;
	return true;
}

static void time_then(struct req *r)
{
	struct time_ctx *tc = r->ctx;
	struct ticket_write *tw = r->w.in.tw;

	if (r->w.rc == RC_STALE && ++tc->c.tries < MAX_RETRIES) {
		change_run(r);
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	tw->te.id = tw->time_entry_id;
	tw->te.ticket_id = tw->t.id;
	tw->te.created_at = clock_now_ms();
	req_json(r, 201, time_json(&tw->te));
}

void h_time_create(struct req *r)
{
	struct time_ctx *tc = arena_alloc(r->a, sizeof(*tc));
	struct jseen seen;
	json_t *errs = json_array();

	if (!tc) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	tc->in.billable = true;
	if (!jschema_parse(r->json, time_fields, ARRAY_SIZE(time_fields), &tc->in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	tc->c.decide = decide_time;
	tc->c.then = time_then;
	r->ctx = tc;
	change_run(r);
}

void h_time_list(struct req *r)
{
	struct time_list l;
	struct err e;
	enum result rc = store_ticket_time(r->srv->store, &r->scope, r->params[0], r->a, &l, &e);
	json_t *items;

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(items, time_json(&l.items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", items));
}

/* ---- timeline ------------------------------------------------------------------------------------ */

void h_timeline(struct req *r)
{
	struct event_list l;
	struct err e;
	enum result rc = store_ticket_events(r->srv->store, &r->scope, r->params[0], staff(r),
					     r->a, &l, &e);
	json_t *items, *segs = NULL;
	struct ticket t;

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	items = json_array();
	if (store_ticket_get(r->srv->store, &r->scope, r->params[0], r->a, &t, &e) == RC_OK)
		segs = sla_segments_json(r, &t, clock_now_ms());
	for (size_t i = 0; i < l.n; i++) {
		json_t *d = json_loads(l.items[i].data, 0, NULL);
		json_array_append_new(items, json_pack("{s:I,s:o,s:s,s:o,s:b,s:o}", "id",
						       (json_int_t)l.items[i].id, "at",
						       json_instant(l.items[i].at), "kind", l.items[i].kind,
						       "actor_id", l.items[i].actor_id ? json_integer(l.items[i].actor_id) : json_null(),
						       "internal", l.items[i].internal,
						       "data", d ? d : json_object()));
	}
	req_json(r, 200, json_pack("{s:o,s:o}", "items", items, "sla_segments", segs ? segs : json_array()));
}

/* ---- bulk: PATCH /tickets {ids, set}: every ticket or none ---------------------------------- */

struct bulk_in {
	json_t *ids;
	json_t *set;
};

struct bulk_ctx {
	int tries;
	int64_t ids[100];
	size_t n;
	struct patch_in in;
	struct jseen seen;
};

static void bulk_run(struct req *r);

static void bulk_then(struct req *r)
{
	struct bulk_ctx *bc = r->ctx;
	json_t *items;

	if (r->w.rc == RC_STALE && ++bc->tries < MAX_RETRIES) {
		bulk_run(r);
		return;
	}
	if (r->w.rc != RC_OK) {
		struct err e = r->w.err;
		if (r->w.in.bulk.failed < bc->n) {
			char msg[sizeof(e.msg)];
			snprintf(msg, sizeof(msg), "%s", e.msg);
			err_set(&e, e.code, e.field, "ticket %" PRId64 ": %s; nothing was changed",
				bc->ids[r->w.in.bulk.failed], msg);
		}
		req_fail(r, r->w.rc, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < bc->n; i++) {
		struct ticket t;
		struct err e;
		if (store_ticket_get(r->srv->store, &r->scope, bc->ids[i], r->a, &t, &e) == RC_OK)
			json_array_append_new(items, ticket_json(r, &t));
	}
	req_json(r, 200, json_pack("{s:o}", "items", items));
}

static void bulk_run(struct req *r)
{
	struct bulk_ctx *bc = r->ctx;
	struct ticket_write *items = arena_alloc(r->a, sizeof(*items) * bc->n);
	json_t *errs = json_array();

	if (!items) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < bc->n; i++) {
		struct ticket old;
		struct err e;
		enum result rc = store_ticket_get(r->srv->store, &r->scope, bc->ids[i], r->a, &old, &e);
		if (rc != RC_OK) {
			json_decref(errs);
			err_set(&e, rc, "ids", "ticket %" PRId64 " not found; nothing was changed", bc->ids[i]);
			req_fail(r, rc, &e);
			return;
		}
		items[i].t = old;
		items[i].if_version = old.version;
		if (!apply_patch(r, &old, &items[i], &bc->in, &bc->seen, errs)) {
			if (!r->status)
				req_invalid(r, errs);
			else
				json_decref(errs);
			return;
		}
		items[i].t.last_activity_at = clock_now_ms();
		track_sla(r, &old, &items[i], items[i].t.last_activity_at);
	}
	json_decref(errs);
	req_write_init(r, W_TICKET_BULK, NULL, "ticket");
	r->w.in.bulk.items = items;
	r->w.in.bulk.n = bc->n;
	req_write(r, bulk_then);
}

static const struct jfield bulk_set_fields[PF_COUNT] = {
	[PF_SUBJECT] = { "-subject", JT_STRING, 0, 0, 0, 0, NULL },
	[PF_DESC] = { "-description", JT_TEXT, 0, 0, 0, 0, NULL },
	[PF_TYPE] = { "-type", JT_STRING, 0, 0, 0, 0, NULL },
	[PF_CATEGORY] = { "-category", JT_STRING, 0, 0, 0, 0, NULL },
	[PF_IMPACT] = { "-impact", JT_STRING, 0, 0, 0, 0, NULL },
	[PF_URGENCY] = { "-urgency", JT_STRING, 0, 0, 0, 0, NULL },
	[PF_PRIORITY] = { "-priority", JT_STRING, 0, 0, 0, 0, NULL },
	[PF_PREASON] = { "-priority_reason", JT_STRING, 0, 0, 0, 0, NULL },
	[PF_STATUS] = { "status", JT_ENUM, 0, offsetof(struct patch_in, status), 0, 0, status_choices },
	[PF_QUEUE] = { "queue", JT_STRING, 0, offsetof(struct patch_in, queue), 1, 100, NULL },
	[PF_ASSIGNEE] = { "assignee_id", JT_INT, JF_NULLABLE, offsetof(struct patch_in, assignee_id), 1, INT64_MAX, NULL },
	[PF_RCONTACT] = { "-requester_contact_id", JT_INT, 0, 0, 0, 0, NULL },
	[PF_DEVICE] = { "-device_id", JT_INT, 0, 0, 0, 0, NULL },
	[PF_REASON] = { "reason", JT_STRING, 0, offsetof(struct patch_in, reason), 1, 500, NULL },
};

void h_ticket_bulk(struct req *r)
{
	struct bulk_ctx *bc = arena_alloc(r->a, sizeof(*bc));
	json_t *ids = json_object_get(r->json, "ids"), *set = json_object_get(r->json, "set");
	json_t *errs = json_array(), *v;
	const char *key;
	size_t i;

	if (!bc) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	json_object_foreach(r->json, key, v)
		if (strcmp(key, "ids") && strcmp(key, "set"))
			jschema_error(errs, key, "unknown field");
	if (!json_is_array(ids) || !json_array_size(ids) || json_array_size(ids) > ARRAY_SIZE(bc->ids))
		jschema_error(errs, "ids", "must be an array of 1 to 100 ticket ids");
	else
		json_array_foreach(ids, i, v) {
			if (!json_is_integer(v) || json_integer_value(v) <= 0) {
				jschema_error(errs, "ids", "must hold ticket ids");
				break;
			}
			for (size_t k = 0; k < bc->n; k++)
				if (bc->ids[k] == json_integer_value(v))
					goto dup;
			bc->ids[bc->n++] = json_integer_value(v);
		dup:;
		}
	if (!json_is_object(set) || !json_object_size(set))
		jschema_error(errs, "set", "must be an object with assignee_id, status and/or queue");
	else {
		const uint64_t allowed = 1u << PF_STATUS | 1u << PF_QUEUE | 1u << PF_ASSIGNEE | 1u << PF_REASON;
		jschema_parse(set, bulk_set_fields, PF_COUNT, &bc->in, &bc->seen, errs);
		if (bc->seen.present & ~allowed)
			jschema_error(errs, "set", "may change assignee_id, status and queue (with a reason) only");
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	r->ctx = bc;
	bulk_run(r);
}

/* ---- CSAT: a signed link, no login, one answer per ticket ------------------------------------- */

/* Checks the link's signature and expiry; answers and returns false when
 * it is not valid. */
static bool csat_link_ok(struct req *r, struct ticket *t)
{
	const char *exp_s = req_query(r, "expires"), *sig = req_query(r, "sig");
	struct scope sys = scope_system();
	char want[65];
	int64_t expires;
	struct err e;

	if (!exp_s || !sig || !parse_i64(exp_s, &expires) || strlen(sig) != 64 ||
	    !csat_sig(r, r->params[0], expires, want) ||
	    sodium_memcmp(want, sig, 64) != 0) {
		req_problem(r, 404, "not-found", "Not found", "this rating link is not valid");
		return false;
	}
	if (expires <= clock_now_ms()) {
		req_problem(r, 410, "expired", "Link expired", "this rating link has expired");
		return false;
	}
	if (store_ticket_get(r->srv->store, &sys, r->params[0], r->a, t, &e) != RC_OK ||
	    (t->status != TS_RESOLVED && t->status != TS_CLOSED)) {
		req_problem(r, 404, "not-found", "Not found", "this ticket cannot be rated now");
		return false;
	}
	return true;
}

void h_csat_get(struct req *r)
{
	struct ticket t;
	int rating = 0;
	struct err e;

	if (!csat_link_ok(r, &t))
		return;
	store_csat_get(r->srv->store, t.id, &rating, &e);
	req_json(r, 200, json_pack("{s:s+,s:s,s:o}", "number", "T-", arena_printf(r->a, "%06" PRId64, t.number),
				   "subject", t.subject, "rating", rating ? json_integer(rating) : json_null()));
}

struct csat_in {
	int64_t rating;
	const char *comment;
};

static const struct jfield csat_fields[] = {
	{ "rating", JT_INT, JF_REQUIRED, offsetof(struct csat_in, rating), 1, 5, NULL },
	{ "comment", JT_TEXT, JF_NULLABLE, offsetof(struct csat_in, comment), 0, 5000, NULL },
};

static void csat_then(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_json(r, 201, json_pack("{s:I,s:I}", "ticket_id", (json_int_t)r->w.in.tw->t.id,
				   "rating", (json_int_t)r->w.in.tw->csat_rating));
}

void h_csat_post(struct req *r)
{
	struct csat_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct ticket_write *tw = tw_new(r);
	struct scope sys = scope_system();

	if (!tw) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!csat_link_ok(r, &tw->t)) {
		json_decref(errs);
		return;
	}
	if (!jschema_parse(r->json, csat_fields, ARRAY_SIZE(csat_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	tw->csat_rating = (int)in.rating;
	tw->csat_comment = in.comment;
	r->scope = sys;
	req_write_init(r, W_CSAT, NULL, "ticket");
	r->w.in.tw = tw;
	req_write(r, csat_then);
}

/* ---- for the scheduler (jobs/monitor_jobs.c) ---------------------------------------------------- */

/* r stands in for a request: srv, a and the system scope are all it uses. */

void tickets_prepare_new(struct req *r, struct ticket_write *tw, int64_t now)
{
	struct ticket *t = &tw->t;

	run_rules(r, tw, true);
	if (t->assignee_id) {
		struct ticket_state s;
		state_from(t, &s);
		ticket_handled_by(&s, t->assignee_id);
		state_to(&s, t);
		t->status = TS_OPEN;
	}
	ob_add(r, tw, "ticket.created", json_pack("{s:s,s:s}", "subject", t->subject, "priority",
						  prio_names[t->priority]));
	track_sla(r, NULL, tw, now);
}

bool tickets_prepare_status(struct req *r, const struct ticket *old, struct ticket_write *tw,
			    enum tstatus to, const char *why, int64_t now)
{
	struct ticket_state s;
	struct status_effects fx;
	struct err e;

	state_from(&tw->t, &s);
	if (ticket_set_status(&s, to, r->scope.user_id, now, &fx, &e) != RC_OK)
		return false;
	state_to(&s, &tw->t);
	status_events(r, tw, old->status, &fx, why);
	return true;
}

void tickets_prepare_event(struct req *r, struct ticket_write *tw, const char *kind, bool internal,
			   json_t *data)
{
	ev_add(r, tw, kind, internal, data);
}

void tickets_prepare_outbox(struct req *r, struct ticket_write *tw, const char *event, json_t *payload)
{
	ob_add(r, tw, event, payload);
}

const char *tickets_csat_url(struct req *r, const struct ticket *t)
{
	return csat_url(r, t);
}

void tickets_prepare_change(struct req *r, const struct ticket *old, struct ticket_write *tw,
			    int64_t now)
{
	track_sla(r, old, tw, now);
}
