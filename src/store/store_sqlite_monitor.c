/*
 * store_sqlite_monitor.c: monitoring's rows on SQLite (issue 7): enrolment
 * tokens, devices, check-ins (samples, batches, rollups), checks, alerts
 * and their events, maintenance windows, Alertmanager receivers.
 *
 * Invariants
 *  1. A check-in batch is stored once: its (device, batch id) row is
 *     inserted first, and a batch already there stores nothing else.
 *  2. Raw samples are time first (at, series); rollups series first. A
 *     sample for a minute (hour) that is already rolled up is merged into
 *     that rollup in the same transaction, so rollups never miss a late
 *     sample.
 *  3. The store decides nothing about alerts: it reads an alert's state,
 *     hands it to the caller's step function (src/monitor), and writes
 *     back the state and one event per effect the function returns.
 *  4. Series ids are cached by the writer (series are never renamed; a
 *     device's series go with the device).
 */
#include "base/common.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "base/clock.h"
#include "monitor/monitor.h"
#include "store/store_int.h"
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
};

struct series_cache {
	struct series_slot *slot;
	size_t used;
};

static uint64_t fnv1a(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

void sqm_cache_free(struct sq *s)
{
	struct series_cache *c = s->mon;

	if (!c)
		return;
	for (size_t i = 0; c->slot && i < SERIES_CACHE_SLOTS; i++)
		free(c->slot[i].key);
	free(c->slot);
	free(c);
	s->mon = NULL;
}

static struct series_slot *cache_find(struct sq *s, const char *key, uint64_t h, bool *hit)
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
	if (c->used > SERIES_CACHE_SLOTS / 4 * 3) {
		for (i = 0; i < SERIES_CACHE_SLOTS; i++) {
			free(c->slot[i].key);
			c->slot[i].key = NULL;
		}
		c->used = 0;
	}
	for (i = h & (SERIES_CACHE_SLOTS - 1); c->slot[i].key; i = (i + 1) & (SERIES_CACHE_SLOTS - 1))
		if (c->slot[i].hash == h && !strcmp(c->slot[i].key, key)) {
			*hit = true;
			return &c->slot[i];
		}
	return &c->slot[i];
}

/* The series id of (device, name, labels), made when new. */
static enum result series_id(struct sq *s, int64_t tenant, int64_t device, const struct sample *sm,
			     int64_t *id, struct err *e)
{
	char key[512];
	uint64_t h;
	bool hit;
	struct series_slot *slot;
	sqlite3_stmt *q;
	int rc;

	snprintf(key, sizeof(key), "%" PRId64 "\x1f%s\x1f%s", device, sm->name, sm->labels);
	h = fnv1a(key, 1469598103934665603ull);
	slot = cache_find(s, key, h, &hit);
	if (hit) {
		*id = slot->id;
		return RC_OK;
	}
	q = wq(s, "INSERT INTO metric_series (tenant_id, device_id, name, labels)"
	       " VALUES (:tenant, :device, :name, :labels)"
	       " ON CONFLICT (device_id, name, labels) DO UPDATE SET name = excluded.name"
	       " RETURNING id", e);
	if (!q)
		return RC_IO;
	bind_i64(q, ":tenant", tenant);
	bind_i64(q, ":device", device);
	bind_txt(q, ":name", sm->name);
	bind_txt(q, ":labels", sm->labels);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "series", e);
	if (slot && strlen(key) < sizeof(key) - 1) {
		slot->key = strdup(key);
		if (slot->key) {
			slot->hash = h;
			slot->id = *id;
			((struct series_cache *)s->mon)->used++;
		}
	}
	return RC_OK;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static enum result mark_get(struct sq *s, const char *name, int64_t *v, bool *found, struct err *e)
{
	sqlite3_stmt *q = wq(s, "SELECT value FROM monitor_marks WHERE name = :name", e);
	int rc;

	*found = false;
	*v = 0;
	if (!q)
		return RC_IO;
	bind_txt(q, ":name", name);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(q, 0);
		*found = true;
	}
	stmt_done(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? RC_OK : sq_error(s->wdb, rc, e, "marks");
}

static enum result mark_set(struct sq *s, const char *name, int64_t v, struct err *e)
{
	sqlite3_stmt *q = wq(s, "INSERT INTO monitor_marks (name, value) VALUES (:name, :v)"
			     " ON CONFLICT (name) DO UPDATE SET value = excluded.value", e);

	if (!q)
		return RC_IO;
	bind_txt(q, ":name", name);
	bind_i64(q, ":v", v);
	return wstep(s, q, NULL, "marks", e);
}

static void bind_real(sqlite3_stmt *q, const char *name, double v, bool has)
{
	int i = sqlite3_bind_parameter_index(q, name);

	if (!i)
		return;
	if (has)
		sqlite3_bind_double(q, i, v);
	else
		sqlite3_bind_null(q, i);
}

static const char *vis(const struct scope *sc, const char *alias)
{
	if (sc->all_tenants)
		return "";
	if (!strcmp(alias, "a"))
		return " AND a.tenant_id = :cid";
	if (!strcmp(alias, "d"))
		return " AND d.tenant_id = :cid";
	if (!strcmp(alias, "c"))
		return " AND (c.tenant_id = :cid OR c.tenant_id IS NULL)";
	if (!strcmp(alias, "m"))
		return " AND m.tenant_id = :cid";
	if (!strcmp(alias, "f"))
		return " AND f.tenant_id = :cid";
	return " AND tenant_id = :cid";
}

static enum result only_staff(const struct store_write *w, const char *what)
{
	if (!w->scope.all_tenants)
		return err_set((struct err *)&w->err, RC_DENIED, NULL, "only provider staff manage %s", what);
	return RC_OK;
}

/* ---- enrolment tokens and devices --------------------------------------------------------- */

enum result sqm_enroll_token_create(struct sq *s, struct store_write *w)
{
	const struct enroll_token_row *t = &w->in.etok.row;
	sqlite3_stmt *q;
	enum result r = only_staff(w, "enrolment tokens");

	if (r == RC_OK)
		r = tenant_visible(s, &w->scope, t->client_id, &w->err);
	if (r != RC_OK)
		return r;
	q = wq(s, "INSERT INTO enroll_tokens (tenant_id, name, token_hash, created_by, created_at,"
	       " expires_at, max_uses) VALUES (:tenant, :name, :hash, :by, :now, :expires, :max)", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":tenant", t->client_id);
	bind_txt(q, ":name", t->name);
	sqlite3_bind_blob(q, sqlite3_bind_parameter_index(q, ":hash"), w->in.etok.hash, 32, SQLITE_STATIC);
	bind_i64(q, ":by", w->scope.user_id);
	bind_i64(q, ":now", clock_now_ms());
	bind_i64(q, ":expires", t->expires_at);
	bind_i64(q, ":max", t->max_uses);
	r = wstep(s, q, NULL, "enrolment token", &w->err);
	if (r != RC_OK)
		return r;
	w->id = sqlite3_last_insert_rowid(s->wdb);
	w->version = 1;
	w->audit.tenant_id = t->client_id;
	return RC_OK;
}

enum result sqm_enroll_token_revoke(struct sq *s, struct store_write *w)
{
	sqlite3_stmt *q;
	enum result r = only_staff(w, "enrolment tokens");

	if (r != RC_OK)
		return r;
	q = wq(s, "UPDATE enroll_tokens SET revoked_at = :now WHERE id = :id AND tenant_id = :tenant"
	       " AND revoked_at = 0", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":now", clock_now_ms());
	bind_i64(q, ":id", w->id);
	bind_i64(q, ":tenant", w->in.etok.row.client_id);
	r = wstep(s, q, NULL, "enrolment token", &w->err);
	if (r == RC_OK && sqlite3_changes(s->wdb) == 0)
		return err_set(&w->err, RC_NOTFOUND, NULL, "enrolment token not found or already revoked");
	w->audit.tenant_id = w->in.etok.row.client_id;
	return r;
}

enum result sqm_device_enroll(struct sq *s, struct store_write *w)
{
	__typeof__(w->in.enroll) *in = &w->in.enroll;
	sqlite3_stmt *q = wq(s, "SELECT id, tenant_id, expires_at, revoked_at, uses, max_uses"
			     " FROM enroll_tokens WHERE token_hash = :hash", &w->err);
	int64_t tok = 0, tenant = 0, expires = 0, revoked = 0, uses = 0, max = 0;
	enum result r;
	int rc;

	if (!q)
		return RC_IO;
	sqlite3_bind_blob(q, sqlite3_bind_parameter_index(q, ":hash"), in->token_hash, 32, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		tok = sqlite3_column_int64(q, 0);
		tenant = sqlite3_column_int64(q, 1);
		expires = sqlite3_column_int64(q, 2);
		revoked = sqlite3_column_int64(q, 3);
		uses = sqlite3_column_int64(q, 4);
		max = sqlite3_column_int64(q, 5);
	}
	stmt_done(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_error(s->wdb, rc, &w->err, "enrolment token");
	if (rc == SQLITE_DONE || revoked || (expires && expires <= in->now) || (max && uses >= max))
		return err_set(&w->err, RC_DENIED, "enroll_token",
			       "is not a valid enrolment token (unknown, revoked, expired or used up)");
	q = wq(s, "UPDATE enroll_tokens SET uses = uses + 1 WHERE id = :id", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", tok);
	r = wstep(s, q, NULL, "enrolment token", &w->err);
	if (r != RC_OK)
		return r;
	q = wq(s, "INSERT INTO devices (tenant_id, hostname, os, token_hash, enroll_token_id, inventory,"
	       " inventory_at, created_at, updated_at) VALUES (:tenant, :host, :os, :hash, :tok, :inv,"
	       " :invat, :now, :now)", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":tenant", tenant);
	bind_txt(q, ":host", in->hostname);
	bind_txt(q, ":os", in->os);
	sqlite3_bind_blob(q, sqlite3_bind_parameter_index(q, ":hash"), in->device_hash, 32, SQLITE_STATIC);
	bind_i64(q, ":tok", tok);
	bind_txt(q, ":inv", in->inventory);
	bind_i64(q, ":invat", in->inventory ? in->now : 0);
	bind_i64(q, ":now", in->now);
	r = wstep(s, q, NULL, "device", &w->err);
	if (r != RC_OK)
		return r;
	w->id = sqlite3_last_insert_rowid(s->wdb);
	w->version = 1;
	in->client_id = tenant;
	w->audit.tenant_id = tenant;
	return RC_OK;
}

enum result sqm_device_update(struct sq *s, struct store_write *w)
{
	char sql[512];
	sqlite3_stmt *q;
	int rc;
	enum result r = only_staff(w, "devices");

	if (r != RC_OK)
		return r;
	snprintf(sql, sizeof(sql), "UPDATE devices AS d SET active = CASE WHEN :set_active THEN :active"
		 " ELSE active END, version = version + 1, updated_at = :now WHERE d.id = :id"
		 " AND (:version = 0 OR d.version = :version)%s RETURNING version, tenant_id",
		 vis(&w->scope, "d"));
	q = wq(s, sql, &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":set_active", !!(w->fields & F_ACTIVE));
	bind_i64(q, ":active", w->in.device.active);
	bind_i64(q, ":now", clock_now_ms());
	bind_i64(q, ":id", w->id);
	bind_i64(q, ":version", w->if_version);
	bind_vis(q, &w->scope);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		w->version = sqlite3_column_int64(q, 0);
		w->audit.tenant_id = sqlite3_column_int64(q, 1);
	}
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "device not found or changed by someone else");
	return rc == SQLITE_ROW ? RC_OK : step_error(s, rc, NULL, "device", &w->err);
}

/* ---- alerts: stepping the state machine ------------------------------------------------- */

/* The alert of p: by id (then also its client and shown value), or by
 * (client, key). */
static enum result alert_find(struct sq *s, const struct scope *sc, const struct alert_pair *p,
			      int64_t *id, struct alert *st, bool *found, int64_t *tenant,
			      double *value, bool *has_value, struct err *e)
{
	char sql[512];
	sqlite3_stmt *q;
	int rc;

	*found = false;
	*id = 0;
	memset(st, 0, sizeof(*st));
	if (p->alert_id) {
		snprintf(sql, sizeof(sql), "SELECT a.id, a.state, a.tenant_id, a.value FROM alerts a"
			 " WHERE a.id = :id%s", vis(sc, "a"));
		q = wq(s, sql, e);
		if (!q)
			return RC_IO;
		bind_i64(q, ":id", p->alert_id);
		bind_vis(q, sc);
	} else {
		if (!scope_sees_tenant(sc, p->client_id))
			return err_set(e, RC_NOTFOUND, NULL, "alert not found");
		q = wq(s, "SELECT id, state FROM alerts WHERE tenant_id = :tenant AND key = :key", e);
		if (!q)
			return RC_IO;
		bind_i64(q, ":tenant", p->client_id);
		bind_txt(q, ":key", p->key);
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		*found = true;
		alert_state_parse((const char *)sqlite3_column_text(q, 1), st);
		if (p->alert_id) {
			*tenant = sqlite3_column_int64(q, 2);
			*has_value = sqlite3_column_type(q, 3) != SQLITE_NULL;
			*value = sqlite3_column_double(q, 3);
		}
	}
	stmt_done(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_error(s->wdb, rc, e, "alert");
	if (!*found && p->alert_id)
		return err_set(e, RC_NOTFOUND, NULL, "alert not found");
	return RC_OK;
}

static enum result alert_save(struct sq *s, const struct scope *sc, const struct alert_pair *p,
			      int64_t *id, const struct alert *st, double value, bool has_value,
			      unsigned eff, int64_t now, struct err *e)
{
	char *state = alert_state_format(st);
	sqlite3_stmt *q;
	enum result r;

	if (!state)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	if (*id)
		q = wq(s, "UPDATE alerts SET status = :status, severity = :severity, value = :value,"
		       " state = :state, in_maintenance = :maint, firing_since = :firing,"
		       " resolved_at = :resolved, acked_by = CASE WHEN :ack THEN :by ELSE acked_by END,"
		       " acked_at = CASE WHEN :ack THEN :now ELSE acked_at END,"
		       " summary = coalesce(:summary, summary),"
		       " updated_at = :now, version = version + 1 WHERE id = :id", e);
	else
		q = wq(s, "INSERT INTO alerts (tenant_id, device_id, check_id, source, key, name, labels,"
		       " summary, status, severity, value, state, in_maintenance, firing_since, resolved_at,"
		       " created_at, updated_at) VALUES (:tenant, :device, :check, :source, :key, :name,"
		       " :labels, :summary, :status, :severity, :value, :state, :maint, :firing, :resolved,"
		       " :now, :now)", e);
	if (!q) {
		free(state);
		return RC_IO;
	}
	bind_i64(q, ":id", *id);
	bind_i64(q, ":tenant", p->client_id);
	bind_ref(q, ":device", p->device_id);
	bind_ref(q, ":check", p->check_id);
	bind_txt(q, ":source", p->source ? p->source : "check");
	bind_txt(q, ":key", p->key);
	bind_txt(q, ":name", p->name ? p->name : "");
	bind_txt(q, ":labels", p->labels ? p->labels : "");
	bind_txt(q, ":summary", p->summary);
	bind_txt(q, ":status", alert_status_names[st->status]);
	bind_txt(q, ":severity", severity_names[st->severity]);
	bind_real(q, ":value", value, has_value);
	bind_txt(q, ":state", state);
	bind_i64(q, ":maint", st->in_maintenance);
	bind_i64(q, ":firing", st->status == AL_FIRING ? st->firing_since : 0);
	bind_i64(q, ":resolved", st->resolved_at);
	bind_i64(q, ":ack", !!(eff & AE_ACK));
	bind_i64(q, ":by", sc->user_id);
	bind_i64(q, ":now", now);
	r = wstep(s, q, NULL, "alert", e);
	free(state);
	if (r == RC_OK && !*id)
		*id = sqlite3_last_insert_rowid(s->wdb);
	return r;
}

static enum result alert_events_put(struct sq *s, int64_t tenant, int64_t id,
				    const struct alert *st, double value, bool has_value,
				    unsigned eff, int64_t now, size_t *count, struct err *e)
{
	for (int k = 0; k < AE_KINDS; k++) {
		sqlite3_stmt *q;
		enum result r;

		if (!(eff & (1u << k)))
			continue;
		q = wq(s, "INSERT INTO alert_events (tenant_id, alert_id, at, kind, severity, value, pending)"
		       " VALUES (:tenant, :alert, :now, :kind, :severity, :value, 1)", e);
		if (!q)
			return RC_IO;
		bind_i64(q, ":tenant", tenant);
		bind_i64(q, ":alert", id);
		bind_i64(q, ":now", now);
		bind_txt(q, ":kind", alert_effect_names[k]);
		bind_txt(q, ":severity", severity_names[st->status == AL_INACTIVE && (1u << k) == AE_RESOLVE
						       ? st->announced_severity : st->severity]);
		bind_real(q, ":value", value, has_value);
		r = wstep(s, q, NULL, "alert event", e);
		if (r != RC_OK)
			return r;
		(*count)++;
	}
	return RC_OK;
}

static enum result alert_steps_run(struct sq *s, const struct scope *sc, struct alert_steps *as,
				   struct err *e)
{
	for (size_t i = 0; i < as->n; i++) {
		const struct alert_pair *p = &as->items[i];
		struct alert st, before;
		int64_t id, tenant = p->client_id;
		bool found, has_value = false;
		double value = 0;
		int eff;
		enum result r = alert_find(s, sc, p, &id, &st, &found, &tenant, &value, &has_value, e);

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
			r = alert_save(s, sc, &np, &id, &st, value, has_value, (unsigned)eff, as->now, e);
		} else {
			r = alert_save(s, sc, p, &id, &st, value, has_value, (unsigned)eff, as->now, e);
		}
		if (r == RC_OK)
			r = alert_events_put(s, tenant, id, &st, value, has_value, (unsigned)eff, as->now,
					     &as->events, e);
		if (r != RC_OK)
			return r;
		as->alert_id = id;
		as->client_id = tenant;
	}
	return RC_OK;
}

enum result sqm_alert_step(struct sq *s, struct store_write *w)
{
	struct alert_steps *as = w->in.steps;
	enum result r;

	as->events = 0;
	as->alert_id = 0;
	as->client_id = 0;
	r = alert_steps_run(s, &w->scope, as, &w->err);

	w->id = as->alert_id;
	w->audit.tenant_id = as->client_id;
	return r;
}

enum result sqm_alert_events_done(struct sq *s, struct store_write *w)
{
	sqlite3_stmt *q;
	enum result r;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only the system marks alert events done");
	q = wq(s, "UPDATE alert_events SET pending = 0 WHERE alert_id = :alert"
	       " AND id <= :upto AND pending = 1", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":alert", w->in.done.alert_id);
	bind_i64(q, ":upto", w->in.done.upto);
	r = wstep(s, q, NULL, "alert event", &w->err);
	if (r == RC_OK && sqlite3_changes(s->wdb) == 0)
		return err_set(&w->err, RC_CONFLICT, "alert", "the alert's events were already done");
	return r;
}

/* The ticket half of the monitor's work (ticket_write.alert_id): called by
 * the ticket writes once the ticket row is written. */
enum result sqm_alert_ticket(struct sq *s, const struct ticket_write *tw, struct err *e)
{
	sqlite3_stmt *q = wq(s, "UPDATE alert_events SET pending = 0 WHERE alert_id = :alert"
			     " AND id <= :upto AND pending = 1", e);
	enum result r;

	if (!q)
		return RC_IO;
	bind_i64(q, ":alert", tw->alert_id);
	bind_i64(q, ":upto", tw->alert_events_upto);
	r = wstep(s, q, NULL, "alert event", e);
	if (r == RC_OK && sqlite3_changes(s->wdb) == 0)
		return err_set(e, RC_CONFLICT, "alert", "the alert's events were already done");
	if (r != RC_OK)
		return r;
	q = wq(s, "UPDATE alerts SET ticket_id = :tid, ticket_version = CASE WHEN :rebase THEN"
	       " (SELECT coalesce(max(id), 0) FROM ticket_events WHERE ticket_id = :tid)"
	       " ELSE ticket_version END WHERE id = :alert", e);
	if (!q)
		return RC_IO;
	bind_i64(q, ":tid", tw->t.id);
	bind_i64(q, ":rebase", tw->alert_rebase);
	bind_i64(q, ":alert", tw->alert_id);
	return wstep(s, q, NULL, "alert", e);
}

/* ---- check-ins ------------------------------------------------------------------------------ */

static enum result rollup_merge(struct sq *s, const char *table, int64_t series, int64_t bucket,
				double v, struct err *e)
{
	char sql[512];
	sqlite3_stmt *q;

	snprintf(sql, sizeof(sql), "INSERT INTO %s (series_id, bucket, n, sum, min, max)"
		 " VALUES (:series, :bucket, 1, :v, :v, :v) ON CONFLICT (series_id, bucket) DO UPDATE"
		 " SET n = n + 1, sum = sum + excluded.sum, min = min(min, excluded.min),"
		 " max = max(max, excluded.max)", table);
	q = wq(s, sql, e);
	if (!q)
		return RC_IO;
	bind_i64(q, ":series", series);
	bind_i64(q, ":bucket", bucket);
	sqlite3_bind_double(q, sqlite3_bind_parameter_index(q, ":v"), v);
	return wstep(s, q, NULL, "rollup", e);
}

enum result sqm_checkin(struct sq *s, struct store_write *w)
{
	struct checkin_write *ci = w->in.checkin;
	sqlite3_stmt *q = wq(s, "INSERT INTO agent_batches (device_id, batch_id, at)"
			     " VALUES (:device, :batch, :now) ON CONFLICT DO NOTHING", &w->err);
	int64_t m1, h1;
	bool f1, fh;
	enum result r;

	if (!q)
		return RC_IO;
	ci->duplicate = false;
	ci->stored = 0;
	ci->steps.events = 0;
	ci->steps.alert_id = 0;
	w->audit.tenant_id = ci->client_id;
	bind_i64(q, ":device", ci->device_id);
	bind_i64(q, ":batch", ci->batch_id);
	bind_i64(q, ":now", ci->now);
	r = wstep(s, q, NULL, "batch", &w->err);
	if (r != RC_OK)
		return r;
	if (sqlite3_changes(s->wdb) == 0) {
		ci->duplicate = true;
		return RC_OK;
	}
	r = mark_get(s, "rollup.1m", &m1, &f1, &w->err);
	if (r == RC_OK)
		r = mark_get(s, "rollup.1h", &h1, &fh, &w->err);
	for (size_t i = 0; r == RC_OK && i < ci->n; i++) {
		const struct sample *sm = &ci->samples[i];
		int64_t sid;

		r = series_id(s, ci->client_id, ci->device_id, sm, &sid, &w->err);
		if (r != RC_OK)
			break;
		q = wq(s, "INSERT INTO metric_raw (at, series_id, value) VALUES (:at, :series, :v)"
		       " ON CONFLICT DO NOTHING", &w->err);
		if (!q)
			return RC_IO;
		bind_i64(q, ":at", sm->at);
		bind_i64(q, ":series", sid);
		sqlite3_bind_double(q, sqlite3_bind_parameter_index(q, ":v"), sm->value);
		r = wstep(s, q, NULL, "sample", &w->err);
		if (r != RC_OK || sqlite3_changes(s->wdb) == 0)
			continue;
		ci->stored++;
		/* Late for a minute or hour already rolled up: merge it in. */
		if (f1 && sm->at < m1)
			r = rollup_merge(s, "metric_1m", sid, sm->at - sm->at % MIN_MS, sm->value, &w->err);
		if (r == RC_OK && fh && sm->at < h1)
			r = rollup_merge(s, "metric_1h", sid, sm->at - sm->at % HOUR_MS, sm->value, &w->err);
	}
	if (r != RC_OK)
		return r;
	q = wq(s, "UPDATE devices SET last_seen_at = max(last_seen_at, :now), latest = :latest,"
	       " inventory = coalesce(:inv, inventory),"
	       " inventory_at = CASE WHEN :inv IS NULL THEN inventory_at ELSE :now END"
	       " WHERE id = :device", &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":now", ci->now);
	bind_txt(q, ":latest", ci->latest);
	bind_txt(q, ":inv", ci->inventory);
	bind_i64(q, ":device", ci->device_id);
	r = wstep(s, q, NULL, "device", &w->err);
	if (r == RC_OK)
		r = alert_steps_run(s, &w->scope, &ci->steps, &w->err);
	w->id = ci->device_id;
	return r;
}

/* ---- rollups and retention ------------------------------------------------------------- */

static enum result exec_range(struct sq *s, const char *sql, int64_t from, int64_t to, struct err *e)
{
	sqlite3_stmt *q = wq(s, sql, e);

	if (!q)
		return RC_IO;
	bind_i64(q, ":from", from);
	bind_i64(q, ":to", to);
	return wstep(s, q, NULL, "rollup", e);
}

static enum result first_at(struct sq *s, const char *sql, int64_t *v, bool *found, struct err *e)
{
	sqlite3_stmt *q = wq(s, sql, e);
	int rc;

	*found = false;
	if (!q)
		return RC_IO;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
		*v = sqlite3_column_int64(q, 0);
		*found = true;
	}
	stmt_done(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? RC_OK : sq_error(s->wdb, rc, e, "rollup");
}

enum result sqm_rollup(struct sq *s, struct store_write *w)
{
	__typeof__(w->in.rollup) *ru = &w->in.rollup;
	int64_t upto = ru->upto - ru->upto % MIN_MS, m1, h1, to, toh, first, start;
	bool f1, fh, any;
	enum result r = mark_get(s, "rollup.1m", &m1, &f1, &w->err);

	ru->more = false;
	if (r == RC_OK)
		r = mark_get(s, "rollup.1h", &h1, &fh, &w->err);
	if (r != RC_OK)
		return r;
	if (!f1) {
		r = first_at(s, "SELECT min(at) FROM metric_raw", &first, &any, &w->err);
		if (r != RC_OK)
			return r;
		m1 = any ? first - first % HOUR_MS : upto - upto % HOUR_MS;
	}
	start = m1;
	to = upto;
	if (ru->max_span > 0 && to - m1 > ru->max_span)
		to = m1 + ru->max_span - (m1 + ru->max_span) % MIN_MS;
	if (to > m1) {
		r = exec_range(s, "INSERT INTO metric_1m (series_id, bucket, n, sum, min, max)"
			       " SELECT series_id, at - at % 60000, count(*), sum(value), min(value), max(value)"
			       " FROM metric_raw WHERE at >= :from AND at < :to GROUP BY 1, 2"
			       " ON CONFLICT (series_id, bucket) DO UPDATE SET n = n + excluded.n,"
			       " sum = sum + excluded.sum, min = min(min, excluded.min),"
			       " max = max(max, excluded.max)", m1, to, &w->err);
		if (r == RC_OK)
			r = mark_set(s, "rollup.1m", to, &w->err);
		if (r != RC_OK)
			return r;
		m1 = to;
	} else if (!f1) {
		r = mark_set(s, "rollup.1m", m1, &w->err);
		if (r != RC_OK)
			return r;
	}
	if (!fh)
		h1 = start - start % HOUR_MS;
	toh = m1 - m1 % HOUR_MS;
	if (toh > h1) {
		r = exec_range(s, "INSERT INTO metric_1h (series_id, bucket, n, sum, min, max)"
			       " SELECT series_id, bucket - bucket % 3600000, sum(n), sum(sum), min(min), max(max)"
			       " FROM metric_1m WHERE bucket >= :from AND bucket < :to GROUP BY 1, 2"
			       " ON CONFLICT (series_id, bucket) DO UPDATE SET n = n + excluded.n,"
			       " sum = sum + excluded.sum, min = min(min, excluded.min),"
			       " max = max(max, excluded.max)", h1, toh, &w->err);
		if (r != RC_OK)
			return r;
		h1 = toh;
		fh = false;
	}
	if (!fh || toh > h1)
		r = mark_set(s, "rollup.1h", h1, &w->err);
	ru->more = to < upto;
	return r;
}

static enum result delete_before(struct sq *s, const char *first_sql, const char *del_sql,
				 int64_t before, int64_t chunk, bool *more, struct err *e)
{
	int64_t first, cut;
	bool any;
	enum result r = first_at(s, first_sql, &first, &any, e);

	if (r != RC_OK || !any || first >= before)
		return r;
	cut = first + chunk < before ? first + chunk : before;
	*more = *more || cut < before;
	return exec_range(s, del_sql, 0, cut, e);
}

enum result sqm_retain(struct sq *s, struct store_write *w)
{
	__typeof__(w->in.retain) *rt = &w->in.retain;
	enum result r;

	rt->more = false;
	r = delete_before(s, "SELECT min(at) FROM metric_raw",
			  "DELETE FROM metric_raw WHERE at < :to",
			  rt->raw_before, HOUR_MS, &rt->more, &w->err);
	if (r == RC_OK)
		r = delete_before(s, "SELECT min(at) FROM agent_batches",
				  "DELETE FROM agent_batches WHERE at < :to",
				  rt->raw_before, 24 * (int64_t)HOUR_MS, &rt->more, &w->err);
	if (r == RC_OK)
		r = delete_before(s, "SELECT min(bucket) FROM metric_1m",
				  "DELETE FROM metric_1m WHERE bucket < :to",
				  rt->m1_before, 24 * (int64_t)HOUR_MS, &rt->more, &w->err);
	if (r == RC_OK)
		r = delete_before(s, "SELECT min(bucket) FROM metric_1h",
				  "DELETE FROM metric_1h WHERE bucket < :to",
				  rt->h1_before, 30 * 24 * (int64_t)HOUR_MS, &rt->more, &w->err);
	return r;
}

/* ---- checks, maintenance windows, receivers ----------------------------------------------- */

static void bind_check(sqlite3_stmt *q, const struct check_row *c)
{
	bind_ref(q, ":tenant", c->client_id);
	bind_ref(q, ":device", c->device_id);
	bind_txt(q, ":name", c->name);
	bind_txt(q, ":metric", c->metric);
	bind_txt(q, ":labels", c->labels);
	bind_txt(q, ":cmp", check_cmp_names[c->rule.cmp]);
	bind_real(q, ":warn", c->rule.warn, c->rule.has_warn);
	bind_real(q, ":crit", c->rule.crit, c->rule.has_crit);
	bind_real(q, ":hyst", c->rule.hysteresis, true);
	bind_i64(q, ":for", c->rule.for_ms / 1000);
	bind_i64(q, ":flap", c->rule.flap_changes);
	bind_i64(q, ":flapwin", c->rule.flap_window_ms / 1000);
	bind_txt(q, ":impact", c->impact ? c->impact : "medium");
	bind_i64(q, ":enabled", c->enabled);
}

/* The device (when set) must be in the client (when set) and in scope;
 * a device without a client gives its own (*client). */
static enum result check_target(struct sq *s, const struct store_write *w, int64_t *client,
				int64_t device, struct err *e)
{
	enum result r;

	if (device && !*client) {
		sqlite3_stmt *q = wq(s, "SELECT tenant_id FROM devices WHERE id = :id", e);
		if (!q)
			return RC_IO;
		bind_i64(q, ":id", device);
		if (sqlite3_step(q) == SQLITE_ROW)
			*client = sqlite3_column_int64(q, 0);
		stmt_done(q);
		if (!*client)
			return err_set(e, RC_INVALID, "device_id", "is not a device");
	}
	if (*client) {
		r = tenant_visible(s, &w->scope, *client, e);
		if (r != RC_OK)
			return r == RC_NOTFOUND ? err_set(e, RC_INVALID, "client_id", "is not a client") : r;
	}
	if (device) {
		sqlite3_stmt *q = wq(s, "SELECT 1 FROM devices WHERE id = :id AND (:tenant = 0 OR tenant_id = :tenant)", e);
		int rc;
		if (!q)
			return RC_IO;
		bind_i64(q, ":id", device);
		bind_i64(q, ":tenant", *client);
		rc = sqlite3_step(q);
		stmt_done(q);
		if (rc != SQLITE_ROW)
			return err_set(e, RC_INVALID, "device_id", "is not a device of this client");
	}
	return RC_OK;
}

enum result sqm_check_put(struct sq *s, struct store_write *w)
{
	struct check_row *c = &w->in.check;
	sqlite3_stmt *q;
	int64_t now = clock_now_ms();
	enum result r = only_staff(w, "checks");
	int rc;

	if (r == RC_OK)
		r = check_target(s, w, &c->client_id, c->device_id, &w->err);
	if (r != RC_OK)
		return r;
	q = wq(s, c->id ? "UPDATE checks SET tenant_id = :tenant, device_id = :device, name = :name,"
			  " metric = :metric, labels = :labels, cmp = :cmp, warn = :warn, crit = :crit,"
			  " hysteresis = :hyst, for_seconds = :for, flap_changes = :flap,"
			  " flap_window_seconds = :flapwin, impact = :impact, enabled = :enabled,"
			  " updated_at = :now, version = version + 1"
			  " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			: "INSERT INTO checks (tenant_id, device_id, name, metric, labels, cmp, warn, crit,"
			  " hysteresis, for_seconds, flap_changes, flap_window_seconds, impact, enabled,"
			  " created_at, updated_at) VALUES (:tenant, :device, :name, :metric, :labels, :cmp,"
			  " :warn, :crit, :hyst, :for, :flap, :flapwin, :impact, :enabled, :now, :now)",
	       &w->err);
	if (!q)
		return RC_IO;
	bind_check(q, c);
	bind_i64(q, ":now", now);
	bind_i64(q, ":id", c->id);
	bind_i64(q, ":version", w->if_version);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		w->version = sqlite3_column_int64(q, 0);
	stmt_done(q);
	w->audit.tenant_id = c->client_id;
	if (!c->id) {
		if (rc != SQLITE_DONE)
			return step_error(s, rc, NULL, "check", &w->err);
		w->id = sqlite3_last_insert_rowid(s->wdb);
		w->version = 1;
		return RC_OK;
	}
	if (rc == SQLITE_DONE)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "check not found or changed by someone else");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "check", &w->err);
	w->id = c->id;
	return RC_OK;
}

/* The default checks of a new client (in the transaction that makes it). */
enum result sqm_default_checks(struct sq *s, int64_t client, struct err *e)
{
	for (size_t i = 0; i < monitor_default_checks_n; i++) {
		struct check_row c = monitor_default_checks[i];
		sqlite3_stmt *q = wq(s, "INSERT INTO checks (tenant_id, device_id, name, metric, labels,"
				     " cmp, warn, crit, hysteresis, for_seconds, flap_changes,"
				     " flap_window_seconds, impact, enabled, created_at, updated_at)"
				     " VALUES (:tenant, :device, :name, :metric, :labels, :cmp, :warn, :crit,"
				     " :hyst, :for, :flap, :flapwin, :impact, :enabled, :now, :now)", e);
		enum result r;

		if (!q)
			return RC_IO;
		c.client_id = client;
		bind_check(q, &c);
		bind_i64(q, ":now", clock_now_ms());
		r = wstep(s, q, NULL, "check", e);
		if (r != RC_OK)
			return r;
	}
	return RC_OK;
}

static enum result delete_scoped(struct sq *s, struct store_write *w, const char *table,
				 const char *what)
{
	char sql[256];
	sqlite3_stmt *q;
	int rc;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = :id RETURNING coalesce(tenant_id, 0)",
		 table);
	q = wq(s, sql, &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":id", w->id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		w->audit.tenant_id = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return err_set(&w->err, RC_NOTFOUND, NULL, "%s not found", what);
	return rc == SQLITE_ROW ? RC_OK : step_error(s, rc, NULL, what, &w->err);
}

enum result sqm_check_delete(struct sq *s, struct store_write *w)
{
	enum result r = only_staff(w, "checks");

	return r == RC_OK ? delete_scoped(s, w, "checks", "check") : r;
}

enum result sqm_mwindow_put(struct sq *s, struct store_write *w)
{
	struct mwindow_row *m = &w->in.mw;
	sqlite3_stmt *q;
	enum result r = only_staff(w, "maintenance windows");
	int rc;

	if (r == RC_OK) {
		r = check_target(s, w, &m->client_id, m->device_id, &w->err);
		if (r == RC_OK && !m->client_id)
			r = err_set(&w->err, RC_INVALID, "client_id", "is required");
	}
	if (r != RC_OK)
		return r;
	q = wq(s, m->id ? "UPDATE maintenance_windows SET tenant_id = :tenant, device_id = :device,"
			  " name = :name, starts_at = :starts, ends_at = :ends, repeat = :repeat,"
			  " repeat_until = :until, timezone = :tz, updated_at = :now, version = version + 1"
			  " WHERE id = :id AND (:version = 0 OR version = :version) RETURNING version"
			: "INSERT INTO maintenance_windows (tenant_id, device_id, name, starts_at, ends_at,"
			  " repeat, repeat_until, timezone, created_by, created_at, updated_at) VALUES"
			  " (:tenant, :device, :name, :starts, :ends, :repeat, :until, :tz, :by, :now, :now)",
	       &w->err);
	if (!q)
		return RC_IO;
	bind_i64(q, ":tenant", m->client_id);
	bind_ref(q, ":device", m->device_id);
	bind_txt(q, ":name", m->name);
	bind_i64(q, ":starts", m->starts_at);
	bind_i64(q, ":ends", m->ends_at);
	bind_txt(q, ":repeat", m->repeat);
	bind_i64(q, ":until", m->repeat_until);
	bind_txt(q, ":tz", m->timezone);
	bind_i64(q, ":by", w->scope.user_id);
	bind_i64(q, ":now", clock_now_ms());
	bind_i64(q, ":id", m->id);
	bind_i64(q, ":version", w->if_version);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		w->version = sqlite3_column_int64(q, 0);
	stmt_done(q);
	w->audit.tenant_id = m->client_id;
	if (!m->id) {
		if (rc != SQLITE_DONE)
			return step_error(s, rc, NULL, "maintenance window", &w->err);
		w->id = sqlite3_last_insert_rowid(s->wdb);
		w->version = 1;
		return RC_OK;
	}
	if (rc == SQLITE_DONE)
		return err_set(&w->err, w->if_version ? RC_STALE : RC_NOTFOUND, NULL,
			       "maintenance window not found or changed by someone else");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, NULL, "maintenance window", &w->err);
	w->id = m->id;
	return RC_OK;
}

enum result sqm_am_receiver_delete(struct sq *s, struct store_write *w)
{
	enum result r = only_staff(w, "Alertmanager receivers");

	return r == RC_OK ? delete_scoped(s, w, "am_receivers", "Alertmanager receiver") : r;
}

enum result sqm_mwindow_delete(struct sq *s, struct store_write *w)
{
	enum result r = only_staff(w, "maintenance windows");

	return r == RC_OK ? delete_scoped(s, w, "maintenance_windows", "maintenance window") : r;
}

enum result sqm_am_receiver_create(struct sq *s, struct store_write *w)
{
	struct am_receiver_row *a = &w->in.amr.row;
	sqlite3_stmt *q;
	enum result r = only_staff(w, "Alertmanager receivers");

	if (r == RC_OK && a->client_id)
		r = check_target(s, w, &a->client_id, 0, &w->err);
	if (r != RC_OK)
		return r;
	q = wq(s, "INSERT INTO am_receivers (tenant_id, name, token_hash, client_label, device_label,"
	       " created_at) VALUES (:tenant, :name, :hash, :clabel, :dlabel, :now)", &w->err);
	if (!q)
		return RC_IO;
	bind_ref(q, ":tenant", a->client_id);
	bind_txt(q, ":name", a->name);
	sqlite3_bind_blob(q, sqlite3_bind_parameter_index(q, ":hash"), w->in.amr.hash, 32, SQLITE_STATIC);
	bind_txt(q, ":clabel", a->client_label);
	bind_txt(q, ":dlabel", a->device_label);
	bind_i64(q, ":now", clock_now_ms());
	r = wstep(s, q, NULL, "receiver", &w->err);
	if (r != RC_OK)
		return r;
	w->id = sqlite3_last_insert_rowid(s->wdb);
	w->version = 1;
	w->audit.tenant_id = a->client_id;
	return RC_OK;
}

/* ---- reads ----------------------------------------------------------------------------------- */

static bool col_null(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL;
}

#define ETOK_COLS "id, tenant_id, name, created_by, created_at, expires_at, revoked_at, uses, max_uses"

static void row_etok(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct enroll_token_row *t = (struct enroll_token_row *)items + i;

	t->id = sqlite3_column_int64(q, 0);
	t->client_id = sqlite3_column_int64(q, 1);
	t->name = col_str(q, 2, a);
	t->created_by = sqlite3_column_int64(q, 3);
	t->created_at = sqlite3_column_int64(q, 4);
	t->expires_at = sqlite3_column_int64(q, 5);
	t->revoked_at = sqlite3_column_int64(q, 6);
	t->uses = sqlite3_column_int64(q, 7);
	t->max_uses = sqlite3_column_int64(q, 8);
}

static void bind_client(sqlite3_stmt *q, const void *arg)
{
	bind_i64(q, ":client", *(const int64_t *)arg);
}

enum result sqm_enroll_token_list(struct store *st, const struct scope *sc, int64_t client,
				  struct arena *a, struct enroll_token_row **items, size_t *n,
				  struct err *e)
{
	char sql[512];

	*items = arena_alloc(a, sizeof(**items) * LIST_MAX);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " ETOK_COLS " FROM enroll_tokens WHERE tenant_id = :client%s"
		 " ORDER BY id", vis(sc, ""));
	return read_rows(st, sql, sc, bind_client, &client, row_etok, a, *items, LIST_MAX, n, e);
}

#define DEVICE_COLS "d.id, d.tenant_id, coalesce(d.enroll_token_id, 0), d.hostname, d.os," \
	" d.inventory, d.latest, d.inventory_at, d.last_seen_at, d.created_at, d.updated_at," \
	" d.version, d.active"
/* The same without the big columns (latest readings, inventory). */
#define DEVICE_COLS_LITE "d.id, d.tenant_id, coalesce(d.enroll_token_id, 0), d.hostname, d.os," \
	" NULL, NULL, d.inventory_at, d.last_seen_at, d.created_at, d.updated_at," \
	" d.version, d.active"

static void row_device(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct device *d = (struct device *)items + i;

	d->id = sqlite3_column_int64(q, 0);
	d->client_id = sqlite3_column_int64(q, 1);
	d->enroll_token_id = sqlite3_column_int64(q, 2);
	d->hostname = col_str(q, 3, a);
	d->os = col_str(q, 4, a);
	d->inventory = col_str(q, 5, a);
	d->latest = col_str(q, 6, a);
	d->inventory_at = sqlite3_column_int64(q, 7);
	d->last_seen_at = sqlite3_column_int64(q, 8);
	d->created_at = sqlite3_column_int64(q, 9);
	d->updated_at = sqlite3_column_int64(q, 10);
	d->version = sqlite3_column_int64(q, 11);
	d->active = sqlite3_column_int(q, 12) != 0;
}

static void bind_hash(sqlite3_stmt *q, const void *arg)
{
	sqlite3_bind_blob(q, sqlite3_bind_parameter_index(q, ":hash"), arg, 32, SQLITE_STATIC);
}

enum result sqm_device_auth(struct store *st, const unsigned char hash[32], struct arena *a,
			    struct device *out, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " DEVICE_COLS " FROM devices d WHERE d.token_hash = :hash",
				  NULL, bind_hash, hash, row_device, a, out, 1, &n, e);

	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "no such device token");
	return r;
}

enum result sqm_device_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
			   struct device *out, struct err *e)
{
	char sql[512];
	size_t n = 0;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " DEVICE_COLS " FROM devices d WHERE d.id = :id%s",
		 vis(sc, "d"));
	r = read_rows(st, sql, sc, bind_id, &id, row_device, a, out, 1, &n, e);
	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "device not found");
	return r;
}

static void bind_list_q(sqlite3_stmt *q, const void *arg)
{
	const struct list_q *lq = arg;

	bind_i64(q, ":after", lq->after);
	bind_i64(q, ":client", lq->client_id);
}

enum result sqm_device_list(struct store *st, const struct scope *sc, const struct list_q *lq,
			    struct arena *a, struct device_list *out, struct err *e)
{
	char sql[768];
	int limit = lq->limit > 0 && lq->limit <= LIST_MAX ? lq->limit : 100;
	enum result r;

	out->next_after = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (size_t)(limit + 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " DEVICE_COLS " FROM devices d WHERE d.id > :after%s%s"
		 " ORDER BY d.id LIMIT %d", vis(sc, "d"),
		 lq->client_id ? " AND d.tenant_id = :client" : "", limit + 1);
	r = read_rows(st, sql, sc, bind_list_q, lq, row_device, a, out->items, (size_t)limit + 1,
		      &out->n, e);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

static void bind_before(sqlite3_stmt *q, const void *arg)
{
	bind_i64(q, ":before", *(const int64_t *)arg);
}

enum result sqm_devices_silent(struct store *st, int64_t before, size_t max, struct arena *a,
			       struct device_list *out, struct err *e)
{
	out->next_after = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (max ? max : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	/* The most recently silent first (those whose alert may have to be
	 * raised; the long silent have theirs). */
	return read_rows(st, "SELECT " DEVICE_COLS_LITE " FROM devices d WHERE d.last_seen_at < :before"
			 " AND d.active = 1 AND (d.last_seen_at > 0 OR d.created_at < :before)"
			 " ORDER BY d.last_seen_at DESC, d.id DESC", NULL, bind_before, &before, row_device, a,
			 out->items, max, &out->n, e);
}

#define CHECK_COLS "c.id, coalesce(c.tenant_id, 0), coalesce(c.device_id, 0), c.name, c.metric," \
	" c.labels, c.cmp, c.warn, c.crit, c.hysteresis, c.for_seconds, c.flap_changes," \
	" c.flap_window_seconds, c.impact, c.enabled, c.created_at, c.updated_at, c.version"

static void row_check(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct check_row *c = (struct check_row *)items + i;
	int cmp;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(q, 0);
	c->client_id = sqlite3_column_int64(q, 1);
	c->device_id = sqlite3_column_int64(q, 2);
	c->name = col_str(q, 3, a);
	c->metric = col_str(q, 4, a);
	c->labels = col_str(q, 5, a);
	cmp = name_index(check_cmp_names, (const char *)sqlite3_column_text(q, 6));
	c->rule.cmp = cmp < 0 ? CMP_GT : (enum check_cmp)cmp;
	c->rule.has_warn = !col_null(q, 7);
	c->rule.warn = sqlite3_column_double(q, 7);
	c->rule.has_crit = !col_null(q, 8);
	c->rule.crit = sqlite3_column_double(q, 8);
	c->rule.hysteresis = sqlite3_column_double(q, 9);
	c->rule.for_ms = sqlite3_column_int64(q, 10) * 1000;
	c->rule.flap_changes = sqlite3_column_int(q, 11);
	c->rule.flap_window_ms = sqlite3_column_int64(q, 12) * 1000;
	c->impact = col_str(q, 13, a);
	c->enabled = sqlite3_column_int(q, 14) != 0;
	c->created_at = sqlite3_column_int64(q, 15);
	c->updated_at = sqlite3_column_int64(q, 16);
	c->version = sqlite3_column_int64(q, 17);
}

static void row_id(sqlite3_stmt *q, struct arena *a, void *items, size_t i);

/* How many rows a count query gives (the lists of everything are sized
 * by it, a few spare for rows added meanwhile; those wait for the next
 * reload). */
static size_t count_rows(struct store *st, const char *sql, size_t cap, struct err *e)
{
	int64_t n = 0;
	size_t got = 0;

	if (read_rows(st, sql, NULL, bind_none, NULL, row_id, NULL, &n, 1, &got, e) != RC_OK)
		return cap;
	return n + 64 < (int64_t)cap ? (size_t)n + 64 : cap;
}

static enum result checks_read(struct store *st, const char *sql, const struct scope *sc,
			       void (*bind)(sqlite3_stmt *, const void *), const void *arg,
			       struct arena *a, struct check_list *out, size_t max, struct err *e)
{
	out->items = arena_alloc(a, sizeof(*out->items) * max);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, sql, sc, bind, arg, row_check, a, out->items, max, &out->n, e);
}

#define CHECKS_ALL_MAX 100000

enum result sqm_check_list_all(struct store *st, struct arena *a, struct check_list *out,
			       struct err *e)
{
	size_t max = count_rows(st, "SELECT count(*) FROM checks", CHECKS_ALL_MAX, e);

	return checks_read(st, "SELECT " CHECK_COLS " FROM checks c ORDER BY coalesce(c.tenant_id, 0), c.id",
			   NULL, bind_none, NULL, a, out, max, e);
}

enum result sqm_check_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
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

enum result sqm_check_list(struct store *st, const struct scope *sc, int64_t client,
			   struct arena *a, struct check_list *out, struct err *e)
{
	char sql[768];

	snprintf(sql, sizeof(sql), "SELECT " CHECK_COLS " FROM checks c WHERE 1 = 1%s%s ORDER BY c.id",
		 vis(sc, "c"), client ? " AND (c.tenant_id = :client OR c.tenant_id IS NULL)" : "");
	return checks_read(st, sql, sc, bind_client, &client, a, out, LIST_MAX, e);
}

#define ALERT_COLS "a.id, a.tenant_id, coalesce(a.device_id, 0), coalesce(a.check_id, 0)," \
	" coalesce(a.ticket_id, 0), a.ticket_version, a.source, a.key, a.name, a.labels, a.summary," \
	" d.hostname, a.state, a.value, a.in_maintenance, a.acked_by, a.acked_at, a.firing_since," \
	" a.resolved_at, a.created_at, a.updated_at, a.version"
#define ALERT_FROM " FROM alerts a LEFT JOIN devices d ON d.id = a.device_id"

static void row_alert_cols(sqlite3_stmt *q, struct arena *a, struct alert_row *x, int o)
{
	memset(x, 0, sizeof(*x));
	x->id = sqlite3_column_int64(q, o + 0);
	x->client_id = sqlite3_column_int64(q, o + 1);
	x->device_id = sqlite3_column_int64(q, o + 2);
	x->check_id = sqlite3_column_int64(q, o + 3);
	x->ticket_id = sqlite3_column_int64(q, o + 4);
	x->ticket_version = sqlite3_column_int64(q, o + 5);
	x->source = col_str(q, o + 6, a);
	x->key = col_str(q, o + 7, a);
	x->name = col_str(q, o + 8, a);
	x->labels = col_str(q, o + 9, a);
	x->summary = col_str(q, o + 10, a);
	x->hostname = col_str(q, o + 11, a);
	alert_state_parse((const char *)sqlite3_column_text(q, o + 12), &x->st);
	x->has_value = !col_null(q, o + 13);
	x->value = sqlite3_column_double(q, o + 13);
	x->in_maintenance = sqlite3_column_int(q, o + 14) != 0;
	x->acked_by = sqlite3_column_int64(q, o + 15);
	x->acked_at = sqlite3_column_int64(q, o + 16);
	x->firing_since = sqlite3_column_int64(q, o + 17);
	x->resolved_at = sqlite3_column_int64(q, o + 18);
	x->created_at = sqlite3_column_int64(q, o + 19);
	x->updated_at = sqlite3_column_int64(q, o + 20);
	x->version = sqlite3_column_int64(q, o + 21);
}

static void row_alert(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	row_alert_cols(q, a, (struct alert_row *)items + i, 0);
}

enum result sqm_alert_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
			  struct alert_row *out, struct err *e)
{
	char sql[1024];
	size_t n = 0;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " ALERT_COLS ALERT_FROM " WHERE a.id = :id%s", vis(sc, "a"));
	r = read_rows(st, sql, sc, bind_id, &id, row_alert, a, out, 1, &n, e);
	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "alert not found");
	return r;
}

static void bind_alert_q(sqlite3_stmt *q, const void *arg)
{
	const struct alert_q *aq = arg;

	bind_i64(q, ":after", aq->after);
	bind_i64(q, ":client", aq->client_id);
	bind_i64(q, ":device", aq->device_id);
	bind_i64(q, ":check", aq->check_id);
}

enum result sqm_alert_list(struct store *st, const struct scope *sc, const struct alert_q *aq,
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
	r = read_rows(st, sql, sc, bind_alert_q, aq, row_alert, a, out->items, (size_t)limit + 1,
		      &out->n, e);
	if (r == RC_OK && out->n > (size_t)limit) {
		out->n = (size_t)limit;
		out->next_after = out->items[limit - 1].id;
	}
	return r;
}

static void row_event_cols(sqlite3_stmt *q, struct arena *a, struct alert_event_row *x, int o)
{
	int sv;

	x->id = sqlite3_column_int64(q, o + 0);
	x->alert_id = sqlite3_column_int64(q, o + 1);
	x->client_id = sqlite3_column_int64(q, o + 2);
	x->at = sqlite3_column_int64(q, o + 3);
	x->kind = col_str(q, o + 4, a);
	sv = name_index(severity_names, (const char *)sqlite3_column_text(q, o + 5));
	x->severity = sv < 0 ? SEV_OK : (enum severity)sv;
	x->has_value = !col_null(q, o + 6);
	x->value = sqlite3_column_double(q, o + 6);
	x->pending = sqlite3_column_int(q, o + 7) != 0;
}

static void row_event(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	row_event_cols(q, a, (struct alert_event_row *)items + i, 0);
}

#define EVENT_COLS "e.id, e.alert_id, e.tenant_id, e.at, e.kind, e.severity, e.value, e.pending"

enum result sqm_alert_events(struct store *st, const struct scope *sc, int64_t alert_id,
			     struct arena *a, struct alert_event_list *out, struct err *e)
{
	char sql[512];

	out->items = arena_alloc(a, sizeof(*out->items) * LIST_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " EVENT_COLS " FROM alert_events e WHERE e.alert_id = :id%s"
		 " ORDER BY e.id DESC LIMIT %d", sc->all_tenants ? "" : " AND e.tenant_id = :cid", LIST_MAX);
	return read_rows(st, sql, sc, bind_id, &alert_id, row_event, a, out->items, LIST_MAX, &out->n, e);
}

enum result sqm_alerts_in_maintenance(struct store *st, size_t max, struct arena *a,
				      struct alert_list *out, struct err *e)
{
	out->next_after = 0;
	out->items = arena_alloc(a, sizeof(*out->items) * (max ? max : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT " ALERT_COLS ALERT_FROM " WHERE a.in_maintenance = 1 ORDER BY a.id",
			 NULL, bind_none, NULL, row_alert, a, out->items, max, &out->n, e);
}

static void row_work(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct alert_work *w = (struct alert_work *)items + i;

	row_event_cols(q, a, &w->ev, 0);
	row_alert_cols(q, a, &w->al, 8);
}

enum result sqm_alert_work(struct store *st, size_t max, struct arena *a,
			   struct alert_work_list *out, struct err *e)
{
	out->items = arena_alloc(a, sizeof(*out->items) * (max ? max : 1));
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT " EVENT_COLS ", " ALERT_COLS " FROM alert_events e"
			 " JOIN alerts a ON a.id = e.alert_id LEFT JOIN devices d ON d.id = a.device_id"
			 " WHERE e.pending = 1 ORDER BY e.id", NULL, bind_none, NULL, row_work, a,
			 out->items, max, &out->n, e);
}

#define MW_COLS "m.id, m.tenant_id, coalesce(m.device_id, 0), m.name, m.repeat, m.timezone," \
	" m.starts_at, m.ends_at, m.repeat_until, m.created_by, m.created_at, m.updated_at, m.version"

static void row_mw(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct mwindow_row *m = (struct mwindow_row *)items + i;

	m->id = sqlite3_column_int64(q, 0);
	m->client_id = sqlite3_column_int64(q, 1);
	m->device_id = sqlite3_column_int64(q, 2);
	m->name = col_str(q, 3, a);
	m->repeat = col_str(q, 4, a);
	m->timezone = col_str(q, 5, a);
	m->starts_at = sqlite3_column_int64(q, 6);
	m->ends_at = sqlite3_column_int64(q, 7);
	m->repeat_until = sqlite3_column_int64(q, 8);
	m->created_by = sqlite3_column_int64(q, 9);
	m->created_at = sqlite3_column_int64(q, 10);
	m->updated_at = sqlite3_column_int64(q, 11);
	m->version = sqlite3_column_int64(q, 12);
}

enum result sqm_mwindow_get(struct store *st, const struct scope *sc, int64_t id, struct arena *a,
			    struct mwindow_row *out, struct err *e)
{
	char sql[512];
	size_t n = 0;
	enum result r;

	snprintf(sql, sizeof(sql), "SELECT " MW_COLS " FROM maintenance_windows m WHERE m.id = :id%s",
		 vis(sc, "m"));
	r = read_rows(st, sql, sc, bind_id, &id, row_mw, a, out, 1, &n, e);
	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "maintenance window not found");
	return r;
}

#define MW_ALL_MAX 100000

enum result sqm_mwindow_list(struct store *st, const struct scope *sc, int64_t client,
			     struct arena *a, struct mwindow_list *out, struct err *e)
{
	char sql[512];
	size_t max = sc->all_tenants && !client
		? count_rows(st, "SELECT count(*) FROM maintenance_windows", MW_ALL_MAX, e) : LIST_MAX;

	out->items = arena_alloc(a, sizeof(*out->items) * max);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT " MW_COLS " FROM maintenance_windows m WHERE 1 = 1%s%s"
		 " ORDER BY m.id", vis(sc, "m"), client ? " AND m.tenant_id = :client" : "");
	return read_rows(st, sql, sc, bind_client, &client, row_mw, a, out->items, max, &out->n, e);
}

#define AMR_COLS "id, coalesce(tenant_id, 0), name, client_label, device_label, created_at"

static void row_amr(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct am_receiver_row *x = (struct am_receiver_row *)items + i;

	x->id = sqlite3_column_int64(q, 0);
	x->client_id = sqlite3_column_int64(q, 1);
	x->name = col_str(q, 2, a);
	x->client_label = col_str(q, 3, a);
	x->device_label = col_str(q, 4, a);
	x->created_at = sqlite3_column_int64(q, 5);
}

enum result sqm_am_receiver_auth(struct store *st, const unsigned char hash[32], struct arena *a,
				 struct am_receiver_row *out, struct err *e)
{
	size_t n = 0;
	enum result r = read_rows(st, "SELECT " AMR_COLS " FROM am_receivers WHERE token_hash = :hash",
				  NULL, bind_hash, hash, row_amr, a, out, 1, &n, e);

	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "no such receiver token");
	return r;
}

enum result sqm_am_receiver_list(struct store *st, const struct scope *sc, struct arena *a,
				 struct am_receiver_row **items, size_t *n, struct err *e)
{
	if (!sc->all_tenants) {
		*n = 0;
		*items = NULL;
		return RC_OK;
	}
	*items = arena_alloc(a, sizeof(**items) * LIST_MAX);
	if (!*items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	return read_rows(st, "SELECT " AMR_COLS " FROM am_receivers ORDER BY id", NULL, bind_none, NULL,
			 row_amr, a, *items, LIST_MAX, n, e);
}

struct series_q {
	int64_t device;
	const char *name, *labels;
	int64_t from;
};

static void bind_series_q(sqlite3_stmt *q, const void *arg)
{
	const struct series_q *sq = arg;

	bind_i64(q, ":device", sq->device);
	bind_txt(q, ":name", sq->name);
	bind_txt(q, ":labels", sq->labels);
	bind_i64(q, ":from", sq->from);
}

static void row_point(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct series_point *p = (struct series_point *)items + i;
	int64_t n = sqlite3_column_int64(q, 1);

	UNUSED(a);
	p->at = sqlite3_column_int64(q, 0);
	p->avg = n ? sqlite3_column_double(q, 2) / (double)n : 0;
	p->min = sqlite3_column_double(q, 3);
	p->max = sqlite3_column_double(q, 4);
}

#define POINTS_MAX 2000

enum result sqm_series_points(struct store *st, const struct scope *sc, int64_t device,
			      const char *name, const char *labels, int64_t step_ms, int64_t from,
			      struct arena *a, struct series_points *out, struct err *e)
{
	struct device d;
	struct series_q q = { device, name, labels ? labels : "", from };
	char sql[512];
	enum result r = sqm_device_get(st, sc, device, a, &d, e);

	if (r != RC_OK)
		return r;
	out->items = arena_alloc(a, sizeof(*out->items) * POINTS_MAX);
	if (!out->items)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT r.bucket, r.n, r.sum, r.min, r.max FROM metric_series s"
		 " JOIN %s r ON r.series_id = s.id WHERE s.device_id = :device AND s.name = :name"
		 " AND s.labels = :labels AND r.bucket >= :from ORDER BY r.bucket",
		 step_ms >= HOUR_MS ? "metric_1h" : "metric_1m");
	return read_rows(st, sql, NULL, bind_series_q, &q, row_point, a, out->items, POINTS_MAX,
			 &out->n, e);
}

struct host_q { int64_t client; const char *host; };

static void bind_host_q(sqlite3_stmt *q, const void *arg)
{
	const struct host_q *h = arg;

	bind_i64(q, ":client", h->client);
	bind_txt(q, ":host", h->host);
}

static void row_id(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	UNUSED(a);
	((int64_t *)items)[i] = sqlite3_column_int64(q, 0);
}

enum result sqm_device_by_host(struct store *st, int64_t client, const char *host, int64_t *id,
			       struct err *e)
{
	struct host_q h = { client, host };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT id FROM devices WHERE tenant_id = :client AND active = 1"
				  " AND lower(hostname) = lower(:host) ORDER BY id DESC LIMIT 1", NULL,
				  bind_host_q, &h, row_id, NULL, id, 1, &n, e);

	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "no such device");
	return r;
}

enum result sqm_client_by_name(struct store *st, const char *name, int64_t *id, struct err *e)
{
	struct host_q h = { 0, name };
	size_t n = 0;
	enum result r = read_rows(st, "SELECT id FROM clients WHERE name = :host", NULL, bind_host_q, &h,
				  row_id, NULL, id, 1, &n, e);

	if (r == RC_OK && !n)
		r = err_set(e, RC_NOTFOUND, NULL, "no such client");
	return r;
}

/* ---- reports (issue 9; docs/REPORTS.md "Monitoring") ---------------------------------------- */

struct report_mq {
	int64_t client, lo, hi, after, after_id, limit;
};

static void bind_report_mq(sqlite3_stmt *q, const void *arg)
{
	const struct report_mq *rq = arg;

	bind_i64(q, ":client", rq->client);
	bind_i64(q, ":lo", rq->lo);
	bind_i64(q, ":hi", rq->hi);
	bind_i64(q, ":after", rq->after);
	bind_i64(q, ":after_id", rq->after_id);
	bind_i64(q, ":limit", rq->limit);
}

static void row_report_alert_ev(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct report_alert_ev *v = (struct report_alert_ev *)items + i;

	v->alert_id = sqlite3_column_int64(q, 0);
	v->id = sqlite3_column_int64(q, 1);
	v->at = sqlite3_column_int64(q, 2);
	v->kind = col_str(q, 3, a);
	v->severity = col_str(q, 4, a);
	v->name = col_str(q, 5, a);
}

enum result sqm_report_alert_events(struct store *st, const struct scope *sc, int64_t client_id,
				    int64_t lo, int64_t hi, int64_t after_alert, int64_t after_id,
				    size_t max, struct arena *a, struct report_alert_ev *items,
				    size_t *n, struct err *e)
{
	struct report_mq rq = { client_id, lo, hi, after_alert, after_id, (int64_t)max };
	struct buf b;
	enum result r;

	*n = 0;
	buf_init(&b, 1024);
	sql_report_alert_events(&b, vis(sc, "f"), client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_mq, &rq, row_report_alert_ev, a, items, max,
		      n, e);
	buf_release(&b);
	return r;
}

static void row_report_device(sqlite3_stmt *q, struct arena *a, void *items, size_t i)
{
	struct report_device *d = (struct report_device *)items + i;

	d->id = sqlite3_column_int64(q, 0);
	d->client_id = sqlite3_column_int64(q, 1);
	d->hostname = col_str(q, 2, a);
	d->created_at = sqlite3_column_int64(q, 3);
	d->active = sqlite3_column_int(q, 4) != 0;
	d->up_minutes = sqlite3_column_int64(q, 5);
}

enum result sqm_report_uptime(struct store *st, const struct scope *sc, int64_t client_id,
			      int64_t lo, int64_t hi, int64_t after, size_t max, struct arena *a,
			      struct report_device *items, size_t *n, struct err *e)
{
	struct report_mq rq = { client_id, lo, hi, after, 0, (int64_t)max };
	struct buf b;
	enum result r;

	*n = 0;
	buf_init(&b, 1024);
	sql_report_uptime(&b, vis(sc, "d"), client_id != 0);
	r = read_rows(st, buf_str(&b), sc, bind_report_mq, &rq, row_report_device, a, items, max,
		      n, e);
	buf_release(&b);
	return r;
}
