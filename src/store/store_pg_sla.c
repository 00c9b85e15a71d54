/*
 * store_pg_sla.c: calendars, SLA policies, contracts and tickets' SLA rows
 * in PostgreSQL (migrations-pg/0003_calendars.sql, 0004_sla.sql): the port
 * of store_sqlite_sla.c and of the calendar functions of
 * store_sqlite_ticket.c, with the same contracts (store_int.h).
 *
 * Calendars and policies are provider configuration (staff scope only).
 * Contracts belong to a client: reads add the tenant predicate for client
 * roles, writes check the client is visible. A ticket's SLA row is written
 * with the ticket (put_extras), in the same savepoint. A recompute (after a
 * calendar or policy edit) runs in the edit's transaction: it reads every
 * open ticket's row a page at a time (keyset on ticket id), lets the
 * caller's function replay it, and updates the rows that changed (one
 * UPDATE a page, or more when its logs pass 8 MB: the values bound as one
 * array a column), so the edit and its effect commit together.
 *
 * What differs from SQLite:
 *  - The SLA configuration generation is the settings row 'sla_generation'
 *    in both stores; here every server shares it, so it is always read in
 *    the transaction (never cached) and bumped with INSERT ... ON CONFLICT:
 *    two servers bumping it together collide as a serialization failure,
 *    and the second one's batch runs again. Every calendar and policy write
 *    bumps it first, so such writes of two servers never interleave (nor
 *    can two default policies meet on sla_policies_default).
 *  - Writes may run again from the start (pg_writer.h): each apply
 *    function resets what it sets (w->id, w->version, the recompute's
 *    counts) and keeps nothing between passes. After a failed statement
 *    nothing more is run in the write: the error goes back at once.
 *  - Dates ("YYYY-MM-DD") compare as text byte by byte (COLLATE "C"), as
 *    SQLite's BINARY collation compares them.
 *  - SQL text is built from constant fragments only; limits are bound.
 *  - sla_due breaks ties of next_at by ticket id (SQLite's index order).
 */
#include "base/common.h"

#include "base/buf.h"
#include "base/clock.h"
#include "store/store.h"
#include "store/store_pg_int.h"

#define CAL_COLS "id, name, timezone, always, hours, holidays, version, created_at, updated_at"
#define POLICY_COLS "id, name, calendar_id, calendars, targets, pause_statuses, warn_at," \
	" tier_targets, actions, is_default, version, created_at, updated_at"
#define CONTRACT_COLS "c.id, c.tenant_id, c.name, coalesce(c.sla_policy_id, 0), c.model," \
	" c.starts_on, c.ends_on, c.notes, c.version, c.created_at, c.updated_at"
#define CALENDARS_MAX 1000
#define POLICIES_MAX 1000
#define CONTRACTS_MAX 500
#define SQL_MAX 16384

/* ---- helpers -------------------------------------------------------------------------------- */

/* A one-column int64 row. */
static void row_i64(const PGresult *r, int i, struct arena *a, void *p)
{
	UNUSED(a);
	*(int64_t *)p = pg_i64(r, i, 0);
}

/* A read of one row by :id. */
static enum result read_by_id(struct store *st, const char *sql, int64_t id, struct arena *a,
			      void *out, pg_row_fn row, const char *what, struct err *e)
{
	struct pgq q;
	enum result r;

	pgq_init(&q, sql);
	pgq_i64(&q, ":id", id);
	r = pgr_one(st, &q, a, out, row, what, e);
	pgq_release(&q);
	return r;
}

/* A whole (bounded) table in id order into a new array of max items. */
static enum result read_all(struct store *st, const char *sql, size_t max, size_t sz,
			    pg_row_fn row, struct arena *a, void **items, size_t *n,
			    struct err *e)
{
	struct pgq q;
	enum result r;

	*n = 0;
	*items = arena_alloc(a, sz * max);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	pgq_init(&q, sql);
	pgq_i64(&q, ":limit", (int64_t)max);
	r = pgr_rows(st, &q, a, *items, sz, max, n, row, e);
	pgq_release(&q);
	return r;
}

/* Whether a statement on the writer returns a row (SELECT 1 ... WHERE
 * id = :id); RC_OK with *found, or the statement's error. */
static enum result w_exists(struct pgw *x, const char *sql, int64_t id, const char *what,
			    bool *found, struct err *e)
{
	struct pgq q;
	PGresult *r;

	*found = false;
	pgq_init(&q, sql);
	pgq_i64(&q, ":id", id);
	r = pgw_run(x, &q, NULL, what, e);
	pgq_release(&q);
	if (!r)
		return e->code;
	*found = PQntuples(r) > 0;
	PQclear(r);
	return RC_OK;
}

/* The end of a create (RETURNING id) or an update (RETURNING version)
 * whose statement ran: r is its result. An update that matched nothing
 * is RC_STALE when a version was asked for, else RC_NOTFOUND (as in
 * SQLite, without telling the two apart further). */
static enum result put_done(struct store_write *w, PGresult *r, int64_t id, const char *what)
{
	int64_t v = PQntuples(r) ? pg_i64(r, 0, 0) : 0;

	PQclear(r);
	if (!v && !id)
		return err_set(&w->err, RC_IO, NULL, "%s: no id returned", what);
	if (!v)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "%s not found or changed by someone else", what);
	w->id = id ? id : v;
	w->version = id ? v : 1;
	return RC_OK;
}

/* ---- calendars (provider-wide) ------------------------------------------------------------ */

static void row_calendar(const PGresult *r, int i, struct arena *a, void *p)
{
	struct calendar_row *c = p;

	c->id = pg_i64(r, i, 0);
	c->name = pg_str(r, i, 1, a);
	c->timezone = pg_str(r, i, 2, a);
	c->always = pg_i64(r, i, 3) != 0;
	c->hours = pg_str(r, i, 4, a);
	c->holidays = pg_str(r, i, 5, a);
	c->version = pg_i64(r, i, 6);
	c->created_at = pg_i64(r, i, 7);
	c->updated_at = pg_i64(r, i, 8);
}

enum result pgt_calendar_get(struct store *st, int64_t id, struct arena *a,
			     struct calendar_row *out, struct err *e)
{
	return read_by_id(st, "SELECT " CAL_COLS " FROM calendars WHERE id = :id", id, a, out,
			  row_calendar, "calendar", e);
}

enum result pgt_calendar_list(struct store *st, struct arena *a, struct calendar_row **items,
			      size_t *n, struct err *e)
{
	void *arr = NULL;
	enum result r = read_all(st, "SELECT " CAL_COLS " FROM calendars ORDER BY id LIMIT :limit",
				 CALENDARS_MAX, sizeof(struct calendar_row), row_calendar, a, &arr,
				 n, e);

	*items = arr;
	return r;
}

/* Staff only; the generation checked (with a recompute) and bumped. */
static enum result config_write_begin(struct pgw *x, struct store_write *w, const char *denied)
{
	enum result r;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "%s", denied);
	if (w->recompute && (r = pgt_sla_gen_check(x, w->sla_gen, &w->err)) != RC_OK)
		return r;
	return pgt_sla_gen_bump(x, &w->err);
}

enum result pgt_calendar_put(struct pgw *x, struct store_write *w)
{
	const struct calendar_row *c = &w->in.cal;
	struct pgq q;
	PGresult *res;
	enum result r;

	w->id = c->id;
	w->version = 0;
	r = config_write_begin(x, w, "only provider staff manage calendars");
	if (r != RC_OK)
		return r;
	pgq_init(&q, c->id ? "UPDATE calendars SET name = :name, timezone = :tz, always = :always,"
			     " hours = :hours, holidays = :holidays, version = version + 1, updated_at = :now"
			     " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			   : "INSERT INTO calendars (name, timezone, always, hours, holidays, version,"
			     " created_at, updated_at) VALUES (:name, :tz, :always, :hours, :holidays, 1,"
			     " :now, :now) RETURNING id");
	pgq_i64(&q, ":id", c->id);
	pgq_i64(&q, ":version", w->if_version);
	pgq_txt(&q, ":name", c->name);
	pgq_txt(&q, ":tz", c->timezone);
	pgq_i64(&q, ":always", c->always ? 1 : 0);
	pgq_txt(&q, ":hours", c->hours);
	pgq_txt(&q, ":holidays", c->holidays);
	pgq_i64(&q, ":now", clock_now_ms());
	res = pgw_run(x, &q, "name", "calendar", &w->err);
	pgq_release(&q);
	if (!res)
		return w->err.code;
	return put_done(w, res, c->id, "calendar");
}

/* ---- the SLA configuration generation ----------------------------------------------------- */

#define GEN_SQL "SELECT coalesce((SELECT CAST(value AS BIGINT) FROM settings" \
	" WHERE key = 'sla_generation'), 0)"

enum result pgt_sla_gen_check(struct pgw *x, int64_t gen, struct err *e)
{
	struct pgq q;
	PGresult *r;
	int64_t cur;

	if (gen < 0)
		return RC_OK;
	pgq_init(&q, GEN_SQL);
	r = pgw_run(x, &q, NULL, "settings", e);
	pgq_release(&q);
	if (!r)
		return e->code;
	cur = PQntuples(r) ? pg_i64(r, 0, 0) : 0;
	PQclear(r);
	if (cur != gen)
		return err_set(e, RC_STALE, "sla_generation",
			       "calendars or SLA policies changed meanwhile; computed again");
	return RC_OK;
}

enum result pgt_sla_gen_bump(struct pgw *x, struct err *e)
{
	struct pgq q;
	enum result r;

	pgq_init(&q, "INSERT INTO settings (key, value) VALUES ('sla_generation', '1')"
		 " ON CONFLICT (key) DO UPDATE"
		 " SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)");
	r = pgw_do(x, &q, NULL, "settings", e);
	pgq_release(&q);
	return r;
}

enum result pgt_sla_generation(struct store *st, int64_t *gen, struct err *e)
{
	struct pgq q;
	enum result r;

	*gen = 0;
	pgq_init(&q, GEN_SQL);
	r = pgr_one(st, &q, NULL, gen, row_i64, "settings", e);
	pgq_release(&q);
	if (r != RC_OK)
		*gen = 0;
	return r;
}

/* ---- tickets' SLA rows ------------------------------------------------------------------ */

static void bind_sla(struct pgq *q, const struct ticket_sla *x)
{
	pgq_ref(q, ":policy", x->policy_id);
	pgq_txt(q, ":log", x->log ? x->log : "");
	pgq_ref(q, ":rdue", x->response_due);
	pgq_ref(q, ":sdue", x->resolution_due);
	pgq_i64(q, ":rbr", x->response_breached ? 1 : 0);
	pgq_i64(q, ":sbr", x->resolution_breached ? 1 : 0);
	pgq_i64(q, ":paused", x->paused ? 1 : 0);
	pgq_i64(q, ":rms", x->response_ms);
	pgq_i64(q, ":sms", x->resolution_ms);
	pgq_i64(q, ":t1", x->tier_ms[0]);
	pgq_i64(q, ":t2", x->tier_ms[1]);
	pgq_i64(q, ":t3", x->tier_ms[2]);
	pgq_i64(q, ":ola", (int64_t)x->ola_breached);
	pgq_i64(q, ":as_of", x->as_of);
	pgq_i64(q, ":fired", (int64_t)x->fired);
	pgq_ref(q, ":next", x->next_at);
}

#define SLA_SET "policy_id = :policy, log = :log, response_due = :rdue, resolution_due = :sdue," \
	" response_breached = :rbr, resolution_breached = :sbr, paused = :paused,"             \
	" response_ms = :rms, resolution_ms = :sms, t1_ms = :t1, t2_ms = :t2, t3_ms = :t3,"    \
	" ola_breached = :ola, as_of = :as_of, fired = :fired, next_at = :next"

enum result pgt_sla_put(struct pgw *x, const struct ticket *t, int64_t now, struct err *e)
{
	struct pgq q;
	enum result r;

	UNUSED(now);
	pgq_init(&q, "INSERT INTO ticket_sla (ticket_id, tenant_id, policy_id, log,"
		 " response_due, resolution_due, response_breached, resolution_breached,"
		 " paused, response_ms, resolution_ms, t1_ms, t2_ms, t3_ms, ola_breached,"
		 " as_of, fired, next_at) VALUES (:tid, :tenant, :policy, :log, :rdue, :sdue,"
		 " :rbr, :sbr, :paused, :rms, :sms, :t1, :t2, :t3, :ola, :as_of, :fired, :next)"
		 " ON CONFLICT (ticket_id) DO UPDATE SET " SLA_SET);
	pgq_i64(&q, ":tid", t->id);
	pgq_i64(&q, ":tenant", t->client_id);
	bind_sla(&q, &t->sla);
	r = pgw_do(x, &q, NULL, "ticket SLA", e);
	pgq_release(&q);
	return r;
}

/* The SLA columns from column i on (as the recompute's page reads them).
 * The log points into r: valid until r is cleared. */
static void sla_row(const PGresult *r, int row, int i, struct ticket_sla *x)
{
	memset(x, 0, sizeof(*x));
	x->present = true;
	x->policy_id = pg_i64(r, row, i);
	x->log = PQgetisnull(r, row, i + 1) ? "" : PQgetvalue(r, row, i + 1);
	x->response_due = pg_i64(r, row, i + 2);
	x->resolution_due = pg_i64(r, row, i + 3);
	x->response_breached = pg_i64(r, row, i + 4) != 0;
	x->resolution_breached = pg_i64(r, row, i + 5) != 0;
	x->paused = pg_i64(r, row, i + 6) != 0;
	x->response_ms = pg_i64(r, row, i + 7);
	x->resolution_ms = pg_i64(r, row, i + 8);
	for (int k = 0; k < 3; k++)
		x->tier_ms[k] = pg_i64(r, row, i + 9 + k);
	x->ola_breached = (unsigned)pg_i64(r, row, i + 12);
	x->as_of = pg_i64(r, row, i + 13);
	x->fired = (unsigned)pg_i64(r, row, i + 14);
	x->next_at = pg_i64(r, row, i + 15);
}

/* The changed rows of a recompute, written back with one UPDATE: each
 * column's values are one array parameter (an array literal, bound as
 * text and cast), unnested together into rows. */
enum {
	B_TID, B_POLICY, B_RDUE, B_SDUE, B_RBR, B_SBR, B_PAUSED, B_RMS, B_SMS,
	B_T1, B_T2, B_T3, B_OLA, B_ASOF, B_FIRED, B_NEXT, B_NUM
};

/* The parameter of each column; ref: 0 is NULL (bind_sla's pgq_ref). */
static const struct { const char *name; bool ref; } batch_col[B_NUM] = {
	[B_TID] = { ":tid", false },     [B_POLICY] = { ":policy", true },
	[B_RDUE] = { ":rdue", true },    [B_SDUE] = { ":sdue", true },
	[B_RBR] = { ":rbr", false },     [B_SBR] = { ":sbr", false },
	[B_PAUSED] = { ":paused", false }, [B_RMS] = { ":rms", false },
	[B_SMS] = { ":sms", false },     [B_T1] = { ":t1", false },
	[B_T2] = { ":t2", false },       [B_T3] = { ":t3", false },
	[B_OLA] = { ":ola", false },     [B_ASOF] = { ":as_of", false },
	[B_FIRED] = { ":fired", false }, [B_NEXT] = { ":next", true },
};

#define BATCH_UPDATE                                                                            \
	"UPDATE ticket_sla s SET policy_id = v.policy, log = v.log, response_due = v.rdue,"       \
	" resolution_due = v.sdue, response_breached = v.rbr, resolution_breached = v.sbr,"      \
	" paused = v.paused, response_ms = v.rms, resolution_ms = v.sms, t1_ms = v.t1,"          \
	" t2_ms = v.t2, t3_ms = v.t3, ola_breached = v.ola, as_of = v.as_of, fired = v.fired,"  \
	" next_at = v.next_at FROM unnest(CAST(:tid AS bigint[]), CAST(:policy AS bigint[]),"    \
	" CAST(:log AS text[]), CAST(:rdue AS bigint[]), CAST(:sdue AS bigint[]),"                \
	" CAST(:rbr AS bigint[]), CAST(:sbr AS bigint[]), CAST(:paused AS bigint[]),"             \
	" CAST(:rms AS bigint[]), CAST(:sms AS bigint[]), CAST(:t1 AS bigint[]),"                 \
	" CAST(:t2 AS bigint[]), CAST(:t3 AS bigint[]), CAST(:ola AS bigint[]),"                  \
	" CAST(:as_of AS bigint[]), CAST(:fired AS bigint[]), CAST(:next AS bigint[]))"           \
	" AS v (tid, policy, log, rdue, sdue, rbr, sbr, paused, rms, sms, t1, t2, t3, ola, as_of," \
	" fired, next_at) WHERE s.ticket_id = v.tid"

/* Flushed when the logs pass this size (and at the end of each page). */
#define BATCH_LOG_FLUSH (8u << 20)

struct sla_batch {
	struct buf col[B_NUM];           /* "{1,2,NULL" ... */
	struct buf log;                  /* "{\"...\",\"...\"" */
	size_t n;
};

static void batch_init(struct sla_batch *b)
{
	for (int k = 0; k < B_NUM; k++)
		buf_init(&b->col[k], 1u << 20);
	buf_init(&b->log, 1u << 30);
	b->n = 0;
}

static void batch_release(struct sla_batch *b)
{
	for (int k = 0; k < B_NUM; k++)
		buf_release(&b->col[k]);
	buf_release(&b->log);
	b->n = 0;
}

/* s as a double-quoted array element: '"' and '\' escaped by '\'. */
static enum result append_quoted(struct buf *b, const char *s)
{
	enum result r = buf_append(b, "\"", 1);

	while (r == RC_OK && *s) {
		size_t run = strcspn(s, "\"\\");
		r = buf_append(b, s, run);
		s += run;
		if (r == RC_OK && *s) {
			char esc[2] = { '\\', *s++ };
			r = buf_append(b, esc, 2);
		}
	}
	return r == RC_OK ? buf_append(b, "\"", 1) : r;
}

static enum result batch_add(struct sla_batch *b, int64_t tid, const struct ticket_sla *x)
{
	const int64_t v[B_NUM] = {
		[B_TID] = tid, [B_POLICY] = x->policy_id, [B_RDUE] = x->response_due,
		[B_SDUE] = x->resolution_due, [B_RBR] = x->response_breached ? 1 : 0,
		[B_SBR] = x->resolution_breached ? 1 : 0, [B_PAUSED] = x->paused ? 1 : 0,
		[B_RMS] = x->response_ms, [B_SMS] = x->resolution_ms, [B_T1] = x->tier_ms[0],
		[B_T2] = x->tier_ms[1], [B_T3] = x->tier_ms[2], [B_OLA] = (int64_t)x->ola_breached,
		[B_ASOF] = x->as_of, [B_FIRED] = (int64_t)x->fired, [B_NEXT] = x->next_at,
	};
	const char *sep = b->n ? "," : "{";
	enum result r = RC_OK;

	for (int k = 0; k < B_NUM && r == RC_OK; k++)
		r = batch_col[k].ref && !v[k] ? buf_appendf(&b->col[k], "%sNULL", sep)
					       : buf_appendf(&b->col[k], "%s%lld", sep, (long long)v[k]);
	if (r == RC_OK)
		r = buf_appends(&b->log, sep);
	if (r == RC_OK)
		r = append_quoted(&b->log, x->log ? x->log : "");
	if (r != RC_OK)
		return RC_NOMEM;
	b->n++;
	return RC_OK;
}

static enum result batch_flush(struct pgw *x, struct sla_batch *b, struct err *e)
{
	struct pgq q;
	enum result r = RC_OK;

	if (!b->n)
		return RC_OK;
	for (int k = 0; k < B_NUM && r == RC_OK; k++)
		r = buf_append(&b->col[k], "}", 1);
	if (r == RC_OK)
		r = buf_append(&b->log, "}", 1);
	if (r != RC_OK)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	pgq_init(&q, BATCH_UPDATE);
	for (int k = 0; k < B_NUM; k++)
		pgq_txt(&q, batch_col[k].name, buf_str(&b->col[k]));
	pgq_txt(&q, ":log", buf_str(&b->log));
	r = pgw_do(x, &q, NULL, "ticket SLA", e);
	pgq_release(&q);
	for (int k = 0; k < B_NUM; k++)
		buf_reset(&b->col[k]);
	buf_reset(&b->log);
	b->n = 0;
	return r;
}

#define RECOMPUTE_PAGE 4096

/* One page of open tickets' SLA rows after ticket id after: fn on each,
 * the changed ones written back; *n rows read, *last the last id. */
static enum result recompute_page(struct pgw *x, struct sla_recompute *rc, int64_t now,
				  int64_t after, struct sla_batch *b, int *n, int64_t *last,
				  struct err *e)
{
	struct pgq q;
	PGresult *res;
	enum result r = RC_OK;

	*n = 0;
	pgq_init(&q, "SELECT s.ticket_id, coalesce(s.policy_id, 0), s.log,"
		 " coalesce(s.response_due, 0), coalesce(s.resolution_due, 0),"
		 " s.response_breached, s.resolution_breached, s.paused, s.response_ms,"
		 " s.resolution_ms, s.t1_ms, s.t2_ms, s.t3_ms, s.ola_breached, s.as_of,"
		 " s.fired, coalesce(s.next_at, 0) FROM ticket_sla s JOIN tickets t"
		 " ON t.id = s.ticket_id WHERE s.ticket_id > :after AND s.policy_id IS NOT NULL"
		 " AND t.status NOT IN ('resolved', 'closed') ORDER BY s.ticket_id LIMIT :limit");
	pgq_i64(&q, ":after", after);
	pgq_i64(&q, ":limit", RECOMPUTE_PAGE);
	res = pgw_run(x, &q, NULL, "ticket SLA", e);
	pgq_release(&q);
	if (!res)
		return e->code;
	*n = PQntuples(res);
	for (int i = 0; i < *n && r == RC_OK; i++) {
		struct ticket_sla row;
		int64_t tid = pg_i64(res, i, 0);
		*last = tid;
		sla_row(res, i, 1, &row);
		rc->seen++;
		if (!rc->fn(rc->arg, now, &row))
			continue;
		rc->changed++;
		if (batch_add(b, tid, &row) != RC_OK)
			r = err_set(e, RC_NOMEM, NULL, "out of memory");
		else if (b->log.len >= BATCH_LOG_FLUSH)
			r = batch_flush(x, b, e);
	}
	/* The logs in the batch point into res: written before it goes. */
	if (r == RC_OK)
		r = batch_flush(x, b, e);
	PQclear(res);
	return r;
}

enum result pgt_sla_recompute(struct pgw *x, struct sla_recompute *rc, struct err *e)
{
	struct sla_batch b;
	int64_t after = 0, now = clock_now_ms();
	enum result r = RC_OK;
	int n = RECOMPUTE_PAGE;

	rc->seen = rc->changed = 0;
	batch_init(&b);
	while (r == RC_OK && n == RECOMPUTE_PAGE)
		r = recompute_page(x, rc, now, after, &b, &n, &after, e);
	batch_release(&b);
	return r;
}

enum result pgt_sla_due(struct store *st, int64_t now, size_t max, struct arena *a,
			struct ticket_list *out, struct err *e)
{
	struct buf sql = BUF_INIT(SQL_MAX);
	struct pgq q;
	enum result r;

	out->next_before = 0;
	out->n = 0;
	out->items = arena_alloc(a, sizeof(struct ticket) * (max ? max : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* Ties in SQLite's order of the index on next_at: the ticket id. */
	if (buf_appends(&sql, pgt_ticket_select()) != RC_OK ||
	    buf_appends(&sql, " WHERE s.next_at IS NOT NULL AND s.next_at <= :now"
			" ORDER BY s.next_at, s.ticket_id LIMIT :limit") != RC_OK) {
		buf_release(&sql);
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	pgq_init(&q, buf_str(&sql));
	pgq_i64(&q, ":now", now);
	pgq_i64(&q, ":limit", (int64_t)max);
	r = pgr_rows(st, &q, a, out->items, sizeof(struct ticket), max, &out->n, pgt_row_ticket_at,
		     e);
	pgq_release(&q);
	buf_release(&sql);
	return r;
}

/* ---- policies ----------------------------------------------------------------------------- */

static void row_policy(const PGresult *r, int i, struct arena *a, void *item)
{
	struct sla_policy_row *p = item;

	p->id = pg_i64(r, i, 0);
	p->name = pg_str(r, i, 1, a);
	p->calendar_id = pg_i64(r, i, 2);
	p->calendars = pg_str(r, i, 3, a);
	p->targets = pg_str(r, i, 4, a);
	p->pause_statuses = pg_str(r, i, 5, a);
	p->warn_at = pg_str(r, i, 6, a);
	p->tier_targets = pg_str(r, i, 7, a);
	p->actions = pg_str(r, i, 8, a);
	p->is_default = pg_i64(r, i, 9) != 0;
	p->version = pg_i64(r, i, 10);
	p->created_at = pg_i64(r, i, 11);
	p->updated_at = pg_i64(r, i, 12);
}

enum result pgt_sla_policy_get(struct store *st, int64_t id, struct arena *a,
			       struct sla_policy_row *out, struct err *e)
{
	return read_by_id(st, "SELECT " POLICY_COLS " FROM sla_policies WHERE id = :id", id, a,
			  out, row_policy, "SLA policy", e);
}

enum result pgt_sla_policy_list(struct store *st, struct arena *a, struct sla_policy_row **items,
				size_t *n, struct err *e)
{
	void *arr = NULL;
	enum result r = read_all(st, "SELECT " POLICY_COLS " FROM sla_policies ORDER BY id"
				 " LIMIT :limit", POLICIES_MAX, sizeof(struct sla_policy_row),
				 row_policy, a, &arr, n, e);

	*items = arr;
	return r;
}

/* is_default: the default moves here (the others' flags cleared first,
 * in the write's savepoint: the move is all or nothing). */
static enum result policy_clear_default(struct pgw *x, struct store_write *w)
{
	struct pgq q;
	enum result r;

	pgq_init(&q, "UPDATE sla_policies SET is_default = 0 WHERE is_default = 1 AND id <> :id");
	pgq_i64(&q, ":id", w->in.policy.id);
	r = pgw_do(x, &q, NULL, "SLA policy", &w->err);
	pgq_release(&q);
	return r;
}

enum result pgt_sla_policy_put(struct pgw *x, struct store_write *w)
{
	const struct sla_policy_row *p = &w->in.policy;
	struct pgq q;
	PGresult *res;
	enum result r;
	bool found;

	w->id = p->id;
	w->version = 0;
	r = config_write_begin(x, w, "only provider staff manage SLA policies");
	if (r != RC_OK)
		return r;
	r = w_exists(x, "SELECT 1 FROM calendars WHERE id = :id", p->calendar_id, "calendar",
		     &found, &w->err);
	if (r != RC_OK)
		return r;
	if (!found)
		return err_set(&w->err, RC_INVALID, "calendar_id", "is not a calendar");
	if (p->is_default && (r = policy_clear_default(x, w)) != RC_OK)
		return r;
	pgq_init(&q, p->id ? "UPDATE sla_policies SET name = :name, calendar_id = :cal, calendars = :cals,"
			     " targets = :targets, pause_statuses = :pause, warn_at = :warn,"
			     " tier_targets = :tiers, actions = :actions, is_default = :def,"
			     " version = version + 1, updated_at = :now"
			     " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			   : "INSERT INTO sla_policies (name, calendar_id, calendars, targets, pause_statuses,"
			     " warn_at, tier_targets, actions, is_default, created_at, updated_at) VALUES"
			     " (:name, :cal, :cals, :targets, :pause, :warn, :tiers, :actions, :def, :now,"
			     " :now) RETURNING id");
	pgq_i64(&q, ":id", p->id);
	pgq_i64(&q, ":version", w->if_version);
	pgq_txt(&q, ":name", p->name);
	pgq_i64(&q, ":cal", p->calendar_id);
	pgq_txt(&q, ":cals", p->calendars);
	pgq_txt(&q, ":targets", p->targets);
	pgq_txt(&q, ":pause", p->pause_statuses);
	pgq_txt(&q, ":warn", p->warn_at);
	pgq_txt(&q, ":tiers", p->tier_targets);
	pgq_txt(&q, ":actions", p->actions);
	pgq_i64(&q, ":def", p->is_default ? 1 : 0);
	pgq_i64(&q, ":now", clock_now_ms());
	res = pgw_run(x, &q, "name", "SLA policy", &w->err);
	pgq_release(&q);
	if (!res)
		return w->err.code;
	return put_done(w, res, p->id, "SLA policy");
}

enum result pgt_sla_policy_for(struct store *st, int64_t client_id, const char *day,
			       int64_t *policy_id, struct err *e)
{
	struct pgq q;
	enum result r;

	*policy_id = 0;
	/* Dates compare byte by byte, as SQLite's BINARY collation does. */
	pgq_init(&q, "SELECT coalesce((SELECT sla_policy_id FROM contracts WHERE tenant_id = :cid"
		 " AND sla_policy_id IS NOT NULL AND starts_on COLLATE \"C\" <= :day"
		 " AND (ends_on IS NULL OR ends_on COLLATE \"C\" >= :day)"
		 " ORDER BY starts_on COLLATE \"C\" DESC, id DESC LIMIT 1),"
		 " (SELECT id FROM sla_policies WHERE is_default = 1), 0)");
	pgq_i64(&q, ":cid", client_id);
	pgq_txt(&q, ":day", day);
	r = pgr_one(st, &q, NULL, policy_id, row_i64, "contracts", e);
	pgq_release(&q);
	if (r != RC_OK)
		*policy_id = 0;
	return r;
}

/* ---- contracts ---------------------------------------------------------------------------- */

static void row_contract(const PGresult *r, int i, struct arena *a, void *item)
{
	struct contract_row *c = item;

	c->id = pg_i64(r, i, 0);
	c->client_id = pg_i64(r, i, 1);
	c->name = pg_str(r, i, 2, a);
	c->sla_policy_id = pg_i64(r, i, 3);
	c->model = pg_str(r, i, 4, a);
	c->starts_on = pg_str(r, i, 5, a);
	c->ends_on = pg_str(r, i, 6, a);
	c->notes = pg_str(r, i, 7, a);
	c->version = pg_i64(r, i, 8);
	c->created_at = pg_i64(r, i, 9);
	c->updated_at = pg_i64(r, i, 10);
}

/* Client roles see their own organisation's contracts only. */
static const char *contract_vis(const struct scope *sc)
{
	return sc->all_tenants ? "" : " AND c.tenant_id = :scope";
}

enum result pgt_contract_get(struct store *st, const struct scope *sc, int64_t id,
			     struct arena *a, struct contract_row *out, struct err *e)
{
	char sql[1024];
	struct pgq q;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " CONTRACT_COLS " FROM contracts c WHERE c.id = :id%s",
		 contract_vis(sc));
	pgq_init(&q, sql);
	pgq_i64(&q, ":id", id);
	pgq_scope(&q, sc);
	r = pgr_one(st, &q, a, out, row_contract, "contract", e);
	pgq_release(&q);
	return r;
}

enum result pgt_contract_list(struct store *st, const struct scope *sc, const struct list_q *lq,
			      struct arena *a, struct contract_row **items, size_t *n,
			      int64_t *next_after, struct err *e)
{
	char sql[1024];
	int limit = lq->limit > 0 && lq->limit <= CONTRACTS_MAX ? lq->limit : 100;
	struct pgq q;
	enum result r;

	*next_after = 0;
	*n = 0;
	*items = arena_alloc(a, sizeof(struct contract_row) * (size_t)(limit + 1));
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " CONTRACT_COLS " FROM contracts c WHERE c.id > :after%s%s"
		 " ORDER BY c.id LIMIT :limit", contract_vis(sc),
		 lq->client_id ? " AND c.tenant_id = :client" : "");
	pgq_init(&q, sql);
	pgq_i64(&q, ":after", lq->after);
	pgq_i64(&q, ":client", lq->client_id);
	pgq_i64(&q, ":limit", limit + 1);
	pgq_scope(&q, sc);
	r = pgr_rows(st, &q, a, *items, sizeof(struct contract_row), (size_t)limit + 1, n,
		     row_contract, e);
	pgq_release(&q);
	if (r == RC_OK && *n > (size_t)limit) {
		*n = (size_t)limit;
		*next_after = (*items)[limit - 1].id;
	}
	return r;
}

enum result pgt_contract_put(struct pgw *x, struct store_write *w)
{
	const struct contract_row *c = &w->in.contract;
	struct pgq q;
	PGresult *res;
	enum result r;
	bool found;

	w->id = c->id;
	w->version = 0;
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage contracts");
	r = pgw_tenant_visible(x, &w->scope, c->client_id, &w->err);
	if (r != RC_OK)
		return r == RC_NOTFOUND ? err_set(&w->err, RC_INVALID, "client_id", "is not a client") : r;
	if (c->sla_policy_id) {
		r = w_exists(x, "SELECT 1 FROM sla_policies WHERE id = :id", c->sla_policy_id,
			     "SLA policy", &found, &w->err);
		if (r != RC_OK)
			return r;
		if (!found)
			return err_set(&w->err, RC_INVALID, "sla_policy_id", "is not an SLA policy");
	}
	pgq_init(&q, c->id ? "UPDATE contracts SET tenant_id = :tenant, name = :name, sla_policy_id = :policy,"
			     " model = :model, starts_on = :starts, ends_on = :ends, notes = :notes,"
			     " version = version + 1, updated_at = :now"
			     " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			   : "INSERT INTO contracts (tenant_id, name, sla_policy_id, model, starts_on, ends_on,"
			     " notes, created_at, updated_at) VALUES (:tenant, :name, :policy, :model, :starts,"
			     " :ends, :notes, :now, :now) RETURNING id");
	pgq_i64(&q, ":id", c->id);
	pgq_i64(&q, ":version", w->if_version);
	pgq_i64(&q, ":tenant", c->client_id);
	pgq_txt(&q, ":name", c->name);
	pgq_ref(&q, ":policy", c->sla_policy_id);
	pgq_txt(&q, ":model", c->model);
	pgq_txt(&q, ":starts", c->starts_on);
	pgq_txt(&q, ":ends", c->ends_on);
	pgq_txt(&q, ":notes", c->notes);
	pgq_i64(&q, ":now", clock_now_ms());
	res = pgw_run(x, &q, NULL, "contract", &w->err);
	pgq_release(&q);
	w->audit.tenant_id = c->client_id;
	if (!res)
		return w->err.code;
	return put_done(w, res, c->id, "contract");
}
