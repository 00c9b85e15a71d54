/*
 * store_sqlite.c: the SQLite backend of store.h.
 *
 * Design
 *  1. One file, WAL journal, synchronous=FULL, STRICT tables, foreign keys
 *     on. Numbered migrations (migrations/NNNN_*.sql, compiled in) are
 *     applied at open, each in its own transaction, and recorded in
 *     schema_migrations.
 *  2. One writer thread owns the only write connection. It takes every
 *     queued write (up to BATCH_MAX) and runs them in one transaction, each
 *     inside its own SAVEPOINT so that one failing write is rolled back
 *     alone; then COMMIT (one fsync of the WAL for the whole batch: group
 *     commit); then it calls each write's done(). Nothing is acknowledged
 *     before its commit, so an acknowledged write survives kill -9.
 *  3. Readers take a connection from a pool (query_only, each with its own
 *     cache of prepared statements) and give it back; WAL lets them read
 *     while the writer writes.
 *  4. The audit chain's head (last seq and hash) is read at the start of
 *     each batch, under the write lock (so a CLI process writing at the same
 *     time cannot fork the chain), advanced only when a write's savepoint is
 *     released, and kept only if the COMMIT succeeds.
 *  5. Tenant predicates are in the SQL text of every statement: (?all OR
 *     tenant_id = ?client), or, where the text is built for the filters
 *     used (tickets, contact search), "tenant_id = :scope" appended for
 *     every scope that is not all tenants. There is no statement without
 *     one on a tenant-owned table, except the authentication lookups that
 *     build the scope.
 */
#include "base/common.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/embed.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sql.h"
#include "store/wqueue.h"

#define BATCH_MAX 256
#define LIST_MAX 500

/* ---- statements --------------------------------------------------------- */


enum rstmt {
	RS_CLIENT_GET,
	RS_CLIENT_LIST,
	RS_CONTACT_GET,
	RS_USER_GET,
	RS_USER_LIST,
	RS_USER_AUTH,
	RS_USER_AUTH_ID,
	RS_SESSION_GET,
	RS_TOKEN_GET,
	RS_SETTING_GET,
	RS_THROTTLE_GET,
	RS_COUNT
};

static const char *const read_sql[RS_COUNT] = {
	[RS_CLIENT_GET] = "SELECT " CLIENT_COLS " FROM clients WHERE id = ?1 AND (?2 OR id = ?3)",
	[RS_CLIENT_LIST] = "SELECT " CLIENT_COLS " FROM clients WHERE id > ?1 AND (?2 OR id = ?3)"
			   " ORDER BY id LIMIT ?4",
	[RS_CONTACT_GET] = "SELECT " CONTACT_COLS " FROM contacts WHERE id = ?1"
			   " AND (?2 OR tenant_id = ?3)",
	[RS_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1 AND (?2 OR client_id = ?3)",
	[RS_USER_LIST] = "SELECT " USER_COLS " FROM users WHERE id > ?1 AND (?2 OR client_id = ?3)"
			 " AND (?4 = 0 OR client_id = ?4) AND (?5 IS NULL OR role = ?5)"
			 " ORDER BY id LIMIT ?6",
	[RS_USER_AUTH] = "SELECT " USER_COLS ", password_hash, totp_secret FROM users WHERE email = ?1",
	[RS_USER_AUTH_ID] = "SELECT " USER_COLS ", password_hash, totp_secret FROM users WHERE id = ?1",
	/* Authentication: the session or token and its user in one lookup. */
	[RS_SESSION_GET] = "SELECT " USER_COLS_U ", s.user_id, s.created_at, s.expires_at, s.mfa_ok,"
			   " s.csrf_hash FROM sessions s JOIN users u ON u.id = s.user_id"
			   " WHERE s.id_hash = ?1",
	[RS_TOKEN_GET] = "SELECT " USER_COLS_U ", t.id, t.user_id, t.created_at,"
			 " coalesce(t.expires_at, 0) FROM api_tokens t JOIN users u ON u.id = t.user_id"
			 " WHERE t.hash = ?1 AND t.revoked_at IS NULL",
	[RS_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
	[RS_THROTTLE_GET] = "SELECT window_start, failures FROM auth_throttle WHERE key = ?1",
};

enum wstmt {
	WS_SAVEPOINT,
	WS_RELEASE,
	WS_ROLLBACK_TO,
	WS_BEGIN,
	WS_COMMIT,
	WS_ROLLBACK,
	WS_IDEM_GET,
	WS_IDEM_PUT,
	WS_AUDIT_PUT,
	WS_CLIENT_INSERT,
	WS_CLIENT_UPDATE,
	WS_CLIENT_EXISTS,
	WS_CONTACT_NEXT_ID,
	WS_CONTACT_INSERT,
	WS_CONTACT_UPDATE,
	WS_CONTACT_EXISTS,
	WS_USER_INSERT,
	WS_USER_UPDATE,
	WS_USER_EXISTS,
	WS_SESSION_INSERT,
	WS_SESSION_PURGE,
	WS_USER_LOGIN,
	WS_SESSION_DELETE,
	WS_SESSION_MFA,
	WS_TOKEN_INSERT,
	WS_SETTING_PUT,
	WS_THROTTLE_PUT,
	WS_THROTTLE_DELETE,
	WS_TOTP_STEP,
	WS_COUNT
};

static const char *const write_sql[WS_COUNT] = {
	[WS_SAVEPOINT] = "SAVEPOINT w",
	[WS_RELEASE] = "RELEASE w",
	[WS_ROLLBACK_TO] = "ROLLBACK TO w",
	[WS_BEGIN] = "BEGIN IMMEDIATE",
	[WS_COMMIT] = "COMMIT",
	[WS_ROLLBACK] = "ROLLBACK",
	[WS_IDEM_GET] = "SELECT kind, fingerprint, object_id FROM idempotency"
			" WHERE user_id = ?1 AND key = ?2",
	[WS_IDEM_PUT] = "INSERT INTO idempotency (user_id, key, kind, fingerprint, object_id,"
			" created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[WS_AUDIT_PUT] = "INSERT INTO audit_log (seq, at, actor_id, tenant_id, action, object_type,"
			 " object_id, outcome, addr, detail, prev_hash, hash)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[WS_CLIENT_INSERT] = "INSERT INTO clients (name, timezone, email_domain, notes, active,"
			     " version, created_at, updated_at, portal_org_visibility, auto_close_days,"
			     " priority_matrix) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?7, ?8, ?9)",
	[WS_CLIENT_UPDATE] = "UPDATE clients SET name = iif(?2, ?3, name),"
			     " timezone = iif(?4, ?5, timezone),"
			     " email_domain = iif(?6, ?7, email_domain), notes = iif(?8, ?9, notes),"
			     " active = iif(?10, ?11, active), version = version + 1, updated_at = ?12,"
			     " portal_org_visibility = iif(?16, ?17, portal_org_visibility),"
			     " auto_close_days = iif(?18, ?19, auto_close_days),"
			     " priority_matrix = iif(?20, ?21, priority_matrix)"
			     " WHERE id = ?1 AND (?13 OR id = ?14) AND (?15 = 0 OR version = ?15)"
			     " RETURNING version",
	[WS_CLIENT_EXISTS] = "SELECT version FROM clients WHERE id = ?1 AND (?2 OR id = ?3)",
	[WS_CONTACT_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM contacts",
	[WS_CONTACT_INSERT] = "INSERT INTO contacts (tenant_id, id, name, email, phone, title,"
			      " version, created_at, updated_at)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)",
	[WS_CONTACT_UPDATE] = "UPDATE contacts SET name = iif(?2, ?3, name), email = iif(?4, ?5, email),"
			      " phone = iif(?6, ?7, phone), title = iif(?8, ?9, title),"
			      " version = version + 1, updated_at = ?10"
			      " WHERE id = ?1 AND (?11 OR tenant_id = ?12) AND (?13 = 0 OR version = ?13)"
			      " RETURNING version, tenant_id",
	[WS_CONTACT_EXISTS] = "SELECT version, tenant_id FROM contacts WHERE id = ?1"
			      " AND (?2 OR tenant_id = ?3)",
	[WS_USER_INSERT] = "INSERT INTO users (email, name, role, tier, client_id, active,"
			   " password_hash, version, created_at, updated_at)"
			   " VALUES (?1, ?2, ?3, nullif(?4, 0), nullif(?5, 0), ?6, ?7, 1, ?8, ?8)",
	[WS_USER_UPDATE] = "UPDATE users SET name = iif(?2, ?3, name), email = iif(?4, ?5, email),"
			   " role = iif(?6, ?7, role), tier = iif(?6, nullif(?8, 0), tier),"
			   " client_id = iif(?6, nullif(?9, 0), client_id),"
			   " active = iif(?10, ?11, active),"
			   " password_hash = iif(?12, ?13, password_hash),"
			   " totp_secret = iif(?14, ?15, totp_secret),"
			   " totp_enabled = iif(?14, ?16, totp_enabled),"
			   " version = version + 1, updated_at = ?17"
			   " WHERE id = ?1 AND (?18 OR client_id = ?19) AND (?20 = 0 OR version = ?20)"
			   " RETURNING version, coalesce(client_id, 0)",
	[WS_USER_EXISTS] = "SELECT version FROM users WHERE id = ?1 AND (?2 OR client_id = ?3)",
	[WS_SESSION_INSERT] = "INSERT INTO sessions (id_hash, user_id, csrf_hash, mfa_ok, created_at,"
			      " expires_at, addr) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[WS_SESSION_PURGE] = "DELETE FROM sessions WHERE user_id = ?1 AND expires_at <= ?2",
	[WS_USER_LOGIN] = "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
	[WS_SESSION_DELETE] = "DELETE FROM sessions WHERE id_hash = ?1",
	[WS_SESSION_MFA] = "UPDATE sessions SET mfa_ok = 1 WHERE id_hash = ?1",
	[WS_TOKEN_INSERT] = "INSERT INTO api_tokens (user_id, name, hash, created_at, expires_at)"
			    " VALUES (?1, ?2, ?3, ?4, nullif(?5, 0))",
	[WS_SETTING_PUT] = "INSERT INTO settings (key, value) VALUES (?1, ?2)"
			   " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	/* The same text as store_pg.c's w_throttle. */
	[WS_THROTTLE_PUT] = "INSERT INTO auth_throttle (key, window_start, failures) VALUES (?1, ?2, 1)"
			    " ON CONFLICT (key) DO UPDATE SET"
			    " failures = CASE WHEN ?2 >= auth_throttle.window_start + ?3 THEN 1"
			    " ELSE auth_throttle.failures + 1 END,"
			    " window_start = CASE WHEN ?2 >= auth_throttle.window_start + ?3 THEN ?2"
			    " ELSE auth_throttle.window_start END",
	[WS_THROTTLE_DELETE] = "DELETE FROM auth_throttle WHERE key = ?1",
	[WS_TOTP_STEP] = "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
};

_Static_assert(RS_COUNT <= RS_COUNT_MAX, "read statement table");
_Static_assert(WS_COUNT <= WS_COUNT_MAX, "write statement table");

/* ---- statement cache by SQL text ------------------------------------------ */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

sqlite3_stmt *scache_get(struct stmt_cache *c, sqlite3 *db, const char *sql, struct err *e)
{
	uint64_t h = fnv1a(sql);
	size_t i = (size_t)(h % SCACHE_SLOTS);
	int rc;

	for (size_t k = 0; k < 8; k++) {
		size_t j = (i + k) % SCACHE_SLOTS;
		if (!c->slot[j]) {
			i = j;
			break;
		}
		if (c->hash[j] == h && !strcmp(sqlite3_sql(c->slot[j]), sql))
			return c->slot[j];
		if (k == 7) {
			/* Eight collisions: evict the home slot (statements are
			 * never held between calls, so this is safe). */
			sqlite3_finalize(c->slot[i]);
			c->slot[i] = NULL;
		}
	}
	rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->slot[i], NULL);
	if (rc != SQLITE_OK) {
		sq_error(db, rc, e, "prepare");
		sqlite3_finalize(c->slot[i]);
		c->slot[i] = NULL;
		return NULL;
	}
	c->hash[i] = h;
	return c->slot[i];
}

void scache_clear(struct stmt_cache *c)
{
	for (size_t i = 0; i < SCACHE_SLOTS; i++) {
		sqlite3_finalize(c->slot[i]);
		c->slot[i] = NULL;
	}
}

/* ---- the store ------------------------------------------------------------ */

enum result sq_error(sqlite3 *db, int rc, struct err *e, const char *what)
{
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return err_set(e, RC_BUSY, NULL, "%s: database busy", what);
	if (rc == SQLITE_NOMEM)
		return err_set(e, RC_NOMEM, NULL, "%s: out of memory", what);
	return err_set(e, RC_IO, NULL, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static enum result open_conn(const char *path, bool create, bool reader,
			     sqlite3 **out, struct err *e)
{
	int flags = SQLITE_OPEN_NOMUTEX | (reader ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READWRITE);
	sqlite3 *db = NULL;
	int rc;
	/* Readers read with pread, not a memory map: under a steady stream
	 * of writes (agents' check-ins) a mapped file is remapped and faulted
	 * in again by read transactions, which cost the check-in benchmark a
	 * third of its rate (bench/README.md, monitoring); reads measured
	 * the same or better without it. */
	const char *pragmas = reader
		? "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA query_only = 1;"
		  " PRAGMA mmap_size = 0;"
		: "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
		  " PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 4000;";

	if (create)
		flags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		enum result r = err_set(e, RC_IO, "db", "cannot open %s: %s", path,
					db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return r;
	}
	sqlite3_extended_result_codes(db, 1);
	rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		enum result r = sq_error(db, rc, e, "pragmas");
		sqlite3_close(db);
		return r;
	}
	*out = db;
	return RC_OK;
}

static enum result migrate(sqlite3 *db, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int64_t have = 0;
	int rc;

	rc = sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			  " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
			  " applied_at INTEGER NOT NULL) STRICT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_error(db, rc, e, "schema_migrations");
	rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
				-1, &q, NULL);
	if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		have = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (rc != SQLITE_OK)
		return sq_error(db, rc, e, "schema_migrations");

	for (size_t i = 0; sqlite_migrations[i].name; i++) {
		const struct embedded_file *m = &sqlite_migrations[i];
		int64_t version = (int64_t)(i + 1);
		char *sql;
		if (version <= have)
			continue;
		/* The file's number must match its place: 0001_, 0002_, ... */
		if (strtol(m->name, NULL, 10) != version)
			return err_set(e, RC_IO, NULL, "migration %s is out of order", m->name);
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return sq_error(db, rc, e, "migration");
		rc = sqlite3_exec(db, m->data, NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			sql = sqlite3_mprintf("INSERT INTO schema_migrations VALUES (%lld, %Q, %lld)",
					      (long long)version, m->name,
					      (long long)clock_now_ms());
			rc = sql ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
			sqlite3_free(sql);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			enum result r = err_set(e, RC_IO, NULL, "migration %s: %s", m->name,
						sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
	}
	return RC_OK;
}

/* ---- reader connections -------------------------------------------------- */

/* Between sq_read_begin() and sq_read_end(), the thread's first read pins a
 * connection and opens a read transaction; every later read on the thread
 * uses it. Requests that read nothing cost nothing. */
static __thread struct rconn *pinned;
static __thread struct sq *pinned_store, *pin_wanted;

static enum result reader_take(struct sq *s, struct rconn **out, struct err *e);

enum result reader_get(struct sq *s, struct rconn **out, struct err *e)
{
	enum result r;

	if (pinned && pinned_store == s) {
		*out = pinned;
		return RC_OK;
	}
	r = reader_take(s, out, e);
	if (r == RC_OK && pin_wanted == s && !pinned &&
	    sqlite3_exec((*out)->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
		pinned = *out;
		pinned_store = s;
	}
	return r;
}

static enum result reader_take(struct sq *s, struct rconn **out, struct err *e)
{
	struct rconn *c;
	enum result r;

	pthread_mutex_lock(&s->rmu);
	c = s->rfree;
	if (c)
		s->rfree = c->next_free;
	pthread_mutex_unlock(&s->rmu);
	if (c) {
		*out = c;
		return RC_OK;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	r = open_conn(s->path, false, true, &c->db, e);
	if (r != RC_OK) {
		free(c);
		return r;
	}
	pthread_mutex_lock(&s->rmu);
	c->next_all = s->rall;
	s->rall = c;
	pthread_mutex_unlock(&s->rmu);
	*out = c;
	return RC_OK;
}

void reader_put(struct sq *s, struct rconn *c)
{
	if (c == pinned)
		return;
	pthread_mutex_lock(&s->rmu);
	c->next_free = s->rfree;
	s->rfree = c;
	pthread_mutex_unlock(&s->rmu);
}

static enum result rstmt(struct rconn *c, enum rstmt id, sqlite3_stmt **out, struct err *e)
{
	if (!c->st[id]) {
		int rc = sqlite3_prepare_v3(c->db, read_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					    &c->st[id], NULL);
		if (rc != SQLITE_OK)
			return sq_error(c->db, rc, e, "prepare");
	}
	*out = c->st[id];
	return RC_OK;
}

void stmt_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* ---- row readers ---------------------------------------------------------- */

const char *col_str(sqlite3_stmt *q, int i, struct arena *a)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(q, i)) : NULL;
}

static void row_client(sqlite3_stmt *q, struct arena *a, struct client *c)
{
	c->id = sqlite3_column_int64(q, 0);
	c->name = col_str(q, 1, a);
	c->timezone = col_str(q, 2, a);
	c->email_domain = col_str(q, 3, a);
	c->notes = col_str(q, 4, a);
	c->active = sqlite3_column_int(q, 5) != 0;
	c->version = sqlite3_column_int64(q, 6);
	c->created_at = sqlite3_column_int64(q, 7);
	c->updated_at = sqlite3_column_int64(q, 8);
	c->portal_org_visibility = sqlite3_column_int(q, 9) != 0;
	c->auto_close_days = sqlite3_column_int(q, 10);
	c->priority_matrix = col_str(q, 11, a);
}

static void row_contact(sqlite3_stmt *q, struct arena *a, struct contact *c)
{
	c->id = sqlite3_column_int64(q, 0);
	c->client_id = sqlite3_column_int64(q, 1);
	c->name = col_str(q, 2, a);
	c->email = col_str(q, 3, a);
	c->phone = col_str(q, 4, a);
	c->title = col_str(q, 5, a);
	c->version = sqlite3_column_int64(q, 6);
	c->created_at = sqlite3_column_int64(q, 7);
	c->updated_at = sqlite3_column_int64(q, 8);
	c->client_name = col_str(q, 9, a);
}

static void row_user(sqlite3_stmt *q, struct arena *a, struct user *u)
{
	u->id = sqlite3_column_int64(q, 0);
	u->email = col_str(q, 1, a);
	u->name = col_str(q, 2, a);
	u->role = role_parse((const char *)sqlite3_column_text(q, 3));
	u->tier = sqlite3_column_int(q, 4);
	u->client_id = sqlite3_column_int64(q, 5);
	u->active = sqlite3_column_int(q, 6) != 0;
	u->totp_enabled = sqlite3_column_int(q, 7) != 0;
	u->version = sqlite3_column_int64(q, 8);
	u->created_at = sqlite3_column_int64(q, 9);
	u->updated_at = sqlite3_column_int64(q, 10);
	u->last_login_at = sqlite3_column_int64(q, 11);
	u->password_hash = u->totp_secret = NULL;   /* only user_auth fills them */
}

void bind_scope(sqlite3_stmt *q, int all_idx, const struct scope *sc)
{
	sqlite3_bind_int(q, all_idx, sc->all_tenants ? 1 : 0);
	sqlite3_bind_int64(q, all_idx + 1, sc->client_id);
}

static int list_limit(const struct list_q *lq)
{
	int n = lq->limit <= 0 ? 50 : lq->limit;
	return n > LIST_MAX ? LIST_MAX : n;
}

/* ---- reads -------------------------------------------------------------- */

/* Runs a prepared single-row lookup; the caller binds, this steps and maps. */
#define READ_ONE(stmt_id, bind_block, row_block, what)                         \
	do {                                                                   \
		struct sq *s = (struct sq *)st;                                \
		struct rconn *c;                                               \
		sqlite3_stmt *q = NULL;                                               \
		enum result r = reader_get(s, &c, e);                          \
		int rc;                                                        \
		if (r != RC_OK)                                                 \
			return r;                                              \
		r = rstmt(c, stmt_id, &q, e);                                  \
		if (r == RC_OK) {                                               \
			bind_block;                                            \
			rc = sqlite3_step(q);                                  \
			if (rc == SQLITE_ROW) {                                \
				row_block;                                     \
			} else if (rc == SQLITE_DONE) {                        \
				r = err_set(e, RC_NOTFOUND, NULL, "%s not found", what); \
			} else {                                               \
				r = sq_error(c->db, rc, e, what);              \
			}                                                      \
			stmt_done(q);                                          \
		}                                                              \
		reader_put(s, c);                                              \
		return r;                                                      \
	} while (0)

static enum result sq_client_get(struct store *st, const struct scope *sc, int64_t id,
				 struct arena *a, struct client *out, struct err *e)
{
	READ_ONE(RS_CLIENT_GET,
		 { sqlite3_bind_int64(q, 1, id); bind_scope(q, 2, sc); },
		 { row_client(q, a, out); }, "client");
}

static enum result sq_contact_get(struct store *st, const struct scope *sc, int64_t id,
				  struct arena *a, struct contact *out, struct err *e)
{
	READ_ONE(RS_CONTACT_GET,
		 { sqlite3_bind_int64(q, 1, id); bind_scope(q, 2, sc); },
		 { row_contact(q, a, out); }, "contact");
}

static enum result sq_user_get(struct store *st, const struct scope *sc, int64_t id,
			       struct arena *a, struct user *out, struct err *e)
{
	READ_ONE(RS_USER_GET,
		 { sqlite3_bind_int64(q, 1, id); bind_scope(q, 2, sc); },
		 { row_user(q, a, out); }, "user");
}

static enum result sq_user_auth(struct store *st, const char *email, struct arena *a,
				struct user *out, struct err *e)
{
	READ_ONE(RS_USER_AUTH,
		 { sqlite3_bind_text(q, 1, email, -1, SQLITE_STATIC); },
		 {
			 row_user(q, a, out);
			 out->password_hash = col_str(q, 12, a);
			 out->totp_secret = col_str(q, 13, a);
		 }, "user");
}

static enum result sq_user_auth_by_id(struct store *st, int64_t id, struct arena *a,
				      struct user *out, struct err *e)
{
	READ_ONE(RS_USER_AUTH_ID,
		 { sqlite3_bind_int64(q, 1, id); },
		 {
			 row_user(q, a, out);
			 out->password_hash = col_str(q, 12, a);
			 out->totp_secret = col_str(q, 13, a);
		 }, "user");
}

static enum result sq_session_get(struct store *st, const unsigned char id_hash[32],
				  struct arena *a, struct session *out, struct user *u,
				  struct err *e)
{
	READ_ONE(RS_SESSION_GET,
		 { sqlite3_bind_blob(q, 1, id_hash, 32, SQLITE_STATIC); },
		 {
			 const void *b = sqlite3_column_blob(q, 16);
			 row_user(q, a, u);
			 out->user_id = sqlite3_column_int64(q, 12);
			 out->created_at = sqlite3_column_int64(q, 13);
			 out->expires_at = sqlite3_column_int64(q, 14);
			 out->mfa_ok = sqlite3_column_int(q, 15) != 0;
			 if (b && sqlite3_column_bytes(q, 16) == 32)
				 memcpy(out->csrf_hash, b, 32);
			 else
				 memset(out->csrf_hash, 0, 32);
		 }, "session");
}

static enum result sq_token_get(struct store *st, const unsigned char hash[32],
				struct arena *a, struct api_token *out, struct user *u,
				struct err *e)
{
	READ_ONE(RS_TOKEN_GET,
		 { sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC); },
		 {
			 row_user(q, a, u);
			 out->id = sqlite3_column_int64(q, 12);
			 out->user_id = sqlite3_column_int64(q, 13);
			 out->name = NULL;
			 out->created_at = sqlite3_column_int64(q, 14);
			 out->expires_at = sqlite3_column_int64(q, 15);
		 }, "token");
}

static enum result sq_setting_get(struct store *st, const char *key, struct arena *a,
				  const char **value, struct err *e)
{
	READ_ONE(RS_SETTING_GET,
		 { sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC); },
		 { *value = col_str(q, 0, a); }, "setting");
}

static enum result sq_throttle_get(struct store *st, const unsigned char key[32],
				   int64_t *window_start, int *failures, struct err *e)
{
	READ_ONE(RS_THROTTLE_GET,
		 { sqlite3_bind_blob(q, 1, key, 32, SQLITE_STATIC); },
		 {
			 *window_start = sqlite3_column_int64(q, 0);
			 *failures = sqlite3_column_int(q, 1);
		 }, "counter");
}

/* Steps a list query into items of size sz filled by row(). */
static enum result list_rows(struct sq *s, struct rconn *c, sqlite3_stmt *q, int limit,
			     struct arena *a, size_t sz,
			     void (*row)(sqlite3_stmt *, struct arena *, void *),
			     void **items, size_t *n, int64_t *next_after, struct err *e)
{
	char *arr = arena_alloc(a, sz * (size_t)(limit + 1));
	size_t i = 0;
	int rc;

	UNUSED(s);
	*items = NULL;
	*n = 0;
	*next_after = 0;
	if (!arr)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (i == (size_t)limit) {
			/* One more row exists: the caller may ask for the next page. */
			memcpy(next_after, arr + (i - 1) * sz, sizeof(int64_t));
			rc = SQLITE_DONE;
			break;
		}
		row(q, a, arr + i * sz);
		i++;
	}
	if (rc != SQLITE_DONE)
		return sq_error(c->db, rc, e, "list");
	*items = arr;
	*n = i;
	return RC_OK;
}

static void row_client_v(sqlite3_stmt *q, struct arena *a, void *p) { row_client(q, a, p); }
static void row_contact_v(sqlite3_stmt *q, struct arena *a, void *p) { row_contact(q, a, p); }
static void row_user_v(sqlite3_stmt *q, struct arena *a, void *p) { row_user(q, a, p); }

/* Every object struct starts with its int64_t id, which list_rows reads
 * to make the cursor. */
_Static_assert(offsetof(struct client, id) == 0, "id first");
_Static_assert(offsetof(struct contact, id) == 0, "id first");
_Static_assert(offsetof(struct user, id) == 0, "id first");

#define LIST(stmt_id, bind_block, T, rowfn, out)                                   \
	do {                                                                       \
		struct sq *s = (struct sq *)st;                                    \
		struct rconn *c;                                                   \
		sqlite3_stmt *q = NULL;                                                   \
		int limit = list_limit(lq);                                        \
		void *items;                                                       \
		enum result r = reader_get(s, &c, e);                              \
		if (r != RC_OK)                                                     \
			return r;                                                  \
		r = rstmt(c, stmt_id, &q, e);                                      \
		if (r == RC_OK) {                                                   \
			bind_block;                                                \
			r = list_rows(s, c, q, limit, a, sizeof(T), rowfn, &items,  \
				      &(out)->n, &(out)->next_after, e);           \
			(out)->items = items;                                      \
			stmt_done(q);                                              \
		}                                                                  \
		reader_put(s, c);                                                  \
		return r;                                                          \
	} while (0)

static enum result sq_client_list(struct store *st, const struct scope *sc,
				  const struct list_q *lq, struct arena *a,
				  struct client_list *out, struct err *e)
{
	LIST(RS_CLIENT_LIST, {
		sqlite3_bind_int64(q, 1, lq->after);
		bind_scope(q, 2, sc);
		sqlite3_bind_int(q, 4, limit + 1);
	}, struct client, row_client_v, out);
}

/* What a contact search binds (see contact_list in store.h). */
struct contact_match {
	const char *word;    /* "% q%": a word of the name, '-' read as ' ' */
	const char *prefix;  /* "q%": the e-mail address */
	const char *digits;  /* the digits of q when q is a phone number, else NULL */
};

/* The characters a phone number may hold besides digits, which a search
 * ignores: these in C, the same in SQL (PHONE_DIGITS). */
#define PHONE_PUNCT " +-()./"
#define PHONE_DIGITS "replace(replace(replace(replace(replace(replace(replace(phone," \
	" ' ', ''), '+', ''), '-', ''), '(', ''), ')', ''), '.', ''), '/', '')"

/* pre, then text with '\' before each of % _ \ (so LIKE ... ESCAPE '\'
 * matches it literally; with words, '-' becomes ' '), then %. */
static const char *like_pattern(struct arena *a, const char *pre, const char *text, bool words)
{
	size_t n = strlen(pre);
	char *out = arena_alloc(a, n + 2 * strlen(text) + 2), *p;

	if (!out)
		return NULL;
	memcpy(out, pre, n);
	p = out + n;
	for (; *text; text++) {
		char ch = words && *text == '-' ? ' ' : *text;
		if (ch == '%' || ch == '_' || ch == '\\')
			*p++ = '\\';
		*p++ = ch;
	}
	*p++ = '%';
	*p = '\0';
	return out;
}

static enum result contact_match_of(const char *text, struct arena *a, struct contact_match *m,
				    struct err *e)
{
	char *digits, *d;

	memset(m, 0, sizeof(*m));
	if (!text || !*text)
		return RC_OK;
	m->word = like_pattern(a, "% ", text, true);
	m->prefix = like_pattern(a, "", text, false);
	digits = arena_alloc(a, strlen(text) + 1);
	if (!m->word || !m->prefix || !digits)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	d = digits;
	for (const char *p = text; *p; p++) {
		if (*p >= '0' && *p <= '9')
			*d++ = *p;
		else if (!strchr(PHONE_PUNCT, *p))
			return RC_OK;   /* not a phone number: names and e-mail only */
	}
	*d = '\0';
	m->digits = d > digits ? digits : NULL;
	return RC_OK;
}

/* The SQL text depends on the scope and the filters (a client scope or a
 * client_id walks the primary key (tenant_id, id); staff without one walk
 * contacts_id), so each shape gets its own cached statement. A search
 * reads every contact of that range: LIKE on words and digits cannot use
 * an index, and a desk's contacts are thousands, not millions. */
static enum result sq_contact_list(struct store *st, const struct scope *sc,
				   const struct list_q *lq, struct arena *a,
				   struct contact_list *out, struct err *e)
{
	struct sq *s = (struct sq *)st;
	struct buf b = BUF_INIT(2048);
	struct contact_match m;
	struct rconn *c = NULL;
	sqlite3_stmt *q = NULL;
	int limit = list_limit(lq);
	void *items = NULL;
	enum result r;

	out->items = NULL;
	out->n = 0;
	out->next_after = 0;
	r = contact_match_of(lq->q, a, &m, e);
	if (r != RC_OK)
		goto out;
	/* Constant fragments only; every value is a bound parameter. */
	buf_appends(&b, "SELECT " CONTACT_COLS " FROM contacts WHERE id > :after");
	if (!sc->all_tenants)
		buf_appends(&b, " AND tenant_id = :scope");
	if (lq->client_id)
		buf_appends(&b, " AND tenant_id = :client");
	if (m.word) {
		buf_appends(&b, " AND (replace(' ' || name, '-', ' ') LIKE :word ESCAPE '\\'"
			    " OR email LIKE :prefix ESCAPE '\\'");
		if (m.digits)
			buf_appends(&b, " OR instr(" PHONE_DIGITS ", :digits) > 0");
		buf_appends(&b, ")");
	}
	buf_appends(&b, " ORDER BY id LIMIT :limit");
	r = reader_get(s, &c, e);
	if (r != RC_OK) {
		c = NULL;
		goto out;
	}
	q = scache_get(&c->cache, c->db, buf_str(&b), e);
	if (!q) {
		r = RC_IO;
		goto out;
	}
	bind_i64(q, ":after", lq->after);
	bind_i64(q, ":scope", sc->client_id);
	bind_i64(q, ":client", lq->client_id);
	bind_txt(q, ":word", m.word);
	bind_txt(q, ":prefix", m.prefix);
	bind_txt(q, ":digits", m.digits);
	bind_i64(q, ":limit", limit + 1);
	r = list_rows(s, c, q, limit, a, sizeof(struct contact), row_contact_v, &items,
		      &out->n, &out->next_after, e);
	out->items = items;
out:
	if (q)
		stmt_done(q);
	if (c)
		reader_put(s, c);
	buf_release(&b);
	return r;
}

static enum result sq_user_list(struct store *st, const struct scope *sc,
				const struct list_q *lq, struct arena *a,
				struct user_list *out, struct err *e)
{
	LIST(RS_USER_LIST, {
		sqlite3_bind_int64(q, 1, lq->after);
		bind_scope(q, 2, sc);
		sqlite3_bind_int64(q, 4, lq->client_id);
		if (lq->role)
			sqlite3_bind_text(q, 5, lq->role, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 6, limit + 1);
	}, struct user, row_user_v, out);
}

static enum result sq_audit_walk(struct store *st,
				 bool (*fn)(const struct audit_rec *, void *), void *arg,
				 struct err *e)
{
	struct sq *s = (struct sq *)st;
	struct rconn *c;
	sqlite3_stmt *q = NULL;
	enum result r = reader_get(s, &c, e);
	int rc;

	if (r != RC_OK)
		return r;
	rc = sqlite3_prepare_v2(c->db,
				"SELECT seq, at, actor_id, tenant_id, action, object_type, object_id,"
				" outcome, addr, detail, prev_hash, hash FROM audit_log ORDER BY seq",
				-1, &q, NULL);
	if (rc != SQLITE_OK) {
		r = sq_error(c->db, rc, e, "audit");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct audit_rec rec = { 0 };
		const void *ph = sqlite3_column_blob(q, 10), *h = sqlite3_column_blob(q, 11);
		rec.seq = sqlite3_column_int64(q, 0);
		rec.at = sqlite3_column_int64(q, 1);
		rec.actor_id = sqlite3_column_int64(q, 2);
		rec.tenant_id = sqlite3_column_int64(q, 3);
		rec.action = (const char *)sqlite3_column_text(q, 4);
		rec.object_type = (const char *)sqlite3_column_text(q, 5);
		rec.object_id = sqlite3_column_int64(q, 6);
		rec.outcome = (const char *)sqlite3_column_text(q, 7);
		rec.addr = (const char *)sqlite3_column_text(q, 8);
		rec.detail = (const char *)sqlite3_column_text(q, 9);
		if (ph && sqlite3_column_bytes(q, 10) == 32)
			memcpy(rec.prev_hash, ph, 32);
		if (h && sqlite3_column_bytes(q, 11) == 32)
			memcpy(rec.hash, h, 32);
		if (!fn(&rec, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		r = sq_error(c->db, rc, e, "audit");
out:
	sqlite3_finalize(q);
	reader_put(s, c);
	return r;
}

/* ---- the writer ------------------------------------------------------------ */

static enum result wstmt(struct sq *s, enum wstmt id, sqlite3_stmt **out, struct err *e)
{
	if (!s->wst[id]) {
		int rc = sqlite3_prepare_v3(s->wdb, write_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					    &s->wst[id], NULL);
		if (rc != SQLITE_OK)
			return sq_error(s->wdb, rc, e, "prepare");
	}
	*out = s->wst[id];
	return RC_OK;
}

/* Runs a statement that returns no row (or whose rows are ignored). */
static int wexec(struct sq *s, enum wstmt id)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (wstmt(s, id, &q, NULL) != RC_OK)
		return SQLITE_ERROR;
	rc = sqlite3_step(q);
	stmt_done(q);
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

void bind_opt_text(sqlite3_stmt *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

/* Maps a failed step of a write; unique violations become RC_CONFLICT on
 * field. */
enum result step_error(struct sq *s, int rc, const char *field, const char *what,
			      struct err *e)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return err_set(e, RC_CONFLICT, field, "%s is already in use", field ? field : what);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return err_set(e, RC_INVALID, NULL, "%s refers to an object that does not exist", what);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return err_set(e, RC_INVALID, NULL, "%s: %s", what, sqlite3_errmsg(s->wdb));
	return sq_error(s->wdb, rc, e, what);
}

/* Steps q once (statement with RETURNING or a plain one). */
static int step1(sqlite3_stmt *q)
{
	return sqlite3_step(q);
}

enum result tenant_visible(struct sq *s, const struct scope *sc, int64_t client_id,
				  struct err *e)
{
	sqlite3_stmt *q = NULL;
	enum result r;
	int rc;

	if (!scope_sees_tenant(sc, client_id))
		return err_set(e, RC_NOTFOUND, "client_id", "client not found");
	r = wstmt(s, WS_CLIENT_EXISTS, &q, e);
	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, client_id);
	bind_scope(q, 2, sc);
	rc = step1(q);
	stmt_done(q);
	if (rc == SQLITE_ROW)
		return RC_OK;
	if (rc == SQLITE_DONE)
		return err_set(e, RC_NOTFOUND, "client_id", "client not found");
	return sq_error(s->wdb, rc, e, "client");
}

/* After an update that matched no row: not found, or another version. */
static enum result update_miss(struct sq *s, enum wstmt exists, struct store_write *w,
			       const char *what)
{
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, exists, &q, &w->err);
	int rc;

	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, w->id);
	bind_scope(q, 2, &w->scope);
	rc = step1(q);
	stmt_done(q);
	if (rc == SQLITE_ROW)
		return err_set(&w->err, RC_STALE, NULL,
			       "the %s was changed by someone else; reload it and try again", what);
	if (rc == SQLITE_DONE)
		return err_set(&w->err, RC_NOTFOUND, NULL, "%s not found", what);
	return sq_error(s->wdb, rc, &w->err, what);
}

static enum result w_client_create(struct sq *s, struct store_write *w)
{
	const struct client *c = &w->in.client;
	sqlite3_stmt *q = NULL;
	enum result r;
	int rc;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff create clients");
	r = wstmt(s, WS_CLIENT_INSERT, &q, &w->err);
	if (r != RC_OK)
		return r;
	sqlite3_bind_text(q, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->timezone, -1, SQLITE_STATIC);
	bind_opt_text(q, 3, c->email_domain);
	bind_opt_text(q, 4, c->notes);
	sqlite3_bind_int(q, 5, c->active ? 1 : 0);
	sqlite3_bind_int64(q, 6, clock_now_ms());
	sqlite3_bind_int(q, 7, c->portal_org_visibility ? 1 : 0);
	sqlite3_bind_int(q, 8, c->auto_close_days > 0 ? c->auto_close_days : 7);
	bind_opt_text(q, 9, c->priority_matrix);
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return step_error(s, rc, "name", "client", &w->err);
	w->id = sqlite3_last_insert_rowid(s->wdb);
	w->version = 1;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = w->id;
	return sqm_default_checks(s, w->id, &w->err);
}

static enum result w_client_update(struct sq *s, struct store_write *w)
{
	const struct client *c = &w->in.client;
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, WS_CLIENT_UPDATE, &q, &w->err);
	int rc;

	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, w->id);
	sqlite3_bind_int(q, 2, !!(w->fields & F_NAME));
	bind_opt_text(q, 3, c->name);
	sqlite3_bind_int(q, 4, !!(w->fields & F_TIMEZONE));
	bind_opt_text(q, 5, c->timezone);
	sqlite3_bind_int(q, 6, !!(w->fields & F_EMAIL_DOMAIN));
	bind_opt_text(q, 7, c->email_domain);
	sqlite3_bind_int(q, 8, !!(w->fields & F_NOTES));
	bind_opt_text(q, 9, c->notes);
	sqlite3_bind_int(q, 10, !!(w->fields & F_ACTIVE));
	sqlite3_bind_int(q, 11, c->active ? 1 : 0);
	sqlite3_bind_int64(q, 12, clock_now_ms());
	bind_scope(q, 13, &w->scope);
	sqlite3_bind_int64(q, 15, w->if_version);
	sqlite3_bind_int(q, 16, !!(w->fields & F_PORTAL));
	sqlite3_bind_int(q, 17, c->portal_org_visibility ? 1 : 0);
	sqlite3_bind_int(q, 18, !!(w->fields & F_AUTOCLOSE));
	sqlite3_bind_int(q, 19, c->auto_close_days);
	sqlite3_bind_int(q, 20, !!(w->fields & F_MATRIX));
	bind_opt_text(q, 21, c->priority_matrix);
	rc = step1(q);
	if (rc == SQLITE_ROW)
		w->version = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return update_miss(s, WS_CLIENT_EXISTS, w, "client");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, "name", "client", &w->err);
	if (!w->audit.tenant_id)
		w->audit.tenant_id = w->id;
	return RC_OK;
}

enum result sq_contact_insert(struct sq *s, const struct contact *c, int64_t *id, struct err *e)
{
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, WS_CONTACT_NEXT_ID, &q, e);
	int rc;

	if (r != RC_OK)
		return r;
	rc = step1(q);
	*id = sqlite3_column_int64(q, 0);
	stmt_done(q);
	if (rc != SQLITE_ROW)
		return sq_error(s->wdb, rc, e, "contact id");
	r = wstmt(s, WS_CONTACT_INSERT, &q, e);
	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, c->client_id);
	sqlite3_bind_int64(q, 2, *id);
	sqlite3_bind_text(q, 3, c->name, -1, SQLITE_STATIC);
	bind_opt_text(q, 4, c->email);
	bind_opt_text(q, 5, c->phone);
	bind_opt_text(q, 6, c->title);
	sqlite3_bind_int64(q, 7, clock_now_ms());
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return step_error(s, rc, "email", "contact", e);
	return RC_OK;
}

static enum result w_contact_create(struct sq *s, struct store_write *w)
{
	const struct contact *c = &w->in.contact;
	enum result r = tenant_visible(s, &w->scope, c->client_id, &w->err);

	if (r == RC_OK)
		r = sq_contact_insert(s, c, &w->id, &w->err);
	if (r != RC_OK)
		return r;
	w->version = 1;
	w->audit.tenant_id = c->client_id;
	return RC_OK;
}

static enum result w_contact_update(struct sq *s, struct store_write *w)
{
	const struct contact *c = &w->in.contact;
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, WS_CONTACT_UPDATE, &q, &w->err);
	int rc;

	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, w->id);
	sqlite3_bind_int(q, 2, !!(w->fields & F_NAME));
	bind_opt_text(q, 3, c->name);
	sqlite3_bind_int(q, 4, !!(w->fields & F_EMAIL));
	bind_opt_text(q, 5, c->email);
	sqlite3_bind_int(q, 6, !!(w->fields & F_PHONE));
	bind_opt_text(q, 7, c->phone);
	sqlite3_bind_int(q, 8, !!(w->fields & F_TITLE));
	bind_opt_text(q, 9, c->title);
	sqlite3_bind_int64(q, 10, clock_now_ms());
	bind_scope(q, 11, &w->scope);
	sqlite3_bind_int64(q, 13, w->if_version);
	rc = step1(q);
	if (rc == SQLITE_ROW) {
		w->version = sqlite3_column_int64(q, 0);
		w->audit.tenant_id = sqlite3_column_int64(q, 1);
	}
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return update_miss(s, WS_CONTACT_EXISTS, w, "contact");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, "email", "contact", &w->err);
	return RC_OK;
}

static enum result w_user_create(struct sq *s, struct store_write *w)
{
	const struct user *u = &w->in.user;
	sqlite3_stmt *q = NULL;
	enum result r;
	int rc;

	if (u->client_id) {
		r = tenant_visible(s, &w->scope, u->client_id, &w->err);
		if (r != RC_OK)
			return r;
	} else if (!w->scope.all_tenants) {
		return err_set(&w->err, RC_DENIED, "role", "only provider staff create provider users");
	}
	r = wstmt(s, WS_USER_INSERT, &q, &w->err);
	if (r != RC_OK)
		return r;
	sqlite3_bind_text(q, 1, u->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, role_name(u->role), -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, u->tier);
	sqlite3_bind_int64(q, 5, u->client_id);
	sqlite3_bind_int(q, 6, u->active ? 1 : 0);
	bind_opt_text(q, 7, u->password_hash);
	sqlite3_bind_int64(q, 8, clock_now_ms());
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return step_error(s, rc, "email", "user", &w->err);
	w->id = sqlite3_last_insert_rowid(s->wdb);
	w->version = 1;
	w->audit.tenant_id = u->client_id;
	return RC_OK;
}

/* Records w->totp_step as user's last used one; RC_DENIED when it is not
 * newer (the code was used before). */
static enum result totp_step_put(struct sq *s, struct store_write *w, int64_t user)
{
	sqlite3_stmt *q = NULL;
	enum result r;
	int rc;

	if (!w->totp_step)
		return RC_OK;
	r = wstmt(s, WS_TOTP_STEP, &q, &w->err);
	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, user);
	sqlite3_bind_int64(q, 2, w->totp_step);
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return sq_error(s->wdb, rc, &w->err, "totp");
	if (sqlite3_changes(s->wdb) != 1)
		return err_set(&w->err, RC_DENIED, "totp", "this code was used already; wait for the next one");
	return RC_OK;
}

static enum result w_user_update(struct sq *s, struct store_write *w)
{
	const struct user *u = &w->in.user;
	sqlite3_stmt *q = NULL;
	enum result r;
	int rc;

	if ((w->fields & F_ROLE) && u->client_id) {
		r = tenant_visible(s, &w->scope, u->client_id, &w->err);
		if (r != RC_OK)
			return r;
	}
	r = totp_step_put(s, w, w->id);
	if (r != RC_OK)
		return r;
	r = wstmt(s, WS_USER_UPDATE, &q, &w->err);
	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, w->id);
	sqlite3_bind_int(q, 2, !!(w->fields & F_NAME));
	bind_opt_text(q, 3, u->name);
	sqlite3_bind_int(q, 4, !!(w->fields & F_EMAIL));
	bind_opt_text(q, 5, u->email);
	sqlite3_bind_int(q, 6, !!(w->fields & F_ROLE));
	bind_opt_text(q, 7, (w->fields & F_ROLE) ? role_name(u->role) : NULL);
	sqlite3_bind_int(q, 8, u->tier);
	sqlite3_bind_int64(q, 9, u->client_id);
	sqlite3_bind_int(q, 10, !!(w->fields & F_ACTIVE));
	sqlite3_bind_int(q, 11, u->active ? 1 : 0);
	sqlite3_bind_int(q, 12, !!(w->fields & F_PASSWORD));
	bind_opt_text(q, 13, u->password_hash);
	sqlite3_bind_int(q, 14, !!(w->fields & F_TOTP));
	bind_opt_text(q, 15, u->totp_secret);
	sqlite3_bind_int(q, 16, u->totp_enabled ? 1 : 0);
	sqlite3_bind_int64(q, 17, clock_now_ms());
	bind_scope(q, 18, &w->scope);
	sqlite3_bind_int64(q, 20, w->if_version);
	rc = step1(q);
	if (rc == SQLITE_ROW) {
		w->version = sqlite3_column_int64(q, 0);
		w->audit.tenant_id = sqlite3_column_int64(q, 1);
	}
	stmt_done(q);
	if (rc == SQLITE_DONE)
		return update_miss(s, WS_USER_EXISTS, w, "user");
	if (rc != SQLITE_ROW)
		return step_error(s, rc, "email", "user", &w->err);
	return RC_OK;
}

static enum result w_login(struct sq *s, struct store_write *w)
{
	const struct session *ss = &w->in.session.s;
	sqlite3_stmt *q = NULL;
	enum result r = totp_step_put(s, w, ss->user_id);
	int rc;

	if (r != RC_OK)
		return r;
	r = wstmt(s, WS_SESSION_PURGE, &q, &w->err);
	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, ss->user_id);
	sqlite3_bind_int64(q, 2, clock_now_ms());
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return sq_error(s->wdb, rc, &w->err, "session");
	r = wstmt(s, WS_SESSION_INSERT, &q, &w->err);
	if (r != RC_OK)
		return r;
	sqlite3_bind_blob(q, 1, w->in.session.id_hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, ss->user_id);
	sqlite3_bind_blob(q, 3, ss->csrf_hash, 32, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, ss->mfa_ok ? 1 : 0);
	sqlite3_bind_int64(q, 5, ss->created_at);
	sqlite3_bind_int64(q, 6, ss->expires_at);
	bind_opt_text(q, 7, w->in.session.addr);
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return step_error(s, rc, NULL, "session", &w->err);
	r = wstmt(s, WS_USER_LOGIN, &q, &w->err);
	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, ss->user_id);
	sqlite3_bind_int64(q, 2, ss->created_at);
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return sq_error(s->wdb, rc, &w->err, "login");
	if (w->in.session.has_throttle_reset) {
		r = wstmt(s, WS_THROTTLE_DELETE, &q, &w->err);
		if (r != RC_OK)
			return r;
		sqlite3_bind_blob(q, 1, w->in.session.throttle_reset, 32, SQLITE_STATIC);
		rc = step1(q);
		stmt_done(q);
		if (rc != SQLITE_DONE)
			return sq_error(s->wdb, rc, &w->err, "login");
	}
	w->id = ss->user_id;
	return RC_OK;
}

static enum result w_throttle(struct sq *s, struct store_write *w)
{
	sqlite3_stmt *q = NULL;

	for (int i = 0; i < w->in.throttle.n && i < 2; i++) {
		enum result r = wstmt(s, WS_THROTTLE_PUT, &q, &w->err);
		int rc;
		if (r != RC_OK)
			return r;
		sqlite3_bind_blob(q, 1, w->in.throttle.key[i], 32, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, w->in.throttle.now);
		sqlite3_bind_int64(q, 3, w->in.throttle.window_ms[i]);
		rc = step1(q);
		stmt_done(q);
		if (rc != SQLITE_DONE)
			return sq_error(s->wdb, rc, &w->err, "counter");
	}
	return RC_OK;
}

static enum result w_session_by_hash(struct sq *s, struct store_write *w, enum wstmt id)
{
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, id, &q, &w->err);
	int rc;

	if (r != RC_OK)
		return r;
	sqlite3_bind_blob(q, 1, w->in.session.id_hash, 32, SQLITE_STATIC);
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return sq_error(s->wdb, rc, &w->err, "session");
	return RC_OK;
}

static enum result w_session_delete(struct sq *s, struct store_write *w)
{
	return w_session_by_hash(s, w, WS_SESSION_DELETE);
}

static enum result w_session_mfa_ok(struct sq *s, struct store_write *w)
{
	return w_session_by_hash(s, w, WS_SESSION_MFA);
}

static enum result w_token_create(struct sq *s, struct store_write *w)
{
	const struct api_token *t = &w->in.token.t;
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, WS_TOKEN_INSERT, &q, &w->err);
	int rc;

	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, t->user_id);
	sqlite3_bind_text(q, 2, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, w->in.token.hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, clock_now_ms());
	sqlite3_bind_int64(q, 5, t->expires_at);
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return step_error(s, rc, NULL, "token", &w->err);
	w->id = sqlite3_last_insert_rowid(s->wdb);
	return RC_OK;
}

static enum result w_setting_set(struct sq *s, struct store_write *w)
{
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, WS_SETTING_PUT, &q, &w->err);
	int rc;

	if (r != RC_OK)
		return r;
	sqlite3_bind_text(q, 1, w->in.setting.key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, w->in.setting.value, -1, SQLITE_STATIC);
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return sq_error(s->wdb, rc, &w->err, "setting");
	return RC_OK;
}

static enum result w_audit_only(struct sq *s, struct store_write *w)
{
	UNUSED(s);
	UNUSED(w);
	return RC_OK;
}

static enum result (*const write_ops[W_KIND_COUNT])(struct sq *, struct store_write *) = {
	[W_AUDIT] = w_audit_only,
	[W_CLIENT_CREATE] = w_client_create,
	[W_CLIENT_UPDATE] = w_client_update,
	[W_CONTACT_CREATE] = w_contact_create,
	[W_CONTACT_UPDATE] = w_contact_update,
	[W_USER_CREATE] = w_user_create,
	[W_USER_UPDATE] = w_user_update,
	[W_LOGIN] = w_login,
	[W_SESSION_DELETE] = w_session_delete,
	[W_SESSION_MFA_OK] = w_session_mfa_ok,
	[W_TOKEN_CREATE] = w_token_create,
	[W_SETTING_SET] = w_setting_set,
	[W_TICKET_CREATE] = sqt_ticket_create,
	[W_TICKET_CHANGE] = sqt_ticket_change,
	[W_TICKET_BULK] = sqt_ticket_bulk,
	[W_RULE_PUT] = sqt_rule_put,
	[W_RULE_DELETE] = sqt_rule_delete,
	[W_ESC_RULE_PUT] = sqt_esc_rule_put,
	[W_CSAT] = sqt_csat_put,
	[W_CALENDAR_PUT] = sqt_calendar_put,
	[W_SLA_POLICY_PUT] = sqt_sla_policy_put,
	[W_CONTRACT_PUT] = sqt_contract_put,
	[W_THROTTLE] = w_throttle,
	[W_ENROLL_TOKEN_CREATE] = sqm_enroll_token_create,
	[W_ENROLL_TOKEN_REVOKE] = sqm_enroll_token_revoke,
	[W_DEVICE_ENROLL] = sqm_device_enroll,
	[W_DEVICE_UPDATE] = sqm_device_update,
	[W_CHECKIN] = sqm_checkin,
	[W_CHECK_PUT] = sqm_check_put,
	[W_CHECK_DELETE] = sqm_check_delete,
	[W_ALERT_STEP] = sqm_alert_step,
	[W_ALERT_EVENTS_DONE] = sqm_alert_events_done,
	[W_MWINDOW_PUT] = sqm_mwindow_put,
	[W_MWINDOW_DELETE] = sqm_mwindow_delete,
	[W_AM_RECEIVER_DELETE] = sqm_am_receiver_delete,
	[W_AM_RECEIVER_CREATE] = sqm_am_receiver_create,
	[W_MONITOR_ROLLUP] = sqm_rollup,
	[W_MONITOR_RETAIN] = sqm_retain,
	[W_MAIL_LOG] = sqmail_log,
	[W_MAIL_ROUTE_PUT] = sqmail_route_put,
	[W_MAIL_ROUTE_DELETE] = sqmail_route_delete,
	[W_TEMPLATE_PUT] = sqmail_template_put,
	[W_TEMPLATE_DELETE] = sqmail_template_delete,
	[W_WEBHOOK_PUT] = sqmail_webhook_put,
	[W_WEBHOOK_DELETE] = sqmail_webhook_delete,
	[W_OUTBOX_EXPAND] = sqmail_outbox_expand,
	[W_DELIVERY_RESULT] = sqmail_delivery_result,
	[W_DELIVERY_RETRY] = sqmail_delivery_retry,
	[W_SCHEDULE_PUT] = sqsch_put,
	[W_SCHEDULE_DELETE] = sqsch_delete,
	[W_SCHEDULE_CLAIM] = sqsch_claim,
	[W_SCHEDULE_SEND] = sqsch_send,
	[W_OUTBOX_DEFER] = sqsch_outbox_defer,
	[W_TICKET_IMPORT] = sqh_ticket_import,
};

/* Looks up the idempotency key: RC_OK and *found=false when new. */
static enum result idem_check(struct sq *s, struct store_write *w, bool *found)
{
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, WS_IDEM_GET, &q, &w->err);
	int rc;

	*found = false;
	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, w->scope.user_id);
	sqlite3_bind_text(q, 2, w->idem_key, -1, SQLITE_STATIC);
	rc = step1(q);
	if (rc == SQLITE_ROW) {
		const void *fp = sqlite3_column_blob(q, 1);
		*found = true;
		if (sqlite3_column_int(q, 0) != (int)w->kind || !fp ||
		    sqlite3_column_bytes(q, 1) != 32 || memcmp(fp, w->idem_fp, 32) != 0)
			r = err_set(&w->err, RC_CONFLICT, "Idempotency-Key",
				    "this Idempotency-Key was used for a different request");
		else
			w->id = sqlite3_column_int64(q, 2);
	} else if (rc != SQLITE_DONE) {
		r = sq_error(s->wdb, rc, &w->err, "idempotency");
	}
	stmt_done(q);
	return r;
}

static enum result idem_put(struct sq *s, struct store_write *w)
{
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, WS_IDEM_PUT, &q, &w->err);
	int rc;

	if (r != RC_OK)
		return r;
	sqlite3_bind_int64(q, 1, w->scope.user_id);
	sqlite3_bind_text(q, 2, w->idem_key, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, (int)w->kind);
	sqlite3_bind_blob(q, 4, w->idem_fp, 32, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, w->id);
	sqlite3_bind_int64(q, 6, clock_now_ms());
	rc = step1(q);
	stmt_done(q);
	return rc == SQLITE_DONE ? RC_OK : sq_error(s->wdb, rc, &w->err, "idempotency");
}

/* Appends one audit record of w after head/seq; advances them on
 * success. */
static enum result audit_put1(struct sq *s, struct store_write *w, const struct audit_in *a,
			      int64_t *seq, unsigned char head[32])
{
	struct audit_rec rec = { 0 };
	sqlite3_stmt *q = NULL;
	enum result r = wstmt(s, WS_AUDIT_PUT, &q, &w->err);
	int rc;

	if (r != RC_OK)
		return r;
	rec.seq = *seq + 1;
	rec.at = clock_now_ms();
	rec.actor_id = w->scope.user_id;
	rec.tenant_id = a->tenant_id;
	rec.action = a->action;
	rec.object_type = a->object_type;
	rec.object_id = a->object_id ? a->object_id : w->id;
	rec.outcome = a->outcome ? a->outcome : "ok";
	rec.addr = a->addr;
	rec.detail = a->detail;
	memcpy(rec.prev_hash, head, 32);
	audit_hash(head, &rec, rec.hash);

	sqlite3_bind_int64(q, 1, rec.seq);
	sqlite3_bind_int64(q, 2, rec.at);
	sqlite3_bind_int64(q, 3, rec.actor_id);
	sqlite3_bind_int64(q, 4, rec.tenant_id);
	sqlite3_bind_text(q, 5, rec.action, -1, SQLITE_STATIC);
	bind_opt_text(q, 6, rec.object_type);
	sqlite3_bind_int64(q, 7, rec.object_id);
	sqlite3_bind_text(q, 8, rec.outcome, -1, SQLITE_STATIC);
	bind_opt_text(q, 9, rec.addr);
	bind_opt_text(q, 10, rec.detail);
	sqlite3_bind_blob(q, 11, rec.prev_hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(q, 12, rec.hash, 32, SQLITE_STATIC);
	rc = step1(q);
	stmt_done(q);
	if (rc != SQLITE_DONE)
		return sq_error(s->wdb, rc, &w->err, "audit");
	*seq = rec.seq;
	memcpy(head, rec.hash, 32);
	return RC_OK;
}

/* Appends the write's audit records (store_audit_records) after
 * head/seq; advances them on success (run_one takes them back on a
 * failure). */
static enum result audit_put(struct sq *s, struct store_write *w, int64_t *seq,
			     unsigned char head[32])
{
	size_t n = store_audit_records(w);
	enum result r = RC_OK;

	for (size_t i = 0; r == RC_OK && i < n; i++) {
		struct audit_in a;
		char detail[512];
		store_audit_record(w, i, &a, detail, sizeof(detail));
		r = audit_put1(s, w, &a, seq, head);
	}
	return r;
}

/* One write inside the batch transaction, in its own savepoint. */
static void run_one(struct sq *s, struct store_write *w, int64_t *seq, unsigned char head[32])
{
	int64_t seq0 = *seq;
	unsigned char head0[32];
	bool replay = false;
	enum result r;

	memcpy(head0, head, 32);
	err_clear(&w->err);
	if (wexec(s, WS_SAVEPOINT) != SQLITE_DONE) {
		w->rc = sq_error(s->wdb, sqlite3_errcode(s->wdb), &w->err, "savepoint");
		return;
	}
	r = RC_OK;
	if (w->idem_key)
		r = idem_check(s, w, &replay);
	if (r == RC_OK && !replay) {
		r = (w->kind < W_KIND_COUNT && write_ops[w->kind])
			? write_ops[w->kind](s, w)
			: err_set(&w->err, RC_INVALID, NULL, "unknown write");
		if (r == RC_OK && w->recompute)
			r = sqt_sla_recompute(s, w->recompute, &w->err);
		if (r == RC_OK && w->idem_key)
			r = idem_put(s, w);
		if (r == RC_OK && w->audit.action)
			r = audit_put(s, w, seq, head);
	}
	if (r != RC_OK) {
		wexec(s, WS_ROLLBACK_TO);
		*seq = seq0;
		memcpy(head, head0, 32);
		/* Series made by this write are gone (and their ids reused). */
		if (w->kind == W_CHECKIN)
			sqm_cache_free(s);
	}
	wexec(s, WS_RELEASE);
	w->rc = r;
	w->replayed = replay;
}

static enum result load_audit_head(struct sq *s, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(s->wdb, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
				    -1, &q, NULL);

	s->audit_seq = 0;
	memset(s->audit_head, 0, 32);
	if (rc != SQLITE_OK)
		return sq_error(s->wdb, rc, e, "audit head");
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		s->audit_seq = sqlite3_column_int64(q, 0);
		if (sqlite3_column_bytes(q, 1) == 32)
			memcpy(s->audit_head, sqlite3_column_blob(q, 1), 32);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? RC_OK : sq_error(s->wdb, rc, e, "audit head");
}

static void record_batch(struct sq *s, size_t n, bool ok, int64_t ns)
{
	size_t b = 0;

	while (b < STORE_BATCH_BUCKETS - 1 && n > (1u << b))
		b++;
	pthread_mutex_lock(&s->smu);
	if (ok) {
		s->stats.commits++;
		s->stats.writes += n;
		s->stats.batch_hist[b]++;
		s->stats.commit_ns_total += (uint64_t)ns;
	} else {
		s->stats.failed_commits++;
	}
	pthread_mutex_unlock(&s->smu);
}

static void commit_batch(struct sq *s, struct store_write *batch, size_t n)
{
	int64_t seq = s->audit_seq, t0 = clock_mono_ns();
	unsigned char head[32];
	bool ok;
	int rc;

	rc = wexec(s, WS_BEGIN);
	/* Re-read the head under the write lock: another process (the CLI)
	 * may have appended since the last batch. */
	if (rc == SQLITE_DONE && load_audit_head(s, NULL) != RC_OK)
		rc = SQLITE_ERROR;
	seq = s->audit_seq;
	memcpy(head, s->audit_head, 32);
	if (rc == SQLITE_DONE) {
		for (struct store_write *w = batch; w; w = w->next)
			run_one(s, w, &seq, head);
		rc = wexec(s, WS_COMMIT);
	}
	ok = rc == SQLITE_DONE;
	if (ok) {
		s->audit_seq = seq;
		memcpy(s->audit_head, head, 32);
	} else {
		/* Nothing of this batch is durable: every write fails. */
		struct err e;
		sq_error(s->wdb, rc, &e, "commit");
		sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
		sqm_cache_free(s);
		for (struct store_write *w = batch; w; w = w->next) {
			w->rc = e.code;
			w->err = e;
		}
		load_audit_head(s, NULL);
	}
	record_batch(s, n, ok, clock_mono_ns() - t0);
	wqueue_answer(batch);
}

static void *writer_main(void *arg)
{
	struct sq *s = arg;
	struct store_write *batch;
	size_t n;

	while ((batch = wqueue_take(&s->q, BATCH_MAX, &n)))
		commit_batch(s, batch, n);
	return NULL;
}

static void sq_submit(struct store *st, struct store_write *w)
{
	wqueue_push(&((struct sq *)st)->q, w);
}

static void sq_read_begin(struct store *st)
{
	pin_wanted = (struct sq *)st;
}

static void sq_read_end(struct store *st)
{
	struct sq *s = (struct sq *)st;
	struct rconn *c = pinned;

	pin_wanted = NULL;
	if (!c || pinned_store != s)
		return;
	pinned = NULL;
	pinned_store = NULL;
	sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	reader_put(s, c);
}

static __thread struct rconn *saved_pinned;
static __thread struct sq *saved_store, *saved_wanted;

static void sq_read_fresh_begin(struct store *st)
{
	saved_pinned = pinned;
	saved_store = pinned_store;
	saved_wanted = pin_wanted;
	pinned = NULL;
	pinned_store = NULL;
	pin_wanted = (struct sq *)st;
}

static void sq_read_fresh_end(struct store *st)
{
	sq_read_end(st);
	pinned = saved_pinned;
	pinned_store = saved_store;
	pin_wanted = saved_wanted;
	saved_pinned = NULL;
	saved_store = saved_wanted = NULL;
}

static void sq_stats(struct store *st, struct store_stats *out)
{
	struct sq *s = (struct sq *)st;

	pthread_mutex_lock(&s->smu);
	*out = s->stats;
	pthread_mutex_unlock(&s->smu);
	out->queue_depth = wqueue_len(&s->q);
}

static void sq_close(struct store *st)
{
	struct sq *s = (struct sq *)st;
	struct rconn *c;

	if (s->writer_started) {
		wqueue_stop(&s->q);
		pthread_join(s->writer, NULL);
	}
	for (size_t i = 0; i < WS_COUNT; i++)
		sqlite3_finalize(s->wst[i]);
	scache_clear(&s->wcache);
	sqm_cache_free(s);
	c = s->rall;
	while (c) {
		struct rconn *next = c->next_all;
		for (size_t i = 0; i < RS_COUNT; i++)
			sqlite3_finalize(c->st[i]);
		scache_clear(&c->cache);
		sqlite3_close(c->db);
		free(c);
		c = next;
	}
	if (s->wdb) {
		/* A clean close checkpoints the WAL into the main file. */
		sqlite3_close(s->wdb);
	}
	wqueue_destroy(&s->q);
	pthread_mutex_destroy(&s->rmu);
	pthread_mutex_destroy(&s->smu);
	free(s);
}

const struct store_ops store_sqlite_ops;

static void sqlite_global_init(void)
{
	/* No global memory statistics: they take a process-wide mutex on every
	 * allocation, which readers on several threads would fight over. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_initialize();
}

static enum result sq_open(struct store **out, const char *path, bool create, struct err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct sq *s;
	struct stat stbuf;
	enum result r;

	if (!create && stat(path, &stbuf) != 0)
		return err_set(e, RC_NOTFOUND, "db",
			       "no database at %s (itsup init --db %s creates one)", path, path);
	if (create && stat(path, &stbuf) == 0)
		return err_set(e, RC_CONFLICT, "db", "%s already exists", path);
	if (strlen(path) >= sizeof(s->path))
		return err_set(e, RC_INVALID, "db", "database path too long");
	pthread_once(&once, sqlite_global_init);
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	s->base.ops = &store_sqlite_ops;
	snprintf(s->path, sizeof(s->path), "%s", path);
	wqueue_init(&s->q);
	pthread_mutex_init(&s->rmu, NULL);
	pthread_mutex_init(&s->smu, NULL);

	r = open_conn(path, create, false, &s->wdb, e);
	if (r == RC_OK)
		r = migrate(s->wdb, e);
	if (r == RC_OK)
		r = load_audit_head(s, e);
	if (r == RC_OK) {
		if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
			r = err_set(e, RC_IO, NULL, "cannot start the writer thread");
		else
			s->writer_started = true;
	}
	if (r != RC_OK) {
		sq_close(&s->base);
		return r;
	}
	*out = &s->base;
	return RC_OK;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.submit = sq_submit,
	.stats = sq_stats,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
	.read_fresh_begin = sq_read_fresh_begin,
	.read_fresh_end = sq_read_fresh_end,
	.sla_generation = sqt_sla_generation,
	.client_get = sq_client_get,
	.client_list = sq_client_list,
	.contact_get = sq_contact_get,
	.contact_list = sq_contact_list,
	.user_get = sq_user_get,
	.user_list = sq_user_list,
	.user_auth = sq_user_auth,
	.user_auth_by_id = sq_user_auth_by_id,
	.session_get = sq_session_get,
	.token_get = sq_token_get,
	.setting_get = sq_setting_get,
	.throttle_get = sq_throttle_get,
	.audit_walk = sq_audit_walk,
	.ticket_get = sqt_ticket_get,
	.ticket_list = sqt_ticket_list,
	.queue_counts = sqt_queue_counts,
	.ticket_messages = sqt_ticket_messages,
	.ticket_events = sqt_ticket_events,
	.ticket_time = sqt_ticket_time,
	.rules_list = sqt_rules_list,
	.esc_rules_list = sqt_esc_rules_list,
	.esc_candidates = sqt_esc_candidates,
	.autoclose_candidates = sqt_autoclose_candidates,
	.contact_by_email = sqt_contact_by_email,
	.user_by_email = sqt_user_by_email,
	.csat_get = sqt_csat_get,
	.calendar_get = sqt_calendar_get,
	.calendar_list = sqt_calendar_list,
	.sla_policy_get = sqt_sla_policy_get,
	.sla_policy_list = sqt_sla_policy_list,
	.contract_get = sqt_contract_get,
	.contract_list = sqt_contract_list,
	.sla_policy_for = sqt_sla_policy_for,
	.sla_due = sqt_sla_due,
	.enroll_token_list = sqm_enroll_token_list,
	.device_auth = sqm_device_auth,
	.device_get = sqm_device_get,
	.device_list = sqm_device_list,
	.devices_silent = sqm_devices_silent,
	.check_list_all = sqm_check_list_all,
	.check_get = sqm_check_get,
	.check_list = sqm_check_list,
	.alert_get = sqm_alert_get,
	.alert_list = sqm_alert_list,
	.alert_events = sqm_alert_events,
	.alerts_in_maintenance = sqm_alerts_in_maintenance,
	.alert_work = sqm_alert_work,
	.mwindow_get = sqm_mwindow_get,
	.mwindow_list = sqm_mwindow_list,
	.am_receiver_auth = sqm_am_receiver_auth,
	.am_receiver_list = sqm_am_receiver_list,
	.series_points = sqm_series_points,
	.device_by_host = sqm_device_by_host,
	.client_by_name = sqm_client_by_name,
	.mail_thread = sqmail_thread,
	.client_by_domain = sqmail_client_by_domain,
	.ticket_by_number = sqmail_ticket_by_number,
	.report_tickets = sqt_report_tickets,
	.report_csat = sqt_report_csat,
	.report_hours = sqt_report_hours,
	.report_alert_events = sqm_report_alert_events,
	.report_uptime = sqm_report_uptime,
	.contact_find_email = sqmail_contact_find_email,
	.inbound_count = sqmail_inbound_count,
	.inbound_list = sqmail_inbound_list,
	.inbound_get = sqmail_inbound_get,
	.attachment_list = sqmail_attachment_list,
	.attachment_get = sqmail_attachment_get,
	.mail_route_find = sqmail_route_find,
	.mail_route_list = sqmail_route_list,
	.template_get = sqmail_template_get,
	.template_list = sqmail_template_list,
	.webhook_get = sqmail_webhook_get,
	.webhook_list = sqmail_webhook_list,
	.outbox_pending = sqmail_outbox_pending,
	.deliveries_due = sqmail_deliveries_due,
	.delivery_list = sqmail_delivery_list,
	.delivery_get = sqmail_delivery_get,
	.import_lookup = sqh_import_lookup,
	.schedule_get = sqsch_get,
	.schedule_list = sqsch_list,
	.schedules_due = sqsch_due,
};
