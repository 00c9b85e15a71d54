-- 0009: scheduled delivery of the SLA review pack (issue 9; docs/REPORTS.md,
-- "Scheduled delivery").
--
-- A schedule sends one client's review of each period (a month or a
-- quarter of the client's own days) to a list of addresses, on the first
-- day after the period ends at `hour` o'clock local time, through the
-- outbox. last_period_to is the claim: the job moves it forward with one
-- conditional UPDATE (... WHERE last_period_to IS NULL OR last_period_to <
-- the period's end) in the transaction that writes the outbox row, so a
-- period is sent once however many servers try, and a period that ends no
-- later than one already sent (a month of a quarter sent before the
-- cadence changed) is not sent at all. counts_from is the moment the
-- schedule counts from: its creation, then each time it is switched on
-- again; a period whose send time is before it is never sent.
-- next_at is when the job looks at the schedule next (UTC ms; the send
-- time of the next period, kept by the API and the job), so the
-- scheduler's tick is one indexed probe. Ids are never reused
-- (AUTOINCREMENT): an outbox row names its schedule.
CREATE TABLE report_schedules (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant_id INTEGER NOT NULL REFERENCES clients(id),
	cadence TEXT NOT NULL CHECK (cadence IN ('monthly', 'quarterly')),
	recipients TEXT NOT NULL,           -- JSON array of lower-case addresses
	csv INTEGER NOT NULL DEFAULT 0,     -- attach the ticket rows (CSV) beside the HTML pack
	hour INTEGER NOT NULL DEFAULT 7 CHECK (hour BETWEEN 0 AND 23),
	enabled INTEGER NOT NULL DEFAULT 1,
	last_period_sent TEXT,              -- first day (YYYY-MM-DD) of the last period claimed
	last_period_to TEXT,                -- the day after its last day (YYYY-MM-DD): the claim
	last_sent_at INTEGER,
	next_at INTEGER NOT NULL,
	counts_from INTEGER NOT NULL,       -- UTC ms: created_at, then each switch from off to on
	created_by INTEGER NOT NULL,        -- the user (0: the system)
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX report_schedules_tenant ON report_schedules(tenant_id, id);
CREATE INDEX report_schedules_due ON report_schedules(next_at) WHERE enabled = 1;
