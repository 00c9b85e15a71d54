/* u-auth.c: passwords, tokens, TOTP (RFC 6238 vectors), throttling,
 * permission decisions. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "auth/auth.h"

static int setup(void **state)
{
	UNUSED(state);
	return auth_init(NULL) == RC_OK ? 0 : -1;
}

static void test_password(void **state)
{
	char h[PWHASH_MAX], h2[PWHASH_MAX];

	UNUSED(state);
	assert_int_equal(password_hash("correct horse battery", h, NULL), RC_OK);
	assert_non_null(strstr(h, "$argon2id$"));
	assert_true(password_verify(h, "correct horse battery"));
	assert_false(password_verify(h, "correct horse batterY"));
	assert_false(password_verify(NULL, "anything"));
	assert_false(password_verify("", "anything"));
	/* Salted: the same password hashes differently. */
	assert_int_equal(password_hash("correct horse battery", h2, NULL), RC_OK);
	assert_string_not_equal(h, h2);
	assert_non_null(password_policy("short"));
	assert_null(password_policy("0123456789"));
}

static void test_tokens(void **state)
{
	char a[TOKEN_MAX], b[TOKEN_MAX];
	unsigned char ha[32], hb[32], ha2[32];

	UNUSED(state);
	token_new("itsup_", a);
	token_new("itsup_", b);
	assert_int_equal(strlen(a), 6 + 43);
	assert_int_equal(strncmp(a, "itsup_", 6), 0);
	assert_string_not_equal(a, b);
	token_hash(a, ha);
	token_hash(a, ha2);
	token_hash(b, hb);
	assert_true(hash_equal(ha, ha2));
	assert_false(hash_equal(ha, hb));
	for (const char *p = a; *p; p++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", *p));
}

/* RFC 6238 appendix B, SHA-1, last 6 digits; secret "12345678901234567890". */
static void test_totp_vectors(void **state)
{
	static const char *secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	static const struct { int64_t t; const char *code; } v[] = {
		{ 59, "287082" },         { 1111111109, "081804" }, { 1111111111, "050471" },
		{ 1234567890, "005924" }, { 2000000000, "279037" }, { 20000000000, "353130" },
	};
	char out[8];

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		assert_true(totp_code(secret, v[i].t * 1000, out));
		assert_string_equal(out, v[i].code);
		assert_true(totp_check(secret, v[i].code, v[i].t * 1000));
	}
	/* One step of drift either way is accepted, two are not. */
	assert_true(totp_check(secret, "081804", (1111111109 + 30) * 1000LL));
	assert_true(totp_check(secret, "081804", (1111111109 - 30) * 1000LL));
	assert_false(totp_check(secret, "081804", (1111111109 + 90) * 1000LL));
	assert_false(totp_check(secret, "81804", 1111111109 * 1000LL));
	assert_false(totp_check(secret, "08180x", 1111111109 * 1000LL));
	assert_false(totp_check(NULL, "081804", 1111111109 * 1000LL));
}

static void test_totp_step(void **state)
{
	static const char *secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	int64_t step = 1111111109 / 30;

	UNUSED(state);
	/* RFC 6238's vector: the code's own step, also a few seconds later
	 * (the store refuses the second use: u-store tests it). */
	assert_int_equal(totp_step_of(secret, "081804", 1111111109 * 1000LL), step);
	assert_int_equal(totp_step_of(secret, "081804", 1111111112 * 1000LL), step);
	/* One step late is still that step; the next step's code is newer. */
	assert_int_equal(totp_step_of(secret, "081804", (1111111109 + 30) * 1000LL), step);
	assert_int_equal(totp_step_of(secret, "050471", 1111111111 * 1000LL + 30000), step + 1);
	/* Wrong, malformed or far off: 0. */
	assert_int_equal(totp_step_of(secret, "081805", 1111111109 * 1000LL), 0);
	assert_int_equal(totp_step_of(secret, "08180", 1111111109 * 1000LL), 0);
	assert_int_equal(totp_step_of(secret, "081804", (1111111109 + 300) * 1000LL), 0);
}

static void test_totp_new(void **state)
{
	char s[TOTP_SECRET_MAX], uri[512], code[8];

	UNUSED(state);
	totp_secret_new(s);
	assert_int_equal(strlen(s), 32);
	assert_true(totp_code(s, 1000000, code));
	assert_true(totp_check(s, code, 1000000));
	totp_uri("itsup", "ada+x@example.com", s, uri, sizeof(uri));
	assert_non_null(strstr(uri, "otpauth://totp/itsup:ada%2Bx@example.com?secret="));
	assert_non_null(strstr(uri, "&issuer=itsup"));
}

static void test_throttle_pure(void **state)
{
	struct throttle_policy p = { 3, 1000 };
	struct throttle_slot s = { 5000, 2 };
	unsigned char k1[32], k2[32], k3[32];

	UNUSED(state);
	assert_int_equal(throttle_wait(&s, &p, 5200), 0);
	s.failures = 3;
	/* The limit reached within the window: blocked until it ends. */
	assert_int_equal(throttle_wait(&s, &p, 5300), 700);
	assert_int_equal(throttle_wait(&s, &p, 6000), 0);
	/* Keys are the same on every server, and differ by kind and key. */
	throttle_key("account", "ada@example.com", k1);
	throttle_key("account", "ada@example.com", k2);
	assert_memory_equal(k1, k2, 32);
	throttle_key("address", "ada@example.com", k3);
	assert_memory_not_equal(k1, k3, 32);
	throttle_key("account", "ada@example.co", k3);
	assert_memory_not_equal(k1, k3, 32);
	/* The policies: 5 per account, 30 per address, in 15 minutes. */
	assert_int_equal(throttle_policy_of("account")->limit, 5);
	assert_int_equal(throttle_policy_of("address")->limit, 30);
	assert_int_equal(throttle_policy_of("address")->window_ms, 15 * 60 * 1000);
}

static void test_permissions(void **state)
{
	struct scope admin = scope_for(1, ROLE_ADMIN, 0, 0);
	struct scope disp = scope_for(2, ROLE_DISPATCHER, 0, 0);
	struct scope cadmin = scope_for(3, ROLE_CLIENT_ADMIN, 0, 7);
	struct scope cuser = scope_for(4, ROLE_CLIENT_USER, 0, 7);
	static const struct {
		int who; /* 0 admin, 1 dispatcher, 2 client admin, 3 client user */
		enum role role;
		int64_t client;
		bool ok;
	} cases[] = {
		{ 0, ROLE_ADMIN, 0, true },         { 0, ROLE_CLIENT_USER, 9, true },
		{ 1, ROLE_TECHNICIAN, 0, false },   { 1, ROLE_CLIENT_USER, 7, false },
		{ 2, ROLE_CLIENT_USER, 7, true },   { 2, ROLE_CLIENT_IT, 7, true },
		{ 2, ROLE_CLIENT_USER, 8, false },  { 2, ROLE_TECHNICIAN, 0, false },
		{ 2, ROLE_ADMIN, 0, false },        { 3, ROLE_CLIENT_USER, 7, false },
	};
	const struct scope *who[] = { &admin, &disp, &cadmin, &cuser };
	struct err e;

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(auth_may_manage_user(who[cases[i].who], cases[i].role,
						      cases[i].client, &e), cases[i].ok);
	assert_true(auth_role_shape_ok(ROLE_TECHNICIAN, 2, 0, &e));
	assert_false(auth_role_shape_ok(ROLE_TECHNICIAN, 0, 0, &e));
	assert_string_equal(e.field, "tier");
	assert_false(auth_role_shape_ok(ROLE_TECHNICIAN, 4, 0, &e));
	assert_false(auth_role_shape_ok(ROLE_ADMIN, 1, 0, &e));
	assert_false(auth_role_shape_ok(ROLE_CLIENT_USER, 0, 0, &e));
	assert_string_equal(e.field, "client_id");
	assert_false(auth_role_shape_ok(ROLE_DISPATCHER, 0, 3, &e));
	assert_false(auth_role_shape_ok(ROLE_NONE, 0, 0, &e));
	assert_true(auth_role_shape_ok(ROLE_CLIENT_IT, 0, 3, &e));
}

static void test_scope(void **state)
{
	struct scope tech = scope_for(5, ROLE_TECHNICIAN, 2, 99);
	struct scope cu = scope_for(6, ROLE_CLIENT_USER, 3, 7);
	struct scope sys = scope_system();

	UNUSED(state);
	assert_true(tech.all_tenants);
	assert_int_equal(tech.client_id, 0); /* staff belong to no client */
	assert_int_equal(tech.tier, 2);
	assert_false(cu.all_tenants);
	assert_int_equal(cu.tier, 0);
	assert_true(scope_sees_tenant(&cu, 7));
	assert_false(scope_sees_tenant(&cu, 8));
	assert_false(scope_sees_tenant(&cu, 0));
	assert_true(scope_sees_tenant(&sys, 123));
	assert_int_equal(role_parse("client_it"), ROLE_CLIENT_IT);
	assert_int_equal(role_parse("system"), ROLE_NONE);
	assert_int_equal(role_parse("Admin"), ROLE_NONE);
	assert_string_equal(role_name(ROLE_DISPATCHER), "dispatcher");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_totp_vectors),
		cmocka_unit_test(test_totp_step),
		cmocka_unit_test(test_totp_new),
		cmocka_unit_test(test_throttle_pure),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_scope),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
