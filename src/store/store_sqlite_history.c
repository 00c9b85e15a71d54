/*
 * store_sqlite_history.c: the history import in the SQLite backend
 * (W_TICKET_IMPORT and import_lookup; store.h struct import_write,
 * docs/IMPORT.md).
 *
 * One write, one savepoint inside the writer's transaction, however many
 * tickets: the source is pulled a batch at a time and each ticket is
 * written with a handful of cached statements (row, search document,
 * timeline, SLA row, CSAT). The statements bind by position, not by name:
 * a million tickets make tens of millions of binds. Ticket numbers go on
 * from max + 1 as creates' do; each client's count and numbers are
 * tallied for its audit record (import_tally). Nothing here decides
 * anything: the rows are what src/import built.
 */
#include "base/common.h"

#include "base/clock.h"
#include "store/store.h"
#include "store/store_int.h"

#define IMPORT_BATCH 500

static const char *const insert_ticket =
	"INSERT INTO tickets (tenant_id, number, requester_contact_id, requester_user_id, status, type,"
	" impact, urgency, priority, channel, subject, description, category, priority_reason, queue,"
	" vendor, tags, tier, created_at, updated_at, last_activity_at, first_response_at,"
	" resolved_at, closed_at, fcr, fcr_reason, resolved_tier, escalations, tier_changes,"
	" reopens, early_reopens, external_id) VALUES (?1, ?2,"
	" (SELECT id FROM contacts WHERE tenant_id = ?1 AND email = ?3 COLLATE NOCASE),"
	" (SELECT id FROM users WHERE client_id = ?1 AND email = ?3),"
	" ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,"
	" ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)";

static const char *const insert_sla =
	"INSERT INTO ticket_sla (ticket_id, tenant_id, policy_id, log, response_due, resolution_due,"
	" response_breached, resolution_breached, paused, response_ms, resolution_ms, t1_ms, t2_ms,"
	" t3_ms, ola_breached, as_of, fired, next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	" ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

static const char *const insert_event =
	"INSERT INTO ticket_events (tenant_id, ticket_id, at, actor_id, kind, internal, data)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

static const char *const insert_fts =
	"INSERT INTO ticket_fts (rowid, ticket_id, internal, text) VALUES (?1, ?1, 0, ?2 || char(10) || ?3)";

static const char *const insert_csat =
	"INSERT INTO csat (ticket_id, tenant_id, rating, comment, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";

static void pbind_txt(sqlite3_stmt *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

/* 0 is NULL. */
static void pbind_ref(sqlite3_stmt *q, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(q, i, v);
	else
		sqlite3_bind_null(q, i);
}

static enum result put_event(struct sq *s, const struct ticket *t, int64_t actor, const char *kind,
			     bool internal, const char *data, int64_t at, struct err *e)
{
	sqlite3_stmt *q = wq(s, insert_event, e);

	if (!q)
		return RC_IO;
	sqlite3_bind_int64(q, 1, t->client_id);
	sqlite3_bind_int64(q, 2, t->id);
	sqlite3_bind_int64(q, 3, at);
	sqlite3_bind_int64(q, 4, actor);
	pbind_txt(q, 5, kind);
	sqlite3_bind_int(q, 6, internal ? 1 : 0);
	pbind_txt(q, 7, data ? data : "{}");
	return wstep(s, q, NULL, "timeline", e);
}

static enum result put_sla(struct sq *s, const struct ticket *t, struct err *e)
{
	const struct ticket_sla *x = &t->sla;
	sqlite3_stmt *q = wq(s, insert_sla, e);

	if (!q)
		return RC_IO;
	sqlite3_bind_int64(q, 1, t->id);
	sqlite3_bind_int64(q, 2, t->client_id);
	pbind_ref(q, 3, x->policy_id);
	pbind_txt(q, 4, x->log ? x->log : "");
	pbind_ref(q, 5, x->response_due);
	pbind_ref(q, 6, x->resolution_due);
	sqlite3_bind_int(q, 7, x->response_breached ? 1 : 0);
	sqlite3_bind_int(q, 8, x->resolution_breached ? 1 : 0);
	sqlite3_bind_int(q, 9, x->paused ? 1 : 0);
	sqlite3_bind_int64(q, 10, x->response_ms);
	sqlite3_bind_int64(q, 11, x->resolution_ms);
	for (int k = 0; k < 3; k++)
		sqlite3_bind_int64(q, 12 + k, x->tier_ms[k]);
	sqlite3_bind_int64(q, 15, (int64_t)x->ola_breached);
	sqlite3_bind_int64(q, 16, x->as_of);
	sqlite3_bind_int64(q, 17, (int64_t)x->fired);
	pbind_ref(q, 18, x->next_at);
	return wstep(s, q, NULL, "ticket SLA", e);
}

/* One ticket: the row, its search document, timeline, SLA row, CSAT. */
static enum result put_one(struct sq *s, struct store_write *w, struct import_ticket *it,
			   int64_t number, int64_t now)
{
	struct ticket *t = &it->t;
	struct err *e = &w->err;
	sqlite3_stmt *q = wq(s, insert_ticket, e);
	enum result r;
	char data[1024];
	int n;

	if (!q)
		return RC_IO;
	sqlite3_bind_int64(q, 1, t->client_id);
	sqlite3_bind_int64(q, 2, number);
	pbind_txt(q, 3, it->requester_email);
	pbind_txt(q, 4, tstatus_names[t->status]);
	pbind_txt(q, 5, ttype_names[t->type]);
	pbind_txt(q, 6, level_names[t->impact]);
	pbind_txt(q, 7, level_names[t->urgency]);
	pbind_txt(q, 8, prio_names[t->priority]);
	pbind_txt(q, 9, channel_names[t->channel]);
	pbind_txt(q, 10, t->subject);
	pbind_txt(q, 11, t->description ? t->description : "");
	pbind_txt(q, 12, t->category);
	pbind_txt(q, 13, t->priority_reason);
	pbind_txt(q, 14, t->queue ? t->queue : "general");
	pbind_txt(q, 15, t->vendor);
	pbind_txt(q, 16, t->tags ? t->tags : "[]");
	sqlite3_bind_int(q, 17, t->tier ? t->tier : 1);
	sqlite3_bind_int64(q, 18, t->created_at);
	sqlite3_bind_int64(q, 19, now);
	sqlite3_bind_int64(q, 20, t->last_activity_at ? t->last_activity_at : t->created_at);
	pbind_ref(q, 21, t->first_response_at);
	pbind_ref(q, 22, t->resolved_at);
	pbind_ref(q, 23, t->closed_at);
	if (t->fcr >= 0)
		sqlite3_bind_int(q, 24, t->fcr);
	else
		sqlite3_bind_null(q, 24);
	pbind_txt(q, 25, t->fcr_reason);
	pbind_ref(q, 26, t->resolved_tier);
	sqlite3_bind_int(q, 27, t->escalations);
	sqlite3_bind_int(q, 28, t->tier_changes);
	sqlite3_bind_int(q, 29, t->reopens);
	sqlite3_bind_int(q, 30, t->early_reopens);
	pbind_txt(q, 31, it->external_id);
	r = wstep(s, q, "external_id", "ticket", e);
	if (r == RC_CONFLICT)
		return err_set(e, RC_CONFLICT, "external_id", "%.100s is already imported: a ticket of"
			       " client %" PRId64 " has it", it->external_id, t->client_id);
	if (r != RC_OK)
		return r;
	t->id = sqlite3_last_insert_rowid(s->wdb);
	t->number = number;
	t->version = 1;
	q = wq(s, insert_fts, e);
	if (!q)
		return RC_IO;
	sqlite3_bind_int64(q, 1, t->id);
	pbind_txt(q, 2, t->subject);
	pbind_txt(q, 3, t->description ? t->description : "");
	r = wstep(s, q, NULL, "search index", e);
	if (r == RC_OK) {
		n = snprintf(data, sizeof(data), "{\"number\":%" PRId64 ",\"channel\":\"%s\"%s%s}", number,
			     channel_names[t->channel], it->created_extra ? "," : "",
			     it->created_extra ? it->created_extra : "");
		r = n >= 0 && (size_t)n < sizeof(data)
			? put_event(s, t, w->scope.user_id, "created", false, data, t->created_at, e)
			: err_set(e, RC_INVALID, NULL, "the created event does not fit");
	}
	for (int i = 0; r == RC_OK && i < it->nev; i++)
		r = put_event(s, t, w->scope.user_id, it->ev[i].kind, it->ev[i].internal,
			      it->ev[i].data, it->ev[i].at, e);
	if (r == RC_OK && t->sla.present)
		r = put_sla(s, t, e);
	if (r == RC_OK && it->csat_rating) {
		q = wq(s, insert_csat, e);
		if (!q)
			return RC_IO;
		sqlite3_bind_int64(q, 1, t->id);
		sqlite3_bind_int64(q, 2, t->client_id);
		sqlite3_bind_int(q, 3, it->csat_rating);
		pbind_txt(q, 4, it->csat_comment);
		sqlite3_bind_int64(q, 5, it->csat_at);
		r = wstep(s, q, NULL, "CSAT", e);
	}
	return r;
}

/* The clients the scope was found to see (a file names few). */
struct seen_clients {
	int64_t id[64];
	size_t n;
};

static enum result visible(struct sq *s, const struct scope *sc, struct seen_clients *v,
			   int64_t client, struct err *e)
{
	enum result r;

	for (size_t i = 0; i < v->n; i++)
		if (v->id[i] == client)
			return RC_OK;
	r = tenant_visible(s, sc, client, e);
	if (r == RC_OK && v->n < ARRAY_SIZE(v->id))
		v->id[v->n++] = client;
	return r;
}

enum result sqh_ticket_import(struct sq *s, struct store_write *w)
{
	struct import_write *iw = w->in.imp;
	struct seen_clients seen = { { 0 }, 0 };
	int64_t now = clock_now_ms(), number;
	sqlite3_stmt *q;
	enum result r;

	iw->n = iw->nclients = 0;
	iw->first_id = iw->first_number = iw->last_number = iw->fail_line = 0;
	r = sqt_sla_gen_check(s, iw->sla_gen, &w->err);
	if (r == RC_OK)
		r = iw->rewind(iw->arg, &w->err);
	if (r != RC_OK)
		return r;
	q = wq(s, "SELECT coalesce(max(number), 0) + 1 FROM tickets", &w->err);
	if (!q)
		return RC_IO;
	if (sqlite3_step(q) != SQLITE_ROW) {
		stmt_done(q);
		return sq_error(s->wdb, sqlite3_errcode(s->wdb), &w->err, "ticket number");
	}
	number = sqlite3_column_int64(q, 0);
	stmt_done(q);
	for (;;) {
		struct import_ticket *items;
		size_t n;
		r = iw->next(iw->arg, IMPORT_BATCH, &items, &n, &w->err);
		if (r != RC_OK || !n)
			break;
		for (size_t i = 0; r == RC_OK && i < n; i++) {
			r = visible(s, &w->scope, &seen, items[i].t.client_id, &w->err);
			if (r == RC_OK)
				r = put_one(s, w, &items[i], number, now);
			if (r == RC_OK && import_tally(iw, &items[i], number) != RC_OK)
				r = err_set(&w->err, RC_NOMEM, NULL, "out of memory");
			if (r != RC_OK) {
				iw->fail_line = items[i].line;
				break;
			}
			if (!iw->n++) {
				iw->first_id = items[i].t.id;
				iw->first_number = number;
			}
			iw->last_number = number++;
		}
		if (r != RC_OK)
			break;
		if (iw->stored)
			iw->stored(iw->arg, iw->n);
	}
	if (r == RC_OK && !iw->n)
		r = err_set(&w->err, RC_INVALID, NULL, "the input holds no ticket");
	w->id = iw->first_id;
	return r;
}

/* ---- the checks before an import --------------------------------------------------------------- */

enum result sqh_import_lookup(struct store *st, const struct scope *sc, enum import_key kind,
			      const int64_t *clients, const char *const *keys, size_t n, bool *found,
			      struct err *e)
{
	static const char *const sql[] = {
		[IMPORT_EXTERNAL_ID] = "SELECT 1 FROM tickets WHERE tenant_id = ?1 AND external_id = ?2"
				       " AND (?3 OR tenant_id = ?4)",
		[IMPORT_CONTACT_EMAIL] = "SELECT 1 FROM contacts WHERE tenant_id = ?1"
					 " AND email = ?2 COLLATE NOCASE AND (?3 OR tenant_id = ?4)",
	};
	struct sq *s = (struct sq *)st;
	struct rconn *c;
	sqlite3_stmt *q;
	enum result r;
	bool own;

	if ((unsigned)kind >= ARRAY_SIZE(sql))
		return err_set(e, RC_INVALID, NULL, "unknown lookup");
	r = reader_get(s, &c, e);
	if (r != RC_OK)
		return r;
	/* One read transaction for all the keys (one lock, not one a key),
	 * unless the thread's pinned snapshot is one already. */
	own = sqlite3_get_autocommit(c->db) && sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	q = scache_get(&c->cache, c->db, sql[kind], e);
	for (size_t i = 0; q && r == RC_OK && i < n; i++) {
		int rc;
		sqlite3_bind_int64(q, 1, clients[i]);
		sqlite3_bind_text(q, 2, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 3, sc->all_tenants ? 1 : 0);
		sqlite3_bind_int64(q, 4, sc->client_id);
		rc = sqlite3_step(q);
		found[i] = rc == SQLITE_ROW;
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			r = sq_error(c->db, rc, e, "import lookup");
		stmt_done(q);
	}
	if (!q)
		r = RC_IO;
	if (own)
		sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	reader_put(s, c);
	return r;
}
