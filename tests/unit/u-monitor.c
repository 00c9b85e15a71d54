/* u-monitor.c: the check evaluator and the alert state machine
 * (src/monitor/alert.h): thresholds and hysteresis, for_seconds, severity
 * changes, acknowledgement, flapping, maintenance windows, replayed
 * samples. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "monitor/alert.h"

#define S 1000
#define MIN (60 * S)

/* disk used %: warning above 90, critical above 95, 1 point hysteresis,
 * bad for 10 minutes before firing. */
static const struct check_rule disk = {
	.cmp = CMP_GT, .has_warn = true, .has_crit = true, .warn = 90, .crit = 95,
	.hysteresis = 1, .for_ms = 10 * MIN,
};

static void test_levels_and_hysteresis(void **state)
{
	struct check_rule low = { .cmp = CMP_LT, .has_crit = true, .crit = 5, .hysteresis = 2 };

	UNUSED(state);
	assert_int_equal(check_level(&disk, 80, SEV_OK), SEV_OK);
	assert_int_equal(check_level(&disk, 90, SEV_OK), SEV_OK);         /* > 90, not >= */
	assert_int_equal(check_level(&disk, 90.5, SEV_OK), SEV_WARNING);
	assert_int_equal(check_level(&disk, 96, SEV_WARNING), SEV_CRITICAL);
	/* Down from critical: 94.5 is within the hysteresis of 95 -> stays. */
	assert_int_equal(check_level(&disk, 94.5, SEV_CRITICAL), SEV_CRITICAL);
	assert_int_equal(check_level(&disk, 93.9, SEV_CRITICAL), SEV_WARNING);
	assert_int_equal(check_level(&disk, 89.5, SEV_WARNING), SEV_WARNING);
	assert_int_equal(check_level(&disk, 89, SEV_WARNING), SEV_OK);
	assert_int_equal(check_level(&disk, 70, SEV_CRITICAL), SEV_OK);
	/* A "below" check with a critical threshold only. */
	assert_int_equal(check_level(&low, 4, SEV_OK), SEV_CRITICAL);
	assert_int_equal(check_level(&low, 6, SEV_CRITICAL), SEV_CRITICAL);
	assert_int_equal(check_level(&low, 7.5, SEV_CRITICAL), SEV_OK);
	assert_int_equal(check_level(&low, 6, SEV_OK), SEV_OK);
}

static void test_rule_validation(void **state)
{
	struct check_rule r = disk;
	struct err e;

	UNUSED(state);
	assert_int_equal(check_rule_valid(&r, &e), RC_OK);
	r.crit = 80;
	assert_int_equal(check_rule_valid(&r, &e), RC_INVALID);
	assert_string_equal(e.field, "critical");
	r = disk;
	r.cmp = CMP_LT;   /* below 90 warns, below 95 critical: backwards */
	assert_int_equal(check_rule_valid(&r, &e), RC_INVALID);
	r = disk;
	r.has_warn = r.has_crit = false;
	assert_int_equal(check_rule_valid(&r, &e), RC_INVALID);
	assert_string_equal(e.field, "warning");
	r = disk;
	r.hysteresis = -1;
	assert_int_equal(check_rule_valid(&r, &e), RC_INVALID);
	assert_string_equal(e.field, "hysteresis");
	r = disk;
	r.flap_changes = 1;
	assert_int_equal(check_rule_valid(&r, &e), RC_INVALID);
	r.flap_changes = 4;
	assert_int_equal(check_rule_valid(&r, &e), RC_INVALID);   /* no window */
	assert_string_equal(e.field, "flap_window_seconds");
	r.flap_window_ms = 30 * MIN;
	assert_int_equal(check_rule_valid(&r, &e), RC_OK);
}

static void test_pending_then_firing_after_for(void **state)
{
	struct alert a = { 0 };
	int64_t t = 1000 * MIN;

	UNUSED(state);
	assert_int_equal(alert_sample(&a, &disk, 91, t), AE_NONE);
	assert_int_equal(a.status, AL_PENDING);
	assert_int_equal(alert_sample(&a, &disk, 92, t + 9 * MIN), AE_NONE);
	assert_int_equal(alert_sample(&a, &disk, 92, t + 10 * MIN), AE_FIRE);
	assert_int_equal(a.status, AL_FIRING);
	assert_int_equal(a.severity, SEV_WARNING);
	/* Repeats while firing announce nothing new. */
	assert_int_equal(alert_sample(&a, &disk, 92, t + 11 * MIN), AE_NONE);
	/* Worse: critical. */
	assert_int_equal(alert_sample(&a, &disk, 97, t + 12 * MIN), AE_SEVERITY);
	assert_int_equal(a.severity, SEV_CRITICAL);
	/* Back below 89: resolved. */
	assert_int_equal(alert_sample(&a, &disk, 80, t + 20 * MIN), AE_RESOLVE);
	assert_int_equal(a.status, AL_INACTIVE);
	assert_int_equal(a.resolved_at, t + 20 * MIN);
}

static void test_recovery_while_pending_says_nothing(void **state)
{
	struct alert a = { 0 };
	int64_t t = 1000 * MIN;

	UNUSED(state);
	assert_int_equal(alert_sample(&a, &disk, 93, t), AE_NONE);
	assert_int_equal(alert_sample(&a, &disk, 85, t + 5 * MIN), AE_NONE);
	assert_int_equal(a.status, AL_INACTIVE);
	/* The next bad sample starts the 10 minutes again. */
	assert_int_equal(alert_sample(&a, &disk, 93, t + 6 * MIN), AE_NONE);
	assert_int_equal(alert_sample(&a, &disk, 93, t + 12 * MIN), AE_NONE);
	assert_int_equal(alert_sample(&a, &disk, 93, t + 16 * MIN), AE_FIRE);
}

static void test_ack_silences_severity_until_resolved(void **state)
{
	struct check_rule now = disk;
	struct alert a = { 0 };
	int64_t t = 1000 * MIN;

	UNUSED(state);
	now.for_ms = 0;
	assert_false(alert_ack(&a));   /* nothing firing */
	assert_int_equal(alert_sample(&a, &now, 91, t), AE_FIRE);
	assert_true(alert_ack(&a));
	assert_int_equal(alert_sample(&a, &now, 97, t + MIN), AE_NONE);
	assert_int_equal(alert_sample(&a, &now, 50, t + 2 * MIN), AE_RESOLVE);
	assert_false(a.acked);
	/* A new firing is not acknowledged. */
	assert_int_equal(alert_sample(&a, &now, 91, t + 3 * MIN), AE_FIRE);
	assert_int_equal(alert_sample(&a, &now, 97, t + 4 * MIN), AE_SEVERITY);
}

static void test_flapping_notifies_once(void **state)
{
	struct check_rule r = disk;
	struct alert a = { 0 };
	int64_t t = 1000 * MIN;
	unsigned fx, seen = 0;

	UNUSED(state);
	r.for_ms = 0;
	r.flap_changes = 4;
	r.flap_window_ms = 30 * MIN;
	/* up, down, up, down ... a minute apart */
	assert_int_equal(alert_sample(&a, &r, 92, t), AE_FIRE);
	assert_int_equal(alert_sample(&a, &r, 80, t + MIN), AE_RESOLVE);
	assert_int_equal(alert_sample(&a, &r, 92, t + 2 * MIN), AE_FIRE);
	/* The fourth move makes it flapping: announced once, no resolve. */
	assert_int_equal(alert_sample(&a, &r, 80, t + 3 * MIN), AE_FLAPPING);
	assert_true(a.flapping);
	for (int i = 4; i < 12; i++) {
		fx = alert_sample(&a, &r, i % 2 ? 80 : 92, t + i * MIN);
		seen |= fx;
	}
	assert_int_equal(seen, AE_NONE);
	/* It settles (bad) and the window empties: flapping ends, and the
	 * world learns it is firing (last told: firing, at t + 2 min ->
	 * nothing to add) ... */
	assert_int_equal(alert_sample(&a, &r, 92, t + 12 * MIN), AE_NONE);
	fx = alert_sample(&a, &r, 92, t + 60 * MIN);
	assert_int_equal(fx, AE_FLAP_END);
	assert_false(a.flapping);
	/* ... and when it recovers, a normal resolve. */
	assert_int_equal(alert_sample(&a, &r, 50, t + 61 * MIN), AE_RESOLVE);
}

static void test_flap_end_brings_the_world_in_line(void **state)
{
	struct check_rule r = disk;
	struct alert a = { 0 };
	int64_t t = 1000 * MIN;

	UNUSED(state);
	r.for_ms = 0;
	r.flap_changes = 4;
	r.flap_window_ms = 30 * MIN;
	alert_sample(&a, &r, 92, t);
	alert_sample(&a, &r, 80, t + MIN);
	alert_sample(&a, &r, 92, t + 2 * MIN);
	assert_int_equal(alert_sample(&a, &r, 80, t + 3 * MIN), AE_FLAPPING);
	/* Last told "firing" (at t + 2 min); it settles ok: at the end of
	 * flapping it is resolved. */
	assert_int_equal(alert_sample(&a, &r, 70, t + 60 * MIN), AE_FLAP_END | AE_RESOLVE);
}

static void test_maintenance_window(void **state)
{
	struct check_rule r = disk;
	struct alert a = { 0 }, b = { 0 }, c = { 0 };
	int64_t t = 1000 * MIN;

	UNUSED(state);
	r.for_ms = 0;
	/* Filled and recovered inside the window: nothing, during or after. */
	assert_int_equal(alert_maintenance(&a, true, t), AE_NONE);
	assert_int_equal(alert_sample(&a, &r, 97, t + MIN), AE_NONE);
	assert_int_equal(a.status, AL_FIRING);
	assert_int_equal(alert_sample(&a, &r, 50, t + 2 * MIN), AE_NONE);
	assert_int_equal(alert_maintenance(&a, false, t + 3 * MIN), AE_NONE);
	/* Still full when the window ends: one AE_FIRE then. */
	alert_maintenance(&b, true, t);
	assert_int_equal(alert_sample(&b, &r, 97, t + MIN), AE_NONE);
	assert_int_equal(alert_sample(&b, &r, 98, t + 2 * MIN), AE_NONE);
	assert_int_equal(alert_maintenance(&b, false, t + 3 * MIN), AE_FIRE);
	assert_int_equal(b.announced_severity, SEV_CRITICAL);
	/* Firing before the window, recovered inside it: resolved at its end
	 * (no flood of resolutions inside it, one after). */
	assert_int_equal(alert_sample(&c, &r, 97, t), AE_FIRE);
	alert_maintenance(&c, true, t + MIN);
	assert_int_equal(alert_sample(&c, &r, 50, t + 2 * MIN), AE_NONE);
	assert_int_equal(alert_maintenance(&c, false, t + 3 * MIN), AE_RESOLVE);
}

static void test_replayed_samples_are_ignored(void **state)
{
	struct check_rule r = disk;
	struct alert a = { 0 };
	int64_t t = 1000 * MIN;

	UNUSED(state);
	r.for_ms = 0;
	assert_int_equal(alert_sample(&a, &r, 97, t), AE_FIRE);
	assert_int_equal(alert_sample(&a, &r, 50, t + MIN), AE_RESOLVE);
	/* A batch sent again (spooled by the agent): old samples change nothing. */
	assert_int_equal(alert_sample(&a, &r, 97, t), AE_NONE);
	assert_int_equal(alert_sample(&a, &r, 97, t + MIN), AE_NONE);
	assert_int_equal(a.status, AL_INACTIVE);
}

/* Review findings: moves inside a window are not flapping, and the
 * window's end announces the state at once. */
static void test_no_flapping_inside_maintenance(void **state)
{
	struct check_rule r = disk;
	struct alert a = { 0 };
	int64_t t = 1000 * MIN;

	UNUSED(state);
	r.for_ms = 0;
	r.flap_changes = 4;
	r.flap_window_ms = 30 * MIN;
	alert_maintenance(&a, true, t);
	assert_int_equal(alert_sample(&a, &r, 92, t + MIN), AE_NONE);
	assert_int_equal(alert_sample(&a, &r, 80, t + 2 * MIN), AE_NONE);
	assert_int_equal(alert_sample(&a, &r, 92, t + 3 * MIN), AE_NONE);
	assert_int_equal(alert_sample(&a, &r, 80, t + 4 * MIN), AE_NONE);
	assert_int_equal(alert_sample(&a, &r, 97, t + 5 * MIN), AE_NONE);
	assert_false(a.flapping);
	assert_int_equal(alert_maintenance(&a, false, t + 6 * MIN), AE_FIRE);
}

/* What is acknowledged is what was announced. */
static void test_ack_follows_what_was_announced(void **state)
{
	struct check_rule r = disk;
	struct alert a = { 0 };
	int64_t t = 1000 * MIN;

	UNUSED(state);
	r.for_ms = 0;
	/* Firing inside a window, never announced: nothing to acknowledge. */
	alert_maintenance(&a, true, t);
	alert_sample(&a, &r, 97, t + MIN);
	assert_false(alert_ack(&a));
	assert_int_equal(alert_maintenance(&a, false, t + 2 * MIN), AE_FIRE);
	assert_true(alert_ack(&a));
	/* Recovering inside a window: the acknowledgement stays until the
	 * resolve is announced, so worse again says nothing new. */
	alert_maintenance(&a, true, t + 3 * MIN);
	alert_sample(&a, &r, 50, t + 4 * MIN);
	alert_sample(&a, &r, 91, t + 5 * MIN);
	assert_int_equal(alert_maintenance(&a, false, t + 6 * MIN), AE_NONE);
	assert_true(a.acked);
	assert_int_equal(alert_sample(&a, &r, 50, t + 7 * MIN), AE_RESOLVE);
	assert_false(a.acked);
}

/* Pending must be held while seen; NaN is no sample. */
static void test_pending_needs_samples_and_nan_is_ignored(void **state)
{
	struct alert a = { 0 };
	int64_t t = 1000 * MIN;

	UNUSED(state);
	assert_int_equal(alert_sample(&a, &disk, 93, t), AE_NONE);
	/* The device was off for 3 hours: that is not 10 minutes of "bad". */
	assert_int_equal(alert_sample(&a, &disk, 93, t + 180 * MIN), AE_NONE);
	assert_int_equal(a.status, AL_PENDING);
	assert_int_equal(alert_sample(&a, &disk, 93, t + 185 * MIN), AE_NONE);
	assert_int_equal(alert_sample(&a, &disk, 93, t + 190 * MIN), AE_FIRE);
	assert_int_equal(alert_sample(&a, &disk, 0.0 / 0.0, t + 191 * MIN), AE_NONE);
	assert_int_equal(a.status, AL_FIRING);
	{
		struct check_rule bad = disk;
		struct err e;
		bad.warn = 1.0 / 0.0;
		assert_int_equal(check_rule_valid(&bad, &e), RC_INVALID);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_and_hysteresis),
		cmocka_unit_test(test_rule_validation),
		cmocka_unit_test(test_pending_then_firing_after_for),
		cmocka_unit_test(test_recovery_while_pending_says_nothing),
		cmocka_unit_test(test_ack_silences_severity_until_resolved),
		cmocka_unit_test(test_flapping_notifies_once),
		cmocka_unit_test(test_flap_end_brings_the_world_in_line),
		cmocka_unit_test(test_maintenance_window),
		cmocka_unit_test(test_replayed_samples_are_ignored),
		cmocka_unit_test(test_no_flapping_inside_maintenance),
		cmocka_unit_test(test_ack_follows_what_was_announced),
		cmocka_unit_test(test_pending_needs_samples_and_nan_is_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
