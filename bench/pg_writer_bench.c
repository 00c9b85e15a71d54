/*
 * pg_writer_bench.c: durable inserts per second through the PostgreSQL
 * group-committing writer (src/store/pg_writer.c), from many submitting
 * threads, against one PostgreSQL; bench/pg runs it beside pgbench's
 * simple-insert rate on the same database as the ceiling.
 *
 *   pg-writer-bench URL SECONDS SUBMITTERS WRITERS
 *
 * Each submitter keeps one write in flight (submit, wait for done(), like
 * a request thread); WRITERS writer threads stand for that many itsup
 * servers sharing the database. Each write inserts one row with a
 * parameter, in its own savepoint, as the store's writes do.
 */
#include "base/common.h"

#include <pthread.h>
#include <time.h>

#include "base/clock.h"
#include "store/pg.h"
#include "store/pg_writer.h"

struct one {
	struct store_write w;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	char key[32];
};

static void on_done(struct store_write *w)
{
	struct one *o = w->arg;

	pthread_mutex_lock(&o->mu);
	o->done = true;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

static enum result apply_insert(PGconn *c, void *arg, struct store_write *w, bool *doomed)
{
	UNUSED(arg);
	const char *params[1] = { w->in.setting.key };
	PGresult *r = PQexecParams(c, "INSERT INTO bench_rows (k, at) VALUES ($1, now())", 1, NULL, params,
				   NULL, NULL, 0);
	enum result rc = RC_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*doomed = pg_doomed(c, r);
		rc = err_set(&w->err, RC_IO, NULL, "%s", PQresultErrorMessage(r));
	}
	PQclear(r);
	return rc;
}

struct sub {
	struct pg_writer *wr;
	int id;
	int64_t until_ns;
	long n, failed;
};

static void *submitter(void *arg)
{
	struct sub *s = arg;
	struct one o = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

	while (clock_mono_ns() < s->until_ns) {
		snprintf(o.key, sizeof(o.key), "%d-%ld", s->id, s->n + s->failed);
		o.w = (struct store_write){ .done = on_done, .arg = &o };
		o.w.in.setting.key = o.key;
		o.done = false;
		pg_writer_submit(s->wr, &o.w);
		pthread_mutex_lock(&o.mu);
		while (!o.done)
			pthread_cond_wait(&o.cv, &o.mu);
		pthread_mutex_unlock(&o.mu);
		if (o.w.rc == RC_OK)
			s->n++;
		else
			s->failed++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct pg_writer *wr[8];
	struct pg_writer_stats st;
	struct pg_pool *p;
	struct sub subs[256];
	pthread_t th[256];
	struct err e;
	PGconn *c;
	int secs, nsub, nwr;
	long total = 0, failed = 0;
	unsigned long commits = 0, retries = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: %s URL SECONDS SUBMITTERS WRITERS\n", argv[0]);
		return 2;
	}
	secs = (int)strtol(argv[2], NULL, 10);
	nsub = (int)strtol(argv[3], NULL, 10);
	nwr = (int)strtol(argv[4], NULL, 10);
	if (secs < 1 || nsub < 1 || nsub > 256 || nwr < 1 || nwr > 8) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	if (pg_pool_open(&p, argv[1], 1, &e) != RC_OK) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	c = pg_take(p);
	if (pg_exec(c, "DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows (k TEXT PRIMARY KEY,"
		       " at TIMESTAMPTZ NOT NULL)", &e) != RC_OK) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (int i = 0; i < nwr; i++)
		if (pg_writer_start(&wr[i], argv[1], apply_insert, NULL, &e) != RC_OK) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
	{
		int64_t until = clock_mono_ns() + (int64_t)secs * 1000000000LL;
		for (int i = 0; i < nsub; i++) {
			subs[i] = (struct sub){ wr[i % nwr], i, until, 0, 0 };
			pthread_create(&th[i], NULL, submitter, &subs[i]);
		}
		for (int i = 0; i < nsub; i++) {
			pthread_join(th[i], NULL);
			total += subs[i].n;
			failed += subs[i].failed;
		}
	}
	for (int i = 0; i < nwr; i++) {
		pg_writer_stats(wr[i], &st);
		commits += st.commits;
		retries += st.retries;
		pg_writer_stop(wr[i]);
	}
	{
		PGresult *r = PQexec(c, "SELECT count(*) FROM bench_rows");
		long rows = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		printf("pg writer: %d writer(s), %d submitters: %.0f durable inserts/s, %.1f writes per COMMIT,"
		       " %lu batches run again, %ld failed; rows stored %ld (expected %ld)\n",
		       nwr, nsub, (double)total / secs, commits ? (double)total / (double)commits : 0.0,
		       retries, failed, rows, total);
	}
	pg_give(p, c);
	pg_pool_close(p);
	return 0;
}
