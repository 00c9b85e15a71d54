/*
 * pg_writer.c: group commit on PostgreSQL (see pg_writer.h).
 *
 * The queue is a singly linked list under one mutex (the same shape as the
 * SQLite writer's). The writer thread owns one connection; a batch is
 *
 *   BEGIN ISOLATION LEVEL SERIALIZABLE
 *   for each write: SAVEPOINT w; apply; RELEASE w | ROLLBACK TO w
 *   COMMIT
 *
 * and any doomed step sends the whole batch round again (after a ROLLBACK,
 * and a reconnect when the connection is gone), with a short growing pause
 * so that two servers' writers that keep colliding drift apart.
 */
#include "store/pg_writer.h"

#include <pthread.h>
#include <time.h>

#include "store/pg.h"

struct pg_writer {
	PGconn *c;
	pg_apply_fn apply;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_write *qhead, *qtail;
	bool stopping;
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

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* One pass over the batch; false when the transaction was doomed (every
 * write's result is then meaningless and the batch runs again). */
static bool run_batch(struct pg_writer *wr, struct store_write *batch)
{
	PGconn *c = wr->c;

	if (!ctl(c, "BEGIN ISOLATION LEVEL SERIALIZABLE"))
		return false;
	for (struct store_write *w = batch; w; w = w->next) {
		bool doomed = false;
		enum result r;

		if (!ctl(c, "SAVEPOINT w"))
			goto doomed;
		err_clear(&w->err);
		r = wr->apply(c, w, &doomed);
		if (doomed)
			goto doomed;
		if (r != RC_OK) {
			if (!ctl(c, "ROLLBACK TO SAVEPOINT w"))
				goto doomed;
		}
		if (!ctl(c, "RELEASE SAVEPOINT w"))
			goto doomed;
		w->rc = r;
	}
	if (ctl(c, "COMMIT"))
		return true;
	/* A failed COMMIT (serialization failure detected at commit, or the
	 * connection lost): nothing of the batch is durable. If the connection
	 * died during COMMIT the outcome is unknown; running again is safe only
	 * because writes carry their own guards (versions, unique keys,
	 * idempotency keys), which the store's apply functions all do. */
	return false;
doomed:
	ctl(c, "ROLLBACK");
	return false;
}

static void commit_batch(struct pg_writer *wr, struct store_write *batch, size_t n)
{
	bool ok = false;
	int tries;

	for (tries = 0; tries <= PG_BATCH_RETRIES && !ok; tries++) {
		if (tries) {
			pause_ms(tries < 10 ? tries : 10);
			if (PQstatus(wr->c) != CONNECTION_OK) {
				PQreset(wr->c);
				if (PQstatus(wr->c) == CONNECTION_OK) {
					struct err e;
					(void)pg_exec(wr->c, "SET synchronous_commit = on; SET TIME ZONE 'UTC'", &e);
				}
			}
		}
		ok = run_batch(wr, batch);
	}
	pthread_mutex_lock(&wr->mu);
	wr->stats.retries += (unsigned long)(tries - 1);
	if (ok) {
		wr->stats.commits++;
		wr->stats.writes += n;
	} else {
		wr->stats.failed_batches++;
	}
	pthread_mutex_unlock(&wr->mu);
	if (!ok)
		for (struct store_write *w = batch; w; w = w->next)
			w->rc = err_set(&w->err, RC_BUSY, NULL, "the database kept refusing the write; try again");
	while (batch) {
		/* done() may free the write: read the link first. */
		struct store_write *next = batch->next;
		batch->next = NULL;
		if (batch->done)
			batch->done(batch);
		batch = next;
	}
}

static void *writer_main(void *arg)
{
	struct pg_writer *wr = arg;

	for (;;) {
		struct store_write *batch, *last;
		size_t n = 1;

		pthread_mutex_lock(&wr->mu);
		while (!wr->qhead && !wr->stopping)
			pthread_cond_wait(&wr->cv, &wr->mu);
		batch = last = wr->qhead;
		if (!batch) {
			pthread_mutex_unlock(&wr->mu);
			break;   /* stopping and drained */
		}
		while (last->next && n < PG_BATCH_MAX) {
			last = last->next;
			n++;
		}
		wr->qhead = last->next;
		if (!wr->qhead)
			wr->qtail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&wr->mu);
		commit_batch(wr, batch, n);
	}
	return NULL;
}

enum result pg_writer_start(struct pg_writer **out, const char *url, pg_apply_fn apply,
			    struct err *e)
{
	struct pg_writer *wr = calloc(1, sizeof(*wr));

	*out = NULL;
	if (!wr)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	wr->c = PQconnectdb(url);
	if (!wr->c || PQstatus(wr->c) != CONNECTION_OK ||
	    pg_exec(wr->c, "SET synchronous_commit = on; SET TIME ZONE 'UTC'", e) != RC_OK) {
		if (wr->c && PQstatus(wr->c) != CONNECTION_OK)
			err_set(e, RC_IO, NULL, "PostgreSQL connection: %s", PQerrorMessage(wr->c));
		PQfinish(wr->c);
		free(wr);
		return RC_IO;
	}
	wr->apply = apply;
	pthread_mutex_init(&wr->mu, NULL);
	pthread_cond_init(&wr->cv, NULL);
	if (pthread_create(&wr->th, NULL, writer_main, wr) != 0) {
		PQfinish(wr->c);
		pthread_cond_destroy(&wr->cv);
		pthread_mutex_destroy(&wr->mu);
		free(wr);
		return err_set(e, RC_IO, NULL, "cannot start the writer thread");
	}
	*out = wr;
	return RC_OK;
}

void pg_writer_submit(struct pg_writer *wr, struct store_write *w)
{
	w->next = NULL;
	pthread_mutex_lock(&wr->mu);
	if (wr->stopping) {
		pthread_mutex_unlock(&wr->mu);
		w->rc = err_set(&w->err, RC_BUSY, NULL, "the server is shutting down");
		if (w->done)
			w->done(w);
		return;
	}
	if (wr->qtail)
		wr->qtail->next = w;
	else
		wr->qhead = w;
	wr->qtail = w;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
}

void pg_writer_stop(struct pg_writer *wr)
{
	if (!wr)
		return;
	pthread_mutex_lock(&wr->mu);
	wr->stopping = true;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
	pthread_join(wr->th, NULL);
	PQfinish(wr->c);
	pthread_cond_destroy(&wr->cv);
	pthread_mutex_destroy(&wr->mu);
	free(wr);
}

void pg_writer_stats(struct pg_writer *wr, struct pg_writer_stats *out)
{
	pthread_mutex_lock(&wr->mu);
	*out = wr->stats;
	pthread_mutex_unlock(&wr->mu);
}
