/*
 * store_sqlite_ticket.c: tickets in the SQLite backend.
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
 * scope needs no predicate, a client scope an indexable tenant_id = ?),
 * so each shape gets its own cached statement.
 */
#include "base/common.h"

#include "base/buf.h"
#include "base/clock.h"
#include "store/store.h"
#include "store/store_sql.h"
#include "store/store_int.h"

#define MSG_BASE (INT64_C(1) << 40) /* FTS rowids of messages */
#define LIST_MAX 500

/* ---- helpers ------------------------------------------------------------------------- */

void bind_i64(sqlite3_stmt *q, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(q, name);
	if (i)
		sqlite3_bind_int64(q, i, v);
}

void bind_txt(sqlite3_stmt *q, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(q, name);
	if (!i)
		return;
	if (v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

/* NULL for 0: optional references are NULL in the table. */
void bind_ref(sqlite3_stmt *q, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(q, name);
	if (!i)
		return;
	if (v)
		sqlite3_bind_int64(q, i, v);
	else
		sqlite3_bind_null(q, i);
}

static int enum_col(sqlite3_stmt *q, int i, const char *const *names)
{
	int v = name_index(names, (const char *)sqlite3_column_text(q, i));
	return v < 0 ? 0 : v;
}

static void row_ticket(sqlite3_stmt *q, struct arena *a, struct ticket *t)
{
	t->id = sqlite3_column_int64(q, 0);
	t->client_id = sqlite3_column_int64(q, 1);
	t->number = sqlite3_column_int64(q, 2);
	t->requester_contact_id = sqlite3_column_int64(q, 3);
	t->requester_user_id = sqlite3_column_int64(q, 4);
	t->assignee_id = sqlite3_column_int64(q, 5);
	t->device_id = sqlite3_column_int64(q, 6);
	t->parent_id = sqlite3_column_int64(q, 7);
	t->status = (enum tstatus)enum_col(q, 8, tstatus_names);
	t->type = (enum ttype)enum_col(q, 9, ttype_names);
	t->impact = (enum level)enum_col(q, 10, level_names);
	t->urgency = (enum level)enum_col(q, 11, level_names);
	t->priority = (enum prio)enum_col(q, 12, prio_names);
	t->channel = (enum channel)enum_col(q, 13, channel_names);
	t->subject = col_str(q, 14, a);
	t->description = col_str(q, 15, a);
	t->category = col_str(q, 16, a);
	t->priority_reason = col_str(q, 17, a);
	t->queue = col_str(q, 18, a);
	t->vendor = col_str(q, 19, a);
	t->vendor_ref = col_str(q, 20, a);
	t->tags = col_str(q, 21, a);
	t->tier = sqlite3_column_int(q, 22);
	t->created_at = sqlite3_column_int64(q, 23);
	t->updated_at = sqlite3_column_int64(q, 24);
	t->last_activity_at = sqlite3_column_int64(q, 25);
	t->first_response_at = sqlite3_column_int64(q, 26);
	t->resolved_at = sqlite3_column_int64(q, 27);
	t->closed_at = sqlite3_column_int64(q, 28);
	t->fcr = sqlite3_column_int(q, 29);
	t->fcr_reason = col_str(q, 30, a);
	t->first_handler_id = sqlite3_column_int64(q, 31);
	t->resolved_by = sqlite3_column_int64(q, 32);
	t->resolved_tier = sqlite3_column_int(q, 33);
	t->escalations = sqlite3_column_int(q, 34);
	t->tier_changes = sqlite3_column_int(q, 35);
	t->reopens = sqlite3_column_int(q, 36);
	t->version = sqlite3_column_int64(q, 37);
	t->early_reopens = sqlite3_column_int(q, 38);
	t->esc_fired_at = 0;
	t->sla.present = sqlite3_column_int(q, 39) != 0;
	t->sla.policy_id = sqlite3_column_int64(q, 40);
	t->sla.log = col_str(q, 41, a);
	t->sla.response_due = sqlite3_column_int64(q, 42);
	t->sla.resolution_due = sqlite3_column_int64(q, 43);
	t->sla.response_breached = sqlite3_column_int(q, 44) != 0;
	t->sla.resolution_breached = sqlite3_column_int(q, 45) != 0;
	t->sla.paused = sqlite3_column_int(q, 46) != 0;
	t->sla.response_ms = sqlite3_column_int64(q, 47);
	t->sla.resolution_ms = sqlite3_column_int64(q, 48);
	for (int k = 0; k < 3; k++)
		t->sla.tier_ms[k] = sqlite3_column_int64(q, 49 + k);
	t->sla.ola_breached = (unsigned)sqlite3_column_int(q, 52);
	t->sla.as_of = sqlite3_column_int64(q, 53);
	t->sla.fired = (unsigned)sqlite3_column_int64(q, 54);
	t->sla.next_at = sqlite3_column_int64(q, 55);
}

const char *sqt_ticket_select(void)
{
	return "SELECT " TICKET_COLS TICKET_FROM;
}

void bind_vis(sqlite3_stmt *q, const struct scope *sc)
{
	bind_i64(q, ":cid", sc->client_id);
	bind_i64(q, ":uid", sc->user_id);
}

/* Runs a query built in b on a reader connection, calling row() for each
 * row. */
enum result read_rows(struct store *st, const char *sql, const struct scope *sc,
			     void (*bind)(sqlite3_stmt *, const void *), const void *arg,
			     void (*row)(sqlite3_stmt *, struct arena *, void *, size_t),
			     struct arena *a, void *items, size_t max, size_t *n,
			     struct err *e)
{
	struct sq *s = (struct sq *)st;
	struct rconn *c;
	sqlite3_stmt *q;
	enum result r = reader_get(s, &c, e);
	int rc;

	*n = 0;
	if (r != RC_OK)
		return r;
	q = scache_get(&c->cache, c->db, sql, e);
	if (!q) {
		reader_put(s, c);
		return RC_IO;
	}
	if (sc)
		bind_vis(q, sc);
	bind(q, arg);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < max)
		row(q, a, items, (*n)++);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sq_error(c->db, rc, e, "tickets");
	stmt_done(q);
	reader_put(s, c);
	return r;
}

/* ---- reads ------------------------------------------------------------------------------- */

static void row_ticket_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	row_ticket(q, a, (struct ticket *)items + i);
}

void sqt_row_ticket_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	row_ticket(q, a, (struct ticket *)items + i);
}

void bind_id(sqlite3_stmt *q, const void *arg)
{
	bind_i64(q, ":id", *(const int64_t *)arg);
}

enum result sqt_ticket_get(struct store *st, const struct scope *sc, int64_t id,
			   struct arena *a, struct ticket *out, struct err *e)
{
	char sql[4096];
	size_t n;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " TICKET_COLS TICKET_FROM " WHERE t.id = :id%s",
		 sql_ticket_vis(sc));
	r = read_rows(st, sql, sc, bind_id, &id, row_ticket_at, a, out, 1, &n, e);
	if (r == RC_OK && n == 0)
		r = err_set(e, RC_NOTFOUND, NULL, "ticket not found");
	return r;
}

static void bind_ticket_q(sqlite3_stmt *q, const void *arg)
{
	const struct ticket_q *tq = arg;

	bind_i64(q, ":before", tq->before);
	bind_i64(q, ":client", tq->client_id);
	bind_i64(q, ":assignee", tq->assignee_id);
	if (tq->status >= 0)
		bind_txt(q, ":status", tstatus_names[tq->status]);
	if (tq->priority >= 0)
		bind_txt(q, ":prio", prio_names[tq->priority]);
	bind_i64(q, ":tier", tq->tier);
	bind_txt(q, ":queue", tq->queue);
	bind_txt(q, ":fts", tq->fts);
	bind_i64(q, ":limit", (tq->limit <= 0 ? 50 : tq->limit > LIST_MAX ? LIST_MAX : tq->limit) + 1);
}

enum result sqt_ticket_list(struct store *st, const struct scope *sc, const struct ticket_q *tq,
			    struct arena *a, struct ticket_list *out, struct err *e)
{
	struct buf b = BUF_INIT(4096);
	int limit = tq->limit <= 0 ? 50 : tq->limit > LIST_MAX ? LIST_MAX : tq->limit;
	struct ticket *items = arena_alloc(a, sizeof(*items) * (size_t)(limit + 1));
	size_t n = 0;
	enum result r;

	out->items = NULL;
	out->n = 0;
	out->next_before = 0;
	if (!items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* The shared text (store_sql.c) with FTS5's search. */
	sql_ticket_list(&b, sc, tq,
			"t.id IN (SELECT ticket_id FROM ticket_fts WHERE ticket_fts MATCH :fts)",
			"t.id IN (SELECT ticket_id FROM ticket_fts WHERE ticket_fts MATCH :fts"
			" AND internal = 0)");
	r = read_rows(st, buf_str(&b), sc, bind_ticket_q, tq, row_ticket_at, a, items,
		      (size_t)limit + 1, &n, e);
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
 * WHERE, so for provider staff the planner walks tickets_open_counts
 * (queue, priority, assignee_id; migrations/0005) in queue order: no sort
 * for the GROUP BY, no ticket row read. The breach is a correlated EXISTS
 * probing ticket_sla_breached, the partial index of the clocks that ever
 * breached (EXPLAIN QUERY PLAN; bench/ticket_bench.c):
 *  - not a LEFT JOIN on ticket_sla: with it the planner scans tickets_queue
 *    over the whole history and reads each open ticket's row (33 ms
 *    against 9 ms with 20,000 open tickets of 100,000; 700 ms against
 *    90 ms with 195,000 of 1,000,000);
 *  - INDEXED BY, because the planner prefers ticket_sla's primary key,
 *    whose probe reads the row with its clock log (330 ms against 90 ms
 *    with 195,000 open tickets).
 * A client scope or client_id takes tickets_open_tenant and reads that
 * client's rows. */
struct queue_q {
	int64_t client_id;
	int limit;
};

static void bind_queue_q(sqlite3_stmt *q, const void *arg)
{
	const struct queue_q *qq = arg;

	bind_i64(q, ":client", qq->client_id);
	bind_txt(q, ":p1", prio_names[PR_P1]);
	bind_i64(q, ":limit", qq->limit);
}

static void row_queue_count_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct queue_count *c = (struct queue_count *)items + i;
	const char *name = col_str(q, 0, a);

	c->queue = name ? name : "";
	c->open = sqlite3_column_int64(q, 1);
	c->unassigned = sqlite3_column_int64(q, 2);
	c->p1 = sqlite3_column_int64(q, 3);
	c->breached = sqlite3_column_int64(q, 4);
}

enum result sqt_queue_counts(struct store *st, const struct scope *sc, int64_t client_id,
			     struct arena *a, struct queue_counts *out, struct err *e)
{
	struct queue_q qq = { client_id, QUEUE_COUNTS_MAX + 1 };
	struct queue_count *items = arena_alloc(a, sizeof(*items) * (QUEUE_COUNTS_MAX + 1));
	char sql[1024];
	size_t n = 0;
	enum result r;

	out->items = NULL;
	out->n = 0;
	out->truncated = false;
	if (!items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* Constant fragments only; every value is a bound parameter. */
	snprintf(sql, sizeof(sql),
		 "SELECT t.queue, count(*), sum(t.assignee_id IS NULL), sum(t.priority = :p1),"
		 " sum(EXISTS (SELECT 1 FROM ticket_sla s INDEXED BY ticket_sla_breached"
		 " WHERE s.ticket_id = t.id AND (s.response_breached = 1 OR s.resolution_breached = 1)))"
		 " FROM tickets t WHERE t.status NOT IN ('resolved', 'closed')%s%s"
		 " GROUP BY t.queue ORDER BY t.queue LIMIT :limit",
		 sql_ticket_vis(sc), client_id ? " AND t.tenant_id = :client" : "");
	r = read_rows(st, sql, sc, bind_queue_q, &qq, row_queue_count_at, a, items,
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

/* ---- reports ------------------------------------------------------------------------- */

struct report_q {
	int64_t client, lo, hi, after, limit;
};

static void bind_report_q(sqlite3_stmt *q, const void *arg)
{
	const struct report_q *rq = arg;

	bind_i64(q, ":client", rq->client);
	bind_i64(q, ":lo", rq->lo);
	bind_i64(q, ":hi", rq->hi);
	bind_i64(q, ":after", rq->after);
	bind_i64(q, ":limit", rq->limit);
}

static void row_report_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct report_ticket *t = (struct report_ticket *)items + i;

	t->id = sqlite3_column_int64(q, 0);
	t->client_id = sqlite3_column_int64(q, 1);
	t->number = sqlite3_column_int64(q, 2);
	t->created_at = sqlite3_column_int64(q, 3);
	t->first_response_at = sqlite3_column_int64(q, 4);
	t->resolved_at = sqlite3_column_int64(q, 5);
	t->closed_at = sqlite3_column_int64(q, 6);
	t->priority = (enum prio)enum_col(q, 7, prio_names);
	t->type = (enum ttype)enum_col(q, 8, ttype_names);
	t->channel = (enum channel)enum_col(q, 9, channel_names);
	t->category = col_str(q, 10, a);
	t->has_policy = sqlite3_column_int(q, 11) != 0;
	t->response_breached = sqlite3_column_int(q, 12) != 0;
	t->resolution_breached = sqlite3_column_int(q, 13) != 0;
	t->vendor = sqlite3_column_int(q, 14) != 0;
	t->response_ms = sqlite3_column_int64(q, 15);
	t->resolution_ms = sqlite3_column_int64(q, 16);
	for (int k = 0; k < 3; k++)
		t->tier_ms[k] = sqlite3_column_int64(q, 17 + k);
	t->fcr = sqlite3_column_int(q, 20);
	t->reopens = sqlite3_column_int(q, 21);
	t->tier_changes = sqlite3_column_int(q, 22);
	t->reassignments = sqlite3_column_int(q, 23);
}

enum result sqt_report_tickets(struct store *st, const struct scope *sc, int64_t client_id,
			       int64_t lo, int64_t hi, int64_t after, size_t max, struct arena *a,
			       struct report_ticket *items, size_t *n, struct err *e)
{
	struct report_q rq = { client_id, lo, hi, after, (int64_t)max };
	struct buf b;
	enum result r;

	*n = 0;
	buf_init(&b, 4096);
	sql_report_tickets(&b, sc, client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_q, &rq, row_report_at, a, items, max, n, e);
	buf_release(&b);
	return r;
}

static void row_report_csat_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct report_csat *c = (struct report_csat *)items + i;

	c->ticket_id = sqlite3_column_int64(q, 0);
	c->number = sqlite3_column_int64(q, 1);
	c->rating = sqlite3_column_int(q, 2);
	c->comment = col_str(q, 3, a);
	c->created_at = sqlite3_column_int64(q, 4);
}

enum result sqt_report_csat(struct store *st, const struct scope *sc, int64_t client_id,
			    int64_t lo, int64_t hi, int64_t after, size_t max, struct arena *a,
			    struct report_csat *items, size_t *n, struct err *e)
{
	struct report_q rq = { client_id, lo, hi, after, (int64_t)max };
	struct buf b;
	enum result r;

	*n = 0;
	buf_init(&b, 1024);
	sql_report_csat(&b, sc, client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_q, &rq, row_report_csat_at, a, items, max,
		      n, e);
	buf_release(&b);
	return r;
}

static void row_report_hours_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct report_hours_row *h = (struct report_hours_row *)items + i;

	(void)a;
	h->tier = sqlite3_column_int(q, 0);
	h->billable = sqlite3_column_int(q, 1) != 0;
	h->minutes = sqlite3_column_int64(q, 2);
}

enum result sqt_report_hours(struct store *st, const struct scope *sc, int64_t client_id,
			     int64_t lo, int64_t hi, struct arena *a,
			     struct report_hours_row *items, size_t max, size_t *n, struct err *e)
{
	struct report_q rq = { client_id, lo, hi, 0, (int64_t)max };
	struct buf b;
	enum result r;

	*n = 0;
	buf_init(&b, 1024);
	sql_report_hours(&b, sc, client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_q, &rq, row_report_hours_at, a, items, max,
		      n, e);
	buf_release(&b);
	return r;
}

struct sub_q {
	int64_t ticket_id;
	bool all;
};

static void bind_sub(sqlite3_stmt *q, const void *arg)
{
	const struct sub_q *sq = arg;

	bind_i64(q, ":tid", sq->ticket_id);
	bind_i64(q, ":all", sq->all ? 1 : 0);
}

static void row_message_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct ticket_message *m = (struct ticket_message *)items + i;

	m->id = sqlite3_column_int64(q, 0);
	m->ticket_id = sqlite3_column_int64(q, 1);
	m->client_id = sqlite3_column_int64(q, 2);
	m->author_user_id = sqlite3_column_int64(q, 3);
	m->author_contact_id = sqlite3_column_int64(q, 4);
	m->kind = col_str(q, 5, a);
	m->body = col_str(q, 6, a);
	m->created_at = sqlite3_column_int64(q, 7);
	m->quote_at = sqlite3_column_int64(q, 8);
	m->source = col_str(q, 9, a);
}

/* Sub-lists of a ticket: the ticket must be visible, checked in SQL. */
static enum result sub_list(struct store *st, const struct scope *sc, const char *select,
			    const char *filter, struct sub_q *sq,
			    void (*row)(sqlite3_stmt *, struct arena *, void *, size_t),
			    struct arena *a, size_t size, void **items, size_t *n, struct err *e)
{
	char sql[4096];
	size_t max = 10000;
	struct ticket t;
	enum result r = sqt_ticket_get(st, sc, sq->ticket_id, a, &t, e);

	*items = NULL;
	*n = 0;
	if (r != RC_OK)
		return r;
	*items = arena_alloc(a, size * max);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "%s WHERE x.ticket_id = :tid%s ORDER BY x.id", select, filter);
	return read_rows(st, sql, NULL, bind_sub, sq, row, a, *items, max, n, e);
}

enum result sqt_ticket_messages(struct store *st, const struct scope *sc, int64_t ticket_id,
				bool with_notes, struct arena *a, struct message_list *out,
				struct err *e)
{
	struct sub_q sq = { ticket_id, with_notes && sc->all_tenants };
	void *items;
	enum result r = sub_list(st, sc,
				 "SELECT x.id, x.ticket_id, x.tenant_id, coalesce(x.author_user_id, 0),"
				 " coalesce(x.author_contact_id, 0), x.kind, x.body, x.created_at,"
				 " coalesce(x.quote_at, 0), x.source FROM ticket_messages x",
				 " AND (:all OR x.kind = 'reply')", &sq, row_message_at, a,
				 sizeof(struct ticket_message), &items, &out->n, e);

	out->items = items;
	return r;
}

static void row_event_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct ticket_event *ev = (struct ticket_event *)items + i;

	ev->id = sqlite3_column_int64(q, 0);
	ev->ticket_id = sqlite3_column_int64(q, 1);
	ev->at = sqlite3_column_int64(q, 2);
	ev->actor_id = sqlite3_column_int64(q, 3);
	ev->kind = col_str(q, 4, a);
	ev->internal = sqlite3_column_int(q, 5) != 0;
	ev->data = col_str(q, 6, a);
}

enum result sqt_ticket_events(struct store *st, const struct scope *sc, int64_t ticket_id,
			      bool with_internal, struct arena *a, struct event_list *out,
			      struct err *e)
{
	struct sub_q sq = { ticket_id, with_internal && sc->all_tenants };
	void *items;
	enum result r = sub_list(st, sc,
				 "SELECT x.id, x.ticket_id, x.at, x.actor_id, x.kind, x.internal, x.data"
				 " FROM ticket_events x",
				 " AND (:all OR x.internal = 0)", &sq, row_event_at, a,
				 sizeof(struct ticket_event), &items, &out->n, e);

	out->items = items;
	return r;
}

static void row_time_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct time_entry *te = (struct time_entry *)items + i;

	te->id = sqlite3_column_int64(q, 0);
	te->ticket_id = sqlite3_column_int64(q, 1);
	te->client_id = sqlite3_column_int64(q, 2);
	te->user_id = sqlite3_column_int64(q, 3);
	te->minutes = sqlite3_column_int(q, 4);
	te->billable = sqlite3_column_int(q, 5) != 0;
	te->started_at = sqlite3_column_int64(q, 6);
	te->note = col_str(q, 7, a);
	te->created_at = sqlite3_column_int64(q, 8);
}

enum result sqt_ticket_time(struct store *st, const struct scope *sc, int64_t ticket_id,
			    struct arena *a, struct time_list *out, struct err *e)
{
	struct sub_q sq = { ticket_id, true };
	void *items;
	enum result r = sub_list(st, sc,
				 "SELECT x.id, x.ticket_id, x.tenant_id, x.user_id, x.minutes, x.billable,"
				 " x.started_at, x.note, x.created_at FROM time_entries x",
				 "", &sq, row_time_at, a, sizeof(struct time_entry), &items,
				 &out->n, e);

	out->items = items;
	return r;
}

void bind_none(sqlite3_stmt *q, const void *arg)
{
	UNUSED(q);
	UNUSED(arg);
}

static void row_rule_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct rule_row *r = (struct rule_row *)items + i;

	r->id = sqlite3_column_int64(q, 0);
	r->name = col_str(q, 1, a);
	r->position = sqlite3_column_int(q, 2);
	r->enabled = sqlite3_column_int(q, 3) != 0;
	r->on_create = sqlite3_column_int(q, 4) != 0;
	r->on_update = sqlite3_column_int(q, 5) != 0;
	r->stop = sqlite3_column_int(q, 6) != 0;
	r->conditions = col_str(q, 7, a);
	r->actions = col_str(q, 8, a);
	r->version = sqlite3_column_int64(q, 9);
	r->created_at = sqlite3_column_int64(q, 10);
	r->updated_at = sqlite3_column_int64(q, 11);
}

#define RULES_MAX 1000

enum result sqt_rules_list(struct store *st, struct arena *a, struct rule_rows *out,
			   struct err *e)
{
	out->items = arena_alloc(a, sizeof(struct rule_row) * RULES_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT id, name, position, enabled, on_create, on_update, stop,"
			 " conditions, actions, version, created_at, updated_at FROM triage_rules"
			 " ORDER BY position, id", NULL, bind_none, NULL, row_rule_at, a,
			 out->items, RULES_MAX, &out->n, e);
}

static void row_esc_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct esc_rule_row *r = (struct esc_rule_row *)items + i;

	r->id = sqlite3_column_int64(q, 0);
	r->name = col_str(q, 1, a);
	r->kind = col_str(q, 2, a);
	r->minutes = sqlite3_column_int64(q, 3);
	r->priority = col_str(q, 4, a);
	r->raise_to_tier = sqlite3_column_int(q, 5);
	r->notify = sqlite3_column_int(q, 6) != 0;
	r->enabled = sqlite3_column_int(q, 7) != 0;
	r->version = sqlite3_column_int64(q, 8);
	r->created_at = sqlite3_column_int64(q, 9);
	r->updated_at = sqlite3_column_int64(q, 10);
}

enum result sqt_esc_rules_list(struct store *st, struct arena *a, struct esc_rule_rows *out,
			       struct err *e)
{
	out->items = arena_alloc(a, sizeof(struct esc_rule_row) * RULES_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT id, name, kind, minutes, priority, coalesce(raise_to_tier, 0),"
			 " notify, enabled, version, created_at, updated_at FROM escalation_rules"
			 " ORDER BY id", NULL, bind_none, NULL, row_esc_at, a, out->items,
			 RULES_MAX, &out->n, e);
}

struct esc_q {
	const struct esc_rule_row *rule;
	int64_t cutoff;
};

static void bind_esc(sqlite3_stmt *q, const void *arg)
{
	const struct esc_q *eq = arg;

	bind_i64(q, ":rule", eq->rule->id);
	bind_i64(q, ":cutoff", eq->cutoff);
	bind_txt(q, ":prio", eq->rule->priority);
}

static void row_ticket_fired_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct ticket *t = (struct ticket *)items + i;

	row_ticket(q, a, t);
	t->esc_fired_at = sqlite3_column_int64(q, TICKET_NCOLS);
}

#define CANDIDATES_MAX 1000

enum result sqt_esc_candidates(struct store *st, const struct esc_rule_row *rule, int64_t now,
			       struct arena *a, struct ticket_list *out, struct err *e)
{
	char sql[4096];
	struct esc_q eq = { rule, now - rule->minutes * 60 * 1000 };

	out->next_before = 0;
	out->items = arena_alloc(a, sizeof(struct ticket) * CANDIDATES_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql),
		 "SELECT " TICKET_COLS ", coalesce(f.fired_at, 0)" TICKET_FROM
		 " LEFT JOIN escalation_fired f ON f.ticket_id = t.id AND f.rule_id = :rule"
		 " WHERE t.status IN ('new', 'open') AND t.last_activity_at <= :cutoff%s%s"
		 " AND (f.fired_at IS NULL OR f.fired_at < t.last_activity_at)"
		 " ORDER BY t.last_activity_at LIMIT %d",
		 !strcmp(rule->kind, "unassigned") ? " AND t.assignee_id IS NULL" : "",
		 rule->priority ? " AND t.priority = :prio" : "", CANDIDATES_MAX);
	return read_rows(st, sql, NULL, bind_esc, &eq, row_ticket_fired_at, a, out->items,
			 CANDIDATES_MAX, &out->n, e);
}

static void bind_now(sqlite3_stmt *q, const void *arg)
{
	bind_i64(q, ":now", *(const int64_t *)arg);
}

enum result sqt_autoclose_candidates(struct store *st, int64_t now, struct arena *a,
				     struct ticket_list *out, struct err *e)
{
	out->next_before = 0;
	out->items = arena_alloc(a, sizeof(struct ticket) * CANDIDATES_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT " TICKET_COLS TICKET_FROM " JOIN clients c ON c.id = t.tenant_id"
			 " WHERE t.status = 'resolved' AND t.resolved_at <= :now - 86400000"
			 " AND t.resolved_at <= :now - c.auto_close_days * 86400000"
			 " ORDER BY t.resolved_at LIMIT 1000", NULL, bind_now, &now, row_ticket_at, a,
			 out->items, CANDIDATES_MAX, &out->n, e);
}

struct lookup_q {
	int64_t client_id;
	const char *email;
};

static void bind_lookup(sqlite3_stmt *q, const void *arg)
{
	const struct lookup_q *lq = arg;

	bind_i64(q, ":client", lq->client_id);
	bind_txt(q, ":email", lq->email);
}

static void row_id_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	UNUSED(a);
	((int64_t *)items)[i] = sqlite3_column_int64(q, 0);
}

static enum result lookup_id(struct store *st, const char *sql, int64_t client_id,
			     const char *email, int64_t *id, struct err *e)
{
	struct lookup_q lq = { client_id, email };
	size_t n = 0;
	enum result r = read_rows(st, sql, NULL, bind_lookup, &lq, row_id_at, NULL, id, 1, &n, e);

	if (r == RC_OK && n == 0) {
		*id = 0;
		return err_set(e, RC_NOTFOUND, NULL, "not found");
	}
	return r;
}

enum result sqt_contact_by_email(struct store *st, int64_t client_id, const char *email,
				 int64_t *id, struct err *e)
{
	return lookup_id(st, "SELECT id FROM contacts WHERE tenant_id = :client"
			 " AND email = :email COLLATE NOCASE", client_id, email, id, e);
}

enum result sqt_user_by_email(struct store *st, int64_t client_id, const char *email,
			      int64_t *id, struct err *e)
{
	return lookup_id(st, "SELECT id FROM users WHERE client_id = :client AND email = lower(:email)",
			 client_id, email, id, e);
}

static void bind_tid(sqlite3_stmt *q, const void *arg)
{
	bind_i64(q, ":tid", *(const int64_t *)arg);
}

static void row_int_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	UNUSED(a);
	((int *)items)[i] = sqlite3_column_int(q, 0);
}

enum result sqt_csat_get(struct store *st, int64_t ticket_id, int *rating, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, "SELECT rating FROM csat WHERE ticket_id = :tid", NULL,
				  bind_tid, &ticket_id, row_int_at, NULL, rating, 1, &n, e);

	if (r == RC_OK && n == 0) {
		*rating = 0;
		return err_set(e, RC_NOTFOUND, NULL, "no rating");
	}
	return r;
}

/* ---- writes ----------------------------------------------------------------------------- */

sqlite3_stmt *wq(struct sq *s, const char *sql, struct err *e)
{
	return scache_get(&s->wcache, s->wdb, sql, e);
}

/* Steps a write statement to completion; RC_OK or the mapped error. */
enum result wstep(struct sq *s, sqlite3_stmt *q, const char *field, const char *what,
			 struct err *e)
{
	int rc = sqlite3_step(q);

	stmt_done(q);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return RC_OK;
	return step_error(s, rc, field, what, e);
}

static void bind_ticket_row(sqlite3_stmt *q, const struct ticket *t, int64_t now)
{
	bind_i64(q, ":tenant", t->client_id);
	bind_i64(q, ":number", t->number);
	bind_ref(q, ":rcontact", t->requester_contact_id);
	bind_ref(q, ":ruser", t->requester_user_id);
	bind_ref(q, ":assignee", t->assignee_id);
	bind_ref(q, ":device", t->device_id);
	bind_ref(q, ":parent", t->parent_id);
	bind_txt(q, ":status", tstatus_names[t->status]);
	bind_txt(q, ":type", ttype_names[t->type]);
	bind_txt(q, ":impact", level_names[t->impact]);
	bind_txt(q, ":urgency", level_names[t->urgency]);
	bind_txt(q, ":priority", prio_names[t->priority]);
	bind_txt(q, ":channel", channel_names[t->channel]);
	bind_txt(q, ":subject", t->subject);
	bind_txt(q, ":description", t->description);
	bind_txt(q, ":category", t->category);
	bind_txt(q, ":preason", t->priority_reason);
	bind_txt(q, ":queue", t->queue ? t->queue : "general");
	bind_txt(q, ":vendor", t->vendor);
	bind_txt(q, ":vendor_ref", t->vendor_ref);
	bind_txt(q, ":tags", t->tags ? t->tags : "[]");
	bind_i64(q, ":tier", t->tier ? t->tier : 1);
	bind_i64(q, ":created", t->created_at ? t->created_at : now);
	bind_i64(q, ":now", now);
	bind_i64(q, ":activity", t->last_activity_at ? t->last_activity_at : now);
	bind_ref(q, ":first_response", t->first_response_at);
	bind_ref(q, ":resolved", t->resolved_at);
	bind_ref(q, ":closed", t->closed_at);
	if (t->fcr >= 0)
		bind_i64(q, ":fcr", t->fcr);
	bind_txt(q, ":fcr_reason", t->fcr_reason);
	bind_ref(q, ":first_handler", t->first_handler_id);
	bind_ref(q, ":resolved_by", t->resolved_by);
	bind_ref(q, ":resolved_tier", t->resolved_tier);
	bind_i64(q, ":escalations", t->escalations);
	bind_i64(q, ":tier_changes", t->tier_changes);
	bind_i64(q, ":reopens", t->reopens);
	bind_i64(q, ":early_reopens", t->early_reopens);
}

static enum result put_fts(struct sq *s, int64_t rowid, int64_t ticket_id, bool internal,
			   const char *text, const char *text2, struct err *e)
{
	sqlite3_stmt *q = wq(s, "INSERT OR REPLACE INTO ticket_fts (rowid, ticket_id, internal, text)"
			     " VALUES (:rowid, :tid, :internal, :text || char(10) || coalesce(:text2, ''))", e);

	if (!q)
		return RC_IO;
	bind_i64(q, ":rowid", rowid);
	bind_i64(q, ":tid", ticket_id);
	bind_i64(q, ":internal", internal ? 1 : 0);
	bind_txt(q, ":text", text);
	bind_txt(q, ":text2", text2);
	return wstep(s, q, NULL, "search index", e);
}

static enum result put_event(struct sq *s, const struct ticket *t, const struct scope *sc,
			     const char *kind, bool internal, const char *data, int64_t now,
			     struct err *e)
{
	sqlite3_stmt *q = wq(s, "INSERT INTO ticket_events (tenant_id, ticket_id, at, actor_id, kind,"
			     " internal, data) VALUES (:tenant, :tid, :at, :actor, :kind, :internal, :data)", e);

	if (!q)
		return RC_IO;
	bind_i64(q, ":tenant", t->client_id);
	bind_i64(q, ":tid", t->id);
	bind_i64(q, ":at", now);
	bind_i64(q, ":actor", sc->user_id);
	bind_txt(q, ":kind", kind);
	bind_i64(q, ":internal", internal ? 1 : 0);
	bind_txt(q, ":data", data ? data : "{}");
	return wstep(s, q, NULL, "timeline", e);
}

/* Everything that follows the row: events, message, time entry, outbox,
 * and what an incoming e-mail brings (tw->mail: store_sqlite_mail.c). */
static enum result put_extras(struct sq *s, struct store_write *w, struct ticket_write *tw,
			      int64_t now)
{
	const struct ticket *t = &tw->t;
	struct err *e = &w->err;
	enum result r = RC_OK;
	char data[160];

	if (tw->sla_set) {
		r = sqt_sla_gen_check(s, tw->sla_gen, e);
		if (r == RC_OK)
			r = sqt_sla_put(s, t, now, e);
	}
	for (int i = 0; r == RC_OK && i < tw->nev; i++)
		r = put_event(s, t, &w->scope, tw->ev[i].kind, tw->ev[i].internal, tw->ev[i].data,
			      now, e);
	if (r == RC_OK && tw->has_msg) {
		bool note = !strcmp(tw->msg.kind, "note");
		sqlite3_stmt *q = wq(s, "INSERT INTO ticket_messages (tenant_id, ticket_id, kind,"
				     " author_user_id, author_contact_id, body, created_at, quote_at, source)"
				     " VALUES (:tenant, :tid, :kind, :author, :contact, :body, :now, :quote_at,"
				     " :source)", e);
		if (!q)
			return RC_IO;
		bind_i64(q, ":tenant", t->client_id);
		bind_i64(q, ":tid", t->id);
		bind_txt(q, ":kind", tw->msg.kind);
		bind_ref(q, ":author", tw->msg.author_user_id);
		bind_ref(q, ":contact", tw->msg.author_contact_id);
		bind_txt(q, ":body", tw->msg.body);
		bind_i64(q, ":now", now);
		bind_ref(q, ":quote_at", tw->msg.quote_at);
		bind_txt(q, ":source", tw->msg.source);
		r = wstep(s, q, NULL, "message", e);
		if (r == RC_OK) {
			tw->message_id = sqlite3_last_insert_rowid(s->wdb);
			r = put_fts(s, MSG_BASE + tw->message_id, t->id, note, tw->msg.body, NULL, e);
		}
		if (r == RC_OK) {
			snprintf(data, sizeof(data), "{\"message_id\":%" PRId64 ",\"kind\":\"%s\"}",
				 tw->message_id, note ? "note" : "reply");
			r = put_event(s, t, &w->scope, "message", note, data, now, e);
		}
	}
	if (r == RC_OK && tw->has_te) {
		sqlite3_stmt *q = wq(s, "INSERT INTO time_entries (tenant_id, ticket_id, user_id, minutes,"
				     " billable, started_at, note, created_at) VALUES (:tenant, :tid, :user,"
				     " :minutes, :billable, :started, :note, :now)", e);
		if (!q)
			return RC_IO;
		bind_i64(q, ":tenant", t->client_id);
		bind_i64(q, ":tid", t->id);
		bind_i64(q, ":user", tw->te.user_id);
		bind_i64(q, ":minutes", tw->te.minutes);
		bind_i64(q, ":billable", tw->te.billable ? 1 : 0);
		bind_i64(q, ":started", tw->te.started_at ? tw->te.started_at : now);
		bind_txt(q, ":note", tw->te.note);
		bind_i64(q, ":now", now);
		r = wstep(s, q, NULL, "time entry", e);
		if (r == RC_OK) {
			tw->time_entry_id = sqlite3_last_insert_rowid(s->wdb);
			snprintf(data, sizeof(data),
				 "{\"time_entry_id\":%" PRId64 ",\"minutes\":%d,\"billable\":%s}",
				 tw->time_entry_id, tw->te.minutes, tw->te.billable ? "true" : "false");
			r = put_event(s, t, &w->scope, "time_entry", true, data, now, e);
		}
	}
	for (int i = 0; r == RC_OK && i < tw->nob; i++) {
		sqlite3_stmt *q = wq(s, "INSERT INTO outbox (tenant_id, event, ticket_id, payload,"
				     " next_attempt_at, created_at) VALUES (:tenant, :event, :tid, :payload,"
				     " :now, :now)", e);
		if (!q)
			return RC_IO;
		bind_i64(q, ":tenant", t->client_id);
		bind_txt(q, ":event", tw->ob[i].event);
		bind_i64(q, ":tid", t->id);
		bind_txt(q, ":payload", tw->ob[i].payload);
		bind_i64(q, ":now", now);
		r = wstep(s, q, NULL, "outbox", e);
	}
	if (r == RC_OK && tw->esc_rule_id) {
		sqlite3_stmt *q = wq(s, "INSERT INTO escalation_fired (ticket_id, rule_id, fired_at)"
				     " VALUES (:tid, :rule, :now) ON CONFLICT (ticket_id, rule_id)"
				     " DO UPDATE SET fired_at = excluded.fired_at", e);
		if (!q)
			return RC_IO;
		bind_i64(q, ":tid", t->id);
		bind_i64(q, ":rule", tw->esc_rule_id);
		bind_i64(q, ":now", now);
		r = wstep(s, q, NULL, "escalation", e);
	}
	if (r == RC_OK && tw->alert_id)
		r = sqm_alert_ticket(s, tw, e);
	if (r == RC_OK && tw->mail)
		r = sqmail_file(s, tw, now, e);
	return r;
}

#define TICKET_VALUES                                                                        \
	":tenant, :number, :rcontact, :ruser, :assignee, :device, :parent, :status, :type,"  \
	" :impact, :urgency, :priority, :channel, :subject, :description, :category, :preason," \
	" :queue, :vendor, :vendor_ref, :tags, :tier, :created, :now, :activity,"            \
	" :first_response, :resolved, :closed, :fcr, :fcr_reason, :first_handler, :resolved_by," \
	" :resolved_tier, :escalations, :tier_changes, :reopens, :early_reopens"

enum result sqt_ticket_create(struct sq *s, struct store_write *w)
{
	struct ticket_write *tw = w->in.tw;
	struct ticket *t = &tw->t;
	int64_t now = clock_now_ms();
	sqlite3_stmt *q;
	enum result r = tenant_visible(s, &w->scope, t->client_id, &w->err);
	char data[96];

	if (r != RC_OK)
		return r;
	q = wq(s, "SELECT coalesce(max(number), 0) + 1 FROM tickets", &w->err);
	if (!q)
		return RC_IO;
	if (sqlite3_step(q) != SQLITE_ROW) {
		stmt_done(q);
		return sq_error(s->wdb, sqlite3_errcode(s->wdb), &w->err, "ticket number");
	}
	t->number = sqlite3_column_int64(q, 0);
	stmt_done(q);
	/* An e-mail's new contact is the requester: made before the row. */
	if (tw->mail) {
		r = sqmail_contact(s, tw, true, &w->err);
		if (r != RC_OK)
			return r;
	}

	q = wq(s, "INSERT INTO tickets (tenant_id, number, requester_contact_id, requester_user_id,"
	       " assignee_id, device_id, parent_id, status, type, impact, urgency, priority, channel,"
	       " subject, description, category, priority_reason, queue, vendor, vendor_ref, tags,"
	       " tier, created_at, updated_at, last_activity_at, first_response_at, resolved_at,"
	       " closed_at, fcr, fcr_reason, first_handler_id, resolved_by, resolved_tier,"
	       " escalations, tier_changes, reopens, early_reopens) VALUES (" TICKET_VALUES ")", &w->err);
	if (!q)
		return RC_IO;
	bind_ticket_row(q, t, now);
	r = wstep(s, q, NULL, "ticket", &w->err);
	if (r != RC_OK)
		return r;
	t->id = w->id = sqlite3_last_insert_rowid(s->wdb);
	t->version = w->version = 1;
	t->created_at = t->created_at ? t->created_at : now;
	w->audit.tenant_id = t->client_id;
	r = put_fts(s, t->id, t->id, false, t->subject, t->description, &w->err);
	if (r == RC_OK) {
		snprintf(data, sizeof(data), "{\"number\":%" PRId64 ",\"channel\":\"%s\"}", t->number,
			 channel_names[t->channel]);
		r = put_event(s, t, &w->scope, "created", false, data, now, &w->err);
	}
	if (r == RC_OK)
		r = put_extras(s, w, tw, now);
	return r;
}

static enum result change_one(struct sq *s, struct store_write *w, struct ticket_write *tw)
{
	struct ticket *t = &tw->t;
	int64_t now = clock_now_ms();
	char sql[4096];
	sqlite3_stmt *q;
	enum result r;
	int rc;

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
		 " WHERE t.id = :id AND t.version = :version%s RETURNING version, tenant_id",
		 sql_ticket_vis(&w->scope));
	q = wq(s, sql, &w->err);
	if (!q)
		return RC_IO;
	bind_ticket_row(q, t, now);
	bind_i64(q, ":id", t->id);
	bind_i64(q, ":version", tw->if_version);
	bind_vis(q, &w->scope);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		t->version = w->version = sqlite3_column_int64(q, 0);
		t->client_id = sqlite3_column_int64(q, 1);
	}
	stmt_done(q);
	if (rc == SQLITE_DONE) {
		/* Not changed: not visible, or someone changed it first. */
		snprintf(sql, sizeof(sql), "SELECT t.version FROM tickets t WHERE t.id = :id%s",
			 sql_ticket_vis(&w->scope));
		q = wq(s, sql, &w->err);
		if (!q)
			return RC_IO;
		bind_i64(q, ":id", t->id);
		bind_vis(q, &w->scope);
		rc = sqlite3_step(q);
		stmt_done(q);
		if (rc == SQLITE_ROW)
			return err_set(&w->err, RC_STALE, NULL,
				       "the ticket was changed by someone else; reload it and try again");
		if (rc == SQLITE_DONE)
			return err_set(&w->err, RC_NOTFOUND, NULL, "ticket not found");
		return sq_error(s->wdb, rc, &w->err, "ticket");
	}
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "ticket", &w->err);
	w->id = t->id;
	w->audit.tenant_id = t->client_id;
	r = RC_OK;
	if (tw->mail)
		r = sqmail_contact(s, tw, false, &w->err);
	if (r == RC_OK && tw->fts)
		r = put_fts(s, t->id, t->id, false, t->subject, t->description, &w->err);
	if (r == RC_OK)
		r = put_extras(s, w, tw, now);
	return r;
}

enum result sqt_ticket_change(struct sq *s, struct store_write *w)
{
	return change_one(s, w, w->in.tw);
}

enum result sqt_ticket_bulk(struct sq *s, struct store_write *w)
{
	/* All or nothing: the first failure fails the write, and its savepoint
	 * takes every change before it back. */
	for (size_t i = 0; i < w->in.bulk.n; i++) {
		enum result r = change_one(s, w, &w->in.bulk.items[i]);
		if (r != RC_OK) {
			w->in.bulk.failed = i;
			return r;
		}
	}
	return RC_OK;
}

enum result sqt_csat_put(struct sq *s, struct store_write *w)
{
	struct ticket_write *tw = w->in.tw;
	int64_t now = clock_now_ms();
	sqlite3_stmt *q = wq(s, "INSERT INTO csat (ticket_id, tenant_id, rating, comment, created_at)"
			     " VALUES (:tid, :tenant, :rating, :comment, :now)", &w->err);
	char data[64];
	enum result r;

	if (!q)
		return RC_IO;
	bind_i64(q, ":tid", tw->t.id);
	bind_i64(q, ":tenant", tw->t.client_id);
	bind_i64(q, ":rating", tw->csat_rating);
	bind_txt(q, ":comment", tw->csat_comment);
	bind_i64(q, ":now", now);
	r = wstep(s, q, "rating", "rating", &w->err);
	if (r == RC_CONFLICT)
		return err_set(&w->err, RC_CONFLICT, "rating", "this ticket has already been rated");
	if (r != RC_OK)
		return r;
	snprintf(data, sizeof(data), "{\"rating\":%d}", tw->csat_rating);
	w->id = tw->t.id;
	return put_event(s, &tw->t, &w->scope, "csat", false, data, now, &w->err);
}

enum result sqt_rule_put(struct sq *s, struct store_write *w)
{
	const struct rule_row *rr = &w->in.rule;
	int64_t now = clock_now_ms();
	sqlite3_stmt *q;
	int rc;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage rules");
	if (!rr->id) {
		q = wq(s, "INSERT INTO triage_rules (name, position, enabled, on_create, on_update, stop,"
		       " conditions, actions, version, created_at, updated_at) VALUES (:name,"
		       " iif(:position > 0, :position, (SELECT coalesce(max(position), 0) + 10 FROM triage_rules)),"
		       " :enabled, :on_create, :on_update, :stop, :conditions, :actions, 1, :now, :now)",
		       &w->err);
	} else {
		q = wq(s, "UPDATE triage_rules SET name = :name, position = iif(:position > 0, :position,"
		       " position), enabled = :enabled, on_create = :on_create, on_update = :on_update,"
		       " stop = :stop, conditions = :conditions, actions = :actions,"
		       " version = version + 1, updated_at = :now WHERE id = :id"
		       " AND (:version = 0 OR version = :version) RETURNING version", &w->err);
	}
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", rr->id);
	bind_i64(q, ":version", w->if_version);
	bind_txt(q, ":name", rr->name);
	bind_i64(q, ":position", rr->position);
	bind_i64(q, ":enabled", rr->enabled);
	bind_i64(q, ":on_create", rr->on_create);
	bind_i64(q, ":on_update", rr->on_update);
	bind_i64(q, ":stop", rr->stop);
	bind_txt(q, ":conditions", rr->conditions);
	bind_txt(q, ":actions", rr->actions);
	bind_i64(q, ":now", now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		w->version = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (!rr->id) {
		if (rc != SQLITE_DONE)
			return step_error(s, rc, NULL, "rule", &w->err);
		w->id = sqlite3_last_insert_rowid(s->wdb);
		w->version = 1;
		return RC_OK;
	}
	if (rc == SQLITE_DONE)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       w->if_version ? "the rule was changed by someone else (or does not exist)"
					     : "rule not found");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "rule", &w->err);
	w->id = rr->id;
	return RC_OK;
}

enum result sqt_rule_delete(struct sq *s, struct store_write *w)
{
	sqlite3_stmt *q;
	enum result r;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage rules");
	q = wq(s, w->fields ? "DELETE FROM escalation_rules WHERE id = :id"
			    : "DELETE FROM triage_rules WHERE id = :id", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", w->id);
	r = wstep(s, q, NULL, "rule", &w->err);
	if (r == RC_OK && sqlite3_changes(s->wdb) == 0)
		return err_set(&w->err, RC_NOTFOUND, NULL, "rule not found");
	return r;
}

enum result sqt_esc_rule_put(struct sq *s, struct store_write *w)
{
	const struct esc_rule_row *er = &w->in.esc;
	int64_t now = clock_now_ms();
	sqlite3_stmt *q;
	int rc;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage rules");
	if (!er->id)
		q = wq(s, "INSERT INTO escalation_rules (name, kind, minutes, priority, raise_to_tier, notify,"
		       " enabled, version, created_at, updated_at) VALUES (:name, :kind, :minutes, :prio,"
		       " nullif(:tier, 0), :notify, :enabled, 1, :now, :now)", &w->err);
	else
		q = wq(s, "UPDATE escalation_rules SET name = :name, kind = :kind, minutes = :minutes,"
		       " priority = :prio, raise_to_tier = nullif(:tier, 0), notify = :notify,"
		       " enabled = :enabled, version = version + 1, updated_at = :now WHERE id = :id"
		       " AND (:version = 0 OR version = :version) RETURNING version", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", er->id);
	bind_i64(q, ":version", w->if_version);
	bind_txt(q, ":name", er->name);
	bind_txt(q, ":kind", er->kind);
	bind_i64(q, ":minutes", er->minutes);
	bind_txt(q, ":prio", er->priority);
	bind_i64(q, ":tier", er->raise_to_tier);
	bind_i64(q, ":notify", er->notify);
	bind_i64(q, ":enabled", er->enabled);
	bind_i64(q, ":now", now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		w->version = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (!er->id) {
		if (rc != SQLITE_DONE)
			return step_error(s, rc, NULL, "escalation rule", &w->err);
		w->id = sqlite3_last_insert_rowid(s->wdb);
		w->version = 1;
		return RC_OK;
	}
	if (rc == SQLITE_DONE)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL, "rule not found or changed");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "escalation rule", &w->err);
	w->id = er->id;
	return RC_OK;
}

/* ---- calendars (provider-wide; they share this file's helpers) -------------------------- */

static void row_calendar_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct calendar_row *c = (struct calendar_row *)items + i;

	c->id = sqlite3_column_int64(q, 0);
	c->name = col_str(q, 1, a);
	c->timezone = col_str(q, 2, a);
	c->always = sqlite3_column_int(q, 3) != 0;
	c->hours = col_str(q, 4, a);
	c->holidays = col_str(q, 5, a);
	c->version = sqlite3_column_int64(q, 6);
	c->created_at = sqlite3_column_int64(q, 7);
	c->updated_at = sqlite3_column_int64(q, 8);
}

#define CAL_COLS "id, name, timezone, always, hours, holidays, version, created_at, updated_at"
#define CALENDARS_MAX 1000

enum result sqt_calendar_get(struct store *st, int64_t id, struct arena *a,
			     struct calendar_row *out, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " CAL_COLS " FROM calendars WHERE id = :id", NULL,
				  bind_id, &id, row_calendar_at, a, out, 1, &n, e);

	if (r == RC_OK && n == 0)
		r = err_set(e, RC_NOTFOUND, NULL, "calendar not found");
	return r;
}

enum result sqt_calendar_list(struct store *st, struct arena *a, struct calendar_row **items,
			      size_t *n, struct err *e)
{
	*items = arena_alloc(a, sizeof(struct calendar_row) * CALENDARS_MAX);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT " CAL_COLS " FROM calendars ORDER BY id", NULL, bind_none, NULL,
			 row_calendar_at, a, *items, CALENDARS_MAX, n, e);
}

enum result sqt_calendar_put(struct sq *s, struct store_write *w)
{
	const struct calendar_row *c = &w->in.cal;
	sqlite3_stmt *q;
	enum result r;
	int rc;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage calendars");
	if (w->recompute && (r = sqt_sla_gen_check(s, w->sla_gen, &w->err)) != RC_OK)
		return r;
	if ((r = sqt_sla_gen_bump(s, &w->err)) != RC_OK)
		return r;
	q = wq(s, c->id ? "UPDATE calendars SET name = :name, timezone = :tz, always = :always,"
			  " hours = :hours, holidays = :holidays, version = version + 1, updated_at = :now"
			  " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			: "INSERT INTO calendars (name, timezone, always, hours, holidays, version,"
			  " created_at, updated_at) VALUES (:name, :tz, :always, :hours, :holidays, 1, :now, :now)",
	       &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", c->id);
	bind_i64(q, ":version", w->if_version);
	bind_txt(q, ":name", c->name);
	bind_txt(q, ":tz", c->timezone);
	bind_i64(q, ":always", c->always);
	bind_txt(q, ":hours", c->hours);
	bind_txt(q, ":holidays", c->holidays);
	bind_i64(q, ":now", clock_now_ms());
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		w->version = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (!c->id) {
		if (rc != SQLITE_DONE)
			return step_error(s, rc, "name", "calendar", &w->err);
		w->id = sqlite3_last_insert_rowid(s->wdb);
		w->version = 1;
		return RC_OK;
	}
	if (rc == SQLITE_DONE)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "calendar not found or changed by someone else");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, "name", "calendar", &w->err);
	w->id = c->id;
	return RC_OK;
}
