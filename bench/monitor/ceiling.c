/*
 * bench/monitor/ceiling.c: monitor-ceiling, the ceiling of monitoring's
 * benchmark (issue 7; bench/monitor/README.md): how many metric samples
 * per second SQLite alone stores on this machine, written the way
 * itsup's writer must write them, with nothing else in the way (no HTTP,
 * no JSON, no authentication, no checks).
 *
 *   monitor-ceiling DB [--seconds 10] [--devices 10000] [--metrics 20]
 *                      [--batch 64] [--full]
 *
 * DB must not exist. It is opened with the writer's PRAGMAs
 * (src/store/store_sqlite.c: WAL, synchronous=FULL, foreign keys,
 * wal_autocheckpoint=4000), gets metric_series and metric_raw exactly as
 * in src/store/migrations/0007_monitoring.sql (and the devices table
 * they refer to, with a one-row clients table for its foreign key), then
 * --devices devices with --metrics series each. Measured: for --seconds,
 * check-ins in turn over the devices, each inserting one metric_raw row
 * (at, series_id, value) per series with one prepared statement,
 * --batch check-ins per transaction (BEGIN IMMEDIATE ... COMMIT, one
 * fsync of the WAL each). A device's at is the wall clock in ms,
 * strictly growing per device, as monitor-load sends it.
 *
 * --full also does, per check-in, what a check-in must store besides its
 * samples if the server keeps the batch id and the device's last
 * readings in the database (0007's agent_batches and devices.latest):
 * one agent_batches row and one UPDATE of the device (last_seen_at,
 * latest as JSON, updated_at). It is an estimate of the server's floor
 * of work, not the headline ceiling.
 *
 * Prints a summary and
 *   RESULT samples=... seconds=... samples_per_s=... checkins_per_s=... commits_per_s=...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char schema[] =
	"CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;\n"
	"INSERT INTO clients VALUES (1, 'ceiling');\n"
	/* 0007_monitoring.sql from here on */
	"CREATE TABLE devices (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	tenant_id INTEGER NOT NULL REFERENCES clients (id),\n"
	"	hostname TEXT NOT NULL,\n"
	"	os TEXT,\n"
	"	token_hash BLOB NOT NULL UNIQUE,\n"
	"	enroll_token_id INTEGER,\n"
	"	inventory TEXT,\n"
	"	inventory_at INTEGER NOT NULL DEFAULT 0,\n"
	"	latest TEXT,\n"
	"	last_seen_at INTEGER NOT NULL DEFAULT 0,\n"
	"	active INTEGER NOT NULL DEFAULT 1,\n"
	"	created_at INTEGER NOT NULL,\n"
	"	updated_at INTEGER NOT NULL,\n"
	"	version INTEGER NOT NULL DEFAULT 1\n"
	") STRICT;\n"
	"CREATE INDEX devices_tenant ON devices (tenant_id, id);\n"
	"CREATE INDEX devices_seen ON devices (last_seen_at);\n"
	"CREATE TABLE agent_batches (\n"
	"	device_id INTEGER NOT NULL,\n"
	"	batch_id INTEGER NOT NULL,\n"
	"	at INTEGER NOT NULL,\n"
	"	PRIMARY KEY (device_id, batch_id)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX agent_batches_at ON agent_batches (at);\n"
	"CREATE TABLE metric_series (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	tenant_id INTEGER NOT NULL,\n"
	"	device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,\n"
	"	name TEXT NOT NULL,\n"
	"	labels TEXT NOT NULL DEFAULT '',\n"
	"	UNIQUE (device_id, name, labels)\n"
	") STRICT;\n"
	"CREATE TABLE metric_raw (\n"
	"	at INTEGER NOT NULL,\n"
	"	series_id INTEGER NOT NULL,\n"
	"	value REAL NOT NULL,\n"
	"	PRIMARY KEY (at, series_id)\n"
	") STRICT, WITHOUT ROWID;\n";

/* The writer's connection (src/store/store_sqlite.c, open_conn). */
static const char pragmas[] =
	"PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
	" PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 4000;";

/* The series of one device: monitor-load's (itsup-agent's) names. */
static const struct {
	const char *name, *labels;
} series_defs[] = {
	{ "cpu.percent", "" }, { "load.1", "" }, { "load.5", "" }, { "load.15", "" },
	{ "processes.count", "" }, { "mem.used_percent", "" }, { "mem.available_bytes", "" },
	{ "swap.used_percent", "" }, { "uptime.seconds", "" }, { "net.rx_bytes", "" },
	{ "net.tx_bytes", "" },
	{ "disk.used_percent", "{\"mount\":\"/\"}" }, { "disk.free_bytes", "{\"mount\":\"/\"}" },
	{ "disk.inodes_used_percent", "{\"mount\":\"/\"}" },
	{ "disk.used_percent", "{\"mount\":\"/var\"}" }, { "disk.free_bytes", "{\"mount\":\"/var\"}" },
	{ "disk.inodes_used_percent", "{\"mount\":\"/var\"}" },
	{ "process.running", "{\"name\":\"sshd\"}" }, { "process.running", "{\"name\":\"cron\"}" },
	{ "process.running", "{\"name\":\"rsyslogd\"}" },
};
#define NDEFS ((long)(sizeof(series_defs) / sizeof(series_defs[0])))

static sqlite3 *db;

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "monitor-ceiling: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void exec(const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		die("%s: %s", sql, msg ? msg : "?");
}

static sqlite3_stmt *prepare(const char *sql)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK)
		die("%s: %s", sql, sqlite3_errmsg(db));
	return q;
}

static void step_done(sqlite3_stmt *q)
{
	if (sqlite3_step(q) != SQLITE_DONE)
		die("%s: %s", sqlite3_sql(q), sqlite3_errmsg(db));
	sqlite3_reset(q);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long parse_long(const char *s, const char *name, long min, long max)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("bad value for --%s: %s", name, s);
	return v;
}

static double value_of(long d, long i)
{
	uint64_t h = (uint64_t)d * 2654435761u + (uint64_t)i * 40503u;
	return (double)(h % 100000) / 100.0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: monitor-ceiling DB [--seconds 10] [--devices 10000] [--metrics 20]\n"
		   "                          [--batch 64] [--full]\n");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	long seconds = 10, devices = 10000, metrics = 20, batch = 64;
	bool full = false;
	sqlite3_stmt *ins_raw, *ins_batch = NULL, *upd_dev = NULL;
	int64_t *last_at;
	uint64_t *batch_id;
	uint64_t samples = 0, checkins = 0, commits = 0;
	double t0, t, setup0;
	long d = 0;
	struct stat sb;
	char *latest = NULL;
	size_t latest_cap = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--full")) {
			full = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (a[0] == '-' && !v) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(a, "--seconds"))
			seconds = parse_long(v, "seconds", 1, 86400);
		else if (!strcmp(a, "--devices"))
			devices = parse_long(v, "devices", 1, 10000000);
		else if (!strcmp(a, "--metrics"))
			metrics = parse_long(v, "metrics", 1, 1000);
		else if (!strcmp(a, "--batch"))
			batch = parse_long(v, "batch", 1, 1000000);
		else if (a[0] != '-' && !path) {
			path = a;
			continue;
		} else {
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	if (stat(path, &sb) == 0)
		die("%s exists; give a new file", path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		die("cannot open %s", path);
	sqlite3_extended_result_codes(db, 1);
	exec(pragmas);
	exec(schema);

	/* Devices and their series, as the first check-ins would make them. */
	setup0 = mono_s();
	exec("BEGIN IMMEDIATE");
	{
		sqlite3_stmt *qd = prepare("INSERT INTO devices (id, tenant_id, hostname, os, token_hash,"
					   " created_at, updated_at) VALUES (?, 1, ?, 'Debian GNU/Linux 12',"
					   " randomblob(32), ?, ?)");
		sqlite3_stmt *qs = prepare("INSERT INTO metric_series (id, tenant_id, device_id, name, labels)"
					   " VALUES (?, 1, ?, ?, ?)");
		int64_t now = wall_ms();
		for (long i = 0; i < devices; i++) {
			char host[32];
			snprintf(host, sizeof(host), "monload-%06ld", i + 1);
			sqlite3_bind_int64(qd, 1, i + 1);
			sqlite3_bind_text(qd, 2, host, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(qd, 3, now);
			sqlite3_bind_int64(qd, 4, now);
			step_done(qd);
			for (long m = 0; m < metrics; m++) {
				char extra[48];
				const char *name = series_defs[m < NDEFS ? m : NDEFS - 1].name;
				const char *labels = series_defs[m < NDEFS ? m : NDEFS - 1].labels;
				if (m >= NDEFS) {
					snprintf(extra, sizeof(extra), "{\"name\":\"svc-%ld\"}", m - NDEFS + 1);
					labels = extra;
				}
				sqlite3_bind_int64(qs, 1, i * metrics + m + 1);
				sqlite3_bind_int64(qs, 2, i + 1);
				sqlite3_bind_text(qs, 3, name, -1, SQLITE_STATIC);
				sqlite3_bind_text(qs, 4, labels, -1, SQLITE_TRANSIENT);
				step_done(qs);
			}
		}
		sqlite3_finalize(qd);
		sqlite3_finalize(qs);
	}
	exec("COMMIT");
	exec("PRAGMA wal_checkpoint(TRUNCATE)");
	printf("monitor-ceiling: %s: %ld devices x %ld series made in %.2f s; %ld check-ins a "
	       "transaction%s; %ld s\n", path, devices, metrics, mono_s() - setup0, batch,
	       full ? ", with agent_batches and devices.latest (--full)" : "", seconds);
	fflush(stdout);

	ins_raw = prepare("INSERT INTO metric_raw (at, series_id, value) VALUES (?, ?, ?)");
	if (full) {
		ins_batch = prepare("INSERT INTO agent_batches (device_id, batch_id, at) VALUES (?, ?, ?)");
		upd_dev = prepare("UPDATE devices SET last_seen_at = ?1, latest = ?2, updated_at = ?1,"
				  " version = version + 1 WHERE id = ?3");
	}
	last_at = calloc((size_t)devices, sizeof(*last_at));
	batch_id = calloc((size_t)devices, sizeof(*batch_id));
	if (!last_at || !batch_id)
		die("out of memory");

	t0 = mono_s();
	t = t0;
	while (t - t0 < (double)seconds) {
		exec("BEGIN IMMEDIATE");
		for (long k = 0; k < batch; k++) {
			int64_t at = wall_ms();
			size_t len = 0;
			if (at <= last_at[d])
				at = last_at[d] + 1;
			last_at[d] = at;
			batch_id[d]++;
			for (long m = 0; m < metrics; m++) {
				double v = value_of(d, m);
				sqlite3_bind_int64(ins_raw, 1, at);
				sqlite3_bind_int64(ins_raw, 2, d * metrics + m + 1);
				sqlite3_bind_double(ins_raw, 3, v);
				step_done(ins_raw);
				if (full) {
					/* {"name{labels}":[value,at],...} */
					const char *name = series_defs[m < NDEFS ? m : NDEFS - 1].name;
					const char *labels = series_defs[m < NDEFS ? m : NDEFS - 1].labels;
					size_t need = len + strlen(name) + 2 * strlen(labels) + 64;
					if (need > latest_cap) {
						latest_cap = need * 2;
						latest = realloc(latest, latest_cap);
						if (!latest)
							die("out of memory");
					}
					latest[len++] = m ? ',' : '{';
					len += (size_t)snprintf(latest + len, latest_cap - len, "\"%s", name);
					for (const char *p = labels; *p; p++) {
						if (*p == '"')
							latest[len++] = '\\';
						latest[len++] = *p;
					}
					len += (size_t)snprintf(latest + len, latest_cap - len,
								"\":[%.17g,%" PRId64 "]", v, at);
				}
			}
			if (full) {
				latest[len++] = '}';
				sqlite3_bind_int64(ins_batch, 1, d + 1);
				sqlite3_bind_int64(ins_batch, 2, (sqlite3_int64)batch_id[d]);
				sqlite3_bind_int64(ins_batch, 3, at);
				step_done(ins_batch);
				sqlite3_bind_int64(upd_dev, 1, at);
				sqlite3_bind_text(upd_dev, 2, latest, (int)len, SQLITE_STATIC);
				sqlite3_bind_int64(upd_dev, 3, d + 1);
				step_done(upd_dev);
			}
			samples += (uint64_t)metrics;
			checkins++;
			if (++d == devices)
				d = 0;
		}
		exec("COMMIT");
		commits++;
		t = mono_s();
	}
	{
		double secs = t - t0;
		sqlite3_stmt *q = prepare("SELECT count(*) FROM metric_raw");
		int64_t rows = -1;
		long long dbsize = 0, walsize = 0;
		char wal[4096];
		if (sqlite3_step(q) == SQLITE_ROW)
			rows = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		if (stat(path, &sb) == 0)
			dbsize = (long long)sb.st_size;
		snprintf(wal, sizeof(wal), "%s-wal", path);
		if (stat(wal, &sb) == 0)
			walsize = (long long)sb.st_size;
		printf("monitor-ceiling: %" PRIu64 " samples (%" PRIu64 " check-ins, %" PRIu64
		       " commits) in %.2f s: %.0f samples/s, %.0f check-ins/s, %.0f commits/s;"
		       " rows counted %" PRId64 "; file %.1f MiB + WAL %.1f MiB\n",
		       samples, checkins, commits, secs, (double)samples / secs, (double)checkins / secs,
		       (double)commits / secs, rows, (double)dbsize / 1048576.0, (double)walsize / 1048576.0);
		printf("RESULT samples=%" PRIu64 " checkins=%" PRIu64 " commits=%" PRIu64 " seconds=%.3f"
		       " samples_per_s=%.0f checkins_per_s=%.1f commits_per_s=%.1f batch=%ld full=%d\n",
		       samples, checkins, commits, secs, (double)samples / secs, (double)checkins / secs,
		       (double)commits / secs, batch, full ? 1 : 0);
		if (rows != (int64_t)samples)
			die("counted %" PRId64 " rows, inserted %" PRIu64, rows, samples);
	}
	sqlite3_finalize(ins_raw);
	sqlite3_finalize(ins_batch);
	sqlite3_finalize(upd_dev);
	free(last_at);
	free(batch_id);
	free(latest);
	if (sqlite3_close(db) != SQLITE_OK)
		die("close: %s", sqlite3_errmsg(db));
	return 0;
}
