/*
 * http.h: the HTTP layer's contract with its handlers (api_*.c).
 *
 * A request flows (DESIGN.md section 3):
 *   libmicrohttpd thread -> body collected under a ceiling -> route table
 *   (method, pattern, handler, permission) -> auth middleware builds the
 *   scope (session cookie + CSRF header, or Bearer token) -> handler:
 *   parse and validate JSON -> pure decision -> store call with the scope.
 *
 * Handlers are plain functions of struct req. A read answers at once with
 * req_json()/req_problem(). A write fills r->w and calls req_write(r,
 * then): the connection is suspended (its thread serves others), the store
 * commits the write with others (group commit), and then(r) runs on a
 * libmicrohttpd thread to answer. then may start another write.
 *
 * Everything a request allocates comes from r->a, freed once when the
 * request completes.
 */
#ifndef ITSUP_HTTP_H
#define ITSUP_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/scope.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/config.h"
#include "store/store.h"

struct req;
struct server;

typedef void (*handler_fn)(struct req *r);

enum perm {
	P_PUBLIC,     /* no login */
	P_ENROL,      /* any login, even one that still has to enrol MFA */
	P_USER,       /* any login that passed MFA */
	P_STAFF,      /* admin, dispatcher, technician */
	P_DISPATCH,   /* admin, dispatcher */
	P_ADMIN,      /* admin */
};

struct route {
	const char *method;
	const char *pattern;   /* "/api/v1/clients/{id}/contacts" */
	handler_fn fn;
	enum perm perm;
	bool json_body;        /* expects a JSON object body */
	bool idempotent;       /* accepts Idempotency-Key */
	bool test_only;        /* exists only with --test-clock */
};

#define REQ_MAX_PARAMS 4
/* The mail intake's path: its body ceiling is mail_max_bytes. */
#define MAIL_INBOUND_PATH "/api/v1/mail/inbound"
/* The history import's path: its body ceiling is import_max_bytes. */
#define IMPORT_TICKETS_PATH "/api/v1/import/tickets"
#define REQ_MAX_HEADERS 8

struct req {
	struct server *srv;
	struct MHD_Connection *conn;
	struct arena *a;
	const char *method, *url;
	char addr[64];
	int64_t t0_ns;

	struct buf body;
	bool body_too_big;
	bool discard_body;              /* not kept: the caller may not post it */
	json_t *json;                   /* parsed body (route.json_body) */

	const struct route *route;
	int route_idx;                  /* -1: no route */
	int64_t params[REQ_MAX_PARAMS]; /* {id} values in order */

	bool authed, via_cookie;
	struct scope scope;
	unsigned char session_hash[32];
	struct session session;

	/* the answer */
	int status;
	char *out;
	size_t out_len;
	const char *ctype;
	struct { const char *name, *value; } hdrs[REQ_MAX_HEADERS];
	int nhdrs;

	void *ctx;                      /* the handler's own state */

	/* a write in progress */
	struct store_write w;
	handler_fn then;
	int state;
};

struct server {
	struct config cfg;
	struct store *store;
	struct MHD_Daemon *d;
	char bound[160];       /* the address actually listened on */
	int inflight;         /* writes submitted and not yet resumed */
};

/* ---- server ------------------------------------------------------------ */

enum result server_start(struct server *s, struct err *e);
void server_stop(struct server *s);

/* The route table (routes.c) and its size. */
extern const struct route routes[];
extern const size_t routes_count;

/* Pure: matches path against pattern, filling params (at most max).
 * Returns the number of params, or -1 when it does not match. */
int route_match(const char *pattern, const char *path, int64_t *params, int max);

/* ---- answering ---------------------------------------------------------- */

/* Answers status with the JSON value (steals the reference). */
void req_json(struct req *r, int status, json_t *v);
void req_text(struct req *r, int status, const char *ctype, const char *text, size_t len);
void req_header(struct req *r, const char *name, const char *value);
/* RFC 9457 problem+json. type is a short slug ("validation", "not-found")
 * appended to the project's problem URI base. */
void req_problem(struct req *r, int status, const char *slug, const char *title,
		 const char *detail);
/* 400 with errors: [{field, message}] (steals errs). */
void req_invalid(struct req *r, json_t *errs);
/* Answers a failed result the standard way (one mapping, result_status). */
void req_fail(struct req *r, enum result rc, const struct err *e);
int result_status(enum result rc);

/* Records a permission denial in the audit log, then answers 403. */
void req_deny(struct req *r, const char *why);

/* A then-handler: 204 when the write committed, else its failure. */
void req_written_204(struct req *r);
/* Submits r->w; then(r) answers once it is committed. */
void req_write(struct req *r, handler_fn then);
/* Prepares r->w for kind with the caller's scope, address and audit action. */
void req_write_init(struct req *r, enum store_wkind kind, const char *action,
		    const char *object_type);

/* ---- request helpers ------------------------------------------------------ */

const char *req_query(struct req *r, const char *name);
const char *req_header_in(struct req *r, const char *name);
/* Parses limit/cursor into q; answers 400 and returns false when bad. */
bool req_page(struct req *r, struct list_q *q);
/* Parses If-Match ("v<version>" quoted) into *version (0 when absent);
 * answers 400 and returns false when malformed. */
bool req_if_match(struct req *r, int64_t *version);
/* Sets ETag from a version. */
void req_etag(struct req *r, int64_t version);
/* Adds {items, next_cursor} paging fields. */
json_t *page_json(json_t *items, int64_t next_after);
/* Fills r->w.idem_key/fp from the Idempotency-Key header; false (answered)
 * when malformed. */
bool req_idempotency(struct req *r);

/* RFC 3339 string or JSON null for 0. */
json_t *json_instant(int64_t ms);
json_t *json_str_or_null(const char *s);

/* ---- the browser UI (web.c) --------------------------------------------- */
/* Answers GET / and GET /ui/NAME from the embedded web/ files; false when
 * path is not the UI's. */
bool web_serve(struct req *r, const char *path);
struct embedded_file;
const struct embedded_file *web_asset(const char *name);

/* ---- metrics (metrics.c) ------------------------------------------------- */

void metrics_init(size_t nroutes);
void metrics_record(int route_idx, int status, int64_t ns);
/* A check-in stored: duplicate batch or not, samples and alert events. */
void metrics_monitor(bool duplicate, uint64_t samples, uint64_t events);
/* Prometheus text exposition into out. */
void metrics_render(struct server *s, struct buf *out);

/* ---- handlers ------------------------------------------------------------- */

void h_healthz(struct req *r);
void h_readyz(struct req *r);
void h_metrics(struct req *r);
void h_openapi(struct req *r);
void h_settings_get(struct req *r);
void h_settings_patch(struct req *r);

void h_login(struct req *r);
void h_logout(struct req *r);
void h_me(struct req *r);
void h_token_create(struct req *r);
void h_totp_enrol(struct req *r);
void h_totp_confirm(struct req *r);

void h_client_create(struct req *r);
void h_client_list(struct req *r);
void h_client_get(struct req *r);
void h_client_patch(struct req *r);
void h_contact_create(struct req *r);
void h_contact_list(struct req *r);
void h_contact_search(struct req *r);
void h_contact_get(struct req *r);
void h_contact_patch(struct req *r);

void h_user_create(struct req *r);
void h_user_list(struct req *r);
void h_user_get(struct req *r);
void h_user_patch(struct req *r);

/* The MFA policy for provider staff (settings; on unless turned off). */
bool settings_mfa_required(struct req *r);

void h_ticket_create(struct req *r);
void h_ticket_list(struct req *r);
void h_queue_counts(struct req *r);
void h_ticket_bulk(struct req *r);
void h_ticket_get(struct req *r);
void h_ticket_patch(struct req *r);
void h_message_create(struct req *r);
void h_message_list(struct req *r);
void h_ticket_escalate(struct req *r);
void h_time_create(struct req *r);
void h_time_list(struct req *r);
void h_timeline(struct req *r);
void h_csat_get(struct req *r);
void h_csat_post(struct req *r);

void h_rule_create(struct req *r);
void h_rule_list(struct req *r);
void h_rule_get(struct req *r);
void h_rule_patch(struct req *r);
void h_rule_delete(struct req *r);
void h_rule_dry_run(struct req *r);
void h_esc_rule_create(struct req *r);
void h_esc_rule_list(struct req *r);
void h_esc_rule_patch(struct req *r);
void h_esc_rule_delete(struct req *r);
void h_test_clock(struct req *r);

void h_calendar_create(struct req *r);
void h_calendar_list(struct req *r);
void h_calendar_get(struct req *r);
void h_calendar_business_time(struct req *r);
void h_calendar_add(struct req *r);
void h_calendar_patch(struct req *r);
void h_calendar_import(struct req *r);
void h_policy_create(struct req *r);
void h_policy_list(struct req *r);
void h_policy_get(struct req *r);
void h_policy_patch(struct req *r);
void h_policy_simulate(struct req *r);
void h_enroll_token_create(struct req *r);
void h_enroll_token_list(struct req *r);
void h_enroll_token_revoke(struct req *r);
void h_amr_create_client(struct req *r);
void h_amr_create(struct req *r);
void h_amr_list(struct req *r);
void h_amr_delete(struct req *r);
void h_agent_enroll(struct req *r);
void h_agent_checkin(struct req *r);
void h_alertmanager(struct req *r);
void h_device_list(struct req *r);
void h_device_get(struct req *r);
void h_device_patch(struct req *r);
void h_device_series(struct req *r);
void h_device_chart(struct req *r);
void h_check_create(struct req *r);
void h_check_list(struct req *r);
void h_check_get(struct req *r);
void h_check_patch(struct req *r);
void h_check_delete(struct req *r);
void h_alert_list(struct req *r);
void h_alert_get(struct req *r);
void h_alert_ack(struct req *r);
void h_mwindow_create(struct req *r);
void h_mwindow_list(struct req *r);
void h_mwindow_get(struct req *r);
void h_mwindow_patch(struct req *r);
void h_mwindow_delete(struct req *r);
void h_contract_create(struct req *r);
void h_contract_list(struct req *r);
void h_contract_get(struct req *r);
void h_contract_patch(struct req *r);
void h_mail_inbound(struct req *r);
void h_mail_inbound_list(struct req *r);
void h_mail_inbound_get(struct req *r);
void h_mail_inbound_file(struct req *r);
void h_mail_settings_get(struct req *r);
void h_mail_settings_patch(struct req *r);
void h_mail_route_list(struct req *r);
void h_mail_route_create(struct req *r);
void h_mail_route_delete(struct req *r);
void h_template_list(struct req *r);
void h_template_get(struct req *r);
void h_template_put(struct req *r);
void h_template_delete(struct req *r);
void h_attachment_list(struct req *r);
void h_attachment_get(struct req *r);
void h_ticket_deliveries(struct req *r);
void h_webhook_create(struct req *r);
void h_webhook_list(struct req *r);
void h_webhook_get(struct req *r);
void h_webhook_patch(struct req *r);
void h_webhook_delete(struct req *r);
void h_webhook_deliveries(struct req *r);
void h_delivery_list(struct req *r);
void h_delivery_get(struct req *r);
void h_delivery_retry(struct req *r);
void h_report_sla_review(struct req *r);
void h_dashboard(struct req *r);
void h_schedule_list(struct req *r);
void h_schedule_create(struct req *r);
void h_schedule_get(struct req *r);
void h_schedule_patch(struct req *r);
void h_schedule_delete(struct req *r);
void h_schedule_send(struct req *r);
void h_import_tickets(struct req *r);
/* Whether a write failed only because calendars or SLA policies changed
 * while it was being prepared (the store's "sla_generation" check): the
 * caller prepares it again. */
bool sla_gen_stale(const struct store_write *w);
#define SLA_GEN_RETRIES 16
/* A ticket's "sla" object (null without a policy); staff see tier clocks. */
json_t *sla_json(const struct ticket *t, bool staff);
/* The clock segments of a ticket's SLA up to now (api_sla.c). */
json_t *sla_segments_json(struct req *r, const struct ticket *t, int64_t now);

/* A client's impact x urgency matrix (its own, else the default). */
struct prio_matrix;
void tickets_matrix_of(struct req *r, int64_t client_id, struct prio_matrix *m);

/* The triage rule set changed: the next ticket recompiles it. */
void tickets_rules_changed(void);

/* Runs every due timer (escalation rules, auto-close) at now; returns how
 * many tickets changed (jobs.c). */
/* leader: false when another server holds the background work (nothing ran). */
struct jobs_result { int escalated, closed, sla; bool leader; int monitor_tickets, offline; };
struct jobs_result jobs_run_once(struct server *s, int64_t now);
enum result jobs_start(struct server *s, struct err *e);
void jobs_stop(struct server *s);

/* Wakes the scheduler now (monitoring's pending alert work). */
void jobs_kick(void);

/* The ticket machinery for the scheduler (api_tickets.c): r stands in for
 * a request (srv, a and a system scope). prepare_new runs the triage rules
 * on tw->t (filled by the caller), adds the "created" outbox row and the
 * SLA clocks; prepare_status moves the status with its events (false when
 * the move is not allowed); prepare_change keeps the SLA clocks current
 * for any change. */
void tickets_prepare_new(struct req *r, struct ticket_write *tw, int64_t now);
bool tickets_prepare_status(struct req *r, const struct ticket *old, struct ticket_write *tw,
			    enum tstatus to, const char *why, int64_t now);
void tickets_prepare_event(struct req *r, struct ticket_write *tw, const char *kind, bool internal,
			   json_t *data);
void tickets_prepare_change(struct req *r, const struct ticket *old, struct ticket_write *tw,
			    int64_t now);
/* Adds an outbox row (payload gets ticket_id and number; steals it). */
void tickets_prepare_outbox(struct req *r, struct ticket_write *tw, const char *event, json_t *payload);
/* A reply on old (api_tickets.c has the rules): its status moves and
 * outbox row (MR_OK); a client's reply to a closed ticket makes tw->t a
 * new ticket linked to it (MR_SPAWNED); staff replies to a closed one
 * are refused (MR_CLOSED, tw unchanged). */
enum mail_reply { MR_OK, MR_SPAWNED, MR_CLOSED };
enum mail_reply tickets_prepare_reply(struct req *r, const struct ticket *old,
					 struct ticket_write *tw, bool by_staff, int64_t user_id,
					 const char *body, enum channel ch, int64_t now);
/* The signed CSAT link of a resolved ticket (a path), NULL when none. */
const char *tickets_csat_url(struct req *r, const struct ticket *t);

/* The scheduler's monitoring work (jobs/monitor_jobs.c), at now. */
struct monitor_result { int silent, maintenance, tickets, rollups; };
void monitor_run(struct server *s, int64_t now, struct monitor_result *mr);
/* The server started at now: heartbeat ages count from here at the least. */
void monitor_started(int64_t now);

/* Renderers shared by handlers. */
json_t *user_json(const struct user *u);

#endif
