/*
 * store_sqlite_sched.c: report schedules on SQLite (0009; docs/REPORTS.md
 * "Scheduled delivery"): the schedules an admin keeps, the job's claim of
 * a period, the outbox rows both write, and an outbox row put back when
 * its expansion failed (W_OUTBOX_DEFER: a pack that could not be built).
 *
 * Invariants
 *  1. A period is claimed once. The claim is one UPDATE whose WHERE says
 *     "enabled, and no period sent that ends on or after this one's end"
 *     (last_period_to: a cadence change never resends what a longer
 *     period already covered); its outbox row is written in the same
 *     savepoint only when that UPDATE changed the row, so a second claim of the same period (another pass, another server)
 *     changes nothing and answers RC_CONFLICT "period".
 *  2. The outbox row carries what to send (period, recipients, formats),
 *     never the document: the dispatcher builds it when it expands the
 *     row (src/notify/review_mail.c), outside the writer.
 *  3. Schedules are the provider's configuration about a client: reads
 *     carry the tenant predicate like every tenant-owned row (another
 *     client's schedule does not exist), writes need an all-tenant scope.
 *  4. The job writes only on the version it decided on (AND version =
 *     :v): an edit that landed after its read is never overwritten (the
 *     write changes nothing and the next pass reads the edit). Its own
 *     writes (the claim, next_at) do not move the version.
 */
#include "base/common.h"

#include "base/clock.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sql.h"

#define LIST_MAX 500
#define LIST_DEFAULT 50

static enum result only_staff(struct store_write *w)
{
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage report schedules");
	return RC_OK;
}

/* ---- writes ------------------------------------------------------------------------------------ */

/* A conditional write of schedule id changed no row: RC_STALE when it is
 * there (another version), else RC_NOTFOUND. */
static enum result missed(struct sq *s, struct store_write *w, int64_t id)
{
	sqlite3_stmt *e = wq(s, "SELECT 1 FROM report_schedules WHERE id = :id", &w->err);
	int rc;

	if (!e)
		return RC_IO;
	bind_i64(e, ":id", id);
	rc = sqlite3_step(e);
	stmt_done(e);
	if (rc == SQLITE_ROW)
		return err_set(&w->err, RC_STALE, NULL, "the report schedule was changed by someone"
			       " else; reload it and try again");
	if (rc != SQLITE_DONE)
		return step_error(s, rc, NULL, "report schedule", &w->err);
	return err_set(&w->err, RC_NOTFOUND, NULL, "report schedule not found");
}

enum result sqsch_put(struct sq *s, struct store_write *w)
{
	const struct report_schedule *x = &w->in.sched;
	int64_t now = clock_now_ms(), tenant = 0;
	sqlite3_stmt *q;
	enum result r = only_staff(w);
	int rc;

	if (r == RC_OK && !x->id)
		r = tenant_visible(s, &w->scope, x->client_id, &w->err);
	if (r != RC_OK)
		return r;
	q = wq(s, x->id ? "UPDATE report_schedules SET cadence = :cadence, recipients = :rcpt, csv = :csv,"
			  " hour = :hour, enabled = :enabled, next_at = :next,"
			  " counts_from = coalesce(nullif(:counts, 0), counts_from), updated_at = :now,"
			  " version = version + 1 WHERE id = :id AND (:version = 0 OR version = :version)"
			  " RETURNING version, tenant_id"
			: "INSERT INTO report_schedules (tenant_id, cadence, recipients, csv, hour, enabled,"
			  " next_at, counts_from, created_by, created_at, updated_at) VALUES (:tenant, :cadence,"
			  " :rcpt, :csv, :hour, :enabled, :next, coalesce(nullif(:counts, 0), :now), :by, :now,"
			  " :now) RETURNING version, tenant_id", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", x->id);
	bind_i64(q, ":version", w->if_version);
	bind_i64(q, ":tenant", x->client_id);
	bind_txt(q, ":cadence", x->cadence);
	bind_txt(q, ":rcpt", x->recipients);
	bind_i64(q, ":csv", x->csv ? 1 : 0);
	bind_i64(q, ":hour", x->hour);
	bind_i64(q, ":enabled", x->enabled ? 1 : 0);
	bind_i64(q, ":next", x->next_at);
	bind_i64(q, ":counts", x->counts_from);
	bind_i64(q, ":by", w->scope.user_id);
	bind_i64(q, ":now", now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		w->version = sqlite3_column_int64(q, 0);
		tenant = sqlite3_column_int64(q, 1);
	}
	stmt_done(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return step_error(s, rc, NULL, "report schedule", &w->err);
	if (rc == SQLITE_DONE)
		return missed(s, w, x->id);   /* only an update misses: another version, or none */
	w->id = x->id ? x->id : sqlite3_last_insert_rowid(s->wdb);
	w->audit.tenant_id = tenant;
	return RC_OK;
}

enum result sqsch_delete(struct sq *s, struct store_write *w)
{
	sqlite3_stmt *q;
	enum result r = only_staff(w);
	int rc;

	if (r != RC_OK)
		return r;
	q = wq(s, "DELETE FROM report_schedules WHERE id = :id RETURNING tenant_id", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", w->id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		w->audit.tenant_id = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return err_set(&w->err, RC_NOTFOUND, NULL, "report schedule not found");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "report schedule", &w->err);
	return RC_OK;
}

/* The outbox row of a schedule's client: event and payload; its id in
 * w->id. */
static enum result outbox_put(struct sq *s, struct store_write *w, int64_t tenant, int64_t now)
{
	sqlite3_stmt *q = wq(s, "INSERT INTO outbox (tenant_id, event, ticket_id, payload, next_attempt_at,"
			     " created_at) VALUES (:tenant, :event, NULL, :payload, :now, :now)", &w->err);
	enum result r;

	if (!q)
		return RC_IO;
	if (!w->in.claim.event || !w->in.claim.payload)
		return err_set(&w->err, RC_INVALID, "payload", "is required");
	bind_i64(q, ":tenant", tenant);
	bind_txt(q, ":event", w->in.claim.event);
	bind_txt(q, ":payload", w->in.claim.payload);
	bind_i64(q, ":now", now);
	r = wstep(s, q, NULL, "outbox", &w->err);
	if (r != RC_OK)
		return r;
	w->id = sqlite3_last_insert_rowid(s->wdb);
	w->audit.tenant_id = tenant;
	return RC_OK;
}

enum result sqsch_claim(struct sq *s, struct store_write *w)
{
	__typeof__(w->in.claim) *c = &w->in.claim;
	int64_t now = c->now ? c->now : clock_now_ms(), tenant = 0;
	sqlite3_stmt *q;
	enum result r = only_staff(w);
	int rc;

	if (r != RC_OK)
		return r;
	if (!c->period) {
		/* Invariant 4: only on the version the job read. */
		q = wq(s, "UPDATE report_schedules SET next_at = :next WHERE id = :id"
		       " AND (:v = 0 OR version = :v)", &w->err);
		if (!q)
			return RC_IO;
		bind_i64(q, ":next", c->next_at);
		bind_i64(q, ":id", c->id);
		bind_i64(q, ":v", c->version);
		r = wstep(s, q, NULL, "report schedule", &w->err);
		if (r == RC_OK && sqlite3_changes(s->wdb) != 1)
			return missed(s, w, c->id);
		return r;
	}
	if (!c->period_to)
		return err_set(&w->err, RC_INVALID, "period_to", "is required");
	/* Invariants 1 and 4: the claim. */
	q = wq(s, "UPDATE report_schedules SET last_period_sent = :period, last_period_to = :to,"
	       " last_sent_at = :now, next_at = :next WHERE id = :id AND enabled = 1"
	       " AND (:v = 0 OR version = :v) AND (last_period_to IS NULL OR last_period_to < :to)"
	       " RETURNING tenant_id", &w->err);
	if (!q)
		return RC_IO;
	bind_txt(q, ":period", c->period);
	bind_txt(q, ":to", c->period_to);
	bind_i64(q, ":v", c->version);
	bind_i64(q, ":now", now);
	bind_i64(q, ":next", c->next_at);
	bind_i64(q, ":id", c->id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		tenant = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return err_set(&w->err, RC_CONFLICT, "period", "the period was sent already (or the"
			       " schedule is switched off or gone)");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "report schedule", &w->err);
	return outbox_put(s, w, tenant, now);
}

enum result sqsch_send(struct sq *s, struct store_write *w)
{
	__typeof__(w->in.claim) *c = &w->in.claim;
	sqlite3_stmt *q;
	int64_t tenant = 0;
	enum result r = only_staff(w);
	int rc;

	if (r != RC_OK)
		return r;
	q = wq(s, "SELECT tenant_id FROM report_schedules WHERE id = :id AND (:all OR tenant_id = :cid)",
	       &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", c->id);
	bind_i64(q, ":all", w->scope.all_tenants ? 1 : 0);
	bind_i64(q, ":cid", w->scope.client_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		tenant = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return err_set(&w->err, RC_NOTFOUND, NULL, "report schedule not found");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "report schedule", &w->err);
	return outbox_put(s, w, tenant, c->now ? c->now : clock_now_ms());
}

/* An outbox row whose expansion failed (W_OUTBOX_DEFER; a review pack
 * that could not be built now): attempts + 1, pending again later or
 * failed, so the dispatcher does not rebuild it on every pass. */
enum result sqsch_outbox_defer(struct sq *s, struct store_write *w)
{
	__typeof__(w->in.dres) *d = &w->in.dres;
	sqlite3_stmt *q;
	int64_t tenant = 0;
	int rc;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only the system puts outbox rows back");
	if (!d->state || (strcmp(d->state, "pending") && strcmp(d->state, "failed")))
		return err_set(&w->err, RC_INVALID, "state", "must be pending or failed");
	q = wq(s, "UPDATE outbox SET attempts = attempts + 1, state = :state,"
	       " next_attempt_at = CASE WHEN :next > 0 THEN :next ELSE next_attempt_at END"
	       " WHERE id = :id AND state = 'pending' RETURNING tenant_id", &w->err);
	if (!q)
		return RC_IO;
	bind_txt(q, ":state", d->state);
	bind_i64(q, ":next", d->next_attempt_at);
	bind_i64(q, ":id", d->id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		tenant = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return err_set(&w->err, RC_CONFLICT, "outbox", "the outbox row is not pending");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "outbox", &w->err);
	w->id = d->id;
	w->audit.tenant_id = tenant;
	return RC_OK;
}

/* ---- reads ------------------------------------------------------------------------------------- */

struct schq {
	const struct scope *sc;
	int64_t id, after, client, now, limit;
};

static void bind_schq(sqlite3_stmt *q, const void *arg)
{
	const struct schq *m = arg;

	if (m->sc) {
		bind_i64(q, ":all", m->sc->all_tenants ? 1 : 0);
		bind_i64(q, ":cid", m->sc->client_id);
	}
	bind_i64(q, ":id", m->id);
	bind_i64(q, ":after", m->after);
	bind_i64(q, ":client", m->client);
	bind_i64(q, ":now", m->now);
	bind_i64(q, ":limit", m->limit);
}

static void row_schedule(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct report_schedule *x = (struct report_schedule *)items + i;

	memset(x, 0, sizeof(*x));
	x->id = sqlite3_column_int64(q, 0);
	x->client_id = sqlite3_column_int64(q, 1);
	x->cadence = col_str(q, 2, a);
	x->recipients = col_str(q, 3, a);
	x->csv = sqlite3_column_int(q, 4) != 0;
	x->enabled = sqlite3_column_int(q, 5) != 0;
	x->hour = sqlite3_column_int(q, 6);
	x->last_period_sent = col_str(q, 7, a);
	x->last_sent_at = sqlite3_column_int64(q, 8);
	x->next_at = sqlite3_column_int64(q, 9);
	x->created_by = sqlite3_column_int64(q, 10);
	x->created_at = sqlite3_column_int64(q, 11);
	x->updated_at = sqlite3_column_int64(q, 12);
	x->version = sqlite3_column_int64(q, 13);
	x->client_name = col_str(q, 14, a);
	x->last_period_to = col_str(q, 15, a);
	x->counts_from = sqlite3_column_int64(q, 16);
}

enum result sqsch_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
		      struct report_schedule *out, struct err *e)
{
	struct schq m = { .sc = sc, .id = id };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " SCHEDULE_COLS SCHEDULE_FROM " WHERE s.id = :id"
				  " AND (:all OR s.tenant_id = :cid)", NULL, bind_schq, &m, row_schedule,
				  a, out, 1, &n, e);

	if (r == RC_OK && !n)
		return err_set(e, RC_NOTFOUND, NULL, "report schedule not found");
	return r;
}

/* Reads up to limit + 1 rows: more than limit means another page. */
static enum result read_page(struct store *st, const char *sql, struct schq *m, int limit,
			     struct arena *a, struct report_schedule_list *out, struct err *e)
{
	enum result r;

	out->n = 0;
	out->next_after = 0;
	m->limit = limit + 1;
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(limit + 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	r = read_rows(st, sql, NULL, bind_schq, m, row_schedule, a, out->items, (size_t)limit + 1,
		      &out->n, e);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

enum result sqsch_list(struct store *st, const struct scope *sc, const struct list_q *lq,
		       struct arena *a, struct report_schedule_list *out, struct err *e)
{
	struct schq m = { .sc = sc, .after = lq->after, .client = lq->client_id };
	int limit = lq->limit <= 0 ? LIST_DEFAULT : lq->limit > LIST_MAX ? LIST_MAX : lq->limit;

	return read_page(st, "SELECT " SCHEDULE_COLS SCHEDULE_FROM " WHERE s.id > :after"
			 " AND (:all OR s.tenant_id = :cid) AND (:client = 0 OR s.tenant_id = :client)"
			 " ORDER BY s.id LIMIT :limit", &m, limit, a, out, e);
}

enum result sqsch_due(struct store *st, int64_t now, size_t max, struct arena *a,
		      struct report_schedule_list *out, struct err *e)
{
	struct schq m = { .now = now };
	enum result r;

	/* The partial index report_schedules_due (enabled = 1) serves it. */
	r = read_page(st, "SELECT " SCHEDULE_COLS SCHEDULE_FROM " WHERE s.enabled = 1"
		      " AND s.next_at <= :now ORDER BY s.next_at, s.id LIMIT :limit", &m,
		      max < 1 ? 1 : max > LIST_MAX ? LIST_MAX : (int)max, a, out, e);
	out->next_after = 0;   /* not a keyset: the caller reads again after its claims */
	return r;
}
