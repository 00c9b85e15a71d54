/* u-pg.c: the PostgreSQL pool and migrations against a real PostgreSQL
 * (scripts/with-pg starts a throw-away one and sets ITSUP_TEST_PG; make
 * check runs this under it). Eight servers starting at once apply each
 * migration exactly once; a second start applies nothing; a failing
 * migration leaves nothing behind; the pool serves many threads with few
 * connections; a connection killed by the server is reset when next taken. */
#include "base/common.h"

#include <pthread.h>
#include <unistd.h>
#include <time.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/pg.h"
#include "store/pg_writer.h"

static const char *url;

/* A fresh database per test, so the tests do not see each other. */
static char dburl[512];
static void fresh_db(const char *name)
{
	struct pg_pool *p;
	struct err e;
	char sql[160];
	PGconn *c;

	assert_int_equal(pg_pool_open(&p, url, 1, &e), RC_OK);
	c = pg_take(p);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
	assert_int_equal(pg_exec(c, sql, &e), RC_OK);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	assert_int_equal(pg_exec(c, sql, &e), RC_OK);
	pg_give(p, c);
	pg_pool_close(p);
	/* url ends in /itsup: the same server, another database. */
	snprintf(dburl, sizeof(dburl), "%.*s/%s", (int)(strrchr(url, '/') - url), url, name);
}

static long count(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long n;

	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return n;
}

/* Three small migrations: the second depends on the first. */
static const struct embedded_file demo_migs[] = {
	{ "0001_a.sql", "CREATE TABLE a (id BIGINT PRIMARY KEY, v TEXT NOT NULL);", 0 },
	{ "0002_b.sql", "CREATE TABLE b (id BIGINT PRIMARY KEY REFERENCES a(id)); INSERT INTO a VALUES (1, 'one');", 0 },
	{ "0003_c.sql", "CREATE INDEX a_v ON a(v);", 0 },
	{ NULL, NULL, 0 },
};

struct starter {
	int applied;
	enum result rc;
};

static void *start_server(void *arg)
{
	struct starter *s = arg;
	struct pg_pool *p;
	struct err e;
	PGconn *c;

	s->rc = pg_pool_open(&p, dburl, 2, &e);
	if (s->rc != RC_OK)
		return NULL;
	c = pg_take(p);
	s->rc = pg_migrate(c, demo_migs, &s->applied, &e);
	pg_give(p, c);
	pg_pool_close(p);
	return NULL;
}

static void test_concurrent_starts_migrate_once(void **state)
{
	pthread_t th[8];
	struct starter s[8] = { 0 };
	int total = 0;
	struct pg_pool *p;
	struct err e;
	PGconn *c;

	(void)state;
	fresh_db("u_pg_race");
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, start_server, &s[i]);
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(s[i].rc, RC_OK);
		total += s[i].applied;
	}
	assert_int_equal(total, 3);   /* one of them applied all three */
	assert_int_equal(pg_pool_open(&p, dburl, 1, &e), RC_OK);
	c = pg_take(p);
	assert_int_equal(count(c, "SELECT count(*) FROM schema_migrations"), 3);
	assert_int_equal(count(c, "SELECT count(*) FROM a"), 1);
	/* A later start finds nothing to do. */
	{
		int applied = -1;
		assert_int_equal(pg_migrate(c, demo_migs, &applied, &e), RC_OK);
		assert_int_equal(applied, 0);
	}
	pg_give(p, c);
	pg_pool_close(p);
}

static void test_failing_migration_leaves_nothing(void **state)
{
	static const struct embedded_file bad[] = {
		{ "0001_a.sql", "CREATE TABLE a (id BIGINT PRIMARY KEY);", 0 },
		{ "0002_b.sql", "CREATE TABLE b (id BIGINT); SELECT no_such_function();", 0 },
		{ NULL, NULL, 0 },
	};
	static const struct embedded_file gap[] = {
		{ "0001_a.sql", "CREATE TABLE a (id BIGINT PRIMARY KEY);", 0 },
		{ "0003_c.sql", "CREATE TABLE c (id BIGINT);", 0 },
		{ NULL, NULL, 0 },
	};
	struct pg_pool *p;
	struct err e;
	PGconn *c;
	int applied = -1;

	(void)state;
	fresh_db("u_pg_bad");
	assert_int_equal(pg_pool_open(&p, dburl, 1, &e), RC_OK);
	c = pg_take(p);
	assert_int_equal(pg_migrate(c, bad, &applied, &e), RC_IO);
	assert_int_equal(applied, 0);
	assert_non_null(strstr(e.msg, "0002_b.sql"));
	assert_non_null(strstr(e.msg, "no_such_function"));
	/* Not even 0001 stayed: one transaction. */
	assert_int_equal(count(c, "SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'b')"), 0);
	assert_int_equal(pg_migrate(c, gap, &applied, &e), RC_IO);
	assert_non_null(strstr(e.msg, "out of order"));
	pg_give(p, c);
	pg_pool_close(p);
}

struct worker {
	struct pg_pool *p;
	int ok;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 200; i++) {
		PGconn *c = pg_take(w->p);
		PGresult *r = PQexec(c, "SELECT 1 + 1");
		if (PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "2"))
			w->ok++;
		PQclear(r);
		pg_give(w->p, c);
	}
	return NULL;
}

static void test_pool_shared_by_threads(void **state)
{
	pthread_t th[8];
	struct worker w[8];
	struct pg_pool *p;
	struct err e;

	(void)state;
	assert_int_equal(pg_pool_open(&p, url, 3, &e), RC_OK);
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ p, 0 };
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, 200);
	}
	pg_pool_close(p);
}

/* Waits (bounded) until the server has ended backend pid. */
static void wait_gone(PGconn *admin, int pid)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid);
	for (int i = 0; i < 500 && count(admin, sql); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(count(admin, sql), 0);
}

static void test_broken_connection_is_reset(void **state)
{
	struct pg_pool *p, *admin;
	struct err e;
	PGconn *c, *a;
	char sql[96];
	PGresult *r;
	int pid;

	(void)state;
	assert_int_equal(pg_pool_open(&p, url, 1, &e), RC_OK);
	assert_int_equal(pg_pool_open(&admin, url, 1, &e), RC_OK);
	c = pg_take(p);
	pid = PQbackendPID(c);
	/* A caller that leaves a transaction open does not pass it on. */
	assert_int_equal(pg_exec(c, "BEGIN; SELECT 1", &e), RC_OK);
	pg_give(p, c);
	c = pg_take(p);
	assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
	pg_give(p, c);
	/* The server ends the idle connection (a restart, a failover). */
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", pid);
	a = pg_take(admin);
	assert_int_equal(pg_exec(a, sql, &e), RC_OK);
	wait_gone(a, pid);
	pg_give(admin, a);
	/* Once the socket shows the end (the backend's exit), the next taker
	 * gets it back working, with its settings. */
	c = pg_take(p);
	for (int i = 0; i < 300 && pg_pool_resets(p) == 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		pg_give(p, c);
		nanosleep(&ts, NULL);
		c = pg_take(p);
	}
	assert_int_equal(pg_pool_resets(p), 1);
	assert_int_not_equal(PQbackendPID(c), pid);
	r = PQexec(c, "SHOW synchronous_commit");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "on");
	PQclear(r);
	pg_give(p, c);
	pg_pool_close(p);
	pg_pool_close(admin);
}

/* Two servers want the scheduler: one has it; when its session dies, the
 * other's next try wins; the first, back, waits its turn. */
static void test_leader_moves_when_the_holder_dies(void **state)
{
	struct pg_pool *a, *b, *admin;
	struct err e;
	PGconn *ca, *cb, *ck;
	char sql[96];

	(void)state;
	assert_int_equal(pg_pool_open(&a, url, 1, &e), RC_OK);
	assert_int_equal(pg_pool_open(&b, url, 1, &e), RC_OK);
	assert_int_equal(pg_pool_open(&admin, url, 1, &e), RC_OK);
	ca = pg_take(a);
	cb = pg_take(b);
	assert_true(pg_leader_try(ca, PG_LEADER_LOCK));
	assert_false(pg_leader_try(cb, PG_LEADER_LOCK));
	assert_true(pg_leader_try(ca, PG_LEADER_LOCK));   /* still ours */
	assert_false(pg_leader_try(cb, PG_LEADER_LOCK));
	/* The leader's session dies (kill -9 of its server looks the same to
	 * PostgreSQL: the connection ends). */
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", PQbackendPID(ca));
	ck = pg_take(admin);
	assert_int_equal(pg_exec(ck, sql, &e), RC_OK);
	pg_give(admin, ck);
	/* Termination is asynchronous: wait (bounded) for the lock to free. */
	{
		bool won = false;
		for (int i = 0; i < 200 && !won; i++) {
			won = pg_leader_try(cb, PG_LEADER_LOCK);
			if (!won) {
				struct timespec ts = { 0, 10 * 1000 * 1000 };
				nanosleep(&ts, NULL);
			}
		}
		assert_true(won);
	}
	/* The old leader reconnects and finds the lock taken. */
	{
		PGresult *r = PQexec(ca, "SELECT 1");   /* notices it is broken */
		PQclear(r);
	}
	assert_false(pg_leader_try(ca, PG_LEADER_LOCK));
	assert_int_equal(PQstatus(ca), CONNECTION_OK);
	pg_give(a, ca);
	pg_give(b, cb);
	pg_pool_close(a);
	pg_pool_close(b);
	pg_pool_close(admin);
}

/* The real schema: applied once; and in step with SQLite's: every table,
 * column and named index of the SQLite migrations exists in PostgreSQL
 * (the FTS5 shadow tables aside), one PostgreSQL file per SQLite file. */
static bool pg_has(PGconn *c, const char *sql, const char *a, const char *b)
{
	const char *params[2] = { a, b };
	PGresult *r = PQexecParams(c, sql, b ? 2 : 1, NULL, params, NULL, NULL, 0);
	bool yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;

	PQclear(r);
	return yes;
}

static void test_schema_in_step_with_sqlite(void **state)
{
	struct pg_pool *p;
	struct err e;
	PGconn *c;
	sqlite3 *db;
	sqlite3_stmt *q;
	int applied = -1, nsq = 0, npg = 0, tables = 0, columns = 0, indexes = 0;

	(void)state;
	while (sqlite_migrations[nsq].name)
		nsq++;
	while (pg_migrations[npg].name)
		npg++;
	assert_int_equal(npg, nsq);
	for (int i = 0; i < nsq; i++)
		assert_string_equal(pg_migrations[i].name, sqlite_migrations[i].name);

	fresh_db("u_pg_schema");
	assert_int_equal(pg_pool_open(&p, dburl, 1, &e), RC_OK);
	c = pg_take(p);
	assert_int_equal(pg_migrate(c, pg_migrations, &applied, &e), RC_OK);
	assert_int_equal(applied, npg);
	assert_int_equal(pg_migrate(c, pg_migrations, &applied, &e), RC_OK);
	assert_int_equal(applied, 0);

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	for (int i = 0; i < nsq; i++)
		assert_int_equal(sqlite3_exec(db, sqlite_migrations[i].data, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT m.type, m.name, m.tbl_name, coalesce(c.name, '') FROM sqlite_master m"
		" LEFT JOIN pragma_table_info(m.name) c ON m.type = 'table'"
		" WHERE m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'ticket_fts_%'"
		" AND m.type IN ('table', 'index') ORDER BY 1, 2", -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(q, 0);
		const char *name = (const char *)sqlite3_column_text(q, 1);
		const char *col = (const char *)sqlite3_column_text(q, 3);
		if (!strcmp(type, "index")) {
			if (!pg_has(c, "SELECT 1 FROM pg_indexes WHERE schemaname = 'public' AND indexname = $1", name, NULL))
				fail_msg("index %s is not in the PostgreSQL schema", name);
			indexes++;
		} else if (!*col) {
			/* a virtual table (FTS5): a plain table of that name in PostgreSQL */
			if (!pg_has(c, "SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = $1", name, NULL))
				fail_msg("table %s is not in the PostgreSQL schema", name);
			tables++;
		} else {
			if (!pg_has(c, "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public'"
				       " AND table_name = $1 AND column_name = $2", name, col))
				fail_msg("column %s.%s is not in the PostgreSQL schema", name, col);
			columns++;
		}
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	assert_true(columns > 100);
	assert_true(indexes > 20);
	(void)tables;
	pg_give(p, c);
	pg_pool_close(p);
}

/* ---- the writer: group commit across servers ---------------------------- */

/* Waits for n done() calls. */
struct waitn {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, ok, failed;
};
static void on_done(struct store_write *w)
{
	struct waitn *wn = w->arg;

	pthread_mutex_lock(&wn->mu);
	wn->done++;
	if (w->rc == RC_OK)
		wn->ok++;
	else
		wn->failed++;
	pthread_cond_broadcast(&wn->cv);
	pthread_mutex_unlock(&wn->mu);
}
static void wait_for(struct waitn *wn, int n)
{
	pthread_mutex_lock(&wn->mu);
	while (wn->done < n)
		pthread_cond_wait(&wn->cv, &wn->mu);
	pthread_mutex_unlock(&wn->mu);
}

/* in.setting.key "row:K" inserts K (a duplicate fails alone);
 * "add" adds one to the shared counter (two servers collide on it). */
static enum result apply_test(PGconn *c, void *arg, struct store_write *w, bool *doomed)
{
	UNUSED(arg);
	const char *key = w->in.setting.key;
	const char *params[1] = { key + 4 };
	PGresult *r = !strncmp(key, "row:", 4)
		? PQexecParams(c, "INSERT INTO wt_rows (k) VALUES ($1)", 1, NULL, params, NULL, NULL, 0)
		: PQexec(c, "UPDATE wt_counter SET n = n + 1 WHERE id = 1");
	enum result rc = RC_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*doomed = pg_doomed(c, r);
		rc = err_set(&w->err, RC_CONFLICT, "k", "%s", PQresultErrorField(r, PG_DIAG_SQLSTATE));
	}
	PQclear(r);
	return rc;
}

static void writer_db(PGconn **admin, struct pg_pool **p)
{
	struct err e;

	fresh_db("u_pg_writer");
	assert_int_equal(pg_pool_open(p, dburl, 1, &e), RC_OK);
	*admin = pg_take(*p);
	assert_int_equal(pg_exec(*admin, "CREATE TABLE wt_rows (k TEXT PRIMARY KEY);"
				 " CREATE TABLE wt_counter (id INT PRIMARY KEY, n BIGINT NOT NULL);"
				 " INSERT INTO wt_counter VALUES (1, 0)", &e), RC_OK);
}

#define NW 3000
struct submitter {
	struct pg_writer *wr;
	struct store_write *ws;
	int from, n;
	int pause_us;   /* between submits: many small batches */
};
static void *submit_some(void *arg)
{
	struct submitter *s = arg;

	for (int i = s->from; i < s->from + s->n; i++) {
		pg_writer_submit(s->wr, &s->ws[i]);
		if (s->pause_us)
			usleep((useconds_t)s->pause_us);
	}
	return NULL;
}

static void test_writer_batches_and_isolates_failures(void **state)
{
	static struct store_write ws[NW];
	static char keys[NW][24];
	struct waitn wn = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
	struct pg_writer *wr;
	struct pg_writer_stats st;
	struct pg_pool *p;
	pthread_t th[6];
	struct submitter sub[6];
	PGconn *admin;
	struct err e;

	(void)state;
	writer_db(&admin, &p);
	assert_int_equal(pg_writer_start(&wr, dburl, apply_test, NULL, &e), RC_OK);
	for (int i = 0; i < NW; i++) {
		/* every 100th write repeats the key before it: it must fail alone */
		snprintf(keys[i], sizeof(keys[i]), "row:%d", i % 100 == 99 ? i - 1 : i);
		ws[i] = (struct store_write){ .done = on_done, .arg = &wn };
		ws[i].in.setting.key = keys[i];
	}
	for (int t = 0; t < 6; t++) {
		sub[t] = (struct submitter){ wr, ws, t * (NW / 6), NW / 6, 0 };
		pthread_create(&th[t], NULL, submit_some, &sub[t]);
	}
	for (int t = 0; t < 6; t++)
		pthread_join(th[t], NULL);
	wait_for(&wn, NW);
	assert_int_equal(wn.failed, NW / 100);
	assert_int_equal(wn.ok, NW - NW / 100);
	for (int i = 99; i < NW; i += 100) {
		assert_int_equal(ws[i].rc, RC_CONFLICT);
		assert_string_equal(ws[i].err.msg, "23505");   /* unique_violation */
	}
	assert_int_equal(count(admin, "SELECT count(*) FROM wt_rows"), NW - NW / 100);
	pg_writer_stats(wr, &st);
	assert_int_equal(st.writes, NW);
	assert_true(st.commits < NW / 4);   /* group commit: many writes per COMMIT */
	pg_writer_stop(wr);
	pg_give(p, admin);
	pg_pool_close(p);
}

/* Two servers' writers add to one counter: they take turns (the writer
 * lock), so no batch collides with the other's and none runs again (before
 * the turns, about one batch in ten did); every addition lands exactly
 * once. Then the connections are cut between batches: the next batch
 * reconnects and runs again. */
static void test_two_writers_take_turns_and_nothing_is_lost(void **state)
{
	static struct store_write ws[2][1000];
	struct waitn wn = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
	struct pg_writer *wr[2];
	struct pg_writer_stats st[2];
	struct pg_pool *p;
	pthread_t th[2];
	struct submitter sub[2];
	PGconn *admin;
	struct err e;

	(void)state;
	writer_db(&admin, &p);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pg_writer_start(&wr[k], dburl, apply_test, NULL, &e), RC_OK);
		for (int i = 0; i < 1000; i++) {
			ws[k][i] = (struct store_write){ .done = on_done, .arg = &wn };
			ws[k][i].in.setting.key = "add";
		}
	}
	for (int k = 0; k < 2; k++) {
		sub[k] = (struct submitter){ wr[k], ws[k], 0, 500, 500 };
		pthread_create(&th[k], NULL, submit_some, &sub[k]);
	}
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	wait_for(&wn, 1000);
	assert_int_equal(wn.ok, 1000);
	assert_int_equal(count(admin, "SELECT n FROM wt_counter"), 1000);
	pg_writer_stats(wr[0], &st[0]);
	pg_writer_stats(wr[1], &st[1]);
	assert_int_equal(st[0].writes + st[1].writes, 1000);
	fprintf(stderr, "writers: %lu+%lu commits, %lu+%lu batches run again\n", st[0].commits, st[1].commits, st[0].retries, st[1].retries);
	assert_int_equal(st[0].retries + st[1].retries, 0);   /* turns: no collisions */

	/* Cut every other connection (a failover, a restarted PostgreSQL):
	 * the writers notice, reconnect and run their batches again. */
	assert_int_equal(pg_exec(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
				 " WHERE datname = current_database() AND pid <> pg_backend_pid()", &e), RC_OK);
	for (int k = 0; k < 2; k++) {
		sub[k] = (struct submitter){ wr[k], ws[k], 500, 500, 0 };
		pthread_create(&th[k], NULL, submit_some, &sub[k]);
	}
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	wait_for(&wn, 2000);
	assert_int_equal(wn.ok, 2000);
	assert_int_equal(count(admin, "SELECT n FROM wt_counter"), 2000);
	{
		struct pg_writer_stats after[2];
		for (int k = 0; k < 2; k++) {
			pg_writer_stats(wr[k], &after[k]);
			assert_true(after[k].retries > st[k].retries);   /* it was cut */
		}
	}
	for (int k = 0; k < 2; k++)
		pg_writer_stop(wr[k]);
	pg_give(p, admin);
	pg_pool_close(p);
}

static void test_bad_url_says_why_without_password(void **state)
{
	struct pg_pool *p;
	struct err e;

	(void)state;
	assert_int_equal(pg_pool_open(&p, "postgresql://itsup:s3cret-word@127.0.0.1:1/itsup", 2, &e), RC_IO);
	assert_null(p);
	assert_non_null(strstr(e.msg, "PostgreSQL connection"));
	assert_null(strstr(e.msg, "s3cret-word"));
	assert_int_equal(pg_pool_open(&p, url, 0, &e), RC_INVALID);
	/* A URL libpq cannot parse: its message would quote the password. */
	assert_int_equal(pg_pool_open(&p, "postgresql://itsup:s3cret%zzword@127.0.0.1:1/itsup", 2, &e), RC_INVALID);
	assert_non_null(strstr(e.msg, "malformed PostgreSQL URL"));
	assert_null(strstr(e.msg, "s3cret"));
	/* An unescaped '@' in the password: libpq would take its end for the
	 * host name and quote it. */
	assert_int_equal(pg_pool_open(&p, "postgresql://itsup:p@ssw0rd@127.0.0.1:1/itsup", 2, &e), RC_INVALID);
	assert_null(strstr(e.msg, "ssw0rd"));
}

/* A thread holding the pool's only connection (size 1) gets a second one
 * with pg_take_extra at once instead of waiting for itself. */
static void test_pool_extra_past_the_cap(void **state)
{
	struct pg_pool *p;
	struct err e;
	PGconn *a, *b;

	(void)state;
	assert_int_equal(pg_pool_open(&p, url, 1, &e), RC_OK);
	a = pg_take(p);
	b = pg_take_extra(p);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(count(b, "SELECT 1"), 1);
	pg_give(p, b);
	pg_give(p, a);
	/* Both stay in the pool: two takes without waiting. */
	a = pg_take(p);
	b = pg_take(p);
	assert_ptr_not_equal(a, b);
	pg_give(p, a);
	pg_give(p, b);
	pg_pool_close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_starts_migrate_once),
		cmocka_unit_test(test_failing_migration_leaves_nothing),
		cmocka_unit_test(test_pool_shared_by_threads),
		cmocka_unit_test(test_broken_connection_is_reset),
		cmocka_unit_test(test_leader_moves_when_the_holder_dies),
		cmocka_unit_test(test_schema_in_step_with_sqlite),
		cmocka_unit_test(test_writer_batches_and_isolates_failures),
		cmocka_unit_test(test_two_writers_take_turns_and_nothing_is_lost),
		cmocka_unit_test(test_bad_url_says_why_without_password),
		cmocka_unit_test(test_pool_extra_past_the_cap),
	};

	url = getenv("ITSUP_TEST_PG");
	if (!url || !*url) {
		fprintf(stderr, "u-pg: ITSUP_TEST_PG is not set (scripts/with-pg sets it); skipped\n");
		return 77;   /* meson: skipped */
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
