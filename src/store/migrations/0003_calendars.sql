-- 0003: business-hours calendars (provider-wide; SLA policies refer to them).
CREATE TABLE calendars (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	timezone TEXT NOT NULL,
	always INTEGER NOT NULL,
	hours TEXT NOT NULL,
	holidays TEXT NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX calendars_name ON calendars(name COLLATE NOCASE);
