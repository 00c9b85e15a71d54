/*
 * api_tenant.c: client organisations (the tenants) and their contacts.
 *
 * Provider staff see every client; client roles see their own
 * organisation, and another organisation's objects answer 404 (the store
 * enforces it). Client admins and co-managed IT (client_it) may manage
 * their own organisation's contacts; client users may only read them.
 *
 * Contact search (GET /api/v1/contacts?q=) looks across every client the
 * caller sees, so a technician logging a phone call finds "Jane Roe, Acme"
 * in a few keystrokes; what q matches is the store's contract
 * (contact_list in store.h). The handler only trims and bounds q.
 */
#include "base/common.h"

#include <ctype.h>

#include "base/jschema.h"
#include "base/util.h"
#include "http/http.h"
#include "monitor/monitor.h"
#include "ticket/ticket.h"

/* ---- rendering ------------------------------------------------------------------ */

static json_t *client_json(const struct client *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "timezone", json_string(c->timezone));
	json_object_set_new(o, "email_domain", json_str_or_null(c->email_domain));
	json_object_set_new(o, "notes", json_str_or_null(c->notes));
	json_object_set_new(o, "active", json_boolean(c->active));
	json_object_set_new(o, "portal_org_visibility", json_boolean(c->portal_org_visibility));
	json_object_set_new(o, "auto_close_days", json_integer(c->auto_close_days));
	{
		json_t *m = c->priority_matrix ? json_loads(c->priority_matrix, 0, NULL) : NULL;
		json_object_set_new(o, "priority_matrix", m ? m : json_null());
	}
	json_object_set_new(o, "created_at", json_instant(c->created_at));
	json_object_set_new(o, "updated_at", json_instant(c->updated_at));
	return o;
}

static json_t *contact_json(const struct contact *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "client_id", json_integer(c->client_id));
	json_object_set_new(o, "client_name", json_str_or_null(c->client_name));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "email", json_str_or_null(c->email));
	json_object_set_new(o, "phone", json_str_or_null(c->phone));
	json_object_set_new(o, "title", json_str_or_null(c->title));
	json_object_set_new(o, "created_at", json_instant(c->created_at));
	json_object_set_new(o, "updated_at", json_instant(c->updated_at));
	return o;
}

static bool domain_ok(const char *d)
{
	size_t n = strlen(d);

	if (n < 3 || n > 253 || !strchr(d, '.') || d[0] == '.' || d[0] == '-' || d[n - 1] == '.')
		return false;
	for (; *d; d++)
		if (!islower((unsigned char)*d) && !isdigit((unsigned char)*d) && *d != '.' && *d != '-')
			return false;
	return true;
}

/* ---- clients ------------------------------------------------------------------------ */

/* The body as parsed: a client plus the int the table writes as int64. */
struct client_in {
	struct client c;
	int64_t auto_close_days;
};

static const struct jfield client_fields[] = {
	{ "name", JT_STRING, 0, offsetof(struct client, name), 1, 200, NULL },
	{ "timezone", JT_TZ, 0, offsetof(struct client, timezone), 1, 64, NULL },
	{ "email_domain", JT_STRING, JF_NULLABLE, offsetof(struct client, email_domain), 0, 253, NULL },
	{ "notes", JT_TEXT, JF_NULLABLE, offsetof(struct client, notes), 0, 10000, NULL },
	{ "active", JT_BOOL, 0, offsetof(struct client, active), 0, 0, NULL },
	{ "portal_org_visibility", JT_BOOL, 0, offsetof(struct client, portal_org_visibility), 0, 0, NULL },
	{ "auto_close_days", JT_INT, 0, offsetof(struct client_in, auto_close_days), 1, 365, NULL },
};

static const unsigned client_bits[] = { F_NAME, F_TIMEZONE, F_EMAIL_DOMAIN, F_NOTES, F_ACTIVE,
					F_PORTAL, F_AUTOCLOSE };

/* Validates a client body; create requires name. Fills fields bits.
 * priority_matrix is an object (impact x urgency -> P1..P4), checked by
 * prio_matrix_parse and stored in its canonical form; null removes it. */
static bool client_parse(struct req *r, struct client *c, unsigned *fields, bool create)
{
	struct jseen seen;
	json_t *errs = json_array(), *rest = json_copy(r->json);
	json_t *matrix = json_object_get(r->json, "priority_matrix");
	struct client_in in = { *c, c->auto_close_days };

	json_object_del(rest, "priority_matrix");
	jschema_parse(rest, client_fields, ARRAY_SIZE(client_fields), &in, &seen, errs);
	json_decref(rest);
	*c = in.c;
	c->auto_close_days = (int)in.auto_close_days;
	if (create && !(seen.present & 1))
		jschema_error(errs, "name", "is required");
	if (c->email_domain && !domain_ok(c->email_domain))
		jschema_error(errs, "email_domain", "must be a lower-case domain name such as example.com");
	if (matrix && !json_is_null(matrix)) {
		struct prio_matrix m;
		char field[64], *text = json_dumps(matrix, JSON_COMPACT), canon[256];
		if (!text || !prio_matrix_parse(text, &m, field, sizeof(field)))
			jschema_error(errs, field, "must map impact high/medium/low to urgency high/medium/low to P1..P4");
		else {
			prio_matrix_format(&m, canon, sizeof(canon));
			c->priority_matrix = arena_strdup(r->a, canon);
		}
		free(text);
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	*fields = 0;
	for (size_t i = 0; i < ARRAY_SIZE(client_bits); i++)
		if (seen.present & (1ull << i))
			*fields |= client_bits[i];
	if (matrix)
		*fields |= F_MATRIX;
	if (!*fields && !create) {
		errs = json_array();
		jschema_error(errs, "", "nothing to change");
		req_invalid(r, errs);
		return false;
	}
	return true;
}

static void client_answer(struct req *r, int64_t id, int status)
{
	struct client c;
	struct err e;
	enum result rc = store_client_get(r->srv->store, &r->scope, id, r->a, &c, &e);

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	req_etag(r, c.version);
	if (status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/clients/%" PRId64, c.id));
	req_json(r, status, client_json(&c));
}

static void written_client(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (r->w.replayed)
		req_header(r, "Idempotent-Replayed", "true");
	if (r->w.kind == W_CLIENT_CREATE)
		monitor_changed();   /* its default checks */
	client_answer(r, r->w.id, r->w.kind == W_CLIENT_CREATE ? 201 : 200);
}

void h_client_create(struct req *r)
{
	struct store_write *w = &r->w;
	unsigned fields;

	req_write_init(r, W_CLIENT_CREATE, "client.create", "client");
	w->in.client.active = true;
	w->in.client.auto_close_days = 7;
	w->in.client.timezone = "UTC";
	if (!client_parse(r, &w->in.client, &fields, true))
		return;
	w->audit.detail = arena_printf(r->a, "name %s", w->in.client.name);
	req_write(r, written_client);
}

void h_client_list(struct req *r)
{
	struct list_q q;
	struct client_list l;
	struct err e;
	enum result rc;
	json_t *items;

	if (!req_page(r, &q))
		return;
	rc = store_client_list(r->srv->store, &r->scope, &q, r->a, &l, &e);
	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(items, client_json(&l.items[i]));
	req_json(r, 200, page_json(items, l.next_after));
}

void h_client_get(struct req *r)
{
	client_answer(r, r->params[0], 200);
}

void h_client_patch(struct req *r)
{
	int64_t version;

	if (!req_if_match(r, &version))
		return;
	req_write_init(r, W_CLIENT_UPDATE, "client.update", "client");
	r->w.id = r->params[0];
	r->w.if_version = version;
	r->w.in.client.active = true;
	if (!client_parse(r, &r->w.in.client, &r->w.fields, false))
		return;
	req_write(r, written_client);
}

/* ---- contacts ------------------------------------------------------------------------ */

static const struct jfield contact_fields[] = {
	{ "name", JT_STRING, 0, offsetof(struct contact, name), 1, 200, NULL },
	{ "email", JT_EMAIL, JF_NULLABLE, offsetof(struct contact, email), 3, 254, NULL },
	{ "phone", JT_STRING, JF_NULLABLE, offsetof(struct contact, phone), 0, 50, NULL },
	{ "title", JT_STRING, JF_NULLABLE, offsetof(struct contact, title), 0, 100, NULL },
};

static const unsigned contact_bits[] = { F_NAME, F_EMAIL, F_PHONE, F_TITLE };

static bool may_manage_contacts(const struct scope *s)
{
	return role_is_staff(s->role) || s->role == ROLE_CLIENT_ADMIN || s->role == ROLE_CLIENT_IT;
}

static bool contact_parse(struct req *r, struct contact *c, unsigned *fields, bool create)
{
	struct jseen seen;
	json_t *errs = json_array();

	jschema_parse(r->json, contact_fields, ARRAY_SIZE(contact_fields), c, &seen, errs);
	if (create && !(seen.present & 1))
		jschema_error(errs, "name", "is required");
	if (!seen.present && !create)
		jschema_error(errs, "", "nothing to change");
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return false;
	}
	json_decref(errs);
	*fields = 0;
	for (size_t i = 0; i < ARRAY_SIZE(contact_bits); i++)
		if (seen.present & (1ull << i))
			*fields |= contact_bits[i];
	/* E-mail addresses are compared without case; store them lowercased. */
	if (c->email) {
		char *lower = arena_strdup(r->a, c->email);
		for (char *p = lower; p && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		c->email = lower;
	}
	return true;
}

static void contact_answer(struct req *r, int64_t id, int status)
{
	struct contact c;
	struct err e;
	enum result rc = store_contact_get(r->srv->store, &r->scope, id, r->a, &c, &e);

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	req_etag(r, c.version);
	if (status == 201)
		req_header(r, "Location", arena_printf(r->a, "/api/v1/contacts/%" PRId64, c.id));
	req_json(r, status, contact_json(&c));
}

static void written_contact(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	if (r->w.replayed)
		req_header(r, "Idempotent-Replayed", "true");
	contact_answer(r, r->w.id, r->w.kind == W_CONTACT_CREATE ? 201 : 200);
}

void h_contact_create(struct req *r)
{
	struct store_write *w = &r->w;
	unsigned fields;

	if (!scope_sees_tenant(&r->scope, r->params[0])) {
		req_problem(r, 404, "not-found", "Not found", "client not found");
		return;
	}
	if (!may_manage_contacts(&r->scope)) {
		req_deny(r, "client users cannot manage contacts");
		return;
	}
	req_write_init(r, W_CONTACT_CREATE, "contact.create", "contact");
	if (!contact_parse(r, &w->in.contact, &fields, true))
		return;
	w->in.contact.client_id = r->params[0];
	req_write(r, written_contact);
}

/* A page of contacts for q (scope applied by the store). */
static void contacts_answer(struct req *r, const struct list_q *q)
{
	struct contact_list l;
	struct err e;
	enum result rc = store_contact_list(r->srv->store, &r->scope, q, r->a, &l, &e);
	json_t *items;

	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(items, contact_json(&l.items[i]));
	req_json(r, 200, page_json(items, l.next_after));
}

void h_contact_list(struct req *r)
{
	struct list_q q;
	struct client c;
	struct err e;
	enum result rc;

	if (!req_page(r, &q))
		return;
	rc = store_client_get(r->srv->store, &r->scope, r->params[0], r->a, &c, &e);
	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	q.client_id = c.id;
	contacts_answer(r, &q);
}

#define CONTACT_Q_MAX 100 /* characters */

/* A positive id from the query into *out (0 when absent); an error naming
 * it when present and malformed. */
static void query_id(struct req *r, const char *name, int64_t *out, json_t *errs)
{
	const char *v = req_query(r, name);

	*out = 0;
	if (v && (!parse_i64(v, out) || *out < 1)) {
		*out = 0;
		jschema_error(errs, name, "must be a positive integer id");
	}
}

/* Characters (UTF-8 code points) of valid text. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

void h_contact_search(struct req *r)
{
	struct list_q q;
	json_t *errs;
	const char *text = req_query(r, "q");

	if (!req_page(r, &q))
		return;
	errs = json_array();
	query_id(r, "client_id", &q.client_id, errs);
	if (text) {
		const char *end;
		while (*text == ' ' || *text == '\t')
			text++;
		end = text + strlen(text);
		while (end > text && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		text = arena_strndup(r->a, text, (size_t)(end - text));
		if (!text) {
			json_decref(errs);
			req_fail(r, RC_NOMEM, NULL);
			return;
		}
		if (!text_valid(text, false))
			jschema_error(errs, "q", "must be text without control characters");
		else if (utf8_chars(text) > CONTACT_Q_MAX)
			jschema_error(errs, "q", "must be at most 100 characters");
		else if (*text)
			q.q = text;
	}
	if (json_array_size(errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	contacts_answer(r, &q);
}

void h_contact_get(struct req *r)
{
	contact_answer(r, r->params[0], 200);
}

void h_contact_patch(struct req *r)
{
	int64_t version;
	struct contact cur;
	struct err e;
	enum result rc;

	/* Visibility first: another organisation's contact is 404, not 403. */
	rc = store_contact_get(r->srv->store, &r->scope, r->params[0], r->a, &cur, &e);
	if (rc != RC_OK) {
		req_fail(r, rc, &e);
		return;
	}
	if (!may_manage_contacts(&r->scope)) {
		req_deny(r, "client users cannot manage contacts");
		return;
	}
	if (!req_if_match(r, &version))
		return;
	req_write_init(r, W_CONTACT_UPDATE, "contact.update", "contact");
	r->w.id = r->params[0];
	r->w.if_version = version;
	if (!contact_parse(r, &r->w.in.contact, &r->w.fields, false))
		return;
	req_write(r, written_contact);
}
