/*
 * store_sqlite_mail.c: e-mail and the outbox on SQLite (issue 8;
 * migrations/0008_mail.sql, docs/MAIL.md): the intake log, the
 * Message-IDs seen and sent, attachments, mail routes, template
 * overrides, webhooks, and the deliveries the outbox becomes.
 *
 * Invariants
 *  1. A Message-ID is filed once. mail_ids' primary key is the only guard
 *     against a message delivered twice at the same moment, so the id is
 *     inserted in the transaction that files the message (a ticket write
 *     with tw->mail, or W_MAIL_LOG); a second insert fails that write whole
 *     (RC_CONFLICT "message_id": its savepoint takes everything back).
 *     One exception: releasing a held message files the Message-ID that
 *     the held row recorded without a ticket; that row is claimed, not
 *     inserted again.
 *  2. An outbox row becomes deliveries once: the write that inserts them
 *     first moves the row from pending to done, and fails (RC_CONFLICT
 *     "outbox") when it was not pending any more.
 *  3. Every move of a delivery is guarded in its UPDATE's WHERE, so two
 *     dispatchers cannot both record an attempt:
 *
 *        pending --sqmail_delivery_result--> sent | failed | pending (later)
 *        pending --sqmail_webhook_delete---> failed ("webhook deleted")
 *        failed  --sqmail_delivery_retry---> pending (due now)
 *
 *  4. Attachments are read through their ticket, with the ticket's own
 *     visibility predicate (store_sql.c: client users see the tickets they
 *     requested); internal ones (of notes) only by provider staff who ask
 *     for them, exactly as notes are (sqt_ticket_messages).
 *  5. Everything else here is provider configuration or the intake's and
 *     the dispatcher's work: those writes need an all-tenant scope
 *     (RC_DENIED otherwise); their reads take no scope.
 */
#include "base/common.h"

#include <sodium.h>

#include "base/clock.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sql.h"

#define LIST_MAX 500
#define LIST_DEFAULT 50
#define CONFIG_MAX 1000          /* routes, templates, webhooks: all of them */
#define ATTACHMENTS_MAX 100000   /* of one ticket */

/* ---- helpers ------------------------------------------------------------------------------ */

static enum result only_staff(struct store_write *w, const char *what)
{
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage %s", what);
	return RC_OK;
}

/* Binds n bytes at p to name: NULL when p is NULL and nullable, else a
 * blob (an empty one for none: the BLOB NOT NULL columns). */
static void bind_bytes(sqlite3_stmt *q, const char *name, const void *p, size_t n, bool nullable)
{
	int i = sqlite3_bind_parameter_index(q, name);

	if (!i)
		return;
	if (!p && nullable)
		sqlite3_bind_null(q, i);
	else if (!p || !n)
		sqlite3_bind_zeroblob(q, i, 0);
	else
		sqlite3_bind_blob64(q, i, p, (sqlite3_uint64)n, SQLITE_STATIC);
}

/* A copy of column i's bytes in a, NUL-terminated (so text bodies read as
 * strings); NULL for SQL NULL, and when a is full (then *len is 0 and
 * *short_of set). */
static const unsigned char *col_bytes(sqlite3_stmt *q, int i, struct arena *a, size_t *len,
				      bool *short_of)
{
	const void *b;
	unsigned char *p;
	size_t n;

	*len = 0;
	if (sqlite3_column_type(q, i) == SQLITE_NULL)
		return NULL;
	b = sqlite3_column_blob(q, i);
	n = (size_t)sqlite3_column_bytes(q, i);
	p = arena_alloc(a, n + 1);
	if (!p) {
		*short_of = true;
		return NULL;
	}
	if (n)
		memcpy(p, b, n);
	*len = n;
	return p;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Steps q once (a write, or one with RETURNING an integer): *found says
 * whether it gave a row, *v (when not NULL) its first column. */
static enum result step_one(struct sq *s, sqlite3_stmt *q, bool *found, int64_t *v,
			    const char *field, const char *what, struct err *e)
{
	int rc = sqlite3_step(q);

	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW && v)
		*v = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return RC_OK;
	return step_error(s, rc, field, what, e);
}

/* Whether the writer finds a row for sql (binding :id and :key). */
static enum result row_exists(struct sq *s, const char *sql, int64_t id, const char *key,
			      const char *what, bool *found, struct err *e)
{
	sqlite3_stmt *q = wq(s, sql, e);

	if (!q)
		return RC_IO;
	bind_i64(q, ":id", id);
	bind_txt(q, ":key", key);
	return step_one(s, q, found, NULL, NULL, what, e);
}

/* A client a route or webhook names must exist (0: none). */
static enum result client_ref(struct sq *s, int64_t client, struct err *e)
{
	bool found = false;
	enum result r;

	if (!client)
		return RC_OK;
	r = row_exists(s, "SELECT 1 FROM clients WHERE id = :id", client, NULL, "client", &found, e);
	if (r == RC_OK && !found)
		r = err_set(e, RC_INVALID, "client_id", "is not a client");
	return r;
}

/* Records message_id in mail_ids; one there already is RC_CONFLICT on
 * "message_id" (or, with ignore, nothing happens). */
static enum result mail_id_put(struct sq *s, const char *message_id, int64_t tenant, int64_t ticket,
			       const char *direction, bool ignore, int64_t now, struct err *e)
{
	sqlite3_stmt *q = wq(s, ignore ? "INSERT INTO mail_ids (message_id, tenant_id, ticket_id, direction,"
				       " created_at) VALUES (:mid, :tenant, :tid, :dir, :now)"
				       " ON CONFLICT (message_id) DO NOTHING"
				     : "INSERT INTO mail_ids (message_id, tenant_id, ticket_id, direction,"
				       " created_at) VALUES (:mid, :tenant, :tid, :dir, :now)", e);
	enum result r;

	if (!q)
		return RC_IO;
	bind_txt(q, ":mid", message_id);
	bind_i64(q, ":tenant", tenant);
	bind_ref(q, ":tid", ticket);
	bind_txt(q, ":dir", direction);
	bind_i64(q, ":now", now);
	r = wstep(s, q, "message_id", "message id", e);
	if (r == RC_CONFLICT)
		return err_set(e, RC_CONFLICT, "message_id", "this message has been received already");
	return r;
}

/* Appends an intake log row (tenant and ticket given, the rest from in). */
static enum result log_put(struct sq *s, const struct inbound_row *in, const char *message_id,
			   int64_t tenant, int64_t ticket, int64_t now, int64_t *id, struct err *e)
{
	sqlite3_stmt *q;
	enum result r;

	if (!in->action)
		return err_set(e, RC_INVALID, "action", "is required");
	q = wq(s, "INSERT INTO mail_inbound (tenant_id, message_id, sender, recipient, subject, action,"
	       " reason, ticket_id, size, raw, received_at) VALUES (:tenant, :mid, :sender, :rcpt,"
	       " :subject, :action, :reason, :tid, :size, :raw, :at)", e);
	if (!q)
		return RC_IO;
	bind_i64(q, ":tenant", tenant);
	bind_txt(q, ":mid", or_empty(message_id));
	bind_txt(q, ":sender", or_empty(in->sender));
	bind_txt(q, ":rcpt", or_empty(in->recipient));
	bind_txt(q, ":subject", or_empty(in->subject));
	bind_txt(q, ":action", in->action);
	bind_txt(q, ":reason", or_empty(in->reason));
	bind_ref(q, ":tid", ticket);
	bind_i64(q, ":size", in->size);
	bind_bytes(q, ":raw", in->raw, in->raw_len, true);
	bind_i64(q, ":at", in->received_at ? in->received_at : now);
	r = wstep(s, q, NULL, "intake log", e);
	if (r == RC_OK)
		*id = sqlite3_last_insert_rowid(s->wdb);
	return r;
}

/* ---- a ticket write's e-mail ----------------------------------------------------------------- */

enum result sqmail_contact(struct sq *s, struct ticket_write *tw, bool create, struct err *e)
{
	struct mail_file *m = tw->mail;
	struct contact c;
	enum result r;

	m->contact_id = 0;
	if (!m->new_contact_email || !*m->new_contact_email)
		return RC_OK;
	memset(&c, 0, sizeof(c));
	c.client_id = tw->t.client_id;
	c.email = m->new_contact_email;
	c.name = m->new_contact_name && *m->new_contact_name ? m->new_contact_name
							    : m->new_contact_email;
	r = sq_contact_insert(s, &c, &m->contact_id, e);
	if (r != RC_OK) {
		m->contact_id = 0;
		return r;
	}
	if (create)
		tw->t.requester_contact_id = m->contact_id;
	tw->msg.author_contact_id = m->contact_id;
	return RC_OK;
}

/* The held log row release_id is released into ticket t. */
static enum result release_held(struct sq *s, const struct mail_file *m, const struct ticket *t,
				struct err *e)
{
	sqlite3_stmt *q = wq(s, "UPDATE mail_inbound SET action = 'released', tenant_id = :tenant,"
			     " ticket_id = :tid, raw = NULL WHERE id = :id AND action = 'held'", e);
	enum result r;

	if (!q)
		return RC_IO;
	bind_i64(q, ":tenant", t->client_id);
	bind_i64(q, ":tid", t->id);
	bind_i64(q, ":id", m->release_id);
	r = wstep(s, q, NULL, "intake log", e);
	if (r == RC_OK && sqlite3_changes(s->wdb) != 1)
		return err_set(e, RC_CONFLICT, "release", "the message is not held (released already?)");
	return r;
}

/* Files the message's Message-ID under t: the held row's claimed when it
 * is that message released, else a new one (invariant 1). */
static enum result file_message_id(struct sq *s, const struct mail_file *m, const struct ticket *t,
				   int64_t now, struct err *e)
{
	if (m->release_id) {
		sqlite3_stmt *q = wq(s, "UPDATE mail_ids SET tenant_id = :tenant, ticket_id = :tid"
				     " WHERE message_id = :mid AND ticket_id IS NULL AND message_id ="
				     " (SELECT message_id FROM mail_inbound WHERE id = :release)", e);
		enum result r;
		if (!q)
			return RC_IO;
		bind_i64(q, ":tenant", t->client_id);
		bind_i64(q, ":tid", t->id);
		bind_txt(q, ":mid", m->message_id);
		bind_i64(q, ":release", m->release_id);
		r = wstep(s, q, NULL, "message id", e);
		if (r != RC_OK || sqlite3_changes(s->wdb) == 1)
			return r;
	}
	return mail_id_put(s, m->message_id, t->client_id, t->id, "in", false, now, e);
}

static enum result attachment_put(struct sq *s, const struct ticket_write *tw,
				  struct attachment_row *at, int64_t now, struct err *e)
{
	static const unsigned char none[1];
	const unsigned char *data = at->data ? at->data : none;
	sqlite3_stmt *q;
	enum result r;

	if (at->size < 0 || (at->size > 0 && !at->data))
		return err_set(e, RC_INVALID, "attachments", "an attachment has no data");
	crypto_hash_sha256(at->sha256, data, (unsigned long long)at->size);
	at->client_id = tw->t.client_id;
	at->ticket_id = tw->t.id;
	at->message_id = tw->has_msg ? tw->message_id : 0;
	at->internal = tw->has_msg && tw->msg.kind && !strcmp(tw->msg.kind, "note");
	at->created_at = now;
	q = wq(s, "INSERT INTO attachments (tenant_id, ticket_id, message_id, filename, content_type,"
	       " content_id, inline, internal, size, sha256, data, created_at) VALUES (:tenant, :tid,"
	       " :msg, :filename, :ctype, :cid, :inline, :internal, :size, :sha, :data, :now)", e);
	if (!q)
		return RC_IO;
	bind_i64(q, ":tenant", at->client_id);
	bind_i64(q, ":tid", at->ticket_id);
	bind_ref(q, ":msg", at->message_id);
	bind_txt(q, ":filename", or_empty(at->filename));
	bind_txt(q, ":ctype", at->content_type ? at->content_type : "application/octet-stream");
	bind_txt(q, ":cid", at->content_id);
	bind_i64(q, ":inline", at->is_inline ? 1 : 0);
	bind_i64(q, ":internal", at->internal ? 1 : 0);
	bind_i64(q, ":size", at->size);
	bind_bytes(q, ":sha", at->sha256, 32, false);
	bind_bytes(q, ":data", at->data, (size_t)at->size, false);
	bind_i64(q, ":now", now);
	r = wstep(s, q, NULL, "attachment", e);
	if (r == RC_OK)
		at->id = sqlite3_last_insert_rowid(s->wdb);
	return r;
}

enum result sqmail_file(struct sq *s, struct ticket_write *tw, int64_t now, struct err *e)
{
	struct mail_file *m = tw->mail;
	const struct ticket *t = &tw->t;
	const char *mid = m->log.message_id ? m->log.message_id : m->message_id;
	enum result r = RC_OK;

	m->inbound_id = 0;
	if (m->release_id)
		r = release_held(s, m, t, e);
	if (r == RC_OK && m->message_id && *m->message_id)
		r = file_message_id(s, m, t, now, e);
	for (size_t i = 0; r == RC_OK && i < m->natt; i++)
		r = attachment_put(s, tw, &m->att[i], now, e);
	if (r == RC_OK && m->release_id)
		m->inbound_id = m->release_id;  /* the held row is its log row */
	else if (r == RC_OK)
		r = log_put(s, &m->log, mid, t->client_id, t->id, now, &m->inbound_id, e);
	return r;
}

/* ---- writes ------------------------------------------------------------------------------------ */

enum result sqmail_log(struct sq *s, struct store_write *w)
{
	struct inbound_row *in = &w->in.inbound;
	int64_t now = clock_now_ms();
	enum result r = only_staff(w, "the mail intake");

	if (r == RC_OK)
		r = log_put(s, in, in->message_id, in->client_id, in->ticket_id, now, &w->id, &w->err);
	if (r == RC_OK && in->message_id && *in->message_id && strcmp(in->action, "duplicate") != 0)
		r = mail_id_put(s, in->message_id, in->client_id, 0, "in", false, now, &w->err);
	if (r != RC_OK)
		return r;
	in->id = w->id;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = in->client_id;
	return RC_OK;
}

enum result sqmail_route_put(struct sq *s, struct store_write *w)
{
	struct mail_route_row *rt = &w->in.route;
	sqlite3_stmt *q;
	bool found = false;
	enum result r = only_staff(w, "mail routes");

	if (r == RC_OK)
		r = client_ref(s, rt->client_id, &w->err);
	if (r != RC_OK)
		return r;
	q = wq(s, rt->id ? "UPDATE mail_routes SET address = :address, client_id = :client,"
			   " queue = :queue WHERE id = :id RETURNING id"
			 : "INSERT INTO mail_routes (address, client_id, queue, created_at)"
			   " VALUES (:address, :client, :queue, :now) RETURNING id", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", rt->id);
	bind_txt(q, ":address", rt->address);
	bind_ref(q, ":client", rt->client_id);
	bind_txt(q, ":queue", rt->queue);
	bind_i64(q, ":now", clock_now_ms());
	r = step_one(s, q, &found, &w->id, "address", "mail route", &w->err);
	if (r == RC_CONFLICT)
		return err_set(&w->err, RC_CONFLICT, "address", "has a route already");
	if (r != RC_OK)
		return r;
	if (!found)
		return err_set(&w->err, RC_NOTFOUND, NULL, "mail route not found");
	if (!w->audit.tenant_id)
		w->audit.tenant_id = rt->client_id;
	return RC_OK;
}

/* Deletes row w->id by sql ("DELETE ... WHERE id = :id RETURNING
 * coalesce(client_id, 0)"): RC_NOTFOUND when there was none; the audit
 * record names the row's client. */
static enum result delete_by_id(struct sq *s, struct store_write *w, const char *sql,
				const char *what)
{
	sqlite3_stmt *q;
	bool found = false;
	int64_t client = 0;
	enum result r = only_staff(w, what);

	if (r != RC_OK)
		return r;
	q = wq(s, sql, &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", w->id);
	r = step_one(s, q, &found, &client, NULL, what, &w->err);
	if (r == RC_OK && !found)
		return err_set(&w->err, RC_NOTFOUND, NULL, "%s not found", what);
	if (r == RC_OK && !w->audit.tenant_id)
		w->audit.tenant_id = client;
	return r;
}

enum result sqmail_route_delete(struct sq *s, struct store_write *w)
{
	return delete_by_id(s, w, "DELETE FROM mail_routes WHERE id = :id"
			    " RETURNING coalesce(client_id, 0)", "mail route");
}

/* An update that changed nothing: RC_STALE when the object exists (the
 * version did not match), else RC_NOTFOUND. */
static enum result put_miss(struct sq *s, struct store_write *w, const char *exists_sql,
			    int64_t id, const char *key, const char *what)
{
	bool found = false;
	enum result r = row_exists(s, exists_sql, id, key, what, &found, &w->err);

	if (r != RC_OK)
		return r;
	if (found)
		return err_set(&w->err, RC_STALE, NULL,
			       "the %s was changed by someone else; reload it and try again", what);
	return err_set(&w->err, RC_NOTFOUND, NULL, "%s not found", what);
}

enum result sqmail_template_put(struct sq *s, struct store_write *w)
{
	const struct template_row *t = &w->in.tmpl;
	sqlite3_stmt *q;
	bool found = false;
	enum result r = only_staff(w, "templates");

	if (r != RC_OK)
		return r;
	if (!t->key || !*t->key)
		return err_set(&w->err, RC_INVALID, "key", "is required");
	/* Any version: made or replaced. A version: only that one changes. */
	q = wq(s, w->if_version ? "UPDATE mail_templates SET subject = :subject, body = :body,"
				  " version = version + 1, updated_at = :now"
				  " WHERE key = :key AND version = :version RETURNING version"
				: "INSERT INTO mail_templates (key, subject, body, version, updated_at)"
				  " VALUES (:key, :subject, :body, 1, :now) ON CONFLICT (key) DO UPDATE SET"
				  " subject = excluded.subject, body = excluded.body,"
				  " version = mail_templates.version + 1, updated_at = excluded.updated_at"
				  " RETURNING version", &w->err);
	if (!q)
		return RC_IO;
	bind_txt(q, ":key", t->key);
	bind_txt(q, ":subject", t->subject);
	bind_txt(q, ":body", t->body);
	bind_i64(q, ":version", w->if_version);
	bind_i64(q, ":now", clock_now_ms());
	r = step_one(s, q, &found, &w->version, NULL, "template", &w->err);
	if (r == RC_OK && !found)
		return put_miss(s, w, "SELECT 1 FROM mail_templates WHERE key = :key", 0, t->key, "template");
	return r;
}

enum result sqmail_template_delete(struct sq *s, struct store_write *w)
{
	const char *key = w->in.tmpl.key;
	sqlite3_stmt *q;
	enum result r = only_staff(w, "templates");

	if (r != RC_OK)
		return r;
	q = wq(s, "DELETE FROM mail_templates WHERE key = :key AND (:version = 0 OR version = :version)",
	       &w->err);
	if (!q)
		return RC_IO;
	bind_txt(q, ":key", key);
	bind_i64(q, ":version", w->if_version);
	r = wstep(s, q, NULL, "template", &w->err);
	if (r == RC_OK && sqlite3_changes(s->wdb) == 0)
		return put_miss(s, w, "SELECT 1 FROM mail_templates WHERE key = :key", 0, key, "template");
	return r;
}

enum result sqmail_webhook_put(struct sq *s, struct store_write *w)
{
	const struct webhook_row *h = &w->in.webhook;
	int64_t now = clock_now_ms();
	sqlite3_stmt *q;
	bool found = false;
	int64_t got = 0;
	enum result r = only_staff(w, "webhooks");

	if (r == RC_OK)
		r = client_ref(s, h->client_id, &w->err);
	if (r != RC_OK)
		return r;
	if (!h->id && (!h->secret || !*h->secret))
		return err_set(&w->err, RC_INVALID, "secret", "is required");
	/* An update without a secret keeps the one there. */
	q = wq(s, h->id ? "UPDATE webhooks SET name = :name, url = :url, events = :events,"
			  " client_id = :client, secret = coalesce(:secret, secret), active = :active,"
			  " version = version + 1, updated_at = :now"
			  " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			: "INSERT INTO webhooks (name, url, events, client_id, secret, active, version,"
			  " created_at, updated_at) VALUES (:name, :url, :events, :client, :secret, :active,"
			  " 1, :now, :now) RETURNING version", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", h->id);
	bind_i64(q, ":version", w->if_version);
	bind_txt(q, ":name", h->name);
	bind_txt(q, ":url", h->url);
	bind_txt(q, ":events", h->events ? h->events : "[]");
	bind_ref(q, ":client", h->client_id);
	bind_txt(q, ":secret", h->secret && *h->secret ? h->secret : NULL);
	bind_i64(q, ":active", h->active ? 1 : 0);
	bind_i64(q, ":now", now);
	r = step_one(s, q, &found, &got, NULL, "webhook", &w->err);
	if (r != RC_OK)
		return r;
	if (!found)
		return put_miss(s, w, "SELECT 1 FROM webhooks WHERE id = :id", h->id, NULL, "webhook");
	w->id = h->id ? h->id : sqlite3_last_insert_rowid(s->wdb);
	w->version = got;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = h->client_id;
	return RC_OK;
}

/* A webhook ends: its pending deliveries fail. */
enum result sqmail_webhook_delete(struct sq *s, struct store_write *w)
{
	sqlite3_stmt *q;
	enum result r = delete_by_id(s, w, "DELETE FROM webhooks WHERE id = :id"
				     " RETURNING coalesce(client_id, 0)", "webhook");

	if (r != RC_OK)
		return r;
	q = wq(s, "UPDATE deliveries SET state = 'failed', last_error = 'webhook deleted'"
	       " WHERE webhook_id = :id AND state = 'pending'", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", w->id);
	return wstep(s, q, NULL, "deliveries", &w->err);
}

static enum result delivery_put(struct sq *s, struct delivery_row *d, int64_t outbox,
				int64_t tenant, int64_t now, struct err *e)
{
	sqlite3_stmt *q = wq(s, "INSERT INTO deliveries (tenant_id, outbox_id, ticket_id, event, channel,"
			     " template, target, webhook_id, message_id, subject, body, state, attempts,"
			     " next_attempt_at, created_at) VALUES (:tenant, :outbox, :tid,"
			     " coalesce(:event, (SELECT o.event FROM outbox o WHERE o.id = :outbox)), :channel,"
			     " :template, :target, :webhook, :mid, :subject, :body, 'pending', 0, :now, :now)",
			     e);
	enum result r;

	if (!q)
		return RC_IO;
	bind_i64(q, ":tenant", tenant);
	bind_i64(q, ":outbox", outbox);
	bind_ref(q, ":tid", d->ticket_id);
	bind_txt(q, ":event", d->event);
	bind_txt(q, ":channel", d->channel);
	bind_txt(q, ":template", d->template_key);
	bind_txt(q, ":target", d->target);
	bind_ref(q, ":webhook", d->webhook_id);
	bind_txt(q, ":mid", d->message_id);
	bind_txt(q, ":subject", d->subject);
	bind_bytes(q, ":body", d->body, d->body_len, false);
	bind_i64(q, ":now", now);
	r = wstep(s, q, NULL, "delivery", e);
	if (r != RC_OK)
		return r;
	d->id = sqlite3_last_insert_rowid(s->wdb);
	d->client_id = tenant;
	d->outbox_id = outbox;
	d->next_attempt_at = d->created_at = now;
	if (d->channel && !strcmp(d->channel, "email") && d->message_id && *d->message_id)
		r = mail_id_put(s, d->message_id, tenant, d->ticket_id, "out", true, now, e);
	return r;
}

enum result sqmail_outbox_expand(struct sq *s, struct store_write *w)
{
	__typeof__(w->in.expand) *x = &w->in.expand;
	int64_t now = x->now ? x->now : clock_now_ms();
	int64_t tenant = 0, ticket = 0;
	sqlite3_stmt *q;
	enum result r = only_staff(w, "the outbox");
	int rc;

	if (r != RC_OK)
		return r;
	q = wq(s, "UPDATE outbox SET state = 'done' WHERE id = :id AND state = 'pending'"
	       " RETURNING tenant_id, coalesce(ticket_id, 0)", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", x->outbox_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		tenant = sqlite3_column_int64(q, 0);
		ticket = sqlite3_column_int64(q, 1);
	}
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return err_set(&w->err, RC_CONFLICT, "outbox", "the outbox row is not pending any more");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "outbox", &w->err);
	/* Each delivery is of the outbox row's client; of its ticket and
	 * event unless the item names others. */
	for (size_t i = 0; r == RC_OK && i < x->n; i++) {
		struct delivery_row *d = &x->items[i];
		if (!d->ticket_id)
			d->ticket_id = ticket;
		r = delivery_put(s, d, x->outbox_id, tenant, now, &w->err);
	}
	if (r != RC_OK)
		return r;
	w->id = x->outbox_id;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = tenant;
	return RC_OK;
}

/* A delivery update that changed nothing: RC_CONFLICT when the delivery
 * exists (not in the state the move starts from), else RC_NOTFOUND. */
static enum result delivery_miss(struct sq *s, struct store_write *w, int64_t id, const char *why)
{
	bool found = false;
	enum result r = row_exists(s, "SELECT 1 FROM deliveries WHERE id = :id", id, NULL, "delivery",
				   &found, &w->err);

	if (r != RC_OK)
		return r;
	if (found)
		return err_set(&w->err, RC_CONFLICT, "delivery", "%s", why);
	return err_set(&w->err, RC_NOTFOUND, NULL, "delivery not found");
}

enum result sqmail_delivery_result(struct sq *s, struct store_write *w)
{
	__typeof__(w->in.dres) *d = &w->in.dres;
	sqlite3_stmt *q;
	bool found = false;
	int64_t tenant = 0;
	enum result r = only_staff(w, "deliveries");

	if (r != RC_OK)
		return r;
	if (!d->state || (strcmp(d->state, "sent") && strcmp(d->state, "pending") &&
			  strcmp(d->state, "failed")))
		return err_set(&w->err, RC_INVALID, "state", "must be sent, pending or failed");
	q = wq(s, "UPDATE deliveries SET attempts = attempts + 1, last_error = :error,"
	       " last_status = :status, state = :state,"
	       " sent_at = CASE WHEN :state = 'sent' THEN :now ELSE sent_at END,"
	       " next_attempt_at = CASE WHEN :next > 0 THEN :next ELSE next_attempt_at END"
	       " WHERE id = :id AND state = 'pending' RETURNING tenant_id", &w->err);
	if (!q)
		return RC_IO;
	bind_txt(q, ":error", d->error);
	bind_ref(q, ":status", (int64_t)d->status);
	bind_txt(q, ":state", d->state);
	bind_i64(q, ":now", d->now ? d->now : clock_now_ms());
	bind_i64(q, ":next", d->next_attempt_at);
	bind_i64(q, ":id", d->id);
	r = step_one(s, q, &found, &tenant, NULL, "delivery", &w->err);
	if (r == RC_OK && !found)
		return delivery_miss(s, w, d->id, "the delivery is not pending");
	if (r != RC_OK)
		return r;
	w->id = d->id;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = tenant;
	return RC_OK;
}

enum result sqmail_delivery_retry(struct sq *s, struct store_write *w)
{
	int64_t id = w->id ? w->id : w->in.dres.id;
	sqlite3_stmt *q;
	bool found = false;
	int64_t tenant = 0;
	enum result r = only_staff(w, "deliveries");

	if (r != RC_OK)
		return r;
	q = wq(s, "UPDATE deliveries SET state = 'pending', next_attempt_at = :now"
	       " WHERE id = :id AND state = 'failed' RETURNING tenant_id", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":now", w->in.dres.now ? w->in.dres.now : clock_now_ms());
	bind_i64(q, ":id", id);
	r = step_one(s, q, &found, &tenant, NULL, "delivery", &w->err);
	if (r == RC_OK && !found)
		return delivery_miss(s, w, id, "only a failed delivery can be retried");
	if (r != RC_OK)
		return r;
	w->id = id;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = tenant;
	return RC_OK;
}

/* ---- reads ------------------------------------------------------------------------------------- */

static void row_i64(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	UNUSED(a);
	((int64_t *)items)[i] = sqlite3_column_int64(q, 0);
}

/* The parameters of the reads below, bound by name (unused ones skipped). */
struct mq {
	int64_t id, after, since, ticket_id, webhook_id, limit, bytes;
	const char *text, *state, *channel;
	bool all;
};

static void bind_mq(sqlite3_stmt *q, const void *arg)
{
	const struct mq *m = arg;

	bind_i64(q, ":id", m->id);
	bind_i64(q, ":after", m->after);
	bind_i64(q, ":since", m->since);
	bind_i64(q, ":tid", m->ticket_id);
	bind_i64(q, ":webhook", m->webhook_id);
	bind_i64(q, ":limit", m->limit);
	bind_i64(q, ":bytes", m->bytes);
	bind_txt(q, ":text", m->text);
	bind_txt(q, ":state", m->state);
	bind_txt(q, ":channel", m->channel);
	bind_i64(q, ":all", m->all ? 1 : 0);
}

/* One int64 from sql; RC_NOTFOUND (saying what) when no row. */
static enum result read_i64(struct store *st, const char *sql, const struct mq *m, int64_t *v,
			    const char *what, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, sql, NULL, bind_mq, m, row_i64, NULL, v, 1, &n, e);

	if (r == RC_OK && !n) {
		*v = 0;
		return err_set(e, RC_NOTFOUND, NULL, "%s", what);
	}
	return r;
}

static int list_limit(int limit)
{
	return limit <= 0 ? LIST_DEFAULT : limit > LIST_MAX ? LIST_MAX : limit;
}

enum result sqmail_thread(struct store *st, const char *const *ids, size_t n, int *found,
			  int64_t *ticket_id, struct err *e)
{
	*found = -1;
	*ticket_id = 0;
	for (size_t i = 0; i < n && i < INT_MAX; i++) {
		struct mq m = { .text = ids[i] };
		int64_t t = 0;
		size_t got = 0;
		enum result r;
		if (!ids[i] || !*ids[i])
			continue;
		r = read_rows(st, "SELECT coalesce(ticket_id, 0) FROM mail_ids WHERE message_id = :text",
			      NULL, bind_mq, &m, row_i64, NULL, &t, 1, &got, e);
		if (r != RC_OK)
			return r;
		if (got) {
			*found = (int)i;
			*ticket_id = t;
			break;
		}
	}
	return RC_OK;
}

enum result sqmail_client_by_domain(struct store *st, const char *domain, int64_t *id,
				    struct err *e)
{
	struct mq m = { .text = domain };

	return read_i64(st, "SELECT id FROM clients WHERE active = 1"
			" AND lower(email_domain) = lower(:text) ORDER BY id LIMIT 1", &m, id,
			"no client has this e-mail domain", e);
}

static void row_i64_pair(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	int64_t *v = (int64_t *)items + 2 * i;

	UNUSED(a);
	v[0] = sqlite3_column_int64(q, 0);
	v[1] = sqlite3_column_int64(q, 1);
}

/* A pair of ids (id, client) by sql; RC_NOTFOUND when no row. */
static enum result read_pair(struct store *st, const char *sql, const struct mq *m, int64_t *id,
			     int64_t *client, const char *what, struct err *e)
{
	int64_t v[2] = { 0, 0 };
	size_t n = 0;
	enum result r = read_rows(st, sql, NULL, bind_mq, m, row_i64_pair, NULL, v, 1, &n, e);

	*id = v[0];
	*client = v[1];
	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "%s", what);
	return r;
}

enum result sqmail_ticket_by_number(struct store *st, int64_t number, int64_t *id,
				    int64_t *client_id, struct err *e)
{
	struct mq m = { .id = number };

	return read_pair(st, "SELECT id, tenant_id FROM tickets WHERE number = :id", &m, id, client_id,
			 "no ticket has this number", e);
}

enum result sqmail_contact_find_email(struct store *st, const char *email, int64_t *id,
				      int64_t *client_id, struct err *e)
{
	struct mq m = { .text = email };

	return read_pair(st, "SELECT c.id, c.tenant_id FROM contacts c JOIN clients k ON k.id = c.tenant_id"
			 " WHERE k.active = 1 AND c.email = :text COLLATE NOCASE ORDER BY c.id LIMIT 1",
			 &m, id, client_id, "no contact has this address", e);
}

enum result sqmail_inbound_count(struct store *st, const char *sender, int64_t since, int64_t *n,
				 struct err *e)
{
	struct mq m = { .text = sender, .since = since };

	return read_i64(st, "SELECT count(*) FROM mail_inbound WHERE sender = :text"
			" AND received_at >= :since", &m, n, "count", e);
}

#define INBOUND_COLS "id, tenant_id, coalesce(ticket_id, 0), size, received_at, message_id, sender," \
	" recipient, subject, action, reason, raw IS NOT NULL"

static void row_inbound(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct inbound_row *x = (struct inbound_row *)items + i;

	memset(x, 0, sizeof(*x));
	x->id = sqlite3_column_int64(q, 0);
	x->client_id = sqlite3_column_int64(q, 1);
	x->ticket_id = sqlite3_column_int64(q, 2);
	x->size = sqlite3_column_int64(q, 3);
	x->received_at = sqlite3_column_int64(q, 4);
	x->message_id = col_str(q, 5, a);
	x->sender = col_str(q, 6, a);
	x->recipient = col_str(q, 7, a);
	x->subject = col_str(q, 8, a);
	x->action = col_str(q, 9, a);
	x->reason = col_str(q, 10, a);
	x->has_raw = sqlite3_column_int(q, 11) != 0;
}

/* With raw: its column follows INBOUND_COLS. A row whose raw did not fit
 * the arena is marked with raw_len SIZE_MAX (the caller's RC_NOMEM). */
static void row_inbound_raw(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct inbound_row *x = (struct inbound_row *)items + i;
	bool short_of = false;

	row_inbound(q, a, items, i);
	x->raw = col_bytes(q, 12, a, &x->raw_len, &short_of);
	if (short_of)
		x->raw_len = SIZE_MAX;
}

enum result sqmail_inbound_list(struct store *st, const struct inbound_q *iq, struct arena *a,
				struct inbound_list *out, struct err *e)
{
	char sql[512];
	int limit = list_limit(iq->limit);
	struct mq m = { .after = iq->after, .text = iq->action, .limit = limit + 1 };
	enum result r;

	out->n = 0;
	out->next_after = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(limit + 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " INBOUND_COLS " FROM mail_inbound WHERE id > :after%s"
		 " ORDER BY id LIMIT :limit", iq->action ? " AND action = :text" : "");
	r = read_rows(st, sql, NULL, bind_mq, &m, row_inbound, a, out->items, (size_t)limit + 1,
		      &out->n, e);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

enum result sqmail_inbound_get(struct store *st, int64_t id, struct arena *a,
			       struct inbound_row *out, struct err *e)
{
	struct mq m = { .id = id };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " INBOUND_COLS ", raw FROM mail_inbound WHERE id = :id",
				  NULL, bind_mq, &m, row_inbound_raw, a, out, 1, &n, e);

	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "message not found");
	if (r == RC_OK && out->raw_len == SIZE_MAX)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return r;
}

#define ATT_COLS "x.id, x.tenant_id, x.ticket_id, coalesce(x.message_id, 0), x.size, x.created_at," \
	" x.filename, x.content_type, x.content_id, x.inline, x.internal, x.sha256"

static void row_attachment(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct attachment_row *x = (struct attachment_row *)items + i;
	const void *h;

	memset(x, 0, sizeof(*x));
	x->id = sqlite3_column_int64(q, 0);
	x->client_id = sqlite3_column_int64(q, 1);
	x->ticket_id = sqlite3_column_int64(q, 2);
	x->message_id = sqlite3_column_int64(q, 3);
	x->size = sqlite3_column_int64(q, 4);
	x->created_at = sqlite3_column_int64(q, 5);
	x->filename = col_str(q, 6, a);
	x->content_type = col_str(q, 7, a);
	x->content_id = col_str(q, 8, a);
	x->is_inline = sqlite3_column_int(q, 9) != 0;
	x->internal = sqlite3_column_int(q, 10) != 0;
	h = sqlite3_column_blob(q, 11);
	if (h && sqlite3_column_bytes(q, 11) == 32)
		memcpy(x->sha256, h, 32);
}

/* With data: its column follows ATT_COLS. One that did not fit the arena
 * is marked with size -1 (the caller's RC_NOMEM). */
static void row_attachment_data(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct attachment_row *x = (struct attachment_row *)items + i;
	bool short_of = false;
	size_t len;

	row_attachment(q, a, items, i);
	x->data = col_bytes(q, 12, a, &len, &short_of);
	if (short_of)
		x->size = -1;
}

enum result sqmail_attachment_list(struct store *st, const struct scope *sc, int64_t ticket_id,
				   bool with_internal, struct arena *a, struct attachment_list *out,
				   struct err *e)
{
	struct mq m = { .ticket_id = ticket_id, .all = with_internal && sc->all_tenants };
	struct ticket t;
	int64_t count = 0;
	size_t max;
	enum result r;

	out->items = NULL;
	out->n = 0;
	/* The ticket in scope, read as a ticket is (invariant 4). */
	r = sqt_ticket_get(st, sc, ticket_id, a, &t, e);
	if (r == RC_OK)
		r = read_i64(st, "SELECT count(*) FROM attachments x WHERE x.ticket_id = :tid", &m,
			     &count, "count", e);
	if (r != RC_OK)
		return r;
	/* A few spare for ones added between the count and the read. */
	max = count + 16 < ATTACHMENTS_MAX ? (size_t)count + 16 : ATTACHMENTS_MAX;
	out->items = arena_alloc(a, sizeof(*out->items) * max);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT " ATT_COLS " FROM attachments x WHERE x.ticket_id = :tid"
			 " AND (:all OR x.internal = 0) ORDER BY x.id", NULL, bind_mq, &m,
			 row_attachment, a, out->items, max, &out->n, e);
}

enum result sqmail_attachment_get(struct store *st, const struct scope *sc, int64_t id,
				  bool with_internal, struct arena *a, struct attachment_row *out,
				  struct err *e)
{
	struct mq m = { .id = id, .all = with_internal && sc->all_tenants };
	char sql[1024];
	size_t n = 0;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " ATT_COLS ", x.data FROM attachments x"
		 " JOIN tickets t ON t.id = x.ticket_id WHERE x.id = :id AND (:all OR x.internal = 0)%s",
		 sql_ticket_vis(sc));
	r = read_rows(st, sql, sc, bind_mq, &m, row_attachment_data, a, out, 1, &n, e);
	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "attachment not found");
	if (r == RC_OK && out->size < 0)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return r;
}

#define ROUTE_COLS "id, coalesce(client_id, 0), created_at, address, queue"

static void row_route(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct mail_route_row *x = (struct mail_route_row *)items + i;

	x->id = sqlite3_column_int64(q, 0);
	x->client_id = sqlite3_column_int64(q, 1);
	x->created_at = sqlite3_column_int64(q, 2);
	x->address = col_str(q, 3, a);
	x->queue = col_str(q, 4, a);
}

/* One row by sql (bound from m) into out; RC_NOTFOUND saying missing
 * when there is none. */
static enum result read_one(struct store *st, const char *sql, const struct mq *m,
			    void (*row)(sqlite3_stmt *, struct arena *, void *, size_t),
			    struct arena *a, void *out, const char *missing, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, sql, NULL, bind_mq, m, row, a, out, 1, &n, e);

	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "%s", missing);
	return r;
}

/* A configuration table whole (CONFIG_MAX rows at most), items of sz bytes. */
static enum result read_config(struct store *st, const char *sql,
			       void (*row)(sqlite3_stmt *, struct arena *, void *, size_t),
			       struct arena *a, size_t sz, void **items, size_t *n, struct err *e)
{
	*n = 0;
	*items = arena_alloc(a, sz * CONFIG_MAX);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, sql, NULL, bind_none, NULL, row, a, *items, CONFIG_MAX, n, e);
}

enum result sqmail_route_find(struct store *st, const char *address, struct arena *a,
			      struct mail_route_row *out, struct err *e)
{
	struct mq m = { .text = address };

	return read_one(st, "SELECT " ROUTE_COLS " FROM mail_routes WHERE address = :text", &m,
			row_route, a, out, "no route for this address", e);
}

enum result sqmail_route_list(struct store *st, struct arena *a, struct mail_route_row **items,
			      size_t *n, struct err *e)
{
	void *p = NULL;
	enum result r = read_config(st, "SELECT " ROUTE_COLS " FROM mail_routes ORDER BY id", row_route,
				    a, sizeof(**items), &p, n, e);

	*items = p;
	return r;
}

#define TEMPLATE_COLS "key, subject, body, version, updated_at"

static void row_template(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct template_row *x = (struct template_row *)items + i;

	x->key = col_str(q, 0, a);
	x->subject = col_str(q, 1, a);
	x->body = col_str(q, 2, a);
	x->version = sqlite3_column_int64(q, 3);
	x->updated_at = sqlite3_column_int64(q, 4);
}

enum result sqmail_template_get(struct store *st, const char *key, struct arena *a,
				struct template_row *out, struct err *e)
{
	struct mq m = { .text = key };

	return read_one(st, "SELECT " TEMPLATE_COLS " FROM mail_templates WHERE key = :text", &m,
			row_template, a, out, "the template is not overridden", e);
}

enum result sqmail_template_list(struct store *st, struct arena *a, struct template_row **items,
				 size_t *n, struct err *e)
{
	void *p = NULL;
	enum result r = read_config(st, "SELECT " TEMPLATE_COLS " FROM mail_templates ORDER BY key",
				    row_template, a, sizeof(**items), &p, n, e);

	*items = p;
	return r;
}

#define WEBHOOK_COLS "id, coalesce(client_id, 0), version, created_at, updated_at, name, url," \
	" events, secret, active"

static void row_webhook(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct webhook_row *x = (struct webhook_row *)items + i;

	x->id = sqlite3_column_int64(q, 0);
	x->client_id = sqlite3_column_int64(q, 1);
	x->version = sqlite3_column_int64(q, 2);
	x->created_at = sqlite3_column_int64(q, 3);
	x->updated_at = sqlite3_column_int64(q, 4);
	x->name = col_str(q, 5, a);
	x->url = col_str(q, 6, a);
	x->events = col_str(q, 7, a);
	x->secret = col_str(q, 8, a);
	x->active = sqlite3_column_int(q, 9) != 0;
}

enum result sqmail_webhook_get(struct store *st, int64_t id, struct arena *a,
			       struct webhook_row *out, struct err *e)
{
	struct mq m = { .id = id };

	return read_one(st, "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = :id", &m, row_webhook,
			a, out, "webhook not found", e);
}

enum result sqmail_webhook_list(struct store *st, struct arena *a, struct webhook_row **items,
				size_t *n, struct err *e)
{
	void *p = NULL;
	enum result r = read_config(st, "SELECT " WEBHOOK_COLS " FROM webhooks ORDER BY id",
				    row_webhook, a, sizeof(**items), &p, n, e);

	*items = p;
	return r;
}

static void row_outbox(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct outbox_row *x = (struct outbox_row *)items + i;

	x->id = sqlite3_column_int64(q, 0);
	x->client_id = sqlite3_column_int64(q, 1);
	x->ticket_id = sqlite3_column_int64(q, 2);
	x->created_at = sqlite3_column_int64(q, 3);
	x->event = col_str(q, 4, a);
	x->payload = col_str(q, 5, a);
	x->attempts = sqlite3_column_int(q, 6);
	x->next_attempt_at = sqlite3_column_int64(q, 7);
}

enum result sqmail_outbox_pending(struct store *st, size_t max, struct arena *a,
				  struct outbox_list *out, struct err *e)
{
	struct mq m = { .limit = max < LIST_MAX * 20 ? (int64_t)max : LIST_MAX * 20 };

	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(m.limit ? m.limit : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT id, tenant_id, coalesce(ticket_id, 0), created_at, event, payload,"
			 " attempts, next_attempt_at FROM outbox WHERE state = 'pending'"
			 " ORDER BY next_attempt_at, id LIMIT :limit", NULL, bind_mq,
			 &m, row_outbox, a, out->items, (size_t)m.limit, &out->n, e);
}

/* The body column is the 19th: the body itself (NULL in lists), then its
 * length. */
#define DELIVERY_COLS "id, tenant_id, outbox_id, coalesce(ticket_id, 0), coalesce(webhook_id, 0)," \
	" event, channel, template, target, message_id, subject, state, last_error, attempts," \
	" coalesce(last_status, 0), next_attempt_at, coalesce(sent_at, 0), created_at"
#define DELIVERY_BODY DELIVERY_COLS ", body, length(body)"
#define DELIVERY_LITE DELIVERY_COLS ", NULL, length(body)"

/* A row whose body did not fit the arena is marked with attempts -1 (the
 * caller's RC_NOMEM). */
static void row_delivery(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct delivery_row *x = (struct delivery_row *)items + i;
	bool short_of = false;
	size_t len;

	memset(x, 0, sizeof(*x));
	x->id = sqlite3_column_int64(q, 0);
	x->client_id = sqlite3_column_int64(q, 1);
	x->outbox_id = sqlite3_column_int64(q, 2);
	x->ticket_id = sqlite3_column_int64(q, 3);
	x->webhook_id = sqlite3_column_int64(q, 4);
	x->event = col_str(q, 5, a);
	x->channel = col_str(q, 6, a);
	x->template_key = col_str(q, 7, a);
	x->target = col_str(q, 8, a);
	x->message_id = col_str(q, 9, a);
	x->subject = col_str(q, 10, a);
	x->state = col_str(q, 11, a);
	x->last_error = col_str(q, 12, a);
	x->attempts = sqlite3_column_int(q, 13);
	x->last_status = (long)sqlite3_column_int64(q, 14);
	x->next_attempt_at = sqlite3_column_int64(q, 15);
	x->sent_at = sqlite3_column_int64(q, 16);
	x->created_at = sqlite3_column_int64(q, 17);
	x->body = col_bytes(q, 18, a, &len, &short_of);
	x->body_len = (size_t)sqlite3_column_int64(q, 19);
	if (short_of)
		x->attempts = -1;
}

static enum result deliveries_check(enum result r, const struct delivery_list *l, struct err *e)
{
	for (size_t i = 0; r == RC_OK && i < l->n; i++)
		if (l->items[i].attempts < 0)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
	return r;
}

enum result sqmail_deliveries_due(struct store *st, int64_t now, const char *channel, size_t max,
				  size_t max_bytes, struct arena *a, struct delivery_list *out,
				  struct err *e)
{
	struct mq m = { .since = now, .channel = channel,
			.limit = max < LIST_MAX * 20 ? (int64_t)max : LIST_MAX * 20,
			.bytes = max_bytes && max_bytes < INT64_MAX ? (int64_t)max_bytes : INT64_MAX };
	enum result r;

	out->n = 0;
	out->next_after = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(m.limit ? m.limit : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* The first :limit due (the index's order), then those whose bodies
	 * before them stay under :bytes (length() of a BLOB reads no
	 * content), then their bodies. */
	r = read_rows(st, "SELECT " DELIVERY_BODY " FROM deliveries WHERE id IN (SELECT id FROM"
		      " (SELECT id, sum(len) OVER (ORDER BY next_attempt_at, id) - len AS ahead FROM"
		      " (SELECT id, next_attempt_at, length(body) AS len FROM deliveries"
		      " WHERE state = 'pending' AND next_attempt_at <= :since"
		      " AND channel = coalesce(:channel, channel) ORDER BY next_attempt_at, id"
		      " LIMIT :limit)) WHERE ahead < :bytes) ORDER BY next_attempt_at, id",
		      NULL, bind_mq, &m, row_delivery, a, out->items, (size_t)m.limit, &out->n, e);
	return deliveries_check(r, out, e);
}

enum result sqmail_delivery_list(struct store *st, const struct delivery_q *dq, struct arena *a,
				 struct delivery_list *out, struct err *e)
{
	char sql[1024];
	int limit = list_limit(dq->limit);
	struct mq m = { .after = dq->after, .ticket_id = dq->ticket_id, .webhook_id = dq->webhook_id,
			.state = dq->state, .channel = dq->channel, .limit = limit + 1 };
	enum result r;

	out->n = 0;
	out->next_after = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(limit + 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* Constant fragments only; every value is a bound parameter. */
	snprintf(sql, sizeof(sql), "SELECT " DELIVERY_LITE " FROM deliveries WHERE 1 = 1%s%s%s%s%s"
		 " ORDER BY id DESC LIMIT :limit",
		 dq->after > 0 ? " AND id < :after" : "",
		 dq->ticket_id ? " AND ticket_id = :tid" : "",
		 dq->webhook_id ? " AND webhook_id = :webhook" : "",
		 dq->state ? " AND state = :state" : "",
		 dq->channel ? " AND channel = :channel" : "");
	r = read_rows(st, sql, NULL, bind_mq, &m, row_delivery, a, out->items, (size_t)limit + 1,
		      &out->n, e);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

enum result sqmail_delivery_get(struct store *st, int64_t id, struct arena *a,
				struct delivery_row *out, struct err *e)
{
	struct mq m = { .id = id };
	struct delivery_list l = { out, 0, 0 };
	enum result r = read_rows(st, "SELECT " DELIVERY_BODY " FROM deliveries WHERE id = :id", NULL,
				  bind_mq, &m, row_delivery, a, out, 1, &l.n, e);

	if (r == RC_OK && !l.n)
		return err_set(e, RC_NOTFOUND, NULL, "delivery not found");
	return deliveries_check(r, &l, e);
}
