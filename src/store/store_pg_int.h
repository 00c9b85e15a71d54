/*
 * store_pg_int.h: what the PostgreSQL backend's files share (store_pg.c:
 * the core, statements, reads and the writer's apply; store_pg_ticket.c:
 * tickets and rules; store_pg_sla.c: calendars, SLA policies, contracts
 * and tickets' SLA rows; store_pg_monitor.c: monitoring; store_pg_mail.c:
 * mail, templates, webhooks and deliveries). Not for use above the store.
 *
 * Statements are written as in the SQLite backend, with :name parameters;
 * struct pgq turns them into $n for PQexecParams and binds by name, so the
 * two backends' SQL can be read side by side. Every parameter is typed
 * when bound (int8, bool, text, bytea): PostgreSQL never has to guess, and
 * an unbound name is a typed NULL only if bound as one (pgq_txt(q, n,
 * NULL), pgq_ref(q, n, 0)): bind every name the text uses.
 *
 * SQLite's integer truth values are PostgreSQL booleans in SQL text: flags
 * such as :all are bound with pgq_bool and written "(:all OR ...)"; iif()
 * is CASE WHEN. The tables keep 0/1 INTEGER columns (migrations-pg/0001).
 */
#ifndef ITSUP_STORE_PG_INT_H
#define ITSUP_STORE_PG_INT_H

#include <libpq-fe.h>

#include "base/buf.h"
#include "store/pg.h"
#include "store/pg_writer.h"
#include "store/store.h"

/* ---- statements with named parameters ---------------------------------- */

#define PGQ_MAX 64

struct pgq {
	struct buf sql;                  /* the text with $1, $2, ... */
	int n;                           /* distinct names */
	const char *name[PGQ_MAX];       /* into the caller's text, with ':' */
	size_t namelen[PGQ_MAX];
	const char *val[PGQ_MAX];
	int len[PGQ_MAX], fmt[PGQ_MAX];
	Oid type[PGQ_MAX];
	char num[PGQ_MAX][32];           /* a number's text (an int8, or a
					  * float8 in 17 digits) */
	bool overflow;                   /* more than PGQ_MAX names, or the
					  * text did not fit: never sent */
};

/* Parses sql (which must outlive q): every :name outside quotes and not
 * part of a '::' cast becomes $k, the same k for the same name. */
void pgq_init(struct pgq *q, const char *sql);
void pgq_release(struct pgq *q);
/* Binding a name the text lacks does nothing. */
void pgq_i64(struct pgq *q, const char *name, int64_t v);
void pgq_bool(struct pgq *q, const char *name, bool v);
void pgq_txt(struct pgq *q, const char *name, const char *v);   /* NULL: NULL */
void pgq_ref(struct pgq *q, const char *name, int64_t v);       /* 0: NULL */
void pgq_blob(struct pgq *q, const char *name, const void *p, int n);
/* A float8 (SQLite's REAL): "%.17g", which PostgreSQL reads back to the
 * same double; the infinities by name. has false, or NaN: NULL (SQLite
 * binds a NaN as NULL). */
void pgq_f64(struct pgq *q, const char *name, double v, bool has);
/* :all (bool) and :scope (the scope's client id). */
void pgq_scope(struct pgq *q, const struct scope *sc);
/* PQexecParams of q on c, text results (NULL only when out of memory). */
PGresult *pgq_exec(PGconn *c, struct pgq *q);

/* ---- results ------------------------------------------------------------ */

/* A column as int64: NULL is 0; a boolean reads 1 or 0. */
int64_t pg_i64(const PGresult *r, int row, int col);
static inline int pg_int(const PGresult *r, int row, int col)
{
	return (int)pg_i64(r, row, col);
}
/* A text column copied into a: NULL stays NULL. */
const char *pg_str(const PGresult *r, int row, int col, struct arena *a);
/* A bytea column of exactly n bytes into out: false (out zeroed) otherwise. */
bool pg_blob(const PGresult *r, int row, int col, unsigned char *out, size_t n);
/* A bytea column of any length copied into a (*len bytes and a NUL, so a
 * text body reads as a string; NULL and *len 0 when NULL, malformed, or
 * the arena is full). */
const unsigned char *pg_bytea(const PGresult *r, int row, int col, struct arena *a, size_t *len);
bool pg_isnull(const PGresult *r, int row, int col);
/* A float8 column (text: PostgreSQL's shortest exact form): NULL is 0. */
double pg_f64(const PGresult *r, int row, int col);

/* ---- the store ------------------------------------------------------------ */

struct pgs {
	struct store base;
	struct pg_pool *pool;            /* readers */
	struct pg_writer *wr;
	pthread_mutex_t lmu;             /* leadership */
	PGconn *leader;                  /* its own session, not pooled */
	bool leading;
	char *url;
	/* The writer thread's, for one pass over a batch (audit_put). */
	bool audit_known;
	int64_t audit_seq;
	unsigned char audit_head[32];
	/* The writer thread's cache of monitoring series ids
	 * (store_pg_monitor.c). */
	void *mon;
};

/* ---- reads -------------------------------------------------------------- */

/* A reader connection: the thread's pinned one between read_begin and
 * read_end, else one from the pool (give it back with pgr_put). */
PGconn *pgr_get(struct pgs *s);
void pgr_put(struct pgs *s, PGconn *c);

typedef void (*pg_row_fn)(const PGresult *r, int row, struct arena *a, void *item);

/* Runs q on a reader and maps up to max rows into items (each sz bytes,
 * row(res, i, a, items + i * sz)); *n rows. Errors are RC_IO (RC_BUSY
 * when the database is unreachable). A connection found broken is
 * retried once on another (outside a pinned snapshot). */
enum result pgr_rows(struct store *st, struct pgq *q, struct arena *a, void *items, size_t sz,
		     size_t max, size_t *n, pg_row_fn row, struct err *e);
/* One row into out; RC_NOTFOUND "<what> not found" when there is none. */
enum result pgr_one(struct store *st, struct pgq *q, struct arena *a, void *out, pg_row_fn row,
		    const char *what, struct err *e);

/* ---- writes ----------------------------------------------------------- */

/* The writer's context for one write, inside its savepoint. */
struct pgw {
	struct pgs *s;
	PGconn *c;
	bool *doomed;
};

/* Runs q on the writer's connection. On success returns the result (the
 * caller PQclear()s it). On failure returns NULL with e set:
 *   - unique violation (23505): RC_CONFLICT "<field> is already in use"
 *     naming field; but on a counter the store computes itself (contact
 *     ids, ticket numbers, audit seq, idempotency keys: another server
 *     took the same value) the transaction is doomed and runs again;
 *   - foreign key (23503): RC_INVALID "<what> refers to an object that
 *     does not exist"; other integrity or data errors: RC_INVALID;
 *   - serialization failure, deadlock, lost connection: *doomed, RC_BUSY;
 *   - anything else: RC_IO. */
PGresult *pgw_run(struct pgw *x, struct pgq *q, const char *field, const char *what,
		  struct err *e);
/* pgw_run for a statement whose result is not wanted. */
enum result pgw_do(struct pgw *x, struct pgq *q, const char *field, const char *what,
		   struct err *e);
/* RC_OK when the scope sees client client_id (and it exists), else
 * RC_NOTFOUND on "client_id". */
enum result pgw_tenant_visible(struct pgw *x, const struct scope *sc, int64_t client_id,
			       struct err *e);

/* Inserts contact c (of c->client_id: name, email, phone, title) with the
 * next contact id (max + 1, read in the transaction), *id; an e-mail the
 * client's contacts have is RC_CONFLICT on "email". No scope check: the
 * caller's (W_CONTACT_CREATE, and a ticket write's e-mail). */
enum result pgw_contact_insert(struct pgw *x, const struct contact *c, int64_t *id,
			       struct err *e);

/* ---- the other files' entry points ------------------------------------- */

/* store_pg_ticket.c: same contracts as the sqt_* functions of
 * store_int.h. */
enum result pgt_ticket_create(struct pgw *x, struct store_write *w);
enum result pgt_ticket_change(struct pgw *x, struct store_write *w);
enum result pgt_ticket_bulk(struct pgw *x, struct store_write *w);
enum result pgt_rule_put(struct pgw *x, struct store_write *w);
enum result pgt_rule_delete(struct pgw *x, struct store_write *w);
enum result pgt_esc_rule_put(struct pgw *x, struct store_write *w);
enum result pgt_csat_put(struct pgw *x, struct store_write *w);
enum result pgt_ticket_get(struct store *, const struct scope *, int64_t, struct arena *,
			   struct ticket *, struct err *);
enum result pgt_ticket_list(struct store *, const struct scope *, const struct ticket_q *,
			    struct arena *, struct ticket_list *, struct err *);
enum result pgt_queue_counts(struct store *, const struct scope *, int64_t client_id,
			     struct arena *, struct queue_counts *, struct err *);
enum result pgt_report_tickets(struct store *, const struct scope *, int64_t, int64_t, int64_t,
			       int64_t, size_t, struct arena *, struct report_ticket *, size_t *,
			       struct err *);
enum result pgt_report_csat(struct store *, const struct scope *, int64_t, int64_t, int64_t,
			    int64_t, size_t, struct arena *, struct report_csat *, size_t *,
			    struct err *);
enum result pgt_report_hours(struct store *, const struct scope *, int64_t, int64_t, int64_t,
			     struct arena *, struct report_hours_row *, size_t, size_t *,
			     struct err *);
enum result pgt_ticket_messages(struct store *, const struct scope *, int64_t, bool,
				struct arena *, struct message_list *, struct err *);
enum result pgt_ticket_events(struct store *, const struct scope *, int64_t, bool,
			      struct arena *, struct event_list *, struct err *);
enum result pgt_ticket_time(struct store *, const struct scope *, int64_t,
			    struct arena *, struct time_list *, struct err *);
enum result pgt_rules_list(struct store *, struct arena *, struct rule_rows *, struct err *);
enum result pgt_esc_rules_list(struct store *, struct arena *, struct esc_rule_rows *,
			       struct err *);
enum result pgt_esc_candidates(struct store *, const struct esc_rule_row *, int64_t now,
			       struct arena *, struct ticket_list *, struct err *);
enum result pgt_autoclose_candidates(struct store *, int64_t now, struct arena *,
				     struct ticket_list *, struct err *);
enum result pgt_contact_by_email(struct store *, int64_t client_id, const char *email,
				 int64_t *id, struct err *);
enum result pgt_user_by_email(struct store *, int64_t client_id, const char *email,
			      int64_t *id, struct err *);
enum result pgt_csat_get(struct store *, int64_t ticket_id, int *rating, struct err *);
/* Ticket rows: the columns + FROM clause, and the row reader. */
const char *pgt_ticket_select(void);
void pgt_row_ticket_at(const PGresult *r, int row, struct arena *a, void *item);

/* store_pg_sla.c: same contracts as the sqt_* SLA and calendar functions
 * of store_int.h. */
enum result pgt_calendar_put(struct pgw *x, struct store_write *w);
enum result pgt_calendar_get(struct store *, int64_t, struct arena *, struct calendar_row *,
			     struct err *);
enum result pgt_calendar_list(struct store *, struct arena *, struct calendar_row **, size_t *,
			      struct err *);
enum result pgt_sla_put(struct pgw *x, const struct ticket *t, int64_t now, struct err *e);
enum result pgt_sla_gen_check(struct pgw *x, int64_t gen, struct err *e);
enum result pgt_sla_gen_bump(struct pgw *x, struct err *e);
enum result pgt_sla_generation(struct store *, int64_t *gen, struct err *);
enum result pgt_sla_recompute(struct pgw *x, struct sla_recompute *rc, struct err *e);
enum result pgt_sla_policy_put(struct pgw *x, struct store_write *w);
enum result pgt_contract_put(struct pgw *x, struct store_write *w);
enum result pgt_sla_policy_get(struct store *, int64_t, struct arena *, struct sla_policy_row *,
			       struct err *);
enum result pgt_sla_policy_list(struct store *, struct arena *, struct sla_policy_row **,
				size_t *, struct err *);
enum result pgt_contract_get(struct store *, const struct scope *, int64_t, struct arena *,
			     struct contract_row *, struct err *);
enum result pgt_contract_list(struct store *, const struct scope *, const struct list_q *,
			      struct arena *, struct contract_row **, size_t *, int64_t *,
			      struct err *);
enum result pgt_sla_policy_for(struct store *, int64_t, const char *, int64_t *, struct err *);
enum result pgt_sla_due(struct store *, int64_t, size_t, struct arena *, struct ticket_list *,
			struct err *);

/* store_pg_monitor.c: same contracts as the sqm_* functions of
 * store_int.h. The series cache holds committed ids only: series made in
 * a pass are pending until the pass commits (pgm_pass_end), and those of
 * a write that failed go with its savepoint (pgm_write_undo). */
void pgm_cache_free(struct pgs *s);
void pgm_pass_begin(struct pgs *s);
void pgm_pass_end(struct pgs *s, bool committed);
size_t pgm_write_mark(struct pgs *s);
void pgm_write_undo(struct pgs *s, size_t mark);
enum result pgm_default_checks(struct pgw *x, int64_t client, struct err *e);
enum result pgm_alert_ticket(struct pgw *x, const struct ticket_write *tw, struct err *e);
enum result pgm_enroll_token_create(struct pgw *x, struct store_write *w);
enum result pgm_enroll_token_revoke(struct pgw *x, struct store_write *w);
enum result pgm_device_enroll(struct pgw *x, struct store_write *w);
enum result pgm_device_update(struct pgw *x, struct store_write *w);
enum result pgm_checkin(struct pgw *x, struct store_write *w);
enum result pgm_check_put(struct pgw *x, struct store_write *w);
enum result pgm_check_delete(struct pgw *x, struct store_write *w);
enum result pgm_alert_step(struct pgw *x, struct store_write *w);
enum result pgm_alert_events_done(struct pgw *x, struct store_write *w);
enum result pgm_mwindow_put(struct pgw *x, struct store_write *w);
enum result pgm_mwindow_delete(struct pgw *x, struct store_write *w);
enum result pgm_am_receiver_delete(struct pgw *x, struct store_write *w);
enum result pgm_am_receiver_create(struct pgw *x, struct store_write *w);
enum result pgm_rollup(struct pgw *x, struct store_write *w);
enum result pgm_retain(struct pgw *x, struct store_write *w);
enum result pgm_enroll_token_list(struct store *, const struct scope *, int64_t,
				  struct arena *, struct enroll_token_row **, size_t *, struct err *);
enum result pgm_device_auth(struct store *, const unsigned char[32], struct arena *,
			    struct device *, struct err *);
enum result pgm_device_get(struct store *, const struct scope *, int64_t, struct arena *,
			   struct device *, struct err *);
enum result pgm_device_list(struct store *, const struct scope *, const struct list_q *,
			    struct arena *, struct device_list *, struct err *);
enum result pgm_devices_silent(struct store *, int64_t, size_t, struct arena *,
			       struct device_list *, struct err *);
enum result pgm_check_list_all(struct store *, struct arena *, struct check_list *, struct err *);
enum result pgm_check_get(struct store *, const struct scope *, int64_t, struct arena *,
			  struct check_row *, struct err *);
enum result pgm_check_list(struct store *, const struct scope *, int64_t, struct arena *,
			   struct check_list *, struct err *);
enum result pgm_alert_get(struct store *, const struct scope *, int64_t, struct arena *,
			  struct alert_row *, struct err *);
enum result pgm_alert_list(struct store *, const struct scope *, const struct alert_q *,
			   struct arena *, struct alert_list *, struct err *);
enum result pgm_report_alert_events(struct store *, const struct scope *, int64_t, int64_t,
				    int64_t, int64_t, int64_t, size_t, struct arena *,
				    struct report_alert_ev *, size_t *, struct err *);
enum result pgm_report_uptime(struct store *, const struct scope *, int64_t, int64_t, int64_t,
			      int64_t, size_t, struct arena *, struct report_device *, size_t *,
			      struct err *);
enum result pgm_alert_events(struct store *, const struct scope *, int64_t, struct arena *,
			     struct alert_event_list *, struct err *);
enum result pgm_alerts_in_maintenance(struct store *, size_t, struct arena *,
				      struct alert_list *, struct err *);
enum result pgm_alert_work(struct store *, size_t, struct arena *, struct alert_work_list *,
			   struct err *);
enum result pgm_mwindow_get(struct store *, const struct scope *, int64_t, struct arena *,
			    struct mwindow_row *, struct err *);
enum result pgm_mwindow_list(struct store *, const struct scope *, int64_t, struct arena *,
			     struct mwindow_list *, struct err *);
enum result pgm_am_receiver_auth(struct store *, const unsigned char[32], struct arena *,
				 struct am_receiver_row *, struct err *);
enum result pgm_am_receiver_list(struct store *, const struct scope *, struct arena *,
				 struct am_receiver_row **, size_t *, struct err *);
enum result pgm_series_points(struct store *, const struct scope *, int64_t, const char *,
			      const char *, int64_t, int64_t, struct arena *,
			      struct series_points *, struct err *);
enum result pgm_device_by_host(struct store *, int64_t, const char *, int64_t *, struct err *);
enum result pgm_client_by_name(struct store *, const char *, int64_t *, struct err *);

/* store_pg_mail.c: same contracts as the sqmail_* functions of
 * store_int.h. A ticket write's e-mail (tw->mail, struct mail_file): the
 * contact before the ticket row (create: it becomes the requester) or,
 * for a change, before the message (pgmail_contact); the rest after the
 * message (pgmail_file). pgmail_reset undoes what a pass set in tw, for
 * a batch that runs again. */
void pgmail_reset(struct ticket_write *tw);
enum result pgmail_contact(struct pgw *x, struct ticket_write *tw, bool create, struct err *e);
enum result pgmail_file(struct pgw *x, struct ticket_write *tw, int64_t now, struct err *e);
enum result pgmail_log(struct pgw *x, struct store_write *w);
enum result pgmail_route_put(struct pgw *x, struct store_write *w);
enum result pgmail_route_delete(struct pgw *x, struct store_write *w);
enum result pgmail_template_put(struct pgw *x, struct store_write *w);
enum result pgmail_template_delete(struct pgw *x, struct store_write *w);
enum result pgmail_webhook_put(struct pgw *x, struct store_write *w);
enum result pgmail_webhook_delete(struct pgw *x, struct store_write *w);
enum result pgmail_outbox_expand(struct pgw *x, struct store_write *w);
enum result pgmail_delivery_result(struct pgw *x, struct store_write *w);
enum result pgmail_delivery_retry(struct pgw *x, struct store_write *w);
enum result pgmail_thread(struct store *, const char *const *, size_t, int *, int64_t *,
			  struct err *);
enum result pgmail_ticket_by_number(struct store *, int64_t, int64_t *, int64_t *, struct err *);
enum result pgmail_contact_find_email(struct store *, const char *, int64_t *, int64_t *,
				      struct err *);
enum result pgmail_client_by_domain(struct store *, const char *, int64_t *, struct err *);
enum result pgmail_inbound_count(struct store *, const char *, int64_t, int64_t *, struct err *);
enum result pgmail_inbound_list(struct store *, const struct inbound_q *, struct arena *,
				struct inbound_list *, struct err *);
enum result pgmail_inbound_get(struct store *, int64_t, struct arena *, struct inbound_row *,
			       struct err *);
enum result pgmail_attachment_list(struct store *, const struct scope *, int64_t, bool,
				   struct arena *, struct attachment_list *, struct err *);
enum result pgmail_attachment_get(struct store *, const struct scope *, int64_t, bool,
				  struct arena *, struct attachment_row *, struct err *);
enum result pgmail_route_find(struct store *, const char *, struct arena *,
			      struct mail_route_row *, struct err *);
enum result pgmail_route_list(struct store *, struct arena *, struct mail_route_row **, size_t *,
			      struct err *);
enum result pgmail_template_get(struct store *, const char *, struct arena *,
				struct template_row *, struct err *);
enum result pgmail_template_list(struct store *, struct arena *, struct template_row **,
				 size_t *, struct err *);
enum result pgmail_webhook_get(struct store *, int64_t, struct arena *, struct webhook_row *,
			       struct err *);
enum result pgmail_webhook_list(struct store *, struct arena *, struct webhook_row **, size_t *,
				struct err *);
enum result pgmail_outbox_pending(struct store *, size_t, struct arena *, struct outbox_list *,
				  struct err *);
enum result pgmail_deliveries_due(struct store *, int64_t, const char *, size_t, size_t,
				  struct arena *, struct delivery_list *, struct err *);
enum result pgmail_delivery_list(struct store *, const struct delivery_q *, struct arena *,
				 struct delivery_list *, struct err *);
enum result pgmail_delivery_get(struct store *, int64_t, struct arena *, struct delivery_row *,
				struct err *);

/* store_pg_history.c: the history import, same contracts as the sqh_*
 * functions of store_int.h. */
enum result pgh_ticket_import(struct pgw *x, struct store_write *w);
enum result pgh_import_lookup(struct store *, const struct scope *, enum import_key,
			      const int64_t *, const char *const *, size_t, bool *, struct err *);

/* store_pg_sched.c: report schedules, same contracts as the sqsch_*
 * functions of store_int.h. */
enum result pgsch_put(struct pgw *x, struct store_write *w);
enum result pgsch_delete(struct pgw *x, struct store_write *w);
enum result pgsch_claim(struct pgw *x, struct store_write *w);
enum result pgsch_send(struct pgw *x, struct store_write *w);
enum result pgsch_outbox_defer(struct pgw *x, struct store_write *w);
enum result pgsch_get(struct store *, const struct scope *, int64_t, struct arena *,
		      struct report_schedule *, struct err *);
enum result pgsch_list(struct store *, const struct scope *, const struct list_q *,
		       struct arena *, struct report_schedule_list *, struct err *);
enum result pgsch_due(struct store *, int64_t, size_t, struct arena *,
		      struct report_schedule_list *, struct err *);

#endif
