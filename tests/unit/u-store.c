/* u-store.c: the store contract: tenancy in every read and write,
 * versions, idempotency, group commit under concurrency, the audit chain,
 * monitoring (enrolment, check-ins, rollups, retention, checks, alerts and
 * their events, maintenance windows, Alertmanager receivers), mail (tickets
 * filed from e-mail, attachments, the intake log, routes, templates,
 * webhooks, the outbox's deliveries), report schedules and their claim.
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
#include "base/clock.h"
#include "jobs/sla_track.h"
#include "store/pg.h"
#include "store/store.h"
#include "store_fx.h"

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

	if (!f || store_fx_open("u-store", pg_base, f->dir, sizeof(f->dir), f->path, sizeof(f->path),
				&f->st) != 0)
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
	int rc = store_fx_close(f->st, f->dir);

	arena_free(f->a);
	free(f);
	return rc;
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

/* ---- reports ------------------------------------------------------------------------ */

static int64_t mk_dated_closed(struct fx *f, int64_t client, int64_t created, int64_t resolved,
			       int64_t closed, bool breached)
{
	struct scope sys = scope_system();
	struct store_write w;
	struct ticket_write tw;

	memset(&tw, 0, sizeof(tw));
	tw.t.client_id = client;
	tw.t.subject = "dated";
	tw.t.description = "";
	tw.t.queue = "general";
	tw.t.category = client == f->c1 ? "printing" : NULL;
	tw.t.status = closed ? TS_CLOSED : resolved ? TS_RESOLVED : TS_OPEN;
	tw.t.closed_at = closed;
	tw.t.priority = PR_P2;
	tw.t.channel = CH_EMAIL;
	tw.t.tags = "[]";
	tw.t.tier = 1;
	tw.t.fcr = resolved ? 1 : -1;
	tw.t.created_at = tw.t.updated_at = tw.t.last_activity_at = created;
	tw.t.resolved_at = resolved;
	tw.t.tier_changes = 2;
	if (breached) {
		tw.t.sla.present = true;
		tw.t.sla.policy_id = 1;
		tw.t.sla.log = "";
		tw.t.sla.resolution_breached = true;
		tw.t.sla.response_ms = 60000;
		tw.t.sla.resolution_ms = 7200000;
		tw.t.sla.tier_ms[1] = 5000;
		tw.sla_set = true;
		tw.sla_gen = -1;
	}
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	return w.id;
}

static int64_t mk_dated(struct fx *f, int64_t client, int64_t created, int64_t resolved,
			bool breached)
{
	return mk_dated_closed(f, client, created, resolved, 0, breached);
}

/* The tickets a report of [lo, hi) reads: created before hi and not
 * resolved before lo, scoped, by id in pages, with the stored figures. */
static void test_report_tickets(void **state)
{
	struct fx *f = *state;
	struct scope staff = scope_for(1, ROLE_DISPATCHER, 0, 0);
	struct scope c2admin = scope_for(99, ROLE_CLIENT_ADMIN, 0, f->c2);
	struct report_ticket rows[8];
	size_t n;
	struct err e;
	int64_t t1, t2, t4, t5;

	t1 = mk_dated(f, f->c1, 100, 0, false);          /* open through the period */
	t2 = mk_dated(f, f->c1, 100, 150, true);         /* resolved inside it */
	mk_dated(f, f->c1, 300, 0, false);               /* created after hi */
	mk_dated(f, f->c1, 10, 20, false);               /* resolved before lo */
	t4 = mk_dated_closed(f, f->c1, 10, 20, 150, false); /* ... but closed inside */
	t5 = mk_dated(f, f->c2, 120, 0, false);
	assert_int_equal(store_report_tickets(f->st, &staff, 0, 100, 200, 0, 8, f->a, rows, &n, &e),
			 RC_OK);
	assert_int_equal(n, 4);
	assert_int_equal(rows[0].id, t1);
	assert_int_equal(rows[1].id, t2);
	assert_int_equal(rows[2].id, t4);
	assert_int_equal(rows[2].closed_at, 150);
	assert_int_equal(rows[3].id, t5);
	/* The stored figures come through as they are. */
	assert_int_equal(rows[1].created_at, 100);
	assert_int_equal(rows[1].resolved_at, 150);
	assert_int_equal(rows[1].priority, PR_P2);
	assert_int_equal(rows[1].channel, CH_EMAIL);
	assert_string_equal(rows[1].category, "printing");
	assert_true(rows[1].has_policy);
	assert_true(rows[1].resolution_breached);
	assert_false(rows[1].response_breached);
	assert_int_equal(rows[1].response_ms, 60000);
	assert_int_equal(rows[1].resolution_ms, 7200000);
	assert_int_equal(rows[1].tier_ms[1], 5000);
	assert_int_equal(rows[1].fcr, 1);
	assert_int_equal(rows[1].tier_changes, 2);
	assert_false(rows[0].has_policy);
	assert_int_equal(rows[0].fcr, -1);
	assert_int_equal(rows[0].resolved_at, 0);
	assert_null(rows[3].category);
	/* One client; pages. */
	assert_int_equal(store_report_tickets(f->st, &staff, f->c1, 100, 200, 0, 8, f->a, rows, &n, &e),
			 RC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_report_tickets(f->st, &staff, 0, 100, 200, 0, 1, f->a, rows, &n, &e),
			 RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_report_tickets(f->st, &staff, 0, 100, 200, rows[0].id, 8, f->a, rows,
					      &n, &e), RC_OK);
	assert_int_equal(n, 3);
	/* A client's scope sees its own, whatever it asks for. */
	assert_int_equal(store_report_tickets(f->st, &c2admin, 0, 100, 200, 0, 8, f->a, rows, &n, &e),
			 RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].id, t5);
	assert_int_equal(store_report_tickets(f->st, &c2admin, f->c1, 100, 200, 0, 8, f->a, rows, &n,
					      &e), RC_OK);
	assert_int_equal(n, 0);
}

/* A ticket of client with one time entry by user (minutes, billable,
 * started). */
static int64_t mk_timed(struct fx *f, int64_t client, int64_t user, int minutes, bool billable,
			int64_t started)
{
	struct scope sys = scope_system();
	struct store_write w;
	struct ticket_write tw;

	memset(&tw, 0, sizeof(tw));
	tw.t.client_id = client;
	tw.t.subject = "timed";
	tw.t.description = "";
	tw.t.queue = "general";
	tw.t.tags = "[]";
	tw.t.tier = 1;
	tw.t.fcr = -1;
	tw.t.created_at = tw.t.updated_at = tw.t.last_activity_at = 100;
	tw.has_te = true;
	tw.te.user_id = user;
	tw.te.minutes = minutes;
	tw.te.billable = billable;
	tw.te.started_at = started;
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	return w.id;
}

static void mk_csat(struct fx *f, int64_t ticket, int64_t client, int rating, const char *comment)
{
	struct scope sys = scope_system();
	struct store_write w;
	struct ticket_write tw;

	memset(&tw, 0, sizeof(tw));
	tw.t.id = ticket;
	tw.t.client_id = client;
	tw.csat_rating = rating;
	tw.csat_comment = comment;
	store_write_init(&w, W_CSAT, &sys);
	w.in.tw = &tw;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
}

/* CSAT answers of [lo, hi) (stamped now by the store), scoped, by ticket
 * id in pages; hours summed by the logger's tier and billable. */
static void test_report_csat_hours(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope staff = scope_for(1, ROLE_DISPATCHER, 0, 0);
	struct scope c2admin = scope_for(99, ROLE_CLIENT_ADMIN, 0, f->c2);
	struct report_csat cs[8];
	struct report_hours_row hr[8];
	struct store_write w;
	int64_t tech, disp, t1, t2, t3, lo, hi;
	size_t n;
	struct err e;

	store_write_init(&w, W_USER_CREATE, &sys);
	w.in.user = (struct user){ .email = "t2@p.test", .name = "T2", .role = ROLE_TECHNICIAN,
				   .tier = 2, .active = true };
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	tech = w.id;
	store_write_init(&w, W_USER_CREATE, &sys);
	w.in.user = (struct user){ .email = "d@p.test", .name = "D", .role = ROLE_DISPATCHER,
				   .active = true };
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	disp = w.id;

	/* Hours: started in [1000, 2000) count; 30+15 billable tier 2, 20 not
	 * billable tier 2, 10 billable no tier; c2's 7 only for all clients. */
	t1 = mk_timed(f, f->c1, tech, 30, true, 1000);
	t2 = mk_timed(f, f->c1, tech, 20, false, 1500);
	t3 = mk_timed(f, f->c1, disp, 10, true, 1999);
	mk_timed(f, f->c1, tech, 15, true, 1200);
	mk_timed(f, f->c1, tech, 40, true, 2000);        /* at hi: out */
	mk_timed(f, f->c1, tech, 50, true, 999);         /* before lo: out */
	mk_timed(f, f->c2, tech, 7, false, 1100);
	assert_int_equal(store_report_hours(f->st, &staff, f->c1, 1000, 2000, f->a, hr, 8, &n, &e),
			 RC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(hr[0].tier, 0);
	assert_true(hr[0].billable);
	assert_int_equal(hr[0].minutes, 10);
	assert_int_equal(hr[1].tier, 2);
	assert_false(hr[1].billable);
	assert_int_equal(hr[1].minutes, 20);
	assert_int_equal(hr[2].tier, 2);
	assert_true(hr[2].billable);
	assert_int_equal(hr[2].minutes, 45);
	assert_int_equal(store_report_hours(f->st, &staff, 0, 1000, 2000, f->a, hr, 8, &n, &e), RC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(hr[1].minutes, 27);
	assert_int_equal(store_report_hours(f->st, &c2admin, 0, 1000, 2000, f->a, hr, 8, &n, &e),
			 RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(hr[0].tier, 2);
	assert_false(hr[0].billable);
	assert_int_equal(hr[0].minutes, 7);
	assert_int_equal(store_report_hours(f->st, &c2admin, f->c1, 1000, 2000, f->a, hr, 8, &n, &e),
			 RC_OK);
	assert_int_equal(n, 0);

	/* CSAT: stamped with the clock, so the window is around the writes. */
	lo = clock_now_ms();
	mk_csat(f, t3, f->c1, 2, NULL);
	mk_csat(f, t1, f->c1, 5, "great");
	mk_csat(f, t2, f->c1, 4, "");
	hi = clock_now_ms() + 1;
	assert_int_equal(store_report_csat(f->st, &staff, 0, lo, hi, 0, 8, f->a, cs, &n, &e), RC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(cs[0].ticket_id, t1);
	assert_int_equal(cs[0].rating, 5);
	assert_string_equal(cs[0].comment, "great");
	assert_true(cs[0].number > 0);
	assert_true(cs[0].created_at >= lo && cs[0].created_at < hi);
	assert_int_equal(cs[1].ticket_id, t2);
	assert_int_equal(cs[2].ticket_id, t3);
	assert_int_equal(cs[2].rating, 2);
	assert_null(cs[2].comment);
	/* Pages by ticket id. */
	assert_int_equal(store_report_csat(f->st, &staff, 0, lo, hi, 0, 2, f->a, cs, &n, &e), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_report_csat(f->st, &staff, 0, lo, hi, cs[1].ticket_id, 2, f->a, cs,
					   &n, &e), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cs[0].ticket_id, t3);
	/* Outside the window; another client's scope; a client filter. */
	assert_int_equal(store_report_csat(f->st, &staff, 0, hi, hi + 1000, 0, 8, f->a, cs, &n, &e),
			 RC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_report_csat(f->st, &staff, 0, lo - 1000, lo, 0, 8, f->a, cs, &n, &e),
			 RC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_report_csat(f->st, &c2admin, 0, lo, hi, 0, 8, f->a, cs, &n, &e), RC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_report_csat(f->st, &staff, f->c2, lo, hi, 0, 8, f->a, cs, &n, &e),
			 RC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_report_csat(f->st, &staff, f->c1, lo, hi, 0, 8, f->a, cs, &n, &e),
			 RC_OK);
	assert_int_equal(n, 3);
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

/* ---- monitoring (issue 7) ------------------------------------------------------------ */

/* An hour boundary (UTC ms) the monitoring tests count from. */
#define H0 ((int64_t)472222 * 3600000)
#define M_MS 60000
#define H_MS 3600000

static int64_t mk_etok(struct fx *f, int64_t client, int seed, int64_t expires, int64_t max_uses)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_ENROLL_TOKEN_CREATE, &sys);
	w.in.etok.row.client_id = client;
	w.in.etok.row.name = "rack";
	w.in.etok.row.expires_at = expires;
	w.in.etok.row.max_uses = max_uses;
	memset(w.in.etok.hash, seed, 32);
	w.audit.action = "enroll_token.create";
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_true(w.id > 0);
	return w.id;
}

static enum result enroll(struct fx *f, int tok_seed, int dev_seed, const char *host, int64_t now,
			  int64_t *id, struct store_write *out)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_DEVICE_ENROLL, &sys);
	memset(w.in.enroll.token_hash, tok_seed, 32);
	memset(w.in.enroll.device_hash, dev_seed, 32);
	w.in.enroll.hostname = host;
	w.in.enroll.os = "Debian GNU/Linux 12";
	w.in.enroll.inventory = "{\"cpus\":4}";
	w.in.enroll.now = now;
	store_write_sync(f->st, &w);
	if (id)
		*id = w.id;
	if (out)
		*out = w;
	return w.rc;
}

/* A device of client enrolled with a token of its own (seed). */
static int64_t mk_device(struct fx *f, int64_t client, int seed, const char *host)
{
	int64_t id;

	mk_etok(f, client, seed, 0, 0);
	assert_int_equal(enroll(f, seed, seed + 100, host, H0, &id, NULL), RC_OK);
	return id;
}

static enum result checkin(struct fx *f, int64_t device, int64_t client, int64_t batch,
			   struct sample *s, size_t n, int64_t now, struct checkin_write *ci)
{
	struct scope sys = scope_system();
	struct store_write w;

	memset(ci, 0, sizeof(*ci));
	ci->device_id = device;
	ci->client_id = client;
	ci->batch_id = batch;
	ci->now = now;
	ci->samples = s;
	ci->n = n;
	ci->latest = "{\"cpu.used_percent\":[12.5,1]}";
	store_write_init(&w, W_CHECKIN, &sys);
	w.in.checkin = ci;
	return store_write_sync(f->st, &w);
}

static void checkin_ok(struct fx *f, int64_t device, int64_t client, int64_t batch,
		       struct sample *s, size_t n, size_t stored)
{
	struct checkin_write ci;

	assert_int_equal(checkin(f, device, client, batch, s, n, s[0].at, &ci), RC_OK);
	assert_false(ci.duplicate);
	assert_int_equal(ci.stored, stored);
}

static bool rollup(struct fx *f, int64_t upto, int64_t span)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_MONITOR_ROLLUP, &sys);
	w.in.rollup.upto = upto;
	w.in.rollup.max_span = span;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	return w.in.rollup.more;
}

static struct series_points points(struct fx *f, int64_t device, const char *name, const char *labels,
				   int64_t step)
{
	struct scope sys = scope_system();
	struct series_points p;
	struct err e;

	assert_int_equal(store_series_points(f->st, &sys, device, name, labels, step, 0, f->a, &p, &e),
			 RC_OK);
	return p;
}

static void assert_point(const struct series_points *p, size_t i, int64_t at, double avg, double min,
			 double max)
{
	assert_true(i < p->n);
	assert_int_equal(p->items[i].at, at);
	assert_true(p->items[i].avg == avg);
	assert_true(p->items[i].min == min);
	assert_true(p->items[i].max == max);
}

/* Enrolment: a valid token makes a device of its client, once per use;
 * revoked, expired, used-up and unknown tokens are refused alike. */
static void test_monitor_enroll(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope ca1 = scope_for(3, ROLE_CLIENT_ADMIN, 0, f->c1);
	struct scope ca2 = scope_for(4, ROLE_CLIENT_ADMIN, 0, f->c2);
	struct store_write w, out;
	struct enroll_token_row *toks;
	struct device d;
	struct device_list dl;
	struct list_q lq = { 0 };
	unsigned char h[32];
	size_t n;
	struct err e;
	int64_t t1, dev, id, found;

	t1 = mk_etok(f, f->c1, 1, H0 + H_MS, 2);
	mk_etok(f, f->c1, 2, 0, 0);
	mk_etok(f, f->c2, 3, H0 - 1, 0);                 /* expired */
	/* Only staff make tokens. */
	store_write_init(&w, W_ENROLL_TOKEN_CREATE, &ca1);
	w.in.etok.row.client_id = f->c1;
	w.in.etok.row.name = "mine";
	memset(w.in.etok.hash, 9, 32);
	assert_int_equal(store_write_sync(f->st, &w), RC_DENIED);

	assert_int_equal(enroll(f, 1, 0x41, "web-01", H0, &dev, &out), RC_OK);
	assert_true(dev > 0);
	assert_int_equal(out.in.enroll.client_id, f->c1);
	assert_int_equal(enroll(f, 1, 0x42, "web-02", H0 + 1, &id, NULL), RC_OK);
	/* Used up (max_uses 2). */
	assert_int_equal(enroll(f, 1, 0x43, "web-03", H0 + 2, NULL, &out), RC_DENIED);
	assert_string_equal(out.err.field, "enroll_token");
	/* Expired; unknown. */
	assert_int_equal(enroll(f, 3, 0x44, "x", H0, NULL, &out), RC_DENIED);
	assert_string_equal(out.err.field, "enroll_token");
	assert_int_equal(enroll(f, 77, 0x45, "x", H0, NULL, &out), RC_DENIED);
	assert_string_equal(out.err.field, "enroll_token");
	/* Revoked: once; then not found. */
	store_write_init(&w, W_ENROLL_TOKEN_REVOKE, &sys);
	w.id = t1 + 1;
	w.in.etok.row.client_id = f->c1;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_write_sync(f->st, &w), RC_NOTFOUND);
	assert_int_equal(enroll(f, 2, 0x46, "x", H0, NULL, &out), RC_DENIED);
	assert_string_equal(out.err.field, "enroll_token");

	assert_int_equal(store_enroll_token_list(f->st, &sys, f->c1, f->a, &toks, &n, &e), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(toks[0].id, t1);
	assert_int_equal(toks[0].uses, 2);
	assert_int_equal(toks[0].max_uses, 2);
	assert_int_equal(toks[0].expires_at, H0 + H_MS);
	assert_string_equal(toks[0].name, "rack");
	assert_true(toks[1].revoked_at > 0);
	assert_int_equal(store_enroll_token_list(f->st, &ca2, f->c1, f->a, &toks, &n, &e), RC_OK);
	assert_int_equal(n, 0);

	/* The device token is the agent's identity. */
	memset(h, 0x41, 32);
	assert_int_equal(store_device_auth(f->st, h, f->a, &d, &e), RC_OK);
	assert_int_equal(d.id, dev);
	assert_int_equal(d.client_id, f->c1);
	assert_int_equal(d.enroll_token_id, t1);
	assert_string_equal(d.hostname, "web-01");
	assert_string_equal(d.os, "Debian GNU/Linux 12");
	assert_string_equal(d.inventory, "{\"cpus\":4}");
	assert_int_equal(d.inventory_at, H0);
	assert_null(d.latest);
	assert_true(d.active);
	assert_int_equal(d.version, 1);
	memset(h, 0x43, 32);
	assert_int_equal(store_device_auth(f->st, h, f->a, &d, &e), RC_NOTFOUND);

	/* Scoped reads. */
	assert_int_equal(store_device_get(f->st, &ca1, dev, f->a, &d, &e), RC_OK);
	assert_int_equal(store_device_get(f->st, &ca2, dev, f->a, &d, &e), RC_NOTFOUND);
	assert_int_equal(store_device_list(f->st, &ca2, &lq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 0);
	lq.limit = 1;
	assert_int_equal(store_device_list(f->st, &ca1, &lq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].id, dev);
	assert_int_equal(dl.next_after, dev);
	lq.after = dev;
	assert_int_equal(store_device_list(f->st, &ca1, &lq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].id, id);
	assert_int_equal(dl.next_after, 0);
	assert_int_equal(store_device_by_host(f->st, f->c1, "WEB-02", &found, &e), RC_OK);
	assert_int_equal(found, id);
	assert_int_equal(store_device_by_host(f->st, f->c2, "web-02", &found, &e), RC_NOTFOUND);
	assert_int_equal(store_client_by_name(f->st, "Borealis", &found, &e), RC_OK);
	assert_int_equal(found, f->c2);
	assert_int_equal(store_client_by_name(f->st, "borealis", &found, &e), RC_NOTFOUND);

	/* Deactivated (staff only, versioned): not silent, not by host. */
	store_write_init(&w, W_DEVICE_UPDATE, &ca1);
	w.id = id;
	w.fields = F_ACTIVE;
	assert_int_equal(store_write_sync(f->st, &w), RC_DENIED);
	store_write_init(&w, W_DEVICE_UPDATE, &sys);
	w.id = id;
	w.fields = F_ACTIVE;
	w.in.device.active = false;
	w.if_version = 1;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(w.version, 2);
	assert_int_equal(store_write_sync(f->st, &w), RC_STALE);
	assert_int_equal(store_device_by_host(f->st, f->c1, "web-02", &found, &e), RC_NOTFOUND);
	assert_int_equal(store_devices_silent(f->st, H0 + 10, 10, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].id, dev);
	assert_int_equal(store_devices_silent(f->st, H0, 10, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 0);
}

/* A check-in: its batch stored once, its samples in series, the device's
 * latest readings and last contact. */
static void test_monitor_checkin(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope ca2 = scope_for(4, ROLE_CLIENT_ADMIN, 0, f->c2);
	int64_t dev = mk_device(f, f->c1, 1, "db-01");
	struct sample s[] = {
		{ "cpu.used_percent", "", 12.5, H0 + 5 * M_MS },
		{ "disk.used_percent", "{\"mount\":\"/\"}", 0.1, H0 + 5 * M_MS },
		{ "disk.used_percent", "{\"mount\":\"/var\"}", -1e-300, H0 + 5 * M_MS },
		/* the same series and instant again: the first one counts */
		{ "cpu.used_percent", "", 99, H0 + 5 * M_MS },
	};
	struct checkin_write ci;
	struct series_points p;
	struct device d;
	struct err e;

	assert_int_equal(checkin(f, dev, f->c1, 1, s, 4, H0 + 5 * M_MS + 500, &ci), RC_OK);
	assert_false(ci.duplicate);
	assert_int_equal(ci.stored, 3);
	/* The same batch again (the agent's answer was lost): nothing more. */
	assert_int_equal(checkin(f, dev, f->c1, 1, s, 4, H0 + 6 * M_MS, &ci), RC_OK);
	assert_true(ci.duplicate);
	assert_int_equal(ci.stored, 0);
	/* Another batch with a sample already there: not stored twice. */
	assert_int_equal(checkin(f, dev, f->c1, 2, s, 1, H0 + 7 * M_MS, &ci), RC_OK);
	assert_false(ci.duplicate);
	assert_int_equal(ci.stored, 0);

	assert_int_equal(store_device_get(f->st, &sys, dev, f->a, &d, &e), RC_OK);
	assert_string_equal(d.latest, "{\"cpu.used_percent\":[12.5,1]}");
	assert_int_equal(d.last_seen_at, H0 + 7 * M_MS);
	assert_string_equal(d.inventory, "{\"cpus\":4}");
	/* last contact never goes back */
	assert_int_equal(checkin(f, dev, f->c1, 3, s, 0, H0, &ci), RC_OK);
	assert_int_equal(store_device_get(f->st, &sys, dev, f->a, &d, &e), RC_OK);
	assert_int_equal(d.last_seen_at, H0 + 7 * M_MS);

	/* Rolled up: each sample once, values exactly as sent. */
	rollup(f, H0 + 30 * M_MS, 0);
	p = points(f, dev, "cpu.used_percent", "", M_MS);
	assert_int_equal(p.n, 1);
	assert_point(&p, 0, H0 + 5 * M_MS, 12.5, 12.5, 12.5);
	p = points(f, dev, "disk.used_percent", "{\"mount\":\"/\"}", M_MS);
	assert_int_equal(p.n, 1);
	assert_point(&p, 0, H0 + 5 * M_MS, 0.1, 0.1, 0.1);
	p = points(f, dev, "disk.used_percent", "{\"mount\":\"/var\"}", M_MS);
	assert_int_equal(p.n, 1);
	assert_point(&p, 0, H0 + 5 * M_MS, -1e-300, -1e-300, -1e-300);
	/* Another tenant does not see the device's series. */
	assert_int_equal(store_series_points(f->st, &ca2, dev, "cpu.used_percent", "", M_MS, 0, f->a,
					     &p, &e), RC_NOTFOUND);
}

/* Raw samples roll up to minutes and minutes to hours; a sample that
 * arrives for a minute or an hour already rolled up is merged into it. */
static void test_monitor_rollup(void **state)
{
	struct fx *f = *state;
	int64_t dev = mk_device(f, f->c1, 1, "app-01");
	struct sample s1[] = {
		{ "load", "", 10, H0 + 5 * M_MS + 1000 },
		{ "load", "", 20, H0 + 5 * M_MS + 30000 },
		{ "load", "", 30, H0 + 6 * M_MS },
		{ "load", "", 40, H0 + 65 * M_MS },
	};
	struct sample late1[] = { { "load", "", 5, H0 + 5 * M_MS + 45000 } };
	struct sample late2[] = { { "load", "", 100, H0 + 10 * M_MS } };
	struct sample later[] = { { "load", "", 1, H0 + 4 * H_MS + 5 * M_MS } };
	struct series_points p;
	int rounds = 0;

	checkin_ok(f, dev, f->c1, 1, s1, 4, 4);
	/* Minutes up to H0 + 30 min; no whole hour yet. */
	assert_false(rollup(f, H0 + 30 * M_MS + 17, 0));
	p = points(f, dev, "load", "", M_MS);
	assert_int_equal(p.n, 2);
	assert_point(&p, 0, H0 + 5 * M_MS, 15, 10, 20);
	assert_point(&p, 1, H0 + 6 * M_MS, 30, 30, 30);
	assert_int_equal(points(f, dev, "load", "", H_MS).n, 0);

	/* Late for a minute rolled up: merged into it. */
	checkin_ok(f, dev, f->c1, 2, late1, 1, 1);
	p = points(f, dev, "load", "", M_MS);
	assert_int_equal(p.n, 2);
	assert_point(&p, 0, H0 + 5 * M_MS, 35.0 / 3, 5, 20);

	/* Two hours on: the minutes after H0 + 30 min, then the hours. */
	assert_false(rollup(f, H0 + 2 * H_MS, 0));
	p = points(f, dev, "load", "", M_MS);
	assert_int_equal(p.n, 3);
	assert_point(&p, 2, H0 + 65 * M_MS, 40, 40, 40);
	p = points(f, dev, "load", "", H_MS);
	assert_int_equal(p.n, 2);
	assert_point(&p, 0, H0, 65.0 / 4, 5, 30);
	assert_point(&p, 1, H0 + H_MS, 40, 40, 40);

	/* Late for an hour rolled up: into the minute and the hour. */
	checkin_ok(f, dev, f->c1, 3, late2, 1, 1);
	p = points(f, dev, "load", "", M_MS);
	assert_int_equal(p.n, 4);
	assert_point(&p, 0, H0 + 5 * M_MS, 35.0 / 3, 5, 20);
	assert_point(&p, 2, H0 + 10 * M_MS, 100, 100, 100);
	assert_point(&p, 3, H0 + 65 * M_MS, 40, 40, 40);
	p = points(f, dev, "load", "", H_MS);
	assert_point(&p, 0, H0, 165.0 / 5, 5, 100);

	/* A long way in steps of at most max_span: "more" until done. */
	checkin_ok(f, dev, f->c1, 4, later, 1, 1);
	while (rollup(f, H0 + 5 * H_MS, H_MS))
		rounds++;
	assert_int_equal(rounds, 2);
	p = points(f, dev, "load", "", H_MS);
	assert_int_equal(p.n, 3);
	assert_point(&p, 2, H0 + 4 * H_MS, 1, 1, 1);
	/* Not rolled up again: the same points. */
	assert_false(rollup(f, H0 + 5 * H_MS, H_MS));
	p = points(f, dev, "load", "", H_MS);
	assert_int_equal(p.n, 3);
	assert_point(&p, 0, H0, 165.0 / 5, 5, 100);
}

/* The first rollup of a store with hours of raw samples behind it rolls
 * those hours up to 1h too (whatever its span). */
static void test_monitor_rollup_first_hours(void **state)
{
	struct fx *f = *state;
	int64_t dev = mk_device(f, f->c1, 1, "app-02");
	struct sample s[] = {
		{ "load", "", 1, H0 + 5 * M_MS },
		{ "load", "", 2, H0 + H_MS + 5 * M_MS },
		{ "load", "", 3, H0 + 2 * H_MS + 5 * M_MS },
	};
	struct series_points p;

	checkin_ok(f, dev, f->c1, 1, s, 3, 3);
	assert_false(rollup(f, H0 + 3 * H_MS + 10 * M_MS, 6 * H_MS));
	assert_int_equal(points(f, dev, "load", "", M_MS).n, 3);
	p = points(f, dev, "load", "", H_MS);
	assert_int_equal(p.n, 3);
	assert_point(&p, 0, H0, 1, 1, 1);
	assert_point(&p, 2, H0 + 2 * H_MS, 3, 3, 3);
}

/* Retention deletes history older than each table's limit, in chunks
 * ("more" until done); a batch id is forgotten with its samples. */
static void test_monitor_retention(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	int64_t dev = mk_device(f, f->c1, 1, "old-01");
	struct sample old[] = { { "load", "", 7, H0 + M_MS } };
	struct sample recent[] = { { "load", "", 8, H0 + 3 * H_MS + M_MS } };
	struct checkin_write ci;
	struct store_write w;
	struct series_points p;

	checkin_ok(f, dev, f->c1, 1, old, 1, 1);
	checkin_ok(f, dev, f->c1, 2, recent, 1, 1);
	rollup(f, H0 + 30 * M_MS, 0);
	rollup(f, H0 + 4 * H_MS, 0);
	assert_int_equal(points(f, dev, "load", "", M_MS).n, 2);
	assert_int_equal(points(f, dev, "load", "", H_MS).n, 2);

	store_write_init(&w, W_MONITOR_RETAIN, &sys);
	w.in.retain.raw_before = H0 + 2 * H_MS;
	w.in.retain.m1_before = H0 + 2 * H_MS;
	w.in.retain.h1_before = H0 + H_MS;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_true(w.in.retain.more);     /* raw: an hour a write */
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_false(w.in.retain.more);
	p = points(f, dev, "load", "", M_MS);
	assert_int_equal(p.n, 1);
	assert_point(&p, 0, H0 + 3 * H_MS + M_MS, 8, 8, 8);
	p = points(f, dev, "load", "", H_MS);
	assert_int_equal(p.n, 1);
	assert_point(&p, 0, H0 + 3 * H_MS, 8, 8, 8);
	/* The old batch and its sample are gone: taken again; the recent
	 * one is still known. */
	assert_int_equal(checkin(f, dev, f->c1, 1, old, 1, H0 + M_MS, &ci), RC_OK);
	assert_false(ci.duplicate);
	assert_int_equal(ci.stored, 1);
	assert_int_equal(checkin(f, dev, f->c1, 2, recent, 1, H0 + 3 * H_MS + M_MS, &ci), RC_OK);
	assert_true(ci.duplicate);
}

/* A check-in that fails after making a series (its alert step refused)
 * leaves nothing behind, not even in the writer's cache of series ids:
 * the next series made gets its own id and keeps its own samples. */
static int refuse_step(void *arg, size_t i, struct alert *a, double *value, bool *has_value)
{
	UNUSED(arg);
	UNUSED(i);
	UNUSED(a);
	UNUSED(value);
	UNUSED(has_value);
	return -1;
}

static void test_monitor_failed_checkin_forgets_series(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	int64_t a = mk_device(f, f->c1, 1, "a"), b = mk_device(f, f->c1, 2, "b");
	struct sample sa[] = { { "only.a", "", 1, H0 + M_MS } };
	struct sample sb[] = { { "only.b", "", 2, H0 + M_MS } };
	struct sample sa2[] = { { "only.a", "", 3, H0 + 2 * M_MS } };
	struct alert_pair pair = { 0, f->c1, a, 0, "k", "check", "x", "", NULL };
	struct checkin_write ci;
	struct store_write w;
	struct series_points p;

	memset(&ci, 0, sizeof(ci));
	ci.device_id = a;
	ci.client_id = f->c1;
	ci.batch_id = 1;
	ci.now = H0 + M_MS;
	ci.samples = sa;
	ci.n = 1;
	ci.latest = "{}";
	ci.steps.items = &pair;
	ci.steps.n = 1;
	ci.steps.fn = refuse_step;
	ci.steps.now = H0 + M_MS;
	store_write_init(&w, W_CHECKIN, &sys);
	w.in.checkin = &ci;
	assert_int_equal(store_write_sync(f->st, &w), RC_CONFLICT);
	assert_string_equal(w.err.field, "alert");
	checkin_ok(f, b, f->c1, 1, sb, 1, 1);
	checkin_ok(f, a, f->c1, 1, sa2, 1, 1);   /* batch 1 was not kept either */
	rollup(f, H0 + 30 * M_MS, 0);
	p = points(f, b, "only.b", "", M_MS);
	assert_int_equal(p.n, 1);
	assert_point(&p, 0, H0 + M_MS, 2, 2, 2);
	p = points(f, a, "only.a", "", M_MS);
	assert_int_equal(p.n, 1);
	assert_point(&p, 0, H0 + 2 * M_MS, 3, 3, 3);
}

static struct check_row check_of(int64_t client, int64_t device, const char *name)
{
	struct check_row c = { 0 };

	c.client_id = client;
	c.device_id = device;
	c.name = name;
	c.metric = "disk.used_percent";
	c.labels = "{\"mount\":\"/\"}";
	c.impact = "high";
	c.enabled = true;
	c.rule.cmp = CMP_GE;
	c.rule.has_crit = true;
	c.rule.crit = 90.5;
	c.rule.hysteresis = 2.25;
	c.rule.for_ms = 600000;
	c.rule.flap_changes = 4;
	c.rule.flap_window_ms = 3600000;
	return c;
}

static enum result put_check(struct fx *f, const struct scope *sc, struct check_row c, int64_t ver,
			     int64_t *id)
{
	struct store_write w;

	store_write_init(&w, W_CHECK_PUT, sc);
	w.in.check = c;
	w.if_version = ver;
	w.audit.action = "check.put";
	store_write_sync(f->st, &w);
	if (id)
		*id = w.id;
	return w.rc;
}

/* Checks: staff manage them; a client sees its own and the global ones;
 * every new client gets the three defaults. */
static void test_monitor_checks(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope cu1 = scope_for(2, ROLE_CLIENT_USER, 0, f->c1);
	int64_t dev2 = mk_device(f, f->c2, 1, "c2-host");
	struct check_row c;
	struct check_list l;
	struct store_write w;
	struct err e;
	int64_t own, global, other, c3;
	size_t base;

	/* The defaults of a new client, in the write that made it. */
	assert_int_equal(mk_client(f->st, &sys, "Cygnus", &c3), RC_OK);
	assert_int_equal(store_check_list(f->st, &sys, c3, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[0].name, "Disk full");
	assert_string_equal(l.items[0].metric, "disk.used_percent");
	assert_true(l.items[0].rule.has_crit && l.items[0].rule.crit == 90);
	assert_false(l.items[0].rule.has_warn);
	assert_true(l.items[0].rule.hysteresis == 2);
	assert_string_equal(l.items[1].name, "Memory exhausted");
	assert_int_equal(l.items[1].rule.for_ms, 600000);
	assert_string_equal(l.items[2].name, "Offline");
	assert_string_equal(l.items[2].impact, "high");
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(l.items[i].client_id, c3);
		assert_int_equal(l.items[i].device_id, 0);
		assert_true(l.items[i].enabled);
		assert_int_equal(l.items[i].version, 1);
	}
	assert_int_equal(store_check_list(f->st, &cu1, 0, f->a, &l, &e), RC_OK);
	base = l.n;
	assert_int_equal(base, 3);

	assert_int_equal(put_check(f, &sys, check_of(f->c1, 0, "own"), 0, &own), RC_OK);
	assert_int_equal(put_check(f, &sys, check_of(0, 0, "global"), 0, &global), RC_OK);
	assert_int_equal(put_check(f, &sys, check_of(f->c2, dev2, "other"), 0, &other), RC_OK);
	/* Only staff; a device of another client; a client that is not one. */
	assert_int_equal(put_check(f, &cu1, check_of(f->c1, 0, "mine"), 0, NULL), RC_DENIED);
	assert_int_equal(put_check(f, &sys, check_of(f->c1, dev2, "cross"), 0, NULL), RC_INVALID);
	assert_int_equal(put_check(f, &sys, check_of(999999, 0, "ghost"), 0, NULL), RC_INVALID);

	assert_int_equal(store_check_get(f->st, &cu1, own, f->a, &c, &e), RC_OK);
	assert_string_equal(c.name, "own");
	assert_string_equal(c.labels, "{\"mount\":\"/\"}");
	assert_string_equal(c.impact, "high");
	assert_int_equal(c.rule.cmp, CMP_GE);
	assert_false(c.rule.has_warn);
	assert_true(c.rule.crit == 90.5);
	assert_true(c.rule.hysteresis == 2.25);
	assert_int_equal(c.rule.for_ms, 600000);
	assert_int_equal(c.rule.flap_changes, 4);
	assert_int_equal(c.rule.flap_window_ms, 3600000);
	assert_int_equal(store_check_get(f->st, &cu1, global, f->a, &c, &e), RC_OK);
	assert_int_equal(c.client_id, 0);
	assert_int_equal(store_check_get(f->st, &cu1, other, f->a, &c, &e), RC_NOTFOUND);
	assert_int_equal(store_check_get(f->st, &sys, other, f->a, &c, &e), RC_OK);
	assert_int_equal(c.device_id, dev2);

	assert_int_equal(store_check_list(f->st, &cu1, 0, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, base + 2);
	for (size_t i = 0; i < l.n; i++)
		assert_true(l.items[i].client_id == f->c1 || l.items[i].client_id == 0);
	assert_int_equal(store_check_list(f->st, &cu1, f->c2, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 1);                      /* the global one only */
	assert_int_equal(l.items[0].id, global);
	assert_int_equal(store_check_list(f->st, &sys, f->c2, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 3 + 1 + 1);
	assert_int_equal(store_check_list_all(f->st, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 3 * 3 + 3);
	assert_int_equal(l.items[0].id, global);      /* the global ones first */

	/* Versioned updates: warn set, the old version refused. */
	c = check_of(f->c1, 0, "own, renamed");
	c.id = own;
	c.rule.has_warn = true;
	c.rule.warn = 80;
	assert_int_equal(put_check(f, &sys, c, 1, NULL), RC_OK);
	assert_int_equal(put_check(f, &sys, c, 1, NULL), RC_STALE);
	c.id = 999999;
	assert_int_equal(put_check(f, &sys, c, 0, NULL), RC_NOTFOUND);
	assert_int_equal(store_check_get(f->st, &sys, own, f->a, &c, &e), RC_OK);
	assert_string_equal(c.name, "own, renamed");
	assert_true(c.rule.has_warn && c.rule.warn == 80);
	assert_int_equal(c.version, 2);

	store_write_init(&w, W_CHECK_DELETE, &cu1);
	w.id = own;
	assert_int_equal(store_write_sync(f->st, &w), RC_DENIED);
	store_write_init(&w, W_CHECK_DELETE, &sys);
	w.id = own;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_write_sync(f->st, &w), RC_NOTFOUND);
	assert_int_equal(store_check_get(f->st, &sys, own, f->a, &c, &e), RC_NOTFOUND);

	/* A device's check without a client: the device's client. */
	assert_int_equal(put_check(f, &sys, check_of(0, dev2, "by device"), 0, &own), RC_OK);
	assert_int_equal(store_check_get(f->st, &sys, own, f->a, &c, &e), RC_OK);
	assert_int_equal(c.client_id, f->c2);
	assert_int_equal(c.device_id, dev2);
	assert_int_equal(put_check(f, &sys, check_of(0, 999999, "no device"), 0, NULL), RC_INVALID);
}

/* A test step: a sample of the rule (mode 0), an acknowledgement (1). */
struct tstep {
	struct check_rule rule;
	double value;
	int64_t at;
	int mode;
};

static int tstep_fn(void *arg, size_t i, struct alert *a, double *value, bool *has_value)
{
	const struct tstep *t = (const struct tstep *)arg + i;

	if (t->mode == 1)
		return alert_ack(a) ? AE_ACK : -1;
	*value = t->value;
	*has_value = true;
	return (int)alert_sample(a, &t->rule, t->value, t->at);
}

static enum result step1(struct fx *f, const struct scope *sc, struct alert_pair *p, struct tstep *t,
			 struct alert_steps *as, int64_t *id, struct store_write *out)
{
	struct store_write w;

	memset(as, 0, sizeof(*as));
	as->items = p;
	as->n = 1;
	as->fn = tstep_fn;
	as->arg = t;
	as->now = t->at;
	store_write_init(&w, W_ALERT_STEP, sc);
	w.in.steps = as;
	store_write_sync(f->st, &w);
	if (id)
		*id = w.id;
	if (out)
		*out = w;
	return w.rc;
}

/* Reports' monitoring reads (docs/REPORTS.md "Monitoring"):
 * report_alert_events gives the fire, ack and resolve events from lo of
 * the alerts that fired in [lo, hi), ordered by alert then event, in
 * pages; report_uptime the devices with their hourly uptime.seconds
 * samples (at most 60 an hour). Scoped. */
static void test_report_monitoring(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope staff = scope_for(7, ROLE_TECHNICIAN, 1, 0);
	struct scope ca1 = scope_for(3, ROLE_CLIENT_ADMIN, 0, f->c1);
	struct scope ca2 = scope_for(4, ROLE_CLIENT_ADMIN, 0, f->c2);
	int64_t dev = mk_device(f, f->c1, 1, "rep-01"), dev2 = mk_device(f, f->c2, 2, "rep-02");
	int64_t chk, id, quiet;
	struct alert_pair pair = { 0, f->c1, dev, 0, NULL, "check", "Disk full", "", NULL };
	struct alert_pair other = { 0, f->c1, dev, 0, NULL, "check", "CPU", "", NULL };
	struct tstep t = { .rule = { .cmp = CMP_GT, .has_crit = true, .crit = 90 } };
	struct alert_steps as;
	struct report_alert_ev ev[8];
	struct report_device d[4];
	struct sample up[70 + 3];
	size_t n;
	struct err e;

	assert_int_equal(put_check(f, &sys, check_of(f->c1, 0, "disk"), 0, &chk), RC_OK);
	pair.check_id = chk;
	pair.key = "rep/disk";
	other.check_id = chk;
	other.key = "rep/cpu";
	/* Disk: fire 2 min, ack 5, resolve 10, fire 20 (after hi = 15 min). */
	t.value = 95;
	t.at = H0 + 2 * M_MS;
	assert_int_equal(step1(f, &sys, &pair, &t, &as, &id, NULL), RC_OK);
	t.mode = 1;
	t.at = H0 + 5 * M_MS;
	assert_int_equal(step1(f, &staff, &pair, &t, &as, NULL, NULL), RC_OK);
	t.mode = 0;
	t.value = 50;
	t.at = H0 + 10 * M_MS;
	assert_int_equal(step1(f, &sys, &pair, &t, &as, NULL, NULL), RC_OK);
	t.value = 99;
	t.at = H0 + 20 * M_MS;
	assert_int_equal(step1(f, &sys, &pair, &t, &as, NULL, NULL), RC_OK);
	/* CPU: fires at 16 min only (after hi): none of its events. */
	t.at = H0 + 16 * M_MS;
	assert_int_equal(step1(f, &sys, &other, &t, &as, &quiet, NULL), RC_OK);
	assert_true(quiet > 0 && quiet != id);

	assert_int_equal(store_report_alert_events(f->st, &staff, f->c1, H0, H0 + 15 * M_MS, 0, 0, 8,
						   f->a, ev, &n, &e), RC_OK);
	assert_int_equal(n, 4);
	assert_string_equal(ev[0].kind, "fire");
	assert_int_equal(ev[0].at, H0 + 2 * M_MS);
	assert_string_equal(ev[0].severity, "critical");
	assert_string_equal(ev[0].name, "Disk full");
	assert_string_equal(ev[1].kind, "ack");
	assert_string_equal(ev[2].kind, "resolve");
	assert_int_equal(ev[2].at, H0 + 10 * M_MS);
	assert_string_equal(ev[3].kind, "fire");
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ev[i].alert_id, id);
	/* Pages of 3 by (alert, event). */
	assert_int_equal(store_report_alert_events(f->st, &staff, 0, H0, H0 + 15 * M_MS, 0, 0, 3,
						   f->a, ev, &n, &e), RC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_report_alert_events(f->st, &staff, 0, H0, H0 + 15 * M_MS, ev[2].alert_id,
						   ev[2].id, 3, f->a, ev, &n, &e), RC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].kind, "fire");
	assert_int_equal(ev[0].at, H0 + 20 * M_MS);
	/* From 3 min: the fire at 2 is before lo, the one at 20 after hi. */
	assert_int_equal(store_report_alert_events(f->st, &staff, f->c1, H0 + 3 * M_MS, H0 + 15 * M_MS,
						   0, 0, 8, f->a, ev, &n, &e), RC_OK);
	assert_int_equal(n, 0);
	/* Scope: c1's admin sees them, c2's does not, even naming c1. */
	assert_int_equal(store_report_alert_events(f->st, &ca1, 0, H0, H0 + 15 * M_MS, 0, 0, 8, f->a,
						   ev, &n, &e), RC_OK);
	assert_int_equal(n, 4);
	assert_int_equal(store_report_alert_events(f->st, &ca2, f->c1, H0, H0 + 15 * M_MS, 0, 0, 8,
						   f->a, ev, &n, &e), RC_OK);
	assert_int_equal(n, 0);

	/* Uptime: 70 samples in the first hour (at most 60 count), one in the
	 * second, then rolled up; another series' samples do not count. */
	for (int i = 0; i < 70; i++)
		up[i] = (struct sample){ "uptime.seconds", "", (double)i, H0 + i * 50000 };
	up[70] = (struct sample){ "uptime.seconds", "", 99, H0 + H_MS + 5 * M_MS };
	up[71] = (struct sample){ "cpu.percent", "", 1, H0 + 2 * H_MS + 5 * M_MS };
	up[72] = (struct sample){ "cpu.percent", "", 1, H0 + 2 * H_MS + 6 * M_MS };
	checkin_ok(f, dev, f->c1, 1, up, 73, 73);
	while (rollup(f, H0 + 4 * H_MS, 0))
		;
	assert_int_equal(store_report_uptime(f->st, &staff, 0, H0, H0 + 3 * H_MS, 0, 4, f->a, d, &n,
					     &e), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].id, dev);
	assert_int_equal(d[0].client_id, f->c1);
	assert_string_equal(d[0].hostname, "rep-01");
	assert_int_equal(d[0].up_minutes, 60 + 1);
	assert_true(d[0].active);
	assert_int_equal(d[1].id, dev2);
	assert_int_equal(d[1].up_minutes, 0);
	/* Only the second hour; c1 only; paged; scoped. */
	assert_int_equal(store_report_uptime(f->st, &staff, f->c1, H0 + H_MS, H0 + 3 * H_MS, 0, 4, f->a,
					     d, &n, &e), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].up_minutes, 1);
	assert_int_equal(store_report_uptime(f->st, &staff, 0, H0, H0 + 3 * H_MS, dev, 4, f->a, d, &n,
					     &e), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].id, dev2);
	assert_int_equal(store_report_uptime(f->st, &ca2, 0, H0, H0 + 3 * H_MS, 0, 4, f->a, d, &n, &e),
			 RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].id, dev2);
	/* Enrolled after hi: not listed. */
	assert_int_equal(store_report_uptime(f->st, &staff, 0, H0 - 2 * H_MS, H0, 0, 4, f->a, d, &n,
					     &e), RC_OK);
	assert_int_equal(n, 0);
}

/* Alerts: stored once their state differs from inactive, one pending event
 * per effect, done by the monitor's ticket write (once) or by
 * W_ALERT_EVENTS_DONE (once). */
static void test_monitor_alerts(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope staff = scope_for(7, ROLE_TECHNICIAN, 1, 0);
	struct scope ca1 = scope_for(3, ROLE_CLIENT_ADMIN, 0, f->c1);
	struct scope ca2 = scope_for(4, ROLE_CLIENT_ADMIN, 0, f->c2);
	int64_t dev = mk_device(f, f->c1, 1, "mail-01"), chk, id, id2;
	struct alert_pair pair = { 0, f->c1, dev, 0, NULL, "check", "Disk full", "{\"mount\":\"/\"}",
				   "disk / is full" };
	struct tstep t = { .rule = { .cmp = CMP_GT, .has_crit = true, .crit = 90 } };
	struct alert_steps as;
	struct alert_row ar;
	struct alert_list al;
	struct alert_q aq = { .status = ALQ_ALL };
	struct alert_event_list el;
	struct alert_work_list wl;
	struct store_write w;
	struct ticket_write tw;
	struct err e;

	assert_int_equal(put_check(f, &sys, check_of(f->c1, 0, "disk"), 0, &chk), RC_OK);
	pair.check_id = chk;
	pair.key = "c1/d1/{\"mount\":\"/\"}";

	/* An ok sample of an alert never seen: nothing stored. */
	t.value = 50;
	t.at = H0 + M_MS;
	assert_int_equal(step1(f, &sys, &pair, &t, &as, &id, NULL), RC_OK);
	assert_int_equal(id, 0);
	assert_int_equal(as.events, 0);
	assert_int_equal(store_alert_list(f->st, &sys, &aq, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 0);

	/* Bad: firing at once (for_ms 0), one "fire" event pending. */
	t.value = 95.5;
	t.at = H0 + 2 * M_MS;
	assert_int_equal(step1(f, &sys, &pair, &t, &as, &id, NULL), RC_OK);
	assert_true(id > 0);
	assert_int_equal(as.alert_id, id);
	assert_int_equal(as.events, 1);
	assert_int_equal(store_alert_get(f->st, &ca1, id, f->a, &ar, &e), RC_OK);
	assert_int_equal(store_alert_get(f->st, &ca2, id, f->a, &ar, &e), RC_NOTFOUND);
	assert_int_equal(store_alert_get(f->st, &sys, id, f->a, &ar, &e), RC_OK);
	assert_int_equal(ar.client_id, f->c1);
	assert_int_equal(ar.device_id, dev);
	assert_int_equal(ar.check_id, chk);
	assert_string_equal(ar.hostname, "mail-01");
	assert_string_equal(ar.source, "check");
	assert_string_equal(ar.key, pair.key);
	assert_string_equal(ar.labels, "{\"mount\":\"/\"}");
	assert_string_equal(ar.summary, "disk / is full");
	assert_int_equal(ar.st.status, AL_FIRING);
	assert_int_equal(ar.st.severity, SEV_CRITICAL);
	assert_true(ar.st.announced_firing);
	assert_true(ar.has_value && ar.value == 95.5);
	assert_int_equal(ar.firing_since, H0 + 2 * M_MS);
	assert_int_equal(ar.ticket_id, 0);
	assert_int_equal(ar.version, 1);

	/* The monitor's work: the pending event with its alert. */
	assert_int_equal(store_alert_work(f->st, 10, f->a, &wl, &e), RC_OK);
	assert_int_equal(wl.n, 1);
	assert_string_equal(wl.items[0].ev.kind, "fire");
	assert_int_equal(wl.items[0].ev.severity, SEV_CRITICAL);
	assert_true(wl.items[0].ev.pending);
	assert_true(wl.items[0].ev.has_value && wl.items[0].ev.value == 95.5);
	assert_int_equal(wl.items[0].ev.alert_id, id);
	assert_int_equal(wl.items[0].al.id, id);
	assert_string_equal(wl.items[0].al.hostname, "mail-01");

	/* The ticket it opens, with the events done in the same write. */
	memset(&tw, 0, sizeof(tw));
	tw.t.client_id = f->c1;
	tw.t.subject = "disk / is full";
	tw.t.description = "";
	tw.t.queue = "general";
	tw.t.tags = "[]";
	tw.t.tier = 1;
	tw.t.fcr = -1;
	tw.t.device_id = dev;
	tw.alert_id = id;
	tw.alert_events_upto = wl.items[0].ev.id;
	tw.alert_rebase = true;
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_alert_get(f->st, &sys, id, f->a, &ar, &e), RC_OK);
	assert_int_equal(ar.ticket_id, w.id);
	/* The mark: the ticket's last timeline event when the monitor opened it. */
	{
		struct event_list tev;
		assert_int_equal(store_ticket_events(f->st, &sys, w.id, true, f->a, &tev, &e), RC_OK);
		assert_true(tev.n > 0);
		assert_int_equal(ar.ticket_version, tev.items[tev.n - 1].id);
	}
	assert_int_equal(store_alert_work(f->st, 10, f->a, &wl, &e), RC_OK);
	assert_int_equal(wl.n, 0);
	/* Another server did it already: the ticket write is refused whole. */
	{
		struct ticket_list tl;
		struct ticket_q q = { 0, 50, 0, 0, -1, -1, 0, false, NULL, NULL };
		tw.t.id = 0;
		store_write_init(&w, W_TICKET_CREATE, &sys);
		w.in.tw = &tw;
		assert_int_equal(store_write_sync(f->st, &w), RC_CONFLICT);
		assert_string_equal(w.err.field, "alert");
		assert_int_equal(store_ticket_list(f->st, &sys, &q, f->a, &tl, &e), RC_OK);
		assert_int_equal(tl.n, 1);
	}

	/* A later bad sample: the row follows (its last sample), no event. */
	t.value = 97;
	t.at = H0 + 3 * M_MS;
	assert_int_equal(step1(f, &sys, &pair, &t, &as, &id2, NULL), RC_OK);
	assert_int_equal(id2, id);
	assert_int_equal(as.events, 0);
	/* Acknowledged (by id, the scope's user recorded). */
	{
		struct alert_pair byid = { .alert_id = id };
		struct tstep ack = { .mode = 1, .at = H0 + 4 * M_MS };
		assert_int_equal(step1(f, &ca2, &byid, &ack, &as, NULL, NULL), RC_NOTFOUND);
		assert_int_equal(step1(f, &staff, &byid, &ack, &as, &id2, NULL), RC_OK);
		assert_int_equal(id2, id);
		assert_int_equal(as.events, 1);
		assert_int_equal(store_alert_get(f->st, &sys, id, f->a, &ar, &e), RC_OK);
		assert_int_equal(ar.acked_by, 7);
		assert_int_equal(ar.acked_at, H0 + 4 * M_MS);
		assert_true(ar.st.acked);
		assert_true(ar.has_value && ar.value == 97);   /* the value stays */
	}
	/* Resolved: a "resolve" event at the severity that was announced. */
	t.mode = 0;
	t.value = 10;
	t.at = H0 + 5 * M_MS;
	assert_int_equal(step1(f, &sys, &pair, &t, &as, &id2, NULL), RC_OK);
	assert_int_equal(as.events, 1);
	assert_int_equal(store_alert_events(f->st, &ca1, id, f->a, &el, &e), RC_OK);
	assert_int_equal(el.n, 3);
	assert_string_equal(el.items[0].kind, "resolve");   /* newest first */
	assert_int_equal(el.items[0].severity, SEV_CRITICAL);
	assert_true(el.items[0].pending);
	assert_true(el.items[0].value == 10);
	assert_string_equal(el.items[1].kind, "ack");
	assert_string_equal(el.items[2].kind, "fire");
	assert_false(el.items[2].pending);
	assert_int_equal(el.items[0].client_id, f->c1);
	assert_int_equal(store_alert_events(f->st, &ca2, id, f->a, &el, &e), RC_OK);
	assert_int_equal(el.n, 0);

	/* Done by W_ALERT_EVENTS_DONE, once. */
	store_write_init(&w, W_ALERT_EVENTS_DONE, &sys);
	w.in.done.alert_id = id;
	w.in.done.upto = INT64_MAX;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_write_sync(f->st, &w), RC_CONFLICT);
	assert_string_equal(w.err.field, "alert");
	assert_int_equal(store_alert_work(f->st, 10, f->a, &wl, &e), RC_OK);
	assert_int_equal(wl.n, 0);

	/* Lists by status, client and device, scoped. */
	assert_int_equal(store_alert_get(f->st, &sys, id, f->a, &ar, &e), RC_OK);
	assert_int_equal(ar.st.status, AL_INACTIVE);
	assert_int_equal(ar.resolved_at, H0 + 5 * M_MS);
	assert_int_equal(ar.firing_since, 0);
	aq.status = ALQ_RESOLVED;
	assert_int_equal(store_alert_list(f->st, &ca1, &aq, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 1);
	assert_int_equal(store_alert_list(f->st, &ca2, &aq, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 0);
	aq.status = ALQ_OPEN;
	assert_int_equal(store_alert_list(f->st, &sys, &aq, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 0);
	aq.status = ALQ_ALL;
	aq.device_id = dev;
	aq.client_id = f->c1;
	assert_int_equal(store_alert_list(f->st, &sys, &aq, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 1);
	aq.check_id = chk;
	assert_int_equal(store_alert_list(f->st, &sys, &aq, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 1);
	aq.check_id = chk + 1;
	assert_int_equal(store_alert_list(f->st, &sys, &aq, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 0);
	aq.check_id = 0;
	aq.client_id = f->c2;
	assert_int_equal(store_alert_list(f->st, &sys, &aq, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 0);

	/* A step the caller refuses writes nothing. */
	t.mode = 1;                                        /* not firing: ack refused */
	assert_int_equal(step1(f, &sys, &pair, &t, &as, NULL, &w), RC_CONFLICT);
	assert_string_equal(w.err.field, "alert");
	assert_int_equal(store_alert_get(f->st, &sys, id, f->a, &ar, &e), RC_OK);
	assert_false(ar.st.acked);
}

/* Alerts stepped by a check-in, in its transaction; alerts in maintenance. */
static void test_monitor_checkin_alerts(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	int64_t dev = mk_device(f, f->c2, 1, "edge-01");
	struct sample s[] = { { "mem.used_percent", "", 99, H0 + M_MS } };
	struct alert_pair pair = { 0, f->c2, dev, 0, "mem", "check", "Memory", "", NULL };
	struct tstep t = { .rule = { .cmp = CMP_GT, .has_crit = true, .crit = 95, .for_ms = M_MS },
			   .value = 99, .at = H0 + M_MS };
	struct checkin_write ci;
	struct store_write w;
	struct alert_list al;
	struct alert_q aq = { .status = ALQ_PENDING };
	struct err e;

	memset(&ci, 0, sizeof(ci));
	ci.device_id = dev;
	ci.client_id = f->c2;
	ci.batch_id = 1;
	ci.now = H0 + M_MS;
	ci.samples = s;
	ci.n = 1;
	ci.latest = "{}";
	ci.steps.items = &pair;
	ci.steps.n = 1;
	ci.steps.fn = tstep_fn;
	ci.steps.arg = &t;
	ci.steps.now = H0 + M_MS;
	store_write_init(&w, W_CHECKIN, &sys);
	w.in.checkin = &ci;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(ci.stored, 1);
	assert_int_equal(ci.steps.events, 0);             /* pending: nothing announced */
	assert_true(ci.steps.alert_id > 0);
	assert_int_equal(store_alert_list(f->st, &sys, &aq, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 1);
	assert_int_equal(al.items[0].id, ci.steps.alert_id);
	assert_int_equal(al.items[0].st.pending_since, H0 + M_MS);
	/* A duplicate batch steps nothing. */
	ci.stored = 0;
	ci.steps.events = 0;
	ci.steps.alert_id = 0;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(ci.stored, 0);
	assert_true(ci.duplicate);
	assert_int_equal(ci.steps.alert_id, 0);
	/* In maintenance. */
	assert_int_equal(store_alerts_in_maintenance(f->st, 10, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 0);
}

/* Maintenance windows: staff manage them, per client or device; scoped. */
static void test_monitor_mwindows(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope ca1 = scope_for(3, ROLE_CLIENT_ADMIN, 0, f->c1);
	struct scope ca2 = scope_for(4, ROLE_CLIENT_ADMIN, 0, f->c2);
	int64_t dev = mk_device(f, f->c1, 1, "mw-01"), id, id2;
	struct mwindow_row m = { 0 };
	struct mwindow_list l;
	struct store_write w;
	struct err e;

	m.client_id = f->c1;
	m.device_id = dev;
	m.name = "patch night";
	m.repeat = "weekly";
	m.timezone = "Europe/Paris";
	m.starts_at = H0;
	m.ends_at = H0 + 2 * H_MS;
	m.repeat_until = H0 + 30 * 24 * (int64_t)H_MS;
	store_write_init(&w, W_MWINDOW_PUT, &ca1);
	w.in.mw = m;
	assert_int_equal(store_write_sync(f->st, &w), RC_DENIED);
	store_write_init(&w, W_MWINDOW_PUT, &sys);
	w.in.mw = m;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	id = w.id;
	assert_int_equal(w.version, 1);
	m.device_id = 0;
	m.name = "whole client";
	m.repeat = "none";
	m.timezone = "UTC";
	w.in.mw = m;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	id2 = w.id;
	/* A client is required; the device must be the client's. */
	w.in.mw.client_id = 0;
	assert_int_equal(store_write_sync(f->st, &w), RC_INVALID);
	assert_string_equal(w.err.field, "client_id");
	w.in.mw.client_id = f->c2;
	w.in.mw.device_id = dev;
	assert_int_equal(store_write_sync(f->st, &w), RC_INVALID);
	assert_string_equal(w.err.field, "device_id");

	assert_int_equal(store_mwindow_get(f->st, &ca1, id, f->a, &m, &e), RC_OK);
	assert_string_equal(m.name, "patch night");
	assert_string_equal(m.repeat, "weekly");
	assert_string_equal(m.timezone, "Europe/Paris");
	assert_int_equal(m.device_id, dev);
	assert_int_equal(m.starts_at, H0);
	assert_int_equal(m.ends_at, H0 + 2 * H_MS);
	assert_int_equal(m.repeat_until, H0 + 30 * 24 * (int64_t)H_MS);
	assert_int_equal(store_mwindow_get(f->st, &ca2, id, f->a, &m, &e), RC_NOTFOUND);
	assert_int_equal(store_mwindow_list(f->st, &ca1, 0, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.items[0].id, id);
	assert_int_equal(l.items[1].id, id2);
	assert_int_equal(l.items[1].device_id, 0);
	assert_int_equal(store_mwindow_list(f->st, &ca2, 0, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_mwindow_list(f->st, &sys, f->c2, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(store_mwindow_list(f->st, &sys, 0, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 2);

	/* Versioned update; delete. */
	m.id = id;
	m.client_id = f->c1;
	m.device_id = 0;
	m.name = "renamed";
	store_write_init(&w, W_MWINDOW_PUT, &sys);
	w.in.mw = m;
	w.if_version = 1;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(w.version, 2);
	assert_int_equal(store_write_sync(f->st, &w), RC_STALE);
	store_write_init(&w, W_MWINDOW_DELETE, &sys);
	w.id = id2;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_write_sync(f->st, &w), RC_NOTFOUND);
	assert_int_equal(store_mwindow_list(f->st, &sys, f->c1, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].name, "renamed");
}

/* Alertmanager receivers: created by staff, found by their token. */
static void test_monitor_am_receivers(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope ca1 = scope_for(3, ROLE_CLIENT_ADMIN, 0, f->c1);
	struct am_receiver_row r, *items;
	struct store_write w;
	unsigned char h[32];
	size_t n;
	struct err e;
	int64_t id;

	store_write_init(&w, W_AM_RECEIVER_CREATE, &ca1);
	w.in.amr.row.name = "prom";
	w.in.amr.row.client_label = "client";
	w.in.amr.row.device_label = "instance";
	memset(w.in.amr.hash, 0x21, 32);
	assert_int_equal(store_write_sync(f->st, &w), RC_DENIED);
	store_write_init(&w, W_AM_RECEIVER_CREATE, &sys);
	w.in.amr.row.name = "prom";
	w.in.amr.row.client_label = "customer";
	w.in.amr.row.device_label = "host";
	memset(w.in.amr.hash, 0x21, 32);
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	id = w.id;
	store_write_init(&w, W_AM_RECEIVER_CREATE, &sys);
	w.in.amr.row.client_id = f->c2;
	w.in.amr.row.name = "borealis prom";
	w.in.amr.row.client_label = "client";
	w.in.amr.row.device_label = "instance";
	memset(w.in.amr.hash, 0x22, 32);
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	/* The same token twice: refused. */
	assert_int_equal(store_write_sync(f->st, &w), RC_CONFLICT);

	memset(h, 0x21, 32);
	assert_int_equal(store_am_receiver_auth(f->st, h, f->a, &r, &e), RC_OK);
	assert_int_equal(r.id, id);
	assert_int_equal(r.client_id, 0);
	assert_string_equal(r.name, "prom");
	assert_string_equal(r.client_label, "customer");
	assert_string_equal(r.device_label, "host");
	memset(h, 0x22, 32);
	assert_int_equal(store_am_receiver_auth(f->st, h, f->a, &r, &e), RC_OK);
	assert_int_equal(r.client_id, f->c2);
	memset(h, 0x23, 32);
	assert_int_equal(store_am_receiver_auth(f->st, h, f->a, &r, &e), RC_NOTFOUND);
	assert_int_equal(store_am_receiver_list(f->st, &sys, f->a, &items, &n, &e), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].id, id);
	assert_int_equal(store_am_receiver_list(f->st, &ca1, f->a, &items, &n, &e), RC_OK);
	assert_int_equal(n, 0);
}

/* ---- mail and the outbox (issue 8) ------------------------------------------------- */

/* A ticket_write for client with one message (kind) and e-mail mf. */
static void mail_tw(struct ticket_write *tw, struct mail_file *mf, int64_t client, const char *kind,
		    const char *body)
{
	memset(tw, 0, sizeof(*tw));
	tw->t.client_id = client;
	tw->t.subject = "Printer on fire";
	tw->t.description = "It smokes.";
	tw->t.queue = "general";
	tw->t.channel = CH_EMAIL;
	tw->t.tags = "[]";
	tw->t.tier = 1;
	tw->t.fcr = -1;
	tw->has_msg = true;
	tw->msg.kind = kind;
	tw->msg.body = body;
	tw->msg.source = "email";
	tw->mail = mf;
}

static enum result file_mail(struct fx *f, enum store_wkind kind, struct ticket_write *tw)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, kind, &sys);
	w.in.tw = tw;
	w.audit.action = kind == W_TICKET_CREATE ? "ticket.create" : "ticket.update";
	w.audit.object_type = "ticket";
	store_write_sync(f->st, &w);
	if (w.rc != RC_OK)
		assert_true(w.err.field[0] || w.err.msg[0]);
	return w.rc;
}

static size_t ticket_count(struct fx *f)
{
	struct scope sys = scope_system();
	struct ticket_q tq = { .limit = 500, .status = -1, .priority = -1 };
	struct ticket_list l;
	struct err e;

	assert_int_equal(store_ticket_list(f->st, &sys, &tq, f->a, &l, &e), RC_OK);
	return l.n;
}

/* A ticket made from an e-mail: its new contact is the requester and the
 * message's author, the Message-ID threads to it, the attachment is
 * stored (with its SHA-256) and listed, the intake log row written; the
 * same Message-ID filed again writes nothing (not even its contact). */
static void test_mail_ticket_create(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope staff = scope_for(1, ROLE_TECHNICIAN, 1, 0);
	struct ticket_write tw;
	struct mail_file mf;
	struct attachment_row att[2];
	struct attachment_row got;
	struct attachment_list al;
	struct message_list ml;
	struct inbound_row ir;
	struct ticket t;
	struct contact c;
	unsigned char sha[32];
	const char *refs[3] = { "<unknown@x>", "", "<a1@acme.example>" };
	const char *body = "Hello\n> earlier";
	int found;
	int64_t tid, cid, id;
	struct err e;

	memset(&mf, 0, sizeof(mf));
	memset(att, 0, sizeof(att));
	att[0].filename = "log.txt";
	att[0].content_type = "text/plain";
	att[0].data = (const unsigned char *)"hello";
	att[0].size = 5;
	att[1].filename = "logo.png";
	att[1].content_type = "image/png";
	att[1].content_id = "logo@1";
	att[1].is_inline = true;
	att[1].data = (const unsigned char *)"\x89PNG\0\1";
	att[1].size = 6;
	mf.message_id = "<a1@acme.example>";
	mf.new_contact_email = "new@acme.example";
	mf.new_contact_name = "New Person";
	mf.att = att;
	mf.natt = 2;
	mf.log.sender = "new@acme.example";
	mf.log.recipient = "help@desk.example";
	mf.log.subject = "Printer on fire";
	mf.log.action = "created";
	mf.log.reason = "";
	mf.log.size = 321;
	mail_tw(&tw, &mf, f->c1, "reply", body);
	tw.msg.quote_at = 6;
	assert_int_equal(file_mail(f, W_TICKET_CREATE, &tw), RC_OK);
	tid = tw.t.id;
	cid = mf.contact_id;
	assert_true(tid > 0);
	assert_true(cid > 0);
	assert_true(mf.inbound_id > 0);

	/* The intake's lookups: the ticket by its number, the contact by its
	 * address in any client (without case), the client by its domain. */
	{
		int64_t x = 0, xc = 0;
		assert_int_equal(store_ticket_by_number(f->st, tw.t.number, &x, &xc, &e), RC_OK);
		assert_int_equal(x, tid);
		assert_int_equal(xc, f->c1);
		assert_int_equal(store_ticket_by_number(f->st, tw.t.number + 1000, &x, &xc, &e),
				 RC_NOTFOUND);
		assert_int_equal(store_contact_find_email(f->st, "NEW@Acme.Example", &x, &xc, &e), RC_OK);
		assert_int_equal(x, mf.contact_id);
		assert_int_equal(xc, f->c1);
		assert_int_equal(store_contact_find_email(f->st, "nobody@acme.example", &x, &xc, &e),
				 RC_NOTFOUND);
	}
	assert_int_equal(store_contact_get(f->st, &sys, cid, f->a, &c, &e), RC_OK);
	assert_string_equal(c.email, "new@acme.example");
	assert_string_equal(c.name, "New Person");
	assert_int_equal(c.client_id, f->c1);
	assert_int_equal(store_ticket_get(f->st, &staff, tid, f->a, &t, &e), RC_OK);
	assert_int_equal(t.requester_contact_id, cid);
	assert_int_equal(store_ticket_messages(f->st, &staff, tid, true, f->a, &ml, &e), RC_OK);
	assert_int_equal(ml.n, 1);
	assert_int_equal(ml.items[0].author_contact_id, cid);
	assert_int_equal(ml.items[0].quote_at, 6);
	assert_string_equal(ml.items[0].source, "email");
	assert_string_equal(ml.items[0].body, body);

	/* Threading: the first known id in the order given. */
	assert_int_equal(store_mail_thread(f->st, refs, 3, &found, &id, &e), RC_OK);
	assert_int_equal(found, 2);
	assert_int_equal(id, tid);
	assert_int_equal(store_mail_thread(f->st, refs, 1, &found, &id, &e), RC_OK);
	assert_int_equal(found, -1);
	assert_int_equal(id, 0);

	assert_int_equal(store_attachment_list(f->st, &staff, tid, true, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 2);
	assert_string_equal(al.items[0].filename, "log.txt");
	assert_string_equal(al.items[0].content_type, "text/plain");
	assert_null(al.items[0].content_id);
	assert_int_equal(al.items[0].size, 5);
	assert_int_equal(al.items[0].ticket_id, tid);
	assert_int_equal(al.items[0].client_id, f->c1);
	assert_int_equal(al.items[0].message_id, tw.message_id);
	assert_false(al.items[0].internal);
	assert_false(al.items[0].is_inline);
	assert_null(al.items[0].data);
	crypto_hash_sha256(sha, (const unsigned char *)"hello", 5);
	assert_memory_equal(al.items[0].sha256, sha, 32);
	assert_string_equal(al.items[1].content_id, "logo@1");
	assert_true(al.items[1].is_inline);
	assert_int_equal(store_attachment_get(f->st, &staff, al.items[1].id, false, f->a, &got, &e),
			 RC_OK);
	assert_int_equal(got.size, 6);
	assert_memory_equal(got.data, "\x89PNG\0\1", 6);
	crypto_hash_sha256(sha, (const unsigned char *)"\x89PNG\0\1", 6);
	assert_memory_equal(got.sha256, sha, 32);

	assert_int_equal(store_inbound_get(f->st, mf.inbound_id, f->a, &ir, &e), RC_OK);
	assert_string_equal(ir.action, "created");
	assert_string_equal(ir.message_id, "<a1@acme.example>");
	assert_string_equal(ir.sender, "new@acme.example");
	assert_string_equal(ir.recipient, "help@desk.example");
	assert_int_equal(ir.client_id, f->c1);
	assert_int_equal(ir.ticket_id, tid);
	assert_int_equal(ir.size, 321);
	assert_null(ir.raw);

	/* The same message again (delivered twice): refused whole, its new
	 * contact, ticket, attachment and log row with it. */
	memset(&mf, 0, sizeof(mf));
	mf.message_id = "<a1@acme.example>";
	mf.new_contact_email = "other@acme.example";
	mf.att = att;
	mf.natt = 1;
	mf.log.action = "created";
	mail_tw(&tw, &mf, f->c1, "reply", "again");
	assert_int_equal(ticket_count(f), 1);
	{
		struct store_write w;
		store_write_init(&w, W_TICKET_CREATE, &sys);
		w.in.tw = &tw;
		assert_int_equal(store_write_sync(f->st, &w), RC_CONFLICT);
		assert_string_equal(w.err.field, "message_id");
	}
	assert_int_equal(ticket_count(f), 1);
	assert_int_equal(store_contact_by_email(f->st, f->c1, "other@acme.example", &id, &e),
			 RC_NOTFOUND);
	{
		struct inbound_q iq = { .limit = 10 };
		struct inbound_list il;
		assert_int_equal(store_inbound_list(f->st, &iq, f->a, &il, &e), RC_OK);
		assert_int_equal(il.n, 1);
	}

	/* A reply filed on the ticket, as a note with an attachment: the
	 * attachment is internal (hidden like the note). */
	memset(&mf, 0, sizeof(mf));
	mf.message_id = "<a2@acme.example>";
	mf.att = att;
	mf.natt = 1;
	mf.log.action = "appended";
	mail_tw(&tw, &mf, f->c1, "note", "out of office");
	tw.t = t;
	tw.if_version = t.version;
	assert_int_equal(file_mail(f, W_TICKET_CHANGE, &tw), RC_OK);
	assert_int_equal(mf.contact_id, 0);
	assert_int_equal(store_attachment_list(f->st, &staff, tid, true, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 3);
	assert_true(al.items[2].internal);
	assert_int_equal(al.items[2].message_id, tw.message_id);
	assert_int_equal(store_attachment_list(f->st, &staff, tid, false, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 2);
	refs[0] = "<a2@acme.example>";
	assert_int_equal(store_mail_thread(f->st, refs, 3, &found, &id, &e), RC_OK);
	assert_int_equal(found, 0);
	assert_int_equal(id, tid);
	assert_int_equal(store_inbound_get(f->st, mf.inbound_id, f->a, &ir, &e), RC_OK);
	assert_string_equal(ir.action, "appended");
	assert_string_equal(ir.message_id, "<a2@acme.example>");
}

/* Attachments are seen through their ticket: another client's scope
 * finds nothing, a client user only the tickets they requested and
 * never the internal ones. */
static void test_mail_attachment_scope(void **state)
{
	struct fx *f = *state;
	struct scope staff = scope_for(1, ROLE_TECHNICIAN, 1, 0);
	struct scope ca2 = scope_for(3, ROLE_CLIENT_ADMIN, 0, f->c2);
	struct scope cu = scope_for(77, ROLE_CLIENT_USER, 0, f->c1);
	struct scope cu_other = scope_for(78, ROLE_CLIENT_USER, 0, f->c1);
	struct ticket_write tw;
	struct mail_file mf;
	struct attachment_row att, got;
	struct attachment_list al;
	struct ticket t;
	int64_t tid, pub, internal;
	struct err e;

	memset(&att, 0, sizeof(att));
	att.filename = "a.txt";
	att.content_type = "text/plain";
	att.data = (const unsigned char *)"abc";
	att.size = 3;
	memset(&mf, 0, sizeof(mf));
	mf.message_id = "<s1@acme.example>";
	mf.att = &att;
	mf.natt = 1;
	mf.log.action = "created";
	mail_tw(&tw, &mf, f->c1, "reply", "hi");
	tw.t.requester_user_id = 77;
	assert_int_equal(file_mail(f, W_TICKET_CREATE, &tw), RC_OK);
	tid = tw.t.id;
	assert_int_equal(store_attachment_list(f->st, &staff, tid, true, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 1);
	pub = al.items[0].id;

	memset(&mf, 0, sizeof(mf));
	mf.message_id = "<s2@acme.example>";
	mf.att = &att;
	mf.natt = 1;
	mf.log.action = "auto_reply";
	assert_int_equal(store_ticket_get(f->st, &staff, tid, f->a, &t, &e), RC_OK);
	mail_tw(&tw, &mf, f->c1, "note", "auto");
	tw.t = t;
	tw.if_version = t.version;
	assert_int_equal(file_mail(f, W_TICKET_CHANGE, &tw), RC_OK);
	assert_int_equal(store_attachment_list(f->st, &staff, tid, true, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 2);
	internal = al.items[1].id;
	assert_true(al.items[1].internal);

	/* Another client's scope: not found at all. */
	assert_int_equal(store_attachment_get(f->st, &ca2, pub, false, f->a, &got, &e), RC_NOTFOUND);
	assert_int_equal(store_attachment_list(f->st, &ca2, tid, false, f->a, &al, &e), RC_NOTFOUND);
	/* The requester: the public one only. */
	assert_int_equal(store_attachment_get(f->st, &cu, pub, false, f->a, &got, &e), RC_OK);
	assert_memory_equal(got.data, "abc", 3);
	assert_int_equal(store_attachment_get(f->st, &cu, internal, false, f->a, &got, &e), RC_NOTFOUND);
	assert_int_equal(store_attachment_list(f->st, &cu, tid, false, f->a, &al, &e), RC_OK);
	assert_int_equal(al.n, 1);
	assert_int_equal(al.items[0].id, pub);
	/* Another user of the same client (no org visibility): nothing. */
	assert_int_equal(store_attachment_get(f->st, &cu_other, pub, false, f->a, &got, &e), RC_NOTFOUND);
	assert_int_equal(store_attachment_list(f->st, &cu_other, tid, false, f->a, &al, &e), RC_NOTFOUND);
	/* Staff: internal when asked for. */
	assert_int_equal(store_attachment_get(f->st, &staff, internal, false, f->a, &got, &e), RC_NOTFOUND);
	assert_int_equal(store_attachment_get(f->st, &staff, internal, true, f->a, &got, &e), RC_OK);
	assert_int_equal(store_attachment_get(f->st, &staff, 999999, true, f->a, &got, &e), RC_NOTFOUND);
}

static enum result mail_log(struct fx *f, const char *mid, const char *sender, const char *action,
			    int64_t client, const char *raw, int64_t at, int64_t *id)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_MAIL_LOG, &sys);
	w.in.inbound.client_id = client;
	w.in.inbound.message_id = mid;
	w.in.inbound.sender = sender;
	w.in.inbound.recipient = "help@desk.example";
	w.in.inbound.subject = "Hi";
	w.in.inbound.action = action;
	w.in.inbound.reason = "because";
	w.in.inbound.size = raw ? (int64_t)strlen(raw) : 0;
	w.in.inbound.raw = (const unsigned char *)raw;
	w.in.inbound.raw_len = raw ? strlen(raw) : 0;
	w.in.inbound.received_at = at;
	w.audit.action = "mail.inbound";
	store_write_sync(f->st, &w);
	if (id)
		*id = w.id;
	if (w.rc == RC_CONFLICT)
		assert_string_equal(w.err.field, "message_id");
	return w.rc;
}

/* The intake log: rows with and without raw, counted per sender since an
 * instant, listed by id (filter, pages); a logged Message-ID is known
 * (without a ticket) unless it was a duplicate; a held message released
 * into a ticket. */
static void test_mail_log(void **state)
{
	struct fx *f = *state;
	const char *raw = "From: stranger@nowhere.example\r\nSubject: Hi\r\n\r\nbody\0tail";
	struct inbound_q iq = { .limit = 10 };
	struct inbound_list il;
	struct inbound_row ir;
	struct ticket_write tw;
	struct mail_file mf;
	const char *ids[1] = { "<h1@nowhere.example>" };
	int64_t held, n, tid;
	int found;
	struct err e;

	assert_int_equal(mail_log(f, "<h1@nowhere.example>", "stranger@nowhere.example", "held", 0, raw,
				  1000, &held), RC_OK);
	assert_true(held > 0);
	assert_int_equal(store_inbound_get(f->st, held, f->a, &ir, &e), RC_OK);
	assert_string_equal(ir.action, "held");
	assert_string_equal(ir.reason, "because");
	assert_int_equal(ir.client_id, 0);
	assert_int_equal(ir.ticket_id, 0);
	assert_int_equal(ir.received_at, 1000);
	assert_int_equal(ir.raw_len, strlen(raw));
	assert_memory_equal(ir.raw, raw, strlen(raw));
	assert_int_equal(store_mail_thread(f->st, ids, 1, &found, &tid, &e), RC_OK);
	assert_int_equal(found, 0);
	assert_int_equal(tid, 0);

	/* Delivered again: logged as a duplicate (not recorded again); any
	 * other action for a known id is a conflict. */
	assert_int_equal(mail_log(f, "<h1@nowhere.example>", "stranger@nowhere.example", "duplicate", 0,
				  NULL, 2000, NULL), RC_OK);
	assert_int_equal(mail_log(f, "<h1@nowhere.example>", "stranger@nowhere.example", "rate_limited",
				  0, NULL, 2500, NULL), RC_CONFLICT);
	assert_int_equal(mail_log(f, "<r1@nowhere.example>", "stranger@nowhere.example", "rate_limited",
				  f->c2, NULL, 3000, NULL), RC_OK);
	assert_int_equal(mail_log(f, "<b1@mx.example>", "", "bounce", 0, NULL, 3000, NULL), RC_OK);

	assert_int_equal(store_inbound_count(f->st, "stranger@nowhere.example", 0, &n, &e), RC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_inbound_count(f->st, "stranger@nowhere.example", 2000, &n, &e), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_inbound_count(f->st, "nobody@x", 0, &n, &e), RC_OK);
	assert_int_equal(n, 0);

	assert_int_equal(store_inbound_list(f->st, &iq, f->a, &il, &e), RC_OK);
	assert_int_equal(il.n, 4);
	assert_int_equal(il.next_after, 0);
	assert_int_equal(il.items[0].id, held);
	assert_null(il.items[0].raw);
	assert_true(il.items[1].id > il.items[0].id);
	assert_int_equal(il.items[2].client_id, f->c2);
	iq.action = "held";
	assert_int_equal(store_inbound_list(f->st, &iq, f->a, &il, &e), RC_OK);
	assert_int_equal(il.n, 1);
	iq.action = NULL;
	iq.limit = 2;
	assert_int_equal(store_inbound_list(f->st, &iq, f->a, &il, &e), RC_OK);
	assert_int_equal(il.n, 2);
	assert_int_equal(il.next_after, il.items[1].id);
	iq.after = il.next_after;
	assert_int_equal(store_inbound_list(f->st, &iq, f->a, &il, &e), RC_OK);
	assert_int_equal(il.n, 2);
	assert_string_equal(il.items[1].action, "bounce");

	/* Released into a new ticket: the held row is "released", its raw
	 * dropped, and its Message-ID now threads to the ticket. */
	memset(&mf, 0, sizeof(mf));
	mf.message_id = "<h1@nowhere.example>";
	mf.release_id = held;
	mf.log.action = "created";
	mf.log.sender = "stranger@nowhere.example";
	mail_tw(&tw, &mf, f->c1, "reply", "body");
	assert_int_equal(file_mail(f, W_TICKET_CREATE, &tw), RC_OK);
	assert_int_equal(store_inbound_get(f->st, held, f->a, &ir, &e), RC_OK);
	assert_string_equal(ir.action, "released");
	assert_int_equal(ir.ticket_id, tw.t.id);
	assert_null(ir.raw);
	assert_int_equal(store_mail_thread(f->st, ids, 1, &found, &tid, &e), RC_OK);
	assert_int_equal(found, 0);
	assert_int_equal(tid, tw.t.id);
	/* Released once only. */
	memset(&mf, 0, sizeof(mf));
	mf.message_id = "<h1-again@nowhere.example>";
	mf.release_id = held;
	mf.log.action = "created";
	mail_tw(&tw, &mf, f->c1, "reply", "body");
	assert_int_equal(ticket_count(f), 1);
	{
		struct scope sys = scope_system();
		struct store_write w;
		store_write_init(&w, W_TICKET_CREATE, &sys);
		w.in.tw = &tw;
		assert_int_equal(store_write_sync(f->st, &w), RC_CONFLICT);
		assert_string_equal(w.err.field, "release");
	}
	assert_int_equal(ticket_count(f), 1);
}

/* A ticket with n outbox rows (events "e0", "e1", ...). */
static int64_t outbox_ticket(struct fx *f, int n)
{
	static const char *const events[] = { "ticket.created", "ticket.updated", "ticket.resolved" };
	struct scope sys = scope_system();
	struct store_write w;
	struct ticket_write tw;

	memset(&tw, 0, sizeof(tw));
	tw.t.client_id = f->c1;
	tw.t.subject = "notify";
	tw.t.description = "";
	tw.t.tags = "[]";
	tw.t.tier = 1;
	tw.t.fcr = -1;
	for (int i = 0; i < n && i < 3; i++) {
		tw.ob[i].event = events[i];
		tw.ob[i].payload = "{\"x\":1}";
	}
	tw.nob = n;
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	return w.id;
}

static struct delivery_row email_item(const char *to, const char *mid, const char *body)
{
	struct delivery_row d;

	memset(&d, 0, sizeof(d));
	d.channel = "email";
	d.template_key = "ticket.created";
	d.target = to;
	d.message_id = mid;
	d.subject = "[T-1] notify";
	d.body = (const unsigned char *)body;
	d.body_len = strlen(body);
	return d;
}

static enum result expand(struct fx *f, int64_t outbox, int64_t now, struct delivery_row *items,
			  size_t n)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_OUTBOX_EXPAND, &sys);
	w.in.expand.outbox_id = outbox;
	w.in.expand.now = now;
	w.in.expand.items = items;
	w.in.expand.n = n;
	store_write_sync(f->st, &w);
	if (w.rc == RC_CONFLICT)
		assert_string_equal(w.err.field, "outbox");
	return w.rc;
}

static enum result dresult(struct fx *f, int64_t id, const char *st_, int64_t now, int64_t next,
			   const char *error, long status)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_DELIVERY_RESULT, &sys);
	w.in.dres.id = id;
	w.in.dres.now = now;
	w.in.dres.next_attempt_at = next;
	w.in.dres.state = st_;
	w.in.dres.error = error;
	w.in.dres.status = status;
	store_write_sync(f->st, &w);
	if (w.rc == RC_CONFLICT)
		assert_string_equal(w.err.field, "delivery");
	return w.rc;
}

static enum result dretry(struct fx *f, int64_t id, int64_t now)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_DELIVERY_RETRY, &sys);
	w.id = id;
	w.in.dres.now = now;
	w.audit.action = "delivery.retry";
	store_write_sync(f->st, &w);
	if (w.rc == RC_CONFLICT)
		assert_string_equal(w.err.field, "delivery");
	return w.rc;
}

static int64_t mk_webhook(struct fx *f, int64_t client, const char *name)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_WEBHOOK_PUT, &sys);
	w.in.webhook.name = name;
	w.in.webhook.url = "https://hooks.example/in";
	w.in.webhook.events = "[\"ticket.created\"]";
	w.in.webhook.client_id = client;
	w.in.webhook.secret = "s3cret";
	w.in.webhook.active = true;
	w.audit.action = "webhook.create";
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(w.version, 1);
	return w.id;
}

/* The outbox becomes deliveries once; deliveries are due oldest first and
 * move pending -> sent / pending (later) / failed, failed -> pending by a
 * retry; every other move is a conflict. */
static void test_outbox_deliveries(void **state)
{
	struct fx *f = *state;
	struct outbox_list ob;
	struct delivery_list dl;
	struct delivery_row d, items[2], later[1];
	struct delivery_q dq = { .limit = 10 };
	const char *ids[1] = { "<out1@desk.example>" };
	int64_t tid, hook, a, b, c, t2;
	int found;
	struct err e;

	tid = outbox_ticket(f, 2);
	hook = mk_webhook(f, 0, "all");
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 2);
	assert_string_equal(ob.items[0].event, "ticket.created");
	assert_string_equal(ob.items[1].event, "ticket.updated");
	assert_int_equal(ob.items[0].client_id, f->c1);
	assert_int_equal(ob.items[0].ticket_id, tid);
	assert_string_equal(ob.items[0].payload, "{\"x\":1}");
	assert_true(ob.items[0].id < ob.items[1].id);
	assert_int_equal(store_outbox_pending(f->st, 1, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 1);

	items[0] = email_item("alice@acme.example", "<out1@desk.example>", "hello");
	memset(&items[1], 0, sizeof(items[1]));
	items[1].channel = "webhook";
	items[1].target = "https://hooks.example/in";
	items[1].webhook_id = hook;
	items[1].body = (const unsigned char *)"{\"event\":\"ticket.created\"}";
	items[1].body_len = strlen((const char *)items[1].body);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(expand(f, ob.items[0].id, 1000, items, 2), RC_OK);
	a = items[0].id;
	b = items[1].id;
	assert_true(a > 0 && b > a);
	/* Once only. */
	assert_int_equal(expand(f, ob.items[0].id, 1000, items, 2), RC_CONFLICT);
	/* The e-mail's Message-ID threads replies to the ticket. */
	assert_int_equal(store_mail_thread(f->st, ids, 1, &found, &t2, &e), RC_OK);
	assert_int_equal(found, 0);
	assert_int_equal(t2, tid);

	later[0] = email_item("bob@acme.example", "<out2@desk.example>", "second");
	assert_int_equal(expand(f, ob.items[1].id, 500, later, 1), RC_OK);
	c = later[0].id;
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 0);

	/* Due oldest first (by due time), with their bodies. */
	assert_int_equal(store_deliveries_due(f->st, 2000, NULL, 10, 0, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 3);
	assert_int_equal(dl.items[0].id, c);
	assert_int_equal(dl.items[1].id, a);
	assert_int_equal(dl.items[2].id, b);
	assert_int_equal(dl.items[1].body_len, 5);
	assert_memory_equal(dl.items[1].body, "hello", 5);
	assert_string_equal(dl.items[1].channel, "email");
	assert_string_equal(dl.items[1].template_key, "ticket.created");
	assert_string_equal(dl.items[1].target, "alice@acme.example");
	assert_string_equal(dl.items[1].message_id, "<out1@desk.example>");
	assert_string_equal(dl.items[1].state, "pending");
	assert_string_equal(dl.items[1].event, "ticket.created");
	assert_int_equal(dl.items[1].client_id, f->c1);
	assert_int_equal(dl.items[1].ticket_id, tid);
	assert_int_equal(dl.items[1].attempts, 0);
	assert_int_equal(dl.items[1].next_attempt_at, 1000);
	assert_int_equal(dl.items[2].webhook_id, hook);
	assert_string_equal(dl.items[0].event, "ticket.updated");
	assert_int_equal(store_deliveries_due(f->st, 900, NULL, 10, 0, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(store_deliveries_due(f->st, 2000, NULL, 2, 0, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 2);
	/* A bound on the bodies read at once (c: 6 bytes, a: 5, b: 26): the
	 * first always, the next while the ones before stay under it. */
	assert_int_equal(store_deliveries_due(f->st, 2000, NULL, 10, 1, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].id, c);
	assert_int_equal(store_deliveries_due(f->st, 2000, NULL, 10, 6, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(store_deliveries_due(f->st, 2000, NULL, 10, 7, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 2);
	assert_int_equal(dl.items[1].id, a);
	assert_memory_equal(dl.items[1].body, "hello", 5);
	assert_int_equal(store_deliveries_due(f->st, 2000, NULL, 10, 12, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 3);
	assert_int_equal(dl.items[2].id, b);
	/* One channel only (e-mail waits without an SMTP server; webhooks
	 * must not wait behind it). */
	assert_int_equal(store_deliveries_due(f->st, 2000, "webhook", 10, 0, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].id, b);
	assert_int_equal(store_deliveries_due(f->st, 2000, "email", 10, 0, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 2);

	/* a: sent; only once. */
	assert_int_equal(dresult(f, a, "sent", 3000, 0, NULL, 250), RC_OK);
	assert_int_equal(store_delivery_get(f->st, a, f->a, &d, &e), RC_OK);
	assert_string_equal(d.state, "sent");
	assert_int_equal(d.attempts, 1);
	assert_int_equal(d.sent_at, 3000);
	assert_int_equal(d.last_status, 250);
	assert_memory_equal(d.body, "hello", 5);
	assert_int_equal(dresult(f, a, "sent", 3100, 0, NULL, 250), RC_CONFLICT);
	assert_int_equal(dresult(f, 999999, "sent", 3100, 0, NULL, 0), RC_NOTFOUND);

	/* b: again later, then given up. */
	assert_int_equal(dresult(f, b, "pending", 3000, 5000, "HTTP 503", 503), RC_OK);
	assert_int_equal(store_delivery_get(f->st, b, f->a, &d, &e), RC_OK);
	assert_string_equal(d.state, "pending");
	assert_int_equal(d.attempts, 1);
	assert_int_equal(d.next_attempt_at, 5000);
	assert_string_equal(d.last_error, "HTTP 503");
	assert_int_equal(d.sent_at, 0);
	assert_int_equal(store_deliveries_due(f->st, 4000, NULL, 10, 0, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].id, c);
	assert_int_equal(dresult(f, b, "failed", 5000, 0, "connection refused", 0), RC_OK);
	assert_int_equal(store_delivery_get(f->st, b, f->a, &d, &e), RC_OK);
	assert_string_equal(d.state, "failed");
	assert_int_equal(d.attempts, 2);
	assert_int_equal(d.last_status, 0);
	assert_string_equal(d.last_error, "connection refused");

	/* A person's retry: failed ones only, due at once. */
	assert_int_equal(dretry(f, b, 6000), RC_OK);
	assert_int_equal(store_delivery_get(f->st, b, f->a, &d, &e), RC_OK);
	assert_string_equal(d.state, "pending");
	assert_int_equal(d.next_attempt_at, 6000);
	assert_int_equal(dretry(f, b, 6000), RC_CONFLICT);
	assert_int_equal(dretry(f, a, 6000), RC_CONFLICT);
	assert_int_equal(dretry(f, 999999, 6000), RC_NOTFOUND);

	/* The list: newest first, without bodies, filtered, in pages. */
	assert_int_equal(store_delivery_list(f->st, &dq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 3);
	assert_int_equal(dl.items[0].id, c);
	assert_int_equal(dl.items[2].id, a);
	assert_null(dl.items[0].body);
	dq.state = "sent";
	assert_int_equal(store_delivery_list(f->st, &dq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].id, a);
	dq.state = NULL;
	dq.channel = "webhook";
	assert_int_equal(store_delivery_list(f->st, &dq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].id, b);
	dq.channel = NULL;
	dq.webhook_id = hook;
	assert_int_equal(store_delivery_list(f->st, &dq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	dq.webhook_id = 0;
	dq.ticket_id = tid + 1000;
	assert_int_equal(store_delivery_list(f->st, &dq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 0);
	dq.ticket_id = tid;
	dq.limit = 2;
	assert_int_equal(store_delivery_list(f->st, &dq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 2);
	assert_int_equal(dl.next_after, b);
	dq.after = dl.next_after;
	assert_int_equal(store_delivery_list(f->st, &dq, f->a, &dl, &e), RC_OK);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].id, a);
	assert_int_equal(store_delivery_get(f->st, 999999, f->a, &d, &e), RC_NOTFOUND);
}

/* Webhooks: versioned updates (a missing secret keeps the one there), a
 * client that must exist, deletion failing its pending deliveries. */
static void test_webhooks(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct store_write w;
	struct webhook_row h, *items;
	struct delivery_row item, other, d;
	struct outbox_list ob;
	size_t n;
	int64_t id, all;
	struct err e;

	id = mk_webhook(f, f->c1, "acme");
	all = mk_webhook(f, 0, "everything");
	assert_int_equal(store_webhook_get(f->st, id, f->a, &h, &e), RC_OK);
	assert_string_equal(h.name, "acme");
	assert_string_equal(h.url, "https://hooks.example/in");
	assert_string_equal(h.events, "[\"ticket.created\"]");
	assert_string_equal(h.secret, "s3cret");
	assert_int_equal(h.client_id, f->c1);
	assert_true(h.active);
	assert_int_equal(h.version, 1);
	assert_int_equal(store_webhook_get(f->st, all, f->a, &h, &e), RC_OK);
	assert_int_equal(h.client_id, 0);

	store_write_init(&w, W_WEBHOOK_PUT, &sys);
	w.in.webhook = (struct webhook_row){ .name = "ghost", .url = "https://x.example/",
					     .events = "[]", .secret = "k", .client_id = 999999 };
	assert_int_equal(store_write_sync(f->st, &w), RC_INVALID);
	assert_string_equal(w.err.field, "client_id");

	store_write_init(&w, W_WEBHOOK_PUT, &sys);
	w.in.webhook = (struct webhook_row){ .id = id, .name = "acme 2", .url = "https://hooks.example/v2",
					     .events = "[\"ticket.updated\"]", .client_id = f->c1 };
	w.if_version = 1;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(w.version, 2);
	assert_int_equal(store_write_sync(f->st, &w), RC_STALE);
	w.in.webhook.id = 999999;
	w.if_version = 0;
	assert_int_equal(store_write_sync(f->st, &w), RC_NOTFOUND);
	assert_int_equal(store_webhook_get(f->st, id, f->a, &h, &e), RC_OK);
	assert_string_equal(h.name, "acme 2");
	assert_string_equal(h.secret, "s3cret");
	assert_false(h.active);
	assert_int_equal(h.version, 2);
	assert_int_equal(store_webhook_list(f->st, f->a, &items, &n, &e), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].id, id);
	assert_int_equal(items[1].id, all);

	/* Deleting a webhook fails its pending deliveries, no one else's. */
	outbox_ticket(f, 1);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 1);
	memset(&item, 0, sizeof(item));
	item.channel = "webhook";
	item.target = "https://hooks.example/v2";
	item.webhook_id = id;
	item.body = (const unsigned char *)"{}";
	item.body_len = 2;
	other = item;
	other.webhook_id = all;
	{
		struct delivery_row two[2] = { item, other };
		assert_int_equal(expand(f, ob.items[0].id, 1000, two, 2), RC_OK);
		item.id = two[0].id;
		other.id = two[1].id;
	}
	store_write_init(&w, W_WEBHOOK_DELETE, &sys);
	w.id = id;
	w.audit.action = "webhook.delete";
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_write_sync(f->st, &w), RC_NOTFOUND);
	assert_int_equal(store_webhook_get(f->st, id, f->a, &h, &e), RC_NOTFOUND);
	assert_int_equal(store_delivery_get(f->st, item.id, f->a, &d, &e), RC_OK);
	assert_string_equal(d.state, "failed");
	assert_string_equal(d.last_error, "webhook deleted");
	assert_int_equal(store_delivery_get(f->st, other.id, f->a, &d, &e), RC_OK);
	assert_string_equal(d.state, "pending");
}

static enum result tmpl_put(struct fx *f, const char *key, const char *subject, int64_t ver,
			    int64_t *got)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_TEMPLATE_PUT, &sys);
	w.in.tmpl.key = key;
	w.in.tmpl.subject = subject;
	w.in.tmpl.body = "Body of {{ticket.subject}}";
	w.if_version = ver;
	w.audit.action = "template.update";
	store_write_sync(f->st, &w);
	if (got)
		*got = w.version;
	return w.rc;
}

static enum result route_put(struct fx *f, int64_t id, const char *address, int64_t client,
			     const char *queue, int64_t *got)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_MAIL_ROUTE_PUT, &sys);
	w.in.route.id = id;
	w.in.route.address = address;
	w.in.route.client_id = client;
	w.in.route.queue = queue;
	w.audit.action = "mail_route.put";
	store_write_sync(f->st, &w);
	if (got)
		*got = w.id;
	if (w.rc == RC_CONFLICT)
		assert_string_equal(w.err.field, "address");
	if (w.rc == RC_INVALID)
		assert_string_equal(w.err.field, "client_id");
	return w.rc;
}

/* Template overrides (versioned, deleted back to the built-in text), mail
 * routes (one per address; a client that must exist), clients by their
 * e-mail domain. */
static void test_templates_routes(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct store_write w;
	struct template_row t, *tl;
	struct mail_route_row r, *rl;
	size_t n;
	int64_t v, id, noc;
	struct err e;

	assert_int_equal(store_template_get(f->st, "ticket.created", f->a, &t, &e), RC_NOTFOUND);
	assert_int_equal(tmpl_put(f, "ticket.created", "New: {{ticket.subject}}", 0, &v), RC_OK);
	assert_int_equal(v, 1);
	assert_int_equal(tmpl_put(f, "ticket.created", "Again", 0, &v), RC_OK);
	assert_int_equal(v, 2);
	assert_int_equal(tmpl_put(f, "ticket.created", "Stale", 1, &v), RC_STALE);
	assert_int_equal(tmpl_put(f, "ticket.created", "Third", 2, &v), RC_OK);
	assert_int_equal(v, 3);
	assert_int_equal(tmpl_put(f, "ticket.resolved", "Done", 0, &v), RC_OK);
	assert_int_equal(store_template_get(f->st, "ticket.created", f->a, &t, &e), RC_OK);
	assert_string_equal(t.key, "ticket.created");
	assert_string_equal(t.subject, "Third");
	assert_string_equal(t.body, "Body of {{ticket.subject}}");
	assert_int_equal(t.version, 3);
	assert_true(t.updated_at > 0);
	assert_int_equal(store_template_list(f->st, f->a, &tl, &n, &e), RC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(tl[0].key, "ticket.created");
	assert_string_equal(tl[1].key, "ticket.resolved");
	store_write_init(&w, W_TEMPLATE_DELETE, &sys);
	w.in.tmpl.key = "ticket.created";
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_write_sync(f->st, &w), RC_NOTFOUND);
	assert_int_equal(store_template_get(f->st, "ticket.created", f->a, &t, &e), RC_NOTFOUND);

	assert_int_equal(route_put(f, 0, "acme@support.example", f->c1, NULL, &id), RC_OK);
	assert_int_equal(route_put(f, 0, "acme@support.example", f->c2, NULL, NULL), RC_CONFLICT);
	assert_int_equal(route_put(f, 0, "ghost@support.example", 999999, NULL, NULL), RC_INVALID);
	assert_int_equal(route_put(f, 0, "noc@support.example", 0, "noc", &noc), RC_OK);
	assert_int_equal(store_mail_route_find(f->st, "acme@support.example", f->a, &r, &e), RC_OK);
	assert_int_equal(r.id, id);
	assert_int_equal(r.client_id, f->c1);
	assert_null(r.queue);
	assert_int_equal(store_mail_route_find(f->st, "noc@support.example", f->a, &r, &e), RC_OK);
	assert_int_equal(r.client_id, 0);
	assert_string_equal(r.queue, "noc");
	assert_int_equal(store_mail_route_find(f->st, "none@support.example", f->a, &r, &e),
			 RC_NOTFOUND);
	assert_int_equal(route_put(f, noc, "acme@support.example", 0, "noc", NULL), RC_CONFLICT);
	assert_int_equal(route_put(f, noc, "ops@support.example", f->c2, "ops", NULL), RC_OK);
	assert_int_equal(store_mail_route_find(f->st, "ops@support.example", f->a, &r, &e), RC_OK);
	assert_int_equal(r.id, noc);
	assert_int_equal(r.client_id, f->c2);
	assert_int_equal(store_mail_route_list(f->st, f->a, &rl, &n, &e), RC_OK);
	assert_int_equal(n, 2);
	store_write_init(&w, W_MAIL_ROUTE_DELETE, &sys);
	w.id = id;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_write_sync(f->st, &w), RC_NOTFOUND);
	assert_int_equal(store_mail_route_find(f->st, "acme@support.example", f->a, &r, &e),
			 RC_NOTFOUND);

	/* Clients by e-mail domain: active ones, without case. */
	store_write_init(&w, W_CLIENT_UPDATE, &sys);
	w.id = f->c1;
	w.fields = F_EMAIL_DOMAIN;
	w.in.client.email_domain = "acme.example";
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_client_by_domain(f->st, "ACME.example", &id, &e), RC_OK);
	assert_int_equal(id, f->c1);
	assert_int_equal(store_client_by_domain(f->st, "borealis.example", &id, &e), RC_NOTFOUND);
	store_write_init(&w, W_CLIENT_UPDATE, &sys);
	w.id = f->c1;
	w.fields = F_ACTIVE;
	w.in.client.active = false;
	assert_int_equal(store_write_sync(f->st, &w), RC_OK);
	assert_int_equal(store_client_by_domain(f->st, "acme.example", &id, &e), RC_NOTFOUND);
}

/* ---- report schedules (0009) ------------------------------------------------------------- */

static enum result put_schedule(struct fx *f, const struct scope *sc, struct report_schedule *x,
				int64_t if_version, int64_t *id)
{
	struct store_write w;

	store_write_init(&w, W_SCHEDULE_PUT, sc);
	w.in.sched = *x;
	w.if_version = if_version;
	w.audit.action = x->id ? "report_schedule.update" : "report_schedule.create";
	w.audit.object_type = "report_schedule";
	store_write_sync(f->st, &w);
	if (id)
		*id = w.id;
	if (w.rc == RC_OK)
		assert_true(w.version >= 1);
	return w.rc;
}

/* The job's write: period [period, to) (NULL: only next_at), on the
 * schedule's version (0: any). */
static enum result claim_v(struct fx *f, const struct scope *sc, int64_t id, const char *period,
			   const char *to, int64_t version, int64_t next_at, int64_t now,
			   int64_t *outbox)
{
	struct store_write w;

	store_write_init(&w, W_SCHEDULE_CLAIM, sc);
	w.in.claim.id = id;
	w.in.claim.period = period;
	w.in.claim.period_to = to;
	w.in.claim.version = version;
	w.in.claim.next_at = next_at;
	w.in.claim.now = now;
	w.in.claim.event = "report.review";
	w.in.claim.payload = "{\"schedule_id\":1}";
	store_write_sync(f->st, &w);
	if (outbox)
		*outbox = w.id;
	if (w.rc == RC_CONFLICT)
		assert_string_equal(w.err.field, "period");
	return w.rc;
}

static enum result claim(struct fx *f, const struct scope *sc, int64_t id, const char *period,
			 const char *to, int64_t next_at, int64_t now, int64_t *outbox)
{
	return claim_v(f, sc, id, period, to, 0, next_at, now, outbox);
}

/* An outbox row's expansion failed: put back (state "pending", at next)
 * or given up ("failed"). */
static enum result defer_row(struct fx *f, const struct scope *sc, int64_t id, const char *state,
			     int64_t next)
{
	struct store_write w;

	store_write_init(&w, W_OUTBOX_DEFER, sc);
	w.in.dres.id = id;
	w.in.dres.state = state;
	w.in.dres.next_attempt_at = next;
	store_write_sync(f->st, &w);
	if (w.rc == RC_CONFLICT)
		assert_string_equal(w.err.field, "outbox");
	return w.rc;
}

/* Claims of one period submitted to each of stores[0..n) at once (k
 * each, all in flight together): how many won. */
static int claim_race(struct store **stores, int n, int k, int64_t id, const char *period,
		      const char *to)
{
	struct pending p = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, n * k, 0, 0 };
	struct store_write ws[16];
	struct scope sys = scope_system();

	assert_true(n * k <= 16);
	for (int i = 0; i < n * k; i++) {
		store_write_init(&ws[i], W_SCHEDULE_CLAIM, &sys);
		ws[i].in.claim.id = id;
		ws[i].in.claim.period = period;
		ws[i].in.claim.period_to = to;
		ws[i].in.claim.next_at = 9000;
		ws[i].in.claim.now = 8000;
		ws[i].in.claim.event = "report.review";
		ws[i].in.claim.payload = "{\"race\":true}";
		ws[i].done = on_done;
		ws[i].arg = &p;
	}
	/* Round robin, so every store has claims in flight at once. */
	for (int i = 0; i < n * k; i++)
		store_submit(stores[i % n], &ws[i]);
	pthread_mutex_lock(&p.mu);
	while (p.left)
		pthread_cond_wait(&p.cv, &p.mu);
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < n * k; i++)
		assert_true(ws[i].rc == RC_OK || ws[i].rc == RC_CONFLICT);
	assert_int_equal(p.ok + p.failed, n * k);
	return p.ok;
}

static enum result send_now(struct fx *f, const struct scope *sc, int64_t id, int64_t *outbox)
{
	struct store_write w;

	store_write_init(&w, W_SCHEDULE_SEND, sc);
	w.in.claim.id = id;
	w.in.claim.event = "report.review";
	w.in.claim.payload = "{\"manual\":true}";
	store_write_sync(f->st, &w);
	if (outbox)
		*outbox = w.id;
	return w.rc;
}

/* Report schedules: scoped reads, versions, counts_from, the job's due
 * list (enabled, soonest first), and the claim: one conditional write
 * that takes a period once (compared by its end, so a change of cadence
 * never resends what was covered), with its outbox row or not at all,
 * also when eight claims of one period arrive together (on PostgreSQL
 * from two stores too), never over an edit made since the job's read;
 * "send now" writes only the row; an outbox row put back (W_OUTBOX_DEFER). */
static void test_report_schedules(void **state)
{
	struct fx *f = *state;
	struct scope sys = scope_system();
	struct scope admin = scope_for(1, ROLE_ADMIN, 0, 0);
	struct scope c1 = scope_for(7, ROLE_CLIENT_ADMIN, 0, f->c1);
	struct scope c2 = scope_for(8, ROLE_CLIENT_ADMIN, 0, f->c2);
	struct report_schedule x = { 0 }, got;
	struct report_schedule_list l;
	struct list_q lq = { 0 };
	struct outbox_list ob;
	struct err e;
	int64_t s1, s2, s3, out1, out2, ver;

	x.client_id = f->c1;
	x.cadence = "monthly";
	x.recipients = "[\"a@acme.example\",\"b@acme.example\"]";
	x.csv = true;
	x.hour = 7;
	x.enabled = true;
	x.next_at = 1000;
	assert_int_equal(put_schedule(f, &admin, &x, 0, &s1), RC_OK);
	assert_true(s1 > 0);
	/* Only the provider writes them; a client must exist and be seen. */
	assert_int_equal(put_schedule(f, &c1, &x, 0, NULL), RC_DENIED);
	x.client_id = f->c2 + 1000;
	assert_int_equal(put_schedule(f, &admin, &x, 0, NULL), RC_NOTFOUND);

	x = (struct report_schedule){ .client_id = f->c2, .cadence = "quarterly", .recipients = "[\"c@b.example\"]",
				      .hour = 23, .enabled = true, .next_at = 5000 };
	assert_int_equal(put_schedule(f, &admin, &x, 0, &s2), RC_OK);
	x = (struct report_schedule){ .client_id = f->c1, .cadence = "monthly", .recipients = "[\"d@acme.example\"]",
				      .hour = 0, .enabled = false, .next_at = 500 };
	assert_int_equal(put_schedule(f, &admin, &x, 0, &s3), RC_OK);
	assert_true(s1 < s2 && s2 < s3);

	/* Reads: as stored, with the client's name; another client's is not there. */
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	assert_int_equal(got.id, s1);
	assert_int_equal(got.client_id, f->c1);
	assert_string_equal(got.client_name, "Acme");
	assert_string_equal(got.cadence, "monthly");
	assert_string_equal(got.recipients, "[\"a@acme.example\",\"b@acme.example\"]");
	assert_true(got.csv);
	assert_true(got.enabled);
	assert_int_equal(got.hour, 7);
	assert_null(got.last_period_sent);
	assert_int_equal(got.last_sent_at, 0);
	assert_int_equal(got.next_at, 1000);
	assert_int_equal(got.created_by, 1);
	assert_true(got.created_at > 0 && got.updated_at == got.created_at);
	assert_int_equal(got.counts_from, got.created_at);   /* none given: the creation */
	assert_null(got.last_period_to);
	assert_int_equal(got.version, 1);
	assert_int_equal(store_schedule_get(f->st, &c1, s1, f->a, &got, &e), RC_OK);
	assert_int_equal(store_schedule_get(f->st, &c2, s1, f->a, &got, &e), RC_NOTFOUND);
	assert_int_equal(store_schedule_get(f->st, &sys, s3 + 100, f->a, &got, &e), RC_NOTFOUND);

	/* Lists: by id, in scope, by client, in pages. */
	assert_int_equal(store_schedule_list(f->st, &sys, &lq, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.items[0].id, s1);
	assert_int_equal(l.items[2].id, s3);
	assert_int_equal(l.next_after, 0);
	assert_int_equal(store_schedule_list(f->st, &c2, &lq, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].id, s2);
	lq.client_id = f->c1;
	assert_int_equal(store_schedule_list(f->st, &sys, &lq, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(store_schedule_list(f->st, &c2, &lq, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 0);
	lq.client_id = 0;
	lq.limit = 2;
	assert_int_equal(store_schedule_list(f->st, &sys, &lq, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.next_after, s2);
	lq.after = l.next_after;
	assert_int_equal(store_schedule_list(f->st, &sys, &lq, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].id, s3);
	assert_int_equal(l.next_after, 0);

	/* Due: enabled ones whose next_at has come, soonest first. */
	assert_int_equal(store_schedules_due(f->st, 999, 10, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 0);           /* s3 (500) is switched off */
	assert_int_equal(store_schedules_due(f->st, 1000, 10, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].id, s1);
	assert_int_equal(store_schedules_due(f->st, 6000, 10, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.items[0].id, s1);
	assert_int_equal(l.items[1].id, s2);
	assert_int_equal(store_schedules_due(f->st, 6000, 1, f->a, &l, &e), RC_OK);
	assert_int_equal(l.n, 1);

	/* Versions. */
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	got.hour = 9;
	got.recipients = "[\"a@acme.example\"]";
	assert_int_equal(put_schedule(f, &admin, &got, 1, NULL), RC_OK);
	assert_int_equal(put_schedule(f, &admin, &got, 1, NULL), RC_STALE);
	assert_int_equal(put_schedule(f, &c1, &got, 0, NULL), RC_DENIED);
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	assert_int_equal(got.version, 2);
	assert_int_equal(got.hour, 9);
	assert_int_equal(got.counts_from, got.created_at);   /* 0 written: unchanged */
	assert_string_equal(got.recipients, "[\"a@acme.example\"]");
	assert_int_equal(got.client_id, f->c1);
	/* Switched on again: the API's counts_from is kept. */
	got.counts_from = got.created_at + 12345;
	assert_int_equal(put_schedule(f, &admin, &got, 2, NULL), RC_OK);
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	assert_int_equal(got.counts_from, got.created_at + 12345);
	ver = got.version;
	got.id = s3 + 100;
	assert_int_equal(put_schedule(f, &admin, &got, 0, NULL), RC_NOTFOUND);

	/* The claim: the period and its outbox row, once. */
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 0);
	assert_int_equal(claim(f, &sys, s1, "2027-03-01", "2027-04-01", 2000, 1500, &out1), RC_OK);
	assert_true(out1 > 0);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 1);
	assert_int_equal(ob.items[0].id, out1);
	assert_string_equal(ob.items[0].event, "report.review");
	assert_int_equal(ob.items[0].client_id, f->c1);
	assert_int_equal(ob.items[0].ticket_id, 0);
	assert_string_equal(ob.items[0].payload, "{\"schedule_id\":1}");
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	assert_string_equal(got.last_period_sent, "2027-03-01");
	assert_string_equal(got.last_period_to, "2027-04-01");
	assert_int_equal(got.last_sent_at, 1500);
	assert_int_equal(got.next_at, 2000);
	assert_int_equal(got.version, ver);  /* the system's bookkeeping, not an edit */
	/* The same period, an earlier one, a switched-off or missing schedule:
	 * nothing, and no row. */
	assert_int_equal(claim(f, &sys, s1, "2027-03-01", "2027-04-01", 3000, 1600, NULL), RC_CONFLICT);
	assert_int_equal(claim(f, &sys, s1, "2027-02-01", "2027-03-01", 3000, 1600, NULL), RC_CONFLICT);
	assert_int_equal(claim(f, &sys, s3, "2027-03-01", "2027-04-01", 3000, 1600, NULL), RC_CONFLICT);
	assert_int_equal(claim(f, &sys, s3 + 100, "2027-03-01", "2027-04-01", 3000, 1600, NULL),
			 RC_CONFLICT);
	assert_int_equal(claim(f, &c1, s1, "2027-04-01", "2027-05-01", 3000, 1600, NULL), RC_DENIED);
	/* A period ending within what was sent (the cadence changed from
	 * quarterly): February..March is covered by March's end. */
	assert_int_equal(claim(f, &sys, s1, "2027-02-01", "2027-04-01", 3000, 1600, NULL), RC_CONFLICT);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 1);
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	assert_int_equal(got.next_at, 2000);
	/* A later period goes. */
	assert_int_equal(claim(f, &sys, s1, "2027-04-01", "2027-05-01", 3000, 2500, NULL), RC_OK);
	/* Written on the version the job read (invariant 4): an edit since
	 * wins, its next_at stays, and nothing is claimed on the old read. */
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	assert_int_equal(got.version, ver);
	got.next_at = 4444;
	assert_int_equal(put_schedule(f, &admin, &got, ver, NULL), RC_OK);
	assert_int_equal(claim_v(f, &sys, s1, NULL, NULL, ver, 5555, 2600, NULL), RC_STALE);
	assert_int_equal(claim_v(f, &sys, s1, "2027-05-01", "2027-06-01", ver, 5555, 2600, NULL),
			 RC_CONFLICT);
	assert_int_equal(claim_v(f, &sys, s3 + 100, NULL, NULL, ver, 5555, 2600, NULL), RC_NOTFOUND);
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	assert_int_equal(got.next_at, 4444);
	assert_string_equal(got.last_period_to, "2027-05-01");
	assert_int_equal(got.version, ver + 1);
	assert_int_equal(claim_v(f, &sys, s1, NULL, NULL, ver + 1, 5555, 2600, NULL), RC_OK);
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	assert_int_equal(got.next_at, 5555);
	assert_int_equal(got.version, ver + 1);
	/* A claim needs the period's end. */
	assert_int_equal(claim(f, &sys, s1, "2027-05-01", NULL, 5555, 2600, NULL), RC_INVALID);
	/* Only the next instant (no period): any schedule, on or off. */
	assert_int_equal(claim(f, &sys, s3, NULL, NULL, 7000, 1600, NULL), RC_OK);
	assert_int_equal(store_schedule_get(f->st, &sys, s3, f->a, &got, &e), RC_OK);
	assert_int_equal(got.next_at, 7000);
	assert_null(got.last_period_sent);
	assert_int_equal(claim(f, &sys, s3 + 100, NULL, NULL, 7000, 1600, NULL), RC_NOTFOUND);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 2);

	/* Eight claims of one period at once: one wins, seven change nothing. */
	assert_int_equal(claim_race(&f->st, 1, 8, s2, "2027-01-01", "2027-04-01"), 1);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 3);
	assert_string_equal(ob.items[2].payload, "{\"race\":true}");
	assert_int_equal(ob.items[2].client_id, f->c2);
	/* Quarterly to monthly: March ends with the quarter sent, not sent. */
	assert_int_equal(claim(f, &sys, s2, "2027-03-01", "2027-04-01", 9000, 8100, NULL), RC_CONFLICT);
	/* Two servers (on PostgreSQL: two stores, two writer connections)
	 * claim the next quarter at once: one wins. SQLite has one writer
	 * per database file and runs one server, so it has no such race. */
	if (pg_base) {
		struct store *two[2] = { f->st, NULL };
		assert_int_equal(store_open(&two[1], f->path, false, &e), RC_OK);
		assert_int_equal(claim_race(two, 2, 4, s2, "2027-04-01", "2027-07-01"), 1);
		store_close(two[1]);
		assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
		assert_int_equal(ob.n, 4);
		assert_int_equal(store_schedule_get(f->st, &sys, s2, f->a, &got, &e), RC_OK);
		assert_string_equal(got.last_period_to, "2027-07-01");
		/* Back to the rows the rest expects: the winner's goes. */
		assert_int_equal(defer_row(f, &sys, ob.items[3].id, "failed", 0), RC_OK);
	}

	/* Send now: the row only, the schedule as it was. */
	assert_int_equal(send_now(f, &admin, s3, &out2), RC_OK);
	assert_true(out2 > out1);
	assert_int_equal(store_schedule_get(f->st, &sys, s3, f->a, &got, &e), RC_OK);
	assert_null(got.last_period_sent);
	assert_int_equal(send_now(f, &c1, s3, NULL), RC_DENIED);
	assert_int_equal(send_now(f, &admin, s3 + 100, NULL), RC_NOTFOUND);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 4);
	assert_int_equal(ob.items[3].id, out2);
	assert_int_equal(ob.items[3].client_id, f->c1);
	assert_string_equal(ob.items[3].payload, "{\"manual\":true}");
	assert_int_equal(ob.items[3].attempts, 0);

	/* An outbox row whose expansion failed: put back with its attempt
	 * counted (after the rows due: earliest due first), then given up;
	 * only a pending row, only by the system, only pending or failed. */
	assert_int_equal(ob.items[0].id, out1);
	assert_int_equal(ob.items[0].next_attempt_at, 1500);
	assert_int_equal(defer_row(f, &sys, out1, "pending", 8500), RC_OK);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 4);
	assert_int_equal(ob.items[1].next_attempt_at, 8000);
	assert_int_equal(ob.items[2].id, out1);
	assert_int_equal(ob.items[2].attempts, 1);
	assert_int_equal(ob.items[2].next_attempt_at, 8500);
	assert_int_equal(defer_row(f, &sys, out1, "pending", 8600), RC_OK);
	assert_int_equal(defer_row(f, &c1, out1, "failed", 0), RC_DENIED);
	assert_int_equal(defer_row(f, &sys, out1, "done", 0), RC_INVALID);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.items[2].attempts, 2);
	assert_int_equal(ob.items[2].next_attempt_at, 8600);
	assert_int_equal(defer_row(f, &sys, out1, "failed", 0), RC_OK);
	assert_int_equal(defer_row(f, &sys, out1, "pending", 9000), RC_CONFLICT);
	assert_int_equal(defer_row(f, &sys, out2 + 100, "pending", 9000), RC_CONFLICT);
	assert_int_equal(store_outbox_pending(f->st, 10, f->a, &ob, &e), RC_OK);
	assert_int_equal(ob.n, 3);
	for (size_t i = 0; i < ob.n; i++)
		assert_true(ob.items[i].id != out1);

	/* Monthly to quarterly: April went as a month; the second quarter
	 * ends later, so it goes whole. */
	assert_int_equal(claim(f, &sys, s1, "2027-04-01", "2027-07-01", 9000, 8200, NULL), RC_OK);
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_OK);
	assert_string_equal(got.last_period_sent, "2027-04-01");
	assert_string_equal(got.last_period_to, "2027-07-01");

	/* Deleting. */
	{
		struct store_write w;
		store_write_init(&w, W_SCHEDULE_DELETE, &c1);
		w.id = s1;
		assert_int_equal(store_write_sync(f->st, &w), RC_DENIED);
		store_write_init(&w, W_SCHEDULE_DELETE, &admin);
		w.id = s1;
		w.audit.action = "report_schedule.delete";
		assert_int_equal(store_write_sync(f->st, &w), RC_OK);
		assert_int_equal(store_write_sync(f->st, &w), RC_NOTFOUND);
	}
	assert_int_equal(store_schedule_get(f->st, &sys, s1, f->a, &got, &e), RC_NOTFOUND);
	assert_int_equal(claim(f, &sys, s1, "2027-09-01", "2027-10-01", 3000, 2500, NULL), RC_CONFLICT);
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
		cmocka_unit_test_setup_teardown(test_report_tickets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_csat_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_monitoring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totp_step_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_enroll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_checkin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_rollup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_rollup_first_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_failed_checkin_forgets_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_alerts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_checkin_alerts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_mwindows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_am_receivers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_ticket_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_attachment_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_deliveries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_templates_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_schedules, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
