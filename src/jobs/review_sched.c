/*
 * review_sched.c: the periods and the decision of a scheduled SLA review
 * (review_sched.h has the rules). Pure: civil dates from base/util.h,
 * offsets from sla/tz.h, nothing else.
 */
#include "base/common.h"

#include <inttypes.h>

#include "base/util.h"
#include "jobs/review_sched.h"
#include "sla/tz.h"

const char *const rsched_cadence_names[] = { "monthly", "quarterly", NULL };

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July", "August", "September",
	"October", "November", "December",
};

/* The first day of month m (1..12, may be 13: January next year) of y. */
static int64_t month_start(int64_t y, unsigned m)
{
	return m > 12 ? days_from_civil(y + 1, m - 12, 1) : days_from_civil(y, m, 1);
}

void rsched_period_of(enum rsched_cadence c, int64_t day, struct rsched_period *out)
{
	int64_t y;
	unsigned m, d, first, len = c == RS_QUARTERLY ? 3 : 1;

	civil_from_days(day, &y, &m, &d);
	first = c == RS_QUARTERLY ? (m - 1) / 3 * 3 + 1 : m;
	out->from_day = days_from_civil(y, first, 1);
	out->to_day = month_start(y, first + len);
}

void rsched_period_before(enum rsched_cadence c, int64_t from_day, struct rsched_period *out)
{
	rsched_period_of(c, from_day - 1, out);
}

int64_t rsched_local_ms(const struct tz *z, int64_t day, int hour)
{
	int64_t t = day * 86400 + (int64_t)hour * 3600;

	if (z)
		t -= tz_offset(z, t - tz_offset(z, t));
	return t * 1000;
}

/* Floor division of a by b > 0 (instants before 1970 too). */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

int64_t rsched_local_day(const struct tz *z, int64_t ms)
{
	int64_t s = floor_div(ms, 1000);

	if (z)
		s += tz_offset(z, s);
	return floor_div(s, 86400);
}

void rsched_decide(const struct rsched_in *in, const struct tz *z, int64_t now,
		   struct rsched_decision *out)
{
	struct rsched_period cur, cand;
	int64_t today = rsched_local_day(z, now);

	rsched_period_of(in->cadence, today, &cur);
	rsched_period_before(in->cadence, cur.from_day, &cand);
	if (rsched_local_ms(z, cur.from_day, in->hour) <= now) {
		out->next_at = rsched_local_ms(z, cur.to_day, in->hour);
	} else {
		/* Today is the current period's first day, before the hour:
		 * the previous period is not due yet. */
		out->next_at = rsched_local_ms(z, cur.from_day, in->hour);
		rsched_period_before(in->cadence, cand.from_day, &cand);
	}
	out->period = cand;
	out->send_at = rsched_local_ms(z, cand.to_day, in->hour);
	out->send = cand.to_day > in->last_to && out->send_at >= in->since;
}

int64_t rsched_look_at(const struct rsched_decision *d)
{
	return d->send ? d->send_at : d->next_at;
}

bool rsched_parse_day(const char *s, int64_t *day)
{
	int64_t y, y2;
	unsigned m, d, m2, d2;

	*day = INT64_MIN;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	civil_from_days(days_from_civil(y, m, d), &y2, &m2, &d2);
	if (y2 != y || m2 != m || d2 != d)
		return false;     /* February 30th */
	*day = days_from_civil(y, m, d);
	return true;
}

void rsched_day_text(int64_t day, char out[16])
{
	int64_t y;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(out, 16, "%04" PRId64 "-%02u-%02u", y, m, d);
}

/* 1 when [from, to) is a calendar month, 3 a calendar quarter, else 0;
 * *y and *m the first day's year and month. */
static int period_kind(int64_t from_day, int64_t to_day, int64_t *y, unsigned *m)
{
	unsigned d;

	civil_from_days(from_day, y, m, &d);
	if (d != 1)
		return 0;
	if (to_day == month_start(*y, *m + 1))
		return 1;
	if ((*m - 1) % 3 == 0 && to_day == month_start(*y, *m + 3))
		return 3;
	return 0;
}

void rsched_label(int64_t from_day, int64_t to_day, char out[32])
{
	char a[16], b[16];
	int64_t y;
	unsigned m;

	switch (period_kind(from_day, to_day, &y, &m)) {
	case 1:
		snprintf(out, 32, "%04" PRId64 "-%02u", y, m);
		return;
	case 3:
		snprintf(out, 32, "%04" PRId64 "-Q%u", y, (m - 1) / 3 + 1);
		return;
	default:
		rsched_day_text(from_day, a);
		rsched_day_text(to_day - 1, b);
		snprintf(out, 32, "%s_%s", a, b);
	}
}

void rsched_title(int64_t from_day, int64_t to_day, char out[48])
{
	char a[16], b[16];
	int64_t y;
	unsigned m;

	switch (period_kind(from_day, to_day, &y, &m)) {
	case 1:
		snprintf(out, 48, "%s %04" PRId64, month_names[m - 1], y);
		return;
	case 3:
		snprintf(out, 48, "Q%u %04" PRId64, (m - 1) / 3 + 1, y);
		return;
	default:
		rsched_day_text(from_day, a);
		rsched_day_text(to_day - 1, b);
		snprintf(out, 48, "%s to %s", a, b);
	}
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

void rsched_filename(const char *client_name, const char *label, const char *ext, char *out,
		     size_t n)
{
	char name[41];
	size_t k = 0;
	bool dash = false;

	for (const char *p = client_name ? client_name : ""; *p && k < sizeof(name) - 1; p++) {
		if (name_char(*p) && (k || (*p != '-' && *p != '_'))) {
			if (dash && k)
				name[k++] = '-';
			dash = false;
			if (k < sizeof(name) - 1)
				name[k++] = *p;
		} else {
			dash = true;
		}
	}
	while (k && (name[k - 1] == '-' || name[k - 1] == '_'))
		k--;
	name[k] = '\0';
	snprintf(out, n, "sla-review-%s-%s.%s", k ? name : "client", label, ext);
}
