/* u-report.c: the SLA review's ticket figures (src/report/review.h)
 * against answers computed by hand from docs/REPORTS.md: a crafted set of
 * sixteen tickets that touches every rule (the period's boundaries, the
 * backlogs, each clock state, breach causes and their ties, times with odd
 * and even counts, FCR, escalation), the same set in another order, an
 * empty review, refused rows, the "(other)" category row, and the pure
 * median and percentile. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <math.h>

#include "report/review.h"

#define H 3600000LL                 /* an hour in ms */
#define FROM (100 * H)
#define TO (200 * H)

#define assert_ratio(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/*
 * The period is [100H, 200H). Fields: id, created, first response,
 * resolved, closed (instants in hours unless noted), prio, type, channel,
 * category, policy, response/resolution breached, response_ms,
 * resolution_ms, tier_ms, vendor, fcr, reopens, tier_changes.
 *
 * Outside the period (opened before, at `to` or after):
 *   T1  50..60, closed 61: before everything; a resolution breach that is
 *       not the period's; fcr 1 and reopens 1 that are not counted.
 *   T2  80, resolved 120: resolved (and reopened, FCR yes) in the period
 *       but opened before; a response breach and a vendor not counted.
 *   T3  90, still open: in both backlogs; breach flags not counted.
 *   T4  95, resolved exactly at `from` (100), closed 150: resolved in the
 *       period, and in the start backlog (resolved_at >= from); FCR yes.
 *   T16 60, resolved 90, closed 105: closed in the period only.
 *   T14 created exactly at `to`: not opened; breach not listed.
 *   T15 250..260: after everything.
 * Opened in the period:
 *   T5  at `from` exactly, P1, "network": both clocks met.
 *   T6  P1, "network": both breached; tiers 10M/20M/30M ms: tier 3.
 *   T7  P2, NULL category: response breached unanswered, resolution
 *       pending; tiers all zero: tier 1; vendor.
 *   T8  P2, "": response met, resolution breached, resolved exactly at
 *       `to` (so not resolved in the period, yet a resolution time);
 *       tiers 5000/5000/0: the tie goes to tier 1; fcr 1 not counted.
 *   T9  P3, no policy: in volume, times and escalation, never in SLA (its
 *       response_breached flag is ignored); vendor.
 *   T10 P4, "hardware": both met; reopened.
 *   T11 P4, "network": resolution breached with resolution_ms larger than
 *       the wall time (paused clamps to 0); tiers 0/4000/4000: tier 2.
 *   T12 P3, "Network" (another name than "network"): both pending.
 *   T13 P3, NULL, created at `to` - 1 ms: opened; responded after the
 *       period (still met: clocks are read as last recorded).
 */
static const struct review_ticket rows[] = {
	{ .id = 1, .number = 1001, .created_at = 50 * H, .first_response_at = 51 * H,
	  .resolved_at = 60 * H, .closed_at = 61 * H, .prio = 0, .category = "old",
	  .has_policy = true, .resolution_breached = true, .response_ms = 1000,
	  .resolution_ms = 1000, .fcr = 1, .reopens = 1 },
	{ .id = 2, .number = 1002, .created_at = 80 * H, .first_response_at = 81 * H,
	  .resolved_at = 120 * H, .prio = 1, .type = 1, .channel = 1, .category = "old",
	  .has_policy = true, .response_breached = true, .response_ms = 5000,
	  .resolution_ms = 100000, .tier_ms = { 0, 100, 0 }, .vendor = true, .fcr = 1,
	  .reopens = 2, .tier_changes = 5 },
	{ .id = 3, .number = 1003, .created_at = 90 * H, .prio = 2, .has_policy = true,
	  .response_breached = true, .resolution_breached = true, .fcr = -1, .reopens = 1 },
	{ .id = 4, .number = 1004, .created_at = 95 * H, .first_response_at = 96 * H,
	  .resolved_at = 100 * H, .closed_at = 150 * H, .prio = 3, .category = "old",
	  .fcr = 1 },
	{ .id = 5, .number = 1005, .created_at = 100 * H, .first_response_at = 101 * H,
	  .resolved_at = 110 * H, .closed_at = 112 * H, .prio = 0, .type = 0, .channel = 0,
	  .category = "network", .has_policy = true, .response_ms = 1500,
	  .resolution_ms = 9000000, .tier_ms = { 9000000, 0, 0 }, .fcr = 1 },
	{ .id = 6, .number = 1006, .created_at = 105 * H, .first_response_at = 106 * H,
	  .resolved_at = 130 * H, .prio = 0, .type = 1, .channel = 1, .category = "network",
	  .has_policy = true, .response_breached = true, .resolution_breached = true,
	  .response_ms = 4000, .resolution_ms = 40000000,
	  .tier_ms = { 10000000, 20000000, 30000000 }, .fcr = 0, .tier_changes = 2 },
	{ .id = 7, .number = 1007, .created_at = 110 * H, .prio = 1, .type = 2, .channel = 2,
	  .category = NULL, .has_policy = true, .response_breached = true, .vendor = true,
	  .fcr = -1 },
	{ .id = 8, .number = 1008, .created_at = 120 * H, .first_response_at = 121 * H,
	  .resolved_at = 200 * H, .prio = 1, .type = 0, .channel = 3, .category = "",
	  .has_policy = true, .resolution_breached = true, .response_ms = 2999,
	  .resolution_ms = 20000000, .tier_ms = { 5000, 5000, 0 }, .fcr = 1, .reopens = 1,
	  .tier_changes = 1 },
	{ .id = 9, .number = 1009, .created_at = 130 * H, .first_response_at = 131 * H,
	  .resolved_at = 140 * H, .prio = 2, .type = 3, .channel = 4, .category = "hardware",
	  .has_policy = false, .response_breached = true, .response_ms = 60000,
	  .resolution_ms = 7200500, .tier_ms = { 0, 0, 3000 }, .vendor = true, .fcr = 1,
	  .tier_changes = 1 },
	{ .id = 10, .number = 1010, .created_at = 140 * H, .first_response_at = 140 * H + 1000,
	  .resolved_at = 150 * H, .closed_at = 160 * H, .prio = 3, .type = 1, .channel = 0,
	  .category = "hardware", .has_policy = true, .response_ms = 500,
	  .resolution_ms = 36000000, .tier_ms = { 1000, 2000, 3000 }, .fcr = 0, .reopens = 1,
	  .tier_changes = 3 },
	{ .id = 11, .number = 1011, .created_at = 150 * H, .first_response_at = 151 * H,
	  .resolved_at = 152 * H, .prio = 3, .type = 0, .channel = 2, .category = "network",
	  .has_policy = true, .resolution_breached = true, .response_ms = 10000,
	  .resolution_ms = 8003000, .tier_ms = { 0, 4000, 4000 }, .fcr = -1,
	  .tier_changes = 2 },
	{ .id = 12, .number = 1012, .created_at = 160 * H, .prio = 2, .type = 2, .channel = 1,
	  .category = "Network", .has_policy = true, .fcr = -1, .tier_changes = 4 },
	{ .id = 13, .number = 1013, .created_at = 200 * H - 1, .first_response_at = 201 * H,
	  .prio = 2, .type = 0, .channel = 0, .category = NULL, .has_policy = true,
	  .response_ms = 120999, .tier_ms = { 1, 2, 0 }, .fcr = -1 },
	{ .id = 14, .number = 1014, .created_at = 200 * H, .first_response_at = 200 * H + 1,
	  .resolved_at = 210 * H, .prio = 0, .category = "late", .has_policy = true,
	  .response_breached = true, .response_ms = 1000, .resolution_ms = 1000,
	  .vendor = true, .fcr = 1, .reopens = 1, .tier_changes = 1 },
	{ .id = 15, .number = 1015, .created_at = 250 * H, .first_response_at = 251 * H,
	  .resolved_at = 260 * H, .closed_at = 265 * H, .prio = 1, .category = "late",
	  .vendor = true, .fcr = 0 },
	{ .id = 16, .number = 1016, .created_at = 60 * H, .first_response_at = 61 * H,
	  .resolved_at = 90 * H, .closed_at = 105 * H, .prio = 0, .category = "old",
	  .fcr = 0, .reopens = 3 },
};

/* Two orders of the rows: breaches must still come out by id, and nothing
 * may depend on the order. */
static const int shuffled[] = { 11, 8, 3, 15, 6, 1, 13, 9, 16, 5, 12, 2, 14, 7, 10, 4 };

static struct review *review_of(const int *order)
{
	struct review *rv = review_new(FROM, TO);
	struct err e;

	assert_non_null(rv);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		size_t k = order ? (size_t)order[i] - 1 : ARRAY_SIZE(rows) - 1 - i;

		assert_int_equal(review_add(rv, &rows[k], &e), RC_OK);
	}
	return rv;
}

static void check_clock(const struct review_clock *c, int64_t met, int64_t breached,
			int64_t pending, double attainment)
{
	assert_int_equal(c->met, met);
	assert_int_equal(c->breached, breached);
	assert_int_equal(c->pending, pending);
	assert_ratio(c->attainment, attainment);
}

static void check_breach(const struct review_breach *b, int64_t id, bool response,
			 bool resolution, int prio, int tier, bool vendor, int64_t paused_ms)
{
	assert_int_equal(b->id, id);
	assert_int_equal(b->number, 1000 + id);
	assert_int_equal(b->response, response);
	assert_int_equal(b->resolution, resolution);
	assert_int_equal(b->prio, prio);
	assert_int_equal(b->tier, tier);
	assert_int_equal(b->vendor, vendor);
	assert_int_equal(b->paused_ms, paused_ms);
}

static void check_figures(const struct review_figures *f)
{
	assert_int_equal(f->from, FROM);
	assert_int_equal(f->to, TO);

	/* Volume. opened: created in [100H, 200H): T5 (at from) .. T13
	 * (to - 1 ms), nine; T14 (at to) is not. */
	assert_int_equal(f->opened, 9);
	/* resolved in the period: T2 120, T4 100 (= from), T5 110, T6 130,
	 * T9 140, T10 150, T11 152: seven. Not T8 (200 = to), T1 60, T16 90,
	 * T14 210, T15 260. */
	assert_int_equal(f->resolved, 7);
	/* closed: T4 150, T5 112, T10 160, T16 105; not T1 61, T15 265. */
	assert_int_equal(f->closed, 4);
	/* reopened: resolved in the period with reopens >= 1: T2 (2), T10 (1).
	 * Not T1, T16 (resolved before), T8 (at to), T3 (open), T14 (after). */
	assert_int_equal(f->reopened, 2);
	/* At 100H: created before and not resolved before: T2 (resolved 120),
	 * T3 (open), T4 (resolved at 100 itself). Not T1 (60), T16 (90), nor
	 * T5 (created at 100, not before). */
	assert_int_equal(f->backlog_start, 3);
	/* At 200H: T3, T7, T12, T13 (open), T8 (resolved at 200 itself). Not
	 * T14 (created at 200), nor the others, resolved before 200. */
	assert_int_equal(f->backlog_end, 5);
	/* Opened, by prio: P1 T5 T6; P2 T7 T8; P3 T9 T12 T13; P4 T10 T11. */
	assert_int_equal(f->by_prio[0], 2);
	assert_int_equal(f->by_prio[1], 2);
	assert_int_equal(f->by_prio[2], 3);
	assert_int_equal(f->by_prio[3], 2);
	/* type 0: T5 T8 T11 T13; 1: T6 T10; 2: T7 T12; 3: T9. */
	assert_int_equal(f->by_type[0], 4);
	assert_int_equal(f->by_type[1], 2);
	assert_int_equal(f->by_type[2], 2);
	assert_int_equal(f->by_type[3], 1);
	/* channel 0: T5 T10 T13; 1: T6 T12; 2: T7 T11; 3: T8; 4: T9. */
	assert_int_equal(f->by_channel[0], 3);
	assert_int_equal(f->by_channel[1], 2);
	assert_int_equal(f->by_channel[2], 2);
	assert_int_equal(f->by_channel[3], 1);
	assert_int_equal(f->by_channel[4], 1);
	/* Categories of the opened: "" = T7 (NULL), T8 (""), T13 (NULL): 3;
	 * "network" = T5 T6 T11: 3; "hardware" = T9 T10: 2; "Network" = T12:
	 * 1. Largest first, the tie at 3 by name: "" before "network". "old"
	 * and "late" belong to tickets not opened in the period. */
	assert_int_equal(f->ncategories, 4);
	assert_string_equal(f->by_category[0].name, "");
	assert_int_equal(f->by_category[0].n, 3);
	assert_string_equal(f->by_category[1].name, "network");
	assert_int_equal(f->by_category[1].n, 3);
	assert_string_equal(f->by_category[2].name, "hardware");
	assert_int_equal(f->by_category[2].n, 2);
	assert_string_equal(f->by_category[3].name, "Network");
	assert_int_equal(f->by_category[3].n, 1);

	/* SLA, over opened tickets with a policy (T5-T8, T10-T13; not T9).
	 * Response: P1 T5 met, T6 breached; P2 T7 breached (unanswered), T8
	 * met; P3 T12 pending, T13 met (answered after the period); P4 T10,
	 * T11 met. */
	check_clock(&f->response[0], 1, 1, 0, 0.5);
	check_clock(&f->response[1], 1, 1, 0, 0.5);
	check_clock(&f->response[2], 1, 0, 1, 1.0);
	check_clock(&f->response[3], 2, 0, 0, 1.0);
	check_clock(&f->response[REVIEW_PRIOS], 5, 2, 1, 5.0 / 7.0);
	/* Resolution: P1 T5 met, T6 breached; P2 T7 pending, T8 breached; P3
	 * T12, T13 pending (no ratio: -1); P4 T10 met, T11 breached. */
	check_clock(&f->resolution[0], 1, 1, 0, 0.5);
	check_clock(&f->resolution[1], 0, 1, 1, 0.0);
	check_clock(&f->resolution[2], 0, 0, 2, -1.0);
	check_clock(&f->resolution[3], 1, 1, 0, 0.5);
	check_clock(&f->resolution[REVIEW_PRIOS], 2, 3, 3, 0.4);

	/* Breached, by id. Not T1, T2, T3 (opened before), T9 (no policy),
	 * T14 (opened at to).
	 * T6: both; tiers 10M/20M/30M: 3; paused (130H - 105H) - 40,000,000
	 *     = 90,000,000 - 40,000,000 = 50,000,000.
	 * T7: response; tiers all 0: 1; vendor; unresolved: paused 0.
	 * T8: resolution; tiers 5000/5000/0, tie: 1; paused (200H - 120H) -
	 *     20,000,000 = 288,000,000 - 20,000,000 = 268,000,000.
	 * T11: resolution; tiers 0/4000/4000, tie: 2; paused (152H - 150H) -
	 *     8,003,000 = 7,200,000 - 8,003,000 < 0: 0. */
	assert_int_equal(f->nbreaches, 4);
	check_breach(&f->breaches[0], 6, true, true, 0, 3, false, 50000000);
	check_breach(&f->breaches[1], 7, true, false, 1, 1, true, 0);
	check_breach(&f->breaches[2], 8, false, true, 1, 1, false, 268000000);
	check_breach(&f->breaches[3], 11, false, true, 3, 2, false, 0);

	/* Response times of the opened and responded, ms / 1000 rounded down:
	 * T5 1500 -> 1, T6 4000 -> 4, T8 2999 -> 2, T9 60000 -> 60 (no policy
	 * but counted), T10 500 -> 0, T11 10000 -> 10, T13 120999 -> 120.
	 * Sorted 0 1 2 4 10 60 120 (n = 7, odd): median the 4th = 4; p90 rank
	 * ceil(6.3) = 7: 120; mean 197 / 7 = 28.14: 28. */
	assert_int_equal(f->response_time.count, 7);
	assert_int_equal(f->response_time.median, 4);
	assert_int_equal(f->response_time.p90, 120);
	assert_int_equal(f->response_time.mean, 28);
	/* Resolution times of the opened and resolved (T8 too, resolved at
	 * to): T5 9000, T6 40000, T8 20000, T9 7,200,500 ms -> 7200, T10
	 * 36000, T11 8,003,000 ms -> 8003. Sorted 7200 8003 9000 20000 36000
	 * 40000 (n = 6, even): median the lower middle, the 3rd = 9000; p90
	 * rank ceil(5.4) = 6: 40000; mean 120203 / 6 = 20033.8: 20033. */
	assert_int_equal(f->resolution_time.count, 6);
	assert_int_equal(f->resolution_time.median, 9000);
	assert_int_equal(f->resolution_time.p90, 40000);
	assert_int_equal(f->resolution_time.mean, 20033);

	/* FCR over resolved in the period with a verdict: T2 1, T4 1, T5 1,
	 * T6 0, T9 1, T10 0 (T11 -1 undecided; T8, T1 fcr 1 resolved outside):
	 * 4 of 6. */
	assert_int_equal(f->fcr_decided, 6);
	assert_int_equal(f->fcr_yes, 4);
	assert_ratio(f->fcr_rate, 4.0 / 6.0);
	/* Escalation over the 9 opened. t2_ms > 0: T6, T8, T10, T11, T13 (2 ms)
	 * = 5; t3_ms > 0: T6, T9, T10, T11 = 4; vendor: T7, T9 = 2 (T2, T14,
	 * T15 are not opened in the period); tier changes 0 + 2 + 0 + 1 + 1 +
	 * 3 + 2 + 4 + 0 = 13 (T5..T13), mean 13 / 9. */
	assert_int_equal(f->reached_t2, 5);
	assert_int_equal(f->reached_t3, 4);
	assert_int_equal(f->to_vendor, 2);
	assert_int_equal(f->tier_changes, 13);
	assert_ratio(f->rate_t2, 5.0 / 9.0);
	assert_ratio(f->rate_t3, 4.0 / 9.0);
	assert_ratio(f->rate_vendor, 2.0 / 9.0);
	assert_ratio(f->tier_changes_mean, 13.0 / 9.0);
}

static void test_hand_computed_review(void **state)
{
	struct review *rv;
	const struct review_figures *f, *again;
	struct err e;

	UNUSED(state);
	rv = review_of(shuffled);
	assert_int_equal(review_finish(rv, &f, &e), RC_OK);
	check_figures(f);
	/* Finished once: the same figures again; no more rows. */
	assert_int_equal(review_finish(rv, &again, &e), RC_OK);
	assert_ptr_equal(again, f);
	assert_int_equal(review_add(rv, &rows[4], &e), RC_INVALID);
	check_figures(f);
	review_free(rv);
}

static void test_order_does_not_matter(void **state)
{
	struct review *rv = review_of(NULL);   /* last row first */
	const struct review_figures *f;
	struct err e;

	UNUSED(state);
	assert_int_equal(review_finish(rv, &f, &e), RC_OK);
	check_figures(f);
	review_free(rv);
}

static void test_empty_review(void **state)
{
	struct review *rv = review_new(FROM, TO);
	const struct review_figures *f;
	struct err e;

	UNUSED(state);
	assert_non_null(rv);
	assert_int_equal(review_finish(rv, &f, &e), RC_OK);
	assert_int_equal(f->opened + f->resolved + f->closed + f->reopened, 0);
	assert_int_equal(f->backlog_start + f->backlog_end, 0);
	for (int i = 0; i < REVIEW_PRIOS; i++)
		assert_int_equal(f->by_prio[i], 0);
	assert_int_equal(f->ncategories, 0);
	assert_int_equal(f->nbreaches, 0);
	for (int i = 0; i <= REVIEW_PRIOS; i++) {
		check_clock(&f->response[i], 0, 0, 0, -1.0);
		check_clock(&f->resolution[i], 0, 0, 0, -1.0);
	}
	assert_int_equal(f->response_time.count, 0);
	assert_int_equal(f->response_time.median + f->response_time.p90 + f->response_time.mean, 0);
	assert_int_equal(f->resolution_time.count, 0);
	assert_int_equal(f->resolution_time.median + f->resolution_time.p90 +
			 f->resolution_time.mean, 0);
	assert_int_equal(f->fcr_decided, 0);
	assert_ratio(f->fcr_rate, -1.0);
	assert_ratio(f->rate_t2, -1.0);
	assert_ratio(f->rate_t3, -1.0);
	assert_ratio(f->rate_vendor, -1.0);
	assert_ratio(f->tier_changes_mean, -1.0);
	review_free(rv);
	review_free(NULL);
}

static void test_refused_rows_count_nowhere(void **state)
{
	struct review *rv = review_new(FROM, TO);
	const struct review_figures *f;
	struct review_ticket t = rows[5];     /* T6: opened, breached, resolved */
	struct err e;

	UNUSED(state);
	t.prio = 4;
	assert_int_equal(review_add(rv, &t, &e), RC_INVALID);
	assert_string_equal(e.field, "prio");
	t.prio = -1;
	assert_int_equal(review_add(rv, &t, &e), RC_INVALID);
	assert_string_equal(e.field, "prio");
	t.prio = 0;
	t.type = REVIEW_TYPES;
	assert_int_equal(review_add(rv, &t, &e), RC_INVALID);
	assert_string_equal(e.field, "type");
	t.type = 0;
	t.channel = REVIEW_CHANNELS;
	assert_int_equal(review_add(rv, &t, &e), RC_INVALID);
	assert_string_equal(e.field, "channel");
	/* A row out of the period is refused just the same. */
	t = rows[14];
	t.prio = 7;
	assert_int_equal(review_add(rv, &t, &e), RC_INVALID);
	assert_string_equal(e.field, "prio");
	assert_int_equal(review_add(rv, &t, NULL), RC_INVALID);

	assert_int_equal(review_finish(rv, &f, &e), RC_OK);
	assert_int_equal(f->opened + f->resolved + f->backlog_end, 0);
	assert_int_equal(f->ncategories, 0);
	assert_int_equal(f->nbreaches, 0);
	assert_int_equal(f->response_time.count, 0);
	review_free(rv);
}

/* 100 names with one ticket each ("c000".."c099"), and "zz" with five:
 * "zz" first, then the 63 smallest names of the ties (c000..c062), then
 * "(other)" with the 37 others. */
static void test_categories_beyond_the_max(void **state)
{
	struct review *rv = review_new(FROM, TO);
	const struct review_figures *f;
	struct review_ticket t = { .created_at = FROM + H, .fcr = -1 };
	char name[16];
	struct err e;
	int64_t sum = 0;

	UNUSED(state);
	for (int i = 99; i >= 0; i--) {
		snprintf(name, sizeof(name), "c%03d", i);
		t.id = i + 1;
		t.category = name;       /* copied: the buffer is reused */
		assert_int_equal(review_add(rv, &t, &e), RC_OK);
	}
	t.category = "zz";
	for (int i = 0; i < 5; i++)
		assert_int_equal(review_add(rv, &t, &e), RC_OK);
	assert_int_equal(review_finish(rv, &f, &e), RC_OK);
	assert_int_equal(f->opened, 105);
	assert_int_equal(f->ncategories, REVIEW_CATEGORIES_MAX + 1);
	assert_string_equal(f->by_category[0].name, "zz");
	assert_int_equal(f->by_category[0].n, 5);
	assert_string_equal(f->by_category[1].name, "c000");
	assert_string_equal(f->by_category[63].name, "c062");
	assert_int_equal(f->by_category[63].n, 1);
	assert_string_equal(f->by_category[64].name, "(other)");
	assert_int_equal(f->by_category[64].n, 37);
	for (size_t i = 0; i < f->ncategories; i++)
		sum += f->by_category[i].n;
	assert_int_equal(sum, 105);
	review_free(rv);

	/* Exactly REVIEW_CATEGORIES_MAX names: no "(other)". */
	rv = review_new(FROM, TO);
	for (int i = 0; i < REVIEW_CATEGORIES_MAX; i++) {
		snprintf(name, sizeof(name), "k%02d", i);
		t.category = name;
		assert_int_equal(review_add(rv, &t, &e), RC_OK);
	}
	assert_int_equal(review_finish(rv, &f, &e), RC_OK);
	assert_int_equal(f->ncategories, REVIEW_CATEGORIES_MAX);
	assert_string_equal(f->by_category[REVIEW_CATEGORIES_MAX - 1].name, "k63");
	review_free(rv);
}

static void test_median_and_percentile(void **state)
{
	static const int64_t one[] = { 10 };
	static const int64_t two[] = { 1, 2 };
	static const int64_t three[] = { 1, 2, 3 };
	static const int64_t four[] = { 5, 6, 7, 8 };
	int64_t ten[10], eleven[11], hundred[100];

	UNUSED(state);
	for (int i = 0; i < 100; i++) {
		if (i < 10)
			ten[i] = i + 1;           /* 1..10 */
		if (i < 11)
			eleven[i] = (i + 1) * 10; /* 10..110 */
		hundred[i] = i + 1;          /* 1..100 */
	}
	assert_int_equal(review_median(one, 1), 10);
	assert_int_equal(review_percentile(one, 1, 0.9), 10);
	/* Even counts: the lower middle. */
	assert_int_equal(review_median(two, 2), 1);
	assert_int_equal(review_median(four, 4), 6);
	assert_int_equal(review_median(ten, 10), 5);
	assert_int_equal(review_median(three, 3), 2);
	assert_int_equal(review_median(eleven, 11), 60);
	/* Nearest rank ceil(q n): n 2: ceil(1.8) = 2; n 3: ceil(2.7) = 3;
	 * n 10: ceil(9) = 9, the 9th (not the 10th); n 11: ceil(9.9) = 10. */
	assert_int_equal(review_percentile(two, 2, 0.9), 2);
	assert_int_equal(review_percentile(three, 3, 0.9), 3);
	assert_int_equal(review_percentile(ten, 10, 0.9), 9);
	assert_int_equal(review_percentile(eleven, 11, 0.9), 100);
	assert_int_equal(review_percentile(four, 4, 0.5), 6);
	assert_int_equal(review_percentile(four, 4, 0.25), 5);
	assert_int_equal(review_percentile(four, 4, 0.26), 6);
	assert_int_equal(review_percentile(four, 4, 1.0), 8);
	/* 0.07 * 100 is 7.000000000000001 in binary: still rank 7. */
	assert_int_equal(review_percentile(hundred, 100, 0.07), 7);
	assert_int_equal(review_percentile(hundred, 100, 0.01), 1);
	assert_int_equal(review_percentile(hundred, 100, 0.9), 90);
	assert_int_equal(review_percentile(hundred, 100, 0.999), 100);
}

/* CSAT: ratings 5, 4, 4, 2 and an out-of-range 6 (nowhere): 4 answers,
 * 15 / 4 = 3.75; 5, 5, 4: 14 / 3 = 4.666.. -> 4.67 (half up); 1, 2: 1.5;
 * none: -1. */
static void test_csat_figures(void **state)
{
	struct review_csat c = { 0 }, d = { 0 }, h = { 0 }, none = { 0 };

	UNUSED(state);
	review_csat_add(&c, 5);
	review_csat_add(&c, 4);
	review_csat_add(&c, 6);
	review_csat_add(&c, 4);
	review_csat_add(&c, 0);
	review_csat_add(&c, 2);
	review_csat_finish(&c);
	assert_int_equal(c.responses, 4);
	assert_int_equal(c.dist[0], 0);
	assert_int_equal(c.dist[1], 1);
	assert_int_equal(c.dist[2], 0);
	assert_int_equal(c.dist[3], 2);
	assert_int_equal(c.dist[4], 1);
	assert_true(fabs(c.average - 3.75) < 1e-9);
	review_csat_add(&d, 5);
	review_csat_add(&d, 5);
	review_csat_add(&d, 4);
	review_csat_finish(&d);
	assert_true(fabs(d.average - 4.67) < 1e-9);
	review_csat_add(&h, 1);
	review_csat_add(&h, 2);
	review_csat_finish(&h);
	assert_true(fabs(h.average - 1.5) < 1e-9);
	review_csat_finish(&none);
	assert_int_equal(none.responses, 0);
	assert_true(none.average < 0);
}

/* Hours: tier 1 billable 30 + 15, tier 3 not billable 20, no tier 10
 * billable, tier 7 (out of range: other) 5 not billable. */
static void test_hours_figures(void **state)
{
	struct review_hours h = { 0 };

	UNUSED(state);
	review_hours_add(&h, 1, true, 30);
	review_hours_add(&h, 3, false, 20);
	review_hours_add(&h, 0, true, 10);
	review_hours_add(&h, 1, true, 15);
	review_hours_add(&h, 7, false, 5);
	assert_int_equal(h.billable, 55);
	assert_int_equal(h.non_billable, 25);
	assert_int_equal(h.tier_billable[1], 45);
	assert_int_equal(h.tier_non_billable[1], 0);
	assert_int_equal(h.tier_billable[2], 0);
	assert_int_equal(h.tier_non_billable[3], 20);
	assert_int_equal(h.tier_billable[0], 10);
	assert_int_equal(h.tier_non_billable[0], 5);
}

/* A resolution stops the response clock (docs/SLA.md rule 3): a ticket
 * resolved without a first response met its response target unless that
 * had breached; it is not a response-time sample. Unresolved and
 * unanswered: pending. Reassignments count over the opened tickets. */
static void test_resolved_without_response(void **state)
{
	const struct review_ticket t[] = {
		{ .id = 1, .created_at = FROM + H, .resolved_at = FROM + 2 * H, .prio = 2,
		  .has_policy = true, .response_ms = 3600000, .resolution_ms = 3600000, .fcr = 1,
		  .reassignments = 2 },
		{ .id = 2, .created_at = FROM + H, .resolved_at = FROM + 3 * H, .prio = 2,
		  .has_policy = true, .response_breached = true, .fcr = 0 },
		{ .id = 3, .created_at = FROM + H, .prio = 2, .has_policy = true, .fcr = -1,
		  .reassignments = 1 },
		/* opened before the period: its reassignments are not the period's */
		{ .id = 4, .created_at = FROM - H, .prio = 2, .has_policy = true, .fcr = -1,
		  .reassignments = 5 },
	};
	const struct review_figures *f;
	struct review *rv = review_new(FROM, TO);
	struct err e;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(review_add(rv, &t[i], &e), RC_OK);
	assert_int_equal(review_finish(rv, &f, &e), RC_OK);
	assert_int_equal(f->response[2].met, 1);
	assert_int_equal(f->response[2].breached, 1);
	assert_int_equal(f->response[2].pending, 1);
	assert_int_equal(f->response_time.count, 0);
	assert_int_equal(f->resolution[2].met, 2);
	assert_int_equal(f->resolution[2].pending, 1);
	/* reassignments over the three opened: 3 in all, 2 tickets */
	assert_int_equal(f->reassignments, 3);
	assert_int_equal(f->reassigned, 2);
	assert_ratio(f->reassignments_mean, 1.0);
	assert_ratio(f->rate_reassigned, 2.0 / 3);
	review_free(rv);
}

/* Alert episodes (docs/REPORTS.md "Monitoring"), period [1000 s, 5000 s):
 *  alert 1 "Disk full": fire 900 s (before: not counted), its ack 1100
 *   and resolve 1200 count nowhere; fire 2000 critical, ack 2300, ack
 *   again 2400 (ignored), resolve 3000: MTTA 300, MTTR 1000; fire 4000
 *   critical, resolve 4500: MTTR 500; fire 5000 (after: not counted).
 *  alert 2 "Disk full" warning: fire 1000 (the first instant counts), never
 *   resolved; an ack without an episode of alert 3 counts nowhere.
 *  alert 4 "CPU": fire 4999, ack 6000 (after the period: counts), resolve
 *   9999: MTTA 1001, MTTR 5000. */
static void test_alert_episodes(void **state)
{
	static const struct review_alert_ev ev[] = {
		{ 1, 900000, RA_FIRE, "Disk full", "critical" },
		{ 1, 1100000, RA_ACK, "Disk full", "critical" },
		{ 1, 1200000, RA_RESOLVE, "Disk full", "critical" },
		{ 1, 2000000, RA_FIRE, "Disk full", "critical" },
		{ 1, 2300000, RA_ACK, "Disk full", "critical" },
		{ 1, 2400000, RA_ACK, "Disk full", "critical" },
		{ 1, 3000000, RA_RESOLVE, "Disk full", "critical" },
		{ 1, 4000000, RA_FIRE, "Disk full", "critical" },
		{ 1, 4500000, RA_RESOLVE, "Disk full", "critical" },
		{ 1, 5000000, RA_FIRE, "Disk full", "critical" },
		{ 2, 1000000, RA_FIRE, "Disk full", "warning" },
		{ 3, 1500000, RA_ACK, "Memory", "warning" },
		{ 4, 4999000, RA_FIRE, "CPU", "critical" },
		{ 4, 6000000, RA_ACK, "CPU", "critical" },
		{ 4, 9999000, RA_RESOLVE, "CPU", "critical" },
	};
	struct review_alerts ra;
	struct err e;

	(void)state;
	review_alerts_init(&ra, 1000000, 5000000);
	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++)
		assert_int_equal(review_alerts_add(&ra, &ev[i], &e), RC_OK);
	review_alerts_finish(&ra);
	assert_int_equal(ra.n, 3);
	/* by fired desc, then name, then severity */
	assert_string_equal(ra.groups[0].name, "Disk full");
	assert_string_equal(ra.groups[0].severity, "critical");
	assert_int_equal(ra.groups[0].fired, 2);
	assert_int_equal(ra.groups[0].acked, 1);
	assert_int_equal(ra.groups[0].resolved, 2);
	assert_int_equal(ra.groups[0].mtta, 300);
	assert_int_equal(ra.groups[0].mttr, 750);
	assert_string_equal(ra.groups[1].name, "CPU");
	assert_int_equal(ra.groups[1].fired, 1);
	assert_int_equal(ra.groups[1].mtta, 1001);
	assert_int_equal(ra.groups[1].mttr, 5000);
	assert_string_equal(ra.groups[2].name, "Disk full");
	assert_string_equal(ra.groups[2].severity, "warning");
	assert_int_equal(ra.groups[2].fired, 1);
	assert_int_equal(ra.groups[2].acked, 0);
	assert_int_equal(ra.groups[2].mtta, -1);
	assert_int_equal(ra.groups[2].mttr, -1);
	assert_int_equal(ra.total.fired, 4);
	assert_int_equal(ra.total.acked, 2);
	assert_int_equal(ra.total.resolved, 3);
	assert_int_equal(ra.total.mtta, (300 + 1001) / 2);
	assert_int_equal(ra.total.mttr, (1000 + 500 + 5000) / 3);
	review_alerts_free(&ra);
}

static void test_uptime(void **state)
{
	int64_t m;

	(void)state;
	/* enrolled before the period, the period over: all its minutes */
	assert_true(review_uptime(0, 10 * H, 20 * H, 30 * H, 300, &m) == 0.5);
	assert_int_equal(m, 600);
	/* enrolled inside it, now inside it: from enrolment to now */
	assert_true(review_uptime(12 * H, 10 * H, 20 * H, 14 * H, 30, &m) == 0.25);
	assert_int_equal(m, 120);
	/* more up minutes than minutes (a clock skew): at most 1 */
	assert_true(review_uptime(0, 10 * H, 11 * H, 30 * H, 90, &m) == 1.0);
	/* enrolled after the period, or the period not begun: none */
	assert_true(review_uptime(21 * H, 10 * H, 20 * H, 30 * H, 0, &m) < 0);
	assert_true(review_uptime(0, 10 * H, 20 * H, 9 * H, 0, &m) < 0);
	assert_int_equal(m, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_computed_review),
		cmocka_unit_test(test_order_does_not_matter),
		cmocka_unit_test(test_empty_review),
		cmocka_unit_test(test_refused_rows_count_nowhere),
		cmocka_unit_test(test_categories_beyond_the_max),
		cmocka_unit_test(test_median_and_percentile),
		cmocka_unit_test(test_csat_figures),
		cmocka_unit_test(test_hours_figures),
		cmocka_unit_test(test_resolved_without_response),
		cmocka_unit_test(test_alert_episodes),
		cmocka_unit_test(test_uptime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
