/*
 * ticket.h: the ticket domain. Pure functions only: no I/O, no store, no
 * clock reads (instants are passed in). The store persists what these
 * decide; the handlers glue the two (DESIGN.md section 3).
 *
 * Lifecycle (ticket_transition_ok() is the one table of allowed moves):
 *
 *            +--------------------------------------------+
 *            v                                            |
 *   new --> open <--> pending_customer                    |
 *    |       ^  \ <--> pending_vendor   (escalate to a vendor)
 *    |       |   \<--> on_hold                            |
 *    |       |    \                                       |
 *    +-------+-----> resolved --(client reply, reopen)----+
 *                       |
 *                       +--> closed  (final; a client reply to a closed
 *                                     ticket opens a new linked ticket)
 *
 *   Every non-final status may go to resolved; the pending states and
 *   on_hold may move between each other; resolved may go back to open
 *   (reopen) or on to closed. Anything else is RC_CONFLICT with a reason.
 *
 * Invariants
 *  1. resolved_at is set iff status is resolved or closed; closed_at iff
 *     closed.
 *  2. first_response_at is set once, by the first public reply by staff,
 *     and never changes after.
 *  3. fcr is null while the ticket was never resolved; it is decided at
 *     each resolution by fcr_decide(); a reopen within FCR_REOPEN_DAYS of
 *     resolution makes it false for good.
 *  4. tier is 1..3; a vendor escalation keeps the tier and sets vendor.
 */
#ifndef ITSUP_TICKET_H
#define ITSUP_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum tstatus { TS_NEW, TS_OPEN, TS_PENDING_CUSTOMER, TS_PENDING_VENDOR, TS_ON_HOLD,
	       TS_RESOLVED, TS_CLOSED, TS_COUNT };
enum ttype { TT_INCIDENT, TT_SERVICE_REQUEST, TT_PROBLEM, TT_CHANGE, TT_COUNT };
enum level { LV_LOW, LV_MEDIUM, LV_HIGH, LV_COUNT };
enum prio { PR_P1, PR_P2, PR_P3, PR_P4, PR_COUNT };
enum channel { CH_PORTAL, CH_API, CH_EMAIL, CH_PHONE, CH_MONITORING, CH_COUNT };

extern const char *const tstatus_names[TS_COUNT + 1];
extern const char *const ttype_names[TT_COUNT + 1];
extern const char *const level_names[LV_COUNT + 1];
extern const char *const prio_names[PR_COUNT + 1];
extern const char *const channel_names[CH_COUNT + 1];

/* Index of s in a NULL-terminated names table, or -1. */
int name_index(const char *const *names, const char *s);

/* ---- lifecycle ------------------------------------------------------------ */

/* Whether from -> to is allowed; when not, *why says why. */
bool ticket_transition_ok(enum tstatus from, enum tstatus to, const char **why);
bool tstatus_is_open(enum tstatus s);       /* not resolved, not closed */

/* ---- priority ---------------------------------------------------------------- */

/* matrix[impact][urgency] */
struct prio_matrix {
	enum prio m[LV_COUNT][LV_COUNT];
};

extern const struct prio_matrix prio_matrix_default;
enum prio priority_of(const struct prio_matrix *m, enum level impact, enum level urgency);
/* Parses {"high": {"high": "P1", "medium": "P2", "low": "P3"}, "medium": {...},
 * "low": {...}} (every cell required). On failure *field names the cell. */
bool prio_matrix_parse(const char *json, struct prio_matrix *out, char *field, size_t fieldsz);
/* The canonical JSON of m into out. */
void prio_matrix_format(const struct prio_matrix *m, char *out, size_t outsz);

/* ---- first-contact resolution ------------------------------------------------------ */

#define FCR_REOPEN_DAYS 7

struct fcr_facts {
	int resolved_tier;
	int64_t resolved_by, first_handler;
	int escalations;     /* to a higher tier or a vendor, ever */
	int tier_changes;    /* any tier move, including de-escalation */
	int reopens;
};

/* The FCR verdict at a resolution, with its reason ("resolved at tier 1 by
 * the first handler, no escalation" or what broke it). */
bool fcr_decide(const struct fcr_facts *f, const char **reason);

/* ---- triage rules ------------------------------------------------------------------ */

enum rule_field { RF_CHANNEL, RF_CLIENT, RF_REQUESTER, RF_TYPE, RF_CATEGORY, RF_TEXT,
		  RF_PRIORITY, RF_DEVICE, RF_COUNT };
enum rule_op { RO_EQ, RO_NEQ, RO_IN, RO_WORD, RO_EXISTS, RO_COUNT };

#define RULE_MAX_VALUES 16
#define RULE_MAX_CONDS 16
#define RULE_MAX_TAGS 8

struct rule_cond {
	enum rule_field field;
	enum rule_op op;
	int nvalues;
	const char *values[RULE_MAX_VALUES]; /* strings (fields other than ids) */
	int64_t ids[RULE_MAX_VALUES];        /* client_id, requester_contact_id */
	bool want;                           /* exists: true/false */
};

struct rule_actions {
	const char *queue, *category, *note;
	int tier;              /* 0: unchanged */
	int priority;          /* -1: unchanged, else enum prio */
	int64_t assignee_id;   /* 0: unchanged */
	int ntags;
	const char *tags[RULE_MAX_TAGS];
};

struct rule {
	int64_t id;
	const char *name;
	bool on_create, on_update, stop;
	int nconds;
	struct rule_cond conds[RULE_MAX_CONDS];
	struct rule_actions act;
};

/* What rules look at. */
struct rule_input {
	enum channel channel;
	int64_t client_id, requester_contact_id, device_id;
	enum ttype type;
	const char *category;     /* may be NULL */
	const char *subject, *description;
	enum prio priority;
};

/* Compiles a rule's JSON conditions and actions (arrays/objects as sent
 * to the API) into r; strings point into the parsed JSON (the caller keeps
 * it alive). On failure e names the field, e.g. conditions[2].op. */
struct json_t;
enum result rule_compile(struct json_t *conditions, struct json_t *actions,
			 struct rule *r, struct err *e);

/* One line of the dry-run trace per condition. */
struct rule_trace {
	int64_t rule_id;
	bool matched;
	int failed_cond;      /* -1 when matched */
	char why[256];
};

/* Evaluates rules in order for a create (on_create) or an update; applies
 * the actions of every matching rule to *out (later rules win, tags
 * accumulate, stop ends the run). trace (may be NULL) gets one entry per
 * rule considered. Returns the number of rules that matched. */
int triage_eval(const struct rule *rules, size_t n, bool creating,
		const struct rule_input *in, struct rule_actions *out,
		struct rule_trace *trace, size_t *ntrace);

/* Case-insensitive whole-word match of word in text (ASCII letters and
 * digits form words; other bytes separate them). */
bool text_has_word(const char *text, const char *word);

/* ---- rule-driven escalation ------------------------------------------------------------ */

enum esc_kind { EK_NO_UPDATE, EK_UNASSIGNED, EK_COUNT };
extern const char *const esc_kind_names[EK_COUNT + 1];

struct esc_rule {
	int64_t id;
	enum esc_kind kind;
	int64_t minutes;
	int priority;         /* -1: any, else enum prio */
	int raise_to_tier;    /* 0: do not raise */
	bool notify;
};

struct esc_facts {
	enum tstatus status;
	enum prio priority;
	int tier;
	int64_t assignee_id;
	int64_t last_activity_at, created_at;
	int64_t fired_at;     /* when this rule last fired for the ticket, 0 never */
};

/* Whether the rule fires now for the ticket: its condition has held for
 * the rule's minutes and it has not fired since the ticket last changed. */
bool esc_due(const struct esc_rule *r, const struct esc_facts *t, int64_t now);

/* ---- changes: what a status move, a reply or an escalation does -------------------------
 * These work on the few fields they need (struct ticket_state), so they
 * stay pure and testable; the handlers copy them to and from the stored
 * ticket. */

struct ticket_state {
	enum tstatus status;
	int tier;
	int64_t assignee_id;
	int64_t first_response_at, resolved_at, closed_at;
	int64_t first_handler_id, resolved_by;
	int resolved_tier, escalations, tier_changes, reopens, early_reopens;
	int fcr;                   /* -1 undecided, 0, 1 */
	const char *fcr_reason;
	const char *vendor;
};

struct status_effects {
	bool resolved, reopened, closed, fcr_decided;
};

/* Moves s to status "to" at now, by actor (0: the system). Fills fx. */
enum result ticket_set_status(struct ticket_state *s, enum tstatus to, int64_t actor,
			      int64_t now, struct status_effects *fx, struct err *e);

/* A staff member handled the ticket (assigned, replied): the first one is
 * remembered for the FCR rule. */
void ticket_handled_by(struct ticket_state *s, int64_t staff_id);

enum reply_outcome {
	REPLY_ADDED,       /* added to the ticket */
	REPLY_NEW_TICKET,  /* the ticket is closed: open a new, linked one */
};

/* A public reply by staff (staff=true) or by the client side at now.
 * Staff: sets first_response_at once, new -> open. Client: waiting on the
 * customer -> open; resolved -> reopened; closed -> REPLY_NEW_TICKET. */
enum reply_outcome ticket_on_reply(struct ticket_state *s, bool staff, int64_t actor,
				   int64_t now, struct status_effects *fx);

/* Escalation to a tier (to_tier 1..3, vendor NULL) or to a vendor
 * (to_tier 0). A higher tier or a vendor counts as an escalation, a lower
 * tier as a de-escalation; both count as tier changes; a tier move clears
 * the assignee. RC_CONFLICT when nothing would change or the status does
 * not allow it. */
enum result ticket_escalate(struct ticket_state *s, int to_tier, const char *vendor,
			    int64_t now, bool *deescalation, struct err *e);

#endif
