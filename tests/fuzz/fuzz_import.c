/*
 * fuzz_import.c: the history import's reader and validator as a libFuzzer
 * target (issue 9; src/import/import.h). The first byte of an input picks
 * the format (even: JSON lines, odd: CSV) and the size of the reads the
 * reader is fed (1..64 bytes, so that every buffer boundary is crossed);
 * the rest is the file. Every row the reader gives is validated and built
 * by imp_row against a world of two clients, one with an office-hours SLA
 * policy (Mon-Fri 09-17 UTC), so the history replay and the SLA replay
 * run too. Nothing may crash, leak or read out of bounds; a row is either
 * built whole or refused with at least one problem.
 *
 *   make fuzz-import                 clang + libFuzzer, ASan, UBSan
 *   build/fuzz-import-replay FILE... the same target on given inputs (gcc;
 *                                    make check runs it on
 *                                    tests/fixtures/fuzz-import: the docs'
 *                                    examples and rows of every error kind)
 */
#include "base/common.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/arena.h"
#include "import/import.h"
#include "sla/calendar.h"
#include "sla/policy.h"
#include "sla/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tz *utc_zone;
static struct calendar office;
static struct sla_policy pol;
static bool ready;

static bool env_client(void *arg, int64_t id, struct prio_matrix *m)
{
	UNUSED(arg);
	*m = prio_matrix_default;
	return id == 1 || id == 2;
}

static int64_t env_policy(void *arg, int64_t client, int64_t created_at, const struct sla_policy **p)
{
	UNUSED(arg);
	UNUSED(created_at);
	*p = client == 2 ? &pol : NULL;
	return client == 2 ? 7 : 0;
}

/* The world, once: UTC, an office-hours calendar, a policy on it. */
static bool setup(void)
{
	struct sla_policy_def d;
	struct err e;
	json_t *t;

	if (sodium_init() < 0 || tz_load("UTC", &utc_zone, &e) != RC_OK)
		return false;
	office.tz = utc_zone;
	for (int day = 0; day < 5; day++) {
		office.week[day].n = 1;
		office.week[day].span[0].start = 9 * 60;
		office.week[day].span[0].end = 17 * 60;
	}
	t = json_pack("{s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}}",
		      "P1", "response", 3600, "resolution", 4 * 3600,
		      "P2", "response", 2 * 3600, "resolution", 8 * 3600,
		      "P3", "response", 4 * 3600, "resolution", 16 * 3600,
		      "P4", "response", 8 * 3600, "resolution", 40 * 3600);
	if (!t || sla_policy_parse(t, NULL, NULL, NULL, NULL, NULL, &d, &e) != RC_OK) {
		json_decref(t);
		return false;
	}
	json_decref(t);
	for (int i = 0; i < PR_COUNT; i++)
		d.p.cal[i] = &office;
	d.p.id = 7;
	pol = d.p;
	return true;
}

struct src {
	const uint8_t *p;
	size_t len, pos, chunk;
};

static ptrdiff_t src_read(void *arg, char *buf, size_t n)
{
	struct src *s = arg;
	size_t k = s->len - s->pos;

	if (k > n)
		k = n;
	if (k > s->chunk)
		k = s->chunk;
	memcpy(buf, s->p + s->pos, k);
	s->pos += k;
	return (ptrdiff_t)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 2027-06-07T12:00Z: instants up to then are history. */
	const struct imp_env env = { env_client, env_policy, NULL, 1812369600000, false };
	struct src s;
	struct imp_reader *rd;
	json_t *errs;
	int rows = 0;

	if (!ready && !(ready = setup()))
		abort();
	if (size < 1)
		return 0;
	s = (struct src){ data + 1, size - 1, 0, 1 + (size_t)(data[0] >> 1) % 64 };
	rd = imp_reader_new(data[0] & 1 ? IMP_CSV : IMP_JSONL, src_read, &s);
	errs = json_array();
	if (!rd || !errs)
		abort();
	for (;;) {
		json_t *row = NULL;
		int64_t line = 0;
		int k = imp_reader_next(rd, &row, &line, errs);
		if (k == 0 || k == -2 || ++rows > 10000)
			break;
		if (k == 1) {
			struct arena *a = arena_new(16u << 20);
			struct import_ticket t;
			size_t before = json_array_size(errs);
			if (!a)
				abort();
			memset(&t, 0, sizeof(t));
			if (imp_row(&env, row, line, a, &t, errs) != (json_array_size(errs) == before))
				abort();   /* the contract: true exactly when no problem was added */
			arena_free(a);
			json_decref(row);
			if (line < 1)
				abort();
		}
	}
	imp_reader_free(rd);
	json_decref(errs);
	return 0;
}
