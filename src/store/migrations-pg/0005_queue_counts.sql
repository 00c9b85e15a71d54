-- 0005 (PostgreSQL): mirrors migrations/0005_queue_counts.sql; change the
-- two together.
-- The technician console's queue counts (GET /api/v1/queues) read the
-- queue, priority, assignee and SLA breach of every open ticket.
-- A covering partial index of the open tickets makes the first three one
-- walk of a narrow index in queue order (no sort for the GROUP BY, no
-- lookup of the wide ticket row); its WHERE is spelled as the other
-- open-ticket indexes' (0002), and as the query's.
-- Not one-to-one: an SQLite index on a rowid table carries the rowid (here
-- the ticket id) in every entry, and the breach probe below needs t.id. A
-- PostgreSQL index carries only its own columns, so id is added with
-- INCLUDE (stored in the leaf entries, not part of the key): without it
-- every open ticket's row is read for its id. The walk is an index-only
-- scan as long as the visibility map is current (autovacuum keeps it so);
-- status, tested by the query's WHERE, need not be in the index: the
-- index's predicate implies it.
CREATE INDEX tickets_open_counts ON tickets (queue, priority, assignee_id) INCLUDE (id)
	WHERE status NOT IN ('resolved', 'closed');
-- The breach is a probe per open ticket into the tickets that ever
-- breached (a breach stays): a small index that stays in cache, where a
-- probe of ticket_sla itself reads a row with its clock log (in SQLite, 330
-- ms against 90 ms for 195,000 open tickets, bench/ticket_bench.c). SQLite's
-- query forces this index with INDEXED BY; PostgreSQL has no index hints,
-- so the store's query (EXISTS (SELECT 1 FROM ticket_sla s WHERE
-- s.ticket_id = t.id AND (s.response_breached = 1 OR
-- s.resolution_breached = 1))) leaves the choice to the planner, which can
-- answer it from this index alone (index-only) because its predicate
-- implies the query's.
CREATE INDEX ticket_sla_breached ON ticket_sla (ticket_id)
	WHERE response_breached = 1 OR resolution_breached = 1;
