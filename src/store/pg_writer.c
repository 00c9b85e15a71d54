/*
 * pg_writer.c: group commit on PostgreSQL (see pg_writer.h).
 *
 * The queue is the SQLite writer's (wqueue.c). The writer thread owns one connection; a batch is
 *
 *   BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT txid_current()
 *   for each write: [RELEASE w;] SAVEPOINT w; apply; [ROLLBACK TO w]
 *   RELEASE w; COMMIT
 *
 * (each line one round trip: the batch's fixed cost is two, a write's one
 * besides its own statements)
 *
 * and any doomed step sends the whole batch round again (after a ROLLBACK,
 * and a reconnect when the connection is gone), with a short growing pause
 * so that two servers' writers that keep colliding drift apart.
 */
#include "store/pg_writer.h"

#include <pthread.h>
#include <time.h>

#include "store/pg.h"
#include "store/wqueue.h"

struct pg_writer {
	PGconn *c;
	pg_apply_fn apply;
	void (*on_begin)(void *arg);
	void (*on_end)(void *arg, bool committed);
	void *arg;
	pthread_t th;
	struct wqueue q;
	pthread_mutex_t smu;          /* stats */
	struct pg_writer_stats stats;
};

bool pg_doomed(PGconn *c, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(c) != CONNECTION_OK)
		return true;
	if (!state)
		return r == NULL;
	return !strcmp(state, "40001") || !strcmp(state, "40P01") || !strncmp(state, "08", 2);
}

/* A control statement of the batch; false when it failed (doomed). */
static bool ctl(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	return ok;
}

/* A statement returning rows, whose rows are not wanted; false when it
 * failed. */
static bool sel(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;

	PQclear(r);
	return ok;
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

enum pass { PASS_COMMITTED, PASS_AGAIN, PASS_UNKNOWN };

/* Opens the batch's transaction and takes its id (to ask after a lost
 * COMMIT), in one round trip. */
static bool xid_of(PGconn *c, char *out, size_t n)
{
	PGresult *r = PQexec(c, "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT txid_current()");
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;

	if (ok)
		snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return ok;
}

/* After the connection was lost during COMMIT: did it commit? Asked on
 * a new connection with txid_status (committed / aborted / in progress;
 * NULL once too old to know). */
static enum pass lost_commit(struct pg_writer *wr, const char *xid)
{
	const char *params[1] = { xid };
	PGresult *r;
	enum pass out = PASS_UNKNOWN;

	if (!pg_reconnect(wr->c))
		return PASS_UNKNOWN;
	r = PQexecParams(wr->c, "SELECT txid_status($1::bigint)", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		if (!strcmp(PQgetvalue(r, 0, 0), "committed"))
			out = PASS_COMMITTED;
		else if (!strcmp(PQgetvalue(r, 0, 0), "aborted"))
			out = PASS_AGAIN;
	}
	PQclear(r);
	return out;
}

/* The last write's RELEASE, COMMIT and the turn's release, in one round
 * trip; true when COMMIT itself succeeded (each statement's result is
 * read: the unlock failing must not pass for a failed COMMIT). */
static bool commit_and_unlock(PGconn *c)
{
	PGresult *r;
	bool committed = false;
	int i = 0;

	if (!PQsendQuery(c, "RELEASE SAVEPOINT w; COMMIT; SELECT pg_advisory_unlock(" PG_WRITER_LOCK_SQL ")"))
		return false;
	while ((r = PQgetResult(c))) {
		if (i == 1)
			committed = PQresultStatus(r) == PGRES_COMMAND_OK;
		i++;
		PQclear(r);
	}
	return committed;
}

/* One pass over the batch. PASS_AGAIN: the transaction was doomed and
 * nothing is durable (every write's result is meaningless). */
static enum pass run_batch(struct pg_writer *wr, struct store_write *batch)
{
	PGconn *c = wr->c;
	char xid[32];
	bool committed;

	/* The writers of every server take turns (see pg_writer.h): wait
	 * for the turn before BEGIN, so that the transaction's snapshot is
	 * taken after the previous holder's COMMIT. */
	if (!sel(c, "SELECT pg_advisory_lock(" PG_WRITER_LOCK_SQL ")"))
		goto doomed;
	/* BEGIN and the transaction id in one round trip. */
	if (!xid_of(c, xid, sizeof(xid)))
		goto doomed;
	if (wr->on_begin)
		wr->on_begin(wr->arg);
	for (struct store_write *w = batch; w; w = w->next) {
		bool doomed = false;
		enum result rc;

		/* The previous write's RELEASE and this one's SAVEPOINT, in
		 * one round trip. */
		if (!ctl(c, w == batch ? "SAVEPOINT w" : "RELEASE SAVEPOINT w; SAVEPOINT w"))
			goto doomed;
		err_clear(&w->err);
		rc = wr->apply(c, wr->arg, w, &doomed);
		if (doomed)
			goto doomed;
		if (rc != RC_OK) {
			if (!ctl(c, "ROLLBACK TO SAVEPOINT w"))
				goto doomed;
		}
		w->rc = rc;
	}
	/* The last write's RELEASE and COMMIT, in one round trip (if RELEASE
	 * fails, COMMIT is not run: the batch runs again). */
	committed = commit_and_unlock(c);
	if (!committed && PQstatus(c) != CONNECTION_OK) {
		/* The connection went during COMMIT: the server may have
		 * committed. Running the batch again could apply it twice. */
		return lost_commit(wr, xid);
	}
	if (!committed)
		(void)sel(c, "SELECT pg_advisory_unlock_all()");
	/* A COMMIT refused by the server (a serialization failure found at
	 * commit): nothing is durable; run again. */
	return committed ? PASS_COMMITTED : PASS_AGAIN;
doomed:
	ctl(c, "ROLLBACK");
	(void)sel(c, "SELECT pg_advisory_unlock_all()");
	return PASS_AGAIN;
}

static void commit_batch(struct pg_writer *wr, struct store_write *batch, size_t n)
{
	enum pass out = PASS_AGAIN;
	int tries;

	for (tries = 0; tries <= PG_BATCH_RETRIES && out == PASS_AGAIN; tries++) {
		if (tries) {
			/* 1, 2, 4 ... ms, then 1 s a try: about 11 s in all, enough
			 * for a PostgreSQL restart or a failover. */
			pause_ms(tries < 11 ? 1 << (tries - 1) : 1000);
			if (PQstatus(wr->c) != CONNECTION_OK)
				(void)pg_reconnect(wr->c);
		}
		out = run_batch(wr, batch);
		if (wr->on_end)
			wr->on_end(wr->arg, out == PASS_COMMITTED);
	}
	pthread_mutex_lock(&wr->smu);
	wr->stats.retries += (unsigned long)(tries - 1);
	if (out == PASS_COMMITTED) {
		wr->stats.commits++;
		wr->stats.writes += n;
	} else {
		wr->stats.failed_batches++;
	}
	pthread_mutex_unlock(&wr->smu);
	if (out == PASS_UNKNOWN)
		for (struct store_write *w = batch; w; w = w->next)
			w->rc = err_set(&w->err, RC_IO, NULL,
					"the database connection was lost during COMMIT: the write may or may not be stored");
	else if (out == PASS_AGAIN)
		for (struct store_write *w = batch; w; w = w->next)
			w->rc = err_set(&w->err, RC_BUSY, NULL, "the database kept refusing the write; try again");
	wqueue_answer(batch);
}

static void *writer_main(void *arg)
{
	struct pg_writer *wr = arg;
	struct store_write *batch;
	size_t n;

	while ((batch = wqueue_take(&wr->q, PG_BATCH_MAX, &n)))
		commit_batch(wr, batch, n);
	return NULL;
}

enum result pg_writer_start(struct pg_writer **out, const char *url, pg_apply_fn apply,
			    void *arg, struct err *e)
{
	struct pg_writer *wr = calloc(1, sizeof(*wr));

	*out = NULL;
	if (!wr)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	if (pg_connect(url, &wr->c, e) != RC_OK) {
		free(wr);
		return e->code;
	}
	wr->apply = apply;
	wr->arg = arg;
	wqueue_init(&wr->q);
	pthread_mutex_init(&wr->smu, NULL);
	if (pthread_create(&wr->th, NULL, writer_main, wr) != 0) {
		pg_finish(wr->c);
		wqueue_destroy(&wr->q);
		pthread_mutex_destroy(&wr->smu);
		free(wr);
		return err_set(e, RC_IO, NULL, "cannot start the writer thread");
	}
	*out = wr;
	return RC_OK;
}

void pg_writer_on_begin(struct pg_writer *wr, void (*fn)(void *arg))
{
	wr->on_begin = fn;
}

void pg_writer_on_end(struct pg_writer *wr, void (*fn)(void *arg, bool committed))
{
	wr->on_end = fn;
}

void pg_writer_submit(struct pg_writer *wr, struct store_write *w)
{
	wqueue_push(&wr->q, w);
}

void pg_writer_stop(struct pg_writer *wr)
{
	if (!wr)
		return;
	wqueue_stop(&wr->q);
	pthread_join(wr->th, NULL);
	pg_finish(wr->c);
	wqueue_destroy(&wr->q);
	pthread_mutex_destroy(&wr->smu);
	free(wr);
}

void pg_writer_stats(struct pg_writer *wr, struct pg_writer_stats *out)
{
	pthread_mutex_lock(&wr->smu);
	*out = wr->stats;
	pthread_mutex_unlock(&wr->smu);
}
