/*
 * store_int.h: what the SQLite backend's files share (store_sqlite.c, the
 * core and the writer; store_sqlite_ticket.c, tickets; store_sqlite_sla.c,
 * store_sqlite_monitor.c, store_sqlite_mail.c). Not for use above the
 * store.
 */
#ifndef ITSUP_STORE_INT_H
#define ITSUP_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/wqueue.h"

#define RS_COUNT_MAX 16
#define WS_COUNT_MAX 32
#define SCACHE_SLOTS 256

/* Prepared statements by SQL text, for statements outside the fixed
 * tables (the ticket queries, whose text depends on the filters used). */
struct stmt_cache {
	sqlite3_stmt *slot[SCACHE_SLOTS];
	uint64_t hash[SCACHE_SLOTS];
};

struct rconn {
	sqlite3 *db;
	sqlite3_stmt *st[RS_COUNT_MAX];
	struct stmt_cache cache;
	struct rconn *next_free, *next_all;
};

struct sq {
	struct store base;
	char path[512];

	sqlite3 *wdb;
	sqlite3_stmt *wst[WS_COUNT_MAX];
	struct stmt_cache wcache;
	pthread_t writer;
	bool writer_started;
	struct wqueue q;
	int64_t audit_seq;
	unsigned char audit_head[32];

	pthread_mutex_t rmu;
	struct rconn *rfree, *rall;

	pthread_mutex_t smu;
	struct store_stats stats;

	void *mon;              /* the writer's series cache (store_sqlite_monitor.c) */
};

enum result sq_error(sqlite3 *db, int rc, struct err *e, const char *what);
enum result reader_get(struct sq *s, struct rconn **out, struct err *e);
void reader_put(struct sq *s, struct rconn *c);
void stmt_done(sqlite3_stmt *q);
const char *col_str(sqlite3_stmt *q, int i, struct arena *a);
void bind_scope(sqlite3_stmt *q, int all_idx, const struct scope *sc);
void bind_opt_text(sqlite3_stmt *q, int i, const char *v);
enum result step_error(struct sq *s, int rc, const char *field, const char *what,
		       struct err *e);
enum result tenant_visible(struct sq *s, const struct scope *sc, int64_t client_id,
			   struct err *e);
/* The writer inserts contact c (of c->client_id; name, email, phone,
 * title) with the next contact id, *id; an e-mail the client's contacts
 * have is RC_CONFLICT on "email". No scope check: the caller's. */
enum result sq_contact_insert(struct sq *s, const struct contact *c, int64_t *id,
			      struct err *e);

/* The cached statement for sql (prepared on first use); NULL with e set
 * on failure. Reset it with stmt_done() after use. */
sqlite3_stmt *scache_get(struct stmt_cache *c, sqlite3 *db, const char *sql, struct err *e);
void scache_clear(struct stmt_cache *c);

/* Helpers of the store's SQL files (store_sqlite_ticket.c). Parameters
 * are bound by name; a name the statement lacks is skipped. */
void bind_i64(sqlite3_stmt *q, const char *name, int64_t v);
void bind_txt(sqlite3_stmt *q, const char *name, const char *v);
void bind_ref(sqlite3_stmt *q, const char *name, int64_t v);   /* 0 binds NULL */
void bind_vis(sqlite3_stmt *q, const struct scope *sc);
void bind_id(sqlite3_stmt *q, const void *arg);                 /* arg: int64_t *, as :id */
void bind_none(sqlite3_stmt *q, const void *arg);
/* Runs sql on a reader connection (cached statement), binding the scope
 * (when sc) and then bind(arg), calling row() for up to max rows. */
enum result read_rows(struct store *st, const char *sql, const struct scope *sc,
		      void (*bind)(sqlite3_stmt *, const void *), const void *arg,
		      void (*row)(sqlite3_stmt *, struct arena *, void *, size_t),
		      struct arena *a, void *items, size_t max, size_t *n, struct err *e);
/* The writer's cached statement for sql, and one step of it (reset). */
sqlite3_stmt *wq(struct sq *s, const char *sql, struct err *e);
enum result wstep(struct sq *s, sqlite3_stmt *q, const char *field, const char *what,
		  struct err *e);

/* Ticket writes and reads (store_sqlite_ticket.c). */
enum result sqt_ticket_create(struct sq *s, struct store_write *w);
enum result sqt_ticket_change(struct sq *s, struct store_write *w);
enum result sqt_ticket_bulk(struct sq *s, struct store_write *w);
enum result sqt_rule_put(struct sq *s, struct store_write *w);
enum result sqt_rule_delete(struct sq *s, struct store_write *w);
enum result sqt_esc_rule_put(struct sq *s, struct store_write *w);
enum result sqt_csat_put(struct sq *s, struct store_write *w);
enum result sqt_ticket_get(struct store *, const struct scope *, int64_t, struct arena *,
			   struct ticket *, struct err *);
enum result sqt_ticket_list(struct store *, const struct scope *, const struct ticket_q *,
			    struct arena *, struct ticket_list *, struct err *);
enum result sqt_queue_counts(struct store *, const struct scope *, int64_t client_id,
			     struct arena *, struct queue_counts *, struct err *);
enum result sqt_ticket_messages(struct store *, const struct scope *, int64_t, bool,
				struct arena *, struct message_list *, struct err *);
enum result sqt_ticket_events(struct store *, const struct scope *, int64_t, bool,
			      struct arena *, struct event_list *, struct err *);
enum result sqt_ticket_time(struct store *, const struct scope *, int64_t,
			    struct arena *, struct time_list *, struct err *);
enum result sqt_rules_list(struct store *, struct arena *, struct rule_rows *, struct err *);
enum result sqt_esc_rules_list(struct store *, struct arena *, struct esc_rule_rows *,
			       struct err *);
enum result sqt_esc_candidates(struct store *, const struct esc_rule_row *, int64_t now,
			       struct arena *, struct ticket_list *, struct err *);
enum result sqt_autoclose_candidates(struct store *, int64_t now, struct arena *,
				     struct ticket_list *, struct err *);
enum result sqt_contact_by_email(struct store *, int64_t client_id, const char *email,
				 int64_t *id, struct err *);
enum result sqt_user_by_email(struct store *, int64_t client_id, const char *email,
			      int64_t *id, struct err *);
enum result sqt_calendar_put(struct sq *s, struct store_write *w);
enum result sqt_calendar_get(struct store *, int64_t, struct arena *, struct calendar_row *,
			     struct err *);
enum result sqt_calendar_list(struct store *, struct arena *, struct calendar_row **, size_t *,
			      struct err *);
/* SLA policies, contracts, tickets' SLA rows (store_sqlite_sla.c). */
enum result sqt_sla_put(struct sq *s, const struct ticket *t, int64_t now, struct err *e);
/* The writer's view: RC_STALE (field "sla_generation") unless gen is the
 * store's SLA configuration generation; gen < 0 passes. */
enum result sqt_sla_gen_check(struct sq *s, int64_t gen, struct err *e);
enum result sqt_sla_gen_bump(struct sq *s, struct err *e);
enum result sqt_sla_generation(struct store *, int64_t *gen, struct err *);
enum result sqt_sla_recompute(struct sq *s, struct sla_recompute *rc, struct err *e);
enum result sqt_sla_policy_put(struct sq *s, struct store_write *w);
enum result sqt_contract_put(struct sq *s, struct store_write *w);
enum result sqt_sla_policy_get(struct store *, int64_t, struct arena *, struct sla_policy_row *,
			       struct err *);
enum result sqt_sla_policy_list(struct store *, struct arena *, struct sla_policy_row **,
				size_t *, struct err *);
enum result sqt_contract_get(struct store *, const struct scope *, int64_t, struct arena *,
			     struct contract_row *, struct err *);
enum result sqt_contract_list(struct store *, const struct scope *, const struct list_q *,
			      struct arena *, struct contract_row **, size_t *, int64_t *,
			      struct err *);
enum result sqt_sla_policy_for(struct store *, int64_t, const char *, int64_t *, struct err *);
enum result sqt_sla_due(struct store *, int64_t, size_t, struct arena *, struct ticket_list *,
			struct err *);
/* Ticket rows (store_sqlite_ticket.c): the columns, FROM clause and row reader. */
const char *sqt_ticket_select(void);
void sqt_row_ticket_at(sqlite3_stmt *q, struct arena *a, void *items, size_t i);
enum result sqt_csat_get(struct store *, int64_t ticket_id, int *rating, struct err *);
enum result sqt_report_tickets(struct store *, const struct scope *, int64_t, int64_t, int64_t,
			       int64_t, size_t, struct arena *, struct report_ticket *, size_t *,
			       struct err *);
enum result sqt_report_csat(struct store *, const struct scope *, int64_t, int64_t, int64_t,
			    int64_t, size_t, struct arena *, struct report_csat *, size_t *,
			    struct err *);
enum result sqt_report_hours(struct store *, const struct scope *, int64_t, int64_t, int64_t,
			     struct arena *, struct report_hours_row *, size_t, size_t *,
			     struct err *);

/* Monitoring (store_sqlite_monitor.c). */
void sqm_cache_free(struct sq *s);
enum result sqm_default_checks(struct sq *s, int64_t client, struct err *e);
enum result sqm_alert_ticket(struct sq *s, const struct ticket_write *tw, struct err *e);
enum result sqm_enroll_token_create(struct sq *s, struct store_write *w);
enum result sqm_enroll_token_revoke(struct sq *s, struct store_write *w);
enum result sqm_device_enroll(struct sq *s, struct store_write *w);
enum result sqm_device_update(struct sq *s, struct store_write *w);
enum result sqm_checkin(struct sq *s, struct store_write *w);
enum result sqm_check_put(struct sq *s, struct store_write *w);
enum result sqm_check_delete(struct sq *s, struct store_write *w);
enum result sqm_alert_step(struct sq *s, struct store_write *w);
enum result sqm_alert_events_done(struct sq *s, struct store_write *w);
enum result sqm_mwindow_put(struct sq *s, struct store_write *w);
enum result sqm_mwindow_delete(struct sq *s, struct store_write *w);
enum result sqm_am_receiver_delete(struct sq *s, struct store_write *w);
enum result sqm_am_receiver_create(struct sq *s, struct store_write *w);
enum result sqm_rollup(struct sq *s, struct store_write *w);
enum result sqm_retain(struct sq *s, struct store_write *w);
enum result sqm_enroll_token_list(struct store *, const struct scope *, int64_t,
				  struct arena *, struct enroll_token_row **, size_t *, struct err *);
enum result sqm_device_auth(struct store *, const unsigned char[32], struct arena *,
			    struct device *, struct err *);
enum result sqm_device_get(struct store *, const struct scope *, int64_t, struct arena *,
			   struct device *, struct err *);
enum result sqm_device_list(struct store *, const struct scope *, const struct list_q *,
			    struct arena *, struct device_list *, struct err *);
enum result sqm_devices_silent(struct store *, int64_t, size_t, struct arena *,
			       struct device_list *, struct err *);
enum result sqm_check_list_all(struct store *, struct arena *, struct check_list *, struct err *);
enum result sqm_check_get(struct store *, const struct scope *, int64_t, struct arena *,
			  struct check_row *, struct err *);
enum result sqm_check_list(struct store *, const struct scope *, int64_t, struct arena *,
			   struct check_list *, struct err *);
enum result sqm_alert_get(struct store *, const struct scope *, int64_t, struct arena *,
			  struct alert_row *, struct err *);
enum result sqm_alert_list(struct store *, const struct scope *, const struct alert_q *,
			   struct arena *, struct alert_list *, struct err *);
enum result sqm_report_alert_events(struct store *, const struct scope *, int64_t, int64_t,
				    int64_t, int64_t, int64_t, size_t, struct arena *,
				    struct report_alert_ev *, size_t *, struct err *);
enum result sqm_report_uptime(struct store *, const struct scope *, int64_t, int64_t, int64_t,
			      int64_t, size_t, struct arena *, struct report_device *, size_t *,
			      struct err *);
enum result sqm_alert_events(struct store *, const struct scope *, int64_t, struct arena *,
			     struct alert_event_list *, struct err *);
enum result sqm_alerts_in_maintenance(struct store *, size_t, struct arena *,
				      struct alert_list *, struct err *);
enum result sqm_alert_work(struct store *, size_t, struct arena *, struct alert_work_list *,
			   struct err *);
enum result sqm_mwindow_get(struct store *, const struct scope *, int64_t, struct arena *,
			    struct mwindow_row *, struct err *);
enum result sqm_mwindow_list(struct store *, const struct scope *, int64_t, struct arena *,
			     struct mwindow_list *, struct err *);
enum result sqm_am_receiver_auth(struct store *, const unsigned char[32], struct arena *,
				 struct am_receiver_row *, struct err *);
enum result sqm_am_receiver_list(struct store *, const struct scope *, struct arena *,
				 struct am_receiver_row **, size_t *, struct err *);
enum result sqm_series_points(struct store *, const struct scope *, int64_t, const char *,
			      const char *, int64_t, int64_t, struct arena *,
			      struct series_points *, struct err *);
enum result sqm_device_by_host(struct store *, int64_t, const char *, int64_t *, struct err *);
enum result sqm_client_by_name(struct store *, const char *, int64_t *, struct err *);

/* Mail, templates, webhooks and the outbox's deliveries (store_sqlite_mail.c). */
/* A ticket write's e-mail (tw->mail, see struct mail_file): the contact,
 * before the ticket row (create: it becomes the requester) or, for a
 * change, before the message; then, after the message, the rest. */
enum result sqmail_contact(struct sq *s, struct ticket_write *tw, bool create, struct err *e);
enum result sqmail_file(struct sq *s, struct ticket_write *tw, int64_t now, struct err *e);
enum result sqmail_log(struct sq *s, struct store_write *w);
enum result sqmail_route_put(struct sq *s, struct store_write *w);
enum result sqmail_route_delete(struct sq *s, struct store_write *w);
enum result sqmail_template_put(struct sq *s, struct store_write *w);
enum result sqmail_template_delete(struct sq *s, struct store_write *w);
enum result sqmail_webhook_put(struct sq *s, struct store_write *w);
enum result sqmail_webhook_delete(struct sq *s, struct store_write *w);
enum result sqmail_outbox_expand(struct sq *s, struct store_write *w);
enum result sqmail_delivery_result(struct sq *s, struct store_write *w);
enum result sqmail_delivery_retry(struct sq *s, struct store_write *w);
enum result sqmail_thread(struct store *, const char *const *, size_t, int *, int64_t *,
			  struct err *);
enum result sqmail_client_by_domain(struct store *, const char *, int64_t *, struct err *);
enum result sqmail_ticket_by_number(struct store *, int64_t, int64_t *, int64_t *, struct err *);
enum result sqmail_contact_find_email(struct store *, const char *, int64_t *, int64_t *,
				      struct err *);
enum result sqmail_inbound_count(struct store *, const char *, int64_t, int64_t *, struct err *);
enum result sqmail_inbound_list(struct store *, const struct inbound_q *, struct arena *,
				struct inbound_list *, struct err *);
enum result sqmail_inbound_get(struct store *, int64_t, struct arena *, struct inbound_row *,
			       struct err *);
enum result sqmail_attachment_list(struct store *, const struct scope *, int64_t, bool,
				   struct arena *, struct attachment_list *, struct err *);
enum result sqmail_attachment_get(struct store *, const struct scope *, int64_t, bool,
				  struct arena *, struct attachment_row *, struct err *);
enum result sqmail_route_find(struct store *, const char *, struct arena *,
			      struct mail_route_row *, struct err *);
enum result sqmail_route_list(struct store *, struct arena *, struct mail_route_row **, size_t *,
			      struct err *);
enum result sqmail_template_get(struct store *, const char *, struct arena *,
				struct template_row *, struct err *);
enum result sqmail_template_list(struct store *, struct arena *, struct template_row **,
				 size_t *, struct err *);
enum result sqmail_webhook_get(struct store *, int64_t, struct arena *, struct webhook_row *,
			       struct err *);
enum result sqmail_webhook_list(struct store *, struct arena *, struct webhook_row **, size_t *,
				struct err *);
enum result sqmail_outbox_pending(struct store *, size_t, struct arena *, struct outbox_list *,
				  struct err *);
enum result sqmail_deliveries_due(struct store *, int64_t, const char *, size_t, size_t,
				  struct arena *, struct delivery_list *, struct err *);
enum result sqmail_delivery_list(struct store *, const struct delivery_q *, struct arena *,
				 struct delivery_list *, struct err *);
enum result sqmail_delivery_get(struct store *, int64_t, struct arena *, struct delivery_row *,
				struct err *);

/* The history import (store_sqlite_history.c): W_TICKET_IMPORT and
 * import_lookup (store.h). */
enum result sqh_ticket_import(struct sq *s, struct store_write *w);
enum result sqh_import_lookup(struct store *, const struct scope *, enum import_key,
			      const int64_t *, const char *const *, size_t, bool *, struct err *);

/* Report schedules (store_sqlite_sched.c). */
enum result sqsch_put(struct sq *s, struct store_write *w);
enum result sqsch_delete(struct sq *s, struct store_write *w);
enum result sqsch_claim(struct sq *s, struct store_write *w);
enum result sqsch_send(struct sq *s, struct store_write *w);
enum result sqsch_outbox_defer(struct sq *s, struct store_write *w);
enum result sqsch_get(struct store *, const struct scope *, int64_t, struct arena *,
		      struct report_schedule *, struct err *);
enum result sqsch_list(struct store *, const struct scope *, const struct list_q *,
		       struct arena *, struct report_schedule_list *, struct err *);
enum result sqsch_due(struct store *, int64_t, size_t, struct arena *,
		      struct report_schedule_list *, struct err *);

#endif
