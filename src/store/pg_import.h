/*
 * pg_import.h: `itsup migrate --from-sqlite FILE --pg URL`: a whole SQLite
 * deployment copied into an empty PostgreSQL database, verified by counts
 * and checksums before it is committed.
 *
 * Contract of pg_import_sqlite:
 *   - sqlite_path must name an existing itsup database (it has
 *     schema_migrations); it is opened read-only and read in one snapshot
 *     (one read transaction), so a server still writing to it does not
 *     tear the copy, but what it writes after that snapshot is not copied:
 *     stop the server first.
 *   - Refused before PostgreSQL is changed in any way: a missing or
 *     non-itsup file (RC_NOTFOUND / RC_INVALID); an SQLite schema version
 *     (max(version) of its schema_migrations) other than the number of
 *     embedded PostgreSQL migrations (RC_INVALID: the two schemas are
 *     numbered in step; upgrade the SQLite file with this binary first); a
 *     target whose clients, users or tickets table holds a row
 *     (RC_CONFLICT: it copies into an empty database only).
 *   - Then pg_url is connected (pg_connect: the password is never in a
 *     message), the PostgreSQL schema applied (pg_migrate, its own
 *     transaction: an empty database is left with the schema even when
 *     the copy fails), and the copy made in ONE transaction: every table
 *     (parents before children), the full-text search table, the identity
 *     sequences moved past the copied ids, then each table's rows and
 *     SHA-256 checksum compared on both sides. Any difference, or any
 *     error, rolls the whole copy back (RC_IO / RC_INVALID, the table named
 *     in e->msg and e->field). Only when everything is equal is it
 *     committed.
 *   - The PostgreSQL migration's own signing_key setting is replaced by the
 *     SQLite deployment's (settings is the one table that may hold rows
 *     before the copy: it is emptied in the same transaction).
 *   - progress (may be NULL) gets one line per table as it is copied,
 *     "  TABLE: N rows", one every PG_IMPORT_PROGRESS_ROWS rows of a big
 *     table, "  TABLE: N rows...", and the summary lines described at
 *     pg_import_sqlite below.
 *   - out (may be NULL) is zeroed, then filled with what was done, also
 *     on failure (the tables verified so far, a mismatching one last).
 */
#ifndef ITSUP_STORE_PG_IMPORT_H
#define ITSUP_STORE_PG_IMPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "base/err.h"

#define PG_IMPORT_MAX_TABLES 64
#define PG_IMPORT_PROGRESS_ROWS 100000

struct pg_import_table {
	char name[64];
	long long rows_sqlite, rows_pg;      /* rows read on each side */
	char sum_sqlite[65], sum_pg[65];     /* SHA-256 of the rows, lower-case hex */
	bool equal;                          /* counts and checksums equal */
};

struct pg_import_report {
	int schema_version;                  /* both sides' */
	int migrations_applied;              /* PostgreSQL migrations run by this import */
	int ntables;
	struct pg_import_table tables[PG_IMPORT_MAX_TABLES];
	long long rows;                      /* all tables, SQLite side */
	bool committed;
};

/*
 * Copies and verifies (see the contract above). On success, progress has
 * received, in order:
 *   "migrate: SQLite schema version V; PostgreSQL schema ready (A migrations applied)\n"
 *   "  TABLE: N rows\n"                  one per table, in copy order
 *   "verified: T tables, R rows: counts and SHA-256 checksums equal\n"
 *   "committed\n"
 * and on a checksum or count difference:
 *   "MISMATCH TABLE: sqlite N rows SUM16, postgresql M rows SUM16\n"
 */
enum result pg_import_sqlite(const char *sqlite_path, const char *pg_url, FILE *progress,
			     struct pg_import_report *out, struct err *e);

/* The report as a table (nothing when no table was reached): a header,
 * then per table its name, SQLite's and PostgreSQL's row counts, the first
 * 16 hex digits of each side's SHA-256, and "ok", "DIFF" or "not verified". */
void pg_import_print_report(FILE *f, const struct pg_import_report *r);

/*
 * Tests only: when set, called inside the import's transaction after the
 * copy and before the verification, on the import's connection, so that a
 * test can corrupt a row and see the verification refuse it. NULL in
 * production.
 */
extern void (*pg_import_test_hook)(PGconn *c);

#endif
