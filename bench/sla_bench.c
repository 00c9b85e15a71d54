/*
 * sla_bench.c: the SLA engine's speed.
 *  1. Due-time arithmetic. A realistic calendar (Mon-Fri 08:00-12:00 and
 *     13:00-17:00 in America/New_York, ten holidays) and due times 4 hours,
 *     2 business days and 10 business days ahead from random instants;
 *     business time between random instants. ns per call and the ratio to
 *     one time-zone offset lookup measured in the same run.
 *  2. A ticket's whole replay (sla_eval) over a realistic history.
 *  3. With "sla-bench DB N": N open tickets with SLA tracking in a new
 *     store, then a calendar edit that recomputes all of them in its
 *     transaction; the time against the same edit without a recompute.
 */
#include "base/common.h"

#include <pthread.h>

#include "auth/auth.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/util.h"
#include "jobs/sla_track.h"
#include "sla/calendar.h"
#include "sla/clock.h"
#include "store/store.h"

#define N 200000

static uint64_t rng = 1;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 2: replays of a history: created, replied, pending, open, priority, tier. */
static void bench_replay(const struct calendar *c, int64_t base, double ns_off)
{
	struct sla_policy p = { 0 };
	struct sla_ev ev[10];
	struct sla_result r;
	struct err e;
	int64_t t0, sink = 0;
	double ns;

	for (int i = 0; i < PR_COUNT; i++) {
		p.cal[i] = c;
		p.response[i] = (int64_t)(i + 1) * 3600000;
		p.resolution[i] = (int64_t)(i + 1) * 8 * 3600000;
	}
	p.pause[TS_PENDING_CUSTOMER] = p.pause[TS_PENDING_VENDOR] = true;
	p.nwarn = 2;
	p.warn[0] = 0.75;
	p.warn[1] = 0.9;
	p.ola[0] = 4 * 3600000;
	t0 = clock_mono_ns();
	for (int i = 0; i < N / 4; i++) {
		int64_t a = base + (int64_t)(rnd() % (365 * 86400000ull)), h = 3600000;
		ev[0] = (struct sla_ev){ a, SE_STATUS, TS_NEW };
		ev[1] = (struct sla_ev){ a, SE_PRIORITY, PR_P3 };
		ev[2] = (struct sla_ev){ a, SE_TIER, 1 };
		ev[3] = (struct sla_ev){ a + h, SE_RESPONSE, 0 };
		ev[4] = (struct sla_ev){ a + h, SE_STATUS, TS_OPEN };
		ev[5] = (struct sla_ev){ a + 5 * h, SE_STATUS, TS_PENDING_CUSTOMER };
		ev[6] = (struct sla_ev){ a + 20 * h, SE_STATUS, TS_OPEN };
		ev[7] = (struct sla_ev){ a + 26 * h, SE_PRIORITY, PR_P2 };
		ev[8] = (struct sla_ev){ a + 30 * h, SE_TIER, 2 };
		sla_eval(&p, ev, 9, a + 50 * h, &r, &e);
		sink += r.clk[SLA_RESOLUTION].due;
	}
	ns = (double)(clock_mono_ns() - t0) / (N / 4);
	printf("%-34s %7.0f ns per call (x%.0f the baseline)%s\n", "replay of a 9-event history", ns,
	       ns / ns_off, sink == 42 ? " " : "");
}

struct inflight {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;
	int failed;
};

static void done(struct store_write *w)
{
	struct inflight *f = w->arg;

	pthread_mutex_lock(&f->mu);
	f->n--;
	f->failed += w->rc != RC_OK;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* 3: N open tickets, then a calendar edit with and without the recompute. */
static int bench_recompute(const char *db, int64_t n)
{
	enum { WINDOW = 4096 };
	struct scope sys = scope_system();
	struct inflight f = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct store *st;
	struct store_write w, *ws = calloc(WINDOW, sizeof(*ws));
	struct ticket_write *tws = calloc(WINDOW, sizeof(*tws));
	struct arena **as = calloc(WINDOW, sizeof(*as));
	struct sla_world *world;
	struct sla_recompute rc = { 0 };
	struct calendar_row cal = { 0 };
	struct err e;
	int64_t cal_id, pol_id, now = clock_now_ms(), t0;
	double plain, full;

	if (!ws || !tws || !as || auth_init(&e) != RC_OK || store_open(&st, db, true, &e) != RC_OK)
		return 1;
	store_write_init(&w, W_CLIENT_CREATE, &sys);
	w.in.client.name = "Bench client";
	w.in.client.timezone = "UTC";
	w.in.client.active = true;
	if (store_write_sync(st, &w) != RC_OK)
		return 1;
	cal.name = "office";
	cal.timezone = "America/New_York";
	cal.hours = "{\"mon\":[[\"08:00\",\"12:00\"],[\"13:00\",\"17:00\"]],\"tue\":[[\"08:00\",\"17:00\"]],"
		    "\"wed\":[[\"08:00\",\"17:00\"]],\"thu\":[[\"08:00\",\"17:00\"]],\"fri\":[[\"08:00\",\"17:00\"]]}";
	cal.holidays = "[]";
	store_write_init(&w, W_CALENDAR_PUT, &sys);
	w.in.cal = cal;
	if (store_write_sync(st, &w) != RC_OK)
		return 1;
	cal_id = cal.id = w.id;
	store_write_init(&w, W_SLA_POLICY_PUT, &sys);
	w.in.policy.name = "standard";
	w.in.policy.calendar_id = cal_id;
	w.in.policy.calendars = "{}";
	w.in.policy.targets = "{\"P1\":{\"response\":3600,\"resolution\":14400},\"P2\":{\"response\":7200,\"resolution\":28800},"
			      "\"P3\":{\"response\":14400,\"resolution\":57600},\"P4\":{\"response\":28800,\"resolution\":144000}}";
	w.in.policy.pause_statuses = "[\"pending_customer\",\"pending_vendor\"]";
	w.in.policy.warn_at = "[0.75,0.9]";
	w.in.policy.tier_targets = "{\"1\":14400}";
	w.in.policy.actions = "[]";
	w.in.policy.is_default = true;
	if (store_write_sync(st, &w) != RC_OK)
		return 1;
	pol_id = w.id;
	if (sla_world_get(st, &world, &e) != RC_OK)
		return 1;
	t0 = clock_mono_ns();
	for (int64_t i = 0; i < n; i++) {
		size_t slot = (size_t)(i % WINDOW);
		struct ticket_write *tw = &tws[slot];
		uint64_t x = rnd();

		pthread_mutex_lock(&f.mu);
		while (f.n >= WINDOW / 2)
			pthread_cond_wait(&f.cv, &f.mu);
		f.n++;
		pthread_mutex_unlock(&f.mu);
		arena_free(as[slot]);
		as[slot] = arena_new(1u << 20);
		memset(tw, 0, sizeof(*tw));
		tw->t.client_id = 1;
		tw->t.subject = "generated by bench/sla_bench.c";
		tw->t.description = "";
		tw->t.priority = (enum prio)(x % PR_COUNT);
		tw->t.status = (x >> 8) % 4 ? TS_OPEN : TS_PENDING_CUSTOMER;
		tw->t.tier = 1 + (int)((x >> 12) % 3);
		tw->t.queue = "general";
		tw->t.tags = "[]";
		tw->t.fcr = -1;
		/* opened over the last 30 days */
		tw->t.created_at = tw->t.last_activity_at = now - (int64_t)((x >> 16) % (30 * 86400000ull));
		sla_track(world, NULL, tw, pol_id, tw->t.created_at, NULL, as[slot]);
		store_write_init(&ws[slot], W_TICKET_CREATE, &sys);
		ws[slot].in.tw = tw;
		ws[slot].done = done;
		ws[slot].arg = &f;
		store_submit(st, &ws[slot]);
	}
	pthread_mutex_lock(&f.mu);
	while (f.n)
		pthread_cond_wait(&f.cv, &f.mu);
	pthread_mutex_unlock(&f.mu);
	printf("%" PRId64 " open tickets with SLA tracking created through the store in %.1f s (%d failed)\n",
	       n, (double)(clock_mono_ns() - t0) / 1e9, f.failed);
	sla_world_put(world);

	/* Baseline: the edit alone. */
	cal.version = 0;
	cal.holidays = "[{\"date\":\"2026-12-24\"}]";
	store_write_init(&w, W_CALENDAR_PUT, &sys);
	w.in.cal = cal;
	t0 = clock_mono_ns();
	if (store_write_sync(st, &w) != RC_OK)
		return 1;
	plain = (double)(clock_mono_ns() - t0) / 1e9;
	/* The edit with the recompute of every open ticket. */
	cal.holidays = "[{\"date\":\"2026-12-24\"},{\"date\":\"2026-12-25\"},{\"date\":\"2026-12-31\"}]";
	t0 = clock_mono_ns();
	if (sla_world_build(st, &cal, NULL, &world, &e) != RC_OK)
		return 1;
	rc.fn = sla_recompute_fn;
	rc.arg = world;
	store_write_init(&w, W_CALENDAR_PUT, &sys);
	w.in.cal = cal;
	w.recompute = &rc;
	w.sla_gen = sla_world_generation(world);
	if (store_write_sync(st, &w) != RC_OK) {
		fprintf(stderr, "sla-bench: the edit failed: %s\n", w.err.msg);
		return 1;
	}
	full = (double)(clock_mono_ns() - t0) / 1e9;
	sla_world_put(world);
	printf("calendar edit alone (baseline): %.3f s\n", plain);
	printf("calendar edit recomputing %zu open tickets (%zu changed): %.3f s, %.1f us per ticket (x%.0f the baseline)%s\n",
	       rc.seen, rc.changed, full, full * 1e6 / (double)(rc.seen ? rc.seen : 1), full / plain,
	       full < 1.0 ? "" : "  [over the 1 s target]");
	store_close(st);
	sla_shutdown();
	for (size_t i = 0; i < WINDOW; i++)
		arena_free(as[i]);
	free(as);
	free(ws);
	free(tws);
	return 0;
}

int main(int argc, char **argv)
{
	struct tz *z;
	struct err e;
	struct calendar c = { 0 };
	struct holiday hol[10];
	int64_t base = days_from_civil(2026, 1, 1) * 86400000, t0, sink = 0;
	double ns_off, ns;
	static const struct { const char *what; int64_t amount; } adds[] = {
		{ "due in 4 business hours", 4 * 3600000LL },
		{ "due in 2 business days (16 h)", 16 * 3600000LL },
		{ "due in 10 business days (80 h)", 80 * 3600000LL },
	};

	if (tz_load("America/New_York", &z, &e) != RC_OK)
		return 1;
	c.tz = z;
	for (int d = 0; d < 5; d++) {
		c.week[d].n = 2;
		c.week[d].span[0].start = 8 * 60;
		c.week[d].span[0].end = 12 * 60;
		c.week[d].span[1].start = 13 * 60;
		c.week[d].span[1].end = 17 * 60;
	}
	for (int i = 0; i < 10; i++) {
		hol[i].day = base / 86400000 + 30 * i + 3;
		hol[i].open.n = 0;
	}
	c.holidays = hol;
	c.nholidays = 10;

	t0 = clock_mono_ns();
	for (int i = 0; i < N; i++)
		sink += tz_offset(z, (base + (int64_t)(rnd() % (365 * 86400000ull))) / 1000);
	ns_off = (double)(clock_mono_ns() - t0) / N;
	printf("baseline: one tz_offset lookup: %.0f ns\n", ns_off);
	for (size_t k = 0; k < ARRAY_SIZE(adds); k++) {
		t0 = clock_mono_ns();
		for (int i = 0; i < N; i++)
			sink += cal_add(&c, base + (int64_t)(rnd() % (365 * 86400000ull)), adds[k].amount);
		ns = (double)(clock_mono_ns() - t0) / N;
		printf("%-34s %7.0f ns per call (x%.0f the baseline)%s\n", adds[k].what, ns, ns / ns_off,
		       ns < 2000 ? "" : "  [over the 2 us target]");
	}
	t0 = clock_mono_ns();
	for (int i = 0; i < N; i++) {
		int64_t a = base + (int64_t)(rnd() % (365 * 86400000ull));
		sink += cal_business_ms(&c, a, a + (int64_t)(rnd() % (7 * 86400000ull)));
	}
	ns = (double)(clock_mono_ns() - t0) / N;
	printf("%-34s %7.0f ns per call (x%.0f the baseline)\n", "business time over up to 7 days", ns, ns / ns_off);
	bench_replay(&c, base, ns_off);
	tz_free(z);
	if (argc == 3)
		return bench_recompute(argv[1], strtoll(argv[2], NULL, 10));
	return sink == 42 ? 1 : 0;
}
