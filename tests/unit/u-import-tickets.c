/* u-import-tickets.c: the history import's reader and validator
 * (src/import/import.h): JSON lines and CSV (RFC 4180 quoting, line
 * numbers of records that span lines, every header and record problem),
 * read through buffers of every small size; every kind of row problem by
 * line and field; the history's replay (status moves, reopen within and
 * after 7 days, tiers, priorities, vendor, FCR decided or given, CSAT) and
 * the SLA row it leaves, against hand-computed business times on an
 * office-hours calendar with a weekend and a pause; duplicates within a
 * file. */
#include "base/common.h"

#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>

#include "base/util.h"
#include "import/import.h"
#include "sla/calendar.h"
#include "sla/policy.h"
#include "sla/tz.h"

#define MIN INT64_C(60000)
#define HOUR (60 * MIN)

static struct tz *utc_zone;
static struct calendar office;
static struct sla_policy pol;
static struct arena *A;

/* ms of a UTC civil time */
static int64_t at(int y, int m, int d, int hh, int mm)
{
	return (days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60) * 1000;
}

/* ---- the world the validator sees ------------------------------------------------------ */

/* Clients 1 and 2 exist; client 2 has its own matrix (high x high is P2)
 * and the office-hours policy; client 1 has none. */
static bool env_client(void *arg, int64_t id, struct prio_matrix *m)
{
	UNUSED(arg);
	*m = prio_matrix_default;
	if (id == 2)
		m->m[LV_HIGH][LV_HIGH] = PR_P2;
	return id == 1 || id == 2;
}

static int policy_calls;

static int64_t env_policy(void *arg, int64_t client, int64_t created_at, const struct sla_policy **p)
{
	UNUSED(arg);
	UNUSED(created_at);
	policy_calls++;
	*p = client == 2 ? &pol : NULL;
	return client == 2 ? 7 : 0;
}

/* The import happens on Monday 2027-06-07 at noon. */
static const struct imp_env env = { env_client, env_policy, NULL, 1812369600000, false };

static int setup(void **state)
{
	struct sla_policy_def d;
	struct err e;
	json_t *t;

	UNUSED(state);
	if (sodium_init() < 0 || tz_load("UTC", &utc_zone, &e) != RC_OK)
		return -1;
	office.tz = utc_zone;
	for (int day = 0; day < 5; day++) {
		office.week[day].n = 1;
		office.week[day].span[0].start = 9 * 60;
		office.week[day].span[0].end = 17 * 60;
	}
	/* P1 1 h / 4 h, P2 2 h / 8 h, P3 4 h / 16 h, P4 8 h / 40 h. */
	t = json_pack("{s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}}",
		      "P1", "response", 3600, "resolution", 4 * 3600,
		      "P2", "response", 2 * 3600, "resolution", 8 * 3600,
		      "P3", "response", 4 * 3600, "resolution", 16 * 3600,
		      "P4", "response", 8 * 3600, "resolution", 40 * 3600);
	if (sla_policy_parse(t, NULL, NULL, NULL, NULL, NULL, &d, &e) != RC_OK)
		return -1;
	json_decref(t);
	for (int i = 0; i < PR_COUNT; i++)
		d.p.cal[i] = &office;
	d.p.id = 7;
	pol = d.p;
	A = arena_new(64u << 20);
	return A ? 0 : -1;
}

static int teardown(void **state)
{
	UNUSED(state);
	tz_free(utc_zone);
	arena_free(A);
	return 0;
}

/* ---- helpers ---------------------------------------------------------------------------- */

struct mem {
	const char *p;
	size_t len, pos, chunk;
};

static ptrdiff_t mem_read(void *arg, char *buf, size_t n)
{
	struct mem *m = arg;
	size_t k = m->len - m->pos;

	if (k > n)
		k = n;
	if (m->chunk && k > m->chunk)
		k = m->chunk;
	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (ptrdiff_t)k;
}

static ptrdiff_t failing_read(void *arg, char *buf, size_t n)
{
	UNUSED(arg);
	UNUSED(buf);
	UNUSED(n);
	return -1;
}

/* Reads all of text as format f, chunk bytes at a time (0: any): the
 * rows (as compact JSON, "!" for an unreadable one) joined by '\n' into
 * out, each prefixed by its line, and every problem into errs. */
static void read_all(enum imp_format f, const char *text, size_t chunk, char *out, size_t outsz,
		     json_t *errs, bool whole)
{
	struct mem m = { text, strlen(text), 0, chunk };
	struct imp_reader *rd = imp_reader_new(f, mem_read, &m);
	size_t o = 0;

	assert_non_null(rd);
	out[0] = '\0';
	for (;;) {
		json_t *row;
		int64_t line;
		int k = imp_reader_next(rd, &row, &line, errs);
		char *s;
		if (k == 0 || k == -2)
			break;
		s = k > 0 ? json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		o += (size_t)snprintf(out + o, outsz - o, "%s%" PRId64 ":%s", o ? "\n" : "", line,
				      s ? s : "!");
		free(s);
		json_decref(row);
	}
	if (whole)      /* every byte was read (a bad CSV header stops the reading) */
		assert_int_equal(imp_reader_offset(rd), strlen(text));
	imp_reader_free(rd);
}

/* Whether errs holds {line, field, message containing part}. */
static bool has_error(json_t *errs, int64_t line, const char *field, const char *part)
{
	size_t i;
	json_t *v;

	json_array_foreach(errs, i, v) {
		const char *f = json_string_value(json_object_get(v, "field"));
		const char *msg = json_string_value(json_object_get(v, "message"));
		if (json_integer_value(json_object_get(v, "line")) == line && f && !strcmp(f, field) &&
		    msg && strstr(msg, part))
			return true;
	}
	return false;
}

static void dump(json_t *errs)
{
	char *s = json_dumps(errs, JSON_INDENT(1));
	print_message("errors: %s\n", s ? s : "?");
	free(s);
}

#define assert_error(errs, line, field, part)                          \
	do {                                                           \
		if (!has_error((errs), (line), (field), (part))) {     \
			dump(errs);                                    \
			fail_msg("no error %s: %s", (field), (part));  \
		}                                                      \
	} while (0)

/* The row text (JSON) validated as line 5: true and out filled, or the
 * problems in *errs (a new array the caller frees). */
static bool row(const char *text, struct import_ticket *out, json_t **errs)
{
	json_error_t je;
	json_t *v = json_loads(text, 0, &je);
	bool ok;

	if (!v)
		fail_msg("test row is not JSON: %s", je.text);
	*errs = json_array();
	ok = imp_row(&env, v, 5, A, out, *errs);
	arena_defer(A, (void (*)(void *))json_decref, v);
	return ok;
}

/* A row that must pass. */
static void row_ok(const char *text, struct import_ticket *out)
{
	json_t *errs;

	if (!row(text, out, &errs)) {
		dump(errs);
		fail_msg("the row was refused");
	}
	json_decref(errs);
}

#define BASE "\"client_id\": 2, \"external_id\": \"ZM-1\", \"subject\": \"Printer\", \"type\": \"incident\", \"channel\": \"email\""

/* ---- reading ---------------------------------------------------------------------------- */

static void test_jsonl_reading(void **state)
{
	static const char text[] = "{\"a\": 1}\r\n\n   \n{\"b\": [1, 2]}\n{nope}\n[1]\n{\"c\": 1, \"c\": 2}\n{\"d\": \"\xc3\xa9\"}";
	char out[1024];

	UNUSED(state);
	/* The same rows and problems whatever the read size. */
	for (size_t chunk = 0; chunk < 8; chunk++) {
		json_t *errs = json_array();
		read_all(IMP_JSONL, text, chunk, out, sizeof(out), errs, true);
		assert_string_equal(out, "1:{\"a\":1}\n4:{\"b\":[1,2]}\n5:!\n6:!\n7:!\n8:{\"d\":\"\xc3\xa9\"}");
		assert_int_equal(json_array_size(errs), 3);
		assert_error(errs, 5, "", "is not JSON");
		assert_error(errs, 6, "", "must be a JSON object");
		assert_error(errs, 7, "", "duplicate");
		json_decref(errs);
	}
}

static void test_jsonl_long_line(void **state)
{
	size_t n = IMP_LINE_MAX + 10;
	char *text = malloc(n + 32), out[256];
	json_t *errs = json_array();

	UNUSED(state);
	memset(text, 'x', n);
	snprintf(text + n, 32, "\n{\"ok\": true}\n");
	read_all(IMP_JSONL, text, 0, out, sizeof(out), errs, true);
	assert_string_equal(out, "1:!\n2:{\"ok\":true}");
	assert_error(errs, 1, "", "is longer than 1048576 bytes");
	json_decref(errs);
	free(text);
}

static void test_input_failure(void **state)
{
	struct imp_reader *rd = imp_reader_new(IMP_JSONL, failing_read, NULL);
	json_t *errs = json_array(), *row;
	int64_t line;

	UNUSED(state);
	assert_int_equal(imp_reader_next(rd, &row, &line, errs), -2);
	assert_null(row);
	assert_error(errs, 1, "", "could not be read");
	imp_reader_free(rd);
	json_decref(errs);
}

static void test_csv_reading(void **state)
{
	/* Quoted commas, doubled quotes, a line break inside quotes (CRLF
	 * there is LF), CRLF line ends, an empty line, the events cell as
	 * JSON, typed cells, the csat_* cells as one object, empty cells
	 * left out. */
	static const char text[] =
		"client_id,external_id,subject,description,type,channel,created_at,tier,fcr,events,csat_rating,csat_at\r\n"
		"2,A-1,\"Hello, \"\"world\"\"\",\"two\r\nlines\",incident,email,2027-03-01T10:00:00Z,2,true,"
		"\"[{\"\"at\"\":\"\"2027-03-01T11:00:00Z\"\",\"\"tier\"\":3}]\",5,2027-03-02T10:00:00Z\r\n"
		"\r\n"
		"x,A-2,s,,problem,api,t,3,no,,,\n"
		"2,\"A-3\",\"\",d,change,portal,t,,0,,4,\n";
	char out[2048];

	UNUSED(state);
	for (size_t chunk = 0; chunk < 8; chunk++) {
		json_t *errs = json_array();
		read_all(IMP_CSV, text, chunk, out, sizeof(out), errs, true);
		assert_string_equal(out,
			"2:{\"channel\":\"email\",\"client_id\":2,\"created_at\":\"2027-03-01T10:00:00Z\","
			"\"csat\":{\"at\":\"2027-03-02T10:00:00Z\",\"rating\":5},\"description\":\"two\\nlines\","
			"\"events\":[{\"at\":\"2027-03-01T11:00:00Z\",\"tier\":3}],\"external_id\":\"A-1\","
			"\"fcr\":true,\"subject\":\"Hello, \\\"world\\\"\",\"tier\":2,\"type\":\"incident\"}\n"
			"5:{\"channel\":\"api\",\"client_id\":\"x\",\"created_at\":\"t\",\"external_id\":\"A-2\","
			"\"fcr\":\"no\",\"subject\":\"s\",\"tier\":3,\"type\":\"problem\"}\n"
			"6:{\"channel\":\"portal\",\"client_id\":2,\"created_at\":\"t\",\"csat\":{\"rating\":4},"
			"\"description\":\"d\",\"external_id\":\"A-3\",\"fcr\":false,\"type\":\"change\"}");
		assert_int_equal(json_array_size(errs), 0);
		json_decref(errs);
	}
}

static void test_csv_record_problems(void **state)
{
	static const char text[] =
		"client_id,external_id,subject,type,channel,created_at,events\n"
		"2,B-1,s,incident,api,t\n"                       /* line 2: one field short */
		"2,B-2,\"s\"x,incident,api,t,\n"                 /* 3: junk after a closing quote */
		"2,B-3,s\"s,incident,api,t,\n"                   /* 4: a quote in an unquoted field */
		"2,B-4,s,incident,api,t,\"two\n"                 /* 5: a record spanning... */
		"lines\",extra\n"                                /* ...line 6, one field too many */
		"2,B-5,s,incident,api,t,[nope\n"                 /* 7: events not JSON */
		"2,B-6,\xff,incident,api,t,\n"                   /* 8: not UTF-8 */
		"2,B-7,s,incident,api,t,\n"                      /* 9: fine */
		"2,B-8,\"never closed,incident,api,t,\n";        /* 10: the quote runs to the end */
	char out[2048];

	UNUSED(state);
	for (size_t chunk = 0; chunk < 4; chunk++) {
		json_t *errs = json_array();
		read_all(IMP_CSV, text, chunk, out, sizeof(out), errs, true);
		assert_string_equal(out, "2:!\n3:!\n4:!\n5:!\n7:!\n8:!\n9:{\"channel\":\"api\",\"client_id\":2,"
				    "\"created_at\":\"t\",\"external_id\":\"B-7\",\"subject\":\"s\",\"type\":\"incident\"}\n10:!");
		assert_error(errs, 2, "", "has 6 fields; the header has 7");
		assert_error(errs, 3, "", "must end at a comma");
		assert_error(errs, 4, "", "a quote in an unquoted field");
		assert_error(errs, 5, "", "has 8 fields; the header has 7");
		assert_error(errs, 7, "events", "is not JSON");
		assert_error(errs, 8, "subject", "UTF-8");
		assert_error(errs, 10, "", "a quoted field is not closed");
		assert_int_equal(json_array_size(errs), 7);
		json_decref(errs);
	}
}

/* Copies s to dst (no NUL): its length. */
static size_t add(char *dst, const char *s)
{
	size_t n = strlen(s);

	memcpy(dst, s, n);
	return n;
}

/* Reads text (chunk bytes at a time) into out as read_all does; *held:
 * the most the reader held between two rows. */
static void read_held(enum imp_format f, const char *text, size_t len, size_t chunk, char *out,
		      size_t outsz, json_t *errs, size_t *held)
{
	struct mem m = { text, len, 0, chunk };
	struct imp_reader *rd = imp_reader_new(f, mem_read, &m);
	size_t o = 0;

	assert_non_null(rd);
	out[0] = '\0';
	*held = 0;
	for (;;) {
		json_t *row;
		int64_t line;
		int k = imp_reader_next(rd, &row, &line, errs);
		char *s;
		if (imp_reader_memory(rd) > *held)
			*held = imp_reader_memory(rd);
		if (k == 0 || k == -2)
			break;
		s = k > 0 ? json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		o += (size_t)snprintf(out + o, outsz - o, "%s%" PRId64 ":%s", o ? "\n" : "", line,
				      s ? s : "!");
		free(s);
		json_decref(row);
	}
	assert_int_equal(imp_reader_offset(rd), len);
	imp_reader_free(rd);
}

/* A record of millions of fields, or past the length limit, is read to
 * its end (a quoted line break after the limit still belongs to it) and
 * refused by its line, and the reader's memory stays bounded: it neither
 * keeps the fields past the header's count nor the bytes past the limit. */
static void test_csv_huge_records(void **state)
{
	static const char head[] = "client_id,external_id,subject,type,channel,created_at,events\n";
	static const char tail[] = "2,C-9,s,incident,api,t,\n";
	size_t commas = 3000000, xs = IMP_LINE_MAX + 100, n = 0, held;
	char *text = malloc(commas + xs + 256), out[1024];

	UNUSED(state);
	assert_non_null(text);
	n += add(text + n, head);
	memset(text + n, ',', commas);                            /* line 2 */
	n += commas;
	n += add(text + n, "\n2,C-2,s,incident,api,t,,,,,\"a,\nb\",\"\"\"q\",z\n"); /* 3-4 */
	n += add(text + n, "2,C-3,\"");                           /* 5-6: too long */
	memset(text + n, 'x', xs);
	n += xs;
	n += add(text + n, "\",incident,api,t,\"x\ny\"\n");
	n += add(text + n, tail);                                 /* 7: fine */
	for (size_t chunk = 0; chunk < 12; chunk += 11) {
		json_t *errs = json_array();
		read_held(IMP_CSV, text, n, chunk, out, sizeof(out), errs, &held);
		assert_string_equal(out, "2:!\n3:!\n5:!\n7:{\"channel\":\"api\",\"client_id\":2,"
				    "\"created_at\":\"t\",\"external_id\":\"C-9\",\"subject\":\"s\",\"type\":\"incident\"}");
		assert_error(errs, 2, "", "has 3000001 fields; the header has 7");
		assert_error(errs, 3, "", "has 13 fields; the header has 7");
		assert_error(errs, 5, "", "is longer than 1048576 bytes");
		assert_int_equal(json_array_size(errs), 3);
		/* The input buffer, at most 2 MiB of record and a few fields. */
		if (held > 3 * IMP_LINE_MAX)
			fail_msg("the reader held %zu bytes", held);
		json_decref(errs);
	}
	/* A header of more columns than are known: counted, not kept. */
	{
		json_t *errs = json_array();
		memset(text, ',', commas);
		text[commas] = '\n';
		read_held(IMP_CSV, text, commas + 1, 0, out, sizeof(out), errs, &held);
		assert_error(errs, 1, "", "has 3000001 columns; at most 24 are known");
		assert_int_equal(json_array_size(errs), 1);
		if (held > 3 * IMP_LINE_MAX)
			fail_msg("the reader held %zu bytes", held);
		json_decref(errs);
	}
	free(text);
}

/* A row (or events cell) of more JSON values than a ticket can need is
 * refused before it is parsed; commas and brackets inside strings do not
 * count. */
static void test_too_many_values(void **state)
{
	static const char line2[] = "1:!\n2:{\"s\":\",[{,[{";
	size_t n = 0, k = IMP_MAX_VALUES;
	char *text = malloc(8 * k), *out = malloc(8 * k);
	json_t *errs = json_array();

	UNUSED(state);
	assert_non_null(text);
	assert_non_null(out);
	n += add(text + n, "{\"events\": [0");
	for (size_t i = 0; i < k; i++)
		n += add(text + n, ",0");
	n += add(text + n, "]}\n{\"s\": \"");                     /* line 2: in a string */
	for (size_t i = 0; i < k; i++)
		n += add(text + n, ",[{");
	n += add(text + n, "\\\"\"}\n");
	text[n] = '\0';
	read_all(IMP_JSONL, text, 0, out, 8 * k, errs, true);
	assert_int_equal(strncmp(out, line2, strlen(line2)), 0);
	assert_error(errs, 1, "", "has more than 4096 JSON values");
	assert_int_equal(json_array_size(errs), 1);
	json_array_clear(errs);
	/* CSV: the events cell. */
	n = add(text, "client_id,external_id,subject,type,channel,created_at,events\n"
			    "2,x,s,incident,api,t,\"[");
	for (size_t i = 0; i < k; i++)
		n += add(text + n, "{},");
	n += add(text + n, "{}]\"\n");
	text[n] = '\0';
	read_all(IMP_CSV, text, 0, out, 8 * k, errs, true);
	assert_string_equal(out, "2:!");
	assert_error(errs, 2, "events", "has more than 4096 JSON values");
	assert_int_equal(json_array_size(errs), 1);
	json_decref(errs);
	free(out);
	free(text);
}

static void test_csv_header_problems(void **state)
{
	char out[512];
	json_t *errs = json_array();

	UNUSED(state);
	read_all(IMP_CSV, "client_id,external_id,subject,colour,subject,type\n2,x,s,red,s,incident\n", 0, out,
		 sizeof(out), errs, false);
	assert_string_equal(out, "");
	assert_error(errs, 1, "", "column 4: unknown column 'colour'");
	assert_error(errs, 1, "", "column 5: subject is named twice");
	assert_error(errs, 1, "", "the column channel is missing");
	assert_error(errs, 1, "", "the column created_at is missing");
	assert_int_equal(json_array_size(errs), 4);
	json_array_clear(errs);
	read_all(IMP_CSV, "", 0, out, sizeof(out), errs, true);
	assert_error(errs, 1, "", "the file is empty");
	json_decref(errs);
}

static void test_format_of_type(void **state)
{
	enum imp_format f = IMP_CSV;

	UNUSED(state);
	assert_true(imp_format_of_type("application/x-ndjson", &f));
	assert_int_equal(f, IMP_JSONL);
	assert_true(imp_format_of_type("text/csv; charset=utf-8", &f));
	assert_int_equal(f, IMP_CSV);
	assert_true(imp_format_of_type("Application/JSONL", &f));
	assert_int_equal(f, IMP_JSONL);
	assert_false(imp_format_of_type("application/json", &f));
	assert_false(imp_format_of_type("text/csvx", &f));
	assert_false(imp_format_of_type(NULL, &f));
}

/* ---- validating: one problem of each kind --------------------------------------------------- */

static void test_member_problems(void **state)
{
	struct import_ticket t;
	json_t *errs;

	UNUSED(state);
	assert_false(row("{\"external_id\": \"\", \"subject\": 3, \"type\": \"bug\", \"channel\": \"fax\","
			 " \"created_at\": \"yesterday\", \"tier\": 4, \"colour\": \"red\", \"impact\": \"high\","
			 " \"requester_email\": \"nobody\", \"fcr\": \"yes\", \"events\": {}, \"csat\": []}",
			 &t, &errs));
	assert_error(errs, 5, "client_id", "is required");
	assert_error(errs, 5, "external_id", "must not be empty");
	assert_error(errs, 5, "subject", "must be a string");
	assert_error(errs, 5, "type", "must be one of");
	assert_error(errs, 5, "channel", "must be one of");
	assert_error(errs, 5, "created_at", "RFC 3339");
	assert_error(errs, 5, "tier", "between 1 and 3");
	assert_error(errs, 5, "colour", "unknown field");
	assert_error(errs, 5, "requester_email", "e-mail address");
	assert_error(errs, 5, "fcr", "true or false");
	assert_error(errs, 5, "events", "must be an array");
	assert_error(errs, 5, "csat", "must be an object");
	assert_error(errs, 5, "urgency", "is required with the other of impact and urgency");
	json_decref(errs);

	assert_false(row("{" BASE ", \"priority\": \"P2\", \"created_at\": \"2027-03-01T10:00:00Z\","
			 " \"csat\": {\"rating\": 6, \"comment\": 1, \"when\": 2}}", &t, &errs));
	assert_error(errs, 5, "csat.rating", "between 1 and 5");
	assert_error(errs, 5, "csat.comment", "must be a string");
	assert_error(errs, 5, "csat.when", "unknown field");
	assert_error(errs, 5, "csat.at", "is required");
	json_decref(errs);

	assert_false(row("{" BASE ", \"created_at\": \"2027-03-01T10:00:00Z\"}", &t, &errs));
	assert_error(errs, 5, "priority", "is required (or impact and urgency)");
	json_decref(errs);

	assert_false(row("{\"client_id\": 9, \"external_id\": \"x\", \"subject\": \"s\", \"type\": \"incident\","
			 " \"channel\": \"api\", \"priority\": \"P1\", \"created_at\": \"2027-03-01T10:00:00Z\"}",
			 &t, &errs));
	assert_error(errs, 5, "client_id", "is not a client");
	assert_int_equal(json_array_size(errs), 1);
	json_decref(errs);
}

static void test_event_shape_problems(void **state)
{
	struct import_ticket t;
	json_t *errs;

	UNUSED(state);
	assert_false(row("{" BASE ", \"priority\": \"P2\", \"created_at\": \"2027-03-01T10:00:00Z\", \"events\": ["
			 "{\"at\": \"2027-03-01T11:00:00Z\"},"
			 "{\"at\": \"2027-03-01T11:00:00Z\", \"status\": \"open\", \"tier\": 2},"
			 "{\"at\": \"2027-03-01T11:00:00Z\", \"reopened\": false},"
			 "{\"status\": \"new\"},"
			 "{\"at\": \"2027-03-01T11:00:00Z\", \"priority\": \"P0\", \"owner\": 1},"
			 "3]}", &t, &errs));
	assert_error(errs, 5, "events[0]", "exactly one of status, tier, priority, reopened");
	assert_error(errs, 5, "events[1]", "exactly one of");
	assert_error(errs, 5, "events[2].reopened", "must be true");
	assert_error(errs, 5, "events[3].at", "is required");
	assert_error(errs, 5, "events[3].status", "must be one of");
	assert_error(errs, 5, "events[4].priority", "must be one of");
	assert_error(errs, 5, "events[4].owner", "unknown field");
	assert_error(errs, 5, "events[5]", "must be an object");
	json_decref(errs);
}

static void test_instant_problems(void **state)
{
	struct import_ticket t;
	json_t *errs;

	UNUSED(state);
	/* Out of order against created_at, each other, resolved_at and now. */
	assert_false(row("{" BASE ", \"priority\": \"P2\", \"created_at\": \"2027-03-01T10:00:00Z\","
			 " \"first_response_at\": \"2027-03-01T09:00:00Z\","
			 " \"resolved_at\": \"2027-03-02T10:00:00Z\", \"closed_at\": \"2027-03-02T09:00:00Z\","
			 " \"events\": [{\"at\": \"2027-03-01T09:59:59Z\", \"status\": \"on_hold\"},"
			 " {\"at\": \"2027-03-01T12:00:00Z\", \"status\": \"on_hold\"},"
			 " {\"at\": \"2027-03-01T11:00:00Z\", \"status\": \"open\"},"
			 " {\"at\": \"2027-03-03T00:00:00Z\", \"tier\": 2}]}", &t, &errs));
	assert_error(errs, 5, "first_response_at", "is before created_at");
	assert_error(errs, 5, "closed_at", "is before resolved_at");
	assert_error(errs, 5, "events[0].at", "is before created_at");
	assert_error(errs, 5, "events[2].at", "is before the event before it");
	assert_error(errs, 5, "events[3].at", "is after resolved_at");
	json_decref(errs);
	assert_false(row("{" BASE ", \"priority\": \"P2\", \"created_at\": \"2027-03-01T10:00:00Z\","
			 " \"resolved_at\": \"2027-02-01T10:00:00Z\", \"csat\": {\"rating\": 3, \"at\": \"2027-02-01T00:00:00Z\"}}",
			 &t, &errs));
	assert_error(errs, 5, "resolved_at", "is before created_at");
	assert_error(errs, 5, "csat.at", "is before created_at");
	json_decref(errs);
	assert_false(row("{" BASE ", \"priority\": \"P2\", \"created_at\": \"2027-03-01T10:00:00Z\","
			 " \"closed_at\": \"2027-03-02T10:00:00Z\", \"first_response_at\": \"2027-03-03T10:00:00Z\"}",
			 &t, &errs));
	assert_error(errs, 5, "closed_at", "needs resolved_at");
	assert_error(errs, 5, "first_response_at", "is after closed_at");
	json_decref(errs);
	/* After the import's instant (noon 2027-06-07). */
	assert_false(row("{" BASE ", \"priority\": \"P2\", \"created_at\": \"2027-06-07T12:00:01Z\"}", &t, &errs));
	assert_error(errs, 5, "created_at", "is in the future");
	json_decref(errs);
	assert_false(row("{" BASE ", \"priority\": \"P2\", \"created_at\": \"2027-06-07T11:00:00Z\","
			 " \"first_response_at\": \"2027-06-08T00:00:00Z\", \"resolved_at\": \"2027-06-08T00:00:00Z\","
			 " \"events\": [{\"at\": \"2027-06-07T13:00:00+02:00\", \"status\": \"open\"},"
			 " {\"at\": \"2027-06-07T13:00:00Z\", \"status\": \"on_hold\"}]}", &t, &errs));
	assert_error(errs, 5, "first_response_at", "is in the future");
	assert_error(errs, 5, "resolved_at", "is in the future");
	assert_error(errs, 5, "events[1].at", "is in the future");
	assert_false(has_error(errs, 5, "events[0].at", ""));    /* 11:00 UTC: before noon */
	json_decref(errs);
	assert_false(row("{" BASE ", \"priority\": \"P2\", \"created_at\": \"1960-01-01T00:00:00Z\"}", &t, &errs));
	assert_error(errs, 5, "created_at", "must be after 1970");
	json_decref(errs);
}

static void test_history_problems(void **state)
{
	static const struct { const char *extra, *field, *part; } cases[] = {
		/* a closed ticket is final; only a resolved one is closed */
		{ "\"events\": [{\"at\": \"2027-03-01T11:00:00Z\", \"status\": \"closed\"}]",
		  "events[0].status", "only a resolved ticket can be closed" },
		{ "\"resolved_at\": \"2027-03-01T12:00:00Z\", \"closed_at\": \"2027-03-01T13:00:00Z\","
		  " \"events\": [{\"at\": \"2027-03-01T11:00:00Z\", \"status\": \"resolved\"}]",
		  "resolved_at", "already has this status" },
		{ "\"events\": [{\"at\": \"2027-03-01T11:00:00Z\", \"reopened\": true}]",
		  "events[0].reopened", "the ticket is new, not resolved" },
		{ "\"events\": [{\"at\": \"2027-03-01T11:00:00Z\", \"status\": \"on_hold\"},"
		  " {\"at\": \"2027-03-01T12:00:00Z\", \"status\": \"on_hold\"}]",
		  "events[1].status", "already has this status" },
		{ "\"events\": [{\"at\": \"2027-03-01T11:00:00Z\", \"tier\": 1}]",
		  "events[0].tier", "already at tier 1" },
		{ "\"events\": [{\"at\": \"2027-03-01T11:00:00Z\", \"status\": \"resolved\"},"
		  " {\"at\": \"2027-03-01T12:00:00Z\", \"tier\": 2}]",
		  "events[1].tier", "a resolved ticket cannot be escalated" },
		{ "\"events\": [{\"at\": \"2027-03-01T11:00:00Z\", \"priority\": \"P2\"}]",
		  "events[0].priority", "already P2" },
		{ "\"first_response_at\": \"2027-03-01T11:00:00Z\", \"status\": \"new\"",
		  "status", "end in open" },
		{ "\"resolved_at\": \"2027-03-01T11:00:00Z\", \"status\": \"closed\"",
		  "status", "end in resolved" },
		{ "\"fcr\": true", "fcr", "only for a ticket that was resolved" },
		{ "\"csat\": {\"rating\": 5, \"at\": \"2027-03-01T11:00:00Z\"}, \"resolved_at\": \"2027-03-01T12:00:00Z\"",
		  "csat.at", "the ticket is new at that instant" },
		{ "\"first_response_at\": \"2027-03-01T11:00:00Z\", \"events\": [{\"at\": \"2027-03-01T12:00:00Z\","
		  " \"status\": \"open\"}]", "events[0].status", "open -> open" },
	};
	char text[1024];

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct import_ticket t;
		json_t *errs;
		snprintf(text, sizeof(text), "{" BASE ", \"priority\": \"P2\", \"created_at\": \"2027-03-01T10:00:00Z\", %s}",
			 cases[i].extra);
		if (row(text, &t, &errs)) {
			json_decref(errs);
			fail_msg("case %zu passed", i);
		}
		assert_error(errs, 5, cases[i].field, cases[i].part);
		assert_int_equal(json_array_size(errs), 1);
		json_decref(errs);
	}
}

/* ---- validating: what a good row builds -------------------------------------------------------- */

static bool has_event(const struct import_ticket *t, const char *kind, int64_t when, const char *part)
{
	for (int i = 0; i < t->nev; i++)
		if (!strcmp(t->ev[i].kind, kind) && t->ev[i].at == when && strstr(t->ev[i].data, part) &&
		    strstr(t->ev[i].data, "\"imported\":true"))
			return true;
	return false;
}

/* The office-hours case of docs/IMPORT.md (and of the API test): P2,
 * created Friday 15:00, answered 16:00, waiting on the customer from
 * 16:30 to Monday 10:00, resolved Monday 14:00. Response: 1 h. Resolution:
 * Friday 15:00-16:30 and Monday 10:00-14:00, 5.5 h (the weekend is closed,
 * the pause does not count: 71 h of wall time). */
static void test_weekend_and_pause(void **state)
{
	struct import_ticket t;
	const struct ticket_sla *x = &t.t.sla;
	char log[512];

	UNUSED(state);
	row_ok("{" BASE ", \"priority\": \"P2\", \"created_at\": \"2027-03-05T16:00:00+01:00\","
	       " \"first_response_at\": \"2027-03-05T16:00:00Z\", \"resolved_at\": \"2027-03-08T14:00:00Z\","
	       " \"events\": [{\"at\": \"2027-03-05T16:30:00Z\", \"status\": \"pending_customer\"},"
	       " {\"at\": \"2027-03-08T10:00:00Z\", \"status\": \"open\"}], \"category\": \"printing\","
	       " \"description\": \"It jams.\", \"requester_email\": \"Ann@Borealis.example\"}", &t);
	assert_int_equal(t.t.created_at, at(2027, 3, 5, 15, 0));
	assert_int_equal(t.t.first_response_at, at(2027, 3, 5, 16, 0));
	assert_int_equal(t.t.resolved_at, at(2027, 3, 8, 14, 0));
	assert_int_equal(t.t.closed_at, 0);
	assert_int_equal(t.t.status, TS_RESOLVED);
	assert_int_equal(t.t.priority, PR_P2);
	assert_string_equal(t.t.priority_reason, "imported");
	assert_string_equal(t.t.category, "printing");
	assert_string_equal(t.t.description, "It jams.");
	assert_string_equal(t.t.queue, "general");
	assert_string_equal(t.requester_email, "ann@borealis.example");
	assert_string_equal(t.external_id, "ZM-1");
	assert_int_equal(t.t.last_activity_at, at(2027, 3, 8, 14, 0));
	assert_int_equal(t.t.fcr, 1);
	assert_int_equal(t.t.first_handler_id, 0);
	assert_int_equal(t.t.resolved_by, 0);
	assert_int_equal(t.line, 5);
	/* The clock log, as live tracking writes it. */
	snprintf(log, sizeof(log), "s0@%1$" PRId64 " p1@%1$" PRId64 " t1@%1$" PRId64 " s1@%2$" PRId64
		 " r0@%2$" PRId64 " s2@%3$" PRId64 " s1@%4$" PRId64 " s5@%5$" PRId64,
		 at(2027, 3, 5, 15, 0), at(2027, 3, 5, 16, 0), at(2027, 3, 5, 16, 30),
		 at(2027, 3, 8, 10, 0), at(2027, 3, 8, 14, 0));
	assert_string_equal(x->log, log);
	assert_true(x->present);
	assert_int_equal(x->policy_id, 7);
	assert_int_equal(x->response_ms, HOUR);
	assert_int_equal(x->resolution_ms, 5 * HOUR + 30 * MIN);
	assert_int_equal(x->tier_ms[0], 5 * HOUR + 30 * MIN);
	assert_int_equal(x->tier_ms[1], 0);
	assert_false(x->response_breached);
	assert_false(x->resolution_breached);
	assert_false(x->paused);
	/* Stopped clocks: the due instants when they stopped. */
	assert_int_equal(x->response_due, at(2027, 3, 5, 17, 0));
	assert_int_equal(x->resolution_due, at(2027, 3, 8, 16, 30));
	assert_int_equal(x->as_of, env.now);
	assert_int_equal(x->next_at, 0);
	/* The timeline, at the history's instants. */
	assert_true(has_event(&t, "first_response", at(2027, 3, 5, 16, 0), "{"));
	assert_true(has_event(&t, "status", at(2027, 3, 5, 16, 0), "\"from\":\"new\",\"to\":\"open\""));
	assert_true(has_event(&t, "status", at(2027, 3, 5, 16, 30), "\"to\":\"pending_customer\""));
	assert_true(has_event(&t, "status", at(2027, 3, 8, 10, 0), "\"to\":\"open\""));
	assert_true(has_event(&t, "status", at(2027, 3, 8, 14, 0), "\"to\":\"resolved\""));
	assert_true(has_event(&t, "fcr", at(2027, 3, 8, 14, 0), "\"fcr\":true"));
	assert_true(has_event(&t, "sla", env.now, "\"resolution_due_at\":\"2027-03-08T16:30:00Z\""));
	assert_int_equal(t.nev, 7);
	for (int i = 1; i < t.nev; i++)
		assert_true(t.ev[i - 1].at <= t.ev[i].at);
	assert_string_equal(t.created_extra, "\"imported\":true,\"external_id\":\"ZM-1\"");
}

/* An imported ticket still open is active from the import on: the
 * escalation rules' idle clocks start at the import, not at its history's
 * last instant (months ago), so a rule that notifies does not fire for
 * the whole backlog on the next pass; a resolved one keeps its last
 * instant. */
static void test_open_ticket_idle_clock(void **state)
{
	static const struct esc_rule quiet = { 1, EK_NO_UPDATE, 60, -1, 0, true };
	static const struct esc_rule unassigned = { 2, EK_UNASSIGNED, 30, -1, 2, true };
	static const char *const open_rows[] = {
		"{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\"}",
		"{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\","
		" \"first_response_at\": \"2027-03-01T09:30:00Z\"}",
		"{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\","
		" \"first_response_at\": \"2027-03-01T09:30:00Z\", \"events\": [{\"at\": \"2027-03-02T10:00:00Z\","
		" \"status\": \"pending_customer\"}]}",
	};
	struct import_ticket t;

	UNUSED(state);
	for (size_t i = 0; i < ARRAY_SIZE(open_rows); i++) {
		struct esc_facts f;
		row_ok(open_rows[i], &t);
		assert_int_equal(t.t.created_at, at(2027, 3, 1, 9, 0));
		assert_int_equal(t.t.last_activity_at, env.now);
		f = (struct esc_facts){ TS_OPEN, t.t.priority, t.t.tier, 0, t.t.last_activity_at,
					t.t.created_at, 0 };
		/* Not at the import, nor before the rules' minutes since. */
		assert_false(esc_due(&quiet, &f, env.now));
		assert_false(esc_due(&quiet, &f, env.now + 59 * MIN));
		assert_false(esc_due(&unassigned, &f, env.now + 29 * MIN));
		/* Then as for any ticket left alone. */
		assert_true(esc_due(&quiet, &f, env.now + 60 * MIN));
		assert_true(esc_due(&unassigned, &f, env.now + 30 * MIN));
	}
	row_ok("{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\","
	       " \"resolved_at\": \"2027-03-03T09:00:00Z\", \"closed_at\": \"2027-03-05T09:00:00Z\"}", &t);
	assert_int_equal(t.t.last_activity_at, at(2027, 3, 5, 9, 0));
}

/* A breach under the priority the ticket had stands after it changes;
 * warnings and breaches already due are taken as announced, and an open
 * ticket keeps its timers still ahead. */
static void test_priority_change_and_timers(void **state)
{
	struct import_ticket t;
	const struct ticket_sla *x = &t.t.sla;

	UNUSED(state);
	/* P1 (4 h) from Monday 9:00; at 15:00 (6 h used) it becomes P4
	 * (40 h); resolved at 16:00 (7 h): on time for P4, breached as P1. */
	row_ok("{" BASE ", \"priority\": \"P1\", \"created_at\": \"2027-03-01T09:00:00Z\","
	       " \"first_response_at\": \"2027-03-01T09:30:00Z\", \"resolved_at\": \"2027-03-01T16:00:00Z\","
	       " \"events\": [{\"at\": \"2027-03-01T15:00:00Z\", \"priority\": \"P4\"}]}", &t);
	assert_int_equal(t.t.priority, PR_P4);
	assert_int_equal(x->resolution_ms, 7 * HOUR);
	assert_true(x->resolution_breached);
	assert_false(x->response_breached);
	assert_true(has_event(&t, "priority", at(2027, 3, 1, 15, 0), "\"from\":\"P1\",\"to\":\"P4\""));

	/* Open since Friday 2027-06-04 16:00 (P3: 4 h response, 16 h
	 * resolution); the import is Monday noon: 4 h of business time. The
	 * response target is reached now exactly: due, not yet breached (a
	 * breach is strictly after), so its breach is the next timer (now +
	 * 1 ms); its warnings (75 %, 90 %) are past, taken as announced. */
	row_ok("{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-06-04T16:00:00Z\"}", &t);
	assert_int_equal(t.t.status, TS_NEW);
	assert_int_equal(x->resolution_ms, 4 * HOUR);
	assert_int_equal(x->response_ms, 4 * HOUR);
	assert_int_equal(x->response_due, env.now);
	assert_false(x->response_breached);
	assert_true((x->fired & SLA_BIT_WARN(SLA_RESPONSE, 0)) && (x->fired & SLA_BIT_WARN(SLA_RESPONSE, 1)));
	assert_false(x->fired & SLA_BIT_BREACH(SLA_RESPONSE));
	assert_int_equal(x->next_at, env.now + 1);
	assert_int_equal(x->resolution_due, at(2027, 6, 8, 16, 0));  /* 12 h more: Mon 12-17, Tue 9-16 */
	assert_int_equal(t.t.fcr, -1);
	assert_int_equal(t.nev, 1);    /* the sla event alone */

	/* No policy for client 1: the log is kept, the clocks are not run. */
	row_ok("{\"client_id\": 1, \"external_id\": \"Q\", \"subject\": \"s\", \"type\": \"change\","
	       " \"channel\": \"api\", \"impact\": \"high\", \"urgency\": \"high\","
	       " \"created_at\": \"2027-03-01T09:00:00Z\", \"resolved_at\": \"2027-03-01T10:00:00Z\"}", &t);
	assert_int_equal(t.t.priority, PR_P1);        /* the default matrix */
	assert_null(t.t.priority_reason);
	assert_true(x->present);
	assert_int_equal(x->policy_id, 0);
	assert_int_equal(x->resolution_ms, 0);
	assert_non_null(strstr(x->log, "s5@"));
	assert_int_equal(t.nev, 2);                   /* status, fcr; no sla event */
}

static void test_counters_and_fcr(void **state)
{
	struct import_ticket t;

	UNUSED(state);
	/* Client 2's own matrix: high x high is P2. */
	row_ok("{" BASE ", \"impact\": \"high\", \"urgency\": \"high\", \"created_at\": \"2027-03-01T09:00:00Z\","
	       " \"resolved_at\": \"2027-03-01T10:00:00Z\", \"tier\": 2}", &t);
	assert_int_equal(t.t.priority, PR_P2);
	assert_int_equal(t.t.impact, LV_HIGH);
	assert_int_equal(t.t.tier, 2);
	assert_int_equal(t.t.fcr, 0);
	assert_string_equal(t.t.fcr_reason, "not resolved at tier 1");

	/* Resolved, reopened within 7 days, resolved again, closed: one
	 * reopen, early; FCR false for good. Up a tier and back down: one
	 * escalation, two tier changes. */
	row_ok("{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\","
	       " \"first_response_at\": \"2027-03-01T09:10:00Z\", \"resolved_at\": \"2027-03-05T10:00:00Z\","
	       " \"closed_at\": \"2027-03-08T10:00:00Z\", \"status\": \"closed\","
	       " \"events\": [{\"at\": \"2027-03-01T10:00:00Z\", \"status\": \"resolved\"},"
	       " {\"at\": \"2027-03-02T10:00:00Z\", \"reopened\": true},"
	       " {\"at\": \"2027-03-03T10:00:00Z\", \"tier\": 2},"
	       " {\"at\": \"2027-03-04T10:00:00Z\", \"tier\": 1}]}", &t);
	assert_int_equal(t.t.status, TS_CLOSED);
	assert_int_equal(t.t.reopens, 1);
	assert_int_equal(t.t.early_reopens, 1);
	assert_int_equal(t.t.escalations, 1);
	assert_int_equal(t.t.tier_changes, 2);
	assert_int_equal(t.t.tier, 1);
	assert_int_equal(t.t.resolved_tier, 1);
	assert_int_equal(t.t.resolved_at, at(2027, 3, 5, 10, 0));
	assert_int_equal(t.t.closed_at, at(2027, 3, 8, 10, 0));
	assert_int_equal(t.t.fcr, 0);
	assert_true(has_event(&t, "fcr", at(2027, 3, 2, 10, 0), "reopened within 7 days"));
	assert_true(has_event(&t, "escalated", at(2027, 3, 3, 10, 0), "\"from_tier\":1,\"to_tier\":2"));
	assert_true(has_event(&t, "deescalated", at(2027, 3, 4, 10, 0), "\"from_tier\":2,\"to_tier\":1"));
	assert_true(has_event(&t, "status", at(2027, 3, 2, 10, 0), "\"from\":\"resolved\",\"to\":\"open\""));

	/* Reopened after 7 days: a reopen, not an early one; FCR decided
	 * again at the last resolution (false: reopened). */
	row_ok("{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\","
	       " \"resolved_at\": \"2027-03-20T10:00:00Z\","
	       " \"events\": [{\"at\": \"2027-03-01T10:00:00Z\", \"status\": \"resolved\"},"
	       " {\"at\": \"2027-03-10T10:00:00Z\", \"status\": \"open\"}]}", &t);
	assert_int_equal(t.t.reopens, 1);
	assert_int_equal(t.t.early_reopens, 0);
	assert_int_equal(t.t.fcr, 1);

	/* A vendor counts as an escalation (FCR false); "fcr" given wins. */
	row_ok("{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\","
	       " \"resolved_at\": \"2027-03-01T10:00:00Z\", \"vendor\": \"Dell\"}", &t);
	assert_string_equal(t.t.vendor, "Dell");
	assert_int_equal(t.t.escalations, 1);
	assert_int_equal(t.t.fcr, 0);
	row_ok("{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\","
	       " \"resolved_at\": \"2027-03-01T10:00:00Z\", \"vendor\": \"Dell\", \"fcr\": true,"
	       " \"csat\": {\"rating\": 4, \"comment\": \"quick\", \"at\": \"2027-03-01T11:00:00Z\"}}", &t);
	assert_int_equal(t.t.fcr, 1);
	assert_string_equal(t.t.fcr_reason, "given by the import");
	assert_true(has_event(&t, "fcr", at(2027, 3, 1, 10, 0), "given by the import"));
	assert_int_equal(t.csat_rating, 4);
	assert_string_equal(t.csat_comment, "quick");
	assert_int_equal(t.csat_at, at(2027, 3, 1, 11, 0));
	assert_true(has_event(&t, "csat", at(2027, 3, 1, 11, 0), "\"rating\":4"));
	/* Only one fcr event: the replay's verdict is not shown beside it. */
	{
		int n = 0;
		for (int i = 0; i < t.nev; i++)
			n += !strcmp(t.ev[i].kind, "fcr");
		assert_int_equal(n, 1);
	}

	/* At equal instants the events come first, then the response: an
	 * explicit move to open at the reply's instant is not refused. */
	row_ok("{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\","
	       " \"first_response_at\": \"2027-03-01T10:00:00Z\","
	       " \"events\": [{\"at\": \"2027-03-01T10:00:00Z\", \"status\": \"open\"}]}", &t);
	assert_int_equal(t.t.status, TS_OPEN);
	assert_int_equal(t.t.first_response_at, at(2027, 3, 1, 10, 0));

	/* Events at one instant keep the file's order: resolved, then
	 * reopened (the other way round would be refused). */
	row_ok("{" BASE ", \"priority\": \"P3\", \"created_at\": \"2027-03-01T09:00:00Z\","
	       " \"events\": [{\"at\": \"2027-03-01T10:00:00Z\", \"status\": \"resolved\"},"
	       " {\"at\": \"2027-03-01T10:00:00Z\", \"reopened\": true},"
	       " {\"at\": \"2027-03-01T10:00:00Z\", \"status\": \"on_hold\"}]}", &t);
	assert_int_equal(t.t.status, TS_ON_HOLD);
	assert_int_equal(t.t.reopens, 1);
	assert_int_equal(t.t.early_reopens, 1);
	assert_int_equal(t.t.resolved_at, 0);
}

/* ---- duplicates within a file ------------------------------------------------------------------ */

static void test_seen(void **state)
{
	struct imp_seen s;
	int64_t first = 0;
	char id[32];

	UNUSED(state);
	imp_seen_init(&s);
	assert_int_equal(imp_seen_add(&s, 2, "ZM-1", 3, &first), 1);
	assert_int_equal(imp_seen_add(&s, 1, "ZM-1", 4, &first), 1);     /* another client */
	assert_int_equal(imp_seen_add(&s, 2, "ZM-10", 5, &first), 1);
	assert_int_equal(imp_seen_add(&s, 2, "ZM-1", 9, &first), 0);
	assert_int_equal(first, 3);
	/* Through several growths, every one still found with its line. */
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "K-%d", i);
		assert_int_equal(imp_seen_add(&s, 7, id, 100 + i, &first), 1);
	}
	for (int i = 0; i < 5000; i += 37) {
		snprintf(id, sizeof(id), "K-%d", i);
		assert_int_equal(imp_seen_add(&s, 7, id, 1, &first), 0);
		assert_int_equal(first, 100 + i);
	}
	assert_int_equal(s.n, 5003);
	imp_seen_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonl_reading),
		cmocka_unit_test(test_jsonl_long_line),
		cmocka_unit_test(test_input_failure),
		cmocka_unit_test(test_csv_reading),
		cmocka_unit_test(test_csv_record_problems),
		cmocka_unit_test(test_csv_huge_records),
		cmocka_unit_test(test_too_many_values),
		cmocka_unit_test(test_csv_header_problems),
		cmocka_unit_test(test_format_of_type),
		cmocka_unit_test(test_member_problems),
		cmocka_unit_test(test_event_shape_problems),
		cmocka_unit_test(test_instant_problems),
		cmocka_unit_test(test_history_problems),
		cmocka_unit_test(test_weekend_and_pause),
		cmocka_unit_test(test_priority_change_and_timers),
		cmocka_unit_test(test_open_ticket_idle_clock),
		cmocka_unit_test(test_counters_and_fcr),
		cmocka_unit_test(test_seen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
