-- 0002: tickets, their conversation and timeline, time entries, triage
-- and escalation rules, CSAT, full-text search, and the outbox.
-- Tickets use rowid = id for the fastest keyset pages in SQLite; tenant_id
-- leads every index that lists them.

ALTER TABLE clients ADD COLUMN portal_org_visibility INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN auto_close_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE clients ADD COLUMN priority_matrix TEXT;

INSERT INTO settings (key, value) VALUES ('signing_key', lower(hex(randomblob(32))))
	ON CONFLICT (key) DO NOTHING;

CREATE TABLE tickets (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES clients(id),
	number INTEGER NOT NULL,
	requester_contact_id INTEGER,
	requester_user_id INTEGER,
	subject TEXT NOT NULL,
	description TEXT NOT NULL,
	type TEXT NOT NULL,
	category TEXT,
	impact TEXT NOT NULL,
	urgency TEXT NOT NULL,
	priority TEXT NOT NULL,
	priority_reason TEXT,
	status TEXT NOT NULL,
	channel TEXT NOT NULL,
	queue TEXT NOT NULL,
	tier INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 3),
	vendor TEXT,
	vendor_ref TEXT,
	assignee_id INTEGER,
	device_id INTEGER,
	parent_id INTEGER,
	tags TEXT NOT NULL DEFAULT '[]',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	last_activity_at INTEGER NOT NULL,
	first_response_at INTEGER,
	resolved_at INTEGER,
	closed_at INTEGER,
	fcr INTEGER,
	fcr_reason TEXT,
	first_handler_id INTEGER,
	resolved_by INTEGER,
	resolved_tier INTEGER,
	escalations INTEGER NOT NULL DEFAULT 0,
	tier_changes INTEGER NOT NULL DEFAULT 0,
	reopens INTEGER NOT NULL DEFAULT 0,
	early_reopens INTEGER NOT NULL DEFAULT 0,
	version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE UNIQUE INDEX tickets_number ON tickets(number);
CREATE INDEX tickets_tenant ON tickets(tenant_id, status, id);
CREATE INDEX tickets_status ON tickets(status, id);
CREATE INDEX tickets_queue ON tickets(queue, status, id);
CREATE INDEX tickets_assignee ON tickets(assignee_id, status, id);
CREATE INDEX tickets_requester ON tickets(requester_user_id, id);
CREATE INDEX tickets_activity ON tickets(status, last_activity_at);
-- The working set: open tickets, newest first, by the filters the desk uses
-- most (queue, assignee or unassigned, client). Partial indexes: history
-- does not slow them down.
CREATE INDEX tickets_open ON tickets(id) WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_open_queue ON tickets(queue, id) WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_open_assignee ON tickets(assignee_id, id) WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_open_tenant ON tickets(tenant_id, id) WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_resolved ON tickets(status, resolved_at);

CREATE TABLE ticket_messages (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL REFERENCES tickets(id),
	kind TEXT NOT NULL CHECK (kind IN ('reply', 'note')),
	author_user_id INTEGER,
	author_contact_id INTEGER,
	body TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id);

CREATE TABLE ticket_events (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL REFERENCES tickets(id),
	at INTEGER NOT NULL,
	actor_id INTEGER NOT NULL,
	kind TEXT NOT NULL,
	internal INTEGER NOT NULL,
	data TEXT NOT NULL
) STRICT;
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);

CREATE TABLE time_entries (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL REFERENCES tickets(id),
	user_id INTEGER NOT NULL,
	minutes INTEGER NOT NULL CHECK (minutes > 0),
	billable INTEGER NOT NULL,
	started_at INTEGER NOT NULL,
	note TEXT,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX time_entries_ticket ON time_entries(ticket_id, id);
CREATE INDEX time_entries_tenant ON time_entries(tenant_id, started_at);

CREATE TABLE triage_rules (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	position INTEGER NOT NULL,
	enabled INTEGER NOT NULL,
	on_create INTEGER NOT NULL,
	on_update INTEGER NOT NULL,
	stop INTEGER NOT NULL,
	conditions TEXT NOT NULL,
	actions TEXT NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE escalation_rules (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('no_update', 'unassigned')),
	minutes INTEGER NOT NULL CHECK (minutes > 0),
	priority TEXT,
	raise_to_tier INTEGER,
	notify INTEGER NOT NULL,
	enabled INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE escalation_fired (
	ticket_id INTEGER NOT NULL,
	rule_id INTEGER NOT NULL,
	fired_at INTEGER NOT NULL,
	PRIMARY KEY (ticket_id, rule_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE csat (
	ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
	tenant_id INTEGER NOT NULL,
	rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
	comment TEXT,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX csat_tenant ON csat(tenant_id, created_at);

CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	event TEXT NOT NULL,
	ticket_id INTEGER,
	payload TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending',
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_pending ON outbox(state, next_attempt_at);

-- Full-text search: one document per ticket (rowid = ticket id: subject and
-- description) and one per message (rowid = 2^40 + message id). internal
-- marks notes, which client users never search.
CREATE VIRTUAL TABLE ticket_fts USING fts5(ticket_id UNINDEXED, internal UNINDEXED, text,
	tokenize = 'unicode61 remove_diacritics 2');
