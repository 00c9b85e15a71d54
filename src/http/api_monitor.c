/*
 * api_monitor.c: monitoring's API (issue 7; docs/MONITORING.md): enrolment
 * tokens, the agent's routes (enrol, check in), devices with their latest
 * readings and charts, checks, alerts and acknowledgement, maintenance
 * windows.
 *
 * The agent's routes take no user login: enrolment presents a client's
 * enrolment token in the body, a check-in its device token as a Bearer
 * token. A device token is only ever looked up here, so it opens no other
 * route, and a user's token is no device token, so it opens neither of
 * these. A check-in is parsed and validated whole before anything is
 * written (a bad sample refuses the batch, naming it), and then written in
 * one store write: the batch row that makes a replay a no-op, the samples,
 * the device's latest readings, and each alert the samples move.
 */
#include "base/common.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/jschema.h"
#include "base/log.h"
#include "base/util.h"
#include "http/http.h"
#include "monitor/chart.h"
#include "monitor/monitor.h"

#define CHECKIN_MAX_METRICS 1000
#define FUTURE_SLACK_MS (5 * 60000LL)
#define INVENTORY_MAX 65536
/* A sample's magnitude: far past any reading (bytes of a petabyte disk are
 * 1e15), and sums of a minute's samples stay finite on both backends. */
#define VALUE_MAX 1e15

static void invalid1(struct req *r, const char *field, const char *msg)
{
	json_t *errs = json_array();

	jschema_error(errs, field, msg);
	req_invalid(r, errs);
}

static bool query_id(struct req *r, const char *name, int64_t *out)
{
	const char *v = req_query(r, name);

	*out = 0;
	if (!v)
		return true;
	if (!parse_i64(v, out) || *out <= 0) {
		invalid1(r, name, "must be an id");
		return false;
	}
	return true;
}

static const char *dump(struct req *r, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);
	const char *out = s ? arena_strdup(r->a, s) : NULL;

	free(s);
	return out;
}

static json_t *json_or_null(const char *text)
{
	json_t *v = text && *text ? json_loads(text, 0, NULL) : NULL;

	return v ? v : json_null();
}

static json_t *num_or_null(bool has, double v)
{
	return has && isfinite(v) ? json_real(v) : json_null();
}

/* ---- enrolment tokens ------------------------------------------------------------------- */

static json_t *etok_json(const struct enroll_token_row *t)
{
	return json_pack("{s:I,s:I,s:s,s:o,s:o,s:o,s:I,s:I}", "id", (json_int_t)t->id, "client_id",
			 (json_int_t)t->client_id, "name", t->name ? t->name : "", "created_at",
			 json_instant(t->created_at), "expires_at", json_instant(t->expires_at),
			 "revoked_at", json_instant(t->revoked_at), "uses", (json_int_t)t->uses,
			 "max_uses", (json_int_t)t->max_uses);
}

struct etok_in { const char *name; int64_t expires_at, max_uses; };
static const struct jfield etok_fields[] = {
	{ "name", JT_STRING, 0, offsetof(struct etok_in, name), 1, 200, NULL },
	{ "expires_at", JT_INSTANT, JF_NULLABLE, offsetof(struct etok_in, expires_at), 0, 0, NULL },
	{ "max_uses", JT_INT, JF_NULLABLE, offsetof(struct etok_in, max_uses), 1, 1000000, NULL },
};

struct etok_ctx { char token[TOKEN_MAX]; };

static void etok_created(struct req *r)
{
	struct etok_ctx *c = r->ctx;
	struct enroll_token_row row = r->w.in.etok.row;
	json_t *o;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	row.id = r->w.id;
	row.created_at = clock_now_ms();
	o = etok_json(&row);
	json_object_set_new(o, "token", json_string(c->token));
	req_header(r, "Cache-Control", "no-store");
	req_json(r, 201, o);
}

void h_enroll_token_create(struct req *r)
{
	struct etok_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct etok_ctx *c = arena_alloc(r->a, sizeof(*c));

	if (!c) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!jschema_parse(r->json, etok_fields, ARRAY_SIZE(etok_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (in.expires_at && in.expires_at <= clock_now_ms()) {
		invalid1(r, "expires_at", "must be in the future");
		return;
	}
	token_new("itsup_enr_", c->token);
	r->ctx = c;
	req_write_init(r, W_ENROLL_TOKEN_CREATE, "enroll_token.create", "enroll_token");
	r->w.in.etok.row.client_id = r->params[0];
	r->w.in.etok.row.name = in.name ? in.name : "enrolment token";
	r->w.in.etok.row.expires_at = in.expires_at;
	r->w.in.etok.row.max_uses = in.max_uses;
	token_hash(c->token, r->w.in.etok.hash);
	req_write(r, etok_created);
}

void h_enroll_token_list(struct req *r)
{
	struct enroll_token_row *items;
	size_t n = 0;
	struct err e;
	struct client c;
	json_t *arr;

	if (store_client_get(r->srv->store, &r->scope, r->params[0], r->a, &c, &e) != RC_OK ||
	    store_enroll_token_list(r->srv->store, &r->scope, r->params[0], r->a, &items, &n, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, etok_json(&items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", arr));
}

void h_enroll_token_revoke(struct req *r)
{
	req_write_init(r, W_ENROLL_TOKEN_REVOKE, "enroll_token.revoke", "enroll_token");
	r->w.in.etok.row.client_id = r->params[0];
	r->w.id = r->params[1];
	req_write(r, req_written_204);
}

/* ---- the agent's routes ----------------------------------------------------------------- */

static void unauthorized(struct req *r, const char *why)
{
	req_header(r, "WWW-Authenticate", "Bearer realm=\"itsup-agent\"");
	req_problem(r, 401, "unauthenticated", "Authentication required", why);
}

struct enroll_in { const char *token, *hostname, *os; json_t *inventory; };
static const struct jfield enroll_fields[] = {
	{ "enroll_token", JT_STRING, JF_REQUIRED, offsetof(struct enroll_in, token), 1, 200, NULL },
	{ "hostname", JT_STRING, JF_REQUIRED, offsetof(struct enroll_in, hostname), 1, 255, NULL },
	{ "os", JT_STRING, JF_NULLABLE, offsetof(struct enroll_in, os), 0, 255, NULL },
	{ "inventory", JT_OBJECT, JF_NULLABLE, offsetof(struct enroll_in, inventory), 0, 0, NULL },
};

struct enroll_ctx { char token[TOKEN_MAX]; };

static void enrolled(struct req *r)
{
	struct enroll_ctx *c = r->ctx;

	if (r->w.rc == RC_DENIED) {
		unauthorized(r, r->w.err.msg);
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_header(r, "Cache-Control", "no-store");
	req_json(r, 201, json_pack("{s:I,s:s,s:I}", "device_id", (json_int_t)r->w.id, "device_token",
				   c->token, "client_id", (json_int_t)r->w.in.enroll.client_id));
}

void h_agent_enroll(struct req *r)
{
	struct enroll_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct enroll_ctx *c = arena_alloc(r->a, sizeof(*c));
	const char *inv = NULL;
	struct scope sys = scope_system();

	if (!c) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!jschema_parse(r->json, enroll_fields, ARRAY_SIZE(enroll_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (in.inventory) {
		inv = dump(r, in.inventory);
		if (inv && strlen(inv) > INVENTORY_MAX) {
			invalid1(r, "inventory", "may be at most 64 KiB");
			return;
		}
	}
	token_new("itsup_dev_", c->token);
	r->ctx = c;
	req_write_init(r, W_DEVICE_ENROLL, "device.enroll", "device");
	r->w.scope = sys;
	token_hash(in.token, r->w.in.enroll.token_hash);
	token_hash(c->token, r->w.in.enroll.device_hash);
	r->w.in.enroll.hostname = in.hostname;
	r->w.in.enroll.os = in.os;
	r->w.in.enroll.inventory = inv;
	r->w.in.enroll.now = clock_now_ms();
	req_write(r, enrolled);
}

/* The device of the request's Bearer token, or answered 401. */
static bool device_of(struct req *r, struct device *d)
{
	const char *authz = req_header_in(r, "Authorization");
	unsigned char h[32];
	struct err e;

	if (!authz || strncasecmp(authz, "Bearer ", 7) != 0) {
		unauthorized(r, "send the device token as Authorization: Bearer TOKEN");
		return false;
	}
	token_hash(authz + 7, h);
	if (store_device_auth(r->srv->store, h, r->a, d, &e) != RC_OK || !d->active) {
		unauthorized(r, "not a device token, or the device was retired");
		return false;
	}
	return true;
}

/* An instant as RFC 3339 text or integer milliseconds. */
/* An instant as RFC 3339 text or integer milliseconds, from 2000 on
 * (older readings are no device's: they would sit below every retention
 * cut and rollup mark for ever). */
#define INSTANT_MIN 946684800000LL          /* 2000-01-01T00:00:00Z */

static bool instant_of(json_t *v, int64_t *ms)
{
	if (json_is_integer(v))
		*ms = (int64_t)json_integer_value(v);
	else if (!json_is_string(v) || !time_parse(json_string_value(v), ms))
		return false;
	return *ms >= INSTANT_MIN;
}

static bool metric_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 100)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-' || *s == ':'))
			return false;
	return true;
}

#define LATEST_MAX 1000   /* series kept in a device's latest readings */
#define LATEST_BYTES 65536

/* The device's latest readings (its stored JSON) with samples merged in:
 * per series "name{labels}" -> [value, at], the newer at winning. Past
 * LATEST_MAX series the stored ones are dropped (a device that invents
 * series names cannot grow its row without bound). */
static json_t *latest_merge(const char *stored, const struct sample *sm, size_t n, struct arena *a)
{
	json_t *o = stored ? json_loads(stored, 0, NULL) : NULL;

	if (!json_is_object(o) || json_object_size(o) + n > LATEST_MAX) {
		json_decref(o);
		o = json_object();
	}
	for (size_t i = 0; i < n; i++) {
		const char *key = arena_printf(a, "%s%s", sm[i].name, sm[i].labels);
		json_t *have = key ? json_object_get(o, key) : NULL;
		if (!key)
			continue;
		if (have && json_integer_value(json_array_get(have, 1)) > sm[i].at)
			continue;
		json_object_set_new(o, key, json_pack("[f,I]", sm[i].value, (json_int_t)sm[i].at));
	}
	return o;
}

struct checkin_ctx {
	struct checkin_write ci;
	struct sample_steps ss;
};

static void checked_in(struct req *r)
{
	struct checkin_ctx *c = r->ctx;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (c->ci.steps.events)
		jobs_kick();
	metrics_monitor(c->ci.duplicate, c->ci.stored, c->ci.steps.events);
	req_json(r, 200, json_pack("{s:I,s:b}", "stored", (json_int_t)c->ci.stored, "duplicate",
				   c->ci.duplicate));
}

/* Parses one metric of a check-in into sm; false with errs appended. */
static bool parse_metric(struct req *r, json_t *m, size_t i, int64_t at, int64_t now,
			 struct sample *sm, json_t **labels, json_t *errs)
{
	const char *k, *why;
	json_t *v;
	char field[64];
	bool ok = true;

	if (!json_is_object(m)) {
		snprintf(field, sizeof(field), "metrics[%zu]", i);
		jschema_error(errs, field, "must be an object {name, value, labels?, at?}");
		return false;
	}
	json_object_foreach(m, k, v) {
		if (strcmp(k, "name") && strcmp(k, "value") && strcmp(k, "labels") && strcmp(k, "at")) {
			snprintf(field, sizeof(field), "metrics[%zu].%.30s", i, k);
			jschema_error(errs, field, "unknown field");
			ok = false;
		}
	}
	v = json_object_get(m, "name");
	if (!json_is_string(v) || !metric_name_ok(json_string_value(v))) {
		snprintf(field, sizeof(field), "metrics[%zu].name", i);
		jschema_error(errs, field, "must be 1 to 100 of a-z A-Z 0-9 . _ - :");
		ok = false;
	} else {
		sm->name = json_string_value(v);
	}
	v = json_object_get(m, "value");
	if (!json_is_number(v) || !(fabs(json_number_value(v)) <= VALUE_MAX)) {
		snprintf(field, sizeof(field), "metrics[%zu].value", i);
		jschema_error(errs, field, "must be a number between -1e15 and 1e15");
		ok = false;
	} else {
		sm->value = json_number_value(v);
	}
	*labels = json_object_get(m, "labels");
	sm->labels = monitor_labels_text(r->a, *labels, &why);
	if (!sm->labels) {
		snprintf(field, sizeof(field), "metrics[%zu].labels", i);
		jschema_error(errs, field, why);
		ok = false;
	}
	v = json_object_get(m, "at");
	sm->at = at;
	if (v && !instant_of(v, &sm->at)) {
		snprintf(field, sizeof(field), "metrics[%zu].at", i);
		jschema_error(errs, field, "must be an RFC 3339 instant or milliseconds since the epoch, from 2000 on");
		ok = false;
	}
	if (sm->at > now + FUTURE_SLACK_MS)
		sm->at = now;
	return ok;
}

void h_agent_checkin(struct req *r)
{
	struct device d;
	struct checkin_ctx *c;
	json_t *errs, *metrics, *v, *latest, **labels;
	int64_t now = clock_now_ms(), at = now, batch;
	const char *k;
	struct mon_snap *snap;
	struct err e;
	size_t nm, np = 0, cap;
	bool maint;

	if (!device_of(r, &d))
		return;
	errs = json_array();
	json_object_foreach(r->json, k, v)
		if (strcmp(k, "batch_id") && strcmp(k, "at") && strcmp(k, "metrics") && strcmp(k, "inventory"))
			jschema_error(errs, k, "unknown field");
	v = json_object_get(r->json, "batch_id");
	batch = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
	if (batch < 1)
		jschema_error(errs, "batch_id", "is required: an integer from 1, new for every batch");
	v = json_object_get(r->json, "at");
	if (v && !instant_of(v, &at))
		jschema_error(errs, "at", "must be an RFC 3339 instant or milliseconds since the epoch, from 2000 on");
	if (at > now + FUTURE_SLACK_MS)
		at = now;
	metrics = json_object_get(r->json, "metrics");
	if (!json_is_array(metrics))
		jschema_error(errs, "metrics", "is required: an array of {name, value, labels?, at?}");
	else if (json_array_size(metrics) > CHECKIN_MAX_METRICS)
		jschema_error(errs, "metrics", "may hold at most 1000 samples");
	v = json_object_get(r->json, "inventory");
	if (v && !json_is_object(v) && !json_is_null(v))
		jschema_error(errs, "inventory", "must be an object");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	nm = json_array_size(metrics);
	c = arena_alloc(r->a, sizeof(*c));
	labels = arena_alloc(r->a, sizeof(*labels) * (nm ? nm : 1));
	if (!c || !labels) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->ci.samples = arena_alloc(r->a, sizeof(*c->ci.samples) * (nm ? nm : 1));
	if (!c->ci.samples) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < nm; i++)
		parse_metric(r, json_array_get(metrics, i), i, at, now, &c->ci.samples[i], &labels[i], errs);
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	c->ci.n = nm;
	c->ci.device_id = d.id;
	c->ci.client_id = d.client_id;
	c->ci.batch_id = batch;
	c->ci.now = now;
	if (json_is_object(v)) {
		c->ci.inventory = dump(r, v);
		if (c->ci.inventory && strlen(c->ci.inventory) > INVENTORY_MAX) {
			invalid1(r, "inventory", "may be at most 64 KiB");
			return;
		}
	}
	/* The latest readings, by series: merged into the device's, the newer
	 * reading of a series winning (a late batch from the spool does not
	 * hide fresher ones; a check-in that lacks a series keeps its last). */
	latest = latest_merge(d.latest, c->ci.samples, nm, r->a);
	c->ci.latest = dump(r, latest);
	json_decref(latest);
	if (c->ci.latest && strlen(c->ci.latest) > LATEST_BYTES) {
		/* Too big merged: this check-in's alone, else nothing. */
		latest = latest_merge(NULL, c->ci.samples, nm, r->a);
		c->ci.latest = dump(r, latest);
		json_decref(latest);
		if (c->ci.latest && strlen(c->ci.latest) > LATEST_BYTES)
			c->ci.latest = "{}";
	}

	/* The alerts the samples move. */
	snap = monitor_snap_get(r->srv->store, &e);
	if (!snap) {
		req_fail(r, e.code, &e);
		return;
	}
	maint = monitor_in_maintenance(snap, d.client_id, d.id, at);
	cap = nm * 8 + 8;        /* at most 8 checks a sample, and the heartbeat's */
	c->ci.steps.items = arena_alloc(r->a, sizeof(*c->ci.steps.items) * cap);
	c->ss.items = arena_alloc(r->a, sizeof(*c->ss.items) * cap);
	if (!c->ci.steps.items || !c->ss.items) {
		monitor_snap_put(snap);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	for (size_t i = 0; i <= nm && np < cap; i++) {
		const struct check_row *cs[8];
		/* i == nm: the heartbeat (age 0: it is here now). */
		const char *metric = i < nm ? c->ci.samples[i].name : METRIC_HEARTBEAT;
		const char *ltext = i < nm ? c->ci.samples[i].labels : "";
		size_t n = monitor_checks_for(snap, d.client_id, d.id, metric, i < nm ? labels[i] : NULL,
					      cs, ARRAY_SIZE(cs));
		if (i < nm && !strcmp(metric, METRIC_HEARTBEAT))
			continue;   /* the server's own metric */
		for (size_t k2 = 0; k2 < n && np < cap; k2++) {
			struct alert_pair *p = &c->ci.steps.items[np];
			struct sample_step *s = &c->ss.items[np];
			memset(p, 0, sizeof(*p));
			p->client_id = d.client_id;
			p->device_id = d.id;
			p->check_id = cs[k2]->id;
			p->key = monitor_alert_key(r->a, cs[k2]->id, d.id, ltext);
			p->source = "check";
			p->name = arena_strdup(r->a, cs[k2]->name);
			p->labels = ltext;
			s->check = cs[k2];
			s->value = i < nm ? c->ci.samples[i].value : 0;
			s->at = i < nm ? c->ci.samples[i].at : now;
			s->in_maintenance = maint;
			np++;
		}
	}
	/* The rules are copied: the snapshot may go before the write runs. */
	for (size_t i = 0; i < np; i++) {
		struct check_row *cp = arena_alloc(r->a, sizeof(*cp));
		if (!cp) {
			monitor_snap_put(snap);
			req_fail(r, RC_NOMEM, NULL);
			return;
		}
		*cp = *c->ss.items[i].check;
		cp->name = cp->metric = cp->labels = cp->impact = NULL;
		c->ss.items[i].check = cp;
	}
	monitor_snap_put(snap);
	c->ci.steps.n = np;
	c->ci.steps.fn = monitor_step_sample;
	c->ci.steps.arg = &c->ss;
	c->ci.steps.now = now;
	r->ctx = c;
	req_write_init(r, W_CHECKIN, NULL, "device");
	r->w.scope = scope_system();
	r->w.in.checkin = &c->ci;
	req_write(r, checked_in);
}

/* ---- retiring alerts (a check deleted, a device retired) --------------------------------- */

static int step_retire(void *arg, size_t i, struct alert *a, double *value, bool *has_value)
{
	UNUSED(i);
	UNUSED(value);
	UNUSED(has_value);
	return (int)alert_retire(a, *(const int64_t *)arg);
}

/* Ends the open alerts of aq (their tickets are resolved or noted by the
 * scheduler), then runs next(r); a failure answers. */
static void retire_then(struct req *r, struct alert_q *aq, handler_fn next)
{
	struct alert_list l;
	struct alert_steps *as;
	int64_t *now;
	struct err e;

	aq->status = ALQ_OPEN;
	aq->limit = 1000;
	if (store_alert_list(r->srv->store, &r->scope, aq, r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (!l.n) {
		next(r);
		return;
	}
	as = arena_alloc(r->a, sizeof(*as));
	now = arena_alloc(r->a, sizeof(*now));
	if (!as || !now || !(as->items = arena_alloc(r->a, sizeof(*as->items) * l.n))) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	*now = clock_now_ms();
	for (size_t i = 0; i < l.n; i++) {
		memset(&as->items[i], 0, sizeof(as->items[i]));
		as->items[i].alert_id = l.items[i].id;
		as->items[i].client_id = l.items[i].client_id;
	}
	as->n = l.n;
	as->fn = step_retire;
	as->arg = now;
	as->now = *now;
	as->events = 0;
	as->alert_id = 0;
	req_write_init(r, W_ALERT_STEP, NULL, "alert");
	r->w.in.steps = as;
	req_write(r, next);
}

/* ---- devices -------------------------------------------------------------------------------- */

static const char *device_status(const struct mon_snap *snap, const struct device *d, int64_t now)
{
	int64_t after = snap ? monitor_offline_after(snap, d->client_id, d->id) : 0;

	if (!after)
		after = MONITOR_OFFLINE_DEFAULT_S;
	if (!d->last_seen_at || now - d->last_seen_at > after * 1000)
		return "offline";
	return "online";
}

static json_t *device_json(const struct device *d, const struct mon_snap *snap, int64_t now)
{
	return json_pack("{s:I,s:I,s:s,s:o,s:s,s:o,s:o,s:b,s:I}", "id", (json_int_t)d->id, "client_id",
			 (json_int_t)d->client_id, "hostname", d->hostname ? d->hostname : "", "os",
			 json_str_or_null(d->os), "status", device_status(snap, d, now), "last_seen_at",
			 json_instant(d->last_seen_at), "created_at", json_instant(d->created_at),
			 "active", d->active, "version", (json_int_t)d->version);
}

/* The latest readings as [{name, labels, value, at}], by name. */
static json_t *latest_json(const char *latest)
{
	json_t *o = json_or_null(latest), *arr = json_array(), *v;
	const char *k;

	json_object_foreach(o, k, v) {
		const char *brace = strchr(k, '{');
		json_t *labels = brace ? json_loads(brace, 0, NULL) : NULL;
		json_t *name = brace ? json_stringn(k, (size_t)(brace - k)) : json_string(k);
		json_array_append_new(arr, json_pack("{s:o,s:o,s:O,s:o}", "name", name ? name : json_null(),
						     "labels", labels ? labels : json_object(), "value",
						     json_array_get(v, 0), "at",
						     json_instant((int64_t)json_integer_value(json_array_get(v, 1)))));
	}
	json_decref(o);
	return arr;
}

void h_device_list(struct req *r)
{
	struct list_q q;
	struct device_list l;
	struct err e;
	json_t *arr;
	const char *status = req_query(r, "status");
	struct mon_snap *snap;
	int64_t now = clock_now_ms();

	if (!req_page(r, &q) || !query_id(r, "client_id", &q.client_id))
		return;
	if (status && strcmp(status, "online") && strcmp(status, "offline")) {
		invalid1(r, "status", "must be online or offline");
		return;
	}
	if (store_device_list(r->srv->store, &r->scope, &q, r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	snap = monitor_snap_get(r->srv->store, &e);
	arr = json_array();
	for (size_t i = 0; i < l.n; i++) {
		json_t *o;
		if (status && strcmp(status, device_status(snap, &l.items[i], now)))
			continue;
		o = device_json(&l.items[i], snap, now);
		json_object_set_new(o, "metrics", latest_json(l.items[i].latest));
		json_array_append_new(arr, o);
	}
	monitor_snap_put(snap);
	req_json(r, 200, page_json(arr, l.next_after));
}

static json_t *alert_json(const struct alert_row *a);

void h_device_get(struct req *r)
{
	struct device d;
	struct err e;
	struct alert_q aq = { 0 };
	struct alert_list al;
	struct mon_snap *snap;
	json_t *o, *arr;

	if (store_device_get(r->srv->store, &r->scope, r->params[0], r->a, &d, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	snap = monitor_snap_get(r->srv->store, &e);
	o = device_json(&d, snap, clock_now_ms());
	monitor_snap_put(snap);
	json_object_set_new(o, "inventory", json_or_null(d.inventory));
	json_object_set_new(o, "inventory_at", json_instant(d.inventory_at));
	json_object_set_new(o, "metrics", latest_json(d.latest));
	aq.device_id = d.id;
	aq.status = ALQ_OPEN;
	aq.limit = 100;
	arr = json_array();
	if (store_alert_list(r->srv->store, &r->scope, &aq, r->a, &al, &e) == RC_OK)
		for (size_t i = 0; i < al.n; i++)
			json_array_append_new(arr, alert_json(&al.items[i]));
	json_object_set_new(o, "alerts", arr);
	req_etag(r, d.version);
	req_json(r, 200, o);
}

static void device_retired(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	jobs_kick();
	h_device_get(r);
}

static void device_patched(struct req *r)
{
	struct alert_q aq = { 0 };

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (r->w.in.device.active) {
		h_device_get(r);
		return;
	}
	/* Retired: its alerts end (their tickets are resolved or noted). */
	aq.device_id = r->params[0];
	retire_then(r, &aq, device_retired);
}

struct device_in { bool active; };
static const struct jfield device_fields[] = {
	{ "active", JT_BOOL, JF_REQUIRED, offsetof(struct device_in, active), 0, 0, NULL },
};

void h_device_patch(struct req *r)
{
	struct device_in in = { true };
	struct jseen seen;
	json_t *errs = json_array();
	int64_t ver;

	if (!jschema_parse(r->json, device_fields, ARRAY_SIZE(device_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (!req_if_match(r, &ver))
		return;
	req_write_init(r, W_DEVICE_UPDATE, "device.update", "device");
	r->w.id = r->params[0];
	r->w.if_version = ver;
	r->w.fields = F_ACTIVE;
	r->w.in.device.active = in.active;
	req_write(r, device_patched);
}

/* The series named by ?metric=&labels=&range= of device params[0]. */
static bool series_query(struct req *r, const char **metric, const char **labels, int64_t *step,
			 int64_t *from, int64_t *to)
{
	const char *range = req_query(r, "range"), *lt = req_query(r, "labels"), *why;
	json_t *lj = NULL;

	*metric = req_query(r, "metric");
	if (!*metric || !metric_name_ok(*metric)) {
		invalid1(r, "metric", "is required: a metric name");
		return false;
	}
	if (lt && *lt) {
		lj = json_loads(lt, 0, NULL);
		*labels = lj ? monitor_labels_text(r->a, lj, &why) : NULL;
		json_decref(lj);
		if (!*labels) {
			invalid1(r, "labels", "must be a JSON object of strings, e.g. {\"mount\":\"/\"}");
			return false;
		}
	} else {
		*labels = "";
	}
	*to = clock_now_ms();
	if (!range || !strcmp(range, "24h")) {
		*step = 60000;
		*from = *to - 86400000LL;
	} else if (!strcmp(range, "7d")) {
		*step = 3600000;
		*from = *to - 7 * 86400000LL;
	} else {
		invalid1(r, "range", "must be 24h or 7d");
		return false;
	}
	*from -= *from % *step;
	return true;
}

void h_device_series(struct req *r)
{
	const char *metric, *labels;
	int64_t step, from, to;
	struct series_points pts;
	struct err e;
	json_t *arr;

	if (!series_query(r, &metric, &labels, &step, &from, &to))
		return;
	if (store_series_points(r->srv->store, &r->scope, r->params[0], metric, labels, step, from, r->a,
				&pts, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < pts.n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:f,s:f,s:f}", "at", json_instant(pts.items[i].at),
						     "avg", pts.items[i].avg, "min", pts.items[i].min,
						     "max", pts.items[i].max));
	req_json(r, 200, json_pack("{s:s,s:o,s:s,s:I,s:o,s:o,s:o}", "metric", metric, "labels",
				   json_or_null(*labels ? labels : "{}"), "range",
				   step == 60000 ? "24h" : "7d", "step_seconds", (json_int_t)(step / 1000),
				   "from", json_instant(from), "to", json_instant(to), "points", arr));
}

void h_device_chart(struct req *r)
{
	const char *metric, *labels;
	int64_t step, from, to;
	struct series_points pts;
	struct err e;
	const char *svg;

	if (!series_query(r, &metric, &labels, &step, &from, &to))
		return;
	if (store_series_points(r->srv->store, &r->scope, r->params[0], metric, labels, step, from, r->a,
				&pts, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	{
		const char *lab = monitor_labels_display(r->a, labels);
		size_t ml = strlen(metric);
		bool percent = ml > 7 && !strcmp(metric + ml - 7, "percent");
		svg = chart_svg(r->a, pts.items, pts.n, from, to,
				arena_printf(r->a, "%s%s%s%s", metric, *lab ? " (" : "", lab, *lab ? ")" : ""),
				percent);
	}
	if (!svg) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	req_header(r, "Cache-Control", "no-store");
	req_text(r, 200, "image/svg+xml", svg, strlen(svg));
}

/* ---- checks --------------------------------------------------------------------------------- */

static json_t *check_json(const struct check_row *c)
{
	bool offline = !strcmp(c->metric, METRIC_HEARTBEAT);
	json_t *o = json_pack("{s:I,s:o,s:o,s:s,s:s,s:s,s:o,s:s,s:o,s:o,s:f,s:I,s:i,s:I,s:s,s:b,s:o,s:o,s:I}",
			      "id", (json_int_t)c->id,
			      "client_id", c->client_id ? json_integer(c->client_id) : json_null(),
			      "device_id", c->device_id ? json_integer(c->device_id) : json_null(),
			      "name", c->name ? c->name : "", "kind", offline ? "offline" : "metric",
			      "metric", c->metric, "labels", json_or_null(c->labels),
			      "op", check_cmp_names[c->rule.cmp],
			      "warn", num_or_null(c->rule.has_warn, c->rule.warn),
			      "crit", num_or_null(c->rule.has_crit, c->rule.crit),
			      "hysteresis", c->rule.hysteresis, "for_seconds", (json_int_t)(c->rule.for_ms / 1000),
			      "flap_changes", c->rule.flap_changes,
			      "flap_window_seconds", (json_int_t)(c->rule.flap_window_ms / 1000),
			      "impact", c->impact ? c->impact : "medium", "enabled", c->enabled,
			      "created_at", json_instant(c->created_at), "updated_at", json_instant(c->updated_at),
			      "version", (json_int_t)c->version);
	if (offline && c->rule.has_crit)
		json_object_set_new(o, "offline_after", json_integer((json_int_t)c->rule.crit));
	return o;
}

struct check_in {
	int64_t client_id, device_id, for_seconds, flap_changes, flap_window, offline_after;
	const char *name, *kind, *metric, *op, *impact;
	json_t *labels;
	double warn, crit, hysteresis;
	bool enabled;
};
enum { CK_CLIENT, CK_DEVICE, CK_NAME, CK_KIND, CK_METRIC, CK_LABELS, CK_OP, CK_WARN, CK_CRIT,
       CK_HYST, CK_FOR, CK_FLAP, CK_FLAPWIN, CK_IMPACT, CK_ENABLED, CK_OFFLINE, CK_COUNT };
static const char *const kind_choices[] = { "metric", "offline", NULL };
static const char *const impact_choices[] = { "low", "medium", "high", NULL };
static const struct jfield check_fields[CK_COUNT] = {
	[CK_CLIENT] = { "client_id", JT_INT, JF_NULLABLE, offsetof(struct check_in, client_id), 1, INT64_MAX, NULL },
	[CK_DEVICE] = { "device_id", JT_INT, JF_NULLABLE, offsetof(struct check_in, device_id), 1, INT64_MAX, NULL },
	[CK_NAME] = { "name", JT_STRING, 0, offsetof(struct check_in, name), 1, 200, NULL },
	[CK_KIND] = { "kind", JT_ENUM, 0, offsetof(struct check_in, kind), 0, 0, kind_choices },
	[CK_METRIC] = { "metric", JT_STRING, 0, offsetof(struct check_in, metric), 1, 100, NULL },
	[CK_LABELS] = { "labels", JT_OBJECT, JF_NULLABLE, offsetof(struct check_in, labels), 0, 0, NULL },
	[CK_OP] = { "op", JT_ENUM, 0, offsetof(struct check_in, op), 0, 0, check_cmp_names },
	[CK_WARN] = { "warn", JT_NUMBER, JF_NULLABLE, offsetof(struct check_in, warn), -1000000000000000, 1000000000000000, NULL },
	[CK_CRIT] = { "crit", JT_NUMBER, JF_NULLABLE, offsetof(struct check_in, crit), -1000000000000000, 1000000000000000, NULL },
	[CK_HYST] = { "hysteresis", JT_NUMBER, 0, offsetof(struct check_in, hysteresis), 0, 1000000000000000, NULL },
	[CK_FOR] = { "for_seconds", JT_INT, 0, offsetof(struct check_in, for_seconds), 0, 30 * 86400, NULL },
	[CK_FLAP] = { "flap_changes", JT_INT, 0, offsetof(struct check_in, flap_changes), 0, ALERT_FLAP_MAX, NULL },
	[CK_FLAPWIN] = { "flap_window_seconds", JT_INT, 0, offsetof(struct check_in, flap_window), 0, 30 * 86400, NULL },
	[CK_IMPACT] = { "impact", JT_ENUM, 0, offsetof(struct check_in, impact), 0, 0, impact_choices },
	[CK_ENABLED] = { "enabled", JT_BOOL, 0, offsetof(struct check_in, enabled), 0, 0, NULL },
	[CK_OFFLINE] = { "offline_after", JT_INT, 0, offsetof(struct check_in, offline_after), 30, 30 * 86400, NULL },
};

#define HAS(seen, f) (((seen).present >> (f)) & 1u)

/* Validates a check body onto row (a PATCH starts from the stored row). */
static bool check_parse(struct req *r, struct check_row *row, bool creating)
{
	struct check_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct err e;
	const char *why;
	bool offline;

	jschema_parse(r->json, check_fields, CK_COUNT, &in, &seen, errs);
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	offline = in.kind ? !strcmp(in.kind, "offline") : row->metric && !strcmp(row->metric, METRIC_HEARTBEAT);
	if (offline) {
		if (HAS(seen, CK_METRIC) && strcmp(in.metric, METRIC_HEARTBEAT))
			jschema_error(errs, "metric", "an offline check has no metric (give offline_after)");
		if (creating && !HAS(seen, CK_OFFLINE) && !HAS(seen, CK_CRIT) && !HAS(seen, CK_WARN))
			jschema_error(errs, "offline_after", "is required: seconds without a check-in");
		row->metric = METRIC_HEARTBEAT;
		row->rule.cmp = CMP_GT;
		if (HAS(seen, CK_OFFLINE)) {
			row->rule.has_crit = true;
			row->rule.crit = (double)in.offline_after;
			row->rule.has_warn = false;
		}
		if (!row->name && !HAS(seen, CK_NAME))
			row->name = "Offline";
	} else {
		if (HAS(seen, CK_OFFLINE))
			jschema_error(errs, "offline_after", "only for kind offline");
		if (HAS(seen, CK_METRIC)) {
			if (!metric_name_ok(in.metric) || !strcmp(in.metric, METRIC_HEARTBEAT))
				jschema_error(errs, "metric", "must be a metric name (for heartbeats use kind offline)");
			row->metric = in.metric;
		} else if (creating) {
			jschema_error(errs, "metric", "is required");
		}
		if (HAS(seen, CK_OP))
			row->rule.cmp = (enum check_cmp)name_index(check_cmp_names, in.op);
		else if (creating)
			jschema_error(errs, "op", "is required: one of >, >=, <, <=");
	}
	if (HAS(seen, CK_NAME))
		row->name = in.name;
	else if (creating && !row->name)
		row->name = row->metric ? row->metric : "check";
	if (HAS(seen, CK_CLIENT))
		row->client_id = in.client_id;
	if (HAS(seen, CK_DEVICE))
		row->device_id = in.device_id;
	if (HAS(seen, CK_LABELS)) {
		row->labels = monitor_labels_text(r->a, in.labels, &why);
		if (!row->labels)
			jschema_error(errs, "labels", why);
		else if (!*row->labels)
			row->labels = NULL;
	}
	if (HAS(seen, CK_WARN)) {
		row->rule.has_warn = !(seen.nulls >> CK_WARN & 1u);
		row->rule.warn = in.warn;
	}
	if (HAS(seen, CK_CRIT)) {
		row->rule.has_crit = !(seen.nulls >> CK_CRIT & 1u);
		row->rule.crit = in.crit;
	}
	if (HAS(seen, CK_HYST))
		row->rule.hysteresis = in.hysteresis;
	if (HAS(seen, CK_FOR))
		row->rule.for_ms = in.for_seconds * 1000;
	if (HAS(seen, CK_FLAP))
		row->rule.flap_changes = (int)in.flap_changes;
	if (HAS(seen, CK_FLAPWIN))
		row->rule.flap_window_ms = in.flap_window * 1000;
	if (HAS(seen, CK_IMPACT))
		row->impact = in.impact;
	if (HAS(seen, CK_ENABLED))
		row->enabled = in.enabled;
	if (!row->impact)
		row->impact = offline ? "high" : "medium";
	if (!json_array_size(errs) && check_rule_valid(&row->rule, &e) != RC_OK) {
		const char *f = !strcmp(e.field, "warning") ? "warn" : !strcmp(e.field, "critical") ? "crit"
				: !strcmp(e.field, "comparison") ? "op" : e.field;
		jschema_error(errs, f, e.msg);
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	return true;
}

static void check_answer(struct req *r, int64_t id, int status)
{
	struct check_row c;
	struct err e;

	if (store_check_get(r->srv->store, &r->scope, id, r->a, &c, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/checks/%" PRId64, id));
	req_etag(r, c.version);
	req_json(r, status, check_json(&c));
}

static void check_written(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	monitor_changed();
	check_answer(r, r->w.id, r->w.in.check.id ? 200 : 201);
}

void h_check_create(struct req *r)
{
	struct check_row row = { 0 };

	row.enabled = true;
	if (!check_parse(r, &row, true))
		return;
	req_write_init(r, W_CHECK_PUT, "check.create", "check");
	r->w.in.check = row;
	req_write(r, check_written);
}

void h_check_patch(struct req *r)
{
	struct check_row row;
	struct err e;
	int64_t ver;

	if (!req_if_match(r, &ver))
		return;
	if (store_check_get(r->srv->store, &r->scope, r->params[0], r->a, &row, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (!check_parse(r, &row, false))
		return;
	req_write_init(r, W_CHECK_PUT, "check.update", "check");
	r->w.in.check = row;
	r->w.if_version = ver;
	req_write(r, check_written);
}

static void deleted_changed(struct req *r)
{
	if (r->w.rc == RC_OK)
		monitor_changed();
	req_written_204(r);
}

static void check_delete_run(struct req *r)
{
	if (r->w.kind == W_ALERT_STEP && r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	jobs_kick();
	req_write_init(r, W_CHECK_DELETE, "check.delete", "check");
	r->w.id = r->params[0];
	req_write(r, deleted_changed);
}

void h_check_delete(struct req *r)
{
	struct check_row c;
	struct alert_q aq = { 0 };
	struct err e;

	/* Only staff delete (the store says so too); its alerts end first. */
	if (store_check_get(r->srv->store, &r->scope, r->params[0], r->a, &c, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (!r->scope.all_tenants) {
		req_deny(r, "only provider staff manage checks");
		return;
	}
	aq.check_id = c.id;
	retire_then(r, &aq, check_delete_run);
}

void h_check_get(struct req *r)
{
	check_answer(r, r->params[0], 200);
}

void h_check_list(struct req *r)
{
	int64_t client;
	struct check_list l;
	struct err e;
	json_t *arr;

	if (!query_id(r, "client_id", &client))
		return;
	if (store_check_list(r->srv->store, &r->scope, client, r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(arr, check_json(&l.items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", arr));
}

/* ---- alerts --------------------------------------------------------------------------------- */

static const char *alert_status_text(const struct alert_row *a)
{
	if (a->st.status == AL_INACTIVE)
		return a->st.resolved_at ? "resolved" : "inactive";
	return alert_status_names[a->st.status];
}

static json_t *alert_json(const struct alert_row *a)
{
	enum severity sv = a->st.status == AL_INACTIVE ? a->st.announced_severity : a->st.severity;

	return json_pack("{s:I,s:I,s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:o,s:b,s:b,s:o,s:o,s:b,s:o,"
			 "s:o,s:o,s:o,s:o,s:o}",
			 "id", (json_int_t)a->id, "client_id", (json_int_t)a->client_id,
			 "device_id", a->device_id ? json_integer(a->device_id) : json_null(),
			 "check_id", a->check_id ? json_integer(a->check_id) : json_null(),
			 "source", a->source ? a->source : "check", "name", a->name ? a->name : "",
			 "labels", json_or_null(a->labels && *a->labels ? a->labels : "{}"),
			 "summary", json_str_or_null(a->summary), "hostname", json_str_or_null(a->hostname),
			 "status", alert_status_text(a), "severity", severity_names[sv == SEV_OK ? SEV_WARNING : sv],
			 "value", num_or_null(a->has_value, a->value), "flapping", a->st.flapping,
			 "acked", a->st.acked, "acked_at", json_instant(a->acked_at),
			 "acked_by", a->acked_by ? json_integer(a->acked_by) : json_null(),
			 "in_maintenance", a->st.in_maintenance,
			 "pending_since", json_instant(a->st.status == AL_PENDING ? a->st.pending_since : 0),
			 "firing_since", json_instant(a->st.firing_since), "resolved_at",
			 json_instant(a->st.status == AL_INACTIVE ? a->st.resolved_at : 0),
			 "ticket_id", a->ticket_id ? json_integer(a->ticket_id) : json_null(),
			 "created_at", json_instant(a->created_at), "updated_at", json_instant(a->updated_at));
}

void h_alert_list(struct req *r)
{
	static const char *const names[] = { "open", "firing", "pending", "resolved", "all", NULL };
	struct list_q q;
	struct alert_q aq = { 0 };
	struct alert_list l;
	struct err e;
	const char *st = req_query(r, "status");
	json_t *arr;

	if (!req_page(r, &q) || !query_id(r, "client_id", &aq.client_id) ||
	    !query_id(r, "device_id", &aq.device_id))
		return;
	aq.status = st ? name_index(names, st) : ALQ_OPEN;
	if (aq.status < 0) {
		invalid1(r, "status", "must be open, firing, pending, resolved or all");
		return;
	}
	aq.after = q.after;
	aq.limit = q.limit;
	if (store_alert_list(r->srv->store, &r->scope, &aq, r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(arr, alert_json(&l.items[i]));
	req_json(r, 200, page_json(arr, l.next_after));
}

void h_alert_get(struct req *r)
{
	struct alert_row a;
	struct alert_event_list ev;
	struct err e;
	json_t *o, *arr;

	if (store_alert_get(r->srv->store, &r->scope, r->params[0], r->a, &a, &e) != RC_OK ||
	    store_alert_events(r->srv->store, &r->scope, a.id, r->a, &ev, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	o = alert_json(&a);
	arr = json_array();
	for (size_t i = ev.n; i-- > 0;)
		json_array_append_new(arr, json_pack("{s:o,s:s,s:s,s:o}", "at", json_instant(ev.items[i].at),
						     "kind", ev.items[i].kind, "severity",
						     severity_names[ev.items[i].severity],
						     "value", num_or_null(ev.items[i].has_value, ev.items[i].value)));
	json_object_set_new(o, "events", arr);
	req_etag(r, a.version);
	req_json(r, 200, o);
}

static int step_ack(void *arg, size_t i, struct alert *a, double *value, bool *has_value)
{
	UNUSED(arg);
	UNUSED(i);
	UNUSED(value);
	UNUSED(has_value);
	if (a->acked)
		return -1;          /* acknowledged already */
	return alert_ack(a) ? (int)AE_ACK : -1;
}

static void acked(struct req *r)
{
	if (r->w.rc == RC_CONFLICT) {
		req_problem(r, 409, "conflict", "Not firing", "only a firing alert that is not "
			    "acknowledged yet can be acknowledged");
		return;
	}
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	jobs_kick();
	h_alert_get(r);
}

void h_alert_ack(struct req *r)
{
	struct alert_steps *as = arena_alloc(r->a, sizeof(*as));
	struct alert_pair *p = arena_alloc(r->a, sizeof(*p));

	if (!as || !p) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	memset(as, 0, sizeof(*as));
	memset(p, 0, sizeof(*p));
	p->alert_id = r->params[0];
	as->items = p;
	as->n = 1;
	as->fn = step_ack;
	as->now = clock_now_ms();
	req_write_init(r, W_ALERT_STEP, "alert.ack", "alert");
	r->w.in.steps = as;
	req_write(r, acked);
}

/* ---- maintenance windows ------------------------------------------------------------------ */

static json_t *mw_json(const struct mwindow_row *m)
{
	return json_pack("{s:I,s:I,s:o,s:s,s:o,s:o,s:s,s:o,s:s,s:o,s:o,s:I}", "id", (json_int_t)m->id,
			 "client_id", (json_int_t)m->client_id,
			 "device_id", m->device_id ? json_integer(m->device_id) : json_null(),
			 "name", m->name ? m->name : "", "starts_at", json_instant(m->starts_at),
			 "ends_at", json_instant(m->ends_at), "repeat", m->repeat ? m->repeat : "none",
			 "repeat_until", json_instant(m->repeat_until), "timezone",
			 m->timezone ? m->timezone : "UTC", "created_at", json_instant(m->created_at),
			 "updated_at", json_instant(m->updated_at), "version", (json_int_t)m->version);
}

struct mw_in {
	int64_t client_id, device_id, starts_at, ends_at, repeat_until;
	const char *name, *repeat, *timezone;
};
enum { MW_CLIENT, MW_DEVICE, MW_NAME, MW_STARTS, MW_ENDS, MW_REPEAT, MW_UNTIL, MW_TZ, MW_COUNT };
static const char *const repeat_choices[] = { "none", "daily", "weekly", NULL };
static const struct jfield mw_fields[MW_COUNT] = {
	[MW_CLIENT] = { "client_id", JT_INT, 0, offsetof(struct mw_in, client_id), 1, INT64_MAX, NULL },
	[MW_DEVICE] = { "device_id", JT_INT, JF_NULLABLE, offsetof(struct mw_in, device_id), 1, INT64_MAX, NULL },
	[MW_NAME] = { "name", JT_STRING, 0, offsetof(struct mw_in, name), 1, 200, NULL },
	[MW_STARTS] = { "starts_at", JT_INSTANT, 0, offsetof(struct mw_in, starts_at), 0, 0, NULL },
	[MW_ENDS] = { "ends_at", JT_INSTANT, 0, offsetof(struct mw_in, ends_at), 0, 0, NULL },
	[MW_REPEAT] = { "repeat", JT_ENUM, 0, offsetof(struct mw_in, repeat), 0, 0, repeat_choices },
	[MW_UNTIL] = { "repeat_until", JT_INSTANT, JF_NULLABLE, offsetof(struct mw_in, repeat_until), 0, 0, NULL },
	[MW_TZ] = { "timezone", JT_TZ, 0, offsetof(struct mw_in, timezone), 0, 0, NULL },
};

static bool mw_parse(struct req *r, struct mwindow_row *row, bool creating)
{
	struct mw_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	int64_t period;

	jschema_parse(r->json, mw_fields, MW_COUNT, &in, &seen, errs);
	if (HAS(seen, MW_CLIENT))
		row->client_id = in.client_id;
	if (HAS(seen, MW_DEVICE))
		row->device_id = in.device_id;
	if (HAS(seen, MW_NAME))
		row->name = in.name;
	if (HAS(seen, MW_STARTS))
		row->starts_at = in.starts_at;
	if (HAS(seen, MW_ENDS))
		row->ends_at = in.ends_at;
	if (HAS(seen, MW_REPEAT))
		row->repeat = in.repeat;
	if (HAS(seen, MW_UNTIL))
		row->repeat_until = in.repeat_until;
	if (HAS(seen, MW_TZ))
		row->timezone = in.timezone;
	if (creating) {
		if (!HAS(seen, MW_CLIENT))
			jschema_error(errs, "client_id", "is required");
		if (!HAS(seen, MW_STARTS))
			jschema_error(errs, "starts_at", "is required");
		if (!HAS(seen, MW_ENDS))
			jschema_error(errs, "ends_at", "is required");
	}
	if (!row->repeat)
		row->repeat = "none";
	if (!row->name)
		row->name = "Maintenance";
	period = !strcmp(row->repeat, "daily") ? 86400000LL : !strcmp(row->repeat, "weekly") ? 7 * 86400000LL : 0;
	if (!json_array_size(errs) && row->ends_at <= row->starts_at)
		jschema_error(errs, "ends_at", "must be after starts_at");
	else if (!json_array_size(errs) && period && row->ends_at - row->starts_at > period)
		jschema_error(errs, "ends_at", "a repeating window must not be longer than its period");
	if (!json_array_size(errs) && row->repeat_until && row->repeat_until < row->starts_at)
		jschema_error(errs, "repeat_until", "must not be before starts_at");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	if (!row->timezone) {
		struct client c;
		struct err e;
		row->timezone = store_client_get(r->srv->store, &r->scope, row->client_id, r->a, &c, &e) == RC_OK
				? c.timezone : "UTC";
	}
	return true;
}

static void mw_answer(struct req *r, int64_t id, int status)
{
	struct mwindow_row m;
	struct err e;

	if (store_mwindow_get(r->srv->store, &r->scope, id, r->a, &m, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/maintenance-windows/%" PRId64, id));
	req_etag(r, m.version);
	req_json(r, status, mw_json(&m));
}

static void mw_written(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	monitor_changed();
	jobs_kick();
	mw_answer(r, r->w.id, r->w.in.mw.id ? 200 : 201);
}

void h_mwindow_create(struct req *r)
{
	struct mwindow_row row = { 0 };

	if (!mw_parse(r, &row, true))
		return;
	req_write_init(r, W_MWINDOW_PUT, "maintenance.create", "maintenance_window");
	r->w.in.mw = row;
	req_write(r, mw_written);
}

void h_mwindow_patch(struct req *r)
{
	struct mwindow_row row;
	struct err e;
	int64_t ver;

	if (!req_if_match(r, &ver))
		return;
	if (store_mwindow_get(r->srv->store, &r->scope, r->params[0], r->a, &row, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (!mw_parse(r, &row, false))
		return;
	req_write_init(r, W_MWINDOW_PUT, "maintenance.update", "maintenance_window");
	r->w.in.mw = row;
	r->w.if_version = ver;
	req_write(r, mw_written);
}

void h_mwindow_delete(struct req *r)
{
	req_write_init(r, W_MWINDOW_DELETE, "maintenance.delete", "maintenance_window");
	r->w.id = r->params[0];
	req_write(r, deleted_changed);
}

void h_mwindow_get(struct req *r)
{
	mw_answer(r, r->params[0], 200);
}

void h_mwindow_list(struct req *r)
{
	int64_t client;
	struct mwindow_list l;
	struct err e;
	json_t *arr;

	if (!query_id(r, "client_id", &client))
		return;
	if (store_mwindow_list(r->srv->store, &r->scope, client, r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(arr, mw_json(&l.items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", arr));
}
