/*
 * monitor.h: monitoring's decisions above the store (issue 7): which checks
 * apply to a series, whether a device is in a maintenance window, how a
 * sample moves an alert, and what an alert's event does to its ticket.
 * alert.h has the state machine itself; docs/MONITORING.md the model.
 *
 * Data flow of a check-in (api_monitor.c):
 *
 *   agent -> POST /agent/checkin -> parse + validate -> for each sample,
 *   the checks that apply (monitor_checks_for, from the snapshot) and
 *   whether the device is in maintenance -> one store write (W_CHECKIN):
 *   the batch row (dedup), the samples, the device's latest readings, and
 *   for each (check, series) the alert stepped by monitor_step (alert.h's
 *   alert_sample) -> events pending for the ticket work.
 *
 *   scheduler (jobs) -> heartbeat ages of silent devices (the offline
 *   check), maintenance windows that ended, then each pending event: the
 *   ticket action monitor_ticket_action() decides, written with the
 *   ticket in one transaction (ticket_write.alert_id) -> rollups and
 *   retention.
 *
 * The snapshot (checks and maintenance windows) is shared by requests and
 * reloaded when a write here changes them (monitor_changed) or after
 * MONITOR_SNAP_TTL_MS (other servers' changes on a shared PostgreSQL).
 */
#ifndef ITSUP_MONITOR_H
#define ITSUP_MONITOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "monitor/alert.h"
#include "store/store.h"

#define METRIC_HEARTBEAT "heartbeat.age_seconds"
#define MONITOR_SNAP_TTL_MS 2000
#define MONITOR_REOPEN_MS (7 * 86400000LL)   /* a recurrence within this reopens */
#define MONITOR_OFFLINE_DEFAULT_S 300

/* The checks a new client gets: disk over 90 %, memory over 95 % for ten
 * minutes, offline after five minutes (client_id filled by the store). */
extern const struct check_row monitor_default_checks[];
extern const size_t monitor_default_checks_n;

struct tz;

struct mon_snap {
	int refs;
	uint64_t gen;
	int64_t loaded_ms;          /* monotonic */
	struct arena *a;
	struct check_row *checks;   /* enabled ones, by client (0 first) */
	json_t **labels;            /* each check's labels, parsed (NULL: any) */
	size_t nchecks;
	struct mwindow_row *mw;
	struct tz **mw_tz;
	size_t nmw;
};

/* The current snapshot, held until monitor_snap_put; NULL when the store
 * cannot be read (e set). */
struct mon_snap *monitor_snap_get(struct store *st, struct err *e);
void monitor_snap_put(struct mon_snap *s);
/* Checks or windows changed here: the next get reloads. */
void monitor_changed(void);
void monitor_shutdown(void);

/* Whether check c concerns the series (client, device, metric, labels). */
bool monitor_check_applies(const struct check_row *c, json_t *check_labels, int64_t client,
			   int64_t device, const char *metric, json_t *labels);
/* The enabled checks of the series, at most max, into out; their count. */
size_t monitor_checks_for(const struct mon_snap *s, int64_t client, int64_t device,
			  const char *metric, json_t *labels, const struct check_row **out,
			  size_t max);
/* The heartbeat threshold of a device in seconds: the smallest critical
 * (else warning) threshold of its offline checks; 0 when none applies. */
int64_t monitor_offline_after(const struct mon_snap *s, int64_t client, int64_t device);

/* Whether window m (its zone loaded in z, NULL: UTC) covers instant at. */
bool mwindow_covers(const struct mwindow_row *m, const struct tz *z, int64_t at);
bool monitor_in_maintenance(const struct mon_snap *s, int64_t client, int64_t device, int64_t at);

/* An alert's dedup key: "c<check>/d<device>" and "/<labels>" with labels. */
const char *monitor_alert_key(struct arena *a, int64_t check, int64_t device, const char *labels);
/* Canonical labels: JSON with sorted keys, compact; "" for none or {}.
 * NULL (why set) when labels is not an object of strings. */
const char *monitor_labels_text(struct arena *a, json_t *labels, const char **why);

/* Labels for people: {"mount":"/"} -> "mount=/" ("" for none). */
const char *monitor_labels_display(struct arena *a, const char *labels);

/* The step of one sample: the arg of struct alert_steps for a check-in. */
struct sample_step {
	const struct check_row *check;
	double value;
	double value_firing;    /* heartbeats: the real age, for an alert already
				 * pending or firing (value counts from the
				 * server's start: the grace only delays raising) */
	int64_t at;
	bool in_maintenance;
};
struct sample_steps { struct sample_step *items; };
int monitor_step_sample(void *arg, size_t i, struct alert *a, double *value, bool *has_value);

/* What an alert event does to the alert's ticket. */
enum mon_action {
	MA_NONE,        /* nothing (no ticket, or nothing to say) */
	MA_OPEN,        /* open a new ticket */
	MA_REOPEN,      /* reopen the resolved ticket */
	MA_NOTE,        /* a timeline event on the open ticket */
	MA_RESOLVE,     /* a note and resolve the ticket */
};
/* Pure. kind: the event's ("fire", ...); has_ticket and the ticket's
 * status and resolved_at; touched: a person changed the ticket since the
 * monitor's last write. */
enum mon_action monitor_ticket_action(const char *kind, bool has_ticket, enum tstatus status,
				      int64_t resolved_at, bool touched, int64_t now);
/* The urgency of a severity: critical high, warning medium. */
enum level monitor_urgency(enum severity s);

#endif
