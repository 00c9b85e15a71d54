-- 0005: the technician console's queue counts (GET /api/v1/queues) read
-- the queue, priority, assignee and SLA breach of every open ticket.
-- A covering partial index of the open tickets makes the first three one
-- walk of a narrow index in queue order (no sort for the GROUP BY, no
-- lookup of the wide ticket row); its WHERE is spelled as the other
-- open-ticket indexes' (0002), and as the query's.
CREATE INDEX tickets_open_counts ON tickets(queue, priority, assignee_id)
	WHERE status NOT IN ('resolved', 'closed');
-- The breach is a probe per open ticket into the tickets that ever
-- breached (a breach stays): a small index that stays in cache, where a
-- probe of ticket_sla itself reads a row with its clock log (330 ms
-- against 90 ms for 195,000 open tickets, bench/ticket_bench.c).
CREATE INDEX ticket_sla_breached ON ticket_sla(ticket_id)
	WHERE response_breached = 1 OR resolution_breached = 1;
