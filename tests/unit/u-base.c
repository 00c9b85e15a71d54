/* u-base.c: arena, buf, util, jschema, config. */
#include "base/common.h"

#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/config.h"
#include "base/jschema.h"
#include "base/util.h"

static int order[4], norder;
static void note(void *p) { order[norder++] = (int)(intptr_t)p; }

static void test_arena(void **state)
{
	struct arena *a = arena_new(1000);
	char *s;

	UNUSED(state);
	assert_non_null(a);
	s = arena_strdup(a, "hello");
	assert_string_equal(s, "hello");
	assert_null(arena_strdup(a, NULL));
	assert_string_equal(arena_printf(a, "%d-%s", 7, "x"), "7-x");
	assert_non_null(arena_alloc(a, 500));
	assert_null(arena_alloc(a, 600)); /* past the ceiling */
	norder = 0;
	arena_defer(a, note, (void *)1);
	arena_defer(a, note, (void *)2);
	arena_free(a);
	/* Cleanups run in reverse order of registration. */
	assert_int_equal(norder, 2);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
}

static void test_arena_alignment(void **state)
{
	struct arena *a = arena_new(1 << 20);

	UNUSED(state);
	for (int i = 1; i < 50; i++) {
		void *p = arena_alloc(a, (size_t)i * 3);
		assert_int_equal((uintptr_t)p % 16, 0);
		assert_int_equal(((unsigned char *)p)[0], 0);
	}
	arena_free(a);
}

static void test_buf(void **state)
{
	struct buf b = BUF_INIT(10);

	UNUSED(state);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_appends(&b, "abcdef"), RC_OK);
	assert_int_equal(buf_appendf(&b, "%d", 1234), RC_OK);
	assert_string_equal(buf_str(&b), "abcdef1234");
	assert_int_equal(buf_appends(&b, "x"), RC_NOMEM); /* ceiling 10 */
	assert_string_equal(buf_str(&b), "abcdef1234"); /* unchanged */
	buf_release(&b);
	assert_int_equal(b.len, 0);
}

static void test_parse_i64(void **state)
{
	int64_t v;

	UNUSED(state);
	assert_true(parse_i64("42", &v) && v == 42);
	assert_true(parse_i64("-7", &v) && v == -7);
	assert_false(parse_i64("", &v));
	assert_false(parse_i64(" 1", &v));
	assert_false(parse_i64("1x", &v));
	assert_false(parse_i64("99999999999999999999", &v));
}

static void test_time(void **state)
{
	static const struct { const char *in; int64_t ms; const char *out; } ok[] = {
		{ "1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z" },
		{ "2026-03-29T01:30:00Z", 1774747800000, "2026-03-29T01:30:00Z" },
		{ "2024-02-29T23:59:59.5Z", 1709251199500, "2024-02-29T23:59:59.500Z" },
		{ "2026-03-29T03:30:00+02:00", 1774747800000, "2026-03-29T01:30:00Z" },
		{ "2026-03-28T20:30:00-05:00", 1774747800000, "2026-03-29T01:30:00Z" },
		{ "1969-12-31T23:59:59Z", -1000, "1969-12-31T23:59:59Z" },
	};
	static const char *const bad[] = { "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
					   "2026-01-01 00:00:00Z", "2026-01-01T24:00:00Z",
					   "2026-01-01T00:00:00", "2026-01-01T00:00:00Zjunk",
					   "2026-01-01T00:00:00.Z", "x" };
	char out[32];
	int64_t ms;

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_true(time_parse(ok[i].in, &ms));
		assert_int_equal(ms, ok[i].ms);
		time_format(ms, out);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(time_parse(bad[i], &ms));
	/* The hand formatter round-trips across years 1..9999. */
	for (int64_t t = -62135596800000 + 1, step = 99991234567; t < 253402300799999; t += step) {
		time_format(t, out);
		assert_true(time_parse(out, &ms));
		assert_int_equal(ms, t);
	}
}

static void test_email_tz_text(void **state)
{
	UNUSED(state);
	assert_true(email_valid("a@b.co"));
	assert_true(email_valid("first.last+tag@sub.example.org"));
	assert_false(email_valid("nobody"));
	assert_false(email_valid("a@b"));
	assert_false(email_valid("a@@b.co"));
	assert_false(email_valid("a b@c.de"));
	assert_false(email_valid("a@b.co\r\nBcc: x@y.z"));
	assert_true(tz_valid("UTC"));
	assert_true(tz_valid("Europe/Berlin"));
	assert_true(tz_valid("America/New_York"));
	assert_false(tz_valid("Mars/Olympus"));
	assert_false(tz_valid("../../etc/passwd"));
	assert_false(tz_valid("/etc/localtime"));
	assert_false(tz_valid(""));
	assert_true(text_valid("héllo wörld", false));
	assert_false(text_valid("a\nb", false));
	assert_true(text_valid("a\nb", true));
	assert_false(text_valid("\xc3\x28", true));      /* broken UTF-8 */
	assert_false(text_valid("\xed\xa0\x80", true));  /* surrogate */
	assert_false(text_valid("a\x01", true));
}

struct thing {
	const char *name, *kind;
	int64_t n, at;
	bool flag;
};

static const char *const kinds[] = { "a", "b", NULL };
static const struct jfield thing_fields[] = {
	{ "name", JT_STRING, JF_REQUIRED, offsetof(struct thing, name), 1, 5, NULL },
	{ "kind", JT_ENUM, 0, offsetof(struct thing, kind), 0, 0, kinds },
	{ "n", JT_INT, JF_NULLABLE, offsetof(struct thing, n), 1, 10, NULL },
	{ "at", JT_INSTANT, 0, offsetof(struct thing, at), 0, 0, NULL },
	{ "flag", JT_BOOL, 0, offsetof(struct thing, flag), 0, 0, NULL },
};

static json_t *run_schema(const char *text, struct thing *t, struct jseen *seen, bool *ok)
{
	json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL), *errs = json_array();

	assert_non_null(v);
	memset(t, 0, sizeof(*t));
	*ok = jschema_parse(v, thing_fields, ARRAY_SIZE(thing_fields), t, seen, errs);
	json_decref(v);
	return errs;
}

static void test_jschema(void **state)
{
	struct thing t;
	struct jseen seen;
	bool ok;
	json_t *errs;

	UNUSED(state);
	errs = run_schema("{\"name\":\"abc\",\"kind\":\"b\",\"n\":3,\"at\":\"2026-01-01T00:00:00Z\",\"flag\":true}",
			  &t, &seen, &ok);
	assert_true(ok);
	assert_int_equal(json_array_size(errs), 0);
	json_decref(errs);

	/* Every problem at once, each naming its field. */
	errs = run_schema("{\"kind\":\"c\",\"n\":11,\"at\":\"yesterday\",\"flag\":1,\"extra\":0}",
			  &t, &seen, &ok);
	assert_false(ok);
	assert_int_equal(json_array_size(errs), 6);
	{
		const char *want[] = { "kind", "n", "at", "flag", "extra", "name" };
		for (size_t i = 0; i < 6; i++) {
			bool found = false;
			for (size_t k = 0; k < json_array_size(errs); k++)
				if (!strcmp(json_string_value(json_object_get(json_array_get(errs, k), "field")), want[i]))
					found = true;
			assert_true(found);
		}
	}
	json_decref(errs);

	errs = run_schema("{\"name\":\"toolong\",\"n\":null}", &t, &seen, &ok);
	assert_false(ok);
	assert_int_equal(json_array_size(errs), 1);
	assert_true(seen.nulls & (1u << 2));
	json_decref(errs);

	errs = run_schema("{\"name\":\"a\\u0000b\"}", &t, &seen, &ok);
	assert_false(ok);
	json_decref(errs);

	errs = run_schema("{\"name\":null}", &t, &seen, &ok);
	assert_false(ok); /* name is not nullable */
	json_decref(errs);
}

static void test_config(void **state)
{
	struct config c;
	struct err e;
	char path[] = "/tmp/u-base-config-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	UNUSED(state);
	config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(config_set(&c, "threads", "8", &e), RC_OK);
	assert_int_equal(c.threads, 8);
	assert_int_equal(config_set(&c, "threads", "0", &e), RC_INVALID);
	assert_int_equal(config_set(&c, "nonsense", "1", &e), RC_INVALID);
	assert_int_equal(config_set(&c, "production", "yes", &e), RC_OK);
	assert_true(c.production);

	fputs("# comment\n db = /tmp/x.db \nlisten=0.0.0.0:9000\n\n", f);
	fclose(f);
	assert_int_equal(config_load_file(&c, path, &e), RC_OK);
	assert_string_equal(c.db, "/tmp/x.db");
	assert_string_equal(c.listen, "0.0.0.0:9000");
	f = fopen(path, "w");
	fputs("typo = 1\n", f);
	fclose(f);
	assert_int_equal(config_load_file(&c, path, &e), RC_INVALID);
	assert_non_null(strstr(e.msg, ":1:"));
	unlink(path);

	setenv("ITSUP_LISTEN", "127.0.0.1:1234", 1);
	assert_int_equal(config_load_env(&c, &e), RC_OK);
	assert_string_equal(c.listen, "127.0.0.1:1234");
	unsetenv("ITSUP_LISTEN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_arena_alignment),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_parse_i64),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_email_tz_text),
		cmocka_unit_test(test_jschema),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
