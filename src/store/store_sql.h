/*
 * store_sql.h: SQL text both backends share. The two schemas have the same
 * tables and columns (migrations/ and migrations-pg/ are numbered in
 * step), so the column lists, the ticket visibility predicate and the
 * ticket list's filters are written once here: in particular the text
 * that decides which tickets a scope sees exists in one copy. What
 * differs by dialect (full-text search, truth values in some places,
 * parameter binding) stays in each backend. Parameters are :name, which
 * both backends bind by name.
 */
#ifndef ITSUP_STORE_SQL_H
#define ITSUP_STORE_SQL_H

#include "base/buf.h"
#include "store/store.h"

#define CLIENT_COLS "id, name, timezone, email_domain, notes, active, version, created_at, updated_at, " \
	"portal_org_visibility, auto_close_days, priority_matrix"
#define CONTACT_COLS "id, tenant_id, name, email, phone, title, version, created_at, updated_at," \
	" (SELECT c.name FROM clients c WHERE c.id = contacts.tenant_id)"
#define USER_COLS "id, email, name, role, coalesce(tier, 0), coalesce(client_id, 0), active, " \
	"totp_enabled, version, created_at, updated_at, coalesce(last_login_at, 0)"
#define USER_COLS_U "u.id, u.email, u.name, u.role, coalesce(u.tier, 0), coalesce(u.client_id, 0)," \
	" u.active, u.totp_enabled, u.version, u.created_at, u.updated_at, coalesce(u.last_login_at, 0)"

#define TICKET_COLS                                                                      \
	"t.id, t.tenant_id, t.number, coalesce(t.requester_contact_id, 0),"              \
	" coalesce(t.requester_user_id, 0), coalesce(t.assignee_id, 0),"                 \
	" coalesce(t.device_id, 0), coalesce(t.parent_id, 0), t.status, t.type, t.impact," \
	" t.urgency, t.priority, t.channel, t.subject, t.description, t.category,"        \
	" t.priority_reason, t.queue, t.vendor, t.vendor_ref, t.tags, t.tier, t.created_at," \
	" t.updated_at, t.last_activity_at, coalesce(t.first_response_at, 0),"           \
	" coalesce(t.resolved_at, 0), coalesce(t.closed_at, 0), coalesce(t.fcr, -1),"     \
	" t.fcr_reason, coalesce(t.first_handler_id, 0), coalesce(t.resolved_by, 0),"     \
	" coalesce(t.resolved_tier, 0), t.escalations, t.tier_changes, t.reopens, t.version,"      \
	" t.early_reopens, s.ticket_id IS NOT NULL, coalesce(s.policy_id, 0), s.log,"        \
	" coalesce(s.response_due, 0), coalesce(s.resolution_due, 0),"                    \
	" coalesce(s.response_breached, 0), coalesce(s.resolution_breached, 0),"          \
	" coalesce(s.paused, 0), coalesce(s.response_ms, 0), coalesce(s.resolution_ms, 0)," \
	" coalesce(s.t1_ms, 0), coalesce(s.t2_ms, 0), coalesce(s.t3_ms, 0),"              \
	" coalesce(s.ola_breached, 0), coalesce(s.as_of, 0), coalesce(s.fired, 0),"       \
	" coalesce(s.next_at, 0)"
#define TICKET_NCOLS 56
#define TICKET_FROM " FROM tickets t LEFT JOIN ticket_sla s ON s.ticket_id = t.id"

/* The ticket visibility predicate of sc (contract 1 of store.h, refined
 * for tickets: client users see the tickets they requested unless their
 * organisation has portal_org_visibility), to append to a WHERE clause;
 * binds :cid (the scope's client) and :uid (its user). "" for staff. */
const char *sql_ticket_vis(const struct scope *sc);

/* Reports (store.h report_tickets): the columns of struct report_ticket
 * in order, and the query in b for sc (client: a client filter):
 * binds :lo :hi :after :limit (:client, :cid, :uid as used). */
#define REPORT_COLS                                                                       \
	"t.id, t.tenant_id, t.number, t.created_at, coalesce(t.first_response_at, 0),"    \
	" coalesce(t.resolved_at, 0), coalesce(t.closed_at, 0), t.priority, t.type,"      \
	" t.channel, t.category,"                                                          \
	" CASE WHEN s.policy_id IS NULL THEN 0 ELSE 1 END,"                              \
	" coalesce(s.response_breached, 0), coalesce(s.resolution_breached, 0),"          \
	" CASE WHEN t.vendor IS NULL THEN 0 ELSE 1 END,"                                 \
	" coalesce(s.response_ms, 0), coalesce(s.resolution_ms, 0), coalesce(s.t1_ms, 0),"\
	" coalesce(s.t2_ms, 0), coalesce(s.t3_ms, 0), coalesce(t.fcr, -1), t.reopens,"   \
	" t.tier_changes," REPORT_REASSIGNMENTS
#define REPORT_NCOLS 24
/* Reassignments of a ticket created since :lo (older ones: 0, no figure
 * needs them): its timeline's assignee changes away from someone (the
 * field event's JSON is {"field":"assignee_id","from":"ID" or null,...}
 * as api_tickets.c packs it; jansson keeps that order). */
#define REPORT_REASSIGNMENTS                                                              \
	" CASE WHEN t.created_at >= :lo THEN (SELECT count(*) FROM ticket_events e"      \
	" WHERE e.ticket_id = t.id AND e.kind = 'field'"                                  \
	" AND e.data LIKE '{\"field\":\"assignee_id\",\"from\":\"%') ELSE 0 END"
void sql_report_tickets(struct buf *b, const struct scope *sc, bool client);
/* report_csat: ticket_id, number, rating, comment, created_at; binds :lo
 * :hi :after :limit. report_hours: tier, billable, minutes; binds :lo :hi
 * :limit. (:client, :cid, :uid as used.) */
void sql_report_csat(struct buf *b, const struct scope *sc, bool client);
void sql_report_hours(struct buf *b, const struct scope *sc, bool client);
/* report_alert_events: alert_id, id, at, kind, severity, name; binds :lo
 * :hi :after :after_id :limit (and :client); vis is the backend's tenant
 * predicate on alias f ("" for staff). report_uptime: id, tenant_id,
 * hostname, created_at, active, up minutes; binds :lo :hi :after :limit
 * (and :client); vis on alias d. */
void sql_report_alert_events(struct buf *b, const char *vis, bool client);
void sql_report_uptime(struct buf *b, const char *vis, bool client);

/* The ticket list's query for tq in b: SELECT ... WHERE (visibility and
 * filters) ORDER BY t.id DESC LIMIT :limit. fts_sql: the backend's
 * search predicate when tq->fts is set ("t.id IN (...)", with :fts),
 * fts_client_sql the same for a client scope (internal notes excluded).
 * Binds :before :client :status :prio :tier :queue :assignee :limit, as
 * used. Constant fragments only. */
void sql_ticket_list(struct buf *b, const struct scope *sc, const struct ticket_q *tq,
		     const char *fts_sql, const char *fts_client_sql);

/* Report schedules (0009): the columns of struct report_schedule in
 * order, from SCHEDULE_FROM (the schedule s and its client c). */
#define SCHEDULE_COLS                                                                    \
	"s.id, s.tenant_id, s.cadence, s.recipients, s.csv, s.enabled, s.hour,"          \
	" s.last_period_sent, coalesce(s.last_sent_at, 0), s.next_at, s.created_by,"      \
	" s.created_at, s.updated_at, s.version, c.name, s.last_period_to, s.counts_from"
#define SCHEDULE_FROM " FROM report_schedules s JOIN clients c ON c.id = s.tenant_id"

#endif
