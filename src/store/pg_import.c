/*
 * pg_import.c: an SQLite deployment copied into an empty PostgreSQL
 * database (`itsup migrate --from-sqlite FILE --pg URL`; contract in
 * pg_import.h).
 *
 * Design
 *  1. Refuse early, change nothing. The SQLite file is opened read-only
 *     and read in one read transaction (one snapshot). Its schema version
 *     must equal the number of embedded PostgreSQL migrations (the two
 *     schemas are numbered in step, migrations/ and migrations-pg/), and
 *     clients, users and tickets on the PostgreSQL side must be missing or
 *     empty, before pg_migrate runs. pg_migrate commits the schema on its
 *     own (its advisory lock and transaction); everything after is one
 *     transaction.
 *  2. The tables come from SQLite's sqlite_master (type 'table'), less
 *     sqlite_* internals, schema_migrations and the shadow tables of
 *     virtual tables (ticket_fts_data, _idx, _content, _docsize,
 *     _config). A virtual table (only the FTS5 ticket_fts is known) is
 *     copied like any other with its implicit rowid as a first column:
 *     PostgreSQL's ticket_fts has rowid as an explicit key column. The
 *     columns are SQLite's PRAGMA table_info against PostgreSQL's
 *     pg_attribute less generated columns (ticket_fts.words); both sides
 *     must have the same tables and the same columns, and each column a
 *     matching type (migrations-pg/0001_init.sql: INTEGER is INTEGER or
 *     BIGINT, TEXT is TEXT, BLOB is BYTEA; migrations-pg/0007: REAL is
 *     DOUBLE PRECISION), or nothing is copied.
 *  3. Order. The foreign keys are NOT DEFERRABLE (the migrations declare
 *     plain REFERENCES), so a child row needs its parent first: tables are
 *     copied in a topological order of pg_constraint's foreign keys (ties
 *     by name); a cycle is refused.
 *  4. The transaction: LOCK every table IN EXCLUSIVE MODE (a server
 *     started meanwhile waits instead of writing between the emptiness
 *     check and the commit); every table but settings must be empty;
 *     settings is emptied (the PostgreSQL migration 0002 wrote its own
 *     random signing_key; the deployment's key is the one its signed
 *     links carry); each table sent with COPY t (cols) FROM STDIN in text
 *     format, rows read from SQLite in primary-key order; identity
 *     sequences setval'd to the table's max id (next insert: max + 1),
 *     or to SQLite's AUTOINCREMENT counter (sqlite_sequence) when that is
 *     higher (webhooks, 0008: the id of a deleted row is never handed out
 *     again, on either side); then the verification; then COMMIT. Any
 *     error or difference: ROLLBACK.
 *  5. Full-text search. PostgreSQL's ticket_fts.words is GENERATED ALWAYS
 *     AS (to_tsvector('ticket_fts', coalesce(ticket_fts_text(text), '')))
 *     STORED (migrations-pg/0002_tickets.sql): copying rowid, ticket_id,
 *     internal and text from the FTS5 table's stored content is exactly
 *     what the PostgreSQL store writes, and PostgreSQL computes the words
 *     itself, the same way as for the store's own writes.
 *  6. Verification. For each table, a SHA-256 over a canonical form of its
 *     rows in primary-key order: on the SQLite side of the values read and
 *     sent, on the PostgreSQL side of the rows read back after the copy
 *     (a cursor, binary results, FETCH in batches). Per value:
 *        NULL     "N"
 *        integer  "I" decimal ";"           (INTEGER, BIGINT, SMALLINT)
 *        text     "T" byte-length ":" bytes
 *        blob     "B" byte-length ":" bytes (BLOB, BYTEA)
 *        real     "R" %.17g ";"             (REAL, DOUBLE PRECISION: the
 *                                            double's exact value)
 *     Each value is self-delimiting and a row has a fixed number of them,
 *     so two equal digests mean the same rows in the same order; an
 *     INTEGER read back from a BIGINT is equal, a NULL is not an empty
 *     string, a TEXT is not a BLOB of the same bytes. PostgreSQL's
 *     float8 is read back in binary (the IEEE double itself), so a REAL
 *     compares equal only when PostgreSQL holds the very same double (a
 *     value in a REAL column that SQLite holds as an integer, possible in
 *     a table that is not STRICT, is hashed and sent as the double it
 *     reads as: what PostgreSQL's column holds). The order is the
 *     SQLite primary key (rowid for ticket_fts; all columns for a table
 *     without one), bytewise on both sides: COLLATE BINARY in SQLite,
 *     COLLATE "C" for text keys in PostgreSQL (BLOB and BYTEA both compare
 *     with memcmp, then length). The row counts are compared too.
 *  7. Identifiers are escaped by libpq (PQescapeIdentifier) and by SQLite
 *     ("%w"); values go through COPY's escaping (backslash, tab, newline,
 *     carriage return; NULL is \N; a BLOB is \\x and hex; a REAL is %.17g,
 *     which PostgreSQL's float8 input reads to the same double, and its
 *     infinities by name) or are parameters. Errors name the table
 *     (e->field too).
 */
#include "base/common.h"

#include <math.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "store/pg.h"
#include "store/pg_import.h"

#define MAX_COLS 96
#define COPY_FLUSH (256 * 1024)
#define COPY_MAX ((size_t)1 << 30)   /* one row's COPY text, at most */
#define FETCH_ROWS 5000

/* PostgreSQL type oids (pg_type.dat; stable across versions). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_VARCHAR 1043
#define OID_FLOAT8 701

void (*pg_import_test_hook)(PGconn *c);

enum kind { K_ANY, K_INT, K_TEXT, K_BLOB, K_REAL, K_OTHER };

static const char *const kind_names[] = { "untyped", "integer", "text", "blob", "real", "other" };

struct col {
	char name[64];
	enum kind sq;      /* SQLite's declared type (K_ANY: a virtual table's) */
	enum kind pg;      /* PostgreSQL's */
	int pk;            /* position in SQLite's primary key, 1-based; 0: not in it */
	bool identity;     /* a PostgreSQL identity column */
	bool seen;         /* matched on the PostgreSQL side */
};

struct table {
	char name[64];
	bool is_virtual, in_pg, done;
	int ncols;
	struct col cols[MAX_COLS];
	int nparents;
	int parents[PG_IMPORT_MAX_TABLES];
};

struct imp {
	sqlite3 *db;
	PGconn *pg;
	FILE *progress;
	bool in_tx;
	int ntables;
	struct table *t;
	int order[PG_IMPORT_MAX_TABLES];
	struct buf copy;
};

static void say(struct imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct imp *im, const char *fmt, ...)
{
	va_list ap;

	if (!im->progress)
		return;
	va_start(ap, fmt);
	vfprintf(im->progress, fmt, ap);
	va_end(ap);
	fflush(im->progress);
}

/* ---- errors ------------------------------------------------------------- */

/* A failed statement's primary message, and the constraint it broke if
 * any: never DETAIL or CONTEXT, which quote whole rows (password hashes
 * and TOTP secrets among them). */
static const char *res_msg(const PGresult *r)
{
	static __thread char out[400];
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *c = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;

	if (!m)
		return r ? "unexpected result" : "no answer from the server";
	if (c)
		snprintf(out, sizeof(out), "%s (constraint %s)", m, c);
	else
		snprintf(out, sizeof(out), "%s", m);
	return out;
}

/* A libpq message without its trailing newline. */
static enum result pgx_fail(struct err *e, enum result code, const char *table, const char *what,
			    const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	if (table)
		return err_set(e, code, table, "table %s: PostgreSQL %s: %.*s", table, what, (int)n,
			       msg ? msg : "");
	return err_set(e, code, NULL, "PostgreSQL %s: %.*s", what, (int)n, msg ? msg : "");
}

static enum result sq_fail(struct imp *im, struct err *e, const char *table, const char *what)
{
	if (table)
		return err_set(e, RC_IO, table, "table %s: SQLite %s: %s", table, what, sqlite3_errmsg(im->db));
	return err_set(e, RC_IO, NULL, "SQLite %s: %s", what, sqlite3_errmsg(im->db));
}

/* ---- small PostgreSQL helpers -------------------------------------------- */

/* A statement with text parameters and no rows wanted. */
static enum result pgx_cmd(struct imp *im, const char *sql, int n, const char *const *params,
			   const char *table, const char *what, struct err *e)
{
	PGresult *r = PQexecParams(im->pg, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	enum result rc = RC_OK;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pgx_fail(e, RC_IO, table, what, res_msg(r));
	PQclear(r);
	return rc;
}

/* One row, one column, text; NULL on failure (e set). PQclear the result. */
static PGresult *pgx_one(struct imp *im, const char *sql, int n, const char *const *params,
			 const char *table, const char *what, struct err *e)
{
	PGresult *r = PQexecParams(im->pg, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) < 1) {
		pgx_fail(e, RC_IO, table, what, PQresultStatus(r) == PGRES_TUPLES_OK
			 ? "unexpected result" : res_msg(r));
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Appends a PostgreSQL identifier, quoted by libpq. */
static enum result pg_ident(struct imp *im, struct buf *b, const char *name, struct err *e)
{
	char *q = PQescapeIdentifier(im->pg, name, strlen(name));
	enum result rc;

	if (!q)
		return pgx_fail(e, RC_INVALID, NULL, "identifier", PQerrorMessage(im->pg));
	rc = buf_appends(b, q);
	PQfreemem(q);
	return rc == RC_OK ? RC_OK : err_set(e, RC_NOMEM, NULL, "out of memory");
}

/* Appends an SQLite identifier, double-quoted. */
static enum result sq_ident(struct buf *b, const char *name, struct err *e)
{
	char *q = sqlite3_mprintf("\"%w\"", name);
	enum result rc;

	if (!q)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	rc = buf_appends(b, q);
	sqlite3_free(q);
	return rc == RC_OK ? RC_OK : err_set(e, RC_NOMEM, NULL, "out of memory");
}

/* ---- the SQLite side: version and tables ---------------------------------- */

static int count_pg_migrations(void)
{
	int n = 0;

	while (pg_migrations[n].name)
		n++;
	return n;
}

static enum result sq_open(struct imp *im, const char *path, int *version, struct err *e)
{
	struct stat sb;
	sqlite3_stmt *q = NULL;
	int rc;

	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return err_set(e, RC_NOTFOUND, "from-sqlite", "no SQLite database at %s", path);
	rc = sqlite3_open_v2(path, &im->db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK)
		return err_set(e, RC_IO, "from-sqlite", "cannot open %s: %s", path,
			       im->db ? sqlite3_errmsg(im->db) : sqlite3_errstr(rc));
	sqlite3_busy_timeout(im->db, 10000);
	/* One read transaction: every read below sees the same snapshot. */
	if (sqlite3_exec(im->db, "PRAGMA query_only = 1; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(im, e, NULL, "begin");
	rc = sqlite3_prepare_v2(im->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
				" AND name = 'schema_migrations'", -1, &q, NULL);
	if (rc != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return err_set(e, RC_INVALID, "from-sqlite", "%s is not an SQLite database: %s", path,
			       sqlite3_errmsg(im->db));
	}
	rc = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (rc != 1)
		return err_set(e, RC_INVALID, "from-sqlite",
			       "%s is not an itsup database (it has no schema_migrations)", path);
	if (sqlite3_prepare_v2(im->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &q,
			       NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return sq_fail(im, e, "schema_migrations", "read");
	}
	*version = (int)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return RC_OK;
}

static enum kind sq_kind(const char *decl)
{
	if (!decl || !*decl)
		return K_ANY;
	if (!strcasecmp(decl, "INTEGER") || !strcasecmp(decl, "INT") || !strcasecmp(decl, "BIGINT"))
		return K_INT;
	if (!strcasecmp(decl, "TEXT"))
		return K_TEXT;
	if (!strcasecmp(decl, "BLOB"))
		return K_BLOB;
	if (!strcasecmp(decl, "REAL"))
		return K_REAL;
	return K_OTHER;
}

static enum result sq_columns(struct imp *im, struct table *t, struct err *e)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (t->is_virtual) {
		/* The implicit rowid, an explicit key column in PostgreSQL. */
		snprintf(t->cols[0].name, sizeof(t->cols[0].name), "rowid");
		t->cols[0].sq = K_INT;
		t->cols[0].pk = 1;
		t->ncols = 1;
	}
	if (sqlite3_prepare_v2(im->db, "SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid",
			       -1, &q, NULL) != SQLITE_OK)
		return sq_fail(im, e, t->name, "table_info");
	sqlite3_bind_text(q, 1, t->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		struct col *c;

		if (t->ncols == MAX_COLS || !name || strlen(name) >= sizeof(c->name)) {
			sqlite3_finalize(q);
			return err_set(e, RC_INVALID, t->name, "table %s: too many columns or too long a name",
				       t->name);
		}
		c = &t->cols[t->ncols++];
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->sq = t->is_virtual ? K_ANY : sq_kind((const char *)sqlite3_column_text(q, 1));
		c->pk = t->is_virtual ? 0 : sqlite3_column_int(q, 2);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return sq_fail(im, e, t->name, "table_info");
	if (t->ncols == 0)
		return err_set(e, RC_INVALID, t->name, "table %s: no columns in SQLite", t->name);
	return RC_OK;
}

static bool skipped_name(const char *name)
{
	return !strncmp(name, "sqlite_", 7) || !strcmp(name, "schema_migrations");
}

static enum result sq_tables(struct imp *im, struct err *e)
{
	char virt[8][64];
	int nvirt = 0;
	sqlite3_stmt *q = NULL;
	enum result r;
	int rc;

	/* Virtual tables first: their shadow tables are skipped. */
	if (sqlite3_prepare_v2(im->db, "SELECT name FROM sqlite_master WHERE type = 'table'"
			       " AND sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name", -1, &q, NULL) != SQLITE_OK)
		return sq_fail(im, e, NULL, "sqlite_master");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		if (nvirt == (int)ARRAY_SIZE(virt) || !name || strlen(name) >= sizeof(virt[0])) {
			sqlite3_finalize(q);
			return err_set(e, RC_INVALID, NULL, "too many virtual tables in the SQLite database");
		}
		snprintf(virt[nvirt++], sizeof(virt[0]), "%s", name);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return sq_fail(im, e, NULL, "sqlite_master");

	if (sqlite3_prepare_v2(im->db, "SELECT name, sql LIKE 'CREATE VIRTUAL TABLE%' FROM sqlite_master"
			       " WHERE type = 'table' ORDER BY name", -1, &q, NULL) != SQLITE_OK)
		return sq_fail(im, e, NULL, "sqlite_master");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		bool shadow = false;
		struct table *t;

		if (!name || skipped_name(name))
			continue;
		for (int i = 0; i < nvirt; i++) {
			size_t n = strlen(virt[i]);
			if (!strncmp(name, virt[i], n) && name[n] == '_')
				shadow = true;
		}
		if (shadow)
			continue;
		if (im->ntables == PG_IMPORT_MAX_TABLES || strlen(name) >= sizeof(t->name)) {
			sqlite3_finalize(q);
			return err_set(e, RC_INVALID, NULL, "too many tables in the SQLite database (at most %d)",
				       PG_IMPORT_MAX_TABLES);
		}
		t = &im->t[im->ntables++];
		snprintf(t->name, sizeof(t->name), "%s", name);
		t->is_virtual = sqlite3_column_int(q, 1) != 0;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return sq_fail(im, e, NULL, "sqlite_master");
	for (int i = 0; i < im->ntables; i++)
		if ((r = sq_columns(im, &im->t[i], e)) != RC_OK)
			return r;
	return RC_OK;
}

/* ---- the PostgreSQL side: catalog, matching, order -------------------------- */

static struct table *find_table(struct imp *im, const char *name)
{
	for (int i = 0; i < im->ntables; i++)
		if (!strcmp(im->t[i].name, name))
			return &im->t[i];
	return NULL;
}

static enum kind pg_kind(long oid)
{
	switch (oid) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return K_INT;
	case OID_TEXT:
	case OID_VARCHAR:
		return K_TEXT;
	case OID_BYTEA:
		return K_BLOB;
	case OID_FLOAT8:
		return K_REAL;
	default:
		return K_OTHER;
	}
}

#define CURRENT_NS "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"

/* PostgreSQL's tables and columns against SQLite's: the same tables, the
 * same columns, compatible types. */
static enum result pg_match(struct imp *im, struct err *e)
{
	PGresult *r = PQexec(im->pg,
			     "SELECT c.relname, a.attname, a.atttypid::int8, a.attgenerated <> '',"
			     " a.attidentity <> '' FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
			     " WHERE c.relnamespace = " CURRENT_NS " AND c.relkind IN ('r', 'p')"
			     " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum");
	enum result rc = RC_OK;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pgx_fail(e, RC_IO, NULL, "catalog", res_msg(r));
		PQclear(r);
		return rc;
	}
	for (int i = 0; i < PQntuples(r) && rc == RC_OK; i++) {
		const char *tn = PQgetvalue(r, i, 0), *cn = PQgetvalue(r, i, 1);
		struct table *t;
		struct col *c = NULL;

		if (!strcmp(tn, "schema_migrations"))
			continue;
		if (!(t = find_table(im, tn))) {
			rc = err_set(e, RC_INVALID, tn, "table %s is in the PostgreSQL schema but not in the"
				     " SQLite database: the two schemas are not in step", tn);
			break;
		}
		t->in_pg = true;
		if (!strcmp(PQgetvalue(r, i, 3), "t"))
			continue;    /* generated (ticket_fts.words): PostgreSQL computes it */
		for (int j = 0; j < t->ncols; j++)
			if (!strcmp(t->cols[j].name, cn))
				c = &t->cols[j];
		if (!c) {
			rc = err_set(e, RC_INVALID, tn, "table %s: column %s is in PostgreSQL but not in SQLite",
				     tn, cn);
			break;
		}
		c->seen = true;
		c->pg = pg_kind(strtol(PQgetvalue(r, i, 2), NULL, 10));
		c->identity = !strcmp(PQgetvalue(r, i, 4), "t");
		if (c->pg == K_OTHER || (c->sq != K_ANY && c->sq != c->pg))
			rc = err_set(e, RC_INVALID, tn, "table %s: column %s is %s in SQLite but %s in PostgreSQL",
				     tn, cn, kind_names[c->sq], kind_names[c->pg]);
	}
	PQclear(r);
	for (int i = 0; i < im->ntables && rc == RC_OK; i++) {
		struct table *t = &im->t[i];
		if (!t->in_pg) {
			rc = err_set(e, RC_INVALID, t->name, "table %s is in the SQLite database but not in the"
				     " PostgreSQL schema: the two schemas are not in step", t->name);
			break;
		}
		for (int j = 0; j < t->ncols; j++)
			if (!t->cols[j].seen) {
				rc = err_set(e, RC_INVALID, t->name, "table %s: column %s is in SQLite but not"
					     " in PostgreSQL", t->name, t->cols[j].name);
				break;
			}
	}
	return rc;
}

/* Parents before children: a topological order of the foreign keys. */
static enum result pg_order(struct imp *im, struct err *e)
{
	PGresult *r = PQexec(im->pg,
			     "SELECT c.relname, p.relname FROM pg_constraint k"
			     " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid"
			     " WHERE k.contype = 'f' AND c.relnamespace = " CURRENT_NS);
	int n = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		enum result rc = pgx_fail(e, RC_IO, NULL, "foreign keys", res_msg(r));
		PQclear(r);
		return rc;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		struct table *child = find_table(im, PQgetvalue(r, i, 0));
		struct table *parent = find_table(im, PQgetvalue(r, i, 1));
		if (!child || !parent || child == parent)
			continue;    /* schema_migrations, or a self-reference */
		if (child->nparents == PG_IMPORT_MAX_TABLES) {
			PQclear(r);
			return err_set(e, RC_INVALID, child->name, "table %s: too many foreign keys",
				       child->name);
		}
		child->parents[child->nparents++] = (int)(parent - im->t);
	}
	PQclear(r);
	while (n < im->ntables) {
		int pick = -1;
		for (int i = 0; i < im->ntables && pick < 0; i++) {
			struct table *t = &im->t[i];
			bool ready = !t->done;
			for (int j = 0; ready && j < t->nparents; j++)
				ready = im->t[t->parents[j]].done;
			if (ready)
				pick = i;
		}
		if (pick < 0)
			return err_set(e, RC_INVALID, NULL, "the foreign keys of the PostgreSQL schema form a cycle");
		im->t[pick].done = true;
		im->order[n++] = pick;
	}
	return RC_OK;
}

/* ---- canonical rows ---------------------------------------------------------- */

static void h_null(crypto_hash_sha256_state *h)
{
	crypto_hash_sha256_update(h, (const unsigned char *)"N", 1);
}

static void h_int(crypto_hash_sha256_state *h, long long v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "I%lld;", v);

	crypto_hash_sha256_update(h, (const unsigned char *)b, (unsigned long long)n);
}

static void h_real(crypto_hash_sha256_state *h, double v)
{
	char b[48];
	int n = snprintf(b, sizeof(b), "R%.17g;", v);

	crypto_hash_sha256_update(h, (const unsigned char *)b, (unsigned long long)n);
}

static void h_bytes(crypto_hash_sha256_state *h, char tag, const void *p, size_t len)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%c%zu:", tag, len);

	crypto_hash_sha256_update(h, (const unsigned char *)b, (unsigned long long)n);
	if (len)
		crypto_hash_sha256_update(h, p, len);
}

static void h_final(crypto_hash_sha256_state *h, char hex[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final(h, d);
	sodium_bin2hex(hex, 65, d, sizeof(d));
}

/* ---- copy ---------------------------------------------------------------------- */

/* COPY text format: backslash, tab, newline and carriage return escaped. */
static enum result copy_text(struct buf *b, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '\t' ? "\\t" : s[i] == '\n' ? "\\n"
				  : s[i] == '\r' ? "\\r" : NULL;
		if (!esc)
			continue;
		if (buf_append(b, s + run, i - run) != RC_OK || buf_append(b, esc, 2) != RC_OK)
			return RC_NOMEM;
		run = i + 1;
	}
	return buf_append(b, s + run, n - run);
}

/* BYTEA's hex input, its backslash doubled for COPY: \\x0a1b... */
static enum result copy_blob(struct buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char chunk[512];
	size_t k = 0;

	if (buf_append(b, "\\\\x", 3) != RC_OK)
		return RC_NOMEM;
	for (size_t i = 0; i < n; i++) {
		chunk[k++] = hex[p[i] >> 4];
		chunk[k++] = hex[p[i] & 15];
		if (k == sizeof(chunk)) {
			if (buf_append(b, chunk, k) != RC_OK)
				return RC_NOMEM;
			k = 0;
		}
	}
	return buf_append(b, chunk, k);
}

/* A double for float8's input: 17 significant digits read back to the
 * same double; the infinities by name (SQLite stores no NaN). */
static enum result copy_real(struct buf *b, double v)
{
	if (isinf(v))
		return buf_appends(b, v > 0 ? "Infinity" : "-Infinity");
	if (isnan(v))
		return buf_appends(b, "NaN");
	return buf_appendf(b, "%.17g", v);
}

/* Column list: "a", "b" (PostgreSQL quoting, or SQLite's with sqlite set). */
static enum result col_list(struct imp *im, struct buf *b, const struct table *t, bool sqlite,
			    struct err *e)
{
	for (int i = 0; i < t->ncols; i++) {
		enum result r = i ? buf_appends(b, ", ") : RC_OK;
		if (r != RC_OK)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		r = sqlite ? sq_ident(b, t->cols[i].name, e) : pg_ident(im, b, t->cols[i].name, e);
		if (r != RC_OK)
			return r;
	}
	return RC_OK;
}

/* ORDER BY the SQLite primary key (every column when there is none),
 * bytewise on both sides. */
static enum result order_by(struct imp *im, struct buf *b, const struct table *t, bool sqlite,
			    struct err *e)
{
	int npk = 0, done = 0;

	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].pk > npk)
			npk = t->cols[i].pk;
	if (buf_appends(b, " ORDER BY ") != RC_OK)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	for (int k = 1; k <= (npk ? npk : t->ncols); k++) {
		const struct col *c = NULL;
		enum result r;
		for (int i = 0; i < t->ncols && !c; i++)
			if (npk ? t->cols[i].pk == k : i == k - 1)
				c = &t->cols[i];
		if (!c)
			continue;
		if (done++ && buf_appends(b, ", ") != RC_OK)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		r = sqlite ? sq_ident(b, c->name, e) : pg_ident(im, b, c->name, e);
		if (r != RC_OK)
			return r;
		if (sqlite)
			r = buf_appends(b, c->sq == K_INT ? "" : " COLLATE BINARY");
		else
			r = buf_appends(b, c->pg == K_TEXT ? " COLLATE \"C\"" : "");
		/* SQLite sorts NULL first; a primary key has none (and NULLS
		 * FIRST would keep PostgreSQL from walking its index). */
		if (r == RC_OK && !sqlite && !npk)
			r = buf_appends(b, " NULLS FIRST");
		if (r != RC_OK)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	return RC_OK;
}

static enum result copy_flush(struct imp *im, const struct table *t, struct err *e)
{
	if (im->copy.len && PQputCopyData(im->pg, im->copy.data, (int)im->copy.len) != 1)
		return pgx_fail(e, RC_IO, t->name, "COPY", PQerrorMessage(im->pg));
	buf_reset(&im->copy);
	return RC_OK;
}

/* Ends a COPY: NULL for success, else the reason it is abandoned. */
static enum result copy_end(struct imp *im, const struct table *t, const char *abandon,
			    long long rows, struct err *e)
{
	enum result rc = RC_OK;
	PGresult *r;

	if (PQputCopyEnd(im->pg, abandon) != 1 && !abandon)
		rc = pgx_fail(e, RC_IO, t->name, "COPY", PQerrorMessage(im->pg));
	while ((r = PQgetResult(im->pg))) {
		if (!abandon && rc == RC_OK) {
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				rc = pgx_fail(e, RC_IO, t->name, "COPY", res_msg(r));
			else if (strtoll(PQcmdTuples(r), NULL, 10) != rows)
				rc = err_set(e, RC_IO, t->name, "table %s: PostgreSQL took %s rows of %lld",
					     t->name, PQcmdTuples(r), rows);
		}
		PQclear(r);
	}
	return rc;
}

static enum result copy_table(struct imp *im, const struct table *t, struct pg_import_table *rt,
			      struct err *e)
{
	struct buf sql = BUF_INIT(1 << 20);
	crypto_hash_sha256_state h;
	sqlite3_stmt *q = NULL;
	PGresult *pr;
	enum result r;
	long long rows = 0;
	int rc;

	/* The SQLite side: every column, in primary-key order. */
	if (buf_appends(&sql, "SELECT ") != RC_OK)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	if ((r = col_list(im, &sql, t, true, e)) != RC_OK)
		goto out;
	if (buf_appends(&sql, " FROM ") != RC_OK) {
		r = err_set(e, RC_NOMEM, NULL, "out of memory");
		goto out;
	}
	if ((r = sq_ident(&sql, t->name, e)) != RC_OK || (r = order_by(im, &sql, t, true, e)) != RC_OK)
		goto out;
	if (sqlite3_prepare_v2(im->db, buf_str(&sql), -1, &q, NULL) != SQLITE_OK) {
		r = sq_fail(im, e, t->name, "read");
		goto out;
	}
	/* The PostgreSQL side: COPY t (cols) FROM STDIN. */
	buf_reset(&sql);
	if (buf_appends(&sql, "COPY ") != RC_OK || (r = pg_ident(im, &sql, t->name, e)) != RC_OK ||
	    buf_appends(&sql, " (") != RC_OK || (r = col_list(im, &sql, t, false, e)) != RC_OK ||
	    buf_appends(&sql, ") FROM STDIN") != RC_OK) {
		r = e->code != RC_OK ? e->code : err_set(e, RC_NOMEM, NULL, "out of memory");
		goto out;
	}
	pr = PQexec(im->pg, buf_str(&sql));
	if (PQresultStatus(pr) != PGRES_COPY_IN) {
		r = pgx_fail(e, RC_IO, t->name, "COPY", res_msg(pr));
		PQclear(pr);
		goto out;
	}
	PQclear(pr);

	crypto_hash_sha256_init(&h);
	buf_reset(&im->copy);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r = RC_OK;
		for (int i = 0; i < t->ncols && r == RC_OK; i++) {
			if (i)
				r = buf_append(&im->copy, "\t", 1);
			switch (sqlite3_column_type(q, i)) {
			case SQLITE_NULL:
				h_null(&h);
				if (r == RC_OK)
					r = buf_append(&im->copy, "\\N", 2);
				break;
			case SQLITE_INTEGER:
				if (t->cols[i].sq != K_REAL) {
					long long v = sqlite3_column_int64(q, i);
					h_int(&h, v);
					if (r == RC_OK)
						r = buf_appendf(&im->copy, "%lld", v);
					break;
				}
				/* An integer in a REAL column (not STRICT): the
				 * double PostgreSQL's column will hold. */
				/* fall through */
			case SQLITE_FLOAT: {
				double v = sqlite3_column_double(q, i);
				h_real(&h, v);
				if (r == RC_OK)
					r = copy_real(&im->copy, v);
				break;
			}
			case SQLITE_TEXT: {
				const char *s = (const char *)sqlite3_column_text(q, i);
				size_t n = (size_t)sqlite3_column_bytes(q, i);
				h_bytes(&h, 'T', s, n);
				if (r == RC_OK)
					r = copy_text(&im->copy, s ? s : "", n);
				break;
			}
			default: {
				const unsigned char *p = sqlite3_column_blob(q, i);
				size_t n = (size_t)sqlite3_column_bytes(q, i);
				h_bytes(&h, 'B', p, n);
				if (r == RC_OK)
					r = copy_blob(&im->copy, p, n);
				break;
			}
			}
		}
		if (r == RC_OK)
			r = buf_append(&im->copy, "\n", 1);
		if (r != RC_OK) {
			r = err_set(e, RC_NOMEM, t->name, "table %s: a row too large to copy", t->name);
			(void)copy_end(im, t, "itsup migrate: row too large", rows, e);
			goto out;
		}
		rows++;
		if (im->copy.len >= COPY_FLUSH && (r = copy_flush(im, t, e)) != RC_OK) {
			(void)copy_end(im, t, "itsup migrate: send failed", rows, e);
			goto out;
		}
		if (rows % PG_IMPORT_PROGRESS_ROWS == 0)
			say(im, "  %s: %lld rows...\n", t->name, rows);
	}
	if (rc != SQLITE_DONE) {
		r = sq_fail(im, e, t->name, "read");
		(void)copy_end(im, t, "itsup migrate: SQLite read failed", rows, e);
		goto out;
	}
	if ((r = copy_flush(im, t, e)) != RC_OK) {
		(void)copy_end(im, t, "itsup migrate: send failed", rows, e);
		goto out;
	}
	if ((r = copy_end(im, t, NULL, rows, e)) != RC_OK)
		goto out;
	rt->rows_sqlite = rows;
	h_final(&h, rt->sum_sqlite);
	say(im, "  %s: %lld rows\n", t->name, rows);
	r = RC_OK;
out:
	sqlite3_finalize(q);
	buf_release(&sql);
	buf_release(&im->copy);
	return r;
}

/* ---- identity sequences ----------------------------------------------------- */

/* SQLite's AUTOINCREMENT counter of table t (the largest id it ever
 * handed out), in *seq as text; "0" when t has none. */
static enum result sq_autoinc(struct imp *im, const struct table *t, char seq[32], struct err *e)
{
	sqlite3_stmt *q = NULL;
	int rc;

	snprintf(seq, 32, "0");
	/* sqlite_sequence exists once a table with AUTOINCREMENT does. */
	if (sqlite3_prepare_v2(im->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
			       " AND name = 'sqlite_sequence'", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return sq_fail(im, e, t->name, "sqlite_sequence");
	}
	rc = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (!rc)
		return RC_OK;
	if (sqlite3_prepare_v2(im->db, "SELECT max(seq) FROM sqlite_sequence WHERE name = ?1", -1, &q,
			       NULL) != SQLITE_OK)
		return sq_fail(im, e, t->name, "sqlite_sequence");
	sqlite3_bind_text(q, 1, t->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		snprintf(seq, 32, "%lld", (long long)sqlite3_column_int64(q, 0));
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW)
		return sq_fail(im, e, t->name, "sqlite_sequence");
	return RC_OK;
}

/* Each identity column's sequence at the table's max, or at SQLite's
 * AUTOINCREMENT counter when that is higher (the next insert gets one
 * more); an empty table's without one at 1, not yet called (the next
 * gets 1). */
static enum result advance_sequences(struct imp *im, const struct table *t, struct err *e)
{
	char seq[32];
	enum result r0 = sq_autoinc(im, t, seq, e);

	if (r0 != RC_OK)
		return r0;
	for (int i = 0; i < t->ncols; i++) {
		struct buf sql = BUF_INIT(4096);
		const char *params[3];
		char *qt;
		enum result r;

		if (!t->cols[i].identity)
			continue;
		qt = PQescapeIdentifier(im->pg, t->name, strlen(t->name));
		if (!qt)
			return pgx_fail(e, RC_INVALID, t->name, "identifier", PQerrorMessage(im->pg));
		params[0] = qt;              /* parsed as a (quoted) name */
		params[1] = t->cols[i].name; /* taken literally */
		params[2] = seq;
		if (buf_appends(&sql, "SELECT setval(pg_get_serial_sequence($1, $2),"
				" greatest(coalesce(max(") != RC_OK ||
		    pg_ident(im, &sql, t->cols[i].name, e) != RC_OK ||
		    buf_appends(&sql, "), 0), $3::bigint, 1), greatest(coalesce(max(") != RC_OK ||
		    pg_ident(im, &sql, t->cols[i].name, e) != RC_OK ||
		    buf_appends(&sql, "), 0), $3::bigint) >= 1) FROM ") != RC_OK ||
		    buf_appends(&sql, qt) != RC_OK) {
			PQfreemem(qt);
			buf_release(&sql);
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		}
		r = pgx_cmd(im, buf_str(&sql), 3, params, t->name, "identity sequence", e);
		PQfreemem(qt);
		buf_release(&sql);
		if (r != RC_OK)
			return r;
	}
	return RC_OK;
}

/* ---- verification ------------------------------------------------------------ */

static long long be_int(const unsigned char *p, int len)
{
	uint64_t v = 0;

	for (int i = 0; i < len; i++)
		v = (v << 8) | p[i];
	/* Sign-extend the 2- and 4-byte integers. */
	if (len < 8 && len > 0 && (p[0] & 0x80))
		v |= ~(uint64_t)0 << (8 * len);
	return (long long)v;
}

/* A binary float8: the IEEE double, big-endian. */
static double be_double(const unsigned char *p)
{
	uint64_t bits = 0;
	double d;

	for (int i = 0; i < 8; i++)
		bits = (bits << 8) | p[i];
	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* Reads the table back from PostgreSQL and hashes it the SQLite side's way. */
static enum result pg_checksum(struct imp *im, const struct table *t, struct pg_import_table *rt,
			       struct err *e)
{
	struct buf sql = BUF_INIT(1 << 20);
	crypto_hash_sha256_state h;
	long long rows = 0;
	enum result r;

	if (buf_appends(&sql, "DECLARE pg_import_rows NO SCROLL CURSOR FOR SELECT ") != RC_OK ||
	    (r = col_list(im, &sql, t, false, e)) != RC_OK || buf_appends(&sql, " FROM ") != RC_OK ||
	    (r = pg_ident(im, &sql, t->name, e)) != RC_OK || (r = order_by(im, &sql, t, false, e)) != RC_OK) {
		buf_release(&sql);
		return e->code != RC_OK ? e->code : err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	r = pgx_cmd(im, buf_str(&sql), 0, NULL, t->name, "read back", e);
	buf_release(&sql);
	if (r != RC_OK)
		return r;
	crypto_hash_sha256_init(&h);
	for (;;) {
		char fetch[64];
		PGresult *pr;
		int n;

		snprintf(fetch, sizeof(fetch), "FETCH FORWARD %d FROM pg_import_rows", FETCH_ROWS);
		pr = PQexecParams(im->pg, fetch, 0, NULL, NULL, NULL, NULL, 1);
		if (PQresultStatus(pr) != PGRES_TUPLES_OK) {
			r = pgx_fail(e, RC_IO, t->name, "read back", res_msg(pr));
			PQclear(pr);
			return r;
		}
		n = PQntuples(pr);
		if (PQnfields(pr) != t->ncols) {
			int nf = PQnfields(pr);
			PQclear(pr);
			return err_set(e, RC_IO, t->name, "table %s: read back %d columns of %d", t->name,
				       nf, t->ncols);
		}
		for (int row = 0; row < n; row++) {
			for (int i = 0; i < t->ncols; i++) {
				const unsigned char *v = (const unsigned char *)PQgetvalue(pr, row, i);
				int len = PQgetlength(pr, row, i);
				Oid type = PQftype(pr, i);

				if (PQgetisnull(pr, row, i))
					h_null(&h);
				else if ((type == OID_INT8 && len == 8) || (type == OID_INT4 && len == 4) ||
					 (type == OID_INT2 && len == 2))
					h_int(&h, be_int(v, len));
				else if (type == OID_TEXT || type == OID_VARCHAR)
					h_bytes(&h, 'T', v, (size_t)len);
				else if (type == OID_BYTEA)
					h_bytes(&h, 'B', v, (size_t)len);
				else if (type == OID_FLOAT8 && len == 8)
					h_real(&h, be_double(v));
				else {
					PQclear(pr);
					return err_set(e, RC_IO, t->name, "table %s: column %s has an unexpected"
						       " type (oid %u)", t->name, t->cols[i].name, type);
				}
			}
		}
		rows += n;
		PQclear(pr);
		if (n < FETCH_ROWS)
			break;
	}
	if ((r = pgx_cmd(im, "CLOSE pg_import_rows", 0, NULL, t->name, "read back", e)) != RC_OK)
		return r;
	rt->rows_pg = rows;
	h_final(&h, rt->sum_pg);
	return RC_OK;
}

/* ---- the import ---------------------------------------------------------------- */

/* Whether a table exists in PostgreSQL and holds a row. */
static enum result pg_has_rows(struct imp *im, const char *table, bool *has, struct err *e)
{
	struct buf sql = BUF_INIT(4096);
	char *qt = PQescapeIdentifier(im->pg, table, strlen(table));
	const char *params[1] = { qt };
	PGresult *r;
	bool exists;

	*has = false;
	if (!qt)
		return pgx_fail(e, RC_INVALID, table, "identifier", PQerrorMessage(im->pg));
	r = pgx_one(im, "SELECT to_regclass($1) IS NOT NULL", 1, params, table, "catalog", e);
	if (!r) {
		PQfreemem(qt);
		return e->code;
	}
	exists = !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	if (exists) {
		if (buf_appendf(&sql, "SELECT EXISTS (SELECT 1 FROM %s)", qt) != RC_OK) {
			PQfreemem(qt);
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		}
		r = pgx_one(im, buf_str(&sql), 0, NULL, table, "read", e);
		buf_release(&sql);
		if (!r) {
			PQfreemem(qt);
			return e->code;
		}
		*has = !strcmp(PQgetvalue(r, 0, 0), "t");
		PQclear(r);
	}
	PQfreemem(qt);
	return RC_OK;
}

static enum result refuse_nonempty(const char *table, struct err *e)
{
	return err_set(e, RC_CONFLICT, table,
		       "the PostgreSQL database already holds data (table %s has rows): migrate copies"
		       " into an empty database only", table);
}

static enum result lock_and_check(struct imp *im, struct err *e)
{
	struct buf sql = BUF_INIT(1 << 16);
	enum result r;

	if (buf_appends(&sql, "LOCK TABLE ") != RC_OK)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	for (int i = 0; i < im->ntables; i++)
		if ((i && buf_appends(&sql, ", ") != RC_OK) ||
		    (r = pg_ident(im, &sql, im->t[i].name, e)) != RC_OK) {
			buf_release(&sql);
			return e->code != RC_OK ? e->code : err_set(e, RC_NOMEM, NULL, "out of memory");
		}
	if (buf_appends(&sql, " IN EXCLUSIVE MODE") != RC_OK) {
		buf_release(&sql);
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	r = pgx_cmd(im, buf_str(&sql), 0, NULL, NULL, "lock", e);
	buf_release(&sql);
	if (r != RC_OK)
		return r;
	for (int i = 0; i < im->ntables; i++) {
		bool has;
		if (!strcmp(im->t[i].name, "settings"))
			continue;
		if ((r = pg_has_rows(im, im->t[i].name, &has, e)) != RC_OK)
			return r;
		if (has)
			return refuse_nonempty(im->t[i].name, e);
	}
	/* The migration's own signing_key (and nothing else: no server has
	 * run here, or users would not be empty) gives way to the
	 * deployment's. */
	if (find_table(im, "settings"))
		return pgx_cmd(im, "DELETE FROM settings", 0, NULL, "settings", "delete", e);
	return RC_OK;
}

static void report_line(struct imp *im, const struct pg_import_table *rt)
{
	say(im, "MISMATCH %s: sqlite %lld rows %.16s, postgresql %lld rows %.16s\n", rt->name,
	    rt->rows_sqlite, rt->sum_sqlite, rt->rows_pg, rt->sum_pg);
}

static enum result run(struct imp *im, const char *sqlite_path, const char *pg_url,
		       struct pg_import_report *rep, struct err *e)
{
	int version = 0, nmig = count_pg_migrations();
	static const char *const guarded[] = { "clients", "users", "tickets" };
	enum result r;
	PGresult *pr;
	long have;

	if ((r = sq_open(im, sqlite_path, &version, e)) != RC_OK)
		return r;
	rep->schema_version = version;
	if (version < nmig)
		return err_set(e, RC_INVALID, "from-sqlite",
			       "the SQLite database is at schema version %d, this itsup's PostgreSQL schema"
			       " at %d: start this itsup's server on the SQLite file once (it applies the"
			       " newer migrations), stop it, then migrate", version, nmig);
	if (version > nmig)
		return err_set(e, RC_INVALID, "from-sqlite",
			       "the SQLite database is at schema version %d, newer than this itsup's"
			       " PostgreSQL schema (%d): migrate with the itsup that wrote it", version, nmig);
	if ((r = sq_tables(im, e)) != RC_OK)
		return r;

	if ((r = pg_connect(pg_url, &im->pg, e)) != RC_OK)
		return r;
	if ((r = pgx_cmd(im, "SET client_encoding = 'UTF8'", 0, NULL, NULL, "settings", e)) != RC_OK)
		return r;
	/* Before the schema is touched: a database in use is left alone. */
	for (size_t i = 0; i < ARRAY_SIZE(guarded); i++) {
		bool has;
		if ((r = pg_has_rows(im, guarded[i], &has, e)) != RC_OK)
			return r;
		if (has)
			return refuse_nonempty(guarded[i], e);
	}
	if ((r = pg_migrate(im->pg, pg_migrations, &rep->migrations_applied, e)) != RC_OK)
		return r;
	if (!(pr = pgx_one(im, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
			   "schema_migrations", "read", e)))
		return e->code;
	have = strtol(PQgetvalue(pr, 0, 0), NULL, 10);
	PQclear(pr);
	if (have != nmig)
		return err_set(e, RC_INVALID, "pg", "the PostgreSQL database is at schema version %ld,"
			       " this itsup's is %d", have, nmig);
	say(im, "migrate: SQLite schema version %d; PostgreSQL schema ready (%d migrations applied)\n",
	    version, rep->migrations_applied);
	if ((r = pg_match(im, e)) != RC_OK || (r = pg_order(im, e)) != RC_OK)
		return r;

	if ((r = pgx_cmd(im, "BEGIN", 0, NULL, NULL, "begin", e)) != RC_OK)
		return r;
	im->in_tx = true;
	/* A big table's COPY may take longer than a statement_timeout set
	 * for the role; a server holding the tables makes LOCK fail in 30 s
	 * rather than wait for ever. */
	if ((r = pgx_cmd(im, "SET LOCAL statement_timeout = 0", 0, NULL, NULL, "settings", e)) != RC_OK ||
	    (r = pgx_cmd(im, "SET LOCAL lock_timeout = '30s'", 0, NULL, NULL, "settings", e)) != RC_OK)
		return r;
	if ((r = lock_and_check(im, e)) != RC_OK)
		return r;
	for (int k = 0; k < im->ntables; k++) {
		const struct table *t = &im->t[im->order[k]];
		struct pg_import_table *rt = &rep->tables[rep->ntables++];

		snprintf(rt->name, sizeof(rt->name), "%s", t->name);
		if ((r = copy_table(im, t, rt, e)) != RC_OK)
			return r;
		rep->rows += rt->rows_sqlite;
	}
	for (int k = 0; k < im->ntables; k++)
		if ((r = advance_sequences(im, &im->t[im->order[k]], e)) != RC_OK)
			return r;
	if (pg_import_test_hook)
		pg_import_test_hook(im->pg);

	for (int k = 0; k < im->ntables; k++) {
		const struct table *t = &im->t[im->order[k]];
		struct pg_import_table *rt = &rep->tables[k];

		if ((r = pg_checksum(im, t, rt, e)) != RC_OK)
			return r;
		rt->equal = rt->rows_sqlite == rt->rows_pg && !strcmp(rt->sum_sqlite, rt->sum_pg);
		if (!rt->equal) {
			report_line(im, rt);
			if (rt->rows_sqlite != rt->rows_pg)
				return err_set(e, RC_IO, t->name, "table %s: %lld rows in SQLite but %lld in"
					       " PostgreSQL after the copy; nothing was committed", t->name,
					       rt->rows_sqlite, rt->rows_pg);
			return err_set(e, RC_IO, t->name, "table %s: the rows read back from PostgreSQL"
				       " differ from SQLite's (SHA-256 %.16s, expected %.16s); nothing was"
				       " committed", t->name, rt->sum_pg, rt->sum_sqlite);
		}
	}
	say(im, "verified: %d tables, %lld rows: counts and SHA-256 checksums equal\n", rep->ntables,
	    rep->rows);
	if ((r = pgx_cmd(im, "COMMIT", 0, NULL, NULL, "commit", e)) != RC_OK)
		return r;
	im->in_tx = false;
	rep->committed = true;
	say(im, "committed\n");
	return RC_OK;
}

enum result pg_import_sqlite(const char *sqlite_path, const char *pg_url, FILE *progress,
			     struct pg_import_report *out, struct err *e)
{
	struct pg_import_report local;
	struct pg_import_report *rep = out ? out : &local;
	struct err elocal;
	struct imp im;
	enum result r;

	if (!e)
		e = &elocal;
	err_clear(e);
	memset(rep, 0, sizeof(*rep));
	memset(&im, 0, sizeof(im));
	im.progress = progress;
	buf_init(&im.copy, COPY_MAX);
	if (sodium_init() < 0)
		return err_set(e, RC_IO, NULL, "libsodium failed to initialise");
	im.t = calloc(PG_IMPORT_MAX_TABLES, sizeof(*im.t));
	if (!im.t)
		return err_set(e, RC_NOMEM, NULL, "out of memory");

	r = run(&im, sqlite_path, pg_url, rep, e);

	if (im.in_tx && im.pg) {
		struct err ignored;
		/* A failed statement leaves the transaction aborted; ROLLBACK
		 * ends it either way. */
		(void)pgx_cmd(&im, "ROLLBACK", 0, NULL, NULL, "rollback", &ignored);
	}
	if (im.pg)
		PQfinish(im.pg);
	if (im.db) {
		(void)sqlite3_exec(im.db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(im.db);
	}
	buf_release(&im.copy);
	free(im.t);
	if (r != RC_OK && e->code == RC_OK)
		err_set(e, r, NULL, "import failed");
	return r;
}

void pg_import_print_report(FILE *f, const struct pg_import_report *r)
{
	if (r->ntables == 0)
		return;
	fprintf(f, "%-20s %12s %12s  %-16s  %-16s\n", "table", "sqlite rows", "pg rows", "sqlite sha256",
		"pg sha256");
	for (int i = 0; i < r->ntables; i++) {
		const struct pg_import_table *t = &r->tables[i];
		fprintf(f, "%-20s %12lld %12lld  %-16.16s  %-16.16s  %s\n", t->name, t->rows_sqlite,
			t->rows_pg, t->sum_sqlite[0] ? t->sum_sqlite : "-", t->sum_pg[0] ? t->sum_pg : "-",
			t->equal ? "ok" : t->sum_pg[0] ? "DIFF" : "not verified");
	}
}
