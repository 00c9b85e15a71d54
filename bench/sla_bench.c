/*
 * sla_bench.c: due-time arithmetic speed. A realistic calendar (Mon-Fri
 * 08:00-12:00 and 13:00-17:00 in America/New_York, ten holidays) and due
 * times 4 hours, 2 business days and 10 business days ahead from random
 * instants; business time between random instants. Prints ns per call and
 * the ratio to one time-zone offset lookup measured in the same run.
 */
#include "base/common.h"

#include "base/clock.h"
#include "base/util.h"
#include "sla/calendar.h"

#define N 200000

static uint64_t rng = 1;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(void)
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
	tz_free(z);
	return sink == 42 ? 1 : 0;
}
