/*
 * pg.h: PostgreSQL connections for the PostgreSQL store (issue 6, first
 * part): a fixed pool of libpq connections shared by threads, and the
 * schema's migrations applied exactly once however many servers start at
 * the same moment.
 *
 * Contract:
 *   - pg_pool_open connects one connection to url (a libpq URI or
 *     conninfo string) at once, so that a wrong URL fails there, and
 *     more as threads need them, up to `size`; each with
 *     synchronous_commit=on and UTC. A failure says why (the password is
 *     never in the message).
 *   - pg_take blocks until a connection is free and returns it healthy: a
 *     connection found broken (server restart, terminated backend) is
 *     reset first; pg_give hands it back. A connection is used by one
 *     thread at a time.
 *   - pg_migrate applies, in order and in one transaction, every embedded
 *     migration newer than the schema_migrations table says, holding a
 *     transaction-scoped advisory lock (PG_MIGRATE_LOCK) so that concurrent
 *     starters wait for the first and then find nothing to do. DDL is
 *     transactional in PostgreSQL: a failing migration leaves nothing
 *     behind. *applied is how many ran.
 */
#ifndef ITSUP_STORE_PG_H
#define ITSUP_STORE_PG_H

#include <libpq-fe.h>

#include "base/common.h"
#include "base/embed.h"
#include "base/err.h"

#define PG_POOL_MAX 64
/* The advisory lock key of migrations ("itsup" + 1, in hex). */
#define PG_MIGRATE_LOCK 0x6974737570000001LL

struct pg_pool;

enum result pg_pool_open(struct pg_pool **out, const char *url, int size, struct err *e);
void pg_pool_close(struct pg_pool *p);
PGconn *pg_take(struct pg_pool *p);
/* For a thread that already holds one of p's connections and needs a
 * second (a fresh snapshot inside a pinned one): a free connection, or a
 * new one past `size` (up to PG_POOL_MAX), never a wait for other
 * threads' connections, which could all be held by threads waiting the
 * same way. */
PGconn *pg_take_extra(struct pg_pool *p);
void pg_give(struct pg_pool *p, PGconn *c);
/* How many broken connections were reset (successfully). */
unsigned long pg_pool_resets(struct pg_pool *p);

/* One connection with the store's settings and timeouts (connect 10 s,
 * TCP keepalives, tcp_user_timeout 30 s); a malformed URL is refused
 * without libpq's text (which may quote the password). */
enum result pg_connect(const char *url, PGconn **out, struct err *e);
enum result pg_session_setup(PGconn *c, struct err *e);
/* Reconnects a broken connection with its parameters and settings. */
bool pg_reconnect(PGconn *c);

/* The embedded PostgreSQL migrations (migrations-pg/, NNNN_name.sql). */
extern const struct embedded_file pg_migrations[];

enum result pg_migrate(PGconn *c, const struct embedded_file *migs, int *applied, struct err *e);

/*
 * Leadership for background work (scheduler, outbox): one server at a time
 * holds a session-level advisory lock on its own connection (not a pooled
 * one). The lock lives as long as that session: when the server dies or
 * its connection drops, PostgreSQL releases it and another server's next
 * pg_leader_try wins. pg_leader_try returns true when this connection
 * holds the lock (taking it if free); false when another session holds it
 * or the connection is broken (then it is reset for the next try).
 */
#define PG_LEADER_LOCK 0x6974737570000002LL
bool pg_leader_try(PGconn *c, long long key);

/* PQexecParams with text results, through c's cache of prepared
 * statements: a text is prepared on c the first time c runs it and
 * executed by name after that (parsed and analysed once per connection).
 * The cache belongs to c's backend: after a reset it starts empty. */
PGresult *pg_exec_params(PGconn *c, const char *sql, int n, const Oid *types,
			 const char *const *vals, const int *lens, const int *fmts);
/* PQfinish, and forgets c's prepared statements. Every connection made by
 * pg_connect is closed with it. */
void pg_finish(PGconn *c);

/* One statement outside a transaction, no parameters, no rows wanted. */
enum result pg_exec(PGconn *c, const char *sql, struct err *e);

#endif
