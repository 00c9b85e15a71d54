/*
 * api_notify.c: the outbox as the admin sees it (issue 8; docs/MAIL.md):
 * notification templates, webhook subscriptions with their delivery
 * history, and every delivery with its state (pending, sent, failed; the
 * attempts and the last error), which a failed one can be retried from.
 *
 * Templates are addressed by their position in tmpl_defaults (ids 1..n,
 * fixed: new templates are appended), like every other object here; the
 * key ("requester.created") is in the body. A template is checked when it
 * is saved (tmpl_check: known placeholders, one-line subject), so a typo
 * is a 400 naming the field, not a broken e-mail later.
 *
 * A webhook's URL is checked when it is saved (webhook_url_check: http or
 * https, no credentials, a literal address must pass the address policy)
 * and again, with its resolved addresses, at every delivery. Its secret is
 * shown once, when made (or rotated), like every token.
 */
#include "base/common.h"

#include <inttypes.h>
#include <sodium.h>

#include "base/clock.h"
#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"
#include "notify/compose.h"
#include "notify/notify.h"
#include "notify/send.h"

#define HAS(seen, f) (((seen).present >> (f)) & 1u)
#define SUBJECT_MAX 998
#define BODY_MAX 65536

static void invalid1(struct req *r, const char *field, const char *msg)
{
	json_t *errs = json_array();

	jschema_error(errs, field, msg);
	req_invalid(r, errs);
}

/* ---- templates ----------------------------------------------------------------------------------- */

static json_t *template_json(struct req *r, size_t i)
{
	const struct tmpl_default *d = &tmpl_defaults[i];
	struct template_row over;
	struct err e;
	bool has = store_template_get(r->srv->store, d->key, r->a, &over, &e) == RC_OK;

	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:I,s:o,s:s,s:s}", "id", (json_int_t)(i + 1), "key",
			 d->key, "description", d->description, "subject", has ? over.subject : d->subject,
			 "body", has ? over.body : d->body, "customized", has, "version",
			 (json_int_t)(has ? over.version : 0), "updated_at",
			 has ? json_instant(over.updated_at) : json_null(), "default_subject", d->subject,
			 "default_body", d->body);
}

static bool template_index(struct req *r, size_t *i)
{
	if (r->params[0] < 1 || (size_t)r->params[0] > tmpl_defaults_count) {
		req_problem(r, 404, "not-found", "Not found", "no such template");
		return false;
	}
	*i = (size_t)r->params[0] - 1;
	return true;
}

void h_template_list(struct req *r)
{
	json_t *arr = json_array(), *names = json_array();

	for (size_t i = 0; i < tmpl_defaults_count; i++)
		json_array_append_new(arr, template_json(r, i));
	for (size_t k = 0; tmpl_vars_known[k]; k++)
		json_array_append_new(names, json_string(tmpl_vars_known[k]));
	req_json(r, 200, json_pack("{s:o,s:o}", "items", arr, "placeholders", names));
}

void h_template_get(struct req *r)
{
	size_t i;

	if (!template_index(r, &i))
		return;
	req_json(r, 200, template_json(r, i));
}

struct template_in {
	const char *subject, *body;
};

static const struct jfield template_fields[] = {
	{ "subject", JT_STRING, JF_REQUIRED, offsetof(struct template_in, subject), 1, SUBJECT_MAX, NULL },
	{ "body", JT_TEXT, JF_REQUIRED, offsetof(struct template_in, body), 1, BODY_MAX, NULL },
};

static void template_then(struct req *r)
{
	size_t i = (size_t)r->params[0] - 1;

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_json(r, 200, template_json(r, i));
}

void h_template_put(struct req *r)
{
	struct template_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();
	struct err e;
	int64_t ver;
	size_t i;

	if (!template_index(r, &i) || !req_if_match(r, &ver)) {
		json_decref(errs);
		return;
	}
	if (!jschema_parse(r->json, template_fields, ARRAY_SIZE(template_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	if (tmpl_check(in.subject, true, SUBJECT_MAX, "subject", &e) != RC_OK)
		jschema_error(errs, "subject", e.msg);
	if (tmpl_check(in.body, false, BODY_MAX, "body", &e) != RC_OK)
		jschema_error(errs, "body", e.msg);
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	req_write_init(r, W_TEMPLATE_PUT, "template.update", "template");
	r->w.in.tmpl.key = tmpl_defaults[i].key;
	r->w.in.tmpl.subject = in.subject;
	r->w.in.tmpl.body = in.body;
	r->w.in.tmpl.updated_at = clock_now_ms();
	r->w.if_version = ver;
	r->w.audit.object_id = (int64_t)i + 1;
	req_write(r, template_then);
}

/* Back to the built-in text. */
void h_template_delete(struct req *r)
{
	size_t i;

	if (!template_index(r, &i))
		return;
	req_write_init(r, W_TEMPLATE_DELETE, "template.reset", "template");
	r->w.in.tmpl.key = tmpl_defaults[i].key;
	r->w.audit.object_id = (int64_t)i + 1;
	req_write(r, template_then);
}

/* ---- webhooks -------------------------------------------------------------------------------------- */

static json_t *webhook_json(const struct webhook_row *h, const char *secret_once)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:o,s:o,s:b,s:I,s:o,s:o}", "id", (json_int_t)h->id, "name",
			      h->name, "url", h->url, "events", json_loads(h->events, 0, NULL),
			      "client_id", h->client_id ? json_integer(h->client_id) : json_null(),
			      "active", h->active, "version", (json_int_t)h->version, "created_at",
			      json_instant(h->created_at), "updated_at", json_instant(h->updated_at));

	if (o && secret_once)
		json_object_set_new(o, "secret", json_string(secret_once));
	return o;
}

struct webhook_in {
	const char *name, *url;
	json_t *events;
	int64_t client_id;
	bool active, rotate_secret;
};

enum { WF_NAME, WF_URL, WF_EVENTS, WF_CLIENT, WF_ACTIVE, WF_ROTATE, WF_COUNT };

static const struct jfield webhook_fields[WF_COUNT] = {
	{ "name", JT_STRING, 0, offsetof(struct webhook_in, name), 1, 200, NULL },
	{ "url", JT_STRING, 0, offsetof(struct webhook_in, url), 1, 2048, NULL },
	{ "events", JT_ARRAY, 0, offsetof(struct webhook_in, events), 0, 0, NULL },
	{ "client_id", JT_INT, JF_NULLABLE, offsetof(struct webhook_in, client_id), 1, INT64_MAX, NULL },
	{ "active", JT_BOOL, 0, offsetof(struct webhook_in, active), 0, 0, NULL },
	{ "rotate_secret", JT_BOOL, 0, offsetof(struct webhook_in, rotate_secret), 0, 0, NULL },
};

/* A new secret: "whsec_" and 32 random bytes in hex. */
static const char *new_secret(struct req *r)
{
	unsigned char b[32];
	char hex[65];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
	sodium_memzero(b, sizeof(b));
	return arena_printf(r->a, "whsec_%s", hex);
}

/* The events array as stored (canonical JSON), or NULL with errs filled. */
static const char *events_text(struct req *r, json_t *events, json_t *errs)
{
	size_t i;
	json_t *v, *out;
	char *s;
	const char *t;

	if (!json_is_array(events) || !json_array_size(events)) {
		jschema_error(errs, "events", "must be a non-empty array of event names");
		return NULL;
	}
	out = json_array();
	json_array_foreach(events, i, v) {
		const char *name = json_string_value(v);
		bool known = false;
		for (size_t k = 0; name && notify_webhook_events[k]; k++)
			known |= !strcmp(name, notify_webhook_events[k]);
		if (!known) {
			jschema_error(errs, arena_printf(r->a, "events[%zu]", i),
				      "is not an event (ticket.created, ticket.updated, ticket.resolved, "
				      "sla.warning, sla.breach, alert.firing, alert.resolved, *)");
			json_decref(out);
			return NULL;
		}
		json_array_append(out, v);
	}
	s = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	t = arena_strdup(r->a, s ? s : "[]");
	free(s);
	return t;
}

static bool webhook_check(struct req *r, struct webhook_row *h, const struct webhook_in *in,
			  const struct jseen *seen, bool creating)
{
	json_t *errs = json_array();
	struct net_policy p;
	struct err e;

	if (creating) {
		if (!HAS(*seen, WF_NAME))
			jschema_error(errs, "name", "is required");
		if (!HAS(*seen, WF_URL))
			jschema_error(errs, "url", "is required");
		if (!HAS(*seen, WF_EVENTS))
			jschema_error(errs, "events", "is required");
	}
	if (HAS(*seen, WF_NAME))
		h->name = in->name;
	if (HAS(*seen, WF_URL)) {
		if (net_policy_parse(r->srv->cfg.webhook_allow, &p, "webhook_allow", &e) != RC_OK ||
		    webhook_url_check(&p, in->url, "url", &e) != RC_OK)
			jschema_error(errs, "url", e.msg);
		h->url = in->url;
	}
	if (HAS(*seen, WF_EVENTS))
		h->events = events_text(r, in->events, errs);
	if (HAS(*seen, WF_CLIENT)) {
		struct client c;
		h->client_id = in->client_id;
		if (in->client_id &&
		    store_client_get(r->srv->store, &r->scope, in->client_id, r->a, &c, &e) != RC_OK)
			jschema_error(errs, "client_id", "is not a client");
	}
	if (HAS(*seen, WF_ACTIVE))
		h->active = in->active;
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	return true;
}

struct webhook_ctx { const char *secret_once; int status; };

static void webhook_then(struct req *r)
{
	struct webhook_ctx *c = r->ctx;
	struct webhook_row h;
	struct err e;
	int64_t id = r->w.kind == W_WEBHOOK_PUT && r->w.id ? r->w.id : r->params[0];

	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (store_webhook_get(r->srv->store, id, r->a, &h, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (c->status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/webhooks/%" PRId64, h.id));
	req_etag(r, h.version);
	req_json(r, c->status, webhook_json(&h, c->secret_once));
}

void h_webhook_create(struct req *r)
{
	struct webhook_in in = { 0 };
	struct webhook_row h = { 0 };
	struct webhook_ctx *c = arena_alloc(r->a, sizeof(*c));
	struct jseen seen;
	json_t *errs = json_array();

	if (!c) {
		json_decref(errs);
		req_fail(r, RC_NOMEM, NULL);
		return;
	}
	in.active = true;
	if (!jschema_parse(r->json, webhook_fields, WF_COUNT, &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	h.active = true;
	if (!webhook_check(r, &h, &in, &seen, true))
		return;
	h.secret = c->secret_once = new_secret(r);
	h.created_at = h.updated_at = clock_now_ms();
	c->status = 201;
	r->ctx = c;
	req_write_init(r, W_WEBHOOK_PUT, "webhook.create", "webhook");
	r->w.in.webhook = h;
	req_write(r, webhook_then);
}

void h_webhook_list(struct req *r)
{
	struct webhook_row *items;
	size_t n;
	struct err e;
	json_t *arr;

	if (store_webhook_list(r->srv->store, r->a, &items, &n, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, webhook_json(&items[i], NULL));
	req_json(r, 200, json_pack("{s:o}", "items", arr));
}

void h_webhook_get(struct req *r)
{
	struct webhook_row h;
	struct err e;

	if (store_webhook_get(r->srv->store, r->params[0], r->a, &h, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	req_etag(r, h.version);
	req_json(r, 200, webhook_json(&h, NULL));
}

void h_webhook_patch(struct req *r)
{
	struct webhook_in in = { 0 };
	struct webhook_row h;
	struct webhook_ctx *c = arena_alloc(r->a, sizeof(*c));
	struct jseen seen;
	json_t *errs = json_array();
	struct err e;
	int64_t ver;

	if (!c || !req_if_match(r, &ver)) {
		json_decref(errs);
		if (!c)
			req_fail(r, RC_NOMEM, NULL);
		return;
	}
	if (!jschema_parse(r->json, webhook_fields, WF_COUNT, &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	if (store_webhook_get(r->srv->store, r->params[0], r->a, &h, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	if (!webhook_check(r, &h, &in, &seen, false))
		return;
	if (HAS(seen, WF_ROTATE) && in.rotate_secret)
		h.secret = c->secret_once = new_secret(r);
	h.updated_at = clock_now_ms();
	c->status = 200;
	r->ctx = c;
	req_write_init(r, W_WEBHOOK_PUT, "webhook.update", "webhook");
	r->w.in.webhook = h;
	r->w.if_version = ver;
	req_write(r, webhook_then);
}

void h_webhook_delete(struct req *r)
{
	req_write_init(r, W_WEBHOOK_DELETE, "webhook.delete", "webhook");
	r->w.id = r->params[0];
	req_write(r, req_written_204);
}

/* ---- deliveries -------------------------------------------------------------------------------------- */

static json_t *delivery_json(const struct delivery_row *d, bool with_body)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:i,s:o,s:o,s:o,s:o,s:o}",
			      "id", (json_int_t)d->id, "event", d->event, "channel", d->channel,
			      "target", d->target, "template", json_str_or_null(d->template_key),
			      "ticket_id", d->ticket_id ? json_integer(d->ticket_id) : json_null(),
			      "webhook_id", d->webhook_id ? json_integer(d->webhook_id) : json_null(),
			      "message_id", json_str_or_null(d->message_id), "subject",
			      json_str_or_null(d->subject), "state", d->state, "attempts", d->attempts,
			      "last_error", json_str_or_null(d->last_error), "last_status",
			      d->last_status ? json_integer(d->last_status) : json_null(),
			      "next_attempt_at", strcmp(d->state, "pending") ? json_null()
			      : json_instant(d->next_attempt_at), "sent_at", json_instant(d->sent_at),
			      "created_at", json_instant(d->created_at));

	if (o && with_body && d->body)
		json_object_set_new(o, "body", json_stringn_nocheck((const char *)d->body, d->body_len));
	return o;
}

static const char *const state_names[] = { "pending", "sent", "failed", NULL };
static const char *const channel_names_q[] = { "email", "webhook", NULL };

static bool in_list(const char *v, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(v, names[i]))
			return true;
	return false;
}

static void deliveries_answer(struct req *r, struct delivery_q *q)
{
	struct list_q lq;
	struct delivery_list l;
	struct err e;
	json_t *items;

	if (!req_page(r, &lq))
		return;
	q->after = lq.after;
	q->limit = lq.limit;
	q->state = req_query(r, "state");
	q->channel = req_query(r, "channel");
	if (q->state && !in_list(q->state, state_names)) {
		invalid1(r, "state", "must be pending, sent or failed");
		return;
	}
	if (q->channel && !in_list(q->channel, channel_names_q)) {
		invalid1(r, "channel", "must be email or webhook");
		return;
	}
	if (store_delivery_list(r->srv->store, q, r->a, &l, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(items, delivery_json(&l.items[i], false));
	req_json(r, 200, page_json(items, l.next_after));
}

void h_delivery_list(struct req *r)
{
	struct delivery_q q = { 0 };
	const char *t = req_query(r, "ticket_id");

	if (t && (!parse_i64(t, &q.ticket_id) || q.ticket_id <= 0)) {
		invalid1(r, "ticket_id", "must be an id");
		return;
	}
	deliveries_answer(r, &q);
}

void h_webhook_deliveries(struct req *r)
{
	struct delivery_q q = { 0 };
	struct webhook_row h;
	struct err e;

	if (store_webhook_get(r->srv->store, r->params[0], r->a, &h, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	q.webhook_id = h.id;
	deliveries_answer(r, &q);
}

/* What was sent about one ticket, for staff who see the ticket. */
void h_ticket_deliveries(struct req *r)
{
	struct delivery_q q = { 0 };
	struct ticket t;
	struct err e;

	if (store_ticket_get(r->srv->store, &r->scope, r->params[0], r->a, &t, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	q.ticket_id = t.id;
	deliveries_answer(r, &q);
}

void h_delivery_get(struct req *r)
{
	struct delivery_row d;
	struct err e;

	if (store_delivery_get(r->srv->store, r->params[0], r->a, &d, &e) != RC_OK) {
		req_fail(r, e.code, &e);
		return;
	}
	req_json(r, 200, delivery_json(&d, true));
}

static void retried_then(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	notify_kick();
	h_delivery_get(r);
}

void h_delivery_retry(struct req *r)
{
	req_write_init(r, W_DELIVERY_RETRY, "delivery.retry", "delivery");
	r->w.id = r->params[0];
	r->w.in.dres.id = r->params[0];
	r->w.in.dres.now = clock_now_ms();
	req_write(r, retried_then);
}
