-- 0008: mail intake, attachments, notification templates, webhooks and
-- the outbox's deliveries (issue 8; docs/MAIL.md explains the model).
--
-- The outbox (0002) holds what happened (ticket.created, sla.breached...),
-- written in the transaction of the change. The dispatcher turns each row
-- into deliveries, one per e-mail recipient and per webhook, in one
-- transaction that also marks the row done; then sends each delivery and
-- records the outcome, retrying with backoff. An e-mail is composed whole
-- when its delivery is made, so every retry sends the same bytes with the
-- same Message-ID.

-- A message as it entered the ticket: where the quoted earlier text
-- starts (byte offset into body; the UI folds from there; NULL: none)
-- and where it came from ('email'; NULL: typed in itsup).
ALTER TABLE ticket_messages ADD COLUMN quote_at INTEGER;
ALTER TABLE ticket_messages ADD COLUMN source TEXT;

-- Every Message-ID itsup received or sent, for threading (In-Reply-To,
-- References) and for storing a message delivered twice only once.
-- tenant_id 0 and ticket_id NULL: received but filed under no ticket
-- (held, ignored).
CREATE TABLE mail_ids (
	message_id TEXT PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	ticket_id INTEGER,
	direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
	created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX mail_ids_ticket ON mail_ids(ticket_id);

-- The intake log: every message posted to /api/v1/mail/inbound and what
-- became of it. raw is kept for held messages (a person files them).
CREATE TABLE mail_inbound (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,       -- 0: no client (held, ignored)
	message_id TEXT NOT NULL,
	sender TEXT NOT NULL,             -- lower-case address, '' when none
	recipient TEXT NOT NULL,          -- the address that routed it, ''
	subject TEXT NOT NULL,
	action TEXT NOT NULL CHECK (action IN ('created', 'appended', 'duplicate', 'held',
		'rate_limited', 'auto_reply', 'bounce', 'ignored', 'released')),
	reason TEXT NOT NULL,
	ticket_id INTEGER,
	size INTEGER NOT NULL,
	raw BLOB,
	received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX mail_inbound_sender ON mail_inbound(sender, received_at);
CREATE INDEX mail_inbound_action ON mail_inbound(action, id);

-- Files that came with a message (e-mail attachments and inline images).
-- internal: of an internal note (bounces and automatic replies filed on a
-- ticket), hidden from client users like the note.
CREATE TABLE attachments (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL REFERENCES tickets(id),
	message_id INTEGER,               -- ticket_messages.id
	filename TEXT NOT NULL,
	content_type TEXT NOT NULL,
	content_id TEXT,
	inline INTEGER NOT NULL DEFAULT 0,
	internal INTEGER NOT NULL DEFAULT 0,
	size INTEGER NOT NULL,
	sha256 BLOB NOT NULL,
	data BLOB NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_ticket ON attachments(ticket_id, id);

-- A recipient address that picks the client and/or the queue of what is
-- sent to it ("acme@support.example" -> Acme; "noc@..." -> queue noc).
CREATE TABLE mail_routes (
	id INTEGER PRIMARY KEY,
	address TEXT NOT NULL UNIQUE,     -- lower-case
	client_id INTEGER REFERENCES clients(id),
	queue TEXT,
	created_at INTEGER NOT NULL
) STRICT;

-- An admin's override of a notification template (the built-in text is
-- in src/notify/compose.c; deleting the row restores it).
CREATE TABLE mail_templates (
	key TEXT PRIMARY KEY,
	subject TEXT NOT NULL,
	body TEXT NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	updated_at INTEGER NOT NULL
) STRICT;

-- A webhook subscription: events is a JSON array of event names;
-- client_id limits it to one client's events (NULL: every client). The
-- secret signs deliveries (HMAC-SHA256), so it is kept, not hashed. Ids
-- are never reused (AUTOINCREMENT): a delivery's webhook_id must not come
-- to name a later subscription with another secret.
CREATE TABLE webhooks (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL,
	url TEXT NOT NULL,
	events TEXT NOT NULL,
	client_id INTEGER REFERENCES clients(id),
	secret TEXT NOT NULL,
	active INTEGER NOT NULL DEFAULT 1,
	version INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- One message to one recipient or webhook. body: the whole RFC 5322
-- message (email) or the JSON posted (webhook). state: pending (to be
-- sent at next_attempt_at), sent, failed (gave up, or refused for good).
CREATE TABLE deliveries (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	outbox_id INTEGER NOT NULL,
	ticket_id INTEGER,
	event TEXT NOT NULL,
	channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
	template TEXT,                    -- email: the template key
	target TEXT NOT NULL,             -- the address, or the webhook's URL
	webhook_id INTEGER,
	message_id TEXT,                  -- email: its Message-ID
	subject TEXT,
	body BLOB NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error TEXT,
	last_status INTEGER,
	sent_at INTEGER,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
CREATE INDEX deliveries_ticket ON deliveries(ticket_id, id);
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);

-- The mail intake finds a sender's contact in any client by address.
CREATE INDEX contacts_email_any ON contacts(email COLLATE NOCASE);
