/* u-schedule.c: when a scheduled SLA review pack goes out
 * (src/jobs/review_sched.h), against answers worked out by hand: months
 * and quarters of the calendar (year ends, leap years), the send time at
 * the hour in the client's zone (summer and winter time, the spring-
 * forward gap), the decision table of rsched_decide (before and after the
 * hour on the first day, a period sent already, a schedule made after the
 * send time, catching up after a pause, quarterly, a change of cadence
 * either way, a schedule switched on again), what the API shows
 * as next_at, and the labels, titles and file names of a period. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "base/util.h"
#include "jobs/review_sched.h"
#include "sla/tz.h"

static struct tz *berlin, *new_york;

static int64_t day(const char *s)
{
	int64_t d;

	assert_true(rsched_parse_day(s, &d));
	return d;
}

static int64_t at(const char *rfc3339)
{
	int64_t ms;

	assert_true(time_parse(rfc3339, &ms));
	return ms;
}

static void assert_period(const struct rsched_period *p, const char *from, const char *to)
{
	assert_int_equal(p->from_day, day(from));
	assert_int_equal(p->to_day, day(to));
}

static void test_days(void **state)
{
	char t[16];
	int64_t d;

	UNUSED(state);
	assert_int_equal(day("1970-01-01"), 0);
	assert_int_equal(day("2027-03-01") - day("2027-02-01"), 28);
	assert_int_equal(day("2028-03-01") - day("2028-02-01"), 29);
	rsched_day_text(day("2027-12-31") + 1, t);
	assert_string_equal(t, "2028-01-01");
	static const char *const bad[] = { "2027-02-29", "2027-13-01", "2027-00-10", "2027-1-01",
					   "2027-01-1", "20270101", "", "2027-01-32", "2027/01/01",
					   "2027-01-01T", "x027-01-01" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_false(rsched_parse_day(bad[i], &d));
		assert_int_equal(d, INT64_MIN);
	}
	assert_false(rsched_parse_day(NULL, &d));
	assert_true(rsched_parse_day("2028-02-29", &d));
}

static void test_periods(void **state)
{
	static const struct {
		enum rsched_cadence c;
		const char *day, *from, *to, *before_from, *before_to;
	} cases[] = {
		{ RS_MONTHLY, "2027-02-14", "2027-02-01", "2027-03-01", "2027-01-01", "2027-02-01" },
		{ RS_MONTHLY, "2027-02-01", "2027-02-01", "2027-03-01", "2027-01-01", "2027-02-01" },
		{ RS_MONTHLY, "2027-02-28", "2027-02-01", "2027-03-01", "2027-01-01", "2027-02-01" },
		{ RS_MONTHLY, "2027-12-31", "2027-12-01", "2028-01-01", "2027-11-01", "2027-12-01" },
		{ RS_MONTHLY, "2027-01-01", "2027-01-01", "2027-02-01", "2026-12-01", "2027-01-01" },
		{ RS_MONTHLY, "2028-02-29", "2028-02-01", "2028-03-01", "2028-01-01", "2028-02-01" },
		{ RS_QUARTERLY, "2027-02-14", "2027-01-01", "2027-04-01", "2026-10-01", "2027-01-01" },
		{ RS_QUARTERLY, "2027-03-31", "2027-01-01", "2027-04-01", "2026-10-01", "2027-01-01" },
		{ RS_QUARTERLY, "2027-04-01", "2027-04-01", "2027-07-01", "2027-01-01", "2027-04-01" },
		{ RS_QUARTERLY, "2027-09-30", "2027-07-01", "2027-10-01", "2027-04-01", "2027-07-01" },
		{ RS_QUARTERLY, "2027-11-15", "2027-10-01", "2028-01-01", "2027-07-01", "2027-10-01" },
	};
	struct rsched_period p, b;

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		rsched_period_of(cases[i].c, day(cases[i].day), &p);
		assert_period(&p, cases[i].from, cases[i].to);
		rsched_period_before(cases[i].c, p.from_day, &b);
		assert_period(&b, cases[i].before_from, cases[i].before_to);
	}
	assert_string_equal(rsched_cadence_names[RS_MONTHLY], "monthly");
	assert_string_equal(rsched_cadence_names[RS_QUARTERLY], "quarterly");
	assert_null(rsched_cadence_names[2]);
}

static void test_local_time(void **state)
{
	UNUSED(state);
	/* UTC, and a NULL zone is UTC. */
	assert_int_equal(rsched_local_ms(NULL, day("2027-04-01"), 7), at("2027-04-01T07:00:00Z"));
	/* Berlin: CET (+1) in winter, CEST (+2) in summer. */
	assert_int_equal(rsched_local_ms(berlin, day("2027-01-01"), 7), at("2027-01-01T06:00:00Z"));
	assert_int_equal(rsched_local_ms(berlin, day("2027-04-01"), 7), at("2027-04-01T05:00:00Z"));
	assert_int_equal(rsched_local_ms(berlin, day("2027-04-01"), 0), at("2027-03-31T22:00:00Z"));
	/* 2027-03-28 02:00 does not exist in Berlin (02:00 CET -> 03:00 CEST):
	 * read with the offset before the change, it is 03:00 CEST. */
	assert_int_equal(rsched_local_ms(berlin, day("2027-03-28"), 2), at("2027-03-28T01:00:00Z"));
	assert_int_equal(rsched_local_ms(berlin, day("2027-03-28"), 7), at("2027-03-28T05:00:00Z"));
	/* 2027-10-31 02:00 happens twice; either is 02:00 local. */
	assert_int_equal(rsched_local_ms(berlin, day("2027-10-31"), 7), at("2027-10-31T06:00:00Z"));
	/* New York: -5 in winter, -4 in summer; 23:00 local is the next UTC day. */
	assert_int_equal(rsched_local_ms(new_york, day("2027-01-01"), 23), at("2027-01-02T04:00:00Z"));
	assert_int_equal(rsched_local_ms(new_york, day("2027-07-01"), 7), at("2027-07-01T11:00:00Z"));

	/* Local days. */
	assert_int_equal(rsched_local_day(NULL, at("2027-03-31T23:59:59Z")), day("2027-03-31"));
	assert_int_equal(rsched_local_day(berlin, at("2027-03-31T22:00:00Z")), day("2027-04-01"));
	assert_int_equal(rsched_local_day(berlin, at("2027-03-31T21:59:59Z")), day("2027-03-31"));
	assert_int_equal(rsched_local_day(new_york, at("2027-01-02T04:59:59Z")), day("2027-01-01"));
	assert_int_equal(rsched_local_day(NULL, -1), -1);   /* 1969-12-31 */
}

static void test_decide(void **state)
{
	static const struct {
		const char *what;
		enum rsched_cadence c;
		int hour;
		const char *since, *last, *now;
		bool send;
		const char *from, *to, *send_at, *next_at;
	} cases[] = {
		{ "the first minute it is due", RS_MONTHLY, 7, "2027-01-10T00:00:00Z", NULL,
		  "2027-04-01T05:00:00Z", true, "2027-03-01", "2027-04-01", "2027-04-01T05:00:00Z",
		  "2027-05-01T05:00:00Z" },
		{ "later that month: still March (not sent yet)", RS_MONTHLY, 7, "2027-01-10T00:00:00Z",
		  NULL, "2027-04-20T12:00:00Z", true, "2027-03-01", "2027-04-01", "2027-04-01T05:00:00Z",
		  "2027-05-01T05:00:00Z" },
		{ "a second before the hour: February is the latest due", RS_MONTHLY, 7,
		  "2027-01-10T00:00:00Z", NULL, "2027-04-01T04:59:59Z", true, "2027-02-01", "2027-03-01",
		  "2027-03-01T06:00:00Z", "2027-04-01T05:00:00Z" },
		{ "... and February sent already: nothing", RS_MONTHLY, 7, "2027-01-10T00:00:00Z",
		  "2027-03-01", "2027-04-01T04:59:59Z", false, "2027-02-01", "2027-03-01",
		  "2027-03-01T06:00:00Z", "2027-04-01T05:00:00Z" },
		{ "March sent: nothing until May", RS_MONTHLY, 7, "2027-01-10T00:00:00Z", "2027-04-01",
		  "2027-04-01T05:00:00Z", false, "2027-03-01", "2027-04-01", "2027-04-01T05:00:00Z",
		  "2027-05-01T05:00:00Z" },
		{ "made after March's send time: not March", RS_MONTHLY, 7, "2027-04-01T05:00:01Z", NULL,
		  "2027-04-10T00:00:00Z", false, "2027-03-01", "2027-04-01", "2027-04-01T05:00:00Z",
		  "2027-05-01T05:00:00Z" },
		{ "made exactly at March's send time: March", RS_MONTHLY, 7, "2027-04-01T05:00:00Z", NULL,
		  "2027-04-01T05:00:00Z", true, "2027-03-01", "2027-04-01", "2027-04-01T05:00:00Z",
		  "2027-05-01T05:00:00Z" },
		{ "no server ran for two months: only the latest", RS_MONTHLY, 7, "2027-01-10T00:00:00Z",
		  "2027-02-01", "2027-04-02T00:00:00Z", true, "2027-03-01", "2027-04-01",
		  "2027-04-01T05:00:00Z", "2027-05-01T05:00:00Z" },
		{ "monthly to quarterly, March sent: Q1 ends no later, nothing", RS_QUARTERLY, 7,
		  "2027-01-10T00:00:00Z", "2027-04-01", "2027-04-01T05:00:00Z", false, "2027-01-01",
		  "2027-04-01", "2027-04-01T05:00:00Z", "2027-07-01T05:00:00Z" },
		{ "quarterly: Q1 on April 1st", RS_QUARTERLY, 7, "2026-12-01T00:00:00Z", "2027-01-01",
		  "2027-04-01T05:00:00Z", true, "2027-01-01", "2027-04-01", "2027-04-01T05:00:00Z",
		  "2027-07-01T05:00:00Z" },
		{ "quarterly, mid-quarter: Q1 sent, next in July", RS_QUARTERLY, 7, "2026-12-01T00:00:00Z",
		  "2027-04-01", "2027-05-15T00:00:00Z", false, "2027-01-01", "2027-04-01",
		  "2027-04-01T05:00:00Z", "2027-07-01T05:00:00Z" },
		{ "quarterly, before the hour on July 1st: Q1 is the latest", RS_QUARTERLY, 7,
		  "2026-12-01T00:00:00Z", "2027-04-01", "2027-07-01T04:00:00Z", false, "2027-01-01",
		  "2027-04-01", "2027-04-01T05:00:00Z", "2027-07-01T05:00:00Z" },
		{ "year end, hour 0: December at local midnight", RS_MONTHLY, 0, "2027-01-01T00:00:00Z",
		  "2027-12-01", "2027-12-31T23:00:00Z", true, "2027-12-01", "2028-01-01",
		  "2027-12-31T23:00:00Z", "2028-01-31T23:00:00Z" },
		/* The cadence changed: what was sent is compared by its end. */
		{ "quarterly to monthly, Q1 sent: March is covered, nothing", RS_MONTHLY, 7,
		  "2027-01-10T00:00:00Z", "2027-04-01", "2027-04-15T00:00:00Z", false, "2027-03-01",
		  "2027-04-01", "2027-04-01T05:00:00Z", "2027-05-01T05:00:00Z" },
		{ "... and April goes on May 1st", RS_MONTHLY, 7, "2027-01-10T00:00:00Z", "2027-04-01",
		  "2027-05-01T05:00:00Z", true, "2027-04-01", "2027-05-01", "2027-05-01T05:00:00Z",
		  "2027-06-01T05:00:00Z" },
		{ "monthly to quarterly, January and February sent: Q1 goes whole", RS_QUARTERLY, 7,
		  "2027-01-01T00:00:00Z", "2027-03-01", "2027-04-01T05:00:00Z", true, "2027-01-01",
		  "2027-04-01", "2027-04-01T05:00:00Z", "2027-07-01T05:00:00Z" },
		/* Switched on again on April 15th (since), January sent before it
		 * was switched off: March fell due while it was off. */
		{ "switched on again, a day later: not March", RS_MONTHLY, 7, "2027-04-15T10:00:00Z",
		  "2027-02-01", "2027-04-16T10:00:00Z", false, "2027-03-01", "2027-04-01",
		  "2027-04-01T05:00:00Z", "2027-05-01T05:00:00Z" },
		{ "... April on May 1st", RS_MONTHLY, 7, "2027-04-15T10:00:00Z", "2027-02-01",
		  "2027-05-01T05:00:00Z", true, "2027-04-01", "2027-05-01", "2027-05-01T05:00:00Z",
		  "2027-06-01T05:00:00Z" },
	};

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rsched_in in = { cases[i].c, cases[i].hour, at(cases[i].since),
					cases[i].last ? day(cases[i].last) : INT64_MIN };
		struct rsched_decision d;

		print_message("%s\n", cases[i].what);
		rsched_decide(&in, berlin, at(cases[i].now), &d);
		assert_int_equal(d.send, cases[i].send);
		assert_period(&d.period, cases[i].from, cases[i].to);
		assert_int_equal(d.send_at, at(cases[i].send_at));
		assert_int_equal(d.next_at, at(cases[i].next_at));
		assert_true(d.next_at > at(cases[i].now));
		assert_int_equal(rsched_look_at(&d), d.send ? d.send_at : d.next_at);
	}
}

/* The scheduler's loop: stepping an hour at a time through a year, each
 * month is sent once, at its send time, and never again. */
static void test_a_year_of_months(void **state)
{
	struct rsched_in in = { RS_MONTHLY, 7, at("2026-12-15T10:00:00Z"), INT64_MIN };
	int64_t next = 0, sends = 0;

	UNUSED(state);
	for (int64_t t = at("2026-12-15T10:00:00Z"); t < at("2028-01-01T00:00:00Z"); t += 3600000) {
		struct rsched_decision d;
		if (next && t < next)
			continue;       /* the job only looks at next_at */
		rsched_decide(&in, berlin, t, &d);
		if (d.send) {
			assert_int_equal(d.send_at, t - t % 3600000);
			assert_int_equal(rsched_local_day(berlin, t), d.period.to_day);
			in.last_to = d.period.to_day;
			sends++;
		}
		next = d.next_at;
	}
	/* December 2026 .. November 2027 (December's goes on January 1st 2028). */
	assert_int_equal(sends, 12);
	assert_int_equal(in.last_to, day("2027-12-01"));
}

static void test_labels(void **state)
{
	char label[32], title[48];

	UNUSED(state);
	rsched_label(day("2027-03-01"), day("2027-04-01"), label);
	rsched_title(day("2027-03-01"), day("2027-04-01"), title);
	assert_string_equal(label, "2027-03");
	assert_string_equal(title, "March 2027");
	rsched_label(day("2027-12-01"), day("2028-01-01"), label);
	rsched_title(day("2027-12-01"), day("2028-01-01"), title);
	assert_string_equal(label, "2027-12");
	assert_string_equal(title, "December 2027");
	rsched_label(day("2027-10-01"), day("2028-01-01"), label);
	rsched_title(day("2027-10-01"), day("2028-01-01"), title);
	assert_string_equal(label, "2027-Q4");
	assert_string_equal(title, "Q4 2027");
	/* Three months that are not a calendar quarter, and odd periods. */
	rsched_label(day("2027-02-01"), day("2027-05-01"), label);
	rsched_title(day("2027-02-01"), day("2027-05-01"), title);
	assert_string_equal(label, "2027-02-01_2027-04-30");
	assert_string_equal(title, "2027-02-01 to 2027-04-30");
	rsched_label(day("2027-03-05"), day("2027-03-06"), label);
	assert_string_equal(label, "2027-03-05_2027-03-05");
	rsched_label(day("2027-03-02"), day("2027-04-01"), label);
	assert_string_equal(label, "2027-03-02_2027-03-31");
}

static void test_filenames(void **state)
{
	static const struct { const char *client, *want; } cases[] = {
		{ "Borealis Logistics", "sla-review-Borealis-Logistics-2027-03.html" },
		{ "Borealis", "sla-review-Borealis-2027-03.html" },
		{ "\xc3\x9cmlaut & Co. / GmbH", "sla-review-mlaut-Co-GmbH-2027-03.html" },
		{ "  --a_b--  ", "sla-review-a_b-2027-03.html" },
		{ "\"quoted\"\r\nX-Evil: 1", "sla-review-quoted-X-Evil-1-2027-03.html" },
		{ "", "sla-review-client-2027-03.html" },
		{ "\xe6\x97\xa5\xe6\x9c\xac", "sla-review-client-2027-03.html" },
		{ NULL, "sla-review-client-2027-03.html" },
		{ "A123456789B123456789C123456789D123456789E123456789",
		  "sla-review-A123456789B123456789C123456789D123456789-2027-03.html" },
	};
	char out[128];

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		rsched_filename(cases[i].client, "2027-03", "html", out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
	rsched_filename("X", "2027-Q1", "csv", out, sizeof(out));
	assert_string_equal(out, "sla-review-X-2027-Q1.csv");
	rsched_filename("Borealis Logistics", "2027-03", "html", out, 16);
	assert_string_equal(out, "sla-review-Bore");       /* cut, never overrun */
}

static int setup(void **state)
{
	struct err e;

	UNUSED(state);
	return tz_load("Europe/Berlin", &berlin, &e) == RC_OK &&
	       tz_load("America/New_York", &new_york, &e) == RC_OK ? 0 : -1;
}

static int teardown(void **state)
{
	UNUSED(state);
	tz_free(berlin);
	tz_free(new_york);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_local_time),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_a_year_of_months),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_filenames),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
