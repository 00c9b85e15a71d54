/*
 * store_pg.c: the PostgreSQL backend of store.h (issue 6).
 *
 * Design
 *  1. The same contract as store_sqlite.c, for several itsup servers on
 *     one database. Migrations (migrations-pg/) run at open under an
 *     advisory lock (pg.c), so servers starting together apply each once.
 *  2. Writes go through pg_writer.c: one writer thread per server, group
 *     commit in SERIALIZABLE transactions with a savepoint per write, the
 *     answer only after COMMIT. A transaction doomed by another server's
 *     writer (serialization failure, deadlock) runs again from the start,
 *     so every apply function below is a function of the database and the
 *     write: it resets its outputs and keeps nothing in memory between
 *     passes.
 *  3. Values the store computes (contact ids, ticket numbers as max()+1,
 *     the audit chain's next seq and hash) are read inside the
 *     transaction. Two servers computing the same value collide on a
 *     unique index; pgw_run() treats that as a doomed transaction, and the
 *     second server's batch runs again and reads the first's value. So
 *     the audit chain never forks: the next record's seq is the head's + 1
 *     and seq is the primary key (a lock would not help: a SERIALIZABLE
 *     transaction reads the head as of its snapshot, taken at BEGIN).
 *  4. Readers take a connection from the pool (pg.c). Between read_begin
 *     and read_end the thread's first read pins one and opens a REPEATABLE
 *     READ READ ONLY transaction: one snapshot for the request, as in
 *     SQLite. A read started after a write's answer sees it (the answer
 *     comes after COMMIT; a new snapshot sees every committed transaction).
 *  5. Tenant predicates are in the SQL text, as in SQLite (its design
 *     point 5). Parameters are bound by name through struct pgq
 *     (store_pg_int.h); no value is ever spliced into SQL text.
 */
#include "base/common.h"

#include <math.h>
#include <pthread.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/util.h"
#include "store/store.h"
#include "store/store_pg_int.h"
#include "store/store_sql.h"

#define LIST_MAX 500
#define READ_POOL 16

/* Type oids (pg_type.h is a server header; these never change). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701

/* ---- statements with named parameters ---------------------------------- */

static bool name_char(char ch, bool first)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
	       (!first && ch >= '0' && ch <= '9');
}

void pgq_init(struct pgq *q, const char *sql)
{
	memset(q, 0, sizeof(*q));
	buf_init(&q->sql, 1u << 20);
	for (const char *p = sql; *p;) {
		if (*p == '\'' || *p == '"') {
			/* A literal or a quoted identifier, copied whole ('' and ""
			 * inside are two quotes in a row: the scan restarts). */
			const char *end = strchr(p + 1, *p);
			size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
			if (buf_append(&q->sql, p, n) != RC_OK)
				q->overflow = true;
			p += n;
		} else if (p[0] == ':' && p[1] == ':') {
			if (buf_append(&q->sql, p, 2) != RC_OK)
				q->overflow = true;
			p += 2;
		} else if (p[0] == ':' && name_char(p[1], true)) {
			size_t n = 1;
			int k;
			while (name_char(p[n], false))
				n++;
			for (k = 0; k < q->n; k++)
				if (q->namelen[k] == n && !memcmp(q->name[k], p, n))
					break;
			if (k == q->n) {
				if (q->n == PGQ_MAX) {
					q->overflow = true;
					return;
				}
				q->name[k] = p;
				q->namelen[k] = n;
				q->n++;
			}
			if (buf_appendf(&q->sql, "$%d", k + 1) != RC_OK)
				q->overflow = true;
			p += n;
		} else {
			if (buf_append(&q->sql, p, 1) != RC_OK)
				q->overflow = true;
			p++;
		}
	}
}

void pgq_release(struct pgq *q)
{
	buf_release(&q->sql);
}

static int pgq_slot(const struct pgq *q, const char *name)
{
	size_t n = strlen(name);

	for (int k = 0; k < q->n; k++)
		if (q->namelen[k] == n && !memcmp(q->name[k], name, n))
			return k;
	return -1;
}

void pgq_i64(struct pgq *q, const char *name, int64_t v)
{
	int k = pgq_slot(q, name);

	if (k < 0)
		return;
	snprintf(q->num[k], sizeof(q->num[k]), "%lld", (long long)v);
	q->val[k] = q->num[k];
	q->len[k] = 0;
	q->fmt[k] = 0;
	q->type[k] = OID_INT8;
}

void pgq_bool(struct pgq *q, const char *name, bool v)
{
	int k = pgq_slot(q, name);

	if (k < 0)
		return;
	q->val[k] = v ? "t" : "f";
	q->len[k] = 0;
	q->fmt[k] = 0;
	q->type[k] = OID_BOOL;
}

void pgq_txt(struct pgq *q, const char *name, const char *v)
{
	int k = pgq_slot(q, name);

	if (k < 0)
		return;
	q->val[k] = v;
	q->len[k] = 0;
	q->fmt[k] = 0;
	q->type[k] = OID_TEXT;
}

void pgq_ref(struct pgq *q, const char *name, int64_t v)
{
	int k = pgq_slot(q, name);

	if (k < 0)
		return;
	if (v) {
		pgq_i64(q, name, v);
		return;
	}
	q->val[k] = NULL;
	q->type[k] = OID_INT8;
}

void pgq_blob(struct pgq *q, const char *name, const void *p, int n)
{
	int k = pgq_slot(q, name);

	if (k < 0)
		return;
	q->val[k] = p;
	q->len[k] = n;
	q->fmt[k] = 1;
	q->type[k] = OID_BYTEA;
}

void pgq_f64(struct pgq *q, const char *name, double v, bool has)
{
	int k = pgq_slot(q, name);

	if (k < 0)
		return;
	q->len[k] = 0;
	q->fmt[k] = 0;
	q->type[k] = OID_FLOAT8;
	/* NaN is NULL, as SQLite binds it (it stores no NaN). */
	if (!has || isnan(v)) {
		q->val[k] = NULL;
		return;
	}
	if (isinf(v))
		snprintf(q->num[k], sizeof(q->num[k]), "%s", v > 0 ? "Infinity" : "-Infinity");
	else
		snprintf(q->num[k], sizeof(q->num[k]), "%.17g", v);
	q->val[k] = q->num[k];
}

void pgq_scope(struct pgq *q, const struct scope *sc)
{
	pgq_bool(q, ":all", sc->all_tenants);
	pgq_i64(q, ":scope", sc->client_id);
}

PGresult *pgq_exec(PGconn *c, struct pgq *q)
{
	if (q->overflow || !buf_str(&q->sql))
		return NULL;
	return pg_exec_params(c, buf_str(&q->sql), q->n, q->type, q->val, q->len, q->fmt);
}

/* ---- results ------------------------------------------------------------ */

bool pg_isnull(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) != 0;
}

int64_t pg_i64(const PGresult *r, int row, int col)
{
	const char *v;

	if (PQgetisnull(r, row, col))
		return 0;
	v = PQgetvalue(r, row, col);
	if (v[0] == 't' && !v[1])
		return 1;
	if (v[0] == 'f' && !v[1])
		return 0;
	return strtoll(v, NULL, 10);
}

double pg_f64(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtod(PQgetvalue(r, row, col), NULL);
}

const char *pg_str(const PGresult *r, int row, int col, struct arena *a)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

bool pg_blob(const PGresult *r, int row, int col, unsigned char *out, size_t n)
{
	const char *v = PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);

	memset(out, 0, n);
	/* Text-format bytea is "\x" and two hex digits a byte. */
	if (!v || v[0] != '\\' || v[1] != 'x' || strlen(v + 2) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
		if (hi < 0 || lo < 0) {
			memset(out, 0, n);
			return false;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

const unsigned char *pg_bytea(const PGresult *r, int row, int col, struct arena *a, size_t *len)
{
	const char *v = PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
	size_t n = v ? (size_t)PQgetlength(r, row, col) : 0;
	unsigned char *out;

	*len = 0;
	/* Text-format bytea is "\x" and two hex digits a byte. */
	if (!v || n < 2 || v[0] != '\\' || v[1] != 'x' || n % 2)
		return NULL;
	n = (n - 2) / 2;
	out = arena_alloc(a, n + 1);   /* zeroed: text reads as a string */
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
		if (hi < 0 || lo < 0)
			return NULL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n;
	return out;
}

/* libpq's message of r (or of c) without its trailing newline. */
static enum result pg_error(PGconn *c, const PGresult *r, enum result code, struct err *e,
			    const char *what)
{
	/* The primary message only: DETAIL may quote a whole row. */
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (!msg)
		msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
	size_t n = msg ? strlen(msg) : 0;

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	if (code == RC_BUSY)
		return err_set(e, RC_BUSY, NULL, "%s: the database is unavailable; try again", what);
	return err_set(e, code, NULL, "%s: %.*s", what, (int)n, msg ? msg : "");
}

static bool ok_result(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* ---- reader connections -------------------------------------------------- */

static __thread PGconn *pinned;
static __thread struct pgs *pinned_store, *pin_wanted;
static __thread PGconn *saved_pinned;
static __thread struct pgs *saved_store, *saved_wanted;

PGconn *pgr_get(struct pgs *s)
{
	PGconn *c;

	if (pinned && pinned_store == s)
		return pinned;
	/* A fresh snapshot while the thread holds a pinned one: a second
	 * connection, never a wait (every connection could be pinned by a
	 * thread waiting the same way). */
	c = saved_pinned ? pg_take_extra(s->pool) : pg_take(s->pool);
	if (c && pin_wanted == s && !pinned) {
		PGresult *r = PQexec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			pinned = c;
			pinned_store = s;
		}
		PQclear(r);
	}
	return c;
}

void pgr_put(struct pgs *s, PGconn *c)
{
	if (c && c != pinned)
		pg_give(s->pool, c);
}

static void pg_read_begin(struct store *st)
{
	pin_wanted = (struct pgs *)st;
}

static void pg_read_end(struct store *st)
{
	struct pgs *s = (struct pgs *)st;
	PGconn *c = pinned;

	pin_wanted = NULL;
	if (!c || pinned_store != s)
		return;
	pinned = NULL;
	pinned_store = NULL;
	PQclear(PQexec(c, "COMMIT"));
	pg_give(s->pool, c);
}

static void pg_read_fresh_begin(struct store *st)
{
	saved_pinned = pinned;
	saved_store = pinned_store;
	saved_wanted = pin_wanted;
	pinned = NULL;
	pinned_store = NULL;
	pin_wanted = (struct pgs *)st;
}

static void pg_read_fresh_end(struct store *st)
{
	pg_read_end(st);
	pinned = saved_pinned;
	pinned_store = saved_store;
	pin_wanted = saved_wanted;
	saved_pinned = NULL;
	saved_store = saved_wanted = NULL;
}

/* Runs q on a reader; a connection found broken (outside a pinned
 * snapshot) is given back, reset by the pool, and the read tried once
 * more. */
static PGresult *read_exec(struct pgs *s, struct pgq *q, const char *what, struct err *e)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		PGconn *c = pgr_get(s);
		PGresult *r;
		bool pinned_conn;
		if (!c) {
			err_set(e, RC_BUSY, NULL, "%s: the database is unavailable; try again", what);
			return NULL;
		}
		pinned_conn = c == pinned;
		r = pgq_exec(c, q);
		if (r && ok_result(r)) {
			pgr_put(s, c);
			return r;
		}
		if (!r && q->overflow) {
			err_set(e, RC_IO, NULL, "%s: too many parameters", what);
			pgr_put(s, c);
			return NULL;
		}
		if (PQstatus(c) == CONNECTION_OK || pinned_conn || attempt == 1) {
			const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
			/* Class 22 (data exception): the value read with is wrong. */
			pg_error(c, r, PQstatus(c) != CONNECTION_OK ? RC_BUSY
				 : state && !strncmp(state, "22", 2) ? RC_INVALID : RC_IO, e, what);
			PQclear(r);
			if (pinned_conn) {
				/* The failure aborted the snapshot's transaction: the
				 * request's next reads start a new one (pin_wanted is
				 * still set) instead of failing on this one. */
				pinned = NULL;
				pinned_store = NULL;
				pg_give(s->pool, c);   /* rolls it back */
			} else {
				pgr_put(s, c);
			}
			return NULL;
		}
		PQclear(r);
		pgr_put(s, c);
	}
	return NULL;
}

enum result pgr_rows(struct store *st, struct pgq *q, struct arena *a, void *items, size_t sz,
		     size_t max, size_t *n, pg_row_fn row, struct err *e)
{
	PGresult *r = read_exec((struct pgs *)st, q, "read", e);
	size_t rows;

	*n = 0;
	if (!r)
		return e->code;
	rows = (size_t)PQntuples(r);
	for (size_t i = 0; i < rows && i < max; i++)
		row(r, (int)i, a, (char *)items + i * sz);
	*n = rows < max ? rows : max;
	PQclear(r);
	return RC_OK;
}

enum result pgr_one(struct store *st, struct pgq *q, struct arena *a, void *out, pg_row_fn row,
		    const char *what, struct err *e)
{
	PGresult *r = read_exec((struct pgs *)st, q, what, e);
	enum result rc = RC_OK;

	if (!r)
		return e->code;
	if (PQntuples(r) < 1)
		rc = err_set(e, RC_NOTFOUND, NULL, "%s not found", what);
	else
		row(r, 0, a, out);
	PQclear(r);
	return rc;
}

/* ---- writes: running statements ----------------------------------------- */

/* Unique indexes on values the store computes itself: a collision is
 * another server's concurrent transaction, not the user's doing. */
static const char *const counter_keys[] = {
	"contacts_id", "contacts_pkey", "tickets_number", "audit_log_pkey", "idempotency_pkey",
	NULL,
};

PGresult *pgw_run(struct pgw *x, struct pgq *q, const char *field, const char *what,
		  struct err *e)
{
	PGresult *r = pgq_exec(x->c, q);
	const char *state, *cons;

	if (r && ok_result(r))
		return r;
	if (!r && q->overflow) {
		err_set(e, RC_IO, NULL, "%s: too many parameters", what);
		return NULL;
	}
	if (pg_doomed(x->c, r)) {
		*x->doomed = true;
		pg_error(x->c, r, RC_BUSY, e, what);
		PQclear(r);
		return NULL;
	}
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	cons = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	if (state && !strcmp(state, "23505")) {
		if (cons && name_index(counter_keys, cons) >= 0) {
			*x->doomed = true;
			err_set(e, RC_BUSY, NULL, "%s: another server took the same key; try again", what);
		} else {
			err_set(e, RC_CONFLICT, field, "%s is already in use", field ? field : what);
		}
	} else if (state && !strcmp(state, "23503")) {
		err_set(e, RC_INVALID, NULL, "%s refers to an object that does not exist", what);
	} else if (state && (!strncmp(state, "23", 2) || !strncmp(state, "22", 2))) {
		pg_error(x->c, r, RC_INVALID, e, what);
	} else {
		pg_error(x->c, r, RC_IO, e, what);
	}
	PQclear(r);
	return NULL;
}

enum result pgw_do(struct pgw *x, struct pgq *q, const char *field, const char *what,
		   struct err *e)
{
	PGresult *r = pgw_run(x, q, field, what, e);

	if (!r)
		return e->code;
	PQclear(r);
	return RC_OK;
}

/* A statement of constant text with up to a few named values, run on the
 * writer. Returns the result or NULL (e set). */
static PGresult *wrun(struct pgw *x, const char *sql, const char *field, const char *what,
		      struct err *e, void (*bind)(struct pgq *, const void *), const void *arg)
{
	struct pgq q;
	PGresult *r;

	pgq_init(&q, sql);
	bind(&q, arg);
	r = pgw_run(x, &q, field, what, e);
	pgq_release(&q);
	return r;
}

struct tv_args { const struct scope *sc; int64_t client_id; };

static void bind_tv(struct pgq *q, const void *p)
{
	const struct tv_args *t = p;
	pgq_i64(q, ":id", t->client_id);
	pgq_scope(q, t->sc);
}

enum result pgw_tenant_visible(struct pgw *x, const struct scope *sc, int64_t client_id,
			       struct err *e)
{
	struct tv_args t = { sc, client_id };
	PGresult *r;
	int n;

	if (!scope_sees_tenant(sc, client_id))
		return err_set(e, RC_NOTFOUND, "client_id", "client not found");
	r = wrun(x, "SELECT version FROM clients WHERE id = :id AND (:all OR id = :scope)",
		 NULL, "client", e, bind_tv, &t);
	if (!r)
		return e->code;
	n = PQntuples(r);
	PQclear(r);
	return n ? RC_OK : err_set(e, RC_NOTFOUND, "client_id", "client not found");
}

/* ---- reads: columns and rows ---------------------------------------------- */

static void row_client(const PGresult *r, int i, struct arena *a, void *p)
{
	struct client *c = p;

	c->id = pg_i64(r, i, 0);
	c->name = pg_str(r, i, 1, a);
	c->timezone = pg_str(r, i, 2, a);
	c->email_domain = pg_str(r, i, 3, a);
	c->notes = pg_str(r, i, 4, a);
	c->active = pg_i64(r, i, 5) != 0;
	c->version = pg_i64(r, i, 6);
	c->created_at = pg_i64(r, i, 7);
	c->updated_at = pg_i64(r, i, 8);
	c->portal_org_visibility = pg_i64(r, i, 9) != 0;
	c->auto_close_days = pg_int(r, i, 10);
	c->priority_matrix = pg_str(r, i, 11, a);
}

static void row_contact(const PGresult *r, int i, struct arena *a, void *p)
{
	struct contact *c = p;

	c->id = pg_i64(r, i, 0);
	c->client_id = pg_i64(r, i, 1);
	c->name = pg_str(r, i, 2, a);
	c->email = pg_str(r, i, 3, a);
	c->phone = pg_str(r, i, 4, a);
	c->title = pg_str(r, i, 5, a);
	c->version = pg_i64(r, i, 6);
	c->created_at = pg_i64(r, i, 7);
	c->updated_at = pg_i64(r, i, 8);
	c->client_name = pg_str(r, i, 9, a);
}

static void row_user(const PGresult *r, int i, struct arena *a, void *p)
{
	struct user *u = p;

	u->id = pg_i64(r, i, 0);
	u->email = pg_str(r, i, 1, a);
	u->name = pg_str(r, i, 2, a);
	u->role = role_parse(PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3));
	u->tier = pg_int(r, i, 4);
	u->client_id = pg_i64(r, i, 5);
	u->active = pg_i64(r, i, 6) != 0;
	u->totp_enabled = pg_i64(r, i, 7) != 0;
	u->version = pg_i64(r, i, 8);
	u->created_at = pg_i64(r, i, 9);
	u->updated_at = pg_i64(r, i, 10);
	u->last_login_at = pg_i64(r, i, 11);
	u->password_hash = u->totp_secret = NULL;   /* only user_auth fills them */
}

static void row_user_auth(const PGresult *r, int i, struct arena *a, void *p)
{
	struct user *u = p;

	row_user(r, i, a, u);
	u->password_hash = pg_str(r, i, 12, a);
	u->totp_secret = pg_str(r, i, 13, a);
}

static int list_limit(const struct list_q *lq)
{
	int n = lq->limit <= 0 ? 50 : lq->limit;
	return n > LIST_MAX ? LIST_MAX : n;
}

/* A one-row read of constant text, bound by bind(q, arg). */
static enum result read_one(struct store *st, const char *sql,
			    void (*bind)(struct pgq *, const void *), const void *arg,
			    struct arena *a, void *out, pg_row_fn row, const char *what,
			    struct err *e)
{
	struct pgq q;
	enum result r;

	pgq_init(&q, sql);
	bind(&q, arg);
	r = pgr_one(st, &q, a, out, row, what, e);
	pgq_release(&q);
	return r;
}

/* A keyset page: limit + 1 rows asked, the extra one says more follow. */
static enum result read_page(struct store *st, struct pgq *q, int limit, struct arena *a,
			     size_t sz, pg_row_fn row, void **items, size_t *n,
			     int64_t *next_after, struct err *e)
{
	char *arr = arena_alloc(a, sz * (size_t)(limit + 1));
	enum result r;

	*items = NULL;
	*n = 0;
	*next_after = 0;
	if (!arr)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	pgq_i64(q, ":limit", limit + 1);
	r = pgr_rows(st, q, a, arr, sz, (size_t)limit + 1, n, row, e);
	if (r != RC_OK)
		return r;
	if (*n > (size_t)limit) {
		*n = (size_t)limit;
		/* Every object struct starts with its int64_t id. */
		memcpy(next_after, arr + (*n - 1) * sz, sizeof(int64_t));
	}
	*items = arr;
	return RC_OK;
}

_Static_assert(offsetof(struct client, id) == 0, "id first");
_Static_assert(offsetof(struct contact, id) == 0, "id first");
_Static_assert(offsetof(struct user, id) == 0, "id first");

struct id_scope { int64_t id; const struct scope *sc; };

static void bind_id_scope(struct pgq *q, const void *p)
{
	const struct id_scope *is = p;
	pgq_i64(q, ":id", is->id);
	pgq_scope(q, is->sc);
}

static void bind_id_only(struct pgq *q, const void *p)
{
	pgq_i64(q, ":id", *(const int64_t *)p);
}

static void bind_text_key(struct pgq *q, const void *p)
{
	pgq_txt(q, ":key", p);
}

static void bind_hash(struct pgq *q, const void *p)
{
	pgq_blob(q, ":hash", p, 32);
}

static enum result pg_client_get(struct store *st, const struct scope *sc, int64_t id,
				 struct arena *a, struct client *out, struct err *e)
{
	struct id_scope is = { id, sc };
	return read_one(st, "SELECT " CLIENT_COLS " FROM clients WHERE id = :id AND (:all OR id = :scope)",
			bind_id_scope, &is, a, out, row_client, "client", e);
}

static enum result pg_contact_get(struct store *st, const struct scope *sc, int64_t id,
				  struct arena *a, struct contact *out, struct err *e)
{
	struct id_scope is = { id, sc };
	return read_one(st, "SELECT " CONTACT_COLS " FROM contacts WHERE id = :id"
			" AND (:all OR tenant_id = :scope)",
			bind_id_scope, &is, a, out, row_contact, "contact", e);
}

static enum result pg_user_get(struct store *st, const struct scope *sc, int64_t id,
			       struct arena *a, struct user *out, struct err *e)
{
	struct id_scope is = { id, sc };
	return read_one(st, "SELECT " USER_COLS " FROM users WHERE id = :id"
			" AND (:all OR client_id = :scope)",
			bind_id_scope, &is, a, out, row_user, "user", e);
}

static enum result pg_user_auth(struct store *st, const char *email, struct arena *a,
				struct user *out, struct err *e)
{
	return read_one(st, "SELECT " USER_COLS ", password_hash, totp_secret FROM users"
			" WHERE email = :key", bind_text_key, email, a, out, row_user_auth, "user", e);
}

static enum result pg_user_auth_by_id(struct store *st, int64_t id, struct arena *a,
				      struct user *out, struct err *e)
{
	return read_one(st, "SELECT " USER_COLS ", password_hash, totp_secret FROM users"
			" WHERE id = :id", bind_id_only, &id, a, out, row_user_auth, "user", e);
}

struct sess_out { struct session *s; struct user *u; };

static void row_session(const PGresult *r, int i, struct arena *a, void *p)
{
	struct sess_out *o = p;

	row_user(r, i, a, o->u);
	o->s->user_id = pg_i64(r, i, 12);
	o->s->created_at = pg_i64(r, i, 13);
	o->s->expires_at = pg_i64(r, i, 14);
	o->s->mfa_ok = pg_i64(r, i, 15) != 0;
	pg_blob(r, i, 16, o->s->csrf_hash, 32);
}

static enum result pg_session_get(struct store *st, const unsigned char id_hash[32],
				  struct arena *a, struct session *out, struct user *u,
				  struct err *e)
{
	struct sess_out o = { out, u };
	return read_one(st, "SELECT " USER_COLS_U ", s.user_id, s.created_at, s.expires_at,"
			" s.mfa_ok, s.csrf_hash FROM sessions s JOIN users u ON u.id = s.user_id"
			" WHERE s.id_hash = :hash", bind_hash, id_hash, a, &o, row_session,
			"session", e);
}

struct tok_out { struct api_token *t; struct user *u; };

static void row_token(const PGresult *r, int i, struct arena *a, void *p)
{
	struct tok_out *o = p;

	row_user(r, i, a, o->u);
	o->t->id = pg_i64(r, i, 12);
	o->t->user_id = pg_i64(r, i, 13);
	o->t->name = NULL;
	o->t->created_at = pg_i64(r, i, 14);
	o->t->expires_at = pg_i64(r, i, 15);
}

static enum result pg_token_get(struct store *st, const unsigned char hash[32],
				struct arena *a, struct api_token *out, struct user *u,
				struct err *e)
{
	struct tok_out o = { out, u };
	return read_one(st, "SELECT " USER_COLS_U ", t.id, t.user_id, t.created_at,"
			" coalesce(t.expires_at, 0) FROM api_tokens t JOIN users u ON u.id = t.user_id"
			" WHERE t.hash = :hash AND t.revoked_at IS NULL", bind_hash, hash, a, &o,
			row_token, "token", e);
}

static void row_setting(const PGresult *r, int i, struct arena *a, void *p)
{
	*(const char **)p = pg_str(r, i, 0, a);
}

static enum result pg_setting_get(struct store *st, const char *key, struct arena *a,
				  const char **value, struct err *e)
{
	return read_one(st, "SELECT value FROM settings WHERE key = :key", bind_text_key, key,
			a, value, row_setting, "setting", e);
}

struct throttle_out { int64_t *window_start; int *failures; };

static void row_throttle(const PGresult *r, int i, struct arena *a, void *p)
{
	struct throttle_out *o = p;

	UNUSED(a);
	*o->window_start = pg_i64(r, i, 0);
	*o->failures = pg_int(r, i, 1);
}

static enum result pg_throttle_get(struct store *st, const unsigned char key[32],
				   int64_t *window_start, int *failures, struct err *e)
{
	struct throttle_out o = { window_start, failures };
	return read_one(st, "SELECT window_start, failures FROM auth_throttle WHERE key = :hash",
			bind_hash, key, NULL, &o, row_throttle, "counter", e);
}

static enum result pg_client_list(struct store *st, const struct scope *sc,
				  const struct list_q *lq, struct arena *a,
				  struct client_list *out, struct err *e)
{
	struct pgq q;
	void *items;
	enum result r;

	pgq_init(&q, "SELECT " CLIENT_COLS " FROM clients WHERE id > :after AND (:all OR id = :scope)"
		 " ORDER BY id LIMIT :limit");
	pgq_i64(&q, ":after", lq->after);
	pgq_scope(&q, sc);
	r = read_page(st, &q, list_limit(lq), a, sizeof(struct client), row_client, &items,
		      &out->n, &out->next_after, e);
	out->items = items;
	pgq_release(&q);
	return r;
}

static enum result pg_user_list(struct store *st, const struct scope *sc,
				const struct list_q *lq, struct arena *a,
				struct user_list *out, struct err *e)
{
	struct pgq q;
	void *items;
	enum result r;

	pgq_init(&q, "SELECT " USER_COLS " FROM users WHERE id > :after AND (:all OR client_id = :scope)"
		 " AND (:client = 0 OR client_id = :client) AND (:role::text IS NULL OR role = :role)"
		 " ORDER BY id LIMIT :limit");
	pgq_i64(&q, ":after", lq->after);
	pgq_scope(&q, sc);
	pgq_i64(&q, ":client", lq->client_id);
	pgq_txt(&q, ":role", lq->role);
	r = read_page(st, &q, list_limit(lq), a, sizeof(struct user), row_user, &items,
		      &out->n, &out->next_after, e);
	out->items = items;
	pgq_release(&q);
	return r;
}

/* Contact search: the rules of contact_list in store.h, as the SQLite
 * store has them (its contact_match_of). LIKE patterns are literal: '\'
 * escapes % _ and \ (PostgreSQL's default LIKE escape). ILIKE folds
 * every letter the database knows, SQLite's LIKE only ASCII: 'É' finds
 * 'é' here and not there. */
#define PHONE_PUNCT " +-()./"
#define PHONE_DIGITS "translate(phone, ' +-()./', '')"

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

static enum result pg_contact_list(struct store *st, const struct scope *sc,
				   const struct list_q *lq, struct arena *a,
				   struct contact_list *out, struct err *e)
{
	struct buf b = BUF_INIT(2048);
	const char *word = NULL, *prefix = NULL;
	char *digits = NULL;
	struct pgq q;
	void *items = NULL;
	enum result r = RC_OK;

	out->items = NULL;
	out->n = 0;
	out->next_after = 0;
	if (lq->q && *lq->q) {
		char *d;
		word = like_pattern(a, "% ", lq->q, true);
		prefix = like_pattern(a, "", lq->q, false);
		digits = arena_alloc(a, strlen(lq->q) + 1);
		if (!word || !prefix || !digits)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		d = digits;
		for (const char *p = lq->q; *p; p++) {
			if (*p >= '0' && *p <= '9') {
				*d++ = *p;
			} else if (!strchr(PHONE_PUNCT, *p)) {
				d = digits;   /* not a phone number: names and e-mail only */
				break;
			}
		}
		*d = '\0';
		if (d == digits)
			digits = NULL;
	}
	/* Constant fragments only; every value is a bound parameter. */
	buf_appends(&b, "SELECT " CONTACT_COLS " FROM contacts WHERE id > :after");
	if (!sc->all_tenants)
		buf_appends(&b, " AND tenant_id = :scope");
	if (lq->client_id)
		buf_appends(&b, " AND tenant_id = :client");
	if (word) {
		buf_appends(&b, " AND (replace(' ' || name, '-', ' ') ILIKE :word"
			    " OR email ILIKE :prefix");
		if (digits)
			buf_appends(&b, " OR strpos(" PHONE_DIGITS ", :digits) > 0");
		buf_appends(&b, ")");
	}
	buf_appends(&b, " ORDER BY id LIMIT :limit");
	pgq_init(&q, buf_str(&b));
	pgq_i64(&q, ":after", lq->after);
	pgq_i64(&q, ":scope", sc->client_id);
	pgq_i64(&q, ":client", lq->client_id);
	pgq_txt(&q, ":word", word);
	pgq_txt(&q, ":prefix", prefix);
	pgq_txt(&q, ":digits", digits);
	r = read_page(st, &q, list_limit(lq), a, sizeof(struct contact), row_contact, &items,
		      &out->n, &out->next_after, e);
	out->items = items;
	pgq_release(&q);
	buf_release(&b);
	return r;
}

/* The audit log in order, a page of rows at a time (the log grows with
 * every write; it is never held in memory whole). */
static enum result pg_audit_walk(struct store *st,
				 bool (*fn)(const struct audit_rec *, void *), void *arg,
				 struct err *e)
{
	int64_t after = 0;
	bool more = true;

	while (more) {
		struct pgq q;
		PGresult *r;
		int rows;

		pgq_init(&q, "SELECT seq, at, actor_id, tenant_id, action, object_type, object_id,"
			 " outcome, addr, detail, prev_hash, hash FROM audit_log WHERE seq > :after"
			 " ORDER BY seq LIMIT 1000");
		pgq_i64(&q, ":after", after);
		r = read_exec((struct pgs *)st, &q, "audit", e);
		pgq_release(&q);
		if (!r)
			return e->code;
		rows = PQntuples(r);
		more = rows == 1000;
		for (int i = 0; i < rows; i++) {
			struct audit_rec rec = { 0 };
			rec.seq = pg_i64(r, i, 0);
			rec.at = pg_i64(r, i, 1);
			rec.actor_id = pg_i64(r, i, 2);
			rec.tenant_id = pg_i64(r, i, 3);
			rec.action = PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4);
			rec.object_type = PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5);
			rec.object_id = pg_i64(r, i, 6);
			rec.outcome = PQgetisnull(r, i, 7) ? NULL : PQgetvalue(r, i, 7);
			rec.addr = PQgetisnull(r, i, 8) ? NULL : PQgetvalue(r, i, 8);
			rec.detail = PQgetisnull(r, i, 9) ? NULL : PQgetvalue(r, i, 9);
			pg_blob(r, i, 10, rec.prev_hash, 32);
			pg_blob(r, i, 11, rec.hash, 32);
			after = rec.seq;
			if (!fn(&rec, arg)) {
				more = false;
				break;
			}
		}
		PQclear(r);
	}
	return RC_OK;
}

/* ---- writes ---------------------------------------------------------------- */

/* After an update that matched no row: not found, or another version. */
static enum result update_miss(struct pgw *x, const char *sql, struct store_write *w,
			       const char *what)
{
	struct id_scope is = { w->id, &w->scope };
	PGresult *r = wrun(x, sql, NULL, what, &w->err, bind_id_scope, &is);
	int n;

	if (!r)
		return w->err.code;
	n = PQntuples(r);
	PQclear(r);
	if (n)
		return err_set(&w->err, RC_STALE, NULL,
			       "the %s was changed by someone else; reload it and try again", what);
	return err_set(&w->err, RC_NOTFOUND, NULL, "%s not found", what);
}

/* Runs q, an UPDATE of w's object RETURNING version [, tenant]: sets the
 * new version (and the audit record's tenant when returned); after no
 * row, update_miss with exists_sql (not found, or another version). */
static enum result update_run(struct pgw *x, struct pgq *q, struct store_write *w,
			      const char *field, const char *what, const char *exists_sql)
{
	PGresult *r = pgw_run(x, q, field, what, &w->err);
	int n;

	if (!r)
		return w->err.code;
	n = PQntuples(r);
	if (n) {
		w->version = pg_i64(r, 0, 0);
		if (PQnfields(r) > 1)
			w->audit.tenant_id = pg_i64(r, 0, 1);
	}
	PQclear(r);
	return n ? RC_OK : update_miss(x, exists_sql, w, what);
}

static enum result w_client_create(struct pgw *x, struct store_write *w)
{
	const struct client *c = &w->in.client;
	struct pgq q;
	PGresult *r;

	if (!w->scope.all_tenants)
		return err_set(&w->err, RC_DENIED, NULL, "only provider staff create clients");
	pgq_init(&q, "INSERT INTO clients (name, timezone, email_domain, notes, active,"
		 " version, created_at, updated_at, portal_org_visibility, auto_close_days,"
		 " priority_matrix) VALUES (:name, :tz, :domain, :notes, :active, 1, :now, :now,"
		 " :portal, :autoclose, :matrix) RETURNING id");
	pgq_txt(&q, ":name", c->name);
	pgq_txt(&q, ":tz", c->timezone);
	pgq_txt(&q, ":domain", c->email_domain);
	pgq_txt(&q, ":notes", c->notes);
	pgq_i64(&q, ":active", c->active ? 1 : 0);
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_i64(&q, ":portal", c->portal_org_visibility ? 1 : 0);
	pgq_i64(&q, ":autoclose", c->auto_close_days > 0 ? c->auto_close_days : 7);
	pgq_txt(&q, ":matrix", c->priority_matrix);
	r = pgw_run(x, &q, "name", "client", &w->err);
	pgq_release(&q);
	if (!r)
		return w->err.code;
	w->id = pg_i64(r, 0, 0);
	PQclear(r);
	w->version = 1;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = w->id;
	return pgm_default_checks(x, w->id, &w->err);
}

static enum result w_client_update(struct pgw *x, struct store_write *w)
{
	const struct client *c = &w->in.client;
	struct pgq q;
	enum result rc;

	pgq_init(&q, "UPDATE clients SET name = CASE WHEN :f_name THEN :name ELSE name END,"
		 " timezone = CASE WHEN :f_tz THEN :tz ELSE timezone END,"
		 " email_domain = CASE WHEN :f_domain THEN :domain ELSE email_domain END,"
		 " notes = CASE WHEN :f_notes THEN :notes ELSE notes END,"
		 " active = CASE WHEN :f_active THEN :active ELSE active END,"
		 " version = version + 1, updated_at = :now,"
		 " portal_org_visibility = CASE WHEN :f_portal THEN :portal ELSE portal_org_visibility END,"
		 " auto_close_days = CASE WHEN :f_autoclose THEN :autoclose ELSE auto_close_days END,"
		 " priority_matrix = CASE WHEN :f_matrix THEN :matrix ELSE priority_matrix END"
		 " WHERE id = :id AND (:all OR id = :scope) AND (:version = 0 OR version = :version)"
		 " RETURNING version");
	pgq_i64(&q, ":id", w->id);
	pgq_bool(&q, ":f_name", w->fields & F_NAME);
	pgq_txt(&q, ":name", c->name);
	pgq_bool(&q, ":f_tz", w->fields & F_TIMEZONE);
	pgq_txt(&q, ":tz", c->timezone);
	pgq_bool(&q, ":f_domain", w->fields & F_EMAIL_DOMAIN);
	pgq_txt(&q, ":domain", c->email_domain);
	pgq_bool(&q, ":f_notes", w->fields & F_NOTES);
	pgq_txt(&q, ":notes", c->notes);
	pgq_bool(&q, ":f_active", w->fields & F_ACTIVE);
	pgq_i64(&q, ":active", c->active ? 1 : 0);
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_scope(&q, &w->scope);
	pgq_i64(&q, ":version", w->if_version);
	pgq_bool(&q, ":f_portal", w->fields & F_PORTAL);
	pgq_i64(&q, ":portal", c->portal_org_visibility ? 1 : 0);
	pgq_bool(&q, ":f_autoclose", w->fields & F_AUTOCLOSE);
	pgq_i64(&q, ":autoclose", c->auto_close_days);
	pgq_bool(&q, ":f_matrix", w->fields & F_MATRIX);
	pgq_txt(&q, ":matrix", c->priority_matrix);
	rc = update_run(x, &q, w, "name", "client",
			"SELECT version FROM clients WHERE id = :id AND (:all OR id = :scope)");
	pgq_release(&q);
	if (rc != RC_OK)
		return rc;
	if (!w->audit.tenant_id)
		w->audit.tenant_id = w->id;
	return RC_OK;
}

static void bind_none(struct pgq *q, const void *p)
{
	UNUSED(q);
	UNUSED(p);
}

enum result pgw_contact_insert(struct pgw *x, const struct contact *c, int64_t *id, struct err *e)
{
	struct pgq q;
	PGresult *r;
	enum result rc;

	*id = 0;
	r = wrun(x, "SELECT coalesce(max(id), 0) + 1 FROM contacts", NULL, "contact id", e,
		 bind_none, NULL);
	if (!r)
		return e->code;
	*id = pg_i64(r, 0, 0);
	PQclear(r);
	pgq_init(&q, "INSERT INTO contacts (tenant_id, id, name, email, phone, title,"
		 " version, created_at, updated_at) VALUES (:client, :id, :name, :email, :phone,"
		 " :title, 1, :now, :now)");
	pgq_i64(&q, ":client", c->client_id);
	pgq_i64(&q, ":id", *id);
	pgq_txt(&q, ":name", c->name);
	pgq_txt(&q, ":email", c->email);
	pgq_txt(&q, ":phone", c->phone);
	pgq_txt(&q, ":title", c->title);
	pgq_i64(&q, ":now", clock_now_ms());
	rc = pgw_do(x, &q, "email", "contact", e);
	pgq_release(&q);
	if (rc != RC_OK)
		*id = 0;
	return rc;
}

static enum result w_contact_create(struct pgw *x, struct store_write *w)
{
	const struct contact *c = &w->in.contact;
	enum result rc = pgw_tenant_visible(x, &w->scope, c->client_id, &w->err);

	if (rc == RC_OK)
		rc = pgw_contact_insert(x, c, &w->id, &w->err);
	if (rc != RC_OK)
		return rc;
	w->version = 1;
	w->audit.tenant_id = c->client_id;
	return RC_OK;
}

static enum result w_contact_update(struct pgw *x, struct store_write *w)
{
	const struct contact *c = &w->in.contact;
	struct pgq q;
	enum result rc;

	pgq_init(&q, "UPDATE contacts SET name = CASE WHEN :f_name THEN :name ELSE name END,"
		 " email = CASE WHEN :f_email THEN :email ELSE email END,"
		 " phone = CASE WHEN :f_phone THEN :phone ELSE phone END,"
		 " title = CASE WHEN :f_title THEN :title ELSE title END,"
		 " version = version + 1, updated_at = :now"
		 " WHERE id = :id AND (:all OR tenant_id = :scope) AND (:version = 0 OR version = :version)"
		 " RETURNING version, tenant_id");
	pgq_i64(&q, ":id", w->id);
	pgq_bool(&q, ":f_name", w->fields & F_NAME);
	pgq_txt(&q, ":name", c->name);
	pgq_bool(&q, ":f_email", w->fields & F_EMAIL);
	pgq_txt(&q, ":email", c->email);
	pgq_bool(&q, ":f_phone", w->fields & F_PHONE);
	pgq_txt(&q, ":phone", c->phone);
	pgq_bool(&q, ":f_title", w->fields & F_TITLE);
	pgq_txt(&q, ":title", c->title);
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_scope(&q, &w->scope);
	pgq_i64(&q, ":version", w->if_version);
	rc = update_run(x, &q, w, "email", "contact", "SELECT version, tenant_id FROM contacts"
			" WHERE id = :id AND (:all OR tenant_id = :scope)");
	pgq_release(&q);
	return rc;
}

static enum result w_user_create(struct pgw *x, struct store_write *w)
{
	const struct user *u = &w->in.user;
	struct pgq q;
	PGresult *r;

	if (u->client_id) {
		enum result rc = pgw_tenant_visible(x, &w->scope, u->client_id, &w->err);
		if (rc != RC_OK)
			return rc;
	} else if (!w->scope.all_tenants) {
		return err_set(&w->err, RC_DENIED, "role", "only provider staff create provider users");
	}
	pgq_init(&q, "INSERT INTO users (email, name, role, tier, client_id, active,"
		 " password_hash, version, created_at, updated_at)"
		 " VALUES (:email, :name, :role, nullif(:tier, 0), nullif(:client, 0), :active,"
		 " :hash, 1, :now, :now) RETURNING id");
	pgq_txt(&q, ":email", u->email);
	pgq_txt(&q, ":name", u->name);
	pgq_txt(&q, ":role", role_name(u->role));
	pgq_i64(&q, ":tier", u->tier);
	pgq_i64(&q, ":client", u->client_id);
	pgq_i64(&q, ":active", u->active ? 1 : 0);
	pgq_txt(&q, ":hash", u->password_hash);
	pgq_i64(&q, ":now", clock_now_ms());
	r = pgw_run(x, &q, "email", "user", &w->err);
	pgq_release(&q);
	if (!r)
		return w->err.code;
	w->id = pg_i64(r, 0, 0);
	PQclear(r);
	w->version = 1;
	w->audit.tenant_id = u->client_id;
	return RC_OK;
}

/* Records w->totp_step as user's last used one; RC_DENIED when it is not
 * newer (the code was used before, on any server). */
static enum result totp_step_put(struct pgw *x, struct store_write *w, int64_t user)
{
	struct pgq q;
	PGresult *r;
	int n;

	if (!w->totp_step)
		return RC_OK;
	pgq_init(&q, "UPDATE users SET totp_last_step = :step WHERE id = :id AND totp_last_step < :step");
	pgq_i64(&q, ":id", user);
	pgq_i64(&q, ":step", w->totp_step);
	r = pgw_run(x, &q, NULL, "totp", &w->err);
	pgq_release(&q);
	if (!r)
		return w->err.code;
	n = strcmp(PQcmdTuples(r), "1") ? 0 : 1;
	PQclear(r);
	if (n != 1)
		return err_set(&w->err, RC_DENIED, "totp", "this code was used already; wait for the next one");
	return RC_OK;
}

static enum result w_user_update(struct pgw *x, struct store_write *w)
{
	const struct user *u = &w->in.user;
	struct pgq q;
	enum result rc;

	if ((w->fields & F_ROLE) && u->client_id) {
		rc = pgw_tenant_visible(x, &w->scope, u->client_id, &w->err);
		if (rc != RC_OK)
			return rc;
	}
	if (totp_step_put(x, w, w->id) != RC_OK)
		return w->err.code;
	pgq_init(&q, "UPDATE users SET name = CASE WHEN :f_name THEN :name ELSE name END,"
		 " email = CASE WHEN :f_email THEN :email ELSE email END,"
		 " role = CASE WHEN :f_role THEN :role ELSE role END,"
		 " tier = CASE WHEN :f_role THEN nullif(:tier, 0) ELSE tier END,"
		 " client_id = CASE WHEN :f_role THEN nullif(:client, 0) ELSE client_id END,"
		 " active = CASE WHEN :f_active THEN :active ELSE active END,"
		 " password_hash = CASE WHEN :f_password THEN :hash ELSE password_hash END,"
		 " totp_secret = CASE WHEN :f_totp THEN :totp ELSE totp_secret END,"
		 " totp_enabled = CASE WHEN :f_totp THEN :totp_on ELSE totp_enabled END,"
		 " version = version + 1, updated_at = :now"
		 " WHERE id = :id AND (:all OR client_id = :scope) AND (:version = 0 OR version = :version)"
		 " RETURNING version, coalesce(client_id, 0)");
	pgq_i64(&q, ":id", w->id);
	pgq_bool(&q, ":f_name", w->fields & F_NAME);
	pgq_txt(&q, ":name", u->name);
	pgq_bool(&q, ":f_email", w->fields & F_EMAIL);
	pgq_txt(&q, ":email", u->email);
	pgq_bool(&q, ":f_role", w->fields & F_ROLE);
	pgq_txt(&q, ":role", (w->fields & F_ROLE) ? role_name(u->role) : NULL);
	pgq_i64(&q, ":tier", u->tier);
	pgq_i64(&q, ":client", u->client_id);
	pgq_bool(&q, ":f_active", w->fields & F_ACTIVE);
	pgq_i64(&q, ":active", u->active ? 1 : 0);
	pgq_bool(&q, ":f_password", w->fields & F_PASSWORD);
	pgq_txt(&q, ":hash", u->password_hash);
	pgq_bool(&q, ":f_totp", w->fields & F_TOTP);
	pgq_txt(&q, ":totp", u->totp_secret);
	pgq_i64(&q, ":totp_on", u->totp_enabled ? 1 : 0);
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_scope(&q, &w->scope);
	pgq_i64(&q, ":version", w->if_version);
	rc = update_run(x, &q, w, "email", "user",
			"SELECT version FROM users WHERE id = :id AND (:all OR client_id = :scope)");
	pgq_release(&q);
	return rc;
}

static enum result w_login(struct pgw *x, struct store_write *w)
{
	const struct session *ss = &w->in.session.s;
	struct pgq q;
	enum result rc = totp_step_put(x, w, ss->user_id);

	if (rc != RC_OK)
		return rc;

	pgq_init(&q, "DELETE FROM sessions WHERE user_id = :user AND expires_at <= :now");
	pgq_i64(&q, ":user", ss->user_id);
	pgq_i64(&q, ":now", clock_now_ms());
	rc = pgw_do(x, &q, NULL, "session", &w->err);
	pgq_release(&q);
	if (rc != RC_OK)
		return rc;
	pgq_init(&q, "INSERT INTO sessions (id_hash, user_id, csrf_hash, mfa_ok, created_at,"
		 " expires_at, addr) VALUES (:hash, :user, :csrf, :mfa, :created, :expires, :addr)");
	pgq_blob(&q, ":hash", w->in.session.id_hash, 32);
	pgq_i64(&q, ":user", ss->user_id);
	pgq_blob(&q, ":csrf", ss->csrf_hash, 32);
	pgq_i64(&q, ":mfa", ss->mfa_ok ? 1 : 0);
	pgq_i64(&q, ":created", ss->created_at);
	pgq_i64(&q, ":expires", ss->expires_at);
	pgq_txt(&q, ":addr", w->in.session.addr);
	rc = pgw_do(x, &q, NULL, "session", &w->err);
	pgq_release(&q);
	if (rc != RC_OK)
		return rc;
	pgq_init(&q, "UPDATE users SET last_login_at = :at WHERE id = :user");
	pgq_i64(&q, ":user", ss->user_id);
	pgq_i64(&q, ":at", ss->created_at);
	rc = pgw_do(x, &q, NULL, "login", &w->err);
	pgq_release(&q);
	if (rc != RC_OK)
		return rc;
	if (w->in.session.has_throttle_reset) {
		pgq_init(&q, "DELETE FROM auth_throttle WHERE key = :hash");
		pgq_blob(&q, ":hash", w->in.session.throttle_reset, 32);
		rc = pgw_do(x, &q, NULL, "login", &w->err);
		pgq_release(&q);
		if (rc != RC_OK)
			return rc;
	}
	w->id = ss->user_id;
	return RC_OK;
}

/* The counter's fixed window, in one statement (the same text as the
 * SQLite store's WS_THROTTLE_PUT): two servers counting at once both
 * count. */
static enum result w_throttle(struct pgw *x, struct store_write *w)
{
	for (int i = 0; i < w->in.throttle.n && i < 2; i++) {
		struct pgq q;
		enum result rc;
		pgq_init(&q, "INSERT INTO auth_throttle (key, window_start, failures) VALUES (:key, :now, 1)"
			 " ON CONFLICT (key) DO UPDATE SET"
			 " failures = CASE WHEN :now >= auth_throttle.window_start + :window THEN 1"
			 " ELSE auth_throttle.failures + 1 END,"
			 " window_start = CASE WHEN :now >= auth_throttle.window_start + :window THEN :now"
			 " ELSE auth_throttle.window_start END");
		pgq_blob(&q, ":key", w->in.throttle.key[i], 32);
		pgq_i64(&q, ":now", w->in.throttle.now);
		pgq_i64(&q, ":window", w->in.throttle.window_ms[i]);
		rc = pgw_do(x, &q, NULL, "counter", &w->err);
		pgq_release(&q);
		if (rc != RC_OK)
			return rc;
	}
	return RC_OK;
}

static enum result session_by_hash(struct pgw *x, struct store_write *w, const char *sql)
{
	PGresult *r = wrun(x, sql, NULL, "session", &w->err, bind_hash, w->in.session.id_hash);

	if (!r)
		return w->err.code;
	PQclear(r);
	return RC_OK;
}

static enum result w_session_delete(struct pgw *x, struct store_write *w)
{
	return session_by_hash(x, w, "DELETE FROM sessions WHERE id_hash = :hash");
}

static enum result w_session_mfa_ok(struct pgw *x, struct store_write *w)
{
	return session_by_hash(x, w, "UPDATE sessions SET mfa_ok = 1 WHERE id_hash = :hash");
}

static enum result w_token_create(struct pgw *x, struct store_write *w)
{
	const struct api_token *t = &w->in.token.t;
	struct pgq q;
	PGresult *r;

	pgq_init(&q, "INSERT INTO api_tokens (user_id, name, hash, created_at, expires_at)"
		 " VALUES (:user, :name, :hash, :now, nullif(:expires, 0)) RETURNING id");
	pgq_i64(&q, ":user", t->user_id);
	pgq_txt(&q, ":name", t->name);
	pgq_blob(&q, ":hash", w->in.token.hash, 32);
	pgq_i64(&q, ":now", clock_now_ms());
	pgq_i64(&q, ":expires", t->expires_at);
	r = pgw_run(x, &q, NULL, "token", &w->err);
	pgq_release(&q);
	if (!r)
		return w->err.code;
	w->id = pg_i64(r, 0, 0);
	PQclear(r);
	return RC_OK;
}

static enum result w_setting_set(struct pgw *x, struct store_write *w)
{
	struct pgq q;
	enum result rc;

	pgq_init(&q, "INSERT INTO settings (key, value) VALUES (:key, :value)"
		 " ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	pgq_txt(&q, ":key", w->in.setting.key);
	pgq_txt(&q, ":value", w->in.setting.value);
	rc = pgw_do(x, &q, NULL, "setting", &w->err);
	pgq_release(&q);
	return rc;
}

static enum result w_audit_only(struct pgw *x, struct store_write *w)
{
	UNUSED(x);
	UNUSED(w);
	return RC_OK;
}

static enum result (*const write_ops[W_KIND_COUNT])(struct pgw *, struct store_write *) = {
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
	[W_TICKET_CREATE] = pgt_ticket_create,
	[W_TICKET_CHANGE] = pgt_ticket_change,
	[W_TICKET_BULK] = pgt_ticket_bulk,
	[W_RULE_PUT] = pgt_rule_put,
	[W_RULE_DELETE] = pgt_rule_delete,
	[W_ESC_RULE_PUT] = pgt_esc_rule_put,
	[W_CSAT] = pgt_csat_put,
	[W_CALENDAR_PUT] = pgt_calendar_put,
	[W_SLA_POLICY_PUT] = pgt_sla_policy_put,
	[W_CONTRACT_PUT] = pgt_contract_put,
	[W_THROTTLE] = w_throttle,
	[W_ENROLL_TOKEN_CREATE] = pgm_enroll_token_create,
	[W_ENROLL_TOKEN_REVOKE] = pgm_enroll_token_revoke,
	[W_DEVICE_ENROLL] = pgm_device_enroll,
	[W_DEVICE_UPDATE] = pgm_device_update,
	[W_CHECKIN] = pgm_checkin,
	[W_CHECK_PUT] = pgm_check_put,
	[W_CHECK_DELETE] = pgm_check_delete,
	[W_ALERT_STEP] = pgm_alert_step,
	[W_ALERT_EVENTS_DONE] = pgm_alert_events_done,
	[W_MWINDOW_PUT] = pgm_mwindow_put,
	[W_MWINDOW_DELETE] = pgm_mwindow_delete,
	[W_AM_RECEIVER_DELETE] = pgm_am_receiver_delete,
	[W_AM_RECEIVER_CREATE] = pgm_am_receiver_create,
	[W_MONITOR_ROLLUP] = pgm_rollup,
	[W_MONITOR_RETAIN] = pgm_retain,
	[W_MAIL_LOG] = pgmail_log,
	[W_MAIL_ROUTE_PUT] = pgmail_route_put,
	[W_MAIL_ROUTE_DELETE] = pgmail_route_delete,
	[W_TEMPLATE_PUT] = pgmail_template_put,
	[W_TEMPLATE_DELETE] = pgmail_template_delete,
	[W_WEBHOOK_PUT] = pgmail_webhook_put,
	[W_WEBHOOK_DELETE] = pgmail_webhook_delete,
	[W_OUTBOX_EXPAND] = pgmail_outbox_expand,
	[W_DELIVERY_RESULT] = pgmail_delivery_result,
	[W_DELIVERY_RETRY] = pgmail_delivery_retry,
	[W_SCHEDULE_PUT] = pgsch_put,
	[W_SCHEDULE_DELETE] = pgsch_delete,
	[W_SCHEDULE_CLAIM] = pgsch_claim,
	[W_SCHEDULE_SEND] = pgsch_send,
	[W_OUTBOX_DEFER] = pgsch_outbox_defer,
	[W_TICKET_IMPORT] = pgh_ticket_import,
};

/* Looks up the idempotency key: RC_OK and *found=false when new. */
static enum result idem_check(struct pgw *x, struct store_write *w, bool *found)
{
	struct pgq q;
	PGresult *r;
	enum result rc = RC_OK;

	*found = false;
	pgq_init(&q, "SELECT kind, fingerprint, object_id FROM idempotency"
		 " WHERE user_id = :user AND key = :key");
	pgq_i64(&q, ":user", w->scope.user_id);
	pgq_txt(&q, ":key", w->idem_key);
	r = pgw_run(x, &q, NULL, "idempotency", &w->err);
	pgq_release(&q);
	if (!r)
		return w->err.code;
	if (PQntuples(r)) {
		unsigned char fp[32];
		*found = true;
		if (pg_i64(r, 0, 0) != (int64_t)w->kind || !pg_blob(r, 0, 1, fp, 32) ||
		    memcmp(fp, w->idem_fp, 32) != 0)
			rc = err_set(&w->err, RC_CONFLICT, "Idempotency-Key",
				     "this Idempotency-Key was used for a different request");
		else
			w->id = pg_i64(r, 0, 2);
	}
	PQclear(r);
	return rc;
}

static enum result idem_put(struct pgw *x, struct store_write *w)
{
	struct pgq q;
	enum result rc;

	pgq_init(&q, "INSERT INTO idempotency (user_id, key, kind, fingerprint, object_id,"
		 " created_at) VALUES (:user, :key, :kind, :fp, :object, :now)");
	pgq_i64(&q, ":user", w->scope.user_id);
	pgq_txt(&q, ":key", w->idem_key);
	pgq_i64(&q, ":kind", (int64_t)w->kind);
	pgq_blob(&q, ":fp", w->idem_fp, 32);
	pgq_i64(&q, ":object", w->id);
	pgq_i64(&q, ":now", clock_now_ms());
	rc = pgw_do(x, &q, NULL, "idempotency", &w->err);
	pgq_release(&q);
	return rc;
}

/* Appends the write's audit record to the chain. The head (last seq and
 * hash) is read once per pass over a batch, at the first audited write
 * (in the transaction's snapshot), and advanced in memory by each record
 * appended: audit_put is the last statement of a write, so a record that
 * was inserted belongs to a write that succeeded, and a pass that fails
 * later runs again from on_begin(), which forgets the head. */
static void on_begin(void *arg)
{
	((struct pgs *)arg)->audit_known = false;
	pgm_pass_begin(arg);
}

static void on_end(void *arg, bool committed)
{
	pgm_pass_end(arg, committed);
}

static enum result audit_put1(struct pgw *x, struct store_write *w, const struct audit_in *a)
{
	struct pgs *s = x->s;
	struct audit_rec rec = { 0 };
	struct pgq q;
	enum result rc;

	if (!s->audit_known) {
		PGresult *r = wrun(x, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", NULL,
				   "audit", &w->err, bind_none, NULL);
		if (!r)
			return w->err.code;
		s->audit_seq = 0;
		memset(s->audit_head, 0, 32);
		if (PQntuples(r)) {
			s->audit_seq = pg_i64(r, 0, 0);
			pg_blob(r, 0, 1, s->audit_head, 32);
		}
		PQclear(r);
		s->audit_known = true;
	}
	rec.seq = s->audit_seq;
	rec.seq++;
	rec.at = clock_now_ms();
	rec.actor_id = w->scope.user_id;
	rec.tenant_id = a->tenant_id;
	rec.action = a->action;
	rec.object_type = a->object_type;
	rec.object_id = a->object_id ? a->object_id : w->id;
	rec.outcome = a->outcome ? a->outcome : "ok";
	rec.addr = a->addr;
	rec.detail = a->detail;
	memcpy(rec.prev_hash, s->audit_head, 32);
	audit_hash(s->audit_head, &rec, rec.hash);

	pgq_init(&q, "INSERT INTO audit_log (seq, at, actor_id, tenant_id, action, object_type,"
		 " object_id, outcome, addr, detail, prev_hash, hash) VALUES (:seq, :at, :actor,"
		 " :tenant, :action, :otype, :oid, :outcome, :addr, :detail, :prev, :hash)");
	pgq_i64(&q, ":seq", rec.seq);
	pgq_i64(&q, ":at", rec.at);
	pgq_i64(&q, ":actor", rec.actor_id);
	pgq_i64(&q, ":tenant", rec.tenant_id);
	pgq_txt(&q, ":action", rec.action);
	pgq_txt(&q, ":otype", rec.object_type);
	pgq_i64(&q, ":oid", rec.object_id);
	pgq_txt(&q, ":outcome", rec.outcome);
	pgq_txt(&q, ":addr", rec.addr);
	pgq_txt(&q, ":detail", rec.detail);
	pgq_blob(&q, ":prev", rec.prev_hash, 32);
	pgq_blob(&q, ":hash", rec.hash, 32);
	rc = pgw_do(x, &q, NULL, "audit", &w->err);
	pgq_release(&q);
	if (rc == RC_OK) {
		s->audit_seq = rec.seq;
		memcpy(s->audit_head, rec.hash, 32);
	}
	return rc;
}

/* The write's audit records (store_audit_records), the last statements of
 * the write. When one fails after another went in, the head goes back to
 * where it was: the write is rolled back to its savepoint. */
static enum result audit_put(struct pgw *x, struct store_write *w)
{
	struct pgs *s = x->s;
	size_t n = store_audit_records(w);
	bool known = s->audit_known;
	int64_t seq = s->audit_seq;
	unsigned char head[32];
	enum result r = RC_OK;

	memcpy(head, s->audit_head, 32);
	for (size_t i = 0; r == RC_OK && i < n; i++) {
		struct audit_in a;
		char detail[512];
		store_audit_record(w, i, &a, detail, sizeof(detail));
		r = audit_put1(x, w, &a);
	}
	if (r != RC_OK) {
		s->audit_known = known;
		s->audit_seq = seq;
		memcpy(s->audit_head, head, 32);
	}
	return r;
}

/* pg_writer's apply: one write inside its savepoint. */
static enum result apply(PGconn *c, void *arg, struct store_write *w, bool *doomed)
{
	struct pgw x = { arg, c, doomed };
	bool replay = false;
	enum result r = RC_OK;
	size_t mark = pgm_write_mark(arg);

	/* A batch may run again: start from the write as submitted (a failed
	 * second pass must not answer with the first pass's id or version). */
	w->replayed = false;
	w->audit.tenant_id = w->audit_tenant_in;
	w->version = 0;
	if (w->kind == W_CLIENT_CREATE || w->kind == W_CONTACT_CREATE || w->kind == W_USER_CREATE ||
	    w->kind == W_TOKEN_CREATE || w->kind == W_TICKET_CREATE)
		w->id = 0;
	if (w->idem_key)
		r = idem_check(&x, w, &replay);
	if (r == RC_OK && !replay) {
		r = (w->kind < W_KIND_COUNT && write_ops[w->kind])
			? write_ops[w->kind](&x, w)
			: err_set(&w->err, RC_INVALID, NULL, "unknown write");
		if (r == RC_OK && w->recompute)
			r = pgt_sla_recompute(&x, w->recompute, &w->err);
		if (r == RC_OK && w->idem_key)
			r = idem_put(&x, w);
		if (r == RC_OK && w->audit.action)
			r = audit_put(&x, w);
	}
	w->replayed = r == RC_OK && replay;
	/* A failed write is rolled back to its savepoint: the series it made
	 * are gone with it. */
	if (r != RC_OK)
		pgm_write_undo(arg, mark);
	return r;
}

/* ---- the store ------------------------------------------------------------ */

static void pg_submit(struct store *st, struct store_write *w)
{
	w->audit_tenant_in = w->audit.tenant_id;
	pg_writer_submit(((struct pgs *)st)->wr, w);
}

static void pg_stats(struct store *st, struct store_stats *out)
{
	struct pgs *s = (struct pgs *)st;
	struct pg_writer_stats ws;

	pg_writer_stats(s->wr, &ws);
	memset(out, 0, sizeof(*out));
	out->commits = ws.commits;
	out->writes = ws.writes;
	out->failed_commits = ws.failed_batches;
}

/* Leadership (pg.h, pg_leader_try): the lock belongs to the session of
 * s->leader. Once held, each call only checks that the session is alive
 * (then the lock is still ours); a session found dead has lost it, and
 * the next call competes again on a new session. */
static bool pg_lead(struct store *st)
{
	struct pgs *s = (struct pgs *)st;
	struct err e;
	bool out;

	pthread_mutex_lock(&s->lmu);
	if (!s->leader && pg_connect(s->url, &s->leader, &e) != RC_OK)
		s->leader = NULL;
	if (s->leader && s->leading) {
		PGresult *r = PQexec(s->leader, "SELECT 1");
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			s->leading = false;
			(void)pg_reconnect(s->leader);
		}
		PQclear(r);
	}
	if (s->leader && !s->leading)
		s->leading = pg_leader_try(s->leader, PG_LEADER_LOCK);
	out = s->leading;
	pthread_mutex_unlock(&s->lmu);
	return out;
}

static void pg_close(struct store *st)
{
	struct pgs *s = (struct pgs *)st;

	pg_writer_stop(s->wr);
	pgm_cache_free(s);
	pg_pool_close(s->pool);
	if (s->leader)
		pg_finish(s->leader);
	pthread_mutex_destroy(&s->lmu);
	free(s->url);
	free(s);
}

const struct store_ops store_pg_ops;

/* Whether the database holds an itsup schema (schema_migrations with a
 * row). */
static bool has_schema(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL");
	bool yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
		   !strcmp(PQgetvalue(r, 0, 0), "t");

	PQclear(r);
	if (!yes)
		return false;
	r = PQexec(c, "SELECT EXISTS (SELECT 1 FROM schema_migrations)");
	yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	      !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	return yes;
}

static enum result pg_open(struct store **out, const char *url, bool create, struct err *e)
{
	struct pgs *s = calloc(1, sizeof(*s));
	const char *env = getenv("ITSUP_PG_POOL");
	int64_t want = READ_POOL;
	int size, applied = 0;
	enum result r;
	PGconn *c;

	*out = NULL;
	if (!s)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	s->base.ops = &store_pg_ops;
	pthread_mutex_init(&s->lmu, NULL);
	s->url = malloc(strlen(url) + 1);
	if (!s->url) {
		pthread_mutex_destroy(&s->lmu);
		free(s);
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	memcpy(s->url, url, strlen(url) + 1);
	if (env && *env && (!parse_i64(env, &want) || want < 1 || want > PG_POOL_MAX))
		want = READ_POOL;
	size = (int)want;
	r = pg_pool_open(&s->pool, url, size, e);
	if (r == RC_OK) {
		c = pg_take(s->pool);
		/* init on a database that has a schema (any version): refuse
		 * before changing anything, as SQLite refuses an existing file. */
		if (create && has_schema(c))
			r = err_set(e, RC_CONFLICT, "pg", "the database already has an itsup schema");
		if (r == RC_OK)
			r = pg_migrate(c, pg_migrations, &applied, e);
		pg_give(s->pool, c);
	}
	if (r == RC_OK) {
		r = pg_writer_start(&s->wr, url, apply, s, e);
		if (r == RC_OK) {
			pg_writer_on_begin(s->wr, on_begin);
			pg_writer_on_end(s->wr, on_end);
		}
	}
	if (r != RC_OK) {
		pg_pool_close(s->pool);
		pthread_mutex_destroy(&s->lmu);
		free(s->url);
		free(s);
		return r;
	}
	*out = &s->base;
	return RC_OK;
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.submit = pg_submit,
	.stats = pg_stats,
	.read_begin = pg_read_begin,
	.read_end = pg_read_end,
	.read_fresh_begin = pg_read_fresh_begin,
	.read_fresh_end = pg_read_fresh_end,
	.sla_generation = pgt_sla_generation,
	.lead = pg_lead,
	.client_get = pg_client_get,
	.client_list = pg_client_list,
	.contact_get = pg_contact_get,
	.contact_list = pg_contact_list,
	.user_get = pg_user_get,
	.user_list = pg_user_list,
	.user_auth = pg_user_auth,
	.user_auth_by_id = pg_user_auth_by_id,
	.session_get = pg_session_get,
	.token_get = pg_token_get,
	.setting_get = pg_setting_get,
	.throttle_get = pg_throttle_get,
	.audit_walk = pg_audit_walk,
	.ticket_get = pgt_ticket_get,
	.ticket_list = pgt_ticket_list,
	.queue_counts = pgt_queue_counts,
	.ticket_messages = pgt_ticket_messages,
	.ticket_events = pgt_ticket_events,
	.ticket_time = pgt_ticket_time,
	.rules_list = pgt_rules_list,
	.esc_rules_list = pgt_esc_rules_list,
	.esc_candidates = pgt_esc_candidates,
	.autoclose_candidates = pgt_autoclose_candidates,
	.contact_by_email = pgt_contact_by_email,
	.user_by_email = pgt_user_by_email,
	.csat_get = pgt_csat_get,
	.calendar_get = pgt_calendar_get,
	.calendar_list = pgt_calendar_list,
	.sla_policy_get = pgt_sla_policy_get,
	.sla_policy_list = pgt_sla_policy_list,
	.contract_get = pgt_contract_get,
	.contract_list = pgt_contract_list,
	.sla_policy_for = pgt_sla_policy_for,
	.sla_due = pgt_sla_due,
	.enroll_token_list = pgm_enroll_token_list,
	.device_auth = pgm_device_auth,
	.device_get = pgm_device_get,
	.device_list = pgm_device_list,
	.devices_silent = pgm_devices_silent,
	.check_list_all = pgm_check_list_all,
	.check_get = pgm_check_get,
	.check_list = pgm_check_list,
	.alert_get = pgm_alert_get,
	.alert_list = pgm_alert_list,
	.alert_events = pgm_alert_events,
	.alerts_in_maintenance = pgm_alerts_in_maintenance,
	.alert_work = pgm_alert_work,
	.mwindow_get = pgm_mwindow_get,
	.mwindow_list = pgm_mwindow_list,
	.am_receiver_auth = pgm_am_receiver_auth,
	.am_receiver_list = pgm_am_receiver_list,
	.series_points = pgm_series_points,
	.device_by_host = pgm_device_by_host,
	.client_by_name = pgm_client_by_name,
	.mail_thread = pgmail_thread,
	.ticket_by_number = pgmail_ticket_by_number,
	.report_tickets = pgt_report_tickets,
	.report_csat = pgt_report_csat,
	.report_hours = pgt_report_hours,
	.report_alert_events = pgm_report_alert_events,
	.report_uptime = pgm_report_uptime,
	.contact_find_email = pgmail_contact_find_email,
	.client_by_domain = pgmail_client_by_domain,
	.inbound_count = pgmail_inbound_count,
	.inbound_list = pgmail_inbound_list,
	.inbound_get = pgmail_inbound_get,
	.attachment_list = pgmail_attachment_list,
	.attachment_get = pgmail_attachment_get,
	.mail_route_find = pgmail_route_find,
	.mail_route_list = pgmail_route_list,
	.template_get = pgmail_template_get,
	.template_list = pgmail_template_list,
	.webhook_get = pgmail_webhook_get,
	.webhook_list = pgmail_webhook_list,
	.outbox_pending = pgmail_outbox_pending,
	.deliveries_due = pgmail_deliveries_due,
	.delivery_list = pgmail_delivery_list,
	.delivery_get = pgmail_delivery_get,
	.import_lookup = pgh_import_lookup,
	.schedule_get = pgsch_get,
	.schedule_list = pgsch_list,
	.schedules_due = pgsch_due,
};
