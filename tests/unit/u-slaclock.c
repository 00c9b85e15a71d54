/* u-slaclock.c: the SLA clocks (sla/clock.h): hand-checked cases for each
 * rule of docs/SLA.md (hours, pauses, first response, reopen, priority
 * changes with per-priority calendars, warnings, tier clocks, timers,
 * segments), and thousands of random ticket histories replayed against a
 * brute-force minute-by-minute reference written here. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "base/util.h"
#include "sla/calendar.h"
#include "sla/clock.h"
#include "sla/policy.h"
#include "sla/tz.h"

#define MIN INT64_C(60000)
#define HOUR (60 * MIN)

static struct tz *utc_zone, *berlin;
static struct calendar always, office, office_berlin;

/* ms of a UTC civil time */
static int64_t at(int y, int m, int d, int hh, int mm)
{
	return (days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60) * 1000;
}

static int setup(void **state)
{
	struct err e;

	UNUSED(state);
	if (tz_load("UTC", &utc_zone, &e) != RC_OK || tz_load("Europe/Berlin", &berlin, &e) != RC_OK)
		return -1;
	always.tz = utc_zone;
	always.always = true;
	office.tz = utc_zone;
	for (int d = 0; d < 5; d++) {
		office.week[d].n = 1;
		office.week[d].span[0].start = 9 * 60;
		office.week[d].span[0].end = 17 * 60;
	}
	office_berlin = office;
	office_berlin.tz = berlin;
	return 0;
}

static int teardown(void **state)
{
	UNUSED(state);
	tz_free(utc_zone);
	tz_free(berlin);
	return 0;
}

/* A policy: P1 response 1 h / resolution 4 h, P2 2 h / 8 h, P3 4 h / 16 h,
 * P4 8 h / 40 h; the defaults for pauses and warnings. */
static struct sla_policy policy(const struct calendar *c)
{
	struct sla_policy_def d;
	struct err e;
	json_t *t = json_pack("{s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}}",
			      "P1", "response", 3600, "resolution", 4 * 3600,
			      "P2", "response", 2 * 3600, "resolution", 8 * 3600,
			      "P3", "response", 4 * 3600, "resolution", 16 * 3600,
			      "P4", "response", 8 * 3600, "resolution", 40 * 3600);

	assert_int_equal(sla_policy_parse(t, NULL, NULL, NULL, NULL, NULL, &d, &e), RC_OK);
	json_decref(t);
	for (int i = 0; i < PR_COUNT; i++)
		d.p.cal[i] = c;
	d.p.id = 1;
	return d.p;
}

static int start(struct sla_ev *ev, int64_t t0, enum prio p)
{
	ev[0] = (struct sla_ev){ t0, SE_STATUS, TS_NEW };
	ev[1] = (struct sla_ev){ t0, SE_PRIORITY, p };
	ev[2] = (struct sla_ev){ t0, SE_TIER, 1 };
	return 3;
}

static void test_round_the_clock(void **state)
{
	struct sla_policy p = policy(&always);
	struct sla_ev ev[8];
	struct sla_result r;
	struct err e;
	int64_t t0 = at(2026, 11, 20, 10, 0);
	int n = start(ev, t0, PR_P2);

	UNUSED(state);
	assert_int_equal(sla_eval(&p, ev, n, t0 + HOUR, &r, &e), RC_OK);
	assert_int_equal(r.clk[SLA_RESPONSE].due, t0 + 2 * HOUR);
	assert_int_equal(r.clk[SLA_RESOLUTION].due, t0 + 8 * HOUR);
	assert_int_equal(r.clk[SLA_RESPONSE].used, HOUR);
	assert_false(r.clk[SLA_RESPONSE].breached);
	/* Warnings at 75% and 90% of 2 h. */
	assert_int_equal(r.clk[SLA_RESPONSE].warn_at[0], t0 + 90 * MIN);
	assert_int_equal(r.clk[SLA_RESPONSE].warn_at[1], t0 + 108 * MIN);
	/* Past the due instant: breached, the due instant stays. */
	assert_int_equal(sla_eval(&p, ev, n, t0 + 3 * HOUR, &r, &e), RC_OK);
	assert_true(r.clk[SLA_RESPONSE].breached);
	assert_int_equal(r.clk[SLA_RESPONSE].due, t0 + 2 * HOUR);
	/* Exactly at the due instant it is on time; a millisecond later not. */
	assert_int_equal(sla_eval(&p, ev, n, t0 + 2 * HOUR, &r, &e), RC_OK);
	assert_false(r.clk[SLA_RESPONSE].breached);
	assert_int_equal(sla_eval(&p, ev, n, t0 + 2 * HOUR + 1, &r, &e), RC_OK);
	assert_true(r.clk[SLA_RESPONSE].breached);
	/* A reply exactly at the due instant is on time. */
	ev[n] = (struct sla_ev){ t0 + 2 * HOUR, SE_RESPONSE, 0 };
	assert_int_equal(sla_eval(&p, ev, n + 1, t0 + 3 * HOUR, &r, &e), RC_OK);
	assert_false(r.clk[SLA_RESPONSE].breached);
}

static void test_business_hours_and_weekend(void **state)
{
	struct sla_policy p = policy(&office);
	struct sla_ev ev[8];
	struct sla_result r;
	struct err e;
	/* Friday 2026-11-20 16:00Z; 1 h left on Friday. */
	int64_t t0 = at(2026, 11, 20, 16, 0);
	int n = start(ev, t0, PR_P2);

	UNUSED(state);
	assert_int_equal(sla_eval(&p, ev, n, t0, &r, &e), RC_OK);
	assert_int_equal(r.clk[SLA_RESPONSE].due, at(2026, 11, 23, 10, 0));
	/* 8 h resolution: 1 h Friday, 7 h Monday -> Monday 16:00. */
	assert_int_equal(r.clk[SLA_RESOLUTION].due, at(2026, 11, 23, 16, 0));
	/* Created on Saturday: accumulation starts Monday 09:00. */
	n = start(ev, at(2026, 11, 21, 12, 0), PR_P2);
	assert_int_equal(sla_eval(&p, ev, n, at(2026, 11, 21, 12, 0), &r, &e), RC_OK);
	assert_int_equal(r.clk[SLA_RESPONSE].due, at(2026, 11, 23, 11, 0));
	/* Berlin: 09:00 local is 08:00Z in winter. */
	p = policy(&office_berlin);
	assert_int_equal(sla_eval(&p, ev, n, at(2026, 11, 21, 12, 0), &r, &e), RC_OK);
	assert_int_equal(r.clk[SLA_RESPONSE].due, at(2026, 11, 23, 10, 0));
}

static void test_pause_response_reopen(void **state)
{
	struct sla_policy p = policy(&always);
	struct sla_ev ev[16];
	struct sla_result r;
	struct err e;
	int64_t t0 = at(2026, 11, 20, 0, 0);
	int n = start(ev, t0, PR_P2);

	UNUSED(state);
	ev[n++] = (struct sla_ev){ t0 + 30 * MIN, SE_RESPONSE, 0 };
	ev[n++] = (struct sla_ev){ t0 + 30 * MIN, SE_STATUS, TS_OPEN };
	ev[n++] = (struct sla_ev){ t0 + 1 * HOUR, SE_STATUS, TS_PENDING_CUSTOMER };
	/* Paused: no resolution due instant, 1 h used. */
	assert_int_equal(sla_eval(&p, ev, n, t0 + 2 * HOUR, &r, &e), RC_OK);
	assert_true(r.paused);
	assert_int_equal(r.clk[SLA_RESOLUTION].due, 0);
	assert_int_equal(r.clk[SLA_RESOLUTION].used, HOUR);
	/* The response clock stopped at 30 min, well before its 2 h. */
	assert_int_equal(r.clk[SLA_RESPONSE].stopped_at, t0 + 30 * MIN);
	assert_int_equal(r.clk[SLA_RESPONSE].used, 30 * MIN);
	assert_false(r.clk[SLA_RESPONSE].breached);
	assert_int_equal(r.clk[SLA_RESPONSE].due, t0 + 2 * HOUR);
	/* Resumed after 3 h of pause: due 8 h + 3 h. */
	ev[n++] = (struct sla_ev){ t0 + 4 * HOUR, SE_STATUS, TS_OPEN };
	assert_int_equal(sla_eval(&p, ev, n, t0 + 4 * HOUR, &r, &e), RC_OK);
	assert_false(r.paused);
	assert_int_equal(r.clk[SLA_RESOLUTION].due, t0 + 11 * HOUR);
	/* Resolved at 5 h (2 h used), reopened at 9 h: due at 9 h + 6 h. */
	ev[n++] = (struct sla_ev){ t0 + 5 * HOUR, SE_STATUS, TS_RESOLVED };
	assert_int_equal(sla_eval(&p, ev, n, t0 + 6 * HOUR, &r, &e), RC_OK);
	assert_int_equal(r.clk[SLA_RESOLUTION].stopped_at, t0 + 5 * HOUR);
	assert_int_equal(r.clk[SLA_RESOLUTION].used, 2 * HOUR);
	ev[n++] = (struct sla_ev){ t0 + 9 * HOUR, SE_STATUS, TS_OPEN };
	assert_int_equal(sla_eval(&p, ev, n, t0 + 9 * HOUR, &r, &e), RC_OK);
	assert_int_equal(r.clk[SLA_RESOLUTION].stopped_at, 0);
	assert_int_equal(r.clk[SLA_RESOLUTION].due, t0 + 15 * HOUR);
	assert_int_equal(r.clk[SLA_RESPONSE].stopped_at, t0 + 30 * MIN);
}

static void test_resolved_without_reply_stops_response(void **state)
{
	struct sla_policy p = policy(&always);
	struct sla_ev ev[8];
	struct sla_result r;
	struct err e;
	int64_t t0 = at(2026, 11, 20, 0, 0);
	int n = start(ev, t0, PR_P1);

	UNUSED(state);
	ev[n++] = (struct sla_ev){ t0 + 20 * MIN, SE_STATUS, TS_RESOLVED };
	ev[n++] = (struct sla_ev){ t0 + 50 * MIN, SE_STATUS, TS_OPEN };
	assert_int_equal(sla_eval(&p, ev, n, t0 + 5 * HOUR, &r, &e), RC_OK);
	assert_int_equal(r.clk[SLA_RESPONSE].stopped_at, t0 + 20 * MIN);
	assert_false(r.clk[SLA_RESPONSE].breached);
	/* Resolution: 20 min + 4 h 10 min = past 4 h: breached at 4 h 30. */
	assert_true(r.clk[SLA_RESOLUTION].breached);
	assert_int_equal(r.clk[SLA_RESOLUTION].due, t0 + 4 * HOUR + 30 * MIN);
}

static void test_priority_change(void **state)
{
	struct sla_policy p = policy(&office);
	struct sla_ev ev[8];
	struct sla_result r;
	struct err e;
	int64_t t0 = at(2026, 11, 20, 9, 0); /* Friday */
	int n = start(ev, t0, PR_P3);

	UNUSED(state);
	/* P3 -> P1 at 11:00: P1's 1 h response was reached at 10:00. */
	ev[n++] = (struct sla_ev){ t0 + 2 * HOUR, SE_PRIORITY, PR_P1 };
	assert_int_equal(sla_eval(&p, ev, n, t0 + 2 * HOUR, &r, &e), RC_OK);
	assert_int_equal(r.priority, PR_P1);
	assert_true(r.clk[SLA_RESPONSE].breached);
	assert_int_equal(r.clk[SLA_RESPONSE].due, t0 + HOUR);
	assert_int_equal(r.clk[SLA_RESOLUTION].due, t0 + 4 * HOUR);
	/* With P1 on a 24x7 calendar: the business hours used stay (2 h), the
	 * rest counts around the clock from 11:00. */
	p.cal[PR_P1] = &always;
	n = start(ev, at(2026, 11, 20, 15, 0), PR_P3);
	ev[n++] = (struct sla_ev){ at(2026, 11, 20, 17, 0), SE_PRIORITY, PR_P1 };
	assert_int_equal(sla_eval(&p, ev, n, at(2026, 11, 20, 17, 0), &r, &e), RC_OK);
	assert_int_equal(r.clk[SLA_RESOLUTION].used, 2 * HOUR);
	assert_int_equal(r.clk[SLA_RESOLUTION].due, at(2026, 11, 20, 19, 0));
}

static void test_tiers_and_timers(void **state)
{
	struct sla_policy p = policy(&always);
	struct sla_ev ev[8];
	struct sla_result r;
	struct sla_timer tm[16];
	struct err e;
	int64_t t0 = at(2026, 11, 20, 0, 0), next;
	int n = start(ev, t0, PR_P2), nt;

	UNUSED(state);
	p.ola[0] = 30 * MIN;
	p.ola[1] = 2 * HOUR;
	ev[n++] = (struct sla_ev){ t0 + 20 * MIN, SE_TIER, 2 };
	assert_int_equal(sla_eval(&p, ev, n, t0 + 3 * HOUR, &r, &e), RC_OK);
	assert_int_equal(r.tier_used[0], 20 * MIN);
	assert_int_equal(r.tier_used[1], 2 * HOUR + 40 * MIN);
	assert_int_equal(r.ola_at[0], 0);
	assert_int_equal(r.ola_at[1], t0 + 20 * MIN + 2 * HOUR);
	/* Due by 3 h: response warnings (1.5 h, 1.8 h), breach (2 h), tier 2
	 * OLA (2 h 20), resolution warning 1 would be at 6 h (next). */
	nt = sla_due_timers(&r, 0, t0 + 3 * HOUR, tm, 16, &next);
	assert_int_equal(nt, 4);
	assert_int_equal(tm[0].at, t0 + 90 * MIN);
	assert_int_equal(tm[0].bit, SLA_BIT_WARN(SLA_RESPONSE, 0));
	assert_int_equal(tm[2].bit, SLA_BIT_BREACH(SLA_RESPONSE));
	assert_int_equal(tm[3].bit, SLA_BIT_OLA(2));
	assert_int_equal(next, t0 + 6 * HOUR + 1);   /* fires once past it */
	/* Nothing fires while paused. */
	{
		struct sla_ev pev[8];
		struct sla_result pr;
		int pn = start(pev, t0, PR_P2);
		pev[pn++] = (struct sla_ev){ t0 + 10 * MIN, SE_STATUS, TS_PENDING_VENDOR };
		assert_int_equal(sla_eval(&p, pev, pn, t0 + 3 * HOUR, &pr, &e), RC_OK);
		assert_int_equal(sla_due_timers(&pr, 0, t0 + 3 * HOUR, tm, 16, &next), 0);
		assert_int_equal(next, 0);
	}
	/* Announced ones are not due again. */
	nt = sla_due_timers(&r, tm[0].bit | tm[1].bit | tm[2].bit | tm[3].bit, t0 + 3 * HOUR, tm, 16, &next);
	assert_int_equal(nt, 0);
}

static void test_log_text(void **state)
{
	struct sla_ev ev[8], back[8];
	char buf[256] = "";
	int n = start(ev, 1767225600000, PR_P2);

	UNUSED(state);
	ev[n++] = (struct sla_ev){ 1767225660000, SE_RESPONSE, 0 };
	for (int i = 0; i < n; i++)
		assert_true(sla_log_append(buf, sizeof(buf), &ev[i]));
	assert_string_equal(buf, "s0@1767225600000 p1@1767225600000 t1@1767225600000 r0@1767225660000");
	assert_int_equal(sla_log_parse(buf, back, 8), n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(back[i].at, ev[i].at);
		assert_int_equal(back[i].kind, ev[i].kind);
		assert_int_equal(back[i].value, ev[i].value);
	}
	assert_int_equal(sla_log_parse("s9@1", back, 8), -1);
	assert_int_equal(sla_log_parse("x1@1", back, 8), -1);
	assert_int_equal(sla_log_parse("s1@", back, 8), -1);
	assert_int_equal(sla_log_parse("s1@5 p1", back, 8), -1);
	assert_int_equal(sla_log_parse("", back, 8), 0);
	char small[8] = "";
	assert_false(sla_log_append(small, sizeof(small), &ev[0]));
	assert_string_equal(small, "");
}

struct seg_list {
	struct sla_segment s[64];
	int n;
};

static void seg_collect(const struct sla_segment *s, void *arg)
{
	struct seg_list *l = arg;
	if (l->n < 64)
		l->s[l->n++] = *s;
}

static void test_segments(void **state)
{
	struct sla_policy p = policy(&office);
	struct sla_ev ev[8];
	struct seg_list l = { .n = 0 };
	int64_t t0 = at(2026, 11, 20, 16, 0);
	int n = start(ev, t0, PR_P2);

	UNUSED(state);
	ev[n++] = (struct sla_ev){ at(2026, 11, 23, 10, 0), SE_STATUS, TS_PENDING_CUSTOMER };
	sla_segments(&p, ev, n, at(2026, 11, 23, 11, 0), 64, seg_collect, &l);
	/* response: running 16-17, outside hours to Monday 09:00, running
	 * 09-10, paused 10-11; the same for resolution. */
	assert_int_equal(l.n, 8);
	assert_int_equal(l.s[0].state, SEG_RUNNING);
	assert_int_equal(l.s[0].to, at(2026, 11, 20, 17, 0));
	assert_int_equal(l.s[0].business_ms, HOUR);
	assert_int_equal(l.s[1].state, SEG_OUTSIDE_HOURS);
	assert_int_equal(l.s[1].to, at(2026, 11, 23, 9, 0));
	assert_int_equal(l.s[2].state, SEG_RUNNING);
	assert_int_equal(l.s[3].state, SEG_PAUSED);
	assert_int_equal(l.s[3].to, at(2026, 11, 23, 11, 0));
	assert_int_equal(l.s[4].clock, SLA_RESOLUTION);
}

static void test_bad_logs(void **state)
{
	struct sla_policy p = policy(&always);
	struct sla_ev ev[4] = { { 10, SE_PRIORITY, 0 }, { 10, SE_STATUS, 0 } };
	struct sla_result r;
	struct err e;

	UNUSED(state);
	assert_int_equal(sla_eval(&p, ev, 2, 20, &r, &e), RC_INVALID);
	ev[0] = (struct sla_ev){ 10, SE_STATUS, 0 };
	ev[1] = (struct sla_ev){ 5, SE_PRIORITY, 0 };
	assert_int_equal(sla_eval(&p, ev, 2, 20, &r, &e), RC_INVALID);
	assert_int_equal(sla_eval(&p, ev, 0, 20, &r, &e), RC_INVALID);
}

/* ---- the reference: minute by minute ----------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;
static long walked, crossings;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

struct ref_state {
	enum tstatus st;
	enum prio pr;
	int tier;
	bool responded;
};

static void ref_apply(struct ref_state *s, const struct sla_ev *e)
{
	bool done_before = s->st == TS_RESOLVED || s->st == TS_CLOSED;
	switch (e->kind) {
	case SE_STATUS:
		s->st = (enum tstatus)e->value;
		if ((s->st == TS_RESOLVED || s->st == TS_CLOSED) && !done_before)
			s->responded = true;
		break;
	case SE_PRIORITY: s->pr = (enum prio)e->value; break;
	case SE_TIER: s->tier = e->value; break;
	default: s->responded = true; break;
	}
}

static void random_case(const struct sla_policy *p)
{
	struct sla_ev ev[24];
	struct sla_result r;
	struct err e;
	int64_t t0 = at(2026, 1 + (int)rnd(12), 1 + (int)rnd(28), (int)rnd(24), (int)rnd(60));
	int n = start(ev, t0, (enum prio)rnd(4)), nextra = (int)rnd(10);
	int64_t t = t0, now;
	int64_t used[2] = { 0, 0 }, cross[2] = { 0, 0 }, tier_used[3] = { 0, 0, 0 };
	struct ref_state s = { TS_NEW, PR_P1, 1, false };
	int k = 0;

	for (int i = 0; i < nextra; i++) {
		static const enum tstatus sts[] = { TS_OPEN, TS_PENDING_CUSTOMER, TS_PENDING_VENDOR,
						    TS_ON_HOLD, TS_RESOLVED, TS_OPEN };
		t += (int64_t)rnd(12 * 60) * MIN;
		switch (rnd(4)) {
		case 0: ev[n++] = (struct sla_ev){ t, SE_STATUS, sts[rnd(6)] }; break;
		case 1: ev[n++] = (struct sla_ev){ t, SE_PRIORITY, (int)rnd(4) }; break;
		case 2: ev[n++] = (struct sla_ev){ t, SE_TIER, 1 + (int)rnd(3) }; break;
		default: ev[n++] = (struct sla_ev){ t, SE_RESPONSE, 0 }; break;
		}
	}
	now = t + (int64_t)rnd(24 * 60) * MIN;
	assert_int_equal(sla_eval(p, ev, n, now, &r, &e), RC_OK);

	/* The final priority's targets; walk minute by minute. */
	{
		struct ref_state f = s;
		for (int i = 0; i < n; i++)
			ref_apply(&f, &ev[i]);
		for (int64_t m = t0; m < now; m += MIN) {
			bool work;
			int64_t b;
			while (k < n && ev[k].at <= m)
				ref_apply(&s, &ev[k++]);
			work = s.st != TS_RESOLVED && s.st != TS_CLOSED && !p->pause[s.st];
			b = cal_business_ms(p->cal[s.pr], m, m + MIN);
			if (!work || b == 0)
				continue;
			assert_int_equal(b, MIN);
			for (int c = 0; c < 2; c++) {
				int64_t target = c == 0 ? p->response[f.pr] : p->resolution[f.pr];
				if (c == 0 && s.responded)
					continue;
				used[c] += MIN;
				if (!cross[c] && used[c] >= target)
					cross[c] = m + MIN;
			}
			tier_used[s.tier - 1] += MIN;
			walked++;
		}
	}
	for (int c = 0; c < 2; c++) {
		assert_int_equal(r.clk[c].used, used[c]);
		if (cross[c]) {
			assert_int_equal(r.clk[c].due, cross[c]);
			crossings++;
		}
		if (!cross[c])
			assert_false(r.clk[c].breached);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(r.tier_used[i], tier_used[i]);
}

static void test_random_histories(void **state)
{
	struct sla_policy p = policy(&office_berlin);

	UNUSED(state);
	walked = crossings = 0;
	p.cal[PR_P1] = &always;
	for (int i = 0; i < 800; i++)
		random_case(&p);
	p = policy(&always);
	for (int i = 0; i < 300; i++)
		random_case(&p);
	/* The cases do cover something: hours walked and targets crossed. */
	print_message("random histories: %ld hours walked, %ld targets reached\n", walked / 60, crossings);
	assert_true(walked > 500000);
	assert_true(crossings > 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_the_clock),
		cmocka_unit_test(test_business_hours_and_weekend),
		cmocka_unit_test(test_pause_response_reopen),
		cmocka_unit_test(test_resolved_without_reply_stops_response),
		cmocka_unit_test(test_priority_change),
		cmocka_unit_test(test_tiers_and_timers),
		cmocka_unit_test(test_log_text),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_bad_logs),
		cmocka_unit_test(test_random_histories),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
