/* u-store-import.c: the history import's store contract (store.h,
 * W_TICKET_IMPORT and import_lookup; docs/IMPORT.md): the rows as given,
 * numbers going on from the last, the timeline at the history's instants,
 * the SLA row and CSAT answer, the requester found by address, no outbox
 * row, one audit record a client; all or nothing (a ticket already imported, a
 * source that fails, a client outside the scope, a stale SLA generation);
 * batches and progress; the lookups before an import, scoped.
 * Run twice by meson, as u-store is: on SQLite (u-store-import) and with
 * U_STORE_PG=1 on the PostgreSQL of scripts/with-pg (u-store-import-pg). */
#include "base/common.h"

#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "store/pg.h"
#include "store/store.h"
#include "store_fx.h"

static const char *pg_base;

struct fx {
	char dir[64], path[512];
	struct store *st;
	struct arena *a;
	int64_t c1, c2;
};

static int64_t mk_client(struct store *st, const char *name)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_CLIENT_CREATE, &sys);
	w.in.client.name = name;
	w.in.client.timezone = "UTC";
	w.in.client.active = true;
	w.audit.action = "client.create";
	return store_write_sync(st, &w) == RC_OK ? w.id : 0;
}

static int64_t mk_contact(struct store *st, int64_t client, const char *email)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_CONTACT_CREATE, &sys);
	w.in.contact.client_id = client;
	w.in.contact.name = "Ann";
	w.in.contact.email = email;
	w.audit.action = "contact.create";
	return store_write_sync(st, &w) == RC_OK ? w.id : 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || store_fx_open("u-store-import", pg_base, f->dir, sizeof(f->dir), f->path,
				sizeof(f->path), &f->st) != 0)
		return -1;
	f->a = arena_new(1 << 26);
	f->c1 = mk_client(f->st, "Acme");
	f->c2 = mk_client(f->st, "Borealis");
	if (!f->a || !f->c1 || !f->c2)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int rc = store_fx_close(f->st, f->dir);

	arena_free(f->a);
	free(f);
	return rc;
}

/* ---- a source of tickets made here ------------------------------------------------------- */

struct src {
	struct import_ticket *items;
	size_t n, pos;
	size_t fail_at;          /* next() fails when it gets here (0: never) */
	int rewinds, nexts;
	size_t stored[16];
	int nstored;
};

static enum result src_next(void *arg, size_t max, struct import_ticket **items, size_t *n,
			    struct err *e)
{
	struct src *s = arg;

	s->nexts++;
	*items = s->items + s->pos;
	*n = s->n - s->pos < max ? s->n - s->pos : max;
	if (s->fail_at && s->pos + *n > s->fail_at)
		return err_set(e, RC_INVALID, NULL, "the input changed after it was validated");
	s->pos += *n;
	return RC_OK;
}

static enum result src_rewind(void *arg, struct err *e)
{
	struct src *s = arg;

	UNUSED(e);
	s->rewinds++;
	s->pos = 0;
	return RC_OK;
}

static void src_stored(void *arg, size_t n)
{
	struct src *s = arg;

	if (s->nstored < (int)ARRAY_SIZE(s->stored))
		s->stored[s->nstored++] = n;
}

static struct ticket_event evs[2] = {
	{ 0, 0, 2000, 0, "status", "{\"from\":\"new\",\"to\":\"resolved\",\"imported\":true}", false },
	{ 0, 0, 2000, 0, "fcr", "{\"fcr\":true,\"imported\":true}", true },
};

/* A resolved ticket of client, created at 1000 and resolved at 2000, with
 * its SLA row and a CSAT answer. */
static void ticket(struct import_ticket *it, int64_t client, const char *ext, int64_t line)
{
	struct ticket *t = &it->t;

	memset(it, 0, sizeof(*it));
	t->client_id = client;
	t->subject = "Printer \"jams\" \\ again";
	t->description = "Paper,\nand more";
	t->type = TT_PROBLEM;
	t->impact = LV_HIGH;
	t->urgency = LV_LOW;
	t->priority = PR_P3;
	t->channel = CH_PHONE;
	t->queue = "field";
	t->category = "printing";
	t->vendor = "Dell";
	t->status = TS_RESOLVED;
	t->tier = 2;
	t->created_at = 1000;
	t->last_activity_at = 2000;
	t->first_response_at = 1500;
	t->resolved_at = 2000;
	t->fcr = 1;
	t->fcr_reason = "given by the import";
	t->resolved_tier = 2;
	t->escalations = 1;
	t->tier_changes = 1;
	t->reopens = 3;
	t->early_reopens = 2;
	t->sla.present = true;
	t->sla.policy_id = 5;
	t->sla.log = "s0@1000 p2@1000 t2@1000 s5@2000";
	t->sla.response_ms = 500;
	t->sla.resolution_ms = 1000;
	t->sla.tier_ms[1] = 1000;
	t->sla.resolution_breached = true;
	t->sla.resolution_due = 1800;
	t->sla.as_of = 9000;
	t->sla.fired = 4096;
	it->external_id = ext;
	it->created_extra = "\"imported\":true,\"external_id\":\"x\"";
	it->ev = evs;
	it->nev = 2;
	it->csat_rating = 4;
	it->csat_comment = "quick, \"nice\"";
	it->csat_at = 3000;
	it->line = line;
}

static enum result run_import(struct fx *f, const struct scope *sc, struct src *s,
			      struct import_write *iw, struct store_write *w)
{
	enum result r;

	memset(iw, 0, sizeof(*iw));
	iw->next = src_next;
	iw->rewind = src_rewind;
	iw->stored = src_stored;
	iw->arg = s;
	iw->sla_gen = -1;
	store_write_init(w, W_TICKET_IMPORT, sc);
	w->in.imp = iw;
	w->audit.action = "ticket.import";
	w->audit.object_type = "ticket";
	w->audit.detail = "imported from JSON lines";
	r = store_write_sync(f->st, w);
	free(iw->clients);              /* the store's; nclients stays to be read */
	iw->clients = NULL;
	return r;
}

/* The ticket.import audit records (the first 4). */
struct imports {
	struct { int64_t actor, tenant, object; char detail[160]; } r[4];
	int n;
};

static bool import_audit(const struct audit_rec *r, void *arg)
{
	struct imports *out = arg;

	if (strcmp(r->action, "ticket.import") || out->n >= (int)ARRAY_SIZE(out->r))
		return true;
	out->r[out->n].actor = r->actor_id;
	out->r[out->n].tenant = r->tenant_id;
	out->r[out->n].object = r->object_id;
	snprintf(out->r[out->n].detail, sizeof(out->r[0].detail), "%s", r->detail ? r->detail : "");
	out->n++;
	return true;
}

static int64_t ticket_count(struct fx *f)
{
	struct scope sys = scope_system();
	struct ticket_q q = { .limit = 500, .status = -1, .priority = -1 };
	struct ticket_list l;
	struct err e;

	assert_int_equal(store_ticket_list(f->st, &sys, &q, f->a, &l, &e), RC_OK);
	return (int64_t)l.n;
}

/* What an import writes, counted straight from the database (committed
 * rows only): the tickets, the last number, the rows that hang off them,
 * the audit records. */
enum { K_TICKETS, K_MAXNUM, K_EVENTS, K_SLA, K_FTS, K_CSAT, K_AUDIT, K_COUNT };

static const char *const count_sql[K_COUNT] = {
	"SELECT count(*) FROM tickets", "SELECT coalesce(max(number), 0) FROM tickets",
	"SELECT count(*) FROM ticket_events", "SELECT count(*) FROM ticket_sla",
	"SELECT count(*) FROM ticket_fts", "SELECT count(*) FROM csat",
	"SELECT count(*) FROM audit_log",
};

static void counts(struct fx *f, int64_t out[K_COUNT])
{
	struct err e;

	if (pg_base) {
		PGconn *c;
		assert_int_equal(pg_connect(f->path, &c, &e), RC_OK);
		for (int k = 0; k < K_COUNT; k++) {
			PGresult *r = PQexec(c, count_sql[k]);
			assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
			out[k] = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			PQclear(r);
		}
		pg_finish(c);
		return;
	}
	{
		sqlite3 *db;
		assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		for (int k = 0; k < K_COUNT; k++) {
			sqlite3_stmt *q;
			assert_int_equal(sqlite3_prepare_v2(db, count_sql[k], -1, &q, NULL), SQLITE_OK);
			assert_int_equal(sqlite3_step(q), SQLITE_ROW);
			out[k] = sqlite3_column_int64(q, 0);
			sqlite3_finalize(q);
		}
		sqlite3_close(db);
	}
}

static void assert_counts(const int64_t want[K_COUNT], const int64_t got[K_COUNT])
{
	for (int k = 0; k < K_COUNT; k++)
		if (want[k] != got[k])
			fail_msg("%s: %" PRId64 ", was %" PRId64, count_sql[k], got[k], want[k]);
}

/* ---- the contract ---------------------------------------------------------------------------- */

static void test_import_rows(void **state)
{
	struct fx *f = *state;
	struct scope admin = scope_for(1, ROLE_ADMIN, 0, 0), sys = scope_system();
	struct import_ticket items[2];
	struct src s = { items, 2, 0, 0, 0, 0, { 0 }, 0 };
	struct import_write iw;
	struct store_write w;
	struct ticket t;
	struct event_list ev;
	struct outbox_list ob;
	struct imports rec;
	char want[160];
	struct report_ticket rows[4];
	size_t n;
	int rating = 0;
	int64_t contact = mk_contact(f->st, f->c2, "Ann@Borealis.example"), id, cl;
	struct err e;

	assert_true(contact > 0);
	ticket(&items[0], f->c1, "ZM-1", 3);
	ticket(&items[1], f->c2, "ZM-1", 4);           /* the same id for another client */
	items[1].requester_email = "ann@borealis.example";
	items[1].t.status = TS_CLOSED;
	items[1].t.closed_at = 2500;
	items[1].t.fcr = -1;
	items[1].t.fcr_reason = NULL;
	items[1].csat_rating = 0;
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_OK);
	assert_int_equal(iw.n, 2);
	assert_int_equal(iw.first_number, 1);
	assert_int_equal(iw.last_number, 2);
	assert_true(iw.first_id > 0);
	assert_int_equal(w.id, iw.first_id);
	assert_int_equal(s.rewinds, 1);
	assert_int_equal(s.nstored, 1);
	assert_int_equal(s.stored[0], 2);

	/* The first row, as given. */
	assert_int_equal(store_ticket_get(f->st, &sys, iw.first_id, f->a, &t, &e), RC_OK);
	assert_int_equal(t.number, 1);
	assert_int_equal(t.client_id, f->c1);
	assert_string_equal(t.subject, "Printer \"jams\" \\ again");
	assert_string_equal(t.description, "Paper,\nand more");
	assert_int_equal(t.type, TT_PROBLEM);
	assert_int_equal(t.impact, LV_HIGH);
	assert_int_equal(t.urgency, LV_LOW);
	assert_int_equal(t.priority, PR_P3);
	assert_int_equal(t.channel, CH_PHONE);
	assert_string_equal(t.queue, "field");
	assert_string_equal(t.category, "printing");
	assert_string_equal(t.vendor, "Dell");
	assert_string_equal(t.tags, "[]");
	assert_int_equal(t.status, TS_RESOLVED);
	assert_int_equal(t.tier, 2);
	assert_int_equal(t.created_at, 1000);
	assert_int_equal(t.last_activity_at, 2000);
	assert_int_equal(t.first_response_at, 1500);
	assert_int_equal(t.resolved_at, 2000);
	assert_int_equal(t.closed_at, 0);
	assert_int_equal(t.fcr, 1);
	assert_string_equal(t.fcr_reason, "given by the import");
	assert_int_equal(t.first_handler_id, 0);
	assert_int_equal(t.resolved_by, 0);
	assert_int_equal(t.assignee_id, 0);
	assert_int_equal(t.requester_contact_id, 0);
	assert_int_equal(t.resolved_tier, 2);
	assert_int_equal(t.escalations, 1);
	assert_int_equal(t.tier_changes, 1);
	assert_int_equal(t.reopens, 3);
	assert_int_equal(t.early_reopens, 2);
	assert_int_equal(t.version, 1);
	assert_true(t.sla.present);
	assert_int_equal(t.sla.policy_id, 5);
	assert_string_equal(t.sla.log, "s0@1000 p2@1000 t2@1000 s5@2000");
	assert_int_equal(t.sla.response_ms, 500);
	assert_int_equal(t.sla.resolution_ms, 1000);
	assert_int_equal(t.sla.tier_ms[1], 1000);
	assert_true(t.sla.resolution_breached);
	assert_false(t.sla.response_breached);
	assert_int_equal(t.sla.resolution_due, 1800);
	assert_int_equal(t.sla.response_due, 0);
	assert_int_equal(t.sla.as_of, 9000);
	assert_int_equal(t.sla.fired, 4096);
	assert_int_equal(t.sla.next_at, 0);
	/* Its timeline at the history's instants, actor the importer. */
	assert_int_equal(store_ticket_events(f->st, &sys, t.id, true, f->a, &ev, &e), RC_OK);
	assert_int_equal(ev.n, 3);
	assert_string_equal(ev.items[0].kind, "created");
	assert_int_equal(ev.items[0].at, 1000);
	assert_int_equal(ev.items[0].actor_id, 1);
	assert_string_equal(ev.items[0].data, "{\"number\":1,\"channel\":\"phone\",\"imported\":true,\"external_id\":\"x\"}");
	assert_string_equal(ev.items[1].kind, "status");
	assert_int_equal(ev.items[1].at, 2000);
	assert_false(ev.items[1].internal);
	assert_string_equal(ev.items[2].kind, "fcr");
	assert_true(ev.items[2].internal);
	assert_int_equal(store_ticket_events(f->st, &sys, t.id, false, f->a, &ev, &e), RC_OK);
	assert_int_equal(ev.n, 2);
	/* Its CSAT answer. */
	assert_int_equal(store_csat_get(f->st, t.id, &rating, &e), RC_OK);
	assert_int_equal(rating, 4);
	{
		struct report_csat cs[2];
		assert_int_equal(store_report_csat(f->st, &sys, f->c1, 0, 10000, 0, 2, f->a, cs, &n, &e),
				 RC_OK);
		assert_int_equal(n, 1);
		assert_int_equal(cs[0].created_at, 3000);
		assert_string_equal(cs[0].comment, "quick, \"nice\"");
	}
	/* The second: its requester found by address, without case. */
	assert_int_equal(store_ticket_by_number(f->st, 2, &id, &cl, &e), RC_OK);
	assert_int_equal(cl, f->c2);
	assert_int_equal(store_ticket_get(f->st, &sys, id, f->a, &t, &e), RC_OK);
	assert_int_equal(t.requester_contact_id, contact);
	assert_int_equal(t.status, TS_CLOSED);
	assert_int_equal(t.closed_at, 2500);
	assert_int_equal(t.fcr, -1);
	assert_int_equal(store_csat_get(f->st, t.id, &rating, &e), RC_NOTFOUND);
	/* Searchable, as tickets made in itsup are. */
	{
		struct ticket_q q = { .limit = 10, .status = -1, .priority = -1, .fts = "\"jams\"" };
		struct ticket_list l;
		assert_int_equal(store_ticket_list(f->st, &sys, &q, f->a, &l, &e), RC_OK);
		assert_int_equal(l.n, 2);
	}
	/* Reports read them as any ticket. */
	assert_int_equal(store_report_tickets(f->st, &sys, 0, 0, 10000, 0, 4, f->a, rows, &n, &e), RC_OK);
	assert_int_equal(n, 2);
	assert_true(rows[0].has_policy);
	assert_true(rows[0].vendor);
	assert_int_equal(rows[0].resolution_ms, 1000);
	assert_int_equal(rows[0].tier_ms[1], 1000);
	assert_int_equal(rows[0].reopens, 3);
	assert_int_equal(rows[1].closed_at, 2500);
	/* No outbox row: history notifies no one. */
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 0);
	/* One audit record a client, of the importer, in the client's own
	 * trail: its first ticket, its count and numbers. */
	assert_int_equal(iw.nclients, 2);
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(store_audit_walk(f->st, import_audit, &rec, &e), RC_OK);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.r[0].actor, 1);
	assert_int_equal(rec.r[0].tenant, f->c1);
	assert_int_equal(rec.r[0].object, iw.first_id);
	snprintf(want, sizeof(want), "1 ticket of client %" PRId64 ", T-000001 to T-000001, imported"
		 " from JSON lines", f->c1);
	assert_string_equal(rec.r[0].detail, want);
	assert_int_equal(rec.r[1].actor, 1);
	assert_int_equal(rec.r[1].tenant, f->c2);
	assert_int_equal(rec.r[1].object, id);
	snprintf(want, sizeof(want), "1 ticket of client %" PRId64 ", T-000002 to T-000002, imported"
		 " from JSON lines", f->c2);
	assert_string_equal(rec.r[1].detail, want);

	/* The next import goes on from the last number; the same external
	 * ids are taken now. */
	ticket(&items[0], f->c1, "ZM-2", 1);
	s.n = 1;
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_OK);
	assert_int_equal(iw.first_number, 3);
	{
		const int64_t clients[] = { f->c1, f->c2, f->c2, f->c1 };
		const char *const keys[] = { "ZM-1", "ZM-1", "ZM-2", "zm-2" };
		bool found[4];
		assert_int_equal(store_import_lookup(f->st, &sys, IMPORT_EXTERNAL_ID, clients, keys, 4, found, &e),
				 RC_OK);
		assert_true(found[0]);
		assert_true(found[1]);
		assert_false(found[2]);
		assert_false(found[3]);                 /* external ids keep their case */
	}
}

/* All or nothing: a ticket already imported, a source that fails half
 * way, a client out of scope, a stale SLA generation; nothing written,
 * no number used. */
static void test_all_or_nothing(void **state)
{
	struct fx *f = *state;
	struct scope admin = scope_for(1, ROLE_ADMIN, 0, 0);
	struct scope c1admin = scope_for(9, ROLE_CLIENT_ADMIN, 0, f->c1);
	struct import_ticket items[3];
	struct src s = { items, 1, 0, 0, 0, 0, { 0 }, 0 };
	struct import_write iw;
	struct store_write w;
	int64_t gen;
	struct err e;

	ticket(&items[0], f->c1, "A", 1);
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_OK);
	assert_int_equal(ticket_count(f), 1);

	ticket(&items[0], f->c1, "B", 7);
	ticket(&items[1], f->c2, "B", 8);
	ticket(&items[2], f->c1, "A", 9);            /* taken */
	s.n = 3;
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_CONFLICT);
	assert_string_equal(w.err.field, "external_id");
	assert_int_equal(iw.fail_line, 9);
	assert_non_null(strstr(w.err.msg, "A is already imported"));
	assert_int_equal(ticket_count(f), 1);

	items[2].external_id = "C";
	s.fail_at = 2;
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_INVALID);
	assert_int_equal(ticket_count(f), 1);
	s.fail_at = 0;

	/* A client admin of c1 cannot import into c2 (404, as for any write). */
	assert_int_equal(run_import(f, &c1admin, &s, &iw, &w), RC_NOTFOUND);
	assert_int_equal(iw.fail_line, 8);
	assert_int_equal(ticket_count(f), 1);

	/* Clocks computed under another SLA configuration. */
	assert_int_equal(store_sla_generation(f->st, &gen, &e), RC_OK);
	memset(&iw, 0, sizeof(iw));
	iw.next = src_next;
	iw.rewind = src_rewind;
	iw.arg = &s;
	iw.sla_gen = gen + 1;
	store_write_init(&w, W_TICKET_IMPORT, &admin);
	w.in.imp = &iw;
	assert_int_equal(store_write_sync(f->st, &w), RC_STALE);
	assert_string_equal(w.err.field, "sla_generation");
	assert_int_equal(ticket_count(f), 1);

	/* An empty source is refused too. */
	s.n = 0;
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_INVALID);

	/* And with all fixed, the numbers go on from the first import's. */
	s.n = 3;
	iw.sla_gen = gen;
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_OK);
	assert_int_equal(iw.first_number, 2);
	assert_int_equal(iw.last_number, 4);
	assert_int_equal(ticket_count(f), 4);
}

/* A failure after a whole batch was written takes the batch back too:
 * the source failing in the second batch, a ticket already imported
 * there (found by the INSERT on SQLite, by the batch's read on
 * PostgreSQL: both after the first batch's rows went in), an external id
 * the first batch wrote, a client out of scope there. Nothing stays:
 * tickets, numbers, timeline, SLA rows, search documents, CSAT answers,
 * audit records are as before; the next import takes the next number. */
static void test_rollback_after_a_batch(void **state)
{
	struct fx *f = *state;
	struct scope admin = scope_for(1, ROLE_ADMIN, 0, 0);
	struct scope c1admin = scope_for(9, ROLE_CLIENT_ADMIN, 0, f->c1);
	enum { N = 700, BATCH = 500 };
	struct import_ticket *items = calloc(N, sizeof(*items));
	char (*ids)[16] = calloc(N, 16);
	struct src s = { items, 1, 0, 0, 0, 0, { 0 }, 0 };
	struct import_write iw;
	struct store_write w;
	int64_t before[K_COUNT], after[K_COUNT];

	assert_non_null(items);
	assert_non_null(ids);
	ticket(&items[0], f->c1, "KEEP", 1);
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_OK);
	counts(f, before);
	assert_int_equal(before[K_TICKETS], 1);
	assert_int_equal(before[K_MAXNUM], 1);
	assert_int_equal(before[K_CSAT], 1);
	assert_true(before[K_EVENTS] >= 3 && before[K_SLA] == 1 && before[K_FTS] == 1);

	for (int i = 0; i < N; i++) {
		snprintf(ids[i], 16, "R-%d", i);
		ticket(&items[i], f->c1, ids[i], i + 2);
	}
	s.n = N;

	/* The source fails in the second batch. */
	s.fail_at = BATCH + 100;
	s.nexts = s.nstored = 0;
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_INVALID);
	assert_int_equal(s.nexts, 2);
	assert_int_equal(s.nstored, 1);                 /* the first batch was written */
	assert_int_equal(s.stored[0], BATCH);
	counts(f, after);
	assert_counts(before, after);
	s.fail_at = 0;

	/* A ticket already imported, in the second batch. */
	items[BATCH + 50].external_id = "KEEP";
	s.nstored = 0;
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_CONFLICT);
	assert_int_equal(iw.fail_line, BATCH + 52);
	assert_int_equal(s.nstored, 1);
	counts(f, after);
	assert_counts(before, after);

	/* The second batch repeats an external id of the first. */
	items[BATCH + 50].external_id = ids[7];
	s.nstored = 0;
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_CONFLICT);
	assert_int_equal(iw.fail_line, BATCH + 52);
	assert_int_equal(s.nstored, 1);
	counts(f, after);
	assert_counts(before, after);
	items[BATCH + 50].external_id = ids[BATCH + 50];

	/* A client the importer does not see, in the second batch. */
	items[BATCH + 60].t.client_id = f->c2;
	s.nstored = 0;
	assert_int_equal(run_import(f, &c1admin, &s, &iw, &w), RC_NOTFOUND);
	assert_int_equal(iw.fail_line, BATCH + 62);
	assert_int_equal(s.nstored, 1);
	counts(f, after);
	assert_counts(before, after);

	/* Fixed, all of them go in, numbered on from the first import. */
	assert_int_equal(run_import(f, &admin, &s, &iw, &w), RC_OK);
	assert_int_equal(iw.first_number, 2);
	assert_int_equal(iw.last_number, N + 1);
	counts(f, after);
	assert_int_equal(after[K_TICKETS], N + 1);
	assert_int_equal(after[K_MAXNUM], N + 1);
	assert_int_equal(after[K_SLA], N + 1);
	assert_int_equal(after[K_FTS], N + 1);
	assert_int_equal(after[K_CSAT], N + 1);
	assert_int_equal(after[K_EVENTS], before[K_EVENTS] * (N + 1));
	free(items);
	free(ids);
}

/* More tickets than a batch: every one written, progress after each
 * batch, numbers in the source's order. */
static void test_batches(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	enum { N = 1234 };
	struct import_ticket *items = calloc(N, sizeof(*items));
	char (*ids)[16] = calloc(N, 16);
	struct src s = { items, N, 0, 0, 0, 0, { 0 }, 0 };
	struct import_write iw;
	struct store_write w;
	struct ticket t;
	int64_t id, cl;
	struct err e;

	for (int i = 0; i < N; i++) {
		snprintf(ids[i], 16, "B-%d", i);
		ticket(&items[i], i % 2 ? f->c1 : f->c2, ids[i], i + 2);
		items[i].t.created_at = 1000 + i;
	}
	assert_int_equal(run_import(f, &sys, &s, &iw, &w), RC_OK);
	assert_int_equal(iw.n, N);
	assert_int_equal(iw.last_number, N);
	assert_true(s.nstored >= 3);
	for (int i = 1; i < s.nstored; i++)
		assert_true(s.stored[i] > s.stored[i - 1]);
	assert_int_equal(s.stored[s.nstored - 1], N);
	for (int k = 0; k < N; k += 111) {
		assert_int_equal(store_ticket_by_number(f->st, k + 1, &id, &cl, &e), RC_OK);
		assert_int_equal(store_ticket_get(f->st, &sys, id, f->a, &t, &e), RC_OK);
		assert_int_equal(t.created_at, 1000 + k);
		assert_int_equal(cl, k % 2 ? f->c1 : f->c2);
	}
	free(items);
	free(ids);
}

/* The lookups before an import: by client, scoped; addresses without case. */
static void test_lookup(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system(), c1admin = scope_for(9, ROLE_CLIENT_ADMIN, 0, f->c1);
	const int64_t clients[] = { f->c1, f->c2, f->c1, f->c2 };
	const char *const keys[] = { "ANN@acme.example", "ann@acme.example", "bob@acme.example",
				     "zed@borealis.example" };
	bool found[4];
	struct err e;

	assert_true(mk_contact(f->st, f->c1, "ann@Acme.example") > 0);
	assert_true(mk_contact(f->st, f->c2, "zed@borealis.example") > 0);
	assert_int_equal(store_import_lookup(f->st, &sys, IMPORT_CONTACT_EMAIL, clients, keys, 4, found, &e),
			 RC_OK);
	assert_true(found[0]);
	assert_false(found[1]);
	assert_false(found[2]);
	assert_true(found[3]);
	assert_int_equal(store_import_lookup(f->st, &c1admin, IMPORT_CONTACT_EMAIL, clients, keys, 4, found,
					     &e), RC_OK);
	assert_true(found[0]);
	assert_false(found[3]);                         /* another tenant's: not seen */
	assert_int_equal(store_import_lookup(f->st, &sys, IMPORT_EXTERNAL_ID, clients, keys, 0, found, &e),
			 RC_OK);
}

int main(void)
{
	const char *want = getenv("U_STORE_PG");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_after_a_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
	};

	if (want && *want) {
		pg_base = getenv("ITSUP_TEST_PG");
		if (!pg_base || !strrchr(pg_base, '/')) {
			fprintf(stderr, "u-store-import-pg: ITSUP_TEST_PG is not set (run under scripts/with-pg)\n");
			return 1;
		}
	}
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
