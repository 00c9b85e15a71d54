/*
 * store_fx.h: a throw-away store for a store contract test (u-store,
 * u-store-import): SQLite in a new directory under /tmp, or, when pg_base
 * (the URL of a PostgreSQL server's database, ITSUP_TEST_PG) is given, a
 * new database on that server, so that the same tests run on both
 * backends. Test-only, so the helpers are static inline here.
 */
#ifndef ITSUP_TESTS_STORE_FX_H
#define ITSUP_TESTS_STORE_FX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/pg.h"
#include "store/store.h"

/* Opens a new store named after prefix ("u_store") into *st; dir (a
 * directory made for it) and path (what store_open was given) are filled
 * in. 0, or -1 when something failed. */
static inline int store_fx_open(const char *prefix, const char *pg_base, char *dir, size_t dirsz,
				char *path, size_t pathsz, struct store **st)
{
	struct err e;

	snprintf(dir, dirsz, "/tmp/%s-XXXXXX", prefix);
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, pathsz, "%s/t.db", dir);
	if (pg_base) {
		static int seq;
		char sql[128], name[64];
		PGconn *c;
		snprintf(name, sizeof(name), "%s_%d_%d", prefix, (int)getpid(), ++seq);
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
		if (pg_connect(pg_base, &c, &e) != RC_OK)
			return -1;
		if (pg_exec(c, sql, &e) != RC_OK) {
			PQfinish(c);
			return -1;
		}
		PQfinish(c);
		/* The same server: the URL ends in /DBNAME. */
		snprintf(path, pathsz, "%.*s/%s", (int)(strrchr(pg_base, '/') - pg_base), pg_base, name);
	}
	return store_open(st, path, true, &e) == RC_OK ? 0 : -1;
}

/* Closes st and removes dir. 0, or -1 when the directory stayed. */
static inline int store_fx_close(struct store *st, const char *dir)
{
	char cmd[160];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
