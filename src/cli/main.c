/*
 * main.c: the itsup command line. Subcommands are one table (like git's
 * commands[] in git.c): name, handler, one-line summary, usage text.
 * Every handler returns the process exit code; nothing below main exits.
 */
#include "base/common.h"

#include <getopt.h>
#include <signal.h>
#include <pthread.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "base/util.h"
#include "http/http.h"
#include "import/run.h"
#include "jobs/sla_track.h"
#include "mail/mailgate.h"
#include "notify/notify.h"
#include "report/report.h"
#include "store/pg_import.h"
#include "store/store.h"

#define EXIT_USAGE 2

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

static int cmd_help(int argc, char **argv);
static int cmd_init(int argc, char **argv);
static int cmd_serve(int argc, char **argv);
static int cmd_user(int argc, char **argv);
static int cmd_token(int argc, char **argv);
static int cmd_audit(int argc, char **argv);
static int cmd_demo(int argc, char **argv);
static int cmd_migrate(int argc, char **argv);
static int cmd_mailgate(int argc, char **argv);
static int cmd_report(int argc, char **argv);
static int cmd_import(int argc, char **argv);

static const struct cmd commands[] = {
	{ "init", cmd_init, "create a new database with its first admin",
	  "itsup init (--db PATH | --pg URL) --admin-email EMAIL --admin-password-file FILE\n"
	  "           [--admin-name NAME]\n"
	  "  Creates PATH (it must not exist), or the schema in the PostgreSQL database at\n"
	  "  URL (postgresql://USER:PASSWORD@HOST:PORT/DB; it must not hold one yet),\n"
	  "  applies the schema, and creates the first\n"
	  "  admin with the password read from FILE (first line). MFA is required for\n"
	  "  provider staff from the start; the admin enrols at first login.\n" },
	{ "serve", cmd_serve, "serve the API and the web UI",
	  "itsup serve [--db PATH | --pg URL] [--listen HOST:PORT] [--config FILE] [--threads N]\n"
	  "            [--test-clock]\n"
	  "  Settings come from FILE, then ITSUP_DB, ITSUP_PG, ITSUP_LISTEN, ITSUP_THREADS...,\n"
	  "  then the flags. Ctrl-C (SIGINT) or SIGTERM stops it cleanly: no new\n"
	  "  connections, writes in flight are committed and answered.\n"
	  "  --test-clock: the clock moves only by POST /api/v1/test/clock (refused\n"
	  "  when the configuration says production = true).\n" },
	{ "user", cmd_user, "add a user (user add ...)",
	  "itsup user add (--db PATH | --pg URL) --email EMAIL --name NAME --role ROLE [--tier N]\n"
	  "               [--client-id ID] [--password-file FILE]\n"
	  "  ROLE: admin, dispatcher, technician (needs --tier 1..3), client_admin,\n"
	  "  client_user, client_it (these need --client-id).\n" },
	{ "token", cmd_token, "create an API token (token create ...)",
	  "itsup token create (--db PATH | --pg URL) --user EMAIL --name NAME\n"
	  "  Prints a new API token once; only its SHA-256 is stored.\n" },
	{ "audit", cmd_audit, "verify the audit log's hash chain (audit verify ...)",
	  "itsup audit verify (--db PATH | --pg URL)\n"
	  "  Checks every record's link to the one before; prints the head hash to keep\n"
	  "  elsewhere as an anchor, or the first broken record (exit status 1).\n" },
	{ "demo", cmd_demo, "create a demo database (used by make run)",
	  "itsup demo (--db PATH | --pg URL) --credentials FILE\n"
	  "  Creates PATH with a demo provider: an admin, a dispatcher, technicians of\n"
	  "  tiers 1-3, two client organisations with contacts, a client admin and a\n"
	  "  client user. One random password for all of them is written to FILE\n"
	  "  (mode 0600). MFA is not required in the demo.\n" },
	{ "report", cmd_report, "an SLA review as JSON or CSV (report sla-review ...)",
	  "itsup report sla-review (--db PATH | --pg URL) --from YYYY-MM-DD --to YYYY-MM-DD\n"
	  "                        [--client-id ID] [--format json|csv|html]\n"
	  "  The SLA review of [from, to) in the client's days (every client: UTC days)\n"
	  "  with the period before it, as GET /api/v1/reports/sla-review gives it, on\n"
	  "  stdout (docs/REPORTS.md defines every figure). CSV: the ticket rows.\n" },
	{ "import", cmd_import, "bring tickets from another system (import tickets FILE ...)",
	  "itsup import tickets FILE (--db PATH | --pg URL) [--format jsonl|csv]\n"
	  "  Imports the tickets of FILE (JSON lines, or CSV with a header line; the format\n"
	  "  from --format, else .csv means CSV) with their real instants, as POST\n"
	  "  /api/v1/import/tickets does (docs/IMPORT.md): every row is validated first and\n"
	  "  every problem printed by line; then all the tickets are written in one\n"
	  "  transaction, or none. Progress on stderr every 10,000 rows of a large file.\n" },
	{ "mailgate", cmd_mailgate, "post one e-mail from stdin to the server (for the MTA)",
	  "itsup mailgate --url URL --token-file FILE < message.eml\n"
	  "  Posts the RFC 5322 message on stdin to URL/api/v1/mail/inbound with the API\n"
	  "  token in FILE. Exit status: 0 stored; 75 try again later (no answer, 5xx,\n"
	  "  a token problem); 65 refused for good (the MTA bounces it). For a Postfix\n"
	  "  pipe transport or a .forward, like rt-mailgate.\n" },
	{ "migrate", cmd_migrate, "copy a SQLite deployment into PostgreSQL",
	  "itsup migrate --from-sqlite FILE --pg URL\n"
	  "  Copies every table of the SQLite database FILE (stop the server on it first)\n"
	  "  into the empty PostgreSQL database at URL, in one transaction, and commits\n"
	  "  only when every table's row count and SHA-256 checksum are equal on both\n"
	  "  sides; prints them. Then: itsup serve --pg URL.\n" },
	{ "help", cmd_help, "show help for a command", "itsup help [COMMAND]\n" },
};

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static const char *usage_of(const char *name)
{
	const struct cmd *c = find_cmd(name);
	return c ? c->usage : "";
}

static void usage_all(FILE *f)
{
	fprintf(f, "usage: itsup COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nitsup COMMAND --help shows a command's options.\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		usage_all(stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "itsup: no command '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	fputs(c->usage, stdout);
	return 0;
}

/* ---- option parsing ---------------------------------------------------------- */

struct opts {
	const char *db, *pg, *listen, *config, *threads, *email, *name, *role, *tier, *client_id;
	const char *password_file, *user, *credentials, *from_sqlite, *url, *token_file;
	const char *from, *to, *format;
	bool test_clock, help;
};

enum { O_DB = 1000, O_PG, O_LISTEN, O_CONFIG, O_THREADS, O_EMAIL, O_NAME, O_ROLE, O_TIER,
       O_CLIENT, O_PWFILE, O_USER, O_CREDS, O_TESTCLOCK, O_HELP, O_ADMIN_EMAIL,
       O_ADMIN_PWFILE, O_ADMIN_NAME, O_FROM_SQLITE, O_URL, O_TOKEN_FILE, O_FROM, O_TO,
       O_FORMAT };

static const struct option long_opts[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "pg", required_argument, NULL, O_PG },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "email", required_argument, NULL, O_EMAIL },
	{ "name", required_argument, NULL, O_NAME },
	{ "role", required_argument, NULL, O_ROLE },
	{ "tier", required_argument, NULL, O_TIER },
	{ "client-id", required_argument, NULL, O_CLIENT },
	{ "password-file", required_argument, NULL, O_PWFILE },
	{ "user", required_argument, NULL, O_USER },
	{ "credentials", required_argument, NULL, O_CREDS },
	{ "test-clock", no_argument, NULL, O_TESTCLOCK },
	{ "help", no_argument, NULL, O_HELP },
	{ "admin-email", required_argument, NULL, O_ADMIN_EMAIL },
	{ "admin-password-file", required_argument, NULL, O_ADMIN_PWFILE },
	{ "admin-name", required_argument, NULL, O_ADMIN_NAME },
	{ "from-sqlite", required_argument, NULL, O_FROM_SQLITE },
	{ "url", required_argument, NULL, O_URL },
	{ "token-file", required_argument, NULL, O_TOKEN_FILE },
	{ "from", required_argument, NULL, O_FROM },
	{ "to", required_argument, NULL, O_TO },
	{ "format", required_argument, NULL, O_FORMAT },
	{ NULL, 0, NULL, 0 },
};

/* Parses argv (argv[0] is the command) into o. Returns false on a bad
 * option (after saying so). */
static bool parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case O_DB: o->db = optarg; break;
		case O_PG: o->pg = optarg; break;
		case O_LISTEN: o->listen = optarg; break;
		case O_CONFIG: o->config = optarg; break;
		case O_THREADS: o->threads = optarg; break;
		case O_EMAIL: case O_ADMIN_EMAIL: o->email = optarg; break;
		case O_NAME: case O_ADMIN_NAME: o->name = optarg; break;
		case O_ROLE: o->role = optarg; break;
		case O_TIER: o->tier = optarg; break;
		case O_CLIENT: o->client_id = optarg; break;
		case O_PWFILE: case O_ADMIN_PWFILE: o->password_file = optarg; break;
		case O_USER: o->user = optarg; break;
		case O_CREDS: o->credentials = optarg; break;
		case O_FROM_SQLITE: o->from_sqlite = optarg; break;
		case O_URL: o->url = optarg; break;
		case O_TOKEN_FILE: o->token_file = optarg; break;
		case O_FROM: o->from = optarg; break;
		case O_TO: o->to = optarg; break;
		case O_FORMAT: o->format = optarg; break;
		case O_TESTCLOCK: o->test_clock = true; break;
		case O_HELP: o->help = true; break;
		default: return false;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "itsup: unexpected argument '%s'\n", argv[optind]);
		return false;
	}
	return true;
}

static int fail(const char *what, const struct err *e)
{
	fprintf(stderr, "itsup: %s: %s\n", what, e->msg[0] ? e->msg : result_name(e->code));
	return 1;
}

/* The database: --pg URL, else --db PATH, else ITSUP_PG, else ITSUP_DB. */
static const char *db_path(const struct opts *o)
{
	const char *pg = getenv("ITSUP_PG"), *db = getenv("ITSUP_DB");

	if (o->pg)
		return o->pg;
	if (o->db)
		return o->db;
	return pg && *pg ? pg : (db && *db ? db : NULL);
}

/* How a database is named in messages: a URL may hold a password. */
static const char *db_label(const char *db)
{
	return store_is_pg(db) ? "the PostgreSQL database" : db;
}

/* Reads the first line of path (without the newline). */
static bool read_secret_file(const char *path, char *out, size_t outsz)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "itsup: cannot read %s: %s\n", path, strerror(errno));
		return false;
	}
	if (!fgets(out, (int)outsz, f)) {
		fclose(f);
		fprintf(stderr, "itsup: %s is empty\n", path);
		return false;
	}
	fclose(f);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return true;
}

/* ---- shared steps ------------------------------------------------------------- */

static enum result add_user(struct store *st, const char *email, const char *name,
			    enum role role, int tier, int64_t client_id, const char *password,
			    int64_t *id, struct err *e)
{
	struct scope sys = scope_system();
	struct store_write w;
	char hash[PWHASH_MAX], lower[256];
	const char *why;
	enum result r;

	if (!email_valid(email))
		return err_set(e, RC_INVALID, "email", "'%s' is not an e-mail address", email);
	if (!auth_role_shape_ok(role, tier, client_id, e))
		return RC_INVALID;
	if (password) {
		why = password_policy(password);
		if (why)
			return err_set(e, RC_INVALID, "password", "the password %s", why);
		r = password_hash(password, hash, e);
		if (r != RC_OK)
			return r;
	}
	str_lower(email, lower, sizeof(lower));
	store_write_init(&w, W_USER_CREATE, &sys);
	w.in.user.email = lower;
	w.in.user.name = name;
	w.in.user.role = role;
	w.in.user.tier = tier;
	w.in.user.client_id = client_id;
	w.in.user.active = true;
	w.in.user.password_hash = password ? hash : NULL;
	w.audit.action = "user.create";
	w.audit.object_type = "user";
	w.audit.addr = "cli";
	w.audit.detail = "itsup cli";
	r = store_write_sync(st, &w);
	if (r != RC_OK) {
		*e = w.err;
		return r;
	}
	if (id)
		*id = w.id;
	return RC_OK;
}

static enum result set_setting(struct store *st, const char *key, const char *value,
			       struct err *e)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_SETTING_SET, &sys);
	w.in.setting.key = key;
	w.in.setting.value = value;
	w.audit.action = "settings.update";
	w.audit.object_type = "setting";
	w.audit.addr = "cli";
	w.audit.detail = key;
	if (store_write_sync(st, &w) != RC_OK)
		*e = w.err;
	return w.rc;
}

/* ---- init ---------------------------------------------------------------------- */

static int cmd_init(int argc, char **argv)
{
	struct opts o;
	struct store *st = NULL;
	struct err e = { 0 };
	char password[PASSWORD_MAX + 2];
	const char *db;
	int rc = 1;

	if (!parse_opts(argc, argv, &o))
		return EXIT_USAGE;
	if (o.help) {
		fputs(usage_of("init"), stdout);
		return 0;
	}
	db = db_path(&o);
	if (!db || !o.email || !o.password_file) {
		fputs(usage_of("init"), stderr);
		return EXIT_USAGE;
	}
	if (!read_secret_file(o.password_file, password, sizeof(password)))
		return 1;
	if (password_policy(password)) {
		fprintf(stderr, "itsup: the admin password %s\n", password_policy(password));
		return 1;
	}
	if (auth_init(&e) != RC_OK)
		return fail("init", &e);
	if (store_open(&st, db, true, &e) != RC_OK)
		return fail("init", &e);
	if (set_setting(st, SETTING_MFA_REQUIRED, "1", &e) != RC_OK)
		goto out;
	if (add_user(st, o.email, o.name ? o.name : "Administrator", ROLE_ADMIN, 0, 0, password,
		     NULL, &e) != RC_OK)
		goto out;
	if (store_is_pg(db))
		printf("Created the itsup schema in the PostgreSQL database with admin %s."
		       " Start it with: itsup serve --pg URL\n", o.email);
	else
		printf("Created %s with admin %s. Start it with: itsup serve --db %s\n", db, o.email, db);
	rc = 0;
out:
	if (rc)
		fail("init", &e);
	store_close(st);
	if (rc && !store_is_pg(db))
		unlink(db);
	return rc;
}

/* ---- user add, token create ------------------------------------------------------- */

static int cmd_user(int argc, char **argv)
{
	struct opts o;
	struct store *st = NULL;
	struct err e = { 0 };
	char password[PASSWORD_MAX + 2];
	int64_t tier = 0, client = 0, id = 0;
	const char *db;
	enum role role;
	int rc;

	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		fputs(usage_of("user"), argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : EXIT_USAGE;
	}
	if (!parse_opts(argc - 1, argv + 1, &o))
		return EXIT_USAGE;
	if (o.help) {
		fputs(usage_of("user"), stdout);
		return 0;
	}
	db = db_path(&o);
	if (!db || !o.email || !o.name || !o.role) {
		fputs(usage_of("user"), stderr);
		return EXIT_USAGE;
	}
	role = role_parse(o.role);
	if ((o.tier && !parse_i64(o.tier, &tier)) || (o.client_id && !parse_i64(o.client_id, &client))) {
		fprintf(stderr, "itsup: --tier and --client-id take numbers\n");
		return EXIT_USAGE;
	}
	if (o.password_file && !read_secret_file(o.password_file, password, sizeof(password)))
		return 1;
	if (auth_init(&e) != RC_OK)
		return fail("user add", &e);
	if (store_open(&st, db, false, &e) != RC_OK)
		return fail("user add", &e);
	rc = add_user(st, o.email, o.name, role, (int)tier, client,
		      o.password_file ? password : NULL, &id, &e) == RC_OK ? 0 : 1;
	store_close(st);
	if (rc)
		return fail("user add", &e);
	printf("Added user %" PRId64 " (%s, %s)\n", id, o.email, o.role);
	return 0;
}

static int cmd_token(int argc, char **argv)
{
	struct opts o;
	struct store *st = NULL;
	struct err e = { 0 };
	struct arena *a = NULL;
	struct user u;
	struct store_write w;
	struct scope sys = scope_system();
	char token[TOKEN_MAX], lower[256];
	const char *db;
	int rc = 1;

	if (argc < 2 || strcmp(argv[1], "create") != 0) {
		fputs(usage_of("token"), stderr);
		return EXIT_USAGE;
	}
	if (!parse_opts(argc - 1, argv + 1, &o))
		return EXIT_USAGE;
	if (o.help) {
		fputs(usage_of("token"), stdout);
		return 0;
	}
	db = db_path(&o);
	if (!db || !o.user || !o.name) {
		fputs(usage_of("token"), stderr);
		return EXIT_USAGE;
	}
	if (auth_init(&e) != RC_OK)
		return fail("token create", &e);
	if (store_open(&st, db, false, &e) != RC_OK)
		return fail("token create", &e);
	a = arena_new(1 << 20);
	str_lower(o.user, lower, sizeof(lower));
	if (!a || store_user_auth(st, lower, a, &u, &e) != RC_OK) {
		if (a)
			err_set(&e, RC_NOTFOUND, "user", "no user %s", o.user);
		goto out;
	}
	token_new("itsup_", token);
	store_write_init(&w, W_TOKEN_CREATE, &sys);
	w.in.token.t.user_id = u.id;
	w.in.token.t.name = o.name;
	token_hash(token, w.in.token.hash);
	w.audit.action = "token.create";
	w.audit.object_type = "api_token";
	w.audit.tenant_id = u.client_id;
	w.audit.addr = "cli";
	w.audit.detail = o.name;
	if (store_write_sync(st, &w) != RC_OK) {
		e = w.err;
		goto out;
	}
	printf("%s\n", token);
	rc = 0;
out:
	if (rc)
		fail("token create", &e);
	arena_free(a);
	store_close(st);
	return rc;
}

/* ---- audit verify ------------------------------------------------------------------- */

static bool verify_step(const struct audit_rec *r, void *arg)
{
	return audit_verify_step(arg, r);
}

static int cmd_audit(int argc, char **argv)
{
	struct opts o;
	struct store *st = NULL;
	struct err e = { 0 };
	struct audit_verify v;
	char hex[65];
	const char *db;

	if (argc < 2 || strcmp(argv[1], "verify") != 0) {
		fputs(usage_of("audit"), stderr);
		return EXIT_USAGE;
	}
	if (!parse_opts(argc - 1, argv + 1, &o))
		return EXIT_USAGE;
	if (o.help) {
		fputs(usage_of("audit"), stdout);
		return 0;
	}
	db = db_path(&o);
	if (!db) {
		fputs(usage_of("audit"), stderr);
		return EXIT_USAGE;
	}
	if (auth_init(&e) != RC_OK)
		return fail("audit verify", &e);
	if (store_open(&st, db, false, &e) != RC_OK)
		return fail("audit verify", &e);
	audit_verify_init(&v);
	if (store_audit_walk(st, verify_step, &v, &e) != RC_OK) {
		store_close(st);
		return fail("audit verify", &e);
	}
	store_close(st);
	if (v.broken_seq) {
		printf("BROKEN at record %" PRId64 ": %s (%" PRId64 " records before it are intact)\n",
		       v.broken_seq, v.why, v.checked);
		return 1;
	}
	hex_encode(v.head, 32, hex);
	printf("ok: %" PRId64 " records, chain intact, head %s\n", v.checked, hex);
	return 0;
}

/* ---- report ---------------------------------------------------------------------------- */

/* itsup report sla-review: the API's review, for the whole provider (the
 * system's scope), on stdout. */
static int cmd_report(int argc, char **argv)
{
	struct opts o;
	struct store *st = NULL;
	struct err e = { 0 };
	struct review_params p = { 0 };
	struct scope sys = scope_system();
	struct arena *a;
	struct buf out;
	const char *db;
	enum result rc;

	if (argc < 2 || strcmp(argv[1], "sla-review") != 0) {
		fputs(usage_of("report"), stderr);
		return EXIT_USAGE;
	}
	if (!parse_opts(argc - 1, argv + 1, &o))
		return EXIT_USAGE;
	if (o.help) {
		fputs(usage_of("report"), stdout);
		return 0;
	}
	db = db_path(&o);
	if (!db || (o.format && strcmp(o.format, "json") && strcmp(o.format, "csv") &&
		    strcmp(o.format, "html"))) {
		fputs(usage_of("report"), stderr);
		return EXIT_USAGE;
	}
	p.format = !o.format ? REVIEW_JSON : !strcmp(o.format, "csv") ? REVIEW_CSV
					 : !strcmp(o.format, "html") ? REVIEW_HTML : REVIEW_JSON;
	if (o.client_id && (!parse_i64(o.client_id, &p.client_id) || p.client_id <= 0)) {
		fprintf(stderr, "itsup: report: --client-id must be an id\n");
		return EXIT_USAGE;
	}
	if (report_period(o.from, o.to, &p, &e) != RC_OK) {
		fprintf(stderr, "itsup: report: --%s %s\n", e.field, e.msg);
		return EXIT_USAGE;
	}
	if (store_open(&st, db, false, &e) != RC_OK)
		return fail("report", &e);
	a = arena_new((size_t)1 << 30);
	buf_init(&out, SIZE_MAX / 2);
	rc = a ? report_sla_review(st, &sys, &p, a, &out, &e)
	       : err_set(&e, RC_NOMEM, NULL, "out of memory");
	store_close(st);
	if (rc == RC_OK) {
		fwrite(buf_str(&out), 1, out.len, stdout);
		if (p.format == REVIEW_JSON)
			fputc('\n', stdout);
	}
	buf_release(&out);
	arena_free(a);
	if (rc != RC_OK)
		return fail("report", &e);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- import ---------------------------------------------------------------------------- */

struct import_file {
	FILE *f;
	uint64_t size;          /* bytes, for the progress */
};

static ptrdiff_t import_read(void *arg, char *buf, size_t n)
{
	struct import_file *x = arg;
	size_t k = fread(buf, 1, n, x->f);

	return k == 0 && ferror(x->f) ? -1 : (ptrdiff_t)k;
}

static int import_rewind(void *arg)
{
	struct import_file *x = arg;

	clearerr(x->f);
	return fseeko(x->f, 0, SEEK_SET);
}

/* Progress on stderr, for files of 10,000 rows or more. */
static void import_progress(void *arg, enum imp_phase phase, uint64_t done, uint64_t of)
{
	struct import_file *x = arg;

	if (phase == IMP_VALIDATING && done >= 10000)
		fprintf(stderr, "validated %" PRIu64 " rows (%" PRIu64 "%% of the file)\n", done,
			x->size ? of * 100 / x->size : 100);
	else if (phase == IMP_WRITING && of >= 10000)
		fprintf(stderr, "written %" PRIu64 " / %" PRIu64 " tickets\n", done, of);
}

/* itsup import tickets FILE: the API's import (src/import/run.h), as the
 * system (audited as actor 0, address "cli"). */
static int cmd_import(int argc, char **argv)
{
	struct import_file in = { NULL, 0 };
	struct imp_run run;
	struct scope sys = scope_system();
	struct store *st = NULL;
	struct err e = { 0 };
	struct stat sb;
	struct opts o;
	const char *db, *file, *dot;
	enum result rc;
	size_t i;
	json_t *v;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_of("import"), stdout);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "tickets") || argv[2][0] == '-') {
		fputs(usage_of("import"), stderr);
		return EXIT_USAGE;
	}
	file = argv[2];
	if (!parse_opts(argc - 2, argv + 2, &o))
		return EXIT_USAGE;
	if (o.help) {
		fputs(usage_of("import"), stdout);
		return 0;
	}
	db = db_path(&o);
	if (!db || (o.format && strcmp(o.format, "jsonl") && strcmp(o.format, "csv"))) {
		fputs(usage_of("import"), stderr);
		return EXIT_USAGE;
	}
	memset(&run, 0, sizeof(run));
	dot = strrchr(file, '.');
	run.format = o.format ? (!strcmp(o.format, "csv") ? IMP_CSV : IMP_JSONL)
			      : dot && !strcasecmp(dot, ".csv") ? IMP_CSV : IMP_JSONL;
	in.f = fopen(file, "rb");
	if (!in.f) {
		fprintf(stderr, "itsup: import: cannot read %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (fstat(fileno(in.f), &sb) == 0)
		in.size = (uint64_t)sb.st_size;
	if (store_open(&st, db, false, &e) != RC_OK) {
		fclose(in.f);
		return fail("import", &e);
	}
	run.read = import_read;
	run.rewind = import_rewind;
	run.arg = &in;
	run.scope = &sys;
	run.addr = "cli";
	run.now = clock_now_ms();
	run.progress = import_progress;
	run.progress_arg = &in;
	rc = imp_run(st, &run, &e);
	store_close(st);
	sla_shutdown();
	fclose(in.f);
	if (rc == RC_OK) {
		json_decref(run.errors);
		printf("imported %zu tickets: T-%06" PRId64 " to T-%06" PRId64 "\n", run.imported,
		       run.first_number, run.last_number);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	json_array_foreach(run.errors, i, v) {
		const char *f = json_string_value(json_object_get(v, "field"));
		fprintf(stderr, "line %" PRId64 ": %s%s%s\n", (int64_t)json_integer_value(json_object_get(v, "line")),
			f && *f ? f : "", f && *f ? ": " : "",
			json_string_value(json_object_get(v, "message")));
	}
	if (run.error_count > json_array_size(run.errors))
		fprintf(stderr, "... and %zu more\n", run.error_count - json_array_size(run.errors));
	json_decref(run.errors);
	return fail("import", &e);
}

/* ---- serve ----------------------------------------------------------------------------- */

static int cmd_serve(int argc, char **argv)
{
	struct opts o;
	struct server srv = { 0 };
	struct err e = { 0 };
	sigset_t sigs;
	int sig = 0;

	if (!parse_opts(argc, argv, &o))
		return EXIT_USAGE;
	if (o.help) {
		fputs(usage_of("serve"), stdout);
		return 0;
	}
	config_defaults(&srv.cfg);
	if ((o.config && config_load_file(&srv.cfg, o.config, &e) != RC_OK) ||
	    config_load_env(&srv.cfg, &e) != RC_OK ||
	    (o.db && config_set(&srv.cfg, "db", o.db, &e) != RC_OK) ||
	    (o.db && !o.pg && config_set(&srv.cfg, "pg", "", &e) != RC_OK) ||
	    (o.pg && config_set(&srv.cfg, "pg", o.pg, &e) != RC_OK) ||
	    (o.listen && config_set(&srv.cfg, "listen", o.listen, &e) != RC_OK) ||
	    (o.threads && config_set(&srv.cfg, "threads", o.threads, &e) != RC_OK))
		return fail("serve", &e);
	if (o.test_clock)
		srv.cfg.test_clock = true;
	if (srv.cfg.test_clock && srv.cfg.production) {
		fprintf(stderr, "itsup: serve: --test-clock is refused when production = true\n");
		return 1;
	}
	if (!strcmp(srv.cfg.log_level, "debug"))
		log_set_level(LOG_DEBUG);
	else if (!strcmp(srv.cfg.log_level, "warn"))
		log_set_level(LOG_WARN);
	else if (!strcmp(srv.cfg.log_level, "error"))
		log_set_level(LOG_ERROR);
	if (srv.cfg.test_clock)
		clock_test_enable(clock_now_ms());

	/* Every thread started from here on inherits the blocked signals;
	 * only sigwait() below receives them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (auth_init(&e) != RC_OK)
		return fail("serve", &e);
	if (store_open(&srv.store, srv.cfg.pg[0] ? srv.cfg.pg : srv.cfg.db, false, &e) != RC_OK)
		return fail("serve", &e);
	if (server_start(&srv, &e) != RC_OK || jobs_start(&srv, &e) != RC_OK ||
	    notify_start(&srv, &e) != RC_OK) {
		jobs_stop(&srv);
		server_stop(&srv);
		store_close(srv.store);
		return fail("serve", &e);
	}
	log_event(LOG_INFO, "listening",
		  json_pack("{s:s+,s:s,s:i,s:b}", "url", "http://", srv.bound, "addr", srv.bound, "threads",
			    srv.cfg.threads, "test_clock", srv.cfg.test_clock));
	sigwait(&sigs, &sig);
	log_msg(LOG_INFO, "stopping", "signal %d", sig);
	notify_stop();
	jobs_stop(&srv);
	server_stop(&srv);
	sla_shutdown();
	store_close(srv.store);
	auth_done();
	log_msg(LOG_INFO, "stopped", "clean shutdown");
	return 0;
}

/* ---- demo -------------------------------------------------------------------------------- */

static enum result demo_client(struct store *st, const char *name, const char *tz,
			       const char *domain, int64_t *id, struct err *e)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_CLIENT_CREATE, &sys);
	w.in.client.name = name;
	w.in.client.timezone = tz;
	w.in.client.email_domain = domain;
	w.in.client.active = true;
	w.audit.action = "client.create";
	w.audit.object_type = "client";
	w.audit.addr = "cli";
	if (store_write_sync(st, &w) != RC_OK) {
		*e = w.err;
		return w.rc;
	}
	*id = w.id;
	return RC_OK;
}

static enum result demo_contact(struct store *st, int64_t client, const char *name,
				const char *email, const char *phone, const char *title,
				struct err *e)
{
	struct scope sys = scope_system();
	struct store_write w;

	store_write_init(&w, W_CONTACT_CREATE, &sys);
	w.in.contact.client_id = client;
	w.in.contact.name = name;
	w.in.contact.email = email;
	w.in.contact.phone = phone;
	w.in.contact.title = title;
	w.audit.action = "contact.create";
	w.audit.object_type = "contact";
	w.audit.addr = "cli";
	if (store_write_sync(st, &w) != RC_OK) {
		*e = w.err;
		return w.rc;
	}
	return RC_OK;
}

/* One demo write as the system, audited; *id gets the new id. */
static enum result demo_put(struct store *st, struct store_write *w, const char *action,
			    const char *type, int64_t *id, struct err *e)
{
	w->audit.action = action;
	w->audit.object_type = type;
	w->audit.addr = "cli";
	if (store_write_sync(st, w) != RC_OK) {
		*e = w->err;
		return w->rc;
	}
	*id = w->id;
	return RC_OK;
}

/* The demo's SLAs: office calendars in each client's zone, a 24x7 one for
 * P1, a default policy and a stricter one, and a contract per client. */
static enum result demo_sla(struct store *st, const int64_t clients[3], struct err *e)
{
	static const char weekdays[] = "{\"mon\":[[\"08:00\",\"17:00\"]],\"tue\":[[\"08:00\",\"17:00\"]],"
		"\"wed\":[[\"08:00\",\"17:00\"]],\"thu\":[[\"08:00\",\"17:00\"]],\"fri\":[[\"08:00\",\"17:00\"]]}";
	struct scope sys = scope_system();
	struct store_write w;
	int64_t ny = 0, berlin = 0, noc = 0, standard = 0, premium = 0, id = 0;
	char cals[64];
	enum result r;

	store_write_init(&w, W_CALENDAR_PUT, &sys);
	w.in.cal = (struct calendar_row){ .name = "New York office", .timezone = "America/New_York",
		.hours = weekdays, .holidays = "[{\"date\":\"2026-11-26\",\"name\":\"Thanksgiving\"},"
		"{\"date\":\"2026-12-24\",\"hours\":[[\"08:00\",\"12:00\"]],\"name\":\"Christmas Eve\"},"
		"{\"date\":\"2026-12-25\",\"name\":\"Christmas Day\"}]" };
	if ((r = demo_put(st, &w, "calendar.create", "calendar", &ny, e)) != RC_OK)
		return r;
	store_write_init(&w, W_CALENDAR_PUT, &sys);
	w.in.cal = (struct calendar_row){ .name = "Berlin office", .timezone = "Europe/Berlin",
		.hours = weekdays, .holidays = "[{\"date\":\"2026-12-24\",\"name\":\"Heiligabend\"},"
		"{\"date\":\"2026-12-25\",\"name\":\"1. Weihnachtstag\"},{\"date\":\"2026-12-26\",\"name\":\"2. Weihnachtstag\"}]" };
	if ((r = demo_put(st, &w, "calendar.create", "calendar", &berlin, e)) != RC_OK)
		return r;
	store_write_init(&w, W_CALENDAR_PUT, &sys);
	w.in.cal = (struct calendar_row){ .name = "NOC 24x7", .timezone = "UTC", .always = true,
		.hours = "{}", .holidays = "[]" };
	if ((r = demo_put(st, &w, "calendar.create", "calendar", &noc, e)) != RC_OK)
		return r;
	snprintf(cals, sizeof(cals), "{\"P1\":%" PRId64 "}", noc);
	store_write_init(&w, W_SLA_POLICY_PUT, &sys);
	w.in.policy = (struct sla_policy_row){ .name = "Standard", .calendar_id = ny, .calendars = cals,
		.targets = "{\"P1\":{\"response\":900,\"resolution\":14400},\"P2\":{\"response\":3600,\"resolution\":28800},"
			   "\"P3\":{\"response\":14400,\"resolution\":86400},\"P4\":{\"response\":28800,\"resolution\":144000}}",
		.pause_statuses = "[\"pending_customer\",\"pending_vendor\"]", .warn_at = "[0.75,0.9]",
		.tier_targets = "{}", .actions = "[{\"on\":\"resolution_breached\",\"do\":\"notify_dispatcher\"}]",
		.is_default = true };
	if ((r = demo_put(st, &w, "sla_policy.create", "sla_policy", &standard, e)) != RC_OK)
		return r;
	store_write_init(&w, W_SLA_POLICY_PUT, &sys);
	w.in.policy = (struct sla_policy_row){ .name = "Premium (Berlin)", .calendar_id = berlin, .calendars = cals,
		.targets = "{\"P1\":{\"response\":600,\"resolution\":7200},\"P2\":{\"response\":1800,\"resolution\":14400},"
			   "\"P3\":{\"response\":7200,\"resolution\":57600},\"P4\":{\"response\":14400,\"resolution\":115200}}",
		.pause_statuses = "[\"pending_customer\",\"pending_vendor\"]", .warn_at = "[0.75,0.9]",
		.tier_targets = "{\"1\":3600,\"2\":14400}",
		.actions = "[{\"on\":\"response_warning\",\"at\":0.9,\"do\":\"notify_dispatcher\"}]" };
	if ((r = demo_put(st, &w, "sla_policy.create", "sla_policy", &premium, e)) != RC_OK)
		return r;
	store_write_init(&w, W_CONTRACT_PUT, &sys);
	w.in.contract = (struct contract_row){ .client_id = clients[1], .name = "Managed IT, per seat",
		.sla_policy_id = standard, .model = "per_seat", .starts_on = "2026-01-01" };
	if ((r = demo_put(st, &w, "contract.create", "contract", &id, e)) != RC_OK)
		return r;
	store_write_init(&w, W_CONTRACT_PUT, &sys);
	w.in.contract = (struct contract_row){ .client_id = clients[2], .name = "Premium flat fee",
		.sla_policy_id = premium, .model = "flat_fee", .starts_on = "2026-01-01" };
	return demo_put(st, &w, "contract.create", "contract", &id, e);
}

static int cmd_demo(int argc, char **argv)
{
	static const struct {
		const char *email, *name;
		enum role role;
		int tier;
		int client; /* 0 none, 1 first client, 2 second */
	} people[] = {
		{ "admin@demo.itsup.test", "Ada Admin", ROLE_ADMIN, 0, 0 },
		{ "dispatch@demo.itsup.test", "Dana Dispatcher", ROLE_DISPATCHER, 0, 0 },
		{ "tier1@demo.itsup.test", "Tom Tier-One", ROLE_TECHNICIAN, 1, 0 },
		{ "tier2@demo.itsup.test", "Tess Tier-Two", ROLE_TECHNICIAN, 2, 0 },
		{ "tier3@demo.itsup.test", "Theo Tier-Three", ROLE_TECHNICIAN, 3, 0 },
		{ "it-lead@acme-dental.example", "Carla Client-Admin", ROLE_CLIENT_ADMIN, 0, 1 },
		{ "frontdesk@acme-dental.example", "Uma User", ROLE_CLIENT_USER, 0, 1 },
		{ "sysadmin@borealis.example", "Ivan In-House-IT", ROLE_CLIENT_IT, 0, 2 },
		{ "office@borealis.example", "Olga Office", ROLE_CLIENT_USER, 0, 2 },
	};
	struct opts o;
	struct store *st = NULL;
	struct err e = { 0 };
	char password[TOKEN_MAX];
	int64_t clients[3] = { 0 };
	const char *db;
	FILE *f = NULL;
	int fd, rc = 1;

	if (!parse_opts(argc, argv, &o))
		return EXIT_USAGE;
	if (o.help) {
		fputs(usage_of("demo"), stdout);
		return 0;
	}
	db = db_path(&o);
	if (!db || !o.credentials) {
		fputs(usage_of("demo"), stderr);
		return EXIT_USAGE;
	}
	if (auth_init(&e) != RC_OK)
		return fail("demo", &e);
	token_new("", password);
	password[16] = '\0'; /* 96 random bits, easier to type */
	if (store_open(&st, db, true, &e) != RC_OK)
		return fail("demo", &e);
	if (set_setting(st, SETTING_MFA_REQUIRED, "0", &e) != RC_OK ||
	    demo_client(st, "Acme Dental", "America/New_York", "acme-dental.example", &clients[1], &e) != RC_OK ||
	    demo_client(st, "Borealis Logistics", "Europe/Berlin", "borealis.example", &clients[2], &e) != RC_OK ||
	    demo_contact(st, clients[1], "Dr. Alice Molar", "alice@acme-dental.example", "+1 212 555 0101", "Practice owner", &e) != RC_OK ||
	    demo_contact(st, clients[1], "Bob Reception", "frontdesk@acme-dental.example", "+1 212 555 0102", "Reception", &e) != RC_OK ||
	    demo_contact(st, clients[2], "Britta Nord", "britta@borealis.example", "+49 30 5550 1001", "Operations", &e) != RC_OK ||
	    demo_contact(st, clients[2], "Jonas Lager", "jonas@borealis.example", "+49 30 5550 1002", "Warehouse lead", &e) != RC_OK ||
	    demo_sla(st, clients, &e) != RC_OK)
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(people); i++)
		if (add_user(st, people[i].email, people[i].name, people[i].role, people[i].tier,
			     clients[people[i].client], password, NULL, &e) != RC_OK)
			goto out;
	fd = open(o.credentials, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		err_set(&e, RC_IO, NULL, "cannot write %s: %s", o.credentials, strerror(errno));
		goto out;
	}
	fprintf(f, "password: %s\n", password);
	for (size_t i = 0; i < ARRAY_SIZE(people); i++)
		fprintf(f, "%-10s %-32s %s\n", people[i].role == ROLE_TECHNICIAN
			? (people[i].tier == 1 ? "tier1" : people[i].tier == 2 ? "tier2" : "tier3")
			: role_name(people[i].role), people[i].email, people[i].name);
	fclose(f);
	printf("Created demo database %s; logins in %s\n", db_label(db), o.credentials);
	rc = 0;
out:
	if (rc)
		fail("demo", &e);
	store_close(st);
	if (rc && !store_is_pg(db))
		unlink(db);
	return rc;
}

/* ---- migrate --from-sqlite ---------------------------------------------------------- */

/* The MTA's exit statuses (sysexits.h) are mailgate.h's: 75 keeps the
 * message queued, 65 bounces it. */
static int cmd_mailgate(int argc, char **argv)
{
	struct opts o;

	if (!parse_opts(argc, argv, &o) || !o.url || !o.token_file) {
		fprintf(stderr, "usage: itsup mailgate --url URL --token-file FILE < message.eml\n");
		return MAILGATE_USAGE;
	}
	return mailgate_run(o.url, o.token_file, stdin, 25u << 20, stderr);
}

static int cmd_migrate(int argc, char **argv)
{
	struct pg_import_report *rep;
	struct opts o;
	struct err e = { 0 };
	enum result r;

	if (!parse_opts(argc, argv, &o))
		return EXIT_USAGE;
	if (o.help) {
		fputs(usage_of("migrate"), stdout);
		return 0;
	}
	if (!o.from_sqlite || !o.pg || !store_is_pg(o.pg)) {
		fputs(usage_of("migrate"), stderr);
		return EXIT_USAGE;
	}
	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return 1;
	r = pg_import_sqlite(o.from_sqlite, o.pg, stdout, rep, &e);
	pg_import_print_report(stdout, rep);
	free(rep);
	if (r != RC_OK)
		return fail("migrate", &e);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage_all(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("itsup 0.1.0\n");
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "itsup: no command '%s'\n\n", argv[1]);
		usage_all(stderr);
		return EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
