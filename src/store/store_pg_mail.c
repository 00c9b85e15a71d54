/*
 * store_pg_mail.c: e-mail and the outbox on PostgreSQL (issue 8;
 * migrations-pg/0008_mail.sql, docs/MAIL.md): the port of
 * store_sqlite_mail.c (read the two side by side), with the same
 * contracts (store_int.h's sqmail_* functions) and the same invariants:
 *
 *  1. A Message-ID is filed once: mail_ids' primary key guards against a
 *     message delivered twice at the same moment; a second one fails its
 *     write whole (RC_CONFLICT "message_id"; the savepoint takes the rest
 *     back). Releasing a held message claims the row its log recorded.
 *  2. An outbox row becomes deliveries once: the write that inserts them
 *     first moves the row from pending to done (RC_CONFLICT "outbox" when
 *     it was not pending any more).
 *  3. Every move of a delivery is guarded in its UPDATE's WHERE:
 *
 *        pending --pgmail_delivery_result--> sent | failed | pending (later)
 *        pending --pgmail_webhook_delete---> failed ("webhook deleted")
 *        failed  --pgmail_delivery_retry---> pending (due now)
 *
 *  4. Attachments are read through their ticket, with the ticket's own
 *     visibility predicate (store_sql.c); internal ones only by provider
 *     staff who ask for them, exactly as notes are (pgt_ticket_messages).
 *  5. Everything else is provider configuration or the intake's and the
 *     dispatcher's work: those writes need an all-tenant scope (RC_DENIED
 *     otherwise); their reads take no scope.
 *
 * What differs from SQLite:
 *  - A batch may run again from the start (pg_writer.h): every apply
 *    function sets each result it has (ids, the mail_file's contact and
 *    log ids) in every pass, and pgmail_reset clears a ticket write's
 *    mail results when a pass begins.
 *  - A Message-ID recorded already: SQLite's INSERT fails on the key and
 *    the error is mapped; here the statement says ON CONFLICT DO NOTHING
 *    and the rows it changed decide (no failed statement, the same
 *    answer). A taken route address is pgw_run's unique violation, mapped
 *    to SQLite's message.
 *  - BLOBs are BYTEA: bound in binary (pgq_blob), read back from the text
 *    results' hex form (pg_bytea: NUL-terminated, as SQLite's col_bytes).
 *  - lower() in client_by_domain is SQLite's: ASCII letters only
 *    (translate(); PostgreSQL's lower() folds every letter). NOCASE in
 *    contact_find_email is lower() on both sides, as contacts_email_any
 *    is indexed (migrations-pg/0001's rule for NOCASE).
 *  - Text orders (template keys) are bytewise, COLLATE "C", as SQLite's
 *    BINARY; SQLite's length(body) of a BLOB is octet_length().
 *  - SQLite's row-by-row mail_thread is one statement per THREAD_MAX ids
 *    here: the ids bound as one text[] and unnested in their order (round
 *    trips are what costs on PostgreSQL), the first known one winning.
 */
#include "base/common.h"

#include <sodium.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/clock.h"
#include "store/store.h"
#include "store/store_sql.h"
#include "store/store_pg_int.h"

#define LIST_MAX 500
#define LIST_DEFAULT 50
#define CONFIG_MAX 1000          /* routes, templates, webhooks: all of them */
#define ATTACHMENTS_MAX 100000   /* of one ticket */
#define THREAD_MAX 1000          /* Message-IDs looked up at once */

/* ---- helpers ------------------------------------------------------------------------------ */

static enum result only_staff(struct store_write *w, const char *what)
{
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage %s", what);
	return RC_OK;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Binds n bytes at p to name as bytea: NULL when p is NULL and nullable,
 * else the bytes (empty for none: the BYTEA NOT NULL columns). A value
 * libpq cannot take (2 GB and more) is refused, never cut. */
static enum result bind_bytes(struct pgq *q, const char *name, const void *p, size_t n,
			      bool nullable, struct err *e)
{
	if (n > INT32_MAX)
		return err_set(e, RC_INVALID, NULL, "%s: too big to store", name + 1);
	if (!p && nullable)
		pgq_blob(q, name, NULL, 0);      /* a NULL typed bytea */
	else
		pgq_blob(q, name, p && n ? p : "", p ? (int)n : 0);
	return RC_OK;
}

/* Runs q (released) on the writer: *found whether it gave a row, *v
 * (when not NULL) its first column. */
static enum result step_one(struct pgw *x, struct pgq *q, bool *found, int64_t *v,
			    const char *field, const char *what, struct err *e)
{
	PGresult *r = pgw_run(x, q, field, what, e);

	pgq_release(q);
	*found = false;
	if (!r)
		return e->code;
	*found = PQntuples(r) > 0;
	if (*found && v)
		*v = pg_i64(r, 0, 0);
	PQclear(r);
	return RC_OK;
}

/* Runs q (released): *n the rows it changed (SQLite's sqlite3_changes()). */
static enum result step_changes(struct pgw *x, struct pgq *q, int64_t *n, const char *field,
				const char *what, struct err *e)
{
	PGresult *r = pgw_run(x, q, field, what, e);

	pgq_release(q);
	*n = 0;
	if (!r)
		return e->code;
	*n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return RC_OK;
}

/* Whether the writer finds a row for sql (binding :id and :key). */
static enum result row_exists(struct pgw *x, const char *sql, int64_t id, const char *key,
			      const char *what, bool *found, struct err *e)
{
	struct pgq q;

	pgq_init(&q, sql);
	pgq_i64(&q, ":id", id);
	pgq_txt(&q, ":key", key);
	return step_one(x, &q, found, NULL, NULL, what, e);
}

/* A client a route or webhook names must exist (0: none). */
static enum result client_ref(struct pgw *x, int64_t client, struct err *e)
{
	bool found = false;
	enum result r;

	if (!client)
		return RC_OK;
	r = row_exists(x, "SELECT 1 FROM clients WHERE id = :id", client, NULL, "client", &found, e);
	if (r == RC_OK && !found)
		r = err_set(e, RC_INVALID, "client_id", "is not a client");
	return r;
}

/* Records message_id in mail_ids; one there already is RC_CONFLICT on
 * "message_id" (or, with ignore, nothing happens). */
static enum result mail_id_put(struct pgw *x, const char *message_id, int64_t tenant, int64_t ticket,
			       const char *direction, bool ignore, int64_t now, struct err *e)
{
	struct pgq q;
	int64_t n;
	enum result r;

	pgq_init(&q, "INSERT INTO mail_ids (message_id, tenant_id, ticket_id, direction, created_at)"
		 " VALUES (:mid, :tenant, :tid, :dir, :now) ON CONFLICT (message_id) DO NOTHING");
	pgq_txt(&q, ":mid", message_id);
	pgq_i64(&q, ":tenant", tenant);
	pgq_ref(&q, ":tid", ticket);
	pgq_txt(&q, ":dir", direction);
	pgq_i64(&q, ":now", now);
	r = step_changes(x, &q, &n, "message_id", "message id", e);
	if (r == RC_OK && n == 0 && !ignore)
		return err_set(e, RC_CONFLICT, "message_id", "this message has been received already");
	return r;
}

/* Appends an intake log row (tenant and ticket given, the rest from in). */
static enum result log_put(struct pgw *x, const struct inbound_row *in, const char *message_id,
			   int64_t tenant, int64_t ticket, int64_t now, int64_t *id, struct err *e)
{
	struct pgq q;
	bool found = false;
	enum result r;

	*id = 0;
	if (!in->action)
		return err_set(e, RC_INVALID, "action", "is required");
	pgq_init(&q, "INSERT INTO mail_inbound (tenant_id, message_id, sender, recipient, subject,"
		 " action, reason, ticket_id, size, raw, received_at) VALUES (:tenant, :mid, :sender,"
		 " :rcpt, :subject, :action, :reason, :tid, :size, :raw, :at) RETURNING id");
	pgq_i64(&q, ":tenant", tenant);
	pgq_txt(&q, ":mid", or_empty(message_id));
	pgq_txt(&q, ":sender", or_empty(in->sender));
	pgq_txt(&q, ":rcpt", or_empty(in->recipient));
	pgq_txt(&q, ":subject", or_empty(in->subject));
	pgq_txt(&q, ":action", in->action);
	pgq_txt(&q, ":reason", or_empty(in->reason));
	pgq_ref(&q, ":tid", ticket);
	pgq_i64(&q, ":size", in->size);
	pgq_i64(&q, ":at", in->received_at ? in->received_at : now);
	r = bind_bytes(&q, ":raw", in->raw, in->raw_len, true, e);
	if (r != RC_OK) {
		pgq_release(&q);
		return r;
	}
	r = step_one(x, &q, &found, id, NULL, "intake log", e);
	if (r == RC_OK && !found)
		r = err_set(e, RC_IO, NULL, "intake log: no id returned");
	return r;
}

/* ---- a ticket write's e-mail ----------------------------------------------------------------- */

void pgmail_reset(struct ticket_write *tw)
{
	struct mail_file *m = tw->mail;

	if (!m)
		return;
	m->contact_id = 0;
	m->inbound_id = 0;
	for (size_t i = 0; i < m->natt; i++)
		m->att[i].id = 0;
}

enum result pgmail_contact(struct pgw *x, struct ticket_write *tw, bool create, struct err *e)
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
	r = pgw_contact_insert(x, &c, &m->contact_id, e);
	if (r != RC_OK) {
		m->contact_id = 0;
		return r;
	}
	/* Set in every pass: a pass that runs again makes the contact again
	 * (perhaps with another id) and points at that one. */
	if (create)
		tw->t.requester_contact_id = m->contact_id;
	tw->msg.author_contact_id = m->contact_id;
	return RC_OK;
}

/* The held log row release_id is released into ticket t. */
static enum result release_held(struct pgw *x, const struct mail_file *m, const struct ticket *t,
				struct err *e)
{
	struct pgq q;
	int64_t n;
	enum result r;

	pgq_init(&q, "UPDATE mail_inbound SET action = 'released', tenant_id = :tenant,"
		 " ticket_id = :tid, raw = NULL WHERE id = :id AND action = 'held'");
	pgq_i64(&q, ":tenant", t->client_id);
	pgq_i64(&q, ":tid", t->id);
	pgq_i64(&q, ":id", m->release_id);
	r = step_changes(x, &q, &n, NULL, "intake log", e);
	if (r == RC_OK && n != 1)
		return err_set(e, RC_CONFLICT, "release", "the message is not held (released already?)");
	return r;
}

/* Files the message's Message-ID under t: the held row's claimed when it
 * is that message released, else a new one (invariant 1). */
static enum result file_message_id(struct pgw *x, const struct mail_file *m, const struct ticket *t,
				   int64_t now, struct err *e)
{
	if (m->release_id) {
		struct pgq q;
		int64_t n;
		enum result r;

		pgq_init(&q, "UPDATE mail_ids SET tenant_id = :tenant, ticket_id = :tid"
			 " WHERE message_id = :mid AND ticket_id IS NULL AND message_id ="
			 " (SELECT message_id FROM mail_inbound WHERE id = :release)");
		pgq_i64(&q, ":tenant", t->client_id);
		pgq_i64(&q, ":tid", t->id);
		pgq_txt(&q, ":mid", m->message_id);
		pgq_i64(&q, ":release", m->release_id);
		r = step_changes(x, &q, &n, NULL, "message id", e);
		if (r != RC_OK || n == 1)
			return r;
	}
	return mail_id_put(x, m->message_id, t->client_id, t->id, "in", false, now, e);
}

static enum result attachment_put(struct pgw *x, const struct ticket_write *tw,
				  struct attachment_row *at, int64_t now, struct err *e)
{
	static const unsigned char none[1];
	const unsigned char *data = at->data ? at->data : none;
	struct pgq q;
	bool found = false;
	enum result r;

	if (at->size < 0 || (at->size > 0 && !at->data))
		return err_set(e, RC_INVALID, "attachments", "an attachment has no data");
	crypto_hash_sha256(at->sha256, data, (unsigned long long)at->size);
	at->client_id = tw->t.client_id;
	at->ticket_id = tw->t.id;
	at->message_id = tw->has_msg ? tw->message_id : 0;
	at->internal = tw->has_msg && tw->msg.kind && !strcmp(tw->msg.kind, "note");
	at->created_at = now;
	pgq_init(&q, "INSERT INTO attachments (tenant_id, ticket_id, message_id, filename, content_type,"
		 " content_id, inline, internal, size, sha256, data, created_at) VALUES (:tenant, :tid,"
		 " :msg, :filename, :ctype, :cid, :inline, :internal, :size, :sha, :data, :now)"
		 " RETURNING id");
	pgq_i64(&q, ":tenant", at->client_id);
	pgq_i64(&q, ":tid", at->ticket_id);
	pgq_ref(&q, ":msg", at->message_id);
	pgq_txt(&q, ":filename", or_empty(at->filename));
	pgq_txt(&q, ":ctype", at->content_type ? at->content_type : "application/octet-stream");
	pgq_txt(&q, ":cid", at->content_id);
	pgq_i64(&q, ":inline", at->is_inline ? 1 : 0);
	pgq_i64(&q, ":internal", at->internal ? 1 : 0);
	pgq_i64(&q, ":size", at->size);
	pgq_blob(&q, ":sha", at->sha256, 32);
	pgq_i64(&q, ":now", now);
	r = bind_bytes(&q, ":data", at->data, (size_t)at->size, false, e);
	if (r != RC_OK) {
		pgq_release(&q);
		return r;
	}
	r = step_one(x, &q, &found, &at->id, NULL, "attachment", e);
	if (r == RC_OK && !found)
		r = err_set(e, RC_IO, NULL, "attachment: no id returned");
	return r;
}

enum result pgmail_file(struct pgw *x, struct ticket_write *tw, int64_t now, struct err *e)
{
	struct mail_file *m = tw->mail;
	const struct ticket *t = &tw->t;
	const char *mid = m->log.message_id ? m->log.message_id : m->message_id;
	enum result r = RC_OK;

	m->inbound_id = 0;
	if (m->release_id)
		r = release_held(x, m, t, e);
	if (r == RC_OK && m->message_id && *m->message_id)
		r = file_message_id(x, m, t, now, e);
	for (size_t i = 0; r == RC_OK && i < m->natt; i++)
		r = attachment_put(x, tw, &m->att[i], now, e);
	if (r == RC_OK && m->release_id)
		m->inbound_id = m->release_id;  /* the held row is its log row */
	else if (r == RC_OK)
		r = log_put(x, &m->log, mid, t->client_id, t->id, now, &m->inbound_id, e);
	return r;
}

/* ---- writes ------------------------------------------------------------------------------------ */

enum result pgmail_log(struct pgw *x, struct store_write *w)
{
	struct inbound_row *in = &w->in.inbound;
	int64_t now = clock_now_ms();
	enum result r = only_staff(w, "the mail intake");

	w->id = 0;
	if (r == RC_OK)
		r = log_put(x, in, in->message_id, in->client_id, in->ticket_id, now, &w->id, &w->err);
	if (r == RC_OK && in->message_id && *in->message_id && strcmp(in->action, "duplicate") != 0)
		r = mail_id_put(x, in->message_id, in->client_id, 0, "in", false, now, &w->err);
	if (r != RC_OK)
		return r;
	in->id = w->id;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = in->client_id;
	return RC_OK;
}

enum result pgmail_route_put(struct pgw *x, struct store_write *w)
{
	struct mail_route_row *rt = &w->in.route;
	struct pgq q;
	bool found = false;
	enum result r = only_staff(w, "mail routes");

	w->id = 0;
	if (r == RC_OK)
		r = client_ref(x, rt->client_id, &w->err);
	if (r != RC_OK)
		return r;
	pgq_init(&q, rt->id ? "UPDATE mail_routes SET address = :address, client_id = :client,"
			      " queue = :queue WHERE id = :id RETURNING id"
			    : "INSERT INTO mail_routes (address, client_id, queue, created_at)"
			      " VALUES (:address, :client, :queue, :now) RETURNING id");
	pgq_i64(&q, ":id", rt->id);
	pgq_txt(&q, ":address", rt->address);
	pgq_ref(&q, ":client", rt->client_id);
	pgq_txt(&q, ":queue", rt->queue);
	pgq_i64(&q, ":now", clock_now_ms());
	r = step_one(x, &q, &found, &w->id, "address", "mail route", &w->err);
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
static enum result delete_by_id(struct pgw *x, struct store_write *w, const char *sql,
				const char *what)
{
	struct pgq q;
	bool found = false;
	int64_t client = 0;
	enum result r = only_staff(w, what);

	if (r != RC_OK)
		return r;
	pgq_init(&q, sql);
	pgq_i64(&q, ":id", w->id);
	r = step_one(x, &q, &found, &client, NULL, what, &w->err);
	if (r == RC_OK && !found)
		return err_set(&w->err, RC_NOTFOUND, NULL, "%s not found", what);
	if (r == RC_OK && !w->audit.tenant_id)
		w->audit.tenant_id = client;
	return r;
}

enum result pgmail_route_delete(struct pgw *x, struct store_write *w)
{
	return delete_by_id(x, w, "DELETE FROM mail_routes WHERE id = :id"
			    " RETURNING coalesce(client_id, 0)", "mail route");
}

/* An update that changed nothing: RC_STALE when the object exists (the
 * version did not match), else RC_NOTFOUND. */
static enum result put_miss(struct pgw *x, struct store_write *w, const char *exists_sql,
			    int64_t id, const char *key, const char *what)
{
	bool found = false;
	enum result r = row_exists(x, exists_sql, id, key, what, &found, &w->err);

	if (r != RC_OK)
		return r;
	if (found)
		return err_set(&w->err, RC_STALE, NULL,
			       "the %s was changed by someone else; reload it and try again", what);
	return err_set(&w->err, RC_NOTFOUND, NULL, "%s not found", what);
}

enum result pgmail_template_put(struct pgw *x, struct store_write *w)
{
	const struct template_row *t = &w->in.tmpl;
	struct pgq q;
	bool found = false;
	enum result r = only_staff(w, "templates");

	if (r != RC_OK)
		return r;
	if (!t->key || !*t->key)
		return err_set(&w->err, RC_INVALID, "key", "is required");
	/* Any version: made or replaced. A version: only that one changes. */
	pgq_init(&q, w->if_version
		 ? "UPDATE mail_templates SET subject = :subject, body = :body,"
		   " version = version + 1, updated_at = :now"
		   " WHERE key = :key AND version = :version RETURNING version"
		 : "INSERT INTO mail_templates (key, subject, body, version, updated_at)"
		   " VALUES (:key, :subject, :body, 1, :now) ON CONFLICT (key) DO UPDATE SET"
		   " subject = excluded.subject, body = excluded.body,"
		   " version = mail_templates.version + 1, updated_at = excluded.updated_at"
		   " RETURNING version");
	pgq_txt(&q, ":key", t->key);
	pgq_txt(&q, ":subject", t->subject);
	pgq_txt(&q, ":body", t->body);
	pgq_i64(&q, ":version", w->if_version);
	pgq_i64(&q, ":now", clock_now_ms());
	r = step_one(x, &q, &found, &w->version, NULL, "template", &w->err);
	if (r == RC_OK && !found)
		return put_miss(x, w, "SELECT 1 FROM mail_templates WHERE key = :key", 0, t->key, "template");
	return r;
}

enum result pgmail_template_delete(struct pgw *x, struct store_write *w)
{
	const char *key = w->in.tmpl.key;
	struct pgq q;
	int64_t n;
	enum result r = only_staff(w, "templates");

	if (r != RC_OK)
		return r;
	pgq_init(&q, "DELETE FROM mail_templates WHERE key = :key"
		 " AND (:version = 0 OR version = :version)");
	pgq_txt(&q, ":key", key);
	pgq_i64(&q, ":version", w->if_version);
	r = step_changes(x, &q, &n, NULL, "template", &w->err);
	if (r == RC_OK && n == 0)
		return put_miss(x, w, "SELECT 1 FROM mail_templates WHERE key = :key", 0, key, "template");
	return r;
}

enum result pgmail_webhook_put(struct pgw *x, struct store_write *w)
{
	const struct webhook_row *h = &w->in.webhook;
	int64_t now = clock_now_ms();
	struct pgq q;
	PGresult *res;
	bool found;
	enum result r = only_staff(w, "webhooks");

	if (r == RC_OK)
		r = client_ref(x, h->client_id, &w->err);
	if (r != RC_OK)
		return r;
	if (!h->id && (!h->secret || !*h->secret))
		return err_set(&w->err, RC_INVALID, "secret", "is required");
	/* An update without a secret keeps the one there. SQLite reads a
	 * new id from last_insert_rowid; here it comes with the version. */
	pgq_init(&q, h->id ? "UPDATE webhooks SET name = :name, url = :url, events = :events,"
			     " client_id = :client, secret = coalesce(:secret, secret), active = :active,"
			     " version = version + 1, updated_at = :now"
			     " WHERE id = :id AND (:version = 0 OR version = :version)"
			     " RETURNING version, id"
			   : "INSERT INTO webhooks (name, url, events, client_id, secret, active, version,"
			     " created_at, updated_at) VALUES (:name, :url, :events, :client, :secret, :active,"
			     " 1, :now, :now) RETURNING version, id");
	pgq_i64(&q, ":id", h->id);
	pgq_i64(&q, ":version", w->if_version);
	pgq_txt(&q, ":name", h->name);
	pgq_txt(&q, ":url", h->url);
	pgq_txt(&q, ":events", h->events ? h->events : "[]");
	pgq_ref(&q, ":client", h->client_id);
	pgq_txt(&q, ":secret", h->secret && *h->secret ? h->secret : NULL);
	pgq_i64(&q, ":active", h->active ? 1 : 0);
	pgq_i64(&q, ":now", now);
	res = pgw_run(x, &q, NULL, "webhook", &w->err);
	pgq_release(&q);
	if (!res)
		return w->err.code;
	found = PQntuples(res) > 0;
	if (found) {
		w->version = pg_i64(res, 0, 0);
		w->id = pg_i64(res, 0, 1);
	}
	PQclear(res);
	if (!found)
		return put_miss(x, w, "SELECT 1 FROM webhooks WHERE id = :id", h->id, NULL, "webhook");
	if (!w->audit.tenant_id)
		w->audit.tenant_id = h->client_id;
	return RC_OK;
}

/* A webhook ends: its pending deliveries fail. */
enum result pgmail_webhook_delete(struct pgw *x, struct store_write *w)
{
	struct pgq q;
	enum result r = delete_by_id(x, w, "DELETE FROM webhooks WHERE id = :id"
				     " RETURNING coalesce(client_id, 0)", "webhook");

	if (r != RC_OK)
		return r;
	pgq_init(&q, "UPDATE deliveries SET state = 'failed', last_error = 'webhook deleted'"
		 " WHERE webhook_id = :id AND state = 'pending'");
	pgq_i64(&q, ":id", w->id);
	r = pgw_do(x, &q, NULL, "deliveries", &w->err);
	pgq_release(&q);
	return r;
}

static enum result delivery_put(struct pgw *x, struct delivery_row *d, int64_t outbox,
				int64_t tenant, int64_t now, struct err *e)
{
	struct pgq q;
	bool found = false;
	enum result r;

	d->id = 0;
	pgq_init(&q, "INSERT INTO deliveries (tenant_id, outbox_id, ticket_id, event, channel,"
		 " template, target, webhook_id, message_id, subject, body, state, attempts,"
		 " next_attempt_at, created_at) VALUES (:tenant, :outbox, :tid,"
		 " coalesce(:event, (SELECT o.event FROM outbox o WHERE o.id = :outbox)), :channel,"
		 " :template, :target, :webhook, :mid, :subject, :body, 'pending', 0, :now, :now)"
		 " RETURNING id");
	pgq_i64(&q, ":tenant", tenant);
	pgq_i64(&q, ":outbox", outbox);
	pgq_ref(&q, ":tid", d->ticket_id);
	pgq_txt(&q, ":event", d->event);
	pgq_txt(&q, ":channel", d->channel);
	pgq_txt(&q, ":template", d->template_key);
	pgq_txt(&q, ":target", d->target);
	pgq_ref(&q, ":webhook", d->webhook_id);
	pgq_txt(&q, ":mid", d->message_id);
	pgq_txt(&q, ":subject", d->subject);
	pgq_i64(&q, ":now", now);
	r = bind_bytes(&q, ":body", d->body, d->body_len, false, e);
	if (r != RC_OK) {
		pgq_release(&q);
		return r;
	}
	r = step_one(x, &q, &found, &d->id, NULL, "delivery", e);
	if (r == RC_OK && !found)
		r = err_set(e, RC_IO, NULL, "delivery: no id returned");
	if (r != RC_OK)
		return r;
	d->client_id = tenant;
	d->outbox_id = outbox;
	d->next_attempt_at = d->created_at = now;
	if (d->channel && !strcmp(d->channel, "email") && d->message_id && *d->message_id)
		r = mail_id_put(x, d->message_id, tenant, d->ticket_id, "out", true, now, e);
	return r;
}

enum result pgmail_outbox_expand(struct pgw *x, struct store_write *w)
{
	__typeof__(w->in.expand) *ex = &w->in.expand;
	int64_t now = ex->now ? ex->now : clock_now_ms();
	int64_t tenant = 0, ticket = 0;
	struct pgq q;
	PGresult *res;
	bool found;
	enum result r = only_staff(w, "the outbox");

	w->id = 0;
	if (r != RC_OK)
		return r;
	pgq_init(&q, "UPDATE outbox SET state = 'done' WHERE id = :id AND state = 'pending'"
		 " RETURNING tenant_id, coalesce(ticket_id, 0)");
	pgq_i64(&q, ":id", ex->outbox_id);
	res = pgw_run(x, &q, NULL, "outbox", &w->err);
	pgq_release(&q);
	if (!res)
		return w->err.code;
	found = PQntuples(res) > 0;
	if (found) {
		tenant = pg_i64(res, 0, 0);
		ticket = pg_i64(res, 0, 1);
	}
	PQclear(res);
	if (!found)
		return err_set(&w->err, RC_CONFLICT, "outbox", "the outbox row is not pending any more");
	/* Each delivery is of the outbox row's client; of its ticket and
	 * event unless the item names others. */
	for (size_t i = 0; r == RC_OK && i < ex->n; i++) {
		struct delivery_row *d = &ex->items[i];
		if (!d->ticket_id)
			d->ticket_id = ticket;
		r = delivery_put(x, d, ex->outbox_id, tenant, now, &w->err);
	}
	if (r != RC_OK)
		return r;
	w->id = ex->outbox_id;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = tenant;
	return RC_OK;
}

/* A delivery update that changed nothing: RC_CONFLICT when the delivery
 * exists (not in the state the move starts from), else RC_NOTFOUND. */
static enum result delivery_miss(struct pgw *x, struct store_write *w, int64_t id, const char *why)
{
	bool found = false;
	enum result r = row_exists(x, "SELECT 1 FROM deliveries WHERE id = :id", id, NULL, "delivery",
				   &found, &w->err);

	if (r != RC_OK)
		return r;
	if (found)
		return err_set(&w->err, RC_CONFLICT, "delivery", "%s", why);
	return err_set(&w->err, RC_NOTFOUND, NULL, "delivery not found");
}

enum result pgmail_delivery_result(struct pgw *x, struct store_write *w)
{
	__typeof__(w->in.dres) *d = &w->in.dres;
	struct pgq q;
	bool found = false;
	int64_t tenant = 0;
	enum result r = only_staff(w, "deliveries");

	if (r != RC_OK)
		return r;
	if (!d->state || (strcmp(d->state, "sent") && strcmp(d->state, "pending") &&
			  strcmp(d->state, "failed")))
		return err_set(&w->err, RC_INVALID, "state", "must be sent, pending or failed");
	pgq_init(&q, "UPDATE deliveries SET attempts = attempts + 1, last_error = :error,"
		 " last_status = :status, state = :state,"
		 " sent_at = CASE WHEN :state = 'sent' THEN :now ELSE sent_at END,"
		 " next_attempt_at = CASE WHEN :next > 0 THEN :next ELSE next_attempt_at END"
		 " WHERE id = :id AND state = 'pending' RETURNING tenant_id");
	pgq_txt(&q, ":error", d->error);
	pgq_ref(&q, ":status", (int64_t)d->status);
	pgq_txt(&q, ":state", d->state);
	pgq_i64(&q, ":now", d->now ? d->now : clock_now_ms());
	pgq_i64(&q, ":next", d->next_attempt_at);
	pgq_i64(&q, ":id", d->id);
	r = step_one(x, &q, &found, &tenant, NULL, "delivery", &w->err);
	if (r == RC_OK && !found)
		return delivery_miss(x, w, d->id, "the delivery is not pending");
	if (r != RC_OK)
		return r;
	w->id = d->id;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = tenant;
	return RC_OK;
}

enum result pgmail_delivery_retry(struct pgw *x, struct store_write *w)
{
	int64_t id = w->id ? w->id : w->in.dres.id;
	struct pgq q;
	bool found = false;
	int64_t tenant = 0;
	enum result r = only_staff(w, "deliveries");

	if (r != RC_OK)
		return r;
	pgq_init(&q, "UPDATE deliveries SET state = 'pending', next_attempt_at = :now"
		 " WHERE id = :id AND state = 'failed' RETURNING tenant_id");
	pgq_i64(&q, ":now", w->in.dres.now ? w->in.dres.now : clock_now_ms());
	pgq_i64(&q, ":id", id);
	r = step_one(x, &q, &found, &tenant, NULL, "delivery", &w->err);
	if (r == RC_OK && !found)
		return delivery_miss(x, w, id, "only a failed delivery can be retried");
	if (r != RC_OK)
		return r;
	w->id = id;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = tenant;
	return RC_OK;
}

/* ---- reads ------------------------------------------------------------------------------------- */

/* The parameters of the reads below, bound by name (unused ones skipped). */
struct mq {
	int64_t id, after, since, ticket_id, webhook_id, limit, bytes;
	const char *text, *state, *channel;
	bool all;
};

static void bind_mq(struct pgq *q, const struct mq *m)
{
	pgq_i64(q, ":id", m->id);
	pgq_i64(q, ":after", m->after);
	pgq_i64(q, ":since", m->since);
	pgq_i64(q, ":tid", m->ticket_id);
	pgq_i64(q, ":webhook", m->webhook_id);
	pgq_i64(q, ":limit", m->limit);
	pgq_i64(q, ":bytes", m->bytes);
	pgq_txt(q, ":text", m->text);
	pgq_txt(q, ":state", m->state);
	pgq_txt(q, ":channel", m->channel);
	pgq_bool(q, ":all", m->all);
}

/* Runs sql on a reader, binding the ticket scope (when sc: :cid and :uid,
 * as sql_ticket_vis wants them) and m, mapping up to max rows of sz bytes
 * into items. */
static enum result read_rows(struct store *st, const char *sql, const struct scope *sc,
			     const struct mq *m, pg_row_fn row, struct arena *a, void *items,
			     size_t sz, size_t max, size_t *n, struct err *e)
{
	struct pgq q;
	enum result r;

	*n = 0;
	pgq_init(&q, sql);
	if (sc) {
		pgq_i64(&q, ":cid", sc->client_id);
		pgq_i64(&q, ":uid", sc->user_id);
	}
	bind_mq(&q, m);
	r = pgr_rows(st, &q, a, items, sz, max, n, row, e);
	pgq_release(&q);
	return r;
}

static void row_i64(const PGresult *r, int i, struct arena *a, void *item)
{
	UNUSED(a);
	*(int64_t *)item = pg_i64(r, i, 0);
}

/* One int64 from sql; RC_NOTFOUND (saying what) when no row. */
static enum result read_i64(struct store *st, const char *sql, const struct mq *m, int64_t *v,
			    const char *what, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, sql, NULL, m, row_i64, NULL, v, sizeof(*v), 1, &n, e);

	if (r == RC_OK && !n) {
		*v = 0;
		return err_set(e, RC_NOTFOUND, NULL, "%s", what);
	}
	return r;
}

/* A bytea column into a: *short_of set when it is not NULL and did not
 * fit the arena (the caller's RC_NOMEM). */
static const unsigned char *col_bytes(const PGresult *r, int i, int col, struct arena *a,
				      size_t *len, bool *short_of)
{
	const unsigned char *p = pg_bytea(r, i, col, a, len);

	if (!p && !pg_isnull(r, i, col))
		*short_of = true;
	return p;
}

static int list_limit(int limit)
{
	return limit <= 0 ? LIST_DEFAULT : limit > LIST_MAX ? LIST_MAX : limit;
}

/* A text[] literal of n strings (each double-quoted, '\' and '"'
 * escaped), bound as one text parameter: no value is spliced into SQL.
 * NULL entries are empty strings, which no Message-ID is. */
static enum result text_array(struct buf *b, const char *const *s, size_t n)
{
	enum result r = buf_append(b, "{", 1);

	for (size_t i = 0; r == RC_OK && i < n; i++) {
		const char *p = s[i] ? s[i] : "";
		r = buf_append(b, i ? ",\"" : "\"", i ? 2 : 1);
		for (; r == RC_OK && *p; p++) {
			if (*p == '"' || *p == '\\')
				r = buf_append(b, "\\", 1);
			if (r == RC_OK)
				r = buf_append(b, p, 1);
		}
		if (r == RC_OK)
			r = buf_append(b, "\"", 1);
	}
	return r == RC_OK ? buf_append(b, "}", 1) : r;
}

struct thread_hit { int64_t ord, ticket; };

static void row_thread(const PGresult *r, int i, struct arena *a, void *item)
{
	struct thread_hit *h = item;

	UNUSED(a);
	h->ord = pg_i64(r, i, 0);
	h->ticket = pg_i64(r, i, 1);
}

enum result pgmail_thread(struct store *st, const char *const *ids, size_t n, int *found,
			  int64_t *ticket_id, struct err *e)
{
	*found = -1;
	*ticket_id = 0;
	if (n > INT_MAX)
		n = INT_MAX;
	/* THREAD_MAX ids a statement, in order: the first chunk with a hit
	 * has the first known id. */
	for (size_t off = 0; off < n; off += THREAD_MAX) {
		size_t k = n - off < THREAD_MAX ? n - off : THREAD_MAX, got = 0;
		struct buf b = BUF_INIT(64u << 20);
		struct thread_hit h = { 0, 0 };
		struct mq m = { 0 };
		enum result r;

		if (text_array(&b, ids + off, k) != RC_OK) {
			buf_release(&b);
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		}
		m.text = buf_str(&b);
		r = read_rows(st, "SELECT u.ord, coalesce(m.ticket_id, 0)"
			      " FROM unnest(CAST(:text AS text[])) WITH ORDINALITY AS u (id, ord)"
			      " JOIN mail_ids m ON m.message_id = u.id WHERE u.id <> ''"
			      " ORDER BY u.ord LIMIT 1", NULL, &m, row_thread, NULL, &h, sizeof(h), 1,
			      &got, e);
		buf_release(&b);
		if (r != RC_OK)
			return r;
		if (got) {
			*found = (int)(off + (size_t)h.ord - 1);
			*ticket_id = h.ticket;
			return RC_OK;
		}
	}
	return RC_OK;
}

static void row_i64_pair(const PGresult *r, int i, struct arena *a, void *item)
{
	UNUSED(a);
	((int64_t *)item)[0] = pg_i64(r, i, 0);
	((int64_t *)item)[1] = pg_i64(r, i, 1);
}

/* A pair of ids (id, client) by sql; RC_NOTFOUND when no row. */
static enum result read_pair(struct store *st, const char *sql, const struct mq *m, int64_t *id,
			     int64_t *client, const char *what, struct err *e)
{
	int64_t v[2] = { 0, 0 };
	size_t n = 0;
	enum result r = read_rows(st, sql, NULL, m, row_i64_pair, NULL, v, sizeof(v), 1, &n, e);

	*id = v[0];
	*client = v[1];
	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "%s", what);
	return r;
}

enum result pgmail_ticket_by_number(struct store *st, int64_t number, int64_t *id,
				    int64_t *client_id, struct err *e)
{
	struct mq m = { .id = number };

	return read_pair(st, "SELECT id, tenant_id FROM tickets WHERE number = :id", &m, id, client_id,
			 "no ticket has this number", e);
}

/* SQLite: c.email = :text COLLATE NOCASE. Here lower() on both sides, as
 * the index contacts_email_any has it (migrations-pg/0008; lower() folds
 * more letters than NOCASE, as in pgt_contact_by_email). */
enum result pgmail_contact_find_email(struct store *st, const char *email, int64_t *id,
				      int64_t *client_id, struct err *e)
{
	struct mq m = { .text = email };

	return read_pair(st, "SELECT c.id, c.tenant_id FROM contacts c JOIN clients k ON k.id = c.tenant_id"
			 " WHERE k.active = 1 AND lower(c.email) = lower(:text) ORDER BY c.id LIMIT 1",
			 &m, id, client_id, "no contact has this address", e);
}

/* SQLite's lower() folds A-Z only: translate() does the same. */
#define ASCII_LOWER(x) "translate(" x ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"

enum result pgmail_client_by_domain(struct store *st, const char *domain, int64_t *id,
				    struct err *e)
{
	struct mq m = { .text = domain };

	return read_i64(st, "SELECT id FROM clients WHERE active = 1"
			" AND " ASCII_LOWER("email_domain") " = " ASCII_LOWER(":text")
			" ORDER BY id LIMIT 1", &m, id, "no client has this e-mail domain", e);
}

enum result pgmail_inbound_count(struct store *st, const char *sender, int64_t since, int64_t *n,
				 struct err *e)
{
	struct mq m = { .text = sender, .since = since };

	return read_i64(st, "SELECT count(*) FROM mail_inbound WHERE sender = :text"
			" AND received_at >= :since", &m, n, "count", e);
}

#define INBOUND_COLS "id, tenant_id, coalesce(ticket_id, 0), size, received_at, message_id, sender," \
	" recipient, subject, action, reason, raw IS NOT NULL"

static void row_inbound(const PGresult *r, int i, struct arena *a, void *item)
{
	struct inbound_row *x = item;

	memset(x, 0, sizeof(*x));
	x->id = pg_i64(r, i, 0);
	x->client_id = pg_i64(r, i, 1);
	x->ticket_id = pg_i64(r, i, 2);
	x->size = pg_i64(r, i, 3);
	x->received_at = pg_i64(r, i, 4);
	x->message_id = pg_str(r, i, 5, a);
	x->sender = pg_str(r, i, 6, a);
	x->recipient = pg_str(r, i, 7, a);
	x->subject = pg_str(r, i, 8, a);
	x->action = pg_str(r, i, 9, a);
	x->reason = pg_str(r, i, 10, a);
	x->has_raw = pg_i64(r, i, 11) != 0;
}

/* With raw: its column follows INBOUND_COLS. A row whose raw did not fit
 * the arena is marked with raw_len SIZE_MAX (the caller's RC_NOMEM). */
static void row_inbound_raw(const PGresult *r, int i, struct arena *a, void *item)
{
	struct inbound_row *x = item;
	bool short_of = false;

	row_inbound(r, i, a, x);
	x->raw = col_bytes(r, i, 12, a, &x->raw_len, &short_of);
	if (short_of)
		x->raw_len = SIZE_MAX;
}

enum result pgmail_inbound_list(struct store *st, const struct inbound_q *iq, struct arena *a,
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
	/* Constant fragments only; every value is a bound parameter. */
	snprintf(sql, sizeof(sql), "SELECT " INBOUND_COLS " FROM mail_inbound WHERE id > :after%s"
		 " ORDER BY id LIMIT :limit", iq->action ? " AND action = :text" : "");
	r = read_rows(st, sql, NULL, &m, row_inbound, a, out->items, sizeof(*out->items),
		      (size_t)limit + 1, &out->n, e);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

enum result pgmail_inbound_get(struct store *st, int64_t id, struct arena *a,
			       struct inbound_row *out, struct err *e)
{
	struct mq m = { .id = id };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " INBOUND_COLS ", raw FROM mail_inbound WHERE id = :id",
				  NULL, &m, row_inbound_raw, a, out, sizeof(*out), 1, &n, e);

	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "message not found");
	if (r == RC_OK && out->raw_len == SIZE_MAX)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return r;
}

#define ATT_COLS "x.id, x.tenant_id, x.ticket_id, coalesce(x.message_id, 0), x.size, x.created_at," \
	" x.filename, x.content_type, x.content_id, x.inline, x.internal, x.sha256"

static void row_attachment(const PGresult *r, int i, struct arena *a, void *item)
{
	struct attachment_row *x = item;

	memset(x, 0, sizeof(*x));
	x->id = pg_i64(r, i, 0);
	x->client_id = pg_i64(r, i, 1);
	x->ticket_id = pg_i64(r, i, 2);
	x->message_id = pg_i64(r, i, 3);
	x->size = pg_i64(r, i, 4);
	x->created_at = pg_i64(r, i, 5);
	x->filename = pg_str(r, i, 6, a);
	x->content_type = pg_str(r, i, 7, a);
	x->content_id = pg_str(r, i, 8, a);
	x->is_inline = pg_i64(r, i, 9) != 0;
	x->internal = pg_i64(r, i, 10) != 0;
	pg_blob(r, i, 11, x->sha256, 32);
}

/* With data: its column follows ATT_COLS. One that did not fit the arena
 * is marked with size -1 (the caller's RC_NOMEM). */
static void row_attachment_data(const PGresult *r, int i, struct arena *a, void *item)
{
	struct attachment_row *x = item;
	bool short_of = false;
	size_t len;

	row_attachment(r, i, a, x);
	x->data = col_bytes(r, i, 12, a, &len, &short_of);
	if (short_of)
		x->size = -1;
}

enum result pgmail_attachment_list(struct store *st, const struct scope *sc, int64_t ticket_id,
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
	r = pgt_ticket_get(st, sc, ticket_id, a, &t, e);
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
			 " AND (:all OR x.internal = 0) ORDER BY x.id", NULL, &m, row_attachment, a,
			 out->items, sizeof(*out->items), max, &out->n, e);
}

enum result pgmail_attachment_get(struct store *st, const struct scope *sc, int64_t id,
				  bool with_internal, struct arena *a, struct attachment_row *out,
				  struct err *e)
{
	struct mq m = { .id = id, .all = with_internal && sc->all_tenants };
	char sql[1024];
	size_t n = 0;
	enum result r;

	/* Constant fragments only; every value is a bound parameter. */
	snprintf(sql, sizeof(sql), "SELECT " ATT_COLS ", x.data FROM attachments x"
		 " JOIN tickets t ON t.id = x.ticket_id WHERE x.id = :id AND (:all OR x.internal = 0)%s",
		 sql_ticket_vis(sc));
	r = read_rows(st, sql, sc, &m, row_attachment_data, a, out, sizeof(*out), 1, &n, e);
	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "attachment not found");
	if (r == RC_OK && out->size < 0)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return r;
}

#define ROUTE_COLS "id, coalesce(client_id, 0), created_at, address, queue"

static void row_route(const PGresult *r, int i, struct arena *a, void *item)
{
	struct mail_route_row *x = item;

	x->id = pg_i64(r, i, 0);
	x->client_id = pg_i64(r, i, 1);
	x->created_at = pg_i64(r, i, 2);
	x->address = pg_str(r, i, 3, a);
	x->queue = pg_str(r, i, 4, a);
}

enum result pgmail_route_find(struct store *st, const char *address, struct arena *a,
			      struct mail_route_row *out, struct err *e)
{
	struct mq m = { .text = address };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " ROUTE_COLS " FROM mail_routes WHERE address = :text",
				  NULL, &m, row_route, a, out, sizeof(*out), 1, &n, e);

	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "no route for this address");
	return r;
}

/* A configuration table whole (CONFIG_MAX rows at most, as in SQLite). */
static enum result read_config(struct store *st, const char *sql, pg_row_fn row, struct arena *a,
			       size_t sz, void **items, size_t *n, struct err *e)
{
	struct mq m = { .limit = CONFIG_MAX };

	*n = 0;
	*items = arena_alloc(a, sz * CONFIG_MAX);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, sql, NULL, &m, row, a, *items, sz, CONFIG_MAX, n, e);
}

enum result pgmail_route_list(struct store *st, struct arena *a, struct mail_route_row **items,
			      size_t *n, struct err *e)
{
	void *p = NULL;
	enum result r = read_config(st, "SELECT " ROUTE_COLS " FROM mail_routes ORDER BY id"
				    " LIMIT :limit", row_route, a, sizeof(**items), &p, n, e);

	*items = p;
	return r;
}

#define TEMPLATE_COLS "key, subject, body, version, updated_at"

static void row_template(const PGresult *r, int i, struct arena *a, void *item)
{
	struct template_row *x = item;

	x->key = pg_str(r, i, 0, a);
	x->subject = pg_str(r, i, 1, a);
	x->body = pg_str(r, i, 2, a);
	x->version = pg_i64(r, i, 3);
	x->updated_at = pg_i64(r, i, 4);
}

enum result pgmail_template_get(struct store *st, const char *key, struct arena *a,
				struct template_row *out, struct err *e)
{
	struct mq m = { .text = key };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " TEMPLATE_COLS " FROM mail_templates WHERE key = :text",
				  NULL, &m, row_template, a, out, sizeof(*out), 1, &n, e);

	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "the template is not overridden");
	return r;
}

enum result pgmail_template_list(struct store *st, struct arena *a, struct template_row **items,
				 size_t *n, struct err *e)
{
	void *p = NULL;
	enum result r = read_config(st, "SELECT " TEMPLATE_COLS " FROM mail_templates"
				    " ORDER BY key COLLATE \"C\" LIMIT :limit", row_template, a,
				    sizeof(**items), &p, n, e);

	*items = p;
	return r;
}

#define WEBHOOK_COLS "id, coalesce(client_id, 0), version, created_at, updated_at, name, url," \
	" events, secret, active"

static void row_webhook(const PGresult *r, int i, struct arena *a, void *item)
{
	struct webhook_row *x = item;

	x->id = pg_i64(r, i, 0);
	x->client_id = pg_i64(r, i, 1);
	x->version = pg_i64(r, i, 2);
	x->created_at = pg_i64(r, i, 3);
	x->updated_at = pg_i64(r, i, 4);
	x->name = pg_str(r, i, 5, a);
	x->url = pg_str(r, i, 6, a);
	x->events = pg_str(r, i, 7, a);
	x->secret = pg_str(r, i, 8, a);
	x->active = pg_i64(r, i, 9) != 0;
}

enum result pgmail_webhook_get(struct store *st, int64_t id, struct arena *a,
			       struct webhook_row *out, struct err *e)
{
	struct mq m = { .id = id };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = :id", NULL,
				  &m, row_webhook, a, out, sizeof(*out), 1, &n, e);

	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "webhook not found");
	return r;
}

enum result pgmail_webhook_list(struct store *st, struct arena *a, struct webhook_row **items,
				size_t *n, struct err *e)
{
	void *p = NULL;
	enum result r = read_config(st, "SELECT " WEBHOOK_COLS " FROM webhooks ORDER BY id"
				    " LIMIT :limit", row_webhook, a, sizeof(**items), &p, n, e);

	*items = p;
	return r;
}

static void row_outbox(const PGresult *r, int i, struct arena *a, void *item)
{
	struct outbox_row *x = item;

	x->id = pg_i64(r, i, 0);
	x->client_id = pg_i64(r, i, 1);
	x->ticket_id = pg_i64(r, i, 2);
	x->created_at = pg_i64(r, i, 3);
	x->event = pg_str(r, i, 4, a);
	x->payload = pg_str(r, i, 5, a);
	x->attempts = pg_int(r, i, 6);
	x->next_attempt_at = pg_i64(r, i, 7);
}

enum result pgmail_outbox_pending(struct store *st, size_t max, struct arena *a,
				  struct outbox_list *out, struct err *e)
{
	struct mq m = { .limit = max < LIST_MAX * 20 ? (int64_t)max : LIST_MAX * 20 };

	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(m.limit ? m.limit : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT id, tenant_id, coalesce(ticket_id, 0), created_at, event, payload,"
			 " attempts, next_attempt_at FROM outbox WHERE state = 'pending'"
			 " ORDER BY next_attempt_at, id LIMIT :limit", NULL, &m,
			 row_outbox, a, out->items, sizeof(*out->items), (size_t)m.limit, &out->n, e);
}

/* The body column is the 19th: the body itself (NULL in lists), then its
 * length. */
#define DELIVERY_COLS "id, tenant_id, outbox_id, coalesce(ticket_id, 0), coalesce(webhook_id, 0)," \
	" event, channel, template, target, message_id, subject, state, last_error, attempts," \
	" coalesce(last_status, 0), next_attempt_at, coalesce(sent_at, 0), created_at"
#define DELIVERY_BODY DELIVERY_COLS ", body, octet_length(body)"
#define DELIVERY_LITE DELIVERY_COLS ", NULL, octet_length(body)"

/* A row whose body did not fit the arena is marked with attempts -1 (the
 * caller's RC_NOMEM). */
static void row_delivery(const PGresult *r, int i, struct arena *a, void *item)
{
	struct delivery_row *x = item;
	bool short_of = false;
	size_t len;

	memset(x, 0, sizeof(*x));
	x->id = pg_i64(r, i, 0);
	x->client_id = pg_i64(r, i, 1);
	x->outbox_id = pg_i64(r, i, 2);
	x->ticket_id = pg_i64(r, i, 3);
	x->webhook_id = pg_i64(r, i, 4);
	x->event = pg_str(r, i, 5, a);
	x->channel = pg_str(r, i, 6, a);
	x->template_key = pg_str(r, i, 7, a);
	x->target = pg_str(r, i, 8, a);
	x->message_id = pg_str(r, i, 9, a);
	x->subject = pg_str(r, i, 10, a);
	x->state = pg_str(r, i, 11, a);
	x->last_error = pg_str(r, i, 12, a);
	x->attempts = pg_int(r, i, 13);
	x->last_status = (long)pg_i64(r, i, 14);
	x->next_attempt_at = pg_i64(r, i, 15);
	x->sent_at = pg_i64(r, i, 16);
	x->created_at = pg_i64(r, i, 17);
	x->body = col_bytes(r, i, 18, a, &len, &short_of);
	x->body_len = (size_t)pg_i64(r, i, 19);
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

enum result pgmail_deliveries_due(struct store *st, int64_t now, const char *channel, size_t max,
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
	/* Ties by id, as SQLite's index (state, next_attempt_at) and its
	 * rowid give them (deliveries_due ends with id here). */
	/* As SQLite's: the first :limit due, those whose bodies before them
	 * stay under :bytes (octet_length reads a TOASTed body's size from
	 * its pointer), then their bodies; libpq holds a whole result, so
	 * this is also what bounds its memory. */
	r = read_rows(st, "SELECT " DELIVERY_BODY " FROM deliveries WHERE id IN (SELECT y.id FROM"
		      " (SELECT x.id, sum(x.len) OVER (ORDER BY x.next_attempt_at, x.id) - x.len AS ahead"
		      " FROM (SELECT id, next_attempt_at, octet_length(body)::int8 AS len FROM deliveries"
		      " WHERE state = 'pending' AND next_attempt_at <= :since"
		      " AND channel = coalesce(:channel, channel) ORDER BY next_attempt_at, id"
		      " LIMIT :limit) x) y WHERE y.ahead < :bytes)"
		      " ORDER BY next_attempt_at, id", NULL,
		      &m, row_delivery, a, out->items, sizeof(*out->items), (size_t)m.limit, &out->n, e);
	return deliveries_check(r, out, e);
}

enum result pgmail_delivery_list(struct store *st, const struct delivery_q *dq, struct arena *a,
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
	r = read_rows(st, sql, NULL, &m, row_delivery, a, out->items, sizeof(*out->items),
		      (size_t)limit + 1, &out->n, e);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

enum result pgmail_delivery_get(struct store *st, int64_t id, struct arena *a,
				struct delivery_row *out, struct err *e)
{
	struct mq m = { .id = id };
	struct delivery_list l = { out, 0, 0 };
	enum result r = read_rows(st, "SELECT " DELIVERY_BODY " FROM deliveries WHERE id = :id", NULL,
				  &m, row_delivery, a, out, sizeof(*out), 1, &l.n, e);

	if (r == RC_OK && !l.n)
		return err_set(e, RC_NOTFOUND, NULL, "delivery not found");
	return deliveries_check(r, &l, e);
}
