/* u-store.c: the store contract: tenancy in every read and write,
 * versions, idempotency, group commit under concurrency, the audit chain.
 * Run twice by meson: on SQLite (u-store), and with U_STORE_PG=1 on the
 * PostgreSQL that scripts/with-pg started (u-store-pg: each test gets a
 * new database there). The tests are the same for both backends. */
#include "base/common.h"

#include <pthread.h>
#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "audit/audit.h"
#include "jobs/sla_track.h"
#include "store/pg.h"
#include "store/store.h"

/* ITSUP_TEST_PG when this run is the PostgreSQL one. */
static const char *pg_base;

struct fx {
	char dir[64], path[512];
	struct store *st;
	struct arena *a;
	int64_t c1, c2; /* two client organisations */
};

static enum result mk_client(struct store *st, const struct scope *sc, const char *name,
			     int64_t *id)
{
	struct store_write w;

	store_write_init(&w, W_CLIENT_CREATE, sc);
	w.in.client.name = name;
	w.in.client.timezone = "UTC";
	w.in.client.active = true;
	w.audit.action = "client.create";
	store_write_sync(st, &w);
	if (id)
		*id = w.id;
	return w.rc;
}

static enum result mk_contact(struct store *st, const struct scope *sc, int64_t client,
			      const char *name, const char *email, int64_t *id)
{
	struct store_write w;

	store_write_init(&w, W_CONTACT_CREATE, sc);
	w.in.contact.client_id = client;
	w.in.contact.name = name;
	w.in.contact.email = email;
	w.audit.action = "contact.create";
	store_write_sync(st, &w);
	if (id)
		*id = w.id;
	return w.rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct scope sys = scope_system();
	struct err e;

	snprintf(f->dir, sizeof(f->dir), "/tmp/u-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	if (pg_base) {
		/* A new database on the same server: the URL ends in /DBNAME. */
		static int seq;
		char sql[96], name[48];
		PGconn *c;
		snprintf(name, sizeof(name), "u_store_%d_%d", (int)getpid(), ++seq);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
		if (pg_connect(pg_base, &c, &e) != RC_OK)
			return -1;
		if (pg_exec(c, sql, &e) != RC_OK) {
			PQfinish(c);
			return -1;
		}
		PQfinish(c);
		snprintf(f->path, sizeof(f->path), "%.*s/%s", (int)(strrchr(pg_base, '/') - pg_base),
			 pg_base, name);
	}
	if (store_open(&f->st, f->path, true, &e) != RC_OK)
		return -1;
	f->a = arena_new(1 << 24);
	if (mk_client(f->st, &sys, "Acme", &f->c1) != RC_OK ||
	    mk_client(f->st, &sys, "Borealis", &f->c2) != RC_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	store_close(f->st);
	arena_free(f->a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void test_open_requires_existing(void **state)
{
	struct fx *f = *state;
	struct store *st;
	struct err e;
	char path[128];

	snprintf(path, sizeof(path), "%s/missing.db", f->dir);
	if (!pg_base)
		assert_int_equal(store_open(&st, path, false, &e), RC_NOTFOUND);
	/* Creating again: SQLite's file exists; PostgreSQL has the schema. */
	assert_int_equal(store_open(&st, f->path, true, &e), RC_CONFLICT);
}

static void test_client_scope(void **state)
{
	struct fx *f = *state;
	struct scope staff = scope_for(1, ROLE_TECHNICIAN, 1, 0);
	struct scope cu1 = scope_for(2, ROLE_CLIENT_USER, 0, f->c1);
	struct client c;
	struct client_list l;
	struct list_q q = { 0 };
	struct err e;

	assert_int_equal(store_client_get(f->st, &staff, f->c2, f->a, &c, &e), RC_OK);
	assert_string_equal(c.name, "Borealis");
	assert_int_equal(store_client_get(f->st, &cu1, f->c1, f->a, &c, &e), RC_OK);
	assert_int_equal(store_client_get(f->st, &cu1, f->c2, f->a, &c, &e), RC_NOTFOUND);
	assert_int_equal(store_client_list(f->st, &cu1, &q, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].id, f->c1);
	assert_int_equal(store_client_list(f->st, &staff, &q, f->a, &l, &e), RC_OK);
	assert_true(l.n >= 2);
	/* A client user cannot create organisations. */
	assert_int_equal(mk_client(f->st, &cu1, "Sneaky", NULL), RC_DENIED);
	/* Names are unique without case. */
	assert_int_equal(mk_client(f->st, &staff, "acme", NULL), RC_CONFLICT);
}

static void test_contact_scope(void **state)
{
	struct fx *f = *state;
	struct scope staff = scope_for(1, ROLE_DISPATCHER, 0, 0);
	struct scope ca2 = scope_for(3, ROLE_CLIENT_ADMIN, 0, f->c2);
	struct contact c;
	struct contact_list l;
	struct list_q q = { 0 };
	struct store_write w;
	struct err e;
	int64_t id1, id2;

	assert_int_equal(mk_contact(f->st, &staff, f->c1, "Alice", "alice@acme.example", &id1), RC_OK);
	assert_int_equal(mk_contact(f->st, &ca2, f->c2, "Britta", NULL, &id2), RC_OK);
	/* Another organisation's client is "not found" for a client admin. */
	assert_int_equal(mk_contact(f->st, &ca2, f->c1, "Mallory", NULL, NULL), RC_NOTFOUND);
	assert_int_equal(mk_contact(f->st, &staff, f->c1, "Dup", "alice@acme.example", NULL), RC_CONFLICT);
	assert_int_equal(mk_contact(f->st, &staff, f->c2, "Same email elsewhere",
				    "alice@acme.example", NULL), RC_OK);
	assert_int_equal(store_contact_get(f->st, &ca2, id1, f->a, &c, &e), RC_NOTFOUND);
	assert_int_equal(store_contact_get(f->st, &ca2, id2, f->a, &c, &e), RC_OK);
	q.client_id = f->c1;
	assert_int_equal(store_contact_list(f->st, &ca2, &q, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 0);

	/* Updates: scoped, versioned. */
	store_write_init(&w, W_CONTACT_UPDATE, &ca2);
	w.id = id1;
	w.fields = F_NAME;
	w.in.contact.name = "Hijacked";
	assert_int_equal(store_write_sync(f->st, &w), RC_NOTFOUND);
	store_write_init(&w, W_CONTACT_UPDATE, &staff);
	w.id = id1;
	w.fields = F_PHONE;
	w.in.contact.phone = "+1 555";
	w.if_version = 1;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(w.version, 2);
	store_write_init(&w, W_CONTACT_UPDATE, &staff);
	w.id = id1;
	w.fields = F_NAME;
	w.in.contact.name = "Stale";
	w.if_version = 1;
	assert_int_equal(store_write_sync(f->st, &w), RC_STALE);
	assert_int_equal(store_contact_get(f->st, &staff, id1, f->a, &c, &e), RC_OK);
	assert_string_equal(c.name, "Alice");
	assert_string_equal(c.phone, "+1 555");
	assert_int_equal(c.version, 2);
}

static void test_users(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope ca1 = scope_for(3, ROLE_CLIENT_ADMIN, 0, f->c1);
	struct store_write w;
	struct user u;
	struct user_list l;
	struct list_q q = { 0 };
	struct err e;
	int64_t staff_id, cu_id;

	store_write_init(&w, W_USER_CREATE, &sys);
	w.in.user = (struct user){ .email = "tech@p.test", .name = "Tech", .role = ROLE_TECHNICIAN,
				   .tier = 2, .active = true, .password_hash = "$argon2id$x" };
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	staff_id = w.id;
	store_write_init(&w, W_USER_CREATE, &ca1);
	w.in.user = (struct user){ .email = "cu@acme.example", .name = "CU", .role = ROLE_CLIENT_USER,
				   .client_id = f->c1, .active = true };
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	cu_id = w.id;
	/* Duplicate e-mail. */
	store_write_init(&w, W_USER_CREATE, &sys);
	w.in.user = (struct user){ .email = "cu@acme.example", .name = "CU2", .role = ROLE_CLIENT_USER,
				   .client_id = f->c2, .active = true };
	assert_int_equal(store_write_sync(f->st, &w), RC_CONFLICT);
	assert_string_equal(w.err.field, "email");
	/* A client admin cannot create provider staff. */
	store_write_init(&w, W_USER_CREATE, &ca1);
	w.in.user = (struct user){ .email = "x@p.test", .name = "X", .role = ROLE_ADMIN, .active = true };
	assert_int_equal(store_write_sync(f->st, &w), RC_DENIED);

	assert_int_equal(store_user_get(f->st, &ca1, staff_id, f->a, &u, &e), RC_NOTFOUND);
	assert_int_equal(store_user_get(f->st, &ca1, cu_id, f->a, &u, &e), RC_OK);
	assert_null(u.password_hash); /* secrets only through user_auth */
	assert_int_equal(store_user_auth(f->st, "tech@p.test", f->a, &u, &e), RC_OK);
	assert_string_equal(u.password_hash, "$argon2id$x");
	assert_int_equal(u.tier, 2);
	assert_int_equal(store_user_list(f->st, &ca1, &q, f->a, &l, &e), RC_OK);
	for (size_t i = 0; i < l.n; i++)
		assert_int_equal(l.items[i].client_id, f->c1);
	q.role = "technician";
	assert_int_equal(store_user_list(f->st, &sys, &q, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].id, staff_id);
}

static void test_idempotency(void **state)
{
	struct fx *f = *state;
	struct scope staff = scope_for(1, ROLE_DISPATCHER, 0, 0);
	struct store_write w;
	int64_t first;

	for (int i = 0; i < 2; i++) {
		store_write_init(&w, W_CONTACT_CREATE, &staff);
		w.in.contact.client_id = f->c1;
		w.in.contact.name = "Once";
		w.idem_key = "key-1";
		memset(w.idem_fp, 7, 32);
		assert_int_equal(store_write_sync(f->st, &w), RC_OK);
		if (i == 0) {
			first = w.id;
			assert_false(w.replayed);
		} else {
			assert_int_equal(w.id, first);
			assert_true(w.replayed);
		}
	}
	store_write_init(&w, W_CONTACT_CREATE, &staff);
	w.in.contact.client_id = f->c1;
	w.in.contact.name = "Different";
	w.idem_key = "key-1";
	memset(w.idem_fp, 8, 32);
	assert_int_equal(store_write_sync(f->st, &w), RC_CONFLICT);
	/* Keys are per user. */
	staff.user_id = 2;
	store_write_init(&w, W_CONTACT_CREATE, &staff);
	w.in.contact.client_id = f->c1;
	w.in.contact.name = "Other user";
	w.idem_key = "key-1";
	memset(w.idem_fp, 8, 32);
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_false(w.replayed);
}

/* ---- group commit under concurrency ------------------------------------------------ */

#define THREADS 8
#define PER_THREAD 300

struct pending {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int left, ok, failed;
};

static void on_done(struct store_write *w)
{
	struct pending *p = w->arg;

	pthread_mutex_lock(&p->mu);
	if (w->rc == RC_OK)
		p->ok++;
	else
		p->failed++;
	p->left--;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

struct worker {
	struct fx *f;
	struct pending *p;
	struct store_write *ws;
	int n;
};

static void *submit_many(void *arg)
{
	struct worker *wk = arg;
	struct scope staff = scope_for(1, ROLE_DISPATCHER, 0, 0);

	for (int i = 0; i < wk->n; i++) {
		struct store_write *w = &wk->ws[i];
		store_write_init(w, W_CONTACT_CREATE, &staff);
		w->in.contact.client_id = wk->f->c2;
		w->in.contact.name = "Bulk";
		/* Every 50th write collides on e-mail and must fail alone. */
		w->in.contact.email = i % 50 == 49 ? "dup@borealis.example" : NULL;
		w->audit.action = "contact.create";
		w->done = on_done;
		w->arg = wk->p;
		store_submit(wk->f->st, w);
	}
	return NULL;
}

static bool walk(const struct audit_rec *r, void *arg)
{
	return audit_verify_step(arg, r);
}

static void test_group_commit(void **state)
{
	struct fx *f = *state;
	struct pending p = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			     THREADS * PER_THREAD, 0, 0 };
	struct worker wk[THREADS];
	pthread_t th[THREADS];
	struct store_stats before, after;
	struct audit_verify v;
	struct err e;
	int dups = 0;

	store_stats(f->st, &before);
	for (int t = 0; t < THREADS; t++) {
		wk[t] = (struct worker){ f, &p, calloc(PER_THREAD, sizeof(struct store_write)), PER_THREAD };
		pthread_create(&th[t], NULL, submit_many, &wk[t]);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_lock(&p.mu);
	while (p.left)
		pthread_cond_wait(&p.cv, &p.mu);
	pthread_mutex_unlock(&p.mu);
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < PER_THREAD; i++)
			if (wk[t].ws[i].rc == RC_CONFLICT)
				dups++;
		free(wk[t].ws);
	}
	store_stats(f->st, &after);

	/* One duplicate e-mail got in; every other duplicate failed alone. */
	assert_int_equal(dups, THREADS * (PER_THREAD / 50) - 1);
	assert_int_equal(p.failed, dups);
	assert_int_equal(p.ok, THREADS * PER_THREAD - dups);
	/* Writes were grouped: fewer commits than writes. */
	assert_int_equal(after.writes - before.writes, (uint64_t)(THREADS * PER_THREAD));
	assert_true(after.commits - before.commits < after.writes - before.writes);

	/* The audit chain has no gap and no fork. */
	audit_verify_init(&v);
	assert_int_equal(store_audit_walk(f->st, walk, &v, &e), RC_OK);
	assert_int_equal(v.broken_seq, 0);
	assert_true(v.checked >= p.ok);
}

static void test_reopen_keeps_everything(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct list_q q = { .limit = 500 };
	struct client_list l;
	struct err e;
	int64_t id;

	assert_int_equal(mk_client(f->st, &sys, "Before reopen", &id), RC_OK);
	store_close(f->st);
	assert_int_equal(store_open(&f->st, f->path, false, &e), RC_OK);
	assert_int_equal(store_client_list(f->st, &sys, &q, f->a, &l, &e), RC_OK);
	assert_int_equal(l.items[l.n - 1].id, id);
	/* The chain continues where it stopped. */
	assert_int_equal(mk_client(f->st, &sys, "After reopen", NULL), RC_OK);
	{
		struct audit_verify v;
		audit_verify_init(&v);
		assert_int_equal(store_audit_walk(f->st, walk, &v, &e), RC_OK);
		assert_int_equal(v.broken_seq, 0);
	}
}

static void test_pagination(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct list_q q = { .limit = 2 };
	struct client_list l;
	struct err e;
	int64_t seen = 0, last = 0;

	for (int i = 0; i < 5; i++) {
		char name[32];
		snprintf(name, sizeof(name), "Page %d", i);
		assert_int_equal(mk_client(f->st, &sys, name, NULL), RC_OK);
	}
	do {
		assert_int_equal(store_client_list(f->st, &sys, &q, f->a, &l, &e), RC_OK);
		for (size_t i = 0; i < l.n; i++) {
			assert_true(l.items[i].id > last);
			last = l.items[i].id;
			seen++;
		}
		q.after = l.next_after;
	} while (l.next_after);
	assert_true(seen >= 7);
}

/* The SLA configuration generation: calendar and policy writes bump it; a
 * ticket write whose clocks were computed under an older one is refused
 * (RC_STALE, field sla_generation) and leaves nothing behind; the world
 * cache follows the store's generation. */
static void test_sla_generation(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct store_write w;
	struct ticket_write tw;
	struct sla_world *world, *again;
	struct ticket_list l;
	struct ticket_q q = { 0, 50, 0, 0, -1, -1, 0, false, NULL, NULL };
	struct err e;
	int64_t g0, g1;

	assert_int_equal(store_sla_generation(f->st, &g0, &e), RC_OK);
	store_write_init(&w, W_CALENDAR_PUT, &sys);
	w.in.cal.name = "noc";
	w.in.cal.timezone = "UTC";
	w.in.cal.always = true;
	w.in.cal.hours = "{}";
	w.in.cal.holidays = "[]";
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_sla_generation(f->st, &g1, &e), RC_OK);
	assert_int_equal(g1, g0 + 1);
	assert_int_equal(sla_world_get(f->st, &world, &e), RC_OK);
	assert_int_equal(sla_world_generation(world), g1);
	assert_non_null(sla_world_calendar(world, w.id));

	memset(&tw, 0, sizeof(tw));
	tw.t.client_id = f->c1;
	tw.t.subject = "stale clocks";
	tw.t.description = "";
	tw.t.queue = "general";
	tw.t.tags = "[]";
	tw.t.tier = 1;
	tw.t.fcr = -1;
	tw.t.sla.present = true;
	tw.t.sla.log = "";
	tw.sla_set = true;
	tw.sla_gen = g0;                 /* computed before the calendar write */
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	assert_int_equal(store_write_sync(f->st, &w), RC_STALE);
	assert_string_equal(w.err.field, "sla_generation");
	assert_int_equal(store_ticket_list(f->st, &sys, &q, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 0);

	tw.sla_gen = g1;
	tw.t.id = 0;
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	tw.sla_gen = -1;                 /* not computed: not checked */
	tw.t.id = 0;
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);

	/* The cached world is the current one until the generation moves. */
	assert_int_equal(sla_world_get(f->st, &again, &e), RC_OK);
	assert_ptr_equal(again, world);
	sla_world_put(again);
	sla_world_put(world);
	sla_shutdown();
}

/* ---- queue counts ------------------------------------------------------------------ */

static void mk_ticket(struct fx *f, int64_t client, const char *queue, enum tstatus status,
		      enum prio prio, int64_t assignee, bool breached)
{
	struct scope sys = scope_system();
	struct store_write w;
	struct ticket_write tw;

	memset(&tw, 0, sizeof(tw));
	tw.t.client_id = client;
	tw.t.subject = "counted";
	tw.t.description = "";
	tw.t.queue = queue;
	tw.t.status = status;
	tw.t.priority = prio;
	tw.t.assignee_id = assignee;
	tw.t.tags = "[]";
	tw.t.tier = 1;
	tw.t.fcr = -1;
	if (breached) {
		tw.t.sla.present = true;
		tw.t.sla.policy_id = 1;
		tw.t.sla.log = "";
		tw.t.sla.resolution_breached = true;
		tw.sla_set = true;
		tw.sla_gen = -1;
	}
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
}

static void assert_count(const struct queue_counts *qc, size_t i, const char *queue, int64_t open,
			 int64_t unassigned, int64_t p1, int64_t breached)
{
	assert_true(i < qc->n);
	assert_string_equal(qc->items[i].queue, queue);
	assert_int_equal(qc->items[i].open, open);
	assert_int_equal(qc->items[i].unassigned, unassigned);
	assert_int_equal(qc->items[i].p1, p1);
	assert_int_equal(qc->items[i].breached, breached);
}

/* Open tickets only, per queue in name order ("" first), each column
 * counted; the scope and the client filter narrow them. */
static void test_queue_counts(void **state)
{
	struct fx *f = *state;
	struct scope staff = scope_for(1, ROLE_TECHNICIAN, 1, 0);
	struct scope ca2 = scope_for(3, ROLE_CLIENT_ADMIN, 0, f->c2);
	struct queue_counts qc;
	struct err e;

	assert_int_equal(store_queue_counts(f->st, &staff, 0, f->a, &qc, &e), RC_OK);
	assert_int_equal(qc.n, 0);
	assert_false(qc.truncated);

	mk_ticket(f, f->c1, "printers", TS_NEW, PR_P1, 0, false);
	mk_ticket(f, f->c1, "printers", TS_OPEN, PR_P3, 7, true);
	mk_ticket(f, f->c2, "printers", TS_PENDING_CUSTOMER, PR_P1, 7, false);
	mk_ticket(f, f->c1, "printers", TS_RESOLVED, PR_P1, 0, true);  /* not open */
	mk_ticket(f, f->c2, "printers", TS_CLOSED, PR_P1, 0, true);    /* not open */
	mk_ticket(f, f->c2, "network", TS_ON_HOLD, PR_P2, 0, true);
	mk_ticket(f, f->c1, "Accounts", TS_OPEN, PR_P4, 7, false);      /* bytes: upper case first */
	mk_ticket(f, f->c1, "", TS_OPEN, PR_P1, 0, false);              /* only the store allows it */

	assert_int_equal(store_queue_counts(f->st, &staff, 0, f->a, &qc, &e), RC_OK);
	assert_int_equal(qc.n, 4);
	assert_count(&qc, 0, "", 1, 1, 1, 0);
	assert_count(&qc, 1, "Accounts", 1, 0, 0, 0);
	assert_count(&qc, 2, "network", 1, 1, 0, 1);
	assert_count(&qc, 3, "printers", 3, 1, 2, 1);

	assert_int_equal(store_queue_counts(f->st, &staff, f->c2, f->a, &qc, &e), RC_OK);
	assert_int_equal(qc.n, 2);
	assert_count(&qc, 0, "network", 1, 1, 0, 1);
	assert_count(&qc, 1, "printers", 1, 0, 1, 0);

	/* The store scopes it too: a client admin counts their own only. */
	assert_int_equal(store_queue_counts(f->st, &ca2, 0, f->a, &qc, &e), RC_OK);
	assert_int_equal(qc.n, 2);
	assert_count(&qc, 1, "printers", 1, 0, 1, 0);
	assert_int_equal(store_queue_counts(f->st, &ca2, f->c1, f->a, &qc, &e), RC_OK);
	assert_int_equal(qc.n, 0);
}

/* ---- contact search ------------------------------------------------------------------ */

static void mk_person(struct fx *f, int64_t client, const char *name, const char *email,
		      const char *phone)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_CONTACT_CREATE, &sys);
	w.in.contact.client_id = client;
	w.in.contact.name = name;
	w.in.contact.email = email;
	w.in.contact.phone = phone;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
}

/* The names found for q by sc (and client), in id order, joined by ','. */
static const char *found(struct fx *f, const struct scope *sc, int64_t client, const char *q)
{
	struct list_q lq = { .limit = 500, .client_id = client, .q = q };
	struct contact_list l;
	struct err e;
	size_t size = 1024, at = 0;
	char *out = arena_alloc(f->a, size);

	out[0] = '\0';
	assert_int_equal(store_contact_list(f->st, sc, &lq, f->a, &l, &e), RC_OK);
	for (size_t i = 0; i < l.n && at < size; i++) {
		assert_non_null(l.items[i].client_name);
		at += (size_t)snprintf(out + at, size - at, "%s%s", i ? "," : "", l.items[i].name);
	}
	return out;
}

static void test_contact_search(void **state)
{
	struct fx *f = *state;
	struct scope staff = scope_for(1, ROLE_TECHNICIAN, 1, 0);
	struct scope cu2 = scope_for(4, ROLE_CLIENT_USER, 0, f->c2);
	static const struct {
		const char *q, *want;
	} cases[] = {
		{ "jane", "Jane Roe,Mary-Jane Watson" },  /* words split at hyphens too */
		{ "JA", "Jane Roe,Mary-Jane Watson" },
		{ "roe", "Jane Roe" },                     /* a later word of the name */
		{ "ane", "" },                             /* not the middle of a word */
		{ "jane r", "Jane Roe" },
		{ "mary-j", "Mary-Jane Watson" },
		{ "wats", "Mary-Jane Watson" },
		{ "j.roe@", "Jane Roe" },                  /* the start of the e-mail */
		{ "acme.example", "" },                    /* not its middle */
		{ "555 01", "Jane Roe" },                  /* +1 (555) 0100 */
		{ "(555) 010", "Jane Roe" },
		{ "0100", "Jane Roe" },
		{ "+49 30", "Mary-Jane Watson" },
		{ "5550199", "" },
		{ "100%", "100% Uptime" },                 /* % literal */
		{ "%", "" },                               /* no word starts with % */
		{ "a_b", "a_b Tester" },                   /* _ literal: not "axb Tester" */
		{ "_", "" },
		{ "back\\s", "Back\\slash" },              /* \ literal */
		{ "x", "" },
	};

	mk_person(f, f->c1, "Jane Roe", "j.roe@acme.example", "+1 (555) 0100");
	mk_person(f, f->c2, "Mary-Jane Watson", "mj@borealis.example", "+49 30 1234");
	mk_person(f, f->c1, "100% Uptime", NULL, NULL);
	mk_person(f, f->c1, "a_b Tester", NULL, NULL);
	mk_person(f, f->c1, "axb Tester", NULL, NULL);
	mk_person(f, f->c1, "Back\\slash", NULL, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *got = found(f, &staff, 0, cases[i].q);
		if (strcmp(got, cases[i].want))
			fail_msg("q \"%s\": found \"%s\", want \"%s\"", cases[i].q, got, cases[i].want);
	}
	/* Without q, every contact in scope; client_id narrows. */
	assert_string_equal(found(f, &staff, f->c2, NULL), "Mary-Jane Watson");
	assert_string_equal(found(f, &staff, f->c2, "jane"), "Mary-Jane Watson");
	/* A client user searches their own organisation only. */
	assert_string_equal(found(f, &cu2, 0, "jane"), "Mary-Jane Watson");
	assert_string_equal(found(f, &cu2, 0, "555"), "");
	assert_string_equal(found(f, &cu2, f->c1, NULL), "");
}

/* Failed-login counters: fixed windows, counted in the store. */
static void test_throttle_counters(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct store_write w;
	unsigned char k1[32], k2[32];
	int64_t start = 0;
	int failures = 0;
	struct err e;

	memset(k1, 1, 32);
	memset(k2, 2, 32);
	assert_int_equal(store_throttle_get(f->st, k1, &start, &failures, &e), RC_NOTFOUND);
	for (int i = 0; i < 3; i++) {
		store_write_init(&w, W_THROTTLE, &sys);
		memcpy(w.in.throttle.key[0], k1, 32);
		memcpy(w.in.throttle.key[1], k2, 32);
		w.in.throttle.window_ms[0] = 1000;
		w.in.throttle.window_ms[1] = 10000;
		w.in.throttle.n = i == 2 ? 1 : 2;   /* the last counts k1 only */
		w.in.throttle.now = 5000 + i * 100;
		assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	}
	assert_int_equal(store_throttle_get(f->st, k1, &start, &failures, &e), RC_OK);
	assert_int_equal(start, 5000);
	assert_int_equal(failures, 3);
	assert_int_equal(store_throttle_get(f->st, k2, &start, &failures, &e), RC_OK);
	assert_int_equal(failures, 2);
	/* After k1's window ended: a new window of one failure. */
	store_write_init(&w, W_THROTTLE, &sys);
	memcpy(w.in.throttle.key[0], k1, 32);
	w.in.throttle.window_ms[0] = 1000;
	w.in.throttle.n = 1;
	w.in.throttle.now = 6000;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_throttle_get(f->st, k1, &start, &failures, &e), RC_OK);
	assert_int_equal(start, 6000);
	assert_int_equal(failures, 1);
}

/* A TOTP step is accepted once per user, by logins and enrolment alike. */
static void test_totp_step_once(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct store_write w;
	int64_t uid;

	store_write_init(&w, W_USER_CREATE, &sys);
	w.in.user = (struct user){ .email = "otp@p.test", .name = "OTP", .role = ROLE_DISPATCHER,
				   .active = true };
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	uid = w.id;
	for (int i = 0; i < 4; i++) {
		static const int64_t steps[] = { 100, 100, 99, 101 };
		static const enum result want[] = { RC_OK, RC_DENIED, RC_DENIED, RC_OK };
		store_write_init(&w, W_LOGIN, &sys);
		memset(w.in.session.id_hash, 'a' + i, 32);
		w.in.session.s.user_id = uid;
		w.in.session.s.created_at = 1000;
		w.in.session.s.expires_at = 999999999999;
		w.totp_step = steps[i];
		assert_int_equal(store_write_sync(f->st, &w), want[i]);
		if (want[i] == RC_DENIED)
			assert_string_equal(w.err.field, "totp");
	}
	/* Enrolment's confirmation with a used step: refused, nothing changed. */
	store_write_init(&w, W_USER_UPDATE, &sys);
	w.id = uid;
	w.fields = F_NAME;
	w.in.user.name = "Changed";
	w.totp_step = 101;
	assert_int_equal(store_write_sync(f->st, &w), RC_DENIED);
	w.totp_step = 102;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	/* A write without a step does not touch it. */
	w.totp_step = 0;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
}

int main(void)
{
	const char *want = getenv("U_STORE_PG");

	if (want && *want) {
		pg_base = getenv("ITSUP_TEST_PG");
		if (!pg_base || !strrchr(pg_base, '/')) {
			fprintf(stderr, "u-store-pg: ITSUP_TEST_PG is not set (run under scripts/with-pg)\n");
			return 1;
		}
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_requires_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pagination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sla_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totp_step_once, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
