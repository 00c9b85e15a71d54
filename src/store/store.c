/*
 * store.c: backend selection and the synchronous write helper.
 */
#include "base/common.h"
#include "store/store.h"

#include <pthread.h>

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

bool store_is_pg(const char *target)
{
	return target && (!strncmp(target, "postgres://", 11) || !strncmp(target, "postgresql://", 13));
}

enum result store_open(struct store **out, const char *target, bool create,
		       struct err *e)
{
	*out = NULL;
	if (!target || !*target)
		return err_set(e, RC_INVALID, "db", "no database given (--db PATH or ITSUP_DB)");
	if (store_is_pg(target))
		return store_pg_ops.open(out, target, create, e);
	return store_sqlite_ops.open(out, target, create, e);
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

void store_submit(struct store *st, struct store_write *w)
{
	st->ops->submit(st, w);
}

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void wake(struct store_write *w)
{
	struct waiter *wt = w->arg;

	pthread_mutex_lock(&wt->mu);
	wt->done = true;
	pthread_cond_signal(&wt->cv);
	pthread_mutex_unlock(&wt->mu);
}

enum result store_write_sync(struct store *st, struct store_write *w)
{
	struct waiter wt = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };

	w->done = wake;
	w->arg = &wt;
	st->ops->submit(st, w);
	pthread_mutex_lock(&wt.mu);
	while (!wt.done)
		pthread_cond_wait(&wt.cv, &wt.mu);
	pthread_mutex_unlock(&wt.mu);
	pthread_mutex_destroy(&wt.mu);
	pthread_cond_destroy(&wt.cv);
	w->done = NULL;
	w->arg = NULL;
	return w->rc;
}

void store_write_init(struct store_write *w, enum store_wkind kind,
		      const struct scope *scope)
{
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->scope = *scope;
}
