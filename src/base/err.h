/*
 * err.h: one small result enum for the whole program and struct err for
 * its message.
 *
 * Every fallible function returns enum result; when it is not RC_OK and the
 * caller passed a struct err, the function has filled it with a message a
 * person can read and, for validation, the field concerned. The HTTP layer
 * maps a result to a status in one place (http/problem.c, result_status).
 */
#ifndef ITSUP_ERR_H
#define ITSUP_ERR_H

#include <stddef.h>

enum result {
	RC_OK = 0,
	RC_INVALID,   /* bad input: 400 (field named in err.field) */
	RC_NOTFOUND,  /* no such object in the caller's scope: 404 */
	RC_CONFLICT,  /* duplicate or forbidden state change: 409 */
	RC_DENIED,    /* the caller may not do this: 403 */
	RC_STALE,     /* If-Match names an older version: 412 */
	RC_BUSY,      /* overloaded or shutting down, retry: 503 */
	RC_NOMEM,     /* allocation or ceiling exceeded: 413 for bodies, else 500 */
	RC_IO,        /* storage or system failure: 500 */
};

struct err {
	enum result code;
	char field[64];
	char msg[256];
};

/* Fills e (if not NULL) and returns code. The field may be NULL. */
enum result err_set(struct err *e, enum result code, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void err_clear(struct err *e);

/* A short name of a result ("invalid", "not found"...), never NULL. */
const char *result_name(enum result r);

#endif
