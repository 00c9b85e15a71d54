/*
 * import.h: the history import's reader and validator (issue 9;
 * docs/IMPORT.md). Pure: no store, no clock, no files; what it needs to
 * know of the world comes through struct imp_env, and the bytes through a
 * read function.
 *
 * Shared by POST /api/v1/import/tickets and `itsup import tickets`
 * (src/import/run.c glues it to the store), in two steps:
 *
 *  1. Reading (struct imp_reader): JSON lines (one object a line; blank
 *     lines skipped) or RFC 4180 CSV (a header line naming the columns;
 *     a quoted field may hold commas, doubled quotes and line breaks)
 *     into one JSON object per ticket, with the physical line it starts
 *     on. A CSV row becomes the object a JSON line would be (numbers,
 *     booleans, the events cell read as JSON, the csat_* cells as one
 *     csat object), so one validator serves both. The input is streamed:
 *     the reader holds one line (or record) at a time.
 *  2. Validating and building (imp_row): every member is checked, then the
 *     ticket's history is replayed in time order with the ticket domain's
 *     own functions (ticket_set_status, ticket_escalate, fcr_decide), so a
 *     move a live ticket may not make is refused here too and the counters
 *     (reopens, escalations, tier changes) and the FCR verdict come out as
 *     live tickets' do. The SLA clock log is built as live tracking builds
 *     it (sla_events_of_change at each step) and replayed under the
 *     client's policy (sla_eval), so the stored business-time durations,
 *     breaches and due instants are what live tracking would have stored.
 *
 * Every problem is {line, field, message}; validation never stops at the
 * first one.
 *
 * The replay, at equal instants: the events in file order, then the first
 * response, the resolution, the closing and the CSAT answer. The row's
 * tier and priority (or impact x urgency) are those at creation; events
 * change them. A first response moves a new ticket to open (as a staff
 * reply does). FCR is decided at each resolution by fcr_decide with the
 * handler rule taken as met (the other system's people are not known to
 * itsup; a row may give "fcr" itself); a vendor counts as one escalation.
 * A ticket still open at the end has its last activity at the import's
 * instant (the escalation rules' idle clocks start there); a resolved or
 * closed one at its history's last instant.
 */
#ifndef ITSUP_IMPORT_H
#define ITSUP_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "sla/clock.h"
#include "store/store.h"
#include "ticket/ticket.h"

enum imp_format { IMP_JSONL, IMP_CSV };

#define IMP_LINE_MAX (1u << 20)        /* one line or CSV record, bytes */
#define IMP_MAX_EVENTS 256             /* events of one ticket */
#define IMP_MAX_VALUES 4096            /* JSON values of one row (or its events
					* cell), counted before it is parsed */

/* ---- reading ------------------------------------------------------------------- */

/* Reads up to n bytes into buf: the count, 0 at the end, < 0 on an error. */
typedef ptrdiff_t (*imp_read_fn)(void *arg, char *buf, size_t n);

struct imp_reader;

/* A reader of format f over read(arg, ...); NULL when out of memory. */
struct imp_reader *imp_reader_new(enum imp_format f, imp_read_fn read, void *arg);
void imp_reader_free(struct imp_reader *rd);

/* The next row:
 *   1: *row is a new JSON object (the caller decrefs it), *line where it
 *      starts;
 *   0: the end;
 *  -1: a row that could not be read (its problems are in errs as {line,
 *      field, message}); the reader goes on with the next one;
 *  -2: the input failed (read() < 0): nothing more can be read.
 * CSV: the header's problems are reported by the first call (line 1), which
 * then answers 0: rows cannot be read without their columns. */
int imp_reader_next(struct imp_reader *rd, json_t **row, int64_t *line, json_t *errs);

/* Bytes consumed so far (progress). */
uint64_t imp_reader_offset(const struct imp_reader *rd);

/* Bytes the reader holds now (its buffers). Bounded whatever the input:
 * a record past IMP_LINE_MAX bytes, or with more fields than the header,
 * is read to its end without keeping more of it. */
size_t imp_reader_memory(const struct imp_reader *rd);

/* The format named by a Content-Type (application/x-ndjson,
 * application/jsonl, application/json-lines -> IMP_JSONL; text/csv ->
 * IMP_CSV; parameters such as charset=utf-8 allowed); false otherwise. */
bool imp_format_of_type(const char *content_type, enum imp_format *f);

/* ---- validating ---------------------------------------------------------------- */

/* What imp_row needs to know of the world. */
struct imp_env {
	/* Whether client_id exists in the importer's scope; *m its impact x
	 * urgency matrix. */
	bool (*client)(void *arg, int64_t client_id, struct prio_matrix *m);
	/* The SLA policy of a ticket of client_id created at created_at: its
	 * id (0: none) and the compiled policy (NULL: none, or it does not
	 * compile; then the log is kept and the clocks left at zero, as live
	 * tracking does). */
	int64_t (*policy)(void *arg, int64_t client_id, int64_t created_at,
			  const struct sla_policy **p);
	void *arg;
	int64_t now;          /* the import's instant: nothing may be later */
	bool check_only;      /* validate only: the timeline, the SLA figures
			       * and created_extra (which cannot fail) are
			       * left out */
};

/* Validates one row (line: where it starts) and builds its ticket into
 * out; strings point into row or a (keep both alive while out is used).
 * Problems go to errs as {line, field, message}. Returns true when there
 * were none (out is then complete). */
bool imp_row(const struct imp_env *env, json_t *row, int64_t line, struct arena *a,
	     struct import_ticket *out, json_t *errs);

/* Appends {line, field, message} to errs. */
void imp_error(json_t *errs, int64_t line, const char *field, const char *message);

/* ---- duplicates within a file ------------------------------------------------------ */

/* The (client, external_id) pairs seen so far, each as 128 bits of
 * BLAKE2b (a collision is not to be expected in 2^64 pairs) with its
 * line: 24 bytes a pair, about 48 MB for a million. */
struct imp_seen {
	struct imp_seen_slot { uint64_t h[2]; int64_t line; } *slot;
	size_t cap, n;
};

void imp_seen_init(struct imp_seen *s);
void imp_seen_release(struct imp_seen *s);
/* 1: added; 0: seen before (*first: that line); -1: out of memory. */
int imp_seen_add(struct imp_seen *s, int64_t client_id, const char *external_id, int64_t line,
		 int64_t *first);

#endif
