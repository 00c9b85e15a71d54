/*
 * api_import.c: POST /api/v1/import/tickets, the history import (issue 9;
 * docs/IMPORT.md). Provider admins only (the route's P_ADMIN; the body of
 * anyone else is not even kept, server.c).
 *
 * The body is the file itself: JSON lines (Content-Type
 * application/x-ndjson or application/jsonl) or CSV (text/csv), at most
 * import_max_bytes. src/import/run.c does the work in two passes over the
 * body (validate every row, then write every ticket in one store write),
 * synchronously: this worker thread waits for the write, which holds the
 * store's writer for its length (the one long write there is; the CLI is
 * the tool for very large files).
 *
 * Answers: 201 {imported, first_id, first_number, last_number}; 422 with
 * every problem by line, {line, field, message} in errors (the first
 * 1,000; error_count says how many) and nothing written; 409 when a ticket
 * was imported by someone else between the two passes; 415 for another
 * Content-Type.
 */
#include "base/common.h"

#include "base/clock.h"
#include "http/http.h"
#include "import/run.h"

struct body_src {
	const char *p;
	size_t len, pos;
};

static ptrdiff_t body_read(void *arg, char *buf, size_t n)
{
	struct body_src *b = arg;
	size_t k = b->len - b->pos < n ? b->len - b->pos : n;

	memcpy(buf, b->p + b->pos, k);
	b->pos += k;
	return (ptrdiff_t)k;
}

static int body_rewind(void *arg)
{
	((struct body_src *)arg)->pos = 0;
	return 0;
}

static void problem_lines(struct req *r, int status, const char *slug, const char *title,
			  const char *detail, json_t *errors, size_t count)
{
	json_t *p = json_pack("{s:s+,s:s,s:i,s:s,s:o,s:I}", "type", "https://itsup.dev/problems/",
			      slug, "title", title, "status", status, "detail", detail, "errors",
			      errors ? json_incref(errors) : json_array(), "error_count",
			      (json_int_t)count);

	req_json(r, status, p);
	r->ctype = "application/problem+json";
}

void h_import_tickets(struct req *r)
{
	struct body_src src = { r->body.data ? r->body.data : "", r->body.len, 0 };
	struct imp_run run;
	enum imp_format f;
	struct err e = { 0 };
	enum result rc;
	char num[2][32];

	if (!imp_format_of_type(req_header_in(r, "Content-Type"), &f)) {
		req_problem(r, 415, "unsupported-media-type", "Unsupported media type",
			    "send the tickets as Content-Type: application/x-ndjson (JSON lines,"
			    " also application/jsonl) or text/csv");
		return;
	}
	memset(&run, 0, sizeof(run));
	run.format = f;
	run.read = body_read;
	run.rewind = body_rewind;
	run.arg = &src;
	run.scope = &r->scope;
	run.addr = r->addr;
	run.now = clock_now_ms();
	rc = imp_run(r->srv->store, &run, &e);
	if (rc == RC_OK) {
		snprintf(num[0], sizeof(num[0]), "T-%06" PRId64, run.first_number);
		snprintf(num[1], sizeof(num[1]), "T-%06" PRId64, run.last_number);
		req_json(r, 201, json_pack("{s:I,s:I,s:s,s:s}", "imported", (json_int_t)run.imported,
					   "first_id", (json_int_t)run.first_id, "first_number", num[0],
					   "last_number", num[1]));
	} else if (rc == RC_INVALID && json_array_size(run.errors)) {
		problem_lines(r, 422, "import-invalid", "Invalid import", e.msg, run.errors,
			      run.error_count);
	} else if (rc == RC_CONFLICT && json_array_size(run.errors)) {
		problem_lines(r, 409, "conflict", "Conflict", e.msg, run.errors, run.error_count);
	} else {
		req_fail(r, rc, &e);
	}
	json_decref(run.errors);
}
