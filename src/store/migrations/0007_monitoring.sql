-- 0007: monitoring (issue 7): enrolment tokens, devices, metric history
-- with rollups, checks, alerts and their events, maintenance windows.
-- docs/MONITORING.md explains the model; src/monitor/ the decisions.

-- A client's enrolment token: an agent that presents it becomes a device
-- of that client. Stored as SHA-256; shown once at creation.
CREATE TABLE enroll_tokens (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES clients (id),
	name TEXT NOT NULL,
	token_hash BLOB NOT NULL UNIQUE,
	created_by INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL DEFAULT 0,   -- 0: never
	revoked_at INTEGER NOT NULL DEFAULT 0,   -- 0: not revoked
	uses INTEGER NOT NULL DEFAULT 0,
	max_uses INTEGER NOT NULL DEFAULT 0      -- 0: any number
) STRICT;
CREATE INDEX enroll_tokens_tenant ON enroll_tokens (tenant_id, id);

-- An enrolled endpoint. token_hash is SHA-256 of its device token (the
-- agent's only credential, good on the agent routes only). latest holds
-- the newest reading of each series ({"name{labels}": [value, at_ms]}) so
-- any server can answer "latest metrics" without reading history.
CREATE TABLE devices (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES clients (id),
	hostname TEXT NOT NULL,
	os TEXT,
	token_hash BLOB NOT NULL UNIQUE,
	enroll_token_id INTEGER,
	inventory TEXT,
	inventory_at INTEGER NOT NULL DEFAULT 0,
	latest TEXT,
	last_seen_at INTEGER NOT NULL DEFAULT 0,
	active INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX devices_tenant ON devices (tenant_id, id);
CREATE INDEX devices_seen ON devices (last_seen_at);

-- Check-in batches seen, so a replayed batch (the agent's answer was lost,
-- or its spool is sent again) is stored once. Kept as long as raw samples.
CREATE TABLE agent_batches (
	device_id INTEGER NOT NULL,
	batch_id INTEGER NOT NULL,
	at INTEGER NOT NULL,
	PRIMARY KEY (device_id, batch_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX agent_batches_at ON agent_batches (at);

-- A series is one metric of one device with its labels (canonical JSON,
-- keys sorted; '' without labels): {"mount":"/"}.
CREATE TABLE metric_series (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	labels TEXT NOT NULL DEFAULT '',
	UNIQUE (device_id, name, labels)
) STRICT;

-- Raw samples, time first: every insert appends at the right edge of the
-- b-tree, and retention deletes a prefix. Read only by the rollups.
CREATE TABLE metric_raw (
	at INTEGER NOT NULL,
	series_id INTEGER NOT NULL,
	value REAL NOT NULL,
	PRIMARY KEY (at, series_id)
) STRICT, WITHOUT ROWID;

-- Rollups, series first (a chart reads one series' range): bucket is the
-- start of the minute / hour (ms); n samples with their sum, min and max.
CREATE TABLE metric_1m (
	series_id INTEGER NOT NULL,
	bucket INTEGER NOT NULL,
	n INTEGER NOT NULL,
	sum REAL NOT NULL,
	min REAL NOT NULL,
	max REAL NOT NULL,
	PRIMARY KEY (series_id, bucket)
) STRICT, WITHOUT ROWID;
CREATE INDEX metric_1m_bucket ON metric_1m (bucket);

CREATE TABLE metric_1h (
	series_id INTEGER NOT NULL,
	bucket INTEGER NOT NULL,
	n INTEGER NOT NULL,
	sum REAL NOT NULL,
	min REAL NOT NULL,
	max REAL NOT NULL,
	PRIMARY KEY (series_id, bucket)
) STRICT, WITHOUT ROWID;
CREATE INDEX metric_1h_bucket ON metric_1h (bucket);

-- Checks: a metric compared with thresholds, for one device (device_id),
-- every device of one client (tenant_id), or every device (both NULL).
-- Heartbeat loss is the check of the metric heartbeat.age_seconds, which
-- the server computes (docs/MONITORING.md). labels: a JSON object the
-- series' labels must contain (NULL: any series of the metric).
CREATE TABLE checks (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER REFERENCES clients (id),
	device_id INTEGER REFERENCES devices (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	metric TEXT NOT NULL,
	labels TEXT,
	cmp TEXT NOT NULL,
	warn REAL,
	crit REAL,
	hysteresis REAL NOT NULL DEFAULT 0,
	for_seconds INTEGER NOT NULL DEFAULT 0,
	flap_changes INTEGER NOT NULL DEFAULT 0,
	flap_window_seconds INTEGER NOT NULL DEFAULT 0,
	impact TEXT NOT NULL DEFAULT 'medium',
	enabled INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX checks_tenant ON checks (tenant_id, id);

-- One alert per check and series (source 'check'), or per Alertmanager
-- fingerprint (source 'alertmanager'); key is the dedup key, unique in
-- its tenant. state: the state machine's struct alert (src/monitor/alert.h)
-- as JSON; status and severity repeat it for queries. ticket_id: the
-- ticket it opened; ticket_version (a mark, not a version): the id of
-- that ticket's last timeline event when the monitor opened or reopened
-- it (a person's event after it: a person worked on the ticket).
CREATE TABLE alerts (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES clients (id),
	device_id INTEGER REFERENCES devices (id) ON DELETE SET NULL,
	check_id INTEGER REFERENCES checks (id) ON DELETE SET NULL,
	source TEXT NOT NULL,
	key TEXT NOT NULL,
	name TEXT NOT NULL,
	labels TEXT NOT NULL DEFAULT '',
	summary TEXT,
	status TEXT NOT NULL,
	severity TEXT NOT NULL,
	value REAL,
	state TEXT NOT NULL,
	in_maintenance INTEGER NOT NULL DEFAULT 0,
	ticket_id INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
	ticket_version INTEGER NOT NULL DEFAULT 0,
	acked_by INTEGER NOT NULL DEFAULT 0,
	acked_at INTEGER NOT NULL DEFAULT 0,
	firing_since INTEGER NOT NULL DEFAULT 0,
	resolved_at INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	UNIQUE (tenant_id, key)
) STRICT;
CREATE INDEX alerts_status ON alerts (status, tenant_id);
CREATE INDEX alerts_device ON alerts (device_id);
CREATE INDEX alerts_maintenance ON alerts (id) WHERE in_maintenance = 1;

-- What each alert announced (fire, severity, resolve, flapping, flap_end,
-- ack), in order. pending = 1 until the monitor has brought the alert's
-- ticket in line with it (in the same transaction as that ticket write).
CREATE TABLE alert_events (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	at INTEGER NOT NULL,
	kind TEXT NOT NULL,
	severity TEXT NOT NULL,
	value REAL,
	pending INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);
CREATE INDEX alert_events_pending ON alert_events (id) WHERE pending = 1;

-- Maintenance windows of a client or one of its devices: starts_at ..
-- ends_at, and with repeat 'daily' or 'weekly' again every day / week at
-- the same local time in timezone (until repeat_until, 0: no end).
CREATE TABLE maintenance_windows (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES clients (id),
	device_id INTEGER REFERENCES devices (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	starts_at INTEGER NOT NULL,
	ends_at INTEGER NOT NULL,
	repeat TEXT NOT NULL DEFAULT 'none',
	repeat_until INTEGER NOT NULL DEFAULT 0,
	timezone TEXT NOT NULL DEFAULT 'UTC',
	created_by INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX maintenance_tenant ON maintenance_windows (tenant_id, id);

-- Tokens of Alertmanager webhook receivers. One of a client (tenant_id)
-- files every alert under that client; one of the provider (tenant_id
-- NULL) finds the client from the label client_label (a client id or
-- name). device_label names the label whose value (host, or host:port)
-- is a device's hostname.
CREATE TABLE am_receivers (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER REFERENCES clients (id),
	name TEXT NOT NULL,
	token_hash BLOB NOT NULL UNIQUE,
	client_label TEXT NOT NULL DEFAULT 'client',
	device_label TEXT NOT NULL DEFAULT 'instance',
	created_at INTEGER NOT NULL
) STRICT;

-- Monitoring's progress marks: rollup.1m / rollup.1h (the first bucket not
-- yet rolled up), retention.
CREATE TABLE monitor_marks (
	name TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The defaults every client gets (issue 7): disk over 90 %, memory over
-- 95 % for 10 minutes, offline after 5 minutes. New clients get them in
-- the transaction that creates them; these are for the clients that exist.
INSERT INTO checks (tenant_id, name, metric, cmp, warn, crit, hysteresis, for_seconds, impact,
		    created_at, updated_at)
	SELECT id, 'Disk full', 'disk.used_percent', '>', NULL, 90, 2, 0, 'medium', 0, 0 FROM clients;
INSERT INTO checks (tenant_id, name, metric, cmp, warn, crit, hysteresis, for_seconds, impact,
		    created_at, updated_at)
	SELECT id, 'Memory exhausted', 'mem.used_percent', '>', NULL, 95, 2, 600, 'medium', 0, 0 FROM clients;
INSERT INTO checks (tenant_id, name, metric, cmp, warn, crit, hysteresis, for_seconds, impact,
		    created_at, updated_at)
	SELECT id, 'Offline', 'heartbeat.age_seconds', '>', NULL, 300, 0, 0, 'high', 0, 0 FROM clients;
