/*
 * pg.c: the PostgreSQL connection pool and migration runner (see pg.h).
 *
 * The pool is an array of connections and a stack of free slots under one
 * mutex; pg_take waits on a condition variable when all are out. Health is
 * checked when a connection is taken (PQstatus), not by a background
 * thread: a connection broken while idle is reset by the next taker, one
 * broken while in use fails that caller's statement, which the store
 * retries on another.
 *
 * Migrations: BEGIN; pg_advisory_xact_lock(PG_MIGRATE_LOCK); create
 * schema_migrations if missing; read the newest version; run each newer
 * file and record it; COMMIT (which releases the lock). A second server
 * starting at the same moment blocks on the lock and, once it has it, sees
 * the versions the first recorded.
 */
#include "store/pg.h"

#include <pthread.h>
#include <time.h>

#include "base/clock.h"

struct pg_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int size, nfree, cap, opening;  /* opening: connections being made */
	char *url;
	PGconn *conns[PG_POOL_MAX];
	int free_slots[PG_POOL_MAX];
	unsigned long resets;
};

/* libpq's message without its trailing newline, into e. */
static enum result pg_fail(struct err *e, const char *what, const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return err_set(e, RC_IO, NULL, "PostgreSQL %s: %.*s", what, (int)n, msg ? msg : "");
}

/* A failed statement: its primary message only (DETAIL and CONTEXT may
 * quote rows, password hashes among them). */
static enum result pg_fail_res(struct err *e, const char *what, const PGresult *r)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	return pg_fail(e, what, msg ? msg : "no answer from the server");
}

enum result pg_exec(PGconn *c, const char *sql, struct err *e)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	enum result rc = RC_OK;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pg_fail_res(e, "statement", r);
	PQclear(r);
	return rc;
}

/* ---- prepared statements ------------------------------------------------ *
 *
 * Each connection prepares a statement text the first time it runs it
 * (PQprepare, named s1, s2, ... on that connection) and executes it by name
 * after that, so PostgreSQL parses and analyses it once per connection, as
 * SQLite's statement caches do. The cache of a connection is found by the
 * PGconn pointer and is valid only for the backend it was made on
 * (PQbackendPID): a reset connection, or a new one at the same address,
 * starts empty. A connection is used by one thread at a time, so only the
 * table of caches takes a lock. A full cache (PSTMT_MAX texts: the ticket
 * list's filter shapes are the many) runs further texts unprepared. */
#define PSTMT_MAX 256
#define PCACHE_CONNS 256

struct pcache {
	PGconn *c;
	int pid;                         /* the backend the statements live in */
	int n;
	uint64_t hash[PSTMT_MAX];
	char *sql[PSTMT_MAX];
};

static struct pcache pcaches[PCACHE_CONNS];
static pthread_mutex_t pcache_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t sql_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void pcache_reset(struct pcache *pc, PGconn *c, int pid)
{
	for (int i = 0; i < pc->n; i++)
		free(pc->sql[i]);
	pc->n = 0;
	pc->c = c;
	pc->pid = pid;
}

/* c's cache (emptied when c's backend changed); NULL when every slot is
 * another live connection's. */
static struct pcache *pcache_of(PGconn *c)
{
	int pid = PQbackendPID(c);
	struct pcache *pc = NULL, *empty = NULL;

	pthread_mutex_lock(&pcache_mu);
	for (size_t i = 0; i < PCACHE_CONNS; i++) {
		if (pcaches[i].c == c) {
			pc = &pcaches[i];
			break;
		}
		if (!pcaches[i].c && !empty)
			empty = &pcaches[i];
	}
	if (!pc && empty) {
		pc = empty;
		pc->c = c;
		pc->pid = pid;
	}
	pthread_mutex_unlock(&pcache_mu);
	if (pc && pc->pid != pid)
		pcache_reset(pc, c, pid);
	return pc;
}

/* Closes c, forgetting its statements. */
void pg_finish(PGconn *c)
{
	pthread_mutex_lock(&pcache_mu);
	for (size_t i = 0; i < PCACHE_CONNS; i++)
		if (pcaches[i].c == c) {
			pcache_reset(&pcaches[i], NULL, 0);
			break;
		}
	pthread_mutex_unlock(&pcache_mu);
	PQfinish(c);
}

PGresult *pg_exec_params(PGconn *c, const char *sql, int n, const Oid *types,
			 const char *const *vals, const int *lens, const int *fmts)
{
	struct pcache *pc = pcache_of(c);
	uint64_t h;
	char name[16];
	int k;

	if (!pc)
		return PQexecParams(c, sql, n, types, vals, lens, fmts, 0);
	h = sql_hash(sql);
	for (k = 0; k < pc->n; k++)
		if (pc->hash[k] == h && !strcmp(pc->sql[k], sql))
			break;
	if (k == pc->n) {
		PGresult *r;
		size_t len = strlen(sql) + 1;
		if (k == PSTMT_MAX)
			return PQexecParams(c, sql, n, types, vals, lens, fmts, 0);
		pc->sql[k] = malloc(len);
		if (!pc->sql[k])
			return PQexecParams(c, sql, n, types, vals, lens, fmts, 0);
		snprintf(name, sizeof(name), "s%d", k + 1);
		r = PQprepare(c, name, sql, n, types);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			free(pc->sql[k]);
			pc->sql[k] = NULL;
			return r;   /* the error, as the statement's own */
		}
		PQclear(r);
		memcpy(pc->sql[k], sql, len);
		pc->hash[k] = h;
		pc->n++;
	}
	snprintf(name, sizeof(name), "s%d", k + 1);
	return PQexecPrepared(c, name, n, vals, lens, fmts, 0);
}

/* Session settings every connection of the store runs with. */
enum result pg_session_setup(PGconn *c, struct err *e)
{
	return pg_exec(c, "SET synchronous_commit = on; SET TIME ZONE 'UTC';"
			  " SET client_min_messages = warning; SET bytea_output = 'hex'", e);
}

/* The '@'s in a URL's authority (between :// and the next / or ?). */
static int url_ats(const char *url)
{
	const char *p = strstr(url, "://");
	int n = 0;

	if (!p)
		return 0;
	for (p += 3; *p && *p != '/' && *p != '?'; p++)
		n += *p == '@';
	return n;
}

enum result pg_connect(const char *url, PGconn **out, struct err *e)
{
	/* Timeouts so that a dead or black-holed server is noticed in seconds,
	 * not minutes (the writer thread must not hang on it). */
	static const char *const keys[] = { "dbname", "connect_timeout", "keepalives_idle",
					    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
					    NULL };
	const char *vals[] = { url, "10", "30", "10", "3", "30000", NULL };
	PQconninfoOption *opts;
	char *why = NULL;
	PGconn *c;

	*out = NULL;
	/* A malformed URL: libpq's message may quote the password. So may a
	 * connection error when the password holds an unescaped '@' (libpq
	 * then reads its end as the host): refuse a second '@'. */
	if (url_ats(url) > 1)
		return err_set(e, RC_INVALID, "pg", "malformed PostgreSQL URL: write @ in the password as %%40");
	opts = PQconninfoParse(url, &why);
	PQfreemem(why);
	if (!opts)
		return err_set(e, RC_INVALID, "pg", "malformed PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/DB)");
	PQconninfoFree(opts);
	c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		return err_set(e, RC_NOMEM, NULL, "out of memory connecting to PostgreSQL");
	if (PQstatus(c) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password. */
		enum result r = pg_fail(e, "connection", PQerrorMessage(c));
		PQfinish(c);
		return r;
	}
	if (pg_session_setup(c, e) != RC_OK) {
		PQfinish(c);
		return RC_IO;
	}
	*out = c;
	return RC_OK;
}

enum result pg_pool_open(struct pg_pool **out, const char *url, int size, struct err *e)
{
	struct pg_pool *p;

	*out = NULL;
	if (size < 1 || size > PG_POOL_MAX)
		return err_set(e, RC_INVALID, "pg_pool", "a pool has 1 to %d connections", PG_POOL_MAX);
	p = calloc(1, sizeof(*p));
	if (p)
		p->url = malloc(strlen(url) + 1);
	if (!p || !p->url) {
		free(p);
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	}
	memcpy(p->url, url, strlen(url) + 1);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->cap = size;
	/* One connection now, to fail early on a wrong URL or password; the
	 * others when the load needs them. */
	if (pg_connect(url, &p->conns[0], e) != RC_OK) {
		pg_pool_close(p);
		return e->code;
	}
	p->free_slots[0] = 0;
	p->size = p->nfree = 1;
	*out = p;
	return RC_OK;
}

void pg_pool_close(struct pg_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->size; i++)
		pg_finish(p->conns[i]);
	free(p->url);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* A connection the server closed while it was idle still says OK until
 * libpq reads the socket: read what is there (the server's goodbye, or
 * end of file), then ask. */
static bool pg_alive(PGconn *c)
{
	if (PQstatus(c) != CONNECTION_OK)
		return false;
	if (!PQconsumeInput(c))
		return false;
	(void)PQisBusy(c);
	if (!PQconsumeInput(c))
		return false;
	return PQstatus(c) == CONNECTION_OK;
}

bool pg_reconnect(PGconn *c)
{
	struct err e;

	PQreset(c);
	return PQstatus(c) == CONNECTION_OK && pg_session_setup(c, &e) == RC_OK;
}

/* Under p->mu: a free connection, or a new one when the pool may grow
 * (below limit), or NULL when the caller must wait. Connecting happens
 * outside the lock; a failed connect (the server refusing connections)
 * leaves the pool as it was and backs off (*failed). */
static PGconn *take_locked(struct pg_pool *p, int limit, bool *failed)
{
	struct err e;
	PGconn *n = NULL;

	if (p->nfree > 0)
		return p->conns[p->free_slots[--p->nfree]];
	if (p->size + p->opening >= limit || p->size + p->opening >= PG_POOL_MAX)
		return NULL;
	p->opening++;
	pthread_mutex_unlock(&p->mu);
	(void)pg_connect(p->url, &n, &e);
	pthread_mutex_lock(&p->mu);
	p->opening--;
	if (!n) {
		*failed = true;
		return NULL;
	}
	p->conns[p->size++] = n;
	return n;
}

static PGconn *take(struct pg_pool *p, int limit)
{
	PGconn *c;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		bool failed = false;
		c = take_locked(p, limit, &failed);
		if (c)
			break;
		if (failed) {
			/* Wait a little (a connection given back meanwhile wakes
			 * us), then look for a free one again, then grow again. */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		} else {
			pthread_cond_wait(&p->cv, &p->mu);
		}
	}
	pthread_mutex_unlock(&p->mu);
	if (!pg_alive(c)) {
		/* Broken while idle: reconnect with the same parameters. A reset
		 * that fails leaves it broken; the caller's statement fails and
		 * the next taker tries again. */
		if (pg_reconnect(c)) {
			pthread_mutex_lock(&p->mu);
			p->resets++;
			pthread_mutex_unlock(&p->mu);
		}
	}
	return c;
}

PGconn *pg_take(struct pg_pool *p)
{
	return take(p, p->cap);
}

PGconn *pg_take_extra(struct pg_pool *p)
{
	return take(p, PG_POOL_MAX);
}

void pg_give(struct pg_pool *p, PGconn *c)
{
	/* A caller that left a transaction open (or failed in one) must not
	 * hand it to the next taker. */
	if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE) {
		PGresult *r = PQexec(c, "ROLLBACK");
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			PQreset(c);
		PQclear(r);
	}
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->size; i++)
		if (p->conns[i] == c) {
			p->free_slots[p->nfree++] = i;
			break;
		}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

unsigned long pg_pool_resets(struct pg_pool *p)
{
	unsigned long n;

	pthread_mutex_lock(&p->mu);
	n = p->resets;
	pthread_mutex_unlock(&p->mu);
	return n;
}

/* The newest applied version (0: none), in the open transaction. */
static enum result applied_version(PGconn *c, long *have, struct err *e)
{
	PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	enum result rc = RC_OK;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		rc = pg_fail_res(e, "schema_migrations", r);
	else
		*have = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

static enum result record(PGconn *c, long version, const char *name, struct err *e)
{
	char v[24], at[24];
	const char *params[3] = { v, name, at };
	PGresult *r;
	enum result rc = RC_OK;

	snprintf(v, sizeof(v), "%ld", version);
	snprintf(at, sizeof(at), "%lld", (long long)clock_now_ms());
	r = PQexecParams(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_fail_res(e, "schema_migrations", r);
	PQclear(r);
	return rc;
}

enum result pg_migrate(PGconn *c, const struct embedded_file *migs, int *applied, struct err *e)
{
	char lock[96];
	long have = 0;
	enum result rc;

	*applied = 0;
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%lld)", (long long)PG_MIGRATE_LOCK);
	if ((rc = pg_exec(c, "BEGIN", e)) != RC_OK)
		return rc;
	if ((rc = pg_exec(c, lock, e)) != RC_OK ||
	    (rc = pg_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY,"
			     " name TEXT NOT NULL, applied_at BIGINT NOT NULL)", e)) != RC_OK ||
	    (rc = applied_version(c, &have, e)) != RC_OK)
		goto fail;
	for (size_t i = 0; migs[i].name; i++) {
		long version = (long)(i + 1);
		if (version <= have)
			continue;
		/* The file's number must match its place: 0001_, 0002_, ... */
		if (strtol(migs[i].name, NULL, 10) != version) {
			rc = err_set(e, RC_IO, NULL, "migration %s is out of order", migs[i].name);
			goto fail;
		}
		if ((rc = pg_exec(c, migs[i].data, e)) != RC_OK) {
			char why[256];
			snprintf(why, sizeof(why), "%s", e->msg);
			rc = err_set(e, RC_IO, NULL, "migration %s: %s", migs[i].name, why);
			goto fail;
		}
		if ((rc = record(c, version, migs[i].name, e)) != RC_OK)
			goto fail;
		(*applied)++;
	}
	if ((rc = pg_exec(c, "COMMIT", e)) != RC_OK) {
		*applied = 0;
		return rc;
	}
	return RC_OK;
fail:
	{
		struct err ignored;
		(void)pg_exec(c, "ROLLBACK", &ignored);
	}
	*applied = 0;
	return rc;
}

bool pg_leader_try(PGconn *c, long long key)
{
	char sql[96];
	PGresult *r;
	bool held;

	if (!pg_alive(c) && !pg_reconnect(c))
		return false;
	/* Taking a lock this session already holds succeeds (and stacks:
	 * release is by session end, so stacking does no harm). */
	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%lld)", key);
	r = PQexec(c, sql);
	held = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	return held;
}
