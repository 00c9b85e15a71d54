/*
 * import.c: reading and validating imported tickets (import.h explains
 * both steps and the replay's rules). Pure.
 */
#include "base/common.h"

#include <sodium.h>

#include "base/jschema.h"
#include "base/util.h"
#include "import/import.h"

#define RD_CHUNK (64u << 10)
#define IMP_ACTOR 1        /* the one handler the replay assumes (never stored) */
#define MAX_DUE 24

void imp_error(json_t *errs, int64_t line, const char *field, const char *message)
{
	json_array_append_new(errs, json_pack("{s:I,s:s,s:s}", "line", (json_int_t)line, "field",
					      field ? field : "", "message", message));
}

/* ---- reading: bytes --------------------------------------------------------------- */

/* The CSV columns: a JSON member each, typed; the csat_* cells make one
 * csat object. */
enum ckind { CK_STR, CK_INT, CK_BOOL, CK_JSON, CK_CSAT_RATING, CK_CSAT_COMMENT, CK_CSAT_AT };

static const struct {
	const char *name;
	enum ckind kind;
	bool required;
} csv_cols[] = {
	{ "client_id", CK_INT, true },      { "external_id", CK_STR, true },
	{ "subject", CK_STR, true },        { "description", CK_STR, false },
	{ "type", CK_STR, true },           { "category", CK_STR, false },
	{ "impact", CK_STR, false },        { "urgency", CK_STR, false },
	{ "priority", CK_STR, false },      { "channel", CK_STR, true },
	{ "queue", CK_STR, false },         { "tier", CK_INT, false },
	{ "created_at", CK_STR, true },     { "first_response_at", CK_STR, false },
	{ "resolved_at", CK_STR, false },   { "closed_at", CK_STR, false },
	{ "status", CK_STR, false },        { "vendor", CK_STR, false },
	{ "requester_email", CK_STR, false }, { "fcr", CK_BOOL, false },
	{ "events", CK_JSON, false },       { "csat_rating", CK_CSAT_RATING, false },
	{ "csat_comment", CK_CSAT_COMMENT, false }, { "csat_at", CK_CSAT_AT, false },
};

struct imp_reader {
	enum imp_format fmt;
	imp_read_fn read;
	void *arg;
	char *in;                 /* input buffer */
	size_t in_len, in_pos;
	bool eof, failed, done;
	uint64_t offset;          /* bytes consumed */
	int64_t line;             /* physical lines consumed */
	char *rec;                /* the current line or record */
	size_t rlen, rcap;
	bool too_long;
	/* CSV */
	bool header_read;
	size_t ncols;
	int col[64];              /* header position -> csv_cols index, -1: none */
	size_t nf, fcap;          /* the current record's fields (kept) */
	size_t *fstart, *flen;
	size_t fields;            /* ... and all of them (counted) */
	size_t fmax;              /* fields kept at most: more cannot make a row */
	json_t *pending;          /* the header's problems, for the first row */
};

struct imp_reader *imp_reader_new(enum imp_format f, imp_read_fn read, void *arg)
{
	struct imp_reader *rd = calloc(1, sizeof(*rd));

	if (!rd)
		return NULL;
	rd->fmt = f;
	rd->read = read;
	rd->arg = arg;
	rd->in = malloc(RD_CHUNK);
	rd->rcap = 4096;
	rd->rec = malloc(rd->rcap);
	rd->fcap = 32;
	rd->fmax = ARRAY_SIZE(rd->col) + 1;
	rd->fstart = malloc(rd->fcap * sizeof(size_t));
	rd->flen = malloc(rd->fcap * sizeof(size_t));
	if (!rd->in || !rd->rec || !rd->fstart || !rd->flen) {
		imp_reader_free(rd);
		return NULL;
	}
	return rd;
}

void imp_reader_free(struct imp_reader *rd)
{
	if (!rd)
		return;
	free(rd->in);
	free(rd->rec);
	free(rd->fstart);
	free(rd->flen);
	json_decref(rd->pending);
	free(rd);
}

uint64_t imp_reader_offset(const struct imp_reader *rd)
{
	return rd->offset;
}

size_t imp_reader_memory(const struct imp_reader *rd)
{
	return sizeof(*rd) + RD_CHUNK + rd->rcap + 2 * rd->fcap * sizeof(size_t);
}

/* Refills the input: false at the end or on a failure (rd->failed). */
static bool fill(struct imp_reader *rd)
{
	ptrdiff_t k;

	if (rd->eof || rd->failed)
		return false;
	k = rd->read(rd->arg, rd->in, RD_CHUNK);
	if (k < 0) {
		rd->failed = true;
		return false;
	}
	if (k == 0) {
		rd->eof = true;
		return false;
	}
	rd->in_len = (size_t)k;
	rd->in_pos = 0;
	return true;
}

/* The next byte, or -1 at the end (or on a failure). */
static inline int next_byte(struct imp_reader *rd)
{
	if (rd->in_pos == rd->in_len && !fill(rd))
		return -1;
	rd->offset++;
	return (unsigned char)rd->in[rd->in_pos++];
}

static inline int peek_byte(struct imp_reader *rd)
{
	if (rd->in_pos == rd->in_len && !fill(rd))
		return -1;
	return (unsigned char)rd->in[rd->in_pos];
}

/* Appends n bytes to the record, unless it is past IMP_LINE_MAX. */
static bool rec_put(struct imp_reader *rd, const char *p, size_t n)
{
	if (rd->too_long || rd->rlen + n > IMP_LINE_MAX) {
		rd->too_long = true;
		return true;
	}
	if (rd->rlen + n + 1 > rd->rcap) {
		size_t cap = rd->rcap;
		char *nr;
		while (cap < rd->rlen + n + 1)
			cap *= 2;
		nr = realloc(rd->rec, cap);
		if (!nr)
			return false;
		rd->rec = nr;
		rd->rcap = cap;
	}
	memcpy(rd->rec + rd->rlen, p, n);
	rd->rlen += n;
	rd->rec[rd->rlen] = '\0';
	return true;
}

/* One physical line (without its line break) into rec: 1, or 0 at the
 * end, -2 on a failure or out of memory. */
static int read_line(struct imp_reader *rd)
{
	bool any = false;

	rd->rlen = 0;
	rd->rec[0] = '\0';
	rd->too_long = false;
	for (;;) {
		const char *p, *nl;
		size_t n;
		if (rd->in_pos == rd->in_len && !fill(rd))
			break;
		any = true;
		p = rd->in + rd->in_pos;
		n = rd->in_len - rd->in_pos;
		nl = memchr(p, '\n', n);
		if (nl)
			n = (size_t)(nl - p);
		if (!rec_put(rd, p, n))
			return -2;
		rd->in_pos += n + (nl ? 1 : 0);
		rd->offset += n + (nl ? 1 : 0);
		if (nl)
			break;
	}
	if (rd->failed)
		return -2;
	if (!any)
		return 0;
	rd->line++;
	if (rd->rlen && rd->rec[rd->rlen - 1] == '\r')
		rd->rec[--rd->rlen] = '\0';
	return 1;
}

/* ---- reading: JSON lines ------------------------------------------------------------ */

/* Whether the JSON text s[0..n) holds more than IMP_MAX_VALUES values (it
 * counts the commas and opening brackets outside strings: one a value at
 * least, whether the text is valid or not). A ticket needs some hundreds
 * (256 events of two members each); a longer array is refused before it
 * is parsed, as its tree would be 20 to 100 times the text (a line of
 * [0,0,...] is half a million values). */
static bool too_many_values(const char *s, size_t n)
{
	size_t values = 1;
	bool str = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = false;
		} else if (c == '"') {
			str = true;
		} else if ((c == ',' || c == '[' || c == '{') && ++values > IMP_MAX_VALUES) {
			return true;
		}
	}
	return false;
}

static void too_many_error(json_t *errs, int64_t line, const char *field)
{
	char msg[120];

	snprintf(msg, sizeof(msg), "has more than %d JSON values; a ticket has far fewer (at most"
		 " %d events)", IMP_MAX_VALUES, IMP_MAX_EVENTS);
	imp_error(errs, line, field, msg);
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

static int next_jsonl(struct imp_reader *rd, json_t **row, int64_t *line, json_t *errs)
{
	for (;;) {
		json_error_t je;
		json_t *v;
		char msg[256];
		int k = read_line(rd);

		if (k <= 0)
			return k;
		*line = rd->line;
		if (rd->too_long) {
			snprintf(msg, sizeof(msg), "is longer than %u bytes", IMP_LINE_MAX);
			imp_error(errs, rd->line, "", msg);
			return -1;
		}
		if (blank(rd->rec))
			continue;
		if (too_many_values(rd->rec, rd->rlen)) {
			too_many_error(errs, rd->line, "");
			return -1;
		}
		v = json_loadb(rd->rec, rd->rlen, JSON_REJECT_DUPLICATES, &je);
		if (!v) {
			snprintf(msg, sizeof(msg), "is not JSON: %s (column %d)", je.text, je.column);
			imp_error(errs, rd->line, "", msg);
			return -1;
		}
		if (!json_is_object(v)) {
			json_decref(v);
			imp_error(errs, rd->line, "", "must be a JSON object (one ticket a line)");
			return -1;
		}
		*row = v;
		return 1;
	}
}

/* ---- reading: CSV (RFC 4180) ------------------------------------------------------------- */

static bool field_begin(struct imp_reader *rd)
{
	if (rd->nf == rd->fcap) {
		size_t cap = rd->fcap * 2;
		size_t *s = realloc(rd->fstart, cap * sizeof(size_t)), *l;
		if (!s)
			return false;
		rd->fstart = s;
		l = realloc(rd->flen, cap * sizeof(size_t));
		if (!l)
			return false;
		rd->flen = l;
		rd->fcap = cap;
	}
	rd->fstart[rd->nf] = rd->rlen;
	rd->flen[rd->nf] = 0;
	rd->nf++;
	return true;
}

static void field_end(struct imp_reader *rd)
{
	char nul = '\0';

	rd->flen[rd->nf - 1] = rd->rlen - rd->fstart[rd->nf - 1];
	rec_put(rd, &nul, 1);    /* each field NUL-terminated in rec */
}

/* One record into rec/fstart/flen: 1, 0 at the end, -2 failure or out of
 * memory; *bad says why the record is malformed (NULL: it is not). The
 * record starts on line *start. Empty lines are skipped. Memory is
 * bounded whatever the input: past IMP_LINE_MAX bytes nothing more is
 * kept, and past rd->fmax fields the fields are only counted (rd->fields);
 * either way the record is read to its end (quotes still delimit it). */
static int read_record(struct imp_reader *rd, int64_t *start, const char **bad)
{
	int c;

	for (;;) {
		bool quoted = false, after_quote = false, empty_line = true;
		bool fresh = true;        /* nothing of the current field read yet */

		rd->rlen = 0;
		rd->rec[0] = '\0';
		rd->too_long = false;
		rd->nf = 0;
		rd->fields = 1;
		*bad = NULL;
		c = next_byte(rd);
		if (c < 0)
			return rd->failed ? -2 : 0;
		*start = rd->line + 1;
		if (!field_begin(rd))
			return -2;
		for (;; c = next_byte(rd)) {
			if (c < 0) {
				if (rd->failed)
					return -2;
				if (quoted && !*bad)
					*bad = "a quoted field is not closed";
				field_end(rd);
				rd->line++;
				break;
			}
			if (quoted) {
				if (c == '"') {
					if (peek_byte(rd) == '"') {
						next_byte(rd);
						if (!rec_put(rd, "\"", 1))
							return -2;
					} else {
						quoted = false;
						after_quote = true;
					}
					continue;
				}
				if (c == '\r' && peek_byte(rd) == '\n')
					continue;       /* CRLF inside a field: LF */
				if (c == '\n')
					rd->line++;
				{
					char ch = (char)c;
					if (!rec_put(rd, &ch, 1))
						return -2;
				}
				continue;
			}
			if (c == ',') {
				empty_line = false;
				after_quote = false;
				fresh = true;
				rd->fields++;
				if (rd->too_long || rd->nf >= rd->fmax)
					continue;       /* counted, not kept: the record is bad */
				field_end(rd);
				if (!field_begin(rd))
					return -2;
				continue;
			}
			if (c == '\r' && peek_byte(rd) == '\n')
				continue;
			if (c == '\n') {
				field_end(rd);
				rd->line++;
				break;
			}
			empty_line = false;
			if (after_quote) {
				if (!*bad)
					*bad = "a quoted field must end at a comma or the end of the line";
				continue;
			}
			if (c == '"') {
				if (fresh) {
					quoted = true;
					fresh = false;
					continue;
				}
				if (!*bad)
					*bad = "a quote in an unquoted field (quote the field and double the quote)";
				continue;
			}
			fresh = false;
			{
				char ch = (char)c;
				if (!rec_put(rd, &ch, 1))
					return -2;
			}
		}
		if (empty_line && rd->nf == 1 && rd->flen[0] == 0 && !*bad)
			continue;
		if (rd->too_long)
			*bad = "is longer than 1048576 bytes";
		return 1;
	}
}

static const char *cell(const struct imp_reader *rd, size_t i)
{
	return rd->rec + rd->fstart[i];
}

/* The header: the columns, or problems (then no row is read). */
static int read_header(struct imp_reader *rd, json_t *errs)
{
	bool have[ARRAY_SIZE(csv_cols)] = { false };
	const char *bad;
	int64_t start;
	int k = read_record(rd, &start, &bad);
	bool ok = true;
	char msg[160];

	rd->header_read = true;
	if (k <= 0) {
		if (k == 0)
			imp_error(errs, 1, "", "the file is empty: the first line must name the columns");
		return k < 0 ? k : -1;
	}
	if (bad) {
		imp_error(errs, start, "", bad);
		return -1;
	}
	if (rd->fields > ARRAY_SIZE(rd->col)) {
		snprintf(msg, sizeof(msg), "has %zu columns; at most %zu are known", rd->fields,
			 ARRAY_SIZE(csv_cols));
		imp_error(errs, start, "", msg);
		return -1;
	}
	rd->ncols = rd->nf;
	rd->fmax = rd->ncols + 1;       /* one more says "too many" */
	for (size_t i = 0; i < rd->nf; i++) {
		const char *name = cell(rd, i);
		size_t c;
		rd->col[i] = -1;
		for (c = 0; c < ARRAY_SIZE(csv_cols); c++)
			if (!strcmp(csv_cols[c].name, name))
				break;
		if (c == ARRAY_SIZE(csv_cols)) {
			snprintf(msg, sizeof(msg), "column %zu: unknown column '%.60s'", i + 1, name);
			imp_error(errs, start, "", msg);
			ok = false;
		} else if (have[c]) {
			snprintf(msg, sizeof(msg), "column %zu: %s is named twice", i + 1, name);
			imp_error(errs, start, "", msg);
			ok = false;
		} else {
			have[c] = true;
			rd->col[i] = (int)c;
		}
	}
	for (size_t c = 0; c < ARRAY_SIZE(csv_cols); c++)
		if (csv_cols[c].required && !have[c]) {
			snprintf(msg, sizeof(msg), "the column %s is missing", csv_cols[c].name);
			imp_error(errs, start, "", msg);
			ok = false;
		}
	return ok ? 1 : -1;
}

/* A cell as its column's JSON value into row (NULL: a problem, in errs). */
static bool put_cell(json_t *row, json_t **csat, int c, const char *v, size_t len, int64_t line,
		     json_t *errs)
{
	const char *name = csv_cols[c].name;
	json_t *val;
	int64_t n;
	char msg[200];

	if (!text_valid(v, true)) {
		imp_error(errs, line, name, "must be UTF-8 text without control characters");
		return false;
	}
	switch (csv_cols[c].kind) {
	case CK_INT:
	case CK_CSAT_RATING:
		val = parse_i64(v, &n) ? json_integer(n) : json_stringn(v, len);
		break;
	case CK_BOOL:
		val = !strcmp(v, "true") || !strcmp(v, "1") ? json_true()
		      : !strcmp(v, "false") || !strcmp(v, "0") ? json_false() : json_stringn(v, len);
		break;
	case CK_JSON: {
		json_error_t je;
		if (too_many_values(v, len)) {
			too_many_error(errs, line, name);
			return false;
		}
		val = json_loadb(v, len, JSON_REJECT_DUPLICATES, &je);
		if (!val) {
			snprintf(msg, sizeof(msg), "is not JSON: %s (character %d of the cell)", je.text,
				 je.position);
			imp_error(errs, line, name, msg);
			return false;
		}
		break;
	}
	default:
		val = json_stringn(v, len);
		break;
	}
	if (!val)
		return false;
	if (csv_cols[c].kind == CK_CSAT_RATING || csv_cols[c].kind == CK_CSAT_COMMENT ||
	    csv_cols[c].kind == CK_CSAT_AT) {
		if (!*csat)
			*csat = json_object();
		json_object_set_new(*csat, csv_cols[c].kind == CK_CSAT_RATING ? "rating"
					   : csv_cols[c].kind == CK_CSAT_AT ? "at" : "comment", val);
		return true;
	}
	json_object_set_new(row, name, val);
	return true;
}

static int next_csv(struct imp_reader *rd, json_t **row, int64_t *line, json_t *errs)
{
	const char *bad;
	int64_t start;
	json_t *o, *csat = NULL;
	bool ok = true;
	int k;
	char msg[120];

	if (rd->done)
		return 0;
	if (!rd->header_read) {
		k = read_header(rd, errs);
		if (k < 0) {
			/* Problems of the header (in errs): no row can be read. */
			rd->done = true;
			return k == -2 ? -2 : 0;
		}
	}
	k = read_record(rd, &start, &bad);
	if (k <= 0)
		return k;
	*line = start;
	if (bad) {
		imp_error(errs, start, "", bad);
		return -1;
	}
	if (rd->fields != rd->ncols) {
		snprintf(msg, sizeof(msg), "has %zu fields; the header has %zu", rd->fields, rd->ncols);
		imp_error(errs, start, "", msg);
		return -1;
	}
	o = json_object();
	for (size_t i = 0; i < rd->nf; i++)
		if (rd->col[i] >= 0 && rd->flen[i] > 0)
			ok = put_cell(o, &csat, rd->col[i], cell(rd, i), rd->flen[i], start, errs) && ok;
	if (csat)
		json_object_set_new(o, "csat", csat);
	if (!ok) {
		json_decref(o);
		return -1;
	}
	*row = o;
	return 1;
}

int imp_reader_next(struct imp_reader *rd, json_t **row, int64_t *line, json_t *errs)
{
	int k;

	*row = NULL;
	*line = 0;
	k = rd->fmt == IMP_CSV ? next_csv(rd, row, line, errs) : next_jsonl(rd, row, line, errs);
	if (k == -2 || (k == 0 && rd->failed)) {
		imp_error(errs, rd->line + 1, "", rd->failed ? "the input could not be read"
							     : "out of memory");
		return -2;
	}
	return k;
}

bool imp_format_of_type(const char *ct, enum imp_format *f)
{
	static const struct { const char *type; enum imp_format f; } types[] = {
		{ "application/x-ndjson", IMP_JSONL }, { "application/jsonl", IMP_JSONL },
		{ "application/json-lines", IMP_JSONL }, { "application/x-jsonlines", IMP_JSONL },
		{ "text/csv", IMP_CSV },
	};

	if (!ct)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		size_t n = strlen(types[i].type);
		if (!strncasecmp(ct, types[i].type, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ')) {
			*f = types[i].f;
			return true;
		}
	}
	return false;
}

/* ---- validating: members ------------------------------------------------------------------- */

struct row_in {
	int64_t client_id, tier;
	const char *external_id, *subject, *description, *type, *category, *impact, *urgency;
	const char *priority, *channel, *queue, *status, *vendor, *requester_email;
	int64_t created_at, first_response_at, resolved_at, closed_at;
	bool fcr;
	json_t *events, *csat;
};

enum { RW_CLIENT, RW_EXTERNAL, RW_SUBJECT, RW_DESC, RW_TYPE, RW_CATEGORY, RW_IMPACT, RW_URGENCY,
       RW_PRIORITY, RW_CHANNEL, RW_QUEUE, RW_TIER, RW_CREATED, RW_RESPONSE, RW_RESOLVED,
       RW_CLOSED, RW_STATUS, RW_VENDOR, RW_EMAIL, RW_FCR, RW_EVENTS, RW_CSAT, RW_COUNT };

static const char *const lv_choices[] = { "low", "medium", "high", NULL };

#define RO(m) offsetof(struct row_in, m)
static const struct jfield row_fields[RW_COUNT] = {
	[RW_CLIENT] = { "client_id", JT_INT, JF_REQUIRED, RO(client_id), 1, INT64_MAX, NULL },
	[RW_EXTERNAL] = { "external_id", JT_STRING, JF_REQUIRED, RO(external_id), 1, 100, NULL },
	[RW_SUBJECT] = { "subject", JT_STRING, JF_REQUIRED, RO(subject), 1, 300, NULL },
	[RW_DESC] = { "description", JT_TEXT, 0, RO(description), 0, 100000, NULL },
	[RW_TYPE] = { "type", JT_ENUM, JF_REQUIRED, RO(type), 0, 0, ttype_names },
	[RW_CATEGORY] = { "category", JT_STRING, JF_NULLABLE, RO(category), 1, 100, NULL },
	[RW_IMPACT] = { "impact", JT_ENUM, 0, RO(impact), 0, 0, lv_choices },
	[RW_URGENCY] = { "urgency", JT_ENUM, 0, RO(urgency), 0, 0, lv_choices },
	[RW_PRIORITY] = { "priority", JT_ENUM, 0, RO(priority), 0, 0, prio_names },
	[RW_CHANNEL] = { "channel", JT_ENUM, JF_REQUIRED, RO(channel), 0, 0, channel_names },
	[RW_QUEUE] = { "queue", JT_STRING, 0, RO(queue), 1, 100, NULL },
	[RW_TIER] = { "tier", JT_INT, 0, RO(tier), 1, 3, NULL },
	[RW_CREATED] = { "created_at", JT_INSTANT, JF_REQUIRED, RO(created_at), 0, 0, NULL },
	[RW_RESPONSE] = { "first_response_at", JT_INSTANT, JF_NULLABLE, RO(first_response_at), 0, 0, NULL },
	[RW_RESOLVED] = { "resolved_at", JT_INSTANT, JF_NULLABLE, RO(resolved_at), 0, 0, NULL },
	[RW_CLOSED] = { "closed_at", JT_INSTANT, JF_NULLABLE, RO(closed_at), 0, 0, NULL },
	[RW_STATUS] = { "status", JT_ENUM, 0, RO(status), 0, 0, tstatus_names },
	[RW_VENDOR] = { "vendor", JT_STRING, JF_NULLABLE, RO(vendor), 1, 200, NULL },
	[RW_EMAIL] = { "requester_email", JT_EMAIL, JF_NULLABLE, RO(requester_email), 0, 254, NULL },
	[RW_FCR] = { "fcr", JT_BOOL, JF_NULLABLE, RO(fcr), 0, 0, NULL },
	[RW_EVENTS] = { "events", JT_ARRAY, 0, RO(events), 0, 0, NULL },
	[RW_CSAT] = { "csat", JT_OBJECT, 0, RO(csat), 0, 0, NULL },
};

struct ev_in {
	int64_t at, tier;
	const char *status, *priority;
	bool reopened;
};

enum { EF_AT, EF_STATUS, EF_TIER, EF_PRIORITY, EF_REOPENED, EF_COUNT };

/* An event's status: any but new (a ticket never goes back to new). */
static const char *const ev_status_choices[] = { "open", "pending_customer", "pending_vendor",
						 "on_hold", "resolved", "closed", NULL };

#define EO(m) offsetof(struct ev_in, m)
static const struct jfield ev_fields[EF_COUNT] = {
	[EF_AT] = { "at", JT_INSTANT, JF_REQUIRED, EO(at), 0, 0, NULL },
	[EF_STATUS] = { "status", JT_ENUM, 0, EO(status), 0, 0, ev_status_choices },
	[EF_TIER] = { "tier", JT_INT, 0, EO(tier), 1, 3, NULL },
	[EF_PRIORITY] = { "priority", JT_ENUM, 0, EO(priority), 0, 0, prio_names },
	[EF_REOPENED] = { "reopened", JT_BOOL, 0, EO(reopened), 0, 0, NULL },
};

struct csat_in {
	int64_t rating, at;
	const char *comment;
};

#define CO(m) offsetof(struct csat_in, m)
static const struct jfield csat_fields[] = {
	{ "rating", JT_INT, JF_REQUIRED, CO(rating), 1, 5, NULL },
	{ "comment", JT_TEXT, JF_NULLABLE, CO(comment), 0, 10000, NULL },
	{ "at", JT_INSTANT, JF_REQUIRED, CO(at), 0, 0, NULL },
};

#define HAS(seen, f) (((seen).present >> (f)) & 1u)
#define GIVEN(seen, f) (HAS(seen, f) && !(((seen).nulls >> (f)) & 1u))

/* jschema's {field, message} problems in from as {line, prefix+field,
 * message} in errs. */
static void move_errors(json_t *from, json_t *errs, int64_t line, const char *prefix)
{
	size_t i;
	json_t *v;

	json_array_foreach(from, i, v) {
		const char *f = json_string_value(json_object_get(v, "field"));
		char field[96];
		snprintf(field, sizeof(field), "%s%s%s", prefix, prefix[0] && f && f[0] ? "." : "",
			 f ? f : "");
		imp_error(errs, line, field, json_string_value(json_object_get(v, "message")));
	}
	json_array_clear(from);
}

/* ---- validating: the history ------------------------------------------------------------------ */

enum step_kind { SK_EVENT, SK_RESPONSE, SK_RESOLVED, SK_CLOSED, SK_CSAT };

struct step {
	int64_t at;
	enum step_kind kind;
	int ev;                   /* SK_EVENT: its index */
};

/* At equal instants: the events in file order, then the response, the
 * resolution, the closing, the CSAT answer. */
static int step_cmp(const void *pa, const void *pb)
{
	const struct step *a = pa, *b = pb;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	if (a->kind != b->kind)
		return (int)a->kind < (int)b->kind ? -1 : 1;
	return a->ev < b->ev ? -1 : a->ev > b->ev;
}

/* What the replay builds. */
struct build {
	struct arena *a;
	struct ticket_event *ev;  /* timeline */
	int nev, evcap;
	struct sla_ev *sev;       /* clock log */
	int nsev, sevcap;
	int *prio_at;             /* log positions of priority changes */
	int nprio;
	bool check_only;          /* imp_env's: no timeline */
	bool ok;
};

/* A timeline event whose data is the JSON members fmt makes, with
 * "imported": true. The strings formatted in are the ticket domain's
 * names and reasons (no character that JSON escapes), so no escaping is
 * needed: a million rows are not a million jansson documents. */
static void tl_add(struct build *b, const char *kind, bool internal, int64_t at, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void tl_add(struct build *b, const char *kind, bool internal, int64_t at, const char *fmt, ...)
{
	char members[512];
	va_list ap;
	int n;

	if (b->check_only)
		return;
	va_start(ap, fmt);
	n = vsnprintf(members, sizeof(members), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(members) || b->nev >= b->evcap) {
		b->ok = false;
		return;
	}
	b->ev[b->nev].kind = kind;
	b->ev[b->nev].internal = internal;
	b->ev[b->nev].at = at;
	b->ev[b->nev].data = arena_printf(b->a, "{%s%s\"imported\":true}", members, n ? "," : "");
	if (!b->ev[b->nev].data)
		b->ok = false;
	b->nev++;
}

/* The clock events of one step (old -> new), as live tracking logs them. */
static void log_step(struct build *b, const struct ticket_state *o, enum prio op,
		     const struct ticket_state *s, enum prio p, bool creating, int64_t at)
{
	struct sla_ev add[4];
	int n = sla_events_of_change(o, op, s, p, creating, at, add);

	for (int i = 0; i < n; i++) {
		if (b->nsev >= b->sevcap) {
			b->ok = false;
			return;
		}
		if (add[i].kind == SE_PRIORITY && !creating)
			b->prio_at[b->nprio++] = b->nsev;
		b->sev[b->nsev++] = add[i];
	}
}

static void status_event(struct build *b, enum tstatus from, const struct ticket_state *s,
			 const struct status_effects *fx, int64_t at, const char *reason, bool fcr_given)
{
	tl_add(b, "status", false, at, "\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"%s\"",
	       tstatus_names[from], tstatus_names[s->status], reason);
	if (fx->fcr_decided && !fcr_given)
		tl_add(b, "fcr", true, at, "\"fcr\":%s,\"reason\":\"%s\"", s->fcr == 1 ? "true" : "false",
		       s->fcr_reason ? s->fcr_reason : "");
}

/* The row's SLA under p: what live tracking would hold now (import.h). */
static void sla_compute(const struct sla_policy *p, const struct build *b, int64_t now,
			struct ticket_sla *x)
{
	struct sla_result r;
	struct sla_timer due[MAX_DUE];
	struct err e;
	int64_t next;
	int nd;

	/* A breach under the targets of a priority the ticket had stands
	 * (live tracking replays the old log at each priority change). */
	for (int i = 0; i < b->nprio; i++) {
		int k = b->prio_at[i];
		if (sla_eval(p, b->sev, k, b->sev[k].at, &r, &e) != RC_OK)
			continue;
		x->response_breached = x->response_breached || r.clk[SLA_RESPONSE].breached;
		x->resolution_breached = x->resolution_breached || r.clk[SLA_RESOLUTION].breached;
		for (int t = 0; t < 3; t++)
			if (r.ola_at[t] && r.ola_at[t] < b->sev[k].at)
				x->ola_breached |= 1u << t;
	}
	if (sla_eval(p, b->sev, b->nsev, now, &r, &e) != RC_OK)
		return;
	x->response_due = r.clk[SLA_RESPONSE].due;
	x->resolution_due = r.clk[SLA_RESOLUTION].due;
	x->response_breached = x->response_breached || r.clk[SLA_RESPONSE].breached;
	x->resolution_breached = x->resolution_breached || r.clk[SLA_RESOLUTION].breached;
	x->paused = r.paused;
	x->response_ms = r.clk[SLA_RESPONSE].used;
	x->resolution_ms = r.clk[SLA_RESOLUTION].used;
	for (int t = 0; t < 3; t++) {
		x->tier_ms[t] = r.tier_used[t];
		if (r.ola_at[t] && r.ola_at[t] < now)
			x->ola_breached |= 1u << t;
	}
	x->as_of = now;
	/* Every timer already due is taken as announced: nothing of the
	 * past is announced late; only what is still ahead will be. */
	nd = sla_due_timers(&r, 0, now, due, MAX_DUE, &next);
	for (int i = 0; i < nd; i++)
		x->fired |= due[i].bit;
	x->next_at = next;
}

/* An RFC 3339 instant as a JSON string, or null for 0 (as the API writes
 * them). */
static void instant_text(int64_t ms, char out[40])
{
	char t[32];

	if (!ms) {
		snprintf(out, 40, "null");
		return;
	}
	time_format(ms, t);
	snprintf(out, 40, "\"%s\"", t);
}

static const char *json_text(struct arena *a, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	const char *out = s ? arena_strdup(a, s) : NULL;

	free(s);
	json_decref(v);
	return out;
}

/* The history's instants against each other and against now. */
static void check_instants(const struct row_in *in, const struct jseen *seen,
			   const struct ev_in *ev, size_t nev, const struct csat_in *cs, bool has_csat,
			   int64_t now, int64_t line, json_t *errs)
{
	static const char *const future = "is in the future (after the import)";
	const int64_t c = in->created_at;
	char field[64];

	if (c <= 0)
		imp_error(errs, line, "created_at", "must be after 1970-01-01T00:00:00Z");
	else if (c > now)
		imp_error(errs, line, "created_at", future);
	if (GIVEN(*seen, RW_RESPONSE)) {
		if (in->first_response_at < c)
			imp_error(errs, line, "first_response_at", "is before created_at");
		else if (in->first_response_at > now)
			imp_error(errs, line, "first_response_at", future);
		else if (GIVEN(*seen, RW_CLOSED) && in->first_response_at > in->closed_at)
			imp_error(errs, line, "first_response_at", "is after closed_at");
	}
	if (GIVEN(*seen, RW_RESOLVED)) {
		if (in->resolved_at < c)
			imp_error(errs, line, "resolved_at", "is before created_at");
		else if (in->resolved_at > now)
			imp_error(errs, line, "resolved_at", future);
	}
	if (GIVEN(*seen, RW_CLOSED)) {
		if (!GIVEN(*seen, RW_RESOLVED))
			imp_error(errs, line, "closed_at", "needs resolved_at (only a resolved ticket is closed)");
		else if (in->closed_at < in->resolved_at)
			imp_error(errs, line, "closed_at", "is before resolved_at");
		else if (in->closed_at > now)
			imp_error(errs, line, "closed_at", future);
	}
	for (size_t i = 0; i < nev; i++) {
		snprintf(field, sizeof(field), "events[%zu].at", i);
		if (ev[i].at < c)
			imp_error(errs, line, field, "is before created_at");
		else if (i > 0 && ev[i].at < ev[i - 1].at)
			imp_error(errs, line, field, "is before the event before it (events are in time order)");
		else if (GIVEN(*seen, RW_RESOLVED) && ev[i].at > in->resolved_at)
			imp_error(errs, line, field, "is after resolved_at (the last resolution)");
		else if (ev[i].at > now)
			imp_error(errs, line, field, future);
	}
	if (has_csat) {
		if (cs->at < c)
			imp_error(errs, line, "csat.at", "is before created_at");
		else if (cs->at > now)
			imp_error(errs, line, "csat.at", future);
	}
}

bool imp_row(const struct imp_env *env, json_t *row, int64_t line, struct arena *a,
	     struct import_ticket *out, json_t *errs)
{
	struct row_in in = { 0 };
	struct jseen seen, es;
	json_t *tmp = json_array();
	size_t before = json_array_size(errs), nev = 0;
	struct ev_in *ev = NULL;
	struct csat_in cs = { 0 };
	bool has_csat = false, fcr_given, ever_resolved = false;
	struct prio_matrix m;
	struct ticket *t = &out->t;
	struct ticket_state s = { 0 };
	enum prio prio;
	struct step *steps = NULL;
	int nsteps = 0;
	struct build b = { 0 };
	const struct sla_policy *pol = NULL;
	int64_t last_at, last_resolution = 0;
	char field[64], msg[200];

	memset(out, 0, sizeof(*out));
	out->line = line;
	jschema_parse(row, row_fields, RW_COUNT, &in, &seen, tmp);
	move_errors(tmp, errs, line, "");
	/* The events and the CSAT answer, member by member. */
	if (in.events) {
		size_t n = json_array_size(in.events), i;
		json_t *v;
		if (n > IMP_MAX_EVENTS) {
			snprintf(msg, sizeof(msg), "has %zu events; at most %d", n, IMP_MAX_EVENTS);
			imp_error(errs, line, "events", msg);
			n = 0;
		}
		ev = arena_alloc(a, sizeof(*ev) * (n + 1));
		if (!ev) {
			json_decref(tmp);
			imp_error(errs, line, "", "out of memory");
			return false;
		}
		json_array_foreach(in.events, i, v) {
			int kinds;
			if (i >= n)
				break;
			snprintf(field, sizeof(field), "events[%zu]", i);
			if (!json_is_object(v)) {
				imp_error(errs, line, field, "must be an object");
				continue;
			}
			jschema_parse(v, ev_fields, EF_COUNT, &ev[i], &es, tmp);
			move_errors(tmp, errs, line, field);
			kinds = (int)HAS(es, EF_STATUS) + (int)HAS(es, EF_TIER) + (int)HAS(es, EF_PRIORITY) +
				(int)HAS(es, EF_REOPENED);
			if (kinds != 1)
				imp_error(errs, line, field,
					  "must have exactly one of status, tier, priority, reopened (and at)");
			else if (HAS(es, EF_REOPENED) && json_is_false(json_object_get(v, "reopened"))) {
				snprintf(field, sizeof(field), "events[%zu].reopened", i);
				imp_error(errs, line, field, "must be true");
			}
		}
		nev = n;
	}
	if (in.csat) {
		struct jseen cseen;
		jschema_parse(in.csat, csat_fields, ARRAY_SIZE(csat_fields), &cs, &cseen, tmp);
		move_errors(tmp, errs, line, "csat");
		has_csat = true;
	}
	json_decref(tmp);
	if (!HAS(seen, RW_PRIORITY) && !(HAS(seen, RW_IMPACT) && HAS(seen, RW_URGENCY)))
		imp_error(errs, line, HAS(seen, RW_IMPACT) ? "urgency" : HAS(seen, RW_URGENCY) ? "impact" : "priority",
			  HAS(seen, RW_IMPACT) || HAS(seen, RW_URGENCY) ? "is required with the other of impact and urgency (or give priority)"
			  : "is required (or impact and urgency)");
	if (json_array_size(errs) > before)
		return false;
	if (!env->client(env->arg, in.client_id, &m)) {
		imp_error(errs, line, "client_id", "is not a client");
		return false;
	}
	check_instants(&in, &seen, ev, nev, &cs, has_csat, env->now, line, errs);
	fcr_given = GIVEN(seen, RW_FCR);
	if (json_array_size(errs) > before)
		return false;

	/* The row at creation. */
	t->client_id = in.client_id;
	t->subject = in.subject;
	t->description = in.description ? in.description : "";
	t->type = (enum ttype)name_index(ttype_names, in.type);
	t->category = in.category;
	t->impact = in.impact ? (enum level)name_index(level_names, in.impact) : LV_MEDIUM;
	t->urgency = in.urgency ? (enum level)name_index(level_names, in.urgency) : LV_MEDIUM;
	prio = in.priority ? (enum prio)name_index(prio_names, in.priority)
			   : priority_of(&m, t->impact, t->urgency);
	t->priority_reason = in.priority ? "imported" : NULL;
	t->channel = (enum channel)name_index(channel_names, in.channel);
	t->queue = in.queue ? in.queue : "general";
	t->tags = "[]";
	t->created_at = in.created_at;
	out->external_id = in.external_id;
	if (in.requester_email) {
		size_t n = strlen(in.requester_email) + 1;
		char *lower = arena_alloc(a, n);
		if (lower)
			str_lower(in.requester_email, lower, n);
		out->requester_email = lower;
	}
	s.status = TS_NEW;
	s.tier = in.tier ? (int)in.tier : 1;
	s.fcr = -1;
	s.first_handler_id = IMP_ACTOR;
	if (in.vendor) {
		s.vendor = in.vendor;
		s.escalations++;        /* a vendor escalation, before any resolution */
	}

	/* The steps in time order. */
	steps = arena_alloc(a, sizeof(*steps) * (nev + 4));
	b.a = a;
	b.check_only = env->check_only;
	b.evcap = (int)nev * 2 + 12;
	b.ev = arena_alloc(a, sizeof(*b.ev) * (size_t)b.evcap);
	b.sevcap = (int)nev * 4 + 24;
	b.sev = arena_alloc(a, sizeof(*b.sev) * (size_t)b.sevcap);
	b.prio_at = arena_alloc(a, sizeof(int) * (nev + 1));
	b.ok = steps && b.ev && b.sev && b.prio_at;
	if (!b.ok) {
		imp_error(errs, line, "", "out of memory");
		return false;
	}
	for (size_t i = 0; i < nev; i++)
		steps[nsteps++] = (struct step){ ev[i].at, SK_EVENT, (int)i };
	if (GIVEN(seen, RW_RESPONSE))
		steps[nsteps++] = (struct step){ in.first_response_at, SK_RESPONSE, 0 };
	if (GIVEN(seen, RW_RESOLVED))
		steps[nsteps++] = (struct step){ in.resolved_at, SK_RESOLVED, 0 };
	if (GIVEN(seen, RW_CLOSED))
		steps[nsteps++] = (struct step){ in.closed_at, SK_CLOSED, 0 };
	if (has_csat)
		steps[nsteps++] = (struct step){ cs.at, SK_CSAT, 0 };
	qsort(steps, (size_t)nsteps, sizeof(*steps), step_cmp);

	/* The replay: the ticket domain decides every move. */
	log_step(&b, &s, prio, &s, prio, true, in.created_at);
	last_at = in.created_at;
	for (int k = 0; k < nsteps; k++) {
		const struct step *st = &steps[k];
		struct ticket_state o = s;
		enum prio op = prio;
		struct status_effects fx;
		struct err e;
		enum tstatus to = TS_COUNT;
		const char *fname = NULL;

		memset(&fx, 0, sizeof(fx));
		if (st->kind == SK_EVENT) {
			const struct ev_in *x = &ev[st->ev];
			if (x->status)
				to = (enum tstatus)name_index(tstatus_names, x->status);
			else if (x->reopened)
				to = TS_OPEN;
			snprintf(field, sizeof(field), "events[%d].%s", st->ev,
				 x->status ? "status" : x->reopened ? "reopened" : x->tier ? "tier" : "priority");
			fname = field;
			if (x->reopened && s.status != TS_RESOLVED) {
				snprintf(msg, sizeof(msg), "the ticket is %s, not resolved, at that instant",
					 tstatus_names[s.status]);
				imp_error(errs, line, field, msg);
				break;
			}
			if (x->tier) {
				bool down;
				if (ticket_escalate(&s, (int)x->tier, NULL, x->at, &down, &e) != RC_OK) {
					imp_error(errs, line, field, e.msg);
					break;
				}
				tl_add(&b, down ? "deescalated" : "escalated", true, x->at,
				       "\"from_tier\":%d,\"to_tier\":%d,\"reason\":\"imported\"", o.tier, s.tier);
			} else if (x->priority) {
				enum prio np = (enum prio)name_index(prio_names, x->priority);
				if (np == prio) {
					snprintf(msg, sizeof(msg), "the ticket is already %s at that instant",
						 prio_names[prio]);
					imp_error(errs, line, field, msg);
					break;
				}
				prio = np;
				t->priority_reason = "imported";
				tl_add(&b, "priority", true, x->at, "\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"imported\"",
				       prio_names[op], prio_names[prio]);
			}
		} else if (st->kind == SK_RESPONSE) {
			s.first_response_at = st->at;
			tl_add(&b, "first_response", false, st->at, "%s", "");
			if (s.status == TS_NEW)
				to = TS_OPEN;
			fname = "first_response_at";
		} else if (st->kind == SK_RESOLVED) {
			to = TS_RESOLVED;
			fname = "resolved_at";
		} else if (st->kind == SK_CLOSED) {
			to = TS_CLOSED;
			fname = "closed_at";
		} else {
			if (s.status != TS_RESOLVED && s.status != TS_CLOSED) {
				snprintf(msg, sizeof(msg), "the ticket is %s at that instant; only a resolved"
					 " or closed ticket is rated", tstatus_names[s.status]);
				imp_error(errs, line, "csat.at", msg);
				break;
			}
			tl_add(&b, "csat", false, st->at, "\"rating\":%d", (int)cs.rating);
			continue;
		}
		if (to != TS_COUNT) {
			enum tstatus from = s.status;
			if (ticket_set_status(&s, to, IMP_ACTOR, st->at, &fx, &e) != RC_OK) {
				imp_error(errs, line, fname, e.msg);
				break;
			}
			if (to == TS_RESOLVED) {
				ever_resolved = true;
				last_resolution = st->at;
			}
			status_event(&b, from, &s, &fx, st->at,
				     st->kind == SK_RESPONSE ? "first response (imported)" : "imported",
				     fcr_given);
		}
		log_step(&b, &o, op, &s, prio, false, st->at);
		last_at = st->at;
	}
	if (json_array_size(errs) > before)
		return false;
	if (!b.ok) {
		imp_error(errs, line, "", "out of memory");
		return false;
	}
	if (in.status && name_index(tstatus_names, in.status) != (int)s.status) {
		snprintf(msg, sizeof(msg), "the instants and events end in %s; status must say the same"
			 " (or be left out)", tstatus_names[s.status]);
		imp_error(errs, line, "status", msg);
	}
	if (fcr_given && !ever_resolved)
		imp_error(errs, line, "fcr", "is only for a ticket that was resolved");
	if (json_array_size(errs) > before)
		return false;
	if (fcr_given) {
		s.fcr = in.fcr ? 1 : 0;
		s.fcr_reason = "given by the import";
		tl_add(&b, "fcr", true, last_resolution, "\"fcr\":%s,\"reason\":\"%s\"",
		       in.fcr ? "true" : "false", s.fcr_reason);
	}

	/* The row as the history left it; the other system's people are
	 * not known here. */
	t->status = s.status;
	t->tier = s.tier;
	t->priority = prio;
	t->vendor = s.vendor;
	t->first_response_at = s.first_response_at;
	t->resolved_at = s.resolved_at;
	t->closed_at = s.closed_at;
	t->resolved_tier = s.resolved_tier;
	t->escalations = s.escalations;
	t->tier_changes = s.tier_changes;
	t->reopens = s.reopens;
	t->early_reopens = s.early_reopens;
	t->fcr = s.fcr;
	t->fcr_reason = s.fcr_reason;
	t->first_handler_id = 0;
	t->resolved_by = 0;
	/* A ticket still open at the import is active in itsup from the
	 * import on: the escalation rules' idle clocks (no update,
	 * unassigned) start there, as for a ticket created then, so the
	 * backlog's old quiet spells fire nothing (nothing of the past is
	 * announced late). A resolved or closed one keeps its history's
	 * last instant. */
	t->last_activity_at = s.status == TS_RESOLVED || s.status == TS_CLOSED ? last_at : env->now;
	if (has_csat) {
		out->csat_rating = (int)cs.rating;
		out->csat_comment = cs.comment;
		out->csat_at = cs.at;
	}

	/* The SLA row: the log, replayed under the client's policy. */
	{
		struct ticket_sla *x = &t->sla;
		size_t cap = (size_t)b.nsev * 32 + 1;
		char *log = arena_alloc(a, cap);
		if (!log) {
			imp_error(errs, line, "", "out of memory");
			return false;
		}
		for (int i = 0; i < b.nsev; i++)
			sla_log_append(log, cap, &b.sev[i]);
		x->present = true;
		x->log = log;
		x->policy_id = env->policy(env->arg, t->client_id, t->created_at, &pol);
		if (pol && !env->check_only) {
			char rdue[40], sdue[40];
			sla_compute(pol, &b, env->now, x);
			instant_text(x->response_due, rdue);
			instant_text(x->resolution_due, sdue);
			tl_add(&b, "sla", false, env->now, "\"response_due_at\":%s,\"resolution_due_at\":%s,"
			       "\"paused\":%s,\"reason\":\"imported: the clocks replayed from the imported history\"",
			       rdue, sdue, x->paused ? "true" : "false");
		}
	}
	if (!env->check_only) {
		json_t *extra = json_pack("{s:b,s:s}", "imported", true, "external_id", in.external_id);
		const char *text = json_text(a, extra);
		size_t n = text ? strlen(text) : 0;
		char *inner = n >= 2 ? arena_strndup(a, text + 1, n - 2) : NULL;
		if (!inner) {
			imp_error(errs, line, "", "out of memory");
			return false;
		}
		out->created_extra = inner;
	}
	if (!b.ok) {
		imp_error(errs, line, "", "out of memory");
		return false;
	}
	out->ev = b.ev;
	out->nev = b.nev;
	return true;
}

/* ---- duplicates within a file ------------------------------------------------------------------ */

void imp_seen_init(struct imp_seen *s)
{
	memset(s, 0, sizeof(*s));
}

void imp_seen_release(struct imp_seen *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

static void key_of(int64_t client_id, const char *ext, uint64_t h[2])
{
	crypto_generichash_state st;
	unsigned char c[8], out[16];

	for (int i = 0; i < 8; i++)
		c[i] = (unsigned char)((uint64_t)client_id >> (8 * i));
	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	crypto_generichash_update(&st, c, sizeof(c));
	crypto_generichash_update(&st, (const unsigned char *)ext, strlen(ext));
	crypto_generichash_final(&st, out, sizeof(out));
	memcpy(h, out, sizeof(out));
	if (!h[0] && !h[1])
		h[1] = 1;        /* (0, 0) marks an empty slot */
}

static struct imp_seen_slot *probe(struct imp_seen_slot *slot, size_t cap, const uint64_t h[2])
{
	size_t i = (size_t)(h[0] & (cap - 1));

	while (slot[i].h[0] || slot[i].h[1]) {
		if (slot[i].h[0] == h[0] && slot[i].h[1] == h[1])
			return &slot[i];
		i = (i + 1) & (cap - 1);
	}
	return &slot[i];
}

int imp_seen_add(struct imp_seen *s, int64_t client_id, const char *ext, int64_t line,
		 int64_t *first)
{
	uint64_t h[2];
	struct imp_seen_slot *e;

	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct imp_seen_slot *ns = calloc(cap, sizeof(*ns));
		if (!ns)
			return -1;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i].h[0] || s->slot[i].h[1])
				*probe(ns, cap, s->slot[i].h) = s->slot[i];
		free(s->slot);
		s->slot = ns;
		s->cap = cap;
	}
	key_of(client_id, ext, h);
	e = probe(s->slot, s->cap, h);
	if (e->h[0] || e->h[1]) {
		*first = e->line;
		return 0;
	}
	e->h[0] = h[0];
	e->h[1] = h[1];
	e->line = line;
	s->n++;
	return 1;
}
