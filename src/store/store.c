/*
 * store.c: backend selection, the synchronous write helper, and the
 * audit records a write appends (one, or one a client of an import).
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

/* ---- audit records of a write, and an import's per client ---------------- */

enum result import_tally(struct import_write *iw, const struct import_ticket *it, int64_t number)
{
	struct import_client *c = NULL;

	/* The last one first: a file's rows usually come client by client. */
	if (iw->nclients && iw->clients[iw->nclients - 1].client_id == it->t.client_id)
		c = &iw->clients[iw->nclients - 1];
	for (size_t i = 0; !c && i < iw->nclients; i++)
		if (iw->clients[i].client_id == it->t.client_id)
			c = &iw->clients[i];
	if (!c) {
		if (iw->nclients == iw->ccap) {
			size_t cap = iw->ccap ? iw->ccap * 2 : 8;
			struct import_client *nc = realloc(iw->clients, cap * sizeof(*nc));
			if (!nc)
				return RC_NOMEM;
			iw->clients = nc;
			iw->ccap = cap;
		}
		c = &iw->clients[iw->nclients++];
		memset(c, 0, sizeof(*c));
		c->client_id = it->t.client_id;
		c->first_id = it->t.id;
		c->first_number = number;
	}
	c->n++;
	c->last_number = number;
	return RC_OK;
}

size_t store_audit_records(const struct store_write *w)
{
	if (!w->audit.action)
		return 0;
	return w->kind == W_TICKET_IMPORT && w->in.imp->nclients ? w->in.imp->nclients : 1;
}

void store_audit_record(const struct store_write *w, size_t i, struct audit_in *out, char *buf,
			size_t n)
{
	const struct import_client *c;

	*out = w->audit;
	if (w->kind != W_TICKET_IMPORT || i >= w->in.imp->nclients)
		return;
	c = &w->in.imp->clients[i];
	out->tenant_id = c->client_id;
	out->object_id = c->first_id;
	snprintf(buf, n, "%zu ticket%s of client %" PRId64 ", T-%06" PRId64 " to T-%06" PRId64 "%s%s",
		 c->n, c->n == 1 ? "" : "s", c->client_id, c->first_number, c->last_number,
		 w->audit.detail ? ", " : "", w->audit.detail ? w->audit.detail : "");
	out->detail = buf;
}
