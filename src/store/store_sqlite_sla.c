/*
 * store_sqlite_sla.c: SLA policies, contracts and tickets' SLA rows in
 * SQLite (migrations/0004_sla.sql).
 *
 * Policies are provider configuration (staff scope only). Contracts belong
 * to a client: reads add the tenant predicate for client roles, writes
 * check the client is visible. A ticket's SLA row is written with the
 * ticket (put_extras), in the same savepoint. A recompute (after a
 * calendar or policy edit) runs in the edit's transaction: it reads every
 * open ticket's row, lets the caller's function replay it, and updates the
 * rows that changed, so the edit and its effect commit together.
 */
#include "base/common.h"

#include "base/clock.h"
#include "store/store.h"
#include "store/store_int.h"

#define POLICY_COLS "id, name, calendar_id, calendars, targets, pause_statuses, warn_at," \
	" tier_targets, actions, is_default, version, created_at, updated_at"
#define CONTRACT_COLS "c.id, c.tenant_id, c.name, coalesce(c.sla_policy_id, 0), c.model," \
	" c.starts_on, c.ends_on, c.notes, c.version, c.created_at, c.updated_at"
#define POLICIES_MAX 1000
#define CONTRACTS_MAX 500

/* ---- the SLA configuration generation ----------------------------------------------------- */

#define GEN_SQL "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM settings" \
	" WHERE key = 'sla_generation'), 0)"

static enum result gen_read(sqlite3 *db, sqlite3_stmt *q, int64_t *gen, struct err *e)
{
	int rc = sqlite3_step(q);

	*gen = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	stmt_done(q);
	return rc == SQLITE_ROW ? RC_OK : sq_error(db, rc, e, "settings");
}

enum result sqt_sla_gen_check(struct sq *s, int64_t gen, struct err *e)
{
	sqlite3_stmt *q;
	int64_t cur;
	enum result r;

	if (gen < 0)
		return RC_OK;
	q = wq(s, GEN_SQL, e);
	if (!q)
		return RC_IO;
	r = gen_read(s->wdb, q, &cur, e);
	if (r == RC_OK && cur != gen)
		r = err_set(e, RC_STALE, "sla_generation",
			    "calendars or SLA policies changed meanwhile; computed again");
	return r;
}

enum result sqt_sla_gen_bump(struct sq *s, struct err *e)
{
	sqlite3_stmt *q = wq(s, "INSERT INTO settings (key, value) VALUES ('sla_generation', '1')"
			     " ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1", e);

	if (!q)
		return RC_IO;
	return wstep(s, q, NULL, "settings", e);
}

enum result sqt_sla_generation(struct store *st, int64_t *gen, struct err *e)
{
	struct sq *s = (struct sq *)st;
	struct rconn *c;
	sqlite3_stmt *q;
	enum result r = reader_get(s, &c, e);

	*gen = 0;
	if (r != RC_OK)
		return r;
	q = scache_get(&c->cache, c->db, GEN_SQL, e);
	r = q ? gen_read(c->db, q, gen, e) : RC_IO;
	reader_put(s, c);
	return r;
}

/* ---- tickets' SLA rows ------------------------------------------------------------------ */

static void bind_sla(sqlite3_stmt *q, const struct ticket_sla *x)
{
	bind_ref(q, ":policy", x->policy_id);
	bind_txt(q, ":log", x->log ? x->log : "");
	bind_ref(q, ":rdue", x->response_due);
	bind_ref(q, ":sdue", x->resolution_due);
	bind_i64(q, ":rbr", x->response_breached);
	bind_i64(q, ":sbr", x->resolution_breached);
	bind_i64(q, ":paused", x->paused);
	bind_i64(q, ":rms", x->response_ms);
	bind_i64(q, ":sms", x->resolution_ms);
	bind_i64(q, ":t1", x->tier_ms[0]);
	bind_i64(q, ":t2", x->tier_ms[1]);
	bind_i64(q, ":t3", x->tier_ms[2]);
	bind_i64(q, ":ola", x->ola_breached);
	bind_i64(q, ":as_of", x->as_of);
	bind_i64(q, ":fired", x->fired);
	bind_ref(q, ":next", x->next_at);
}

#define SLA_SET "policy_id = :policy, log = :log, response_due = :rdue, resolution_due = :sdue," \
	" response_breached = :rbr, resolution_breached = :sbr, paused = :paused,"             \
	" response_ms = :rms, resolution_ms = :sms, t1_ms = :t1, t2_ms = :t2, t3_ms = :t3,"    \
	" ola_breached = :ola, as_of = :as_of, fired = :fired, next_at = :next"

enum result sqt_sla_put(struct sq *s, const struct ticket *t, int64_t now, struct err *e)
{
	sqlite3_stmt *q = wq(s, "INSERT INTO ticket_sla (ticket_id, tenant_id, policy_id, log,"
			     " response_due, resolution_due, response_breached, resolution_breached,"
			     " paused, response_ms, resolution_ms, t1_ms, t2_ms, t3_ms, ola_breached,"
			     " as_of, fired, next_at) VALUES (:tid, :tenant, :policy, :log, :rdue, :sdue,"
			     " :rbr, :sbr, :paused, :rms, :sms, :t1, :t2, :t3, :ola, :as_of, :fired, :next)"
			     " ON CONFLICT (ticket_id) DO UPDATE SET " SLA_SET, e);

	UNUSED(now);
	if (!q)
		return RC_IO;
	bind_i64(q, ":tid", t->id);
	bind_i64(q, ":tenant", t->client_id);
	bind_sla(q, &t->sla);
	return wstep(s, q, NULL, "ticket SLA", e);
}

static void sla_row(sqlite3_stmt *q, int i, struct ticket_sla *x, struct arena *a)
{
	memset(x, 0, sizeof(*x));
	x->present = true;
	x->policy_id = sqlite3_column_int64(q, i);
	x->log = col_str(q, i + 1, a);
	x->response_due = sqlite3_column_int64(q, i + 2);
	x->resolution_due = sqlite3_column_int64(q, i + 3);
	x->response_breached = sqlite3_column_int(q, i + 4) != 0;
	x->resolution_breached = sqlite3_column_int(q, i + 5) != 0;
	x->paused = sqlite3_column_int(q, i + 6) != 0;
	x->response_ms = sqlite3_column_int64(q, i + 7);
	x->resolution_ms = sqlite3_column_int64(q, i + 8);
	for (int k = 0; k < 3; k++)
		x->tier_ms[k] = sqlite3_column_int64(q, i + 9 + k);
	x->ola_breached = (unsigned)sqlite3_column_int(q, i + 12);
	x->as_of = sqlite3_column_int64(q, i + 13);
	x->fired = (unsigned)sqlite3_column_int64(q, i + 14);
	x->next_at = sqlite3_column_int64(q, i + 15);
}

enum result sqt_sla_recompute(struct sq *s, struct sla_recompute *rc, struct err *e)
{
	/* The rows are read first (the writer cannot update a table while a
	 * statement still walks it), in pages by ticket id. */
	enum { PAGE = 4096 };
	int64_t after = 0;
	int64_t now = clock_now_ms();
	enum result r = RC_OK;

	rc->seen = rc->changed = 0;
	for (;;) {
		struct arena *a = arena_new(32u << 20);
		struct ticket_sla *rows = a ? arena_alloc(a, sizeof(*rows) * PAGE) : NULL;
		int64_t *ids = a ? arena_alloc(a, sizeof(*ids) * PAGE) : NULL;
		sqlite3_stmt *q;
		size_t n = 0;
		int st;

		if (!rows || !ids) {
			arena_free(a);
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		}
		q = wq(s, "SELECT s.ticket_id, coalesce(s.policy_id, 0), s.log,"
		       " coalesce(s.response_due, 0), coalesce(s.resolution_due, 0),"
		       " s.response_breached, s.resolution_breached, s.paused, s.response_ms,"
		       " s.resolution_ms, s.t1_ms, s.t2_ms, s.t3_ms, s.ola_breached, s.as_of,"
		       " s.fired, coalesce(s.next_at, 0) FROM ticket_sla s JOIN tickets t"
		       " ON t.id = s.ticket_id WHERE s.ticket_id > :after AND s.policy_id IS NOT NULL"
		       " AND t.status NOT IN ('resolved', 'closed') ORDER BY s.ticket_id LIMIT 4096", e);
		if (!q) {
			arena_free(a);
			return RC_IO;
		}
		bind_i64(q, ":after", after);
		while (n < PAGE && (st = sqlite3_step(q)) == SQLITE_ROW) {
			ids[n] = sqlite3_column_int64(q, 0);
			sla_row(q, 1, &rows[n], a);
			if (!rows[n].log) {
				stmt_done(q);
				arena_free(a);
				return err_set(e, RC_NOMEM, NULL, "out of memory");
			}
			n++;
		}
		st = n < PAGE ? sqlite3_errcode(s->wdb) : SQLITE_OK;
		stmt_done(q);
		if (n < PAGE && st != SQLITE_DONE && st != SQLITE_OK && st != SQLITE_ROW)
			r = sq_error(s->wdb, st, e, "ticket SLA");
		for (size_t i = 0; i < n && r == RC_OK; i++) {
			rc->seen++;
			if (!rc->fn(rc->arg, now, &rows[i]))
				continue;
			q = wq(s, "UPDATE ticket_sla SET " SLA_SET " WHERE ticket_id = :tid", e);
			if (!q) {
				r = RC_IO;
				break;
			}
			bind_sla(q, &rows[i]);
			bind_i64(q, ":tid", ids[i]);
			r = wstep(s, q, NULL, "ticket SLA", e);
			rc->changed++;
		}
		if (n)
			after = ids[n - 1];
		arena_free(a);
		if (r != RC_OK || n < PAGE)
			break;
	}
	return r;
}

static void bind_due(sqlite3_stmt *q, const void *arg)
{
	bind_i64(q, ":now", *(const int64_t *)arg);
}

enum result sqt_sla_due(struct store *st, int64_t now, size_t max, struct arena *a,
			struct ticket_list *out, struct err *e)
{
	char sql[4096];

	out->next_before = 0;
	out->n = 0;
	out->items = arena_alloc(a, sizeof(struct ticket) * (max ? max : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "%s WHERE s.next_at IS NOT NULL AND s.next_at <= :now"
		 " ORDER BY s.next_at LIMIT %zu", sqt_ticket_select(), max);
	return read_rows(st, sql, NULL, bind_due, &now, sqt_row_ticket_at, a, out->items, max,
			 &out->n, e);
}

/* ---- policies ----------------------------------------------------------------------------- */

static void row_policy_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct sla_policy_row *p = (struct sla_policy_row *)items + i;

	p->id = sqlite3_column_int64(q, 0);
	p->name = col_str(q, 1, a);
	p->calendar_id = sqlite3_column_int64(q, 2);
	p->calendars = col_str(q, 3, a);
	p->targets = col_str(q, 4, a);
	p->pause_statuses = col_str(q, 5, a);
	p->warn_at = col_str(q, 6, a);
	p->tier_targets = col_str(q, 7, a);
	p->actions = col_str(q, 8, a);
	p->is_default = sqlite3_column_int(q, 9) != 0;
	p->version = sqlite3_column_int64(q, 10);
	p->created_at = sqlite3_column_int64(q, 11);
	p->updated_at = sqlite3_column_int64(q, 12);
}

enum result sqt_sla_policy_get(struct store *st, int64_t id, struct arena *a,
			       struct sla_policy_row *out, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " POLICY_COLS " FROM sla_policies WHERE id = :id", NULL,
				  bind_id, &id, row_policy_at, a, out, 1, &n, e);

	if (r == RC_OK && n == 0)
		r = err_set(e, RC_NOTFOUND, NULL, "SLA policy not found");
	return r;
}

enum result sqt_sla_policy_list(struct store *st, struct arena *a, struct sla_policy_row **items,
				size_t *n, struct err *e)
{
	*items = arena_alloc(a, sizeof(struct sla_policy_row) * POLICIES_MAX);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT " POLICY_COLS " FROM sla_policies ORDER BY id", NULL, bind_none,
			 NULL, row_policy_at, a, *items, POLICIES_MAX, n, e);
}

enum result sqt_sla_policy_put(struct sq *s, struct store_write *w)
{
	const struct sla_policy_row *p = &w->in.policy;
	int64_t now = clock_now_ms();
	sqlite3_stmt *q;
	enum result r;
	int rc;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage SLA policies");
	if (w->recompute && (r = sqt_sla_gen_check(s, w->sla_gen, &w->err)) != RC_OK)
		return r;
	if ((r = sqt_sla_gen_bump(s, &w->err)) != RC_OK)
		return r;
	q = wq(s, "SELECT 1 FROM calendars WHERE id = :id", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", p->calendar_id);
	rc = sqlite3_step(q);
	stmt_done(q);
	if (rc != SQLITE_ROW)
		return err_set(&w->err, RC_INVALID, "calendar_id", "is not a calendar");
	if (p->is_default) {
		q = wq(s, "UPDATE sla_policies SET is_default = 0 WHERE is_default = 1 AND id != :id",
		       &w->err);
		if (!q)
			return RC_IO;
		bind_i64(q, ":id", p->id);
		if ((r = wstep(s, q, NULL, "SLA policy", &w->err)) != RC_OK)
			return r;
	}
	q = wq(s, p->id ? "UPDATE sla_policies SET name = :name, calendar_id = :cal, calendars = :cals,"
			  " targets = :targets, pause_statuses = :pause, warn_at = :warn,"
			  " tier_targets = :tiers, actions = :actions, is_default = :def,"
			  " version = version + 1, updated_at = :now"
			  " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			: "INSERT INTO sla_policies (name, calendar_id, calendars, targets, pause_statuses,"
			  " warn_at, tier_targets, actions, is_default, created_at, updated_at) VALUES"
			  " (:name, :cal, :cals, :targets, :pause, :warn, :tiers, :actions, :def, :now, :now)",
	       &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", p->id);
	bind_i64(q, ":version", w->if_version);
	bind_txt(q, ":name", p->name);
	bind_i64(q, ":cal", p->calendar_id);
	bind_txt(q, ":cals", p->calendars);
	bind_txt(q, ":targets", p->targets);
	bind_txt(q, ":pause", p->pause_statuses);
	bind_txt(q, ":warn", p->warn_at);
	bind_txt(q, ":tiers", p->tier_targets);
	bind_txt(q, ":actions", p->actions);
	bind_i64(q, ":def", p->is_default);
	bind_i64(q, ":now", now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		w->version = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (!p->id) {
		if (rc != SQLITE_DONE)
			return step_error(s, rc, "name", "SLA policy", &w->err);
		w->id = sqlite3_last_insert_rowid(s->wdb);
		w->version = 1;
		return RC_OK;
	}
	if (rc == SQLITE_DONE)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "SLA policy not found or changed by someone else");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, "name", "SLA policy", &w->err);
	w->id = p->id;
	return RC_OK;
}

enum result sqt_sla_policy_for(struct store *st, int64_t client_id, const char *day,
			       int64_t *policy_id, struct err *e)
{
	struct sq *s = (struct sq *)st;
	struct rconn *c;
	sqlite3_stmt *q;
	enum result r = reader_get(s, &c, e);
	int rc;

	*policy_id = 0;
	if (r != RC_OK)
		return r;
	q = scache_get(&c->cache, c->db,
		       "SELECT coalesce((SELECT sla_policy_id FROM contracts WHERE tenant_id = :cid"
		       " AND sla_policy_id IS NOT NULL AND starts_on <= :day"
		       " AND (ends_on IS NULL OR ends_on >= :day) ORDER BY starts_on DESC, id DESC LIMIT 1),"
		       " (SELECT id FROM sla_policies WHERE is_default = 1), 0)", e);
	if (!q) {
		reader_put(s, c);
		return RC_IO;
	}
	bind_i64(q, ":cid", client_id);
	bind_txt(q, ":day", day);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*policy_id = sqlite3_column_int64(q, 0);
	else
		r = sq_error(c->db, rc, e, "contracts");
	stmt_done(q);
	reader_put(s, c);
	return r;
}

/* ---- contracts ---------------------------------------------------------------------------- */

static void row_contract_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct contract_row *c = (struct contract_row *)items + i;

	c->id = sqlite3_column_int64(q, 0);
	c->client_id = sqlite3_column_int64(q, 1);
	c->name = col_str(q, 2, a);
	c->sla_policy_id = sqlite3_column_int64(q, 3);
	c->model = col_str(q, 4, a);
	c->starts_on = col_str(q, 5, a);
	c->ends_on = col_str(q, 6, a);
	c->notes = col_str(q, 7, a);
	c->version = sqlite3_column_int64(q, 8);
	c->created_at = sqlite3_column_int64(q, 9);
	c->updated_at = sqlite3_column_int64(q, 10);
}

/* Client roles see their own organisation's contracts only. */
static const char *contract_vis(const struct scope *sc)
{
	return sc->all_tenants ? "" : " AND c.tenant_id = :cid";
}

enum result sqt_contract_get(struct store *st, const struct scope *sc, int64_t id,
			     struct arena *a, struct contract_row *out, struct err *e)
{
	char sql[1024];
	size_t n = 0;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " CONTRACT_COLS " FROM contracts c WHERE c.id = :id%s",
		 contract_vis(sc));
	r = read_rows(st, sql, sc, bind_id, &id, row_contract_at, a, out, 1, &n, e);
	if (r == RC_OK && n == 0)
		r = err_set(e, RC_NOTFOUND, NULL, "contract not found");
	return r;
}

static void bind_contract_q(sqlite3_stmt *q, const void *arg)
{
	const struct list_q *lq = arg;

	bind_i64(q, ":after", lq->after);
	bind_i64(q, ":client", lq->client_id);
}

enum result sqt_contract_list(struct store *st, const struct scope *sc, const struct list_q *lq,
			      struct arena *a, struct contract_row **items, size_t *n,
			      int64_t *next_after, struct err *e)
{
	char sql[1024];
	int limit = lq->limit > 0 && lq->limit <= CONTRACTS_MAX ? lq->limit : 100;
	enum result r;

	*next_after = 0;
	*items = arena_alloc(a, sizeof(struct contract_row) * (size_t)(limit + 1));
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " CONTRACT_COLS " FROM contracts c WHERE c.id > :after%s%s"
		 " ORDER BY c.id LIMIT %d", contract_vis(sc),
		 lq->client_id ? " AND c.tenant_id = :client" : "", limit + 1);
	r = read_rows(st, sql, sc, bind_contract_q, lq, row_contract_at, a, *items,
		      (size_t)limit + 1, n, e);
	if (r == RC_OK && *n > (size_t)limit) {
		*n = (size_t)limit;
		*next_after = (*items)[limit - 1].id;
	}
	return r;
}

enum result sqt_contract_put(struct sq *s, struct store_write *w)
{
	const struct contract_row *c = &w->in.contract;
	sqlite3_stmt *q;
	enum result r;
	int rc;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage contracts");
	r = tenant_visible(s, &w->scope, c->client_id, &w->err);
	if (r != RC_OK)
		return r == RC_NOTFOUND ? err_set(&w->err, RC_INVALID, "client_id", "is not a client") : r;
	if (c->sla_policy_id) {
		q = wq(s, "SELECT 1 FROM sla_policies WHERE id = :id", &w->err);
		if (!q)
			return RC_IO;
		bind_i64(q, ":id", c->sla_policy_id);
		rc = sqlite3_step(q);
		stmt_done(q);
		if (rc != SQLITE_ROW)
			return err_set(&w->err, RC_INVALID, "sla_policy_id", "is not an SLA policy");
	}
	q = wq(s, c->id ? "UPDATE contracts SET tenant_id = :tenant, name = :name, sla_policy_id = :policy,"
			  " model = :model, starts_on = :starts, ends_on = :ends, notes = :notes,"
			  " version = version + 1, updated_at = :now"
			  " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			: "INSERT INTO contracts (tenant_id, name, sla_policy_id, model, starts_on, ends_on,"
			  " notes, created_at, updated_at) VALUES (:tenant, :name, :policy, :model, :starts,"
			  " :ends, :notes, :now, :now)",
	       &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", c->id);
	bind_i64(q, ":version", w->if_version);
	bind_i64(q, ":tenant", c->client_id);
	bind_txt(q, ":name", c->name);
	bind_ref(q, ":policy", c->sla_policy_id);
	bind_txt(q, ":model", c->model);
	bind_txt(q, ":starts", c->starts_on);
	bind_txt(q, ":ends", c->ends_on);
	bind_txt(q, ":notes", c->notes);
	bind_i64(q, ":now", clock_now_ms());
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		w->version = sqlite3_column_int64(q, 0);
	stmt_done(q);
	w->audit.tenant_id = c->client_id;
	if (!c->id) {
		if (rc != SQLITE_DONE)
			return step_error(s, rc, NULL, "contract", &w->err);
		w->id = sqlite3_last_insert_rowid(s->wdb);
		w->version = 1;
		return RC_OK;
	}
	if (rc == SQLITE_DONE)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "contract not found or changed by someone else");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "contract", &w->err);
	w->id = c->id;
	return RC_OK;
}
