/*
 * store_pg_ticket.c: tickets in the PostgreSQL backend (the port of
 * store_sqlite_ticket.c; read the two side by side).
 *
 * The store persists what the ticket domain decided (ticket/ticket.h):
 * a change is the whole new row, written only if the version read is still
 * current, with its timeline events, message, time entry and outbox rows
 * in the same transaction. The store decides nothing about tickets.
 *
 * Visibility (contract 1 of store.h, refined for tickets): provider staff
 * see every ticket; client roles their organisation's; a client_user only
 * the tickets they requested unless the organisation has
 * portal_org_visibility. The SQL text differs by scope (an all-tenant
 * scope needs no predicate, a client scope an indexable tenant_id = :cid),
 * as in SQLite; the text is built from constant fragments only, every
 * value is a bound parameter (struct pgq, store_pg_int.h).
 *
 * Writes run in the writer's SERIALIZABLE transaction, one savepoint per
 * write, and a batch may run again from the start (store_pg.c, design
 * point 2): every apply function below resets the outputs it sets, reads
 * what it computes (ticket numbers, rule positions) inside the
 * transaction, takes new ids from RETURNING, and returns at the first
 * failed statement (the transaction is unusable until the writer rolls
 * back to the savepoint). Where SQLite reacts to a constraint error (a
 * second CSAT rating), the statement says ON CONFLICT instead.
 */
#include "base/common.h"

#include "base/buf.h"
#include "base/clock.h"
#include "store/store.h"
#include "store/store_sql.h"
#include "store/store_pg_int.h"

#define MSG_BASE (INT64_C(1) << 40) /* FTS rowids of messages */
#define LIST_MAX 500
#define SUB_MAX 10000               /* messages, events, time entries of a ticket */
#define RULES_MAX 1000
#define CANDIDATES_MAX 1000

/* ---- helpers ------------------------------------------------------------------------- */

typedef void (*bind_fn)(struct pgq *q, const void *arg);

static int enum_col(const PGresult *r, int row, int col, const char *const *names)
{
	int v = name_index(names, pg_isnull(r, row, col) ? NULL : PQgetvalue(r, row, col));
	return v < 0 ? 0 : v;
}

static void row_ticket(const PGresult *r, int i, struct arena *a, struct ticket *t)
{
	t->id = pg_i64(r, i, 0);
	t->client_id = pg_i64(r, i, 1);
	t->number = pg_i64(r, i, 2);
	t->requester_contact_id = pg_i64(r, i, 3);
	t->requester_user_id = pg_i64(r, i, 4);
	t->assignee_id = pg_i64(r, i, 5);
	t->device_id = pg_i64(r, i, 6);
	t->parent_id = pg_i64(r, i, 7);
	t->status = (enum tstatus)enum_col(r, i, 8, tstatus_names);
	t->type = (enum ttype)enum_col(r, i, 9, ttype_names);
	t->impact = (enum level)enum_col(r, i, 10, level_names);
	t->urgency = (enum level)enum_col(r, i, 11, level_names);
	t->priority = (enum prio)enum_col(r, i, 12, prio_names);
	t->channel = (enum channel)enum_col(r, i, 13, channel_names);
	t->subject = pg_str(r, i, 14, a);
	t->description = pg_str(r, i, 15, a);
	t->category = pg_str(r, i, 16, a);
	t->priority_reason = pg_str(r, i, 17, a);
	t->queue = pg_str(r, i, 18, a);
	t->vendor = pg_str(r, i, 19, a);
	t->vendor_ref = pg_str(r, i, 20, a);
	t->tags = pg_str(r, i, 21, a);
	t->tier = pg_int(r, i, 22);
	t->created_at = pg_i64(r, i, 23);
	t->updated_at = pg_i64(r, i, 24);
	t->last_activity_at = pg_i64(r, i, 25);
	t->first_response_at = pg_i64(r, i, 26);
	t->resolved_at = pg_i64(r, i, 27);
	t->closed_at = pg_i64(r, i, 28);
	t->fcr = pg_int(r, i, 29);
	t->fcr_reason = pg_str(r, i, 30, a);
	t->first_handler_id = pg_i64(r, i, 31);
	t->resolved_by = pg_i64(r, i, 32);
	t->resolved_tier = pg_int(r, i, 33);
	t->escalations = pg_int(r, i, 34);
	t->tier_changes = pg_int(r, i, 35);
	t->reopens = pg_int(r, i, 36);
	t->version = pg_i64(r, i, 37);
	t->early_reopens = pg_int(r, i, 38);
	t->esc_fired_at = 0;
	t->sla.present = pg_i64(r, i, 39) != 0;
	t->sla.policy_id = pg_i64(r, i, 40);
	t->sla.log = pg_str(r, i, 41, a);
	t->sla.response_due = pg_i64(r, i, 42);
	t->sla.resolution_due = pg_i64(r, i, 43);
	t->sla.response_breached = pg_i64(r, i, 44) != 0;
	t->sla.resolution_breached = pg_i64(r, i, 45) != 0;
	t->sla.paused = pg_i64(r, i, 46) != 0;
	t->sla.response_ms = pg_i64(r, i, 47);
	t->sla.resolution_ms = pg_i64(r, i, 48);
	for (int k = 0; k < 3; k++)
		t->sla.tier_ms[k] = pg_i64(r, i, 49 + k);
	t->sla.ola_breached = (unsigned)pg_i64(r, i, 52);
	t->sla.as_of = pg_i64(r, i, 53);
	t->sla.fired = (unsigned)pg_i64(r, i, 54);
	t->sla.next_at = pg_i64(r, i, 55);
}

const char *pgt_ticket_select(void)
{
	return "SELECT " TICKET_COLS TICKET_FROM;
}

void pgt_row_ticket_at(const PGresult *r, int row, struct arena *a, void *item)
{
	row_ticket(r, row, a, item);
}

static void bind_vis(struct pgq *q, const struct scope *sc)
{
	pgq_i64(q, ":cid", sc->client_id);
	pgq_i64(q, ":uid", sc->user_id);
}

/* Runs sql on a reader, binding the scope (when sc) and then bind(arg),
 * mapping up to max rows of sz bytes into items. */
static enum result read_rows(struct store *st, const char *sql, const struct scope *sc,
			     bind_fn bind, const void *arg, pg_row_fn row, struct arena *a,
			     void *items, size_t sz, size_t max, size_t *n, struct err *e)
{
	struct pgq q;
	enum result r;

	pgq_init(&q, sql);
	if (sc)
		bind_vis(&q, sc);
	bind(&q, arg);
	r = pgr_rows(st, &q, a, items, sz, max, n, row, e);
	pgq_release(&q);
	return r;
}

/* pgw_run / pgw_do of q on the writer, q released. */
static PGresult *wrun(struct pgw *x, struct pgq *q, const char *field, const char *what,
		      struct err *e)
{
	PGresult *r = pgw_run(x, q, field, what, e);

	pgq_release(q);
	return r;
}

static enum result wdo(struct pgw *x, struct pgq *q, const char *field, const char *what,
		       struct err *e)
{
	enum result r = pgw_do(x, q, field, what, e);

	pgq_release(q);
	return r;
}

/* The first column of a one-row result (an id from RETURNING), the
 * result cleared; *got says whether there was a row. */
static int64_t first_i64(PGresult *r, bool *got)
{
	int64_t v = 0;

	*got = PQntuples(r) > 0;
	if (*got)
		v = pg_i64(r, 0, 0);
	PQclear(r);
	return v;
}

/* ---- reads ------------------------------------------------------------------------------- */

enum result pgt_ticket_get(struct store *st, const struct scope *sc, int64_t id,
			   struct arena *a, struct ticket *out, struct err *e)
{
	char sql[4096];
	struct pgq q;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " TICKET_COLS TICKET_FROM " WHERE t.id = :id%s",
		 sql_ticket_vis(sc));
	pgq_init(&q, sql);
	bind_vis(&q, sc);
	pgq_i64(&q, ":id", id);
	r = pgr_one(st, &q, a, out, pgt_row_ticket_at, "ticket", e);
	pgq_release(&q);
	return r;
}

static int ticket_limit(const struct ticket_q *tq)
{
	return tq->limit <= 0 ? 50 : tq->limit > LIST_MAX ? LIST_MAX : tq->limit;
}

static void bind_ticket_q(struct pgq *q, const void *arg)
{
	const struct ticket_q *tq = arg;

	pgq_i64(q, ":before", tq->before);
	pgq_i64(q, ":client", tq->client_id);
	pgq_i64(q, ":assignee", tq->assignee_id);
	pgq_txt(q, ":status", tq->status >= 0 ? tstatus_names[tq->status] : NULL);
	pgq_txt(q, ":prio", tq->priority >= 0 ? prio_names[tq->priority] : NULL);
	pgq_i64(q, ":tier", tq->tier);
	pgq_txt(q, ":queue", tq->queue);
	pgq_txt(q, ":fts", tq->fts);
	pgq_i64(q, ":limit", ticket_limit(tq) + 1);
}

enum result pgt_ticket_list(struct store *st, const struct scope *sc, const struct ticket_q *tq,
			    struct arena *a, struct ticket_list *out, struct err *e)
{
	struct buf b = BUF_INIT(8192);
	int limit = ticket_limit(tq);
	struct ticket *items = arena_alloc(a, sizeof(*items) * (size_t)(limit + 1));
	size_t n = 0;
	enum result r;

	out->items = NULL;
	out->n = 0;
	out->next_before = 0;
	if (!items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* The shared text (store_sql.c) with the search migrations-pg/0002
	 * describes: ticket_fts_query() reads the FTS5 query string the API
	 * built. */
	sql_ticket_list(&b, sc, tq,
			"t.id IN (SELECT ticket_id FROM ticket_fts WHERE words @@ ticket_fts_query(:fts))",
			"t.id IN (SELECT ticket_id FROM ticket_fts WHERE words @@ ticket_fts_query(:fts)"
			" AND internal = 0)");
	r = read_rows(st, buf_str(&b), sc, bind_ticket_q, tq, pgt_row_ticket_at, a, items,
		      sizeof(*items), (size_t)limit + 1, &n, e);
	buf_release(&b);
	if (r != RC_OK)
		return r;
	if (n > (size_t)limit) {
		n = (size_t)limit;
		out->next_before = items[n - 1].id;
	}
	out->items = items;
	out->n = n;
	return RC_OK;
}

/* ---- queue counts ----------------------------------------------------------------------- */

/* The console's counts: one grouped pass over the open tickets the scope
 * sees. The status predicate is spelled exactly as the partial indexes'
 * WHERE, so for provider staff the planner can walk tickets_open_counts
 * (queue, priority, assignee_id INCLUDE id; migrations-pg/0005), and the
 * breach is a correlated EXISTS the planner can answer from
 * ticket_sla_breached, the partial index of the clocks that ever breached
 * (PostgreSQL has no INDEXED BY: migrations-pg/0005 says why the index
 * serves the probe anyway). The contract's order is SQLite's (bytes):
 * ORDER BY ... COLLATE "C", whatever the database's collation; the groups
 * (one per queue) are sorted, not the tickets. A client scope or client_id
 * takes tickets_open_tenant and reads that client's rows. */
struct queue_q {
	int64_t client_id;
	int limit;
};

static void bind_queue_q(struct pgq *q, const void *arg)
{
	const struct queue_q *qq = arg;

	pgq_i64(q, ":client", qq->client_id);
	pgq_txt(q, ":p1", prio_names[PR_P1]);
	pgq_i64(q, ":limit", qq->limit);
}

static void row_queue_count(const PGresult *r, int i, struct arena *a, void *item)
{
	struct queue_count *c = item;
	const char *name = pg_str(r, i, 0, a);

	c->queue = name ? name : "";
	c->open = pg_i64(r, i, 1);
	c->unassigned = pg_i64(r, i, 2);
	c->p1 = pg_i64(r, i, 3);
	c->breached = pg_i64(r, i, 4);
}

enum result pgt_queue_counts(struct store *st, const struct scope *sc, int64_t client_id,
			     struct arena *a, struct queue_counts *out, struct err *e)
{
	struct queue_q qq = { client_id, QUEUE_COUNTS_MAX + 1 };
	struct queue_count *items = arena_alloc(a, sizeof(*items) * (QUEUE_COUNTS_MAX + 1));
	char sql[2048];
	size_t n = 0;
	enum result r;

	out->items = NULL;
	out->n = 0;
	out->truncated = false;
	if (!items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* Constant fragments only; every value is a bound parameter. */
	snprintf(sql, sizeof(sql),
		 "SELECT t.queue, count(*), count(*) FILTER (WHERE t.assignee_id IS NULL),"
		 " count(*) FILTER (WHERE t.priority = :p1),"
		 " count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ticket_sla s"
		 " WHERE s.ticket_id = t.id AND (s.response_breached = 1 OR s.resolution_breached = 1)))"
		 " FROM tickets t WHERE t.status NOT IN ('resolved', 'closed')%s%s"
		 " GROUP BY t.queue ORDER BY t.queue COLLATE \"C\" LIMIT :limit",
		 sql_ticket_vis(sc), client_id ? " AND t.tenant_id = :client" : "");
	r = read_rows(st, sql, sc, bind_queue_q, &qq, row_queue_count, a, items, sizeof(*items),
		      QUEUE_COUNTS_MAX + 1, &n, e);
	if (r != RC_OK)
		return r;
	if (n > QUEUE_COUNTS_MAX) {
		n = QUEUE_COUNTS_MAX;
		out->truncated = true;
	}
	out->items = items;
	out->n = n;
	return RC_OK;
}

/* ---- reports ------------------------------------------------------------------------------- */

struct report_q {
	int64_t client, lo, hi, after, limit;
};

static void bind_report_q(struct pgq *q, const void *arg)
{
	const struct report_q *rq = arg;

	pgq_i64(q, ":client", rq->client);
	pgq_i64(q, ":lo", rq->lo);
	pgq_i64(q, ":hi", rq->hi);
	pgq_i64(q, ":after", rq->after);
	pgq_i64(q, ":limit", rq->limit);
}

static void row_report(const PGresult *r, int i, struct arena *a, void *item)
{
	struct report_ticket *t = item;

	t->id = pg_i64(r, i, 0);
	t->client_id = pg_i64(r, i, 1);
	t->number = pg_i64(r, i, 2);
	t->created_at = pg_i64(r, i, 3);
	t->first_response_at = pg_i64(r, i, 4);
	t->resolved_at = pg_i64(r, i, 5);
	t->closed_at = pg_i64(r, i, 6);
	t->priority = (enum prio)enum_col(r, i, 7, prio_names);
	t->type = (enum ttype)enum_col(r, i, 8, ttype_names);
	t->channel = (enum channel)enum_col(r, i, 9, channel_names);
	t->category = pg_str(r, i, 10, a);
	t->has_policy = pg_i64(r, i, 11) != 0;
	t->response_breached = pg_i64(r, i, 12) != 0;
	t->resolution_breached = pg_i64(r, i, 13) != 0;
	t->vendor = pg_i64(r, i, 14) != 0;
	t->response_ms = pg_i64(r, i, 15);
	t->resolution_ms = pg_i64(r, i, 16);
	for (int k = 0; k < 3; k++)
		t->tier_ms[k] = pg_i64(r, i, 17 + k);
	t->fcr = (int)pg_i64(r, i, 20);
	t->reopens = (int)pg_i64(r, i, 21);
	t->tier_changes = (int)pg_i64(r, i, 22);
	t->reassignments = (int)pg_i64(r, i, 23);
}

enum result pgt_report_tickets(struct store *st, const struct scope *sc, int64_t client_id,
			       int64_t lo, int64_t hi, int64_t after, size_t max, struct arena *a,
			       struct report_ticket *items, size_t *n, struct err *e)
{
	struct report_q rq = { client_id, lo, hi, after, (int64_t)max };
	struct buf b;
	enum result r;

	*n = 0;
	buf_init(&b, 4096);
	sql_report_tickets(&b, sc, client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_q, &rq, row_report, a, items, sizeof(*items),
		      max, n, e);
	buf_release(&b);
	return r;
}

static void row_report_csat(const PGresult *r, int i, struct arena *a, void *item)
{
	struct report_csat *c = item;

	c->ticket_id = pg_i64(r, i, 0);
	c->number = pg_i64(r, i, 1);
	c->rating = (int)pg_i64(r, i, 2);
	c->comment = pg_str(r, i, 3, a);
	c->created_at = pg_i64(r, i, 4);
}

enum result pgt_report_csat(struct store *st, const struct scope *sc, int64_t client_id,
			    int64_t lo, int64_t hi, int64_t after, size_t max, struct arena *a,
			    struct report_csat *items, size_t *n, struct err *e)
{
	struct report_q rq = { client_id, lo, hi, after, (int64_t)max };
	struct buf b;
	enum result r;

	*n = 0;
	buf_init(&b, 1024);
	sql_report_csat(&b, sc, client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_q, &rq, row_report_csat, a, items,
		      sizeof(*items), max, n, e);
	buf_release(&b);
	return r;
}

static void row_report_hours(const PGresult *r, int i, struct arena *a, void *item)
{
	struct report_hours_row *h = item;

	(void)a;
	h->tier = (int)pg_i64(r, i, 0);
	h->billable = pg_i64(r, i, 1) != 0;
	h->minutes = pg_i64(r, i, 2);
}

enum result pgt_report_hours(struct store *st, const struct scope *sc, int64_t client_id,
			     int64_t lo, int64_t hi, struct arena *a,
			     struct report_hours_row *items, size_t max, size_t *n, struct err *e)
{
	struct report_q rq = { client_id, lo, hi, 0, (int64_t)max };
	struct buf b;
	enum result r;

	*n = 0;
	buf_init(&b, 1024);
	sql_report_hours(&b, sc, client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_q, &rq, row_report_hours, a, items,
		      sizeof(*items), max, n, e);
	buf_release(&b);
	return r;
}

/* ---- a ticket's messages, events, time entries ------------------------------------------ */

struct sub_q {
	int64_t ticket_id;
	bool all;
};

static void bind_sub(struct pgq *q, const void *arg)
{
	const struct sub_q *sq = arg;

	pgq_i64(q, ":tid", sq->ticket_id);
	pgq_bool(q, ":all", sq->all);
	pgq_i64(q, ":limit", SUB_MAX);
}

static void row_message(const PGresult *r, int i, struct arena *a, void *item)
{
	struct ticket_message *m = item;

	m->id = pg_i64(r, i, 0);
	m->ticket_id = pg_i64(r, i, 1);
	m->client_id = pg_i64(r, i, 2);
	m->author_user_id = pg_i64(r, i, 3);
	m->author_contact_id = pg_i64(r, i, 4);
	m->kind = pg_str(r, i, 5, a);
	m->body = pg_str(r, i, 6, a);
	m->created_at = pg_i64(r, i, 7);
	m->quote_at = pg_i64(r, i, 8);
	m->source = pg_str(r, i, 9, a);
}

/* Sub-lists of a ticket: the ticket must be visible, checked in SQL. */
static enum result sub_list(struct store *st, const struct scope *sc, const char *select,
			    const char *filter, struct sub_q *sq, pg_row_fn row, struct arena *a,
			    size_t size, void **items, size_t *n, struct err *e)
{
	char sql[4096];
	struct ticket t;
	enum result r = pgt_ticket_get(st, sc, sq->ticket_id, a, &t, e);

	*items = NULL;
	*n = 0;
	if (r != RC_OK)
		return r;
	*items = arena_alloc(a, size * SUB_MAX);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "%s WHERE x.ticket_id = :tid%s ORDER BY x.id LIMIT :limit",
		 select, filter);
	return read_rows(st, sql, NULL, bind_sub, sq, row, a, *items, size, SUB_MAX, n, e);
}

enum result pgt_ticket_messages(struct store *st, const struct scope *sc, int64_t ticket_id,
				bool with_notes, struct arena *a, struct message_list *out,
				struct err *e)
{
	struct sub_q sq = { ticket_id, with_notes && sc->all_tenants };
	void *items;
	enum result r = sub_list(st, sc,
				 "SELECT x.id, x.ticket_id, x.tenant_id, coalesce(x.author_user_id, 0),"
				 " coalesce(x.author_contact_id, 0), x.kind, x.body, x.created_at,"
				 " coalesce(x.quote_at, 0), x.source FROM ticket_messages x",
				 " AND (:all OR x.kind = 'reply')", &sq, row_message, a,
				 sizeof(struct ticket_message), &items, &out->n, e);

	out->items = items;
	return r;
}

static void row_event(const PGresult *r, int i, struct arena *a, void *item)
{
	struct ticket_event *ev = item;

	ev->id = pg_i64(r, i, 0);
	ev->ticket_id = pg_i64(r, i, 1);
	ev->at = pg_i64(r, i, 2);
	ev->actor_id = pg_i64(r, i, 3);
	ev->kind = pg_str(r, i, 4, a);
	ev->internal = pg_i64(r, i, 5) != 0;
	ev->data = pg_str(r, i, 6, a);
}

enum result pgt_ticket_events(struct store *st, const struct scope *sc, int64_t ticket_id,
			      bool with_internal, struct arena *a, struct event_list *out,
			      struct err *e)
{
	struct sub_q sq = { ticket_id, with_internal && sc->all_tenants };
	void *items;
	enum result r = sub_list(st, sc,
				 "SELECT x.id, x.ticket_id, x.at, x.actor_id, x.kind, x.internal, x.data"
				 " FROM ticket_events x",
				 " AND (:all OR x.internal = 0)", &sq, row_event, a,
				 sizeof(struct ticket_event), &items, &out->n, e);

	out->items = items;
	return r;
}

static void row_time(const PGresult *r, int i, struct arena *a, void *item)
{
	struct time_entry *te = item;

	te->id = pg_i64(r, i, 0);
	te->ticket_id = pg_i64(r, i, 1);
	te->client_id = pg_i64(r, i, 2);
	te->user_id = pg_i64(r, i, 3);
	te->minutes = pg_int(r, i, 4);
	te->billable = pg_i64(r, i, 5) != 0;
	te->started_at = pg_i64(r, i, 6);
	te->note = pg_str(r, i, 7, a);
	te->created_at = pg_i64(r, i, 8);
}

enum result pgt_ticket_time(struct store *st, const struct scope *sc, int64_t ticket_id,
			    struct arena *a, struct time_list *out, struct err *e)
{
	struct sub_q sq = { ticket_id, true };
	void *items;
	enum result r = sub_list(st, sc,
				 "SELECT x.id, x.ticket_id, x.tenant_id, x.user_id, x.minutes, x.billable,"
				 " x.started_at, x.note, x.created_at FROM time_entries x",
				 "", &sq, row_time, a, sizeof(struct time_entry), &items,
				 &out->n, e);

	out->items = items;
	return r;
}

/* ---- rules ------------------------------------------------------------------------------ */

static void row_rule(const PGresult *r, int i, struct arena *a, void *item)
{
	struct rule_row *rr = item;

	rr->id = pg_i64(r, i, 0);
	rr->name = pg_str(r, i, 1, a);
	rr->position = pg_int(r, i, 2);
	rr->enabled = pg_i64(r, i, 3) != 0;
	rr->on_create = pg_i64(r, i, 4) != 0;
	rr->on_update = pg_i64(r, i, 5) != 0;
	rr->stop = pg_i64(r, i, 6) != 0;
	rr->conditions = pg_str(r, i, 7, a);
	rr->actions = pg_str(r, i, 8, a);
	rr->version = pg_i64(r, i, 9);
	rr->created_at = pg_i64(r, i, 10);
	rr->updated_at = pg_i64(r, i, 11);
}

static void bind_rules_max(struct pgq *q, const void *arg)
{
	UNUSED(arg);
	pgq_i64(q, ":limit", RULES_MAX);
}

enum result pgt_rules_list(struct store *st, struct arena *a, struct rule_rows *out,
			   struct err *e)
{
	out->n = 0;
	out->items = arena_alloc(a, sizeof(struct rule_row) * RULES_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT id, name, position, enabled, on_create, on_update, stop,"
			 " conditions, actions, version, created_at, updated_at FROM triage_rules"
			 " ORDER BY position, id LIMIT :limit", NULL, bind_rules_max, NULL, row_rule,
			 a, out->items, sizeof(struct rule_row), RULES_MAX, &out->n, e);
}

static void row_esc(const PGresult *r, int i, struct arena *a, void *item)
{
	struct esc_rule_row *er = item;

	er->id = pg_i64(r, i, 0);
	er->name = pg_str(r, i, 1, a);
	er->kind = pg_str(r, i, 2, a);
	er->minutes = pg_i64(r, i, 3);
	er->priority = pg_str(r, i, 4, a);
	er->raise_to_tier = pg_int(r, i, 5);
	er->notify = pg_i64(r, i, 6) != 0;
	er->enabled = pg_i64(r, i, 7) != 0;
	er->version = pg_i64(r, i, 8);
	er->created_at = pg_i64(r, i, 9);
	er->updated_at = pg_i64(r, i, 10);
}

enum result pgt_esc_rules_list(struct store *st, struct arena *a, struct esc_rule_rows *out,
			       struct err *e)
{
	out->n = 0;
	out->items = arena_alloc(a, sizeof(struct esc_rule_row) * RULES_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT id, name, kind, minutes, priority, coalesce(raise_to_tier, 0),"
			 " notify, enabled, version, created_at, updated_at FROM escalation_rules"
			 " ORDER BY id LIMIT :limit", NULL, bind_rules_max, NULL, row_esc, a,
			 out->items, sizeof(struct esc_rule_row), RULES_MAX, &out->n, e);
}

/* ---- the scheduler's candidates --------------------------------------------------------- */

struct esc_q {
	const struct esc_rule_row *rule;
	int64_t cutoff;
};

static void bind_esc(struct pgq *q, const void *arg)
{
	const struct esc_q *eq = arg;

	pgq_i64(q, ":rule", eq->rule->id);
	pgq_i64(q, ":cutoff", eq->cutoff);
	pgq_txt(q, ":prio", eq->rule->priority);
	pgq_i64(q, ":limit", CANDIDATES_MAX);
}

static void row_ticket_fired(const PGresult *r, int i, struct arena *a, void *item)
{
	struct ticket *t = item;

	row_ticket(r, i, a, t);
	t->esc_fired_at = pg_i64(r, i, TICKET_NCOLS);
}

enum result pgt_esc_candidates(struct store *st, const struct esc_rule_row *rule, int64_t now,
			       struct arena *a, struct ticket_list *out, struct err *e)
{
	char sql[4096];
	struct esc_q eq = { rule, now - rule->minutes * 60 * 1000 };

	out->n = 0;
	out->next_before = 0;
	out->items = arena_alloc(a, sizeof(struct ticket) * CANDIDATES_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql),
		 "SELECT " TICKET_COLS ", coalesce(f.fired_at, 0)" TICKET_FROM
		 " LEFT JOIN escalation_fired f ON f.ticket_id = t.id AND f.rule_id = :rule"
		 " WHERE t.status IN ('new', 'open') AND t.last_activity_at <= :cutoff%s%s"
		 " AND (f.fired_at IS NULL OR f.fired_at < t.last_activity_at)"
		 " ORDER BY t.last_activity_at LIMIT :limit",
		 !strcmp(rule->kind, "unassigned") ? " AND t.assignee_id IS NULL" : "",
		 rule->priority ? " AND t.priority = :prio" : "");
	return read_rows(st, sql, NULL, bind_esc, &eq, row_ticket_fired, a, out->items,
			 sizeof(struct ticket), CANDIDATES_MAX, &out->n, e);
}

static void bind_now(struct pgq *q, const void *arg)
{
	pgq_i64(q, ":now", *(const int64_t *)arg);
	pgq_i64(q, ":limit", CANDIDATES_MAX);
}

enum result pgt_autoclose_candidates(struct store *st, int64_t now, struct arena *a,
				     struct ticket_list *out, struct err *e)
{
	out->n = 0;
	out->next_before = 0;
	out->items = arena_alloc(a, sizeof(struct ticket) * CANDIDATES_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* auto_close_days is an INTEGER: the product is taken in bigint (in
	 * int4 it overflows from 25 days on). */
	return read_rows(st, "SELECT " TICKET_COLS TICKET_FROM " JOIN clients c ON c.id = t.tenant_id"
			 " WHERE t.status = 'resolved' AND t.resolved_at <= :now - 86400000"
			 " AND t.resolved_at <= :now - c.auto_close_days * 86400000::bigint"
			 " ORDER BY t.resolved_at LIMIT :limit", NULL, bind_now, &now,
			 pgt_row_ticket_at, a, out->items, sizeof(struct ticket), CANDIDATES_MAX,
			 &out->n, e);
}

/* ---- lookups ---------------------------------------------------------------------------- */

struct lookup_q {
	int64_t client_id;
	const char *email;
};

static void bind_lookup(struct pgq *q, const void *arg)
{
	const struct lookup_q *lq = arg;

	pgq_i64(q, ":client", lq->client_id);
	pgq_txt(q, ":email", lq->email);
}

static void row_id(const PGresult *r, int i, struct arena *a, void *item)
{
	UNUSED(a);
	*(int64_t *)item = pg_i64(r, i, 0);
}

static enum result lookup_id(struct store *st, const char *sql, int64_t client_id,
			     const char *email, int64_t *id, struct err *e)
{
	struct lookup_q lq = { client_id, email };
	size_t n = 0;
	enum result r = read_rows(st, sql, NULL, bind_lookup, &lq, row_id, NULL, id,
				  sizeof(*id), 1, &n, e);

	if (r == RC_OK && n == 0) {
		*id = 0;
		return err_set(e, RC_NOTFOUND, NULL, "not found");
	}
	return r;
}

/* SQLite: email = :email COLLATE NOCASE. Here lower() on both sides, as
 * the unique index contacts_email (tenant_id, lower(email)) has it
 * (migrations-pg/0001: lower() folds more letters than NOCASE). */
enum result pgt_contact_by_email(struct store *st, int64_t client_id, const char *email,
				 int64_t *id, struct err *e)
{
	return lookup_id(st, "SELECT id FROM contacts WHERE tenant_id = :client"
			 " AND lower(email) = lower(:email)", client_id, email, id, e);
}

/* Users' addresses are stored lower-cased in ASCII (the API's tolower());
 * SQLite's lower() is ASCII-only too. PostgreSQL's lower() also folds
 * other letters, which would miss an address stored with 'É': translate()
 * folds exactly A-Z, and the comparison still uses users_email. */
enum result pgt_user_by_email(struct store *st, int64_t client_id, const char *email,
			      int64_t *id, struct err *e)
{
	return lookup_id(st, "SELECT id FROM users WHERE client_id = :client AND email ="
			 " translate(:email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')",
			 client_id, email, id, e);
}

static void bind_tid(struct pgq *q, const void *arg)
{
	pgq_i64(q, ":tid", *(const int64_t *)arg);
}

static void row_int(const PGresult *r, int i, struct arena *a, void *item)
{
	UNUSED(a);
	*(int *)item = pg_int(r, i, 0);
}

enum result pgt_csat_get(struct store *st, int64_t ticket_id, int *rating, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, "SELECT rating FROM csat WHERE ticket_id = :tid", NULL,
				  bind_tid, &ticket_id, row_int, NULL, rating, sizeof(*rating), 1,
				  &n, e);

	if (r == RC_OK && n == 0) {
		*rating = 0;
		return err_set(e, RC_NOTFOUND, NULL, "no rating");
	}
	return r;
}

/* ---- writes ----------------------------------------------------------------------------- */

static void bind_ticket_row(struct pgq *q, const struct ticket *t, int64_t now)
{
	pgq_i64(q, ":tenant", t->client_id);
	pgq_i64(q, ":number", t->number);
	pgq_ref(q, ":rcontact", t->requester_contact_id);
	pgq_ref(q, ":ruser", t->requester_user_id);
	pgq_ref(q, ":assignee", t->assignee_id);
	pgq_ref(q, ":device", t->device_id);
	pgq_ref(q, ":parent", t->parent_id);
	pgq_txt(q, ":status", tstatus_names[t->status]);
	pgq_txt(q, ":type", ttype_names[t->type]);
	pgq_txt(q, ":impact", level_names[t->impact]);
	pgq_txt(q, ":urgency", level_names[t->urgency]);
	pgq_txt(q, ":priority", prio_names[t->priority]);
	pgq_txt(q, ":channel", channel_names[t->channel]);
	pgq_txt(q, ":subject", t->subject);
	pgq_txt(q, ":description", t->description);
	pgq_txt(q, ":category", t->category);
	pgq_txt(q, ":preason", t->priority_reason);
	pgq_txt(q, ":queue", t->queue ? t->queue : "general");
	pgq_txt(q, ":vendor", t->vendor);
	pgq_txt(q, ":vendor_ref", t->vendor_ref);
	pgq_txt(q, ":tags", t->tags ? t->tags : "[]");
	pgq_i64(q, ":tier", t->tier ? t->tier : 1);
	pgq_i64(q, ":created", t->created_at ? t->created_at : now);
	pgq_i64(q, ":now", now);
	pgq_i64(q, ":activity", t->last_activity_at ? t->last_activity_at : now);
	pgq_ref(q, ":first_response", t->first_response_at);
	pgq_ref(q, ":resolved", t->resolved_at);
	pgq_ref(q, ":closed", t->closed_at);
	if (t->fcr >= 0)
		pgq_i64(q, ":fcr", t->fcr);
	else
		pgq_ref(q, ":fcr", 0);     /* not yet decided: NULL */
	pgq_txt(q, ":fcr_reason", t->fcr_reason);
	pgq_ref(q, ":first_handler", t->first_handler_id);
	pgq_ref(q, ":resolved_by", t->resolved_by);
	pgq_ref(q, ":resolved_tier", t->resolved_tier);
	pgq_i64(q, ":escalations", t->escalations);
	pgq_i64(q, ":tier_changes", t->tier_changes);
	pgq_i64(q, ":reopens", t->reopens);
	pgq_i64(q, ":early_reopens", t->early_reopens);
}

/* A search document (SQLite: INSERT OR REPLACE into the FTS5 table; the
 * words column is generated from text, migrations-pg/0002). */
static enum result put_fts(struct pgw *x, int64_t rowid, int64_t ticket_id, bool internal,
			   const char *text, const char *text2, struct err *e)
{
	struct pgq q;

	pgq_init(&q, "INSERT INTO ticket_fts (rowid, ticket_id, internal, text)"
		 " VALUES (:rowid, :tid, :internal, :text || chr(10) || coalesce(:text2, ''))"
		 " ON CONFLICT (rowid) DO UPDATE SET ticket_id = excluded.ticket_id,"
		 " internal = excluded.internal, text = excluded.text");
	pgq_i64(&q, ":rowid", rowid);
	pgq_i64(&q, ":tid", ticket_id);
	pgq_i64(&q, ":internal", internal ? 1 : 0);
	pgq_txt(&q, ":text", text);
	pgq_txt(&q, ":text2", text2);
	return wdo(x, &q, NULL, "search index", e);
}

static enum result put_event(struct pgw *x, const struct ticket *t, const struct scope *sc,
			     const char *kind, bool internal, const char *data, int64_t now,
			     struct err *e)
{
	struct pgq q;

	pgq_init(&q, "INSERT INTO ticket_events (tenant_id, ticket_id, at, actor_id, kind,"
		 " internal, data) VALUES (:tenant, :tid, :at, :actor, :kind, :internal, :data)");
	pgq_i64(&q, ":tenant", t->client_id);
	pgq_i64(&q, ":tid", t->id);
	pgq_i64(&q, ":at", now);
	pgq_i64(&q, ":actor", sc->user_id);
	pgq_txt(&q, ":kind", kind);
	pgq_i64(&q, ":internal", internal ? 1 : 0);
	pgq_txt(&q, ":data", data ? data : "{}");
	return wdo(x, &q, NULL, "timeline", e);
}

/* The message, its search document and its timeline event. */
static enum result put_message(struct pgw *x, struct store_write *w, struct ticket_write *tw,
			       int64_t now)
{
	const struct ticket *t = &tw->t;
	bool note = !strcmp(tw->msg.kind, "note");
	char data[160];
	struct pgq q;
	PGresult *r;
	bool got;
	enum result rc;

	pgq_init(&q, "INSERT INTO ticket_messages (tenant_id, ticket_id, kind, author_user_id,"
		 " author_contact_id, body, created_at, quote_at, source)"
		 " VALUES (:tenant, :tid, :kind, :author, :contact, :body, :now, :quote_at, :source)"
		 " RETURNING id");
	pgq_i64(&q, ":tenant", t->client_id);
	pgq_i64(&q, ":tid", t->id);
	pgq_txt(&q, ":kind", tw->msg.kind);
	pgq_ref(&q, ":author", tw->msg.author_user_id);
	pgq_ref(&q, ":contact", tw->msg.author_contact_id);
	pgq_txt(&q, ":body", tw->msg.body);
	pgq_i64(&q, ":now", now);
	pgq_ref(&q, ":quote_at", tw->msg.quote_at);
	pgq_txt(&q, ":source", tw->msg.source);
	r = wrun(x, &q, NULL, "message", &w->err);
	if (!r)
		return w->err.code;
	tw->message_id = first_i64(r, &got);
	rc = put_fts(x, MSG_BASE + tw->message_id, t->id, note, tw->msg.body, NULL, &w->err);
	if (rc != RC_OK)
		return rc;
	snprintf(data, sizeof(data), "{\"message_id\":%" PRId64 ",\"kind\":\"%s\"}",
		 tw->message_id, note ? "note" : "reply");
	return put_event(x, t, &w->scope, "message", note, data, now, &w->err);
}

/* The time entry and its timeline event. */
static enum result put_time(struct pgw *x, struct store_write *w, struct ticket_write *tw,
			    int64_t now)
{
	char data[160];
	struct pgq q;
	PGresult *r;
	bool got;

	pgq_init(&q, "INSERT INTO time_entries (tenant_id, ticket_id, user_id, minutes, billable,"
		 " started_at, note, created_at) VALUES (:tenant, :tid, :user, :minutes, :billable,"
		 " :started, :note, :now) RETURNING id");
	pgq_i64(&q, ":tenant", tw->t.client_id);
	pgq_i64(&q, ":tid", tw->t.id);
	pgq_i64(&q, ":user", tw->te.user_id);
	pgq_i64(&q, ":minutes", tw->te.minutes);
	pgq_i64(&q, ":billable", tw->te.billable ? 1 : 0);
	pgq_i64(&q, ":started", tw->te.started_at ? tw->te.started_at : now);
	pgq_txt(&q, ":note", tw->te.note);
	pgq_i64(&q, ":now", now);
	r = wrun(x, &q, NULL, "time entry", &w->err);
	if (!r)
		return w->err.code;
	tw->time_entry_id = first_i64(r, &got);
	snprintf(data, sizeof(data),
		 "{\"time_entry_id\":%" PRId64 ",\"minutes\":%d,\"billable\":%s}",
		 tw->time_entry_id, tw->te.minutes, tw->te.billable ? "true" : "false");
	return put_event(x, &tw->t, &w->scope, "time_entry", true, data, now, &w->err);
}

static enum result put_outbox(struct pgw *x, const struct ticket *t, const struct outbox_msg *ob,
			      int64_t now, struct err *e)
{
	struct pgq q;

	pgq_init(&q, "INSERT INTO outbox (tenant_id, event, ticket_id, payload, next_attempt_at,"
		 " created_at) VALUES (:tenant, :event, :tid, :payload, :now, :now)");
	pgq_i64(&q, ":tenant", t->client_id);
	pgq_txt(&q, ":event", ob->event);
	pgq_i64(&q, ":tid", t->id);
	pgq_txt(&q, ":payload", ob->payload);
	pgq_i64(&q, ":now", now);
	return wdo(x, &q, NULL, "outbox", e);
}

static enum result put_fired(struct pgw *x, int64_t ticket_id, int64_t rule_id, int64_t now,
			     struct err *e)
{
	struct pgq q;

	pgq_init(&q, "INSERT INTO escalation_fired (ticket_id, rule_id, fired_at)"
		 " VALUES (:tid, :rule, :now) ON CONFLICT (ticket_id, rule_id)"
		 " DO UPDATE SET fired_at = excluded.fired_at");
	pgq_i64(&q, ":tid", ticket_id);
	pgq_i64(&q, ":rule", rule_id);
	pgq_i64(&q, ":now", now);
	return wdo(x, &q, NULL, "escalation", e);
}

/* Everything that follows the row: SLA, events, message, time entry,
 * outbox, the escalation that fired, the alert it works for, and what an
 * incoming e-mail brings (tw->mail: store_pg_mail.c). */
static enum result put_extras(struct pgw *x, struct store_write *w, struct ticket_write *tw,
			      int64_t now)
{
	const struct ticket *t = &tw->t;
	struct err *e = &w->err;
	enum result r = RC_OK;

	if (tw->sla_set) {
		r = pgt_sla_gen_check(x, tw->sla_gen, e);
		if (r == RC_OK)
			r = pgt_sla_put(x, t, now, e);
	}
	for (int i = 0; r == RC_OK && i < tw->nev; i++)
		r = put_event(x, t, &w->scope, tw->ev[i].kind, tw->ev[i].internal, tw->ev[i].data,
			      now, e);
	if (r == RC_OK && tw->has_msg)
		r = put_message(x, w, tw, now);
	if (r == RC_OK && tw->has_te)
		r = put_time(x, w, tw, now);
	for (int i = 0; r == RC_OK && i < tw->nob; i++)
		r = put_outbox(x, t, &tw->ob[i], now, e);
	if (r == RC_OK && tw->esc_rule_id)
		r = put_fired(x, t->id, tw->esc_rule_id, now, e);
	/* The monitor's ticket work: the alert's events done, its ticket set. */
	if (r == RC_OK && tw->alert_id)
		r = pgm_alert_ticket(x, tw, e);
	if (r == RC_OK && tw->mail)
		r = pgmail_file(x, tw, now, e);
	return r;
}

#define TICKET_VALUES                                                                        \
	":tenant, :number, :rcontact, :ruser, :assignee, :device, :parent, :status, :type,"  \
	" :impact, :urgency, :priority, :channel, :subject, :description, :category, :preason," \
	" :queue, :vendor, :vendor_ref, :tags, :tier, :created, :now, :activity,"            \
	" :first_response, :resolved, :closed, :fcr, :fcr_reason, :first_handler, :resolved_by," \
	" :resolved_tier, :escalations, :tier_changes, :reopens, :early_reopens"

/* The next ticket number, max()+1 in the transaction: two servers taking
 * the same one collide on tickets_number, which pgw_run() makes a
 * doomed (re-run) transaction. */
static enum result next_number(struct pgw *x, int64_t *number, struct err *e)
{
	struct pgq q;
	PGresult *r;
	bool got;

	pgq_init(&q, "SELECT coalesce(max(number), 0) + 1 FROM tickets");
	r = wrun(x, &q, NULL, "ticket number", e);
	if (!r)
		return e->code;
	*number = first_i64(r, &got);
	return RC_OK;
}

/* The results a ticket write sets, reset: a batch may run again. */
static void tw_reset(struct ticket_write *tw)
{
	tw->message_id = 0;
	tw->time_entry_id = 0;
	pgmail_reset(tw);
}

enum result pgt_ticket_create(struct pgw *x, struct store_write *w)
{
	struct ticket_write *tw = w->in.tw;
	struct ticket *t = &tw->t;
	int64_t now = clock_now_ms();
	struct pgq q;
	PGresult *res;
	bool got;
	enum result r;
	char data[96];

	w->id = 0;
	w->version = 0;
	tw_reset(tw);
	r = pgw_tenant_visible(x, &w->scope, t->client_id, &w->err);
	if (r == RC_OK)
		r = next_number(x, &t->number, &w->err);
	/* An e-mail's new contact is the requester: made before the row. */
	if (r == RC_OK && tw->mail)
		r = pgmail_contact(x, tw, true, &w->err);
	if (r != RC_OK)
		return r;
	pgq_init(&q, "INSERT INTO tickets (tenant_id, number, requester_contact_id, requester_user_id,"
		 " assignee_id, device_id, parent_id, status, type, impact, urgency, priority, channel,"
		 " subject, description, category, priority_reason, queue, vendor, vendor_ref, tags,"
		 " tier, created_at, updated_at, last_activity_at, first_response_at, resolved_at,"
		 " closed_at, fcr, fcr_reason, first_handler_id, resolved_by, resolved_tier,"
		 " escalations, tier_changes, reopens, early_reopens) VALUES (" TICKET_VALUES ")"
		 " RETURNING id");
	bind_ticket_row(&q, t, now);
	res = wrun(x, &q, NULL, "ticket", &w->err);
	if (!res)
		return w->err.code;
	t->id = w->id = first_i64(res, &got);
	t->version = w->version = 1;
	t->created_at = t->created_at ? t->created_at : now;
	w->audit.tenant_id = t->client_id;
	r = put_fts(x, t->id, t->id, false, t->subject, t->description, &w->err);
	if (r == RC_OK) {
		snprintf(data, sizeof(data), "{\"number\":%" PRId64 ",\"channel\":\"%s\"}", t->number,
			 channel_names[t->channel]);
		r = put_event(x, t, &w->scope, "created", false, data, now, &w->err);
	}
	if (r == RC_OK)
		r = put_extras(x, w, tw, now);
	return r;
}

/* After an update that matched no row: not visible, or someone changed it
 * first. */
static enum result change_miss(struct pgw *x, struct store_write *w, int64_t id)
{
	char sql[1024];
	struct pgq q;
	PGresult *r;
	bool got;

	snprintf(sql, sizeof(sql), "SELECT t.version FROM tickets t WHERE t.id = :id%s",
		 sql_ticket_vis(&w->scope));
	pgq_init(&q, sql);
	pgq_i64(&q, ":id", id);
	bind_vis(&q, &w->scope);
	r = wrun(x, &q, NULL, "ticket", &w->err);
	if (!r)
		return w->err.code;
	first_i64(r, &got);
	if (got)
		return err_set(&w->err, RC_STALE, NULL,
			       "the ticket was changed by someone else; reload it and try again");
	return err_set(&w->err, RC_NOTFOUND, NULL, "ticket not found");
}

static enum result change_one(struct pgw *x, struct store_write *w, struct ticket_write *tw)
{
	struct ticket *t = &tw->t;
	int64_t now = clock_now_ms();
	char sql[4096];
	struct pgq q;
	PGresult *res;
	enum result r;
	int n;

	tw_reset(tw);
	snprintf(sql, sizeof(sql),
		 "UPDATE tickets AS t SET requester_contact_id = :rcontact, requester_user_id = :ruser,"
		 " assignee_id = :assignee, device_id = :device, parent_id = :parent, status = :status,"
		 " type = :type, impact = :impact, urgency = :urgency, priority = :priority,"
		 " channel = :channel, subject = :subject, description = :description,"
		 " category = :category, priority_reason = :preason, queue = :queue, vendor = :vendor,"
		 " vendor_ref = :vendor_ref, tags = :tags, tier = :tier, updated_at = :now,"
		 " last_activity_at = :activity, first_response_at = :first_response,"
		 " resolved_at = :resolved, closed_at = :closed, fcr = :fcr, fcr_reason = :fcr_reason,"
		 " first_handler_id = :first_handler, resolved_by = :resolved_by,"
		 " resolved_tier = :resolved_tier, escalations = :escalations,"
		 " tier_changes = :tier_changes, reopens = :reopens, early_reopens = :early_reopens,"
		 " version = t.version + 1"
		 " WHERE t.id = :id AND t.version = :version%s RETURNING t.version, t.tenant_id",
		 sql_ticket_vis(&w->scope));
	pgq_init(&q, sql);
	bind_ticket_row(&q, t, now);
	pgq_i64(&q, ":id", t->id);
	pgq_i64(&q, ":version", tw->if_version);
	bind_vis(&q, &w->scope);
	res = wrun(x, &q, NULL, "ticket", &w->err);
	if (!res)
		return w->err.code;
	n = PQntuples(res);
	if (n) {
		t->version = w->version = pg_i64(res, 0, 0);
		t->client_id = pg_i64(res, 0, 1);
	}
	PQclear(res);
	if (!n)
		return change_miss(x, w, t->id);
	w->id = t->id;
	w->audit.tenant_id = t->client_id;
	r = RC_OK;
	if (tw->mail)
		r = pgmail_contact(x, tw, false, &w->err);
	if (r == RC_OK && tw->fts)
		r = put_fts(x, t->id, t->id, false, t->subject, t->description, &w->err);
	if (r == RC_OK)
		r = put_extras(x, w, tw, now);
	return r;
}

enum result pgt_ticket_change(struct pgw *x, struct store_write *w)
{
	w->id = 0;
	w->version = 0;
	return change_one(x, w, w->in.tw);
}

enum result pgt_ticket_bulk(struct pgw *x, struct store_write *w)
{
	w->id = 0;
	w->version = 0;
	w->in.bulk.failed = 0;
	/* All or nothing: the first failure fails the write, and its savepoint
	 * takes every change before it back. */
	for (size_t i = 0; i < w->in.bulk.n; i++) {
		enum result r = change_one(x, w, &w->in.bulk.items[i]);
		if (r != RC_OK) {
			w->in.bulk.failed = i;
			return r;
		}
	}
	return RC_OK;
}

/* SQLite inserts and maps the unique violation on ticket_id; here the
 * second rating is no insert (ON CONFLICT DO NOTHING: no failed
 * statement), with the same answer. */
enum result pgt_csat_put(struct pgw *x, struct store_write *w)
{
	struct ticket_write *tw = w->in.tw;
	int64_t now = clock_now_ms();
	char data[64];
	struct pgq q;
	PGresult *r;
	bool got;

	w->id = 0;
	pgq_init(&q, "INSERT INTO csat (ticket_id, tenant_id, rating, comment, created_at)"
		 " VALUES (:tid, :tenant, :rating, :comment, :now) ON CONFLICT DO NOTHING"
		 " RETURNING ticket_id");
	pgq_i64(&q, ":tid", tw->t.id);
	pgq_i64(&q, ":tenant", tw->t.client_id);
	pgq_i64(&q, ":rating", tw->csat_rating);
	pgq_txt(&q, ":comment", tw->csat_comment);
	pgq_i64(&q, ":now", now);
	r = wrun(x, &q, "rating", "rating", &w->err);
	if (!r)
		return w->err.code;
	first_i64(r, &got);
	if (!got)
		return err_set(&w->err, RC_CONFLICT, "rating", "this ticket has already been rated");
	snprintf(data, sizeof(data), "{\"rating\":%d}", tw->csat_rating);
	w->id = tw->t.id;
	return put_event(x, &tw->t, &w->scope, "csat", false, data, now, &w->err);
}

/* ---- rule writes ------------------------------------------------------------------------ */

static void bind_rule(struct pgq *q, const struct store_write *w)
{
	const struct rule_row *rr = &w->in.rule;

	pgq_i64(q, ":id", rr->id);
	pgq_i64(q, ":version", w->if_version);
	pgq_txt(q, ":name", rr->name);
	pgq_i64(q, ":position", rr->position);
	pgq_i64(q, ":enabled", rr->enabled ? 1 : 0);
	pgq_i64(q, ":on_create", rr->on_create ? 1 : 0);
	pgq_i64(q, ":on_update", rr->on_update ? 1 : 0);
	pgq_i64(q, ":stop", rr->stop ? 1 : 0);
	pgq_txt(q, ":conditions", rr->conditions);
	pgq_txt(q, ":actions", rr->actions);
	pgq_i64(q, ":now", clock_now_ms());
}

enum result pgt_rule_put(struct pgw *x, struct store_write *w)
{
	const struct rule_row *rr = &w->in.rule;
	struct pgq q;
	PGresult *r;
	int64_t v;
	bool got;

	w->id = 0;
	w->version = 0;
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage rules");
	if (!rr->id)
		pgq_init(&q, "INSERT INTO triage_rules (name, position, enabled, on_create, on_update,"
			 " stop, conditions, actions, version, created_at, updated_at) VALUES (:name,"
			 " CASE WHEN :position > 0 THEN :position"
			 " ELSE (SELECT coalesce(max(position), 0) + 10 FROM triage_rules) END,"
			 " :enabled, :on_create, :on_update, :stop, :conditions, :actions, 1, :now, :now)"
			 " RETURNING id");
	else
		pgq_init(&q, "UPDATE triage_rules SET name = :name,"
			 " position = CASE WHEN :position > 0 THEN :position ELSE position END,"
			 " enabled = :enabled, on_create = :on_create, on_update = :on_update,"
			 " stop = :stop, conditions = :conditions, actions = :actions,"
			 " version = version + 1, updated_at = :now WHERE id = :id"
			 " AND (:version = 0 OR version = :version) RETURNING version");
	bind_rule(&q, w);
	r = wrun(x, &q, NULL, "rule", &w->err);
	if (!r)
		return w->err.code;
	v = first_i64(r, &got);
	if (!rr->id) {
		w->id = v;
		w->version = 1;
		return RC_OK;
	}
	if (!got)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       w->if_version ? "the rule was changed by someone else (or does not exist)"
					     : "rule not found");
	w->version = v;
	w->id = rr->id;
	return RC_OK;
}

static void bind_id(struct pgq *q, const void *arg)
{
	pgq_i64(q, ":id", *(const int64_t *)arg);
}

/* fields != 0: an escalation rule, else a triage rule (as in SQLite). */
enum result pgt_rule_delete(struct pgw *x, struct store_write *w)
{
	struct pgq q;
	PGresult *r;
	bool got;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage rules");
	pgq_init(&q, w->fields ? "DELETE FROM escalation_rules WHERE id = :id RETURNING id"
			       : "DELETE FROM triage_rules WHERE id = :id RETURNING id");
	bind_id(&q, &w->id);
	r = wrun(x, &q, NULL, "rule", &w->err);
	if (!r)
		return w->err.code;
	first_i64(r, &got);
	if (!got)
		return err_set(&w->err, RC_NOTFOUND, NULL, "rule not found");
	return RC_OK;
}

static void bind_esc_rule(struct pgq *q, const struct store_write *w)
{
	const struct esc_rule_row *er = &w->in.esc;

	pgq_i64(q, ":id", er->id);
	pgq_i64(q, ":version", w->if_version);
	pgq_txt(q, ":name", er->name);
	pgq_txt(q, ":kind", er->kind);
	pgq_i64(q, ":minutes", er->minutes);
	pgq_txt(q, ":prio", er->priority);
	pgq_i64(q, ":tier", er->raise_to_tier);
	pgq_i64(q, ":notify", er->notify ? 1 : 0);
	pgq_i64(q, ":enabled", er->enabled ? 1 : 0);
	pgq_i64(q, ":now", clock_now_ms());
}

enum result pgt_esc_rule_put(struct pgw *x, struct store_write *w)
{
	const struct esc_rule_row *er = &w->in.esc;
	struct pgq q;
	PGresult *r;
	int64_t v;
	bool got;

	w->id = 0;
	w->version = 0;
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage rules");
	if (!er->id)
		pgq_init(&q, "INSERT INTO escalation_rules (name, kind, minutes, priority, raise_to_tier,"
			 " notify, enabled, version, created_at, updated_at) VALUES (:name, :kind,"
			 " :minutes, :prio, nullif(:tier, 0), :notify, :enabled, 1, :now, :now)"
			 " RETURNING id");
	else
		pgq_init(&q, "UPDATE escalation_rules SET name = :name, kind = :kind, minutes = :minutes,"
			 " priority = :prio, raise_to_tier = nullif(:tier, 0), notify = :notify,"
			 " enabled = :enabled, version = version + 1, updated_at = :now WHERE id = :id"
			 " AND (:version = 0 OR version = :version) RETURNING version");
	bind_esc_rule(&q, w);
	r = wrun(x, &q, NULL, "escalation rule", &w->err);
	if (!r)
		return w->err.code;
	v = first_i64(r, &got);
	if (!er->id) {
		w->id = v;
		w->version = 1;
		return RC_OK;
	}
	if (!got)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "rule not found or changed");
	w->version = v;
	w->id = er->id;
	return RC_OK;
}
