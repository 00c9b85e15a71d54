/*
 * monitor.c: the snapshot of checks and maintenance windows, which checks
 * apply to a series, maintenance windows in their time zone, the step of
 * a sample, and the ticket action of an alert event (monitor.h).
 */
#include "base/common.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "base/clock.h"
#include "monitor/monitor.h"
#include "sla/tz.h"

#define DAY_MS 86400000LL

const struct check_row monitor_default_checks[] = {
	{ .name = "Disk full", .metric = "disk.used_percent", .impact = "medium", .enabled = true,
	  .rule = { .cmp = CMP_GT, .has_crit = true, .crit = 90, .hysteresis = 2 } },
	{ .name = "Memory exhausted", .metric = "mem.used_percent", .impact = "medium",
	  .enabled = true,
	  .rule = { .cmp = CMP_GT, .has_crit = true, .crit = 95, .hysteresis = 2, .for_ms = 600000 } },
	{ .name = "Offline", .metric = METRIC_HEARTBEAT, .impact = "high", .enabled = true,
	  .rule = { .cmp = CMP_GT, .has_crit = true, .crit = MONITOR_OFFLINE_DEFAULT_S } },
};
const size_t monitor_default_checks_n = ARRAY_SIZE(monitor_default_checks);

/* ---- the snapshot ---------------------------------------------------------------------- */

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mon_snap *snap_cur;
static uint64_t snap_gen = 1;
static bool snap_loading;       /* a thread is loading a new snapshot */

static void snap_free(struct mon_snap *s)
{
	for (size_t i = 0; i < s->nchecks; i++)
		json_decref(s->labels[i]);
	for (size_t i = 0; i < s->nmw; i++)
		tz_free(s->mw_tz[i]);
	arena_free(s->a);
	free(s);
}

void monitor_snap_put(struct mon_snap *s)
{
	bool last;

	if (!s)
		return;
	pthread_mutex_lock(&snap_mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&snap_mu);
	if (last)
		snap_free(s);
}

void monitor_changed(void)
{
	pthread_mutex_lock(&snap_mu);
	snap_gen++;
	pthread_mutex_unlock(&snap_mu);
}

void monitor_shutdown(void)
{
	struct mon_snap *s;

	pthread_mutex_lock(&snap_mu);
	s = snap_cur;
	snap_cur = NULL;
	pthread_mutex_unlock(&snap_mu);
	monitor_snap_put(s);
}

static struct mon_snap *snap_load(struct store *st, uint64_t gen, struct err *e)
{
	struct mon_snap *s = calloc(1, sizeof(*s));
	struct check_list cl;
	struct mwindow_list ml;
	struct scope sys = scope_system();
	size_t k = 0;

	if (!s || !(s->a = arena_new(256u << 20))) {
		free(s);
		err_set(e, RC_NOMEM, NULL, "out of memory");
		return NULL;
	}
	s->refs = 1;
	s->gen = gen;
	s->loaded_ms = clock_mono_ns() / 1000000;
	store_read_fresh_begin(st);
	if (store_check_list_all(st, s->a, &cl, e) != RC_OK ||
	    store_mwindow_list(st, &sys, 0, s->a, &ml, e) != RC_OK) {
		store_read_fresh_end(st);
		arena_free(s->a);
		free(s);
		return NULL;
	}
	store_read_fresh_end(st);
	s->checks = arena_alloc(s->a, sizeof(*s->checks) * (cl.n ? cl.n : 1));
	s->labels = arena_alloc(s->a, sizeof(*s->labels) * (cl.n ? cl.n : 1));
	s->mw_tz = arena_alloc(s->a, sizeof(*s->mw_tz) * (ml.n ? ml.n : 1));
	if (!s->checks || !s->labels || !s->mw_tz) {
		arena_free(s->a);
		free(s);
		err_set(e, RC_NOMEM, NULL, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < cl.n; i++) {
		if (!cl.items[i].enabled)
			continue;
		s->checks[k] = cl.items[i];
		s->labels[k] = cl.items[i].labels ? json_loads(cl.items[i].labels, 0, NULL) : NULL;
		k++;
	}
	s->nchecks = k;
	s->mw = ml.items;
	s->nmw = ml.n;
	for (size_t i = 0; i < ml.n; i++) {
		struct err te;
		if (tz_load(ml.items[i].timezone, &s->mw_tz[i], &te) != RC_OK)
			s->mw_tz[i] = NULL;
	}
	return s;
}

struct mon_snap *monitor_snap_get(struct store *st, struct err *e)
{
	struct mon_snap *s;
	uint64_t gen;
	int64_t now = clock_mono_ns() / 1000000;

	pthread_mutex_lock(&snap_mu);
	gen = snap_gen;
	s = snap_cur && snap_cur->gen == gen && now - snap_cur->loaded_ms < MONITOR_SNAP_TTL_MS
		    ? snap_cur : NULL;
	/* Only old by age, and another thread is reloading it: this one
	 * takes the current (a change made here bumps gen, never waits). */
	if (!s && snap_cur && snap_cur->gen == gen && snap_loading)
		s = snap_cur;
	if (s)
		s->refs++;
	else
		snap_loading = true;
	pthread_mutex_unlock(&snap_mu);
	if (s)
		return s;
	s = snap_load(st, gen, e);
	pthread_mutex_lock(&snap_mu);
	snap_loading = false;
	pthread_mutex_unlock(&snap_mu);
	if (!s)
		return NULL;
	pthread_mutex_lock(&snap_mu);
	if (!snap_cur || snap_cur->gen < gen || snap_cur->loaded_ms < s->loaded_ms) {
		struct mon_snap *old = snap_cur;
		s->refs++;
		snap_cur = s;
		if (old && --old->refs == 0) {
			pthread_mutex_unlock(&snap_mu);
			snap_free(old);
			return s;
		}
	}
	pthread_mutex_unlock(&snap_mu);
	return s;
}

/* ---- which checks apply ------------------------------------------------------------------- */

bool monitor_check_applies(const struct check_row *c, json_t *check_labels, int64_t client,
			   int64_t device, const char *metric, json_t *labels)
{
	const char *k;
	json_t *v;

	if ((c->client_id && c->client_id != client) || (c->device_id && c->device_id != device))
		return false;
	if (strcmp(c->metric, metric))
		return false;
	json_object_foreach(check_labels, k, v) {
		json_t *have = json_object_get(labels, k);
		if (!json_is_string(have) || !json_equal(have, v))
			return false;
	}
	return true;
}

/* The first check of client (checks are ordered by client, 0 first). */
static size_t first_of(const struct mon_snap *s, int64_t client)
{
	size_t lo = 0, hi = s->nchecks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->checks[mid].client_id < client)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t monitor_checks_for(const struct mon_snap *s, int64_t client, int64_t device,
			  const char *metric, json_t *labels, const struct check_row **out,
			  size_t max)
{
	size_t n = 0;
	int64_t owners[2] = { 0, client };

	for (int o = 0; o < (client ? 2 : 1); o++)
		for (size_t i = first_of(s, owners[o]);
		     i < s->nchecks && s->checks[i].client_id == owners[o] && n < max; i++)
			if (monitor_check_applies(&s->checks[i], s->labels[i], client, device, metric,
						  labels))
				out[n++] = &s->checks[i];
	return n;
}

int64_t monitor_offline_after(const struct mon_snap *s, int64_t client, int64_t device)
{
	const struct check_row *c[16];
	size_t n = monitor_checks_for(s, client, device, METRIC_HEARTBEAT, NULL, c, ARRAY_SIZE(c));
	int64_t best = 0;

	for (size_t i = 0; i < n; i++) {
		const struct check_rule *r = &c[i]->rule;
		double t = r->has_warn ? r->warn : r->crit;
		int64_t secs;
		if (r->cmp != CMP_GT && r->cmp != CMP_GE)
			continue;
		secs = (int64_t)(t > 0 ? t : 0);
		if (!best || secs < best)
			best = secs;
	}
	return best;
}

/* ---- maintenance windows ------------------------------------------------------------------ */

static int64_t local_ms(const struct tz *z, int64_t at)
{
	return at + (z ? (int64_t)tz_offset(z, at / 1000) * 1000 : 0);
}

/* The instant of local wall time l (the earlier one where it repeats). */
static int64_t utc_of_local(const struct tz *z, int64_t l)
{
	int64_t guess;

	if (!z)
		return l;
	guess = l - (int64_t)tz_offset(z, l / 1000) * 1000;
	return l - (int64_t)tz_offset(z, guess / 1000) * 1000;
}

bool mwindow_covers(const struct mwindow_row *m, const struct tz *z, int64_t at)
{
	int64_t period, l0, lat, k, len = m->ends_at - m->starts_at;

	if (at < m->starts_at || len <= 0)
		return false;
	if (!strcmp(m->repeat, "daily"))
		period = DAY_MS;
	else if (!strcmp(m->repeat, "weekly"))
		period = 7 * DAY_MS;
	else
		return at < m->ends_at;
	l0 = local_ms(z, m->starts_at);
	lat = local_ms(z, at);
	k = (lat - l0) / period;
	for (int64_t j = k; j >= k - 1 && j >= 0; j--) {
		int64_t start = utc_of_local(z, l0 + j * period);
		if (m->repeat_until && start >= m->repeat_until)
			continue;
		if (at >= start && at < start + len)
			return true;
	}
	return false;
}

bool monitor_in_maintenance(const struct mon_snap *s, int64_t client, int64_t device, int64_t at)
{
	for (size_t i = 0; i < s->nmw; i++) {
		const struct mwindow_row *m = &s->mw[i];
		if (m->client_id != client || (m->device_id && m->device_id != device))
			continue;
		if (mwindow_covers(m, s->mw_tz[i], at))
			return true;
	}
	return false;
}

/* ---- keys and labels ---------------------------------------------------------------------- */

const char *monitor_alert_key(struct arena *a, int64_t check, int64_t device, const char *labels)
{
	return arena_printf(a, "c%" PRId64 "/d%" PRId64 "%s%s", check, device,
			    labels && *labels ? "/" : "", labels ? labels : "");
}

const char *monitor_labels_text(struct arena *a, json_t *labels, const char **why)
{
	const char *k;
	json_t *v;
	char *s;
	const char *out;

	*why = NULL;
	if (!labels || json_is_null(labels))
		return "";
	if (!json_is_object(labels)) {
		*why = "must be an object of strings";
		return NULL;
	}
	if (json_object_size(labels) > 16) {
		*why = "may have at most 16 labels";
		return NULL;
	}
	json_object_foreach(labels, k, v) {
		if (!json_is_string(v) || !*k || strlen(k) > 100 || json_string_length(v) > 200) {
			*why = "must map names (1 to 100 characters) to strings of at most 200";
			return NULL;
		}
	}
	if (!json_object_size(labels))
		return "";
	s = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
	out = s ? arena_strdup(a, s) : NULL;
	free(s);
	if (!out)
		*why = "out of memory";
	return out;
}

const char *monitor_labels_display(struct arena *a, const char *labels)
{
	json_t *o = labels && *labels ? json_loads(labels, 0, NULL) : NULL;
	const char *k, *out = "";
	json_t *v;

	json_object_foreach(o, k, v) {
		const char *s = json_string_value(v);
		out = arena_printf(a, "%s%s%s=%s", out, *out ? ", " : "", k, s ? s : "");
		if (!out)
			break;
	}
	json_decref(o);
	return out ? out : "";
}

/* ---- steps and actions -------------------------------------------------------------------- */

int monitor_step_sample(void *arg, size_t i, struct alert *a, double *value, bool *has_value)
{
	const struct sample_step *st = &((struct sample_steps *)arg)->items[i];
	unsigned eff = 0;

	if (a->in_maintenance != st->in_maintenance)
		eff |= alert_maintenance(a, st->in_maintenance, st->at);
	eff |= alert_sample(a, &st->check->rule, st->value, st->at);
	*value = st->value;
	*has_value = true;
	return (int)eff;
}

enum mon_action monitor_ticket_action(const char *kind, bool has_ticket, enum tstatus status,
				      int64_t resolved_at, bool touched, int64_t now)
{
	bool open = has_ticket && tstatus_is_open(status);

	if (!strcmp(kind, "fire")) {
		if (open)
			return MA_NOTE;
		if (has_ticket && status == TS_RESOLVED && now - resolved_at <= MONITOR_REOPEN_MS)
			return MA_REOPEN;
		return MA_OPEN;
	}
	if (!strcmp(kind, "resolve")) {
		if (!open)
			return MA_NONE;
		return touched ? MA_NOTE : MA_RESOLVE;
	}
	/* severity, flapping, flap_end, ack: said on the open ticket. */
	return open ? MA_NOTE : MA_NONE;
}

enum level monitor_urgency(enum severity s)
{
	return s == SEV_CRITICAL ? LV_HIGH : LV_MEDIUM;
}
