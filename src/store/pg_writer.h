/*
 * pg_writer.h: group commit on PostgreSQL (issue 6): the same contract as
 * the SQLite writer (store_sqlite.c, design point 2), for several servers
 * writing to one database.
 *
 *   - Request threads submit writes; one writer thread per server takes
 *     every queued write (up to PG_BATCH_MAX) and runs them in one
 *     SERIALIZABLE transaction on its own connection, each inside its own
 *     SAVEPOINT, then COMMIT, then calls each write's done(). Nothing is
 *     acknowledged before its COMMIT returned.
 *   - The writers of all servers on one database take turns: a session
 *     advisory lock (PG_WRITER_LOCK) is taken before each batch's BEGIN
 *     and released with its COMMIT. Nearly every write touches a value
 *     all writers share (the audit chain's head, ticket numbers, contact
 *     ids), so two writers' transactions could not commit side by side
 *     anyway; without turns they collide, one runs its batch again, and
 *     under load the one that backs off starves (measured: 8 clients on
 *     the second server got 1,061 answers in 5 s, p50 0.9 s). With turns
 *     each batch waits at most for one other batch, and the snapshot is
 *     taken after it committed.
 *   - A write that fails on its own (a constraint, a stale version) is
 *     rolled back to its savepoint and answered with its error; the rest
 *     of the batch commits.
 *   - A failure that dooms the whole transaction (serialization failure or
 *     deadlock with another server's writer: SQLSTATE 40001 / 40P01; the
 *     connection lost before COMMIT: class 08 or a broken connection; a
 *     COMMIT the server refuses) runs the batch again from the start on a fresh transaction,
 *     up to PG_BATCH_RETRIES times; apply functions are therefore pure
 *     functions of the database and the write (handlers compute before
 *     submitting), and reset their outputs when they start.
 *   - A connection lost during COMMIT leaves the outcome open: the writer
 *     asks txid_status() of the batch's transaction on a new connection;
 *     committed -> the batch is answered from that pass; aborted -> run
 *     again; unknown -> every write is answered RC_IO "may or may not be
 *     stored" (never run twice).
 *   - Writes submitted after pg_writer_stop began are answered RC_BUSY;
 *     stop drains the queue first.
 */
#ifndef ITSUP_STORE_PG_WRITER_H
#define ITSUP_STORE_PG_WRITER_H

#include <libpq-fe.h>

#include "store/store.h"

#define PG_BATCH_MAX 256
/* The writers' turn lock ("itsup" + 4), as SQL text and as a number. */
#define PG_WRITER_LOCK_SQL "7598825419508285444"
#define PG_WRITER_LOCK 0x6974737570000004LL
#define PG_BATCH_RETRIES 20   /* about 11 s of pauses in all */

/* Runs one write on c (inside its savepoint); arg is pg_writer_start's. On failure sets w->err and
 * returns its code; sets *doomed when the failure dooms the transaction
 * (use pg_doomed() on the failing result). */
typedef enum result (*pg_apply_fn)(PGconn *c, void *arg, struct store_write *w, bool *doomed);

struct pg_writer_stats {
	unsigned long commits, writes, retries, failed_batches;
};

struct pg_writer;

enum result pg_writer_start(struct pg_writer **out, const char *url, pg_apply_fn apply,
			    void *arg, struct err *e);
/* fn(arg) is called at the start of every pass over a batch (after BEGIN),
 * before its first write: apply functions that keep something for the
 * length of one transaction reset it there. Set it before the first
 * submit. */
void pg_writer_on_begin(struct pg_writer *wr, void (*fn)(void *arg));
/* fn(arg, committed) is called at the end of every pass over a batch:
 * committed is true only when its COMMIT is known to have succeeded (a
 * pass that will run again, or whose outcome is unknown, is not). For
 * what an apply function may keep only once it is durable (the monitor's
 * series ids). Set it before the first submit. */
void pg_writer_on_end(struct pg_writer *wr, void (*fn)(void *arg, bool committed));
void pg_writer_submit(struct pg_writer *wr, struct store_write *w);
void pg_writer_stop(struct pg_writer *wr);
void pg_writer_stats(struct pg_writer *wr, struct pg_writer_stats *out);

/* Whether a failed result (or the connection) dooms the transaction:
 * serialization failure, deadlock, connection exception, or a broken
 * connection. */
bool pg_doomed(PGconn *c, const PGresult *r);

#endif
