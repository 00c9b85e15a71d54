/* u-audit.c: the hash chain finds any edit, deletion or reordering. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>

#include "audit/audit.h"

#define N 6

static void make_chain(struct audit_rec *r)
{
	static const char *const actions[N] = { "login", "client.create", "user.create",
						"login.failed", "user.update", "logout" };
	unsigned char prev[32] = { 0 };

	for (int i = 0; i < N; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].seq = i + 1;
		r[i].at = 1700000000000 + i;
		r[i].actor_id = i % 3;
		r[i].tenant_id = i % 2;
		r[i].action = actions[i];
		r[i].object_type = "user";
		r[i].object_id = 10 + i;
		r[i].outcome = "ok";
		r[i].addr = "127.0.0.1";
		r[i].detail = i == 2 ? NULL : "d";
		memcpy(r[i].prev_hash, prev, 32);
		audit_hash(prev, &r[i], r[i].hash);
		memcpy(prev, r[i].hash, 32);
	}
}

/* Verifies n records; returns the first broken seq, 0 when intact. */
static int64_t verify(const struct audit_rec *r, int n)
{
	struct audit_verify v;

	audit_verify_init(&v);
	for (int i = 0; i < n; i++)
		if (!audit_verify_step(&v, &r[i]))
			return v.broken_seq;
	return 0;
}

static void test_intact(void **state)
{
	struct audit_rec r[N];

	UNUSED(state);
	make_chain(r);
	assert_int_equal(verify(r, N), 0);
}

static void test_edit(void **state)
{
	struct audit_rec r[N];

	UNUSED(state);
	make_chain(r);
	r[3].outcome = "denied";
	assert_int_equal(verify(r, N), 4);
	make_chain(r);
	r[1].at += 1;
	assert_int_equal(verify(r, N), 2);
	/* An edit that also rewrites the record's own hash breaks the next link. */
	make_chain(r);
	r[2].actor_id = 99;
	audit_hash(r[1].hash, &r[2], r[2].hash);
	assert_int_equal(verify(r, N), 4);
}

static void test_null_is_not_empty(void **state)
{
	struct audit_rec r[N];

	UNUSED(state);
	make_chain(r);
	r[2].detail = "";
	assert_int_equal(verify(r, N), 3);
}

static void test_delete_and_swap(void **state)
{
	struct audit_rec r[N], tmp;

	UNUSED(state);
	make_chain(r);
	memmove(&r[2], &r[3], sizeof(r[0]) * (N - 3));
	assert_int_equal(verify(r, N - 1), 3); /* record 3 is missing */
	make_chain(r);
	tmp = r[1];
	r[1] = r[2];
	r[2] = tmp;
	assert_int_equal(verify(r, N), 2);
	make_chain(r);
	r[0].prev_hash[0] ^= 1;
	assert_int_equal(verify(r, N), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_edit),
		cmocka_unit_test(test_null_is_not_empty),
		cmocka_unit_test(test_delete_and_swap),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
