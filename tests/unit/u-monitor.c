/* u-monitor.c: the check evaluator and the alert state machine
 * (src/monitor/alert.h): thresholds and hysteresis, for_seconds, severity
 * changes, acknowledgement, flapping, maintenance windows, replayed
 * samples; and monitor.c / chart.c: the stored state, labels and keys,
 * which checks apply, maintenance windows in local time, the ticket
 * action of an alert event, the SVG chart. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "base/util.h"
#include "monitor/alert.h"
#include "monitor/chart.h"
#include "monitor/monitor.h"
#include "sla/tz.h"

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

/* ---- monitor.c: keys, labels, maintenance windows, ticket actions ---- */

static void test_state_round_trip(void **state)
{
	struct alert a = { 0 }, b;
	char *txt;
	int64_t t = 1000 * MIN;

	UNUSED(state);
	alert_sample(&a, &disk, 93, t);
	alert_sample(&a, &disk, 93, t + 10 * MIN);
	alert_ack(&a);
	txt = alert_state_format(&a);
	assert_non_null(txt);
	assert_true(alert_state_parse(txt, &b));
	free(txt);
	assert_false(alert_state_changed(&a, &b));
	assert_int_equal(b.status, AL_FIRING);
	assert_true(b.acked);
	assert_int_equal(b.nchanges, a.nchanges);
	assert_false(alert_state_parse("{\"s\":9}", &b));
	assert_false(alert_state_parse("not json", &b));
	assert_false(alert_state_parse(NULL, &b));
	/* Inactive alerts need no write for a new sample; pending ones do. */
	memset(&a, 0, sizeof(a));
	b = a;
	alert_sample(&b, &disk, 50, t);
	assert_false(alert_state_changed(&a, &b));
	a = b;
	alert_sample(&b, &disk, 95, t + MIN);
	assert_true(alert_state_changed(&a, &b));
}

static void test_labels_and_keys(void **state)
{
	struct arena *a = arena_new(1 << 20);
	const char *why;
	json_t *l = json_pack("{s:s,s:s}", "name", "sshd", "mount", "/");
	json_t *bad = json_pack("{s:i}", "mount", 1);

	UNUSED(state);
	assert_string_equal(monitor_labels_text(a, l, &why), "{\"mount\":\"/\",\"name\":\"sshd\"}");
	assert_string_equal(monitor_labels_text(a, NULL, &why), "");
	assert_null(monitor_labels_text(a, bad, &why));
	assert_non_null(why);
	assert_string_equal(monitor_alert_key(a, 3, 7, ""), "c3/d7");
	assert_string_equal(monitor_alert_key(a, 3, 7, "{\"mount\":\"/\"}"), "c3/d7/{\"mount\":\"/\"}");
	assert_string_equal(monitor_labels_display(a, "{\"mount\":\"/\",\"name\":\"x\"}"), "mount=/, name=x");
	assert_string_equal(monitor_labels_display(a, ""), "");
	json_decref(l);
	json_decref(bad);
	arena_free(a);
}

static void test_check_matching(void **state)
{
	struct check_row c = { .id = 1, .metric = "disk.used_percent", .enabled = true };
	json_t *want = json_pack("{s:s}", "mount", "/");
	json_t *root = json_pack("{s:s}", "mount", "/");
	json_t *var = json_pack("{s:s}", "mount", "/var");

	UNUSED(state);
	assert_true(monitor_check_applies(&c, NULL, 5, 9, "disk.used_percent", var));
	assert_false(monitor_check_applies(&c, NULL, 5, 9, "mem.used_percent", var));
	assert_true(monitor_check_applies(&c, want, 5, 9, "disk.used_percent", root));
	assert_false(monitor_check_applies(&c, want, 5, 9, "disk.used_percent", var));
	assert_false(monitor_check_applies(&c, want, 5, 9, "disk.used_percent", NULL));
	c.client_id = 5;
	assert_true(monitor_check_applies(&c, NULL, 5, 9, "disk.used_percent", root));
	assert_false(monitor_check_applies(&c, NULL, 6, 9, "disk.used_percent", root));
	c.device_id = 8;
	assert_false(monitor_check_applies(&c, NULL, 5, 9, "disk.used_percent", root));
	json_decref(want);
	json_decref(root);
	json_decref(var);
}

/* A window at 02:00-03:00 local every day in Europe/Berlin stays at 02:00
 * local across the change to summer time (2026-03-29). */
static void test_maintenance_windows_follow_local_time(void **state)
{
	struct tz *z;
	struct err e;
	int64_t start, t;
	struct mwindow_row m = { .repeat = "daily", .timezone = "Europe/Berlin" };

	UNUSED(state);
	assert_true(time_parse("2026-03-26T01:00:00Z", &start));   /* 02:00 CET */
	m.starts_at = start;
	m.ends_at = start + 60 * MIN;
	assert_int_equal(tz_load("Europe/Berlin", &z, &e), RC_OK);
	assert_true(mwindow_covers(&m, z, start));
	assert_true(mwindow_covers(&m, z, start + 59 * MIN));
	assert_false(mwindow_covers(&m, z, start + 60 * MIN));
	assert_false(mwindow_covers(&m, z, start - 1));
	/* Next day, same UTC hour (still winter time). */
	assert_true(mwindow_covers(&m, z, start + 86400000LL + MIN));
	/* 2026-03-30: 02:00 CEST is 00:00 UTC, not 01:00. */
	assert_true(time_parse("2026-03-30T00:30:00Z", &t));
	assert_true(mwindow_covers(&m, z, t));
	assert_true(time_parse("2026-03-30T01:30:00Z", &t));
	assert_false(mwindow_covers(&m, z, t));
	/* repeat_until ends the series; "none" is one window; weekly. */
	m.repeat_until = start + 2 * 86400000LL;
	assert_false(mwindow_covers(&m, z, start + 3 * 86400000LL + MIN));
	m.repeat = "none";
	m.repeat_until = 0;
	assert_false(mwindow_covers(&m, z, start + 86400000LL + MIN));
	m.repeat = "weekly";
	assert_false(mwindow_covers(&m, NULL, start + 86400000LL + MIN));
	assert_true(mwindow_covers(&m, NULL, start + 7 * 86400000LL + MIN));
	tz_free(z);
}

static void test_ticket_actions(void **state)
{
	int64_t now = 100 * 86400000LL;

	UNUSED(state);
	assert_int_equal(monitor_ticket_action("fire", false, TS_NEW, 0, false, now), MA_OPEN);
	assert_int_equal(monitor_ticket_action("fire", true, TS_OPEN, 0, false, now), MA_NOTE);
	assert_int_equal(monitor_ticket_action("fire", true, TS_RESOLVED, now - 86400000LL, false, now), MA_REOPEN);
	assert_int_equal(monitor_ticket_action("fire", true, TS_RESOLVED, now - 8 * 86400000LL, false, now), MA_OPEN);
	assert_int_equal(monitor_ticket_action("fire", true, TS_CLOSED, now - 60000, false, now), MA_OPEN);
	assert_int_equal(monitor_ticket_action("resolve", true, TS_NEW, 0, false, now), MA_RESOLVE);
	assert_int_equal(monitor_ticket_action("resolve", true, TS_OPEN, 0, true, now), MA_NOTE);
	assert_int_equal(monitor_ticket_action("resolve", false, TS_NEW, 0, false, now), MA_NONE);
	assert_int_equal(monitor_ticket_action("resolve", true, TS_RESOLVED, now, false, now), MA_NONE);
	assert_int_equal(monitor_ticket_action("ack", true, TS_OPEN, 0, false, now), MA_NOTE);
	assert_int_equal(monitor_ticket_action("flapping", false, TS_NEW, 0, false, now), MA_NONE);
	assert_int_equal(monitor_urgency(SEV_CRITICAL), LV_HIGH);
	assert_int_equal(monitor_urgency(SEV_WARNING), LV_MEDIUM);
}

static void test_chart_is_escaped_svg(void **state)
{
	struct arena *a = arena_new(4 << 20);
	struct series_point p[3] = { { 0, 1, 0, 2 }, { 60000, 2, 1, 3 }, { 120000, 3, 2, 4 } };
	const char *svg = chart_svg(a, p, 3, 0, 180000, "disk<&>\"x\"", false);

	UNUSED(state);
	assert_non_null(svg);
	assert_true(!strncmp(svg, "<svg ", 5));
	assert_non_null(strstr(svg, "disk&lt;&amp;&gt;&quot;x&quot;"));
	assert_null(strstr(svg, "disk<"));
	assert_non_null(strstr(svg, "<polyline"));
	assert_non_null(strstr(svg, "</svg>"));
	svg = chart_svg(a, p, 3, 0, 180000, "disk", true);
	assert_non_null(strstr(svg, ">100<"));   /* a percentage's axis: 0..100 */
	assert_non_null(strstr(svg, ">0<"));
	svg = chart_svg(a, p, 0, 0, 180000, "empty", false);
	assert_non_null(strstr(svg, "no data"));
	assert_null(strstr(svg, "<polyline"));
	arena_free(a);
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
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_labels_and_keys),
		cmocka_unit_test(test_check_matching),
		cmocka_unit_test(test_maintenance_windows_follow_local_time),
		cmocka_unit_test(test_ticket_actions),
		cmocka_unit_test(test_chart_is_escaped_svg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
