/* u-http.c: route matching, the route table's shape, result mapping. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "http/http.h"

static void test_route_match(void **state)
{
	static const struct { const char *pattern, *path; int n; int64_t p0, p1; } cases[] = {
		{ "/healthz", "/healthz", 0, 0, 0 },
		{ "/healthz", "/healthz/", -1, 0, 0 },
		{ "/api/v1/clients/{id}", "/api/v1/clients/42", 1, 42, 0 },
		{ "/api/v1/clients/{id}", "/api/v1/clients/", -1, 0, 0 },
		{ "/api/v1/clients/{id}", "/api/v1/clients/0", -1, 0, 0 },
		{ "/api/v1/clients/{id}", "/api/v1/clients/007", -1, 0, 0 },
		{ "/api/v1/clients/{id}", "/api/v1/clients/-1", -1, 0, 0 },
		{ "/api/v1/clients/{id}", "/api/v1/clients/1x", -1, 0, 0 },
		{ "/api/v1/clients/{id}", "/api/v1/clients/99999999999999999999", -1, 0, 0 },
		{ "/api/v1/clients/{id}/contacts", "/api/v1/clients/7/contacts", 1, 7, 0 },
		{ "/api/v1/clients/{id}/contacts", "/api/v1/clients/7/contactsx", -1, 0, 0 },
		{ "/a/{id}/b/{id}", "/a/3/b/4", 2, 3, 4 },
		{ "/api/v1/clients", "/api/v1/clientsx", -1, 0, 0 },
	};
	int64_t p[REQ_MAX_PARAMS];

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int n = route_match(cases[i].pattern, cases[i].path, p, REQ_MAX_PARAMS);
		assert_int_equal(n, cases[i].n);
		if (n >= 1)
			assert_int_equal(p[0], cases[i].p0);
		if (n >= 2)
			assert_int_equal(p[1], cases[i].p1);
	}
}

static void test_route_table(void **state)
{
	UNUSED(state);
	for (size_t i = 0; i < routes_count; i++) {
		/* No two routes share method and pattern. */
		for (size_t k = i + 1; k < routes_count; k++)
			assert_false(!strcmp(routes[i].method, routes[k].method) &&
				     !strcmp(routes[i].pattern, routes[k].pattern));
		/* Nothing changes state on GET; every body route is a change. */
		if (!strcmp(routes[i].method, "GET"))
			assert_false(routes[i].json_body || routes[i].idempotent);
		/* Public: the service routes, the login, the signed CSAT link,
		 * and the routes with credentials of their own (an enrolment
		 * token in the body, a device token, a receiver token). */
		if (routes[i].perm == P_PUBLIC)
			assert_true(!strcmp(routes[i].method, "GET") ||
				    !strcmp(routes[i].pattern, "/api/v1/auth/login") ||
				    !strcmp(routes[i].pattern, "/api/v1/csat/{id}") ||
				    !strcmp(routes[i].pattern, "/api/v1/agent/enroll") ||
				    !strcmp(routes[i].pattern, "/api/v1/agent/checkin") ||
				    !strcmp(routes[i].pattern, "/api/v1/integrations/alertmanager"));
		/* Test-only routes are for admins. */
		if (routes[i].test_only)
			assert_int_equal(routes[i].perm, P_ADMIN);
	}
}

static void test_result_status(void **state)
{
	UNUSED(state);
	assert_int_equal(result_status(RC_OK), 200);
	assert_int_equal(result_status(RC_INVALID), 400);
	assert_int_equal(result_status(RC_NOTFOUND), 404);
	assert_int_equal(result_status(RC_CONFLICT), 409);
	assert_int_equal(result_status(RC_DENIED), 403);
	assert_int_equal(result_status(RC_STALE), 412);
	assert_int_equal(result_status(RC_BUSY), 503);
	assert_int_equal(result_status(RC_IO), 500);
	assert_int_equal(result_status((enum result)99), 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_match),
		cmocka_unit_test(test_route_table),
		cmocka_unit_test(test_result_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
