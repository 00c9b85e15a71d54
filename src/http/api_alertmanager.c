/*
 * api_alertmanager.c: Prometheus Alertmanager as a source of alerts
 * (issue 7). Alertmanager's webhook (payload version 4) posts groups of
 * alerts; each becomes an itsup alert keyed by its fingerprint, run
 * through the same state machine and ticket lifecycle as the checks':
 * "firing" is a bad sample, "resolved" a good one (at the later of now
 * and the alert's last sample, so the order of arrival is the order of
 * events even on a frozen test clock).
 *
 * A receiver token (created by an admin, stored as SHA-256) is the only
 * credential; it comes as ?token= (Alertmanager's url) or as a Bearer
 * token (its http_config). A client's receiver files everything under
 * that client whatever the labels say; the provider's finds the client
 * from a label. The device is the client's device whose hostname is the
 * device label's value without ":port".
 */
#include "base/common.h"

#include <inttypes.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"
#include "monitor/monitor.h"

#define AM_MAX_ALERTS 1000

/* ---- receivers ------------------------------------------------------------------------------- */

static json_t *amr_json(const struct am_receiver_row *a)
{
	return json_pack("{s:I,s:o,s:s,s:s,s:s,s:o}", "id", (json_int_t)a->id,
			 "client_id", a->client_id ? json_integer(a->client_id) : json_null(),
			 "name", a->name ? a->name : "", "client_label", a->client_label,
			 "device_label", a->device_label, "created_at", json_instant(a->created_at));
}

struct amr_in { const char *name, *client_label, *device_label; };
static const struct jfield amr_fields[] = {
	{ "name", JT_STRING, JF_REQUIRED, offsetof(struct amr_in, name), 1, 200, NULL },
	{ "client_label", JT_STRING, 0, offsetof(struct amr_in, client_label), 1, 100, NULL },
	{ "device_label", JT_STRING, 0, offsetof(struct amr_in, device_label), 1, 100, NULL },
};

struct amr_ctx { char token[TOKEN_MAX]; };

static void amr_created(struct req *r)
{
	struct amr_ctx *c = r->ctx;
	struct am_receiver_row row = r->w.in.amr.row;
	json_t *o;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	row.id = r->w.id;
	row.created_at = clock_now_ms();
	o = amr_json(&row);
	json_object_set_new(o, "token", json_string(c->token));
	json_object_set_new(o, "url", json_sprintf("/api/v1/integrations/alertmanager?token=%s", c->token));
	req_header(r, "Cache-Control", "no-store");
	req_json(r, 201, o);
}

static void amr_create(struct req *r, int64_t client)
{
	struct amr_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct amr_ctx *c = arena_alloc(r->a, sizeof(*c));

	if (!c) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!jschema_parse(r->json, amr_fields, ARRAY_SIZE(amr_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	token_new("itsup_am_", c->token);
	r->ctx = c;
	req_write_init(r, W_AM_RECEIVER_CREATE, "alertmanager_receiver.create", "alertmanager_receiver");
	r->w.in.amr.row.client_id = client;
	r->w.in.amr.row.name = in.name;
	r->w.in.amr.row.client_label = in.client_label ? in.client_label : "client";
	r->w.in.amr.row.device_label = in.device_label ? in.device_label : "instance";
	token_hash(c->token, r->w.in.amr.hash);
	req_write(r, amr_created);
}

void h_amr_create_client(struct req *r)
{
	struct client c;
	struct err e;

	if (store_client_get(r->srv->store, &r->scope, r->params[0], r->a, &c, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	amr_create(r, r->params[0]);
}

void h_amr_create(struct req *r)
{
	amr_create(r, 0);
}

void h_amr_list(struct req *r)
{
	struct am_receiver_row *items;
	size_t n;
	struct err e;
	json_t *arr;

	if (store_am_receiver_list(r->srv->store, &r->scope, r->a, &items, &n, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, amr_json(&items[i]));
	req_json(r, 200, json_pack("{s:o}", "items", arr));
}

/* Revokes a receiver: its token is refused from now on (401). */
void h_amr_delete(struct req *r)
{
	req_write_init(r, W_AM_RECEIVER_DELETE, "alertmanager_receiver.delete", "alertmanager_receiver");
	r->w.id = r->params[0];
	req_write(r, req_written_204);
}

/* ---- the webhook ------------------------------------------------------------------------------ */

struct am_step {
	struct check_rule rule;
	double value;
	bool in_maintenance;
};
struct am_steps { struct am_step *items; int64_t now; };

static int step_am(void *arg, size_t i, struct alert *a, double *value, bool *has_value)
{
	struct am_steps *ss = arg;
	const struct am_step *st = &ss->items[i];
	int64_t at = ss->now > a->last_at ? ss->now : a->last_at + 1;
	unsigned eff = 0;

	if (a->in_maintenance != st->in_maintenance)
		eff |= alert_maintenance(a, st->in_maintenance, at);
	eff |= alert_sample(a, &st->rule, st->value, at);
	*value = st->value;
	*has_value = true;
	return (int)eff;
}

struct am_ctx { struct alert_steps as; struct am_steps ss; json_t *skipped; };

static void am_written(struct req *r)
{
	struct am_ctx *c = r->ctx;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (c->as.events)
		jobs_kick();
	req_json(r, 200, json_pack("{s:I,s:O}", "accepted", (json_int_t)c->as.n, "skipped", c->skipped));
}

/* The receiver of the request's token, or answered 401. */
static bool receiver_of(struct req *r, struct am_receiver_row *rc)
{
	const char *tok = req_query(r, "token");
	const char *authz = req_header_in(r, "Authorization");
	unsigned char h[32];
	struct err e;

	if (!tok && authz && strncasecmp(authz, "Bearer ", 7) == 0)
		tok = authz + 7;
	if (tok)
		token_hash(tok, h);
	if (!tok || store_am_receiver_auth(r->srv->store, h, r->a, rc, &e) != RC_OK) {
		req_header(r, "WWW-Authenticate", "Bearer realm=\"itsup-alertmanager\"");
		req_problem(r, 401, "unauthenticated", "Authentication required",
			    "give a receiver token as ?token= or Authorization: Bearer");
		return false;
	}
	return true;
}

/* The client an alert belongs to: the receiver's, or the label's (a
 * client id or exact name); 0 when none. */
static int64_t client_of(struct req *r, const struct am_receiver_row *rc, json_t *labels)
{
	const char *v = json_string_value(json_object_get(labels, rc->client_label));
	struct scope sys = scope_system();
	struct client c;
	struct err e;
	int64_t id = 0;

	if (rc->client_id)
		return rc->client_id;
	if (!v)
		return 0;
	if (parse_i64(v, &id) && id > 0)
		return store_client_get(r->srv->store, &sys, id, r->a, &c, &e) == RC_OK ? id : 0;
	return store_client_by_name(r->srv->store, v, &id, &e) == RC_OK ? id : 0;
}

static int64_t device_of(struct req *r, const struct am_receiver_row *rc, int64_t client, json_t *labels)
{
	const char *v = json_string_value(json_object_get(labels, rc->device_label));
	char host[256];
	const char *colon;
	int64_t id = 0;
	struct err e;

	if (!v || !*v)
		return 0;
	snprintf(host, sizeof(host), "%s", v);
	/* host:port, but not an IPv6 address without brackets */
	colon = strrchr(host, ':');
	if (colon && strchr(host, ':') == colon)
		host[colon - host] = '\0';
	return store_device_by_host(r->srv->store, client, host, &id, &e) == RC_OK ? id : 0;
}

static bool strings_only(json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
		if (!json_is_string(v))
			return false;
	return true;
}

/* The payload's shape (a malformed one is refused whole); an alert too big
 * to keep (labels past monitor_labels_text's bounds) is skipped alone. */
static bool am_validate(struct req *r, json_t **alerts)
{
	json_t *errs = json_array(), *v;
	size_t i;

	v = json_object_get(r->json, "version");
	if (v && !(json_is_string(v) && !strcmp(json_string_value(v), "4")))
		jschema_error(errs, "version", "only version \"4\" payloads are understood");
	*alerts = json_object_get(r->json, "alerts");
	if (!json_is_array(*alerts))
		jschema_error(errs, "alerts", "is required: Alertmanager's array of alerts");
	else if (json_array_size(*alerts) > AM_MAX_ALERTS)
		jschema_error(errs, "alerts", "at most 1000 alerts a call");
	json_array_foreach(*alerts, i, v) {
		char f[64];
		const char *st = json_string_value(json_object_get(v, "status"));
		const char *fp = json_string_value(json_object_get(v, "fingerprint"));
		json_t *labels = json_object_get(v, "labels");
		json_t *ann = json_object_get(v, "annotations");
		if (!st || (strcmp(st, "firing") && strcmp(st, "resolved"))) {
			snprintf(f, sizeof(f), "alerts[%zu].status", i);
			jschema_error(errs, f, "must be firing or resolved");
		}
		if (!fp || !*fp || strlen(fp) > 64) {
			snprintf(f, sizeof(f), "alerts[%zu].fingerprint", i);
			jschema_error(errs, f, "is required: 1 to 64 characters");
		}
		if (!json_is_object(labels) || !json_is_string(json_object_get(labels, "alertname")) ||
		    !strings_only(labels)) {
			snprintf(f, sizeof(f), "alerts[%zu].labels", i);
			jschema_error(errs, f, "must be an object of strings with alertname");
		}
		if (ann && !json_is_object(ann)) {
			snprintf(f, sizeof(f), "alerts[%zu].annotations", i);
			jschema_error(errs, f, "must be an object");
		}
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	return true;
}

void h_alertmanager(struct req *r)
{
	struct am_receiver_row rc;
	json_t *alerts, *v;
	struct am_ctx *c;
	struct mon_snap *snap;
	struct err e;
	size_t i, n;
	int64_t now = clock_now_ms();

	if (!receiver_of(r, &rc) || !am_validate(r, &alerts))
		return;
	n = json_array_size(alerts);
	c = arena_alloc(r->a, sizeof(*c));
	if (!c || !(c->as.items = arena_alloc(r->a, sizeof(*c->as.items) * (n ? n : 1))) ||
	    !(c->ss.items = arena_alloc(r->a, sizeof(*c->ss.items) * (n ? n : 1)))) {
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	c->as.n = 0;
	c->as.events = 0;
	c->as.alert_id = 0;
	c->ss.now = now;
	c->skipped = json_array();
	arena_defer(r->a, (void (*)(void *))json_decref, c->skipped);
	snap = monitor_snap_get(r->srv->store, &e);
	if (!snap) {
		req_fail(r, e.code, &e);
		return;
	}
	json_array_foreach(alerts, i, v) {
		json_t *labels = json_object_get(v, "labels"), *ann = json_object_get(v, "annotations");
		const char *fp = json_string_value(json_object_get(v, "fingerprint")), *why, *ltext;
		const char *sev = json_string_value(json_object_get(labels, "severity"));
		const char *summary = json_string_value(json_object_get(ann, "summary"));
		int64_t client = client_of(r, &rc, labels), device;
		struct alert_pair *p = &c->as.items[c->as.n];
		struct am_step *st = &c->ss.items[c->as.n];
		bool crit = sev && (!strcmp(sev, "critical") || !strcmp(sev, "page") || !strcmp(sev, "error"));

		if (!client) {
			json_array_append_new(c->skipped, json_pack("{s:s,s:s}", "fingerprint", fp, "reason",
				arena_printf(r->a, "no client: label \"%s\" names none", rc.client_label)));
			continue;
		}
		ltext = monitor_labels_text(r->a, labels, &why);
		if (!ltext) {
			json_array_append_new(c->skipped, json_pack("{s:s,s:s}", "fingerprint", fp, "reason",
				arena_printf(r->a, "labels: %s", why)));
			continue;
		}
		device = device_of(r, &rc, client, labels);
		if (!summary)
			summary = json_string_value(json_object_get(ann, "description"));
		memset(p, 0, sizeof(*p));
		p->client_id = client;
		p->device_id = device;
		p->key = arena_printf(r->a, "am/%s", fp);
		p->labels = ltext;
		p->source = "alertmanager";
		p->name = arena_strdup(r->a, json_string_value(json_object_get(labels, "alertname")));
		p->summary = summary ? arena_strndup(r->a, summary, strlen(summary) > 2000 ? 2000 : strlen(summary)) : NULL;
		memset(st, 0, sizeof(*st));
		st->rule.cmp = CMP_GT;
		if (crit) {
			st->rule.has_crit = true;
			st->rule.crit = 0.5;
		} else {
			st->rule.has_warn = true;
			st->rule.warn = 0.5;
		}
		st->value = !strcmp(json_string_value(json_object_get(v, "status")), "firing") ? 1 : 0;
		st->in_maintenance = monitor_in_maintenance(snap, client, device, now);
		c->as.n++;
	}
	monitor_snap_put(snap);
	c->as.fn = step_am;
	c->as.arg = &c->ss;
	c->as.now = now;
	r->ctx = c;
	req_write_init(r, W_ALERT_STEP, NULL, "alert");
	r->w.scope = scope_system();
	r->w.in.steps = &c->as;
	req_write(r, am_written);
}
