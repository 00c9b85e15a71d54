/*
 * store_pg_monitor.c: monitoring's rows on PostgreSQL (issue 7;
 * migrations-pg/0007_monitoring.sql): the port of store_sqlite_monitor.c
 * (read the two side by side), with the same contracts (store_int.h's
 * sqm_* functions) and the same invariants:
 *
 *  1. A check-in batch is stored once: its (device, batch id) row is
 *     inserted first (ON CONFLICT DO NOTHING), and a batch already there
 *     stores nothing else.
 *  2. Raw samples are time first (at, series); rollups series first. A
 *     sample for a minute (hour) that is already rolled up is merged into
 *     that rollup in the same transaction, so rollups never miss a late
 *     sample.
 *  3. The store decides nothing about alerts: it reads an alert's state,
 *     hands it to the caller's step function (src/monitor), and writes
 *     back the state (when alert_state_changed, or with effects) and one
 *     pending event per effect the function returns.
 *  4. Series ids are cached by the writer (series are never renamed; a
 *     device's series go with the device).
 *
 * What differs from SQLite:
 *  - Several servers' writers share the database, and a batch may run
 *    again from the start (pg_writer.h). So the series cache holds only
 *    ids that are committed: a series made in a pass is pending (usable by
 *    the rest of the pass) until the pass commits (pgm_pass_end); those
 *    of a write that failed are forgotten with its savepoint
 *    (pgm_write_undo), those of a pass that runs again at its next
 *    begin. PostgreSQL never hands out an identity value twice, so a
 *    stale id could only point at nothing; the cache never holds one.
 *  - Apply functions reset what they set (ids, versions, the check-in's
 *    and the steps' results): a pass may run again, calling the caller's
 *    step function again on the state as read in the new pass.
 *  - Round trips are what costs on PostgreSQL: a check-in's samples are
 *    one statement (arrays bound as text and unnested, in the check-in's
 *    order, so a duplicate (series, at) keeps the first value as SQLite
 *    does), which also merges the late ones into the rollups that exist.
 *    The merge adds a bucket's late samples up first and then to the
 *    rollup (SQLite adds them one at a time): the sum may differ in its
 *    last bits, n, min and max are the same.
 *  - SQLite's min(a, b) / max(a, b) are least() / greatest(); the rows a
 *    statement changed are PQcmdTuples' (SQLite's sqlite3_changes()).
 *  - REAL is DOUBLE PRECISION, bound and read as text that reads back to
 *    the same double (pgq_f64, pg_f64); a NaN is bound as NULL, as SQLite
 *    binds it.
 *  - lower() in device_by_host folds every letter the database's LC_CTYPE
 *    knows, SQLite's only ASCII ones.
 *  - Rows a list returns in SQLite's index order on a non-unique column
 *    (devices_silent: last_seen_at) are ordered by id too here, the rowid
 *    SQLite's index ends with.
 */
#include "base/common.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/clock.h"
#include "monitor/monitor.h"
#include "store/store.h"
#include "store/store_pg_int.h"
#include "store/store_sql.h"

#define MIN_MS 60000
#define HOUR_MS 3600000
#define SERIES_CACHE_BITS 19
#define SERIES_CACHE_SLOTS (1u << SERIES_CACHE_BITS)
#define LIST_MAX 1000

/* ---- the writer's series cache ------------------------------------------------------------ */

struct series_slot {
	uint64_t hash;
	char *key;          /* "device\x1fname\x1flabels", malloc'd */
	int64_t id;
	bool pending;       /* made in this pass, not yet committed */
};

struct series_cache {
	struct series_slot *slot;
	size_t used;
	size_t *log;        /* the pending slots, in the order they were filled */
	size_t nlog, caplog;
};

static uint64_t fnv1a(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static void slot_clear(struct series_cache *c, size_t i)
{
	free(c->slot[i].key);
	memset(&c->slot[i], 0, sizeof(c->slot[i]));
	c->used--;
}

void pgm_cache_free(struct pgs *s)
{
	struct series_cache *c = s->mon;

	if (!c)
		return;
	for (size_t i = 0; c->slot && i < SERIES_CACHE_SLOTS; i++)
		free(c->slot[i].key);
	free(c->slot);
	free(c->log);
	free(c);
	s->mon = NULL;
}

size_t pgm_write_mark(struct pgs *s)
{
	struct series_cache *c = s->mon;

	return c ? c->nlog : 0;
}

/* Empties the slots filled since mark, newest first: with linear probing,
 * taking entries out in the reverse order they went in leaves the table
 * exactly as it was (no later entry's probe passed them any more). */
void pgm_write_undo(struct pgs *s, size_t mark)
{
	struct series_cache *c = s->mon;

	if (!c)
		return;
	while (c->nlog > mark)
		slot_clear(c, c->log[--c->nlog]);
}

void pgm_pass_begin(struct pgs *s)
{
	struct series_cache *c = s->mon;

	pgm_write_undo(s, 0);
	/* Three quarters full: start again (series ids are read back from
	 * the database as they are met). */
	if (c && c->used > SERIES_CACHE_SLOTS / 4 * 3)
		for (size_t i = 0; i < SERIES_CACHE_SLOTS; i++)
			if (c->slot[i].key)
				slot_clear(c, i);
}

void pgm_pass_end(struct pgs *s, bool committed)
{
	struct series_cache *c = s->mon;

	if (!c)
		return;
	if (!committed) {
		pgm_write_undo(s, 0);
		return;
	}
	for (size_t i = 0; i < c->nlog; i++)
		c->slot[c->log[i]].pending = false;
	c->nlog = 0;
}

/* The slot of key: *hit when it holds it, else the empty slot where it
 * would go. NULL when there is no cache (out of memory). */
static struct series_slot *cache_find(struct pgs *s, const char *key, uint64_t h, bool *hit)
{
	struct series_cache *c = s->mon;
	size_t i;

	*hit = false;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		c->slot = calloc(SERIES_CACHE_SLOTS, sizeof(*c->slot));
		if (!c->slot) {
			free(c);
			return NULL;
		}
		s->mon = c;
	}
	for (i = h & (SERIES_CACHE_SLOTS - 1); c->slot[i].key; i = (i + 1) & (SERIES_CACHE_SLOTS - 1))
		if (c->slot[i].hash == h && !strcmp(c->slot[i].key, key)) {
			*hit = true;
			return &c->slot[i];
		}
	return &c->slot[i];
}

/* Fills slot with (key, id), pending until the pass commits. Nothing
 * when the table is nearly full (the pass's entries cannot be cleared
 * before it ends) or memory is short: the id is then read again. */
static void cache_put(struct pgs *s, struct series_slot *slot, const char *key, uint64_t h,
		      int64_t id)
{
	struct series_cache *c = s->mon;

	if (!c || c->used >= SERIES_CACHE_SLOTS / 8 * 7)
		return;
	if (c->nlog == c->caplog) {
		size_t cap = c->caplog ? 2 * c->caplog : 1024;
		size_t *log = realloc(c->log, cap * sizeof(*log));
		if (!log)
			return;
		c->log = log;
		c->caplog = cap;
	}
	slot->key = strdup(key);
	if (!slot->key)
		return;
	slot->hash = h;
	slot->id = id;
	slot->pending = true;
	c->used++;
	c->log[c->nlog++] = (size_t)(slot - c->slot);
}

/* ---- small helpers ------------------------------------------------------------------------- */

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

/* The rows a statement changed (SQLite's sqlite3_changes()). */
static int64_t changes(const PGresult *r)
{
	return strtoll(PQcmdTuples((PGresult *)r), NULL, 10);
}

/* Runs q (released); RC_OK with *n the rows it changed. */
static enum result wchanges(struct pgw *x, struct pgq *q, const char *field, const char *what,
			    int64_t *n, struct err *e)
{
	PGresult *r = wrun(x, q, field, what, e);

	*n = 0;
	if (!r)
		return e->code;
	*n = changes(r);
	PQclear(r);
	return RC_OK;
}

/* The series id of (device, name, labels), made when new. */
static enum result series_id(struct pgw *x, int64_t tenant, int64_t device, const struct sample *sm,
			     int64_t *id, struct err *e)
{
	char key[512];
	uint64_t h = 0;
	bool hit = false, cacheable;
	struct series_slot *slot = NULL;
	struct pgq q;
	PGresult *r;
	int n;

	n = snprintf(key, sizeof(key), "%" PRId64 "\x1f%s\x1f%s", device, sm->name, sm->labels);
	cacheable = n >= 0 && (size_t)n < sizeof(key);
	if (cacheable) {
		h = fnv1a(key, 1469598103934665603ull);
		slot = cache_find(x->s, key, h, &hit);
		if (hit) {
			*id = slot->id;
			return RC_OK;
		}
	}
	/* DO UPDATE (of nothing that changes), as in SQLite: DO NOTHING would
	 * return no row for a series that exists. */
	pgq_init(&q, "INSERT INTO metric_series (tenant_id, device_id, name, labels)"
		 " VALUES (:tenant, :device, :name, :labels)"
		 " ON CONFLICT (device_id, name, labels) DO UPDATE SET name = excluded.name"
		 " RETURNING id");
	pgq_i64(&q, ":tenant", tenant);
	pgq_i64(&q, ":device", device);
	pgq_txt(&q, ":name", sm->name);
	pgq_txt(&q, ":labels", sm->labels);
	r = wrun(x, &q, NULL, "series", e);
	if (!r)
		return e->code;
	if (PQntuples(r) < 1) {
		PQclear(r);
		return err_set(e, RC_IO, NULL, "series: no id returned");
	}
	*id = pg_i64(r, 0, 0);
	PQclear(r);
	if (slot)
		cache_put(x->s, slot, key, h, *id);
	return RC_OK;
}

static enum result mark_get(struct pgw *x, const char *name, int64_t *v, bool *found, struct err *e)
{
	struct pgq q;
	PGresult *r;

	*found = false;
	*v = 0;
	pgq_init(&q, "SELECT value FROM monitor_marks WHERE name = :name");
	pgq_txt(&q, ":name", name);
	r = wrun(x, &q, NULL, "marks", e);
	if (!r)
		return e->code;
	if (PQntuples(r)) {
		*v = pg_i64(r, 0, 0);
		*found = true;
	}
	PQclear(r);
	return RC_OK;
}

static enum result mark_set(struct pgw *x, const char *name, int64_t v, struct err *e)
{
	struct pgq q;

	pgq_init(&q, "INSERT INTO monitor_marks (name, value) VALUES (:name, :v)"
		 " ON CONFLICT (name) DO UPDATE SET value = excluded.value");
	pgq_txt(&q, ":name", name);
	pgq_i64(&q, ":v", v);
	return wdo(x, &q, NULL, "marks", e);
}

/* The tenant predicate of sc on alias (binds :scope): "" for staff. */
static const char *vis(const struct scope *sc, const char *alias)
{
	if (sc->all_tenants)
		return "";
	if (!strcmp(alias, "a"))
		return " AND a.tenant_id = :scope";
	if (!strcmp(alias, "d"))
		return " AND d.tenant_id = :scope";
	if (!strcmp(alias, "c"))
		return " AND (c.tenant_id = :scope OR c.tenant_id IS NULL)";
	if (!strcmp(alias, "m"))
		return " AND m.tenant_id = :scope";
	if (!strcmp(alias, "f"))
		return " AND f.tenant_id = :scope";
	if (!strcmp(alias, "e"))
		return " AND e.tenant_id = :scope";
	return " AND tenant_id = :scope";
}

static enum result only_staff(struct store_write *w, const char *what)
{
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff manage %s", what);
	return RC_OK;
}

/* ---- enrolment tokens and devices --------------------------------------------------------- */

enum result pgm_enroll_token_create(struct pgw *x, struct store_write *w)
{
	const struct enroll_token_row *t = &w->in.etok.row;
	struct pgq q;
	PGresult *r;
	enum result rc = only_staff(w, "enrolment tokens");

	w->id = 0;
	if (rc == RC_OK)
		rc = pgw_tenant_visible(x, &w->scope, t->client_id, &w->err);
	if (rc != RC_OK)
		return rc;
	pgq_init(&q, "INSERT INTO enroll_tokens (tenant_id, name, token_hash, created_by, created_at,"
		 " expires_at, max_uses) VALUES (:tenant, :name, :hash, :by, :now, :expires, :max)"
		 " RETURNING id");
	pgq_i64(&q, ":tenant", t->client_id);
	pgq_txt(&q, ":name", t->name);
	pgq_blob(&q, ":hash", w->in.etok.hash, 32);
	pgq_i64(&q, ":by", w->scope.user_id);
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_i64(&q, ":expires", t->expires_at);
	pgq_i64(&q, ":max", t->max_uses);
	r = wrun(x, &q, NULL, "enrolment token", &w->err);
	if (!r)
		return w->err.code;
	w->id = pg_i64(r, 0, 0);
	PQclear(r);
	w->version = 1;
	w->audit.tenant_id = t->client_id;
	return RC_OK;
}

enum result pgm_enroll_token_revoke(struct pgw *x, struct store_write *w)
{
	struct pgq q;
	int64_t n;
	enum result r = only_staff(w, "enrolment tokens");

	if (r != RC_OK)
		return r;
	pgq_init(&q, "UPDATE enroll_tokens SET revoked_at = :now WHERE id = :id AND tenant_id = :tenant"
		 " AND revoked_at = 0");
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_i64(&q, ":id", w->id);
	pgq_i64(&q, ":tenant", w->in.etok.row.client_id);
	r = wchanges(x, &q, NULL, "enrolment token", &n, &w->err);
	if (r == RC_OK && n == 0)
		return err_set(&w->err, RC_NOTFOUND, NULL, "enrolment token not found or already revoked");
	w->audit.tenant_id = w->in.etok.row.client_id;
	return r;
}

enum result pgm_device_enroll(struct pgw *x, struct store_write *w)
{
	__typeof__(w->in.enroll) *in = &w->in.enroll;
	int64_t tok = 0, tenant = 0, expires = 0, revoked = 0, uses = 0, max = 0;
	bool found;
	struct pgq q;
	PGresult *r;
	enum result rc;

	w->id = 0;
	in->client_id = 0;
	pgq_init(&q, "SELECT id, tenant_id, expires_at, revoked_at, uses, max_uses"
		 " FROM enroll_tokens WHERE token_hash = :hash");
	pgq_blob(&q, ":hash", in->token_hash, 32);
	r = wrun(x, &q, NULL, "enrolment token", &w->err);
	if (!r)
		return w->err.code;
	found = PQntuples(r) > 0;
	if (found) {
		tok = pg_i64(r, 0, 0);
		tenant = pg_i64(r, 0, 1);
		expires = pg_i64(r, 0, 2);
		revoked = pg_i64(r, 0, 3);
		uses = pg_i64(r, 0, 4);
		max = pg_i64(r, 0, 5);
	}
	PQclear(r);
	if (!found || revoked || (expires && expires <= in->now) || (max && uses >= max))
		return err_set(&w->err, RC_DENIED, "enroll_token",
			       "is not a valid enrolment token (unknown, revoked, expired or used up)");
	pgq_init(&q, "UPDATE enroll_tokens SET uses = uses + 1 WHERE id = :id");
	pgq_i64(&q, ":id", tok);
	rc = wdo(x, &q, NULL, "enrolment token", &w->err);
	if (rc != RC_OK)
		return rc;
	pgq_init(&q, "INSERT INTO devices (tenant_id, hostname, os, token_hash, enroll_token_id, inventory,"
		 " inventory_at, created_at, updated_at) VALUES (:tenant, :host, :os, :hash, :tok, :inv,"
		 " :invat, :now, :now) RETURNING id");
	pgq_i64(&q, ":tenant", tenant);
	pgq_txt(&q, ":host", in->hostname);
	pgq_txt(&q, ":os", in->os);
	pgq_blob(&q, ":hash", in->device_hash, 32);
	pgq_i64(&q, ":tok", tok);
	pgq_txt(&q, ":inv", in->inventory);
	pgq_i64(&q, ":invat", in->inventory ? in->now : 0);
	pgq_i64(&q, ":now", in->now);
	r = wrun(x, &q, NULL, "device", &w->err);
	if (!r)
		return w->err.code;
	w->id = pg_i64(r, 0, 0);
	PQclear(r);
	w->version = 1;
	in->client_id = tenant;
	w->audit.tenant_id = tenant;
	return RC_OK;
}

enum result pgm_device_update(struct pgw *x, struct store_write *w)
{
	char sql[512];
	struct pgq q;
	PGresult *r;
	bool got;
	enum result rc = only_staff(w, "devices");

	if (rc != RC_OK)
		return rc;
	snprintf(sql, sizeof(sql), "UPDATE devices AS d SET active = CASE WHEN :set_active THEN :active"
		 " ELSE d.active END, version = d.version + 1, updated_at = :now WHERE d.id = :id"
		 " AND (:version = 0 OR d.version = :version)%s RETURNING d.version, d.tenant_id",
		 vis(&w->scope, "d"));
	pgq_init(&q, sql);
	pgq_bool(&q, ":set_active", (w->fields & F_ACTIVE) != 0);
	pgq_i64(&q, ":active", w->in.device.active ? 1 : 0);
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_i64(&q, ":id", w->id);
	pgq_i64(&q, ":version", w->if_version);
	pgq_scope(&q, &w->scope);
	r = wrun(x, &q, NULL, "device", &w->err);
	if (!r)
		return w->err.code;
	got = PQntuples(r) > 0;
	if (got) {
		w->version = pg_i64(r, 0, 0);
		w->audit.tenant_id = pg_i64(r, 0, 1);
	}
	PQclear(r);
	if (!got)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "device not found or changed by someone else");
	return RC_OK;
}

/* ---- alerts: stepping the state machine ------------------------------------------------- */

/* The alert of pair p: by id (in scope), or by (tenant, key). With the id,
 * also its tenant and shown value (SQLite reads them in a second
 * statement). */
static enum result alert_find(struct pgw *x, const struct scope *sc, const struct alert_pair *p,
			      int64_t *id, struct alert *st, bool *found, int64_t *tenant,
			      double *value, bool *has_value, struct err *e)
{
	char sql[512];
	struct pgq q;
	PGresult *r;

	*found = false;
	*id = 0;
	memset(st, 0, sizeof(*st));
	if (p->alert_id) {
		snprintf(sql, sizeof(sql), "SELECT a.id, a.state, a.tenant_id, a.value FROM alerts a"
			 " WHERE a.id = :id%s", vis(sc, "a"));
		pgq_init(&q, sql);
		pgq_i64(&q, ":id", p->alert_id);
		pgq_scope(&q, sc);
	} else {
		if (!scope_sees_tenant(sc, p->client_id))
			return err_set(e, RC_NOTFOUND, NULL, "alert not found");
		pgq_init(&q, "SELECT id, state FROM alerts WHERE tenant_id = :tenant AND key = :key");
		pgq_i64(&q, ":tenant", p->client_id);
		pgq_txt(&q, ":key", p->key);
	}
	r = wrun(x, &q, NULL, "alert", e);
	if (!r)
		return e->code;
	if (PQntuples(r)) {
		*id = pg_i64(r, 0, 0);
		*found = true;
		alert_state_parse(pg_isnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1), st);
		if (p->alert_id) {
			*tenant = pg_i64(r, 0, 2);
			*has_value = !pg_isnull(r, 0, 3);
			*value = pg_f64(r, 0, 3);
		}
	}
	PQclear(r);
	if (!*found && p->alert_id)
		return err_set(e, RC_NOTFOUND, NULL, "alert not found");
	return RC_OK;
}

static enum result alert_save(struct pgw *x, const struct scope *sc, const struct alert_pair *p,
			      int64_t *id, const struct alert *st, double value, bool has_value,
			      unsigned eff, int64_t now, struct err *e)
{
	char *state = alert_state_format(st);
	struct pgq q;
	PGresult *r;

	if (!state)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	if (*id)
		pgq_init(&q, "UPDATE alerts SET status = :status, severity = :severity, value = :value,"
			 " state = :state, in_maintenance = :maint, firing_since = :firing,"
			 " resolved_at = :resolved, acked_by = CASE WHEN :ack THEN :by ELSE acked_by END,"
			 " acked_at = CASE WHEN :ack THEN :now ELSE acked_at END,"
			 " summary = coalesce(:summary, summary),"
			 " updated_at = :now, version = version + 1 WHERE id = :id RETURNING id");
	else
		pgq_init(&q, "INSERT INTO alerts (tenant_id, device_id, check_id, source, key, name, labels,"
			 " summary, status, severity, value, state, in_maintenance, firing_since, resolved_at,"
			 " created_at, updated_at) VALUES (:tenant, :device, :check, :source, :key, :name,"
			 " :labels, :summary, :status, :severity, :value, :state, :maint, :firing, :resolved,"
			 " :now, :now) RETURNING id");
	pgq_i64(&q, ":id", *id);
	pgq_i64(&q, ":tenant", p->client_id);
	pgq_ref(&q, ":device", p->device_id);
	pgq_ref(&q, ":check", p->check_id);
	pgq_txt(&q, ":source", p->source ? p->source : "check");
	pgq_txt(&q, ":key", p->key);
	pgq_txt(&q, ":name", p->name ? p->name : "");
	pgq_txt(&q, ":labels", p->labels ? p->labels : "");
	pgq_txt(&q, ":summary", p->summary);
	pgq_txt(&q, ":status", alert_status_names[st->status]);
	pgq_txt(&q, ":severity", severity_names[st->severity]);
	pgq_f64(&q, ":value", value, has_value);
	pgq_txt(&q, ":state", state);
	pgq_i64(&q, ":maint", st->in_maintenance ? 1 : 0);
	pgq_i64(&q, ":firing", st->status == AL_FIRING ? st->firing_since : 0);
	pgq_i64(&q, ":resolved", st->resolved_at);
	pgq_bool(&q, ":ack", (eff & AE_ACK) != 0);
	pgq_i64(&q, ":by", sc->user_id);
	pgq_i64(&q, ":now", now);
	r = wrun(x, &q, NULL, "alert", e);
	free(state);
	if (!r)
		return e->code;
	if (!*id && PQntuples(r))
		*id = pg_i64(r, 0, 0);
	PQclear(r);
	return RC_OK;
}

static enum result alert_events_put(struct pgw *x, int64_t tenant, int64_t id,
				    const struct alert *st, double value, bool has_value,
				    unsigned eff, int64_t now, size_t *count, struct err *e)
{
	for (int k = 0; k < AE_KINDS; k++) {
		struct pgq q;
		enum result r;

		if (!(eff & (1u << k)))
			continue;
		pgq_init(&q, "INSERT INTO alert_events (tenant_id, alert_id, at, kind, severity, value, pending)"
			 " VALUES (:tenant, :alert, :now, :kind, :severity, :value, 1)");
		pgq_i64(&q, ":tenant", tenant);
		pgq_i64(&q, ":alert", id);
		pgq_i64(&q, ":now", now);
		pgq_txt(&q, ":kind", alert_effect_names[k]);
		pgq_txt(&q, ":severity", severity_names[st->status == AL_INACTIVE && (1u << k) == AE_RESOLVE
							 ? st->announced_severity : st->severity]);
		pgq_f64(&q, ":value", value, has_value);
		r = wdo(x, &q, NULL, "alert event", e);
		if (r != RC_OK)
			return r;
		(*count)++;
	}
	return RC_OK;
}

static enum result alert_steps_run(struct pgw *x, const struct scope *sc, struct alert_steps *as,
				   struct err *e)
{
	/* Results: a pass may run again. */
	as->events = 0;
	as->alert_id = 0;
	as->client_id = 0;
	for (size_t i = 0; i < as->n; i++) {
		const struct alert_pair *p = &as->items[i];
		struct alert st, before;
		int64_t id, tenant = p->client_id;
		bool found, has_value = false;
		double value = 0;
		int eff;
		enum result r = alert_find(x, sc, p, &id, &st, &found, &tenant, &value, &has_value, e);

		if (r != RC_OK)
			return r;
		before = st;
		eff = as->fn(as->arg, i, &st, &value, &has_value);
		if (eff < 0)
			return err_set(e, RC_CONFLICT, "alert", "the alert is not in a state that allows this");
		if (!eff && !alert_state_changed(&before, &st))
			continue;
		if (!found) {
			struct alert_pair np = *p;
			np.client_id = tenant;
			r = alert_save(x, sc, &np, &id, &st, value, has_value, (unsigned)eff, as->now, e);
		} else {
			r = alert_save(x, sc, p, &id, &st, value, has_value, (unsigned)eff, as->now, e);
		}
		if (r == RC_OK)
			r = alert_events_put(x, tenant, id, &st, value, has_value, (unsigned)eff, as->now,
					     &as->events, e);
		if (r != RC_OK)
			return r;
		as->alert_id = id;
		as->client_id = tenant;
	}
	return RC_OK;
}

enum result pgm_alert_step(struct pgw *x, struct store_write *w)
{
	struct alert_steps *as = w->in.steps;
	enum result r = alert_steps_run(x, &w->scope, as, &w->err);

	w->id = as->alert_id;
	w->audit.tenant_id = as->client_id;
	return r;
}

/* The alert's pending events up to upto are done; RC_CONFLICT when none
 * was pending. */
static enum result events_done(struct pgw *x, int64_t alert, int64_t upto, struct err *e)
{
	struct pgq q;
	int64_t n;
	enum result r;

	pgq_init(&q, "UPDATE alert_events SET pending = 0 WHERE alert_id = :alert"
		 " AND id <= :upto AND pending = 1");
	pgq_i64(&q, ":alert", alert);
	pgq_i64(&q, ":upto", upto);
	r = wchanges(x, &q, NULL, "alert event", &n, e);
	if (r == RC_OK && n == 0)
		return err_set(e, RC_CONFLICT, "alert", "the alert's events were already done");
	return r;
}

enum result pgm_alert_events_done(struct pgw *x, struct store_write *w)
{
	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only the system marks alert events done");
	return events_done(x, w->in.done.alert_id, w->in.done.upto, &w->err);
}

/* The ticket half of the monitor's work (ticket_write.alert_id): called by
 * the ticket writes once the ticket row is written (put_extras). */
enum result pgm_alert_ticket(struct pgw *x, const struct ticket_write *tw, struct err *e)
{
	struct pgq q;
	enum result r = events_done(x, tw->alert_id, tw->alert_events_upto, e);

	if (r != RC_OK)
		return r;
	pgq_init(&q, "UPDATE alerts SET ticket_id = :tid, ticket_version = CASE WHEN :rebase THEN"
		 " (SELECT coalesce(max(id), 0) FROM ticket_events WHERE ticket_id = :tid)"
		 " ELSE ticket_version END WHERE id = :alert");
	pgq_i64(&q, ":tid", tw->t.id);
	pgq_bool(&q, ":rebase", tw->alert_rebase);
	pgq_i64(&q, ":alert", tw->alert_id);
	return wdo(x, &q, NULL, "alert", e);
}

/* ---- check-ins ------------------------------------------------------------------------------ */

/* The rollups' merge of rows into a bucket that exists (SQLite's
 * rollup_merge and the rollup statements share it). */
#define MERGE_1M " ON CONFLICT (series_id, bucket) DO UPDATE SET n = metric_1m.n + excluded.n," \
	" sum = metric_1m.sum + excluded.sum, min = least(metric_1m.min, excluded.min),"       \
	" max = greatest(metric_1m.max, excluded.max)"
#define MERGE_1H " ON CONFLICT (series_id, bucket) DO UPDATE SET n = metric_1h.n + excluded.n," \
	" sum = metric_1h.sum + excluded.sum, min = least(metric_1h.min, excluded.min),"       \
	" max = greatest(metric_1h.max, excluded.max)"

/* The samples of a check-in in one statement: stored unless (at, series)
 * is there already (the first of a check-in's duplicates wins, as in
 * SQLite), and the stored ones that are late for a minute (hour) already
 * rolled up merged into it. Answers how many were stored. */
#define SAMPLES_SQL                                                                               \
	"WITH s AS (SELECT * FROM unnest(CAST(:at AS bigint[]), CAST(:series AS bigint[]),"      \
	" CAST(:v AS float8[])) WITH ORDINALITY AS s (at, series_id, value, ord)),"               \
	" ins AS (INSERT INTO metric_raw (at, series_id, value) SELECT at, series_id, value FROM s" \
	" ORDER BY ord ON CONFLICT DO NOTHING RETURNING at, series_id, value),"                   \
	" m1 AS (INSERT INTO metric_1m (series_id, bucket, n, sum, min, max)"                      \
	" SELECT series_id, at - at % 60000, count(*), sum(value), min(value), max(value) FROM ins" \
	" WHERE :f1 AND at < :m1 GROUP BY 1, 2" MERGE_1M "),"                                      \
	" h1 AS (INSERT INTO metric_1h (series_id, bucket, n, sum, min, max)"                      \
	" SELECT series_id, at - at % 3600000, count(*), sum(value), min(value), max(value)"       \
	" FROM ins WHERE :fh AND at < :h1 GROUP BY 1, 2" MERGE_1H ")"                              \
	" SELECT count(*) FROM ins"

/* A double as an array element: 17 digits, the infinities by name; NaN
 * is NULL, as SQLite binds it (metric_raw.value then refuses it). */
static enum result append_f64(struct buf *b, const char *sep, double v)
{
	if (isnan(v))
		return buf_appendf(b, "%sNULL", sep);
	if (isinf(v))
		return buf_appendf(b, "%s%s", sep, v > 0 ? "Infinity" : "-Infinity");
	return buf_appendf(b, "%s%.17g", sep, v);
}

static enum result samples_put(struct pgw *x, struct checkin_write *ci, bool f1, int64_t m1, bool fh,
			       int64_t h1, struct err *e)
{
	struct buf at = BUF_INIT(64u << 20), series = BUF_INIT(64u << 20), v = BUF_INIT(64u << 20);
	enum result r = RC_OK;
	struct pgq q;
	PGresult *res;

	for (size_t i = 0; r == RC_OK && i < ci->n; i++) {
		const struct sample *sm = &ci->samples[i];
		const char *sep = i ? "," : "{";
		int64_t sid = 0;

		r = series_id(x, ci->client_id, ci->device_id, sm, &sid, e);
		if (r != RC_OK)
			break;
		if (buf_appendf(&at, "%s%" PRId64, sep, sm->at) != RC_OK ||
		    buf_appendf(&series, "%s%" PRId64, sep, sid) != RC_OK ||
		    append_f64(&v, sep, sm->value) != RC_OK)
			r = err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	if (r == RC_OK && (buf_append(&at, "}", 1) != RC_OK || buf_append(&series, "}", 1) != RC_OK ||
			   buf_append(&v, "}", 1) != RC_OK))
		r = err_set(e, RC_NOMEM, NULL, "out of memory");
	if (r == RC_OK) {
		pgq_init(&q, SAMPLES_SQL);
		pgq_txt(&q, ":at", buf_str(&at));
		pgq_txt(&q, ":series", buf_str(&series));
		pgq_txt(&q, ":v", buf_str(&v));
		pgq_bool(&q, ":f1", f1);
		pgq_i64(&q, ":m1", m1);
		pgq_bool(&q, ":fh", fh);
		pgq_i64(&q, ":h1", h1);
		res = wrun(x, &q, NULL, "sample", e);
		if (!res) {
			r = e->code;
		} else {
			ci->stored = PQntuples(res) ? (size_t)pg_i64(res, 0, 0) : 0;
			PQclear(res);
		}
	}
	buf_release(&at);
	buf_release(&series);
	buf_release(&v);
	return r;
}

enum result pgm_checkin(struct pgw *x, struct store_write *w)
{
	struct checkin_write *ci = w->in.checkin;
	int64_t m1, h1, n;
	bool f1, fh;
	struct pgq q;
	enum result r;

	/* Results: a pass may run again. */
	ci->duplicate = false;
	ci->stored = 0;
	ci->steps.events = 0;
	ci->steps.alert_id = 0;
	w->audit.tenant_id = ci->client_id;
	pgq_init(&q, "INSERT INTO agent_batches (device_id, batch_id, at)"
		 " VALUES (:device, :batch, :now) ON CONFLICT DO NOTHING");
	pgq_i64(&q, ":device", ci->device_id);
	pgq_i64(&q, ":batch", ci->batch_id);
	pgq_i64(&q, ":now", ci->now);
	r = wchanges(x, &q, NULL, "batch", &n, &w->err);
	if (r != RC_OK)
		return r;
	if (n == 0) {
		ci->duplicate = true;
		return RC_OK;
	}
	r = mark_get(x, "rollup.1m", &m1, &f1, &w->err);
	if (r == RC_OK)
		r = mark_get(x, "rollup.1h", &h1, &fh, &w->err);
	if (r == RC_OK && ci->n)
		r = samples_put(x, ci, f1, m1, fh, h1, &w->err);
	if (r != RC_OK)
		return r;
	pgq_init(&q, "UPDATE devices SET last_seen_at = greatest(last_seen_at, :now), latest = :latest,"
		 " inventory = coalesce(:inv, inventory),"
		 " inventory_at = CASE WHEN :inv IS NULL THEN inventory_at ELSE :now END"
		 " WHERE id = :device");
	pgq_i64(&q, ":now", ci->now);
	pgq_txt(&q, ":latest", ci->latest);
	pgq_txt(&q, ":inv", ci->inventory);
	pgq_i64(&q, ":device", ci->device_id);
	r = wdo(x, &q, NULL, "device", &w->err);
	if (r == RC_OK)
		r = alert_steps_run(x, &w->scope, &ci->steps, &w->err);
	w->id = ci->device_id;
	return r;
}

/* ---- rollups and retention ------------------------------------------------------------- */

static enum result exec_range(struct pgw *x, const char *sql, int64_t from, int64_t to, struct err *e)
{
	struct pgq q;

	pgq_init(&q, sql);
	pgq_i64(&q, ":from", from);
	pgq_i64(&q, ":to", to);
	return wdo(x, &q, NULL, "rollup", e);
}

/* The one value of sql (a min()): *found false when NULL. */
static enum result first_at(struct pgw *x, const char *sql, int64_t *v, bool *found, struct err *e)
{
	struct pgq q;
	PGresult *r;

	*found = false;
	pgq_init(&q, sql);
	r = wrun(x, &q, NULL, "rollup", e);
	if (!r)
		return e->code;
	if (PQntuples(r) && !pg_isnull(r, 0, 0)) {
		*v = pg_i64(r, 0, 0);
		*found = true;
	}
	PQclear(r);
	return RC_OK;
}

enum result pgm_rollup(struct pgw *x, struct store_write *w)
{
	__typeof__(w->in.rollup) *ru = &w->in.rollup;
	int64_t upto = ru->upto - ru->upto % MIN_MS, m1, h1, to, toh, first = 0, start;
	bool f1, fh, any;
	enum result r = mark_get(x, "rollup.1m", &m1, &f1, &w->err);

	ru->more = false;
	if (r == RC_OK)
		r = mark_get(x, "rollup.1h", &h1, &fh, &w->err);
	if (r != RC_OK)
		return r;
	if (!f1) {
		r = first_at(x, "SELECT min(at) FROM metric_raw", &first, &any, &w->err);
		if (r != RC_OK)
			return r;
		m1 = any ? first - first % HOUR_MS : upto - upto % HOUR_MS;
	}
	start = m1;
	to = upto;
	if (ru->max_span > 0 && to - m1 > ru->max_span)
		to = m1 + ru->max_span - (m1 + ru->max_span) % MIN_MS;
	if (to > m1) {
		r = exec_range(x, "INSERT INTO metric_1m (series_id, bucket, n, sum, min, max)"
			       " SELECT series_id, at - at % 60000, count(*), sum(value), min(value), max(value)"
			       " FROM metric_raw WHERE at >= :from AND at < :to GROUP BY 1, 2" MERGE_1M,
			       m1, to, &w->err);
		if (r == RC_OK)
			r = mark_set(x, "rollup.1m", to, &w->err);
		if (r != RC_OK)
			return r;
		m1 = to;
	} else if (!f1) {
		r = mark_set(x, "rollup.1m", m1, &w->err);
		if (r != RC_OK)
			return r;
	}
	/* The first 1h rollup starts at the hour of the first minute rolled
	 * up (start), not at the hour the minutes have reached: those hours
	 * are rolled up too. (store_sqlite_monitor.c starts at the hour of
	 * the new m1, which skips the hours a first call with a long span
	 * rolled up to minutes.) */
	if (!fh)
		h1 = start - start % HOUR_MS;
	toh = m1 - m1 % HOUR_MS;
	if (toh > h1) {
		r = exec_range(x, "INSERT INTO metric_1h (series_id, bucket, n, sum, min, max)"
			       " SELECT series_id, bucket - bucket % 3600000, sum(n), sum(sum), min(min), max(max)"
			       " FROM metric_1m WHERE bucket >= :from AND bucket < :to GROUP BY 1, 2" MERGE_1H,
			       h1, toh, &w->err);
		if (r != RC_OK)
			return r;
		h1 = toh;
		fh = false;
	}
	if (!fh || toh > h1)
		r = mark_set(x, "rollup.1h", h1, &w->err);
	ru->more = to < upto;
	return r;
}

static enum result delete_before(struct pgw *x, const char *first_sql, const char *del_sql,
				 int64_t before, int64_t chunk, bool *more, struct err *e)
{
	int64_t first = 0, cut;
	bool any;
	enum result r = first_at(x, first_sql, &first, &any, e);

	if (r != RC_OK || !any || first >= before)
		return r;
	cut = first + chunk < before ? first + chunk : before;
	*more = *more || cut < before;
	return exec_range(x, del_sql, 0, cut, e);
}

enum result pgm_retain(struct pgw *x, struct store_write *w)
{
	__typeof__(w->in.retain) *rt = &w->in.retain;
	enum result r;

	rt->more = false;
	r = delete_before(x, "SELECT min(at) FROM metric_raw",
			  "DELETE FROM metric_raw WHERE at < :to",
			  rt->raw_before, HOUR_MS, &rt->more, &w->err);
	if (r == RC_OK)
		r = delete_before(x, "SELECT min(at) FROM agent_batches",
				  "DELETE FROM agent_batches WHERE at < :to",
				  rt->raw_before, 24 * (int64_t)HOUR_MS, &rt->more, &w->err);
	if (r == RC_OK)
		r = delete_before(x, "SELECT min(bucket) FROM metric_1m",
				  "DELETE FROM metric_1m WHERE bucket < :to",
				  rt->m1_before, 24 * (int64_t)HOUR_MS, &rt->more, &w->err);
	if (r == RC_OK)
		r = delete_before(x, "SELECT min(bucket) FROM metric_1h",
				  "DELETE FROM metric_1h WHERE bucket < :to",
				  rt->h1_before, 30 * 24 * (int64_t)HOUR_MS, &rt->more, &w->err);
	return r;
}

/* ---- checks, maintenance windows, receivers ----------------------------------------------- */

static void bind_check(struct pgq *q, const struct check_row *c)
{
	pgq_ref(q, ":tenant", c->client_id);
	pgq_ref(q, ":device", c->device_id);
	pgq_txt(q, ":name", c->name);
	pgq_txt(q, ":metric", c->metric);
	pgq_txt(q, ":labels", c->labels);
	pgq_txt(q, ":cmp", check_cmp_names[c->rule.cmp]);
	pgq_f64(q, ":warn", c->rule.warn, c->rule.has_warn);
	pgq_f64(q, ":crit", c->rule.crit, c->rule.has_crit);
	pgq_f64(q, ":hyst", c->rule.hysteresis, true);
	pgq_i64(q, ":for", c->rule.for_ms / 1000);
	pgq_i64(q, ":flap", c->rule.flap_changes);
	pgq_i64(q, ":flapwin", c->rule.flap_window_ms / 1000);
	pgq_txt(q, ":impact", c->impact ? c->impact : "medium");
	pgq_i64(q, ":enabled", c->enabled ? 1 : 0);
}

/* The device (when set) must be in the client (when set) and in scope;
 * a device without a client gives its own (*client). */
static enum result check_target(struct pgw *x, struct store_write *w, int64_t *client,
				int64_t device, struct err *e)
{
	enum result r;

	if (device && !*client) {
		struct pgq q;
		PGresult *res;

		pgq_init(&q, "SELECT tenant_id FROM devices WHERE id = :id");
		pgq_i64(&q, ":id", device);
		res = wrun(x, &q, NULL, "device", e);
		if (!res)
			return e->code;
		if (PQntuples(res))
			*client = pg_i64(res, 0, 0);
		PQclear(res);
		if (!*client)
			return err_set(e, RC_INVALID, "device_id", "is not a device");
	}
	if (*client) {
		r = pgw_tenant_visible(x, &w->scope, *client, e);
		if (r != RC_OK)
			return r == RC_NOTFOUND ? err_set(e, RC_INVALID, "client_id", "is not a client") : r;
	}
	if (device) {
		struct pgq q;
		PGresult *res;
		bool got;

		pgq_init(&q, "SELECT 1 FROM devices WHERE id = :id AND (:tenant = 0 OR tenant_id = :tenant)");
		pgq_i64(&q, ":id", device);
		pgq_i64(&q, ":tenant", *client);
		res = wrun(x, &q, NULL, "device", e);
		if (!res)
			return e->code;
		got = PQntuples(res) > 0;
		PQclear(res);
		if (!got)
			return err_set(e, RC_INVALID, "device_id", "is not a device of this client");
	}
	return RC_OK;
}

/* The end of a create (RETURNING id) or an update (RETURNING version)
 * whose statement ran (res): as SQLite, an update that matched nothing is
 * RC_STALE when a version was asked for, else RC_NOTFOUND. */
static enum result put_done(struct store_write *w, PGresult *res, int64_t id, const char *what)
{
	bool got = PQntuples(res) > 0;
	int64_t v = got ? pg_i64(res, 0, 0) : 0;

	PQclear(res);
	if (!got && !id)
		return err_set(&w->err, RC_IO, NULL, "%s: no id returned", what);
	if (!got)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "%s not found or changed by someone else", what);
	w->id = id ? id : v;
	w->version = id ? v : 1;
	return RC_OK;
}

enum result pgm_check_put(struct pgw *x, struct store_write *w)
{
	struct check_row *c = &w->in.check;
	struct pgq q;
	PGresult *res;
	enum result r = only_staff(w, "checks");

	w->id = c->id;
	if (r == RC_OK)
		r = check_target(x, w, &c->client_id, c->device_id, &w->err);
	if (r != RC_OK)
		return r;
	pgq_init(&q, c->id ? "UPDATE checks SET tenant_id = :tenant, device_id = :device, name = :name,"
			     " metric = :metric, labels = :labels, cmp = :cmp, warn = :warn, crit = :crit,"
			     " hysteresis = :hyst, for_seconds = :for, flap_changes = :flap,"
			     " flap_window_seconds = :flapwin, impact = :impact, enabled = :enabled,"
			     " updated_at = :now, version = version + 1"
			     " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			   : "INSERT INTO checks (tenant_id, device_id, name, metric, labels, cmp, warn, crit,"
			     " hysteresis, for_seconds, flap_changes, flap_window_seconds, impact, enabled,"
			     " created_at, updated_at) VALUES (:tenant, :device, :name, :metric, :labels, :cmp,"
			     " :warn, :crit, :hyst, :for, :flap, :flapwin, :impact, :enabled, :now, :now)"
			     " RETURNING id");
	bind_check(&q, c);
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_i64(&q, ":id", c->id);
	pgq_i64(&q, ":version", w->if_version);
	res = wrun(x, &q, NULL, "check", &w->err);
	w->audit.tenant_id = c->client_id;
	if (!res)
		return w->err.code;
	return put_done(w, res, c->id, "check");
}

/* The default checks of a new client (in the transaction that makes it). */
enum result pgm_default_checks(struct pgw *x, int64_t client, struct err *e)
{
	for (size_t i = 0; i < monitor_default_checks_n; i++) {
		struct check_row c = monitor_default_checks[i];
		struct pgq q;
		enum result r;

		pgq_init(&q, "INSERT INTO checks (tenant_id, device_id, name, metric, labels,"
			 " cmp, warn, crit, hysteresis, for_seconds, flap_changes,"
			 " flap_window_seconds, impact, enabled, created_at, updated_at)"
			 " VALUES (:tenant, :device, :name, :metric, :labels, :cmp, :warn, :crit,"
			 " :hyst, :for, :flap, :flapwin, :impact, :enabled, :now, :now)");
		c.client_id = client;
		bind_check(&q, &c);
		pgq_i64(&q, ":now", clock_now_ms());
		r = wdo(x, &q, NULL, "check", e);
		if (r != RC_OK)
			return r;
	}
	return RC_OK;
}

static enum result delete_scoped(struct pgw *x, struct store_write *w, const char *table,
				 const char *what)
{
	char sql[256];
	struct pgq q;
	PGresult *r;
	bool got;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = :id RETURNING coalesce(tenant_id, 0)",
		 table);
	pgq_init(&q, sql);
	pgq_i64(&q, ":id", w->id);
	r = wrun(x, &q, NULL, what, &w->err);
	if (!r)
		return w->err.code;
	got = PQntuples(r) > 0;
	if (got)
		w->audit.tenant_id = pg_i64(r, 0, 0);
	PQclear(r);
	if (!got)
		return err_set(&w->err, RC_NOTFOUND, NULL, "%s not found", what);
	return RC_OK;
}

enum result pgm_check_delete(struct pgw *x, struct store_write *w)
{
	enum result r = only_staff(w, "checks");

	return r == RC_OK ? delete_scoped(x, w, "checks", "check") : r;
}

enum result pgm_mwindow_put(struct pgw *x, struct store_write *w)
{
	struct mwindow_row *m = &w->in.mw;
	struct pgq q;
	PGresult *res;
	enum result r = only_staff(w, "maintenance windows");

	w->id = m->id;
	if (r == RC_OK) {
		r = check_target(x, w, &m->client_id, m->device_id, &w->err);
		if (r == RC_OK && !m->client_id)
			r = err_set(&w->err, RC_INVALID, "client_id", "is required");
	}
	if (r != RC_OK)
		return r;
	pgq_init(&q, m->id ? "UPDATE maintenance_windows SET tenant_id = :tenant, device_id = :device,"
			     " name = :name, starts_at = :starts, ends_at = :ends, repeat = :repeat,"
			     " repeat_until = :until, timezone = :tz, updated_at = :now, version = version + 1"
			     " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			   : "INSERT INTO maintenance_windows (tenant_id, device_id, name, starts_at, ends_at,"
			     " repeat, repeat_until, timezone, created_by, created_at, updated_at) VALUES"
			     " (:tenant, :device, :name, :starts, :ends, :repeat, :until, :tz, :by, :now, :now)"
			     " RETURNING id");
	pgq_i64(&q, ":tenant", m->client_id);
	pgq_ref(&q, ":device", m->device_id);
	pgq_txt(&q, ":name", m->name);
	pgq_i64(&q, ":starts", m->starts_at);
	pgq_i64(&q, ":ends", m->ends_at);
	pgq_txt(&q, ":repeat", m->repeat);
	pgq_i64(&q, ":until", m->repeat_until);
	pgq_txt(&q, ":tz", m->timezone);
	pgq_i64(&q, ":by", w->scope.user_id);
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_i64(&q, ":id", m->id);
	pgq_i64(&q, ":version", w->if_version);
	res = wrun(x, &q, NULL, "maintenance window", &w->err);
	w->audit.tenant_id = m->client_id;
	if (!res)
		return w->err.code;
	return put_done(w, res, m->id, "maintenance window");
}

enum result pgm_am_receiver_delete(struct pgw *x, struct store_write *w)
{
	enum result r = only_staff(w, "Alertmanager receivers");

	return r == RC_OK ? delete_scoped(x, w, "am_receivers", "Alertmanager receiver") : r;
}

enum result pgm_mwindow_delete(struct pgw *x, struct store_write *w)
{
	enum result r = only_staff(w, "maintenance windows");

	return r == RC_OK ? delete_scoped(x, w, "maintenance_windows", "maintenance window") : r;
}

enum result pgm_am_receiver_create(struct pgw *x, struct store_write *w)
{
	struct am_receiver_row *a = &w->in.amr.row;
	struct pgq q;
	PGresult *res;
	enum result r = only_staff(w, "Alertmanager receivers");

	w->id = 0;
	if (r == RC_OK && a->client_id)
		r = check_target(x, w, &a->client_id, 0, &w->err);
	if (r != RC_OK)
		return r;
	pgq_init(&q, "INSERT INTO am_receivers (tenant_id, name, token_hash, client_label, device_label,"
		 " created_at) VALUES (:tenant, :name, :hash, :clabel, :dlabel, :now) RETURNING id");
	pgq_ref(&q, ":tenant", a->client_id);
	pgq_txt(&q, ":name", a->name);
	pgq_blob(&q, ":hash", w->in.amr.hash, 32);
	pgq_txt(&q, ":clabel", a->client_label);
	pgq_txt(&q, ":dlabel", a->device_label);
	pgq_i64(&q, ":now", clock_now_ms());
	res = wrun(x, &q, NULL, "receiver", &w->err);
	if (!res)
		return w->err.code;
	w->id = pg_i64(res, 0, 0);
	PQclear(res);
	w->version = 1;
	w->audit.tenant_id = a->client_id;
	return RC_OK;
}

/* ---- reads ----------------------------------------------------------------------------------- */

typedef void (*bind_fn)(struct pgq *q, const void *arg);

/* Runs sql on a reader, binding the scope (when sc: :all, :scope) and
 * then bind(arg), mapping up to max rows of sz bytes into items. */
static enum result read_rows(struct store *st, const char *sql, const struct scope *sc,
			     bind_fn bind, const void *arg, pg_row_fn row, struct arena *a,
			     void *items, size_t sz, size_t max, size_t *n, struct err *e)
{
	struct pgq q;
	enum result r;

	*n = 0;
	pgq_init(&q, sql);
	if (sc)
		pgq_scope(&q, sc);
	bind(&q, arg);
	r = pgr_rows(st, &q, a, items, sz, max, n, row, e);
	pgq_release(&q);
	return r;
}

static void bind_none(struct pgq *q, const void *arg)
{
	UNUSED(q);
	UNUSED(arg);
}

static void bind_id(struct pgq *q, const void *arg)
{
	pgq_i64(q, ":id", *(const int64_t *)arg);
}

static void bind_client(struct pgq *q, const void *arg)
{
	pgq_i64(q, ":client", *(const int64_t *)arg);
}

static void bind_hash(struct pgq *q, const void *arg)
{
	pgq_blob(q, ":hash", arg, 32);
}

static void bind_max(struct pgq *q, size_t max)
{
	pgq_i64(q, ":limit", (int64_t)max);
}

#define ETOK_COLS "id, tenant_id, name, created_by, created_at, expires_at, revoked_at, uses, max_uses"

static void row_etok(const PGresult *r, int i, struct arena *a, void *item)
{
	struct enroll_token_row *t = item;

	t->id = pg_i64(r, i, 0);
	t->client_id = pg_i64(r, i, 1);
	t->name = pg_str(r, i, 2, a);
	t->created_by = pg_i64(r, i, 3);
	t->created_at = pg_i64(r, i, 4);
	t->expires_at = pg_i64(r, i, 5);
	t->revoked_at = pg_i64(r, i, 6);
	t->uses = pg_i64(r, i, 7);
	t->max_uses = pg_i64(r, i, 8);
}

enum result pgm_enroll_token_list(struct store *st, const struct scope *sc, int64_t client,
				  struct arena *a, struct enroll_token_row **items, size_t *n,
				  struct err *e)
{
	char sql[512];

	*n = 0;
	*items = arena_alloc(a, sizeof(**items) * LIST_MAX);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " ETOK_COLS " FROM enroll_tokens WHERE tenant_id = :client%s"
		 " ORDER BY id LIMIT %d", vis(sc, ""), LIST_MAX);
	return read_rows(st, sql, sc, bind_client, &client, row_etok, a, *items, sizeof(**items),
			 LIST_MAX, n, e);
}

#define DEVICE_COLS "d.id, d.tenant_id, coalesce(d.enroll_token_id, 0), d.hostname, d.os," \
	" d.inventory, d.latest, d.inventory_at, d.last_seen_at, d.created_at, d.updated_at," \
	" d.version, d.active"
/* The same without the big columns (latest readings, inventory). */
#define DEVICE_COLS_LITE "d.id, d.tenant_id, coalesce(d.enroll_token_id, 0), d.hostname, d.os," \
	" NULL, NULL, d.inventory_at, d.last_seen_at, d.created_at, d.updated_at," \
	" d.version, d.active"

static void row_device(const PGresult *r, int i, struct arena *a, void *item)
{
	struct device *d = item;

	d->id = pg_i64(r, i, 0);
	d->client_id = pg_i64(r, i, 1);
	d->enroll_token_id = pg_i64(r, i, 2);
	d->hostname = pg_str(r, i, 3, a);
	d->os = pg_str(r, i, 4, a);
	d->inventory = pg_str(r, i, 5, a);
	d->latest = pg_str(r, i, 6, a);
	d->inventory_at = pg_i64(r, i, 7);
	d->last_seen_at = pg_i64(r, i, 8);
	d->created_at = pg_i64(r, i, 9);
	d->updated_at = pg_i64(r, i, 10);
	d->version = pg_i64(r, i, 11);
	d->active = pg_i64(r, i, 12) != 0;
}

enum result pgm_device_auth(struct store *st, const unsigned char hash[32], struct arena *a,
			    struct device *out, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " DEVICE_COLS " FROM devices d WHERE d.token_hash = :hash",
				  NULL, bind_hash, hash, row_device, a, out, sizeof(*out), 1, &n, e);

	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "no such device token");
	return r;
}

enum result pgm_device_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
			   struct device *out, struct err *e)
{
	char sql[512];
	size_t n = 0;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " DEVICE_COLS " FROM devices d WHERE d.id = :id%s",
		 vis(sc, "d"));
	r = read_rows(st, sql, sc, bind_id, &id, row_device, a, out, sizeof(*out), 1, &n, e);
	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "device not found");
	return r;
}

static void bind_list_q(struct pgq *q, const void *arg)
{
	const struct list_q *lq = arg;

	pgq_i64(q, ":after", lq->after);
	pgq_i64(q, ":client", lq->client_id);
}

enum result pgm_device_list(struct store *st, const struct scope *sc, const struct list_q *lq,
			    struct arena *a, struct device_list *out, struct err *e)
{
	char sql[768];
	int limit = lq->limit > 0 && lq->limit <= LIST_MAX ? lq->limit : 100;
	enum result r;

	out->next_after = 0;
	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(limit + 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " DEVICE_COLS " FROM devices d WHERE d.id > :after%s%s"
		 " ORDER BY d.id LIMIT %d", vis(sc, "d"),
		 lq->client_id ? " AND d.tenant_id = :client" : "", limit + 1);
	r = read_rows(st, sql, sc, bind_list_q, lq, row_device, a, out->items, sizeof(*out->items),
		      (size_t)limit + 1, &out->n, e);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

struct silent_q { int64_t before; size_t max; };

static void bind_silent(struct pgq *q, const void *arg)
{
	const struct silent_q *s = arg;

	pgq_i64(q, ":before", s->before);
	bind_max(q, s->max);
}

enum result pgm_devices_silent(struct store *st, int64_t before, size_t max, struct arena *a,
			       struct device_list *out, struct err *e)
{
	struct silent_q s = { before, max };

	out->next_after = 0;
	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (max ? max : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* The most recently silent first (those whose alert may have to be
	 * raised; the long silent have theirs); ties by id, as SQLite's index. */
	return read_rows(st, "SELECT " DEVICE_COLS_LITE " FROM devices d WHERE d.last_seen_at < :before"
			 " AND d.active = 1 AND (d.last_seen_at > 0 OR d.created_at < :before)"
			 " ORDER BY d.last_seen_at DESC, d.id DESC LIMIT :limit", NULL, bind_silent, &s, row_device,
			 a, out->items, sizeof(*out->items), max, &out->n, e);
}

#define CHECK_COLS "c.id, coalesce(c.tenant_id, 0), coalesce(c.device_id, 0), c.name, c.metric," \
	" c.labels, c.cmp, c.warn, c.crit, c.hysteresis, c.for_seconds, c.flap_changes," \
	" c.flap_window_seconds, c.impact, c.enabled, c.created_at, c.updated_at, c.version"

static void row_check(const PGresult *r, int i, struct arena *a, void *item)
{
	struct check_row *c = item;
	int cmp;

	memset(c, 0, sizeof(*c));
	c->id = pg_i64(r, i, 0);
	c->client_id = pg_i64(r, i, 1);
	c->device_id = pg_i64(r, i, 2);
	c->name = pg_str(r, i, 3, a);
	c->metric = pg_str(r, i, 4, a);
	c->labels = pg_str(r, i, 5, a);
	cmp = name_index(check_cmp_names, pg_isnull(r, i, 6) ? NULL : PQgetvalue(r, i, 6));
	c->rule.cmp = cmp < 0 ? CMP_GT : (enum check_cmp)cmp;
	c->rule.has_warn = !pg_isnull(r, i, 7);
	c->rule.warn = pg_f64(r, i, 7);
	c->rule.has_crit = !pg_isnull(r, i, 8);
	c->rule.crit = pg_f64(r, i, 8);
	c->rule.hysteresis = pg_f64(r, i, 9);
	c->rule.for_ms = pg_i64(r, i, 10) * 1000;
	c->rule.flap_changes = pg_int(r, i, 11);
	c->rule.flap_window_ms = pg_i64(r, i, 12) * 1000;
	c->impact = pg_str(r, i, 13, a);
	c->enabled = pg_i64(r, i, 14) != 0;
	c->created_at = pg_i64(r, i, 15);
	c->updated_at = pg_i64(r, i, 16);
	c->version = pg_i64(r, i, 17);
}

static void row_id(const PGresult *r, int i, struct arena *a, void *item);

/* How many rows a count query gives (the lists of everything are sized
 * by it, a few spare for rows added meanwhile; those wait for the next
 * reload). */
static size_t count_rows(struct store *st, const char *sql, size_t cap, struct err *e)
{
	int64_t n = 0;
	size_t got = 0;

	if (read_rows(st, sql, NULL, bind_none, NULL, row_id, NULL, &n, sizeof(n), 1, &got, e) != RC_OK)
		return cap;
	return n + 64 < (int64_t)cap ? (size_t)n + 64 : cap;
}

static enum result checks_read(struct store *st, const char *sql, const struct scope *sc,
			       bind_fn bind, const void *arg, struct arena *a, struct check_list *out,
			       size_t max, struct err *e)
{
	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * max);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, sql, sc, bind, arg, row_check, a, out->items, sizeof(*out->items), max,
			 &out->n, e);
}

#define CHECKS_ALL_MAX 100000

enum result pgm_check_list_all(struct store *st, struct arena *a, struct check_list *out,
			       struct err *e)
{
	char sql[768];

	size_t max = count_rows(st, "SELECT count(*) FROM checks", CHECKS_ALL_MAX, e);

	snprintf(sql, sizeof(sql), "SELECT " CHECK_COLS " FROM checks c"
		 " ORDER BY coalesce(c.tenant_id, 0), c.id LIMIT %zu", max);
	return checks_read(st, sql, NULL, bind_none, NULL, a, out, max, e);
}

enum result pgm_check_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
			  struct check_row *out, struct err *e)
{
	char sql[768];
	struct check_list l;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " CHECK_COLS " FROM checks c WHERE c.id = :id%s", vis(sc, "c"));
	r = checks_read(st, sql, sc, bind_id, &id, a, &l, 1, e);
	if (r == RC_OK && !l.n)
		return err_set(e, RC_NOTFOUND, NULL, "check not found");
	if (r == RC_OK)
		*out = l.items[0];
	return r;
}

enum result pgm_check_list(struct store *st, const struct scope *sc, int64_t client,
			   struct arena *a, struct check_list *out, struct err *e)
{
	char sql[768];

	snprintf(sql, sizeof(sql), "SELECT " CHECK_COLS " FROM checks c WHERE 1 = 1%s%s ORDER BY c.id"
		 " LIMIT %d", vis(sc, "c"),
		 client ? " AND (c.tenant_id = :client OR c.tenant_id IS NULL)" : "", LIST_MAX);
	return checks_read(st, sql, sc, bind_client, &client, a, out, LIST_MAX, e);
}

#define ALERT_COLS "a.id, a.tenant_id, coalesce(a.device_id, 0), coalesce(a.check_id, 0)," \
	" coalesce(a.ticket_id, 0), a.ticket_version, a.source, a.key, a.name, a.labels, a.summary," \
	" d.hostname, a.state, a.value, a.in_maintenance, a.acked_by, a.acked_at, a.firing_since," \
	" a.resolved_at, a.created_at, a.updated_at, a.version"
#define ALERT_FROM " FROM alerts a LEFT JOIN devices d ON d.id = a.device_id"

static void row_alert_cols(const PGresult *r, int i, struct arena *a, struct alert_row *x, int o)
{
	memset(x, 0, sizeof(*x));
	x->id = pg_i64(r, i, o + 0);
	x->client_id = pg_i64(r, i, o + 1);
	x->device_id = pg_i64(r, i, o + 2);
	x->check_id = pg_i64(r, i, o + 3);
	x->ticket_id = pg_i64(r, i, o + 4);
	x->ticket_version = pg_i64(r, i, o + 5);
	x->source = pg_str(r, i, o + 6, a);
	x->key = pg_str(r, i, o + 7, a);
	x->name = pg_str(r, i, o + 8, a);
	x->labels = pg_str(r, i, o + 9, a);
	x->summary = pg_str(r, i, o + 10, a);
	x->hostname = pg_str(r, i, o + 11, a);
	alert_state_parse(pg_isnull(r, i, o + 12) ? NULL : PQgetvalue(r, i, o + 12), &x->st);
	x->has_value = !pg_isnull(r, i, o + 13);
	x->value = pg_f64(r, i, o + 13);
	x->in_maintenance = pg_i64(r, i, o + 14) != 0;
	x->acked_by = pg_i64(r, i, o + 15);
	x->acked_at = pg_i64(r, i, o + 16);
	x->firing_since = pg_i64(r, i, o + 17);
	x->resolved_at = pg_i64(r, i, o + 18);
	x->created_at = pg_i64(r, i, o + 19);
	x->updated_at = pg_i64(r, i, o + 20);
	x->version = pg_i64(r, i, o + 21);
}

static void row_alert(const PGresult *r, int i, struct arena *a, void *item)
{
	row_alert_cols(r, i, a, item, 0);
}

enum result pgm_alert_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
			  struct alert_row *out, struct err *e)
{
	char sql[1024];
	size_t n = 0;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " ALERT_COLS ALERT_FROM " WHERE a.id = :id%s", vis(sc, "a"));
	r = read_rows(st, sql, sc, bind_id, &id, row_alert, a, out, sizeof(*out), 1, &n, e);
	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "alert not found");
	return r;
}

static void bind_alert_q(struct pgq *q, const void *arg)
{
	const struct alert_q *aq = arg;

	pgq_i64(q, ":after", aq->after);
	pgq_i64(q, ":client", aq->client_id);
	pgq_i64(q, ":device", aq->device_id);
	pgq_i64(q, ":check", aq->check_id);
}

enum result pgm_alert_list(struct store *st, const struct scope *sc, const struct alert_q *aq,
			   struct arena *a, struct alert_list *out, struct err *e)
{
	static const char *const status_sql[] = {
		[ALQ_OPEN] = " AND a.status IN ('pending', 'firing')",
		[ALQ_FIRING] = " AND a.status = 'firing'",
		[ALQ_PENDING] = " AND a.status = 'pending'",
		[ALQ_RESOLVED] = " AND a.status = 'inactive' AND a.resolved_at > 0",
		[ALQ_ALL] = "",
	};
	char sql[1536];
	int limit = aq->limit > 0 && aq->limit <= LIST_MAX ? aq->limit : 100;
	enum result r;

	out->next_after = 0;
	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(limit + 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " ALERT_COLS ALERT_FROM " WHERE a.id > :after%s%s%s%s%s"
		 " ORDER BY a.id LIMIT %d", vis(sc, "a"),
		 aq->client_id ? " AND a.tenant_id = :client" : "",
		 aq->device_id ? " AND a.device_id = :device" : "",
		 aq->check_id ? " AND a.check_id = :check" : "",
		 status_sql[aq->status >= ALQ_OPEN && aq->status <= ALQ_ALL ? aq->status : ALQ_OPEN],
		 limit + 1);
	r = read_rows(st, sql, sc, bind_alert_q, aq, row_alert, a, out->items, sizeof(*out->items),
		      (size_t)limit + 1, &out->n, e);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

static void row_event_cols(const PGresult *r, int i, struct arena *a, struct alert_event_row *x,
			   int o)
{
	int sv;

	x->id = pg_i64(r, i, o + 0);
	x->alert_id = pg_i64(r, i, o + 1);
	x->client_id = pg_i64(r, i, o + 2);
	x->at = pg_i64(r, i, o + 3);
	x->kind = pg_str(r, i, o + 4, a);
	sv = name_index(severity_names, pg_isnull(r, i, o + 5) ? NULL : PQgetvalue(r, i, o + 5));
	x->severity = sv < 0 ? SEV_OK : (enum severity)sv;
	x->has_value = !pg_isnull(r, i, o + 6);
	x->value = pg_f64(r, i, o + 6);
	x->pending = pg_i64(r, i, o + 7) != 0;
}

static void row_event(const PGresult *r, int i, struct arena *a, void *item)
{
	row_event_cols(r, i, a, item, 0);
}

#define EVENT_COLS "e.id, e.alert_id, e.tenant_id, e.at, e.kind, e.severity, e.value, e.pending"

enum result pgm_alert_events(struct store *st, const struct scope *sc, int64_t alert_id,
			     struct arena *a, struct alert_event_list *out, struct err *e)
{
	char sql[512];

	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * LIST_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " EVENT_COLS " FROM alert_events e WHERE e.alert_id = :id%s"
		 " ORDER BY e.id DESC LIMIT %d", vis(sc, "e"), LIST_MAX);
	return read_rows(st, sql, sc, bind_id, &alert_id, row_event, a, out->items,
			 sizeof(*out->items), LIST_MAX, &out->n, e);
}

static void bind_limit(struct pgq *q, const void *arg)
{
	bind_max(q, *(const size_t *)arg);
}

enum result pgm_alerts_in_maintenance(struct store *st, size_t max, struct arena *a,
				      struct alert_list *out, struct err *e)
{
	out->next_after = 0;
	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (max ? max : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT " ALERT_COLS ALERT_FROM " WHERE a.in_maintenance = 1 ORDER BY a.id"
			 " LIMIT :limit", NULL, bind_limit, &max, row_alert, a, out->items,
			 sizeof(*out->items), max, &out->n, e);
}

static void row_work(const PGresult *r, int i, struct arena *a, void *item)
{
	struct alert_work *w = item;

	row_event_cols(r, i, a, &w->ev, 0);
	row_alert_cols(r, i, a, &w->al, 8);
}

enum result pgm_alert_work(struct store *st, size_t max, struct arena *a,
			   struct alert_work_list *out, struct err *e)
{
	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (max ? max : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* WHERE spelled as alert_events_pending's predicate: the partial
	 * index serves it in id order (alerts_in_maintenance likewise). */
	return read_rows(st, "SELECT " EVENT_COLS ", " ALERT_COLS " FROM alert_events e"
			 " JOIN alerts a ON a.id = e.alert_id LEFT JOIN devices d ON d.id = a.device_id"
			 " WHERE e.pending = 1 ORDER BY e.id LIMIT :limit", NULL, bind_limit, &max,
			 row_work, a, out->items, sizeof(*out->items), max, &out->n, e);
}

#define MW_COLS "m.id, m.tenant_id, coalesce(m.device_id, 0), m.name, m.repeat, m.timezone," \
	" m.starts_at, m.ends_at, m.repeat_until, m.created_by, m.created_at, m.updated_at, m.version"

static void row_mw(const PGresult *r, int i, struct arena *a, void *item)
{
	struct mwindow_row *m = item;

	m->id = pg_i64(r, i, 0);
	m->client_id = pg_i64(r, i, 1);
	m->device_id = pg_i64(r, i, 2);
	m->name = pg_str(r, i, 3, a);
	m->repeat = pg_str(r, i, 4, a);
	m->timezone = pg_str(r, i, 5, a);
	m->starts_at = pg_i64(r, i, 6);
	m->ends_at = pg_i64(r, i, 7);
	m->repeat_until = pg_i64(r, i, 8);
	m->created_by = pg_i64(r, i, 9);
	m->created_at = pg_i64(r, i, 10);
	m->updated_at = pg_i64(r, i, 11);
	m->version = pg_i64(r, i, 12);
}

enum result pgm_mwindow_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
			    struct mwindow_row *out, struct err *e)
{
	char sql[512];
	size_t n = 0;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " MW_COLS " FROM maintenance_windows m WHERE m.id = :id%s",
		 vis(sc, "m"));
	r = read_rows(st, sql, sc, bind_id, &id, row_mw, a, out, sizeof(*out), 1, &n, e);
	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "maintenance window not found");
	return r;
}

#define MW_ALL_MAX 100000

enum result pgm_mwindow_list(struct store *st, const struct scope *sc, int64_t client,
			     struct arena *a, struct mwindow_list *out, struct err *e)
{
	char sql[512];
	size_t max = sc->all_tenants && !client
		? count_rows(st, "SELECT count(*) FROM maintenance_windows", MW_ALL_MAX, e) : LIST_MAX;

	out->n = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * max);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " MW_COLS " FROM maintenance_windows m WHERE 1 = 1%s%s"
		 " ORDER BY m.id LIMIT %zu", vis(sc, "m"), client ? " AND m.tenant_id = :client" : "",
		 max);
	return read_rows(st, sql, sc, bind_client, &client, row_mw, a, out->items,
			 sizeof(*out->items), max, &out->n, e);
}

#define AMR_COLS "id, coalesce(tenant_id, 0), name, client_label, device_label, created_at"

static void row_amr(const PGresult *r, int i, struct arena *a, void *item)
{
	struct am_receiver_row *x = item;

	x->id = pg_i64(r, i, 0);
	x->client_id = pg_i64(r, i, 1);
	x->name = pg_str(r, i, 2, a);
	x->client_label = pg_str(r, i, 3, a);
	x->device_label = pg_str(r, i, 4, a);
	x->created_at = pg_i64(r, i, 5);
}

enum result pgm_am_receiver_auth(struct store *st, const unsigned char hash[32], struct arena *a,
				 struct am_receiver_row *out, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " AMR_COLS " FROM am_receivers WHERE token_hash = :hash",
				  NULL, bind_hash, hash, row_amr, a, out, sizeof(*out), 1, &n, e);

	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "no such receiver token");
	return r;
}

enum result pgm_am_receiver_list(struct store *st, const struct scope *sc, struct arena *a,
				 struct am_receiver_row **items, size_t *n, struct err *e)
{
	size_t max = LIST_MAX;

	*n = 0;
	if (!sc->all_tenants) {
		*items = NULL;
		return RC_OK;
	}
	*items = arena_alloc(a, sizeof(**items) * LIST_MAX);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT " AMR_COLS " FROM am_receivers ORDER BY id LIMIT :limit", NULL,
			 bind_limit, &max, row_amr, a, *items, sizeof(**items), LIST_MAX, n, e);
}

struct series_q {
	int64_t device;
	const char *name, *labels;
	int64_t from;
};

static void bind_series_q(struct pgq *q, const void *arg)
{
	const struct series_q *sq = arg;

	pgq_i64(q, ":device", sq->device);
	pgq_txt(q, ":name", sq->name);
	pgq_txt(q, ":labels", sq->labels);
	pgq_i64(q, ":from", sq->from);
}

static void row_point(const PGresult *r, int i, struct arena *a, void *item)
{
	struct series_point *p = item;
	int64_t n = pg_i64(r, i, 1);

	UNUSED(a);
	p->at = pg_i64(r, i, 0);
	p->avg = n ? pg_f64(r, i, 2) / (double)n : 0;
	p->min = pg_f64(r, i, 3);
	p->max = pg_f64(r, i, 4);
}

#define POINTS_MAX 2000

enum result pgm_series_points(struct store *st, const struct scope *sc, int64_t device,
			      const char *name, const char *labels, int64_t step_ms, int64_t from,
			      struct arena *a, struct series_points *out, struct err *e)
{
	struct device d;
	struct series_q q = { device, name, labels ? labels : "", from };
	char sql[512];
	enum result r = pgm_device_get(st, sc, device, a, &d, e);

	out->n = 0;
	out->items = NULL;
	if (r != RC_OK)
		return r;
	out->items = arena_alloc(a, sizeof(*out->items) * POINTS_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT r.bucket, r.n, r.sum, r.min, r.max FROM metric_series s"
		 " JOIN %s r ON r.series_id = s.id WHERE s.device_id = :device AND s.name = :name"
		 " AND s.labels = :labels AND r.bucket >= :from ORDER BY r.bucket LIMIT %d",
		 step_ms >= HOUR_MS ? "metric_1h" : "metric_1m", POINTS_MAX);
	return read_rows(st, sql, NULL, bind_series_q, &q, row_point, a, out->items,
			 sizeof(*out->items), POINTS_MAX, &out->n, e);
}

struct host_q { int64_t client; const char *host; };

static void bind_host_q(struct pgq *q, const void *arg)
{
	const struct host_q *h = arg;

	pgq_i64(q, ":client", h->client);
	pgq_txt(q, ":host", h->host);
}

static void row_id(const PGresult *r, int i, struct arena *a, void *item)
{
	UNUSED(a);
	*(int64_t *)item = pg_i64(r, i, 0);
}

enum result pgm_device_by_host(struct store *st, int64_t client, const char *host, int64_t *id,
			       struct err *e)
{
	struct host_q h = { client, host };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT id FROM devices WHERE tenant_id = :client AND active = 1"
				  " AND lower(hostname) = lower(:host) ORDER BY id DESC LIMIT 1", NULL,
				  bind_host_q, &h, row_id, NULL, id, sizeof(*id), 1, &n, e);

	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "no such device");
	return r;
}

enum result pgm_client_by_name(struct store *st, const char *name, int64_t *id, struct err *e)
{
	struct host_q h = { 0, name };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT id FROM clients WHERE name = :host ORDER BY id LIMIT 1",
				  NULL, bind_host_q, &h, row_id, NULL, id, sizeof(*id), 1, &n, e);

	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "no such client");
	return r;
}

/* ---- reports (issue 9; docs/REPORTS.md "Monitoring") ---------------------------------------- */

struct report_mq {
	int64_t client, lo, hi, after, after_id, limit;
};

static void bind_report_mq(struct pgq *q, const void *arg)
{
	const struct report_mq *rq = arg;

	pgq_i64(q, ":client", rq->client);
	pgq_i64(q, ":lo", rq->lo);
	pgq_i64(q, ":hi", rq->hi);
	pgq_i64(q, ":after", rq->after);
	pgq_i64(q, ":after_id", rq->after_id);
	pgq_i64(q, ":limit", rq->limit);
}

static void row_report_alert_ev(const PGresult *r, int i, struct arena *a, void *item)
{
	struct report_alert_ev *v = item;

	v->alert_id = pg_i64(r, i, 0);
	v->id = pg_i64(r, i, 1);
	v->at = pg_i64(r, i, 2);
	v->kind = pg_str(r, i, 3, a);
	v->severity = pg_str(r, i, 4, a);
	v->name = pg_str(r, i, 5, a);
}

enum result pgm_report_alert_events(struct store *st, const struct scope *sc, int64_t client_id,
				    int64_t lo, int64_t hi, int64_t after_alert, int64_t after_id,
				    size_t max, struct arena *a, struct report_alert_ev *items,
				    size_t *n, struct err *e)
{
	struct report_mq rq = { client_id, lo, hi, after_alert, after_id, (int64_t)max };
	struct buf b;
	enum result r;

	buf_init(&b, 1024);
	sql_report_alert_events(&b, vis(sc, "f"), client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_mq, &rq, row_report_alert_ev, a, items,
		      sizeof(*items), max, n, e);
	buf_release(&b);
	return r;
}

static void row_report_device(const PGresult *r, int i, struct arena *a, void *item)
{
	struct report_device *d = item;

	d->id = pg_i64(r, i, 0);
	d->client_id = pg_i64(r, i, 1);
	d->hostname = pg_str(r, i, 2, a);
	d->created_at = pg_i64(r, i, 3);
	d->active = pg_i64(r, i, 4) != 0;
	d->up_minutes = pg_i64(r, i, 5);
}

enum result pgm_report_uptime(struct store *st, const struct scope *sc, int64_t client_id,
			      int64_t lo, int64_t hi, int64_t after, size_t max, struct arena *a,
			      struct report_device *items, size_t *n, struct err *e)
{
	struct report_mq rq = { client_id, lo, hi, after, 0, (int64_t)max };
	struct buf b;
	enum result r;

	buf_init(&b, 1024);
	sql_report_uptime(&b, vis(sc, "d"), client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_mq, &rq, row_report_device, a, items,
		      sizeof(*items), max, n, e);
	buf_release(&b);
	return r;
}
