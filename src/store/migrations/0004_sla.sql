-- 0004: SLA policies, contracts, and each ticket's SLA clocks.
-- Policies and contracts are provider configuration; a contract belongs to
-- one client (tenant_id), which is what its scope checks. A ticket's SLA
-- lives beside it (ticket_sla): its clock log (the replayable history, see
-- src/sla/clock.h) and what the last replay answered, so lists, reports
-- and the scheduler read columns instead of replaying.
CREATE TABLE sla_policies (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	calendar_id INTEGER NOT NULL REFERENCES calendars(id),
	calendars TEXT NOT NULL,
	targets TEXT NOT NULL,
	pause_statuses TEXT NOT NULL,
	warn_at TEXT NOT NULL,
	tier_targets TEXT NOT NULL,
	actions TEXT NOT NULL,
	is_default INTEGER NOT NULL DEFAULT 0,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX sla_policies_name ON sla_policies(name COLLATE NOCASE);
CREATE UNIQUE INDEX sla_policies_default ON sla_policies(is_default) WHERE is_default = 1;

CREATE TABLE contracts (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES clients(id),
	name TEXT NOT NULL,
	sla_policy_id INTEGER REFERENCES sla_policies(id),
	model TEXT NOT NULL CHECK (model IN ('per_seat', 'flat_fee', 'break_fix', 'block_hours')),
	starts_on TEXT NOT NULL,
	ends_on TEXT,
	notes TEXT,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	CHECK (ends_on IS NULL OR ends_on >= starts_on)
) STRICT;
CREATE INDEX contracts_tenant ON contracts(tenant_id, starts_on);

CREATE TABLE ticket_sla (
	ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
	tenant_id INTEGER NOT NULL,
	policy_id INTEGER,
	log TEXT NOT NULL,
	response_due INTEGER,
	resolution_due INTEGER,
	response_breached INTEGER NOT NULL DEFAULT 0,
	resolution_breached INTEGER NOT NULL DEFAULT 0,
	paused INTEGER NOT NULL DEFAULT 0,
	response_ms INTEGER NOT NULL DEFAULT 0,
	resolution_ms INTEGER NOT NULL DEFAULT 0,
	t1_ms INTEGER NOT NULL DEFAULT 0,
	t2_ms INTEGER NOT NULL DEFAULT 0,
	t3_ms INTEGER NOT NULL DEFAULT 0,
	ola_breached INTEGER NOT NULL DEFAULT 0,
	as_of INTEGER NOT NULL,
	fired INTEGER NOT NULL DEFAULT 0,
	next_at INTEGER
) STRICT;
-- The scheduler's queue: tickets with a timer still to come.
CREATE INDEX ticket_sla_next ON ticket_sla(next_at) WHERE next_at IS NOT NULL;
CREATE INDEX ticket_sla_policy ON ticket_sla(policy_id);
