/* u-sla.c: time zones from tzdata and business-time arithmetic, checked
 * against a brute-force minute-by-minute reference written here, over
 * thousands of random cases in several zones (DST both ways, a 30-minute
 * DST shift, a half-hour offset, no DST), holidays, partial days, spans
 * ending at 24:00, long gaps and instants past tzdata's last transition. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "base/util.h"
#include "sla/calendar.h"
#include "sla/tz.h"

#define H 3600
#define MIN_MS INT64_C(60000)

static int64_t utc(int y, int m, int d, int hh, int mm)
{
	return days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60;
}

static struct tz *zone(const char *name)
{
	struct tz *z;
	struct err e;

	assert_int_equal(tz_load(name, &z, &e), RC_OK);
	return z;
}

static void test_offsets(void **state)
{
	struct tz *ny = zone("America/New_York"), *lh = zone("Australia/Lord_Howe");
	struct tz *be = zone("Europe/Berlin"), *ko = zone("Asia/Kolkata"), *u = zone("UTC");
	struct err e;
	struct tz *bad;

	UNUSED(state);
	/* Spring forward 2026-03-08 02:00 EST = 07:00Z. */
	assert_int_equal(tz_offset(ny, utc(2026, 3, 8, 6, 59)), -5 * H);
	assert_int_equal(tz_offset(ny, utc(2026, 3, 8, 7, 0)), -4 * H);
	assert_int_equal(tz_next_change(ny, utc(2026, 3, 1, 0, 0)), utc(2026, 3, 8, 7, 0));
	/* Fall back 2026-11-01 02:00 EDT = 06:00Z. */
	assert_int_equal(tz_offset(ny, utc(2026, 11, 1, 5, 59)), -4 * H);
	assert_int_equal(tz_offset(ny, utc(2026, 11, 1, 6, 0)), -5 * H);
	/* Berlin: last Sunday of March at 01:00Z. */
	assert_int_equal(tz_offset(be, utc(2026, 3, 29, 0, 59)), 1 * H);
	assert_int_equal(tz_offset(be, utc(2026, 3, 29, 1, 0)), 2 * H);
	/* Lord Howe: +10:30 standard, +11 in summer (a 30-minute shift). */
	assert_int_equal(tz_offset(lh, utc(2026, 7, 1, 0, 0)), 10 * H + 1800);
	assert_int_equal(tz_offset(lh, utc(2026, 12, 1, 0, 0)), 11 * H);
	assert_int_equal(tz_offset(ko, utc(2026, 7, 1, 0, 0)), 5 * H + 1800);
	assert_int_equal(tz_next_change(ko, utc(2026, 7, 1, 0, 0)), INT64_MAX);
	assert_int_equal(tz_offset(u, utc(2026, 7, 1, 0, 0)), 0);
	/* Past the table: the footer's rule (2046: second Sunday of March). */
	assert_int_equal(tz_offset(ny, utc(2046, 3, 11, 6, 59)), -5 * H);
	assert_int_equal(tz_offset(ny, utc(2046, 3, 11, 7, 0)), -4 * H);
	assert_int_equal(tz_offset(lh, utc(2046, 12, 1, 0, 0)), 11 * H);
	assert_int_equal(tz_offset(lh, utc(2046, 7, 1, 0, 0)), 10 * H + 1800);
	/* Bad input is refused, never crashes. */
	assert_int_equal(tz_load("Mars/Olympus", &bad, &e), RC_INVALID);
	assert_int_equal(tz_parse((const unsigned char *)"TZif2garbage", 12, &bad, &e), RC_INVALID);
	tz_free(ny);
	tz_free(lh);
	tz_free(be);
	tz_free(ko);
	tz_free(u);
}

/* ---- the reference: one minute at a time ------------------------------------------------ */

static const struct day_spans *ref_spans(const struct calendar *c, int64_t day)
{
	for (size_t i = 0; i < c->nholidays; i++)
		if (c->holidays[i].day == day)
			return &c->holidays[i].open;
	{
		int64_t y;
		unsigned m, d;
		int64_t k = days_from_civil(1970, 1, 5); /* a Monday */
		civil_from_days(day, &y, &m, &d);
		return &c->week[(((day - k) % 7) + 7) % 7];
	}
}

static bool ref_open(const struct calendar *c, int64_t minute_start_ms)
{
	int64_t s = minute_start_ms / 1000;
	int64_t local = s + tz_offset(c->tz, s);
	int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	int minute = (int)((local - day * 86400) / 60);
	const struct day_spans *sp = ref_spans(c, day);

	if (c->always)
		return true;
	for (int i = 0; i < sp->n; i++)
		if (minute >= sp->span[i].start && minute < sp->span[i].end)
			return true;
	return false;
}

static int64_t ref_business(const struct calendar *c, int64_t from, int64_t to)
{
	int64_t total = 0;

	for (int64_t t = from; t < to; t += MIN_MS)
		if (ref_open(c, t))
			total += MIN_MS;
	return total;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_day(struct day_spans *d)
{
	int kind = (int)(rnd() % 6), at;

	d->n = 0;
	if (kind == 0)
		return; /* closed */
	if (kind == 1) {
		d->n = 1;
		d->span[0].start = 0;
		d->span[0].end = 1440; /* all day, to 24:00 */
		return;
	}
	at = (int)(rnd() % 600);
	while (d->n < 3 && at < 1440) {
		int len = 30 + (int)(rnd() % 400);
		d->span[d->n].start = at;
		d->span[d->n].end = at + len > 1440 ? 1440 : at + len;
		at = d->span[d->n].end + 15 + (int)(rnd() % 120);
		d->n++;
	}
}

static void random_calendar(struct calendar *c, const struct tz *z, struct holiday *hol,
			    int64_t first_day)
{
	memset(c, 0, sizeof(*c));
	c->tz = z;
	for (int i = 0; i < 7; i++)
		random_day(&c->week[i]);
	c->nholidays = rnd() % 4;
	for (size_t i = 0; i < c->nholidays; i++) {
		hol[i].day = first_day + (int64_t)(i * 3 + rnd() % 3);
		if (rnd() % 2)
			hol[i].open.n = 0;
		else
			random_day(&hol[i].open);
	}
	c->holidays = hol;
}

static void run_random(const char *zname, int cases, int64_t base_s)
{
	struct tz *z = zone(zname);

	for (int k = 0; k < cases; k++) {
		struct calendar c;
		struct holiday hol[4];
		/* Ranges around DST changes: the base is a change instant. */
		int64_t from = (base_s + (int64_t)(rnd() % (400 * 86400)) - 200 * 86400) / 60 * 60 * 1000;
		int64_t len = (int64_t)(rnd() % (4 * 1440)) * MIN_MS;
		int64_t got, want, amount, due;

		random_calendar(&c, z, hol, from / 86400000 - 1);
		if (!day_spans_valid(&c.week[0]))
			fail();
		got = cal_business_ms(&c, from, from + len);
		want = ref_business(&c, from, from + len);
		if (got != want)
			print_error("%s case %d: from %" PRId64 " len %" PRId64 ": got %" PRId64 " want %" PRId64 "\n",
				    zname, k, from, len, got, want);
		assert_int_equal(got, want);
		/* cal_add is the inverse: the earliest instant reaching amount. */
		if (want > 0) {
			amount = (int64_t)(rnd() % (uint64_t)(want / MIN_MS)) * MIN_MS + MIN_MS;
			due = cal_add(&c, from, amount);
			assert_true(due != INT64_MAX);
			assert_int_equal(cal_business_ms(&c, from, due), amount);
			assert_true(cal_business_ms(&c, from, due - MIN_MS) < amount);
		}
	}
	tz_free(z);
}

static void test_random_new_york(void **state)
{
	UNUSED(state);
	run_random("America/New_York", 500, utc(2026, 3, 8, 7, 0));
	run_random("America/New_York", 200, utc(2041, 11, 3, 6, 0)); /* past the table */
}

static void test_random_berlin(void **state)
{
	UNUSED(state);
	run_random("Europe/Berlin", 600, utc(2026, 10, 25, 1, 0));
}

static void test_random_lord_howe(void **state)
{
	UNUSED(state);
	run_random("Australia/Lord_Howe", 600, utc(2026, 4, 4, 15, 0));
}

static void test_random_kolkata_and_utc(void **state)
{
	UNUSED(state);
	run_random("Asia/Kolkata", 300, utc(2026, 6, 1, 0, 0));
	run_random("UTC", 200, utc(2026, 6, 1, 0, 0));
}

static void test_dst_days(void **state)
{
	struct tz *ny = zone("America/New_York");
	struct calendar c = { 0 };
	int64_t spring = days_from_civil(2026, 3, 8), fall = days_from_civil(2026, 11, 1);

	UNUSED(state);
	c.tz = ny;
	for (int i = 0; i < 7; i++) {
		c.week[i].n = 1;
		c.week[i].span[0].start = 0;
		c.week[i].span[0].end = 1440;
	}
	/* Every instant is open: three UTC days are 72 hours... */
	assert_int_equal(cal_business_ms(&c, (spring - 1) * 86400000, (spring + 2) * 86400000),
			 72 * 3600000LL);
	/* ...and the local day is 23 hours long in spring, 25 in the fall. */
	assert_int_equal(cal_business_ms(&c, (spring * 86400 + 5 * 3600) * 1000LL,
					 ((spring + 1) * 86400 + 4 * 3600) * 1000LL), 23 * 3600000LL);
	assert_int_equal(cal_business_ms(&c, (fall * 86400 + 4 * 3600) * 1000LL,
					 ((fall + 1) * 86400 + 5 * 3600) * 1000LL), 25 * 3600000LL);
	{
		/* 01:00-03:00 local on the fall-back day: 01:00-02:00 twice. */
		c.week[6].span[0].start = 60;
		c.week[6].span[0].end = 180;
		assert_int_equal(cal_business_ms(&c, (fall * 86400 + 4 * 3600) * 1000LL,
						 ((fall + 1) * 86400 + 5 * 3600) * 1000LL), 3 * 3600000LL);
		/* 01:00-03:00 on the spring day: 02:00-03:00 does not exist. */
		assert_int_equal(cal_business_ms(&c, (spring * 86400 + 5 * 3600) * 1000LL,
						 ((spring + 1) * 86400 + 4 * 3600) * 1000LL), 1 * 3600000LL);
	}
	/* Outside hours, the clock starts at the next open instant. */
	{
		struct calendar w = { 0 };
		int64_t mon = days_from_civil(2026, 11, 23); /* a Monday */
		w.tz = ny;
		for (int i = 0; i < 5; i++) {
			w.week[i].n = 1;
			w.week[i].span[0].start = 8 * 60;
			w.week[i].span[0].end = 17 * 60;
		}
		/* Friday 18:00 local + 1 business hour = Monday 09:00 local (14:00Z). */
		assert_int_equal(cal_add(&w, ((mon - 3) * 86400 + 23 * 3600) * 1000LL, 3600000),
				 (mon * 86400 + 14 * 3600) * 1000LL);
		w.always = true;
		assert_int_equal(cal_add(&w, 5, 10), 15);
	}
	tz_free(ny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_dst_days),
		cmocka_unit_test(test_random_new_york),
		cmocka_unit_test(test_random_berlin),
		cmocka_unit_test(test_random_lord_howe),
		cmocka_unit_test(test_random_kolkata_and_utc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
