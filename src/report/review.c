/*
 * review.c: the SLA review's ticket figures (review.h), computed exactly
 * as docs/REPORTS.md defines them ("The period", "Volume", "SLA
 * attainment", "Times", "First-contact resolution, escalation").
 *
 * Invariants:
 *  1. An instant t is in the period when t != 0 (0: none) and
 *     from <= t < to. The backlog at an instant T holds the tickets with
 *     created_at != 0, created_at < T, and resolved_at == 0 or >= T.
 *  2. review_add classifies a row once, by three independent questions:
 *     opened in the period (volume splits, categories, SLA clocks if it
 *     has a policy, breaches, times, escalation), resolved in the period
 *     (resolved, reopened, FCR), closed in the period (closed); then the
 *     two backlogs. A row may answer yes to several, or to none.
 *  3. A row is counted entirely or not at all: it is validated, and
 *     every allocation it needs (samples, breach row, category name) is
 *     made, before any count changes. A refused row counts nowhere.
 *  4. What is kept per row: the business-time samples (seconds, already
 *     rounded down), the breach rows (copied fields), and one counter per
 *     distinct category name (the name copied). Each growable array has
 *     the ceiling REVIEW_KEPT_MAX entries; past it review_add says
 *     RC_NOMEM.
 *  5. review_finish computes the ratios, sorts the samples and breaches,
 *     ranks the categories (the REVIEW_CATEGORIES_MAX largest by count,
 *     ties by name in byte order, the rest summed as "(other)"), once:
 *     a second call returns the same figures, and review_add after it is
 *     RC_INVALID. Because categories are ranked over all the names seen,
 *     the figures do not depend on the order of the rows.
 */
#include "base/common.h"

#include <math.h>

#include "report/review.h"

#define REVIEW_KEPT_MAX ((size_t)1 << 26)   /* entries per kept array */

static const char other_name[] = "(other)";

struct i64_vec {
	int64_t *v;
	size_t n, cap;
};

struct breach_vec {
	struct review_breach *v;
	size_t n, cap;
};

struct cat_slot {
	char *name;          /* NULL: empty slot */
	uint64_t hash;
	int64_t n;
};

/* Open addressing, linear probing, capacity a power of two, at most half
 * full. */
struct cat_table {
	struct cat_slot *slot;
	size_t cap, n;
};

struct review {
	struct review_figures fig;   /* the counts accumulate here */
	struct i64_vec response_s, resolution_s;
	struct breach_vec breaches;
	struct cat_table cats;
	bool finished;
};

/* ---- pure pieces ---- */

static bool in_period(int64_t t, int64_t from, int64_t to)
{
	return t != 0 && from <= t && t < to;
}

static bool in_backlog(const struct review_ticket *t, int64_t at)
{
	return t->created_at != 0 && t->created_at < at &&
	       (t->resolved_at == 0 || t->resolved_at >= at);
}

/* a / b rounded toward minus infinity (b > 0). */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && a < 0)
		q--;
	return q;
}

static double ratio(int64_t num, int64_t den)
{
	return den == 0 ? -1.0 : (double)num / (double)den;
}

/* Breached wins over met: a clock that breached is breached whether it
 * stopped later or not. */
static void clock_count(struct review_clock *c, bool stopped, bool breached)
{
	if (breached)
		c->breached++;
	else if (stopped)
		c->met++;
	else
		c->pending++;
}

/* 1..3: the tier with the most business time; ties go to the lower tier,
 * so all zero is tier 1. */
static int breach_tier(const int64_t tier_ms[3])
{
	int best = 0;

	for (int i = 1; i < 3; i++)
		if (tier_ms[i] > tier_ms[best])
			best = i;
	return best + 1;
}

/* Wall time minus the resolution clock's business time, when resolved;
 * never below 0. */
static int64_t breach_paused(const struct review_ticket *t)
{
	int64_t paused;

	if (t->resolved_at == 0)
		return 0;
	paused = (t->resolved_at - t->created_at) - t->resolution_ms;
	return paused > 0 ? paused : 0;
}

/* floor(sum / n) without forming the sum: each value is q * n + r with
 * 0 <= r < n, so the mean is sum(q) + floor(sum(r) / n). n is at most
 * REVIEW_KEPT_MAX, so sum(r) < n * n fits. */
static int64_t mean_floor(const int64_t *v, size_t n)
{
	int64_t nn = (int64_t)n, sq = 0, sr = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t q = floor_div(v[i], nn);

		sq += q;
		sr += v[i] - q * nn;
	}
	return sq + sr / nn;
}

int64_t review_percentile(const int64_t *v, size_t n, double q)
{
	double r, k;
	size_t rank;

	if (n == 0)
		return 0;
	if (!(q > 0.0))
		return v[0];
	if (q >= 1.0)
		return v[n - 1];
	/* q * n within a relative 1e-9 of a whole number is that number, so
	 * that 0.07 * 100 is rank 7, not 8 (0.07 is not exact in binary). */
	r = q * (double)n;
	k = nearbyint(r);
	if (fabs(r - k) <= 1e-9 * k)
		r = k;
	rank = (size_t)ceil(r);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

int64_t review_median(const int64_t *v, size_t n)
{
	return n == 0 ? 0 : v[(n - 1) / 2];
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_breach(const void *a, const void *b)
{
	const struct review_breach *x = a, *y = b;

	if (x->id != y->id)
		return (x->id > y->id) - (x->id < y->id);
	return (x->number > y->number) - (x->number < y->number);
}

static int cmp_count(const void *a, const void *b)
{
	const struct review_count *x = a, *y = b;

	if (x->n != y->n)
		return (x->n < y->n) - (x->n > y->n);
	return strcmp(x->name, y->name);
}

/* Sorts v in place and summarises it. */
static void times_of(int64_t *v, size_t n, struct review_times *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_i64);
	out->count = (int64_t)n;
	out->median = review_median(v, n);
	out->p90 = review_percentile(v, n, 0.9);
	out->mean = mean_floor(v, n);
}

/* ---- growable arrays ---- */

/* Makes room for need entries of size bytes in *p (capacity *cap),
 * doubling; false past REVIEW_KEPT_MAX or when out of memory. */
static bool reserve(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return true;
	if (need > REVIEW_KEPT_MAX)
		return false;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > REVIEW_KEPT_MAX)
		ncap = REVIEW_KEPT_MAX;
	if (ncap > SIZE_MAX / size)
		return false;
	np = realloc(*p, ncap * size);
	if (!np)
		return false;
	*p = np;
	*cap = ncap;
	return true;
}

static bool i64_reserve(struct i64_vec *v, size_t extra)
{
	void *p = v->v;
	bool ok = reserve(&p, &v->cap, v->n + extra, sizeof(*v->v));

	v->v = p;
	return ok;
}

static bool breach_reserve(struct breach_vec *v, size_t extra)
{
	void *p = v->v;
	bool ok = reserve(&p, &v->cap, v->n + extra, sizeof(*v->v));

	v->v = p;
	return ok;
}

/* ---- categories ---- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* The slot of name, or the empty slot where it would go. */
static struct cat_slot *cat_find(const struct cat_table *c, const char *name, uint64_t h)
{
	size_t i = (size_t)h & (c->cap - 1);

	while (c->slot[i].name && (c->slot[i].hash != h || strcmp(c->slot[i].name, name) != 0))
		i = (i + 1) & (c->cap - 1);
	return &c->slot[i];
}

static bool cat_grow(struct cat_table *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 16;
	struct cat_table nc;

	if (ncap > 2 * REVIEW_KEPT_MAX)
		return false;
	nc.slot = calloc(ncap, sizeof(*nc.slot));
	if (!nc.slot)
		return false;
	nc.cap = ncap;
	nc.n = c->n;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slot[i].name)
			*cat_find(&nc, c->slot[i].name, c->slot[i].hash) = c->slot[i];
	free(c->slot);
	*c = nc;
	return true;
}

/* The counter of name (NULL counts as ""), added at 0 when new; NULL
 * when it cannot be kept. */
static int64_t *cat_counter(struct cat_table *c, const char *name)
{
	uint64_t h;
	struct cat_slot *s;
	size_t len;

	if (!name)
		name = "";
	h = fnv1a(name);
	if (c->cap) {
		s = cat_find(c, name, h);
		if (s->name)
			return &s->n;
	}
	if ((c->n + 1) * 2 > c->cap && !cat_grow(c))
		return NULL;
	s = cat_find(c, name, h);
	len = strlen(name);
	s->name = malloc(len + 1);
	if (!s->name)
		return NULL;
	memcpy(s->name, name, len + 1);
	s->hash = h;
	s->n = 0;
	c->n++;
	return &s->n;
}

/* The categories ranked into f->by_category: the REVIEW_CATEGORIES_MAX
 * largest, then one "(other)" row summing the rest. */
static enum result cat_rank(const struct cat_table *c, struct review_figures *f, struct err *e)
{
	enum result rc = RC_NOMEM;
	struct review_count *rows = NULL;
	size_t n = 0;

	if (c->n == 0) {
		rc = RC_OK;
		goto out;
	}
	rows = calloc(c->n, sizeof(*rows));
	if (!rows) {
		err_set(e, rc, NULL, "out of memory ranking %zu categories", c->n);
		goto out;
	}
	for (size_t i = 0; i < c->cap; i++)
		if (c->slot[i].name)
			rows[n++] = (struct review_count){ c->slot[i].name, c->slot[i].n };
	qsort(rows, n, sizeof(*rows), cmp_count);
	if (n > REVIEW_CATEGORIES_MAX) {
		int64_t rest = 0;

		for (size_t i = REVIEW_CATEGORIES_MAX; i < n; i++)
			rest += rows[i].n;
		rows[REVIEW_CATEGORIES_MAX] = (struct review_count){ other_name, rest };
		n = REVIEW_CATEGORIES_MAX + 1;
	}
	f->by_category = rows;
	f->ncategories = n;
	rows = NULL;
	rc = RC_OK;
out:
	free(rows);
	return rc;
}

/* ---- the review ---- */

struct review *review_new(int64_t from, int64_t to)
{
	struct review *rv = calloc(1, sizeof(*rv));

	if (!rv)
		return NULL;
	rv->fig.from = from;
	rv->fig.to = to;
	return rv;
}

static enum result row_check(const struct review_ticket *t, struct err *e)
{
	if (t->prio < 0 || t->prio >= REVIEW_PRIOS)
		return err_set(e, RC_INVALID, "prio", "prio %d is not 0..%d", t->prio,
			       REVIEW_PRIOS - 1);
	if (t->type < 0 || t->type >= REVIEW_TYPES)
		return err_set(e, RC_INVALID, "type", "type %d is not 0..%d", t->type,
			       REVIEW_TYPES - 1);
	if (t->channel < 0 || t->channel >= REVIEW_CHANNELS)
		return err_set(e, RC_INVALID, "channel", "channel %d is not 0..%d", t->channel,
			       REVIEW_CHANNELS - 1);
	return RC_OK;
}

static bool is_breach(const struct review_ticket *t)
{
	return t->has_policy && (t->response_breached || t->resolution_breached);
}

static struct review_breach breach_of(const struct review_ticket *t)
{
	return (struct review_breach){
		.id = t->id, .number = t->number,
		.response = t->response_breached, .resolution = t->resolution_breached,
		.prio = t->prio, .tier = breach_tier(t->tier_ms), .vendor = t->vendor,
		.paused_ms = breach_paused(t),
	};
}

/* A ticket opened in the period: makes room for what it keeps first
 * (invariant 3), then counts. */
static enum result add_opened(struct review *rv, const struct review_ticket *t, struct err *e)
{
	struct review_figures *f = &rv->fig;
	bool responded = t->first_response_at != 0, resolved = t->resolved_at != 0;
	int64_t *cat;

	if ((responded && !i64_reserve(&rv->response_s, 1)) ||
	    (resolved && !i64_reserve(&rv->resolution_s, 1)) ||
	    (is_breach(t) && !breach_reserve(&rv->breaches, 1)))
		return err_set(e, RC_NOMEM, NULL, "too many tickets in the review");
	cat = cat_counter(&rv->cats, t->category);
	if (!cat)
		return err_set(e, RC_NOMEM, NULL, "too many categories in the review");

	f->opened++;
	f->by_prio[t->prio]++;
	f->by_type[t->type]++;
	f->by_channel[t->channel]++;
	(*cat)++;
	if (t->has_policy) {
		/* A resolution stops the response clock too (docs/SLA.md rule 3). */
		clock_count(&f->response[t->prio], responded || resolved, t->response_breached);
		clock_count(&f->response[REVIEW_PRIOS], responded || resolved, t->response_breached);
		clock_count(&f->resolution[t->prio], resolved, t->resolution_breached);
		clock_count(&f->resolution[REVIEW_PRIOS], resolved, t->resolution_breached);
	}
	if (is_breach(t))
		rv->breaches.v[rv->breaches.n++] = breach_of(t);
	if (responded)
		rv->response_s.v[rv->response_s.n++] = floor_div(t->response_ms, 1000);
	if (resolved)
		rv->resolution_s.v[rv->resolution_s.n++] = floor_div(t->resolution_ms, 1000);
	f->reached_t2 += t->tier_ms[1] > 0;
	f->reached_t3 += t->tier_ms[2] > 0;
	f->to_vendor += t->vendor;
	f->tier_changes += t->tier_changes;
	f->reassignments += t->reassignments;
	f->reassigned += t->reassignments > 0;
	return RC_OK;
}

static void add_resolved(struct review_figures *f, const struct review_ticket *t)
{
	f->resolved++;
	f->reopened += t->reopens >= 1;
	if (t->fcr != -1) {
		f->fcr_decided++;
		f->fcr_yes += t->fcr == 1;
	}
}

enum result review_add(struct review *rv, const struct review_ticket *t, struct err *e)
{
	struct review_figures *f = &rv->fig;
	enum result rc;

	if (rv->finished)
		return err_set(e, RC_INVALID, NULL, "the review is finished");
	rc = row_check(t, e);
	if (rc != RC_OK)
		return rc;
	if (in_period(t->created_at, f->from, f->to)) {
		rc = add_opened(rv, t, e);
		if (rc != RC_OK)
			return rc;
	}
	if (in_period(t->resolved_at, f->from, f->to))
		add_resolved(f, t);
	if (in_period(t->closed_at, f->from, f->to))
		f->closed++;
	f->backlog_start += in_backlog(t, f->from);
	f->backlog_end += in_backlog(t, f->to);
	return RC_OK;
}

enum result review_finish(struct review *rv, const struct review_figures **out, struct err *e)
{
	struct review_figures *f = &rv->fig;
	enum result rc;

	if (rv->finished) {
		*out = f;
		return RC_OK;
	}
	rc = cat_rank(&rv->cats, f, e);
	if (rc != RC_OK)
		return rc;
	for (int i = 0; i <= REVIEW_PRIOS; i++) {
		f->response[i].attainment = ratio(f->response[i].met,
						  f->response[i].met + f->response[i].breached);
		f->resolution[i].attainment = ratio(f->resolution[i].met,
						    f->resolution[i].met + f->resolution[i].breached);
	}
	if (rv->breaches.n > 0)
		qsort(rv->breaches.v, rv->breaches.n, sizeof(*rv->breaches.v), cmp_breach);
	f->breaches = rv->breaches.v;
	f->nbreaches = rv->breaches.n;
	times_of(rv->response_s.v, rv->response_s.n, &f->response_time);
	times_of(rv->resolution_s.v, rv->resolution_s.n, &f->resolution_time);
	f->fcr_rate = ratio(f->fcr_yes, f->fcr_decided);
	f->rate_t2 = ratio(f->reached_t2, f->opened);
	f->rate_t3 = ratio(f->reached_t3, f->opened);
	f->rate_vendor = ratio(f->to_vendor, f->opened);
	f->tier_changes_mean = ratio(f->tier_changes, f->opened);
	f->reassignments_mean = ratio(f->reassignments, f->opened);
	f->rate_reassigned = ratio(f->reassigned, f->opened);
	rv->finished = true;
	*out = f;
	return RC_OK;
}

void review_free(struct review *rv)
{
	if (!rv)
		return;
	for (size_t i = 0; i < rv->cats.cap; i++)
		free(rv->cats.slot[i].name);
	free(rv->cats.slot);
	free(rv->fig.by_category);
	free(rv->breaches.v);
	free(rv->response_s.v);
	free(rv->resolution_s.v);
	free(rv);
}

/* ---- CSAT and hours ---------------------------------------------------------------------------- */

void review_csat_add(struct review_csat *c, int rating)
{
	if (rating < 1 || rating > 5)
		return;
	c->responses++;
	c->dist[rating - 1]++;
	c->sum += rating;
}

void review_csat_finish(struct review_csat *c)
{
	/* sum / responses to two decimals, half up, in integers. */
	c->average = c->responses ? (double)((c->sum * 200 + c->responses) / (2 * c->responses)) / 100
				  : -1;
}

void review_hours_add(struct review_hours *h, int tier, bool billable, int64_t minutes)
{
	int k = tier >= 1 && tier <= 3 ? tier : 0;

	if (billable) {
		h->billable += minutes;
		h->tier_billable[k] += minutes;
	} else {
		h->non_billable += minutes;
		h->tier_non_billable[k] += minutes;
	}
}

/* ---- monitoring --------------------------------------------------------------------------------- */

void review_alerts_init(struct review_alerts *ra, int64_t from, int64_t to)
{
	memset(ra, 0, sizeof(*ra));
	ra->from = from;
	ra->to = to;
	ra->open = -1;
}

static long alert_group(struct review_alerts *ra, const char *name, const char *severity)
{
	struct review_alert_group *g;
	void *p = ra->groups;
	bool ok;

	for (size_t i = 0; i < ra->n; i++)
		if (!strcmp(ra->groups[i].name, name) && !strcmp(ra->groups[i].severity, severity))
			return (long)i;
	ok = reserve(&p, &ra->cap, ra->n + 1, sizeof(*g));
	ra->groups = p;
	if (!ok)
		return -1;
	g = &ra->groups[ra->n];
	memset(g, 0, sizeof(*g));
	g->name = strdup(name);
	g->severity = strdup(severity);
	if (!g->name || !g->severity) {
		free(g->name);
		free(g->severity);
		return -1;
	}
	return (long)ra->n++;
}

enum result review_alerts_add(struct review_alerts *ra, const struct review_alert_ev *ev,
			      struct err *e)
{
	struct review_alert_group *g;
	int64_t d;

	if (ev->alert_id != ra->alert_id) {
		ra->alert_id = ev->alert_id;
		ra->open = -1;
	}
	switch (ev->kind) {
	case RA_FIRE:
		ra->open = -1;
		if (!in_period(ev->at, ra->from, ra->to))
			return RC_OK;
		ra->open = alert_group(ra, ev->name ? ev->name : "", ev->severity ? ev->severity : "");
		if (ra->open < 0)
			return err_set(e, RC_NOMEM, NULL, "out of memory");
		ra->fire_at = ev->at;
		ra->acked = false;
		ra->groups[ra->open].fired++;
		ra->total.fired++;
		return RC_OK;
	case RA_ACK:
		if (ra->open < 0 || ra->acked)
			return RC_OK;
		g = &ra->groups[ra->open];
		d = ev->at - ra->fire_at;
		g->acked++;
		g->ack_ms += d;
		ra->total.acked++;
		ra->total.ack_ms += d;
		ra->acked = true;
		return RC_OK;
	case RA_RESOLVE:
		if (ra->open < 0)
			return RC_OK;
		g = &ra->groups[ra->open];
		d = ev->at - ra->fire_at;
		g->resolved++;
		g->resolve_ms += d;
		ra->total.resolved++;
		ra->total.resolve_ms += d;
		ra->open = -1;
		return RC_OK;
	}
	return err_set(e, RC_INVALID, "kind", "not an alert event kind");
}

static int64_t mean_seconds(int64_t sum_ms, int64_t n)
{
	return n ? floor_div(sum_ms, n * 1000) : -1;
}

static void group_means(struct review_alert_group *g)
{
	g->mtta = mean_seconds(g->ack_ms, g->acked);
	g->mttr = mean_seconds(g->resolve_ms, g->resolved);
}

static int cmp_group(const void *a, const void *b)
{
	const struct review_alert_group *x = a, *y = b;
	int c;

	if (x->fired != y->fired)
		return x->fired > y->fired ? -1 : 1;
	c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->severity, y->severity);
}

void review_alerts_finish(struct review_alerts *ra)
{
	if (ra->n)
		qsort(ra->groups, ra->n, sizeof(*ra->groups), cmp_group);
	for (size_t i = 0; i < ra->n; i++)
		group_means(&ra->groups[i]);
	group_means(&ra->total);
	ra->open = -1;
}

void review_alerts_free(struct review_alerts *ra)
{
	for (size_t i = 0; i < ra->n; i++) {
		free(ra->groups[i].name);
		free(ra->groups[i].severity);
	}
	free(ra->groups);
	ra->groups = NULL;
	ra->n = ra->cap = 0;
}

double review_uptime(int64_t created_at, int64_t from, int64_t to, int64_t now,
		     int64_t up_minutes, int64_t *minutes)
{
	int64_t lo = created_at > from ? created_at : from, hi = now < to ? now : to;

	*minutes = hi > lo ? (hi - lo) / 60000 : 0;
	if (*minutes <= 0)
		return -1;
	return up_minutes >= *minutes ? 1.0 : (double)up_minutes / (double)*minutes;
}
