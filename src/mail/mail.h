/*
 * mail.h: reading an incoming e-mail (issue 8), the first step of the mail
 * intake. GMime parses the RFC 5322 message; this module turns it into what
 * the help desk needs, all as UTF-8 in the caller's arena:
 *
 *   - the addresses (From, Reply-To, To + Cc), the subject with RFC 2047
 *     encoded words decoded, Message-ID, In-Reply-To and References (for
 *     threading), the date;
 *   - the text of the message (line ends LF): the text/plain part (any charset converted
 *     to UTF-8 by GMime, quoted-printable and base64 undone), else the
 *     HTML part reduced to plain text (mail_html_text: tags dropped,
 *     script and style dropped whole, entities decoded, block elements
 *     as line breaks), so nothing of the sender's markup reaches a page;
 *   - the attachments and inline images, decoded, each with its name,
 *     type, Content-ID and whether it was inline; a forwarded message
 *     (message/rfc822) is an attachment;
 *   - what kind of mail it is: an automatic reply or bulk mail
 *     (Auto-Submitted other than "no", X-Autoreply, X-Autorespond,
 *     Precedence bulk/junk/list, an empty Return-Path) or a delivery
 *     status notification (multipart/report; report-type=delivery-status,
 *     RFC 3464), with the Message-ID of the message it reports on when
 *     the report carries its headers.
 *
 * Pure functions beside it: the ticket number in a subject ("[T-000123]"),
 * where the quoted earlier text of a reply starts (Gmail's "On ... wrote:",
 * Outlook's "-----Original Message-----" and "From: ... Sent: ...", lines
 * quoted with ">"), and the HTML reduction.
 *
 * Limits (struct mail_limits) bound what a hostile message can cost:
 * its size, the number of parts, the nesting of multiparts (checked before
 * GMime parses, whose parser recurses), the size of one attachment and of
 * the text. Past them mail_parse is RC_INVALID naming the limit, or for an
 * attachment too big, the attachment is kept as its name only (too_big).
 */
#ifndef ITSUP_MAIL_H
#define ITSUP_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"

struct mail_addr {
	const char *name;           /* "" when none */
	const char *email;          /* lower-case */
};

struct mail_part {
	const char *filename;       /* "" when none */
	const char *content_type;   /* "image/png", lower-case */
	const char *content_id;     /* without <>, or NULL */
	bool is_inline;
	bool too_big;               /* past limits.attachment_max: data NULL */
	const unsigned char *data;
	size_t len;
};

struct mail_msg {
	const char *message_id;     /* without <>, or NULL */
	const char *in_reply_to;    /* the first id of In-Reply-To, or NULL */
	const char **references;    /* oldest first */
	size_t nrefs;
	const char *subject;        /* "" when none */
	struct mail_addr from, reply_to;
	bool has_from, has_reply_to;
	struct mail_addr *to;       /* To and Cc */
	size_t nto;
	int64_t date;               /* ms, 0 when none or unreadable */
	const char *text;           /* the body as plain UTF-8 text */
	bool text_from_html;
	struct mail_part *parts;
	size_t nparts;
	bool auto_reply;            /* automatic or bulk: never notify, never open */
	bool bounce;                /* a delivery status notification */
	const char *bounced_message_id; /* the message a bounce reports on, or NULL */
};

struct mail_limits {
	size_t message_max;         /* bytes of the whole message */
	size_t parts_max;
	int depth_max;              /* nesting of multiparts */
	size_t attachment_max;      /* bytes of one decoded attachment */
	size_t text_max;            /* bytes of the text kept */
};

extern const struct mail_limits mail_limits_default;

/* Starts GMime once per process (every user of GMime calls this first:
 * g_mime_init itself is not safe to run twice at once). */
void mail_gmime_init(void);

/* Parses raw (len bytes) into *out, strings and data in a. RC_INVALID
 * (field "message") when it is not a message at all or is past a limit. */
enum result mail_parse(const char *raw, size_t len, const struct mail_limits *lim,
		       struct arena *a, struct mail_msg *out, struct err *e);

/* The ticket number in a subject: "[T-000123]" (any number of digits,
 * the first such tag) -> 123; 0 when none. */
int64_t mail_ticket_number(const char *subject);

/* Where the quoted earlier text of a reply starts in text (its byte
 * offset), or strlen(text) when there is none. */
size_t mail_quote_start(const char *text);

/* HTML reduced to plain text (malloc'd, NUL-terminated; NULL: no memory). */
char *mail_html_text(const char *html, size_t len);

#endif
