/*
 * compose.h: what the outbox says and how it is written down (issue 8).
 *
 * Templates. Every notification has a template, by key (the audience and
 * the event: "requester.created", "staff.assigned", ...; tmpl_defaults
 * lists them with their built-in text). An admin may replace the subject
 * and body of any key (the store keeps the override). A template is text
 * with placeholders "{{name}}" from a fixed vocabulary (tmpl_vars_known);
 * "{{" without a known name and "}}" is an error naming the field, so a
 * typo is seen when the admin saves it, not when mail goes out. Blanks
 * inside the braces are allowed ("{{ ticket.number }}"); a placeholder is
 * on one line; a lone "{" or "}}" is text.
 * tmpl_render substitutes in one pass (a value is never scanned for
 * placeholders); in a header (the subject) each value has CR, LF and other
 * control characters replaced by spaces, so nothing a requester typed can
 * add a header.
 *
 * Composition. mail_compose writes one notification as an RFC 5322
 * message with GMime: From, To, Subject (RFC 2047-encoded when not ASCII),
 * Date, Message-ID, In-Reply-To and References (so replies thread in the
 * requester's client and back into itsup), Auto-Submitted (RFC 3834;
 * "auto-generated" or "auto-replied"), X-Itsup-Ticket, and a text/plain
 * UTF-8 body in quoted-printable (which folds lines longer than 76 bytes).
 * With attachments (the SLA review pack) the body is multipart/mixed: the
 * text part first, then each attachment in base64 with
 * Content-Disposition: attachment and its file name (RFC 2231-encoded
 * by GMime when it needs to be), text types labelled charset=utf-8.
 * Every header value is given to GMime, never pasted, and control
 * characters in names, subject and ticket number become spaces first, so
 * CR/LF in any of them cannot add a header. Text that is not valid UTF-8
 * has the bad bytes replaced by U+FFFD.
 */
#ifndef ITSUP_NOTIFY_COMPOSE_H
#define ITSUP_NOTIFY_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"

struct tmpl_default {
	const char *key;          /* "requester.created" */
	const char *description;  /* for the admin: when it is sent, to whom */
	const char *subject, *body;
};

extern const struct tmpl_default tmpl_defaults[];
extern const size_t tmpl_defaults_count;
/* The default of key, NULL when key is not a template. */
const struct tmpl_default *tmpl_default(const char *key);

/* The placeholder names a template may use (NULL-terminated). */
extern const char *const tmpl_vars_known[];

#define TMPL_MAX_VARS 24
struct tmpl_vars {
	const char *name[TMPL_MAX_VARS];
	const char *value[TMPL_MAX_VARS];
	int n;
};
/* Sets name to value (a copy is not made; NULL value renders as ""). A
 * name set again gets the new value; past TMPL_MAX_VARS names, ignored. */
void tmpl_set(struct tmpl_vars *v, const char *name, const char *value);

/* RC_INVALID naming field when text has an unknown or unterminated
 * placeholder, or (header) a line break, or is longer than max bytes.
 * NULL is "". */
enum result tmpl_check(const char *text, bool header, size_t max, const char *field,
		       struct err *e);
/* text with its placeholders replaced (a checked template; unknown names
 * render as "", an unterminated "{{" as itself; NULL text is ""), in a.
 * header: values' control characters (< 0x20, 0x7f) become spaces.
 * NULL when the arena is full. */
const char *tmpl_render(struct arena *a, const char *text, const struct tmpl_vars *v,
			bool header);

/* A file sent with a message. filename: 1..200 bytes of printable ASCII
 * without '"', '/' or a backslash (what every mail program saves as
 * given); content_type: "type/subtype", each a MIME token; the bytes are
 * copied into the message in base64. */
struct mail_attachment {
	const char *filename;
	const char *content_type;
	const void *data;
	size_t len;
};
#define MAIL_ATTACHMENTS_MAX 8

struct mail_out {
	const char *from_name, *from_addr;  /* the desk's address; names may be NULL */
	const char *to_name, *to_addr;
	const char *subject;                /* one line (control characters become spaces) */
	const char *body;                   /* UTF-8 text (CRLF or CR become LF); NULL: "" */
	const char *message_id;             /* without <> (mail_new_message_id); required */
	const char *in_reply_to;            /* without <>, or NULL */
	const char *const *references;      /* without <>, oldest first */
	size_t nrefs;                       /* (an id with blanks, control characters,
					       <> or non-ASCII is left out of both) */
	const char *auto_submitted;         /* "auto-generated", "auto-replied" or NULL */
	const char *ticket_number;          /* "T-000123" -> X-Itsup-Ticket, or NULL */
	int64_t date_ms;                    /* Date: (shown in UTC, to the second) */
	const struct mail_attachment *attachments;  /* after the text, in order */
	size_t nattachments;                /* at most MAIL_ATTACHMENTS_MAX */
};

/* Pure: whether addr is an address mail_compose writes (to_addr and
 * from_addr below): ASCII, one '@' with text on both sides, no blanks,
 * control characters or specials such as <>,;:"(). */
bool mail_address_ok(const char *addr);

/* A new Message-ID "<32 hex random>@domain" (without <>), in a; domain
 * NULL or "": "itsup.invalid". NULL when the arena is full. */
const char *mail_new_message_id(struct arena *a, const char *domain);

/* The message, CRLF line ends, into *out (*len bytes, NUL-terminated) in
 * a. RC_INVALID naming the field when an address is not one (to_addr,
 * from_addr: ASCII, one '@' with text on both sides, no blanks, control
 * characters or specials such as <>,;:"), when message_id is missing or
 * malformed (message_id) or auto_submitted is another value
 * (auto_submitted), when an attachment's name or type is not one
 * (attachments[i].filename, attachments[i].content_type) or there are
 * more than MAIL_ATTACHMENTS_MAX (attachments); RC_NOMEM when a is full.
 * *out is NULL on error. */
enum result mail_compose(const struct mail_out *m, struct arena *a, const char **out,
			 size_t *len, struct err *e);

#endif
