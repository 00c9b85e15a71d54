/*
 * ticket_bench.c: tickets at volume, through the store (not one HTTP call
 * each). Generates N tickets for 200 clients (the open ones, about a fifth,
 * with SLA clocks, an eighth of those breached), then times the first page
 * of the lists a service desk opens all day, full-text search, and the
 * technician console's queue counts (one grouped read over every open
 * ticket).
 *
 * usage: ticket-bench DB N        (DB must not exist; it is created)
 * Prints store-level creates/s, then p50/p99 per query, each also as a
 * ratio to the unfiltered first page measured in the same run.
 */
#include "base/common.h"

#include <pthread.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "store/store.h"

#define CLIENTS 200
#define WINDOW 4096
#define RUNS 300

static const char *const words[] = { "printer", "toner", "outlook", "password", "vpn", "laptop",
	"screen", "backup", "server", "email", "wifi", "slow", "crash", "licence", "phone", "disk",
	"update", "scanner", "teams", "invoice", "access", "folder", "sync", "battery" };
static const char *const queues[] = { "general", "hardware", "network", "accounts", "projects" };

struct inflight {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n, failed;
};

static void done(struct store_write *w)
{
	struct inflight *f = w->arg;

	pthread_mutex_lock(&f->mu);
	f->n--;
	if (w->rc != RC_OK)
		f->failed++;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

typedef enum result (*query_fn)(struct store *, int i, struct arena *, size_t *n);

static struct store *st;

static enum result q_all(struct store *s, int i, struct arena *a, size_t *n)
{
	struct scope sc = scope_for(1, ROLE_DISPATCHER, 0, 0);
	struct ticket_q q = { .status = -1, .priority = -1, .limit = 50 };
	struct ticket_list l;
	struct err e;
	enum result r = store_ticket_list(s, &sc, &q, a, &l, &e);
	UNUSED(i);
	*n = l.n;
	return r;
}

static enum result q_queue(struct store *s, int i, struct arena *a, size_t *n)
{
	struct scope sc = scope_for(1, ROLE_TECHNICIAN, 1, 0);
	struct ticket_q q = { .status = TS_OPEN, .priority = -1, .limit = 50,
			      .queue = queues[i % 5] };
	struct ticket_list l;
	struct err e;
	enum result r = store_ticket_list(s, &sc, &q, a, &l, &e);
	*n = l.n;
	return r;
}

static enum result q_unassigned_p1(struct store *s, int i, struct arena *a, size_t *n)
{
	struct scope sc = scope_for(1, ROLE_DISPATCHER, 0, 0);
	struct ticket_q q = { .status = -1, .priority = PR_P1, .assignee_id = -1, .open_only = true,
			      .limit = 50 };
	struct ticket_list l;
	struct err e;
	enum result r = store_ticket_list(s, &sc, &q, a, &l, &e);
	UNUSED(i);
	*n = l.n;
	return r;
}

static enum result q_client(struct store *s, int i, struct arena *a, size_t *n)
{
	struct scope sc = scope_for(1000, ROLE_CLIENT_ADMIN, 0, 1 + i % CLIENTS);
	struct ticket_q q = { .status = -1, .priority = -1, .open_only = true, .limit = 50 };
	struct ticket_list l;
	struct err e;
	enum result r = store_ticket_list(s, &sc, &q, a, &l, &e);
	*n = l.n;
	return r;
}

static enum result q_search(struct store *s, int i, struct arena *a, size_t *n)
{
	struct scope sc = scope_for(1, ROLE_TECHNICIAN, 1, 0);
	char fts[64];
	struct ticket_q q = { .status = -1, .priority = -1, .limit = 50, .fts = fts };
	struct ticket_list l;
	struct err e;
	enum result r;

	snprintf(fts, sizeof(fts), "\"%s\" \"%s\"", words[i % 24], words[(i * 7 + 3) % 24]);
	r = store_ticket_list(s, &sc, &q, a, &l, &e);
	*n = l.n;
	return r;
}

static enum result q_queue_counts(struct store *s, int i, struct arena *a, size_t *n)
{
	struct scope sc = scope_for(1, ROLE_TECHNICIAN, 1, 0);
	struct queue_counts qc;
	struct err e;
	enum result r = store_queue_counts(s, &sc, 0, a, &qc, &e);

	UNUSED(i);
	*n = qc.n;
	return r;
}

static enum result q_queue_counts_client(struct store *s, int i, struct arena *a, size_t *n)
{
	struct scope sc = scope_for(1, ROLE_DISPATCHER, 0, 0);
	struct queue_counts qc;
	struct err e;
	enum result r = store_queue_counts(s, &sc, 1 + i % CLIENTS, a, &qc, &e);

	*n = qc.n;
	return r;
}

/* One call of the counts, summed, as a check of what was timed. */
static void queue_totals(void)
{
	struct scope sc = scope_for(1, ROLE_TECHNICIAN, 1, 0);
	struct arena *a = arena_new(1u << 20);
	struct queue_counts qc;
	struct err e;
	int64_t open = 0, unassigned = 0, p1 = 0, breached = 0;

	if (store_queue_counts(st, &sc, 0, a, &qc, &e) != RC_OK) {
		fprintf(stderr, "queue counts: %s\n", e.msg);
		exit(1);
	}
	for (size_t i = 0; i < qc.n; i++) {
		open += qc.items[i].open;
		unassigned += qc.items[i].unassigned;
		p1 += qc.items[i].p1;
		breached += qc.items[i].breached;
	}
	printf("  queue counts: %zu queues, %" PRId64 " open tickets, %" PRId64 " unassigned, %"
	       PRId64 " P1, %" PRId64 " breached\n", qc.n, open, unassigned, p1, breached);
	arena_free(a);
}

static void measure(const char *name, query_fn fn, double base_p50)
{
	int64_t ns[RUNS];
	size_t n = 0, rows = 0;
	struct arena *a;

	for (int i = 0; i < RUNS; i++) {
		int64_t t0;
		a = arena_new(64u << 20);
		t0 = clock_mono_ns();
		if (fn(st, i, a, &n) != RC_OK) {
			fprintf(stderr, "%s: query failed\n", name);
			exit(1);
		}
		ns[i] = clock_mono_ns() - t0;
		rows += n;
		arena_free(a);
	}
	qsort(ns, RUNS, sizeof(ns[0]), cmp_i64);
	printf("  %-44s p50 %7.3f ms  p99 %7.3f ms  rows/page %5.1f  p50 x%.1f of the plain page\n",
	       name, (double)ns[RUNS / 2] / 1e6, (double)ns[RUNS * 99 / 100] / 1e6,
	       (double)rows / RUNS, base_p50 > 0 ? (double)ns[RUNS / 2] / 1e6 / base_p50 : 1.0);
}

static double p50_of(query_fn fn)
{
	int64_t ns[RUNS];
	size_t n;

	for (int i = 0; i < RUNS; i++) {
		struct arena *a = arena_new(64u << 20);
		int64_t t0 = clock_mono_ns();
		fn(st, i, a, &n);
		ns[i] = clock_mono_ns() - t0;
		arena_free(a);
	}
	qsort(ns, RUNS, sizeof(ns[0]), cmp_i64);
	return (double)ns[RUNS / 2] / 1e6;
}

int main(int argc, char **argv)
{
	struct scope sys = scope_system();
	struct inflight f = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct store_write *ws;
	struct ticket_write *tws;
	struct err e;
	int64_t n, t0, now = clock_now_ms();
	double secs, base;

	if (argc != 3 || (n = strtoll(argv[2], NULL, 10)) <= 0)
		return 2;
	if (auth_init(&e) != RC_OK || store_open(&st, argv[1], true, &e) != RC_OK) {
		fprintf(stderr, "ticket-bench: %s\n", e.msg);
		return 1;
	}
	for (int c = 0; c < CLIENTS; c++) {
		struct store_write w;
		char name[32];
		snprintf(name, sizeof(name), "Client %03d", c + 1);
		store_write_init(&w, W_CLIENT_CREATE, &sys);
		w.in.client.name = name;
		w.in.client.timezone = "UTC";
		w.in.client.active = true;
		if (store_write_sync(st, &w) != RC_OK)
			return 1;
	}
	ws = calloc(WINDOW, sizeof(*ws));
	tws = calloc(WINDOW, sizeof(*tws));
	char (*subj)[96] = calloc(WINDOW, 96);
	t0 = clock_mono_ns();
	for (int64_t i = 0; i < n; i++) {
		size_t slot = (size_t)(i % WINDOW);
		struct ticket *t = &tws[slot].t;
		uint64_t x = rnd();

		pthread_mutex_lock(&f.mu);
		while (f.n >= WINDOW / 2)
			pthread_cond_wait(&f.cv, &f.mu);
		f.n++;
		pthread_mutex_unlock(&f.mu);
		/* Slots are reused only after their write is done: the window
		 * is twice the number in flight. */
		memset(&tws[slot], 0, sizeof(tws[slot]));
		snprintf(subj[slot], 96, "%s %s %s #%" PRId64, words[x % 24], words[(x >> 8) % 24],
			 words[(x >> 16) % 24], i);
		t->client_id = 1 + (int64_t)((x >> 24) % CLIENTS);
		t->subject = subj[slot];
		t->description = "generated by bench/ticket_bench.c";
		t->type = (enum ttype)((x >> 32) % TT_COUNT);
		t->impact = (enum level)((x >> 36) % LV_COUNT);
		t->urgency = (enum level)((x >> 40) % LV_COUNT);
		t->priority = priority_of(NULL, t->impact, t->urgency);
		t->channel = (enum channel)((x >> 44) % CH_COUNT);
		t->queue = queues[(x >> 48) % 5];
		t->tier = 1 + (int)((x >> 52) % 3);
		/* Most history is closed; a working set stays open. */
		t->status = (x >> 56) % 10 < 8 ? TS_CLOSED : (enum tstatus)(rnd() % 5);
		t->assignee_id = (x >> 60) % 4 ? 2 + (int64_t)((x >> 61) % 3) : 0;
		t->created_at = t->last_activity_at = now - (n - i) * 90000;
		t->fcr = -1;
		t->tags = "[]";
		if (t->status != TS_CLOSED) {
			/* Open: SLA clocks as the tracker leaves them (an eighth
			 * breached), so the counts' join finds rows. */
			uint64_t y = rnd();
			t->sla.present = true;
			t->sla.policy_id = 1;
			t->sla.log = "[]";
			t->sla.response_due = t->created_at + 3600000;
			t->sla.resolution_due = t->created_at + 28800000;
			t->sla.response_breached = y % 16 == 0;
			t->sla.resolution_breached = y % 16 == 1;
			t->sla.as_of = t->created_at;
			tws[slot].sla_set = true;
			tws[slot].sla_gen = -1;
		}
		tws[slot].if_version = 0;
		store_write_init(&ws[slot], W_TICKET_CREATE, &sys);
		ws[slot].in.tw = &tws[slot];
		ws[slot].done = done;
		ws[slot].arg = &f;
		store_submit(st, &ws[slot]);
	}
	pthread_mutex_lock(&f.mu);
	while (f.n)
		pthread_cond_wait(&f.cv, &f.mu);
	pthread_mutex_unlock(&f.mu);
	secs = (double)(clock_mono_ns() - t0) / 1e9;
	printf("tickets: %" PRId64 " for %d clients, created through the store in %.1f s: %.0f creates/s (%d failed)\n",
	       n, CLIENTS, secs, (double)n / secs, f.failed);

	base = p50_of(q_all);
	printf("first page (50), newest first, %d runs each:\n", RUNS);
	measure("all tickets (baseline)", q_all, base);
	measure("queue X, status open (technician)", q_queue, base);
	measure("open P1 unassigned (dispatcher)", q_unassigned_p1, base);
	measure("one client's open tickets (client admin)", q_client, base);
	measure("full text, two words (technician)", q_search, base);
	printf("queue counts over every open ticket (one grouped read), %d runs each:\n", RUNS);
	measure("all queues (technician console)", q_queue_counts, base);
	measure("all queues of one client (client_id)", q_queue_counts_client, base);
	queue_totals();
	store_close(st);
	free(ws);
	free(tws);
	free(subj);
	return f.failed ? 1 : 0;
}
