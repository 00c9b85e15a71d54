/*
 * run.c: a history import from start to end (run.h explains the two
 * steps).
 */
#include "base/common.h"

#include "base/util.h"
#include "import/run.h"
#include "jobs/sla_track.h"

#define CHUNK 2000              /* rows validated between two store lookups */
#define CHUNK_ARENA (512u << 20)
#define ROW_ARENA (64u << 20)   /* one row's validation (a few KB; a ceiling only) */
#define PROGRESS_EVERY 10000
#define GEN_RETRIES 8
#define DAY_MS INT64_C(86400000)

/* ---- what the validator asks of the world, cached --------------------------------------- */

struct client_slot {
	int64_t id;
	bool ok;
	struct prio_matrix m;
};

struct policy_slot {
	int64_t client, day, pid;     /* client 0: empty */
};

struct world {
	struct store *st;
	const struct scope *sc;
	struct sla_world *w;
	struct client_slot *clients;
	size_t nclients, ccap;
	struct policy_slot *pols;
	size_t npols, pcap;
	bool failed;                  /* a store read failed: err */
	struct err err;
};

static bool env_client(void *arg, int64_t id, struct prio_matrix *m)
{
	struct world *x = arg;
	struct client_slot *cs;
	struct arena *a;
	struct client c;
	struct err e;
	enum result r;
	char field[64];

	for (size_t i = 0; i < x->nclients; i++)
		if (x->clients[i].id == id) {
			*m = x->clients[i].m;
			return x->clients[i].ok;
		}
	if (x->nclients == x->ccap) {
		size_t cap = x->ccap ? x->ccap * 2 : 16;
		cs = realloc(x->clients, cap * sizeof(*cs));
		if (!cs) {
			x->failed = true;
			err_set(&x->err, RC_NOMEM, NULL, "out of memory");
			return false;
		}
		x->clients = cs;
		x->ccap = cap;
	}
	a = arena_new(1u << 20);
	r = a ? store_client_get(x->st, x->sc, id, a, &c, &e) : err_set(&e, RC_NOMEM, NULL, "out of memory");
	if (r != RC_OK && r != RC_NOTFOUND) {
		arena_free(a);
		x->failed = true;
		x->err = e;
		return false;
	}
	cs = &x->clients[x->nclients++];
	cs->id = id;
	cs->ok = r == RC_OK;
	cs->m = prio_matrix_default;
	if (r == RC_OK && c.priority_matrix)
		prio_matrix_parse(c.priority_matrix, &cs->m, field, sizeof(field));
	arena_free(a);
	*m = cs->m;
	return cs->ok;
}

static size_t pol_hash(int64_t client, int64_t day, size_t cap)
{
	uint64_t h = (uint64_t)client * 0x9e3779b97f4a7c15u ^ (uint64_t)day * 0xc2b2ae3d27d4eb4fu;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct policy_slot *pol_find(struct policy_slot *p, size_t cap, int64_t client, int64_t day)
{
	size_t i = pol_hash(client, day, cap);

	while (p[i].client && (p[i].client != client || p[i].day != day))
		i = (i + 1) & (cap - 1);
	return &p[i];
}

/* The policy of the client's contract active on the ticket's creation day
 * (UTC, as live tickets take the day they are created), else the default. */
static int64_t env_policy(void *arg, int64_t client, int64_t created_at,
			  const struct sla_policy **p)
{
	struct world *x = arg;
	int64_t day = created_at >= 0 ? created_at / DAY_MS : -((-created_at + DAY_MS - 1) / DAY_MS);
	struct policy_slot *s;

	*p = NULL;
	if ((x->npols + 1) * 2 > x->pcap) {
		size_t cap = x->pcap ? x->pcap * 2 : 1024;
		struct policy_slot *np = calloc(cap, sizeof(*np));
		if (!np) {
			x->failed = true;
			err_set(&x->err, RC_NOMEM, NULL, "out of memory");
			return 0;
		}
		for (size_t i = 0; i < x->pcap; i++)
			if (x->pols[i].client)
				*pol_find(np, cap, x->pols[i].client, x->pols[i].day) = x->pols[i];
		free(x->pols);
		x->pols = np;
		x->pcap = cap;
	}
	s = pol_find(x->pols, x->pcap, client, day);
	if (!s->client) {
		int64_t y, pid = 0;
		unsigned mo, d;
		char date[24];
		struct err e;
		civil_from_days(day, &y, &mo, &d);
		snprintf(date, sizeof(date), "%04" PRId64 "-%02u-%02u", y, mo, d);
		if (store_sla_policy_for(x->st, client, date, &pid, &e) != RC_OK) {
			x->failed = true;
			x->err = e;
			return 0;
		}
		s->client = client;
		s->day = day;
		s->pid = pid;
		x->npols++;
	}
	*p = s->pid ? sla_world_policy(x->w, s->pid) : NULL;
	return s->pid;
}

static void world_release(struct world *x)
{
	sla_world_put(x->w);
	free(x->clients);
	free(x->pols);
}

/* ---- problems ------------------------------------------------------------------------------ */

struct err_at {
	int64_t line;
	size_t i;                     /* the order found in: a row's own first */
	json_t *v;
};

static int err_cmp(const void *pa, const void *pb)
{
	const struct err_at *a = pa, *b = pb;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* A chunk's problems sorted by line (the store's lookups come at the end
 * of a chunk), kept up to the cap, all counted. */
static void keep_errors(struct imp_run *run, json_t *chunk)
{
	size_t n = json_array_size(chunk), keep;
	struct err_at *s = n ? calloc(n, sizeof(*s)) : NULL;

	if (!n)
		return;
	if (!run->errors)
		run->errors = json_array();
	keep = json_array_size(run->errors) < IMP_RUN_MAX_ERRORS
	       ? IMP_RUN_MAX_ERRORS - json_array_size(run->errors) : 0;
	if (s) {
		for (size_t i = 0; i < n; i++) {
			s[i].v = json_array_get(chunk, i);
			s[i].line = json_integer_value(json_object_get(s[i].v, "line"));
			s[i].i = i;
		}
		qsort(s, n, sizeof(*s), err_cmp);
	}
	for (size_t i = 0; i < n && i < keep; i++)
		json_array_append(run->errors, s ? s[i].v : json_array_get(chunk, i));
	free(s);
	run->error_count += n;
	json_array_clear(chunk);
}

/* ---- step 1: validate -------------------------------------------------------------------------- */

struct pending {
	int64_t *clients, *lines;
	const char **keys;
	bool *found;
	size_t n;
};

static bool pending_init(struct pending *p, struct arena *a)
{
	p->clients = arena_alloc(a, sizeof(int64_t) * CHUNK);
	p->lines = arena_alloc(a, sizeof(int64_t) * CHUNK);
	p->keys = arena_alloc(a, sizeof(char *) * CHUNK);
	p->found = arena_alloc(a, sizeof(bool) * CHUNK);
	p->n = 0;
	return p->clients && p->lines && p->keys && p->found;
}

static enum result lookup(struct world *x, enum import_key kind, struct pending *p, bool want,
			  const char *field, json_t *errs, struct err *e)
{
	char msg[200];
	enum result r;

	if (!p->n)
		return RC_OK;
	r = store_import_lookup(x->st, x->sc, kind, p->clients, p->keys, p->n, p->found, e);
	if (r != RC_OK)
		return r;
	for (size_t i = 0; i < p->n; i++) {
		if (p->found[i] == want)
			continue;
		if (kind == IMPORT_EXTERNAL_ID)
			snprintf(msg, sizeof(msg), "%.100s is already imported: a ticket of client %" PRId64
				 " has it", p->keys[i], p->clients[i]);
		else
			snprintf(msg, sizeof(msg), "no contact of client %" PRId64 " has this address"
				 " (add the contact first)", p->clients[i]);
		imp_error(errs, p->lines[i], field, msg);
	}
	return RC_OK;
}

static enum result validate(struct imp_run *run, struct world *x, const struct imp_env *env,
			    struct err *e)
{
	struct imp_reader *rd = imp_reader_new(run->format, run->read, run->arg);
	struct imp_seen seen;
	json_t *chunk = json_array();
	enum result r = rd && chunk ? RC_OK : err_set(e, RC_NOMEM, NULL, "out of memory");
	bool end = false;
	char msg[96];

	imp_seen_init(&seen);
	while (r == RC_OK && !end) {
		struct arena *a = arena_new(CHUNK_ARENA);
		struct pending ext, mail;
		size_t n = 0;

		if (!a || !pending_init(&ext, a) || !pending_init(&mail, a)) {
			arena_free(a);
			r = err_set(e, RC_NOMEM, NULL, "out of memory");
			break;
		}
		while (n < CHUNK) {
			struct import_ticket t;
			json_t *row;
			int64_t line, first;
			struct arena *ra;
			bool ok, nomem;
			int k = imp_reader_next(rd, &row, &line, chunk);
			if (k == 0 || k == -2) {
				end = true;
				break;
			}
			run->rows++;
			n++;
			if (k < 0)
				continue;
			/* The row's tree and what imp_row built go at once:
			 * only its key and address outlive it (copied into the
			 * chunk's arena), so a chunk holds 2,000 pairs of short
			 * strings, not 2,000 trees. */
			ra = arena_new(ROW_ARENA);
			ok = ra && imp_row(env, row, line, ra, &t, chunk);
			nomem = !ra;
			if (ok) {
				const char *addr = t.requester_email;
				t.external_id = arena_strdup(a, t.external_id);
				t.requester_email = arena_strdup(a, addr);
				nomem = !t.external_id || (addr && !t.requester_email);
			}
			arena_free(ra);
			json_decref(row);
			if (nomem) {
				r = err_set(e, RC_NOMEM, NULL, "out of memory");
				break;
			}
			if (ok) {
				int d = imp_seen_add(&seen, t.t.client_id, t.external_id, line, &first);
				if (d < 0) {
					r = err_set(e, RC_NOMEM, NULL, "out of memory");
					break;
				}
				if (d == 0) {
					snprintf(msg, sizeof(msg), "is also on line %" PRId64 " (for the same client)", first);
					imp_error(chunk, line, "external_id", msg);
				}
				ext.clients[ext.n] = t.t.client_id;
				ext.keys[ext.n] = t.external_id;
				ext.lines[ext.n++] = line;
				if (t.requester_email) {
					mail.clients[mail.n] = t.t.client_id;
					mail.keys[mail.n] = t.requester_email;
					mail.lines[mail.n++] = line;
				}
			}
			if (x->failed) {
				*e = x->err;
				r = e->code;
				break;
			}
			if (run->progress && run->rows % PROGRESS_EVERY == 0)
				run->progress(run->progress_arg, IMP_VALIDATING, run->rows, imp_reader_offset(rd));
		}
		if (r == RC_OK)
			r = lookup(x, IMPORT_EXTERNAL_ID, &ext, false, "external_id", chunk, e);
		if (r == RC_OK)
			r = lookup(x, IMPORT_CONTACT_EMAIL, &mail, true, "requester_email", chunk, e);
		keep_errors(run, chunk);
		arena_free(a);
	}
	if (r == RC_OK && run->progress)
		run->progress(run->progress_arg, IMP_VALIDATING, run->rows, imp_reader_offset(rd));
	if (r == RC_OK && !run->rows && !run->error_count) {
		imp_error(chunk, 1, "", "the input holds no ticket");
		keep_errors(run, chunk);
	}
	imp_seen_release(&seen);
	imp_reader_free(rd);
	json_decref(chunk);
	if (r == RC_OK && run->error_count)
		r = err_set(e, RC_INVALID, NULL, "%zu problem%s in the input; nothing was imported",
			    run->error_count, run->error_count == 1 ? "" : "s");
	return r;
}

/* ---- step 2: write -------------------------------------------------------------------------- */

struct source {
	struct imp_run *run;
	const struct imp_env *env;
	struct imp_reader *rd;        /* made by rewind, which the store calls first */
	struct arena *a;              /* the batch handed out last */
	json_t *errs;                 /* a row that no longer passes */
	size_t said;                  /* progress: tickets last reported */
};

static enum result src_next(void *arg, size_t max, struct import_ticket **items, size_t *n,
			    struct err *e)
{
	struct source *src = arg;
	struct import_ticket *it;

	*n = 0;
	arena_free(src->a);
	src->a = arena_new(CHUNK_ARENA);
	it = src->a ? arena_alloc(src->a, sizeof(*it) * max) : NULL;
	if (!it)
		return err_set(e, RC_NOMEM, NULL, "out of memory");
	*items = it;
	while (*n < max) {
		json_t *row;
		int64_t line;
		int k = imp_reader_next(src->rd, &row, &line, src->errs);
		if (k == 0)
			break;
		if (k > 0) {
			arena_defer(src->a, (void (*)(void *))json_decref, row);
			if (imp_row(src->env, row, line, src->a, &it[*n], src->errs)) {
				(*n)++;
				continue;
			}
		}
		/* The input is not what was validated (it changed meanwhile). */
		return err_set(e, RC_INVALID, NULL, "the input changed after it was validated");
	}
	return RC_OK;
}

static enum result src_rewind(void *arg, struct err *e)
{
	struct source *src = arg;

	imp_reader_free(src->rd);
	src->rd = NULL;
	json_array_clear(src->errs);
	src->said = 0;
	if (src->run->rewind(src->run->arg) != 0)
		return err_set(e, RC_IO, NULL, "the input could not be read again");
	src->rd = imp_reader_new(src->run->format, src->run->read, src->run->arg);
	return src->rd ? RC_OK : err_set(e, RC_NOMEM, NULL, "out of memory");
}

static void src_stored(void *arg, size_t n)
{
	struct source *src = arg;
	struct imp_run *run = src->run;

	if (run->progress && (n - src->said >= PROGRESS_EVERY || n == run->rows)) {
		src->said = n;
		run->progress(run->progress_arg, IMP_WRITING, n, run->rows);
	}
}

static enum result write_all(struct store *st, struct imp_run *run, struct world *x,
			     const struct imp_env *env, struct err *e)
{
	struct source src = { run, env, NULL, NULL, json_array(), 0 };
	struct import_write iw;
	struct store_write w;
	char detail[160];
	enum result r = RC_OK;

	/* The store records one audit record a client, this after its
	 * client's count and numbers (store.h struct import_write). */
	snprintf(detail, sizeof(detail), "imported from %s",
		 run->format == IMP_CSV ? "CSV" : "JSON lines");
	memset(&iw, 0, sizeof(iw));
	for (int tries = 0;; tries++) {
		free(iw.clients);
		memset(&iw, 0, sizeof(iw));
		iw.next = src_next;
		iw.rewind = src_rewind;
		iw.stored = src_stored;
		iw.arg = &src;
		iw.sla_gen = sla_world_generation(x->w);
		store_write_init(&w, W_TICKET_IMPORT, run->scope);
		w.in.imp = &iw;
		w.audit.action = "ticket.import";
		w.audit.object_type = "ticket";
		w.audit.addr = run->addr;
		w.audit.detail = detail;
		r = store_write_sync(st, &w);
		if (r != RC_STALE || strcmp(w.err.field, "sla_generation") || tries >= GEN_RETRIES)
			break;
		/* A calendar or policy changed: the clocks again, in the new world. */
		sla_world_put(x->w);
		x->w = NULL;
		if ((r = sla_world_get(st, &x->w, e)) != RC_OK)
			break;
	}
	if (r == RC_OK) {
		run->imported = iw.n;
		run->first_id = iw.first_id;
		run->first_number = iw.first_number;
		run->last_number = iw.last_number;
	} else {
		if (r == RC_INVALID && json_array_size(src.errs)) {
			keep_errors(run, src.errs);
		} else if ((r == RC_CONFLICT || r == RC_INVALID) && iw.fail_line) {
			json_t *one = json_array();
			imp_error(one, iw.fail_line, w.err.field, w.err.msg);
			keep_errors(run, one);
			json_decref(one);
		}
		*e = w.err;
	}
	free(iw.clients);
	arena_free(src.a);
	imp_reader_free(src.rd);
	json_decref(src.errs);
	return r;
}

enum result imp_run(struct store *st, struct imp_run *run, struct err *e)
{
	struct world x = { st, run->scope, NULL, NULL, 0, 0, NULL, 0, 0, false, { 0 } };
	/* The first pass only checks (what cannot fail is left out). */
	struct imp_env check = { env_client, env_policy, &x, run->now, true };
	struct imp_env env = { env_client, env_policy, &x, run->now, false };
	enum result r;

	run->rows = run->imported = run->error_count = 0;
	run->errors = NULL;
	run->first_id = run->first_number = run->last_number = 0;
	r = sla_world_get(st, &x.w, e);
	if (r == RC_OK)
		r = validate(run, &x, &check, e);
	if (r == RC_OK)
		r = write_all(st, run, &x, &env, e);
	world_release(&x);
	return r;
}
