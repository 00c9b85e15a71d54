/*
 * review_mail.h: the e-mails of a scheduled SLA review pack (issue 9;
 * docs/REPORTS.md "Scheduled delivery"): how the dispatcher expands an
 * outbox row "report.review" (src/jobs/report_jobs.h writes them).
 *
 * The row says which client, which period [from, to) of the client's
 * days, to whom and whether the ticket rows go too; the documents are
 * built here, when the row is expanded (the pack of a closed period,
 * read seconds after the claim), not when the period is claimed: the
 * claim stays a small write in the writer's group commit, and the outbox
 * row stays a few hundred bytes however big the client. Each recipient
 * gets one e-mail (template "client.sla_review"): the text, the HTML pack
 * (sla-review-<client>-<label>.html) and, when asked, the CSV of the
 * ticket rows (.csv), composed whole as every notification is, so a
 * retry sends the same bytes.
 *
 * Size. The attachments of one message are at most
 * REVIEW_MAIL_ATTACH_MAX bytes together (about 5.5 MB once in base64,
 * under common SMTP limits of 10 MB): the pack first, then the CSV if it
 * still fits. What does not fit is left out and the text says so, with
 * the link that downloads it from the API (for a login that may read the
 * client's reviews; no link when public_url is not set). A schedule
 * has at most REVIEW_MAIL_RCPT_MAX recipients, so one row's deliveries
 * stay within a few tens of megabytes.
 */
#ifndef ITSUP_NOTIFY_REVIEW_MAIL_H
#define ITSUP_NOTIFY_REVIEW_MAIL_H

#include <jansson.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "store/store.h"

struct server;

#define REVIEW_MAIL_TEMPLATE "client.sla_review"
#define REVIEW_MAIL_ATTACH_MAX ((size_t)4 << 20)
#define REVIEW_MAIL_RCPT_MAX 10

/* Pure: what goes attached, from what was built (a document not built is
 * false, as one past its ceiling): the pack when it fits budget alone,
 * then the CSV when it fits what is left. */
struct review_mail_plan { bool html, csv; };
void review_mail_plan(bool html_built, size_t html_len, bool csv_built, size_t csv_len,
		      size_t budget, struct review_mail_plan *out);

struct review_mail_from {
	const char *name, *addr, *domain;   /* the desk's From and its Message-ID domain */
	const char *base_url;               /* public_url without a trailing '/'; NULL: not set */
};

/* Pure: the line of the text for a document left out of the message
 * (what: "The review is", "The ticket rows are"; it: "it", "them"; size:
 * its size as text), into a new string of arena a: with the API address
 * that downloads it (client, [from_day, to_day), format) under base_url;
 * without base_url (public_url not set) no link, which no reader could
 * follow, but the line says the desk's address is not configured. NULL
 * when a is full. */
const char *review_mail_left_out(struct arena *a, const char *base_url, const char *what,
				 const char *it, const char *size, int64_t client_id,
				 int64_t from_day, int64_t to_day, const char *format);

/* The e-mails of report row o (payload: its parsed JSON) into items (at
 * most max), *n of them. RC_INVALID or RC_NOTFOUND: the row can never be
 * sent (a malformed payload, the client gone): the caller marks it done
 * without deliveries. Any other failure (RC_IO, RC_BUSY, RC_NOMEM): try
 * again later. */
enum result review_mail_expand(struct server *s, struct arena *a, const struct outbox_row *o,
			       json_t *payload, const struct review_mail_from *from,
			       struct delivery_row *items, size_t max, size_t *n, struct err *e);

#endif
