/*
 * metrics.c: Prometheus counters kept with atomic adds, no locks on the
 * request path. Requests are counted by route pattern and status; latency
 * goes into one histogram per route; the store reports its group commits.
 */
#include "base/common.h"
#include "http/http.h"

static const int statuses[] = { 200, 201, 204, 400, 401, 403, 404, 405, 409,
				412, 413, 415, 429, 499, 500, 503 };
#define NSTATUS (ARRAY_SIZE(statuses) + 1) /* + other */
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				  0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define NBUCKET (ARRAY_SIZE(buckets) + 1)

struct route_metrics {
	uint64_t by_status[NSTATUS];
	uint64_t hist[NBUCKET];
	uint64_t sum_ns;
};

static struct route_metrics *rm; /* nroutes + 1 (unmatched) */

/* Monitoring's counters (metrics_monitor). */
static uint64_t mon_checkins, mon_duplicates, mon_samples, mon_alert_events;

void metrics_monitor(bool duplicate, uint64_t samples, uint64_t events)
{
	__atomic_add_fetch(&mon_checkins, 1, __ATOMIC_RELAXED);
	if (duplicate)
		__atomic_add_fetch(&mon_duplicates, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&mon_samples, samples, __ATOMIC_RELAXED);
	__atomic_add_fetch(&mon_alert_events, events, __ATOMIC_RELAXED);
}
static size_t rm_n;

void metrics_init(size_t nroutes)
{
	if (rm)
		return;
	rm = calloc(nroutes + 1, sizeof(*rm));
	rm_n = rm ? nroutes + 1 : 0;
}

static size_t status_index(int status)
{
	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++)
		if (statuses[i] == status)
			return i;
	return ARRAY_SIZE(statuses);
}

void metrics_record(int route_idx, int status, int64_t ns)
{
	size_t i = route_idx < 0 ? rm_n - 1 : (size_t)route_idx, b = 0;
	double sec = (double)ns / 1e9;

	if (!rm || i >= rm_n)
		return;
	while (b < ARRAY_SIZE(buckets) && sec > buckets[b])
		b++;
	__atomic_add_fetch(&rm[i].by_status[status_index(status)], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rm[i].hist[b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rm[i].sum_ns, (uint64_t)(ns > 0 ? ns : 0), __ATOMIC_RELAXED);
}

static const char *route_label(size_t i)
{
	return i < routes_count ? routes[i].pattern : "unmatched";
}

static const char *route_method(size_t i)
{
	return i < routes_count ? routes[i].method : "";
}

void metrics_render(struct server *s, struct buf *o)
{
	struct store_stats st;

	buf_appends(o, "# HELP itsup_http_requests_total HTTP requests by route and status.\n"
		       "# TYPE itsup_http_requests_total counter\n");
	for (size_t i = 0; i < rm_n; i++)
		for (size_t k = 0; k < NSTATUS; k++) {
			uint64_t v = __atomic_load_n(&rm[i].by_status[k], __ATOMIC_RELAXED);
			if (!v)
				continue;
			if (k < ARRAY_SIZE(statuses))
				buf_appendf(o, "itsup_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %" PRIu64 "\n",
					    route_method(i), route_label(i), statuses[k], v);
			else
				buf_appendf(o, "itsup_http_requests_total{method=\"%s\",route=\"%s\",status=\"other\"} %" PRIu64 "\n",
					    route_method(i), route_label(i), v);
		}
	buf_appends(o, "# HELP itsup_http_request_duration_seconds Request latency.\n"
		       "# TYPE itsup_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < rm_n; i++) {
		uint64_t cum = 0;
		for (size_t b = 0; b < NBUCKET; b++)
			cum += __atomic_load_n(&rm[i].hist[b], __ATOMIC_RELAXED);
		if (!cum)
			continue;
		cum = 0;
		for (size_t b = 0; b < NBUCKET; b++) {
			cum += __atomic_load_n(&rm[i].hist[b], __ATOMIC_RELAXED);
			if (b < ARRAY_SIZE(buckets))
				buf_appendf(o, "itsup_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %" PRIu64 "\n",
					    route_method(i), route_label(i), buckets[b], cum);
			else
				buf_appendf(o, "itsup_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
					    route_method(i), route_label(i), cum);
		}
		buf_appendf(o, "itsup_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n",
			    route_method(i), route_label(i),
			    (double)__atomic_load_n(&rm[i].sum_ns, __ATOMIC_RELAXED) / 1e9);
		buf_appendf(o, "itsup_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %" PRIu64 "\n",
			    route_method(i), route_label(i), cum);
	}

	store_stats(s->store, &st);
	buf_appendf(o, "# HELP itsup_store_commits_total Group commits (transactions) by the writer.\n"
		       "# TYPE itsup_store_commits_total counter\n"
		       "itsup_store_commits_total %" PRIu64 "\n"
		       "# HELP itsup_store_commit_failures_total Commits that failed.\n"
		       "# TYPE itsup_store_commit_failures_total counter\n"
		       "itsup_store_commit_failures_total %" PRIu64 "\n"
		       "# HELP itsup_store_writes_total Writes committed (requests' changes).\n"
		       "# TYPE itsup_store_writes_total counter\n"
		       "itsup_store_writes_total %" PRIu64 "\n"
		       "# HELP itsup_store_commit_seconds_total Time spent committing.\n"
		       "# TYPE itsup_store_commit_seconds_total counter\n"
		       "itsup_store_commit_seconds_total %.6f\n"
		       "# HELP itsup_store_write_queue Writes waiting for the writer.\n"
		       "# TYPE itsup_store_write_queue gauge\n"
		       "itsup_store_write_queue %" PRIu64 "\n"
		       "# HELP itsup_store_batch_size Writes per group commit.\n"
		       "# TYPE itsup_store_batch_size histogram\n",
		    st.commits, st.failed_commits, st.writes, (double)st.commit_ns_total / 1e9,
		    st.queue_depth);
	{
		uint64_t cum = 0;
		for (size_t b = 0; b < STORE_BATCH_BUCKETS; b++) {
			cum += st.batch_hist[b];
			if (b < STORE_BATCH_BUCKETS - 1)
				buf_appendf(o, "itsup_store_batch_size_bucket{le=\"%u\"} %" PRIu64 "\n",
					    1u << b, cum);
			else
				buf_appendf(o, "itsup_store_batch_size_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
		}
		buf_appendf(o, "itsup_store_batch_size_sum %" PRIu64 "\nitsup_store_batch_size_count %" PRIu64 "\n",
			    st.writes, st.commits);
	}
	buf_appendf(o, "# HELP itsup_agent_checkins_total Agent check-ins stored (this server).\n"
		    "# TYPE itsup_agent_checkins_total counter\n"
		    "itsup_agent_checkins_total %" PRIu64 "\n"
		    "# HELP itsup_agent_checkin_duplicates_total Check-ins whose batch was stored before (replays).\n"
		    "# TYPE itsup_agent_checkin_duplicates_total counter\n"
		    "itsup_agent_checkin_duplicates_total %" PRIu64 "\n"
		    "# HELP itsup_metric_samples_total Metric samples stored.\n"
		    "# TYPE itsup_metric_samples_total counter\n"
		    "itsup_metric_samples_total %" PRIu64 "\n"
		    "# HELP itsup_alert_events_total Alert events (fire, resolve, ...) from check-ins.\n"
		    "# TYPE itsup_alert_events_total counter\n"
		    "itsup_alert_events_total %" PRIu64 "\n",
		    __atomic_load_n(&mon_checkins, __ATOMIC_RELAXED),
		    __atomic_load_n(&mon_duplicates, __ATOMIC_RELAXED),
		    __atomic_load_n(&mon_samples, __ATOMIC_RELAXED),
		    __atomic_load_n(&mon_alert_events, __ATOMIC_RELAXED));
}
