/* u-notify.c: the outbox dispatcher's pure decisions (src/notify/notify.h):
 * the retry backoff, which outbox events webhooks see and as what, a
 * subscription's event filter, which template goes to whom, when an
 * outbox row that failed to expand is tried again, and what of a review
 * pack goes attached and what the text says of the rest
 * (src/notify/review_mail.h). */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "notify/compose.h"
#include "notify/notify.h"
#include "notify/review_mail.h"

static void test_backoff(void **state)
{
	int64_t total = 0;

	(void)state;
	assert_int_equal(notify_backoff(1), 30000);
	assert_int_equal(notify_backoff(2), 60000);
	assert_int_equal(notify_backoff(3), 120000);
	assert_int_equal(notify_backoff(8), 3600000);     /* 30 s * 2^7 > 1 h: capped */
	assert_int_equal(notify_backoff(1000), 3600000);
	for (int i = 1; i < NOTIFY_MAX_ATTEMPTS; i++) {
		assert_true(notify_backoff(i + 1) >= notify_backoff(i));
		total += notify_backoff(i);
	}
	/* A dead SMTP server is waited for more than a day before giving up. */
	assert_true(total > 24 * 3600000LL);
}

static void test_webhook_events(void **state)
{
	(void)state;
	assert_string_equal(notify_webhook_event("ticket.created"), "ticket.created");
	assert_string_equal(notify_webhook_event("ticket.reply"), "ticket.updated");
	assert_string_equal(notify_webhook_event("ticket.assigned"), "ticket.updated");
	assert_string_equal(notify_webhook_event("ticket.resolved"), "ticket.resolved");
	assert_string_equal(notify_webhook_event("sla.breached"), "sla.breach");
	assert_string_equal(notify_webhook_event("sla.ola_breached"), "sla.breach");
	assert_string_equal(notify_webhook_event("alert.firing"), "alert.firing");
	assert_null(notify_webhook_event("sla.notify_dispatcher"));
	assert_null(notify_webhook_event("nonsense"));
	/* Every event a webhook announces may be subscribed to. */
	for (const char *const *ev = (const char *const[]){ "ticket.created", "ticket.reply",
			"ticket.resolved", "sla.warning", "sla.breached", "alert.firing",
			"alert.resolved", NULL }; *ev; ev++) {
		bool listed = false;
		for (size_t k = 0; notify_webhook_events[k]; k++)
			listed |= !strcmp(notify_webhook_events[k], notify_webhook_event(*ev));
		assert_true(listed);
	}
}

static void test_webhook_wants(void **state)
{
	(void)state;
	assert_true(notify_webhook_wants("[\"ticket.created\",\"sla.breach\"]", "sla.breach"));
	assert_false(notify_webhook_wants("[\"ticket.created\"]", "ticket.updated"));
	assert_true(notify_webhook_wants("[\"*\"]", "alert.resolved"));
	assert_false(notify_webhook_wants("[]", "ticket.created"));
	assert_false(notify_webhook_wants("not json", "ticket.created"));
	assert_false(notify_webhook_wants(NULL, "ticket.created"));
}

static void test_templates_of_events(void **state)
{
	bool req;

	(void)state;
	assert_string_equal(notify_template_of("ticket.created", &req), "requester.created");
	assert_true(req);
	assert_string_equal(notify_template_of("ticket.resolved", &req), "requester.resolved");
	assert_true(req);
	assert_string_equal(notify_template_of("ticket.assigned", &req), "staff.assigned");
	assert_false(req);
	assert_string_equal(notify_template_of("sla.notify_dispatcher", &req), "staff.dispatcher");
	assert_null(notify_template_of("ticket.reopened", &req));
	/* Every template an event names exists. */
	for (const char *const *ev = (const char *const[]){ "ticket.created", "ticket.reply",
			"ticket.resolved", "ticket.assigned", "ticket.escalated", "ticket.customer_reply",
			"sla.warning", "sla.breached", "sla.notify_dispatcher", NULL }; *ev; ev++)
		assert_non_null(tmpl_default(notify_template_of(*ev, &req)));
}

/* The review pack's size rule: the pack first, then the CSV if what is
 * left holds it; a document not built (past its ceiling) never. The
 * review's own event sends no ticket mail and no webhook. */
static void test_review_attachments(void **state)
{
	static const struct {
		bool html_built;
		size_t html;
		bool csv_built;
		size_t csv;
		bool want_html, want_csv;
	} cases[] = {
		{ true, 100, true, 200, true, true },
		{ true, 100, false, 0, true, false },             /* no CSV asked */
		{ true, 1000, true, 3000, true, true },           /* exactly the budget */
		{ true, 1000, true, 3001, true, false },          /* the CSV does not fit beside it */
		{ true, 4000, true, 1, true, false },
		{ true, 4001, true, 3000, false, true },          /* the pack too big: the CSV alone */
		{ true, 4001, true, 4000, false, true },
		{ false, 0, true, 10, false, true },              /* the pack past its ceiling */
		{ true, 10, true, 4001, true, false },            /* a CSV cut at its ceiling */
		{ false, 0, false, 0, false, false },
		{ true, 0, true, 0, true, true },
	};
	struct review_mail_plan p;
	bool req;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		review_mail_plan(cases[i].html_built, cases[i].html, cases[i].csv_built, cases[i].csv,
				 4000, &p);
		assert_int_equal(p.html, cases[i].want_html);
		assert_int_equal(p.csv, cases[i].want_csv);
	}
	assert_null(notify_template_of("report.review", &req));
	assert_null(notify_webhook_event("report.review"));
	assert_non_null(tmpl_default(REVIEW_MAIL_TEMPLATE));
	assert_true(REVIEW_MAIL_ATTACH_MAX <= (size_t)7 << 20);   /* ~1.37x in base64: under 10 MB */
}

/* An outbox row whose expansion failed: the deliveries' backoff, then
 * failed at the same cap. */
static void test_outbox_retry(void **state)
{
	int64_t next = -1;

	(void)state;
	assert_string_equal(notify_outbox_retry(1, 1000, &next), "pending");
	assert_int_equal(next, 1000 + 30000);
	assert_string_equal(notify_outbox_retry(3, 1000, &next), "pending");
	assert_int_equal(next, 1000 + 120000);
	assert_string_equal(notify_outbox_retry(NOTIFY_MAX_ATTEMPTS - 1, 1000, &next), "pending");
	assert_int_equal(next, 1000 + 3600000);
	assert_string_equal(notify_outbox_retry(NOTIFY_MAX_ATTEMPTS, 1000, &next), "failed");
	assert_int_equal(next, 0);
	assert_string_equal(notify_outbox_retry(NOTIFY_MAX_ATTEMPTS + 5, 1000, &next), "failed");
}

/* A document left out of a review e-mail: the download link under the
 * desk's public address; without one, no link (a relative or listen
 * address helps no reader) and the line says why. */
static void test_review_left_out(void **state)
{
	struct arena *a = arena_new(1 << 16);
	const char *s;

	(void)state;
	assert_non_null(a);
	/* 2040-03-01 and 2040-04-01 as days since the epoch. */
	s = review_mail_left_out(a, "https://desk.msp.test", "The review is", "it", "40.0 MB", 7,
				 25627, 25658, "html");
	assert_string_equal(s, "The review is too large to attach (40.0 MB). Download it here"
			    " (sign-in required):\nhttps://desk.msp.test/api/v1/reports/sla-review"
			    "?client_id=7&from=2040-03-01&to=2040-04-01&format=html\n");
	s = review_mail_left_out(a, NULL, "The ticket rows are", "them", "5.0 MB", 7, 25627, 25658,
				 "csv");
	assert_string_equal(s, "The ticket rows are too large to attach (5.0 MB). Ask the service"
			    " desk for them: no download link can be given, as the desk's public"
			    " address is not configured.\n");
	s = review_mail_left_out(a, "", "The review is", "it", "40.0 MB", 7, 25627, 25658, "html");
	assert_null(strstr(s, "/api/v1"));
	assert_null(strstr(s, "http"));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_webhook_events),
		cmocka_unit_test(test_webhook_wants),
		cmocka_unit_test(test_templates_of_events),
		cmocka_unit_test(test_review_attachments),
		cmocka_unit_test(test_outbox_retry),
		cmocka_unit_test(test_review_left_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
