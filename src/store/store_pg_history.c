/*
 * store_pg_history.c: the history import in the PostgreSQL backend (the
 * port of store_sqlite_history.c; same contract, store.h struct
 * import_write).
 *
 * What differs: round trips are the cost here, so a batch of tickets is
 * written with one statement a table, each column's values bound as one
 * array literal (text, cast and unnested together into rows, as the SLA
 * recompute's batches are in store_pg_sla.c): the rows (RETURNING id and
 * number; the numbers are this write's, so each id finds its ticket), the
 * search documents, the timeline, the SLA rows and the CSAT answers. Before
 * the rows, one read of the batch's external ids finds a ticket already
 * imported with its line (a unique violation names no row). The write may
 * run again from the start (pg_writer.h): it resets its results and
 * rewinds the source.
 */
#include "base/common.h"

#include "base/buf.h"
#include "base/clock.h"
#include "store/store.h"
#include "store/store_pg_int.h"

#define IMPORT_BATCH 500
#define COL_MAX (1u << 30)

/* ---- array literals -------------------------------------------------------------------------- */

struct col {
	struct buf b;
	size_t n;
};

static void col_init(struct col *c)
{
	buf_init(&c->b, COL_MAX);
	c->n = 0;
}

static void col_reset(struct col *c)
{
	buf_reset(&c->b);
	c->n = 0;
}

static enum result col_sep(struct col *c)
{
	return buf_append(&c->b, c->n++ ? "," : "{", 1);
}

static enum result col_i64(struct col *c, int64_t v)
{
	enum result r = col_sep(c);

	return r == RC_OK ? buf_appendf(&c->b, "%" PRId64, v) : r;
}

/* 0 is NULL. */
static enum result col_ref(struct col *c, int64_t v)
{
	enum result r = col_sep(c);

	if (r != RC_OK)
		return r;
	return v ? buf_appendf(&c->b, "%" PRId64, v) : buf_appends(&c->b, "NULL");
}

/* A text element, double-quoted ('"' and '\' escaped); NULL is NULL.
 * Two parts (b may be NULL) joined by a line break when both are there. */
static enum result col_txt2(struct col *c, const char *a, const char *b)
{
	enum result r = col_sep(c);

	if (r != RC_OK)
		return r;
	if (!a)
		return buf_appends(&c->b, "NULL");
	r = buf_append(&c->b, "\"", 1);
	for (int part = 0; part < 2 && r == RC_OK; part++) {
		const char *s = part ? b : a;
		if (!s)
			break;
		if (part)
			r = buf_append(&c->b, "\n", 1);
		while (r == RC_OK && *s) {
			size_t run = strcspn(s, "\"\\");
			r = buf_append(&c->b, s, run);
			s += run;
			if (r == RC_OK && *s) {
				char esc[2] = { '\\', *s++ };
				r = buf_append(&c->b, esc, 2);
			}
		}
	}
	return r == RC_OK ? buf_append(&c->b, "\"", 1) : r;
}

static enum result col_txt(struct col *c, const char *s)
{
	return col_txt2(c, s, NULL);
}

/* The literal, closed ("{}" when empty). */
static const char *col_end(struct col *c)
{
	if ((c->n ? buf_append(&c->b, "}", 1) : buf_appends(&c->b, "{}")) != RC_OK)
		return NULL;
	return buf_str(&c->b);
}

/* ---- the statements ---------------------------------------------------------------------------- */

enum {
	T_TENANT, T_NUMBER, T_EMAIL, T_STATUS, T_TYPE, T_IMPACT, T_URGENCY, T_PRIORITY, T_CHANNEL,
	T_SUBJECT, T_DESC, T_CATEGORY, T_PREASON, T_QUEUE, T_VENDOR, T_TIER, T_CREATED,
	T_ACTIVITY, T_RESPONSE, T_RESOLVED, T_CLOSED, T_FCR, T_FCR_REASON, T_RTIER, T_ESC,
	T_TCHANGES, T_REOPENS, T_EARLY, T_EXTERNAL, T_NUM
};

static const char *const t_param[T_NUM] = {
	":tenant", ":number", ":email", ":status", ":type", ":impact", ":urgency", ":priority",
	":channel", ":subject", ":description", ":category", ":preason", ":queue", ":vendor", ":tier",
	":created", ":activity", ":response", ":resolved", ":closed", ":fcr", ":fcr_reason",
	":rtier", ":esc", ":tchanges", ":reopens", ":early", ":external",
};

#define INSERT_TICKETS                                                                           \
	"INSERT INTO tickets (tenant_id, number, requester_contact_id, requester_user_id, status,"  \
	" type, impact, urgency, priority, channel, subject, description, category,"               \
	" priority_reason, queue, vendor, tags, tier, created_at, updated_at, last_activity_at,"    \
	" first_response_at, resolved_at, closed_at, fcr, fcr_reason, resolved_tier, escalations," \
	" tier_changes, reopens, early_reopens, external_id)"                                      \
	" SELECT v.tenant, v.number,"                                                               \
	" (SELECT c.id FROM contacts c WHERE c.tenant_id = v.tenant AND lower(c.email) = lower(v.email)),"\
	" (SELECT u.id FROM users u WHERE u.client_id = v.tenant AND u.email = v.email),"          \
	" v.status, v.type, v.impact, v.urgency, v.priority, v.channel, v.subject, v.description,"  \
	" v.category, v.preason, v.queue, v.vendor, '[]', v.tier, v.created, :now, v.activity,"     \
	" v.response, v.resolved, v.closed, v.fcr, v.fcr_reason, v.rtier, v.esc, v.tchanges,"       \
	" v.reopens, v.early, v.external"                                                          \
	" FROM unnest(CAST(:tenant AS bigint[]), CAST(:number AS bigint[]), CAST(:email AS text[]),"\
	" CAST(:status AS text[]), CAST(:type AS text[]), CAST(:impact AS text[]),"                \
	" CAST(:urgency AS text[]), CAST(:priority AS text[]), CAST(:channel AS text[]),"          \
	" CAST(:subject AS text[]), CAST(:description AS text[]), CAST(:category AS text[]),"      \
	" CAST(:preason AS text[]), CAST(:queue AS text[]), CAST(:vendor AS text[]),"              \
	" CAST(:tier AS integer[]), CAST(:created AS bigint[]), CAST(:activity AS bigint[]),"      \
	" CAST(:response AS bigint[]), CAST(:resolved AS bigint[]), CAST(:closed AS bigint[]),"    \
	" CAST(:fcr AS integer[]), CAST(:fcr_reason AS text[]), CAST(:rtier AS integer[]),"        \
	" CAST(:esc AS integer[]), CAST(:tchanges AS integer[]), CAST(:reopens AS integer[]),"     \
	" CAST(:early AS integer[]), CAST(:external AS text[]))"                                   \
	" AS v (tenant, number, email, status, type, impact, urgency, priority, channel, subject,"  \
	" description, category, preason, queue, vendor, tier, created, activity, response,"       \
	" resolved, closed, fcr, fcr_reason, rtier, esc, tchanges, reopens, early, external)"      \
	" RETURNING id, number"

#define TAKEN                                                                                    \
	"SELECT v.i FROM unnest(CAST(:tenant AS bigint[]), CAST(:external AS text[]))"              \
	" WITH ORDINALITY AS v (tenant, external, i)"                                               \
	" JOIN tickets t ON t.tenant_id = v.tenant AND t.external_id = v.external"                 \
	" ORDER BY v.i LIMIT 1"

#define INSERT_FTS                                                                               \
	"INSERT INTO ticket_fts (rowid, ticket_id, internal, text)"                                 \
	" SELECT v.tid, v.tid, 0, v.text FROM unnest(CAST(:tid AS bigint[]), CAST(:text AS text[]))"\
	" AS v (tid, text)"

#define INSERT_EVENTS                                                                            \
	"INSERT INTO ticket_events (tenant_id, ticket_id, at, actor_id, kind, internal, data)"      \
	" SELECT v.tenant, v.tid, v.at, :actor, v.kind, v.internal, v.data"                         \
	" FROM unnest(CAST(:tenant AS bigint[]), CAST(:tid AS bigint[]), CAST(:at AS bigint[]),"    \
	" CAST(:kind AS text[]), CAST(:internal AS integer[]), CAST(:data AS text[]))"              \
	" WITH ORDINALITY AS v (tenant, tid, at, kind, internal, data, i) ORDER BY v.i"

enum {
	S_TID, S_TENANT, S_POLICY, S_LOG, S_RDUE, S_SDUE, S_RBR, S_SBR, S_PAUSED, S_RMS, S_SMS,
	S_T1, S_T2, S_T3, S_OLA, S_ASOF, S_FIRED, S_NEXT, S_NUM
};

static const char *const s_param[S_NUM] = {
	":tid", ":tenant", ":policy", ":log", ":rdue", ":sdue", ":rbr", ":sbr", ":paused", ":rms",
	":sms", ":t1", ":t2", ":t3", ":ola", ":as_of", ":fired", ":next",
};

#define INSERT_SLA                                                                               \
	"INSERT INTO ticket_sla (ticket_id, tenant_id, policy_id, log, response_due,"               \
	" resolution_due, response_breached, resolution_breached, paused, response_ms,"            \
	" resolution_ms, t1_ms, t2_ms, t3_ms, ola_breached, as_of, fired, next_at)"                 \
	" SELECT * FROM unnest(CAST(:tid AS bigint[]), CAST(:tenant AS bigint[]),"                  \
	" CAST(:policy AS bigint[]), CAST(:log AS text[]), CAST(:rdue AS bigint[]),"                \
	" CAST(:sdue AS bigint[]), CAST(:rbr AS integer[]), CAST(:sbr AS integer[]),"               \
	" CAST(:paused AS integer[]), CAST(:rms AS bigint[]), CAST(:sms AS bigint[]),"              \
	" CAST(:t1 AS bigint[]), CAST(:t2 AS bigint[]), CAST(:t3 AS bigint[]),"                     \
	" CAST(:ola AS integer[]), CAST(:as_of AS bigint[]), CAST(:fired AS bigint[]),"             \
	" CAST(:next AS bigint[]))"

#define INSERT_CSAT                                                                              \
	"INSERT INTO csat (ticket_id, tenant_id, rating, comment, created_at)"                      \
	" SELECT * FROM unnest(CAST(:tid AS bigint[]), CAST(:tenant AS bigint[]),"                  \
	" CAST(:rating AS integer[]), CAST(:comment AS text[]), CAST(:at AS bigint[]))"

enum { F_TID, F_TEXT, F_NUM };
static const char *const f_param[F_NUM] = { ":tid", ":text" };

enum { E_TENANT, E_TID, E_AT, E_KIND, E_INTERNAL, E_DATA, E_NUM };
static const char *const e_param[E_NUM] = { ":tenant", ":tid", ":at", ":kind", ":internal", ":data" };

enum { C_TID, C_TENANT, C_RATING, C_COMMENT, C_AT, C_NUM };
static const char *const c_param[C_NUM] = { ":tid", ":tenant", ":rating", ":comment", ":at" };

/* The columns of each statement of a batch. */
struct cols {
	struct col t[T_NUM], s[S_NUM], f[F_NUM], e[E_NUM], c[C_NUM];
};

static void cols_do(struct cols *c, void (*fn)(struct col *))
{
	for (int k = 0; k < T_NUM; k++)
		fn(&c->t[k]);
	for (int k = 0; k < S_NUM; k++)
		fn(&c->s[k]);
	for (int k = 0; k < F_NUM; k++)
		fn(&c->f[k]);
	for (int k = 0; k < E_NUM; k++)
		fn(&c->e[k]);
	for (int k = 0; k < C_NUM; k++)
		fn(&c->c[k]);
}

static void col_release(struct col *c)
{
	buf_release(&c->b);
}

/* The ticket columns of one ticket (RC_OK is 0: any failure stops the
 * chain and is the answer). */
static enum result add_ticket(struct cols *c, const struct import_ticket *it, int64_t number)
{
	const struct ticket *t = &it->t;
	struct col *k = c->t;

	if (col_i64(&k[T_TENANT], t->client_id) || col_i64(&k[T_NUMBER], number) ||
	    col_txt(&k[T_EMAIL], it->requester_email) ||
	    col_txt(&k[T_STATUS], tstatus_names[t->status]) ||
	    col_txt(&k[T_TYPE], ttype_names[t->type]) ||
	    col_txt(&k[T_IMPACT], level_names[t->impact]) ||
	    col_txt(&k[T_URGENCY], level_names[t->urgency]) ||
	    col_txt(&k[T_PRIORITY], prio_names[t->priority]) ||
	    col_txt(&k[T_CHANNEL], channel_names[t->channel]) ||
	    col_txt(&k[T_SUBJECT], t->subject) ||
	    col_txt(&k[T_DESC], t->description ? t->description : "") ||
	    col_txt(&k[T_CATEGORY], t->category) || col_txt(&k[T_PREASON], t->priority_reason) ||
	    col_txt(&k[T_QUEUE], t->queue ? t->queue : "general") || col_txt(&k[T_VENDOR], t->vendor) ||
	    col_i64(&k[T_TIER], t->tier ? t->tier : 1) || col_i64(&k[T_CREATED], t->created_at) ||
	    col_i64(&k[T_ACTIVITY], t->last_activity_at ? t->last_activity_at : t->created_at) ||
	    col_ref(&k[T_RESPONSE], t->first_response_at) || col_ref(&k[T_RESOLVED], t->resolved_at) ||
	    col_ref(&k[T_CLOSED], t->closed_at) ||
	    (t->fcr >= 0 ? col_i64(&k[T_FCR], t->fcr) : col_ref(&k[T_FCR], 0)) ||
	    col_txt(&k[T_FCR_REASON], t->fcr_reason) || col_ref(&k[T_RTIER], t->resolved_tier) ||
	    col_i64(&k[T_ESC], t->escalations) || col_i64(&k[T_TCHANGES], t->tier_changes) ||
	    col_i64(&k[T_REOPENS], t->reopens) || col_i64(&k[T_EARLY], t->early_reopens) ||
	    col_txt(&k[T_EXTERNAL], it->external_id))
		return RC_NOMEM;
	return RC_OK;
}

/* One timeline event's columns. */
static enum result add_event(struct cols *c, const struct ticket *t, int64_t at, const char *kind,
			     bool internal, const char *data)
{
	struct col *k = c->e;

	if (col_i64(&k[E_TENANT], t->client_id) || col_i64(&k[E_TID], t->id) ||
	    col_i64(&k[E_AT], at) || col_txt(&k[E_KIND], kind) ||
	    col_i64(&k[E_INTERNAL], internal ? 1 : 0) || col_txt(&k[E_DATA], data ? data : "{}"))
		return RC_NOMEM;
	return RC_OK;
}

/* What follows the row, once its id is known: the search document, the
 * timeline, the SLA row, the CSAT answer. RC_INVALID when the created
 * event's data does not fit (it cannot: external ids are short). */
static enum result add_rest(struct cols *c, const struct import_ticket *it)
{
	const struct ticket *t = &it->t;
	const struct ticket_sla *x = &t->sla;
	struct col *s = c->s, *k = c->c;
	char data[1024];
	int n;

	n = snprintf(data, sizeof(data), "{\"number\":%" PRId64 ",\"channel\":\"%s\"%s%s}", t->number,
		     channel_names[t->channel], it->created_extra ? "," : "",
		     it->created_extra ? it->created_extra : "");
	if (n < 0 || (size_t)n >= sizeof(data))
		return RC_INVALID;
	if (col_i64(&c->f[F_TID], t->id) ||
	    col_txt2(&c->f[F_TEXT], t->subject, t->description ? t->description : "") ||
	    add_event(c, t, t->created_at, "created", false, data))
		return RC_NOMEM;
	for (int i = 0; i < it->nev; i++)
		if (add_event(c, t, it->ev[i].at, it->ev[i].kind, it->ev[i].internal, it->ev[i].data))
			return RC_NOMEM;
	if (x->present &&
	    (col_i64(&s[S_TID], t->id) || col_i64(&s[S_TENANT], t->client_id) ||
	     col_ref(&s[S_POLICY], x->policy_id) || col_txt(&s[S_LOG], x->log ? x->log : "") ||
	     col_ref(&s[S_RDUE], x->response_due) || col_ref(&s[S_SDUE], x->resolution_due) ||
	     col_i64(&s[S_RBR], x->response_breached ? 1 : 0) ||
	     col_i64(&s[S_SBR], x->resolution_breached ? 1 : 0) ||
	     col_i64(&s[S_PAUSED], x->paused ? 1 : 0) || col_i64(&s[S_RMS], x->response_ms) ||
	     col_i64(&s[S_SMS], x->resolution_ms) || col_i64(&s[S_T1], x->tier_ms[0]) ||
	     col_i64(&s[S_T2], x->tier_ms[1]) || col_i64(&s[S_T3], x->tier_ms[2]) ||
	     col_i64(&s[S_OLA], (int64_t)x->ola_breached) || col_i64(&s[S_ASOF], x->as_of) ||
	     col_i64(&s[S_FIRED], (int64_t)x->fired) || col_ref(&s[S_NEXT], x->next_at)))
		return RC_NOMEM;
	if (it->csat_rating &&
	    (col_i64(&k[C_TID], t->id) || col_i64(&k[C_TENANT], t->client_id) ||
	     col_i64(&k[C_RATING], it->csat_rating) || col_txt(&k[C_COMMENT], it->csat_comment) ||
	     col_i64(&k[C_AT], it->csat_at)))
		return RC_NOMEM;
	return RC_OK;
}

/* Runs sql with each (name, column) bound and one int8 scalar (name1,
 * v1; NULL: none); the result, or NULL with e set. */
static PGresult *run_cols(struct pgw *x, const char *sql, const char *const *names,
			  struct col *cols, size_t n, const char *name1, int64_t v1,
			  const char *field, const char *what, struct err *e)
{
	struct pgq q;
	PGresult *r = NULL;
	bool ok = true;

	pgq_init(&q, sql);
	for (size_t i = 0; ok && i < n; i++) {
		const char *v = col_end(&cols[i]);
		if (v)
			pgq_txt(&q, names[i], v);
		ok = v != NULL;
	}
	if (name1)
		pgq_i64(&q, name1, v1);
	if (ok)
		r = pgw_run(x, &q, field, what, e);
	else
		err_set(e, RC_NOMEM, NULL, "out of memory");
	pgq_release(&q);
	return r;
}

static enum result run_done(PGresult *r, struct err *e)
{
	if (!r)
		return e->code;
	PQclear(r);
	return RC_OK;
}

/* The clients the scope was found to see (a file names few). */
struct seen_clients {
	int64_t id[64];
	size_t n;
};

static enum result visible(struct pgw *x, const struct scope *sc, struct seen_clients *v,
			   int64_t client, struct err *e)
{
	enum result r;

	for (size_t i = 0; i < v->n; i++)
		if (v->id[i] == client)
			return RC_OK;
	r = pgw_tenant_visible(x, sc, client, e);
	if (r == RC_OK && v->n < ARRAY_SIZE(v->id))
		v->id[v->n++] = client;
	return r;
}

/* One batch: items[0..n) numbered from number on. */
static enum result put_batch(struct pgw *x, struct store_write *w, struct cols *c,
			     struct seen_clients *seen, struct import_ticket *items, size_t n,
			     int64_t number, int64_t now)
{
	static const char *const taken_param[] = { ":tenant", ":external" };
	struct import_write *iw = w->in.imp;
	struct col taken[2];
	enum result r = RC_OK;
	PGresult *res;

	/* A ticket already imported: its line (a unique violation names no
	 * row). */
	col_init(&taken[0]);
	col_init(&taken[1]);
	for (size_t i = 0; r == RC_OK && i < n; i++)
		if (col_i64(&taken[0], items[i].t.client_id) || col_txt(&taken[1], items[i].external_id))
			r = err_set(&w->err, RC_NOMEM, NULL, "out of memory");
	res = r == RC_OK ? run_cols(x, TAKEN, taken_param, taken, 2, NULL, 0, NULL, "ticket", &w->err)
			 : NULL;
	col_release(&taken[0]);
	col_release(&taken[1]);
	if (!res)
		return w->err.code;
	if (PQntuples(res)) {
		size_t i = (size_t)pg_i64(res, 0, 0) - 1;
		PQclear(res);
		if (i >= n)
			return err_set(&w->err, RC_IO, NULL, "ticket: a row that was not sent");
		iw->fail_line = items[i].line;
		return err_set(&w->err, RC_CONFLICT, "external_id", "%.100s is already imported:"
			       " a ticket of client %" PRId64 " has it", items[i].external_id,
			       items[i].t.client_id);
	}
	PQclear(res);

	/* The rows, and their ids by their numbers. */
	cols_do(c, col_reset);
	for (size_t i = 0; i < n; i++) {
		r = visible(x, &w->scope, seen, items[i].t.client_id, &w->err);
		if (r != RC_OK) {
			iw->fail_line = items[i].line;
			return r;
		}
		if (add_ticket(c, &items[i], number + (int64_t)i) != RC_OK)
			return err_set(&w->err, RC_NOMEM, NULL, "out of memory");
	}
	res = run_cols(x, INSERT_TICKETS, t_param, c->t, T_NUM, ":now", now, "external_id", "ticket",
		       &w->err);
	if (!res)
		return w->err.code;
	if ((size_t)PQntuples(res) != n) {
		PQclear(res);
		return err_set(&w->err, RC_IO, NULL, "ticket: %zu rows sent, another number came back", n);
	}
	for (int row = 0; row < PQntuples(res); row++) {
		int64_t k = pg_i64(res, row, 1) - number;
		if (k < 0 || (size_t)k >= n) {
			PQclear(res);
			return err_set(&w->err, RC_IO, NULL, "ticket: a number that was not sent");
		}
		items[k].t.id = pg_i64(res, row, 0);
		items[k].t.number = number + k;
		items[k].t.version = 1;
	}
	PQclear(res);

	/* What hangs off them. */
	for (size_t i = 0; i < n; i++) {
		r = add_rest(c, &items[i]);
		if (r != RC_OK) {
			iw->fail_line = items[i].line;
			return err_set(&w->err, r, NULL, r == RC_NOMEM ? "out of memory"
							       : "the created event does not fit");
		}
	}
	r = run_done(run_cols(x, INSERT_FTS, f_param, c->f, F_NUM, NULL, 0, NULL, "search index",
			      &w->err), &w->err);
	if (r == RC_OK)
		r = run_done(run_cols(x, INSERT_EVENTS, e_param, c->e, E_NUM, ":actor", w->scope.user_id,
				      NULL, "timeline", &w->err), &w->err);
	if (r == RC_OK && c->s[S_TID].n)
		r = run_done(run_cols(x, INSERT_SLA, s_param, c->s, S_NUM, NULL, 0, NULL, "ticket SLA",
				      &w->err), &w->err);
	if (r == RC_OK && c->c[C_TID].n)
		r = run_done(run_cols(x, INSERT_CSAT, c_param, c->c, C_NUM, NULL, 0, NULL, "CSAT",
				      &w->err), &w->err);
	return r;
}

enum result pgh_ticket_import(struct pgw *x, struct store_write *w)
{
	struct import_write *iw = w->in.imp;
	struct seen_clients seen = { { 0 }, 0 };
	struct cols *c = calloc(1, sizeof(*c));
	int64_t now = clock_now_ms(), number = 0;
	enum result r = c ? RC_OK : err_set(&w->err, RC_NOMEM, NULL, "out of memory");
	PGresult *res;
	struct pgq q;

	/* A batch may run again: start from nothing. */
	w->id = 0;
	iw->n = iw->nclients = 0;
	iw->first_id = iw->first_number = iw->last_number = iw->fail_line = 0;
	if (r != RC_OK)
		return r;
	cols_do(c, col_init);
	r = pgt_sla_gen_check(x, iw->sla_gen, &w->err);
	if (r == RC_OK)
		r = iw->rewind(iw->arg, &w->err);
	if (r == RC_OK) {
		pgq_init(&q, "SELECT coalesce(max(number), 0) + 1 FROM tickets");
		res = pgw_run(x, &q, NULL, "ticket number", &w->err);
		pgq_release(&q);
		if (res) {
			number = PQntuples(res) ? pg_i64(res, 0, 0) : 1;
			PQclear(res);
		} else {
			r = w->err.code;
		}
	}
	while (r == RC_OK) {
		struct import_ticket *items;
		size_t n;
		r = iw->next(iw->arg, IMPORT_BATCH, &items, &n, &w->err);
		if (r != RC_OK || !n)
			break;
		r = put_batch(x, w, c, &seen, items, n, number, now);
		for (size_t i = 0; r == RC_OK && i < n; i++)
			if (import_tally(iw, &items[i], number + (int64_t)i) != RC_OK)
				r = err_set(&w->err, RC_NOMEM, NULL, "out of memory");
		if (r != RC_OK)
			break;
		if (!iw->n) {
			iw->first_id = items[0].t.id;
			iw->first_number = number;
		}
		iw->n += n;
		number += (int64_t)n;
		iw->last_number = number - 1;
		if (iw->stored)
			iw->stored(iw->arg, iw->n);
	}
	if (r == RC_OK && !iw->n)
		r = err_set(&w->err, RC_INVALID, NULL, "the input holds no ticket");
	cols_do(c, col_release);
	free(c);
	w->id = iw->first_id;
	return r;
}

/* ---- the checks before an import --------------------------------------------------------------- */

#define LOOKUP_EXTERNAL                                                                          \
	"SELECT v.i FROM unnest(CAST(:clients AS bigint[]), CAST(:keys AS text[]))"                 \
	" WITH ORDINALITY AS v (client, key, i)"                                                   \
	" WHERE (:all OR v.client = :scope) AND EXISTS (SELECT 1 FROM tickets t"                   \
	" WHERE t.tenant_id = v.client AND t.external_id = v.key)"

#define LOOKUP_EMAIL                                                                             \
	"SELECT v.i FROM unnest(CAST(:clients AS bigint[]), CAST(:keys AS text[]))"                 \
	" WITH ORDINALITY AS v (client, key, i)"                                                   \
	" WHERE (:all OR v.client = :scope) AND EXISTS (SELECT 1 FROM contacts c"                  \
	" WHERE c.tenant_id = v.client AND lower(c.email) = lower(v.key))"

static void row_index(const PGresult *r, int row, struct arena *a, void *item)
{
	UNUSED(a);
	*(int64_t *)item = pg_i64(r, row, 0);
}

enum result pgh_import_lookup(struct store *st, const struct scope *sc, enum import_key kind,
			      const int64_t *clients, const char *const *keys, size_t n, bool *found,
			      struct err *e)
{
	struct col cl, ks;
	int64_t *idx = n ? calloc(n, sizeof(*idx)) : NULL;
	enum result r = RC_OK;
	size_t got = 0;
	struct pgq q;

	if ((unsigned)kind > IMPORT_CONTACT_EMAIL) {
		free(idx);
		return err_set(e, RC_INVALID, NULL, "unknown lookup");
	}
	for (size_t i = 0; i < n; i++)
		found[i] = false;
	if (!n)
		return RC_OK;
	if (!idx)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	col_init(&cl);
	col_init(&ks);
	for (size_t i = 0; r == RC_OK && i < n; i++) {
		r = col_i64(&cl, clients[i]);
		if (r == RC_OK)
			r = col_txt(&ks, keys[i]);
	}
	if (r == RC_OK && (!col_end(&cl) || !col_end(&ks)))
		r = RC_NOMEM;
	if (r != RC_OK) {
		r = err_set(e, RC_NOMEM, NULL, "out of memory");
	} else {
		pgq_init(&q, kind == IMPORT_EXTERNAL_ID ? LOOKUP_EXTERNAL : LOOKUP_EMAIL);
		pgq_txt(&q, ":clients", buf_str(&cl.b));
		pgq_txt(&q, ":keys", buf_str(&ks.b));
		pgq_scope(&q, sc);
		r = pgr_rows(st, &q, NULL, idx, sizeof(*idx), n, &got, row_index, e);
		pgq_release(&q);
	}
	for (size_t i = 0; r == RC_OK && i < got; i++)
		if (idx[i] >= 1 && (size_t)idx[i] <= n)
			found[idx[i] - 1] = true;
	col_release(&cl);
	col_release(&ks);
	free(idx);
	return r;
}
