/*
 * alert.h: checks and alerts (issue 7). Pure: no I/O, no clock reads;
 * the caller passes every instant. The store keeps struct alert per
 * (device, check) and the server acts on the effects a step returns
 * (open or reopen a ticket, add to its timeline, resolve it, notify).
 *
 * A check compares one metric of a device with thresholds:
 *
 *   value <cmp> crit  -> critical
 *   value <cmp> warn  -> warning
 *   otherwise         -> ok
 *
 * with hysteresis on the way back: a level is left only when the value
 * is past its threshold by `hysteresis` (so a disk at 90.0 / 89.9 / 90.0
 * percent does not change level on every sample).
 *
 * The alert of a check on a device moves like this (Prometheus's pending
 * and firing, plus what a help desk needs around them):
 *
 *                 bad sample                 bad for for_ms
 *   +----------+ -----------> +---------+ -----------------> +--------+
 *   | inactive |              | pending |                    | firing |
 *   +----------+ <----------- +---------+                    +--------+
 *        ^        ok sample                                     |   |
 *        |                                      other severity  |   | ok sample
 *        |                                  (AE_SEVERITY) <-----+   |
 *        +----------------------------------------------------------+
 *                              (AE_RESOLVE)
 *
 * Entering firing is AE_FIRE (open a ticket, or add to / reopen the one
 * of this alert: the caller decides with the ticket's state), leaving it
 * AE_RESOLVE. Around these:
 *
 *  - Flapping: every move into or out of firing is remembered (the last
 *    ALERT_FLAP_MAX instants). When at least flap_changes of them fall in
 *    the last flap_window_ms, the alert is flapping: AE_FLAPPING once,
 *    then no AE_FIRE / AE_RESOLVE while it flaps. It stops flapping when
 *    fewer than half that many moves fall in the window; then
 *    AE_FLAP_END, and the effect that brings the outside world in line
 *    with the state (AE_FIRE if firing and last announced resolved, or
 *    AE_RESOLVE the other way).
 *  - Maintenance: while in a maintenance window the state machine runs
 *    (so it knows the truth when the window ends) but announces nothing.
 *    When the window ends, only the difference between what was last
 *    announced and the state now is announced: a disk that filled and
 *    recovered during the window says nothing; one still full says
 *    AE_FIRE once.
 *  - Acknowledgement is of what was announced: an alert announced firing
 *    (its ticket open) may be acknowledged; then a severity change
 *    announces nothing (AE_SEVERITY is for the unacknowledged); the
 *    acknowledgement ends when AE_RESOLVE is announced.
 *  - Moves inside a maintenance window are not counted for flapping.
 *  - Pending must be held: a sample more than for_ms after the one before
 *    it starts the pending period again (a device that was off did not
 *    show the condition holding). NaN samples are ignored.
 *
 * Instants are UTC milliseconds.
 */
#ifndef ITSUP_MONITOR_ALERT_H
#define ITSUP_MONITOR_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

enum check_cmp { CMP_GT, CMP_GE, CMP_LT, CMP_LE, CMP_COUNT };
extern const char *const check_cmp_names[];   /* ">", ">=", "<", "<=" */

enum severity { SEV_OK, SEV_WARNING, SEV_CRITICAL, SEV_COUNT };
extern const char *const severity_names[];    /* "ok", "warning", "critical" */

struct check_rule {
	enum check_cmp cmp;
	bool has_warn, has_crit;
	double warn, crit;
	double hysteresis;        /* >= 0, in the metric's unit */
	int64_t for_ms;           /* bad this long before firing; 0: at once */
	int flap_changes;         /* 0: no flap detection */
	int64_t flap_window_ms;
};

/* Checks a rule: thresholds ordered by cmp (for > and >=, crit >= warn;
 * for < and <=, crit <= warn), at least one of them, hysteresis >= 0,
 * durations >= 0, flap_changes 0 or 2..ALERT_FLAP_MAX with a window.
 * RC_INVALID naming the field. */
enum result check_rule_valid(const struct check_rule *r, struct err *e);

/* The level of value under r, given the level it is at now (for the
 * hysteresis). */
enum severity check_level(const struct check_rule *r, double value, enum severity now);

enum alert_status { AL_INACTIVE, AL_PENDING, AL_FIRING, AL_STATUS_COUNT };
extern const char *const alert_status_names[];  /* "inactive", "pending", "firing" */

#define ALERT_FLAP_MAX 16

struct alert {
	enum alert_status status;
	enum severity severity;       /* of the last sample's level, pending or firing */
	int64_t pending_since, firing_since, resolved_at;
	double last_value;
	int64_t last_at;              /* the last sample taken (older ones are ignored) */
	bool flapping;
	bool acked;
	bool in_maintenance;
	/* What the outside world was last told: firing (true) or not. */
	bool announced_firing;
	enum severity announced_severity;
	int nchanges;                 /* moves into / out of firing, newest last */
	int64_t changes[ALERT_FLAP_MAX];
};

enum alert_effect {
	AE_NONE = 0,
	AE_FIRE = 1u << 0,            /* announce firing (severity in the alert) */
	AE_SEVERITY = 1u << 1,        /* firing, at another severity */
	AE_RESOLVE = 1u << 2,         /* announce resolved */
	AE_FLAPPING = 1u << 3,        /* started flapping (announced once) */
	AE_FLAP_END = 1u << 4,        /* stopped flapping */
	AE_ACK = 1u << 5,             /* acknowledged (alert_ack's, recorded by the caller) */
};
#define AE_KINDS 6
/* The event names of the AE_* bits, in bit order: "fire", "severity",
 * "resolve", "flapping", "flap_end", "ack". */
extern const char *const alert_effect_names[];

/* A sample of the check's metric at `at`. Returns AE_* bits. A sample not
 * newer than the last one taken changes nothing (replayed batches). */
unsigned alert_sample(struct alert *a, const struct check_rule *r, double value, int64_t at);
/* The maintenance window began (on) or ended (off) at `at`. */
unsigned alert_maintenance(struct alert *a, bool on, int64_t at);
/* The alert's check or device is gone: the alert ends at `at` (inactive,
 * out of any window, not flapping) and AE_RESOLVE is announced if firing
 * was. */
unsigned alert_retire(struct alert *a, int64_t at);
/* A technician acknowledged the firing alert: false when it is not
 * firing (nothing to acknowledge). */
bool alert_ack(struct alert *a);

/* The state as a compact JSON text (the store keeps it), and back.
 * alert_state_parse: false (and *a zeroed) when s is not such a text. */
char *alert_state_format(const struct alert *a);   /* malloc'd; NULL: no memory */
bool alert_state_parse(const char *s, struct alert *a);
/* Whether two states differ in more than the last sample's value and
 * instant while inactive (what the store need not write). */
bool alert_state_changed(const struct alert *before, const struct alert *after);

#endif
