/*
 * store_pg_sched.c: report schedules on PostgreSQL (migrations-pg/0009;
 * docs/REPORTS.md "Scheduled delivery"): the port of
 * store_sqlite_sched.c (read the two side by side), with the same
 * contracts (store_int.h's sqsch_* functions) and the same invariants:
 *
 *  1. A period is claimed once: one UPDATE whose WHERE says "enabled, and
 *     no period sent that ends on or after this one's end"
 *     (last_period_to), and the outbox row only when it changed the row. Two servers' claims of one period meet on the row:
 *     the second one's UPDATE (SERIALIZABLE, after the first committed)
 *     finds the condition false, or its transaction is doomed and runs
 *     again and then finds it false: RC_CONFLICT "period" either way.
 *  2. The outbox row carries what to send, never the document.
 *  3. Reads carry the tenant predicate; writes need an all-tenant scope.
 *  4. The job writes only on the version it decided on (AND version =
 *     :v): a concurrent edit is never overwritten.
 *
 * What differs from SQLite: ids come back with RETURNING (no
 * last_insert_rowid), and a batch may run again, so every result (w->id,
 * w->version) is set in every pass.
 */
#include "base/common.h"

#include <stdlib.h>

#include "base/clock.h"
#include "store/store.h"
#include "store/store_sql.h"
#include "store/store_pg_int.h"

#define LIST_MAX 500
#define LIST_DEFAULT 50

static enum result only_staff(struct store_write *w)
{
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage report schedules");
	return RC_OK;
}

/* Runs q (released) on the writer: *found whether it gave a row, v[0..n)
 * its first n columns (as int64). */
static enum result run_row(struct pgw *x, struct pgq *q, bool *found, int64_t *v, int n,
			   const char *what, struct err *e)
{
	PGresult *r = pgw_run(x, q, NULL, what, e);

	pgq_release(q);
	*found = false;
	if (!r)
		return e->code;
	*found = PQntuples(r) > 0;
	for (int i = 0; *found && i < n; i++)
		v[i] = pg_i64(r, 0, i);
	PQclear(r);
	return RC_OK;
}

/* ---- writes ------------------------------------------------------------------------------------ */

/* A conditional write of schedule id changed no row: RC_STALE when it is
 * there (another version), else RC_NOTFOUND. */
static enum result missed(struct pgw *x, struct store_write *w, int64_t id)
{
	struct pgq q;
	bool found;
	enum result r;

	pgq_init(&q, "SELECT 1 FROM report_schedules WHERE id = :id");
	pgq_i64(&q, ":id", id);
	r = run_row(x, &q, &found, NULL, 0, "report schedule", &w->err);
	if (r != RC_OK)
		return r;
	if (found)
		return err_set(&w->err, RC_STALE, NULL, "the report schedule was changed by someone"
			       " else; reload it and try again");
	return err_set(&w->err, RC_NOTFOUND, NULL, "report schedule not found");
}

enum result pgsch_put(struct pgw *x, struct store_write *w)
{
	const struct report_schedule *s = &w->in.sched;
	int64_t v[3] = { 0, 0, 0 };
	struct pgq q;
	bool found;
	enum result r = only_staff(w);

	w->id = 0;
	w->version = 0;
	if (r == RC_OK && !s->id)
		r = pgw_tenant_visible(x, &w->scope, s->client_id, &w->err);
	if (r != RC_OK)
		return r;
	pgq_init(&q, s->id ? "UPDATE report_schedules SET cadence = :cadence, recipients = :rcpt, csv = :csv,"
			     " hour = :hour, enabled = :enabled, next_at = :next,"
			     " counts_from = coalesce(nullif(:counts, 0), counts_from), updated_at = :now,"
			     " version = version + 1 WHERE id = :id AND (:version = 0 OR version = :version)"
			     " RETURNING version, tenant_id, id"
			   : "INSERT INTO report_schedules (tenant_id, cadence, recipients, csv, hour, enabled,"
			     " next_at, counts_from, created_by, created_at, updated_at) VALUES (:tenant,"
			     " :cadence, :rcpt, :csv, :hour, :enabled, :next, coalesce(nullif(:counts, 0), :now),"
			     " :by, :now, :now) RETURNING version, tenant_id, id");
	pgq_i64(&q, ":id", s->id);
	pgq_i64(&q, ":version", w->if_version);
	pgq_i64(&q, ":tenant", s->client_id);
	pgq_txt(&q, ":cadence", s->cadence);
	pgq_txt(&q, ":rcpt", s->recipients);
	pgq_i64(&q, ":csv", s->csv ? 1 : 0);
	pgq_i64(&q, ":hour", s->hour);
	pgq_i64(&q, ":enabled", s->enabled ? 1 : 0);
	pgq_i64(&q, ":next", s->next_at);
	pgq_i64(&q, ":counts", s->counts_from);
	pgq_i64(&q, ":by", w->scope.user_id);
	pgq_i64(&q, ":now", clock_now_ms());
	r = run_row(x, &q, &found, v, 3, "report schedule", &w->err);
	if (r != RC_OK)
		return r;
	if (!found)
		return missed(x, w, s->id);   /* only an update misses: another version, or none */
	w->version = v[0];
	w->audit.tenant_id = v[1];
	w->id = v[2];
	return RC_OK;
}

enum result pgsch_delete(struct pgw *x, struct store_write *w)
{
	int64_t tenant = 0;
	struct pgq q;
	bool found;
	enum result r = only_staff(w);

	if (r != RC_OK)
		return r;
	pgq_init(&q, "DELETE FROM report_schedules WHERE id = :id RETURNING tenant_id");
	pgq_i64(&q, ":id", w->id);
	r = run_row(x, &q, &found, &tenant, 1, "report schedule", &w->err);
	if (r != RC_OK)
		return r;
	if (!found)
		return err_set(&w->err, RC_NOTFOUND, NULL, "report schedule not found");
	w->audit.tenant_id = tenant;
	return RC_OK;
}

/* The outbox row of a schedule's client: event and payload; its id in
 * w->id. */
static enum result outbox_put(struct pgw *x, struct store_write *w, int64_t tenant, int64_t now)
{
	struct pgq q;
	bool found;
	enum result r;

	if (!w->in.claim.event || !w->in.claim.payload)
		return err_set(&w->err, RC_INVALID, "payload", "is required");
	pgq_init(&q, "INSERT INTO outbox (tenant_id, event, ticket_id, payload, next_attempt_at,"
		 " created_at) VALUES (:tenant, :event, NULL, :payload, :now, :now) RETURNING id");
	pgq_i64(&q, ":tenant", tenant);
	pgq_txt(&q, ":event", w->in.claim.event);
	pgq_txt(&q, ":payload", w->in.claim.payload);
	pgq_i64(&q, ":now", now);
	r = run_row(x, &q, &found, &w->id, 1, "outbox", &w->err);
	if (r == RC_OK && !found)
		r = err_set(&w->err, RC_IO, NULL, "outbox: no id returned");
	if (r == RC_OK)
		w->audit.tenant_id = tenant;
	return r;
}

enum result pgsch_claim(struct pgw *x, struct store_write *w)
{
	__typeof__(w->in.claim) *c = &w->in.claim;
	int64_t now = c->now ? c->now : clock_now_ms(), tenant = 0;
	struct pgq q;
	bool found;
	enum result r = only_staff(w);

	w->id = 0;
	if (r != RC_OK)
		return r;
	if (!c->period) {
		/* Invariant 4: only on the version the job read. */
		pgq_init(&q, "UPDATE report_schedules SET next_at = :next WHERE id = :id"
			 " AND (:v = 0 OR version = :v) RETURNING id");
		pgq_i64(&q, ":next", c->next_at);
		pgq_i64(&q, ":id", c->id);
		pgq_i64(&q, ":v", c->version);
		r = run_row(x, &q, &found, NULL, 0, "report schedule", &w->err);
		if (r == RC_OK && !found)
			return missed(x, w, c->id);
		return r;
	}
	if (!c->period_to)
		return err_set(&w->err, RC_INVALID, "period_to", "is required");
	/* Invariants 1 and 4: the claim. */
	pgq_init(&q, "UPDATE report_schedules SET last_period_sent = :period, last_period_to = :to,"
		 " last_sent_at = :now, next_at = :next WHERE id = :id AND enabled = 1"
		 " AND (:v = 0 OR version = :v) AND (last_period_to IS NULL OR last_period_to < :to)"
		 " RETURNING tenant_id");
	pgq_txt(&q, ":period", c->period);
	pgq_txt(&q, ":to", c->period_to);
	pgq_i64(&q, ":v", c->version);
	pgq_i64(&q, ":now", now);
	pgq_i64(&q, ":next", c->next_at);
	pgq_i64(&q, ":id", c->id);
	r = run_row(x, &q, &found, &tenant, 1, "report schedule", &w->err);
	if (r != RC_OK)
		return r;
	if (!found)
		return err_set(&w->err, RC_CONFLICT, "period", "the period was sent already (or the"
			       " schedule is switched off or gone)");
	return outbox_put(x, w, tenant, now);
}

enum result pgsch_send(struct pgw *x, struct store_write *w)
{
	__typeof__(w->in.claim) *c = &w->in.claim;
	int64_t tenant = 0;
	struct pgq q;
	bool found;
	enum result r = only_staff(w);

	w->id = 0;
	if (r != RC_OK)
		return r;
	pgq_init(&q, "SELECT tenant_id FROM report_schedules WHERE id = :id AND (:all OR tenant_id = :cid)");
	pgq_i64(&q, ":id", c->id);
	pgq_bool(&q, ":all", w->scope.all_tenants);
	pgq_i64(&q, ":cid", w->scope.client_id);
	r = run_row(x, &q, &found, &tenant, 1, "report schedule", &w->err);
	if (r != RC_OK)
		return r;
	if (!found)
		return err_set(&w->err, RC_NOTFOUND, NULL, "report schedule not found");
	return outbox_put(x, w, tenant, c->now ? c->now : clock_now_ms());
}

/* An outbox row whose expansion failed (W_OUTBOX_DEFER): attempts + 1,
 * pending again later or failed. */
enum result pgsch_outbox_defer(struct pgw *x, struct store_write *w)
{
	__typeof__(w->in.dres) *d = &w->in.dres;
	int64_t tenant = 0;
	struct pgq q;
	bool found;
	enum result r;

	w->id = 0;
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only the system puts outbox rows back");
	if (!d->state || (strcmp(d->state, "pending") && strcmp(d->state, "failed")))
		return err_set(&w->err, RC_INVALID, "state", "must be pending or failed");
	pgq_init(&q, "UPDATE outbox SET attempts = attempts + 1, state = :state,"
		 " next_attempt_at = CASE WHEN :next > 0 THEN :next ELSE next_attempt_at END"
		 " WHERE id = :id AND state = 'pending' RETURNING tenant_id");
	pgq_txt(&q, ":state", d->state);
	pgq_i64(&q, ":next", d->next_attempt_at);
	pgq_i64(&q, ":id", d->id);
	r = run_row(x, &q, &found, &tenant, 1, "outbox", &w->err);
	if (r != RC_OK)
		return r;
	if (!found)
		return err_set(&w->err, RC_CONFLICT, "outbox", "the outbox row is not pending");
	w->id = d->id;
	w->audit.tenant_id = tenant;
	return RC_OK;
}

/* ---- reads ------------------------------------------------------------------------------------- */

static void row_schedule(const PGresult *r, int i, struct arena *a, void *item)
{
	struct report_schedule *x = item;

	memset(x, 0, sizeof(*x));
	x->id = pg_i64(r, i, 0);
	x->client_id = pg_i64(r, i, 1);
	x->cadence = pg_str(r, i, 2, a);
	x->recipients = pg_str(r, i, 3, a);
	x->csv = pg_i64(r, i, 4) != 0;
	x->enabled = pg_i64(r, i, 5) != 0;
	x->hour = pg_int(r, i, 6);
	x->last_period_sent = pg_str(r, i, 7, a);
	x->last_sent_at = pg_i64(r, i, 8);
	x->next_at = pg_i64(r, i, 9);
	x->created_by = pg_i64(r, i, 10);
	x->created_at = pg_i64(r, i, 11);
	x->updated_at = pg_i64(r, i, 12);
	x->version = pg_i64(r, i, 13);
	x->client_name = pg_str(r, i, 14, a);
	x->last_period_to = pg_str(r, i, 15, a);
	x->counts_from = pg_i64(r, i, 16);
}

enum result pgsch_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
		      struct report_schedule *out, struct err *e)
{
	struct pgq q;
	enum result r;

	pgq_init(&q, "SELECT " SCHEDULE_COLS SCHEDULE_FROM " WHERE s.id = :id"
		 " AND (:all OR s.tenant_id = :cid)");
	pgq_i64(&q, ":id", id);
	pgq_bool(&q, ":all", sc->all_tenants);
	pgq_i64(&q, ":cid", sc->client_id);
	r = pgr_one(st, &q, a, out, row_schedule, "report schedule", e);
	pgq_release(&q);
	return r;
}

/* Runs q (released) for up to limit + 1 rows: more than limit means
 * another page. */
static enum result read_page(struct store *st, struct pgq *q, int limit, struct arena *a,
			     struct report_schedule_list *out, struct err *e)
{
	enum result r;

	out->n = 0;
	out->next_after = 0;
	pgq_i64(q, ":limit", limit + 1);
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(limit + 1));
	if (!out->items) {
		pgq_release(q);
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	r = pgr_rows(st, q, a, out->items, sizeof(*out->items), (size_t)limit + 1, &out->n,
		     row_schedule, e);
	pgq_release(q);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

enum result pgsch_list(struct store *st, const struct scope *sc, const struct list_q *lq,
		       struct arena *a, struct report_schedule_list *out, struct err *e)
{
	int limit = lq->limit <= 0 ? LIST_DEFAULT : lq->limit > LIST_MAX ? LIST_MAX : lq->limit;
	struct pgq q;

	pgq_init(&q, "SELECT " SCHEDULE_COLS SCHEDULE_FROM " WHERE s.id > :after"
		 " AND (:all OR s.tenant_id = :cid) AND (:client = 0 OR s.tenant_id = :client)"
		 " ORDER BY s.id LIMIT :limit");
	pgq_i64(&q, ":after", lq->after);
	pgq_bool(&q, ":all", sc->all_tenants);
	pgq_i64(&q, ":cid", sc->client_id);
	pgq_i64(&q, ":client", lq->client_id);
	return read_page(st, &q, limit, a, out, e);
}

enum result pgsch_due(struct store *st, int64_t now, size_t max, struct arena *a,
		      struct report_schedule_list *out, struct err *e)
{
	struct pgq q;
	enum result r;

	/* The partial index report_schedules_due (enabled = 1) serves it. */
	pgq_init(&q, "SELECT " SCHEDULE_COLS SCHEDULE_FROM " WHERE s.enabled = 1"
		 " AND s.next_at <= :now ORDER BY s.next_at, s.id LIMIT :limit");
	pgq_i64(&q, ":now", now);
	r = read_page(st, &q, max < 1 ? 1 : max > LIST_MAX ? LIST_MAX : (int)max, a, out, e);
	out->next_after = 0;   /* not a keyset: the caller reads again after its claims */
	return r;
}
