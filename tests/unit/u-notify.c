/* u-notify.c: the outbox dispatcher's pure decisions (src/notify/notify.h):
 * the retry backoff, which outbox events webhooks see and as what, a
 * subscription's event filter, and which template goes to whom. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "notify/compose.h"
#include "notify/notify.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_webhook_events),
		cmocka_unit_test(test_webhook_wants),
		cmocka_unit_test(test_templates_of_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
