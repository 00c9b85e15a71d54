-- 0001: organisations, people, logins, sessions, tokens, settings, audit.
-- Clients are the tenants: a client's tenant id is its id. Tenant-owned
-- rows carry tenant_id first in their primary key (DESIGN.md section 4).

CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE clients (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	timezone TEXT NOT NULL,
	email_domain TEXT,
	notes TEXT,
	active INTEGER NOT NULL DEFAULT 1,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX clients_name ON clients(name COLLATE NOCASE);

CREATE TABLE contacts (
	tenant_id INTEGER NOT NULL REFERENCES clients(id),
	id INTEGER NOT NULL,
	name TEXT NOT NULL,
	email TEXT,
	phone TEXT,
	title TEXT,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX contacts_id ON contacts(id);
CREATE UNIQUE INDEX contacts_email ON contacts(tenant_id, email COLLATE NOCASE)
	WHERE email IS NOT NULL;

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	email TEXT NOT NULL,
	name TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher', 'technician',
		'client_admin', 'client_user', 'client_it')),
	tier INTEGER CHECK (tier IS NULL OR tier BETWEEN 1 AND 3),
	client_id INTEGER REFERENCES clients(id),
	active INTEGER NOT NULL DEFAULT 1,
	password_hash TEXT,
	totp_secret TEXT,
	totp_enabled INTEGER NOT NULL DEFAULT 0,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	last_login_at INTEGER,
	CHECK ((role IN ('client_admin', 'client_user', 'client_it')) = (client_id IS NOT NULL)),
	CHECK ((role = 'technician') = (tier IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX users_email ON users(email);
CREATE INDEX users_client ON users(client_id, id);

CREATE TABLE sessions (
	id_hash BLOB PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	csrf_hash BLOB NOT NULL,
	mfa_ok INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	addr TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id, expires_at);

CREATE TABLE api_tokens (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	name TEXT NOT NULL,
	hash BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	revoked_at INTEGER
) STRICT;
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens(hash);

CREATE TABLE idempotency (
	user_id INTEGER NOT NULL,
	key TEXT NOT NULL,
	kind INTEGER NOT NULL,
	fingerprint BLOB NOT NULL,
	object_id INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_log (
	seq INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor_id INTEGER NOT NULL,
	tenant_id INTEGER NOT NULL,
	action TEXT NOT NULL,
	object_type TEXT,
	object_id INTEGER NOT NULL,
	outcome TEXT NOT NULL,
	addr TEXT,
	detail TEXT,
	prev_hash BLOB NOT NULL,
	hash BLOB NOT NULL
) STRICT;
CREATE INDEX audit_tenant ON audit_log(tenant_id, seq);
