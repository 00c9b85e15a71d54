/*
 * store_sql.c: the SQL text both backends share (see store_sql.h).
 */
#include "base/common.h"

#include "store/store_sql.h"

const char *sql_ticket_vis(const struct scope *sc)
{
	if (sc->all_tenants)
		return "";
	if (sc->role == ROLE_CLIENT_USER)
		return " AND t.tenant_id = :cid AND (t.requester_user_id = :uid OR EXISTS"
		       " (SELECT 1 FROM clients c WHERE c.id = t.tenant_id AND c.portal_org_visibility = 1))";
	return " AND t.tenant_id = :cid";
}

void sql_report_tickets(struct buf *b, const struct scope *sc, bool client)
{
	buf_appends(b, "SELECT " REPORT_COLS TICKET_FROM " WHERE t.created_at < :hi"
		       " AND (t.resolved_at IS NULL OR t.resolved_at >= :lo OR t.closed_at >= :lo)"
		       " AND t.id > :after");
	buf_appends(b, sql_ticket_vis(sc));
	if (client)
		buf_appends(b, " AND t.tenant_id = :client");
	buf_appends(b, " ORDER BY t.id LIMIT :limit");
}

void sql_report_csat(struct buf *b, const struct scope *sc, bool client)
{
	buf_appends(b, "SELECT c.ticket_id, t.number, c.rating, c.comment, c.created_at"
		       " FROM csat c JOIN tickets t ON t.id = c.ticket_id"
		       " WHERE c.created_at >= :lo AND c.created_at < :hi AND c.ticket_id > :after");
	buf_appends(b, sql_ticket_vis(sc));
	if (client)
		buf_appends(b, " AND t.tenant_id = :client");
	buf_appends(b, " ORDER BY c.ticket_id LIMIT :limit");
}

void sql_report_hours(struct buf *b, const struct scope *sc, bool client)
{
	buf_appends(b, "SELECT coalesce(u.tier, 0), CASE WHEN e.billable = 0 THEN 0 ELSE 1 END,"
		       " sum(e.minutes)"
		       " FROM time_entries e JOIN tickets t ON t.id = e.ticket_id"
		       " LEFT JOIN users u ON u.id = e.user_id"
		       " WHERE e.started_at >= :lo AND e.started_at < :hi");
	buf_appends(b, sql_ticket_vis(sc));
	if (client)
		buf_appends(b, " AND t.tenant_id = :client");
	buf_appends(b, " GROUP BY 1, 2 ORDER BY 1, 2 LIMIT :limit");
}

void sql_report_alert_events(struct buf *b, const char *vis, bool client)
{
	buf_appends(b, "SELECT e.alert_id, e.id, e.at, e.kind, e.severity, a.name"
		       " FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
		       " WHERE e.kind IN ('fire', 'ack', 'resolve') AND e.at >= :lo"
		       " AND (e.alert_id > :after OR (e.alert_id = :after AND e.id > :after_id))"
		       " AND e.alert_id IN (SELECT f.alert_id FROM alert_events f"
		       " WHERE f.kind = 'fire' AND f.at >= :lo AND f.at < :hi");
	buf_appends(b, vis);
	if (client)
		buf_appends(b, " AND f.tenant_id = :client");
	buf_appends(b, ") ORDER BY e.alert_id, e.id LIMIT :limit");
}

void sql_report_uptime(struct buf *b, const char *vis, bool client)
{
	buf_appends(b, "SELECT d.id, d.tenant_id, d.hostname, d.created_at, d.active,"
		       " coalesce((SELECT sum(CASE WHEN m.n < 60 THEN m.n ELSE 60 END)"
		       " FROM metric_series s JOIN metric_1h m ON m.series_id = s.id"
		       " WHERE s.device_id = d.id AND s.name = 'uptime.seconds' AND s.labels = ''"
		       " AND m.bucket >= :lo AND m.bucket < :hi), 0)"
		       " FROM devices d WHERE d.created_at < :hi AND d.id > :after");
	buf_appends(b, vis);
	if (client)
		buf_appends(b, " AND d.tenant_id = :client");
	buf_appends(b, " ORDER BY d.id LIMIT :limit");
}

void sql_ticket_list(struct buf *b, const struct scope *sc, const struct ticket_q *tq,
		     const char *fts_sql, const char *fts_client_sql)
{
	/* open_only is spelled exactly as the partial indexes' WHERE (both
	 * schemas' 0002), so the planner can use them. */
	buf_appends(b, "SELECT " TICKET_COLS TICKET_FROM " WHERE true");
	buf_appends(b, sql_ticket_vis(sc));
	if (tq->before)
		buf_appends(b, " AND t.id < :before");
	if (tq->client_id)
		buf_appends(b, " AND t.tenant_id = :client");
	if (tq->status >= 0)
		buf_appends(b, " AND t.status = :status");
	else if (tq->open_only)
		buf_appends(b, " AND t.status NOT IN ('resolved', 'closed')");
	if (tq->priority >= 0)
		buf_appends(b, " AND t.priority = :prio");
	if (tq->tier)
		buf_appends(b, " AND t.tier = :tier");
	if (tq->queue)
		buf_appends(b, " AND t.queue = :queue");
	if (tq->assignee_id > 0)
		buf_appends(b, " AND t.assignee_id = :assignee");
	else if (tq->assignee_id < 0)
		buf_appends(b, " AND t.assignee_id IS NULL");
	if (tq->fts) {
		buf_appends(b, " AND ");
		buf_appends(b, sc->all_tenants ? fts_sql : fts_client_sql);
	}
	buf_appends(b, " ORDER BY t.id DESC LIMIT :limit");
}
