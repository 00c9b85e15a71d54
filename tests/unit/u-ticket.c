/* u-ticket.c: the ticket domain's pure functions: every transition of the
 * lifecycle, the priority matrix, FCR, triage rules, escalation timing,
 * replies and escalations. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>

#include "ticket/ticket.h"

#define DAY (INT64_C(86400000))

static void test_transitions(void **state)
{
	/* The whole table: rows from, columns to. */
	static const bool ok[TS_COUNT][TS_COUNT] = {
		/*            new    open   pcust  pvend  hold   resol  closed */
		[TS_NEW] = { false, true, true, true, true, true, false },
		[TS_OPEN] = { false, false, true, true, true, true, false },
		[TS_PENDING_CUSTOMER] = { false, true, false, true, true, true, false },
		[TS_PENDING_VENDOR] = { false, true, true, false, true, true, false },
		[TS_ON_HOLD] = { false, true, true, true, false, true, false },
		[TS_RESOLVED] = { false, true, false, false, false, false, true },
		[TS_CLOSED] = { false, false, false, false, false, false, false },
	};
	const char *why;

	UNUSED(state);
	for (int f = 0; f < TS_COUNT; f++)
		for (int t = 0; t < TS_COUNT; t++) {
			bool got = ticket_transition_ok((enum tstatus)f, (enum tstatus)t, &why);
			assert_int_equal(got, ok[f][t]);
			if (!got)
				assert_non_null(why);
		}
	assert_false(ticket_transition_ok(TS_CLOSED, TS_OPEN, &why));
	assert_non_null(strstr(why, "final"));
}

static void test_matrix(void **state)
{
	struct prio_matrix m;
	char field[64], text[256];

	UNUSED(state);
	assert_int_equal(priority_of(NULL, LV_HIGH, LV_HIGH), PR_P1);
	assert_int_equal(priority_of(NULL, LV_HIGH, LV_MEDIUM), PR_P2);
	assert_int_equal(priority_of(NULL, LV_MEDIUM, LV_HIGH), PR_P2);
	assert_int_equal(priority_of(NULL, LV_MEDIUM, LV_MEDIUM), PR_P3);
	assert_int_equal(priority_of(NULL, LV_LOW, LV_LOW), PR_P4);
	assert_true(prio_matrix_parse("{\"high\":{\"high\":\"P1\",\"medium\":\"P1\",\"low\":\"P2\"},"
				      "\"medium\":{\"high\":\"P2\",\"medium\":\"P2\",\"low\":\"P3\"},"
				      "\"low\":{\"high\":\"P3\",\"medium\":\"P4\",\"low\":\"P4\"}}",
				      &m, field, sizeof(field)));
	assert_int_equal(priority_of(&m, LV_HIGH, LV_MEDIUM), PR_P1);
	prio_matrix_format(&m, text, sizeof(text));
	assert_true(prio_matrix_parse(text, &m, field, sizeof(field)));
	assert_false(prio_matrix_parse("{\"high\":{\"high\":\"P9\",\"medium\":\"P1\",\"low\":\"P2\"},"
				       "\"medium\":{\"high\":\"P2\",\"medium\":\"P2\",\"low\":\"P3\"},"
				       "\"low\":{\"high\":\"P3\",\"medium\":\"P4\",\"low\":\"P4\"}}",
				       &m, field, sizeof(field)));
	assert_string_equal(field, "priority_matrix.high.high");
	assert_false(prio_matrix_parse("{\"high\":{\"high\":\"P1\",\"medium\":\"P1\",\"low\":\"P2\"}}",
				       &m, field, sizeof(field)));
	assert_string_equal(field, "priority_matrix.low");
	assert_false(prio_matrix_parse("[]", &m, field, sizeof(field)));
}

static void test_fcr(void **state)
{
	static const struct { struct fcr_facts f; bool want; } cases[] = {
		{ { 1, 5, 5, 0, 0, 0 }, true },
		{ { 2, 5, 5, 0, 0, 0 }, false },  /* resolved at tier 2 */
		{ { 1, 5, 6, 0, 0, 0 }, false },  /* not the first handler */
		{ { 1, 5, 5, 1, 1, 0 }, false },  /* escalated (and back) */
		{ { 1, 5, 5, 0, 1, 0 }, false },  /* tier change only */
		{ { 1, 5, 5, 0, 0, 1 }, false },  /* reopened early */
		{ { 1, 0, 0, 0, 0, 0 }, false },  /* nobody handled it */
	};
	const char *why;

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(fcr_decide(&cases[i].f, &why), cases[i].want);
		assert_non_null(why);
	}
}

static void test_status_effects(void **state)
{
	struct ticket_state s = { .status = TS_OPEN, .tier = 1, .fcr = -1 };
	struct status_effects fx;
	struct err e;

	UNUSED(state);
	ticket_handled_by(&s, 7);
	ticket_handled_by(&s, 8);
	assert_int_equal(s.first_handler_id, 7);
	assert_int_equal(ticket_set_status(&s, TS_RESOLVED, 7, 1000, &fx, &e), RC_OK);
	assert_true(fx.resolved && fx.fcr_decided);
	assert_int_equal(s.fcr, 1);
	assert_int_equal(s.resolved_at, 1000);
	/* Reopen within 7 days: FCR is lost for good. */
	assert_int_equal(ticket_set_status(&s, TS_OPEN, 0, 1000 + 2 * DAY, &fx, &e), RC_OK);
	assert_true(fx.reopened);
	assert_int_equal(s.fcr, 0);
	assert_int_equal(s.reopens, 1);
	assert_int_equal(s.early_reopens, 1);
	assert_int_equal(s.resolved_at, 0);
	assert_int_equal(ticket_set_status(&s, TS_RESOLVED, 7, 3 * DAY, &fx, &e), RC_OK);
	assert_int_equal(s.fcr, 0);
	/* A late reopen counts as a reopen but does not undo FCR by itself. */
	{
		struct ticket_state t = { .status = TS_OPEN, .tier = 1, .fcr = -1 };
		ticket_handled_by(&t, 3);
		ticket_set_status(&t, TS_RESOLVED, 3, 0, &fx, &e);
		ticket_set_status(&t, TS_OPEN, 0, 10 * DAY, &fx, &e);
		assert_int_equal(t.reopens, 1);
		assert_int_equal(t.early_reopens, 0);
		ticket_set_status(&t, TS_RESOLVED, 3, 11 * DAY, &fx, &e);
		assert_int_equal(t.fcr, 1);
	}
	assert_int_equal(ticket_set_status(&s, TS_CLOSED, 0, 4 * DAY, &fx, &e), RC_OK);
	assert_int_equal(s.closed_at, 4 * DAY);
	assert_int_equal(ticket_set_status(&s, TS_OPEN, 0, 5 * DAY, &fx, &e), RC_CONFLICT);
	assert_string_equal(e.field, "status");
}

static void test_replies(void **state)
{
	struct ticket_state s = { .status = TS_NEW, .tier = 1, .fcr = -1 };
	struct status_effects fx;

	UNUSED(state);
	/* A client reply on a new ticket changes nothing. */
	assert_int_equal(ticket_on_reply(&s, false, 0, 100, &fx), REPLY_ADDED);
	assert_int_equal(s.status, TS_NEW);
	assert_int_equal(s.first_response_at, 0);
	/* The first staff reply is the first response, and opens the ticket. */
	assert_int_equal(ticket_on_reply(&s, true, 9, 200, &fx), REPLY_ADDED);
	assert_int_equal(s.first_response_at, 200);
	assert_int_equal(s.status, TS_OPEN);
	assert_int_equal(s.first_handler_id, 9);
	ticket_on_reply(&s, true, 10, 300, &fx);
	assert_int_equal(s.first_response_at, 200);
	s.status = TS_PENDING_CUSTOMER;
	ticket_on_reply(&s, false, 0, 400, &fx);
	assert_int_equal(s.status, TS_OPEN);
	s.status = TS_RESOLVED;
	s.resolved_at = 400;
	ticket_on_reply(&s, false, 0, 500, &fx);
	assert_int_equal(s.status, TS_OPEN);
	assert_true(fx.reopened);
	s.status = TS_CLOSED;
	assert_int_equal(ticket_on_reply(&s, false, 0, 600, &fx), REPLY_NEW_TICKET);
}

static void test_escalate(void **state)
{
	struct ticket_state s = { .status = TS_OPEN, .tier = 1, .assignee_id = 4, .fcr = -1 };
	struct err e;
	bool down;

	UNUSED(state);
	assert_int_equal(ticket_escalate(&s, 2, NULL, 0, &down, &e), RC_OK);
	assert_false(down);
	assert_int_equal(s.tier, 2);
	assert_int_equal(s.assignee_id, 0);
	assert_int_equal(s.escalations, 1);
	assert_int_equal(ticket_escalate(&s, 2, NULL, 0, &down, &e), RC_CONFLICT);
	assert_int_equal(ticket_escalate(&s, 1, NULL, 0, &down, &e), RC_OK);
	assert_true(down);
	assert_int_equal(s.escalations, 1);
	assert_int_equal(s.tier_changes, 2);
	assert_int_equal(ticket_escalate(&s, 0, "Dell ProSupport", 0, &down, &e), RC_OK);
	assert_int_equal(s.status, TS_PENDING_VENDOR);
	assert_string_equal(s.vendor, "Dell ProSupport");
	s.status = TS_RESOLVED;
	assert_int_equal(ticket_escalate(&s, 3, NULL, 0, &down, &e), RC_CONFLICT);
}

/* Compiled rules point into their JSON: keep it until the test ends. */
static json_t *kept[64];
static int nkept;

static json_t *keep(json_t *v)
{
	kept[nkept++] = v;
	return v;
}

static int free_kept(void **state)
{
	UNUSED(state);
	while (nkept)
		json_decref(kept[--nkept]);
	return 0;
}

static struct rule compile(const char *conds, const char *acts)
{
	struct rule r = { 0 };
	struct err e;
	json_t *c = keep(json_loads(conds, 0, NULL)), *a = keep(json_loads(acts, 0, NULL));

	assert_int_equal(rule_compile(c, a, &r, &e), RC_OK);
	r.on_create = true;
	return r;
}

static void test_triage(void **state)
{
	struct rule rules[4];
	struct rule_input in = { CH_EMAIL, 3, 11, 0, TT_INCIDENT, NULL,
				 "Printer on floor 2", "toner empty", PR_P3 };
	struct rule_actions out;
	struct rule_trace trace[4];
	size_t nt;
	struct err e;
	json_t *bad;

	UNUSED(state);
	rules[0] = compile("[{\"field\":\"text\",\"op\":\"word\",\"value\":\"printer\"}]",
			   "{\"queue\":\"hardware\",\"tags\":[\"printer\"]}");
	rules[0].id = 1;
	rules[1] = compile("[{\"field\":\"client_id\",\"op\":\"in\",\"values\":[3,4]},"
			   "{\"field\":\"channel\",\"op\":\"eq\",\"value\":\"email\"}]",
			   "{\"tier\":2,\"tags\":[\"vip\",\"printer\"]}");
	rules[1].id = 2;
	rules[2] = compile("[{\"field\":\"type\",\"op\":\"eq\",\"value\":\"change\"}]",
			   "{\"queue\":\"changes\"}");
	rules[2].id = 3;
	rules[3] = compile("[]", "{\"priority\":\"P2\"}");
	rules[3].id = 4;
	assert_int_equal(triage_eval(rules, 4, true, &in, &out, trace, &nt), 3);
	assert_int_equal(nt, 4);
	assert_string_equal(out.queue, "hardware");
	assert_int_equal(out.tier, 2);
	assert_int_equal(out.priority, PR_P2);
	assert_int_equal(out.ntags, 2); /* printer, vip: no duplicates */
	assert_false(trace[2].matched);
	assert_non_null(strstr(trace[2].why, "type is incident"));
	/* stop ends the run. */
	rules[0].stop = true;
	assert_int_equal(triage_eval(rules, 4, true, &in, &out, trace, &nt), 1);
	assert_int_equal(nt, 1);
	/* Update-only rules do not run on create. */
	rules[0].on_create = false;
	rules[0].stop = false;
	triage_eval(rules, 4, true, &in, &out, trace, &nt);
	assert_int_equal(out.tier, 2);
	assert_int_equal(nt, 3);
	/* Whole words only, any case. */
	assert_true(text_has_word("The PRINTER, again", "printer"));
	assert_false(text_has_word("printers", "printer"));
	assert_false(text_has_word("3dprinter", "printer"));
	/* Bad rules name the bad part. */
	bad = json_loads("[{\"field\":\"colour\",\"op\":\"eq\",\"value\":\"x\"}]", 0, NULL);
	assert_int_equal(rule_compile(bad, keep(json_object()), &rules[0], &e), RC_INVALID);
	assert_string_equal(e.field, "conditions[0].field");
	json_decref(bad);
	bad = json_loads("[{\"field\":\"text\",\"op\":\"eq\",\"value\":\"x\"}]", 0, NULL);
	assert_int_equal(rule_compile(bad, keep(json_object()), &rules[0], &e), RC_INVALID);
	assert_string_equal(e.field, "conditions[0].op");
	json_decref(bad);
}

static void test_esc_due(void **state)
{
	struct esc_rule r = { 1, EK_NO_UPDATE, 30, -1, 2, false };
	struct esc_facts f = { TS_OPEN, PR_P3, 1, 5, 0, 0, 0 };
	int64_t min = 60000;

	UNUSED(state);
	assert_false(esc_due(&r, &f, 29 * min));
	assert_true(esc_due(&r, &f, 30 * min));
	f.fired_at = 31 * min;                 /* fired in this quiet spell */
	assert_false(esc_due(&r, &f, 90 * min));
	f.last_activity_at = 40 * min;         /* a change starts a new spell */
	assert_true(esc_due(&r, &f, 70 * min));
	f.tier = 2;                            /* already there, no notify */
	assert_false(esc_due(&r, &f, 70 * min));
	f.tier = 1;
	f.status = TS_PENDING_CUSTOMER;        /* waiting on the customer */
	assert_false(esc_due(&r, &f, 70 * min));
	f.status = TS_NEW;
	r.kind = EK_UNASSIGNED;
	assert_false(esc_due(&r, &f, 70 * min)); /* it has an assignee */
	f.assignee_id = 0;
	r.priority = PR_P1;
	assert_false(esc_due(&r, &f, 70 * min)); /* priority filter */
	f.priority = PR_P1;
	assert_true(esc_due(&r, &f, 70 * min));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_fcr),
		cmocka_unit_test(test_status_effects),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_escalate),
		cmocka_unit_test_teardown(test_triage, free_kept),
		cmocka_unit_test(test_esc_due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
