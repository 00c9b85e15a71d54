/*
 * calendar.c: business-time arithmetic over whole intervals (calendar.h).
 *
 * For a local date D, the instants whose local date is D lie within
 * [D - 15 h, D + 1 day + 13 h] in UTC (offsets span -12 h .. +14 h). That
 * window is cut where the zone's offset changes; on each piece with offset
 * o, the span [s, e) of local minutes is the UTC interval
 * [D + s - o, D + e - o), clipped to the piece. Gaps and repeats of DST
 * days fall out of this without special cases.
 */
#include "base/common.h"

#include "sla/calendar.h"

#define DAY_MS INT64_C(86400000)
#define MIN_MS INT64_C(60000)
#define BEFORE_MS (15 * INT64_C(3600000))
#define AFTER_MS (13 * INT64_C(3600000))
#define MAX_DAYS (3660 + 2)

bool day_spans_valid(const struct day_spans *d)
{
	int prev = 0;

	if (d->n < 0 || d->n > CAL_MAX_SPANS)
		return false;
	for (int i = 0; i < d->n; i++) {
		if (d->span[i].start < prev || d->span[i].start >= d->span[i].end ||
		    d->span[i].end > CAL_MINUTES_PER_DAY)
			return false;
		prev = d->span[i].end;
	}
	return true;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static const struct day_spans *spans_of(const struct calendar *c, int64_t day)
{
	size_t lo = 0, hi = c->nholidays;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->holidays[mid].day == day)
			return &c->holidays[mid].open;
		if (c->holidays[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* 1970-01-01 was a Thursday (index 3 with Monday = 0). */
	return &c->week[(int)(((day % 7) + 7 + 3) % 7)];
}

bool cal_day_intervals(const struct calendar *c, int64_t day,
		       bool (*fn)(int64_t u0, int64_t u1, void *arg), void *arg)
{
	const struct day_spans *sp = spans_of(c, day);
	int64_t base = day * DAY_MS, a = base - BEFORE_MS, end = base + DAY_MS + AFTER_MS;

	if (!sp->n)
		return true;
	while (a < end) {
		int64_t t = floor_div(a, 1000);
		int32_t off = tz_offset(c->tz, t);
		int64_t next = tz_next_change(c->tz, t);
		int64_t b = next == INT64_MAX || next > end / 1000 ? end : next * 1000;
		int64_t o = (int64_t)off * 1000;

		for (int i = 0; i < sp->n; i++) {
			int64_t u0 = base + sp->span[i].start * MIN_MS - o;
			int64_t u1 = base + sp->span[i].end * MIN_MS - o;
			if (u0 < a)
				u0 = a;
			if (u1 > b)
				u1 = b;
			if (u0 < u1 && !fn(u0, u1, arg))
				return false;
		}
		a = b;
	}
	return true;
}

/* The local date of instant t (ms). */
static int64_t local_day(const struct calendar *c, int64_t t)
{
	int64_t s = floor_div(t, 1000);
	return floor_div(s + tz_offset(c->tz, s), 86400);
}

struct sum {
	int64_t from, to, total;
};

static bool add_clipped(int64_t u0, int64_t u1, void *arg)
{
	struct sum *s = arg;

	if (u0 < s->from)
		u0 = s->from;
	if (u1 > s->to)
		u1 = s->to;
	if (u0 < u1)
		s->total += u1 - u0;
	return true;
}

int64_t cal_business_ms(const struct calendar *c, int64_t from, int64_t to)
{
	struct sum s = { from, to, 0 };

	if (to <= from)
		return 0;
	if (c->always)
		return to - from;
	for (int64_t d = local_day(c, from) - 1, last = local_day(c, to) + 1; d <= last; d++)
		cal_day_intervals(c, d, add_clipped, &s);
	return s.total;
}

struct clip {
	int64_t from, to;
	bool (*fn)(int64_t u0, int64_t u1, void *arg);
	void *arg;
	bool stop;
};

static bool clip_call(int64_t u0, int64_t u1, void *arg)
{
	struct clip *c = arg;

	if (u0 < c->from)
		u0 = c->from;
	if (u1 > c->to)
		u1 = c->to;
	if (u0 < u1 && !c->fn(u0, u1, c->arg)) {
		c->stop = true;
		return false;
	}
	return true;
}

void cal_open_intervals(const struct calendar *c, int64_t from, int64_t to,
			bool (*fn)(int64_t u0, int64_t u1, void *arg), void *arg)
{
	struct clip k = { from, to, fn, arg, false };

	if (to <= from)
		return;
	if (c->always) {
		fn(from, to, arg);
		return;
	}
	for (int64_t d = local_day(c, from) - 1, last = local_day(c, to) + 1; d <= last && !k.stop; d++)
		cal_day_intervals(c, d, clip_call, &k);
}

struct walk {
	int64_t from, left, at;
	bool found;
};

static bool take(int64_t u0, int64_t u1, void *arg)
{
	struct walk *w = arg;

	if (u0 < w->from)
		u0 = w->from;
	if (u1 <= u0)
		return true;
	if (u1 - u0 >= w->left) {
		w->at = u0 + w->left;
		w->found = true;
		return false;
	}
	w->left -= u1 - u0;
	return true;
}

int64_t cal_add(const struct calendar *c, int64_t from, int64_t amount)
{
	struct walk w = { from, amount, 0, false };
	int64_t d = local_day(c, from) - 1;

	if (amount <= 0)
		return from;
	if (c->always)
		return from + amount;
	for (int i = 0; i < MAX_DAYS && !w.found; i++, d++) {
		/* A day's intervals come in time order, and every instant has
		 * one local date, so days' intervals never overlap. */
		cal_day_intervals(c, d, take, &w);
	}
	return w.found ? w.at : INT64_MAX;
}
