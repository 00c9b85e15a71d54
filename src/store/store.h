/*
 * store.h: the storage contract. Everything above this header speaks only
 * this; nothing SQLite- or PostgreSQL-specific leaks above it.
 *
 * A backend is a method table (struct store_ops) chosen at run time, like
 * git's refs_backends[] or SQLite's sqlite3_vfs: store_open() picks SQLite
 * for a file path (PostgreSQL comes with its own issue).
 *
 * Contract
 *  1. Tenancy. Every call takes a const struct scope *. The store adds the
 *     tenant predicate itself: an object outside the scope is RC_NOTFOUND,
 *     exactly as if it did not exist.
 *  2. Reads are synchronous, run on reader connections, and see every write
 *     that was acknowledged before they started. Strings in results are
 *     allocated from the caller's arena.
 *  3. Writes are asynchronous. The caller fills a struct store_write and
 *     hands it to store_submit(); the store commits it (grouped with other
 *     requests' writes in one transaction: group commit) and only after the
 *     commit is durable calls w->done(w) from a store thread, with w->rc
 *     and w->err set. A write that fails is rolled back alone; the others in
 *     the batch commit. store_write_sync() waits for the answer.
 *  4. Audit. A write with audit.action set appends one hash-chained audit
 *     record in the same transaction as the change: both or neither.
 *  5. Idempotency. A create with idem_key set is done once per (user, key):
 *     a retry with the same request fingerprint returns the first object's
 *     id with replayed = true; a different request under the same key is
 *     RC_CONFLICT.
 *  6. Versions. Every mutable object has a version, incremented by each
 *     update. An update with if_version != 0 on another version is RC_STALE.
 */
#ifndef ITSUP_STORE_H
#define ITSUP_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/scope.h"
#include "base/arena.h"
#include "base/err.h"
#include "monitor/alert.h"
#include "ticket/ticket.h"

struct store;

/* ---- objects ---------------------------------------------------------- */

struct client {
	int64_t id;
	const char *name, *timezone, *email_domain, *notes;
	bool active;
	int64_t version, created_at, updated_at;
	bool portal_org_visibility;  /* client users see all their org's tickets */
	int auto_close_days;         /* resolved -> closed after this many days */
	const char *priority_matrix; /* JSON override of the impact x urgency matrix */
};

struct contact {
	int64_t id, client_id;
	const char *name, *email, *phone, *title;
	int64_t version, created_at, updated_at;
	const char *client_name;  /* reads: the client organisation's name */
};

struct user {
	int64_t id;
	const char *email, *name;
	enum role role;
	int tier;                /* technicians 1..3, else 0 */
	int64_t client_id;       /* client roles, else 0 */
	bool active, totp_enabled;
	int64_t version, created_at, updated_at, last_login_at;
	/* Secrets: filled only by store_user_auth(), never by get/list. */
	const char *password_hash, *totp_secret;
};

struct session {
	int64_t user_id, created_at, expires_at;
	bool mfa_ok;
	unsigned char csrf_hash[32];
};

struct api_token {
	int64_t id, user_id, created_at, expires_at; /* expires_at 0: never */
	const char *name;
};

struct audit_rec {
	int64_t seq, at, actor_id, tenant_id, object_id;
	const char *action, *object_type, *outcome, *addr, *detail;
	unsigned char prev_hash[32], hash[32];
};

/* A ticket's SLA clocks as last replayed (src/sla/clock.h explains them).
 * Instants and durations in ms; 0 is "none". */
struct ticket_sla {
	bool present;                   /* the ticket has SLA tracking (a row) */
	int64_t policy_id;              /* 0: no policy applies */
	const char *log;                /* the clock log, stored form */
	int64_t response_due, resolution_due;
	bool response_breached, resolution_breached, paused;
	int64_t response_ms, resolution_ms, tier_ms[3];
	unsigned ola_breached;          /* bit k-1: tier k's OLA was breached */
	int64_t as_of;                  /* the instant these were computed for */
	unsigned fired;                 /* timers announced (SLA_BIT_*) */
	int64_t next_at;                /* the next timer, 0: none */
};

/* A ticket as stored (see ticket/ticket.h for the rules it follows). */
struct ticket {
	int64_t id, client_id, number;
	int64_t requester_contact_id, requester_user_id, assignee_id, device_id, parent_id;
	enum tstatus status;
	enum ttype type;
	enum level impact, urgency;
	enum prio priority;
	enum channel channel;
	const char *subject, *description, *category, *priority_reason, *queue;
	const char *vendor, *vendor_ref, *tags; /* tags: a JSON array */
	int tier;
	int64_t created_at, updated_at, last_activity_at;
	int64_t first_response_at, resolved_at, closed_at;
	int fcr;                /* -1 not yet decided, 0, 1 */
	const char *fcr_reason;
	int64_t first_handler_id, resolved_by;
	int resolved_tier, escalations, tier_changes, reopens;
	int early_reopens;      /* reopens within FCR_REOPEN_DAYS of resolution */
	int64_t version;
	int64_t esc_fired_at;   /* esc_candidates only: when the rule last fired */
	struct ticket_sla sla;
};

struct ticket_event {
	int64_t id, ticket_id, at, actor_id;
	const char *kind, *data;  /* data: a JSON object */
	bool internal;            /* hidden from client roles */
};

struct ticket_message {
	int64_t id, ticket_id, client_id, author_user_id, author_contact_id, created_at;
	const char *kind, *body;  /* kind: "reply" or "note" */
	int64_t quote_at;         /* byte offset in body where quoted earlier
				   * text starts (folded by the UI), 0: none */
	const char *source;       /* "email", or NULL: typed in itsup */
};

struct time_entry {
	int64_t id, ticket_id, client_id, user_id, started_at, created_at;
	int minutes;
	bool billable;
	const char *note;
};

struct outbox_msg {
	const char *event, *payload;  /* payload: a JSON object */
};

/* ---- mail (issue 8; docs/MAIL.md) ------------------------------------------ */

/* The intake log's row: a message posted to /api/v1/mail/inbound and what
 * became of it (action: created, appended, duplicate, held, rate_limited,
 * auto_reply, bounce, ignored, released). */
struct inbound_row {
	int64_t id, client_id, ticket_id, size, received_at;   /* client 0: none */
	const char *message_id, *sender, *recipient, *subject, *action, *reason;
	const unsigned char *raw;        /* inbound_get of a held message, else NULL */
	size_t raw_len;
	bool has_raw;                    /* reads: the raw message is kept */
};
struct inbound_list { struct inbound_row *items; size_t n; int64_t next_after; };
struct inbound_q {
	int64_t after;
	int limit;
	const char *action;              /* NULL: any */
};

struct attachment_row {
	int64_t id, client_id, ticket_id, message_id, size, created_at;
	const char *filename, *content_type, *content_id;  /* content_id NULL: none */
	bool is_inline, internal;
	unsigned char sha256[32];
	const unsigned char *data;       /* attachment_get only */
};
struct attachment_list { struct attachment_row *items; size_t n; };

/* An incoming e-mail filed with a ticket write (W_TICKET_CREATE or
 * W_TICKET_CHANGE with tw->mail): in the same transaction the store
 *  - creates the contact (new_contact_email set: client tw->t.client_id,
 *    name new_contact_name) and makes it the requester (new tickets) and
 *    the message's author;
 *  - records message_id (direction in, the ticket) in mail_ids: one
 *    already there is RC_CONFLICT on field "message_id" (the same message
 *    delivered twice, concurrently) and nothing is written;
 *  - stores the attachments, of tw's message (tw->has_msg) or, with none,
 *    of the ticket, internal when the message is a note;
 *  - writes the intake log row (log: client and ticket from tw->t);
 *  - release_id set: that held log row's action becomes "released" (its
 *    client and ticket tw->t's, its raw dropped; RC_CONFLICT on field
 *    "release" when it is not held); message_id, when it is that row's
 *    (recorded without a ticket by W_MAIL_LOG), is filed under the
 *    ticket instead of being a conflict. */
struct mail_file {
	const char *message_id;
	const char *new_contact_email, *new_contact_name;
	struct attachment_row *att;
	size_t natt;
	struct inbound_row log;
	int64_t release_id;
	int64_t contact_id;              /* result: the contact created (0: none) */
	int64_t inbound_id;              /* result: the log row's id */
};

/* A recipient address that routes mail: to a client, a queue, or both. */
struct mail_route_row {
	int64_t id, client_id, created_at;   /* client 0: none */
	const char *address, *queue;         /* queue NULL: none */
};

struct template_row {
	const char *key, *subject, *body;
	int64_t version, updated_at;
};

struct webhook_row {
	int64_t id, client_id, version, created_at, updated_at;   /* client 0: all */
	const char *name, *url, *events, *secret;                 /* events: JSON array */
	bool active;
};

/* An outbox row (0002): what happened, not yet turned into deliveries. */
struct outbox_row {
	int64_t id, client_id, ticket_id, created_at;
	const char *event, *payload;
	int attempts;                   /* expansions that failed (W_OUTBOX_DEFER) */
	int64_t next_attempt_at;        /* not to be expanded before */
};
struct outbox_list { struct outbox_row *items; size_t n; };

struct delivery_row {
	int64_t id, client_id, outbox_id, ticket_id, webhook_id;
	const char *event, *channel, *template_key, *target, *message_id, *subject;
	const unsigned char *body;       /* deliveries_due only (list: NULL) */
	size_t body_len;
	const char *state, *last_error;
	int attempts;
	long last_status;
	int64_t next_attempt_at, sent_at, created_at;
};
struct delivery_list { struct delivery_row *items; size_t n; int64_t next_after; };
struct delivery_q {
	int64_t after;                   /* newest first: ids below after (0: top) */
	int limit;
	int64_t ticket_id, webhook_id;   /* 0: any */
	const char *state, *channel;     /* NULL: any */
};

/* ---- reports (issue 9; docs/REPORTS.md) --------------------------------------- */

/* A ticket as reports read it: the stored instants, flags and business-
 * time durations only (no texts but the category). */
struct report_ticket {
	int64_t id, client_id, number;
	int64_t created_at, first_response_at, resolved_at, closed_at;
	enum prio priority;
	enum ttype type;
	enum channel channel;
	const char *category;           /* NULL: none */
	bool has_policy, response_breached, resolution_breached, vendor;
	int64_t response_ms, resolution_ms, tier_ms[3];
	int fcr, reopens, tier_changes;
	int reassignments;              /* created since lo: assignee changes away from someone */
};

/* A CSAT answer as reports read it. */
struct report_csat {
	int64_t ticket_id, number;
	int rating;                     /* 1..5 */
	const char *comment;            /* NULL: none */
	int64_t created_at;
};

/* An alert event as the review's monitoring figures read it (fire, ack
 * or resolve), with its alert's name. */
struct report_alert_ev {
	int64_t alert_id, id, at;
	const char *kind;               /* "fire", "ack", "resolve" */
	const char *severity, *name;
};

/* A device with the minutes its agent checked in during a period, from
 * the hourly rollups of its uptime.seconds series (min(60, samples) per
 * hour: the agent checks in every 60 s by default). */
struct report_device {
	int64_t id, client_id, created_at, up_minutes;
	const char *hostname;
	bool active;
};

/* Time entry minutes summed by the logging user's tier and billable. */
struct report_hours_row {
	int tier;                       /* 1..3; 0: no tier (not a technician) */
	bool billable;
	int64_t minutes;
};

/* A scheduled delivery of a client's SLA review pack (0009; docs/REPORTS.md
 * "Scheduled delivery"). The period logic is src/jobs/review_sched.h's. */
struct report_schedule {
	int64_t id, client_id;
	const char *cadence;            /* "monthly", "quarterly" */
	const char *recipients;         /* JSON array of addresses */
	bool csv;                       /* the ticket rows (CSV) too, beside the HTML pack */
	bool enabled;
	int hour;                       /* 0..23, the client's local time */
	const char *last_period_sent;   /* "YYYY-MM-DD": the last claimed period's first day; NULL none */
	const char *last_period_to;     /* "YYYY-MM-DD": the day after its last day (the claim); NULL none */
	int64_t last_sent_at;           /* 0: never */
	int64_t next_at;                /* when the job looks at it next */
	int64_t counts_from;            /* periods due before it are not sent: created_at, then each
					 * switch from off to on (a write of 0: the write's now when
					 * creating, else unchanged) */
	int64_t created_by, created_at, updated_at, version;
	const char *client_name;        /* reads: the client's name */
};
struct report_schedule_list { struct report_schedule *items; size_t n; int64_t next_after; };

/* ---- history import (issue 9; docs/IMPORT.md) ------------------------------------ */

/* One ticket brought from another system, as the store writes it
 * (src/import builds it; W_TICKET_IMPORT). */
struct import_ticket {
	struct ticket t;                /* the row (id and number are the store's);
					 * t.sla its SLA row */
	const char *external_id;        /* the other system's id: unique per client */
	const char *requester_email;    /* lower case: the client's contact with this
					 * address (and the client's user with it)
					 * become the requester; NULL: none */
	const char *created_extra;      /* JSON members (no braces) the store adds
					 * to the "created" event it writes */
	struct ticket_event *ev;        /* the timeline after "created", each at its
					 * own instant (ev[i].at) */
	int nev;
	int csat_rating;                /* 1..5; 0: no CSAT answer */
	const char *csat_comment;
	int64_t csat_at;
	int64_t line;                   /* where it came from (errors) */
};

/* W_TICKET_IMPORT: every ticket of one file, all or none, in one write.
 * The store pulls the tickets from the source in batches (next), so a
 * file of any size never sits in memory whole: for each, it takes the
 * next ticket number (max + 1, as creates do), writes the row with
 * external_id, its search document, its "created" event (at created_at)
 * and ev[] (at their instants; actor: the scope's user), its SLA row as
 * given (no timer is computed by the store), and its CSAT answer. No
 * outbox row is written. Any failure fails the whole write: an external
 * id a client's ticket already has is RC_CONFLICT on "external_id",
 * fail_line naming the ticket's line. The scope must see every client.
 * The store calls rewind before the first next, and again when the write
 * runs again (a PostgreSQL batch doomed by another server).
 * The write's audit record is one a client (store_audit_records): w->audit
 * gives the action, object type and address; each client's record has the
 * client as tenant, its first ticket as object, and its count and numbers
 * before w->audit.detail. */
struct import_client {
	int64_t client_id, first_id, first_number, last_number;
	size_t n;
};

struct import_write {
	/* At most max tickets into *items (the source's memory, valid until
	 * its next call); *n = 0 at the end. A failure (RC_INVALID: the file
	 * changed since it was validated) fails the write. */
	enum result (*next)(void *arg, size_t max, struct import_ticket **items, size_t *n,
			    struct err *e);
	enum result (*rewind)(void *arg, struct err *e);
	void (*stored)(void *arg, size_t n);   /* progress after each batch; may be NULL */
	void *arg;
	int64_t sla_gen;                /* the SLA configuration generation the clocks
					 * were computed under (-1: not checked); another
					 * is RC_STALE "sla_generation" */
	/* results */
	size_t n;
	int64_t first_id, first_number, last_number;
	int64_t fail_line;              /* the failure's ticket line, 0: none */
	struct import_client *clients;  /* one a client, in the order first met (the
					 * store's malloc; the caller frees it) */
	size_t nclients, ccap;
};

/* Counts it (numbered number, its id known) in iw->clients: RC_OK, or
 * RC_NOMEM. The backends call it for each ticket written. */
enum result import_tally(struct import_write *iw, const struct import_ticket *it, int64_t number);

/* What store_import_lookup looks up. */
enum import_key { IMPORT_EXTERNAL_ID, IMPORT_CONTACT_EMAIL };

#define TW_MAX_EVENTS 16
#define TW_MAX_OUTBOX 16

/* One ticket's change, written atomically: the whole new row (guarded by
 * if_version), its timeline events, at most one message and one time
 * entry (each also gets its timeline event from the store), outbox rows. */
struct ticket_write {
	struct ticket t;
	int64_t if_version;             /* change: the version read */
	struct ticket_event ev[TW_MAX_EVENTS];
	int nev;
	struct ticket_message msg;
	bool has_msg;
	struct time_entry te;
	bool has_te;
	struct outbox_msg ob[TW_MAX_OUTBOX];
	int nob;
	bool fts;                       /* subject or description changed */
	int64_t esc_rule_id;            /* scheduler: record that this rule fired */
	bool sla_set;                   /* write t.sla too */
	int64_t sla_gen;                /* with sla_set: the SLA configuration
					 * generation the clocks were computed
					 * under (-1: not computed); another
					 * generation in the store is RC_STALE
					 * with field "sla_generation" */
	/* The monitor's ticket work (W_TICKET_CREATE / W_TICKET_CHANGE): in
	 * the same transaction, alert alert_id gets this ticket (and its
	 * version after this write), and its pending events up to
	 * alert_events_upto are done; RC_CONFLICT (field "alert") when none
	 * were pending any more (another server did the work). */
	int64_t alert_id, alert_events_upto;
	bool alert_rebase;              /* the monitor opened or reopened the
					 * ticket: the alert's mark
					 * (alerts.ticket_version) becomes the
					 * ticket's last event id */
	struct mail_file *mail;         /* an incoming e-mail filed with this write */
	int csat_rating;                /* W_CSAT: 1..5 */
	const char *csat_comment;
	int64_t message_id;             /* result: the new message's id */
	int64_t time_entry_id;          /* result */
};

struct calendar_row {
	int64_t id, version, created_at, updated_at;
	const char *name, *timezone, *hours, *holidays; /* hours, holidays: JSON */
	bool always;
};

struct sla_policy_row {
	int64_t id, calendar_id, version, created_at, updated_at;
	const char *name;
	const char *calendars, *targets, *pause_statuses, *warn_at, *tier_targets, *actions; /* JSON */
	bool is_default;
};

/* A client's contract. The billing terms come with billing; the model is
 * kept so far. Dates are local dates "YYYY-MM-DD"; ends_on NULL: open. */
struct contract_row {
	int64_t id, client_id, sla_policy_id, version, created_at, updated_at;
	const char *name, *model, *starts_on, *ends_on, *notes;
};

/* Recomputing the SLA of open tickets in the same transaction as a
 * calendar or policy edit: the store hands fn each open ticket's SLA row
 * (with policy_id and log) and writes back the ones fn says changed. */
struct sla_recompute {
	bool (*fn)(void *arg, int64_t now, struct ticket_sla *sla);
	void *arg;
	size_t seen, changed;           /* results */
};

struct rule_row {
	int64_t id, version, created_at, updated_at;
	const char *name, *conditions, *actions;  /* JSON texts */
	int position;
	bool enabled, on_create, on_update, stop;
};

struct esc_rule_row {
	int64_t id, version, created_at, updated_at, minutes;
	const char *name, *kind, *priority;       /* priority NULL: any */
	int raise_to_tier;
	bool notify, enabled;
};


/* ---- monitoring (issue 7; docs/MONITORING.md) ---------------------------- */

struct enroll_token_row {
	int64_t id, client_id, created_by, created_at, expires_at, revoked_at;
	int64_t uses, max_uses;             /* max_uses 0: any number */
	const char *name;
};

struct device {
	int64_t id, client_id, enroll_token_id;
	const char *hostname, *os;
	const char *inventory;              /* JSON object or NULL */
	const char *latest;                 /* JSON: {"name{labels}": [value, at_ms]} or NULL */
	int64_t inventory_at, last_seen_at, created_at, updated_at, version;
	bool active;
};
struct device_list { struct device *items; size_t n; int64_t next_after; };

/* A check (src/monitor/alert.h has the rule's meaning). client_id and
 * device_id 0: every client / device. labels: a JSON object the series'
 * labels must contain, NULL: any. */
struct check_row {
	int64_t id, client_id, device_id;
	const char *name, *metric, *labels, *impact;
	struct check_rule rule;
	bool enabled;
	int64_t created_at, updated_at, version;
};
struct check_list { struct check_row *items; size_t n; };

/* An alert as stored; st is the state machine's. */
struct alert_row {
	int64_t id, client_id, device_id, check_id, ticket_id;
	int64_t ticket_version;             /* the mark: the ticket's last event id when
					     * the monitor opened or reopened it */
	const char *source, *key, *name, *labels, *summary;
	const char *hostname;               /* reads: the device's, or NULL */
	struct alert st;
	bool has_value;
	double value;
	bool in_maintenance;
	int64_t acked_by, acked_at, firing_since, resolved_at, created_at, updated_at, version;
};
struct alert_list { struct alert_row *items; size_t n; int64_t next_after; };

struct alert_event_row {
	int64_t id, alert_id, client_id, at;
	const char *kind;                   /* fire, severity, resolve, flapping, flap_end, ack */
	enum severity severity;
	bool has_value, pending;
	double value;
};
struct alert_event_list { struct alert_event_row *items; size_t n; };

struct alert_q {
	int64_t after;
	int limit;
	int64_t client_id, device_id;       /* 0: any */
	int64_t check_id;                   /* 0: any */
	int status;                         /* ALQ_* */
};
enum { ALQ_OPEN, ALQ_FIRING, ALQ_PENDING, ALQ_RESOLVED, ALQ_ALL };

struct mwindow_row {
	int64_t id, client_id, device_id;   /* device_id 0: the whole client */
	const char *name, *repeat, *timezone;
	int64_t starts_at, ends_at, repeat_until, created_by, created_at, updated_at, version;
};
struct mwindow_list { struct mwindow_row *items; size_t n; };

struct am_receiver_row {
	int64_t id, client_id;              /* 0: the provider's (client from a label) */
	const char *name, *client_label, *device_label;
	int64_t created_at;
};

/* One metric sample of a check-in. series labels: canonical JSON ('' none). */
struct sample {
	const char *name, *labels;
	double value;
	int64_t at;
};

/* An alert the store is to step (W_CHECKIN, W_ALERT_STEP): found by id, or
 * else by (client_id, key), in which case a missing one starts inactive
 * (struct alert zeroed) and is stored only once its state differs from
 * that. The rest describes a new row. */
struct alert_pair {
	int64_t alert_id;
	int64_t client_id, device_id, check_id;
	const char *key, *source, *name, *labels, *summary;
};

/* The caller's decision for pair i: moves *a (the alert's state, newest
 * stored) and returns the AE_* effects to record as events (each pending
 * for the alert's ticket), or -1 to refuse the write (RC_CONFLICT). The
 * store writes the state back when it changed. value/has_value: the
 * sample the row shows. */
struct alert_steps {
	struct alert_pair *items;
	size_t n;
	int64_t client_id;                  /* result: the last alert's client */
	int (*fn)(void *arg, size_t i, struct alert *a, double *value, bool *has_value);
	void *arg;
	int64_t now;
	/* results */
	size_t events;                      /* events recorded (pending) */
	int64_t alert_id;                   /* the last pair's alert id (0: none stored) */
};

struct checkin_write {
	int64_t device_id, client_id, batch_id, now;
	struct sample *samples;
	size_t n;
	const char *latest;                 /* the device's new latest JSON */
	const char *inventory;              /* NULL: unchanged */
	struct alert_steps steps;
	/* results */
	bool duplicate;
	size_t stored;
};

/* The monitor's pending work: pending alert events, oldest first, each
 * with its alert (hostname and all). */
struct alert_work { struct alert_event_row ev; struct alert_row al; };
struct alert_work_list { struct alert_work *items; size_t n; };

/* Points of one series (a chart). */
struct series_point { int64_t at; double avg, min, max; };
struct series_points { struct series_point *items; size_t n; };

/* ---- lists ------------------------------------------------------------ */

/* Keyset pagination by id: items with id > after, ascending, at most
 * limit. next_after is the last id when more may follow, else 0. */
struct list_q {
	int64_t after;
	int limit;
	int64_t client_id;  /* filter, 0 = any (still within scope) */
	const char *role;   /* users: filter by role, NULL = any */
	const char *q;      /* contacts: search text (see contact_list), NULL = none */
};

/* Ticket lists are newest first: ids below "before" (0: from the top). */
struct ticket_q {
	int64_t before;
	int limit;
	int64_t client_id, assignee_id;  /* 0 any; assignee -1: unassigned */
	int status, priority, tier;      /* -1 / -1 / 0: any */
	bool open_only;                  /* status not resolved or closed */
	const char *queue;               /* NULL: any */
	const char *fts;                 /* FTS5 query (already quoted), NULL: none */
};

struct ticket_list { struct ticket *items; size_t n; int64_t next_before; };

/* The technician console's counts of one queue, over open tickets (status
 * neither resolved nor closed). */
struct queue_count {
	const char *queue;   /* as stored; "" for a ticket without one */
	int64_t open;        /* open tickets in the queue */
	int64_t unassigned;  /* ... of which no assignee */
	int64_t p1;          /* ... of which priority P1 */
	int64_t breached;    /* ... of which the SLA response or resolution is breached */
};
#define QUEUE_COUNTS_MAX 1000
struct queue_counts { struct queue_count *items; size_t n; bool truncated; };
struct message_list { struct ticket_message *items; size_t n; };
struct event_list { struct ticket_event *items; size_t n; };
struct time_list { struct time_entry *items; size_t n; };
struct rule_rows { struct rule_row *items; size_t n; };
struct esc_rule_rows { struct esc_rule_row *items; size_t n; };

struct client_list { struct client *items; size_t n; int64_t next_after; };
struct contact_list { struct contact *items; size_t n; int64_t next_after; };
struct user_list { struct user *items; size_t n; int64_t next_after; };

/* ---- writes ----------------------------------------------------------- */

enum store_wkind {
	W_AUDIT,            /* only the audit record */
	W_CLIENT_CREATE,    /* in.client -> id */
	W_CLIENT_UPDATE,    /* id, fields, in.client */
	W_CONTACT_CREATE,   /* in.contact (client_id) -> id */
	W_CONTACT_UPDATE,   /* id, fields, in.contact */
	W_USER_CREATE,      /* in.user (+ password_hash) -> id */
	W_USER_UPDATE,      /* id, fields, in.user */
	W_LOGIN,            /* in.session: new session, user's last_login_at */
	W_SESSION_DELETE,   /* in.session.id_hash */
	W_SESSION_MFA_OK,   /* in.session.id_hash: the session passed MFA */
	W_TOKEN_CREATE,     /* in.token -> id */
	W_SETTING_SET,      /* in.setting */
	W_TICKET_CREATE,    /* in.tw -> id (and tw->t.number) */
	W_TICKET_CHANGE,    /* in.tw (t.id, if_version) */
	W_TICKET_BULK,      /* in.bulk: every change or none */
	W_RULE_PUT,         /* in.rule: id 0 creates */
	W_RULE_DELETE,      /* id */
	W_ESC_RULE_PUT,     /* in.esc: id 0 creates */
	W_CSAT,             /* in.tw (t.id, csat_rating, csat_comment) */
	W_CALENDAR_PUT,     /* in.cal: id 0 creates */
	W_SLA_POLICY_PUT,   /* in.policy: id 0 creates; is_default moves the default here */
	W_CONTRACT_PUT,     /* in.contract: id 0 creates */
	W_THROTTLE,         /* in.throttle: count one failure on each key */
	W_ENROLL_TOKEN_CREATE, /* in.etok.row (client_id, name, ...) + hash -> id */
	W_ENROLL_TOKEN_REVOKE, /* id, in.etok.row.client_id */
	W_DEVICE_ENROLL,    /* in.enroll -> id (the device), in.enroll.client_id */
	W_DEVICE_UPDATE,    /* id, fields (F_ACTIVE), in.device */
	W_CHECKIN,          /* in.checkin: RC_OK with duplicate set for a batch seen before */
	W_CHECK_PUT,        /* in.check: id 0 creates */
	W_CHECK_DELETE,     /* id */
	W_ALERT_STEP,       /* in.steps */
	W_ALERT_EVENTS_DONE,/* in.done: the alert's pending events up to upto are done */
	W_MWINDOW_PUT,      /* in.mw: id 0 creates */
	W_MWINDOW_DELETE,   /* id */
	W_AM_RECEIVER_CREATE, /* in.amr.row + hash -> id */
	W_AM_RECEIVER_DELETE, /* id: its token stops working */
	W_MONITOR_ROLLUP,   /* in.rollup: roll raw up to 1m and 1m to 1h until upto */
	W_MONITOR_RETAIN,   /* in.retain: delete history older than these */
	W_MAIL_LOG,         /* in.inbound: the log row -> id; with
			     * inbound.message_id recorded (direction in, no
			     * ticket) unless action is "duplicate"; an id
			     * already recorded is RC_CONFLICT "message_id" */
	W_MAIL_ROUTE_PUT,   /* in.route: id 0 creates; address taken: RC_CONFLICT "address" */
	W_MAIL_ROUTE_DELETE,/* id */
	W_TEMPLATE_PUT,     /* in.tmpl (if_version: the override's version, 0: any) */
	W_TEMPLATE_DELETE,  /* in.tmpl.key: back to the built-in text */
	W_WEBHOOK_PUT,      /* in.webhook: id 0 creates (if_version on updates) */
	W_WEBHOOK_DELETE,   /* id: its pending deliveries fail ("webhook deleted") */
	W_OUTBOX_EXPAND,    /* in.expand: the outbox row becomes its deliveries */
	W_DELIVERY_RESULT,  /* in.dres: one attempt's outcome */
	W_DELIVERY_RETRY,   /* id: a failed delivery is pending again, due now */
	W_SCHEDULE_PUT,     /* in.sched: id 0 creates (tenant client_id, in scope); if_version */
	W_SCHEDULE_DELETE,  /* id */
	W_SCHEDULE_CLAIM,   /* in.claim: the job's one conditional write (below) */
	W_SCHEDULE_SEND,    /* in.claim (id, event, payload): an outbox row now -> id */
	W_OUTBOX_DEFER,     /* in.dres (id: a pending outbox row; state "pending" again at
			     * next_attempt_at, or "failed"): its expansion failed, attempts + 1;
			     * a row not pending: RC_CONFLICT "outbox" */
	W_TICKET_IMPORT,    /* in.imp: a file's tickets, all or none (struct import_write) */
	W_KIND_COUNT
};

/* Update field bits (fields of struct store_write). */
enum {
	F_NAME = 1u << 0,
	F_TIMEZONE = 1u << 1,
	F_EMAIL_DOMAIN = 1u << 2,
	F_NOTES = 1u << 3,
	F_ACTIVE = 1u << 4,
	F_EMAIL = 1u << 5,
	F_PHONE = 1u << 6,
	F_TITLE = 1u << 7,
	F_ROLE = 1u << 8,      /* role, tier and client_id together */
	F_PASSWORD = 1u << 9,  /* in.user.password_hash */
	F_TOTP = 1u << 10,     /* in.user.totp_secret, totp_enabled */
	F_PORTAL = 1u << 11,   /* clients: portal_org_visibility */
	F_AUTOCLOSE = 1u << 12,/* clients: auto_close_days */
	F_MATRIX = 1u << 13,   /* clients: priority_matrix */
};

struct audit_in {
	const char *action;       /* NULL: no audit record */
	const char *object_type;  /* "client", "user", ... */
	int64_t object_id;        /* 0: the write's id */
	int64_t tenant_id;        /* client organisation concerned, 0 = provider */
	const char *outcome;      /* "ok" unless told; "denied", "failed" */
	const char *addr;
	const char *detail;
};

struct store_write {
	enum store_wkind kind;
	struct scope scope;
	union {
		struct client client;
		struct contact contact;
		struct user user;
		struct {
			unsigned char id_hash[32];
			struct session s;
			const char *addr;
			/* W_LOGIN: the failed-login counter to delete, if any */
			unsigned char throttle_reset[32];
			bool has_throttle_reset;
		} session;
		/* Failed-login counters (fixed windows): for each key, a
		 * failure at now counts in the key's window unless that window
		 * (window_start + window_ms) has ended, when a new window
		 * starts at now with this one failure. */
		struct {
			unsigned char key[2][32];
			int64_t window_ms[2];
			int n;
			int64_t now;
		} throttle;
		struct {
			unsigned char hash[32];
			struct api_token t;
		} token;
		struct {
			const char *key, *value;
		} setting;
		struct ticket_write *tw;
		struct import_write *imp;
		struct {
			struct ticket_write *items;
			size_t n;
			size_t failed;      /* result: the item that failed */
		} bulk;
		struct rule_row rule;
		struct esc_rule_row esc;
		struct calendar_row cal;
		struct sla_policy_row policy;
		struct contract_row contract;
		struct {
			struct enroll_token_row row;
			unsigned char hash[32];
		} etok;
		struct {
			unsigned char token_hash[32];   /* the enrolment token's */
			unsigned char device_hash[32];  /* the new device token's */
			const char *hostname, *os, *inventory;
			int64_t now;
			int64_t client_id;              /* result */
		} enroll;
		struct device device;
		struct checkin_write *checkin;
		struct check_row check;
		struct alert_steps *steps;
		struct {
			int64_t alert_id, upto;
		} done;
		struct mwindow_row mw;
		struct {
			struct am_receiver_row row;
			unsigned char hash[32];
		} amr;
		struct {
			int64_t upto;                   /* roll up buckets that end by this */
			int64_t max_span;               /* at most this much raw per write */
			bool more;                      /* result: not all done */
		} rollup;
		struct inbound_row inbound;
		struct mail_route_row route;
		struct template_row tmpl;
		struct webhook_row webhook;
		/* The outbox row outbox_id (pending) is done and these are its
		 * deliveries (state pending, due at now), each e-mail's
		 * message_id recorded in mail_ids (direction out, its ticket);
		 * RC_CONFLICT "outbox" when the row is not pending any more. */
		struct {
			int64_t outbox_id, now;
			struct delivery_row *items;
			size_t n;
		} expand;
		/* Delivery id's attempt: attempts + 1, last_error/last_status;
		 * state "sent" (sent_at = now), "pending" again at
		 * next_attempt_at, or "failed". Only a pending delivery changes
		 * (else RC_CONFLICT "delivery"). */
		struct {
			int64_t id, now, next_attempt_at;
			const char *state, *error;
			long status;
		} dres;
		struct report_schedule sched;
		/* W_SCHEDULE_CLAIM: schedule id's next_at becomes next_at and,
		 * with period set ("YYYY-MM-DD", the period's first day) and
		 * period_to (the day after its last), in the same conditional
		 * UPDATE its last_period_sent becomes period, last_period_to
		 * period_to (and last_sent_at now) only when it is enabled and
		 * no period ending on or after period_to was sent: then the
		 * outbox row (event, payload) of the schedule's client is written
		 * beside it; otherwise RC_CONFLICT "period" and nothing is
		 * written. version (0: any) is the schedule's version the job
		 * decided on: when it changed meanwhile nothing is written (with
		 * a period RC_CONFLICT "period", without RC_STALE; a schedule
		 * gone: RC_NOTFOUND without a period). W_SCHEDULE_SEND: only the
		 * outbox row (a schedule the scope sees; id: the outbox row's). */
		struct {
			int64_t id, next_at, now, version;
			const char *period, *period_to;
			const char *event, *payload;
		} claim;
		struct {
			int64_t raw_before, m1_before, h1_before;
			bool more;                      /* result: not all deleted */
		} retain;
	} in;
	struct sla_recompute *recompute; /* after the write, same transaction */
	int64_t sla_gen;          /* W_CALENDAR_PUT, W_SLA_POLICY_PUT with a
				   * recompute: the generation its world was
				   * built from (else RC_STALE "sla_generation").
				   * Both kinds bump the generation. */
	unsigned fields;          /* updates: F_* bits to set */
	int64_t id;               /* updates: target; creates: the new id */
	int64_t if_version;       /* updates: 0 = any version */
	int64_t totp_step;        /* W_LOGIN, W_USER_UPDATE: the TOTP step the
				   * user's code matched (0: none); refused with
				   * RC_DENIED on field "totp" unless newer than
				   * the last one used, which it becomes */
	const char *idem_key;     /* creates: Idempotency-Key, or NULL */
	unsigned char idem_fp[32];
	struct audit_in audit;

	/* Results, valid in done(). */
	enum result rc;
	struct err err;
	bool replayed;
	int64_t version;

	void (*done)(struct store_write *w);
	void *arg;
	struct store_write *next; /* the store's queue link */
	int64_t audit_tenant_in;  /* the store's: audit.tenant_id as submitted
				   * (a write run again starts from it) */
};

/* ---- statistics (for /metrics) ---------------------------------------- */

#define STORE_BATCH_BUCKETS 9 /* batch size <= 1,2,4,8,...,128, +Inf */

struct store_stats {
	uint64_t commits, writes, failed_commits;
	uint64_t batch_hist[STORE_BATCH_BUCKETS];
	uint64_t commit_ns_total;
	uint64_t queue_depth;
};

/* ---- the method table ------------------------------------------------- */

struct store_ops {
	const char *name;
	enum result (*open)(struct store **out, const char *target, bool create,
			    struct err *e);
	void (*close)(struct store *st);
	void (*submit)(struct store *st, struct store_write *w);
	void (*stats)(struct store *st, struct store_stats *out);
	/* Optional grouping of one thread's reads into one snapshot: between
	 * read_begin and read_end every read on the calling thread sees the
	 * same state (and costs one lock, not one per statement). */
	void (*read_begin)(struct store *st);
	void (*read_end)(struct store *st);
	/* Reads between these see a new snapshot of their own, whatever the
	 * thread's pinned one (for caches that must not be built from a
	 * request's older snapshot). Not nested. */
	void (*read_fresh_begin)(struct store *st);
	void (*read_fresh_end)(struct store *st);
	/* The SLA configuration generation (bumped by every calendar and
	 * policy write). */
	enum result (*sla_generation)(struct store *, int64_t *gen, struct err *);
	/* Whether this server may run the background work (scheduler,
	 * outbox) now: on a store shared by several servers exactly one of
	 * them at a time, taken over within seconds when it dies. NULL: the
	 * store has one server (SQLite), which always may. */
	bool (*lead)(struct store *);

	enum result (*client_get)(struct store *, const struct scope *, int64_t id,
				  struct arena *, struct client *, struct err *);
	enum result (*client_list)(struct store *, const struct scope *,
				   const struct list_q *, struct arena *,
				   struct client_list *, struct err *);
	enum result (*contact_get)(struct store *, const struct scope *, int64_t id,
				   struct arena *, struct contact *, struct err *);
	/* Contacts by id (keyset pages), of lq->client_id or, with 0, of every
	 * client in scope. lq->q, when set, keeps the contacts where it
	 * matches, without case (ASCII) and literally (no wildcards), the
	 * start of the name or of a word of it (words split at spaces and
	 * hyphens), the start of the e-mail address, or, when q is a phone
	 * number (digits with spaces and + - ( ) . /), any run of the phone's
	 * digits ("555 01" finds "+1 (555) 0100"). */
	enum result (*contact_list)(struct store *, const struct scope *,
				    const struct list_q *, struct arena *,
				    struct contact_list *, struct err *);
	enum result (*user_get)(struct store *, const struct scope *, int64_t id,
				struct arena *, struct user *, struct err *);
	enum result (*user_list)(struct store *, const struct scope *,
				 const struct list_q *, struct arena *,
				 struct user_list *, struct err *);
	/* Authentication lookups (not tenant-scoped: they establish the scope). */
	enum result (*user_auth)(struct store *, const char *email_lower,
				 struct arena *, struct user *, struct err *);
	enum result (*user_auth_by_id)(struct store *, int64_t id,
				       struct arena *, struct user *, struct err *);
	/* A session or API token and the user it belongs to, in one read. */
	enum result (*session_get)(struct store *, const unsigned char id_hash[32],
				   struct arena *, struct session *, struct user *, struct err *);
	enum result (*token_get)(struct store *, const unsigned char hash[32],
				 struct arena *, struct api_token *, struct user *, struct err *);
	enum result (*setting_get)(struct store *, const char *key, struct arena *,
				   const char **value, struct err *);
	/* A failed-login counter (W_THROTTLE): RC_NOTFOUND when none. */
	enum result (*throttle_get)(struct store *, const unsigned char key[32],
				    int64_t *window_start, int *failures, struct err *);
	/* Calls fn for every audit record in order; stops when fn returns
	 * false. */
	enum result (*audit_walk)(struct store *, bool (*fn)(const struct audit_rec *, void *),
				  void *arg, struct err *);

	/* Tickets: scoped like everything else; client users (client_user)
	 * see only tickets they requested unless their organisation allows
	 * all (portal_org_visibility). */
	enum result (*ticket_get)(struct store *, const struct scope *, int64_t id,
				  struct arena *, struct ticket *, struct err *);
	enum result (*ticket_list)(struct store *, const struct scope *, const struct ticket_q *,
				   struct arena *, struct ticket_list *, struct err *);
	/* Open tickets counted per queue, one grouped read, in queue name
	 * order (bytes): the tickets the scope sees, of client_id only unless
	 * 0. At most QUEUE_COUNTS_MAX queues; truncated says there were more.
	 * "breached" reads the clocks as last recorded (ticket_sla), the same
	 * flags a ticket's sla object shows. */
	enum result (*queue_counts)(struct store *, const struct scope *, int64_t client_id,
				    struct arena *, struct queue_counts *, struct err *);
	enum result (*ticket_messages)(struct store *, const struct scope *, int64_t ticket_id,
				       bool with_notes, struct arena *, struct message_list *,
				       struct err *);
	enum result (*ticket_events)(struct store *, const struct scope *, int64_t ticket_id,
				     bool with_internal, struct arena *, struct event_list *,
				     struct err *);
	enum result (*ticket_time)(struct store *, const struct scope *, int64_t ticket_id,
				   struct arena *, struct time_list *, struct err *);
	enum result (*rules_list)(struct store *, struct arena *, struct rule_rows *, struct err *);
	enum result (*esc_rules_list)(struct store *, struct arena *, struct esc_rule_rows *,
				      struct err *);
	/* Open tickets the rule may concern now (the decision is esc_due's),
	 * each with esc_fired_at set. */
	enum result (*esc_candidates)(struct store *, const struct esc_rule_row *, int64_t now,
				      struct arena *, struct ticket_list *, struct err *);
	/* Resolved tickets past their client's auto-close delay. */
	enum result (*autoclose_candidates)(struct store *, int64_t now, struct arena *,
					    struct ticket_list *, struct err *);
	enum result (*contact_by_email)(struct store *, int64_t client_id, const char *email,
					int64_t *id, struct err *);
	enum result (*user_by_email)(struct store *, int64_t client_id, const char *email,
				     int64_t *id, struct err *);
	enum result (*csat_get)(struct store *, int64_t ticket_id, int *rating, struct err *);
	/* Calendars are provider-wide (every scope may read them). */
	enum result (*calendar_get)(struct store *, int64_t id, struct arena *,
				    struct calendar_row *, struct err *);
	enum result (*calendar_list)(struct store *, struct arena *, struct calendar_row **items,
				     size_t *n, struct err *);
	enum result (*sla_policy_get)(struct store *, int64_t id, struct arena *,
				      struct sla_policy_row *, struct err *);
	enum result (*sla_policy_list)(struct store *, struct arena *, struct sla_policy_row **items,
				       size_t *n, struct err *);
	enum result (*contract_get)(struct store *, const struct scope *, int64_t id, struct arena *,
				    struct contract_row *, struct err *);
	enum result (*contract_list)(struct store *, const struct scope *, const struct list_q *,
				     struct arena *, struct contract_row **items, size_t *n,
				     int64_t *next_after, struct err *);
	/* The SLA policy of the client's contract active on day (YYYY-MM-DD;
	 * the latest started), else the default policy; 0 when neither. */
	enum result (*sla_policy_for)(struct store *, int64_t client_id, const char *day,
				      int64_t *policy_id, struct err *);
	/* Tickets whose next SLA timer is due by now (at most max). */
	enum result (*sla_due)(struct store *, int64_t now, size_t max, struct arena *,
			       struct ticket_list *, struct err *);

	/* ---- monitoring ---- */
	enum result (*enroll_token_list)(struct store *, const struct scope *, int64_t client_id,
					 struct arena *, struct enroll_token_row **items, size_t *n,
					 struct err *);
	/* The device of a device token (not scoped: it establishes the
	 * agent's identity). RC_NOTFOUND when none. */
	enum result (*device_auth)(struct store *, const unsigned char hash[32], struct arena *,
				   struct device *, struct err *);
	enum result (*device_get)(struct store *, const struct scope *, int64_t id, struct arena *,
				  struct device *, struct err *);
	/* Devices by id (keyset), of lq->client_id or every client in scope. */
	enum result (*device_list)(struct store *, const struct scope *, const struct list_q *,
				   struct arena *, struct device_list *, struct err *);
	/* Active devices last seen (or, never seen, created) before `before`. */
	enum result (*devices_silent)(struct store *, int64_t before, size_t max, struct arena *,
				      struct device_list *, struct err *);
	/* Every check (the monitor caches them). */
	enum result (*check_list_all)(struct store *, struct arena *, struct check_list *,
				      struct err *);
	enum result (*check_get)(struct store *, const struct scope *, int64_t id, struct arena *,
				 struct check_row *, struct err *);
	/* Checks the scope sees: of client_id (0: any) and the global ones. */
	enum result (*check_list)(struct store *, const struct scope *, int64_t client_id,
				  struct arena *, struct check_list *, struct err *);
	enum result (*alert_get)(struct store *, const struct scope *, int64_t id, struct arena *,
				 struct alert_row *, struct err *);
	enum result (*alert_list)(struct store *, const struct scope *, const struct alert_q *,
				  struct arena *, struct alert_list *, struct err *);
	enum result (*alert_events)(struct store *, const struct scope *, int64_t alert_id,
				    struct arena *, struct alert_event_list *, struct err *);
	/* Alerts that are in a maintenance window (in_maintenance set). */
	enum result (*alerts_in_maintenance)(struct store *, size_t max, struct arena *,
					     struct alert_list *, struct err *);
	/* Pending alert events, oldest first, at most max. */
	enum result (*alert_work)(struct store *, size_t max, struct arena *,
				  struct alert_work_list *, struct err *);
	enum result (*mwindow_get)(struct store *, const struct scope *, int64_t id, struct arena *,
				   struct mwindow_row *, struct err *);
	/* Windows the scope sees, of client_id (0: any). */
	enum result (*mwindow_list)(struct store *, const struct scope *, int64_t client_id,
				    struct arena *, struct mwindow_list *, struct err *);
	enum result (*am_receiver_auth)(struct store *, const unsigned char hash[32], struct arena *,
					struct am_receiver_row *, struct err *);
	enum result (*am_receiver_list)(struct store *, const struct scope *, struct arena *,
					struct am_receiver_row **items, size_t *n, struct err *);
	/* The points of a device's series from step_ms rollups (60000: 1m,
	 * 3600000: 1h), buckets from..now; none for a series the device does
	 * not have. RC_NOTFOUND when the device is not in scope. */
	enum result (*series_points)(struct store *, const struct scope *, int64_t device_id,
				     const char *name, const char *labels, int64_t step_ms,
				     int64_t from, struct arena *, struct series_points *,
				     struct err *);
	/* The device (in client_id) whose hostname is host, without case. */
	enum result (*device_by_host)(struct store *, int64_t client_id, const char *host,
				      int64_t *id, struct err *);
	/* The client named name (exactly), for Alertmanager's labels. */
	enum result (*client_by_name)(struct store *, const char *name, int64_t *id,
				      struct err *);

	/* ---- reports ---- */
	/* The tickets that may concern [lo, hi): created before hi and not
	 * resolved before lo (resolved_at empty or >= lo) or closed since lo,
	 * of client_id (0:
	 * every client the scope sees), by id above after, at most max
	 * (*n < max: the last page). Scoped as ticket reads are. */
	enum result (*report_tickets)(struct store *, const struct scope *, int64_t client_id,
				      int64_t lo, int64_t hi, int64_t after, size_t max,
				      struct arena *, struct report_ticket *items, size_t *n,
				      struct err *);
	/* The CSAT answers given in [lo, hi) (csat.created_at) on the tickets
	 * of client_id (0: every client the scope sees), by ticket id above
	 * after, at most max (*n < max: the last page). Scoped as ticket reads. */
	enum result (*report_csat)(struct store *, const struct scope *, int64_t client_id,
				   int64_t lo, int64_t hi, int64_t after, size_t max,
				   struct arena *, struct report_csat *items, size_t *n,
				   struct err *);
	/* The minutes of the time entries started in [lo, hi) on the tickets
	 * of client_id (0: every client the scope sees), summed by the logging
	 * user's tier (0: none) and billable, by tier then billable (false
	 * first); at most max rows (8 cover every group). Scoped as ticket reads. */
	enum result (*report_hours)(struct store *, const struct scope *, int64_t client_id,
				    int64_t lo, int64_t hi, struct arena *,
				    struct report_hours_row *items, size_t max, size_t *n,
				    struct err *);

	/* The fire, ack and resolve events at or after lo of the alerts that
	 * fired in [lo, hi), of client_id (0: every client the scope sees),
	 * ordered by alert id then event id, after (after_alert, after_id), at
	 * most max (*n < max: the last page). Scoped as alert reads. */
	enum result (*report_alert_events)(struct store *, const struct scope *,
					   int64_t client_id, int64_t lo, int64_t hi,
					   int64_t after_alert, int64_t after_id, size_t max,
					   struct arena *, struct report_alert_ev *items,
					   size_t *n, struct err *);
	/* The devices enrolled before hi of client_id (0: every client the
	 * scope sees) with their up minutes in [lo, hi) (struct
	 * report_device), by id above after, at most max (*n < max: the last
	 * page). Scoped as device reads. */
	enum result (*report_uptime)(struct store *, const struct scope *, int64_t client_id,
				     int64_t lo, int64_t hi, int64_t after, size_t max,
				     struct arena *, struct report_device *items, size_t *n,
				     struct err *);

	/* ---- mail and the outbox (issue 8; not tenant-scoped unless said:
	 * the intake establishes the tenant, the dispatcher works for all,
	 * and the admin routes are the provider's) ---- */
	/* The first of ids (in the order given) that mail_ids knows: *found
	 * its index (-1: none) and *ticket_id its ticket (0: none). */
	enum result (*mail_thread)(struct store *, const char *const *ids, size_t n,
				   int *found, int64_t *ticket_id, struct err *);
	/* The ticket numbered number (any client): its id and client. */
	enum result (*ticket_by_number)(struct store *, int64_t number, int64_t *id,
					int64_t *client_id, struct err *);
	/* The first contact (lowest id) with this e-mail address (without
	 * case) in an active client: its id and client. */
	enum result (*contact_find_email)(struct store *, const char *email, int64_t *id,
					  int64_t *client_id, struct err *);
	/* The active client whose email_domain is domain (without case). */
	enum result (*client_by_domain)(struct store *, const char *domain, int64_t *id,
					struct err *);
	/* Messages logged from sender since `since` (any action). */
	enum result (*inbound_count)(struct store *, const char *sender, int64_t since,
				     int64_t *n, struct err *);
	enum result (*inbound_list)(struct store *, const struct inbound_q *, struct arena *,
				    struct inbound_list *, struct err *);
	/* One log row with its raw message (when kept). */
	enum result (*inbound_get)(struct store *, int64_t id, struct arena *,
				   struct inbound_row *, struct err *);
	/* A ticket's attachments (no data) the scope sees: internal ones
	 * only when with_internal; RC_NOTFOUND when the ticket is not in
	 * scope. */
	enum result (*attachment_list)(struct store *, const struct scope *, int64_t ticket_id,
				       bool with_internal, struct arena *, struct attachment_list *,
				       struct err *);
	/* One attachment with its data, when the scope sees its ticket (and,
	 * internal, with_internal); else RC_NOTFOUND. */
	enum result (*attachment_get)(struct store *, const struct scope *, int64_t id,
				      bool with_internal, struct arena *, struct attachment_row *,
				      struct err *);
	/* The route of a recipient address (lower-case); RC_NOTFOUND: none. */
	enum result (*mail_route_find)(struct store *, const char *address, struct arena *,
				       struct mail_route_row *, struct err *);
	enum result (*mail_route_list)(struct store *, struct arena *, struct mail_route_row **items,
				       size_t *n, struct err *);
	/* An override (RC_NOTFOUND: the built-in text applies). */
	enum result (*template_get)(struct store *, const char *key, struct arena *,
				    struct template_row *, struct err *);
	enum result (*template_list)(struct store *, struct arena *, struct template_row **items,
				     size_t *n, struct err *);
	enum result (*webhook_get)(struct store *, int64_t id, struct arena *, struct webhook_row *,
				   struct err *);
	/* Every webhook (active or not), by id. */
	enum result (*webhook_list)(struct store *, struct arena *, struct webhook_row **items,
				    size_t *n, struct err *);
	/* Pending outbox rows, the earliest due first (next_attempt_at, then
	 * id: rows put back by W_OUTBOX_DEFER come after those due), at
	 * most max; the caller skips the ones not due yet. */
	enum result (*outbox_pending)(struct store *, size_t max, struct arena *,
				      struct outbox_list *, struct err *);
	/* Pending deliveries due by now, oldest due first, with body, at most
	 * max; of channel only ("email", "webhook"; NULL: both). With
	 * max_bytes (0: no limit), a delivery after the first is left for
	 * the next read once the bodies before it reach max_bytes together
	 * (review packs are megabytes each: a batch of them stays bounded). */
	enum result (*deliveries_due)(struct store *, int64_t now, const char *channel, size_t max,
				      size_t max_bytes, struct arena *, struct delivery_list *,
				      struct err *);
	/* Deliveries newest first (keyset on id), without body. */
	enum result (*delivery_list)(struct store *, const struct delivery_q *, struct arena *,
				     struct delivery_list *, struct err *);
	/* One delivery with its body. */
	enum result (*delivery_get)(struct store *, int64_t id, struct arena *,
				    struct delivery_row *, struct err *);

	/* ---- history import (docs/IMPORT.md) ---- */
	/* found[i] for each i < n: IMPORT_EXTERNAL_ID: a ticket of client
	 * clients[i] has the external id keys[i]; IMPORT_CONTACT_EMAIL: a
	 * contact of client clients[i] has the address keys[i] (without case).
	 * Scoped as ticket reads: another tenant's is not found. */
	enum result (*import_lookup)(struct store *, const struct scope *, enum import_key kind,
				     const int64_t *clients, const char *const *keys, size_t n,
				     bool *found, struct err *);

	/* ---- report schedules (0009; scoped: another client's is
	 * RC_NOTFOUND; only an all-tenant scope writes them) ---- */
	enum result (*schedule_get)(struct store *, const struct scope *, int64_t id,
				    struct arena *, struct report_schedule *, struct err *);
	/* By id (keyset: lq->after, lq->limit), of lq->client_id (0: every
	 * client in scope). */
	enum result (*schedule_list)(struct store *, const struct scope *, const struct list_q *,
				     struct arena *, struct report_schedule_list *, struct err *);
	/* Enabled schedules whose next_at <= now, soonest first, at most max
	 * (the job's; not scoped). */
	enum result (*schedules_due)(struct store *, int64_t now, size_t max, struct arena *,
				     struct report_schedule_list *, struct err *);
};

struct store {
	const struct store_ops *ops;
};

/* Opens target: a PostgreSQL URL (postgres:// or postgresql://) or a
 * SQLite file path. create: make it (and apply migrations) if it does not
 * exist (on PostgreSQL: the database must not hold the schema yet);
 * otherwise it must exist (PostgreSQL applies any newer migrations, once
 * however many servers start together). */
enum result store_open(struct store **out, const char *target, bool create,
		       struct err *e);
void store_close(struct store *st);
/* Whether target names a PostgreSQL database. */
bool store_is_pg(const char *target);

/* Hands w to the store; w->done(w) is called once it is committed or has
 * failed. w must stay valid until then. */
void store_submit(struct store *st, struct store_write *w);
/* Submits and waits; returns w->rc. w->done must be NULL. */
enum result store_write_sync(struct store *st, struct store_write *w);

void store_write_init(struct store_write *w, enum store_wkind kind,
		      const struct scope *scope);

/* The backends' part: the audit records a successful write w appends (0
 * when w->audit.action is NULL): one, w->audit; W_TICKET_IMPORT one a
 * client of its import (struct import_write). Record i into *out, its
 * detail formatted into buf (n bytes) when it needs one. */
size_t store_audit_records(const struct store_write *w);
void store_audit_record(const struct store_write *w, size_t i, struct audit_in *out, char *buf,
			size_t n);

#define store_client_get(st, ...) ((st)->ops->client_get((st), __VA_ARGS__))
#define store_client_list(st, ...) ((st)->ops->client_list((st), __VA_ARGS__))
#define store_contact_get(st, ...) ((st)->ops->contact_get((st), __VA_ARGS__))
#define store_contact_list(st, ...) ((st)->ops->contact_list((st), __VA_ARGS__))
#define store_user_get(st, ...) ((st)->ops->user_get((st), __VA_ARGS__))
#define store_user_list(st, ...) ((st)->ops->user_list((st), __VA_ARGS__))
#define store_user_auth(st, ...) ((st)->ops->user_auth((st), __VA_ARGS__))
#define store_user_auth_by_id(st, ...) ((st)->ops->user_auth_by_id((st), __VA_ARGS__))
#define store_session_get(st, ...) ((st)->ops->session_get((st), __VA_ARGS__))
#define store_token_get(st, ...) ((st)->ops->token_get((st), __VA_ARGS__))
#define store_setting_get(st, ...) ((st)->ops->setting_get((st), __VA_ARGS__))
#define store_throttle_get(st, ...) ((st)->ops->throttle_get((st), __VA_ARGS__))
#define store_audit_walk(st, ...) ((st)->ops->audit_walk((st), __VA_ARGS__))
#define store_stats(st, out) ((st)->ops->stats((st), (out)))
#define store_read_begin(st) ((st)->ops->read_begin((st)))
#define store_read_end(st) ((st)->ops->read_end((st)))
#define store_read_fresh_begin(st) ((st)->ops->read_fresh_begin((st)))
#define store_read_fresh_end(st) ((st)->ops->read_fresh_end((st)))
#define store_lead(st) ((st)->ops->lead ? (st)->ops->lead((st)) : true)
#define store_sla_generation(st, ...) ((st)->ops->sla_generation((st), __VA_ARGS__))
#define store_ticket_get(st, ...) ((st)->ops->ticket_get((st), __VA_ARGS__))
#define store_ticket_list(st, ...) ((st)->ops->ticket_list((st), __VA_ARGS__))
#define store_queue_counts(st, ...) ((st)->ops->queue_counts((st), __VA_ARGS__))
#define store_ticket_messages(st, ...) ((st)->ops->ticket_messages((st), __VA_ARGS__))
#define store_ticket_events(st, ...) ((st)->ops->ticket_events((st), __VA_ARGS__))
#define store_ticket_time(st, ...) ((st)->ops->ticket_time((st), __VA_ARGS__))
#define store_rules_list(st, ...) ((st)->ops->rules_list((st), __VA_ARGS__))
#define store_esc_rules_list(st, ...) ((st)->ops->esc_rules_list((st), __VA_ARGS__))
#define store_esc_candidates(st, ...) ((st)->ops->esc_candidates((st), __VA_ARGS__))
#define store_autoclose_candidates(st, ...) ((st)->ops->autoclose_candidates((st), __VA_ARGS__))
#define store_contact_by_email(st, ...) ((st)->ops->contact_by_email((st), __VA_ARGS__))
#define store_user_by_email(st, ...) ((st)->ops->user_by_email((st), __VA_ARGS__))
#define store_csat_get(st, ...) ((st)->ops->csat_get((st), __VA_ARGS__))
#define store_calendar_get(st, ...) ((st)->ops->calendar_get((st), __VA_ARGS__))
#define store_calendar_list(st, ...) ((st)->ops->calendar_list((st), __VA_ARGS__))
#define store_sla_policy_get(st, ...) ((st)->ops->sla_policy_get((st), __VA_ARGS__))
#define store_sla_policy_list(st, ...) ((st)->ops->sla_policy_list((st), __VA_ARGS__))
#define store_contract_get(st, ...) ((st)->ops->contract_get((st), __VA_ARGS__))
#define store_contract_list(st, ...) ((st)->ops->contract_list((st), __VA_ARGS__))
#define store_sla_policy_for(st, ...) ((st)->ops->sla_policy_for((st), __VA_ARGS__))
#define store_sla_due(st, ...) ((st)->ops->sla_due((st), __VA_ARGS__))

#define store_enroll_token_list(st, ...) ((st)->ops->enroll_token_list((st), __VA_ARGS__))
#define store_device_auth(st, ...) ((st)->ops->device_auth((st), __VA_ARGS__))
#define store_device_get(st, ...) ((st)->ops->device_get((st), __VA_ARGS__))
#define store_device_list(st, ...) ((st)->ops->device_list((st), __VA_ARGS__))
#define store_devices_silent(st, ...) ((st)->ops->devices_silent((st), __VA_ARGS__))
#define store_check_list_all(st, ...) ((st)->ops->check_list_all((st), __VA_ARGS__))
#define store_check_get(st, ...) ((st)->ops->check_get((st), __VA_ARGS__))
#define store_check_list(st, ...) ((st)->ops->check_list((st), __VA_ARGS__))
#define store_alert_get(st, ...) ((st)->ops->alert_get((st), __VA_ARGS__))
#define store_alert_list(st, ...) ((st)->ops->alert_list((st), __VA_ARGS__))
#define store_alert_events(st, ...) ((st)->ops->alert_events((st), __VA_ARGS__))
#define store_alerts_in_maintenance(st, ...) ((st)->ops->alerts_in_maintenance((st), __VA_ARGS__))
#define store_alert_work(st, ...) ((st)->ops->alert_work((st), __VA_ARGS__))
#define store_mwindow_get(st, ...) ((st)->ops->mwindow_get((st), __VA_ARGS__))
#define store_mwindow_list(st, ...) ((st)->ops->mwindow_list((st), __VA_ARGS__))
#define store_am_receiver_auth(st, ...) ((st)->ops->am_receiver_auth((st), __VA_ARGS__))
#define store_am_receiver_list(st, ...) ((st)->ops->am_receiver_list((st), __VA_ARGS__))
#define store_series_points(st, ...) ((st)->ops->series_points((st), __VA_ARGS__))
#define store_device_by_host(st, ...) ((st)->ops->device_by_host((st), __VA_ARGS__))
#define store_client_by_name(st, ...) ((st)->ops->client_by_name((st), __VA_ARGS__))

#define store_report_tickets(st, ...) ((st)->ops->report_tickets((st), __VA_ARGS__))
#define store_report_csat(st, ...) ((st)->ops->report_csat((st), __VA_ARGS__))
#define store_report_hours(st, ...) ((st)->ops->report_hours((st), __VA_ARGS__))
#define store_report_alert_events(st, ...) ((st)->ops->report_alert_events((st), __VA_ARGS__))
#define store_report_uptime(st, ...) ((st)->ops->report_uptime((st), __VA_ARGS__))
#define store_mail_thread(st, ...) ((st)->ops->mail_thread((st), __VA_ARGS__))
#define store_ticket_by_number(st, ...) ((st)->ops->ticket_by_number((st), __VA_ARGS__))
#define store_contact_find_email(st, ...) ((st)->ops->contact_find_email((st), __VA_ARGS__))
#define store_client_by_domain(st, ...) ((st)->ops->client_by_domain((st), __VA_ARGS__))
#define store_inbound_count(st, ...) ((st)->ops->inbound_count((st), __VA_ARGS__))
#define store_inbound_list(st, ...) ((st)->ops->inbound_list((st), __VA_ARGS__))
#define store_inbound_get(st, ...) ((st)->ops->inbound_get((st), __VA_ARGS__))
#define store_attachment_list(st, ...) ((st)->ops->attachment_list((st), __VA_ARGS__))
#define store_attachment_get(st, ...) ((st)->ops->attachment_get((st), __VA_ARGS__))
#define store_mail_route_find(st, ...) ((st)->ops->mail_route_find((st), __VA_ARGS__))
#define store_mail_route_list(st, ...) ((st)->ops->mail_route_list((st), __VA_ARGS__))
#define store_template_get(st, ...) ((st)->ops->template_get((st), __VA_ARGS__))
#define store_template_list(st, ...) ((st)->ops->template_list((st), __VA_ARGS__))
#define store_webhook_get(st, ...) ((st)->ops->webhook_get((st), __VA_ARGS__))
#define store_webhook_list(st, ...) ((st)->ops->webhook_list((st), __VA_ARGS__))
#define store_outbox_pending(st, ...) ((st)->ops->outbox_pending((st), __VA_ARGS__))
#define store_deliveries_due(st, ...) ((st)->ops->deliveries_due((st), __VA_ARGS__))
#define store_delivery_list(st, ...) ((st)->ops->delivery_list((st), __VA_ARGS__))
#define store_delivery_get(st, ...) ((st)->ops->delivery_get((st), __VA_ARGS__))
#define store_import_lookup(st, ...) ((st)->ops->import_lookup((st), __VA_ARGS__))
#define store_schedule_get(st, ...) ((st)->ops->schedule_get((st), __VA_ARGS__))
#define store_schedule_list(st, ...) ((st)->ops->schedule_list((st), __VA_ARGS__))
#define store_schedules_due(st, ...) ((st)->ops->schedules_due((st), __VA_ARGS__))

/* Setting names. */
#define SETTING_MFA_REQUIRED "mfa_required_for_staff"
#define SETTING_SIGNING_KEY "signing_key"   /* HMAC key for CSAT links */
#define SETTING_MAIL "mail"                 /* JSON: the intake's policy (api_mail.c) */

#endif
