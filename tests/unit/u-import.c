/* u-import.c: `itsup migrate --from-sqlite FILE --pg URL` (pg_import_sqlite)
 * against a real PostgreSQL (scripts/with-pg starts a throw-away one and
 * sets ITSUP_TEST_PG; make check runs this under it). An SQLite deployment
 * built through the real store (clients, contacts, users, sessions and
 * tokens with BLOB hashes, tickets with messages, notes, time, outbox, SLA,
 * settings, the audit chain; text with tabs, newlines, carriage returns,
 * backslashes and non-ASCII; monitoring: an enrolled device, samples with
 * awkward REAL values, rollups, checks, an alert with its events and
 * ticket, a maintenance window, a receiver; mail: a ticket from an
 * e-mail with its new contact, Message-ID and an attachment of awkward
 * bytes, a held message with its raw bytes, a route, a template, a
 * webhook, deliveries with binary bodies) is copied into a fresh
 * database and read back: counts, values (REALs and BYTEAs bit for bit),
 * full-text search, identity sequences. A non-empty target,
 * a wrong schema version, a missing or foreign file and a schema out of
 * step are refused and change nothing; a row corrupted on the PostgreSQL
 * side inside the transaction (a test hook) is caught by the checksums and
 * rolled back. */
#include "base/common.h"

#include <math.h>
#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "auth/scope.h"
#include "store/pg.h"
#include "store/pg_import.h"
#include "store/store.h"

static const char *url;
static char dir[64], src_db[128];
static int64_t ticket_ids[3], msg_max, device_id, alert_id, alert_ticket, mail_ticket;

/* Texts COPY must escape, and non-ASCII. */
#define NOTES "tab\there\nnew line\r\nCR LF \\ backslash \\N not null \\. end \xc3\xa9t\xc3\xa9 \xe2\x82\xac"
#define BODY "The flibbertigibbet printer says:\t\"PC LOAD LETTER\"\nC:\\Users\\jane\\doc.txt"
#define NOTE_BODY "\xc3\x9c" "berraschung in the server room (internal)"

/* ---- PostgreSQL helpers -------------------------------------------------- */

/* A fresh database per test (the URL ends in /itsup: the same server). */
static char dburl[512];
static void fresh_db(const char *name)
{
	struct err e;
	char sql[160];
	PGconn *c;

	assert_int_equal(pg_connect(url, &c, &e), RC_OK);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
	assert_int_equal(pg_exec(c, sql, &e), RC_OK);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	assert_int_equal(pg_exec(c, sql, &e), RC_OK);
	PQfinish(c);
	snprintf(dburl, sizeof(dburl), "%.*s/%s", (int)(strrchr(url, '/') - url), url, name);
}

static PGconn *pg(void)
{
	struct err e;
	PGconn *c;

	assert_int_equal(pg_connect(dburl, &c, &e), RC_OK);
	return c;
}

/* The first value of a query, as text ("" for NULL), into out. */
static void pg_value(PGconn *c, const char *sql, char *out, size_t n)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_true(PQntuples(r) >= 1);
	snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

static long long pg_num(PGconn *c, const char *sql)
{
	char v[64];

	pg_value(c, sql, v, sizeof(v));
	return strtoll(v, NULL, 10);
}

static void pg_do(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
	assert_true(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
	PQclear(r);
}

/* ---- SQLite helpers --------------------------------------------------------- */

static long long sq_num(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	long long v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static void sq_do(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, msg);
	assert_null(msg);
	sqlite3_close(db);
}

/* A copy of the deployment that a test may change. */
static void copy_src(const char *name, char *out, size_t n)
{
	char cmd[512];

	snprintf(out, n, "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "cp %s %s", src_db, out);
	assert_int_equal(system(cmd), 0);
}

/* ---- the deployment, through the real store ------------------------------------ */

static int64_t write_ok(struct store *st, struct store_write *w)
{
	if (store_write_sync(st, w) != RC_OK) {
		fprintf(stderr, "store write %d: %s\n", (int)w->kind, w->err.msg);
		return 0;
	}
	return w->id;
}

static int64_t mk_ticket(struct store *st, int64_t client, int64_t user, const char *subject,
			 const char *body, const char *kind)
{
	struct scope sys = scope_system();
	struct store_write w;
	struct ticket_write tw;

	memset(&tw, 0, sizeof(tw));
	tw.t.client_id = client;
	tw.t.requester_user_id = user;
	tw.t.subject = subject;
	tw.t.description = "Description with a tab\tand\na new line, caf\xc3\xa9";
	tw.t.queue = "general";
	tw.t.tags = "[\"printer\"]";
	tw.t.tier = 1;
	tw.t.fcr = -1;
	tw.t.sla.present = true;
	tw.t.sla.log = "[]";
	tw.t.sla.response_due = 1700000000000LL;
	tw.sla_set = true;
	tw.sla_gen = -1;
	if (body) {
		tw.has_msg = true;
		tw.msg.kind = kind;
		tw.msg.body = body;
		tw.msg.author_user_id = user;
	}
	tw.has_te = true;
	tw.te.user_id = user;
	tw.te.minutes = 15;
	tw.te.billable = true;
	tw.te.note = "fixed\\it";
	tw.ob[0].event = "ticket.created";
	tw.ob[0].payload = "{\"x\":\"a\\tb\"}";
	tw.nob = 1;
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	w.audit.action = "ticket.create";
	w.audit.object_type = "ticket";
	return write_ok(st, &w);
}

/* Monitoring: REAL values that must come back bit for bit. */
static const double reals[] = { 0.1, 3.141592653589793, -1e-300, 1.7976931348623157e308,
				5e-324, 1.0 / 3, 100, 0 };

static int step_fn(void *arg, size_t i, struct alert *a, double *value, bool *has_value)
{
	static const struct check_rule rule = { .cmp = CMP_GT, .has_crit = true, .crit = 90 };
	const double *v = arg;

	*value = v[i];
	*has_value = true;
	return (int)alert_sample(a, &rule, v[i], 1700000000000LL + (int64_t)i * 60000);
}

static int build_monitoring(struct store *st, int64_t client)
{
	struct scope sys = scope_system();
	struct store_write w;
	struct sample sm[ARRAY_SIZE(reals) + 1];
	struct checkin_write ci;
	struct alert_pair pairs[2];
	struct alert_steps as;
	struct ticket_write tw;
	double vals[2] = { 95.25, 96.5 };
	int64_t chk;

	store_write_init(&w, W_ENROLL_TOKEN_CREATE, &sys);
	w.in.etok.row.client_id = client;
	w.in.etok.row.name = "rack\\1";
	w.in.etok.row.max_uses = 5;
	memset(w.in.etok.hash, '\\', 32);
	w.in.etok.hash[0] = 0;
	w.in.etok.hash[1] = '\t';
	if (!write_ok(st, &w))
		return -1;
	store_write_init(&w, W_DEVICE_ENROLL, &sys);
	memset(w.in.enroll.token_hash, '\\', 32);
	w.in.enroll.token_hash[0] = 0;
	w.in.enroll.token_hash[1] = '\t';
	memset(w.in.enroll.device_hash, 0xfe, 32);
	w.in.enroll.hostname = "web\t01";
	w.in.enroll.os = "Debian";
	w.in.enroll.inventory = "{\"cpus\":4,\"model\":\"caf\xc3\xa9\"}";
	w.in.enroll.now = 1700000000000LL;
	if (!(device_id = write_ok(st, &w)))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(reals); i++)
		sm[i] = (struct sample){ "m", i % 2 ? "{\"mount\":\"/\"}" : "", reals[i],
					 1700000000000LL + (int64_t)i * 1000 };
	sm[ARRAY_SIZE(reals)] = (struct sample){ "inf", "", HUGE_VAL, 1700000000000LL };
	memset(&ci, 0, sizeof(ci));
	ci.device_id = device_id;
	ci.client_id = client;
	ci.batch_id = 42;
	ci.now = 1700000000000LL;
	ci.samples = sm;
	ci.n = ARRAY_SIZE(sm);
	ci.latest = "{\"m\":[0.1,1700000000000]}";
	store_write_init(&w, W_CHECKIN, &sys);
	w.in.checkin = &ci;
	if (!write_ok(st, &w) || ci.stored != ARRAY_SIZE(sm))
		return -1;
	/* Minutes, then minutes and hours. */
	for (int i = 0; i < 2; i++) {
		store_write_init(&w, W_MONITOR_ROLLUP, &sys);
		w.in.rollup.upto = 1700000000000LL + (i ? 2 * 3600000 : 600000);
		if (store_write_sync(st, &w) != RC_OK)
			return -1;
	}

	store_write_init(&w, W_CHECK_PUT, &sys);
	w.in.check = (struct check_row){ .client_id = client, .device_id = device_id, .name = "disk",
					 .metric = "m", .impact = "high", .enabled = true,
					 .rule = { .cmp = CMP_GT, .has_crit = true, .crit = 90.5,
						   .hysteresis = 0.1 } };
	if (!(chk = write_ok(st, &w)))
		return -1;
	memset(pairs, 0, sizeof(pairs));
	pairs[0] = (struct alert_pair){ 0, client, device_id, chk, "k1", "check", "disk", "", "full" };
	pairs[1] = pairs[0];
	memset(&as, 0, sizeof(as));
	as.items = pairs;
	as.n = 2;
	as.fn = step_fn;
	as.arg = vals;
	as.now = 1700000060000LL;
	store_write_init(&w, W_ALERT_STEP, &sys);
	w.in.steps = &as;
	if (store_write_sync(st, &w) != RC_OK || !as.alert_id || as.events != 1)
		return -1;
	alert_id = as.alert_id;
	memset(&tw, 0, sizeof(tw));
	tw.t.client_id = client;
	tw.t.subject = "disk full";
	tw.t.description = "";
	tw.t.queue = "general";
	tw.t.tags = "[]";
	tw.t.tier = 1;
	tw.t.fcr = -1;
	tw.alert_id = alert_id;
	tw.alert_events_upto = INT64_MAX;
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	if (!(alert_ticket = write_ok(st, &w)))
		return -1;

	store_write_init(&w, W_MWINDOW_PUT, &sys);
	w.in.mw = (struct mwindow_row){ .client_id = client, .name = "patch\nnight", .repeat = "weekly",
					.timezone = "Europe/Paris", .starts_at = 1700000000000LL,
					.ends_at = 1700003600000LL };
	if (!write_ok(st, &w))
		return -1;
	store_write_init(&w, W_AM_RECEIVER_CREATE, &sys);
	w.in.amr.row = (struct am_receiver_row){ .name = "prom", .client_label = "client",
						 .device_label = "instance" };
	memset(w.in.amr.hash, 0x0a, 32);
	return write_ok(st, &w) ? 0 : -1;
}

/* Mail: bytes COPY must not mistake (NUL, tab, newline, CR, backslash,
 * "\\N", high bytes) in an attachment, a held message's raw text and a
 * delivery's body. */
static const unsigned char att_bytes[] = { 0, '\t', '\n', '\r', '\\', 'N', '\\', '.', 0x80, 0xff, 0 };
#define RAW "From: stranger@nowhere.example\r\nSubject: Hi\r\n\r\nbody\0\\N\ttail\xff"
#define DELIVERY_BODY "Message-ID: <n1@desk.example>\r\n\r\n\\. \t\0end"

static int build_mail(struct store *st, int64_t client)
{
	struct scope sys = scope_system();
	struct store_write w;
	struct ticket_write tw;
	struct mail_file mf;
	struct attachment_row att;
	struct outbox_list ol;
	struct delivery_row d[2];
	struct arena *a = arena_new(1 << 20);
	struct err e;
	int64_t outbox = 0, hook, gone;

	if (!a)
		return -1;
	store_write_init(&w, W_MAIL_LOG, &sys);
	w.in.inbound = (struct inbound_row){ .message_id = "<held@nowhere.example>",
					     .sender = "stranger@nowhere.example",
					     .recipient = "help@desk.example", .subject = "Hi\tthere",
					     .action = "held", .reason = "unknown sender",
					     .size = sizeof(RAW) - 1, .raw = (const unsigned char *)RAW,
					     .raw_len = sizeof(RAW) - 1, .received_at = 1700000000000LL };
	if (!write_ok(st, &w))
		goto fail;

	memset(&att, 0, sizeof(att));
	att.filename = "dump\t1.bin";
	att.content_type = "application/octet-stream";
	att.data = att_bytes;
	att.size = sizeof(att_bytes);
	memset(&mf, 0, sizeof(mf));
	mf.message_id = "<m1@acme.example>";
	mf.new_contact_email = "mailer@acme.example";
	mf.new_contact_name = "Mail\\Er";
	mf.att = &att;
	mf.natt = 1;
	mf.log = (struct inbound_row){ .sender = "mailer@acme.example", .recipient = "help@desk.example",
				       .subject = "From mail", .action = "created", .reason = "",
				       .size = 100, .received_at = 1700000000001LL };
	memset(&tw, 0, sizeof(tw));
	tw.t.client_id = client;
	tw.t.channel = CH_EMAIL;
	tw.t.subject = "From mail";
	tw.t.description = "mailed";
	tw.t.queue = "general";
	tw.t.tags = "[]";
	tw.t.tier = 1;
	tw.t.fcr = -1;
	tw.has_msg = true;
	tw.msg.kind = "reply";
	tw.msg.body = "Hi\n> quoted";
	tw.msg.quote_at = 3;
	tw.msg.source = "email";
	tw.ob[0].event = "ticket.created";
	tw.ob[0].payload = "{}";
	tw.nob = 1;
	tw.mail = &mf;
	store_write_init(&w, W_TICKET_CREATE, &sys);
	w.in.tw = &tw;
	if (!(mail_ticket = write_ok(st, &w)) || !mf.contact_id || !mf.inbound_id)
		goto fail;

	store_write_init(&w, W_MAIL_ROUTE_PUT, &sys);
	w.in.route = (struct mail_route_row){ .address = "acme@desk.example", .client_id = client,
					      .queue = "noc" };
	if (!write_ok(st, &w))
		goto fail;
	store_write_init(&w, W_TEMPLATE_PUT, &sys);
	w.in.tmpl = (struct template_row){ .key = "ticket.created", .subject = "New: {{subject}}",
					   .body = "Hello\n\t{{name}} \\o/" };
	if (store_write_sync(st, &w) != RC_OK)
		goto fail;
	store_write_init(&w, W_WEBHOOK_PUT, &sys);
	w.in.webhook = (struct webhook_row){ .name = "chat", .url = "https://hooks.example/in",
					     .events = "[\"ticket.created\"]", .secret = "s3cr\\t",
					     .active = true };
	if (!(hook = write_ok(st, &w)))
		goto fail;
	/* A webhook deleted: its id (the highest) is never handed out again
	 * (AUTOINCREMENT), on PostgreSQL either. */
	store_write_init(&w, W_WEBHOOK_PUT, &sys);
	w.in.webhook = (struct webhook_row){ .name = "gone", .url = "https://gone.example/",
					     .events = "[]", .secret = "x", .active = true };
	if (!(gone = write_ok(st, &w)))
		goto fail;
	store_write_init(&w, W_WEBHOOK_DELETE, &sys);
	w.id = gone;
	if (store_write_sync(st, &w) != RC_OK)
		goto fail;

	/* The mail ticket's outbox row, expanded; the webhook's attempt failed. */
	if (store_outbox_pending(st, 100, a, &ol, &e) != RC_OK)
		goto fail;
	for (size_t i = 0; i < ol.n; i++)
		if (ol.items[i].ticket_id == mail_ticket)
			outbox = ol.items[i].id;
	memset(d, 0, sizeof(d));
	d[0].channel = "email";
	d[0].template_key = "ticket.created";
	d[0].target = "mailer@acme.example";
	d[0].message_id = "<n1@desk.example>";
	d[0].subject = "New: From mail";
	d[0].body = (const unsigned char *)DELIVERY_BODY;
	d[0].body_len = sizeof(DELIVERY_BODY) - 1;
	d[1].channel = "webhook";
	d[1].target = "https://hooks.example/in";
	d[1].webhook_id = hook;
	d[1].body = (const unsigned char *)"{\"event\":\"ticket.created\"}";
	d[1].body_len = strlen((const char *)d[1].body);
	store_write_init(&w, W_OUTBOX_EXPAND, &sys);
	w.in.expand.outbox_id = outbox;
	w.in.expand.now = 1700000000002LL;
	w.in.expand.items = d;
	w.in.expand.n = 2;
	if (!outbox || store_write_sync(st, &w) != RC_OK || !d[1].id)
		goto fail;
	store_write_init(&w, W_DELIVERY_RESULT, &sys);
	w.in.dres.id = d[1].id;
	w.in.dres.now = 1700000000003LL;
	w.in.dres.state = "failed";
	w.in.dres.error = "HTTP 500\tboom";
	w.in.dres.status = 500;
	if (store_write_sync(st, &w) != RC_OK)
		goto fail;
	arena_free(a);
	return 0;
fail:
	arena_free(a);
	return -1;
}

/* Report schedules (0009): one whose period was claimed (with its outbox
 * row), one deleted (its id, the highest, is never handed out again). */
static int build_schedules(struct store *st, int64_t client)
{
	struct scope sys = scope_system();
	struct store_write w;
	int64_t kept, gone;

	store_write_init(&w, W_SCHEDULE_PUT, &sys);
	w.in.sched = (struct report_schedule){ .client_id = client, .cadence = "quarterly",
					       .recipients = "[\"cfo@acme.example\",\"it@acme.example\"]",
					       .csv = true, .hour = 23, .enabled = true,
					       .next_at = 1700000000000LL };
	if (!(kept = write_ok(st, &w)))
		return -1;
	store_write_init(&w, W_SCHEDULE_CLAIM, &sys);
	w.in.claim = (__typeof__(w.in.claim)){ .id = kept, .period = "2023-07-01",
					       .period_to = "2023-10-01", .next_at = 1704150000000LL, .now = 1700000000005LL,
					       .event = "report.review", .payload = "{\"schedule_id\":1}" };
	if (!write_ok(st, &w))
		return -1;
	store_write_init(&w, W_SCHEDULE_PUT, &sys);
	w.in.sched = (struct report_schedule){ .client_id = client, .cadence = "monthly",
					       .recipients = "[\"x@acme.example\"]", .hour = 7,
					       .next_at = 1700000000000LL };
	if (!(gone = write_ok(st, &w)))
		return -1;
	store_write_init(&w, W_SCHEDULE_DELETE, &sys);
	w.id = gone;
	return store_write_sync(st, &w) == RC_OK ? 0 : -1;
}

static int build_deployment(void)
{
	struct scope sys = scope_system();
	struct store_write w;
	struct store *st;
	struct err e;
	int64_t c1, c2, tech, cu;

	snprintf(dir, sizeof(dir), "/tmp/u-import-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(src_db, sizeof(src_db), "%s/src.db", dir);
	if (store_open(&st, src_db, true, &e) != RC_OK) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		return -1;
	}

	store_write_init(&w, W_CLIENT_CREATE, &sys);
	w.in.client = (struct client){ .name = "Acme", .timezone = "Europe/Paris", .active = true,
				       .notes = NOTES, .email_domain = "acme.example" };
	w.audit.action = "client.create";
	c1 = write_ok(st, &w);
	store_write_init(&w, W_CLIENT_CREATE, &sys);
	w.in.client = (struct client){ .name = "Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale",
				       .timezone = "UTC", .active = true };
	w.audit.action = "client.create";
	c2 = write_ok(st, &w);

	store_write_init(&w, W_CONTACT_CREATE, &sys);
	w.in.contact = (struct contact){ .client_id = c1, .name = "Alice\tA.", .email = "alice@acme.example" };
	w.audit.action = "contact.create";
	write_ok(st, &w);
	store_write_init(&w, W_CONTACT_CREATE, &sys);
	w.in.contact = (struct contact){ .client_id = c2, .name = "Bj\xc3\xb6rn" }; /* no e-mail, no phone */
	w.audit.action = "contact.create";
	write_ok(st, &w);

	store_write_init(&w, W_USER_CREATE, &sys);
	w.in.user = (struct user){ .email = "tech@p.test", .name = "Tech", .role = ROLE_TECHNICIAN,
				   .tier = 2, .active = true, .password_hash = "$argon2id$v=19$m=65536\\x" };
	w.audit.action = "user.create";
	tech = write_ok(st, &w);
	store_write_init(&w, W_USER_CREATE, &sys);
	w.in.user = (struct user){ .email = "cu@acme.example", .name = "Client User",
				   .role = ROLE_CLIENT_USER, .client_id = c1, .active = true };
	w.audit.action = "user.create";
	cu = write_ok(st, &w);

	/* Sessions and a token: BLOB keys with the bytes COPY must not
	 * mistake (NUL, tab, newline, backslash, high bytes). */
	store_write_init(&w, W_LOGIN, &sys);
	for (int i = 0; i < 32; i++) {
		w.in.session.id_hash[i] = (unsigned char)(i * 37 + 1);
		w.in.session.s.csrf_hash[i] = (unsigned char)(255 - i);
	}
	w.in.session.id_hash[0] = 0;
	w.in.session.id_hash[1] = '\t';
	w.in.session.id_hash[2] = '\n';
	w.in.session.id_hash[3] = '\\';
	w.in.session.s.user_id = tech;
	w.in.session.s.created_at = 1700000000000LL;
	w.in.session.s.expires_at = 4102444800000LL;
	w.in.session.s.mfa_ok = true;
	w.in.session.addr = "192.0.2.1";
	w.audit.action = "login";
	write_ok(st, &w);
	store_write_init(&w, W_LOGIN, &sys);
	memset(w.in.session.id_hash, 0xab, 32);
	memset(w.in.session.s.csrf_hash, 0x5c, 32);
	w.in.session.s.user_id = cu;
	w.in.session.s.created_at = 1700000000001LL;
	w.in.session.s.expires_at = 4102444800000LL;
	write_ok(st, &w);
	store_write_init(&w, W_TOKEN_CREATE, &sys);
	memset(w.in.token.hash, 0x0d, 32);
	w.in.token.t.user_id = tech;
	w.in.token.t.name = "ci\\token";
	write_ok(st, &w);

	store_write_init(&w, W_SETTING_SET, &sys);
	w.in.setting.key = "portal.banner";
	w.in.setting.value = "Welcome\n\tto the \\portal\\ \xe2\x9c\x93";
	write_ok(st, &w);

	ticket_ids[0] = mk_ticket(st, c1, cu, "Printer jams", BODY, "reply");
	ticket_ids[1] = mk_ticket(st, c1, tech, "Server room", NOTE_BODY, "note");
	ticket_ids[2] = mk_ticket(st, c2, tech, "No message", NULL, NULL);
	if (build_mail(st, c1) != 0 || build_monitoring(st, c1) != 0 || build_schedules(st, c1) != 0) {
		store_close(st);
		return -1;
	}
	store_close(st);
	for (int i = 0; i < 3; i++)
		if (!ticket_ids[i])
			return -1;
	msg_max = sq_num(src_db, "SELECT max(id) FROM ticket_messages");
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return build_deployment();
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ------------------------------------------------------------------- */

static const char *const all_tables[] = {
	"settings", "clients", "contacts", "users", "sessions", "api_tokens", "idempotency",
	"audit_log", "tickets", "ticket_messages", "ticket_events", "time_entries", "triage_rules",
	"escalation_rules", "escalation_fired", "csat", "outbox", "ticket_fts", "calendars",
	"sla_policies", "contracts", "ticket_sla", "enroll_tokens", "devices", "agent_batches",
	"metric_series", "metric_raw", "metric_1m", "metric_1h", "checks", "alerts", "alert_events",
	"maintenance_windows", "am_receivers", "monitor_marks", "mail_ids", "mail_inbound",
	"attachments", "mail_routes", "mail_templates", "webhooks", "deliveries", "report_schedules",
};

static int position(const struct pg_import_report *r, const char *name);

/* The report's line of a table (an empty one, never equal, when missing:
 * check with position()). */
static const struct pg_import_table *find(const struct pg_import_report *r, const char *name)
{
	static const struct pg_import_table none;
	int i = position(r, name);

	return i < 0 ? &none : &r->tables[i];
}

static int position(const struct pg_import_report *r, const char *name)
{
	for (int i = 0; i < r->ntables; i++)
		if (!strcmp(r->tables[i].name, name))
			return i;
	return -1;
}

static void test_import_copies_everything(void **state)
{
	struct pg_import_report rep;
	struct err e;
	char *out = NULL, v[512], sql[256];
	size_t outlen = 0;
	FILE *progress = open_memstream(&out, &outlen);
	long long sq_rows = 0;
	PGconn *c;

	(void)state;
	fresh_db("u_import_ok");
	assert_non_null(progress);
	if (pg_import_sqlite(src_db, dburl, progress, &rep, &e) != RC_OK)
		fprintf(stderr, "import: %s\n", e.msg);
	fclose(progress);
	assert_int_equal(e.code, RC_OK);
	assert_true(rep.committed);
	assert_true(rep.migrations_applied > 0);
	assert_int_equal(rep.schema_version, rep.migrations_applied);

	/* Every table of the schema, verified, with SQLite's counts. */
	for (size_t i = 0; i < ARRAY_SIZE(all_tables); i++) {
		const struct pg_import_table *t = find(&rep, all_tables[i]);
		if (position(&rep, all_tables[i]) < 0)
			fprintf(stderr, "table %s not in the report\n", all_tables[i]);
		assert_true(position(&rep, all_tables[i]) >= 0);
		assert_true(t->equal);
		assert_int_equal(t->rows_sqlite, t->rows_pg);
		assert_string_equal(t->sum_sqlite, t->sum_pg);
		assert_int_equal(strlen(t->sum_pg), 64);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", all_tables[i]);
		assert_int_equal(t->rows_sqlite, sq_num(src_db, sql));
	}
	/* ... and every other table SQLite has (less its internals, the
	 * FTS5 shadow tables and schema_migrations). */
	{
		sqlite3 *db;
		sqlite3_stmt *q;
		int n = 0;
		assert_int_equal(sqlite3_open_v2(src_db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'"
						    " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
						    " AND name NOT LIKE 'ticket\\_fts\\_%' ESCAPE '\\'"
						    " AND name <> 'schema_migrations'", -1, &q, NULL), SQLITE_OK);
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(q, 0);
			if (position(&rep, name) < 0)
				fprintf(stderr, "table %s not in the report\n", name);
			assert_true(position(&rep, name) >= 0);
			assert_true(find(&rep, name)->equal);
			n++;
		}
		sqlite3_finalize(q);
		sqlite3_close(db);
		assert_int_equal(n, rep.ntables);
	}
	for (int i = 0; i < rep.ntables; i++)
		sq_rows += rep.tables[i].rows_sqlite;
	assert_int_equal(sq_rows, rep.rows);
	/* No shadow table, no schema_migrations. */
	assert_int_equal(position(&rep, "ticket_fts_content"), -1);
	assert_int_equal(position(&rep, "schema_migrations"), -1);
	/* Parents before children. */
	assert_true(position(&rep, "clients") < position(&rep, "contacts"));
	assert_true(position(&rep, "clients") < position(&rep, "tickets"));
	assert_true(position(&rep, "users") < position(&rep, "sessions"));
	assert_true(position(&rep, "tickets") < position(&rep, "ticket_messages"));
	assert_true(position(&rep, "calendars") < position(&rep, "sla_policies"));
	assert_true(position(&rep, "sla_policies") < position(&rep, "contracts"));
	assert_true(position(&rep, "clients") < position(&rep, "devices"));
	assert_true(position(&rep, "devices") < position(&rep, "metric_series"));
	assert_true(position(&rep, "devices") < position(&rep, "checks"));
	assert_true(position(&rep, "checks") < position(&rep, "alerts"));
	assert_true(position(&rep, "tickets") < position(&rep, "alerts"));
	assert_true(position(&rep, "alerts") < position(&rep, "alert_events"));
	assert_true(position(&rep, "tickets") < position(&rep, "attachments"));
	assert_true(position(&rep, "clients") < position(&rep, "mail_routes"));
	assert_true(position(&rep, "clients") < position(&rep, "webhooks"));
	assert_true(position(&rep, "clients") < position(&rep, "report_schedules"));
	/* Real data in the tables that matter. */
	assert_int_equal(find(&rep, "clients")->rows_pg, 2);
	assert_int_equal(find(&rep, "tickets")->rows_pg, 5);   /* the mail's and the alert's */
	assert_int_equal(find(&rep, "ticket_messages")->rows_pg, 3);
	assert_int_equal(find(&rep, "sessions")->rows_pg, 2);
	assert_int_equal(find(&rep, "ticket_fts")->rows_pg, 8);   /* 5 tickets, 3 messages */
	assert_true(find(&rep, "audit_log")->rows_pg >= 10);
	assert_int_equal(find(&rep, "metric_raw")->rows_pg, (long long)ARRAY_SIZE(reals) + 1);
	assert_int_equal(find(&rep, "metric_series")->rows_pg, 3);
	assert_true(find(&rep, "metric_1m")->rows_pg >= 3);
	assert_true(find(&rep, "metric_1h")->rows_pg >= 3);
	assert_int_equal(find(&rep, "checks")->rows_pg, 2 * 3 + 1);   /* the defaults, and one */
	assert_int_equal(find(&rep, "alerts")->rows_pg, 1);
	assert_int_equal(find(&rep, "alert_events")->rows_pg, 1);
	assert_int_equal(find(&rep, "monitor_marks")->rows_pg, 2);
	assert_int_equal(find(&rep, "mail_ids")->rows_pg, 3);   /* held, filed, sent */
	assert_int_equal(find(&rep, "mail_inbound")->rows_pg, 2);
	assert_int_equal(find(&rep, "attachments")->rows_pg, 1);
	assert_int_equal(find(&rep, "deliveries")->rows_pg, 2);
	assert_int_equal(find(&rep, "report_schedules")->rows_pg, 1);

	/* The progress lines. */
	assert_non_null(strstr(out, "migrate: SQLite schema version "));
	assert_non_null(strstr(out, "\n  clients: 2 rows\n"));
	assert_non_null(strstr(out, "\n  tickets: 5 rows\n"));
	assert_non_null(strstr(out, "verified: "));
	assert_non_null(strstr(out, "\ncommitted\n"));
	free(out);

	c = pg();
	/* Values, byte for byte. */
	pg_value(c, "SELECT notes FROM clients WHERE name = 'Acme'", v, sizeof(v));
	assert_string_equal(v, NOTES);
	pg_value(c, "SELECT name FROM clients ORDER BY id DESC", v, sizeof(v));
	assert_string_equal(v, "Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale");
	pg_value(c, "SELECT body FROM ticket_messages WHERE kind = 'reply' AND source IS NULL", v,
		 sizeof(v));
	assert_string_equal(v, BODY);
	pg_value(c, "SELECT password_hash FROM users WHERE email = 'tech@p.test'", v, sizeof(v));
	assert_string_equal(v, "$argon2id$v=19$m=65536\\x");
	pg_value(c, "SELECT value FROM settings WHERE key = 'portal.banner'", v, sizeof(v));
	assert_string_equal(v, "Welcome\n\tto the \\portal\\ \xe2\x9c\x93");
	assert_int_equal(pg_num(c, "SELECT count(*) FROM contacts WHERE phone IS NULL AND email IS NULL"), 1);
	/* BLOBs became BYTEA with the same bytes. */
	pg_value(c, "SELECT encode(substr(id_hash, 1, 5), 'hex') FROM sessions ORDER BY id_hash LIMIT 1",
		 v, sizeof(v));
	assert_string_equal(v, "00090a5c95");
	assert_int_equal(pg_num(c, "SELECT octet_length(id_hash) FROM sessions LIMIT 1"), 32);
	pg_value(c, "SELECT encode(hash, 'hex') FROM api_tokens", v, sizeof(v));
	assert_string_equal(v, "0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d");
	/* ... mail's too: an attachment (its SHA-256 still its data's), a
	 * held message's raw text, a delivery's body. */
	pg_value(c, "SELECT encode(data, 'hex') FROM attachments", v, sizeof(v));
	assert_string_equal(v, "00090a0d5c4e5c2e80ff00");
	assert_int_equal(pg_num(c, "SELECT count(*) FROM attachments WHERE sha256 = sha256(data)"
				" AND size = octet_length(data) AND filename = E'dump\\t1.bin'"), 1);
	assert_int_equal(pg_num(c, "SELECT octet_length(raw) FROM mail_inbound WHERE action = 'held'"),
			 (long long)sizeof(RAW) - 1);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM mail_inbound WHERE action = 'held'"
				" AND substr(raw, 1, 6) = 'From: '::bytea"), 1);
	pg_value(c, "SELECT encode(substr(raw, octet_length(raw) - 9), 'hex') FROM mail_inbound"
		 " WHERE action = 'held'", v, sizeof(v));
	assert_string_equal(v, "79005c4e097461696cff");
	assert_int_equal(pg_num(c, "SELECT count(*) FROM mail_inbound WHERE raw IS NULL"), 1);
	pg_value(c, "SELECT encode(body, 'escape') FROM deliveries WHERE channel = 'email'", v, sizeof(v));
	assert_string_equal(v, "Message-ID: <n1@desk.example>\r\n\r\n\\\\. \t\\000end");
	pg_value(c, "SELECT last_error FROM deliveries WHERE channel = 'webhook'", v, sizeof(v));
	assert_string_equal(v, "HTTP 500\tboom");
	/* The ALTERed columns at the end of ticket_messages, and the
	 * text-keyed mail_ids (WITHOUT ROWID in SQLite). */
	snprintf(sql, sizeof(sql), "SELECT quote_at FROM ticket_messages WHERE ticket_id = %lld"
		 " AND source = 'email'", (long long)mail_ticket);
	assert_int_equal(pg_num(c, sql), 3);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM ticket_messages WHERE quote_at IS NULL"
				" AND source IS NULL"), 2);
	snprintf(sql, sizeof(sql), "SELECT ticket_id FROM mail_ids WHERE message_id = '<m1@acme.example>'"
		 " AND direction = 'in'");
	assert_int_equal(pg_num(c, sql), mail_ticket);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM mail_ids WHERE message_id = '<n1@desk.example>'"
				" AND direction = 'out'"), 1);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM mail_ids WHERE ticket_id IS NULL"
				" AND tenant_id = 0"), 1);
	pg_value(c, "SELECT body FROM mail_templates WHERE key = 'ticket.created'", v, sizeof(v));
	assert_string_equal(v, "Hello\n\t{{name}} \\o/");
	/* The deployment's signing key, not the migration's. */
	{
		sqlite3 *db;
		sqlite3_stmt *q;
		assert_int_equal(sqlite3_open_v2(src_db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = 'signing_key'",
						    -1, &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		pg_value(c, "SELECT value FROM settings WHERE key = 'signing_key'", v, sizeof(v));
		assert_string_equal(v, (const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
		sqlite3_close(db);
	}
	assert_int_equal(pg_num(c, "SELECT count(*) FROM settings WHERE key = 'signing_key'"), 1);

	/* Full-text search, rebuilt from the FTS5 content: a word of a
	 * message, a word with its diacritic removed, a word of a subject. */
	snprintf(sql, sizeof(sql), "%lld", (long long)ticket_ids[0]);
	pg_value(c, "SELECT ticket_id FROM ticket_fts WHERE words @@ ticket_fts_query('\"flibbertigibbet\"')",
		 v, sizeof(v));
	assert_string_equal(v, sql);
	snprintf(sql, sizeof(sql), "%lld", (long long)ticket_ids[1]);
	pg_value(c, "SELECT ticket_id FROM ticket_fts WHERE words @@ ticket_fts_query('\"uberraschung\"')"
		 " AND internal = 1", v, sizeof(v));
	assert_string_equal(v, sql);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM ticket_fts WHERE words @@ ticket_fts_query('\"jane\"')"), 1);
	assert_int_equal(pg_num(c, "SELECT count(DISTINCT ticket_id) FROM ticket_fts"
				" WHERE words @@ ticket_fts_query('\"description\"')"), 3);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM ticket_fts WHERE words = ''::tsvector"), 0);
	assert_int_equal(pg_num(c, "SELECT min(rowid) FROM ticket_fts WHERE rowid > 1099511627776"),
			 1099511627776LL + 1);

	/* Identity sequences were moved past the copied ids. */
	assert_int_equal(pg_num(c, "INSERT INTO clients (name, timezone, created_at, updated_at)"
				" VALUES ('After', 'UTC', 0, 0) RETURNING id"), 3);
	assert_int_equal(pg_num(c, "SELECT nextval(pg_get_serial_sequence('ticket_messages', 'id'))"),
			 msg_max + 1);
	assert_int_equal(pg_num(c, "SELECT nextval(pg_get_serial_sequence('tickets', 'id'))"),
			 alert_ticket + 1);
	/* ... the monitoring tables' too. */
	{
		static const char *const seqs[][2] = {
			{ "enroll_tokens", "id" }, { "devices", "id" }, { "metric_series", "id" },
			{ "checks", "id" }, { "alerts", "id" }, { "alert_events", "id" },
			{ "maintenance_windows", "id" }, { "am_receivers", "id" },
			{ "mail_inbound", "id" }, { "attachments", "id" }, { "mail_routes", "id" },
			{ "deliveries", "id" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(seqs); i++) {
			snprintf(sql, sizeof(sql), "SELECT max(%s) FROM %s", seqs[i][1], seqs[i][0]);
			long long max = sq_num(src_db, sql);
			assert_true(max >= 1);
			snprintf(sql, sizeof(sql), "SELECT nextval(pg_get_serial_sequence('%s', '%s'))",
				 seqs[i][0], seqs[i][1]);
			assert_int_equal(pg_num(c, sql), max + 1);
		}
	}
	/* REAL values, bit for bit (float8send: the double's bytes), and the
	 * rows that refer to each other. */
	for (size_t i = 0; i < ARRAY_SIZE(reals); i++) {
		unsigned char be[8];
		uint64_t bits;
		char want[17];
		memcpy(&bits, &reals[i], 8);
		for (int k = 0; k < 8; k++)
			be[k] = (unsigned char)(bits >> (56 - 8 * k));
		for (int k = 0; k < 8; k++)
			snprintf(want + 2 * k, 3, "%02x", be[k]);
		snprintf(sql, sizeof(sql), "SELECT encode(float8send(value), 'hex') FROM metric_raw"
			 " WHERE at = %lld", 1700000000000LL + (long long)i * 1000);
		if (i == 0) {
			/* two rows at that instant: m and inf */
			snprintf(sql, sizeof(sql), "SELECT encode(float8send(r.value), 'hex') FROM metric_raw r"
				 " JOIN metric_series s ON s.id = r.series_id WHERE s.name = 'm' AND r.at = %lld",
				 1700000000000LL);
		}
		pg_value(c, sql, v, sizeof(v));
		assert_string_equal(v, want);
	}
	pg_value(c, "SELECT r.value FROM metric_raw r JOIN metric_series s ON s.id = r.series_id"
		 " WHERE s.name = 'inf'", v, sizeof(v));
	assert_string_equal(v, "Infinity");
	pg_value(c, "SELECT crit FROM checks WHERE name = 'disk'", v, sizeof(v));
	assert_string_equal(v, "90.5");
	assert_int_equal(pg_num(c, "SELECT count(*) FROM checks WHERE name = 'disk' AND warn IS NULL"), 1);
	snprintf(sql, sizeof(sql), "SELECT device_id FROM alerts WHERE id = %lld", (long long)alert_id);
	assert_int_equal(pg_num(c, sql), device_id);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM alerts a JOIN tickets t ON t.id = a.ticket_id"), 1);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM alert_events WHERE pending = 0 AND kind = 'fire'"
				" AND value = 95.25"), 1);
	pg_value(c, "SELECT hostname FROM devices", v, sizeof(v));
	assert_string_equal(v, "web\t01");
	pg_value(c, "SELECT encode(substr(token_hash, 1, 3), 'hex') FROM enroll_tokens", v, sizeof(v));
	assert_string_equal(v, "00095c");

	/* ... past SQLite's AUTOINCREMENT counter where it is higher than the
	 * ids left (a deleted webhook's id is not handed out again). */
	{
		long long seq = sq_num(src_db, "SELECT seq FROM sqlite_sequence WHERE name = 'webhooks'");
		assert_true(seq > sq_num(src_db, "SELECT max(id) FROM webhooks"));
		assert_int_equal(pg_num(c, "SELECT nextval(pg_get_serial_sequence('webhooks', 'id'))"),
				 seq + 1);
	}

	/* The same for report schedules: the claimed period and the counter. */
	pg_value(c, "SELECT last_period_sent || ' ' || recipients || ' ' || csv || ' ' || hour"
		 " FROM report_schedules", v, sizeof(v));
	assert_string_equal(v, "2023-07-01 [\"cfo@acme.example\",\"it@acme.example\"] 1 23");
	{
		long long seq = sq_num(src_db, "SELECT seq FROM sqlite_sequence WHERE name = 'report_schedules'");
		assert_true(seq > sq_num(src_db, "SELECT max(id) FROM report_schedules"));
		assert_int_equal(pg_num(c, "SELECT nextval(pg_get_serial_sequence('report_schedules', 'id'))"),
				 seq + 1);
	}

	/* An empty table's sequence starts at 1. */
	assert_int_equal(pg_num(c, "SELECT nextval(pg_get_serial_sequence('calendars', 'id'))"), 1);
	PQfinish(c);
}

/* Everything PostgreSQL holds, as one string: to prove "changes nothing". */
static void fingerprint(PGconn *c, char *out, size_t n)
{
	pg_value(c, "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM ("
		 " SELECT 'c' || id || name AS x FROM clients UNION ALL"
		 " SELECT 'u' || id || email FROM users UNION ALL"
		 " SELECT 't' || id || subject FROM tickets UNION ALL"
		 " SELECT 's' || key || value FROM settings UNION ALL"
		 " SELECT 'm' || version FROM schema_migrations) AS all_rows", out, n);
}

static void test_non_empty_target_is_refused(void **state)
{
	struct pg_import_report rep;
	char before[64], after[64];
	struct err e;
	PGconn *c;

	(void)state;
	fresh_db("u_import_busy");
	assert_int_equal(pg_import_sqlite(src_db, dburl, NULL, &rep, &e), RC_OK);
	c = pg();
	/* A server wrote after the migration. */
	pg_do(c, "INSERT INTO clients (name, timezone, created_at, updated_at) VALUES ('Later', 'UTC', 1, 1)");
	fingerprint(c, before, sizeof(before));
	assert_int_equal(pg_import_sqlite(src_db, dburl, NULL, &rep, &e), RC_CONFLICT);
	assert_non_null(strstr(e.msg, "already holds data"));
	assert_non_null(strstr(e.msg, "clients"));
	assert_false(rep.committed);
	fingerprint(c, after, sizeof(after));
	assert_string_equal(before, after);

	/* The copied data alone is enough to refuse a second copy. */
	pg_do(c, "DELETE FROM clients WHERE name = 'Later'");
	assert_int_equal(pg_import_sqlite(src_db, dburl, NULL, &rep, &e), RC_CONFLICT);
	PQfinish(c);

	/* A database that holds data in some other shape (no itsup schema
	 * yet): refused before any migration runs. */
	fresh_db("u_import_other");
	c = pg();
	pg_do(c, "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT)");
	pg_do(c, "INSERT INTO users VALUES (1, 'someone@else.example')");
	assert_int_equal(pg_import_sqlite(src_db, dburl, NULL, &rep, &e), RC_CONFLICT);
	assert_non_null(strstr(e.msg, "users"));
	assert_int_equal(pg_num(c, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 1);
	PQfinish(c);
}

static void test_wrong_schema_version_is_refused(void **state)
{
	struct pg_import_report rep;
	char newer[160], older[160];
	struct err e;
	PGconn *c;

	(void)state;
	fresh_db("u_import_version");
	copy_src("newer.db", newer, sizeof(newer));
	sq_do(newer, "INSERT INTO schema_migrations SELECT max(version) + 1, '9999_future.sql', 0"
		     " FROM schema_migrations");
	assert_int_equal(pg_import_sqlite(newer, dburl, NULL, &rep, &e), RC_INVALID);
	assert_non_null(strstr(e.msg, "schema version"));
	assert_non_null(strstr(e.msg, "newer"));
	copy_src("older.db", older, sizeof(older));
	sq_do(older, "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)");
	assert_int_equal(pg_import_sqlite(older, dburl, NULL, &rep, &e), RC_INVALID);
	assert_non_null(strstr(e.msg, "schema version"));
	/* PostgreSQL was not touched: not even the schema. */
	c = pg();
	assert_int_equal(pg_num(c, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 0);
	PQfinish(c);
	unlink(newer);
	unlink(older);
}

static void test_bad_sources_are_refused(void **state)
{
	struct pg_import_report rep;
	char path[160];
	struct err e;
	FILE *f;

	(void)state;
	fresh_db("u_import_bad");
	snprintf(path, sizeof(path), "%s/missing.db", dir);
	assert_int_equal(pg_import_sqlite(path, dburl, NULL, &rep, &e), RC_NOTFOUND);
	assert_non_null(strstr(e.msg, "missing.db"));
	/* The read-only open did not create it. */
	assert_int_not_equal(access(path, F_OK), 0);
	/* An SQLite database that is not itsup's. */
	snprintf(path, sizeof(path), "%s/other.db", dir);
	sq_do(path, "CREATE TABLE t (x INTEGER)");
	assert_int_equal(pg_import_sqlite(path, dburl, NULL, &rep, &e), RC_INVALID);
	assert_non_null(strstr(e.msg, "not an itsup database"));
	/* Not SQLite at all. */
	snprintf(path, sizeof(path), "%s/text.db", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not a database, but it is long enough to have a header......................\n"
	      "................................................................................\n", f);
	fclose(f);
	assert_int_equal(pg_import_sqlite(path, dburl, NULL, &rep, &e), RC_INVALID);
	/* A bad URL: said without the password. */
	assert_int_not_equal(pg_import_sqlite(src_db, "postgresql://itsup:s3cret%zz@127.0.0.1:1/x", NULL,
					      &rep, &e), RC_OK);
	assert_null(strstr(e.msg, "s3cret"));
}

/* A PostgreSQL schema out of step with SQLite's: refused, naming the table. */
static void test_schema_out_of_step_is_refused(void **state)
{
	struct pg_import_report rep;
	struct err e;
	PGconn *c;
	int applied;

	(void)state;
	fresh_db("u_import_step");
	c = pg();
	assert_int_equal(pg_migrate(c, pg_migrations, &applied, &e), RC_OK);
	pg_do(c, "ALTER TABLE contacts ADD COLUMN nickname TEXT");
	assert_int_equal(pg_import_sqlite(src_db, dburl, NULL, &rep, &e), RC_INVALID);
	assert_string_equal(e.field, "contacts");
	assert_non_null(strstr(e.msg, "nickname"));
	pg_do(c, "ALTER TABLE contacts DROP COLUMN nickname");
	pg_do(c, "ALTER TABLE contacts ALTER COLUMN phone TYPE BYTEA USING phone::bytea");
	assert_int_equal(pg_import_sqlite(src_db, dburl, NULL, &rep, &e), RC_INVALID);
	assert_non_null(strstr(e.msg, "phone"));
	pg_do(c, "ALTER TABLE contacts ALTER COLUMN phone TYPE TEXT USING encode(phone, 'escape')");
	pg_do(c, "CREATE TABLE extra (id BIGINT PRIMARY KEY)");
	assert_int_equal(pg_import_sqlite(src_db, dburl, NULL, &rep, &e), RC_INVALID);
	assert_string_equal(e.field, "extra");
	pg_do(c, "DROP TABLE extra");
	assert_int_equal(pg_import_sqlite(src_db, dburl, NULL, &rep, &e), RC_OK);
	assert_int_equal(rep.migrations_applied, 0);
	PQfinish(c);
}

/* A value PostgreSQL refuses (not UTF-8): the error names the table, and
 * nothing is left behind. */
static void test_copy_error_names_the_table(void **state)
{
	struct pg_import_report rep;
	char path[160];
	struct err e;
	PGconn *c;

	(void)state;
	fresh_db("u_import_utf8");
	copy_src("latin1.db", path, sizeof(path));
	sq_do(path, "UPDATE ticket_messages SET body = 'caf' || CAST(x'e9' AS TEXT)"
		    " WHERE id = (SELECT max(id) FROM ticket_messages)");
	assert_int_equal(pg_import_sqlite(path, dburl, NULL, &rep, &e), RC_IO);
	assert_string_equal(e.field, "ticket_messages");
	assert_non_null(strstr(e.msg, "table ticket_messages: PostgreSQL COPY"));
	assert_non_null(strstr(e.msg, "UTF8"));
	assert_false(rep.committed);
	c = pg();
	assert_int_equal(pg_num(c, "SELECT count(*) FROM clients"), 0);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM tickets"), 0);
	PQfinish(c);
	unlink(path);
}

/* ---- the verification can fail -------------------------------------------------- */

static const char *corruption;
static void corrupt(PGconn *c)
{
	PGresult *r = PQexec(c, corruption);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fprintf(stderr, "%s: %s", corruption, PQresultErrorMessage(r));
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	assert_int_equal(strtol(PQcmdTuples(r), NULL, 10), 1);
	PQclear(r);
}

static void test_corruption_is_caught_and_rolled_back(void **state)
{
	static const struct {
		const char *sql, *table;
		bool count;
	} cases[] = {
		/* One character more in one message. */
		{ "UPDATE ticket_messages SET body = body || ' '"
		  " WHERE id = (SELECT min(id) FROM ticket_messages)", "ticket_messages", false },
		/* NULL became the empty string. */
		{ "UPDATE contacts SET phone = '' WHERE id = (SELECT max(id) FROM contacts)", "contacts", false },
		/* One bit of one BLOB. */
		{ "UPDATE sessions SET csrf_hash = set_byte(csrf_hash, 31, get_byte(csrf_hash, 31) # 1)"
		  " WHERE id_hash = (SELECT id_hash FROM sessions ORDER BY id_hash LIMIT 1)", "sessions", false },
		/* An integer off by one. */
		{ "UPDATE tickets SET version = version + 1 WHERE id = (SELECT max(id) FROM tickets)",
		  "tickets", false },
		/* One REAL one ulp off (3.141592653589793 -> ...3116). */
		{ "UPDATE metric_raw SET value = 3.1415926535897936 WHERE value = 3.141592653589793",
		  "metric_raw", false },
		/* A NULL REAL given a value. */
		{ "UPDATE checks SET warn = 0 WHERE name = 'disk'", "checks", false },
		/* A search document changed. */
		{ "UPDATE ticket_fts SET internal = 1 - internal WHERE rowid = (SELECT min(rowid) FROM ticket_fts)",
		  "ticket_fts", false },
		/* A row lost. */
		{ "DELETE FROM outbox WHERE id = (SELECT max(id) FROM outbox)", "outbox", true },
		/* A row added. */
		{ "INSERT INTO settings VALUES ('stray', 'x')", "settings", true },
	};
	struct pg_import_report rep;
	struct err e;
	char *out = NULL;
	size_t outlen = 0;
	PGconn *c;

	(void)state;
	fresh_db("u_import_corrupt");
	c = pg();
	pg_import_test_hook = corrupt;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct pg_import_table *t;
		FILE *progress = open_memstream(&out, &outlen);

		corruption = cases[i].sql;
		assert_int_equal(pg_import_sqlite(src_db, dburl, progress, &rep, &e), RC_IO);
		fclose(progress);
		assert_string_equal(e.field, cases[i].table);
		assert_non_null(strstr(e.msg, cases[i].table));
		assert_non_null(strstr(e.msg, "nothing was committed"));
		assert_false(rep.committed);
		assert_true(position(&rep, cases[i].table) >= 0);
		t = find(&rep, cases[i].table);
		assert_false(t->equal);
		if (cases[i].count)
			assert_int_not_equal(t->rows_sqlite, t->rows_pg);
		else
			assert_string_not_equal(t->sum_sqlite, t->sum_pg);
		assert_non_null(strstr(out, "MISMATCH "));
		assert_null(strstr(out, "committed"));
		free(out);
		out = NULL;
		/* Rolled back: the schema is there (pg_migrate committed it),
		 * the data is not. */
		assert_int_equal(pg_num(c, "SELECT count(*) FROM clients"), 0);
		assert_int_equal(pg_num(c, "SELECT count(*) FROM ticket_fts"), 0);
		assert_int_equal(pg_num(c, "SELECT count(*) FROM settings WHERE key = 'portal.banner'"), 0);
	}
	pg_import_test_hook = NULL;
	/* Without the corruption the same database takes the copy. */
	assert_int_equal(pg_import_sqlite(src_db, dburl, NULL, &rep, &e), RC_OK);
	assert_true(rep.committed);
	assert_int_equal(pg_num(c, "SELECT count(*) FROM clients"), 2);
	PQfinish(c);
}

static int clear_hook(void **state)
{
	(void)state;
	pg_import_test_hook = NULL;
	return 0;
}

/* A big table reports its progress every PG_IMPORT_PROGRESS_ROWS rows. */
static void test_big_table_progress(void **state)
{
	struct pg_import_report rep;
	char path[160], line[96];
	struct err e;
	char *out = NULL;
	size_t outlen = 0;
	FILE *progress;
	long long n;
	PGconn *c;

	(void)state;
	fresh_db("u_import_big");
	copy_src("big.db", path, sizeof(path));
	sq_do(path, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 150000)"
		    " INSERT INTO audit_log (seq, at, actor_id, tenant_id, action, object_id, outcome,"
		    " detail, prev_hash, hash)"
		    " SELECT 1000000 + x, x, 1, x % 3, 'bulk', x, 'ok', 'row ' || x || char(9) || 'tab',"
		    " zeroblob(32), randomblob(32) FROM n");
	n = sq_num(path, "SELECT count(*) FROM audit_log");
	progress = open_memstream(&out, &outlen);
	assert_int_equal(pg_import_sqlite(path, dburl, progress, &rep, &e), RC_OK);
	fclose(progress);
	assert_non_null(strstr(out, "\n  audit_log: 100000 rows...\n"));
	snprintf(line, sizeof(line), "\n  audit_log: %lld rows\n", n);
	assert_non_null(strstr(out, line));
	assert_int_equal(find(&rep, "audit_log")->rows_pg, n);
	free(out);
	c = pg();
	assert_int_equal(pg_num(c, "SELECT count(*) FROM audit_log"), n);
	PQfinish(c);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_copies_everything),
		cmocka_unit_test(test_non_empty_target_is_refused),
		cmocka_unit_test(test_wrong_schema_version_is_refused),
		cmocka_unit_test(test_bad_sources_are_refused),
		cmocka_unit_test(test_schema_out_of_step_is_refused),
		cmocka_unit_test(test_copy_error_names_the_table),
		cmocka_unit_test_teardown(test_corruption_is_caught_and_rolled_back, clear_hook),
		cmocka_unit_test(test_big_table_progress),
	};

	url = getenv("ITSUP_TEST_PG");
	if (!url || !*url) {
		fprintf(stderr, "u-import: ITSUP_TEST_PG is not set (scripts/with-pg sets it); skipped\n");
		return 77;   /* meson: skipped */
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
