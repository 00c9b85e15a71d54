/*
 * mailgate.h: `itsup mailgate` (issue 8), the MTA's side of mail intake,
 * like Request Tracker's rt-mailgate: a Postfix pipe transport (or a
 * .forward) runs it with one RFC 5322 message on stdin; it posts the
 * message to POST /api/v1/mail/inbound (Content-Type: message/rfc822,
 * Authorization: Bearer with the token read from a file) and tells the MTA
 * by its exit status what became of it:
 *
 *   0   the server stored it (2xx)
 *   75  EX_TEMPFAIL: try again later (no answer, a timeout, 5xx, 429, and
 *       401/403: a token problem someone will fix; the mail waits in the
 *       MTA's queue meanwhile, so none is lost)
 *   65  EX_DATAERR: the server refused this message for good (400, 413,
 *       415, 422): the MTA bounces it
 *   64  EX_USAGE, 66 EX_NOINPUT, 74 EX_IOERR: our own usage and input
 */
#ifndef ITSUP_MAILGATE_H
#define ITSUP_MAILGATE_H

#include <stdbool.h>
#include <stdio.h>

#define MAILGATE_OK 0
#define MAILGATE_USAGE 64
#define MAILGATE_DATAERR 65
#define MAILGATE_NOINPUT 66
#define MAILGATE_IOERR 74
#define MAILGATE_TEMPFAIL 75

/* Pure: the exit status for an HTTP answer (status 0: none came). */
int mailgate_exit_status(long http_status);

/* Reads the message from in (at most max bytes) and posts it to
 * base_url + /api/v1/mail/inbound with the token in token_file; the exit
 * status, and a line on err for anything but 0. */
int mailgate_run(const char *base_url, const char *token_file, FILE *in, size_t max, FILE *err);

#endif
