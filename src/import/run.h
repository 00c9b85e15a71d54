/*
 * run.h: a history import from start to end (issue 9; docs/IMPORT.md):
 * the glue between the pure reader and validator (import.h) and the
 * store, shared by POST /api/v1/import/tickets and `itsup import tickets`.
 *
 *  1. Validate. The input is read once: every row is validated and built
 *     (imp_row), duplicates within the file are found (imp_seen), and a
 *     chunk's external ids and requester addresses are looked up in the
 *     store with one read each (store_import_lookup). Nothing is written.
 *     Any problem: RC_INVALID, with every problem as {line, field,
 *     message} (the first IMP_RUN_MAX_ERRORS, sorted by line) and their
 *     count.
 *  2. Write. The input is read again from its start; the tickets are built
 *     again and handed to the store as they are built, in batches, inside
 *     one store write (W_TICKET_IMPORT: one transaction, all or nothing).
 *     The clocks are computed in the SLA world of step 1; when a calendar
 *     or policy changed meanwhile the store refuses the write (RC_STALE)
 *     and step 2 runs again in the new world.
 *
 * Memory is bounded whatever the size of the input: step 1 holds one
 * row's tree at a time (each dropped once validated; a chunk keeps only
 * its rows' external ids and addresses), step 2 one batch of rows, both
 * plus 24 bytes a ticket for the duplicate check. The write records one
 * audit record a client (store.h struct import_write). The store write runs
 * on the store's writer thread, which calls back into the source (the
 * parser) while the caller waits: imp_run is synchronous.
 */
#ifndef ITSUP_IMPORT_RUN_H
#define ITSUP_IMPORT_RUN_H

#include <jansson.h>

#include "import/import.h"
#include "store/store.h"

#define IMP_RUN_MAX_ERRORS 1000

enum imp_phase { IMP_VALIDATING, IMP_WRITING };

struct imp_run {
	/* in */
	enum imp_format format;
	imp_read_fn read;               /* the input */
	int (*rewind)(void *arg);       /* back to its first byte: 0, or -1 */
	void *arg;
	const struct scope *scope;      /* whose import: it must see every client named */
	const char *addr;               /* the audit record's address ("cli", a client's) */
	int64_t now;                    /* the import's instant */
	/* Called every 10,000 rows and at the end of each phase: validating
	 * (done rows, bytes read so far), writing (done tickets written, of
	 * the rows validated). May be NULL. */
	void (*progress)(void *arg, enum imp_phase phase, uint64_t done, uint64_t of);
	void *progress_arg;
	/* out */
	size_t rows;                    /* rows read (valid or not) */
	size_t imported;
	int64_t first_id, first_number, last_number;
	json_t *errors;                 /* [{line, field, message}] (a new reference,
					 * the caller's to free; NULL when none) */
	size_t error_count;             /* all of them, errors[] may hold fewer */
};

/* Runs both steps. RC_OK: every row imported. RC_INVALID: problems in the
 * input (errors); RC_CONFLICT: a ticket already imported meanwhile by
 * someone else (errors names it); other codes: the store's failure, in e. */
enum result imp_run(struct store *st, struct imp_run *run, struct err *e);

#endif
